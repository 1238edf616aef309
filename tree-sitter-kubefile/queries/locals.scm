; One scope for the whole file: BuildKit scopes ARG/ENV per stage, which the server resolves; for
; highlighting, a definition anywhere above a reference is what matters.
(source_file) @local.scope

(env_instruction
  (key_value_pair
    key: (key) @local.definition))

(arg_instruction
  (key_value_pair
    key: (key) @local.definition))

(arg_instruction
  (arg_name) @local.definition)

(expansion
  name: (variable) @local.reference)

(template_variable
  name: (variable) @local.reference)

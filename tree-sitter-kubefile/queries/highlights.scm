; Keywords and instructions

[
  "FROM"
  "AS"
  "RUN"
  "CMD"
  "LABEL"
  "MAINTAINER"
  "EXPOSE"
  "ENV"
  "ADD"
  "COPY"
  "ENTRYPOINT"
  "VOLUME"
  "USER"
  "WORKDIR"
  "ARG"
  "ONBUILD"
  "STOPSIGNAL"
  "HEALTHCHECK"
  "SHELL"
  "NONE"
] @keyword

; buildah rejects the file at this word; mark it where the user is looking.
(unknown_instruction
  name: (instruction_name) @error)

(comment) @comment

(parser_directive) @keyword.directive

; Flags

(flag
  "--" @attribute
  name: (flag_name) @attribute)

(flag
  "=" @operator)

(flag
  value: (flag_value) @string.special)

; Images and stages

(image_spec) @string.special

(image_alias) @label

; Keys, values and other arguments

; ENV and ARG define variables (locals.scm links references to them); LABEL keys are metadata.
(env_instruction
  (key_value_pair
    key: (key) @variable))

(arg_instruction
  (key_value_pair
    key: (key) @variable))

(arg_instruction
  (arg_name) @variable)

(label_instruction
  (key_value_pair
    key: (key) @property))

(key_value_pair
  "=" @operator)

(expose_port) @number

(signal) @constant

(user) @variable.parameter

(path) @string.special.path

; Strings

[
  (double_quoted_string)
  (single_quoted_string)
  (json_string)
] @string

[
  (escape_sequence)
  (json_escape_sequence)
] @string.escape

(line_continuation) @punctuation.special

(json_string_array
  [
    "["
    "]"
  ] @punctuation.bracket)

(json_string_array
  "," @punctuation.delimiter)

; Heredocs

[
  (heredoc_marker)
  (heredoc_end)
] @label

(heredoc_body) @string

; Variable expansion (build time, and `${VAR}`/`$VAR` at `sealos run` in CMD/ENTRYPOINT)

(expansion
  [
    "$"
    "${"
    "}"
  ] @punctuation.special)

(expansion
  name: (variable) @variable)

(expansion_operator) @operator

; Sealos templates: `$(VAR)` in CMD and ENTRYPOINT, resolved by sealos from the image env

(template_variable) @embedded

(template_variable
  [
    "$("
    ")"
  ] @punctuation.special)

(template_variable
  name: (variable) @variable.builtin)

(template_escape) @string.escape

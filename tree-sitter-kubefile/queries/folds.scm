; Instructions that span several lines (continuations, heredocs); single-line ones fold to nothing.
[
  (from_instruction)
  (run_instruction)
  (cmd_instruction)
  (label_instruction)
  (maintainer_instruction)
  (expose_instruction)
  (env_instruction)
  (add_instruction)
  (copy_instruction)
  (entrypoint_instruction)
  (volume_instruction)
  (user_instruction)
  (workdir_instruction)
  (arg_instruction)
  (onbuild_instruction)
  (stopsignal_instruction)
  (healthcheck_instruction)
  (shell_instruction)
  (unknown_instruction)
  (heredoc_block)
  (json_string_array)
] @fold

; A run of comment lines folds as one block.
(comment)+ @fold

; Shell-form RUN (and ONBUILD RUN) is run by /bin/sh at build time.
(run_instruction
  (shell_command) @injection.content
  (#set! injection.language "bash")
  (#set! injection.include-children))

; Shell-form CMD and ENTRYPOINT are run by bash at `sealos run` (after sealos expands `$(VAR)`);
; HEALTHCHECK CMD is a cmd_instruction too.
([
  (cmd_instruction
    (shell_command) @injection.content)
  (entrypoint_instruction
    (shell_command) @injection.content)
]
  (#set! injection.language "bash")
  (#set! injection.include-children))

; A RUN heredoc is the script itself (`RUN <<EOF`) or fed to a command (`RUN bash <<EOF`).
(run_instruction
  (heredoc_block
    (heredoc_body) @injection.content)
  (#set! injection.language "bash"))

" Regex highlighting for Kubefiles until the tree-sitter parser is installed
" (:KubefileInstallParser): Vim's Dockerfile syntax plus Sealos $(VAR) templates.
if exists('b:current_syntax')
  finish
endif

runtime! syntax/dockerfile.vim
unlet! b:current_syntax

" Included JSON and shell groups are not part of ALL: name them. Defined last, so a template
" wins over the shell's $(...) command substitution starting at the same column.
syntax match kubefileTemplate /\$([A-Za-z_][A-Za-z0-9_]*)/ contained
      \ containedin=jsonString,jsonStringMatch,dockerfileShell,dockerfileValue,dockerfileString,shDoubleQuote,shSingleQuote,shCommandSub
syntax match kubefileExpansion /\${[^}]*}\|\$[A-Za-z_][A-Za-z0-9_]*/ contained
      \ containedin=jsonString,jsonStringMatch,dockerfileValue,dockerfileString,dockerfileFrom
highlight default link kubefileTemplate Special
highlight default link kubefileExpansion Identifier

let b:current_syntax = 'kubefile'

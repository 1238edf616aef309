-- Buffer settings for Kubefiles; tree-sitter highlighting when the parser is installed.
if vim.b.did_ftplugin then
  return
end
vim.b.did_ftplugin = 1

vim.bo.commentstring = '# %s'
vim.bo.comments = ':#'
vim.bo.formatoptions = vim.bo.formatoptions:gsub('t', '') .. 'croql'
vim.b.undo_ftplugin = 'setlocal commentstring< comments< formatoptions<'

require('kubefile').on_filetype(vim.api.nvim_get_current_buf())

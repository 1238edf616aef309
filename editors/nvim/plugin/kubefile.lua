-- kubefile-ls for Neovim: starts the language server on Kubefiles with no configuration when
-- `kubefile-ls` is on PATH. `require('kubefile').setup{...}` is optional. See :help kubefile.
if vim.g.loaded_kubefile then
  return
end
vim.g.loaded_kubefile = 1

if vim.fn.has('nvim-0.7') == 0 then
  vim.api.nvim_err_writeln('kubefile: Neovim 0.7 or newer is required')
  return
end

require('kubefile').autostart()
require('kubefile').register_commands()

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, fn, opts or {})
end

cmd('KubefileBuild', function(o)
  require('kubefile').build({ tag = o.args ~= '' and o.args or nil })
end, { nargs = '?', desc = 'Build the current Kubefile into an image (kubefile.build)' })
cmd('KubefileBuildCancel', function()
  require('kubefile').cancel_build()
end, { desc = 'Cancel the running :KubefileBuild' })
cmd('KubefileImages', function()
  require('kubefile').images()
end, { desc = 'List the images the build context will save (kubefile.images)' })
cmd('KubefileInstallParser', function(o)
  require('kubefile').install_parser({ grammar_dir = o.args ~= '' and o.args or nil })
end, { nargs = '?', complete = 'dir', desc = 'Build the tree-sitter-kubefile parser with cc' })
cmd('KubefileRestart', function()
  require('kubefile').restart()
end, { desc = 'Restart kubefile-ls' })

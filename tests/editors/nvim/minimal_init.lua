-- Minimal init for the editor tests: Neovim's own runtime, the isolated data dir (where
-- :KubefileInstallParser puts the parser) and editors/nvim; nothing else.
local plugin = assert(os.getenv('KUBEFILE_NVIM_PLUGIN'), 'KUBEFILE_NVIM_PLUGIN is not set')
local site = vim.fn.stdpath('data') .. '/site'
vim.o.runtimepath = table.concat({ plugin, site, vim.env.VIMRUNTIME, plugin .. '/after' }, ',')
vim.o.packpath = vim.env.VIMRUNTIME -- Neovim's own optional packages (netrw) only
vim.o.swapfile = false
vim.o.shadafile = 'NONE'
vim.o.more = false

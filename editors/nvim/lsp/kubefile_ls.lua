-- Default configuration of kubefile-ls for vim.lsp.config (Neovim >= 0.11). Override with
-- vim.lsp.config('kubefile_ls', {...}) or require('kubefile').setup{...}.
return require('kubefile').lsp_config()

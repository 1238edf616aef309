-- :checkhealth kubefile
local M = {}

local health = vim.health or require('health')
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local error = health.error or health.report_error
local info = health.info or health.report_info

function M.check()
  local kubefile = require('kubefile')
  start('kubefile: language server')
  local cmd = kubefile.options.cmd
  if type(cmd) == 'table' and vim.fn.executable(cmd[1]) == 1 then
    local version = vim.fn.system({ cmd[1], '--version' }):gsub('%s+$', '')
    ok(('%s (%s)'):format(vim.fn.exepath(cmd[1]), version))
  elseif type(cmd) == 'function' then
    ok('cmd is a function')
  else
    error(('%s is not executable'):format(type(cmd) == 'table' and tostring(cmd[1]) or '?'), {
      'cargo install --path server   (in the kubefile-ls repository)',
      "or require('kubefile').setup{ cmd = { '/path/to/kubefile-ls' } }",
    })
  end
  local client = kubefile.get_client(vim.api.nvim_get_current_buf()) or kubefile.get_client(nil)
  if client then
    local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
    ok(('running (client %d); commands: %s'):format(client.id, provider and table.concat(provider.commands or {}, ', ') or 'none'))
  else
    info('not running (it starts when a Kubefile is opened)')
  end

  start('kubefile: tree-sitter')
  if vim.fn.has('nvim-0.9') == 0 then
    warn('tree-sitter highlighting needs Neovim 0.11+ (the parser is ABI 15); regex highlighting is used')
    return
  end
  local parser = kubefile.parser_path()
  if vim.loop.fs_stat(parser) then
    ok('parser: ' .. parser)
  elseif #vim.api.nvim_get_runtime_file('parser/kubefile.so', false) > 0 then
    ok('parser: ' .. vim.api.nvim_get_runtime_file('parser/kubefile.so', false)[1])
  else
    warn('no parser installed', { ':KubefileInstallParser  (needs a C compiler; grammar: ' .. kubefile.grammar_dir() .. ')' })
  end
  local queries = vim.api.nvim_get_runtime_file('queries/kubefile/highlights.scm', false)
  if #queries > 0 then
    ok('queries: ' .. vim.fn.fnamemodify(queries[1], ':h'))
  else
    warn('no queries/kubefile/ on the runtimepath', { ':KubefileInstallParser copies them from the grammar' })
  end
end

return M

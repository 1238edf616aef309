-- Debian's Neovim 0.7.2 (run by scripts/test-editors.sh): the plugin loads without errors and the
-- server attaches through vim.lsp.start_client (0.7 has no vim.lsp.start) and publishes diagnostics.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')

local workspace = assert(os.getenv('KUBEFILE_TEST_WORKSPACE'), 'KUBEFILE_TEST_WORKSPACE is not set')
local EXPECTED = { 'unknown-label', 'missing-registry-copy', 'undefined-variable', 'split-exec-form' }
local LSP_TIMEOUT = tonumber(os.getenv('KUBEFILE_TEST_LSP_TIMEOUT') or '20000')

H.test('plugin loads without errors', function()
  H.assert(vim.g.loaded_kubefile == 1, 'plugin/kubefile.lua was not sourced')
  H.assert(vim.v.errmsg == '', 'startup error: %s', vim.v.errmsg)
  for _, cmd in ipairs({ 'KubefileBuild', 'KubefileImages', 'KubefileInstallParser', 'KubefileRestart' }) do
    H.assert(vim.fn.exists(':' .. cmd) == 2, ':%s is not defined', cmd)
  end
  return vim.fn.execute('version'):match('NVIM v[%d.]+') or '?'
end)

vim.cmd('edit ' .. vim.fn.fnameescape(workspace .. '/Kubefile'))
local buf = vim.api.nvim_get_current_buf()

H.test('opening the Kubefile sets filetype=kubefile (ftdetect autocmds)', function()
  H.assert(vim.bo[buf].filetype == 'kubefile', 'filetype is %q', vim.bo[buf].filetype)
  H.assert(vim.v.errmsg == '', 'error while opening: %s', vim.v.errmsg)
end)

H.test('regex syntax fallback highlights $(VAR) templates', function()
  H.assert(vim.b.current_syntax == 'kubefile', 'b:current_syntax is %s', tostring(vim.b.current_syntax))
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  for i, line in ipairs(lines) do
    local col = line:find('$(NAMSPACE)', 1, true)
    if col then
      local name = vim.fn.synIDattr(vim.fn.synID(i, col + 2, 1), 'name')
      H.assert(name == 'kubefileTemplate', 'syntax group at $(NAMSPACE) is %q', name)
      local kw = vim.fn.synIDattr(vim.fn.synID(2, 1, 1), 'name')
      return 'template: ' .. name .. ', FROM: ' .. kw
    end
  end
  H.fail('fixture has no $(NAMSPACE)')
end)

H.test(':KubefileInstallParser refuses an ABI this Neovim cannot load, clearly', function()
  local done
  require('kubefile').install_parser({
    on_done = function(ok, msg)
      done = { ok = ok, msg = msg }
    end,
    sync = true,
  })
  H.assert(H.wait(60000, function()
    return done
  end), 'no answer from install_parser')
  if done.ok then
    return 'installed (the parser ABI is supported here)'
  end
  H.assert(done.msg:find('ABI'), 'unexpected failure: %s', done.msg)
  return done.msg
end)

local client
local attached = H.test('kubefile-ls attaches via vim.lsp.start_client', function()
  H.assert(vim.lsp.start == nil, 'this Neovim has vim.lsp.start; the test is meant for 0.7')
  client = H.wait(LSP_TIMEOUT, function()
    local c = require('kubefile').get_client(buf)
    return c and c.initialized and c or nil
  end)
  H.assert(client, 'no initialized kubefile_ls client within %dms (kubefile-ls on PATH: %s; server stderr: %s)',
    LSP_TIMEOUT, vim.fn.exepath('kubefile-ls'), H.server_stderr())
  return 'client ' .. client.id .. ', root ' .. tostring(client.config.root_dir)
end)

if attached then
  H.test('diagnostics with the expected codes arrive', function()
    local codes = H.wait(LSP_TIMEOUT, function()
      return H.has_codes(buf, EXPECTED)
    end)
    H.assert(codes, 'after %dms the buffer has codes {%s}; expected {%s}', LSP_TIMEOUT, H.code_list(buf), table.concat(EXPECTED, ', '))
    return H.code_list(buf)
  end)
end

H.test('no errors were reported', function()
  H.assert(vim.v.errmsg == '', 'v:errmsg: %s', vim.v.errmsg)
  for _, n in ipairs(H.notifications) do
    local expected = tostring(n.msg):find('ABI', 1, true) -- the refusal tested above
    H.assert(expected or not (n.level and n.level >= vim.log.levels.ERROR), 'error notification: %s', n.msg)
  end
end)

H.finish()

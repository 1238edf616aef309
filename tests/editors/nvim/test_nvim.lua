-- End-to-end test of editors/nvim in Neovim >= 0.11 (run by scripts/test-editors.sh):
-- the plugin alone on the runtimepath, kubefile-ls on PATH, a copy of tests/editors/fixtures/workspace.
local H = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/harness.lua')

local workspace = assert(os.getenv('KUBEFILE_TEST_WORKSPACE'), 'KUBEFILE_TEST_WORKSPACE is not set')
local kubefile = workspace .. '/Kubefile'
local EXPECTED = { 'unknown-label', 'missing-registry-copy', 'undefined-variable', 'split-exec-form' }
local LSP_TIMEOUT = tonumber(os.getenv('KUBEFILE_TEST_LSP_TIMEOUT') or '20000')

local buf, client

H.test('plugin loads without errors', function()
  H.assert(vim.g.loaded_kubefile == 1, 'plugin/kubefile.lua was not sourced')
  H.assert(vim.v.errmsg == '', 'startup error: %s', vim.v.errmsg)
  for _, cmd in ipairs({ 'KubefileBuild', 'KubefileImages', 'KubefileInstallParser', 'KubefileRestart' }) do
    H.assert(vim.fn.exists(':' .. cmd) == 2, ':%s is not defined', cmd)
  end
  return tostring(vim.version())
end)

H.test(':KubefileInstallParser builds the tree-sitter parser', function()
  local parser = require('kubefile').parser_path()
  local done
  require('kubefile').install_parser({
    on_done = function(ok, msg)
      done = { ok = ok, msg = msg }
    end,
  })
  H.assert(H.wait(120000, function()
    return done
  end), 'timed out after 120s compiling the parser')
  H.assert(done.ok, done.msg)
  H.assert(vim.loop.fs_stat(parser), 'no parser at %s', parser)
  return parser
end)

H.test('ftdetect: Kubefile, Sealfile, *.Kubefile, Kubefile.* are kubefile', function()
  for _, name in ipairs({ 'Kubefile', 'Sealfile', 'app.Kubefile', 'Kubefile.dev' }) do
    local ft = vim.filetype.match({ filename = workspace .. '/' .. name })
    H.assert(ft == 'kubefile', '%s detected as %s', name, tostring(ft))
  end
end)

vim.cmd('edit ' .. vim.fn.fnameescape(kubefile))
buf = vim.api.nvim_get_current_buf()

H.test('opening the Kubefile sets filetype=kubefile', function()
  H.assert(vim.bo[buf].filetype == 'kubefile', 'filetype is %q', vim.bo[buf].filetype)
  H.assert(vim.bo[buf].commentstring == '# %s', 'commentstring is %q', vim.bo[buf].commentstring)
end)

local function find(pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = line:find(pattern, 1, true)
    if col then
      return i - 1, col - 1
    end
  end
  H.fail('fixture has no %q', pattern)
end

H.test('tree-sitter highlighter attaches', function()
  H.assert(vim.treesitter.highlighter.active[buf], 'no active highlighter (parser or queries not found?)')
  return 'lang ' .. vim.treesitter.get_parser(buf):lang()
end)

local function captures_at(row, col)
  vim.treesitter.get_parser(buf):parse(true) -- headless: no redraw has parsed it yet
  local names = {}
  for _, c in ipairs(vim.treesitter.get_captures_at_pos(buf, row, col)) do
    table.insert(names, c.capture)
  end
  return names
end

H.test('get_captures_at_pos: FROM is @keyword', function()
  local row, col = find('FROM')
  local names = captures_at(row, col)
  H.assert(vim.tbl_contains(names, 'keyword'), 'captures at FROM: {%s}', table.concat(names, ', '))
  return table.concat(names, ', ')
end)

H.test('get_captures_at_pos: $(NAMSPACE) is a template variable', function()
  local row, col = find('$(NAMSPACE)')
  local at_dollar = captures_at(row, col)
  local at_name = captures_at(row, col + 3)
  local all = vim.list_extend(vim.list_extend({}, at_dollar), at_name)
  H.assert(
    vim.tbl_contains(all, 'embedded') or vim.tbl_contains(all, 'variable.builtin'),
    'captures at $(: {%s}, at the name: {%s}',
    table.concat(at_dollar, ', '),
    table.concat(at_name, ', ')
  )
  H.assert(not vim.tbl_contains(at_name, 'string') or vim.tbl_contains(at_name, 'variable.builtin'),
    'the name is only a string: {%s}', table.concat(at_name, ', '))
  return '$( {' .. table.concat(at_dollar, ', ') .. '}, name {' .. table.concat(at_name, ', ') .. '}'
end)

local attached = H.test('kubefile-ls starts and attaches with no configuration', function()
  client = H.wait(LSP_TIMEOUT, function()
    return require('kubefile').get_client(buf)
  end)
  H.assert(client, 'no kubefile_ls client attached within %dms (kubefile-ls on PATH: %s; server stderr: %s)',
    LSP_TIMEOUT, vim.fn.exepath('kubefile-ls'), H.server_stderr())
  H.assert(H.wait(LSP_TIMEOUT, function()
    return client.initialized or (client.server_capabilities and next(client.server_capabilities) ~= nil)
  end), 'the server did not answer initialize within %dms', LSP_TIMEOUT)
  local info = client.server_info or (client.initialize_result and client.initialize_result.serverInfo) or {}
  return ('%s %s, root %s'):format(info.name or client.name, info.version or '', client.root_dir or client.config.root_dir or '?')
end)

local diagnostics_ok = attached and H.test('diagnostics with the expected codes arrive', function()
  local codes = H.wait(LSP_TIMEOUT, function()
    return H.has_codes(buf, EXPECTED)
  end)
  H.assert(codes, 'after %dms the buffer has codes {%s}; expected {%s}', LSP_TIMEOUT, H.code_list(buf), table.concat(EXPECTED, ', '))
  return H.code_list(buf)
end)

if attached then
  H.test('hover on FROM shows documentation', function()
    H.assert(client.server_capabilities.hoverProvider, 'the server does not advertise hoverProvider')
    local row, col = find('FROM')
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      position = { line = row, character = col + 1 },
    }, 5000)
    local text
    for _, r in pairs(res or {}) do
      if r.result and r.result.contents then
        local lines = vim.lsp.util.convert_input_to_markdown_lines(r.result.contents)
        text = table.concat(lines, '\n')
      end
    end
    H.assert(text and text:match('%S'), 'empty hover (%s)', vim.inspect(res))
    return (text:gsub('%s+', ' '):sub(1, 80))
  end)

  H.test('completion after `LABEL sealos.io.type=` offers rootfs', function()
    H.assert(client.server_capabilities.completionProvider, 'the server does not advertise completionProvider')
    local last = vim.api.nvim_buf_line_count(buf)
    vim.api.nvim_buf_set_lines(buf, last, last, false, { 'LABEL sealos.io.type=' })
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/completion', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      position = { line = last, character = #'LABEL sealos.io.type=' },
      context = { triggerKind = 1 },
    }, 5000)
    vim.api.nvim_buf_set_lines(buf, last, last + 1, false, {})
    local labels = {}
    for _, r in pairs(res or {}) do
      local items = r.result and (r.result.items or r.result) or {}
      for _, item in ipairs(items) do
        local text = item.label .. ' ' .. (item.insertText or '') .. ' ' .. ((item.textEdit or {}).newText or '')
        table.insert(labels, item.label)
        if text:find('rootfs', 1, true) then
          return 'items: ' .. table.concat(labels, ', ')
        end
      end
    end
    H.fail('no rootfs in completion items {%s}', table.concat(labels, ', '))
  end)
end

if diagnostics_ok then
  H.test('quick fix for unknown-label changes the buffer', function()
    local d = H.codes(buf)['unknown-label']
    local lsp_diag = d.user_data and d.user_data.lsp
    H.assert(lsp_diag, 'diagnostic has no LSP data')
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      range = lsp_diag.range,
      context = { diagnostics = { lsp_diag }, only = { 'quickfix' } },
    }, 5000)
    local action
    for _, r in pairs(res or {}) do
      for _, a in ipairs(r.result or {}) do
        if not action and (a.edit or a.data or a.command) then
          action = a
        end
      end
    end
    H.assert(action, 'no quick fix offered (%s)', vim.inspect(res))
    if not action.edit and action.data then
      local resolved = vim.lsp.buf_request_sync(buf, 'codeAction/resolve', action, 5000)
      for _, r in pairs(resolved or {}) do
        action = r.result or action
      end
    end
    H.assert(action.edit, 'the quick fix %q has no workspace edit', action.title)
    local before = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
    local after = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    H.assert(not vim.deep_equal(before, after), 'applying %q left the buffer unchanged', action.title)
    H.assert(table.concat(after, '\n'):find('sealos.io.type', 1, true), 'after %q: no sealos.io.type in the buffer', action.title)
    local gone = H.wait(5000, function()
      return not H.codes(buf)['unknown-label']
    end)
    H.assert(gone, 'unknown-label is still reported after the fix (diagnostics not refreshed on change?)')
    return action.title
  end)
end

if diagnostics_ok then
  H.test("setup{settings} reaches the server (severity 'off' removes split-exec-form)", function()
    H.assert(H.codes(buf)['split-exec-form'], 'split-exec-form is not reported to begin with')
    require('kubefile').setup({ settings = { severity = { ['split-exec-form'] = 'off' } } })
    local gone = H.wait(5000, function()
      return not H.codes(buf)['split-exec-form']
    end)
    H.assert(gone, 'split-exec-form is still reported 5s after setup{} changed its severity to off (codes {%s})', H.code_list(buf))
    local count = #vim.lsp.get_clients({ name = 'kubefile_ls' })
    H.assert(count == 1, 'setup{} left %d kubefile_ls clients running (expected the same single one)', count)
    require('kubefile').setup({ settings = {} })
    local back = H.wait(5000, function()
      return H.codes(buf)['split-exec-form']
    end)
    H.assert(back, 'split-exec-form did not come back after setup{ settings = {} }')
  end)
end

if attached then
  -- The fixture's manifests/deploy.yaml runs nginx; the server renders the context to list it.
  local function wait_images(what)
    local items = H.wait(15000, function()
      local qf = vim.fn.getqflist()
      return #qf > 0 and qf or nil
    end)
    H.assert(items, 'no quickfix items after %s', what)
    local texts = {}
    for _, item in ipairs(items) do
      table.insert(texts, item.text)
    end
    local text = table.concat(texts, '; ')
    H.assert(text:find('docker.io/library/nginx:1.27', 1, true), 'no docker.io/library/nginx:1.27 in {%s}', text)
    H.assert(vim.fn.bufname(items[1].bufnr):find('deploy.yaml', 1, true), 'the image is not located in manifests/deploy.yaml but in %q', vim.fn.bufname(items[1].bufnr))
    return text
  end

  H.test(':KubefileImages lists the fixture\'s images in the quickfix list', function()
    vim.fn.setqflist({}, 'r')
    vim.cmd('KubefileImages')
    local text = wait_images(':KubefileImages')
    vim.cmd('cclose')
    vim.api.nvim_set_current_buf(buf)
    return text
  end)

  H.test('the "images will be saved" code lens shows the images (vim.lsp.commands)', function()
    local lens = H.wait(15000, function()
      local res = vim.lsp.buf_request_sync(buf, 'textDocument/codeLens', { textDocument = { uri = vim.uri_from_bufnr(buf) } }, 5000)
      for _, r in pairs(res or {}) do
        for _, l in ipairs(r.result or {}) do
          if l.command and l.command.command == 'kubefile.images' then
            return l
          end
        end
      end
    end)
    H.assert(lens, 'no code lens running kubefile.images')
    vim.fn.setqflist({}, 'r')
    client:exec_cmd(lens.command, { bufnr = buf })
    local text = wait_images('running the lens ' .. lens.command.title)
    vim.cmd('cclose')
    vim.api.nvim_set_current_buf(buf)
    return lens.command.title .. ' -> ' .. text
  end)

  H.test(':KubefileBuild builds the image (setup{build = {saveImage = false}}, no network)', function()
    require('kubefile').setup({ build = { saveImage = false } })
    vim.cmd('KubefileBuild editor-test:v1')
    local msg = H.wait_notification(60000, 'built editor%-test:v1')
    H.assert(msg, 'no "built editor-test:v1" message within 60s after :KubefileBuild (messages: %s)',
      table.concat(vim.tbl_map(function(n)
        return tostring(n.msg)
      end, H.notifications), ' | '))
    H.assert(vim.loop.fs_stat(workspace .. '/editor-test.oci/index.json'), 'no OCI layout at %s/editor-test.oci', workspace)
    return msg
  end)

  H.test('an images/shim list attaches to the same server and keeps its filetype', function()
    vim.fn.mkdir(workspace .. '/images/shim', 'p')
    local list = workspace .. '/images/shim/extra.txt'
    vim.fn.writefile({ 'docker.io/library/busybox:1.36' }, list)
    vim.cmd('edit ' .. vim.fn.fnameescape(list))
    local shim = vim.api.nvim_get_current_buf()
    local attached_client = H.wait(LSP_TIMEOUT, function()
      return require('kubefile').get_client(shim)
    end)
    H.assert(attached_client, 'no kubefile_ls client attached to %s', list)
    H.assert(attached_client.id == client.id, 'a second client (%d) started for the shim list; the Kubefile\'s is %d', attached_client.id, client.id)
    local filetype = vim.bo[shim].filetype
    H.assert(filetype ~= 'kubefile', 'the shim list got filetype kubefile')
    vim.cmd('bwipeout!')
    return ('client %d, filetype %q'):format(attached_client.id, filetype)
  end)
end

H.test(':checkhealth kubefile reports the server', function()
  vim.cmd('checkhealth kubefile')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  H.assert(text:find('kubefile-ls', 1, true) and text:find('OK', 1, true), 'unexpected health report:\n%s', text)
  H.assert(not text:find('ERROR', 1, true), 'health report has errors:\n%s', text)
  vim.cmd('bwipeout!')
end)

H.finish()

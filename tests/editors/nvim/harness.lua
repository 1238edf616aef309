-- Tiny test harness for headless Neovim (0.7+): writes PASS/FAIL lines to
-- $KUBEFILE_TEST_RESULTS, which scripts/test-editors.sh tallies.
local H = {}

local results_path = assert(os.getenv('KUBEFILE_TEST_RESULTS'), 'KUBEFILE_TEST_RESULTS is not set')
local out = assert(io.open(results_path, 'w'))

function H.log(msg)
  io.stderr:write('  [nvim] ' .. msg .. '\n')
end

local function report(status, name, detail)
  local line = status .. ' ' .. name .. (detail and detail ~= '' and (': ' .. detail) or '')
  out:write(line:gsub('\n', ' | ') .. '\n')
  out:flush()
  H.log(line)
end

--- Runs `fn`; it passes unless it errors. A string it returns is added as detail.
function H.test(name, fn)
  local ok, a = xpcall(fn, function(err)
    if type(err) == 'table' and err.assertion then
      return err.message -- a failed check: its message says it all
    end
    return debug.traceback(tostring(err), 2)
  end)
  if not ok then
    report('FAIL', name, tostring(a))
    return false
  end
  report('PASS', name, type(a) == 'string' and a or nil)
  return true
end

function H.fail(msg, ...)
  error({ assertion = true, message = select('#', ...) > 0 and msg:format(...) or msg }, 0)
end

function H.assert(cond, msg, ...)
  if not cond then
    H.fail(msg, ...)
  end
  return cond
end

--- Waits up to `ms` for `cond()` to return a truthy value; returns it (or nil on timeout).
function H.wait(ms, cond)
  local value
  vim.wait(ms, function()
    value = cond()
    return value
  end, 50)
  return value
end

function H.finish()
  out:close()
  vim.cmd('qa!')
end

--- Records vim.notify messages (the plugin reports through it).
H.notifications = {}
local orig_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(H.notifications, { msg = msg, level = level })
  H.log('notify: ' .. tostring(msg))
end
H.orig_notify = orig_notify

function H.wait_notification(ms, pattern)
  return H.wait(ms, function()
    for _, n in ipairs(H.notifications) do
      if tostring(n.msg):find(pattern) then
        return n.msg
      end
    end
  end)
end

--- The diagnostic codes in `bufnr` (code from vim.diagnostic, or the LSP diagnostic itself).
function H.codes(bufnr)
  local codes = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    if code then
      codes[tostring(code)] = d
    end
  end
  return codes
end

function H.has_codes(bufnr, expected)
  local codes = H.codes(bufnr)
  for _, code in ipairs(expected) do
    if not codes[code] then
      return false
    end
  end
  return codes
end

function H.code_list(bufnr)
  local list = {}
  for code in pairs(H.codes(bufnr)) do
    table.insert(list, code)
  end
  table.sort(list)
  return table.concat(list, ', ')
end

--- The server's stderr as recorded in Neovim's LSP log (why a client died), or ''.
function H.server_stderr()
  local path = (vim.lsp.log and vim.lsp.log.get_filename and vim.lsp.log.get_filename())
    or (vim.lsp.get_log_path and vim.lsp.get_log_path())
  local f = path and io.open(path, 'r')
  if not f then
    return ''
  end
  local lines = {}
  for line in f:lines() do
    local msg = line:match('"stderr"%s+"(.*)"$')
    if msg then
      table.insert(lines, (msg:gsub('\\n', ' ')))
    end
  end
  f:close()
  return table.concat(lines, ' '):sub(-400)
end

return H

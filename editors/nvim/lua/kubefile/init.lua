-- kubefile-ls for Neovim 0.7+: LSP client setup (vim.lsp.config/enable on 0.11+, vim.lsp.start on
-- 0.8-0.10, vim.lsp.start_client on 0.7), the tree-sitter parser, and the server commands.
local M = {}

local NAME = 'kubefile_ls'
local has = function(feature)
  return vim.fn.has(feature) == 1
end
local uv = vim.uv or vim.loop

--- Options; `setup{}` merges into these.
M.options = {
  -- Command that starts the server (stdio).
  cmd = { 'kubefile-ls' },
  -- Filetypes to attach to. Add 'dockerfile' to use kubefile-ls on Dockerfiles too (Sealos rules
  -- then apply only to Dockerfiles in a Sealos build context).
  filetypes = { 'kubefile' },
  -- Files/dirs that mark the workspace root; without one the Kubefile's directory is the root.
  root_markers = { '.git' },
  -- Server settings: the `kubefile` section of workspace/configuration and initializationOptions,
  -- e.g. { severity = { ['ignored-instruction'] = 'off' }, allowedLabels = { 'team' },
  --        knownVariables = { 'HELM_OPTS' }, helm = { path = '...' }, registry = { authFile = '...' } }
  settings = {},
  -- Start the server automatically on Kubefiles.
  autostart = true,
  -- Start tree-sitter highlighting on Kubefiles when the parser is installed.
  highlight = true,
  -- tree-sitter-kubefile checkout used by :KubefileInstallParser (default: next to this plugin).
  grammar_dir = nil,
  -- Called with (client, bufnr) when the server attaches.
  on_attach = nil,
  -- Options of :KubefileBuild, the second argument of the server's kubefile.build command, e.g.
  -- { saveImage = false } (build without pulling images), { platform = 'linux/arm64' }.
  build = {},
}

local function notify(msg, level)
  vim.schedule(function()
    vim.notify('kubefile: ' .. msg, level or vim.log.levels.INFO)
  end)
end

local function tbl_isempty(t)
  return next(t) == nil
end

-- The empty settings table must go out as a JSON object, not an array.
local function json_object(t)
  if t == nil or tbl_isempty(t) then
    return vim.empty_dict()
  end
  return t
end

---------------------------------------------------------------------------------------------------
-- Paths

--- Root of this plugin (editors/nvim).
function M.plugin_dir()
  local source = debug.getinfo(1, 'S').source:sub(2)
  source = uv.fs_realpath(source) or source -- a plugin dir linked into pack/*/start resolves to the checkout
  return vim.fn.fnamemodify(source, ':p:h:h:h')
end

--- tree-sitter-kubefile checkout: setup{grammar_dir}, else ../../tree-sitter-kubefile from the plugin.
function M.grammar_dir()
  if M.options.grammar_dir then
    return vim.fn.fnamemodify(vim.fn.expand(M.options.grammar_dir), ':p'):gsub('/$', '')
  end
  return vim.fn.fnamemodify(M.plugin_dir() .. '/../../tree-sitter-kubefile', ':p'):gsub('/$', '')
end

function M.parser_path()
  return vim.fn.stdpath('data') .. '/site/parser/kubefile.so'
end

local function dirname(path)
  return vim.fn.fnamemodify(path, ':h')
end

--- The build context of an image list (`images/shim/**`, `images/skopeo/tar.txt`): the directory
--- that holds `images/`; nil for other paths.
function M.image_list_context(path)
  return path:match('^(.*)/images/shim/.+$') or path:match('^(.*)/images/skopeo/tar%.txt$')
end

local function find_root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return vim.fn.getcwd()
  end
  name = vim.fn.fnamemodify(name, ':p')
  -- An image list belongs to the Kubefile's context, so it shares that Kubefile's client.
  local dir = M.image_list_context(name) or dirname(name)
  local current = dir
  while true do
    for _, marker in ipairs(M.options.root_markers or {}) do
      if uv.fs_stat(current .. '/' .. marker) then
        return current
      end
    end
    local parent = dirname(current)
    if parent == current then
      break
    end
    current = parent
  end
  return dir
end

local function executable(cmd)
  return type(cmd) == 'function' or (type(cmd) == 'table' and cmd[1] and vim.fn.executable(cmd[1]) == 1)
end

local warned_missing = false
local function warn_missing(cmd)
  if warned_missing then
    return
  end
  warned_missing = true
  notify(
    ('language server not started: %s is not executable. Install it (cargo install --path server) '
      .. "or set require('kubefile').setup{ cmd = {...} }"):format(type(cmd) == 'table' and cmd[1] or '?'),
    vim.log.levels.WARN
  )
end

---------------------------------------------------------------------------------------------------
-- LSP

local function request(client, method, params, handler, bufnr)
  if has('nvim-0.11') then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

-- Neovim versions that pull diagnostics (textDocument/diagnostic, 0.10+) but have no handler
-- for workspace/diagnostic/refresh never see diagnostics change after a settings or build-context
-- change until the next edit. There, advertise refresh support and re-pull on refresh.
local function needs_refresh_shim()
  return vim.lsp.diagnostic and vim.lsp.diagnostic.on_diagnostic ~= nil
    and vim.lsp.handlers['workspace/diagnostic/refresh'] == nil
end

local function on_diagnostic_refresh(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    for bufnr in pairs(client.attached_buffers or {}) do
      if vim.api.nvim_buf_is_loaded(bufnr) then
        request(client, 'textDocument/diagnostic', { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }, nil, bufnr)
      end
    end
  end
  return vim.NIL
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  if needs_refresh_shim() then
    caps.workspace = caps.workspace or {}
    caps.workspace.diagnostics = vim.tbl_extend('force', caps.workspace.diagnostics or {}, { refreshSupport = true })
  end
  return caps
end

--- The client configuration shared by every Neovim version.
function M.lsp_config()
  local o = M.options
  return {
    name = NAME,
    capabilities = capabilities(),
    handlers = needs_refresh_shim() and { ['workspace/diagnostic/refresh'] = on_diagnostic_refresh } or nil,
    cmd = o.cmd,
    filetypes = o.filetypes,
    root_markers = o.root_markers,
    settings = { kubefile = json_object(o.settings) },
    init_options = json_object(o.settings),
    on_attach = o.on_attach,
    -- 0.11+: only start when the binary exists; the root is the nearest marker or the file's dir.
    root_dir = function(bufnr, on_dir)
      local cmd = (vim.lsp.config and vim.lsp.config[NAME] or {}).cmd or M.options.cmd
      if not executable(cmd) then
        warn_missing(cmd)
        return
      end
      on_dir(find_root(bufnr))
    end,
  }
end

--- The running client attached to `bufnr` (or any kubefile-ls client).
function M.get_client(bufnr)
  local clients
  if vim.lsp.get_clients then
    clients = vim.lsp.get_clients({ name = NAME, bufnr = bufnr })
  elseif has('nvim-0.8') then
    clients = vim.lsp.get_active_clients({ name = NAME, bufnr = bufnr })
  else
    clients = {}
    for _, client in pairs(bufnr and vim.lsp.buf_get_clients(bufnr) or vim.lsp.get_active_clients()) do
      if client.name == NAME then
        table.insert(clients, client)
      end
    end
  end
  return clients[1]
end

local function client_notify(client, method, params)
  if has('nvim-0.11') then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

-- 0.7: one client per root, started with start_client and attached by hand.
local legacy_clients = {}

local function start_legacy(bufnr)
  local root = find_root(bufnr)
  local id = legacy_clients[root]
  if not (id and vim.lsp.get_client_by_id(id) and not vim.lsp.client_is_stopped(id)) then
    local config = M.lsp_config()
    config.root_dir = root
    config.workspace_folders = { { uri = vim.uri_from_fname(root), name = root } }
    id = vim.lsp.start_client(config)
    legacy_clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Starts (or attaches) the server for `bufnr`: Kubefiles on Neovim < 0.11 (0.11+ starts them
--- through vim.lsp.enable), image lists on every version.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  -- 0.11+: the effective vim.lsp.config (user overrides included), copied: start() sets root_dir.
  local config = has('nvim-0.11') and vim.tbl_extend('force', {}, vim.lsp.config[NAME]) or M.lsp_config()
  if not executable(config.cmd) then
    warn_missing(config.cmd)
    return nil
  end
  if vim.lsp.start then
    config.root_dir = find_root(bufnr)
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  return start_legacy(bufnr)
end

--- Attaches the server to `bufnr` if it is an image list of a build context (their filetype
--- stays as it is; the server checks them by path).
local function start_if_image_list(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name ~= '' and M.image_list_context(vim.fn.fnamemodify(name, ':p')) then
    M.start(bufnr)
  end
end

local autostarted = false

--- Called from plugin/kubefile.lua: registers the server so that it starts on Kubefiles.
function M.autostart()
  if autostarted or not M.options.autostart then
    return
  end
  autostarted = true
  local group = vim.api.nvim_create_augroup('kubefile_lsp', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
    group = group,
    pattern = { '*/images/shim/*', '*/images/skopeo/tar.txt' },
    callback = function(args)
      start_if_image_list(args.buf)
    end,
  })
  if has('nvim-0.11') then
    -- Defaults come from lsp/kubefile_ls.lua on the runtimepath; vim.lsp.enable starts the
    -- server on the config's filetypes. It skips a missing binary silently (lsp.log only):
    -- say it once.
    vim.lsp.enable(NAME)
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      callback = function(args)
        local config = vim.lsp.config[NAME] or {}
        if vim.tbl_contains(config.filetypes or {}, vim.bo[args.buf].filetype) and not executable(config.cmd) then
          warn_missing(config.cmd)
        end
      end,
    })
    return
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = '*',
    callback = function(args)
      if vim.tbl_contains(M.options.filetypes, vim.bo[args.buf].filetype) then
        M.start(args.buf)
      end
    end,
  })
end

--- Optional configuration; see M.options. Safe to call before or after the plugin loads.
function M.setup(opts)
  opts = opts or {}
  M.options = vim.tbl_deep_extend('force', M.options, opts)
  -- Lists and the settings object replace the defaults instead of merging index by index.
  for _, key in ipairs({ 'cmd', 'filetypes', 'root_markers', 'settings', 'build' }) do
    if opts[key] ~= nil then
      M.options[key] = opts[key]
    end
  end
  if has('nvim-0.11') then
    -- Assign (not vim.lsp.config()), which would deep-merge over the previous settings and keep
    -- keys this call removed.
    vim.lsp.config[NAME] = M.lsp_config()
    vim.lsp.enable(NAME, M.options.autostart)
  elseif M.options.autostart then
    M.autostart()
  end
  -- Running clients pick up new settings.
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ name = NAME }) or vim.lsp.get_active_clients()
  for _, client in ipairs(clients) do
    if client.name == NAME then
      local settings = { kubefile = json_object(M.options.settings) }
      client.config.settings = settings -- read by workspace/configuration up to 0.10
      client.settings = settings -- and from 0.11 on
      client_notify(client, 'workspace/didChangeConfiguration', { settings = settings })
    end
  end
end

--- Restarts every kubefile-ls client and re-attaches the Kubefile buffers.
function M.restart()
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ name = NAME }) or vim.lsp.get_active_clients()
  for _, client in ipairs(clients) do
    if client.name == NAME then
      if has('nvim-0.11') then
        client:stop()
      else
        client.stop()
      end
    end
  end
  legacy_clients = {}
  vim.defer_fn(function()
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(M.options.filetypes, vim.bo[buf].filetype) then
        if has('nvim-0.11') then
          vim.api.nvim_exec_autocmds('FileType', { buffer = buf })
        else
          M.start(buf)
        end
      elseif vim.api.nvim_buf_is_loaded(buf) then
        start_if_image_list(buf)
      end
    end
  end, 500)
end

---------------------------------------------------------------------------------------------------
-- Server commands

local function supports(client, command)
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  return provider and vim.tbl_contains(provider.commands or {}, command)
end

--- The client for the current buffer if it offers `command`, else explains why not.
local function client_for(command, what)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.get_client(bufnr) or M.get_client(nil)
  if not client then
    notify(('cannot %s: kubefile-ls is not running for this buffer (open a Kubefile first)'):format(what), vim.log.levels.ERROR)
    return nil
  end
  if not supports(client, command) then
    notify(
      ('this kubefile-ls cannot %s yet: it does not offer the "%s" command. Update kubefile-ls.'):format(what, command),
      vim.log.levels.WARN
    )
    return nil
  end
  return client, bufnr
end

local function kubefile_uri(bufnr)
  if vim.tbl_contains(M.options.filetypes, vim.bo[bufnr].filetype) then
    return vim.uri_from_bufnr(bufnr)
  end
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype == 'kubefile' then
      return vim.uri_from_bufnr(buf), buf
    end
  end
  return nil
end

local build_state = nil

--- :KubefileBuild [tag]: workspace/executeCommand kubefile.build with progress messages.
function M.build(opts)
  opts = opts or {}
  local client, bufnr = client_for('kubefile.build', 'build images')
  if not client then
    return
  end
  local uri, buf
  if opts.uri then
    uri = opts.uri
    local loaded = vim.fn.bufnr(vim.uri_to_fname(uri))
    buf = loaded > 0 and loaded or bufnr
  else
    uri, buf = kubefile_uri(bufnr)
    buf = buf or bufnr
  end
  if not uri then
    notify('open a Kubefile first', vim.log.levels.WARN)
    return
  end
  if vim.bo[buf].modified then
    vim.api.nvim_buf_call(buf, function()
      vim.cmd('silent write')
    end)
  end
  if build_state then
    notify('a build is already running (:KubefileBuildCancel stops it)', vim.log.levels.WARN)
    return
  end
  local token = ('kubefile-build-%d'):format(uv.hrtime())
  local arguments = { uri }
  local options = vim.tbl_extend('force', {}, M.options.build or {})
  if opts.tag then
    options.tags = { opts.tag }
  end
  if next(options) then
    table.insert(arguments, options)
  end
  local started = uv.hrtime()
  local autocmd
  if has('nvim-0.10') then
    autocmd = vim.api.nvim_create_autocmd('LspProgress', {
      callback = function(args)
        local data = args.data or {}
        local params = data.params or {}
        if params.token ~= token or not params.value then
          return
        end
        local v = params.value
        local msg = v.message or v.title or ''
        if v.percentage then
          msg = ('%3d%% %s'):format(v.percentage, msg)
        end
        vim.api.nvim_echo({ { 'kubefile build: ' .. msg } }, false, {})
      end,
    })
  end
  notify('building ' .. vim.uri_to_fname(uri) .. ' ...')
  local ok, request_id = request(client, 'workspace/executeCommand', {
    command = 'kubefile.build',
    arguments = arguments,
    workDoneToken = token,
  }, function(err, result)
    build_state = nil
    if autocmd then
      pcall(vim.api.nvim_del_autocmd, autocmd)
    end
    local seconds = (uv.hrtime() - started) / 1e9
    if err then
      if err.code == -32800 or tostring(err.message):lower():find('cancel') then
        notify('build cancelled')
      else
        notify('build failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      end
      return
    end
    local what = 'the image'
    if type(result) == 'string' then
      what = result
    elseif type(result) == 'table' then
      what = result.image or result.name or (result.tags and table.concat(result.tags, ', ')) or what
    end
    notify(('built %s in %.1fs'):format(what, seconds))
  end, buf)
  if ok then
    build_state = { client = client, request_id = request_id, token = token }
  end
end

--- :KubefileBuildCancel
function M.cancel_build()
  if not build_state then
    notify('no build is running')
    return
  end
  local s = build_state
  client_notify(s.client, 'window/workDoneProgress/cancel', { token = s.token })
  if has('nvim-0.11') then
    s.client:cancel_request(s.request_id)
  else
    s.client.cancel_request(s.request_id)
  end
end

--- Turns a kubefile.images result into quickfix items (accepts an array or {images = [...]}).
function M.images_to_qf(result, base_dir)
  local list = result
  if type(result) == 'table' and type(result.images) == 'table' then
    list = result.images
  end
  local items = {}
  for _, entry in ipairs(type(list) == 'table' and list or {}) do
    if type(entry) == 'string' then
      table.insert(items, { filename = base_dir .. '/Kubefile', lnum = 1, text = entry })
    elseif type(entry) == 'table' then
      local image = entry.image or entry.name or entry.reference
      local file, lnum = nil, 1
      if type(entry.location) == 'table' and entry.location.uri then
        file = vim.uri_to_fname(entry.location.uri)
        lnum = entry.location.range.start.line + 1
      else
        file = entry.uri or entry.file or entry.path
        if type(file) == 'string' and file:match('^%a[%w+.-]*:') then
          file = vim.uri_to_fname(file)
        elseif type(file) == 'string' and file:sub(1, 1) ~= '/' then
          file = base_dir .. '/' .. file
        end
        lnum = type(entry.line) == 'number' and entry.line or 1
      end
      local source = table.concat(vim.tbl_filter(function(s)
        return type(s) == 'string'
      end, { entry.source, entry.chart }), ' ')
      table.insert(items, {
        filename = file or (base_dir .. '/Kubefile'),
        lnum = lnum,
        text = image .. (source ~= '' and ('  [' .. source .. ']') or ''),
      })
    end
  end
  return items
end

--- :KubefileImages: the images the build context will save, in the quickfix list. `uri` (the
--- "N images will be saved" code lens passes it): the Kubefile or image list to ask about.
function M.images(uri)
  local client, bufnr = client_for('kubefile.images', 'list images')
  if not client then
    return
  end
  uri = uri or kubefile_uri(bufnr)
  if not uri then
    notify('open a Kubefile first', vim.log.levels.WARN)
    return
  end
  request(client, 'workspace/executeCommand', { command = 'kubefile.images', arguments = { uri } }, function(err, result)
    if err then
      notify('listing images failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    local items = M.images_to_qf(result, dirname(vim.uri_to_fname(uri)))
    if #items == 0 then
      notify('this build context has no images to save')
      return
    end
    vim.fn.setqflist({}, ' ', { title = ('kubefile: %d images for registry/'):format(#items), items = items })
    vim.cmd('botright copen')
  end, bufnr)
end

--- Code lenses and code actions run the server's commands through the client: the results then
--- show up as :KubefileImages and :KubefileBuild show them (a result Neovim would otherwise drop).
function M.register_commands()
  if not vim.lsp.commands then
    return
  end
  vim.lsp.commands['kubefile.images'] = function(command)
    M.images((command.arguments or {})[1])
  end
  vim.lsp.commands['kubefile.build'] = function(command)
    M.build({ uri = (command.arguments or {})[1] })
  end
end

---------------------------------------------------------------------------------------------------
-- Tree-sitter

local function parser_abi(src)
  local f = io.open(src .. '/parser.c', 'r')
  if not f then
    return nil
  end
  for _ = 1, 60 do
    local line = f:read('*l')
    if not line then
      break
    end
    local v = line:match('^#define LANGUAGE_VERSION (%d+)')
    if v then
      f:close()
      return tonumber(v)
    end
  end
  f:close()
  return nil
end

local function nvim_max_abi()
  return vim.treesitter and vim.treesitter.language_version or 0
end

--- Registers the installed parser with Neovim's tree-sitter (0.9+: language.add).
function M.register_parser()
  local path = M.parser_path()
  if not uv.fs_stat(path) then
    path = nil -- fall back to parser/kubefile.so anywhere on the runtimepath
  end
  local lang = vim.treesitter.language
  if lang and lang.add then
    if path then
      local ok = pcall(lang.add, 'kubefile', { path = path })
      return ok
    end
    return pcall(lang.add, 'kubefile') and true or false
  elseif lang and lang.require_language then
    return pcall(lang.require_language, 'kubefile', path)
  end
  return false
end

--- Starts tree-sitter highlighting in `bufnr` if the parser can be loaded.
function M.start_highlight(bufnr)
  if not M.options.highlight or not has('nvim-0.9') or not vim.treesitter.start then
    return false
  end
  if not M.register_parser() then
    return false
  end
  return pcall(vim.treesitter.start, bufnr, 'kubefile')
end

local function copy_queries(grammar)
  if #vim.api.nvim_get_runtime_file('queries/kubefile/highlights.scm', false) > 0 then
    return -- editors/nvim/queries/kubefile (a link to the grammar's queries) is on the runtimepath
  end
  local dest = vim.fn.stdpath('data') .. '/site/queries/kubefile'
  vim.fn.mkdir(dest, 'p')
  for _, name in ipairs({ 'highlights', 'injections', 'folds', 'locals' }) do
    local src = grammar .. '/queries/' .. name .. '.scm'
    if uv.fs_stat(src) then
      uv.fs_copyfile(src, dest .. '/' .. name .. '.scm')
    end
  end
end

--- :KubefileInstallParser [dir]: compiles tree-sitter-kubefile/src/{parser.c,scanner.c} with cc
--- into stdpath('data')/site/parser/kubefile.so. opts: grammar_dir, sync (wait), on_done(ok, msg).
function M.install_parser(opts)
  opts = opts or {}
  local grammar = opts.grammar_dir and vim.fn.fnamemodify(opts.grammar_dir, ':p'):gsub('/$', '') or M.grammar_dir()
  local src = grammar .. '/src'
  local function done(ok, msg)
    notify(msg, ok and vim.log.levels.INFO or vim.log.levels.ERROR)
    if opts.on_done then
      opts.on_done(ok, msg)
    end
    return ok
  end
  if not uv.fs_stat(src .. '/parser.c') then
    return done(false, ('no parser sources in %s (pass the tree-sitter-kubefile directory: :KubefileInstallParser DIR)'):format(src))
  end
  local abi = parser_abi(src)
  if abi and abi > nvim_max_abi() then
    return done(
      false,
      ('the parser uses tree-sitter ABI %d but this Neovim supports up to %d: use Neovim 0.11+, '
        .. 'or regenerate it with `tree-sitter generate --abi %d`'):format(abi, nvim_max_abi(), nvim_max_abi())
    )
  end
  local cc = vim.env.CC and vim.env.CC ~= '' and vim.env.CC or 'cc'
  if vim.fn.executable(cc) == 0 then
    return done(false, ('C compiler %q not found (install a C compiler, or set $CC)'):format(cc))
  end
  local out = M.parser_path()
  vim.fn.mkdir(dirname(out), 'p')
  local tmp = out .. '.tmp' .. uv.getpid()
  local cmd = { cc, '-o', tmp, '-shared', '-fPIC', '-Os', '-std=c11', '-I', src, src .. '/parser.c' }
  if uv.fs_stat(src .. '/scanner.c') then
    table.insert(cmd, src .. '/scanner.c')
  end
  local output = {}
  local function collect(_, data)
    for _, line in ipairs(data or {}) do
      if line ~= '' then
        table.insert(output, line)
      end
    end
  end
  local function finished(_, code)
    if code ~= 0 then
      os.remove(tmp)
      return done(false, ('compiling the parser failed (%s):\n%s'):format(table.concat(cmd, ' '), table.concat(output, '\n')))
    end
    local ok, err = os.rename(tmp, out)
    if not ok then
      return done(false, 'could not install the parser: ' .. tostring(err))
    end
    copy_queries(grammar)
    vim.schedule(function()
      for _, buf in ipairs(vim.api.nvim_list_bufs()) do
        if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype == 'kubefile' then
          M.start_highlight(buf)
        end
      end
    end)
    return done(true, 'installed the tree-sitter parser: ' .. out)
  end
  notify('compiling the tree-sitter parser from ' .. src .. ' ...')
  local job = vim.fn.jobstart(cmd, {
    cwd = src,
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = collect,
    on_stderr = collect,
    on_exit = finished,
  })
  if job <= 0 then
    return done(false, 'could not run ' .. cc)
  end
  if opts.sync then
    vim.fn.jobwait({ job }, 120000)
  end
  return true
end

---------------------------------------------------------------------------------------------------
-- Per buffer

--- Called from ftplugin/kubefile.lua.
function M.on_filetype(bufnr)
  M.start_highlight(bufnr)
end

return M

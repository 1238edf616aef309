//! A small LSP client for integration tests: starts the real `kubefile-ls` binary, speaks
//! JSON-RPC over its stdio, answers the server's own requests, and waits for notifications
//! with timeouts (a test that would hang fails instead).

#![allow(dead_code)]

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct LspClient {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications received but not yet consumed, oldest first.
    pub notifications: VecDeque<Value>,
    /// Requests the server sent us (method, params), in order.
    pub server_requests: Vec<(String, Value)>,
    /// Responses that arrived while another response was awaited (requests run concurrently, so
    /// answers may come in any order).
    early_responses: Vec<Value>,
    /// What we answer to `workspace/configuration` for section `kubefile`.
    pub settings: Value,
}

impl LspClient {
    pub fn spawn() -> LspClient {
        Self::spawn_with_env(&[])
    }

    pub fn spawn_with_env(env: &[(&str, &str)]) -> LspClient {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"));
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        // Server logs go to the test's stderr; only errors unless the caller asks for more.
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "error");
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start kubefile-ls");
        let stdout = child.stdout.take().unwrap();
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient {
            stdin: child.stdin.take(),
            child,
            incoming,
            next_id: 1,
            notifications: VecDeque::new(),
            server_requests: Vec::new(),
            early_responses: Vec::new(),
            settings: Value::Null,
        }
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_vec(&message).unwrap();
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        stdin.write_all(&body).unwrap();
        stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request without waiting; see [`response`](Self::response).
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Waits for the response to request `id` (`result` or `error`), or `None` after `timeout`.
    pub fn response(&mut self, id: i64, timeout: Duration) -> Option<Value> {
        if let Some(at) = self.early_responses.iter().position(|message| message["id"] == json!(id)) {
            return Some(self.early_responses.remove(at));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.receive(deadline)?;
            if message.get("method").is_none() && message.get("id").is_some() {
                if message["id"] == json!(id) {
                    return Some(message);
                }
                self.early_responses.push(message);
                continue;
            }
            self.dispatch(message);
        }
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id, TIMEOUT).unwrap_or_else(|| panic!("no response to {method} within {TIMEOUT:?}"))
    }

    /// Sends a request and returns its `result`, failing the test on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        if let Some(error) = response.get("error") {
            panic!("{method} failed: {error}");
        }
        response["result"].clone()
    }

    fn receive(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("kubefile-ls closed its stdout"),
        }
    }

    /// Files a message that is not the awaited response: answers server requests, queues notifications.
    fn dispatch(&mut self, message: Value) {
        let Some(method) = message.get("method").and_then(Value::as_str).map(str::to_owned) else { return };
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        match message.get("id") {
            Some(id) => {
                let result = match method.as_str() {
                    "workspace/configuration" => {
                        let items = params["items"].as_array().map_or(0, Vec::len);
                        Value::Array(vec![self.settings.clone(); items])
                    }
                    _ => Value::Null,
                };
                let id = id.clone();
                self.server_requests.push((method, params));
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
            }
            None => self.notifications.push_back(message),
        }
    }

    /// Waits for the oldest notification `method` whose params satisfy `matches` and takes it
    /// out of the queue (other notifications stay queued).
    pub fn wait_for(&mut self, method: &str, mut matches: impl FnMut(&Value) -> bool) -> Value {
        self.try_wait_for(method, TIMEOUT, &mut matches)
            .unwrap_or_else(|| panic!("no matching {method} within {TIMEOUT:?}; queued: {:?}", self.notifications))
    }

    /// Like [`wait_for`](Self::wait_for) with a custom timeout; `None` if nothing matched in time.
    pub fn try_wait_for(
        &mut self,
        method: &str,
        timeout: Duration,
        mut matches: impl FnMut(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        let mut checked = 0;
        loop {
            while checked < self.notifications.len() {
                let message = &self.notifications[checked];
                if message["method"] == method && matches(&message["params"]) {
                    let message = self.notifications.remove(checked).unwrap();
                    return Some(message["params"].clone());
                }
                checked += 1;
            }
            let message = self.receive(deadline)?;
            self.dispatch(message);
        }
    }

    /// Reads whatever arrives during `duration` (to assert that something does not).
    pub fn drain_for(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while let Some(message) = self.receive(deadline) {
            self.dispatch(message);
        }
    }

    /// Waits for the diagnostics published for `uri` at `version` (or any version if `None`).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Value {
        self.wait_for("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri && version.is_none_or(|version| params["version"] == version)
        })
    }

    pub fn initialize(&mut self, capabilities: Value, initialization_options: Value) -> Value {
        let result = self.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": null,
                "capabilities": capabilities,
                "initializationOptions": initialization_options,
            }),
        );
        self.notify("initialized", json!({}));
        result
    }

    pub fn open(&mut self, uri: &str, language_id: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language_id, "version": version, "text": text}}),
        );
    }

    /// One incremental change: replace `(line, character)..(line, character)` with `text`.
    pub fn change(&mut self, uri: &str, version: i64, start: (u32, u32), end: (u32, u32), text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": range(start, end), "text": text}],
            }),
        );
    }

    /// `shutdown` then `exit`; returns the exit status.
    pub fn shutdown_and_exit(mut self) -> ExitStatus {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    /// Closes stdin and waits for the process (killing it after the timeout).
    pub fn wait_exit(mut self) -> ExitStatus {
        close_and_wait(&mut self.child, &mut self.stdin, TIMEOUT)
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The texts of the `window/showMessage` warnings among `notifications`.
pub fn warnings_shown<'a>(notifications: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    notifications
        .into_iter()
        .filter(|message| message["method"] == "window/showMessage" && message["params"]["type"] == 2)
        .map(|message| message["params"]["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Closes the server's stdin and waits for it to exit; kills it and fails the test after
/// `timeout`.
pub fn close_and_wait(child: &mut Child, stdin: &mut Option<ChildStdin>, timeout: Duration) -> ExitStatus {
    drop(stdin.take());
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("kubefile-ls did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One JSON-RPC message from `reader`; `None` at the end of the stream or on a malformed frame.
pub fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

pub fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": {"line": start.0, "character": start.1}, "end": {"line": end.0, "character": end.1}})
}

/// A `file://` URI for a path, percent-encoding what needs it (spaces and non-ASCII included).
pub fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_str().expect("UTF-8 test paths").bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => uri.push(byte as char),
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// Client capabilities for a push-only client (no pull diagnostics, no watching, UTF-16 only).
pub fn push_client() -> Value {
    json!({
        "textDocument": {"publishDiagnostics": {"versionSupport": true}},
        "general": {"positionEncodings": ["utf-16"]},
    })
}

/// Client capabilities with pull diagnostics, configuration, dynamic file watching and UTF-8.
pub fn full_client() -> Value {
    json!({
        "textDocument": {
            "publishDiagnostics": {"versionSupport": true},
            "diagnostic": {"dynamicRegistration": false, "relatedDocumentSupport": false},
            "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}},
        },
        "workspace": {
            "configuration": true,
            "didChangeWatchedFiles": {"dynamicRegistration": true},
            "diagnostics": {"refreshSupport": true},
            "workspaceEdit": {"documentChanges": true},
        },
        "general": {"positionEncodings": ["utf-8", "utf-16"]},
    })
}

/// The codes of a list of LSP diagnostics.
pub fn codes(diagnostics: &Value) -> Vec<String> {
    diagnostics
        .as_array()
        .expect("a diagnostics array")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

impl LspClient {
    /// `initialize` with extra top-level params (`locale`, `clientInfo`, ...) next to the capabilities.
    pub fn initialize_with(&mut self, capabilities: Value, extra: Value) -> Value {
        let mut params = json!({
            "processId": std::process::id(),
            "rootUri": null,
            "capabilities": capabilities,
        });
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        let result = self.request("initialize", params);
        self.notify("initialized", json!({}));
        result
    }
}

/// Client capabilities of a modern editor: snippets, Markdown everywhere, code-action literals,
/// hierarchical symbols, location links, prepare-rename, semantic-token deltas, UTF-16.
pub fn editor_client() -> Value {
    json!({
        "textDocument": {
            "publishDiagnostics": {"versionSupport": true},
            "completion": {"completionItem": {
                "snippetSupport": true,
                "documentationFormat": ["markdown", "plaintext"],
                "tagSupport": {"valueSet": [1]},
            }},
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "signatureHelp": {"signatureInformation": {"documentationFormat": ["markdown", "plaintext"]}},
            "definition": {"linkSupport": true},
            "documentSymbol": {"hierarchicalDocumentSymbolSupport": true},
            "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": [
                "", "quickfix", "refactor", "refactor.rewrite", "source", "source.fixAll"]}}},
            "rename": {"prepareSupport": true},
            "foldingRange": {"lineFoldingOnly": false, "foldingRange": {"collapsedText": true}},
            "semanticTokens": {"requests": {"full": {"delta": true}, "range": true},
                               "tokenTypes": [], "tokenModifiers": [], "formats": ["relative"]},
            "inlayHint": {},
            "documentLink": {"tooltipSupport": true},
        },
        "workspace": {"workspaceEdit": {"documentChanges": true}},
        "general": {"positionEncodings": ["utf-16"]},
    })
}

/// Client capabilities of a minimal editor: no snippets, plain text only, no code-action
/// literals, flat symbols, whole-line folding.
pub fn plain_client() -> Value {
    json!({
        "textDocument": {
            "completion": {"completionItem": {"snippetSupport": false}},
            "hover": {"contentFormat": ["plaintext"]},
            "foldingRange": {"lineFoldingOnly": true},
        },
    })
}

pub fn position(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

/// `{"textDocument": {"uri": uri}, "position": ...}`.
pub fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position(line, character)})
}

/// Applies LSP text edits (UTF-16 positions, non-overlapping) to `text`.
pub fn apply_edits(text: &str, edits: &Value) -> String {
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().unwrap() as usize;
        let character = pos["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let line_text = text[start..].split('\n').next().unwrap_or("");
        let mut units = 0;
        for (i, c) in line_text.char_indices() {
            if units >= character {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line_text.len()
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .as_array()
        .expect("an array of edits")
        .iter()
        .map(|edit| {
            (
                offset(&edit["range"]["start"]),
                offset(&edit["range"]["end"]),
                edit["newText"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
    let mut out = text.to_owned();
    for (start, end, new_text) in edits {
        out.replace_range(start..end, &new_text);
    }
    out
}

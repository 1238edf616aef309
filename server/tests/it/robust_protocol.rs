//! Protocol abuse against the real binary over stdio: whatever a client sends, the server answers
//! with a result or a JSON-RPC error, never panics, never exits unless told to, and its answers
//! describe the text it was last sent.
//!
//! Requests the server may not implement yet are accepted with `MethodNotFound`; what is never
//! accepted is silence, a dead process, or `InternalError` (which only a caught panic produces).
//!
//! The client here writes raw bytes (malformed messages are the point), so it is separate from
//! `support::LspClient`.

use std::{
    io::{BufReader, Read, Write},
    path::Path,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::{
        mpsc::{self, Receiver, RecvTimeoutError},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::support;

const TIMEOUT: Duration = Duration::from_secs(180);

const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;
const REQUEST_CANCELLED: i64 = -32800;

/// Every request a document can be asked, with positions/ranges filled from `position`.
fn document_requests(uri: &str, position: Value) -> Vec<(&'static str, Value)> {
    let doc = json!({"uri": uri});
    let range = json!({"start": position, "end": position});
    vec![
        ("textDocument/hover", json!({"textDocument": doc, "position": position})),
        ("textDocument/completion", json!({"textDocument": doc, "position": position})),
        ("textDocument/signatureHelp", json!({"textDocument": doc, "position": position})),
        ("textDocument/definition", json!({"textDocument": doc, "position": position})),
        ("textDocument/references", json!({"textDocument": doc, "position": position, "context": {"includeDeclaration": true}})),
        ("textDocument/documentHighlight", json!({"textDocument": doc, "position": position})),
        ("textDocument/prepareRename", json!({"textDocument": doc, "position": position})),
        ("textDocument/rename", json!({"textDocument": doc, "position": position, "newName": "RENAMED"})),
        ("textDocument/documentSymbol", json!({"textDocument": doc})),
        ("textDocument/foldingRange", json!({"textDocument": doc})),
        ("textDocument/selectionRange", json!({"textDocument": doc, "positions": [position]})),
        ("textDocument/formatting", json!({"textDocument": doc, "options": {"tabSize": 4, "insertSpaces": true}})),
        ("textDocument/rangeFormatting", json!({"textDocument": doc, "range": range, "options": {"tabSize": 4, "insertSpaces": true}})),
        ("textDocument/onTypeFormatting", json!({"textDocument": doc, "position": position, "ch": "\n", "options": {"tabSize": 4, "insertSpaces": true}})),
        ("textDocument/semanticTokens/full", json!({"textDocument": doc})),
        ("textDocument/semanticTokens/range", json!({"textDocument": doc, "range": range})),
        ("textDocument/inlayHint", json!({"textDocument": doc, "range": range})),
        ("textDocument/codeLens", json!({"textDocument": doc})),
        ("textDocument/codeAction", json!({"textDocument": doc, "range": range, "context": {"diagnostics": []}})),
        ("textDocument/documentLink", json!({"textDocument": doc})),
        ("textDocument/diagnostic", json!({"textDocument": doc})),
    ]
}

struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: i64,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
}

impl Server {
    fn spawn(env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"));
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).env("RUST_LOG", "error");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start kubefile-ls");
        let (sender, incoming) = mpsc::channel();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            while let Some(message) = support::read_message(&mut stdout) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().unwrap();
        let collected = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = child_stderr.read(&mut buffer) {
                collected.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Server { stdin: child.stdin.take(), child, incoming, stderr, next_id: 1, notifications: Vec::new() }
    }

    /// A server initialised as a client with pull diagnostics, UTF-16 positions and nothing else.
    fn started(env: &[(&str, &str)]) -> Server {
        let mut server = Server::spawn(env);
        let capabilities = json!({
            "textDocument": {"diagnostic": {}, "publishDiagnostics": {"versionSupport": true}},
            "general": {"positionEncodings": ["utf-16"]},
        });
        let response = server.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": capabilities}));
        assert!(response.get("result").is_some(), "initialize: {response}");
        server.notify("initialized", json!({}));
        server
    }

    fn write_raw(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        stdin.write_all(body).unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        self.write_raw(&serde_json::to_vec(message).unwrap());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The next message that is not a notification or a request from the server (which get
    /// answered with `null`).
    fn next_response(&mut self, deadline: Instant) -> Value {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(left) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => panic!("no response within {TIMEOUT:?}; stderr:\n{}", self.stderr()),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("kubefile-ls closed its stdout ({:?}); stderr:\n{}", self.child.try_wait(), self.stderr())
                }
            };
            match (message.get("method"), message.get("id")) {
                (Some(_), Some(id)) => {
                    let id = id.clone();
                    self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
                }
                (Some(_), None) => self.notifications.push(message),
                (None, _) => return message,
            }
        }
    }

    fn response(&mut self, id: i64) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.next_response(deadline);
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id)
    }

    fn open(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "kubefile", "version": version, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, start: (u32, u32), end: (u32, u32), text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": range(start, end), "text": text}],
            }),
        );
    }

    /// The pulled diagnostics of `uri` as (code, start line, start character, end line, end character).
    fn diagnostics(&mut self, uri: &str) -> Vec<(String, u64, u64, u64, u64)> {
        let response = self.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
        let items = response["result"]["items"].as_array().unwrap_or_else(|| panic!("a full report: {response}"));
        items
            .iter()
            .map(|d| {
                let r = &d["range"];
                let n = |v: &Value| v.as_u64().unwrap();
                let code = d["code"].as_str().unwrap_or_default().to_owned();
                (code, n(&r["start"]["line"]), n(&r["start"]["character"]), n(&r["end"]["line"]), n(&r["end"]["character"]))
            })
            .collect()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn assert_alive(&mut self) {
        assert!(self.child.try_wait().unwrap().is_none(), "kubefile-ls exited; stderr:\n{}", self.stderr());
        // A request only a live, serving server answers.
        let response = self.request("textDocument/diagnostic", json!({"textDocument": {"uri": "file:///nonexistent/Kubefile"}}));
        assert!(response.get("result").is_some() || response.get("error").is_some(), "{response}");
        assert!(!self.stderr().contains("panicked"), "kubefile-ls panicked:\n{}", self.stderr());
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc/PID/status");
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    fn shutdown_and_exit(mut self) -> ExitStatus {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null, "{response}");
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    fn wait_exit(&mut self) -> ExitStatus {
        support::close_and_wait(&mut self.child, &mut self.stdin, TIMEOUT)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": {"line": start.0, "character": start.1}, "end": {"line": end.0, "character": end.1}})
}

fn position(line: u64, character: u64) -> Value {
    json!({"line": line, "character": character})
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.to_str().expect("UTF-8 temp path"))
}

/// A build context on disk with a Kubefile, and its URI.
fn context_with_kubefile(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Kubefile");
    std::fs::write(&path, text).unwrap();
    let uri = file_uri(&path);
    (dir, uri)
}

fn error_code(response: &Value) -> Option<i64> {
    response.get("error").map(|error| error["code"].as_i64().expect("an error code"))
}

/// A result, or an error other than `InternalError`.
fn assert_answered(method: &str, response: &Value) {
    match error_code(response) {
        None => assert!(response.get("result").is_some(), "{method}: neither result nor error: {response}"),
        Some(INTERNAL_ERROR) => panic!("{method}: internal error (a caught panic): {response}"),
        Some(_) => {}
    }
}

/// An undecodable body (framed correctly, so the next message is still found) is answered with a
/// parse error or dropped; the server keeps serving.
#[test]
fn undecodable_messages_do_not_end_the_server() {
    let mut server = Server::started(&[]);
    for body in [&b"{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": "[..], b"\xff\xfe not utf-8", b"null", b"[1, 2, 3]", b"{}", b""] {
        server.write_raw(body);
        server.assert_alive();
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn unknown_methods_odd_ids_and_missing_params_are_answered() {
    let mut server = Server::started(&[]);
    assert_eq!(error_code(&server.request("kubefile-ls/noSuchMethod", json!({}))), Some(METHOD_NOT_FOUND));
    // A string id, no params.
    server.send(&json!({"jsonrpc": "2.0", "id": "text-id", "method": "textDocument/hover"}));
    let response = server.next_response(Instant::now() + TIMEOUT);
    assert_eq!(response["id"], "text-id");
    assert_answered("hover without params", &response);
    // Unknown notifications (`$/` ones included) are ignored.
    server.notify("$/kubefile-ls/unknown", json!({"x": 1}));
    server.notify("kubefile-ls/unknownNotification", json!(null));
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn wrong_param_types_are_invalid_params() {
    let mut server = Server::started(&[]);
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    server.open(&uri, 1, "FROM scratch\nCOPY . .\n");
    let wrong_params = [json!({"textDocument": 5, "position": "here"}), json!([1, 2]), json!("string")];
    for (method, _) in document_requests(&uri, position(0, 0)) {
        for params in &wrong_params {
            let response = server.request(method, params.clone());
            assert!(
                matches!(error_code(&response), Some(INVALID_PARAMS | METHOD_NOT_FOUND)),
                "{method} with {params}: {response}"
            );
        }
        // Negative and fractional numbers where positions are (methods without a position
        // ignore the extra field).
        let odd = json!({"textDocument": {"uri": uri}, "position": {"line": -1, "character": 1.5}, "range": 7});
        assert_answered(method, &server.request(method, odd));
    }
    // Notifications with wrong types cannot be answered; they must not take the server down.
    server.notify("textDocument/didOpen", json!({"textDocument": {"uri": 1, "text": null}}));
    server.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": "two"}, "contentChanges": [{"range": 3}]}));
    server.notify("textDocument/didClose", json!({"textDocument": []}));
    server.notify("workspace/didChangeConfiguration", json!({"settings": {"kubefile": {"severity": 12}}}));
    server.assert_alive();
    // The open document is unchanged by the malformed change.
    assert_eq!(server.diagnostics(&uri), Vec::new());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn positions_past_the_end_and_inside_surrogate_pairs_clamp() {
    let mut server = Server::started(&[]);
    let text = "FROM scratch\nLABEL a=\"😀\" b=${UNDEF}\n";
    let (_dir, uri) = context_with_kubefile(text);
    server.open(&uri, 1, text);
    let undefined = |diagnostics: &[(String, u64, u64, u64, u64)]| {
        diagnostics.iter().find(|d| d.0 == "undefined-variable").cloned().expect("an undefined-variable diagnostic")
    };
    // `😀` is UTF-16 columns 9 and 10 of line 1; `${UNDEF}` is columns 15..23.
    assert_eq!(undefined(&server.diagnostics(&uri)), ("undefined-variable".into(), 1, 15, 1, 23));

    // An insertion inside the surrogate pair lands before the emoji.
    server.change(&uri, 2, (1, 10), (1, 10), "x");
    assert_eq!(undefined(&server.diagnostics(&uri)), ("undefined-variable".into(), 1, 16, 1, 24));
    // A deletion ending inside the pair deletes nothing of it.
    server.change(&uri, 3, (1, 9), (1, 11), "");
    assert_eq!(undefined(&server.diagnostics(&uri)), ("undefined-variable".into(), 1, 15, 1, 23));
    // Past the end of a line: the end of the line; past the last line: the end of the text.
    server.change(&uri, 4, (1, 500), (1, 900), " c=${MORE}");
    server.change(&uri, 5, (99, 0), (120, 7), "FORM x\n");
    let diagnostics = server.diagnostics(&uri);
    assert!(diagnostics.contains(&("undefined-variable".into(), 1, 26, 1, 33)), "{diagnostics:?}");
    assert!(diagnostics.iter().any(|d| d.0 == "unknown-instruction" && d.1 == 2), "{diagnostics:?}");
    // A range whose end comes before its start.
    server.change(&uri, 6, (2, 4), (0, 0), "");

    // Every request at positions no text has: past the end, inside the surrogate pair, huge.
    for (line, character) in [(1, 10), (1, 9999), (2, 0), (99, 99), (u32::MAX as u64, u32::MAX as u64)] {
        for (method, params) in document_requests(&uri, position(line, character)) {
            let response = server.request(method, params);
            assert_answered(method, &response);
        }
    }
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn requests_for_unopened_documents_are_answered() {
    let mut server = Server::started(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Kubefile"), "FROM scratch\n").unwrap();
    let on_disk = file_uri(&dir.path().join("Kubefile"));
    for uri in [on_disk.as_str(), "file:///nonexistent/Kubefile", "untitled:Untitled-1", "not a uri"] {
        for (method, params) in document_requests(uri, position(0, 0)) {
            let response = server.request(method, params);
            assert_answered(method, &response);
        }
        // Changing or closing a document that is not open is ignored.
        server.change(uri, 2, (0, 0), (0, 0), "x");
        server.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    }
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn changes_with_stale_or_repeated_versions_still_apply_in_order() {
    let mut server = Server::started(&[]);
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    server.open(&uri, 10, "FROM scratch\n");
    // Versions going backwards, repeating, negative: the client is wrong, but the edits are what
    // the client's buffer holds, so they still apply in order.
    server.change(&uri, 5, (1, 0), (1, 0), "FORM a\n");
    server.change(&uri, 5, (2, 0), (2, 0), "FORM b\n");
    server.change(&uri, -3, (1, 0), (2, 0), "");
    let diagnostics = server.diagnostics(&uri);
    let unknown: Vec<u64> = diagnostics.iter().filter(|d| d.0 == "unknown-instruction").map(|d| d.1).collect();
    assert_eq!(unknown, vec![1], "only `FORM b`, now on line 1: {diagnostics:?}");
    // Opening it again replaces the document (and its version).
    server.open(&uri, 1, "FROM scratch\n");
    assert_eq!(server.diagnostics(&uri), Vec::new());
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn ten_thousand_changes_then_one_request_sees_the_final_text() {
    let mut server = Server::started(&[]);
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    server.open(&uri, 1, "FROM scratch\n");
    // Typing, one character per change, with a backspace every 7th change.
    let typed: String = (0..).map(|i| format!("EXPOSE {}\n", 8000 + i)).take(1300).collect();
    let mut chars = typed.chars();
    let (mut line, mut column) = (1u32, 0u32);
    let mut version = 1;
    // A character deleted by a backspace, typed again next.
    let mut retype = None;
    let mut last = ' ';
    let started = Instant::now();
    for n in 0..10_000 {
        version += 1;
        if n % 7 == 6 && column > 0 {
            server.change(&uri, version, (line, column - 1), (line, column), "");
            column -= 1;
            retype = Some(last);
            continue;
        }
        let c = retype.take().unwrap_or_else(|| chars.next().unwrap());
        last = c;
        server.change(&uri, version, (line, column), (line, column), &c.to_string());
        if c == '\n' {
            (line, column) = (line + 1, 0);
        } else {
            column += 1;
        }
    }
    // The last typed line is unfinished; end with a marker the diagnostics show.
    version += 1;
    server.change(&uri, version, (line, 0), (line, column), "FORM marker\n");
    let sent = started.elapsed();
    let diagnostics = server.diagnostics(&uri);
    eprintln!("10,000 changes sent in {sent:?}, diagnostics after {:?}", started.elapsed());
    let unknown: Vec<_> = diagnostics.iter().filter(|d| d.0 == "unknown-instruction").collect();
    assert_eq!(unknown.len(), 1, "{diagnostics:?}");
    assert_eq!(unknown[0].1, u64::from(line), "the marker is on the last line: {diagnostics:?}");
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// How the server serves a big document.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Served {
    /// Parsed and analysed: the edit at its end is diagnosed.
    Analysed,
    /// Over the size limit, kept as text only: no diagnostics, `null` for requests, and the
    /// user told so once.
    TextOnly,
}

/// RSS (KiB) of a server that opens a document of `kilobytes` (realistic instructions, edited
/// at its end), answers about it and about a small document, and closes it, `rounds` times:
/// (baseline, RSS while open, RSS after close) per round. After a close, RSS is read until it
/// is at most `limit(baseline, open)` (for up to [`TIMEOUT`]): an analysis of the closed text may
/// still be finishing, and its lane returns the memory only once it has dropped it.
fn big_document_rounds(
    kilobytes: usize,
    rounds: usize,
    served: Served,
    limit: fn(u64, u64) -> u64,
) -> (u64, Vec<(u64, u64)>) {
    let mut server = Server::started(&[]);
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    let (_small_dir, small) = context_with_kubefile("FROM scratch\n");
    server.open(&small, 1, "FROM scratch\nFORM x\n");
    server.diagnostics(&small);
    let baseline = server.rss_kib();
    let block = "FROM alpine AS build\nARG VERSION=1.2.3\nENV PATH=/opt/bin:$PATH \\\n    HOME=/root\nRUN apk add --no-cache curl && \\\n    echo \"${VERSION}\"\nCOPY --from=build /opt /opt\nLABEL sealos.io.type=\"rootfs\"\n# a comment\n";
    let mut text = String::from("FROM scratch\n");
    while text.len() < kilobytes * 1024 {
        text.push_str(block);
    }
    let lines = text.matches('\n').count() as u32;
    let mut measured = Vec::new();
    for round in 0..rounds {
        let started = Instant::now();
        server.open(&uri, 1, &text);
        server.change(&uri, 2, (lines, 0), (lines, 0), "FORM end\n");
        let small_diagnostics = server.diagnostics(&small);
        assert_eq!(small_diagnostics.len(), 1, "{small_diagnostics:?}");
        let response = server.request("textDocument/foldingRange", json!({"textDocument": {"uri": uri}}));
        assert_answered("foldingRange", &response);
        let diagnostics = server.diagnostics(&uri);
        match served {
            Served::Analysed => assert!(
                diagnostics.iter().any(|d| d.0 == "unknown-instruction" && d.1 == u64::from(lines)),
                "the edit at the end is seen"
            ),
            Served::TextOnly => {
                assert_eq!(response["result"], Value::Null, "no folding ranges for a text-only document");
                assert_eq!(diagnostics, [], "no diagnostics for a text-only document");
                let warnings = support::warnings_shown(&server.notifications);
                assert_eq!(warnings.len(), round + 1, "told once per opening: {warnings:?}");
                assert!(warnings[round].contains("maxDocumentSize"), "{warnings:?}");
            }
        }
        let open = server.rss_kib();
        server.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
        server.diagnostics(&small);
        let settle = Instant::now() + TIMEOUT;
        let mut after = server.rss_kib();
        while after > limit(baseline, open) && Instant::now() < settle {
            std::thread::sleep(Duration::from_millis(100));
            after = server.rss_kib();
        }
        eprintln!("{kilobytes} KB document, round {round}: served in {:?}; RSS {baseline} KiB → {open} KiB open → {after} KiB closed", started.elapsed());
        measured.push((open, after));
    }
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    (baseline, measured)
}

/// Opening and closing a big document again and again does not grow the server: each close
/// returns at least nine tenths of what the document took (its text, trees and diagnostics
/// are several times its size, so a leak of any of them shows; so does memory that the
/// allocator keeps where `malloc_trim` cannot reach it), and what stays does not pile up.
#[test]
fn big_documents_are_served_and_closing_them_leaks_nothing() {
    let limit = |baseline, open: u64| baseline + open.saturating_sub(baseline) / 10;
    let (baseline, rounds) = big_document_rounds(512, 3, Served::Analysed, limit);
    for &(open, after) in &rounds {
        assert!(after <= limit(baseline, open), "closing kept more than a tenth: baseline {baseline} KiB, {rounds:?}");
    }
    let (first, last) = (rounds[0], rounds[2]);
    assert!(
        last.1 <= first.1 + first.0.saturating_sub(baseline) / 4,
        "RSS grows with every open/close: baseline {baseline} KiB, {rounds:?}"
    );
}

/// The issue's acceptance: a 50 MB document (over the size limit: kept as text only) is answered
/// about, with the server serving the small document meanwhile, and after it is closed memory
/// returns to near the baseline (within a tenth of what the document took at its peak).
#[test]
fn a_50_mb_document_is_served_and_its_memory_returned_after_close() {
    let limit = |baseline, open: u64| baseline + open.saturating_sub(baseline) / 10;
    let (baseline, rounds) = big_document_rounds(50 * 1024, 1, Served::TextOnly, limit);
    let (open, after) = rounds[0];
    assert!(
        after <= limit(baseline, open),
        "RSS did not come back after closing the 50 MB document: {baseline} KiB before, {open} KiB open, {after} KiB after"
    );
}

/// A client that gets pushed diagnostics and also pulls them right after opening: the publisher
/// and the pull ask for the same revision at once, and it is analysed once (each analysis logs
/// one "analysed URI rREVISION" line at debug level).
#[test]
fn a_revision_pushed_and_pulled_at_once_is_analysed_once() {
    let mut server = Server::spawn(&[("RUST_LOG", "kubefile_ls::lsp::diagnostics=debug")]);
    let capabilities = json!({"textDocument": {"publishDiagnostics": {"versionSupport": true}}});
    let response = server.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": capabilities}));
    assert!(response.get("result").is_some(), "initialize: {response}");
    server.notify("initialized", json!({}));
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    server.open(&uri, 1, "FROM scratch\nFORM x\n");
    let pulled = server.diagnostics(&uri);
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    let published = |server: &Server| {
        server.notifications.iter().any(|message| {
            message["method"] == "textDocument/publishDiagnostics" && message["params"]["uri"] == uri.as_str()
        })
    };
    let deadline = Instant::now() + TIMEOUT;
    while !published(&server) {
        assert!(Instant::now() < deadline, "no diagnostics published within {TIMEOUT:?}");
        server.assert_alive();
    }
    // Both answers are out, so every analysis of revision 1 has logged (stderr is read by a
    // thread of its own: give it a moment).
    let analysed = format!("analysed {uri} r");
    std::thread::sleep(Duration::from_millis(200));
    let logged = server.stderr().matches(&analysed).count();
    assert_eq!(logged, 1, "stderr:\n{}", server.stderr());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn cancelled_requests_are_answered_with_request_cancelled_or_their_result() {
    let mut server = Server::started(&[]);
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    server.open(&uri, 1, "FROM scratch\nFORM x\n");
    let first = server.request("workspace/diagnostic", json!({"previousResultIds": []}));
    assert_answered("workspace/diagnostic", &first);
    // With every result id current, workspace/diagnostic waits for a change: a slow request.
    let previous: Vec<Value> = first["result"]["items"]
        .as_array()
        .map(|items| items.iter().map(|item| json!({"uri": item["uri"], "value": item["resultId"]})).collect())
        .unwrap_or_default();
    let id = server.send_request("workspace/diagnostic", json!({"previousResultIds": previous}));
    std::thread::sleep(Duration::from_millis(200));
    server.notify("$/cancelRequest", json!({"id": id}));
    let response = server.response(id);
    assert_answered("cancelled workspace/diagnostic", &response);
    if let Some(code) = error_code(&response) {
        assert_eq!(code, REQUEST_CANCELLED, "{response}");
    }
    // Cancelling what has been answered already, or was never sent, is ignored.
    server.notify("$/cancelRequest", json!({"id": id}));
    server.notify("$/cancelRequest", json!({"id": 123_456}));
    server.notify("$/cancelRequest", json!({"id": "nope"}));
    // Requests cancelled right after being sent, many at once.
    let ids: Vec<i64> = (0..50)
        .map(|_| {
            let id = server.send_request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
            server.notify("$/cancelRequest", json!({"id": id}));
            id
        })
        .collect();
    for id in ids {
        let response = server.response(id);
        assert_answered("cancelled textDocument/diagnostic", &response);
        assert!(matches!(error_code(&response), None | Some(REQUEST_CANCELLED)), "{response}");
    }
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn after_shutdown_requests_are_invalid_and_exit_ends_with_status_0() {
    let mut server = Server::started(&[]);
    assert_eq!(server.request("shutdown", Value::Null)["result"], Value::Null);
    for (method, params) in document_requests("file:///x/Kubefile", position(0, 0)) {
        let response = server.request(method, params);
        assert_eq!(error_code(&response), Some(INVALID_REQUEST), "{method} after shutdown: {response}");
    }
    assert_eq!(error_code(&server.request("shutdown", Value::Null)), Some(INVALID_REQUEST));
    // Notifications other than exit are dropped.
    server.open("file:///x/Kubefile", 1, "FROM scratch\n");
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn exit_codes_without_shutdown() {
    // `exit` without `shutdown`: 1.
    let mut server = Server::started(&[]);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit().code(), Some(1));
    // stdin closed without `shutdown` (the editor died): 1.
    let mut server = Server::started(&[]);
    assert_eq!(server.wait_exit().code(), Some(1));
    // stdin closed after `shutdown`: 0.
    let mut server = Server::started(&[]);
    server.request("shutdown", Value::Null);
    assert_eq!(server.wait_exit().code(), Some(0));
    // `exit` before `initialize`: 1.
    let mut server = Server::spawn(&[]);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit().code(), Some(1));
}

#[test]
fn requests_before_initialize_are_refused() {
    let mut server = Server::spawn(&[]);
    let response = server.request("textDocument/diagnostic", json!({"textDocument": {"uri": "file:///x/Kubefile"}}));
    assert_eq!(error_code(&response), Some(-32002), "ServerNotInitialized: {response}");
    server.notify("textDocument/didOpen", json!({"textDocument": {"uri": "file:///x/Kubefile", "languageId": "kubefile", "version": 1, "text": "FROM a\n"}}));
    let response = server.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": {}}));
    assert!(response.get("result").is_some(), "{response}");
    assert_eq!(error_code(&server.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": {}}))), Some(INVALID_REQUEST));
    server.notify("initialized", json!({}));
    server.assert_alive();
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// Panic safety: a panic in one handler (injected in debug builds, see `lsp/catch_panic.rs`)
/// becomes an `InternalError` answer and a log line; the server keeps serving, documents included.
#[test]
fn a_panicking_handler_is_answered_as_an_internal_error_and_the_server_keeps_serving() {
    let mut server = Server::started(&[("KUBEFILE_LS_INJECT_PANIC", "textDocument/codeAction")]);
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    server.open(&uri, 1, "FROM scratch\nFORM x\n");
    let params = json!({"textDocument": {"uri": uri}, "range": range((1, 0), (1, 0)), "context": {"diagnostics": []}});
    let response = server.request("textDocument/codeAction", params.clone());
    if cfg!(debug_assertions) {
        assert_eq!(error_code(&response), Some(INTERNAL_ERROR), "{response}");
        let message = response["error"]["message"].as_str().unwrap();
        assert!(message.contains("panic injected into textDocument/codeAction"), "{message}");
        // Logged, with the method.
        let deadline = Instant::now() + TIMEOUT;
        while !server.stderr().contains("the handler of textDocument/codeAction panicked") {
            assert!(Instant::now() < deadline, "no log line; stderr:\n{}", server.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
        // Again: the panic did not poison anything.
        assert_eq!(error_code(&server.request("textDocument/codeAction", params)), Some(INTERNAL_ERROR));
    } else {
        // Release builds contain no injection.
        assert_answered("textDocument/codeAction", &response);
        assert_eq!(error_code(&response), None, "{response}");
    }
    // Still serving: edits apply, other requests answer.
    server.change(&uri, 2, (1, 0), (2, 0), "");
    assert_eq!(server.diagnostics(&uri), Vec::new());
    assert!(server.child.try_wait().unwrap().is_none());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// A panic in a notification handler has no one to answer; it is logged and the server goes on.
#[test]
fn a_panicking_notification_handler_does_not_stop_the_server() {
    let mut server = Server::started(&[("KUBEFILE_LS_INJECT_PANIC", "textDocument/didSave")]);
    let (_dir, uri) = context_with_kubefile("FROM scratch\n");
    server.open(&uri, 1, "FROM scratch\nFORM x\n");
    server.notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}));
    server.change(&uri, 2, (1, 0), (2, 0), "");
    assert_eq!(server.diagnostics(&uri), Vec::new());
    if cfg!(debug_assertions) {
        assert!(server.stderr().contains("the handler of textDocument/didSave panicked"), "{}", server.stderr());
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

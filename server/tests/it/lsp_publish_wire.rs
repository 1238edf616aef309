//! The exact bytes of `textDocument/publishDiagnostics` from the real binary. The server writes
//! this notification by hand (`lsp::transport::encode_publish_diagnostics`), so these tests pin
//! the JSON itself: the fields, their order, and how user text in messages is escaped (quotes,
//! backslashes, control characters as `\t` or `\u0001`, non-ASCII as UTF-8).
//!
//! `support::LspClient` hands out parsed values, so this client keeps the raw bodies instead.

use std::{
    fs,
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc::{self, Receiver},
};

use serde_json::{json, Value};

use crate::support::{file_uri, TIMEOUT};

const DOCS: &str = "https://github.com/kubefile-ls/kubefile-ls/blob/main/docs/diagnostics.md";

/// Label keys and values with a quote, a backslash, non-ASCII (U+2028 is valid unescaped in JSON),
/// a tab and a U+0001, each quoted back in a message; and an earlier CMD, tagged unnecessary.
const KUBEFILE: &str = "FROM scratch\n\
                        LABEL \"a\\\"b\\\\c\"=1 caf\u{e9}\u{2028}=2\n\
                        LABEL sealos.io.type=\"app\tx\"\n\
                        COPY \u{1} .\n\
                        CMD [\"a\"]\n\
                        CMD [\"b\"]\n";

struct RawServer {
    child: Child,
    stdin: ChildStdin,
    bodies: Receiver<Vec<u8>>,
}

impl RawServer {
    /// A server with `KUBEFILE` written to `dir/Kubefile` and opened at `version`.
    fn with_kubefile_open(dir: &std::path::Path, version: i32) -> (RawServer, String) {
        let path = dir.join("Kubefile");
        fs::write(&path, KUBEFILE).unwrap();
        let uri = file_uri(&path);
        let mut server = RawServer::started();
        server.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "kubefile", "version": version, "text": KUBEFILE}}),
        );
        (server, uri)
    }

    /// A server initialised by a client that takes pushed diagnostics and nothing else.
    fn started() -> RawServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("RUST_LOG", "error")
            .spawn()
            .expect("start kubefile-ls");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, bodies) = mpsc::channel();
        std::thread::spawn(move || {
            while let Some(body) = read_body(&mut stdout) {
                if sender.send(body).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take().unwrap();
        let mut server = RawServer { child, stdin, bodies };
        server.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"processId": null, "rootUri": null, "capabilities": {}}}));
        server.next_message(|message| message["id"] == 1);
        server.send(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
        server
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(&body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The body of the next message that `wanted` accepts, as written; earlier ones are dropped.
    fn next_message(&mut self, wanted: impl Fn(&Value) -> bool) -> String {
        loop {
            let body = self.bodies.recv_timeout(TIMEOUT).expect("a message from kubefile-ls in time");
            let message: Value = serde_json::from_slice(&body).expect("a JSON message");
            if wanted(&message) {
                return String::from_utf8(body).expect("a UTF-8 message");
            }
        }
    }

    fn next_publication(&mut self) -> String {
        self.next_message(|message| message["method"] == "textDocument/publishDiagnostics")
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The next body framed with `Content-Length`, `None` at the end of the output.
fn read_body(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        match line.trim_end().split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("content-length") => length = value.trim().parse().ok(),
            Some(_) => {}
            None if length.is_some() => break,
            None => {}
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

#[test]
fn published_diagnostics_are_written_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, uri) = RawServer::with_kubefile_open(dir.path(), 7);
    let published = server.next_publication();
    let expected = [
        r#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"URI","diagnostics":["#,
        r#"{"range":{"start":{"line":1,"character":6},"end":{"line":1,"character":15}},"severity":2,"#,
        r#""code":"unknown-label","codeDescription":{"href":"DOCS#unknown-label"},"source":"kubefile-ls","#,
        r#""message":"sealos does not read the label `a\"b\\c`; use a namespaced key "#,
        r#"(e.g. `org.opencontainers.image.a\"b\\c`) or add it to `allowedLabels`"},"#,
        r#"{"range":{"start":{"line":1,"character":18},"end":{"line":1,"character":23}},"severity":2,"#,
        r#""code":"unknown-label","codeDescription":{"href":"DOCS#unknown-label"},"source":"kubefile-ls","#,
        "\"message\":\"sealos does not read the label `caf\u{e9}\u{2028}`; use a namespaced key ",
        "(e.g. `org.opencontainers.image.caf\u{e9}\u{2028}`) or add it to `allowedLabels`\"},",
        r#"{"range":{"start":{"line":2,"character":21},"end":{"line":2,"character":28}},"severity":1,"#,
        r#""code":"invalid-label-value","codeDescription":{"href":"DOCS#invalid-label-value"},"#,
        r#""source":"kubefile-ls","message":"`sealos.io.type` must be one of rootfs, application, patch, "#,
        r#"not `app\tx`: sealos will mount the image but never copy its files or run its CMD"},"#,
        r#"{"range":{"start":{"line":3,"character":5},"end":{"line":3,"character":6}},"severity":2,"#,
        r#""code":"copy-source-not-found","codeDescription":{"href":"DOCS#copy-source-not-found"},"#,
        r#""source":"kubefile-ls","message":"`\u0001` does not exist in the build context: "#,
        r#"buildah fails with \"no such file or directory\""},"#,
        r#"{"range":{"start":{"line":4,"character":0},"end":{"line":4,"character":9}},"severity":2,"#,
        r#""code":"duplicate-instruction","codeDescription":{"href":"DOCS#duplicate-instruction"},"#,
        r#""source":"kubefile-ls","message":"only the last CMD of a stage is kept (line 6); "#,
        r#"sealos runs a JSON CMD element by element, so put every command in one CMD array","tags":[1]}"#,
        r#"],"version":7}}"#,
    ]
    .concat()
    .replace("URI", &uri)
    .replace("DOCS", DOCS);
    assert_eq!(published, expected);
}

#[test]
fn closing_a_document_publishes_an_empty_list_without_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, uri) = RawServer::with_kubefile_open(dir.path(), 1);
    assert!(server.next_publication().contains(r#""code":"unknown-label""#));
    server.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    let expected =
        format!(r#"{{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{{"uri":"{uri}","diagnostics":[]}}}}"#);
    assert_eq!(server.next_publication(), expected);
}

#!/usr/bin/env node
// A scripted stand-in for kubefile-ls (stdio LSP) that advertises every feature the editor
// plugins use: diagnostics with the fixture's codes, completion, hover, a quick fix, settings via
// workspace/configuration, and the kubefile.images / kubefile.build commands with $/progress.
// scripts/test-editors.sh runs the Neovim test against it too, so the client side of features the
// real server does not offer yet (completion, hover, images, build) is exercised in the editor.
// It "analyses" by pattern matching the fixture's known mistakes: it is no Kubefile checker.
import path from "node:path";
import { fileURLToPath } from "node:url";

let buffer = Buffer.alloc(0);
let nextId = 1000;
const pending = new Map();
const documents = new Map(); // uri -> text
let settings = {};
let supportsConfiguration = false;

function send(msg) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...msg }));
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
}
const notify = (method, params) => send({ method, params });
const request = (method, params) =>
  new Promise((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    send({ id, method, params });
  });

process.stdin.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const header = buffer.indexOf("\r\n\r\n");
    if (header < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, header).toString())[1]);
    if (buffer.length < header + 4 + length) return;
    const msg = JSON.parse(buffer.subarray(header + 4, header + 4 + length).toString());
    buffer = buffer.subarray(header + 4 + length);
    handle(msg).catch((e) => process.stderr.write(`mock-server: ${e.stack}\n`));
  }
});
process.stdin.on("end", () => process.exit(0));

function rangeOf(text, needle, whole = false) {
  const lines = text.split("\n");
  for (let line = 0; line < lines.length; line++) {
    const col = lines[line].indexOf(needle);
    if (col >= 0) {
      return whole
        ? { start: { line, character: 0 }, end: { line, character: lines[line].length } }
        : { start: { line, character: col }, end: { line, character: col + needle.length } };
    }
  }
  return undefined;
}

function diagnostics(text) {
  const out = [];
  const add = (code, range, message) => {
    const level = settings?.severity?.[code];
    if (range && level !== "off") out.push({ range, severity: 2, code, source: "kubefile-ls (mock)", message });
  };
  if (!/^COPY registry registry/m.test(text)) add("missing-registry-copy", rangeOf(text, "FROM"), "1 image will be saved into registry/, but no COPY puts `registry` at the image root");
  add("unknown-label", /sealos\.io\.typ(?!e)/.test(text) ? rangeOf(text, "sealos.io.typ") : undefined, "sealos does not read the label `sealos.io.typ`: did you mean `sealos.io.type`?");
  add("undefined-variable", rangeOf(text, "$(NAMSPACE)"), "`$(NAMSPACE)` is not defined by an ENV of this image");
  add("split-exec-form", rangeOf(text, '["bash", "init.sh"]'), "sealos runs each element of ENTRYPOINT as a separate shell command");
  return out;
}

function publish(uri) {
  notify("textDocument/publishDiagnostics", { uri, diagnostics: diagnostics(documents.get(uri) ?? "") });
}

async function pullSettings() {
  if (!supportsConfiguration) return;
  const [section] = await request("workspace/configuration", { items: [{ section: "kubefile" }] });
  settings = section ?? {};
}

const fileOf = (uri) => fileURLToPath(uri);

async function handle(msg) {
  if (msg.id !== undefined && !msg.method) {
    pending.get(msg.id)?.(msg.result);
    pending.delete(msg.id);
    return;
  }
  const reply = (result) => send({ id: msg.id, result });
  const p = msg.params ?? {};
  switch (msg.method) {
    case "initialize":
      supportsConfiguration = !!p.capabilities?.workspace?.configuration;
      settings = p.initializationOptions?.kubefile ?? p.initializationOptions ?? {};
      return reply({
        capabilities: {
          textDocumentSync: { openClose: true, change: 1 },
          completionProvider: { triggerCharacters: ["="] },
          hoverProvider: true,
          codeActionProvider: { codeActionKinds: ["quickfix"] },
          executeCommandProvider: { commands: ["kubefile.build", "kubefile.images"] },
        },
        serverInfo: { name: "kubefile-ls-mock", version: "0" },
      });
    case "initialized":
      return pullSettings();
    case "shutdown":
      return reply(null);
    case "exit":
      return process.exit(0);
    case "workspace/didChangeConfiguration":
      if (supportsConfiguration) await pullSettings();
      else settings = p.settings?.kubefile ?? p.settings ?? {};
      for (const uri of documents.keys()) publish(uri);
      return;
    case "textDocument/didOpen":
      documents.set(p.textDocument.uri, p.textDocument.text);
      return publish(p.textDocument.uri);
    case "textDocument/didChange":
      documents.set(p.textDocument.uri, p.contentChanges.at(-1).text);
      return publish(p.textDocument.uri);
    case "textDocument/didClose":
      documents.delete(p.textDocument.uri);
      return;
    case "textDocument/completion": {
      const line = (documents.get(p.textDocument.uri) ?? "").split("\n")[p.position.line] ?? "";
      const before = line.slice(0, p.position.character);
      const items = /sealos\.io\.type=$/.test(before)
        ? ["rootfs", "application", "patch"].map((label) => ({ label, kind: 12, detail: "sealos.io.type" }))
        : ["FROM", "COPY", "LABEL"].map((label) => ({ label, kind: 14 }));
      return reply({ isIncomplete: false, items });
    }
    case "textDocument/hover":
      return reply({ contents: { kind: "markdown", value: "**FROM** starts a stage (mock hover)" } });
    case "textDocument/codeAction": {
      const uri = p.textDocument.uri;
      const range = rangeOf(documents.get(uri) ?? "", "sealos.io.typ");
      const wanted = (p.context?.diagnostics ?? []).some((d) => d.code === "unknown-label");
      if (!wanted || !range) return reply([]);
      return reply([{ title: "Change to `sealos.io.type`", kind: "quickfix", edit: { changes: { [uri]: [{ range, newText: "sealos.io.type" }] } } }]);
    }
    case "workspace/executeCommand": {
      const uri = p.arguments?.[0];
      const dir = path.dirname(fileOf(uri));
      if (p.command === "kubefile.images") {
        return reply([{ image: "docker.io/library/nginx:1.27", registry_path: "library/nginx:1.27", source: "manifest", file: path.join(dir, "manifests/deploy.yaml"), line: 16 }]);
      }
      if (p.command === "kubefile.build") {
        const token = p.workDoneToken;
        if (token !== undefined) {
          notify("$/progress", { token, value: { kind: "begin", title: "Building", cancellable: true, percentage: 0 } });
          notify("$/progress", { token, value: { kind: "report", message: "pull 1/1 docker.io/library/nginx:1.27", percentage: 50 } });
          notify("$/progress", { token, value: { kind: "end", message: "done" } });
        }
        const tag = p.arguments?.[1]?.tags?.[0] ?? "kubefile-mock:latest";
        return reply({ image: tag, digest: "sha256:" + "0".repeat(64) });
      }
      return send({ id: msg.id, error: { code: -32601, message: `unknown command ${p.command}` } });
    }
    default:
      if (msg.id !== undefined) send({ id: msg.id, error: { code: -32601, message: `mock: ${msg.method} not supported` } });
  }
}

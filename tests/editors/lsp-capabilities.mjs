// Prints the server's capabilities (the `initialize` result) as JSON, so the editor tests can tell
// which features to expect. Usage: node lsp-capabilities.mjs /path/to/kubefile-ls
// Exits 1 with the server's stderr when it does not answer initialize within 10 s.
import { spawn } from "node:child_process";

const server = spawn(process.argv[2], [], { stdio: ["pipe", "pipe", "pipe"] });
let stderr = "";
let buffer = Buffer.alloc(0);
server.stderr.on("data", (d) => (stderr += d));
server.stdin.on("error", () => {}); // EPIPE when the server died: reported by the exit handler
const send = (msg) => {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...msg }));
  server.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  server.stdin.write(body);
};
const fail = (why) => {
  console.error(`lsp-capabilities: ${why}${stderr ? `; server stderr: ${stderr.trim().slice(-500)}` : ""}`);
  server.kill("SIGKILL");
  process.exit(1);
};
const timer = setTimeout(() => fail("no initialize response within 10s"), 10000);
server.on("error", (e) => fail(`cannot start ${process.argv[2]}: ${e.message}`));
server.on("exit", (code) => setTimeout(() => fail(`the server exited (code ${code}) before answering initialize`), 100));
server.stdout.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const header = buffer.indexOf("\r\n\r\n");
    if (header < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, header).toString())?.[1]);
    if (buffer.length < header + 4 + length) return;
    const msg = JSON.parse(buffer.subarray(header + 4, header + 4 + length).toString());
    buffer = buffer.subarray(header + 4 + length);
    if (msg.id === 1) {
      clearTimeout(timer);
      server.removeAllListeners("exit");
      console.log(JSON.stringify(msg.result ?? { error: msg.error }));
      send({ id: 2, method: "shutdown" });
      send({ method: "exit" });
      setTimeout(() => server.kill("SIGKILL"), 2000).unref();
      server.on("exit", () => process.exit(0));
    }
  }
});
send({
  id: 1,
  method: "initialize",
  params: {
    processId: process.pid,
    rootUri: null,
    capabilities: {
      textDocument: {
        completion: { completionItem: { snippetSupport: true } },
        hover: { contentFormat: ["markdown", "plaintext"] },
        publishDiagnostics: {},
        codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix"] } } },
      },
      window: { workDoneProgress: true },
      workspace: { configuration: true },
    },
  },
});

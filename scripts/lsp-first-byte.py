#!/usr/bin/env python3
"""Server-side latency of whole-document LSP requests: request -> first byte and -> last byte of
the response, with nothing decoded in the timed path.

A client that decodes the answer before stopping its clock (lsp_probe.py) measures its own JSON
parser too: 2 MB of document symbols take Python ~50 ms to decode, whatever the server does. This
client writes a request, then reads the raw pipe: the first byte is when the server finished the
answer (it frames a response only once it is complete), the last byte adds the transfer. Bodies are
decoded only after both timestamps are taken (to match the response id and count errors).

For each method: one server process (fresh, unless --same-server) is started, initialized, opens the
file, waits for its first publishDiagnostics, then gets N timed requests. Reported per method:
first/last byte p50/p95 (ms), the response size, the server's CPU time per request (all its threads,
from /proc/PID/task/*/schedstat), the first request's first byte (cold: nothing cached for this
revision) and the server's peak RSS (VmHWM) before and after the method's requests.

Usage: scripts/lsp-first-byte.py --file FILE [-n N] [--method M ...] [--json OUT] [--dump DIR]
       [--same-server] [--position LINE:CHARACTER] -- SERVER-CMD [ARGS...]
--dump DIR writes each method's first response body to DIR (to compare answers across builds).
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

DEFAULT_METHODS = [
    "textDocument/semanticTokens/full",
    "textDocument/documentSymbol",
    "textDocument/foldingRange",
    "textDocument/formatting",
]


class Server:
    """A language server over pipes, read synchronously so that arrival times are the reads'."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.fd = self.proc.stdout.fileno()
        self.pending = b""
        self.pending_at = 0.0
        self.next_id = 1

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _fill(self):
        chunk = os.read(self.fd, 1 << 20)
        now = time.perf_counter()
        if not chunk:
            raise EOFError("the server closed its output")
        if not self.pending:
            self.pending_at = now
        self.pending += chunk
        return now

    def frame(self):
        """The next body, with when its first byte and its last byte were read."""
        while not self.pending:
            self._fill()
        first = self.pending_at
        while b"\r\n\r\n" not in self.pending:
            self._fill()
        header, rest = self.pending.split(b"\r\n\r\n", 1)
        length = next(int(line.split(b":", 1)[1]) for line in header.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        chunks, have, last = [rest], len(rest), self.pending_at
        while have < length:
            self.pending = b""
            last = self._fill()
            chunks.append(self.pending)
            have += len(self.pending)
        body = b"".join(chunks)
        self.pending, self.pending_at = body[length:], last
        return body[:length], first, last

    def request(self, method, params):
        """(response, first byte s, last byte s, body size) of one request."""
        request_id = self.next_id
        self.next_id += 1
        start = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        while True:
            body, first, last = self.frame()
            message = json.loads(body)
            if self.answer_server_request(message):
                continue
            if message.get("id") == request_id and "method" not in message:
                return message, first - start, last - start, len(body)

    def answer_server_request(self, message):
        """Answers requests from the server (configuration, registrations, progress) with null."""
        if "method" not in message or "id" not in message:
            return "method" in message
        items = (message.get("params") or {}).get("items")
        result = [None] * len(items) if message["method"] == "workspace/configuration" and items else None
        self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        return True

    def wait_for_diagnostics(self, uri):
        while True:
            message = json.loads(self.frame()[0])
            if self.answer_server_request(message) and message.get("method") == "textDocument/publishDiagnostics" \
                    and message["params"]["uri"] == uri:
                return

    def cpu_ns(self):
        total = 0
        for task in os.listdir("/proc/%d/task" % self.proc.pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (self.proc.pid, task)) as stat:
                    total += int(stat.read().split()[0])
            except OSError:
                pass
        return total

    def peak_rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

    def close(self):
        try:
            self.request("shutdown", None)
            self.send({"jsonrpc": "2.0", "method": "exit"})
            self.proc.wait(timeout=5)
        except (EOFError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def start(argv, path, text):
    server = Server(argv)
    root = os.path.dirname(path)
    root_uri = "file://" + urllib.parse.quote(root)
    uri = "file://" + urllib.parse.quote(path)
    server.request("initialize", {
        "processId": os.getpid(),
        "rootUri": root_uri,
        "workspaceFolders": [{"uri": root_uri, "name": os.path.basename(root) or "/"}],
        "capabilities": {
            "workspace": {"configuration": True, "workspaceFolders": True},
            "textDocument": {
                # as lsp_probe.py asks for them: documentation is fetched by completionItem/resolve
                "completion": {"completionItem": {
                    "snippetSupport": True, "documentationFormat": ["markdown", "plaintext"],
                    "resolveSupport": {"properties": ["documentation", "detail"]}}},
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
                "foldingRange": {"lineFoldingOnly": True},
                "semanticTokens": {"requests": {"full": {"delta": False}}, "tokenTypes": [],
                                   "tokenModifiers": [], "formats": ["relative"]},
                "publishDiagnostics": {"versionSupport": True},
            },
            "general": {"positionEncodings": ["utf-16"]},
        },
    })
    server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "dockerfile", "version": 1, "text": text}}})
    server.wait_for_diagnostics(uri)
    return server, uri


def percentile(values, p):
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def measure(server, uri, method, n, dump, position):
    params = {"textDocument": {"uri": uri}}
    if method == "textDocument/formatting":
        params["options"] = {"tabSize": 4, "insertSpaces": True}
    if position:
        line, character = position
        params["position"] = {"line": line, "character": character}
        if method == "textDocument/completion":
            params["context"] = {"triggerKind": 1}
    first, last, sizes, errors = [], [], [], 0
    rss_before = server.peak_rss_kib()
    cpu_before = server.cpu_ns()
    for i in range(n):
        message, to_first, to_last, size = server.request(method, params)
        errors += "error" in message
        first.append(to_first * 1000)
        last.append(to_last * 1000)
        sizes.append(size)
        if i == 0 and dump:
            with open(os.path.join(dump, method.replace("/", "_") + ".json"), "w") as out:
                json.dump(message.get("result", message.get("error")), out, sort_keys=True)
    cpu_ms = (server.cpu_ns() - cpu_before) / 1e6 / n
    return {
        "method": method, "n": n, "errors": errors, "bytes": statistics.median(sizes),
        "cold_first_byte_ms": first[0],
        "first_byte_p50_ms": statistics.median(first), "first_byte_p95_ms": percentile(first, 0.95),
        "last_byte_p50_ms": statistics.median(last), "last_byte_p95_ms": percentile(last, 0.95),
        "cpu_ms_per_request": cpu_ms, "peak_rss_before_kib": rss_before, "peak_rss_kib": server.peak_rss_kib(),
    }


def main(argv):
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", required=True)
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--method", action="append", help="repeatable; default: the four whole-document requests")
    parser.add_argument("--same-server", action="store_true", help="one server for all methods")
    parser.add_argument("--json")
    parser.add_argument("--dump")
    parser.add_argument("--position", help="LINE:CHARACTER (0-based) for positional requests such as completion")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]
    path = os.path.abspath(args.file)
    with open(path, encoding="utf-8", newline="") as source:
        text = source.read()
    position = tuple(int(part) for part in args.position.split(":")) if args.position else None
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    rows, server = [], None
    for method in args.method or DEFAULT_METHODS:
        if server is None:
            server, uri = start(command, path, text)
        rows.append(measure(server, uri, method, args.n, args.dump, position))
        if not args.same_server:
            server.close()
            server = None
    if server:
        server.close()
    print("| request | first byte p50 / p95 ms | last byte p50 / p95 ms | cold first byte ms "
          "| cpu ms / request | bytes | peak RSS before / after (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| %s | %.2f / %.2f | %.2f / %.2f | %.2f | %.2f | %d | %.1f / %.1f |%s" % (
            row["method"].split("/", 1)[1], row["first_byte_p50_ms"], row["first_byte_p95_ms"],
            row["last_byte_p50_ms"], row["last_byte_p95_ms"], row["cold_first_byte_ms"],
            row["cpu_ms_per_request"], row["bytes"], row["peak_rss_before_kib"] / 1024, row["peak_rss_kib"] / 1024,
            " %d errors" % row["errors"] if row["errors"] else ""))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Helpers shared by the cli, config, files, http, signals, disk and secrets cases.

Messages to feed a command, a pipeline file to run, an HTTP server that misbehaves on purpose
(port 0, in a thread), and the check that a secret appears nowhere.
"""
from __future__ import annotations

import http.server
import json
import os
import socket
import threading

from harness import Failed


def message(i: int, type_: str = "note.x", **body) -> dict:
    """A valid data message: what `runnel relay` and `runnel cat` pass on unchanged."""
    return {"id": f"m{i:05d}", "seq": i + 1, "type": type_, "ts": "2026-12-01T00:00:00Z",
            "attempt": 1, "meta": {}, "body": {"n": i, **body}}


def lines(n: int, type_: str = "note.x", start: int = 0) -> bytes:
    return b"".join(json.dumps(message(i, type_)).encode() + b"\n" for i in range(start, start + n))


def write_messages(ctx, name: str, n: int, type_: str = "note.x") -> str:
    return ctx.write(name, lines(n, type_))


def json_lines(data: bytes) -> list[dict]:
    """Every line of `data` as JSON; a line that is not JSON fails the case."""
    out = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            raise Failed(f"output line {number} is not JSON: {line[:200]!r}")
    return out


def ids(data: bytes) -> list[str]:
    return [m.get("id") for m in json_lines(data)]


def expect_ids(ctx, data: bytes, n: int, what: str = "output"):
    """All of m00000 … m{n-1} came through, each once: nothing lost, nothing doubled."""
    got = sorted(i for i in ids(data) if i and i.startswith("m"))
    wanted = [f"m{i:05d}" for i in range(n)]
    ctx.expect(got == wanted, f"{what}: {len(got)} messages, wanted {n} each once "
               f"(missing {sorted(set(wanted) - set(got))[:5]}, extra {len(got) - len(set(got))})")


def pages_dir(ctx, n: int = 3) -> str:
    for i in range(n):
        ctx.write(f"pages/p{i}.html", f"<html><head><title>Page {i}</title></head><body><article>"
                  f"<h1>Page {i}</h1><p>{'Words of the article. ' * 30}</p></article></body></html>")
    return ctx.path("pages")


def pipeline(ctx, name: str, body: str, file: str | None = None) -> str:
    """A pipeline file `file` (default NAME.toml) in the case's directory, with `body` below a
    [pipeline] name that no other case uses."""
    unique = f"{name}-{os.getpid()}-{os.path.basename(ctx.directory)[4:]}".replace("_", "-")
    path = ctx.write(file or f"{name}.toml", f'[pipeline]\nname = "{unique}"\n{body}')
    return path


def unique_name(ctx, base: str) -> str:
    return f"{base}-{os.path.basename(ctx.directory)[4:]}".replace("_", "-")


def expect_absent(ctx, secret: str, *outputs, where: str = "output"):
    for output in outputs:
        text = output.decode(errors="replace") if isinstance(output, bytes) else output
        if secret in text:
            at = text.index(secret)
            raise Failed(f"the secret appears in {where}: …{text[max(0, at - 120):at + 60]!r}")


def files_text(directory: str) -> bytes:
    """Every file under `directory`, concatenated (zstd files decompressed), for a leak search."""
    out = []
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            out.append(data)
            if data[:4] == b"\x28\xb5\x2f\xfd":
                try:
                    import subprocess
                    out.append(subprocess.run(["zstd", "-dcq"], input=data, capture_output=True).stdout)
                except OSError:
                    pass
    return b"\n".join(out)


# An HTTP server that misbehaves -----------------------------------------------------------

class Server:
    """A threaded HTTP server on 127.0.0.1, port 0; `routes` maps a path to a handler taking the
    request handler. Stops when the case's context closes (`ctx.processes` holds it)."""

    def __init__(self, routes: dict):
        self.routes = routes
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                route = outer.routes.get(self.path.split("?")[0])
                if route is None:
                    send(self, 404, b"", "text/plain")
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    pass

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that hangs up is what these cases provoke

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # the harness kills what is in ctx.processes; this quacks enough like a Popen for it
    def poll(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        return 0

    pid = -1
    stdin = stdout = stderr = None


def serve(ctx, routes: dict) -> Server:
    server = Server(routes)
    ctx.processes.append(server)
    return server


def send(handler, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
         headers: dict | None = None):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


PAGE = (b"<html><head><title>A page</title></head><body><article><h1>A page</h1>"
        + b"<p>Words of the article. </p>" * 20 + b"</article></body></html>")


def fetch_args(*extra) -> list[str]:
    """fetch on loopback, fast: no robots, no delay, no retries inside or outside the stage."""
    return ["fetch", "--allow-private", "--ignore-robots", "--delay", "0s", "--retries", "0",
            "--max-attempts", "1", "--read-timeout", "2s", "--timeout", "5s", *extra]


def fetched(ctx, out: bytes) -> dict:
    """url → (type, status name or HTTP status) for each record fetch wrote."""
    result = {}
    for m in json_lines(out):
        body = m.get("body", {})
        if m.get("type") == "error":
            # a line that never became a message keeps its text in `raw`
            url = ((body.get("original") or {}).get("body") or {}).get("url") or body.get("raw")
            result[url] = ("error", body.get("status"), body.get("message", ""))
        else:
            result[body.get("url")] = (m.get("type"), body.get("status"), "")
    return result

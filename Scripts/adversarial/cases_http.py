"""`runnel fetch` against an HTTP server (port 0, in a thread of the case) that misbehaves, and URL
lists with what a URL list should not hold. Each bad URL gets one error record with the status
code `runnel fetch --help` gives, and the stage goes on to the next URL: every case ends its list
with a good page, which must come through as page.fetched; fetch exits 0 (the failures are
records, not a failure of the stage)."""
import gzip
import socket
import threading
import time
import zlib

from harness import case
from cli_support import PAGE, fetch_args, fetched, send, serve

EXPECTED_TO_FAIL_UNTIL_FIXED: set = set()


def ok(handler):
    send(handler, 200, PAGE)


def fetch(ctx, server, paths, *extra, urls=None, timeout=30):
    """Fetches `paths` (then /ok) from `server`; returns url → (type, status, message)."""
    listed = list(urls or []) + [server.url(p) for p in paths] + [server.url("/ok")]
    r = ctx.run(fetch_args(*extra), input="\n".join(listed) + "\n", timeout=timeout)
    ctx.expect_exit(r, 0)
    result = fetched(ctx, r.stdout)
    ctx.expect(result.get(server.url("/ok"), (None,))[0] == "page.fetched",
               f"the good page after the bad ones did not come through: {result.get(server.url('/ok'))}; "
               f"stderr: {r.stderr.decode(errors='replace')[-300:]}")
    ctx.expect(len(result) == len(set(listed)), f"{len(result)} records for {len(set(listed))} URLs")
    return result


def expect_status(ctx, result, url, status, needle=None):
    got = result.get(url)
    ctx.expect(got is not None, f"no record for {url}")
    ctx.expect(got[0] == "error" and got[1] == status, f"{url}: {got[:2]}, wanted an error record {status}")
    if needle:
        ctx.expect_in(needle, got[2], f"the message for {url}")


def one(ctx, route, status, needle=None, *extra, path="/bad"):
    server = serve(ctx, {path: route, "/ok": ok})
    result = fetch(ctx, server, [path], *extra)
    expect_status(ctx, result, server.url(path), status, needle)
    return server, result


# Servers that do not answer, or answer too much --------------------------------------------

@case("http", "a server that never answers")
def never_answers(ctx):
    stop = threading.Event()
    ctx.processes.append(_Stopper(stop))
    one(ctx, lambda h: stop.wait(20), "UNAVAILABLE", "read timeout")


@case("http", "a slowloris body, a byte every 300 ms")
def slowloris(ctx):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        for _ in range(100):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.3)
    one(ctx, drip, "DEADLINE_EXCEEDED", None, "--timeout", "2s")


@case("http", "an endless body past --max-bytes")
def endless_body(ctx):
    def endless(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        for _ in range(10_000):
            h.wfile.write(b"<p>" + b"x" * 65536)
    one(ctx, endless, "OUT_OF_RANGE", "--max-bytes", "--max-bytes", "1MiB")


@case("http", "a Content-Length larger than --max-bytes")
def declared_too_big(ctx):
    def big(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(1 << 40))
        h.end_headers()
        h.wfile.write(b"<p>hi")
    one(ctx, big, "OUT_OF_RANGE", None, "--max-bytes", "1MiB")


@case("http", "a Content-Length longer than the body")
def short_body(ctx):
    def short(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"<html>abc")
        h.close_connection = True
    one(ctx, short, "UNAVAILABLE")


@case("http", "a Content-Length that is not a number")
def bad_content_length(ctx):
    def bad(h):
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: lots\r\n\r\n<p>x")
        h.close_connection = True
    one(ctx, bad, "UNAVAILABLE")


@case("http", "a chunk size that is not hex")
def bad_chunking(ctx):
    def bad(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"zz\r\nabc\r\n0\r\n\r\n")
        h.close_connection = True
    one(ctx, bad, "UNAVAILABLE", "chunk")


@case("http", "a response that is not HTTP at all")
def not_http(ctx):
    def garbage(h):
        h.wfile.write(b"hello, this is not HTTP\r\n\r\n")
        h.close_connection = True
    one(ctx, garbage, "UNAVAILABLE")


@case("http", "a connection closed before any response")
def closed_at_once(ctx):
    def close(h):
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)
    one(ctx, close, "UNAVAILABLE")


@case("http", "a header line of 1 MB")
def huge_header(ctx):
    def big(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("X-Big", "a" * (1 << 20))
        h.send_header("Content-Length", str(len(PAGE)))
        h.end_headers()
        h.wfile.write(PAGE)
    one(ctx, big, "UNAVAILABLE")


# Redirects ------------------------------------------------------------------------------------

def redirect(to, status=302):
    return lambda h: send(h, status, b"", headers={"Location": to})


@case("http", "a redirect loop")
def redirect_loop(ctx):
    one(ctx, redirect("/bad"), "FAILED_PRECONDITION", "redirect loop")


@case("http", "a redirect chain longer than --max-redirects")
def redirect_chain(ctx):
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(10)}
    routes["/ok"] = ok
    server = serve(ctx, routes)
    result = fetch(ctx, server, ["/r0"], "--max-redirects", "3")
    expect_status(ctx, result, server.url("/r0"), "FAILED_PRECONDITION")
    ctx.expect("/r5" not in server.requests, f"followed past --max-redirects: {server.requests}")


@case("http", "a redirect to file:///etc/passwd")
def redirect_to_file(ctx):
    one(ctx, redirect("file:///etc/passwd"), "FAILED_PRECONDITION", "file:///etc/passwd")


@case("http", "a redirect to ftp://")
def redirect_to_ftp(ctx):
    one(ctx, redirect("ftp://127.0.0.1/x"), "FAILED_PRECONDITION")


@case("http", "a redirect without a Location")
def redirect_without_location(ctx):
    one(ctx, lambda h: send(h, 302, b""), "FAILED_PRECONDITION")


@case("http", "a Location that is not a URL")
def redirect_garbage_location(ctx):
    one(ctx, redirect("http://[::1"), "FAILED_PRECONDITION")


# Bodies ----------------------------------------------------------------------------------------

@case("http", "a gzip bomb (20 MB of zeros in 20 KB)")
def gzip_bomb(ctx):
    body = gzip.compress(b"\0" * 20_000_000, compresslevel=1)
    one(ctx, lambda h: send(h, 200, body, headers={"Content-Encoding": "gzip"}), "OUT_OF_RANGE", None,
        "--max-bytes", "1MiB")


@case("http", "a gzip body that is corrupt")
def corrupt_gzip(ctx):
    one(ctx, lambda h: send(h, 200, b"\x1f\x8bnot gzip at all", headers={"Content-Encoding": "gzip"}),
        "DATA_LOSS", "corrupt")


@case("http", "a deflate body that is truncated")
def truncated_deflate(ctx):
    body = zlib.compress(PAGE)[:-20]
    one(ctx, lambda h: send(h, 200, body, headers={"Content-Encoding": "deflate"}), "DATA_LOSS")


@case("http", "an unknown Content-Encoding")
def unknown_encoding(ctx):
    one(ctx, lambda h: send(h, 200, b"\x00\x01\x02", headers={"Content-Encoding": "br-nonsense"}),
        "FAILED_PRECONDITION")


@case("http", "a charset nobody knows (detected instead)")
def unknown_charset(ctx):
    server = serve(ctx, {"/c": lambda h: send(h, 200, PAGE, "text/html; charset=x-nonsense-42"), "/ok": ok})
    result = fetch(ctx, server, ["/c"])
    ctx.expect(result[server.url("/c")][0] == "page.fetched", f"{result[server.url('/c')]}")


@case("http", "bytes invalid in the declared UTF-8")
def invalid_utf8(ctx):
    one(ctx, lambda h: send(h, 200, PAGE + b"\xff\xfe\xc3(", "text/html; charset=utf-8"), "DATA_LOSS")


@case("http", "application/json instead of HTML")
def json_type(ctx):
    one(ctx, lambda h: send(h, 200, b"{}", "application/json"), "FAILED_PRECONDITION", "application/json")


@case("http", "an image instead of HTML")
def image_type(ctx):
    one(ctx, lambda h: send(h, 200, b"\x89PNG\r\n\x1a\n", "image/png"), "FAILED_PRECONDITION", "image/png")


@case("http", "an empty 200 body")
def empty_body(ctx):
    server = serve(ctx, {"/e": lambda h: send(h, 200, b""), "/ok": ok})
    result = fetch(ctx, server, ["/e"])
    ctx.expect(result[server.url("/e")][0] == "page.fetched", f"{result[server.url('/e')]}")


# Statuses -------------------------------------------------------------------------------------

@case("http", "500 Internal Server Error")
def status_500(ctx):
    one(ctx, lambda h: send(h, 500, b"oops"), "UNAVAILABLE", "500")


@case("http", "503 with Retry-After, then 200 (retried inside the stage)")
def status_503_then_ok(ctx):
    calls = []

    def flaky(h):
        calls.append(1)
        if len(calls) == 1:
            send(h, 503, b"", headers={"Retry-After": "0"})
        else:
            ok(h)
    server = serve(ctx, {"/f": flaky, "/ok": ok})
    r = ctx.run(fetch_args("--retries", "1"), input=server.url("/f") + "\n")  # the last --retries wins
    ctx.expect_exit(r, 0)
    result = fetched(ctx, r.stdout)
    ctx.expect(result[server.url("/f")][0] == "page.fetched", f"{result}")
    ctx.expect(len(calls) == 2, f"{len(calls)} requests, wanted 2")


@case("http", "429 with a Retry-After past --max-retry-after")
def status_429_long(ctx):
    started = time.monotonic()
    one(ctx, lambda h: send(h, 429, b"", headers={"Retry-After": "3600"}), "RESOURCE_EXHAUSTED", None,
        "--retries", "1", "--max-retry-after", "1s")
    ctx.expect(time.monotonic() - started < 15, "fetch waited for the Retry-After")


@case("http", "429 with a Retry-After that is garbage")
def status_429_garbage(ctx):
    one(ctx, lambda h: send(h, 429, b"", headers={"Retry-After": "soon-ish"}), "RESOURCE_EXHAUSTED")


@case("http", "404 and 410")
def status_404_410(ctx):
    server = serve(ctx, {"/gone": lambda h: send(h, 410, b""), "/ok": ok})
    result = fetch(ctx, server, ["/missing", "/gone"])
    expect_status(ctx, result, server.url("/missing"), "NOT_FOUND")
    expect_status(ctx, result, server.url("/gone"), "NOT_FOUND")


@case("http", "401 and 403")
def status_401_403(ctx):
    server = serve(ctx, {"/a": lambda h: send(h, 401, b""), "/b": lambda h: send(h, 403, b""), "/ok": ok})
    result = fetch(ctx, server, ["/a", "/b"])
    expect_status(ctx, result, server.url("/a"), "PERMISSION_DENIED")
    expect_status(ctx, result, server.url("/b"), "PERMISSION_DENIED")


@case("http", "418 I'm a teapot (another 4xx)")
def status_418(ctx):
    one(ctx, lambda h: send(h, 418, b""), "FAILED_PRECONDITION")


@case("http", "robots.txt that disallows everything")
def robots_disallow(ctx):
    server = serve(ctx, {"/robots.txt": lambda h: send(h, 200, b"User-agent: *\nDisallow: /\n", "text/plain"),
                         "/a": ok, "/ok": ok})
    r = ctx.run(["fetch", "--allow-private", "--delay", "0s", "--retries", "0", "--max-attempts", "1"],
                input=server.url("/a") + "\n")
    ctx.expect_exit(r, 0)
    expect_status(ctx, fetched(ctx, r.stdout), server.url("/a"), "PERMISSION_DENIED", "robots")
    ctx.expect("/a" not in server.requests, "fetched a page robots.txt disallows")


@case("http", "robots.txt that is binary garbage (fetch goes on)")
def robots_garbage(ctx):
    server = serve(ctx, {"/robots.txt": lambda h: send(h, 200, bytes(range(256)) * 100, "text/plain"), "/ok": ok})
    r = ctx.run(["fetch", "--allow-private", "--delay", "0s", "--retries", "0", "--max-attempts", "1"],
                input=server.url("/ok") + "\n")
    ctx.expect_exit(r, 0)
    ctx.expect(fetched(ctx, r.stdout)[server.url("/ok")][0] == "page.fetched", "the page")


# TLS ------------------------------------------------------------------------------------------

@case("http", "https:// to a server that speaks plain HTTP")
def tls_to_plain(ctx):
    server = serve(ctx, {"/ok": ok})
    url = f"https://127.0.0.1:{server.port}/x"
    result = fetch(ctx, server, [], urls=[url])
    expect_status(ctx, result, url, "FAILED_PRECONDITION", "WRONG_VERSION_NUMBER")
    ctx.expect("NIOSSL" not in result[url][2], f"a Swift value in the message: {result[url][2]}")


@case("http", "https:// to a server that answers TLS with garbage")
def tls_garbage(ctx):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def serve_garbage():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"\x16\x03\x01\x00\x05garbagegarbage" * 10)
            conn.close()
    threading.Thread(target=serve_garbage, daemon=True).start()
    ctx.processes.append(_Closer(listener))
    server = serve(ctx, {"/ok": ok})
    url = f"https://127.0.0.1:{port}/x"
    result = fetch(ctx, server, [], urls=[url])
    expect_status(ctx, result, url, "FAILED_PRECONDITION", "TLS failed")


# URL lists ------------------------------------------------------------------------------------

@case("http", "private and loopback hosts without --allow-private, in every spelling")
def private_hosts(ctx):
    server = serve(ctx, {"/ok": ok})
    port = server.port
    urls = [f"http://127.0.0.1:{port}/a", f"http://localhost:{port}/b", f"http://[::1]:{port}/c",
            f"http://0x7f000001:{port}/d", f"http://2130706433:{port}/e", f"http://127.1:{port}/f",
            "http://10.0.0.1/g", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/h",
            f"http://0.0.0.0:{port}/i"]
    r = ctx.run(["fetch", "--ignore-robots", "--delay", "0s", "--retries", "0", "--max-attempts", "1",
                 "--connect-timeout", "1s"], input="\n".join(urls) + "\n")
    ctx.expect_exit(r, 0)
    result = fetched(ctx, r.stdout)
    for url in urls:
        got = result.get(url)
        ctx.expect(got is not None and got[1] == "PERMISSION_DENIED", f"{url}: {got}")
    ctx.expect(server.requests == [], f"the server was reached: {server.requests}")


@case("http", "file://, ftp://, gopher:// and javascript: URLs")
def other_schemes(ctx):
    server = serve(ctx, {"/ok": ok})
    ctx.write("secret.html", "<p>secret</p>")
    urls = ["file://" + ctx.path("secret.html"), "file:///proc/self/environ", "ftp://127.0.0.1/x",
            "gopher://127.0.0.1/x", "javascript:alert(1)"]
    result = fetch(ctx, server, [], urls=urls)
    for url in urls[:2]:
        expect_status(ctx, result, url, "PERMISSION_DENIED")
    for url in urls[2:]:
        expect_status(ctx, result, url, "INVALID_ARGUMENT")


@case("http", "lines that are not URLs")
def not_urls(ctx):
    server = serve(ctx, {"/ok": ok})
    r = ctx.run(fetch_args(), input="not a url\nhttp://\n://x\n" + server.url("/ok") + "\n")
    ctx.expect_exit(r, 0)
    records = [line for line in r.stdout.splitlines() if line.strip()]
    result = fetched(ctx, r.stdout)
    ctx.expect(result.get(server.url("/ok"), ("",))[0] == "page.fetched", "the good URL")
    ctx.expect(len(records) == 4, f"{len(records)} records for 4 lines")
    ctx.expect(r.stdout.count(b'"INVALID_ARGUMENT"') == 3, "three INVALID_ARGUMENT records")


@case("http", "a URL of 100 KB")
def long_url(ctx):
    server = serve(ctx, {"/ok": ok})
    url = server.url("/" + "a" * 100_000)
    result = fetch(ctx, server, [], urls=[url])
    ctx.expect(result[url][0] == "error", f"{result[url][:2]}")


@case("http", "an IDN host that does not resolve")
def idn_host(ctx):
    server = serve(ctx, {"/ok": ok})
    url = "http://bücher.invalid/x"
    result = fetch(ctx, server, [], urls=[url])
    expect_status(ctx, result, url, "NOT_FOUND")


@case("http", "blank lines between URLs")
def blank_lines(ctx):
    server = serve(ctx, {"/ok": ok})
    r = ctx.run(fetch_args(), input="\n\n\n" + server.url("/ok") + "\n\n")
    ctx.expect_exit(r, 0)
    ctx.expect(len(fetched(ctx, r.stdout)) == 1, "one record for one URL")


@case("http", "one URL a hundred times (fetched each time, nothing lost)")
def repeated(ctx):
    server = serve(ctx, {"/ok": ok})
    r = ctx.run(fetch_args("--per-host", "4"), input=(server.url("/ok") + "\n") * 100)
    ctx.expect_exit(r, 0)
    ctx.expect(r.stdout.count(b'"page.fetched"') == 100, "100 pages")


class _Stopper:
    """Lets a handler that waits go when the case ends."""
    pid = -1
    stdin = stdout = stderr = None

    def __init__(self, event):
        self.event = event

    def poll(self):
        self.event.set()
        return 0


class _Closer(_Stopper):
    def __init__(self, sock):
        self.sock = sock

    def poll(self):
        self.sock.close()
        return 0

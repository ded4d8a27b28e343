"""Fixtures of the wire, link and interop cases: a Runnel stage under test between Python peers
(wire.py), and what a case may ask of it.

    relay = Relay(ctx)                   # runnel relay --listen unix:… --to unix:(a Python receiver)
    tx = relay.connect()                 # a polite Python sender, hello done, credit granted
    c = relay.raw()                      # a bare connection: nothing said yet
    relay.expect_reported(ctx, "INVALID_ARGUMENT")   # an error record downstream, or its log line
    relay.expect_serving(ctx)            # alive, and the next good peer gets a message through
"""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import time

import zstandard

import wire
from wire import CODE, STATUS, CollectingReceiver, Conn, Listener, Sender, Timeout, envelope


class _Cleanup:
    """Lets the harness close Python peers when the case ends (it calls poll() on what it holds
    in ctx.processes, and kills only what still runs)."""
    stdin = stdout = stderr = None

    def __init__(self, close):
        self._close = close

    def poll(self):
        try:
            self._close()
        except Exception:
            pass
        return 0


def on_close(ctx, close):
    ctx.processes.append(_Cleanup(close))


def receiver(ctx, name="out", credit=256, tcp=False, key=None) -> CollectingReceiver:
    """A polite Python receiver listening on a Unix socket (or TCP on a port the OS picks)."""
    listener = Listener.tcp(key) if tcp else Listener.unix(ctx.socket_path(name))
    rx = CollectingReceiver(listener, credit=credit)
    on_close(ctx, rx.close)
    return rx


class Relay:
    """A Runnel stage (relay by default) listening on a Unix socket (or TCP), sending to a
    Python receiver (`self.rx`), its stderr in a file. `args` are extra flags."""

    def __init__(self, ctx, *args, command="relay", downstream=True, tcp=False, key=None,
                 handshake_timeout="3s", to=None, listen=None):
        self.ctx = ctx
        self.rx = receiver(ctx) if downstream and to is None else None
        self.key = key
        self.err_path = ctx.path(f"{command}.{len(ctx.processes)}.err")
        argv = [command, "--log-level", "debug", "--handshake-timeout", handshake_timeout]
        if tcp:
            argv += ["--listen", "tcp://127.0.0.1:0"]
        else:
            argv += ["--listen", listen or "unix:" + ctx.socket_path("in")]
        if to is not None:
            argv += ["--to", to]
        elif self.rx is not None:
            argv += ["--to", self.rx.listener.endpoint]
        env = {}
        if key is not None:
            env["RUNNEL_KEY"] = key.decode()
        elif tcp:
            argv.append("--insecure")
        self.process = ctx.spawn(argv + list(args), env=env, stdout=subprocess.DEVNULL,
                                 stderr=open(self.err_path, "wb"))
        if tcp:
            port = []
            def bound():
                m = re.search(r"listening on tcp://\S+ \(port (\d+)\)", self.stderr())
                if m:
                    port.append(m.group(1))
                return bool(m) or self.process.poll() is not None
            ctx.wait_for(bound, "the stage to log its port")
            ctx.expect(bool(port), f"the stage exited: {self.stderr()[-400:]}")
            self.endpoint = f"tcp://127.0.0.1:{port[0]}"
        else:
            self.endpoint = listen or "unix:" + ctx.socket_path("in")
            path = self.endpoint[len("unix:"):]
            ctx.wait_for(lambda: os.path.exists(path) or self.process.poll() is not None,
                         "the stage's socket")

    # Peers -------------------------------------------------------------------------------

    def raw(self, zstd=True) -> Conn:
        """A connection with nothing said yet; its first read is normally the stage's hello."""
        conn = Conn(wire.open_socket(self.endpoint, 10), zstd=zstd)
        on_close(self.ctx, conn.sock.close)
        return conn

    def connect(self, zstd=True, **hello) -> Sender:
        sender = Sender.connect(self.endpoint, zstd=zstd, key=self.key, timeout=10, **hello)
        on_close(self.ctx, sender.sock.close)
        return sender

    def opened(self, zstd=True, **hello) -> Sender:
        """A sender whose link is open and whose first credit has come."""
        sender = self.connect(zstd=zstd, **hello)
        while sender.credit == 0:
            sender.pump(10)
        return sender

    # What the stage did ------------------------------------------------------------------

    def stderr(self) -> str:
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def errors(self) -> list[dict]:
        """The error records that reached the downstream receiver."""
        return [m for m in (self.rx.messages if self.rx else []) if m.get("type") == "error"]

    def error_codes(self) -> list[int]:
        return [e.get("body", {}).get("code") for e in self.errors()]

    def expect_reported(self, ctx, code: str, timeout=10.0):
        """The stage reported `code`: an error record downstream with it, or a log line."""
        number = CODE[code]
        ctx.wait_for(lambda: number in self.error_codes() or code in self.stderr(),
                     f"{code} in an error record or on stderr", timeout)

    def expect_error_record(self, ctx, code: str, timeout=5.0) -> dict:
        number = CODE[code]
        ctx.wait_for(lambda: number in self.error_codes(), f"an error record with {code}"
                     f" (got {self.error_codes()}; stderr {self.stderr()[-300:]!r})", timeout)
        return next(e for e in self.errors() if e["body"]["code"] == number)

    def expect_serving(self, ctx, what="the stage"):
        """Alive, and a new polite sender gets one message through, acked end to end."""
        ctx.expect_alive(self.process, what)
        sender = self.opened()
        message = envelope("test.item", {"probe": True})
        outcome = sender.send_all([message], timeout=10)
        ctx.expect([m["id"] for m in outcome.acked] == [message["id"]],
                   f"the next peer's message was not acked: {outcome}")
        if self.rx is not None:
            self.rx.wait(lambda ms: any(m.get("id") == message["id"] for m in ms), 10)
        sender.close()


def expect_bye(ctx, conn: Conn, codes, timeout=5.0, what="the stage",
               answer_pings=True) -> dict:
    """Reads until the peer's bye, which must carry one of `codes` (names); and then the peer
    must close the connection."""
    codes = (codes,) if isinstance(codes, str) else tuple(codes)
    try:
        bye = conn.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "bye", timeout,
                              answer_pings=answer_pings)
    except wire.Closed:
        raise_failed(ctx, f"{what} closed the connection without a bye ({' or '.join(codes)}); "
                     f"read {conn.received!r}"[:600])
    except Timeout:
        raise_failed(ctx, f"no bye ({' or '.join(codes)}) from {what} within {timeout:g} s; "
                     f"read {conn.received!r}"[:600])
    code = bye.get("code", 0)
    ctx.expect(code in [CODE[c] for c in codes],
               f"bye {STATUS[code] if isinstance(code, int) and 0 <= code < 17 else code}, "
               f"wanted {' or '.join(codes)}: {bye}")
    ctx.expect(conn.closed_within(timeout), f"{what} sent bye but kept the connection open")
    return bye


def expect_open(ctx, conn: Conn, timeout=5.0) -> dict:
    """The stage answered with credit: the link is open."""
    try:
        return conn.read_until(lambda l: isinstance(l, dict) and l.get("ctl") in ("credit", "bye"),
                               timeout)
    except (wire.Closed, Timeout) as error:
        raise_failed(ctx, f"the link did not open ({error!r}); read {conn.received!r}"[:600])


def raise_failed(ctx, message):
    ctx.expect(False, message)


def read_log(pattern: str) -> list[dict]:
    """Every line of the zstd logs matching `pattern` (a dead-letter or capture log)."""
    out = []
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as f:
            data = f.read()
        decoder = wire.Decoder()
        try:
            lines = decoder.feed(data)
        except wire.WireError:
            continue
        out += [json.loads(line) for line in lines]
    return out


def write_messages(ctx, name: str, messages) -> str:
    return ctx.write(name, b"".join(wire.encode(m) for m in messages))


def messages(n: int, type_="test.item", **members) -> list[dict]:
    return [envelope(type_, {"i": i}, **members) for i in range(n)]


class Upstream:
    """`runnel send` (or any sending command) connecting to a Python listener: the link's
    receiver side is ours to misbehave on. `accept()` gives a Receiver per connection."""

    def __init__(self, ctx, msgs, *args, command=("send",), tcp=False, key=None, zstd=False):
        self.ctx = ctx
        self.listener = Listener.tcp(key) if tcp else Listener.unix(ctx.socket_path("up"))
        on_close(ctx, self.listener.close)
        self.messages = msgs
        path = write_messages(ctx, "input.jsonl", msgs)
        if zstd:
            with open(path, "rb") as f:
                data = zstandard.ZstdCompressor(write_checksum=True).compress(f.read())
            path = ctx.write("input.jsonl.zst", data)
        self.input = path
        env = {"RUNNEL_KEY": key.decode()} if key else {}
        self.err_path = ctx.path("send.err")
        argv = [*command, self.listener.endpoint, path, *args]
        self.process = ctx.spawn(argv, env=env, stdout=subprocess.PIPE,
                                 stderr=open(self.err_path, "wb"))

    def accept(self, credit=256, timeout=10.0, **hello) -> wire.Receiver:
        rx = self.listener.accept(timeout)
        on_close(self.ctx, rx.sock.close)
        if credit is not None:
            rx.handshake(credit=credit, timeout=timeout, **hello)
        return rx

    def stderr(self) -> str:
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def finish(self, timeout=20.0):
        code, out, _ = self.ctx.finish(self.process, timeout)
        return code, out, self.stderr()


def receive_all(rx: wire.Receiver, n: int, timeout=10.0, ack=True) -> list[dict]:
    """Reads n data messages, acking each batch as it comes (with credit back)."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        got.append(rx.next_data(max(0.0, deadline - time.monotonic())))
        if ack and not rx._queue:
            rx.ack(got[-1]["seq"], credit=len(got))
    if ack:
        rx.ack(got[-1]["seq"])
    return got


def no_data_within(rx: wire.Receiver, seconds: float) -> bool:
    """True when no data message arrives within `seconds` (control lines are answered)."""
    try:
        rx.next_data(seconds)
        return False
    except Timeout:
        return True

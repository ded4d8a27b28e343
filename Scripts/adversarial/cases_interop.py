"""Interop cases: the Python implementation of the wire protocol (wire.py, written from
PROTOCOL.md alone) on both ends of Runnel's links.

Python sender → runnel relay (listening) → Python receiver (listening), with zstd and plain,
on Unix sockets and on TCP with the HMAC proof of 7.2 on ports the OS picked; Python against
`runnel recv`, `send`, `call`, `health` and `describe`. Every message must arrive once, in order
on one link, and be acked end to end: the Python sender's ack comes only after the Python
receiver acked.
"""
import json
import os
import signal
import socket as sockets
import subprocess
import threading

import zstandard

import wire
from harness import case
from links import (Listener, Relay, Upstream, messages, on_close, receive_all, receiver,
                   write_messages)
from wire import ctl

EXPECTED_TO_FAIL_UNTIL_FIXED = set()

KEY = b"correct horse battery staple"


def through_relay(ctx, n, zstd=True, **relay_args):
    relay = Relay(ctx, **relay_args)
    tx = relay.opened(zstd=zstd)
    batch = messages(n, meta={"k": "v"}, trace="T")
    outcome = tx.send_all(batch, timeout=60)
    ctx.expect([m["id"] for m in outcome.acked] == [m["id"] for m in batch],
               f"acked {len(outcome.acked)} of {n}, nacked {len(outcome.nacked)}")
    got = relay.rx.wait_count(n, 30)
    ctx.expect([m["id"] for m in got] == [m["id"] for m in batch],
               "the receiver did not get every message once, in order")
    ctx.expect(all(g["body"] == m["body"] and g.get("meta") == m["meta"]
                   for g, m in zip(got, batch)), "a body or meta changed on the way")
    bye = tx.drain()
    ctx.expect(bye.get("code", 0) == 0, f"drain ended with {bye}")
    return relay, got


@case("interop", "python → relay → python, zstd, 500 messages")
def zstd_unix(ctx):
    relay, got = through_relay(ctx, 500)
    ctx.expect(sorted(m["seq"] for m in got) == list(range(1, 501)),
               "the relay's seqs on its output link are not 1…500")


@case("interop", "python → relay → python, plain lines, 300 messages")
def plain_unix(ctx):
    through_relay(ctx, 300, zstd=False)


@case("interop", "python → relay → python over tcp with keys, ports picked by the OS")
def tcp_keys(ctx):
    down = receiver(ctx, tcp=True, key=KEY)
    relay = Relay(ctx, tcp=True, key=KEY, to=down.listener.endpoint)
    relay.rx = down
    tx = relay.opened()
    batch = messages(200)
    outcome = tx.send_all(batch, timeout=60)
    ctx.expect(len(outcome.acked) == 200, f"acked {len(outcome.acked)} of 200")
    got = down.wait_count(200, 30)
    ctx.expect([m["id"] for m in got] == [m["id"] for m in batch], "not once each, in order")
    ctx.expect(all(h.get("nonce") for h in down.hellos), f"no nonce on TCP: {down.hellos}")


@case("interop", "acks are end to end: none before the python receiver acks")
def end_to_end(ctx):
    down = Listener.unix(ctx.socket_path("down"))
    on_close(ctx, down.close)
    relay = Relay(ctx, to=down.endpoint)
    tx = relay.opened()
    batch = messages(20)
    tx.send_batch(batch)
    rx = down.accept(10)
    on_close(ctx, rx.sock.close)
    rx.handshake(credit=256)
    got = [rx.next_data(10) for _ in range(20)]
    try:
        tx.wait_settled(0.7)
        ctx.expect(False, "acked upstream before any downstream ack")
    except wire.Timeout:
        ctx.expect(not tx.outcome.acked, f"{len(tx.outcome.acked)} acked before downstream acks")
    rx.ack(got[9]["seq"])
    tx.handle(tx.read_ctl("ack", 10))
    ctx.expect(len(tx.outcome.acked) <= 10, f"{len(tx.outcome.acked)} acked after 10 downstream")
    rx.ack(got[-1]["seq"])
    ctx.expect(len(tx.wait_settled(10).acked) == 20, "not all acked")


@case("interop", "two python senders at once: each one's order kept")
def two_senders(ctx):
    relay = Relay(ctx)
    batches, errors = [messages(200), messages(200)], []

    def send(batch):
        try:
            tx = relay.opened()
            if len(tx.send_all(batch, timeout=60).acked) != len(batch):
                errors.append("not all acked")
        except Exception as error:
            errors.append(repr(error))

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    ctx.expect(not errors, f"{errors}")
    got = [m["id"] for m in relay.rx.wait_count(400, 30)]
    for batch in batches:
        mine = [i for i in got if i in {m["id"] for m in batch}]
        ctx.expect(mine == [m["id"] for m in batch], "one sender's messages out of order")


@case("interop", "python → relay → relay → python, the middle stage killed mid-way")
def chain_with_break(ctx):
    end = receiver(ctx, "end")
    middle = "unix:" + ctx.socket_path("b")
    second = Relay(ctx, listen=middle, to=end.listener.endpoint)
    first = Relay(ctx, to=middle)
    tx = first.opened()
    batch = messages(100)
    tx.send_batch(batch[:50])
    end.wait_count(10, 20)
    second.process.kill()
    second.process.wait()
    if os.path.exists(ctx.socket_path("b")):
        os.unlink(ctx.socket_path("b"))
    second = Relay(ctx, listen=middle, to=end.listener.endpoint)
    tx.send_batch(batch[50:], timeout=30)
    outcome = tx.wait_settled(60)
    ctx.expect(len(outcome.acked) == 100, f"acked {len(outcome.acked)} of 100")
    wanted = {m["id"] for m in batch}
    end.wait(lambda ms: wanted <= {m.get("id") for m in ms}, 30)


@case("interop", "python → runnel recv: every message printed once")
def to_recv(ctx):
    path = ctx.socket_path("recv")
    recv = ctx.spawn(["recv", "--listen", "unix:" + path])
    ctx.wait_for_socket(path)
    tx = wire.Sender.connect("unix:" + path, timeout=10)
    on_close(ctx, tx.sock.close)
    batch = messages(100)
    ctx.expect(len(tx.send_all(batch, timeout=30).acked) == 100, "not all acked by recv")
    bye = tx.drain()
    ctx.expect(bye.get("code", 0) == 0, f"{bye}")
    recv.send_signal(signal.SIGTERM)
    code, out, err = ctx.finish(recv)
    ctx.expect(code == 0, f"recv exited {code}: {err[-300:]!r}")
    printed = [json.loads(l)["id"] for l in out.splitlines() if l.strip()]
    ctx.expect(printed == [m["id"] for m in batch], f"recv printed {len(printed)} of 100")


@case("interop", "runnel send → relay → python")
def send_through_relay(ctx):
    relay = Relay(ctx)
    batch = messages(100)
    path = write_messages(ctx, "in.jsonl", batch)
    r = ctx.run(["send", relay.endpoint, path], timeout=30)
    ctx.expect_exit(r, 0)
    got = relay.rx.wait_count(100, 20)
    ctx.expect([m["id"] for m in got] == [m["id"] for m in batch], "not once each, in order")


@case("interop", "runnel send → python, zstd file in, 200 messages")
def send_zstd_file(ctx):
    batch = messages(200)
    up = Upstream(ctx, batch, zstd=True)
    with open(up.input, "rb") as f:
        ctx.expect(f.read(4) == wire.ZSTD_MAGIC, "the input file is not zstd")
    rx = up.accept()
    got = receive_all(rx, 200)
    ctx.expect([m["id"] for m in got] == [m["id"] for m in batch], "not once each, in order")
    rx.ack(got[-1]["seq"])
    if not rx.drained:
        rx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "drain", 10)
    rx.bye(0)
    code, _, err = up.finish()
    ctx.expect(code == 0, f"send exited {code}: {err[-300:]}")


def python_stage(ctx, answer):
    """A Python listener that answers each connection with `answer(rx)` after the hellos."""
    listener = Listener.unix(ctx.socket_path("py"))
    on_close(ctx, listener.close)

    def serve():
        try:
            rx = listener.accept(15)
            rx.handshake(stage="py-stage", credit=16, accepts=["*"])
            answer(rx)
        except Exception:
            pass
    threading.Thread(target=serve, daemon=True).start()
    return listener.endpoint


@case("interop", "runnel health against a python stage: SERVING")
def health_python(ctx):
    def answer(rx):
        line = rx.read_ctl("health", 10)
        rx.send(ctl("health", status="SERVING"))
        rx.read_to_end(5)
    r = ctx.run(["health", python_stage(ctx, answer), "--timeout", "5s"], timeout=20)
    ctx.expect_exit(r, 0)
    ctx.expect_in("SERVING", r.stdout)


@case("interop", "runnel health against a python stage: NOT_SERVING exits 69")
def health_python_not_serving(ctx):
    def answer(rx):
        rx.read_ctl("health", 10)
        rx.send(ctl("health", status="NOT_SERVING"))
        rx.read_to_end(5)
    r = ctx.run(["health", python_stage(ctx, answer), "--timeout", "5s"], timeout=20)
    ctx.expect_exit(r, 69)
    ctx.expect_in("NOT_SERVING", r.stdout + r.stderr)


@case("interop", "runnel describe against a python stage")
def describe_python(ctx):
    service = {"name": "py-stage", "summary": "A stage in Python.", "accepts": ["x.in"],
               "emits": ["x.out"], "options": [], "version": 1}

    def answer(rx):
        rx.read_ctl("describe", 10)
        rx.send(ctl("describe", service=service))
        rx.read_to_end(5)
    r = ctx.run(["describe", python_stage(ctx, answer), "--timeout", "5s"], timeout=20)
    ctx.expect_exit(r, 0)
    ctx.expect_in("py-stage", r.stdout)
    ctx.expect_in("x.out", r.stdout)


@case("interop", "runnel call against a python stage in call mode")
def call_python(ctx):
    def answer(rx):
        ctx.expect(rx.peer_hello.get("mode") == "call", f"no call mode: {rx.peer_hello}")
        m = rx.next_data(10)
        reply = wire.envelope("x.out", {"echo": m["body"]}, parent=m["id"], trace=m["id"])
        rx.send(reply)                         # a reply has no seq (7.10)
        rx.ack(m["seq"])
        if not rx.drained:
            rx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "drain", 10)
        rx.bye(0)
        rx.close()
    path = write_messages(ctx, "call.jsonl", [wire.envelope("x.in", {"q": 42})])
    r = ctx.run(["call", python_stage(ctx, answer), path, "--timeout", "10s"], timeout=30)
    ctx.expect_exit(r, 0)
    out = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    ctx.expect(len(out) == 1 and out[0]["body"] == {"echo": {"q": 42}}, f"call printed {out}")


@case("interop", "python in call mode against relay: outputs come back on the link")
def call_mode_relay(ctx):
    relay = Relay(ctx)
    tx = relay.opened(mode="call")
    batch = messages(3)
    tx.send_batch(batch)
    replies = []
    while tx.unacked or len(replies) < 3:
        line = tx.read(10)
        if isinstance(line, dict) and "ctl" not in line:
            ctx.expect("seq" not in line, f"a reply carries a seq: {line}")
            replies.append(line)
        else:
            tx.handle(line)
    ctx.expect(sorted(r["body"]["i"] for r in replies) == [0, 1, 2],
               f"replies {replies}")
    ctx.expect(not relay.rx.messages, "in call mode the outputs went downstream too")


@case("interop", "wire.py gets every golden vector's outcome, fed whole and in pieces")
def vectors(ctx):
    # 12: an implementation conforms to the reading part of the spec when it gets every
    # vector's outcome; wire.py reads each whole, a byte at a time and in odd chunks
    here = os.path.dirname(os.path.abspath(__file__))
    protocol = os.path.join(here, "..", "..", "Protocol")
    with open(os.path.join(protocol, "vectors", "manifest.json")) as f:
        manifest = json.load(f)["vectors"]
    validator = wire.Validator(os.path.join(protocol, "schemas"))
    ctx.expect(len(validator._schemas) == 6, "the schemas of the six message types did not load "
               "(is jsonschema installed?)")
    wrong = []
    for v in manifest:
        with open(os.path.join(protocol, "vectors", v["file"]), "rb") as f:
            data = f.read()
        limits = v.get("limits", {})
        want = (v["valid"], [(e["code"], "line" if "line" in e else "offset",
                              e.get("line", e.get("offset"))) for e in v["errors"]])
        for chunk in (None, 1, 7, 64):
            got = wire.read_stream(data, chunk, limits.get("max_line", wire.MAX_LINE),
                                   limits.get("max_window_log", wire.MAX_WINDOW_LOG), validator)
            if got != want:
                wrong.append(f"{v['file']} in chunks of {chunk or 'all'}: {got}, wanted {want}")
                break
    ctx.expect(len(manifest) > 80, f"only {len(manifest)} vectors")
    ctx.expect(not wrong, "vectors read differently:\n" + "\n".join(wrong))


@case("interop", "a stage on a socket it inherited at fd 3 (LISTEN_FDS=1, 9.1)")
def inherited_socket(ctx):
    path = ctx.socket_path("inherited")
    listening = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
    listening.bind(path)
    listening.listen(16)
    down = receiver(ctx)

    def at_fd_3():
        os.dup2(listening.fileno(), 3)
        os.set_inheritable(3, True)
    process = subprocess.Popen(
        [ctx.runnel, "relay", "--listen", "fd:3", "--to", down.listener.endpoint],
        env={**os.environ, "LISTEN_FDS": "1", "NO_COLOR": "1"}, preexec_fn=at_fd_3,
        close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    ctx.processes.append(process)
    listening.close()   # the stage holds it now
    tx = wire.Sender.connect("unix:" + path, timeout=10)
    on_close(ctx, tx.sock.close)
    batch = messages(10)
    ctx.expect(len(tx.send_all(batch, timeout=20).acked) == 10, "not all acked")
    got = down.wait_count(10, 10)
    ctx.expect([m["id"] for m in got] == [m["id"] for m in batch], "not once each, in order")
    tx.drain()
    process.send_signal(signal.SIGTERM)
    code, _, _ = ctx.finish(process, 15)
    ctx.expect(code == 0, f"exit {code} after SIGTERM")
    ctx.expect(os.path.exists(path), "9.1: a stage never removes the socket it inherited")


# The order PROTOCOL.md lists members in, which Runnel writes (2.1, 4).
CONTROL_ORDER = {
    "hello": ["ctl", "versions", "stage", "accepts", "emits", "nonce", "proof", "mode"],
    "credit": ["ctl", "n"], "ack": ["ctl", "seq"], "nack": ["ctl", "seq", "code", "message"],
    "ping": ["ctl", "id"], "pong": ["ctl", "id"], "health": ["ctl", "status"],
    "describe": ["ctl", "service"], "drain": ["ctl"], "bye": ["ctl", "code", "message"],
}
ENVELOPE_ORDER = ["id", "seq", "type", "ts", "attempt", "deadline_ms", "trace", "parent", "meta",
                  "body", "v"]


def canonical_problems(raw_lines, validator, passed_on=()) -> list[str]:
    """What in these lines is not as 2.1 and 4 say Runnel writes. Bodies of messages passed
    on (ids in `passed_on`) may keep their bytes (3: a relay passes bodies as raw bytes)."""
    problems = []
    for raw in raw_lines:
        problem = validator.check(raw)
        if problem:
            problems.append(f"{problem}: {raw[:200]!r}")
            continue
        line = json.loads(raw)
        if json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() != raw:
            problems.append(f"not compact JSON: {raw[:200]!r}")
        if "ctl" in line:
            order = CONTROL_ORDER[line["ctl"]]
            keys = [k for k in line if k in order]
        else:
            order = ENVELOPE_ORDER
            keys = [k for k in line if k in order]
            if line["id"] not in passed_on and isinstance(line["body"], dict) \
                    and list(line["body"]) != sorted(line["body"]):
                problems.append(f"body members not sorted: {raw[:200]!r}")
            if line.get("meta") and list(line["meta"]) != sorted(line["meta"]):
                problems.append(f"meta keys not sorted: {raw[:200]!r}")
        if keys != [k for k in order if k in keys]:
            problems.append(f"members out of the documented order: {raw[:200]!r}")
    return problems


@case("interop", "what runnel writes on both sides of a link is valid, canonical, checksummed")
def canonical_writer(ctx):
    here = os.path.dirname(os.path.abspath(__file__))
    validator = wire.Validator(os.path.join(here, "..", "..", "Protocol", "schemas"))
    down = Listener.unix(ctx.socket_path("down"))
    on_close(ctx, down.close)
    relay = Relay(ctx, to=down.endpoint)
    tx = wire.Sender(wire.open_socket(relay.endpoint, 10))
    on_close(ctx, tx.sock.close)
    tx.raw_in, tx.raw_lines = bytearray(), []
    tx.say_hello(stage="py-send", emits=["*"])
    tx.read_hello(5)
    batch = [wire.envelope("test.item", {"zeta": 1, "alpha": {"y": 2, "b": 1}, "mu": "é"},
                           meta={"z": "1", "a": "2"}, trace="T", parent="P", deadline_ms=60000,
                           ts="2026-11-29 13:00:00+07:00")]
    tx.send_batch(batch)
    tx.send(b"{not json")   # a line the relay must turn into an error record of its own
    rx = down.accept(10)
    on_close(ctx, rx.sock.close)
    rx.raw_in, rx.raw_lines = bytearray(), []
    rx.handshake(credit=16)
    two = [rx.next_data(10), rx.next_data(10)]
    ctx.expect(sorted(m.get("type") for m in two) == ["error", "test.item"],
               f"wanted the message and an error record, got {two}")
    got = max(two, key=lambda m: m["seq"])
    rx.send(ctl("ping", id="p"), ctl("health"), ctl("describe"))
    for want in ("pong", "health", "describe"):
        rx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == want
                      and (want != "health" or "status" in l), 5, answer_pings=False)
    rx.ack(got["seq"])
    tx.wait_settled(10)
    tx.send(ctl("ping", id="q"))
    tx.read_ctl("pong", 5)
    ctx.expect(tx.drain().get("code", 0) == 0, "drain did not end with bye OK")
    ours = {m["id"] for m in batch}
    problems = canonical_problems(tx.raw_lines, validator, ours) + \
        canonical_problems(rx.raw_lines, validator, ours)
    for side, raw in (("upstream", tx.raw_in), ("downstream", rx.raw_in)):
        if raw[:4] == wire.ZSTD_MAGIC:
            if not zstandard.get_frame_parameters(bytes(raw)).has_checksum:
                problems.append(f"the {side} zstd frame has no content checksum (2.2)")
        else:
            problems.append(f"the {side} stream is not zstd: {bytes(raw[:20])!r}")
    ctx.expect(len(tx.raw_lines) >= 5 and len(rx.raw_lines) >= 5,
               f"read {len(tx.raw_lines)} and {len(rx.raw_lines)} lines")
    ctx.expect(not problems, "\n".join(problems))


@case("interop", "what runnel send writes is valid, canonical, checksummed")
def canonical_send(ctx):
    here = os.path.dirname(os.path.abspath(__file__))
    validator = wire.Validator(os.path.join(here, "..", "..", "Protocol", "schemas"))
    batch = [wire.envelope("url.requested", {"url": f"https://x.example/{i}"}, meta={"s": "t"})
             for i in range(5)]
    up = Upstream(ctx, batch)
    rx = up.accept(credit=None)
    rx.raw_in, rx.raw_lines = bytearray(), []
    rx.handshake(credit=2)
    got = receive_all(rx, 5)
    rx.send(ctl("ping", id="p"))
    rx.read_ctl("pong", 5)
    if not rx.drained:
        rx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "drain", 10)
    rx.bye(0)
    code, _, err = up.finish()
    ctx.expect(code == 0, f"send exited {code}: {err[-300:]}")
    problems = canonical_problems(rx.raw_lines, validator, {m["id"] for m in batch})
    if rx.raw_in[:4] != wire.ZSTD_MAGIC:
        problems.append(f"send's stream is not zstd: {bytes(rx.raw_in[:20])!r}")
    elif not zstandard.get_frame_parameters(bytes(rx.raw_in)).has_checksum:
        problems.append("send's zstd frame has no content checksum (2.2)")
    ctx.expect([m["id"] for m in got] == [m["id"] for m in batch], "not once each, in order")
    ctx.expect(not problems, "\n".join(problems))


@case("interop", "--describe prints what describe answers on the link")
def describe_flag(ctx):
    r = ctx.run(["relay", "--describe"])
    ctx.expect_exit(r, 0)
    printed = json.loads(r.stdout)
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(ctl("describe"))
    answer = tx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "describe"
                           and l.get("service"), 5)["service"]
    for member in ("name", "accepts", "emits", "version"):
        ctx.expect(printed.get(member) == answer.get(member),
                   f"{member}: --describe {printed.get(member)!r}, link {answer.get(member)!r}")


@case("interop", "a 2 MiB message through a relay, zstd both ways")
def big_message(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    text = "".join(chr(0x20 + (i * 7919) % 0x5E) for i in range(2 << 20))
    m = wire.envelope("test.item", {"text": text})
    outcome = tx.send_all([m], timeout=30)
    ctx.expect(len(outcome.acked) == 1, "not acked")
    got = relay.rx.wait_count(1, 30)[0]
    ctx.expect(got["body"]["text"] == text, "the 2 MiB body changed on the way")


@case("interop", "text beyond ASCII arrives unchanged, escaped or not")
def unicode_text(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    plain = wire.envelope("test.item", {"t": "Nga thông báo 😀 \u2028 \u0000 end"})
    escaped_line = (b'{"id":"esc","seq":2,"type":"test.item","body":{"t":"\\ud83d\\ude00 '
                    b'caf\\u00e9"}}')
    tx.send_batch([plain])
    tx.sent, tx.unacked[2] = 2, {"id": "esc", "seq": 2}
    tx.send(escaped_line)
    tx.wait_settled(10)
    got = {m["id"]: m for m in relay.rx.wait_count(2, 10)}
    ctx.expect(got[plain["id"]]["body"] == plain["body"], f"{got[plain['id']]['body']!r}")
    ctx.expect(got["esc"]["body"]["t"] == "😀 café", f"{got['esc']['body']!r}")


@case("interop", "credit one at a time: 50 messages in lockstep")
def lockstep(ctx):
    batch = messages(50)
    up = Upstream(ctx, batch)
    rx = up.accept(credit=1)
    got = []
    for _ in range(50):
        m = rx.next_data(10)
        got.append(m)
        rx.ack(m["seq"], credit=1)
    ctx.expect([m["id"] for m in got] == [m["id"] for m in batch], "not once each, in order")
    ctx.expect(rx.highest_seq == 50, f"seqs up to {rx.highest_seq}")
    if not rx.drained:
        rx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "drain", 10)
    rx.bye(0)
    code, _, err = up.finish()
    ctx.expect(code == 0, f"send exited {code}: {err[-300:]}")

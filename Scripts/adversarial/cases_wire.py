"""Wire cases: a misbehaving Python sender (wire.py) against the listening side of a Runnel stage.

Each case sends one kind of bad line, bad stream or bad handshake to `runnel relay` (a stage
that accepts any type) listening on a Unix socket, and asserts what PROTOCOL.md says: the bye
and its status code, the error record (the relay has no dead-letter log, so records go
downstream to a Python receiver, section 6), that the link stays open where the spec says so,
that the stage is still alive and the next good peer is served.
"""
import json
import os
import socket
import threading
import time

import zstandard

import wire
from harness import case
from links import Relay, envelope, expect_bye, expect_open, messages
from wire import CODE, ctl, hello

# Cases that assert what PROTOCOL.md says and that Runnel does not do yet: run.py reports them as
# known failures (never as passed), and as an error once one passes.
EXPECTED_TO_FAIL_UNTIL_FIXED: set[str] = set()


# Handshake (7.1) -------------------------------------------------------------------------------

def refused_before_hello(ctx, line, codes=("FAILED_PRECONDITION",)):
    relay = Relay(ctx)
    c = relay.raw()
    c.send(line)
    expect_bye(ctx, c, codes)
    relay.expect_serving(ctx)


@case("wire", "data line before hello")
def data_before_hello(ctx):
    refused_before_hello(ctx, envelope("test.item", {}, seq=1))


@case("wire", "credit before hello")
def credit_before_hello(ctx):
    refused_before_hello(ctx, ctl("credit", n=10))


@case("wire", "ack before hello")
def ack_before_hello(ctx):
    refused_before_hello(ctx, ctl("ack", seq=1))


@case("wire", "unknown control line before hello")
def unknown_ctl_before_hello(ctx):
    refused_before_hello(ctx, ctl("frobnicate"), ("FAILED_PRECONDITION", "UNIMPLEMENTED"))


@case("wire", "hello without versions or v")
def hello_without_versions(ctx):
    refused_before_hello(ctx, {"ctl": "hello", "stage": "py"},
                         ("INVALID_ARGUMENT", "FAILED_PRECONDITION"))


@case("wire", "hello without stage")
def hello_without_stage(ctx):
    refused_before_hello(ctx, {"ctl": "hello", "versions": [1]},
                         ("INVALID_ARGUMENT", "FAILED_PRECONDITION"))


@case("wire", "hello with versions of the wrong type")
def hello_versions_wrong_type(ctx):
    refused_before_hello(ctx, {"ctl": "hello", "versions": ["1"], "stage": "py"},
                         ("INVALID_ARGUMENT", "FAILED_PRECONDITION"))


@case("wire", "hello with only a future version")
def hello_future_version(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send(hello(versions=[2]))
    bye = expect_bye(ctx, c, "UNIMPLEMENTED")
    ctx.expect("1" in bye.get("message", "") and "2" in bye.get("message", ""),
               f"the bye should name both sides' versions: {bye}")
    relay.expect_serving(ctx)


@case("wire", "hello with an empty version list")
def hello_no_version(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send(hello(versions=[]))
    expect_bye(ctx, c, "UNIMPLEMENTED")
    relay.expect_serving(ctx)


@case("wire", "hello with versions 1 and future ones picks 1")
def hello_many_versions(ctx):
    relay = Relay(ctx)
    tx = relay.opened(versions=[7, 2, 1])
    outcome = tx.send_all(messages(3))
    ctx.expect(len(outcome.acked) == 3, f"acked {len(outcome.acked)} of 3")


@case("wire", "hello with v instead of versions")
def hello_with_v(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send({"ctl": "hello", "v": 1, "stage": "send"})
    line = expect_open(ctx, c)
    ctx.expect(line.get("ctl") == "credit", f"wanted credit, got {line}")


@case("wire", "hello with v 2 and versions [1]: versions wins")
def hello_v_and_versions(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send({"ctl": "hello", "v": 2, "versions": [1], "stage": "send"})
    line = expect_open(ctx, c)
    ctx.expect(line.get("ctl") == "credit", f"wanted credit, got {line}")


@case("wire", "hello with unknown members is accepted")
def hello_unknown_members(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send(hello(stage="py", emits=["*"], colour="blue", future={"x": [1, 2]}))
    line = expect_open(ctx, c)
    ctx.expect(line.get("ctl") == "credit", f"wanted credit, got {line}")


@case("wire", "the stage's hello comes without waiting for ours")
def hello_not_waiting(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    first = c.read(5)
    ctx.expect(isinstance(first, dict) and first.get("ctl") == "hello"
               and 1 in first.get("versions", []) and first.get("stage") == "relay",
               f"wanted the relay's hello first, got {first!r}")
    ctx.expect("*" in first.get("accepts", []), f"a relay accepts '*': {first}")


@case("wire", "no credit before our hello")
def no_credit_before_hello(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.read(5)  # its hello
    try:
        line = c.read(0.5)
        ctx.expect(False, f"the stage sent {line!r} before the link was open")
    except wire.Timeout:
        pass


@case("wire", "silent peer after connect gets bye DEADLINE_EXCEEDED")
def silent_after_connect(ctx):
    relay = Relay(ctx, handshake_timeout="1s")
    c = relay.raw()
    started = time.monotonic()
    expect_bye(ctx, c, "DEADLINE_EXCEEDED", timeout=5)
    ctx.expect(time.monotonic() - started < 4, "the handshake timeout (1 s) was not kept")
    relay.expect_serving(ctx)


@case("wire", "slowloris hello, one byte per 100 ms")
def slowloris(ctx):
    relay = Relay(ctx, handshake_timeout="1s")
    c = relay.raw(zstd=False)
    line = wire.encode(hello(stage="slow", emits=["*"]))
    started = time.monotonic()
    try:
        for byte in line[:-1]:
            c.send_raw(bytes([byte]))
            if time.monotonic() - started > 4:
                break
            try:
                got = c.read(0.1)
                if isinstance(got, dict) and got.get("ctl") == "bye":
                    ctx.expect(got.get("code") == CODE["DEADLINE_EXCEEDED"],
                               f"bye {got}, wanted DEADLINE_EXCEEDED")
                    break
            except wire.Timeout:
                pass
        else:
            ctx.expect(False, "the whole hello dribbled in without a bye")
    except (BrokenPipeError, ConnectionResetError, wire.Closed):
        ctx.expect(any(isinstance(l, dict) and l.get("ctl") == "bye"
                       and l.get("code") == CODE["DEADLINE_EXCEEDED"] for l in c.received),
                   f"closed without bye DEADLINE_EXCEEDED: {c.received}")
    ctx.expect(time.monotonic() - started < 3, "trickling bytes extended the handshake deadline")
    relay.expect_serving(ctx)


@case("wire", "peer closes right after hello")
def close_after_hello(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send(hello(stage="py", emits=["*"]))
    c.close()
    relay.expect_serving(ctx)


@case("wire", "bye instead of hello")
def bye_before_hello(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send(ctl("bye", code=CODE["CANCELLED"], message="changed my mind"))
    ctx.expect(c.closed_within(5), "the stage kept the link open after our bye")
    relay.expect_serving(ctx)


@case("wire", "silent peer after hello does not block others")
def silent_after_hello(ctx):
    relay = Relay(ctx)
    quiet = relay.opened()
    relay.expect_serving(ctx)
    ctx.expect(not quiet.eof, "the quiet link was closed")


@case("wire", "second hello after the link is open")
def second_hello(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(hello(stage="py-send", emits=["*"]))
    outcome = tx.send_all(messages(2))
    ctx.expect(len(outcome.acked) == 2, f"acked {len(outcome.acked)} of 2 after a second hello")


# Type checks (7.1 step 3) on a stage that accepts one type ------------------------------------

@case("wire", "emits a type the stage does not accept")
def type_mismatch(ctx):
    relay = Relay(ctx, command="enrich")
    c = relay.raw()
    c.send(hello(stage="fetch", emits=["page.fetched"]))
    bye = expect_bye(ctx, c, "FAILED_PRECONDITION")
    text = bye.get("message", "")
    ctx.expect("page.fetched" in text and "article.parsed" in text,
               f"the bye should name both sides' types: {bye}")
    ctx.expect_alive(relay.process)


@case("wire", "emits only error: the type check never fails over error")
def emits_error_only(ctx):
    relay = Relay(ctx, command="enrich")
    c = relay.raw()
    c.send(hello(stage="py", emits=["error"]))
    line = expect_open(ctx, c)
    ctx.expect(line.get("ctl") == "credit", f"wanted credit, got {line}")


@case("wire", "wrong message type for the stage: FAILED_PRECONDITION")
def wrong_type_nacked(ctx):
    relay = Relay(ctx, command="enrich")
    tx = relay.opened(emits=["*"])
    message = envelope("page.fetched", {"url": "https://x.example/", "status": 200, "html": ""})
    tx.send_batch([message])
    outcome = tx.wait_settled(10)
    # 7.5: nacked FAILED_PRECONDITION (not taken), or taken, failed and acked with the record
    if outcome.nacked:
        ctx.expect(outcome.nacked[0][1].get("code") == CODE["FAILED_PRECONDITION"],
                   f"nacked with {outcome.nacked[0][1]}, wanted FAILED_PRECONDITION")
    else:
        record = relay.expect_error_record(ctx, "FAILED_PRECONDITION")
        ctx.expect(record.get("parent") == message["id"], f"record's parent: {record}")


# Authentication on TCP (7.2) --------------------------------------------------------------------

KEY = b"correct horse battery staple"


def tcp_relay(ctx):
    return Relay(ctx, tcp=True, key=KEY)


@case("wire", "tcp with a key: the proof of 7.2 opens the link")
def tcp_proof(ctx):
    relay = tcp_relay(ctx)
    tx = relay.opened()
    ctx.expect(tx.peer_hello.get("nonce") and len(tx.peer_hello["nonce"]) == 32,
               f"the stage's hello has no 32-digit nonce: {tx.peer_hello}")
    outcome = tx.send_all(messages(5))
    ctx.expect(len(outcome.acked) == 5, f"acked {len(outcome.acked)} of 5")
    relay.rx.wait_count(5)


@case("wire", "tcp with a key: hello without nonce or proof")
def tcp_no_nonce(ctx):
    relay = tcp_relay(ctx)
    c = relay.raw()
    c.send(hello(stage="py", emits=["*"]))
    expect_bye(ctx, c, "UNAUTHENTICATED")
    relay.expect_serving(ctx)


@case("wire", "tcp with a key: a wrong proof")
def tcp_wrong_proof(ctx):
    relay = tcp_relay(ctx)
    c = relay.raw()
    peer = c.read(5)
    mine = hello(stage="py", emits=["*"], nonce=os.urandom(16).hex())
    c.send(mine)
    c.send({**mine, "proof": wire.make_proof(b"not the key at all, no", "connect", peer["nonce"])})
    expect_bye(ctx, c, "UNAUTHENTICATED")
    relay.expect_serving(ctx)


@case("wire", "tcp with a key: the stage's own proof reflected back")
def tcp_reflected_proof(ctx):
    relay = tcp_relay(ctx)
    c = relay.raw()
    peer = c.read(5)
    mine = hello(stage="py", emits=["*"], nonce=peer["nonce"])   # its own nonce back
    c.send(mine)
    theirs = c.read_until(lambda l: isinstance(l, dict) and l.get("proof"), 5)
    c.send({**mine, "proof": theirs["proof"]})   # an accept-role proof, replayed as ours
    expect_bye(ctx, c, "UNAUTHENTICATED")


@case("wire", "tcp with a key: data between hello and proof")
def tcp_data_before_proof(ctx):
    relay = tcp_relay(ctx)
    c = relay.raw()
    c.read(5)
    c.send(hello(stage="py", emits=["*"], nonce=os.urandom(16).hex()))
    c.send(envelope("test.item", {}, seq=1))
    expect_bye(ctx, c, "UNAUTHENTICATED")
    ctx.expect(not relay.rx.messages, "the unauthenticated message was passed on")


@case("wire", "tcp listener without a key or --insecure refuses to start")
def tcp_without_key(ctx):
    r = ctx.run(["relay", "--listen", "tcp://127.0.0.1:0", "--to", "-"], timeout=20)
    ctx.expect_exit(r, 78)


@case("wire", "unix socket with a key configured needs no nonce")
def unix_with_key(ctx):
    relay = Relay(ctx, key=KEY)
    tx = relay.opened()
    ctx.expect("nonce" not in tx.peer_hello, f"a nonce on a Unix socket: {tx.peer_hello}")
    ctx.expect(len(tx.send_all(messages(2)).acked) == 2, "not acked")


# Lines (2.1) ------------------------------------------------------------------------------------

def bad_line(ctx, line: bytes, code: str, *relay_args, zstd=True):
    """A bad line between two good messages: reported with `code`, skipped; the link stays
    open, both good messages arrive and are acked."""
    relay = Relay(ctx, *relay_args)
    tx = relay.opened(zstd=zstd)
    before, after = messages(2)
    tx.send_batch([before])
    tx.send(line)
    tx.send_batch([after])
    outcome = tx.wait_settled(10)
    ctx.expect([m["id"] for m in outcome.acked] == [before["id"], after["id"]],
               f"the good messages were not both acked: {outcome}")
    relay.expect_reported(ctx, code)
    got = relay.rx.wait(lambda ms: sum(m.get("type") == "test.item" for m in ms) >= 2)
    ctx.expect([m["id"] for m in got if m.get("type") == "test.item"]
               == [before["id"], after["id"]], "the good messages did not arrive in order")
    ctx.expect_alive(relay.process)
    return relay


for name, line, code in [
    ("a line that is not JSON", b"{nope", "INVALID_ARGUMENT"),
    ("a JSON array line", b"[1,2,3]", "INVALID_ARGUMENT"),
    ("a JSON string line", b'"hello"', "INVALID_ARGUMENT"),
    ("a line of spaces and tabs", b"  \t  ", "INVALID_ARGUMENT"),
    ("invalid UTF-8 in a string", b'{"id":"a\xff\xfe","type":"t","body":{}}', "INVALID_ARGUMENT"),
    ("an overlong UTF-8 form", b'{"id":"\xc0\xaf","type":"t","body":{}}', "INVALID_ARGUMENT"),
    ("an encoded surrogate", b'{"id":"\xed\xa0\x80","type":"t","body":{}}', "INVALID_ARGUMENT"),
    ("a code point above U+10FFFF", b'{"id":"\xf4\x90\x80\x80","type":"t","body":{}}',
     "INVALID_ARGUMENT"),
    ("a raw control character in a string", b'{"id":"a\x01b","type":"t","body":{}}',
     "INVALID_ARGUMENT"),
    ("a NUL byte in a line", b'{"id":"a","type":"t","body":{}}\x00', "INVALID_ARGUMENT"),
    ("objects nested 300 deep", b'{"id":"a","type":"t","body":' + b'{"a":' * 300 + b"1"
     + b"}" * 301, "INVALID_ARGUMENT"),
    ("trailing garbage after the object", b'{"id":"a","type":"t","body":{}} x',
     "INVALID_ARGUMENT"),
]:
    def make(line=line, code=code):
        return lambda ctx: bad_line(ctx, line, code)
    case("wire", name)(make())


@case("wire", "the same bad line on a plain (not zstd) link")
def bad_line_plain(ctx):
    bad_line(ctx, b"{nope", "INVALID_ARGUMENT", zstd=False)


@case("wire", "a line over --max-line")
def long_line(ctx):
    body = json.dumps({"id": "x", "type": "t", "body": {"pad": "a" * 2000}}).encode()
    bad_line(ctx, body, "RESOURCE_EXHAUSTED", "--max-line", "1KiB")


@case("wire", "a line of exactly --max-line is accepted")
def line_at_limit(ctx):
    relay = Relay(ctx, "--max-line", "1KiB")
    tx = relay.opened()
    message = envelope("test.item", {"pad": ""}, seq=1)
    size = len(wire.encode(message)) - 1
    message["body"]["pad"] = "a" * (1024 - size)
    ctx.expect(len(wire.encode(message)) == 1025, "the test line is not 1024 bytes")
    tx.sent, tx.unacked[1] = 1, message
    tx.send(message)
    outcome = tx.wait_settled(10)
    ctx.expect(len(outcome.acked) == 1, f"a line of exactly the limit was refused: {outcome}")


@case("wire", "objects nested exactly 256 deep are accepted")
def nested_256(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    body = 1
    for _ in range(255):   # the line's object is level 1, the body's objects 2…256
        body = {"a": body}
    m = envelope("test.item", body)
    ctx.expect(wire._depth(m) == 256, f"the test line is {wire._depth(m)} deep")
    outcome = tx.send_all([m])
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")
    ctx.expect(not relay.errors(), f"refused: {relay.errors()[:1]}")
    relay.rx.wait(lambda ms: any(x.get("id") == m["id"] for x in ms), 5)


@case("wire", "blank lines, lone CRs and CRLF are harmless")
def blank_lines(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    a, b = messages(2)
    tx.sent, tx.unacked = 2, {1: {**a, "seq": 1}, 2: {**b, "seq": 2}}
    tx.send(b"", b"\r", wire.encode({**a, "seq": 1})[:-1] + b"\r\n", b"",
            wire.encode({**b, "seq": 2}))
    outcome = tx.wait_settled(10)
    ctx.expect(len(outcome.acked) == 2, f"acked {len(outcome.acked)} of 2")
    ctx.expect(not relay.errors(), f"error records for blank lines: {relay.errors()}")


@case("wire", "members in any order with whitespace")
def any_order(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.sent, tx.unacked = 1, {1: {"id": "order-1", "seq": 1}}
    tx.send(b'{ "body" : { "i" : 1 } ,\t"seq":1, "type" : "test.item", "id" : "order-1" }')
    outcome = tx.wait_settled(10)
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")
    relay.rx.wait(lambda ms: any(m.get("id") == "order-1" for m in ms))


# zstd streams (2.2, 2.3, 2.5) -------------------------------------------------------------------

def stream_ending(ctx, data: bytes, code: str, first_good=True):
    """Good messages acked, then `data` on the same stream: bye with `code` and closed; the
    messages acked before are downstream; the stage serves the next peer."""
    relay = Relay(ctx)
    tx = relay.opened()
    good = messages(2)
    if first_good:
        outcome = tx.send_all(good)
        ctx.expect(len(outcome.acked) == 2, "the good messages were not acked")
    tx.send_raw(tx.encoder.end() + data)   # our frame ends; the bad bytes start the next one
    expect_bye(ctx, tx, code)
    if first_good:
        relay.rx.wait(lambda ms: {m["id"] for m in good} <= {m.get("id") for m in ms})
    relay.expect_serving(ctx)


def frame(lines, level=1, checksum=True, **params) -> bytes:
    """One whole zstd frame of `lines`. With params (window_log=…), the frame is streamed, so
    its header asks for the whole window rather than the content's size."""
    data = b"".join(wire.encode(l) for l in lines)
    if params:
        p = zstandard.ZstdCompressionParameters.from_level(level, write_checksum=checksum,
                                                          **params)
        c = zstandard.ZstdCompressor(compression_params=p).compressobj()
        return c.compress(data) + c.flush()
    return zstandard.ZstdCompressor(level=level, write_checksum=checksum).compress(data)


@case("wire", "plain text after a zstd frame")
def plain_after_zstd(ctx):
    stream_ending(ctx, b'{"id":"p","type":"t","body":{}}\n', "DATA_LOSS")


@case("wire", "garbage bytes where a zstd frame should start")
def zstd_garbage(ctx):
    stream_ending(ctx, b"\x00\x01garbage, not a frame" + os.urandom(64), "DATA_LOSS")


@case("wire", "a zstd frame with corrupt data")
def zstd_corrupt(ctx):
    data = bytearray(frame([envelope("test.item", {"pad": "x" * 400}, seq=3)] * 3, level=3))
    for i in range(8, len(data) - 8):
        data[i] ^= 0x5A
    stream_ending(ctx, bytes(data), "DATA_LOSS")


@case("wire", "a zstd frame with a wrong checksum")
def zstd_bad_checksum(ctx):
    data = bytearray(frame([envelope("test.item", {}, seq=3)]))
    data[-1] ^= 0xFF
    stream_ending(ctx, bytes(data), "DATA_LOSS")


@case("wire", "a stream that starts with a binary byte")
def binary_start(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send_raw(b"\x00\x01\x02\x03")
    expect_bye(ctx, c, "DATA_LOSS")
    relay.expect_serving(ctx)


@case("wire", "a frame asking for a window over the limit")
def huge_window(ctx):
    # window log 27 > the default limit 24 (2.4); a frame header that asks for it is refused
    data = frame([envelope("test.item", {"pad": "y" * 100}, seq=3)], window_log=27)
    header = zstandard.get_frame_parameters(data)
    ctx.expect(header.window_size > 2 ** 24, f"the test frame's window is {header.window_size}")
    stream_ending(ctx, data, "RESOURCE_EXHAUSTED")


@case("wire", "a frame whose window is exactly the limit is accepted")
def window_at_limit(ctx):
    relay = Relay(ctx, "--max-window-log", "20")
    tx = relay.opened()
    message = {**envelope("test.item", {"pad": "z" * 100}), "seq": 1}
    data = frame([message], window_log=20)
    ctx.expect(zstandard.get_frame_parameters(data).window_size == 2 ** 20,
               "the test frame's window is not 2^20")
    tx.sent, tx.unacked = 1, {1: message}
    tx.send_raw(tx.encoder.end())   # end our own frame first, so the next one starts cleanly
    tx.send_raw(data)
    outcome = tx.wait_settled(10)
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")


def peak_memory(pid) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmHWM")).split()[1]) * 1024


@case("wire", "a zstd bomb: one small frame, a 64 MiB line")
def zstd_bomb(ctx):
    relay = Relay(ctx, "--max-line", "1MiB")
    tx = relay.opened()
    tx.send_raw(tx.encoder.end())
    c = zstandard.ZstdCompressor(level=19).compressobj()
    bomb = c.compress(b'{"id":"bomb","type":"t","body":"') + b"".join(
        c.compress(b"a" * (1 << 20)) for _ in range(64)) + c.compress(b'"}\n')
    bomb += c.flush()
    ctx.expect(len(bomb) < 1 << 20, f"the bomb is {len(bomb)} bytes compressed")
    before = peak_memory(relay.process.pid)
    tx.send_raw(bomb)
    relay.expect_reported(ctx, "RESOURCE_EXHAUSTED", timeout=15)
    grown = peak_memory(relay.process.pid) - before
    ctx.expect(grown < 32 << 20,
               f"the stage's peak memory grew {grown >> 20} MiB for a 1 MiB line limit")
    relay.expect_serving(ctx)


@case("wire", "a skippable frame between two frames is ignored")
def skippable_frame(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    a, b = ({**m, "seq": i + 1} for i, m in enumerate(messages(2)))
    tx.sent, tx.unacked = 2, {1: a, 2: b}
    skippable = b"\x50\x2a\x4d\x18" + (12).to_bytes(4, "little") + b"writer: py  "
    tx.send_raw(tx.encoder.end() + frame([a]) + skippable + frame([b]))
    outcome = tx.wait_settled(10)
    ctx.expect(len(outcome.acked) == 2, f"acked {len(outcome.acked)} of 2 around a skippable frame")


@case("wire", "a line split across two frames is joined")
def line_across_frames(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    message = {**envelope("test.item", {"pad": "q" * 50}), "seq": 1}
    line = wire.encode(message)
    tx.sent, tx.unacked = 1, {1: message}
    tx.send_raw(tx.encoder.end() + zstandard.ZstdCompressor().compress(line[:30])
                + zstandard.ZstdCompressor().compress(line[30:]))
    outcome = tx.wait_settled(10)
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")


@case("wire", "a plain stream that begins with a byte-order mark")
def plain_bom(ctx):
    relay = Relay(ctx)
    c = relay.raw(zstd=False)
    c.send_raw(b"\xef\xbb\xbf")
    c.send(hello(stage="py", emits=["*"]))
    line = expect_open(ctx, c)
    ctx.expect(line.get("ctl") == "credit", f"wanted credit, got {line}")


@case("wire", "a whole link in plain text, no zstd")
def plain_link(ctx):
    relay = Relay(ctx)
    tx = relay.opened(zstd=False)
    ctx.expect(len(tx.send_all(messages(20)).acked) == 20, "not all acked on a plain link")
    bye = tx.drain()
    ctx.expect(bye.get("code") == 0, f"drain ended with {bye}")


@case("wire", "the last line without a line feed, then half-close: acked only if passed on")
def last_line_no_newline(ctx):
    # 7.7: a link's stream that ends without drain is a disconnect, so the relay may take the
    # unterminated last line or leave it to be sent again; what it must not do is ack it and
    # lose it. Five links, each ending so: a race would show.
    relay = Relay(ctx)
    acked = []
    for _ in range(5):
        tx = relay.opened(zstd=False)
        message = {**envelope("test.item", {"last": True}), "seq": 1}
        tx.sent, tx.unacked = 1, {1: message}
        tx.send_raw(wire.encode(message)[:-1])
        tx.shutdown_write()
        try:
            lines = tx.read_to_end(10)
        except wire.Timeout:
            lines = []  # still open: nothing more to learn from it
        if any(isinstance(l, dict) and l.get("ctl") == "ack" and l.get("seq", 0) >= 1 for l in lines):
            acked.append(message["id"])
        tx.close()
    if acked:
        relay.rx.wait(lambda ms: set(acked) <= {m.get("id") for m in ms}, 10)
    relay.expect_serving(ctx)


@case("wire", "a truncated zstd frame, then the connection closes")
def truncated_frame(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    good = messages(3)
    ctx.expect(len(tx.send_all(good).acked) == 3, "the good messages were not acked")
    torn = frame([envelope("test.item", {"pad": "t" * 300}, seq=4)])
    tx.send_raw(tx.encoder.end() + torn[: len(torn) // 2])
    tx.close(end_frame=False)
    relay.rx.wait(lambda ms: {m["id"] for m in good} <= {m.get("id") for m in ms})
    relay.expect_serving(ctx)


@case("wire", "a reset in the middle of a line")
def reset_mid_line(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send_all(messages(1))
    tx.send_raw(tx.encoder.batch([b'{"id":"half","type":"test.item","bo'])[:-2])
    tx.reset()
    relay.expect_serving(ctx)
    ctx.expect(not any(m.get("id") == "half" for m in relay.rx.messages), "half a line passed on")


@case("wire", "a link whose stream starts with a skippable frame")
def skippable_first(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send_raw(b"\x5e\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"meta")
    c.send(hello(stage="py", emits=["*"]))
    line = expect_open(ctx, c)
    ctx.expect(line.get("ctl") == "credit", f"wanted credit, got {line}")


@case("wire", "zstd bytes later in a plain stream are invalid lines, not a frame")
def zstd_in_plain(ctx):
    relay = Relay(ctx)
    tx = relay.opened(zstd=False)
    before, after = messages(2)
    tx.send_batch([before])
    tx.send_raw(frame([envelope("test.item", {"hidden": 1}, seq=99)]) + b"\n")
    tx.send_batch([after])
    outcome = tx.wait_settled(10)
    ctx.expect([m["id"] for m in outcome.acked] == [before["id"], after["id"]],
               f"the plain link did not go on (2.3: the choice holds for the whole stream): "
               f"{outcome}")
    relay.expect_reported(ctx, "INVALID_ARGUMENT")
    ctx.expect(not any(m.get("body") == {"hidden": 1} for m in relay.rx.messages),
               "a zstd frame inside a plain stream was decoded")


# Envelopes (3) --------------------------------------------------------------------------------

def bad_envelope(ctx, line: dict, code: str):
    """A data line with seq whose envelope is wrong: an error record with `code`, the seq acked
    all the same (the record is its outcome, 8.4), the good message after it delivered."""
    relay = Relay(ctx)
    tx = relay.opened()
    tx.sent += 1
    bad = {**line, "seq": tx.sent} if "seq" not in line else line
    tx.unacked[tx.sent] = bad
    tx.send(bad)
    good = envelope("test.item", {"after": True})
    tx.send_batch([good])
    outcome = tx.wait_settled(10)
    ctx.expect(good["id"] in [m.get("id") for m in outcome.acked],
               f"the good message after it was not acked: {outcome}")
    record = relay.expect_error_record(ctx, code)
    ctx.expect(record["body"].get("stage") == "relay" and record["body"].get("raw"),
               f"the error record lacks stage or raw: {record}")
    relay.rx.wait(lambda ms: any(m.get("id") == good["id"] for m in ms))


for name, line, code in [
    ("envelope without id", {"type": "test.item", "body": {}}, "INVALID_ARGUMENT"),
    ("envelope with an empty id", {"id": "", "type": "test.item", "body": {}}, "INVALID_ARGUMENT"),
    ("envelope with a numeric id", {"id": 7, "type": "test.item", "body": {}}, "INVALID_ARGUMENT"),
    ("envelope without type", {"id": "no-type", "body": {}}, "INVALID_ARGUMENT"),
    ("envelope with an empty type", {"id": "e-type", "type": "", "body": {}}, "INVALID_ARGUMENT"),
    ("envelope without body", {"id": "no-body", "type": "test.item"}, "INVALID_ARGUMENT"),
    ("envelope with attempt as a string",
     {"id": "as", "type": "test.item", "body": {}, "attempt": "1"}, "INVALID_ARGUMENT"),
    ("envelope with attempt 1.0", {"id": "a1.0", "type": "test.item", "body": {},
                                   "attempt": 1.0}, "INVALID_ARGUMENT"),
    ("envelope with deadline_ms as a string",
     {"id": "ds", "type": "test.item", "body": {}, "deadline_ms": "soon"}, "INVALID_ARGUMENT"),
    ("envelope with meta of a number",
     {"id": "mn", "type": "test.item", "body": {}, "meta": {"k": 1}}, "INVALID_ARGUMENT"),
    ("envelope with meta an array",
     {"id": "ma", "type": "test.item", "body": {}, "meta": ["k"]}, "INVALID_ARGUMENT"),
    ("envelope with trace a number",
     {"id": "tn", "type": "test.item", "body": {}, "trace": 5}, "INVALID_ARGUMENT"),
    ("envelope with v 2", {"id": "v2", "type": "test.item", "body": {}, "v": 2}, "UNIMPLEMENTED"),
    ("envelope with v 2 and no id: v is checked first",
     {"type": "test.item", "body": {}, "v": 2}, "UNIMPLEMENTED"),
    ("envelope with v as a string", {"id": "vs", "type": "test.item", "body": {}, "v": "1"},
     "INVALID_ARGUMENT"),
    ("envelope whose type is an array", {"id": "ta", "type": ["a"], "body": {}},
     "INVALID_ARGUMENT"),
    ("envelope with deadline_ms beyond 64 bits",
     {"id": "d64", "type": "test.item", "body": {}, "deadline_ms": 2 ** 63}, "INVALID_ARGUMENT"),
    ("envelope with a fractional deadline_ms",
     {"id": "dfr", "type": "test.item", "body": {}, "deadline_ms": 1500.5}, "INVALID_ARGUMENT"),
    ("envelope with attempt beyond 64 bits",
     {"id": "a64", "type": "test.item", "body": {}, "attempt": 2 ** 64}, "INVALID_ARGUMENT"),
]:
    def make(line=line, code=code):
        return lambda ctx: bad_envelope(ctx, line, code)
    case("wire", name)(make())


def bad_seq(ctx, raw_seq: bytes):
    """A data line whose seq is not an integer ≥ 0 in 64 bits: INVALID_ARGUMENT; its seq never
    learned, it does not hold acks back (7.4)."""
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(b'{"id":"bad-seq","seq":' + raw_seq + b',"type":"test.item","body":{}}')
    outcome = tx.send_all(messages(2))
    ctx.expect(len(outcome.acked) == 2, f"the messages after it were not acked: {outcome}")
    relay.expect_reported(ctx, "INVALID_ARGUMENT")
    ctx.expect(not any(m.get("id") == "bad-seq" for m in relay.rx.messages
                       if m.get("type") != "error"), "the bad line was passed on")


for name, raw in [("negative seq", b"-1"), ("fractional seq", b"1.5"), ("seq 1.0", b"1.0"),
                  ("seq 1e0", b"1e0"), ("seq beyond 64 bits", b"18446744073709551617"),
                  ("seq as a string", b'"1"')]:
    def make(raw=raw):
        return lambda ctx: bad_seq(ctx, raw)
    case("wire", name)(make())


@case("wire", "deadline already passed: DEADLINE_EXCEEDED, acked, not passed on")
def deadline_passed(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    late = envelope("test.item", {"late": True}, deadline_ms=0)
    outcome = tx.send_all([late])
    ctx.expect(len(outcome.acked) == 1, f"the expired message was not acked: {outcome}")
    record = relay.expect_error_record(ctx, "DEADLINE_EXCEEDED")
    ctx.expect(record.get("parent") == late["id"] and "deadline_ms" not in record,
               f"the error record should have parent = the input and no deadline: {record}")
    ctx.expect(not any(m.get("id") == late["id"] for m in relay.rx.messages),
               "the expired message was passed on")


@case("wire", "attempt 0 to a stage that checks envelopes fully (step 5)")
def attempt_zero(ctx):
    relay = Relay(ctx, command="enrich")
    tx = relay.opened(emits=["article.parsed"])
    bad = envelope("article.parsed", {"url": "https://x.example/a", "title": "T", "text": "x"},
                   attempt=0)
    outcome = tx.send_all([bad])
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")
    record = relay.expect_error_record(ctx, "INVALID_ARGUMENT")
    ctx.expect("attempt" in record["body"].get("message", ""), f"{record}")


@case("wire", "a bad ts to a stage that checks envelopes fully (step 5)")
def bad_ts(ctx):
    relay = Relay(ctx, command="enrich")
    tx = relay.opened(emits=["article.parsed"])
    bad = envelope("article.parsed", {"url": "https://x.example/a", "title": "T", "text": "x"},
                   ts="yesterday at noon")
    outcome = tx.send_all([bad])
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")
    relay.expect_error_record(ctx, "INVALID_ARGUMENT")


@case("wire", "a body against its type's schema (step 6)")
def bad_body(ctx):
    relay = Relay(ctx, command="enrich")
    tx = relay.opened(emits=["article.parsed"])
    bad = envelope("article.parsed", {"url": "https://x.example/a", "text": "no title"})
    outcome = tx.send_all([bad])
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")
    record = relay.expect_error_record(ctx, "INVALID_ARGUMENT")
    ctx.expect(record.get("parent") == bad["id"], f"the record's parent is not the input: {record}")


@case("wire", "a negative deadline_ms is expired too")
def deadline_negative(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    outcome = tx.send_all([envelope("test.item", {}, deadline_ms=-5000)])
    ctx.expect(len(outcome.acked) == 1, "not acked")
    relay.expect_error_record(ctx, "DEADLINE_EXCEEDED")


@case("wire", "a relay keeps id, trace, parent, meta and body")
def relay_keeps_lineage(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    m = envelope("test.item", {"z": 1, "a": [1, "é"]}, trace="T-1", parent="P-1",
                 meta={"source": "py", "b": "2"}, deadline_ms=600000, attempt=2)
    tx.send_all([m])
    got = relay.rx.wait(lambda ms: ms)[0]
    for member in ("id", "trace", "parent", "meta", "body", "type", "attempt"):
        ctx.expect(got.get(member) == m[member], f"{member} changed: {m[member]!r} → "
                   f"{got.get(member)!r}")
    ctx.expect(isinstance(got.get("deadline_ms"), int) and 0 < got["deadline_ms"] <= 600000,
               f"deadline_ms should be what is left: {got.get('deadline_ms')}")


@case("wire", "a relay keeps id, trace, meta and body; members it does not know are not kept")
def relay_keeps_known(ctx):
    # 8.2: a message passed on keeps its id, trace, parent, meta and body; members outside
    # section 3 are not kept (what must travel goes in meta).
    relay = Relay(ctx)
    tx = relay.opened()
    m = envelope("test.item", {"k": [1]}, priority="high", meta={"x-future": "1"})
    tx.send_all([m])
    got = relay.rx.wait(lambda ms: ms)[0]
    ctx.expect(got.get("id") == m["id"] and got.get("body") == {"k": [1]} and got.get("meta") == {"x-future": "1"},
               f"the id, body or meta changed on the way: {got}")
    ctx.expect("priority" not in got, f"a member outside section 3 was kept: {got}")


@case("wire", "null optional members are the same as absent")
def null_members(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    m = envelope("test.item", {}, id="nulls")
    m.update(ts=None, trace=None, parent=None, meta=None, deadline_ms=None)
    outcome = tx.send_all([m])
    ctx.expect(len(outcome.acked) == 1, "not acked")
    ctx.expect(not relay.errors(), f"error records for null members: {relay.errors()}")


@case("wire", "attempt and v given as null are the same as absent")
def null_attempt_v(ctx):
    # 2.1: "a member given as null is the same as an absent one wherever the member is
    # optional"; attempt and v are optional (3). (seq is too, but a link numbers every data
    # message, 7.4: see the next case for a seq of null on a stream)
    relay = Relay(ctx)
    tx = relay.opened()
    first = envelope("test.item", {"n": 1}, id="null-attempt")
    first.update(attempt=None, v=None)
    outcome = tx.send_all([first])
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")
    ctx.expect(not relay.errors(), f"refused: {[e['body']['message'] for e in relay.errors()]}")
    got = relay.rx.wait(lambda ms: any(m.get("id") == "null-attempt" for m in ms), 5)
    ctx.expect(all(m.get("attempt", 1) == 1 for m in got if m.get("id") == "null-attempt"),
               "attempt null is attempt 1 (its default)")


@case("wire", "seq, attempt and v given as null in a stream are valid")
def null_seq_stream(ctx):
    line = b'{"id":"n","seq":null,"type":"test.item","attempt":null,"v":null,"body":{}}\n'
    r = ctx.run(["validate"], input=line)
    ctx.expect_exit(r, 0)


@case("wire", "a body of any JSON type for a type without a schema")
def any_body(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    ms = [envelope("test.item", body) for body in ("text", [1, 2], 3.25, False)]
    outcome = tx.send_all(ms)
    ctx.expect(len(outcome.acked) == 4, f"acked {len(outcome.acked)} of 4")
    got = relay.rx.wait_count(4)
    ctx.expect([m["body"] for m in got] == ["text", [1, 2], 3.25, False],
               f"bodies changed: {[m['body'] for m in got]}")


@case("wire", "an id reused: the duplicate is acked and dropped")
def id_reused(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    m = envelope("test.item", {"n": 1}, id="same-id")
    outcome = tx.send_all([m, dict(m), envelope("test.item", {"n": 2})])
    ctx.expect(len(outcome.acked) == 3, f"acked {len(outcome.acked)} of 3")
    relay.rx.wait(lambda ms: any(x.get("body") == {"n": 2} for x in ms))
    ctx.expect(sum(x.get("id") == "same-id" for x in relay.rx.messages) == 1,
               "the message with a reused id was passed on twice (8.5: SHOULD drop duplicates)")


@case("wire", "an error record passes unchanged through a stage that does not accept error")
def error_through_enrich(ctx):
    relay = Relay(ctx, command="enrich")
    tx = relay.opened(emits=["article.parsed"])
    record = envelope("error", {"code": 5, "status": "NOT_FOUND", "message": "gone",
                                "stage": "fetch", "attempt": 1, "url": "https://x.example/"},
                      trace="T", parent="P", meta={"k": "v"})
    outcome = tx.send_all([record])
    ctx.expect(len(outcome.acked) == 1, f"not acked: {outcome}")
    got = relay.rx.wait(lambda ms: ms, 10)[0]
    for member in ("id", "type", "trace", "parent", "meta", "body"):
        ctx.expect(got.get(member) == record[member], f"6: {member} changed: {record[member]!r}"
                   f" → {got.get(member)!r}")


@case("wire", "a relay subtracts the time it held a message from deadline_ms")
def deadline_decrements(ctx):
    relay = Relay(ctx, "--delay", "300ms")
    tx = relay.opened()
    m = envelope("test.item", {}, deadline_ms=60000)
    tx.send_all([m])
    got = relay.rx.wait(lambda ms: ms, 10)[0]
    ctx.expect(isinstance(got.get("deadline_ms"), int) and got["deadline_ms"] <= 59700,
               f"8.1: held 300 ms, deadline_ms should be at most 59700: {got.get('deadline_ms')}")


@case("wire", "call mode: an error record comes back on the link, without seq")
def call_mode_error(ctx):
    relay = Relay(ctx)
    tx = relay.opened(mode="call")
    late = envelope("test.item", {}, deadline_ms=0)
    tx.send_batch([late])
    replies = []
    while tx.unacked or not replies:
        line = tx.read(10)
        if isinstance(line, dict) and "ctl" not in line:
            replies.append(line)
        else:
            tx.handle(line)
    ctx.expect(len(replies) == 1 and replies[0].get("type") == "error"
               and replies[0]["body"].get("code") == CODE["DEADLINE_EXCEEDED"]
               and "seq" not in replies[0], f"7.10: replies {replies}")
    ctx.expect(not relay.rx.messages, "in call mode the error record went downstream too")


@case("wire", "an error record passes through unchanged")
def error_passes(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    record = envelope("error", {"code": 14, "status": "UNAVAILABLE", "message": "x",
                                "stage": "elsewhere", "attempt": 3})
    tx.send_all([record])
    got = relay.rx.wait(lambda ms: ms)[0]
    ctx.expect(got["id"] == record["id"] and got["body"] == record["body"],
               f"the error record changed: {got}")


# Control lines from the sender (4, 7.6, 7.9) -----------------------------------------------------

def bad_control(ctx, line, code):
    """A bad control line on an open link: skipped, the link stays open (7.9)."""
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(line)
    outcome = tx.send_all(messages(2))
    ctx.expect(len(outcome.acked) == 2, f"the link did not go on: {outcome}")
    relay.expect_reported(ctx, code)
    return relay


@case("wire", "an unknown ctl on an open link")
def unknown_ctl(ctx):
    bad_control(ctx, ctl("frobnicate", n=1), "UNIMPLEMENTED")


@case("wire", "a control member of the wrong type (ping with n a string)")
def ctl_member_type(ctx):
    bad_control(ctx, ctl("ping", n="x"), "INVALID_ARGUMENT")


@case("wire", "ctl that is not a string")
def ctl_not_string(ctx):
    bad_control(ctx, {"ctl": 5}, "INVALID_ARGUMENT")


@case("wire", "a bad control line is only logged, not dead-lettered")
def bad_control_not_recorded(ctx):
    relay = bad_control(ctx, ctl("frobnicate"), "UNIMPLEMENTED")
    ctx.expect(not relay.errors(),
               f"7.9: a bad control line is only logged; error records: {relay.errors()}")


@case("wire", "ping on the input side gets pong with the same id")
def ping_input(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(ctl("ping", id="k17"))
    pong = tx.read_ctl("pong", 5)
    ctx.expect(pong.get("id") == "k17", f"pong {pong}")


@case("wire", "ping without id gets pong with an empty id")
def ping_no_id(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(ctl("ping"))
    pong = tx.read_ctl("pong", 5)
    ctx.expect(pong.get("id", "") == "", f"pong {pong}")


@case("wire", "health on the input side")
def health_input(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(ctl("health"))
    answer = tx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "health", 5)
    ctx.expect(answer.get("status") == "SERVING", f"health {answer}")


@case("wire", "describe on the input side")
def describe_input(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(ctl("describe"))
    answer = tx.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == "describe", 5)
    service = answer.get("service") or {}
    ctx.expect(service.get("name") == "relay" and service.get("accepts") == ["*"]
               and service.get("version") == 1, f"describe {answer}")


@case("wire", "ack and nack from the sender are ignored")
def wrong_direction(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    tx.send(ctl("ack", seq=5), ctl("nack", seq=1, code=14))
    outcome = tx.send_all(messages(2))
    ctx.expect(len(outcome.acked) == 2, f"the link did not go on: {outcome}")


@case("wire", "drain: everything acked, then bye OK")
def drain(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    batch = messages(30)
    tx.send_batch(batch)
    bye = tx.drain(10)
    ctx.expect(bye.get("code", 0) == 0, f"bye {bye}")
    ctx.expect(len(tx.outcome.acked) == 30 and not tx.unacked,
               f"{len(tx.unacked)} unacked at bye OK")
    ctx.expect(tx.closed_within(5), "the stage did not close after bye")
    relay.expect_serving(ctx)


for code in range(17):
    def make(code=code):
        def bye_from_sender(ctx):
            relay = Relay(ctx)
            tx = relay.opened()
            tx.send_all(messages(1))
            tx.send(ctl("bye", code=code, message="py says goodbye"))
            tx.shutdown_write()   # bye is the last line a side sends (7.7)
            ctx.expect(tx.closed_within(5), "the stage kept the link open after our bye")
            relay.expect_serving(ctx)
        return bye_from_sender
    case("wire", f"bye {wire.STATUS[code]} from the sender")(make())


# Credit (7.3) ----------------------------------------------------------------------------------

@case("wire", "credit overrun: bye RESOURCE_EXHAUSTED, the extra not taken")
def credit_overrun(ctx):
    relay = Relay(ctx, "--window", "2")
    tx = relay.opened()
    ctx.expect(tx.credit == 2, f"the first grant is {tx.credit}, not --window 2")
    batch = [{**m, "seq": i + 1} for i, m in enumerate(messages(5))]
    tx.send(*batch)
    expect_bye(ctx, tx, "RESOURCE_EXHAUSTED")
    ids = {m["id"] for m in batch}
    taken = [m for m in relay.rx.messages if m.get("id") in ids]
    ctx.expect(len(taken) <= 2, f"{len(taken)} messages beyond the credit of 2 were taken")
    relay.expect_serving(ctx)


@case("wire", "a resend of a received seq counts once against credit")
def resend_counts_once(ctx):
    relay = Relay(ctx, "--window", "1")
    tx = relay.opened()
    m = {**envelope("test.item", {}), "seq": 1}
    tx.sent, tx.unacked = 1, {1: m}
    tx.send(m, m)
    outcome = tx.wait_settled(10)
    ctx.expect(len(outcome.acked) == 1 and outcome.bye is None, f"{outcome}")


@case("wire", "half-close after drain: acks and bye OK still come")
def half_close_after_drain(ctx):
    relay = Relay(ctx)
    tx = relay.opened()
    batch = messages(5)
    tx.send_batch(batch)
    tx.send(ctl("drain"))
    tx.send_raw(tx.encoder.end())
    tx.shutdown_write()
    deadline = time.monotonic() + 10
    try:
        while tx.outcome.bye is None:
            tx.handle(tx.read(max(0.0, deadline - time.monotonic())))
    except (wire.Closed, wire.WireError) as error:
        ctx.expect(False, f"{error!r} after reading {tx.received}"[:600])
    ctx.expect(tx.outcome.bye.get("code", 0) == 0 and len(tx.outcome.acked) == 5,
               f"bye {tx.outcome.bye}, {len(tx.outcome.acked)} of 5 acked")


# One-way streams (7): a hello is checked, other control lines ignored ---------------------------

@case("wire", "a one-way stream whose hello speaks only version 2")
def oneway_future_hello(ctx):
    data = wire.encode(hello(stage="py", versions=[2], emits=["test.item"])) + \
        wire.encode(envelope("test.item", {"x": 1}))
    r = ctx.run(["cat"], input=data)
    ctx.expect(r.returncode != 0, "cat accepted a stream whose hello has no common version")
    ctx.expect_in("UNIMPLEMENTED", r.stderr, "stderr")
    ctx.expect(b'"x":1' not in r.stdout, "cat went on past the hello it refused (7: it stops)")


@case("wire", "a one-way stream whose hello emits a type the stage does not accept")
def oneway_type_mismatch(ctx):
    data = wire.encode(hello(stage="fetch", emits=["page.fetched"])) + wire.encode(
        envelope("page.fetched", {"url": "https://x.example/", "status": 200, "html": ""}))
    r = ctx.run(["enrich"], input=data)
    ctx.expect(r.returncode != 0, "enrich took a stream whose hello emits page.fetched")
    ctx.expect_in("FAILED_PRECONDITION", r.stderr, "stderr")


@case("wire", "a one-way stream: control lines other than hello are ignored")
def oneway_other_ctl(ctx):
    data = wire.encode(ctl("credit", n=5)) + wire.encode(envelope("test.item", {"x": 1})) + \
        wire.encode(ctl("ack", seq=1)) + wire.encode(ctl("drain"))
    r = ctx.run(["cat"], input=data)
    ctx.expect_exit(r, 0)
    out = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    ctx.expect([m.get("body") for m in out if "ctl" not in m] == [{"x": 1}], f"cat printed {out}")


# Many peers --------------------------------------------------------------------------------------

@case("wire", "forty connections at once")
def many_connections(ctx):
    relay = Relay(ctx)
    results, lock = [], threading.Lock()

    def one(i):
        try:
            tx = relay.opened()
            ms = messages(5)
            ok = len(tx.send_all(ms, timeout=30).acked) == 5
            tx.drain(30)
            with lock:
                results.append((ok, [m["id"] for m in ms]))
        except Exception as error:
            with lock:
                results.append((False, repr(error)))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    failed = [r for r in results if not r[0]]
    ctx.expect(len(results) == 40 and not failed, f"{len(failed)} of 40 links failed: {failed[:2]}")
    wanted = {i for _, ids in results for i in ids}
    relay.rx.wait(lambda ms: wanted <= {m.get("id") for m in ms}, 20)
    ctx.expect(len([m for m in relay.rx.messages if m.get("id") in wanted]) == 200,
               "a message arrived twice")


@case("wire", "a peer that never reads its replies")
def never_reads(ctx):
    relay = Relay(ctx)
    c = relay.raw()
    c.send(hello(stage="deaf", emits=["*"]))
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.sock.settimeout(0.5)
    before = peak_memory(relay.process.pid)
    try:
        for i in range(500):   # pings whose pongs it never reads: 2 MB of them
            c.send(*[ctl("ping", id=f"{i}-{j}-" + "p" * 200) for j in range(20)])
    except (socket.timeout, BrokenPipeError, ConnectionResetError):
        pass   # it stopped reading us, or cut us off: either bounds what it holds
    relay.expect_serving(ctx, "the stage, while a peer ignores its replies")
    grown = peak_memory(relay.process.pid) - before
    ctx.expect(grown < 64 << 20, f"the stage grew {grown >> 20} MiB for a peer that never reads")

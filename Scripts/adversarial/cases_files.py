"""Bad input files: capture logs and message files that are truncated, torn, corrupt, empty, with
huge lines, a wrong index or a missing part, read by cat, validate, log check/stats, replay and
export. A bad line or stream is reported with its line or byte and a status code, the rest is
read on, and the exit status is 65 (README, "Exit status"); nothing readable is dropped."""
import json
import os
import signal
import subprocess

from harness import case
from cli_support import expect_ids, ids, lines, write_messages

EXPECTED_TO_FAIL_UNTIL_FIXED: set[str] = set()

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def make_log(ctx, name="log", n=50, batch=5) -> str:
    """A capture log of `n` messages, one zstd frame per `batch`; returns its first file."""
    r = ctx.run(["relay", "--batch", str(batch), "--capture-out", f"{name}.jsonl.zst"], input=lines(n))
    ctx.expect_exit(r, 0)
    return ctx.path(f"{name}.000001.jsonl.zst")


def frames(data: bytes) -> list[int]:
    return [i for i in range(len(data)) if data[i:i + 4] == ZSTD_MAGIC]


def damaged(ctx, n_ok: int, args_for):
    """Each reader of a damaged log reads the `n_ok` messages before the damage and exits 65."""
    for args in args_for:
        r = ctx.run(args)
        ctx.expect_exit(r, 65)
        ctx.expect_in("DATA_LOSS", r.stdout + r.stderr, f"{args[0]}'s output")
        if args[0] in ("cat", "replay"):
            got = ids(r.stdout)
            ctx.expect(got == [f"m{i:05d}" for i in range(n_ok)],
                       f"{args[0]} gave {len(got)} messages, wanted the {n_ok} before the damage")


@case("files", "a line that is not JSON")
def not_json(ctx):
    r = ctx.run(["cat"], input=b"{nope\n")
    ctx.expect_exit(r, 65)
    ctx.expect_in("line 1", r.stderr)


@case("files", "a log cut inside its last frame (torn tail)")
def torn_tail(ctx):
    first = make_log(ctx)
    data = open(first, "rb").read()
    ctx.write("torn.000001.jsonl.zst", data[:frames(data)[-1] + 10])
    damaged(ctx, 45, [["cat", "torn.jsonl.zst"], ["log", "check", "torn.jsonl.zst"],
                      ["validate", "torn.000001.jsonl.zst"]])
    r = ctx.run(["log", "check", "torn.jsonl.zst"])
    ctx.expect_in("byte %d" % frames(data)[-1], r.stdout + r.stderr)  # the offset of the torn frame
    # replay cuts a torn log back to its last whole frame with a warning (README, "Capture")
    r = ctx.run(["replay", "torn.jsonl.zst", "--to", "-"])
    ctx.expect_exit(r, 0)
    ctx.expect_in("torn tail", r.stderr)
    expect_ids(ctx, r.stdout, 45, "replay")


@case("files", "a log cut inside its first frame")
def torn_first_frame(ctx):
    data = open(make_log(ctx), "rb").read()
    ctx.write("t.jsonl.zst", data[:60])
    damaged(ctx, 0, [["cat", "t.jsonl.zst"], ["validate", "t.jsonl.zst"], ["replay", "t.jsonl.zst", "--to", "-"]])
    ctx.expect(os.path.getsize(ctx.path("t.jsonl.zst")) == 60, "a reader changed the damaged file")


@case("files", "a corrupt frame in the middle of a log")
def corrupt_middle(ctx):
    data = bytearray(open(make_log(ctx), "rb").read())
    starts = frames(bytes(data))
    data[starts[5] + 8] ^= 0xFF
    ctx.write("mid.000001.jsonl.zst", bytes(data))
    r = ctx.run(["cat", "mid.jsonl.zst"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("byte %d" % starts[5], r.stderr)
    got = ids(r.stdout)
    ctx.expect(len(got) == 45, f"cat read {len(got)} messages; the 45 in the 9 undamaged frames are readable")
    # Damage in the middle is not a torn tail: each reader names the offset and the bytes
    # skipped, reads on from the next whole frame, and exits 65 (replay too).
    skipped = "%d bytes skipped" % (starts[6] - starts[5])
    r = ctx.run(["replay", "mid.jsonl.zst", "--to", "-"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("byte %d: DATA_LOSS" % starts[5], r.stderr)
    ctx.expect_in(skipped, r.stderr)
    got = ids(r.stdout)
    ctx.expect(got == [f"m{i:05d}" for i in range(50) if not 25 <= i < 30], f"replay sent {len(got)} messages")
    r = ctx.run(["log", "check", "mid.jsonl.zst"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("byte %d: DATA_LOSS" % starts[5], r.stdout)
    ctx.expect_in(skipped, r.stdout)
    ctx.expect(b"torn tail" not in r.stdout, f"log check called the damage a torn tail: {r.stdout!r}")


@case("files", "a zstd checksum that does not match")
def bad_checksum(ctx):
    data = bytearray(open(make_log(ctx, n=5, batch=5), "rb").read())
    data[-2] ^= 0xFF  # the frame's content checksum
    ctx.write("c.jsonl.zst", bytes(data))
    r = ctx.run(["cat", "c.jsonl.zst"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("DATA_LOSS", r.stderr)


@case("files", "the zstd magic followed by garbage")
def magic_then_garbage(ctx):
    ctx.write("g.jsonl.zst", ZSTD_MAGIC + b" garbage garbage garbage")
    for args in (["cat", "g.jsonl.zst"], ["validate", "g.jsonl.zst"], ["log", "check", "g.jsonl.zst"]):
        r = ctx.run(args)
        ctx.expect_exit(r, 65)


@case("files", "a zstd frame asking for a 128 MiB window (a bomb)")
def window_bomb(ctx):
    raw = subprocess.run(["zstd", "-q", "--long=27", "-c"], input=b"a" * 40_000_000, capture_output=True).stdout
    ctx.write("w.zst", raw)
    r = ctx.run(["cat", "w.zst"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("RESOURCE_EXHAUSTED", r.stderr)
    ctx.expect_in("--max-window-log", r.stderr)


@case("files", "a damaged frame, then a header claiming 200 MB of stored blocks that never end")
def endless_candidate(ctx):
    """The search for the next whole frame decodes each candidate from the file a chunk at a
    time: before session 47 it buffered the candidate whole, the rest of this file (560 MB of
    memory for 300 MB)."""
    import struct
    first = make_log(ctx, n=5, batch=5)
    data = bytearray(open(first, "rb").read())
    data[len(data) // 2] ^= 0x40
    block = 128 * 1024
    header = struct.pack("<I", block << 3)[:3]  # a stored block of 128 KiB, not the last
    with open(ctx.path("e.jsonl.zst"), "wb") as f:
        f.write(bytes(data) + ZSTD_MAGIC + bytes([0x00, 0x50]))  # no checksum, a 1 MiB window
        chunk = header + b"x" * block
        for _ in range(1600):
            f.write(chunk)
    for args in (["cat", "e.jsonl.zst"], ["log", "check", "e.jsonl.zst"]):
        p = ctx.spawn(args)  # a few lines of output: the pipes do not fill before it exits
        _, status, usage = os.wait4(p.pid, 0)
        said = (p.stdout.read() + p.stderr.read()).decode("utf-8", "replace")
        ctx.expect(os.waitstatus_to_exitcode(status) == 65, f"{args[0]}: exit {os.waitstatus_to_exitcode(status)}: {said}")
        ctx.expect_in("DATA_LOSS", said)
        ctx.expect(usage.ru_maxrss < 150 * 1024, f"{args[0]} held {usage.ru_maxrss // 1024} MB searching past the damage")


@case("files", "an empty log")
def empty_log(ctx):
    ctx.write("e.jsonl.zst", b"")
    for args in (["cat", "e.jsonl.zst"], ["log", "check", "e.jsonl.zst"], ["log", "stats", "e.jsonl.zst"],
                 ["replay", "e.jsonl.zst", "--to", "-"], ["validate", "e.jsonl.zst"]):
        r = ctx.run(args)
        ctx.expect_exit(r, 0)


@case("files", "a line longer than --max-line, between good ones")
def huge_line(ctx):
    big = json.dumps({"id": "big", "seq": 9, "type": "note.x", "ts": "2026-12-01T00:00:00Z", "attempt": 1,
                      "body": {"s": "x" * (2 << 20)}}).encode() + b"\n"
    ctx.write("h.jsonl", lines(2) + big + lines(2, start=2))
    for args in (["cat", "--max-line", "1MiB", "h.jsonl"], ["validate", "--max-line", "1MiB", "h.jsonl"]):
        r = ctx.run(args)
        ctx.expect_exit(r, 65)
        ctx.expect_in("line 3: RESOURCE_EXHAUSTED", r.stderr)
    r = ctx.run(["cat", "--max-line", "1MiB", "h.jsonl"])
    expect_ids(ctx, r.stdout, 4, "cat around the long line")


@case("files", "a 20 MB line with no newline at all")
def endless_line(ctx):
    ctx.write("n.jsonl", b"{" + b'"a":1,' * 3_500_000)
    r = ctx.run(["cat", "--max-line", "1MiB", "n.jsonl"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("RESOURCE_EXHAUSTED", r.stderr)


@case("files", "plain lines and a zstd frame in one file")
def mixed_plain_zstd(ctx):
    data = open(make_log(ctx, n=5, batch=5), "rb").read()
    ctx.write("m.jsonl", lines(3) + data)
    r = ctx.run(["cat", "m.jsonl"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("line 4", r.stderr)
    ctx.expect(ids(r.stdout)[:3] == ["m00000", "m00001", "m00002"], "the plain lines before the frame")


@case("files", "a zstd stream with plain lines after it")
def zstd_then_plain(ctx):
    data = open(make_log(ctx, n=5, batch=5), "rb").read()
    ctx.write("z.jsonl.zst", data + lines(2, start=5))
    r = ctx.run(["cat", "z.jsonl.zst"])
    ctx.expect_exit(r, 65)
    ctx.expect(ids(r.stdout)[:5] == [f"m{i:05d}" for i in range(5)], "the frame's 5 messages")


@case("files", "a file of random bytes")
def random_bytes(ctx):
    import random
    ctx.write("r.bin", random.Random(12).randbytes(4000))
    for args in (["cat", "r.bin"], ["validate", "r.bin"]):
        r = ctx.run(args)
        ctx.expect_exit(r, 65)
        ctx.expect_in("neither zstd", r.stderr)


@case("files", "a last line torn mid-string, without a newline")
def torn_last_line(ctx):
    whole = lines(3)
    ctx.write("t.jsonl", whole + lines(1, start=3)[:50])
    r = ctx.run(["cat", "t.jsonl"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("line 4", r.stderr)
    expect_ids(ctx, r.stdout, 3)


@case("files", "NUL bytes on a line")
def nul_line(ctx):
    ctx.write("n.jsonl", lines(2) + b"\0\0\0\n" + lines(1, start=2))
    r = ctx.run(["cat", "n.jsonl"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("line 3", r.stderr)
    expect_ids(ctx, r.stdout, 3)


@case("files", "a line that is valid JSON but not an object")
def json_not_object(ctx):
    ctx.write("a.jsonl", b"[1,2,3]\n\"text\"\n42\nnull\n" + lines(1))
    r = ctx.run(["cat", "a.jsonl"])
    ctx.expect_exit(r, 65)
    for n in (1, 2, 3, 4):
        ctx.expect_in(f"line {n}:", r.stderr)
    expect_ids(ctx, r.stdout, 1)


@case("files", "a message without type, id or ts")
def missing_fields(ctx):
    ctx.write("f.jsonl", b'{"id":"x","body":{}}\n{"type":"note.x","body":{}}\n' + lines(1))
    r = ctx.run(["validate", "f.jsonl"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("line 1", r.stderr)
    ctx.expect_in("line 2", r.stderr)


@case("files", "a byte order mark before the first line (accepted)")
def bom_lines(ctx):
    ctx.write("b.jsonl", b"\xef\xbb\xbf" + lines(3))
    r = ctx.run(["cat", "b.jsonl"])
    ctx.expect_exit(r, 0)
    expect_ids(ctx, r.stdout, 3)


@case("files", "CRLF line ends (accepted)")
def crlf_lines(ctx):
    ctx.write("c.jsonl", lines(3).replace(b"\n", b"\r\n"))
    r = ctx.run(["cat", "c.jsonl"])
    ctx.expect_exit(r, 0)
    expect_ids(ctx, r.stdout, 3)


@case("files", "blank lines only")
def blank_lines(ctx):
    ctx.write("b.jsonl", b"\n\n\n")
    r = ctx.run(["cat", "b.jsonl"])
    ctx.expect_exit(r, 0)
    ctx.expect(r.stdout == b"", "cat wrote something for blank lines")


@case("files", "an index that disagrees with its log (the frames win)")
def wrong_index(ctx):
    make_log(ctx)
    with open(ctx.path("log.index.jsonl"), "w") as f:
        f.write('{"bytes":1,"closed":true,"count":999,"file":"log.000001.jsonl.zst","number":1}\n')
    r = ctx.run(["cat", "log.jsonl.zst"])
    ctx.expect_exit(r, 0)
    expect_ids(ctx, r.stdout, 50, "cat of the log")
    r = ctx.run(["log", "stats", "log.jsonl.zst"])
    ctx.expect_exit(r, 0)
    ctx.expect_in("messages: 50", r.stdout)


@case("files", "an index that is garbage")
def garbage_index(ctx):
    make_log(ctx)
    ctx.write("log.index.jsonl", b"garbage{\n\0\0")
    r = ctx.run(["replay", "log.jsonl.zst", "--to", "-"])
    ctx.expect_exit(r, 0)
    expect_ids(ctx, r.stdout, 50, "replay of the log")


@case("files", "a numbered log with a file missing in the middle")
def missing_part(ctx):
    first = open(make_log(ctx, n=5, batch=5), "rb").read()
    os.makedirs(ctx.path("gap"))
    ctx.write("gap/log.000001.jsonl.zst", first)
    ctx.write("gap/log.000003.jsonl.zst", first)
    r = ctx.run(["log", "check", "gap/log.jsonl.zst"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("000002", r.stdout + r.stderr)


@case("files", "replay of a torn log into a stage: what was whole arrives, acked")
def replay_torn_to_socket(ctx):
    data = open(make_log(ctx), "rb").read()
    ctx.write("torn.000001.jsonl.zst", data[:frames(data)[-1] + 10])
    sock = ctx.socket_path("recv")
    recv = ctx.spawn(["recv", "--listen", "unix:" + sock])
    ctx.wait_for_socket(sock)
    r = ctx.run(["replay", "torn.jsonl.zst", "--to", "unix:" + sock, "--no-progress"])
    ctx.expect_exit(r, 0)  # a torn tail is cut back with a warning
    ctx.expect_in("45 acked", r.stderr)
    recv.send_signal(signal.SIGTERM)
    status, out, _ = ctx.finish(recv)
    ctx.expect_exit(status, 0)
    expect_ids(ctx, out, 45, "recv")


@case("files", "export of a database file that is garbage")
def export_garbage_db(ctx):
    ctx.write("g.sqlite", os.urandom(8192))
    for args in (["export", "--db", "g.sqlite"], ["search", "--db", "g.sqlite", "x"]):
        r = ctx.run(args)
        ctx.expect_exit(r, (65, 78))  # a damaged file (DATA_LOSS) or not a store (FAILED_PRECONDITION)


@case("files", "export of a SQLite file that is not a store")
def export_other_sqlite(ctx):
    import sqlite3
    db = sqlite3.connect(ctx.path("o.sqlite"))
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    r = ctx.run(["export", "--db", "o.sqlite"])
    ctx.expect_exit(r, 78)
    ctx.expect_in("not a Runnel store", r.stderr)


@case("files", "cat --tee of a torn input: what was whole is both written and captured")
def tee_torn(ctx):
    data = open(make_log(ctx), "rb").read()
    r = ctx.run(["cat", "--tee", "copy.jsonl.zst"], input=data[:frames(data)[-1] + 10])
    ctx.expect_exit(r, 65)
    expect_ids(ctx, r.stdout, 45, "stdout")
    copy = ctx.run(["cat", "copy.jsonl.zst"])
    ctx.expect_exit(copy, 0)
    expect_ids(ctx, copy.stdout, 45, "the tee's log")


@case("files", "log stats of a log cut mid-frame")
def stats_torn(ctx):
    data = open(make_log(ctx), "rb").read()
    ctx.write("torn.000001.jsonl.zst", data[:frames(data)[-1] + 10])
    r = ctx.run(["log", "stats", "torn.jsonl.zst"])
    ctx.expect_exit(r, 65)
    ctx.expect_in("messages: 45", r.stdout)

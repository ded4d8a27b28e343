"""Disks that refuse: read-only, full, a database that is garbage or locked, a capture directory
that cannot be written. A file that cannot be written is 74 (README, "Exit status"); a capture
that stops never stops the link (README, "Capture and inspect"). As root, permission bits do not
apply, so a small tmpfs is mounted in the case's directory (read-only, or full) and unmounted at
the end; as another user, a directory without write permission and /dev/full stand in."""
import os
import sqlite3
import subprocess
import time

from harness import case
from cli_support import expect_ids, lines

# LinkRunner (the link code) writes the cursor and says nothing when it cannot: send exits 0 and
# the next run starts again from the top.
EXPECTED_TO_FAIL_UNTIL_FIXED: set[str] = set()

ROOT = os.getuid() == 0


class _Mount:
    """A tmpfs at `path`, unmounted when the case ends (the harness calls poll)."""
    pid = -1
    stdin = stdout = stderr = None

    def __init__(self, path):
        self.path = path

    def poll(self):
        subprocess.run(["umount", "-l", self.path], capture_output=True)
        return 0


def read_only_dir(ctx, name="ro"):
    path = ctx.path(name)
    os.makedirs(path)
    if ROOT:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", path], check=True)
        ctx.processes.append(_Mount(path))
    else:
        os.chmod(path, 0o555)
    return path


def full_dir(ctx, name="full"):
    """A directory on a file system with a few KiB left."""
    path = ctx.path(name)
    os.makedirs(path)
    if not ROOT:
        return None
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", path], check=True)
    ctx.processes.append(_Mount(path))
    with open(os.path.join(path, "filler"), "wb") as f:
        try:
            f.write(b"\0" * 60_000)
        except OSError:
            pass
    return path


def full_file(ctx, name):
    """A path whose writes fail with ENOSPC."""
    directory = full_dir(ctx)
    return os.path.join(directory, name) if directory else "/dev/full"


def padded(n):
    import json
    return b"".join(json.dumps({"id": f"m{i:05d}", "seq": i + 1, "type": "note.x", "ts": "2026-12-01T00:00:00Z",
                                "attempt": 1, "body": {"n": i, "pad": "x" * 300}}).encode() + b"\n" for i in range(n))


@case("disk", "store into a read-only directory")
def store_read_only(ctx):
    directory = read_only_dir(ctx)
    r = ctx.run(["store", "--db", os.path.join(directory, "news.sqlite")])
    ctx.expect_exit(r, 74)
    ctx.expect_in("PERMISSION_DENIED", r.stderr)


@case("disk", "store onto a full disk")
def store_full(ctx):
    r = ctx.run(["store", "--db", full_file(ctx, "news.sqlite"), "--max-attempts", "1"])
    ctx.expect_exit(r, 74)
    ctx.expect_in("RESOURCE_EXHAUSTED", r.stderr)


@case("disk", "store into a database file that is garbage")
def store_garbage(ctx):
    ctx.write("g.sqlite", os.urandom(16384))
    before = open(ctx.path("g.sqlite"), "rb").read()
    r = ctx.run(["store", "--db", "g.sqlite"], input=lines(1))
    ctx.expect_exit(r, 65)
    ctx.expect_in("DATA_LOSS", r.stderr)
    ctx.expect(open(ctx.path("g.sqlite"), "rb").read() == before, "the garbage file was changed")


@case("disk", "store into a SQLite file that is not a store")
def store_foreign(ctx):
    db = sqlite3.connect(ctx.path("o.sqlite"))
    db.execute("CREATE TABLE articles (x)")
    db.commit()
    db.close()
    r = ctx.run(["search", "--db", "o.sqlite", "x"])
    ctx.expect_exit(r, 78)


@case("disk", "a database locked by another process past --busy-timeout")
def store_locked(ctx):
    r = ctx.run(["store", "--db", "l.sqlite"], input=b"")
    ctx.expect_exit(r, 0)
    locker = subprocess.Popen(["python3", "-c", """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(60)
""", ctx.path("l.sqlite")], stdout=subprocess.PIPE, start_new_session=True)
    ctx.processes.append(locker)
    ctx.expect(locker.stdout.readline().strip() == b"locked", "the locker did not lock")
    fixture = os.path.join(os.path.dirname(__file__), "../../Tests/RunnelCLITests/Fixtures/"
                           "article.parsed.vi.nato-spokesperson.jsonl")
    r = ctx.run(["store", "--db", "l.sqlite", "--busy-timeout", "200ms", "--max-attempts", "1"],
                input=open(fixture, "rb").read())
    # Locked while opening: UNAVAILABLE, exit 69 after --max-attempts. Locked at the batch: the
    # batch fails with UNAVAILABLE, an error record flows on, exit 0 (store --help). Which one
    # depends on whether opening needed to write.
    ctx.expect_exit(r, (0, 69))
    if r.returncode == 69:
        ctx.expect_in("while opening the store", r.stderr)
    else:
        ctx.expect_in('"status":"UNAVAILABLE"', r.stdout)
    ctx.expect_in("busy-timeout", r.stderr)


@case("disk", "relay --to file: onto a full disk")
def output_full(ctx):
    r = ctx.run(["relay", "--to", "file:" + full_file(ctx, "out.jsonl")], input=padded(300))
    ctx.expect_exit(r, 74)
    ctx.expect_in("RESOURCE_EXHAUSTED", r.stderr)


@case("disk", "relay --to file: in a read-only directory")
def output_read_only(ctx):
    r = ctx.run(["relay", "--to", "file:" + os.path.join(read_only_dir(ctx), "out.jsonl")], input=lines(3))
    ctx.expect_exit(r, 74)
    ctx.expect_in("PERMISSION_DENIED", r.stderr)


@case("disk", "stdout redirected to a full disk")
def stdout_full(ctx):
    path = full_file(ctx, "cat.jsonl")
    with open(path, "wb") as out:
        process = subprocess.run([ctx.runnel, "cat"], input=padded(300), stdout=out, stderr=subprocess.PIPE,
                                 timeout=30)
    ctx.expect_exit(process, 74)
    ctx.expect_in("RESOURCE_EXHAUSTED", process.stderr)


@case("disk", "a capture onto a full disk: capture stops, the link does not")
def capture_full(ctx):
    directory = full_dir(ctx)
    log = os.path.join(directory, "cap.jsonl.zst") if directory else None
    if log is None:  # not root: no full file system to put a rotated log on
        ctx.expect(False, "needs root for a full tmpfs")
    r = ctx.run(["relay", "--capture-out", log], input=padded(300))
    ctx.expect_exit(r, 0)
    expect_ids(ctx, r.stdout, 300, "the link")
    ctx.expect_in("capture of outputs", r.stderr)
    ctx.expect_in("RESOURCE_EXHAUSTED", r.stderr)


@case("disk", "cat --tee onto a full disk: every line still flows, exit 74")
def tee_full(ctx):
    directory = full_dir(ctx)
    ctx.expect(directory is not None, "needs root for a full tmpfs")
    r = ctx.run(["cat", "--tee", os.path.join(directory, "tee.jsonl.zst")], input=padded(300))
    ctx.expect_exit(r, 74)
    expect_ids(ctx, r.stdout, 300, "stdout")
    ctx.expect_in("capture stopped", r.stderr)


@case("disk", "a capture directory that cannot be written")
def capture_read_only(ctx):
    log = os.path.join(read_only_dir(ctx), "cap.jsonl.zst")
    r = ctx.run(["relay", "--capture-in", log], input=lines(3))
    ctx.expect_exit(r, 74)
    ctx.expect_in("PERMISSION_DENIED", r.stderr)


@case("disk", "a dead-letter log onto a full disk")
def dead_letter_full(ctx):
    bad = b"".join(b'{"nope": "' + os.urandom(150).hex().encode() + b"\n" for i in range(300))
    r = ctx.run(["relay", "--dead-letter", full_file(ctx, "dl.jsonl.zst")], input=bad)
    ctx.expect_exit(r, 74)
    ctx.expect_in("RESOURCE_EXHAUSTED", r.stderr)


@case("disk", "key new onto a full disk leaves no partial key")
def key_full(ctx):
    directory = full_dir(ctx)
    ctx.expect(directory is not None, "needs root for a full tmpfs")
    os.remove(os.path.join(directory, "filler"))
    with open(os.path.join(directory, "filler"), "wb") as f:  # leave less than a block
        try:
            f.write(b"\0" * 65_536)
        except OSError:
            pass
    key = os.path.join(directory, "k")
    r = ctx.run(["key", "new", key])
    ctx.expect_exit(r, 74)
    ctx.expect(not os.path.exists(key), "a partial key file was left")


@case("disk", "key new in a read-only directory")
def key_read_only(ctx):
    r = ctx.run(["key", "new", os.path.join(read_only_dir(ctx), "k")])
    ctx.expect_exit(r, 74)


@case("disk", "a cursor file on a read-only disk")
def cursor_read_only(ctx):
    sock = ctx.socket_path("recv")
    recv = ctx.spawn(["recv", "--listen", "unix:" + sock])
    ctx.wait_for_socket(sock)
    ctx.write("in.jsonl", lines(5))
    cursor = os.path.join(read_only_dir(ctx), "c")
    r = ctx.run(["send", "unix:" + sock, "in.jsonl", "--cursor", cursor])
    ctx.expect_exit(r, 74)


@case("disk", "runnel run whose state directory cannot be written")
def run_state_read_only(ctx):
    directory = ctx.path("pipe")
    os.makedirs(os.path.join(directory, "pages"))
    ctx.write("pipe/pages/a.html", "<p>x</p>")
    ctx.write("pipe/p.toml", f'[pipeline]\nname = "ro-{os.path.basename(ctx.directory)[4:]}"\n'
              '[source]\ndirectory = "pages"\n[[stage]]\nname = "relay"\n')
    if ROOT:
        subprocess.run(["mount", "--bind", directory, directory], check=True)
        ctx.processes.append(_Mount(directory))
        subprocess.run(["mount", "-o", "remount,bind,ro", directory], check=True)
    else:
        os.chmod(directory, 0o555)
    r = ctx.run(["run", "--no-progress", os.path.join(directory, "p.toml")], timeout=30)
    ctx.expect_exit(r, 74)
    from cases_signals import run_directory
    import shutil
    shutil.rmtree(run_directory(f"ro-{os.path.basename(ctx.directory)[4:]}"), ignore_errors=True)

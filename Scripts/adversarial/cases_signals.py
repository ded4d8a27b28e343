"""Signals to stages mid-stream and to `runnel run`, and outputs closed early.

A stage drains on SIGTERM and SIGINT and exits 0 (`runnel relay --help`); on a socket, whatever
signal ends it, nothing acked is lost: the sender resends to the next process on the socket.
`runnel run` ends its stages and leaves no process of its session and no socket behind. A
closed stdout is not a failure (README, "Exit status"): 0."""
import os
import shutil
import signal
import subprocess
import threading
import time

from harness import case
from cli_support import expect_ids, ids, lines, pages_dir, unique_name

EXPECTED_TO_FAIL_UNTIL_FIXED: set = set()

N = 300


def run_directory(name):
    base = os.environ.get("XDG_RUNTIME_DIR")
    base = base + "/runnel" if base else f"/tmp/runnel-{os.getuid()}"
    return f"{base}/{name}"


def session_members(sid):
    """Live processes (not zombies) whose session is `sid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] not in ("Z", "X") and int(fields[3]) == sid:
            members.append(int(entry))
    return members


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except OSError:
        return 0


def chain(ctx, relay_args=("--delay", "2ms")):
    """recv ← relay ← send, on Unix sockets; returns (send, relay args, recv, its output file)."""
    ctx.write("in.jsonl", lines(N))
    recv_sock, relay_sock = ctx.socket_path("recv"), ctx.socket_path("relay")
    out = open(ctx.path("recv.out"), "wb")
    recv = ctx.spawn(["recv", "--listen", "unix:" + recv_sock], stdout=out)
    out.close()
    ctx.wait_for_socket(recv_sock)
    args = ["relay", "--listen", "unix:" + relay_sock, "--to", "unix:" + recv_sock, "--window", "16",
            "--batch", "4", *relay_args]
    relay = ctx.spawn(args)
    ctx.wait_for_socket(relay_sock)
    sender = ctx.spawn(["send", "unix:" + relay_sock, ctx.path("in.jsonl"), "--ack-timeout", "2s"])
    ctx.wait_for(lambda: count_lines(ctx.path("recv.out")) >= 40, "40 messages through")
    return sender, args, relay, recv


def finish_chain(ctx, sender, args, recv):
    """A new relay on the socket; send ends with every message acked; recv has each one."""
    relay = ctx.spawn(args)
    status, _, err = ctx.finish(sender, timeout=30)
    ctx.expect_exit(status, 0)
    relay.send_signal(signal.SIGTERM)
    ctx.finish(relay)
    ctx.wait_for(lambda: len(set(ids(open(ctx.path("recv.out"), "rb").read()))) >= N, "every message at recv")
    recv.send_signal(signal.SIGTERM)
    ctx.expect_exit(ctx.finish(recv)[0], 0)
    got = set(ids(open(ctx.path("recv.out"), "rb").read()))
    ctx.expect(got == {f"m{i:05d}" for i in range(N)}, f"{N - len(got)} messages lost")


def signal_mid_link(ctx, sig, wanted_status):
    sender, args, relay, recv = chain(ctx)
    relay.send_signal(sig)
    status, _, _ = ctx.finish(relay, timeout=20)
    ctx.expect_exit(status, wanted_status)
    finish_chain(ctx, sender, args, recv)


@case("signals", "SIGTERM to a stage mid-stream on sockets: drains, exits 0, nothing lost")
def term_mid_link(ctx):
    signal_mid_link(ctx, signal.SIGTERM, 0)


@case("signals", "SIGINT to a stage mid-stream on sockets: drains, exits 0, nothing lost")
def int_mid_link(ctx):
    signal_mid_link(ctx, signal.SIGINT, 0)


@case("signals", "SIGHUP to a stage mid-stream on sockets: dies, nothing lost")
def hup_mid_link(ctx):
    signal_mid_link(ctx, signal.SIGHUP, -signal.SIGHUP)


@case("signals", "SIGKILL to a stage mid-stream on sockets: nothing lost")
def kill_mid_link(ctx):
    signal_mid_link(ctx, signal.SIGKILL, -signal.SIGKILL)


@case("signals", "SIGSTOP then SIGCONT to a stage mid-stream: it goes on, nothing lost")
def stop_cont(ctx):
    sender, args, relay, recv = chain(ctx)
    relay.send_signal(signal.SIGSTOP)
    time.sleep(0.5)  # stopped for a while is the kind under test; nothing is waited for
    relay.send_signal(signal.SIGCONT)
    status, _, _ = ctx.finish(sender, timeout=30)
    ctx.expect_exit(status, 0)
    relay.send_signal(signal.SIGTERM)
    ctx.expect_exit(ctx.finish(relay)[0], 0)
    recv.send_signal(signal.SIGTERM)
    ctx.finish(recv)
    got = set(ids(open(ctx.path("recv.out"), "rb").read()))
    ctx.expect(len(got) == N, f"{N - len(got)} messages lost")


@case("signals", "SIGPIPE to a stage mid-stream: ignored, it goes on, nothing lost")
def pipe_signal(ctx):
    sender, args, relay, recv = chain(ctx)
    relay.send_signal(signal.SIGPIPE)
    status, _, _ = ctx.finish(sender, timeout=30)
    ctx.expect_exit(status, 0)
    ctx.expect_alive(relay, "the relay")
    relay.send_signal(signal.SIGTERM)
    ctx.expect_exit(ctx.finish(relay)[0], 0)
    recv.send_signal(signal.SIGTERM)
    ctx.finish(recv)
    got = set(ids(open(ctx.path("recv.out"), "rb").read()))
    ctx.expect(len(got) == N, f"{N - len(got)} messages lost")


@case("signals", "SIGTERM to the sink mid-stream, started again: nothing lost")
def term_sink(ctx):
    sender, args, relay, recv = chain(ctx)
    recv.send_signal(signal.SIGTERM)
    ctx.expect_exit(ctx.finish(recv)[0], 0)
    first = open(ctx.path("recv.out"), "rb").read()
    out = open(ctx.path("recv.out"), "ab")
    recv = ctx.spawn(["recv", "--listen", "unix:" + ctx.socket_path("recv")], stdout=out)
    out.close()
    ctx.expect_exit(ctx.finish(sender, timeout=40)[0], 0)
    ctx.wait_for(lambda: len(set(ids(open(ctx.path("recv.out"), "rb").read()))) >= N, "every message at recv")
    recv.send_signal(signal.SIGTERM)
    ctx.finish(recv)
    relay.send_signal(signal.SIGTERM)
    ctx.finish(relay)
    ctx.expect(len(first) > 0, "the first recv printed nothing")


@case("signals", "SIGTERM to send mid-stream: exits, and what it reported acked arrived")
def term_sender(ctx):
    sender, args, relay, recv = chain(ctx)
    sender.send_signal(signal.SIGTERM)
    status, _, err = ctx.finish(sender)
    ctx.expect(status in (0, 69, -signal.SIGTERM), f"send exited {status}")
    relay.send_signal(signal.SIGTERM)
    ctx.expect_exit(ctx.finish(relay)[0], 0)
    recv.send_signal(signal.SIGTERM)
    ctx.finish(recv)
    got = ids(open(ctx.path("recv.out"), "rb").read())
    ctx.expect(len(got) >= 40, f"only {len(got)} arrived")


def feed(process, data):
    """Writes `data` to the stdin of `process` and closes it; a reader gone early is fine."""
    try:
        process.stdin.write(data)
        process.stdin.flush()
    except BrokenPipeError:
        pass
    try:
        process.stdin.close()
    except BrokenPipeError:
        pass


def feed_in_background(process, data):
    """`feed` on a thread: a stage whose stdout is not read stops reading its stdin."""
    stdin, process.stdin = process.stdin, None
    holder = type("P", (), {"stdin": stdin})
    threading.Thread(target=feed, args=(holder, data), daemon=True).start()


def pipe_stage(ctx, sig):
    """A relay on a pipe, signalled mid-stream: exits 0 having written whole lines only."""
    process = ctx.spawn(["relay", "--delay", "1ms"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    feed_in_background(process, lines(2000))
    first = process.stdout.readline()
    ctx.expect(first.startswith(b"{"), "no output")
    process.send_signal(sig)
    out = process.stdout.read()  # through the reader's buffer, which holds what followed `first`
    status, _, err = ctx.finish(process)
    ctx.expect_exit(status, 0)
    ctx.expect_in("stopped by signal", err, "stderr")
    got = ids(first + out)
    ctx.expect(got == [f"m{i:05d}" for i in range(len(got))], "outputs out of order or torn")


@case("signals", "SIGTERM to a stage on a pipe mid-stream")
def term_pipe(ctx):
    pipe_stage(ctx, signal.SIGTERM)


@case("signals", "SIGINT to a stage on a pipe mid-stream")
def int_pipe(ctx):
    pipe_stage(ctx, signal.SIGINT)


@case("signals", "SIGTERM twice (an impatient Ctrl-C)")
def term_twice(ctx):
    process = ctx.spawn(["relay", "--delay", "5ms"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    feed_in_background(process, lines(500))
    process.stdout.readline()
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    status, _, _ = ctx.finish(process, timeout=10)
    ctx.expect_exit(status, 0)


@case("signals", "stdout closed early (| head -1): exit 0, quiet")
def stdout_closed(ctx):
    for args in (["relay"], ["cat"], ["parse"], ["replay", "-", "--to", "-"]):
        process = ctx.spawn(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        process.stdout.close()  # the reader went away before anything was written
        feed(process, lines(3000))
        process.stdin = None
        status, _, err = ctx.finish(process)
        ctx.expect_exit(status, 0)
        ctx.expect(b"Fatal" not in err and b"EPIPE" not in err, f"{args[0]}: {err[-200:]!r}")


@case("signals", "stdout closed after one line")
def stdout_closed_after_one(ctx):
    process = ctx.spawn(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    feed_in_background(process, lines(20000))
    process.stdout.readline()
    process.stdout.close()
    status, _, err = ctx.finish(process)
    ctx.expect_exit(status, 0)
    ctx.expect(err == b"", f"stderr: {err[-200:]!r}")


@case("signals", "stderr closed: the exit status still tells")
def stderr_closed(ctx):
    for args, wanted in ((["cat", "nofile"], 74), (["cat"], 65), (["relay", "--window", "0"], 64)):
        process = ctx.spawn(args, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stderr.close()
        feed(process, b"{nope\n")
        process.stdin = None
        status, _, _ = ctx.finish(process)
        ctx.expect_exit(status, wanted)


@case("signals", "stdin closed at once (not a pipe: /dev/null)")
def stdin_devnull(ctx):
    r = ctx.run(["relay"], input=None)
    ctx.expect_exit(r, 0)


# runnel run ---------------------------------------------------------------------------------

def pipeline(ctx, pages=40, relay_delay="30ms"):
    pages_dir(ctx, pages)
    name = unique_name(ctx, "sig")
    path = ctx.write("p.toml", f"""[pipeline]
name = "{name}"
shutdown_timeout = "5s"
[source]
directory = "pages"
[[stage]]
name = "fetch"
args = ["--allow-files", "pages", "--delay", "0s"]
[[stage]]
name = "relay"
args = ["--delay", "{relay_delay}", "--window", "8", "--batch", "2"]
""")
    return name, path


def start_run(ctx, **kw):
    name, path = pipeline(ctx, **kw)
    run = ctx.spawn(["run", "--no-progress", path])
    ctx.wait_for(lambda: os.path.exists(run_directory(name) + "/control.sock"), "the control socket")
    ctx.wait_for(lambda: len(session_members(run.pid)) >= 3, "the stages")
    return name, run


def expect_clean(ctx, name, run):
    ctx.wait_for(lambda: session_members(run.pid) == [], "no process of the pipeline's session left", timeout=15)
    socks = [n for n in os.listdir(run_directory(name)) if n.endswith(".sock")] \
        if os.path.isdir(run_directory(name)) else []
    ctx.expect(socks == [], f"sockets left: {socks}")
    shutil.rmtree(run_directory(name), ignore_errors=True)  # its stats files stay behind


def signal_run(ctx, sig, wanted):
    name, run = start_run(ctx)
    run.send_signal(sig)
    status, _, err = ctx.finish(run, timeout=20)
    ctx.expect_exit(status, wanted)
    expect_clean(ctx, name, run)
    return err


@case("signals", "SIGTERM to runnel run: no orphans, no sockets")
def term_run(ctx):
    signal_run(ctx, signal.SIGTERM, 0)


@case("signals", "SIGINT to runnel run: no orphans, no sockets")
def int_run(ctx):
    signal_run(ctx, signal.SIGINT, 0)


@case("signals", "SIGHUP to runnel run: no orphans, no sockets")
def hup_run(ctx):
    name, run = start_run(ctx)
    run.send_signal(signal.SIGHUP)
    ctx.finish(run, timeout=20)
    expect_clean(ctx, name, run)


@case("signals", "SIGKILL to runnel run: its stages do not outlive it", timeout=60)
def kill_run(ctx):
    name, run = start_run(ctx)
    stages = [p for p in session_members(run.pid) if p != run.pid]
    run.send_signal(signal.SIGKILL)
    ctx.finish(run)
    ctx.wait_for(lambda: not any(p in session_members(run.pid) for p in stages), "the stages to end", timeout=20)
    # A killed supervisor cannot remove its sockets; the next run of the pipeline does (README).
    shutil.rmtree(run_directory(name), ignore_errors=True)


@case("signals", "SIGKILL to a stage of runnel run: restarted, every page through")
def kill_stage_in_run(ctx):
    name, run = start_run(ctx, pages=30, relay_delay="20ms")
    stages = [p for p in session_members(run.pid) if p != run.pid]
    relay = [p for p in stages if b"relay" in open(f"/proc/{p}/cmdline", "rb").read()]
    ctx.expect(relay != [], "no relay process")
    os.kill(relay[0], signal.SIGKILL)
    status, _, err = ctx.finish(run, timeout=60)
    ctx.expect_exit(status, 0)
    ctx.expect_in("30/30 sources done", err, "stderr")
    expect_clean(ctx, name, run)


@case("signals", "SIGTERM to a stage of runnel run: restarted, every page through")
def term_stage_in_run(ctx):
    name, run = start_run(ctx, pages=30, relay_delay="20ms")

    def fetch_pids():
        pids = []
        for p in session_members(run.pid):
            try:
                if p != run.pid and b"fetch" in open(f"/proc/{p}/cmdline", "rb").read():
                    pids.append(p)
            except OSError:
                pass  # gone since it was listed
        return pids

    # The stages start one after another: wait for fetch itself, not for any three processes.
    found = []

    def seen():
        found[:] = fetch_pids()
        return bool(found)

    ctx.wait_for(seen, "a fetch process")
    os.kill(found[0], signal.SIGTERM)
    status, _, err = ctx.finish(run, timeout=60)
    ctx.expect_exit(status, 0)
    ctx.expect_in("30/30 sources done", err, "stderr")
    expect_clean(ctx, name, run)


@case("signals", "runnel run with its stderr closed early")
def run_stderr_closed(ctx):
    name, path = pipeline(ctx, pages=10, relay_delay="1ms")
    run = ctx.spawn(["run", "--no-progress", path], stderr=subprocess.PIPE)
    run.stderr.close()
    status, _, _ = ctx.finish(run, timeout=40)
    ctx.expect_exit(status, 0)
    expect_clean(ctx, name, run)

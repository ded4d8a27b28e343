"""Commands and flags: wrong flags, numbers out of range, wrong endpoints, missing files,
directories where files belong, empty input. Exit statuses as the README's "Exit status" says:
64 for a wrong flag, argument or endpoint, 74 for a file that cannot be opened, read or written,
69 for a peer that is not there, 65 for bad input, 0 for nothing to do."""
import os

from harness import case
from cli_support import lines, write_messages

# Cases that show a bug in code this suite's owner may not change; each is reported.
EXPECTED_TO_FAIL_UNTIL_FIXED: set[str] = set()


def usage(ctx, args, needle=None):
    r = ctx.run(args)
    ctx.expect_exit(r, 64)
    if needle:
        ctx.expect_in(needle, r.stderr, "stderr")
    ctx.expect("Fatal error" not in r.stderr.decode(errors="replace"), "a Swift trap on stderr")
    return r


# Unknown commands and flags ---------------------------------------------------------------

@case("cli", "an unknown subcommand")
def unknown_subcommand(ctx):
    usage(ctx, ["frobnicate"], "frobnicate")


@case("cli", "an unknown flag")
def unknown_flag(ctx):
    usage(ctx, ["cat", "--bogus"], "--bogus")


@case("cli", "a flag that wants a value given none")
def flag_without_value(ctx):
    usage(ctx, ["relay", "--window"], "--window")


@case("cli", "a missing required argument")
def missing_argument(ctx):
    usage(ctx, ["health"], "endpoint")


@case("cli", "an unknown subcommand of log")
def unknown_log_subcommand(ctx):
    usage(ctx, ["log", "bogus"], "bogus")


@case("cli", "search without words")
def search_no_words(ctx):
    usage(ctx, ["search", "--db", "x.sqlite"], "words")


@case("cli", "wrap without a command after --")
def wrap_no_command(ctx):
    usage(ctx, ["wrap"], "--")


@case("cli", "a stage flag given to a command that has none (cat --listen)")
def flag_of_another_command(ctx):
    usage(ctx, ["cat", "--listen", "unix:/tmp/x.sock"], "--listen")


@case("cli", "an unknown --log-level")
def bad_log_level(ctx):
    usage(ctx, ["relay", "--log-level", "loud"], "--log-level")


@case("cli", "an unknown --log-format")
def bad_log_format(ctx):
    usage(ctx, ["relay", "--log-format", "xml"], "--log-format")


@case("cli", "an unknown level in RUNNEL_LOG_LEVEL")
def bad_log_level_env(ctx):
    r = ctx.run(["relay"], env={"RUNNEL_LOG_LEVEL": "loud"})
    ctx.expect_exit(r, 64)
    ctx.expect_in("RUNNEL_LOG_LEVEL", r.stderr)


# Numbers out of range ---------------------------------------------------------------------

@case("cli", "a size of 1e300")
def size_1e300(ctx):
    usage(ctx, ["cat", "--max-line", "1e300"], "--max-line")


@case("cli", "a negative size")
def size_negative(ctx):
    usage(ctx, ["cat", "--max-line", "-1"], "--max-line")


@case("cli", "a size of NaN")
def size_nan(ctx):
    usage(ctx, ["cat", "--max-line", "NaN"], "--max-line")


@case("cli", "a size of inf")
def size_inf(ctx):
    usage(ctx, ["cat", "--max-line", "inf"], "--max-line")


@case("cli", "a size in hex (0x10)")
def size_hex(ctx):
    usage(ctx, ["cat", "--max-line", "0x10"], "--max-line")


@case("cli", "a size of zero")
def size_zero(ctx):
    usage(ctx, ["cat", "--max-line", "0"], "--max-line")


@case("cli", "a size past 1024TiB")
def size_huge(ctx):
    usage(ctx, ["relay", "--capture-max-bytes", "2048TiB"], "--capture-max-bytes")


@case("cli", "a size with two decimal points")
def size_two_points(ctx):
    usage(ctx, ["relay", "--capture-max-bytes", "1.5.5MiB"], "--capture-max-bytes")


@case("cli", "a body limit of zero bytes (fetch --max-bytes 0)")
def fetch_max_bytes_zero(ctx):
    usage(ctx, ["fetch", "--max-bytes", "0"], "--max-bytes")


@case("cli", "a duration of 1e300 days")
def duration_1e300(ctx):
    usage(ctx, ["relay", "--delay", "1e300d"], "--delay")


@case("cli", "a duration past 36500 days")
def duration_huge(ctx):
    usage(ctx, ["relay", "--delay", "99999999999999999999s"], "--delay")


@case("cli", "a negative duration")
def duration_negative(ctx):
    usage(ctx, ["relay", "--ack-timeout", "-1s"], "--ack-timeout")


@case("cli", "a duration of NaN")
def duration_nan(ctx):
    usage(ctx, ["relay", "--ack-timeout", "NaN"], "--ack-timeout")


@case("cli", "a duration of inf")
def duration_inf(ctx):
    usage(ctx, ["relay", "--ack-timeout", "inf"], "--ack-timeout")


@case("cli", "a zero fetch timeout")
def fetch_timeout_zero(ctx):
    usage(ctx, ["fetch", "--timeout", "0s"], "--timeout")


@case("cli", "a refresh interval below its floor (top --interval 0s)")
def top_interval_zero(ctx):
    usage(ctx, ["top", "--interval", "0s"], "--interval")


@case("cli", "a count of zero (--window 0)")
def window_zero(ctx):
    usage(ctx, ["relay", "--window", "0"], "--window")


@case("cli", "a negative count (--window -1)")
def window_negative(ctx):
    usage(ctx, ["relay", "--window", "-1"], "--window")


@case("cli", "a count past Int64 (--window 99999999999999999999)")
def window_overflow(ctx):
    usage(ctx, ["relay", "--window", "99999999999999999999"], "--window")


@case("cli", "a count in hex (--window 0x10)")
def window_hex(ctx):
    usage(ctx, ["relay", "--window", "0x10"], "--window")


@case("cli", "a batch of zero")
def batch_zero(ctx):
    usage(ctx, ["relay", "--batch", "0"], "--batch")


@case("cli", "a zstd level past 19 (relay)")
def level_high(ctx):
    usage(ctx, ["relay", "--level", "99"], "--level")


@case("cli", "a zstd level past 19 (cat --zstd)")
def cat_level_high(ctx):
    usage(ctx, ["cat", "--zstd", "--level", "20"], "--level")


@case("cli", "a zstd window log below 10")
def window_log_low(ctx):
    usage(ctx, ["relay", "--max-window-log", "9"], "--max-window-log")


@case("cli", "a zstd window log above 31")
def window_log_high(ctx):
    usage(ctx, ["relay", "--max-window-log", "32"], "--max-window-log")


@case("cli", "zero fetches in flight (fetch --concurrency 0)")
def concurrency_zero(ctx):
    usage(ctx, ["fetch", "--concurrency", "0"], "--concurrency")


@case("cli", "zero requests per host")
def per_host_zero(ctx):
    usage(ctx, ["fetch", "--per-host", "0"], "--per-host")


@case("cli", "a negative redirect count")
def redirects_negative(ctx):
    usage(ctx, ["fetch", "--max-redirects", "-1"], "--max-redirects")


@case("cli", "a replay speed of zero")
def speed_zero(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--speed", "0"], "--speed")


@case("cli", "a replay speed of NaN")
def speed_nan(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--speed", "NaN"], "--speed")


@case("cli", "a replay speed of inf")
def speed_inf(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--speed", "inf"], "--speed")


@case("cli", "a replay speed of 1e300")
def speed_1e300(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--speed", "1e300"], "--speed")


@case("cli", "a --since that is not a time")
def since_garbage(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--since", "garbage"], "not a time")


@case("cli", "a --since in month 13")
def since_month_13(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--since", "2026-13-45T00:00:00Z"], "not a time")


@case("cli", "a --where without =")
def where_without_equals(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--where", "nofield"], "--where")


@case("cli", "a negative replay --limit")
def replay_limit_negative(ctx):
    usage(ctx, ["replay", "x", "--to", "-", "--limit", "-5"], "--limit")


@case("cli", "a search --limit of zero")
def search_limit_zero(ctx):
    usage(ctx, ["search", "--db", "x.sqlite", "--limit", "0", "a"], "--limit")


# Wrong endpoints --------------------------------------------------------------------------

@case("cli", "a unix: socket path longer than sun_path")
def unix_path_too_long(ctx):
    usage(ctx, ["relay", "--listen", "unix:/" + "a" * 200 + "/x.sock"], "too long")


@case("cli", "a unix: socket under a file, not a directory")
def unix_under_file(ctx):
    ctx.write("afile", "x")
    r = ctx.run(["relay", "--listen", "unix:" + ctx.path("afile/x.sock")])
    ctx.expect_exit(r, 69)
    ctx.expect_in("Not a directory", r.stderr)


@case("cli", "unix: with no path")
def unix_no_path(ctx):
    usage(ctx, ["health", "unix:"], "needs a path")


@case("cli", "a tcp:// port of 65536")
def tcp_port_65536(ctx):
    usage(ctx, ["relay", "--listen", "tcp://127.0.0.1:65536", "--insecure"], "port")


@case("cli", "a tcp:// port of -1")
def tcp_port_negative(ctx):
    usage(ctx, ["health", "tcp://127.0.0.1:-1"], "port")


@case("cli", "a tcp:// endpoint without a port")
def tcp_no_port(ctx):
    usage(ctx, ["health", "tcp://127.0.0.1"], "port")


@case("cli", "a tcp:// endpoint with an unclosed [ in its host")
def tcp_bad_ipv6(ctx):
    usage(ctx, ["health", "tcp://[::1:5"])


@case("cli", "an endpoint with an unknown scheme")
def unknown_scheme(ctx):
    usage(ctx, ["relay", "--listen", "gopher://x"], "gopher")


@case("cli", "an empty endpoint")
def empty_endpoint(ctx):
    usage(ctx, ["relay", "--listen", ""], "endpoint")


@case("cli", "an fd: endpoint where a socket is needed")
def fd_not_socket(ctx):
    usage(ctx, ["describe", "fd:99"], "not a socket")


@case("cli", "call on stdin instead of a socket")
def call_stdin(ctx):
    usage(ctx, ["call", "-"], "socket")


@case("cli", "recv without a socket to listen on")
def recv_stdin(ctx):
    usage(ctx, ["recv", "--listen", "-"], "socket")


@case("cli", "tcp --listen without a key or --insecure")
def tcp_listen_without_key(ctx):
    r = ctx.run(["relay", "--listen", "tcp://127.0.0.1:0"], env={"RUNNEL_KEY": ""})
    ctx.expect_exit(r, 78)
    ctx.expect_in("FAILED_PRECONDITION", r.stderr)


@case("cli", "a key that is not 64 hex digits")
def key_not_hex(ctx):
    ctx.write("key", "short\n")
    r = ctx.run(["relay", "--key-file", ctx.path("key"), "--listen", "tcp://127.0.0.1:0"])
    ctx.expect_exit(r, 64)


@case("cli", "health of a socket nobody listens on")
def health_nobody(ctx):
    r = ctx.run(["health", "unix:" + ctx.socket_path("none")])
    ctx.expect_exit(r, 69)
    ctx.expect_in("UNAVAILABLE", r.stderr)


@case("cli", "describe of a path that is a plain file")
def describe_plain_file(ctx):
    ctx.write("plain.sock", "not a socket")
    r = ctx.run(["describe", "unix:" + ctx.path("plain.sock")])
    ctx.expect_exit(r, 69)


@case("cli", "health of a refused tcp:// port")
def health_refused_tcp(ctx):
    r = ctx.run(["health", f"tcp://127.0.0.1:{ctx.free_port()}", "--timeout", "3s"])
    ctx.expect_exit(r, 69)


@case("cli", "a pipeline name with .. in status --name")
def status_name_traversal(ctx):
    r = ctx.run(["status", "--name", "../../etc"])
    ctx.expect_exit(r, 64)
    ctx.expect_in("--name", r.stderr)


@case("cli", "status of a pipeline that is not running")
def status_not_running(ctx):
    r = ctx.run(["status", "--name", "adv-nothing-here-" + os.path.basename(ctx.directory)[4:]])
    ctx.expect_exit(r, 69)
    ctx.expect_in("is the pipeline running", r.stderr)


@case("cli", "restart, stop and tap of a pipeline that is not running")
def control_not_running(ctx):
    name = "adv-nothing-" + os.path.basename(ctx.directory)[4:]
    for args in (["restart", "x", "--name", name], ["stop", "--name", name], ["tap", "x", "--name", name]):
        r = ctx.run(args)
        ctx.expect_exit(r, 69)


@case("cli", "a metrics endpoint with an unknown scheme")
def metrics_bad_scheme(ctx):
    from cli_support import pipeline, pages_dir
    pages_dir(ctx)
    file = pipeline(ctx, "metrics", '[source]\ndirectory = "pages"\n[[stage]]\nname = "relay"\n')
    usage(ctx, ["run", file, "--metrics", "gopher://x"], "gopher")


@case("cli", "run --host on a file without [hosts]")
def run_host_without_hosts(ctx):
    from cli_support import pipeline, pages_dir
    pages_dir(ctx)
    file = pipeline(ctx, "hosts", '[source]\ndirectory = "pages"\n[[stage]]\nname = "relay"\n')
    r = ctx.run(["run", file, "--host", "nohost"])
    ctx.expect_exit(r, 78)


# Missing files, directories, unreadable files, empty input --------------------------------

@case("cli", "cat of a missing file")
def cat_missing(ctx):
    r = ctx.run(["cat", "nofile"])
    ctx.expect_exit(r, 74)
    ctx.expect_in("NOT_FOUND", r.stderr)


@case("cli", "cat of a directory")
def cat_directory(ctx):
    os.mkdir(ctx.path("adir"))
    r = ctx.run(["cat", "adir"])
    ctx.expect_exit(r, 74)


@case("cli", "validate of a directory")
def validate_directory(ctx):
    os.mkdir(ctx.path("adir"))
    r = ctx.run(["validate", "adir"])
    ctx.expect_exit(r, 74)


@case("cli", "cat reads on after a missing file, exits 74")
def cat_missing_then_good(ctx):
    write_messages(ctx, "good.jsonl", 3)
    r = ctx.run(["cat", "nofile", "good.jsonl"])
    ctx.expect_exit(r, 74)
    count = r.stdout.count(b"\n")
    ctx.expect(count == 3, f"the good file's 3 lines, got {count}")


@case("cli", "send of a missing file")
def send_missing(ctx):
    r = ctx.run(["send", "unix:" + ctx.socket_path("none"), "nofile"])
    ctx.expect_exit(r, 74)


@case("cli", "replay of a missing log")
def replay_missing(ctx):
    r = ctx.run(["replay", "nofile", "--to", "-"])
    ctx.expect_exit(r, 74)
    ctx.expect_in("NOT_FOUND", r.stderr)


@case("cli", "log check of a missing log")
def log_check_missing(ctx):
    r = ctx.run(["log", "check", "nofile"])
    ctx.expect_exit(r, 74)


@case("cli", "log stats of a directory")
def log_stats_directory(ctx):
    os.mkdir(ctx.path("adir"))
    r = ctx.run(["log", "stats", "adir"])
    ctx.expect_exit(r, 74)


@case("cli", "search and export of a missing database")
def search_missing_db(ctx):
    for args in (["search", "--db", "nofile.sqlite", "x"], ["export", "--db", "nofile.sqlite"]):
        r = ctx.run(args)
        ctx.expect_exit(r, 74)
        ctx.expect("nofile.sqlite" not in os.listdir(ctx.directory), f"{args[0]} created the database")


@case("cli", "fetch --allow-files naming a missing directory")
def allow_files_missing(ctx):
    usage(ctx, ["fetch", "--allow-files", "nodir"], "--allow-files")


@case("cli", "fetch --allow-files naming a file")
def allow_files_file(ctx):
    ctx.write("afile", "x")
    usage(ctx, ["fetch", "--allow-files", "afile"], "--allow-files")


@case("cli", "a missing key file")
def key_file_missing(ctx):
    r = ctx.run(["relay", "--key-file", "nofile", "--listen", "tcp://127.0.0.1:0"])
    ctx.expect_exit(r, 74)


@case("cli", "an unreadable key file")
def key_file_unreadable(ctx):
    path = ctx.write("key", "ab" * 32 + "\n")
    os.chmod(path, 0)
    if os.getuid() == 0:
        path = ctx.path("adir")  # root reads anything: a directory is what it cannot read
        os.mkdir(path)
    r = ctx.run(["relay", "--key-file", path, "--listen", "tcp://127.0.0.1:0"])
    ctx.expect_exit(r, 74)


@case("cli", "key new over an existing file")
def key_new_exists(ctx):
    ctx.write("key", "keep me")
    r = ctx.run(["key", "new", ctx.path("key")])
    ctx.expect_exit(r, 74)
    ctx.expect(open(ctx.path("key")).read() == "keep me", "the existing key file was changed")


@case("cli", "key new in a missing directory")
def key_new_no_dir(ctx):
    r = ctx.run(["key", "new", ctx.path("nodir/k")])
    ctx.expect_exit(r, 74)


@case("cli", "a dead-letter path that is a directory")
def dead_letter_directory(ctx):
    os.mkdir(ctx.path("adir"))
    r = ctx.run(["relay", "--dead-letter", "adir"], input=lines(1))
    ctx.expect_exit(r, 74)


@case("cli", "a file: output that is a directory")
def output_directory(ctx):
    os.mkdir(ctx.path("adir"))
    r = ctx.run(["relay", "--to", "file:adir"], input=lines(1))
    ctx.expect_exit(r, 74)


@case("cli", "a file: input that is missing")
def input_missing(ctx):
    r = ctx.run(["relay", "--listen", "file:nofile"])
    ctx.expect_exit(r, 74)


@case("cli", "--cursor with a socket input")
def cursor_with_socket_input(ctx):
    r = ctx.run(["relay", "--cursor", "c", "--listen", "unix:" + ctx.socket_path()])
    ctx.expect_exit(r, 64)
    ctx.expect_in("--cursor", r.stderr)


@case("cli", "wrap of a program that does not exist")
def wrap_missing_program(ctx):
    r = ctx.run(["wrap", "--", "/no/such/program"], input=lines(1))
    ctx.expect_exit(r, 127)  # as wrap --help says, like a shell


@case("cli", "empty stdin to every filter")
def empty_stdin(ctx):
    for args in (["cat"], ["relay"], ["parse"], ["enrich"], ["fetch"]):
        r = ctx.run(args, input=b"")
        ctx.expect_exit(r, 0)
        ctx.expect(r.stdout == b"", f"{args[0]} wrote {r.stdout[:80]!r} for no input")
    r = ctx.run(["validate"], input=b"")
    ctx.expect_exit(r, 0)
    ctx.expect_in("0 valid, 0 invalid", r.stdout)


@case("cli", "empty file to cat, validate and log check")
def empty_file(ctx):
    ctx.write("empty.jsonl", b"")
    for args in (["cat", "empty.jsonl"], ["validate", "empty.jsonl"], ["log", "check", "empty.jsonl"]):
        r = ctx.run(args)
        ctx.expect_exit(r, 0)


@case("cli", "key new --force onto a FIFO or a directory")
def key_force_not_a_file(ctx):
    os.mkfifo(ctx.path("fifo"))
    os.mkdir(ctx.path("adir"))
    for name in ("fifo", "adir"):
        r = ctx.run(["key", "new", "--force", ctx.path(name)])
        ctx.expect_exit(r, 64)
    import stat
    ctx.expect(stat.S_ISFIFO(os.lstat(ctx.path("fifo")).st_mode), "the FIFO was replaced by a file")

"""Pipeline files for `runnel check` and `runnel run`: each wrong in one way. `check` reports
every problem as FILE:LINE and exits 78 (EX_CONFIG); `run` refuses the same file with 78 before
starting anything. A file that cannot be read at all is 74."""
import os

from harness import case
from cli_support import pages_dir, unique_name

EXPECTED_TO_FAIL_UNTIL_FIXED: set = set()

SOURCE = '[source]\ndirectory = "pages"\n'
RELAY = '[[stage]]\nname = "relay"\n'


def check(ctx, text, line=None, needle=None, file="p.toml", status=78, run_too=False):
    """`runnel check` on `text`: exit `status`, the problem at `file:line`, naming `needle`."""
    pages_dir(ctx, 1)
    if run_too and file == "p.toml":  # the file's name is the pipeline's: one no other case runs
        file = unique_name(ctx, "cfg") + ".toml"
    path = ctx.write(file, text)
    r = ctx.run(["check", path])
    ctx.expect_exit(r, status)
    err = r.stderr.decode(errors="replace")
    ctx.expect("Fatal error" not in err, "a Swift trap")
    if line is not None:
        ctx.expect_in(f"{file}:{line}:", err, "stderr")
    if needle:
        ctx.expect_in(needle, err, "stderr")
    if run_too:
        started = ctx.run(["run", "--no-progress", path], timeout=20)
        ctx.expect_exit(started, status)
        ctx.expect(not os.path.exists(ctx.path(".runnel")) or not _sockets(ctx), "run left sockets")
    return r


def _sockets(ctx):
    return [n for _, _, names in os.walk(ctx.path(".runnel")) for n in names if n.endswith(".sock")]


def named(ctx, body):
    return f'[pipeline]\nname = "{unique_name(ctx, "cfg")}"\n' + body


@case("config", "an unknown key, with the key meant")
def unknown_key(ctx):
    check(ctx, '[pipeline]\nnmae = "x"\n' + SOURCE + RELAY, 2, 'did you mean "name"')


@case("config", "an unknown top-level table")
def unknown_table(ctx):
    check(ctx, SOURCE + RELAY + "[extra]\nx = 1\n", 5, "extra")


@case("config", "an unknown key in a [[stage]]")
def unknown_stage_key(ctx):
    check(ctx, SOURCE + RELAY + "bogus = 1\n", 5, "bogus")


@case("config", "a string where an integer belongs")
def wrong_type_integer(ctx):
    check(ctx, '[pipeline]\nmax_restarts = "ten"\n' + SOURCE + RELAY, 2, "expected an integer")


@case("config", "an integer where a string belongs")
def wrong_type_string(ctx):
    check(ctx, "[pipeline]\nstrategy = 3\n" + SOURCE + RELAY, 2, "strategy")


@case("config", "an array of numbers where strings belong")
def args_numbers(ctx):
    check(ctx, SOURCE + RELAY + "args = [1, 2]\n", 5, "array of strings")


@case("config", "a table where [[stage]] tables belong")
def stage_not_array(ctx):
    check(ctx, SOURCE + '[stage]\nname = "relay"\n', 3, "[[stage]]")


@case("config", "a program that does not exist")
def missing_command(ctx):
    check(ctx, SOURCE + '[[stage]]\nname = "x"\ncommand = ["/no/such/prog"]\n', 3, "/no/such/prog", run_too=True)


@case("config", "an empty command")
def empty_command(ctx):
    check(ctx, SOURCE + '[[stage]]\nname = "x"\ncommand = []\n', 5, "command")


@case("config", "a command that is not a Runnel stage")
def not_a_stage(ctx):
    check(ctx, SOURCE + '[[stage]]\nname = "x"\ncommand = ["true"]\n', 3, "did not describe itself")


@case("config", "a stage that runs the pipeline itself (a cycle)")
def self_running(ctx):
    runnel = os.path.abspath(ctx.runnel)
    check(ctx, SOURCE + f'[[stage]]\nname = "x"\ncommand = ["{runnel}", "run", "p.toml"]\n', 3, "did not describe itself")


@case("config", "a stage that never answers --describe")
def silent_describe(ctx):
    pages_dir(ctx, 1)
    path = ctx.write("p.toml", SOURCE + '[[stage]]\nname = "x"\ncommand = ["sh", "-c", "sleep 60"]\n')
    r = ctx.run(["check", path, "--timeout", "500ms"])
    ctx.expect_exit(r, 78)
    ctx.expect_in("p.toml:3:", r.stderr)
    ctx.expect_in("killed", r.stderr)


@case("config", "a stage's flag out of range in args")
def bad_stage_arg(ctx):
    check(ctx, SOURCE + RELAY + 'args = ["--window", "0"]\n', 3, "--window must be at least 1")


@case("config", "two stages with one name")
def duplicate_stage(ctx):
    check(ctx, SOURCE + RELAY + RELAY, 6, "defined twice", run_too=True)


@case("config", "a key given twice")
def duplicate_key(ctx):
    check(ctx, '[pipeline]\nname = "a"\nname = "b"\n' + SOURCE + RELAY, 3, "name")


@case("config", "no [[stage]] at all")
def no_stages(ctx):
    check(ctx, SOURCE, None, "no [[stage]]")


@case("config", "no [source]")
def no_source(ctx):
    check(ctx, RELAY, None, "[source] is missing")


@case("config", "[source] with both urls and directory")
def both_sources(ctx):
    check(ctx, '[source]\nurls = "u.txt"\ndirectory = "pages"\n' + RELAY, 3, "not both")


@case("config", "a [source] directory that does not exist")
def source_dir_missing(ctx):
    check(ctx, named(ctx, '[source]\ndirectory = "nopages"\n' + RELAY), 4, "does not exist")


@case("config", "a [source] URL file that does not exist")
def source_urls_missing(ctx):
    check(ctx, named(ctx, '[source]\nurls = "nourls.txt"\n' + RELAY), 4, "does not exist")


@case("config", "neighbours whose message types do not match")
def mismatched_types(ctx):
    check(ctx, SOURCE + '[[stage]]\nname = "store"\nargs = ["--db", "x.sqlite"]\n[[stage]]\nname = "parse"\n',
          6, "accepts only page.fetched", run_too=True)


@case("config", "a source whose type the first stage does not take")
def source_type_mismatch(ctx):
    check(ctx, SOURCE + '[[stage]]\nname = "enrich"\n', 3, "accepts only")
    ctx.expect(not os.path.exists(ctx.path("x.sqlite")), "check created a database")


@case("config", "an unknown restart strategy, with the one meant")
def bad_strategy(ctx):
    check(ctx, '[pipeline]\nstrategy = "all_for_none"\n' + SOURCE + RELAY, 2, "one_for_one")


@case("config", "an unknown restart type")
def bad_restart(ctx):
    check(ctx, SOURCE + RELAY + 'restart = "sometimes"\n', 5, "permanent")


@case("config", "a negative max_restarts")
def negative_restarts(ctx):
    check(ctx, "[pipeline]\nmax_restarts = -1\n" + SOURCE + RELAY, 2, "at least 0")


@case("config", "zero replicas")
def zero_replicas(ctx):
    check(ctx, SOURCE + RELAY + "replicas = 0\n", 5, "at least 1")


@case("config", "a port past 65535")
def port_too_big(ctx):
    check(ctx, SOURCE + RELAY + "port = 70000\n", 5, "65535")


@case("config", "a period of 1e300 days")
def period_1e300(ctx):
    check(ctx, '[pipeline]\nperiod = "1e300d"\n' + SOURCE + RELAY, 2, "period")


@case("config", "a period below one second")
def period_too_short(ctx):
    check(ctx, '[pipeline]\nperiod = "1ms"\n' + SOURCE + RELAY, 2, "period")


@case("config", "a backoff whose max is below its initial")
def backoff_inverted(ctx):
    check(ctx, '[pipeline]\nbackoff = { initial = "10s", max = "1s" }\n' + SOURCE + RELAY, 2, "shorter than initial")


@case("config", "a jitter past 1")
def jitter_too_big(ctx):
    check(ctx, '[pipeline]\nbackoff = { initial = "100ms", max = "5s", jitter = 7 }\n' + SOURCE + RELAY, 2, "jitter")


@case("config", "a duration and its deprecated spelling both given")
def duration_twice(ctx):
    check(ctx, '[pipeline]\nperiod = "60s"\nperiod_s = 60\n' + SOURCE + RELAY, 3, "not both")


@case("config", "a pipeline name with .. and /")
def name_traversal(ctx):
    check(ctx, '[pipeline]\nname = "../../etc"\n' + SOURCE + RELAY, 2, "letters, digits")


@case("config", "a pipeline name too long for its socket paths")
def name_too_long(ctx):
    check(ctx, '[pipeline]\nname = "' + "a" * 300 + '"\n' + SOURCE + RELAY, 2, "too long", run_too=True)


@case("config", "a capture of a link between stages that do not exist")
def capture_unknown(ctx):
    check(ctx, 'capture = ["a->b"]\n' + SOURCE + RELAY, 1, 'no stage named "a"')


@case("config", "a stage on a host without [hosts]")
def host_unknown(ctx):
    check(ctx, SOURCE + RELAY + 'host = "nowhere"\n', 5, "nowhere")


@case("config", "unclosed table header")
def unclosed_header(ctx):
    check(ctx, '[[stage]\nname = "relay"\n', 1, "expected ']]' at the end of an array-of-tables header")


@case("config", "an unterminated string")
def unterminated_string(ctx):
    check(ctx, SOURCE + '[[stage]]\nname = "relay\n', 4)


@case("config", "100,000 nested arrays")
def deep_arrays(ctx):
    check(ctx, SOURCE + RELAY + "x = " + "[" * 100_000 + "\n", 5, "nest more than 32")


@case("config", "100,000 nested inline tables")
def deep_tables(ctx):
    check(ctx, SOURCE + RELAY + "x = " + "{a = " * 100_000 + "\n", 5, "nest")


@case("config", "a key of 100,000 dotted parts")
def deep_dotted(ctx):
    check(ctx, SOURCE + RELAY + ".".join(["a"] * 100_000) + " = 1\n", 5, "nest")


@case("config", "a 45 MB file")
def huge_file(ctx):
    pages_dir(ctx, 1)
    path = ctx.write("p.toml", SOURCE + RELAY + "# a comment line\n" * 3_000_000)
    r = ctx.run(["check", path])
    ctx.expect_exit(r, 78)
    ctx.expect_in("1048576", r.stderr)


@case("config", "binary garbage")
def binary_garbage(ctx):
    check(ctx, bytes(range(256)) * 10, 1, "NUL")


@case("config", "a NUL byte in a comment")
def nul_byte(ctx):
    check(ctx, (SOURCE + RELAY).encode() + b"# \0\n", 5, "NUL")


@case("config", "UTF-16 text")
def utf16(ctx):
    check(ctx, (SOURCE + RELAY).encode("utf-16"), 1)


@case("config", "bytes that are not UTF-8 in a value")
def not_utf8(ctx):
    check(ctx, (SOURCE + '[[stage]]\nname = "').encode() + b"\xff\xfe" + b'"\n', 4, "name")


@case("config", "a byte order mark (accepted)")
def bom(ctx):
    check(ctx, b"\xef\xbb\xbf" + (SOURCE + RELAY).encode(), status=0)


@case("config", "CRLF line ends (accepted; problems at the right line)")
def crlf(ctx):
    check(ctx, (SOURCE + RELAY).replace("\n", "\r\n").encode(), status=0)
    check(ctx, (SOURCE + RELAY + "bogus = 1\n").replace("\n", "\r\n").encode(), 5, "bogus", file="q.toml")


@case("config", "an empty file")
def empty_file(ctx):
    check(ctx, "", None, "no [[stage]]")


@case("config", "a pipeline file that is a directory")
def directory_file(ctx):
    os.mkdir(ctx.path("p.toml"))
    r = ctx.run(["check", ctx.path("p.toml")])
    ctx.expect_exit(r, 74)
    r = ctx.run(["run", ctx.path("p.toml")])
    ctx.expect_exit(r, 74)


@case("config", "a pipeline file that does not exist")
def missing_file(ctx):
    for command in ("check", "run"):
        r = ctx.run([command, ctx.path("none.toml")])
        ctx.expect_exit(r, 74)
        ctx.expect_in("NOT_FOUND", r.stderr)


@case("config", "every problem reported, not only the first")
def many_problems(ctx):
    r = check(ctx, '[pipeline]\nnmae = "x"\nmax_restarts = -1\n' + SOURCE + RELAY + "replicas = 0\n", 2)
    ctx.expect_in("p.toml:3:", r.stderr)
    ctx.expect_in("p.toml:8:", r.stderr)
    ctx.expect_in("3 problems", r.stderr)


@case("config", "links: a nats:// URL that is malformed, or not a kind of link")
def malformed_links(ctx):
    for links, needle in [
        ("nats://127.0.0.1:99999", "the port must be a number"),
        ("nats://127.0.0.1:4222?ack_wait=forever", "ack_wait must be a duration"),
        ("nats://127.0.0.1:4222?stream=S", "each link has its own stream"),
        ("nats://127.0.0.1:4222/a..b", "empty token"),
        ("nats://user:secret@127.0.0.1:4222", "credentials in the URL are not supported"),
        ("amqp://127.0.0.1", "is not a kind of link"),
    ]:
        r = check(ctx, named(ctx, f'links = "{links}"\n' + SOURCE + RELAY), 3, needle, run_too=True)
        ctx.expect("secret" not in r.stderr.decode(errors="replace"), "the password was echoed")
        ctx.expect_in('links = "', r.stderr, "stderr (the fix)")

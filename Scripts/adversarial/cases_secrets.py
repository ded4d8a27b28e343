"""Secrets never appear in messages, logs, `describe`, `status` or error texts (issue 12).

The secrets Runnel handles: the shared key (RUNNEL_KEY, --key-file, a pipeline's key_file), a
PostgreSQL password in a --db URL (or PGPASSWORD), NATS credentials or a token in a nats:// URL,
and TLS private keys (--tls-key, --tls-client-key). Each case runs a command with a recognisable
secret, at `--log-level trace --log-format json`, and searches everything it wrote: stdout,
stderr, files it made (capture logs, databases, dead letters), `describe`, `status --json`."""
import os
import signal
import subprocess

from harness import case
from cli_support import expect_absent, files_text, lines, pages_dir, unique_name

EXPECTED_TO_FAIL_UNTIL_FIXED: set[str] = set()

KEY = "5ec7e75ec7e7" * 5 + "5ec7"  # 64 hex digits, easy to find
PASSWORD = "S3cretPassw0rdXYZ"
TRACE = ["--log-level", "trace", "--log-format", "json"]


def clean(ctx, r, *more, secret=PASSWORD):
    expect_absent(ctx, secret, r.stdout, r.stderr, *more, where="the output")


def key_file(ctx):
    return ctx.write("runnel.key", KEY + "\n")


@case("secrets", "RUNNEL_KEY in describe and trace logs")
def key_env_describe(ctx):
    for args in (["relay", "--describe"], ["parse", "--describe"], ["store", "--describe", "--db", "x.sqlite"]):
        r = ctx.run([*args, *TRACE], env={"RUNNEL_KEY": KEY})
        ctx.expect_exit(r, 0)
        clean(ctx, r, secret=KEY)


@case("secrets", "the key on a TCP link: both ends' logs, health, describe and a capture")
def key_on_tcp_link(ctx):
    port = ctx.free_port()
    env = {"RUNNEL_KEY": KEY}
    recv = ctx.spawn(["recv", "--listen", f"tcp://127.0.0.1:{port}", *TRACE], env=env)
    ctx.wait_for(lambda: ctx.run(["health", f"tcp://127.0.0.1:{port}"], env=env).returncode == 0, "recv serving")
    ctx.write("in.jsonl", lines(20))
    send = ctx.run(["send", f"tcp://127.0.0.1:{port}", "in.jsonl", *TRACE], env=env)
    ctx.expect_exit(send, 0)
    for args in (["health", f"tcp://127.0.0.1:{port}"], ["describe", f"tcp://127.0.0.1:{port}"]):
        r = ctx.run([*args, *TRACE], env=env)
        ctx.expect_exit(r, 0)
        clean(ctx, r, secret=KEY)
    relay_port = ctx.free_port()
    relay = ctx.spawn(["relay", "--listen", f"tcp://127.0.0.1:{relay_port}", "--to", f"tcp://127.0.0.1:{port}",
                       "--capture-in", "in.jsonl.zst", "--capture-out", "out.jsonl.zst", *TRACE], env=env)
    ctx.wait_for(lambda: ctx.run(["health", f"tcp://127.0.0.1:{relay_port}"], env=env).returncode == 0, "relay")
    ctx.expect_exit(ctx.run(["send", f"tcp://127.0.0.1:{relay_port}", "in.jsonl"], env=env), 0)
    outputs = []
    for process in (relay, recv):
        process.send_signal(signal.SIGTERM)
        status, out, err = ctx.finish(process)
        outputs += [out, err]
    clean(ctx, send, *outputs, files_text(ctx.directory).replace(KEY.encode() + b"\n", b""), secret=KEY)


@case("secrets", "a wrong key: the refusal names neither key")
def wrong_key(ctx):
    port = ctx.free_port()
    other = "ab" * 32
    recv = ctx.spawn(["recv", "--listen", f"tcp://127.0.0.1:{port}", *TRACE], env={"RUNNEL_KEY": KEY})
    ctx.wait_for(lambda: ctx.run(["health", f"tcp://127.0.0.1:{port}"], env={"RUNNEL_KEY": KEY}).returncode == 0,
                 "recv serving")
    r = ctx.run(["health", f"tcp://127.0.0.1:{port}", *TRACE], env={"RUNNEL_KEY": other})
    ctx.expect_exit(r, 77)
    recv.send_signal(signal.SIGTERM)
    _, out, err = ctx.finish(recv)
    for secret in (KEY, other):
        clean(ctx, r, out, err, secret=secret)


@case("secrets", "a key file too short to be a key: the error does not quote it")
def malformed_key_file(ctx):
    secret = "Sh0rtS3cr"  # fewer than the 16 bytes a key needs
    ctx.write("bad.key", secret + "\n")
    r = ctx.run(["relay", "--key-file", "bad.key", "--listen", "tcp://127.0.0.1:0", *TRACE])
    ctx.expect_exit(r, 64)
    clean(ctx, r, secret=secret)


@case("secrets", "RUNNEL_KEY too short to be a key: the error does not quote it")
def malformed_key_env(ctx):
    secret = "Sh0rtS3cr"
    r = ctx.run(["relay", "--listen", "tcp://127.0.0.1:0", *TRACE], env={"RUNNEL_KEY": secret})
    ctx.expect_exit(r, 64)
    clean(ctx, r, secret=secret)


@case("secrets", "key new prints nothing of the key it wrote")
def key_new_quiet(ctx):
    r = ctx.run(["key", "new", ctx.path("k"), *TRACE])
    ctx.expect_exit(r, 0)
    written = open(ctx.path("k")).read().strip()
    ctx.expect(len(written) == 64, "not a 64-digit key")
    clean(ctx, r, secret=written)
    ctx.expect(os.stat(ctx.path("k")).st_mode & 0o077 == 0, "the key file can be read by others")


def postgres(password=PASSWORD, rest="@127.0.0.1:1/news"):
    return f"postgres://runnel:{password}{rest}"


@case("secrets", "a PostgreSQL password in store, search and export against a server that is down")
def postgres_unreachable(ctx):
    for args in (["store", "--db", postgres(), "--max-attempts", "2"], ["search", "--db", postgres(), "x"],
                 ["export", "--db", postgres()]):
        r = ctx.run([*args, *TRACE], input=b"")
        ctx.expect_exit(r, 69)
        clean(ctx, r)
        ctx.expect_in("runnel@127.0.0.1", r.stderr)


@case("secrets", "a PostgreSQL URL that does not parse")
def postgres_malformed(ctx):
    for url in (postgres(rest="@[::1/news"), postgres(rest="@127.0.0.1:1/news?sslmode=bogus"),
                postgres(rest="@127.0.0.1:99999/news"), postgres(rest="@127.0.0.1:1/a/b"),
                postgres(rest="@127.0.0.1:1/news?password=x")):
        r = ctx.run(["store", "--db", url, *TRACE], input=b"")
        ctx.expect_exit(r, (64, 69))
        clean(ctx, r)


@case("secrets", "a PostgreSQL password holding @ and /")
def postgres_at_in_password(ctx):
    url = postgres(password="S3c@ret/Pw", rest="@127.0.0.1:1/news")
    for args in (["store", "--db", url], ["search", "--db", url, "x"]):
        r = ctx.run([*args, *TRACE], input=b"")
        for part in ("S3c@ret", "ret/Pw", "S3c"):
            clean(ctx, r, secret=part)


@case("secrets", "PGPASSWORD in the environment")
def pgpassword(ctx):
    r = ctx.run(["store", "--db", "postgres://runnel@127.0.0.1:1/news", *TRACE], input=b"",
                env={"PGPASSWORD": PASSWORD})
    ctx.expect_exit(r, 69)
    clean(ctx, r)


@case("secrets", "runnel check of a pipeline whose store has a password")
def check_pipeline(ctx):
    pages_dir(ctx, 1)
    path = ctx.write("p.toml", '[source]\ndirectory = "pages"\n[[stage]]\nname = "fetch"\n'
                     'args = ["--allow-files", "pages"]\n[[stage]]\nname = "parse"\n[[stage]]\nname = "store"\n'
                     f'args = ["--db", "{postgres()}", "--window", "0"]\nenv = {{ PGPASSWORD = "{PASSWORD}" }}\n')
    r = ctx.run(["check", path, *TRACE])
    ctx.expect_exit(r, 78)
    ctx.expect_in("--window", r.stderr)
    clean(ctx, r)


@case("secrets", "runnel run and status --json with a password in a stage's args and env", timeout=60)
def run_and_status(ctx):
    pages_dir(ctx, 3)
    name = unique_name(ctx, "sec")
    path = ctx.write("p.toml", f'[pipeline]\nname = "{name}"\nmax_restarts = 2\nperiod = "1m"\nshutdown_timeout = "2s"\n'
                     'backoff = { initial = "300ms", max = "300ms" }\n'
                     '[source]\ndirectory = "pages"\n[[stage]]\nname = "fetch"\n'
                     'args = ["--allow-files", "pages"]\n[[stage]]\nname = "parse"\n[[stage]]\nname = "store"\n'
                     f'args = ["--db", "{postgres()}", "--max-attempts", "1"]\n'
                     f'env = {{ PGPASSWORD = "{PASSWORD}" }}\n')
    run = ctx.spawn(["run", "--no-progress", path, *TRACE])
    statuses = []

    def status_seen():
        r = ctx.run(["status", "--name", name, "--json"])
        if r.returncode == 0:
            statuses.append(r)
        return len(statuses) >= 2 or run.poll() is not None
    ctx.wait_for(status_seen, "two answers to status", timeout=30)
    for args in (["top", "--name", name, "--once", "--json", "--interval", "100ms"],):
        r = ctx.run(args)
        if r.returncode == 0:
            statuses.append(r)
    if run.poll() is None:
        run.send_signal(signal.SIGTERM)
    _, out, err = ctx.finish(run, timeout=40)
    ctx.expect(statuses != [], "status never answered")
    for r in statuses:
        clean(ctx, r)
    from cases_signals import run_directory
    expect_absent(ctx, PASSWORD, files_text(run_directory(name)), where="the run directory")
    import shutil
    shutil.rmtree(run_directory(name), ignore_errors=True)
    expect_absent(ctx, PASSWORD, out, err, where="runnel run's output")
    expect_absent(ctx, PASSWORD, files_text(ctx.directory).replace(open(path, "rb").read(), b""),
                  where="the files the run wrote")


@case("secrets", "NATS user and password in a nats:// URL")
def nats_credentials(ctx):
    for args in (["relay", "--to", f"nats://runnel:{PASSWORD}@127.0.0.1:1/pages"],
                 ["relay", "--listen", f"nats://runnel:{PASSWORD}@127.0.0.1:1/pages"],
                 ["send", f"nats://runnel:{PASSWORD}@127.0.0.1:1/pages"]):
        r = ctx.run([*args, *TRACE], input=b"")
        ctx.expect_exit(r, 64)
        clean(ctx, r)


@case("secrets", "a NATS token in a nats:// URL")
def nats_token(ctx):
    r = ctx.run(["relay", "--to", f"nats://{PASSWORD}@127.0.0.1:1/pages", *TRACE], input=b"")
    ctx.expect_exit(r, 64)
    clean(ctx, r)


@case("secrets", "a TLS private key that is not PEM: the error does not quote it")
def tls_key_garbage(ctx):
    cert, key = make_certificate(ctx)
    ctx.write("bad.key", f"-----BEGIN PRIVATE KEY-----\n{PASSWORD}\n-----END PRIVATE KEY-----\n")
    r = ctx.run(["relay", "--listen", "tls://127.0.0.1:0", "--insecure", "--tls-cert", cert, "--tls-key",
                 ctx.path("bad.key"), *TRACE])
    ctx.expect_exit(r, (64, 78))
    clean(ctx, r)


@case("secrets", "a TLS private key that does not match its certificate")
def tls_key_mismatch(ctx):
    cert, key = make_certificate(ctx)
    _, other = make_certificate(ctx, "other")
    material = open(other).read().split("-----")[2].strip().splitlines()[1]
    r = ctx.run(["relay", "--listen", "tls://127.0.0.1:0", "--insecure", "--tls-cert", cert, "--tls-key", other,
                 *TRACE])
    ctx.expect(r.returncode != 0, "a key that is not the certificate's was taken")
    clean(ctx, r, secret=material)


@case("secrets", "a served TLS link: logs and describe show no key material")
def tls_served(ctx):
    cert, key = make_certificate(ctx)
    material = open(key).read().split("-----")[2].strip().splitlines()[1]
    port = ctx.free_port()
    recv = ctx.spawn(["recv", "--listen", f"tls://127.0.0.1:{port}", "--tls-cert", cert, "--tls-key", key,
                      "--insecure", *TRACE])
    ctx.wait_for(lambda: ctx.run(["health", f"tls://127.0.0.1:{port}", "--tls-ca", cert]).returncode == 0,
                 "recv serving over TLS")
    r = ctx.run(["describe", f"tls://127.0.0.1:{port}", "--tls-ca", cert, *TRACE])
    ctx.expect_exit(r, 0)
    recv.send_signal(signal.SIGTERM)
    _, out, err = ctx.finish(recv)
    clean(ctx, r, out, err, secret=material)


def make_certificate(ctx, name="host"):
    key, cert = ctx.path(name + ".key"), ctx.path(name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key

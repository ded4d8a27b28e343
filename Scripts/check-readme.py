#!/usr/bin/env python3
"""Runs README.md's commands as written, and checks that every flag it shows exists.

    python3 Scripts/check-readme.py [--flags-only] [--block N] [--keep] [--readme FILE]

1. Flags: every `runnel SUBCOMMAND … --flag` in README.md, in code blocks and in inline code
   (`runnel log check …` too), must appear in `runnel SUBCOMMAND --help`; a bare inline `--flag`
   must appear in some command's help. Each unknown flag or subcommand is reported with its line.

2. Blocks: every ```sh block runs, in order, in one fresh sandbox directory, with
   `bash -euo pipefail`, stdin from /dev/null, a timeout per block, and the built `runnel`
   first on PATH ($RUNNEL, default `$(swift build --show-bin-path)/runnel`). The sandbox holds
   what the README's commands name: a copy of Examples/, Scripts/ (a link to the repository's),
   urls.txt (file:// URLs of Examples/pages: no network needed, and no --allow-private, which
   loopback HTTP would need), page.jsonl, pages.jsonl(.zst), capture.jsonl.zst, a.jsonl.zst,
   b.jsonl, lines.jsonl and key; what the README makes itself (news.sqlite, fetched.jsonl.zst,
   parsed.jsonl.zst, …) it must make before it uses it. Blocks that
   use $NATS get a throwaway nats-server (Scripts/lib/nats.sh, or $RUNNEL_TEST_NATS); blocks
   that use $DATABASE_URL get a fresh database on a throwaway PostgreSQL server
   (Scripts/lib/postgres.sh, or the one $RUNNEL_TEST_POSTGRES names). XDG_RUNTIME_DIR points
   into the sandbox, so `runnel status` sees only the sandbox's pipelines.

   A command ending in `&` runs in the background; when the block ends the harness ends its
   whole process group. An HTML comment on the line(s) right before a block changes how it runs:

     <!-- readme-test: skip reason="needs a second host" -->
         not run; printed with its reason. Only for blocks that need a second host (or root).
     <!-- readme-test: setup: COMMAND -->
         COMMAND runs first, in the same shell: what the prose asks a person to do off the
         page (edit a file, …). Printed with the block.
     <!-- readme-test: background until="COMMAND" -->
         the block's first command runs in the background, as in a terminal of its own, and
         the rest start once COMMAND succeeds (up to 60 s); then the first must exit 0.

Prints one line per block (`ok`, `FAIL` or `skip`, with the block's first line and its README
line number) and a closing count; on a failure, the block's output. Exits 1 on any failure.
"""
import argparse
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK_TIMEOUT = int(os.environ.get("README_BLOCK_TIMEOUT", "240"))  # seconds, per block
ANNOTATION = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
SEPARATORS = {"|", "||", "&&", ";", "&", ")", "(", "`"}


# MARK: README

class Block:
    """A fenced code block: its language, first line number (1-based, of the first code line),
    code and the readme-test annotations right before it."""

    def __init__(self, language, line, code, annotations):
        self.language, self.line, self.code, self.annotations = language, line, code, annotations

    @property
    def title(self):
        first = next((l for l in self.code.splitlines() if l.strip()), "")
        return first.strip()

    def annotation(self, kind):
        for text in self.annotations:
            if text == kind or text.startswith(kind + " ") or text.startswith(kind + ":"):
                return text[len(kind):].lstrip(":").strip()
        return None


def read_readme(path):
    """The README's fenced blocks, and its prose lines (outside blocks) with their numbers."""
    lines = open(path, encoding="utf-8").read().splitlines()
    blocks, prose = [], []
    fence = None
    annotations, pending = [], []
    for number, line in enumerate(lines, 1):
        if fence is None:
            m = re.match(r"^(```+|~~~+)\s*([\w+-]*)", line)
            if m:
                fence = (m.group(1), m.group(2), number + 1, [], pending)
                pending = []
                continue
            a = ANNOTATION.match(line.strip())
            if a:
                pending.append(a.group(1))
                continue
            if line.strip():
                pending = []
            prose.append((number, line))
        else:
            if line.strip().startswith(fence[0]) and line.strip().strip(fence[0][0]) == "":
                blocks.append(Block(fence[1], fence[2], "\n".join(fence[3]) + "\n", fence[4]))
                fence = None
            else:
                fence[3].append(line)
    return blocks, prose


# MARK: Flags

class Help:
    """`runnel … --help`, asked once per command."""

    def __init__(self, runnel):
        self.runnel = runnel
        self.cache = {}

    def text(self, path, option="--help"):
        key = (tuple(path), option)
        if key not in self.cache:
            out = subprocess.run([self.runnel, *path, option], capture_output=True, text=True,
                                 stdin=subprocess.DEVNULL, timeout=30)
            self.cache[key] = (out.stdout + out.stderr) if out.returncode == 0 else None
        return self.cache[key]

    def subcommands(self, path):
        text = self.text(path) or ""
        if "SUBCOMMANDS:" not in text:
            return set()
        section = text.split("SUBCOMMANDS:", 1)[1]
        return set(re.findall(r"^\s{2}([a-z][a-z0-9-]*)\b", section, re.M))

    def has_flag(self, path, flag):
        text = self.text(path) or ""
        return re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", text) is not None

    def all_flags(self):
        """Every flag of every command, hidden ones too: prose may name a deprecated spelling
        (`--delay-ms`), which commands in code blocks may not use."""
        flags = set()
        for path in self.every_command():
            flags |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", self.text(path, "--help-hidden") or ""))
        return flags

    def every_command(self, path=()):
        yield list(path)
        for sub in sorted(self.subcommands(list(path))):
            if sub != "help":
                yield from self.every_command((*path, sub))


def words(text):
    """Shell-ish words of a line: quotes respected where they balance, backticks dropped."""
    text = text.replace("`", " ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote (an apostrophe in a comment): split plainly
        return re.findall(r"[|&;()<>]+|[^\s|&;()<>]+", text)


def check_command_words(tokens, number, help, problems):
    """Finds `runnel SUB… --flag` in a line's words and reports unknown subcommands and flags."""
    top = help.subcommands([])
    i = 0
    while i < len(tokens):
        if tokens[i] != "runnel":
            i += 1
            continue
        i += 1
        if i >= len(tokens) or not re.fullmatch(r"[a-z][a-z-]*", tokens[i]):
            continue  # `runnel --help`, `runnel <TAB>`, or `runnel` named in prose
        path = []
        choices = top
        while i < len(tokens) and tokens[i] in choices:
            path.append(tokens[i])
            choices = help.subcommands(path)
            i += 1
        if not path:
            if tokens[i] not in ("is", "the", "and", "or", "a", "on", "to"):
                problems.append(f"README.md:{number}: runnel {tokens[i]}: no such command (runnel --help)")
            continue
        while i < len(tokens) and tokens[i] not in SEPARATORS and not tokens[i].startswith("#"):
            token = tokens[i]
            if token == "--":
                break  # what follows belongs to another program (runnel wrap -- jq …)
            if token.startswith("--") and len(token) > 2:
                flag = token.split("=", 1)[0]
                if not help.has_flag(path, flag):
                    problems.append(
                        f"README.md:{number}: runnel {' '.join(path)} {flag}: not in `runnel {' '.join(path)} --help`")
            i += 1


def check_flags(readme, runnel):
    """Every flag the README shows for a runnel command must be in that command's --help."""
    help = Help(runnel)
    if help.text([]) is None:
        return [f"{runnel} --help failed"]
    blocks, prose = read_readme(readme)
    problems = []
    for block in blocks:
        for offset, line in enumerate(block.code.splitlines()):
            check_command_words(words(line), block.line + offset, help, problems)
    # Inline code may wrap across lines: read each paragraph as one line.
    known = None
    paragraph = []
    for number, line in prose + [(0, "")]:
        if line.strip():
            paragraph.append((number, line))
            continue
        text = " ".join(l for _, l in paragraph)
        for m in re.finditer(r"`([^`]+)`", text):
            span = m.group(1)
            # The README line the span starts on.
            position, line_number = 0, paragraph[0][0] if paragraph else 0
            for n, l in paragraph:
                if position + len(l) + 1 > m.start():
                    line_number = n
                    break
                position += len(l) + 1
            tokens = words(span)
            if "runnel" in tokens:
                check_command_words(tokens, line_number, help, problems)
            elif re.fullmatch(r"--[a-z][a-z0-9-]*(=\S*)?(\s.*)?", span):
                if known is None:
                    known = help.all_flags()
                flag = span.split()[0].split("=")[0]
                if flag not in known:
                    problems.append(f"README.md:{line_number}: {flag}: no runnel command has this flag")
        paragraph = []
    return problems


# MARK: Sandbox

def sh(command, cwd, env, timeout=120):
    out = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"sandbox setup failed: {command}\n{out.stderr[-3000:]}")
    return out.stdout


class Services:
    """The throwaway servers some blocks need, started on first use and stopped at the end."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.processes = []
        self.nats = None
        self.database = None
        self.drop = None

    def nats_url(self):
        if self.nats is None:
            if os.environ.get("RUNNEL_TEST_NATS"):
                self.nats = os.environ["RUNNEL_TEST_NATS"]
            else:
                process = subprocess.Popen(["bash", os.path.join(ROOT, "Scripts/lib/nats.sh")], stdout=subprocess.PIPE,
                                           stdin=subprocess.DEVNULL, text=True, start_new_session=True)
                self.processes.append(process)
                line = process.stdout.readline().strip()
                if not line.startswith("nats://"):
                    raise RuntimeError("Scripts/lib/nats.sh did not start a server")
                self.nats = line
        return self.nats

    def database_url(self):
        if self.database is None:
            server = os.environ.get("RUNNEL_TEST_POSTGRES")
            if not server:
                process = subprocess.Popen(["bash", os.path.join(ROOT, "Scripts/lib/postgres.sh"), "-c", "fsync=off"],
                                           stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                           start_new_session=True)
                self.processes.append(process)
                server = process.stdout.readline().strip()
                if not server.startswith("postgres://"):
                    raise RuntimeError("Scripts/lib/postgres.sh did not start a server")
            # A database of its own, so nothing earlier in the server is counted.
            name = f"readme_{os.getpid()}"
            base = server.rsplit("/", 1)[0]
            self.admin = server
            self.psql(f"DROP DATABASE IF EXISTS {name}")
            self.psql(f"CREATE DATABASE {name}")
            self.drop = name
            self.database = f"{base}/{name}"
        return self.database

    def psql(self, statement):
        psql = os.path.join(os.environ.get("RUNNEL_TEST_POSTGRES_BIN", "/nonexistent"), "psql")
        if not os.access(psql, os.X_OK):
            psql = shutil.which("psql")
        if psql is None:
            bins = sorted(d for d in os.listdir("/usr/lib/postgresql") if os.path.isdir(f"/usr/lib/postgresql/{d}/bin"))
            psql = f"/usr/lib/postgresql/{bins[-1]}/bin/psql"
        subprocess.run([psql, self.admin, "-qAt", "-c", statement], check=True, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=60)

    def stop(self):
        if self.drop:
            try:
                self.psql(f"DROP DATABASE IF EXISTS {self.drop} WITH (FORCE)")
            except Exception:
                pass
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except Exception:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def make_sandbox(runnel, blocks):
    sandbox = tempfile.mkdtemp(prefix="runnel-readme.")
    ignore = shutil.ignore_patterns(".runnel", "news.sqlite*", "__pycache__")
    shutil.copytree(os.path.join(ROOT, "Examples"), os.path.join(sandbox, "Examples"), ignore=ignore)
    os.symlink(os.path.join(ROOT, "Scripts"), os.path.join(sandbox, "Scripts"))
    os.makedirs(os.path.join(sandbox, ".run"), mode=0o700)
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(runnel) + os.pathsep + env.get("PATH", "")
    env["RUNNEL"] = runnel
    env["XDG_RUNTIME_DIR"] = os.path.join(sandbox, ".run")
    env.pop("RUNNEL_KEY", None)
    pages = sorted(f for f in os.listdir(os.path.join(sandbox, "Examples/pages")) if f.endswith((".html", ".txt")))
    with open(os.path.join(sandbox, "urls.txt"), "w") as f:
        for page in pages:
            f.write(f"file://{sandbox}/Examples/pages/{page}\n")
    with open(os.path.join(sandbox, "key"), "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    sh("""
        runnel fetch --allow-files Examples/pages < urls.txt > pages.jsonl
        runnel cat --zstd < pages.jsonl > pages.jsonl.zst
        grep -m1 vi-nato-nga.html pages.jsonl > page.jsonl
        cp pages.jsonl lines.jsonl
        cp pages.jsonl.zst capture.jsonl.zst
        cp pages.jsonl.zst a.jsonl.zst
        runnel parse < pages.jsonl > b.jsonl
    """, sandbox, env, timeout=300)
    # fetched.jsonl.zst and parsed.jsonl.zst are not made here: the README makes them (a tee'd
    # capture log and its parse), and --compare needs the two to come from one run.
    return sandbox, env


# MARK: Running

def run_block(block, sandbox, env, services):
    """Runs one block; returns (passed, output)."""
    code = block.code
    env = dict(env)
    if re.search(r"\$\{?NATS\b", code):
        env["NATS"] = services.nats_url()
    if re.search(r"\$\{?DATABASE_URL\b", code):
        env["DATABASE_URL"] = services.database_url()
    script = ""
    setup = block.annotation("setup")
    if setup:
        script += setup + "\n"
    background = block.annotation("background")
    if background is not None:
        until = re.search(r'until="([^"]*)"', background)
        lines = code.splitlines()
        at = next(i for i, l in enumerate(lines) if l.strip() and not l.lstrip().startswith("#"))
        first, rest = lines[at], "\n".join(lines[:at] + lines[at + 1:])
        script += f"{{\n{first}\n}} &\nreadme_first=$!\n"  # on lines of its own: a comment ends
        if until:
            script += (f"for _ in $(seq 300); do {until.group(1)} >/dev/null 2>&1 && break; "
                       f"kill -0 $readme_first 2>/dev/null || break; sleep 0.2; done\n")
        script += rest + "\nwait $readme_first\n"
    else:
        script += code
    log = os.path.join(sandbox, ".block.log")
    with open(log, "w") as out:
        process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=sandbox, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            status = process.wait(timeout=BLOCK_TIMEOUT)
            timed_out = False
        except subprocess.TimeoutExpired:
            status, timed_out = None, True
        # Whatever the block left in the background (`… &`) goes with it.
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                try:
                    os.killpg(process.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
        process.wait()
    output = open(log, encoding="utf-8", errors="replace").read()
    if timed_out:
        output += f"\n(timed out after {BLOCK_TIMEOUT} s)"
    return status == 0, output


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    parser.add_argument("--flags-only", action="store_true", help="only check the flags")
    parser.add_argument("--block", type=int, action="append",
                        help="run only the sh block at this README line (repeatable; earlier blocks' files are not made)")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox directory")
    args = parser.parse_args()

    runnel = os.environ.get("RUNNEL")
    if not runnel:
        bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        runnel = os.path.join(bin_path, "runnel")
    runnel = os.path.abspath(runnel)
    if not os.access(runnel, os.X_OK):
        print(f"check-readme: {runnel} is not built (swift build --product runnel, or set RUNNEL)", file=sys.stderr)
        return 2

    failed = 0
    problems = check_flags(args.readme, runnel)
    for problem in problems:
        print(f"FAIL  flag  {problem}")
    print(f"flags: {'every flag the README shows is in its command --help' if not problems else f'{len(problems)} unknown'}")
    failed += len(problems)
    if args.flags_only:
        return 1 if failed else 0

    blocks, _ = read_readme(args.readme)
    blocks = [b for b in blocks if b.language in ("sh", "bash", "shell")]
    if args.block:
        blocks = [b for b in blocks if b.line in args.block or b.line - 1 in args.block]
    started = time.monotonic()
    sandbox, env = make_sandbox(runnel, blocks)
    services = Services(sandbox)
    passed = skipped = 0
    try:
        for block in blocks:
            where = f"README.md:{block.line}"
            skip = block.annotation("skip")
            if skip is not None:
                reason = re.search(r'reason="([^"]*)"', skip)
                print(f"skip  {where}  {block.title}   ({reason.group(1) if reason else 'no reason given'})")
                skipped += 1
                continue
            begun = time.monotonic()
            try:
                ok, output = run_block(block, sandbox, env, services)
            except Exception as error:  # a server the block needs did not start
                ok, output = False, str(error)
            seconds = time.monotonic() - begun
            print(f"{'ok  ' if ok else 'FAIL'}  {where}  {block.title}   ({seconds:.1f} s)", flush=True)
            if ok:
                passed += 1
            else:
                failed += 1
                print("      --- the block's output:")
                for line in output.rstrip().splitlines()[-60:]:
                    print("      " + line)
    finally:
        services.stop()
        if args.keep:
            print(f"sandbox kept: {sandbox}")
        else:
            shutil.rmtree(sandbox, ignore_errors=True)
    summary = f"{passed} passed, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped"
    print(f"{summary} ({time.monotonic() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

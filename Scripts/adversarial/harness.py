"""The adversarial suite's harness: cases, the `runnel` binary, and what a case may assert.

A case is a function taking a `Context`, registered with `@case`. It provokes one kind of bad
input or misbehaving peer and asserts the exact outcome: an exit status, a status code in the
output, that the process is still alive (or exited as documented), and that nothing acked was
lost. A case fails by raising `Failed` (via `expect`), never by printing.

    @case("wire", "a line that is not JSON")
    def not_json(ctx):
        r = ctx.run(["cat"], input=b"{nope\n")
        ctx.expect_exit(r, 65)
        ctx.expect_in("INVALID_ARGUMENT", r.stderr)
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable

CASES: list["Case"] = []


@dataclass
class Case:
    area: str
    name: str
    run: Callable[["Context"], None]
    timeout: float


def case(area: str, name: str, timeout: float = 60.0):
    """Registers one kind of bad input; `name` says what is wrong, in a few words."""
    def register(function):
        if any(c.area == area and c.name == name for c in CASES):
            raise RuntimeError(f"two cases named {area}: {name}")
        CASES.append(Case(area, name, function, timeout))
        return function
    return register


class Failed(Exception):
    pass


@dataclass
class Context:
    runnel: str
    directory: str
    env: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)

    # Running the binary ------------------------------------------------------------------

    def run(self, args, input: bytes | str | None = None, timeout: float = 30.0, env=None,
            cwd=None) -> subprocess.CompletedProcess:
        """Runs `runnel ARGS` to the end; a hang past `timeout` fails the case."""
        if isinstance(input, str):
            input = input.encode()
        try:
            return subprocess.run([self.runnel, *args], input=input, capture_output=True,
                                  timeout=timeout, env=self._env(env), cwd=cwd or self.directory)
        except subprocess.TimeoutExpired:
            raise Failed(f"`runnel {' '.join(args)}` still running after {timeout:g} s")

    def spawn(self, args, env=None, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
              stderr=subprocess.PIPE, cwd=None) -> subprocess.Popen:
        """Starts `runnel ARGS` in its own process group; killed when the case ends."""
        process = subprocess.Popen([self.runnel, *args], env=self._env(env), stdin=stdin,
                                   stdout=stdout, stderr=stderr, cwd=cwd or self.directory,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def finish(self, process: subprocess.Popen, timeout: float = 20.0) -> tuple[int, bytes, bytes]:
        """Waits for a spawned process; a hang past `timeout` fails the case."""
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failed(f"`{' '.join(map(str, process.args[1:]))}` still running after {timeout:g} s")
        return process.returncode, out or b"", err or b""

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def write(self, name: str, content: bytes | str) -> str:
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return path

    def socket_path(self, name: str = "s") -> str:
        """A Unix socket path short enough for sun_path."""
        return self.path(name + ".sock")

    @staticmethod
    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 15.0):
        """Polls `condition` until it holds; names `what` when it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise Failed(f"timed out after {timeout:g} s waiting for {what}")

    def wait_for_socket(self, path: str, timeout: float = 15.0):
        self.wait_for(lambda: os.path.exists(path), f"socket {path}", timeout)

    # Assertions --------------------------------------------------------------------------

    @staticmethod
    def expect(condition: bool, message: str):
        if not condition:
            raise Failed(message)

    @staticmethod
    def expect_exit(result, status: int | tuple):
        code = result.returncode if hasattr(result, "returncode") else result
        wanted = status if isinstance(status, tuple) else (status,)
        if code not in wanted:
            err = getattr(result, "stderr", b"") or b""
            raise Failed(f"exit {code}, wanted {' or '.join(map(str, wanted))}; stderr: "
                         f"{err.decode(errors='replace')[-400:]!r}")

    @staticmethod
    def expect_in(needle: str, haystack: bytes | str, where: str = "output"):
        text = haystack.decode(errors="replace") if isinstance(haystack, bytes) else haystack
        if needle not in text:
            raise Failed(f"{needle!r} not in {where}: {text[-400:]!r}")

    @staticmethod
    def expect_alive(process: subprocess.Popen, what: str = "the stage"):
        if process.poll() is not None:
            raise Failed(f"{what} exited with {process.returncode}; it should keep running")

    # Internals ---------------------------------------------------------------------------

    def _env(self, extra):
        env = dict(os.environ)
        env.update({"NO_COLOR": "1"})
        env.update(self.env)
        if extra:
            env.update(extra)
        return env

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream:
                    stream.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def new_context(runnel: str) -> Context:
    return Context(runnel=runnel, directory=tempfile.mkdtemp(prefix="adv-", dir="/tmp"))

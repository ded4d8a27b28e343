#!/usr/bin/env python3
"""A Runnel stage in Python, written from Protocol/PROTOCOL.md alone (plus the `zstandard`
package): it proves the protocol can be implemented outside Swift, and it passes the same
conformance suite as the built-in stages (Tests/RunnelCLITests/ConformanceTests.swift).

What it does: accepts `url.requested`, and emits it again with the URL's host lower-cased and
`meta.python = "yes"` — a stand-in for any real transformation.

    stage.py --listen unix:/tmp/in.sock --to unix:/tmp/out.sock

Under `runnel run` (PROTOCOL.md §9.1) it is started as `stage.py --listen fd:3 --to unix:NEXT`,
on a listening socket the supervisor bound and keeps, after `stage.py --describe` has printed
its service definition:

    [[stage]]
    name = "py"
    command = ["python3", "Examples/python-stage/stage.py"]

Links (PROTOCOL.md §7): hello both ways, credit, cumulative acks, resend after reconnect. An
input is acked upstream only when its output was acked downstream (§8.4). SIGTERM: stop granting
credit, finish and ack what arrived, say bye, exit 0 (§7.7).
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import zstandard

NAME = "py-host-lower"
ACCEPTS = ["url.requested"]
EMITS = ["url.requested"]
WINDOW = 64
# The service definition (PROTOCOL.md §11), for `describe` on a link and for --describe.
SERVICE = {"name": NAME, "summary": "Lower-cases URL hosts (a Python example stage).",
           "accepts": ACCEPTS, "emits": EMITS, "options": [], "version": 1}


def log(*args):
    print(f"{NAME}:", *args, file=sys.stderr, flush=True)


class Link:
    """One socket: a zstd stream of JSON lines each way."""

    def __init__(self, sock):
        self.sock = sock
        self.compressor = zstandard.ZstdCompressor(level=1).compressobj()
        self.decompressor = zstandard.ZstdDecompressor().decompressobj()
        self.pending = b""
        self.lock = threading.Lock()

    def send(self, objects):
        data = "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objects).encode()
        with self.lock:
            self.sock.sendall(self.compressor.compress(data) + self.compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))

    def lines(self):
        """Yields decoded lines: dicts, or ("bad", text) for a line that is not a JSON object."""
        while True:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return
            data = self.pending + self.decompressor.decompress(chunk)
            *complete, self.pending = data.split(b"\n")
            for raw in complete:
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                    yield obj
                except ValueError as e:
                    yield ("bad", raw.decode(errors="replace"), str(e))

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def hello(accepts, emits):
    return {"ctl": "hello", "versions": [1], "stage": NAME, "accepts": accepts, "emits": emits}


def now_ts():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t % 1 * 1000)


def error_record(code, status, message, original=None, raw=None):
    body = {"code": code, "status": status, "message": message, "stage": NAME, "attempt": 1}
    if original is not None:
        body["original"] = original
    if raw is not None:
        body["raw"] = raw[:4096]
    return body


class Downstream:
    """Keeps every output until acked; reconnects and resends with new seqs (§7.4, §7.7)."""

    def __init__(self, path):
        self.path = path
        self.cond = threading.Condition()
        self.queue = []  # [output, on_acked] not yet acked, in order
        self.link = None
        threading.Thread(target=self.run, daemon=True).start()

    def put(self, output, on_acked):
        with self.cond:
            self.queue.append([output, on_acked, None])  # third: seq on the current link
            self.cond.notify_all()

    def unacked(self):
        with self.cond:
            return len(self.queue)

    def run(self):
        backoff = 0.05
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.path)
            except OSError:
                time.sleep(backoff)
                backoff = min(backoff * 2, 2)
                continue
            backoff = 0.05
            link = Link(sock)
            try:
                self.serve(link)
            except (OSError, zstandard.ZstdError):
                pass
            with self.cond:
                self.link = None
                for item in self.queue:
                    item[2] = None  # resend all, renumbered on the next link
            link.close()
            time.sleep(backoff)

    def serve(self, link):
        link.send([hello([], EMITS)])
        lines = link.lines()
        peer = next(lines)
        if not isinstance(peer, dict) or peer.get("ctl") != "hello" or 1 not in peer.get("versions", []):
            link.send([{"ctl": "bye", "code": 12, "message": "no common protocol version"}])
            return
        state = {"credit": 0, "next": 1}
        with self.cond:
            self.link = link
        sender = threading.Thread(target=self.pump, args=(link, state), daemon=True)
        sender.start()
        for line in lines:
            if not isinstance(line, dict):
                continue
            ctl = line.get("ctl")
            with self.cond:
                if ctl == "credit":
                    state["credit"] += line.get("n", 0)
                elif ctl == "ack":
                    seq = line.get("seq", 0)
                    done = [i for i in self.queue if i[2] is not None and i[2] <= seq]
                    self.queue = [i for i in self.queue if not (i[2] is not None and i[2] <= seq)]
                    for item in done:
                        item[1]()
                elif ctl == "bye":
                    self.cond.notify_all()
                    return
                self.cond.notify_all()

    def pump(self, link, state):
        while True:
            with self.cond:
                while self.link is link and (state["credit"] == 0 or all(i[2] is not None for i in self.queue)):
                    self.cond.wait(0.5)
                if self.link is not link:
                    return
                batch = []
                for item in self.queue:
                    if item[2] is None and state["credit"] > 0:
                        item[2] = state["next"]
                        state["next"] += 1
                        state["credit"] -= 1
                        batch.append(dict(item[0], seq=item[2]))
            try:
                link.send(batch)
            except OSError:
                return


class Stage:
    def __init__(self, listen, to):
        """`listen`: a socket path, or a listening socket's descriptor (an int, from fd:N)."""
        self.downstream = Downstream(to)
        self.listen_path = listen
        self.draining = threading.Event()
        self.connections = []
        self.lock = threading.Lock()

    def handle(self, message):
        """The transformation: one input, one output (or an error record)."""
        if message.get("type") not in ACCEPTS:
            err = error_record(9, "FAILED_PRECONDITION", f"{NAME} accepts {', '.join(ACCEPTS)}, not {message.get('type')}",
                               original={k: v for k, v in message.items() if k != "seq"})
            return "error", err
        body = dict(message.get("body") or {})
        parts = urlsplit(body.get("url", ""))
        body["url"] = urlunsplit(parts._replace(netloc=parts.netloc.lower()))
        return message["type"], body

    def serve_connection(self, sock):
        link = Link(sock)
        with self.lock:
            self.connections.append(link)
        try:
            link.send([hello(ACCEPTS, EMITS)])
            lines = link.lines()
            peer = next(lines)
            if not isinstance(peer, dict) or peer.get("ctl") != "hello":
                return
            if 1 not in peer.get("versions", []):
                link.send([{"ctl": "bye", "code": 12, "message": f"no common protocol version: {NAME} speaks 1"}])
                return
            link.send([{"ctl": "credit", "n": WINDOW}])
            received = []  # [seq, done] in arrival order (§7.4)
            cond = threading.Condition()

            def complete(entry):
                with cond:
                    entry[1] = True
                    acked = None
                    released = 0
                    while received and received[0][1]:
                        acked = received.pop(0)[0]
                        released += 1
                    if acked is not None:
                        lines_out = [{"ctl": "ack", "seq": acked}]
                        if not self.draining.is_set():
                            lines_out.append({"ctl": "credit", "n": released})
                        try:
                            link.send(lines_out)
                        except OSError:
                            pass
                    cond.notify_all()

            for line in lines:
                if isinstance(line, tuple):  # a line that is not JSON: dead-letter it downstream
                    _, raw, reason = line
                    body = error_record(3, "INVALID_ARGUMENT", f"not valid JSON: {reason}", raw=raw)
                    self.downstream.put(self.envelope("error", body, None), lambda: None)
                    continue
                if line.get("ctl") == "drain":
                    break
                if "ctl" in line:
                    if line["ctl"] == "ping":
                        link.send([{"ctl": "pong", "id": line.get("id", "")}])
                    elif line["ctl"] == "health":
                        link.send([{"ctl": "health", "status": "NOT_SERVING" if self.draining.is_set() else "SERVING"}])
                    elif line["ctl"] == "describe":
                        link.send([{"ctl": "describe", "service": SERVICE}])
                    continue
                entry = [line.get("seq"), False]
                with cond:
                    received.append(entry)
                type_, body = self.handle(line)
                self.downstream.put(self.envelope(type_, body, line), lambda e=entry: complete(e))
            with cond:
                while received:
                    cond.wait(0.1)
            link.send([{"ctl": "bye", "code": 0 if not self.draining.is_set() else 14, "message": ""}])
        except (OSError, StopIteration, zstandard.ZstdError) as e:
            log("dropped a connection:", e)
        finally:
            with self.lock:
                self.connections.remove(link)
            link.close()

    @staticmethod
    def envelope(type_, body, parent):
        out = {"id": uuid.uuid4().hex, "type": type_, "ts": now_ts(), "attempt": 1, "body": body}
        if parent is not None:
            out["parent"] = parent["id"]
            out["trace"] = parent.get("trace") or parent["id"]
            if parent.get("meta"):
                out["meta"] = dict(parent["meta"])
        out.setdefault("meta", {})["python"] = "yes"
        return out

    def listen(self):
        if isinstance(self.listen_path, int):
            # A supervisor's socket (§9.1): bound and listening already; never bound or removed here.
            return socket.socket(fileno=self.listen_path)
        directory = os.path.dirname(self.listen_path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        # Bind and listen under a temporary name, then rename: whoever waits for the path to
        # appear can connect at once, never between bind() and listen().
        staging = "%s.%d.tmp" % (self.listen_path, os.getpid())
        if os.path.exists(staging):
            os.unlink(staging)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(staging)
        os.chmod(staging, 0o600)
        server.listen(64)
        os.replace(staging, self.listen_path)
        return server

    def run(self):
        server = self.listen()
        server.settimeout(0.2)
        while not self.draining.is_set():
            try:
                sock, _ = server.accept()
            except socket.timeout:
                continue
            sock.settimeout(None)
            threading.Thread(target=self.serve_connection, args=(sock,), daemon=True).start()
        server.close()
        # Drain: no new credit; wait until what arrived was acked downstream and upstream.
        deadline = time.time() + 20
        while time.time() < deadline and (self.downstream.unacked() or self.connections):
            time.sleep(0.05)
            with self.lock:
                for link in list(self.connections):
                    pass
            if not self.downstream.unacked():
                break
        time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", help="unix:PATH, or fd:N (a listening socket inherited from a supervisor)")
    parser.add_argument("--to", help="unix:PATH")
    parser.add_argument("--describe", action="store_true", help="print the service definition as JSON and exit")
    args = parser.parse_args()
    if args.describe:
        print(json.dumps(SERVICE, indent=2))
        return
    if not args.listen or not args.to:
        parser.error("--listen and --to are required (or --describe)")
    if args.listen.startswith("fd:") and args.listen[3:].isdigit():
        listen = int(args.listen[3:])
    elif args.listen.startswith("unix:"):
        listen = args.listen[5:]
    else:
        parser.error(f"--listen takes unix:PATH or fd:N in this example, not {args.listen}")
    if not args.to.startswith("unix:"):
        parser.error(f"only unix: endpoints are supported by this example, not {args.to}")
    stage = Stage(listen, args.to[5:])
    # A parent may hand down a blocked signal mask (threads of a test runner do): unblock the
    # signals that mean "drain".
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: stage.draining.set())
    signal.signal(signal.SIGINT, lambda *_: stage.draining.set())
    stage.run()
    sys.exit(0)


if __name__ == "__main__":
    main()

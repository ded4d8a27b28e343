"""A second implementation of the Runnel wire protocol, version 1, written from
Protocol/PROTOCOL.md alone (issue 12): the adversarial suite's polite and misbehaving peer.

It is also a reading aid for the spec; section numbers (§) point into PROTOCOL.md.

    framing (§2)   Encoder / Decoder: UTF-8 JSON lines, one zstd stream per direction, flushed
                   after each batch; the reader tells zstd from plain by the first bytes (§2.3),
                   numbers lines, skips those over the limit, reports the offset of a broken
                   frame (§2.4, §2.5) whatever the split of its input
    checking (§3, §4)  Validator: a line's first problem as a status code (envelope steps 1–6,
                   control members); read_stream(): a whole stream's outcome, as the golden
                   vectors' manifest states it (§12)
    messages       envelope(), hello(), ctl(); STATUS codes by number (§5)
    links (§7)     Conn: one socket, lines both ways, with every blocking call under a timeout;
                   Sender (connects, says hello, sends within credit, waits for acks) and
                   Listener/Receiver (accepts, says hello, grants credit, acks);
                   CollectingReceiver: a polite receiver in a thread
    auth (§7.2)    nonce and HMAC-SHA256 proof on TCP when a key is given

Nothing here hides misbehaviour: Conn.send_raw writes any bytes at any time, Conn.send any
object or bytes, and the handshake helpers can be skipped.

    rx = CollectingReceiver(Listener.unix(path))  # or Listener.tcp() on a port the OS picks
    tx = Sender.connect("unix:" + other_path)     # hello both ways
    tx.send_all([envelope("x.y", {"a": 1})])      # within credit; returns when all are acked
    tx.drain()                                    # drain, wait for bye OK
    wire.read_stream(open("log.jsonl.zst", "rb").read(), validator=Validator("Protocol/schemas"))

Where PROTOCOL.md disagrees with itself, the choice made here says so in a comment.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import zstandard

VERSION = 1

# §5: gRPC's status codes, by number on the wire.
STATUS = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
          "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
          "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
          "UNAUTHENTICATED"]
CODE = {name: number for number, name in enumerate(STATUS)}
RETRYABLE = {CODE["RESOURCE_EXHAUSTED"], CODE["ABORTED"], CODE["UNAVAILABLE"]}

# §2.4: the default limits.
MAX_LINE = 16 * 1024 * 1024
MAX_WINDOW_LOG = 24

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CONTROL_NAMES = {"hello", "credit", "ack", "nack", "ping", "pong", "health", "describe",
                 "drain", "bye"}


class WireError(Exception):
    """A protocol problem with its status code (§2.5), as a reader would report it."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


class Timeout(Exception):
    """A blocking call of this module ran out of time."""


class Closed(Exception):
    """The peer closed the connection (or reset it)."""


# ---------------------------------------------------------------------------------------------
# Messages (§3, §4)

_counter = 0
_counter_lock = threading.Lock()


def new_id(prefix: str = "PY") -> str:
    """A unique message id (Runnel writes ULIDs; any non-empty string is valid, §3)."""
    global _counter
    with _counter_lock:
        _counter += 1
        n = _counter
    return f"{prefix}{os.getpid():07d}{n:010d}{os.urandom(3).hex()}"


def envelope(type_: str = "test.item", body=None, **members) -> dict:
    """A data message: the required id, type and body, and any other envelope member (§3).
    Members given as `None` are left out (a null is the same as absent for optional ones)."""
    line = {"id": members.pop("id", None) or new_id(), "type": type_,
            "body": {} if body is None else body}
    line.update({k: v for k, v in members.items() if v is not None})
    return line


def hello(stage: str = "py", accepts=(), emits=(), versions=(VERSION,), **more) -> dict:
    """The first line of each side (§7.1). `more` adds nonce, proof, mode or anything else."""
    line = {"ctl": "hello", "versions": list(versions), "stage": stage,
            "accepts": list(accepts), "emits": list(emits)}
    line.update(more)
    return line


def ctl(name: str, **members) -> dict:
    """Any control line: `ctl` first, then the members (§4)."""
    return {"ctl": name, **members}


def encode(line) -> bytes:
    """Compact JSON and a line feed, as writers write it (§2.1). Bytes pass through unchanged
    (a line feed is added when missing), so a test can write anything."""
    if isinstance(line, (bytes, bytearray)):
        return bytes(line) if line.endswith(b"\n") else bytes(line) + b"\n"
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def is_control(message: dict) -> bool:
    return isinstance(message, dict) and "ctl" in message


# ---------------------------------------------------------------------------------------------
# Framing (§2)

class Encoder:
    """One direction's byte stream: plain lines, or one zstd stream flushed after each batch
    (§2.2) with the content checksum set."""

    def __init__(self, zstd: bool = True, level: int = 1):
        self.zstd = zstd
        self._compressor = (zstandard.ZstdCompressor(level=level, write_checksum=True)
                            .compressobj() if zstd else None)

    def batch(self, lines) -> bytes:
        """The bytes of one batch: its lines, flushed so the reader can decode them now."""
        raw = b"".join(encode(line) for line in lines)
        if not self.zstd:
            return raw
        return (self._compressor.compress(raw)
                + self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))

    def end(self) -> bytes:
        """Ends the zstd frame (when the link closes)."""
        if not self.zstd:
            return b""
        out = self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
        self._compressor = zstandard.ZstdCompressor(level=1, write_checksum=True).compressobj()
        return out


class WireLines(list):
    """The lines a Decoder returns: bytes, CR kept, blank lines dropped. Each call's list also
    carries the 1-based `numbers` of its lines in the decoded text (blank lines counted)."""
    numbers: list


class Decoder:
    """Bytes in, lines out (§2.1–2.5). The first bytes choose zstd or plain for the whole
    stream (§2.3). A frame may end anywhere, even inside a line; skippable frames are ignored.
    A line over `max_line` is skipped and noted in `errors` as (RESOURCE_EXHAUSTED, line);
    problems that end the stream raise WireError, whose message gives the byte offset (the
    start of the frame that could not be decoded), also kept in `offset`. The result does not
    depend on how the input is split into calls."""

    def __init__(self, max_line: int = MAX_LINE, max_window_log: int = MAX_WINDOW_LOG):
        self.max_line = max_line
        self.max_window = 2 ** max_window_log
        self.format: str | None = None      # "zstd" or "plain" once known
        self.errors: list[tuple[str, int]] = []   # (code, line number) of skipped long lines
        self.offset = 0                    # input offset of the current frame's start
        self._pending = b""                # compressed bytes not yet decoded
        self._frame = None                 # the zstd decompressobj of the current frame
        self._fed_to_frame = 0             # compressed bytes given to the current frame
        self._text = b""                   # decoded bytes not yet split into lines
        self._dctx = zstandard.ZstdDecompressor(max_window_size=self.max_window)
        self._bom_checked = False
        self._line = 0                     # lines split off so far, blank ones included
        self._skipping = False             # inside a line already over the limit
        self.error: WireError | None = None  # what ended the stream, once lines before it are out

    def feed(self, data: bytes) -> WireLines:
        """The lines completed by `data`. When the stream breaks, the lines of the frames
        before the bad one are returned first, and the error is raised by the next call."""
        if self.error:
            raise self.error
        if self.format is None:
            self._pending += data
            if not self._choose_format():
                return self._lines([])
            data, self._pending = self._pending, b""
        if self.format == "plain":
            self._text += data
        else:
            self._pending += data
            try:
                self._decode_zstd()
            except WireError as error:
                self.error = error
        return self._split()

    def end(self) -> WireLines:
        """The stream ended cleanly: the last line may lack its line feed (§2.1); a stream
        that ends inside a zstd frame is DATA_LOSS at that frame's start."""
        if self.error:
            raise self.error
        if self.format is None and self._pending:
            self._choose_format(final=True)
            self._text, self._pending = self._pending, b""
        if self.format == "zstd" and (self._frame is not None or self._pending):
            raise WireError("DATA_LOSS", f"byte {self.offset}: the stream ends inside a frame")
        self._bom_checked = True
        lines = self._split()
        if self._text or self._skipping:
            last = self._split(final=True)
            lines.extend(last)
            lines.numbers += last.numbers
        return lines

    def _choose_format(self, final: bool = False) -> bool:
        first = self._pending[:1]
        if not first:
            return False
        b = first[0]
        if b in (0x09, 0x0A, 0x0D, 0xEF) or 0x20 <= b <= 0x7E:
            if b == 0x28 or 0x50 <= b <= 0x5F:   # may be a frame: need four bytes
                if len(self._pending) < 4 and not final:
                    return False
                if self._is_frame_start(self._pending):
                    self.format = "zstd"
                    return True
            self.format = "plain"
            return True
        raise WireError("DATA_LOSS", "byte 0: a binary byte where a stream must start")

    @staticmethod
    def _is_frame_start(b: bytes) -> bool:
        return b[:4] == ZSTD_MAGIC or (b[1:4] == b"\x2a\x4d\x18" and b[0] & 0xF0 == 0x50)

    def _decode_zstd(self):
        while self._pending:
            if self._frame is None:
                if len(self._pending) < 8:
                    if len(self._pending) >= 4 and not self._is_frame_start(self._pending):
                        raise WireError("DATA_LOSS", f"byte {self.offset}: not a zstd frame")
                    return
                if self._pending[1:4] == b"\x2a\x4d\x18" and self._pending[0] & 0xF0 == 0x50:
                    size = struct.unpack("<I", self._pending[4:8])[0]
                    if len(self._pending) < 8 + size:
                        return
                    self._pending = self._pending[8 + size:]
                    self.offset += 8 + size
                    continue
                if self._pending[:4] != ZSTD_MAGIC:
                    raise WireError("DATA_LOSS", f"byte {self.offset}: not a zstd frame")
                try:   # the frame header says how large a window it needs (2.4)
                    header = zstandard.get_frame_parameters(self._pending)
                except zstandard.ZstdError:
                    if len(self._pending) < 18:   # the longest frame header
                        return
                    raise WireError("DATA_LOSS", f"byte {self.offset}: a bad frame header")
                if header.window_size > self.max_window:
                    raise WireError("RESOURCE_EXHAUSTED", f"byte {self.offset}: the frame asks "
                                    f"for a {header.window_size}-byte window, over the limit")
                self._frame = self._dctx.decompressobj()
                self._fed_to_frame = 0
            data, self._pending = self._pending, b""
            self._fed_to_frame += len(data)
            try:
                self._text += self._frame.decompress(data)
            except zstandard.ZstdError as error:
                raise WireError("DATA_LOSS", f"byte {self.offset}: {error}")
            if self._frame.eof:
                self._pending = self._frame.unused_data
                self.offset += self._fed_to_frame - len(self._pending)
                self._frame = None

    def _split(self, final: bool = False) -> WireLines:
        if not self._bom_checked and self.format == "plain":
            if len(self._text) < 3 and b"\xef\xbb\xbf".startswith(self._text) and not final:
                return self._lines([])
            if self._text.startswith(b"\xef\xbb\xbf"):
                self._text = self._text[3:]
            self._bom_checked = True
        if final:
            pieces, self._text = [self._text], b""
        else:
            *pieces, self._text = self._text.split(b"\n")
        out = []
        for piece in pieces:
            self._line += 1
            if self._skipping or len(piece) > self.max_line:
                self.errors.append(("RESOURCE_EXHAUSTED", self._line))
                self._skipping = False
            elif piece not in (b"", b"\r"):
                out.append((self._line, piece))
        if len(self._text) > self.max_line:   # never hold more than a line's worth
            self._text, self._skipping = b"", True
        return self._lines(out)

    @staticmethod
    def _lines(numbered) -> WireLines:
        lines = WireLines(line for _, line in numbered)
        lines.numbers = [n for n, _ in numbered]
        return lines


def parse_line(line: bytes, max_depth: int = 256) -> dict:
    """A line's object, or WireError INVALID_ARGUMENT (§2.1): strict UTF-8, strict JSON (no
    NaN or Infinity, no raw control characters), an object, nested at most 256 deep."""
    try:
        text = line.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise WireError("INVALID_ARGUMENT", f"not a JSON line: {error}")
    if not isinstance(value, dict):
        raise WireError("INVALID_ARGUMENT", "not a JSON object")
    if _depth(value) > max_depth:
        raise WireError("INVALID_ARGUMENT", f"nested deeper than {max_depth} levels")
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _depth(value, level=1) -> int:
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level)
    return level - 1


# ---------------------------------------------------------------------------------------------
# Checking a line (§3 steps 1–6, §4)

INT64 = (-2 ** 63, 2 ** 63 - 1)
RFC3339 = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3])"
                     r":[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")


def _is_int(value, low=INT64[0], high=INT64[1]) -> bool:
    """An integer written as plain digits: JSON gives a Python int (never bool or float)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_str(value, nullable=True):
    return isinstance(value, str) or (nullable and value is None)


def _is_strings(value):
    return value is None or (isinstance(value, list) and all(isinstance(x, str) for x in value))


# Every control member has one type in every control line (§4); None is "absent".
CONTROL_MEMBERS = {
    "ctl": lambda v: isinstance(v, str),
    "v": lambda v: v is None or _is_int(v),
    "versions": lambda v: v is None or (isinstance(v, list) and all(_is_int(x) for x in v)),
    "stage": _is_str, "nonce": _is_str, "proof": _is_str, "message": _is_str, "id": _is_str,
    "mode": _is_str,
    "accepts": _is_strings, "emits": _is_strings,
    "n": lambda v: v is None or _is_int(v, 0),
    # an ack's seq is unsigned 64-bit (schemas/control.json, vector ack-seq-range), though 2.1
    # says every integer is signed 64-bit: the spec disagrees with itself here
    "seq": lambda v: v is None or _is_int(v, 0, 2 ** 64 - 1),
    "code": lambda v: v is None or _is_int(v, 0, 16),
    "status": lambda v: v in (None, "SERVING", "NOT_SERVING", "UNKNOWN"),
    "service": lambda v: v is None or isinstance(v, dict),
}
CONTROL_REQUIRED = {"credit": ("n",), "ack": ("seq",), "nack": ("seq", "code")}

ENVELOPE_MEMBERS = {
    "id": lambda v: isinstance(v, str), "type": lambda v: isinstance(v, str),
    "seq": lambda v: _is_int(v, 0), "ts": _is_str, "attempt": _is_int,
    "deadline_ms": lambda v: v is None or _is_int(v),
    "trace": _is_str, "parent": _is_str,
    "meta": lambda v: v is None or (isinstance(v, dict)
                                    and all(isinstance(x, str) for x in v.values())),
    "v": _is_int,
}


class Validator:
    """Checks a line as a reader must (§3, §4) and says the first problem's status code.
    With the folder of schemas (and the `jsonschema` package) it also checks bodies (step 6);
    without, it checks what a relay needs (steps 1–5)."""

    def __init__(self, schemas: str | None = None):
        self._schemas = {}
        if schemas and os.path.isdir(schemas):
            self._load(schemas)

    def _load(self, folder: str):
        try:
            import jsonschema
            from referencing import Registry, Resource
        except ImportError:
            return
        resources, by_type = [], {}
        for root, _, files in os.walk(folder):
            for name in files:
                if name.endswith(".json"):
                    with open(os.path.join(root, name)) as f:
                        schema = json.load(f)
                    resources.append((schema["$id"], Resource.from_contents(schema)))
                    by_type[name[:-len(".json")]] = schema
        registry = Registry().with_resources(resources)
        for type_ in ("url.requested", "page.fetched", "article.parsed", "article.enriched",
                      "article.stored", "error"):
            if type_ in by_type:
                cls = jsonschema.validators.validator_for(by_type[type_])
                self._schemas[type_] = cls(by_type[type_], registry=registry)

    def check(self, line: bytes):
        """None for a good line, else (code name, message)."""
        try:
            value = parse_line(line)                              # step 1
        except WireError as error:
            return error.code, str(error)
        if "ctl" in value:
            return self.check_control(value)
        return self.check_data(value)

    def check_control(self, line: dict):
        for member, ok in CONTROL_MEMBERS.items():
            if member in line and not ok(line[member]):
                return "INVALID_ARGUMENT", f"control member {member!r} has the wrong type"
        name = line["ctl"]
        if name not in CONTROL_NAMES:
            return "UNIMPLEMENTED", f"unknown control line {name!r}"
        if name == "hello" and (line.get("stage") is None
                                or (line.get("versions") is None and line.get("v") is None)):
            return "INVALID_ARGUMENT", "hello needs stage and versions (or v)"
        for member in CONTROL_REQUIRED.get(name, ()):
            if line.get(member) is None:
                return "INVALID_ARGUMENT", f"{name} needs {member}"
        return None

    def check_data(self, line: dict):
        for member, ok in ENVELOPE_MEMBERS.items():               # step 2
            if member in line and line[member] is not None and not ok(line[member]):
                return "INVALID_ARGUMENT", f"envelope member {member!r} has the wrong type"
            # 2.1: null is absent for an optional member (seq, attempt, v included), though
            # schemas/envelope.json types seq, attempt and v as integers: the spec disagrees
            # with itself; the prose is followed here
            if member in line and line[member] is None and member in ("id", "type"):
                return "INVALID_ARGUMENT", f"envelope member {member!r} is null"
        if line.get("v") not in (None, VERSION):                  # step 3
            return "UNIMPLEMENTED", f"protocol version {line['v']}"
        for member in ("id", "type", "body"):                     # step 4
            if member not in line:
                return "INVALID_ARGUMENT", f"missing {member!r}"
        if not line["id"] or not line["type"]:
            return "INVALID_ARGUMENT", "an empty id or type"
        if (line.get("attempt") or 1) < 1:                        # step 5
            return "INVALID_ARGUMENT", "attempt below 1"
        if line.get("ts") is not None and not RFC3339.match(line["ts"]):
            return "INVALID_ARGUMENT", f"ts {line['ts']!r} is not RFC 3339"
        schema = self._schemas.get(line["type"])                  # step 6
        if schema is not None:
            error = next(iter(schema.iter_errors(line)), None)
            if error is not None:
                return "INVALID_ARGUMENT", f"{line['type']}: {error.message}"
        return None


def read_stream(data: bytes, chunk: int | None = None, max_line: int = MAX_LINE,
                max_window_log: int = MAX_WINDOW_LOG, validator: Validator | None = None):
    """Reads a whole stream as a reader must (§2.5): the number of valid lines, and every error
    in order as (code, "line", N) or (code, "offset", N). `chunk` splits the input."""
    decoder = Decoder(max_line, max_window_log)
    validator = validator or Validator()
    valid, errors = 0, []

    def take(lines):
        nonlocal valid
        for number, line in zip(lines.numbers, lines):
            while decoder.errors and decoder.errors[0][1] < number:
                code, at = decoder.errors.pop(0)
                errors.append((code, "line", at))
            problem = validator.check(line)
            if problem:
                errors.append((problem[0], "line", number))
            else:
                valid += 1

    try:
        step = chunk or max(1, len(data))
        for start in range(0, len(data), step):
            take(decoder.feed(data[start:start + step]))
        take(decoder.end())
    except WireError as error:
        errors.append((error.code, "offset", decoder.offset if decoder.format else 0))
    for code, at in decoder.errors:
        errors.append((code, "line", at))
    errors.sort(key=lambda e: (e[1] == "offset", e[2]))
    return valid, errors


# ---------------------------------------------------------------------------------------------
# Endpoints and sockets (§9)

def parse_endpoint(endpoint: str):
    """`unix:PATH` or `tcp://HOST:PORT` to (family, address)."""
    if endpoint.startswith("unix:"):
        return socket.AF_UNIX, endpoint[len("unix:"):]
    if endpoint.startswith("tcp://"):
        host, _, port = endpoint[len("tcp://"):].rpartition(":")
        host = host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return family, (host, int(port))
    raise ValueError(f"not a socket endpoint: {endpoint}")


def open_socket(endpoint: str, timeout: float = 5.0) -> socket.socket:
    """Connects, retrying while the listener is not there yet, for at most `timeout`."""
    family, address = parse_endpoint(endpoint)
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            s.connect(address)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() >= deadline:
                raise Timeout(f"nothing listens at {endpoint} after {timeout:g} s")
            time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# A connection: lines both ways

class Conn:
    """One socket link: encodes what it sends, decodes what it reads. Every read has a
    deadline. `received` keeps every line read (objects, or bytes for unparseable ones)."""

    def __init__(self, sock: socket.socket, zstd: bool = True, role: str = "connect",
                 key: bytes | None = None):
        self.sock = sock
        self.encoder = Encoder(zstd)
        self.decoder = Decoder()
        self.role = role                      # "connect" (sender) or "accept" (receiver)
        self.key = key
        self.received: list = []
        self._queue: list = []                # lines decoded and not yet returned
        self.eof = False
        self.drained = False                  # the peer said drain (7.7)
        self.peer_hello: dict | None = None
        self.nonce: str | None = None
        self.raw_in: bytearray | None = None   # set to a bytearray to keep every byte read
        self.raw_lines: list[bytes] | None = None   # set to a list to keep every line's bytes

    # Writing ---------------------------------------------------------------------------------

    def send_raw(self, data: bytes):
        """Any bytes, now, bypassing the encoder (a torn frame, garbage, one byte…)."""
        self.sock.sendall(data)

    def send(self, *lines):
        """One batch: the lines (objects or bytes), encoded and flushed."""
        self.sock.sendall(self.encoder.batch(lines))

    def close(self, end_frame: bool = True):
        try:
            if end_frame:
                self.sock.sendall(self.encoder.end())
        except OSError:
            pass
        self.sock.close()

    def shutdown_write(self):
        """Half-close: the peer reads end of stream, we can still read."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """Closes with a TCP/Unix reset where the platform allows (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    # Reading ---------------------------------------------------------------------------------

    def read(self, timeout: float = 5.0):
        """The next line: a dict, or the raw bytes when it is not a JSON object. Raises Closed
        at the end of the stream, Timeout when nothing came in time, WireError when the stream
        is broken (§2.5)."""
        deadline = time.monotonic() + timeout
        while not self._queue:
            if self.decoder.error:
                raise self.decoder.error
            if self.eof:
                raise Closed("the peer closed the connection")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout(f"nothing read within {timeout:g} s")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if self.raw_in is not None:
                self.raw_in += data
            lines = self.decoder.end() if not data else self.decoder.feed(data)
            self.eof = self.eof or not data
            if self.raw_lines is not None:
                self.raw_lines.extend(lines)
            self._queue.extend(self._parse(lines))
        line = self._queue.pop(0)
        self.received.append(line)
        if isinstance(line, dict) and line.get("ctl") == "drain":
            self.drained = True      # however the line was consumed, a drain is remembered
        return line

    @staticmethod
    def _parse(lines):
        out = []
        for line in lines:
            try:
                out.append(parse_line(line))
            except WireError:
                out.append(line)
        return out

    def read_until(self, predicate, timeout: float = 5.0, answer_pings: bool = True):
        """Reads lines until one satisfies `predicate`, which is returned; answers pings."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.read(max(0.0, deadline - time.monotonic()))
            if answer_pings and isinstance(line, dict) and line.get("ctl") == "ping":
                self.send(ctl("pong", id=line.get("id", "")))
            if predicate(line):
                return line

    def read_ctl(self, name: str, timeout: float = 5.0) -> dict:
        return self.read_until(lambda l: isinstance(l, dict) and l.get("ctl") == name, timeout)

    def read_bye(self, timeout: float = 5.0) -> dict:
        """The peer's `bye` (§7.7); Closed if it closed without one."""
        return self.read_ctl("bye", timeout)

    def read_to_end(self, timeout: float = 5.0, strict: bool = False) -> list:
        """Every line until the peer closes; Timeout if it does not within `timeout`. A broken
        stream (WireError, e.g. a frame the peer never ended) counts as the end unless
        `strict`."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            try:
                lines.append(self.read(max(0.0, deadline - time.monotonic())))
            except Closed:
                return lines
            except WireError:
                if strict:
                    raise
                return lines

    def closed_within(self, timeout: float) -> bool:
        """True when the peer closes (or resets) within `timeout`, reading what comes first."""
        try:
            self.read_to_end(timeout)
            return True
        except Timeout:
            return False

    # Handshake (§7.1, §7.2) ------------------------------------------------------------------

    def say_hello(self, line: dict | None = None, **kwargs):
        line = dict(line or hello(**kwargs))
        if self.key is not None and self.nonce is None:
            self.nonce = os.urandom(16).hex()
        if self.nonce is not None:
            line.setdefault("nonce", self.nonce)
        self._my_hello = line
        self.send(line)

    def read_hello(self, timeout: float = 5.0) -> dict:
        """The peer's hello: the first line. A bye instead raises WireError with its code."""
        line = self.read(timeout)
        if not isinstance(line, dict) or line.get("ctl") not in ("hello", "bye"):
            raise WireError("FAILED_PRECONDITION", f"first line is not hello: {line!r}")
        if line["ctl"] == "bye":
            raise WireError(STATUS[line.get("code", 0)], f"bye: {line.get('message', '')}")
        versions = line.get("versions")
        if versions is None and "v" in line:
            versions = [line["v"]]
        if VERSION not in (versions or []):
            raise WireError("UNIMPLEMENTED", f"no common version: ours [1], theirs {versions}")
        self.peer_hello = line
        if self.key is not None:
            self._prove(line, timeout)
        return line

    def _prove(self, peer: dict, timeout: float):
        """§7.2: after the peer's hello, send ours again with proof; check theirs."""
        proof = make_proof(self.key, self.role, peer.get("nonce", ""))
        self.send({**self._my_hello, "proof": proof})
        second = self.read_ctl("hello", timeout)
        other_role = "accept" if self.role == "connect" else "connect"
        expected = make_proof(self.key, other_role, self.nonce)
        if not hmac.compare_digest(str(second.get("proof", "")), expected):
            self.send(ctl("bye", code=CODE["UNAUTHENTICATED"], message="bad proof"))
            raise WireError("UNAUTHENTICATED", "the peer's proof is wrong")


def make_proof(key: bytes, role: str, peer_nonce: str) -> str:
    """proof = hex(HMAC-SHA256(key, ROLE ":" peer_nonce)), ROLE "connect" or "accept" (§7.2)."""
    return hmac.new(key, f"{role}:{peer_nonce}".encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------------
# The sender's side (§7.3–7.7)

@dataclass
class Outcome:
    acked: list = field(default_factory=list)        # messages acked, in send order
    nacked: list = field(default_factory=list)       # (message, nack line)
    bye: dict | None = None


class Sender(Conn):
    """The connecting side: numbers data messages 1, 2, 3… (§7.4), sends only within the credit
    granted (§7.3), forgets a message once acked or nacked (§7.5)."""

    def __init__(self, sock, zstd=True, key=None):
        super().__init__(sock, zstd=zstd, role="connect", key=key)
        self.credit = 0                 # the sum of every credit n (§7.3)
        self.sent = 0                   # data messages sent on this link
        self.acked = 0                  # the highest cumulative ack
        self.unacked: dict[int, dict] = {}
        self.outcome = Outcome()

    @classmethod
    def connect(cls, endpoint: str, zstd: bool = True, key: bytes | None = None,
                handshake: bool = True, timeout: float = 5.0, **hello_members) -> "Sender":
        """Connects; with `handshake`, says hello (stage "py-send", emits `*` unless told)
        and reads the peer's."""
        sender = cls(open_socket(endpoint, timeout),
                     zstd=zstd, key=key if endpoint.startswith("tcp") else None)
        if handshake:
            hello_members.setdefault("stage", "py-send")
            hello_members.setdefault("emits", ["*"])
            sender.say_hello(**hello_members)
            sender.read_hello(timeout)
        return sender

    def handle(self, line):
        """Applies one control line from the receiver to the sender's state."""
        if not isinstance(line, dict):
            return
        name = line.get("ctl")
        if name == "credit":
            self.credit += line["n"]
        elif name == "ack":
            k = line["seq"]
            if k > self.acked:
                for seq in sorted(s for s in self.unacked if s <= k):
                    self.outcome.acked.append(self.unacked.pop(seq))
                self.acked = k
        elif name == "nack":
            message = self.unacked.pop(line["seq"], None)
            if message is not None:
                self.outcome.nacked.append((message, line))
        elif name == "ping":
            self.send(ctl("pong", id=line.get("id", "")))
        elif name == "bye":
            self.outcome.bye = line

    def pump(self, timeout: float):
        line = self.read(timeout)
        self.handle(line)
        if self.outcome.bye is not None:
            raise WireError(STATUS[self.outcome.bye.get("code", 0)],
                            f"bye: {self.outcome.bye.get('message', '')}")
        return line

    def send_data(self, message: dict, timeout: float = 5.0) -> int:
        """Sends one data message within credit (waiting for credit); returns its seq."""
        deadline = time.monotonic() + timeout
        while self.sent >= self.credit:
            self.pump(max(0.0, deadline - time.monotonic()))
        self.sent += 1
        message = {**message, "seq": self.sent}
        self.unacked[self.sent] = message
        self.send(message)
        return self.sent

    def send_batch(self, messages, timeout: float = 5.0) -> list[int]:
        """Sends as many as credit allows per batch (one flush each), waiting for more."""
        deadline = time.monotonic() + timeout
        seqs, messages = [], list(messages)
        while messages:
            while self.sent >= self.credit:
                self.pump(max(0.0, deadline - time.monotonic()))
            room = self.credit - self.sent
            chunk, messages = messages[:room], messages[room:]
            lines = []
            for message in chunk:
                self.sent += 1
                line = {**message, "seq": self.sent}
                self.unacked[self.sent] = line
                lines.append(line)
                seqs.append(self.sent)
            self.send(*lines)
        return seqs

    def wait_settled(self, timeout: float = 10.0) -> Outcome:
        """Reads until every message sent is acked or nacked."""
        deadline = time.monotonic() + timeout
        while self.unacked:
            self.pump(max(0.0, deadline - time.monotonic()))
        return self.outcome

    def send_all(self, messages, timeout: float = 10.0) -> Outcome:
        self.send_batch(messages, timeout)
        return self.wait_settled(timeout)

    def drain(self, timeout: float = 10.0) -> dict:
        """§7.7: says drain, waits for every ack and the receiver's bye (returned)."""
        self.send(ctl("drain"))
        deadline = time.monotonic() + timeout
        while self.outcome.bye is None:
            self.handle(self.read(max(0.0, deadline - time.monotonic())))
        return self.outcome.bye


# ---------------------------------------------------------------------------------------------
# The receiver's side

class Receiver(Conn):
    """The accepting side of one connection: says hello, grants credit, reads data, acks."""

    def __init__(self, sock, zstd=True, key=None):
        super().__init__(sock, zstd=zstd, role="accept", key=key)
        self.messages: list[dict] = []      # data messages read, in order
        self.highest_seq = 0
        self.peer_bye: dict | None = None

    def handshake(self, stage="py-recv", accepts=("*",), credit: int | None = 256,
                  timeout: float = 5.0, **more) -> dict:
        self.say_hello(stage=stage, accepts=accepts, **more)
        peer = self.read_hello(timeout)
        if credit:
            self.send(ctl("credit", n=credit))
        return peer

    def next_data(self, timeout: float = 5.0) -> dict:
        """The next data message; answers ping, health and describe on the way."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.read(max(0.0, deadline - time.monotonic()))
            if not isinstance(line, dict):
                continue
            name = line.get("ctl")
            if name is None:
                self.messages.append(line)
                if isinstance(line.get("seq"), int):
                    self.highest_seq = max(self.highest_seq, line["seq"])
                return line
            if name == "ping":
                self.send(ctl("pong", id=line.get("id", "")))
            elif name == "health" and "status" not in line:
                self.send(ctl("health", status="SERVING"))
            elif name == "drain":
                self.drained = True
            elif name == "bye":
                self.peer_bye = line

    def ack(self, seq: int, credit: int | None = None):
        """Cumulative ack, and by default as much credit back (§7.3)."""
        lines = [ctl("ack", seq=seq)]
        if credit:
            lines.append(ctl("credit", n=credit))
        self.send(*lines)

    def nack(self, seq: int, code: int, message: str = ""):
        self.send(ctl("nack", seq=seq, code=code, message=message))

    def bye(self, code: int = 0, message: str = ""):
        self.send(ctl("bye", code=code, message=message))


class Listener:
    """A listening socket (unix: or tcp:// on a port the OS picks); accept() gives a Receiver."""

    def __init__(self, sock: socket.socket, endpoint: str, key: bytes | None = None):
        self.sock = sock
        self.endpoint = endpoint
        self.key = key

    @classmethod
    def unix(cls, path: str) -> "Listener":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(64)
        return cls(s, "unix:" + path)

    @classmethod
    def tcp(cls, key: bytes | None = None) -> "Listener":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        return cls(s, f"tcp://127.0.0.1:{s.getsockname()[1]}", key)

    def accept(self, timeout: float = 10.0, zstd: bool = True) -> Receiver:
        self.sock.settimeout(timeout)
        try:
            conn, _ = self.sock.accept()
        except socket.timeout:
            raise Timeout(f"no connection at {self.endpoint} within {timeout:g} s")
        return Receiver(conn, zstd=zstd, key=self.key)

    def close(self):
        self.sock.close()


class CollectingReceiver:
    """A well-behaved receiver in a thread: accepts every connection, grants credit, acks each
    batch, answers ping/health/describe, says bye OK after a drain. `messages` keeps every data
    message received (across connections), `ids()` their ids in order."""

    def __init__(self, listener: Listener, credit: int = 256, stage: str = "py-recv"):
        self.listener = listener
        self.credit = credit
        self.stage = stage
        self.messages: list[dict] = []
        self.connections = 0
        self.hellos: list[dict] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def ids(self) -> list[str]:
        with self._lock:
            return [m.get("id") for m in self.messages]

    def wait_count(self, n: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Timeout(f"{len(self.messages)} of {n} messages after {timeout:g} s")
                self._changed.wait(remaining)
            return list(self.messages)

    def wait(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Timeout(f"condition not met after {timeout:g} s "
                                  f"({len(self.messages)} messages)")
                self._changed.wait(remaining)
            return list(self.messages)

    def _run(self):
        self.listener.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.listener.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(Receiver(conn, key=self.listener.key),),
                             daemon=True).start()

    def _serve(self, rx: Receiver):
        try:
            peer = rx.handshake(stage=self.stage, credit=self.credit, timeout=10)
            with self._lock:
                self.connections += 1
                self.hellos.append(peer)
            while not self._stop:
                try:
                    line = rx.read(0.2)
                except Timeout:
                    continue
                if not isinstance(line, dict):
                    continue
                name = line.get("ctl")
                if name is None:
                    batch = [line]
                    while rx._queue and isinstance(rx._queue[0], dict) \
                            and "ctl" not in rx._queue[0]:
                        batch.append(rx.read(0))
                    with self._changed:
                        self.messages.extend(batch)
                        self._changed.notify_all()
                    seqs = [m["seq"] for m in batch if isinstance(m.get("seq"), int)]
                    if seqs:
                        rx.ack(max(seqs), credit=len(batch))
                elif name == "ping":
                    rx.send(ctl("pong", id=line.get("id", "")))
                elif name == "health" and line.get("status") is None:
                    rx.send(ctl("health", status="SERVING"))
                elif name == "describe" and line.get("service") is None:
                    rx.send(ctl("describe", service={
                        "name": self.stage, "summary": "The Python test receiver.",
                        "accepts": ["*"], "emits": [], "options": [], "version": 1}))
                elif name == "drain":
                    rx.bye(0)
                    rx.close()
                    return
                elif name == "bye":
                    rx.close()
                    return
        except (Closed, WireError, OSError, Timeout) as error:
            with self._lock:
                self.errors.append(repr(error))
        finally:
            try:
                rx.sock.close()
            except OSError:
                pass

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.listener.close()

#!/usr/bin/env python3
"""A misbehaving peer for the link tests: connects to a stage's Unix socket and breaks the
protocol in one way, then goes away. Prints what the stage answered (a bye, if any).

    bad_peer.py SOCKET garbage|wrong-version|half-frame|disconnect
"""
import json
import socket
import sys
import time

import zstandard

path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
compressor = zstandard.ZstdCompressor(level=1).compressobj()


def send_lines(lines, flush=True):
    data = compressor.compress("".join(json.dumps(l) + "\n" for l in lines).encode())
    if flush:
        data += compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    s.sendall(data)


def read_answer():
    s.settimeout(3)
    chunks = []
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (socket.timeout, OSError):
        pass
    data = b"".join(chunks)
    try:
        return zstandard.ZstdDecompressor().decompressobj().decompress(data).decode()
    except Exception:
        return repr(data[:200])


def read_greeting(consume=True, timeout=10):
    """Waits, up to `timeout` seconds, for the stage's answer to our hello through its first credit
    line. Consumed, it is read, so closing ends the stream cleanly; left unread (peeked), closing
    this Unix socket resets the connection: the stage's read fails with ECONNRESET."""
    deadline = time.monotonic() + timeout
    text = ""
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    while '"credit"' not in text and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        if consume:
            chunk = s.recv(65536)
            if not chunk:
                break
            text += decompressor.decompress(chunk).decode(errors="replace")
        else:
            peeked = s.recv(65536, socket.MSG_PEEK)
            if not peeked:
                break
            text = zstandard.ZstdDecompressor().decompressobj().decompress(peeked).decode(errors="replace")
            if '"credit"' not in text:
                time.sleep(0.01)  # more is on its way: look again, until the deadline


hello = {"ctl": "hello", "versions": [1], "stage": "bad-peer", "accepts": [], "emits": ["url.requested"]}
if mode == "garbage":
    s.sendall(b"\x00\x01\x02 this is not zstd or json \xff\xfe" * 10)
    print(read_answer())
elif mode == "wrong-version":
    send_lines([dict(hello, versions=[9])])
    print(read_answer())
elif mode == "half-frame":
    send_lines([hello])
    read_greeting()
    line = {"id": "half", "seq": 1, "type": "url.requested", "body": {"url": "https://x/" + "y" * 5000}}
    data = compressor.compress((json.dumps(line) + "\n").encode()) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    s.sendall(data[: len(data) // 2])
    s.shutdown(socket.SHUT_WR)  # the writer stops mid-frame
    read_answer()
elif mode == "disconnect":
    send_lines([hello])
    read_greeting(consume=False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
s.close()

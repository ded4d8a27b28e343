#!/usr/bin/env python3
"""The Python peer for Scripts/bench-links: one stage of a chain of processes that pass zstd
JSON lines over Unix sockets, decoding and re-encoding every line with orjson.

    pychain.py relay LISTEN_SOCKET NEXT_SOCKET   # a stage
    pychain.py sink LISTEN_SOCKET                 # counts lines, prints the count
    pychain.py source NEXT_SOCKET FILE            # sends FILE's lines
"""
import os
import socket
import sys
import time

import orjson
import zstandard

BATCH = 64 * 1024


def listen(path):
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    conn, _ = server.accept()
    return conn


def connect(path):
    """Connects to the next stage, which may have bound its socket and not yet called listen()."""
    deadline = time.monotonic() + 10
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (ConnectionRefusedError, FileNotFoundError):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def lines_from(conn):
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    pending = b""
    while True:
        chunk = conn.recv(1 << 18)
        if not chunk:
            break
        data = decompressor.decompress(chunk)
        if not data:
            continue
        data = pending + data
        *complete, pending = data.split(b"\n")
        yield complete
    if pending:
        yield [pending]


class Writer:
    def __init__(self, sock):
        self.sock = sock
        self.compressor = zstandard.ZstdCompressor(level=1).compressobj()
        self.buffer = []
        self.size = 0

    def write(self, line):
        self.buffer.append(line)
        self.size += len(line) + 1
        if self.size >= BATCH:
            self.flush()

    def flush(self):
        if self.buffer:
            data = b"\n".join(self.buffer) + b"\n"
            self.sock.sendall(self.compressor.compress(data) + self.compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
            self.buffer, self.size = [], 0

    def close(self):
        self.flush()
        self.sock.sendall(self.compressor.flush())
        self.sock.close()


def main():
    mode = sys.argv[1]
    if mode == "relay":
        inbound = listen(sys.argv[2])
        out = Writer(connect(sys.argv[3]))
        for batch in lines_from(inbound):
            for line in batch:
                if line:
                    out.write(orjson.dumps(orjson.loads(line)))
            out.flush()
        out.close()
    elif mode == "sink":
        inbound = listen(sys.argv[2])
        count = 0
        for batch in lines_from(inbound):
            for line in batch:
                if line:
                    orjson.loads(line)
                    count += 1
        print(count)
    elif mode == "source":
        out = Writer(connect(sys.argv[2]))
        with open(sys.argv[3], "rb") as f:
            for line in f:
                out.write(line.rstrip(b"\n"))
        out.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Serves a directory over HTTP/1.1 on loopback for the pipeline scripts (chaos, two-hosts).

    python3 Scripts/lib/serve_site.py DIR [--bind 127.0.0.1] [--port 0]

Prints "port N" once it listens. Unlike `python3 -m http.server` it keeps connections alive
and has a listen backlog that fits many concurrent fetches: the stock server's backlog of 5
drops the SYNs of a 16-connection fetcher, and each dropped SYN costs a one-second
retransmit, which made the pipeline look 30 times slower than it is.
"""
import argparse
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # one line per request would drown the useful ones
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    handler = functools.partial(Handler, directory=args.directory)
    with Server((args.bind, args.port), handler) as server:
        print(f"port {server.server_address[1]}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

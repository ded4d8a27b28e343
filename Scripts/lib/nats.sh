#!/usr/bin/env bash
# A throwaway NATS server with JetStream on a free loopback port, its store in a temporary
# directory, for the tests and benchmarks of the nats:// endpoints.
#
#   Scripts/lib/nats.sh                 runs one: prints its URL, stops on Ctrl-C or when killed
#   . Scripts/lib/nats.sh; nats_start   starts one in the background and exports
#                                       RUNNEL_TEST_NATS=nats://127.0.0.1:PORT; nats_stop stops it
#
# The server picks its own port (-p -1) and writes it to a ports file, so two runs never race
# for one port. Needs Debian's nats-server (Scripts/lib/setup.sh installs it).

nats_server_binary() {
  command -v nats-server 2>/dev/null || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; }
}

nats_start() {
  local binary
  binary=$(nats_server_binary) || true
  if [ -z "$binary" ]; then
    echo "nats.sh: nats-server is not installed (Debian: apt-get install nats-server)" >&2
    return 1
  fi
  NATS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runnel-nats.XXXXXX")
  "$binary" -js -a 127.0.0.1 -p -1 -sd "$NATS_DIR/store" --ports_file_dir "$NATS_DIR" -l "$NATS_DIR/server.log" &
  NATS_PID=$!
  local url="" tries=0
  while [ -z "$url" ]; do
    if ! kill -0 "$NATS_PID" 2>/dev/null || [ $tries -ge 100 ]; then
      echo "nats.sh: nats-server did not start; its log:" >&2
      cat "$NATS_DIR/server.log" >&2 2>/dev/null
      nats_stop
      return 1
    fi
    url=$(cat "$NATS_DIR"/*.ports 2>/dev/null | grep -o 'nats://[^"]*' | head -1 || true)
    [ -n "$url" ] || sleep 0.1
    tries=$((tries + 1))
  done
  export RUNNEL_TEST_NATS="$url"
}

nats_stop() {
  if [ -n "${NATS_PID:-}" ]; then
    kill "$NATS_PID" 2>/dev/null || true
    wait "$NATS_PID" 2>/dev/null || true
    NATS_PID=""
  fi
  if [ -n "${NATS_DIR:-}" ]; then rm -rf "$NATS_DIR"; fi
  NATS_DIR=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  nats_start
  trap nats_stop EXIT
  trap 'exit 0' INT TERM
  echo "$RUNNEL_TEST_NATS"
  wait "$NATS_PID"
fi

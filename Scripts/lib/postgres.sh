#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks: a new cluster in a temporary
# directory, trust authentication on 127.0.0.1 only, a free port, removed on exit.
#
# Sourced:   . Scripts/lib/postgres.sh; start_test_postgres   # exports RUNNEL_TEST_POSTGRES
#            (stops and removes the cluster when the calling shell exits)
# Run:       Scripts/lib/postgres.sh                           # prints the URL, runs until Ctrl-C
#            then in another shell: RUNNEL_TEST_POSTGRES=postgres://… swift test --filter Postgres
#
# Installs Debian's `postgresql` when its programs are missing. As root the cluster belongs to the
# `postgres` OS user (initdb refuses to run as root). Extra server settings can follow:
#   start_test_postgres -c fsync=off

_pg_dir=""
_pg_as=()

_pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    local here
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    . "$here/setup.sh"
    need_debian postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$bin"
}

_pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_test_postgres() {
  local bin port
  bin=$(_pg_bin) || return 1
  _pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/runnel-postgres.XXXXXX")
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$_pg_dir"
    _pg_as=(runuser -u postgres --)
  fi
  chmod 700 "$_pg_dir"
  "${_pg_as[@]}" "$bin/initdb" -D "$_pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$_pg_dir/initdb.log" 2>&1 || {
    cat "$_pg_dir/initdb.log" >&2
    echo "==> initdb failed" >&2
    return 1
  }
  local tries
  for tries in 1 2 3; do
    port=$(_pg_free_port)
    if "${_pg_as[@]}" "$bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w -t 60 \
      -o "-p $port -k $_pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 $*" start >/dev/null; then
      break
    fi
    port=""
  done
  if [ -z "$port" ]; then
    tail -20 "$_pg_dir/server.log" >&2
    echo "==> could not start PostgreSQL" >&2
    return 1
  fi
  _pg_chain_exit_trap stop_test_postgres
  export RUNNEL_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  export RUNNEL_TEST_POSTGRES_BIN="$bin"
  echo "==> PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $RUNNEL_TEST_POSTGRES (cluster in $_pg_dir)" >&2
}

stop_test_postgres() {
  [ -n "$_pg_dir" ] || return 0
  "${_pg_as[@]}" "$(_pg_bin)/pg_ctl" -D "$_pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$_pg_dir"
  _pg_dir=""
}

# Runs $1 on exit after whatever the EXIT trap already does.
_pg_chain_exit_trap() {
  local existing
  existing=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  # shellcheck disable=SC2064
  trap "$1${existing:+; $existing}" EXIT
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  start_test_postgres "$@"
  echo "$RUNNEL_TEST_POSTGRES"
  echo "==> export RUNNEL_TEST_POSTGRES=$RUNNEL_TEST_POSTGRES; Ctrl-C stops and removes it" >&2
  sleeper=""
  trap 'kill $sleeper 2>/dev/null; exit 0' INT TERM
  while true; do
    sleep 3600 &
    sleeper=$!
    wait $sleeper
  done
fi

#!/bin/bash
# Usage: Scripts/lib/relay-chain.sh RUNNEL MESSAGES.jsonl
#
# send → relay × 3 → recv over Unix sockets, with `perf stat -e task-clock,context-switches`
# on the middle relay: one relay's CPU and context switches for the whole input, without the
# start-up of the others. (Scripts/bench-links measures the chain beside its peers.)
set -euo pipefail
runnel=$1
data=$2
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
wait_for() { for _ in $(seq 500); do [ -S "$1" ] && return; sleep 0.02; done; echo "no socket $1" >&2; exit 1; }

"$runnel" recv --listen "unix:$dir/recv.sock" > /dev/null 2> "$dir/recv.log" &
wait_for "$dir/recv.sock"
target=$dir/recv.sock
for i in 3 2 1; do
    "$runnel" relay --listen "unix:$dir/r$i.sock" --to "unix:$target" 2> "$dir/r$i.log" &
    [ "$i" = 2 ] && middle=$!
    wait_for "$dir/r$i.sock"
    target=$dir/r$i.sock
done
perf stat -e task-clock,context-switches -p "$middle" -o "$dir/perf.txt" &
perf_pid=$!
"$runnel" send "unix:$target" "$data"
sleep 0.3
kill -INT "$perf_pid"
wait "$perf_pid" 2>/dev/null || true
grep -E 'task-clock|context-switches' "$dir/perf.txt"

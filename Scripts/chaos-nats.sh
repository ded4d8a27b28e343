#!/usr/bin/env bash
# Chaos over NATS JetStream links: N pages (default 2000) from a loopback HTTP server through
# fetch → parse → enrich → store, each link a JetStream work queue, while a random stage is
# SIGKILLed every 100 ms (CHAOS_KILL_EVERY). Passes when the store ends with exactly one row per
# page.
#
#   Scripts/chaos-nats.sh [N]
#
# Why it exists beside Scripts/chaos.sh: on socket links acks are end to end, so an input is done
# only when all four stages stayed up long enough to carry it to the store and the ack back. At a
# kill every 100 ms each stage lives about 0.4 s, and the pipeline spends most of its time
# redoing what a kill undid (BENCHMARKS.md). On JetStream links each hop is durable: a stage acks
# its input once JetStream has stored its outputs, so a kill costs only what the killed stage
# held, redelivered after `ack_wait`. Each stage here is restarted by a shell loop, with no
# supervisor: the baseline for `CHAOS_LINKS=nats Scripts/chaos.sh`, where `runnel run` links the
# same stages through JetStream (`links = "nats://…"`) and restarts them itself.
set -euo pipefail
cd -P "$(dirname "$0")/.."
n=${1:-2000}
runnel=${RUNNEL:-$(swift build --show-bin-path)/runnel}
[ -x "$runnel" ] || swift build --product runnel >/dev/null
kill_every=${CHAOS_KILL_EVERY:-0.1}
. Scripts/lib/nats.sh
work=$(mktemp -d)
nats_start
tag="chaosnats$$"   # in every stage's command line: what the killer and the clean-up look for
trap 'touch "$work/done"; kill $(jobs -p) 2>/dev/null; pkill -f -- "$tag" 2>/dev/null; wait 2>/dev/null; nats_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
trap 'exit 143' TERM INT
nats=$RUNNEL_TEST_NATS

python3 Scripts/lib/news_site.py "$work/site" "$n" > "$work/urls.txt.tmp"
python3 Scripts/lib/serve_site.py "$work/site" > "$work/http.log" 2>&1 &
for _ in $(seq 50); do port=$(grep -oE 'port [0-9]+' "$work/http.log" | grep -oE '[0-9]+' || true); [ -n "$port" ] && break; sleep 0.1; done
sed "s/PORT/$port/" "$work/urls.txt.tmp" > "$work/urls.txt"

# One stage, started again whenever it dies, until the run is done.
stage() {
  local name=$1; shift
  while [ ! -e "$work/done" ]; do
    "$runnel" "$name" "$@" --dead-letter "$work/$name.$tag.dead.jsonl.zst" > /dev/null 2>> "$work/$name.log" || true
  done
}
q="ack_wait=1s&max_ack_pending=64"
# (The loops' own stderr holds only the shell's "Killed" notices: not kept.)
stage fetch --listen "$nats/$tag.urls?$q" --to "$nats/$tag.pages" --allow-private --delay 0s --per-host 16 2>/dev/null &
stage parse --listen "$nats/$tag.pages?$q" --to "$nats/$tag.parsed" 2>/dev/null &
stage enrich --listen "$nats/$tag.parsed?$q" --to "$nats/$tag.enriched" 2>/dev/null &
stage store --listen "$nats/$tag.enriched?$q" --db "$work/chaos.sqlite" 2>/dev/null &

started=$(date +%s.%N)
"$runnel" send "$nats/$tag.urls" "$work/urls.txt" --urls 2> "$work/send.log" || {
  echo "chaos-nats: runnel send failed:"; tail -n 5 "$work/send.log"; exit 1
}

python3 - "$tag" "$work/done" "$kill_every" > "$work/kills" <<'PY' &
import os, random, signal, sys, time
marker, done, every = sys.argv[1].encode(), sys.argv[2], float(sys.argv[3])
kills, due = 0, time.monotonic()
while not os.path.exists(done):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if len(argv) > 2 and argv[1] in (b"fetch", b"parse", b"enrich", b"store") and any(marker in a for a in argv):
                pids.append(int(entry))
    if pids and every > 0:
        try:
            os.kill(random.choice(pids), signal.SIGKILL)
            kills += 1
        except OSError:
            pass
    due += every or 0.3
    time.sleep(max(0.0, due - time.monotonic()))
print(kills)
PY
killer=$!

rows() { sqlite3 "$work/chaos.sqlite" 'SELECT COUNT(*) FROM articles' 2>/dev/null || echo 0; }
deadline=$(( $(date +%s) + ${CHAOS_TIMEOUT:-900} ))
while [ "$(rows)" -lt "$n" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
seconds=$(python3 -c "import time,sys; print(f'{time.time() - float(sys.argv[1]):.0f}')" "$started")
touch "$work/done"
wait $killer
kills=$(cat "$work/kills")
rows=$(rows)
distinct=$(sqlite3 "$work/chaos.sqlite" 'SELECT COUNT(DISTINCT url) FROM articles' 2>/dev/null || echo 0)
dead=$(cat "$work"/*.dead.jsonl.zst 2>/dev/null | "$runnel" cat 2>/dev/null | wc -l)
echo "chaos-nats: $n pages, $kills kills (one every ${kill_every}s), $rows rows ($distinct distinct URLs), $dead dead-lettered, ${seconds}s"
[ "$rows" -eq "$n" ] && [ "$distinct" -eq "$n" ] && [ "$dead" -eq 0 ] || {
  tail -n 5 "$work"/*.log
  exit 1
}

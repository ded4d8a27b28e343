#!/usr/bin/env bash
# Chaos: N pages (default 2000) from a loopback HTTP server through the supervised news pipeline,
# with SIGKILL sent to a random stage every ~300 ms. Passes when the store ends with exactly one
# row per page and `runnel status` counted the restarts.
#
#   Scripts/chaos.sh [N]
#
# CHAOS_KILL_EVERY=0 runs the same pipeline without kills (a baseline to compare with);
# CHAOS_WINDOW sets the stages' --window.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
runnel=${RUNNEL:-$(swift build --show-bin-path)/runnel}
[ -x "$runnel" ] || swift build --product runnel >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
name="chaos-$$"

python3 Scripts/lib/news_site.py "$work/site" "$n" > "$work/urls.txt.tmp"
python3 Scripts/lib/serve_site.py "$work/site" > "$work/http.log" 2>&1 &
for _ in $(seq 50); do port=$(grep -oE 'port [0-9]+' "$work/http.log" | grep -oE '[0-9]+' || true); [ -n "$port" ] && break; sleep 0.1; done
sed "s/PORT/$port/" "$work/urls.txt.tmp" > "$work/urls.txt"

extra=""
[ -n "${CHAOS_WINDOW:-}" ] && extra=", \"--window\", \"$CHAOS_WINDOW\""
kill_every=${CHAOS_KILL_EVERY:-0.3}
pause=$kill_every; [ "$pause" = 0 ] && pause=0.3
cat > "$work/chaos.toml" <<TOML
[pipeline]
name = "$name"
max_restarts = 1000
period_s = 60
backoff = { initial_ms = 20, max_ms = 500 }
shutdown_timeout_s = 20

[source]
urls = "urls.txt"

[[stage]]
name = "fetch"
args = ["--allow-private", "--delay-ms", "0", "--per-host", "16"$extra]

[[stage]]
name = "parse"
args = [${extra#, }]

[[stage]]
name = "enrich"
args = [${extra#, }]

[[stage]]
name = "store"
args = ["--db", "chaos.sqlite"$extra]
TOML

"$runnel" run "$work/chaos.toml" --no-progress 2> "$work/run.log" &
run=$!
kills=0
sleep 1
while kill -0 $run 2>/dev/null; do
  status=$("$runnel" status --name "$name" --json 2>/dev/null || true)
  pid=$(echo "$status" | python3 -c 'import json,sys,random
try:
  s=json.load(sys.stdin); pids=[p for st in s["stages"] if st["name"]!="source" for p in st["pids"]]
  print(random.choice(pids) if pids else "")
except Exception: print("")')
  if [ -n "$pid" ] && [ "$kill_every" != 0 ]; then kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)); fi
  restarts=$(echo "$status" | python3 -c 'import json,sys
try: print(sum(st["restarts"] for st in json.load(sys.stdin)["stages"]))
except Exception: print(0)')
  [ -n "$restarts" ] && last_restarts=$restarts
  sleep "$pause"
done
rc=0
wait $run || rc=$?
rows=$(sqlite3 "$work/chaos.sqlite" 'SELECT COUNT(*) FROM articles' 2>/dev/null || echo 0)
distinct=$(sqlite3 "$work/chaos.sqlite" 'SELECT COUNT(DISTINCT url) FROM articles' 2>/dev/null || echo 0)
echo "chaos: $n pages, $kills kills, ${last_restarts:-0} restarts counted by runnel status, exit $rc, $rows rows ($distinct distinct URLs)"
[ "$rc" -eq 0 ] && [ "$rows" -eq "$n" ] && [ "$distinct" -eq "$n" ] || { tail -20 "$work/run.log"; exit 1; }

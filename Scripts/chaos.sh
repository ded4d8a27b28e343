#!/usr/bin/env bash
# Chaos: N pages (default 2000) from a loopback HTTP server through the supervised news pipeline,
# with SIGKILL sent to a random stage every ~300 ms (or every two restart times, if a stage takes
# longer than 150 ms to be back: a debug build). Passes when the store ends with exactly one
# row per page and `runnel status` counted the restarts.
#
#   Scripts/chaos.sh [N]
#
# CHAOS_KILL_EVERY=0 runs the same pipeline without kills (a baseline to compare with);
# CHAOS_WINDOW sets the stages' --window. CHAOS_KILL_SUPERVISOR=1 also SIGKILLs the supervisor
# itself once, when about a third of the pages are stored, and starts `runnel run` again: it
# must clean up what the dead one left, resume from the cursor and still end with N rows.
# Every run ends by checking that no process of the pipeline is left behind.
#
# CHAOS_LINKS=nats links the stages through NATS JetStream work queues instead of Unix sockets
# (`links = "nats://…"` in the pipeline file; a throwaway nats-server from Scripts/lib/nats.sh,
# or the one in RUNNEL_TEST_NATS). Each hop is then durable, so the default kill interval is
# 100 ms: `CHAOS_LINKS=nats Scripts/chaos.sh 10000`. CHAOS_NATS_OPTIONS sets the links' options
# (default ack_wait=1s&max_ack_pending=64).
set -euo pipefail
cd -P "$(dirname "$0")/.."
n=${1:-2000}
runnel=${RUNNEL:-$(swift build --show-bin-path)/runnel}
[ -x "$runnel" ] || swift build --product runnel >/dev/null
work=$(mktemp -d)
links=${CHAOS_LINKS:-unix}
links_line=""
own_nats=""
if [ "$links" = nats ]; then
  . Scripts/lib/nats.sh
  if [ -z "${RUNNEL_TEST_NATS:-}" ]; then nats_start; own_nats=1; fi
  links_line="links = \"$RUNNEL_TEST_NATS?${CHAOS_NATS_OPTIONS:-ack_wait=1s&max_ack_pending=64}\""
elif [ "$links" != unix ]; then
  echo "chaos: CHAOS_LINKS is unix or nats, not $links" >&2; exit 64
fi
trap 'kill $(jobs -p) 2>/dev/null; [ -z "$own_nats" ] || nats_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
trap 'exit 143' TERM INT   # so the EXIT trap above ends the pipeline and the server too
name="chaos-$$"

python3 Scripts/lib/news_site.py "$work/site" "$n" > "$work/urls.txt.tmp"
python3 Scripts/lib/serve_site.py "$work/site" > "$work/http.log" 2>&1 &
for _ in $(seq 50); do port=$(grep -oE 'port [0-9]+' "$work/http.log" | grep -oE '[0-9]+' || true); [ -n "$port" ] && break; sleep 0.1; done
sed "s/PORT/$port/" "$work/urls.txt.tmp" > "$work/urls.txt"

extra=""
[ -n "${CHAOS_WINDOW:-}" ] && extra=", \"--window\", \"$CHAOS_WINDOW\""
# Over Unix sockets a kill costs the killed stage's whole window, done again once it is back. A
# killed stage is back after the supervisor's backoff (at most 100 ms, below) and the binary's
# start-up; kills that come faster than about twice that keep some stage down most of the time,
# and the run falls into a mode where every kill redoes full windows and 400 pages take 130 s instead
# of 12 (BENCHMARKS.md, "Chaos and the restart time"). A release binary starts in ~30 ms, so the
# default is a kill every 0.3 s; a debug build spends ~0.2 s validating its options at each start,
# so with it the interval is twice the time a stage takes to be back.
if [ "$links" = nats ]; then
  kill_every=${CHAOS_KILL_EVERY:-0.1}
elif [ -n "${CHAOS_KILL_EVERY:-}" ]; then
  kill_every=$CHAOS_KILL_EVERY
else
  kill_every=$(python3 - "$runnel" <<'PY'
import subprocess, sys, time
starts = []
for _ in range(3):
    began = time.monotonic()
    subprocess.run([sys.argv[1], "fetch"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    starts.append(time.monotonic() - began)
back = 0.1 + sorted(starts)[1]
print(f"{max(0.3, 2 * back):.2f}")
PY
)
  echo "chaos: a kill every ${kill_every}s (a stage is back in about half that: 100 ms of backoff and the binary's start-up)" >&2
fi
cat > "$work/chaos.toml" <<TOML
[pipeline]
name = "$name"
max_restarts = 1000
period = "60s"
backoff = { initial = "10ms", max = "100ms" }
shutdown_timeout = "20s"
$links_line

[source]
urls = "urls.txt"

[[stage]]
name = "fetch"
args = ["--allow-private", "--delay", "0s", "--per-host", "16"$extra]

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
# The killer (until $work/done appears): SIGKILLs a random stage every 300 ms (CHAOS_KILL_EVERY).
# It finds the stages in /proc (their command lines name the pipeline's run directory; the source,
# `runnel send`, is spared), so a kill costs no process start and the interval is what it says;
# `runnel status` is asked about once a second, for the restarts it counted. It prints how many
# it killed, the restarts counted last, and the mean time between kills.
python3 - "$runnel" "$name" "$work/done" "$kill_every" > "$work/kills" <<'PY' &
import json, os, random, signal, subprocess, sys, time
runnel, name, done, every = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
marker = f"/{name}/".encode()

def stages():
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1] != b"send" and any(marker in arg for arg in argv):
            pids.append(int(entry))
    return pids

def restarts_counted():
    out = subprocess.run([runnel, "status", "--name", name, "--json"], capture_output=True, text=True).stdout
    try:
        return sum(stage["restarts"] for stage in json.loads(out)["stages"])
    except (ValueError, KeyError):
        return None  # finished, or not started yet

kills = restarts = kills_seen = 0  # kills_seen: the kills made a second or more before the last status
kill_times = []  # when each kill was made
killed = set()  # a stage still exiting from its kill is not killed again: that would be a kill
                # with no restart of its own (its /proc entry lasts until it has exited)
began = time.monotonic()
time.sleep(1)
last_status = 0.0
due = time.monotonic()  # kills keep to a schedule, so the time a scan takes is not added
while not os.path.exists(done):
    if time.monotonic() - last_status >= 1:
        counted = restarts_counted()
        if counted is not None:
            # A stage killed just before the question may not be started again yet (it waits
            # out its backoff first): the kills of the last second are not asked for.
            asked = time.monotonic() - 1
            restarts, kills_seen = counted, sum(1 for t in kill_times if t <= asked)
        last_status = time.monotonic()
    pids = [pid for pid in stages() if pid not in killed]
    if pids and every > 0:
        try:
            victim = random.choice(pids)
            os.kill(victim, signal.SIGKILL)
            killed.add(victim)
            kill_times.append(time.monotonic())
            kills += 1
        except OSError:
            pass
    due += every or 0.3
    time.sleep(max(0.0, due - time.monotonic()))
print(kills, restarts, kills_seen, f"{(time.monotonic() - began - 1) / max(kills, 1):.2f}")
PY
killer=$!
if [ -n "${CHAOS_KILL_SUPERVISOR:-}" ]; then
  # Wait (at most 600 s) until a third of the pages are stored, then kill the supervisor.
  for _ in $(seq 6000); do
    stored=$(sqlite3 "$work/chaos.sqlite" 'SELECT COUNT(*) FROM articles' 2>/dev/null || echo 0)
    [ "$stored" -ge $((n / 3)) ] && break
    kill -0 "$run" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$run" 2>/dev/null || true
  wait "$run" 2>/dev/null || true
  echo "chaos: supervisor SIGKILLed with $stored rows stored; starting it again" >&2
  "$runnel" run "$work/chaos.toml" --no-progress 2>> "$work/run.log" &
  run=$!
fi
rc=0
wait $run || rc=$?
touch "$work/done"
wait $killer
read -r kills last_restarts kills_seen interval < "$work/kills"
rows=$(sqlite3 "$work/chaos.sqlite" 'SELECT COUNT(*) FROM articles' 2>/dev/null || echo 0)
distinct=$(sqlite3 "$work/chaos.sqlite" 'SELECT COUNT(DISTINCT url) FROM articles' 2>/dev/null || echo 0)
# Nothing of the pipeline may outlive it: its stages name its run directory in their arguments.
left=$(pgrep -f -- "/$name/" || true)
[ -z "$left" ] || { echo "chaos: processes left behind: $(ps -o pid=,args= -p ${left//$'\n'/,} | head -5)"; rc=1; }
echo "chaos: $n pages over $links links, $kills kills (one every ${interval}s), ${last_restarts:-0} restarts counted by runnel status, exit $rc, $rows rows ($distinct distinct URLs)"
# Every kill made a second or more before the last status query (but one landing as the run
# ends) shows up as a restart (a supervisor started again counts only its own).
counted=${last_restarts:-0}
[ -n "${CHAOS_KILL_SUPERVISOR:-}" ] && counted=$kills_seen
[ "$rc" -eq 0 ] && [ "$rows" -eq "$n" ] && [ "$distinct" -eq "$n" ] && [ "$counted" -ge $((kills_seen - 2)) ] || {
  tail -20 "$work/run.log"
  exit 1
}

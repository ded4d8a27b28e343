#!/usr/bin/env bash
# Two hosts on one machine: network namespaces A (10.77.0.1) and B (10.77.0.2) joined by a veth
# pair. A serves N news pages (default 500) on its loopback and runs the source, fetch and store;
# B runs parse and enrich. Both run `runnel run two-hosts.toml --host a|b` from one pipeline
# file with [hosts] and [tls]: fetch → parse and enrich → store cross the veth over tls:// with
# the shared key inside. Mid-run the veth is cut (`ip link set … down`) for a few seconds and
# restored: the senders across it (fetch, enrich; --ack-timeout 6s) give up on the silent
# connection, reconnect once it is back and resend what was unacked. Passes when A's supervisor ends 0 (every URL acked end to end) and the store holds
# exactly N articles, one per URL.
#
#   sudo Scripts/two-hosts.sh [N]        # needs root (ip netns), iproute2, openssl, sqlite3
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
cut_seconds=${RUNNEL_CUT_SECONDS:-8}
runnel=${RUNNEL:-$(swift build --show-bin-path)/runnel}
[ -x "$runnel" ] || swift build --product runnel >/dev/null
root=$(pwd)

id=$$
ns_a=runnel-a-$id
ns_b=runnel-b-$id
veth_a=rnla$id
veth_b=rnlb$id
name=two-hosts-$id
work=$(mktemp -d)
run_base=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/runnel}
run_base=${run_base:-/tmp/runnel-$(id -u)}

cleanup() {
  set +e
  for ns in "$ns_a" "$ns_b"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill $pids 2>/dev/null
  done
  sleep 0.5
  for ns in "$ns_a" "$ns_b"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  ip link del "$veth_a" 2>/dev/null
  rm -rf "$run_base/$name@a" "$run_base/$name@b"  # the supervisors' run directories
  [ -n "${KEEP:-}" ] && echo "two-hosts: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The two hosts.
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "$veth_a" type veth peer name "$veth_b"
ip link set "$veth_a" netns "$ns_a"
ip link set "$veth_b" netns "$ns_b"
ip -n "$ns_a" addr add 10.77.0.1/24 dev "$veth_a"
ip -n "$ns_b" addr add 10.77.0.2/24 dev "$veth_b"
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
ip -n "$ns_a" link set "$veth_a" up
ip -n "$ns_b" link set "$veth_b" up

# Certificates for both addresses, and the shared key.
Scripts/lib/make_certs.sh "$work/certs" "IP:10.77.0.1,IP:10.77.0.2"
openssl rand -hex 32 > "$work/runnel.key"
chmod 600 "$work/runnel.key"

# The news site, on A's loopback.
python3 Scripts/lib/news_site.py "$work/site" "$n" > "$work/urls.txt.tmp"
ip netns exec "$ns_a" python3 Scripts/lib/serve_site.py "$work/site" > "$work/http.log" 2>&1 &
for _ in $(seq 100); do port=$(grep -oE 'port [0-9]+' "$work/http.log" | grep -oE '[0-9]+' || true); [ -n "$port" ] && break; sleep 0.1; done
[ -n "${port:-}" ] || { echo "two-hosts: the news site did not start" >&2; cat "$work/http.log" >&2; exit 1; }
sed "s/PORT/$port/" "$work/urls.txt.tmp" > "$work/urls.txt"

cat > "$work/two-hosts.toml" <<TOML
[pipeline]
name = "$name"
key_file = "runnel.key"
shutdown_timeout = "20s"

[hosts.a]
address = "10.77.0.1"
[hosts.b]
address = "10.77.0.2"

[tls]
cert = "certs/server.pem"
key = "certs/server.key"
ca = "certs/ca.pem"

[source]
urls = "urls.txt"

[[stage]]
name = "fetch"
host = "a"
args = ["--allow-private", "--delay", "0s", "--per-host", "16", "--ack-timeout", "6s"]

[[stage]]
name = "parse"
host = "b"
port = 7401

[[stage]]
name = "enrich"
host = "b"
port = 7402
args = ["--ack-timeout", "6s"]

[[stage]]
name = "store"
host = "a"
port = 7403
args = ["--db", "two-hosts.sqlite"]
TOML

rows() { sqlite3 "$work/two-hosts.sqlite" 'SELECT COUNT(*) FROM articles' 2>/dev/null || echo 0; }
started=$(date +%s)
timeout_s=${RUNNEL_TWO_HOSTS_TIMEOUT:-150}
deadline=$((started + timeout_s))
ip netns exec "$ns_b" "$runnel" run "$work/two-hosts.toml" --host b --no-progress 2> "$work/b.log" &
run_b=$!
# B first, until its supervisor answers: both hosts share this file system, and each checks the
# pipeline by asking every stage to --describe itself (the store opens its database to do so).
for _ in $(seq 120); do
  ip netns exec "$ns_b" "$runnel" status --name "$name@b" >/dev/null 2>&1 && break
  kill -0 $run_b 2>/dev/null || { echo "two-hosts: host b's supervisor exited" >&2; cat "$work/b.log" >&2; exit 1; }
  sleep 0.5
done
ip netns exec "$ns_a" "$runnel" run "$work/two-hosts.toml" --host a --no-progress 2> "$work/a.log" &
run_a=$!

# Cut the link once a fifth of the pages are stored, for a few seconds.
cut=no
while [ "$(date +%s)" -lt "$deadline" ]; do
  kill -0 $run_a 2>/dev/null || break
  if [ "$(rows)" -ge $((n / 5)) ]; then
    echo "two-hosts: $(rows)/$n stored; runnel status on each host:" >&2
    ip netns exec "$ns_a" "$runnel" status --name "$name@a" >&2 || true
    ip netns exec "$ns_b" "$runnel" status --name "$name@b" >&2 || true
    echo "two-hosts: cutting the link for $cut_seconds s" >&2
    ip -n "$ns_a" link set "$veth_a" down
    sleep "$cut_seconds"
    at_cut=$(rows)
    ip -n "$ns_a" link set "$veth_a" up
    echo "two-hosts: link restored ($at_cut/$n stored meanwhile)" >&2
    cut=yes
    break
  fi
  sleep 0.2
done

# A's supervisor exits by itself once every URL is acked end to end; give up past the deadline.
while kill -0 $run_a 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.5; done
rc=0
if kill -0 $run_a 2>/dev/null; then
  echo "two-hosts: host a did not finish within ${timeout_s}s" >&2
  kill -TERM $run_a 2>/dev/null || true
  rc=124
  wait $run_a || true
else
  wait $run_a || rc=$?
fi
elapsed=$(( $(date +%s) - started ))
kill -TERM $run_b 2>/dev/null || true
wait $run_b || true
total=$(rows)
distinct=$(sqlite3 "$work/two-hosts.sqlite" 'SELECT COUNT(DISTINCT url) FROM articles' 2>/dev/null || echo 0)
resent=$(cat "$work/a.log" "$work/b.log" | grep -cE 'unacked to resend' || true)
refused=$(cat "$work/a.log" "$work/b.log" | grep -cE 'UNAUTHENTICATED' || true)
echo "two-hosts: $n pages over tls:// between two network namespaces, link cut $cut for ${cut_seconds}s: exit $rc, $total articles ($distinct distinct URLs) in ${elapsed}s; $resent reconnects that resent the unacked"
if [ "$rc" -ne 0 ] || [ "$total" -ne "$n" ] || [ "$distinct" -ne "$n" ] || [ "$cut" != yes ] || [ "$refused" -ne 0 ] || [ "$resent" -lt 1 ]; then
  [ "$cut" != yes ] && echo "two-hosts: the pipeline ended before the cut: nothing was tested" >&2
  [ "$refused" -ne 0 ] && echo "two-hosts: a TLS or key refusal was logged" >&2
  [ "$resent" -lt 1 ] && echo "two-hosts: no sender reconnected and resent after the cut" >&2
  echo "--- host a" >&2; tail -30 "$work/a.log" >&2
  echo "--- host b" >&2; tail -30 "$work/b.log" >&2
  exit 1
fi

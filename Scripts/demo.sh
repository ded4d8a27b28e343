#!/usr/bin/env bash
# The first command: sets up a fresh Debian machine, builds runnel, and shows it at work on the
# bundled example pages.
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/lib/setup.sh

need_debian "${RUNNEL_DEBIAN_PACKAGES[@]}"

echo "==> building runnel (debug; the first build takes several minutes)" >&2
swift build --product runnel 2>&1 | grep -E 'error:|warning: |Compiling runnel|Build' >&2 || true
runnel=$(swift build --show-bin-path)/runnel
test -x "$runnel"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo
echo "==> runnel --help"
"$runnel" --help

echo
echo "==> a round trip: JSON lines → zstd stream → JSON lines"
cat > "$work/messages.jsonl" <<'LINES'
{"id":"m1","type":"url.requested","body":{"url":"https://vov.vn/the-gioi/nato-nga.html"}}
{"id":"m2","type":"page.fetched","body":{"url":"https://vov.vn/a","status":200,"content_type":"text/html","html":"<h1>Phái bộ ngoại giao</h1>"}}
LINES
"$runnel" cat --zstd "$work/messages.jsonl" > "$work/messages.jsonl.zst"
echo "$(wc -c < "$work/messages.jsonl") bytes of JSON lines → $(wc -c < "$work/messages.jsonl.zst") bytes of zstd; zstd -dc reads it too:"
zstd -dc "$work/messages.jsonl.zst"
"$runnel" cat "$work/messages.jsonl.zst" | "$runnel" relay | "$runnel" validate

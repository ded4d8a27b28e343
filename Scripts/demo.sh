#!/usr/bin/env bash
# The first command: sets up a fresh Debian machine, builds runnel, runs the news pipeline
# (Examples/news.toml: fetch → parse → enrich → store) on the bundled example pages under the
# supervisor, and searches what it stored.
set -euo pipefail
cd -P "$(dirname "$0")/.."
. Scripts/lib/setup.sh

need_debian "${RUNNEL_DEBIAN_PACKAGES[@]}"

echo "==> building runnel (debug; the first build takes several minutes)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build --product runnel >"$log" 2>&1; then
  grep -E 'error:' "$log" | head -40 || tail -40 "$log"
  exit 1
fi
runnel=$(swift build --show-bin-path)/runnel

echo
echo "==> runnel run Examples/news.toml   ($(ls Examples/pages/*.html Examples/pages/*.txt | wc -l) pages; a fresh database each time)"
rm -rf Examples/.runnel Examples/news.sqlite Examples/news.sqlite-*
"$runnel" run Examples/news.toml

echo
echo "==> runnel search --db Examples/news.sqlite \"phai bo ngoai giao\"   (diacritics are optional)"
"$runnel" search --db Examples/news.sqlite "phai bo ngoai giao"
echo
echo "==> runnel search --db Examples/news.sqlite \"climate\" --limit 3"
"$runnel" search --db Examples/news.sqlite "climate" --limit 3 || true
echo
echo "Next: runnel --help, runnel run --help, and the README's tour."

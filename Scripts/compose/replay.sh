#!/bin/sh
# Replay a captured link into a single stage, two ways:
#
#   Scripts/compose/replay.sh parsed.jsonl.zst enriched.jsonl.zst
#
# 1. as a pipe: the log's lines into `runnel enrich`, its outputs on stdout (here: counted);
# 2. into a stage on a socket, with acks, in call mode, comparing its outputs with the captured
#    ones (exit 0: identical; 1: something changed, and what is printed).
set -eu
RUNNEL=${RUNNEL:-runnel}
log=${1:?usage: replay.sh IN_LOG OUT_LOG}
captured=${2:?usage: replay.sh IN_LOG OUT_LOG}

echo "pipe: $("$RUNNEL" replay "$log" --to - | "$RUNNEL" enrich | wc -l) outputs"

dir=$(mktemp -d)
"$RUNNEL" enrich --listen "unix:$dir/enrich.sock" &
stage=$!
trap 'kill $stage 2>/dev/null; wait $stage 2>/dev/null; rm -rf "$dir"' EXIT
while [ ! -S "$dir/enrich.sock" ]; do sleep 0.05; done
"$RUNNEL" replay "$log" --to "unix:$dir/enrich.sock" --compare "$captured"

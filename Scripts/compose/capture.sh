#!/bin/sh
# The same crawl, with the parse → enrich link captured to a log on the way (zstd frames of JSON
# lines: `zstdcat LOG | jq` reads it), and enrich's outputs too, for a later replay --compare.
#
#   Scripts/compose/capture.sh urls.txt news.sqlite parsed.jsonl.zst enriched.jsonl.zst
#
# `runnel cat --tee LOG` copies its input to LOG and passes it on; where this runnel has no
# --tee yet, plain `tee` writes the same lines uncompressed (a log either way).
set -eu
RUNNEL=${RUNNEL:-runnel}
FETCH_ARGS=${FETCH_ARGS:-}   # e.g. "--delay 0s" for local files
urls=${1:?usage: capture.sh URLS DB PARSED_LOG ENRICHED_LOG}
db=${2:?}
parsed=${3:?}
enriched=${4:?}

if "$RUNNEL" cat --help 2>/dev/null | grep -q -- '--tee'; then
  tee_to() { "$RUNNEL" cat --tee "$1"; }
else
  tee_to() { tee "$1"; }
fi

"$RUNNEL" fetch $FETCH_ARGS < "$urls" | "$RUNNEL" parse | tee_to "$parsed" \
  | "$RUNNEL" enrich | tee_to "$enriched" | "$RUNNEL" store --db "$db"

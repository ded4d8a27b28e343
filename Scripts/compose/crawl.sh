#!/bin/sh
# A crawl as a pipe of stages: URLs in, articles stored and searchable.
#
#   Scripts/compose/crawl.sh urls.txt news.sqlite
#
# Each stage is a process reading JSON lines on stdin and writing them on stdout; the last one
# prints one article.stored line per article. $RUNNEL names the binary (default: runnel).
set -eu
RUNNEL=${RUNNEL:-runnel}
FETCH_ARGS=${FETCH_ARGS:-}   # e.g. "--delay 0s" for local files
urls=${1:?usage: crawl.sh URLS DB}
db=${2:?usage: crawl.sh URLS DB}

"$RUNNEL" fetch $FETCH_ARGS < "$urls" | "$RUNNEL" parse | "$RUNNEL" enrich | "$RUNNEL" store --db "$db"

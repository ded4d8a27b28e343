#!/bin/sh
# One stage on another host: the pipe goes through ssh, zstd-compressed both ways (every reader
# detects zstd by itself).
#
#   REMOTE="ssh parse-host" Scripts/compose/remote.sh urls.txt news.sqlite
#
# The remote command runs `runnel parse --zstd` there (runnel must be on that host's PATH, or
# set REMOTE_RUNNEL). REMOTE="sh -c" runs it here instead, which is how the tests run this script.
set -eu
RUNNEL=${RUNNEL:-runnel}
FETCH_ARGS=${FETCH_ARGS:-}   # e.g. "--delay 0s" for local files
REMOTE=${REMOTE:?set REMOTE, e.g. REMOTE="ssh parse-host"}
REMOTE_RUNNEL=${REMOTE_RUNNEL:-runnel}
urls=${1:?usage: remote.sh URLS DB}
db=${2:?usage: remote.sh URLS DB}

"$RUNNEL" fetch $FETCH_ARGS --zstd < "$urls" | $REMOTE "$REMOTE_RUNNEL parse --zstd" | "$RUNNEL" enrich | "$RUNNEL" store --db "$db"

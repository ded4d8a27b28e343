#!/usr/bin/env bash
# The test command: sets up a fresh Debian machine (system and Python packages), builds, and
# runs every test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/lib/setup.sh

need_debian "${RUNNEL_DEBIAN_PACKAGES[@]}"
need_python "${RUNNEL_PYTHON_PACKAGES[@]}"
need_urltestdata   # exports RUNNEL_URLTESTDATA for the WHATWG URL conformance test
. Scripts/lib/html5lib-tests.sh
need_html5lib_tests   # exports RUNNEL_HTML5LIB_TESTS for the parse stage's HTML5 tree-construction test

echo "==> building (debug, with tests; the first build takes several minutes)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build --build-tests >"$log" 2>&1; then
  grep -E 'error:|warning:|note:' "$log" | head -100 || tail -50 "$log"
  echo "==> build failed" >&2
  exit 1
fi

# The nats:// tests need a JetStream server: a throwaway one on a free loopback port.
. Scripts/lib/nats.sh
nats_start
trap 'rm -f "$log"; nats_stop' EXIT
echo "==> nats-server -js at $RUNNEL_TEST_NATS (Scripts/lib/nats.sh)" >&2

# A throwaway PostgreSQL server for the PostgreSQL store's tests (exports RUNNEL_TEST_POSTGRES;
# stopped and removed on exit).
. Scripts/lib/postgres.sh
start_test_postgres -c fsync=off

# Side by side, in one process (Swift Testing's --parallel; there are no XCTest tests). Tests wait
# on events with generous deadlines, not on sleeps; a child process is awaited off the cooperative
# pool, so a test waiting on one holds no thread. Swift Testing 6.3 starts every test at once
# unless capped, which on 2 cores means hundreds of runnel processes at once: the cap keeps a few
# tests per core running (SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH; the testing library
# reads it itself, SwiftPM 6.3 has no flag for it). RUNNEL_TEST_WIDTH overrides it.
width=${RUNNEL_TEST_WIDTH:-$(( 2 * $(nproc) ))}
echo "==> running tests (in parallel, $width at a time)" >&2
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$width swift test --skip-build --parallel

# The adversarial suite (Scripts/adversarial, issue 12): every kind of bad input and misbehaving
# peer tried against the real binary, wire and link cases through a second implementation of the
# protocol in Python; each asserts its exact status. Kinds listed as known failures are reported
# as such, never as passed; any other failure fails the run.
echo "==> adversarial: Scripts/adversarial/run.py" >&2
RUNNEL="$(swift build --show-bin-path)/runnel" python3 Scripts/adversarial/run.py

# The README's commands as written: every ```sh block of README.md in a sandbox (with the nats and
# PostgreSQL servers above), and every flag it shows checked against that command's --help.
echo "==> README: Scripts/check-readme.py" >&2
RUNNEL="$(swift build --show-bin-path)/runnel" python3 Scripts/check-readme.py

# Two hosts on one machine (Scripts/two-hosts.sh): network namespaces joined by a veth pair, so it
# needs root; skipped, saying why, where namespaces cannot be made.
if netns_error=$(ip netns add "runnel-probe-$$" 2>&1); then
  ip netns del "runnel-probe-$$"
  echo "==> two hosts: Scripts/two-hosts.sh" >&2
  RUNNEL="$(swift build --show-bin-path)/runnel" timeout 300 Scripts/two-hosts.sh
else
  echo "two-hosts: SKIPPED — cannot create network namespaces: ${netns_error}" >&2
fi

# The supervisor's chaos check, after the unit and process tests so it has the machine to itself:
# 2,000 pages from a loopback server through fetch → parse → enrich → store while a random stage
# is SIGKILLed every ~300 ms, or every two restart times with this debug build (a stage takes
# ~0.3 s to be back; kills faster than that keep some stage down most of the time: BENCHMARKS.md,
# "Chaos and the restart time"); the store must end with exactly one row per page.
echo "==> chaos: Scripts/chaos.sh ${RUNNEL_CHAOS_PAGES:-2000}" >&2
# 1–2 minutes on 2 cores with the debug build; 15 minutes means it is stuck. Then the supervisor
# itself is SIGKILLed mid-run and started again, and must resume and finish with every row.
RUNNEL="$(swift build --show-bin-path)/runnel" timeout 900 Scripts/chaos.sh "${RUNNEL_CHAOS_PAGES:-2000}"
echo "==> chaos with the supervisor killed: CHAOS_KILL_SUPERVISOR=1 Scripts/chaos.sh 500" >&2
CHAOS_KILL_SUPERVISOR=1 CHAOS_KILL_EVERY=0.5 RUNNEL="$(swift build --show-bin-path)/runnel" timeout 600 Scripts/chaos.sh 500
# The same supervisor with its stages linked through JetStream (links = "nats://…", the server
# started above): each hop is durable, so kills ten times a second cost only what the killed
# stage held (about a minute for 1,000 pages with the debug build on a quiet machine; BENCHMARKS.md).
echo "==> chaos over JetStream links, a kill every 100 ms: CHAOS_LINKS=nats Scripts/chaos.sh 1000" >&2
CHAOS_LINKS=nats CHAOS_KILL_EVERY=0.1 RUNNEL="$(swift build --show-bin-path)/runnel" timeout 600 Scripts/chaos.sh 1000

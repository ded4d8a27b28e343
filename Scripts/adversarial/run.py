#!/usr/bin/env python3
"""Runs the adversarial suite: every kind of bad input and misbehaving peer in cases_*.py.

    RUNNEL=.build/debug/runnel python3 Scripts/adversarial/run.py            # all of them
    RUNNEL=… python3 Scripts/adversarial/run.py wire "never says hello"      # those matching

Prints one line per case and a table per area; exits 1 when any case failed.

A case file may name cases in `EXPECTED_TO_FAIL_UNTIL_FIXED`: kinds where Runnel is known not to
do what the spec says yet. They still run; a failure is reported as `known` (never counted as
passed), and a pass is an error (`XPASS`), so the set is emptied as the fixes land.
"""
from __future__ import annotations

import concurrent.futures
import glob
import importlib
import os
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402


def load_cases():
    """Every case, and the names of those known to fail (per area, from each file's set)."""
    known = set()
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        before = len(harness.CASES)
        module = importlib.import_module(os.path.basename(path)[:-3])
        names = set(getattr(module, "EXPECTED_TO_FAIL_UNTIL_FIXED", ()))
        added = harness.CASES[before:]
        unknown = names - {c.name for c in added}
        if unknown:
            sys.exit(f"adversarial: {os.path.basename(path)} expects unknown cases to fail: {sorted(unknown)}")
        known |= {(c.area, c.name) for c in added if c.name in names}
    return harness.CASES, known


def run_one(runnel, case):
    """Runs a case on a thread of its own, at most `case.timeout` seconds: past it the case's
    processes are killed (which ends any wait on them) and it fails, so one hang cannot stall
    the suite."""
    ctx = harness.new_context(runnel)
    started = time.monotonic()
    outcome = []

    def body():
        try:
            case.run(ctx)
            outcome.append(None)
        except harness.Failed as failure:
            outcome.append(str(failure))
        except Exception:
            outcome.append(traceback.format_exc(limit=4))

    thread = threading.Thread(target=body, name=case.name, daemon=True)
    thread.start()
    thread.join(case.timeout)
    if thread.is_alive():
        ctx.close()  # kills its processes: a wait on one of them returns now
        thread.join(10)
        ctx.close()
        return case, f"still running after its {case.timeout:g} s limit", time.monotonic() - started
    ctx.close()
    return case, outcome[0] if outcome else "ended without an outcome", time.monotonic() - started


def main(argv):
    runnel = os.path.abspath(os.environ.get("RUNNEL", ".build/debug/runnel"))
    if not os.access(runnel, os.X_OK):
        sys.exit(f"adversarial: no runnel binary at {runnel} (set RUNNEL=…)")
    every, known = load_cases()
    cases = [c for c in every if all(word.lower() in f"{c.area} {c.name}".lower() for word in argv)]
    if not cases:
        sys.exit("adversarial: no case matches " + " ".join(argv))
    jobs = int(os.environ.get("ADVERSARIAL_JOBS", "4"))
    failures, by_area = [], {}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for case, failure, seconds in pool.map(lambda c: run_one(runnel, c), cases):
            is_known = (case.area, case.name) in known
            if is_known and failure is None:
                outcome, failure = "XPASS", "passes now: take it out of EXPECTED_TO_FAIL_UNTIL_FIXED"
            elif is_known:
                outcome = "known"
            else:
                outcome = "ok" if failure is None else "FAIL"
            counts = by_area.setdefault(case.area, {"ok": 0, "known": 0, "FAIL": 0, "XPASS": 0})
            counts[outcome] += 1
            print(f"{outcome:5} {case.area}: {case.name} ({seconds:.1f} s)", flush=True)
            if failure:
                if outcome != "known":
                    failures.append((case, failure))
                print("      " + failure.strip().replace("\n", "\n      "), flush=True)
    print("\n| area | kinds | passed | known failures | failed |\n|---|---|---|---|---|")
    total = {"ok": 0, "known": 0, "FAIL": 0, "XPASS": 0}
    for area, counts in sorted(by_area.items()):
        print(f"| {area} | {sum(counts.values())} | {counts['ok']} | {counts['known']} | {counts['FAIL'] + counts['XPASS']} |")
        for key in total:
            total[key] += counts[key]
    print(f"| all | {len(cases)} | {total['ok']} | {total['known']} | {total['FAIL'] + total['XPASS']} |")
    print(f"\nadversarial: {len(cases)} kinds, {total['ok']} passed, {total['known']} known failures, "
          f"{len(failures)} failed, {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Runs the adversarial suite: every kind of bad input and misbehaving peer in cases_*.py.

    RUNNEL=.build/debug/runnel python3 Scripts/adversarial/run.py            # all of them
    RUNNEL=… python3 Scripts/adversarial/run.py wire "never says hello"      # those matching

Prints one line per case and a table per area; exits 1 when any case failed.
"""
from __future__ import annotations

import concurrent.futures
import glob
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402


def load_cases():
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3])
    return harness.CASES


def run_one(runnel, case):
    ctx = harness.new_context(runnel)
    started = time.monotonic()
    try:
        case.run(ctx)
        return case, None, time.monotonic() - started
    except harness.Failed as failure:
        return case, str(failure), time.monotonic() - started
    except Exception:
        return case, traceback.format_exc(limit=4), time.monotonic() - started
    finally:
        ctx.close()


def main(argv):
    runnel = os.path.abspath(os.environ.get("RUNNEL", ".build/debug/runnel"))
    if not os.access(runnel, os.X_OK):
        sys.exit(f"adversarial: no runnel binary at {runnel} (set RUNNEL=…)")
    cases = [c for c in load_cases()
             if all(word.lower() in f"{c.area} {c.name}".lower() for word in argv)]
    if not cases:
        sys.exit("adversarial: no case matches " + " ".join(argv))
    jobs = int(os.environ.get("ADVERSARIAL_JOBS", "4"))
    failures, by_area = [], {}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for case, failure, seconds in pool.map(lambda c: run_one(runnel, c), cases):
            passed, failed = by_area.get(case.area, (0, 0))
            by_area[case.area] = (passed + (failure is None), failed + (failure is not None))
            mark = "ok  " if failure is None else "FAIL"
            print(f"{mark} {case.area}: {case.name} ({seconds:.1f} s)", flush=True)
            if failure:
                failures.append((case, failure))
                print("     " + failure.strip().replace("\n", "\n     "), flush=True)
    print(f"\n| area | kinds | passed | failed |\n|---|---|---|---|")
    for area, (passed, failed) in sorted(by_area.items()):
        print(f"| {area} | {passed + failed} | {passed} | {failed} |")
    total = len(cases)
    print(f"| all | {total} | {total - len(failures)} | {len(failures)} |")
    print(f"\nadversarial: {total} kinds, {len(failures)} failed, {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

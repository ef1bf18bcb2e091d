#!/usr/bin/env python3
"""Runs the simulator self-test and the integration test modules, several at
once (they mostly wait on timers and sockets), plus the fault matrix and the
self-monitoring tests a second time with collectd under valgrind. Prints each
module's output as it finishes and a closing
"RESULT passed=N failed=N skipped=N" line for scripts/test.sh.

Environment: HSS_TEST_JOBS (parallel modules, default 2: on 2 cores a third
one starved the timing checks of the others), HSS_TEST_PATTERN
(module glob, default test_*.py), HSS_VALGRIND_SUITE=0 to skip the valgrind
pass."""

import fnmatch
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
PATTERN = os.environ.get("HSS_TEST_PATTERN", "test_*.py")
JOBS = max(1, int(os.environ.get("HSS_TEST_JOBS", "2")))
VALGRIND_MODULES = ("test_faults", "test_selfmon")
# Longest first, so the slow ones do not start last.
ORDER = ["test_faults", "test_build", "test_package", "test_aksk", "test_core",
         "test_fleet", "test_selfmon", "test_sinks", "test_sim"]


def modules():
    """(directory, module) of every test module matching PATTERN."""
    found = []
    for sub in ("tests/sim", "tests/integration"):
        d = os.path.join(ROOT, sub)
        for name in sorted(os.listdir(d)):
            if fnmatch.fnmatch(name, PATTERN) and name.endswith(".py"):
                found.append((d, name[:-3]))
    rank = {m: i for i, m in enumerate(ORDER)}
    return sorted(found, key=lambda x: rank.get(x[1], len(ORDER)))


def jobs():
    """(label, directory, module, extra environment) to run."""
    out = []
    valgrind = os.environ.get("HSS_VALGRIND_SUITE", "1") != "0"
    for d, m in modules():
        if valgrind and m in VALGRIND_MODULES:
            out.append((f"{m} [valgrind]", d, m, {"HSS_VALGRIND": "1"}))
        out.append((m, d, m, {}))
    return out


def counts(text):
    """(passed, failed, skipped) from unittest's closing lines."""
    ran = re.search(r"^Ran (\d+) tests? in", text, re.M)
    total = int(ran.group(1)) if ran else 0
    failed = skipped = 0
    tail = re.search(r"^(OK|FAILED)(?: \((.*)\))?\s*$", text, re.M)
    if tail and tail.group(2):
        for part in tail.group(2).split(","):
            key, _, value = part.strip().partition("=")
            if key in ("failures", "errors", "unexpected successes"):
                failed += int(value)
            elif key == "skipped":
                skipped += int(value)
    if not ran or not tail:
        failed = max(failed, 1)  # crashed or hung: count it as a failure
    return max(total - failed - skipped, 0), failed, skipped


def main():
    pending = jobs()
    running = []
    passed = failed = skipped = 0
    while pending or running:
        while pending and len(running) < JOBS:
            label, d, m, extra = pending.pop(0)
            env = dict(os.environ, **extra)
            log = tempfile.NamedTemporaryFile("w+", prefix=f"hss-run-{m}-", suffix=".log",
                                              delete=False)
            proc = subprocess.Popen([PYTHON, "-m", "unittest", "-v", m], cwd=d, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
            running.append((label, proc, log, time.monotonic()))
        time.sleep(0.2)
        for item in list(running):
            label, proc, log, t0 = item
            if proc.poll() is None:
                continue
            running.remove(item)
            log.seek(0)
            text = log.read()
            log.close()
            os.unlink(log.name)
            p, f, s = counts(text)
            passed, failed, skipped = passed + p, failed + f, skipped + s
            print(f"==== {label}: {p} passed, {f} failed, {s} skipped "
                  f"({time.monotonic() - t0:.0f} s)")
            lines = text.splitlines()
            if f:
                print(text)
            else:
                print("\n".join(l for l in lines if l.endswith(("... ok", "skipped")) or " skipped " in l))
            sys.stdout.flush()
    print(f"RESULT passed={passed} failed={failed} skipped={skipped}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

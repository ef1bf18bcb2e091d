#!/usr/bin/env python3
"""Runs the simulator self-test and the integration tests; prints each test
and a closing "RESULT passed=N failed=N skipped=N" line for scripts/test.sh."""

import os
import sys
import unittest

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
pattern = os.environ.get("HSS_TEST_PATTERN", "test_*.py")

suite = unittest.TestSuite()
loader = unittest.TestLoader()
for sub in ("tests/sim", "tests/integration"):
    d = os.path.join(root, sub)
    sys.path.insert(0, d)
    suite.addTests(loader.discover(d, pattern=pattern, top_level_dir=d))

result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
skipped = len(result.skipped)
passed = result.testsRun - failed - skipped
print(f"RESULT passed={passed} failed={failed} skipped={skipped}")
sys.exit(1 if failed else 0)

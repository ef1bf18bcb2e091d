#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs the unit tests
# (Check), the simulator self-test and the integration tests (the real
# collectd daemon against the simulator). The last line is
# "N passed, N failed"; the exit status is non-zero on any failure, and
# also when nothing was tested.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! bash scripts/build.sh; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0

# --- unit tests (Check, through automake's test harness) ----------------
make -j"$(nproc)" check >/dev/null 2>&1
for src in tests/unit/test_*.c; do
  trs="${src%.c}.trs"
  log="${src%.c}.log"
  if [ ! -e "$trs" ]; then
    echo "unit $(basename "${src%.c}"): did not build or run"
    failed=$((failed + 1))
    continue
  fi
  name=$(basename "${trs%.trs}")
  summary=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n1)
  if [ -n "$summary" ]; then
    set -- $(echo "$summary" | tr -dc '0-9 ')
    p=$(($1 - $2 - $3))
    f=$(($2 + $3))
  else
    p=0
    f=1
  fi
  if ! grep -q '^:test-result: PASS' "$trs" && [ "$f" -eq 0 ]; then
    f=1 # crashed after its summary, or a leak check failed
  fi
  echo "unit $name: $p passed, $f failed"
  [ "$f" -gt 0 ] && sed -e 's/^/    /' "$log" | grep -v '^    [0-9]*%: Checks' | head -n 40
  passed=$((passed + p))
  failed=$((failed + f))
done

# --- the unit tests again under ASan + UBSan ------------------------------
while IFS= read -r line; do
  echo "$line"
  case "$line" in
  sanitize*": "*" passed, "*" failed")
    set -- $(echo "${line#*: }" | tr -dc '0-9 ')
    passed=$((passed + $1))
    failed=$((failed + $2))
    ;;
  esac
done < <(bash scripts/sanitize.sh 2>&1)

# --- fuzz targets (libFuzzer, clang) replay their committed corpus ------
fuzz_out=$(bash scripts/fuzz.sh replay 2>&1)
fuzz_status=$?
echo "$fuzz_out" | grep -E '^fuzz ' || true
fuzz_ok=$(echo "$fuzz_out" | grep -cE '^fuzz [a-z]+: replayed [0-9]+ inputs, ok$')
passed=$((passed + fuzz_ok))
if [ "$fuzz_status" -ne 0 ] || [ "$fuzz_ok" -lt 3 ]; then
  echo "$fuzz_out" | tail -n 30
  failed=$((failed + 1))
fi

# --- simulator self-test and integration tests (Python unittest) --------
out=$(/usr/bin/python3 tests/integration/run.py "$root" 2>&1)
echo "$out" | grep -v '^RESULT '
result=$(echo "$out" | grep '^RESULT ' | tail -n1)
if [ -n "$result" ]; then
  set -- $(echo "$result" | tr -dc '0-9 ')
  passed=$((passed + $1))
  failed=$((failed + $2))
else
  failed=$((failed + 1))
fi

echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/usr/bin/env bash
# Builds a copy of the tree with ASan + UBSan (./configure
# --enable-sanitizers) in build/sanitize and runs the unit tests there.
# Prints one "sanitize <test>: N passed, N failed" line per test binary.
set -u
cd "$(dirname "$0")/.."
dir=build/sanitize
rm -rf "$dir"
mkdir -p "$dir"
git ls-files --cached --others --exclude-standard -z |
  while IFS= read -r -d '' f; do
    [ -e "$f" ] || continue
    mkdir -p "$dir/$(dirname "$f")"
    cp -p "$f" "$dir/$f"
  done
cd "$dir" || exit 1
if ! { autoreconf -fi && ./configure -q --enable-sanitizers &&
  make -j"$(nproc)"; } >build.log 2>&1; then
  tail -n 30 build.log
  echo "sanitize build: 0 passed, 1 failed"
  exit 1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
make -j"$(nproc)" check >check.log 2>&1
status=0
for src in tests/unit/test_*.c; do
  name=$(basename "${src%.c}")
  log="tests/unit/$name.log"
  summary=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" 2>/dev/null | tail -n1)
  if [ -n "$summary" ] && grep -q '^:test-result: PASS' "tests/unit/$name.trs" 2>/dev/null &&
    ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
    set -- $(echo "$summary" | tr -dc '0-9 ')
    echo "sanitize $name: $(($1 - $2 - $3)) passed, $(($2 + $3)) failed"
  else
    echo "sanitize $name: 0 passed, 1 failed"
    grep -E 'Sanitizer|runtime error|:F:|:E:' "$log" | head -n 20 | sed 's/^/    /'
    status=1
  fi
done
exit $status

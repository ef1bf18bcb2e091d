#!/usr/bin/env bash
# libFuzzer targets of the pure core (tests/fuzz/fuzz_<target>.c), built
# with clang against the sources directly (not through automake), with
# -fsanitize=fuzzer,address,undefined. Output goes to build-fuzz/.
#
#   bash scripts/fuzz.sh build                 builds build-fuzz/fuzz_{parse,config,sign}
#   bash scripts/fuzz.sh replay                builds, runs every target once over its
#                                              committed corpus; non-zero on any crash
#   bash scripts/fuzz.sh run TARGET [RUNS] [libFuzzer args...]
#                                              fuzzes TARGET for RUNS executions
#                                              (default 10000000) on a writable copy
#                                              of its corpus (build-fuzz/corpus/TARGET)
#
# Needs clang and libclang-rt-14-dev (libFuzzer, ASan, UBSan runtimes);
# llvm (llvm-symbolizer) gives symbolised stack traces. CC overrides clang.
set -u
cd "$(dirname "$0")/.."

TARGETS="parse config sign"
OUT=build-fuzz
CC=${CC:-clang}

die() {
  echo "fuzz: $*" >&2
  exit 1
}

# The .c files of the core library (libhsscore_la_SOURCES in Makefile.am),
# so that the fuzzers follow new modules; every src/*.c but the collectd
# glue when Makefile.am cannot be read.
core_sources() {
  local list
  list=$(awk '
    /^libhsscore_la_SOURCES[ \t]*=/ { on = 1 }
    on { for (i = 1; i <= NF; i++) if ($i ~ /\.c$/) print $i
         if ($0 !~ /\\[ \t]*$/) on = 0 }' Makefile.am 2>/dev/null)
  if [ -z "$list" ]; then
    list=$(ls src/*.c | grep -v -e '/hss_imgstats\.c$' -e '/dispatch\.c$')
  fi
  echo "$list"
}

build() {
  command -v "$CC" >/dev/null 2>&1 ||
    die "$CC not found: apt-get install -y --no-install-recommends clang libclang-rt-14-dev llvm"
  local deps
  deps=$(pkg-config --cflags json-c libcurl 2>/dev/null) ||
    die "pkg-config cannot find json-c or libcurl (libjson-c-dev, libcurl4-openssl-dev)"
  mkdir -p "$OUT/obj"
  local san="-fsanitize=address,undefined -fno-sanitize-recover=all"
  local cflags="-g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Wno-unused-parameter"
  local inc="-Isrc -I/usr/include/collectd -I/usr/include/collectd/core -I/usr/include/collectd/core/daemon $deps"
  local libs="-lcurl -ljson-c -lcrypto -lpthread -lm"

  rm -f "$OUT"/obj/*.o "$OUT/libhsscore-fuzz.a"
  local src obj
  for src in $(core_sources); do
    [ -f "$src" ] || die "$src (listed in Makefile.am) is missing"
    obj="$OUT/obj/$(basename "${src%.c}").o"
    # shellcheck disable=SC2086
    "$CC" $cflags $san -fsanitize=fuzzer-no-link $inc -c "$src" -o "$obj" ||
      die "cannot compile $src"
  done
  ar rcs "$OUT/libhsscore-fuzz.a" "$OUT"/obj/*.o || die "ar failed"
  local t
  for t in $TARGETS; do
    # shellcheck disable=SC2086
    "$CC" $cflags $san -fsanitize=fuzzer $inc "tests/fuzz/fuzz_$t.c" \
      "$OUT/libhsscore-fuzz.a" $libs -o "$OUT/fuzz_$t" ||
      die "cannot build fuzz_$t"
  done
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

replay() {
  build
  local t n failed=0 log
  for t in $TARGETS; do
    local dir="tests/fuzz/corpus/$t"
    [ -d "$dir" ] || die "no corpus dir $dir"
    n=$(find "$dir" -type f | wc -l)
    log="$OUT/replay-$t.log"
    mkdir -p "$OUT/artifacts/$t"
    if "$OUT/fuzz_$t" -runs=0 -timeout=30 -rss_limit_mb=2048 \
      -artifact_prefix="$OUT/artifacts/$t/" "$dir" >"$log" 2>&1; then
      echo "fuzz $t: replayed $n inputs, ok"
    else
      echo "fuzz $t: replayed $n inputs, FAILED (log: $log)"
      grep -E 'invariant failed|ERROR:|runtime error|SUMMARY' "$log" | head -n 5 | sed -e 's/^/    /'
      # name the inputs that fail (the run above stops at the first)
      local f
      for f in "$dir"/*; do
        "$OUT/fuzz_$t" -timeout=30 -rss_limit_mb=2048 \
          -artifact_prefix="$OUT/artifacts/$t/" "$f" >"$log.one" 2>&1 ||
          echo "    fails on $f (reproduce: $OUT/fuzz_$t $f)"
      done
      rm -f "$log.one"
      failed=1
    fi
  done
  return $failed
}

run() {
  local t=${1:-}
  [ -n "$t" ] || die "usage: fuzz.sh run TARGET [RUNS] [libFuzzer args...]"
  case " $TARGETS " in *" $t "*) ;; *) die "unknown target $t (one of: $TARGETS)" ;; esac
  shift
  local runs=10000000
  if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    runs=$1
    shift
  fi
  build
  local corpus="$OUT/corpus/$t" artifacts="$OUT/artifacts/$t/" log="$OUT/run-$t.log"
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
  local args=(-runs="$runs" -print_final_stats=1 -artifact_prefix="$artifacts")
  [ "$t" = parse ] && args+=(-max_len=65536)
  [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
  echo "fuzz $t: $OUT/fuzz_$t ${args[*]} $* $corpus (log: $log)"
  local start end rc
  start=$(date +%s.%N)
  "$OUT/fuzz_$t" "${args[@]}" "$@" "$corpus" >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1
  grep -E '^Done [0-9]+ runs' "$log" | tail -n 1
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb|new_units_added)' "$log"
  printf 'fuzz %s: wall time %s s, exit status %d, corpus %s files\n' "$t" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" "$rc" \
    "$(find "$corpus" -type f | wc -l)"
  if [ $rc -ne 0 ]; then
    grep -E -A30 '==ERROR|runtime error|invariant failed|deadly signal|Test unit written' "$log" | head -n 60
    return 1
  fi
}

case "${1:-}" in
build) build && echo "fuzz: built $(for t in $TARGETS; do printf '%s ' "$OUT/fuzz_$t"; done)" ;;
replay) replay ;;
run) shift; run "$@" ;;
*) die "usage: fuzz.sh build | replay | run TARGET [RUNS] [libFuzzer args...]" ;;
esac

#!/usr/bin/env bash
# Benchmark of hss_imgstats against collectd's own curl_json plugin.
#
#   bash tests/bench/run.sh [bench.py options]     e.g. --out FILE, --quick, --only 1,2
#
# Installs what it needs (Debian 12, as root: the project's packages plus
# libyajl2, which curl_json.so needs and collectd-core only recommends),
# builds the plugin (scripts/build.sh) and runs tests/bench/bench.py: about
# 7.5 minutes on 2 cores, all traffic on 127.0.0.1. The Markdown table goes
# to stdout and to build-bench/results.md (or --out FILE). See
# tests/bench/README.md for what is measured and how.
set -eu
cd "$(dirname "$0")/../.."

bash scripts/deps.sh libyajl2
if ldd /usr/lib/collectd/curl_json.so | grep -q 'not found'; then
  echo "run.sh: /usr/lib/collectd/curl_json.so has unresolved libraries:" >&2
  ldd /usr/lib/collectd/curl_json.so | grep 'not found' >&2
  exit 1
fi

bash scripts/build.sh
exec /usr/bin/python3 tests/bench/bench.py "$@"

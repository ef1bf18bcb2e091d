#!/usr/bin/env bash
# Configures and builds hss_imgstats in the source tree (idempotent).
# Extra configure arguments may be given, e.g. --enable-sanitizers.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
  autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ "$#" -gt 0 ]; then
  ./configure -q "$@"
fi
make -j"$(nproc)" >/dev/null

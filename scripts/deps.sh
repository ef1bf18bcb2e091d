#!/usr/bin/env bash
# Installs what building and testing hss_imgstats needs on Debian 12 (as
# root). Quick no-op when everything is already there.
set -eu

PACKAGES="gcc make autoconf automake libtool pkg-config
collectd-core collectd-dev libcurl4-openssl-dev libjson-c-dev libssl-dev
check python3 openssl ca-certificates procps"
PACKAGES="$PACKAGES ${HSS_EXTRA_PACKAGES:-}"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
    missing="$missing $p"
done
if [ -z "$missing" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null

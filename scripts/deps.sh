#!/usr/bin/env bash
# Installs the Debian 12 packages of scripts/packages.txt, and any named as
# arguments (as root). Quick no-op when everything is already there.
set -eu
here=$(dirname "$0")
packages="$(grep -v '^#' "$here/packages.txt") $*"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null

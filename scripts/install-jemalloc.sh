#!/usr/bin/env bash
# bin/vigil runs the daemon on jemalloc when the box has it (docs/operations.md "Memory"), and the tests start the
# daemon the way operators do, so they need it too: installs Debian's libjemalloc2 when it is missing and
# this runs as root; otherwise says exactly what to install.
set -euo pipefail
lib="/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2"
if [ -r "$lib" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-jemalloc: $lib is missing; run: sudo apt-get install libjemalloc2" >&2
  exit 1
fi
echo "install-jemalloc: installing libjemalloc2 from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends libjemalloc2 >/dev/null; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends libjemalloc2 >/dev/null
fi
[ -r "$lib" ] || { echo "install-jemalloc: libjemalloc2 did not install $lib" >&2; exit 1; }

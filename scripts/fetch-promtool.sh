#!/usr/bin/env bash
# Prometheus's promtool, to check deploy/prometheus/ (config, alert rules and their unit tests), from
# Debian's prometheus package unpacked into a git-ignored cache as .cache/debian/promtool.
# Uses apt-get download + dpkg -x: nothing is installed on the system (the package would also start a
# Prometheus server). Run as root on a machine whose apt lists are missing and it runs apt-get update first.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/debian
out="$cache/promtool"
if [ -x "$out" ] && "$out" --version >/dev/null 2>&1; then exit 0; fi
work="$cache/prometheus-root"
rm -rf "$work"
mkdir -p "$work/debs"
download() { (cd "$work/debs" && apt-get download prometheus >/dev/null 2>&1); }
if ! download; then
  if [ "$(id -u)" = 0 ]; then
    echo "fetch-promtool: apt lists missing or stale; running apt-get update" >&2
    apt-get update -qq >/dev/null
    download || { echo "fetch-promtool: apt-get download prometheus failed" >&2; exit 1; }
  else
    echo "fetch-promtool: apt-get download prometheus failed; run 'sudo apt-get update' and try again" >&2
    exit 1
  fi
fi
dpkg -x "$work"/debs/prometheus_*.deb "$work/root"
[ -x "$work/root/usr/bin/promtool" ] || { echo "fetch-promtool: the prometheus package has no usr/bin/promtool" >&2; exit 1; }
# Written under a temporary name first: a run stopped half-way never leaves a broken promtool behind.
cp "$work/root/usr/bin/promtool" "$out.partial"
mv "$out.partial" "$out"
# The rest of the package (the server, its web assets) is ~100 MB the tests never use.
rm -rf "$work"
"$out" --version >/dev/null 2>&1 || { echo "fetch-promtool: $out does not run on this machine" >&2; exit 1; }
echo "fetch-promtool: $("$out" --version 2>&1 | head -1) in $out" >&2

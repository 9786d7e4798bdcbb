#!/usr/bin/env bash
# The web page's tests drive Debian's Chromium through playwright-core (no browser download from the
# internet), and need a CJK font so Chinese renders in the screenshots. Installs both when they are
# missing and this runs as root; otherwise says exactly what to install.
set -euo pipefail
want_bin=/usr/bin/chromium
want_font=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
if [ -x "$want_bin" ] && [ -f "$want_font" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-test-browser: $want_bin or $want_font is missing; run: sudo apt-get install chromium fonts-wqy-microhei" >&2
  exit 1
fi
echo "install-test-browser: installing chromium and fonts-wqy-microhei from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
fi
[ -x "$want_bin" ] || { echo "install-test-browser: chromium did not install $want_bin" >&2; exit 1; }

#!/usr/bin/env bash
# Real test photos and video from Debian packages, unpacked into a git-ignored cache:
#   opencv-doc      examples/data/messi5.jpg, vtest.avi (pedestrians)
#   python3-skimage skimage/data/astronaut.png, camera.png, motorcycle_left.png
#   fonts-wqy-microhei wqy-microhei.ttc (a small CJK font, to render synthetic licence plates)
# Uses apt-get download + dpkg -x: nothing is installed on the system. Run as root on a machine whose
# apt lists are missing and it runs apt-get update first.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/debian
mkdir -p "$cache/debs"
want=(opencv-doc python3-skimage-lib python3-skimage fonts-wqy-microhei)
files=(messi5.jpg vtest.avi astronaut.png camera.png motorcycle_left.png wqy-microhei.ttc)
have_all() {
  for f in "${files[@]}"; do [ -f "$cache/$f" ] || return 1; done
}
if have_all; then exit 0; fi
rm -rf "$cache/debs" "$cache/root"
mkdir -p "$cache/debs"
download() { (cd "$cache/debs" && apt-get download "${want[@]}" >/dev/null 2>&1); }
if ! download; then
  if [ "$(id -u)" = 0 ]; then
    echo "fetch-test-media: apt lists missing or stale; running apt-get update" >&2
    apt-get update -qq >/dev/null
    download || { echo "fetch-test-media: apt-get download ${want[*]} failed" >&2; exit 1; }
  else
    echo "fetch-test-media: apt-get download ${want[*]} failed; run 'sudo apt-get update' and try again" >&2
    exit 1
  fi
fi
for deb in "$cache"/debs/*.deb; do dpkg -x "$deb" "$cache/root"; done
# Keep only the files the tests use (opencv-doc alone unpacks to ~400 MB).
cp "$cache"/root/usr/share/doc/opencv-doc/examples/data/{messi5.jpg,vtest.avi} "$cache"/
cp "$(find "$cache/root" -path '*skimage/data/astronaut.png' -print -quit | xargs dirname)"/{astronaut.png,camera.png,motorcycle_left.png} "$cache"/
cp "$cache"/root/usr/share/fonts/truetype/wqy/wqy-microhei.ttc "$cache"/
rm -rf "$cache/root" "$cache/debs"
have_all || { echo "fetch-test-media: the packages did not contain the expected files" >&2; exit 1; }
echo "fetch-test-media: test media in $cache" >&2

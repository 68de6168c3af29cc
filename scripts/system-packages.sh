#!/usr/bin/env bash
# Debian packages the tests use: a CJK font (Chinese text in screenshots) and Chromium (the web
# page tests), and the libraries the launcher window needs on a desktop. Installed when missing and this user may install; otherwise those tests skip.
set -uo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
# What the launcher window needs on an X11 desktop (Qt's xcb plugin; small): the names Maple's own
# start-up check suggests when one is missing (launcher/qt_libs.py).
if command -v dpkg >/dev/null 2>&1; then
  for pkg in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 \
             libxcb-randr0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1 libegl1 libgl1 \
             libfontconfig1 libdbus-1-3; do
    dpkg -s "$pkg" 2>/dev/null | grep -q "^Status: install ok installed" || need+=("$pkg")
  done
fi
# The Windows bundle (scripts/build_bundle.py, tests/bundle): Authenticode checks, MinGW-w64 for
# Maple.exe and the Wine test shims, and Wine 8 to run the bundle's python.exe.
command -v osslsigncode >/dev/null 2>&1 || need+=(osslsigncode)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64-win32)
command -v wine >/dev/null 2>&1 || need+=(wine wine64)
[ ${#need[@]} -eq 0 ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "[maple] not Debian/Ubuntu: install ${need[*]} by hand for the browser and CJK tests and the window"; exit 0; }
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "[maple] cannot install ${need[*]} (not root): the tests that need them will skip"; exit 0
  fi
fi
echo "[maple] installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null \
  || echo "[maple] could not install ${need[*]}: the tests that need them will skip"
exit 0

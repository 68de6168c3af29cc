#!/usr/bin/env bash
# Debian packages the tests use: a CJK font (Chinese text in screenshots) and Chromium (the web
# page tests). Installed when missing and this user may install; otherwise those tests skip.
set -uo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "[maple] not Debian/Ubuntu: install ${need[*]} by hand for the browser and CJK tests"; exit 0; }
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

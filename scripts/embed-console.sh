#!/bin/sh
# Turns the files of the web console (web/console/...) into a C table of
# yw_console_asset, so that the binary carries its console.
# usage: scripts/embed-console.sh DIR > out.c
set -eu
dir=$1
echo "/* Generated from $dir by scripts/embed-console.sh; do not edit. */"
echo '#include "console/assets.h"'
files=$(cd "$dir" && find . -type f ! -name '.*' | sed 's|^\./||' | LC_ALL=C sort)
n=0
for f in $files; do
  printf 'static const unsigned char asset_%d[] = {' "$n"
  od -An -v -tx1 "$dir/$f" | tr -s ' \n' ' ' | sed -e 's/^ //' -e 's/ $//' -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'
  echo '0x00};'
  n=$((n + 1))
done
echo 'const yw_console_asset yw_console_assets[] = {'
n=0
for f in $files; do
  case "$f" in
    *.html) type='text/html; charset=utf-8' ;;
    *.js) type='text/javascript; charset=utf-8' ;;
    *.css) type='text/css; charset=utf-8' ;;
    *.svg) type='image/svg+xml' ;;
    *.png) type='image/png' ;;
    *.ico) type='image/x-icon' ;;
    *.json) type='application/json' ;;
    *) echo "embed-console.sh: no content type for $f" >&2; exit 1 ;;
  esac
  size=$(wc -c < "$dir/$f" | tr -d ' ')
  etag=$(sha256sum "$dir/$f" | cut -c1-20)
  printf '    {"%s", "%s", asset_%d, %s, "\\"%s\\""},\n' "$f" "$type" "$n" "$size" "$etag"
  n=$((n + 1))
done
echo '    {NULL, NULL, NULL, 0, NULL},'
echo '};'

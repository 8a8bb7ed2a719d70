#!/usr/bin/env bash
# Checks the layering of DESIGN.md §3: a file includes only headers of its
# own layer or the layers below it. Prints each violation; exits 1 if any.
#   1 core   2 store   3 sec   4 audit   5 http   6 domain modules   7 cli, main.c
set -euo pipefail
cd "$(dirname "$0")/.."

layer_of() {
  case "$1" in
    core/*) echo 1 ;; store/*) echo 2 ;; sec/*) echo 3 ;; audit/*) echo 4 ;; http/*) echo 5 ;;
    cli/* | main.c) echo 7 ;; *) echo 6 ;;
  esac
}

bad=0
while IFS= read -r file; do
  rel=${file#src/}
  mine=$(layer_of "$rel")
  while IFS= read -r inc; do
    theirs=$(layer_of "$inc")
    if [ "$theirs" -gt "$mine" ]; then
      echo "layering: $file (layer $mine) includes $inc (layer $theirs)"
      bad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
done < <(find src -name '*.[ch]' | sort)
[ $bad = 0 ] && echo "layering: every include points to the same or a lower layer"
exit $bad

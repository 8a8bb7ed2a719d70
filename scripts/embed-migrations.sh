#!/bin/sh
# Turns migrations/<backend>/NNNN_name.sql into a C table of yw_migration.
# usage: scripts/embed-migrations.sh DIR SYMBOL > out.c
set -eu
dir=$1 sym=$2
echo "/* Generated from $dir by scripts/embed-migrations.sh; do not edit. */"
echo '#include "store/db.h"'
echo "const yw_migration $sym[] = {"
for f in "$dir"/[0-9]*.sql; do
  [ -e "$f" ] || continue
  base=$(basename "$f" .sql)
  ver=$(echo "${base%%_*}" | sed 's/^0*//')
  printf '    {%s, "%s",\n' "$ver" "${base#*_}"
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/     "/' -e 's/$/\\n"/' "$f"
  echo '    },'
done
echo '    {0, NULL, NULL},'
echo '};'

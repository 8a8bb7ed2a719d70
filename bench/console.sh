#!/usr/bin/env bash
# Console benchmark: the web console's largest script from yiwang against the
# same bytes from nginx, measured in the same run (`make bench`).
#
# Design. The console's files are embedded in the binary and answered from
# memory with their security headers and ETag; the reference is nginx serving
# the same file from its open-file cache. The load is a first visit's
# GET /console/main.js without If-None-Match (a full 200 every time; a
# revalidating browser mostly gets 304s, which are cheaper). The machinery
# (servers on one core, wrk on another, alternating best-of-2 runs, only 2xx
# counted) is bench/lib/compare.sh, as for bench/http.sh. Environment as there.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=console.sh
# shellcheck source=bench/lib/compare.sh
. "$ROOT/bench/lib/compare.sh"

FILE=$ROOT/web/console/main.js
WRK_PATH=/console/main.js
WRK_ARGS=()
start_yiwang
http "$YPORT" GET "$WRK_PATH"
expect 200 "GET $WRK_PATH"
SIZE=$(LC_ALL=C wc -c <"$FILE" | tr -d ' ')
start_nginx "$FILE" "$WRK_PATH"

echo "yiwang vs nginx: GET $WRK_PATH, $SIZE-byte script, servers on core $SERVER_CPU, wrk on core $CLIENT_CPU" >&2
echo "wrk ${WRK_FLAGS[*]} (both), runs alternate, best of $ROUNDS each" >&2
compare

http "$YPORT" GET "$WRK_PATH"
expect 200 "yiwang after the load"
report "GET /console/main.js" "static $SIZE B, same path" 0.3 10

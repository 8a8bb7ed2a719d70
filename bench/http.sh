#!/usr/bin/env bash
# HTTP benchmark: yiwang against nginx, measured in the same run (`make bench`).
#
# Design. The figure that matters is how close an authenticated API read gets
# to the fastest thing a web server can do on the same machine. So:
#   - yiwang (release build) serves the demo city from a fresh temporary data
#     directory; a demo user signs in, and the load is GET /api/v1/auth/me:
#     bearer token checked against the database, principal loaded, JSON built.
#   - nginx (the reference) serves a static file with exactly the bytes of
#     that /auth/me body, from its own temporary config: one worker,
#     access_log off, keep-alive without a request cap.
#   - Both servers are pinned to the same core (taskset -c 0) and wrk to
#     another (taskset -c 1), so the servers get equal CPU and the load
#     generator does not steal from them.
#   - wrk runs with identical flags and identical requests against both
#     (the same path and Authorization header; nginx ignores the header):
#     wrk -t1 -c64 -d10s --latency. A short warm-up precedes the runs; the
#     runs alternate yiwang, nginx, yiwang, nginx, ... (BENCH_ROUNDS rounds)
#     and the best run of each (by req/s) is kept, which damps noise from
#     the rest of the machine.
#   - Any non-2xx answer makes a run invalid (a benchmark of 401s would
#     measure nothing); socket errors (timeouts, resets) are reported.
# Output: a small table (req/s, p99 latency, ratio yiwang/nginx) and a one-line
# verdict against the targets: ratio >= 0.5, yiwang p99 < 10 ms at 64
# connections. The script exits 0 when it measured (whatever the verdict),
# non-zero when it could not; BENCH_STRICT=1 also fails on a missed target.
#
# No dependency beyond bash, coreutils, sed, awk, taskset, nginx and wrk: the
# few plain HTTP calls (readiness, sign-in, the reference body) go through
# bash's /dev/tcp. The machinery shared with bench/share.sh is bench/lib/compare.sh.
#
# Environment (all optional):
#   YIWANG_BIN      binary to measure (build/release/yiwang)
#   BENCH_DURATION  wrk duration per run (10s)
#   BENCH_CONNECTIONS  wrk connections (64)
#   BENCH_SERVER_CPU / BENCH_CLIENT_CPU  cores for the servers / for wrk (0 / 1)
#   BENCH_USER      demo user whose /auth/me is read (gaj_clerk)
#   BENCH_STRICT    1: exit 1 when a target is missed
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=http.sh
USER_NAME=${BENCH_USER:-gaj_clerk}
# shellcheck source=bench/lib/compare.sh
. "$ROOT/bench/lib/compare.sh"

start_yiwang ${BENCH_THREADS:+YIWANG_THREADS=$BENCH_THREADS}
TOKEN=$(login "$USER_NAME")
AUTH="Authorization: Bearer $TOKEN"
WRK_PATH=/api/v1/auth/me
WRK_ARGS=(-H "$AUTH")

http "$YPORT" GET "$WRK_PATH" "$AUTH"
expect 200 "GET $WRK_PATH"
printf '%s' "$HTTP_BODY" >"$TMP/me.json"
SIZE=$(bytes "$HTTP_BODY")
start_nginx "$TMP/me.json" "$WRK_PATH"

echo "yiwang vs nginx: GET $WRK_PATH, $SIZE-byte JSON body, servers on core $SERVER_CPU, wrk on core $CLIENT_CPU" >&2
echo "wrk ${WRK_FLAGS[*]} -H 'Authorization: Bearer …' (both), runs alternate, best of $ROUNDS each" >&2
compare

# yiwang must still be healthy after the load.
http "$YPORT" GET "$WRK_PATH" "$AUTH"
expect 200 "yiwang after the load"
report "GET /api/v1/auth/me" "static $SIZE B, same path" 0.5 10

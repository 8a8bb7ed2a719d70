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
#     runs alternate yiwang, nginx, yiwang, nginx and the better run of each
#     (by req/s) is kept, which damps noise from the rest of the machine.
#   - Any non-2xx answer makes a run invalid (a benchmark of 401s would
#     measure nothing); socket errors (timeouts, resets) are reported.
# Output: a small table (req/s, p99 latency, ratio yiwang/nginx) and a one-line
# verdict against the targets: ratio >= 0.5, yiwang p99 < 10 ms at 64
# connections. The script exits 0 when it measured (whatever the verdict),
# non-zero when it could not; BENCH_STRICT=1 also fails on a missed target.
#
# No dependency beyond bash, coreutils, sed, awk, taskset, nginx and wrk: the
# few plain HTTP calls (readiness, sign-in, the reference body) go through
# bash's /dev/tcp.
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
BIN=${YIWANG_BIN:-$ROOT/build/release/yiwang}
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
USER_NAME=${BENCH_USER:-gaj_clerk}
PATH_ME=/api/v1/auth/me
TARGET_RATIO=0.5
TARGET_P99_MS=10

die() { echo "bench/http.sh: $*" >&2; exit 1; }
for tool in taskset nginx wrk awk sed; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make bench installs nginx-light, wrk and util-linux)"
done
[ -x "$BIN" ] || die "no yiwang binary at $BIN (make build/release/yiwang)"

ncpu=$(nproc)
if [ "$ncpu" -lt 2 ] || [ "$CLIENT_CPU" -ge "$ncpu" ]; then
  echo "warning: $ncpu usable core(s): wrk shares core $SERVER_CPU with the servers; figures are pessimistic" >&2
  CLIENT_CPU=$SERVER_CPU
fi

# Other work on the machine skews both figures (the ratio less than each).
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk -v l="$load" -v n="$ncpu" 'BEGIN { exit !(l > n / 2) }'; then
  echo "warning: load average $load on $ncpu cores before the start: expect noisy figures" >&2
fi

# ---- temporary files and processes, all removed on exit ----
TMP=$(mktemp -d "${TMPDIR:-/tmp}/yiwang-bench.XXXXXX")
YIWANG_PID=
NGINX_PID=
WRK_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$WRK_PID" ] || kill -TERM "$WRK_PID" 2>/dev/null || true
  for pid in $YIWANG_PID $NGINX_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $YIWANG_PID $NGINX_PID; do
    # wait up to 10 s for each, then insist
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- plain HTTP over /dev/tcp ----

# A port nothing listens on (a bind race is possible but harmless: start fails loudly).
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# http PORT METHOD PATH [HEADER] [JSON-BODY]: sets HTTP_STATUS and HTTP_BODY
# (HTTP/1.1 with Connection: close; bodies here are single-line JSON).
http() {
  local port=$1 method=$2 path=$3 header=${4:-} body=${5:-} resp
  HTTP_STATUS=000
  HTTP_BODY=
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  {
    printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n' "$method" "$path"
    if [ -n "$header" ]; then printf '%s\r\n' "$header"; fi
    if [ -n "$body" ]; then
      printf 'Content-Type: application/json\r\nContent-Length: %s\r\n' "$(printf '%s' "$body" | LC_ALL=C wc -c)"
    fi
    printf '\r\n%s' "$body"
  } >&3
  resp=$(cat <&3) || true
  exec 3<&- 3>&-
  HTTP_STATUS=$(printf '%s\n' "$resp" | sed -n '1s/^HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p')
  HTTP_BODY=$(printf '%s\n' "$resp" | sed '1,/^\r$/d')
}

bytes() { printf '%s' "$1" | LC_ALL=C wc -c | tr -d ' '; }

# ---- yiwang ----
YPORT=$(free_port)
mkdir -p "$TMP/data"
taskset -c "$SERVER_CPU" "$BIN" serve --data "$TMP/data" --listen "127.0.0.1:$YPORT" --demo --log-level warn \
  >"$TMP/yiwang.out" 2>"$TMP/yiwang.err" &
YIWANG_PID=$!

ready=
for _ in $(seq 600); do
  kill -0 "$YIWANG_PID" 2>/dev/null || die "yiwang exited at start:$(printf '\n'; tail -20 "$TMP/yiwang.err")"
  if http "$YPORT" GET /readyz 2>/dev/null && [ "$HTTP_STATUS" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || die "yiwang did not become ready on port $YPORT"

# The demo password: the "password" member of the JSON after "Demo city accounts:".
PASSWORD=$(sed -n '/^Demo city accounts:/,/"password"/s/^ *"password": *"\([^"]*\)".*/\1/p' "$TMP/yiwang.err" | head -1)
[ -n "$PASSWORD" ] || die "no demo password on yiwang's stderr"
http "$YPORT" POST /api/v1/auth/login "" "{\"username\":\"$USER_NAME\",\"password\":\"$PASSWORD\"}"
[ "$HTTP_STATUS" = 200 ] || die "sign-in of $USER_NAME failed: $HTTP_STATUS $HTTP_BODY"
TOKEN=$(printf '%s' "$HTTP_BODY" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || die "no token in the sign-in answer"
AUTH="Authorization: Bearer $TOKEN"

http "$YPORT" GET "$PATH_ME" "$AUTH"
[ "$HTTP_STATUS" = 200 ] || die "GET $PATH_ME: $HTTP_STATUS $HTTP_BODY"
ME_BODY=$HTTP_BODY
SIZE=$(bytes "$ME_BODY")

# ---- nginx: the same bytes at the same path ----
NPORT=$(free_port)
mkdir -p "$TMP/www${PATH_ME%/*}" "$TMP/nginx"
printf '%s' "$ME_BODY" >"$TMP/www$PATH_ME"
# nginx workers drop root privileges: let them read the document root.
chmod 755 "$TMP" "$TMP/www"
find "$TMP/www" -type d -exec chmod 755 {} + && find "$TMP/www" -type f -exec chmod 644 {} +
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 10000000;
    open_file_cache max=16 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $TMP/nginx/body;
    server {
        listen 127.0.0.1:$NPORT;
        root $TMP/www;
        location / {
            default_type application/json;
        }
    }
}
EOF
taskset -c "$SERVER_CPU" nginx -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" \
  >"$TMP/nginx/stdout" 2>&1 &
NGINX_PID=$!

ready=
for _ in $(seq 100); do
  kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited at start:$(printf '\n'; cat "$TMP/nginx/stdout" "$TMP/nginx/error.log" 2>/dev/null)"
  if http "$NPORT" GET "$PATH_ME" "$AUTH" 2>/dev/null && [ "$HTTP_STATUS" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || die "nginx did not answer on port $NPORT"
[ "$HTTP_BODY" = "$ME_BODY" ] || die "nginx serves different bytes than yiwang's $PATH_ME"

# ---- load ----
WRK_FLAGS=(-t1 "-c$CONNS" "-d$DURATION" --latency)

# wrk_run PORT FLAGS...: runs wrk on the client core in the background (so that
# the traps can stop it) and waits; its output is in $TMP/wrk.out.
wrk_run() {
  local port=$1
  shift
  taskset -c "$CLIENT_CPU" wrk "$@" -H "$AUTH" "http://127.0.0.1:$port$PATH_ME" >"$TMP/wrk.out" 2>&1 &
  WRK_PID=$!
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=
  return "$rc"
}

# run NAME PORT: one measured run; sets RESULT to "REQ_PER_SEC P99_MS"
run() {
  local name=$1 port=$2 out
  wrk_run "$port" "${WRK_FLAGS[@]}" || die "wrk against $name failed: $(cat "$TMP/wrk.out")"
  out=$(cat "$TMP/wrk.out")
  if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then die "$name answered errors under load:$(printf '\n')$out"; fi
  if grep -q 'Socket errors' <<<"$out"; then
    echo "warning: $name:$(grep 'Socket errors' <<<"$out")" >&2
  fi
  RESULT=$(awk '
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      p99 = (unit == "us") ? v / 1000 : (unit == "ms") ? v : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : -1
    }
    END { if (rps == "" || p99 == "" || p99 < 0) exit 1; printf "%s %.3f\n", rps, p99 }' <<<"$out") ||
    die "cannot read wrk's output for $name:$(printf '\n')$out"
}

# better OLD NEW: the run with more req/s
better() {
  if [ -z "$1" ]; then echo "$2"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); print (y[1] + 0 > x[1] + 0) ? b : a }'
}

echo "yiwang vs nginx: GET $PATH_ME, $SIZE-byte JSON body, servers on core $SERVER_CPU, wrk on core $CLIENT_CPU" >&2
echo "wrk ${WRK_FLAGS[*]} -H 'Authorization: Bearer …' (both), runs alternate, best of 2 each" >&2
# Warm-up: caches, the session's last-seen write, nginx's open-file cache.
wrk_run "$YPORT" -t1 "-c$CONNS" -d2s || die "wrk warm-up against yiwang failed: $(cat "$TMP/wrk.out")"
wrk_run "$NPORT" -t1 "-c$CONNS" -d2s || die "wrk warm-up against nginx failed: $(cat "$TMP/wrk.out")"

BEST_Y=
BEST_N=
for round in 1 2; do
  run yiwang "$YPORT"; echo "  run $round yiwang: $RESULT (req/s, p99 ms)" >&2; BEST_Y=$(better "$BEST_Y" "$RESULT")
  run nginx "$NPORT"; echo "  run $round nginx:  $RESULT (req/s, p99 ms)" >&2; BEST_N=$(better "$BEST_N" "$RESULT")
done

# yiwang must still be healthy after the load.
http "$YPORT" GET "$PATH_ME" "$AUTH"
[ "$HTTP_STATUS" = 200 ] || die "yiwang answers $HTTP_STATUS after the load"

read -r Y_RPS Y_P99 <<<"$BEST_Y"
read -r N_RPS N_P99 <<<"$BEST_N"
awk -v yr="$Y_RPS" -v yp="$Y_P99" -v nr="$N_RPS" -v np="$N_P99" -v c="$CONNS" \
    -v tr="$TARGET_RATIO" -v tp="$TARGET_P99_MS" -v size="$SIZE" -v strict="${BENCH_STRICT:-0}" '
  BEGIN {
    ratio = yr / nr
    printf "\n%-34s %12s %12s\n", "HTTP, " c " connections", "req/s", "p99 (ms)"
    printf "%-34s %12.0f %12.2f\n", "yiwang  GET /api/v1/auth/me", yr, yp
    printf "%-34s %12.0f %12.2f\n", "nginx   static " size " B, same path", nr, np
    printf "%-34s %12.2f\n", "ratio yiwang/nginx", ratio
    ok_ratio = ratio >= tr
    ok_p99 = yp < tp
    printf "\nverdict: %s (ratio %.2f %s %.2f; yiwang p99 %.2f ms %s %d ms at %d connections)\n",
      (ok_ratio && ok_p99) ? "PASS" : "MISS", ratio, ok_ratio ? ">=" : "<", tr, yp, ok_p99 ? "<" : ">=", tp, c
    exit (strict == 1 && !(ok_ratio && ok_p99)) ? 3 : 0
  }'

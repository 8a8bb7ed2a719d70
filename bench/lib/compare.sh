# Shared by the HTTP benchmarks that compare yiwang with nginx under wrk
# (bench/http.sh, bench/share.sh): sourced, never run. Provides temporary
# files and processes removed on exit, plain HTTP over /dev/tcp, starting
# yiwang and an nginx that serves given bytes (and, for bench/access.sh, a
# second nginx that only proxies to the first), and the measured runs:
# warm-up, then BENCH_ROUNDS alternating rounds (yiwang, nginx, yiwang,
# nginx, ...), the best run of each kept.
#
# The caller sets, before sourcing: NAME (for messages); optionally the
# BENCH_* knobs documented in bench/README.md.

BIN=${YIWANG_BIN:-$ROOT/build/release/yiwang}
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
ROUNDS=${BENCH_ROUNDS:-3}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}

die() { echo "bench/$NAME: $*" >&2; exit 1; }
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
PROXY_PID=
WRK_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$WRK_PID" ] || kill -TERM "$WRK_PID" 2>/dev/null || true
  for pid in $YIWANG_PID $NGINX_PID $PROXY_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $YIWANG_PID $NGINX_PID $PROXY_PID; do
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

# expect STATUS WHAT: dies unless the last http call answered STATUS
expect() { [ "$HTTP_STATUS" = "$1" ] || die "$2: $HTTP_STATUS $HTTP_BODY"; }

# json_field NAME: the first string member NAME of HTTP_BODY
json_field() { printf '%s' "$HTTP_BODY" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

bytes() { printf '%s' "$1" | LC_ALL=C wc -c | tr -d ' '; }

# ---- yiwang ----

# start_yiwang [ENV=VALUE...]: a release server with the demo city on core SERVER_CPU; sets YPORT, PASSWORD
start_yiwang() {
  YPORT=$(free_port)
  mkdir -p "$TMP/data"
  # One credential generates the whole load: its request rate is not limited here.
  env "$@" taskset -c "$SERVER_CPU" "$BIN" serve --data "$TMP/data" --listen "127.0.0.1:$YPORT" --demo \
    --log-level warn --rate-limit 0 >"$TMP/yiwang.out" 2>"$TMP/yiwang.err" &
  YIWANG_PID=$!
  local ready=
  for _ in $(seq 1200); do
    kill -0 "$YIWANG_PID" 2>/dev/null || die "yiwang exited at start:$(printf '\n'; tail -20 "$TMP/yiwang.err")"
    if http "$YPORT" GET /readyz 2>/dev/null && [ "$HTTP_STATUS" = 200 ]; then ready=1; break; fi
    sleep 0.1
  done
  [ -n "$ready" ] || die "yiwang did not become ready on port $YPORT"
  # The demo password: the "password" member of the JSON after "Demo city accounts:".
  PASSWORD=$(sed -n '/^Demo city accounts:/,/"password"/s/^ *"password": *"\([^"]*\)".*/\1/p' "$TMP/yiwang.err" | head -1)
  [ -n "$PASSWORD" ] || die "no demo password on yiwang's stderr"
}

# login USER: prints a bearer token of a demo user
login() {
  http "$YPORT" POST /api/v1/auth/login "" "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}"
  expect 200 "sign-in of $1"
  json_field token
}

# start_sharing_parties [ENV=VALUE...]: a release server with the demo city's accounts (no residents),
# and the two departments of the sharing benchmarks: 公安局 provides (GAJ_AUTH, GAJ_ORG), 交通运输局
# consumes (JTJ_AUTH, JTJ_ORG) through its system's secret (CLIENT_SECRET)
start_sharing_parties() {
  start_yiwang YIWANG_DEMO_PEOPLE=0 ${BENCH_THREADS:+YIWANG_THREADS=$BENCH_THREADS} "$@"
  GAJ_AUTH="Authorization: Bearer $(login gaj_steward)"
  JTJ_AUTH="Authorization: Bearer $(login jtj_steward)"
  http "$YPORT" GET /api/v1/auth/me "$JTJ_AUTH"
  JTJ_ORG=$(json_field org_code)
  http "$YPORT" GET /api/v1/auth/me "$GAJ_AUTH"
  GAJ_ORG=$(json_field org_code)
  # one awk, no pipeline: under pipefail a reader that stops early could fail the script
  CLIENT_SECRET=$(awk -v id="\"id\": \"$JTJ_ORG/" 'index($0, id) { n = 3 }
    n && /"secret": "/ { sub(/.*"secret": "/, ""); sub(/".*/, ""); print; exit } n { n-- }' "$TMP/yiwang.err")
  [ -n "$CLIENT_SECRET" ] || die "no client secret of $JTJ_ORG on yiwang's stderr"
}

# ---- nginx: given bytes, on core SERVER_CPU ----

# nginx_conf_head DIR: the start of an nginx.conf for one worker with its files in DIR, up to
# the open http block (the caller adds the rest and closes it)
nginx_conf_head() {
  cat <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 10000000;
CONF
}

# start_nginx FILE URI: serves the bytes of FILE for every request; checks them at URI. Sets NPORT.
start_nginx() {
  local file=$1 uri=$2
  NPORT=$(free_port)
  mkdir -p "$TMP/www" "$TMP/nginx"
  cp "$file" "$TMP/www/body.json"
  # nginx workers drop root privileges: let them read the document root.
  chmod 755 "$TMP" "$TMP/www"
  chmod 644 "$TMP/www/body.json"
  {
    nginx_conf_head "$TMP/nginx"
    cat <<CONF
    sendfile on;
    open_file_cache max=16 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $TMP/nginx/body;
    server {
        listen 127.0.0.1:$NPORT;
        root $TMP/www;
        location / {
            default_type application/json;
            try_files /body.json =404;
        }
    }
}
CONF
  } >"$TMP/nginx/nginx.conf"
  launch_nginx "$TMP/nginx" "$NPORT" "$uri" nginx NGINX_PID
  [ "$HTTP_BODY" = "$(cat "$file")" ] || die "nginx serves other bytes than $file"
}

# launch_nginx DIR PORT URI WHAT PID_VAR: nginx with DIR/nginx.conf on core SERVER_CPU, its pid in
# the variable named PID_VAR (so that cleanup stops it); returns once it answers URI on PORT with 200.
launch_nginx() {
  local dir=$1 port=$2 uri=$3 what=$4
  local -n pid=$5
  taskset -c "$SERVER_CPU" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout" 2>&1 &
  pid=$!
  local ready=
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || die "$what exited at start:$(printf '\n'; cat "$dir/stdout" "$dir/error.log" 2>/dev/null)"
    if http "$port" GET "$uri" 2>/dev/null && [ "$HTTP_STATUS" = 200 ]; then ready=1; break; fi
    sleep 0.1
  done
  [ -n "$ready" ] || die "$what did not answer on port $port"
}

# start_nginx_proxy URI: a second nginx on core SERVER_CPU that passes every request on to the
# first (start_nginx) over kept-alive upstream connections, and nothing else: no authentication,
# no hashing, no audit. The ceiling for a mediating hub in the same placement. Sets PPORT.
start_nginx_proxy() {
  local uri=$1
  PPORT=$(free_port)
  mkdir -p "$TMP/proxy"
  {
    nginx_conf_head "$TMP/proxy"
    cat <<CONF
    client_body_temp_path $TMP/proxy/body;
    proxy_temp_path $TMP/proxy/temp;
    upstream provider {
        server 127.0.0.1:$NPORT;
        keepalive 64;
        keepalive_requests 10000000;
    }
    server {
        listen 127.0.0.1:$PPORT;
        location / {
            proxy_pass http://provider;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
  } >"$TMP/proxy/nginx.conf"
  launch_nginx "$TMP/proxy" "$PPORT" "$uri" "the proxy nginx" PROXY_PID
}

# ---- load ----
WRK_FLAGS=(-t1 "-c$CONNS" "-d$DURATION" --latency)

# wrk_run PORT ARGS...: wrk on the client core against http://127.0.0.1:PORT with WRK_ARGS
# (headers, script) and WRK_PATH, in the background (so that the traps can stop it);
# its output is in $TMP/wrk.out.
wrk_run() {
  local port=$1
  shift
  taskset -c "$CLIENT_CPU" wrk "$@" "${WRK_ARGS[@]}" "http://127.0.0.1:$port$WRK_PATH" >"$TMP/wrk.out" 2>&1 &
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

# compare: warm-up, ROUNDS alternating rounds; sets Y_RPS Y_P99 N_RPS N_P99, and P_RPS P_P99
# when a proxy nginx runs (start_nginx_proxy)
compare() {
  wrk_run "$YPORT" -t1 "-c$CONNS" -d2s || die "wrk warm-up against yiwang failed: $(cat "$TMP/wrk.out")"
  wrk_run "$NPORT" -t1 "-c$CONNS" -d2s || die "wrk warm-up against nginx failed: $(cat "$TMP/wrk.out")"
  if [ -n "${PPORT:-}" ]; then
    wrk_run "$PPORT" -t1 "-c$CONNS" -d2s || die "wrk warm-up against the proxy failed: $(cat "$TMP/wrk.out")"
  fi
  local best_y= best_n= best_p=
  for round in $(seq "$ROUNDS"); do
    run yiwang "$YPORT"; echo "  run $round yiwang: $RESULT (req/s, p99 ms)" >&2; best_y=$(better "$best_y" "$RESULT")
    run nginx "$NPORT"; echo "  run $round nginx:  $RESULT (req/s, p99 ms)" >&2; best_n=$(better "$best_n" "$RESULT")
    if [ -n "${PPORT:-}" ]; then
      run proxy "$PPORT"; echo "  run $round proxy:  $RESULT (req/s, p99 ms)" >&2; best_p=$(better "$best_p" "$RESULT")
    fi
  done
  read -r Y_RPS Y_P99 <<<"$best_y"
  read -r N_RPS N_P99 <<<"$best_n"
  P_RPS= P_P99=
  if [ -n "$best_p" ]; then read -r P_RPS P_P99 <<<"$best_p"; fi
}

# report WHAT_YIWANG WHAT_NGINX TARGET_RATIO TARGET_P99_MS: the table and the verdict
report() {
  awk -v yr="$Y_RPS" -v yp="$Y_P99" -v nr="$N_RPS" -v np="$N_P99" -v pr="${P_RPS:-}" -v pp="${P_P99:-}" \
      -v c="$CONNS" -v wy="$1" -v wn="$2" -v tr="$3" -v tp="$4" -v strict="${BENCH_STRICT:-0}" '
    BEGIN {
      ratio = yr / nr
      printf "\n%-44s %12s %12s\n", "HTTP, " c " connections", "req/s", "p99 (ms)"
      printf "%-44s %12.0f %12.2f\n", "yiwang  " wy, yr, yp
      printf "%-44s %12.0f %12.2f\n", "nginx   " wn, nr, np
      if (pr != "") printf "%-44s %12.0f %12.2f\n", "nginx   as a bare reverse proxy of it", pr, pp
      printf "%-44s %12.2f\n", "ratio yiwang/nginx", ratio
      if (pr != "") printf "%-44s %12.2f\n", "ratio proxy/nginx (the ceiling)", pr / nr
      ok_ratio = ratio >= tr
      ok_p99 = yp < tp
      printf "\nverdict: %s (ratio %.2f %s %.2f; yiwang p99 %.2f ms %s %d ms at %d connections)\n",
        (ok_ratio && ok_p99) ? "PASS" : "MISS", ratio, ok_ratio ? ">=" : "<", tr, yp, ok_p99 ? "<" : ">=", tp, c
      exit (strict == 1 && !(ok_ratio && ok_p99)) ? 3 : 0
    }'
}

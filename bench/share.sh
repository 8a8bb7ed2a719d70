#!/usr/bin/env bash
# Sharing benchmark: granted point reads against nginx, measured in the same
# run (`make bench`).
#
# Design. A consumer's system reads records of another department through a
# grant: every answer authenticates the client, finds the active grant,
# decrypts the record, keeps only the granted items, masks four of them and
# is sent only once its own audit entry is durable (group commit). The
# reference is nginx serving a static JSON body of the same size.
#   - A release yiwang with the demo city's accounts (no demo data) gets a
#     12-item resource of 公安局 (the population base library's layout) and
#     BENCH_ROWS residents imported from CSV (1,000,000 by default,
#     build/release/gen-people: every ID number valid).
#   - 交通运输局 asks for six items; 公安局 grants them with the ID number,
#     name, phone and address masked.
#   - wrk reads random keys of 20,000 sampled from the file (a Lua script),
#     with 交通运输局's client secret; nginx answers the same requests with one
#     record's bytes, whatever the path.
#   - A read waits for its audit entry without holding a worker (the
#     connection is suspended until the group commit is durable), so the
#     server's default workers suffice.
#   - yiwang holds its database alone (--db-exclusive, as a server that owns
#     its data directory would be run): reads skip SQLite's file locks
#     between processes. BENCH_DB_EXCLUSIVE=0 measures the shared mode.
#   - Servers on core BENCH_SERVER_CPU, wrk on BENCH_CLIENT_CPU; warm-up, then
#     BENCH_ROUNDS rounds of yiwang then nginx, the best run of each kept
#     (bench/lib/compare.sh, shared with bench/http.sh).
# Targets: ratio >= 0.35 and yiwang p99 < 15 ms at 64 connections.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=share.sh
ROWS=${BENCH_ROWS:-1000000}
GEN=$ROOT/build/release/gen-people
# shellcheck source=bench/lib/compare.sh
. "$ROOT/bench/lib/compare.sh"
[ -x "$GEN" ] || die "no $GEN (make build/release/gen-people)"

echo "generating $ROWS residents x 12 items..." >&2
"$GEN" "$ROWS" >"$TMP/people.csv"
EXCLUSIVE=${BENCH_DB_EXCLUSIVE:-1}
start_sharing_parties YIWANG_DB_EXCLUSIVE=$EXCLUSIVE

item() { printf '{"name":"%s","element":"%s"}' "$1" "$1"; }
ITEMS=""
for i in id_number name gender birth_date ethnicity nationality phone address region_code education occupation \
  marital_status; do ITEMS="$ITEMS${ITEMS:+,}$(item "$i")"; done
http "$YPORT" POST /api/v1/resources "$GAJ_AUTH" "{\"name\":\"共享基准人口库\",\"provider_org\":\"$GAJ_ORG\",\
\"summary\":\"基准\",\"category\":\"base\",\"format\":\"table\",\"share_type\":\"conditional\",\
\"share_condition\":\"依法履职\",\"share_method\":\"api\",\"open_type\":\"closed\",\"update_cycle\":\"daily\",\
\"key_item\":\"id_number\",\"items\":[$ITEMS]}"
expect 201 "creating the resource"
CODE=$(json_field code)
http "$YPORT" POST "/api/v1/resources/$CODE/publish" "$GAJ_AUTH"
expect 200 "publishing"

echo "importing $ROWS rows..." >&2
t0=$(date +%s.%N)
curl -sf "http://127.0.0.1:$YPORT/api/v1/resources/$CODE/records:import" -H "$GAJ_AUTH" \
  -H 'Content-Type: text/csv' --data-binary "@$TMP/people.csv" >"$TMP/import.json" || die "the import failed"
t1=$(date +%s.%N)
echo "  imported: $(cat "$TMP/import.json" | cut -c1-80) in $(echo "$t1 - $t0" | bc) s" >&2

http "$YPORT" POST /api/v1/share-requests "$JTJ_AUTH" "{\"resource\":\"$CODE\",\
\"items\":[\"id_number\",\"name\",\"gender\",\"birth_date\",\"phone\",\"address\"],\"purpose\":\"基准\",\
\"legal_basis\":\"基准\",\"scenario\":\"基准\"}"
expect 201 "the share request"
REQUEST=$(json_field id)
http "$YPORT" POST "/api/v1/share-requests/$REQUEST/approve" "$GAJ_AUTH" \
  '{"modes":{"id_number":"masked","name":"masked","phone":"masked","address":"masked"}}'
expect 200 "the approval"

# 20,000 keys, read at random by every connection
tail -n +2 "$TMP/people.csv" | cut -d, -f1 | shuf -n 20000 --random-source=<(yes) >"$TMP/keys"
cat >"$TMP/read.lua" <<LUA
local keys = {}
for line in io.lines("$TMP/keys") do keys[#keys + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/resources/$CODE/records/" .. keys[(i * 7919) % #keys + 1])
end
LUA
AUTH="Authorization: Bearer $CLIENT_SECRET"
WRK_PATH=/
WRK_ARGS=(-H "$AUTH" -s "$TMP/read.lua")
SAMPLE=/api/v1/resources/$CODE/records/$(head -1 "$TMP/keys")
http "$YPORT" GET "$SAMPLE" "$AUTH"
expect 200 "a granted read"
printf '%s' "$HTTP_BODY" >"$TMP/record.json"
SIZE=$(bytes "$HTTP_BODY")
start_nginx "$TMP/record.json" "$SAMPLE"

echo "yiwang vs nginx: GET a granted record (6 items, 4 masked, audited), $SIZE-byte body, $ROWS records," \
  "database $([ "$EXCLUSIVE" = 1 ] && echo "held alone" || echo shared), servers on core $SERVER_CPU," \
  "wrk on core $CLIENT_CPU" >&2
echo "wrk ${WRK_FLAGS[*]} -s read.lua -H 'Authorization: Bearer …' (both), runs alternate, best of $ROUNDS each" >&2
compare
http "$YPORT" GET "$SAMPLE" "$AUTH"
expect 200 "yiwang after the load"
report "GET records/{key} through a grant" "static $SIZE B, same paths" 0.35 15

#!/usr/bin/env bash
# Import benchmark: yiwang's streamed CSV import (every row validated against
# its data elements, sensitive items encrypted: 7 of 12 with the demo city's
# elements; keys blind-indexed, history and change sequence kept) against the
# sqlite3 CLI importing the same file, unvalidated, into a plain 12-column
# table, in the same run. Prints rows/s of both, their ratio, and yiwang's
# peak resident memory.
#
# usage: bench/import.sh [ROWS]   (1,000,000 by default; needs build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
work=$(mktemp -d /tmp/yiwang-import-bench-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "generating $rows rows x 12 items..." >&2
./build/release/gen-people "$rows" > "$work/people.csv"

# reference: the sqlite3 CLI, one transaction, no validation
t0=$(date +%s.%N)
sqlite3 "$work/plain.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE people(id_number TEXT PRIMARY KEY, name, gender, birth_date, ethnicity, nationality, phone, address,
                    region_code, education, occupation, marital_status);
.import --csv --skip 1 $work/people.csv people
SQL
t1=$(date +%s.%N)
ref=$(echo "$rows / ($t1 - $t0)" | bc -l)

# yiwang: a resource with 12 items bound to data elements, then the import over HTTP
port=$((20000 + RANDOM % 20000))
YIWANG_DEMO_PEOPLE=0 ./build/release/yiwang serve --data "$work/data" --demo --listen "127.0.0.1:$port" \
  --log-level warn 2> "$work/serve.err" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
password=$(sed -n '/Demo city accounts:/,$p' "$work/serve.err" | grep -m1 '"password"' | sed 's/.*"password": "\(.*\)",*/\1/')
login=$(printf '{"username":"gaj_steward","password":"%s"}' "$password")
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' -d "$login" |
  sed 's/.*"token":"\([^"]*\)".*/\1/')
org=113301000024971107
item() { printf '{"name":"%s","element":"%s"}' "$1" "$1"; }
items="$(item id_number),$(item name),$(item gender),$(item birth_date),$(item ethnicity),$(item nationality)"
items="$items,$(item phone),$(item address),$(item region_code),$(item education),$(item occupation),$(item marital_status)"
code=$(curl -sf "http://127.0.0.1:$port/api/v1/resources" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d "{\"name\":\"导入基准\",\"provider_org\":\"$org\",\"key_item\":\"id_number\",\"items\":[$items]}" |
  sed 's/.*"code":"\([^"]*\)".*/\1/')
t0=$(date +%s.%N)
report=$(curl -sf "http://127.0.0.1:$port/api/v1/resources/$code/records:import" -H "Authorization: Bearer $token" \
  -H 'Content-Type: text/csv' --data-binary "@$work/people.csv")
t1=$(date +%s.%N)
rss=$(grep VmHWM "/proc/$pid/status" | awk '{print $2}')
ours=$(echo "$rows / ($t1 - $t0)" | bc -l)
accepted=$(echo "$report" | sed 's/.*"accepted":\([0-9]*\).*/\1/')

printf '\nimport of %s rows x 12 items from CSV\n' "$rows"
printf '  %-46s %10.0f rows/s  (accepted %s, peak RSS %d MB)\n' "yiwang (validated, sensitive items encrypted)" "$ours" \
  "$accepted" "$((rss / 1024))"
printf '  %-46s %10.0f rows/s\n' "reference: sqlite3 .import, unvalidated" "$ref"
printf '  ratio %.3f   target >= 0.3: %s;  peak RSS < 200 MB: %s\n' "$(echo "$ours / $ref" | bc -l)" \
  "$(echo "$ours / $ref >= 0.3" | bc -l | sed 's/1/met/;s/0/NOT met/')" \
  "$([ "$rss" -lt 204800 ] && echo met || echo 'NOT met')"

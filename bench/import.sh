#!/usr/bin/env bash
# Import benchmark: yiwang's streamed CSV import (every row validated against
# its data elements; 3 of the 12 items sensitive and sealed, the key among
# them and blind-indexed; history and change sequence kept) against the
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
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
# one process, not a pipeline: with pipefail, a reader that stops early (grep -m1) could fail the script
password=$(awk '/Demo city accounts:/ { f = 1 } f && /"password"/ { sub(/.*"password": "/, ""); sub(/",?$/, ""); print; exit }' \
  "$work/serve.err")
login=$(printf '{"username":"gaj_steward","password":"%s"}' "$password")
token=
for _ in $(seq 50); do # a loaded machine may still be writing the demo city
  token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' -d "$login" |
    sed 's/.*"token":"\([^"]*\)".*/\1/') && break
  sleep 0.2
done
[ -n "$token" ] || { echo "bench/import.sh: cannot sign in as gaj_steward: $(tail -5 "$work/serve.err")" >&2; exit 1; }
org=113301000024971107
# every item validated by its data element; the ID number (the key: blind-indexed too), phone and address
# are sealed (L3), the other nine are L2, as the workload of the target says: 3 of 12 items encrypted
item() { printf '{"name":"%s","element":"%s","sensitivity":"%s"}' "$1" "$1" "$2"; }
items="$(item id_number L3),$(item name L2),$(item gender L2),$(item birth_date L2),$(item ethnicity L2)"
items="$items,$(item nationality L2),$(item phone L3),$(item address L3),$(item region_code L2),$(item education L2)"
items="$items,$(item occupation L2),$(item marital_status L2)"
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
printf '  %-46s %10.0f rows/s  (accepted %s, peak RSS %d MB)\n' "yiwang (validated, 3 items encrypted)" "$ours" \
  "$accepted" "$((rss / 1024))"
printf '  %-46s %10.0f rows/s\n' "reference: sqlite3 .import, unvalidated" "$ref"
printf '  ratio %.3f   target >= 0.3: %s;  peak RSS < 200 MB: %s\n' "$(echo "$ours / $ref" | bc -l)" \
  "$(echo "$ours / $ref >= 0.3" | bc -l | sed 's/1/met/;s/0/NOT met/')" \
  "$([ "$rss" -lt 204800 ] && echo met || echo 'NOT met')"

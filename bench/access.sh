#!/usr/bin/env bash
# Unified access benchmark: a mediated call through the hub against calling
# the provider directly, measured in the same run (`make bench`).
#
# Design. A department system calls another department's API through the
# hub: every call authenticates the client, finds the service and the
# grant that covers it, forwards to the provider through the libcurl
# thread (with X-Yiwang-Client, X-Yiwang-Id and the request hash), hashes
# the answer and sends it only once the call's audit entry and its
# service_calls row are durable (group commit). The provider is nginx
# serving a 1 KiB file; the reference is the same nginx called directly.
#   - A release yiwang with the demo city's accounts (no demo data):
#     公安局 registers a service over an api resource (unconditional), its
#     base URL the nginx; 交通运输局 asks for the whole service and is
#     granted it at once.
#   - wrk GETs /x/{org}/bench/body.json with 交通运输局's client secret;
#     nginx answers the same path with the same bytes.
#   - Both servers on core BENCH_SERVER_CPU (so the provider's work during
#     the mediated run is counted against the hub, as it would be), wrk on
#     BENCH_CLIENT_CPU; warm-up, then BENCH_ROUNDS rounds of yiwang then
#     nginx, the best run of each kept (bench/lib/compare.sh).
#   - A second nginx on the same core, a bare reverse proxy of the provider
#     (kept-alive upstream connections, nothing checked, hashed or logged),
#     is measured in the same rounds: the ceiling of any mediating hub in
#     this placement, printed next to the ratio.
# Target: ratio >= 0.4 and yiwang p99 < 20 ms at 64 connections.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NAME=access.sh
# shellcheck source=bench/lib/compare.sh
. "$ROOT/bench/lib/compare.sh"

# the provider: nginx with 1 KiB of JSON
printf '{"data":"%s"}' "$(head -c 1013 /dev/zero | tr '\0' 'x')" >"$TMP/body.json"
[ "$(bytes "$(cat "$TMP/body.json")")" = 1024 ] || die "the provider's body is not 1 KiB"
start_nginx "$TMP/body.json" /body.json

# the provider (nginx) listens on loopback, which the hub may not reach by default
start_sharing_parties YIWANG_EGRESS_DENY=169.254.0.0/16,fe80::/10

http "$YPORT" POST /api/v1/resources "$GAJ_AUTH" "{\"name\":\"基准接口\",\"provider_org\":\"$GAJ_ORG\",\
\"summary\":\"基准\",\"category\":\"department\",\"format\":\"api\",\"share_type\":\"unconditional\",\
\"share_method\":\"api\",\"open_type\":\"closed\",\"update_cycle\":\"realtime\",\"key_item\":\"service\",\
\"items\":[{\"name\":\"service\",\"type\":\"C\"}]}"
expect 201 "creating the api resource"
CODE=$(json_field code)
http "$YPORT" POST "/api/v1/resources/$CODE/publish" "$GAJ_AUTH"
expect 200 "publishing"
http "$YPORT" POST /api/v1/services "$GAJ_AUTH" "{\"code\":\"bench\",\"name\":\"基准服务\",\
\"base_url\":\"http://127.0.0.1:$NPORT\",\"resource\":\"$CODE\",\"health_path\":\"/body.json\"}"
expect 201 "registering the service"
http "$YPORT" POST /api/v1/share-requests "$JTJ_AUTH" "{\"resource\":\"$CODE\",\"items\":[\"service\"],\
\"purpose\":\"基准\",\"legal_basis\":\"基准\",\"scenario\":\"基准\"}"
expect 201 "the share request"

AUTH="Authorization: Bearer $CLIENT_SECRET"
WRK_PATH=/x/$GAJ_ORG/bench/body.json
WRK_ARGS=(-H "$AUTH")
http "$YPORT" GET "$WRK_PATH" "$AUTH"
expect 200 "a mediated call"
[ "$HTTP_BODY" = "$(cat "$TMP/body.json")" ] || die "the mediated call answers other bytes than the provider's"
start_nginx_proxy "$WRK_PATH"
[ "$HTTP_BODY" = "$(cat "$TMP/body.json")" ] || die "the proxy nginx answers other bytes than the provider's"

echo "yiwang vs nginx: GET 1 KiB through the hub (client auth, grant, forward, hashes, audited) vs from the" \
  "provider directly, servers on core $SERVER_CPU, wrk on core $CLIENT_CPU" >&2
echo "wrk ${WRK_FLAGS[*]} -H 'Authorization: Bearer …' (both), runs alternate, best of $ROUNDS each" >&2
compare
http "$YPORT" GET "$WRK_PATH" "$AUTH"
expect 200 "yiwang after the load"
report "GET /x/{org}/{service}/... (mediated)" "the provider directly, 1 KiB" 0.4 20

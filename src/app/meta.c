/*
 * The meta module: the API's own description. api/openapi.yaml is turned
 * into JSON at build time (tools/yaml2json.c) and embedded in the binary,
 * so the description served is always the one the binary was built with.
 */
#include "app/app.h"

extern const unsigned char yw_openapi_json[];
extern const unsigned int yw_openapi_json_len;

static void openapi_get(yw_req *req)
{
    yw_reply_raw(req, 200, "application/json", (const char *)yw_openapi_json, yw_openapi_json_len);
}

static const yw_route routes[] = {
    {"GET", "/api/v1/openapi.json", openapi_get, YW_ROUTE_PUBLIC, 0, "public"},
};

const yw_module yw_meta_module = {"meta", routes, sizeof routes / sizeof routes[0]};

/*
 * The console module: serves the web console (web/console/, embedded in
 * the binary by scripts/embed-console.sh) at / and /console/....
 *
 * The console is a set of static files: an HTML shell, a stylesheet and ES
 * modules that call the API with the session cookie (see http/server.h).
 * Every file is public: what a page may show is decided by the API calls it
 * makes. Each reply carries a strict Content-Security-Policy (scripts,
 * styles and connections to this origin only, nothing inline, no framing),
 * an ETag from the file's content and Cache-Control: no-cache, so a browser
 * asks again each time and gets 304 while the file is unchanged.
 */
#include "app/app.h"
#include "console/assets.h"

#include <string.h>

#define CONSOLE_CSP                                                                                                  \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "             \
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static const yw_console_asset *asset_find(const char *path)
{
    for (const yw_console_asset *a = yw_console_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

static void asset_reply(yw_req *req, const char *path)
{
    const yw_console_asset *a = asset_find(path);
    if (!a) {
        yw_reply_problem(req, 404, "not_found", "the console has no file %.200s", path);
        return;
    }
    yw_reply_header(req, "Content-Security-Policy", CONSOLE_CSP);
    yw_reply_header(req, "Referrer-Policy", "no-referrer");
    yw_reply_header(req, "X-Frame-Options", "DENY");
    yw_reply_header(req, "Cross-Origin-Opener-Policy", "same-origin");
    yw_reply_header(req, "Cache-Control", "no-cache");
    yw_reply_header(req, "ETag", a->etag);
    const char *if_none = yw_req_header(req, "If-None-Match");
    if (if_none && (strstr(if_none, a->etag) || strcmp(if_none, "*") == 0)) {
        yw_reply_raw(req, 304, NULL, NULL, 0);
        return;
    }
    yw_reply_raw(req, 200, a->content_type, (const char *)a->data, a->len);
}

static void console_index(yw_req *req)
{
    asset_reply(req, "index.html");
}

static void console_file(yw_req *req)
{
    asset_reply(req, yw_req_param(req, "file"));
}

static void console_page(yw_req *req)
{
    asset_reply(req, yw_arena_printf(req->arena, "pages/%s", yw_req_param(req, "file")));
}

static const yw_route routes[] = {
    {"GET", "/", console_index, YW_ROUTE_PUBLIC, 0, "public"},
    {"GET", "/console/{file}", console_file, YW_ROUTE_PUBLIC, 0, "public"},
    {"GET", "/console/pages/{file}", console_page, YW_ROUTE_PUBLIC, 0, "public"},
};

const yw_module yw_console_module = {"console", routes, sizeof routes / sizeof routes[0]};

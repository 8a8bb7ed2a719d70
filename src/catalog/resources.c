/*
 * The resource catalog (政务信息资源目录, GB/T 21063 fields).
 *
 *   GET  /api/v1/resources                 published ones, and the caller's own drafts;
 *                                          ?provider= ?category= ?share_type= ?status=
 *   POST /api/v1/resources                 a draft (a steward of the provider org)
 *   GET|PATCH /api/v1/resources/{code}
 *   POST /api/v1/resources/{code}/publish  checks completeness, version 1
 *   POST /api/v1/resources/{code}/retire
 *   GET  /api/v1/resources/{code}/versions every published version, whole
 *
 *   draft ──publish──▶ published ──retire──▶ retired
 *     ▲ PATCH             │ PATCH: version + 1, the new version kept
 *
 * Items bound to an element take its type, length, sensitivity and mask
 * unless they say otherwise; an unbound item must be fully typed to publish.
 * Drafts and retired resources are visible to their provider only: to
 * everyone else they do not exist (404).
 */
#include "catalog/catalog.h"
#include "catalog/handlers.h"

#include "app/app.h"
#include "authz/policy.h"
#include "catalog/element.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOURCE_COLUMNS "code, provider_org, status, version, doc, published_at, created_at, updated_at"
#define MAX_ITEMS 200

static json_t *resource_json(yw_stmt *s)
{
    json_t *r = json_loads(yw_stmt_text(s, 4), 0, NULL);
    if (!r)
        r = json_object();
    json_object_set_new(r, "code", json_string(yw_stmt_text(s, 0)));
    json_object_set_new(r, "provider_org", json_string(yw_stmt_text(s, 1)));
    json_object_set_new(r, "status", json_string(yw_stmt_text(s, 2)));
    json_object_set_new(r, "version", json_integer(yw_stmt_int(s, 3)));
    json_object_set_new(r, "published_at", yw_json_time(yw_stmt_int(s, 5)));
    json_object_set_new(r, "created_at", yw_json_time(yw_stmt_int(s, 6)));
    json_object_set_new(r, "updated_at", yw_json_time(yw_stmt_int(s, 7)));
    return r;
}

/* The resource if the caller may see it (a draft: its provider only); else replies 404 and returns NULL. */
static json_t *resource_visible(yw_req *req, yw_db *db, const char *code)
{
    bool failed;
    json_t *r = yw_app_load_one(req, db, "SELECT " RESOURCE_COLUMNS " FROM resources WHERE code = $1", code,
                                resource_json, &failed);
    if (failed)
        return NULL;
    const char *provider = r ? yw_json_str(r, "provider_org") : NULL;
    bool own = provider && req->principal.org_code && strcmp(provider, req->principal.org_code) == 0;
    if (!r || (!own && strcmp(yw_json_str(r, "status"), "published") != 0)) {
        yw_reply_problem(req, 404, "not_found", "no such resource");
        return NULL;
    }
    return r;
}

static bool one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return true;
    return false;
}

static const char *const categories[] = {"base", "theme", "department", NULL};
static const char *const formats[] = {"table", "file", "api", NULL};
static const char *const share_types[] = {"unconditional", "conditional", "none", NULL};
static const char *const share_methods[] = {"api", "file", "subscription", NULL};
static const char *const open_types[] = {"open", "conditional", "closed", NULL};
static const char *const cycles[] = {"realtime", "daily", "weekly", "monthly", "quarterly", "yearly", NULL};

/* Metadata members, with their allowed values (NULL: free text). */
static const struct {
    const char *name;
    const char *const *allowed;
    size_t max;
} members[] = {
    {"name", NULL, 200},           {"summary", NULL, 4000},         {"category", categories, 16},
    {"format", formats, 16},       {"key_item", NULL, 64},          {"share_type", share_types, 16},
    {"share_condition", NULL, 2000}, {"share_method", share_methods, 16}, {"open_type", open_types, 16},
    {"update_cycle", cycles, 16},
};
#define NMEMBERS (sizeof members / sizeof members[0])

static bool item_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len < 1 || len > 64 || !(islower((unsigned char)n[0]) || n[0] == '_'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!islower((unsigned char)n[i]) && !isdigit((unsigned char)n[i]) && n[i] != '_')
            return false;
    return true;
}

/*
 * Checks and completes items in place: names unique and well formed, bound
 * elements exist (their type, length, sensitivity and mask fill what the
 * item leaves out), values of the enumerated fields valid. Returns NULL or
 * why not.
 */
static const char *normalize_items(yw_req *req, yw_db *db, json_t *items)
{
    static const yw_json_field item_fields[] = {
        {"name", YW_JSON_STRING, true, 64},       {"title", YW_JSON_STRING, false, 200},
        {"element", YW_JSON_STRING, false, 64},   {"type", YW_JSON_STRING, false, 1},
        {"length", YW_JSON_INTEGER, false, 0},    {"required", YW_JSON_BOOLEAN, false, 0},
        {"sensitivity", YW_JSON_STRING, false, 2}, {"mask", YW_JSON_STRING, false, 16},
        {"indexed", YW_JSON_BOOLEAN, false, 0},
    };
    if (json_array_size(items) > MAX_ITEMS)
        return "a resource has at most 200 items";
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        char err[200];
        if (yw_json_check(item, item_fields, sizeof item_fields / sizeof item_fields[0], err, sizeof err) < 0)
            return yw_arena_printf(req->arena, "items[%zu]: %s", i, err);
        const char *name = yw_json_str(item, "name");
        if (!item_name_ok(name))
            return yw_arena_printf(req->arena, "items[%zu]: name uses a-z, 0-9 and '_', starting with a letter", i);
        for (size_t k = 0; k < i; k++)
            if (strcmp(name, yw_json_str(json_array_get(items, k), "name")) == 0)
                return yw_arena_printf(req->arena, "items[%zu]: '%s' is listed twice", i, name);
        const char *element = yw_json_str(item, "element");
        if (element) {
            yw_stmt *s;
            int rc = yw_db_query(db, &s, "SELECT type, length, sensitivity, mask FROM elements WHERE id = $1", "t",
                                 element);
            if (rc < 0)
                return "the elements cannot be read";
            if (yw_stmt_step(s) != YW_DB_ROW) {
                yw_stmt_release(s);
                return yw_arena_printf(req->arena, "items[%zu]: no element '%s'", i, element);
            }
            if (!json_object_get(item, "type"))
                json_object_set_new(item, "type", json_string(yw_stmt_text(s, 0)));
            if (!json_object_get(item, "length"))
                json_object_set_new(item, "length", json_integer(yw_stmt_int(s, 1)));
            if (!json_object_get(item, "sensitivity"))
                json_object_set_new(item, "sensitivity", json_string(yw_stmt_text(s, 2)));
            if (!json_object_get(item, "mask"))
                json_object_set_new(item, "mask", json_string(yw_stmt_text(s, 3)));
            yw_stmt_release(s);
        }
        if (!json_object_get(item, "required"))
            json_object_set_new(item, "required", json_false());
        if (!json_object_get(item, "sensitivity"))
            json_object_set_new(item, "sensitivity", json_string("L2"));
        if (!json_object_get(item, "mask"))
            json_object_set_new(item, "mask", json_string("none"));
        yw_element check = {.id = "item", .name = "item",
                            .type = yw_json_str(item, "type") ? yw_json_str(item, "type") : "C",
                            .length = (int)json_integer_value(json_object_get(item, "length")),
                            .sensitivity = yw_json_str(item, "sensitivity"), .mask = yw_json_str(item, "mask")};
        const char *why = yw_element_validate(&check);
        if (why)
            return yw_arena_printf(req->arena, "items[%zu]: %s", i, why);
        const char *sens = yw_json_str(item, "sensitivity");
        if (json_is_true(json_object_get(item, "indexed")) && (strcmp(sens, "L3") == 0 || strcmp(sens, "L4") == 0))
            return yw_arena_printf(req->arena, "items[%zu]: a sensitive item is stored encrypted and cannot be indexed",
                                   i);
    }
    return NULL;
}

/* Copies the metadata members of body into doc, validating them. NULL or why not. */
static const char *apply_members(yw_req *req, const json_t *body, json_t *doc)
{
    for (size_t i = 0; i < NMEMBERS; i++) {
        json_t *v = json_object_get(body, members[i].name);
        if (!v)
            continue;
        const char *s = json_string_value(v);
        if (members[i].allowed && !one_of(s, members[i].allowed))
            return yw_arena_printf(req->arena, "'%s' has no value '%.40s'", members[i].name, s);
        if (strcmp(members[i].name, "name") == 0 && !*s)
            return "name must not be empty";
        json_object_set(doc, members[i].name, v);
    }
    return NULL;
}

static const yw_json_field body_fields[] = {
    {"name", YW_JSON_STRING, false, 600},          {"provider_org", YW_JSON_STRING, false, 18},
    {"summary", YW_JSON_STRING, false, 12000},     {"category", YW_JSON_STRING, false, 16},
    {"format", YW_JSON_STRING, false, 16},         {"key_item", YW_JSON_STRING, false, 64},
    {"share_type", YW_JSON_STRING, false, 16},     {"share_condition", YW_JSON_STRING, false, 6000},
    {"share_method", YW_JSON_STRING, false, 16},   {"open_type", YW_JSON_STRING, false, 16},
    {"update_cycle", YW_JSON_STRING, false, 16},   {"items", YW_JSON_ARRAY, false, MAX_ITEMS},
};
#define NBODY (sizeof body_fields / sizeof body_fields[0])

/* What publishing requires of doc; NULL when complete. */
static const char *publish_check(const json_t *doc)
{
    static const char *const needed[] = {"category", "format", "share_type", "share_method", "open_type",
                                         "update_cycle", "summary"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!json_object_get(doc, needed[i]))
            return needed[i];
    json_t *items = json_object_get(doc, "items");
    if (json_array_size(items) == 0)
        return "items";
    const char *key = yw_json_str(doc, "key_item");
    bool key_found = false;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        if (!json_object_get(item, "element") && !json_object_get(item, "type"))
            return "a type (or an element) for every item";
        if (key && strcmp(key, yw_json_str(item, "name")) == 0)
            key_found = true;
    }
    if (!key_found)
        return "key_item naming one of the items";
    if (strcmp(yw_json_str(doc, "share_type"), "conditional") == 0 && !json_object_get(doc, "share_condition"))
        return "share_condition (the resource is shared on conditions)";
    return NULL;
}

/*
 * Full-text search (GET /api/v1/resources?q=), over the resources_fts table
 * of migration 0007: one row per resource, its text tokenized by yw_cjk
 * (Chinese as character bigrams and unigrams, so that a term matches exactly
 * the texts that contain it), and its status, provider, category and share
 * type as one-word columns, so that every filter, and who may see a draft,
 * is part of the MATCH expression and answered by the index alone.
 *
 * The order of the results:
 *
 *   1. resources whose name contains every term (the "name" group), then
 *   2. the other matches (the "other" group);
 *   3. within a group, best bm25 first (yw_bm25: a hit in the name weighs
 *      ten, in the items two, in the summary or the provider's name one),
 *      shorter text first among equals;
 *   4. but a group of more than RANK_LIMIT matches (a term so common that
 *      thousands of resources contain it) is listed shortest text first,
 *      straight from the index (the rowid starts with the length), instead
 *      of ranked: for a term found once in each, that is bm25's order too.
 *
 * So a page never scores more than RANK_LIMIT + 1 rows of a group, however
 * common the term. (Scoring all 100,000 resources that contain 信 took
 * 200 ms.)
 *
 * Cursor (the text the client gets back base64-encoded): the group and the
 * mode of the last result shown, and where it was: "nr:50" (name group,
 * ranked, 50 shown), "ol:81604378640" (other group, listed, the rowid shown
 * last). A ranked group that grows past RANK_LIMIT between two pages is
 * listed from its start on the next one.
 */
#define RANK_LIMIT 2000
#define TEXT_COLUMNS "{name summary items provider}"
/* yw_bm25's weights per column: code, name, summary, items, provider; the filter columns after them weigh nothing. */
#define RANK_WEIGHTS "0.0, 10.0, 1.0, 2.0, 1.0"

/* Appends s to b as one FTS5 phrase: quoted, quotes doubled, so it is never read as query syntax. */
static void put_phrase(yw_buf *b, const char *s, size_t n)
{
    yw_buf_puts(b, "\"");
    for (size_t i = 0; i < n; i++)
        yw_buf_append(b, s[i] == '"' ? "\"\"" : &s[i], s[i] == '"' ? 2 : 1);
    yw_buf_puts(b, "\"");
}

/* The user's terms, each a phrase, space-separated (all must match); how many in *count. */
static void put_terms(yw_buf *b, const char *q, int *count)
{
    *count = 0;
    for (const char *p = q; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        size_t n = strcspn(p, " \t\n\r");
        if (!n)
            break;
        if ((*count)++)
            yw_buf_puts(b, " ");
        put_phrase(b, p, n);
        p += n;
    }
}

static void put_filter(yw_buf *b, const char *column, const char *value)
{
    if (!value)
        return;
    yw_buf_printf(b, " AND {%s}: ", column);
    put_phrase(b, value, strlen(value));
}

/* An org code as the tokenizer indexes it: one word of digits and capitals (a USCC). */
static bool one_word_code(const char *code)
{
    if (!*code)
        return false;
    for (; *code; code++)
        if (!isdigit((unsigned char)*code) && !isupper((unsigned char)*code))
            return false;
    return true;
}

typedef struct {
    yw_db *db;
    json_t *items;
    int limit;
    const char *match;      /* this group's MATCH expression */
    int phrases;            /* the user's terms: the first phrases of match */
    char group, mode;       /* 'n' or 'o'; 'r' ranked or 'l' listed */
    int64_t position;       /* ranked: results of the group already shown; listed: the last FTS rowid shown */
    bool more;              /* a result follows the page */
} search_page;

/*
 * Adds the group's results from pg->position on to the page and sets
 * pg->more when the page is full and a result follows. Ranking scores the
 * group's first RANK_LIMIT + 1 matches and counts them: more than
 * RANK_LIMIT sets *too_large and adds nothing.
 */
static int search_group(search_page *pg, bool *too_large)
{
    yw_stmt *s;
    int64_t want = pg->limit - (int64_t)json_array_size(pg->items) + 1;
    *too_large = false;
    int rc = pg->mode == 'r'
                 ? yw_db_query(pg->db, &s,
                               "SELECT r.code, r.provider_org, r.status, r.version, r.doc, r.published_at,"
                               " r.created_at, r.updated_at, p.id, p.matches FROM (SELECT id, score, count(*) OVER ()"
                               " AS matches FROM (SELECT rowid AS id, yw_bm25(resources_fts, $2, " RANK_WEIGHTS ") AS score"
                               " FROM resources_fts WHERE resources_fts MATCH $1 LIMIT $5) ORDER BY score, id"
                               " LIMIT $3 OFFSET $4) p JOIN resources_fts f ON f.rowid = p.id"
                               " JOIN resources r ON r.code = f.code ORDER BY p.score, p.id",
                               "tiiii", pg->match, (int64_t)pg->phrases, want, pg->position, (int64_t)RANK_LIMIT + 1)
                 : yw_db_query(pg->db, &s,
                               "SELECT r.code, r.provider_org, r.status, r.version, r.doc, r.published_at,"
                               " r.created_at, r.updated_at, f.rowid FROM resources_fts f JOIN resources r"
                               " ON r.code = f.code WHERE resources_fts MATCH $1 AND f.rowid > $2"
                               " ORDER BY f.rowid LIMIT $3",
                               "tii", pg->match, pg->position, want);
    if (rc < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        if (pg->mode == 'r' && yw_stmt_int(s, 9) > RANK_LIMIT) {
            *too_large = true;
            break;
        }
        if ((int)json_array_size(pg->items) == pg->limit) {
            pg->more = true;
            break;
        }
        json_array_append_new(pg->items, resource_json(s));
        pg->position = pg->mode == 'r' ? pg->position + 1 : yw_stmt_int(s, 8);
    }
    yw_stmt_release(s);
    return rc < 0 ? rc : 0;
}

int yw_catalog_search(yw_db *db, const yw_catalog_search_query *q, json_t *items, char **next)
{
    *next = NULL;
    search_page pg = {.db = db, .items = items, .limit = q->limit, .group = 'n', .position = 0};
    if (q->after) {
        long long pos;
        char group, mode, end;
        if (sscanf(q->after, "%c%c:%lld%c", &group, &mode, &pos, &end) != 3 || (group != 'n' && group != 'o') ||
            (mode != 'r' && mode != 'l') || pos < 0)
            return YW_ERANGE;
        pg.group = group;
        pg.mode = mode;
        pg.position = pos;
    }
    yw_buf terms = YW_BUF_INIT, filters = YW_BUF_INIT, match = YW_BUF_INIT;
    put_terms(&terms, q->text, &pg.phrases);
    int rc = pg.phrases ? 0 : YW_EINVAL;
    /* No org's code is anything but one word of capitals and digits: another provider finds nothing. */
    if (rc < 0 || (q->provider && !one_word_code(q->provider)))
        goto done;
    /*
     * Who may see what: the published, and the viewer's own org's drafts and retired ones. Few are not
     * published, so "not (unpublished and not mine)" costs less than "published or mine": the index
     * then seeks in short lists. The same for status=published.
     */
    yw_buf_puts(&filters, " NOT ({status}: (\"draft\" OR \"retired\")");
    if (q->viewer_org && one_word_code(q->viewer_org)) {
        yw_buf_puts(&filters, " NOT {provider_org}: ");
        put_phrase(&filters, q->viewer_org, strlen(q->viewer_org));
    }
    yw_buf_puts(&filters, ")");
    if (q->status && strcmp(q->status, "published") == 0)
        yw_buf_puts(&filters, " NOT {status}: (\"draft\" OR \"retired\")");
    else
        put_filter(&filters, "status", q->status);
    put_filter(&filters, "category", q->category);
    put_filter(&filters, "share_type", q->share_type);
    put_filter(&filters, "format", q->format);
    put_filter(&filters, "provider_org", q->provider);
    for (; rc == 0 && !pg.more && pg.group != 0; pg.group = pg.group == 'n' ? 'o' : 0, pg.mode = 0, pg.position = 0) {
        yw_buf_reset(&match);
        if (pg.group == 'n')
            yw_buf_printf(&match, "{name}: (%s)%s", terms.data, filters.data);
        else
            yw_buf_printf(&match, "(" TEXT_COLUMNS ": (%s)%s) NOT {name}: (%s)", terms.data, filters.data, terms.data);
        pg.match = match.data;
        bool large = false;
        if (pg.mode != 'l')
            pg.mode = 'r';
        rc = search_group(&pg, &large);
        if (rc == 0 && large) {
            /* too large to rank: listed from its start (also after ranked pages, if it has grown since) */
            pg.mode = 'l';
            pg.position = 0;
            rc = search_group(&pg, &large);
        }
        if (rc == 0 && pg.more) {
            if (asprintf(next, "%c%c:%lld", pg.group, pg.mode, (long long)pg.position) < 0) {
                *next = NULL;
                rc = YW_ENOMEM;
            }
        }
    }
done:
    yw_buf_free(&terms);
    yw_buf_free(&filters);
    yw_buf_free(&match);
    return rc;
}

static void search(yw_req *req, yw_db *db, const char *q, int limit, const yw_catalog_search_query *filters)
{
    if (strlen(q) > 200) {
        yw_reply_problem(req, 400, "invalid_request", "q must have at most 200 bytes");
        return;
    }
    yw_catalog_search_query query = *filters;
    query.text = q;
    query.viewer_org = req->principal.org_code;
    query.limit = limit;
    if (yw_req_cursor_or_reply(req, &query.after) < 0)
        return;
    json_t *items = json_array();
    char *next = NULL;
    int rc = yw_catalog_search(db, &query, items, &next);
    if (rc == YW_EINVAL || rc == YW_ERANGE) {
        json_decref(items);
        yw_reply_problem(req, 400, "invalid_request",
                         rc == YW_EINVAL ? "q has no term to search for" : "cursor is not one this server issued");
        return;
    }
    if (rc < 0) {
        json_decref(items);
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    const char *cursor = next ? yw_cursor_encode(req, next) : NULL;
    free(next);
    yw_reply_json_new(req, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor", cursor));
}

void resources_list(yw_req *req)
{
    int limit;
    const char *after;
    if (!yw_app_list_or_reply(req, YW_ACT_RESOURCE_READ, &limit, &after))
        return;
    yw_catalog_search_query f = {.status = yw_req_query(req, "status"), .category = yw_req_query(req, "category"),
                                 .share_type = yw_req_query(req, "share_type"), .format = yw_req_query(req, "format"),
                                 .provider = yw_req_query(req, "provider")};
    static const char *const statuses[] = {"draft", "published", "retired", NULL};
    if ((f.status && !one_of(f.status, statuses)) || (f.category && !one_of(f.category, categories)) ||
        (f.share_type && !one_of(f.share_type, share_types)) || (f.format && !one_of(f.format, formats))) {
        yw_reply_problem(req, 400, "invalid_request", "status, category, share_type or format has no such value");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    const char *q = yw_req_query(req, "q");
    if (q) {
        search(req, db, q, limit, &f);
        return;
    }
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT " RESOURCE_COLUMNS " FROM resources WHERE ($1 IS NULL OR code > $1)"
                         " AND (status = 'published' OR provider_org = $2)"
                         " AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR category = $4)"
                         " AND ($5 IS NULL OR share_type = $5) AND ($6 IS NULL OR provider_org = $6)"
                         " AND ($7 IS NULL OR json_extract(doc, '$.format') = $7)"
                         " ORDER BY code LIMIT $8",
                         "ttttttti", after, req->principal.org_code ? req->principal.org_code : "", f.status,
                         f.category, f.share_type, f.provider, f.format, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    yw_reply_page(req, s, limit, resource_json, "code");
}

typedef struct {
    yw_req *req; /* creation: the entry names the code chosen in the job */
    const char *provider, *name, *category, *share_type;
    char *doc;
    char code[64];
    const char *expect_status; /* update: the status read before */
    int64_t version;           /* update: the version read before */
    bool bump;                 /* update of a published resource: a new version */
} resource_write;

/*
 * Rewrites the search row of code from its stored metadata, its status and
 * its provider's name (the columns of migrations 0007 and 0017). Writer thread.
 */
int yw_catalog_index_resource(yw_db *db, const char *code)
{
    /* The code column is indexed too (as words), so that the old row is found without reading every row. */
    yw_buf phrase = YW_BUF_INIT;
    yw_buf_puts(&phrase, "{code}: ");
    put_phrase(&phrase, code, strlen(code));
    int rc = yw_db_run(db,
                       "DELETE FROM resources_fts WHERE rowid IN (SELECT rowid FROM resources_fts"
                       " WHERE resources_fts MATCH $1 AND code = $2)",
                       "tt", phrase.data, code);
    yw_buf_free(&phrase);
    /* The rowid: the ranked length in the high 32 bits, for yw_bm25 (store/fts_cjk.h), then the next number of that length. */
    if (rc >= 0)
        rc = yw_db_run(db,
                       "WITH indexed AS (SELECT r.code, r.name, coalesce(json_extract(r.doc, '$.summary'), '') AS summary,"
                       "  (SELECT coalesce(group_concat(coalesce(json_extract(i.value, '$.name'), '') || ' ' ||"
                       "   coalesce(json_extract(i.value, '$.title'), ''), ' '), '') FROM json_each(r.doc, '$.items') i) AS items,"
                       "  o.name AS provider, r.status, r.provider_org, coalesce(r.category, '') AS category,"
                       "  coalesce(r.share_type, '') AS share_type, coalesce(json_extract(r.doc, '$.format'), '') AS format"
                       "  FROM resources r JOIN orgs o ON o.code = r.provider_org WHERE r.code = $1),"
                       " sized AS (SELECT yw_cjk_length(name, summary, items, provider) << 32 AS base FROM indexed)"
                       " INSERT INTO resources_fts(rowid, code, name, summary, items, provider, status, provider_org,"
                       " category, share_type, format) SELECT sized.base + 1 + coalesce((SELECT f.rowid - sized.base"
                       "  FROM resources_fts f WHERE f.rowid BETWEEN sized.base AND sized.base + 4294967295"
                       "  ORDER BY f.rowid DESC LIMIT 1), 0), indexed.* FROM indexed, sized",
                       "t", code);
    return rc < 0 ? rc : yw_catalog_sync_indexes(db, code);
}

static int resource_insert_job(yw_db *db, void *arg)
{
    resource_write *w = arg;
    int64_t n = 0;
    int rc = yw_db_int(db, &n, "SELECT count(*) FROM resources WHERE provider_org = $1", "t", w->provider);
    for (int attempt = 0; rc >= 0 && attempt < 1000; attempt++) {
        snprintf(w->code, sizeof w->code, "%s-%06lld", w->provider, (long long)(n + 1 + attempt));
        int64_t now = yw_now_ms();
        rc = yw_db_run(db,
                       "INSERT INTO resources(code, provider_org, name, category, share_type, doc, created_at, updated_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT(code) DO NOTHING",
                       "tttttti", w->code, w->provider, w->name, w->category, w->share_type, w->doc, now);
        if (rc > 0) {
            /* The request waits for this job, so its arena is ours meanwhile. */
            yw_req_audit_object(w->req, "resource", w->code);
            return yw_catalog_index_resource(db, w->code);
        }
    }
    return rc < 0 ? rc : YW_ECONFLICT;
}

/* The resource named by the path, if the caller's org provides it; else replies. */
static json_t *own_resource_or_reply(yw_req *req, yw_db *db)
{
    json_t *r = resource_visible(req, db, yw_req_param(req, "code"));
    if (r && !yw_authz_or_reply(req, YW_ACT_RESOURCE_MANAGE, yw_json_str(r, "provider_org"), NULL))
        return NULL;
    return r;
}

/*
 * The resource named by the path, read in one snapshot, if the caller's org
 * provides it and the caller may change it; else replies. Names it in the audit entry.
 */
static json_t *changeable_resource(yw_req *req, yw_db **db)
{
    yw_req_audit_object(req, "resource", yw_req_param(req, "code"));
    *db = yw_app_reader_or_reply(req);
    return *db ? own_resource_or_reply(req, *db) : NULL;
}

/* Replies with the resource as stored now. */
static void reply_resource(yw_req *req, const char *code, int status)
{
    json_t *r = yw_app_load_written(req, "SELECT " RESOURCE_COLUMNS " FROM resources WHERE code = $1", code,
                                    resource_json, "resource");
    if (r)
        yw_reply_json(req, status, r);
}

void resources_create(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_RESOURCE_MANAGE, NULL, NULL))
        return;
    json_t *body = yw_req_json_or_reply(req, body_fields, NBODY);
    if (!body)
        return;
    const char *provider = yw_json_str(body, "provider_org");
    if (!provider || !yw_json_str(body, "name")) {
        yw_reply_problem(req, 400, "invalid_request", "'name' and 'provider_org' are required");
        return;
    }
    if (yw_authz(&req->principal, YW_ACT_RESOURCE_MANAGE, provider, NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "stewards describe the resources of their own org");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    json_t *doc = yw_req_keep(req, json_object());
    const char *why = apply_members(req, body, doc);
    json_t *items = json_object_get(body, "items");
    if (!why && items) {
        json_object_set(doc, "items", items);
        why = normalize_items(req, db, items);
    }
    if (!why && !items)
        json_object_set_new(doc, "items", json_array());
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    resource_write w = {.req = req, .provider = provider, .name = yw_json_str(doc, "name"),
                        .category = yw_json_str(doc, "category"), .share_type = yw_json_str(doc, "share_type"),
                        .doc = yw_arena_strdup(req->arena, text)};
    free(text);
    req->audit.object_type = "resource";
    int rc = yw_app_write(req, resource_insert_job, &w, 201);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    yw_reply_header(req, "Location", yw_arena_printf(req->arena, "/api/v1/resources/%s", w.code));
    reply_resource(req, w.code, 201);
}

void resources_get(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_RESOURCE_READ, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    json_t *r = resource_visible(req, db, yw_req_param(req, "code"));
    if (r)
        yw_reply_json(req, 200, r);
}

/* The metadata of a stored resource as its doc: the members and the items. Kept by the request. */
static json_t *doc_of(yw_req *req, const json_t *cur)
{
    json_t *doc = yw_req_keep(req, json_object());
    for (size_t i = 0; i < NMEMBERS; i++)
        if (json_object_get(cur, members[i].name))
            json_object_set(doc, members[i].name, json_object_get(cur, members[i].name));
    json_object_set(doc, "items", json_object_get(cur, "items"));
    return doc;
}

/* Writes the new doc; a published resource gets a new version, kept whole. */
static int resource_update_job(yw_db *db, void *arg)
{
    resource_write *w = arg;
    int64_t now = yw_now_ms();
    int rc = yw_db_run(db,
                       "UPDATE resources SET doc = $2, name = $3, category = $4, share_type = $5,"
                       " version = version + $6, updated_at = $7 WHERE code = $1 AND status = $8 AND version = $9",
                       "tttttiiti", w->code, w->doc, w->name, w->category, w->share_type, (int64_t)w->bump, now,
                       w->expect_status, w->version);
    if (rc == 0)
        return YW_ECONFLICT; /* changed meanwhile */
    if (rc > 0 && w->bump)
        rc = yw_db_run(db, "INSERT INTO resource_versions(code, version, doc, published_at) VALUES ($1, $2, $3, $4)",
                       "titi", w->code, w->version + 1, w->doc, now);
    return rc < 0 ? rc : yw_catalog_index_resource(db, w->code);
}

void resources_update(yw_req *req)
{
    const char *code = yw_req_param(req, "code");
    yw_db *db;
    json_t *cur = changeable_resource(req, &db);
    if (!cur)
        return;
    json_t *body = yw_req_json_or_reply(req, body_fields, NBODY);
    if (!body)
        return;
    if (json_object_get(body, "provider_org")) {
        yw_reply_problem(req, 422, "validation_failed", "provider_org cannot change");
        return;
    }
    const char *status = yw_json_str(cur, "status");
    if (strcmp(status, "retired") == 0) {
        yw_reply_problem(req, 409, "retired", "a retired resource cannot change");
        return;
    }
    /* The doc is the current metadata with the body's members replaced. */
    json_t *doc = doc_of(req, cur);
    const char *why = apply_members(req, body, doc);
    json_t *items = json_object_get(body, "items");
    if (!why && items) {
        json_object_set(doc, "items", items);
        why = normalize_items(req, db, items);
    }
    bool published = strcmp(status, "published") == 0;
    const char *missing = !why && published ? publish_check(doc) : NULL;
    if (missing)
        why = yw_arena_printf(req->arena, "a published resource needs %s", missing);
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    resource_write w = {.name = yw_json_str(doc, "name"), .category = yw_json_str(doc, "category"),
                        .share_type = yw_json_str(doc, "share_type"), .doc = yw_arena_strdup(req->arena, text),
                        .expect_status = status, .version = json_integer_value(json_object_get(cur, "version")),
                        .bump = published};
    free(text);
    snprintf(w.code, sizeof w.code, "%s", code);
    int rc = yw_app_write(req, resource_update_job, &w, 200);
    if (rc == YW_ECONFLICT) {
        yw_reply_problem(req, 409, "conflict", "the resource changed meanwhile; read it again");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    reply_resource(req, code, 200);
}

static int resource_publish_job(yw_db *db, void *arg)
{
    resource_write *w = arg;
    int64_t now = yw_now_ms();
    int rc = yw_db_run(db,
                       "UPDATE resources SET status = 'published', version = 1, published_at = $2, updated_at = $2"
                       " WHERE code = $1 AND status = 'draft'",
                       "ti", w->code, now);
    if (rc == 0)
        return YW_ESTATE;
    if (rc > 0)
        rc = yw_db_run(db, "INSERT INTO resource_versions(code, version, doc, published_at) VALUES ($1, 1, $2, $3)",
                       "tti", w->code, w->doc, now);
    return rc < 0 ? rc : yw_catalog_index_resource(db, w->code); /* the status is a search filter */
}

static int resource_retire_job(yw_db *db, void *arg)
{
    resource_write *w = arg;
    int rc = yw_db_run(db, "UPDATE resources SET status = 'retired', updated_at = $2 WHERE code = $1 AND status = 'published'",
                       "ti", w->code, yw_now_ms());
    return rc < 0 ? rc : rc == 0 ? YW_ESTATE : yw_catalog_index_resource(db, w->code);
}

/* publish and retire: a state change of the resource named by the path. */
static void resources_transition(yw_req *req, bool publish)
{
    const char *code = yw_req_param(req, "code");
    yw_db *db;
    json_t *cur = changeable_resource(req, &db);
    if (!cur)
        return;
    resource_write w = {0};
    snprintf(w.code, sizeof w.code, "%s", code);
    if (publish) {
        const char *missing = publish_check(cur);
        if (missing) {
            yw_reply_problem(req, 422, "incomplete", "to publish, the resource needs %s", missing);
            return;
        }
        char *text = json_dumps(doc_of(req, cur), JSON_COMPACT);
        w.doc = yw_arena_strdup(req->arena, text);
        free(text);
    }
    int rc = yw_app_write(req, publish ? resource_publish_job : resource_retire_job, &w, 200);
    if (rc == YW_ESTATE) {
        yw_reply_problem(req, 409, "wrong_state", publish ? "only a draft can be published" : "only a published resource can be retired");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    reply_resource(req, code, 200);
}

void resources_publish(yw_req *req)
{
    resources_transition(req, true);
}

void resources_retire(yw_req *req)
{
    resources_transition(req, false);
}

static json_t *version_json(yw_stmt *s)
{
    json_t *doc = json_loads(yw_stmt_text(s, 1), 0, NULL);
    return json_pack("{s:I, s:o, s:o}", "version", (json_int_t)yw_stmt_int(s, 0), "published_at",
                     yw_json_time(yw_stmt_int(s, 2)), "metadata", doc ? doc : json_object());
}

void resources_versions(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_RESOURCE_READ, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    const char *code = yw_req_param(req, "code");
    if (!resource_visible(req, db, code))
        return;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT version, doc, published_at FROM resource_versions WHERE code = $1 ORDER BY version",
                         "t", code);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    json_t *items = json_array();
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW)
        json_array_append_new(items, version_json(s));
    yw_stmt_release(s);
    if (rc < 0) {
        json_decref(items);
        yw_reply_store_error(req, rc, "resource");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

/*
 * Reading records: by their provider, or by a consumer through a grant.
 *
 *   GET  /api/v1/resources/{code}/records/{key}   ?grant=
 *   POST /api/v1/resources/{code}/records:batch   {"keys": [...]} (1 to 1,000)   ?grant=
 *   GET  /api/v1/resources/{code}/changes         ?cursor= ?limit= ?grant=   the change feed, in order
 *   POST /api/v1/resources/{code}/query           {filter, items?, limit?, cursor?}   ?grant=
 *
 * The provider's stewards and systems read their own records whole. Anyone
 * else reads through an active grant of their org (the newest, or the one
 * named by ?grant=): the answer holds the granted items only — an item
 * outside the grant is never returned, not even as null — each in clear or
 * masked by its mask kind (sec/mask.h), as the grant says.
 *
 * Answers, in order: a resource that does not exist, or is a draft or
 * retired and not the caller's org's → 404; roles that never read shared
 * data → 403; no active grant → 403 (no_grant), before anything about the
 * record is looked at; then 404 for an unknown key. A consumer's read is one audit entry (stage share, the
 * items disclosed, the grant as purpose, the hashes of both bodies),
 * committed together with the count against the grant's daily quota before
 * the answer leaves; over the quota the answer is 429 with Retry-After
 * (the next day, China Standard Time).
 *
 * The change feed lists the resource's changes in sequence order, each
 * with the record as it was at that version (through the grant's view) and
 * its key when the key item is granted; next_cursor always resumes after
 * the last change returned, so a consumer polls with the cursor it kept.
 *
 * A query filters on items the reader sees in clear — the key item (eq,
 * in: through the records' key index, so a sensitive key works too) and
 * items their provider marked "indexed" (eq, in, prefix, ranges: through
 * the item's query index, catalog/indexes.c) — never by scanning: any other
 * item is refused with 422. Conditions are ANDed; results come in storage
 * order with a cursor.
 */
#include "sharing/handlers.h"
#include "sharing/sharing.h"

#include "app/app.h"
#include "catalog/catalog.h"
#include "core/error.h"
#include "core/json.h"
#include "core/time.h"
#include "data/record.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 1000

/* Who reads, and through what. */
typedef struct {
    resource_spec r;
    record_ctx ctx;
    bool provider; /* the provider org reads its own records whole */
    grant g;       /* otherwise, the grant */
} reader;

/* Resolves the reader of the resource named by the path; false after replying. */
static bool reader_or_reply(yw_req *req, yw_db **db, reader *rd)
{
    const yw_principal *p = &req->principal;
    memset(rd, 0, sizeof *rd);
    req->audit.object_type = "record";
    if (!(*db = yw_app_reader_or_reply(req)))
        return false;
    int rc = resource_spec_for(req, *db, yw_req_param(req, "code"), &rd->r);
    if (rc < 0) {
        if (rc == YW_ENOTFOUND)
            yw_reply_problem(req, 404, "not_found", "no such record");
        else
            yw_reply_store_error(req, rc, "resource");
        return false;
    }
    rd->ctx = record_ctx_of(req);
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", rd->r.code));
    if (yw_authz(p, YW_ACT_RECORD_WRITE, rd->r.provider, NULL) == YW_AUTHZ_ALLOW) {
        rd->provider = true;
        req->audit.stage = "use";
        if (!rd->r.key_item) {
            yw_reply_problem(req, 409, "no_key_item", "the resource has no key item yet: set key_item to load records");
            return false;
        }
        return true;
    }
    /* Drafts and retired resources exist for their provider's people only. */
    bool own_org = p->org_code && strcmp(rd->r.provider, p->org_code) == 0;
    if ((strcmp(rd->r.status, "published") != 0 && !own_org) || !rd->r.key_item) {
        yw_reply_problem(req, 404, "not_found", "no such record");
        return false;
    }
    if (yw_authz(p, YW_ACT_RECORD_READ, p->org_code, NULL) != YW_AUTHZ_ALLOW) {
        yw_reply_problem(req, 403, "forbidden", "your roles do not allow reading shared data");
        return false;
    }
    const char *id = yw_req_query(req, "grant");
    if (id && strlen(id) > 15) {
        yw_reply_problem(req, 400, "invalid_request", "grant is a grant id, like GR00000001");
        return false;
    }
    rc = grant_find(req, *db, rd->r.code, id, &rd->g);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 403, "no_grant",
                         "no active grant of your org covers this resource: file a share request for it first");
        return false;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "grant");
        return false;
    }
    req->audit.stage = "share";
    req->audit.purpose = rd->g.id;
    rd->ctx.only = rd->g.items; /* what the grant does not show is not even decrypted */
    return true;
}

typedef struct {
    grant g; /* its strings live as long as the request */
    yw_writer *writer;
    int64_t day, n;
} usage;

/*
 * In the disclosure's transaction: the grant still holds, and n more
 * records fit in today's quota. The grant is looked up again only when
 * grants may have changed since the request found it (or when it has a
 * quota to count against).
 */
static int usage_job(yw_db *db, void *arg)
{
    usage *u = arg;
    int64_t now = yw_now_ms(), active = 0;
    if (!u->g.daily_quota && u->g.valid_until > now && yw_writer_unchanged_since(u->writer, u->g.generation))
        return 0;
    int rc = yw_db_int(db, &active, "SELECT count(*) FROM grants WHERE id = $1 AND revoked_at IS NULL AND valid_until > $2",
                       "ti", u->g.id, now);
    if (rc < 0)
        return rc;
    if (!active)
        return YW_ESTATE; /* revoked or expired since the request began */
    return u->g.daily_quota ? quota_take(db, u->g.id, u->day, u->g.daily_quota, u->n) : 0;
}

/* The reply already made leaves once its entry is durable; on failure it is replaced. */
static void disclosure_done(yw_req *req, int rc)
{
    if (rc == 0)
        return;
    const usage *u = req->route_state;
    /* Nothing was disclosed after all. */
    req->audit.items = NULL;
    req->audit.hash_bodies = false;
    if (rc == YW_ERANGE) {
        yw_reply_header(req, "Retry-After",
                        yw_arena_printf(req->arena, "%lld", (long long)seconds_to_next_day(yw_now_ms())));
        yw_reply_problem(req, 429, "quota_exhausted", "grant %s allows %lld records a day; %lld more would exceed it",
                         u->g.id, (long long)u->g.daily_quota, (long long)u->n);
    } else if (rc == YW_ESTATE) {
        yw_reply_problem(req, 403, "no_grant", "grant %s was revoked or expired meanwhile", u->g.id);
    } else {
        yw_reply_store_error(req, rc, "record");
    }
}

/*
 * Commits the reply already made: for a consumer, its audit entry with the
 * count of n records against the grant, while the connection waits without
 * holding a worker; the provider's entry is written by the server after the
 * handler.
 */
static void commit_disclosure(yw_req *req, const reader *rd, int64_t n)
{
    if (rd->provider)
        return;
    usage *u = yw_arena_alloc(req->arena, sizeof *u);
    *u = (usage){.g = rd->g, .writer = yw_store_writer(yw_req_app(req)->store), .day = quota_day(yw_now_ms()), .n = n};
    req->route_state = u;
    yw_app_write_defer(req, usage_job, u, 200, disclosure_done);
}

/*
 * The record stored under index as the reader sees it, named by key (NULL:
 * its key as the grant shows it), or NULL with *rc set (YW_ENOTFOUND when
 * there is none).
 */
static json_t *read_indexed(yw_req *req, yw_db *db, const reader *rd, const char *index, const char *key,
                            json_t *disclosed, int *rc)
{
    json_array_append_new(req->audit.object_ids, json_string(index));
    json_t *data;
    int64_t version, updated;
    *rc = record_read(&rd->ctx, db, &rd->r, index, &data, &version, &updated);
    if (*rc < 0)
        return NULL;
    const json_t *grant_items = rd->provider ? NULL : rd->g.items;
    if (!key)
        key = shared_key(&rd->r, grant_items, yw_json_str(data, rd->r.key_item), req->arena);
    json_t *out = json_object();
    json_object_set_new(out, "resource", json_string(rd->r.code));
    if (key)
        json_object_set_new(out, "key", json_string(key));
    json_object_set_new(out, "version", json_integer(version));
    json_object_set_new(out, "updated_at", yw_json_time(updated));
    json_object_set_new(out, "data", shared_view(&rd->r, grant_items, data, disclosed));
    return out;
}

static json_t *read_one(yw_req *req, yw_db *db, const reader *rd, const char *key, json_t *disclosed, int *rc)
{
    return read_indexed(req, db, rd, key_index(&rd->ctx, &rd->r, key), key, disclosed, rc);
}

/*
 * A granted read of one record, the busiest answer of all: written as it is
 * read (shared_record_write), the same bytes read_indexed's tree would give.
 */
static int write_granted(yw_req *req, yw_db *db, const reader *rd, const char *key, yw_buf *body, json_t *disclosed)
{
    const char *index = key_index(&rd->ctx, &rd->r, key);
    json_array_append_new(req->audit.object_ids, json_string(index));
    yw_buf data = YW_BUF_INIT;
    int64_t version, updated;
    int rc = shared_record_write(&rd->ctx, db, &rd->r, index, &data, &version, &updated, disclosed);
    if (rc == 0) {
        char when[32];
        yw_buf_puts(body, "{\"resource\":");
        yw_json_write_string(body, rd->r.code);
        yw_buf_puts(body, ",\"key\":"); /* as the caller gave it */
        yw_json_write_string(body, key);
        yw_buf_printf(body, ",\"version\":%lld,\"updated_at\":", (long long)version);
        if (updated)
            yw_json_write_string(body, yw_time_format(updated, when, sizeof when));
        else
            yw_buf_puts(body, "null"); /* as yw_json_time has it */
        yw_buf_puts(body, ",\"data\":");
        yw_buf_append(body, data.data, data.len);
        yw_buf_puts(body, ",\"grant\":");
        yw_json_write_string(body, rd->g.id);
        yw_buf_append(body, "}", 1);
    }
    yw_buf_wipe(&data);
    return rc;
}

void shared_records_get(yw_req *req)
{
    yw_db *db;
    reader rd;
    if (!reader_or_reply(req, &db, &rd))
        return;
    req->audit.hash_bodies = true;
    json_t *disclosed = yw_req_keep(req, json_array());
    const char *key = yw_req_param(req, "key");
    int rc;
    if (!rd.provider) {
        yw_buf body = YW_BUF_INIT;
        if ((rc = write_granted(req, db, &rd, key, &body, disclosed)) == 0) {
            req->audit.items = disclosed;
            yw_reply_raw(req, 200, "application/json", body.data, body.len);
        }
        yw_buf_wipe(&body);
    } else {
        json_t *record = read_one(req, db, &rd, key, disclosed, &rc);
        if (record) {
            req->audit.items = disclosed;
            yw_reply_json_new(req, 200, record);
        }
    }
    if (rc == YW_ENOTFOUND)
        yw_reply_problem(req, 404, "not_found", "no such record");
    else if (rc < 0)
        yw_reply_store_error(req, rc, "record");
    else
        commit_disclosure(req, &rd, 1);
}

void shared_records_batch(yw_req *req)
{
    static const yw_json_field fields[] = {{"keys", YW_JSON_STRINGS, true, MAX_BATCH}};
    yw_db *db;
    reader rd;
    if (!reader_or_reply(req, &db, &rd))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, 1);
    if (!body)
        return;
    json_t *keys = json_object_get(body, "keys");
    if (json_array_size(keys) == 0) {
        yw_reply_problem(req, 422, "validation_failed", "'keys' names 1 to %d records", MAX_BATCH);
        return;
    }
    req->audit.hash_bodies = true;
    json_t *disclosed = yw_req_keep(req, json_array());
    json_t *items = json_array(), *missing = json_array();
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key) {
        int rc;
        json_t *record = read_one(req, db, &rd, json_string_value(key), disclosed, &rc);
        if (record) {
            json_array_append_new(items, record);
        } else if (rc == YW_ENOTFOUND) {
            json_array_append(missing, key);
        } else {
            json_decref(items);
            json_decref(missing);
            yw_reply_store_error(req, rc, "record");
            return;
        }
    }
    req->audit.items = disclosed;
    int64_t found = (int64_t)json_array_size(items);
    json_t *reply = json_pack("{s:o, s:o}", "items", items, "missing", missing);
    if (!rd.provider)
        json_object_set_new(reply, "grant", json_string(rd.g.id));
    yw_reply_json_new(req, 200, reply);
    commit_disclosure(req, &rd, found);
}

void shared_records_changes(yw_req *req)
{
    yw_db *db;
    reader rd;
    int limit;
    const char *cursor;
    if (!reader_or_reply(req, &db, &rd) || yw_req_limit_or_reply(req, &limit) < 0 ||
        yw_req_cursor_or_reply(req, &cursor) < 0)
        return;
    char *end = NULL;
    long long after = cursor ? strtoll(cursor, &end, 10) : 0;
    if (cursor && (!*cursor || *end || after < 0)) {
        yw_reply_problem(req, 400, "invalid_request", "cursor is not one this feed gave");
        return;
    }
    req->audit.hash_bodies = true;
    feed_page page;
    int rc = feed_collect(&rd.ctx, db, &rd.r, rd.provider ? NULL : rd.g.items, after, limit + 1, &page);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "change");
        return;
    }
    /* One more than the page tells whether more are waiting; it is not sent. */
    bool more = json_array_size(page.changes) > (size_t)limit;
    if (more) {
        json_array_remove(page.changes, (size_t)limit);
        json_array_remove(page.indexes, (size_t)limit);
        page.last_seq = json_integer_value(json_object_get(json_array_get(page.changes, (size_t)limit - 1), "seq"));
    }
    json_array_extend(req->audit.object_ids, page.indexes);
    req->audit.items = yw_req_keep(req, json_incref(page.disclosed));
    int64_t n = (int64_t)json_array_size(page.changes);
    json_t *reply = json_pack("{s:O, s:s, s:b}", "items", page.changes, "next_cursor",
                              yw_cursor_encode(req, yw_arena_printf(req->arena, "%lld", (long long)page.last_seq)),
                              "more", more);
    if (!rd.provider)
        json_object_set_new(reply, "grant", json_string(rd.g.id));
    feed_page_free(&page);
    yw_reply_json_new(req, 200, reply);
    commit_disclosure(req, &rd, n);
}

/* ---- filtered queries ---- */

#define MAX_FILTERS 8
#define MAX_IN 1000

/* Binds a JSON scalar as the SQL value json_extract gives for it. */
static int bind_value(yw_stmt *s, int idx, const json_t *v)
{
    if (json_is_integer(v))
        return yw_stmt_bind_int(s, idx, json_integer_value(v));
    if (json_is_boolean(v))
        return yw_stmt_bind_int(s, idx, json_is_true(v));
    return yw_stmt_bind_text(s, idx, json_string_value(v));
}

typedef struct {
    yw_buf sql; /* the conditions */
    const json_t *params[MAX_FILTERS * (MAX_IN + 8)]; /* per filter: an in list, a prefix's two, four bounds, eq */
    int nparams;
    bool by_key; /* a condition on the key: read through the index of key tails */
} query_sql;

static void add_param(query_sql *q, const json_t *v)
{
    q->params[q->nparams++] = v;
    yw_buf_printf(&q->sql, "$%d", q->nparams + 1); /* $1 is the cursor */
}

/*
 * Adds the condition of one filter member (item → {eq | in | prefix | gt,
 * gte, lt, lte}) to q. The key item is matched through the records' key
 * index; other items through their query index. NULL, or why not.
 */
static const char *add_filter(yw_req *req, yw_db *db, const reader *rd, const char *item, json_t *cond, query_sql *q)
{
    bool known = false;
    for (size_t i = 0; i < rd->r.nitems && !known; i++)
        known = strcmp(rd->r.items[i].name, item) == 0;
    if (!known)
        return yw_arena_printf(req->arena, "'%.64s' is not an item of the resource", item);
    if (!rd->provider) {
        json_t *mode = json_object_get(rd->g.items, item);
        if (!mode || strcmp(json_string_value(mode), "clear") != 0)
            return yw_arena_printf(req->arena, "'%.64s' is not granted in clear: it cannot be filtered on", item);
    }
    if (!json_is_object(cond) || json_object_size(cond) == 0)
        return yw_arena_printf(req->arena, "'%.64s' needs a condition: eq, in, prefix, or gt/gte/lt/lte", item);
    bool is_key = strcmp(item, rd->r.key_item) == 0;
    if (!is_key && !yw_catalog_item_indexed(db, rd->r.code, item))
        return yw_arena_printf(req->arena, "'%.64s' is not indexed: its provider can mark it \"indexed\"", item);
    /* The key is found through the index of key hashes (RECORD_OF_KEY), then compared whole. */
    char column[128];
    snprintf(column, sizeof column, is_key ? "key_hash" : "json_extract(data, '$.%s')", item);
    const char *op;
    json_t *v;
    json_object_foreach(cond, op, v) {
        bool scalar = json_is_string(v) || json_is_integer(v) || json_is_boolean(v);
        yw_buf_puts(&q->sql, " AND ");
        if (is_key && strcmp(op, "eq") != 0 && strcmp(op, "in") != 0)
            return "the key item is matched with eq or in only";
        if (strcmp(op, "in") == 0) {
            if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_IN)
                return yw_arena_printf(req->arena, "'%.64s': in takes 1 to %d values", item, MAX_IN);
            int first = q->nparams + 2; /* $1 is the cursor */
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x) {
                if (!json_is_string(x) && !json_is_integer(x) && !json_is_boolean(x))
                    return yw_arena_printf(req->arena, "'%.64s': in takes strings, integers or booleans", item);
                q->params[q->nparams++] = is_key ? yw_req_keep(req, json_string(key_index(
                                                       &rd->ctx, &rd->r, json_string_value(x) ? json_string_value(x) : "")))
                                                 : x;
            }
            int last = q->nparams + 1;
            yw_buf_printf(&q->sql, "%s IN (", column);
            for (int k = first; k <= last; k++)
                yw_buf_printf(&q->sql, is_key ? "%syw_key_hash($%d)" : "%s$%d", k > first ? ", " : "", k);
            yw_buf_puts(&q->sql, ")");
            if (is_key) {
                yw_buf_puts(&q->sql, " AND key_index IN (");
                for (int k = first; k <= last; k++)
                    yw_buf_printf(&q->sql, "%s$%d", k > first ? ", " : "", k);
                yw_buf_puts(&q->sql, ")");
                q->by_key = true;
            }
            continue;
        }
        if (!scalar)
            return yw_arena_printf(req->arena, "'%.64s': %.8s takes a string, an integer or a boolean", item, op);
        if (strcmp(op, "prefix") == 0) {
            /* [prefix, prefix + U+10FFFF): the index range of every string that starts with it */
            if (!json_is_string(v) || !*json_string_value(v))
                return yw_arena_printf(req->arena, "'%.64s': prefix takes a non-empty string", item);
            yw_buf_printf(&q->sql, "%s >= ", column);
            add_param(q, v);
            yw_buf_printf(&q->sql, " AND %s < ", column);
            add_param(q, yw_req_keep(req, json_sprintf("%s\xf4\x8f\xbf\xbf", json_string_value(v))));
            continue;
        }
        static const char *const ops[][2] = {{"eq", "="}, {"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}};
        const char *sql_op = NULL;
        for (size_t i = 0; i < 5 && !sql_op; i++)
            if (strcmp(op, ops[i][0]) == 0)
                sql_op = ops[i][1];
        if (!sql_op)
            return yw_arena_printf(req->arena, "'%.64s': unknown condition '%.16s'", item, op);
        if (is_key) {
            v = yw_req_keep(req, json_string(key_index(&rd->ctx, &rd->r, json_string_value(v) ? json_string_value(v) : "")));
            q->params[q->nparams++] = v;
            yw_buf_printf(&q->sql, "%s = yw_key_hash($%d) AND key_index = $%d", column, q->nparams + 1, q->nparams + 1);
            q->by_key = true;
            continue;
        }
        yw_buf_printf(&q->sql, "%s %s ", column, sql_op);
        add_param(q, v);
    }
    return NULL;
}

void shared_records_query(yw_req *req)
{
    static const yw_json_field fields[] = {
        {"filter", YW_JSON_OBJECT, true, MAX_FILTERS}, {"items", YW_JSON_STRINGS, false, 200},
        {"limit", YW_JSON_INTEGER, false, 0},          {"cursor", YW_JSON_STRING, false, 64},
    };
    yw_db *db;
    reader rd;
    if (!reader_or_reply(req, &db, &rd))
        return;
    json_t *body = yw_req_json_or_reply(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    json_t *limit_v = json_object_get(body, "limit");
    int64_t limit = limit_v ? json_integer_value(limit_v) : 50;
    const char *cursor = yw_json_str(body, "cursor");
    char *end = NULL;
    long long after = cursor ? strtoll(cursor, &end, 10) : 0;
    const char *why = NULL;
    if (limit < 1 || limit > 1000)
        why = "'limit' is 1 to 1000";
    else if (cursor && (!*cursor || *end || after < 0))
        why = "'cursor' is not one this query gave";
    query_sql q = {.sql = YW_BUF_INIT};
    const char *item;
    json_t *cond;
    json_object_foreach(json_object_get(body, "filter"), item, cond) {
        if (!why)
            why = add_filter(req, db, &rd, item, cond, &q);
    }
    json_t *wanted = json_object_get(body, "items");
    if (!why && json_object_size(json_object_get(body, "filter")) == 0)
        why = "'filter' names at least one item";
    if (why) {
        yw_buf_free(&q.sql);
        yw_reply_problem(req, 422, "validation_failed", "%s", why);
        return;
    }
    /*
     * Resource codes are letters, digits and '-': safe as SQL text, which lets
     * SQLite use the partial indexes of items. A key condition goes through the
     * index of key hashes, never through the records of the whole resource.
     */
    yw_buf sql = YW_BUF_INIT;
    yw_buf_printf(&sql,
                  "SELECT rowid, key_index FROM records%s WHERE resource = '%s' AND deleted = 0 AND rowid > $1%s"
                  " ORDER BY rowid LIMIT %lld",
                  q.by_key ? " INDEXED BY records_key_hash" : "", rd.r.code, q.sql.data, (long long)limit + 1);
    yw_buf_free(&q.sql);
    yw_stmt *s;
    int rc = yw_db_prepare(db, &s, sql.data);
    yw_buf_free(&sql);
    if (rc == 0)
        rc = yw_stmt_bind_int(s, 1, after);
    for (int i = 0; rc == 0 && i < q.nparams; i++)
        rc = bind_value(s, i + 2, q.params[i]);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    /* the matching rows first, then the records: the statement is done before the reads */
    json_t *rows = yw_req_keep(req, json_array());
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW)
        json_array_append_new(rows, json_pack("[I, s]", (json_int_t)yw_stmt_int(s, 0), yw_stmt_text(s, 1)));
    yw_stmt_release(s);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    req->audit.hash_bodies = true;
    json_t *disclosed = yw_req_keep(req, json_array());
    json_t *items = json_array();
    const char *next = NULL;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if ((int64_t)i == limit) {
            next = yw_arena_printf(req->arena, "%lld",
                                   (long long)json_integer_value(json_array_get(json_array_get(rows, i - 1), 0)));
            break;
        }
        json_t *record = read_indexed(req, db, &rd, json_string_value(json_array_get(row, 1)), NULL, disclosed, &rc);
        if (!record) {
            json_decref(items);
            yw_reply_store_error(req, rc, "record");
            return;
        }
        if (wanted) {
            const char *name;
            json_t *v;
            void *tmp;
            json_t *data = json_object_get(record, "data");
            json_object_foreach_safe(data, tmp, name, v) {
                bool keep = false;
                size_t k;
                json_t *w;
                json_array_foreach(wanted, k, w) keep = keep || strcmp(json_string_value(w), name) == 0;
                if (!keep)
                    json_object_del(data, name);
            }
        }
        json_array_append_new(items, record);
    }
    req->audit.items = disclosed;
    int64_t n = (int64_t)json_array_size(items);
    json_t *reply = json_pack("{s:o, s:s?}", "items", items, "next_cursor", next);
    if (!rd.provider)
        json_object_set_new(reply, "grant", json_string(rd.g.id));
    yw_reply_json_new(req, 200, reply);
    commit_disclosure(req, &rd, n);
}

/*
 * The audit trail as the API shows it.
 *
 *   GET /api/v1/audit/events          entries, filtered, cursor-paged (auditors: all;
 *                                     org admins: their own org's)
 *   GET /api/v1/audit/tree-head       the latest signed tree head
 *   GET /api/v1/audit/proof/{seq}     inclusion proof of one entry against a head
 *   GET /api/v1/audit/consistency     consistency proof between two tree sizes
 *   GET /api/v1/audit/export          a range as NDJSON, verifiable offline
 *
 * Every read of the trail (but the public tree head) is itself an entry.
 * Proofs are served against a stored head of the asked size, or against a
 * head signed on the spot for it, so any committed size can be proven.
 * Formats of proofs and exports: docs/audit.md.
 */
#include "app/app.h"
#include "audit/log.h"
#include "authz/policy.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/time.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT_MAX 100000

/* Parses a non-negative integer query argument; -1 when absent, -2 after replying 400. */
static int64_t query_u64_or_reply(yw_req *req, const char *name)
{
    const char *v = yw_req_query(req, name);
    if (!v)
        return -1;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < 0) {
        yw_reply_problem(req, 400, "invalid_request", "%s must be a non-negative integer", name);
        return -2;
    }
    return n;
}

/*
 * The head of tree size n: the stored one, else one signed now over the root
 * computed from stored subtrees. 0, YW_ERANGE when n exceeds the log, or < 0.
 */
static int head_of_size(yw_req *req, yw_db *db, uint64_t n, yw_tree_head *out)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT root, timestamp, signature FROM audit_heads WHERE tree_size = $1", "i",
                         (int64_t)n);
    if (rc < 0)
        return rc;
    if ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        size_t lr = 0, ls = 0;
        const void *root = yw_stmt_blob(s, 0, &lr), *sig = yw_stmt_blob(s, 2, &ls);
        if (lr == YW_HASH_LEN && ls == 64) {
            out->tree_size = n;
            memcpy(out->root, root, YW_HASH_LEN);
            out->timestamp = yw_stmt_int(s, 1);
            memcpy(out->signature, sig, 64);
            yw_stmt_release(s);
            return 0;
        }
    }
    yw_stmt_release(s);
    if (rc < 0)
        return rc;
    uint64_t size;
    if ((rc = yw_audit_stored_size(db, &size)) < 0)
        return rc;
    if (n > size)
        return YW_ERANGE;
    yw_hash root;
    if (n == 0)
        yw_merkle_empty(root);
    else if ((rc = yw_merkle_range(yw_audit_subtree_cached, &(yw_audit_reader){yw_req_app(req)->audit, db}, 0, n, root)) < 0)
        return rc;
    yw_audit_sign(yw_req_app(req)->audit, n, root, out);
    return 0;
}

static void tree_head_get(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_AUDIT_HEAD, NULL, NULL))
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    yw_tree_head h;
    int rc = yw_audit_latest_head(db, &h);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "tree head");
        return;
    }
    if (rc == 0 && (rc = head_of_size(req, db, 0, &h)) < 0) {
        yw_reply_store_error(req, rc, "tree head");
        return;
    }
    json_t *out = yw_tree_head_json(&h);
    json_object_set_new(out, "public_key", yw_b64_json(yw_audit_public_key(yw_req_app(req)->audit), 32));
    yw_reply_json_new(req, 200, out);
}

/*
 * The filters of an events query, as the stored values are compared with
 * them: strings as their canonical JSON literals, so no entry is parsed to
 * be skipped.
 */
typedef struct {
    yw_buf actor, org, action, object;
    bool has_actor, has_org, has_action, has_object, has_from, has_to;
    int64_t from_ms, to_ms;
    const char *result;
} event_filter;

static void filter_literal(yw_buf *out, bool *has, const char *value)
{
    *has = value != NULL;
    if (value)
        yw_audit_json_string(value, out);
}

static bool filter_matches(const event_filter *f, const yw_audit_values *v)
{
    return (!f->has_actor || yw_audit_value_is(v, YW_AUDIT_ACTOR, f->actor.data, f->actor.len)) &&
           (!f->has_org || yw_audit_value_is(v, YW_AUDIT_ACTOR_ORG, f->org.data, f->org.len)) &&
           (!f->has_action || yw_audit_value_is(v, YW_AUDIT_ACTION, f->action.data, f->action.len)) &&
           (!f->has_from || v->time_ms >= f->from_ms) && (!f->has_to || v->time_ms < f->to_ms) &&
           (!f->has_object || yw_audit_value_contains(v, YW_AUDIT_OBJECT_IDS, f->object.data, f->object.len)) &&
           (!f->result || strcmp(yw_audit_result((int)v->status), f->result) == 0);
}

static void filter_free(event_filter *f)
{
    yw_buf_free(&f->actor);
    yw_buf_free(&f->org);
    yw_buf_free(&f->action);
    yw_buf_free(&f->object);
}

/* The canonical entry of row, parsed. */
static json_t *row_entry(const yw_audit_row *row, yw_buf *scratch)
{
    yw_buf_reset(scratch);
    yw_audit_values_canonical(&row->values, row->seq, scratch);
    json_t *v = json_loadb(scratch->data, scratch->len, 0, NULL);
    return v ? v : json_null();
}

static void events_list(yw_req *req)
{
    int limit;
    const char *cursor;
    if (!yw_app_list_or_reply(req, YW_ACT_AUDIT_READ, &limit, &cursor))
        return;
    const char *org = yw_req_query(req, "org");
    if (yw_authz_own_org_only(&req->principal, YW_ACT_AUDIT_READ))
        org = req->principal.org_code;
    const char *from = yw_req_query(req, "from"), *to = yw_req_query(req, "to");
    event_filter f = {.actor = YW_BUF_INIT, .has_from = from != NULL, .has_to = to != NULL};
    if ((from && yw_time_parse(from, &f.from_ms) < 0) || (to && yw_time_parse(to, &f.to_ms) < 0)) {
        yw_reply_problem(req, 400, "invalid_request", "from and to are RFC 3339 times, e.g. 2026-11-26T08:00:00Z");
        return;
    }
    f.result = yw_req_query(req, "result");
    if (f.result && strcmp(f.result, "ok") && strcmp(f.result, "denied") && strcmp(f.result, "error")) {
        yw_reply_problem(req, 400, "invalid_request", "result is ok, denied or error");
        return;
    }
    req->audit.object_type = "audit_log";
    int64_t after = -1;
    if (cursor) {
        char *end;
        after = strtoll(cursor, &end, 10);
        if (*end || after < 0) {
            yw_reply_problem(req, 400, "invalid_request", "cursor is not one this server issued");
            return;
        }
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    filter_literal(&f.actor, &f.has_actor, yw_req_query(req, "actor"));
    filter_literal(&f.org, &f.has_org, org);
    filter_literal(&f.action, &f.has_action, yw_req_query(req, "action"));
    filter_literal(&f.object, &f.has_object, yw_req_query(req, "object"));
    yw_audit_scan scan;
    yw_audit_row row;
    int rc = yw_audit_scan_start(&scan, db, (uint64_t)(after + 1), f.has_org ? f.org.data : NULL);
    json_t *items = json_array();
    const char *next = NULL;
    int64_t last = -1;
    yw_buf scratch = YW_BUF_INIT;
    while (rc >= 0 && (rc = yw_audit_scan_next(&scan, &row)) == 1) {
        if (!filter_matches(&f, &row.values))
            continue;
        if ((int)json_array_size(items) == limit) {
            next = yw_cursor_encode(req, yw_arena_printf(req->arena, "%lld", (long long)last));
            break;
        }
        last = (int64_t)row.seq;
        json_array_append_new(items, row_entry(&row, &scratch));
    }
    yw_buf_free(&scratch);
    yw_audit_scan_end(&scan);
    filter_free(&f);
    if (rc < 0) {
        json_decref(items);
        yw_reply_store_error(req, rc, "audit entries");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor", next));
}

/* The entry seq, if the caller may see it; else replies. 1 ok, 0 replied. */
static int entry_or_reply(yw_req *req, yw_db *db, int64_t seq, char **entry, yw_hash leaf)
{
    yw_buf text = YW_BUF_INIT, org = YW_BUF_INIT;
    int rc = yw_audit_entry_at(db, (uint64_t)seq, &text, leaf, &org);
    if (rc == 1) {
        *entry = yw_arena_strdup(req->arena, text.data);
        /* entries without an org (the platform's own) are for auditors only */
        rc = yw_authz_or_reply(req, YW_ACT_AUDIT_READ, org.data ? org.data : "", NULL) ? 1 : 0;
    } else if (rc == 0) {
        yw_reply_problem(req, 404, "not_found", "no such audit entry");
    } else {
        yw_reply_store_error(req, rc, "audit entry");
        rc = 0;
    }
    yw_buf_free(&text);
    yw_buf_free(&org);
    return rc;
}

static void proof_get(yw_req *req)
{
    const char *seq_text = yw_req_param(req, "seq");
    char *end;
    long long seq = strtoll(seq_text, &end, 10);
    req->audit.object_type = "audit_entry";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s]", seq_text));
    if (!yw_authz_or_reply(req, YW_ACT_AUDIT_READ, NULL, NULL))
        return;
    if (!*seq_text || *end || seq < 0) {
        yw_reply_problem(req, 400, "invalid_request", "seq must be a non-negative integer");
        return;
    }
    int64_t size_arg = query_u64_or_reply(req, "tree_size");
    if (size_arg == -2)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    char *entry;
    yw_hash leaf;
    if (!entry_or_reply(req, db, seq, &entry, leaf))
        return;
    yw_tree_head h;
    int rc;
    if (size_arg < 0) {
        rc = yw_audit_latest_head(db, &h);
        if (rc == 0 || (rc > 0 && h.tree_size <= (uint64_t)seq))
            rc = YW_ERANGE; /* not yet covered by a signed head */
    } else {
        rc = (uint64_t)size_arg <= (uint64_t)seq ? YW_ERANGE : head_of_size(req, db, (uint64_t)size_arg, &h);
        if (rc == YW_ERANGE) {
            yw_reply_problem(req, 422, "validation_failed",
                             "tree_size must be above seq and at most the size of the log");
            return;
        }
    }
    if (rc == YW_ERANGE) {
        yw_reply_problem(req, 409, "not_yet_signed",
                         "entry %lld is not inside that tree; heads are signed every second, try again", seq);
        return;
    }
    json_t *proof = rc < 0 ? NULL : yw_audit_inclusion_json(yw_req_app(req)->audit, db, (uint64_t)seq, entry, leaf, &h, &rc);
    if (!proof) {
        yw_reply_store_error(req, rc, "audit proof");
        return;
    }
    yw_reply_json_new(req, 200, proof);
}

static void consistency_get(yw_req *req)
{
    req->audit.object_type = "audit_log";
    if (!yw_authz_or_reply(req, YW_ACT_AUDIT_READ, NULL, NULL))
        return;
    int64_t from = query_u64_or_reply(req, "from"), to = query_u64_or_reply(req, "to");
    if (from == -2 || to == -2)
        return;
    if (from < 0) {
        yw_reply_problem(req, 400, "invalid_request", "from (a tree size) is required");
        return;
    }
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    yw_tree_head first, second;
    int rc = 0;
    if (to < 0) {
        rc = yw_audit_latest_head(db, &second);
        rc = rc < 0 ? rc : rc == 0 ? head_of_size(req, db, 0, &second) : 0;
    } else {
        rc = head_of_size(req, db, (uint64_t)to, &second);
    }
    if (rc == 0 && (uint64_t)from > second.tree_size)
        rc = YW_ERANGE;
    if (rc == 0)
        rc = head_of_size(req, db, (uint64_t)from, &first);
    if (rc == YW_ERANGE) {
        yw_reply_problem(req, 422, "validation_failed", "from must not exceed to, and to not the size of the log");
        return;
    }
    yw_hash proof[YW_MERKLE_MAX_PROOF];
    int n = rc < 0 ? rc : yw_merkle_consistency(yw_audit_subtree_cached, &(yw_audit_reader){yw_req_app(req)->audit, db}, first.tree_size, second.tree_size, proof);
    if (n < 0) {
        yw_reply_store_error(req, n, "audit proof");
        return;
    }
    yw_reply_json_new(req, 200,
                      json_pack("{s:s, s:I, s:I, s:o, s:o, s:o}", "kind", "consistency", "from",
                                (json_int_t)first.tree_size, "to", (json_int_t)second.tree_size, "proof",
                                yw_hashes_json(proof, n), "from_head", yw_tree_head_json(&first), "to_head",
                                yw_tree_head_json(&second)));
}

static void export_get(yw_req *req)
{
    req->audit.object_type = "audit_log";
    if (!yw_authz_or_reply(req, YW_ACT_AUDIT_EXPORT, NULL, NULL))
        return;
    int64_t from = query_u64_or_reply(req, "from"), to = query_u64_or_reply(req, "to");
    if (from == -2 || to == -2)
        return;
    yw_db *db = yw_app_reader_or_reply(req);
    if (!db)
        return;
    if (from < 0)
        from = 0;
    yw_tree_head head, latest;
    int rc = yw_audit_latest_head(db, &latest);
    if (rc == 0)
        rc = head_of_size(req, db, 0, &latest);
    else if (rc > 0)
        rc = 0;
    if (rc == 0 && to < 0)
        to = (int64_t)latest.tree_size;
    if (rc == 0 && (from > to || to - from > EXPORT_MAX || (uint64_t)to > latest.tree_size)) {
        yw_reply_problem(req, 422, "validation_failed",
                         "export a range from <= to <= the signed tree size (%llu), at most %d entries at a time",
                         (unsigned long long)latest.tree_size, EXPORT_MAX);
        return;
    }
    if (rc == 0)
        rc = head_of_size(req, db, (uint64_t)to, &head);
    /* The complete subtrees left of the range, so a verifier can rebuild the root from the range alone. */
    json_t *prefix = json_array();
    uint64_t pos = 0;
    for (int level = 63; rc == 0 && level >= 0; level--) {
        if (!((uint64_t)from & ((uint64_t)1 << level)))
            continue;
        yw_hash h;
        if ((rc = yw_audit_subtree(db, level, pos >> level, h)) == 0)
            json_array_append_new(prefix, json_pack("{s:i, s:o}", "level", level, "hash", yw_b64_json(h, YW_HASH_LEN)));
        pos += (uint64_t)1 << level;
    }
    yw_hash proof[YW_MERKLE_MAX_PROOF];
    int n = rc < 0 ? rc : yw_merkle_consistency(yw_audit_subtree_cached, &(yw_audit_reader){yw_req_app(req)->audit, db}, head.tree_size, latest.tree_size, proof);
    if (n < 0) {
        json_decref(prefix);
        yw_reply_store_error(req, n, "audit export");
        return;
    }
    json_t *first = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o}", "kind", "export", "from", (json_int_t)from, "to",
                              (json_int_t)to, "prefix", prefix, "tree_head", yw_tree_head_json(&head), "latest_head",
                              yw_tree_head_json(&latest), "consistency", yw_hashes_json(proof, n));
    char *text = json_dumps(first, JSON_COMPACT);
    json_decref(first);
    yw_buf out = YW_BUF_INIT;
    yw_buf_puts(&out, text);
    yw_buf_puts(&out, "\n");
    free(text);
    yw_audit_scan scan;
    yw_audit_row row;
    rc = yw_audit_scan_start(&scan, db, (uint64_t)from, NULL);
    while (rc >= 0 && (rc = yw_audit_scan_next(&scan, &row)) == 1 && row.seq < (uint64_t)to) {
        yw_audit_values_canonical(&row.values, row.seq, &out);
        yw_buf_puts(&out, "\n");
    }
    yw_audit_scan_end(&scan);
    if (rc < 0)
        yw_reply_store_error(req, rc, "audit export");
    else
        yw_reply_raw(req, 200, "application/x-ndjson", out.data, out.len);
    yw_buf_free(&out);
}

static const yw_route routes[] = {
    {"GET", "/api/v1/audit/events", events_list, YW_ROUTE_AUDIT, 0, "audit.read"},
    {"GET", "/api/v1/audit/tree-head", tree_head_get, 0, 0, "audit.tree_head"},
    {"GET", "/api/v1/audit/proof/{seq}", proof_get, YW_ROUTE_AUDIT, 0, "audit.proof"},
    {"GET", "/api/v1/audit/consistency", consistency_get, YW_ROUTE_AUDIT, 0, "audit.consistency"},
    {"GET", "/api/v1/audit/export", export_get, YW_ROUTE_AUDIT, 0, "audit.export"},
};

const yw_module yw_trail_module = {"trail", routes, sizeof routes / sizeof routes[0]};

/*
 * Offline verification of a whole audit log (yiwang audit verify).
 *
 * Recomputes everything from the stored entries alone and compares:
 *   entries run 0, 1, 2, ... without gaps     (a deleted entry or row)
 *   SHA-256(0x00 || entry) equals the leaf    (an entry altered; entries
 *                                              swapped, deleted or inserted,
 *                                              since the canonical entry
 *                                              includes its position, seq)
 *   every stored subtree equals the rebuilt   (a leaf or node altered)
 *   every signed head: root and signature     (anything rewritten consistently)
 *   the last entry is covered by a head       (a forged entry appended)
 *   the org index lists exactly the orgs      (entries hidden from, or shown
 *   of each packed row                         to, an org's queries)
 * and names the first seq where they disagree. Entries still in the table
 * of before migration 0008 (audit_log_v1, converted at the server's next
 * start) are checked after the packed rows, as the log's continuation; a
 * directory no newer binary opened has them all in audit_log.
 */
#include "audit/log.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    yw_db *db;
    int64_t bad_seq;
    char *why;
    size_t whylen;
    const uint8_t *public_key;
    yw_merkle_frontier f;
    yw_tree_head *heads;
    size_t nheads, cap, next_head;
    yw_buf canonical;
    /* the orgs of the packed row being read: literals without quotes, NUL-separated */
    yw_buf orgs;
    int norgs;
    uint64_t row_first;
    int64_t org_rows_expected;
} verify_ctx;

static int fail(verify_ctx *v, int64_t seq, const char *why)
{
    v->bad_seq = seq;
    snprintf(v->why, v->whylen, "%s", why);
    return YW_EINVAL;
}

static int check_node(void *ctx, int level, uint64_t index, const yw_hash hash)
{
    verify_ctx *v = ctx;
    if (level < YW_AUDIT_STORED_LEVEL)
        return 0; /* not stored: recomputed from the leaves, which are checked one by one */
    yw_hash stored;
    int rc = yw_audit_subtree(v->db, level, index, stored);
    if (rc == YW_ENOTFOUND || (rc == 0 && memcmp(stored, hash, YW_HASH_LEN) != 0)) {
        v->bad_seq = (int64_t)(index << level);
        snprintf(v->why, v->whylen, "the stored hash of entries %llu..%llu (level %d) %s",
                 (unsigned long long)(index << level), (unsigned long long)(((index + 1) << level) - 1), level,
                 rc == YW_ENOTFOUND ? "is missing" : "does not match the entries");
        return YW_EINVAL;
    }
    return rc;
}

static int load_heads(verify_ctx *v)
{
    yw_stmt *s;
    int rc = yw_db_query(v->db, &s, "SELECT tree_size, root, timestamp, signature FROM audit_heads ORDER BY tree_size",
                         "");
    if (rc < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        if (v->nheads == v->cap) {
            v->cap = v->cap ? v->cap * 2 : 256;
            v->heads = realloc(v->heads, v->cap * sizeof *v->heads);
            if (!v->heads)
                abort();
        }
        yw_tree_head *h = &v->heads[v->nheads++];
        size_t lr = 0, ls = 0;
        const void *root = yw_stmt_blob(s, 1, &lr), *sig = yw_stmt_blob(s, 3, &ls);
        memset(h, 0, sizeof *h);
        h->tree_size = (uint64_t)yw_stmt_int(s, 0);
        h->timestamp = yw_stmt_int(s, 2);
        if (lr == YW_HASH_LEN)
            memcpy(h->root, root, YW_HASH_LEN);
        if (ls == 64)
            memcpy(h->signature, sig, 64);
    }
    yw_stmt_release(s);
    return rc;
}

/* One entry, at seq, whose canonical form is in v->canonical: its leaf, the tree, the heads it completes. */
static int check_entry(verify_ctx *v, uint64_t seq, const uint8_t *leaf)
{
    char why[160];
    uint64_t expect = v->f.size;
    if (seq != expect) {
        snprintf(why, sizeof why, seq > expect ? "entry %llu is missing" : "entry %llu is stored twice",
                 (unsigned long long)(seq > expect ? expect : seq));
        return fail(v, (int64_t)(seq > expect ? expect : seq), why);
    }
    yw_hash computed;
    yw_merkle_leaf(v->canonical.data, v->canonical.len, computed);
    if (!leaf || memcmp(computed, leaf, YW_HASH_LEN) != 0) {
        snprintf(why, sizeof why, "entry %llu does not match its leaf hash (altered or moved)", (unsigned long long)seq);
        return fail(v, (int64_t)seq, why);
    }
    v->bad_seq = (int64_t)seq;
    int rc = yw_merkle_frontier_push(&v->f, computed, check_node, v);
    if (rc < 0)
        return rc;
    while (v->next_head < v->nheads && v->heads[v->next_head].tree_size == v->f.size) {
        yw_tree_head *h = &v->heads[v->next_head++];
        yw_hash root;
        yw_merkle_frontier_root(&v->f, root);
        if (memcmp(root, h->root, YW_HASH_LEN) != 0 || !yw_tree_head_verify(h, v->public_key)) {
            /* The first entry the head covers that no earlier head did. */
            snprintf(why, sizeof why, "the signed tree head of size %llu does not match the entries before it",
                     (unsigned long long)h->tree_size);
            return fail(v, v->next_head >= 2 ? (int64_t)v->heads[v->next_head - 2].tree_size : 0, why);
        }
    }
    return 0;
}

/* The org index must list exactly the orgs of the packed row just read (at v->row_first). */
static int check_row_orgs(verify_ctx *v)
{
    if (v->norgs < 0)
        return 0; /* no row read yet */
    yw_stmt *s;
    int rc = yw_db_query(v->db, &s, "SELECT org FROM audit_chunk_orgs WHERE first_seq = $1", "i", (int64_t)v->row_first);
    if (rc < 0)
        return rc;
    int listed = 0;
    bool all_found = true;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        const char *org = yw_stmt_text(s, 0);
        bool found = false;
        for (size_t at = 0; org && at < v->orgs.len && !found; at += strlen(v->orgs.data + at) + 1)
            found = strcmp(v->orgs.data + at, org) == 0;
        all_found &= found;
        listed++;
    }
    yw_stmt_release(s);
    if (rc < 0)
        return rc;
    v->org_rows_expected += v->norgs;
    if (!all_found || listed != v->norgs) {
        char why[160];
        snprintf(why, sizeof why, "the org index does not match the orgs of the entries stored from %llu on",
                 (unsigned long long)v->row_first);
        return fail(v, (int64_t)v->row_first, why);
    }
    return 0;
}

/* Notes the org of an entry of the current row (its value, a JSON string literal or null). */
static void note_org(verify_ctx *v, const yw_audit_values *values)
{
    const char *org = values->at[YW_AUDIT_ACTOR_ORG];
    size_t len = values->len[YW_AUDIT_ACTOR_ORG];
    if (org[0] != '"')
        return;
    org++;
    len -= 2;
    for (size_t at = 0; at < v->orgs.len; at += strlen(v->orgs.data + at) + 1)
        if (strlen(v->orgs.data + at) == len && memcmp(v->orgs.data + at, org, len) == 0)
            return;
    yw_buf_append(&v->orgs, org, len);
    yw_buf_append(&v->orgs, "", 1);
    v->norgs++;
}

static int verify_packed(verify_ctx *v)
{
    yw_audit_scan scan;
    yw_audit_row row;
    int rc = yw_audit_scan_start(&scan, v->db, 0, NULL);
    if (rc < 0)
        return rc;
    v->norgs = -1;
    while ((rc = yw_audit_scan_next(&scan, &row)) == 1) {
        if (row.first_of_chunk) {
            if ((rc = check_row_orgs(v)) < 0)
                break;
            yw_buf_reset(&v->orgs);
            v->norgs = 0;
            v->row_first = row.seq;
        }
        yw_buf_reset(&v->canonical);
        yw_audit_values_canonical(&row.values, row.seq, &v->canonical);
        note_org(v, &row.values);
        if ((rc = check_entry(v, row.seq, row.leaf)) < 0)
            break;
    }
    if (rc == YW_EDB && scan.bad_seq >= 0) {
        char why[200];
        snprintf(why, sizeof why, "entry %lld: %s", (long long)scan.bad_seq, scan.why);
        rc = fail(v, (uint64_t)scan.bad_seq > v->f.size ? (int64_t)v->f.size : scan.bad_seq, why);
    }
    yw_audit_scan_end(&scan);
    return rc < 0 ? rc : check_row_orgs(v);
}

/* Is there a table of that name? 1, 0 or < 0. */
static int table_exists(yw_db *db, const char *name)
{
    int64_t n = 0;
    int rc = yw_db_int(db, &n, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1", "t", name);
    return rc < 0 ? rc : n > 0;
}

/*
 * Entries not yet moved out of the one-row-per-entry table: audit_log_v1
 * once migration 0008 ran, audit_log in a directory no newer binary opened.
 */
static int verify_legacy(verify_ctx *v, bool migrated)
{
    const char *table = migrated ? "audit_log_v1" : "audit_log";
    int rc = table_exists(v->db, table);
    if (rc <= 0)
        return rc;
    yw_stmt *s;
    if ((rc = yw_db_query(v->db, &s,
                          migrated ? "SELECT " YW_AUDIT_LEGACY_COLUMNS " FROM audit_log_v1 ORDER BY seq"
                                   : "SELECT " YW_AUDIT_LEGACY_COLUMNS " FROM audit_log ORDER BY seq",
                          "")) < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        yw_audit_event e;
        uint64_t seq;
        int64_t time_ms;
        yw_audit_legacy_row_read(s, &e, &seq, &time_ms);
        size_t len = 0;
        const uint8_t *leaf = yw_stmt_blob(s, 16, &len);
        yw_buf_reset(&v->canonical);
        yw_audit_entry_write(&e, seq, time_ms, &v->canonical);
        if ((rc = check_entry(v, seq, len == YW_HASH_LEN ? leaf : NULL)) < 0)
            break;
    }
    yw_stmt_release(s);
    return rc < 0 ? rc : 0;
}

/* What must hold once every entry was read: heads, coverage, the subtree and index tables' sizes. */
static int verify_totals(verify_ctx *v, bool migrated)
{
    char why[200];
    uint64_t n = v->f.size;
    if (v->next_head < v->nheads) {
        snprintf(why, sizeof why, "a signed tree head covers %llu entries but only %llu are stored",
                 (unsigned long long)v->heads[v->next_head].tree_size, (unsigned long long)n);
        return fail(v, (int64_t)n, why);
    }
    if (n > 0 && (v->nheads == 0 || v->heads[v->nheads - 1].tree_size < n)) {
        int64_t first = v->nheads ? (int64_t)v->heads[v->nheads - 1].tree_size : 0;
        snprintf(why, sizeof why, "entries from %lld on are covered by no signed tree head", (long long)first);
        return fail(v, first, why);
    }
    int64_t stored_nodes = 0, org_rows = 0;
    uint64_t expected = 0;
    for (int level = YW_AUDIT_STORED_LEVEL; level < 64; level++)
        expected += n >> level;
    /* (a directory no newer binary opened still holds subtrees of levels 4 and 5: they are not read) */
    int rc = yw_db_int(v->db, &stored_nodes, "SELECT count(*) FROM audit_nodes WHERE level >= $1", "i",
                       (int64_t)YW_AUDIT_STORED_LEVEL);
    if (rc >= 0 && migrated)
        rc = yw_db_int(v->db, &org_rows, "SELECT count(*) FROM audit_chunk_orgs", "");
    if (rc < 0)
        return rc;
    if ((uint64_t)stored_nodes != expected) {
        snprintf(why, sizeof why, "the subtree table holds %lld hashes where %llu are expected",
                 (long long)stored_nodes, (unsigned long long)expected);
        return fail(v, -1, why);
    }
    if (org_rows != v->org_rows_expected) {
        snprintf(why, sizeof why, "the org index holds %lld rows where %lld are expected", (long long)org_rows,
                 (long long)v->org_rows_expected);
        return fail(v, -1, why);
    }
    return 0;
}

int yw_audit_verify_db(yw_db *db, const uint8_t public_key[32], int64_t *bad_seq, char *why, size_t whylen,
                       uint64_t *entries_checked)
{
    verify_ctx v = {.db = db, .bad_seq = -1, .why = why, .whylen = whylen, .public_key = public_key};
    snprintf(why, whylen, "intact");
    int rc = load_heads(&v);
    /* Heads of size 0 sign the empty tree. */
    while (rc >= 0 && v.next_head < v.nheads && v.heads[v.next_head].tree_size == 0) {
        yw_hash empty;
        yw_merkle_empty(empty);
        if (memcmp(empty, v.heads[v.next_head].root, YW_HASH_LEN) ||
            !yw_tree_head_verify(&v.heads[v.next_head], public_key))
            rc = fail(&v, -1, "the signed tree head of size 0 is not valid");
        v.next_head++;
    }
    /* Packed rows exist once migration 0008 ran; before, the log is all in the old table. */
    int migrated = rc < 0 ? rc : table_exists(db, "audit_chunks");
    rc = migrated;
    if (migrated > 0)
        rc = verify_packed(&v);
    if (rc >= 0)
        rc = verify_legacy(&v, migrated > 0);
    if (rc >= 0)
        rc = verify_totals(&v, migrated > 0);
    if (rc < 0 && rc != YW_EINVAL) {
        snprintf(why, whylen, "cannot read the audit tables: %s", yw_db_errmsg(db));
        v.bad_seq = -1;
    }
    *entries_checked = v.f.size;
    free(v.heads);
    yw_buf_free(&v.canonical);
    yw_buf_free(&v.orgs);
    *bad_seq = rc < 0 ? v.bad_seq : -1;
    return rc < 0 ? -1 : 0;
}

/*
 * Offline verification of a whole audit log (yiwang audit verify).
 *
 * Recomputes everything from the stored entries alone and compares:
 *   seq runs 0, 1, 2, ... without gaps        (a deleted row)
 *   SHA-256(0x00 || entry) equals the leaf    (an entry altered; rows swapped,
 *                                              since the entry includes its seq)
 *   every stored subtree equals the rebuilt   (a leaf or node altered)
 *   every signed head: root and signature     (anything rewritten consistently)
 *   the last entry is covered by a head       (a forged row appended)
 * and names the first seq where they disagree.
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
    uint64_t nodes_seen;
} verify_ctx;

static int check_node(void *ctx, int level, uint64_t index, const yw_hash hash)
{
    verify_ctx *v = ctx;
    if (level < YW_AUDIT_STORED_LEVEL)
        return 0; /* not stored: recomputed from the leaves, which are checked one by one */
    yw_hash stored;
    int rc = yw_audit_subtree(v->db, level, index, stored);
    v->nodes_seen++;
    if (rc == YW_ENOTFOUND || (rc == 0 && memcmp(stored, hash, YW_HASH_LEN) != 0)) {
        v->bad_seq = (int64_t)(index << level);
        snprintf(v->why, v->whylen, "the stored hash of entries %llu..%llu (level %d) %s",
                 (unsigned long long)(index << level), (unsigned long long)(((index + 1) << level) - 1), level,
                 rc == YW_ENOTFOUND ? "is missing" : "does not match the entries");
        return YW_EINVAL;
    }
    return rc;
}

typedef struct {
    yw_tree_head *heads;
    size_t n, cap;
} head_list;

static int load_heads(yw_db *db, head_list *hl)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT tree_size, root, timestamp, signature FROM audit_heads ORDER BY tree_size", "");
    if (rc < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        if (hl->n == hl->cap) {
            hl->cap = hl->cap ? hl->cap * 2 : 256;
            hl->heads = realloc(hl->heads, hl->cap * sizeof *hl->heads);
            if (!hl->heads)
                abort();
        }
        yw_tree_head *h = &hl->heads[hl->n++];
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

int yw_audit_verify_db(yw_db *db, const uint8_t public_key[32], int64_t *bad_seq, char *why, size_t whylen,
                       uint64_t *entries_checked)
{
    verify_ctx v = {.db = db, .bad_seq = -1, .why = why, .whylen = whylen};
    head_list hl = {0};
    yw_merkle_frontier f = {0};
    yw_buf entry = YW_BUF_INIT;
    size_t next_head = 0;
    *entries_checked = 0;
    snprintf(why, whylen, "intact");
    int rc = load_heads(db, &hl);
    yw_stmt *s = NULL;
    if (rc >= 0)
        rc = yw_db_query(db, &s, "SELECT " YW_AUDIT_COLUMNS " FROM audit_log ORDER BY seq", "");
    if (rc < 0) {
        snprintf(why, whylen, "cannot read the audit tables: %s", yw_db_errmsg(db));
        goto done;
    }
    /* Heads of size 0 sign the empty tree. */
    while (next_head < hl.n && hl.heads[next_head].tree_size == 0) {
        yw_hash empty;
        yw_merkle_empty(empty);
        if (memcmp(empty, hl.heads[next_head].root, YW_HASH_LEN) || !yw_tree_head_verify(&hl.heads[next_head], public_key)) {
            snprintf(why, whylen, "the signed tree head of size 0 is not valid");
            rc = YW_EINVAL;
            goto done;
        }
        next_head++;
    }
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        uint64_t expect = f.size;
        yw_audit_event e;
        uint64_t seq;
        int64_t time_ms;
        yw_audit_row_read(s, &e, &seq, &time_ms, &entry);
        size_t leaf_len = 0;
        const void *leaf = yw_stmt_blob(s, 16, &leaf_len);
        v.bad_seq = (int64_t)expect;
        if (seq != expect) {
            snprintf(why, whylen, "entry %llu is missing", (unsigned long long)expect);
            rc = YW_EINVAL;
            break;
        }
        yw_hash computed;
        yw_merkle_leaf(entry.data, entry.len, computed);
        if (leaf_len != YW_HASH_LEN || memcmp(computed, leaf, YW_HASH_LEN) != 0) {
            snprintf(why, whylen, "entry %llu does not match its leaf hash (altered or moved)", (unsigned long long)seq);
            rc = YW_EINVAL;
            break;
        }
        if ((rc = yw_merkle_frontier_push(&f, computed, check_node, &v)) < 0)
            break;
        (*entries_checked)++;
        while (next_head < hl.n && hl.heads[next_head].tree_size == f.size) {
            yw_tree_head *h = &hl.heads[next_head++];
            yw_hash root;
            yw_merkle_frontier_root(&f, root);
            if (memcmp(root, h->root, YW_HASH_LEN) != 0 || !yw_tree_head_verify(h, public_key)) {
                /* The first entry the head covers that no earlier head did. */
                v.bad_seq = next_head >= 2 ? (int64_t)hl.heads[next_head - 2].tree_size : 0;
                snprintf(why, whylen, "the signed tree head of size %llu does not match the entries before it",
                         (unsigned long long)h->tree_size);
                rc = YW_EINVAL;
                goto done;
            }
        }
    }
    if (rc < 0)
        goto done;
    rc = 0;
    if (next_head < hl.n) {
        v.bad_seq = (int64_t)f.size;
        snprintf(why, whylen, "a signed tree head covers %llu entries but only %llu are stored",
                 (unsigned long long)hl.heads[next_head].tree_size, (unsigned long long)f.size);
        rc = YW_EINVAL;
    } else if (f.size > 0 && (hl.n == 0 || hl.heads[hl.n - 1].tree_size < f.size)) {
        v.bad_seq = hl.n ? (int64_t)hl.heads[hl.n - 1].tree_size : 0;
        snprintf(why, whylen, "entries from %lld on are covered by no signed tree head", (long long)v.bad_seq);
        rc = YW_EINVAL;
    } else {
        int64_t stored_nodes = 0;
        uint64_t expected = 0;
        for (int level = YW_AUDIT_STORED_LEVEL; level < 64; level++)
            expected += f.size >> level;
        if (yw_db_int(db, &stored_nodes, "SELECT count(*) FROM audit_nodes", "") < 0 ||
            (uint64_t)stored_nodes != expected) {
            v.bad_seq = -1;
            snprintf(why, whylen, "the subtree table holds %lld hashes where %llu are expected", (long long)stored_nodes,
                     (unsigned long long)expected);
            rc = YW_EINVAL;
        }
    }
done:
    yw_stmt_release(s);
    free(hl.heads);
    yw_buf_free(&entry);
    *bad_seq = rc < 0 ? v.bad_seq : -1;
    return rc < 0 ? -1 : 0;
}

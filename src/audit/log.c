/* The audit trail's Merkle log (see log.h). */
#include "audit/log.h"

#include "core/error.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries appended in the current batch, written just before it commits. */
typedef struct {
    uint64_t first_seq;
    size_t count, cap;
    yw_buf stored;   /* their stored forms, one after another */
    size_t *ends;    /* where each one ends in stored */
    yw_hash *leaves;
    int *org;        /* index in the org table, or -1 */
} pending_entries;

/* Where a rollback of the running job returns to: the state before its first append. */
typedef struct {
    bool taken;
    size_t count, bytes;
    yw_merkle_frontier frontier;
} job_mark;

struct yw_audit {
    yw_store *store;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    /* writer thread only */
    yw_merkle_frontier frontier;
    uint64_t signed_size;
    yw_buf canonical; /* the entry being appended */
    yw_buf row;       /* the row being written */
    pending_entries pending;
    job_mark mark;
    struct {          /* org codes seen lately, as JSON string literals without quotes */
        char **code, **literal;
        int count, cap, last;
    } orgs;
    /* any thread */
    _Atomic uint64_t size;
    /* subtrees of level >= YW_AUDIT_CACHE_LEVEL seen so far, per level; any thread */
    pthread_rwlock_t cache_lock;
    struct {
        yw_hash *hash;
        uint8_t *present;
        uint64_t cap;
    } cache[64];
    pthread_t signer;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
};

static const char head_context[20] = "yiwang-tree-head-v1";

/* ---- encoding helpers ---- */

json_t *yw_b64_json(const uint8_t *data, size_t n)
{
    char out[sodium_base64_ENCODED_LEN(128, sodium_base64_VARIANT_ORIGINAL)];
    if (n > 128)
        return json_null();
    sodium_bin2base64(out, sizeof out, data, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string(out);
}

json_t *yw_hashes_json(const yw_hash *h, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, yw_b64_json(h[i], YW_HASH_LEN));
    return a;
}

json_t *yw_audit_inclusion_json(yw_audit *a, yw_db *db, uint64_t seq, const char *entry, const yw_hash leaf,
                                const yw_tree_head *h, int *rc)
{
    yw_hash path[YW_MERKLE_MAX_PROOF];
    int n = yw_merkle_inclusion(yw_audit_subtree_cached, &(yw_audit_reader){a, db}, seq, h->tree_size, path);
    if (n < 0) {
        *rc = n;
        return NULL;
    }
    return json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:o}", "kind", "inclusion", "seq", (json_int_t)seq, "tree_size",
                     (json_int_t)h->tree_size, "entry", entry, "leaf_hash", yw_b64_json(leaf, YW_HASH_LEN),
                     "audit_path", yw_hashes_json(path, n), "tree_head", yw_tree_head_json(h));
}

int yw_b64_parse(const json_t *v, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    size_t len = 0;
    if (!s || sodium_base642bin(out, n, s, strlen(s), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return len == n ? 0 : -1;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

size_t yw_tree_head_message(const yw_tree_head *h, uint8_t out[80])
{
    memcpy(out, head_context, sizeof head_context);
    put_be64(out + 20, h->tree_size);
    put_be64(out + 28, (uint64_t)h->timestamp);
    memcpy(out + 36, h->root, YW_HASH_LEN);
    return 36 + YW_HASH_LEN;
}

bool yw_tree_head_verify(const yw_tree_head *h, const uint8_t public_key[32])
{
    uint8_t msg[80];
    size_t n = yw_tree_head_message(h, msg);
    return crypto_sign_verify_detached(h->signature, msg, n, public_key) == 0;
}

void yw_audit_sign(const yw_audit *a, uint64_t n, const yw_hash root, yw_tree_head *out)
{
    out->tree_size = n;
    memcpy(out->root, root, YW_HASH_LEN);
    out->timestamp = yw_now_ms();
    uint8_t msg[80];
    size_t len = yw_tree_head_message(out, msg);
    crypto_sign_detached(out->signature, NULL, msg, len, a->sk);
}

json_t *yw_tree_head_json(const yw_tree_head *h)
{
    return json_pack("{s:I, s:o, s:o, s:I, s:o}", "tree_size", (json_int_t)h->tree_size, "root_hash",
                     yw_b64_json(h->root, YW_HASH_LEN), "timestamp", yw_json_time(h->timestamp),
                     "timestamp_ms", (json_int_t)h->timestamp, "signature", yw_b64_json(h->signature, 64));
}

int yw_tree_head_parse(const json_t *v, yw_tree_head *out)
{
    json_t *size = json_object_get(v, "tree_size"), *ts = json_object_get(v, "timestamp_ms");
    if (!json_is_integer(size) || json_integer_value(size) < 0 || !json_is_integer(ts) ||
        yw_b64_parse(json_object_get(v, "root_hash"), out->root, YW_HASH_LEN) < 0 ||
        yw_b64_parse(json_object_get(v, "signature"), out->signature, 64) < 0)
        return -1;
    out->tree_size = (uint64_t)json_integer_value(size);
    out->timestamp = json_integer_value(ts);
    return 0;
}

/* ---- keys ---- */

static int key_path(const char *dir, char *out, size_t len)
{
    return snprintf(out, len, "%s/%s", dir, YW_AUDIT_KEY_FILE) < (int)len ? 0 : -1;
}

static int load_or_create_key(yw_audit *a, const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if (key_path(dir, path, sizeof path) < 0) {
        snprintf(err, errlen, "data directory path too long");
        return -1;
    }
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, a->sk, sizeof a->sk);
        close(fd);
        if (n != (ssize_t)sizeof a->sk) {
            snprintf(err, errlen, "%s is not an Ed25519 secret key", path);
            return -1;
        }
        crypto_sign_ed25519_sk_to_pk(a->pk, a->sk);
        return 0;
    }
    crypto_sign_keypair(a->pk, a->sk);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, a->sk, sizeof a->sk) != (ssize_t)sizeof a->sk || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int yw_audit_load_public_key(const char *data_dir, uint8_t out[32])
{
    char path[4096];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    if (key_path(data_dir, path, sizeof path) < 0)
        return -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, sk, sizeof sk);
    close(fd);
    if (n != (ssize_t)sizeof sk)
        return -1;
    crypto_sign_ed25519_sk_to_pk(out, sk);
    sodium_memzero(sk, sizeof sk);
    return 0;
}

const uint8_t *yw_audit_public_key(const yw_audit *a)
{
    return a->pk;
}

uint64_t yw_audit_size(const yw_audit *a)
{
    return atomic_load(&a->size);
}

/* ---- reading stored entries ---- */

/* Where a scan from seq starts: the row holding seq (the last row when seq is past the end). */
static const char *const chunk_at_sql =
    "SELECT coalesce(max(first_seq), 0) FROM audit_chunks WHERE first_seq <= $1";

int yw_audit_stored_size(yw_db *db, uint64_t *out)
{
    int64_t n = 0;
    int rc = yw_db_int(db, &n,
                       "SELECT coalesce(max(first_seq + length(leaves) / 32), 0) FROM"
                       " (SELECT first_seq, leaves FROM audit_chunks ORDER BY first_seq DESC LIMIT 1)",
                       "");
    *out = (uint64_t)n;
    return rc < 0 ? rc : 0;
}

int yw_audit_scan_start(yw_audit_scan *s, yw_db *db, uint64_t from, const char *org_literal)
{
    memset(s, 0, sizeof *s);
    s->from = from;
    s->bad_seq = -1;
    int64_t start = 0;
    int rc = yw_db_int(db, &start, chunk_at_sql, "i", (int64_t)from);
    if (rc < 0)
        return rc;
    if (!org_literal)
        return yw_db_query(db, &s->stmt,
                           "SELECT first_seq, leaves, entries FROM audit_chunks WHERE first_seq >= $1 ORDER BY first_seq",
                           "i", start);
    size_t len = strlen(org_literal);
    char org[512];
    if (len < 2 || len - 2 >= sizeof org)
        return 0; /* longer than any org code: no row is listed for it, the scan is empty */
    memcpy(org, org_literal + 1, len - 2); /* the index holds the literal without its quotes */
    org[len - 2] = '\0';
    return yw_db_query(db, &s->stmt,
                       "SELECT c.first_seq, c.leaves, c.entries FROM audit_chunk_orgs o"
                       " JOIN audit_chunks c ON c.first_seq = o.first_seq"
                       " WHERE o.org = $1 AND o.first_seq >= $2 ORDER BY o.first_seq",
                       "ti", org, start);
}

/* A malformed row: the scan ends here. */
static int scan_bad(yw_audit_scan *s, uint64_t seq, const char *why)
{
    s->bad_seq = (int64_t)seq;
    snprintf(s->why, sizeof s->why, "%s", why);
    return YW_EDB;
}

int yw_audit_scan_next(yw_audit_scan *s, yw_audit_row *row)
{
    for (;;) {
        if (s->text && s->index < s->nleaves) {
            uint64_t seq = s->first_seq + s->index;
            if (s->index > 0) {
                if (s->text >= s->end || *s->text != ',')
                    return scan_bad(s, seq, "its row holds fewer entries than leaf hashes");
                s->text++;
            }
            long n = yw_audit_values_parse(s->text, (size_t)(s->end - s->text), &row->values);
            if (n < 0)
                return scan_bad(s, seq, "it cannot be read");
            s->text += n;
            row->seq = seq;
            row->leaf = s->leaves + YW_HASH_LEN * s->index;
            row->first_of_chunk = s->index == 0;
            s->index++;
            if (seq < s->from)
                continue;
            return 1;
        }
        if (s->text && (s->text + 1 != s->end || *s->text != ']'))
            return scan_bad(s, s->first_seq + s->nleaves, "its row holds more entries than leaf hashes");
        s->text = NULL;
        int rc = s->stmt ? yw_stmt_step(s->stmt) : YW_DB_DONE;
        if (rc != YW_DB_ROW)
            return rc < 0 ? rc : 0;
        size_t leaves_len = 0;
        s->first_seq = (uint64_t)yw_stmt_int(s->stmt, 0);
        s->leaves = yw_stmt_blob(s->stmt, 1, &leaves_len);
        const char *text = yw_stmt_text(s->stmt, 2);
        if (!text || leaves_len == 0 || leaves_len % YW_HASH_LEN != 0 || text[0] != '[')
            return scan_bad(s, s->first_seq, "its row is malformed");
        s->nleaves = leaves_len / YW_HASH_LEN;
        s->index = 0;
        s->text = text + 1;
        s->end = text + strlen(text);
    }
}

void yw_audit_scan_end(yw_audit_scan *s)
{
    yw_stmt_release(s->stmt);
    s->stmt = NULL;
}

int yw_audit_entry_at(yw_db *db, uint64_t seq, yw_buf *text, yw_hash leaf, yw_buf *org)
{
    yw_audit_scan scan;
    yw_audit_row row;
    int rc = yw_audit_scan_start(&scan, db, seq, NULL);
    if (rc >= 0)
        rc = yw_audit_scan_next(&scan, &row);
    if (rc == 1 && row.seq != seq)
        rc = 0;
    if (rc == 1) {
        yw_audit_values_canonical(&row.values, row.seq, text);
        memcpy(leaf, row.leaf, YW_HASH_LEN);
        /* the org is stored as a JSON literal; the platform's own entries have none (null) */
        const char *lit = row.values.at[YW_AUDIT_ACTOR_ORG];
        if (org && lit[0] == '"') {
            json_t *v = json_loadb(lit, row.values.len[YW_AUDIT_ACTOR_ORG], JSON_DECODE_ANY, NULL);
            if (json_is_string(v))
                yw_buf_puts(org, json_string_value(v));
            json_decref(v);
        }
    }
    yw_audit_scan_end(&scan);
    return rc;
}

/* ---- stored subtrees ---- */

/* Leaf hashes of entries [first, first + count), read from the rows that hold them. */
static int read_leaves(yw_db *db, uint64_t first, uint64_t count, yw_hash *out)
{
    int64_t start = 0;
    int rc = yw_db_int(db, &start, chunk_at_sql, "i", (int64_t)first);
    if (rc < 0)
        return rc;
    yw_stmt *s;
    rc = yw_db_query(db, &s,
                     "SELECT first_seq, leaves FROM audit_chunks WHERE first_seq >= $1 AND first_seq < $2"
                     " ORDER BY first_seq",
                     "ii", start, (int64_t)(first + count));
    if (rc < 0)
        return rc;
    uint64_t got = 0;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        size_t len = 0;
        uint64_t row_first = (uint64_t)yw_stmt_int(s, 0);
        const uint8_t *leaves = yw_stmt_blob(s, 1, &len);
        uint64_t n = len / YW_HASH_LEN;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t seq = row_first + i;
            if (got < count && seq == first + got)
                memcpy(out[got++], leaves + YW_HASH_LEN * i, YW_HASH_LEN);
        }
    }
    yw_stmt_release(s);
    if (rc < 0)
        return rc;
    return got == count ? 0 : YW_ENOTFOUND;
}

int yw_audit_subtree(void *ctx, int level, uint64_t index, yw_hash out)
{
    yw_db *db = ctx;
    if (level < YW_AUDIT_STORED_LEVEL) {
        /* Hashed again from its leaves, read from one or two rows. */
        yw_hash leaves[1 << YW_AUDIT_STORED_LEVEL];
        uint64_t count = (uint64_t)1 << level;
        int rc = read_leaves(db, index << level, count, leaves);
        if (rc < 0)
            return rc;
        for (; count > 1; count /= 2)
            for (uint64_t i = 0; i < count / 2; i++)
                yw_merkle_node(leaves[2 * i], leaves[2 * i + 1], leaves[i]);
        memcpy(out, leaves[0], YW_HASH_LEN);
        return 0;
    }
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2", "ii", (int64_t)level,
                         (int64_t)index);
    if (rc < 0)
        return rc;
    rc = yw_stmt_step(s);
    size_t len = 0;
    const void *p = rc == YW_DB_ROW ? yw_stmt_blob(s, 0, &len) : NULL;
    if (p && len == YW_HASH_LEN)
        memcpy(out, p, YW_HASH_LEN);
    yw_stmt_release(s);
    if (rc < 0)
        return rc;
    return p && len == YW_HASH_LEN ? 0 : YW_ENOTFOUND;
}

/* Stores hash as subtree (level, index) in the cache. */
static void cache_put(yw_audit *a, int level, uint64_t index, const yw_hash hash)
{
    pthread_rwlock_wrlock(&a->cache_lock);
    if (index >= a->cache[level].cap) {
        uint64_t cap = a->cache[level].cap ? a->cache[level].cap : 1024;
        while (cap <= index)
            cap *= 2;
        yw_hash *h = realloc(a->cache[level].hash, cap * sizeof *h);
        uint8_t *p = h ? realloc(a->cache[level].present, cap) : NULL;
        if (!h || !p)
            abort();
        memset(p + a->cache[level].cap, 0, cap - a->cache[level].cap);
        a->cache[level].hash = h;
        a->cache[level].present = p;
        a->cache[level].cap = cap;
    }
    memcpy(a->cache[level].hash[index], hash, YW_HASH_LEN);
    a->cache[level].present[index] = 1;
    pthread_rwlock_unlock(&a->cache_lock);
}

/* Forgets cached subtrees that reach beyond a tree of size n (after a rollback). */
static void cache_trim(yw_audit *a, uint64_t n)
{
    pthread_rwlock_wrlock(&a->cache_lock);
    for (int level = YW_AUDIT_CACHE_LEVEL; level < 64; level++)
        for (uint64_t i = n >> level; i < a->cache[level].cap; i++)
            a->cache[level].present[i] = 0;
    pthread_rwlock_unlock(&a->cache_lock);
}

/* The subtree (level < YW_AUDIT_STORED_LEVEL, index) from r's block, read and hashed up when another; 0 or < 0. */
static int subtree_from_block(yw_audit_reader *r, int level, uint64_t index, yw_hash out)
{
    enum { SIZE = 1 << YW_AUDIT_STORED_LEVEL };
    uint64_t block = (index << level) / SIZE;
    if (!r->have_block || r->block != block) {
        r->have_block = false;
        int rc = read_leaves(r->db, block * SIZE, SIZE, r->block_levels[0]);
        if (rc < 0)
            return rc; /* the log's last block, not complete yet: not kept */
        for (int l = 1; l < YW_AUDIT_STORED_LEVEL; l++)
            for (int i = 0; i < SIZE >> l; i++)
                yw_merkle_node(r->block_levels[l - 1][2 * i], r->block_levels[l - 1][2 * i + 1], r->block_levels[l][i]);
        r->have_block = true;
        r->block = block;
    }
    memcpy(out, r->block_levels[level][index - block * (SIZE >> level)], YW_HASH_LEN);
    return 0;
}

int yw_audit_subtree_cached(void *ctx, int level, uint64_t index, yw_hash out)
{
    yw_audit_reader *r = ctx;
    yw_audit *a = r->audit;
    if (level < YW_AUDIT_STORED_LEVEL && subtree_from_block(r, level, index, out) == 0)
        return 0;
    if (level >= YW_AUDIT_CACHE_LEVEL && level < 64) {
        bool hit = false;
        pthread_rwlock_rdlock(&a->cache_lock);
        if (index < a->cache[level].cap && a->cache[level].present[index]) {
            memcpy(out, a->cache[level].hash[index], YW_HASH_LEN);
            hit = true;
        }
        pthread_rwlock_unlock(&a->cache_lock);
        if (hit)
            return 0;
    }
    return yw_audit_subtree(r->db, level, index, out);
}

static void free_cache(yw_audit *a)
{
    for (int i = 0; i < 64; i++) {
        free(a->cache[i].hash);
        free(a->cache[i].present);
    }
    pthread_rwlock_destroy(&a->cache_lock);
}

/* Loads every stored subtree the cache keeps. Writer thread, at open. */
static int cache_load(yw_audit *a, yw_db *db)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT level, idx, hash FROM audit_nodes WHERE level >= $1", "i",
                         (int64_t)YW_AUDIT_CACHE_LEVEL);
    if (rc < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        size_t len = 0;
        const void *h = yw_stmt_blob(s, 2, &len);
        int64_t level = yw_stmt_int(s, 0), idx = yw_stmt_int(s, 1);
        if (len == YW_HASH_LEN && level < 64 && idx >= 0)
            cache_put(a, (int)level, (uint64_t)idx, h);
    }
    yw_stmt_release(s);
    return rc < 0 ? rc : 0;
}

/* Forgets the entries of the batch not yet written. Writer thread. */
static void pending_clear(yw_audit *a)
{
    a->pending.count = 0;
    yw_buf_reset(&a->pending.stored);
}

/* Rebuilds the frontier for the entries db holds. Writer thread. */
static int load_frontier(yw_audit *a, yw_db *db)
{
    uint64_t n = 0;
    int64_t signed_size = 0;
    int rc = yw_audit_stored_size(db, &n);
    if (rc >= 0)
        rc = yw_db_int(db, &signed_size, "SELECT coalesce(max(tree_size), 0) FROM audit_heads", "");
    if (rc < 0)
        return rc;
    yw_merkle_frontier f = {.size = n};
    uint64_t pos = 0;
    for (int level = 63; level >= 0; level--) {
        if (!(n & ((uint64_t)1 << level)))
            continue;
        if ((rc = yw_audit_subtree(db, level, pos >> level, f.hash[f.count])) < 0)
            return rc;
        f.level[f.count++] = level;
        pos += (uint64_t)1 << level;
    }
    pending_clear(a);
    a->frontier = f;
    a->signed_size = (uint64_t)signed_size;
    atomic_store(&a->size, n);
    return 0;
}

/* Writer participant: a job starts; the mark is taken at its first append. */
static void job_starting(void *ctx)
{
    yw_audit *a = ctx;
    a->mark.taken = false;
}

/*
 * Writer participant: one job rolled back (drop what it appended), or the
 * whole transaction (drop the batch: reload from what the database holds).
 */
static void rolled_back(void *ctx, yw_db *db)
{
    yw_audit *a = ctx;
    if (yw_db_in_transaction(db)) {
        if (!a->mark.taken)
            return;
        a->pending.count = a->mark.count;
        a->pending.stored.len = a->mark.bytes;
        if (a->pending.stored.data)
            a->pending.stored.data[a->pending.stored.len] = '\0';
        a->frontier = a->mark.frontier;
        a->mark.taken = false;
        atomic_store(&a->size, a->frontier.size);
        cache_trim(a, a->frontier.size);
        return;
    }
    a->mark.taken = false;
    int rc = load_frontier(a, db);
    cache_trim(a, a->frontier.size);
    if (rc < 0)
        yw_logf(YW_LOG_ERROR, "audit: cannot reload the Merkle frontier after a rollback: %s", yw_db_errmsg(db));
}

/* The org table's index of code (NULL: -1), adding it when new. */
static int org_index(yw_audit *a, const char *code)
{
    if (!code)
        return -1;
    if (a->orgs.last >= 0 && a->orgs.last < a->orgs.count && strcmp(a->orgs.code[a->orgs.last], code) == 0)
        return a->orgs.last;
    for (int i = 0; i < a->orgs.count; i++)
        if (strcmp(a->orgs.code[i], code) == 0)
            return a->orgs.last = i;
    if (a->orgs.count == a->orgs.cap) {
        int cap = a->orgs.cap ? a->orgs.cap * 2 : 16;
        char **c = realloc(a->orgs.code, (size_t)cap * sizeof *c);
        char **l = c ? realloc(a->orgs.literal, (size_t)cap * sizeof *l) : NULL;
        if (!c || !l)
            abort();
        a->orgs.code = c;
        a->orgs.literal = l;
        a->orgs.cap = cap;
    }
    yw_buf lit = YW_BUF_INIT;
    yw_audit_json_string(code, &lit);
    lit.data[lit.len - 1] = '\0'; /* without the quotes, as the index holds it */
    a->orgs.literal[a->orgs.count] = strdup(lit.data + 1);
    a->orgs.code[a->orgs.count] = strdup(code);
    yw_buf_free(&lit);
    if (!a->orgs.literal[a->orgs.count] || !a->orgs.code[a->orgs.count])
        abort();
    return a->orgs.last = a->orgs.count++;
}

/* Forgets the org table between batches once it grows large; the pending entries must be written. */
static void orgs_trim(yw_audit *a)
{
    if (a->orgs.count < 4096)
        return;
    for (int i = 0; i < a->orgs.count; i++) {
        free(a->orgs.code[i]);
        free(a->orgs.literal[i]);
    }
    a->orgs.count = 0;
    a->orgs.last = -1;
}

/* Adds one entry to the batch: its stored form is the last bytes of pending.stored. */
static void pending_add(yw_audit *a, uint64_t seq, const yw_hash leaf, int org)
{
    pending_entries *p = &a->pending;
    if (p->count == 0)
        p->first_seq = seq;
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        size_t *ends = realloc(p->ends, cap * sizeof *ends);
        yw_hash *leaves = ends ? realloc(p->leaves, cap * sizeof *leaves) : NULL;
        int *orgs = leaves ? realloc(p->org, cap * sizeof *orgs) : NULL;
        if (!ends || !leaves || !orgs)
            abort();
        p->ends = ends;
        p->leaves = leaves;
        p->org = orgs;
        p->cap = cap;
    }
    p->ends[p->count] = p->stored.len;
    memcpy(p->leaves[p->count], leaf, YW_HASH_LEN);
    p->org[p->count] = org;
    p->count++;
}

/*
 * Writes the batch's entries as rows of up to YW_AUDIT_CHUNK_MAX, with the
 * org index rows; the writer calls it just before COMMIT. Writer thread.
 */
static int pending_write(yw_audit *a, yw_db *db)
{
    pending_entries *p = &a->pending;
    int rc = 0;
    for (size_t first = 0; first < p->count && rc >= 0; first += YW_AUDIT_CHUNK_MAX) {
        size_t n = p->count - first < YW_AUDIT_CHUNK_MAX ? p->count - first : YW_AUDIT_CHUNK_MAX;
        int64_t first_seq = (int64_t)(p->first_seq + first);
        yw_buf_reset(&a->row);
        yw_buf_append(&a->row, "[", 1);
        for (size_t i = first; i < first + n; i++) {
            size_t start = i ? p->ends[i - 1] : 0;
            if (i > first)
                yw_buf_append(&a->row, ",", 1);
            yw_buf_append(&a->row, p->stored.data + start, p->ends[i] - start);
        }
        yw_buf_append(&a->row, "]", 1);
        rc = yw_db_run(db, "INSERT INTO audit_chunks(first_seq, leaves, entries) VALUES ($1, $2, $3)", "ibt",
                       first_seq, (const void *)p->leaves[first], n * YW_HASH_LEN, a->row.data);
        /* One index row per org of the row: entries of an org come in runs, so compare with those before. */
        for (size_t i = first; i < first + n && rc >= 0; i++) {
            bool seen = p->org[i] < 0;
            for (size_t j = first; j < i && !seen; j++)
                seen = p->org[j] == p->org[i];
            if (!seen)
                rc = yw_db_run(db, "INSERT INTO audit_chunk_orgs(org, first_seq) VALUES ($1, $2)", "ti",
                               a->orgs.literal[p->org[i]], first_seq);
        }
    }
    if (rc < 0)
        return rc;
    pending_clear(a);
    orgs_trim(a);
    return 0;
}

/* Writer participant: the batch is about to commit. */
static int before_commit(void *ctx, yw_db *db)
{
    return pending_write(ctx, db);
}

typedef struct {
    yw_audit *audit;
    yw_db *db;
} emit_ctx;

static int store_node(void *ctx, int level, uint64_t index, const yw_hash hash)
{
    emit_ctx *e = ctx;
    if (level < YW_AUDIT_STORED_LEVEL)
        return 0; /* cheaper to hash again from the leaves than to store */
    int rc = yw_db_run(e->db, "INSERT INTO audit_nodes(level, idx, hash) VALUES ($1, $2, $3)", "iib", (int64_t)level,
                       (int64_t)index, (const void *)hash, (size_t)YW_HASH_LEN);
    if (rc >= 0 && level >= YW_AUDIT_CACHE_LEVEL)
        cache_put(e->audit, level, index, hash); /* trimmed again if the transaction rolls back */
    return rc < 0 ? rc : 0;
}

int64_t yw_audit_append(yw_audit *a, yw_db *db, const yw_audit_event *e)
{
    if (!a->mark.taken) {
        a->mark = (job_mark){.taken = true, .count = a->pending.count, .bytes = a->pending.stored.len,
                             .frontier = a->frontier};
    }
    uint64_t seq = a->frontier.size;
    yw_buf_reset(&a->canonical);
    yw_audit_entry_encode(e, seq, yw_now_ms(), &a->canonical, &a->pending.stored);
    yw_hash leaf;
    yw_merkle_leaf(a->canonical.data, a->canonical.len, leaf);
    pending_add(a, seq, leaf, org_index(a, e->actor_org));
    emit_ctx ec = {a, db};
    int rc = yw_merkle_frontier_push(&a->frontier, leaf, store_node, &ec);
    if (rc < 0)
        return rc; /* the job fails: its rollback drops the entry */
    atomic_store(&a->size, a->frontier.size);
    return (int64_t)seq;
}

int64_t yw_audit_system(yw_audit *a, yw_db *db, const char *actor, const char *action, const char *object_type,
                        const char *object_id)
{
    yw_buf ids = YW_BUF_INIT;
    yw_buf_append(&ids, "[", 1);
    yw_audit_json_string(object_id, &ids);
    yw_buf_append(&ids, "]", 1);
    yw_audit_event e = {.actor = actor, .actor_kind = "system", .action = action, .object_type = object_type,
                        .object_ids = ids.data, .status = 200};
    int64_t seq = yw_audit_append(a, db, &e);
    yw_buf_free(&ids);
    return seq;
}

/* ---- entries stored before the packed rows ---- */

/*
 * Data directories of before migration 0008 hold one row per entry in
 * audit_log_v1 (the migration renamed it). Each step moves up to 65,536 of
 * them, oldest first, into packed rows (with their stored leaf hashes as
 * they are, so verification still sees any tampering) and deletes them; the
 * table is dropped once empty. One transaction per step, so a crash in the
 * middle loses nothing and the next start goes on.
 */
typedef struct {
    yw_audit *audit;
    bool done;
} legacy_step;

static int legacy_convert_job(yw_db *db, void *arg)
{
    legacy_step *step = arg;
    yw_audit *a = step->audit;
    int64_t exists = 0;
    int rc = yw_db_int(db, &exists, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_log_v1'",
                       "");
    if (rc < 0 || !exists) {
        step->done = true;
        return rc < 0 ? rc : 0;
    }
    uint64_t next = 0;
    if ((rc = yw_audit_stored_size(db, &next)) < 0)
        return rc;
    yw_stmt *s;
    rc = yw_db_query(db, &s, "SELECT " YW_AUDIT_LEGACY_COLUMNS " FROM audit_log_v1 ORDER BY seq LIMIT 65536", "");
    if (rc < 0)
        return rc;
    int64_t last = -1;
    pending_clear(a);
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        yw_audit_event e;
        uint64_t seq;
        int64_t time_ms;
        yw_audit_legacy_row_read(s, &e, &seq, &time_ms);
        size_t len = 0;
        const void *stored_leaf = yw_stmt_blob(s, 16, &len);
        yw_hash leaf = {0};
        if (stored_leaf && len == YW_HASH_LEN)
            memcpy(leaf, stored_leaf, YW_HASH_LEN);
        /* The entry at the next position: a gap or a duplicate in the old rows shows as a bad leaf there. */
        yw_buf_reset(&a->canonical);
        yw_audit_entry_encode(&e, next + a->pending.count, time_ms, &a->canonical, &a->pending.stored);
        pending_add(a, next + a->pending.count, leaf, org_index(a, e.actor_org));
        last = (int64_t)seq;
    }
    yw_stmt_release(s);
    if (rc < 0)
        return rc;
    if (last < 0) {
        step->done = true;
        return yw_db_exec(db, "DROP TABLE audit_log_v1");
    }
    if ((rc = pending_write(a, db)) < 0)
        return rc;
    rc = yw_db_run(db, "DELETE FROM audit_log_v1 WHERE seq <= $1", "i", last);
    return rc < 0 ? rc : 0;
}

/* ---- signing ---- */

/* Signs and stores the head of n entries with root. */
static int store_head(const yw_audit *a, yw_db *db, uint64_t n, const yw_hash root)
{
    yw_tree_head h;
    yw_audit_sign(a, n, root, &h);
    int rc = yw_db_run(db, "INSERT INTO audit_heads(tree_size, root, timestamp, signature) VALUES ($1, $2, $3, $4)"
                           " ON CONFLICT(tree_size) DO NOTHING",
                       "ibib", (int64_t)h.tree_size, (const void *)h.root, (size_t)YW_HASH_LEN, h.timestamp,
                       (const void *)h.signature, (size_t)64);
    return rc < 0 ? rc : 0;
}

static int sign_job(yw_db *db, void *arg)
{
    yw_audit *a = arg;
    if (a->frontier.size == a->signed_size)
        return 0;
    yw_hash root;
    yw_merkle_frontier_root(&a->frontier, root);
    int rc = store_head(a, db, a->frontier.size, root);
    if (rc < 0)
        return rc;
    a->signed_size = a->frontier.size;
    return 0;
}

int yw_audit_cover_stored(const yw_audit *a, yw_db *db)
{
    uint64_t n;
    yw_tree_head last;
    int rc = yw_audit_stored_size(db, &n);
    if (rc >= 0)
        rc = yw_audit_latest_head(db, &last);
    if (rc < 0 || n == 0 || (rc == 1 && last.tree_size == n))
        return rc < 0 ? rc : 0;
    yw_hash root;
    rc = yw_merkle_range(yw_audit_subtree, db, 0, n, root);
    return rc < 0 ? rc : store_head(a, db, n, root);
}

static void *signer_main(void *arg)
{
    yw_audit *a = arg;
    pthread_mutex_lock(&a->lock);
    while (!a->stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 1;
        pthread_cond_timedwait(&a->wake, &a->lock, &deadline);
        if (a->stopping)
            break;
        pthread_mutex_unlock(&a->lock);
        yw_writer_run(yw_store_writer(a->store), sign_job, a);
        pthread_mutex_lock(&a->lock);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* Writes what the batch appended so far and leaves the writer: the log is closing. */
static int detach_job(yw_db *db, void *arg)
{
    yw_audit *a = arg;
    int rc = pending_write(a, db);
    yw_writer_remove_participant(yw_store_writer(a->store), a);
    return rc;
}

/* Frees what the log allocated besides itself. */
static void free_buffers(yw_audit *a)
{
    yw_buf_free(&a->canonical);
    yw_buf_free(&a->row);
    yw_buf_free(&a->pending.stored);
    free(a->pending.ends);
    free(a->pending.leaves);
    free(a->pending.org);
    for (int i = 0; i < a->orgs.count; i++) {
        free(a->orgs.code[i]);
        free(a->orgs.literal[i]);
    }
    free(a->orgs.code);
    free(a->orgs.literal);
    free_cache(a);
}

static int open_job(yw_db *db, void *arg)
{
    int rc = load_frontier(arg, db);
    return rc < 0 ? rc : cache_load(arg, db);
}

yw_audit *yw_audit_open(yw_store *store, const char *data_dir, char *err, size_t errlen)
{
    yw_audit *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->store = store;
    if (load_or_create_key(a, data_dir, err, errlen) < 0) {
        free(a);
        return NULL;
    }
    pthread_rwlock_init(&a->cache_lock, NULL);
    a->orgs.last = -1;
    int rc = 0;
    for (legacy_step step = {.audit = a}; rc >= 0 && !step.done;)
        rc = yw_writer_run(yw_store_writer(store), legacy_convert_job, &step);
    if (rc >= 0)
        rc = yw_writer_run(yw_store_writer(store), open_job, a);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the audit log: %s", yw_strerror(rc));
        sodium_memzero(a->sk, sizeof a->sk);
        free_buffers(a);
        free(a);
        return NULL;
    }
    yw_writer_add_participant_hooks(
        yw_store_writer(store),
        &(yw_writer_participant){.job_starting = job_starting, .rolled_back = rolled_back, .before_commit = before_commit},
        a);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->wake, NULL);
    pthread_create(&a->signer, NULL, signer_main, a);
    /* Entries left unsigned by a crash get their head now. */
    yw_writer_run(yw_store_writer(store), sign_job, a);
    return a;
}

void yw_audit_close(yw_audit *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->signer, NULL);
    yw_writer_run(yw_store_writer(a->store), sign_job, a);
    yw_writer_run(yw_store_writer(a->store), detach_job, a);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->wake);
    sodium_memzero(a->sk, sizeof a->sk);
    free_buffers(a);
    free(a);
}

int yw_audit_latest_head(yw_db *db, yw_tree_head *out)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT tree_size, root, timestamp, signature FROM audit_heads ORDER BY tree_size DESC LIMIT 1",
                         "");
    if (rc < 0)
        return rc;
    rc = yw_stmt_step(s);
    if (rc == YW_DB_ROW) {
        size_t lr = 0, ls = 0;
        const void *root = yw_stmt_blob(s, 1, &lr), *sig = yw_stmt_blob(s, 3, &ls);
        if (lr != YW_HASH_LEN || ls != 64) {
            yw_stmt_release(s);
            return YW_EDB;
        }
        out->tree_size = (uint64_t)yw_stmt_int(s, 0);
        memcpy(out->root, root, YW_HASH_LEN);
        out->timestamp = yw_stmt_int(s, 2);
        memcpy(out->signature, sig, 64);
    }
    yw_stmt_release(s);
    return rc < 0 ? rc : rc == YW_DB_ROW;
}

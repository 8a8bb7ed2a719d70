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

struct yw_audit {
    yw_store *store;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    /* writer thread only */
    yw_merkle_frontier frontier;
    uint64_t signed_size;
    yw_buf scratch; /* the entry being appended */
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

/* ---- stored subtrees ---- */

/* The subtree (level < YW_AUDIT_STORED_LEVEL, index) hashed from its leaves, read in one range scan. */
static int subtree_from_leaves(yw_db *db, int level, uint64_t index, yw_hash out)
{
    yw_hash leaves[1 << YW_AUDIT_STORED_LEVEL];
    uint64_t first = index << level, count = (uint64_t)1 << level, n = 0;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT leaf FROM audit_log WHERE seq >= $1 AND seq < $2 ORDER BY seq", "ii",
                         (int64_t)first, (int64_t)(first + count));
    if (rc < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW && n < count) {
        size_t len = 0;
        const void *p = yw_stmt_blob(s, 0, &len);
        if (len != YW_HASH_LEN)
            break;
        memcpy(leaves[n++], p, YW_HASH_LEN);
    }
    yw_stmt_release(s);
    if (rc < 0)
        return rc;
    if (n != count)
        return YW_ENOTFOUND;
    for (; count > 1; count /= 2)
        for (uint64_t i = 0; i < count / 2; i++)
            yw_merkle_node(leaves[2 * i], leaves[2 * i + 1], leaves[i]);
    memcpy(out, leaves[0], YW_HASH_LEN);
    return 0;
}

int yw_audit_subtree(void *ctx, int level, uint64_t index, yw_hash out)
{
    yw_db *db = ctx;
    if (level > 0 && level < YW_AUDIT_STORED_LEVEL)
        return subtree_from_leaves(db, level, index, out);
    yw_stmt *s;
    int rc = level == 0 ? yw_db_query(db, &s, "SELECT leaf FROM audit_log WHERE seq = $1", "i", (int64_t)index)
                        : yw_db_query(db, &s, "SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2", "ii",
                                      (int64_t)level, (int64_t)index);
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

int yw_audit_subtree_cached(void *ctx, int level, uint64_t index, yw_hash out)
{
    yw_audit_reader *r = ctx;
    yw_audit *a = r->audit;
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

/* Rebuilds the frontier for the entries db holds. Writer thread. */
static int load_frontier(yw_audit *a, yw_db *db)
{
    int64_t n = 0, signed_size = 0;
    int rc = yw_db_int(db, &n, "SELECT coalesce(max(seq) + 1, 0) FROM audit_log", "");
    if (rc >= 0)
        rc = yw_db_int(db, &signed_size, "SELECT coalesce(max(tree_size), 0) FROM audit_heads", "");
    if (rc < 0)
        return rc;
    yw_merkle_frontier f = {.size = (uint64_t)n};
    uint64_t pos = 0;
    for (int level = 63; level >= 0; level--) {
        if (!((uint64_t)n & ((uint64_t)1 << level)))
            continue;
        if ((rc = yw_audit_subtree(db, level, pos >> level, f.hash[f.count])) < 0)
            return rc;
        f.level[f.count++] = level;
        pos += (uint64_t)1 << level;
    }
    a->frontier = f;
    a->signed_size = (uint64_t)signed_size;
    atomic_store(&a->size, (uint64_t)n);
    return 0;
}

static void rolled_back(void *ctx, yw_db *db)
{
    yw_audit *a = ctx;
    int rc = load_frontier(a, db);
    cache_trim(a, a->frontier.size);
    if (rc < 0)
        yw_logf(YW_LOG_ERROR, "audit: cannot reload the Merkle frontier after a rollback: %s", yw_db_errmsg(db));
}

/* ---- appending ---- */

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
    uint64_t seq = a->frontier.size;
    int64_t now = yw_now_ms();
    yw_buf_reset(&a->scratch);
    yw_audit_entry_write(e, seq, now, &a->scratch);
    yw_hash leaf;
    yw_merkle_leaf(a->scratch.data, a->scratch.len, leaf);
    int rc = yw_db_run(db,
                       "INSERT INTO audit_log(seq, time_ms, actor, actor_kind, actor_org, action, stage, object_type,"
                       " object_ids, items, purpose, status, request_id, client, request_sha256, response_sha256, leaf)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                       "iitttttttttittttb", (int64_t)seq, now, e->actor, e->actor_kind ? e->actor_kind : "anonymous",
                       e->actor_org, e->action, e->stage, e->object_type, e->object_ids ? e->object_ids : "[]",
                       e->items ? e->items : "[]", e->purpose, (int64_t)e->status, e->request_id, e->client,
                       e->request_sha256, e->response_sha256, (const void *)leaf, (size_t)YW_HASH_LEN);
    if (rc < 0)
        return rc;
    emit_ctx ec = {a, db};
    if ((rc = yw_merkle_frontier_push(&a->frontier, leaf, store_node, &ec)) < 0)
        return rc;
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

/* ---- signing ---- */

static int sign_job(yw_db *db, void *arg)
{
    yw_audit *a = arg;
    if (a->frontier.size == a->signed_size)
        return 0;
    yw_tree_head h;
    yw_hash root;
    yw_merkle_frontier_root(&a->frontier, root);
    yw_audit_sign(a, a->frontier.size, root, &h);
    int rc = yw_db_run(db, "INSERT INTO audit_heads(tree_size, root, timestamp, signature) VALUES ($1, $2, $3, $4)"
                           " ON CONFLICT(tree_size) DO NOTHING",
                       "ibib", (int64_t)h.tree_size, (const void *)h.root, (size_t)YW_HASH_LEN, h.timestamp,
                       (const void *)h.signature, (size_t)64);
    if (rc < 0)
        return rc;
    a->signed_size = h.tree_size;
    return 0;
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
    int rc = yw_writer_run(yw_store_writer(store), open_job, a);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the audit log: %s", yw_strerror(rc));
        sodium_memzero(a->sk, sizeof a->sk);
        free_cache(a);
        free(a);
        return NULL;
    }
    yw_writer_add_participant(yw_store_writer(store), rolled_back, a);
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
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->wake);
    sodium_memzero(a->sk, sizeof a->sk);
    yw_buf_free(&a->scratch);
    free_cache(a);
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

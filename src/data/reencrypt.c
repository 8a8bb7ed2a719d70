/* Background re-encryption after a key rotation (see reencrypt.h). */
#include "data/reencrypt.h"

#include "app/app.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "core/time.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 200
#define MAX_COLUMNS 16

struct yw_reencryptor {
    yw_store *store;
    yw_audit *audit;
    yw_keyring *keys;
    char *dir;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    /* every module's sealed columns, and the pass under way: which column, from which rowid, for which key */
    const yw_sealed_column *columns[MAX_COLUMNS];
    int ncolumns;
    int column; /* ncolumns: done */
    int64_t cursor;
    int key;
    int64_t sealed; /* values re-encrypted in this chunk */
};

/*
 * text sealed again under the current key, or NULL when it is not sealed
 * under an older one (nor in clear, when clear values are sealed too).
 */
static char *reseal_value(yw_reencryptor *r, const char *context, const char *text, bool clear_too, int64_t *count)
{
    int kid = yw_field_key_id(text);
    if (kid == yw_keyring_current(r->keys) || (!kid && (!clear_too || yw_field_is_encrypted(text))))
        return NULL;
    yw_buf plain = YW_BUF_INIT, sealed = YW_BUF_INIT;
    char *out = NULL;
    if (!kid)
        yw_buf_puts(&plain, text);
    if ((!kid || yw_field_decrypt(r->keys, context, text, &plain) == 0) &&
        yw_field_encrypt(r->keys, context, plain.data ? plain.data : "", plain.len, &sealed) == 0) {
        out = strdup(sealed.data);
        (*count)++;
    }
    yw_buf_wipe(&plain);
    yw_buf_free(&sealed);
    return out;
}

/* The same for each member of a JSON object, sealed under "<prefix>/<member>"; NULL when nothing changes. */
static char *reseal_members(yw_reencryptor *r, const char *prefix, const char *text, int64_t *count)
{
    json_t *doc = json_loads(text, 0, NULL);
    const char *member;
    json_t *v;
    bool changed = false;
    json_object_foreach(doc, member, v) {
        char context[512];
        snprintf(context, sizeof context, "%s/%s", prefix, member);
        char *sealed = json_is_string(v) ? reseal_value(r, context, json_string_value(v), false, count) : NULL;
        if (sealed) {
            json_object_set_new(doc, member, json_string(sealed));
            changed = true;
            free(sealed);
        }
    }
    char *out = changed ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    return out;
}

/* One chunk of the pass, on the writer thread. */
static int chunk_job(yw_db *db, void *arg)
{
    yw_reencryptor *r = arg;
    if (r->column == 0 && r->cursor == 0) { /* a pass begins: was it finished for this key already? */
        int64_t done = 0;
        int rc = yw_db_int(db, &done, "SELECT 1 FROM reencrypt_passes WHERE key_id = $1", "i", (int64_t)r->key);
        if (rc < 0)
            return rc;
        if (rc == YW_DB_ROW) {
            r->column = r->ncolumns;
            return 0;
        }
    }
    const yw_sealed_column *col = r->columns[r->column];
    char select[512], update[256];
    snprintf(select, sizeof select,
             "SELECT rowid, %s, %s FROM %s WHERE rowid > $1 AND %s IS NOT NULL ORDER BY rowid LIMIT $2", col->context,
             col->column, col->table, col->column);
    snprintf(update, sizeof update, "UPDATE %s SET %s = $2 WHERE rowid = $1", col->table, col->column);
    yw_stmt *s;
    int rc = yw_db_prepare(db, &s, select);
    if (rc == 0)
        rc = yw_stmt_bind_int(s, 1, r->cursor);
    if (rc == 0)
        rc = yw_stmt_bind_int(s, 2, CHUNK);
    if (rc < 0)
        return rc;
    int64_t rowids[CHUNK];
    char *sealed[CHUNK];
    int n = 0;
    r->sealed = 0;
    while (n < CHUNK && (rc = yw_stmt_step(s)) == YW_DB_ROW) {
        rowids[n] = yw_stmt_int(s, 0);
        const char *context = yw_stmt_text(s, 1), *text = yw_stmt_text(s, 2);
        sealed[n] = col->members ? reseal_members(r, context, text, &r->sealed)
                                 : reseal_value(r, context, text, col->clear_too, &r->sealed);
        n++;
    }
    yw_stmt_release(s);
    for (int i = 0; i < n; i++) {
        if (rc >= 0 && sealed[i]) {
            yw_stmt *u;
            rc = yw_db_prepare(db, &u, update);
            if (rc == 0) {
                if ((rc = yw_stmt_bind_int(u, 1, rowids[i])) == 0 && (rc = yw_stmt_bind_text(u, 2, sealed[i])) == 0)
                    rc = yw_stmt_step(u);
                yw_stmt_release(u);
            }
        }
        free(sealed[i]);
    }
    if (rc < 0)
        return rc;
    if (r->sealed > 0) {
        int64_t seq = yw_audit_system(r->audit, db, "yiwang keys", "keys.reencrypt", "table", col->table);
        if (seq < 0)
            return (int)seq;
    }
    if (n < CHUNK) {
        /* the last column done: the pass is remembered, and not made again at the next start */
        if (r->column == r->ncolumns - 1 &&
            (rc = yw_db_run(db, "INSERT OR REPLACE INTO reencrypt_passes(key_id, finished_at) VALUES ($1, $2)", "ii",
                            (int64_t)r->key, yw_now_ms())) < 0)
            return rc;
        r->column++;
        r->cursor = 0;
    } else {
        r->cursor = rowids[n - 1];
    }
    return 0;
}

static void *reencrypt_main(void *arg)
{
    yw_reencryptor *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        pthread_mutex_unlock(&r->lock);
        int added = yw_keyring_refresh(r->keys, r->dir);
        int current = yw_keyring_current(r->keys);
        if (added || current != r->key) {
            if (added)
                yw_logf(YW_LOG_INFO, "key %d added: re-encrypting stored values in the background", current);
            r->key = current;
            r->column = 0;
            r->cursor = 0;
        }
        bool busy = r->column < r->ncolumns;
        if (busy && yw_writer_run(yw_store_writer(r->store), chunk_job, r) < 0)
            busy = false; /* try again on the next tick */
        pthread_mutex_lock(&r->lock);
        if (!busy && !r->stopping) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += 2;
            pthread_cond_timedwait(&r->wake, &r->lock, &deadline);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

yw_reencryptor *yw_reencrypt_start(yw_store *store, yw_audit *audit, yw_keyring *keys, const char *data_dir)
{
    yw_reencryptor *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->store = store;
    r->audit = audit;
    r->keys = keys;
    r->dir = strdup(data_dir);
    r->key = yw_keyring_current(keys); /* a first pass at start finds what a rotation left behind */
    for (const yw_module *const *m = yw_modules; *m; m++)
        for (const yw_sealed_column *c = (*m)->sealed; c && c->table && r->ncolumns < MAX_COLUMNS; c++)
            r->columns[r->ncolumns++] = c;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    if (pthread_create(&r->thread, NULL, reencrypt_main, r) != 0) {
        free(r->dir);
        free(r);
        return NULL;
    }
    return r;
}

void yw_reencrypt_stop(yw_reencryptor *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    free(r->dir);
    free(r);
}

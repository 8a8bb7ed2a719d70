/* Store: migrations at start, the writer, per-thread readers (see store.h). */
#include "store/store.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct yw_store {
    char *url;
    int db_flags; /* of every connection */
    yw_writer *writer;
    pthread_key_t reader_key;
};

static void close_reader(void *db)
{
    yw_db_close(db);
}

yw_store *yw_store_open(const char *url, int db_flags, char *err, size_t errlen)
{
    yw_db *db;
    if (yw_db_open(url, db_flags | YW_DB_CREATE, &db, err, errlen) < 0)
        return NULL;
    int rc = yw_db_migrate(db, err, errlen);
    yw_db_close(db);
    if (rc < 0)
        return NULL;
    yw_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->url = strdup(url);
    s->db_flags = db_flags;
    s->writer = yw_writer_start(url, db_flags, err, errlen);
    if (!s->writer) {
        free(s->url);
        free(s);
        return NULL;
    }
    pthread_key_create(&s->reader_key, close_reader);
    return s;
}

void yw_store_close(yw_store *s)
{
    if (!s)
        return;
    yw_writer_stop(s->writer);
    yw_db *db = pthread_getspecific(s->reader_key);
    if (db) {
        pthread_setspecific(s->reader_key, NULL);
        yw_db_close(db);
    }
    pthread_key_delete(s->reader_key);
    free(s->url);
    free(s);
}

yw_writer *yw_store_writer(yw_store *s)
{
    return s->writer;
}

yw_db *yw_store_reader(yw_store *s)
{
    yw_db *db = pthread_getspecific(s->reader_key);
    if (db)
        return db;
    char err[256];
    if (yw_db_open(s->url, s->db_flags | YW_DB_READONLY, &db, err, sizeof err) < 0) {
        yw_logf(YW_LOG_ERROR, "cannot open a read connection: %s", err);
        return NULL;
    }
    pthread_setspecific(s->reader_key, db);
    return db;
}

int yw_store_copy(yw_store *s, const char *path, char *err, size_t errlen)
{
    yw_db *db;
    int rc = yw_db_open(s->url, s->db_flags, &db, err, errlen);
    if (rc < 0)
        return rc;
    rc = yw_db_run(db, "VACUUM INTO $1", "t", path);
    if (rc < 0)
        snprintf(err, errlen, "copying the database: %s", yw_db_errmsg(db));
    yw_db_close(db);
    if (rc < 0)
        return rc;
    /* SQLite leaves the copy unsynced. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "syncing %s: %s", path, strerror(errno));
        rc = YW_EIO;
    }
    if (fd >= 0)
        close(fd);
    return rc < 0 ? rc : 0;
}

/*
 * Group-commit writer (see writer.h).
 *
 * Jobs are linked into a FIFO under one mutex. The thread takes the whole
 * queue at once, runs each job inside its own savepoint (opened only when
 * the job runs a statement), commits, then marks
 * the jobs done and wakes their callers with one broadcast. Waiting callers
 * share a condition variable and check their own job's flag.
 *
 * Under steady load (the last commit ended moments ago) a small queue waits
 * up to LINGER_NS for company before it commits, as PostgreSQL's
 * commit_delay does: each commit costs a WAL sync and rewrites the same few
 * pages, so a read that waits a little longer for its audit entry saves the
 * server far more than it costs the reader. An idle server commits at once.
 */
#include "store/writer.h"

#include "core/error.h"
#include "core/log.h"
#include "core/time.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 4096
#define LINGER_JOBS 32          /* a queue this long commits at once */
#define LINGER_NS 1000000       /* the longest a job waits for company */
#define BUSY_WITHIN_NS 2000000  /* "steady load": the last commit ended this recently */

typedef yw_write_ticket job;

struct yw_writer {
    yw_db *db;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* queue became non-empty, or stop */
    pthread_cond_t done; /* some batch finished */
    job *head, *tail;
    size_t depth;
    bool stopping;
    uint64_t commits, jobs;
    int64_t last_commit_end; /* yw_mono_ns */
    const char *const *watched; /* yw_writer_watch_tables */
    bool watched_changed;       /* by the running transaction */
    _Atomic uint64_t generation;
    yw_histogram commit_latency;
    struct {
        yw_writer_participant hooks;
        void *ctx;
    } participants[4];
    int nparticipants;
};

static void on_row_change(void *ctx, const char *table)
{
    yw_writer *w = ctx;
    for (const char *const *t = w->watched; !w->watched_changed && *t; t++)
        w->watched_changed = strcmp(*t, table) == 0;
}

void yw_writer_watch_tables(yw_writer *w, const char *const *tables)
{
    w->watched = tables;
    yw_db_watch(w->db, on_row_change, w);
}

uint64_t yw_writer_generation(yw_writer *w)
{
    return atomic_load(&w->generation);
}

bool yw_writer_unchanged_since(yw_writer *w, uint64_t generation)
{
    return w->watched && !w->watched_changed && atomic_load(&w->generation) == generation;
}

static void notify_rollback(yw_writer *w)
{
    for (int i = 0; i < w->nparticipants; i++)
        if (w->participants[i].hooks.rolled_back)
            w->participants[i].hooks.rolled_back(w->participants[i].ctx, w->db);
}

static void notify_job_starting(yw_writer *w)
{
    for (int i = 0; i < w->nparticipants; i++)
        if (w->participants[i].hooks.job_starting)
            w->participants[i].hooks.job_starting(w->participants[i].ctx);
}

/* Lets each participant write what it buffered; 0 or the first failure. */
static int notify_before_commit(yw_writer *w)
{
    for (int i = 0; i < w->nparticipants; i++) {
        int rc = w->participants[i].hooks.before_commit
                     ? w->participants[i].hooks.before_commit(w->participants[i].ctx, w->db)
                     : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

void yw_writer_add_participant_hooks(yw_writer *w, const yw_writer_participant *hooks, void *ctx)
{
    if (w->nparticipants < 4) {
        w->participants[w->nparticipants].hooks = *hooks;
        w->participants[w->nparticipants].ctx = ctx;
        w->nparticipants++;
    }
}

void yw_writer_remove_participant(yw_writer *w, void *ctx)
{
    for (int i = 0; i < w->nparticipants; i++) {
        if (w->participants[i].ctx != ctx)
            continue;
        for (int k = i + 1; k < w->nparticipants; k++)
            w->participants[k - 1] = w->participants[k];
        w->nparticipants--;
        i--;
    }
}

void yw_writer_add_participant(yw_writer *w, void (*rolled_back)(void *ctx, yw_db *db), void *ctx)
{
    yw_writer_add_participant_hooks(w, &(yw_writer_participant){.rolled_back = rolled_back}, ctx);
}

static void enqueue(yw_writer *w, job *j)
{
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->depth++;
    /* The writer waits for a first job, or lingers for LINGER_JOBS: other arrivals need not wake it. */
    if (w->depth == 1 || w->depth == LINGER_JOBS)
        pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

/*
 * Runs each job of batch in its own savepoint inside one transaction and
 * commits. Some failures (a trigger's RAISE(ROLLBACK), a full disk) end the
 * whole transaction, not just the job's savepoint: then the jobs before it
 * lost their work too, so they fail with YW_EBUSY (nothing was kept, try
 * again), and the rest of the batch goes on in a new transaction.
 */
static int run_batch(yw_writer *w, job *batch)
{
    int rc = yw_db_begin(w->db);
    if (rc < 0)
        return rc;
    job *tx_start = batch; /* first job of the current transaction */
    for (job *j = batch; j; j = j->next) {
        /* Opened at the job's first statement: most audited reads run none. */
        yw_db_defer(w->db, "SAVEPOINT job");
        notify_job_starting(w);
        j->rc = j->fn(w->db, j->arg);
        bool opened = !yw_db_drop_deferred(w->db);
        if (opened && j->rc < 0 && yw_db_in_transaction(w->db))
            yw_db_exec(w->db, "ROLLBACK TO job");
        if (opened && yw_db_in_transaction(w->db))
            yw_db_exec(w->db, "RELEASE job");
        if (j->rc < 0 && yw_db_in_transaction(w->db))
            notify_rollback(w);
        if (!yw_db_in_transaction(w->db)) {
            notify_rollback(w);
            for (job *k = tx_start; k != j; k = k->next)
                if (k->rc >= 0)
                    k->rc = YW_EBUSY;
            if (j->rc >= 0)
                j->rc = YW_EBUSY;
            tx_start = j->next;
            if (j->next && (rc = yw_db_begin(w->db)) < 0) {
                for (job *k = j->next; k; k = k->next)
                    k->rc = rc;
                return 0;
            }
        }
    }
    if (!yw_db_in_transaction(w->db))
        return 0;
    rc = notify_before_commit(w);
    if (rc < 0)
        yw_logf(YW_LOG_ERROR, "writer: a participant could not write its part of the batch: %s", yw_db_errmsg(w->db));
    else if ((rc = yw_db_commit(w->db)) < 0)
        yw_logf(YW_LOG_ERROR, "writer commit failed: %s", yw_db_errmsg(w->db));
    if (rc < 0) {
        yw_db_rollback(w->db);
        notify_rollback(w);
        for (job *k = tx_start; k; k = k->next)
            k->rc = rc;
    }
    return 0;
}

/* Called with the lock held and a job queued: waits for more while the server is busy. */
static void linger(yw_writer *w)
{
    int64_t now = yw_mono_ns();
    if (w->depth >= LINGER_JOBS || w->stopping || now - w->last_commit_end > BUSY_WITHIN_NS)
        return;
    int64_t until = now + LINGER_NS;
    struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
    while (w->depth < LINGER_JOBS && !w->stopping)
        if (pthread_cond_timedwait(&w->wake, &w->lock, &ts) != 0)
            break; /* the time is up */
}

static void *writer_main(void *arg)
{
    yw_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head && w->stopping) {
            pthread_mutex_unlock(&w->lock);
            break;
        }
        linger(w);
        /* Take up to MAX_BATCH jobs. */
        job *batch = w->head, *last = batch;
        size_t n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        w->depth -= n;
        pthread_mutex_unlock(&w->lock);

        int64_t t0 = yw_mono_ns();
        int rc = run_batch(w, batch); /* < 0 only when no job ran */
        /* Committed or not, a copy made meanwhile may be of either; with nothing watched, every batch counts. */
        if (w->watched_changed || !w->watched) {
            w->watched_changed = false;
            atomic_fetch_add(&w->generation, 1);
        }
        yw_hist_observe(&w->commit_latency, yw_mono_ns() - t0);

        pthread_mutex_lock(&w->lock);
        w->last_commit_end = yw_mono_ns();
        w->commits++;
        w->jobs += n;
        job *posted = NULL;
        for (job *j = batch, *next; j; j = next) {
            next = j->next;
            if (rc < 0)
                j->rc = rc;
            if (j->waited) {
                j->done = true;
            } else {
                j->next = posted;
                posted = j;
            }
        }
        pthread_cond_broadcast(&w->done);
        pthread_mutex_unlock(&w->lock);
        for (job *j = posted, *next; j; j = next) {
            next = j->next;
            if (j->notify) {
                j->done = true;
                j->notify(j); /* the caller's: not freed here */
                continue;
            }
            if (j->release)
                j->release(j->arg);
            free(j);
        }
    }
    return NULL;
}

yw_writer *yw_writer_start(const char *url, int db_flags, char *err, size_t errlen)
{
    yw_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (yw_db_open(url, db_flags | YW_DB_CREATE | YW_DB_BACKGROUND_CHECKPOINTS, &w->db, err, errlen) < 0) {
        free(w);
        return NULL;
    }
    atomic_init(&w->generation, 1); /* 0 is nobody's */
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC); /* the clock of yw_mono_ns */
    pthread_cond_init(&w->wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    pthread_cond_init(&w->done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        yw_db_close(w->db);
        free(w);
        return NULL;
    }
    return w;
}

void yw_writer_submit(yw_writer *w, yw_write_ticket *t, yw_write_fn fn, void *arg)
{
    *t = (yw_write_ticket){.fn = fn, .arg = arg, .waited = true};
    enqueue(w, t);
}

void yw_writer_submit_notify(yw_writer *w, yw_write_ticket *t, yw_write_fn fn, void *arg,
                             void (*notify)(yw_write_ticket *t))
{
    *t = (yw_write_ticket){.fn = fn, .arg = arg, .notify = notify};
    enqueue(w, t);
}

int yw_writer_wait(yw_writer *w, yw_write_ticket *t)
{
    pthread_mutex_lock(&w->lock);
    while (!t->done)
        pthread_cond_wait(&w->done, &w->lock);
    pthread_mutex_unlock(&w->lock);
    return t->rc;
}

int yw_writer_run(yw_writer *w, yw_write_fn fn, void *arg)
{
    yw_write_ticket t;
    yw_writer_submit(w, &t, fn, arg);
    return yw_writer_wait(w, &t);
}

void yw_writer_post(yw_writer *w, yw_write_fn fn, void *arg, void (*release)(void *))
{
    job *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    j->fn = fn;
    j->arg = arg;
    j->release = release;
    enqueue(w, j);
}

void yw_writer_stop(yw_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    yw_db_close(w->db);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    free(w);
}

void yw_writer_get_stats(yw_writer *w, yw_writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    out->queue_depth = w->depth;
    out->commits = w->commits;
    out->jobs = w->jobs;
    pthread_mutex_unlock(&w->lock);
    out->commit_latency = &w->commit_latency;
}

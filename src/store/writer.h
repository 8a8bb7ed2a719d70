/*
 * The single writer: one thread owns the write connection and commits the
 * work of many requests in one transaction (group commit).
 *
 *   request thread                 writer thread
 *   yw_writer_run(fn, arg) ──────▶ queue ─▶ BEGIN
 *        (blocks)                          SAVEPOINT; fn(db, arg); RELEASE   (per job)
 *                                          ... every job queued meanwhile ...
 *        ◀──────────── done ────────────── COMMIT (synchronous=FULL: durable)
 *
 * A job whose function fails is rolled back to its savepoint, so it changes
 * nothing while the rest of the batch commits. yw_writer_run returns only
 * after the COMMIT that contains the job is durable: an acknowledged write
 * is never lost. While one batch commits, the next one queues up, so under
 * load each fsync carries many requests.
 */
#ifndef YW_STORE_WRITER_H
#define YW_STORE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/histogram.h"
#include "store/db.h"

typedef struct yw_writer yw_writer;

/* Runs on the writer thread inside a transaction; returns 0 or < 0 to roll back. */
typedef int (*yw_write_fn)(yw_db *db, void *arg);

/* Opens url for writing (db_flags: 0 or YW_DB_EXCLUSIVE) and starts the thread. NULL with a message on err. */
yw_writer *yw_writer_start(const char *url, int db_flags, char *err, size_t errlen);

/*
 * Queues fn(db, arg) and waits until its batch is durable. Returns fn's
 * result, or a negative code when the commit failed (then nothing of the
 * job was kept). arg must stay valid until the call returns.
 */
int yw_writer_run(yw_writer *w, yw_write_fn fn, void *arg);

/*
 * A job queued now and waited for later, so the caller can prepare the
 * next one while this one commits. Fill nothing in; keep it (and arg)
 * alive until yw_writer_wait has returned.
 */
typedef struct yw_write_ticket {
    struct yw_write_ticket *next;
    yw_write_fn fn;
    void *arg;
    void (*release)(void *); /* posted jobs: run after commit, then free the job */
    void (*notify)(struct yw_write_ticket *t); /* notified jobs: run after commit (rc set); the caller owns t */
    bool waited;             /* a caller will wait for this job */
    bool done;
    int rc;
} yw_write_ticket;

void yw_writer_submit(yw_writer *w, yw_write_ticket *t, yw_write_fn fn, void *arg);
/* Waits until t's batch is durable; returns what yw_writer_run would have. */
int yw_writer_wait(yw_writer *w, yw_write_ticket *t);

/*
 * Queues fn(db, arg) without waiting: once its batch is durable (or failed),
 * notify(t) runs on the writer thread with t->rc set. t (and arg) must stay
 * alive until then; notify must be quick (it wakes whoever waits).
 */
void yw_writer_submit_notify(yw_writer *w, yw_write_ticket *t, yw_write_fn fn, void *arg,
                             void (*notify)(yw_write_ticket *t));

/*
 * Queues fn(db, arg) without waiting, for bookkeeping that may be lost in
 * a crash (a session's last-seen time). release(arg) runs afterwards on the
 * writer thread; it may be NULL.
 */
void yw_writer_post(yw_writer *w, yw_write_fn fn, void *arg, void (*release)(void *));

/*
 * Something that keeps state in memory alongside the database (the audit
 * log's Merkle frontier): after the writer rolls work back — one failed job
 * to its savepoint, or a whole batch whose commit failed — it calls
 * rolled_back(ctx, db) on the writer thread, so the participant can reload
 * its state from what the database now holds. Add participants before the
 * first job is queued.
 */
void yw_writer_add_participant(yw_writer *w, void (*rolled_back)(void *ctx, yw_db *db), void *ctx);

/*
 * A participant that also buffers work in memory during a batch and writes
 * it out once, just before the batch commits (the audit log packs the
 * batch's entries into a few rows). Every callback runs on the writer
 * thread; any may be NULL.
 *
 *   job_starting(ctx)           before each job, inside the transaction: the
 *                               point a rollback of that job returns to
 *   rolled_back(ctx, db)        as above; yw_db_in_transaction(db) tells a
 *                               rollback of one job (true) from the loss of
 *                               the whole transaction (false)
 *   before_commit(ctx, db)      after the batch's last job, inside the
 *                               transaction; < 0 fails the whole batch (it
 *                               is rolled back, every job gets the code)
 */
typedef struct {
    void (*job_starting)(void *ctx);
    void (*rolled_back)(void *ctx, yw_db *db);
    int (*before_commit)(void *ctx, yw_db *db);
} yw_writer_participant;

void yw_writer_add_participant_hooks(yw_writer *w, const yw_writer_participant *hooks, void *ctx);

/*
 * Forgets the participant ctx, before ctx is freed. Call it from a job (on
 * the writer thread): the rest of that batch no longer calls ctx.
 */
void yw_writer_remove_participant(yw_writer *w, void *ctx);

/* Finishes every queued job, commits, joins the thread, closes. */
void yw_writer_stop(yw_writer *w);

typedef struct {
    size_t queue_depth;
    uint64_t commits, jobs;
    const yw_histogram *commit_latency;
} yw_writer_stats;

void yw_writer_get_stats(yw_writer *w, yw_writer_stats *out);

/*
 * Definitions readers keep in memory (credentials, grants, resources, ...)
 * live in the tables named by the NULL-ended list, which must outlive the
 * writer. The generation grows after every transaction that changed a row
 * of one of them, before any job of that transaction is reported done. A
 * cache entry loaded by a read that began at generation g is current while
 * the generation is still g. Call before the first job; until then every
 * transaction counts as a change.
 */
void yw_writer_watch_tables(yw_writer *w, const char *const *tables);
uint64_t yw_writer_generation(yw_writer *w);
/*
 * From a job: no transaction since generation changed a watched table,
 * and no job before this one in its own transaction did either, so a copy
 * read at generation still holds.
 */
bool yw_writer_unchanged_since(yw_writer *w, uint64_t generation);

#endif

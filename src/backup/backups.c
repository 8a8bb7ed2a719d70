/*
 * Backups: consistent copies of the database, made while the server runs.
 *
 * The sysadmin asks for one (POST /api/v1/backups). A thread of its own
 * copies the database as of that moment (yw_store_copy: VACUUM INTO on a
 * connection of its own, so requests and writes go on meanwhile), syncs
 * it, signs a tree head covering its whole audit log (entries of the last
 * second may not have one yet), and only then gives it its name in
 * DIR/backups:
 *
 *   yiwang-20261127T101500.123Z.db          the copy
 *   yiwang-20261127T101500.123Z.db.sha256   its digest, in sha256sum's format
 *
 * Until then it is .yiwang-….db.part, which no listing shows and the next
 * backup removes: a copy cut short (a crash, a full disk) never carries a
 * name. A copy that would leave the disk short of room for the database
 * itself is not begun. One copy is made at a time. The request, and the copy's end
 * (backup.complete or backup.fail), are audit entries; so is a deletion,
 * which takes a name of that shape and nothing else.
 *
 * With --backup-every the server makes one by itself at that interval (the
 * server's own audit entries then record its start as well); with
 * --backup-keep N only the newest N copies stay after each new one, the
 * rest deleted (each deletion an entry).
 *
 * This is also the way to copy a server that holds its database alone
 * (--db-exclusive), which no other process can open.
 *
 * A copy holds what the database holds: sealed values sealed, the audit
 * log as stored. keys.json and the audit signing key are not in it;
 * restoring needs them, and keeping them apart from the copies is what
 * keeps a lost copy unreadable. Copies stay on the server's disk: the API
 * lists them and never sends one.
 */
#include "backup/backup.h"

#include "app/app.h"
#include "audit/log.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "sec/digest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN 64
#define LIST_MAX 1000 /* copies listed, newest first */
#define PATH_LEN (PATH_MAX + 128) /* the backups directory and a name in it */
#define RESERVE_MIN (256ll << 20)   /* free space a copy leaves the database at least */

static struct {
    pthread_mutex_t lock;
    /* the copy being made (running), or the last one made (joinable) */
    bool running, joinable;
    pthread_t thread;
    char name[NAME_MAX_LEN];
    int64_t started_at;
    /* --backup-every */
    pthread_cond_t wake;
    bool scheduling, stopping;
    pthread_t scheduler;
    /* the last copy that failed */
    char failed[NAME_MAX_LEN], error[256];
    int64_t failed_at;
    uint64_t failures; /* since start */
    const yw_app *app; /* yw_backups_start */
} state = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

typedef struct {
    yw_store *store;
    yw_audit *audit;
    char data_dir[PATH_MAX];
    char dir[PATH_MAX]; /* data_dir/backups */
    char name[NAME_MAX_LEN];
    int keep;        /* --backup-keep: copies kept once this one is made; 0: all */
    bool scheduled;  /* started by --backup-every: the copy records its own start */
} copy_job;

/* dir/prefix name suffix into out; false when it is too long. */
static bool path_in(char out[PATH_LEN], const char *dir, const char *prefix, const char *name, const char *suffix)
{
    int n = snprintf(out, PATH_LEN, "%s/%s%s%s", dir, prefix, name, suffix);
    return n > 0 && n < PATH_LEN;
}

/* A name copy_name makes: yiwang-YYYYMMDDTHHMMSS.mmmZ.db, nothing else (no path). */
static bool is_copy_name(const char *name)
{
    static const char shape[] = "yiwang-########T######.###Z.db";
    size_t i = 0;
    for (; shape[i] && name[i]; i++)
        if (shape[i] == '#' ? name[i] < '0' || name[i] > '9' : name[i] != shape[i])
            return false;
    return !shape[i] && !name[i];
}

/* SHA-256 of the file at path, in hex. */
static int file_sha256(const char *path, char hex[YW_SHA256_HEX_LEN], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "reading the copy: %s", strerror(errno));
        return YW_EIO;
    }
    yw_sha256_ctx c;
    yw_sha256_init(&c);
    char chunk[1 << 16];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        yw_sha256_update(&c, chunk, (size_t)n);
    int saved = errno;
    close(fd);
    yw_sha256_final_hex(&c, hex);
    if (n < 0) {
        snprintf(err, errlen, "reading the copy: %s", strerror(saved));
        return YW_EIO;
    }
    return 0;
}

/* Writes text to path through a temporary file, synced, then renamed. */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
    char tmp[PATH_LEN + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(text);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "writing the digest: %s", strerror(ok ? errno : saved));
        unlink(tmp);
        return YW_EIO;
    }
    return 0;
}

/* fsync of a file or a directory (what, for the message). */
static int sync_path(const char *path, const char *what, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "syncing %s: %s", what, strerror(errno));
        if (fd >= 0)
            close(fd);
        return YW_EIO;
    }
    close(fd);
    return 0;
}

/*
 * The copy's last entries may be newer than the last tree head the server
 * had signed: a head of its own covers them, so that the copy verifies
 * without the server (yiwang audit verify). The copy then leaves WAL mode:
 * one self-contained file, readable where no -wal or -shm can be made (a
 * server restored from it turns WAL on again).
 */
static int cover_log(const copy_job *j, const char *path, char *err, size_t errlen)
{
    yw_db *db;
    int rc = yw_db_open(path, 0, &db, err, errlen);
    if (rc < 0)
        return rc;
    rc = yw_audit_cover_stored(j->audit, db);
    if (rc >= 0)
        rc = yw_db_exec(db, "PRAGMA journal_mode=DELETE");
    if (rc < 0)
        snprintf(err, errlen, "finishing the copy (its tree head, its journal mode): %s", yw_db_errmsg(db));
    yw_db_close(db);
    return rc < 0 ? rc : sync_path(path, "the copy", err, errlen);
}

/* An audit entry of the server's own about a copy. */
typedef struct {
    yw_audit *audit;
    const char *action, *name;
} copy_entry_event;

static int entry_job(yw_db *db, void *arg)
{
    const copy_entry_event *e = arg;
    int64_t seq = yw_audit_system(e->audit, db, "yiwang backup", e->action, "backup", e->name);
    return seq < 0 ? (int)seq : 0;
}

/* Writes that entry for the copy name (j->name when NULL). */
static void record(const copy_job *j, const char *action, const char *name)
{
    copy_entry_event e = {.audit = j->audit, .action = action, .name = name ? name : j->name};
    if (yw_writer_run(yw_store_writer(j->store), entry_job, &e) < 0)
        yw_logf(YW_LOG_ERROR, "backup %s: the %s entry could not be written", e.name, action);
}

static int newest_first(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*b)->d_name, (*a)->d_name);
}

static int copy_entry(const struct dirent *e)
{
    return is_copy_name(e->d_name);
}

/* The copies in dir, newest first, into *names (free with free_scan); how many (0 when none can be read). */
static int scan_copies(const char *dir, struct dirent ***names)
{
    *names = NULL;
    int n = scandir(dir, names, copy_entry, newest_first);
    return n > 0 ? n : 0;
}

static void free_scan(struct dirent **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Deletes name and its digest from dir: 1 deleted, 0 not there, < 0 (errno) failed. */
static int delete_copy(const char *dir, const char *name)
{
    char path[PATH_LEN], sums[PATH_LEN];
    if (!path_in(path, dir, "", name, "") || !path_in(sums, dir, "", name, ".sha256"))
        return 0;
    if (unlink(path) != 0)
        return errno == ENOENT ? 0 : -1;
    unlink(sums);
    return 1;
}

/* Deletes the copies beyond the newest j->keep, each an audit entry. */
static void prune(copy_job *j)
{
    struct dirent **names;
    int n = scan_copies(j->dir, &names);
    for (int i = j->keep; i < n; i++) {
        if (delete_copy(j->dir, names[i]->d_name) == 1) {
            yw_logf(YW_LOG_INFO, "backup %s deleted: --backup-keep %d", names[i]->d_name, j->keep);
            record(j, "backup.delete", names[i]->d_name);
        }
    }
    free_scan(names, n);
}

/*
 * Whether the backups' disk has room for a copy (at most the database and
 * its log) and still keeps a reserve for the live database: 256 MiB or a
 * twentieth of the disk, whichever is more. A copy must never be what
 * fills the disk the database writes to.
 */
static int check_room(const copy_job *j, char *err, size_t errlen)
{
    static const char *const files[] = {"yiwang.db", "yiwang.db-wal"};
    int64_t need = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[PATH_LEN];
        struct stat st;
        if (path_in(path, j->data_dir, "", files[i], "") && stat(path, &st) == 0)
            need += st.st_size;
    }
    struct statvfs disk;
    if (statvfs(j->dir, &disk) != 0)
        return 0; /* cannot tell: the copy will say */
    int64_t free_bytes = (int64_t)disk.f_bavail * (int64_t)disk.f_frsize;
    int64_t reserve = (int64_t)disk.f_blocks * (int64_t)disk.f_frsize / 20;
    if (reserve < RESERVE_MIN)
        reserve = RESERVE_MIN;
    if (free_bytes - need >= reserve)
        return 0;
    snprintf(err, errlen,
             "not enough free space: a copy takes up to %lld MiB and %lld MiB must stay free for the database,"
             " but %lld MiB are free",
             (long long)(need >> 20), (long long)(reserve >> 20), (long long)(free_bytes >> 20));
    return YW_ERANGE;
}

/* Copies, names and records one backup: the thread of a POST or of the schedule. */
static void *copy_main(void *arg)
{
    copy_job *j = arg;
    if (j->scheduled)
        record(j, "backup.create", NULL);
    char part[PATH_LEN], final[PATH_LEN], sums[PATH_LEN];
    char err[256] = "", hex[YW_SHA256_HEX_LEN], line[YW_SHA256_HEX_LEN + NAME_MAX_LEN + 4];
    int64_t t0 = yw_mono_ns();
    bool named = path_in(part, j->dir, ".", j->name, ".part") && path_in(final, j->dir, "", j->name, "") &&
                 path_in(sums, j->dir, "", j->name, ".sha256");
    int rc = named ? 0 : YW_EINVAL;
    if (!named)
        snprintf(err, sizeof err, "the data directory's path is too long");
    else
        rc = check_room(j, err, sizeof err);
    if (rc == 0)
        rc = yw_store_copy(j->store, part, err, sizeof err);
    if (rc == 0)
        rc = cover_log(j, part, err, sizeof err);
    if (rc == 0)
        rc = file_sha256(part, hex, err, sizeof err);
    if (rc == 0 && rename(part, final) != 0) {
        snprintf(err, sizeof err, "naming the copy: %s", strerror(errno));
        rc = YW_EIO;
    }
    if (rc == 0) {
        snprintf(line, sizeof line, "%s  %s\n", hex, j->name);
        rc = write_file(sums, line, err, sizeof err);
    }
    if (rc == 0)
        rc = sync_path(j->dir, "the backups directory", err, sizeof err);
    if (rc < 0 && named) {
        unlink(part);
        unlink(final);
        unlink(sums);
    }
    if (rc < 0) {
        yw_logf(YW_LOG_ERROR, "backup %s failed: %s", j->name, err);
    } else {
        yw_logf(YW_LOG_INFO, "backup %s made in %.1f s, sha256 %s", j->name, (double)(yw_mono_ns() - t0) / 1e9, hex);
    }
    record(j, rc < 0 ? "backup.fail" : "backup.complete", NULL);
    if (rc == 0 && j->keep > 0)
        prune(j);
    pthread_mutex_lock(&state.lock);
    state.running = false;
    if (rc < 0) {
        snprintf(state.failed, sizeof state.failed, "%s", j->name);
        snprintf(state.error, sizeof state.error, "%s", err);
        state.failed_at = yw_now_ms();
        state.failures++;
    }
    pthread_mutex_unlock(&state.lock);
    free(j);
    return NULL;
}

/*
 * Removes what copies cut short left in dir (.yiwang-….db.part with its
 * -wal and -shm, a digest's .tmp); none is being made.
 */
static void remove_parts(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if ((strncmp(e->d_name, ".yiwang-", 8) == 0 && strstr(e->d_name, ".db.part")) ||
            (strncmp(e->d_name, "yiwang-", 7) == 0 && n > 11 && strcmp(e->d_name + n - 11, ".sha256.tmp") == 0))
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* "yiwang-20261127T101500.123Z.db" for ms. */
static void copy_name(int64_t ms, char out[NAME_MAX_LEN])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(out, NAME_MAX_LEN, "yiwang-%s.%03dZ.db", stamp, (int)(ms % 1000));
}

/*
 * Starts a copy of app's database in its own thread; its name in name.
 * YW_ECONFLICT while another is being made (its name in name), YW_EIO
 * when the backups directory cannot be made, YW_ENOMEM.
 */
static int start_copy(const yw_app *app, bool scheduled, char name[NAME_MAX_LEN], int64_t *started_at)
{
    copy_job *j = calloc(1, sizeof *j);
    if (!j)
        return YW_ENOMEM;
    *j = (copy_job){.store = app->store, .audit = app->audit, .keep = app->config->backup_keep, .scheduled = scheduled};
    snprintf(j->data_dir, sizeof j->data_dir, "%s", app->config->data_dir);
    snprintf(j->dir, sizeof j->dir, "%s/backups", app->config->data_dir);
    if (mkdir(j->dir, 0700) != 0 && errno != EEXIST) {
        int saved = errno;
        free(j);
        errno = saved;
        return YW_EIO;
    }
    *started_at = yw_now_ms();
    copy_name(*started_at, j->name);
    pthread_mutex_lock(&state.lock);
    int rc = 0;
    if (state.running) {
        snprintf(name, NAME_MAX_LEN, "%s", state.name);
        rc = YW_ECONFLICT;
        goto done;
    }
    if (state.joinable) { /* the previous one, finished */
        pthread_join(state.thread, NULL);
        state.joinable = false;
    }
    remove_parts(j->dir);
    snprintf(state.name, sizeof state.name, "%s", j->name);
    snprintf(name, NAME_MAX_LEN, "%s", j->name);
    state.started_at = *started_at;
    if (pthread_create(&state.thread, NULL, copy_main, j) != 0) {
        rc = YW_ENOMEM;
        goto done;
    }
    j = NULL; /* the thread's now */
    state.running = state.joinable = true;
done:
    pthread_mutex_unlock(&state.lock);
    free(j);
    return rc;
}

void backups_create(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_BACKUP_MANAGE, NULL, NULL))
        return;
    char name[NAME_MAX_LEN], when[40];
    int64_t started_at;
    int rc = start_copy(yw_req_app(req), false, name, &started_at);
    if (rc == YW_ECONFLICT) {
        yw_reply_problem(req, 409, "conflict", "a backup is being made (%s): ask again once it is listed", name);
    } else if (rc == YW_EIO) {
        yw_reply_problem(req, 500, "internal", "cannot make the backups directory: %s", strerror(errno));
    } else if (rc < 0) {
        yw_reply_problem(req, 503, "unavailable", "no thread for the backup; try again shortly");
    } else {
        yw_req_audit_object(req, "backup", yw_arena_strdup(req->arena, name));
        yw_reply_json_new(req, 202, json_pack("{s:s, s:s, s:s}", "name", name, "status", "running", "started_at",
                                              yw_time_format(started_at, when, sizeof when)));
    }
}

/* The digest its .sha256 file gives, or NULL. */
static json_t *recorded_sha256(const char *dir, const char *name)
{
    char path[PATH_LEN], text[YW_SHA256_HEX_LEN + 1] = "";
    FILE *f = path_in(path, dir, "", name, ".sha256") ? fopen(path, "re") : NULL;
    if (!f)
        return json_null();
    size_t n = fread(text, 1, YW_SHA256_HEX_LEN - 1, f);
    fclose(f);
    text[n] = 0;
    return n == YW_SHA256_HEX_LEN - 1 ? json_string(text) : json_null();
}

void backups_list(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_BACKUP_MANAGE, NULL, NULL))
        return;
    char dir[PATH_MAX], when[40];
    snprintf(dir, sizeof dir, "%s/backups", yw_req_app(req)->config->data_dir);
    json_t *items = json_array();
    struct dirent **names;
    int n = scan_copies(dir, &names);
    for (int i = 0; i < n && json_array_size(items) < LIST_MAX; i++) {
        char path[PATH_LEN];
        struct stat st;
        if (path_in(path, dir, "", names[i]->d_name, "") && stat(path, &st) == 0)
            json_array_append_new(items, json_pack("{s:s, s:I, s:s, s:o}", "name", names[i]->d_name, "bytes",
                                                   (json_int_t)st.st_size, "created_at",
                                                   yw_time_format((int64_t)st.st_mtime * 1000, when, sizeof when),
                                                   "sha256", recorded_sha256(dir, names[i]->d_name)));
    }
    free_scan(names, n);
    json_t *out = json_pack("{s:o, s:n, s:n}", "items", items, "running", "last_failure");
    pthread_mutex_lock(&state.lock);
    if (state.running)
        json_object_set_new(out, "running", json_pack("{s:s, s:s}", "name", state.name, "started_at",
                                                      yw_time_format(state.started_at, when, sizeof when)));
    if (state.failed[0])
        json_object_set_new(out, "last_failure",
                            json_pack("{s:s, s:s, s:s}", "name", state.failed, "failed_at",
                                      yw_time_format(state.failed_at, when, sizeof when), "error", state.error));
    pthread_mutex_unlock(&state.lock);
    yw_reply_json_new(req, 200, out);
}

void backups_delete(yw_req *req)
{
    if (!yw_authz_or_reply(req, YW_ACT_BACKUP_MANAGE, NULL, NULL))
        return;
    const char *name = yw_req_param(req, "name");
    yw_req_audit_object(req, "backup", name);
    char dir[PATH_MAX], err[128];
    snprintf(dir, sizeof dir, "%s/backups", yw_req_app(req)->config->data_dir);
    if (!is_copy_name(name)) {
        yw_reply_problem(req, 404, "not_found", "no backup is named so");
        return;
    }
    pthread_mutex_lock(&state.lock);
    bool busy = state.running && strcmp(state.name, name) == 0;
    int gone = busy ? 0 : delete_copy(dir, name);
    int saved = errno;
    pthread_mutex_unlock(&state.lock);
    if (busy)
        yw_reply_problem(req, 409, "conflict", "%s is being made; delete it once it is listed", name);
    else if (gone == 0)
        yw_reply_problem(req, 404, "not_found", "no backup is named so");
    else if (gone < 0)
        yw_reply_problem(req, 500, "internal", "the copy could not be deleted: %s", strerror(saved));
    else if (sync_path(dir, "the backups directory", err, sizeof err) < 0)
        yw_reply_problem(req, 500, "internal", "%s", err);
    else
        yw_reply_raw(req, 204, "application/json", NULL, 0);
}

/* Starts a copy every config->backup_every seconds until yw_backups_finish. */
static void *schedule_main(void *arg)
{
    const yw_app *app = arg;
    pthread_mutex_lock(&state.lock);
    while (!state.stopping) {
        struct timespec next;
        clock_gettime(CLOCK_REALTIME, &next);
        next.tv_sec += app->config->backup_every;
        while (!state.stopping && pthread_cond_timedwait(&state.wake, &state.lock, &next) == 0)
            ;
        if (state.stopping)
            break;
        pthread_mutex_unlock(&state.lock);
        char name[NAME_MAX_LEN];
        int64_t started_at;
        int rc = start_copy(app, true, name, &started_at);
        if (rc == YW_ECONFLICT)
            yw_logf(YW_LOG_WARN, "scheduled backup skipped: %s is still being made", name);
        else if (rc < 0)
            yw_logf(YW_LOG_ERROR, "scheduled backup not started: %s", rc == YW_EIO ? strerror(errno) : yw_strerror(rc));
        pthread_mutex_lock(&state.lock);
    }
    pthread_mutex_unlock(&state.lock);
    return NULL;
}

void yw_backups_start(const yw_app *app)
{
    state.app = app;
    if (app->config->backup_every <= 0 || state.scheduling)
        return;
    if (pthread_create(&state.scheduler, NULL, schedule_main, (void *)app) == 0)
        state.scheduling = true;
    else
        yw_logf(YW_LOG_ERROR, "no thread for scheduled backups: none will be made");
}

void yw_backups_metrics(yw_buf *out)
{
    const yw_app *app = state.app;
    if (!app)
        return;
    /* The newest copy on disk, whoever made it and whenever: what an alert on stale backups needs. */
    char dir[PATH_MAX], path[PATH_LEN];
    snprintf(dir, sizeof dir, "%s/backups", app->config->data_dir);
    struct dirent **names;
    int n = scan_copies(dir, &names);
    struct stat st;
    double newest = n > 0 && path_in(path, dir, "", names[0]->d_name, "") && stat(path, &st) == 0
                        ? (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9
                        : 0;
    free_scan(names, n);
    pthread_mutex_lock(&state.lock);
    bool running = state.running;
    uint64_t failures = state.failures;
    pthread_mutex_unlock(&state.lock);
    yw_buf_printf(out,
                  "# HELP yiwang_backup_newest_seconds When the newest copy in DIR/backups was written (Unix time);"
                  " 0: none.\n# TYPE yiwang_backup_newest_seconds gauge\nyiwang_backup_newest_seconds %.3f\n"
                  "# HELP yiwang_backup_copies Copies in DIR/backups.\n"
                  "# TYPE yiwang_backup_copies gauge\nyiwang_backup_copies %d\n"
                  "# HELP yiwang_backup_running 1 while a copy is being made.\n"
                  "# TYPE yiwang_backup_running gauge\nyiwang_backup_running %d\n"
                  "# HELP yiwang_backup_failures_total Copies that failed since the server started.\n"
                  "# TYPE yiwang_backup_failures_total counter\nyiwang_backup_failures_total %llu\n",
                  newest, n, running, (unsigned long long)failures);
}

void yw_backups_finish(void)
{
    pthread_mutex_lock(&state.lock);
    state.stopping = true;
    pthread_cond_broadcast(&state.wake);
    pthread_mutex_unlock(&state.lock);
    if (state.scheduling)
        pthread_join(state.scheduler, NULL);
    state.scheduling = false;
    pthread_mutex_lock(&state.lock);
    state.stopping = false;
    bool join = state.joinable;
    pthread_t thread = state.thread;
    state.joinable = false;
    pthread_mutex_unlock(&state.lock);
    if (join)
        pthread_join(thread, NULL);
}

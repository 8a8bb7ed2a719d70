/*
 * init, and the first-start bootstrap that serve shares with it.
 *
 * The three platform accounts (三员: system, security and audit
 * administrators) are created in the data bureau with generated passwords
 * that must be changed at first sign-in. Their credentials are printed once,
 * as one JSON object, and never stored in clear.
 */
#include "cli/cli.h"

#include "app/app.h"
#include "authz/policy.h"
#include "core/error.h"
#include "core/log.h"
#include "registry/registry.h"
#include "sec/password.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_config(yw_config *cfg, int argc, char **argv)
{
    int npos = 0;
    yw_config_defaults(cfg);
    if (yw_config_from_env(cfg, stderr) < 0 || yw_config_from_args(cfg, argc, argv, &npos, stderr) < 0)
        return 2;
    if (npos > 0) {
        fprintf(stderr, "yiwang: unexpected argument '%s'\n", argv[0]);
        return 2;
    }
    if (!cfg->data_dir || !*cfg->data_dir) {
        fprintf(stderr, "yiwang: --data DIR is required (or YIWANG_DATA)\n");
        return 2;
    }
    int level = yw_log_level_parse(cfg->log_level);
    if (level < 0) {
        fprintf(stderr, "yiwang: --log-level must be debug, info, warn, error or off\n");
        return 2;
    }
    yw_log_set_level((yw_log_level)level);
    return 0;
}

int cli_calendar(const yw_config *cfg, yw_calendar *out)
{
    char why[256];
    if (yw_calendar_init(out, cfg->holidays, cfg->workdays, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "yiwang: --holidays/--workdays: %s\n", why);
    return -1;
}

bool cli_held_exclusively(const char *data_dir)
{
    char path[4200], mode[sizeof CLI_LOCK_EXCLUSIVE] = "";
    snprintf(path, sizeof path, "%s/yiwang.lock", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    held = held && pread(fd, mode, sizeof mode - 1, 0) == (ssize_t)sizeof mode - 1 &&
           strcmp(mode, CLI_LOCK_EXCLUSIVE) == 0;
    close(fd);
    return held;
}

int cli_open(const yw_config *cfg, cli_data *out)
{
    out->store = NULL;
    out->audit = NULL;
    out->keys = NULL;
    out->lock_fd = -1;
    if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "yiwang: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
        return -1;
    }
    char url[4200], err[512];
    snprintf(url, sizeof url, "%s/yiwang.lock", cfg->data_dir);
    out->lock_fd = open(url, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (out->lock_fd < 0 || flock(out->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "yiwang: %s is in use by another yiwang process (a running server?): %s\n", cfg->data_dir,
                errno == EWOULDBLOCK ? "stop it first, or use the API" : strerror(errno));
        if (out->lock_fd >= 0)
            close(out->lock_fd);
        out->lock_fd = -1;
        return -1;
    }
    /* say how the database is held, for readers that would otherwise wait on its locks */
    const char *mode = cfg->db_exclusive ? CLI_LOCK_EXCLUSIVE : "";
    if (ftruncate(out->lock_fd, 0) < 0 || pwrite(out->lock_fd, mode, strlen(mode), 0) < 0)
        yw_logf(YW_LOG_WARN, "cannot write %s/yiwang.lock: %s", cfg->data_dir, strerror(errno));
    snprintf(url, sizeof url, "sqlite:%s/yiwang.db", cfg->data_dir);
    out->store = yw_store_open(url, cfg->db_exclusive ? YW_DB_EXCLUSIVE : 0, err, sizeof err);
    if (out->store)
        yw_writer_watch_tables(yw_store_writer(out->store), yw_app_cached_tables);
    if (out->store)
        out->audit = yw_audit_open(out->store, cfg->data_dir, err, sizeof err);
    if (out->audit)
        out->keys = yw_keyring_open(cfg->data_dir, err, sizeof err);
    if (!out->keys) {
        yw_audit_close(out->audit);
        out->audit = NULL;
        fprintf(stderr, "yiwang: %s\n", err);
        yw_store_close(out->store);
        out->store = NULL;
        close(out->lock_fd);
        out->lock_fd = -1;
        return -1;
    }
    return 0;
}

void cli_close(cli_data *d)
{
    yw_keyring_close(d->keys);
    d->keys = NULL;
    yw_audit_close(d->audit);
    yw_store_close(d->store);
    d->audit = NULL;
    d->store = NULL;
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* releases the lock */
    d->lock_fd = -1;
}

typedef struct {
    const yw_config *cfg;
    yw_audit *audit;
    json_t *creds;
} bootstrap;

static int bootstrap_job(yw_db *db, void *arg)
{
    bootstrap *b = arg;
    int rc = yw_user_count(db);
    if (rc != 0)
        return rc < 0 ? rc : YW_ESTATE; /* initialised before */
    yw_org bureau = {.code = b->cfg->bureau_code, .name = b->cfg->bureau_name,
                     .region_code = b->cfg->region_code, .level = "city"};
    if (yw_org_exists(db, bureau.code) == 0 &&
        ((rc = yw_org_insert(db, &bureau)) < 0 ||
         (rc = (int)yw_audit_system(b->audit, db, "yiwang init", "org.create", "org", bureau.code)) < 0))
        return rc;
    static const struct {
        const char *username, *display;
        unsigned role;
    } admins[] = {
        {"sysadmin", "系统管理员", YW_ROLE_SYSADMIN},
        {"secadmin", "安全管理员", YW_ROLE_SECADMIN},
        {"auditor", "审计管理员", YW_ROLE_AUDITOR},
    };
    b->creds = json_object();
    for (size_t i = 0; i < 3; i++) {
        char password[17], hash[YW_PASSWORD_HASH_LEN];
        yw_password_generate(password);
        if (yw_password_hash(password, hash) < 0)
            return YW_ENOMEM;
        yw_user_new u = {.username = admins[i].username, .display_name = admins[i].display,
                         .org_code = bureau.code, .roles = admins[i].role, .password_hash = hash,
                         .must_change_password = true};
        if ((rc = yw_user_insert(db, &u)) < 0 ||
            (rc = (int)yw_audit_system(b->audit, db, "yiwang init", "user.create", "user", u.username)) < 0)
            return rc;
        json_object_set_new(b->creds, admins[i].username,
                            json_pack("{s:s, s:s}", "username", admins[i].username, "password", password));
    }
    return yw_setting_set(db, "bureau_code", bureau.code);
}

int cli_bootstrap(cli_data *d, const yw_config *cfg, json_t **creds)
{
    *creds = NULL;
    yw_org bureau = {.code = cfg->bureau_code, .name = cfg->bureau_name, .region_code = cfg->region_code,
                     .level = "city"};
    const char *why = yw_org_validate(&bureau);
    if (why) {
        fprintf(stderr, "yiwang: the data bureau: %s\n", why);
        return YW_EINVAL;
    }
    bootstrap b = {.cfg = cfg, .audit = d->audit};
    int rc = yw_writer_run(yw_store_writer(d->store), bootstrap_job, &b);
    if (rc == YW_ESTATE) {
        json_decref(b.creds);
        return 0;
    }
    if (rc < 0) {
        json_decref(b.creds);
        fprintf(stderr, "yiwang: initialising: %s\n", yw_strerror(rc));
        return rc;
    }
    *creds = b.creds;
    return 0;
}

int cli_init(int argc, char **argv)
{
    yw_config cfg;
    int rc = cli_config(&cfg, argc, argv);
    if (rc) {
        yw_config_free(&cfg);
        return rc;
    }
    cli_data d;
    json_t *creds = NULL;
    if (cli_open(&cfg, &d) == 0 && cli_bootstrap(&d, &cfg, &creds) == 0 && !creds)
        fprintf(stderr, "yiwang: %s is already initialised\n", cfg.data_dir);
    if (creds) {
        char *text = json_dumps(creds, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
    }
    int status = creds ? 0 : 1;
    json_decref(creds);
    cli_close(&d);
    yw_config_free(&cfg);
    return status;
}

/* Configuration from defaults, environment and flags (see config.h). */
#include "core/config.h"

#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPT_STRING, OPT_INT, OPT_BOOL } opt_type;

typedef struct {
    const char *flag, *env;
    opt_type type;
    size_t offset;
    int min, max;
    const char *help;
} option;

#define OFF(f) offsetof(yw_config, f)
/* loopback, "this network", link-local (cloud metadata), in IPv4 and IPv6 */
#define EGRESS_DENY "127.0.0.0/8,0.0.0.0/8,169.254.0.0/16,::1/128,::/128,fe80::/10"

static const option options[] = {
    {"--data", "YIWANG_DATA", OPT_STRING, OFF(data_dir), 0, 0, "data directory (database, keys)"},
    {"--listen", "YIWANG_LISTEN", OPT_STRING, OFF(listen), 0, 0, "address:port to serve on (127.0.0.1:8080)"},
    {"--threads", "YIWANG_THREADS", OPT_INT, OFF(threads), 1, 256, "HTTP worker threads (2 per usable core)"},
    {"--log-level", "YIWANG_LOG_LEVEL", OPT_STRING, OFF(log_level), 0, 0, "debug|info|warn|error|off (info)"},
    {"--tls-cert", "YIWANG_TLS_CERT", OPT_STRING, OFF(tls_cert), 0, 0, "PEM certificate: serve HTTPS"},
    {"--tls-key", "YIWANG_TLS_KEY", OPT_STRING, OFF(tls_key), 0, 0, "PEM private key for --tls-cert"},
    {"--body-limit", "YIWANG_BODY_LIMIT", OPT_INT, OFF(body_limit), 1024, INT_MAX, "largest request body in bytes (1048576)"},
    {"--session-idle", "YIWANG_SESSION_IDLE", OPT_INT, OFF(session_idle), 1, INT_MAX, "session idle timeout, seconds (1800)"},
    {"--session-max", "YIWANG_SESSION_MAX", OPT_INT, OFF(session_max), 1, INT_MAX, "session absolute lifetime, seconds (43200)"},
    {"--rate-limit", "YIWANG_RATE_LIMIT", OPT_INT, OFF(rate_limit), 0, 1000000,
     "requests a second per user or client, bursts of twice that; 0: none (200)"},
    {"--demo", "YIWANG_DEMO", OPT_BOOL, OFF(demo), 0, 0, "load the demo city"},
    {"--db-exclusive", "YIWANG_DB_EXCLUSIVE", OPT_BOOL, OFF(db_exclusive), 0, 0,
     "hold the database alone: faster reads, but no other process (sqlite3, audit verify) opens it meanwhile;"
     " copy it with POST /api/v1/backups"},
    {"--bureau-code", "YIWANG_BUREAU_CODE", OPT_STRING, OFF(bureau_code), 0, 0, "USCC of the data bureau (init)"},
    {"--bureau-name", "YIWANG_BUREAU_NAME", OPT_STRING, OFF(bureau_name), 0, 0, "name of the data bureau (init)"},
    {"--people", "YIWANG_DEMO_PEOPLE", OPT_INT, OFF(demo_people), 0, 100000000, "residents of the demo city (10000)"},
    {"--region", "YIWANG_REGION", OPT_STRING, OFF(region_code), 0, 0, "6-digit region code of the platform (330100)"},
    {"--request-days", "YIWANG_REQUEST_DAYS", OPT_INT, OFF(request_days), 1, 365,
     "working days to decide a share request (5)"},
    {"--grant-days", "YIWANG_GRANT_DAYS", OPT_INT, OFF(grant_days), 1, 36500, "longest validity of a grant, days (365)"},
    {"--holidays", "YIWANG_HOLIDAYS", OPT_STRING, OFF(holidays), 0, 0, "rest days, as 2026-10-01,2026-10-02,..."},
    {"--workdays", "YIWANG_WORKDAYS", OPT_STRING, OFF(workdays), 0, 0, "weekend days that are worked (调休), same form"},
    {"--objection-days", "YIWANG_OBJECTION_DAYS", OPT_INT, OFF(objection_days), 1, 365,
     "working days to answer a data objection (5)"},
    {"--egress-deny", "YIWANG_EGRESS_DENY", OPT_STRING, OFF(egress_deny), 0, 0,
     "networks outbound calls (webhooks, services) may not reach, CIDR,... (" EGRESS_DENY ")"},
    {"--access-body-limit", "YIWANG_ACCESS_BODY_LIMIT", OPT_INT, OFF(access_body_limit), 1024, INT_MAX,
     "largest body of a mediated call, each way, bytes (52428800)"},
    {"--access-connect-timeout", "YIWANG_ACCESS_CONNECT_TIMEOUT", OPT_INT, OFF(access_connect_timeout), 1, 600,
     "seconds to connect to a provider (5)"},
    {"--access-timeout", "YIWANG_ACCESS_TIMEOUT", OPT_INT, OFF(access_timeout), 1, 86400,
     "seconds a mediated call may take in all (60)"},
    {"--access-health-interval", "YIWANG_ACCESS_HEALTH_INTERVAL", OPT_INT, OFF(access_health_interval), 1, 3600,
     "seconds between provider health checks (10)"},
    {"--backup-every", "YIWANG_BACKUP_EVERY", OPT_INT, OFF(backup_every), 0, 31536000,
     "seconds between backups the server makes by itself into DIR/backups; 0: none (0)"},
    {"--backup-keep", "YIWANG_BACKUP_KEEP", OPT_INT, OFF(backup_keep), 0, 100000,
     "copies kept in DIR/backups, the newest, after each new one; 0: all (0)"},
};

#define NOPTIONS (sizeof options / sizeof options[0])

void yw_config_defaults(yw_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen = strdup("127.0.0.1:8080");
    c->threads = 0; /* chosen at start: see yw_config_threads */
    c->log_level = strdup("info");
    c->body_limit = 1 << 20;
    c->session_idle = 1800;
    c->session_max = 43200;
    c->rate_limit = 200;
    c->demo_people = 10000;
    c->egress_deny = strdup(EGRESS_DENY);
    c->bureau_code = strdup("11330100002497102C");
    c->bureau_name = strdup("市大数据管理局");
    c->region_code = strdup("330100");
    c->request_days = 5;
    c->grant_days = 365;
    c->objection_days = 5;
    c->access_body_limit = 50 << 20;
    c->access_connect_timeout = 5;
    c->access_timeout = 60;
    c->access_health_interval = 10;
}

static int set(yw_config *c, const option *o, const char *value, const char *source, FILE *err)
{
    void *field = (char *)c + o->offset;
    switch (o->type) {
    case OPT_STRING:
        free(*(char **)field);
        *(char **)field = strdup(value);
        return 0;
    case OPT_INT: {
        char *end;
        long v = strtol(value, &end, 10);
        if (!*value || *end || v < o->min || v > o->max) {
            fprintf(err, "yiwang: %s must be an integer from %d to %d\n", source, o->min, o->max);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    }
    case OPT_BOOL:
        *(bool *)field = strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0;
        return 0;
    }
    return -1;
}

int yw_config_from_env(yw_config *c, FILE *err)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *v = options[i].env ? getenv(options[i].env) : NULL;
        if (v && set(c, &options[i], v, options[i].env, err) < 0)
            return -1;
    }
    return 0;
}

int yw_config_from_args(yw_config *c, int argc, char **argv, int *npos, FILE *err)
{
    int pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || strcmp(arg, "--") == 0) {
            argv[pos++] = argv[i];
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const option *o = NULL;
        for (size_t k = 0; k < NOPTIONS; k++)
            if (strlen(options[k].flag) == name_len && strncmp(options[k].flag, arg, name_len) == 0)
                o = &options[k];
        if (!o) {
            fprintf(err, "yiwang: unknown option %s\n", arg);
            return -1;
        }
        const char *value;
        if (o->type == OPT_BOOL)
            value = eq ? eq + 1 : "true";
        else if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(err, "yiwang: %s needs a value\n", o->flag);
            return -1;
        }
        if (set(c, o, value, o->flag, err) < 0)
            return -1;
    }
    *npos = pos;
    return 0;
}

int yw_config_threads(const yw_config *c)
{
    if (c->threads > 0)
        return c->threads;
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return 2 * (cores > 0 ? cores : 1);
}

void yw_config_usage(FILE *out)
{
    fputs("options (each also from the environment variable shown):\n", out);
    for (size_t i = 0; i < NOPTIONS; i++)
        fprintf(out, "  %-16s %-22s %s\n", options[i].flag, options[i].env ? options[i].env : "",
                options[i].help);
}

void yw_config_free(yw_config *c)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].type == OPT_STRING) {
            char **field = (char **)((char *)c + options[i].offset);
            free(*field);
            *field = NULL;
        }
}

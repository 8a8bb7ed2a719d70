/*
 * Configuration: defaults, then YIWANG_* environment variables, then
 * command-line flags, each overriding the one before. One table describes
 * every option (flag, variable, type, help) so the three sources and the
 * --help text cannot drift apart.
 */
#ifndef YW_CORE_CONFIG_H
#define YW_CORE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    char *data_dir;      /* --data, YIWANG_DATA */
    char *listen;        /* --listen ADDR:PORT, YIWANG_LISTEN */
    int threads;         /* --threads: HTTP worker threads; 0 = automatic */
    char *log_level;     /* --log-level */
    char *tls_cert;      /* --tls-cert PEM file */
    char *tls_key;       /* --tls-key PEM file */
    int body_limit;      /* --body-limit bytes, default 1 MiB */
    int session_idle;    /* --session-idle seconds, default 1800 */
    int session_max;     /* --session-max seconds, default 43200 */
    int rate_limit;      /* --rate-limit: requests a second per user or client, 0 = none */
    bool demo;           /* --demo: load the demo city */
    bool db_exclusive;   /* --db-exclusive: no other process opens the database meanwhile (YW_DB_EXCLUSIVE) */
    char *bureau_code;   /* --bureau-code: USCC of the data bureau created by init */
    char *bureau_name;   /* --bureau-name */
    char *region_code;   /* --region: the platform's GB/T 2260 region */
    int demo_people;     /* --people: residents of the demo city (enterprises: a fifth of that) */
    int request_days;    /* --request-days: working days a provider has to decide a share request */
    int grant_days;      /* --grant-days: longest validity of a grant, in days */
    char *holidays;      /* --holidays: comma-separated dates that are not working days */
    char *workdays;      /* --workdays: comma-separated weekend dates that are working days */
    int objection_days;  /* --objection-days: working days a provider has to answer a data objection */
    char *egress_deny;   /* --egress-deny: networks outbound calls may not reach (sec/egress.h) */
    int access_body_limit;      /* --access-body-limit: largest body of a mediated call, each way (50 MiB) */
    int access_connect_timeout; /* --access-connect-timeout: seconds to reach a provider (5) */
    int access_timeout;         /* --access-timeout: seconds a mediated call may take in all (60) */
    int access_health_interval; /* --access-health-interval: seconds between provider health checks (10) */
    int backup_every;           /* --backup-every: seconds between backups the server makes itself; 0: none */
    int backup_keep;            /* --backup-keep: copies kept in DIR/backups after each new one; 0: all */
} yw_config;

void yw_config_defaults(yw_config *c);

/* Applies YIWANG_* variables. Returns 0 or -1 with a message on err. */
int yw_config_from_env(yw_config *c, FILE *err);

/*
 * Applies flags from argv[0..argc); positional arguments are left in
 * order in argv and their count returned through *npos. Returns 0 or -1
 * with a message on err.
 */
int yw_config_from_args(yw_config *c, int argc, char **argv, int *npos, FILE *err);

/*
 * Worker threads to start: the configured number, or two per core this
 * process may run on (workers block while their writes commit, so one
 * spare per core keeps the core busy without hurting tail latency).
 */
int yw_config_threads(const yw_config *c);

void yw_config_usage(FILE *out);
void yw_config_free(yw_config *c);

#endif

/*
 * yiwang serve: open (and on first start initialise) the store, optionally
 * load the demo city, serve HTTP until SIGTERM or SIGINT, then stop
 * accepting, let requests in flight finish, flush the writer and exit 0.
 *
 * Signals are blocked in every thread (main blocks them before any thread
 * starts) and taken synchronously with sigwait, so no work happens in a
 * signal handler.
 */
#include "cli/cli.h"

#include "access/access.h"
#include "app/app.h"
#include "authz/policy.h"
#include "backup/backup.h"
#include "core/log.h"
#include "data/reencrypt.h"
#include "demo/demo.h"
#include "http/server.h"
#include "identity/identity.h"
#include "registry/registry.h"
#include "sharing/webhooks.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            data = realloc(data, cap);
            if (!data)
                abort();
        }
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (data)
        data[len] = '\0';
    return data;
}

static void print_json(const char *title, json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2));
    fprintf(stderr, "%s\n%s\n", title, text);
    free(text);
}

/* The domain modules' lines of /metrics. */
static void domain_metrics(yw_buf *out)
{
    access_stats_render(out);
    yw_backups_metrics(out);
}

int cli_serve(int argc, char **argv)
{
    yw_config cfg;
    int status = cli_config(&cfg, argc, argv);
    if (status) {
        yw_config_free(&cfg);
        return status;
    }
    char *cert = NULL, *key = NULL;
    if (cfg.tls_cert || cfg.tls_key) {
        cert = cfg.tls_cert ? read_file(cfg.tls_cert) : NULL;
        key = cfg.tls_key ? read_file(cfg.tls_key) : NULL;
        if (!cert || !key) {
            fprintf(stderr, "yiwang: HTTPS needs both --tls-cert and --tls-key as readable PEM files\n");
            free(cert);
            free(key);
            yw_config_free(&cfg);
            return 2;
        }
    }
    yw_egress egress;
    char why[200];
    if (yw_egress_parse(cfg.egress_deny, &egress, why, sizeof why) < 0) {
        fprintf(stderr, "yiwang: --egress-deny: %s\n", why);
        free(cert);
        free(key);
        yw_config_free(&cfg);
        return 2;
    }
    yw_calendar calendar;
    if (cli_calendar(&cfg, &calendar) < 0) {
        free(cert);
        free(key);
        yw_config_free(&cfg);
        return 2;
    }
    status = 1;
    yw_router *router = NULL;
    yw_reencryptor *reencryptor = NULL;
    yw_webhooks *webhooks = NULL;
    access_runtime *access = NULL;
    cli_data d;
    if (cli_open(&cfg, &d) < 0)
        goto done;
    json_t *creds;
    if (cli_bootstrap(&d, &cfg, &creds) < 0)
        goto done;
    if (creds) {
        print_json("Platform administrators (shown once; each must change the password at first sign-in):", creds);
        json_decref(creds);
    }
    if (cfg.demo) {
        char err[512];
        json_t *accounts = yw_demo_load(d.store, d.audit, d.keys, &cfg, &calendar, err, sizeof err);
        if (!accounts) {
            fprintf(stderr, "yiwang: %s\n", err);
            goto done;
        }
        print_json("Demo city accounts:", accounts);
        json_decref(accounts);
    }
    yw_app app = {.config = &cfg, .store = d.store, .audit = d.audit, .keys = d.keys, .calendar = &calendar,
               .egress = &egress};
    char bureau[32] = "";
    yw_db *reader = yw_store_reader(d.store);
    if (!reader || yw_setting_get(reader, "bureau_code", bureau, sizeof bureau) < 0) {
        fprintf(stderr, "yiwang: cannot read the platform settings\n");
        goto done;
    }
    yw_authz_set_bureau(bureau);
    router = yw_router_new();
    yw_app_add_routes(router);
    yw_server_config scfg = {.listen = cfg.listen, .threads = yw_config_threads(&cfg), .body_limit = (size_t)cfg.body_limit,
                             .tls_cert = cert, .tls_key = key, .store = d.store, .app = &app,
                             .authenticate = yw_identity_authenticate, .record = yw_app_record,
                             .record_deferred = yw_app_record_deferred,
                             .handler_done = yw_app_handler_done, .rate_limit = cfg.rate_limit,
                             .metrics_extra = domain_metrics};
    char err[512];
    reencryptor = yw_reencrypt_start(d.store, d.audit, d.keys, cfg.data_dir);
    yw_backups_start(&app);
    access = access_start(d.store, d.audit, &cfg, &egress);
    if (!access) {
        fprintf(stderr, "yiwang: cannot start mediated calls\n");
        goto done;
    }
    yw_server *server = yw_server_start(&scfg, router, err, sizeof err);
    if (!server) {
        fprintf(stderr, "yiwang: %s\n", err);
        goto done;
    }
    webhooks = yw_webhooks_start(d.store, d.audit, d.keys, &egress);
    if (!webhooks) {
        fprintf(stderr, "yiwang: cannot start webhook delivery\n");
        yw_server_stop(server, 0);
        goto done;
    }
    char url[128];
    snprintf(url, sizeof url, "%s://%.*s:%d", cert ? "https" : "http", (int)strcspn(cfg.listen, ":"), cfg.listen,
             yw_server_port(server));
    yw_log(YW_LOG_INFO, "listening",
           json_pack("{s:s, s:i, s:s}", "url", url, "port", yw_server_port(server), "data", cfg.data_dir));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    yw_logf(YW_LOG_INFO, "%s received: finishing requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    yw_server_stop(server, 10000);
    status = 0;
done:
    yw_webhooks_stop(webhooks);
    access_stop(access); /* after the server: no call is left but the transfers' */
    yw_reencrypt_stop(reencryptor);
    yw_backups_finish();
    cli_close(&d); /* signs a last tree head, flushes the writer */
    if (status == 0)
        yw_logf(YW_LOG_INFO, "stopped");
    yw_router_free(router);
    yw_calendar_free(&calendar);
    free(cert);
    free(key);
    yw_config_free(&cfg);
    return status;
}

int cli_demo(int argc, char **argv)
{
    yw_config cfg;
    int status = cli_config(&cfg, argc, argv);
    if (status) {
        yw_config_free(&cfg);
        return status;
    }
    yw_calendar calendar;
    if (cli_calendar(&cfg, &calendar) < 0) {
        yw_config_free(&cfg);
        return 2;
    }
    status = 1;
    cli_data d;
    json_t *creds = NULL;
    if (cli_open(&cfg, &d) == 0 && cli_bootstrap(&d, &cfg, &creds) == 0) {
        if (creds)
            print_json("Platform administrators (shown once; each must change the password at first sign-in):", creds);
        char err[512];
        json_t *accounts = yw_demo_load(d.store, d.audit, d.keys, &cfg, &calendar, err, sizeof err);
        if (accounts) {
            char *text = json_dumps(accounts, JSON_INDENT(2));
            printf("%s\n", text);
            free(text);
            json_decref(accounts);
            status = 0;
        } else {
            fprintf(stderr, "yiwang: %s\n", err);
        }
    }
    json_decref(creds);
    cli_close(&d);
    yw_calendar_free(&calendar);
    yw_config_free(&cfg);
    return status;
}

/*
 * Subcommands of the yiwang binary. Each takes the arguments after its
 * name and returns the process exit status.
 */
#ifndef YW_CLI_CLI_H
#define YW_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "store/store.h"

int cli_init(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_keys(int argc, char **argv);

/*
 * Reads configuration (defaults, environment, then argv) into cfg; the data
 * directory is required. Returns 0, or 2 after printing the problem.
 */
int cli_config(yw_config *cfg, int argc, char **argv);

#include "audit/log.h"
#include "core/calendar.h"
#include "sec/keyring.h"

/* The working-day calendar of --holidays and --workdays; 0, or -1 after printing the bad date. */
int cli_calendar(const yw_config *cfg, yw_calendar *out);

/* The store and the audit log of a data directory, as every command opens them. */
typedef struct {
    yw_store *store;
    yw_audit *audit;
    yw_keyring *keys;
    int lock_fd; /* DIR/yiwang.lock, held while open: one writer process per directory */
} cli_data;

/* What DIR/yiwang.lock holds while a process opened with --db-exclusive holds it. */
#define CLI_LOCK_EXCLUSIVE "db-exclusive\n"

/* Whether a running process holds DIR's database alone (--db-exclusive): no other may read it. */
bool cli_held_exclusively(const char *data_dir);

/*
 * Creates the data directory and opens its store, audit log and keys; 0,
 * or -1 after printing why. Only one process at a time may hold a data
 * directory open this way (the audit log's frontier lives in its memory):
 * a second one — `yiwang import` while the server runs — is refused.
 */
int cli_open(const yw_config *cfg, cli_data *out);
/* Closes the audit log (signing a last tree head), then the store. */
void cli_close(cli_data *d);

/*
 * First start: when the store has no users, creates the data bureau and the
 * sysadmin, secadmin and auditor accounts with generated passwords that must
 * be changed, and returns their credentials (new reference) in *creds.
 * *creds is NULL when the store was initialised before. Returns 0 or < 0.
 */
int cli_bootstrap(cli_data *d, const yw_config *cfg, json_t **creds);

#endif

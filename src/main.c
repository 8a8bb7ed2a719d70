/*
 * yiwang: one binary, one subcommand per job.
 *
 * Before anything else starts a thread, SIGTERM and SIGINT are blocked so
 * that every thread inherits the mask and serve can take them with sigwait;
 * SIGPIPE is ignored so a client that hangs up cannot kill the server.
 */
#include "cli/cli.h"
#include "core/config.h"
#include "core/json.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define YW_VERSION "0.1.0"

static void usage(FILE *out)
{
    fputs("usage: yiwang COMMAND [options]\n\n"
          "commands:\n"
          "  init  --data DIR    create DIR and its database; print the platform administrators as JSON\n"
          "  serve --data DIR    serve the API (--listen ADDR:PORT, --demo, --tls-cert/--tls-key)\n"
          "  demo  --data DIR    load the demo city (idempotent); print its accounts as JSON\n"
          "  import --data DIR --resource CODE FILE\n"
          "                      load a CSV or NDJSON file into a resource, with progress\n"
          "  keys rotate --data DIR          add a key for data at rest; the server re-encrypts in the background\n"
          "  audit key --data DIR            print the audit log's public key\n"
          "  audit verify --data DIR [COPY]  recompute the whole audit log (of COPY, a backup, when given); exit 0 only if intact\n"
          "  audit verify-proof (--key B64 | --data DIR) FILE\n"
          "                                  check a saved proof or export offline\n"
          "  version             print the version\n\n",
          out);
    yw_config_usage(out);
}

int main(int argc, char **argv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* libsodium's own ChaCha20 generator, seeded once, instead of a system call for every nonce. */
    randombytes_set_implementation(&randombytes_internal_implementation);
    if (sodium_init() < 0) {
        fputs("yiwang: libsodium cannot start\n", stderr);
        return 1;
    }
    yw_json_wipe_on_free();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "init") == 0)
        return cli_init(argc - 2, argv + 2);
    if (strcmp(cmd, "serve") == 0)
        return cli_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "demo") == 0)
        return cli_demo(argc - 2, argv + 2);
    if (strcmp(cmd, "audit") == 0)
        return cli_audit(argc - 2, argv + 2);
    if (strcmp(cmd, "import") == 0)
        return cli_import(argc - 2, argv + 2);
    if (strcmp(cmd, "keys") == 0)
        return cli_keys(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        puts("yiwang " YW_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "yiwang: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}

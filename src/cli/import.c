/*
 * yiwang import --data DIR --resource CODE FILE
 *
 * Loads a local CSV or NDJSON file (by its extension, or --format) into a
 * resource, for operators bringing in legacy data: the same importer as
 * POST .../records:import — every row validated, sensitive values
 * encrypted, batches committed durably and audited as "yiwang import" —
 * without going through HTTP. On a terminal it shows rows done, rows per
 * second, rows rejected and the time left; the report goes to stdout.
 */
#include "cli/cli.h"

#include "core/arena.h"
#include "core/error.h"
#include "core/time.h"
#include "data/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct cli_sink cli_sink;

/* One batch on its way to the writer. */
typedef struct {
    cli_sink *sink;
    record_write *rows;
    int n;
    import_fresh *fresh;
    yw_write_ticket ticket;
} cli_batch;

struct cli_sink {
    yw_store *store;
    yw_audit *audit;
    const char *code;
    cli_batch batches[2];
};

static int store_job(yw_db *db, void *arg)
{
    cli_batch *b = arg;
    bool changed;
    int rc = import_store_rows(db, b->rows, b->n, b->fresh, &changed);
    if (rc >= 0 && changed)
        rc = (int)yw_audit_system(b->sink->audit, db, "yiwang import", "record.import", "resource", b->sink->code);
    return rc < 0 ? rc : 0;
}

/* The file is read and the next batch prepared while this one commits. */
static void submit(void *sink, int slot, record_write *rows, int n, import_fresh *fresh)
{
    cli_sink *s = sink;
    s->batches[slot] = (cli_batch){.sink = s, .rows = rows, .n = n, .fresh = fresh};
    yw_writer_submit(yw_store_writer(s->store), &s->batches[slot].ticket, store_job, &s->batches[slot]);
}

static int wait_for(void *sink, int slot)
{
    cli_sink *s = sink;
    return yw_writer_wait(yw_store_writer(s->store), &s->batches[slot].ticket);
}

static const import_sink sink_ops = {submit, wait_for};

static void progress(const import_state *st, int64_t done, int64_t total, int64_t started_ns, bool final)
{
    int64_t rows, rejected;
    import_progress(st, &rows, &rejected);
    double secs = (double)(yw_mono_ns() - started_ns) / 1e9;
    double rate = secs > 0 ? (double)rows / secs : 0;
    double left = done > 0 && total > done ? secs * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "\r%lld rows, %.0f rows/s, %lld rejected, %02d:%02d left   %s", (long long)rows, rate,
            (long long)rejected, (int)(left / 60), (int)left % 60, final ? "\n" : "");
}

int cli_import(int argc, char **argv)
{
    const char *data_dir = NULL, *code = NULL, *file = NULL, *format = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strcmp(argv[i], "--resource") == 0 && i + 1 < argc)
            code = argv[++i];
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf(stderr, "yiwang import: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!data_dir || !code || !file) {
        fputs("usage: yiwang import --data DIR --resource CODE [--format csv|ndjson] FILE\n", stderr);
        return 2;
    }
    if (!format) {
        const char *dot = strrchr(file, '.');
        format = dot && strcmp(dot, ".csv") == 0 ? "csv" : dot && (!strcmp(dot, ".ndjson") || !strcmp(dot, ".jsonl")) ? "ndjson" : NULL;
    }
    if (!format || (strcmp(format, "csv") && strcmp(format, "ndjson"))) {
        fputs("yiwang import: say --format csv or --format ndjson (the file's extension does not tell)\n", stderr);
        return 2;
    }
    FILE *in = fopen(file, "rb");
    if (!in) {
        perror(file);
        return 2;
    }
    struct stat sb;
    int64_t total = fstat(fileno(in), &sb) == 0 ? (int64_t)sb.st_size : 0;
    yw_config cfg;
    yw_config_defaults(&cfg);
    cfg.data_dir = strdup(data_dir);
    cli_data d;
    int status = 1;
    yw_arena *arena = yw_arena_new(0);
    import_state *st = NULL;
    if (cli_open(&cfg, &d) < 0)
        goto done;
    resource_spec r;
    int rc = resource_spec_load(arena, yw_store_reader(d.store), code, &r);
    if (rc < 0) {
        fprintf(stderr, "yiwang import: %s\n", rc == YW_ENOTFOUND ? "no resource with that code" : yw_strerror(rc));
        goto done;
    }
    if (!r.key_item || strcmp(r.status, "retired") == 0) {
        fprintf(stderr, "yiwang import: the resource %s\n", r.key_item ? "is retired" : "has no key item yet");
        goto done;
    }
    cli_sink sink = {.store = d.store, .audit = d.audit, .code = r.code};
    record_ctx ctx = {.arena = arena, .keys = d.keys, .source = "yiwang import"};
    st = import_begin(&r, strcmp(format, "csv") == 0, ctx, &sink_ops, &sink);
    if (!st)
        goto done;
    bool tty = isatty(STDERR_FILENO);
    int64_t started = yw_mono_ns(), shown = 0, done = 0;
    static char chunk[1 << 20];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        import_feed(st, chunk, n);
        done += (int64_t)n;
        int why_rc;
        if (import_failure(st, &why_rc))
            break;
        if (tty && yw_mono_ns() - shown > 250000000) {
            progress(st, done, total, started, false);
            shown = yw_mono_ns();
        }
    }
    import_finish(st);
    if (tty)
        progress(st, total, total, started, true);
    int why_rc;
    const char *why = import_failure(st, &why_rc);
    json_t *report = import_report(st);
    char *text = json_dumps(report, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(report);
    if (why)
        fprintf(stderr, "yiwang import: stopped: %s\n", why);
    else
        status = 0;
done:
    import_free(st);
    yw_arena_free(arena);
    cli_close(&d);
    fclose(in);
    yw_config_free(&cfg);
    return status;
}

/*
 * yiwang audit: the offline side of the audit trail.
 *
 *   audit key --data DIR                 print the log's Ed25519 public key (base64)
 *   audit verify --data DIR              recompute the whole log; exit 0 only if intact,
 *                                        else name the first bad seq and exit 1
 *   audit verify (--key B64 | --data DIR) COPY
 *                                        the same for a copy of the database (a backup)
 *   audit verify-proof (--key B64 | --data DIR) FILE
 *                                        check a saved inclusion proof, consistency
 *                                        proof or export against the public key alone
 *   keys rotate --data DIR               add a key for data at rest (cli_keys)
 *
 * verify opens the database read-only and needs no running server, but
 * cannot read it while a server holds it alone (--db-exclusive); a copy
 * of it (POST /api/v1/backups) can always be verified.
 */
#include "cli/cli.h"

#include "audit/log.h"
#include "core/error.h"
#include "sec/keyring.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *data_dir, *key, *file;
} audit_args;

static int parse_args(int argc, char **argv, audit_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            a->data_dir = argv[++i];
        else if (strncmp(argv[i], "--data=", 7) == 0)
            a->data_dir = argv[i] + 7;
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            a->key = argv[++i];
        else if (strncmp(argv[i], "--key=", 6) == 0)
            a->key = argv[i] + 6;
        else if (argv[i][0] != '-' && !a->file)
            a->file = argv[i];
        else {
            fprintf(stderr, "yiwang audit: unexpected argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

static int public_key(const audit_args *a, uint8_t pk[32])
{
    if (a->key) {
        json_t *s = json_string(a->key);
        int rc = yw_b64_parse(s, pk, 32);
        json_decref(s);
        if (rc < 0)
            fprintf(stderr, "yiwang audit: --key must be the base64 Ed25519 public key\n");
        return rc;
    }
    if (a->data_dir && yw_audit_load_public_key(a->data_dir, pk) == 0)
        return 0;
    fprintf(stderr, "yiwang audit: give --key B64 or --data DIR holding %s\n", YW_AUDIT_KEY_FILE);
    return -1;
}

static int cmd_key(const audit_args *a)
{
    uint8_t pk[32];
    if (!a->data_dir || public_key(a, pk) < 0) {
        if (!a->data_dir)
            fprintf(stderr, "yiwang audit key: --data DIR is required\n");
        return 2;
    }
    json_t *s = yw_b64_json(pk, 32);
    printf("%s\n", json_string_value(s));
    json_decref(s);
    return 0;
}

static int cmd_verify(const audit_args *a)
{
    uint8_t pk[32];
    if (!a->data_dir && !a->file) {
        fprintf(stderr, "yiwang audit verify: --data DIR is required\n");
        return 2;
    }
    if (public_key(a, pk) < 0)
        return 2;
    if (!a->file && cli_held_exclusively(a->data_dir)) {
        fprintf(stderr,
                "yiwang audit verify: a server holds %s with --db-exclusive, so no other process can read it: stop it"
                " first, verify a copy (POST /api/v1/backups, then yiwang audit verify --data DIR COPY), or check an"
                " export of the log (GET /api/v1/audit/export) with yiwang audit verify-proof\n",
                a->data_dir);
        return 2;
    }
    char path[4200], err[512];
    if (a->file)
        snprintf(path, sizeof path, "sqlite:%s", a->file);
    else
        snprintf(path, sizeof path, "sqlite:%s/yiwang.db", a->data_dir);
    yw_db *db;
    if (yw_db_open(path, YW_DB_READONLY, &db, err, sizeof err) < 0) {
        fprintf(stderr, "yiwang audit verify: %s\n", err);
        return 2;
    }
    int64_t bad = -1;
    uint64_t checked = 0;
    char why[512];
    int rc = yw_audit_verify_db(db, pk, &bad, why, sizeof why, &checked);
    yw_db_close(db);
    if (rc == 0) {
        printf("audit log intact: %llu entries verified\n", (unsigned long long)checked);
        return 0;
    }
    if (bad >= 0)
        printf("audit log NOT intact: first bad seq %lld: %s\n", (long long)bad, why);
    else
        printf("audit log NOT intact: %s\n", why);
    return 1;
}

static int parse_hashes(const json_t *arr, yw_hash *out, int *n)
{
    if (!json_is_array(arr) || json_array_size(arr) > YW_MERKLE_MAX_PROOF)
        return -1;
    size_t i;
    const json_t *v;
    json_array_foreach((json_t *)arr, i, v) {
        if (yw_b64_parse(v, out[i], YW_HASH_LEN) < 0)
            return -1;
    }
    *n = (int)json_array_size(arr);
    return 0;
}

static int head_ok(const json_t *v, const uint8_t pk[32], yw_tree_head *h, const char *what)
{
    if (yw_tree_head_parse(v, h) < 0) {
        printf("proof NOT valid: %s is malformed\n", what);
        return -1;
    }
    if (!yw_tree_head_verify(h, pk)) {
        printf("proof NOT valid: the signature of %s (size %llu) does not verify\n", what,
               (unsigned long long)h->tree_size);
        return -1;
    }
    return 0;
}

static int verify_inclusion(const json_t *doc, const uint8_t pk[32])
{
    yw_tree_head h;
    if (head_ok(json_object_get(doc, "tree_head"), pk, &h, "the tree head") < 0)
        return 1;
    const char *entry = json_string_value(json_object_get(doc, "entry"));
    json_t *seq = json_object_get(doc, "seq");
    yw_hash path[YW_MERKLE_MAX_PROOF], leaf;
    int n = 0;
    if (!entry || !json_is_integer(seq) || json_integer_value(seq) < 0 ||
        parse_hashes(json_object_get(doc, "audit_path"), path, &n) < 0) {
        printf("proof NOT valid: entry, seq or audit_path is malformed\n");
        return 1;
    }
    yw_merkle_leaf(entry, strlen(entry), leaf);
    if (!yw_merkle_verify_inclusion((uint64_t)json_integer_value(seq), h.tree_size, leaf, (const yw_hash *)path, n,
                                    h.root)) {
        printf("proof NOT valid: entry %lld is not in the signed tree of size %llu\n",
               (long long)json_integer_value(seq), (unsigned long long)h.tree_size);
        return 1;
    }
    printf("proof valid: entry %lld is in the signed tree of size %llu\n", (long long)json_integer_value(seq),
           (unsigned long long)h.tree_size);
    return 0;
}

static int verify_consistency(const json_t *doc, const uint8_t pk[32], const char *first_key, const char *second_key,
                              const char *proof_key)
{
    yw_tree_head a, b;
    yw_hash proof[YW_MERKLE_MAX_PROOF];
    int n = 0;
    if (head_ok(json_object_get(doc, first_key), pk, &a, first_key) < 0 ||
        head_ok(json_object_get(doc, second_key), pk, &b, second_key) < 0)
        return 1;
    if (parse_hashes(json_object_get(doc, proof_key), proof, &n) < 0 ||
        !yw_merkle_verify_consistency(a.tree_size, b.tree_size, a.root, b.root, (const yw_hash *)proof, n)) {
        printf("proof NOT valid: the tree of size %llu is not a prefix of the tree of size %llu\n",
               (unsigned long long)a.tree_size, (unsigned long long)b.tree_size);
        return 1;
    }
    printf("proof valid: the tree of size %llu is a prefix of the tree of size %llu\n", (unsigned long long)a.tree_size,
           (unsigned long long)b.tree_size);
    return 0;
}

/* An export: header line, then the entries of [from, to), one per line. */
static int verify_export(FILE *f, const json_t *header, const uint8_t pk[32])
{
    yw_tree_head h;
    if (head_ok(json_object_get(header, "tree_head"), pk, &h, "tree_head") < 0)
        return 1;
    json_t *jfrom = json_object_get(header, "from"), *jto = json_object_get(header, "to");
    if (!json_is_integer(jfrom) || !json_is_integer(jto) || json_integer_value(jfrom) < 0 ||
        json_integer_value(jto) < json_integer_value(jfrom) || (uint64_t)json_integer_value(jto) != h.tree_size) {
        printf("export NOT valid: from/to do not match the tree head\n");
        return 1;
    }
    uint64_t from = (uint64_t)json_integer_value(jfrom), to = (uint64_t)json_integer_value(jto);
    /* Rebuild the frontier of [0, from) from the prefix, then push each entry. */
    yw_merkle_frontier fr = {.size = from};
    const json_t *prefix = json_object_get(header, "prefix");
    size_t i;
    const json_t *p;
    uint64_t covered = 0;
    json_array_foreach((json_t *)prefix, i, p) {
        json_t *lv = json_object_get(p, "level");
        if (i >= 64 || !json_is_integer(lv) || json_integer_value(lv) < 0 || json_integer_value(lv) > 63 ||
            yw_b64_parse(json_object_get(p, "hash"), fr.hash[i], YW_HASH_LEN) < 0) {
            printf("export NOT valid: the prefix is malformed\n");
            return 1;
        }
        fr.level[i] = (int)json_integer_value(lv);
        covered += (uint64_t)1 << fr.level[i];
        fr.count = (int)i + 1;
    }
    if (covered != from) {
        printf("export NOT valid: the prefix does not cover entries 0..%llu\n", (unsigned long long)from);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t seq = from;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        json_t *e = json_loads(line, 0, NULL);
        json_t *own = json_object_get(e, "seq");
        bool ok = json_is_integer(own) && (uint64_t)json_integer_value(own) == seq;
        json_decref(e);
        if (!ok || seq >= to) {
            printf("export NOT valid: line for seq %llu is out of place\n", (unsigned long long)seq);
            free(line);
            return 1;
        }
        yw_hash leaf;
        yw_merkle_leaf(line, (size_t)len, leaf);
        yw_merkle_frontier_push(&fr, leaf, NULL, NULL);
        seq++;
    }
    free(line);
    yw_hash root;
    yw_merkle_frontier_root(&fr, root);
    if (seq != to || memcmp(root, h.root, YW_HASH_LEN) != 0) {
        printf("export NOT valid: entries %llu..%llu do not produce the signed root of size %llu\n",
               (unsigned long long)from, (unsigned long long)to, (unsigned long long)to);
        return 1;
    }
    printf("export valid: entries %llu..%llu belong to the signed tree of size %llu\n", (unsigned long long)from,
           (unsigned long long)(to ? to - 1 : 0), (unsigned long long)to);
    return verify_consistency(header, pk, "tree_head", "latest_head", "consistency");
}

static int cmd_verify_proof(const audit_args *a)
{
    uint8_t pk[32];
    if (!a->file) {
        fprintf(stderr, "yiwang audit verify-proof: name the saved proof or export file\n");
        return 2;
    }
    if (public_key(a, pk) < 0)
        return 2;
    FILE *f = fopen(a->file, "rb");
    if (!f) {
        perror(a->file);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, f);
    json_t *doc = NULL;
    if (len > 0) {
        doc = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
        if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "kind"))) {
            /* a pretty-printed proof: read the whole file */
            json_decref(doc);
            rewind(f);
            doc = json_loadf(f, 0, NULL);
        }
    }
    free(line);
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    int rc;
    if (kind && strcmp(kind, "inclusion") == 0)
        rc = verify_inclusion(doc, pk);
    else if (kind && strcmp(kind, "consistency") == 0)
        rc = verify_consistency(doc, pk, "from_head", "to_head", "proof");
    else if (kind && strcmp(kind, "export") == 0)
        rc = verify_export(f, doc, pk);
    else {
        printf("not a proof: expected a saved inclusion proof, consistency proof or export\n");
        rc = 2;
    }
    json_decref(doc);
    fclose(f);
    return rc;
}

int cli_audit(int argc, char **argv)
{
    audit_args a;
    if (argc < 1 || parse_args(argc - 1, argv + 1, &a) < 0) {
        fputs("usage: yiwang audit key|verify --data DIR | verify-proof (--key B64 | --data DIR) FILE\n", stderr);
        return 2;
    }
    if (strcmp(argv[0], "key") == 0)
        return cmd_key(&a);
    if (strcmp(argv[0], "verify") == 0)
        return cmd_verify(&a);
    if (strcmp(argv[0], "verify-proof") == 0)
        return cmd_verify_proof(&a);
    fprintf(stderr, "yiwang audit: unknown command '%s'\n", argv[0]);
    return 2;
}

/* yiwang keys rotate --data DIR: a new key for data at rest; a running server takes it up and re-encrypts. */
int cli_keys(int argc, char **argv)
{
    audit_args a;
    if (argc < 1 || strcmp(argv[0], "rotate") != 0 || parse_args(argc - 1, argv + 1, &a) < 0 || !a.data_dir) {
        fputs("usage: yiwang keys rotate --data DIR\n", stderr);
        return 2;
    }
    char err[512];
    int id = 0;
    if (yw_keyring_add(a.data_dir, &id, err, sizeof err) < 0) {
        fprintf(stderr, "yiwang keys: %s\n", err);
        return 1;
    }
    printf("{\"key_id\":%d}\n", id);
    fprintf(stderr, "key %d added: a running server encrypts with it within seconds and re-encrypts stored values in "
                    "the background; a stopped one does so when it starts\n",
            id);
    return 0;
}

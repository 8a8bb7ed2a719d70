/*
 * The audit trail: every security-relevant event as an entry of an
 * append-only Merkle log, with signed tree heads and proofs.
 *
 * Entries are appended on the writer thread, inside the transaction of the
 * change they record (yw_audit_append from a write job), so a change and its
 * entry commit together and a response is sent only after both are durable.
 * The log keeps the right edge of the tree (the frontier) in memory and
 * stores each complete subtree it closes, so appending is O(1) amortised and
 * any proof reads O(log n) stored hashes.
 *
 * Storage is packed: the entries a batch appends are held in memory and
 * written just before the batch commits (a writer participant), as rows of
 * up to YW_AUDIT_CHUNK_MAX consecutive entries, each row holding their
 * stored forms (entry.h) and their leaf hashes. A row per entry cost more
 * than the entry itself. A rollback of one job drops the entries that job
 * appended; a lost transaction drops the batch's. Queries filter on the
 * stored forms; the only index lists, per org, the rows holding its entries.
 *
 *   audit_chunks(first_seq, leaves, entries)   entries first_seq ... + n - 1
 *   audit_chunk_orgs(org, first_seq)           org has entries in that row
 *   audit_nodes(level, idx, hash)              complete subtrees, level >= 6
 *   audit_heads(tree_size, root, ...)          signed tree heads
 *   audit_log                                  a view: one row per entry, for SQL
 *
 * A signer thread signs a tree head (Ed25519 over size, root, timestamp) at
 * least once a second while entries arrive, and once more at close.
 *
 * Entries and their canonical form: entry.h and docs/audit.md.
 */
#ifndef YW_AUDIT_LOG_H
#define YW_AUDIT_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/entry.h"
#include "audit/merkle.h"
#include "store/store.h"

typedef struct yw_audit yw_audit;

#define YW_AUDIT_KEY_FILE "audit-ed25519.key"

/*
 * Opens the log of store: loads the signing key from DIR/audit-ed25519.key
 * (creating it on first use), rebuilds the frontier from the database and
 * starts the signer. NULL with a message on err.
 */
yw_audit *yw_audit_open(yw_store *store, const char *data_dir, char *err, size_t errlen);
/* Signs a final tree head when entries arrived since the last, stops the signer. */
void yw_audit_close(yw_audit *a);

/*
 * Appends e; call on the writer thread, from a write job. Returns the new
 * entry's seq, or < 0 (then the job should fail, rolling back its change).
 */
int64_t yw_audit_append(yw_audit *a, yw_db *db, const yw_audit_event *e);

/*
 * Appends an entry for a change made by the platform itself (init, the
 * demo loader): actor kind "system". Writer thread. Returns seq or < 0.
 */
int64_t yw_audit_system(yw_audit *a, yw_db *db, const char *actor, const char *action, const char *object_type,
                        const char *object_id);

/* The public key (32 bytes). */
const uint8_t *yw_audit_public_key(const yw_audit *a);

typedef struct {
    uint64_t tree_size;
    yw_hash root;
    int64_t timestamp;
    uint8_t signature[64];
} yw_tree_head;

/* The bytes a tree head signature covers (52 + 20 bytes). */
size_t yw_tree_head_message(const yw_tree_head *h, uint8_t out[80]);
bool yw_tree_head_verify(const yw_tree_head *h, const uint8_t public_key[32]);
/* Signs a head of size n with root, now; for exports and the signer. */
void yw_audit_sign(const yw_audit *a, uint64_t n, const yw_hash root, yw_tree_head *out);

/*
 * Signs a head of every entry stored in db when its latest head covers
 * fewer: for a copy of the database (a backup), whose last entries may be
 * newer than the last head the server had signed, so that the copy
 * verifies on its own. 0 or < 0.
 */
int yw_audit_cover_stored(const yw_audit *a, yw_db *db);

/* The latest signed head readable on db; 1 found, 0 none, < 0 error. */
int yw_audit_latest_head(yw_db *db, yw_tree_head *out);

/*
 * Complete subtrees of level YW_AUDIT_STORED_LEVEL and up are stored as the
 * writer closes them; smaller ones (at most 2^(level) leaves, read from one
 * or two packed rows) are hashed again from their leaves when a proof needs
 * them. Below level 6 a stored node cost more appending (a row for every
 * 16 or 32 entries) than it saved a proof (a few microseconds of hashing).
 */
#define YW_AUDIT_STORED_LEVEL 6

/* Subtree reader over a database connection, for yw_merkle_* proofs. */
int yw_audit_subtree(void *db, int level, uint64_t index, yw_hash out);

/*
 * The same, for the server's proofs: complete subtrees never change once
 * committed, so those of level YW_AUDIT_CACHE_LEVEL and up are all kept in
 * memory (loaded at open, added as the writer closes them: 1 MB per two
 * million entries), and a proof reads only its lowest levels from the database:
 * the leaves of one block of 2^YW_AUDIT_STORED_LEVEL entries, hashed up
 * once for all the levels below (a proof's lowest siblings all lie in the
 * block of its entry). ctx is a yw_audit_reader: {audit, db}, the rest
 * zero.
 */
#define YW_AUDIT_CACHE_LEVEL YW_AUDIT_STORED_LEVEL
typedef struct {
    yw_audit *audit;
    yw_db *db;
    bool have_block;
    uint64_t block;
    yw_hash block_levels[YW_AUDIT_STORED_LEVEL][1 << YW_AUDIT_STORED_LEVEL];
} yw_audit_reader;
int yw_audit_subtree_cached(void *ctx, int level, uint64_t index, yw_hash out);

/* A head as JSON {tree_size, root_hash, timestamp, signature} (base64). New reference. */
json_t *yw_tree_head_json(const yw_tree_head *h);
/* Hashes as a JSON array of base64 strings. New reference. */
json_t *yw_hashes_json(const yw_hash *h, int n);
/*
 * The inclusion proof of entry seq (its canonical text and its leaf hash)
 * in the tree of head h, as the API answers it: {kind, seq, tree_size,
 * entry, leaf_hash, audit_path, tree_head}. NULL with *rc < 0 when the log
 * cannot be read.
 */
json_t *yw_audit_inclusion_json(yw_audit *a, yw_db *db, uint64_t seq, const char *entry, const yw_hash leaf,
                                const yw_tree_head *h, int *rc);
/* Parses the JSON form; 0 or -1. */
int yw_tree_head_parse(const json_t *v, yw_tree_head *out);

/* Base64 (standard, padded) of n bytes into a new JSON string. */
json_t *yw_b64_json(const uint8_t *data, size_t n);
/* Decodes a JSON base64 string of exactly n bytes; 0 or -1. */
int yw_b64_parse(const json_t *v, uint8_t *out, size_t n);

/*
 * Verifies the whole log in db from scratch: every leaf from its entry,
 * every stored subtree, every signed head (root and signature), the seq
 * sequence without gaps, and that the last entry is covered by a head.
 * Returns 0 when intact; otherwise -1 with *bad_seq the first bad seq (or
 * -1 when none applies) and a sentence in why.
 */
int yw_audit_verify_db(yw_db *db, const uint8_t public_key[32], int64_t *bad_seq, char *why, size_t whylen,
                       uint64_t *entries_checked);

/* Loads the public key of DIR; 0 or -1. */
int yw_audit_load_public_key(const char *data_dir, uint8_t out[32]);

/* Appends posted by a benchmark or a test: tree size now (writer thread). */
uint64_t yw_audit_size(const yw_audit *a);

/* The most entries one stored row holds. */
#define YW_AUDIT_CHUNK_MAX 64

/* Entries committed and readable on db: the size of the stored log. */
int yw_audit_stored_size(yw_db *db, uint64_t *out);

/*
 * Reading stored entries in seq order, on any connection:
 *
 *   yw_audit_scan s;
 *   yw_audit_scan_start(&s, db, from, org);   entries from seq `from` on;
 *                                             with org (NULL: all), only
 *                                             the rows its index names
 *   while ((rc = yw_audit_scan_next(&s, &row)) == 1) ...   row valid until next
 *   yw_audit_scan_end(&s);
 *
 * org is the org code as a JSON string literal (yw_audit_json_string). A
 * scan filtered by org may still return other orgs' entries of the same
 * rows: check row.values. A malformed row ends the scan with YW_EDB and
 * s.bad_seq set; yw_audit_verify_db reports it precisely.
 */
typedef struct {
    uint64_t seq;
    yw_audit_values values;
    const uint8_t *leaf;    /* the stored leaf hash */
    bool first_of_chunk;
} yw_audit_row;

typedef struct {
    yw_stmt *stmt;
    uint64_t from, first_seq, next_seq;
    const char *text, *end;       /* the rest of the current row's entries */
    const uint8_t *leaves;
    size_t nleaves, index;
    int64_t bad_seq;
    char why[160];
} yw_audit_scan;

int yw_audit_scan_start(yw_audit_scan *s, yw_db *db, uint64_t from, const char *org_literal);
int yw_audit_scan_next(yw_audit_scan *s, yw_audit_row *row);
void yw_audit_scan_end(yw_audit_scan *s);

/*
 * Entry seq alone: its canonical text appended to text, its leaf hash, and
 * (org not NULL) the actor's org code appended to org, nothing for the
 * platform's own entries. 1, 0 when there is no such entry, or YW_E*.
 */
int yw_audit_entry_at(yw_db *db, uint64_t seq, yw_buf *text, yw_hash leaf, yw_buf *org);

#endif

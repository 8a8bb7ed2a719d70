/*
 * Merkle tree hashing of RFC 9162 (Certificate Transparency 2.0), §2.1:
 *
 *   leaf hash  = SHA-256(0x00 || entry)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256()
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * Proof generation reads hashes through a callback, so the same code serves
 * the server (hashes stored in the database) and the tests (arrays). A
 * "complete subtree" (level l, index i) covers leaves [i·2^l, (i+1)·2^l);
 * level 0 holds the leaf hashes. Every hash the proofs need is either such a
 * subtree or the fold of a few of them, so a proof reads O(log n) hashes and
 * never rehashes the log.
 */
#ifndef YW_AUDIT_MERKLE_H
#define YW_AUDIT_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YW_HASH_LEN 32
#define YW_MERKLE_MAX_PROOF 64

typedef uint8_t yw_hash[YW_HASH_LEN];

void yw_merkle_leaf(const void *entry, size_t len, yw_hash out);
void yw_merkle_node(const yw_hash left, const yw_hash right, yw_hash out);
void yw_merkle_empty(yw_hash out);

/* Reads the hash of complete subtree (level, index); returns 0 or < 0. */
typedef int (*yw_subtree_fn)(void *ctx, int level, uint64_t index, yw_hash out);

/* MTH(D[start:end]) where start is a multiple of the size of the largest complete subtree inside. */
int yw_merkle_range(yw_subtree_fn get, void *ctx, uint64_t start, uint64_t end, yw_hash out);

/*
 * Inclusion proof of leaf m in the tree of size n (m < n): the hashes of
 * PATH(m, D[n]), leaf side first. Returns the count, or < 0.
 */
int yw_merkle_inclusion(yw_subtree_fn get, void *ctx, uint64_t m, uint64_t n, yw_hash proof[YW_MERKLE_MAX_PROOF]);

/* Consistency proof between sizes m <= n: PROOF(m, D[n]). Returns the count, or < 0. */
int yw_merkle_consistency(yw_subtree_fn get, void *ctx, uint64_t m, uint64_t n, yw_hash proof[YW_MERKLE_MAX_PROOF]);

/* RFC 9162 §2.1.3.2: does proof show that leaf_hash is leaf m of the tree of size n with root? */
bool yw_merkle_verify_inclusion(uint64_t m, uint64_t n, const yw_hash leaf_hash, const yw_hash *proof, int count,
                                const yw_hash root);

/* RFC 9162 §2.1.4.2: does proof show that the tree (m, root_m) is a prefix of (n, root_n)? */
bool yw_merkle_verify_consistency(uint64_t m, uint64_t n, const yw_hash root_m, const yw_hash root_n,
                                  const yw_hash *proof, int count);

/*
 * The right edge of a growing tree: the roots of its complete subtrees,
 * largest first (at most 64). Appending a leaf merges equal-sized roots;
 * each merge is a new complete subtree the caller may store.
 */
typedef struct {
    uint64_t size;
    int count;
    yw_hash hash[64];
    int level[64];
} yw_merkle_frontier;

/*
 * Appends leaf_hash. For each complete subtree of level >= 1 that the leaf
 * completes, calls emit(ctx, level, index, hash) (smallest first); emit may
 * be NULL. Returns 0 or emit's first negative result.
 */
int yw_merkle_frontier_push(yw_merkle_frontier *f, const yw_hash leaf_hash,
                            int (*emit)(void *ctx, int level, uint64_t index, const yw_hash hash), void *ctx);

/* MTH of the whole tree the frontier describes. */
void yw_merkle_frontier_root(const yw_merkle_frontier *f, yw_hash out);

#endif

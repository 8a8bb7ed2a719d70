/* RFC 9162 Merkle tree hashing, proofs and verification (see merkle.h). */
#include "audit/merkle.h"

#include "core/error.h"

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: the fast path without EVP's per-call setup */
#include <openssl/sha.h>
#include <string.h>

/*
 * SHA-256 from OpenSSL's low-level interface: it uses the CPU's SHA
 * extensions where present, several times faster than a portable version,
 * and every audited request hashes at least once.
 */
void yw_merkle_leaf(const void *entry, size_t len, yw_hash out)
{
    SHA256_CTX ctx;
    const uint8_t prefix = 0x00;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &prefix, 1);
    SHA256_Update(&ctx, entry, len);
    SHA256_Final(out, &ctx);
}

/* OpenSSL 3's one-shot SHA256() looks the digest up (under a lock) on every call: not here. */
void yw_merkle_node(const yw_hash left, const yw_hash right, yw_hash out)
{
    uint8_t buf[1 + 2 * YW_HASH_LEN];
    buf[0] = 0x01;
    memcpy(buf + 1, left, YW_HASH_LEN);
    memcpy(buf + 1 + YW_HASH_LEN, right, YW_HASH_LEN);
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, buf, sizeof buf);
    SHA256_Final(out, &ctx);
}

void yw_merkle_empty(yw_hash out)
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Final(out, &ctx);
}

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

int yw_merkle_range(yw_subtree_fn get, void *ctx, uint64_t start, uint64_t end, yw_hash out)
{
    if (end <= start)
        return YW_EINVAL;
    /* Decompose [start, end) into complete subtrees, left to right, largest
     * first; then fold from the right as MTH does. */
    yw_hash parts[64];
    int n = 0;
    uint64_t pos = start;
    while (pos < end) {
        int level = 63;
        while (level > 0 && ((uint64_t)1 << level) > end - pos)
            level--;
        if (pos) /* alignment: a subtree must start at a multiple of its size */
            while (level > 0 && (pos & (((uint64_t)1 << level) - 1)))
                level--;
        int rc = get(ctx, level, pos >> level, parts[n]);
        if (rc < 0)
            return rc;
        n++;
        pos += (uint64_t)1 << level;
    }
    if (n == 0)
        return YW_EINVAL;
    memcpy(out, parts[n - 1], YW_HASH_LEN);
    for (int i = n - 2; i >= 0; i--)
        yw_merkle_node(parts[i], out, out);
    return 0;
}

static int path(yw_subtree_fn get, void *ctx, uint64_t m, uint64_t start, uint64_t n, yw_hash *proof, int *count)
{
    if (n == 1)
        return 0;
    uint64_t k = split_point(n);
    int rc;
    if (m < k) {
        if ((rc = path(get, ctx, m, start, k, proof, count)) < 0)
            return rc;
        rc = yw_merkle_range(get, ctx, start + k, start + n, proof[*count]);
    } else {
        if ((rc = path(get, ctx, m - k, start + k, n - k, proof, count)) < 0)
            return rc;
        rc = yw_merkle_range(get, ctx, start, start + k, proof[*count]);
    }
    if (rc < 0)
        return rc;
    if (++*count > YW_MERKLE_MAX_PROOF)
        return YW_ERANGE;
    return 0;
}

int yw_merkle_inclusion(yw_subtree_fn get, void *ctx, uint64_t m, uint64_t n, yw_hash proof[YW_MERKLE_MAX_PROOF])
{
    if (m >= n)
        return YW_EINVAL;
    int count = 0;
    int rc = path(get, ctx, m, 0, n, proof, &count);
    return rc < 0 ? rc : count;
}

/* SUBPROOF(m, D[start:start+n], b) of RFC 9162 §2.1.4.1. */
static int subproof(yw_subtree_fn get, void *ctx, uint64_t m, uint64_t start, uint64_t n, bool b, yw_hash *proof,
                    int *count)
{
    int rc;
    if (m == n) {
        if (b)
            return 0;
        rc = yw_merkle_range(get, ctx, start, start + n, proof[*count]);
    } else {
        uint64_t k = split_point(n);
        if (m <= k) {
            if ((rc = subproof(get, ctx, m, start, k, b, proof, count)) < 0)
                return rc;
            rc = yw_merkle_range(get, ctx, start + k, start + n, proof[*count]);
        } else {
            if ((rc = subproof(get, ctx, m - k, start + k, n - k, false, proof, count)) < 0)
                return rc;
            rc = yw_merkle_range(get, ctx, start, start + k, proof[*count]);
        }
    }
    if (rc < 0)
        return rc;
    if (++*count > YW_MERKLE_MAX_PROOF)
        return YW_ERANGE;
    return 0;
}

int yw_merkle_consistency(yw_subtree_fn get, void *ctx, uint64_t m, uint64_t n, yw_hash proof[YW_MERKLE_MAX_PROOF])
{
    if (m > n)
        return YW_EINVAL;
    if (m == 0 || m == n)
        return 0;
    int count = 0;
    int rc = subproof(get, ctx, m, 0, n, true, proof, &count);
    return rc < 0 ? rc : count;
}

bool yw_merkle_verify_inclusion(uint64_t m, uint64_t n, const yw_hash leaf_hash, const yw_hash *proof, int count,
                                const yw_hash root)
{
    if (m >= n)
        return false;
    uint64_t fn = m, sn = n - 1;
    yw_hash r;
    memcpy(r, leaf_hash, YW_HASH_LEN);
    for (int i = 0; i < count; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            yw_merkle_node(proof[i], r, r);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            yw_merkle_node(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, YW_HASH_LEN) == 0;
}

bool yw_merkle_verify_consistency(uint64_t m, uint64_t n, const yw_hash root_m, const yw_hash root_n,
                                  const yw_hash *proof, int count)
{
    if (m > n)
        return false;
    if (m == n)
        return count == 0 && memcmp(root_m, root_n, YW_HASH_LEN) == 0;
    if (m == 0)
        return count == 0; /* the empty tree is a prefix of every tree */
    /* RFC 9162 §2.1.4.2 */
    yw_hash path[YW_MERKLE_MAX_PROOF + 1];
    int len = 0;
    if ((m & (m - 1)) == 0) /* m is an exact power of 2: prepend first_hash */
        memcpy(path[len++], root_m, YW_HASH_LEN);
    if (count + len > YW_MERKLE_MAX_PROOF + 1 || count == 0)
        return false;
    memcpy(path + len, proof, (size_t)count * YW_HASH_LEN);
    len += count;
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    yw_hash fr, sr;
    memcpy(fr, path[0], YW_HASH_LEN);
    memcpy(sr, path[0], YW_HASH_LEN);
    for (int i = 1; i < len; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            yw_merkle_node(path[i], fr, fr);
            yw_merkle_node(path[i], sr, sr);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            yw_merkle_node(sr, path[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root_m, YW_HASH_LEN) == 0 && memcmp(sr, root_n, YW_HASH_LEN) == 0;
}

int yw_merkle_frontier_push(yw_merkle_frontier *f, const yw_hash leaf_hash,
                            int (*emit)(void *ctx, int level, uint64_t index, const yw_hash hash), void *ctx)
{
    memcpy(f->hash[f->count], leaf_hash, YW_HASH_LEN);
    f->level[f->count] = 0;
    f->count++;
    uint64_t pos = f->size; /* index of the new leaf */
    f->size++;
    while (f->count >= 2 && f->level[f->count - 1] == f->level[f->count - 2]) {
        int level = f->level[f->count - 1] + 1;
        yw_merkle_node(f->hash[f->count - 2], f->hash[f->count - 1], f->hash[f->count - 2]);
        f->level[f->count - 2] = level;
        f->count--;
        if (emit) {
            int rc = emit(ctx, level, pos >> level, f->hash[f->count - 1]);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void yw_merkle_frontier_root(const yw_merkle_frontier *f, yw_hash out)
{
    if (f->count == 0) {
        yw_merkle_empty(out);
        return;
    }
    memcpy(out, f->hash[f->count - 1], YW_HASH_LEN);
    for (int i = f->count - 2; i >= 0; i--)
        yw_merkle_node(f->hash[i], out, out);
}

/*
 * RFC 9162 Merkle trees: roots, inclusion and consistency proofs from
 * src/audit/merkle.c against a direct recursive implementation of MTH over
 * arrays of leaves, for every tree size and index up to 70; tampered
 * proofs must fail.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "audit/merkle.h"

#define MAXN 70

static yw_hash leaves[MAXN];

static void make_leaves(void)
{
    for (int i = 0; i < MAXN; i++) {
        char entry[32];
        int n = snprintf(entry, sizeof entry, "entry %d", i);
        yw_merkle_leaf(entry, (size_t)n, leaves[i]);
    }
}

/* MTH(D[start:end]) straight from RFC 9162 §2.1.1. */
static void mth(uint64_t start, uint64_t end, yw_hash out)
{
    uint64_t n = end - start;
    if (n == 1) {
        memcpy(out, leaves[start], YW_HASH_LEN);
        return;
    }
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    yw_hash l, r;
    mth(start, start + k, l);
    mth(start + k, end, r);
    yw_merkle_node(l, r, out);
}

static int get_subtree(void *ctx, int level, uint64_t index, yw_hash out)
{
    (void)ctx;
    uint64_t start = index << level, end = (index + 1) << level;
    if (end > MAXN)
        return -1;
    mth(start, end, out);
    return 0;
}

TestSuite(merkle, .init = make_leaves);

Test(merkle, leaf_and_node_hashes_use_the_rfc_prefixes)
{
    /* SHA-256(0x00 || "") and of the empty tree are published constants. */
    yw_hash h;
    yw_merkle_empty(h);
    static const uint8_t empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                      0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                      0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    cr_assert_arr_eq(h, empty, 32);
    yw_merkle_leaf("", 0, h);
    static const uint8_t leaf0[32] = {0x6e, 0x34, 0x0b, 0x9c, 0xff, 0xb3, 0x7a, 0x98, 0x9c, 0xa5, 0x44,
                                      0xe6, 0xbb, 0x78, 0x0a, 0x2c, 0x78, 0x90, 0x1d, 0x3f, 0xb3, 0x37,
                                      0x38, 0x76, 0x85, 0x11, 0xa3, 0x06, 0x17, 0xaf, 0xa0, 0x1d};
    cr_assert_arr_eq(h, leaf0, 32);
}

Test(merkle, frontier_root_and_range_equal_mth_for_every_size)
{
    yw_merkle_frontier f = {0};
    for (uint64_t n = 1; n <= MAXN; n++) {
        yw_merkle_frontier_push(&f, leaves[n - 1], NULL, NULL);
        yw_hash want, got, range;
        mth(0, n, want);
        yw_merkle_frontier_root(&f, got);
        cr_assert_arr_eq(got, want, YW_HASH_LEN, "frontier root, size %llu", (unsigned long long)n);
        cr_assert_eq(yw_merkle_range(get_subtree, NULL, 0, n, range), 0);
        cr_assert_arr_eq(range, want, YW_HASH_LEN, "range root, size %llu", (unsigned long long)n);
    }
}

typedef struct {
    int calls;
    int levels[64];
    uint64_t idx[64];
} emitted;

static int record(void *ctx, int level, uint64_t index, const yw_hash hash)
{
    emitted *e = ctx;
    yw_hash want;
    get_subtree(NULL, level, index, want);
    cr_assert_arr_eq(hash, want, YW_HASH_LEN, "emitted subtree (%d, %llu)", level, (unsigned long long)index);
    e->calls++;
    return 0;
}

Test(merkle, frontier_emits_each_completed_subtree_once)
{
    yw_merkle_frontier f = {0};
    emitted e = {0};
    for (int i = 0; i < 64; i++)
        yw_merkle_frontier_push(&f, leaves[i], record, &e);
    cr_assert_eq(e.calls, 63, "a tree of 64 leaves has 63 inner nodes, got %d", e.calls);
}

Test(merkle, inclusion_proofs_verify_for_every_index_and_size)
{
    for (uint64_t n = 1; n <= MAXN; n++) {
        yw_hash root;
        mth(0, n, root);
        for (uint64_t m = 0; m < n; m++) {
            yw_hash proof[YW_MERKLE_MAX_PROOF];
            int len = yw_merkle_inclusion(get_subtree, NULL, m, n, proof);
            cr_assert_geq(len, 0);
            cr_assert(yw_merkle_verify_inclusion(m, n, leaves[m], (const yw_hash *)proof, len, root), "m=%llu n=%llu",
                      (unsigned long long)m, (unsigned long long)n);
            /* another leaf, another index, a shorter path, a flipped bit: all refused */
            cr_assert_not(yw_merkle_verify_inclusion(m, n, leaves[(m + 1) % MAXN], (const yw_hash *)proof, len, root));
            if (n > 1)
                cr_assert_not(yw_merkle_verify_inclusion((m + 1) % n, n, leaves[m], (const yw_hash *)proof, len, root));
            if (len > 0) {
                cr_assert_not(yw_merkle_verify_inclusion(m, n, leaves[m], (const yw_hash *)proof, len - 1, root));
                proof[len - 1][0] ^= 1;
                cr_assert_not(yw_merkle_verify_inclusion(m, n, leaves[m], (const yw_hash *)proof, len, root));
            }
        }
    }
}

Test(merkle, consistency_proofs_verify_for_every_pair_of_sizes)
{
    for (uint64_t n = 1; n <= MAXN; n++) {
        yw_hash root_n;
        mth(0, n, root_n);
        for (uint64_t m = 1; m <= n; m++) {
            yw_hash root_m, proof[YW_MERKLE_MAX_PROOF];
            mth(0, m, root_m);
            int len = yw_merkle_consistency(get_subtree, NULL, m, n, proof);
            cr_assert_geq(len, 0);
            cr_assert(yw_merkle_verify_consistency(m, n, root_m, root_n, (const yw_hash *)proof, len), "m=%llu n=%llu",
                      (unsigned long long)m, (unsigned long long)n);
            if (m < n) {
                yw_hash other;
                mth(1, m + 1 <= n ? m + 1 : n, other); /* a different tree of the same size */
                cr_assert_not(yw_merkle_verify_consistency(m, n, other, root_n, (const yw_hash *)proof, len));
                proof[0][5] ^= 0x40;
                cr_assert_not(yw_merkle_verify_consistency(m, n, root_m, root_n, (const yw_hash *)proof, len));
            }
        }
    }
}

Test(merkle, out_of_range_requests_are_refused)
{
    yw_hash proof[YW_MERKLE_MAX_PROOF];
    cr_assert_lt(yw_merkle_inclusion(get_subtree, NULL, 5, 5, proof), 0);
    cr_assert_lt(yw_merkle_consistency(get_subtree, NULL, 6, 5, proof), 0);
    cr_assert_eq(yw_merkle_consistency(get_subtree, NULL, 0, 5, proof), 0);
}

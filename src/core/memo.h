/*
 * Memos: what a request thread last looked up, kept until the definitions
 * behind it change or it runs out.
 *
 * Hot paths look the same rows up on every request (a grant, a service, a
 * right to call it). A memo keeps the answer per thread under a key,
 * tagged with the generation it was read at (app.h: the writer's count of
 * commits that touched such definitions) and a time it holds until; a
 * recall at any other generation, or later, misses. Sixteen answers a
 * thread, replaced round robin.
 *
 *   static yw_memo grants = YW_MEMO;
 *   const char *key = yw_memo_key(arena, 2, org, resource);
 *   const json_t *g = yw_memo_recall(&grants, key, generation, now);   (borrowed, or NULL)
 *   yw_memo_keep(&grants, key, json_pack(...), generation_read_at, valid_until);
 */
#ifndef YW_CORE_MEMO_H
#define YW_CORE_MEMO_H

#include "core/arena.h"
#include "core/thread_local.h"

#include <jansson.h>
#include <stdint.h>

typedef struct {
    yw_thread_local slot;
} yw_memo;

void yw_memo_clear_table(void *table); /* the slot's clear function */

#define YW_MEMO {YW_THREAD_LOCAL(struct yw_memo_table, yw_memo_clear_table)}

/* The definition YW_MEMO needs the size of. */
struct yw_memo_table {
    struct {
        char *key;
        json_t *value;
        uint64_t generation; /* 0: empty */
        int64_t until;
    } entries[16];
    unsigned next;
};

/* The key of n parts (NULL: empty), each followed by '/', in arena a; only the last may hold a '/'. */
const char *yw_memo_key(yw_arena *a, int n, ...);

/* The value kept under key at generation and still valid at now (a borrowed reference), or NULL. */
const json_t *yw_memo_recall(yw_memo *m, const char *key, uint64_t generation, int64_t now);

/* Keeps value (the reference is taken) under key, read at generation, valid until until. */
void yw_memo_keep(yw_memo *m, const char *key, json_t *value, uint64_t generation, int64_t until);

#endif

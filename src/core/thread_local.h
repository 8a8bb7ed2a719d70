/*
 * Per-thread objects: a request thread's caches, made on first use and
 * handed to their clear function when the thread exits, so that nothing a
 * cache holds outlives its thread.
 *
 *   static yw_thread_local spec_caches = YW_THREAD_LOCAL(spec_cache, cache_clear);
 *   spec_cache *c = yw_thread_local_get(&spec_caches);   (NULL without memory)
 *
 * Descriptors are static; at most YW_THREAD_LOCAL_MAX exist in a process.
 */
#ifndef YW_CORE_THREAD_LOCAL_H
#define YW_CORE_THREAD_LOCAL_H

#include <stddef.h>

#define YW_THREAD_LOCAL_MAX 8

typedef struct {
    size_t size;
    void (*clear)(void *obj); /* may be NULL; frees what obj holds, not obj */
    int slot;                 /* assigned on first use */
} yw_thread_local;

#define YW_THREAD_LOCAL(type, clear) {sizeof(type), (clear), -1}

/* This thread's zeroed-at-first-use object of t. */
void *yw_thread_local_get(yw_thread_local *t);

#endif

/*
 * Arena allocator: many small allocations, one free.
 *
 * Each HTTP request owns an arena that is freed when the request ends, so
 * handlers never call free(). Handles that live outside the arena (jansson
 * values, database statements) are released by cleanup callbacks that run,
 * last registered first, when the arena is freed — the nginx pool pattern.
 *
 * Allocation failure aborts the process: an arena is only used for bounded,
 * per-request memory, and the request limits keep it bounded.
 */
#ifndef YW_CORE_ARENA_H
#define YW_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct yw_arena yw_arena;

/* A new arena whose blocks are at least block_size bytes (0: 4 KiB). */
yw_arena *yw_arena_new(size_t block_size);

/* Runs the cleanups, then releases every block. NULL is ignored. */
void yw_arena_free(yw_arena *a);

/* size bytes aligned for any type, zeroed. */
void *yw_arena_alloc(yw_arena *a, size_t size);
char *yw_arena_strdup(yw_arena *a, const char *s);
char *yw_arena_strndup(yw_arena *a, const char *s, size_t n);
char *yw_arena_printf(yw_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *yw_arena_vprintf(yw_arena *a, const char *fmt, va_list ap);

/* Calls fn(data) when the arena is freed. */
void yw_arena_on_free(yw_arena *a, void (*fn)(void *), void *data);

/* Bytes handed out so far (for limits and metrics). */
size_t yw_arena_used(const yw_arena *a);

#endif

/*
 * Arena allocator (see arena.h). Blocks form a singly linked list; large
 * requests get a block of their own so that a big body does not waste the
 * tail of the current block. Each thread keeps one freed block (64 KB at
 * most) for the next arena of that block size, so a request's arena
 * usually starts without a malloc.
 */
#include "core/arena.h"
#include "core/thread_local.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN 16u
#define SPARE_MAX 65536u /* larger blocks go back to malloc at once */

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *data;
};

struct yw_arena {
    struct block *head;
    struct cleanup *cleanups;
    size_t block_size, used;
};

static void spare_clear(void *p)
{
    free(*(struct block **)p);
}

static yw_thread_local spares = YW_THREAD_LOCAL(struct block *, spare_clear);

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fputs("yiwang: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* A block for size bytes: this thread's spare when it is that size. */
static struct block *block_new(size_t size)
{
    struct block **spare = yw_thread_local_get(&spares), *b = spare ? *spare : NULL;
    if (b && b->size == size) {
        *spare = NULL;
        ASAN_UNPOISON_MEMORY_REGION(b->data, size);
    } else {
        b = xmalloc(sizeof *b + size);
        b->size = size;
    }
    b->used = 0;
    return b;
}

/* Keeps b as this thread's spare when there is none and b is small, or frees it. */
static void block_free(struct block *b)
{
    struct block **spare = yw_thread_local_get(&spares);
    if (spare && !*spare && b->size <= SPARE_MAX) {
        ASAN_POISON_MEMORY_REGION(b->data, b->size); /* a use after the arena's end still traps */
        *spare = b;
        return;
    }
    free(b);
}

yw_arena *yw_arena_new(size_t block_size)
{
    yw_arena *a = xmalloc(sizeof *a);
    a->head = NULL;
    a->cleanups = NULL;
    a->block_size = block_size ? block_size : 4096;
    a->used = 0;
    return a;
}

void yw_arena_free(yw_arena *a)
{
    if (!a)
        return;
    while (a->cleanups) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->data); /* the node itself lives in the arena */
    }
    while (a->head) {
        struct block *b = a->head;
        a->head = b->next;
        block_free(b);
    }
    free(a);
}

void *yw_arena_alloc(yw_arena *a, size_t size)
{
    size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < size || need > SIZE_MAX - sizeof(struct block))
        abort(); /* overflow */
    struct block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t bsize = need > a->block_size / 2 ? need : a->block_size;
        struct block *nb = block_new(bsize);
        if (b && bsize == need && b->size - b->used > need) {
            /* keep the roomier current block at the head */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used += need;
    memset(p, 0, size);
    return p;
}

char *yw_arena_strndup(yw_arena *a, const char *s, size_t n)
{
    char *p = yw_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *yw_arena_strdup(yw_arena *a, const char *s)
{
    return s ? yw_arena_strndup(a, s, strlen(s)) : NULL;
}

char *yw_arena_vprintf(yw_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return yw_arena_strdup(a, "");
    char *p = yw_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *yw_arena_printf(yw_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = yw_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void yw_arena_on_free(yw_arena *a, void (*fn)(void *), void *data)
{
    struct cleanup *c = yw_arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t yw_arena_used(const yw_arena *a)
{
    return a->used;
}

/*
 * Arena allocator (see arena.h). Blocks form a singly linked list; large
 * requests get a block of their own so that a big body does not waste the
 * tail of the current block. Each thread keeps the blocks its arenas gave
 * back (512 KB at most), newest first, for the next ones of that size: a
 * worker frees the arenas of a commit's worth of answers at once and then
 * begins as many requests, so a request's arena usually starts without a
 * malloc.
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
#define SPARE_BYTES 524288u /* kept a thread; larger blocks go back to malloc at once */
#define SPARE_BLOCKS 64

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

typedef struct {
    struct block *blocks[SPARE_BLOCKS]; /* newest last */
    int n;
    size_t bytes;
} spare_blocks;

static void spares_clear(void *p)
{
    spare_blocks *s = p;
    while (s->n)
        free(s->blocks[--s->n]);
}

static yw_thread_local spares = YW_THREAD_LOCAL(spare_blocks, spares_clear);

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fputs("yiwang: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* A block for size bytes: the newest this thread kept when it is that size. */
static struct block *block_new(size_t size)
{
    spare_blocks *s = yw_thread_local_get(&spares);
    struct block *b = s && s->n ? s->blocks[s->n - 1] : NULL;
    if (b && b->size == size) {
        s->n--;
        s->bytes -= size;
        ASAN_UNPOISON_MEMORY_REGION(b->data, size);
    } else {
        b = xmalloc(sizeof *b + size);
        b->size = size;
    }
    b->used = 0;
    return b;
}

/*
 * Keeps b for this thread's next arenas while there is room, or frees it;
 * either way wiped first: a request's arena holds the values it decrypted.
 */
static void block_free(struct block *b)
{
    explicit_bzero(b->data, b->used);
    spare_blocks *s = yw_thread_local_get(&spares);
    if (s && s->n < SPARE_BLOCKS && s->bytes + b->size <= SPARE_BYTES) {
        ASAN_POISON_MEMORY_REGION(b->data, b->size); /* a use after the arena's end still traps */
        s->blocks[s->n++] = b;
        s->bytes += b->size;
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

/*
 * Unit tests of core/arena.h: the per-request allocator. Run under ASan,
 * so an allocation that is too small, overlaps another or is used after
 * the arena is freed fails the test with a report.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/arena.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

Test(arena, allocations_are_aligned_for_any_type)
{
    yw_arena *a = yw_arena_new(0);
    for (size_t size = 1; size < 200; size++) {
        void *p = yw_arena_alloc(a, size);
        cr_assert_not_null(p);
        cr_expect_eq((uintptr_t)p % alignof(max_align_t), 0, "size %zu at %p is misaligned", size, p);
    }
    /* also the first allocation of every new block */
    for (int i = 0; i < 50; i++) {
        void *p = yw_arena_alloc(a, 3000);
        cr_expect_eq((uintptr_t)p % alignof(max_align_t), 0);
    }
    yw_arena_free(a);
}

Test(arena, allocations_are_zeroed)
{
    /* Memory from malloc under ASan is filled with garbage, so a missing
     * memset shows here. Reuse of a block tail is checked too: dirty each
     * allocation before taking the next one. */
    yw_arena *a = yw_arena_new(1024);
    for (size_t size = 1; size < 600; size += 37) {
        unsigned char *p = yw_arena_alloc(a, size);
        cr_assert(all_zero(p, size), "allocation of %zu bytes not zeroed", size);
        memset(p, 0xA5, size);
    }
    yw_arena_free(a);
}

Test(arena, allocations_do_not_overlap)
{
    yw_arena *a = yw_arena_new(256);
    enum { N = 500 };
    unsigned char *p[N];
    size_t len[N];
    for (int i = 0; i < N; i++) {
        len[i] = (size_t)(i * 13 % 300) + 1;
        p[i] = yw_arena_alloc(a, len[i]);
        memset(p[i], i & 0xff, len[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < len[i]; k++)
            cr_assert_eq(p[i][k], (unsigned char)(i & 0xff), "allocation %d was overwritten", i);
    yw_arena_free(a);
}

Test(arena, large_allocations_work_and_do_not_disturb_small_ones)
{
    yw_arena *a = yw_arena_new(4096);
    char *small1 = yw_arena_strdup(a, "before");
    size_t big = 4u << 20;
    unsigned char *p = yw_arena_alloc(a, big);
    cr_assert_not_null(p);
    cr_expect(all_zero(p, big), "large allocation not zeroed");
    memset(p, 0x5A, big); /* ASan checks every byte is ours */
    char *small2 = yw_arena_strdup(a, "after");
    unsigned char *p2 = yw_arena_alloc(a, 10000);
    memset(p2, 1, 10000);
    cr_expect_str_eq(small1, "before");
    cr_expect_str_eq(small2, "after");
    cr_expect_eq(p[0], 0x5A);
    cr_expect_eq(p[big - 1], 0x5A);
    cr_expect_geq(yw_arena_used(a), big + 10000 + 13);
    yw_arena_free(a);
}

Test(arena, used_counts_handed_out_bytes)
{
    yw_arena *a = yw_arena_new(0);
    cr_expect_eq(yw_arena_used(a), 0);
    size_t sum = 0;
    for (size_t i = 1; i <= 100; i++) {
        yw_arena_alloc(a, i);
        sum += i;
    }
    size_t used = yw_arena_used(a);
    cr_expect_geq(used, sum);
    cr_expect_leq(used, sum + 100 * 16, "used %zu for %zu requested bytes", used, sum);
    yw_arena_free(a);
}

Test(arena, strdup_and_strndup_copy)
{
    yw_arena *a = yw_arena_new(0);
    char src[] = "hello, 世界";
    char *d = yw_arena_strdup(a, src);
    src[0] = 'J';
    cr_expect_str_eq(d, "hello, 世界");
    cr_expect_str_eq(yw_arena_strndup(a, "hello", 3), "hel");
    cr_expect_str_eq(yw_arena_strndup(a, "", 0), "");
    cr_expect_null(yw_arena_strdup(a, NULL));
    /* strndup copies exactly n bytes even when they hold no terminator */
    char raw[4] = {'a', 'b', 'c', 'd'};
    cr_expect_str_eq(yw_arena_strndup(a, raw, 4), "abcd");
    yw_arena_free(a);
}

Test(arena, printf_formats_into_the_arena)
{
    yw_arena *a = yw_arena_new(64);
    cr_expect_str_eq(yw_arena_printf(a, "%s-%d-%05.1f", "org", 42, 3.14159), "org-42-003.1");
    cr_expect_str_eq(yw_arena_printf(a, "%s", ""), "");
    /* output far larger than a block */
    char *s = yw_arena_printf(a, "<%5000d>", 7);
    cr_expect_eq(strlen(s), 5002);
    cr_expect_eq(s[0], '<');
    cr_expect_eq(s[5000], '7');
    cr_expect_eq(s[5001], '>');
    yw_arena_free(a);
}

struct order_log {
    int calls[8];
    int n;
};

struct cleanup_arg {
    struct order_log *log;
    int id;
    const char *arena_string; /* memory in the arena being freed */
    char seen[16];
};

static void record_cleanup(void *data)
{
    struct cleanup_arg *c = data;
    c->log->calls[c->log->n++] = c->id;
    /* The arena's memory must still be valid while cleanups run. */
    if (c->arena_string)
        snprintf(c->seen, sizeof c->seen, "%s", c->arena_string);
}

Test(arena, cleanups_run_last_registered_first_on_free)
{
    struct order_log log = {.n = 0};
    struct cleanup_arg args[4];
    yw_arena *a = yw_arena_new(128);
    for (int i = 0; i < 4; i++) {
        args[i] = (struct cleanup_arg){.log = &log, .id = i + 1};
        args[i].arena_string = yw_arena_printf(a, "arena-%d", i + 1);
        yw_arena_on_free(a, record_cleanup, &args[i]);
        /* allocations between registrations fill new blocks */
        yw_arena_alloc(a, 500);
    }
    cr_expect_eq(log.n, 0, "a cleanup ran before the arena was freed");
    yw_arena_free(a);
    cr_assert_eq(log.n, 4, "%d cleanups ran, want 4", log.n);
    cr_expect_eq(log.calls[0], 4);
    cr_expect_eq(log.calls[1], 3);
    cr_expect_eq(log.calls[2], 2);
    cr_expect_eq(log.calls[3], 1);
    for (int i = 0; i < 4; i++) {
        char want[32];
        snprintf(want, sizeof want, "arena-%d", i + 1);
        cr_expect_str_eq(args[i].seen, want);
    }
}

/* A request's arena starts in a block an earlier one on this thread gave back: never with its bytes. */
Test(arena, blocks_given_back_serve_the_next_arenas_zeroed)
{
    enum { N = 20 };
    yw_arena *a[N];
    unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        a[i] = yw_arena_new(8192);
        p[i] = yw_arena_alloc(a[i], 100);
        memset(p[i], 0xab, 100);
    }
    for (int i = 0; i < N; i++)
        yw_arena_free(a[i]);
    /* as many new arenas as were freed at once: each starts in one of their blocks, newest first */
    for (int i = N - 1; i >= 0; i--) {
        yw_arena *b = yw_arena_new(8192);
        unsigned char *q = yw_arena_alloc(b, 100);
        cr_expect_eq(q, p[i], "arena %d did not start in a kept block", i);
        cr_expect(all_zero(q, 100), "arena %d saw an earlier one's bytes", i);
        a[i] = b;
    }
    for (int i = 0; i < N; i++)
        yw_arena_free(a[i]);
    /* a block bigger than what a thread keeps goes back to malloc, and displaces nothing */
    yw_arena *big = yw_arena_new(1 << 20);
    yw_arena_alloc(big, 10);
    yw_arena_free(big);
    yw_arena *c = yw_arena_new(8192);
    cr_expect_eq(yw_arena_alloc(c, 100), p[N - 1], "a big block displaced the kept ones");
    yw_arena_free(c);
}

/* What a request put in its arena (values it decrypted, its answer) is gone once the arena is. */
Test(arena, a_block_given_back_holds_none_of_its_bytes)
{
    yw_arena *a = yw_arena_new(8192);
    unsigned char *p = yw_arena_alloc(a, 100);
    memset(p, 0xab, 100);
    yw_arena_free(a); /* kept by this thread for the next arena, and poisoned */
    ASAN_UNPOISON_MEMORY_REGION(p, 100);
    cr_expect(all_zero(p, 100), "the freed arena's bytes are still in its block");
    ASAN_POISON_MEMORY_REGION(p, 100);
    yw_arena *b = yw_arena_new(8192);
    cr_expect_eq(yw_arena_alloc(b, 100), p, "the block was not the one kept");
    yw_arena_free(b);
}

/* Reading an arena's memory after it ended is caught by ASan even when its block was kept. */
Test(arena, a_kept_block_still_traps_a_use_after_free)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        yw_arena *a = yw_arena_new(8192);
        volatile char *p = yw_arena_alloc(a, 16);
        yw_arena_free(a);
        _exit(p[0] == 42 ? 3 : 4); /* ASan aborts before this read returns */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the read after free went unnoticed (status %#x)",
              status);
}

Test(arena, free_of_null_is_ignored)
{
    yw_arena_free(NULL);
}

Test(arena, arenas_are_independent)
{
    yw_arena *a = yw_arena_new(0), *b = yw_arena_new(0);
    char *sa = yw_arena_strdup(a, "a");
    yw_arena_alloc(b, 100);
    yw_arena_free(b);
    cr_expect_str_eq(sa, "a");
    cr_expect_geq(yw_arena_used(a), 2);
    cr_expect_leq(yw_arena_used(a), 16);
    yw_arena_free(a);
}

Test(arena, an_impossible_size_aborts_cleanly)
{
    /* "Allocation failure aborts the process." A size whose block header
     * makes the request wrap around must abort like any other failure, not
     * hand out a tiny block and write past it. The child's stderr is
     * captured to tell a clean abort from a sanitizer report (which under
     * abort_on_error=1 also ends in SIGABRT). */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        yw_arena *a = yw_arena_new(0);
        yw_arena_alloc(a, SIZE_MAX - 16);
        _exit(0); /* not reached when the allocation aborts */
    }
    close(fds[1]);
    char out[8192];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof out - 1 && (r = read(fds[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fds[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "the allocation did not abort (status %#x)", status);
    cr_expect_null(strstr(out, "Sanitizer"), "memory was overrun before the abort:\n%.600s", out);
}

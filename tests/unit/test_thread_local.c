/*
 * Unit tests of core/thread_local.h: each thread gets its own zeroed
 * object, the same one on every call, and its clear function runs when the
 * thread exits.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>

#include "core/thread_local.h"

typedef struct {
    int value;
    int *counted; /* set by the thread: cleared at its exit */
} counter;

static atomic_int cleared;

static void counter_clear(void *p)
{
    counter *c = p;
    if (c->counted)
        atomic_fetch_add(&cleared, *c->counted);
}

static yw_thread_local counters = YW_THREAD_LOCAL(counter, counter_clear);

static void *bump_twice(void *arg)
{
    static int one = 1;
    counter *a = yw_thread_local_get(&counters);
    cr_assert_not_null(a);
    cr_expect_eq(a->value, 0, "a thread starts from a zeroed object");
    a->value = *(int *)arg;
    a->counted = &one;
    counter *b = yw_thread_local_get(&counters);
    cr_expect_eq(a, b, "the same object on every call");
    cr_expect_eq(b->value, *(int *)arg);
    return NULL;
}

Test(thread_local, one_object_per_thread_cleared_when_it_exits)
{
    atomic_store(&cleared, 0);
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    int values[THREADS];
    for (int i = 0; i < THREADS; i++) {
        values[i] = 100 + i;
        pthread_create(&t[i], NULL, bump_twice, &values[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    cr_expect_eq(atomic_load(&cleared), THREADS, "every thread's object was cleared at its exit");
}

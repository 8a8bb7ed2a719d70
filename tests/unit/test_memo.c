/*
 * Unit tests of core/memo.h: per-thread answers of lookups, valid for one
 * generation and until their time runs out.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>

#include "core/memo.h"

static yw_memo memo = YW_MEMO;

Test(memo, an_answer_is_recalled_at_its_generation_and_until_it_runs_out)
{
    yw_memo_keep(&memo, "org/resource", json_string("GR00000001"), 7, 1000);
    const json_t *v = yw_memo_recall(&memo, "org/resource", 7, 999);
    cr_assert_not_null(v);
    cr_expect_str_eq(json_string_value(v), "GR00000001");
    cr_expect_null(yw_memo_recall(&memo, "org/resource", 8, 999), "a change of definitions did not end it");
    cr_expect_null(yw_memo_recall(&memo, "org/resource", 7, 1000), "it outlived its time");
    cr_expect_null(yw_memo_recall(&memo, "org/other", 7, 999));
    cr_expect_null(yw_memo_recall(&memo, "org/resource", 0, 0), "an empty entry matched");
}

Test(memo, the_newest_answer_for_a_key_wins_and_old_ones_make_room)
{
    yw_memo_keep(&memo, "k", json_integer(1), 3, 100);
    yw_memo_keep(&memo, "k", json_integer(2), 4, 100);
    cr_expect_eq(json_integer_value(yw_memo_recall(&memo, "k", 4, 0)), 2);
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        yw_memo_keep(&memo, key, json_integer(i), 4, 100);
    }
    cr_expect_eq(json_integer_value(yw_memo_recall(&memo, "k99", 4, 0)), 99);
    cr_expect_null(yw_memo_recall(&memo, "k0", 4, 0), "sixteen answers a thread, not more");
    yw_memo_keep(&memo, "nothing", NULL, 4, 100); /* no value: nothing kept */
    cr_expect_null(yw_memo_recall(&memo, "nothing", 4, 0));
}

Test(memo, keys_join_their_parts_with_slashes)
{
    yw_arena *a = yw_arena_new(0);
    cr_expect_str_eq(yw_memo_key(a, 4, "11330100002497102C", "113301-000003", NULL, "GR00000001"),
                     "11330100002497102C/113301-000003//GR00000001/");
    cr_expect_str_eq(yw_memo_key(a, 0), "");
    yw_arena_free(a);
}

static void *other_thread(void *arg)
{
    return (void *)yw_memo_recall(&memo, "mine", 1, 0);
}

Test(memo, each_thread_has_its_own)
{
    yw_memo_keep(&memo, "mine", json_true(), 1, 100);
    cr_expect_not_null(yw_memo_recall(&memo, "mine", 1, 0));
    pthread_t t;
    void *seen = (void *)1;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &seen);
    cr_expect_null(seen, "another thread saw this thread's answer");
}

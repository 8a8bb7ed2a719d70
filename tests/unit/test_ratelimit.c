/*
 * Rate limits: a caller gets its burst, then its rate; callers do not share
 * buckets; and a table full of callers keeps working for new ones.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "http/ratelimit.h"

#define S 1000000000LL

Test(ratelimit, a_burst_then_the_rate)
{
    yw_ratelimit *rl = yw_ratelimit_new(10, 20);
    int64_t t = 5 * S;
    for (int i = 0; i < 20; i++)
        cr_assert_eq(yw_ratelimit_take(rl, "gaj_clerk", t), 0, "request %d of the burst", i);
    cr_assert_eq(yw_ratelimit_take(rl, "gaj_clerk", t), 1, "the 21st waits");
    /* a tenth of a second brings one more */
    cr_assert_eq(yw_ratelimit_take(rl, "gaj_clerk", t + S / 10), 0);
    cr_assert_eq(yw_ratelimit_take(rl, "gaj_clerk", t + S / 10), 1);
    /* idle for long: no more than the burst */
    int allowed = 0;
    for (int i = 0; i < 100; i++)
        allowed += yw_ratelimit_take(rl, "gaj_clerk", t + 60 * S) == 0;
    cr_assert_eq(allowed, 20);
    yw_ratelimit_free(rl);
}

Test(ratelimit, callers_have_their_own_buckets)
{
    yw_ratelimit *rl = yw_ratelimit_new(1, 2);
    cr_assert_eq(yw_ratelimit_take(rl, "a", S), 0);
    cr_assert_eq(yw_ratelimit_take(rl, "a", S), 0);
    cr_assert_gt(yw_ratelimit_take(rl, "a", S), 0);
    cr_assert_eq(yw_ratelimit_take(rl, "b", S), 0);
    cr_assert_eq(yw_ratelimit_take(rl, "113301000024971107/exchange", S), 0);
    yw_ratelimit_free(rl);
}

Test(ratelimit, a_full_table_makes_room_for_new_callers)
{
    yw_ratelimit *rl = yw_ratelimit_new(1, 1);
    char key[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(key, sizeof key, "user%d", i);
        cr_assert_eq(yw_ratelimit_take(rl, key, S + i), 0, "%s", key);
    }
    /* the newest callers are still tracked */
    cr_assert_gt(yw_ratelimit_take(rl, "user49999", S + 50000), 0);
    yw_ratelimit_free(rl);
}

Test(ratelimit, no_rate_is_no_limit)
{
    cr_assert_null(yw_ratelimit_new(0, 0));
    cr_assert_eq(yw_ratelimit_take(NULL, "anyone", S), 0);
}

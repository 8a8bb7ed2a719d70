/*
 * Times as the API writes them: RFC 3339 in UTC with milliseconds, the
 * same as gmtime would give for any instant, before 1970 too, and read
 * back to the same instant.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <criterion/criterion.h>

#include "core/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* What the C library makes of ms. */
static void expected(int64_t ms, char out[64])
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    int frac = (int)(ms - (int64_t)secs * 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static void check(int64_t ms)
{
    char want[64], got[32];
    expected(ms, want);
    cr_assert_str_eq(yw_time_format(ms, got, sizeof got), want, "%lld ms", (long long)ms);
    if (ms < 0)
        return; /* the API reads no times before 1970 */
    int64_t back = 0;
    cr_assert_eq(yw_time_parse(got, &back), 0, "%s", got);
    cr_assert_eq(back, ms, "%s", got);
}

/* Midnight UTC of a day, in ms. */
static int64_t midnight(int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    return (int64_t)timegm(&tm) * 1000;
}

Test(time, known_instants)
{
    char buf[32];
    cr_assert_str_eq(yw_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
    cr_assert_str_eq(yw_time_format(1795737360123, buf, sizeof buf), "2026-11-26T23:56:00.123Z");
    cr_assert_str_eq(yw_time_format(951782400000, buf, sizeof buf), "2000-02-29T00:00:00.000Z");
    cr_assert_str_eq(yw_time_format(-1, buf, sizeof buf), "1969-12-31T23:59:59.999Z");
}

Test(time, agrees_with_gmtime_across_centuries)
{
    /* around the leap days (or their absence) and year ends of 1900, 2000 and 2100 */
    const int edges[][3] = {{1900, 3, 1}, {1901, 1, 1}, {2000, 2, 29}, {2000, 3, 1}, {2001, 1, 1},
                            {2100, 3, 1}, {2101, 1, 1}, {1970, 1, 1}};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        int64_t ms = midnight(edges[i][0], edges[i][1], edges[i][2]);
        check(ms);
        check(ms - 1);
        check(ms + 1);
    }
    /* and a spread of instants between */
    srand(808);
    for (int i = 0; i < 200000; i++) {
        int64_t ms = ((int64_t)rand() << 20 ^ rand()) % (int64_t)7258118400000 - (int64_t)2208988800000;
        check(ms); /* 1900 to 2200 */
    }
}

Test(time, too_small_a_buffer_gets_an_empty_string)
{
    char buf[24] = "unchanged";
    cr_assert_str_eq(yw_time_format(0, buf, sizeof buf), "");
}

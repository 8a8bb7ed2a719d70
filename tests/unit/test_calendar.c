/*
 * Working-day limits: weekends, holidays and working weekends are honoured,
 * days are counted in China Standard Time, and bad dates are refused.
 */
#include <criterion/criterion.h>

#include "core/calendar.h"
#include "core/time.h"

static int64_t at(const char *rfc3339)
{
    int64_t ms;
    cr_assert_eq(yw_time_parse(rfc3339, &ms), 0, "%s", rfc3339);
    return ms;
}

Test(calendar, five_working_days_skip_the_weekend)
{
    yw_calendar c;
    char err[128];
    cr_assert_eq(yw_calendar_init(&c, NULL, NULL, err, sizeof err), 0);
    /* Thursday 2026-11-26 10:00 in Beijing: Fri, Mon, Tue, Wed, Thu → ends at midnight after Thu 2026-12-03 */
    cr_assert_eq(yw_calendar_deadline(&c, at("2026-11-26T10:00:00+08:00"), 5), at("2026-12-04T00:00:00+08:00"));
    /* submitted on a Saturday: Mon..Fri */
    cr_assert_eq(yw_calendar_deadline(&c, at("2026-11-28T23:00:00+08:00"), 5), at("2026-12-05T00:00:00+08:00"));
    yw_calendar_free(&c);
}

Test(calendar, days_are_civil_days_in_beijing)
{
    yw_calendar c;
    char err[128];
    cr_assert_eq(yw_calendar_init(&c, NULL, NULL, err, sizeof err), 0);
    /* 2026-11-26T20:00Z is already Friday 04:00 in Beijing: Mon → ends at midnight after Monday */
    cr_assert_eq(yw_calendar_deadline(&c, at("2026-11-26T20:00:00Z"), 1), at("2026-12-01T00:00:00+08:00"));
    cr_assert_not(yw_calendar_is_working_day(&c, yw_calendar_day(at("2026-11-28T12:00:00+08:00"))));
    cr_assert(yw_calendar_is_working_day(&c, yw_calendar_day(at("2026-11-30T00:00:00+08:00"))));
    yw_calendar_free(&c);
}

Test(calendar, holidays_rest_and_working_weekends_work)
{
    yw_calendar c;
    char err[128];
    /* National Day 2026: Oct 1-7 off, Sat Oct 10 worked */
    cr_assert_eq(yw_calendar_init(&c, "2026-10-07,2026-10-01,2026-10-02,2026-10-05,2026-10-06", "2026-10-10", err,
                                  sizeof err),
                 0, "%s", err);
    /* Wed Sep 30: Oct 8 (Thu), Oct 9 (Fri), Oct 10 (Sat, worked) */
    cr_assert_eq(yw_calendar_deadline(&c, at("2026-09-30T09:00:00+08:00"), 3), at("2026-10-11T00:00:00+08:00"));
    yw_calendar_free(&c);
}

Test(calendar, bad_dates_are_refused)
{
    yw_calendar c;
    char err[128];
    cr_assert_eq(yw_calendar_init(&c, "2026-02-30", NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "2026-02-30"));
    cr_assert_eq(yw_calendar_init(&c, "2026-10-01,tomorrow", NULL, err, sizeof err), -1);
    cr_assert_eq(yw_calendar_init(&c, NULL, "2026-1-1", err, sizeof err), -1);
}

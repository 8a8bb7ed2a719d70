/*
 * The working-day calendar that time limits are counted on: a request
 * decided "within 5 working days", an objection answered within its limit.
 *
 * Days are civil days in China Standard Time (UTC+8, no daylight saving).
 * Saturdays and Sundays are rest days, the configured holidays too, and the
 * configured working weekends (调休) are working days. A limit of n working
 * days ends at midnight after the n-th working day that follows the day of
 * submission: the day something arrives does not count.
 */
#ifndef YW_CORE_CALENDAR_H
#define YW_CORE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t *holidays, *workdays; /* day numbers (days since 1970-01-01 in UTC+8), sorted */
    size_t nholidays, nworkdays;
} yw_calendar;

/*
 * Builds a calendar from comma-separated ISO dates ("2026-10-01,2026-10-02");
 * either list may be NULL or empty. Returns 0, or -1 with the bad date in err.
 */
int yw_calendar_init(yw_calendar *c, const char *holidays, const char *workdays, char *err, size_t errlen);
void yw_calendar_free(yw_calendar *c);

/* The day number of an instant (ms since the epoch). */
int64_t yw_calendar_day(int64_t ms);
bool yw_calendar_is_working_day(const yw_calendar *c, int64_t day);

/* The end of a limit of n working days counted from instant ms (see above), in ms. */
int64_t yw_calendar_deadline(const yw_calendar *c, int64_t ms, int n);

#endif

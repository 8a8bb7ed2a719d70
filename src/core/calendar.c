/* The working-day calendar (see calendar.h). */
#include "core/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"

#define DAY_MS 86400000LL
#define CST_OFFSET_MS (8 * 3600000LL)
#define MAX_DATES 1000

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_list(const char *text, int64_t **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!text || !*text)
        return 0;
    *out = malloc(MAX_DATES * sizeof **out);
    if (!*out)
        return -1;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char date[16];
        int y, m, d;
        if (len != 10 || *n == MAX_DATES || (memcpy(date, p, 10), date[10] = '\0', !yw_valid_iso_date(date)) ||
            sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3) {
            snprintf(err, errlen, "'%.*s' is not a date like 2026-10-01 (at most %d dates)", (int)(len > 40 ? 40 : len),
                     p, MAX_DATES);
            free(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
        (*out)[(*n)++] = days_from_civil(y, m, d);
        p = end ? end + 1 : p + len;
    }
    qsort(*out, *n, sizeof **out, cmp_day);
    return 0;
}

int yw_calendar_init(yw_calendar *c, const char *holidays, const char *workdays, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (parse_list(holidays, &c->holidays, &c->nholidays, err, errlen) < 0 ||
        parse_list(workdays, &c->workdays, &c->nworkdays, err, errlen) < 0) {
        yw_calendar_free(c);
        return -1;
    }
    return 0;
}

void yw_calendar_free(yw_calendar *c)
{
    free(c->holidays);
    free(c->workdays);
    memset(c, 0, sizeof *c);
}

int64_t yw_calendar_day(int64_t ms)
{
    int64_t t = ms + CST_OFFSET_MS;
    return t >= 0 ? t / DAY_MS : -((-t + DAY_MS - 1) / DAY_MS);
}

static bool listed(const int64_t *days, size_t n, int64_t day)
{
    return n && bsearch(&day, days, n, sizeof *days, cmp_day) != NULL;
}

bool yw_calendar_is_working_day(const yw_calendar *c, int64_t day)
{
    if (listed(c->workdays, c->nworkdays, day))
        return true;
    if (listed(c->holidays, c->nholidays, day))
        return false;
    int weekday = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    return weekday != 0 && weekday != 6;
}

int64_t yw_calendar_deadline(const yw_calendar *c, int64_t ms, int n)
{
    int64_t day = yw_calendar_day(ms);
    for (int counted = 0; counted < n;)
        if (yw_calendar_is_working_day(c, ++day))
            counted++;
    return (day + 1) * DAY_MS - CST_OFFSET_MS;
}

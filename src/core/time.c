/* Time helpers (see time.h). */
#include "core/time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t yw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t yw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                                /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;        /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                      /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                           /* March = 0 */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* Computed, not through gmtime_r and snprintf: a read formats the times of records from any second. */
char *yw_time_format(int64_t ms, char *buf, size_t len)
{
    int64_t second = ms / 1000 - (ms % 1000 < 0); /* floor, for times before 1970 */
    int frac = (int)(ms - second * 1000);
    int64_t day = second / 86400 - (second % 86400 < 0);
    int in_day = (int)(second - day * 86400);
    int64_t year;
    int month, mday;
    civil_from_days(day, &year, &month, &mday);
    if (len < 25 || year < 0 || year > 9999) {
        if (len)
            buf[0] = '\0'; /* too small for a time, or a year of other than four digits */
        return buf;
    }
    char *p = put2(put2(buf, (int)(year / 100)), (int)(year % 100));
    *p++ = '-';
    p = put2(p, month);
    *p++ = '-';
    p = put2(p, mday);
    *p++ = 'T';
    p = put2(p, in_day / 3600);
    *p++ = ':';
    p = put2(p, in_day / 60 % 60);
    *p++ = ':';
    p = put2(p, in_day % 60);
    *p++ = '.';
    *p++ = (char)('0' + frac / 100);
    p = put2(p, frac % 100);
    *p++ = 'Z';
    *p = '\0';
    return buf;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int yw_time_parse(const char *s, int64_t *ms)
{
    size_t len = s ? strlen(s) : 0;
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    struct tm tm = {0};
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = 0, mi = 0, sec = 0, frac = 0, offset = 0;
    const char *p = s + 10;
    if (*p) {
        if ((*p != 'T' && *p != 't' && *p != ' ') || strlen(p) < 9 || p[3] != ':' || p[6] != ':')
            return -1;
        h = digits(p + 1, 2);
        mi = digits(p + 4, 2);
        sec = digits(p + 7, 2);
        p += 9;
        if (*p == '.') {
            int scale = 100;
            for (p++; isdigit((unsigned char)*p); p++) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
            int oh = digits(p + 1, 2), om = digits(p + 4, 2);
            if (oh < 0 || om < 0 || oh > 23 || om > 59)
                return -1;
            offset = (*p == '+' ? 1 : -1) * (oh * 60 + om);
            p += 6;
        } else {
            return -1;
        }
        if (*p)
            return -1;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)offset * 60) * 1000 + frac;
    return 0;
}

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

char *yw_time_format(int64_t ms, char *buf, size_t len)
{
    /* The date and time of the last second formatted, per thread: most calls fall in the same second. */
    static __thread int64_t cached_second = -1;
    static __thread char cached[64];
    int64_t second = ms / 1000;
    if (second != cached_second) {
        time_t secs = (time_t)second;
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_second = second;
    }
    int frac = (int)(ms % 1000);
    if (len >= 25) {
        memcpy(buf, cached, 19);
        buf[19] = '.';
        buf[20] = (char)('0' + frac / 100);
        buf[21] = (char)('0' + frac / 10 % 10);
        buf[22] = (char)('0' + frac % 10);
        buf[23] = 'Z';
        buf[24] = '\0';
    } else if (len) {
        buf[0] = '\0'; /* too small for a time */
    }
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

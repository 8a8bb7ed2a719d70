/*
 * Wall-clock and monotonic time. Stored times are milliseconds since the
 * Unix epoch (int64); the API shows them as RFC 3339 in UTC.
 */
#ifndef YW_CORE_TIME_H
#define YW_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

int64_t yw_now_ms(void);
/* Monotonic nanoseconds, for durations. */
int64_t yw_mono_ns(void);
/* "2026-11-26T21:56:00.123Z"; buf needs 32 bytes. Returns buf. */
char *yw_time_format(int64_t ms, char *buf, size_t len);

/*
 * Parses RFC 3339 ("2026-11-26T08:00:00Z", fractions and ±hh:mm offsets
 * allowed; a bare date means its midnight UTC) into ms. 0 or -1.
 */
int yw_time_parse(const char *s, int64_t *ms);

#endif

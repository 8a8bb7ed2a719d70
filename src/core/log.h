/*
 * Structured logging: one JSON object per line on stderr.
 *
 * Every line has "ts" (RFC 3339, UTC), "level" and "msg"; callers add
 * fields as a jansson object. Lines are written with one write() so that
 * lines from different threads never interleave.
 */
#ifndef YW_CORE_LOG_H
#define YW_CORE_LOG_H

#include <jansson.h>

typedef enum { YW_LOG_DEBUG, YW_LOG_INFO, YW_LOG_WARN, YW_LOG_ERROR, YW_LOG_OFF } yw_log_level;

void yw_log_set_level(yw_log_level level);
yw_log_level yw_log_get_level(void);
/* "debug", "info", "warn", "error", "off" → level; -1 when unknown. */
int yw_log_level_parse(const char *name);

/* Logs msg with the members of fields (may be NULL); steals fields. */
void yw_log(yw_log_level level, const char *msg, json_t *fields);
void yw_logf(yw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

/* Structured JSON-lines logging (see log.h). */
#include "core/log.h"

#include "core/time.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int current_level = YW_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void yw_log_set_level(yw_log_level level)
{
    current_level = level;
}

yw_log_level yw_log_get_level(void)
{
    return current_level;
}

int yw_log_level_parse(const char *name)
{
    for (int i = 0; i <= YW_LOG_OFF; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void yw_log(yw_log_level level, const char *msg, json_t *fields)
{
    if ((int)level < current_level || level >= YW_LOG_OFF) {
        json_decref(fields);
        return;
    }
    char ts[40];
    yw_time_format(yw_now_ms(), ts, sizeof ts);
    json_t *line = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "msg", msg);
    if (fields)
        json_object_update_missing(line, fields);
    json_decref(fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL; length passed explicitly */
    ssize_t w = write(STDERR_FILENO, text, n + 1);
    (void)w;
    free(text);
}

void yw_logf(yw_log_level level, const char *fmt, ...)
{
    if ((int)level < current_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    yw_log(level, msg, NULL);
}

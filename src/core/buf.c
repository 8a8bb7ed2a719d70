/* Growable byte buffer (see buf.h). Growth doubles; failure aborts. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(yw_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        abort();
    b->data = p;
    b->cap = cap;
}

void yw_buf_append(yw_buf *b, const void *data, size_t len)
{
    reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void yw_buf_puts(yw_buf *b, const char *s)
{
    yw_buf_append(b, s, strlen(s));
}

void yw_buf_printf(yw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void yw_buf_reset(yw_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void yw_buf_free(yw_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *yw_buf_take(yw_buf *b)
{
    reserve(b, 0);
    b->data[b->len] = '\0';
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

char *yw_buf_room(yw_buf *b, size_t n)
{
    reserve(b, n);
    return b->data + b->len;
}

void yw_buf_added(yw_buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

void yw_buf_wipe(yw_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    yw_buf_free(b);
}

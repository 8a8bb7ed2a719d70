/*
 * Growable byte buffer for building text (metrics pages, SQL, CSV lines).
 * The buffer is always NUL-terminated so data can be used as a C string.
 * Owned by whoever declared it; release with yw_buf_free.
 */
#ifndef YW_CORE_BUF_H
#define YW_CORE_BUF_H

#include <stddef.h>

typedef struct {
    char *data;
    size_t len, cap;
} yw_buf;

#define YW_BUF_INIT {NULL, 0, 0}

void yw_buf_append(yw_buf *b, const void *data, size_t len);
void yw_buf_puts(yw_buf *b, const char *s);
void yw_buf_printf(yw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void yw_buf_reset(yw_buf *b);
void yw_buf_free(yw_buf *b);
/* yw_buf_free for a buffer that held secrets (decrypted values): zeroed first. */
void yw_buf_wipe(yw_buf *b);
/* Hands the data to the caller (free() it) and resets the buffer. */
char *yw_buf_take(yw_buf *b);
/*
 * Room for n more bytes at the end, to write in place: returns where they
 * go; yw_buf_added then counts the ones written (at most n).
 */
char *yw_buf_room(yw_buf *b, size_t n);
void yw_buf_added(yw_buf *b, size_t n);

#endif

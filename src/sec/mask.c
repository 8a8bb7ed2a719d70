/* Masking of shared values by kind (see mask.h). */
#include "sec/mask.h"

#include <string.h>

#define MAX_CHARS 256

static const char *const kinds[] = {"none", "id_card", "phone", "name", "address", "bank_card", "full", NULL};

bool yw_mask_kind_known(const char *kind)
{
    for (const char *const *k = kinds; *k; k++)
        if (strcmp(*k, kind) == 0)
            return true;
    return false;
}

/* Byte offset of each character start: off[i] for i < n, off[n] = strlen. Returns n (at most max). */
static size_t char_offsets(const char *s, size_t *off, size_t max)
{
    size_t n = 0, i = 0;
    while (s[i] && n < max) {
        off[n++] = i;
        i++;
        while ((s[i] & 0xC0) == 0x80)
            i++;
    }
    off[n] = i;
    return n;
}

static void stars(yw_buf *out, size_t n)
{
    memset(yw_buf_room(out, n), '*', n);
    yw_buf_added(out, n);
}

/* Keeps the first head and last tail characters, a star for each in between. */
static void keep_ends(const char *v, const size_t *off, size_t n, size_t head, size_t tail, yw_buf *out)
{
    if (n <= head + tail) {
        stars(out, n ? n : 3);
        return;
    }
    yw_buf_append(out, v, off[head]);
    stars(out, n - head - tail);
    yw_buf_append(out, v + off[n - tail], off[n] - off[n - tail]);
}

/* The address up to its district: the first 区, 县 or 旗 after the city, then four stars. */
static void mask_address(const char *v, const size_t *off, size_t n, yw_buf *out)
{
    static const char *const districts[] = {"区", "县", "旗"};
    size_t keep = 0;
    for (size_t i = 0; i < n && !keep; i++)
        for (size_t d = 0; d < 3; d++) {
            size_t len = strlen(districts[d]);
            if (off[i + 1] - off[i] == len && memcmp(v + off[i], districts[d], len) == 0) {
                keep = i + 1;
                break;
            }
        }
    if (!keep || keep >= n)
        keep = n > 6 ? 6 : 0;
    if (!keep) {
        stars(out, 3);
        return;
    }
    yw_buf_append(out, v, off[keep]);
    stars(out, 4);
}

void yw_mask(const char *kind, const char *value, yw_buf *out)
{
    size_t off[MAX_CHARS + 1];
    size_t n = char_offsets(value, off, MAX_CHARS);
    bool whole = value[off[n]] == '\0'; /* a longer value is seen through its first characters */
    if (!whole && (strcmp(kind, "name") != 0 && strcmp(kind, "address") != 0))
        stars(out, 3);
    else if (strcmp(kind, "id_card") == 0)
        keep_ends(value, off, n, 6, 4, out);
    else if (strcmp(kind, "phone") == 0)
        keep_ends(value, off, n, 3, 4, out);
    else if (strcmp(kind, "name") == 0)
        keep_ends(value, off, n, 1, 0, out);
    else if (strcmp(kind, "bank_card") == 0)
        keep_ends(value, off, n, 0, 4, out);
    else if (strcmp(kind, "address") == 0)
        mask_address(value, off, n, out);
    else
        stars(out, 3);
}

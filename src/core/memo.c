/* Per-thread memos of lookups (see memo.h). */
#include "core/memo.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES (sizeof ((struct yw_memo_table *)0)->entries / sizeof ((struct yw_memo_table *)0)->entries[0])

void yw_memo_clear_table(void *table)
{
    struct yw_memo_table *t = table;
    for (size_t i = 0; i < ENTRIES; i++) {
        free(t->entries[i].key);
        json_decref(t->entries[i].value);
    }
    memset(t, 0, sizeof *t);
}

const char *yw_memo_key(yw_arena *a, int n, ...)
{
    va_list ap;
    size_t len = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *part = va_arg(ap, const char *);
        len += (part ? strlen(part) : 0) + 1;
    }
    va_end(ap);
    char *key = yw_arena_alloc(a, len + 1), *end = key;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *part = va_arg(ap, const char *);
        size_t plen = part ? strlen(part) : 0;
        memcpy(end, part ? part : "", plen);
        end += plen;
        *end++ = '/';
    }
    va_end(ap);
    *end = '\0';
    return key;
}

const json_t *yw_memo_recall(yw_memo *m, const char *key, uint64_t generation, int64_t now)
{
    struct yw_memo_table *t = yw_thread_local_get(&m->slot);
    for (size_t i = 0; t && i < ENTRIES; i++)
        if (t->entries[i].key && t->entries[i].generation == generation && t->entries[i].until > now &&
            strcmp(t->entries[i].key, key) == 0)
            return t->entries[i].value;
    return NULL;
}

void yw_memo_keep(yw_memo *m, const char *key, json_t *value, uint64_t generation, int64_t until)
{
    struct yw_memo_table *t = yw_thread_local_get(&m->slot);
    char *copy = t && value ? strdup(key) : NULL;
    if (!copy) {
        json_decref(value);
        return;
    }
    unsigned i = t->next++ % ENTRIES;
    free(t->entries[i].key);
    json_decref(t->entries[i].value);
    t->entries[i].key = copy;
    t->entries[i].value = value;
    t->entries[i].generation = generation;
    t->entries[i].until = until;
}

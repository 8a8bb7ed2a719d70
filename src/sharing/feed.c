/*
 * What a reader sees of records and of their changes: the whole record for
 * the provider; for a grant, its items only, each in clear or masked by the
 * item's mask kind. The change feed (GET .../changes) and the webhook
 * deliveries are both pages of this view over the resource's change
 * sequence, in order.
 */
#include "sharing/sharing.h"

#include "core/error.h"
#include "sec/mask.h"

#include <stdlib.h>
#include <string.h>

static const char *mask_kind(const resource_spec *r, const char *item)
{
    for (size_t i = 0; i < r->nitems; i++)
        if (strcmp(r->items[i].name, item) == 0)
            return r->items[i].mask;
    return "full";
}

/* A value of an item the grant shows masked: the mask of its text, as a string. New reference. */
static json_t *masked_value(const resource_spec *r, const char *name, json_t *v)
{
    char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    yw_buf masked = YW_BUF_INIT;
    yw_mask(mask_kind(r, name), text ? text : json_string_value(v), &masked);
    json_t *out = json_stringn(masked.data ? masked.data : "", masked.len);
    yw_buf_free(&masked);
    free(text);
    return out;
}

static void note_disclosed(json_t *disclosed, const char *name)
{
    size_t i;
    json_t *seen;
    json_array_foreach(disclosed, i, seen) if (strcmp(json_string_value(seen), name) == 0) return;
    json_array_append_new(disclosed, json_string(name));
}

json_t *shared_view(const resource_spec *r, const json_t *grant_items, json_t *data, json_t *disclosed)
{
    const char *name;
    json_t *v;
    void *next;
    if (grant_items) {
        json_object_foreach_safe(data, next, name, v) {
            const char *mode = json_string_value(json_object_get(grant_items, name));
            if (!mode || json_is_null(v))
                json_object_del(data, name); /* outside the grant, or nothing to show */
            else if (strcmp(mode, "masked") == 0)
                json_object_set_new(data, name, masked_value(r, name, v)); /* replaces in place */
        }
    }
    json_object_foreach(data, name, v) note_disclosed(disclosed, name);
    return data;
}

const char *shared_key(const resource_spec *r, const json_t *grant_items, const char *key, yw_arena *a)
{
    if (!key)
        return NULL;
    if (!grant_items)
        return key;
    json_t *mode = json_object_get(grant_items, r->key_item);
    if (!mode)
        return NULL; /* the key item was not granted: the change says what changed, not whose */
    if (strcmp(json_string_value(mode), "masked") != 0)
        return yw_arena_strdup(a, key);
    json_t *v = json_string(key);
    json_t *shown = masked_value(r, r->key_item, v);
    const char *out = yw_arena_strdup(a, json_string_value(shown));
    json_decref(v);
    json_decref(shown);
    return out;
}

typedef struct {
    const record_ctx *ctx;
    yw_db *db;
    const resource_spec *r;
    const json_t *grant_items;
    feed_page *page;
} feed_walk;

static int one_change(const record_change *ch, void *arg)
{
    feed_walk *w = arg;
    json_t *data;
    const char *key;
    int rc = record_at_version(w->ctx, w->db, w->r, ch->key_index, ch->version, &data, &key);
    if (rc < 0 && rc != YW_ENOTFOUND)
        return rc;
    json_t *shown = data ? shared_view(w->r, w->grant_items, data, w->page->disclosed) : json_null();
    const char *shown_key = shared_key(w->r, w->grant_items, key, w->ctx->arena);
    if (shown_key)
        note_disclosed(w->page->disclosed, w->r->key_item);
    json_t *change = json_pack("{s:I, s:s?, s:I, s:b, s:o, s:o}", "seq", (json_int_t)ch->seq, "key", shown_key,
                               "version", (json_int_t)ch->version, "deleted", ch->deleted, "changed_at",
                               yw_json_time(ch->changed_at), "data", shown);
    json_array_append_new(w->page->changes, change);
    json_array_append_new(w->page->indexes, json_string(ch->key_index));
    w->page->last_seq = ch->seq;
    return 0;
}

int feed_collect(const record_ctx *ctx, yw_db *db, const resource_spec *r, const json_t *grant_items, int64_t after,
                 int limit, feed_page *page)
{
    page->changes = json_array();
    page->disclosed = json_array();
    page->indexes = json_array();
    page->last_seq = after;
    feed_walk w = {ctx, db, r, grant_items, page};
    int rc = record_changes_each(db, r->code, after, limit, one_change, &w);
    if (rc < 0)
        feed_page_free(page);
    return rc < 0 ? rc : 0;
}

void feed_page_free(feed_page *page)
{
    json_decref(page->changes);
    json_decref(page->disclosed);
    json_decref(page->indexes);
    page->changes = page->disclosed = page->indexes = NULL;
}

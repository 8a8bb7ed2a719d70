/*
 * What a reader sees of records and of their changes: the whole record for
 * the provider; for a grant, its items only, each in clear or masked by the
 * item's mask kind. The change feed (GET .../changes) and the webhook
 * deliveries are both pages of this view over the resource's change
 * sequence, in order.
 */
#include "sharing/sharing.h"

#include "core/error.h"
#include "core/json.h"
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

/*
 * shared_view written as it is read, for a granted read of one record:
 * each value goes from the lookup to the text of the answer without a
 * JSON tree in between. Plain strings, integers and booleans (nearly every
 * value) are written or masked here; the rare rest goes through the same
 * masked_value as the tree, so both give the same bytes.
 */
typedef struct {
    const resource_spec *r;
    const json_t *grant_items;
    yw_arena *arena;
    yw_buf *out;
    json_t *disclosed;
    bool first;
} view_writer;

static int write_member(const record_value *v, void *arg)
{
    view_writer *w = arg;
    const char *mode = json_string_value(json_object_get(w->grant_items, v->name));
    if (!mode || v->kind == RECORD_NULL)
        return 0; /* outside the grant, or nothing to show */
    bool masked = strcmp(mode, "masked") == 0;
    if (!w->first)
        yw_buf_append(w->out, ",", 1);
    w->first = false;
    yw_json_write_string(w->out, v->name);
    yw_buf_append(w->out, ":", 1);
    note_disclosed(w->disclosed, v->name);
    if (v->kind == RECORD_STRING && masked) {
        yw_buf shown = YW_BUF_INIT;
        yw_mask(mask_kind(w->r, v->name), yw_arena_strndup(w->arena, v->text, v->len), &shown);
        yw_json_write_stringn(w->out, shown.data ? shown.data : "", shown.len);
        yw_buf_free(&shown);
    } else if (v->kind == RECORD_STRING) {
        yw_json_write_stringn(w->out, v->text, v->len);
    } else if (v->kind == RECORD_INT && !masked) {
        char n[24];
        yw_buf_append(w->out, n, (size_t)snprintf(n, sizeof n, "%lld", (long long)v->i));
    } else if ((v->kind == RECORD_TRUE || v->kind == RECORD_FALSE) && !masked) {
        yw_buf_puts(w->out, v->kind == RECORD_TRUE ? "true" : "false");
    } else {
        json_t *value = record_value_json(v);
        if (!value)
            return YW_EIO;
        json_t *shown = masked ? masked_value(w->r, v->name, value) : json_incref(value);
        yw_json_write(w->out, shown);
        json_decref(shown);
        json_decref(value);
    }
    return 0;
}

int shared_record_write(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, yw_buf *data,
                        int64_t *version, int64_t *updated_at, json_t *disclosed)
{
    view_writer w = {.r = r, .grant_items = c->only, .arena = c->arena, .out = data, .disclosed = disclosed,
                     .first = true};
    yw_buf_append(data, "{", 1);
    int rc = record_read_values(c, db, r, index, version, updated_at, write_member, &w);
    yw_buf_append(data, "}", 1);
    return rc;
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

/*
 * Records of shared data, written by their provider.
 *
 *   PUT    /api/v1/resources/{code}/records/{key}           {"data": {item: value}}
 *   DELETE /api/v1/resources/{code}/records/{key}           a tombstone
 *   (reads of one record, by the provider or through a grant, are the sharing module's)
 *   GET    /api/v1/resources/{code}/records/{key}/versions  the history (the provider)
 *
 * Every value is checked against its item (type, length) and the item's
 * data element (validator); required items must be present. Values of
 * sensitive items (L3, L4) are stored encrypted, bound to resource and item;
 * a sensitive key item is looked up by its blind index and stored nowhere
 * in clear — not in the records, the change sequence, the logs (the route
 * is logged, not the path) or the audit trail (which names the index).
 *
 * Writing the same data again changes nothing: the version stays and no
 * change is recorded. Each real change gets the next version and the next
 * number in the resource's change sequence.
 */
#include "data/handlers.h"
#include "data/record.h"

#include "app/app.h"
#include "authz/policy.h"
#include "catalog/element.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/thread_local.h"
#include "core/time.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY 256

/*
 * Loads the resource named by the path if the caller may load its records;
 * otherwise replies (404 for callers outside the provider org, as if it did
 * not exist). Strings live in the request arena.
 */
/* Builds r from the stored row of resource code, looking up the validators of its items' elements. */
static void parse_spec(yw_arena *a, yw_db *db, const char *code, const char *provider, const char *status,
                       const char *doc_text, resource_spec *r)
{
    memset(r, 0, sizeof *r);
    r->code = yw_arena_strdup(a, code);
    r->key = -1;
    yw_stmt *s;
    r->provider = yw_arena_strdup(a, provider);
    r->status = yw_arena_strdup(a, status);
    json_t *doc = json_loads(doc_text, 0, NULL);
    const char *key_item = yw_json_str(doc, "key_item");
    r->key_item = key_item ? yw_arena_strdup(a, key_item) : NULL;
    json_t *items = json_object_get(doc, "items");
    r->nitems = json_array_size(items);
    r->items = yw_arena_alloc(a, (r->nitems + 1) * sizeof *r->items);
    for (size_t i = 0; i < r->nitems; i++) {
        json_t *it = json_array_get(items, i);
        item_spec *spec = &r->items[i];
        spec->name = yw_arena_strdup(a, yw_json_str(it, "name"));
        const char *sens = yw_json_str(it, "sensitivity");
        spec->sensitive = sens && (strcmp(sens, "L3") == 0 || strcmp(sens, "L4") == 0);
        spec->required = json_is_true(json_object_get(it, "required"));
        spec->element = (yw_element){.id = spec->name, .name = spec->name,
                                     .type = yw_arena_strdup(a, yw_json_str(it, "type") ? yw_json_str(it, "type") : "C"),
                                     .length = (int)json_integer_value(json_object_get(it, "length"))};
        const char *element = yw_json_str(it, "element");
        spec->element_id = element ? yw_arena_strdup(a, element) : NULL;
        spec->mask = yw_arena_strdup(a, yw_json_str(it, "mask") ? yw_json_str(it, "mask") : "none");
        if (element && yw_db_query(db, &s, "SELECT validator FROM elements WHERE id = $1", "t", element) == 0) {
            if (yw_stmt_step(s) == YW_DB_ROW && yw_stmt_text(s, 0))
                spec->element.validator = yw_arena_strdup(a, yw_stmt_text(s, 0));
            yw_stmt_release(s);
        }
        spec->context = yw_arena_printf(a, "%s/%s", r->code, spec->name);
        if (r->key_item && strcmp(r->key_item, spec->name) == 0) {
            r->key_sensitive = spec->sensitive;
            r->key = (int)i;
        }
    }
    json_decref(doc);
    /* stored data lists items by name, as JSON_SORT_KEYS does: a reload then hashes the same */
    r->by_name = yw_arena_alloc(a, (r->nitems + 1) * sizeof *r->by_name);
    for (size_t i = 0; i < r->nitems; i++) {
        size_t j = i;
        for (; j > 0 && strcmp(r->items[r->by_name[j - 1]].name, r->items[i].name) > 0; j--)
            r->by_name[j] = r->by_name[j - 1];
        r->by_name[j] = i;
    }
    r->hash_context = yw_arena_printf(a, "record:%s", r->code);
}

/* A copy of spec in arena a: every string and array, so that it outlives the cache entry it came from. */
static void copy_spec(yw_arena *a, const resource_spec *from, resource_spec *r)
{
    *r = *from;
    r->code = yw_arena_strdup(a, from->code);
    r->provider = yw_arena_strdup(a, from->provider);
    r->status = yw_arena_strdup(a, from->status);
    r->key_item = from->key_item ? yw_arena_strdup(a, from->key_item) : NULL;
    r->hash_context = yw_arena_strdup(a, from->hash_context);
    r->items = yw_arena_alloc(a, (from->nitems + 1) * sizeof *r->items);
    r->by_name = yw_arena_alloc(a, (from->nitems + 1) * sizeof *r->by_name);
    memcpy(r->by_name, from->by_name, from->nitems * sizeof *r->by_name);
    for (size_t i = 0; i < from->nitems; i++) {
        const item_spec *f = &from->items[i];
        item_spec *t = &r->items[i];
        *t = *f;
        t->name = yw_arena_strdup(a, f->name);
        t->element_id = f->element_id ? yw_arena_strdup(a, f->element_id) : NULL;
        t->mask = yw_arena_strdup(a, f->mask);
        t->context = yw_arena_strdup(a, f->context);
        t->element.id = t->element.name = t->name;
        t->element.type = yw_arena_strdup(a, f->element.type);
        t->element.validator = f->element.validator ? yw_arena_strdup(a, f->element.validator) : NULL;
    }
}

/*
 * Resources as records see them, kept per thread: building one parses its
 * metadata and looks up each item's element, which every granted read
 * would otherwise pay. An entry serves a request while no definition
 * changed since it was checked (the writer's generation, app.h); otherwise,
 * and for callers outside requests, while the stored row is the same
 * (status and metadata compared whole).
 *
 * A request borrows the entry's spec instead of copying it: the entry is
 * pinned until the request's arena is freed (on the same thread, which owns
 * the connection), and a pinned entry is never evicted. Other callers get a
 * copy in their arena.
 */
#define SPEC_CACHE 8

typedef struct {
    char *code, *provider, *status, *doc;
    yw_arena *arena;
    resource_spec spec;
    uint64_t used;
    uint64_t generation; /* checked against the row at this generation; 0: not yet */
    int pins;            /* requests borrowing spec */
} spec_entry;

typedef struct {
    spec_entry entries[SPEC_CACHE];
    uint64_t clock;
} spec_cache;

static void entry_clear(spec_entry *e)
{
    free(e->code);
    free(e->provider);
    free(e->status);
    free(e->doc);
    yw_arena_free(e->arena);
    memset(e, 0, sizeof *e);
}

static void cache_clear(void *p)
{
    spec_cache *c = p;
    for (int i = 0; i < SPEC_CACHE; i++)
        entry_clear(&c->entries[i]);
}

static yw_thread_local spec_caches = YW_THREAD_LOCAL(spec_cache, cache_clear);

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The entry of code checked at generation (0: none such), else NULL. */
static spec_entry *current_entry(spec_cache *c, const char *code, uint64_t generation)
{
    for (int i = 0; c && generation && i < SPEC_CACHE; i++)
        if (c->entries[i].generation == generation && same(c->entries[i].code, code))
            return &c->entries[i];
    return NULL;
}

static void unpin(void *entry)
{
    ((spec_entry *)entry)->pins--;
}

/* r: the entry's spec, borrowed by the request of arena a (req != NULL) or copied into a. */
static void use_entry(spec_cache *c, spec_entry *e, yw_arena *a, yw_req *req, resource_spec *r)
{
    e->used = ++c->clock;
    if (req) {
        e->pins++;
        yw_arena_on_free(a, unpin, e);
        *r = e->spec;
    } else {
        copy_spec(a, &e->spec, r);
    }
}

/* Loads code, using or refreshing this thread's entry; stamps it with checked (0: no stamp).
 * req: the request that owns arena a, which may borrow the entry. */
static int spec_load(yw_arena *a, yw_req *req, yw_db *db, const char *code, uint64_t checked, resource_spec *r)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT provider_org, status, doc FROM resources WHERE code = $1", "t", code);
    if (rc < 0)
        return rc;
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        return YW_ENOTFOUND;
    }
    const char *provider = yw_stmt_text(s, 0), *status = yw_stmt_text(s, 1), *doc = yw_stmt_text(s, 2);
    spec_cache *c = yw_thread_local_get(&spec_caches);
    spec_entry *hit = NULL, *oldest = NULL;
    for (int i = 0; c && i < SPEC_CACHE && !hit; i++) {
        spec_entry *e = &c->entries[i];
        if (same(e->code, code) && same(e->provider, provider) && same(e->status, status) && same(e->doc, doc))
            hit = e;
        else if (!e->pins && (!oldest || e->used < oldest->used))
            oldest = e;
    }
    if (!hit && oldest) {
        entry_clear(oldest);
        oldest->arena = yw_arena_new(1 << 12);
        oldest->code = strdup(code);
        oldest->provider = strdup(provider);
        oldest->status = strdup(status);
        oldest->doc = strdup(doc);
        if (oldest->arena && oldest->code && oldest->provider && oldest->status && oldest->doc) {
            parse_spec(oldest->arena, db, code, provider, status, doc, &oldest->spec);
            hit = oldest;
        } else {
            entry_clear(oldest);
        }
    }
    if (hit) {
        hit->generation = checked;
        use_entry(c, hit, a, req, r);
    } else {
        parse_spec(a, db, code, provider, status, doc, r);
    }
    yw_stmt_release(s);
    return 0;
}

int resource_spec_load(yw_arena *a, yw_db *db, const char *code, resource_spec *r)
{
    return spec_load(a, NULL, db, code, 0, r);
}

int resource_spec_for(yw_req *req, yw_db *db, const char *code, resource_spec *r)
{
    spec_cache *c = yw_thread_local_get(&spec_caches);
    spec_entry *e = current_entry(c, code, yw_app_generation(req));
    if (e) {
        use_entry(c, e, req->arena, req, r);
        return 0;
    }
    return spec_load(req->arena, req, db, code, yw_app_read_generation(req), r);
}

bool resource_or_reply(yw_req *req, yw_db *db, resource_spec *r)
{
    int rc = resource_spec_for(req, db, yw_req_param(req, "code"), r);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 404, "not_found", "no such record");
        return false;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "resource");
        return false;
    }
    switch (yw_authz(&req->principal, YW_ACT_RECORD_WRITE, r->provider, NULL)) {
    case YW_AUTHZ_ALLOW: break;
    case YW_AUTHZ_HIDE: yw_reply_problem(req, 404, "not_found", "no such record"); return false;
    case YW_AUTHZ_FORBID: yw_reply_problem(req, 403, "forbidden", "the provider's stewards and systems load its records"); return false;
    }
    if (!r->key_item) {
        yw_reply_problem(req, 409, "no_key_item", "the resource has no key item yet: set key_item before loading records");
        return false;
    }
    return true;
}

static const item_spec *find_item(const resource_spec *r, const char *name)
{
    for (size_t i = 0; i < r->nitems; i++)
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

/* The key as stored: its blind index when the key item is sensitive. */
const char *key_index(const record_ctx *c, const resource_spec *r, const char *key)
{
    if (!r->key_sensitive)
        return yw_arena_strdup(c->arena, key); /* the caller's buffer may not outlive the record */
    char *out = yw_arena_alloc(c->arena, YW_BLIND_INDEX_LEN);
    yw_blind_index(c->keys, r->code, key, out);
    return out;
}

record_ctx record_ctx_of(yw_req *req)
{
    return (record_ctx){.arena = req->arena, .keys = yw_req_app(req)->keys, .source = req->principal.id};
}

int record_job(yw_db *db, void *arg)
{
    record_write *w = arg;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT version, hash, deleted, updated_at, rowid FROM records WHERE " RECORD_OF_KEY,
                         "tt", w->resource, w->key_index);
    if (rc < 0)
        return rc;
    bool exists = yw_stmt_step(s) == YW_DB_ROW;
    int64_t version = exists ? yw_stmt_int(s, 0) : 0;
    bool deleted = exists && yw_stmt_int(s, 2);
    bool same = exists && !deleted && w->data && strcmp(yw_stmt_text(s, 1), w->hash) == 0;
    w->updated_at = exists ? yw_stmt_int(s, 3) : 0;
    int64_t rowid = exists ? yw_stmt_int(s, 4) : 0;
    yw_stmt_release(s);
    w->version = version;
    if (!w->data && (!exists || deleted))
        return YW_ENOTFOUND;
    if (same)
        return 0; /* loading the same data again changes nothing */
    int64_t now = yw_now_ms();
    w->version = version + 1;
    w->created = !exists || deleted;
    w->changed = true;
    w->updated_at = now;
    /* The version being replaced moves to the history; a first write has none. */
    rc = exists ? yw_db_run(db,
                            "INSERT INTO record_versions(resource, key_index, version, data, hash, deleted, source,"
                            " updated_at) SELECT resource, key_index, version, data, hash, deleted, source, updated_at"
                            " FROM records WHERE rowid = $1",
                            "i", rowid)
                : 0;
    if (rc >= 0 && exists)
        rc = yw_db_run(db,
                       "UPDATE records SET version = $2, data = $3, hash = $4, deleted = $5, source = $6, updated_at = $7"
                       " WHERE rowid = $1",
                       "iittiti", rowid, w->version, w->data, w->hash ? w->hash : "", (int64_t)(w->data == NULL),
                       w->source, now);
    else if (rc >= 0)
        rc = yw_db_run(db,
                       "INSERT INTO records(resource, key_index, key_hash, version, data, hash, deleted, source, updated_at)"
                       " VALUES ($1, $2, yw_key_hash($2), $3, $4, $5, $6, $7, $8)",
                       "ttittiti", w->resource, w->key_index, w->version, w->data, w->hash ? w->hash : "",
                       (int64_t)(w->data == NULL), w->source, now);
    if (rc >= 0)
        rc = yw_db_run(db,
                       "INSERT INTO record_changes(resource, seq, key_index, version, deleted, changed_at)"
                       " VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM record_changes WHERE resource = $1),"
                       " $2, $3, $4, $5)",
                       "ttiii", w->resource, w->key_index, w->version, (int64_t)(w->data == NULL), now);
    return rc < 0 ? rc : 0;
}

/* Appends s as a JSON string, escaped as jansson escapes it (so hashes of data written by either agree). */
static void append_json_string(yw_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    yw_buf_append(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        yw_buf_append(b, run, (size_t)(p - run));
        run = p + 1;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        }
        yw_buf_append(b, esc, n);
    }
    yw_buf_append(b, run, strlen(run));
    yw_buf_append(b, "\"", 1);
}

/* True when s is well-formed UTF-8 (no overlong forms, no surrogates), as JSON strings must be. */
static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int n = (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || *p == 0xC0 || *p == 0xC1 || *p > 0xF4)
            return false;
        unsigned cp = *p & (0x3F >> n);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += n + 1;
    }
    return true;
}

static const char *check_value(const resource_spec *r, const given_value *g)
{
    if (g->item < 0)
        return "is not an item of the resource";
    switch (g->kind) {
    case VALUE_NESTED: return "must be a string, a number, true, false or null";
    case VALUE_NULL: return NULL;
    case VALUE_STRING:
        if (!valid_utf8(g->text))
            return "is not valid UTF-8";
        if (yw_field_is_encrypted(g->text)) /* a reader would take it for a sealed value */
            return "must not begin with enc:1: (the form of sealed values)";
        break;
    case VALUE_JSON: break;
    }
    return yw_element_check_value(&r->items[g->item].element, g->text);
}

/* Appends the value's JSON: the text that is hashed, and encrypted for a sensitive item. */
static void append_value_json(yw_buf *b, const given_value *g)
{
    if (g->kind == VALUE_STRING)
        append_json_string(b, g->text);
    else if (g->kind == VALUE_JSON)
        yw_buf_puts(b, g->text);
    else
        yw_buf_append(b, "null", 4);
}

const char *prepare_values(const record_ctx *c, const resource_spec *r, const char *key, const given_value *given,
                           size_t n, record_write *w, const char **bad_item)
{
    memset(w, 0, sizeof *w);
    *bad_item = r->key_item;
    if (r->key < 0)
        return "the resource has no key item";
    size_t key_len = strlen(key);
    if (key_len == 0 || key_len > MAX_KEY)
        return "the key has 1 to 256 bytes";
    /* The key item takes the record's key; a different value in the data is a mistake. */
    const given_value **by_item = yw_arena_alloc(c->arena, (r->nitems + 1) * sizeof *by_item);
    memset(by_item, 0, (r->nitems + 1) * sizeof *by_item);
    for (size_t i = 0; i < n; i++)
        if (given[i].item >= 0)
            by_item[given[i].item] = &given[i];
    const given_value *key_given = by_item[r->key];
    if (key_given && key_given->kind != VALUE_NULL &&
        (key_given->kind != VALUE_STRING || strcmp(key_given->text, key) != 0))
        return "differs from the key in the path";
    given_value key_value = {.name = r->key_item, .item = r->key, .kind = VALUE_STRING, .text = key};
    by_item[r->key] = &key_value;
    /* In the order given; a key item not given comes last. */
    for (size_t i = 0; i <= n; i++) {
        const given_value *g = i < n ? &given[i] : key_given ? NULL : &key_value;
        if (!g)
            continue;
        if (g->item == r->key)
            g = &key_value;
        *bad_item = g->name;
        const char *why = check_value(r, g);
        if (why)
            return why;
    }
    for (size_t i = 0; i < r->nitems; i++) {
        if (r->items[i].required && (!by_item[i] || by_item[i]->kind == VALUE_NULL)) {
            *bad_item = r->items[i].name;
            return "is required";
        }
    }
    *bad_item = NULL;
    /*
     * Both forms at once, items by name: the plaintext (its keyed hash
     * recognises a reload) and the stored form, where sensitive values are
     * encrypted and nulls left out.
     */
    record_scratch own = {YW_BUF_INIT, YW_BUF_INIT};
    record_scratch *sc = c->scratch ? c->scratch : &own;
    yw_buf *plain = &sc->plain, *stored = &sc->stored;
    yw_buf_reset(plain);
    yw_buf_reset(stored);
    yw_buf_append(plain, "{", 1);
    yw_buf_append(stored, "{", 1);
    const char *why = NULL;
    for (size_t k = 0; k < r->nitems && !why; k++) {
        size_t i = r->by_name[k];
        const given_value *g = by_item[i];
        if (!g)
            continue;
        if (plain->len > 1)
            yw_buf_append(plain, ",", 1);
        append_json_string(plain, r->items[i].name);
        yw_buf_append(plain, ":", 1);
        size_t value_at = plain->len;
        append_value_json(plain, g);
        if (g->kind == VALUE_NULL)
            continue;
        if (stored->len > 1)
            yw_buf_append(stored, ",", 1);
        append_json_string(stored, r->items[i].name);
        yw_buf_append(stored, ":", 1);
        if (!r->items[i].sensitive) {
            yw_buf_append(stored, plain->data + value_at, plain->len - value_at);
            continue;
        }
        yw_buf_append(stored, "\"", 1);
        if (yw_field_encrypt(c->keys, r->items[i].context, plain->data + value_at, plain->len - value_at, stored) < 0) {
            *bad_item = r->items[i].name;
            why = "cannot be encrypted";
        }
        yw_buf_append(stored, "\"", 1);
    }
    yw_buf_append(plain, "}", 1);
    yw_buf_append(stored, "}", 1);
    if (!why) {
        char *hash = yw_arena_alloc(c->arena, YW_BLIND_INDEX_LEN);
        yw_blind_index(c->keys, r->hash_context, plain->data, hash);
        *w = (record_write){.resource = r->code, .key_index = key_index(c, r, key), .source = c->source,
                            .data = yw_arena_strndup(c->arena, stored->data, stored->len), .hash = hash};
    }
    yw_buf_wipe(&own.plain);
    yw_buf_free(&own.stored);
    return why;
}

const char *prepare_record(const record_ctx *c, const resource_spec *r, const char *key, json_t *data,
                           record_write *w, const char **bad_item)
{
    json_t *given_key = json_object_get(data, r->key_item);
    if (!given_key || json_is_null(given_key))
        json_object_set_new(data, r->key_item, json_string(key)); /* the data names its key, as stored */
    size_t n = json_object_size(data), i = 0;
    given_value *given = yw_arena_alloc(c->arena, (n + 1) * sizeof *given);
    const char *name;
    json_t *v;
    json_object_foreach(data, name, v) {
        const item_spec *item = find_item(r, name);
        given_value *g = &given[i++];
        *g = (given_value){.name = name, .item = item ? (int)(item - r->items) : -1};
        if (json_is_object(v) || json_is_array(v)) {
            g->kind = VALUE_NESTED;
        } else if (json_is_null(v)) {
            g->kind = VALUE_NULL;
        } else if (json_is_string(v)) {
            g->kind = VALUE_STRING;
            g->text = json_string_value(v);
        } else {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            g->kind = VALUE_JSON;
            g->text = yw_arena_strdup(c->arena, text ? text : "");
            free(text);
        }
    }
    return prepare_values(c, r, key, given, n, w, bad_item);
}

/* Audit names the record by resource and key index, never by a sensitive key. */
static void audit_record(yw_req *req, const resource_spec *r, const char *index, const char *stage, json_t *items)
{
    req->audit.stage = stage;
    req->audit.object_type = "record";
    req->audit.object_ids = yw_req_keep(req, json_pack("[s,s]", r->code, index));
    req->audit.items = items ? yw_req_keep(req, items) : NULL;
}

/*
 * What every record route does first: the resource (if the caller may reach
 * its records), the record's key index, and what the audit entry will say.
 * False after replying.
 */
static bool record_route(yw_req *req, const char *stage, yw_db **db, resource_spec *r, const char **key,
                         const char **index)
{
    *db = yw_app_reader_or_reply(req);
    if (!*db || !resource_or_reply(req, *db, r))
        return false;
    record_ctx ctx = record_ctx_of(req);
    *key = yw_req_param(req, "key");
    *index = key_index(&ctx, r, *key);
    audit_record(req, r, *index, stage, NULL);
    return true;
}

void records_put(yw_req *req)
{
    static const yw_json_field fields[] = {{"data", YW_JSON_OBJECT, true, 500}};
    yw_db *db;
    resource_spec r;
    const char *key, *index;
    if (!record_route(req, "store", &db, &r, &key, &index))
        return;
    if (strcmp(r.status, "retired") == 0) {
        yw_reply_problem(req, 409, "retired", "a retired resource takes no more records");
        return;
    }
    json_t *body = yw_req_json_or_reply(req, fields, 1);
    if (!body)
        return;
    json_t *data = json_object_get(body, "data");
    const char *item = NULL;
    record_write w;
    record_ctx ctx = record_ctx_of(req);
    const char *why = prepare_record(&ctx, &r, key, data, &w, &item);
    if (why) {
        yw_reply_problem(req, 422, "validation_failed", "%.64s: %s", item, why);
        return;
    }
    json_t *names = json_array();
    const char *name;
    json_t *v;
    json_object_foreach(data, name, v) json_array_append_new(names, json_string(name));
    audit_record(req, &r, w.key_index, "store", names);
    int rc = yw_app_write(req, record_job, &w, 200);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    yw_reply_json_new(req, w.created ? 201 : 200,
                      json_pack("{s:s, s:s, s:I, s:b, s:o}", "resource", r.code, "key", key, "version",
                                (json_int_t)w.version, "changed", w.changed, "updated_at", yw_json_time(w.updated_at)));
}

void records_delete(yw_req *req)
{
    yw_db *db;
    resource_spec r;
    const char *key, *index;
    if (!record_route(req, "destroy", &db, &r, &key, &index))
        return;
    record_write w = {.resource = r.code, .key_index = index, .source = req->principal.id};
    int rc = yw_app_write(req, record_job, &w, 204);
    if (rc == YW_ENOTFOUND) {
        yw_reply_problem(req, 404, "not_found", "no such record");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    yw_reply_raw(req, 204, "application/json", NULL, 0);
}

/*
 * The JSON text of a value as stored (len bytes) into v. Stored data holds
 * strings, numbers, booleans and null (prepare_values refuses the rest);
 * a string with an escape, and a number other than a small integer, stay
 * JSON text for jansson.
 */
static void classify(const char *text, size_t len, record_value *v)
{
    v->kind = RECORD_JSON;
    v->text = text;
    v->len = len;
    if (len >= 2 && text[0] == '"' && text[len - 1] == '"') {
        if (!memchr(text + 1, '\\', len - 2)) {
            v->kind = RECORD_STRING;
            v->text = text + 1;
            v->len = len - 2;
        }
    } else if (len == 4 && memcmp(text, "null", 4) == 0) {
        v->kind = RECORD_NULL;
    } else if (len == 4 && memcmp(text, "true", 4) == 0) {
        v->kind = RECORD_TRUE;
    } else if (len == 5 && memcmp(text, "false", 5) == 0) {
        v->kind = RECORD_FALSE;
    } else {
        size_t i = text[0] == '-';
        int64_t n = 0;
        if (len - i < 1 || len - i > 18)
            return;
        for (; i < len; i++) {
            if (text[i] < '0' || text[i] > '9')
                return; /* a real */
            n = n * 10 + (text[i] - '0');
        }
        v->kind = RECORD_INT;
        v->i = text[0] == '-' ? -n : n;
    }
}

/* A sealed value (its "enc:..." form, len bytes) decrypted into plain, as v; YW_EIO when it does not decrypt. */
static int sealed_value(const record_ctx *c, const resource_spec *r, const char *text, size_t len, record_value *v,
                        yw_buf *plain)
{
    const item_spec *item = find_item(r, v->name);
    const char *context = item ? item->context : yw_arena_printf(c->arena, "%s/%s", r->code, v->name);
    if (yw_field_decryptn(c->keys, context, text, len, plain) != 0)
        return YW_EIO;
    classify(plain->data, plain->len, v); /* what was sealed is the value's JSON text */
    return 0;
}

/*
 * A member of a record's stored data as json_each gives it (its JSON type
 * in column type_col, its value in the next) into v, a sensitive value
 * decrypted into plain.
 */
static int stored_value(const record_ctx *c, const resource_spec *r, const char *name, yw_stmt *s, int type_col,
                        record_value *v, yw_buf *plain)
{
    const char *type = yw_stmt_text(s, type_col);
    int col = type_col + 1;
    *v = (record_value){.name = name};
    switch (type[0]) {
    case 'n': v->kind = RECORD_NULL; return 0;
    case 'f': v->kind = RECORD_FALSE; return 0;
    case 'i': v->kind = RECORD_INT; v->i = yw_stmt_int(s, col); return 0;
    case 'r': v->kind = RECORD_REAL; v->real = yw_stmt_double(s, col); return 0;
    case 't': break; /* true, text */
    default: /* array, object */
        v->kind = RECORD_JSON;
        v->text = yw_stmt_text(s, col);
        v->len = strlen(v->text);
        return 0;
    }
    if (type[1] == 'r') {
        v->kind = RECORD_TRUE;
        return 0;
    }
    const char *text = yw_stmt_text(s, col);
    if (yw_field_is_encrypted(text))
        return sealed_value(c, r, text, strlen(text), v, plain);
    v->kind = RECORD_STRING;
    v->text = text;
    v->len = strlen(text);
    return 0;
}

/* A member as its JSON text (data -> name: len bytes, as stored) into v, a sensitive value decrypted into plain. */
static int json_text_value(const record_ctx *c, const resource_spec *r, const char *name, const char *text, size_t len,
                           record_value *v, yw_buf *plain)
{
    *v = (record_value){.name = name};
    if (len >= 2 && text[0] == '"' && text[len - 1] == '"' && yw_field_is_encryptedn(text + 1, len - 2))
        return sealed_value(c, r, text + 1, len - 2, v, plain);
    classify(text, len, v);
    return 0;
}

json_t *record_value_json(const record_value *v)
{
    switch (v->kind) {
    case RECORD_NULL: return json_null();
    case RECORD_FALSE: return json_false();
    case RECORD_TRUE: return json_true();
    case RECORD_INT: return json_integer(v->i);
    case RECORD_REAL: return json_real(v->real);
    case RECORD_STRING: return json_stringn(v->text, v->len);
    case RECORD_JSON: {
        json_t *j = json_loadb(v->text, v->len, JSON_DECODE_ANY, NULL);
        return j ? j : json_loadb(v->text, v->len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL); /* > 64 bits */
    }
    }
    return NULL;
}

/* The member as a new JSON value, sensitive values decrypted; NULL when it does not decrypt. */
static json_t *stored_member(const record_ctx *c, const resource_spec *r, const char *name, yw_stmt *s, int type_col)
{
    record_value v;
    yw_buf plain = YW_BUF_INIT;
    json_t *value = stored_value(c, r, name, s, type_col, &v, &plain) == 0 ? record_value_json(&v) : NULL;
    yw_buf_wipe(&plain);
    return value;
}

/*
 * The stored data with sensitive values decrypted, as a new object; NULL
 * when one does not decrypt. SQLite's json_each walks the stored text (no
 * allocation per member), so items the caller does not want (c->only) are
 * never built, let alone decrypted.
 */
static json_t *decrypt_data(const record_ctx *c, yw_db *db, const resource_spec *r, const char *stored)
{
    yw_stmt *s;
    if (yw_db_query(db, &s, "SELECT key, type, value FROM json_each($1)", "t", stored ? stored : "{}") < 0)
        return NULL;
    json_t *data = json_object();
    int rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        const char *name = yw_stmt_text(s, 0);
        if (c->only && !json_object_get(c->only, name))
            continue; /* not wanted: never decrypted */
        json_t *value = stored_member(c, r, name, s, 1);
        if (!value)
            break;
        json_object_set_new(data, name, value);
    }
    yw_stmt_release(s);
    if (rc != YW_DB_DONE) {
        json_decref(data);
        return NULL;
    }
    return data;
}

#define ITEMS_SQL_MAX 256 /* more items than a resource may have */

/* The SQL of read_items for n items, made once for each n. */
static const char *items_sql(size_t n)
{
    static _Atomic(char *) made[ITEMS_SQL_MAX + 1];
    char *sql = atomic_load(&made[n]);
    if (sql)
        return sql;
    yw_buf b = YW_BUF_INIT;
    yw_buf_puts(&b, "SELECT version, updated_at");
    for (size_t i = 0; i < n; i++) /* each item's JSON text: a name on the right of -> is a member's */
        yw_buf_printf(&b, ", data -> $%zu", i + 3);
    yw_buf_puts(&b, " FROM records WHERE " RECORD_OF_KEY " AND deleted = 0");
    char *mine = yw_buf_take(&b), *none = NULL;
    if (atomic_compare_exchange_strong(&made[n], &none, mine))
        return mine;
    free(mine); /* another thread made it first */
    return none;
}

int record_read_values(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, int64_t *version,
                       int64_t *updated_at, int (*fn)(const record_value *v, void *arg), void *arg)
{
    size_t n = json_object_size(c->only);
    const char *sql = n <= ITEMS_SQL_MAX ? items_sql(n) : NULL;
    if (!sql)
        return YW_ENOMEM;
    const char **names = yw_arena_alloc(c->arena, (n ? n : 1) * sizeof *names);
    yw_stmt *s;
    int rc = yw_db_prepare(db, &s, sql);
    if (rc < 0)
        return rc;
    rc = yw_stmt_bind_text(s, 1, r->code);
    if (rc >= 0)
        rc = yw_stmt_bind_text(s, 2, index);
    const char *name;
    json_t *mode;
    size_t i = 0;
    json_object_foreach ((json_t *)c->only, name, mode) {
        names[i] = name;
        if (rc >= 0)
            rc = yw_stmt_bind_text(s, (int)(i + 3), name);
        i++;
    }
    if (rc >= 0)
        rc = yw_stmt_step(s);
    if (rc != YW_DB_ROW) {
        yw_stmt_release(s);
        return rc < 0 ? rc : YW_ENOTFOUND;
    }
    *version = yw_stmt_int(s, 0);
    *updated_at = yw_stmt_int(s, 1);
    yw_buf plain = YW_BUF_INIT;
    rc = 0;
    for (i = 0; i < n && rc >= 0; i++) {
        const char *text = yw_stmt_text(s, (int)(2 + i));
        if (!text)
            continue; /* not in this record */
        record_value v;
        yw_buf_reset(&plain);
        rc = json_text_value(c, r, names[i], text, strlen(text), &v, &plain);
        if (rc >= 0)
            rc = fn(&v, arg);
    }
    yw_buf_wipe(&plain);
    yw_stmt_release(s);
    return rc < 0 ? rc : 0;
}

/* read_items' fn: the value into the object. */
static int add_member(const record_value *v, void *data)
{
    json_t *value = record_value_json(v);
    if (!value)
        return YW_EIO;
    json_object_set_new(data, v->name, value);
    return 0;
}

/*
 * record_read for a reader of some items only (c->only): the lookup itself
 * picks them out of the stored text (SQLite parses it once for all of
 * them), so a granted read builds and decrypts its items and nothing else.
 */
static int read_items(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, json_t **data,
                      int64_t *version, int64_t *updated_at)
{
    *data = json_object();
    int rc = record_read_values(c, db, r, index, version, updated_at, add_member, *data);
    if (rc < 0) {
        json_decref(*data);
        *data = NULL;
    }
    return rc;
}

int record_read(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, json_t **data,
                int64_t *version, int64_t *updated_at)
{
    *data = NULL;
    if (c->only && json_object_size(c->only) <= ITEMS_SQL_MAX)
        return read_items(c, db, r, index, data, version, updated_at);
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT version, data, updated_at FROM records WHERE " RECORD_OF_KEY " AND deleted = 0",
                         "tt", r->code, index);
    if (rc < 0)
        return rc;
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        return YW_ENOTFOUND;
    }
    *data = decrypt_data(c, db, r, yw_stmt_text(s, 1));
    *version = yw_stmt_int(s, 0);
    *updated_at = yw_stmt_int(s, 2);
    yw_stmt_release(s);
    return *data ? 0 : YW_EIO;
}

int record_changes_each(yw_db *db, const char *resource, int64_t after, int limit,
                        int (*fn)(const record_change *ch, void *arg), void *arg)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT seq, key_index, version, deleted, changed_at FROM record_changes"
                         " WHERE resource = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                         "tii", resource, after, (int64_t)limit);
    if (rc < 0)
        return rc;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        record_change ch = {.seq = yw_stmt_int(s, 0), .key_index = yw_stmt_text(s, 1), .version = yw_stmt_int(s, 2),
                            .deleted = yw_stmt_int(s, 3) != 0, .changed_at = yw_stmt_int(s, 4)};
        if ((rc = fn(&ch, arg)) != 0)
            break;
    }
    yw_stmt_release(s);
    return rc == YW_DB_DONE ? 0 : rc;
}

int record_at_version(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, int64_t version,
                      json_t **data, const char **key)
{
    *data = NULL;
    *key = NULL;
    yw_stmt *s;
    /* The newest version at or before the one asked for that has data: the version itself, or what a deletion removed. */
    int rc = yw_db_query(db, &s,
                         "SELECT version, data FROM records WHERE " RECORD_OF_KEY " AND version <= $3"
                         " AND data IS NOT NULL UNION ALL"
                         " SELECT version, data FROM record_versions WHERE resource = $1 AND key_index = $2"
                         " AND version <= $3 AND data IS NOT NULL ORDER BY version DESC LIMIT 1",
                         "tti", r->code, index, version);
    if (rc < 0)
        return rc;
    if (yw_stmt_step(s) != YW_DB_ROW) {
        yw_stmt_release(s);
        return YW_ENOTFOUND;
    }
    bool deleted = yw_stmt_int(s, 0) != version;
    json_t *plain = decrypt_data(c, db, r, yw_stmt_text(s, 1));
    yw_stmt_release(s);
    if (!plain)
        return YW_EIO;
    const char *k = yw_json_str(plain, r->key_item);
    *key = k ? yw_arena_strdup(c->arena, k) : NULL;
    if (deleted)
        json_decref(plain);
    else
        *data = plain;
    return 0;
}

void records_versions(yw_req *req)
{
    yw_db *db;
    resource_spec r;
    const char *key, *index;
    if (!record_route(req, "use", &db, &r, &key, &index))
        return;
    record_ctx ctx = record_ctx_of(req);
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT version, data, deleted, source, updated_at FROM record_versions"
                         " WHERE resource = $1 AND key_index = $2 UNION ALL"
                         " SELECT version, data, deleted, source, updated_at FROM records"
                         " WHERE " RECORD_OF_KEY " ORDER BY version",
                         "tt", r.code, index);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "record");
        return;
    }
    json_t *items = json_array();
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        json_t *data = yw_stmt_int(s, 2) ? json_null() : decrypt_data(&ctx, db, &r, yw_stmt_text(s, 1));
        json_array_append_new(items, json_pack("{s:I, s:b, s:s?, s:o, s:o}", "version", (json_int_t)yw_stmt_int(s, 0),
                                               "deleted", (int)yw_stmt_int(s, 2), "source", yw_stmt_text(s, 3),
                                               "updated_at", yw_json_time(yw_stmt_int(s, 4)), "data",
                                               data ? data : json_null()));
    }
    yw_stmt_release(s);
    if (rc < 0 || json_array_size(items) == 0) {
        json_decref(items);
        if (rc < 0)
            yw_reply_store_error(req, rc, "record");
        else
            yw_reply_problem(req, 404, "not_found", "no such record");
        return;
    }
    yw_reply_json_new(req, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

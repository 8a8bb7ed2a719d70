/*
 * Cross-department conflicts (数据冲突): two providers say different things
 * about the same person or enterprise.
 *
 *   GET  /api/v1/conflicts                  ?element= ?resource= ?limit= ?cursor=
 *   POST /api/v1/conflicts/{id}/objections  {reason?}   the data bureau sends it to the providers
 *
 * Records of published resources whose key items are bound to the same data
 * element describe the same entity when their keys are equal. Keys of
 * different resources cannot be compared by their key index (a blind index
 * bound to the resource), so each record gets an entity index: the blind
 * index of its key value under the context "element:<key element>", equal
 * across resources and revealing nothing. Every other item bound to an
 * element gets a keyed hash of its value under "element:<element>". A
 * conflict is an entity with, for some element, values from at least two
 * providers that differ; its id is the entity index.
 *
 * The index (record_entities, entity_values) is maintained by a detection
 * pass that every conflicts or quality request runs first: it reads only the
 * records whose version, whose resource's version or whose set of compared
 * elements changed since the pass that indexed them, so after the first
 * pass it costs one scan of the keys and versions (about 130 ms of CPU for
 * the 28,600 keyed records of the 10,000-resident demo city). Only elements
 * that another provider's resource keyed alike also has are stored. The
 * first pass over many records reads and decrypts in batches while the
 * writer stores the previous one (about 1.5 s of CPU for the demo city,
 * which the demo loader therefore runs itself). Record writes stay the data
 * module's, untouched.
 *
 * Stewards see the conflicts their org's resources are involved in, the
 * data bureau all of them. Values of other providers' sensitive items are
 * shown masked; every list is an audit entry (stage use) naming the
 * conflicts and elements shown.
 *
 * Sending a conflict to its providers files one objection per source whose
 * value differs from the value most providers hold (all sources when no
 * value has a majority), proposing that value when there is one; a source
 * that already has an open objection on that item is skipped.
 */
#include "sharing/handlers.h"
#include "sharing/sharing.h"

#include "app/app.h"
#include "core/error.h"
#include "core/time.h"
#include "data/record.h"
#include "sec/mask.h"

#include <stdlib.h>
#include <string.h>

/* A published resource keyed by a data element. */
typedef struct {
    const char *code, *provider, *key_element;
    const char *elements; /* its other items' elements, as ",a,b," */
    const char *compared; /* those another provider's resource keyed alike has too, as ",a,"; NULL: none */
    const char *basis;    /* what its index rows were computed from: "<version>:<compared>" */
} keyed_resource;

/* What one writer job of the detection pass stores: growable arrays, freed at the pass's end. */
typedef struct {
    const char *resource, *key_index, *provider, *entity_element, *entity, *basis;
    int64_t version;
    size_t first_value, nvalues;
} entity_row;

typedef struct {
    const char *element, *item, *hash;
} value_row;

typedef struct {
    entity_row *rows;
    size_t nrows, cap_rows;
    value_row *values;
    size_t nvalues, cap_values;
    const char **gone; /* pairs: resource, key index */
    size_t ngone, cap_gone;
} index_batch;

/*
 * The pass: the resources compared, and two batches — one being filled
 * while the writer stores the other, so reading and decrypting overlap
 * with committing.
 */
typedef struct {
    keyed_resource *resources;
    size_t nresources;
    index_batch batches[2];
    int filling;
    yw_writer *writer;
    yw_write_ticket ticket;
    bool storing; /* the other batch's job is queued or running */
} refresh_pass;

#define BATCH_ROWS 2048

static void *grow(void *array, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return array;
    size_t next = *cap ? *cap * 2 : 256;
    while (next < need)
        next *= 2;
    void *p = realloc(array, next * size);
    if (p)
        *cap = next;
    return p;
}

/* Is element one of list's, a list written ",a,b,"? */
static bool in_list(const char *list, const char *element)
{
    size_t n = strlen(element);
    for (const char *at = list && n ? strstr(list, element) : NULL; at; at = strstr(at + 1, element))
        if (at > list && at[-1] == ',' && at[n] == ',')
            return true;
    return false;
}

/*
 * The elements of r worth comparing: those that a resource of another
 * provider, keyed by the same element, has too. ",a,b," or NULL.
 */
static const char *compared_elements(const record_ctx *c, const refresh_pass *p, const keyed_resource *r)
{
    yw_buf b = YW_BUF_INIT;
    for (const char *at = r->elements + 1; *at; at = strchr(at, ',') + 1) {
        const char *element = yw_arena_strndup(c->arena, at, (size_t)(strchr(at, ',') - at));
        bool shared = false;
        for (size_t j = 0; j < p->nresources && !shared; j++) {
            const keyed_resource *o = &p->resources[j];
            shared = strcmp(o->key_element, r->key_element) == 0 && strcmp(o->provider, r->provider) != 0 &&
                     in_list(o->elements, element);
        }
        if (shared)
            yw_buf_printf(&b, "%s%s,", b.len ? "" : ",", element);
    }
    const char *out = b.len ? yw_arena_strndup(c->arena, b.data, b.len) : NULL;
    yw_buf_free(&b);
    return out;
}

/* The published resources keyed by an element, with the elements each is compared on. */
static int keyed_resources(const record_ctx *c, yw_db *db, refresh_pass *p)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT code, provider_org, version, doc FROM resources WHERE status = 'published'"
                                 " ORDER BY code", "");
    if (rc < 0)
        return rc;
    size_t cap = 0;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        json_t *doc = json_loads(yw_stmt_text(s, 3), 0, NULL);
        const char *key_item = yw_json_str(doc, "key_item"), *key_element = NULL;
        yw_buf elements = YW_BUF_INIT;
        yw_buf_append(&elements, ",", 1);
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(doc, "items"), i, it) {
            const char *name = yw_json_str(it, "name"), *element = yw_json_str(it, "element");
            if (key_item && name && strcmp(name, key_item) == 0)
                key_element = element;
            else if (element)
                yw_buf_printf(&elements, "%s,", element);
        }
        if (key_element) {
            keyed_resource *grown = grow(p->resources, &cap, p->nresources + 1, sizeof *p->resources);
            if (!grown) {
                rc = YW_ENOMEM;
            } else {
                p->resources = grown;
                p->resources[p->nresources++] = (keyed_resource){
                    .code = yw_arena_strdup(c->arena, yw_stmt_text(s, 0)),
                    .provider = yw_arena_strdup(c->arena, yw_stmt_text(s, 1)),
                    .key_element = yw_arena_strdup(c->arena, key_element),
                    .elements = yw_arena_strndup(c->arena, elements.data, elements.len),
                    .basis = yw_arena_printf(c->arena, "%lld", (long long)yw_stmt_int(s, 2))};
            }
        }
        yw_buf_free(&elements);
        json_decref(doc);
        if (rc < 0)
            break;
    }
    yw_stmt_release(s);
    for (size_t i = 0; i < p->nresources; i++) {
        keyed_resource *r = &p->resources[i];
        r->compared = compared_elements(c, p, r);
        r->basis = yw_arena_printf(c->arena, "%s:%s", r->basis, r->compared ? r->compared : "");
    }
    return rc < 0 ? rc : 0;
}

static const keyed_resource *compared_resource(const refresh_pass *p, const char *code)
{
    for (size_t i = 0; i < p->nresources; i++)
        if (p->resources[i].compared && strcmp(p->resources[i].code, code) == 0)
            return &p->resources[i];
    return NULL;
}

/* A value as the text its hash is taken of: strings as they are, numbers and booleans as JSON writes them. */
static const char *value_text(yw_arena *a, const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    const char *out = yw_arena_strdup(a, t ? t : "");
    free(t);
    return out;
}

static const char *element_hash(const record_ctx *c, const char *element, const char *value)
{
    char *out = yw_arena_alloc(c->arena, YW_BLIND_INDEX_LEN);
    yw_blind_index(c->keys, yw_arena_printf(c->arena, "element:%s", element), value, out);
    return out;
}

static int refresh_job(yw_db *db, void *arg);

/* Waits for the batch being stored, if any. 0 or its failure. */
static int batch_wait(refresh_pass *p)
{
    if (!p->storing)
        return 0;
    p->storing = false;
    return yw_writer_wait(p->writer, &p->ticket);
}

/* Hands the batch being filled to the writer and starts filling the other one. */
static int batch_flush(refresh_pass *p)
{
    index_batch *b = &p->batches[p->filling];
    if (!b->nrows && !b->ngone)
        return 0;
    int rc = batch_wait(p);
    if (rc < 0)
        return rc;
    memset(&p->ticket, 0, sizeof p->ticket);
    yw_writer_submit(p->writer, &p->ticket, refresh_job, b);
    p->storing = true;
    p->filling ^= 1;
    index_batch *next = &p->batches[p->filling]; /* stored already: its job was waited for above */
    next->nrows = next->nvalues = next->ngone = 0;
    return 0;
}

/* Reads the record stored under index and adds its entity and values to the batch being filled. */
static int index_record(const record_ctx *c, yw_db *db, const keyed_resource *r, const resource_spec *spec,
                        const char *index, refresh_pass *p)
{
    index_batch *b = &p->batches[p->filling];
    entity_row *rows = grow(b->rows, &b->cap_rows, b->nrows + 1, sizeof *b->rows);
    if (!rows)
        return YW_ENOMEM;
    b->rows = rows;
    entity_row *row = &b->rows[b->nrows];
    *row = (entity_row){.resource = r->code, .provider = r->provider, .entity_element = r->key_element,
                        .basis = r->basis, .key_index = index, .first_value = b->nvalues};
    json_t *data;
    int64_t updated;
    int rc = record_read(c, db, spec, index, &data, &row->version, &updated);
    if (rc == YW_ENOTFOUND)
        return 0; /* deleted since the list was read */
    if (rc < 0)
        return rc;
    const json_t *key = json_object_get(data, spec->key_item);
    row->entity = element_hash(c, r->key_element, key ? value_text(c->arena, key) : "");
    for (size_t k = 0; k < spec->nitems && rc >= 0; k++) {
        const item_spec *item = &spec->items[k];
        const json_t *v = json_object_get(data, item->name);
        if (!item->element_id || strcmp(item->name, spec->key_item) == 0 || !v || json_is_null(v) ||
            !in_list(r->compared, item->element_id))
            continue;
        value_row *values = grow(b->values, &b->cap_values, b->nvalues + 1, sizeof *b->values);
        if (!values) {
            rc = YW_ENOMEM;
            break;
        }
        b->values = values;
        b->values[b->nvalues++] = (value_row){.element = item->element_id, .item = item->name,
                                              .hash = element_hash(c, item->element_id, value_text(c->arena, v))};
    }
    json_decref(data);
    if (rc < 0)
        return rc;
    row->nvalues = b->nvalues - row->first_value;
    b->nrows++;
    return b->nrows >= BATCH_ROWS ? batch_flush(p) : 0;
}

/* Indexes the records of r whose index row is missing or stale. */
static int index_resource(const record_ctx *c, yw_db *db, const keyed_resource *r, refresh_pass *p)
{
    resource_spec spec;
    int rc = resource_spec_load(c->arena, db, r->code, &spec);
    if (rc < 0 || !spec.key_item)
        return rc < 0 ? rc : 0;
    yw_stmt *s;
    rc = yw_db_query(db, &s,
                     "SELECT r.key_index FROM records r LEFT JOIN record_entities e"
                     " ON e.resource = r.resource AND e.key_index = r.key_index"
                     " WHERE r.resource = $1 AND r.deleted = 0"
                     " AND (e.version IS NULL OR e.version <> r.version OR e.basis <> $2)",
                     "tt", r->code, r->basis);
    if (rc < 0)
        return rc;
    /* The list first: reading each record uses the connection meanwhile. */
    json_t *stale = json_array();
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW)
        json_array_append_new(stale, json_string(yw_stmt_text(s, 0)));
    yw_stmt_release(s);
    size_t i;
    json_t *index;
    json_array_foreach(stale, i, index) {
        if (rc < 0)
            break;
        rc = index_record(c, db, r, &spec, yw_arena_strdup(c->arena, json_string_value(index)), p);
    }
    json_decref(stale);
    return rc < 0 ? rc : 0;
}

/* Index rows whose record is gone, deleted, or no longer compared. */
static int gone_rows(const record_ctx *c, yw_db *db, refresh_pass *p)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT e.resource, e.key_index, r.deleted FROM record_entities e LEFT JOIN records r"
                         " ON r.resource = e.resource AND r.key_index = e.key_index",
                         "");
    if (rc < 0)
        return rc;
    index_batch *b = &p->batches[p->filling];
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        bool gone = yw_stmt_is_null(s, 2) || yw_stmt_int(s, 2) || !compared_resource(p, yw_stmt_text(s, 0));
        if (!gone)
            continue;
        const char **pairs = grow(b->gone, &b->cap_gone, b->ngone + 2, sizeof *b->gone);
        if (!pairs) {
            rc = YW_ENOMEM;
            break;
        }
        b->gone = pairs;
        b->gone[b->ngone++] = yw_arena_strdup(c->arena, yw_stmt_text(s, 0));
        b->gone[b->ngone++] = yw_arena_strdup(c->arena, yw_stmt_text(s, 1));
    }
    yw_stmt_release(s);
    return rc < 0 ? rc : 0;
}

/* A record's values, found through its entity (the key of entity_values). */
#define DELETE_VALUES                                                                                              \
    "DELETE FROM entity_values WHERE entity = (SELECT entity FROM record_entities WHERE resource = $1"             \
    " AND key_index = $2) AND resource = $1 AND key_index = $2"

static int refresh_job(yw_db *db, void *arg)
{
    index_batch *b = arg;
    int rc = 0;
    for (size_t i = 0; i + 1 < b->ngone && rc >= 0; i += 2) {
        rc = yw_db_run(db, DELETE_VALUES, "tt", b->gone[i], b->gone[i + 1]);
        if (rc >= 0)
            rc = yw_db_run(db, "DELETE FROM record_entities WHERE resource = $1 AND key_index = $2", "tt", b->gone[i],
                           b->gone[i + 1]);
    }
    for (size_t i = 0; i < b->nrows && rc >= 0; i++) {
        const entity_row *r = &b->rows[i];
        rc = yw_db_run(db, DELETE_VALUES, "tt", r->resource, r->key_index);
        if (rc >= 0)
            rc = yw_db_run(db,
                           "INSERT OR REPLACE INTO record_entities(resource, key_index, version, basis,"
                           " entity_element, entity) VALUES ($1, $2, $3, $4, $5, $6)",
                           "ttittt", r->resource, r->key_index, r->version, r->basis, r->entity_element, r->entity);
        for (size_t k = r->first_value; k < r->first_value + r->nvalues && rc >= 0; k++) {
            const value_row *v = &b->values[k];
            rc = yw_db_run(db,
                           "INSERT OR REPLACE INTO entity_values(entity_element, entity, element, resource, key_index,"
                           " provider_org, item, version, value_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                           "tttttttit", r->entity_element, r->entity, v->element, r->resource, r->key_index,
                           r->provider, v->item, r->version, v->hash);
        }
    }
    return rc < 0 ? rc : 0;
}

int entities_index(yw_arena *a, const yw_keyring *keys, yw_db *db, yw_writer *writer)
{
    record_ctx ctx = {.arena = a, .keys = keys};
    refresh_pass p = {.writer = writer};
    int rc = keyed_resources(&ctx, db, &p);
    for (size_t i = 0; i < p.nresources && rc >= 0; i++)
        if (p.resources[i].compared)
            rc = index_resource(&ctx, db, &p.resources[i], &p);
    if (rc >= 0)
        rc = gone_rows(&ctx, db, &p);
    if (rc >= 0)
        rc = batch_flush(&p);
    int stored = batch_wait(&p); /* a queued job uses the batches: never free them under it */
    if (rc >= 0)
        rc = stored;
    free(p.resources);
    for (int i = 0; i < 2; i++) {
        free(p.batches[i].rows);
        free(p.batches[i].values);
        free(p.batches[i].gone);
    }
    return rc < 0 ? rc : 0;
}

int entities_refresh(yw_req *req, yw_db *db)
{
    int rc = entities_index(req->arena, yw_req_app(req)->keys, db, yw_store_writer(yw_req_app(req)->store));
    /* What follows reads the index as the writer left it, in a new snapshot. */
    yw_app_handler_done(req);
    return rc;
}

/* A read connection that sees the entity index brought up to date; NULL after replying. */
static yw_db *current_entities_or_reply(yw_req *req)
{
    yw_db *db = yw_app_reader_or_reply(req);
    int rc = db ? entities_refresh(req, db) : 0;
    if (rc < 0) {
        yw_reply_store_error(req, rc, "conflict");
        return NULL;
    }
    /* the refresh wrote: a new snapshot sees it */
    return db ? yw_app_reader_or_reply(req) : NULL;
}

/* ---- reading conflicts ---- */

/* Differing values of one entity and element from at least two providers: the condition of a conflict. */
#define CONFLICT_GROUP                                                                                             \
    "SELECT entity, max(entity_element) AS entity_element, max(resource = $3) AS has_resource,"                    \
    " max(provider_org = $4) AS has_org FROM entity_values WHERE entity > coalesce($1, '')"                         \
    " GROUP BY entity, element HAVING min(value_hash) <> max(value_hash) AND min(provider_org) <> max(provider_org)"

/* Specs of the resources a reply reads values from, loaded once each. */
typedef struct {
    resource_spec specs[32];
    size_t n;
} spec_cache;

static const resource_spec *spec_of(yw_req *req, yw_db *db, spec_cache *c, const char *code)
{
    size_t max = sizeof c->specs / sizeof c->specs[0];
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->specs[i].code, code) == 0)
            return &c->specs[i];
    /* Beyond the cache's room, specs are loaded each time they are needed. */
    resource_spec *spec = c->n < max ? &c->specs[c->n] : yw_arena_alloc(req->arena, sizeof *spec);
    if (resource_spec_load(req->arena, db, code, spec) < 0)
        return NULL;
    if (c->n < max)
        c->n++;
    return spec;
}

static const item_spec *item_of(const resource_spec *r, const char *name)
{
    for (size_t i = 0; r && i < r->nitems; i++)
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

/* One source of a difference: whose value, where, and the value as the caller may see it. */
typedef struct {
    const char *element, *resource, *provider, *item, *record, *hash;
    int64_t version;
} source;

/*
 * The sources of entity that take part in a conflict (elements where
 * providers differ), in element order, into a new array of *n (free it).
 */
static int conflict_sources(yw_req *req, yw_db *db, const char *entity, source **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                         "SELECT v.element, v.resource, v.provider_org, v.item, v.key_index, v.version, v.value_hash"
                         " FROM entity_values v JOIN (SELECT element FROM entity_values WHERE entity = $1 GROUP BY element"
                         "   HAVING min(value_hash) <> max(value_hash) AND min(provider_org) <> max(provider_org)) c"
                         " ON c.element = v.element"
                         " WHERE v.entity = $1 ORDER BY v.element, v.provider_org, v.resource",
                         "t", entity);
    if (rc < 0)
        return rc;
    size_t cap = 0;
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW) {
        source *grown = grow(*out, &cap, *n + 1, sizeof **out);
        if (!grown) {
            rc = YW_ENOMEM;
            break;
        }
        *out = grown;
        (*out)[(*n)++] = (source){
            .element = yw_arena_strdup(req->arena, yw_stmt_text(s, 0)),
            .resource = yw_arena_strdup(req->arena, yw_stmt_text(s, 1)),
            .provider = yw_arena_strdup(req->arena, yw_stmt_text(s, 2)),
            .item = yw_arena_strdup(req->arena, yw_stmt_text(s, 3)),
            .record = yw_arena_strdup(req->arena, yw_stmt_text(s, 4)), .version = yw_stmt_int(s, 5),
            .hash = yw_arena_strdup(req->arena, yw_stmt_text(s, 6))};
    }
    yw_stmt_release(s);
    return rc < 0 ? rc : 0;
}

/* The current value of a source in clear (request arena), or NULL when it cannot be read. */
static const char *source_value(yw_req *req, yw_db *db, spec_cache *c, const source *src)
{
    const resource_spec *spec = spec_of(req, db, c, src->resource);
    if (!spec)
        return NULL;
    record_ctx ctx = record_ctx_of(req);
    json_t *data;
    int64_t version, updated;
    if (record_read(&ctx, db, spec, src->record, &data, &version, &updated) < 0)
        return NULL;
    const json_t *v = json_object_get(data, src->item);
    const char *text = v && !json_is_null(v) ? yw_arena_strdup(req->arena, value_text(req->arena, v)) : NULL;
    json_decref(data);
    return text;
}

/* One conflict as the caller sees it; adds the elements shown to disclosed. New object, or NULL. */
static json_t *conflict_json(yw_req *req, yw_db *db, spec_cache *c, const char *entity_element, const char *entity,
                             json_t *disclosed)
{
    source *src;
    size_t n;
    if (conflict_sources(req, db, entity, &src, &n) < 0)
        return NULL;
    json_t *differences = json_array(), *current = NULL;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(src[i].element, src[i - 1].element) != 0) {
            current = json_array();
            json_array_append_new(differences, json_pack("{s:s, s:o}", "element", src[i].element, "sources", current));
            json_array_append_new(disclosed, json_string(src[i].element));
        }
        const char *value = source_value(req, db, c, &src[i]);
        const item_spec *item = item_of(spec_of(req, db, c, src[i].resource), src[i].item);
        bool own = req->principal.org_code && strcmp(req->principal.org_code, src[i].provider) == 0;
        bool masked = value && item && item->sensitive && !own;
        if (masked) {
            yw_buf b = YW_BUF_INIT;
            yw_mask(item->mask, value, &b);
            yw_buf_append(&b, "", 1);
            value = yw_arena_strdup(req->arena, b.data);
            yw_buf_free(&b);
        }
        json_array_append_new(current, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s?, s:b}", "resource", src[i].resource,
                                                 "provider_org", src[i].provider, "item", src[i].item, "record",
                                                 src[i].record, "version", (json_int_t)src[i].version, "value", value,
                                                 "masked", masked));
    }
    free(src);
    json_t *objections = json_array();
    yw_stmt *s;
    if (yw_db_query(db, &s, "SELECT id FROM objections WHERE conflict = $1 ORDER BY id", "t", entity) == 0) {
        while (yw_stmt_step(s) == YW_DB_ROW)
            json_array_append_new(objections, json_string(yw_stmt_text(s, 0)));
        yw_stmt_release(s);
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "id", entity, "element", entity_element, "differences", differences,
                     "objections", objections);
}

void conflicts_list(yw_req *req)
{
    int limit;
    const char *cursor;
    if (!yw_app_list_or_reply(req, YW_ACT_CONFLICT_READ, &limit, &cursor))
        return;
    const char *element = yw_req_query(req, "element"), *resource = yw_req_query(req, "resource");
    if ((element && strlen(element) > 64) || (resource && strlen(resource) > 64)) {
        yw_reply_problem(req, 400, "invalid_request", "element is a data element id, resource a resource code");
        return;
    }
    req->audit.stage = "use";
    req->audit.object_type = "conflict";
    yw_db *db = current_entities_or_reply(req);
    if (!db)
        return;
    /* A steward without oversight of every org sees the conflicts its org's resources are in. */
    const char *org = yw_authz_own_org_only(&req->principal, YW_ACT_CONFLICT_READ) ? req->principal.org_code : NULL;
    yw_stmt *s;
    int rc = yw_db_query(db, &s,
                     "SELECT max(entity_element), entity FROM (" CONFLICT_GROUP ")"
                     " WHERE ($2 IS NULL OR entity_element = $2) AND ($3 IS NULL OR has_resource) AND ($4 IS NULL OR has_org)"
                     " GROUP BY entity ORDER BY entity LIMIT $5",
                     "tttti", cursor, element, resource, org, (int64_t)limit + 1);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "conflict");
        return;
    }
    json_t *found = yw_req_keep(req, json_array());
    while ((rc = yw_stmt_step(s)) == YW_DB_ROW)
        json_array_append_new(found, json_pack("[s,s]", yw_stmt_text(s, 0), yw_stmt_text(s, 1)));
    yw_stmt_release(s);
    if (rc < 0) {
        yw_reply_store_error(req, rc, "conflict");
        return;
    }
    const char *next = NULL;
    if (json_array_size(found) > (size_t)limit) {
        json_array_remove(found, (size_t)limit);
        next = yw_cursor_encode(req, json_string_value(json_array_get(json_array_get(found, (size_t)limit - 1), 1)));
    }
    spec_cache *cache = yw_arena_alloc(req->arena, sizeof *cache);
    memset(cache, 0, sizeof *cache);
    json_t *items = json_array(), *disclosed = yw_req_keep(req, json_array());
    req->audit.object_ids = yw_req_keep(req, json_array());
    size_t i;
    json_t *pair;
    json_array_foreach(found, i, pair) {
        const char *entity = json_string_value(json_array_get(pair, 1));
        json_t *c = conflict_json(req, db, cache, json_string_value(json_array_get(pair, 0)), entity, disclosed);
        if (!c) {
            json_decref(items);
            yw_reply_store_error(req, YW_EIO, "conflict");
            return;
        }
        json_array_append_new(items, c);
        json_array_append_new(req->audit.object_ids, json_string(entity));
    }
    /* The elements shown, once each. */
    json_t *elements = json_array();
    json_array_foreach(disclosed, i, pair) {
        size_t k;
        json_t *seen;
        bool known = false;
        json_array_foreach(elements, k, seen) known = known || json_equal(seen, pair);
        if (!known)
            json_array_append(elements, pair);
    }
    req->audit.items = yw_req_keep(req, elements);
    req->audit.hash_bodies = true;
    yw_reply_json_new(req, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor", next));
}

/* ---- sending a conflict to its providers ---- */

typedef struct {
    yw_req *req;
    objection_new *objections;
    size_t n;
    json_t *filed; /* ids, kept by the request */
} report;

static int report_job(yw_db *db, void *arg)
{
    report *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        objection_new *o = &r->objections[i];
        int64_t open = 0;
        int rc = yw_db_int(db, &open,
                           "SELECT count(*) FROM objections WHERE resource = $1 AND record = $2 AND item = $3"
                           " AND status = 'open'",
                           "ttt", o->resource, o->record, o->item);
        if (rc < 0)
            return rc;
        if (open)
            continue; /* already before its provider */
        if ((rc = objection_insert(db, o)) < 0)
            return rc;
        json_array_append_new(r->filed, json_string(o->id));
    }
    if (json_array_size(r->filed) == 0)
        return YW_ESTATE;
    json_array_extend(r->req->audit.object_ids, r->filed);
    return 0;
}

/* The value held by the most providers among src[from, to), or NULL when no value has a majority. */
static const char *majority_hash(const source *src, size_t from, size_t to)
{
    const char *best = NULL;
    size_t best_count = 0;
    bool tie = false;
    for (size_t i = from; i < to; i++) {
        size_t count = 0;
        for (size_t j = from; j < to; j++) {
            bool counted = false; /* one vote per provider */
            for (size_t k = from; k < j; k++)
                counted = counted || (strcmp(src[k].provider, src[j].provider) == 0 && strcmp(src[k].hash, src[i].hash) == 0);
            count += !counted && strcmp(src[j].hash, src[i].hash) == 0;
        }
        if (count > best_count) {
            best = src[i].hash, best_count = count, tie = false;
        } else if (count == best_count && strcmp(best, src[i].hash) != 0) {
            tie = true;
        }
    }
    return tie ? NULL : best;
}

void conflicts_report(yw_req *req)
{
    static const yw_json_field fields[] = {{"reason", YW_JSON_STRING, false, 1000}};
    req->audit.stage = "use";
    yw_req_audit_object(req, "conflict", yw_req_param(req, "id"));
    if (!yw_authz_or_reply(req, YW_ACT_CONFLICT_REPORT, NULL, NULL))
        return;
    json_t *body = req->body_len ? yw_req_json_or_reply(req, fields, 1) : yw_req_keep(req, json_object());
    if (!body)
        return;
    const char *reason = yw_json_str(body, "reason");
    if (reason && !*reason) {
        yw_reply_problem(req, 422, "validation_failed", "'reason' may be left out, but not empty");
        return;
    }
    const char *entity = yw_req_param(req, "id");
    if (strlen(entity) != YW_BLIND_INDEX_LEN - 1) {
        yw_reply_problem(req, 404, "not_found", "no such conflict");
        return;
    }
    yw_db *db = current_entities_or_reply(req);
    if (!db)
        return;
    source *src;
    size_t n;
    int rc;
    if ((rc = conflict_sources(req, db, entity, &src, &n)) < 0) {
        yw_reply_store_error(req, rc, "conflict");
        return;
    }
    if (n == 0) {
        yw_reply_problem(req, 404, "not_found", "no such conflict");
        return;
    }
    spec_cache *cache = yw_arena_alloc(req->arena, sizeof *cache);
    memset(cache, 0, sizeof *cache);
    report r = {.req = req, .objections = yw_arena_alloc(req->arena, n * sizeof *r.objections),
                .filed = yw_req_keep(req, json_array())};
    int64_t due = yw_calendar_deadline(yw_req_app(req)->calendar, yw_now_ms(), yw_req_app(req)->config->objection_days);
    json_t *elements = yw_req_keep(req, json_array());
    for (size_t from = 0, to; from < n && rc >= 0; from = to) {
        for (to = from; to < n && strcmp(src[to].element, src[from].element) == 0; to++)
            ;
        json_array_append_new(elements, json_string(src[from].element));
        const char *majority = majority_hash(src, from, to), *proposed = NULL;
        for (size_t i = from; i < to && majority && !proposed; i++)
            if (strcmp(src[i].hash, majority) == 0)
                proposed = source_value(req, db, cache, &src[i]);
        for (size_t i = from; i < to; i++) {
            if (majority && strcmp(src[i].hash, majority) == 0)
                continue;
            const item_spec *item = item_of(spec_of(req, db, cache, src[i].resource), src[i].item);
            const char *sealed = proposed && item ? objection_seal(req, src[i].resource, src[i].item, item->sensitive,
                                                                   proposed) : NULL;
            r.objections[r.n++] = (objection_new){
                .resource = src[i].resource, .record = src[i].record, .item = src[i].item,
                .item_mask = item ? item->mask : "full",
                .reason = reason ? reason : "与其他部门对同一对象的记录不一致（跨部门冲突检测）",
                .proposed_value = sealed, .provider = src[i].provider, .consumer = req->principal.org_code,
                .filed_by = req->principal.id, .conflict = entity, .record_version = src[i].version, .due_at = due};
        }
    }
    free(src);
    req->audit.items = elements;
    rc = yw_app_write(req, report_job, &r, 201);
    if (rc == YW_ESTATE) {
        yw_reply_problem(req, 409, "already_reported", "every differing value already has an open objection");
        return;
    }
    if (rc < 0) {
        yw_reply_store_error(req, rc, "objection");
        return;
    }
    yw_reply_json_new(req, 201, json_pack("{s:s, s:O}", "conflict", entity, "objections", r.filed));
}

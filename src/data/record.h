/*
 * What the record handlers and the importer share: the resource as records
 * see it, the preparation of one record (validation, keyed hash, encryption)
 * and the write job that stores it with its version and change.
 */
#ifndef YW_DATA_RECORD_H
#define YW_DATA_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/element.h"
#include "core/buf.h"
#include "core/arena.h"
#include "http/request.h"
#include "sec/keyring.h"
#include "store/db.h"

/* One item of the resource, as records need it. */
typedef struct {
    const char *name;
    const char *element_id; /* the data element it is bound to, or NULL */
    const char *mask;       /* how a masked grant shows it (sec/mask.h) */
    yw_element element;     /* type and length of the item, validator of its element */
    const char *context;    /* "code/item": what its encrypted values are bound to */
    bool required, sensitive;
} item_spec;

typedef struct {
    const char *code, *provider, *status, *key_item;
    item_spec *items;
    size_t nitems;
    size_t *by_name;          /* item indexes in the order stored data lists them (by name, bytewise) */
    const char *hash_context; /* "record:code", the context of the keyed hash of a record's data */
    int key;                  /* index of the key item, or -1 */
    bool key_sensitive;
} resource_spec;

/* A value as it arrived for one item (or for a name that is not one). */
typedef enum {
    VALUE_NULL,   /* JSON null: as if absent, but part of the hashed data */
    VALUE_STRING, /* text is the string */
    VALUE_JSON,   /* text is the JSON of a number or a boolean */
    VALUE_NESTED, /* an object or an array: never valid */
} value_kind;

typedef struct {
    const char *name; /* as given */
    int item;         /* index in the resource's items, or -1: no such item */
    value_kind kind;
    const char *text;
} given_value;

/* Buffers reused from one record to the next while preparing many. */
typedef struct {
    yw_buf plain, stored;
} record_scratch;

typedef struct {
    const char *resource, *key_index, *source;
    const char *data, *hash; /* NULL data: delete */
    bool surely_new;         /* no record can have this key: see import_fresh (data/import.h) */
    int64_t version;         /* out */
    bool created, changed;   /* out */
    int64_t updated_at;      /* out */
} record_write;

/* Where prepared records live, what encrypts them, and who wrote them. */
typedef struct {
    yw_arena *arena;
    const yw_keyring *keys;
    const char *source;
    record_scratch *scratch; /* NULL: preparation uses buffers of its own */
    const json_t *only;      /* reads keep only these items (an object's member names); NULL: every item */
} record_ctx;

/* The context of a request: its arena, the platform's keys, its principal. */
record_ctx record_ctx_of(yw_req *req);

/* Loads resource code as records see it, into arena a. 0, YW_ENOTFOUND or < 0. */
int resource_spec_load(yw_arena *a, yw_db *db, const char *code, resource_spec *r);
/* The same for a request: without a read while no definition changed (app.h). */
int resource_spec_for(yw_req *req, yw_db *db, const char *code, resource_spec *r);

/*
 * Loads the resource named by the path if the caller may load its records;
 * otherwise replies (404 outside the provider org, as if it did not exist).
 */
bool resource_or_reply(yw_req *req, yw_db *db, resource_spec *r);

/* The key as stored: its blind index when the key item is sensitive. */
const char *key_index(const record_ctx *c, const resource_spec *r, const char *key);

/*
 * Checks data (item name → value; the key item is filled in from key) and
 * prepares w: stored form with sensitive values encrypted, keyed hash, key
 * index. NULL when the record is good; otherwise the reason, with the item
 * it concerns in *bad_item.
 */
const char *prepare_record(const record_ctx *c, const resource_spec *r, const char *key, json_t *data,
                           record_write *w, const char **bad_item);

/*
 * The same from values as they arrived (a CSV row, a JSON object): n given
 * values, each item at most once, in the order they came (the first bad one
 * is reported). The key item's value, when given, must be key.
 */
const char *prepare_values(const record_ctx *c, const resource_spec *r, const char *key, const given_value *given,
                           size_t n, record_write *w, const char **bad_item);

/*
 * The condition finding the record of resource $1 and key index $2, through
 * the index of key hashes (migration 0015); the whole key settles the rare
 * records that share a hash. "+resource" keeps SQLite from walking the
 * records of the whole resource instead.
 */
#define RECORD_OF_KEY "key_hash = yw_key_hash($2) AND key_index = $2 AND +resource = $1"

/*
 * The current data of the record stored under index, its sensitive values
 * decrypted, as a new object in *data. 0, YW_ENOTFOUND (none, or deleted)
 * or < 0 (YW_EIO when a value does not decrypt).
 */
int record_read(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, json_t **data,
                int64_t *version, int64_t *updated_at);

/* One item of a stored record, as read for a reader of some items only. */
typedef struct {
    const char *name;
    enum { RECORD_NULL, RECORD_FALSE, RECORD_TRUE, RECORD_INT, RECORD_REAL, RECORD_STRING, RECORD_JSON } kind;
    const char *text; /* RECORD_STRING: the string itself (len bytes); RECORD_JSON: JSON text (array, object, ...) */
    size_t len;
    int64_t i;
    double real;
} record_value;

/*
 * record_read for a reader of c->only's items, without building the data:
 * fn sees each of those items the record has, in c->only's order, sensitive
 * values decrypted (the decrypted text is gone once fn returns). 0,
 * YW_ENOTFOUND, YW_EIO, fn's own value when < 0, or < 0.
 */
int record_read_values(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, int64_t *version,
                       int64_t *updated_at, int (*fn)(const record_value *v, void *arg), void *arg);

/* The value as a new JSON value; NULL when RECORD_JSON text does not parse. */
json_t *record_value_json(const record_value *v);

/* One entry of a resource's change sequence. key_index lives until the next change is read. */
typedef struct {
    int64_t seq, version, changed_at;
    bool deleted;
    const char *key_index;
} record_change;

/*
 * Calls fn for each change of resource with seq > after, in order, at most
 * limit of them; fn returning non-zero stops the walk with that value.
 * Returns 0, fn's value, or < 0.
 */
int record_changes_each(yw_db *db, const char *resource, int64_t after, int limit,
                        int (*fn)(const record_change *ch, void *arg), void *arg);

/*
 * The record stored under index as it was at version: its data decrypted
 * (new object; NULL for a deletion) and its key (in c's arena) — for a
 * deletion, the key of the last version that had data. 0, YW_ENOTFOUND or < 0.
 */
int record_at_version(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, int64_t version,
                      json_t **data, const char **key);

/* Writer job storing w: unchanged data keeps its version; YW_ENOTFOUND deleting what is not there. */
int record_job(yw_db *db, void *arg);

#endif

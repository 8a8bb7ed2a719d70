/*
 * What the sharing module's parts share: grants as reads need them, the
 * visibility of an object that concerns two orgs, its consumer and its
 * provider, the filing of objections (by consumers, and by the data bureau
 * from conflicts) and the detection pass behind conflicts and quality.
 */
#ifndef YW_SHARING_SHARING_H
#define YW_SHARING_SHARING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "authz/policy.h"
#include "data/record.h"
#include "http/request.h"
#include "sec/keyring.h"
#include "store/db.h"
#include "store/writer.h"

/* An active grant, as a read uses it. Strings live in the request arena. */
typedef struct {
    const char *id, *resource;
    json_t *items; /* item name → "clear" | "masked"; kept by the request */
    int64_t daily_quota; /* 0: none */
    int64_t valid_until;
    uint64_t generation; /* the writer's, app.h, at which it was found active */
} grant;

/*
 * The grant through which the caller reads resource now: the one named by
 * id when id is not NULL, else the newest active grant of the caller's org
 * (for a department system: one not bound to another system). 0,
 * YW_ENOTFOUND or < 0.
 */
int grant_find(yw_req *req, yw_db *db, const char *resource, const char *id, grant *g);

/*
 * May the caller do action on an object between consumer and provider?
 * ALLOW when either org's answer is ALLOW; HIDE when the caller belongs to
 * neither (and is not the data bureau); otherwise FORBID.
 */
yw_authz_result share_authz(const yw_principal *p, yw_action action, const char *consumer, const char *provider);

/* share_authz that replies 404 "no such <noun>" or 403 itself; true when allowed. */
bool share_authz_or_reply(yw_req *req, yw_action action, const char *consumer, const char *provider,
                          const char *noun);

/* A new share request; with grant_items, granted at once. */
typedef struct {
    const char *resource, *provider, *consumer, *client_id, *requested_by;
    const char *items; /* JSON array of item names */
    const char *purpose, *legal_basis, *scenario;
    int64_t valid_until, daily_quota, due_at; /* ms; quota 0: none */
    const char *grant_items; /* JSON object item → "clear" | "masked": grant now */
    const char *decided_by;  /* who granted; NULL when the share type grants it */
    int64_t created_at;      /* ms; 0: now */
    char id[16], grant_id[16]; /* out */
} share_request_new;

/* Stores n (and its grant) inside a writer job; fills n->id and n->grant_id. 0 or < 0. */
int share_request_insert(yw_db *db, share_request_new *n);

/*
 * What a reader sees of a record's data: all of it when grant_items is NULL
 * (the provider); else the granted items only, each in clear or masked by
 * its mask kind. Adds the item names shown to disclosed. Made from data
 * itself, whose reference it takes.
 */
json_t *shared_view(const resource_spec *r, const json_t *grant_items, json_t *data, json_t *disclosed);

/*
 * shared_view of the record stored under index for a grant (c->only: its
 * items and modes), written as a JSON object onto data; the names shown are
 * added to disclosed. Returns as record_read does.
 */
int shared_record_write(const record_ctx *c, yw_db *db, const resource_spec *r, const char *index, yw_buf *data,
                        int64_t *version, int64_t *updated_at, json_t *disclosed);

/* The record key as the grant shows it (masked, or NULL when the key item is not granted); in arena a. */
const char *shared_key(const resource_spec *r, const json_t *grant_items, const char *key, yw_arena *a);

/* One page of the change feed as a reader sees it. */
typedef struct {
    json_t *changes;   /* [{seq, key?, version, deleted, changed_at, data}] */
    json_t *disclosed; /* item names shown */
    json_t *indexes;   /* key index of each change, for the audit entry */
    int64_t last_seq;  /* of the last change, or the starting point when there is none */
} feed_page;

/* The changes of r after seq after (at most limit), as grant_items (NULL: the provider) shows them. 0 or < 0. */
int feed_collect(const record_ctx *ctx, yw_db *db, const resource_spec *r, const json_t *grant_items, int64_t after,
                 int limit, feed_page *page);
void feed_page_free(feed_page *page);

/*
 * The query arguments every list of the sharing module takes: ?limit=,
 * ?cursor=, ?status= (one of statuses), ?role=consumer|provider,
 * ?resource=, and ?overdue=true|false where the list has deadlines; and the
 * org the list is narrowed to (the caller's, unless its roles oversee every
 * org, or ?role= picks a side).
 */
typedef struct {
    int limit;
    const char *cursor, *status, *role, *resource;
    const char *org;   /* bind to PARTY_SQL's first parameter; NULL: every org */
    int64_t overdue;   /* 1: only overdue ones, 0: only the others, -1: both */
} list_filter;

/* Checks that the caller may list (action) and reads the arguments; the read connection, or NULL after replying. */
yw_db *list_begin(yw_req *req, yw_action action, const char *const *statuses, bool deadlines, list_filter *f);

/* Narrows a list to the caller's side of its objects: parameters $N (org) and $N+1 (role). */
#define PARTY_SQL(org, role)                                                                                       \
    " AND (" org " IS NULL OR (" role " IS NULL AND (consumer_org = " org " OR provider_org = " org "))"          \
    " OR (" role " = 'consumer' AND consumer_org = " org ") OR (" role " = 'provider' AND provider_org = " org "))"

/*
 * The rest of a list with deadlines: $4 status, $5 resource, $6 overdue (as
 * list_filter has it), $7 now; open is the status that can be overdue.
 */
#define DEADLINE_SQL(open)                                                                                         \
    " AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR resource = $5)"                                           \
    " AND ($6 < 0 OR $6 = (status = '" open "' AND due_at < $7))"

/* The next id of a table whose ids are prefix + 8 digits, in order of creation; buf of 16 bytes. */
int next_id(yw_db *db, const char *table, const char *prefix, char buf[16]);

/* The day number (China Standard Time) quotas are counted on; when the next one starts, and in how many seconds. */
int64_t quota_day(int64_t now_ms);
int64_t next_quota_day_ms(int64_t now_ms);
int64_t seconds_to_next_day(int64_t now_ms);

/* Records grant_id disclosed on day (grant_usage), into *used. 0 or < 0. */
int quota_used(yw_db *db, const char *grant_id, int64_t day, int64_t *used);
/* Inside a writer job: counts n more records of grant_id on day, or YW_ERANGE when they exceed quota. */
int quota_take(yw_db *db, const char *grant_id, int64_t day, int64_t quota, int64_t n);

/* ---- objections, conflicts and quality (objections.c, conflicts.c, quality.c) ---- */

/* A new data objection to one item of one record. Strings are the caller's. */
typedef struct {
    const char *resource, *record; /* the record by its key index */
    const char *item, *item_mask, *reason;
    const char *proposed_value; /* stored form (see objection_seal), or NULL */
    const char *provider, *consumer, *filed_by;
    const char *conflict; /* the conflict it comes from, or NULL */
    int64_t record_version, due_at;
    int64_t created_at; /* ms; 0: now */
    char id[16];        /* out */
} objection_new;

/* Stores n inside a writer job; fills n->id. 0 or < 0. */
int objection_insert(yw_db *db, objection_new *n);

/*
 * The stored form of a proposed value of item of resource: the text as it
 * is, or encrypted when the item is sensitive. In the request arena; NULL
 * when it cannot be encrypted.
 */
const char *objection_seal(yw_req *req, const char *resource, const char *item, bool sensitive, const char *value);

/*
 * Brings the entity index (record_entities, entity_values) up to date with
 * the records of every published resource whose key item is bound to an
 * element that keys resources of another provider too, reading through db
 * (the handler's snapshot). Writes only what changed since the last pass,
 * then ends the snapshot: take the reader again to read the index. 0 or < 0.
 */
int entities_refresh(yw_req *req, yw_db *db);

/*
 * The same pass outside a request (the demo loader): reads through db,
 * stores through writer, strings in arena a. 0 or < 0.
 */
int entities_index(yw_arena *a, const yw_keyring *keys, yw_db *db, yw_writer *writer);

#endif

/*
 * Query indexes over a resource's records (see catalog.h).
 *
 * A provider marks the items consumers may filter on as "indexed". Each
 * such item gets a partial expression index over the records of its
 * resource — json_extract(data, '$.<item>') WHERE resource = '<code>' —
 * which SQLite keeps up to date on every write, so a filtered query reads
 * the index instead of scanning. Only items of L1/L2 can be indexed: values
 * of sensitive items are stored encrypted (the key item, even sensitive,
 * is always found through the records' key index).
 */
#include "catalog/catalog.h"

#include "core/error.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define INDEX_PREFIX "records_q_"

/* Resource codes are {org code}-{digits}: letters, digits and '-' only, so they are safe as SQL text. */
static bool code_ok(const char *code)
{
    size_t n = strlen(code);
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((code[i] >= '0' && code[i] <= '9') || (code[i] >= 'A' && code[i] <= 'Z') || code[i] == '-'))
            return false;
    return true;
}

const char *yw_catalog_index_name(const char *code, const char *item, char out[YW_CATALOG_INDEX_NAME])
{
    int n = snprintf(out, YW_CATALOG_INDEX_NAME, INDEX_PREFIX "%s__%s", code, item);
    for (char *p = out; *p; p++)
        if (*p == '-')
            *p = '_';
    return n > 0 && n < YW_CATALOG_INDEX_NAME ? out : NULL;
}

bool yw_catalog_item_indexed(yw_db *db, const char *code, const char *item)
{
    char name[YW_CATALOG_INDEX_NAME];
    int64_t found = 0;
    return yw_catalog_index_name(code, item, name) &&
           yw_db_int(db, &found, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = $1", "t", name) == 1;
}

int yw_catalog_sync_indexes(yw_db *db, const char *code)
{
    if (!code_ok(code))
        return YW_EINVAL;
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT doc FROM resources WHERE code = $1", "t", code);
    if (rc < 0)
        return rc;
    json_t *doc = yw_stmt_step(s) == YW_DB_ROW ? json_loads(yw_stmt_text(s, 0), 0, NULL) : NULL;
    yw_stmt_release(s);
    json_t *wanted = json_object(); /* index name → item */
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(doc, "items"), i, item) {
        char name[YW_CATALOG_INDEX_NAME];
        const char *item_name = json_string_value(json_object_get(item, "name"));
        if (json_is_true(json_object_get(item, "indexed")) && item_name && yw_catalog_index_name(code, item_name, name))
            json_object_set_new(wanted, name, json_string(item_name));
    }
    json_decref(doc);
    /* Drop what is no longer wanted... */
    char prefix[YW_CATALOG_INDEX_NAME];
    yw_catalog_index_name(code, "", prefix);
    json_t *drop = json_array();
    rc = yw_db_query(db, &s, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
                             " AND substr(name, 1, length($1)) = $1", "t", prefix);
    if (rc == 0) {
        while (yw_stmt_step(s) == YW_DB_ROW)
            if (!json_object_get(wanted, yw_stmt_text(s, 0)))
                json_array_append_new(drop, json_string(yw_stmt_text(s, 0)));
        yw_stmt_release(s);
    }
    json_t *v;
    json_array_foreach(drop, i, v) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS \"%s\"", json_string_value(v));
        if (rc >= 0)
            rc = yw_db_exec(db, sql);
    }
    json_decref(drop);
    /* ...and create what is missing (item names are [a-z0-9_], codes checked above). */
    const char *name;
    json_object_foreach(wanted, name, v) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "CREATE INDEX IF NOT EXISTS \"%s\" ON records(json_extract(data, '$.%s')) WHERE resource = '%s'", name,
                 json_string_value(v), code);
        if (rc >= 0)
            rc = yw_db_exec(db, sql);
    }
    json_decref(wanted);
    return rc < 0 ? rc : 0;
}

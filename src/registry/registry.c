/* Registry storage and validation shared by handlers, init and the demo (see registry.h). */
#include "registry/registry.h"

#include "authz/policy.h"
#include "core/error.h"
#include "core/time.h"
#include "core/validate.h"

#include <stdio.h>
#include <string.h>

static bool utf8_length_ok(const char *s, size_t min_chars, size_t max_chars)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80) {
            if (*p < 0x20)
                return false; /* no control characters in names */
            chars++;
        }
    return chars >= min_chars && chars <= max_chars;
}

const char *yw_org_validate(const yw_org *o)
{
    if (!o->code || strlen(o->code) != 18)
        return "code must be the 18-character unified social credit code";
    if (!o->legacy_code && !yw_valid_uscc(o->code))
        return "code is not a valid unified social credit code (check digit or alphabet)";
    if (o->legacy_code) {
        for (const char *p = o->code; *p; p++)
            if (!strchr("0123456789ABCDEFGHJKLMNPQRTUWXY", *p))
                return "code may only use 0-9 and A-Y without I, O, S, V, Z";
    }
    if (!o->name || !utf8_length_ok(o->name, 1, 128))
        return "name must have 1 to 128 characters";
    if (!o->region_code || !yw_valid_region_code(o->region_code))
        return "region_code must be a 6-digit GB/T 2260 region code";
    if (!o->level || (strcmp(o->level, "province") && strcmp(o->level, "city") && strcmp(o->level, "district")))
        return "level must be province, city or district";
    if (o->parent_code && strcmp(o->parent_code, o->code) == 0)
        return "an org cannot be its own parent";
    return NULL;
}

int yw_org_insert(yw_db *db, const yw_org *o)
{
    int64_t now = yw_now_ms();
    int rc = yw_db_run(db,
                       "INSERT INTO orgs(code, name, parent_code, region_code, level, legacy_code, created_at, updated_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                       "tttttii", o->code, o->name, o->parent_code, o->region_code, o->level,
                       (int64_t)o->legacy_code, now);
    return rc < 0 ? rc : 0;
}

int yw_org_exists(yw_db *db, const char *code)
{
    int64_t one;
    int rc = yw_db_int(db, &one, "SELECT 1 FROM orgs WHERE code = $1", "t", code);
    return rc < 0 ? rc : rc == YW_DB_ROW;
}

const char *yw_username_validate(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n < 3 || n > 64 || !(u[0] >= 'a' && u[0] <= 'z'))
        return "username must have 3 to 64 characters and start with a lower-case letter";
    for (size_t i = 0; i < n; i++)
        if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9') || strchr("._-", u[i])))
            return "username may only use a-z, 0-9, '.', '_' and '-'";
    return NULL;
}

int yw_user_insert(yw_db *db, const yw_user_new *u)
{
    char roles[256];
    int64_t now = yw_now_ms();
    int rc = yw_db_run(db,
                       "INSERT INTO users(username, display_name, org_code, roles, password_hash,"
                       " must_change_password, password_changed_at, created_at, updated_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)",
                       "tttttii", u->username, u->display_name, u->org_code, yw_roles_text(u->roles, roles),
                       u->password_hash, (int64_t)u->must_change_password, now);
    return rc < 0 ? rc : 0;
}

const char *yw_client_name_validate(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 48)
        return "name must have 1 to 48 characters";
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || (name[i] == '-' && i > 0)))
            return "name may only use a-z, 0-9 and '-' (not first)";
    return NULL;
}

int yw_client_insert(yw_db *db, const char *org_code, const char *name, const char *secret_hash, char id_out[160])
{
    snprintf(id_out, 160, "%s/%s", org_code, name);
    int rc = yw_db_run(db,
                       "INSERT INTO clients(id, org_code, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                       "tttti", id_out, org_code, name, secret_hash, yw_now_ms());
    return rc < 0 ? rc : 0;
}

int yw_setting_get(yw_db *db, const char *key, char *out, size_t len)
{
    yw_stmt *s;
    int rc = yw_db_query(db, &s, "SELECT value FROM settings WHERE key = $1", "t", key);
    if (rc < 0)
        return rc;
    rc = yw_stmt_step(s);
    if (rc == YW_DB_ROW)
        snprintf(out, len, "%s", yw_stmt_text(s, 0));
    yw_stmt_release(s);
    return rc;
}

int yw_setting_set(yw_db *db, const char *key, const char *value)
{
    int rc = yw_db_run(db, "INSERT INTO settings(key, value) VALUES ($1, $2)"
                           " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       "tt", key, value);
    return rc < 0 ? rc : 0;
}

int yw_user_count(yw_db *db)
{
    int64_t n = 0;
    int rc = yw_db_int(db, &n, "SELECT count(*) FROM users", "");
    return rc < 0 ? rc : (int)n;
}

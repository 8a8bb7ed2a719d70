/*
 * The registry: departments (orgs), people (users) and department systems
 * (clients). Functions here run on a database handle given by the caller:
 * the writer's inside a group commit (handlers), or the CLI's for init and
 * the demo city. Validation functions return NULL or a sentence for a 422.
 */
#ifndef YW_REGISTRY_REGISTRY_H
#define YW_REGISTRY_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>

#include "store/db.h"

typedef struct {
    const char *code, *name, *parent_code, *region_code, *level;
    bool legacy_code; /* accept a code whose check digit fails (early pilot regions) */
} yw_org;

const char *yw_org_validate(const yw_org *o);
/* Inserts o; YW_ECONFLICT when the code exists. */
int yw_org_insert(yw_db *db, const yw_org *o);
/* 1 when an org with code exists, 0 when not, < 0 on error. */
int yw_org_exists(yw_db *db, const char *code);

typedef struct {
    const char *username, *display_name, *org_code;
    unsigned roles;
    const char *password_hash;
    bool must_change_password;
} yw_user_new;

/* NULL when username is 3-64 characters of a-z 0-9 . _ - starting with a letter. */
const char *yw_username_validate(const char *username);
int yw_user_insert(yw_db *db, const yw_user_new *u);

/* NULL when name is 1-48 characters of a-z 0-9 - starting with a letter or digit. */
const char *yw_client_name_validate(const char *name);
/* Inserts client {org_code}/{name} with the given secret hash; id_out gets the id (160 bytes). */
int yw_client_insert(yw_db *db, const char *org_code, const char *name, const char *secret_hash, char id_out[160]);

/* Setting value copied into out (size len); 1 found, 0 absent, < 0 error. */
int yw_setting_get(yw_db *db, const char *key, char *out, size_t len);
int yw_setting_set(yw_db *db, const char *key, const char *value);

/* Number of users; < 0 on error. */
int yw_user_count(yw_db *db);

#endif

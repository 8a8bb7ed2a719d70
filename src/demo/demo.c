/* The demo city (see demo.h). */
#include "demo/demo.h"

#include "authz/policy.h"
#include "core/error.h"
#include "core/validate.h"
#include "registry/registry.h"
#include "sec/password.h"
#include "sec/token.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *org_base; /* first 8 characters of the organization code */
    const char *prefix;   /* username prefix */
    const char *name;
} department;

/* The first is the data bureau, which init creates with the default code. */
static const department departments[] = {
    {"00249710", "dsj", "市大数据管理局"},
    {"00249711", "gaj", "市公安局"},
    {"00249712", "scjg", "市市场监督管理局"},
    {"00249713", "rsj", "市人力资源和社会保障局"},
    {"00249714", "mzj", "市民政局"},
    {"00249715", "wjw", "市卫生健康委员会"},
    {"00249716", "swj", "市税务局"},
    {"00249717", "zjj", "市住房和城乡建设局"},
    {"00249718", "jtj", "市交通运输局"},
    {"00249719", "sthj", "市生态环境局"},
    {"00249720", "yjj", "市应急管理局"},
};
#define NDEPTS (sizeof departments / sizeof departments[0])

typedef struct {
    const char *username; /* prefix_suffix, or a platform name */
    int dept;             /* index into departments */
    unsigned roles;
    const char *display_name;
} demo_user;

static const demo_user extra_users[] = {
    {"demo_sysadmin", 0, YW_ROLE_SYSADMIN, "演示系统管理员"},
    {"demo_secadmin", 0, YW_ROLE_SECADMIN, "演示安全管理员"},
    {"demo_auditor", 0, YW_ROLE_AUDITOR, "演示审计管理员"},
    {"scjg_inspector", 2, YW_ROLE_INSPECTOR, "市场监管执法人员"},
    {"yjj_dispatcher", 10, YW_ROLE_DISPATCHER, "应急调度员"},
    {"yjj_monitor", 10, YW_ROLE_MONITOR, "应急监测员"},
    {"jtj_monitor", 8, YW_ROLE_MONITOR, "交通监测员"},
};

/* USCC of department i: registration authority 1, category 1 (机关), region, org code, check. */
static void dept_code(const yw_config *cfg, size_t i, char out[19])
{
    char first17[18];
    char org[10];
    memcpy(org, departments[i].org_base, 8);
    org[8] = yw_org_code_check(departments[i].org_base);
    org[9] = '\0';
    snprintf(first17, sizeof first17, "11%.6s%s", cfg->region_code, org);
    snprintf(out, 19, "%s%c", first17, yw_uscc_check(first17));
}

/* Reads DIR/demo-accounts.json, or creates it with a new password and client secrets. */
static json_t *accounts_file(const yw_config *cfg, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/demo-accounts.json", cfg->data_dir);
    json_error_t je;
    json_t *acc = json_load_file(path, 0, &je);
    if (acc && json_is_string(json_object_get(acc, "password")) && json_is_object(json_object_get(acc, "secrets")))
        return acc;
    json_decref(acc);
    char password[17];
    yw_password_generate(password);
    json_t *secrets = json_object();
    for (size_t i = 1; i < NDEPTS; i++) {
        char secret[YW_TOKEN_MAX];
        yw_token_new("ywc", secret);
        json_object_set_new(secrets, departments[i].prefix, json_string(secret));
    }
    acc = json_pack("{s:s, s:o}", "password", password, "secrets", secrets);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || json_dumpfd(acc, fd, JSON_INDENT(2)) < 0) {
        snprintf(err, errlen, "cannot write %s", path);
        if (fd >= 0)
            close(fd);
        json_decref(acc);
        return NULL;
    }
    close(fd);
    return acc;
}

typedef struct {
    const yw_config *cfg;
    yw_audit *audit;
    json_t *accounts;
    char hash[YW_PASSWORD_HASH_LEN];
    json_t *users, *clients; /* output */
} demo_load;

static int recorded(demo_load *d, yw_db *db, const char *action, const char *type, const char *id)
{
    int64_t seq = yw_audit_system(d->audit, db, "yiwang demo", action, type, id);
    return seq < 0 ? (int)seq : 0;
}

static int add_user(yw_db *db, demo_load *d, const char *username, size_t dept, unsigned roles, const char *display)
{
    char code[19];
    dept_code(d->cfg, dept, code);
    int64_t one;
    int rc = yw_db_int(db, &one, "SELECT 1 FROM users WHERE username = $1", "t", username);
    if (rc == YW_DB_DONE) {
        yw_user_new u = {.username = username, .display_name = display, .org_code = code, .roles = roles,
                         .password_hash = d->hash, .must_change_password = false};
        rc = yw_user_insert(db, &u);
        if (rc >= 0)
            rc = recorded(d, db, "user.create", "user", username);
    }
    if (rc < 0)
        return rc;
    json_array_append_new(d->users, json_pack("{s:s, s:s, s:s, s:o}", "username", username, "org_code", code, "org_name",
                                              departments[dept].name, "roles", yw_roles_json(roles)));
    return 0;
}

static int demo_job(yw_db *db, void *arg)
{
    demo_load *d = arg;
    int rc = 0;
    char bureau[19];
    dept_code(d->cfg, 0, bureau);
    for (size_t i = 0; i < NDEPTS && rc >= 0; i++) {
        char code[19];
        dept_code(d->cfg, i, code);
        rc = yw_org_exists(db, code);
        if (rc == 0) {
            yw_org o = {.code = code, .name = departments[i].name, .region_code = d->cfg->region_code,
                        .level = "city", .parent_code = i ? bureau : NULL};
            rc = yw_org_insert(db, &o);
            if (rc >= 0)
                rc = recorded(d, db, "org.create", "org", code);
        }
    }
    static const struct {
        const char *suffix, *title;
        unsigned roles;
    } per_dept[] = {
        {"admin", "管理员", YW_ROLE_ORG_ADMIN},
        {"steward", "数据专员", YW_ROLE_STEWARD | YW_ROLE_APPROVER},
        {"clerk", "窗口人员", YW_ROLE_CLERK},
    };
    for (size_t i = 0; i < NDEPTS && rc >= 0; i++) {
        for (size_t k = 0; k < sizeof per_dept / sizeof per_dept[0] && rc >= 0; k++) {
            char username[64], display[256];
            snprintf(username, sizeof username, "%s_%s", departments[i].prefix, per_dept[k].suffix);
            snprintf(display, sizeof display, "%s%s", departments[i].name, per_dept[k].title);
            rc = add_user(db, d, username, i, per_dept[k].roles, display);
        }
    }
    for (size_t i = 0; i < sizeof extra_users / sizeof extra_users[0] && rc >= 0; i++)
        rc = add_user(db, d, extra_users[i].username, (size_t)extra_users[i].dept, extra_users[i].roles,
                      extra_users[i].display_name);
    json_t *secrets = json_object_get(d->accounts, "secrets");
    for (size_t i = 1; i < NDEPTS && rc >= 0; i++) {
        char code[19], id[160], hash[YW_TOKEN_HASH_LEN];
        dept_code(d->cfg, i, code);
        const char *secret = json_string_value(json_object_get(secrets, departments[i].prefix));
        if (!secret)
            continue;
        snprintf(id, sizeof id, "%s/exchange", code);
        int64_t one;
        rc = yw_db_int(db, &one, "SELECT 1 FROM clients WHERE id = $1", "t", id);
        if (rc == YW_DB_DONE) {
            yw_token_hash(secret, strlen(secret), hash);
            rc = yw_client_insert(db, code, "exchange", hash, id);
            if (rc >= 0)
                rc = recorded(d, db, "client.create", "client", id);
        }
        if (rc >= 0)
            json_array_append_new(d->clients, json_pack("{s:s, s:s, s:s}", "id", id, "org_name", departments[i].name,
                                                         "secret", secret));
    }
    return rc < 0 ? rc : 0;
}

json_t *yw_demo_load(yw_store *store, yw_audit *audit, const yw_keyring *keys, const yw_config *cfg,
                     const yw_calendar *calendar, char *err, size_t errlen)
{
    char bureau[19];
    dept_code(cfg, 0, bureau);
    if (strcmp(bureau, cfg->bureau_code) != 0) {
        snprintf(err, errlen, "the demo city needs the default data bureau code %s", bureau);
        return NULL;
    }
    json_t *accounts = accounts_file(cfg, err, errlen);
    if (!accounts)
        return NULL;
    demo_load d = {.cfg = cfg, .audit = audit, .accounts = accounts, .users = json_array(), .clients = json_array()};
    const char *password = json_string_value(json_object_get(accounts, "password"));
    /* One hash for every demo account: they share the password on purpose. */
    int rc = yw_password_hash(password, d.hash);
    if (rc >= 0)
        rc = yw_writer_run(yw_store_writer(store), demo_job, &d);
    char codes[NDEPTS][19];
    const char *code_list[NDEPTS], *prefixes[NDEPTS];
    for (size_t i = 0; i < NDEPTS; i++) {
        dept_code(cfg, i, codes[i]);
        code_list[i] = codes[i];
        prefixes[i] = departments[i].prefix;
    }
    err[0] = '\0';
    if (rc >= 0 && (yw_demo_load_catalog(store, audit, keys, cfg, code_list, err, errlen) < 0 ||
                    yw_demo_load_sharing(store, audit, cfg, calendar, code_list, prefixes, err, errlen) < 0 ||
                    yw_demo_load_objections(store, audit, cfg, calendar, code_list, prefixes, err, errlen) < 0)) {
        json_decref(d.users);
        json_decref(d.clients);
        json_decref(accounts);
        return NULL;
    }
    if (rc < 0) {
        snprintf(err, errlen, "loading the demo city: %s", yw_strerror(rc));
        json_decref(d.users);
        json_decref(d.clients);
        json_decref(accounts);
        return NULL;
    }
    json_t *out = json_pack("{s:s, s:s, s:o, s:o}", "password", password, "note",
                            "every demo user signs in with this password", "users", d.users, "clients", d.clients);
    json_decref(accounts);
    return out;
}

/*
 * The authorisation policy (see policy.h), as one table: for each action,
 * the roles allowed on objects of any org, the roles allowed on objects of
 * their own org, and whether a user may do it to themselves.
 */
#include "authz/policy.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    unsigned any_org; /* roles allowed whatever the object's org */
    unsigned own_org; /* roles allowed on objects of the caller's org */
    bool self;        /* a user acting on their own account */
    bool everyone;    /* any authenticated user or client */
    unsigned bureau;  /* roles allowed to members of the data bureau */
    bool own_clients; /* department systems, on objects of their own org */
    const char *noun; /* the object, as a hidden one is reported: "no such <noun>" */
} rule;

static char bureau_code[32];

void yw_authz_set_bureau(const char *org_code)
{
    snprintf(bureau_code, sizeof bureau_code, "%s", org_code ? org_code : "");
}

bool yw_authz_is_bureau(const char *org_code)
{
    return bureau_code[0] && org_code && strcmp(org_code, bureau_code) == 0;
}

static const rule rules[YW_ACT_COUNT] = {
    [YW_ACT_ORG_READ] = {.everyone = true, .noun = "org"},
    [YW_ACT_ORG_CREATE] = {.any_org = YW_ROLE_SYSADMIN, .noun = "org"},
    [YW_ACT_ORG_UPDATE] = {.any_org = YW_ROLE_SYSADMIN, .noun = "org"},
    [YW_ACT_USER_LIST] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .noun = "user"},
    [YW_ACT_USER_READ] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .self = true, .noun = "user"},
    [YW_ACT_USER_CREATE] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .noun = "user"},
    [YW_ACT_USER_UPDATE] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .noun = "user"},
    [YW_ACT_USER_RESET_PASSWORD] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .noun = "user"},
    [YW_ACT_CLIENT_LIST] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .noun = "client"},
    [YW_ACT_CLIENT_CREATE] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .noun = "client"},
    [YW_ACT_CLIENT_REVOKE] = {.any_org = YW_ROLE_SECADMIN, .own_org = YW_ROLE_ORG_ADMIN, .noun = "client"},
    /* Auditors read the whole trail; an org admin reads what their own org did. */
    [YW_ACT_AUDIT_HEAD] = {.everyone = true, .noun = "audit entry"},
    [YW_ACT_AUDIT_READ] = {.any_org = YW_ROLE_AUDITOR, .own_org = YW_ROLE_ORG_ADMIN, .noun = "audit entry"},
    [YW_ACT_AUDIT_EXPORT] = {.any_org = YW_ROLE_AUDITOR, .noun = "audit entry"},
    [YW_ACT_ELEMENT_READ] = {.everyone = true, .noun = "element"},
    [YW_ACT_ELEMENT_MANAGE] = {.any_org = YW_ROLE_SYSADMIN, .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN,
                               .noun = "element"},
    [YW_ACT_RESOURCE_READ] = {.everyone = true, .noun = "resource"},
    [YW_ACT_RESOURCE_MANAGE] = {.own_org = YW_ROLE_STEWARD, .noun = "resource"},
    [YW_ACT_RECORD_WRITE] = {.own_org = YW_ROLE_STEWARD, .own_clients = true, .noun = "record"},
    [YW_ACT_RECORD_READ] = {.own_org = YW_ROLE_STEWARD | YW_ROLE_CLERK | YW_ROLE_APPROVER | YW_ROLE_INSPECTOR,
                            .own_clients = true, .noun = "record"},
    [YW_ACT_SHARE_REQUEST] = {.own_org = YW_ROLE_STEWARD, .own_clients = true, .noun = "share request"},
    [YW_ACT_SHARE_READ] = {.own_org = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .own_clients = true,
                           .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .noun = "share request"},
    [YW_ACT_SHARE_DECIDE] = {.own_org = YW_ROLE_STEWARD, .noun = "share request"},
    [YW_ACT_GRANT_READ] = {.own_org = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .own_clients = true,
                           .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .noun = "grant"},
    [YW_ACT_GRANT_REVOKE] = {.own_org = YW_ROLE_STEWARD, .bureau = YW_ROLE_STEWARD, .noun = "grant"},
    [YW_ACT_SUBSCRIPTION_MANAGE] = {.own_org = YW_ROLE_STEWARD, .own_clients = true, .noun = "subscription"},
    [YW_ACT_SUBSCRIPTION_READ] = {.own_org = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .own_clients = true,
                                  .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .noun = "subscription"},
    [YW_ACT_OBJECTION_FILE] = {.own_org = YW_ROLE_STEWARD, .own_clients = true, .noun = "record"},
    [YW_ACT_OBJECTION_READ] = {.own_org = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .own_clients = true,
                               .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .noun = "objection"},
    [YW_ACT_OBJECTION_RESOLVE] = {.own_org = YW_ROLE_STEWARD, .noun = "objection"},
    [YW_ACT_CONFLICT_READ] = {.own_org = YW_ROLE_STEWARD, .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN,
                              .noun = "conflict"},
    [YW_ACT_CONFLICT_REPORT] = {.bureau = YW_ROLE_STEWARD, .noun = "conflict"},
    [YW_ACT_SERVICE_READ] = {.everyone = true, .noun = "service"},
    [YW_ACT_SERVICE_MANAGE] = {.own_org = YW_ROLE_STEWARD, .noun = "service"},
    [YW_ACT_SERVICE_CALL] = {.own_clients = true, .noun = "service"},
    [YW_ACT_SERVICE_MONITOR] = {.own_org = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN | YW_ROLE_MONITOR,
                                .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN | YW_ROLE_MONITOR, .noun = "service"},
    [YW_ACT_SERVICE_CALLS] = {.own_org = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .own_clients = true,
                              .bureau = YW_ROLE_STEWARD | YW_ROLE_ORG_ADMIN, .noun = "service call"},
    [YW_ACT_BACKUP_MANAGE] = {.any_org = YW_ROLE_SYSADMIN, .noun = "backup"},
};

static const char *const role_names[] = {"sysadmin", "secadmin",  "auditor",    "org_admin", "steward",
                                         "clerk",    "approver",  "inspector",  "dispatcher", "monitor"};
#define NROLES (sizeof role_names / sizeof role_names[0])

yw_authz_result yw_authz(const yw_principal *p, yw_action action, const char *object_org, const char *subject)
{
    if ((unsigned)action >= YW_ACT_COUNT || p->kind == YW_PRINCIPAL_NONE)
        return YW_AUTHZ_FORBID;
    const rule *r = &rules[action];
    if (r->everyone)
        return YW_AUTHZ_ALLOW;
    unsigned roles = p->kind == YW_PRINCIPAL_USER ? p->roles : 0;
    if (r->own_clients && p->kind == YW_PRINCIPAL_CLIENT) {
        if (!object_org || (p->org_code && strcmp(object_org, p->org_code) == 0))
            return YW_AUTHZ_ALLOW;
        return YW_AUTHZ_HIDE;
    }
    if (r->self && subject && p->kind == YW_PRINCIPAL_USER && strcmp(subject, p->id) == 0)
        return YW_AUTHZ_ALLOW;
    if (roles & r->any_org)
        return YW_AUTHZ_ALLOW;
    if ((roles & r->bureau) && bureau_code[0] && p->org_code && strcmp(p->org_code, bureau_code) == 0)
        return YW_AUTHZ_ALLOW;
    if (roles & r->own_org) {
        if (!object_org || (p->org_code && strcmp(object_org, p->org_code) == 0))
            return YW_AUTHZ_ALLOW;
        return YW_AUTHZ_HIDE;
    }
    /* Without any role for this action, an object the caller cannot see is
     * hidden rather than forbidden, so probing ids reveals nothing. */
    if (object_org && !(p->org_code && strcmp(object_org, p->org_code) == 0))
        return YW_AUTHZ_HIDE;
    return YW_AUTHZ_FORBID;
}

bool yw_authz_or_reply(yw_req *req, yw_action action, const char *object_org, const char *subject)
{
    switch (yw_authz(&req->principal, action, object_org, subject)) {
    case YW_AUTHZ_ALLOW: return true;
    case YW_AUTHZ_HIDE:
        /* Worded exactly as the handlers word a missing object, so the two cannot be told apart. */
        yw_reply_problem(req, 404, "not_found", "no such %s",
                         (unsigned)action < YW_ACT_COUNT && rules[action].noun ? rules[action].noun : "object");
        return false;
    case YW_AUTHZ_FORBID: break;
    }
    yw_reply_problem(req, 403, "forbidden", "your roles do not allow this");
    return false;
}

bool yw_authz_own_org_only(const yw_principal *p, yw_action action)
{
    if ((unsigned)action >= YW_ACT_COUNT)
        return true;
    const rule *r = &rules[action];
    bool bureau_member = bureau_code[0] && p->org_code && strcmp(p->org_code, bureau_code) == 0;
    return !r->everyone && !(p->kind == YW_PRINCIPAL_USER && (p->roles & r->any_org)) &&
           !(p->kind == YW_PRINCIPAL_USER && bureau_member && (p->roles & r->bureau));
}

unsigned yw_role_bit(const char *name)
{
    for (size_t i = 0; i < NROLES; i++)
        if (strcmp(role_names[i], name) == 0)
            return 1u << i;
    return 0;
}

json_t *yw_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (size_t i = 0; i < NROLES; i++)
        if (roles & (1u << i))
            json_array_append_new(a, json_string(role_names[i]));
    return a;
}

const char *yw_roles_text(unsigned roles, char buf[256])
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NROLES; i++)
        if (roles & (1u << i))
            n += (size_t)snprintf(buf + n, 256 - n, "%s%s", n ? "," : "", role_names[i]);
    return buf;
}

unsigned yw_roles_parse(const char *text)
{
    unsigned roles = 0;
    while (text && *text) {
        size_t len = strcspn(text, ",");
        char name[32];
        if (len < sizeof name) {
            memcpy(name, text, len);
            name[len] = '\0';
            roles |= yw_role_bit(name);
        }
        text += len;
        if (*text == ',')
            text++;
    }
    return roles;
}

int yw_roles_from_json(const json_t *arr, unsigned *out, const char **why)
{
    unsigned roles = 0;
    size_t i;
    const json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        *why = "roles must be a non-empty array of role names";
        return -1;
    }
    json_array_foreach((json_t *)arr, i, v) {
        unsigned bit = json_is_string(v) ? yw_role_bit(json_string_value(v)) : 0;
        if (!bit) {
            *why = "unknown role; use sysadmin, secadmin, auditor, org_admin, steward, clerk, approver, "
                   "inspector, dispatcher or monitor";
            return -1;
        }
        if (roles & bit) {
            *why = "a role is listed twice";
            return -1;
        }
        roles |= bit;
    }
    unsigned platform = roles & YW_ROLES_PLATFORM;
    if (platform && (platform & (platform - 1))) {
        *why = "sysadmin, secadmin and auditor are separate duties: one account holds at most one of them";
        return -1;
    }
    if (platform && (roles & YW_ROLES_ORG)) {
        *why = "a platform administrator (sysadmin, secadmin, auditor) cannot also hold a department role";
        return -1;
    }
    *out = roles;
    return 0;
}

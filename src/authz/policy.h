/*
 * Authorisation: roles and the one policy function every handler calls.
 *
 * Platform roles (sysadmin, secadmin, auditor) are mutually exclusive with
 * each other and with every org role (三员分立), so a platform administrator
 * can never hold a role that reads shared data. Org roles act inside the
 * caller's own department.
 *
 * yw_authz answers for an action on an object of a given org:
 *   ALLOW   go ahead
 *   FORBID  403: the caller may never do this
 *   HIDE    404: the caller could, but not on another org's object, and
 *           must not learn that the object exists
 */
#ifndef YW_AUTHZ_POLICY_H
#define YW_AUTHZ_POLICY_H

#include <jansson.h>
#include <stdbool.h>

#include "http/request.h"

enum {
    YW_ROLE_SYSADMIN = 1u << 0,
    YW_ROLE_SECADMIN = 1u << 1,
    YW_ROLE_AUDITOR = 1u << 2,
    YW_ROLE_ORG_ADMIN = 1u << 3,
    YW_ROLE_STEWARD = 1u << 4,
    YW_ROLE_CLERK = 1u << 5,
    YW_ROLE_APPROVER = 1u << 6,
    YW_ROLE_INSPECTOR = 1u << 7,
    YW_ROLE_DISPATCHER = 1u << 8,
    YW_ROLE_MONITOR = 1u << 9,
};

#define YW_ROLES_PLATFORM (YW_ROLE_SYSADMIN | YW_ROLE_SECADMIN | YW_ROLE_AUDITOR)
#define YW_ROLES_ORG                                                                               \
    (YW_ROLE_ORG_ADMIN | YW_ROLE_STEWARD | YW_ROLE_CLERK | YW_ROLE_APPROVER | YW_ROLE_INSPECTOR |  \
     YW_ROLE_DISPATCHER | YW_ROLE_MONITOR)

typedef enum {
    YW_ACT_ORG_READ,
    YW_ACT_ORG_CREATE,
    YW_ACT_ORG_UPDATE,
    YW_ACT_USER_LIST,
    YW_ACT_USER_READ,
    YW_ACT_USER_CREATE,
    YW_ACT_USER_UPDATE,
    YW_ACT_USER_RESET_PASSWORD,
    YW_ACT_CLIENT_LIST,
    YW_ACT_CLIENT_CREATE,
    YW_ACT_CLIENT_REVOKE,
    YW_ACT_AUDIT_HEAD,   /* the signed tree head: public facts (size, root) */
    YW_ACT_AUDIT_READ,   /* entries and proofs */
    YW_ACT_AUDIT_EXPORT, /* a whole range, for offline verification */
    YW_ACT_ELEMENT_READ,
    YW_ACT_ELEMENT_MANAGE, /* data standards: the sysadmin and the data bureau's stewards */
    YW_ACT_RESOURCE_READ,   /* published resources: everyone; drafts: the provider's people */
    YW_ACT_RESOURCE_MANAGE, /* the provider org's stewards */
    YW_ACT_RECORD_WRITE,    /* the provider org's stewards and systems load and read its records */
    YW_ACT_RECORD_READ,     /* people and systems of a consumer org read records through its grants */
    YW_ACT_SHARE_REQUEST,   /* a consumer org's stewards and systems ask for a resource */
    YW_ACT_SHARE_READ,      /* requests of their own org (as consumer or provider); the data bureau: all */
    YW_ACT_SHARE_DECIDE,    /* the provider org's stewards approve or reject */
    YW_ACT_GRANT_READ,      /* grants of their own org; the data bureau: all */
    YW_ACT_GRANT_REVOKE,    /* the provider org's stewards, and the data bureau's */
    YW_ACT_SUBSCRIPTION_MANAGE, /* a consumer org's stewards and systems subscribe and unsubscribe */
    YW_ACT_SUBSCRIPTION_READ,   /* subscriptions of their own org (either side); the data bureau: all */
    YW_ACT_OBJECTION_FILE,    /* a consumer org's stewards and systems object to a record they were granted */
    YW_ACT_OBJECTION_READ,    /* objections of their own org (as objector or provider); the data bureau: all */
    YW_ACT_OBJECTION_RESOLVE, /* the provider org's stewards accept or reject */
    YW_ACT_CONFLICT_READ,     /* stewards: conflicts involving their org's resources; the data bureau: all */
    YW_ACT_CONFLICT_REPORT,   /* the data bureau's stewards send a conflict to its providers as objections */
    YW_ACT_SERVICE_READ,      /* the directory of registered services: everyone */
    YW_ACT_SERVICE_MANAGE,    /* the provider org's stewards register its services */
    YW_ACT_SERVICE_CALL,      /* department systems call services through the hub */
    YW_ACT_SERVICE_MONITOR,   /* statistics of a service: its provider's people, and the data bureau's */
    YW_ACT_SERVICE_CALLS,     /* calls and their proofs: the stewards, org admins and systems of either party */
    YW_ACT_BACKUP_MANAGE,     /* copies of the database on the server's disk: the sysadmin */
    YW_ACT_COUNT
} yw_action;

typedef enum { YW_AUTHZ_ALLOW, YW_AUTHZ_FORBID, YW_AUTHZ_HIDE } yw_authz_result;

/*
 * May principal p do action on an object of object_org? object_org is NULL
 * for actions on no particular object (list, create): then an org-scoped
 * role is enough, and the handler narrows to the caller's org.
 * subject is the username the action concerns, for rules about oneself.
 */
yw_authz_result yw_authz(const yw_principal *p, yw_action action, const char *object_org, const char *subject);

/*
 * Like yw_authz, and replies 403 or 404 itself when the answer is not
 * ALLOW. Returns true when the handler may go on.
 */
bool yw_authz_or_reply(yw_req *req, yw_action action, const char *object_org, const char *subject);

/* The data bureau's org code (from settings), for the rules that name it. Call once at start. */
void yw_authz_set_bureau(const char *org_code);
/* True when org_code is the data bureau's (false when none is set). */
bool yw_authz_is_bureau(const char *org_code);

/*
 * True when the action, on no particular object, is limited to the caller's
 * own org (false for roles allowed on any org, and for the data bureau's
 * roles that oversee every org).
 */
bool yw_authz_own_org_only(const yw_principal *p, yw_action action);

/* Bit of a role name, 0 when unknown. */
unsigned yw_role_bit(const char *name);
/* Role names of a bit set, as a JSON array (new reference). */
json_t *yw_roles_json(unsigned roles);
/* Comma-separated names (stored form); buf of 256 bytes. */
const char *yw_roles_text(unsigned roles, char buf[256]);
/* Parses the stored comma-separated form. */
unsigned yw_roles_parse(const char *text);

/*
 * Validates a JSON array of role names: known names, no duplicates, at
 * least one role, and separation of duties. Returns 0 and the bit set, or
 * -1 with a sentence in *why.
 */
int yw_roles_from_json(const json_t *arr, unsigned *out, const char **why);

#endif

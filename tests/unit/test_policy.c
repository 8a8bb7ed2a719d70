/*
 * Unit tests of authz/policy.h: role names and their stored and JSON
 * forms, separation of duties (三员分立), and the decisions of yw_authz —
 * ALLOW, FORBID (403) or HIDE (404, another org's object).
 */
#include <criterion/criterion.h>

#include <string.h>

#include "authz/policy.h"

#define BUREAU "11330100002497102C"
#define HEALTH "12330100MB0000000X"
#define POLICE "11330100MB0000001Y"

static const char *const all_roles[] = {"sysadmin", "secadmin",  "auditor",    "org_admin", "steward",
                                        "clerk",    "approver",  "inspector",  "dispatcher", "monitor"};
#define NALL (sizeof all_roles / sizeof all_roles[0])

/* The administrative actions: everything about orgs, users and clients but reading orgs. */
static const yw_action admin_actions[] = {
    YW_ACT_ORG_CREATE,    YW_ACT_ORG_UPDATE,  YW_ACT_USER_LIST,           YW_ACT_USER_READ,
    YW_ACT_USER_CREATE,   YW_ACT_USER_UPDATE, YW_ACT_USER_RESET_PASSWORD, YW_ACT_CLIENT_LIST,
    YW_ACT_CLIENT_CREATE, YW_ACT_CLIENT_REVOKE,
};
#define NADMIN (sizeof admin_actions / sizeof admin_actions[0])

static yw_principal user(const char *name, const char *org, unsigned roles)
{
    return (yw_principal){.kind = YW_PRINCIPAL_USER, .id = name, .org_code = org, .roles = roles};
}

static yw_principal client(const char *id, const char *org)
{
    /* roles on a client are ignored: clients act as systems, not people */
    return (yw_principal){.kind = YW_PRINCIPAL_CLIENT, .id = id, .org_code = org, .roles = YW_ROLE_SECADMIN};
}

static const char *result_name(yw_authz_result r)
{
    return r == YW_AUTHZ_ALLOW ? "ALLOW" : r == YW_AUTHZ_FORBID ? "FORBID" : r == YW_AUTHZ_HIDE ? "HIDE" : "?";
}

#define expect_authz(p, action, org, subject, want)                                                 \
    do {                                                                                           \
        yw_authz_result got_ = yw_authz(&(p), (action), (org), (subject));                         \
        cr_expect_eq(got_, (want), "%s on %s (org %s, subject %s): got %s, want %s", (p).id, #action, \
                     (org) ? (const char *)(org) : "none", (subject) ? (const char *)(subject) : "none", \
                     result_name(got_), result_name(want));                                        \
    } while (0)

/* ---- role names ---------------------------------------------------------- */

Test(roles, names_and_bits)
{
    cr_expect_eq(yw_role_bit("sysadmin"), YW_ROLE_SYSADMIN);
    cr_expect_eq(yw_role_bit("secadmin"), YW_ROLE_SECADMIN);
    cr_expect_eq(yw_role_bit("auditor"), YW_ROLE_AUDITOR);
    cr_expect_eq(yw_role_bit("org_admin"), YW_ROLE_ORG_ADMIN);
    cr_expect_eq(yw_role_bit("steward"), YW_ROLE_STEWARD);
    cr_expect_eq(yw_role_bit("clerk"), YW_ROLE_CLERK);
    cr_expect_eq(yw_role_bit("approver"), YW_ROLE_APPROVER);
    cr_expect_eq(yw_role_bit("inspector"), YW_ROLE_INSPECTOR);
    cr_expect_eq(yw_role_bit("dispatcher"), YW_ROLE_DISPATCHER);
    cr_expect_eq(yw_role_bit("monitor"), YW_ROLE_MONITOR);
    cr_expect_eq(yw_role_bit(""), 0);
    cr_expect_eq(yw_role_bit("Steward"), 0);
    cr_expect_eq(yw_role_bit("steward "), 0);
    cr_expect_eq(yw_role_bit("root"), 0);
}

Test(roles, platform_and_org_sets_partition_the_roles)
{
    unsigned all = 0;
    for (size_t i = 0; i < NALL; i++)
        all |= yw_role_bit(all_roles[i]);
    cr_expect_eq(YW_ROLES_PLATFORM & YW_ROLES_ORG, 0);
    cr_expect_eq(YW_ROLES_PLATFORM | YW_ROLES_ORG, all);
}

Test(roles, text_form)
{
    char buf[256];
    cr_expect_str_eq(yw_roles_text(0, buf), "");
    cr_expect_str_eq(yw_roles_text(YW_ROLE_AUDITOR, buf), "auditor");
    cr_expect_str_eq(yw_roles_text(YW_ROLE_CLERK | YW_ROLE_STEWARD, buf), "steward,clerk");
    cr_expect_eq(yw_roles_parse("steward,clerk"), YW_ROLE_STEWARD | YW_ROLE_CLERK);
    cr_expect_eq(yw_roles_parse("clerk,steward"), YW_ROLE_STEWARD | YW_ROLE_CLERK);
    cr_expect_eq(yw_roles_parse(""), 0);
    cr_expect_eq(yw_roles_parse(NULL), 0);
    /* stored text with a name this build does not know keeps the known ones */
    cr_expect_eq(yw_roles_parse("steward,retired_role"), YW_ROLE_STEWARD);
    cr_expect_eq(yw_roles_parse("a_very_long_name_that_is_not_a_role_at_all,clerk"), YW_ROLE_CLERK);
}

Test(roles, text_and_json_round_trip_for_every_set)
{
    for (unsigned r = 0; r < (1u << NALL); r++) {
        char buf[256];
        cr_assert_eq(yw_roles_parse(yw_roles_text(r, buf)), r, "text round trip of %#x via '%s'", r, buf);
        json_t *a = yw_roles_json(r);
        cr_assert(json_is_array(a));
        cr_assert_eq(json_array_size(a), (size_t)__builtin_popcount(r));
        unsigned back = 0;
        const char *why = NULL;
        int rc = yw_roles_from_json(a, &back, &why);
        unsigned platform = r & YW_ROLES_PLATFORM;
        int legal = r != 0 && (platform == 0 || (!(platform & (platform - 1)) && !(r & YW_ROLES_ORG)));
        if (legal) {
            cr_assert_eq(rc, 0, "legal set %#x rejected: %s", r, why);
            cr_assert_eq(back, r);
        } else {
            cr_assert_eq(rc, -1, "illegal set %#x accepted", r);
            cr_assert_not_null(why);
        }
        json_decref(a);
    }
}

/* Parses a JSON array literal and runs yw_roles_from_json on it. */
static int from_json(const char *text, unsigned *out, const char **why)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    cr_assert_not_null(v, "bad test JSON %s", text);
    *why = NULL;
    int rc = yw_roles_from_json(v, out, why);
    json_decref(v);
    return rc;
}

Test(roles, from_json_accepts_legal_sets)
{
    unsigned r = 0;
    const char *why;
    cr_expect_eq(from_json("[\"org_admin\",\"steward\"]", &r, &why), 0, "%s", why);
    cr_expect_eq(r, YW_ROLE_ORG_ADMIN | YW_ROLE_STEWARD);
    cr_expect_eq(from_json("[\"auditor\"]", &r, &why), 0, "%s", why);
    cr_expect_eq(r, YW_ROLE_AUDITOR);
}

Test(roles, from_json_rejects_bad_lists_with_a_reason)
{
    const char *bad[] = {
        "[\"root\"]",                  /* unknown */
        "[\"clerk\",\"Clerk\"]",       /* unknown (case) */
        "[\"clerk\",\"clerk\"]",       /* duplicate */
        "[]",                          /* empty */
        "[\"sysadmin\",\"auditor\"]",  /* two platform roles */
        "[\"secadmin\",\"sysadmin\"]", /* two platform roles */
        "[\"secadmin\",\"org_admin\"]", /* platform + org role */
        "[\"auditor\",\"monitor\"]",   /* platform + org role */
        "[1]",                         /* not a string */
        "[null]",
        "\"steward\"",                 /* not an array */
        "{\"steward\":true}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned r = 0xdead;
        const char *why;
        cr_expect_eq(from_json(bad[i], &r, &why), -1, "%s accepted", bad[i]);
        cr_expect(why && *why, "no reason for %s", bad[i]);
        cr_expect_eq(r, 0xdead, "%s wrote a result", bad[i]);
    }
    unsigned r;
    const char *why = NULL;
    cr_expect_eq(yw_roles_from_json(NULL, &r, &why), -1);
}

Test(roles, reasons_tell_the_cases_apart)
{
    unsigned r;
    const char *unknown, *dup, *two, *mixed;
    from_json("[\"root\"]", &r, &unknown);
    from_json("[\"clerk\",\"clerk\"]", &r, &dup);
    from_json("[\"sysadmin\",\"auditor\"]", &r, &two);
    from_json("[\"sysadmin\",\"clerk\"]", &r, &mixed);
    cr_expect_str_neq(unknown, dup);
    cr_expect_str_neq(two, mixed);
    cr_expect_str_neq(unknown, mixed);
}

/* ---- decisions ----------------------------------------------------------- */

Test(authz, everyone_may_read_orgs)
{
    yw_principal ps[] = {user("sys", BUREAU, YW_ROLE_SYSADMIN), user("aud", BUREAU, YW_ROLE_AUDITOR),
                         user("zhang", HEALTH, YW_ROLE_CLERK), user("nobody", HEALTH, 0),
                         client(HEALTH "/his", HEALTH)};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        expect_authz(ps[i], YW_ACT_ORG_READ, NULL, NULL, YW_AUTHZ_ALLOW);
        expect_authz(ps[i], YW_ACT_ORG_READ, POLICE, NULL, YW_AUTHZ_ALLOW);
    }
}

Test(authz, anonymous_callers_may_do_nothing)
{
    yw_principal anon = {.kind = YW_PRINCIPAL_NONE, .id = "anonymous", .roles = YW_ROLE_SYSADMIN};
    for (int a = 0; a < YW_ACT_COUNT; a++)
        cr_expect_eq(yw_authz(&anon, (yw_action)a, NULL, NULL), YW_AUTHZ_FORBID, "action %d", a);
}

Test(authz, sysadmin_manages_orgs_but_not_users)
{
    yw_principal sys = user("sys", BUREAU, YW_ROLE_SYSADMIN);
    expect_authz(sys, YW_ACT_ORG_CREATE, NULL, NULL, YW_AUTHZ_ALLOW);
    expect_authz(sys, YW_ACT_ORG_UPDATE, HEALTH, NULL, YW_AUTHZ_ALLOW);
    expect_authz(sys, YW_ACT_USER_LIST, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(sys, YW_ACT_USER_CREATE, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(sys, YW_ACT_CLIENT_CREATE, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(sys, YW_ACT_USER_UPDATE, BUREAU, "sec", YW_AUTHZ_FORBID);
    expect_authz(sys, YW_ACT_USER_RESET_PASSWORD, BUREAU, "sec", YW_AUTHZ_FORBID);
    /* another org's user is not even visible */
    expect_authz(sys, YW_ACT_USER_READ, HEALTH, "zhang", YW_AUTHZ_HIDE);
}

Test(authz, secadmin_manages_users_and_clients_of_any_org)
{
    yw_principal sec = user("sec", BUREAU, YW_ROLE_SECADMIN);
    const yw_action acts[] = {YW_ACT_USER_LIST,           YW_ACT_USER_READ,   YW_ACT_USER_CREATE,
                              YW_ACT_USER_UPDATE,         YW_ACT_CLIENT_LIST, YW_ACT_CLIENT_CREATE,
                              YW_ACT_USER_RESET_PASSWORD, YW_ACT_CLIENT_REVOKE};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        expect_authz(sec, acts[i], NULL, NULL, YW_AUTHZ_ALLOW);
        expect_authz(sec, acts[i], HEALTH, "zhang", YW_AUTHZ_ALLOW);
        expect_authz(sec, acts[i], BUREAU, "sys", YW_AUTHZ_ALLOW);
    }
    expect_authz(sec, YW_ACT_ORG_CREATE, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(sec, YW_ACT_ORG_UPDATE, BUREAU, NULL, YW_AUTHZ_FORBID);
    cr_expect_not(yw_authz_own_org_only(&sec, YW_ACT_USER_LIST), "a secadmin's lists span every org");
}

Test(authz, auditor_administers_nothing)
{
    yw_principal aud = user("aud", BUREAU, YW_ROLE_AUDITOR);
    for (size_t i = 0; i < NADMIN; i++)
        cr_expect_eq(yw_authz(&aud, admin_actions[i], NULL, NULL), YW_AUTHZ_FORBID, "auditor allowed action %d",
                     admin_actions[i]);
}

Test(authz, org_admin_manages_its_own_org_only)
{
    yw_principal adm = user("health_admin", HEALTH, YW_ROLE_ORG_ADMIN);
    const yw_action acts[] = {YW_ACT_USER_LIST,   YW_ACT_USER_READ,     YW_ACT_USER_CREATE,
                              YW_ACT_USER_UPDATE, YW_ACT_USER_RESET_PASSWORD, YW_ACT_CLIENT_LIST,
                              YW_ACT_CLIENT_CREATE, YW_ACT_CLIENT_REVOKE};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        expect_authz(adm, acts[i], HEALTH, "zhang", YW_AUTHZ_ALLOW);
        expect_authz(adm, acts[i], NULL, NULL, YW_AUTHZ_ALLOW);
        expect_authz(adm, acts[i], POLICE, "li", YW_AUTHZ_HIDE);
        expect_authz(adm, acts[i], BUREAU, "sec", YW_AUTHZ_HIDE);
    }
    cr_expect(yw_authz_own_org_only(&adm, YW_ACT_USER_LIST), "an org_admin's lists must be narrowed");
    cr_expect(yw_authz_own_org_only(&adm, YW_ACT_CLIENT_LIST));
    expect_authz(adm, YW_ACT_ORG_CREATE, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(adm, YW_ACT_ORG_UPDATE, HEALTH, NULL, YW_AUTHZ_FORBID);
}

Test(authz, steward_cannot_manage_users)
{
    yw_principal st = user("wang", HEALTH, YW_ROLE_STEWARD | YW_ROLE_CLERK);
    expect_authz(st, YW_ACT_USER_READ, HEALTH, "zhang", YW_AUTHZ_FORBID);
    expect_authz(st, YW_ACT_USER_UPDATE, HEALTH, "zhang", YW_AUTHZ_FORBID);
    expect_authz(st, YW_ACT_CLIENT_REVOKE, HEALTH, NULL, YW_AUTHZ_FORBID);
    expect_authz(st, YW_ACT_USER_LIST, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(st, YW_ACT_USER_CREATE, NULL, NULL, YW_AUTHZ_FORBID);
    /* another org's objects are hidden, not forbidden: probing reveals nothing */
    expect_authz(st, YW_ACT_USER_READ, POLICE, "li", YW_AUTHZ_HIDE);
    expect_authz(st, YW_ACT_USER_UPDATE, POLICE, "li", YW_AUTHZ_HIDE);
    expect_authz(st, YW_ACT_CLIENT_REVOKE, POLICE, NULL, YW_AUTHZ_HIDE);
    cr_expect(yw_authz_own_org_only(&st, YW_ACT_USER_LIST));
}

Test(authz, users_may_read_themselves)
{
    yw_principal zhang = user("zhang", HEALTH, YW_ROLE_CLERK);
    expect_authz(zhang, YW_ACT_USER_READ, HEALTH, "zhang", YW_AUTHZ_ALLOW);
    expect_authz(zhang, YW_ACT_USER_READ, HEALTH, "zhang2", YW_AUTHZ_FORBID);
    expect_authz(zhang, YW_ACT_USER_READ, HEALTH, "Zhang", YW_AUTHZ_FORBID);
    /* reading oneself does not extend to changing oneself through admin actions */
    expect_authz(zhang, YW_ACT_USER_UPDATE, HEALTH, "zhang", YW_AUTHZ_FORBID);
    expect_authz(zhang, YW_ACT_USER_RESET_PASSWORD, HEALTH, "zhang", YW_AUTHZ_FORBID);
    /* a user without roles still reads themselves */
    yw_principal bare = user("bare", HEALTH, 0);
    expect_authz(bare, YW_ACT_USER_READ, HEALTH, "bare", YW_AUTHZ_ALLOW);
}

Test(authz, clients_are_forbidden_admin_actions)
{
    yw_principal c = client(HEALTH "/his", HEALTH);
    for (size_t i = 0; i < NADMIN; i++) {
        yw_action a = admin_actions[i];
        cr_expect_eq(yw_authz(&c, a, NULL, NULL), YW_AUTHZ_FORBID, "client allowed action %d", a);
        cr_expect_eq(yw_authz(&c, a, HEALTH, NULL), YW_AUTHZ_FORBID, "client allowed action %d", a);
        cr_expect_eq(yw_authz(&c, a, POLICE, NULL), YW_AUTHZ_HIDE, "client saw action %d elsewhere", a);
    }
    /* a client whose id equals a username is not that user */
    yw_principal named = client("zhang", HEALTH);
    expect_authz(named, YW_ACT_USER_READ, HEALTH, "zhang", YW_AUTHZ_FORBID);
    cr_expect(yw_authz_own_org_only(&c, YW_ACT_USER_LIST));
}

Test(authz, unknown_actions_are_forbidden)
{
    yw_principal sec = user("sec", BUREAU, YW_ROLE_SECADMIN);
    cr_expect_eq(yw_authz(&sec, YW_ACT_COUNT, NULL, NULL), YW_AUTHZ_FORBID);
    cr_expect_eq(yw_authz(&sec, (yw_action)1000, NULL, NULL), YW_AUTHZ_FORBID);
    cr_expect(yw_authz_own_org_only(&sec, YW_ACT_COUNT));
}

Test(authz, a_user_without_an_org_sees_no_org_objects)
{
    yw_principal adm = user("orphan", NULL, YW_ROLE_ORG_ADMIN);
    expect_authz(adm, YW_ACT_USER_READ, HEALTH, "x", YW_AUTHZ_HIDE);
}

Test(authz, audit_trail_access)
{
    yw_principal aud = user("aud", BUREAU, YW_ROLE_AUDITOR);
    yw_principal sys = user("sys", BUREAU, YW_ROLE_SYSADMIN);
    yw_principal sec = user("sec", BUREAU, YW_ROLE_SECADMIN);
    yw_principal adm = user("health_admin", HEALTH, YW_ROLE_ORG_ADMIN);
    yw_principal clerk = user("zhang", HEALTH, YW_ROLE_CLERK);
    yw_principal c = client(HEALTH "/his", HEALTH);

    /* the signed tree head is public to every caller */
    expect_authz(clerk, YW_ACT_AUDIT_HEAD, NULL, NULL, YW_AUTHZ_ALLOW);
    expect_authz(c, YW_ACT_AUDIT_HEAD, NULL, NULL, YW_AUTHZ_ALLOW);

    /* the auditor reads and exports everything */
    expect_authz(aud, YW_ACT_AUDIT_READ, NULL, NULL, YW_AUTHZ_ALLOW);
    expect_authz(aud, YW_ACT_AUDIT_READ, POLICE, NULL, YW_AUTHZ_ALLOW);
    expect_authz(aud, YW_ACT_AUDIT_EXPORT, NULL, NULL, YW_AUTHZ_ALLOW);
    cr_expect_not(yw_authz_own_org_only(&aud, YW_ACT_AUDIT_READ));

    /* the other two platform administrators do not read the trail (三员分立) */
    expect_authz(sys, YW_ACT_AUDIT_READ, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(sec, YW_ACT_AUDIT_READ, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(sys, YW_ACT_AUDIT_EXPORT, NULL, NULL, YW_AUTHZ_FORBID);
    expect_authz(sec, YW_ACT_AUDIT_EXPORT, NULL, NULL, YW_AUTHZ_FORBID);

    /* an org admin reads what its own org did, nothing else, and exports nothing */
    expect_authz(adm, YW_ACT_AUDIT_READ, HEALTH, NULL, YW_AUTHZ_ALLOW);
    expect_authz(adm, YW_ACT_AUDIT_READ, NULL, NULL, YW_AUTHZ_ALLOW);
    cr_expect(yw_authz_own_org_only(&adm, YW_ACT_AUDIT_READ));
    expect_authz(adm, YW_ACT_AUDIT_READ, POLICE, NULL, YW_AUTHZ_HIDE);
    expect_authz(adm, YW_ACT_AUDIT_EXPORT, NULL, NULL, YW_AUTHZ_FORBID);

    /* ordinary users and clients read no audit entries */
    expect_authz(clerk, YW_ACT_AUDIT_READ, HEALTH, NULL, YW_AUTHZ_FORBID);
    expect_authz(c, YW_ACT_AUDIT_READ, HEALTH, NULL, YW_AUTHZ_FORBID);
    expect_authz(c, YW_ACT_AUDIT_EXPORT, NULL, NULL, YW_AUTHZ_FORBID);
}

Test(authz, is_bureau_names_only_the_bureau)
{
    yw_authz_set_bureau(NULL);
    cr_expect(!yw_authz_is_bureau(BUREAU), "no bureau set: nobody is it");
    cr_expect(!yw_authz_is_bureau(""));
    yw_authz_set_bureau(BUREAU);
    cr_expect(yw_authz_is_bureau(BUREAU));
    cr_expect(!yw_authz_is_bureau(HEALTH));
    cr_expect(!yw_authz_is_bureau(NULL));
    cr_expect(!yw_authz_is_bureau(""));
}

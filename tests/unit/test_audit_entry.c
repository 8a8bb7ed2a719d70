/*
 * Audit entries: the hand-written canonical serialization must be byte for
 * byte what jansson writes with JSON_COMPACT | JSON_SORT_KEYS (the form
 * docs/audit.md documents), including escapes and UTF-8.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit/entry.h"
#include "core/time.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The same entry built with jansson. */
static char *reference(const yw_audit_event *e, uint64_t seq, int64_t time_ms)
{
    char when[40];
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "time", json_string(yw_time_format(time_ms, when, sizeof when)));
    json_object_set_new(o, "actor", str_or_null(e->actor));
    json_object_set_new(o, "actor_kind", json_string(e->actor_kind ? e->actor_kind : "anonymous"));
    json_object_set_new(o, "actor_org", str_or_null(e->actor_org));
    json_object_set_new(o, "action", str_or_null(e->action));
    json_object_set_new(o, "stage", str_or_null(e->stage));
    json_object_set_new(o, "object_type", str_or_null(e->object_type));
    json_object_set_new(o, "object_ids", json_loads(e->object_ids ? e->object_ids : "[]", 0, NULL));
    json_object_set_new(o, "items", json_loads(e->items ? e->items : "[]", 0, NULL));
    json_object_set_new(o, "purpose", str_or_null(e->purpose));
    json_object_set_new(o, "result", json_string(yw_audit_result(e->status)));
    json_object_set_new(o, "status", json_integer(e->status));
    json_object_set_new(o, "request_id", str_or_null(e->request_id));
    json_object_set_new(o, "client", str_or_null(e->client));
    json_object_set_new(o, "request_sha256", str_or_null(e->request_sha256));
    json_object_set_new(o, "response_sha256", str_or_null(e->response_sha256));
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

static void check(const yw_audit_event *e, uint64_t seq, int64_t t)
{
    yw_buf b = YW_BUF_INIT;
    yw_audit_entry_write(e, seq, t, &b);
    char *want = reference(e, seq, t);
    cr_assert_str_eq(b.data, want);
    free(want);
    yw_buf_free(&b);
}

Test(audit_entry, matches_jansson_for_plain_fields)
{
    yw_audit_event e = {.actor = "gaj_admin", .actor_kind = "user", .actor_org = "113301000024971107",
                        .action = "user.create", .object_type = "user", .object_ids = "[\"li.si\"]", .status = 201,
                        .request_id = "abc123", .client = "127.0.0.1"};
    check(&e, 0, 1795731284872);
    check(&e, 12345678901ULL, 1);
}

Test(audit_entry, matches_jansson_for_escapes_unicode_and_nulls)
{
    yw_audit_event e = {.actor = "名字\"quoted\"\\back\nline\ttab\x01\x1f/slash", .action = NULL,
                        .object_ids = "[\"330106********1234\",\"第二\"]", .items = "[\"name\",\"birth_date\"]",
                        .purpose = "共享 \u2028 separator", .status = 403,
                        .request_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    check(&e, 7, 1795731284000);
}

Test(audit_entry, results_follow_the_status)
{
    cr_assert_str_eq(yw_audit_result(200), "ok");
    cr_assert_str_eq(yw_audit_result(204), "ok");
    cr_assert_str_eq(yw_audit_result(401), "denied");
    cr_assert_str_eq(yw_audit_result(403), "denied");
    cr_assert_str_eq(yw_audit_result(404), "denied");
    cr_assert_str_eq(yw_audit_result(429), "denied");
    cr_assert_str_eq(yw_audit_result(400), "error");
    cr_assert_str_eq(yw_audit_result(422), "error");
    cr_assert_str_eq(yw_audit_result(503), "error");
}

Test(audit_entry, arrays_are_written_canonically)
{
    json_t *arr = json_pack("[s,s]", "a\"b", "中");
    yw_buf b = YW_BUF_INIT;
    yw_audit_json_array(arr, &b);
    char *want = json_dumps(arr, JSON_COMPACT);
    cr_assert_str_eq(b.data, want);
    free(want);
    yw_buf_free(&b);
    json_decref(arr);
    yw_audit_json_array(NULL, &b);
    cr_assert_str_eq(b.data, "[]");
    yw_buf_free(&b);
}

/* The stored form holds the values only; the canonical form rebuilt from it is the one written. */
static void check_round_trip(const yw_audit_event *e, uint64_t seq, int64_t t)
{
    yw_buf canonical = YW_BUF_INIT, stored = YW_BUF_INIT, rebuilt = YW_BUF_INIT;
    yw_audit_entry_encode(e, seq, t, &canonical, &stored);
    char *want = reference(e, seq, t);
    cr_assert_str_eq(canonical.data, want);
    yw_audit_values v;
    cr_assert_eq(yw_audit_values_parse(stored.data, stored.len, &v), (long)stored.len, "%s", stored.data);
    yw_audit_values_canonical(&v, seq, &rebuilt);
    cr_assert_str_eq(rebuilt.data, want);
    cr_assert_lt(stored.len, canonical.len);
    free(want);
    yw_buf_free(&canonical);
    yw_buf_free(&stored);
    yw_buf_free(&rebuilt);
}

Test(audit_entry, the_stored_form_rebuilds_the_canonical_form)
{
    yw_audit_event plain = {.actor = "gaj_admin", .actor_kind = "user", .actor_org = "113301000024971107",
                            .action = "user.create", .object_type = "user", .object_ids = "[\"li.si\"]", .status = 201,
                            .request_id = "abc123", .client = "127.0.0.1"};
    check_round_trip(&plain, 0, 1795731284872);
    check_round_trip(&plain, 12345678901ULL, 1);
    yw_audit_event odd = {.actor = "名字\"quoted\"\\back\nline\ttab\x01\x1f/slash", .action = NULL,
                          .object_ids = "[\"330106********1234\",\"第二\"]", .items = "[\"name\",\"birth_date\"]",
                          .purpose = "共享 \u2028 separator", .status = -7, .stage = "share",
                          .request_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    check_round_trip(&odd, 7, 1795731284000);
}

Test(audit_entry, stored_values_compare_with_literals)
{
    yw_audit_event e = {.actor = "a\"b", .actor_kind = "user", .action = "record.read",
                        .object_ids = "[\"x\",\"y\\\"z\"]", .status = 404};
    yw_buf canonical = YW_BUF_INIT, stored = YW_BUF_INIT;
    yw_audit_entry_encode(&e, 3, 5, &canonical, &stored);
    yw_audit_values v;
    cr_assert_gt(yw_audit_values_parse(stored.data, stored.len, &v), 0);
    cr_expect(yw_audit_value_is(&v, YW_AUDIT_ACTOR, "\"a\\\"b\"", 6));
    cr_expect(!yw_audit_value_is(&v, YW_AUDIT_ACTOR, "\"a\"", 3));
    cr_expect(yw_audit_value_is(&v, YW_AUDIT_ACTOR_ORG, "null", 4));
    cr_expect(yw_audit_value_contains(&v, YW_AUDIT_OBJECT_IDS, "\"x\"", 3));
    cr_expect(yw_audit_value_contains(&v, YW_AUDIT_OBJECT_IDS, "\"y\\\"z\"", 6));
    cr_expect(!yw_audit_value_contains(&v, YW_AUDIT_OBJECT_IDS, "\"y\"", 3));
    cr_expect_eq(v.status, 404);
    cr_expect_eq(v.time_ms, 5);
    yw_buf_free(&canonical);
    yw_buf_free(&stored);
}

Test(audit_entry, malformed_stored_entries_are_refused)
{
    const char *bad[] = {
        "",
        "[]",
        "[\"a\",null,\"user\",null,null,[],[],null,null,null,null,null,null,200]",            /* a value short */
        "[\"a\",null,\"user\",null,null,[],[],null,null,null,null,null,null,200,1,2]",        /* one too many */
        "[\"a\",null,null,null,null,[],[],null,null,null,null,null,null,200,1]",              /* actor_kind null */
        "[\"a\",null,\"user\",null,null,[],[],null,null,null,null,null,null,0200,1]",         /* not canonical */
        "[\"a\",null,\"user\",null,null,[1],[],null,null,null,null,null,null,200,1]",         /* not strings */
        "[\"a\",null,\"user\",null,null,[],[],null,null,null,null,null,null,200,1",           /* unclosed */
        "[\"a,null,\"user\",null,null,[],[],null,null,null,null,null,null,200,1]",            /* string unclosed */
        "[\"a\", null,\"user\",null,null,[],[],null,null,null,null,null,null,200,1]",         /* whitespace */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        yw_audit_values v;
        cr_expect_lt(yw_audit_values_parse(bad[i], strlen(bad[i]), &v), 0, "accepted: %s", bad[i]);
    }
    const char *good = "[\"a\",null,\"user\",null,null,[],[],null,null,null,null,null,null,200,1]";
    yw_audit_values v;
    cr_expect_eq(yw_audit_values_parse(good, strlen(good), &v), (long)strlen(good));
}

Test(audit_entry, escapes_are_found_at_every_position_of_long_strings)
{
    const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', '\x7f'};
    for (size_t s = 0; s < sizeof specials; s++) {
        for (int at = 0; at < 41; at++) {
            char text[48];
            memset(text, 'a', 41);
            text[at] = specials[s];
            memcpy(text + 41, "中", sizeof "中"); /* and UTF-8 at the end: not escaped */
            yw_audit_event e = {.actor = text, .action = "x", .status = 200};
            check(&e, 1, 1795731284000);
        }
    }
}

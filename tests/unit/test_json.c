/*
 * Unit tests of core/json.h: the bounded parser every request body goes
 * through (depth limit, malformed text, duplicate keys, NUL characters)
 * and yw_json_check, which enforces the field table of an endpoint.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* depth levels of nested arrays around a number: "[[1]]" for 2. */
static char *nested_arrays(int depth)
{
    char *s = malloc((size_t)depth * 2 + 2);
    cr_assert_not_null(s);
    memset(s, '[', (size_t)depth);
    s[depth] = '1';
    memset(s + depth + 1, ']', (size_t)depth);
    s[2 * depth + 1] = '\0';
    return s;
}

/* depth levels alternating objects and arrays: {"a":[{"a":[...]}]}. */
static char *nested_mixed(int depth)
{
    size_t cap = (size_t)depth * 8 + 8, n = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    for (int i = 0; i < depth; i++)
        n += (size_t)(i % 2 == 0 ? snprintf(s + n, cap - n, "{\"a\":") : snprintf(s + n, cap - n, "["));
    n += (size_t)snprintf(s + n, cap - n, "true");
    for (int i = depth - 1; i >= 0; i--)
        n += (size_t)snprintf(s + n, cap - n, i % 2 == 0 ? "}" : "]");
    return s;
}

static json_t *parse(const char *text, char *err, size_t errlen)
{
    err[0] = '\0';
    return yw_json_parse(text, strlen(text), YW_JSON_MAX_DEPTH, err, errlen);
}

/* ---- depth -------------------------------------------------------------- */

Test(json_depth, counts_nesting_of_the_text)
{
    cr_expect_eq(yw_json_depth("", 0), 0);
    cr_expect_eq(yw_json_depth("1", 1), 0);
    cr_expect_eq(yw_json_depth("[]", 2), 1);
    cr_expect_eq(yw_json_depth("{}", 2), 1);
    cr_expect_eq(yw_json_depth("[{}]", 4), 2);
    cr_expect_eq(yw_json_depth("[[],[]]", 7), 2);
    cr_expect_eq(yw_json_depth("{\"a\":[1,{\"b\":[]}]}", 19), 4);
}

Test(json_depth, ignores_brackets_inside_strings)
{
    const char *s = "[\"[[[[{{{{\", \"]]]}}}\", {\"k[{\": \"}\"}]";
    cr_expect_eq(yw_json_depth(s, strlen(s)), 2);
    /* an escaped quote does not end the string */
    const char *t = "[\"\\\"[[[[[\"]";
    cr_expect_eq(yw_json_depth(t, strlen(t)), 1);
    /* an escaped backslash does end it before the quote */
    const char *u = "[\"\\\\\", [[]]]";
    cr_expect_eq(yw_json_depth(u, strlen(u)), 3);
}

Test(json_parse, accepts_depth_32)
{
    char err[256];
    char *arrays = nested_arrays(32), *mixed = nested_mixed(32);
    json_t *a = parse(arrays, err, sizeof err);
    cr_expect_not_null(a, "32 nested arrays rejected: %s", err);
    json_t *m = parse(mixed, err, sizeof err);
    cr_expect_not_null(m, "32 nested objects/arrays rejected: %s", err);
    json_decref(a);
    json_decref(m);
    free(arrays);
    free(mixed);
}

Test(json_parse, rejects_depth_33_with_a_message)
{
    char err[256];
    char *arrays = nested_arrays(33), *mixed = nested_mixed(33);
    json_t *a = parse(arrays, err, sizeof err);
    cr_expect_null(a);
    cr_expect(strstr(err, "32") != NULL, "message should name the limit: '%s'", err);
    json_t *m = parse(mixed, err, sizeof err);
    cr_expect_null(m);
    cr_expect(err[0] != '\0');
    json_decref(a);
    json_decref(m);
    free(arrays);
    free(mixed);
}

Test(json_parse, rejects_very_deep_nesting_without_recursing)
{
    /* Far beyond jansson's own limit; must fail fast and cleanly. */
    char err[256];
    char *deep = nested_arrays(100000);
    cr_expect_null(parse(deep, err, sizeof err));
    free(deep);
}

Test(json_parse, brackets_inside_strings_do_not_count)
{
    char err[256];
    char s[200];
    /* 40 brackets inside a string, depth 1 */
    snprintf(s, sizeof s, "{\"k\": \"%s\"}", "[[[[[[[[[[{{{{{{{{{{[[[[[[[[[[{{{{{{{{{{");
    json_t *v = parse(s, err, sizeof err);
    cr_assert_not_null(v, "rejected: %s", err);
    cr_expect_eq(strlen(yw_json_str(v, "k")), 40);
    json_decref(v);
}

Test(json_parse, limit_is_the_callers)
{
    char err[256];
    cr_expect_null(yw_json_parse("[[1]]", 5, 1, err, sizeof err));
    json_t *v = yw_json_parse("[[1]]", 5, 2, err, sizeof err);
    cr_expect_not_null(v);
    json_decref(v);
}

/* ---- malformed text ----------------------------------------------------- */

Test(json_parse, rejects_malformed_text_with_a_message)
{
    const char *bad[] = {
        "",          "{",           "{\"a\":}",  "{\"a\":1,}", "[1 2]",       "{'a':1}",
        "{a:1}",     "\"unterminated", "{} x", "[1]]",      "]]][[[",      "{\"a\":01}",
        "[NaN]",     "[1,]",        "nul",      "{\"a\" 1}", "[\"\\x\"]",  "[\"\x01\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256];
        json_t *v = parse(bad[i], err, sizeof err);
        cr_expect_null(v, "'%s' was accepted", bad[i]);
        cr_expect(err[0] != '\0', "no message for '%s'", bad[i]);
        json_decref(v);
    }
}

Test(json_parse, malformed_message_says_where)
{
    char err[256];
    cr_assert_null(parse("{\n\"a\": ]\n}", err, sizeof err));
    cr_expect(strstr(err, "line 2") != NULL, "message should give the line: '%s'", err);
}

Test(json_parse, rejects_duplicate_keys)
{
    char err[256];
    cr_expect_null(parse("{\"a\":1,\"a\":2}", err, sizeof err));
    cr_expect(err[0] != '\0');
    cr_expect_null(parse("{\"x\":{\"b\":1,\"c\":2,\"b\":1}}", err, sizeof err), "nested duplicate accepted");
    /* same key in different objects is fine */
    json_t *v = parse("[{\"a\":1},{\"a\":2}]", err, sizeof err);
    cr_expect_not_null(v, "%s", err);
    json_decref(v);
}

Test(json_parse, rejects_nul_characters)
{
    char err[256];
    cr_expect_null(parse("{\"a\":\"x\\u0000y\"}", err, sizeof err), "escaped NUL accepted");
    const char raw[] = "{\"a\":\"x\0y\"}";
    cr_expect_null(yw_json_parse(raw, sizeof raw - 1, 32, err, sizeof err), "raw NUL accepted");
}

Test(json_parse, parses_only_the_given_length)
{
    char err[256];
    const char *s = "{\"a\":1}garbage";
    json_t *v = yw_json_parse(s, 7, 32, err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    cr_expect_eq(json_integer_value(json_object_get(v, "a")), 1);
    json_decref(v);
}

Test(json_parse, keeps_utf8)
{
    char err[256];
    json_t *v = parse("{\"name\":\"公民身份号码\",\"e\":\"\\u5f20\"}", err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    cr_expect_str_eq(yw_json_str(v, "name"), "公民身份号码");
    cr_expect_str_eq(yw_json_str(v, "e"), "张");
    json_decref(v);
    cr_expect_null(parse("{\"a\":\"\xff\xfe\"}", err, sizeof err), "invalid UTF-8 accepted");
}

/* ---- yw_json_check -------------------------------------------------------- */

static const yw_json_field fields[] = {
    {"name", YW_JSON_STRING, true, 8},
    {"note", YW_JSON_STRING, false, 0},
    {"age", YW_JSON_INTEGER, false, 0},
    {"admin", YW_JSON_BOOLEAN, false, 0},
    {"tags", YW_JSON_STRINGS, false, 3},
    {"items", YW_JSON_ARRAY, false, 2},
    {"meta", YW_JSON_OBJECT, false, 2},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Runs yw_json_check on text; returns its result and leaves the message in err. */
static int check(const char *text, char *err, size_t errlen)
{
    char perr[256];
    json_t *v = yw_json_parse(text, strlen(text), 32, perr, sizeof perr);
    cr_assert_not_null(v, "test body does not parse: %s: %s", text, perr);
    err[0] = '\0';
    int rc = yw_json_check(v, fields, NFIELDS, err, errlen);
    json_decref(v);
    return rc;
}

static void expect_ok(const char *text)
{
    char err[256];
    cr_expect_eq(check(text, err, sizeof err), 0, "%s rejected: %s", text, err);
}

/* Expects rejection with a message containing each of the given words. */
static void expect_rejected(const char *text, const char *word1, const char *word2)
{
    char err[256];
    cr_expect_eq(check(text, err, sizeof err), -1, "%s accepted", text);
    cr_expect(err[0] != '\0', "no message for %s", text);
    if (word1)
        cr_expect(strstr(err, word1) != NULL, "message for %s lacks '%s': '%s'", text, word1, err);
    if (word2)
        cr_expect(strstr(err, word2) != NULL, "message for %s lacks '%s': '%s'", text, word2, err);
}

Test(json_check, accepts_a_conforming_object)
{
    expect_ok("{\"name\":\"abc\"}");
    expect_ok("{\"name\":\"abc\",\"age\":30,\"admin\":false,\"tags\":[\"a\",\"b\"],\"items\":[1,{}],"
              "\"meta\":{\"k\":1},\"note\":\"\"}");
    expect_ok("{\"tags\":[],\"items\":[],\"meta\":{},\"name\":\"\"}");
}

Test(json_check, rejects_unknown_fields_naming_them)
{
    expect_rejected("{\"name\":\"a\",\"nick\":\"b\"}", "unknown", "nick");
    expect_rejected("{\"name\":\"a\",\"Name\":\"b\"}", "Name", NULL); /* names are case-sensitive */
}

Test(json_check, rejects_missing_required_fields)
{
    expect_rejected("{}", "name", "required");
    expect_rejected("{\"age\":3}", "name", "required");
}

Test(json_check, rejects_wrong_types_naming_the_field)
{
    expect_rejected("{\"name\":5}", "name", "string");
    expect_rejected("{\"name\":null}", "name", NULL);
    expect_rejected("{\"name\":\"a\",\"age\":\"30\"}", "age", "integer");
    expect_rejected("{\"name\":\"a\",\"age\":30.5}", "age", "integer");
    expect_rejected("{\"name\":\"a\",\"age\":30.0}", "age", "integer");
    expect_rejected("{\"name\":\"a\",\"admin\":1}", "admin", NULL);
    expect_rejected("{\"name\":\"a\",\"admin\":\"true\"}", "admin", NULL);
    expect_rejected("{\"name\":\"a\",\"tags\":\"x\"}", "tags", NULL);
    expect_rejected("{\"name\":\"a\",\"items\":{}}", "items", "array");
    expect_rejected("{\"name\":\"a\",\"meta\":[]}", "meta", "object");
}

Test(json_check, rejects_strings_longer_than_their_bound_in_bytes)
{
    expect_ok("{\"name\":\"12345678\"}");
    expect_rejected("{\"name\":\"123456789\"}", "name", "8");
    expect_ok("{\"name\":\"张三\"}");                 /* 6 bytes */
    expect_rejected("{\"name\":\"张三李\"}", "name", NULL); /* 9 bytes, 3 characters */
}

Test(json_check, unbounded_strings_take_any_length)
{
    size_t n = 100000;
    char *s = malloc(n + 32);
    cr_assert_not_null(s);
    strcpy(s, "{\"name\":\"a\",\"note\":\"");
    size_t off = strlen(s);
    memset(s + off, 'x', n);
    strcpy(s + off + n, "\"}");
    expect_ok(s);
    free(s);
}

Test(json_check, bounds_array_entries)
{
    expect_ok("{\"name\":\"a\",\"items\":[1,2]}");
    expect_rejected("{\"name\":\"a\",\"items\":[1,2,3]}", "items", "2");
    expect_ok("{\"name\":\"a\",\"tags\":[\"a\",\"b\",\"c\"]}");
    expect_rejected("{\"name\":\"a\",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}", "tags", "3");
}

Test(json_check, bounds_object_members)
{
    expect_ok("{\"name\":\"a\",\"meta\":{\"a\":1,\"b\":2}}");
    expect_rejected("{\"name\":\"a\",\"meta\":{\"a\":1,\"b\":2,\"c\":3}}", "meta", NULL);
}

Test(json_check, string_arrays_hold_only_short_strings)
{
    expect_rejected("{\"name\":\"a\",\"tags\":[1]}", "tags", NULL);
    expect_rejected("{\"name\":\"a\",\"tags\":[\"a\",null]}", "tags", NULL);
    expect_rejected("{\"name\":\"a\",\"tags\":[[\"a\"]]}", "tags", NULL);
    char body[700];
    char s256[257], s257[258];
    memset(s256, 'x', 256);
    s256[256] = '\0';
    memset(s257, 'y', 257);
    s257[257] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"a\",\"tags\":[\"%s\"]}", s256);
    expect_ok(body);
    snprintf(body, sizeof body, "{\"name\":\"a\",\"tags\":[\"%s\"]}", s257);
    expect_rejected(body, "tags", "256");
}

Test(json_check, rejects_non_objects)
{
    char err[256];
    json_t *arr = json_array();
    cr_expect_eq(yw_json_check(arr, fields, NFIELDS, err, sizeof err), -1);
    cr_expect(strstr(err, "object") != NULL, "'%s'", err);
    json_decref(arr);
    cr_expect_eq(yw_json_check(NULL, fields, NFIELDS, err, sizeof err), -1);
}

Test(json_check, long_unknown_names_are_cut_in_the_message)
{
    char body[1200], name[1001];
    memset(name, 'k', 1000);
    name[1000] = '\0';
    snprintf(body, sizeof body, "{\"%s\":1}", name);
    char err[2048];
    cr_expect_eq(check(body, err, sizeof err), -1);
    cr_expect_lt(strlen(err), 200, "message echoes the whole name: %zu bytes", strlen(err));
}

/* ---- small helpers -------------------------------------------------------- */

Test(json_helpers, str_returns_strings_only)
{
    json_t *v = json_pack("{s:s, s:i}", "a", "x", "b", 1);
    cr_expect_str_eq(yw_json_str(v, "a"), "x");
    cr_expect_null(yw_json_str(v, "b"));
    cr_expect_null(yw_json_str(v, "c"));
    json_decref(v);
}

Test(json_helpers, time_is_rfc3339_and_null_for_zero)
{
    json_t *z = yw_json_time(0);
    cr_expect(json_is_null(z));
    json_decref(z);
    json_t *t = yw_json_time(1700000000123LL);
    cr_assert(json_is_string(t));
    cr_expect_str_eq(json_string_value(t), "2023-11-14T22:13:20.123Z");
    json_decref(t);
}

/* Replies are written by yw_json_write: byte for byte what jansson would have written. */
Test(json_helpers, write_matches_jansson_byte_for_byte)
{
    json_t *cases[] = {
        json_pack("{s:s, s:s, s:I, s:I, s:b, s:b, s:n, s:f, s:f}", "name", "王*", "address", "浙江省杭州市西湖区****", "big",
                  (json_int_t)9007199254740993LL, "negative", (json_int_t)-42, "yes", 1, "no", 0, "none", "real", 0.1,
                  "whole", 3.0),
        json_pack("{s:[], s:{}, s:[{s:[i,[i,{}]]}]}", "empty", "nothing", "nested", "a", 1, 2),
        json_pack("[s, s, s]", "quote \" backslash \\ slash /", "\b\f\n\r\t\x01\x1f\x7f", "emoji 😀 and U+2028 \u2028"),
        json_stringn("a\0b", 3),
        json_string(""),
        json_integer(0),
        json_null(),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_not_null(cases[i], "case %zu", i);
        char *want = json_dumps(cases[i], JSON_COMPACT | JSON_ENCODE_ANY);
        char *got = yw_json_dump(cases[i]);
        cr_expect_str_eq(got, want, "case %zu", i);
        free(want);
        free(got);
        json_decref(cases[i]);
    }
    /* the order members were set in, as jansson keeps it */
    json_t *o = json_object();
    json_object_set_new(o, "z", json_integer(1));
    json_object_set_new(o, "a", json_integer(2));
    json_object_set_new(o, "m", json_integer(3));
    char *got = yw_json_dump(o);
    cr_expect_str_eq(got, "{\"z\":1,\"a\":2,\"m\":3}");
    free(got);
    json_decref(o);
}

Test(json_helpers, dump_is_compact)
{
    json_t *v = json_pack("{s:[i,i]}", "a", 1, 2);
    char *s = yw_json_dump(v);
    cr_expect_str_eq(s, "{\"a\":[1,2]}");
    free(s);
    json_decref(v);
}

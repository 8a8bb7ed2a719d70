/* Canonical and stored audit entries (see entry.h). */
#include "audit/entry.h"

#include "core/json.h"
#include "core/time.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The canonical form's keys, each with the separator before it, for the values of the stored form. */
static const struct {
    const char *text;
    size_t len;
} value_keys[YW_AUDIT_NVALUES] = {
#define KEY(s) {s, sizeof s - 1}
    KEY("{\"action\":"),     KEY(",\"actor\":"),          KEY(",\"actor_kind\":"),      KEY(",\"actor_org\":"),
    KEY(",\"client\":"),     KEY(",\"items\":"),          KEY(",\"object_ids\":"),      KEY(",\"object_type\":"),
    KEY(",\"purpose\":"),    KEY(",\"request_id\":"),     KEY(",\"request_sha256\":"),  KEY(",\"response_sha256\":"),
    KEY(",\"stage\":"),      KEY(",\"status\":"),         KEY(",\"time\":"),
#undef KEY
};

const char *yw_audit_result(int status)
{
    if (status < 400)
        return "ok";
    if (status == 401 || status == 403 || status == 404 || status == 429)
        return "denied";
    return "error";
}

void yw_audit_json_string(const char *s, yw_buf *out)
{
    yw_json_write_string(out, s);
}

void yw_audit_json_array(const json_t *arr, yw_buf *out)
{
    yw_buf_append(out, "[", 1);
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        if (i)
            yw_buf_append(out, ",", 1);
        yw_audit_json_string(json_string_value(json_array_get(arr, i)), out);
    }
    yw_buf_append(out, "]", 1);
}

/* Writes v in decimal at p; returns the end. */
static char *put_uint(char *p, uint64_t v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = digits[--n];
    return p;
}

static char *put_int(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_uint(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_uint(p, (uint64_t)v);
}

static char *put_bytes(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* Does any of the 8 bytes of w need escaping: below 0x20, '"' or '\\'? (Bit tricks of "Bit Twiddling Hacks".) */
static bool needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t below_space = (w - ones * 0x20) & ~w;
    uint64_t zero_quote = (quote - ones) & ~quote, zero_backslash = (backslash - ones) & ~backslash;
    return ((below_space | zero_quote | zero_backslash) & highs) != 0;
}

/* The JSON string literal of the len bytes of s (NULL: null), escaped exactly as yw_json_write_string does. */
static char *put_string(char *p, const char *s, size_t len)
{
    if (!s)
        return put_bytes(p, "null", 4);
    static const char hex[] = "0123456789ABCDEF";
    *p++ = '"';
    size_t i = 0;
    while (i < len) {
        /* Copy the run of bytes that need no escape at once, eight at a time while it lasts. */
        size_t run = i;
        uint64_t w;
        while (i + 8 <= len && (memcpy(&w, s + i, 8), !needs_escape(w)))
            i += 8;
        while (i < len && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
            i++;
        p = put_bytes(p, s + run, i - run);
        if (i == len)
            break;
        unsigned char c = (unsigned char)s[i++];
        *p++ = '\\';
        switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        default:
            p = put_bytes(p, "u00", 3);
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p++ = '"';
    return p;
}


static char *put_time(char *p, int64_t time_ms)
{
    char when[40];
    *p++ = '"';
    yw_time_format(time_ms, when, sizeof when);
    p = put_bytes(p, when, strlen(when));
    *p++ = '"';
    return p;
}

/* The "result" and "seq" keys and values, between response_sha256 and stage. */
static char *put_result_and_seq(char *p, int64_t status, uint64_t seq)
{
    const char *result = yw_audit_result((int)status);
    p = put_bytes(p, ",\"result\":\"", 11);
    p = put_bytes(p, result, strlen(result));
    p = put_bytes(p, "\",\"seq\":", 8);
    return put_uint(p, seq);
}

/* Room for the canonical form's keys, result, seq, status and time besides the values. */
#define FIXED_ROOM 512

void yw_audit_entry_encode(const yw_audit_event *e, uint64_t seq, int64_t time_ms, yw_buf *canonical, yw_buf *stored)
{
    const char *values[YW_AUDIT_NVALUES] = {
        [YW_AUDIT_ACTION] = e->action,
        [YW_AUDIT_ACTOR] = e->actor,
        [YW_AUDIT_ACTOR_KIND] = e->actor_kind ? e->actor_kind : "anonymous",
        [YW_AUDIT_ACTOR_ORG] = e->actor_org,
        [YW_AUDIT_CLIENT] = e->client,
        [YW_AUDIT_ITEMS] = e->items ? e->items : "[]",
        [YW_AUDIT_OBJECT_IDS] = e->object_ids ? e->object_ids : "[]",
        [YW_AUDIT_OBJECT_TYPE] = e->object_type,
        [YW_AUDIT_PURPOSE] = e->purpose,
        [YW_AUDIT_REQUEST_ID] = e->request_id,
        [YW_AUDIT_REQUEST_SHA256] = e->request_sha256,
        [YW_AUDIT_RESPONSE_SHA256] = e->response_sha256,
        [YW_AUDIT_STAGE] = e->stage,
    };
    size_t room = 0, len[YW_AUDIT_STATUS];
    for (int k = 0; k < YW_AUDIT_STATUS; k++) {
        bool is_array = k == YW_AUDIT_ITEMS || k == YW_AUDIT_OBJECT_IDS;
        len[k] = values[k] ? strlen(values[k]) : 0;
        /* arrays are copied as they are; a string at worst escapes every byte as \u00XX */
        room += is_array ? len[k] : 6 * len[k] + 4;
    }
    room = FIXED_ROOM + 2 * room; /* the values twice: in the canonical form, then in the stored one */
    /* Written once into one buffer (on the stack for every usual entry), then appended. */
    char small[4096], *text = room <= sizeof small ? small : malloc(room);
    if (!text)
        abort();
    char *p = text, *start[YW_AUDIT_NVALUES], *end[YW_AUDIT_NVALUES];
    /* Keys in byte order: the order of JSON_SORT_KEYS. */
    for (int k = 0; k < YW_AUDIT_STATUS; k++) {
        if (k == YW_AUDIT_STAGE)
            p = put_result_and_seq(p, e->status, seq);
        p = put_bytes(p, value_keys[k].text, value_keys[k].len);
        start[k] = p;
        if (k == YW_AUDIT_ITEMS || k == YW_AUDIT_OBJECT_IDS)
            p = put_bytes(p, values[k], len[k]);
        else
            p = put_string(p, values[k], len[k]);
        end[k] = p;
    }
    p = put_bytes(p, value_keys[YW_AUDIT_STATUS].text, value_keys[YW_AUDIT_STATUS].len);
    start[YW_AUDIT_STATUS] = p;
    p = put_int(p, e->status);
    end[YW_AUDIT_STATUS] = p;
    p = put_bytes(p, value_keys[YW_AUDIT_TIME_MS].text, value_keys[YW_AUDIT_TIME_MS].len);
    p = put_time(p, time_ms);
    *p++ = '}';
    yw_buf_append(canonical, text, (size_t)(p - text));
    if (stored) {
        /* The same value bytes, behind the canonical form in the buffer. */
        char *q = p;
        for (int k = 0; k <= YW_AUDIT_STATUS; k++) {
            *q++ = k == 0 ? '[' : ',';
            q = put_bytes(q, start[k], (size_t)(end[k] - start[k]));
        }
        *q++ = ',';
        q = put_int(q, time_ms);
        *q++ = ']';
        yw_buf_append(stored, p, (size_t)(q - p));
    }
    if (text != small)
        free(text);
}

void yw_audit_entry_write(const yw_audit_event *e, uint64_t seq, int64_t time_ms, yw_buf *out)
{
    yw_audit_entry_encode(e, seq, time_ms, out, NULL);
}

/* ---- the stored form, read back ---- */

/* End of the JSON string starting at p[0] == '"' (one past its closing quote), or 0. */
static size_t string_end(const char *p, size_t len)
{
    for (size_t i = 1; i < len; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

/* End of the array of strings starting at p[0] == '[', or 0. */
static size_t array_end(const char *p, size_t len)
{
    size_t i = 1;
    if (i < len && p[i] == ']')
        return 2;
    while (i < len && p[i] == '"') {
        size_t n = string_end(p + i, len - i);
        if (!n)
            return 0;
        i += n;
        if (i < len && p[i] == ']')
            return i + 1;
        if (i >= len || p[i] != ',')
            return 0;
        i++;
    }
    return 0;
}

/* A canonical integer (no sign but '-', no leading zero) at p; its end, or 0. */
static size_t int_end(const char *p, size_t len, int64_t *value)
{
    size_t i = p[0] == '-' ? 1 : 0, first = i;
    uint64_t v = 0;
    while (i < len && p[i] >= '0' && p[i] <= '9' && i - first < 18)
        v = v * 10 + (uint64_t)(p[i++] - '0');
    if (i == first || (p[first] == '0' && i - first > 1) || (i < len && p[i] >= '0' && p[i] <= '9') ||
        (first && v == 0))
        return 0;
    *value = first ? -(int64_t)v : (int64_t)v;
    return i;
}

long yw_audit_values_parse(const char *p, size_t len, yw_audit_values *v)
{
    if (len < 2 || p[0] != '[')
        return -1;
    size_t i = 1;
    for (int k = 0; k < YW_AUDIT_NVALUES; k++) {
        if (k && (i >= len || p[i++] != ','))
            return -1;
        if (i >= len)
            return -1;
        size_t n = 0;
        const char *at = p + i;
        if (k == YW_AUDIT_ITEMS || k == YW_AUDIT_OBJECT_IDS)
            n = at[0] == '[' ? array_end(at, len - i) : 0;
        else if (k == YW_AUDIT_STATUS)
            n = int_end(at, len - i, &v->status);
        else if (k == YW_AUDIT_TIME_MS)
            n = int_end(at, len - i, &v->time_ms);
        else if (at[0] == '"')
            n = string_end(at, len - i);
        else if (len - i >= 4 && memcmp(at, "null", 4) == 0 && k != YW_AUDIT_ACTOR_KIND)
            n = 4;
        if (!n)
            return -1;
        v->at[k] = at;
        v->len[k] = n;
        i += n;
    }
    if (i >= len || p[i] != ']' || v->status < INT32_MIN || v->status > INT32_MAX)
        return -1;
    return (long)(i + 1);
}

void yw_audit_values_canonical(const yw_audit_values *v, uint64_t seq, yw_buf *out)
{
    size_t room = FIXED_ROOM;
    for (int k = 0; k < YW_AUDIT_NVALUES; k++)
        room += v->len[k];
    char small[4096], *text = room <= sizeof small ? small : malloc(room);
    if (!text)
        abort();
    char *p = text;
    for (int k = 0; k <= YW_AUDIT_STATUS; k++) {
        if (k == YW_AUDIT_STAGE)
            p = put_result_and_seq(p, v->status, seq);
        p = put_bytes(p, value_keys[k].text, value_keys[k].len);
        p = put_bytes(p, v->at[k], v->len[k]);
    }
    p = put_bytes(p, value_keys[YW_AUDIT_TIME_MS].text, value_keys[YW_AUDIT_TIME_MS].len);
    p = put_time(p, v->time_ms);
    *p++ = '}';
    yw_buf_append(out, text, (size_t)(p - text));
    if (text != small)
        free(text);
}

bool yw_audit_value_is(const yw_audit_values *v, int i, const char *lit, size_t lit_len)
{
    return v->len[i] == lit_len && memcmp(v->at[i], lit, lit_len) == 0;
}

bool yw_audit_value_contains(const yw_audit_values *v, int i, const char *lit, size_t lit_len)
{
    const char *p = v->at[i], *end = p + v->len[i];
    /* The array holds string literals only, separated by commas: compare each in turn. */
    for (p++; p < end && *p == '"';) {
        size_t n = string_end(p, (size_t)(end - p));
        if (!n)
            return false;
        if (n == lit_len && memcmp(p, lit, n) == 0)
            return true;
        p += n + 1;
    }
    return false;
}

void yw_audit_legacy_row_read(yw_stmt *s, yw_audit_event *e, uint64_t *seq, int64_t *time_ms)
{
    memset(e, 0, sizeof *e);
    *seq = (uint64_t)yw_stmt_int(s, 0);
    *time_ms = yw_stmt_int(s, 1);
    e->actor = yw_stmt_text(s, 2);
    e->actor_kind = yw_stmt_text(s, 3);
    e->actor_org = yw_stmt_text(s, 4);
    e->action = yw_stmt_text(s, 5);
    e->stage = yw_stmt_text(s, 6);
    e->object_type = yw_stmt_text(s, 7);
    e->object_ids = yw_stmt_text(s, 8);
    e->items = yw_stmt_text(s, 9);
    e->purpose = yw_stmt_text(s, 10);
    e->status = (int)yw_stmt_int(s, 11);
    e->request_id = yw_stmt_text(s, 12);
    e->client = yw_stmt_text(s, 13);
    e->request_sha256 = yw_stmt_text(s, 14);
    e->response_sha256 = yw_stmt_text(s, 15);
}

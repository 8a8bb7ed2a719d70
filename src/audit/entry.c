/* Canonical audit entries (see entry.h). */
#include "audit/entry.h"

#include "core/json.h"
#include "core/time.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

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

static void key(yw_buf *out, const char *k)
{
    yw_buf_puts(out, k);
}

static void put_uint(yw_buf *out, uint64_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char text[24];
    for (int i = 0; i < n; i++)
        text[i] = digits[n - 1 - i];
    yw_buf_append(out, text, (size_t)n);
}

void yw_audit_entry_write(const yw_audit_event *e, uint64_t seq, int64_t time_ms, yw_buf *out)
{
    char when[40];
    /* Keys in byte order: the order of JSON_SORT_KEYS. */
    key(out, "{\"action\":");
    yw_audit_json_string(e->action, out);
    key(out, ",\"actor\":");
    yw_audit_json_string(e->actor, out);
    key(out, ",\"actor_kind\":");
    yw_audit_json_string(e->actor_kind ? e->actor_kind : "anonymous", out);
    key(out, ",\"actor_org\":");
    yw_audit_json_string(e->actor_org, out);
    key(out, ",\"client\":");
    yw_audit_json_string(e->client, out);
    key(out, ",\"items\":");
    yw_buf_puts(out, e->items ? e->items : "[]");
    key(out, ",\"object_ids\":");
    yw_buf_puts(out, e->object_ids ? e->object_ids : "[]");
    key(out, ",\"object_type\":");
    yw_audit_json_string(e->object_type, out);
    key(out, ",\"purpose\":");
    yw_audit_json_string(e->purpose, out);
    key(out, ",\"request_id\":");
    yw_audit_json_string(e->request_id, out);
    key(out, ",\"request_sha256\":");
    yw_audit_json_string(e->request_sha256, out);
    key(out, ",\"response_sha256\":");
    yw_audit_json_string(e->response_sha256, out);
    key(out, ",\"result\":");
    yw_audit_json_string(yw_audit_result(e->status), out);
    key(out, ",\"seq\":");
    put_uint(out, seq);
    key(out, ",\"stage\":");
    yw_audit_json_string(e->stage, out);
    key(out, ",\"status\":");
    if (e->status < 0)
        yw_buf_append(out, "-", 1);
    put_uint(out, (uint64_t)(e->status < 0 ? -(int64_t)e->status : e->status));
    key(out, ",\"time\":");
    yw_audit_json_string(yw_time_format(time_ms, when, sizeof when), out);
    yw_buf_append(out, "}", 1);
}

void yw_audit_row_read(yw_stmt *s, yw_audit_event *e, uint64_t *seq, int64_t *time_ms, yw_buf *out)
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
    yw_buf_reset(out);
    yw_audit_entry_write(e, *seq, *time_ms, out);
}

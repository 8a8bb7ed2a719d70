/* JSON helpers over jansson (see json.h). */
#include "core/json.h"

#include "core/time.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int yw_json_depth(const char *data, size_t len)
{
    int depth = 0, max = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case '"': in_string = true; break;
        case '[':
        case '{':
            if (++depth > max)
                max = depth;
            break;
        case ']':
        case '}':
            depth--;
            break;
        default: break;
        }
    }
    return max;
}

json_t *yw_json_parse(const char *data, size_t len, int max_depth, char *err, size_t errlen)
{
    if (yw_json_depth(data, len) > max_depth) {
        snprintf(err, errlen, "JSON nests deeper than %d levels", max_depth);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        snprintf(err, errlen, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    return v;
}

static const char *type_name(yw_json_type t)
{
    switch (t) {
    case YW_JSON_STRING: return "a string";
    case YW_JSON_STRING_OR_NULL: return "a string or null";
    case YW_JSON_INTEGER: return "an integer";
    case YW_JSON_BOOLEAN: return "true or false";
    case YW_JSON_ARRAY: return "an array";
    case YW_JSON_STRINGS: return "an array of strings";
    case YW_JSON_OBJECT: return "an object";
    }
    return "?";
}

static int check_value(const json_t *v, const yw_json_field *f, char *err, size_t errlen)
{
    switch (f->type) {
    case YW_JSON_STRING_OR_NULL:
        if (json_is_null(v))
            return 0;
        /* fall through */
    case YW_JSON_STRING:
        if (!json_is_string(v))
            break;
        if (f->max && json_string_length(v) > f->max) {
            snprintf(err, errlen, "'%s' is longer than %zu bytes", f->name, f->max);
            return -1;
        }
        return 0;
    case YW_JSON_INTEGER:
        if (json_is_integer(v))
            return 0;
        break;
    case YW_JSON_BOOLEAN:
        if (json_is_boolean(v))
            return 0;
        break;
    case YW_JSON_ARRAY:
    case YW_JSON_STRINGS:
        if (!json_is_array(v))
            break;
        if (f->max && json_array_size(v) > f->max) {
            snprintf(err, errlen, "'%s' has more than %zu entries", f->name, f->max);
            return -1;
        }
        if (f->type == YW_JSON_STRINGS) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (!json_is_string(e) || json_string_length(e) > 256) {
                    snprintf(err, errlen, "'%s' must hold strings of at most 256 bytes", f->name);
                    return -1;
                }
            }
        }
        return 0;
    case YW_JSON_OBJECT:
        if (!json_is_object(v))
            break;
        if (f->max && json_object_size(v) > f->max) {
            snprintf(err, errlen, "'%s' has more than %zu members", f->name, f->max);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "'%s' must be %s", f->name, type_name(f->type));
    return -1;
}

int yw_json_check(const json_t *obj, const yw_json_field *fields, size_t n, char *err, size_t errlen)
{
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "the body must be a JSON object");
        return -1;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == n) {
            snprintf(err, errlen, "unknown field '%.64s'", key);
            return -1;
        }
        if (check_value(v, &fields[i], err, errlen) < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (fields[i].required && !json_object_get(obj, fields[i].name)) {
            snprintf(err, errlen, "'%s' is required", fields[i].name);
            return -1;
        }
    }
    return 0;
}

const char *yw_json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* What jansson would write for v: the odd cases (reals) are left to it. */
static void write_by_jansson(yw_buf *out, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text)
        yw_buf_puts(out, text);
    free(text);
}

void yw_json_write(yw_buf *out, const json_t *v)
{
    const char *key;
    json_t *member;
    size_t i;
    char n[24];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        yw_buf_append(out, "{", 1);
        i = 0;
        json_object_foreach ((json_t *)v, key, member) {
            if (i++)
                yw_buf_append(out, ",", 1);
            yw_json_write_string(out, key);
            yw_buf_append(out, ":", 1);
            yw_json_write(out, member);
        }
        yw_buf_append(out, "}", 1);
        break;
    case JSON_ARRAY:
        yw_buf_append(out, "[", 1);
        json_array_foreach (v, i, member) {
            if (i)
                yw_buf_append(out, ",", 1);
            yw_json_write(out, member);
        }
        yw_buf_append(out, "]", 1);
        break;
    case JSON_STRING: yw_json_write_stringn(out, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
        yw_buf_append(out, n, (size_t)snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        break;
    case JSON_TRUE: yw_buf_append(out, "true", 4); break;
    case JSON_FALSE: yw_buf_append(out, "false", 5); break;
    case JSON_NULL: yw_buf_append(out, "null", 4); break;
    default: write_by_jansson(out, v); break;
    }
}

char *yw_json_dump(const json_t *v)
{
    yw_buf out = YW_BUF_INIT;
    yw_json_write(&out, v);
    return yw_buf_take(&out);
}

void yw_json_write_string(yw_buf *out, const char *s)
{
    if (!s)
        yw_buf_append(out, "null", 4);
    else
        yw_json_write_stringn(out, s, strlen(s));
}

/* How jansson writes each byte inside a string: 0 as it is, 'u' as \u00XX, else a backslash and this. */
static const char string_escape[256] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u', [0x07] = 'u',
    [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u',
    [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
    [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
};

void yw_json_write_stringn(yw_buf *out, const char *s, size_t len)
{
    const unsigned char *in = (const unsigned char *)s;
    size_t need = len + 2;
    for (size_t i = 0; i < len; i++) /* one pass to size it: most strings have nothing to escape */
        if (string_escape[in[i]])
            need += string_escape[in[i]] == 'u' ? 5 : 1;
    char *start = yw_buf_room(out, need), *p = start;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        char e = string_escape[in[i]];
        if (!e) {
            *p++ = (char)in[i];
        } else if (e != 'u') {
            *p++ = '\\';
            *p++ = e;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            memcpy(p, "\\u00", 4);
            p[4] = hex[in[i] >> 4];
            p[5] = hex[in[i] & 15];
            p += 6;
        }
    }
    *p++ = '"';
    yw_buf_added(out, (size_t)(p - start));
}

json_t *yw_json_time(int64_t ms)
{
    char buf[40];
    return ms ? json_string(yw_time_format(ms, buf, sizeof buf)) : json_null();
}

static void wiped_free(void *p)
{
    if (p) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

void yw_json_wipe_on_free(void)
{
    json_set_alloc_funcs(malloc, wiped_free);
}

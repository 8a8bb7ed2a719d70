/*
 * libFuzzer target: request bodies through yw_json_parse and yw_json_check.
 *
 * Besides memory safety (ASan, UBSan), it checks what the parser promises:
 * an accepted text nests at most YW_JSON_MAX_DEPTH deep, a rejection always
 * comes with a message, what is accepted serialises and parses back to an
 * equal value, and an object yw_json_check accepts really satisfies the
 * field table.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const yw_json_field fields[] = {
    {"name", YW_JSON_STRING, true, 16},
    {"count", YW_JSON_INTEGER, false, 0},
    {"flag", YW_JSON_BOOLEAN, false, 0},
    {"tags", YW_JSON_STRINGS, false, 4},
    {"items", YW_JSON_ARRAY, false, 3},
    {"meta", YW_JSON_OBJECT, false, 2},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static const yw_json_field *field(const char *name)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* Re-checks, independently, an object yw_json_check accepted. */
static void verify_accepted(const json_t *obj)
{
    if (!json_is_object(obj))
        abort();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        const yw_json_field *f = field(key);
        if (!f)
            abort(); /* unknown member let through */
        switch (f->type) {
        case YW_JSON_STRING:
            if (!json_is_string(v) || (f->max && json_string_length(v) > f->max))
                abort();
            break;
        case YW_JSON_INTEGER:
            if (!json_is_integer(v))
                abort();
            break;
        case YW_JSON_BOOLEAN:
            if (!json_is_boolean(v))
                abort();
            break;
        case YW_JSON_ARRAY:
        case YW_JSON_STRINGS:
            if (!json_is_array(v) || (f->max && json_array_size(v) > f->max))
                abort();
            if (f->type == YW_JSON_STRINGS) {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e) {
                    if (!json_is_string(e) || json_string_length(e) > 256)
                        abort();
                }
            }
            break;
        case YW_JSON_OBJECT:
            if (!json_is_object(v) || (f->max && json_object_size(v) > f->max))
                abort();
            break;
        }
    }
    for (size_t i = 0; i < NFIELDS; i++)
        if (fields[i].required && !json_object_get(obj, fields[i].name))
            abort(); /* required member missing */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char err[256];
    err[0] = '\0';
    json_t *v = yw_json_parse(text, size, YW_JSON_MAX_DEPTH, err, sizeof err);
    if (!v) {
        if (!err[0] || !memchr(err, '\0', sizeof err))
            abort(); /* a rejection must explain itself */
        return 0;
    }
    if (yw_json_depth(text, size) > YW_JSON_MAX_DEPTH)
        abort();

    /* What was accepted serialises and parses back to the same value. */
    char *dumped = yw_json_dump(v);
    if (!dumped)
        abort();
    json_t *again = yw_json_parse(dumped, strlen(dumped), YW_JSON_MAX_DEPTH, err, sizeof err);
    if (!again || !json_equal(v, again))
        abort();
    json_decref(again);
    free(dumped);

    err[0] = '\0';
    if (yw_json_check(v, fields, NFIELDS, err, sizeof err) == 0)
        verify_accepted(v);
    else if (!err[0])
        abort();

    /* The helpers must cope with whatever the caller hands them. */
    (void)yw_json_str(v, "name");
    json_decref(v);
    return 0;
}

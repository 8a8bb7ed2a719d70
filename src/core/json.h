/*
 * JSON helpers over jansson for request bodies.
 *
 * yw_json_parse is the one entry point for JSON from outside: it bounds the
 * nesting depth before jansson sees the text (jansson's own limit is 2048),
 * and rejects duplicate keys and NUL characters. yw_json_check validates an
 * object against a table of fields, rejecting unknown members as the API
 * contract requires, so handlers read values without re-checking types.
 */
#ifndef YW_CORE_JSON_H
#define YW_CORE_JSON_H

#include <jansson.h>

#include "core/buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YW_JSON_MAX_DEPTH 32

/* Maximum nesting depth of the text, without parsing it. */
int yw_json_depth(const char *data, size_t len);

/*
 * Parses data; returns a new reference, or NULL with a message for the
 * caller in err. Depth above max_depth is an error.
 */
json_t *yw_json_parse(const char *data, size_t len, int max_depth, char *err, size_t errlen);

typedef enum {
    YW_JSON_STRING,
    YW_JSON_STRING_OR_NULL, /* null clears the member */
    YW_JSON_INTEGER,
    YW_JSON_BOOLEAN,
    YW_JSON_ARRAY,   /* max bounds the element count */
    YW_JSON_STRINGS, /* array of strings; max bounds the count, each string 256 bytes */
    YW_JSON_OBJECT,  /* max bounds the member count */
} yw_json_type;

typedef struct {
    const char *name;
    yw_json_type type;
    bool required;
    size_t max; /* strings: bytes; arrays/objects: entries; 0: no bound */
} yw_json_field;

/*
 * Checks that obj is an object whose members all appear in fields (n of
 * them), with the right types and within their bounds, and that required
 * members are present. Returns 0, or -1 with a sentence in err naming the
 * offending member.
 */
int yw_json_check(const json_t *obj, const yw_json_field *fields, size_t n, char *err, size_t errlen);

/* The string member key, or NULL when absent or not a string. */
const char *yw_json_str(const json_t *obj, const char *key);

/*
 * Appends s as a JSON string literal (NULL: null), escaped exactly as
 * jansson escapes: '"', '\\', the short forms \b \f \n \r \t, other
 * control characters as \u00XX; UTF-8 passes through. For replies and
 * records built without a jansson tree on hot paths.
 */
void yw_json_write_string(yw_buf *out, const char *s);
void yw_json_write_stringn(yw_buf *out, const char *s, size_t len); /* NUL among the bytes: \u0000 */

/*
 * Appends v compactly, byte for byte as json_dumps(v, JSON_COMPACT |
 * JSON_ENCODE_ANY) writes it (members in their order, strings escaped as
 * above), without jansson's per-character re-validation of strings it
 * already checked: replies are written with it.
 */
void yw_json_write(yw_buf *out, const json_t *v);

/* RFC 3339 string of a time in ms since the epoch; JSON null for 0. */
json_t *yw_json_time(int64_t ms);

/*
 * Makes jansson zero what it frees: values decrypted from sealed columns
 * pass through its strings. Call once, before any JSON is made.
 */
void yw_json_wipe_on_free(void);

/* Serialises compactly (yw_json_write); free() the result. */
char *yw_json_dump(const json_t *v);

#endif

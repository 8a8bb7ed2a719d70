/* Data element definitions and value checks (see element.h). */
#include "catalog/element.h"

#include "core/time.h"
#include "core/validate.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPEC 1024

static const char *const types = "CNYDTLMGBIF";
static const char *const masks[] = {"none", "id_card", "phone", "name", "address", "bank_card", "full", NULL};

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Parses "range:MIN..MAX"; either bound may be empty. */
static bool parse_range(const char *spec, double *min, bool *has_min, double *max, bool *has_max)
{
    const char *dots = strstr(spec, "..");
    if (!dots)
        return false;
    char *end;
    *has_min = dots != spec;
    *has_max = dots[2] != '\0';
    if (*has_min) {
        char low[64];
        size_t n = (size_t)(dots - spec);
        if (n >= sizeof low)
            return false;
        memcpy(low, spec, n); /* strtod alone would read "0." of "0..9" */
        low[n] = '\0';
        *min = strtod(low, &end);
        if (*end)
            return false;
    }
    if (*has_max) {
        *max = strtod(dots + 2, &end);
        if (*end)
            return false;
    }
    return !(*has_min && *has_max && *min > *max);
}

const char *yw_validator_check_spec(const char *spec)
{
    if (!spec || !*spec)
        return NULL;
    if (strlen(spec) > MAX_SPEC)
        return "validator is longer than 1024 bytes";
    static const char *const plain[] = {"id_card", "uscc", "org_code", "phone", "region", "date", "datetime", NULL};
    if (in_list(spec, plain))
        return NULL;
    if (strncmp(spec, "enum:", 5) == 0)
        return spec[5] ? NULL : "enum: needs values separated by |";
    if (strncmp(spec, "range:", 6) == 0) {
        double a, b;
        bool ha, hb;
        return parse_range(spec + 6, &a, &ha, &b, &hb) && (ha || hb) ? NULL
                                                                      : "range: is written range:MIN..MAX (numbers)";
    }
    if (strncmp(spec, "regex:", 6) == 0) {
        regex_t re;
        if (!spec[6] || regcomp(&re, spec + 6, REG_EXTENDED | REG_NOSUB) != 0)
            return "regex: is not a valid POSIX extended regular expression";
        regfree(&re);
        return NULL;
    }
    return "validator must be id_card, uscc, org_code, phone, region, date, datetime, enum:..., regex:... or "
           "range:MIN..MAX";
}

const char *yw_element_validate(const yw_element *e)
{
    size_t n = e->id ? strlen(e->id) : 0;
    if (n < 2 || n > 64 || !islower((unsigned char)e->id[0]))
        return "id must have 2 to 64 characters of a-z, 0-9 and '_', starting with a letter";
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)e->id[i]) && !isdigit((unsigned char)e->id[i]) && e->id[i] != '_')
            return "id must have 2 to 64 characters of a-z, 0-9 and '_', starting with a letter";
    if (!e->name || !*e->name || strlen(e->name) > 256)
        return "name must have 1 to 256 bytes";
    if (!e->type || strlen(e->type) != 1 || !strchr(types, e->type[0]))
        return "type must be one of C, N, Y, D, T, L, M, G, B, I, F";
    if (e->length < 0 || e->length > 1000000)
        return "length must be from 0 (no bound) to 1000000";
    const char *why = yw_validator_check_spec(e->validator);
    if (why)
        return why;
    if (!e->sensitivity || strlen(e->sensitivity) != 2 || e->sensitivity[0] != 'L' || e->sensitivity[1] < '1' ||
        e->sensitivity[1] > '4')
        return "sensitivity must be L1, L2, L3 or L4";
    if (!e->mask || !in_list(e->mask, masks))
        return "mask must be none, id_card, phone, name, address, bank_card or full";
    return NULL;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool is_number(const char *s, bool integer)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    if (integer)
        (void)strtoll(s, &end, 10);
    else
        (void)strtod(s, &end);
    return !*end && errno == 0 && !isspace((unsigned char)*s);
}

static bool enum_has(const char *list, const char *value)
{
    size_t vlen = strlen(value);
    while (*list) {
        size_t len = strcspn(list, "|");
        if (len == vlen && strncmp(list, value, len) == 0)
            return true;
        list += len;
        if (*list == '|')
            list++;
    }
    return false;
}

/*
 * The pattern compiled, anchored to the whole value whatever it says. Each
 * thread keeps the last few it compiled: an import checks the same patterns
 * on every row, and compiling costs far more than matching.
 */
#define REGEX_CACHE 16
static const regex_t *compiled(const char *pattern)
{
    static __thread struct {
        char *pattern;
        regex_t re;
    } cache[REGEX_CACHE];
    static __thread unsigned next_slot;
    for (int i = 0; i < REGEX_CACHE; i++)
        if (cache[i].pattern && strcmp(cache[i].pattern, pattern) == 0)
            return &cache[i].re;
    size_t n = strlen(pattern);
    char *anchored = malloc(n + 5);
    if (!anchored)
        return NULL;
    memcpy(anchored, "^(", 2);
    memcpy(anchored + 2, pattern, n);
    memcpy(anchored + 2 + n, ")$", 3);
    unsigned slot = next_slot++ % REGEX_CACHE;
    if (cache[slot].pattern) {
        regfree(&cache[slot].re);
        free(cache[slot].pattern);
        cache[slot].pattern = NULL;
    }
    int rc = regcomp(&cache[slot].re, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0)
        return NULL;
    cache[slot].pattern = strdup(pattern);
    if (!cache[slot].pattern) {
        regfree(&cache[slot].re);
        return NULL;
    }
    return &cache[slot].re;
}

const char *yw_element_check_value(const yw_element *e, const char *value)
{
    if (e->length > 0 && utf8_chars(value) > (size_t)e->length)
        return "longer than the element allows";
    switch (e->type[0]) {
    case 'N':
    case 'Y':
    case 'B':
    case 'F':
        if (!is_number(value, false))
            return "not a number";
        break;
    case 'I':
        if (!is_number(value, true))
            return "not an integer";
        break;
    case 'D':
        if (!yw_valid_iso_date(value))
            return "not a date (YYYY-MM-DD)";
        break;
    case 'T': {
        int64_t ms;
        if (yw_time_parse(value, &ms) < 0)
            return "not a date and time (RFC 3339)";
        break;
    }
    case 'L':
        if (strcmp(value, "true") && strcmp(value, "false") && strcmp(value, "1") && strcmp(value, "0"))
            return "not true or false";
        break;
    default: break;
    }
    const char *v = e->validator;
    if (!v || !*v)
        return NULL;
    if (strcmp(v, "id_card") == 0)
        return yw_valid_id_card(value) ? NULL : "not a valid resident ID number";
    if (strcmp(v, "uscc") == 0)
        return yw_valid_uscc(value) ? NULL : "not a valid unified social credit code";
    if (strcmp(v, "org_code") == 0)
        return yw_valid_org_code(value) ? NULL : "not a valid organization code";
    if (strcmp(v, "region") == 0)
        return yw_valid_region_code(value) ? NULL : "not a valid region code";
    if (strcmp(v, "phone") == 0) {
        bool ok = strlen(value) == 11 && value[0] == '1' && value[1] >= '3' && value[1] <= '9';
        for (int i = 0; ok && i < 11; i++)
            ok = isdigit((unsigned char)value[i]);
        return ok ? NULL : "not a mainland mobile number";
    }
    if (strcmp(v, "date") == 0)
        return yw_valid_iso_date(value) ? NULL : "not a date (YYYY-MM-DD)";
    if (strcmp(v, "datetime") == 0) {
        int64_t ms;
        return yw_time_parse(value, &ms) == 0 ? NULL : "not a date and time (RFC 3339)";
    }
    if (strncmp(v, "enum:", 5) == 0)
        return enum_has(v + 5, value) ? NULL : "not one of the allowed values";
    if (strncmp(v, "range:", 6) == 0) {
        double min = 0, max = 0, x;
        bool has_min, has_max;
        if (!is_number(value, false))
            return "not a number";
        x = strtod(value, NULL);
        parse_range(v + 6, &min, &has_min, &max, &has_max);
        return (has_min && x < min) || (has_max && x > max) ? "out of the allowed range" : NULL;
    }
    if (strncmp(v, "regex:", 6) == 0) {
        const regex_t *re = compiled(v + 6);
        if (!re)
            return "cannot be checked";
        return regexec(re, value, 0, NULL, 0) == 0 ? NULL : "does not match the element's pattern";
    }
    return NULL;
}

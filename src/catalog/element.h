/*
 * Data elements (数据元, GB/T 19488 / ISO/IEC 11179): the shared vocabulary
 * every resource item is bound to, so that "公民身份号码" means the same
 * thing, with the same format and the same protection, in every department.
 *
 * An element has a data type (the catalog's types: C string, N number,
 * Y currency, D date, T datetime, L boolean, M memo, G binary, B double,
 * I integer, F float), an optional maximum length, an optional validator,
 * a default sensitivity (L1 public ... L4 core) and a mask kind.
 *
 * Validators (the value is always a string as it arrives):
 *   id_card   resident ID number, GB 11643 with birth date and check digit
 *   uscc      unified social credit code, GB 32100
 *   org_code  organization code, GB 11714
 *   phone     mainland mobile number, 11 digits starting 13-19
 *   region    6-digit GB/T 2260 region code
 *   date      YYYY-MM-DD, a real calendar day
 *   datetime  RFC 3339
 *   enum:a|b|c           one of the listed values
 *   regex:PATTERN        POSIX extended regular expression, whole value
 *   range:MIN..MAX       a number within the bounds (either may be empty)
 */
#ifndef YW_CATALOG_ELEMENT_H
#define YW_CATALOG_ELEMENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *id, *name, *type, *validator, *sensitivity, *mask;
    int length; /* 0: no bound */
} yw_element;

/* NULL when the validator specification is well formed, else why not. */
const char *yw_validator_check_spec(const char *spec);

/* NULL when the element's definition is consistent, else why not (a 422). */
const char *yw_element_validate(const yw_element *e);

/*
 * NULL when value conforms to e (type, length, validator), else a sentence
 * saying why, for per-row import reports.
 */
const char *yw_element_check_value(const yw_element *e, const char *value);

#endif

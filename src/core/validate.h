/*
 * Check-digit validators for Chinese national identifiers, and the check
 * digit functions the demo city uses to generate valid codes.
 *
 *   resident ID number   GB 11643-1999, ISO 7064 MOD 11-2, with birth date
 *   unified social credit code (USCC)  GB 32100-2015, MOD 31
 *   organization code    GB 11714-1997, MOD 11
 *   region code          GB/T 2260, six digits, province part 11..82
 *
 * All take a NUL-terminated string and return true only for a well-formed
 * value; they never read past the terminator.
 */
#ifndef YW_CORE_VALIDATE_H
#define YW_CORE_VALIDATE_H

#include <stdbool.h>

bool yw_valid_id_card(const char *s);
bool yw_valid_uscc(const char *s);
bool yw_valid_org_code(const char *s);
bool yw_valid_region_code(const char *s);
/* YYYY-MM-DD naming a real calendar day (1900-2100). */
bool yw_valid_iso_date(const char *s);

/* Check character of the first 17 characters of an ID number, or 0. */
char yw_id_card_check(const char *first17);
/* Check character of the first 17 characters of a USCC, or 0. */
char yw_uscc_check(const char *first17);
/* Check character of the first 8 characters of an organization code, or 0. */
char yw_org_code_check(const char *first8);

#endif

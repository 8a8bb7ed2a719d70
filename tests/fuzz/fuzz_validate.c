/*
 * libFuzzer target: every validator and check function of core/validate.h
 * on arbitrary NUL-terminated input, in a buffer of exactly the input's
 * size so that ASan catches a read past the terminator.
 *
 * Oracles: a value a validator accepts has the right length and its check
 * character is the one the check function computes; check functions only
 * produce characters of their alphabet; a body completed with the check
 * character it was given is accepted by the validator.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);

    if (yw_valid_region_code(s)) {
        if (len != 6 || !all_digits(s, 6))
            abort();
        int province = (s[0] - '0') * 10 + (s[1] - '0');
        if (province < 11 || province > 82)
            abort();
    }

    if (yw_valid_id_card(s)) {
        if (len != 18 || !all_digits(s, 17) || yw_id_card_check(s) != s[17])
            abort();
        char region[7];
        memcpy(region, s, 6);
        region[6] = '\0';
        if (!yw_valid_region_code(region))
            abort();
    }

    if (yw_valid_uscc(s)) {
        if (len != 18 || !all_digits(s + 2, 6) || yw_uscc_check(s) != s[17])
            abort();
        for (size_t i = 0; i < 18; i++)
            if (!strchr(uscc_alphabet, s[i]))
                abort();
    }

    if (yw_valid_org_code(s)) {
        if (len != 9 || yw_org_code_check(s) != s[8])
            abort();
    }

    char c = yw_id_card_check(s);
    if (c) {
        if (len < 17 || !strchr("0123456789X", c))
            abort();
    }

    c = yw_uscc_check(s);
    if (c) {
        if (len < 17 || !strchr(uscc_alphabet, c))
            abort();
        if (all_digits(s + 2, 6)) {
            char code[19];
            memcpy(code, s, 17);
            code[17] = c;
            code[18] = '\0';
            if (!yw_valid_uscc(code))
                abort(); /* a body completed with its own check must pass */
        }
    }

    c = yw_org_code_check(s);
    if (c) {
        if (len < 8 || !strchr("0123456789X", c))
            abort();
        char code[10];
        memcpy(code, s, 8);
        code[8] = c;
        code[9] = '\0';
        if (!yw_valid_org_code(code))
            abort();
    }

    free(s);
    return 0;
}

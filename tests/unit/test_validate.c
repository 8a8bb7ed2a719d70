/*
 * Unit tests of core/validate.h: the check-digit validators of resident ID
 * numbers (GB 11643), unified social credit codes (GB 32100), organization
 * codes (GB 11714) and region codes (GB/T 2260).
 *
 * Expected check characters come from published examples and from small
 * reference implementations written here from the text of the standards
 * (shared/reference/standards.md), not from the code under test. Every
 * "rejected" case starts from a value that is valid except for the one
 * property under test, so a test cannot pass because of some other flaw.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"

/* ---- reference implementations, from the standards ------------------- */

static char ref_id_check(const char *first17)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (first17[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

static const char uscc_alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static char ref_uscc_check(const char *first17)
{
    int sum = 0, w = 1;
    for (int i = 0; i < 17; i++) {
        sum += (int)(strchr(uscc_alpha, first17[i]) - uscc_alpha) * w;
        w = w * 3 % 31; /* weights are 3^(i-1) mod 31 */
    }
    int c = 31 - sum % 31;
    return uscc_alpha[c == 31 ? 0 : c];
}

static char ref_org_check(const char *first8)
{
    static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        char c = first8[i];
        sum += (c <= '9' ? c - '0' : c - 'A' + 10) * w[i];
    }
    int c = 11 - sum % 11;
    return c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
}

/* An ID number from its parts with the correct check character. */
static void make_id(char out[19], const char *region, const char *birth, int seq)
{
    snprintf(out, 19, "%.6s%.8s%03d", region, birth, seq % 1000);
    out[17] = ref_id_check(out);
    out[18] = '\0';
}

/* ---- reference implementations agree with published examples ---------- */

Test(validate_reference, published_examples_check_out)
{
    /* GB 11643 example and a widely published sample number. */
    cr_assert_eq(ref_id_check("11010519491231002"), 'X');
    cr_assert_eq(ref_id_check("44052418800101001"), '4');
    cr_assert_eq(ref_uscc_check("91350100M000100Y4"), '3');
    cr_assert_eq(ref_uscc_check("11330100002497102"), 'C');
    /* GB 11714 example D2143569-X. */
    cr_assert_eq(ref_org_check("D2143569"), 'X');
}

/* ---- region codes ------------------------------------------------------- */

Test(region_code, accepts_six_digits_with_a_province_from_11_to_82)
{
    const char *good[] = {"110000", "110105", "330100", "330106", "440524", "650000", "820000", "829999"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_expect(yw_valid_region_code(good[i]), "%s should be valid", good[i]);
}

Test(region_code, rejects_provinces_outside_11_to_82)
{
    const char *bad[] = {"000000", "010000", "100000", "109999", "830000", "900000", "990000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not(yw_valid_region_code(bad[i]), "%s should be rejected", bad[i]);
}

Test(region_code, rejects_wrong_length_and_non_digits)
{
    const char *bad[] = {"", "1", "11000", "1100000", "11000a", "A10000", " 11000", "110000 ",
                         "11-000", "１１００００" /* full-width digits */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not(yw_valid_region_code(bad[i]), "'%s' should be rejected", bad[i]);
    cr_expect_not(yw_valid_region_code(NULL));
}

/* ---- resident ID numbers ------------------------------------------------ */

Test(id_card, check_function_gives_the_standard_check_character)
{
    cr_assert_eq(yw_id_card_check("11010519491231002"), 'X');
    cr_assert_eq(yw_id_card_check("44052418800101001"), '4');
    /* Only the first 17 characters count. */
    cr_assert_eq(yw_id_card_check("11010519491231002X"), 'X');
}

Test(id_card, check_function_refuses_short_or_non_digit_input)
{
    cr_expect_eq(yw_id_card_check("1101051949123100"), 0);
    cr_expect_eq(yw_id_card_check(""), 0);
    cr_expect_eq(yw_id_card_check("1101051949123100A"), 0);
    cr_expect_eq(yw_id_card_check("X1010519491231002"), 0);
    cr_expect_eq(yw_id_card_check(NULL), 0);
}

Test(id_card, accepts_published_valid_numbers)
{
    cr_expect(yw_valid_id_card("11010519491231002X"), "11010519491231002X (check X) should be valid");
    cr_expect(yw_valid_id_card("130503196704010016"), "130503196704010016 should be valid");
    cr_expect(yw_valid_id_card("310104198506120019"), "310104198506120019 should be valid");
    cr_expect(yw_valid_id_card("510108200112310525"), "510108200112310525 should be valid");
}

Test(id_card, generated_numbers_cover_all_eleven_check_values)
{
    /* Walk the sequence number until every check character 0-9 and X has
     * been produced, across several regions and birth dates, including a
     * leap day. */
    const char *regions[] = {"110105", "330106", "440305", "820000"};
    const char *births[] = {"19491231", "19800101", "20000229", "20240229", "19960515"};
    const char all[] = "0123456789X";
    int seen[11] = {0};
    int tried = 0, rejected = 0;
    char first_rejected[19] = "";
    for (size_t r = 0; r < 4; r++)
        for (size_t b = 0; b < 5; b++)
            for (int seq = 0; seq < 40; seq++) {
                char id[19];
                make_id(id, regions[r], births[b], seq * 7 + (int)r);
                cr_assert_eq(yw_id_card_check(id), id[17], "check of %.17s: got %c, want %c", id,
                             yw_id_card_check(id), id[17]);
                if (!yw_valid_id_card(id) && !rejected++)
                    memcpy(first_rejected, id, sizeof id);
                seen[strchr(all, id[17]) - all] = 1;
                tried++;
            }
    for (int i = 0; i < 11; i++)
        cr_assert(seen[i], "check value %c never generated in %d numbers", all[i], tried);
    cr_expect_eq(rejected, 0, "%d of %d valid numbers rejected, e.g. %s", rejected, tried, first_rejected);
}

Test(id_card, rejects_every_wrong_check_character)
{
    char id[19];
    make_id(id, "330106", "19900307", 123);
    cr_assert(yw_valid_id_card(id), "control %s should be valid", id);
    const char candidates[] = "0123456789Xx";
    for (const char *c = candidates; *c; c++) {
        if (*c == id[17])
            continue;
        char bad[19];
        memcpy(bad, id, sizeof bad);
        bad[17] = *c;
        cr_expect_not(yw_valid_id_card(bad), "%s has a wrong check character", bad);
    }
}

Test(id_card, rejects_a_single_changed_digit)
{
    char id[19];
    make_id(id, "110105", "19491231", 2);
    cr_assert(yw_valid_id_card(id), "control %s should be valid", id);
    /* MOD 11-2 detects every single-digit substitution. */
    for (int pos = 14; pos < 17; pos++) {
        char bad[19];
        memcpy(bad, id, sizeof bad);
        bad[pos] = bad[pos] == '9' ? '0' : (char)(bad[pos] + 1);
        cr_expect_not(yw_valid_id_card(bad), "%s differs from %s in one digit", bad, id);
    }
}

Test(id_card, rejects_impossible_birth_dates)
{
    /* Each has a correct check character: only the date is wrong. */
    const char *dates[] = {
        "19900230", /* February 30 */
        "20010229", /* February 29 in a common year */
        "19000229", /* 1900 is not a leap year */
        "19901301", /* month 13 */
        "19900001", /* month 0 */
        "19900100", /* day 0 */
        "19900132", /* January 32 */
        "19900431", /* April 31 */
        "18991231", /* before 1900 */
    };
    char control[19];
    make_id(control, "330106", "19900228", 11);
    cr_assert(yw_valid_id_card(control), "control %s should be valid", control);
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char id[19];
        make_id(id, "330106", dates[i], 11);
        cr_expect_not(yw_valid_id_card(id), "%s has birth date %s", id, dates[i]);
    }
}

Test(id_card, accepts_leap_days_of_leap_years)
{
    const char *dates[] = {"20000229", "19960229", "20240229"};
    for (size_t i = 0; i < 3; i++) {
        char id[19];
        make_id(id, "330106", dates[i], 21);
        cr_expect(yw_valid_id_card(id), "%s (born %s) should be valid", id, dates[i]);
    }
}

Test(id_card, rejects_bad_region_part)
{
    char control[19];
    make_id(control, "110105", "19800101", 5);
    cr_assert(yw_valid_id_card(control), "control %s should be valid", control);
    const char *regions[] = {"000000", "100105", "830105", "990000"};
    for (size_t i = 0; i < 4; i++) {
        char id[19];
        make_id(id, regions[i], "19800101", 5);
        cr_expect_not(yw_valid_id_card(id), "%s has region %s", id, regions[i]);
    }
}

Test(id_card, rejects_wrong_length)
{
    cr_expect_not(yw_valid_id_card(""));
    cr_expect_not(yw_valid_id_card(NULL));
    cr_expect_not(yw_valid_id_card("11010519491231002"));    /* 17: check missing */
    cr_expect_not(yw_valid_id_card("11010519491231002X0"));  /* 19 */
    cr_expect_not(yw_valid_id_card("110105491231002"));      /* old 15-digit form */
    cr_expect_not(yw_valid_id_card(" 11010519491231002X"));
    cr_expect_not(yw_valid_id_card("11010519491231002X "));
}

Test(id_card, rejects_letters_outside_the_check_position)
{
    char control[19];
    make_id(control, "110105", "19491231", 2);
    cr_assert(yw_valid_id_card(control), "control %s should be valid", control);
    for (int pos = 0; pos < 17; pos++) {
        char bad[19];
        memcpy(bad, control, sizeof bad);
        bad[pos] = 'X';
        cr_expect_not(yw_valid_id_card(bad), "%s has a letter at %d", bad, pos);
    }
    cr_expect_not(yw_valid_id_card("11010519491231002A"));
    cr_expect_not(yw_valid_id_card("ABCDEFGHIJKLMNOPQR"));
}

/* ---- unified social credit codes --------------------------------------- */

Test(uscc, check_function_gives_the_standard_check_character)
{
    cr_assert_eq(yw_uscc_check("91350100M000100Y4"), '3');
    cr_assert_eq(yw_uscc_check("11330100002497102"), 'C');
}

Test(uscc, check_function_refuses_short_input_and_letters_outside_the_alphabet)
{
    cr_expect_eq(yw_uscc_check("91350100M000100Y"), 0);
    cr_expect_eq(yw_uscc_check(""), 0);
    cr_expect_eq(yw_uscc_check(NULL), 0);
    cr_expect_eq(yw_uscc_check("91350100I000100Y4"), 0);
    cr_expect_eq(yw_uscc_check("91350100m000100Y4"), 0);
}

Test(uscc, accepts_published_valid_codes)
{
    cr_expect(yw_valid_uscc("91350100M000100Y43"));
    cr_expect(yw_valid_uscc("11330100002497102C"));
}

Test(uscc, generated_codes_cover_every_check_character)
{
    /* Bodies: authority and category, a region, then an organization code
     * with its own check; vary the organization code until all 31 check
     * characters have occurred. */
    int seen[31] = {0}, nseen = 0;
    unsigned state = 12345;
    for (int n = 0; n < 20000 && nseen < 31; n++) {
        char body[18], org[10];
        for (int i = 0; i < 8; i++) {
            state = state * 1103515245u + 12345u;
            org[i] = "0123456789ABCDEFGHJKLMNPQRTUWXY"[(state >> 16) % 31];
        }
        org[8] = ref_org_check(org);
        org[9] = '\0';
        snprintf(body, sizeof body, "%s%s%s", n % 2 ? "91" : "12", n % 3 ? "330106" : "110000", org);
        char want = ref_uscc_check(body);
        cr_assert_eq(yw_uscc_check(body), want, "check of %s: got %c, want %c", body, yw_uscc_check(body),
                     want);
        char code[19];
        snprintf(code, sizeof code, "%s%c", body, want);
        cr_assert(yw_valid_uscc(code), "%s should be valid", code);
        int v = (int)(strchr(uscc_alpha, want) - uscc_alpha);
        if (!seen[v]++)
            nseen++;
    }
    cr_assert_eq(nseen, 31, "only %d of 31 check characters generated", nseen);
}

Test(uscc, rejects_every_wrong_check_character)
{
    const char *good = "91350100M000100Y43";
    cr_assert(yw_valid_uscc(good), "control %s should be valid", good);
    for (const char *c = uscc_alpha; *c; c++) {
        if (*c == good[17])
            continue;
        char bad[19];
        memcpy(bad, good, sizeof bad);
        bad[17] = *c;
        cr_expect_not(yw_valid_uscc(bad), "%s has a wrong check character", bad);
    }
}

Test(uscc, rejects_forbidden_letters_I_O_S_V_Z)
{
    const char forbidden[] = "IOSVZ";
    cr_assert(yw_valid_uscc("91350100M000100Y43"), "control should be valid");
    for (const char *f = forbidden; *f; f++) {
        /* as the check character */
        char bad[19];
        memcpy(bad, "91350100M000100Y43", sizeof bad);
        bad[17] = *f;
        cr_expect_not(yw_valid_uscc(bad), "%s ends in forbidden %c", bad, *f);
        /* inside the organization code part */
        memcpy(bad, "91350100M000100Y43", sizeof bad);
        bad[8] = *f;
        cr_expect_not(yw_valid_uscc(bad), "%s holds forbidden %c", bad, *f);
        cr_expect_eq(yw_uscc_check(bad), 0, "no check character for a body holding %c", *f);
    }
}

Test(uscc, rejects_lower_case)
{
    cr_expect_not(yw_valid_uscc("91350100m000100y43"));
    cr_expect_not(yw_valid_uscc("11330100002497102c"));
}

Test(uscc, rejects_wrong_length)
{
    cr_expect_not(yw_valid_uscc(""));
    cr_expect_not(yw_valid_uscc(NULL));
    cr_expect_not(yw_valid_uscc("91350100M000100Y4"));
    cr_expect_not(yw_valid_uscc("91350100M000100Y433"));
    cr_expect_not(yw_valid_uscc("M000100Y4")); /* an organization code alone */
}

Test(uscc, rejects_letters_in_the_region_part)
{
    /* A correct check character over a body whose region part holds a letter. */
    char body[18] = "91A50100M000100Y4";
    char code[19];
    snprintf(code, sizeof code, "%s%c", body, ref_uscc_check(body));
    cr_expect_not(yw_valid_uscc(code), "%s has a letter in its region code", code);
}

/* ---- organization codes ------------------------------------------------ */

Test(org_code, check_function_gives_the_standard_check_character)
{
    cr_assert_eq(yw_org_code_check("D2143569"), 'X');  /* GB 11714 example */
    cr_assert_eq(yw_org_code_check("00000006"), 'X');  /* 11 - 1 = 10 → X */
    cr_assert_eq(yw_org_code_check("00000000"), '0');  /* 11 - 0 = 11 → 0 */
    cr_assert_eq(yw_org_code_check("M000100Y"), '4');  /* inside 91350100M000100Y43 */
    cr_assert_eq(yw_org_code_check("00249710"), '2');  /* inside 11330100002497102C */
    cr_assert_eq(yw_org_code_check("12345678"), '8');
}

Test(org_code, check_function_refuses_bad_input)
{
    cr_expect_eq(yw_org_code_check("D214356"), 0);
    cr_expect_eq(yw_org_code_check(""), 0);
    cr_expect_eq(yw_org_code_check(NULL), 0);
    cr_expect_eq(yw_org_code_check("d2143569"), 0);
    cr_expect_eq(yw_org_code_check("D214-569"), 0);
}

Test(org_code, accepts_valid_codes_including_X_and_0_checks)
{
    cr_expect(yw_valid_org_code("D2143569X"));
    cr_expect(yw_valid_org_code("00000006X"));
    cr_expect(yw_valid_org_code("000000000"));
    cr_expect(yw_valid_org_code("M000100Y4"));
    cr_expect(yw_valid_org_code("002497102"));
}

Test(org_code, generated_codes_cover_all_eleven_check_values)
{
    const char all[] = "0123456789X";
    int seen[11] = {0};
    for (int n = 0; n < 400; n++) {
        char code[10];
        snprintf(code, sizeof code, "%c%07d", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 36], n * 7919 % 10000000);
        code[8] = ref_org_check(code);
        code[9] = '\0';
        cr_assert_eq(yw_org_code_check(code), code[8], "check of %.8s", code);
        cr_expect(yw_valid_org_code(code), "%s should be valid", code);
        seen[strchr(all, code[8]) - all] = 1;
    }
    for (int i = 0; i < 11; i++)
        cr_assert(seen[i], "check value %c never generated", all[i]);
}

Test(org_code, rejects_wrong_check_character)
{
    const char *checks = "0123456789Xx";
    cr_assert(yw_valid_org_code("D2143569X"), "control D2143569X should be valid");
    for (const char *c = checks; *c; c++) {
        if (*c == 'X')
            continue;
        char bad[10] = "D2143569X";
        bad[8] = *c;
        cr_expect_not(yw_valid_org_code(bad), "%s has a wrong check character", bad);
    }
}

Test(org_code, rejects_wrong_length_and_bad_characters)
{
    cr_expect_not(yw_valid_org_code(""));
    cr_expect_not(yw_valid_org_code(NULL));
    cr_expect_not(yw_valid_org_code("D2143569"));
    cr_expect_not(yw_valid_org_code("D2143569X0"));
    cr_expect_not(yw_valid_org_code("d2143569X"));
    cr_expect_not(yw_valid_org_code("D21435#9X"));
}

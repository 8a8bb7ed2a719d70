/*
 * Check-digit validators (see validate.h). The weights and alphabets are
 * those of the standards, summarised in shared/reference/standards.md.
 */
#include "core/validate.h"

#include <string.h>

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int uscc_value(char c)
{
    const char *p = c ? strchr(uscc_alphabet, c) : NULL;
    return p ? (int)(p - uscc_alphabet) : -1;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool yw_valid_region_code(const char *s)
{
    if (!s || strlen(s) != 6 || !all_digits(s, 6))
        return false;
    int province = digits_value(s, 2);
    /* GB/T 2260 provinces run from 11 (Beijing) to 82 (Macao). */
    return province >= 11 && province <= 82;
}

char yw_id_card_check(const char *s)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";
    if (!s || strnlen(s, 17) < 17 || !all_digits(s, 17))
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s[i] - '0') * weights[i];
    return checks[sum % 11];
}

static bool valid_date(int y, int m, int d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1)
        return false;
    int max = days[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

bool yw_valid_iso_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) || !all_digits(s + 5, 2) ||
        !all_digits(s + 8, 2))
        return false;
    return valid_date(digits_value(s, 4), digits_value(s + 5, 2), digits_value(s + 8, 2));
}

bool yw_valid_id_card(const char *s)
{
    if (!s || strlen(s) != 18 || !all_digits(s, 17))
        return false;
    char region[7];
    memcpy(region, s, 6);
    region[6] = '\0';
    if (!yw_valid_region_code(region))
        return false;
    if (!valid_date(digits_value(s + 6, 4), digits_value(s + 10, 2), digits_value(s + 12, 2)))
        return false;
    return yw_id_card_check(s) == s[17];
}

char yw_org_code_check(const char *s)
{
    static const int weights[8] = {3, 7, 9, 10, 5, 8, 4, 2};
    if (!s || strnlen(s, 8) < 8)
        return 0;
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        int v;
        if (s[i] >= '0' && s[i] <= '9')
            v = s[i] - '0';
        else if (s[i] >= 'A' && s[i] <= 'Z')
            v = s[i] - 'A' + 10;
        else
            return 0;
        sum += v * weights[i];
    }
    int c = 11 - sum % 11;
    if (c == 10)
        return 'X';
    if (c == 11)
        return '0';
    return (char)('0' + c);
}

bool yw_valid_org_code(const char *s)
{
    if (!s || strlen(s) != 9)
        return false;
    char c = yw_org_code_check(s);
    return c && c == s[8];
}

char yw_uscc_check(const char *s)
{
    static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    if (!s || strnlen(s, 17) < 17)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        int v = uscc_value(s[i]);
        if (v < 0)
            return 0;
        sum += v * weights[i];
    }
    int c = 31 - sum % 31;
    return uscc_alphabet[c == 31 ? 0 : c];
}

bool yw_valid_uscc(const char *s)
{
    if (!s || strlen(s) != 18)
        return false;
    /* Positions 3-8 hold a region code; national bodies use 100000, which
     * GB/T 2260 does not list, so only the digits are checked here. */
    if (!all_digits(s + 2, 6))
        return false;
    char c = yw_uscc_check(s);
    return c && c == s[17];
}

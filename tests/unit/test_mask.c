/*
 * Masking by kind: each kind keeps exactly what DESIGN.md §6 says, counts
 * characters rather than bytes, and hides short or unknown values whole.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sec/mask.h"

static char out[1024];

static const char *masked(const char *kind, const char *value)
{
    yw_buf b = YW_BUF_INIT;
    yw_mask(kind, value, &b);
    yw_buf_append(&b, "", 1);
    snprintf(out, sizeof out, "%s", b.data);
    yw_buf_free(&b);
    return out;
}

Test(mask, id_card_keeps_region_and_last_four)
{
    cr_assert_str_eq(masked("id_card", "330106199001011234"), "330106********1234");
    cr_assert_str_eq(masked("id_card", "33010619900101123X"), "330106********123X");
}

Test(mask, phone_keeps_prefix_and_last_four)
{
    cr_assert_str_eq(masked("phone", "13812345678"), "138****5678");
}

Test(mask, name_keeps_the_first_character_of_chinese_and_latin_names)
{
    cr_assert_str_eq(masked("name", "张三"), "张*");
    cr_assert_str_eq(masked("name", "欧阳修文"), "欧***");
    cr_assert_str_eq(masked("name", "John"), "J***");
}

Test(mask, address_keeps_the_district)
{
    cr_assert_str_eq(masked("address", "浙江省杭州市西湖区文三路90号"), "浙江省杭州市西湖区****");
    cr_assert_str_eq(masked("address", "浙江省淳安县千岛湖镇1号"), "浙江省淳安县****");
    /* no district: the first six characters */
    cr_assert_str_eq(masked("address", "杭州市文三路九十号三幢"), "杭州市文三路****");
}

Test(mask, bank_card_keeps_last_four)
{
    cr_assert_str_eq(masked("bank_card", "6222021234567890"), "************7890");
}

Test(mask, full_and_none_and_unknown_hide_everything)
{
    cr_assert_str_eq(masked("full", "秘密"), "***");
    cr_assert_str_eq(masked("none", "1990-01-01"), "***");
    cr_assert_str_eq(masked("whatever", "abc"), "***");
}

Test(mask, values_too_short_to_keep_anything_are_hidden_whole)
{
    cr_assert_str_eq(masked("id_card", "12345"), "*****");
    cr_assert_str_eq(masked("phone", ""), "***");
    cr_assert_str_eq(masked("name", "张"), "*");
    cr_assert_str_eq(masked("address", "西湖区"), "***");
}

Test(mask, output_is_valid_utf8_for_long_values)
{
    char value[4000] = "";
    for (int i = 0; i < 300; i++)
        strcat(value, "测");
    const char *m = masked("name", value);
    cr_assert(strncmp(m, "测*", strlen("测*")) == 0);
    cr_assert_str_eq(masked("id_card", value), "***");
}

Test(mask, kinds_are_known_by_name)
{
    cr_assert(yw_mask_kind_known("id_card"));
    cr_assert(yw_mask_kind_known("full"));
    cr_assert_not(yw_mask_kind_known("ID_CARD"));
}

/*
 * Data elements: definitions are checked before they are stored, and values
 * are checked against type, length and validator as imports will do.
 */
#include <criterion/criterion.h>

#include "catalog/element.h"

static yw_element element(const char *type, int length, const char *validator)
{
    return (yw_element){.id = "x_item", .name = "项", .type = type, .length = length, .validator = validator,
                        .sensitivity = "L2", .mask = "none"};
}

Test(element, definitions_are_validated)
{
    yw_element e = element("C", 18, "id_card");
    cr_assert_null(yw_element_validate(&e));
    e.id = "Bad-Id";
    cr_assert_not_null(yw_element_validate(&e));
    e = element("Q", 0, NULL);
    cr_assert_not_null(yw_element_validate(&e), "unknown type");
    e = element("C", 0, "regex:([");
    cr_assert_not_null(yw_element_validate(&e), "bad regex");
    e = element("C", 0, "range:5..1");
    cr_assert_not_null(yw_element_validate(&e), "empty range");
    e = element("C", 0, "enum:");
    cr_assert_not_null(yw_element_validate(&e), "empty enum");
    e = element("C", 0, "soundex");
    cr_assert_not_null(yw_element_validate(&e), "unknown validator");
    e = element("C", 0, NULL);
    e.sensitivity = "L5";
    cr_assert_not_null(yw_element_validate(&e));
    e = element("C", 0, NULL);
    e.mask = "blur";
    cr_assert_not_null(yw_element_validate(&e));
    e = element("N", 0, "range:0..100000");
    cr_assert_null(yw_element_validate(&e));
    e = element("N", 0, "range:..0");
    cr_assert_null(yw_element_validate(&e));
}

Test(element, identifiers_use_the_national_check_digits)
{
    yw_element id = element("C", 18, "id_card"), uscc = element("C", 18, "uscc");
    cr_assert_null(yw_element_check_value(&id, "11010519491231002X"));
    cr_assert_not_null(yw_element_check_value(&id, "110105194912310021"));
    cr_assert_null(yw_element_check_value(&uscc, "91350100M000100Y43"));
    cr_assert_not_null(yw_element_check_value(&uscc, "91350100M000100Y44"));
    yw_element org = element("C", 9, "org_code"), region = element("C", 6, "region");
    cr_assert_not_null(yw_element_check_value(&org, "12345678A"));
    cr_assert_null(yw_element_check_value(&region, "330106"));
    cr_assert_not_null(yw_element_check_value(&region, "990106"));
}

Test(element, phones_dates_and_times)
{
    yw_element phone = element("C", 11, "phone"), date = element("D", 10, "date"), dt = element("T", 0, "datetime");
    cr_assert_null(yw_element_check_value(&phone, "13812345678"));
    cr_assert_not_null(yw_element_check_value(&phone, "12812345678"));
    cr_assert_not_null(yw_element_check_value(&phone, "1381234567"));
    cr_assert_null(yw_element_check_value(&date, "2024-02-29"));
    cr_assert_not_null(yw_element_check_value(&date, "2023-02-29"));
    cr_assert_not_null(yw_element_check_value(&date, "2024-2-9"));
    cr_assert_null(yw_element_check_value(&dt, "2026-11-26T08:00:00+08:00"));
    cr_assert_not_null(yw_element_check_value(&dt, "2026-11-26 noon"));
}

Test(element, enums_ranges_patterns_and_lengths)
{
    yw_element g = element("C", 1, "enum:0|1|2|9");
    cr_assert_null(yw_element_check_value(&g, "1"));
    cr_assert_not_null(yw_element_check_value(&g, "3"));
    cr_assert_not_null(yw_element_check_value(&g, "12"), "too long, and not listed");
    yw_element r = element("N", 0, "range:0..100");
    cr_assert_null(yw_element_check_value(&r, "99.5"));
    cr_assert_not_null(yw_element_check_value(&r, "100.1"));
    cr_assert_not_null(yw_element_check_value(&r, "-1"));
    cr_assert_not_null(yw_element_check_value(&r, "lots"));
    yw_element open_top = element("Y", 0, "range:0..");
    cr_assert_null(yw_element_check_value(&open_top, "1e9"));
    cr_assert_not_null(yw_element_check_value(&open_top, "-0.01"));
    yw_element p = element("C", 0, "regex:[0-9]{2}");
    cr_assert_null(yw_element_check_value(&p, "56"));
    cr_assert_not_null(yw_element_check_value(&p, "567"), "the pattern must match the whole value");
    yw_element name = element("C", 4, NULL);
    cr_assert_null(yw_element_check_value(&name, "欧阳娜娜"), "length counts characters, not bytes");
    cr_assert_not_null(yw_element_check_value(&name, "欧阳娜娜娜"));
    yw_element i = element("I", 0, NULL), l = element("L", 0, NULL);
    cr_assert_null(yw_element_check_value(&i, "42"));
    cr_assert_not_null(yw_element_check_value(&i, "4.2"));
    cr_assert_null(yw_element_check_value(&l, "true"));
    cr_assert_not_null(yw_element_check_value(&l, "yes"));
}

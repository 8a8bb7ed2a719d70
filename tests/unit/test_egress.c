/*
 * Unit tests of sec/egress.h: lists of denied networks and the addresses
 * they catch, IPv4, IPv6 and IPv4-mapped IPv6.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <string.h>

#include "sec/egress.h"

static const yw_egress_net *check(const yw_egress *e, const char *address)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, address, &a4.sin_addr) == 1)
        return yw_egress_denied(e, (struct sockaddr *)&a4);
    cr_assert_eq(inet_pton(AF_INET6, address, &a6.sin6_addr), 1, "%s", address);
    return yw_egress_denied(e, (struct sockaddr *)&a6);
}

Test(egress, the_default_list_denies_loopback_and_link_local_but_not_the_intranet)
{
    yw_egress e;
    char err[200];
    cr_assert_eq(yw_egress_parse("127.0.0.0/8,0.0.0.0/8,169.254.0.0/16,::1/128,::/128,fe80::/10", &e, err, sizeof err),
                 0, "%s", err);
    const char *denied[] = {"127.0.0.1", "127.255.255.254", "0.0.0.0", "169.254.169.254", "::1", "::",
                            "fe80::1", "febf:ffff::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254"};
    for (size_t i = 0; i < sizeof denied / sizeof *denied; i++)
        cr_expect_not_null(check(&e, denied[i]), "%s should be denied", denied[i]);
    const char *allowed[] = {"10.1.2.3", "172.16.0.9", "192.168.1.1", "128.0.0.1", "169.253.255.255", "169.255.0.1",
                             "2001:db8::1", "fec0::1", "::ffff:10.0.0.1", "::2"};
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        cr_expect_null(check(&e, allowed[i]), "%s should be allowed", allowed[i]);
    cr_expect_str_eq(check(&e, "169.254.1.1")->text, "169.254.0.0/16");
}

Test(egress, prefixes_that_do_not_end_on_a_byte)
{
    yw_egress e;
    char err[200];
    cr_assert_eq(yw_egress_parse(" 172.16.0.0/12 , 10.0.0.1 ", &e, err, sizeof err), 0, "%s", err);
    cr_expect_not_null(check(&e, "172.31.255.255"));
    cr_expect_null(check(&e, "172.32.0.0"));
    cr_expect_null(check(&e, "172.15.255.255"));
    cr_expect_not_null(check(&e, "10.0.0.1"), "a bare address is a /32");
    cr_expect_null(check(&e, "10.0.0.2"));
}

Test(egress, an_empty_list_denies_nothing_and_bad_lists_are_refused)
{
    yw_egress e;
    char err[200];
    cr_assert_eq(yw_egress_parse("", &e, err, sizeof err), 0);
    cr_expect_null(check(&e, "127.0.0.1"));
    cr_expect_null(yw_egress_denied(NULL, NULL), "no policy: nothing denied");
    const char *bad[] = {"localhost", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "::1/129", "1.2.3/8", "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        cr_expect_eq(yw_egress_parse(bad[i], &e, err, sizeof err), -1, "%s", bad[i]);
        cr_expect(strstr(err, "is not a network") != NULL, "%s: %s", bad[i], err);
    }
}

Test(egress, literal_addresses_in_urls_are_caught_before_anything_is_sent)
{
    yw_egress e;
    char err[200];
    cr_assert_eq(yw_egress_parse("169.254.0.0/16,fe80::/10", &e, err, sizeof err), 0);
    cr_expect_not_null(yw_egress_denied_url(&e, "http://169.254.169.254/latest"));
    cr_expect_not_null(yw_egress_denied_url(&e, "http://2852039166/"), "a number for an address");
    cr_expect_not_null(yw_egress_denied_url(&e, "https://[fe80::1]:8443/x"));
    cr_expect_null(yw_egress_denied_url(&e, "https://hooks.example.gov.cn/x"), "names are checked at connect time");
    cr_expect_null(yw_egress_denied_url(&e, "http://10.0.0.8/x"));
}

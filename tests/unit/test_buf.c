/*
 * Unit tests of core/buf.h: the growable, always NUL-terminated buffer.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

Test(buf, append_puts_and_printf_concatenate)
{
    yw_buf b = YW_BUF_INIT;
    yw_buf_puts(&b, "a");
    yw_buf_printf(&b, "%d-%s", 42, "x");
    yw_buf_append(&b, "yz", 1);
    cr_expect_str_eq(b.data, "a42-xy");
    cr_expect_eq(b.len, 6);
    cr_expect_gt(b.cap, b.len);
    yw_buf_free(&b);
}

Test(buf, binary_data_keeps_its_length_and_a_terminator)
{
    yw_buf b = YW_BUF_INIT;
    const char bin[] = {'a', '\0', 'b', '\xff'};
    yw_buf_append(&b, bin, sizeof bin);
    cr_expect_eq(b.len, 4);
    cr_expect_eq(memcmp(b.data, bin, 4), 0);
    cr_expect_eq(b.data[4], '\0');
    yw_buf_free(&b);
}

Test(buf, grows_far_beyond_its_first_allocation)
{
    yw_buf b = YW_BUF_INIT;
    char chunk[1000];
    for (int i = 0; i < 1000; i++) {
        memset(chunk, 'a' + i % 26, sizeof chunk);
        yw_buf_append(&b, chunk, (size_t)(i % 1000) + 1);
    }
    size_t want = 0;
    for (int i = 0; i < 1000; i++)
        want += (size_t)(i % 1000) + 1;
    cr_assert_eq(b.len, want);
    cr_expect_eq(b.data[b.len], '\0');
    cr_expect_eq(strlen(b.data), want);
    /* spot checks: first byte of each chunk */
    size_t off = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(b.data[off], 'a' + i % 26, "chunk %d", i);
        off += (size_t)(i % 1000) + 1;
    }
    yw_buf_free(&b);
}

Test(buf, printf_output_larger_than_the_buffer)
{
    yw_buf b = YW_BUF_INIT;
    yw_buf_puts(&b, "<");
    yw_buf_printf(&b, "%3000s", "x");
    yw_buf_printf(&b, "%s", "");
    yw_buf_puts(&b, ">");
    cr_expect_eq(b.len, 3002);
    cr_expect_eq(strlen(b.data), 3002);
    cr_expect_eq(b.data[3000], 'x');
    cr_expect_eq(b.data[3001], '>');
    yw_buf_free(&b);
}

Test(buf, reset_empties_but_keeps_memory)
{
    yw_buf b = YW_BUF_INIT;
    yw_buf_puts(&b, "hello");
    size_t cap = b.cap;
    yw_buf_reset(&b);
    cr_expect_eq(b.len, 0);
    cr_expect_str_eq(b.data, "");
    cr_expect_eq(b.cap, cap);
    yw_buf_puts(&b, "again");
    cr_expect_str_eq(b.data, "again");
    yw_buf_free(&b);
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    /* reset and free of an empty buffer are harmless */
    yw_buf_reset(&b);
    yw_buf_free(&b);
}

Test(buf, take_hands_over_the_string_and_resets)
{
    yw_buf b = YW_BUF_INIT;
    yw_buf_printf(&b, "%s=%d", "n", 5);
    char *s = yw_buf_take(&b);
    cr_expect_str_eq(s, "n=5");
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    cr_expect_eq(b.cap, 0);
    /* the buffer is usable again and independent of the taken string */
    yw_buf_puts(&b, "next");
    cr_expect_str_eq(s, "n=5");
    cr_expect_str_eq(b.data, "next");
    free(s);
    yw_buf_free(&b);
}

Test(buf, take_of_an_empty_buffer_is_an_empty_string)
{
    /* "The buffer is always NUL-terminated": a caller that builds nothing
     * (an empty CSV, no metrics) and takes the result must get "". */
    yw_buf b = YW_BUF_INIT;
    char *s = yw_buf_take(&b);
    cr_assert_not_null(s);
    cr_expect_eq(s[0], '\0', "take of a fresh buffer returned unterminated memory (first byte 0x%02x)",
                 (unsigned char)s[0]);
    free(s);
}

Test(buf, take_after_reset_is_an_empty_string)
{
    yw_buf b = YW_BUF_INIT;
    yw_buf_puts(&b, "discarded");
    yw_buf_reset(&b);
    char *s = yw_buf_take(&b);
    cr_assert_not_null(s);
    cr_expect_str_eq(s, "");
    free(s);
}

Test(buf, room_is_written_in_place_and_counted)
{
    yw_buf b = YW_BUF_INIT;
    yw_buf_puts(&b, "ab");
    char *p = yw_buf_room(&b, 1000);
    memset(p, 'x', 1000);
    yw_buf_added(&b, 3); /* fewer than the room taken */
    cr_assert_str_eq(b.data, "abxxx");
    cr_assert_eq(b.len, 5);
    cr_assert_geq(b.cap, 1003);
    yw_buf_free(&b);
}

Test(buf, wipe_releases_like_free)
{
    yw_buf b = YW_BUF_INIT;
    yw_buf_puts(&b, "秘密");
    yw_buf_wipe(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    yw_buf empty = YW_BUF_INIT;
    yw_buf_wipe(&empty); /* nothing to zero */
    cr_assert_null(empty.data);
}

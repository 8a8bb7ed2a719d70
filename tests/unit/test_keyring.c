/*
 * Keys for data at rest: values round-trip through encryption, are bound to
 * their context, differ each time, and refuse tampering; blind indexes are
 * stable, keyed and context-separated; the key file is created once, 0600.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sec/keyring.h"

static char dir[] = "/tmp/yiwang-keys-XXXXXX";
static yw_keyring *k;

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    char err[256];
    k = yw_keyring_open(dir, err, sizeof err);
    cr_assert_not_null(k, "%s", err);
}

static void teardown(void)
{
    yw_keyring_close(k);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, YW_KEYS_FILE);
    unlink(path);
    rmdir(dir);
}

TestSuite(keyring, .init = setup, .fini = teardown);

Test(keyring, values_round_trip_and_differ_each_time)
{
    yw_buf a = YW_BUF_INIT, b = YW_BUF_INIT, plain = YW_BUF_INIT;
    const char *v = "\"张三\"";
    cr_assert_eq(yw_field_encrypt(k, "R1/name", v, strlen(v), &a), 0);
    cr_assert_eq(yw_field_encrypt(k, "R1/name", v, strlen(v), &b), 0);
    cr_assert(yw_field_is_encrypted(a.data));
    cr_assert_str_neq(a.data, b.data, "a fresh nonce every time");
    cr_assert_null(strstr(a.data, "张三"));
    cr_assert_eq(yw_field_decrypt(k, "R1/name", a.data, &plain), 0);
    cr_assert_str_eq(plain.data, v);
    yw_buf_free(&a);
    yw_buf_free(&b);
    yw_buf_free(&plain);
}

Test(keyring, a_value_moved_or_altered_does_not_decrypt)
{
    yw_buf a = YW_BUF_INIT, plain = YW_BUF_INIT;
    cr_assert_eq(yw_field_encrypt(k, "R1/name", "x", 1, &a), 0);
    cr_assert_lt(yw_field_decrypt(k, "R1/phone", a.data, &plain), 0, "another item");
    cr_assert_lt(yw_field_decrypt(k, "R2/name", a.data, &plain), 0, "another resource");
    char *bad = strdup(a.data);
    bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
    cr_assert_lt(yw_field_decrypt(k, "R1/name", bad, &plain), 0, "a changed byte");
    cr_assert_lt(yw_field_decrypt(k, "R1/name", "enc:1:9:AAAA", &plain), 0, "an unknown key id");
    cr_assert_lt(yw_field_decrypt(k, "R1/name", "plain text", &plain), 0);
    free(bad);
    yw_buf_free(&a);
    yw_buf_free(&plain);
}

Test(keyring, blind_indexes_are_stable_keyed_and_separated)
{
    char a[YW_BLIND_INDEX_LEN], b[YW_BLIND_INDEX_LEN], c[YW_BLIND_INDEX_LEN];
    yw_blind_index(k, "R1", "11010519491231002X", a);
    yw_blind_index(k, "R1", "11010519491231002X", b);
    yw_blind_index(k, "R2", "11010519491231002X", c);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c, "the context separates resources");
    cr_assert_eq(strlen(a), 64);
    /* the same key file gives the same index after a restart */
    char err[256];
    yw_keyring *again = yw_keyring_open(dir, err, sizeof err);
    cr_assert_not_null(again);
    yw_blind_index(again, "R1", "11010519491231002X", c);
    cr_assert_str_eq(a, c);
    yw_keyring_close(again);
}

Test(keyring, the_key_file_is_private)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, YW_KEYS_FILE);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(keyring, a_rotation_adds_a_key_that_encrypts_while_old_values_still_decrypt)
{
    yw_buf old = YW_BUF_INIT, fresh = YW_BUF_INIT, plain = YW_BUF_INIT;
    cr_assert_eq(yw_field_encrypt(k, "R/x", "v", 1, &old), 0);
    cr_assert_eq(yw_field_key_id(old.data), 1);
    char err[256];
    int id = 0;
    cr_assert_eq(yw_keyring_add(dir, &id, err, sizeof err), 0, "%s", err);
    cr_assert_eq(id, 2);
    cr_assert_eq(yw_keyring_current(k), 1, "a loaded keyring changes only when refreshed");
    cr_assert_eq(yw_keyring_refresh(k, dir), 1);
    cr_assert_eq(yw_keyring_refresh(k, dir), 0);
    cr_assert_eq(yw_keyring_current(k), 2);
    cr_assert_eq(yw_field_encrypt(k, "R/x", "w", 1, &fresh), 0);
    cr_assert_eq(yw_field_key_id(fresh.data), 2);
    cr_assert_eq(yw_field_decrypt(k, "R/x", old.data, &plain), 0, "values under the old key still decrypt");
    cr_assert_str_eq(plain.data, "v");
    /* the blind index does not change with a rotation */
    char a[YW_BLIND_INDEX_LEN], b[YW_BLIND_INDEX_LEN];
    yw_blind_index(k, "R", "x", a);
    yw_keyring *reloaded = yw_keyring_open(dir, err, sizeof err);
    yw_blind_index(reloaded, "R", "x", b);
    cr_assert_str_eq(a, b);
    cr_assert_eq(yw_keyring_current(reloaded), 2);
    yw_keyring_close(reloaded);
    yw_buf_free(&old);
    yw_buf_free(&fresh);
    yw_buf_free(&plain);
}

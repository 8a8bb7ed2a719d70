/*
 * Unit tests of sec/: the password policy, generation and argon2id
 * hashing (sec/password.h), bearer tokens (sec/token.h) and TOTP with its
 * base32 secrets (sec/totp.h), the latter against the RFC 6238 and
 * RFC 4648 test vectors.
 */
#include <criterion/criterion.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "sec/digest.h"
#include "sec/password.h"
#include "sec/token.h"
#include "sec/totp.h"

static void init_sodium(void)
{
    cr_assert_geq(sodium_init(), 0);
}

/* ---- password policy ---------------------------------------------------- */

Test(password_policy, accepts_good_passwords)
{
    const char *good[] = {
        "Abcdefgh12",            /* exactly 10, lower+upper+digit */
        "abcdefgh1!",            /* lower+digit+other */
        "ABCDEFGH!2",            /* upper+other+digit */
        "Correct-Horse-Battery", /* lower+upper+other */
        "密码abcdEFGH",          /* non-ASCII counts as other */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = yw_password_policy(good[i], "zhangsan");
        cr_expect_null(why, "'%s' rejected: %s", good[i], why);
    }
}

Test(password_policy, rejects_short_passwords)
{
    const char *why = yw_password_policy("Ab1!Ab1!A", NULL); /* 9 characters, 4 classes */
    cr_assert_not_null(why);
    cr_expect(strstr(why, "10") != NULL, "'%s'", why);
    cr_expect_not_null(yw_password_policy("", NULL));
}

Test(password_policy, rejects_fewer_than_three_classes)
{
    const char *bad[] = {"abcdefghijkl", "ABCDEFGHIJKL", "123456789012", "!@#$%^&*()-+",
                         "abcdefgh12", "ABCDEFGHij", "abcdef!!!!", "1234567!!!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not_null(yw_password_policy(bad[i], NULL), "'%s' accepted", bad[i]);
}

Test(password_policy, rejects_passwords_containing_the_username)
{
    cr_expect_not_null(yw_password_policy("zhangsan#2024", "zhangsan"));
    cr_expect_not_null(yw_password_policy("X1!ZhangSan99", "zhangsan"), "the check must ignore case");
    cr_expect_not_null(yw_password_policy("9!ZHANGSANx", "ZhangSan"));
    /* the same password is fine for someone else */
    cr_expect_null(yw_password_policy("zhangsan#2024", "lisi_01"));
}

Test(password_policy, rejects_overlong_passwords)
{
    char p[300];
    memset(p, 'a', sizeof p);
    memcpy(p, "A1", 2);
    p[256] = '\0';
    cr_expect_null(yw_password_policy(p, NULL), "256 bytes should be allowed");
    p[256] = 'a';
    p[257] = '\0';
    cr_expect_not_null(yw_password_policy(p, NULL), "257 bytes accepted");
}

/* ---- password generation ------------------------------------------------ */

Test(password_generate, always_satisfies_the_policy)
{
    init_sodium();
    char first[17] = "";
    int differs = 0;
    for (int i = 0; i < 5000; i++) {
        char p[17];
        memset(p, 0x7f, sizeof p);
        yw_password_generate(p);
        cr_assert_eq(strlen(p), 16, "'%s'", p);
        const char *why = yw_password_policy(p, "admin");
        cr_assert_null(why, "generated '%s' fails the policy: %s", p, why);
        /* no look-alike characters, so it can be read out */
        cr_assert_null(strpbrk(p, "0O1lI"), "'%s' has a look-alike character", p);
        if (i == 0)
            memcpy(first, p, sizeof p);
        else
            differs |= strcmp(first, p) != 0;
    }
    cr_expect(differs, "every generated password was the same");
}

/* ---- password hashing (argon2id is slow: two hashes in all) -------------- */

Test(password_hash, round_trip_and_wrong_passwords, .timeout = 60)
{
    init_sodium();
    char h1[YW_PASSWORD_HASH_LEN], h2[YW_PASSWORD_HASH_LEN];
    cr_assert_eq(yw_password_hash("Correct-Horse9", h1), 0);
    cr_expect_eq(strncmp(h1, "$argon2id$", 10), 0, "'%s' is not argon2id", h1);
    cr_expect(yw_password_verify(h1, "Correct-Horse9"));
    cr_expect_not(yw_password_verify(h1, "correct-Horse9"));
    cr_expect_not(yw_password_verify(h1, "Correct-Horse"));
    cr_expect_not(yw_password_verify(h1, "Correct-Horse9 "));
    cr_expect_not(yw_password_verify(h1, ""));
    /* a second hash of the same password is salted differently */
    cr_assert_eq(yw_password_hash("Correct-Horse9", h2), 0);
    cr_expect_str_neq(h1, h2);
    cr_expect(yw_password_verify(h2, "Correct-Horse9"));
}

Test(password_hash, verify_refuses_missing_or_garbled_hashes)
{
    init_sodium();
    cr_expect_not(yw_password_verify(NULL, "x"));
    cr_expect_not(yw_password_verify("$argon2id$garbage", "x"));
    cr_expect_not(yw_password_verify("", ""));
    cr_expect_not(yw_password_verify("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaA", NULL));
}

/* ---- tokens ------------------------------------------------------------- */

static int base64url_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

Test(token, has_prefix_and_43_base64url_characters)
{
    init_sodium();
    char t[YW_TOKEN_MAX], u[YW_TOKEN_MAX];
    yw_token_new("yws", t);
    yw_token_new("yws", u);
    cr_expect_eq(strncmp(t, "yws_", 4), 0, "'%s'", t);
    cr_expect_eq(strlen(t), 4 + 43, "'%s'", t);
    for (const char *p = t + 4; *p; p++)
        cr_expect(base64url_char(*p), "'%c' in %s", *p, t);
    cr_expect_str_neq(t, u, "two tokens are equal");
    cr_expect(yw_token_plausible(t, strlen(t)));
}

Test(token, long_prefixes_are_cut_to_eight)
{
    init_sodium();
    char t[YW_TOKEN_MAX];
    yw_token_new("abcdefghijkl", t);
    cr_expect_eq(strncmp(t, "abcdefgh_", 9), 0, "'%s'", t);
    cr_expect_eq(strlen(t), 9 + 43);
    cr_expect(yw_token_plausible(t, strlen(t)));
}

Test(token, plausibility_checks_charset_and_length)
{
    char s[100];
    memset(s, 'a', sizeof s);
    cr_expect_not(yw_token_plausible(s, 19));
    cr_expect(yw_token_plausible(s, 20));
    cr_expect(yw_token_plausible(s, YW_TOKEN_MAX - 1));
    cr_expect_not(yw_token_plausible(s, YW_TOKEN_MAX));
    cr_expect_not(yw_token_plausible(s, 0));
    const char *bad[] = {"yws_aaaaaaaaaaaaaaaaaaaaaaaa+", "yws_aaaaaaaaaaaaaaaaaaaaaaaa/", "yws_aaaaaaaaaaaaaaaaaaaaaaa=",
                         "yws aaaaaaaaaaaaaaaaaaaaaaaaa", "yws_aaaaaaaaaaaaaaaaaaaaaa\xc3\xa9", "yws_aaaaaaaaaaaaaaaaaaaaaaa\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not(yw_token_plausible(bad[i], strlen(bad[i])), "'%s' looks plausible", bad[i]);
    /* an embedded NUL within the given length is not a token */
    cr_expect_not(yw_token_plausible("yws_aaaaaaaa\0aaaaaaaaaaaaaaaaaa", 30));
}

Test(token, csrf_proof_is_fixed_per_session_and_reveals_nothing_of_it, .init = init_sodium)
{
    char t[YW_TOKEN_MAX], u[YW_TOKEN_MAX], a[YW_TOKEN_MAX], b[YW_TOKEN_MAX], c[YW_TOKEN_MAX];
    yw_token_new("yws", t);
    yw_token_new("yws", u);
    yw_token_csrf(t, strlen(t), a);
    yw_token_csrf(t, strlen(t), b);
    yw_token_csrf(u, strlen(u), c);
    cr_expect_eq(strlen(a), 43);
    cr_expect_str_eq(a, b, "the same session has one proof");
    cr_expect_str_neq(a, c, "another session has another proof");
    cr_expect(yw_token_plausible(a, strlen(a)), "the proof is base64url");
    cr_expect_null(strstr(t, a));
    cr_expect_null(strstr(a, t + 4), "the proof does not contain the token");
    /* a token one character shorter is another token */
    yw_token_csrf(t, strlen(t) - 1, c);
    cr_expect_str_neq(a, c);
}

Test(token, hash_is_hex_sha256_and_stable)
{
    init_sodium();
    char h[YW_TOKEN_HASH_LEN], h2[YW_TOKEN_HASH_LEN];
    yw_token_hash("abc", 3, h);
    cr_expect_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char t[YW_TOKEN_MAX];
    yw_token_new("ywc", t);
    yw_token_hash(t, strlen(t), h);
    yw_token_hash(t, strlen(t), h2);
    cr_expect_eq(strlen(h), 64);
    cr_expect_eq(strspn(h, "0123456789abcdef"), 64, "'%s'", h);
    cr_expect_str_eq(h, h2);
    /* the hash covers the whole token */
    t[strlen(t) - 1] ^= 1;
    yw_token_hash(t, strlen(t), h2);
    cr_expect_str_neq(h, h2);
}

Test(token, equal_compares_exactly_len_bytes)
{
    cr_expect(yw_token_equal("abcdef", "abcdef", 6));
    cr_expect_not(yw_token_equal("abcdef", "abcdeF", 6));
    cr_expect_not(yw_token_equal("xbcdef", "abcdef", 6));
    cr_expect(yw_token_equal("abcdef", "abcxyz", 3));
}

/* ---- base32 ------------------------------------------------------------- */

Test(base32, rfc4648_vectors_without_padding)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
    for (int i = 0; i < 7; i++) {
        char out[32];
        yw_base32_encode((const unsigned char *)plain[i], strlen(plain[i]), out);
        cr_expect_str_eq(out, enc[i]);
        unsigned char back[32];
        int n = yw_base32_decode(enc[i], back, sizeof back);
        cr_expect_eq(n, (int)strlen(plain[i]), "decode of %s", enc[i]);
        if (n > 0)
            cr_expect_eq(memcmp(back, plain[i], (size_t)n), 0);
    }
}

Test(base32, rfc6238_secret)
{
    char out[64];
    yw_base32_encode((const unsigned char *)"12345678901234567890", 20, out);
    cr_expect_str_eq(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

Test(base32, round_trip_of_random_bytes)
{
    init_sodium();
    for (size_t len = 0; len <= 40; len++) {
        unsigned char in[40], back[40];
        char enc[80];
        randombytes_buf(in, len);
        yw_base32_encode(in, len, enc);
        cr_assert_eq(strlen(enc), (len * 8 + 4) / 5, "length of encoding of %zu bytes", len);
        int n = yw_base32_decode(enc, back, sizeof back);
        cr_assert_eq(n, (int)len);
        cr_assert_eq(memcmp(in, back, len), 0, "round trip of %zu bytes", len);
    }
}

Test(base32, decode_rejects_bad_characters_and_overflow)
{
    unsigned char out[64];
    cr_expect_eq(yw_base32_decode("MZXW6YTB0I", out, sizeof out), -1, "'0' is not base32");
    cr_expect_eq(yw_base32_decode("MZXW1", out, sizeof out), -1, "'1' is not base32");
    cr_expect_eq(yw_base32_decode("MZXW6===", out, sizeof out), -1, "padding is not accepted");
    cr_expect_eq(yw_base32_decode("mzxw6", out, sizeof out), -1, "lower case is not accepted");
    cr_expect_eq(yw_base32_decode("MZXW 6", out, sizeof out), -1);
    /* "foobar" needs 6 bytes */
    cr_expect_eq(yw_base32_decode("MZXW6YTBOI", out, 5), -1);
    cr_expect_eq(yw_base32_decode("MZXW6YTBOI", out, 6), 6);
}

/* ---- TOTP --------------------------------------------------------------- */

#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

/* RFC 6238 appendix B, SHA-1: our codes are the last six of the eight digits. */
static const struct {
    int64_t t;
    int code;
    const char *text;
} rfc_vectors[] = {
    {59, 287082, "287082"},
    {1111111109, 81804, "081804"},
    {1111111111, 50471, "050471"},
    {1234567890, 5924, "005924"},
    {2000000000, 279037, "279037"},
};

Test(totp, rfc6238_sha1_vectors)
{
    for (size_t i = 0; i < sizeof rfc_vectors / sizeof rfc_vectors[0]; i++) {
        int code = yw_totp_code(RFC_SECRET, (uint64_t)(rfc_vectors[i].t / 30));
        cr_expect_eq(code, rfc_vectors[i].code, "T=%lld: got %06d, want %06d", (long long)rfc_vectors[i].t, code,
                     rfc_vectors[i].code);
    }
}

Test(totp, verify_accepts_the_vectors_with_leading_zeros)
{
    for (size_t i = 0; i < sizeof rfc_vectors / sizeof rfc_vectors[0]; i++) {
        int64_t step = -1;
        cr_expect(yw_totp_verify(RFC_SECRET, rfc_vectors[i].text, rfc_vectors[i].t, &step), "T=%lld code %s",
                  (long long)rfc_vectors[i].t, rfc_vectors[i].text);
        cr_expect_eq(step, rfc_vectors[i].t / 30);
    }
}

static void code_text(int64_t step, char out[7])
{
    int c = yw_totp_code(RFC_SECRET, (uint64_t)step);
    cr_assert_geq(c, 0);
    snprintf(out, 7, "%06d", c);
}

Test(totp, verify_allows_one_step_of_drift_and_no_more)
{
    const int64_t now = 1234567890, step = now / 30;
    char code[7];
    for (int d = -1; d <= 1; d++) {
        code_text(step + d, code);
        int64_t got = 0;
        cr_expect(yw_totp_verify(RFC_SECRET, code, now, &got), "drift %d rejected", d);
        cr_expect_eq(got, step + d, "drift %d reported step %lld", d, (long long)got);
    }
    for (int d = -3; d <= 3; d += 1) {
        if (d >= -1 && d <= 1)
            continue;
        code_text(step + d, code);
        /* skip the one-in-a-million case of a code repeating inside the window */
        char near[7];
        int repeated = 0;
        for (int k = -1; k <= 1; k++) {
            code_text(step + k, near);
            repeated |= strcmp(near, code) == 0;
        }
        if (!repeated)
            cr_expect_not(yw_totp_verify(RFC_SECRET, code, now, NULL), "drift %d accepted", d);
    }
}

Test(totp, verify_at_step_boundaries)
{
    char code[7];
    code_text(1000, code);
    cr_expect(yw_totp_verify(RFC_SECRET, code, 1000 * 30, NULL));
    cr_expect(yw_totp_verify(RFC_SECRET, code, 1000 * 30 + 29, NULL));
    cr_expect(yw_totp_verify(RFC_SECRET, code, 1001 * 30 + 29, NULL)); /* one step later */
    cr_expect(yw_totp_verify(RFC_SECRET, code, 999 * 30, NULL));       /* one step earlier */
}

Test(totp, verify_rejects_malformed_codes)
{
    const char *bad[] = {"", "28708", "2870822", "28708a", " 287082", "287082 ", "+87082", "-87082"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_not(yw_totp_verify(RFC_SECRET, bad[i], 59, NULL), "'%s' accepted", bad[i]);
    cr_expect_not(yw_totp_verify(RFC_SECRET, NULL, 59, NULL));
    /* and a right-looking code of another secret */
    cr_expect_not(yw_totp_verify("JBSWY3DPEHPK3PXP", "287082", 59, NULL));
}

Test(totp, bad_secrets_give_no_code)
{
    cr_expect_eq(yw_totp_code("", 1), -1);
    cr_expect_eq(yw_totp_code("not base32!", 1), -1);
    cr_expect_eq(yw_totp_code("gezdgnbv", 1), -1);
    cr_expect_not(yw_totp_verify("", "000000", 59, NULL));
}

Test(totp, new_secrets_are_20_random_bytes_in_base32)
{
    init_sodium();
    char s1[YW_TOTP_SECRET_B32], s2[YW_TOTP_SECRET_B32];
    yw_totp_secret_new(s1);
    yw_totp_secret_new(s2);
    cr_expect_eq(strlen(s1), 32);
    cr_expect_str_neq(s1, s2);
    unsigned char raw[32];
    cr_expect_eq(yw_base32_decode(s1, raw, sizeof raw), 20);
    int code = yw_totp_code(s1, 12345);
    cr_expect(code >= 0 && code < 1000000);
}

/* ---- SHA-256 (sec/digest.h) -------------------------------------------- */

Test(digest, sha256_matches_the_fips_180_vectors)
{
    char hex[YW_SHA256_HEX_LEN];
    yw_sha256_hex("abc", 3, hex);
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    yw_sha256_hex(NULL, 0, hex);
    cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    unsigned char empty[YW_SHA256_LEN]; /* the constant an empty body is given is the digest itself */
    char computed[YW_SHA256_HEX_LEN];
    yw_sha256("", 0, empty);
    yw_digest_hex(empty, sizeof empty, computed);
    cr_expect_str_eq(computed, hex);
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    yw_sha256_hex(two_blocks, strlen(two_blocks), hex);
    cr_expect_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* Streamed bodies are hashed piece by piece as they pass: any split gives the one-shot digest. */
Test(digest, sha256_in_pieces_equals_sha256_at_once)
{
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    size_t len = strlen(two_blocks);
    for (size_t cut = 0; cut <= len; cut += 7) {
        yw_sha256_ctx c;
        char hex[YW_SHA256_HEX_LEN];
        yw_sha256_init(&c);
        yw_sha256_update(&c, two_blocks, cut);
        yw_sha256_update(&c, NULL, 0);
        yw_sha256_update(&c, two_blocks + cut, len - cut);
        yw_sha256_final_hex(&c, hex);
        cr_expect_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "cut at %zu", cut);
    }
    yw_sha256_ctx empty;
    char hex[YW_SHA256_HEX_LEN];
    yw_sha256_init(&empty);
    yw_sha256_final_hex(&empty, hex);
    cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(token, hash_is_the_hex_sha256_of_the_secret)
{
    char hash[YW_TOKEN_HASH_LEN];
    yw_token_hash("abc", 3, hash);
    cr_expect_str_eq(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

Test(digest, hmac_sha256_matches_rfc_4231, .init = init_sodium)
{
    unsigned char key[131], mac[YW_SHA256_LEN];
    char hex[2 * YW_SHA256_LEN + 1];
    /* test case 2: a short key; the message split in two parts */
    yw_hmac_sha256 *h = yw_hmac_sha256_new((const unsigned char *)"Jefe", 4);
    cr_assert_not_null(h);
    yw_hmac_sha256_mac(h, "what do ya want ", 16, "for nothing?", 12, mac);
    hex_of(mac, sizeof mac, hex);
    cr_expect_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    yw_hmac_sha256_free(h);
    /* test case 6: a key longer than the block, hashed first */
    memset(key, 0xaa, sizeof key);
    h = yw_hmac_sha256_new(key, sizeof key);
    const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    yw_hmac_sha256_mac(h, msg, strlen(msg), "", 0, mac);
    hex_of(mac, sizeof mac, hex);
    cr_expect_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    yw_hmac_sha256_free(h);
}

Test(digest, hmac_sha256_agrees_with_libsodium_on_32_byte_keys, .init = init_sodium)
{
    /* blind indexes stored by earlier versions were made with libsodium's HMAC: they must still match */
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES], ours[YW_SHA256_LEN], theirs[crypto_auth_hmacsha256_BYTES];
    unsigned char msg[300];
    for (int round = 0; round < 50; round++) {
        randombytes_buf(key, sizeof key);
        size_t len = randombytes_uniform(sizeof msg), split = len ? randombytes_uniform((uint32_t)len) : 0;
        randombytes_buf(msg, len);
        yw_hmac_sha256 *h = yw_hmac_sha256_new(key, sizeof key);
        yw_hmac_sha256_mac(h, msg, split, msg + split, len - split, ours);
        yw_hmac_sha256_free(h);
        crypto_auth_hmacsha256(theirs, msg, len, key);
        cr_assert_arr_eq(ours, theirs, sizeof ours, "round %d, %zu bytes", round, len);
    }
}

/* Bearer secrets (see token.h). */
#include "sec/token.h"

#include "sec/digest.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void yw_token_new(const char *prefix, char out[YW_TOKEN_MAX])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    size_t n = (size_t)snprintf(out, YW_TOKEN_MAX, "%.8s_", prefix);
    sodium_bin2base64(out + n, YW_TOKEN_MAX - n, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void yw_token_hash(const char *token, size_t len, char out[YW_TOKEN_HASH_LEN])
{
    yw_sha256_hex(token, len, out);
}

bool yw_token_equal(const char *a, const char *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

void yw_token_csrf(const char *token, size_t len, char out[YW_TOKEN_MAX])
{
    static const char context[] = "yiwang console csrf v1";
    unsigned char h[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)context, sizeof context); /* with its NUL */
    crypto_generichash_update(&st, (const unsigned char *)token, len);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2base64(out, YW_TOKEN_MAX, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool yw_token_plausible(const char *s, size_t len)
{
    if (len < 20 || len >= YW_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

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

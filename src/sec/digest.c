/* SHA-256 through OpenSSL's block functions (see digest.h). */
#include "sec/digest.h"

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: no per-call lookup */
#include <openssl/sha.h>

void yw_sha256(const void *data, size_t len, unsigned char out[YW_SHA256_LEN])
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, len ? data : "", len);
    SHA256_Final(out, &ctx);
}

void yw_sha256_hex(const void *data, size_t len, char out[YW_SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char h[YW_SHA256_LEN];
    yw_sha256(data, len, h);
    for (int i = 0; i < YW_SHA256_LEN; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[2 * YW_SHA256_LEN] = '\0';
}

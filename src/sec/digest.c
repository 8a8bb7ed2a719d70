/* SHA-256 through OpenSSL's block functions (see digest.h). */
#include "sec/digest.h"

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: no per-call lookup */
#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>

struct yw_hmac_sha256 {
    SHA256_CTX inner, outer; /* after the key XOR ipad, opad */
};

void yw_sha256(const void *data, size_t len, unsigned char out[YW_SHA256_LEN])
{
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, len ? data : "", len);
    SHA256_Final(out, &ctx);
}

void yw_digest_hex(const unsigned char *bin, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * n] = '\0';
}

void yw_sha256_hex(const void *data, size_t len, char out[YW_SHA256_HEX_LEN])
{
    if (!len) { /* every GET's body */
        memcpy(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", YW_SHA256_HEX_LEN);
        return;
    }
    unsigned char h[YW_SHA256_LEN];
    yw_sha256(data, len, h);
    yw_digest_hex(h, sizeof h, out);
}

_Static_assert(sizeof(SHA256_CTX) <= sizeof(yw_sha256_ctx), "yw_sha256_ctx holds a SHA256_CTX");

void yw_sha256_init(yw_sha256_ctx *c)
{
    SHA256_Init((SHA256_CTX *)c->opaque);
}

void yw_sha256_update(yw_sha256_ctx *c, const void *data, size_t len)
{
    if (len)
        SHA256_Update((SHA256_CTX *)c->opaque, data, len);
}

void yw_sha256_final_hex(yw_sha256_ctx *c, char out[YW_SHA256_HEX_LEN])
{
    unsigned char h[YW_SHA256_LEN];
    SHA256_Final(h, (SHA256_CTX *)c->opaque);
    yw_digest_hex(h, sizeof h, out);
}

yw_hmac_sha256 *yw_hmac_sha256_new(const unsigned char *key, size_t len)
{
    yw_hmac_sha256 *h = sodium_malloc(sizeof *h);
    if (!h)
        return NULL;
    unsigned char block[SHA256_CBLOCK] = {0}, pad[SHA256_CBLOCK];
    if (len > sizeof block)
        yw_sha256(key, len, block); /* RFC 2104: a long key is hashed first */
    else
        memcpy(block, key, len);
    for (size_t i = 0; i < sizeof block; i++)
        pad[i] = block[i] ^ 0x36;
    SHA256_Init(&h->inner);
    SHA256_Update(&h->inner, pad, sizeof pad);
    for (size_t i = 0; i < sizeof block; i++)
        pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&h->outer);
    SHA256_Update(&h->outer, pad, sizeof pad);
    sodium_memzero(block, sizeof block);
    sodium_memzero(pad, sizeof pad);
    return h;
}

void yw_hmac_sha256_free(yw_hmac_sha256 *h)
{
    if (h)
        sodium_free(h); /* zeroes it */
}

void yw_hmac_sha256_mac(const yw_hmac_sha256 *h, const void *a, size_t alen, const void *b, size_t blen,
                    unsigned char out[YW_SHA256_LEN])
{
    SHA256_CTX ctx = h->inner;
    unsigned char inner[YW_SHA256_LEN];
    SHA256_Update(&ctx, a, alen);
    SHA256_Update(&ctx, b, blen);
    SHA256_Final(inner, &ctx);
    ctx = h->outer;
    SHA256_Update(&ctx, inner, sizeof inner);
    SHA256_Final(out, &ctx);
    sodium_memzero(&ctx, sizeof ctx);
}

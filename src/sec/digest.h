/*
 * SHA-256 for the hot paths: request and response bodies of audited
 * answers, bearer secrets. OpenSSL's block functions use the CPU's SHA
 * extensions where there are any; its one-shot SHA256() and EVP look the
 * algorithm up on every call, and libsodium's is portable C.
 */
#ifndef YW_SEC_DIGEST_H
#define YW_SEC_DIGEST_H

#include <stddef.h>

#define YW_SHA256_LEN 32
#define YW_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

void yw_sha256(const void *data, size_t len, unsigned char out[YW_SHA256_LEN]);
/*
 * Lower-case hex of a digest, NUL-terminated (out: 2n + 1). Not in constant
 * time, unlike sodium_bin2hex: for what is published anyway (digests,
 * blind indexes), never for secrets.
 */
void yw_digest_hex(const unsigned char *bin, size_t n, char *out);
/* Lower-case hex; data may be NULL when len is 0. */
void yw_sha256_hex(const void *data, size_t len, char out[YW_SHA256_HEX_LEN]);

/* SHA-256 of data that comes in pieces (streamed bodies); OpenSSL's context, held opaque. */
typedef struct {
    _Alignas(8) unsigned char opaque[112];
} yw_sha256_ctx;

void yw_sha256_init(yw_sha256_ctx *c);
void yw_sha256_update(yw_sha256_ctx *c, const void *data, size_t len);
/* Ends c: the digest in lower-case hex. */
void yw_sha256_final_hex(yw_sha256_ctx *c, char out[YW_SHA256_HEX_LEN]);

/*
 * HMAC-SHA-256 (RFC 2104) with its key absorbed once: the blind indexes
 * and keyed hashes of records. Read-only once made, so threads share it;
 * it lives in guarded memory, zeroed when freed.
 */
typedef struct yw_hmac_sha256 yw_hmac_sha256;

yw_hmac_sha256 *yw_hmac_sha256_new(const unsigned char *key, size_t len); /* NULL without memory */
void yw_hmac_sha256_free(yw_hmac_sha256 *h);
/* The MAC of a followed by b. */
void yw_hmac_sha256_mac(const yw_hmac_sha256 *h, const void *a, size_t alen, const void *b, size_t blen,
                    unsigned char out[YW_SHA256_LEN]);

#endif

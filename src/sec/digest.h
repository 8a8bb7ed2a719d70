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
/* Lower-case hex; data may be NULL when len is 0. */
void yw_sha256_hex(const void *data, size_t len, char out[YW_SHA256_HEX_LEN]);

#endif

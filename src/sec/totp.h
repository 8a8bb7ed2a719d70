/*
 * Time-based one-time passwords, RFC 6238 (HMAC-SHA-1, 30-second steps,
 * six digits), with secrets exchanged in RFC 4648 base32 as authenticator
 * apps expect.
 */
#ifndef YW_SEC_TOTP_H
#define YW_SEC_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YW_TOTP_SECRET_B32 33 /* 20 random bytes → 32 base32 characters + NUL */

/* A new random secret, base32 encoded. */
void yw_totp_secret_new(char out[YW_TOTP_SECRET_B32]);

/* The code for the given time step counter; -1 for a bad secret. */
int yw_totp_code(const char *secret_b32, uint64_t counter);

/*
 * True when code (six digits) matches the step of unix time now or one step
 * either side, to allow for clock drift. *step_out gets the matching step so
 * a caller can refuse to accept the same code twice.
 */
bool yw_totp_verify(const char *secret_b32, const char *code, int64_t now_s, int64_t *step_out);

/* Decodes base32 (upper case, no padding); returns bytes written or -1. */
int yw_base32_decode(const char *in, unsigned char *out, size_t cap);
/* Encodes len bytes; out needs 8*ceil(len/5)+1 bytes. */
void yw_base32_encode(const unsigned char *in, size_t len, char *out);

#endif

/*
 * Bearer secrets: session tokens and client secrets.
 *
 * A secret is 256 random bits, shown to its owner once as
 * "<prefix>_<base64url>" and stored only as the hex SHA-256 of the whole
 * string. A 256-bit random secret needs no slow hash: finding a preimage
 * of SHA-256 is out of reach, and hashing lets the server look a token up
 * by its hash with an ordinary index.
 */
#ifndef YW_SEC_TOKEN_H
#define YW_SEC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define YW_TOKEN_MAX 64     /* prefix + '_' + 43 base64url characters + NUL, with room */
#define YW_TOKEN_HASH_LEN 65 /* 64 hex digits + NUL */

/* Writes "<prefix>_<43 chars>" into out (YW_TOKEN_MAX bytes). prefix ≤ 8 chars. */
void yw_token_new(const char *prefix, char out[YW_TOKEN_MAX]);
/* Hex SHA-256 of token. */
void yw_token_hash(const char *token, size_t len, char out[YW_TOKEN_HASH_LEN]);
/* Constant-time comparison of two equal-length strings. */
bool yw_token_equal(const char *a, const char *b, size_t len);
/*
 * The CSRF proof of a cookie session: base64url of a hash of the session
 * token, 43 characters + NUL into out (YW_TOKEN_MAX bytes). A page of the
 * console reads it from a cookie and echoes it in a header; another site can
 * neither read the cookie nor compute the proof without the token, which
 * scripts never see.
 */
void yw_token_csrf(const char *token, size_t len, char out[YW_TOKEN_MAX]);
/* True when s looks like a token we issued (charset and length), before any lookup. */
bool yw_token_plausible(const char *s, size_t len);

#endif

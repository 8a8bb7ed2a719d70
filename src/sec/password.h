/*
 * Passwords: argon2id hashing (libsodium's crypto_pwhash_str, interactive
 * limits), the complexity policy of MLPS 2.0 level 3, and generation of
 * passwords that satisfy it.
 */
#ifndef YW_SEC_PASSWORD_H
#define YW_SEC_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define YW_PASSWORD_HASH_LEN 128 /* crypto_pwhash_STRBYTES */
#define YW_PASSWORD_MAX 256

/* Hashes password into out (YW_PASSWORD_HASH_LEN bytes). 0 or < 0. */
int yw_password_hash(const char *password, char out[YW_PASSWORD_HASH_LEN]);
/* True when password matches hash. Time does not depend on where they differ. */
bool yw_password_verify(const char *hash, const char *password);

/*
 * Checks the policy: 10 to 256 bytes, at least three of lower case, upper
 * case, digits and other characters, and not containing the username.
 * Returns NULL when acceptable, else a sentence saying what is missing.
 */
const char *yw_password_policy(const char *password, const char *username);

/* A random 16-character password that satisfies the policy; out needs 17 bytes. */
void yw_password_generate(char out[17]);

#endif

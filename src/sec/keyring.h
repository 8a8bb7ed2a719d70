/*
 * Keys for data at rest: field encryption and blind indexes.
 *
 * Values of sensitive items (L3, L4) are stored encrypted with
 * XChaCha20-Poly1305 (libsodium), as "enc:1:<key id>:<base64 nonce+box>";
 * the associated data binds a value to its place (resource and item), so a
 * ciphertext moved elsewhere does not decrypt. The key id lets old values
 * be re-encrypted under a new key without downtime.
 *
 * A sensitive record key (an ID number) is looked up through a blind index:
 * HMAC-SHA-256 under a key of its own, so the database holds no plaintext.
 *
 * The keys live in DIR/keys.json (mode 0600), created on first use:
 *   {"blind_index": "<base64>", "keys": [{"id": 1, "key": "<base64>"}]}
 * The newest key encrypts; every listed key decrypts. Rotation appends a key
 * to the file (yw_keyring_add); a running server picks it up with
 * yw_keyring_refresh — keys are only ever added, so readers need no lock.
 */
#ifndef YW_SEC_KEYRING_H
#define YW_SEC_KEYRING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define YW_KEYS_FILE "keys.json"
#define YW_BLIND_INDEX_LEN 65 /* 64 hex digits + NUL */

typedef struct yw_keyring yw_keyring;

/* Loads DIR/keys.json, creating it with fresh keys when missing. NULL with a message on err. */
yw_keyring *yw_keyring_open(const char *dir, char *err, size_t errlen);
void yw_keyring_close(yw_keyring *k);

/* Appends the encrypted form of plain (len bytes) bound to context to out. 0 or < 0. */
int yw_field_encrypt(const yw_keyring *k, const char *context, const char *plain, size_t len, yw_buf *out);
/* Appends the plaintext of text (the encrypted form) to out. 0, or < 0 when it does not decrypt. */
int yw_field_decrypt(const yw_keyring *k, const char *context, const char *text, yw_buf *out);
/* The same for the len bytes at text, which need not end there. */
int yw_field_decryptn(const yw_keyring *k, const char *context, const char *text, size_t len, yw_buf *out);
/* True when text (NUL-terminated, or its len bytes) has the encrypted form. */
bool yw_field_is_encrypted(const char *text);
bool yw_field_is_encryptedn(const char *text, size_t len);

/* Appends a new key to DIR/keys.json (written whole, then renamed into place); its id in *id. 0 or < 0. */
int yw_keyring_add(const char *dir, int *id, char *err, size_t errlen);
/* Takes up keys added to DIR/keys.json since k was loaded; returns how many. */
int yw_keyring_refresh(yw_keyring *k, const char *dir);
/* The id of the key that encrypts now. */
int yw_keyring_current(const yw_keyring *k);
/* The key id of an encrypted value, or 0. */
int yw_field_key_id(const char *text);

/* Hex HMAC-SHA-256 of value under the blind-index key, with context. */
void yw_blind_index(const yw_keyring *k, const char *context, const char *value, char out[YW_BLIND_INDEX_LEN]);

#endif

/*
 * Background re-encryption after a key rotation.
 *
 * A thread of the server looks at DIR/keys.json every two seconds; when a
 * key was added (`yiwang keys rotate`), new writes use it at once, and the
 * thread walks every column the modules declare sealed (yw_module.sealed:
 * records and their history, webhook secrets, proposed values of
 * objections) in small writer jobs, decrypting every value sealed under an
 * older key and sealing it under the new one.
 * Requests go on meanwhile: a value is readable under either key. Each
 * chunk that changed something is an audit entry. A finished pass is
 * remembered for its key (table reencrypt_passes), so a server restarting
 * with the same current key does not scan every record again.
 */
#ifndef YW_DATA_REENCRYPT_H
#define YW_DATA_REENCRYPT_H

#include "audit/log.h"
#include "sec/keyring.h"
#include "store/store.h"

typedef struct yw_reencryptor yw_reencryptor;

yw_reencryptor *yw_reencrypt_start(yw_store *store, yw_audit *audit, yw_keyring *keys, const char *data_dir);
void yw_reencrypt_stop(yw_reencryptor *r);

#endif

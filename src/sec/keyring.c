/* Field encryption and blind indexes (see keyring.h). */
#include "sec/keyring.h"

#include "core/error.h"
#include "sec/digest.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_KEYS 16
#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

struct yw_keyring {
    unsigned char blind[crypto_auth_hmacsha256_KEYBYTES];
    yw_hmac_sha256 *blind_mac; /* keyed with blind once */
    struct {
        int id;
        unsigned char key[KEY_LEN];
    } keys[MAX_KEYS];
    _Atomic int nkeys; /* keys[nkeys - 1] encrypts; a key is complete before nkeys counts it */
};

static json_t *b64(const unsigned char *data, size_t n)
{
    char out[128];
    sodium_bin2base64(out, sizeof out, data, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string(out);
}

static int unb64(const json_t *v, unsigned char *out, size_t n)
{
    const char *s = json_string_value(v);
    size_t len = 0;
    if (!s || sodium_base642bin(out, n, s, strlen(s), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != n)
        return -1;
    return 0;
}

static int create_file(const char *path, char *err, size_t errlen)
{
    unsigned char blind[crypto_auth_hmacsha256_KEYBYTES], key[KEY_LEN];
    randombytes_buf(blind, sizeof blind);
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    json_t *doc = json_pack("{s:o, s:[{s:i, s:o}]}", "blind_index", b64(blind, sizeof blind), "keys", "id", 1, "key",
                            b64(key, sizeof key));
    sodium_memzero(blind, sizeof blind);
    sodium_memzero(key, sizeof key);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    int rc = fd >= 0 && json_dumpfd(doc, fd, JSON_INDENT(2)) == 0 && fsync(fd) == 0 ? 0 : -1;
    if (rc < 0)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    json_decref(doc);
    return rc;
}

/* Reads path; fills blind (when not NULL) and the keys beyond the first `have`. Returns the key count or -1. */
static int load_file(const char *path, unsigned char *blind, yw_keyring *k, int have)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    json_t *keys = json_object_get(doc, "keys");
    int n = (int)json_array_size(keys);
    bool ok = doc && n > 0 && n <= MAX_KEYS &&
              (!blind || unb64(json_object_get(doc, "blind_index"), blind, crypto_auth_hmacsha256_KEYBYTES) == 0);
    for (int i = have; ok && i < n; i++) {
        json_t *e = json_array_get(keys, (size_t)i), *id = json_object_get(e, "id");
        ok = json_is_integer(id) && json_integer_value(id) > 0 &&
             unb64(json_object_get(e, "key"), k->keys[i].key, KEY_LEN) == 0;
        k->keys[i].id = (int)json_integer_value(id);
    }
    json_decref(doc);
    return ok ? n : -1;
}

static void key_path(const char *dir, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", dir, YW_KEYS_FILE);
}

yw_keyring *yw_keyring_open(const char *dir, char *err, size_t errlen)
{
    if (sodium_init() < 0) { /* guarded pages need it; calling it again is harmless */
        snprintf(err, errlen, "libsodium cannot start");
        return NULL;
    }
    char path[4096];
    key_path(dir, path, sizeof path);
    if (access(path, F_OK) != 0 && create_file(path, err, errlen) < 0)
        return NULL;
    yw_keyring *k = sodium_malloc(sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(k, 0, sizeof *k);
    int n = load_file(path, k->blind, k, 0);
    if (n < 0) {
        snprintf(err, errlen, "%s is not a valid key file", path);
        sodium_free(k);
        return NULL;
    }
    if (!(k->blind_mac = yw_hmac_sha256_new(k->blind, sizeof k->blind))) {
        snprintf(err, errlen, "out of memory");
        sodium_free(k);
        return NULL;
    }
    atomic_store(&k->nkeys, n);
    return k;
}

int yw_keyring_refresh(yw_keyring *k, const char *dir)
{
    char path[4096];
    key_path(dir, path, sizeof path);
    int have = atomic_load(&k->nkeys);
    int n = load_file(path, NULL, k, have); /* writes only the slots beyond `have`, unseen until counted */
    if (n <= have)
        return 0;
    atomic_store(&k->nkeys, n);
    return n - have;
}

int yw_keyring_add(const char *dir, int *id, char *err, size_t errlen)
{
    char path[4096], tmp[4200];
    key_path(dir, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys) || json_array_size(keys) >= MAX_KEYS) {
        snprintf(err, errlen, doc ? "%s holds the most keys it can (%d)" : "cannot read %s", path, MAX_KEYS);
        json_decref(doc);
        return YW_EINVAL;
    }
    int next = 0;
    size_t i;
    json_t *e;
    json_array_foreach(keys, i, e) {
        int kid = (int)json_integer_value(json_object_get(e, "id"));
        if (kid > next)
            next = kid;
    }
    unsigned char key[KEY_LEN];
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    json_array_append_new(keys, json_pack("{s:i, s:o}", "id", next + 1, "key", b64(key, sizeof key)));
    sodium_memzero(key, sizeof key);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = fd >= 0 && json_dumpfd(doc, fd, JSON_INDENT(2)) == 0 && fsync(fd) == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    json_decref(doc);
    if (rc < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return YW_EIO;
    }
    *id = next + 1;
    return 0;
}

int yw_keyring_current(const yw_keyring *k)
{
    return k->keys[atomic_load(&k->nkeys) - 1].id;
}

int yw_field_key_id(const char *text)
{
    return yw_field_is_encrypted(text) ? atoi(text + 6) : 0;
}

void yw_keyring_close(yw_keyring *k)
{
    if (!k)
        return;
    yw_hmac_sha256_free(k->blind_mac);
    sodium_free(k); /* zeroes the memory */
}

bool yw_field_is_encryptedn(const char *text, size_t len)
{
    return len >= 6 && memcmp(text, "enc:1:", 6) == 0;
}

bool yw_field_is_encrypted(const char *text)
{
    return text && yw_field_is_encryptedn(text, strnlen(text, 6));
}

/*
 * Nonces come from a pool per thread, drawn from libsodium 64 at a time:
 * libsodium's generator asks the kernel for the process id on every call,
 * which costs more than the encryption of a short value. A child process
 * starts with an empty pool, so it never repeats a nonce of its parent.
 */
#define NONCE_POOL 64
static _Thread_local struct {
    unsigned char bytes[NONCE_POOL * NONCE_LEN];
    int left;
} nonces;
static pthread_once_t nonces_once = PTHREAD_ONCE_INIT;

static void nonces_forget(void)
{
    sodium_memzero(&nonces, sizeof nonces);
}

static void nonces_register(void)
{
    pthread_atfork(NULL, NULL, nonces_forget);
}

static void next_nonce(unsigned char *out)
{
    pthread_once(&nonces_once, nonces_register);
    if (nonces.left == 0) {
        randombytes_buf(nonces.bytes, sizeof nonces.bytes);
        nonces.left = NONCE_POOL;
    }
    nonces.left--;
    memcpy(out, nonces.bytes + (size_t)nonces.left * NONCE_LEN, NONCE_LEN);
    sodium_memzero(nonces.bytes + (size_t)nonces.left * NONCE_LEN, NONCE_LEN);
}

int yw_field_encrypt(const yw_keyring *k, const char *context, const char *plain, size_t len, yw_buf *out)
{
    const int kid = atomic_load(&k->nkeys) - 1;
    size_t boxlen = NONCE_LEN + len + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    size_t b64len = sodium_base64_ENCODED_LEN(boxlen, sodium_base64_VARIANT_ORIGINAL);
    /* short values (nearly all) are sealed on the stack */
    unsigned char box_space[512];
    char text_space[704];
    bool small = boxlen <= sizeof box_space && b64len <= sizeof text_space;
    unsigned char *box = small ? box_space : malloc(boxlen);
    char *text = small ? text_space : malloc(b64len);
    if (!box || !text) {
        if (!small) {
            free(box);
            free(text);
        }
        return YW_ENOMEM;
    }
    next_nonce(box);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE_LEN, &clen, (const unsigned char *)plain, len,
                                               (const unsigned char *)context, strlen(context), NULL, box,
                                               k->keys[kid].key);
    EVP_EncodeBlock((unsigned char *)text, box, (int)boxlen); /* standard Base64, padded, like libsodium's ORIGINAL */
    char digits[12];
    int n = 0;
    for (unsigned id = (unsigned)k->keys[kid].id; n == 0 || id; id /= 10)
        digits[sizeof digits - ++n] = (char)('0' + id % 10);
    yw_buf_append(out, "enc:1:", 6);
    yw_buf_append(out, digits + sizeof digits - n, (size_t)n);
    yw_buf_append(out, ":", 1);
    yw_buf_append(out, text, b64len - 1);
    if (!small) {
        free(text);
        free(box);
    }
    return 0;
}

int yw_field_decrypt(const yw_keyring *k, const char *context, const char *text, yw_buf *out)
{
    return text ? yw_field_decryptn(k, context, text, strlen(text), out) : YW_EINVAL;
}

int yw_field_decryptn(const yw_keyring *k, const char *context, const char *text, size_t len, yw_buf *out)
{
    if (!yw_field_is_encryptedn(text, len))
        return YW_EINVAL;
    long id = 0;
    size_t at = 6;
    while (at < len && at < 6 + 9 && text[at] >= '0' && text[at] <= '9')
        id = id * 10 + (text[at++] - '0');
    if (at == 6 || at >= len || text[at] != ':')
        return YW_EINVAL;
    const unsigned char *key = NULL;
    int n = atomic_load(&k->nkeys);
    for (int i = 0; i < n; i++)
        if (k->keys[i].id == id)
            key = k->keys[i].key;
    if (!key)
        return YW_ENOTFOUND;
    const char *b = text + at + 1;
    size_t blen = len - at - 1;
    if (blen == 0 || blen % 4 != 0 || blen > INT_MAX)
        return YW_EINVAL;
    unsigned char small[768]; /* most sealed values: no allocation */
    unsigned char *box = blen <= sizeof small ? small : malloc(blen);
    if (!box)
        return YW_ENOMEM;
    int rc = YW_EINVAL;
    /*
     * The sealed box is no secret, so OpenSSL's decoder serves (libsodium's
     * runs in constant time, at several times the cost); whatever it lets
     * through that is not what was sealed fails the authentication below.
     */
    int decoded = EVP_DecodeBlock(box, (const unsigned char *)b, (int)blen);
    size_t boxlen = decoded < 0 ? 0 : (size_t)decoded - (b[blen - 1] == '=') - (b[blen - 2] == '=');
    if (boxlen >= NONCE_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        /* straight into out: libsodium checks the tag before it writes a byte of plaintext */
        size_t mlen = boxlen - NONCE_LEN - crypto_aead_xchacha20poly1305_ietf_ABYTES;
        unsigned char *plain = (unsigned char *)yw_buf_room(out, mlen);
        unsigned long long got = 0;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &got, NULL, box + NONCE_LEN, boxlen - NONCE_LEN,
                                                       (const unsigned char *)context, strlen(context), box, key) == 0) {
            yw_buf_added(out, (size_t)got);
            rc = 0;
        }
    }
    if (box != small)
        free(box);
    return rc;
}

void yw_blind_index(const yw_keyring *k, const char *context, const char *value, char out[YW_BLIND_INDEX_LEN])
{
    unsigned char mac[YW_SHA256_LEN];
    yw_hmac_sha256_mac(k->blind_mac, context, strlen(context) + 1 /* with the NUL */, value, strlen(value), mac);
    yw_digest_hex(mac, sizeof mac, out); /* the index is stored and logged: no secret */
}

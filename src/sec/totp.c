/* RFC 6238 TOTP over OpenSSL's HMAC-SHA-1 (see totp.h). */
#include "sec/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void yw_base32_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    unsigned buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        buffer = (buffer << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(buffer << (5 - bits)) & 31];
    out[o] = '\0';
}

int yw_base32_decode(const char *in, unsigned char *out, size_t cap)
{
    unsigned buffer = 0;
    int bits = 0;
    size_t o = 0;
    for (; *in; in++) {
        const char *p = strchr(b32, *in);
        if (!p)
            return -1;
        buffer = (buffer << 5) | (unsigned)(p - b32);
        bits += 5;
        if (bits >= 8) {
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(buffer >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)o;
}

void yw_totp_secret_new(char out[YW_TOTP_SECRET_B32])
{
    unsigned char raw[20];
    randombytes_buf(raw, sizeof raw);
    yw_base32_encode(raw, sizeof raw, out);
}

int yw_totp_code(const char *secret_b32, uint64_t counter)
{
    unsigned char key[64];
    int klen = yw_base32_decode(secret_b32, key, sizeof key);
    if (klen <= 0)
        return -1;
    unsigned char msg[8];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha1(), key, klen, msg, sizeof msg, mac, &maclen))
        return -1;
    int off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    sodium_memzero(key, sizeof key);
    return (int)(bin % 1000000);
}

bool yw_totp_verify(const char *secret_b32, const char *code, int64_t now_s, int64_t *step_out)
{
    if (!code || strlen(code) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    int want = (code[0] - '0') * 100000 + (code[1] - '0') * 10000 + (code[2] - '0') * 1000 +
               (code[3] - '0') * 100 + (code[4] - '0') * 10 + (code[5] - '0');
    int64_t step = now_s / 30;
    for (int64_t d = -1; d <= 1; d++) {
        if (yw_totp_code(secret_b32, (uint64_t)(step + d)) == want) {
            if (step_out)
                *step_out = step + d;
            return true;
        }
    }
    return false;
}

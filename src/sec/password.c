/* Password hashing, policy and generation (see password.h). */
#include "sec/password.h"

#include "core/error.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

int yw_password_hash(const char *password, char out[YW_PASSWORD_HASH_LEN])
{
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return YW_ENOMEM;
    return 0;
}

bool yw_password_verify(const char *hash, const char *password)
{
    if (!hash || !password)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return false;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

const char *yw_password_policy(const char *password, const char *username)
{
    size_t len = strlen(password);
    if (len < 10)
        return "the password must have at least 10 characters";
    if (len > YW_PASSWORD_MAX)
        return "the password must have at most 256 bytes";
    int lower = 0, upper = 0, digit = 0, other = 0;
    for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
        if (*p < 0x80 && islower(*p))
            lower = 1;
        else if (*p < 0x80 && isupper(*p))
            upper = 1;
        else if (*p < 0x80 && isdigit(*p))
            digit = 1;
        else
            other = 1;
    }
    if (lower + upper + digit + other < 3)
        return "the password must mix at least three of: lower case, upper case, digits, other characters";
    if (username && strlen(username) >= 3 && contains_ci(password, username))
        return "the password must not contain the username";
    return NULL;
}

void yw_password_generate(char out[17])
{
    /* No look-alike characters (0/O, 1/l/I) so it can be read aloud. */
    static const char *const classes[] = {"abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ",
                                          "23456789", "-_.!@#%+="};
    for (;;) {
        int seen[4] = {0};
        for (int i = 0; i < 16; i++) {
            int c = (int)randombytes_uniform(4);
            const char *set = classes[c];
            out[i] = set[randombytes_uniform((uint32_t)strlen(set))];
            seen[c] = 1;
        }
        out[16] = '\0';
        if (seen[0] + seen[1] + seen[2] + seen[3] == 4)
            return;
    }
}

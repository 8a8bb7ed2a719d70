/*
 * Identity: sign-in, sessions, password changes and TOTP for users, and
 * authentication of every request's bearer credential (user sessions and
 * client secrets).
 *
 * Sessions are opaque "yws_" tokens stored as SHA-256 hashes, ending after
 * 30 idle minutes or 12 hours in all (configurable), or at logout. Client
 * secrets are "ywc_" tokens. Five failed sign-ins lock an account for 15
 * minutes.
 */
#ifndef YW_IDENTITY_IDENTITY_H
#define YW_IDENTITY_IDENTITY_H

#include <stddef.h>

#include "http/request.h"
#include "store/db.h"

#define YW_LOCKOUT_FAILURES 5
#define YW_LOCKOUT_MS (15 * 60 * 1000)

/*
 * Counts a failed proof of the password of username (a sign-in, or a
 * password change with a wrong current password); the fifth in a row locks
 * the account for YW_LOCKOUT_MS and ends its sessions. Writer thread.
 */
int yw_identity_failed_attempt(yw_db *db, const char *username, int64_t now);

/* The server's authenticator (see yw_authenticator in http/server.h). */
int yw_identity_authenticate(yw_req *req, const char *secret, size_t len, const char **why);

#endif

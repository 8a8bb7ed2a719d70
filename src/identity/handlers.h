/* Handlers of the identity module, listed in module.c's route table. */
#ifndef YW_IDENTITY_HANDLERS_H
#define YW_IDENTITY_HANDLERS_H

#include "http/request.h"

void auth_login(yw_req *req);
void auth_console_login(yw_req *req);
void auth_logout(yw_req *req);
void auth_me(yw_req *req);
void users_password(yw_req *req);
void totp_enroll(yw_req *req);
void totp_confirm(yw_req *req);
void totp_reset(yw_req *req);

/*
 * The user's TOTP secret in clear, in the request's arena, from its stored
 * form (sealed under the data keys; or in clear, from before secrets were
 * sealed); NULL when there is none or it does not open.
 */
const char *totp_secret_open(yw_req *req, const char *username, const char *stored);

#endif

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

#endif

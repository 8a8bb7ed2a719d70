/* Handlers of the registry module, listed in module.c's route table. */
#ifndef YW_REGISTRY_HANDLERS_H
#define YW_REGISTRY_HANDLERS_H

#include "http/request.h"

void orgs_list(yw_req *req);
void orgs_create(yw_req *req);
void orgs_get(yw_req *req);
void orgs_update(yw_req *req);

void users_list(yw_req *req);
void users_create(yw_req *req);
void users_get(yw_req *req);
void users_update(yw_req *req);

void clients_list(yw_req *req);
void clients_create(yw_req *req);
void clients_get(yw_req *req);
void clients_revoke(yw_req *req);

#endif

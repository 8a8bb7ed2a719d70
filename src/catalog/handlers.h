/* Handlers of the catalog module, listed in module.c's route table. */
#ifndef YW_CATALOG_HANDLERS_H
#define YW_CATALOG_HANDLERS_H

#include "http/request.h"

void elements_list(yw_req *req);
void elements_create(yw_req *req);
void elements_get(yw_req *req);

void resources_list(yw_req *req);
void resources_create(yw_req *req);
void resources_get(yw_req *req);
void resources_update(yw_req *req);
void resources_publish(yw_req *req);
void resources_retire(yw_req *req);
void resources_versions(yw_req *req);

#endif

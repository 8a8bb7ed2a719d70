/* The access module's handlers, by file. */
#ifndef YW_ACCESS_HANDLERS_H
#define YW_ACCESS_HANDLERS_H

#include <jansson.h>

#include "http/request.h"
#include "store/db.h"

/* services.c */
void services_list(yw_req *req);
void services_create(yw_req *req);
void services_get(yw_req *req);
void services_openapi(yw_req *req);
/* The service named by the {id} path parameter, kept by the request; NULL after replying. */
json_t *service_or_reply(yw_req *req, yw_db *db);

/* forward.c */
void access_call_begin(yw_req *req, const char *data, size_t len);
void access_call_end(yw_req *req);

/* monitor.c */
void services_stats(yw_req *req);
void services_calls(yw_req *req);
void services_call_get(yw_req *req);
void services_call_proof(yw_req *req);

#endif

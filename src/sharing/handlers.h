/* Handlers of the sharing module, listed in module.c's route table. */
#ifndef YW_SHARING_HANDLERS_H
#define YW_SHARING_HANDLERS_H

#include "http/request.h"

void share_requests_create(yw_req *req);
void share_requests_list(yw_req *req);
void share_requests_get(yw_req *req);
void share_requests_approve(yw_req *req);
void share_requests_reject(yw_req *req);
void grants_list(yw_req *req);
void grants_get(yw_req *req);
void grants_revoke(yw_req *req);
void shared_records_get(yw_req *req);
void shared_records_batch(yw_req *req);
void shared_records_changes(yw_req *req);
void shared_records_query(yw_req *req);
void subscriptions_create(yw_req *req);
void subscriptions_list(yw_req *req);
void subscriptions_get(yw_req *req);
void subscriptions_delete(yw_req *req);
void subscriptions_deliveries(yw_req *req);
void objections_create(yw_req *req);
void objections_list(yw_req *req);
void objections_get(yw_req *req);
void objections_resolve(yw_req *req);
void resources_quality(yw_req *req);
void conflicts_list(yw_req *req);
void conflicts_report(yw_req *req);

#endif

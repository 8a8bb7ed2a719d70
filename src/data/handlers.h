/* Handlers of the data module, listed in module.c's route table. */
#ifndef YW_DATA_HANDLERS_H
#define YW_DATA_HANDLERS_H

#include "http/request.h"

void records_put(yw_req *req);
void records_delete(yw_req *req);
void records_versions(yw_req *req);
void records_import_stream(yw_req *req, const char *data, size_t len);
void records_import(yw_req *req);

#endif

/*
 * The webhook delivery thread (see webhooks.c): started by serve after the
 * HTTP server, stopped before the store closes.
 */
#ifndef YW_SHARING_WEBHOOKS_H
#define YW_SHARING_WEBHOOKS_H

#include "audit/log.h"
#include "sec/egress.h"
#include "sec/keyring.h"
#include "store/store.h"

typedef struct yw_webhooks yw_webhooks;

/* Starts delivering, only where egress allows; NULL when the thread or libcurl cannot start. */
yw_webhooks *yw_webhooks_start(yw_store *store, yw_audit *audit, const yw_keyring *keys, const yw_egress *egress);

/* Stops and waits; batches in flight are sent again at the next start. NULL is ignored. */
void yw_webhooks_stop(yw_webhooks *w);

#endif

/*
 * Backups: copies of the database on the server's disk, made while the
 * server runs (see backups.c).
 */
#ifndef YW_BACKUP_BACKUP_H
#define YW_BACKUP_BACKUP_H

#include "app/app.h"

/* POST /api/v1/backups: starts a copy (202), one at a time. */
void backups_create(yw_req *req);
/* GET /api/v1/backups: the copies on disk, the one being made, the last that failed. */
void backups_list(yw_req *req);
/* DELETE /api/v1/backups/{name}: removes a copy and its digest. */
void backups_delete(yw_req *req);

/* Serves app's backups: makes a copy every --backup-every seconds (when set) until yw_backups_finish. */
void yw_backups_start(const yw_app *app);
/* The /metrics lines of backups: the newest copy's time, copies, running, failures. */
void yw_backups_metrics(yw_buf *out);
/* Stops the schedule and waits for a copy being made to finish: at stop, before the store closes. */
void yw_backups_finish(void);

#endif

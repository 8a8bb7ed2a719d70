/*
 * The web console's files, embedded in the binary at build time
 * (scripts/embed-console.sh turns web/console/ into build/gen/console_assets.c).
 * Each carries its content type and an ETag made from its content, so a
 * browser revalidates cheaply and never runs a stale script after an upgrade.
 */
#ifndef YW_CONSOLE_ASSETS_H
#define YW_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path;         /* relative to web/console/, e.g. "pages/catalog.js" */
    const char *content_type;
    const unsigned char *data; /* NUL-terminated; len excludes the NUL */
    unsigned int len;
    const char *etag;         /* quoted, as sent */
} yw_console_asset;

/* Every file, ending with an entry whose path is NULL. */
extern const yw_console_asset yw_console_assets[];

#endif

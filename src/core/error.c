/* Names of the shared error codes; see error.h. */
#include "core/error.h"

const char *yw_strerror(int code)
{
    switch (code) {
    case YW_OK: return "ok";
    case YW_EINVAL: return "invalid argument";
    case YW_ENOMEM: return "out of memory";
    case YW_ENOTFOUND: return "not found";
    case YW_ECONFLICT: return "conflict";
    case YW_EIO: return "input/output error";
    case YW_EPERM: return "not permitted";
    case YW_EDB: return "database error";
    case YW_EBUSY: return "busy";
    case YW_ERANGE: return "out of range";
    case YW_ESTATE: return "wrong state";
    default: return "unknown error";
    }
}

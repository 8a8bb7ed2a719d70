/*
 * Error codes shared by every layer.
 *
 * One convention everywhere: a function returns 0 (YW_OK) or a negative
 * YW_E* code; the detailed message lives on the object that failed (the
 * database handle, the request) so that codes stay small and comparable.
 */
#ifndef YW_CORE_ERROR_H
#define YW_CORE_ERROR_H

enum {
    YW_OK = 0,
    YW_EINVAL = -1,    /* caller passed something malformed */
    YW_ENOMEM = -2,
    YW_ENOTFOUND = -3,
    YW_ECONFLICT = -4, /* uniqueness or state conflict */
    YW_EIO = -5,
    YW_EPERM = -6,
    YW_EDB = -7,       /* database failure not covered by the above */
    YW_EBUSY = -8,
    YW_ERANGE = -9,    /* value outside its limits */
    YW_ESTATE = -10,   /* object not in a state that allows the operation */
};

/* A short, stable English name for a code ("not found"). Never NULL. */
const char *yw_strerror(int code);

#endif

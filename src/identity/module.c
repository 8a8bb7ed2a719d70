/* The identity module's routes (see app.h for how modules are wired). */
#include "app/app.h"
#include "identity/handlers.h"

static const yw_route routes[] = {
    {"POST", "/api/v1/auth/login", auth_login, YW_ROUTE_PUBLIC | YW_ROUTE_AUDIT, 16 * 1024, "auth.login"},
    {"POST", "/api/v1/auth/console/login", auth_console_login, YW_ROUTE_PUBLIC | YW_ROUTE_AUDIT, 16 * 1024,
     "auth.login"},
    {"POST", "/api/v1/auth/logout", auth_logout, YW_ROUTE_DURING_PW_CHANGE | YW_ROUTE_AUDIT, 0, "auth.logout"},
    {"GET", "/api/v1/auth/me", auth_me, 0, 0, "auth.me"},
    {"POST", "/api/v1/auth/totp", totp_enroll, YW_ROUTE_AUDIT, 0, "auth.totp_enroll"},
    {"POST", "/api/v1/auth/totp/confirm", totp_confirm, YW_ROUTE_AUDIT, 0, "auth.totp_confirm"},
    {"POST", "/api/v1/users/{username}/password", users_password, YW_ROUTE_DURING_PW_CHANGE | YW_ROUTE_AUDIT,
     16 * 1024, "user.password"},
    {"DELETE", "/api/v1/users/{username}/totp", totp_reset, YW_ROUTE_AUDIT, 0, "user.totp_reset"},
};

/* TOTP secrets (totp.c); one still in clear, from before they were sealed, is sealed by the next pass. */
static const yw_sealed_column sealed[] = {
    {"users", "totp_secret", "'totp/' || username", false, true},
    {0},
};

const yw_module yw_identity_module = {"identity", routes, sizeof routes / sizeof routes[0], sealed};

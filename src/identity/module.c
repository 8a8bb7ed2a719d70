/* The identity module's routes (see app.h for how modules are wired). */
#include "app/app.h"
#include "identity/handlers.h"

static const yw_route routes[] = {
    {"POST", "/api/v1/auth/login", auth_login, YW_ROUTE_PUBLIC, 16 * 1024, "public"},
    {"POST", "/api/v1/auth/logout", auth_logout, YW_ROUTE_DURING_PW_CHANGE, 0, "self"},
    {"GET", "/api/v1/auth/me", auth_me, 0, 0, "self"},
    {"POST", "/api/v1/auth/totp", totp_enroll, 0, 0, "self"},
    {"POST", "/api/v1/auth/totp/confirm", totp_confirm, 0, 0, "self"},
    {"POST", "/api/v1/users/{username}/password", users_password, YW_ROUTE_DURING_PW_CHANGE, 16 * 1024,
     "user.reset_password"},
    {"DELETE", "/api/v1/users/{username}/totp", totp_reset, 0, 0, "user.reset_password"},
};

const yw_module yw_identity_module = {"identity", routes, sizeof routes / sizeof routes[0]};

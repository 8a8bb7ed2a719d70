/*
 * Where the hub may connect on a caller's behalf: webhook deliveries,
 * mediated calls of registered services and their health checks.
 *
 * A caller who registers a URL chooses where the hub connects: without a
 * check it could make the hub reach its own host (127.0.0.1, the admin
 * ports of the machine), cloud metadata (169.254.169.254) or anything the
 * operator wants kept out of reach. Every outbound connection's address is
 * checked after name resolution, at connect time (so a name that resolves
 * elsewhere later is caught too), against a list of denied networks:
 * --egress-deny, by default loopback, "this network" and link-local,
 * IPv4 and IPv6. Department systems on the government intranet (10/8,
 * 172.16/12, 192.168/16) are reachable unless listed.
 */
#ifndef YW_SEC_EGRESS_H
#define YW_SEC_EGRESS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define YW_EGRESS_MAX_NETS 64

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
    char text[48]; /* as written */
} yw_egress_net;

typedef struct {
    yw_egress_net nets[YW_EGRESS_MAX_NETS];
    int n;
} yw_egress;

/* Parses "CIDR,CIDR,..." (an empty list denies nothing). 0, or -1 with the reason in err. */
int yw_egress_parse(const char *list, yw_egress *out, char *err, size_t errlen);

/* The denied network addr falls in (IPv4-mapped IPv6 counts as IPv4), or NULL when it may be reached. */
const yw_egress_net *yw_egress_denied(const yw_egress *e, const struct sockaddr *addr);

/* One outbound transfer's check: why it was refused, when it was. */
typedef struct {
    const yw_egress *policy;
    char why[256];
} yw_egress_check;

/*
 * Makes curl connect only where check->policy allows: a denied address
 * fails the transfer (CURLE_COULDNT_CONNECT) and check->why says why.
 * check must live as long as the transfer.
 */
void yw_egress_guard(CURL *curl, yw_egress_check *check);

/* "http://10.1.2.3/x" and the like: the host of url when it is an address literal that e denies, else NULL. */
const yw_egress_net *yw_egress_denied_url(const yw_egress *e, const char *url);

#endif

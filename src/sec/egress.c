/* Outbound connections only where the operator allows (see egress.h). */
#include "sec/egress.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_net(const char *s, size_t len, yw_egress_net *net)
{
    char text[64];
    if (len == 0 || len >= sizeof text)
        return -1;
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    int prefix = -1;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || p < 0 || p > 128)
            return -1;
        prefix = (int)p;
        *slash = '\0';
    }
    memset(net, 0, sizeof *net);
    if (inet_pton(AF_INET, text, net->addr) == 1) {
        net->family = AF_INET;
        net->prefix = prefix < 0 ? 32 : prefix;
        if (net->prefix > 32)
            return -1;
    } else if (inet_pton(AF_INET6, text, net->addr) == 1) {
        net->family = AF_INET6;
        net->prefix = prefix < 0 ? 128 : prefix;
    } else {
        return -1;
    }
    memcpy(net->text, s, len < sizeof net->text ? len : sizeof net->text - 1);
    return 0;
}

int yw_egress_parse(const char *list, yw_egress *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (const char *p = list ? list : ""; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && p[0] == ' ')
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        if (len) {
            if (out->n == YW_EGRESS_MAX_NETS) {
                snprintf(err, errlen, "at most %d networks", YW_EGRESS_MAX_NETS);
                return -1;
            }
            if (parse_net(p, len, &out->nets[out->n]) < 0) {
                snprintf(err, errlen, "'%.*s' is not a network like 10.0.0.0/8 or fe80::/10", (int)(len > 60 ? 60 : len), p);
                return -1;
            }
            out->n++;
        }
        p = comma ? comma + 1 : p + strlen(p);
    }
    return 0;
}

static bool in_net(const yw_egress_net *net, const unsigned char *addr)
{
    int whole = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr, addr, (size_t)whole) != 0)
        return false;
    return rest == 0 || ((net->addr[whole] ^ addr[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

const yw_egress_net *yw_egress_denied(const yw_egress *e, const struct sockaddr *addr)
{
    if (!e)
        return NULL;
    unsigned char bytes[16];
    int family = addr->sa_family;
    if (family == AF_INET) {
        memcpy(bytes, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    } else if (family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, sizeof mapped) == 0) { /* ::ffff:a.b.c.d is a.b.c.d */
            family = AF_INET;
            memcpy(bytes, a + 12, 4);
        } else {
            memcpy(bytes, a, 16);
        }
    } else {
        return NULL; /* not an internet address: curl connects over IP only */
    }
    for (int i = 0; i < e->n; i++)
        if (e->nets[i].family == family && in_net(&e->nets[i], bytes))
            return &e->nets[i];
    return NULL;
}

static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
    (void)purpose;
    yw_egress_check *check = arg;
    const yw_egress_net *net = yw_egress_denied(check->policy, &address->addr);
    if (net) {
        char text[INET6_ADDRSTRLEN] = "?";
        const void *raw = address->family == AF_INET ? (const void *)&((struct sockaddr_in *)&address->addr)->sin_addr
                                                     : (const void *)&((struct sockaddr_in6 *)&address->addr)->sin6_addr;
        inet_ntop(address->family, raw, text, sizeof text);
        snprintf(check->why, sizeof check->why, "the destination %s is in %s, which the hub may not reach (--egress-deny)",
                 text, net->text);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

void yw_egress_guard(CURL *curl, yw_egress_check *check)
{
    check->why[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, check);
}

const yw_egress_net *yw_egress_denied_url(const yw_egress *e, const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    const yw_egress_net *net = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
        struct sockaddr_in a4 = {.sin_family = AF_INET};
        size_t len = strlen(host);
        if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
            net = yw_egress_denied(e, (struct sockaddr *)&a4);
        } else if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
            host[len - 1] = '\0';
            if (inet_pton(AF_INET6, host + 1, &a6.sin6_addr) == 1)
                net = yw_egress_denied(e, (struct sockaddr *)&a6);
        }
    }
    curl_free(host);
    curl_url_cleanup(u);
    return net;
}

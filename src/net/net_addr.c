/*
 * net_addr.c — listen/connect addresses as users write them.
 *
 * Every server subcommand takes --listen HOST:PORT. The default host is
 * loopback: spate never listens on all interfaces unless told to.
 */
#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <string.h>

spate_status_t spate_net_addr_parse(const char *text, spate_net_addr_t *out, char *err,
                                    size_t errlen) {
    char host[256];
    const char *port_s;
    memset(out, 0, sizeof *out);
    if (text[0] == '[') {
        const char *rb = strchr(text, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - text - 1) >= sizeof host) goto bad;
        memcpy(host, text + 1, (size_t)(rb - text - 1));
        host[rb - text - 1] = '\0';
        port_s = rb + 2;
    } else {
        const char *c = strrchr(text, ':');
        if (!c || (size_t)(c - text) >= sizeof host || memchr(text, ':', (size_t)(c - text)))
            goto bad;
        memcpy(host, text, (size_t)(c - text));
        host[c - text] = '\0';
        port_s = c + 1;
        if (!host[0]) strcpy(host, "127.0.0.1");
    }
    int64_t port;
    if (spate_parse_i64(port_s, 0, 65535, &port) != SPATE_OK) {
        snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", text);
        return SPATE_EINVAL;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port_s, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "'%s': cannot resolve '%s': %s", text, host, gai_strerror(rc));
        return SPATE_EINVAL;
    }
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return SPATE_OK;
bad:
    snprintf(err, errlen, "'%s': expected HOST:PORT (for example 127.0.0.1:8088 or [::1]:8088)",
             text);
    return SPATE_EINVAL;
}

int spate_net_addr_port(const spate_net_addr_t *a) {
    if (a->ss.ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

void spate_net_addr_format(const spate_net_addr_t *a, char *out, size_t outlen) {
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, ip, sizeof ip);
        snprintf(out, outlen, "[%s]:%d", ip, spate_net_addr_port(a));
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr, ip, sizeof ip);
        snprintf(out, outlen, "%s:%d", ip, spate_net_addr_port(a));
    }
}

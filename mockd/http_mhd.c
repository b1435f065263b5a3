/* http_mhd.c - the libmicrohttpd adapter: the only file that includes microhttpd.h.
 *
 * libmicrohttpd parses HTTP/1.1 (keep-alive and pipelining included) on an epoll thread pool.
 * This file turns each request into a struct mockd_req (headers, raw path and query, the body
 * read up to --max-body), calls mockd_handle(), and turns the struct mockd_resp back into an
 * MHD response.
 *
 * Lifetimes: a request's state (its arena, body buffer and mockd_req) is allocated on the first
 * callback and freed in the completion callback, after libmicrohttpd has sent the response; so
 * response bodies may point into the request's arena (MHD_RESPMEM_PERSISTENT). Paths and query
 * strings are kept raw (a no-op unescape callback): mockd decodes them itself, per parameter
 * style. */
#include "mockd.h"

#include "core/alloc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mockd_server {
    struct MHD_Daemon *daemon;
    const struct mockd_app *app;
    const struct mockd_config *cfg;
};

struct reqstate {
    struct ct_arena arena;
    struct ct_buf body;
    struct mockd_req req;
    double t0;
    bool too_big;
    char remote[64];
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct mockd_req *r = cls;
    if (r->nheaders < MOCKD_MAX_HEADERS)
        r->headers[r->nheaders++] = (struct mockd_header){key, value ? value : ""};
    return MHD_YES;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct mockd_req *r = cls;
    if (r->nquery < MOCKD_MAX_QUERY)
        r->query[r->nquery++] = (struct ct_kv){key, strlen(key), value ? value : "",
                                               value ? strlen(value) : 0};
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct reqstate *st = *req_cls;
    if (!st)
        return;
    ct_arena_deinit(&st->arena);
    ct_buf_deinit(&st->body);
    ct_free(st);
    *req_cls = NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct reqstate *st,
                                     const struct mockd_resp *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body_len, (void *)(resp->body ? resp->body : ""), MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (resp->content_type && resp->body_len)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (unsigned i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, resp->status ? resp->status : 500, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    struct mockd_server *srv = cls;
    struct reqstate *st = *req_cls;
    if (!st) {
        /* First call: headers only. */
        st = ct_xcalloc(1, sizeof(*st));
        *req_cls = st;
        st->t0 = now_ms();
        ct_arena_init(&st->arena, 8192);
        ct_buf_init(&st->body, 0);
        struct mockd_req *r = &st->req;
        r->arena = &st->arena;
        r->method = method;
        r->path = url;
        r->path_len = strlen(url);
        MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, r);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, r);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                          st->remote, sizeof(st->remote));
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                          st->remote, sizeof(st->remote));
        }
        r->remote = st->remote;
        /* A declared length over the limit is refused before any of the body is read. */
        const char *cl = mockd_req_header(r, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > srv->cfg->max_body)
            st->too_big = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_big && st->body.len + *upload_size > srv->cfg->max_body)
            st->too_big = true;
        if (!st->too_big)
            ct_buf_add(&st->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    struct mockd_req *r = &st->req;
    r->body = st->body.ptr ? st->body.ptr : "";
    r->body_len = st->body.len;
    r->body_too_big = st->too_big;
    struct mockd_resp resp;
    mockd_handle(srv->app, r, &resp);
    mockd_log_access(srv->cfg, r, &resp, now_ms() - st->t0);
    return send_response(conn, st, &resp);
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    const struct mockd_config *cfg = cls;
    if (cfg->quiet)
        return;
    fputs("mockd: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

struct mockd_server *mockd_http_start(const struct mockd_config *cfg, const struct mockd_app *app,
                                      unsigned *port_out)
{
    struct mockd_server *srv = ct_xcalloc(1, sizeof(*srv));
    srv->app = app;
    srv->cfg = cfg;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, cfg->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, cfg->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)cfg->port);
        flags |= MHD_USE_IPv6;
    } else if (!strcmp(cfg->host, "localhost")) {
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin->sin_port = htons((uint16_t)cfg->port);
    } else {
        fprintf(stderr, "mockd: --host '%s': expected an IPv4 or IPv6 address\n", cfg->host);
        ct_free(srv);
        return NULL;
    }
    /* libmicrohttpd's memory pool per connection holds the request head; its size is the
     * header limit (a larger head is answered 431 by libmicrohttpd). */
    size_t pool = cfg->max_header < 4096 ? 4096 : cfg->max_header;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        cfg->threads > 1 ? cfg->threads : 0u, /* 0: the polling thread serves alone */
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout, MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, srv, MHD_OPTION_EXTERNAL_LOGGER, log_mhd,
        (void *)cfg, MHD_OPTION_END);
    if (!srv->daemon) {
        fprintf(stderr, "mockd: cannot listen on %s:%u (port in use or not permitted)\n",
                cfg->host, cfg->port);
        ct_free(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : cfg->port;
    return srv;
}

void mockd_http_stop(struct mockd_server *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->daemon);
    ct_free(srv);
}

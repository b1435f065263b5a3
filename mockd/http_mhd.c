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
#include "front.h"
#include "reload.h"
#include "sched.h"
#include "ws_lws.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct mockd_server {
    struct MHD_Daemon *daemon;
    const struct mockd_app *app;
    const struct mockd_config *cfg;
    struct mockd_front *front; /* with WebSocket channels: the shared listening socket */
    struct mockd_ws *ws;
};

struct reqstate {
    const struct mockd_app *app; /* the app in service when the request began (hot reload) */
    struct ct_arena arena;
    struct ct_buf body;
    struct mockd_req req;
    struct mockd_resp resp;
    struct mockd_server *srv;
    struct MHD_Connection *conn;
    double t0;
    bool too_big;
    bool answered; /* resp holds the answer, waiting for its delay */
    char remote[64];
};

/* --- streamed bodies --------------------------------------------------------------------------
 *
 * A streamed body is a buffer filled by timer tasks and drained by libmicrohttpd's content
 * reader. When the reader finds it empty it suspends the connection (the pattern libmicrohttpd
 * prescribes for "no data yet"); the next append resumes it. Both sides take the stream's lock,
 * so a resume never races a suspend. References: one for libmicrohttpd (dropped by the free
 * callback), one per pending timer task. */
struct hstream {
    pthread_mutex_t lock;
    struct MHD_Connection *conn;
    struct ct_buf buf;
    size_t off;
    bool done, failed, suspended, dead;
    int refs;
    struct mockd_chunk *chunks; /* owned copies */
    unsigned nchunks, next;
};

static void hs_unref(struct hstream *hs)
{
    pthread_mutex_lock(&hs->lock);
    bool last = --hs->refs == 0;
    pthread_mutex_unlock(&hs->lock);
    if (!last)
        return;
    for (unsigned i = 0; i < hs->nchunks; i++)
        ct_free((char *)hs->chunks[i].data);
    ct_free(hs->chunks);
    ct_buf_deinit(&hs->buf);
    pthread_mutex_destroy(&hs->lock);
    ct_free(hs);
}

/* Called with the lock held. */
static void hs_wake(struct hstream *hs)
{
    if (hs->suspended && !hs->dead) {
        hs->suspended = false;
        MHD_resume_connection(hs->conn);
    }
}

static ssize_t hs_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct hstream *hs = cls;
    pthread_mutex_lock(&hs->lock);
    size_t avail = hs->buf.len - hs->off;
    if (avail) {
        size_t n = avail < max ? avail : max;
        memcpy(out, hs->buf.ptr + hs->off, n);
        hs->off += n;
        pthread_mutex_unlock(&hs->lock);
        return (ssize_t)n;
    }
    if (hs->failed) {
        pthread_mutex_unlock(&hs->lock);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (hs->done) {
        pthread_mutex_unlock(&hs->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    hs->suspended = true;
    MHD_suspend_connection(hs->conn);
    pthread_mutex_unlock(&hs->lock);
    return 0;
}

static void hs_free(void *cls)
{
    struct hstream *hs = cls;
    pthread_mutex_lock(&hs->lock);
    hs->dead = true;
    pthread_mutex_unlock(&hs->lock);
    hs_unref(hs);
}

/* A timer task: deliver the next chunk, schedule the one after. */
static void hs_step(void *arg)
{
    struct hstream *hs = arg;
    pthread_mutex_lock(&hs->lock);
    if (!hs->dead && hs->next < hs->nchunks) {
        const struct mockd_chunk *c = &hs->chunks[hs->next++];
        if (c->fail) {
            hs->failed = true;
        } else {
            ct_buf_add(&hs->buf, c->data, c->len);
            if (hs->next == hs->nchunks)
                hs->done = true;
        }
        hs_wake(hs);
        if (!hs->failed && hs->next < hs->nchunks) {
            hs->refs++;
            mockd_sched_add(hs->chunks[hs->next].delay_ms, hs_step, hs);
        }
    } else if (!hs->dead) {
        hs->done = true;
        hs_wake(hs);
    }
    pthread_mutex_unlock(&hs->lock);
    hs_unref(hs);
}

/* Turn a slow or truncated body into chunks. */
static void fault_chunks(struct mockd_resp *resp, struct ct_arena *a)
{
    if (resp->fault == MOCKD_FAULT_SLOW) {
        unsigned bps = resp->slow_bps ? resp->slow_bps : 1000;
        size_t per = bps / 10 ? bps / 10 : 1; /* ten pieces a second */
        unsigned n = (unsigned)((resp->body_len + per - 1) / per);
        if (n > 100000)
            n = 100000, per = (resp->body_len + n - 1) / n;
        struct mockd_chunk *c = ct_arena_zalloc(a, (n ? n : 1) * sizeof(*c));
        for (unsigned i = 0; i < n; i++) {
            size_t off = i * per;
            c[i].delay_ms = i ? 100 : 0;
            c[i].data = resp->body + off;
            c[i].len = resp->body_len - off < per ? resp->body_len - off : per;
        }
        resp->chunks = c;
        resp->nchunks = n;
    } else if (resp->fault == MOCKD_FAULT_TRUNCATE || resp->fault == MOCKD_FAULT_EMPTY) {
        struct mockd_chunk *c = ct_arena_zalloc(a, 2 * sizeof(*c));
        size_t half = resp->fault == MOCKD_FAULT_EMPTY ? 0 : resp->body_len / 2;
        c[0].data = resp->body;
        c[0].len = half;
        c[1].fail = true;
        resp->chunks = c;
        resp->nchunks = 2;
    }
}

static struct MHD_Response *stream_response(struct MHD_Connection *conn, struct mockd_resp *resp,
                                            uint64_t size)
{
    struct hstream *hs = ct_xcalloc(1, sizeof(*hs));
    pthread_mutex_init(&hs->lock, NULL);
    hs->conn = conn;
    ct_buf_init(&hs->buf, 0);
    hs->chunks = ct_xcalloc(resp->nchunks + 1, sizeof(*hs->chunks));
    hs->nchunks = resp->nchunks;
    for (unsigned i = 0; i < resp->nchunks; i++) {
        hs->chunks[i] = resp->chunks[i];
        hs->chunks[i].data = ct_xstrndup(resp->chunks[i].data ? resp->chunks[i].data : "",
                                         resp->chunks[i].len);
    }
    hs->refs = 2; /* libmicrohttpd's, and the first task's */
    struct MHD_Response *r = MHD_create_response_from_callback(size, 16384, hs_read, hs, hs_free);
    if (!r) {
        hs->refs = 1;
        hs_unref(hs);
        return NULL;
    }
    mockd_sched_add(hs->nchunks ? hs->chunks[0].delay_ms : 0, hs_step, hs);
    return r;
}

/* --- delayed answers ------------------------------------------------------------------------------- */

static void resume_task(void *arg)
{
    struct reqstate *st = arg;
    MHD_resume_connection(st->conn);
}

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
    mockd_app_release(st->app);
    ct_arena_deinit(&st->arena);
    ct_buf_deinit(&st->body);
    ct_free(st);
    *req_cls = NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct reqstate *st,
                                     struct mockd_resp *resp)
{
    if (resp->fault == MOCKD_FAULT_RESET)
        return MHD_NO; /* libmicrohttpd closes the connection without an answer */
    if (resp->fault != MOCKD_FAULT_NONE)
        fault_chunks(resp, &st->arena);
    struct MHD_Response *r;
    if (resp->nchunks) {
        /* Truncated bodies announce their full length; streams are chunked. */
        uint64_t size = resp->fault == MOCKD_FAULT_TRUNCATE || resp->fault == MOCKD_FAULT_EMPTY ||
                                resp->fault == MOCKD_FAULT_SLOW
                            ? resp->body_len
                            : MHD_SIZE_UNKNOWN;
        r = stream_response(conn, resp, size);
    } else {
        r = MHD_create_response_from_buffer(resp->body_len, (void *)(resp->body ? resp->body : ""),
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (resp->content_type && (resp->body_len || resp->nchunks))
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
        st->srv = srv;
        st->conn = conn;
        st->app = mockd_app_acquire(srv->app);
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
    if (st->answered) {
        /* Resumed after the answer's delay. */
        st->answered = false;
        mockd_log_access(srv->cfg, r, &st->resp, now_ms() - st->t0);
        mockd_layers_record(st->app, r, &st->resp, now_ms() - st->t0);
        return send_response(conn, st, &st->resp);
    }
    r->body = st->body.ptr ? st->body.ptr : "";
    r->body_len = st->body.len;
    r->body_too_big = st->too_big;
    mockd_handle(st->app, r, &st->resp);
    if (st->resp.delay_ms) {
        st->answered = true;
        MHD_suspend_connection(conn);
        mockd_sched_add(st->resp.delay_ms, resume_task, st);
        return MHD_YES;
    }
    mockd_log_access(srv->cfg, r, &st->resp, now_ms() - st->t0);
    mockd_layers_record(st->app, r, &st->resp, now_ms() - st->t0);
    return send_response(conn, st, &st->resp);
}

static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    const struct mockd_server *srv = cls;
    const struct mockd_app *a = mockd_app_acquire(srv->app);
    bool ok = mockd_layers_accept(a);
    mockd_app_release(a);
    return ok ? MHD_YES : MHD_NO;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    const struct mockd_config *cfg = cls;
    if (cfg->quiet)
        return;
    fputs("mockd: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* --- the shared port ------------------------------------------------------------------------- */

static void front_to_http(void *ud, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct mockd_server *srv = ud;
    if (MHD_add_connection(srv->daemon, fd, addr, len) != MHD_YES)
        close(fd); /* libmicrohttpd refused it (connection limit): it is closed, as MHD would */
}

static void front_to_ws(void *ud, int fd)
{
    struct mockd_server *srv = ud;
    mockd_ws_adopt(srv->ws, fd);
}

static bool front_accept_ok(void *ud)
{
    const struct mockd_server *srv = ud;
    const struct mockd_app *a = mockd_app_acquire(srv->app);
    bool ok = mockd_layers_accept(a);
    mockd_app_release(a);
    return ok;
}

static bool front_is_channel(void *ud, const char *path, size_t len)
{
    const struct mockd_server *srv = ud;
    const struct mockd_app *a = mockd_app_acquire(srv->app);
    bool yes = a->asyncapi && ct_asyncapi_channel(a->asyncapi, path, len) != NULL;
    mockd_app_release(a);
    return yes;
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
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
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
    /* With WebSocket channels the front owns the listening socket and hands HTTP connections to
     * libmicrohttpd, which then listens on nothing itself. */
    bool shared = app->asyncapi != NULL;
    if (shared)
        flags |= MHD_USE_NO_LISTEN_SOCKET;
    /* libmicrohttpd's memory pool per connection holds the request head; its size is the
     * header limit (a larger head is answered 431 by libmicrohttpd). */
    size_t pool = cfg->max_header < 4096 ? 4096 : cfg->max_header;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, accept_policy, srv, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, (void *)cfg, MHD_OPTION_SOCK_ADDR,
        shared ? NULL : (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        cfg->threads > 1 ? cfg->threads : 0u, /* 0: the polling thread serves alone */
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout, MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        fprintf(stderr, "mockd: cannot listen on %s:%u (port in use or not permitted)\n",
                cfg->host, cfg->port);
        ct_free(srv);
        return NULL;
    }
    if (mockd_sched_start() != 0) {
        fprintf(stderr, "mockd: cannot start the timer thread\n");
        MHD_stop_daemon(srv->daemon);
        ct_free(srv);
        return NULL;
    }
    if (shared) {
        srv->ws = mockd_ws_start(cfg, app);
        struct mockd_front_sinks sinks = {front_to_http, front_to_ws, front_accept_ok,
                                          front_is_channel, srv};
        srv->front = srv->ws ? mockd_front_start(cfg->host, cfg->port, &sinks, port_out) : NULL;
        if (!srv->front) {
            mockd_ws_stop(srv->ws);
            mockd_sched_stop();
            MHD_stop_daemon(srv->daemon);
            ct_free(srv);
            return NULL;
        }
        return srv;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : cfg->port;
    return srv;
}

void mockd_http_stop(struct mockd_server *srv)
{
    if (!srv)
        return;
    /* No new connections, then WebSocket goodbyes, then pending timer tasks (they resume
     * connections) before libmicrohttpd goes. */
    mockd_front_stop(srv->front);
    mockd_ws_stop(srv->ws);
    mockd_sched_stop();
    MHD_stop_daemon(srv->daemon);
    ct_free(srv);
}

/* ws_lws.c - WebSocket client connections over libwebsockets: the only file that includes
 * libwebsockets.h.
 *
 * The executor wants a synchronous conversation (connect, send, wait for the next frame or the
 * close, close), libwebsockets is event-driven: each connection gets its own small client
 * context, and every call services it until what the caller waits for happened or the deadline
 * passed, waiting on the socket with poll() itself (lws_service() no longer honours its
 * timeout). Incoming frames are reassembled from fragments and queued in
 * arrival order; the close code the server sent is kept.
 *
 * Lifetime notes: the context owns the wsi; callbacks reach our struct through the context's
 * user pointer, so the struct must outlive the context (runner_ws_free destroys the context
 * first). Nothing here is shared between threads: one connection belongs to one worker. */
#include "runner.h"

#include "core/alloc.h"
#include "core/err.h"

#include <libwebsockets.h>
#include <poll.h>
#include <string.h>

#define MAX_FRAME (4u << 20)

struct frame {
    struct frame *next;
    char *text;
    size_t len;
    bool binary;
};

struct runner_ws {
    struct lws_context *ctx;
    struct lws *wsi;
    const char *const *headers; /* borrowed during the handshake only */
    size_t nheaders;
    bool established, closed, failed;
    int close_code; /* the server's, or -1 */
    char err[256];
    struct ct_buf partial; /* a frame being reassembled */
    bool partial_binary;
    struct frame *head, *tail; /* received, not yet taken */
    struct frame *out;         /* one frame to send */
    bool want_close;
    uint16_t close_code_out;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct runner_ws *w = ctx ? lws_context_user(ctx) : NULL;
    (void)user;
    if (!w)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = (unsigned char **)in, *end = *p + len;
        for (size_t i = 0; i < w->nheaders; i++) {
            const char *h = w->headers[i], *colon = strchr(h, ':');
            if (!colon)
                continue;
            char name[128];
            snprintf(name, sizeof(name), "%.*s:", (int)(colon - h), h);
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                            (const unsigned char *)v, (int)strlen(v), p, end))
                return -1;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        w->established = true;
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        w->failed = true;
        w->wsi = NULL;
        snprintf(w->err, sizeof(w->err), "%s", in ? (const char *)in : "connection error");
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (lws_is_first_fragment(wsi)) {
            ct_buf_deinit(&w->partial);
            ct_buf_init(&w->partial, MAX_FRAME);
            w->partial_binary = lws_frame_is_binary(wsi);
        }
        if (len && ct_buf_add(&w->partial, in, len) != 0) {
            snprintf(w->err, sizeof(w->err), "a frame over %u MiB", MAX_FRAME >> 20);
            ct_buf_init(&w->partial, MAX_FRAME);
            return -1;
        }
        if (lws_is_final_fragment(wsi)) {
            struct frame *f = ct_xcalloc(1, sizeof(*f));
            f->text = ct_buf_steal(&w->partial, &f->len);
            if (!f->text)
                f->text = ct_xstrdup("");
            f->binary = w->partial_binary;
            if (w->tail)
                w->tail->next = f;
            else
                w->head = f;
            w->tail = f;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (w->out) {
            struct frame *f = w->out;
            unsigned char *buf = ct_xmalloc(LWS_PRE + f->len + 1);
            memcpy(buf + LWS_PRE, f->text, f->len);
            int n = lws_write(wsi, buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
            ct_free(buf);
            ct_free(f->text);
            ct_free(f);
            w->out = NULL;
            if (n < 0)
                return -1;
        } else if (w->want_close) {
            lws_close_reason(wsi, (enum lws_close_status)w->close_code_out, NULL, 0);
            return -1;
        }
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *b = in;
            w->close_code = (b[0] << 8) | b[1];
        } else {
            w->close_code = 1005; /* no status received */
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLOSED:
        w->closed = true;
        w->wsi = NULL;
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"runner", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Service the context until done(w) or the deadline; returns true when done. We wait on the
 * socket ourselves and let lws_service() only process what is ready (a negative timeout makes
 * it non-blocking): its own wait honours no timeout in libwebsockets 4.x. */
static bool pump(struct runner_ws *w, uint32_t timeout_ms, bool (*done)(const struct runner_ws *))
{
    double deadline = runner_now_ms() + timeout_ms;
    while (!done(w)) {
        double left = deadline - runner_now_ms();
        if (left <= 0)
            return false;
        if (!w->wsi && (w->closed || w->failed))
            return done(w);
        int fd = w->wsi ? (int)lws_get_socket_fd(w->wsi) : -1;
        int wait = left < 20 ? (int)left + 1 : 20;
        if (fd >= 0 && w->established) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (w->out || w->want_close)
                p.events |= POLLOUT;
            poll(&p, 1, wait);
        } else {
            /* Connecting: lws drives the handshake on its own descriptors. */
            struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
            poll(&p, fd >= 0 ? 1 : 0, 2);
        }
        lws_service(w->ctx, -1);
    }
    return true;
}

static bool is_open_or_over(const struct runner_ws *w)
{
    return w->established || w->failed || w->closed;
}

static bool has_frame_or_closed(const struct runner_ws *w)
{
    return w->head != NULL || w->closed || w->failed;
}

static bool is_closed(const struct runner_ws *w)
{
    return w->closed || w->failed;
}

static bool sent(const struct runner_ws *w)
{
    return w->out == NULL || w->closed || w->failed;
}

int runner_ws_open(struct runner_ws **out, const char *url, const char *const *headers,
                   size_t nheaders, uint32_t timeout_ms, char *err, size_t errlen)
{
    *out = NULL;
    lws_set_log_level(0, NULL);
    bool tls = !strncmp(url, "wss://", 6);
    if (strncmp(url, "ws://", 5) && !tls) {
        snprintf(err, errlen, "expected a ws:// or wss:// URL, got '%s'", url);
        return CT_E_INVAL;
    }
    /* ws://host:port/path?query */
    const char *hp = url + (tls ? 6 : 5);
    const char *slash = strchr(hp, '/');
    char host[256];
    snprintf(host, sizeof(host), "%.*s", (int)(slash ? (size_t)(slash - hp) : strlen(hp)), hp);
    const char *path = slash ? slash : "/";
    int port = tls ? 443 : 80;
    char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']')) {
        port = (int)strtol(colon + 1, NULL, 10);
        *colon = '\0';
    }
    struct runner_ws *w = ct_xcalloc(1, sizeof(*w));
    w->close_code = -1;
    w->headers = headers;
    w->nheaders = nheaders;
    ct_buf_init(&w->partial, MAX_FRAME);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = w;
    info.gid = -1;
    info.uid = -1;
    if (tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    w->ctx = lws_create_context(&info);
    if (!w->ctx) {
        snprintf(err, errlen, "cannot create a libwebsockets context");
        runner_ws_free(w);
        return CT_E_IO;
    }
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = w->ctx;
    ci.address = host;
    ci.port = port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    ci.protocol = NULL;
    ci.local_protocol_name = "runner";
    ci.pwsi = &w->wsi;
    if (!lws_client_connect_via_info(&ci) && !w->failed) {
        snprintf(err, errlen, "cannot start connecting to %s", url);
        runner_ws_free(w);
        return CT_E_UNREACHABLE;
    }
    bool ok = pump(w, timeout_ms, is_open_or_over);
    w->headers = NULL;
    w->nheaders = 0;
    if (!ok || !w->established) {
        snprintf(err, errlen, "%s", w->failed ? w->err
                                    : w->closed ? "the server closed the connection during the handshake"
                                                : "no handshake answer within the timeout");
        runner_ws_free(w);
        return CT_E_UNREACHABLE;
    }
    *out = w;
    return 0;
}

int runner_ws_send(struct runner_ws *w, const char *text, size_t len, uint32_t timeout_ms)
{
    if (!w->wsi || w->closed)
        return CT_E_IO;
    struct frame *f = ct_xcalloc(1, sizeof(*f));
    f->text = ct_xstrndup(text, len);
    f->len = len;
    w->out = f;
    lws_callback_on_writable(w->wsi);
    if (!pump(w, timeout_ms, sent) || w->out) {
        if (w->out) {
            ct_free(w->out->text);
            ct_free(w->out);
            w->out = NULL;
        }
        return CT_E_IO;
    }
    return 0;
}

int runner_ws_next(struct runner_ws *w, uint32_t timeout_ms, char **text, size_t *len,
                   bool *binary, int *close_code)
{
    *text = NULL;
    *len = 0;
    *close_code = -1;
    if (!w->head && !w->closed && !w->failed)
        pump(w, timeout_ms, has_frame_or_closed);
    if (w->head) {
        struct frame *f = w->head;
        w->head = f->next;
        if (!w->head)
            w->tail = NULL;
        *text = f->text;
        *len = f->len;
        if (binary)
            *binary = f->binary;
        ct_free(f);
        return 1;
    }
    if (w->closed || w->failed) {
        *close_code = w->close_code;
        return 0;
    }
    return -1;
}

int runner_ws_close(struct runner_ws *w, uint16_t code, uint32_t timeout_ms)
{
    if (!w->wsi || w->closed)
        return 0;
    w->want_close = true;
    w->close_code_out = code;
    lws_callback_on_writable(w->wsi);
    return pump(w, timeout_ms, is_closed) ? 0 : CT_E_IO;
}

void runner_ws_free(struct runner_ws *w)
{
    if (!w)
        return;
    if (w->ctx)
        lws_context_destroy(w->ctx);
    while (w->head) {
        struct frame *f = w->head;
        w->head = f->next;
        ct_free(f->text);
        ct_free(f);
    }
    if (w->out) {
        ct_free(w->out->text);
        ct_free(w->out);
    }
    ct_buf_deinit(&w->partial);
    ct_free(w);
}

/* ws_lws.c - the libwebsockets adapter: the only file that includes libwebsockets.h.
 *
 * Threading: everything here runs on the service thread but mockd_ws_adopt() and
 * mockd_ws_stop(), which queue work and wake the loop with lws_cancel_service(). Sessions live
 * in libwebsockets' per-session storage and are freed on LWS_CALLBACK_CLOSED.
 *
 * Per connection: frames are reassembled up to MAX_MESSAGE bytes (larger: close 1009), binary
 * frames close with 1003, every text frame goes to the dialogue engine, whose actions are kept in
 * a queue with due times and carried out from the connection's timer. At most MAX_QUEUE actions
 * and MAX_OUT unsent frames wait per connection (more: close 1008). A connection silent for
 * --ws-idle-timeout seconds (no frame either way, no answer pending) is closed with the
 * contract's idle code. */
#include "ws_lws.h"

#include "core/alloc.h"
#include "dialogue/dialogue.h"
#include "layers_ws.h"
#include "mockd.h"
#include "reload.h"
#include "sched.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_MESSAGE 65536
#define MAX_QUEUE 1024
#define MAX_OUT 1024

struct outframe {
    struct outframe *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of room, then the payload */
};

struct action {
    int64_t due;
    enum ct_dlg_kind kind;
    char *text;
    size_t len;
    uint16_t code;
    char reason[64];
};

struct sess {
    struct lws *wsi;
    struct mockd_ws *ws;
    const struct mockd_app *app; /* held from the upgrade to the close (hot reload) */
    const struct ct_asyncapi_channel *ch;
    struct ct_dialogue_conn *dlg;
    struct ct_buf rx;
    /* Frames waiting for the writable callback, already framed (server frames are not
     * masked): LWS_PRE bytes of room, then header and payload of each. Sent up to out_off;
     * freed once all is sent, so an idle connection holds none. */
    struct ct_buf out;
    size_t out_off, nout;
    struct action *acts;
    size_t nacts, capacts;
    int64_t last_rx; /* last frame in either direction: the idle clock */
    int64_t timer_at; /* when the armed timer fires; 0: none armed */
    int close_code; /* > 0: close once the queue is sent */
    char close_reason[64];
    bool drop, established;
    char session[65]; /* the upgrade's X-Mockd-Session header, for the journal */
    /* --proxy: frames are relayed to and from an upstream connection. */
    struct lws *up;
    bool proxied, up_ready;
    struct outframe *up_head, *up_tail;
    size_t nup;
    struct sess *next, *prev;
};

/* The upstream side of a relayed connection (libwebsockets' per-session data of the client). */
struct upsess {
    struct sess *down; /* NULL once the downstream side is gone */
    struct ct_buf rx;
};

struct mockd_ws {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    pthread_t thread;
    const struct mockd_app *app;
    const struct mockd_config *cfg;
    pthread_mutex_t lock; /* guards the adopt queue and `stopping` */
    int *adopt;
    size_t nadopt, capadopt;
    bool stopping, stop_sent, exited;
    int64_t stop_deadline;
    struct sess *sessions;
    unsigned nsessions;
    /* The dialogue engine's scratch space, shared by every connection of the service thread:
     * each call's actions are copied at once (take_actions), so a connection keeps none. */
    struct ct_dialogue_work *work;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int close_code(const struct sess *s, const char *name, int fallback)
{
    int c = s->ch ? ct_asyncapi_close_code(s->ch, name) : -1;
    return c > 0 ? c : fallback;
}

static void begin_close(struct sess *s, int code, const char *reason)
{
    if (s->close_code)
        return;
    s->close_code = code;
    snprintf(s->close_reason, sizeof(s->close_reason), "%s", reason ? reason : "");
    lws_callback_on_writable(s->wsi);
}

/* Frame a text frame into the connection's send buffer. */
static void queue_frame(struct sess *s, const char *text, size_t len)
{
    if (s->nout >= MAX_OUT) {
        begin_close(s, close_code(s, "policy_violation", 1008), "send queue full");
        return;
    }
    struct ct_buf *b = &s->out;
    if (!b->len) {
        static const char pre[LWS_PRE];
        ct_buf_reserve(b, LWS_PRE + 10 + len);
        ct_buf_add(b, pre, LWS_PRE);
        s->out_off = LWS_PRE;
    }
    unsigned char h[10];
    size_t hl = 0;
    h[hl++] = 0x81; /* FIN, text */
    if (len < 126) {
        h[hl++] = (unsigned char)len;
    } else if (len < 65536) {
        h[hl++] = 126;
        h[hl++] = (unsigned char)(len >> 8);
        h[hl++] = (unsigned char)len;
    } else {
        h[hl++] = 127;
        for (int k = 7; k >= 0; k--)
            h[hl++] = (unsigned char)((uint64_t)len >> (8 * k));
    }
    ct_buf_add(b, h, hl);
    ct_buf_add(b, text, len);
    s->nout++;
    lws_callback_on_writable(s->wsi);
}

/* The payload of the frame at `p` (framed by queue_frame) and the size of the whole frame. */
static size_t frame_at(const unsigned char *p, const unsigned char **payload, size_t *len)
{
    size_t l = p[1], h = 2;
    if (l == 126) {
        l = (size_t)p[2] << 8 | p[3];
        h = 4;
    } else if (l == 127) {
        l = 0;
        for (int k = 0; k < 8; k++)
            l = l << 8 | p[2 + k];
        h = 10;
    }
    *payload = p + h;
    *len = l;
    return h + l;
}

/* Wake the connection's timer at the earliest of its next action and its idle deadline.
 *
 * A timer is never cancelled: libwebsockets 4.1's lws_set_timer_usecs() does not honour
 * LWS_SET_TIMER_USEC_CANCEL (it schedules the timer a microsecond in the past, so the loop
 * would call it again and again and never sleep). A timer that finds nothing due does nothing
 * and is not re-armed. A timer that fires before the next deadline is kept too: the idle
 * deadline moves with every frame, and re-arming then would re-sort the loop's timer list (a
 * walk over every connection's timer) per frame; instead the timer re-arms when it fires, once
 * per idle period. */
static void arm_timer(struct sess *s)
{
    int64_t next = INT64_MAX;
    if (s->nacts)
        next = s->acts[0].due;
    unsigned idle = s->ws->cfg->ws_idle_timeout;
    if (idle && s->last_rx + (int64_t)idle * 1000 < next)
        next = s->last_rx + (int64_t)idle * 1000;
    if (next == INT64_MAX || (s->timer_at && s->timer_at <= next))
        return;
    s->timer_at = next;
    int64_t us = (next - mockd_now_ms()) * 1000;
    lws_set_timer_usecs(s->wsi, us > 0 ? us : 1);
}

static void run_due(struct sess *s);

/* Carry out one action now. */
static void do_action(struct sess *s, enum ct_dlg_kind kind, const char *text, size_t len,
                      uint16_t code, const char *reason, int64_t now)
{
    if (kind == CT_DLG_SEND) {
        queue_frame(s, text, len);
        s->last_rx = now; /* an answer in progress is not idleness */
    } else if (kind == CT_DLG_CLOSE) {
        begin_close(s, code ? code : 1000, reason);
    } else {
        s->drop = true;
    }
}

/* Take the engine's actions; their delays chain from the last queued action or now. Actions
 * due now, with none queued before them, are carried out at once: their text goes straight
 * from the engine's memory into the send buffer. The others are copied into the queue. */
static void take_actions(struct sess *s, const struct ct_dlg_action *a, size_t n)
{
    int64_t now = mockd_now_ms();
    int64_t t = s->nacts ? s->acts[s->nacts - 1].due : now;
    if (t < now)
        t = now;
    size_t before = s->nacts;
    for (size_t i = 0; i < n; i++) {
        if (before + i >= MAX_QUEUE) {
            begin_close(s, close_code(s, "policy_violation", 1008), "too many pending replies");
            break;
        }
        t += a[i].delay_ms;
        if (!s->nacts && t <= now) {
            if (!s->close_code && !s->drop)
                do_action(s, a[i].kind, a[i].text, a[i].len, a[i].close_code,
                          a[i].close_reason, now);
            continue;
        }
        s->acts = ct_xgrow(s->acts, &s->capacts, s->nacts + 1, sizeof(*s->acts));
        struct action *q = &s->acts[s->nacts++];
        memset(q, 0, sizeof(*q));
        q->due = t;
        q->kind = a[i].kind;
        if (a[i].kind == CT_DLG_SEND) {
            q->text = ct_xstrndup(a[i].text, a[i].len);
            q->len = a[i].len;
        }
        q->code = a[i].close_code;
        snprintf(q->reason, sizeof(q->reason), "%s", a[i].close_reason ? a[i].close_reason : "");
    }
    if (s->drop)
        lws_callback_on_writable(s->wsi);
    const struct ct_diags *d = ct_dialogue_conn_diags(s->dlg);
    if (d && d->n && !s->ws->cfg->quiet) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_diags_render(d, &b, false);
        fprintf(stderr, "mockd: ws: %s", ct_buf_cstr(&b));
        ct_buf_deinit(&b);
    }
    /* Nothing of the engine's memory is kept: it can go (idle connections stay small; with the
     * shared work area there is none of the connection's own). */
    ct_dialogue_conn_trim(s->dlg);
    run_due(s);
}

static void run_due(struct sess *s)
{
    int64_t now = mockd_now_ms();
    size_t done = 0;
    while (done < s->nacts && s->acts[done].due <= now && !s->close_code && !s->drop) {
        struct action *q = &s->acts[done++];
        do_action(s, q->kind, q->text, q->len, q->code, q->reason, now);
    }
    if (done) {
        for (size_t i = 0; i < done; i++)
            ct_free(s->acts[i].text);
        memmove(s->acts, s->acts + done, (s->nacts - done) * sizeof(*s->acts));
        s->nacts -= done;
    }
    if (s->drop)
        lws_callback_on_writable(s->wsi);
    unsigned idle = s->ws->cfg->ws_idle_timeout;
    if (idle && !s->nacts && now - s->last_rx >= (int64_t)idle * 1000 && !s->close_code)
        begin_close(s, close_code(s, "idle_timeout", 4008), "idle timeout");
    arm_timer(s);
}

static void sess_free(struct sess *s)
{
    struct mockd_ws *ws = s->ws;
    if (s->prev)
        s->prev->next = s->next;
    else if (ws->sessions == s)
        ws->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->established)
        ws->nsessions--;
    ct_buf_deinit(&s->out);
    for (struct outframe *f = s->up_head; f;) {
        struct outframe *n = f->next;
        ct_free(f);
        f = n;
    }
    if (s->up) {
        struct upsess *u = lws_wsi_user(s->up);
        if (u)
            u->down = NULL;
        lws_set_timeout(s->up, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        s->up = NULL;
    }
    for (size_t i = 0; i < s->nacts; i++)
        ct_free(s->acts[i].text);
    ct_free(s->acts);
    ct_buf_deinit(&s->rx);
    ct_dialogue_conn_free(s->dlg);
    mockd_app_release(s->app);
    memset(s, 0, sizeof(*s));
}

/* The query string as an object of strings, for the engine and the token. */
static struct ct_node *query_node(struct lws *wsi, struct ct_arena *a, const char **token,
                                  const char *token_param)
{
    char frag[1024];
    struct ct_node *keys[32], *vals[32];
    uint32_t n = 0;
    for (int i = 0; i < 32; i++) {
        int l = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (l <= 0)
            break;
        char *eq = strchr(frag, '=');
        size_t kl = eq ? (size_t)(eq - frag) : (size_t)l;
        struct ct_node *k = ct_arena_zalloc(a, sizeof(*k)), *v = ct_arena_zalloc(a, sizeof(*v));
        k->kind = v->kind = CT_STRING;
        k->u.str = ct_arena_strndup(a, frag, kl);
        k->len = (uint32_t)kl;
        bool ok;
        size_t vl = 0;
        v->u.str = eq ? ct_pct_decode(a, eq + 1, strlen(eq + 1), true, &vl, &ok) : "";
        v->len = (uint32_t)vl;
        keys[n] = k;
        vals[n] = v;
        n++;
        if (token_param && !strcmp(k->u.str, token_param))
            *token = v->u.str;
    }
    struct ct_node *o = ct_arena_zalloc(a, sizeof(*o));
    o->kind = CT_OBJECT;
    o->len = n;
    o->u.members = ct_arena_alloc(a, ct__obj_members_size(n));
    for (uint32_t i = 0; i < n; i++) {
        o->u.members[i].key = keys[i];
        o->u.members[i].val = vals[i];
    }
    long first;
    if (ct__obj_finish(o, &first) >= 0)
        o->len = (uint32_t)first + 0; /* a repeated parameter: keep the ones before it */
    return o;
}

static const struct ct_asyncapi_channel *channel_of(const struct mockd_app *app, struct lws *wsi)
{
    char uri[1024];
    int l = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
    if (l <= 0 || !app->asyncapi)
        return NULL;
    size_t pl = strcspn(uri, "?");
    return ct_asyncapi_channel(app->asyncapi, uri, pl);
}

/* --- relaying to the real backend (--proxy) ----------------------------------------------- */

static void start_mock(struct sess *s, struct lws *wsi);

/* Check a relayed frame against the contract; a violation is reported (drift) and relayed
 * anyway: the proxy shows what the backend does, it does not hide it. */
static void check_relayed(struct sess *s, const char *text, size_t len, unsigned dir)
{
    if (!s->app->asyncapi || !s->ch)
        return;
    struct ct_arena a;
    ct_arena_init(&a, 4096);
    struct ct_source src = {dir == CT_AA_SEND ? "backend frame" : "client frame",
                            ct_arena_strndup(&a, text, len), len};
    struct ct_diags d;
    ct_diags_init(&d);
    const struct ct_node *n = ct_json_parse(&a, &src, NULL, &d);
    if (!n || !ct_asyncapi_match(s->app->asyncapi, s->ch, dir, n, NULL, &d)) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        ct_diags_render(&d, &b, false);
        fprintf(stderr, "mockd: ws: drift: %s%s", dir == CT_AA_SEND ? "the backend sent " :
                                                                      "the client sent ",
                ct_buf_cstr(&b));
        ct_buf_deinit(&b);
    }
    ct_diags_deinit(&d);
    ct_arena_deinit(&a);
}

static void queue_up(struct sess *s, const char *text, size_t len)
{
    struct outframe *f = ct_xmalloc(sizeof(*f) + LWS_PRE + len);
    f->next = NULL;
    f->len = len;
    memcpy(f->data + LWS_PRE, text, len);
    if (s->up_tail)
        s->up_tail->next = f;
    else
        s->up_head = f;
    s->up_tail = f;
    s->nup++;
    if (s->up_ready)
        lws_callback_on_writable(s->up);
}

/* Connect to the upstream for this connection; false when there is none (no --proxy). */
static bool start_proxy(struct sess *s, struct lws *wsi)
{
    struct ct_arena a;
    ct_arena_init(&a, 2048);
    const char *path = s->ch && s->ch->address ? s->ch->address : "/";
    const char *url = mockd_layers_ws_upstream(s->app, path, strlen(path), &a);
    if (!url) {
        ct_arena_deinit(&a);
        return false;
    }
    /* ws://host:port/path, then the client's own query. */
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", url);
    const char *prot, *ads, *upath;
    int port;
    if (lws_parse_uri(buf, &prot, &ads, &port, &upath)) {
        ct_arena_deinit(&a);
        return false;
    }
    char full[2048], frag[1024];
    int n = snprintf(full, sizeof(full), "/%s", upath);
    for (int i = 0; i < 32; i++) {
        int l = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (l <= 0)
            break;
        n += snprintf(full + n, sizeof(full) - (size_t)n, "%c%s", i ? '&' : '?', frag);
    }
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = lws_get_context(wsi);
    ci.address = ads;
    ci.port = port;
    ci.path = full;
    ci.host = ads;
    ci.origin = ads;
    ci.protocol = NULL;
    ci.local_protocol_name = "mockd-upstream";
    ci.pwsi = &s->up;
    /* Our own per-session data for the client side, freed when it closes: libwebsockets does
     * not free userdata it did not allocate. */
    struct upsess *u = ct_xcalloc(1, sizeof(*u));
    u->down = s;
    ct_buf_init(&u->rx, MAX_MESSAGE);
    ci.userdata = u;
    s->proxied = true;
    struct lws *up = lws_client_connect_via_info(&ci);
    ct_arena_deinit(&a);
    if (!up) {
        s->proxied = false;
        s->up = NULL;
        ct_free(u);
        return false;
    }
    return true;
}

static int upstream_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                             void *in, size_t len)
{
    struct upsess *u = user;
    struct sess *s = u ? u->down : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (s) {
            s->up_ready = true;
            if (s->up_head)
                lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!s)
            return -1;
        if (ct_buf_add(&u->rx, in, len) != 0) {
            ct_buf_init(&u->rx, MAX_MESSAGE);
            begin_close(s, close_code(s, "message_too_big", 1009), "backend message too big");
            return -1;
        }
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
            return 0;
        check_relayed(s, ct_buf_cstr(&u->rx), u->rx.len, CT_AA_SEND);
        queue_frame(s, ct_buf_cstr(&u->rx), u->rx.len);
        s->last_rx = mockd_now_ms();
        u->rx.len = 0;
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (!s || !s->up_head)
            return s ? 0 : -1;
        struct outframe *f = s->up_head;
        if (lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
            return -1;
        s->up_head = f->next;
        if (!s->up_head)
            s->up_tail = NULL;
        s->nup--;
        ct_free(f);
        if (s->up_head)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        /* The backend is not there: the mock answers instead, as for REST. */
        if (s) {
            s->up = NULL;
            s->proxied = false;
            if (!s->ws->cfg->quiet)
                fprintf(stderr, "mockd: ws: backend unreachable (%s), the mock answers\n",
                        in ? (const char *)in : "no reason");
            start_mock(s, s->wsi);
        }
        if (u)
            u->down = NULL;
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLIENT_HTTP_DROP_PROTOCOL:
        /* The last callback that carries our data: CLIENT_CLOSED after an established
         * connection, DROP_PROTOCOL after a failed one (libwebsockets 4.1 sends one or the
         * other). The data goes now. */
        if (s && reason == LWS_CALLBACK_CLIENT_CLOSED)
            begin_close(s, close_code(s, "going_away", 1001), "backend closed");
        if (u) {
            if (u->down && u->down->up == wsi)
                u->down->up = NULL;
            ct_buf_deinit(&u->rx);
            ct_free(u);
        }
        return 0;
    default:
        return 0;
    }
}

static void on_established(struct sess *s, struct lws *wsi)
{
    struct mockd_ws *ws = s->ws;
    const struct mockd_app *app = s->app = mockd_app_acquire(ws->app);
    s->wsi = wsi;
    s->established = true;
    ct_buf_init(&s->rx, MAX_MESSAGE);
    s->last_rx = mockd_now_ms();
    s->next = ws->sessions;
    if (ws->sessions)
        ws->sessions->prev = s;
    ws->sessions = s;
    ws->nsessions++;
    s->ch = channel_of(app, wsi);
    char sh[65];
    int shl = lws_hdr_custom_copy(wsi, sh, sizeof(sh), "x-mockd-session:", 16);
    if (shl > 0)
        snprintf(s->session, sizeof(s->session), "%s", sh);
    if (ws->cfg->ws_max_connections && ws->nsessions > ws->cfg->ws_max_connections) {
        begin_close(s, close_code(s, "too_many_connections", 1013), "too many connections");
        return;
    }
    if (start_proxy(s, wsi))
        return; /* the backend authenticates and answers; frames are relayed */
    start_mock(s, wsi);
}

/* Authenticate the connection and start its dialogue. */
static void start_mock(struct sess *s, struct lws *wsi)
{
    struct mockd_ws *ws = s->ws;
    const struct mockd_app *app = s->app;
    struct ct_arena a;
    ct_arena_init(&a, 4096);
    const char *token = NULL;
    struct ct_node *query = query_node(wsi, &a, &token, s->ch ? s->ch->token_param : "token");
    struct mockd_claims claims = {0};
    bool auth_ok = true;
    const char *why = NULL;
    if (app->auth == MOCKD_AUTH_JWT) {
        enum mockd_jwt_result r = token ? mockd_jwt_verify(app->jwt, token, strlen(token), "access",
                                                           &a, &claims)
                                        : MOCKD_JWT_MALFORMED;
        auth_ok = r == MOCKD_JWT_OK;
        why = token ? mockd_jwt_reason(r) : "missing access token in the query";
    } else if (app->auth == MOCKD_AUTH_PRESENCE) {
        auth_ok = token && *token;
        why = "missing access token in the query";
    }
    struct ct_dialogue_ctx ctx = {
        .channel = s->ch ? s->ch->address : NULL,
        .query = query,
        .sub = claims.sub,
        .email = claims.email,
        .role = claims.role,
        .seed = ws->cfg->seed,
        .now_ms = wall_ms(),
        .work = ws->work,
    };
    if (!auth_ok) {
        /* The upgrade completes, then the connection closes with the contract's code. */
        begin_close(s, close_code(s, "auth_failed", 4001), why);
        ct_arena_deinit(&a);
        return;
    }
    if (app->dialogues) {
        s->dlg = ct_dialogue_conn_new(app->dialogues, &ctx);
        const struct ct_dlg_action *acts;
        size_t n = ct_dialogue_on_open(s->dlg, wall_ms(), &acts);
        take_actions(s, acts, n);
    }
    ct_arena_deinit(&a);
    arm_timer(s);
}

static void on_frame(struct sess *s, struct lws *wsi, const void *in, size_t len)
{
    if (s->close_code || s->drop)
        return;
    const char *path = s->ch && s->ch->address ? s->ch->address : "";
    if (lws_frame_is_binary(wsi)) {
        mockd_layers_ws_frame(s->app, path, s->session[0] ? s->session : NULL, true, in, len,
                              false);
        begin_close(s, close_code(s, "unsupported_data", 1003), "binary frames are not accepted");
        return;
    }
    if (ct_buf_add(&s->rx, in, len) != 0) {
        ct_buf_init(&s->rx, MAX_MESSAGE);
        begin_close(s, close_code(s, "message_too_big", 1009), "message too big");
        return;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return;
    s->last_rx = mockd_now_ms();
    mockd_layers_ws_frame(s->app, path, s->session[0] ? s->session : NULL, true,
                          ct_buf_cstr(&s->rx), s->rx.len, true);
    if (s->proxied) {
        check_relayed(s, ct_buf_cstr(&s->rx), s->rx.len, CT_AA_RECEIVE);
        queue_up(s, ct_buf_cstr(&s->rx), s->rx.len);
    } else if (s->dlg) {
        const struct ct_dlg_action *acts;
        size_t n = ct_dialogue_on_text(s->dlg, ct_buf_cstr(&s->rx), s->rx.len, wall_ms(), &acts);
        take_actions(s, acts, n);
    }
    s->rx.len = 0;
    arm_timer(s);
}

/* Send the queued frames in one write (up to BATCH_MAX bytes of whole frames: the rest at the
 * next writable callback), so that the five frames of a turn cost one system call, not five.
 * Each frame is journalled as it goes. Then close or drop when asked. */
#define BATCH_MAX (256 * 1024)

static int on_writable(struct sess *s, struct lws *wsi)
{
    if (s->drop)
        return -1; /* no close frame: the connection is dropped */
    if (s->nout) {
        unsigned char *base = (unsigned char *)s->out.ptr, *start = base + s->out_off;
        unsigned char *end = base + s->out.len, *p = start;
        const char *path = s->ch && s->ch->address ? s->ch->address : "";
        const char *session = s->session[0] ? s->session : NULL;
        struct mockd_ws_text sent[32]; /* journalled together, 32 at a time */
        size_t nsent = 0;
        while (p < end && (p == start || (size_t)(p - start) < BATCH_MAX)) {
            const unsigned char *payload;
            size_t len, whole = frame_at(p, &payload, &len);
            if (p != start && (size_t)(p - start) + whole > BATCH_MAX)
                break;
            sent[nsent++] = (struct mockd_ws_text){(const char *)payload, len};
            if (nsent == sizeof(sent) / sizeof(sent[0])) {
                mockd_layers_ws_frames_out(s->app, path, session, sent, nsent);
                nsent = 0;
            }
            p += whole;
            s->nout--;
        }
        mockd_layers_ws_frames_out(s->app, path, session, sent, nsent);
        /* lws_write may use the LWS_PRE bytes before `start`: they are sent already, or the
         * room left at the front of the buffer. */
        size_t n = (size_t)(p - start);
        int w = lws_write(wsi, start, n, LWS_WRITE_RAW);
        if (p == end) {
            ct_buf_deinit(&s->out);
            s->out_off = 0;
        } else {
            s->out_off += n;
        }
        if (w < (int)n)
            return -1;
        if (s->nout || s->close_code)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (s->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)s->close_code,
                         (unsigned char *)s->close_reason, strlen(s->close_reason));
        return -1;
    }
    return 0;
}

static void adopt_pending(struct mockd_ws *ws)
{
    pthread_mutex_lock(&ws->lock);
    int *fds = ws->adopt;
    size_t n = ws->nadopt;
    ws->adopt = NULL;
    ws->nadopt = ws->capadopt = 0;
    bool stopping = ws->stopping;
    pthread_mutex_unlock(&ws->lock);
    for (size_t i = 0; i < n; i++) {
        if (stopping || !lws_adopt_socket_vhost(ws->vh, fds[i]))
            close(fds[i]);
    }
    ct_free(fds);
    if (stopping && !ws->stop_sent) {
        ws->stop_sent = true;
        for (struct sess *s = ws->sessions; s; s = s->next)
            begin_close(s, close_code(s, "going_away", 1001), "server shutting down");
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct mockd_ws *ws = lws_context_user(lws_get_context(wsi));
    struct sess *s = user;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        adopt_pending(ws);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        /* Refuse the upgrade when the path is no channel, or when a script says so. */
        const struct mockd_app *app = mockd_app_acquire(ws->app);
        const struct ct_asyncapi_channel *ch = channel_of(app, wsi);
        if (!ch || !mockd_layers_ws_accept(app)) {
            mockd_app_release(app);
            return -1; /* no such channel, or the offline switch is on */
        }
        int refuse = 0;
        if (app->dialogues) {
            struct ct_arena a;
            ct_arena_init(&a, 2048);
            const char *token = NULL;
            struct ct_dialogue_ctx ctx = {.channel = ch->address, .seed = ws->cfg->seed,
                                          .now_ms = wall_ms()};
            ctx.query = query_node(wsi, &a, &token, ch->token_param);
            const char *rule = NULL;
            refuse = ct_dialogue_upgrade_status(app->dialogues, &ctx, &rule);
            if (refuse && !ws->cfg->quiet)
                fprintf(stderr, "mockd: ws: upgrade refused with %d by %s\n", refuse,
                        rule ? rule : "a script");
            ct_arena_deinit(&a);
        }
        mockd_app_release(app);
        return refuse ? -1 : 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof(*s));
        s->ws = ws;
        on_established(s, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (s && s->ws)
            on_frame(s, wsi, in, len);
        return 0;
    case LWS_CALLBACK_TIMER:
        if (s && s->ws) {
            s->timer_at = 0;
            run_due(s);
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return s && s->ws ? on_writable(s, wsi) : 0;
    case LWS_CALLBACK_CLOSED:
        if (s && s->ws)
            sess_free(s);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    /* A small receive buffer: 10,000 idle connections should cost little; longer messages
     * arrive in several callbacks and are reassembled. */
    {"mockd", callback, sizeof(struct sess), 1024, 0, NULL, 0},
    {"mockd-upstream", upstream_callback, sizeof(struct upsess), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service(void *arg)
{
    struct mockd_ws *ws = arg;
    for (;;) {
        lws_service(ws->ctx, 0);
        pthread_mutex_lock(&ws->lock);
        bool stopping = ws->stopping;
        pthread_mutex_unlock(&ws->lock);
        if (stopping && ws->stop_sent &&
            (!ws->sessions || mockd_now_ms() > ws->stop_deadline))
            break;
    }
    pthread_mutex_lock(&ws->lock);
    ws->exited = true;
    pthread_mutex_unlock(&ws->lock);
    return NULL;
}

static void lws_log(int level, const char *line)
{
    fprintf(stderr, "mockd: ws: %s", line);
}

struct mockd_ws *mockd_ws_start(const struct mockd_config *cfg, const struct mockd_app *app)
{
    struct mockd_ws *ws = ct_xcalloc(1, sizeof(*ws));
    ws->app = app;
    ws->cfg = cfg;
    pthread_mutex_init(&ws->lock, NULL);
    lws_set_log_level(cfg->quiet ? LLL_ERR : LLL_ERR | LLL_WARN, lws_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = protocols;
    info.user = ws;
    info.gid = -1;
    info.uid = -1;
    info.timeout_secs = cfg->timeout;
    ws->ctx = lws_create_context(&info);
    if (!ws->ctx) {
        fprintf(stderr, "mockd: cannot start the WebSocket service\n");
        pthread_mutex_destroy(&ws->lock);
        ct_free(ws);
        return NULL;
    }
    ws->vh = lws_get_vhost_by_name(ws->ctx, "default");
    ws->work = ct_dialogue_work_new();
    if (pthread_create(&ws->thread, NULL, service, ws) != 0) {
        lws_context_destroy(ws->ctx);
        ct_dialogue_work_free(ws->work);
        pthread_mutex_destroy(&ws->lock);
        ct_free(ws);
        return NULL;
    }
    return ws;
}

void mockd_ws_adopt(struct mockd_ws *ws, int fd)
{
    pthread_mutex_lock(&ws->lock);
    ws->adopt = ct_xgrow(ws->adopt, &ws->capadopt, ws->nadopt + 1, sizeof(int));
    ws->adopt[ws->nadopt++] = fd;
    pthread_mutex_unlock(&ws->lock);
    lws_cancel_service(ws->ctx);
}

void mockd_ws_stop(struct mockd_ws *ws)
{
    if (!ws)
        return;
    pthread_mutex_lock(&ws->lock);
    ws->stopping = true;
    ws->stop_deadline = mockd_now_ms() + 2000;
    pthread_mutex_unlock(&ws->lock);
    /* Wake the loop until it has closed every connection (or the deadline passed). */
    for (;;) {
        lws_cancel_service(ws->ctx);
        pthread_mutex_lock(&ws->lock);
        bool exited = ws->exited;
        pthread_mutex_unlock(&ws->lock);
        if (exited)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_join(ws->thread, NULL);
    lws_context_destroy(ws->ctx); /* closes the sessions: their engine state goes first */
    ct_dialogue_work_free(ws->work);
    for (size_t i = 0; i < ws->nadopt; i++)
        close(ws->adopt[i]);
    ct_free(ws->adopt);
    pthread_mutex_destroy(&ws->lock);
    ct_free(ws);
}

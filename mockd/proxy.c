/* proxy.c - --proxy URL: forward requests to a real backend, check both directions against the
 * contract, report drift, and fall back to the mock where the backend lacks an operation.
 *
 * Each forward is one blocking libcurl transfer on the worker thread that received the request
 * (an easy handle per thread, so connections to the backend are kept alive); --threads bounds
 * how many forwards run at once. libcurl is loaded (dlopen) when --proxy is given, not linked:
 * with the libraries it pulls in (Kerberos, LDAP, SSH, HTTP/2...) it cost every start of mockd
 * about 8 ms, proxy or not. What comes back is checked like runner checks a backend: the
 * status must be documented, the media type declared, a JSON body valid for its schema. Every
 * problem is a drift entry (GET /__mockd/drift, counted per operation, direction and problem),
 * a log line, and an X-Mockd-Drift header on the answer. The answer itself is passed on as the
 * backend gave it: the proxy reports drift, it does not hide it.
 *
 * Fallback: a 501, a 404 the operation does not document (or whose body does not match the
 * documented 404, such as a framework's "route not found" page), or an unreachable backend
 * make mockd answer from the spec instead, with X-Mockd-Proxy saying why. Requests that break
 * the contract reach the proxy only with --validate warn; they are forwarded and recorded as
 * request drift.
 *
 * Not done here: WebSocket pass-through, which belongs to the WebSocket code (layers_ws.h
 * gives it the upstream URL and the journal). */
#include "layers_impl.h"

#include "core/alloc.h"
#include "core/err.h"
#include "layers_ws.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct proxy {
    char *base; /* without a trailing slash */
    unsigned timeout;
    bool quiet;
};

struct drift_entry {
    char *op, *direction, *problem;
    unsigned status;
    unsigned long long count;
};

struct drift {
    pthread_mutex_t lock;
    struct drift_entry *v;
    size_t n, cap;
};

#define DRIFT_MAX      1000
#define PROXY_MAX_BODY ((size_t)64 << 20)

/* --- drift reports -------------------------------------------------------------------------- */

struct drift *drift_new(void)
{
    struct drift *d = ct_xcalloc(1, sizeof(*d));
    pthread_mutex_init(&d->lock, NULL);
    return d;
}

static unsigned clear_locked(struct drift *d)
{
    unsigned n = (unsigned)d->n;
    for (size_t i = 0; i < d->n; i++) {
        ct_free(d->v[i].op);
        ct_free(d->v[i].direction);
        ct_free(d->v[i].problem);
    }
    d->n = 0;
    return n;
}

void drift_free(struct drift *d)
{
    if (!d) return;
    clear_locked(d);
    ct_free(d->v);
    pthread_mutex_destroy(&d->lock);
    ct_free(d);
}

unsigned drift_clear(struct drift *d)
{
    pthread_mutex_lock(&d->lock);
    unsigned n = clear_locked(d);
    pthread_mutex_unlock(&d->lock);
    return n;
}

void drift_add(struct drift *d, const char *op_key, const char *direction, unsigned status,
               const char *message)
{
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n; i++) {
        struct drift_entry *e = &d->v[i];
        if (e->status == status && !strcmp(e->op, op_key) && !strcmp(e->direction, direction) &&
            !strcmp(e->problem, message)) {
            e->count++;
            pthread_mutex_unlock(&d->lock);
            return;
        }
    }
    if (d->n < DRIFT_MAX) {
        d->v = ct_xgrow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
        d->v[d->n++] = (struct drift_entry){ct_xstrdup(op_key), ct_xstrdup(direction),
                                            ct_xstrdup(message), status, 1};
    }
    pthread_mutex_unlock(&d->lock);
}

void drift_admin_list(struct drift *d, struct ct_buf *out)
{
    pthread_mutex_lock(&d->lock);
    ct_buf_adds(out, "{\"drift\":[");
    for (size_t i = 0; i < d->n; i++) {
        const struct drift_entry *e = &d->v[i];
        ct_buf_adds(out, i ? ",{\"operation\":" : "{\"operation\":");
        jx_put_cstr(out, e->op);
        ct_buf_adds(out, ",\"direction\":");
        jx_put_cstr(out, e->direction);
        ct_buf_printf(out, ",\"status\":%u,\"problem\":", e->status);
        jx_put_cstr(out, e->problem);
        ct_buf_printf(out, ",\"count\":%llu}", e->count);
    }
    ct_buf_adds(out, "]}");
    pthread_mutex_unlock(&d->lock);
}

/* --- libcurl handles, one per worker thread -----------------------------------------------------
 */

/* The libcurl functions used, from the library loaded by curl_setup. */
static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    char error[256]; /* why libcurl could not be loaded; "" when it was */
} cu;

static pthread_key_t curl_key;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_release(void *h)
{
    cu.easy_cleanup(h);
}

static bool curl_sym(void *lib, void *fn, const char *name)
{
    void *p = dlsym(lib, name);
    memcpy(fn, &p, sizeof(p)); /* POSIX: a function's address fits a void * */
    if (!p) snprintf(cu.error, sizeof(cu.error), "libcurl has no %s", name);
    return p != NULL;
}

static void curl_setup(void)
{
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(cu.error, sizeof(cu.error), "%s", why ? why : "libcurl.so.4 not found");
        return;
    }
    if (!curl_sym(lib, &cu.global_init, "curl_global_init") ||
        !curl_sym(lib, &cu.easy_init, "curl_easy_init") ||
        !curl_sym(lib, &cu.easy_setopt, "curl_easy_setopt") ||
        !curl_sym(lib, &cu.easy_perform, "curl_easy_perform") ||
        !curl_sym(lib, &cu.easy_getinfo, "curl_easy_getinfo") ||
        !curl_sym(lib, &cu.easy_cleanup, "curl_easy_cleanup") ||
        !curl_sym(lib, &cu.easy_reset, "curl_easy_reset") ||
        !curl_sym(lib, &cu.easy_strerror, "curl_easy_strerror") ||
        !curl_sym(lib, &cu.slist_append, "curl_slist_append") ||
        !curl_sym(lib, &cu.slist_free_all, "curl_slist_free_all"))
        return; /* the library stays loaded: harmless */
    cu.global_init(CURL_GLOBAL_DEFAULT);
    pthread_key_create(&curl_key, curl_release);
}

/* This thread's easy handle, or NULL when libcurl could not be loaded (cu.error says why). */
static CURL *thread_handle(void)
{
    pthread_once(&curl_once, curl_setup);
    if (cu.error[0]) return NULL;
    CURL *h = pthread_getspecific(curl_key);
    if (!h) {
        h = cu.easy_init();
        pthread_setspecific(curl_key, h);
    } else {
        cu.easy_reset(h);
    }
    return h;
}

struct proxy *proxy_new(const struct mockd_layers_config *cfg, struct ct_diags *diags)
{
    struct proxy *p = ct_xcalloc(1, sizeof(*p));
    size_t n = strlen(cfg->proxy);
    while (n && cfg->proxy[n - 1] == '/')
        n--;
    p->base = ct_xstrndup(cfg->proxy, n);
    p->timeout = cfg->proxy_timeout ? cfg->proxy_timeout : 30;
    pthread_once(&curl_once, curl_setup);
    if (cu.error[0])
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_INVAL, NULL, 0, 0,
                     "--proxy needs libcurl, which could not be loaded: %s", cu.error);
    return p;
}

void proxy_free(struct proxy *p)
{
    if (!p) return;
    ct_free(p->base);
    ct_free(p);
}

/* --- one forward ---------------------------------------------------------------------------- */

static bool hop_by_hop(const char *name, size_t n)
{
    static const char *const names[] = {"connection",
                                        "keep-alive",
                                        "proxy-connection",
                                        "te",
                                        "trailer",
                                        "transfer-encoding",
                                        "upgrade",
                                        "proxy-authenticate",
                                        "proxy-authorization",
                                        "content-length",
                                        "host",
                                        "expect",
                                        "accept-encoding",
                                        "date"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && !strncasecmp(names[i], name, n)) return true;
    return false;
}

struct transfer {
    struct ct_arena *arena;
    struct ct_buf body;
    bool too_big;
    struct mockd_header headers[MOCKD_MAX_RESP_HEADERS];
    unsigned nheaders;
    const char *content_type;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    if (t->too_big || t->body.len + len > PROXY_MAX_BODY) {
        t->too_big = true;
        return 0; /* abort the transfer */
    }
    ct_buf_add(&t->body, data, len);
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
        t->nheaders = 0; /* a new status line (after 100 Continue): start over */
        t->content_type = NULL;
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon) return len;
    size_t nl = (size_t)(colon - data);
    const char *v = colon + 1;
    const char *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    char *value = ct_arena_strndup(t->arena, v, (size_t)(end - v));
    if (nl == 12 && !strncasecmp(data, "content-type", 12)) {
        t->content_type = value;
        return len;
    }
    if (hop_by_hop(data, nl) || t->nheaders >= MOCKD_MAX_RESP_HEADERS - 6) return len;
    t->headers[t->nheaders].name = ct_arena_strndup(t->arena, data, nl);
    t->headers[t->nheaders++].value = value;
    return len;
}

/* Declared media type of a response matching the Content-Type, or NULL. */
static const struct mockd_media_plan *media_for(const struct mockd_resp_plan *rp, const char *ct)
{
    size_t cl = ct ? strcspn(ct, ";") : 0;
    while (cl && ct[cl - 1] == ' ')
        cl--;
    for (unsigned i = 0; rp && i < rp->nmedia; i++) {
        const char *t = rp->media[i].m->type;
        size_t tl = strcspn(t, ";");
        if (!strncmp(t, "*/*", 3) || (tl == cl && !strncasecmp(t, ct, cl)) ||
            (tl >= 2 && t[tl - 1] == '*' && t[tl - 2] == '/' && cl >= tl - 1 &&
             !strncasecmp(t, ct, tl - 1)))
            return &rp->media[i];
    }
    return NULL;
}

/* Does the body match the operation's documented answer for its status? */
static bool documented_answer(const struct mockd_op_plan *p, unsigned status, const char *ct,
                              const char *body, size_t len, struct ct_arena *a)
{
    const struct mockd_resp_plan *rp = answer_find_resp(p, status);
    if (!rp || (rp->code != status && !rp->klass)) return false;
    const struct mockd_media_plan *mp = media_for(rp, ct);
    if (!mp) return rp->nmedia == 0 && len == 0;
    if (!mp->json || !mp->schema) return true;
    const struct ct_node *n = jx_parse(a, "backend answer", body, len, NULL);
    struct ct_vopts vo = {.direction = CT_DIR_RESPONSE};
    return n && ct_schema_validate_opts(mp->schema, NULL, n, &vo, NULL);
}

/* Check the backend's answer against the contract; every problem becomes drift. */
static unsigned check_answer(struct mockd_layers *l, const struct mockd_op_plan *p,
                             const char *op_key, const struct transfer *t, unsigned status,
                             struct ct_arena *a, const char **first)
{
    struct drift *d = l->sh->drift;
    unsigned n = 0;
    const struct mockd_resp_plan *rp = answer_find_resp(p, status);
    const char *msg = NULL;
    if (!rp) {
        msg = jx_fmt(a, "status %u is not documented", status);
    } else if (rp->nmedia && t->body.len) {
        const struct mockd_media_plan *mp = media_for(rp, t->content_type);
        if (!mp) {
            msg = jx_fmt(a, "content type '%s' is not documented for %u",
                         t->content_type ? t->content_type : "(none)", status);
        } else if (mp->json && mp->schema) {
            struct ct_diags dg;
            ct_diags_init(&dg);
            dg.max = 20;
            const struct ct_node *body =
                jx_parse(a, "backend answer", t->body.ptr, t->body.len, &dg);
            struct ct_vopts vo = {.direction = CT_DIR_RESPONSE, .all_errors = true};
            if (!body) {
                msg = jx_fmt(a, "the body is not JSON: %s", dg.n ? dg.v[0].msg : "");
            } else if (!ct_schema_validate_opts(mp->schema, NULL, body, &vo, &dg)) {
                for (size_t i = 0; i < dg.n; i++) {
                    const struct ct_diag *g = &dg.v[i];
                    if (g->sev != CT_SEV_ERROR) continue;
                    const char *m = jx_fmt(a, "%s%s%s", g->instance_ptr ? g->instance_ptr : "",
                                           g->instance_ptr && *g->instance_ptr ? ": " : "", g->msg);
                    drift_add(d, op_key, "response", status, m);
                    if (!n++) *first = m;
                }
            }
            ct_diags_deinit(&dg);
        }
    } else if (rp->nmedia && !t->body.len && status != 204 && status != 304) {
        bool has_schema = false;
        for (unsigned i = 0; i < rp->nmedia; i++)
            has_schema |= rp->media[i].schema != NULL;
        if (has_schema) msg = jx_fmt(a, "the body is empty but %u documents one", status);
    }
    if (msg) {
        drift_add(d, op_key, "response", status, msg);
        if (!n++) *first = msg;
    }
    return n;
}

bool proxy_answer(struct mockd_layers *l, const struct mockd_op_plan *p, struct mockd_req *req,
                  struct mockd_resp *resp)
{
    struct proxy *px = l->proxy;
    struct ct_arena *a = req->arena;
    const char *op_key = layers_op_key(a, p->op);
    bool quiet = l->app->cfg && l->app->cfg->quiet;

    /* Requests that break the contract (possible with --validate warn) are drift too. */
    if (resp->nerrors) {
        const char *first = NULL;
        for (unsigned i = 0; i < resp->nheaders; i++)
            if (!strcasecmp(resp->headers[i].name, "X-Mockd-Validation"))
                first = resp->headers[i].value;
        drift_add(l->sh->drift, op_key, "request", 0,
                  first ? first : "the request does not match the contract");
    }

    if (!thread_handle()) return false; /* no libcurl: proxy_new said so at start */
    struct ct_buf url;
    ct_buf_init(&url, 0);
    ct_buf_adds(&url, px->base);
    ct_buf_add(&url, req->path, req->path_len);
    for (size_t i = 0; i < req->nquery; i++)
        ct_buf_printf(&url, "%c%.*s%s%.*s", i ? '&' : '?', (int)req->query[i].keylen,
                      req->query[i].key, req->query[i].vallen ? "=" : "", (int)req->query[i].vallen,
                      req->query[i].val);
    CURL *h = thread_handle();
    struct transfer t = {.arena = a};
    ct_buf_init(&t.body, 0);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct mockd_header *hd = &req->headers[i];
        if (hop_by_hop(hd->name, strlen(hd->name))) continue;
        hl = cu.slist_append(hl, jx_fmt(a, "%s: %s", hd->name, hd->value));
    }
    hl = cu.slist_append(hl, "Expect:");
    hl = cu.slist_append(hl, "Accept-Encoding: identity");
    hl = cu.slist_append(hl, jx_fmt(a, "X-Forwarded-For: %s", req->remote ? req->remote : ""));
    cu.easy_setopt(h, CURLOPT_URL, ct_buf_cstr(&url));
    cu.easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (!strcmp(req->method, "HEAD")) cu.easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (req->body_len) {
        cu.easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        cu.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    cu.easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    cu.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    cu.easy_setopt(h, CURLOPT_WRITEDATA, &t);
    cu.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    cu.easy_setopt(h, CURLOPT_HEADERDATA, &t);
    cu.easy_setopt(h, CURLOPT_TIMEOUT, (long)px->timeout);
    cu.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    cu.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    CURLcode rc = cu.easy_perform(h);
    long status = 0;
    cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    cu.slist_free_all(hl);
    ct_buf_deinit(&url);

    bool answered = false;
    if (rc != CURLE_OK) {
        const char *why = t.too_big ? "the backend's body is over 64 MiB" : cu.easy_strerror(rc);
        mockd_resp_header(resp, "X-Mockd-Proxy",
                          jx_fmt(a, "fallback: backend unreachable (%s)", why));
        if (!quiet)
            fprintf(stderr, "mockd: proxy: %s %.*s: %s; answered from the spec\n", req->method,
                    (int)req->path_len, req->path, why);
    } else if (status == 501 || (status == 404 && !documented_answer(p, 404, t.content_type,
                                                                     t.body.ptr, t.body.len, a))) {
        mockd_resp_header(resp, "X-Mockd-Proxy",
                          jx_fmt(a, "fallback: the backend lacks the operation (%ld)", status));
    } else {
        answered = true;
        const char *first = NULL;
        unsigned ndrift = check_answer(l, p, op_key, &t, (unsigned)status, a, &first);
        resp->status = (unsigned)status;
        resp->content_type = t.content_type;
        resp->body = ct_arena_strndup(a, t.body.ptr ? t.body.ptr : "", t.body.len);
        resp->body_len = t.body.len;
        for (unsigned i = 0; i < t.nheaders; i++)
            mockd_resp_header(resp, t.headers[i].name, t.headers[i].value);
        resp->source = "proxy";
        mockd_resp_header(resp, "X-Mockd-Proxy", "backend");
        if (ndrift) {
            mockd_resp_header(
                resp, "X-Mockd-Drift",
                jx_fmt(a, "%u problem%s; first: %s", ndrift, ndrift == 1 ? "" : "s", first));
            if (!quiet)
                fprintf(stderr, "mockd: drift: %s %ld: %s%s\n", op_key, status, first,
                        ndrift > 1 ? jx_fmt(a, " (and %u more)", ndrift - 1) : "");
        }
    }
    ct_buf_deinit(&t.body);
    return answered;
}

/* --- WebSocket hooks (layers_ws.h) ------------------------------------------------------------ */

const char *mockd_layers_ws_upstream(const struct mockd_app *app, const char *path, size_t path_len,
                                     struct ct_arena *arena)
{
    const struct mockd_layers *l = app->layers;
    if (!l || !l->proxy) return NULL;
    const char *b = l->proxy->base;
    bool tls = !strncmp(b, "https://", 8);
    return jx_fmt(arena, "%s://%s%.*s", tls ? "wss" : "ws", b + (tls ? 8 : 7), (int)path_len, path);
}

void mockd_layers_ws_frame(const struct mockd_app *app, const char *path, const char *session,
                           bool from_client, const char *data, size_t len, bool text)
{
    if (app->layers)
        journal_add_ws(app->layers->sh->journal, path, session, from_client, data, len, text);
}

void mockd_layers_ws_frames_out(const struct mockd_app *app, const char *path, const char *session,
                                const struct mockd_ws_text *frames, size_t n)
{
    if (app->layers)
        journal_add_ws_out(app->layers->sh->journal, path, session, frames, n);
}

bool mockd_layers_ws_accept(const struct mockd_app *app)
{
    return !app->layers || !layers_is_offline(app->layers->sh, NULL);
}

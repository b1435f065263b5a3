/* journal.c - every exchange mockd answered (and WebSocket frames), kept in memory with bounds,
 * for the admin API's listing and verification ("called 3 times with this body", "retried with
 * growing gaps").
 *
 * Bounds: at most --journal-size entries (a ring: the oldest is evicted first), at most
 * --journal-body bytes of each body (the rest is cut and the entry says so), and at most
 * --journal-bytes bytes in all (oldest evicted). Evictions are counted (`dropped`), so a test can
 * tell that it asked about exchanges the journal no longer holds.
 *
 * Each entry owns one small arena holding its copies; entries never change after they are
 * added. One mutex guards the ring; listing and verification hold it while they read. */
#include "layers_impl.h"

#include "core/alloc.h"
#include "openapi/params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct jentry {
    struct ct_arena arena;
    uint64_t id;
    double t_ms; /* arrival, wall clock */
    double dur_ms;
    bool ws;
    const char *method, *path, *query, *operation_id, *source, *request_id, *session, *remote;
    const char *fault;
    unsigned status, delay_ms, nerrors;
    struct mockd_header *qh, *rh; /* request and response headers (names merged) */
    unsigned nqh, nrh;
    const char *qbody, *rbody;
    size_t qbody_len, qbody_full, rbody_len, rbody_full;
    bool from_client, text; /* WebSocket frames */
    size_t bytes;
};

struct journal {
    pthread_mutex_t lock;
    struct jentry **ring;
    unsigned cap, head, count; /* head: index of the oldest */
    size_t max_body, max_bytes, bytes;
    uint64_t next_id, dropped;
};

struct journal *journal_new(unsigned max_entries, size_t max_body, size_t max_bytes)
{
    struct journal *j = ct_xcalloc(1, sizeof(*j));
    pthread_mutex_init(&j->lock, NULL);
    j->cap = max_entries;
    j->ring = ct_xcalloc(max_entries ? max_entries : 1, sizeof(*j->ring));
    j->max_body = max_body;
    j->max_bytes = max_bytes ? max_bytes : (size_t)-1;
    j->next_id = 1;
    return j;
}

static void entry_free(struct jentry *e)
{
    if (!e) return;
    ct_arena_deinit(&e->arena);
    ct_free(e);
}

/* Called with the lock held. */
static void evict_oldest(struct journal *j)
{
    struct jentry *e = j->ring[j->head];
    j->ring[j->head] = NULL;
    j->head = (j->head + 1) % j->cap;
    j->count--;
    j->bytes -= e->bytes;
    j->dropped++;
    entry_free(e);
}

static void clear_locked(struct journal *j)
{
    for (unsigned i = 0; i < j->count; i++) {
        unsigned k = (j->head + i) % j->cap;
        entry_free(j->ring[k]);
        j->ring[k] = NULL;
    }
    j->count = j->head = 0;
    j->bytes = 0;
}

void journal_free(struct journal *j)
{
    if (!j) return;
    clear_locked(j);
    pthread_mutex_destroy(&j->lock);
    ct_free(j->ring);
    ct_free(j);
}

unsigned journal_clear(struct journal *j)
{
    pthread_mutex_lock(&j->lock);
    unsigned n = j->count;
    clear_locked(j);
    pthread_mutex_unlock(&j->lock);
    return n;
}

void journal_stats(struct journal *j, uint64_t *count, uint64_t *dropped, uint64_t *next_id)
{
    pthread_mutex_lock(&j->lock);
    *count = j->count;
    *dropped = j->dropped;
    *next_id = j->next_id;
    pthread_mutex_unlock(&j->lock);
}

/* Called with the lock held; e->bytes counts all of the entry. */
static void push_locked(struct journal *j, struct jentry *e)
{
    e->id = j->next_id++;
    while (j->count && (j->count == j->cap || j->bytes + e->bytes > j->max_bytes))
        evict_oldest(j);
    j->ring[(j->head + j->count) % j->cap] = e;
    j->count++;
    j->bytes += e->bytes;
}

static void push(struct journal *j, struct jentry *e)
{
    e->bytes += e->arena.total + sizeof(*e); /* plus inline strings counted by the caller */
    pthread_mutex_lock(&j->lock);
    push_locked(j, e);
    pthread_mutex_unlock(&j->lock);
}

/* How many of n bytes to keep under the cap, without splitting a UTF-8 sequence. */
static size_t keep(const char *s, size_t n, size_t cap)
{
    if (n <= cap) return n;
    size_t k = cap;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

static const char *dup_or_null(struct ct_arena *a, const char *s)
{
    return s ? ct_arena_strdup(a, s) : NULL;
}

/* Copy headers, joining repeated names with ", " so that they list as one JSON member. */
static struct mockd_header *copy_headers(struct ct_arena *a, const struct mockd_header *h,
                                         unsigned n, const char *ctype, unsigned *nout)
{
    struct mockd_header *out = ct_arena_alloc(a, (n + 1) * sizeof(*out));
    unsigned k = 0;
    for (unsigned i = 0; i <= n; i++) {
        const char *name = i < n ? h[i].name : "Content-Type";
        const char *value = i < n ? h[i].value : ctype;
        if (!name || !value) continue;
        unsigned at = k;
        for (unsigned x = 0; x < k; x++)
            if (!strcasecmp(out[x].name, name)) at = x;
        if (at < k) {
            out[at].value = jx_fmt(a, "%s, %s", out[at].value, value);
        } else {
            out[k].name = ct_arena_strdup(a, name);
            out[k++].value = ct_arena_strdup(a, value);
        }
    }
    *nout = k;
    return out;
}

void journal_add_http(struct journal *j, const struct mockd_req *req, const struct mockd_resp *resp,
                      double ms)
{
    if (!j || !j->cap) return;
    struct jentry *e = ct_xcalloc(1, sizeof(*e));
    ct_arena_init(&e->arena, 2048);
    struct ct_arena *a = &e->arena;
    e->t_ms = layers_wall_ms() - ms;
    e->dur_ms = ms;
    e->method = ct_arena_strdup(a, req->method);
    e->path = ct_arena_strndup(a, req->path, req->path_len);
    struct ct_buf q;
    ct_buf_init(&q, 0);
    for (size_t i = 0; i < req->nquery; i++)
        ct_buf_printf(&q, "%s%.*s%s%.*s", i ? "&" : "", (int)req->query[i].keylen,
                      req->query[i].key, req->query[i].vallen ? "=" : "", (int)req->query[i].vallen,
                      req->query[i].val);
    e->query = ct_arena_strdup(a, ct_buf_cstr(&q));
    ct_buf_deinit(&q);
    e->operation_id = dup_or_null(a, resp->operation_id);
    e->source = dup_or_null(a, resp->source);
    e->request_id = dup_or_null(a, resp->request_id);
    e->session = dup_or_null(a, layers_session(req));
    e->remote = dup_or_null(a, req->remote);
    e->fault = resp->fault != MOCKD_FAULT_NONE ? faults_name(resp->fault) : NULL;
    e->status = resp->status;
    e->delay_ms = resp->delay_ms;
    e->nerrors = resp->nerrors;
    e->qh = copy_headers(a, req->headers, (unsigned)req->nheaders, NULL, &e->nqh);
    e->rh = copy_headers(a, resp->headers, resp->nheaders,
                         resp->body_len || resp->nchunks ? resp->content_type : NULL, &e->nrh);
    e->qbody_full = req->body_len;
    e->qbody_len = keep(req->body, req->body_len, j->max_body);
    e->qbody = ct_arena_strndup(a, req->body ? req->body : "", e->qbody_len);
    if (resp->nchunks) {
        /* One byte over the cap, so that keep() can see where a UTF-8 sequence starts. */
        struct ct_buf b;
        ct_buf_init(&b, 0);
        size_t full = 0, want = j->max_body + 1;
        for (unsigned i = 0; i < resp->nchunks; i++) {
            const struct mockd_chunk *c = &resp->chunks[i];
            full += c->len;
            if (b.len < want && c->data)
                ct_buf_add(&b, c->data, c->len < want - b.len ? c->len : want - b.len);
        }
        e->rbody_full = full;
        e->rbody_len = keep(b.ptr, b.len, j->max_body);
        e->rbody = ct_arena_strndup(a, b.ptr ? b.ptr : "", e->rbody_len);
        ct_buf_deinit(&b);
    } else {
        e->rbody_full = resp->body_len;
        e->rbody_len = keep(resp->body, resp->body_len, j->max_body);
        e->rbody = ct_arena_strndup(a, resp->body ? resp->body : "", e->rbody_len);
    }
    push(j, e);
}

/* One allocation per frame: the entry and its strings together (frames are many and small;
 * the arena stays empty, so entry_free's deinit is a no-op). */
static struct jentry *ws_entry(struct journal *j, double t_ms, const char *path,
                               const char *session, bool from_client, const char *data,
                               size_t len, bool text)
{
    size_t kept = keep(data, len, j->max_body);
    size_t pl = path ? strlen(path) : 0, sl = session ? strlen(session) : 0;
    struct jentry *e = ct_xcalloc(1, sizeof(*e) + pl + 1 + sl + 1 + kept + 1);
    char *p = (char *)(e + 1);
    e->ws = true;
    e->t_ms = t_ms;
    e->method = "WS";
    memcpy(p, path ? path : "", pl);
    e->path = p;
    p += pl + 1;
    if (session) {
        memcpy(p, session, sl);
        e->session = p;
    }
    p += sl + 1;
    e->from_client = from_client;
    e->text = text;
    e->qbody_full = len;
    e->qbody_len = kept;
    if (kept)
        memcpy(p, data, kept);
    e->qbody = p;
    e->bytes = pl + 1 + sl + 1 + kept + 1;
    return e;
}

void journal_add_ws(struct journal *j, const char *path, const char *session, bool from_client,
                    const char *data, size_t len, bool text)
{
    if (!j || !j->cap) return;
    push(j, ws_entry(j, layers_wall_ms(), path, session, from_client, data, len, text));
}

void journal_add_ws_out(struct journal *j, const char *path, const char *session,
                        const struct mockd_ws_text *frames, size_t n)
{
    if (!j || !j->cap) return;
    double t = layers_wall_ms(); /* written together: one time */
    while (n) {
        struct jentry *es[16];
        size_t k = n < 16 ? n : 16;
        for (size_t i = 0; i < k; i++) {
            es[i] = ws_entry(j, t, path, session, false, frames[i].data, frames[i].len, true);
            es[i]->bytes += es[i]->arena.total + sizeof(*es[i]);
        }
        pthread_mutex_lock(&j->lock);
        for (size_t i = 0; i < k; i++)
            push_locked(j, es[i]);
        pthread_mutex_unlock(&j->lock);
        frames += k;
        n -= k;
    }
}

/* --- rendering ------------------------------------------------------------------------------- */

static void put_time(struct ct_buf *b, double t_ms)
{
    time_t s = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    long ms = (long)fmod(t_ms, 1000.0);
    ct_buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static void put_headers(struct ct_buf *b, const struct mockd_header *h, unsigned n)
{
    ct_buf_addc(b, '{');
    for (unsigned i = 0; i < n; i++) {
        if (i) ct_buf_addc(b, ',');
        jx_put_cstr(b, h[i].name);
        ct_buf_addc(b, ':');
        jx_put_cstr(b, h[i].value);
    }
    ct_buf_addc(b, '}');
}

static void put_entry(struct ct_buf *b, const struct jentry *e, struct ct_arena *scratch)
{
    ct_buf_printf(b, "{\"id\":%llu,\"kind\":\"%s\",\"time\":", (unsigned long long)e->id,
                  e->ws ? "ws" : "http");
    put_time(b, e->t_ms);
    ct_buf_printf(b, ",\"timeMs\":%.3f", e->t_ms);
    ct_buf_adds(b, ",\"session\":");
    jx_put_cstr(b, e->session);
    if (e->ws) {
        ct_buf_adds(b, ",\"frame\":{\"path\":");
        jx_put_cstr(b, e->path);
        ct_buf_printf(b,
                      ",\"direction\":\"%s\",\"text\":%s,\"data\":", e->from_client ? "in" : "out",
                      e->text ? "true" : "false");
        if (e->text)
            jx_put_body(b, scratch, e->qbody, e->qbody_len);
        else
            jx_put_str(b, "", 0);
        ct_buf_printf(b, ",\"bytes\":%zu,\"truncated\":%s}}", e->qbody_full,
                      e->qbody_len < e->qbody_full ? "true" : "false");
        return;
    }
    ct_buf_printf(b, ",\"durationMs\":%.3f,\"remote\":", e->dur_ms);
    jx_put_cstr(b, e->remote);
    ct_buf_adds(b, ",\"operationId\":");
    jx_put_cstr(b, e->operation_id);
    ct_buf_adds(b, ",\"requestId\":");
    jx_put_cstr(b, e->request_id);
    ct_buf_adds(b, ",\"source\":");
    jx_put_cstr(b, e->source);
    ct_buf_adds(b, ",\"fault\":");
    jx_put_cstr(b, e->fault);
    ct_buf_printf(b, ",\"delayMs\":%u,\"validationErrors\":%u", e->delay_ms, e->nerrors);
    ct_buf_adds(b, ",\"request\":{\"method\":");
    jx_put_cstr(b, e->method);
    ct_buf_adds(b, ",\"path\":");
    jx_put_cstr(b, e->path);
    ct_buf_adds(b, ",\"query\":");
    jx_put_cstr(b, e->query);
    ct_buf_adds(b, ",\"headers\":");
    put_headers(b, e->qh, e->nqh);
    ct_buf_adds(b, ",\"body\":");
    if (e->qbody_len < e->qbody_full)
        jx_put_str(b, e->qbody, e->qbody_len);
    else
        jx_put_body(b, scratch, e->qbody, e->qbody_len);
    ct_buf_printf(b, ",\"bodyBytes\":%zu,\"bodyTruncated\":%s}", e->qbody_full,
                  e->qbody_len < e->qbody_full ? "true" : "false");
    ct_buf_printf(b, ",\"response\":{\"status\":%u,\"headers\":", e->status);
    put_headers(b, e->rh, e->nrh);
    ct_buf_adds(b, ",\"body\":");
    if (e->rbody_len < e->rbody_full)
        jx_put_str(b, e->rbody, e->rbody_len);
    else
        jx_put_body(b, scratch, e->rbody, e->rbody_len);
    ct_buf_printf(b, ",\"bodyBytes\":%zu,\"bodyTruncated\":%s}}", e->rbody_full,
                  e->rbody_len < e->rbody_full ? "true" : "false");
}

/* --- filters --------------------------------------------------------------------------------- */

struct filter {
    const char *operation_id, *method, *path, *session, *source, *kind;
    long status; /* -1: any */
    uint64_t since;
    const struct ct_node *body, *query, *headers; /* verification only */
};

static bool str_is(const char *want, const char *have)
{
    return !want || (have && !strcmp(want, have));
}

static bool query_has(struct ct_arena *a, const char *query, const char *key, const char *want)
{
    struct ct_kv kv[MOCKD_MAX_QUERY];
    size_t n = ct_query_split(query, strlen(query), kv, MOCKD_MAX_QUERY);
    for (size_t i = 0; i < n; i++) {
        bool ok;
        size_t kl, vl;
        const char *k = ct_pct_decode(a, kv[i].key, kv[i].keylen, true, &kl, &ok);
        if (strcmp(k, key) != 0) continue;
        const char *v = ct_pct_decode(a, kv[i].val, kv[i].vallen, true, &vl, &ok);
        if (!strcmp(v, want)) return true;
    }
    return false;
}

static bool entry_matches(const struct jentry *e, const struct filter *f, struct ct_arena *scratch)
{
    if (e->id <= f->since) return false;
    if (f->kind && strcmp(f->kind, e->ws ? "ws" : "http") != 0) return false;
    if (f->method && (!e->method || strcasecmp(f->method, e->method) != 0)) return false;
    if (!str_is(f->operation_id, e->operation_id) || !str_is(f->path, e->path) ||
        !str_is(f->session, e->session) || !str_is(f->source, e->source))
        return false;
    if (f->status >= 0 && (long)e->status != f->status) return false;
    for (uint32_t i = 0; f->headers && i < f->headers->len; i++) {
        const char *name = f->headers->u.members[i].key->u.str;
        const char *want = jx_scalar_text(f->headers->u.members[i].val);
        bool found = false;
        for (unsigned k = 0; k < e->nqh && !found; k++)
            found = !strcasecmp(e->qh[k].name, name) && want && !strcmp(e->qh[k].value, want);
        if (!found) return false;
    }
    for (uint32_t i = 0; f->query && i < f->query->len; i++) {
        const char *want = jx_scalar_text(f->query->u.members[i].val);
        if (!want ||
            !query_has(scratch, e->query ? e->query : "", f->query->u.members[i].key->u.str, want))
            return false;
    }
    if (f->body) {
        const struct ct_node *have =
            e->qbody_len ? jx_parse(scratch, "journal body", e->qbody, e->qbody_len, NULL) : NULL;
        if (!have && e->qbody_len && f->body->kind == CT_STRING)
            return f->body->len == e->qbody_len && !memcmp(f->body->u.str, e->qbody, e->qbody_len);
        if (!jx_contains(f->body, have)) return false;
    }
    return true;
}

static const char *query_param(struct mockd_req *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nquery; i++)
        if (req->query[i].keylen == nl && !memcmp(req->query[i].key, name, nl)) {
            bool ok;
            size_t len;
            return ct_pct_decode(req->arena, req->query[i].val, req->query[i].vallen, true, &len,
                                 &ok);
        }
    return NULL;
}

void journal_admin_list(struct journal *j, struct mockd_req *req, struct ct_buf *out)
{
    struct filter f = {.status = -1};
    f.operation_id = query_param(req, "operationId");
    f.method = query_param(req, "method");
    f.path = query_param(req, "path");
    f.session = query_param(req, "session");
    f.source = query_param(req, "source");
    f.kind = query_param(req, "kind");
    const char *s = query_param(req, "status");
    if (s) f.status = strtol(s, NULL, 10);
    s = query_param(req, "since");
    if (s) f.since = strtoull(s, NULL, 10);
    s = query_param(req, "limit");
    unsigned long limit = s ? strtoul(s, NULL, 10) : 1000;
    if (!limit) limit = 1;

    struct ct_arena scratch;
    ct_arena_init(&scratch, 4096);
    pthread_mutex_lock(&j->lock);
    /* The newest `limit` matches, listed oldest first. */
    const struct jentry **pick = ct_xcalloc(j->count + 1, sizeof(*pick));
    unsigned npick = 0, matched = 0;
    for (unsigned i = j->count; i-- > 0;) {
        const struct jentry *e = j->ring[(j->head + i) % j->cap];
        if (!entry_matches(e, &f, &scratch)) continue;
        matched++;
        if (npick < limit) pick[npick++] = e;
    }
    ct_buf_printf(
        out, "{\"total\":%u,\"matched\":%u,\"dropped\":%llu,\"nextId\":%llu,\"entries\":[",
        j->count, matched, (unsigned long long)j->dropped, (unsigned long long)j->next_id);
    for (unsigned i = npick; i-- > 0;) {
        put_entry(out, pick[i], &scratch);
        if (i) ct_buf_addc(out, ',');
        ct_arena_reset(&scratch);
    }
    ct_buf_adds(out, "]}");
    pthread_mutex_unlock(&j->lock);
    ct_free(pick);
    ct_arena_deinit(&scratch);
}

bool journal_admin_get(struct journal *j, uint64_t id, struct mockd_req *req, struct ct_buf *out)
{
    bool found = false;
    struct ct_arena scratch;
    ct_arena_init(&scratch, 4096);
    pthread_mutex_lock(&j->lock);
    for (unsigned i = 0; i < j->count && !found; i++) {
        const struct jentry *e = j->ring[(j->head + i) % j->cap];
        if (e->id == id) {
            put_entry(out, e, &scratch);
            found = true;
        }
    }
    pthread_mutex_unlock(&j->lock);
    ct_arena_deinit(&scratch);
    return found;
}

bool journal_admin_verify(struct journal *j, const struct ct_node *spec, struct mockd_req *req,
                          struct ct_buf *out)
{
    struct filter f = {.status = -1};
    f.operation_id = ct_obj_str(spec, "operationId");
    f.method = ct_obj_str(spec, "method");
    f.path = ct_obj_str(spec, "path");
    f.session = ct_obj_str(spec, "session");
    f.source = ct_obj_str(spec, "source");
    if (ct_obj_get(spec, "status")) f.status = (long)jx_get_uint(spec, "status", 0);
    f.since = jx_get_uint(spec, "since", 0);
    f.body = ct_obj_get(spec, "body");
    f.query = ct_obj_get(spec, "query");
    f.headers = ct_obj_get(spec, "headers");

    struct ct_arena scratch;
    ct_arena_init(&scratch, 4096);
    struct hit {
        uint64_t id;
        double t;
    } *hits = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&j->lock);
    for (unsigned i = 0; i < j->count; i++) {
        const struct jentry *e = j->ring[(j->head + i) % j->cap];
        bool ok = entry_matches(e, &f, &scratch);
        ct_arena_reset(&scratch);
        if (!ok) continue;
        hits = ct_xgrow(hits, &cap, n + 1, sizeof(*hits));
        hits[n].id = e->id;
        hits[n++].t = e->t_ms;
    }
    pthread_mutex_unlock(&j->lock);
    ct_arena_deinit(&scratch);

    /* What was asked for, in words, for the problems list. */
    const char *what = f.operation_id ? f.operation_id : f.path ? f.path : "matching requests";
    struct ct_buf probs;
    ct_buf_init(&probs, 0);
    unsigned nprob = 0;
#define PROBLEM(...)                                                                               \
    do {                                                                                           \
        char msg_[512];                                                                            \
        snprintf(msg_, sizeof(msg_), __VA_ARGS__);                                                 \
        if (nprob++) ct_buf_addc(&probs, ',');                                                     \
        jx_put_cstr(&probs, msg_);                                                                 \
    } while (0)
    const struct ct_node *c = ct_obj_get(spec, "count");
    if (c && (uint64_t)n != jx_get_uint(spec, "count", 0))
        PROBLEM("expected %llu call%s of %s, got %zu",
                (unsigned long long)jx_get_uint(spec, "count", 0),
                jx_get_uint(spec, "count", 0) == 1 ? "" : "s", what, n);
    if (ct_obj_get(spec, "atLeast") && (uint64_t)n < jx_get_uint(spec, "atLeast", 0))
        PROBLEM("expected at least %llu calls of %s, got %zu",
                (unsigned long long)jx_get_uint(spec, "atLeast", 0), what, n);
    if (ct_obj_get(spec, "atMost") && (uint64_t)n > jx_get_uint(spec, "atMost", 0))
        PROBLEM("expected at most %llu calls of %s, got %zu",
                (unsigned long long)jx_get_uint(spec, "atMost", 0), what, n);
    const struct ct_node *g = ct_obj_get(spec, "gaps");
    for (size_t i = 1; g && i < n; i++) {
        double gap = hits[i].t - hits[i - 1].t;
        double prev = i > 1 ? hits[i - 1].t - hits[i - 2].t : -1;
        if (ct_obj_true(g, "increasing") && i > 1 && !(gap > prev))
            PROBLEM("gap %zu (%.1f ms, before call %llu) is not longer than gap %zu (%.1f ms)", i,
                    gap, (unsigned long long)hits[i].id, i - 1, prev);
        if (ct_obj_get(g, "minMs") && gap < jx_get_num(g, "minMs", 0))
            PROBLEM("gap %zu (%.1f ms, before call %llu) is shorter than %.1f ms", i, gap,
                    (unsigned long long)hits[i].id, jx_get_num(g, "minMs", 0));
        if (ct_obj_get(g, "maxMs") && gap > jx_get_num(g, "maxMs", 0))
            PROBLEM("gap %zu (%.1f ms, before call %llu) is longer than %.1f ms", i, gap,
                    (unsigned long long)hits[i].id, jx_get_num(g, "maxMs", 0));
    }
#undef PROBLEM
    ct_buf_printf(out, "{\"ok\":%s,\"matched\":%zu,\"ids\":[", nprob ? "false" : "true", n);
    for (size_t i = 0; i < n; i++)
        ct_buf_printf(out, "%s%llu", i ? "," : "", (unsigned long long)hits[i].id);
    ct_buf_adds(out, "],\"gapsMs\":[");
    for (size_t i = 1; i < n; i++)
        ct_buf_printf(out, "%s%.3f", i > 1 ? "," : "", hits[i].t - hits[i - 1].t);
    ct_buf_printf(out, "],\"problems\":[%s]}", ct_buf_cstr(&probs));
    ct_buf_deinit(&probs);
    ct_free(hits);
    return nprob == 0;
}

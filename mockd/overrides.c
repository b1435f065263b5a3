/* overrides.c - per-test answers for one operation (MSW's server.use): a status, headers, a
 * body or a named example of the spec, a delay or transport fault, for the next N calls or until
 * removed, and sequences ("500, then 200").
 *
 * The newest override that matches a request wins. An override is kept by method and path
 * template (not by index into the loaded spec), so it survives a reload. Its definition is
 * parsed once into its own arena; taking a step copies what the answer needs into the
 * request's arena, because another thread may remove the override (its last call, or an admin
 * DELETE) while the answer is still being sent. */
#include "layers_impl.h"

#include "core/alloc.h"
#include "openapi/params.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct ostep {
    unsigned status;
    const char *example, *content_type, *body;
    size_t body_len;
    struct mockd_header headers[16];
    unsigned nheaders;
    bool has_delay;
    unsigned delay_min, delay_max;
    enum mockd_fault fault;
    unsigned slow_bps;
    bool passthrough;
};

struct override {
    struct ct_arena arena;
    char id[24];
    int method;
    const char *path;         /* the operation's template */
    const char *op_key;       /* "GET /prompts/{id}" */
    const char *operation_id; /* may be NULL */
    const char *session;      /* may be NULL */
    const char *concrete;     /* a raw request path it is limited to, or NULL */
    const struct ct_node *m_params, *m_query, *m_headers, *m_body;
    unsigned times; /* 0: until removed */
    unsigned calls;
    bool cycle;
    struct ostep *steps;
    unsigned nsteps;
    const char *def; /* the definition, compact JSON */
    size_t def_len;
    const char *warnings; /* a JSON array */
};

struct overrides {
    pthread_mutex_t lock;
    struct override **v; /* oldest first */
    size_t n, cap;
    unsigned long long next;
    atomic_size_t active; /* n, readable without the lock: no overrides, no locking */
};

struct overrides *overrides_new(void)
{
    struct overrides *o = ct_xcalloc(1, sizeof(*o));
    pthread_mutex_init(&o->lock, NULL);
    o->next = 1;
    return o;
}

static void ov_free(struct override *ov)
{
    ct_arena_deinit(&ov->arena);
    ct_free(ov);
}

static void clear_locked(struct overrides *o)
{
    for (size_t i = 0; i < o->n; i++)
        ov_free(o->v[i]);
    o->n = 0;
    atomic_store(&o->active, 0);
}

void overrides_free(struct overrides *o)
{
    if (!o) return;
    clear_locked(o);
    ct_free(o->v);
    pthread_mutex_destroy(&o->lock);
    ct_free(o);
}

unsigned overrides_clear(struct overrides *o)
{
    pthread_mutex_lock(&o->lock);
    unsigned n = (unsigned)o->n;
    clear_locked(o);
    pthread_mutex_unlock(&o->lock);
    return n;
}

unsigned overrides_count(struct overrides *o)
{
    pthread_mutex_lock(&o->lock);
    unsigned n = (unsigned)o->n;
    pthread_mutex_unlock(&o->lock);
    return n;
}

/* Called with the lock held. */
static void remove_at(struct overrides *o, size_t i)
{
    ov_free(o->v[i]);
    memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(*o->v));
    o->n--;
    atomic_store(&o->active, o->n);
}

bool overrides_remove(struct overrides *o, const char *id)
{
    bool found = false;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->n && !found; i++)
        if (!strcmp(o->v[i]->id, id)) {
            remove_at(o, i);
            found = true;
        }
    pthread_mutex_unlock(&o->lock);
    return found;
}

/* --- matching a request ---------------------------------------------------------------------- */

static const char *decoded(struct ct_arena *a, const char *s, size_t n)
{
    bool ok;
    size_t len;
    return ct_pct_decode(a, s, n, true, &len, &ok);
}

static bool match_map(const struct ct_node *want, bool (*has)(void *, const char *, const char *),
                      void *ud)
{
    for (uint32_t i = 0; want && i < want->len; i++) {
        const char *v = jx_scalar_text(want->u.members[i].val);
        if (!v || !has(ud, want->u.members[i].key->u.str, v)) return false;
    }
    return true;
}

struct req_ctx {
    struct mockd_req *req;
    const struct ct_route_match *m;
    const struct ct_node *body;
    bool body_parsed;
};

static bool has_param(void *ud, const char *name, const char *want)
{
    struct req_ctx *c = ud;
    for (unsigned k = 0; k < c->m->nparams; k++)
        if (!strcmp(c->m->params[k].name, name))
            return !strcmp(decoded(c->req->arena, c->m->params[k].value, c->m->params[k].len),
                           want);
    return false;
}

static bool has_query(void *ud, const char *name, const char *want)
{
    struct req_ctx *c = ud;
    struct mockd_req *r = c->req;
    for (size_t i = 0; i < r->nquery; i++)
        if (!strcmp(decoded(r->arena, r->query[i].key, r->query[i].keylen), name) &&
            !strcmp(decoded(r->arena, r->query[i].val, r->query[i].vallen), want))
            return true;
    return false;
}

static bool has_header(void *ud, const char *name, const char *want)
{
    struct req_ctx *c = ud;
    const char *v = mockd_req_header(c->req, name);
    return v && !strcmp(v, want);
}

static bool ov_matches(const struct override *ov, const struct mockd_op_plan *p,
                       const char *session, struct req_ctx *c)
{
    if (ov->method != (int)p->op->method || strcmp(ov->path, p->op->path) != 0) return false;
    if (ov->session && (!session || strcmp(ov->session, session) != 0)) return false;
    if (ov->concrete && (strlen(ov->concrete) != c->req->path_len ||
                         memcmp(ov->concrete, c->req->path, c->req->path_len) != 0))
        return false;
    if (!match_map(ov->m_params, has_param, c) || !match_map(ov->m_query, has_query, c) ||
        !match_map(ov->m_headers, has_header, c))
        return false;
    if (ov->m_body) {
        if (!c->body_parsed) {
            c->body_parsed = true;
            c->body = c->req->body_len ? jx_parse(c->req->arena, "request body", c->req->body,
                                                  c->req->body_len, NULL)
                                       : NULL;
        }
        if (!jx_contains(ov->m_body, c->body)) return false;
    }
    return true;
}

bool overrides_take(struct overrides *o, const struct mockd_app *app, const struct mockd_op_plan *p,
                    const struct ct_route_match *m, struct mockd_req *req, struct ovr_step *out)
{
    if (!atomic_load(&o->active)) return false; /* the common case: not a lock per request */
    struct req_ctx c = {.req = req, .m = m};
    const char *session = layers_session(req);
    struct ct_arena *a = req->arena;
    bool found = false;
    pthread_mutex_lock(&o->lock);
    for (size_t i = o->n; i-- > 0 && !found;) {
        struct override *ov = o->v[i];
        if (!ov_matches(ov, p, session, &c)) continue;
        found = true;
        unsigned k = ov->calls++;
        const struct ostep *s = &ov->steps[ov->cycle        ? k % ov->nsteps
                                           : k < ov->nsteps ? k
                                                            : ov->nsteps - 1];
        memset(out, 0, sizeof(*out));
        out->override_id = ct_arena_strdup(a, ov->id);
        out->passthrough = s->passthrough;
        out->status = s->status;
        out->example = s->example ? ct_arena_strdup(a, s->example) : NULL;
        out->content_type = s->content_type ? ct_arena_strdup(a, s->content_type) : NULL;
        if (s->body) {
            out->body = ct_arena_strndup(a, s->body, s->body_len);
            out->body_len = s->body_len;
        }
        for (unsigned h = 0; h < s->nheaders; h++) {
            out->headers[h].name = ct_arena_strdup(a, s->headers[h].name);
            out->headers[h].value = ct_arena_strdup(a, s->headers[h].value);
        }
        out->nheaders = s->nheaders;
        out->has_delay = s->has_delay;
        out->delay_min = s->delay_min;
        out->delay_max = s->delay_max;
        out->fault = s->fault;
        out->slow_bps = s->slow_bps;
        if (ov->times && ov->calls >= ov->times) remove_at(o, i);
    }
    pthread_mutex_unlock(&o->lock);
    (void)app;
    return found;
}

/* --- creating -------------------------------------------------------------------------------- */

/* Fill a step from a validated Step object (or the definition itself for one answer). */
static void step_from(struct ct_arena *a, const struct ct_node *o, struct ostep *s)
{
    memset(s, 0, sizeof(*s));
    s->status = (unsigned)jx_get_uint(o, "status", 0);
    s->example = ct_obj_str(o, "example");
    s->content_type = ct_obj_str(o, "contentType");
    const struct ct_node *body = ct_obj_get(o, "body");
    const char *text = ct_obj_str(o, "text");
    if (body) {
        s->body = jx_emit(a, body, &s->body_len);
    } else if (text) {
        s->body = text;
        s->body_len = ct_obj_get(o, "text")->len;
        if (!s->content_type) s->content_type = "text/plain; charset=utf-8";
    }
    const struct ct_node *hs = ct_obj_get(o, "headers");
    for (uint32_t i = 0; hs && i < hs->len && i < 16; i++) {
        s->headers[i].name = hs->u.members[i].key->u.str;
        s->headers[i].value = jx_scalar_text(hs->u.members[i].val);
        s->nheaders++;
    }
    const struct ct_node *d = ct_obj_get(o, "delay");
    if (ct_obj_get(o, "delayMs")) {
        s->has_delay = true;
        s->delay_min = s->delay_max = (unsigned)jx_get_uint(o, "delayMs", 0);
    } else if (d) {
        s->has_delay = true;
        s->delay_min = (unsigned)jx_get_uint(d, "minMs", 0);
        s->delay_max = (unsigned)jx_get_uint(d, "maxMs", s->delay_min);
        if (s->delay_max < s->delay_min) s->delay_max = s->delay_min;
    }
    s->fault = faults_parse(ct_obj_str(o, "fault"));
    s->slow_bps = (unsigned)jx_get_uint(o, "slowBps", 1000);
    s->passthrough = ct_obj_true(o, "passthrough");
}

/* Problems creating an override: the HTTP status and a message in out. */
static unsigned fail(struct ct_buf *out, unsigned status, const char *msg)
{
    ct_buf_adds(out, msg);
    return status;
}

/* Check a step against the contract: a named example must exist (an error); a body that does
 * not match the response's schema is served anyway, with a warning. */
static const char *check_step(const struct mockd_app *app, const struct mockd_op_plan *p,
                              struct ct_arena *a, unsigned idx, const struct ostep *s,
                              struct ct_buf *warnings, unsigned *nwarn)
{
    unsigned status = s->status;
    if (!status && p->dflt >= 0) status = p->resps[p->dflt].code ? p->resps[p->dflt].code : 200;
    const struct mockd_resp_plan *rp = answer_find_resp(p, status);
    if (s->example) {
        for (unsigned i = 0; rp && i < rp->nmedia; i++)
            if (ct_obj_get(rp->media[i].m->examples, s->example)) return NULL;
        struct ct_buf names;
        ct_buf_init(&names, 0);
        for (unsigned i = 0; rp && i < rp->nmedia; i++)
            for (uint32_t k = 0; rp->media[i].m->examples && k < rp->media[i].m->examples->len; k++)
                ct_buf_printf(&names, "%s'%s'", names.len ? ", " : "",
                              rp->media[i].m->examples->u.members[k].key->u.str);
        const char *msg =
            !rp ? jx_fmt(a,
                         "responses[%u]: the operation documents no %u response to take "
                         "example '%s' from",
                         idx, status, s->example)
                : jx_fmt(a, "responses[%u]: the %u response has no example '%s' (examples: %s)",
                         idx, status, s->example, names.len ? ct_buf_cstr(&names) : "none");
        ct_buf_deinit(&names);
        return msg;
    }
    if (!s->body || s->passthrough) return NULL;
    const char *why = NULL;
    if (!rp) {
        why = jx_fmt(a, "the operation documents no %u response", status);
    } else {
        const struct mockd_media_plan *mp = answer_media(rp);
        if (mp && mp->json && mp->schema &&
            (!s->content_type || mockd_media_is_json(s->content_type))) {
            const struct ct_node *n = jx_parse(a, "override body", s->body, s->body_len, NULL);
            struct ct_diags d;
            ct_diags_init(&d);
            d.max = 1;
            struct ct_vopts vo = {.direction = CT_DIR_RESPONSE};
            if (n && !ct_schema_validate_opts(mp->schema, NULL, n, &vo, &d) && d.n)
                why = jx_fmt(a, "the body does not match the %u response's schema: %s%s%s", status,
                             d.v[0].instance_ptr && *d.v[0].instance_ptr ? d.v[0].instance_ptr : "",
                             d.v[0].instance_ptr && *d.v[0].instance_ptr ? ": " : "", d.v[0].msg);
            ct_diags_deinit(&d);
        }
    }
    if (why) {
        if ((*nwarn)++) ct_buf_addc(warnings, ',');
        jx_put_cstr(warnings, jx_fmt(a, "responses[%u]: %s (served anyway)", idx, why));
    }
    return NULL;
}

static void put_override(struct ct_buf *b, const struct override *ov)
{
    ct_buf_adds(b, "{\"id\":");
    jx_put_cstr(b, ov->id);
    ct_buf_adds(b, ",\"operation\":");
    jx_put_cstr(b, ov->op_key);
    ct_buf_adds(b, ",\"operationId\":");
    jx_put_cstr(b, ov->operation_id);
    ct_buf_printf(b, ",\"calls\":%u,\"remaining\":", ov->calls);
    if (ov->times)
        ct_buf_printf(b, "%u", ov->times - ov->calls);
    else
        ct_buf_adds(b, "null");
    ct_buf_adds(b, ",\"definition\":");
    ct_buf_add(b, ov->def, ov->def_len);
    ct_buf_printf(b, ",\"warnings\":%s}", ov->warnings);
}

unsigned overrides_admin_create(struct overrides *o, const struct mockd_app *app,
                                const struct ct_node *def_in, const char *text, size_t len,
                                struct mockd_req *req, struct ct_buf *out)
{
    struct override *ov = ct_xcalloc(1, sizeof(*ov));
    ct_arena_init(&ov->arena, 2048);
    struct ct_arena *a = &ov->arena;
    unsigned status = 0;
    const struct ct_node *def = jx_parse(a, "override", text, len, NULL);
    if (!def) def = def_in; /* not reached: the admin API parsed the same text */

    /* Which operation. */
    const char *opid = ct_obj_str(def, "operationId");
    const char *method = ct_obj_str(def, "method");
    const char *path = ct_obj_str(def, "path");
    const struct ct_oas_op *op = NULL;
    struct ct_route_match m;
    if (opid) {
        op = ct_oas_find_op(app->oas, opid);
        if (!op) {
            status = fail(out, 404,
                          jx_fmt(req->arena, "no operation '%s' in the spec%s", opid,
                                 layers_suggest_op(app, req->arena, opid)));
            goto fail;
        }
    } else if (method && path) {
        int mt = ct_http_method_parse(method, strlen(method));
        for (unsigned i = 0; mt >= 0 && i < app->oas->nops && !op; i++)
            if ((int)app->oas->ops[i].method == mt && !strcmp(app->oas->ops[i].path, path))
                op = &app->oas->ops[i];
        if (!op && mt >= 0 &&
            ct_router_match(app->router, (enum ct_http_method)mt, path, strlen(path), &m) == 1) {
            op = m.op;
            /* A template written with its base path matches like the template; a concrete
             * path limits the override to requests on that very path. */
            if (!strchr(path, '{')) ov->concrete = ct_arena_strdup(a, path);
        }
        if (!op) {
            const char *near = ct_router_near(app->router, path, strlen(path));
            status = fail(out, 404,
                          jx_fmt(req->arena, "no operation of the spec matches %s %s%s%s%s", method,
                                 path, near ? " (did you mean " : "", near ? near : "",
                                 near ? "?)" : ""));
            goto fail;
        }
    } else {
        status = fail(out, 400, "name the operation: operationId, or method and path");
        goto fail;
    }
    /* Copies: the override outlives this version of the spec when it is reloaded. */
    ov->method = (int)op->method;
    ov->path = ct_arena_strdup(a, op->path);
    ov->operation_id = op->operation_id ? ct_arena_strdup(a, op->operation_id) : NULL;
    ov->op_key = layers_op_key(a, op);
    const struct mockd_op_plan *p = &app->plans[op - app->oas->ops];

    ov->session = ct_obj_str(def, "session");
    const struct ct_node *mt = ct_obj_get(def, "match");
    ov->m_params = ct_obj_get(mt, "params");
    ov->m_query = ct_obj_get(mt, "query");
    ov->m_headers = ct_obj_get(mt, "headers");
    ov->m_body = ct_obj_get(mt, "body");
    ov->times = (unsigned)jx_get_uint(def, "times", 0);
    const char *rep = ct_obj_str(def, "repeat");
    ov->cycle = rep && !strcmp(rep, "cycle");

    const struct ct_node *resps = ct_obj_get(def, "responses");
    static const char *const step_keys[] = {"status",      "headers", "body",       "text",
                                            "contentType", "example", "delayMs",    "delay",
                                            "fault",       "slowBps", "passthrough"};
    if (resps) {
        for (size_t k = 0; k < sizeof(step_keys) / sizeof(step_keys[0]); k++)
            if (ct_obj_get(def, step_keys[k])) {
                status = fail(out, 400,
                              jx_fmt(req->arena,
                                     "'%s' beside 'responses': put it into the steps of the "
                                     "sequence, or drop 'responses' for a single answer",
                                     step_keys[k]));
                goto fail;
            }
        ov->nsteps = resps->len;
        ov->steps = ct_arena_zalloc(a, resps->len * sizeof(*ov->steps));
        for (uint32_t i = 0; i < resps->len; i++)
            step_from(a, resps->u.items[i], &ov->steps[i]);
    } else {
        ov->nsteps = 1;
        ov->steps = ct_arena_zalloc(a, sizeof(*ov->steps));
        step_from(a, def, &ov->steps[0]);
    }
    for (unsigned i = 0; i < ov->nsteps; i++)
        if (ov->steps[i].body && ct_obj_get(resps ? resps->u.items[i] : def, "body") &&
            ct_obj_get(resps ? resps->u.items[i] : def, "text")) {
            status = fail(
                out, 400,
                jx_fmt(req->arena, "responses[%u]: give 'body' (JSON) or 'text', not both", i));
            goto fail;
        }

    struct ct_buf warn;
    ct_buf_init(&warn, 0);
    unsigned nwarn = 0;
    ct_buf_addc(&warn, '[');
    for (unsigned i = 0; i < ov->nsteps; i++) {
        const char *err = check_step(app, p, a, i, &ov->steps[i], &warn, &nwarn);
        if (err) {
            ct_buf_deinit(&warn);
            status = fail(out, 400, err);
            goto fail;
        }
    }
    ct_buf_addc(&warn, ']');
    ov->warnings = ct_arena_strdup(a, ct_buf_cstr(&warn));
    ct_buf_deinit(&warn);
    ov->def = jx_emit(a, def, &ov->def_len);

    pthread_mutex_lock(&o->lock);
    snprintf(ov->id, sizeof(ov->id), "o%llu", o->next++);
    o->v = ct_xgrow(o->v, &o->cap, o->n + 1, sizeof(*o->v));
    o->v[o->n++] = ov;
    atomic_store(&o->active, o->n);
    put_override(out, ov);
    pthread_mutex_unlock(&o->lock);
    return 201;
fail:
    ov_free(ov);
    return status;
}

void overrides_admin_list(struct overrides *o, struct ct_buf *out)
{
    pthread_mutex_lock(&o->lock);
    ct_buf_adds(out, "{\"overrides\":[");
    for (size_t i = o->n; i-- > 0;) {
        put_override(out, o->v[i]);
        if (i) ct_buf_addc(out, ',');
    }
    ct_buf_adds(out, "]}");
    pthread_mutex_unlock(&o->lock);
}

bool overrides_admin_get(struct overrides *o, const char *id, struct ct_buf *out)
{
    bool found = false;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < o->n && !found; i++)
        if (!strcmp(o->v[i]->id, id)) {
            put_override(out, o->v[i]);
            found = true;
        }
    pthread_mutex_unlock(&o->lock);
    return found;
}

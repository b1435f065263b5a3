/* respond.c - answering one request: built-in routes, CORS, routing, auth, validation, and the
 * answer chosen from the spec (Prefer header, examples, generated bodies, the contract's own
 * error shape).
 *
 * Order of checks: built-in routes, CORS preflight, route (404/405), body size (413), security
 * (401/403), parameters and body (400/415/422), then the answer. Every error answer uses the
 * operation's own declared response for that status when it has a JSON schema (its fields
 * `code`, `message`, `details.validationErrors`, `requestId` are filled from what went wrong and
 * the result is checked against the schema), else application/problem+json (RFC 9457). */
#include "mockd.h"

#include "core/alloc.h"
#include "core/err.h"
#include "gen/gen.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

bool mockd_media_is_json(const char *type);

/* --- small helpers ----------------------------------------------------------------------------- */

const char *mockd_req_header(const struct mockd_req *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

void mockd_resp_header(struct mockd_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders < MOCKD_MAX_RESP_HEADERS)
        resp->headers[resp->nheaders++] = (struct mockd_header){name, value};
}

static char *afmt(struct ct_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *afmt(struct ct_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof(tmp))
        return ct_arena_strndup(a, tmp, (size_t)n);
    char *s = ct_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static struct ct_node *n_new(struct ct_arena *a, enum ct_kind k)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = (uint8_t)k;
    return n;
}

static struct ct_node *n_str(struct ct_arena *a, const char *s)
{
    struct ct_node *n = n_new(a, CT_STRING);
    n->len = (uint32_t)strlen(s);
    n->u.str = ct_arena_strndup(a, s, n->len);
    return n;
}

static struct ct_node *n_int(struct ct_arena *a, long long v)
{
    struct ct_node *n = n_new(a, CT_NUMBER);
    char *t = afmt(a, "%lld", v);
    n->u.text = t;
    n->len = (uint32_t)strlen(t);
    n->num = (double)v;
    n->flags = CT_NF_INT | CT_NF_EXACT | (v < 0 ? CT_NF_NEG : 0);
    return n;
}

static struct ct_node *n_obj(struct ct_arena *a, const char *const *keys, struct ct_node **vals,
                             uint32_t n)
{
    struct ct_node *o = n_new(a, CT_OBJECT);
    o->len = n;
    o->u.members = ct_arena_alloc(a, ct__obj_members_size(n));
    for (uint32_t i = 0; i < n; i++) {
        o->u.members[i].key = n_str(a, keys[i]);
        o->u.members[i].val = vals[i];
    }
    long first;
    ct__obj_finish(o, &first);
    return o;
}

/* A copy of object `o` with `key` set to `val` (replaced in place, or appended). */
static struct ct_node *n_set(struct ct_arena *a, const struct ct_node *o, const char *key,
                             struct ct_node *val)
{
    uint32_t n = o && o->kind == CT_OBJECT ? o->len : 0;
    struct ct_node *c = n_new(a, CT_OBJECT);
    c->u.members = ct_arena_alloc(a, ct__obj_members_size(n + 1));
    bool done = false;
    for (uint32_t i = 0; i < n; i++) {
        c->u.members[i] = o->u.members[i];
        if (!strcmp(o->u.members[i].key->u.str, key)) {
            c->u.members[i].val = val;
            done = true;
        }
    }
    c->len = n;
    if (!done) {
        c->u.members[n].key = n_str(a, key);
        c->u.members[n].val = val;
        c->len = n + 1;
    }
    long first;
    ct__obj_finish(c, &first);
    return c;
}

/* Per-thread validation scratch and generator cache, freed when the worker thread ends. */
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;

struct tl_state {
    struct ct_vctx *vctx;
    struct ct_gen_cache *gen;
    uint64_t rng[2]; /* request ids: xorshift128+ seeded from the OS once per thread */
};

static void tl_free(void *p)
{
    struct tl_state *s = p;
    ct_vctx_free(s->vctx);
    ct_gen_cache_free(s->gen);
    ct_free(s);
}

static void tl_init(void)
{
    pthread_key_create(&tl_key, tl_free);
}

static struct tl_state *tl(void)
{
    pthread_once(&tl_once, tl_init);
    struct tl_state *s = pthread_getspecific(tl_key);
    if (!s) {
        s = ct_xcalloc(1, sizeof(*s));
        s->vctx = ct_vctx_new();
        s->gen = ct_gen_cache_new();
        while (!s->rng[0] && !s->rng[1])
            RAND_bytes((unsigned char *)s->rng, sizeof(s->rng));
        pthread_setspecific(tl_key, s);
    }
    return s;
}

static uint64_t tl_rand(struct tl_state *s)
{
    uint64_t x = s->rng[0], y = s->rng[1];
    s->rng[0] = y;
    x ^= x << 23;
    s->rng[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return s->rng[1] + y;
}

/* A version-4 UUID for X-Request-ID. Ids must be unique, not secret: a per-thread generator
 * seeded from the OS (RAND_bytes per request cost 7% of a request's CPU time). */
static void make_uuid(char out[37])
{
    struct tl_state *s = tl();
    unsigned char r[16];
    uint64_t a = tl_rand(s), b = tl_rand(s);
    memcpy(r, &a, 8);
    memcpy(r + 8, &b, 8);
    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = 0;
}

static bool request_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

/* --- problems: what went wrong with a request ------------------------------------------------------ */

struct problem {
    const char *field;   /* "title", "tags[2]", "query.page", "header.X-Id" */
    const char *message;
    const char *pointer; /* JSON Pointer in the body, or NULL */
    const char *where;   /* schema keyword location "file:line:col", or NULL */
};

struct problems {
    struct problem v[64];
    unsigned n;
    unsigned total;
};

static void add_problem(struct problems *ps, const char *field, const char *msg,
                        const char *pointer, const char *where)
{
    ps->total++;
    if (ps->n < 64)
        ps->v[ps->n++] = (struct problem){field, msg, pointer, where};
}

/* "/tags/2/name" -> "tags[2].name" (the shape frontends key form errors by). */
static char *pointer_to_field(struct ct_arena *a, const char *prefix, const char *ptr)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (prefix)
        ct_buf_adds(&b, prefix);
    const char *p = ptr ? ptr : "";
    while (*p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        bool idx = n > 0;
        for (size_t i = 0; i < n; i++)
            idx &= p[i] >= '0' && p[i] <= '9';
        if (idx) {
            ct_buf_printf(&b, "[%.*s]", (int)n, p);
        } else {
            if (b.len)
                ct_buf_addc(&b, '.');
            for (size_t i = 0; i < n; i++) {
                if (p[i] == '~' && i + 1 < n) {
                    ct_buf_addc(&b, p[i + 1] == '1' ? '/' : '~');
                    i++;
                } else {
                    ct_buf_addc(&b, p[i]);
                }
            }
        }
        p += n;
    }
    char *s = ct_arena_strdup(a, b.len ? b.ptr : "body");
    ct_buf_deinit(&b);
    return s;
}

static void problems_from_diags(struct ct_arena *a, struct problems *ps, const struct ct_diags *d,
                                const char *prefix, bool body)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct ct_diag *g = &d->v[i];
        if (g->sev != CT_SEV_ERROR)
            continue;
        const char *where = g->src && g->line
                                ? afmt(a, "%s:%u:%u", g->src->name, g->line, g->col)
                                : NULL;
        const char *field = body ? pointer_to_field(a, NULL, g->instance_ptr)
                                 : (prefix ? prefix : "request");
        if (!body && g->instance_ptr && *g->instance_ptr)
            field = pointer_to_field(a, prefix, g->instance_ptr);
        add_problem(ps, field, ct_arena_strdup(a, g->msg),
                    body ? ct_arena_strdup(a, g->instance_ptr ? g->instance_ptr : "") : NULL, where);
    }
}

/* --- answers ---------------------------------------------------------------------------------- */

static const char *reason(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    default: return "Error";
    }
}

static void set_body_node(struct mockd_req *req, struct mockd_resp *resp, const struct ct_node *n,
                          const char *type)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (n->kind == CT_STRING && type && !mockd_media_is_json(type))
        ct_buf_add(&b, n->u.str, n->len);
    else
        ct_json_emit(n, &b, false);
    resp->body = ct_arena_strndup(req->arena, b.ptr ? b.ptr : "", b.len);
    resp->body_len = b.len;
    resp->content_type = type;
    ct_buf_deinit(&b);
}

static void problem_json(struct mockd_req *req, struct mockd_resp *resp, unsigned status,
                         const char *code, const char *detail, const struct problems *ps)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_buf_printf(&b, "{\"type\":\"urn:mockd:problem:%s\",\"title\":\"%s\",\"status\":%u", code,
                  reason(status), status);
    ct_buf_adds(&b, ",\"detail\":");
    ct_json_emit_string(&b, detail, strlen(detail));
    if (resp->request_id) {
        ct_buf_adds(&b, ",\"requestId\":");
        ct_json_emit_string(&b, resp->request_id, strlen(resp->request_id));
    }
    if (ps && ps->n) {
        ct_buf_adds(&b, ",\"errors\":[");
        for (unsigned i = 0; i < ps->n; i++) {
            const struct problem *p = &ps->v[i];
            ct_buf_adds(&b, i ? ",{\"field\":" : "{\"field\":");
            ct_json_emit_string(&b, p->field, strlen(p->field));
            ct_buf_adds(&b, ",\"message\":");
            ct_json_emit_string(&b, p->message, strlen(p->message));
            if (p->pointer) {
                ct_buf_adds(&b, ",\"pointer\":");
                ct_json_emit_string(&b, p->pointer, strlen(p->pointer));
            }
            if (p->where) {
                ct_buf_adds(&b, ",\"schemaLocation\":");
                ct_json_emit_string(&b, p->where, strlen(p->where));
            }
            ct_buf_addc(&b, '}');
        }
        ct_buf_addc(&b, ']');
    }
    ct_buf_addc(&b, '}');
    resp->status = status;
    resp->content_type = "application/problem+json";
    resp->body = ct_arena_strndup(req->arena, b.ptr, b.len);
    resp->body_len = b.len;
    ct_buf_deinit(&b);
}

/* The plan's response for a status: exact code, then its class range, then "default". */
static const struct mockd_resp_plan *find_resp(const struct mockd_op_plan *p, unsigned status)
{
    if (!p)
        return NULL;
    for (unsigned i = 0; i < p->nresps; i++)
        if (p->resps[i].code == status)
            return &p->resps[i];
    for (unsigned i = 0; i < p->nresps; i++)
        if (p->resps[i].klass && p->resps[i].klass == status / 100)
            return &p->resps[i];
    for (unsigned i = 0; i < p->nresps; i++)
        if (!p->resps[i].code && !p->resps[i].klass)
            return &p->resps[i];
    return NULL;
}

static const struct mockd_media_plan *json_media(const struct mockd_app *app,
                                                 const struct mockd_resp_plan *rp)
{
    for (unsigned i = 0; rp && i < rp->nmedia; i++)
        if (rp->media[i].json && mockd_media_body(app, &rp->media[i]))
            return &rp->media[i];
    return NULL;
}

/* Add the response's declared headers with example or generated values (Retry-After, ...). */
static void declared_headers(const struct mockd_app *app, struct mockd_req *req,
                             struct mockd_resp *resp, const struct mockd_resp_plan *rp)
{
    const struct ct_node *hs = rp ? rp->r->headers : NULL;
    for (uint32_t i = 0; hs && i < hs->len; i++) {
        const char *name = hs->u.members[i].key->u.str;
        if (!strcasecmp(name, "content-type"))
            continue;
        const struct ct_node *h = ct_docset_deref(app->ds, hs->u.members[i].val, NULL);
        const struct ct_node *v = ct_obj_get(h, "example");
        const struct ct_node *sch = ct_obj_get(h, "schema");
        if (!v && sch) {
            struct ct_gen_opts go = {.seed = app->cfg->seed, .direction = CT_DIR_RESPONSE,
                                     .oas30 = app->oas->minor == 0, .prefer_examples = true,
                                     .cache = tl()->gen};
            v = ct_gen_instance(app->ds, sch, &go, req->arena, NULL);
        }
        if (!v)
            continue;
        const char *val;
        if (v->kind == CT_STRING)
            val = v->u.str;
        else if (v->kind == CT_NUMBER)
            val = ct_arena_strndup(req->arena, v->u.text, v->len);
        else if (v->kind == CT_BOOL)
            val = (v->flags & CT_NF_TRUE) ? "true" : "false";
        else
            continue;
        mockd_resp_header(resp, name, val);
    }
}

/* Whether an error body may carry `key`: the example has it, or the schema (through $ref and
 * allOf) declares it. */
static bool declares(const struct mockd_app *app, const struct ct_node *body,
                     const struct ct_node *schema, const char *key)
{
    if (ct_obj_get(body, key))
        return true;
    const struct ct_node *s = ct_docset_deref(app->ds, schema, NULL);
    for (int depth = 0; s && depth < 4; depth++) {
        if (ct_obj_get(ct_obj_get(s, "properties"), key))
            return true;
        const struct ct_node *all = ct_obj_get(s, "allOf");
        if (!all || all->kind != CT_ARRAY)
            return false;
        for (uint32_t i = 0; i + 1 < all->len; i++)
            if (declares(app, NULL, all->u.items[i], key))
                return true;
        s = all->len ? ct_docset_deref(app->ds, all->u.items[all->len - 1], NULL) : NULL;
    }
    return false;
}

/* An error answer in the contract's own shape when the operation declares one.
 *
 * `codes` is a comma-separated list of error codes in order of preference ("TOKEN_INVALID,
 * INVALID_TOKEN,UNAUTHORIZED"): a contract whose `code` is an enum gets the first one it allows.
 * The filled body is checked against the schema; fields that do not fit are left as the example
 * has them, and when nothing fits the answer is application/problem+json. */
static void error_answer(const struct mockd_app *app, const struct mockd_op_plan *p,
                         struct mockd_req *req, struct mockd_resp *resp, unsigned status,
                         const char *codes, const char *message, const struct problems *ps)
{
    const struct mockd_resp_plan *rp = find_resp(p, status);
    const struct mockd_media_plan *mp = json_media(app, rp);
    resp->status = status;
    char first[64];
    size_t fl = strcspn(codes, ",");
    snprintf(first, sizeof(first), "%.*s", (int)fl, codes);
    const struct ct_node *dflt = mp ? mockd_media_body(app, mp) : NULL;
    if (dflt && dflt->kind == CT_OBJECT && mp->schema) {
        struct ct_arena *a = req->arena;
        const struct ct_node *sch = mp->m->schema;
        const struct ct_node *base = dflt;
        if (declares(app, base, sch, "message"))
            base = n_set(a, base, "message", n_str(a, message));
        else if (declares(app, base, sch, "detail"))
            base = n_set(a, base, "detail", n_str(a, message));
        if (resp->request_id) {
            if (declares(app, base, sch, "requestId"))
                base = n_set(a, base, "requestId", n_str(a, resp->request_id));
            else if (declares(app, base, sch, "request_id"))
                base = n_set(a, base, "request_id", n_str(a, resp->request_id));
        }
        const struct ct_node *with_problems = base;
        if (ps && ps->n) {
            struct ct_node **items = ct_arena_alloc(a, ps->n * sizeof(*items));
            for (unsigned i = 0; i < ps->n; i++) {
                static const char *const ks[] = {"field", "message"};
                struct ct_node *vs[] = {n_str(a, ps->v[i].field), n_str(a, ps->v[i].message)};
                items[i] = n_obj(a, ks, vs, 2);
            }
            struct ct_node *arr = n_new(a, CT_ARRAY);
            arr->u.items = items;
            arr->len = ps->n;
            if (declares(app, base, sch, "details")) {
                const struct ct_node *det = ct_obj_get(base, "details");
                with_problems = n_set(a, base, "details",
                                      n_set(a, det && det->kind == CT_OBJECT ? det : NULL,
                                            "validationErrors", arr));
            } else if (declares(app, base, sch, "errors")) {
                with_problems = n_set(a, base, "errors", arr);
            } else if (declares(app, base, sch, "validationErrors")) {
                with_problems = n_set(a, base, "validationErrors", arr);
            }
        }
        const struct ct_node *oc = ct_obj_get(base, "code");
        bool set_code = (oc && oc->kind == CT_STRING) || (!oc && declares(app, base, sch, "code"));
        struct ct_vopts vo = {.direction = CT_DIR_RESPONSE};
        const struct ct_node *chosen = NULL;
        /* Each code in turn with the problems, then the example's own code, then less. */
        for (const char *c = codes; set_code && *c && !chosen;) {
            size_t n = strcspn(c, ",");
            const struct ct_node *cand =
                n_set(a, with_problems, "code", n_str(a, ct_arena_strndup(a, c, n)));
            if (ct_schema_validate_opts(mp->schema, tl()->vctx, cand, &vo, NULL))
                chosen = cand;
            c += n + (c[n] == ',');
        }
        if (!chosen && ct_schema_validate_opts(mp->schema, tl()->vctx, with_problems, &vo, NULL))
            chosen = with_problems;
        if (!chosen && ct_schema_validate_opts(mp->schema, tl()->vctx, base, &vo, NULL))
            chosen = base;
        if (!chosen)
            chosen = dflt;
        set_body_node(req, resp, chosen, mp->m->type);
        declared_headers(app, req, resp, rp);
        return;
    }
    problem_json(req, resp, status, first, message, ps);
    declared_headers(app, req, resp, rp);
}

/* --- Prefer --------------------------------------------------------------------------------- */

struct prefer {
    unsigned code;
    const char *example;
    size_t example_len;
    bool dynamic;
};

static void parse_prefer(const char *h, struct prefer *pf)
{
    memset(pf, 0, sizeof(*pf));
    while (h && *h) {
        while (*h == ' ' || *h == ',' || *h == ';')
            h++;
        const char *st = h;
        while (*h && *h != ',' && *h != ';' && *h != ' ')
            h++;
        size_t n = (size_t)(h - st);
        if (n > 5 && !strncmp(st, "code=", 5))
            pf->code = (unsigned)strtoul(st + 5, NULL, 10);
        else if (n > 8 && !strncmp(st, "example=", 8)) {
            pf->example = st + 8;
            pf->example_len = n - 8;
            if (pf->example_len >= 2 && pf->example[0] == '"') {
                pf->example++;
                pf->example_len -= 2;
            }
        } else if (n == 12 && !strncmp(st, "dynamic=true", 12))
            pf->dynamic = true;
    }
}

/* Accept negotiation: the first media type of the response that the client accepts. */
static const struct mockd_media_plan *negotiate(const struct mockd_resp_plan *rp, const char *accept)
{
    if (!rp->nmedia)
        return NULL;
    if (!accept || !*accept)
        return &rp->media[0];
    for (unsigned i = 0; i < rp->nmedia; i++) {
        const char *t = rp->media[i].m->type;
        size_t tl_ = strcspn(t, ";");
        const char *slash = memchr(t, '/', tl_);
        for (const char *a = accept; *a;) {
            while (*a == ' ' || *a == ',')
                a++;
            const char *e = a + strcspn(a, ",;");
            size_t al = (size_t)(e - a);
            while (al && a[al - 1] == ' ')
                al--;
            if ((al == 3 && !strncmp(a, "*/*", 3)) || (al == tl_ && !strncasecmp(a, t, tl_)) ||
                (slash && al >= 2 && a[al - 1] == '*' && a[al - 2] == '/' &&
                 (size_t)(slash - t) == al - 2 && !strncasecmp(a, t, al - 2)) ||
                (!strncmp(t, "*/*", 3)))
                return &rp->media[i];
            a = e + strcspn(e, ",");
        }
    }
    return NULL;
}

/* --- auth ------------------------------------------------------------------------------------ */

struct auth_result {
    bool ok;
    unsigned status; /* 401 or 403 */
    const char *code;
    const char *message;
    struct mockd_claims claims;
    bool have_claims;
};

static const struct ct_oas_security_scheme *scheme_named(const struct ct_oas *oas, const char *n)
{
    for (unsigned i = 0; i < oas->nschemes; i++)
        if (!strcmp(oas->schemes[i].name, n))
            return &oas->schemes[i];
    return NULL;
}

static const char *cookie_value(struct ct_arena *a, const char *cookies, const char *name)
{
    size_t nl = strlen(name);
    for (const char *c = cookies; c && *c;) {
        while (*c == ' ' || *c == ';')
            c++;
        const char *e = c + strcspn(c, ";");
        if ((size_t)(e - c) > nl && !strncmp(c, name, nl) && c[nl] == '=')
            return ct_arena_strndup(a, c + nl + 1, (size_t)(e - c - nl - 1));
        c = e;
    }
    return NULL;
}

static const char *query_value(struct mockd_req *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nquery; i++)
        if (req->query[i].keylen == nl && !memcmp(req->query[i].key, name, nl))
            return ct_arena_strndup(req->arena, req->query[i].val, req->query[i].vallen);
    return NULL;
}

/* One scheme of a requirement: present (and, for JWT, valid)? Sets *why on failure. */
static bool check_scheme(const struct mockd_app *app, struct mockd_req *req,
                         const struct ct_oas_security_scheme *s, struct auth_result *ar)
{
    const char *type = s->type ? s->type : "";
    if (!strcmp(type, "apiKey")) {
        const char *v = NULL;
        if (s->in && !strcmp(s->in, "header"))
            v = mockd_req_header(req, s->param);
        else if (s->in && !strcmp(s->in, "query"))
            v = query_value(req, s->param);
        else if (s->in && !strcmp(s->in, "cookie"))
            v = cookie_value(req->arena, mockd_req_header(req, "Cookie"), s->param);
        if (!v || !*v) {
            ar->message = afmt(req->arena, "missing API key '%s' in %s", s->param ? s->param : "?",
                               s->in ? s->in : "?");
            return false;
        }
        return true;
    }
    const char *authz = mockd_req_header(req, "Authorization");
    bool basic = !strcmp(type, "http") && s->scheme && !strcasecmp(s->scheme, "basic");
    const char *want = basic ? "Basic " : "Bearer ";
    if (!strcmp(type, "mutualTLS"))
        return true; /* no TLS here: accepted as configured */
    if (!authz || strncasecmp(authz, want, strlen(want)) != 0 || !authz[strlen(want)]) {
        ar->message = afmt(req->arena, "missing credentials: expected 'Authorization: %s...'",
                           basic ? "Basic" : "Bearer");
        ar->code = "UNAUTHORIZED,AUTHENTICATION_REQUIRED";
        return false;
    }
    if (basic || app->auth != MOCKD_AUTH_JWT)
        return true;
    const char *tok = authz + 7;
    while (*tok == ' ')
        tok++;
    enum mockd_jwt_result r =
        mockd_jwt_verify(app->jwt, tok, strlen(tok), "access", req->arena, &ar->claims);
    if (r != MOCKD_JWT_OK) {
        ar->message = mockd_jwt_reason(r);
        ar->code = r == MOCKD_JWT_EXPIRED   ? "TOKEN_EXPIRED,EXPIRED_TOKEN,UNAUTHORIZED"
                   : r == MOCKD_JWT_REVOKED ? "TOKEN_REVOKED,TOKEN_INVALID,INVALID_TOKEN,UNAUTHORIZED"
                                            : "TOKEN_INVALID,INVALID_TOKEN,UNAUTHORIZED";
        return false;
    }
    ar->have_claims = true;
    return true;
}

static void check_security(const struct mockd_app *app, const struct mockd_op_plan *p,
                           struct mockd_req *req, struct auth_result *ar)
{
    memset(ar, 0, sizeof(*ar));
    ar->ok = true;
    const struct ct_node *sec = p->op->security;
    if (app->auth == MOCKD_AUTH_OFF || !sec || sec->kind != CT_ARRAY || sec->len == 0)
        return;
    /* Alternatives: any one requirement object satisfied is enough; {} means anonymous. */
    for (uint32_t i = 0; i < sec->len; i++) {
        const struct ct_node *req_obj = sec->u.items[i];
        if (req_obj->kind != CT_OBJECT)
            continue;
        bool all = true;
        struct auth_result tmp = {.ok = true};
        for (uint32_t k = 0; k < req_obj->len && all; k++) {
            const struct ct_oas_security_scheme *s =
                scheme_named(app->oas, req_obj->u.members[k].key->u.str);
            if (s)
                all = check_scheme(app, req, s, &tmp);
        }
        if (all) {
            ar->claims = tmp.claims;
            ar->have_claims = tmp.have_claims;
            goto roles;
        }
        if (!ar->message || tmp.code) {
            ar->message = tmp.message;
            ar->code = tmp.code;
        }
    }
    ar->ok = false;
    ar->status = 401;
    if (!ar->code)
        ar->code = "UNAUTHORIZED";
    if (!ar->message)
        ar->message = "authentication required";
    return;
roles:
    if (p->roles && p->roles->kind == CT_ARRAY && ar->have_claims) {
        for (uint32_t i = 0; i < p->roles->len; i++)
            if (p->roles->u.items[i]->kind == CT_STRING && ar->claims.role &&
                !strcmp(p->roles->u.items[i]->u.str, ar->claims.role))
                return;
        ar->ok = false;
        ar->status = 403;
        ar->code = "INSUFFICIENT_ROLE,FORBIDDEN";
        ar->message = afmt(req->arena, "role '%s' may not call this operation",
                           ar->claims.role ? ar->claims.role : "(none)");
    }
}

/* --- validation -------------------------------------------------------------------------------- */

static const char *const in_names[] = {"path", "query", "header", "cookie"};

static void validate_params(const struct mockd_app *app, const struct mockd_op_plan *p,
                            const struct ct_route_match *m, struct mockd_req *req,
                            struct problems *ps)
{
    const struct ct_oas_op *op = p->op;
    const char *cookies = mockd_req_header(req, "Cookie");
    for (unsigned i = 0; i < op->nparams; i++) {
        const struct ct_oas_param *prm = &op->params[i];
        struct ct_param_src src = {.query = req->query, .nquery = req->nquery};
        const char *field = afmt(req->arena, "%s.%s", in_names[prm->in], prm->name);
        if (prm->in == CT_IN_PATH) {
            for (unsigned k = 0; k < m->nparams; k++)
                if (!strcmp(m->params[k].name, prm->name)) {
                    src.path_value = m->params[k].value;
                    src.path_len = m->params[k].len;
                }
        } else if (prm->in == CT_IN_HEADER) {
            src.header = mockd_req_header(req, prm->name);
        } else if (prm->in == CT_IN_COOKIE) {
            src.header = cookie_value(req->arena, cookies, prm->name);
        }
        if (src.header)
            src.header_len = strlen(src.header);
        if (!ct_param_present(prm, &src)) {
            if (prm->required)
                add_problem(ps, field,
                            afmt(req->arena, "required %s parameter '%s' is missing",
                                 in_names[prm->in], prm->name),
                            NULL, NULL);
            continue;
        }
        struct ct_diags d;
        ct_diags_init(&d);
        struct ct_node *v = ct_param_decode(app->ds, prm, &src, req->arena, &d);
        if (!v && d.nerrors) {
            problems_from_diags(req->arena, ps, &d, field, false);
        } else if (v && v->kind == CT_STRING && v->len == 0 && prm->in == CT_IN_QUERY &&
                   prm->allow_empty) {
            /* allowEmptyValue: an empty value is accepted as given. */
        } else if (v && p->params[i]) {
            struct ct_vopts vo = {.direction = CT_DIR_REQUEST, .all_errors = true};
            if (!ct_schema_validate_opts(p->params[i], tl()->vctx, v, &vo, &d))
                problems_from_diags(req->arena, ps, &d, field, false);
        }
        ct_diags_deinit(&d);
    }
}

static bool type_matches(const char *declared, const char *got, size_t gotlen)
{
    size_t dl = strcspn(declared, ";");
    while (dl && declared[dl - 1] == ' ')
        dl--;
    if (dl == 3 && !strncmp(declared, "*/*", 3))
        return true;
    if (dl >= 2 && declared[dl - 1] == '*' && declared[dl - 2] == '/')
        return gotlen >= dl - 1 && !strncasecmp(declared, got, dl - 1);
    return gotlen == dl && !strncasecmp(declared, got, dl);
}

/* memmem, which is a GNU extension. */
static const char *find_bytes(const char *h, size_t hl, const char *n, size_t nl)
{
    if (nl == 0)
        return h;
    const char *end = h + hl;
    while ((size_t)(end - h) >= nl) {
        const char *p = memchr(h, n[0], (size_t)(end - h) - nl + 1);
        if (!p)
            return NULL;
        if (!memcmp(p, n, nl))
            return p;
        h = p + 1;
    }
    return NULL;
}

/* Multipart bodies: each part named by Content-Disposition becomes a member; file parts become
 * strings of their bytes (binary formats are not checked as text). */
static struct ct_node *multipart_decode(const struct mockd_app *app, const struct ct_node *schema,
                                        const char *ctype, struct mockd_req *req,
                                        struct problems *ps);

static void validate_body(const struct mockd_app *app, const struct mockd_op_plan *p,
                          struct mockd_req *req, struct problems *ps, unsigned *status)
{
    const struct ct_oas_op *op = p->op;
    const char *ctype = mockd_req_header(req, "Content-Type");
    if (!req->body_len) {
        if (op->body_required && p->nbody)
            add_problem(ps, "body", "request body is required", NULL, NULL);
        return;
    }
    if (!p->nbody)
        return; /* a body the operation does not describe is ignored, as servers do */
    size_t cl = ctype ? strcspn(ctype, ";") : 0;
    while (cl && ctype[cl - 1] == ' ')
        cl--;
    const struct mockd_media_plan *mp = NULL;
    for (unsigned i = 0; i < p->nbody && !mp; i++)
        if (ctype && type_matches(p->body[i].m->type, ctype, cl))
            mp = &p->body[i];
    if (!mp) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        for (unsigned i = 0; i < p->nbody; i++)
            ct_buf_printf(&b, "%s%s", i ? ", " : "", p->body[i].m->type);
        add_problem(ps, "header.Content-Type",
                    afmt(req->arena, "content type '%s' is not accepted: expected %s",
                         ctype ? ctype : "(none)", b.ptr),
                    NULL, NULL);
        ct_buf_deinit(&b);
        *status = 415;
        return;
    }
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_node *inst = NULL;
    struct ct_source *src = ct_arena_zalloc(req->arena, sizeof(*src));
    src->name = "request body";
    src->text = req->body;
    src->len = req->body_len;
    if (mp->json) {
        struct ct_parse_limits lim = {.max_depth = 128};
        inst = ct_json_parse(req->arena, src, &lim, &d);
        if (!inst) {
            for (size_t i = 0; i < d.n; i++)
                add_problem(ps, "body",
                            afmt(req->arena, "body is not valid JSON at %u:%u: %s", d.v[i].line,
                                 d.v[i].col, d.v[i].msg),
                            NULL, NULL);
            ct_diags_deinit(&d);
            *status = 400;
            return;
        }
    } else if (!strncasecmp(mp->m->type, "application/x-www-form-urlencoded", 33)) {
        inst = ct_form_decode(app->ds, mp->m->schema, req->body, req->body_len, req->arena, &d);
    } else if (!strncasecmp(mp->m->type, "multipart/", 10)) {
        inst = multipart_decode(app, mp->m->schema, ctype, req, ps);
    } else if (mp->text) {
        inst = ct_coerce_text(app->ds, mp->m->schema, req->body, req->body_len, req->arena);
    }
    if (inst && mp->schema) {
        struct ct_vopts vo = {.direction = CT_DIR_REQUEST, .all_errors = true};
        if (!ct_schema_validate_opts(mp->schema, tl()->vctx, inst, &vo, &d))
            problems_from_diags(req->arena, ps, &d, NULL, true);
    } else if (!inst && d.nerrors) {
        problems_from_diags(req->arena, ps, &d, "body", false);
    }
    ct_diags_deinit(&d);
}

static struct ct_node *multipart_decode(const struct mockd_app *app, const struct ct_node *schema,
                                        const char *ctype, struct mockd_req *req,
                                        struct problems *ps)
{
    const char *bp = ctype ? strstr(ctype, "boundary=") : NULL;
    if (!bp) {
        add_problem(ps, "header.Content-Type", "multipart body without a boundary parameter",
                    NULL, NULL);
        return NULL;
    }
    bp += 9;
    size_t bl = strcspn(bp, "; ");
    if (bl >= 2 && bp[0] == '"') {
        bp++;
        bl = strcspn(bp, "\"");
    }
    if (!bl || bl > 70) {
        add_problem(ps, "header.Content-Type", "multipart boundary is empty or too long", NULL,
                    NULL);
        return NULL;
    }
    char delim[80];
    snprintf(delim, sizeof(delim), "--%.*s", (int)bl, bp);
    size_t dl = strlen(delim);
    const struct ct_node *sc = ct_docset_deref(app->ds, schema, NULL);
    const struct ct_node *props = ct_obj_get(sc, "properties");
    const char *keys[64];
    struct ct_node *vals[64];
    uint32_t n = 0;
    const char *body = req->body, *end = req->body + req->body_len;
    const char *p = body;
    bool closed = false;
    while (p < end && n < 64) {
        const char *d = find_bytes(p, (size_t)(end - p), delim, dl);
        if (!d)
            break;
        const char *after = d + dl;
        if (after + 2 <= end && after[0] == '-' && after[1] == '-') {
            closed = true;
            break;
        }
        if (after + 2 > end || after[0] != '\r' || after[1] != '\n')
            break;
        const char *hs = after + 2;
        const char *he = find_bytes(hs, (size_t)(end - hs), "\r\n\r\n", 4);
        if (!he)
            break;
        const char *data = he + 4;
        const char *next = find_bytes(data, (size_t)(end - data), delim, dl);
        if (!next || next < data + 2)
            break;
        size_t datalen = (size_t)(next - 2 - data); /* drop the CRLF before the delimiter */
        /* name="..." from Content-Disposition */
        const char *nm = find_bytes(hs, (size_t)(he - hs), "name=\"", 6);
        if (nm && (nm == hs || nm[-1] == ' ' || nm[-1] == ';')) {
            nm += 6;
            const char *ne = memchr(nm, '"', (size_t)(he - nm));
            if (ne) {
                char *name = ct_arena_strndup(req->arena, nm, (size_t)(ne - nm));
                keys[n] = name;
                vals[n] = ct_coerce_text(app->ds, ct_obj_get(props, name), data, datalen,
                                         req->arena);
                n++;
            }
        }
        p = next;
    }
    if (!closed) {
        add_problem(ps, "body", "malformed multipart body: expected parts ending with the "
                                "closing boundary",
                    NULL, NULL);
        return NULL;
    }
    return n_obj(req->arena, keys, vals, n);
}

/* --- auth flows ----------------------------------------------------------------------------- */

/* Replace token fields wherever they appear in the answer (the envelope nests them). */
static const struct ct_node *put_tokens(struct ct_arena *a, const struct ct_node *n,
                                        const char *access, const char *refresh, unsigned ttl,
                                        int depth)
{
    if (!n || n->kind != CT_OBJECT || depth > 4)
        return n;
    const struct ct_node *o = n;
    for (uint32_t i = 0; i < n->len; i++) {
        const char *k = n->u.members[i].key->u.str;
        const struct ct_node *v = n->u.members[i].val;
        if ((!strcmp(k, "accessToken") || !strcmp(k, "access_token")) && v->kind == CT_STRING)
            o = n_set(a, o, k, n_str(a, access));
        else if ((!strcmp(k, "refreshToken") || !strcmp(k, "refresh_token")) &&
                 v->kind == CT_STRING && refresh)
            o = n_set(a, o, k, n_str(a, refresh));
        else if ((!strcmp(k, "expiresIn") || !strcmp(k, "expires_in")) && v->kind == CT_NUMBER)
            o = n_set(a, o, k, n_int(a, ttl));
        else if (v->kind == CT_OBJECT)
            o = n_set(a, o, k, (struct ct_node *)put_tokens(a, v, access, refresh, ttl, depth + 1));
    }
    return o;
}

/* Find the first string field named `name` in nested objects (user.id, user.role, ...). */
static const char *find_str(const struct ct_node *n, const char *name, int depth)
{
    if (!n || n->kind != CT_OBJECT || depth > 4)
        return NULL;
    const char *s = ct_obj_str(n, name);
    if (s)
        return s;
    for (uint32_t i = 0; i < n->len; i++) {
        s = find_str(n->u.members[i].val, name, depth + 1);
        if (s)
            return s;
    }
    return NULL;
}

/* login / refresh / logout: real tokens in, real tokens out. Returns false when the request must
 * be refused (resp filled). */
static bool auth_flow(const struct mockd_app *app, const struct mockd_op_plan *p,
                      struct mockd_req *req, struct mockd_resp *resp, const struct ct_node *body,
                      const struct ct_node **answer)
{
    if (app->auth != MOCKD_AUTH_JWT || p->role == MOCKD_ROLE_NONE)
        return true;
    struct ct_arena *a = req->arena;
    const char *sub = find_str(*answer, "id", 0);
    const char *email = find_str(*answer, "email", 0);
    const char *role = find_str(*answer, "role", 0);
    if (p->role == MOCKD_ROLE_REFRESH) {
        const char *rt = find_str(body, "refreshToken", 0);
        if (!rt)
            rt = find_str(body, "refresh_token", 0);
        struct mockd_claims c;
        enum mockd_jwt_result r =
            rt ? mockd_jwt_verify(app->jwt, rt, strlen(rt), "refresh", a, &c) : MOCKD_JWT_MALFORMED;
        if (r == MOCKD_JWT_OK && !mockd_jwt_revoke(app->jwt, c.jti, c.exp))
            r = MOCKD_JWT_REVOKED;
        if (r != MOCKD_JWT_OK) {
            mockd_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"mockd\"");
            error_answer(app, p, req, resp, 401,
                         r == MOCKD_JWT_REVOKED
                             ? "REFRESH_TOKEN_REUSED,TOKEN_REVOKED,INVALID_REFRESH_TOKEN,UNAUTHORIZED"
                             : "INVALID_REFRESH_TOKEN,TOKEN_INVALID,INVALID_TOKEN,UNAUTHORIZED",
                         r == MOCKD_JWT_REVOKED ? "the refresh token was already used"
                                                : mockd_jwt_reason(r),
                         NULL);
            return false;
        }
        sub = c.sub;
        email = c.email;
        role = c.role;
    } else if (p->role == MOCKD_ROLE_LOGOUT) {
        const char *authz = mockd_req_header(req, "Authorization");
        struct mockd_claims c;
        if (authz && !strncasecmp(authz, "Bearer ", 7) &&
            mockd_jwt_verify(app->jwt, authz + 7, strlen(authz + 7), "access", a, &c) ==
                MOCKD_JWT_OK)
            mockd_jwt_revoke(app->jwt, c.jti, c.exp);
        const char *rt = find_str(body, "refreshToken", 0);
        if (rt && mockd_jwt_verify(app->jwt, rt, strlen(rt), "refresh", a, &c) == MOCKD_JWT_OK)
            mockd_jwt_revoke(app->jwt, c.jti, c.exp);
        return true;
    } else {
        const char *be = find_str(body, "email", 0);
        if (be)
            email = be;
    }
    unsigned ttl = 0;
    char *access = mockd_jwt_mint(app->jwt, "access", sub, email, role, a, &ttl);
    char *refresh = mockd_jwt_mint(app->jwt, "refresh", sub, email, role, a, NULL);
    *answer = put_tokens(a, *answer, access, refresh, ttl, 0);
    return true;
}

static atomic_uint_fast64_t request_counter;

/* --- Server-Sent Events ----------------------------------------------------------------------- */

/* A text/event-stream answer streamed record by record: the example's records (split on blank
 * lines) when there is one, else records generated from the media type's `x-sse-data-schema`
 * ending with its `x-sse-done` terminator. Records are paced SSE_INTERVAL_MS apart. */
#define SSE_INTERVAL_MS 60

static void sse_answer(const struct mockd_app *app, const struct mockd_media_plan *mp,
                       const struct ct_node *answer, struct mockd_req *req,
                       struct mockd_resp *resp)
{
    struct ct_arena *a = req->arena;
    resp->content_type = "text/event-stream";
    mockd_resp_header(resp, "X-Accel-Buffering", "no");
    bool has_cc = false;
    for (unsigned i = 0; i < resp->nheaders; i++)
        has_cc |= !strcasecmp(resp->headers[i].name, "Cache-Control");
    if (!has_cc)
        mockd_resp_header(resp, "Cache-Control", "no-cache");
    struct mockd_chunk *c = ct_arena_zalloc(a, 64 * sizeof(*c));
    unsigned n = 0;
    if (answer && answer->kind == CT_STRING) {
        const char *s = answer->u.str, *end = s + answer->len;
        while (s < end && n < 64) {
            const char *e = strstr(s, "\n\n");
            const char *stop = e ? e + 2 : end;
            c[n].delay_ms = n ? SSE_INTERVAL_MS : 0;
            c[n].data = s;
            c[n].len = (size_t)(stop - s);
            n++;
            s = stop;
        }
    } else {
        const struct ct_node *dschema = ct_obj_get(mp->m->node, "x-sse-data-schema");
        const char *done = ct_obj_str(mp->m->node, "x-sse-done");
        for (unsigned i = 0; dschema && i < 3; i++) {
            struct ct_gen_opts go = {.seed = app->cfg->seed + i, .direction = CT_DIR_RESPONSE,
                                     .oas30 = app->oas->minor == 0, .prefer_examples = false,
                                     .cache = tl()->gen};
            const struct ct_node *g = ct_gen_instance(app->ds, dschema, &go, a, NULL);
            if (!g)
                break;
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_buf_adds(&b, "data: ");
            ct_json_emit(g, &b, false);
            ct_buf_adds(&b, "\n\n");
            c[n].delay_ms = n ? SSE_INTERVAL_MS : 0;
            c[n].data = ct_arena_strndup(a, b.ptr, b.len);
            c[n].len = b.len;
            n++;
            ct_buf_deinit(&b);
        }
        if (done) {
            c[n].delay_ms = n ? SSE_INTERVAL_MS : 0;
            c[n].data = afmt(a, "data: %s\n\n", done);
            c[n].len = strlen(c[n].data);
            n++;
        }
    }
    resp->chunks = c;
    resp->nchunks = n;
    resp->source = answer ? "example" : "generated";
}

/* A text/event-stream answer driven by a dialogue script (`on: sse` rules for the operation).
 * Returns false when no script answers the operation. */
static bool sse_from_script(const struct mockd_app *app, const struct mockd_op_plan *p,
                            struct mockd_req *req, struct mockd_resp *resp)
{
    const char *opid = p->op->operation_id;
    if (!app->dialogues || !opid || !ct_dialogue_has_sse(app->dialogues, opid))
        return false;
    struct ct_arena *a = req->arena;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    uint64_t n = atomic_fetch_add(&request_counter, 1);
    struct ct_dialogue_ctx ctx = {.seed = app->cfg->seed ^ n, .now_ms = now};
    struct ct_dialogue_conn *c = ct_dialogue_conn_new(app->dialogues, &ctx);
    const struct ct_node *body = NULL;
    if (req->body_len) {
        struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
        src->name = "request body";
        src->text = req->body;
        src->len = req->body_len;
        body = ct_json_parse(a, src, NULL, NULL);
    }
    const struct ct_dlg_action *acts;
    size_t na = ct_dialogue_sse(c, opid, body, now, &acts);
    struct mockd_chunk *chunks = ct_arena_zalloc(a, (na + 1) * sizeof(*chunks));
    unsigned nc = 0;
    for (size_t i = 0; i < na; i++) {
        if (acts[i].kind == CT_DLG_CLOSE)
            break;
        chunks[nc].delay_ms = acts[i].delay_ms;
        if (acts[i].kind == CT_DLG_DROP) {
            chunks[nc++].fail = true;
            break;
        }
        /* One record: optional id and event fields, one data line per line of text. */
        struct ct_buf b;
        ct_buf_init(&b, 0);
        if (acts[i].id)
            ct_buf_printf(&b, "id: %s\n", acts[i].id);
        if (acts[i].event)
            ct_buf_printf(&b, "event: %s\n", acts[i].event);
        const char *t = acts[i].text ? acts[i].text : "";
        for (;;) {
            const char *nl = strchr(t, '\n');
            ct_buf_adds(&b, "data: ");
            ct_buf_add(&b, t, nl ? (size_t)(nl - t) : strlen(t));
            ct_buf_addc(&b, '\n');
            if (!nl)
                break;
            t = nl + 1;
        }
        ct_buf_addc(&b, '\n');
        chunks[nc].data = ct_arena_strndup(a, b.ptr, b.len);
        chunks[nc].len = b.len;
        nc++;
        ct_buf_deinit(&b);
    }
    ct_dialogue_conn_free(c);
    resp->content_type = "text/event-stream";
    mockd_resp_header(resp, "X-Accel-Buffering", "no");
    bool has_cc = false;
    for (unsigned i = 0; i < resp->nheaders; i++)
        has_cc |= !strcasecmp(resp->headers[i].name, "Cache-Control");
    if (!has_cc)
        mockd_resp_header(resp, "Cache-Control", "no-cache");
    resp->chunks = chunks;
    resp->nchunks = nc;
    resp->source = "dialogue";
    return true;
}

/* --- CORS ---------------------------------------------------------------------------------- */

static bool origin_allowed(const struct mockd_config *cfg, const char *origin)
{
    if (!cfg->cors || !strcmp(cfg->cors, "*"))
        return true;
    if (!strcmp(cfg->cors, "none"))
        return false;
    size_t ol = strlen(origin);
    for (const char *c = cfg->cors; *c;) {
        const char *e = c + strcspn(c, ",");
        while (*c == ' ')
            c++;
        if ((size_t)(e - c) == ol && !strncmp(c, origin, ol))
            return true;
        c = *e ? e + 1 : e;
    }
    return false;
}

static const char *allow_list(struct ct_arena *a, unsigned allowed)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    static const char *const up[] = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH",
                                     "TRACE"};
    bool head = false;
    for (int i = 0; i < CT_METHOD_COUNT; i++)
        if (allowed & (1u << i)) {
            ct_buf_printf(&b, "%s%s", b.len ? ", " : "", up[i]);
            head |= i == CT_HEAD;
        }
    if ((allowed & (1u << CT_GET)) && !head)
        ct_buf_adds(&b, ", HEAD");
    if (!(allowed & (1u << CT_OPTIONS)))
        ct_buf_adds(&b, b.len ? ", OPTIONS" : "OPTIONS");
    char *s = ct_arena_strdup(a, ct_buf_cstr(&b));
    ct_buf_deinit(&b);
    return s;
}

/* --- the handler ------------------------------------------------------------------------------ */

static void handle(const struct mockd_app *app, struct mockd_req *req, struct mockd_resp *resp,
                   const struct mockd_op_plan **plan_out);

void mockd_handle(const struct mockd_app *app, struct mockd_req *req, struct mockd_resp *resp)
{
    const struct mockd_op_plan *p = NULL;
    handle(app, req, resp, &p);
    if (p)
        mockd_layers_finish(app, p, req, resp);
}

static void handle(const struct mockd_app *app, struct mockd_req *req, struct mockd_resp *resp,
                   const struct mockd_op_plan **plan_out)
{
    memset(resp, 0, sizeof(*resp));
    const struct mockd_config *cfg = app->cfg;
    struct ct_arena *a = req->arena;

    const char *rid = mockd_req_header(req, "X-Request-ID");
    if (!rid || !request_id_ok(rid)) {
        char *u = ct_arena_alloc(a, 37);
        make_uuid(u);
        rid = u;
    }
    resp->request_id = rid;
    mockd_resp_header(resp, "X-Request-ID", rid);

    const char *origin = mockd_req_header(req, "Origin");
    bool cors = origin && origin_allowed(cfg, origin);
    if (cors) {
        mockd_resp_header(resp, "Access-Control-Allow-Origin", origin);
        mockd_resp_header(resp, "Access-Control-Allow-Credentials", "true");
        mockd_resp_header(resp, "Vary", "Origin");
        mockd_resp_header(resp, "Access-Control-Expose-Headers",
                          "X-Request-ID, X-Mockd-Validation, X-Mockd-Override, X-Mockd-Drift, "
                          "X-Mockd-Proxy, X-Mockd-State-Warning, Retry-After, Location, ETag, "
                          "Last-Modified, Cache-Control, X-RateLimit-Limit, "
                          "X-RateLimit-Remaining, X-RateLimit-Reset");
    }

    if (mockd_layers_route(app, req, resp))
        return;

    int method = ct_http_method_parse(req->method, strlen(req->method));
    bool head = method == CT_HEAD;

    /* Built-in routes: the loaded document itself. A spec that declares these paths too is
     * answered from the spec when the client asks for it with a Prefer header. */
    if ((method == CT_GET || head) && !mockd_req_header(req, "Prefer")) {
        if (req->path_len == 13 && !memcmp(req->path, "/openapi.json", 13)) {
            resp->status = 200;
            resp->content_type = "application/json";
            resp->body = mockd_app_spec_text(app, false, &resp->body_len);
            resp->source = "builtin";
            return;
        }
        if ((req->path_len == 13 && !memcmp(req->path, "/openapi.yaml", 13)) ||
            (req->path_len == 12 && !memcmp(req->path, "/openapi.yml", 12))) {
            resp->status = 200;
            resp->content_type = "application/yaml";
            resp->body = mockd_app_spec_text(app, true, &resp->body_len);
            resp->source = "builtin";
            return;
        }
    }

    struct ct_route_match m;
    int r = method < 0 ? -1 : ct_router_match(app->router, (enum ct_http_method)method, req->path,
                                               req->path_len, &m);
    if (r == 0 && head) {
        /* HEAD is answered as GET without a body when the spec has no HEAD. */
        r = ct_router_match(app->router, CT_GET, req->path, req->path_len, &m);
    }
    if (method < 0) {
        /* An unknown method on a known path is a 405; elsewhere a 404. */
        struct ct_route_match any;
        if (ct_router_match(app->router, CT_GET, req->path, req->path_len, &any) >= 0) {
            r = 0;
            m = any;
            m.op = NULL;
        }
    }
    if (r < 0) {
        const char *near = ct_router_near(app->router, req->path, req->path_len);
        char *detail = near ? afmt(a, "no operation of the spec matches %s %.*s (did you mean %s?)",
                                   req->method, (int)req->path_len, req->path, near)
                            : afmt(a, "no operation of the spec matches %s %.*s", req->method,
                                   (int)req->path_len, req->path);
        problem_json(req, resp, 404, "not-found", detail, NULL);
        return;
    }
    if (r == 0) {
        const char *allow = allow_list(a, m.allowed);
        if (method == CT_OPTIONS) {
            /* CORS preflight or a plain OPTIONS: list what the path supports. */
            resp->status = 204;
            mockd_resp_header(resp, "Allow", allow);
            if (cors) {
                mockd_resp_header(resp, "Access-Control-Allow-Methods", allow);
                const char *rh = mockd_req_header(req, "Access-Control-Request-Headers");
                mockd_resp_header(resp, "Access-Control-Allow-Headers",
                                  rh ? rh : "Authorization, Content-Type, X-Request-ID, Prefer");
                mockd_resp_header(resp, "Access-Control-Max-Age", "600");
            }
            return;
        }
        mockd_resp_header(resp, "Allow", allow);
        problem_json(req, resp, 405, "method-not-allowed",
                     afmt(a, "%s is not an operation of %.*s: allowed %s", req->method,
                          (int)req->path_len, req->path, allow),
                     NULL);
        return;
    }
    const struct mockd_op_plan *p = &app->plans[m.op - app->oas->ops];
    resp->operation_id = m.op->operation_id;
    resp->source = "error";

    if (req->body_too_big) {
        error_answer(app, p, req, resp, 413, "PAYLOAD_TOO_LARGE,CONTENT_TOO_LARGE,BAD_REQUEST",
                     afmt(a, "request body is larger than %zu bytes", cfg->max_body), NULL);
        return;
    }

    struct auth_result ar;
    check_security(app, p, req, &ar);
    if (!ar.ok) {
        if (ar.status == 401)
            mockd_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"mockd\"");
        error_answer(app, p, req, resp, ar.status, ar.code, ar.message, NULL);
        return;
    }

    struct problems *ps = ct_arena_zalloc(a, sizeof(*ps));
    unsigned bad_status = 0;
    if (cfg->validate != MOCKD_VALIDATE_OFF) {
        validate_params(app, p, &m, req, ps);
        validate_body(app, p, req, ps, &bad_status);
    }
    resp->nerrors = ps->total;
    if (ps->total) {
        if (cfg->validate == MOCKD_VALIDATE_ENFORCE) {
            unsigned st = bad_status ? bad_status : (find_resp(p, 422) && !find_resp(p, 400) ? 422
                                                     : find_resp(p, 400)                    ? 400
                                                     : find_resp(p, 422)                    ? 422
                                                                                            : 400);
            if (bad_status == 0 && find_resp(p, 422) && find_resp(p, 422)->code == 422)
                st = 422;
            error_answer(app, p, req, resp, st,
                         st == 415   ? "UNSUPPORTED_MEDIA_TYPE,BAD_REQUEST"
                         : st == 400 ? "BAD_REQUEST,VALIDATION_ERROR,INVALID_REQUEST"
                                     : "VALIDATION_ERROR,UNPROCESSABLE_ENTITY,BAD_REQUEST",
                         afmt(a, "the request does not match the contract (%u problem%s)",
                              ps->total, ps->total == 1 ? "" : "s"),
                         ps);
            return;
        }
        mockd_resp_header(resp, "X-Mockd-Validation",
                          afmt(a, "failed; %u problem%s; first: %s: %s", ps->total,
                               ps->total == 1 ? "" : "s", ps->v[0].field, ps->v[0].message));
    }

    /* The test-double layers (override, fault, state, proxy) may answer instead of the spec. */
    *plan_out = p;
    if (mockd_layers_answer(app, p, &m, req, resp))
        return;

    /* Choose the answer. */
    resp->source = "example";
    struct prefer pf;
    parse_prefer(mockd_req_header(req, "Prefer"), &pf);
    const struct mockd_resp_plan *rp = NULL;
    if (pf.code) {
        rp = find_resp(p, pf.code);
        if (!rp) {
            problem_json(req, resp, 400, "prefer",
                         afmt(a, "Prefer: code=%u: the operation documents no such response",
                              pf.code),
                         NULL);
            return;
        }
    } else if (p->dflt >= 0) {
        rp = &p->resps[p->dflt];
    }
    if (!rp) {
        problem_json(req, resp, 501, "no-response",
                     "the operation documents no response to answer with", NULL);
        return;
    }
    resp->status = pf.code ? pf.code : rp->code ? rp->code : rp->klass ? rp->klass * 100 : 200;
    declared_headers(app, req, resp, rp);
    if (rp->nmedia == 0 || resp->status == 204 || resp->status == 304)
        return;
    const struct mockd_media_plan *mp = negotiate(rp, mockd_req_header(req, "Accept"));
    if (!mp) {
        problem_json(req, resp, 406, "not-acceptable",
                     afmt(a, "none of the response's media types is acceptable (Accept: %s)",
                          mockd_req_header(req, "Accept")),
                     NULL);
        return;
    }
    const struct ct_node *answer = mockd_media_body(app, mp);
    if (pf.example) {
        const struct ct_node *exs = mp->m->examples;
        const struct ct_node *ex = exs ? ct_obj_getn(exs, pf.example, pf.example_len) : NULL;
        ex = ex ? ct_docset_deref(app->ds, ex, NULL) : NULL;
        if (!ex || !ct_obj_get(ex, "value")) {
            problem_json(req, resp, 400, "prefer",
                         afmt(a, "Prefer: example=%.*s: the response has no such example",
                              (int)pf.example_len, pf.example),
                         NULL);
            return;
        }
        answer = ct_obj_get(ex, "value");
    } else if (pf.dynamic && mp->m->schema) {
        uint64_t n = atomic_fetch_add(&request_counter, 1);
        struct ct_gen_opts go = {.seed = cfg->seed ^ (n * 0x9E3779B97F4A7C15ULL),
                                 .direction = CT_DIR_RESPONSE, .oas30 = app->oas->minor == 0,
                                 .cache = tl()->gen};
        const struct ct_node *g = ct_gen_instance(app->ds, mp->m->schema, &go, a, NULL);
        if (g) {
            answer = g;
            resp->source = "generated";
        }
    }
    if (!answer) {
        resp->content_type = mp->m->type;
        return; /* a media type without schema or example: an empty body */
    }
    if (p->role != MOCKD_ROLE_NONE && resp->status < 300) {
        const struct ct_node *body = NULL;
        if (req->body_len && mockd_req_header(req, "Content-Type") &&
            mockd_media_is_json(mockd_req_header(req, "Content-Type"))) {
            struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
            src->name = "request body";
            src->text = req->body;
            src->len = req->body_len;
            body = ct_json_parse(a, src, NULL, NULL);
        }
        if (!auth_flow(app, p, req, resp, body, &answer))
            return;
    }
    if (mp->sse) {
        if (resp->status >= 300 || !sse_from_script(app, p, req, resp))
            sse_answer(app, mp, answer, req, resp);
        return;
    }
    size_t blen = 0;
    const char *bytes = answer && answer == mp->body ? mockd_media_bytes(app, mp, &blen) : NULL;
    if (bytes) {
        resp->body = bytes;
        resp->body_len = blen;
        resp->content_type = mp->m->type;
    } else {
        set_body_node(req, resp, answer, mp->m->type);
    }
    if (!strncmp(resp->content_type, "*/*", 3))
        resp->content_type = mp->json ? "application/json" : "application/octet-stream";
}

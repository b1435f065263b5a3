/* exec.c - running one scenario: variables and templates, building and sending requests,
 * automatic contract checks, captures, assertions, polling, groups, setup and teardown.
 *
 * Flow: a failing setup step skips the rest of setup and every step; a failing step skips the
 * steps after it; teardown always runs in full. A step's exchange is checked against the
 * contract before sending (unless `send_invalid`) and after receiving, whether or not the
 * scenario asserts anything. Failures are diagnostics located in the scenario (assertions,
 * captures, variables) or in the spec (schema keywords), rendered into the step's result.
 *
 * Memory: each scenario run has an arena for variable values (captures are deep-copied into
 * it); each step attempt has a scratch arena for the request, the response and everything
 * parsed from them, reset between attempts. WebSocket steps are parsed and checked but not run
 * yet: they are reported as skipped with the reason. */
#include "runner.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/fs.h"
#include "openapi/router.h"
#include "schema/schema.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define STEP_MAX_DIAGS 40

struct var {
    const char *name;
    const struct ct_node *val;
};

/* One scenario run. */
struct sctx {
    struct runner_worker *w;
    const struct runner_env *env;
    const struct runner_file *f;
    const struct ct_scen *s;
    struct runner_scen_result *r;
    struct var *vars;
    size_t nvars, capvars;
    struct ct_arena varena; /* variable values */
    struct ct_arena sarena; /* one step attempt */
    struct ct_diags *d;     /* the current step's diagnostics */
    bool unreachable;
};

/* --- nodes ---------------------------------------------------------------------------------- */

static struct ct_node *mk(struct ct_arena *a, enum ct_kind k)
{
    struct ct_node *n = ct_arena_zalloc(a, sizeof(*n));
    n->kind = (uint8_t)k;
    return n;
}

static struct ct_node *mk_str(struct ct_arena *a, const char *s, size_t len)
{
    struct ct_node *n = mk(a, CT_STRING);
    n->u.str = ct_arena_strndup(a, s, len);
    n->len = (uint32_t)len;
    return n;
}

static struct ct_node *mk_int(struct ct_arena *a, long long v)
{
    char buf[32];
    int l = snprintf(buf, sizeof(buf), "%lld", v);
    struct ct_node *n = mk(a, CT_NUMBER);
    n->u.text = ct_arena_strndup(a, buf, (size_t)l);
    n->len = (uint32_t)l;
    n->num = (double)v;
    n->flags = CT_NF_INT | CT_NF_EXACT | (v < 0 ? CT_NF_NEG : 0);
    return n;
}

/* A number from text (a template that produced "12"); NULL when it is not a JSON number. */
static const struct ct_node *num_from_text(struct ct_arena *a, const char *s, size_t len)
{
    struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
    src->name = "<value>";
    src->text = ct_arena_strndup(a, s, len);
    src->len = len;
    struct ct_diags tmp;
    ct_diags_init(&tmp);
    const struct ct_node *n = ct_json_parse(a, src, NULL, &tmp);
    ct_diags_deinit(&tmp);
    return n && n->kind == CT_NUMBER ? n : NULL;
}

static struct ct_node *copy_node(struct ct_arena *a, const struct ct_node *n)
{
    struct ct_node *c = ct_arena_alloc(a, sizeof(*c));
    ct_node_copy(c, n);
    c->src = NULL; /* the source may be a response body that is about to go */
    c->line = c->col = 0;
    switch (n->kind) {
    case CT_STRING:
        c->u.str = ct_arena_strndup(a, n->u.str, n->len);
        break;
    case CT_NUMBER:
        c->u.text = ct_arena_strndup(a, n->u.text, n->len);
        break;
    case CT_ARRAY:
        c->u.items = ct_arena_alloc(a, (n->len ? n->len : 1) * sizeof(*c->u.items));
        for (uint32_t i = 0; i < n->len; i++)
            c->u.items[i] = copy_node(a, n->u.items[i]);
        break;
    case CT_OBJECT:
        c->flags &= (uint8_t)~CT_NF_INDEXED;
        c->u.members = ct_arena_alloc(a, (n->len ? n->len : 1) * sizeof(*c->u.members));
        for (uint32_t i = 0; i < n->len; i++) {
            c->u.members[i].key = copy_node(a, n->u.members[i].key);
            c->u.members[i].val = copy_node(a, n->u.members[i].val);
        }
        break;
    default:
        break;
    }
    return c;
}

/* Text of a scalar as it goes on the wire; containers as JSON. */
static void node_text(struct ct_buf *out, const struct ct_node *n)
{
    switch (n->kind) {
    case CT_STRING:
        ct_buf_add(out, n->u.str, n->len);
        break;
    case CT_NUMBER:
        ct_buf_add(out, n->u.text, n->len);
        break;
    case CT_BOOL:
        ct_buf_adds(out, n->flags & CT_NF_TRUE ? "true" : "false");
        break;
    case CT_NULL:
        ct_buf_adds(out, "null");
        break;
    default:
        ct_json_emit(n, out, false);
        break;
    }
}

static const char *node_cstr(struct ct_arena *a, const struct ct_node *n)
{
    if (n->kind == CT_STRING)
        return n->u.str;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    node_text(&b, n);
    const char *s = ct_arena_strndup(a, b.ptr ? b.ptr : "", b.len);
    ct_buf_deinit(&b);
    return s;
}

/* A value for messages: strings quoted, containers as compact JSON, cut at 160 bytes. */
static const char *show(struct ct_arena *a, const struct ct_node *n)
{
    if (!n)
        return "nothing";
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (n->kind == CT_STRING) {
        ct_buf_addc(&b, '\'');
        ct_buf_add(&b, n->u.str, n->len);
        ct_buf_addc(&b, '\'');
    } else {
        ct_json_emit(n, &b, false);
    }
    if (b.len > 160) {
        size_t cut = 157;
        while (cut > 0 && ((unsigned char)b.ptr[cut] & 0xC0) == 0x80)
            cut--;
        b.len = cut;
        ct_buf_adds(&b, "...");
    }
    const char *s = ct_arena_strndup(a, b.ptr ? b.ptr : "", b.len);
    ct_buf_deinit(&b);
    return s;
}

/* Follow a pointer from ct_scen_path_parse: "-1" on an array counts from the end. */
static const struct ct_node *walk(const struct ct_node *n, const char *ptr)
{
    const char *p = ptr;
    char key[256];
    while (n && *p) {
        if (*p != '/')
            return NULL;
        p++;
        size_t k = 0;
        while (*p && *p != '/' && k < sizeof(key) - 1) {
            if (p[0] == '~' && p[1] == '1') {
                key[k++] = '/';
                p += 2;
            } else if (p[0] == '~' && p[1] == '0') {
                key[k++] = '~';
                p += 2;
            } else {
                key[k++] = *p++;
            }
        }
        key[k] = '\0';
        if (n->kind == CT_OBJECT) {
            n = ct_obj_getn(n, key, k);
        } else if (n->kind == CT_ARRAY) {
            char *end;
            long idx = strtol(key, &end, 10);
            if (!k || *end)
                return NULL;
            if (idx < 0)
                idx += (long)n->len;
            n = idx >= 0 && idx < (long)n->len ? n->u.items[idx] : NULL;
        } else {
            return NULL;
        }
    }
    return n;
}

/* --- diagnostics ---------------------------------------------------------------------------- */

static struct ct_diag *fail(struct sctx *x, int code, const struct ct_node *at, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

static struct ct_diag *fail(struct sctx *x, int code, const struct ct_node *at, const char *fmt,
                            ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ct_diags_add(x->d, CT_SEV_ERROR, code, at ? at->src : NULL, at ? at->line : 0,
                        at ? at->col : 0, "%s", msg);
}

/* --- variables ------------------------------------------------------------------------------ */

static const struct ct_node *var_get(struct sctx *x, const char *name, size_t len)
{
    for (size_t i = x->nvars; i-- > 0;)
        if (strlen(x->vars[i].name) == len && !memcmp(x->vars[i].name, name, len))
            return x->vars[i].val;
    return NULL;
}

/* Set a variable; the value is copied unless `keep` (already long-lived). */
static void var_set(struct sctx *x, const char *name, const struct ct_node *val, bool keep)
{
    const struct ct_node *v = keep ? val : copy_node(&x->varena, val);
    for (size_t i = 0; i < x->nvars; i++)
        if (!strcmp(x->vars[i].name, name)) {
            x->vars[i].val = v;
            return;
        }
    x->vars = ct_xgrow(x->vars, &x->capvars, x->nvars + 1, sizeof(*x->vars));
    x->vars[x->nvars].name = name;
    x->vars[x->nvars].val = v;
    x->nvars++;
}

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64*: uuids for test data, not for secrets. */
    uint64_t v = *s;
    v ^= v >> 12;
    v ^= v << 25;
    v ^= v >> 27;
    *s = v;
    return v * 2685821657736338717ull;
}

static const struct ct_node *run_value(struct sctx *x, const struct ct_var_ref *ref,
                                       struct ct_arena *a)
{
    char buf[64];
#define IS(lit) (ref->namelen == sizeof(lit) - 1 && !memcmp(ref->name, lit, sizeof(lit) - 1))
    if (IS("id"))
        return mk_str(a, x->env->run_id, strlen(x->env->run_id));
    if (IS("uuid")) {
        uint64_t h = next_rand(&x->w->rng), l = next_rand(&x->w->rng);
        h = (h & 0xFFFFFFFFFFFF0FFFull) | 0x4000ull;
        l = (l & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
        int n = snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", (unsigned)(h >> 32),
                         (unsigned)((h >> 16) & 0xFFFF), (unsigned)(h & 0xFFFF),
                         (unsigned)(l >> 48), (unsigned long long)(l & 0xFFFFFFFFFFFFull));
        return mk_str(a, buf, (size_t)n);
    }
    if (IS("now")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ts.tv_nsec / 1000000);
        return mk_str(a, buf, n);
    }
    if (IS("epoch"))
        return mk_int(a, (long long)time(NULL));
    if (IS("epoch_ms")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return mk_int(a, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    }
    if (IS("target"))
        return mk_str(a, x->env->base_url, strlen(x->env->base_url));
    if (IS("scenario"))
        return mk_str(a, x->s->name, strlen(x->s->name));
#undef IS
    return NULL;
}

/* The value of one ${...}; NULL (with a diagnostic at `at`) when unset. */
static const struct ct_node *resolve_ref(struct sctx *x, const char *expr, size_t len,
                                         const struct ct_node *at, struct ct_arena *a)
{
    struct ct_var_ref ref;
    const char *e;
    if (!ct_var_ref_parse(expr, len, &ref, &e)) {
        fail(x, CT_E_SCENARIO, at, "'${%.*s}': %s", (int)len, expr, e);
        return NULL;
    }
    if (ref.ns == CT_VAR_RUN) {
        const struct ct_node *v = run_value(x, &ref, a);
        if (!v)
            fail(x, CT_E_SCENARIO, at, "unknown run value 'run.%.*s'", (int)ref.namelen, ref.name);
        return v;
    }
    if (ref.ns == CT_VAR_ENV) {
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)ref.namelen, ref.name);
        const char *v = getenv(name);
        if (v)
            return mk_str(a, v, strlen(v));
        if (ref.has_default)
            return mk_str(a, ref.def, ref.deflen);
        ct_diag_set_hint(fail(x, CT_E_SCENARIO, at, "environment variable '%s' is not set", name),
                         "set it, or give a default: '${env.%s:-value}'", name);
        return NULL;
    }
    const struct ct_node *v = var_get(x, ref.name, ref.namelen);
    if (!v) {
        ct_diag_set_hint(fail(x, CT_E_SCENARIO, at, "variable '%.*s' is not set", (int)ref.namelen,
                              ref.name),
                         "the step that captures it did not run, or failed before capturing");
        return NULL;
    }
    if (ref.path) {
        struct ct_buf ptr;
        ct_buf_init(&ptr, 0);
        size_t eo;
        const struct ct_node *sub = NULL;
        if (ct_scen_path_parse(ref.path, ref.pathlen, &ptr, &e, &eo))
            sub = walk(v, ct_buf_cstr(&ptr));
        ct_buf_deinit(&ptr);
        if (!sub)
            fail(x, CT_E_SCENARIO, at, "'${%.*s}': variable '%.*s' has no '%.*s' (its value is %s)",
                 (int)len, expr, (int)ref.namelen, ref.name, (int)ref.pathlen, ref.path,
                 show(a, v));
        return sub;
    }
    return v;
}

/* Interpolate a template value into `a`. Returns NULL (with diagnostics) when a variable is
 * missing; returns `n` itself when it holds no templates. */
static const struct ct_node *interp(struct sctx *x, const struct ct_node *n, struct ct_arena *a)
{
    if (!n)
        return NULL;
    if (n->kind == CT_STRING) {
        if (!memchr(n->u.str, '$', n->len))
            return n;
        size_t pos = 0;
        struct ct_tpl_part part;
        int r;
        /* A string that is exactly one reference keeps the value's type. */
        if (ct_tpl_next(n->u.str, n->len, &pos, &part) > 0 && part.var && pos == n->len)
            return resolve_ref(x, part.ptr, part.len, n, a);
        struct ct_buf b;
        ct_buf_init(&b, 0);
        pos = 0;
        bool ok = true;
        while ((r = ct_tpl_next(n->u.str, n->len, &pos, &part)) > 0) {
            if (!part.var) {
                ct_buf_add(&b, part.ptr, part.len);
                continue;
            }
            const struct ct_node *v = resolve_ref(x, part.ptr, part.len, n, a);
            if (!v)
                ok = false;
            else
                node_text(&b, v);
        }
        struct ct_node *out = ok ? mk_str(a, b.ptr ? b.ptr : "", b.len) : NULL;
        if (out) {
            out->src = n->src;
            out->line = n->line;
            out->col = n->col;
        }
        ct_buf_deinit(&b);
        return out;
    }
    if (n->kind == CT_ARRAY) {
        struct ct_node **items = NULL;
        bool ok = true;
        for (uint32_t i = 0; i < n->len; i++) {
            const struct ct_node *v = interp(x, n->u.items[i], a);
            if (!v) {
                ok = false;
                continue;
            }
            if (v != n->u.items[i] && !items) {
                items = ct_arena_alloc(a, n->len * sizeof(*items));
                memcpy(items, n->u.items, n->len * sizeof(*items));
            }
            if (items)
                items[i] = (struct ct_node *)v;
        }
        if (!ok)
            return NULL;
        if (!items)
            return n;
        struct ct_node *out = ct_arena_alloc(a, sizeof(*out));
        ct_node_copy(out, n);
        out->u.items = items;
        return out;
    }
    if (n->kind == CT_OBJECT) {
        struct ct_member *mem = NULL;
        bool ok = true;
        for (uint32_t i = 0; i < n->len; i++) {
            const struct ct_node *k = interp(x, n->u.members[i].key, a);
            const struct ct_node *v = interp(x, n->u.members[i].val, a);
            if (!k || !v || k->kind != CT_STRING) {
                ok = false;
                continue;
            }
            if ((k != n->u.members[i].key || v != n->u.members[i].val) && !mem) {
                mem = ct_arena_alloc(a, n->len * sizeof(*mem));
                memcpy(mem, n->u.members, n->len * sizeof(*mem));
            }
            if (mem) {
                mem[i].key = (struct ct_node *)k;
                mem[i].val = (struct ct_node *)v;
            }
        }
        if (!ok)
            return NULL;
        if (!mem)
            return n;
        struct ct_node *out = ct_arena_alloc(a, sizeof(*out));
        ct_node_copy(out, n);
        out->flags &= (uint8_t)~CT_NF_INDEXED;
        out->u.members = mem;
        return out;
    }
    return n;
}

static const char *interp_str(struct sctx *x, const struct ct_node *n, struct ct_arena *a)
{
    const struct ct_node *v = interp(x, n, a);
    return v ? node_cstr(a, v) : NULL;
}

static bool init_vars(struct sctx *x)
{
    const struct runner_file *f = x->f;
    bool ok = true;
    /* Variable files may read the environment and run values: "${env.PS_EMAIL:-demo}". */
    for (size_t i = 0; i < f->nvars; i++) {
        const struct ct_node *v = interp(x, f->vars[i].val, &x->varena);
        if (!v)
            ok = false;
        else
            var_set(x, f->vars[i].name, v, true);
    }
    const struct runner_opts *o = x->env->o;
    for (unsigned i = 0; i < o->nvars; i++) {
        const char *eq = strchr(o->vars[i], '=');
        const char *name = ct_arena_strndup(&x->varena, o->vars[i], (size_t)(eq - o->vars[i]));
        var_set(x, name, mk_str(&x->varena, eq + 1, strlen(eq + 1)), true);
    }
    const struct ct_node *vars = x->s->vars;
    for (uint32_t i = 0; vars && i < vars->len; i++) {
        const char *name = vars->u.members[i].key->u.str;
        bool overridden = false;
        for (unsigned j = 0; j < o->nvars && !overridden; j++) {
            size_t nl = strlen(name);
            overridden = !strncmp(o->vars[j], name, nl) && o->vars[j][nl] == '=';
        }
        if (overridden)
            continue;
        const struct ct_node *v = interp(x, vars->u.members[i].val, &x->varena);
        if (!v)
            ok = false;
        else
            var_set(x, name, v, true);
    }
    return ok;
}

/* --- building requests ---------------------------------------------------------------------- */

struct request {
    const struct ct_oas_op *op;
    const char *method; /* upper case */
    struct ct_buf url;
    const char **headers;
    size_t nheaders, capheaders;
    const char *body;
    size_t body_len;
    struct runner_http_part *parts;
    size_t nparts;
    const char *content_type;
    struct runner_req_view view;
    const char *path_shown; /* for reports: path and query */
};

static void add_header(struct sctx *x, struct request *rq, const char *name, const char *value)
{
    /* A later header of the same name replaces an earlier one. */
    size_t nl = strlen(name);
    const char *line = ct_arena_alloc(&x->sarena, nl + strlen(value) + 3);
    snprintf((char *)line, nl + strlen(value) + 3, "%s: %s", name, value);
    for (size_t i = 0; i < rq->nheaders; i++)
        if (!strncasecmp(rq->headers[i], name, nl) && rq->headers[i][nl] == ':') {
            rq->headers[i] = line;
            return;
        }
    if (rq->nheaders == rq->capheaders) {
        size_t cap = rq->capheaders ? rq->capheaders * 2 : 16;
        const char **nh = ct_arena_alloc(&x->sarena, cap * sizeof(char *));
        if (rq->nheaders)
            memcpy(nh, rq->headers, rq->nheaders * sizeof(char *));
        rq->headers = nh;
        rq->capheaders = cap;
    }
    rq->headers[rq->nheaders++] = line;
}

static bool has_header(const struct request *rq, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < rq->nheaders; i++)
        if (!strncasecmp(rq->headers[i], name, nl) && rq->headers[i][nl] == ':')
            return true;
    return false;
}

static void add_query(struct ct_buf *q, const char *name, const struct ct_node *v, bool explode,
                      const char *style)
{
    struct ct_buf t;
    ct_buf_init(&t, 0);
    if (v->kind == CT_ARRAY) {
        if (explode) {
            for (uint32_t i = 0; i < v->len; i++) {
                ct_buf_addc(q, q->len ? '&' : '?');
                runner_url_encode(q, name, strlen(name), true);
                ct_buf_addc(q, '=');
                ct_buf_deinit(&t);
                ct_buf_init(&t, 0);
                node_text(&t, v->u.items[i]);
                runner_url_encode(q, t.ptr ? t.ptr : "", t.len, true);
            }
        } else {
            const char *sep = style && !strcmp(style, "pipeDelimited")    ? "|"
                              : style && !strcmp(style, "spaceDelimited") ? " "
                                                                          : ",";
            ct_buf_addc(q, q->len ? '&' : '?');
            runner_url_encode(q, name, strlen(name), true);
            ct_buf_addc(q, '=');
            for (uint32_t i = 0; i < v->len; i++) {
                if (i)
                    ct_buf_adds(&t, sep);
                node_text(&t, v->u.items[i]);
            }
            runner_url_encode(q, t.ptr ? t.ptr : "", t.len, true);
        }
    } else if (v->kind == CT_OBJECT) {
        bool deep = style && !strcmp(style, "deepObject");
        for (uint32_t i = 0; i < v->len; i++) {
            ct_buf_addc(q, q->len ? '&' : '?');
            const char *k = v->u.members[i].key->u.str;
            if (deep) {
                runner_url_encode(q, name, strlen(name), true);
                ct_buf_adds(q, "%5B");
                runner_url_encode(q, k, strlen(k), true);
                ct_buf_adds(q, "%5D");
            } else {
                runner_url_encode(q, k, strlen(k), true);
            }
            ct_buf_addc(q, '=');
            ct_buf_deinit(&t);
            ct_buf_init(&t, 0);
            node_text(&t, v->u.members[i].val);
            runner_url_encode(q, t.ptr ? t.ptr : "", t.len, true);
        }
    } else {
        ct_buf_addc(q, q->len ? '&' : '?');
        runner_url_encode(q, name, strlen(name), true);
        ct_buf_addc(q, '=');
        node_text(&t, v);
        runner_url_encode(q, t.ptr ? t.ptr : "", t.len, true);
    }
    ct_buf_deinit(&t);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                               : -1;
}

static void url_decode(struct ct_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            ct_buf_addc(out, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            ct_buf_addc(out, s[i]);
        }
    }
}

static const char *upper(struct ct_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *u = ct_arena_alloc(a, n + 1);
    for (size_t i = 0; i <= n; i++)
        u[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
    return u;
}

static char *resolve_file(const struct runner_file *f, const char *path)
{
    return path[0] == '/' ? ct_xstrdup(path) : ct_xasprintf("%s/%s", f->dir, path);
}

/* Build the request of an HTTP step. Returns false (with diagnostics) when a variable is
 * missing, a file cannot be read or no operation matches. */
static bool build_request(struct sctx *x, const struct ct_scen_step *st, struct request *rq)
{
    const struct ct_scen_http *h = &st->http;
    struct ct_arena *a = &x->sarena;
    const struct ct_oas *oas = runner_contract_oas(x->env->contract);
    memset(rq, 0, sizeof(*rq));
    ct_buf_init(&rq->url, 0);
    bool ok = true;
    const struct ct_node *params = interp(x, h->params, a);
    const struct ct_node *query = interp(x, h->query, a);
    if ((h->params && !params) || (h->query && !query))
        ok = false;
    struct ct_buf path, q;
    ct_buf_init(&path, 0);
    ct_buf_init(&q, 0);
    if (h->op_id) {
        rq->op = ct_oas_find_op(oas, h->op_id);
        if (!rq->op) {
            fail(x, CT_E_SCENARIO, h->op_at, "unknown operationId '%s'", h->op_id);
            ct_buf_deinit(&path);
            ct_buf_deinit(&q);
            return false;
        }
        rq->method = upper(a, ct_http_method_name(rq->op->method));
        const char *base = oas->nservers ? oas->servers[0].base_path : "";
        ct_buf_adds(&path, base && strcmp(base, "/") ? base : "");
        /* Path template: {name} from params, percent-encoded as a segment. */
        for (const char *p = rq->op->path; *p;) {
            if (*p == '{') {
                const char *close = strchr(p, '}');
                if (!close) {
                    ct_buf_add(&path, p, strlen(p));
                    break;
                }
                char name[128];
                snprintf(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
                const struct ct_node *v = params ? ct_obj_get(params, name) : NULL;
                if (v) {
                    struct ct_buf t;
                    ct_buf_init(&t, 0);
                    node_text(&t, v);
                    runner_url_encode(&path, t.ptr ? t.ptr : "", t.len, false);
                    ct_buf_deinit(&t);
                } else {
                    runner_url_encode(&path, p, (size_t)(close - p + 1), false);
                }
                p = close + 1;
            } else {
                ct_buf_addc(&path, *p++);
            }
        }
        for (unsigned i = 0; params && i < rq->op->nparams; i++) {
            const struct ct_oas_param *pp = &rq->op->params[i];
            const struct ct_node *v = ct_obj_get(params, pp->name);
            if (!v)
                continue;
            if (pp->in == CT_IN_QUERY)
                add_query(&q, pp->name, v, pp->explode, pp->style);
        }
    } else {
        rq->method = upper(a, ct_http_method_name((enum ct_http_method)h->method));
        const char *p = interp_str(x, h->path, a);
        if (!p) {
            ok = false;
        } else {
            const char *qm = strchr(p, '?');
            ct_buf_add(&path, p, qm ? (size_t)(qm - p) : strlen(p));
            if (qm)
                ct_buf_adds(&q, qm);
            struct ct_route_match m;
            const char *ps = ct_buf_cstr(&path);
            if (ct_router_match(runner_contract_router(x->env->contract),
                                (enum ct_http_method)h->method, ps, path.len, &m) == 1) {
                rq->op = m.op;
                /* The path's values are the operation's path parameters, for the check. */
                struct ct_node *pm = mk(a, CT_OBJECT);
                pm->u.members = ct_arena_zalloc(a, (m.nparams + 1) * sizeof(struct ct_member));
                for (unsigned i = 0; i < m.nparams; i++) {
                    struct ct_buf dec;
                    ct_buf_init(&dec, 0);
                    url_decode(&dec, m.params[i].value, m.params[i].len);
                    pm->u.members[i].key = mk_str(a, m.params[i].name, strlen(m.params[i].name));
                    pm->u.members[i].val = mk_str(a, dec.ptr ? dec.ptr : "", dec.len);
                    ct_buf_deinit(&dec);
                }
                pm->len = m.nparams;
                params = pm;
            } else
                fail(x, CT_E_CONTRACT, h->path, "%s %s is not an operation of the contract",
                     rq->method, ps);
            if (!rq->op)
                ok = false;
        }
    }
    for (uint32_t i = 0; query && i < query->len; i++)
        add_query(&q, query->u.members[i].key->u.str, query->u.members[i].val, true, "form");
    ct_buf_adds(&rq->url, x->env->base_url);
    ct_buf_add(&rq->url, path.ptr ? path.ptr : "", path.len);
    ct_buf_add(&rq->url, q.ptr ? q.ptr : "", q.len);
    ct_buf_add(&path, q.ptr ? q.ptr : "", q.len);
    rq->path_shown = ct_arena_strndup(a, path.ptr ? path.ptr : "", path.len);
    ct_buf_deinit(&path);
    ct_buf_deinit(&q);

    /* Headers: defaults, header parameters, the step's own, then auth and Prefer. */
    const struct ct_node *dh = interp(x, x->s->default_headers, a);
    if (x->s->default_headers && !dh)
        ok = false;
    for (uint32_t i = 0; dh && i < dh->len; i++)
        add_header(x, rq, dh->u.members[i].key->u.str, node_cstr(a, dh->u.members[i].val));
    if (rq->op && params) {
        struct ct_buf cookie;
        ct_buf_init(&cookie, 0);
        for (unsigned i = 0; i < rq->op->nparams; i++) {
            const struct ct_oas_param *pp = &rq->op->params[i];
            const struct ct_node *v = ct_obj_get(params, pp->name);
            if (!v)
                continue;
            if (pp->in == CT_IN_HEADER) {
                add_header(x, rq, pp->name, node_cstr(a, v));
            } else if (pp->in == CT_IN_COOKIE) {
                if (cookie.len)
                    ct_buf_adds(&cookie, "; ");
                ct_buf_printf(&cookie, "%s=", pp->name);
                node_text(&cookie, v);
            }
        }
        if (cookie.len)
            add_header(x, rq, "Cookie", ct_buf_cstr(&cookie));
        ct_buf_deinit(&cookie);
    }
    const struct ct_node *hdrs = interp(x, h->headers, a);
    if (h->headers && !hdrs)
        ok = false;
    for (uint32_t i = 0; hdrs && i < hdrs->len; i++)
        add_header(x, rq, hdrs->u.members[i].key->u.str, node_cstr(a, hdrs->u.members[i].val));
    if (!h->no_auth && !(hdrs && ct_obj_get(hdrs, "Authorization"))) {
        const struct ct_node *auth = h->auth ? h->auth : x->s->default_auth;
        if (auth) {
            const char *tok = interp_str(x, auth, a);
            if (!tok) {
                ok = false;
            } else {
                char *line = ct_arena_alloc(a, strlen(tok) + 8);
                snprintf(line, strlen(tok) + 8, "Bearer %s", tok);
                add_header(x, rq, "Authorization", line);
            }
        }
    }
    if (h->prefer) {
        const char *p = interp_str(x, h->prefer, a);
        if (!p)
            ok = false;
        else
            add_header(x, rq, "Prefer", p);
    }

    /* Body. */
    const struct ct_node *body = NULL;
    if (h->body_kind != CT_BODY_NONE && h->body_kind != CT_BODY_MULTIPART) {
        body = interp(x, h->body, a);
        if (!body)
            ok = false;
    }
    const char *ctype = h->content_type ? interp_str(x, h->content_type, a) : NULL;
    if (h->content_type && !ctype)
        ok = false;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    switch (h->body_kind) {
    case CT_BODY_NONE:
        break;
    case CT_BODY_JSON:
        if (body)
            ct_json_emit(body, &b, false);
        rq->content_type = ctype ? ctype : "application/json";
        rq->view.body = body;
        break;
    case CT_BODY_FORM:
        for (uint32_t i = 0; body && i < body->len; i++) {
            const char *k = body->u.members[i].key->u.str;
            const struct ct_node *v = body->u.members[i].val;
            uint32_t cnt = v->kind == CT_ARRAY ? v->len : 1;
            for (uint32_t j = 0; j < cnt; j++) {
                if (b.len)
                    ct_buf_addc(&b, '&');
                runner_url_encode(&b, k, strlen(k), true);
                ct_buf_addc(&b, '=');
                const char *t = node_cstr(a, v->kind == CT_ARRAY ? v->u.items[j] : v);
                runner_url_encode(&b, t, strlen(t), true);
            }
        }
        rq->content_type = "application/x-www-form-urlencoded";
        rq->view.body = body;
        break;
    case CT_BODY_MULTIPART: {
        rq->parts = ct_arena_zalloc(a, (h->nparts + 1) * sizeof(*rq->parts));
        struct ct_node *obj = mk(a, CT_OBJECT);
        obj->u.members = ct_arena_zalloc(a, (h->nparts + 1) * sizeof(struct ct_member));
        for (unsigned i = 0; i < h->nparts; i++) {
            const struct ct_scen_part *sp = &h->parts[i];
            struct runner_http_part *hp = &rq->parts[rq->nparts];
            hp->name = interp_str(x, sp->name, a);
            hp->type = sp->content_type ? interp_str(x, sp->content_type, a) : NULL;
            const struct ct_node *inst = NULL;
            if (sp->file) {
                const char *fp = interp_str(x, sp->file, a);
                if (fp) {
                    char *full = resolve_file(x->f, fp);
                    if (access(full, R_OK) != 0) {
                        fail(x, CT_E_SCENARIO, sp->file, "cannot read file '%s'", full);
                        ok = false;
                    }
                    hp->file = ct_arena_strdup(a, full);
                    ct_free(full);
                    const char *slash = strrchr(fp, '/');
                    hp->filename = sp->filename ? interp_str(x, sp->filename, a)
                                                : (slash ? slash + 1 : fp);
                }
                inst = mk_str(a, "<file>", 6);
            } else {
                const struct ct_node *v = interp(x, sp->value, a);
                if (v) {
                    const char *t = node_cstr(a, v);
                    hp->data = t;
                    hp->len = strlen(t);
                    if (!hp->type && (v->kind == CT_OBJECT || v->kind == CT_ARRAY))
                        hp->type = "application/json";
                    inst = v;
                }
            }
            if (!hp->name || !inst) {
                ok = false;
                continue;
            }
            obj->u.members[obj->len].key = mk_str(a, hp->name, strlen(hp->name));
            obj->u.members[obj->len].val = (struct ct_node *)inst;
            obj->len++;
            rq->nparts++;
        }
        rq->content_type = "multipart/form-data";
        rq->view.body = obj;
        break;
    }
    case CT_BODY_RAW:
        if (body)
            node_text(&b, body);
        rq->content_type = ctype ? ctype : "text/plain";
        break;
    case CT_BODY_FILE: {
        const char *fp = body ? node_cstr(a, body) : NULL;
        if (fp) {
            char *full = resolve_file(x->f, fp);
            char *text = NULL;
            size_t len = 0;
            int rc = ct_fs_read(full, 64u << 20, &text, &len);
            if (rc) {
                fail(x, CT_E_SCENARIO, h->body, "cannot read file '%s': %s", full, ct_strerror(rc));
                ok = false;
            } else {
                ct_buf_add(&b, text, len);
            }
            ct_free(text);
            ct_free(full);
        }
        rq->content_type = ctype ? ctype : "application/octet-stream";
        break;
    }
    }
    if (h->body_kind != CT_BODY_NONE && h->body_kind != CT_BODY_MULTIPART) {
        rq->body = ct_arena_strndup(a, b.ptr ? b.ptr : "", b.len);
        rq->body_len = b.len;
        rq->view.raw = rq->body;
        rq->view.raw_len = rq->body_len;
        if (!has_header(rq, "Content-Type"))
            add_header(x, rq, "Content-Type", rq->content_type);
    }
    ct_buf_deinit(&b);
    rq->view.params = params;
    rq->view.query = query;
    rq->view.body_kind = h->body_kind;
    rq->view.content_type = rq->content_type;
    /* Every header as a mapping, for header parameters given under `headers`. */
    struct ct_node *hm = mk(a, CT_OBJECT);
    hm->u.members = ct_arena_zalloc(a, (rq->nheaders + 1) * sizeof(struct ct_member));
    for (size_t i = 0; i < rq->nheaders; i++) {
        const char *colon = strchr(rq->headers[i], ':');
        hm->u.members[hm->len].key =
            mk_str(a, rq->headers[i], (size_t)(colon - rq->headers[i]));
        hm->u.members[hm->len].val = mk_str(a, colon + 2, strlen(colon + 2));
        hm->len++;
    }
    rq->view.headers = hm;
    return ok;
}

/* --- sources and matchers ------------------------------------------------------------------- */

struct exchange {
    struct runner_http_resp resp;
    struct runner_resp_info info;
    struct runner_resp_view view;
    bool sent;
    const char *text; /* SSE joined text, when the step collects one */
};

static const struct ct_node *source_value(struct sctx *x, const struct ct_scen_source *src,
                                          const struct exchange *ex, struct ct_arena *a,
                                          const char **why)
{
    *why = NULL;
    switch (src->kind) {
    case CT_SRC_STATUS:
        return mk_int(a, ex->resp.status);
    case CT_SRC_TEXT:
        return ex->text ? mk_str(a, ex->text, strlen(ex->text))
                        : mk_str(a, ex->resp.body.ptr ? ex->resp.body.ptr : "", ex->resp.body.len);
    case CT_SRC_HEADER: {
        const char *v = runner_header_get(ex->resp.headers, ex->resp.nheaders, src->arg);
        if (!v)
            *why = "the response has no such header";
        return v ? mk_str(a, v, strlen(v)) : NULL;
    }
    case CT_SRC_BODY: {
        if (!ex->info.json) {
            const char *ct = runner_header_get(ex->resp.headers, ex->resp.nheaders,
                                               "content-type");
            *why = ex->info.json_broken ? "the response body is not valid JSON"
                                        : ct_arena_strdup(a, ct ? "the response body is not JSON"
                                                                : "the response has no body");
            if (ct && !ex->info.json_broken) {
                char *m = ct_arena_alloc(a, strlen(ct) + 40);
                snprintf(m, strlen(ct) + 40, "the response body is %s, not JSON", ct);
                *why = m;
            }
            return NULL;
        }
        const struct ct_node *v = walk(ex->info.json, src->arg);
        if (!v)
            *why = "the response body has nothing there";
        return v;
    }
    }
    (void)x;
    return NULL;
}

static size_t utf8_len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static bool text_equal(struct ct_arena *a, const struct ct_node *x, const struct ct_node *y)
{
    return !strcmp(node_cstr(a, x), node_cstr(a, y));
}

static bool contains(struct ct_arena *a, const struct ct_node *v, const struct ct_node *arg)
{
    if (v->kind == CT_STRING) {
        const char *needle = node_cstr(a, arg);
        return strstr(v->u.str, needle) != NULL;
    }
    if (v->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            if (ct_node_equal(v->u.items[i], arg))
                return true;
        return false;
    }
    if (v->kind == CT_OBJECT && arg->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < arg->len; i++) {
            const struct ct_node *m = ct_obj_get(v, arg->u.members[i].key->u.str);
            if (!m || !ct_node_equal(m, arg->u.members[i].val))
                return false;
        }
        return true;
    }
    return false;
}

static const struct ct_node *as_number(struct ct_arena *a, const struct ct_node *n)
{
    if (n->kind == CT_NUMBER)
        return n;
    if (n->kind == CT_STRING)
        return num_from_text(a, n->u.str, n->len);
    return NULL;
}

static void types_text(unsigned bits, char *buf, size_t cap)
{
    static const char *const names[] = {"null",   "boolean", "integer", "number",
                                        "string", "array",   "object"};
    buf[0] = '\0';
    for (unsigned i = 0; i < 7; i++)
        if (bits & (1u << i)) {
            size_t l = strlen(buf);
            snprintf(buf + l, cap - l, "%s%s", l ? " or " : "", names[i]);
        }
}

static unsigned type_bits(const struct ct_node *v)
{
    switch (v->kind) {
    case CT_NULL:
        return CT_T_NULL;
    case CT_BOOL:
        return CT_T_BOOLEAN;
    case CT_NUMBER:
        return ct_num_is_integer(v) ? CT_T_INTEGER | CT_T_NUMBER : CT_T_NUMBER;
    case CT_STRING:
        return CT_T_STRING;
    case CT_ARRAY:
        return CT_T_ARRAY;
    default:
        return CT_T_OBJECT;
    }
}

/* What a matcher wants, for messages: "'Hello'", "type string", "length >= 1". */
static const char *describe(struct ct_arena *a, const struct ct_scen_match *m,
                            const struct ct_node *arg)
{
    char buf[320];
    switch (m->op) {
    case CT_M_EQUALS:
        return show(a, arg);
    case CT_M_NOT_EQUALS:
        snprintf(buf, sizeof(buf), "anything but %s", show(a, arg));
        break;
    case CT_M_ONE_OF:
        snprintf(buf, sizeof(buf), "one of %s", show(a, arg));
        break;
    case CT_M_MATCHES:
        snprintf(buf, sizeof(buf), "a match for '%s'", node_cstr(a, arg));
        break;
    case CT_M_TYPE: {
        char tt[96];
        types_text(m->types, tt, sizeof(tt));
        snprintf(buf, sizeof(buf), "type %s", tt);
        break;
    }
    case CT_M_LENGTH:
    case CT_M_MIN_LENGTH:
    case CT_M_MAX_LENGTH:
        snprintf(buf, sizeof(buf), "length %s%s",
                 m->op == CT_M_LENGTH ? "" : m->op == CT_M_MIN_LENGTH ? ">= " : "<= ",
                 node_cstr(a, arg));
        break;
    case CT_M_CONTAINS:
        snprintf(buf, sizeof(buf), "something containing %s", show(a, arg));
        break;
    case CT_M_NOT_CONTAINS:
        snprintf(buf, sizeof(buf), "something without %s", show(a, arg));
        break;
    case CT_M_GT:
    case CT_M_GTE:
    case CT_M_LT:
    case CT_M_LTE: {
        static const char *const sym[] = {">", ">=", "<", "<="};
        snprintf(buf, sizeof(buf), "a number %s %s", sym[m->op - CT_M_GT], node_cstr(a, arg));
        break;
    }
    case CT_M_EXISTS:
        return m->exists ? "a value" : "no value";
    }
    return ct_arena_strdup(a, buf);
}

/* Does one matcher hold for v (not NULL)? *note may explain a failure beyond "got X". */
static bool match_one(struct sctx *x, const struct ct_scen_match *m, const struct ct_node *v,
                      const struct ct_node *arg, bool loose, const char **note)
{
    struct ct_arena *a = &x->sarena;
    *note = NULL;
    switch (m->op) {
    case CT_M_EQUALS:
    case CT_M_NOT_EQUALS: {
        bool eq = ct_node_equal(v, arg) || (loose && text_equal(a, v, arg));
        return m->op == CT_M_EQUALS ? eq : !eq;
    }
    case CT_M_ONE_OF:
        for (uint32_t k = 0; k < arg->len; k++)
            if (ct_node_equal(v, arg->u.items[k]) || (loose && text_equal(a, v, arg->u.items[k])))
                return true;
        return false;
    case CT_M_MATCHES: {
        if (v->kind == CT_ARRAY || v->kind == CT_OBJECT) {
            *note = "matches applies to strings and numbers";
            return false;
        }
        const char *re = node_cstr(a, arg), *t = node_cstr(a, v);
        char *msg = NULL;
        int r = runner_regex_match(re, t, strlen(t), NULL, NULL, &msg);
        if (r < 0) {
            char *n = ct_arena_alloc(a, 300);
            snprintf(n, 300, "regular expression: %s", msg ? msg : "error");
            *note = n;
        }
        ct_free(msg);
        return r == 1;
    }
    case CT_M_TYPE:
        return (type_bits(v) & m->types) != 0;
    case CT_M_LENGTH:
    case CT_M_MIN_LENGTH:
    case CT_M_MAX_LENGTH: {
        if (v->kind != CT_STRING && v->kind != CT_ARRAY && v->kind != CT_OBJECT) {
            *note = "lengths apply to strings, lists and mappings";
            return false;
        }
        const struct ct_node *num = as_number(a, arg);
        double want = num ? num->num : -1;
        double got = v->kind == CT_STRING ? (double)utf8_len(v->u.str, v->len) : v->len;
        char *n = ct_arena_alloc(a, 48);
        snprintf(n, 48, "length %.0f", got);
        *note = n;
        return m->op == CT_M_LENGTH ? got == want : m->op == CT_M_MIN_LENGTH ? got >= want
                                                                             : got <= want;
    }
    case CT_M_CONTAINS:
    case CT_M_NOT_CONTAINS: {
        bool has = contains(a, v, arg);
        return m->op == CT_M_CONTAINS ? has : !has;
    }
    case CT_M_GT:
    case CT_M_GTE:
    case CT_M_LT:
    case CT_M_LTE: {
        const struct ct_node *nv = loose ? as_number(a, v) : (v->kind == CT_NUMBER ? v : NULL);
        const struct ct_node *na = as_number(a, arg);
        if (!nv || !na)
            return false;
        int cmp = ct_num_cmp(nv, na);
        return m->op == CT_M_GT ? cmp > 0 : m->op == CT_M_GTE ? cmp >= 0
                                        : m->op == CT_M_LT    ? cmp < 0
                                                              : cmp <= 0;
    }
    case CT_M_EXISTS:
        return m->exists == (v != NULL);
    }
    return false;
}

/* Evaluate one check against an exchange. `report` false: silent (repeat.until). */
static bool eval_check(struct sctx *x, const struct ct_scen_check *c, const struct exchange *ex,
                       bool report)
{
    struct ct_arena *a = &x->sarena;
    const char *why;
    const struct ct_node *v = source_value(x, &c->src, ex, a, &why);
    bool loose = c->src.kind == CT_SRC_HEADER || c->src.kind == CT_SRC_TEXT;
    const char *what = c->src.kind == CT_SRC_HEADER ? "header " : "";
    bool all = true;
    for (unsigned i = 0; i < c->nm; i++) {
        const struct ct_scen_match *m = &c->m[i];
        const struct ct_node *arg = NULL;
        if (m->op != CT_M_EXISTS && m->op != CT_M_TYPE) {
            arg = interp(x, m->arg, a);
            if (!arg) {
                all = false;
                continue;
            }
        }
        if (m->op == CT_M_EXISTS) {
            if (m->exists == (v != NULL))
                continue;
            all = false;
            if (report) {
                if (m->exists)
                    fail(x, CT_E_ASSERT, m->at, "%s%s: expected a value, got nothing (%s)", what,
                         c->src.written, why);
                else
                    fail(x, CT_E_ASSERT, m->at, "%s%s: expected no value, got %s", what,
                         c->src.written, show(a, v));
            }
            continue;
        }
        if (!v) {
            all = false;
            if (report)
                fail(x, CT_E_ASSERT, m->at, "%s%s: expected %s, got nothing (%s)", what,
                     c->src.written, describe(a, m, arg), why);
            continue;
        }
        const char *note;
        if (match_one(x, m, v, arg, loose, &note))
            continue;
        all = false;
        if (!report)
            continue;
        if (m->op == CT_M_TYPE)
            fail(x, CT_E_ASSERT, m->at, "%s%s: expected %s, got %s %s", what, c->src.written,
                 describe(a, m, arg), ct_node_type_name(v), show(a, v));
        else if (note)
            fail(x, CT_E_ASSERT, m->at, "%s%s: expected %s, got %s (%s)", what, c->src.written,
                 describe(a, m, arg), show(a, v), note);
        else
            fail(x, CT_E_ASSERT, m->at, "%s%s: expected %s, got %s", what, c->src.written,
                 describe(a, m, arg), show(a, v));
    }
    return all;
}

static bool status_ok(const struct ct_scen_expect *e, long status)
{
    if (e->nstatus == 0)
        return status >= 200 && status <= 299;
    for (unsigned i = 0; i < e->nstatus; i++)
        if (status >= e->status[i].lo && status <= e->status[i].hi)
            return true;
    return false;
}

static void status_text(const struct ct_scen_expect *e, char *buf, size_t cap)
{
    if (e->nstatus == 0) {
        snprintf(buf, cap, "a 2XX status");
        return;
    }
    buf[0] = '\0';
    for (unsigned i = 0; i < e->nstatus; i++) {
        size_t l = strlen(buf);
        const char *sep = i == 0 ? "" : i + 1 == e->nstatus ? " or " : ", ";
        if (e->status[i].lo == e->status[i].hi)
            snprintf(buf + l, cap - l, "%s%u", sep, e->status[i].lo);
        else
            snprintf(buf + l, cap - l, "%s%uXX", sep, e->status[i].lo / 100);
    }
}

static bool eval_expect(struct sctx *x, const struct ct_scen_step *st,
                        const struct ct_scen_expect *e, const struct exchange *ex, bool report)
{
    bool ok = true;
    if (!status_ok(e, ex->resp.status)) {
        ok = false;
        if (report) {
            char want[96];
            status_text(e, want, sizeof(want));
            /* At the `status` value; without one (2XX expected), at the `expect` key. */
            const struct ct_node *at = e->node ? ct_obj_get(e->node, "status") : NULL;
            const struct ct_member *em = st ? ct_obj_member(st->node, "expect") : NULL;
            if (!at && em && em->val == e->node)
                at = em->key;
            if (!at)
                at = st && st->http.op_at ? st->http.op_at : st ? st->node : e->node;
            struct ct_diag *g =
                fail(x, CT_E_ASSERT, at, "status: expected %s, got %ld", want, ex->resp.status);
            if (g && ex->resp.body.len) {
                size_t n = ex->resp.body.len > 300 ? 300 : ex->resp.body.len;
                while (n > 0 && n < ex->resp.body.len &&
                       ((unsigned char)ex->resp.body.ptr[n] & 0xC0) == 0x80)
                    n--;
                ct_diag_set_hint(g, "the response body was: %.*s%s", (int)n, ex->resp.body.ptr,
                                 n < ex->resp.body.len ? "..." : "");
            }
        }
    }
    for (unsigned i = 0; i < e->nchecks; i++)
        ok = eval_check(x, &e->checks[i], ex, report) && ok;
    if (e->max_time_ms && ex->resp.ms > e->max_time_ms) {
        ok = false;
        if (report)
            fail(x, CT_E_ASSERT, ct_obj_get(e->node, "max_time"),
                 "max_time: expected an answer within %u ms, it took %.1f ms", e->max_time_ms,
                 ex->resp.ms);
    }
    return ok;
}

static bool take_captures(struct sctx *x, const struct ct_scen_capture *caps, unsigned n,
                          const struct exchange *ex)
{
    bool ok = true;
    for (unsigned i = 0; i < n; i++) {
        const struct ct_scen_capture *c = &caps[i];
        const char *why;
        const struct ct_node *v = source_value(x, &c->src, ex, &x->sarena, &why);
        if (!v) {
            fail(x, CT_E_ASSERT, c->at, "capture '%s': %s: %s", c->var, c->src.written, why);
            ok = false;
            continue;
        }
        if (c->regex) {
            const char *t = node_cstr(&x->sarena, v);
            const char *g;
            size_t gl;
            char *msg = NULL;
            int r = runner_regex_match(c->regex, t, strlen(t), &g, &gl, &msg);
            if (r != 1) {
                fail(x, CT_E_ASSERT, c->regex_at ? c->regex_at : c->at,
                     r < 0 ? "capture '%s': regular expression: %s"
                           : "capture '%s': %s does not match (value %s)",
                     c->var, r < 0 ? (msg ? msg : "error") : c->regex, show(&x->sarena, v));
                ct_free(msg);
                ok = false;
                continue;
            }
            v = mk_str(&x->sarena, g, gl);
        }
        var_set(x, c->var, v, false);
    }
    return ok;
}

/* --- SSE ------------------------------------------------------------------------------------ */

/* Split a text/event-stream body into data payloads (the done marker excluded). */
static size_t sse_events(const char *body, size_t len, const char *done, struct ct_arena *a,
                         const char ***out)
{
    size_t n = 0, cap = 16;
    const char **v = ct_arena_alloc(a, cap * sizeof(char *));
    const char *p = body, *end = body + len;
    struct ct_buf data;
    ct_buf_init(&data, 0);
    while (p < end) {
        bool any = false;
        ct_buf_deinit(&data);
        ct_buf_init(&data, 0);
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl ? nl : end;
            size_t ll = (size_t)(le - p);
            if (ll && p[ll - 1] == '\r')
                ll--;
            const char *line = p;
            p = nl ? nl + 1 : end;
            if (!ll)
                break;
            if (ll >= 5 && !memcmp(line, "data:", 5)) {
                size_t off = ll > 5 && line[5] == ' ' ? 6 : 5;
                if (any)
                    ct_buf_addc(&data, '\n');
                ct_buf_add(&data, line + off, ll - off);
                any = true;
            }
        }
        if (!any)
            continue;
        if (done && !strcmp(ct_buf_cstr(&data), done))
            break;
        if (n == cap) {
            const char **nv = ct_arena_alloc(a, cap * 2 * sizeof(char *));
            memcpy(nv, v, cap * sizeof(char *));
            v = nv;
            cap *= 2;
        }
        v[n++] = ct_arena_strndup(a, data.ptr ? data.ptr : "", data.len);
    }
    ct_buf_deinit(&data);
    *out = v;
    return n;
}

static bool eval_sse(struct sctx *x, const struct ct_scen_sse *sse, struct exchange *ex)
{
    struct ct_arena *a = &x->sarena;
    const char *done = NULL;
    if (ex->info.resp)
        for (unsigned i = 0; i < ex->info.resp->nmedia; i++)
            if (!strcmp(ex->info.resp->media[i].type, "text/event-stream"))
                done = ct_obj_str(ex->info.resp->media[i].node, "x-sse-done");
    const char **events;
    size_t n = sse_events(ex->resp.body.ptr ? ex->resp.body.ptr : "", ex->resp.body.len, done, a,
                          &events);
    bool ok = true;
    struct ct_buf joined;
    ct_buf_init(&joined, 0);
    const struct ct_node *saved_json = ex->info.json;
    for (size_t i = 0; i < n; i++) {
        struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
        src->name = "<event>";
        src->text = events[i];
        src->len = strlen(events[i]);
        struct ct_diags tmp;
        ct_diags_init(&tmp);
        const struct ct_node *j = ct_json_parse(a, src, NULL, &tmp);
        ct_diags_deinit(&tmp);
        if (sse->join && j) {
            const struct ct_node *t = walk(j, sse->join);
            if (t && t->kind == CT_STRING)
                ct_buf_add(&joined, t->u.str, t->len);
        }
        if (i < sse->nevents) {
            ex->info.json = j;
            ok = eval_expect(x, NULL, &sse->events[i], ex, true) && ok;
        }
    }
    ex->info.json = saved_json;
    if (n < sse->nevents) {
        fail(x, CT_E_ASSERT, sse->node, "sse: expected at least %u events, got %zu", sse->nevents,
             n);
        ok = false;
    }
    ex->text = ct_arena_strndup(a, joined.ptr ? joined.ptr : "", joined.len);
    if (sse->count.nm) {
        /* count checks see the number of events as the value. */
        struct exchange cx = *ex;
        char num[32];
        snprintf(num, sizeof(num), "%zu", n);
        cx.text = ct_arena_strdup(a, num);
        struct ct_scen_check c = sse->count;
        c.src.kind = CT_SRC_TEXT;
        ok = eval_check(x, &c, &cx, true) && ok;
    }
    if (sse->text.nm)
        ok = eval_check(x, &sse->text, ex, true) && ok;
    if (sse->first_event_ms && ex->resp.first_body_ms > sse->first_event_ms) {
        fail(x, CT_E_ASSERT, ct_obj_get(sse->node, "first_event"),
             "first_event: expected the first event within %u ms, it came after %.1f ms",
             sse->first_event_ms, ex->resp.first_body_ms);
        ok = false;
    }
    if (sse->total_ms && ex->resp.ms > sse->total_ms) {
        fail(x, CT_E_ASSERT, ct_obj_get(sse->node, "total"),
             "total: expected the stream to end within %u ms, it took %.1f ms", sse->total_ms,
             ex->resp.ms);
        ok = false;
    }
    if (sse->capture)
        var_set(x, sse->capture, mk_str(a, ex->text, strlen(ex->text)), false);
    ct_buf_deinit(&joined);
    return ok;
}

/* --- steps ---------------------------------------------------------------------------------- */

/* One request and response; false when it could not be sent or broke the contract. */
static bool exchange_once(struct sctx *x, const struct ct_scen_step *st, struct exchange *ex,
                          struct runner_step_result *res)
{
    const struct ct_scen_http *h = &st->http;
    struct request rq;
    memset(ex, 0, sizeof(*ex));
    ct_buf_init(&ex->resp.body, 0);
    bool built = build_request(x, st, &rq);
    if (!built) {
        ct_buf_deinit(&rq.url);
        return false;
    }
    const struct ct_node *at = h->op_at ? h->op_at : h->path ? h->path : st->node;
    if (rq.op) {
        struct ct_diags rd;
        ct_diags_init(&rd);
        rd.max = STEP_MAX_DIAGS;
        bool valid = runner_contract_check_request(x->env->contract, x->w->vctx, rq.op, &rq.view,
                                                   at, &x->sarena, &rd);
        if (!valid && !h->send_invalid) {
            for (size_t i = 0; i < rd.n; i++) {
                struct ct_diag *g = ct_diags_add(x->d, rd.v[i].sev, rd.v[i].code, rd.v[i].src,
                                                 rd.v[i].line, rd.v[i].col, "%s", rd.v[i].msg);
                if (g && rd.v[i].hint)
                    ct_diag_set_hint(g, "%s", rd.v[i].hint);
            }
            ct_diag_set_hint(fail(x, CT_E_CONTRACT, at, "the request was not sent: it breaks the "
                                                        "contract"),
                             "add 'send_invalid: true' to the step if that is the point");
            ct_diags_deinit(&rd);
            ct_buf_deinit(&rq.url);
            return false;
        }
        ct_diags_deinit(&rd);
        if (valid && h->send_invalid) {
            fail(x, CT_E_CONTRACT, ct_obj_member(st->node, "send_invalid")->key,
                 "send_invalid: the request was meant to break the contract, but it matches it");
            ct_buf_deinit(&rq.url);
            return false;
        }
    }
    struct runner_http_req hr = {
        .method = rq.method,
        .url = ct_buf_cstr(&rq.url),
        .headers = rq.headers,
        .nheaders = rq.nheaders,
        .body = rq.body,
        .body_len = rq.body_len,
        .parts = rq.parts,
        .nparts = rq.nparts,
        .timeout_ms = h->timeout_ms     ? h->timeout_ms
                      : x->s->timeout_ms ? x->s->timeout_ms
                                         : x->env->o->timeout_ms,
    };
    ct_buf_deinit(&ex->resp.body);
    runner_http_send(x->w->http, &hr, &ex->resp, &x->sarena);
    ex->sent = true;
    res->request_ms += ex->resp.ms;
    ct_free(res->exchange);
    if (ex->resp.err) {
        res->exchange = ct_xasprintf("%s %s", rq.method, rq.path_shown);
        fail(x, ex->resp.err == CT_E_UNREACHABLE ? CT_E_UNREACHABLE : CT_E_IO, at,
             "%s %s: %s", rq.method, ct_buf_cstr(&rq.url), ex->resp.errmsg);
        if (ex->resp.err == CT_E_UNREACHABLE)
            x->unreachable = true;
        ct_buf_deinit(&rq.url);
        return false;
    }
    res->exchange = ct_xasprintf("%s %s -> %ld", rq.method, rq.path_shown, ex->resp.status);
    ex->view.status = ex->resp.status;
    ex->view.headers = ex->resp.headers;
    ex->view.nheaders = ex->resp.nheaders;
    ex->view.body = ex->resp.body.ptr ? ex->resp.body.ptr : "";
    ex->view.body_len = ex->resp.body.len;
    bool ok = true;
    if (rq.op) {
        struct ct_diags cd;
        ct_diags_init(&cd);
        cd.max = STEP_MAX_DIAGS;
        ok = runner_contract_check_response(x->env->contract, x->w->vctx, rq.op, &ex->view, at,
                                            &x->sarena, &ex->info, &cd);
        for (size_t i = 0; i < cd.n; i++) {
            struct ct_diag *g = ct_diags_add(x->d, cd.v[i].sev, cd.v[i].code, cd.v[i].src,
                                             cd.v[i].line, cd.v[i].col, "%s", cd.v[i].msg);
            if (g && cd.v[i].hint)
                ct_diag_set_hint(g, "%s", cd.v[i].hint);
        }
        if (cd.dropped)
            fail(x, CT_E_CONTRACT, at, "(%zu more contract problems not shown)", cd.dropped);
        ct_diags_deinit(&cd);
    } else {
        ex->info.json = runner_parse_json_body(&ex->view, &x->sarena, &ex->info.json_broken);
    }
    ct_buf_deinit(&rq.url);
    return ok;
}

static void render_step(struct sctx *x, struct runner_step_result *res)
{
    if (x->d->n == 0)
        return;
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(x->d, &out, false);
    ct_free(res->message);
    res->message = ct_buf_steal(&out, NULL);
}

static void run_http(struct sctx *x, const struct ct_scen_step *st, struct runner_step_result *res)
{
    const struct ct_scen_http *h = &st->http;
    const struct ct_scen_repeat *rp = &st->repeat;
    unsigned runs = rp->poll ? rp->max : rp->times;
    bool ok = true;
    struct exchange ex;
    memset(&ex, 0, sizeof(ex));
    for (unsigned attempt = 1; attempt <= runs; attempt++) {
        ct_buf_deinit(&ex.resp.body);
        ct_arena_reset(&x->sarena);
        res->attempts = attempt;
        bool sent_ok = exchange_once(x, st, &ex, res);
        if (!ex.sent || x->unreachable) {
            ok = false;
            break;
        }
        if (!sent_ok)
            ok = false;
        if (rp->poll) {
            if (eval_expect(x, st, &rp->until, &ex, false)) {
                break;
            }
            if (attempt == runs) {
                fail(x, CT_E_ASSERT, rp->node,
                     "repeat: 'until' did not hold after %u attempts; the last one:", runs);
                eval_expect(x, st, &rp->until, &ex, true);
                ok = false;
                break;
            }
            if (rp->delay_ms)
                usleep((useconds_t)rp->delay_ms * 1000u);
            continue;
        }
        if (!take_captures(x, h->captures, h->ncaptures, &ex))
            ok = false;
        if (h->sse && !eval_sse(x, h->sse, &ex))
            ok = false;
        if (!eval_expect(x, st, &h->expect, &ex, true))
            ok = false;
        if (!ok)
            break;
    }
    if (rp->poll && ex.sent && !x->unreachable) {
        if (!take_captures(x, h->captures, h->ncaptures, &ex))
            ok = false;
        if (h->sse && !eval_sse(x, h->sse, &ex))
            ok = false;
        if (!eval_expect(x, st, &h->expect, &ex, true))
            ok = false;
    }
    ct_buf_deinit(&ex.resp.body);
    if (x->d->nerrors)
        ok = false;
    res->status = ok ? RUNNER_PASS : x->unreachable ? RUNNER_ERROR : RUNNER_FAIL;
}

/* --- WebSocket steps ------------------------------------------------------------------------ */

struct wsctx {
    struct sctx *x;
    const struct ct_scen_step *st;
    struct runner_ws *ws;
    const struct ct_asyncapi_channel *ch; /* NULL: frames are not checked (no --asyncapi) */
    unsigned in, out;
    bool closed;
    int close_code;
};

static uint32_t ws_timeout(const struct wsctx *w, uint32_t own)
{
    return own ? own : w->st->timeout_ms ? w->st->timeout_ms : 10000;
}

/* The next frame from the server, parsed and checked against the contract: 1 (with *frame),
 * 0 closed, -1 nothing within the timeout. */
static int ws_next(struct wsctx *w, uint32_t ms, const struct ct_node **frame,
                   const struct ct_node *at)
{
    struct sctx *x = w->x;
    *frame = NULL;
    if (w->closed)
        return 0;
    char *text;
    size_t len;
    bool binary = false;
    int code;
    int r = runner_ws_next(w->ws, ms, &text, &len, &binary, &code);
    if (r == 0) {
        w->closed = true;
        w->close_code = code;
        return 0;
    }
    if (r < 0)
        return -1;
    unsigned index = w->in++;
    struct ct_source *src = ct_arena_zalloc(&x->sarena, sizeof(*src));
    char name[64];
    snprintf(name, sizeof(name), "<frame %u from the server>", index);
    src->name = ct_arena_strdup(&x->sarena, name);
    src->text = ct_arena_strndup(&x->sarena, text, len);
    src->len = len;
    ct_free(text);
    struct ct_diags pd;
    ct_diags_init(&pd);
    const struct ct_node *n = binary ? NULL : ct_json_parse(&x->sarena, src, NULL, &pd);
    ct_diags_deinit(&pd);
    if (!n) {
        fail(x, CT_E_CONTRACT, at, "received frame %u is not a JSON text frame: %s", index,
             binary ? "(binary)" : show(&x->sarena, mk_str(&x->sarena, src->text, len)));
        n = mk(&x->sarena, CT_NULL);
    } else if (w->ch) {
        runner_contract_check_frame(x->env->contract, x->w->vctx, w->ch, true, index, n, at, x->d);
    }
    *frame = n;
    return 1;
}

static const char *frame_type(const struct wsctx *w, const struct ct_node *frame)
{
    (void)w;
    return ct_obj_str(frame, "type");
}

/* Does `frame` meet the expectation `f`? Reports the differences when `report`. */
static bool frame_matches(struct wsctx *w, const struct ct_scen_frame *f,
                          const struct ct_node *frame, bool report)
{
    struct sctx *x = w->x;
    const char *type = frame_type(w, frame);
    if (f->type && (!type || strcmp(type, f->type) != 0)) {
        if (report)
            fail(x, CT_E_ASSERT, f->at, "expected a '%s' frame, got %s", f->type,
                 type ? type : show(&x->sarena, frame));
        return false;
    }
    struct exchange ex;
    memset(&ex, 0, sizeof(ex));
    ex.info.json = frame;
    bool ok = true;
    for (unsigned i = 0; i < f->expect.nchecks; i++)
        ok = eval_check(x, &f->expect.checks[i], &ex, report) && ok;
    if (ok && report && f->ncaptures)
        ok = take_captures(x, f->captures, f->ncaptures, &ex);
    return ok;
}

static bool ws_expect(struct wsctx *w, const struct ct_scen_ws_action *a)
{
    struct sctx *x = w->x;
    for (unsigned i = 0; i < a->nframes; i++) {
        const struct ct_scen_frame *f = &a->frames[i];
        const struct ct_node *frame;
        uint32_t ms = ws_timeout(w, f->timeout_ms ? f->timeout_ms : a->ms);
        int r = ws_next(w, ms, &frame, f->at);
        if (r < 0) {
            fail(x, CT_E_ASSERT, f->at, "expected %s%s%s frame within %u ms, got none",
                 f->type ? "a '" : "a", f->type ? f->type : "", f->type ? "'" : "", ms);
            return false;
        }
        if (r == 0) {
            fail(x, CT_E_ASSERT, f->at,
                 "expected %s%s%s frame, but the server closed the connection (code %d)",
                 f->type ? "a '" : "a", f->type ? f->type : "", f->type ? "'" : "", w->close_code);
            return false;
        }
        if (!frame_matches(w, f, frame, true))
            return false;
    }
    return true;
}

static bool ws_expect_unordered(struct wsctx *w, const struct ct_scen_ws_action *a)
{
    struct sctx *x = w->x;
    bool *done = ct_arena_zalloc(&x->sarena, a->nframes * sizeof(bool));
    unsigned left = a->nframes;
    uint32_t ms = ws_timeout(w, a->ms);
    double deadline = runner_now_ms() + ms;
    while (left) {
        double rest = deadline - runner_now_ms();
        const struct ct_node *frame;
        int r = rest > 0 ? ws_next(w, (uint32_t)rest, &frame, a->at) : -1;
        if (r <= 0) {
            for (unsigned i = 0; i < a->nframes; i++)
                if (!done[i])
                    fail(x, CT_E_ASSERT, a->frames[i].at,
                         r < 0 ? "expected this frame within %u ms (in any order), got none"
                               : "expected this frame, but the server closed the connection",
                         ms);
            return false;
        }
        unsigned hit = a->nframes;
        for (unsigned i = 0; i < a->nframes && hit == a->nframes; i++)
            if (!done[i] && frame_matches(w, &a->frames[i], frame, false))
                hit = i;
        if (hit == a->nframes) {
            fail(x, CT_E_ASSERT, a->at,
                 "received frame %u (%s) matches none of the frames still expected", w->in - 1,
                 show(&x->sarena, frame));
            return false;
        }
        frame_matches(w, &a->frames[hit], frame, true); /* takes its captures */
        done[hit] = true;
        left--;
    }
    return true;
}

static bool ws_collect(struct wsctx *w, const struct ct_scen_ws_action *a)
{
    struct sctx *x = w->x;
    const struct ct_scen_frame *f = &a->frames[0];
    struct ct_buf joined;
    ct_buf_init(&joined, 0);
    uint32_t ms = ws_timeout(w, a->ms);
    double deadline = runner_now_ms() + ms;
    bool ok = true;
    unsigned count = 0;
    for (;;) {
        double rest = deadline - runner_now_ms();
        const struct ct_node *frame;
        int r = rest > 0 ? ws_next(w, (uint32_t)rest, &frame, a->at) : -1;
        if (r <= 0) {
            fail(x, CT_E_ASSERT, a->at,
                 r < 0 ? "collect: no final '%s' frame within %u ms (%u collected)"
                       : "collect: the server closed the connection before the final '%s' frame "
                         "(%u ms, %u collected)",
                 f->type ? f->type : "", ms, count);
            ok = false;
            break;
        }
        const char *type = frame_type(w, frame);
        if (f->type && (!type || strcmp(type, f->type) != 0)) {
            fail(x, CT_E_ASSERT, a->at, "collect: expected '%s' frames, got %s", f->type,
                 type ? type : show(&x->sarena, frame));
            ok = false;
            break;
        }
        count++;
        const struct ct_node *t = a->join ? walk(frame, a->join) : NULL;
        if (t && t->kind == CT_STRING)
            ct_buf_add(&joined, t->u.str, t->len);
        struct ct_scen_frame until = *f;
        until.type = NULL;
        until.ncaptures = 0;
        if (frame_matches(w, &until, frame, false))
            break;
    }
    const char *text = ct_arena_strndup(&x->sarena, joined.ptr ? joined.ptr : "", joined.len);
    ct_buf_deinit(&joined);
    if (ok && a->text.nm) {
        struct exchange ex;
        memset(&ex, 0, sizeof(ex));
        ex.text = text;
        ok = eval_check(x, &a->text, &ex, true);
    }
    if (ok && a->capture)
        var_set(x, a->capture, mk_str(&x->sarena, text, strlen(text)), false);
    return ok;
}

static bool ws_expect_close(struct wsctx *w, const struct ct_scen_ws_action *a)
{
    struct sctx *x = w->x;
    uint32_t ms = ws_timeout(w, a->ms);
    double deadline = runner_now_ms() + ms;
    while (!w->closed) {
        double rest = deadline - runner_now_ms();
        const struct ct_node *frame;
        if (rest <= 0 || ws_next(w, (uint32_t)rest, &frame, a->at) < 0) {
            fail(x, CT_E_ASSERT, a->at, "expected the server to close the connection within %u ms",
                 ms);
            return false;
        }
    }
    for (unsigned i = 0; i < a->ncodes; i++)
        if (w->close_code == a->codes[i])
            return true;
    char want[96] = "";
    for (unsigned i = 0; i < a->ncodes; i++) {
        size_t l = strlen(want);
        snprintf(want + l, sizeof(want) - l, "%s%u", i ? " or " : "", a->codes[i]);
    }
    fail(x, CT_E_ASSERT, a->at, "expect_close: expected close code %s, got %d", want,
         w->close_code);
    return false;
}

static bool ws_send(struct wsctx *w, const struct ct_scen_ws_action *a)
{
    struct sctx *x = w->x;
    const struct ct_node *v = interp(x, a->payload, &x->sarena);
    if (!v)
        return false;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (a->kind == CT_WS_SEND_TEXT) {
        node_text(&b, v);
    } else {
        if (w->ch && !runner_contract_check_frame(x->env->contract, x->w->vctx, w->ch, false,
                                                  w->out, v, a->at, x->d)) {
            ct_diag_set_hint(fail(x, CT_E_CONTRACT, a->at, "the frame was not sent: it breaks "
                                                           "the contract"),
                             "use 'send_text' to send a frame that breaks it on purpose");
            ct_buf_deinit(&b);
            return false;
        }
        ct_json_emit(v, &b, false);
    }
    w->out++;
    int r = runner_ws_send(w->ws, b.ptr ? b.ptr : "", b.len, ws_timeout(w, a->ms));
    ct_buf_deinit(&b);
    if (r) {
        fail(x, CT_E_IO, a->at, "the frame could not be sent: the connection is %s",
             w->closed ? "closed" : "not writable");
        return false;
    }
    return true;
}

static void run_ws(struct sctx *x, const struct ct_scen_step *st, struct runner_step_result *res)
{
    const struct ct_scen_ws *s = &st->ws;
    struct ct_arena *a = &x->sarena;
    ct_arena_reset(a);
    struct wsctx w = {.x = x, .st = st, .close_code = -1};
    const char *path = NULL;
    const struct ct_node *wsn = ct_obj_get(st->node, "ws");
    if (s->channel) {
        w.ch = runner_contract_channel(x->env->contract, s->channel);
        if (!w.ch || !runner_contract_channel_address(w.ch)) {
            fail(x, CT_E_SCENARIO, ct_obj_get(wsn, "channel"),
                 w.ch ? "channel '%s' has no address in the AsyncAPI document"
                      : "channel '%s' needs the AsyncAPI contract: give --asyncapi FILE",
                 s->channel);
            res->status = RUNNER_FAIL;
            return;
        }
        path = runner_contract_channel_address(w.ch);
    } else {
        path = interp_str(x, s->path, a);
        if (path)
            w.ch = runner_contract_channel(x->env->contract, path);
    }
    const struct ct_node *query = interp(x, s->query, a);
    const struct ct_node *hdrs = interp(x, s->headers, a);
    const struct ct_node *dh = interp(x, x->s->default_headers, a);
    if (!path || (s->query && !query) || (s->headers && !hdrs) ||
        (x->s->default_headers && !dh)) {
        res->status = RUNNER_FAIL;
        return;
    }
    struct ct_buf url, q;
    ct_buf_init(&url, 0);
    ct_buf_init(&q, 0);
    const char *base = x->env->base_url;
    if (!strncmp(base, "https://", 8))
        ct_buf_printf(&url, "wss://%s", base + 8);
    else
        ct_buf_printf(&url, "ws://%s", base + (strncmp(base, "http://", 7) ? 0 : 7));
    ct_buf_adds(&url, path);
    for (uint32_t i = 0; query && i < query->len; i++)
        add_query(&q, query->u.members[i].key->u.str, query->u.members[i].val, true, "form");
    ct_buf_add(&url, q.ptr ? q.ptr : "", q.len);
    ct_buf_deinit(&q);
    struct request rq;
    memset(&rq, 0, sizeof(rq));
    for (uint32_t i = 0; dh && i < dh->len; i++)
        add_header(x, &rq, dh->u.members[i].key->u.str, node_cstr(a, dh->u.members[i].val));
    for (uint32_t i = 0; hdrs && i < hdrs->len; i++)
        add_header(x, &rq, hdrs->u.members[i].key->u.str, node_cstr(a, hdrs->u.members[i].val));
    char err[300];
    double t0 = runner_now_ms();
    int rc = runner_ws_open(&w.ws, ct_buf_cstr(&url), rq.headers, rq.nheaders,
                            ws_timeout(&w, 0), err, sizeof(err));
    res->request_ms += runner_now_ms() - t0;
    if (rc) {
        fail(x, CT_E_IO, wsn, "WebSocket %s: %s", ct_buf_cstr(&url), err);
        ct_buf_deinit(&url);
        res->exchange = ct_xasprintf("WS %s", path);
        res->status = RUNNER_FAIL;
        return;
    }
    bool ok = true;
    for (unsigned i = 0; i < s->nactions && ok; i++) {
        const struct ct_scen_ws_action *act = &s->actions[i];
        switch (act->kind) {
        case CT_WS_SEND:
        case CT_WS_SEND_TEXT:
            ok = ws_send(&w, act);
            break;
        case CT_WS_EXPECT:
            ok = ws_expect(&w, act);
            break;
        case CT_WS_EXPECT_UNORDERED:
            ok = ws_expect_unordered(&w, act);
            break;
        case CT_WS_COLLECT:
            ok = ws_collect(&w, act);
            break;
        case CT_WS_EXPECT_CLOSE:
            ok = ws_expect_close(&w, act);
            break;
        case CT_WS_CLOSE:
            if (!w.closed && runner_ws_close(w.ws, act->codes[0], ws_timeout(&w, act->ms)) == 0) {
                w.closed = true;
                w.close_code = act->codes[0];
            }
            break;
        case CT_WS_WAIT:
            usleep((useconds_t)act->ms * 1000u);
            break;
        }
    }
    if (!w.closed && runner_ws_close(w.ws, 1000, 2000) == 0) {
        w.closed = true;
        w.close_code = 1000;
    }
    runner_ws_free(w.ws);
    res->exchange = ct_xasprintf("WS %s: %u frame%s in, %u out%s", path, w.in, w.in == 1 ? "" : "s",
                                 w.out, w.closed ? "" : "");
    if (w.closed && w.close_code >= 0) {
        char *e = ct_xasprintf("%s, closed %d", res->exchange, w.close_code);
        ct_free(res->exchange);
        res->exchange = e;
    }
    ct_buf_deinit(&url);
    res->status = ok && !x->d->nerrors ? RUNNER_PASS : RUNNER_FAIL;
}

static char *join_label(const char *prefix, const char *label)
{
    return prefix ? ct_xasprintf("%s / %s", prefix, label) : ct_xstrdup(label);
}

/* Run a block; returns false when a step failed. `skip` non-NULL: report every step as skipped
 * with that reason. */
static bool run_block(struct sctx *x, const struct ct_scen_block *b, const char *phase,
                      const char *prefix, const char *skip, bool keep_going);

static void skip_step(struct sctx *x, const struct ct_scen_step *st, const char *phase,
                      const char *prefix, const char *why)
{
    if (st->kind == CT_STEP_GROUP) {
        char *p = join_label(prefix, st->label);
        run_block(x, &st->group, phase, p, why, false);
        ct_free(p);
        return;
    }
    struct runner_step_result *res = runner_scen_result_add(x->r);
    res->label = join_label(prefix, st->label);
    res->phase = phase;
    res->status = RUNNER_SKIP;
    res->message = ct_xstrdup(why);
    res->at = st->node;
    x->r->nskip++;
}

static bool run_step(struct sctx *x, const struct ct_scen_step *st, const char *phase,
                     const char *prefix)
{
    const char *why = NULL;
    if (st->skip) {
        skip_step(x, st, phase, prefix, st->skip);
        return true;
    }
    if (!runner_tags_allow_step(x->env->o, x->env->mock, st->tags, st->ntags, &why)) {
        skip_step(x, st, phase, prefix, why);
        return true;
    }
    if (st->if_set) {
        uint32_t cnt = st->if_set->kind == CT_ARRAY ? st->if_set->len : 1;
        for (uint32_t i = 0; i < cnt; i++) {
            const struct ct_node *n = st->if_set->kind == CT_ARRAY ? st->if_set->u.items[i]
                                                                   : st->if_set;
            if (!var_get(x, n->u.str, n->len)) {
                char reason[160];
                snprintf(reason, sizeof(reason), "if_set: variable '%s' is not set", n->u.str);
                skip_step(x, st, phase, prefix, reason);
                return true;
            }
        }
    }
    if (st->kind == CT_STEP_GROUP) {
        char *p = join_label(prefix, st->label);
        bool ok = run_block(x, &st->group, phase, p, NULL, false);
        ct_free(p);
        return ok;
    }
    struct ct_diags d;
    ct_diags_init(&d);
    d.max = STEP_MAX_DIAGS * 2;
    x->d = &d;
    struct runner_step_result *res = runner_scen_result_add(x->r);
    size_t idx = (size_t)(res - x->r->steps);
    res->label = join_label(prefix, st->label);
    res->phase = phase;
    res->at = st->node;
    double t0 = runner_now_ms();
    if (st->kind == CT_STEP_WS)
        run_ws(x, st, res);
    else
        run_http(x, st, res);
    res = &x->r->steps[idx];
    res->ms = runner_now_ms() - t0;
    render_step(x, res);
    x->d = NULL;
    ct_diags_deinit(&d);
    if (res->status == RUNNER_PASS)
        x->r->npass++;
    else
        x->r->nfail++;
    return res->status == RUNNER_PASS;
}

static bool run_block(struct sctx *x, const struct ct_scen_block *b, const char *phase,
                      const char *prefix, const char *skip, bool keep_going)
{
    bool ok = true;
    const char *why = skip;
    for (unsigned i = 0; i < b->n; i++) {
        const struct ct_scen_step *st = &b->v[i];
        if (why || x->unreachable) {
            skip_step(x, st, phase, prefix,
                      why ? why : "the target became unreachable");
            continue;
        }
        if (!run_step(x, st, phase, prefix)) {
            ok = false;
            if (!keep_going)
                why = !strcmp(phase, "setup") ? "setup failed" : "an earlier step failed";
        }
    }
    return ok;
}

void runner_exec_scenario(struct runner_worker *w, const struct runner_file *f,
                          struct runner_scen_result *r)
{
    struct sctx x = {.w = w, .env = w->env, .f = f, .s = f->scen, .r = r};
    r->file = f;
    double t0 = runner_now_ms();
    const char *why = NULL;
    if (f->scen->skip) {
        r->status = RUNNER_SKIP;
        r->message = ct_xstrdup(f->scen->skip);
        return;
    }
    if (!runner_tags_allow_step(w->env->o, w->env->mock, (const char *const *)f->scen->tags,
                                f->scen->ntags, &why)) {
        r->status = RUNNER_SKIP;
        r->message = ct_xstrdup(why);
        return;
    }
    ct_arena_init(&x.varena, 8192);
    ct_arena_init(&x.sarena, 65536);
    struct ct_diags d;
    ct_diags_init(&d);
    x.d = &d;
    bool ok = init_vars(&x);
    if (!ok) {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        ct_diags_render(&d, &out, false);
        r->message = ct_buf_steal(&out, NULL);
    }
    x.d = NULL;
    ct_diags_deinit(&d);
    if (ok) {
        bool setup_ok = run_block(&x, &f->scen->setup, "setup", NULL, NULL, false);
        run_block(&x, &f->scen->steps, "steps", NULL, setup_ok ? NULL : "setup failed", false);
        run_block(&x, &f->scen->teardown, "teardown", NULL, NULL, true);
    }
    r->ms = runner_now_ms() - t0;
    r->unreachable = x.unreachable;
    r->status = !ok || r->nfail ? (x.unreachable ? RUNNER_ERROR : RUNNER_FAIL) : RUNNER_PASS;
    if (r->status == RUNNER_PASS && r->npass == 0 && r->nskip > 0)
        r->status = RUNNER_SKIP;
    ct_free(x.vars);
    ct_arena_deinit(&x.varena);
    ct_arena_deinit(&x.sarena);
}

/* --- workers -------------------------------------------------------------------------------- */

void runner_worker_init(struct runner_worker *w, const struct runner_env *env, unsigned id)
{
    memset(w, 0, sizeof(*w));
    w->env = env;
    w->http = runner_http_new();
    w->vctx = ct_vctx_new();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    w->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
             (0x9E3779B97F4A7C15ull * (id + 1));
    if (!w->rng)
        w->rng = 88172645463325252ull;
}

void runner_worker_deinit(struct runner_worker *w)
{
    runner_http_free(w->http);
    ct_vctx_free(w->vctx);
    memset(w, 0, sizeof(*w));
}

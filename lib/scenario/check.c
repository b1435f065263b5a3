/* check.c - checks of a parsed scenario against its surroundings: operationIds, parameters and
 * request bodies against the OpenAPI model, method + path against the router, AsyncAPI channel
 * names, variables against what is defined before each use, and regular expressions through the
 * caller's callback.
 *
 * Variables are checked in execution order: `vars` (each may use the ones before it), then
 * setup, steps and teardown. Within an HTTP step the request is built first, then the response's
 * captures are taken, then `expect` and `repeat.until` are checked, so those two may use the
 * step's own captures. Teardown sees every capture of the steps before it (at run time a capture
 * of a step that did not run is reported as unset). */
#include "scenario.h"
#include "scenario_impl.h"

#include "core/alloc.h"
#include "core/err.h"
#include "openapi/router.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct cctx {
    const struct ct_scen_env *env;
    const struct ct_scen *s;
    struct ct_diags *diags;
    size_t errors;
    const char **scope; /* variable names defined so far */
    size_t nscope, cap;
    const char **opids; /* every operationId, for did-you-mean */
    size_t nopids;
    const struct ct_scen_capture **later; /* every capture of the file, for "captured later" */
    size_t nlater, caplater;
};

/* Every capture in the file, whatever its position (for a better message about a variable used
 * before the step that captures it). */
static void collect_block(struct cctx *c, const struct ct_scen_block *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        const struct ct_scen_step *st = &b->v[i];
        if (st->kind == CT_STEP_GROUP) {
            collect_block(c, &st->group);
            continue;
        }
        const struct ct_scen_capture *caps = st->kind == CT_STEP_HTTP ? st->http.captures : NULL;
        unsigned n = st->kind == CT_STEP_HTTP ? st->http.ncaptures : 0;
        for (unsigned j = 0; j < n; j++) {
            c->later = ct_xgrow(c->later, &c->caplater, c->nlater + 1, sizeof(*c->later));
            c->later[c->nlater++] = &caps[j];
        }
    }
}

static struct ct_diag *err_at(struct cctx *c, const struct ct_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct ct_diag *err_at(struct cctx *c, const struct ct_node *at, const char *fmt, ...)
{
    size_t before = c->diags->nerrors;
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(c->diags, CT_SEV_ERROR, CT_E_SCENARIO, at, fmt, ap);
    va_end(ap);
    c->errors += c->diags->nerrors - before;
    return g;
}

static void define(struct cctx *c, const char *name)
{
    for (size_t i = 0; i < c->nscope; i++)
        if (!strcmp(c->scope[i], name))
            return;
    c->scope = ct_xgrow(c->scope, &c->cap, c->nscope + 1, sizeof(*c->scope));
    c->scope[c->nscope++] = name;
}

static bool defined(const struct cctx *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->nscope; i++)
        if (strlen(c->scope[i]) == len && !memcmp(c->scope[i], name, len))
            return true;
    return false;
}

/* --- variables in templates ----------------------------------------------------------------- */

static void check_vars_in(struct cctx *c, const struct ct_node *n)
{
    if (!n)
        return;
    if (n->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++)
            check_vars_in(c, n->u.items[i]);
        return;
    }
    if (n->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < n->len; i++) {
            check_vars_in(c, n->u.members[i].key);
            check_vars_in(c, n->u.members[i].val);
        }
        return;
    }
    if (n->kind != CT_STRING)
        return;
    size_t pos = 0;
    struct ct_tpl_part part;
    int r;
    while ((r = ct_tpl_next(n->u.str, n->len, &pos, &part)) > 0) {
        if (!part.var)
            continue;
        struct ct_var_ref ref;
        const char *e;
        if (!ct_var_ref_parse(part.ptr, part.len, &ref, &e))
            continue; /* reported by the parser */
        struct ct_node at;
        ct__scen_locate(n, part.off + 2 + (size_t)(ref.name - part.ptr) -
                               (ref.ns == CT_VAR_USER ? 0 : 4),
                        &at);
        if (ref.ns == CT_VAR_RUN) {
            bool ok = false;
            for (size_t i = 0; ct_scen_run_vars[i] && !ok; i++)
                ok = strlen(ct_scen_run_vars[i]) == ref.namelen &&
                     !memcmp(ct_scen_run_vars[i], ref.name, ref.namelen);
            if (!ok) {
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)ref.namelen, ref.name);
                struct ct_diag *g = err_at(c, &at, "unknown run value 'run.%s': expected one of "
                                                   "run.id, run.uuid, run.now, run.epoch, "
                                                   "run.epoch_ms, run.target, run.scenario",
                                           name);
                size_t nrun = 0;
                while (ct_scen_run_vars[nrun])
                    nrun++;
                const char *best = ct_did_you_mean(name, ct_scen_run_vars, nrun);
                if (best)
                    ct_diag_set_hint(g, "did you mean 'run.%s'?", best);
            }
            continue;
        }
        if (ref.ns != CT_VAR_USER || defined(c, ref.name, ref.namelen))
            continue;
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)ref.namelen, ref.name);
        struct ct_diag *g = err_at(c, &at, "unknown variable '%s': no 'vars' entry, variable "
                                           "file or earlier capture defines it",
                                   name);
        const struct ct_scen_capture *later = NULL;
        for (size_t i = 0; i < c->nlater && !later; i++)
            if (!strcmp(c->later[i]->var, name))
                later = c->later[i];
        const char *best = ct_did_you_mean(name, c->scope, c->nscope);
        if (later)
            ct_diag_set_hint(g, "'%s' is captured later, at line %u: a step sees only the "
                                "variables captured before it",
                             name, later->at->line);
        else if (best)
            ct_diag_set_hint(g, "did you mean '%s'?", best);
        else if (c->nscope == 0)
            ct_diag_set_hint(g, "define it under 'vars', capture it from an earlier step, or read "
                                "the environment with '${env.%s}'",
                             name);
    }
}

static void check_regex(struct cctx *c, const struct ct_node *n)
{
    if (!c->env->regex_check || n->kind != CT_STRING || ct_tpl_has_vars(n->u.str, n->len))
        return;
    char *msg = NULL;
    size_t off = 0;
    if (!c->env->regex_check(c->env->ud, n->u.str, n->len, &msg, &off)) {
        struct ct_node at;
        ct__scen_locate(n, off, &at);
        err_at(c, &at, "invalid regular expression '%s': %s", n->u.str, msg ? msg : "error");
    }
    ct_free(msg);
}

static void check_checks(struct cctx *c, const struct ct_scen_check *k, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < k[i].nm; j++) {
            check_vars_in(c, k[i].m[j].arg);
            if (k[i].m[j].op == CT_M_MATCHES)
                check_regex(c, k[i].m[j].arg);
        }
}

static void check_expect(struct cctx *c, const struct ct_scen_expect *e)
{
    check_checks(c, e->checks, e->nchecks);
}

static void check_captures(struct cctx *c, const struct ct_scen_capture *cap, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (cap[i].regex_at)
            check_regex(c, cap[i].regex_at);
        define(c, cap[i].var);
    }
}

/* --- operations ----------------------------------------------------------------------------- */

static const char *const in_names[] = {"path", "query", "header", "cookie"};

static bool map_has_ci(const struct ct_node *m, const char *key)
{
    if (!m)
        return false;
    for (uint32_t i = 0; i < m->len; i++)
        if (!strcasecmp(m->u.members[i].key->u.str, key))
            return true;
    return false;
}

static bool media_is(const char *type, const char *want)
{
    size_t wl = strlen(want);
    return !strncasecmp(type, want, wl) && (type[wl] == '\0' || type[wl] == ';');
}

static bool media_json(const char *type)
{
    if (media_is(type, "application/json") || !strcmp(type, "*/*"))
        return true;
    const char *semi = strchr(type, ';');
    size_t len = semi ? (size_t)(semi - type) : strlen(type);
    return len > 5 && !strncasecmp(type + len - 5, "+json", 5);
}

static const char *body_key(enum ct_body_kind k)
{
    static const char *const names[] = {"", "json", "form", "multipart", "raw", "file"};
    return names[k];
}

static void check_op(struct cctx *c, const struct ct_scen_step *st, const struct ct_oas_op *op)
{
    const struct ct_scen_http *h = &st->http;
    /* Parameters by name: each must be one of the operation's. */
    if (h->params) {
        for (uint32_t i = 0; i < h->params->len; i++) {
            const struct ct_node *k = h->params->u.members[i].key;
            bool found = false;
            for (unsigned j = 0; j < op->nparams && !found; j++)
                found = !strcmp(op->params[j].name, k->u.str);
            if (found)
                continue;
            const char *names[64];
            size_t nn = 0;
            for (unsigned j = 0; j < op->nparams && nn < 64; j++)
                names[nn++] = op->params[j].name;
            struct ct_diag *g;
            if (op->nparams == 0) {
                g = err_at(c, k, "operation '%s' has no parameters, got '%s'", op->operation_id,
                           k->u.str);
                ct_diag_set_hint(g, "undeclared query parameters and headers go under 'query' "
                                    "and 'headers'");
                continue;
            }
            g = err_at(c, k, "operation '%s' has no parameter '%s'", op->operation_id, k->u.str);
            const char *best = ct_did_you_mean(k->u.str, names, nn);
            if (best) {
                ct_diag_set_hint(g, "did you mean '%s'?", best);
            } else {
                char list[400] = "";
                for (size_t j = 0; j < nn; j++) {
                    size_t l = strlen(list);
                    snprintf(list + l, sizeof(list) - l, "%s'%s'", j ? ", " : "", names[j]);
                }
                ct_diag_set_hint(g, "its parameters are %s", list);
            }
        }
    }
    if (h->send_invalid)
        return; /* deliberately incomplete requests are the point */
    for (unsigned j = 0; j < op->nparams; j++) {
        const struct ct_oas_param *pp = &op->params[j];
        if (!pp->required || (h->params && ct_obj_get(h->params, pp->name)))
            continue;
        if (pp->in == CT_IN_QUERY && h->query && ct_obj_get(h->query, pp->name))
            continue;
        if (pp->in == CT_IN_HEADER &&
            (map_has_ci(h->headers, pp->name) || map_has_ci(c->s->default_headers, pp->name)))
            continue;
        struct ct_diag *g = err_at(c, h->op_at, "operation '%s' needs the %s parameter '%s'",
                                   op->operation_id, in_names[pp->in], pp->name);
        ct_diag_set_hint(g, "add 'params: {%s: ...}' (or 'send_invalid: true' to leave it out "
                            "on purpose)",
                         pp->name);
    }
    if (h->body_kind == CT_BODY_NONE) {
        if (op->body_required)
            ct_diag_set_hint(err_at(c, h->op_at, "operation '%s' needs a request body",
                                    op->operation_id),
                             "add 'json', 'form', 'multipart', 'raw' or 'file' (or "
                             "'send_invalid: true' to leave it out on purpose)");
        return;
    }
    const struct ct_node *bkey = ct_obj_member(st->node, body_key(h->body_kind))->key;
    if (op->nbody == 0) {
        err_at(c, bkey, "operation '%s' takes no request body, got '%s'", op->operation_id,
               body_key(h->body_kind));
        return;
    }
    bool ok = false;
    for (unsigned j = 0; j < op->nbody && !ok; j++) {
        const char *t = op->body[j].type;
        switch (h->body_kind) {
        case CT_BODY_JSON:
            ok = h->content_type ? true : media_json(t);
            break;
        case CT_BODY_FORM:
            ok = media_is(t, "application/x-www-form-urlencoded") || !strcmp(t, "*/*");
            break;
        case CT_BODY_MULTIPART:
            ok = media_is(t, "multipart/form-data") || media_is(t, "multipart/mixed") ||
                 !strcmp(t, "*/*");
            break;
        default:
            ok = true;
            break;
        }
    }
    if (!ok) {
        char list[300] = "";
        for (unsigned j = 0; j < op->nbody; j++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", j ? ", " : "", op->body[j].type);
        }
        err_at(c, bkey, "operation '%s' takes %s, not a '%s' body", op->operation_id, list,
               body_key(h->body_kind));
    }
}

/* A method + path step must name an operation of the contract (variables match any segment
 * text, so `/prompts/${id}` matches `/prompts/{promptId}`). */
static void check_route(struct cctx *c, const struct ct_scen_http *h)
{
    if (!c->env->router || h->method < 0 || !h->path)
        return;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    size_t pos = 0;
    struct ct_tpl_part part;
    while (ct_tpl_next(h->path->u.str, h->path->len, &pos, &part) > 0)
        ct_buf_add(&b, part.var ? "1" : part.ptr, part.var ? 1 : part.len);
    const char *path = ct_buf_cstr(&b);
    const char *q = strchr(path, '?');
    size_t len = q ? (size_t)(q - path) : b.len;
    struct ct_route_match m;
    int r = ct_router_match(c->env->router, (enum ct_http_method)h->method, path, len, &m);
    if (r == 0) {
        char allowed[100] = "";
        for (int i = 0; i < CT_METHOD_COUNT; i++)
            if (m.allowed & (1u << i)) {
                size_t l = strlen(allowed);
                snprintf(allowed + l, sizeof(allowed) - l, "%s%s", l ? ", " : "",
                         ct_http_method_name((enum ct_http_method)i));
            }
        err_at(c, h->path, "the contract has no %s operation on '%.*s' (it has %s)",
               ct_http_method_name((enum ct_http_method)h->method), (int)len, path, allowed);
    } else if (r < 0) {
        struct ct_diag *g = err_at(c, h->path, "no operation of the contract matches '%.*s'",
                                   (int)len, path);
        const char *near = ct_router_near(c->env->router, path, len);
        if (near)
            ct_diag_set_hint(g, "did you mean '%s'?", near);
    }
    ct_buf_deinit(&b);
}

static const struct ct_oas_op *resolve_op(struct cctx *c, const struct ct_scen_http *h)
{
    if (!c->env->oas || !h->op_id)
        return NULL;
    const struct ct_oas_op *op = ct_oas_find_op(c->env->oas, h->op_id);
    if (op)
        return op;
    struct ct_diag *g = err_at(c, h->op_at, "unknown operationId '%s'", h->op_id);
    if (!c->opids) {
        c->opids = ct_xcalloc(c->env->oas->nops + 1, sizeof(char *));
        for (unsigned i = 0; i < c->env->oas->nops; i++)
            if (c->env->oas->ops[i].operation_id)
                c->opids[c->nopids++] = c->env->oas->ops[i].operation_id;
    }
    const char *best = ct_did_you_mean(h->op_id, c->opids, c->nopids);
    if (best)
        ct_diag_set_hint(g, "did you mean '%s'?", best);
    return NULL;
}

/* --- steps ---------------------------------------------------------------------------------- */

static void check_block(struct cctx *c, const struct ct_scen_block *b);

static void check_http(struct cctx *c, const struct ct_scen_step *st)
{
    const struct ct_scen_http *h = &st->http;
    const struct ct_oas_op *op = resolve_op(c, h);
    if (op)
        check_op(c, st, op);
    check_route(c, h);
    /* The request. */
    check_vars_in(c, h->path);
    check_vars_in(c, h->params);
    check_vars_in(c, h->query);
    check_vars_in(c, h->headers);
    check_vars_in(c, h->prefer);
    check_vars_in(c, h->content_type);
    check_vars_in(c, h->body);
    if (h->auth)
        check_vars_in(c, h->auth);
    else if (!h->no_auth)
        check_vars_in(c, c->s->default_auth);
    check_vars_in(c, c->s->default_headers);
    /* The response: captures first, then what may use them. */
    check_captures(c, h->captures, h->ncaptures);
    check_expect(c, &h->expect);
    if (st->repeat.poll)
        check_expect(c, &st->repeat.until);
    if (h->sse) {
        for (unsigned i = 0; i < h->sse->nevents; i++)
            check_expect(c, &h->sse->events[i]);
        check_checks(c, &h->sse->count, 1);
        check_checks(c, &h->sse->text, 1);
        if (h->sse->capture)
            define(c, h->sse->capture);
    }
}

static void check_ws(struct cctx *c, const struct ct_scen_step *st)
{
    const struct ct_scen_ws *ws = &st->ws;
    if (ws->channel && c->env->channels) {
        bool found = false;
        for (size_t i = 0; i < c->env->nchannels && !found; i++)
            found = !strcmp(c->env->channels[i], ws->channel);
        if (!found) {
            const struct ct_node *at = ct_obj_get(ct_obj_get(st->node, "ws"), "channel");
            struct ct_diag *g = err_at(c, at, "unknown AsyncAPI channel '%s'", ws->channel);
            const char *best = ct_did_you_mean(ws->channel, c->env->channels, c->env->nchannels);
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
        }
    }
    check_vars_in(c, ws->path);
    check_vars_in(c, ws->query);
    check_vars_in(c, ws->headers);
    for (unsigned i = 0; i < ws->nactions; i++) {
        const struct ct_scen_ws_action *a = &ws->actions[i];
        check_vars_in(c, a->payload);
        for (unsigned f = 0; f < a->nframes; f++) {
            const struct ct_scen_frame *fr = &a->frames[f];
            check_captures(c, fr->captures, fr->ncaptures);
            check_expect(c, &fr->expect);
        }
        check_checks(c, &a->text, 1);
        if (a->capture)
            define(c, a->capture);
    }
}

/* `if_set` names must be variables defined somewhere before (or the check would always skip). */
static void check_if_set(struct cctx *c, const struct ct_node *v)
{
    if (!v)
        return;
    uint32_t cnt = v->kind == CT_ARRAY ? v->len : 1;
    for (uint32_t i = 0; i < cnt; i++) {
        const struct ct_node *n = v->kind == CT_ARRAY ? v->u.items[i] : v;
        if (n->kind != CT_STRING || defined(c, n->u.str, n->len) || strchr(n->u.str, '$'))
            continue;
        struct ct_diag *g = err_at(c, n, "if_set: unknown variable '%s'", n->u.str);
        const char *best = ct_did_you_mean(n->u.str, c->scope, c->nscope);
        if (best)
            ct_diag_set_hint(g, "did you mean '%s'?", best);
    }
}

static void check_block(struct cctx *c, const struct ct_scen_block *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        const struct ct_scen_step *st = &b->v[i];
        check_if_set(c, st->if_set);
        switch (st->kind) {
        case CT_STEP_HTTP:
            check_http(c, st);
            break;
        case CT_STEP_GROUP:
            check_block(c, &st->group);
            break;
        case CT_STEP_WS:
            check_ws(c, st);
            break;
        }
    }
}

size_t ct_scen_check(const struct ct_scen *s, const struct ct_scen_env *env,
                     struct ct_diags *diags)
{
    static const struct ct_scen_env none;
    struct cctx c = {.env = env ? env : &none, .s = s, .diags = diags};
    for (size_t i = 0; i < c.env->nextra; i++)
        define(&c, c.env->extra_vars[i]);
    collect_block(&c, &s->setup);
    collect_block(&c, &s->steps);
    collect_block(&c, &s->teardown);
    if (s->vars) {
        for (uint32_t i = 0; i < s->vars->len; i++) {
            check_vars_in(&c, s->vars->u.members[i].val);
            define(&c, s->vars->u.members[i].key->u.str);
        }
    }
    check_block(&c, &s->setup);
    check_block(&c, &s->steps);
    check_block(&c, &s->teardown);
    ct_free(c.scope);
    ct_free(c.opids);
    ct_free(c.later);
    return c.errors;
}

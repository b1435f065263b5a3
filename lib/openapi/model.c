/* model.c - building the OpenAPI 3.0/3.1 model from a loaded document, reporting every problem.
 *
 * What it checks: the version (Swagger 2.0 and unknown versions are refused), the fields of each
 * object it models (unknown non-`x-` fields are errors with a did-you-mean hint), required fields,
 * path templates against path parameters, unique operationIds, security requirements naming
 * defined schemes. What it does not check: schemas (the validator compiles them) and examples
 * against schemas (the contract tests do). */
#include "model.h"

#include "core/alloc.h"
#include "core/ptrmap.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[CT_METHOD_COUNT] = {"get",     "put",  "post",  "delete",
                                                          "options", "head", "patch", "trace"};

const char *ct_http_method_name(enum ct_http_method m)
{
    return (unsigned)m < CT_METHOD_COUNT ? method_names[m] : "?";
}

int ct_http_method_parse(const char *s, size_t len)
{
    for (int i = 0; i < CT_METHOD_COUNT; i++) {
        const char *n = method_names[i];
        if (strlen(n) != len)
            continue;
        size_t k = 0;
        while (k < len && (s[k] | 0x20) == n[k])
            k++;
        if (k == len)
            return i;
    }
    return -1;
}

struct builder {
    struct ct_docset *ds;
    struct ct_arena *arena;
    struct ct_diags *diags;
    struct ct_oas *oas;
    size_t errors_at_start;
    /* Response Objects already built, by node: one shared through $ref by thousands of
     * operations (an error response) is checked and built once. */
    struct ct_ptrmap built;
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static struct ct_diag *err_at(struct builder *b, const struct ct_node *n, int code,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct ct_diag *err_at(struct builder *b, const struct ct_node *n, int code,
                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(b->diags, CT_SEV_ERROR, code, n, fmt, ap);
    va_end(ap);
    return g;
}

/* Every key of `obj` must be in `allowed` or start with "x-". */
static void check_keys(struct builder *b, const struct ct_node *obj, const char *const *allowed,
                       size_t nallowed, const char *what)
{
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct ct_node *k = obj->u.members[i].key;
        if (k->len >= 2 && k->u.str[0] == 'x' && k->u.str[1] == '-')
            continue;
        bool ok = false;
        for (size_t j = 0; j < nallowed && !ok; j++) /* first bytes first: most differ */
            ok = k->u.str[0] == allowed[j][0] && strcmp(k->u.str, allowed[j]) == 0;
        if (ok)
            continue;
        struct ct_diag *g =
            err_at(b, k, CT_E_SPEC, "unknown field '%s' in %s: expected one of the %s fields or "
                                    "an 'x-' extension",
                   k->u.str, what, what);
        const char *best = ct_did_you_mean(k->u.str, allowed, nallowed);
        if (best)
            ct_diag_set_hint(g, "did you mean '%s'?", best);
    }
}

static const struct ct_node *want(struct builder *b, const struct ct_node *obj, const char *key,
                                  enum ct_kind kind, bool required, const char *what)
{
    static const char *const kind_names[] = {"null", "a boolean", "a number",
                                             "a string", "an array", "an object"};
    const struct ct_node *v = ct_obj_get(obj, key);
    if (!v) {
        if (required)
            err_at(b, obj, CT_E_SPEC, "%s has no '%s': expected %s", what, key,
                   kind_names[kind]);
        return NULL;
    }
    if (v->kind != kind) {
        err_at(b, v, CT_E_SPEC, "'%s' of %s: expected %s, got %s", key, what, kind_names[kind],
               ct_node_type_name(v));
        return NULL;
    }
    return v;
}

static const char *want_str(struct builder *b, const struct ct_node *obj, const char *key,
                            bool required, const char *what)
{
    const struct ct_node *v = want(b, obj, key, CT_STRING, required, what);
    return v ? v->u.str : NULL;
}

static bool want_bool(struct builder *b, const struct ct_node *obj, const char *key, bool dflt,
                      const char *what)
{
    const struct ct_node *v = want(b, obj, key, CT_BOOL, false, what);
    return v ? (v->flags & CT_NF_TRUE) != 0 : dflt;
}

/* Follow a Reference Object; reports broken ones. */
static const struct ct_node *deref(struct builder *b, const struct ct_node *n)
{
    return ct_docset_deref(b->ds, n, b->diags);
}

static bool is_3_0(const struct builder *b)
{
    return b->oas->minor == 0;
}

/* --- parameters ------------------------------------------------------------------------------ */

static const char *const param_keys[] = {
    "name",    "in",           "description", "required", "deprecated", "allowEmptyValue",
    "style",   "explode",      "allowReserved", "schema", "example",    "examples",
    "content",
};

static bool parse_param(struct builder *b, const struct ct_node *raw, struct ct_oas_param *p)
{
    const struct ct_node *n = deref(b, raw);
    if (!n)
        return false;
    if (n->kind != CT_OBJECT) {
        err_at(b, n, CT_E_SPEC, "parameter: expected an object, got %s", ct_node_type_name(n));
        return false;
    }
    check_keys(b, n, param_keys, NKEYS(param_keys), "Parameter Object");
    memset(p, 0, sizeof(*p));
    p->node = n;
    p->name = want_str(b, n, "name", true, "Parameter Object");
    const char *in = want_str(b, n, "in", true, "Parameter Object");
    if (!p->name || !in)
        return false;
    static const char *const ins[] = {"path", "query", "header", "cookie"};
    int idx = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(in, ins[i]))
            idx = i;
    if (idx < 0) {
        struct ct_diag *g = err_at(b, ct_obj_get(n, "in"), CT_E_SPEC,
                                   "parameter '%s': 'in' is '%s', expected path, query, header "
                                   "or cookie",
                                   p->name, in);
        const char *best = ct_did_you_mean(in, ins, 4);
        if (best)
            ct_diag_set_hint(g, "did you mean '%s'?", best);
        return false;
    }
    p->in = (enum ct_param_in)idx;
    p->required = want_bool(b, n, "required", false, "Parameter Object");
    if (p->in == CT_IN_PATH && !p->required) {
        const struct ct_node *r = ct_obj_get(n, "required");
        err_at(b, r ? r : n, CT_E_SPEC,
               "path parameter '%s': expected 'required: true' (path parameters are always "
               "required)",
               p->name);
    }
    p->deprecated = want_bool(b, n, "deprecated", false, "Parameter Object");
    p->allow_empty = want_bool(b, n, "allowEmptyValue", false, "Parameter Object");
    static const char *const default_style[] = {"simple", "form", "simple", "form"};
    p->style = want_str(b, n, "style", false, "Parameter Object");
    if (!p->style)
        p->style = default_style[idx];
    p->explode = want_bool(b, n, "explode", !strcmp(p->style, "form"), "Parameter Object");
    p->schema = ct_obj_get(n, "schema");
    p->content = want(b, n, "content", CT_OBJECT, false, "Parameter Object");
    if (!p->schema && !p->content)
        err_at(b, n, CT_E_SPEC, "parameter '%s': expected 'schema' or 'content'", p->name);
    return true;
}

/* Merge path-level parameters with operation-level ones (the operation's win on name+in). */
static void build_params(struct builder *b, struct ct_oas_op *op, const struct ct_node *pathp,
                         const struct ct_node *opp)
{
    size_t cap = (pathp ? pathp->len : 0) + (opp ? opp->len : 0);
    op->params = ct_arena_zalloc(b->arena, (cap ? cap : 1) * sizeof(*op->params));
    op->nparams = 0;
    const struct ct_node *lists[2] = {opp, pathp};
    for (int l = 0; l < 2; l++) {
        const struct ct_node *list = lists[l];
        if (!list)
            continue;
        for (uint32_t i = 0; i < list->len; i++) {
            struct ct_oas_param p;
            if (!parse_param(b, list->u.items[i], &p))
                continue;
            bool dup = false;
            for (unsigned j = 0; j < op->nparams; j++) {
                if (op->params[j].in == p.in && !strcmp(op->params[j].name, p.name)) {
                    dup = true;
                    if (l == 0)
                        err_at(b, p.node, CT_E_SPEC,
                               "parameter '%s' in %s listed twice: expected unique name and "
                               "location",
                               p.name, ct_http_method_name(op->method));
                }
            }
            if (!dup)
                op->params[op->nparams++] = p;
        }
    }
}

/* Every {name} in the template needs a path parameter, and every path parameter a {name}. */
static void check_template(struct builder *b, struct ct_oas_op *op, const struct ct_node *key)
{
    const char *t = op->path;
    for (const char *p = t; (p = strchr(p, '{')) != NULL;) {
        const char *e = strchr(p, '}');
        if (!e) {
            err_at(b, key, CT_E_SPEC, "path '%s': unclosed '{' in the template", t);
            return;
        }
        size_t nl = (size_t)(e - p - 1);
        bool found = false;
        for (unsigned i = 0; i < op->nparams; i++)
            if (op->params[i].in == CT_IN_PATH && strlen(op->params[i].name) == nl &&
                !memcmp(op->params[i].name, p + 1, nl))
                found = true;
        if (!found)
            err_at(b, key, CT_E_SPEC,
                   "%s %s: template variable '{%.*s}' has no path parameter: expected one "
                   "with 'in: path'",
                   ct_http_method_name(op->method), t, (int)nl, p + 1);
        p = e + 1;
    }
    for (unsigned i = 0; i < op->nparams; i++) {
        if (op->params[i].in != CT_IN_PATH)
            continue;
        size_t nl = strlen(op->params[i].name);
        bool found = false;
        for (const char *p = t; (p = strchr(p, '{')) != NULL; p++)
            if (!strncmp(p + 1, op->params[i].name, nl) && p[nl + 1] == '}')
                found = true;
        if (!found)
            err_at(b, op->params[i].node, CT_E_SPEC,
                   "path parameter '%s' does not appear in the path '%s'", op->params[i].name, t);
    }
}

/* --- media, bodies, responses ----------------------------------------------------------------- */

static const char *const media_keys[] = {"schema", "example", "examples", "encoding",
                                         "itemSchema", "itemEncoding", "prefixEncoding"};

static unsigned build_media(struct builder *b, const struct ct_node *content,
                            struct ct_oas_media **out)
{
    if (!content || !content->len) {
        *out = NULL;
        return 0;
    }
    struct ct_oas_media *m = ct_arena_zalloc(b->arena, content->len * sizeof(*m));
    unsigned n = 0;
    for (uint32_t i = 0; i < content->len; i++) {
        const struct ct_node *mt = content->u.members[i].val;
        if (mt->kind != CT_OBJECT) {
            err_at(b, mt, CT_E_SPEC, "media type '%s': expected an object, got %s",
                   content->u.members[i].key->u.str, ct_node_type_name(mt));
            continue;
        }
        check_keys(b, mt, media_keys, b->oas->minor >= 2 ? 7 : 4, "Media Type Object");
        m[n].type = content->u.members[i].key->u.str;
        m[n].schema = ct_obj_get(mt, "schema");
        m[n].example = ct_obj_get(mt, "example");
        m[n].examples = want(b, mt, "examples", CT_OBJECT, false, "Media Type Object");
        m[n].node = mt;
        if (m[n].examples)
            for (uint32_t k = 0; k < m[n].examples->len; k++)
                deref(b, m[n].examples->u.members[k].val);
        n++;
    }
    *out = m;
    return n;
}

static const char *const body_keys[] = {"description", "content", "required"};
static const char *const response_keys[] = {"description", "headers", "content", "links",
                                            "summary"};

static bool valid_status(const char *s)
{
    if (!strcmp(s, "default"))
        return true;
    if (strlen(s) != 3 || s[0] < '1' || s[0] > '5')
        return false;
    if (s[1] == 'X' && s[2] == 'X')
        return true;
    return s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

static void build_responses(struct builder *b, struct ct_oas_op *op, const struct ct_node *rs)
{
    op->responses = ct_arena_zalloc(b->arena, (rs->len ? rs->len : 1) * sizeof(*op->responses));
    for (uint32_t i = 0; i < rs->len; i++) {
        const struct ct_member *m = &rs->u.members[i];
        const char *status = m->key->u.str;
        if (status[0] == 'x' && status[1] == '-')
            continue;
        if (!valid_status(status)) {
            err_at(b, m->key, CT_E_SPEC,
                   "response '%s': expected an HTTP status code (100-599), a range like '4XX' or "
                   "'default'",
                   status);
            continue;
        }
        const struct ct_node *r = deref(b, m->val);
        if (!r)
            continue;
        if (r->kind != CT_OBJECT) {
            err_at(b, r, CT_E_SPEC, "response '%s': expected an object, got %s", status,
                   ct_node_type_name(r));
            continue;
        }
        struct ct_oas_response *out = &op->responses[op->nresponses++];
        void *seen;
        if (ct_ptrmap_get(&b->built, r, &seen)) {
            *out = *(const struct ct_oas_response *)seen; /* the same media array too */
            out->status = status;
            continue;
        }
        check_keys(b, r, response_keys, b->oas->minor >= 2 ? 5 : 4, "Response Object");
        out->status = status;
        out->description = want_str(b, r, "description", b->oas->minor < 2, "Response Object");
        out->headers = want(b, r, "headers", CT_OBJECT, false, "Response Object");
        out->nmedia =
            build_media(b, want(b, r, "content", CT_OBJECT, false, "Response Object"), &out->media);
        out->node = r;
        ct_ptrmap_put(&b->built, r, out);
    }
}

/* --- operations ----------------------------------------------------------------------------- */

static const char *const op_keys[] = {"tags",       "summary",  "description", "externalDocs",
                                      "operationId", "parameters", "requestBody", "responses",
                                      "callbacks",  "deprecated", "security",   "servers"};
static const char *const path_keys[] = {"$ref",    "summary", "description", "get",
                                        "put",     "post",    "delete",      "options",
                                        "head",    "patch",   "trace",       "servers",
                                        "parameters", "query", "additionalOperations"};

static void check_security(struct builder *b, const struct ct_node *sec)
{
    if (!sec)
        return;
    for (uint32_t i = 0; i < sec->len; i++) {
        const struct ct_node *req = sec->u.items[i];
        if (req->kind != CT_OBJECT) {
            err_at(b, req, CT_E_SPEC, "security requirement: expected an object, got %s",
                   ct_node_type_name(req));
            continue;
        }
        for (uint32_t k = 0; k < req->len; k++) {
            const char *name = req->u.members[k].key->u.str;
            bool found = false;
            const char **names = ct_xmalloc((b->oas->nschemes + 1) * sizeof(char *));
            for (unsigned s = 0; s < b->oas->nschemes; s++) {
                names[s] = b->oas->schemes[s].name;
                if (!strcmp(names[s], name))
                    found = true;
            }
            if (!found) {
                struct ct_diag *g = err_at(
                    b, req->u.members[k].key, CT_E_SPEC,
                    "security requirement names '%s': expected a scheme defined in "
                    "components.securitySchemes",
                    name);
                const char *best = ct_did_you_mean(name, names, b->oas->nschemes);
                if (best)
                    ct_diag_set_hint(g, "did you mean '%s'?", best);
            }
            ct_free(names);
        }
    }
}

static void build_op(struct builder *b, struct ct_oas_op *op, const struct ct_node *n,
                     const struct ct_node *item, const struct ct_node *key)
{
    check_keys(b, n, op_keys, NKEYS(op_keys), "Operation Object");
    op->node = n;
    op->operation_id = want_str(b, n, "operationId", false, "Operation Object");
    op->summary = want_str(b, n, "summary", false, "Operation Object");
    op->deprecated = want_bool(b, n, "deprecated", false, "Operation Object");
    op->tags = want(b, n, "tags", CT_ARRAY, false, "Operation Object");
    build_params(b, op, want(b, item, "parameters", CT_ARRAY, false, "Path Item Object"),
                 want(b, n, "parameters", CT_ARRAY, false, "Operation Object"));
    if (!op->webhook)
        check_template(b, op, key);
    const struct ct_node *rb = ct_obj_get(n, "requestBody");
    if (rb) {
        rb = deref(b, rb);
        if (rb && rb->kind == CT_OBJECT) {
            check_keys(b, rb, body_keys, NKEYS(body_keys), "Request Body Object");
            op->body_required = want_bool(b, rb, "required", false, "Request Body Object");
            op->nbody = build_media(b, want(b, rb, "content", CT_OBJECT, true, "Request Body Object"),
                                    &op->body);
        } else if (rb) {
            err_at(b, rb, CT_E_SPEC, "requestBody: expected an object, got %s",
                   ct_node_type_name(rb));
        }
    }
    const struct ct_node *rs = want(b, n, "responses", CT_OBJECT, is_3_0(b), "Operation Object");
    if (rs)
        build_responses(b, op, rs);
    const struct ct_node *sec = want(b, n, "security", CT_ARRAY, false, "Operation Object");
    check_security(b, sec);
    op->security = sec ? sec : ct_obj_get(b->oas->root, "security");
}

/* Operations of one path item (paths or webhooks). Returns how many were added. */
static void build_item(struct builder *b, const struct ct_member *pm, bool webhook, unsigned *nops,
                       unsigned cap)
{
    const struct ct_node *item = deref(b, pm->val);
    if (!item)
        return;
    if (item->kind != CT_OBJECT) {
        err_at(b, item, CT_E_SPEC, "path item '%s': expected an object, got %s", pm->key->u.str,
               ct_node_type_name(item));
        return;
    }
    check_keys(b, item, path_keys, b->oas->minor >= 2 ? NKEYS(path_keys) : NKEYS(path_keys) - 2,
               "Path Item Object");
    for (int m = 0; m < CT_METHOD_COUNT; m++) {
        const struct ct_node *opn = ct_obj_get(item, method_names[m]);
        if (!opn)
            continue;
        if (opn->kind != CT_OBJECT) {
            err_at(b, opn, CT_E_SPEC, "%s %s: expected an Operation Object, got %s",
                   method_names[m], pm->key->u.str, ct_node_type_name(opn));
            continue;
        }
        if (*nops >= cap)
            return;
        struct ct_oas_op *op = &b->oas->ops[(*nops)++];
        memset(op, 0, sizeof(*op));
        op->method = (enum ct_http_method)m;
        op->path = pm->key->u.str;
        op->webhook = webhook;
        build_op(b, op, opn, item, pm->key);
    }
}

/* An upper bound of the operations under `paths` or `webhooks`: the method keys of each path
 * item, or every method for a path item that is a $ref (counted without following it). */
static unsigned count_ops(const struct ct_node *map)
{
    unsigned n = 0;
    if (!map || map->kind != CT_OBJECT)
        return 0;
    for (uint32_t i = 0; i < map->len; i++) {
        const struct ct_node *item = map->u.members[i].val;
        if (item->kind != CT_OBJECT || ct_obj_get(item, "$ref")) {
            n += CT_METHOD_COUNT;
            continue;
        }
        for (int m = 0; m < CT_METHOD_COUNT; m++)
            n += ct_obj_get(item, method_names[m]) != NULL;
    }
    return n;
}

/* --- servers, security schemes ----------------------------------------------------------------- */

static void build_servers(struct builder *b, const struct ct_node *servers)
{
    if (!servers || !servers->len) {
        b->oas->servers = ct_arena_zalloc(b->arena, sizeof(*b->oas->servers));
        b->oas->servers[0].url = "/";
        b->oas->servers[0].base_path = "";
        b->oas->nservers = 1;
        return;
    }
    b->oas->servers = ct_arena_zalloc(b->arena, servers->len * sizeof(*b->oas->servers));
    for (uint32_t i = 0; i < servers->len; i++) {
        const struct ct_node *s = servers->u.items[i];
        if (s->kind != CT_OBJECT)
            continue;
        const char *url = want_str(b, s, "url", true, "Server Object");
        if (!url)
            continue;
        const struct ct_node *vars = ct_obj_get(s, "variables");
        /* Substitute variables with their defaults, then keep the path part. */
        struct ct_buf u;
        ct_buf_init(&u, 0);
        for (const char *p = url; *p;) {
            if (*p == '{') {
                const char *e = strchr(p, '}');
                if (!e)
                    break;
                const struct ct_node *v = ct_obj_getn(vars, p + 1, (size_t)(e - p - 1));
                const char *d = ct_obj_str(v, "default");
                if (!d)
                    err_at(b, s, CT_E_SPEC, "server url '%s': variable '%.*s' has no default", url,
                           (int)(e - p - 1), p + 1);
                else
                    ct_buf_adds(&u, d);
                p = e + 1;
            } else {
                ct_buf_addc(&u, *p++);
            }
        }
        const char *full = ct_buf_cstr(&u);
        const char *path = full;
        const char *scheme = strstr(full, "://");
        if (scheme) {
            path = strchr(scheme + 3, '/');
            if (!path)
                path = "";
        }
        size_t pl = strlen(path);
        while (pl && path[pl - 1] == '/')
            pl--; /* "/" and "/api/v1/" become "" and "/api/v1" */
        struct ct_oas_server *out = &b->oas->servers[b->oas->nservers++];
        out->url = url;
        out->base_path = ct_arena_strndup(b->arena, path, pl);
        out->node = s;
        ct_buf_deinit(&u);
    }
}

static const char *const scheme_keys[] = {"type",   "description",  "name",  "in",
                                          "scheme", "bearerFormat", "flows", "openIdConnectUrl",
                                          "oauth2MetadataUrl", "deprecated"};

static void build_schemes(struct builder *b, const struct ct_node *comps)
{
    const struct ct_node *ss = want(b, comps, "securitySchemes", CT_OBJECT, false, "Components");
    if (!ss)
        return;
    b->oas->schemes = ct_arena_zalloc(b->arena, (ss->len ? ss->len : 1) * sizeof(*b->oas->schemes));
    for (uint32_t i = 0; i < ss->len; i++) {
        const struct ct_node *s = deref(b, ss->u.members[i].val);
        if (!s || s->kind != CT_OBJECT)
            continue;
        check_keys(b, s, scheme_keys, b->oas->minor >= 2 ? 10 : 8, "Security Scheme Object");
        struct ct_oas_security_scheme *o = &b->oas->schemes[b->oas->nschemes++];
        o->name = ss->u.members[i].key->u.str;
        o->type = want_str(b, s, "type", true, "Security Scheme Object");
        o->scheme = want_str(b, s, "scheme", false, "Security Scheme Object");
        o->in = want_str(b, s, "in", false, "Security Scheme Object");
        o->param = want_str(b, s, "name", false, "Security Scheme Object");
        o->bearer_format = want_str(b, s, "bearerFormat", false, "Security Scheme Object");
        o->node = s;
        if (o->type && !strcmp(o->type, "http") && !o->scheme)
            err_at(b, s, CT_E_SPEC, "security scheme '%s' of type http: expected a 'scheme'",
                   o->name);
        if (o->type && !strcmp(o->type, "apiKey") && (!o->in || !o->param))
            err_at(b, s, CT_E_SPEC,
                   "security scheme '%s' of type apiKey: expected 'in' and 'name'", o->name);
    }
}

/* --- the document ---------------------------------------------------------------------------- */

static const char *const root_keys[] = {"openapi", "info",     "jsonSchemaDialect", "servers",
                                        "paths",   "webhooks", "components",        "security",
                                        "tags",    "externalDocs", "$self"};
static const char *const info_keys[] = {"title",   "summary", "description", "termsOfService",
                                        "contact", "license", "version"};

static bool parse_version(struct builder *b, const struct ct_node *root)
{
    const struct ct_node *sw = ct_obj_get(root, "swagger");
    if (sw) {
        struct ct_diag *g = err_at(b, sw, CT_E_VERSION,
                                   "this is a Swagger 2.0 document: expected OpenAPI 3.0 or 3.1");
        ct_diag_set_hint(g, "convert it first, for example with swagger2openapi, then load the "
                            "3.0 result");
        return false;
    }
    const struct ct_node *v = ct_obj_get(root, "openapi");
    if (!v) {
        err_at(b, root, CT_E_VERSION, "no 'openapi' field: expected 'openapi: 3.1.0' or "
                                      "'openapi: 3.0.3' at the top of the document");
        return false;
    }
    if (v->kind != CT_STRING) {
        struct ct_diag *g = err_at(b, v, CT_E_VERSION, "'openapi' is a number: expected a string "
                                                       "such as \"3.1.0\"");
        if (v->kind == CT_NUMBER)
            ct_diag_set_hint(g, "quote the version: openapi: \"%.*s\"", (int)v->len, v->u.text);
        return false;
    }
    unsigned maj = 0, min = 0;
    const char *s = v->u.str;
    if (s[0] == '3' && s[1] == '.' && (s[2] >= '0' && s[2] <= '2') && (s[3] == '.' || !s[3])) {
        maj = 3;
        min = (unsigned)(s[2] - '0');
    } else {
        err_at(b, v, CT_E_VERSION, "unsupported OpenAPI version '%s': expected 3.0.x or 3.1.x", s);
        return false;
    }
    b->oas->major = maj;
    b->oas->minor = min;
    b->oas->version = s;
    return true;
}

static int op_id_cmp(const void *a, const void *b)
{
    const struct ct_oas_op *x = *(const struct ct_oas_op *const *)a;
    const struct ct_oas_op *y = *(const struct ct_oas_op *const *)b;
    int c = strcmp(x->operation_id, y->operation_id);
    return c ? c : (x < y ? -1 : x > y);
}

/* operationIds are unique across the document; sorting keeps this O(n log n) for big specs. */
static void check_unique_ids(struct builder *b)
{
    struct ct_oas *oas = b->oas;
    const struct ct_oas_op **v = ct_xmalloc((oas->nops + 1) * sizeof(*v));
    unsigned n = 0;
    for (unsigned i = 0; i < oas->nops; i++)
        if (oas->ops[i].operation_id)
            v[n++] = &oas->ops[i];
    qsort(v, n, sizeof(*v), op_id_cmp);
    for (unsigned i = 1; i < n; i++) {
        if (strcmp(v[i]->operation_id, v[i - 1]->operation_id) != 0)
            continue;
        const struct ct_oas_op *firstop = v[i - 1], *dup = v[i];
        const struct ct_node *idn = ct_obj_get(dup->node, "operationId");
        const struct ct_node *first = ct_obj_get(firstop->node, "operationId");
        struct ct_diag *g = err_at(b, idn, CT_E_SPEC,
                                   "operationId '%s' is used twice: expected unique ids",
                                   dup->operation_id);
        ct_diag_set_hint(g, "first used by %s %s at line %u", ct_http_method_name(firstop->method),
                         firstop->path, first->line);
    }
    ct_free(v);
}

struct ct_oas *ct_oas_build(struct ct_docset *ds, const struct ct_node *root,
                            struct ct_diags *diags)
{
    struct builder b = {.ds = ds, .arena = ct_docset_arena(ds), .diags = diags};
    b.errors_at_start = diags->nerrors;
    if (!root || root->kind != CT_OBJECT) {
        if (root)
            err_at(&b, root, CT_E_SPEC, "expected the document to be a mapping, got %s",
                   ct_node_type_name(root));
        return NULL;
    }
    struct ct_oas *oas = ct_arena_zalloc(b.arena, sizeof(*oas));
    b.oas = oas;
    oas->root = root;
    oas->docset = ds;
    if (!parse_version(&b, root))
        return NULL;
    check_keys(&b, root, root_keys, oas->minor >= 2 ? NKEYS(root_keys) : NKEYS(root_keys) - 1,
               "OpenAPI Object");
    const struct ct_node *info = want(&b, root, "info", CT_OBJECT, true, "OpenAPI Object");
    if (info) {
        check_keys(&b, info, info_keys, NKEYS(info_keys), "Info Object");
        oas->title = want_str(&b, info, "title", true, "Info Object");
        oas->api_version = want_str(&b, info, "version", true, "Info Object");
    }
    oas->json_schema_dialect = want_str(&b, root, "jsonSchemaDialect", false, "OpenAPI Object");
    build_servers(&b, want(&b, root, "servers", CT_ARRAY, false, "OpenAPI Object"));
    oas->components = want(&b, root, "components", CT_OBJECT, false, "OpenAPI Object");
    if (oas->components)
        build_schemes(&b, oas->components);
    const struct ct_node *paths = want(&b, root, "paths", CT_OBJECT, is_3_0(&b), "OpenAPI Object");
    const struct ct_node *hooks = want(&b, root, "webhooks", CT_OBJECT, false, "OpenAPI Object");
    if (!is_3_0(&b) && !paths && !hooks && !oas->components)
        err_at(&b, root, CT_E_SPEC,
               "the document has no 'paths', 'webhooks' or 'components': expected at least one");
    check_security(&b, want(&b, root, "security", CT_ARRAY, false, "OpenAPI Object"));
    unsigned cap = count_ops(paths) + count_ops(hooks);
    oas->ops = ct_arena_zalloc(b.arena, (cap ? cap : 1) * sizeof(*oas->ops));
    if (paths) {
        for (uint32_t i = 0; i < paths->len; i++) {
            const struct ct_member *pm = &paths->u.members[i];
            if (pm->key->u.str[0] == 'x' && pm->key->u.str[1] == '-')
                continue;
            if (pm->key->u.str[0] != '/') {
                err_at(&b, pm->key, CT_E_SPEC, "path '%s': expected it to start with '/'",
                       pm->key->u.str);
                continue;
            }
            oas->npaths++;
            build_item(&b, pm, false, &oas->nops, cap);
        }
    }
    if (hooks) {
        unsigned before = oas->nops;
        for (uint32_t i = 0; i < hooks->len; i++)
            build_item(&b, &hooks->u.members[i], true, &oas->nops, cap);
        oas->nwebhook = oas->nops - before;
    }
    ct_ptrmap_deinit(&b.built);
    check_unique_ids(&b);
    if (diags->nerrors > b.errors_at_start)
        return NULL;
    return oas;
}

struct ct_oas *ct_oas_load(const char *path, const struct ct_docset_opts *opts,
                           struct ct_docset **ds_out, struct ct_diags *diags)
{
    struct ct_docset *ds = ct_docset_new(opts);
    size_t before = diags->nerrors;
    struct ct_node *root = ct_docset_load(ds, path, diags);
    struct ct_oas *oas = NULL;
    if (root) {
        ct__docset_memo_begin(ds);
        ct_docset_check_refs(ds, root, diags);
        oas = ct_oas_build(ds, root, diags);
        ct__docset_memo_end(ds);
        if (diags->nerrors > before)
            oas = NULL;
    }
    *ds_out = ds;
    return oas;
}

const struct ct_oas_op *ct_oas_find_op(const struct ct_oas *oas, const char *operation_id)
{
    for (unsigned i = 0; i < oas->nops; i++)
        if (oas->ops[i].operation_id && !strcmp(oas->ops[i].operation_id, operation_id))
            return &oas->ops[i];
    return NULL;
}

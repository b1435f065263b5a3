/* contract.c - the contract as runner uses it: the OpenAPI model, its router, every schema an
 * exchange can meet compiled once before the first request, the checks of requests and
 * responses, and coverage counters.
 *
 * Compiling up front keeps the workers read-only: a compiled schema is immutable and shared by
 * every thread (each has its own ct_vctx), and the counters are atomic. A schema that does not
 * compile makes the contract broken (exit status 3) rather than failing steps one by one.
 *
 * What a response check covers: the status is documented (exact, then 4XX-style, then
 * default); a response with content declares the Content-Type received; headers marked
 * required are present and every documented header matches its schema; a JSON body parses and
 * matches the schema (readOnly/writeOnly by direction, formats asserted, every error reported);
 * a text/event-stream body is split into records and each `data:` payload is checked against
 * `x-sse-data-schema` until the `x-sse-done` marker. */
#include "runner.h"

#include "asyncapi/asyncapi.h"
#include "core/alloc.h"
#include "core/err.h"
#include "openapi/params.h"
#include "openapi/router.h"
#include "schema/schema.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

struct hdr_info {
    const char *name;
    bool required;
    const struct ct_node *schema_node;
    const struct ct_schema *schema;
};

struct media_info {
    const struct ct_schema *schema; /* NULL: no schema */
    const struct ct_schema *sse;    /* x-sse-data-schema */
    const char *sse_done;
};

struct resp_info {
    struct media_info *media; /* parallel to ct_oas_response.media */
    struct hdr_info *hdrs;
    unsigned nhdrs;
};

struct op_info {
    const struct ct_schema **params; /* parallel to op->params */
    struct media_info *body;         /* parallel to op->body */
    struct resp_info *resps;         /* parallel to op->responses */
    unsigned *hits;                  /* per response; atomic */
    char *label;                     /* operationId or "GET /path" */
};

struct runner_contract {
    struct ct_docset *ds; /* borrowed (the caller frees it after us) */
    struct ct_oas *oas;
    struct ct_router *router;
    struct ct_schema_set *set;
    struct op_info *ops; /* parallel to oas->ops */
    struct ct_asyncapi *async; /* --asyncapi, or NULL */
    const char **channels;     /* its channel ids */
    size_t nchannels;
    const char **msg_channel;  /* per message type: its channel id, for coverage */
    const char **messages;     /* per message type: its name ("user_message") */
    size_t nmessages;
    unsigned *msg_hits;
};

/* --- loading -------------------------------------------------------------------------------- */

static const struct ct_schema *compile(struct runner_contract *c, const struct ct_node *schema,
                                       struct ct_diags *diags)
{
    if (!schema)
        return NULL;
    return ct_schema_set_get(c->set, schema, diags);
}

static void compile_media(struct runner_contract *c, const struct ct_oas_media *m,
                          struct media_info *out, struct ct_diags *diags)
{
    out->schema = compile(c, m->schema, diags);
    const struct ct_node *sse = ct_obj_get(m->node, "x-sse-data-schema");
    if (sse)
        out->sse = compile(c, sse, diags);
    out->sse_done = ct_obj_str(m->node, "x-sse-done");
}

static enum ct_dialect dialect_of(const struct ct_oas *oas)
{
    if (oas->major == 3 && oas->minor == 0)
        return CT_DIALECT_OAS30;
    const char *jd = oas->json_schema_dialect;
    if (jd && strstr(jd, "draft/2019-09"))
        return CT_DIALECT_2019_09;
    if (jd && strstr(jd, "draft-07"))
        return CT_DIALECT_DRAFT7;
    return CT_DIALECT_OAS31;
}

struct runner_contract *runner_contract_load(const char *spec, struct ct_docset **ds_out,
                                             struct ct_diags *diags)
{
    struct ct_oas *oas = ct_oas_load(spec, NULL, ds_out, diags);
    if (!oas)
        return NULL;
    struct runner_contract *c = ct_xcalloc(1, sizeof(*c));
    c->ds = *ds_out;
    c->oas = oas;
    c->router = ct_router_new(oas);
    struct ct_schema_opts so = {
        .dialect = dialect_of(oas),
        .format_assert = true,
        .all_errors = true,
    };
    c->set = ct_schema_set_new(c->ds, &so);
    size_t before = diags->nerrors;
    c->ops = ct_xcalloc(oas->nops + 1, sizeof(*c->ops));
    for (unsigned i = 0; i < oas->nops; i++) {
        const struct ct_oas_op *op = &oas->ops[i];
        struct op_info *oi = &c->ops[i];
        if (op->operation_id) {
            oi->label = ct_xstrdup(op->operation_id);
        } else {
            char m[16];
            const char *mn = ct_http_method_name(op->method);
            size_t k = 0;
            for (; mn[k] && k < sizeof(m) - 1; k++)
                m[k] = (char)(mn[k] - 'a' + 'A');
            m[k] = '\0';
            oi->label = ct_xasprintf("%s %s", m, op->path);
        }
        oi->params = ct_xcalloc(op->nparams + 1, sizeof(*oi->params));
        for (unsigned j = 0; j < op->nparams; j++) {
            const struct ct_oas_param *p = &op->params[j];
            const struct ct_node *sch = p->schema;
            if (!sch && p->content && p->content->kind == CT_OBJECT && p->content->len)
                sch = ct_obj_get(p->content->u.members[0].val, "schema");
            oi->params[j] = compile(c, sch, diags);
        }
        oi->body = ct_xcalloc(op->nbody + 1, sizeof(*oi->body));
        for (unsigned j = 0; j < op->nbody; j++)
            compile_media(c, &op->body[j], &oi->body[j], diags);
        oi->resps = ct_xcalloc(op->nresponses + 1, sizeof(*oi->resps));
        oi->hits = ct_xcalloc(op->nresponses + 1, sizeof(*oi->hits));
        for (unsigned j = 0; j < op->nresponses; j++) {
            const struct ct_oas_response *r = &op->responses[j];
            struct resp_info *ri = &oi->resps[j];
            ri->media = ct_xcalloc(r->nmedia + 1, sizeof(*ri->media));
            for (unsigned k = 0; k < r->nmedia; k++)
                compile_media(c, &r->media[k], &ri->media[k], diags);
            if (r->headers && r->headers->kind == CT_OBJECT) {
                ri->hdrs = ct_xcalloc(r->headers->len + 1, sizeof(*ri->hdrs));
                for (uint32_t k = 0; k < r->headers->len; k++) {
                    const char *name = r->headers->u.members[k].key->u.str;
                    if (!strcasecmp(name, "content-type"))
                        continue; /* ignored by OpenAPI */
                    const struct ct_node *h =
                        ct_docset_deref(c->ds, r->headers->u.members[k].val, diags);
                    if (!h)
                        continue;
                    struct hdr_info *hi = &ri->hdrs[ri->nhdrs++];
                    hi->name = name;
                    hi->required = ct_obj_true(h, "required");
                    hi->schema_node = ct_obj_get(h, "schema");
                    hi->schema = compile(c, hi->schema_node, diags);
                }
            }
        }
    }
    if (diags->nerrors > before) {
        runner_contract_free(c);
        return NULL;
    }
    return c;
}

void runner_contract_free(struct runner_contract *c)
{
    if (!c)
        return;
    for (unsigned i = 0; c->ops && i < c->oas->nops; i++) {
        struct op_info *oi = &c->ops[i];
        ct_free(oi->params);
        ct_free(oi->body);
        for (unsigned j = 0; oi->resps && j < c->oas->ops[i].nresponses; j++) {
            ct_free(oi->resps[j].media);
            ct_free(oi->resps[j].hdrs);
        }
        ct_free(oi->resps);
        ct_free(oi->hits);
        ct_free(oi->label);
    }
    ct_free(c->ops);
    ct_free(c->channels);
    ct_free(c->messages);
    ct_free(c->msg_channel);
    ct_free(c->msg_hits);
    ct_asyncapi_free(c->async);
    ct_schema_set_free(c->set);
    ct_router_free(c->router);
    ct_free(c);
}

int runner_contract_load_asyncapi(struct runner_contract *c, const char *path,
                                  struct ct_diags *diags)
{
    c->async = ct_asyncapi_load(c->ds, path, NULL, diags);
    if (!c->async)
        return RUNNER_BROKEN;
    size_t total = 0;
    c->channels = ct_xcalloc(c->async->nchannels + 1, sizeof(char *));
    for (unsigned i = 0; i < c->async->nchannels; i++) {
        c->channels[c->nchannels++] = c->async->channels[i].id;
        total += c->async->channels[i].nmessages;
    }
    c->messages = ct_xcalloc(total + 1, sizeof(char *));
    c->msg_channel = ct_xcalloc(total + 1, sizeof(char *));
    c->msg_hits = ct_xcalloc(total + 1, sizeof(unsigned));
    for (unsigned i = 0; i < c->async->nchannels; i++) {
        const struct ct_asyncapi_channel *ch = &c->async->channels[i];
        for (unsigned j = 0; j < ch->nmessages; j++) {
            const struct ct_asyncapi_message *m = &ch->messages[j];
            c->msg_channel[c->nmessages] = ch->id;
            c->messages[c->nmessages++] = m->type_const ? m->type_const : m->name;
        }
    }
    return 0;
}

const struct ct_oas *runner_contract_oas(const struct runner_contract *c)
{
    return c->oas;
}

const struct ct_router *runner_contract_router(const struct runner_contract *c)
{
    return c->router;
}

const char *const *runner_contract_channels(const struct runner_contract *c, size_t *n)
{
    *n = c->nchannels;
    return c->channels;
}

/* --- helpers -------------------------------------------------------------------------------- */

const char *runner_header_get(const struct runner_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(h[i].name, name))
            return h[i].value;
    return NULL;
}

static struct ct_diag *fail_at(struct ct_diags *d, int code, const struct ct_node *at,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct ct_diag *fail_at(struct ct_diags *d, int code, const struct ct_node *at,
                               const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ct_diags_add(d, CT_SEV_ERROR, code, at ? at->src : NULL, at ? at->line : 0,
                        at ? at->col : 0, "%s", msg);
}

static size_t op_index(const struct runner_contract *c, const struct ct_oas_op *op)
{
    return (size_t)(op - c->oas->ops);
}

/* The media type without parameters, lower-cased into buf. */
static const char *media_base(const char *ct, char *buf, size_t cap)
{
    size_t i = 0;
    while (ct[i] && ct[i] != ';' && ct[i] != ' ' && i + 1 < cap) {
        char ch = ct[i];
        buf[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        i++;
    }
    buf[i] = '\0';
    return buf;
}

static bool media_matches(const char *declared, const char *got)
{
    char d[128];
    media_base(declared, d, sizeof(d));
    if (!strcmp(d, got) || !strcmp(d, "*/*"))
        return true;
    size_t dl = strlen(d);
    return dl > 2 && !strcmp(d + dl - 2, "/*") && !strncmp(d, got, dl - 1);
}

static bool is_json_type(const char *base)
{
    if (!strcmp(base, "application/json"))
        return true;
    size_t l = strlen(base);
    return l > 5 && !strcmp(base + l - 5, "+json");
}

/* Index of the declared media type matching `got` (exact names before wildcards), or -1. */
static int find_media(const struct ct_oas_media *m, unsigned n, const char *got)
{
    char d[128];
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(media_base(m[i].type, d, sizeof(d)), got))
            return (int)i;
    for (unsigned i = 0; i < n; i++)
        if (media_matches(m[i].type, got))
            return (int)i;
    return -1;
}

static void list_media(const struct ct_oas_media *m, unsigned n, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", i ? ", " : "", m[i].type);
    }
}

static struct ct_source *body_source(struct ct_arena *a, const char *what, const char *text,
                                     size_t len)
{
    struct ct_source *src = ct_arena_zalloc(a, sizeof(*src));
    src->name = ct_arena_strdup(a, what);
    src->text = text;
    src->len = len;
    return src;
}

static bool validate(const struct ct_schema *s, struct ct_vctx *vc, const struct ct_node *inst,
                     enum ct_direction dir, struct ct_diags *diags)
{
    if (!s)
        return true;
    struct ct_vopts vo = {.direction = dir, .all_errors = true};
    return ct_schema_validate_opts(s, vc, inst, &vo, diags);
}

const struct ct_node *runner_parse_json_body(const struct runner_resp_view *rs, struct ct_arena *a,
                                             bool *broken)
{
    *broken = false;
    const char *ct = runner_header_get(rs->headers, rs->nheaders, "content-type");
    char base[128];
    if (!ct || !rs->body_len || !is_json_type(media_base(ct, base, sizeof(base))))
        return NULL;
    struct ct_diags tmp;
    ct_diags_init(&tmp);
    struct ct_source *src = body_source(a, "<response body>", rs->body, rs->body_len);
    const struct ct_node *n = ct_json_parse(a, src, NULL, &tmp);
    ct_diags_deinit(&tmp);
    *broken = n == NULL;
    return n;
}

static void copy_diags(struct ct_diags *to, const struct ct_diags *from);

static bool m_is_text(const char *base)
{
    return !strncmp(base, "text/", 5);
}

/* --- requests ------------------------------------------------------------------------------- */

static const char *const in_names[] = {"path", "query", "header", "cookie"};

static const struct ct_node *map_get_ci(const struct ct_node *m, const char *key)
{
    if (!m || m->kind != CT_OBJECT)
        return NULL;
    for (uint32_t i = 0; i < m->len; i++)
        if (!strcasecmp(m->u.members[i].key->u.str, key))
            return m->u.members[i].val;
    return NULL;
}

/* Scalars written as text are coerced the way a server would read them from the wire. */
static const struct ct_node *coerce(const struct runner_contract *c, const struct ct_node *schema,
                                    const struct ct_node *v, struct ct_arena *a)
{
    if (v->kind != CT_STRING || !schema)
        return v;
    return ct_coerce_text(c->ds, schema, v->u.str, v->len, a);
}

static const struct ct_node *coerce_object(const struct runner_contract *c,
                                           const struct ct_node *schema, const struct ct_node *obj,
                                           struct ct_arena *a)
{
    if (!obj || obj->kind != CT_OBJECT || !schema)
        return obj;
    struct ct_diags tmp;
    ct_diags_init(&tmp);
    const struct ct_node *s = ct_docset_deref(c->ds, schema, &tmp);
    ct_diags_deinit(&tmp);
    const struct ct_node *props = ct_obj_get(s, "properties");
    struct ct_node *out = ct_arena_zalloc(a, sizeof(*out));
    ct_node_copy(out, obj);
    out->u.members = ct_arena_alloc(a, (obj->len ? obj->len : 1) * sizeof(struct ct_member));
    out->flags = 0;
    for (uint32_t i = 0; i < obj->len; i++) {
        out->u.members[i].key = obj->u.members[i].key;
        out->u.members[i].val =
            (struct ct_node *)coerce(c, ct_obj_get(props, obj->u.members[i].key->u.str),
                                     obj->u.members[i].val, a);
    }
    return out;
}

bool runner_contract_check_request(const struct runner_contract *c, struct ct_vctx *vc,
                                   const struct ct_oas_op *op, const struct runner_req_view *rq,
                                   const struct ct_node *at, struct ct_arena *a,
                                   struct ct_diags *diags)
{
    const struct op_info *oi = &c->ops[op_index(c, op)];
    size_t before = diags->nerrors;
    for (unsigned j = 0; j < op->nparams; j++) {
        const struct ct_oas_param *p = &op->params[j];
        const struct ct_node *v = rq->params ? ct_obj_get(rq->params, p->name) : NULL;
        if (!v && p->in == CT_IN_QUERY && rq->query)
            v = ct_obj_get(rq->query, p->name);
        if (!v && p->in == CT_IN_HEADER)
            v = map_get_ci(rq->headers, p->name);
        if (!v) {
            if (p->required)
                fail_at(diags, CT_E_CONTRACT, at,
                        "request to %s: the required %s parameter '%s' is missing", oi->label,
                        in_names[p->in], p->name);
            continue;
        }
        const struct ct_node *sch = p->schema;
        const struct ct_node *inst = coerce(c, sch, v, a);
        struct ct_diags pd;
        ct_diags_init(&pd);
        if (!validate(oi->params[j], vc, inst, CT_DIR_REQUEST, &pd)) {
            fail_at(diags, CT_E_CONTRACT, at,
                    "request to %s: %s parameter '%s' does not match its schema", oi->label,
                    in_names[p->in], p->name);
            for (size_t k = 0; k < pd.n; k++) {
                struct ct_diag *g = ct_diags_add(diags, pd.v[k].sev, pd.v[k].code, pd.v[k].src,
                                                 pd.v[k].line, pd.v[k].col, "%s", pd.v[k].msg);
                if (g && pd.v[k].hint)
                    ct_diag_set_hint(g, "%s", pd.v[k].hint);
            }
        }
        ct_diags_deinit(&pd);
    }
    if (rq->body_kind == CT_BODY_NONE) {
        if (op->body_required)
            fail_at(diags, CT_E_CONTRACT, at, "request to %s: the request body is required",
                    oi->label);
        return diags->nerrors == before;
    }
    if (op->nbody == 0) {
        fail_at(diags, CT_E_CONTRACT, at, "request to %s: the operation takes no request body",
                oi->label);
        return false;
    }
    char base[128];
    media_base(rq->content_type ? rq->content_type : "application/json", base, sizeof(base));
    int mi = find_media(op->body, op->nbody, base);
    if (mi < 0) {
        char list[256];
        list_media(op->body, op->nbody, list, sizeof(list));
        fail_at(diags, CT_E_CONTRACT, at, "request to %s: content type '%s' is not one the "
                                          "operation accepts (%s)",
                oi->label, base, list);
        return false;
    }
    const struct ct_node *inst = rq->body;
    if (rq->body_kind == CT_BODY_FORM || rq->body_kind == CT_BODY_MULTIPART)
        inst = coerce_object(c, op->body[mi].schema, rq->body, a);
    else if (rq->body_kind == CT_BODY_RAW || rq->body_kind == CT_BODY_FILE)
        inst = NULL;
    if ((rq->body_kind == CT_BODY_RAW || rq->body_kind == CT_BODY_FILE) && is_json_type(base)) {
        struct ct_source *src = body_source(a, "<request body>", rq->raw ? rq->raw : "",
                                            rq->raw_len);
        struct ct_diags pd;
        ct_diags_init(&pd);
        inst = ct_json_parse(a, src, NULL, &pd);
        if (!inst) {
            fail_at(diags, CT_E_CONTRACT, at, "request to %s: the %s body is not valid JSON",
                    oi->label, base);
            copy_diags(diags, &pd);
        }
        ct_diags_deinit(&pd);
    } else if ((rq->body_kind == CT_BODY_RAW || rq->body_kind == CT_BODY_FILE) && m_is_text(base) &&
               oi->body[mi].schema) {
        struct ct_node *s = ct_arena_zalloc(a, sizeof(*s));
        s->kind = CT_STRING;
        s->u.str = ct_arena_strndup(a, rq->raw ? rq->raw : "", rq->raw_len);
        s->len = (uint32_t)rq->raw_len;
        inst = s;
    }
    if (inst) {
        size_t mark = diags->n;
        struct ct_diags bd;
        ct_diags_init(&bd);
        if (!validate(oi->body[mi].schema, vc, inst, CT_DIR_REQUEST, &bd)) {
            fail_at(diags, CT_E_CONTRACT, at,
                    "request to %s: the %s body does not match its schema", oi->label, base);
            for (size_t k = 0; k < bd.n; k++) {
                struct ct_diag *g = ct_diags_add(diags, bd.v[k].sev, bd.v[k].code, bd.v[k].src,
                                                 bd.v[k].line, bd.v[k].col, "%s", bd.v[k].msg);
                if (g && bd.v[k].hint)
                    ct_diag_set_hint(g, "%s", bd.v[k].hint);
            }
        }
        (void)mark;
        ct_diags_deinit(&bd);
    }
    return diags->nerrors == before;
}

/* --- responses ------------------------------------------------------------------------------ */

static int find_response(const struct ct_oas_op *op, long status)
{
    char exact[32], range[32];
    snprintf(exact, sizeof(exact), "%ld", status);
    snprintf(range, sizeof(range), "%ldXX", status / 100);
    for (unsigned i = 0; i < op->nresponses; i++)
        if (!strcmp(op->responses[i].status, exact))
            return (int)i;
    for (unsigned i = 0; i < op->nresponses; i++)
        if (!strcasecmp(op->responses[i].status, range))
            return (int)i;
    for (unsigned i = 0; i < op->nresponses; i++)
        if (!strcmp(op->responses[i].status, "default"))
            return (int)i;
    return -1;
}

static void copy_diags(struct ct_diags *to, const struct ct_diags *from)
{
    for (size_t k = 0; k < from->n; k++) {
        struct ct_diag *g = ct_diags_add(to, from->v[k].sev, from->v[k].code, from->v[k].src,
                                         from->v[k].line, from->v[k].col, "%s", from->v[k].msg);
        if (g && from->v[k].hint)
            ct_diag_set_hint(g, "%s", from->v[k].hint);
    }
    if (from->dropped)
        to->dropped += from->dropped;
}

/* Validate a text/event-stream body record by record. */
static void check_sse(const struct op_info *oi, const struct media_info *mi, long status,
                      struct ct_vctx *vc, const struct runner_resp_view *rs,
                      const struct ct_node *at, struct ct_arena *a, struct ct_diags *diags)
{
    const char *p = rs->body, *end = rs->body + rs->body_len;
    unsigned index = 0;
    bool done = false;
    struct ct_buf data;
    ct_buf_init(&data, 0);
    while (p < end && !done) {
        /* One record: lines up to a blank line. */
        ct_buf_deinit(&data);
        ct_buf_init(&data, 0);
        bool any = false;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl ? nl : end;
            size_t ll = (size_t)(le - p);
            if (ll && p[ll - 1] == '\r')
                ll--;
            const char *line = p;
            p = nl ? nl + 1 : end;
            if (ll == 0)
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
        const char *d = ct_buf_cstr(&data);
        if (mi->sse_done && !strcmp(d, mi->sse_done)) {
            done = true;
            break;
        }
        char *copy = ct_arena_strndup(a, d, data.len);
        char name[96];
        snprintf(name, sizeof(name), "<event %u of the response>", index);
        struct ct_source *src = body_source(a, name, copy, data.len);
        struct ct_diags ed;
        ct_diags_init(&ed);
        const struct ct_node *inst = ct_json_parse(a, src, NULL, &ed);
        if (!inst) {
            fail_at(diags, CT_E_CONTRACT, at, "response of %s (%ld): event %u is not JSON",
                    oi->label, status, index);
            copy_diags(diags, &ed);
        } else if (!validate(mi->sse, vc, inst, CT_DIR_RESPONSE, &ed)) {
            fail_at(diags, CT_E_CONTRACT, at,
                    "response of %s (%ld): event %u does not match x-sse-data-schema", oi->label,
                    status, index);
            copy_diags(diags, &ed);
        }
        ct_diags_deinit(&ed);
        index++;
    }
    ct_buf_deinit(&data);
    if (mi->sse_done && !done)
        fail_at(diags, CT_E_CONTRACT, at,
                "response of %s (%ld): the event stream ended without the '%s' record", oi->label,
                status, mi->sse_done);
}

bool runner_contract_check_response(struct runner_contract *c, struct ct_vctx *vc,
                                    const struct ct_oas_op *op, const struct runner_resp_view *rs,
                                    const struct ct_node *at, struct ct_arena *a,
                                    struct runner_resp_info *info, struct ct_diags *diags)
{
    const struct op_info *oi = &c->ops[op_index(c, op)];
    size_t before = diags->nerrors;
    memset(info, 0, sizeof(*info));
    int ri = find_response(op, rs->status);
    const char *ct = runner_header_get(rs->headers, rs->nheaders, "content-type");
    char base[128] = "";
    if (ct)
        media_base(ct, base, sizeof(base));
    if (ri < 0) {
        char list[256] = "";
        for (unsigned i = 0; i < op->nresponses; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", op->responses[i].status);
        }
        fail_at(diags, CT_E_CONTRACT, at,
                "response of %s: status %ld is not documented (the contract lists %s)", oi->label,
                rs->status, list);
        if (is_json_type(base))
            info->json = runner_parse_json_body(rs, a, &info->json_broken);
        return false;
    }
    __atomic_fetch_add(&oi->hits[ri], 1, __ATOMIC_RELAXED);
    const struct ct_oas_response *r = &op->responses[ri];
    const struct resp_info *rinfo = &oi->resps[ri];
    info->resp = r;
    /* Headers. */
    for (unsigned i = 0; i < rinfo->nhdrs; i++) {
        const struct hdr_info *h = &rinfo->hdrs[i];
        const char *v = runner_header_get(rs->headers, rs->nheaders, h->name);
        if (!v) {
            if (h->required)
                fail_at(diags, CT_E_CONTRACT, at,
                        "response of %s (%ld): the required header '%s' is missing", oi->label,
                        rs->status, h->name);
            continue;
        }
        if (!h->schema)
            continue;
        const struct ct_node *inst = ct_coerce_text(c->ds, h->schema_node, v, strlen(v), a);
        struct ct_diags hd;
        ct_diags_init(&hd);
        if (!validate(h->schema, vc, inst, CT_DIR_RESPONSE, &hd)) {
            fail_at(diags, CT_E_CONTRACT, at,
                    "response of %s (%ld): header '%s: %s' does not match its schema", oi->label,
                    rs->status, h->name, v);
            copy_diags(diags, &hd);
        }
        ct_diags_deinit(&hd);
    }
    /* Body. */
    if (r->nmedia == 0)
        return diags->nerrors == before;
    if (!ct) {
        if (rs->body_len) {
            char list[256];
            list_media(r->media, r->nmedia, list, sizeof(list));
            fail_at(diags, CT_E_CONTRACT, at,
                    "response of %s (%ld): no Content-Type header, expected %s", oi->label,
                    rs->status, list);
        }
        return diags->nerrors == before;
    }
    int mi = find_media(r->media, r->nmedia, base);
    if (mi < 0) {
        char list[256];
        list_media(r->media, r->nmedia, list, sizeof(list));
        fail_at(diags, CT_E_CONTRACT, at,
                "response of %s (%ld): Content-Type '%s' is not documented (expected %s)",
                oi->label, rs->status, ct, list);
        if (is_json_type(base))
            info->json = runner_parse_json_body(rs, a, &info->json_broken);
        return false;
    }
    const struct media_info *m = &rinfo->media[mi];
    if (is_json_type(base)) {
        char name[160];
        snprintf(name, sizeof(name), "<response body of %s (%ld)>", oi->label, rs->status);
        struct ct_source *src = body_source(a, name, rs->body, rs->body_len);
        struct ct_diags bd;
        ct_diags_init(&bd);
        const struct ct_node *inst = ct_json_parse(a, src, NULL, &bd);
        if (!inst) {
            info->json_broken = true;
            fail_at(diags, CT_E_CONTRACT, at, "response of %s (%ld): the body is not valid JSON",
                    oi->label, rs->status);
            copy_diags(diags, &bd);
        } else {
            info->json = inst;
            if (!validate(m->schema, vc, inst, CT_DIR_RESPONSE, &bd)) {
                fail_at(diags, CT_E_CONTRACT, at,
                        "response of %s (%ld): the body does not match the contract", oi->label,
                        rs->status);
                copy_diags(diags, &bd);
            }
        }
        ct_diags_deinit(&bd);
    } else if (!strcmp(base, "text/event-stream") && m->sse) {
        check_sse(oi, m, rs->status, vc, rs, at, a, diags);
    } else if (m->schema && !strncmp(base, "text/", 5)) {
        struct ct_node *inst = ct_arena_zalloc(a, sizeof(*inst));
        inst->kind = CT_STRING;
        inst->u.str = ct_arena_strndup(a, rs->body, rs->body_len);
        inst->len = (uint32_t)rs->body_len;
        struct ct_diags bd;
        ct_diags_init(&bd);
        if (!validate(m->schema, vc, inst, CT_DIR_RESPONSE, &bd)) {
            fail_at(diags, CT_E_CONTRACT, at,
                    "response of %s (%ld): the %s body does not match the contract", oi->label,
                    rs->status, base);
            copy_diags(diags, &bd);
        }
        ct_diags_deinit(&bd);
    }
    return diags->nerrors == before;
}

/* --- frames --------------------------------------------------------------------------------- */

const struct ct_asyncapi_channel *runner_contract_channel(const struct runner_contract *c,
                                                          const char *s)
{
    return c->async ? ct_asyncapi_channel(c->async, s, strlen(s)) : NULL;
}

const char *runner_contract_channel_address(const struct ct_asyncapi_channel *ch)
{
    return ch->address;
}

bool runner_contract_check_frame(struct runner_contract *c, struct ct_vctx *vc,
                                 const struct ct_asyncapi_channel *ch, bool from_server,
                                 unsigned index, const struct ct_node *frame,
                                 const struct ct_node *at, struct ct_diags *diags)
{
    struct ct_diags fd;
    ct_diags_init(&fd);
    const struct ct_asyncapi_message *m = ct_asyncapi_match(
        c->async, ch, from_server ? CT_AA_SEND : CT_AA_RECEIVE, frame, vc, &fd);
    bool valid = m != NULL;
    if (!valid) {
        /* Count what the frame claims to be even when it is broken: it was exercised. */
        m = ct_asyncapi_identify(ch, from_server ? CT_AA_SEND : CT_AA_RECEIVE, frame);
        fail_at(diags, CT_E_CONTRACT, at,
                "%s frame %u on channel '%s' does not match the contract",
                from_server ? "received" : "sent", index, ch->id);
        copy_diags(diags, &fd);
    }
    ct_diags_deinit(&fd);
    if (m) {
        const char *name = m->type_const ? m->type_const : m->name;
        for (size_t i = 0; i < c->nmessages; i++)
            if (!strcmp(c->msg_channel[i], ch->id) && !strcmp(c->messages[i], name))
                __atomic_fetch_add(&c->msg_hits[i], 1, __ATOMIC_RELAXED);
    }
    return valid;
}

/* --- coverage ------------------------------------------------------------------------------- */

struct runner_cov_item *runner_contract_coverage(const struct runner_contract *c, size_t *n,
                                                 unsigned *ops_total, unsigned *ops_hit)
{
    size_t total = c->nmessages;
    for (unsigned i = 0; i < c->oas->nops; i++)
        total += c->oas->ops[i].nresponses;
    struct runner_cov_item *v = ct_xcalloc(total + 1, sizeof(*v));
    size_t k = 0;
    *ops_total = 0;
    *ops_hit = 0;
    for (unsigned i = 0; i < c->oas->nops; i++) {
        const struct ct_oas_op *op = &c->oas->ops[i];
        if (op->webhook)
            continue;
        bool any = false;
        for (unsigned j = 0; j < op->nresponses; j++) {
            v[k].op = c->ops[i].label;
            v[k].status = op->responses[j].status;
            v[k].hits = __atomic_load_n(&c->ops[i].hits[j], __ATOMIC_RELAXED);
            any = any || v[k].hits;
            k++;
        }
        (*ops_total)++;
        *ops_hit += any;
    }
    for (size_t i = 0; i < c->nmessages; i++) {
        v[k].op = c->msg_channel[i];
        v[k].status = c->messages[i];
        v[k].ws = true;
        v[k].hits = __atomic_load_n(&c->msg_hits[i], __ATOMIC_RELAXED);
        k++;
    }
    *n = k;
    return v;
}

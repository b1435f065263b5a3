/* admin.c - the admin API under /__mockd/, described by docs/mockd-admin.yaml.
 *
 * The document is the single source of truth: it is embedded at build time (admin_doc.c),
 * loaded at start like any spec, and requests are routed by its router and checked by its
 * compiled schemas before a handler runs; handlers are found by operationId, and a start-up
 * check makes sure every operation has one. Every answer is also checked against the document's
 * response schema (when it is under 1 MiB); a mismatch is a bug, logged and flagged with an
 * X-Mockd-Admin-Drift header that the tests look for.
 *
 * Access: loopback clients only, unless --admin-token is set; then the token is required
 * (Authorization: Bearer, or X-Mockd-Admin-Token) and any client may call. */
#include "layers_impl.h"

#include "config.h"
#include "core/alloc.h"
#include "core/err.h"
#include "openapi/params.h"
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct actx;
typedef unsigned (*admin_fn)(struct actx *c);

struct admin_api {
    struct ct_docset *ds;
    struct ct_oas *oas;
    struct ct_router *router;
    struct ct_schema_set *schemas;
    const struct ct_schema **body;    /* per operation: the JSON request body's schema */
    const struct ct_schema ***params; /* per operation, per parameter */
    admin_fn *fns;                    /* per operation */
    char *json;                       /* the document as JSON */
    size_t json_len;
};

struct actx {
    struct mockd_layers *l;
    struct mockd_req *req;
    struct mockd_resp *resp;
    const struct ct_route_match *m;
    const struct ct_node *body; /* the parsed JSON body, or NULL */
    struct ct_buf out;          /* the JSON answer; for a status >= 400, the problem's detail */
    bool json_error;            /* a status >= 400 whose answer is JSON in `out` (verify) */
};

/* The raw value of a path parameter, decoded, in the request's arena. */
static const char *path_param(struct actx *c, const char *name)
{
    for (unsigned i = 0; i < c->m->nparams; i++)
        if (!strcmp(c->m->params[i].name, name)) {
            bool ok;
            size_t len;
            return ct_pct_decode(c->req->arena, c->m->params[i].value, c->m->params[i].len, false,
                                 &len, &ok);
        }
    return "";
}

/* --- handlers: the document, status, reset --------------------------------------------------- */

static unsigned h_document(struct actx *c)
{
    ct_buf_add(&c->out, c->l->admin->json, c->l->admin->json_len);
    return 200;
}

static unsigned h_status(struct actx *c)
{
    struct mockd_layers *l = c->l;
    const struct mockd_layers_config *cfg = l->sh->cfg;
    uint64_t count, dropped, next;
    journal_stats(l->sh->journal, &count, &dropped, &next);
    const struct mockd_app *app = l->app;
    ct_buf_adds(&c->out, "{\"version\":");
    jx_put_cstr(&c->out, CT_VERSION);
    ct_buf_adds(&c->out, ",\"spec\":");
    jx_put_cstr(&c->out, app->oas->title ? app->oas->title : "");
    ct_buf_adds(&c->out, ",\"specFile\":");
    jx_put_cstr(&c->out, app->cfg ? app->cfg->spec_path : NULL);
    ct_buf_printf(&c->out,
                  ",\"reloads\":%u,\"uptimeMs\":%lld,\"requests\":%llu,\"stateful\":%s,\"proxy\":",
                  layers_reload_count(), (long long)(mockd_now_ms() - l->sh->started_ms),
                  (unsigned long long)atomic_load(&l->sh->answered), l->model ? "true" : "false");
    jx_put_cstr(&c->out, cfg->proxy);
    ct_buf_adds(&c->out, ",\"record\":");
    jx_put_cstr(&c->out, cfg->record_dir);
    ct_buf_printf(&c->out,
                  ",\"offline\":%s,\"overrides\":%u,\"journal\":{\"entries\":%llu,\"dropped\":%llu,"
                  "\"capacity\":%u,\"maxBodyBytes\":%zu,\"maxBytes\":%zu}}",
                  layers_is_offline(l->sh, NULL) ? "true" : "false",
                  overrides_count(l->sh->overrides), (unsigned long long)count,
                  (unsigned long long)dropped, cfg->journal_size, cfg->journal_body,
                  cfg->journal_bytes);
    return 200;
}

static void store_reset_all(struct mockd_layers *l)
{
    store_reset(l->sh->store);
}

static unsigned h_reset(struct actx *c)
{
    static const char *const parts[] = {"overrides", "faults", "offline",
                                        "journal",   "state",  "drift"};
    struct layers_shared *sh = c->l->sh;
    ct_buf_adds(&c->out, "{\"reset\":[");
    bool first = true;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        const struct ct_node *v = ct_obj_get(c->body, parts[i]);
        bool on = c->body ? v && (v->flags & CT_NF_TRUE) : true;
        if (!on) continue;
        switch (i) {
        case 0:
            overrides_clear(sh->overrides);
            break;
        case 1:
            faults_clear(sh->faults);
            break;
        case 2:
            atomic_store(&sh->offline, 0);
            break;
        case 3:
            journal_clear(sh->journal);
            break;
        case 4:
            store_reset_all(c->l);
            break;
        default:
            drift_clear(sh->drift);
            break;
        }
        ct_buf_printf(&c->out, "%s\"%s\"", first ? "" : ",", parts[i]);
        first = false;
    }
    ct_buf_adds(&c->out, "]}");
    return 200;
}

/* --- overrides ------------------------------------------------------------------------------- */

static unsigned h_overrides_list(struct actx *c)
{
    overrides_admin_list(c->l->sh->overrides, &c->out);
    return 200;
}

static unsigned h_override_create(struct actx *c)
{
    return overrides_admin_create(c->l->sh->overrides, c->l->app, c->body, c->req->body,
                                  c->req->body_len, c->req, &c->out);
}

static unsigned h_overrides_clear(struct actx *c)
{
    ct_buf_printf(&c->out, "{\"removed\":%u}", overrides_clear(c->l->sh->overrides));
    return 200;
}

static unsigned h_override_get(struct actx *c)
{
    const char *id = path_param(c, "id");
    if (overrides_admin_get(c->l->sh->overrides, id, &c->out)) return 200;
    ct_buf_printf(&c->out, "no override '%s' (it may have answered its last call)", id);
    return 404;
}

static unsigned h_override_delete(struct actx *c)
{
    const char *id = path_param(c, "id");
    if (overrides_remove(c->l->sh->overrides, id)) {
        ct_buf_adds(&c->out, "{\"removed\":1}");
        return 200;
    }
    ct_buf_printf(&c->out, "no override '%s' (it may have answered its last call)", id);
    return 404;
}

/* --- faults and offline ---------------------------------------------------------------------- */

static unsigned h_faults_get(struct actx *c)
{
    faults_admin_get(c->l->sh->faults, &c->out);
    return 200;
}

static unsigned h_faults_set(struct actx *c)
{
    return faults_admin_set(c->l->sh->faults, c->l->app, c->body, c->req, &c->out);
}

static unsigned h_faults_clear(struct actx *c)
{
    faults_clear(c->l->sh->faults);
    faults_admin_get(c->l->sh->faults, &c->out);
    return 200;
}

static unsigned h_offline_get(struct actx *c)
{
    struct layers_shared *sh = c->l->sh;
    enum offline_mode mode;
    if (!layers_is_offline(sh, &mode)) {
        ct_buf_adds(&c->out, "{\"offline\":false,\"remainingMs\":null}");
        return 200;
    }
    int64_t until = atomic_load(&sh->offline_until);
    ct_buf_printf(&c->out, "{\"offline\":true,\"mode\":\"%s\",\"remainingMs\":",
                  mode == OFFLINE_RESET ? "reset" : "refuse");
    if (until)
        ct_buf_printf(&c->out, "%lld}", (long long)(until - mockd_now_ms()));
    else
        ct_buf_adds(&c->out, "null}");
    return 200;
}

static unsigned h_offline_set(struct actx *c)
{
    struct layers_shared *sh = c->l->sh;
    const char *mode = ct_obj_str(c->body, "mode");
    uint64_t dur = jx_get_uint(c->body, "durationMs", 0);
    atomic_store(&sh->offline_until, dur ? mockd_now_ms() + (int64_t)dur : 0);
    atomic_store(&sh->offline,
                 1 + (mode && !strcmp(mode, "reset") ? OFFLINE_RESET : OFFLINE_REFUSE));
    return h_offline_get(c);
}

static unsigned h_offline_clear(struct actx *c)
{
    atomic_store(&c->l->sh->offline, 0);
    return h_offline_get(c);
}

/* --- journal --------------------------------------------------------------------------------- */

static unsigned h_journal_list(struct actx *c)
{
    journal_admin_list(c->l->sh->journal, c->req, &c->out);
    return 200;
}

static unsigned h_journal_clear(struct actx *c)
{
    ct_buf_printf(&c->out, "{\"removed\":%u}", journal_clear(c->l->sh->journal));
    return 200;
}

static unsigned h_journal_get(struct actx *c)
{
    const char *id = path_param(c, "id");
    if (journal_admin_get(c->l->sh->journal, strtoull(id, NULL, 10), c->req, &c->out)) return 200;
    ct_buf_printf(&c->out, "no journal entry %s (evicted, cleared, or not yet made)", id);
    return 404;
}

static unsigned h_journal_verify(struct actx *c)
{
    if (journal_admin_verify(c->l->sh->journal, c->body, c->req, &c->out)) return 200;
    c->json_error = true;
    return 409;
}

/* --- state ----------------------------------------------------------------------------------- */

static bool stateful(struct actx *c)
{
    if (c->l->model) return true;
    ct_buf_adds(&c->out, "mockd runs without --stateful: there is no stored state");
    return false;
}

static unsigned h_state_get(struct actx *c)
{
    if (!stateful(c)) return 409;
    state_admin_dump(c->l, c->req, &c->out);
    return 200;
}

static unsigned h_state_load(struct actx *c)
{
    if (!stateful(c)) return 409;
    return state_admin_load(c->l, c->body, &c->out);
}

static unsigned h_state_reset(struct actx *c)
{
    if (!stateful(c)) return 409;
    store_reset_all(c->l);
    ct_buf_adds(&c->out, "{\"reset\":[\"state\"]}");
    return 200;
}

static unsigned h_resources(struct actx *c)
{
    if (!stateful(c)) return 409;
    state_admin_resources(c->l, &c->out);
    return 200;
}

static unsigned h_state_save(struct actx *c)
{
    if (!stateful(c)) return 409;
    const char *file = c->l->sh->cfg->state_file;
    if (!file) {
        ct_buf_adds(&c->out, "no --state-file to save to: GET /__mockd/state gives the dump");
        return 409;
    }
    const char *why = NULL;
    if (state_save_file(c->l, file, &why) != 0) {
        ct_buf_printf(&c->out, "cannot write '%s': %s", file, why ? why : "error");
        return 500;
    }
    ct_buf_adds(&c->out, "{\"file\":");
    jx_put_cstr(&c->out, file);
    ct_buf_addc(&c->out, '}');
    return 200;
}

/* --- drift and reload ------------------------------------------------------------------------ */

static unsigned h_drift_get(struct actx *c)
{
    drift_admin_list(c->l->sh->drift, &c->out);
    return 200;
}

static unsigned h_drift_clear(struct actx *c)
{
    ct_buf_printf(&c->out, "{\"removed\":%u}", drift_clear(c->l->sh->drift));
    return 200;
}

static unsigned h_reload(struct actx *c)
{
    return layers_reload_now(&c->out);
}

static const struct {
    const char *id;
    admin_fn fn;
} handlers[] = {
    {"getAdminDocument", h_document},
    {"getStatus", h_status},
    {"reset", h_reset},
    {"listOverrides", h_overrides_list},
    {"createOverride", h_override_create},
    {"clearOverrides", h_overrides_clear},
    {"getOverride", h_override_get},
    {"deleteOverride", h_override_delete},
    {"getFaults", h_faults_get},
    {"setFaults", h_faults_set},
    {"clearFaults", h_faults_clear},
    {"getOffline", h_offline_get},
    {"setOffline", h_offline_set},
    {"clearOffline", h_offline_clear},
    {"listJournal", h_journal_list},
    {"clearJournal", h_journal_clear},
    {"getJournalEntry", h_journal_get},
    {"verifyJournal", h_journal_verify},
    {"getState", h_state_get},
    {"loadState", h_state_load},
    {"resetState", h_state_reset},
    {"listResources", h_resources},
    {"saveState", h_state_save},
    {"getDrift", h_drift_get},
    {"clearDrift", h_drift_clear},
    {"reloadSpec", h_reload},
};

/* --- loading the document -------------------------------------------------------------------- */

static int read_embedded(void *ud, const char *path, char **text, size_t *len)
{
    if (strcmp(path, "mockd-admin.yaml") != 0) return CT_E_NOTFOUND;
    *text = ct_xstrndup(mockd_admin_doc, mockd_admin_doc_len);
    *len = mockd_admin_doc_len;
    return 0;
}

static void admin_diag(struct ct_diags *diags, const struct ct_diags *why)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(why, &b, false);
    ct_diags_add(diags, CT_SEV_ERROR, CT_E_SPEC, NULL, 0, 0,
                 "the embedded admin API document is broken (a bug; rebuild from "
                 "docs/mockd-admin.yaml):\n%s",
                 ct_buf_cstr(&b));
    ct_buf_deinit(&b);
}

struct admin_api *admin_new(struct mockd_layers *l, struct ct_diags *diags)
{
    struct admin_api *a = ct_xcalloc(1, sizeof(*a));
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_docset_opts opts = {.read = read_embedded};
    a->oas = ct_oas_load("mockd-admin.yaml", &opts, &a->ds, &d);
    if (!a->oas) {
        admin_diag(diags, &d);
        ct_diags_deinit(&d);
        return a;
    }
    struct ct_schema_opts so = {
        .dialect = CT_DIALECT_OAS31, .format_assert = true, .all_errors = true};
    a->schemas = ct_schema_set_new(a->ds, &so);
    a->router = ct_router_new(a->oas);
    unsigned n = a->oas->nops;
    a->body = ct_xcalloc(n + 1, sizeof(*a->body));
    a->params = ct_xcalloc(n + 1, sizeof(*a->params));
    a->fns = ct_xcalloc(n + 1, sizeof(*a->fns));
    for (unsigned i = 0; i < n; i++) {
        const struct ct_oas_op *op = &a->oas->ops[i];
        for (unsigned k = 0; k < op->nbody; k++)
            if (mockd_media_is_json(op->body[k].type) && op->body[k].schema)
                a->body[i] = ct_schema_set_get(a->schemas, op->body[k].schema, &d);
        a->params[i] = ct_xcalloc(op->nparams + 1, sizeof(**a->params));
        for (unsigned k = 0; k < op->nparams; k++)
            if (op->params[k].schema)
                a->params[i][k] = ct_schema_set_get(a->schemas, op->params[k].schema, &d);
        /* The answers' schemas too (self_check): compiling mutates the set, which requests on
         * several threads then only read. */
        for (unsigned r = 0; r < op->nresponses; r++)
            for (unsigned k = 0; k < op->responses[r].nmedia; k++)
                if (op->responses[r].media[k].schema)
                    (void)ct_schema_set_get(a->schemas, op->responses[r].media[k].schema, &d);
        for (size_t h = 0; h < sizeof(handlers) / sizeof(handlers[0]); h++)
            if (op->operation_id && !strcmp(handlers[h].id, op->operation_id))
                a->fns[i] = handlers[h].fn;
        if (!a->fns[i])
            ct_diags_add(&d, CT_SEV_ERROR, CT_E_SPEC, NULL, 0, 0,
                         "admin operation '%s' has no handler in mockd/admin.c",
                         op->operation_id ? op->operation_id : op->path);
    }
    if (d.nerrors) admin_diag(diags, &d);
    ct_diags_deinit(&d);
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_json_emit(a->oas->root, &b, false);
    a->json = ct_buf_steal(&b, &a->json_len);
    (void)l;
    return a;
}

void admin_free(struct admin_api *a)
{
    if (!a) return;
    for (unsigned i = 0; a->oas && i < a->oas->nops; i++)
        ct_free(a->params[i]);
    ct_free(a->params);
    ct_free(a->body);
    ct_free(a->fns);
    ct_free(a->json);
    ct_router_free(a->router);
    if (a->schemas) ct_schema_set_free(a->schemas);
    ct_docset_free(a->ds);
    ct_free(a);
}

/* --- answering ------------------------------------------------------------------------------- */

static bool loopback(const char *remote)
{
    return !remote || !*remote || !strncmp(remote, "127.", 4) || !strcmp(remote, "::1") ||
           !strncmp(remote, "::ffff:127.", 11);
}

/* Compare without an early exit, so the time taken says nothing about the token. */
static bool token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

static void json_answer(struct mockd_req *req, struct mockd_resp *resp, unsigned status,
                        const char *type, struct ct_buf *b)
{
    resp->status = status;
    resp->content_type = type;
    resp->body = ct_arena_strndup(req->arena, b->ptr ? b->ptr : "", b->len);
    resp->body_len = b->len;
}

struct problem_item {
    const char *field, *message;
};

static void problem(struct mockd_req *req, struct mockd_resp *resp, unsigned status,
                    const char *type, const char *title, const char *detail,
                    const struct problem_item *items, size_t nitems)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_buf_printf(&b, "{\"type\":\"urn:mockd:admin:%s\",\"title\":", type);
    jx_put_cstr(&b, title);
    ct_buf_printf(&b, ",\"status\":%u,\"detail\":", status);
    jx_put_cstr(&b, detail);
    if (nitems) {
        ct_buf_adds(&b, ",\"errors\":[");
        for (size_t i = 0; i < nitems; i++) {
            ct_buf_adds(&b, i ? ",{\"field\":" : "{\"field\":");
            jx_put_cstr(&b, items[i].field);
            ct_buf_adds(&b, ",\"message\":");
            jx_put_cstr(&b, items[i].message);
            ct_buf_addc(&b, '}');
        }
        ct_buf_addc(&b, ']');
    }
    ct_buf_addc(&b, '}');
    json_answer(req, resp, status, "application/problem+json", &b);
    ct_buf_deinit(&b);
}

/* "/a/b/0" -> "a.b[0]" for error fields. */
static const char *field_of(struct ct_arena *a, const char *prefix, const char *ptr)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (prefix) ct_buf_adds(&b, prefix);
    for (const char *p = ptr ? ptr : ""; *p == '/';) {
        p++;
        size_t n = strcspn(p, "/");
        bool idx = n > 0 && strspn(p, "0123456789") >= n;
        if (idx)
            ct_buf_printf(&b, "[%.*s]", (int)n, p);
        else
            ct_buf_printf(&b, "%s%.*s", b.len ? "." : "", (int)n, p);
        p += n;
    }
    char *s = ct_arena_strdup(a, b.len ? ct_buf_cstr(&b) : "body");
    ct_buf_deinit(&b);
    return s;
}

/* Check parameters and body against the document. Returns false with resp filled. */
static bool check_request(struct admin_api *a, unsigned opi, const struct ct_route_match *m,
                          struct mockd_req *req, struct mockd_resp *resp,
                          const struct ct_node **body)
{
    const struct ct_oas_op *op = &a->oas->ops[opi];
    struct problem_item items[32];
    size_t n = 0;
    struct ct_diags d;
    ct_diags_init(&d);
    static const char *const in_names[] = {"path", "query", "header", "cookie"};
    for (unsigned i = 0; i < op->nparams; i++) {
        const struct ct_oas_param *prm = &op->params[i];
        struct ct_param_src src = {.query = req->query, .nquery = req->nquery};
        if (prm->in == CT_IN_PATH) {
            for (unsigned k = 0; k < m->nparams; k++)
                if (!strcmp(m->params[k].name, prm->name)) {
                    src.path_value = m->params[k].value;
                    src.path_len = m->params[k].len;
                }
        } else if (prm->in == CT_IN_HEADER) {
            src.header = mockd_req_header(req, prm->name);
            src.header_len = src.header ? strlen(src.header) : 0;
        }
        if (!ct_param_present(prm, &src)) continue;
        ct_diags_clear(&d);
        struct ct_node *v = ct_param_decode(a->ds, prm, &src, req->arena, &d);
        struct ct_vopts vo = {.direction = CT_DIR_REQUEST, .all_errors = true};
        if (v && a->params[opi][i] && !d.nerrors)
            ct_schema_validate_opts(a->params[opi][i], NULL, v, &vo, &d);
        for (size_t k = 0; k < d.n && n < 32; k++)
            if (d.v[k].sev == CT_SEV_ERROR)
                items[n++] =
                    (struct problem_item){jx_fmt(req->arena, "%s.%s", in_names[prm->in], prm->name),
                                          ct_arena_strdup(req->arena, d.v[k].msg)};
    }
    *body = NULL;
    if (op->nbody && req->body_len) {
        ct_diags_clear(&d);
        *body = jx_parse(req->arena, "request body", req->body, req->body_len, &d);
        if (!*body) {
            const struct ct_diag *g = d.n ? &d.v[0] : NULL;
            problem(
                req, resp, 400, "invalid-json", "Bad Request",
                g ? jx_fmt(req->arena, "the body is not JSON: %u:%u: %s", g->line, g->col, g->msg)
                  : "the body is not JSON",
                NULL, 0);
            ct_diags_deinit(&d);
            return false;
        }
        struct ct_vopts vo = {.direction = CT_DIR_REQUEST, .all_errors = true};
        if (a->body[opi] && !ct_schema_validate_opts(a->body[opi], NULL, *body, &vo, &d))
            for (size_t k = 0; k < d.n && n < 32; k++)
                if (d.v[k].sev == CT_SEV_ERROR)
                    items[n++] =
                        (struct problem_item){field_of(req->arena, NULL, d.v[k].instance_ptr),
                                              ct_arena_strdup(req->arena, d.v[k].msg)};
    } else if (op->nbody && op->body_required) {
        items[n++] = (struct problem_item){"body", "a JSON body is required"};
    }
    ct_diags_deinit(&d);
    if (!n) return true;
    problem(req, resp, 400, "invalid-request", "Bad Request",
            jx_fmt(req->arena, "the request does not match docs/mockd-admin.yaml (%zu problem%s)",
                   n, n == 1 ? "" : "s"),
            items, n);
    return false;
}

/* Check an answer against the document's schema for it; a mismatch is a bug of ours. */
static void self_check(struct admin_api *a, unsigned opi, struct mockd_req *req,
                       struct mockd_resp *resp)
{
    if (resp->body_len > (1u << 20)) return;
    const struct ct_oas_op *op = &a->oas->ops[opi];
    char code[8];
    snprintf(code, sizeof(code), "%u", resp->status);
    const struct ct_node *schema = NULL;
    for (unsigned i = 0; i < op->nresponses && !schema; i++)
        if (!strcmp(op->responses[i].status, code))
            for (unsigned k = 0; k < op->responses[i].nmedia && !schema; k++)
                schema = op->responses[i].media[k].schema;
    if (!schema) {
        fprintf(stderr,
                "mockd: admin: %s answered %u, which docs/mockd-admin.yaml does not "
                "document\n",
                op->operation_id, resp->status);
        mockd_resp_header(resp, "X-Mockd-Admin-Drift", "undocumented status");
        return;
    }
    struct ct_diags d;
    ct_diags_init(&d);
    d.max = 1;
    const struct ct_schema *s = ct_schema_set_get(a->schemas, schema, &d);
    const struct ct_node *n = jx_parse(req->arena, "admin answer", resp->body, resp->body_len, &d);
    struct ct_vopts vo = {.direction = CT_DIR_RESPONSE};
    if (!s || !n || !ct_schema_validate_opts(s, NULL, n, &vo, &d)) {
        const char *why = d.n ? jx_fmt(req->arena, "%s: %s",
                                       d.v[0].instance_ptr ? d.v[0].instance_ptr : "", d.v[0].msg)
                              : "invalid";
        fprintf(stderr, "mockd: admin: the answer of %s does not match docs/mockd-admin.yaml: %s\n",
                op->operation_id, why);
        mockd_resp_header(resp, "X-Mockd-Admin-Drift", why);
    }
    ct_diags_deinit(&d);
}

/* The admin API (its document parsed, its schemas compiled) is built on the first request to
 * it, not at start: most runs never call it. */
static struct admin_api *admin_of(struct mockd_layers *l)
{
    struct admin_api *a = __atomic_load_n(&l->admin, __ATOMIC_ACQUIRE);
    if (a) return a;
    pthread_mutex_lock(&l->admin_lock);
    a = l->admin;
    if (!a) {
        struct ct_diags d;
        ct_diags_init(&d);
        a = admin_new(l, &d);
        if (d.n) {
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_diags_render(&d, &b, false);
            fprintf(stderr, "mockd: %s", ct_buf_cstr(&b));
            ct_buf_deinit(&b);
        }
        ct_diags_deinit(&d);
        __atomic_store_n(&l->admin, a, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&l->admin_lock);
    return a;
}

bool admin_handle(struct mockd_layers *l, struct mockd_req *req, struct mockd_resp *resp)
{
    struct admin_api *a = admin_of(l);
    const struct mockd_layers_config *cfg = l->sh->cfg;
    resp->source = "admin";
    mockd_resp_header(resp, "Cache-Control", "no-store");
    int method = ct_http_method_parse(req->method, strlen(req->method));
    if (!a->router) {
        problem(req, resp, 500, "broken", "Internal Server Error",
                "the admin API document failed to load (see the start-up errors)", NULL, 0);
        return true;
    }
    struct ct_route_match m;
    int r = method < 0 ? -1
                       : ct_router_match(a->router, (enum ct_http_method)method, req->path,
                                         req->path_len, &m);
    if (method == CT_OPTIONS && r >= 0) {
        /* A CORS preflight from a browser-based tool: no credentials are sent with it. */
        resp->status = 204;
        mockd_resp_header(resp, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
        mockd_resp_header(resp, "Access-Control-Allow-Headers",
                          "Authorization, Content-Type, X-Mockd-Admin-Token");
        return true;
    }
    if (cfg->admin_token) {
        const char *authz = mockd_req_header(req, "Authorization");
        const char *tok = mockd_req_header(req, "X-Mockd-Admin-Token");
        if (authz && !strncasecmp(authz, "Bearer ", 7)) tok = authz + 7;
        if (!tok || !token_equal(tok, cfg->admin_token)) {
            mockd_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"mockd-admin\"");
            problem(req, resp, 401, "unauthorized", "Unauthorized",
                    tok ? "wrong admin token"
                        : "the admin API needs the --admin-token: send "
                          "'Authorization: Bearer TOKEN'",
                    NULL, 0);
            return true;
        }
    } else if (!loopback(req->remote)) {
        problem(req, resp, 403, "forbidden", "Forbidden",
                jx_fmt(req->arena,
                       "the admin API answers loopback clients only (this is %s); "
                       "start mockd with --admin-token to allow others",
                       req->remote),
                NULL, 0);
        return true;
    }
    if (r < 0) {
        const char *near = ct_router_near(a->router, req->path, req->path_len);
        if (!near) {
            const char **cands = ct_arena_alloc(req->arena, (a->oas->nops + 1) * sizeof(*cands));
            for (unsigned i = 0; i < a->oas->nops; i++)
                cands[i] = jx_fmt(req->arena, "/__mockd%s", a->oas->ops[i].path);
            near = ct_did_you_mean(ct_arena_strndup(req->arena, req->path, req->path_len), cands,
                                   a->oas->nops);
        }
        problem(req, resp, 404, "not-found", "Not Found",
                jx_fmt(req->arena,
                       "no admin operation at %s %.*s%s%s%s (see /__mockd/openapi.json)",
                       req->method, (int)req->path_len, req->path, near ? " (did you mean " : "",
                       near ? near : "", near ? "?)" : ""),
                NULL, 0);
        return true;
    }
    if (r == 0) {
        problem(req, resp, 405, "method-not-allowed", "Method Not Allowed",
                jx_fmt(req->arena, "%s is not an admin operation of %.*s", req->method,
                       (int)req->path_len, req->path),
                NULL, 0);
        return true;
    }
    unsigned opi = (unsigned)(m.op - a->oas->ops);
    resp->operation_id = m.op->operation_id;
    struct actx c = {.l = l, .req = req, .resp = resp, .m = &m};
    if (!check_request(a, opi, &m, req, resp, &c.body)) return true;
    ct_buf_init(&c.out, 0);
    unsigned status = a->fns[opi](&c);
    if (status >= 400 && !c.json_error) {
        const char *title = status == 404   ? "Not Found"
                            : status == 409 ? "Conflict"
                            : status == 400 ? "Bad Request"
                            : status == 422 ? "Unprocessable Content"
                                            : "Error";
        problem(req, resp, status, status == 404 ? "not-found" : "failed", title,
                ct_buf_cstr(&c.out), NULL, 0);
    } else {
        json_answer(req, resp, status, "application/json", &c.out);
    }
    ct_buf_deinit(&c.out);
    self_check(a, opi, req, resp);
    return true;
}

/* answer.c - answers the layers build the way the spec would: a documented response's example
 * or default body, its declared headers, and application/problem+json where the operation
 * documents nothing for the status.
 *
 * This repeats a little of respond.c (which keeps its helpers static): finding the response of
 * a status, and the declared headers with example or generated values. It does not negotiate
 * Accept: an override or an injected fault answers the response's JSON media type first. */
#include "layers_impl.h"

#include "core/alloc.h"
#include "gen/gen.h"

#include <string.h>
#include <strings.h>

const struct mockd_resp_plan *answer_find_resp(const struct mockd_op_plan *p, unsigned status)
{
    if (!p) return NULL;
    for (unsigned i = 0; i < p->nresps; i++)
        if (p->resps[i].code == status) return &p->resps[i];
    for (unsigned i = 0; i < p->nresps; i++)
        if (p->resps[i].klass && p->resps[i].klass == status / 100) return &p->resps[i];
    for (unsigned i = 0; i < p->nresps; i++)
        if (!p->resps[i].code && !p->resps[i].klass) return &p->resps[i];
    return NULL;
}

const struct mockd_media_plan *answer_media(const struct mockd_resp_plan *rp)
{
    if (!rp || !rp->nmedia) return NULL;
    for (unsigned i = 0; i < rp->nmedia; i++)
        if (rp->media[i].json && (rp->media[i].body || rp->media[i].m->schema))
            return &rp->media[i];
    return &rp->media[0];
}

void answer_set_header(struct mockd_resp *resp, const char *name, const char *value)
{
    for (unsigned i = 0; i < resp->nheaders; i++)
        if (!strcasecmp(resp->headers[i].name, name)) {
            resp->headers[i].value = value;
            return;
        }
    mockd_resp_header(resp, name, value);
}

void answer_body_node(struct mockd_req *req, struct mockd_resp *resp, const struct ct_node *n,
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

static const char *reason(unsigned status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

void answer_problem(struct mockd_req *req, struct mockd_resp *resp, unsigned status,
                    const char *type, const char *detail)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_buf_printf(
        &b, "{\"type\":\"urn:mockd:problem:%s\",\"title\":\"%s\",\"status\":%u,\"detail\":", type,
        reason(status), status);
    jx_put_cstr(&b, detail);
    if (resp->request_id) {
        ct_buf_adds(&b, ",\"requestId\":");
        jx_put_cstr(&b, resp->request_id);
    }
    ct_buf_addc(&b, '}');
    resp->status = status;
    resp->content_type = "application/problem+json";
    resp->body = ct_arena_strndup(req->arena, b.ptr, b.len);
    resp->body_len = b.len;
    ct_buf_deinit(&b);
}

void answer_declared_headers(const struct mockd_app *app, struct mockd_req *req,
                             struct mockd_resp *resp, const struct mockd_resp_plan *rp)
{
    const struct ct_node *hs = rp ? rp->r->headers : NULL;
    for (uint32_t i = 0; hs && i < hs->len; i++) {
        const char *name = hs->u.members[i].key->u.str;
        if (!strcasecmp(name, "content-type")) continue;
        const struct ct_node *h = ct_docset_deref(app->ds, hs->u.members[i].val, NULL);
        const struct ct_node *v = ct_obj_get(h, "example");
        const struct ct_node *sch = ct_obj_get(h, "schema");
        if (!v && sch) {
            struct ct_gen_opts go = {.seed = app->cfg->seed,
                                     .direction = CT_DIR_RESPONSE,
                                     .oas30 = app->oas->minor == 0,
                                     .prefer_examples = true};
            v = ct_gen_instance(app->ds, sch, &go, req->arena, NULL);
        }
        const char *val = v && v->kind != CT_ARRAY && v->kind != CT_OBJECT && v->kind != CT_NULL
                              ? jx_scalar_text(v)
                              : NULL;
        if (val) answer_set_header(resp, name, val);
    }
}

/* The named example of a response, in any of its media types. */
static const struct ct_node *named_example(const struct mockd_app *app,
                                           const struct mockd_resp_plan *rp, const char *name,
                                           const struct mockd_media_plan **mp_out)
{
    for (unsigned i = 0; rp && i < rp->nmedia; i++) {
        const struct ct_node *ex = ct_obj_get(rp->media[i].m->examples, name);
        ex = ex ? ct_docset_deref(app->ds, ex, NULL) : NULL;
        const struct ct_node *v = ct_obj_get(ex, "value");
        if (v) {
            *mp_out = &rp->media[i];
            return v;
        }
    }
    return NULL;
}

bool answer_spec(const struct mockd_app *app, const struct mockd_op_plan *p, struct mockd_req *req,
                 struct mockd_resp *resp, unsigned status, const char *example, const char *message)
{
    const struct mockd_resp_plan *rp = answer_find_resp(p, status);
    const struct mockd_media_plan *mp = answer_media(rp);
    const struct ct_node *body = mp ? mockd_media_body(app, mp) : NULL;
    if (example) {
        body = named_example(app, rp, example, &mp);
        if (!body) return false;
    }
    if (!rp) {
        answer_problem(req, resp, status, "mockd",
                       message ? message : "answer chosen by the mockd admin API");
        return true;
    }
    resp->status = status;
    answer_declared_headers(app, req, resp, rp);
    if (!mp || status == 204 || status == 304) return true;
    const char *type = strncmp(mp->m->type, "*/*", 3) ? mp->m->type : "application/json";
    if (!body) {
        resp->content_type = type;
        return true;
    }
    const struct ct_node *filled = body;
    if (mp->json && body->kind == CT_OBJECT && mp->schema) {
        struct ct_arena *a = req->arena;
        if (message && ct_obj_get(filled, "message"))
            filled = jx_set(a, filled, "message", jx_str(a, message));
        else if (message && ct_obj_get(filled, "detail"))
            filled = jx_set(a, filled, "detail", jx_str(a, message));
        if (resp->request_id && ct_obj_get(filled, "requestId"))
            filled = jx_set(a, filled, "requestId", jx_str(a, resp->request_id));
        struct ct_vopts vo = {.direction = CT_DIR_RESPONSE};
        if (filled != body && !ct_schema_validate_opts(mp->schema, NULL, filled, &vo, NULL))
            filled = body;
    }
    size_t blen = 0;
    const char *bytes = filled == body && !example ? mockd_media_bytes(app, mp, &blen) : NULL;
    if (bytes) {
        resp->body = bytes;
        resp->body_len = blen;
        resp->content_type = type;
    } else {
        answer_body_node(req, resp, filled, type);
    }
    return true;
}

/* all_answers.c - every answer mockd gives matches the spec's response schema.
 *
 * For each spec given: load it as mockd does, then for every operation, every documented status
 * and every media type, build a request that mockd accepts (parameters and body generated from
 * their schemas), ask for that status and media type (Prefer: code=N, Accept), answer it with
 * mockd_handle(), and validate the answer against the response schema (direction: response, so
 * writeOnly properties must not appear, formats asserted). One TAP line per spec; details of
 * every failure as TAP comments.
 *
 * usage: all_answers SPEC... (directories are searched for .yaml and .json files; a missing path is
 * skipped, saying so) */
#include "mockd.h"

#include "core/alloc.h"
#include "gen/gen.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

bool mockd_media_is_json(const char *type);

static int ntap, nfailed;

/* Text form of a generated primitive (or a JSON text for the rest). */
static const char *as_text(struct ct_arena *a, const struct ct_node *v)
{
    if (!v)
        return "x";
    if (v->kind == CT_STRING)
        return v->u.str;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (v->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                ct_buf_addc(&b, ',');
            const char *t = as_text(a, v->u.items[i]);
            ct_buf_adds(&b, t);
        }
    } else {
        ct_json_emit(v, &b, false);
    }
    char *s = ct_arena_strdup(a, ct_buf_cstr(&b));
    ct_buf_deinit(&b);
    return s;
}

static const char *pct(struct ct_arena *a, const char *s)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == ',')
            ct_buf_addc(&b, (char)*p);
        else
            ct_buf_printf(&b, "%%%02X", *p);
    }
    char *r = ct_arena_strdup(a, ct_buf_cstr(&b));
    ct_buf_deinit(&b);
    return r;
}

struct failure_log {
    struct ct_buf b;
    unsigned n;
};

static void note(struct failure_log *fl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct failure_log *fl, const char *fmt, ...)
{
    fl->n++;
    if (fl->n > 40)
        return;
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    ct_buf_printf(&fl->b, "#   %s\n", tmp);
}

static void check_spec(const char *path)
{
    struct mockd_config cfg;
    mockd_config_defaults(&cfg);
    mockd_layers_config_init(&cfg);
    cfg.spec_path = path;
    cfg.auth = MOCKD_AUTH_OFF;
    cfg.log_format = MOCKD_LOG_NONE;
    cfg.quiet = true;
    struct mockd_app app;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w"); /* load warnings are not this test's business */
    int rc = mockd_app_load(&app, &cfg);
    fclose(stderr);
    stderr = saved;
    if (rc) {
        printf("not ok %d - %s: does not load\n", ++ntap, path);
        nfailed++;
        mockd_app_free(&app);
        mockd_layers_config_free(&cfg);
        return;
    }
    struct failure_log fl;
    ct_buf_init(&fl.b, 0);
    fl.n = 0;
    unsigned answers = 0;
    struct ct_vctx *vc = ct_vctx_new();
    for (unsigned oi = 0; oi < app.oas->nops; oi++) {
        const struct ct_oas_op *op = &app.oas->ops[oi];
        const struct mockd_op_plan *plan = &app.plans[oi];
        if (op->webhook)
            continue;
        for (unsigned ri = 0; ri < plan->nresps; ri++) {
            const struct mockd_resp_plan *rp = &plan->resps[ri];
            unsigned status = rp->code ? rp->code : rp->klass ? rp->klass * 100 : 200;
            if (!rp->code && !rp->klass)
                status = 599; /* "default": any undocumented status */
            for (unsigned mi = 0; mi < (rp->nmedia ? rp->nmedia : 1); mi++) {
                struct ct_arena arena;
                ct_arena_init(&arena, 8192);
                struct mockd_req *req = ct_xcalloc(1, sizeof(*req));
                req->arena = &arena;
                req->method = ct_http_method_name(op->method);
                char *up = ct_arena_strdup(&arena, req->method);
                for (char *c = up; *c; c++)
                    *c = (char)(*c - 32 * (*c >= 'a' && *c <= 'z'));
                req->method = up;
                /* Path: the base path, then the template with generated values. */
                struct ct_buf upath;
                ct_buf_init(&upath, 0);
                ct_buf_adds(&upath, app.oas->servers[0].base_path);
                struct ct_gen_opts go = {.seed = 42, .direction = CT_DIR_REQUEST,
                                         .oas30 = app.oas->minor == 0, .prefer_examples = true};
                for (const char *t = op->path; *t;) {
                    if (*t == '{') {
                        const char *e = strchr(t, '}');
                        const struct ct_node *val = NULL;
                        for (unsigned k = 0; k < op->nparams; k++)
                            if (op->params[k].in == CT_IN_PATH &&
                                strlen(op->params[k].name) == (size_t)(e - t - 1) &&
                                !strncmp(op->params[k].name, t + 1, (size_t)(e - t - 1)) &&
                                op->params[k].schema)
                                val = ct_gen_instance(app.ds, op->params[k].schema, &go, &arena,
                                                      NULL);
                        ct_buf_adds(&upath, pct(&arena, as_text(&arena, val)));
                        t = e + 1;
                    } else {
                        ct_buf_addc(&upath, *t++);
                    }
                }
                req->path = ct_arena_strdup(&arena, ct_buf_cstr(&upath));
                req->path_len = upath.len;
                ct_buf_deinit(&upath);
                for (unsigned k = 0; k < op->nparams; k++) {
                    const struct ct_oas_param *p = &op->params[k];
                    if (!p->required || p->in == CT_IN_PATH || !p->schema)
                        continue;
                    const struct ct_node *v = ct_gen_instance(app.ds, p->schema, &go, &arena, NULL);
                    const char *text = as_text(&arena, v);
                    if (p->in == CT_IN_QUERY && req->nquery < MOCKD_MAX_QUERY) {
                        const char *e = pct(&arena, text);
                        req->query[req->nquery++] =
                            (struct ct_kv){p->name, strlen(p->name), e, strlen(e)};
                    } else if (p->in == CT_IN_HEADER && req->nheaders < MOCKD_MAX_HEADERS) {
                        req->headers[req->nheaders++] = (struct mockd_header){p->name, text};
                    } else if (p->in == CT_IN_COOKIE && req->nheaders < MOCKD_MAX_HEADERS) {
                        req->headers[req->nheaders++] = (struct mockd_header){
                            "Cookie", ct_arena_strdup(&arena, text)};
                    }
                }
                if (plan->nbody) {
                    const struct mockd_media_plan *bm = &plan->body[0];
                    for (unsigned k = 0; k < plan->nbody; k++)
                        if (plan->body[k].json) {
                            bm = &plan->body[k];
                            break;
                        }
                    bool form = !strncasecmp(bm->m->type, "application/x-www-form-urlencoded", 33);
                    bool multi = !strncasecmp(bm->m->type, "multipart/", 10);
                    const struct ct_node *fb =
                        (form || multi) && bm->m->schema
                            ? ct_gen_instance(app.ds, bm->m->schema, &go, &arena, NULL)
                            : NULL;
                    if (fb && fb->kind == CT_OBJECT) {
                        /* Form fields and multipart parts from a generated object. */
                        struct ct_buf bb;
                        ct_buf_init(&bb, 0);
                        for (uint32_t f = 0; f < fb->len; f++) {
                            const char *k = fb->u.members[f].key->u.str;
                            const char *v = as_text(&arena, fb->u.members[f].val);
                            if (form)
                                ct_buf_printf(&bb, "%s%s=%s", f ? "&" : "", pct(&arena, k),
                                              pct(&arena, v));
                            else
                                ct_buf_printf(&bb,
                                              "--B0undary\r\nContent-Disposition: form-data; "
                                              "name=\"%s\"\r\n\r\n%s\r\n",
                                              k, v);
                        }
                        if (multi)
                            ct_buf_adds(&bb, "--B0undary--\r\n");
                        req->body = ct_arena_strndup(&arena, bb.ptr ? bb.ptr : "", bb.len);
                        req->body_len = bb.len;
                        ct_buf_deinit(&bb);
                        req->headers[req->nheaders++] = (struct mockd_header){
                            "Content-Type",
                            multi ? ct_arena_strdup(&arena, "multipart/form-data; boundary=B0undary")
                                  : bm->m->type};
                    } else if (bm->json && bm->m->schema) {
                        const struct ct_node *b = ct_gen_instance(app.ds, bm->m->schema, &go,
                                                                  &arena, NULL);
                        if (b) {
                            struct ct_buf bb;
                            ct_buf_init(&bb, 0);
                            ct_json_emit(b, &bb, false);
                            req->body = ct_arena_strndup(&arena, bb.ptr, bb.len);
                            req->body_len = bb.len;
                            ct_buf_deinit(&bb);
                            req->headers[req->nheaders++] =
                                (struct mockd_header){"Content-Type", bm->m->type};
                        }
                    }
                }
                char *prefer = ct_arena_alloc(&arena, 32);
                snprintf(prefer, 32, "code=%u", status);
                req->headers[req->nheaders++] = (struct mockd_header){"Prefer", prefer};
                const struct mockd_media_plan *mp = rp->nmedia ? &rp->media[mi] : NULL;
                if (mp && strcmp(mp->m->type, "*/*") != 0)
                    req->headers[req->nheaders++] = (struct mockd_header){"Accept", mp->m->type};
                struct mockd_resp resp;
                mockd_handle(&app, req, &resp);
                answers++;
                const char *id = op->operation_id ? op->operation_id : op->path;
                if (resp.status != status) {
                    note(&fl, "%s %s %s: asked for %u, got %u: %.*s", req->method, op->path,
                         id, status, resp.status, (int)(resp.body_len > 300 ? 300 : resp.body_len),
                         resp.body ? resp.body : "");
                } else if (mp && mp->schema && mp->json && resp.body_len) {
                    struct ct_source src = {"answer", resp.body, resp.body_len};
                    struct ct_diags d;
                    ct_diags_init(&d);
                    /* The body must be NUL-terminated for the parser. */
                    char *copy = ct_arena_strndup(&arena, resp.body, resp.body_len);
                    src.text = copy;
                    const struct ct_node *inst = ct_json_parse(&arena, &src, NULL, &d);
                    struct ct_vopts vo = {.direction = CT_DIR_RESPONSE, .all_errors = false};
                    if (!inst || !ct_schema_validate_opts(mp->schema, vc, inst, &vo, &d))
                        note(&fl, "%s %s %u %s: answer does not match its schema: %s", req->method,
                             op->path, status, mp->m->type, d.n ? d.v[0].msg : "unparsable");
                    ct_diags_deinit(&d);
                } else if (mp && mp->m->schema && !resp.body_len && !mp->sse) {
                    note(&fl, "%s %s %u %s: empty answer though a schema is documented",
                         req->method, op->path, status, mp->m->type);
                }
                ct_free(req);
                ct_arena_deinit(&arena);
            }
        }
    }
    ct_vctx_free(vc);
    bool ok = fl.n == 0;
    printf("%s %d - %s: %u answers (every operation, status and media type) match their "
           "schemas\n",
           ok ? "ok" : "not ok", ++ntap, path, answers);
    if (!ok) {
        nfailed++;
        fputs(ct_buf_cstr(&fl.b), stdout);
        if (fl.n > 40)
            printf("#   ... %u more\n", fl.n - 40);
    }
    ct_buf_deinit(&fl.b);
    mockd_app_free(&app);
    mockd_layers_config_free(&cfg);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            printf("ok %d - # SKIP %s absent\n", ++ntap, argv[i]);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            check_spec(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        char *names[256];
        int n = 0;
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL && n < 256) {
            const char *dot = strrchr(e->d_name, '.');
            if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".json")))
                names[n++] = ct_xasprintf("%s/%s", argv[i], e->d_name);
        }
        if (d)
            closedir(d);
        qsort(names, (size_t)n, sizeof(char *), cmp);
        for (int k = 0; k < n; k++) {
            check_spec(names[k]);
            ct_free(names[k]);
        }
    }
    printf("1..%d\n", ntap);
    return nfailed ? 1 : 0;
}

/* app.c - loading a spec and preparing everything requests need, once: the router, compiled
 * schemas, default answers serialised to bytes, auth roles of operations.
 *
 * Examples that fail their own schema are reported as located warnings and not served by
 * default (a generated body takes their place), so every answer mockd gives matches the
 * contract even when the contract's examples do not. */
#include "mockd.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/ptrmap.h"
#include "gen/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_diags(struct ct_diags *d)
{
    if (!d->n)
        return;
    struct ct_buf out;
    ct_buf_init(&out, 0);
    ct_diags_render(d, &out, isatty(2));
    fputs(ct_buf_cstr(&out), stderr);
    ct_buf_deinit(&out);
}

bool mockd_media_is_json(const char *type);
bool mockd_media_is_json(const char *type)
{
    size_t n = strcspn(type, ";");
    if (n >= 16 && !strncasecmp(type, "application/json", 16) && (n == 16))
        return true;
    /* application/problem+json, application/vnd.x+json */
    return n > 5 && !strncasecmp(type + n - 5, "+json", 5);
}

static unsigned parse_status(const char *s, unsigned *klass)
{
    *klass = 0;
    if (!strcmp(s, "default"))
        return 0;
    if (s[1] == 'X') {
        *klass = (unsigned)(s[0] - '0');
        return 0;
    }
    return (unsigned)atoi(s);
}

/* Responses shared through $ref (error responses, mostly) are planned once: operations that
 * use the same Response Object share its array of media plans, and a Media Type node met again
 * (a YAML alias) gets a copy of its plan. Both maps are keyed by node. */
static struct ct_ptrmap media_memo, resp_memo;
/* One validation context for every example checked at load (each has its own match data). */
static struct ct_vctx *plan_vctx;

static void plan_media_once(struct mockd_app *app, struct mockd_media_plan *mp,
                            enum ct_direction dir, bool is_response, struct ct_diags *diags);

static void plan_media(struct mockd_app *app, struct mockd_media_plan *mp, enum ct_direction dir,
                       bool is_response, struct ct_diags *diags)
{
    if (!is_response) {
        plan_media_once(app, mp, dir, is_response, diags);
        return;
    }
    void *first;
    if (ct_ptrmap_get(&media_memo, mp->m->node, &first)) {
        const struct ct_oas_media *m = mp->m;
        *mp = *(const struct mockd_media_plan *)first;
        mp->m = m;
        return;
    }
    plan_media_once(app, mp, dir, is_response, diags);
    ct_ptrmap_put(&media_memo, mp->m->node, mp);
}

static void plan_media_once(struct mockd_app *app, struct mockd_media_plan *mp,
                            enum ct_direction dir, bool is_response, struct ct_diags *diags)
{
    struct ct_arena *arena = ct_docset_arena(app->ds);
    mp->owner = app;
    mp->json = mockd_media_is_json(mp->m->type);
    mp->sse = !strncasecmp(mp->m->type, "text/event-stream", 17);
    mp->text = !mp->json && !strncasecmp(mp->m->type, "text/", 5);
    if (mp->m->schema)
        mp->schema = ct_schema_set_get(app->schemas, mp->m->schema, diags);
    if (!is_response)
        return;
    struct ct_vopts vo = {.direction = dir};
    const struct ct_node *cands[64];
    unsigned nc = 0;
    if (mp->m->example)
        cands[nc++] = mp->m->example;
    if (mp->m->examples)
        for (uint32_t i = 0; i < mp->m->examples->len && nc < 64; i++) {
            const struct ct_node *ex = ct_docset_deref(app->ds, mp->m->examples->u.members[i].val,
                                                       diags);
            const struct ct_node *v = ct_obj_get(ex, "value");
            if (v)
                cands[nc++] = v;
        }
    for (unsigned i = 0; i < nc && !mp->body; i++) {
        struct ct_diags why;
        ct_diags_init(&why);
        why.max = 1;
        if (!mp->schema || !mp->json || ct_schema_validate_opts(mp->schema, plan_vctx, cands[i], &vo, &why)) {
            mp->body = cands[i];
        } else {
            const struct ct_diag *g = why.n ? &why.v[0] : NULL;
            struct ct_diag *w = ct_diags_add(
                diags, CT_SEV_WARNING, CT_E_INVALID, cands[i]->src, cands[i]->line, cands[i]->col,
                "example does not match its schema, not served: %s%s%s",
                g && g->instance_ptr && *g->instance_ptr ? g->instance_ptr : "",
                g && g->instance_ptr && *g->instance_ptr ? ": " : "", g ? g->msg : "invalid");
            (void)w;
            app->nwarnings++;
        }
        ct_diags_deinit(&why);
    }
    /* Without an example the body is generated on first use (mockd_media_body): start-up
     * stays fast on big specs. --check generates them all now, to report what cannot be. */
    if (!mp->body && mp->m->schema && !mp->sse && app->cfg->check_only) {
        struct ct_gen_opts go = {.seed = app->cfg->seed, .direction = dir,
                                 .oas30 = app->oas->minor == 0, .prefer_examples = true};
        mp->body = ct_gen_instance(app->ds, mp->m->schema, &go, arena, diags);
    }
    /* Its bytes are serialised on first use (mockd_media_bytes). */
}

/* A body as the bytes of an answer, in `arena`: a string as is for non-JSON media types. */
static const char *serialise(const struct mockd_media_plan *mp, const struct ct_node *body,
                             struct ct_arena *arena, size_t *len)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (body->kind == CT_STRING && !mp->json)
        ct_buf_add(&b, body->u.str, body->len);
    else
        ct_json_emit(body, &b, false);
    const char *bytes = ct_arena_strndup(arena, b.ptr ? b.ptr : "", b.len);
    *len = b.len;
    ct_buf_deinit(&b);
    return bytes;
}

static enum mockd_auth_role role_of(const struct ct_oas_op *op)
{
    const char *ext = ct_obj_str(op->node, "x-mockd-auth");
    const char *id = op->operation_id ? op->operation_id : "";
    if (ext) {
        if (!strcmp(ext, "login"))
            return MOCKD_ROLE_LOGIN;
        if (!strcmp(ext, "refresh"))
            return MOCKD_ROLE_REFRESH;
        if (!strcmp(ext, "logout"))
            return MOCKD_ROLE_LOGOUT;
    }
    if (!strcmp(id, "login") || !strcmp(id, "loginWithDingTalk"))
        return MOCKD_ROLE_LOGIN;
    if (!strcmp(id, "refreshToken") || !strcmp(id, "refresh"))
        return MOCKD_ROLE_REFRESH;
    if (!strcmp(id, "logout"))
        return MOCKD_ROLE_LOGOUT;
    return MOCKD_ROLE_NONE;
}

static void plan_op(struct mockd_app *app, struct mockd_op_plan *p, const struct ct_oas_op *op,
                    struct ct_diags *diags)
{
    struct ct_arena *arena = ct_docset_arena(app->ds);
    p->op = op;
    p->role = role_of(op);
    p->roles = ct_obj_get(op->node, "x-required-roles");
    /* Arrays only when there is something in them: a big spec has thousands of operations. */
    p->params = op->nparams ? ct_arena_zalloc(arena, op->nparams * sizeof(*p->params)) : NULL;
    for (unsigned i = 0; i < op->nparams; i++) {
        const struct ct_node *s = op->params[i].schema;
        if (!s && op->params[i].content && op->params[i].content->len)
            s = ct_obj_get(op->params[i].content->u.members[0].val, "schema");
        if (s)
            p->params[i] = ct_schema_set_get(app->schemas, s, diags);
    }
    p->nbody = op->nbody;
    p->body = op->nbody ? ct_arena_zalloc(arena, op->nbody * sizeof(*p->body)) : NULL;
    for (unsigned i = 0; i < op->nbody; i++) {
        p->body[i].m = &op->body[i];
        plan_media(app, &p->body[i], CT_DIR_REQUEST, false, diags);
    }
    p->nresps = op->nresponses;
    p->resps = op->nresponses ? ct_arena_zalloc(arena, op->nresponses * sizeof(*p->resps)) : NULL;
    p->dflt = -1;
    unsigned best = 10000;
    for (unsigned i = 0; i < op->nresponses; i++) {
        struct mockd_resp_plan *rp = &p->resps[i];
        rp->r = &op->responses[i];
        rp->code = parse_status(rp->r->status, &rp->klass);
        rp->nmedia = rp->r->nmedia;
        void *shared;
        if (rp->nmedia && ct_ptrmap_get(&resp_memo, rp->r->node, &shared)) {
            rp->media = shared;
        } else if (rp->nmedia) {
            rp->media = ct_arena_zalloc(arena, rp->nmedia * sizeof(*rp->media));
            for (unsigned k = 0; k < rp->nmedia; k++) {
                rp->media[k].m = &rp->r->media[k];
                plan_media(app, &rp->media[k], CT_DIR_RESPONSE, true, diags);
            }
            ct_ptrmap_put(&resp_memo, rp->r->node, rp->media);
        }
        /* The default answer: the lowest 2xx code, then a 2XX range, then "default", then
         * whatever the operation documents (a redirect-only operation answers its 3xx). */
        unsigned rank = rp->code >= 200 && rp->code < 300 ? rp->code
                        : rp->klass == 2                   ? 300
                        : rp->code == 0 && !rp->klass      ? 400
                        : rp->code                         ? 1000 + rp->code
                                                           : 2000 + rp->klass;
        if (rank < best) {
            best = rank;
            p->dflt = (int)i;
        }
    }
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* --dialogues: comma-separated files or directories (their *.yaml and *.yml, sorted). */
static void load_dialogues(struct mockd_app *app, const char *spec, struct ct_diags *diags)
{
    char **paths = NULL;
    size_t n = 0, cap = 0;
    for (const char *p = spec; *p;) {
        size_t l = strcspn(p, ",");
        char *one = ct_xstrndup(p, l);
        struct stat st;
        if (stat(one, &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(one);
            struct dirent *e;
            size_t first = n;
            while (d && (e = readdir(d)) != NULL) {
                const char *dot = strrchr(e->d_name, '.');
                if (e->d_name[0] == '.' || !dot || (strcmp(dot, ".yaml") && strcmp(dot, ".yml")))
                    continue;
                paths = ct_xgrow(paths, &cap, n + 1, sizeof(*paths));
                paths[n++] = ct_xasprintf("%s/%s", one, e->d_name);
            }
            if (d)
                closedir(d);
            qsort(paths + first, n - first, sizeof(*paths), name_cmp);
            ct_free(one);
        } else {
            paths = ct_xgrow(paths, &cap, n + 1, sizeof(*paths));
            paths[n++] = one;
        }
        p += l + (p[l] == ',');
    }
    struct ct_dialogue_env env = {.api = app->asyncapi, .oas = app->oas};
    app->dialogues = ct_dialogue_set_load(app->ds, (const char *const *)paths, n, &env, diags);
    for (size_t i = 0; i < n; i++)
        ct_free(paths[i]);
    ct_free(paths);
}

int mockd_app_load(struct mockd_app *app, const struct mockd_config *cfg)
{
    memset(app, 0, sizeof(*app));
    pthread_mutex_init(&app->render_lock, NULL);
    pthread_mutex_init(&app->lazy_lock, NULL);
    ct_arena_init(&app->lazy, 1 << 14);
    app->cfg = cfg;
    struct ct_diags diags;
    ct_diags_init(&diags);
    diags.max = 100;
    app->oas = ct_oas_load(cfg->spec_path, NULL, &app->ds, &diags);
    if (!app->oas) {
        print_diags(&diags);
        fprintf(stderr, "mockd: %s: %zu error%s, not serving\n", cfg->spec_path, diags.nerrors,
                diags.nerrors == 1 ? "" : "s");
        ct_diags_deinit(&diags);
        return 2;
    }
    struct ct_schema_opts so = {
        .dialect = app->oas->minor == 0 ? CT_DIALECT_OAS30 : CT_DIALECT_OAS31,
        .format_assert = true,
        .all_errors = true,
        .lenient_patterns = true, /* serve real-world specs whose patterns are PCRE-only */
    };
    if (app->oas->json_schema_dialect && app->oas->minor > 0)
        so.dialect = CT_DIALECT_AUTO;
    app->schemas = ct_schema_set_new(app->ds, &so);
    app->router = ct_router_new(app->oas);
    app->plans = ct_xcalloc(app->oas->nops + 1, sizeof(*app->plans));
    plan_vctx = ct_vctx_new();
    for (unsigned i = 0; i < app->oas->nops; i++)
        plan_op(app, &app->plans[i], &app->oas->ops[i], &diags);
    ct_vctx_free(plan_vctx);
    plan_vctx = NULL;
    ct_ptrmap_deinit(&media_memo);
    ct_ptrmap_deinit(&resp_memo);
    ct_schema_set_trim(app->schemas);
    if (cfg->asyncapi_path) {
        app->asyncapi = ct_asyncapi_load(app->ds, cfg->asyncapi_path, NULL, &diags);
        if (app->asyncapi && cfg->dialogue_paths)
            load_dialogues(app, cfg->dialogue_paths, &diags);
    } else if (cfg->dialogue_paths) {
        load_dialogues(app, cfg->dialogue_paths, &diags);
    }
    app->layers = mockd_layers_new(app, &diags);
    size_t errors = diags.nerrors;
    print_diags(&diags);
    ct_diags_deinit(&diags);
    if (errors) {
        fprintf(stderr, "mockd: %s: %zu error%s in schemas, not serving\n", cfg->spec_path, errors,
                errors == 1 ? "" : "s");
        return 2;
    }

    /* Auth: JWT simulation when the spec has a bearer scheme and a login operation. */
    app->auth = cfg->auth;
    if (app->auth == MOCKD_AUTH_AUTO) {
        bool login = false, bearer = false;
        for (unsigned i = 0; i < app->oas->nops; i++)
            login |= app->plans[i].role == MOCKD_ROLE_LOGIN;
        for (unsigned i = 0; i < app->oas->nschemes; i++)
            bearer |= app->oas->schemes[i].scheme &&
                      !strcasecmp(app->oas->schemes[i].scheme, "bearer");
        app->auth = login && bearer ? MOCKD_AUTH_JWT : MOCKD_AUTH_PRESENCE;
    }
    app->jwt = mockd_jwt_new(cfg->jwt_secret, cfg->token_ttl, cfg->refresh_ttl);

    /* Loading is over and its diagnostics are printed: the spec's text (as big again as its
     * tree) is not needed to serve. Later diagnostics located in it go without a source line. */
    ct_docset_drop_text(app->ds, app->oas->root);
    return 0;
}

const struct ct_node *mockd_media_body(const struct mockd_app *capp,
                                       const struct mockd_media_plan *cmp)
{
    const struct ct_node *b = __atomic_load_n(&cmp->body, __ATOMIC_ACQUIRE);
    if (b || !cmp->m->schema || cmp->sse || __atomic_load_n(&cmp->gen_failed, __ATOMIC_ACQUIRE))
        return b;
    /* The plan and the arena are the app's mutable parts, under lazy_lock. */
    struct mockd_app *app = (struct mockd_app *)capp;
    struct mockd_media_plan *mp = (struct mockd_media_plan *)cmp;
    pthread_mutex_lock(&app->lazy_lock);
    if (!mp->body && !mp->gen_failed) {
        struct ct_gen_opts go = {.seed = app->cfg->seed, .direction = CT_DIR_RESPONSE,
                                 .oas30 = app->oas->minor == 0, .prefer_examples = true};
        const struct ct_node *g = ct_gen_instance(app->ds, mp->m->schema, &go, &app->lazy, NULL);
        if (g) {
            size_t len;
            const char *bytes = serialise(mp, g, &app->lazy, &len);
            mp->len = len;
            __atomic_store_n(&mp->bytes, bytes, __ATOMIC_RELEASE);
            __atomic_store_n(&mp->body, g, __ATOMIC_RELEASE);
        } else {
            __atomic_store_n(&mp->gen_failed, true, __ATOMIC_RELEASE);
        }
    }
    b = mp->body;
    pthread_mutex_unlock(&app->lazy_lock);
    return b;
}

const char *mockd_media_bytes(const struct mockd_app *capp, const struct mockd_media_plan *cmp,
                              size_t *len)
{
    const char *bytes = __atomic_load_n(&cmp->bytes, __ATOMIC_ACQUIRE);
    if (!bytes && __atomic_load_n(&cmp->body, __ATOMIC_ACQUIRE)) {
        /* An example chosen at load: serialised the first time it is served. */
        struct mockd_app *app = (struct mockd_app *)capp;
        struct mockd_media_plan *mp = (struct mockd_media_plan *)cmp;
        pthread_mutex_lock(&app->lazy_lock);
        bytes = mp->bytes;
        if (!bytes) {
            size_t n;
            bytes = serialise(mp, mp->body, &app->lazy, &n);
            mp->len = n;
            __atomic_store_n(&mp->bytes, bytes, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&app->lazy_lock);
    }
    *len = cmp->len;
    return bytes;
}

const char *mockd_app_spec_text(const struct mockd_app *capp, bool yaml, size_t *len)
{
    /* The rendering cache is the one mutable part of an app; the lock makes it safe. */
    struct mockd_app *app = (struct mockd_app *)capp;
    pthread_mutex_lock(&app->render_lock);
    char **text = yaml ? &app->spec_yaml : &app->spec_json;
    size_t *tl = yaml ? &app->spec_yaml_len : &app->spec_json_len;
    if (!*text) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        if (yaml)
            ct_yaml_emit(app->oas->root, &b);
        else
            ct_json_emit(app->oas->root, &b, false);
        *text = ct_buf_steal(&b, tl);
    }
    pthread_mutex_unlock(&app->render_lock);
    *len = *tl;
    return *text;
}

void mockd_app_free(struct mockd_app *app)
{
    mockd_layers_free(app->layers);
    ct_dialogue_set_free(app->dialogues);
    ct_asyncapi_free(app->asyncapi);
    if (app->schemas)
        ct_schema_set_free(app->schemas);
    ct_router_free(app->router);
    ct_free(app->plans);
    mockd_jwt_free(app->jwt);
    pthread_mutex_destroy(&app->render_lock);
    pthread_mutex_destroy(&app->lazy_lock);
    ct_arena_deinit(&app->lazy);
    ct_free(app->spec_json);
    ct_free(app->spec_yaml);
    ct_docset_free(app->ds);
    memset(app, 0, sizeof(*app));
}

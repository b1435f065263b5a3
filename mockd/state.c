/* state.c - --stateful: CRUD resources inferred from the spec, and the items they store.
 *
 * Inference (state_model_new, once per loaded spec). An operation whose path ends in a template
 * segment (`/prompts/{promptId}`) acts on an item of the collection one segment up
 * (`/prompts`); other paths are collections. GET on a collection whose answer holds an array is
 * `list`, POST on it `create`; GET, PATCH, PUT and DELETE on the item path are `read`,
 * `update`, `replace` and `delete`. A collection with list, create or read becomes a resource.
 * Where the item and the array sit in the answers (envelopes such as `{success, data}` and
 * pages such as `{data: [...], meta: {page, total}}`) is found in the operations' default
 * answers: the object that carries the id field, the first array of objects, the object with
 * paging fields. Seed items come from the list and read examples.
 *
 * Storage (struct store, survives reloads): a collection per (session, key), where the key is
 * the collection's template with its parent parameters filled in (`/prompts/42/versions`). It
 * is created and seeded on first use, so a reset only has to forget. Items are kept as JSON
 * text and parsed into the request's arena when needed: the store owns only flat strings.
 * One mutex guards the store; every operation holds it from reading to writing, so concurrent
 * requests never lose an update.
 *
 * Answers are the operation's default answer with the item, or the page of items and its
 * paging fields, put in place. They are checked against the response schema; properties the
 * schema refuses (write-only, undeclared) are dropped, and what still does not fit is sent with
 * an X-Mockd-State-Warning header rather than hidden. */
#include "layers_impl.h"

#include "core/alloc.h"
#include "openapi/params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum role { R_NONE, R_LIST, R_CREATE, R_READ, R_UPDATE, R_REPLACE, R_DELETE, R_COUNT };
static const char *const role_names[] = {"none",   "list",    "create", "read",
                                         "update", "replace", "delete"};

enum idkind { ID_STRING, ID_INT, ID_UUID };
static const char *const idkind_names[] = {"string", "integer", "uuid"};

struct resource {
    const char *coll;     /* collection template, "/api/v1/prompts" */
    const char *item;     /* item template, or NULL */
    const char *id_field; /* "id" */
    enum idkind idkind;
    int ops[R_COUNT]; /* operation index per role, -1 */
    const struct ct_node **seed;
    size_t nseed;
    const char *list_ptr; /* of the list answer */
    const char *meta_ptr; /* paging object of the list answer, or NULL */
};

struct op_info {
    int res; /* resource index, -1 */
    enum role role;
    const struct mockd_resp_plan *rp;  /* the default answer */
    const struct mockd_media_plan *mp; /* its JSON media type, may be NULL */
    const char *item_ptr;              /* where the item sits in that answer, or NULL */
};

struct state_model {
    const struct mockd_app *app;
    struct ct_arena arena;
    struct resource *res;
    size_t nres;
    struct op_info *ops; /* parallel to app->oas->ops */
};

struct sitem {
    char *id;
    char *json;
    size_t len;
};

struct coll {
    char *session; /* "" for requests without X-Mockd-Session */
    char *key;
    struct sitem *items;
    size_t n, cap;
    uint64_t used; /* store tick of the last use, for evicting old sessions */
};

struct store {
    pthread_mutex_t lock;
    struct coll **v;
    size_t n, cap;
    unsigned max_sessions;
    uint64_t tick;
    uint64_t made; /* ids generated, for uuids */
};

/* --- small helpers --------------------------------------------------------------------------- */

static const char *const total_keys[] = {"total",         "totalItems", "totalCount", "total_count",
                                         "totalElements", "count",      "total_items"};
static const char *const pages_keys[] = {"pages", "totalPages", "total_pages", "pageCount",
                                         "page_count"};
static const char *const limit_keys[] = {"limit",    "pageSize", "page_size", "perPage",
                                         "per_page", "size",     "take"};
static const char *const sort_keys[] = {"sort", "sortBy", "sort_by", "orderBy", "order_by"};
static const char *const order_keys[] = {"order", "sortOrder", "sort_order", "direction", "dir"};
static const char *const search_keys[] = {"q", "query", "search", "keyword", "keywords", "text"};
static const char *const created_keys[] = {"createdAt",    "created_at",  "createdOn", "created",
                                           "creationDate", "dateCreated", "created_on"};
static const char *const updated_keys[] = {"updatedAt",   "updated_at",   "modifiedAt",
                                           "modified_at", "lastModified", "dateModified",
                                           "updatedOn",   "updated_on",   "lastModifiedAt"};

#define NAMES_HAS(arr, s) names_has(arr, sizeof(arr) / sizeof(arr[0]), s)
static bool names_has(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return true;
    return false;
}

static const struct ct_node *default_body(const struct mockd_op_plan *p,
                                          const struct mockd_resp_plan **rp_out,
                                          const struct mockd_media_plan **mp_out)
{
    const struct mockd_resp_plan *rp = p->dflt >= 0 ? &p->resps[p->dflt] : NULL;
    const struct mockd_media_plan *mp = NULL;
    for (unsigned i = 0; rp && i < rp->nmedia && !mp; i++)
        if (rp->media[i].json) mp = &rp->media[i];
    *rp_out = rp;
    *mp_out = mp;
    return mp ? mockd_media_body(mp->owner, mp) : NULL;
}

/* Breadth-first search, depth <= 3, through objects (and the first item of arrays when
 * `into_arrays`), for the first node `want` accepts; *ptr_out gets its JSON Pointer. */
typedef bool (*want_fn)(const struct ct_node *n, const void *ud);

static bool bfs(struct ct_arena *a, const struct ct_node *root, want_fn want, const void *ud,
                const char **ptr_out)
{
    const struct ct_node *q[64];
    const char *qp[64];
    unsigned qd[64];
    unsigned head = 0, tail = 0;
    q[tail] = root;
    qp[tail] = "";
    qd[tail++] = 0;
    while (head < tail) {
        const struct ct_node *n = q[head];
        const char *p = qp[head];
        unsigned d = qd[head++];
        if (!n) continue;
        if (want(n, ud)) {
            *ptr_out = p;
            return true;
        }
        if (n->kind != CT_OBJECT || d >= 3) continue;
        for (uint32_t i = 0; i < n->len && tail < 64; i++) {
            const struct ct_node *v = n->u.members[i].val;
            if (v->kind != CT_OBJECT && v->kind != CT_ARRAY) continue;
            struct ct_buf b;
            ct_buf_init(&b, 0);
            ct_buf_adds(&b, p);
            ct_pointer_append(&b, n->u.members[i].key->u.str, n->u.members[i].key->len);
            q[tail] = v;
            qp[tail] = ct_arena_strdup(a, ct_buf_cstr(&b));
            qd[tail++] = d + 1;
            ct_buf_deinit(&b);
        }
    }
    return false;
}

static bool has_key(const struct ct_node *n, const void *key)
{
    return n->kind == CT_OBJECT && ct_obj_get(n, key);
}

static bool is_object_array(const struct ct_node *n, const void *ud)
{
    return n->kind == CT_ARRAY && (n->len == 0 || n->u.items[0]->kind == CT_OBJECT);
}

static bool is_paging(const struct ct_node *n, const void *ud)
{
    if (n->kind != CT_OBJECT) return false;
    for (size_t i = 0; i < sizeof(total_keys) / sizeof(total_keys[0]); i++)
        if (ct_obj_get(n, total_keys[i])) return true;
    for (size_t i = 0; i < sizeof(pages_keys) / sizeof(pages_keys[0]); i++)
        if (ct_obj_get(n, pages_keys[i])) return true;
    return false;
}

/* The text of an id value: strings as they are, integers as their literal. */
static const char *id_text(const struct ct_node *v)
{
    if (!v) return NULL;
    if (v->kind == CT_STRING) return v->u.str;
    if (v->kind == CT_NUMBER) return v->u.text;
    return NULL;
}

static bool looks_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static void now_iso(char out[64], bool millis)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    if (millis)
        snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000) % 1000);
    else
        snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A timestamp field set to now, in the form the old value had (ISO text or epoch number). */
static const struct ct_node *stamp(struct ct_arena *a, const struct ct_node *old)
{
    if (old && old->kind == CT_NUMBER) {
        double ms = layers_wall_ms();
        return jx_int(a, old->len >= 12 ? (long long)ms : (long long)(ms / 1000));
    }
    char t[64];
    now_iso(t, old && old->kind == CT_STRING && strchr(old->u.str, '.'));
    return jx_str(a, t);
}

static const struct ct_node *touch(struct ct_arena *a, const struct ct_node *item, bool created)
{
    for (size_t i = 0; i < sizeof(updated_keys) / sizeof(updated_keys[0]); i++) {
        const struct ct_node *old = ct_obj_get(item, updated_keys[i]);
        if (old && (old->kind == CT_STRING || old->kind == CT_NUMBER))
            item = jx_set(a, item, updated_keys[i], stamp(a, old));
    }
    for (size_t i = 0; created && i < sizeof(created_keys) / sizeof(created_keys[0]); i++) {
        const struct ct_node *old = ct_obj_get(item, created_keys[i]);
        if (old && (old->kind == CT_STRING || old->kind == CT_NUMBER))
            item = jx_set(a, item, created_keys[i], stamp(a, old));
    }
    return item;
}

/* --- inference ------------------------------------------------------------------------------- */

/* The collection template of a path and whether the path is an item path ("/x/{id}"). */
static char *split_item(struct ct_arena *a, const char *path, bool *item, const char **param)
{
    size_t n = strlen(path);
    const char *slash = n ? path + n - 1 : path;
    while (slash > path && *slash != '/')
        slash--;
    const char *last = slash + 1;
    size_t ll = strlen(last);
    *item = ll > 2 && last[0] == '{' && last[ll - 1] == '}' && !memchr(last + 1, '{', ll - 2);
    if (!*item) return ct_arena_strdup(a, path);
    *param = ct_arena_strndup(a, last + 1, ll - 2);
    return ct_arena_strndup(a, path, (size_t)(slash - path));
}

static int find_res(struct state_model *sm, const char *coll)
{
    for (size_t i = 0; i < sm->nres; i++)
        if (!strcmp(sm->res[i].coll, coll)) return (int)i;
    return -1;
}

/* Every example value of a media type: `example` and the `examples` map. */
static size_t example_values(const struct mockd_app *app, const struct mockd_media_plan *mp,
                             const struct ct_node **out, size_t max)
{
    size_t n = 0;
    if (!mp) return 0;
    if (mp->m->example && n < max) out[n++] = mp->m->example;
    for (uint32_t i = 0; mp->m->examples && i < mp->m->examples->len && n < max; i++) {
        const struct ct_node *ex =
            ct_docset_deref(app->ds, mp->m->examples->u.members[i].val, NULL);
        const struct ct_node *v = ct_obj_get(ex, "value");
        if (v) out[n++] = v;
    }
    return n;
}

static void add_seed(struct state_model *sm, struct resource *r, const struct ct_node *item)
{
    const char *id = id_text(ct_obj_get(item, r->id_field));
    if (!item || item->kind != CT_OBJECT || !id) return;
    for (size_t i = 0; i < r->nseed; i++)
        if (!strcmp(id_text(ct_obj_get(r->seed[i], r->id_field)), id)) return;
    const struct ct_node **v = ct_arena_alloc(&sm->arena, (r->nseed + 1) * sizeof(*v));
    if (r->nseed) memcpy(v, r->seed, r->nseed * sizeof(*v));
    v[r->nseed++] = item;
    r->seed = v;
}

struct state_model *state_model_new(const struct mockd_app *app, struct ct_diags *diags)
{
    struct state_model *sm = ct_xcalloc(1, sizeof(*sm));
    sm->app = app;
    ct_arena_init(&sm->arena, 8192);
    struct ct_arena *a = &sm->arena;
    unsigned nops = app->oas->nops;
    sm->ops = ct_xcalloc(nops + 1, sizeof(*sm->ops));
    sm->res = ct_arena_zalloc(a, (nops + 1) * sizeof(*sm->res));
    const char **params = ct_arena_zalloc(a, (nops + 1) * sizeof(*params));

    /* Roles. */
    for (unsigned i = 0; i < nops; i++) {
        const struct ct_oas_op *op = &app->oas->ops[i];
        struct op_info *oi = &sm->ops[i];
        oi->res = -1;
        if (op->webhook) continue;
        bool item;
        const char *param = NULL;
        char *coll = split_item(a, op->path, &item, &param);
        const struct ct_node *body = default_body(&app->plans[i], &oi->rp, &oi->mp);
        enum role role = R_NONE;
        const char *ptr;
        if (!item && op->method == CT_GET && body && bfs(a, body, is_object_array, NULL, &ptr))
            role = R_LIST;
        else if (!item && op->method == CT_POST && op->nbody)
            role = R_CREATE;
        else if (item && op->method == CT_GET)
            role = R_READ;
        else if (item && op->method == CT_PATCH)
            role = R_UPDATE;
        else if (item && op->method == CT_PUT)
            role = R_REPLACE;
        else if (item && op->method == CT_DELETE)
            role = R_DELETE;
        if (role == R_NONE) continue;
        int ri = find_res(sm, coll);
        if (ri < 0) {
            ri = (int)sm->nres++;
            sm->res[ri].coll = coll;
            for (int k = 0; k < R_COUNT; k++)
                sm->res[ri].ops[k] = -1;
        }
        struct resource *r = &sm->res[ri];
        if (item && !r->item) {
            r->item = op->path;
            params[ri] = param;
        }
        if (r->ops[role] < 0) r->ops[role] = (int)i;
        oi->res = ri;
        oi->role = role;
    }

    /* Keep collections that can be listed, created into or read; find where things sit. */
    for (size_t ri = 0; ri < sm->nres; ri++) {
        struct resource *r = &sm->res[ri];
        /* An item path and a way to reach items, or a list of items with ids that can be
         * created into. Lone lists (health checks with an `errors` array) and lone POSTs
         * (login) stay with the spec's answers. */
        bool keep =
            r->item && (r->ops[R_LIST] >= 0 || r->ops[R_CREATE] >= 0 || r->ops[R_READ] >= 0);
        if (!keep && r->ops[R_LIST] >= 0 && r->ops[R_CREATE] >= 0) {
            const struct op_info *li = &sm->ops[r->ops[R_LIST]];
            const char *lp;
            bfs(a, mockd_media_body(li->mp->owner, li->mp), is_object_array, NULL, &lp);
            const struct ct_node *arr = ct_pointer_get(mockd_media_body(li->mp->owner, li->mp), lp, strlen(lp), false);
            keep = arr && arr->len && ct_obj_get(arr->u.items[0], "id");
        }
        if (!keep) {
            for (int k = 0; k < R_COUNT; k++)
                if (r->ops[k] >= 0) sm->ops[r->ops[k]].res = -1;
            r->coll = NULL;
            continue;
        }
        /* The id field: the item parameter's name when items carry it, else "id". */
        r->id_field = "id";
        const struct ct_node *sample = NULL;
        int sample_op = r->ops[R_READ] >= 0 ? r->ops[R_READ] : r->ops[R_CREATE];
        if (sample_op >= 0) {
            const struct op_info *oi = &sm->ops[sample_op];
            const struct ct_node *body = oi->mp ? mockd_media_body(oi->mp->owner, oi->mp) : NULL;
            const char *ptr;
            if (params[ri] && bfs(a, body, has_key, params[ri], &ptr)) r->id_field = params[ri];
        }
        if (r->ops[R_LIST] >= 0) {
            const struct op_info *oi = &sm->ops[r->ops[R_LIST]];
            const struct ct_node *body = mockd_media_body(oi->mp->owner, oi->mp);
            bfs(a, body, is_object_array, NULL, &r->list_ptr);
            const struct ct_node *arr =
                ct_pointer_get(body, r->list_ptr, strlen(r->list_ptr), false);
            if (arr && arr->len && params[ri] && ct_obj_get(arr->u.items[0], params[ri]))
                r->id_field = params[ri];
            const char *mp;
            if (bfs(a, body, is_paging, NULL, &mp)) r->meta_ptr = mp;
        }
        /* Where the item sits in each item answer. */
        for (int k = R_CREATE; k < R_COUNT; k++) {
            if (r->ops[k] < 0) continue;
            struct op_info *oi = &sm->ops[r->ops[k]];
            const struct ct_node *body = oi->mp ? mockd_media_body(oi->mp->owner, oi->mp) : NULL;
            const char *ptr = NULL;
            if (body && bfs(a, body, has_key, r->id_field, &ptr))
                oi->item_ptr = ptr;
            else if (body && body->kind == CT_OBJECT && ct_obj_get(body, "data"))
                oi->item_ptr = k == R_DELETE ? NULL : "/data";
        }
        /* Seeds: the items of every list and read example. */
        const struct ct_node *vals[32];
        if (r->ops[R_LIST] >= 0) {
            const struct op_info *oi = &sm->ops[r->ops[R_LIST]];
            size_t n = example_values(app, oi->mp, vals, 32);
            for (size_t k = 0; k < n; k++) {
                const struct ct_node *arr =
                    ct_pointer_get(vals[k], r->list_ptr, strlen(r->list_ptr), false);
                for (uint32_t j = 0; arr && arr->kind == CT_ARRAY && j < arr->len; j++)
                    add_seed(sm, r, arr->u.items[j]);
            }
        }
        if (r->ops[R_READ] >= 0) {
            const struct op_info *oi = &sm->ops[r->ops[R_READ]];
            size_t n = example_values(app, oi->mp, vals, 32);
            for (size_t k = 0; k < n && oi->item_ptr; k++)
                add_seed(sm, r, ct_pointer_get(vals[k], oi->item_ptr, strlen(oi->item_ptr), false));
        }
        /* The kind of ids to make. */
        r->idkind = ID_UUID;
        const struct ct_node *tmpl_id = NULL;
        if (r->nseed)
            tmpl_id = ct_obj_get(r->seed[0], r->id_field);
        else if (sample_op >= 0 && sm->ops[sample_op].item_ptr && sm->ops[sample_op].mp) {
            const struct op_info *oi = &sm->ops[sample_op];
            sample = ct_pointer_get(mockd_media_body(oi->mp->owner, oi->mp), oi->item_ptr, strlen(oi->item_ptr), false);
            tmpl_id = ct_obj_get(sample, r->id_field);
        }
        if (tmpl_id && tmpl_id->kind == CT_NUMBER)
            r->idkind = ID_INT;
        else if (tmpl_id && tmpl_id->kind == CT_STRING && !looks_uuid(tmpl_id->u.str))
            r->idkind = ID_STRING;
    }
    (void)diags;
    return sm;
}

void state_model_free(struct state_model *sm)
{
    if (!sm) return;
    ct_free(sm->ops);
    ct_arena_deinit(&sm->arena);
    ct_free(sm);
}

/* --- the store ------------------------------------------------------------------------------- */

struct store *store_new(unsigned max_sessions)
{
    struct store *s = ct_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->max_sessions = max_sessions ? max_sessions : 64;
    return s;
}

static void coll_free(struct coll *c)
{
    for (size_t i = 0; i < c->n; i++) {
        ct_free(c->items[i].id);
        ct_free(c->items[i].json);
    }
    ct_free(c->items);
    ct_free(c->session);
    ct_free(c->key);
    ct_free(c);
}

static void reset_locked(struct store *s)
{
    for (size_t i = 0; i < s->n; i++)
        coll_free(s->v[i]);
    s->n = 0;
}

void store_free(struct store *s)
{
    if (!s) return;
    reset_locked(s);
    ct_free(s->v);
    pthread_mutex_destroy(&s->lock);
    ct_free(s);
}

void store_reset(struct store *s)
{
    pthread_mutex_lock(&s->lock);
    reset_locked(s);
    pthread_mutex_unlock(&s->lock);
}

static void item_put(struct coll *c, const char *id, const char *json, size_t len)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->items[i].id, id)) {
            ct_free(c->items[i].json);
            c->items[i].json = ct_xstrndup(json, len);
            c->items[i].len = len;
            return;
        }
    c->items = ct_xgrow(c->items, &c->cap, c->n + 1, sizeof(*c->items));
    c->items[c->n].id = ct_xstrdup(id);
    c->items[c->n].json = ct_xstrndup(json, len);
    c->items[c->n++].len = len;
}

static struct sitem *item_find(struct coll *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->items[i].id, id)) return &c->items[i];
    return NULL;
}

static void item_remove(struct coll *c, struct sitem *it)
{
    size_t i = (size_t)(it - c->items);
    ct_free(it->id);
    ct_free(it->json);
    memmove(&c->items[i], &c->items[i + 1], (c->n - i - 1) * sizeof(*c->items));
    c->n--;
}

/* Forget the sessions used longest ago until `session` fits. Called with the lock held. */
static void evict_sessions(struct store *s, const char *session)
{
    for (;;) {
        size_t nsess = 0;
        const char *oldest = NULL;
        uint64_t oldest_used = UINT64_MAX;
        bool known = false;
        for (size_t i = 0; i < s->n; i++) {
            const struct coll *c = s->v[i];
            if (!*c->session) continue;
            if (!strcmp(c->session, session)) known = true;
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = !strcmp(s->v[k]->session, c->session);
            if (!seen) nsess++;
            if (c->used < oldest_used) {
                oldest_used = c->used;
                oldest = c->session;
            }
        }
        if (known || nsess < s->max_sessions || !oldest) return;
        char *victim = ct_xstrdup(oldest);
        for (size_t i = 0; i < s->n;) {
            if (!strcmp(s->v[i]->session, victim)) {
                coll_free(s->v[i]);
                s->v[i] = s->v[--s->n];
            } else {
                i++;
            }
        }
        ct_free(victim);
    }
}

/* The collection of (session, key), created and seeded on first use. Lock held. */
static struct coll *coll_get(struct store *s, const struct resource *r, const char *session,
                             const char *key)
{
    s->tick++;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i]->key, key) && !strcmp(s->v[i]->session, session)) {
            s->v[i]->used = s->tick;
            return s->v[i];
        }
    if (*session) evict_sessions(s, session);
    struct coll *c = ct_xcalloc(1, sizeof(*c));
    c->session = ct_xstrdup(session);
    c->key = ct_xstrdup(key);
    c->used = s->tick;
    struct ct_arena tmp;
    ct_arena_init(&tmp, 4096);
    for (size_t i = 0; r && i < r->nseed; i++) {
        size_t len;
        char *json = jx_emit(&tmp, r->seed[i], &len);
        item_put(c, id_text(ct_obj_get(r->seed[i], r->id_field)), json, len);
    }
    ct_arena_deinit(&tmp);
    s->v = ct_xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
    s->v[s->n++] = c;
    return c;
}

/* --- answers --------------------------------------------------------------------------------- */

/* The key of a collection: its template with the request's parameter values filled in. */
static const char *coll_key(struct ct_arena *a, const char *tmpl, const struct ct_route_match *m)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e) break;
            size_t nl = (size_t)(e - p - 1);
            for (unsigned k = 0; k < m->nparams; k++)
                if (strlen(m->params[k].name) == nl && !memcmp(m->params[k].name, p + 1, nl)) {
                    bool ok;
                    size_t len;
                    ct_buf_adds(&b, ct_pct_decode(a, m->params[k].value, m->params[k].len, false,
                                                  &len, &ok));
                }
            p = e + 1;
        } else {
            ct_buf_addc(&b, *p++);
        }
    }
    char *s = ct_arena_strdup(a, ct_buf_cstr(&b));
    ct_buf_deinit(&b);
    return s;
}

/* The decoded value of the item's path parameter (the last template of the item path). */
static const char *item_id(struct ct_arena *a, const struct resource *r,
                           const struct ct_route_match *m)
{
    const char *last = strrchr(r->item ? r->item : "", '{');
    if (!last) return NULL;
    size_t nl = strcspn(last + 1, "}");
    for (unsigned k = 0; k < m->nparams; k++)
        if (strlen(m->params[k].name) == nl && !memcmp(m->params[k].name, last + 1, nl)) {
            bool ok;
            size_t len;
            return ct_pct_decode(a, m->params[k].value, m->params[k].len, false, &len, &ok);
        }
    return NULL;
}

/* Drop what the schema refuses (write-only and undeclared properties) and check again; the
 * problem that remains, if any, is returned for a warning header. */
static const struct ct_node *fit(struct ct_arena *a, const struct mockd_media_plan *mp,
                                 const struct ct_node *body, const struct ct_node *fallback,
                                 const char **warning)
{
    *warning = NULL;
    if (!mp || !mp->schema) return body;
    for (int round = 0; round < 16; round++) {
        struct ct_diags d;
        ct_diags_init(&d);
        struct ct_vopts vo = {.direction = CT_DIR_RESPONSE, .all_errors = true};
        if (ct_schema_validate_opts(mp->schema, NULL, body, &vo, &d)) {
            ct_diags_deinit(&d);
            return body;
        }
        const struct ct_node *fixed = body;
        for (size_t i = 0; i < d.n; i++) {
            const struct ct_diag *g = &d.v[i];
            const char *ptr = g->instance_ptr ? g->instance_ptr : "";
            const char *q = strstr(g->msg, "unexpected property '");
            if (q) {
                q += 21;
                size_t kl = strcspn(q, "'");
                struct ct_buf b;
                ct_buf_init(&b, 0);
                ct_buf_adds(&b, ptr);
                ct_pointer_append(&b, q, kl);
                fixed = jx_set_at(a, fixed, ct_buf_cstr(&b), NULL);
                ct_buf_deinit(&b);
            } else if (strstr(g->msg, "is write-only") && *ptr) {
                fixed = jx_set_at(a, fixed, ptr, NULL);
            } else if ((q = strstr(g->msg, "missing required property '")) && fallback) {
                /* A field the client left out but the answer needs: the template's value. */
                q += 28;
                size_t kl = strcspn(q, "'");
                const struct ct_node *obj = ct_pointer_get(fixed, ptr, strlen(ptr), false);
                const struct ct_node *fb = ct_pointer_get(fallback, ptr, strlen(ptr), false);
                const struct ct_node *v = ct_obj_getn(fb, q, kl);
                if (obj && obj->kind == CT_OBJECT && v)
                    fixed = jx_set_at(a, fixed, ptr, jx_set(a, obj, ct_arena_strndup(a, q, kl), v));
            }
        }
        if (fixed == body || ct_node_equal(fixed, body)) {
            const struct ct_diag *g = d.n ? &d.v[0] : NULL;
            *warning = g ? jx_fmt(a, "the stored answer does not match the contract: %s%s%s",
                                  g->instance_ptr ? g->instance_ptr : "",
                                  g->instance_ptr && *g->instance_ptr ? ": " : "", g->msg)
                         : "the stored answer does not match the contract";
            ct_diags_deinit(&d);
            return body;
        }
        ct_diags_deinit(&d);
        body = fixed;
    }
    return body;
}

static void send(const struct mockd_app *app, struct mockd_req *req, struct mockd_resp *resp,
                 const struct op_info *oi, const struct ct_node *body)
{
    const char *warning;
    body = fit(req->arena, oi->mp, body, mockd_media_body(oi->mp->owner, oi->mp), &warning);
    resp->status = oi->rp->code ? oi->rp->code : oi->rp->klass ? oi->rp->klass * 100 : 200;
    answer_declared_headers(app, req, resp, oi->rp);
    answer_body_node(req, resp, body,
                     strncmp(oi->mp->m->type, "*/*", 3) ? oi->mp->m->type : "application/json");
    resp->source = "state";
    if (warning) {
        answer_set_header(resp, "X-Mockd-State-Warning", warning);
        fprintf(stderr, "mockd: state: %s %s: %s\n", req->method,
                ct_arena_strndup(req->arena, req->path, req->path_len), warning);
    }
}

/* The item put into the operation's default answer. */
static const struct ct_node *render(struct ct_arena *a, const struct op_info *oi,
                                    const struct ct_node *item)
{
    const struct ct_node *body = oi->mp ? mockd_media_body(oi->mp->owner, oi->mp) : NULL;
    if (!oi->item_ptr) return body;
    return jx_set_at(a, body, oi->item_ptr, item);
}

/* A 404 or 409 in the contract's shape, with details filled where the template has them. */
static void refuse(const struct mockd_app *app, const struct mockd_op_plan *p,
                   struct mockd_req *req, struct mockd_resp *resp, unsigned status,
                   const char *message, const struct ct_node *current_version)
{
    struct ct_arena *a = req->arena;
    const struct mockd_resp_plan *rp = answer_find_resp(p, status);
    const struct mockd_media_plan *mp = answer_media(rp);
    const struct ct_node *body = mp ? mockd_media_body(mp->owner, mp) : NULL;
    if (!rp || !mp || !mp->json || !body || body->kind != CT_OBJECT) {
        answer_spec(app, p, req, resp, status, NULL, message);
        resp->source = "state";
        return;
    }
    const struct ct_node *b = body;
    if (ct_obj_get(b, "message"))
        b = jx_set(a, b, "message", jx_str(a, message));
    else if (ct_obj_get(b, "detail"))
        b = jx_set(a, b, "detail", jx_str(a, message));
    if (resp->request_id && ct_obj_get(b, "requestId"))
        b = jx_set(a, b, "requestId", jx_str(a, resp->request_id));
    if (current_version) {
        const struct ct_node *det = ct_obj_get(b, "details");
        if (det && det->kind == CT_OBJECT)
            b = jx_set(a, b, "details", jx_set(a, det, "currentVersion", current_version));
        else if (ct_obj_get(b, "currentVersion"))
            b = jx_set(a, b, "currentVersion", current_version);
    }
    if (status == 404) {
        const struct ct_node *det = ct_obj_get(b, "details");
        if (det && det->kind == CT_OBJECT && ct_obj_get(det, "path"))
            b = jx_set(a, b, "details",
                       jx_set(a, det, "path", jx_strn(a, req->path, req->path_len)));
    }
    struct ct_vopts vo = {.direction = CT_DIR_RESPONSE};
    if (mp->schema && !ct_schema_validate_opts(mp->schema, NULL, b, &vo, NULL)) b = body;
    resp->status = status;
    answer_declared_headers(app, req, resp, rp);
    answer_body_node(req, resp, b, mp->m->type);
    resp->source = "state";
}

static const struct ct_node *parse_body(struct mockd_req *req)
{
    if (!req->body_len) return NULL;
    return jx_parse(req->arena, "request body", req->body, req->body_len, NULL);
}

static const struct ct_node *parse_item(struct ct_arena *a, const struct sitem *it)
{
    return jx_parse(a, "stored item", it->json, it->len, NULL);
}

static void store_item(struct coll *c, struct ct_arena *a, const char *id,
                       const struct ct_node *item)
{
    size_t len;
    char *json = jx_emit(a, item, &len);
    item_put(c, id, json, len);
}

/* Optimistic concurrency: the version sent must be the stored one. */
static bool version_conflict(const struct ct_node *item, const struct ct_node *sent)
{
    const struct ct_node *have = ct_obj_get(item, "version");
    return have && sent && have->kind == CT_NUMBER && sent->kind == CT_NUMBER &&
           !ct_node_equal(have, sent);
}

static const struct ct_node *bump_version(struct ct_arena *a, const struct ct_node *item)
{
    const struct ct_node *v = ct_obj_get(item, "version");
    if (v && v->kind == CT_NUMBER && ct_num_is_integer(v))
        item = jx_set(a, item, "version", jx_int(a, (long long)v->num + 1));
    return item;
}

/* If-Match against the ETag of the item's read answer. */
static bool if_match_fails(struct state_model *sm, const struct resource *r, struct mockd_req *req,
                           const struct ct_node *item)
{
    const char *im = mockd_req_header(req, "If-Match");
    if (!im || !strcmp(im, "*") || r->ops[R_READ] < 0) return false;
    const struct op_info *ri = &sm->ops[r->ops[R_READ]];
    const char *warning;
    const struct ct_node *body =
        fit(req->arena, ri->mp, render(req->arena, ri, item), mockd_media_body(ri->mp->owner, ri->mp), &warning);
    size_t len;
    char *bytes = jx_emit(req->arena, body, &len);
    const char *etag = cache_etag(req->arena, bytes, len);
    return !strstr(im, etag);
}

/* A new id for an item of collection c. */
static const struct ct_node *new_id(struct layers_shared *sh, struct store *s,
                                    const struct resource *r, struct coll *c, struct ct_arena *a)
{
    if (r->idkind == ID_INT || r->idkind == ID_STRING) {
        long long max = 0;
        bool numeric = true;
        for (size_t i = 0; i < c->n; i++) {
            char *end;
            long long v = strtoll(c->items[i].id, &end, 10);
            if (*end)
                numeric = false;
            else if (v > max)
                max = v;
        }
        if (r->idkind == ID_INT) return jx_int(a, max + 1);
        if (numeric) return jx_str(a, jx_fmt(a, "%lld", max + 1));
    }
    uint64_t x = layers_rand(sh) ^ (++s->made * 0x9E3779B97F4A7C15ULL);
    uint64_t y = layers_rand(sh);
    char u[40];
    snprintf(u, sizeof(u), "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(x >> 32),
             (unsigned)(x >> 16) & 0xFFFF, (unsigned)x & 0xFFF,
             (unsigned)((y >> 48) & 0x3FFF) | 0x8000, (unsigned long long)(y & 0xFFFFFFFFFFFFULL));
    return jx_str(a, u);
}

/* The properties a request body schema declares (through $ref and allOf). */
static void schema_props(const struct mockd_app *app, const struct ct_node *schema, int depth,
                         const struct ct_member **props_out, size_t *n, size_t max)
{
    const struct ct_node *sc = ct_docset_deref(app->ds, schema, NULL);
    if (!sc || depth > 4) return;
    const struct ct_node *props = ct_obj_get(sc, "properties");
    for (uint32_t i = 0; props && props->kind == CT_OBJECT && i < props->len && *n < max; i++)
        props_out[(*n)++] = &props->u.members[i];
    const struct ct_node *all = ct_obj_get(sc, "allOf");
    for (uint32_t i = 0; all && all->kind == CT_ARRAY && i < all->len; i++)
        schema_props(app, all->u.items[i], depth + 1, props_out, n, max);
}

/* A new item starts from the template; fields the client could have sent but did not take
 * their schema's default, or are dropped (the template's example values would look like the
 * client's). */
static const struct ct_node *drop_unsent(const struct mockd_app *app, const struct mockd_op_plan *p,
                                         struct ct_arena *a, const struct ct_node *n,
                                         const struct ct_node *body)
{
    const struct ct_member *props[256];
    size_t cnt = 0;
    for (unsigned i = 0; i < p->nbody; i++)
        if (p->body[i].json && p->body[i].m->schema)
            schema_props(app, p->body[i].m->schema, 0, props, &cnt, 256);
    for (size_t i = 0; i < cnt; i++) {
        const char *name = props[i]->key->u.str;
        if (ct_obj_get(body, name) || !ct_obj_get(n, name)) continue;
        const struct ct_node *ps = ct_docset_deref(app->ds, props[i]->val, NULL);
        n = jx_set(a, n, name, ct_obj_get(ps, "default"));
    }
    return n;
}

/* --- list ------------------------------------------------------------------------------------ */

struct list_ctx {
    const char *sort;
    bool desc;
};

static int cmp_nodes(const struct ct_node *x, const struct ct_node *y)
{
    if (!x || !y) return x ? -1 : y ? 1 : 0; /* missing values last */
    if (x->kind == CT_NUMBER && y->kind == CT_NUMBER) return ct_num_cmp(x, y);
    const char *a = jx_scalar_text(x), *b = jx_scalar_text(y);
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_items(const struct ct_node *a, const struct ct_node *b, const struct list_ctx *ctx)
{
    const struct ct_node *x = ct_obj_get(a, ctx->sort);
    const struct ct_node *y = ct_obj_get(b, ctx->sort);
    if (!x || !y) return cmp_nodes(x, y);
    int c = cmp_nodes(x, y);
    return ctx->desc ? -c : c;
}

/* A stable merge sort (qsort is neither stable nor given a context). */
static void sort_items(const struct ct_node **v, const struct ct_node **tmp, size_t n,
                       const struct list_ctx *ctx)
{
    if (n < 2) return;
    size_t h = n / 2;
    sort_items(v, tmp, h, ctx);
    sort_items(v + h, tmp, n - h, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_items(v[j], v[i], ctx) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

static bool ci_contains(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *h = hay; *h; h++)
        if (!strncasecmp(h, needle, nl)) return true;
    return !nl;
}

static bool text_match(const struct ct_node *n, const char *needle, int depth)
{
    if (!n || depth > 3) return false;
    if (n->kind == CT_STRING) return ci_contains(n->u.str, needle);
    if (n->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++)
            if (text_match(n->u.items[i], needle, depth + 1)) return true;
    } else if (n->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < n->len; i++)
            if (text_match(n->u.members[i].val, needle, depth + 1)) return true;
    }
    return false;
}

/* Does the item's field hold the wanted value? Arrays must hold every wanted item. */
static bool field_match(const struct ct_node *have, const struct ct_node *want)
{
    if (!have) return false;
    if (want->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < want->len; i++)
            if (!field_match(have, want->u.items[i])) return false;
        return true;
    }
    if (have->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < have->len; i++)
            if (field_match(have->u.items[i], want)) return true;
        return false;
    }
    if (ct_node_equal(have, want)) return true;
    const char *a = jx_scalar_text(have), *b = jx_scalar_text(want);
    return a && b && !strcmp(a, b);
}

static long long num_or(const struct ct_node *n, long long dflt)
{
    return n && n->kind == CT_NUMBER ? (long long)n->num : dflt;
}

static const struct ct_node *param_default(struct state_model *sm, const struct ct_oas_param *prm)
{
    const struct ct_node *s = ct_docset_deref(sm->app->ds, prm->schema, NULL);
    return ct_obj_get(s, "default");
}

static const struct ct_node *put_paging(struct ct_arena *a, const struct ct_node *meta,
                                        long long page, long long limit, long long offset,
                                        long long total)
{
    long long pages = limit > 0 ? (total + limit - 1) / limit : 1;
    for (uint32_t i = 0; meta && meta->kind == CT_OBJECT && i < meta->len; i++) {
        const char *k = meta->u.members[i].key->u.str;
        const struct ct_node *v = meta->u.members[i].val;
        const struct ct_node *nv = NULL;
        if (!strcmp(k, "page") || !strcmp(k, "currentPage") || !strcmp(k, "current_page"))
            nv = jx_int(a, page);
        else if (NAMES_HAS(limit_keys, k))
            nv = jx_int(a, limit);
        else if (!strcmp(k, "offset") || !strcmp(k, "skip"))
            nv = jx_int(a, offset);
        else if (NAMES_HAS(total_keys, k))
            nv = jx_int(a, total);
        else if (NAMES_HAS(pages_keys, k))
            nv = jx_int(a, pages);
        else if (!strcmp(k, "hasMore") || !strcmp(k, "has_more") || !strcmp(k, "hasNext") ||
                 !strcmp(k, "has_next"))
            nv = jx_bool(a, offset + limit < total);
        else if (!strcmp(k, "hasPrev") || !strcmp(k, "has_prev") || !strcmp(k, "hasPrevious"))
            nv = jx_bool(a, offset > 0);
        if (nv && v->kind == nv->kind) meta = jx_set(a, meta, k, nv);
    }
    return meta;
}

static void do_list(struct mockd_layers *l, const struct resource *r, const struct op_info *oi,
                    const struct mockd_op_plan *p, struct coll *c, struct mockd_req *req,
                    struct mockd_resp *resp)
{
    struct state_model *sm = l->model;
    struct ct_arena *a = req->arena;
    const struct ct_node **items = ct_arena_alloc(a, (c->n + 1) * sizeof(*items));
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct ct_node *it = parse_item(a, &c->items[i]);
        if (it) items[n++] = it;
    }
    const struct ct_node *sample = n ? items[0] : r->nseed ? r->seed[0] : NULL;
    long long page = -1, limit = -1, offset = -1;
    bool zero_based = false;
    const char *sort = NULL;
    bool desc = false;
    const struct ct_oas_op *op = p->op;
    for (unsigned i = 0; i < op->nparams; i++) {
        const struct ct_oas_param *prm = &op->params[i];
        if (prm->in != CT_IN_QUERY) continue;
        struct ct_param_src src = {.query = req->query, .nquery = req->nquery};
        const struct ct_node *v =
            ct_param_present(prm, &src) ? ct_param_decode(sm->app->ds, prm, &src, a, NULL) : NULL;
        const struct ct_node *dflt = param_default(sm, prm);
        const char *name = prm->name;
        if (!strcmp(name, "page")) {
            const struct ct_node *s = ct_docset_deref(sm->app->ds, prm->schema, NULL);
            zero_based = ct_obj_get(s, "minimum") && ct_obj_get(s, "minimum")->num == 0;
            page = num_or(v ? v : dflt, zero_based ? 0 : 1);
        } else if (NAMES_HAS(limit_keys, name)) {
            limit = num_or(v ? v : dflt, 20);
        } else if (!strcmp(name, "offset") || !strcmp(name, "skip")) {
            offset = num_or(v, -1);
        } else if (NAMES_HAS(sort_keys, name)) {
            const struct ct_node *s = v ? v : dflt;
            if (s && s->kind == CT_STRING && s->len) {
                sort = s->u.str;
                if (sort[0] == '-' || sort[0] == '+') {
                    desc = sort[0] == '-';
                    sort++;
                }
                const char *sep = strpbrk(sort, ":,");
                if (sep) {
                    desc = !strcasecmp(sep + 1, "desc");
                    sort = ct_arena_strndup(a, sort, (size_t)(sep - sort));
                }
            }
        } else if (NAMES_HAS(order_keys, name)) {
            const struct ct_node *s = v ? v : dflt;
            if (s && s->kind == CT_STRING)
                desc = !strcasecmp(s->u.str, "desc") || !strcasecmp(s->u.str, "descending");
        } else if (v && sample && ct_obj_get(sample, name)) {
            size_t k = 0;
            for (size_t j = 0; j < n; j++)
                if (field_match(ct_obj_get(items[j], name), v)) items[k++] = items[j];
            n = k;
        } else if (v && v->kind == CT_STRING && NAMES_HAS(search_keys, name)) {
            size_t k = 0;
            for (size_t j = 0; j < n; j++)
                if (text_match(items[j], v->u.str, 0)) items[k++] = items[j];
            n = k;
        }
    }
    if (sort && sample && ct_obj_get(sample, sort)) {
        struct list_ctx ctx = {sort, desc};
        sort_items(items, ct_arena_alloc(a, (n + 1) * sizeof(*items)), n, &ctx);
    }
    long long total = (long long)n;
    if (limit < 0) limit = page >= 0 || offset >= 0 ? 20 : total;
    if (page < 0) page = zero_based ? 0 : 1;
    if (offset < 0)
        offset = (page - (zero_based ? 0 : 1)) * limit;
    else
        page = (limit ? offset / limit : 0) + (zero_based ? 0 : 1);
    if (offset < 0) offset = 0;
    long long from = offset < total ? offset : total;
    long long to = from + limit < total ? from + limit : total;
    struct ct_node **slice = ct_arena_alloc(a, (size_t)(to - from + 1) * sizeof(*slice));
    for (long long i = from; i < to; i++)
        slice[i - from] = (struct ct_node *)items[i];
    const struct ct_node *body = mockd_media_body(oi->mp->owner, oi->mp);
    body = jx_set_at(a, body, r->list_ptr, jx_array(a, slice, (uint32_t)(to - from)));
    if (r->meta_ptr) {
        const struct ct_node *meta = ct_pointer_get(body, r->meta_ptr, strlen(r->meta_ptr), false);
        body = jx_set_at(a, body, r->meta_ptr, put_paging(a, meta, page, limit, offset, total));
    }
    send(sm->app, req, resp, oi, body);
    const struct ct_node *hs = oi->rp->r->headers;
    for (uint32_t i = 0; hs && i < hs->len; i++)
        if (!strcasecmp(hs->u.members[i].key->u.str, "X-Total-Count"))
            answer_set_header(resp, hs->u.members[i].key->u.str, jx_fmt(a, "%lld", total));
}

/* --- the hook -------------------------------------------------------------------------------- */

bool state_answer(struct mockd_layers *l, const struct mockd_op_plan *p,
                  const struct ct_route_match *m, struct mockd_req *req, struct mockd_resp *resp)
{
    struct state_model *sm = l->model;
    const struct mockd_app *app = sm->app;
    size_t opi = (size_t)(p - app->plans);
    const struct op_info *oi = &sm->ops[opi];
    if (oi->res < 0 || !oi->rp) return false;
    if (oi->role != R_DELETE && (!oi->mp || !oi->mp->json || !mockd_media_body(oi->mp->owner, oi->mp))) return false;
    /* A client asking for a particular example or status wants the spec's answer. */
    const char *prefer = mockd_req_header(req, "Prefer");
    if (prefer && (strstr(prefer, "example=") || strstr(prefer, "code="))) return false;
    const struct resource *r = &sm->res[oi->res];
    struct ct_arena *a = req->arena;
    const char *session = layers_session(req);
    const char *key = coll_key(a, r->coll, m);
    struct store *s = l->sh->store;
    bool done = true;
    pthread_mutex_lock(&s->lock);
    struct coll *c = coll_get(s, r, session ? session : "", key);
    const char *id = oi->role >= R_READ ? item_id(a, r, m) : NULL;
    struct sitem *it = id ? item_find(c, id) : NULL;
    const struct ct_node *item = it ? parse_item(a, it) : NULL;
    if (oi->role >= R_READ && !item) {
        refuse(app, p, req, resp, 404,
               jx_fmt(a, "no item '%s' in %s (mockd --stateful)", id ? id : "", key), NULL);
        goto out;
    }
    switch (oi->role) {
    case R_LIST:
        do_list(l, r, oi, p, c, req, resp);
        break;
    case R_READ:
        send(app, req, resp, oi, render(a, oi, item));
        break;
    case R_CREATE: {
        const struct ct_node *body = parse_body(req);
        if (!body || body->kind != CT_OBJECT) {
            done = false; /* not JSON: the spec's answer */
            break;
        }
        const struct ct_node *base = NULL;
        if (oi->item_ptr)
            base = ct_pointer_get(mockd_media_body(oi->mp->owner, oi->mp), oi->item_ptr, strlen(oi->item_ptr), false);
        if (!base && r->nseed) base = r->seed[0];
        const struct ct_node *n =
            base && base->kind == CT_OBJECT ? base : jx_set(a, NULL, "", NULL);
        n = drop_unsent(app, p, a, n, body);
        for (uint32_t i = 0; i < body->len; i++)
            n = jx_set(a, n, body->u.members[i].key->u.str, body->u.members[i].val);
        const struct ct_node *given = ct_obj_get(body, r->id_field);
        const struct ct_node *nid = given && id_text(given) && !item_find(c, id_text(given))
                                        ? given
                                        : new_id(l->sh, s, r, c, a);
        n = jx_set(a, n, r->id_field, nid);
        n = touch(a, n, true);
        if (ct_obj_get(n, "version") && ct_obj_get(n, "version")->kind == CT_NUMBER)
            n = jx_set(a, n, "version", jx_int(a, 1));
        const char *warning;
        const struct ct_node *shown = fit(a, oi->mp, render(a, oi, n), mockd_media_body(oi->mp->owner, oi->mp), &warning);
        /* Keep the item as the answer shows it (without what the schema refused). */
        if (oi->item_ptr) {
            const struct ct_node *kept =
                ct_pointer_get(shown, oi->item_ptr, strlen(oi->item_ptr), false);
            if (kept && kept->kind == CT_OBJECT) n = kept;
        }
        store_item(c, a, id_text(nid), n);
        send(app, req, resp, oi, render(a, oi, n));
        const struct ct_node *hs = oi->rp->r->headers;
        for (uint32_t i = 0; hs && i < hs->len; i++)
            if (!strcasecmp(hs->u.members[i].key->u.str, "Location"))
                answer_set_header(
                    resp, hs->u.members[i].key->u.str,
                    jx_fmt(a, "%.*s/%s", (int)req->path_len, req->path, id_text(nid)));
        break;
    }
    case R_UPDATE:
    case R_REPLACE: {
        const struct ct_node *body = parse_body(req);
        if (!body || body->kind != CT_OBJECT) {
            done = false;
            break;
        }
        if (version_conflict(item, ct_obj_get(body, "version"))) {
            refuse(app, p, req, resp, 409,
                   jx_fmt(a, "version conflict: the stored version is %s, the request sent %s",
                          jx_scalar_text(ct_obj_get(item, "version")),
                          jx_scalar_text(ct_obj_get(body, "version"))),
                   ct_obj_get(item, "version"));
            break;
        }
        if (if_match_fails(sm, r, req, item)) {
            answer_problem(req, resp, 412, "precondition-failed",
                           "If-Match does not match the current ETag of the item");
            resp->source = "state";
            break;
        }
        const struct ct_node *n = item;
        if (oi->role == R_UPDATE) {
            n = jx_merge_patch(a, item, jx_set(a, body, "version", NULL));
        } else {
            for (uint32_t i = 0; i < body->len; i++)
                if (strcmp(body->u.members[i].key->u.str, "version") != 0)
                    n = jx_set(a, n, body->u.members[i].key->u.str, body->u.members[i].val);
        }
        n = jx_set(a, n, r->id_field, ct_obj_get(item, r->id_field));
        n = bump_version(a, touch(a, n, false));
        store_item(c, a, id, n);
        send(app, req, resp, oi, render(a, oi, n));
        break;
    }
    case R_DELETE: {
        const struct ct_node *sent = NULL;
        for (size_t i = 0; i < req->nquery; i++)
            if (req->query[i].keylen == 7 && !memcmp(req->query[i].key, "version", 7))
                sent = jx_num_text(a, ct_arena_strndup(a, req->query[i].val, req->query[i].vallen));
        if (sent && version_conflict(item, sent)) {
            refuse(app, p, req, resp, 409,
                   jx_fmt(a, "version conflict: the stored version is %s, the request sent %s",
                          jx_scalar_text(ct_obj_get(item, "version")), jx_scalar_text(sent)),
                   ct_obj_get(item, "version"));
            break;
        }
        if (if_match_fails(sm, r, req, item)) {
            answer_problem(req, resp, 412, "precondition-failed",
                           "If-Match does not match the current ETag of the item");
            resp->source = "state";
            break;
        }
        item_remove(c, it);
        if (oi->rp->code == 204 || !oi->mp || !oi->mp->json || !mockd_media_body(oi->mp->owner, oi->mp)) {
            resp->status = oi->rp->code ? oi->rp->code : 204;
            answer_declared_headers(app, req, resp, oi->rp);
            resp->source = "state";
        } else {
            send(app, req, resp, oi, oi->item_ptr ? render(a, oi, item) : mockd_media_body(oi->mp->owner, oi->mp));
        }
        break;
    }
    default:
        done = false;
    }
out:
    pthread_mutex_unlock(&s->lock);
    return done;
}

/* --- admin: dump, load, resources ------------------------------------------------------------ */

/* The resource whose collection template matches a key. */
static const struct resource *res_for_key(const struct state_model *sm, const char *key)
{
    for (size_t i = 0; i < sm->nres; i++) {
        const char *t = sm->res[i].coll, *k = key;
        if (!t) continue;
        while (*t && *k) {
            if (*t == '{') {
                t = strchr(t, '}');
                if (!t) break;
                t++;
                k += strcspn(k, "/");
            } else if (*t == *k) {
                t++;
                k++;
            } else {
                break;
            }
        }
        if (t && !*t && !*k) return &sm->res[i];
    }
    return NULL;
}

static void dump_locked(struct store *s, struct ct_buf *out)
{
    ct_buf_adds(out, "{\"collections\":[");
    for (size_t i = 0; i < s->n; i++) {
        const struct coll *c = s->v[i];
        ct_buf_adds(out, i ? ",{\"session\":" : "{\"session\":");
        jx_put_cstr(out, *c->session ? c->session : NULL);
        ct_buf_adds(out, ",\"key\":");
        jx_put_cstr(out, c->key);
        ct_buf_adds(out, ",\"items\":[");
        for (size_t k = 0; k < c->n; k++) {
            if (k) ct_buf_addc(out, ',');
            ct_buf_add(out, c->items[k].json, c->items[k].len);
        }
        ct_buf_adds(out, "]}");
    }
    ct_buf_adds(out, "]}");
}

void state_admin_dump(struct mockd_layers *l, struct mockd_req *req, struct ct_buf *out)
{
    struct state_model *sm = l->model;
    struct store *s = l->sh->store;
    pthread_mutex_lock(&s->lock);
    /* Collections without parent parameters are shown even before their first use. */
    for (size_t i = 0; i < sm->nres; i++)
        if (sm->res[i].coll && !strchr(sm->res[i].coll, '{'))
            coll_get(s, &sm->res[i], "", sm->res[i].coll);
    dump_locked(s, out);
    pthread_mutex_unlock(&s->lock);
}

unsigned state_admin_load(struct mockd_layers *l, const struct ct_node *dump, struct ct_buf *out)
{
    struct state_model *sm = l->model;
    struct store *s = l->sh->store;
    const struct ct_node *colls = ct_obj_get(dump, "collections");
    struct ct_arena a;
    ct_arena_init(&a, 4096);
    /* Check everything before changing anything. */
    for (uint32_t i = 0; colls && i < colls->len; i++) {
        const struct ct_node *c = colls->u.items[i];
        const char *key = ct_obj_str(c, "key");
        const struct resource *r = res_for_key(sm, key);
        if (!r) {
            ct_buf_printf(out,
                          "collections[%u]: no resource of the spec has the key '%s' (see "
                          "GET /__mockd/state/resources)",
                          i, key);
            ct_arena_deinit(&a);
            return 400;
        }
        const struct ct_node *items = ct_obj_get(c, "items");
        for (uint32_t k = 0; k < items->len; k++)
            if (!id_text(ct_obj_get(items->u.items[k], r->id_field))) {
                ct_buf_printf(out,
                              "collections[%u].items[%u]: expected an object with '%s', the "
                              "id field of %s",
                              i, k, r->id_field, r->coll);
                ct_arena_deinit(&a);
                return 400;
            }
    }
    unsigned nitems = 0;
    pthread_mutex_lock(&s->lock);
    for (uint32_t i = 0; colls && i < colls->len; i++) {
        const struct ct_node *cn = colls->u.items[i];
        const char *key = ct_obj_str(cn, "key");
        const char *session = ct_obj_str(cn, "session");
        const struct resource *r = res_for_key(sm, key);
        struct coll *c = coll_get(s, r, session ? session : "", key);
        while (c->n)
            item_remove(c, &c->items[c->n - 1]);
        const struct ct_node *items = ct_obj_get(cn, "items");
        for (uint32_t k = 0; k < items->len; k++) {
            store_item(c, &a, id_text(ct_obj_get(items->u.items[k], r->id_field)),
                       items->u.items[k]);
            nitems++;
        }
    }
    pthread_mutex_unlock(&s->lock);
    ct_arena_deinit(&a);
    ct_buf_printf(out, "{\"collections\":%u,\"items\":%u}", colls ? colls->len : 0, nitems);
    return 200;
}

void state_admin_resources(struct mockd_layers *l, struct ct_buf *out)
{
    struct state_model *sm = l->model;
    const struct ct_oas *oas = sm->app->oas;
    ct_buf_adds(out, "{\"resources\":[");
    bool first = true;
    for (size_t i = 0; i < sm->nres; i++) {
        const struct resource *r = &sm->res[i];
        if (!r->coll) continue;
        ct_buf_adds(out, first ? "{\"collection\":" : ",{\"collection\":");
        first = false;
        jx_put_cstr(out, r->coll);
        ct_buf_adds(out, ",\"item\":");
        jx_put_cstr(out, r->item);
        ct_buf_adds(out, ",\"idField\":");
        jx_put_cstr(out, r->id_field);
        ct_buf_printf(out, ",\"idKind\":\"%s\",\"itemPointer\":", idkind_names[r->idkind]);
        const char *ip = NULL;
        for (int k = R_CREATE; k < R_COUNT && !ip; k++)
            if (r->ops[k] >= 0) ip = sm->ops[r->ops[k]].item_ptr;
        jx_put_cstr(out, ip ? ip : "");
        ct_buf_adds(out, ",\"listPointer\":");
        jx_put_cstr(out, r->list_ptr);
        ct_buf_printf(out, ",\"seeded\":%zu,\"operations\":{", r->nseed);
        bool f2 = true;
        for (int k = R_LIST; k < R_COUNT; k++) {
            if (r->ops[k] < 0) continue;
            const struct ct_oas_op *op = &oas->ops[r->ops[k]];
            ct_buf_printf(out, "%s\"%s\":", f2 ? "" : ",", role_names[k]);
            f2 = false;
            jx_put_cstr(out, op->operation_id ? op->operation_id : op->path);
        }
        ct_buf_adds(out, "}}");
    }
    ct_buf_adds(out, "]}");
}

/* --- files ----------------------------------------------------------------------------------- */

int state_save_file(struct mockd_layers *l, const char *path, const char **why)
{
    struct store *s = l->sh->store;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    pthread_mutex_lock(&s->lock);
    dump_locked(s, &b);
    pthread_mutex_unlock(&s->lock);
    char *tmp = ct_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        bool ok = fwrite(b.ptr, 1, b.len, f) == b.len && fputc('\n', f) != EOF;
        ok = fclose(f) == 0 && ok;
        if (ok && rename(tmp, path) == 0) rc = 0;
    }
    if (rc) *why = strerror(errno);
    ct_free(tmp);
    ct_buf_deinit(&b);
    return rc;
}

int state_load_file(struct mockd_layers *l, const char *path, const char **why)
{
    struct ct_docset *ds = ct_docset_new(NULL);
    struct ct_diags d;
    ct_diags_init(&d);
    struct ct_node *root = ct_docset_load(ds, path, &d);
    int rc = -1;
    static _Thread_local char msg[512];
    if (!root) {
        snprintf(msg, sizeof(msg), "%s", d.n ? d.v[0].msg : "cannot be read");
        *why = msg;
    } else {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        const struct ct_node *colls = ct_obj_get(root, "collections");
        if (!colls || colls->kind != CT_ARRAY) {
            snprintf(msg, sizeof(msg),
                     "expected {collections: [...]} as GET /__mockd/state "
                     "writes it");
            *why = msg;
        } else {
            bool shape = true;
            for (uint32_t i = 0; i < colls->len && shape; i++) {
                const struct ct_node *c = colls->u.items[i];
                shape = ct_obj_str(c, "key") && ct_obj_get(c, "items") &&
                        ct_obj_get(c, "items")->kind == CT_ARRAY;
            }
            if (!shape) {
                snprintf(msg, sizeof(msg), "expected collections of {key, items: [...]}");
                *why = msg;
            } else if (state_admin_load(l, root, &out) != 200) {
                snprintf(msg, sizeof(msg), "%s", ct_buf_cstr(&out));
                *why = msg;
            } else {
                rc = 0;
            }
        }
        ct_buf_deinit(&out);
    }
    ct_diags_deinit(&d);
    ct_docset_free(ds);
    return rc;
}

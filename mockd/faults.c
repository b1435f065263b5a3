/* faults.c - latency and fault settings: for every operation, or replaced for single
 * operations; from the command line (--latency, --error-rate, --error-status) and the admin API
 * (PUT /__mockd/faults).
 *
 * Each request draws, in order: a delay (fixed or uniform between min and max), then a reset,
 * an error status, an empty body, a truncated body and a slow body, each with its own rate; the
 * first that hits wins. The transport faults are carried out by http_mhd.c; an error status is
 * answered from the spec's own response for it (layers.c). Operations are kept by method and
 * path template, so settings survive a reload of the spec. */
#include "layers_impl.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

struct fspec {
    unsigned delay_min, delay_max;
    double error_rate;
    unsigned error_status;
    double reset_rate, empty_rate, truncate_rate, slow_rate;
    unsigned slow_bps;
};

struct op_fault {
    int method;
    char *path;
    char *name; /* as the user wrote it: operationId or "METHOD /path" */
    struct fspec s;
};

struct faults {
    pthread_mutex_t lock;
    struct fspec global;
    struct op_fault *ops;
    size_t nops;
    struct fspec initial; /* from the command line */
    atomic_bool any;      /* anything set at all: without, no lock per request */
};

static const char *const fault_names[] = {"none", "reset", "empty", "truncate", "slow"};

enum mockd_fault faults_parse(const char *name)
{
    for (int i = 1; i < 5; i++)
        if (name && !strcmp(name, fault_names[i])) return (enum mockd_fault)i;
    return MOCKD_FAULT_NONE;
}

const char *faults_name(enum mockd_fault f)
{
    return (unsigned)f < 5 ? fault_names[f] : "none";
}

static bool spec_active(const struct fspec *s)
{
    return s->delay_max || s->error_rate > 0 || s->reset_rate > 0 || s->empty_rate > 0 ||
           s->truncate_rate > 0 || s->slow_rate > 0;
}

struct faults *faults_new(const struct mockd_layers_config *cfg)
{
    struct faults *f = ct_xcalloc(1, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    if (cfg->latency_set) {
        f->initial.delay_min = cfg->latency_min;
        f->initial.delay_max = cfg->latency_max;
    }
    f->initial.error_rate = cfg->error_rate;
    f->initial.error_status = cfg->error_status ? cfg->error_status : 500;
    f->global = f->initial;
    atomic_init(&f->any, spec_active(&f->global));
    return f;
}

static void free_ops(struct op_fault *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ct_free(ops[i].path);
        ct_free(ops[i].name);
    }
    ct_free(ops);
}

void faults_free(struct faults *f)
{
    if (!f) return;
    free_ops(f->ops, f->nops);
    pthread_mutex_destroy(&f->lock);
    ct_free(f);
}

void faults_clear(struct faults *f)
{
    pthread_mutex_lock(&f->lock);
    free_ops(f->ops, f->nops);
    f->ops = NULL;
    f->nops = 0;
    memset(&f->global, 0, sizeof(f->global));
    f->global.error_status = 500;
    atomic_store(&f->any, false);
    pthread_mutex_unlock(&f->lock);
}

unsigned faults_delay(struct layers_shared *sh, unsigned min, unsigned max)
{
    if (max <= min) return min;
    return min + (unsigned)(layers_rand(sh) % (uint64_t)(max - min + 1));
}

void faults_pick(struct faults *f, struct layers_shared *sh, const struct ct_oas_op *op,
                 struct fault_pick *out)
{
    memset(out, 0, sizeof(*out));
    if (!atomic_load(&f->any)) return;
    struct fspec s;
    pthread_mutex_lock(&f->lock);
    s = f->global;
    for (size_t i = 0; i < f->nops; i++)
        if (f->ops[i].method == (int)op->method && !strcmp(f->ops[i].path, op->path))
            s = f->ops[i].s;
    pthread_mutex_unlock(&f->lock);
    if (s.delay_max) out->delay_ms = faults_delay(sh, s.delay_min, s.delay_max);
    /* Draw only for the rates that are set, so that settings without faults do not move the
     * random sequence that delays use. */
    if (s.reset_rate > 0 && layers_rand01(sh) < s.reset_rate)
        out->fault = MOCKD_FAULT_RESET;
    else if (s.error_rate > 0 && layers_rand01(sh) < s.error_rate)
        out->error_status = s.error_status ? s.error_status : 500;
    else if (s.empty_rate > 0 && layers_rand01(sh) < s.empty_rate)
        out->fault = MOCKD_FAULT_EMPTY;
    else if (s.truncate_rate > 0 && layers_rand01(sh) < s.truncate_rate)
        out->fault = MOCKD_FAULT_TRUNCATE;
    else if (s.slow_rate > 0 && layers_rand01(sh) < s.slow_rate) {
        out->fault = MOCKD_FAULT_SLOW;
        out->slow_bps = s.slow_bps ? s.slow_bps : 1000;
    }
}

/* A validated FaultSpec object into s. */
static void spec_from(const struct ct_node *o, struct fspec *s)
{
    memset(s, 0, sizeof(*s));
    s->error_status = 500;
    const struct ct_node *lat = ct_obj_get(o, "latency");
    if (ct_obj_get(o, "latencyMs")) {
        s->delay_min = s->delay_max = (unsigned)jx_get_uint(o, "latencyMs", 0);
    } else if (lat) {
        s->delay_min = (unsigned)jx_get_uint(lat, "minMs", 0);
        s->delay_max = (unsigned)jx_get_uint(lat, "maxMs", s->delay_min);
        if (s->delay_max < s->delay_min) s->delay_max = s->delay_min;
    }
    s->error_rate = jx_get_num(o, "errorRate", 0);
    s->error_status = (unsigned)jx_get_uint(o, "errorStatus", 500);
    s->reset_rate = jx_get_num(o, "resetRate", 0);
    s->empty_rate = jx_get_num(o, "emptyRate", 0);
    s->truncate_rate = jx_get_num(o, "truncateRate", 0);
    s->slow_rate = jx_get_num(o, "slowRate", 0);
    s->slow_bps = (unsigned)jx_get_uint(o, "slowBps", 0);
}

static void put_spec(struct ct_buf *b, const struct fspec *s)
{
    ct_buf_addc(b, '{');
    bool first = true;
#define SEP() (first ? (first = false, "") : ",")
    if (s->delay_max)
        ct_buf_printf(b, "%s\"latency\":{\"minMs\":%u,\"maxMs\":%u}", SEP(), s->delay_min,
                      s->delay_max);
    if (s->error_rate > 0)
        ct_buf_printf(b, "%s\"errorRate\":%g,\"errorStatus\":%u", SEP(), s->error_rate,
                      s->error_status);
    if (s->reset_rate > 0) ct_buf_printf(b, "%s\"resetRate\":%g", SEP(), s->reset_rate);
    if (s->empty_rate > 0) ct_buf_printf(b, "%s\"emptyRate\":%g", SEP(), s->empty_rate);
    if (s->truncate_rate > 0) ct_buf_printf(b, "%s\"truncateRate\":%g", SEP(), s->truncate_rate);
    if (s->slow_rate > 0)
        ct_buf_printf(b, "%s\"slowRate\":%g,\"slowBps\":%u", SEP(), s->slow_rate,
                      s->slow_bps ? s->slow_bps : 1000);
#undef SEP
}

void faults_admin_get(struct faults *f, struct ct_buf *out)
{
    pthread_mutex_lock(&f->lock);
    put_spec(out, &f->global);
    /* put_spec leaves the object open for the operations member. */
    ct_buf_adds(out, out->ptr[out->len - 1] == '{' ? "\"operations\":{" : ",\"operations\":{");
    for (size_t i = 0; i < f->nops; i++) {
        if (i) ct_buf_addc(out, ',');
        jx_put_cstr(out, f->ops[i].name);
        ct_buf_addc(out, ':');
        put_spec(out, &f->ops[i].s);
        ct_buf_addc(out, '}');
    }
    ct_buf_adds(out, "}}");
    pthread_mutex_unlock(&f->lock);
}

const struct ct_oas_op *layers_find_op(const struct mockd_app *app, const char *name)
{
    const struct ct_oas_op *op = ct_oas_find_op(app->oas, name);
    if (op) return op;
    size_t ml = strcspn(name, " ");
    if (!name[ml]) return NULL;
    int method = ct_http_method_parse(name, ml);
    const char *path = name + ml;
    while (*path == ' ')
        path++;
    for (unsigned i = 0; method >= 0 && i < app->oas->nops; i++)
        if ((int)app->oas->ops[i].method == method && !strcmp(app->oas->ops[i].path, path))
            return &app->oas->ops[i];
    return NULL;
}

const char *layers_suggest_op(const struct mockd_app *app, struct ct_arena *a, const char *name)
{
    const char **ids = ct_arena_alloc(a, (app->oas->nops + 1) * sizeof(*ids));
    size_t n = 0;
    for (unsigned i = 0; i < app->oas->nops; i++)
        if (app->oas->ops[i].operation_id) ids[n++] = app->oas->ops[i].operation_id;
    const char *best = ct_did_you_mean(name, ids, n);
    return best ? jx_fmt(a, " (did you mean '%s'?)", best) : "";
}

unsigned faults_admin_set(struct faults *f, const struct mockd_app *app, const struct ct_node *def,
                          struct mockd_req *req, struct ct_buf *out)
{
    const struct ct_node *ops = ct_obj_get(def, "operations");
    size_t n = ops ? ops->len : 0;
    struct op_fault *v = ct_xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const char *name = ops->u.members[i].key->u.str;
        const struct ct_oas_op *op = layers_find_op(app, name);
        if (!op) {
            free_ops(v, i);
            ct_buf_printf(out, "no operation '%s' in the spec%s", name,
                          layers_suggest_op(app, req->arena, name));
            return 404;
        }
        v[i].method = (int)op->method;
        v[i].path = ct_xstrdup(op->path);
        v[i].name = ct_xstrdup(name);
        spec_from(ops->u.members[i].val, &v[i].s);
    }
    struct fspec g;
    spec_from(def, &g);
    pthread_mutex_lock(&f->lock);
    free_ops(f->ops, f->nops);
    f->ops = v;
    f->nops = n;
    f->global = g;
    atomic_store(&f->any, n > 0 || spec_active(&g));
    pthread_mutex_unlock(&f->lock);
    faults_admin_get(f, out);
    return 200;
}

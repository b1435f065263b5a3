/* layers.c - mockd as a test double: options, lifetime, and the hooks the request pipeline
 * calls (layers.h). The work is done by the modules declared in layers_impl.h: admin.c (the
 * /__mockd/ API), overrides.c, faults.c, journal.c, state.c (--stateful), cache.c, proxy.c and
 * record.c. This file only decides the order:
 *
 *   route:  /__mockd/ -> admin API; offline -> reset the request
 *   answer: override step -> fault settings (error, reset) -> proxy -> stored state, and the
 *           delay and transport fault of the override or the settings on whatever answers
 *   finish: caching (ETag, Last-Modified, 304)
 *   record: journal, recorder */
#include "layers_impl.h"

#include "core/alloc.h"
#include "core/err.h"
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* --- options --------------------------------------------------------------------------------- */

const char *const mockd_layers_keys[] = {
    "stateful",      "state-file",    "sessions",    "journal-size",
    "journal-body",  "journal-bytes", "latency",     "error-rate",
    "error-status",  "admin",         "admin-token", "proxy",
    "proxy-timeout", "record",        "watch",       "watch-interval",
};
const size_t mockd_layers_nkeys = sizeof(mockd_layers_keys) / sizeof(mockd_layers_keys[0]);

static void config_defaults(struct mockd_layers_config *c)
{
    memset(c, 0, sizeof(*c));
    c->journal_size = 1000;
    c->journal_body = 64 << 10;
    c->journal_bytes = 64 << 20;
    c->error_status = 500;
    c->proxy_timeout = 30;
    c->watch_ms = 500;
    c->max_sessions = 64;
}

/* Programs that never called mockd_layers_config_init (in-process tests) get the defaults. */
static struct mockd_layers_config dflt_config;
static pthread_once_t dflt_once = PTHREAD_ONCE_INIT;

static void dflt_init(void)
{
    config_defaults(&dflt_config);
}

static const struct mockd_layers_config *config_of(const struct mockd_app *app)
{
    if (app->cfg && app->cfg->layers) return app->cfg->layers;
    pthread_once(&dflt_once, dflt_init);
    return &dflt_config;
}

void mockd_layers_config_init(struct mockd_config *cfg)
{
    cfg->layers = ct_xcalloc(1, sizeof(*cfg->layers));
    config_defaults(cfg->layers);
}

void mockd_layers_config_free(struct mockd_config *cfg)
{
    ct_free(cfg->layers);
    cfg->layers = NULL;
}

bool mockd_layers_is_flag(const char *key)
{
    return !strcmp(key, "stateful") || !strcmp(key, "watch");
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+' || *s == ' ') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > max) return false;
    *out = v;
    return true;
}

static const char *parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "yes"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "no"))
        *out = false;
    else
        return "expected true or false";
    return NULL;
}

static const char *parse_latency(struct mockd_layers_config *c, const char *v)
{
    const char *dash = strchr(v, '-');
    unsigned long long lo, hi;
    char first[32];
    size_t n = dash ? (size_t)(dash - v) : strlen(v);
    if (n >= sizeof(first)) return "expected milliseconds (200) or a range (100-500)";
    memcpy(first, v, n);
    first[n] = 0;
    if (!parse_uint(first, 600000, &lo))
        return "expected milliseconds (200) or a range (100-500), at most 600000";
    hi = lo;
    if (dash && (!parse_uint(dash + 1, 600000, &hi) || hi < lo))
        return "expected a range MIN-MAX with MIN <= MAX <= 600000";
    c->latency_set = lo || hi;
    c->latency_min = (unsigned)lo;
    c->latency_max = (unsigned)hi;
    return NULL;
}

const char *mockd_layers_option(struct mockd_config *cfg, const char *key, const char *v)
{
    struct mockd_layers_config *c = cfg->layers;
    unsigned long long n;
    if (!c) return "unknown option";
    if (!strcmp(key, "stateful")) return parse_bool(v, &c->stateful);
    if (!strcmp(key, "watch")) return parse_bool(v, &c->watch);
    if (!strcmp(key, "state-file")) {
        if (!*v) return "expected a file name";
        c->state_file = v;
    } else if (!strcmp(key, "sessions")) {
        if (!parse_uint(v, 100000, &n) || !n)
            return "expected a number of sessions from 1 to 100000";
        c->max_sessions = (unsigned)n;
    } else if (!strcmp(key, "journal-size")) {
        if (!parse_uint(v, 1000000, &n))
            return "expected a number of entries from 0 (no journal) to 1000000";
        c->journal_size = (unsigned)n;
    } else if (!strcmp(key, "journal-body")) {
        if (!parse_uint(v, (unsigned long long)1 << 30, &n))
            return "expected a number of bytes from 0 to 1073741824";
        c->journal_body = (size_t)n;
    } else if (!strcmp(key, "journal-bytes")) {
        if (!parse_uint(v, (unsigned long long)1 << 40, &n) || n < 4096)
            return "expected a number of bytes, at least 4096";
        c->journal_bytes = (size_t)n;
    } else if (!strcmp(key, "latency")) {
        return parse_latency(c, v);
    } else if (!strcmp(key, "error-rate")) {
        char *end;
        double d = strtod(v, &end);
        if (!*v || *end || !(d >= 0 && d <= 1)) return "expected a probability from 0 to 1";
        c->error_rate = d;
    } else if (!strcmp(key, "error-status")) {
        if (!parse_uint(v, 599, &n) || n < 100) return "expected an HTTP status from 100 to 599";
        c->error_status = (unsigned)n;
    } else if (!strcmp(key, "admin")) {
        bool on;
        if (parse_bool(v, &on)) return "expected on or off";
        c->admin_off = !on;
    } else if (!strcmp(key, "admin-token")) {
        if (strlen(v) < 8) return "expected a token of at least 8 characters";
        c->admin_token = v;
    } else if (!strcmp(key, "proxy")) {
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
            return "expected an http:// or https:// URL";
        c->proxy = v;
    } else if (!strcmp(key, "proxy-timeout")) {
        if (!parse_uint(v, 3600, &n) || !n) return "expected a number of seconds from 1 to 3600";
        c->proxy_timeout = (unsigned)n;
    } else if (!strcmp(key, "record")) {
        if (!*v) return "expected a directory";
        c->record_dir = v;
    } else if (!strcmp(key, "watch-interval")) {
        if (!parse_uint(v, 60000, &n) || n < 10) return "expected milliseconds from 10 to 60000";
        c->watch_ms = (unsigned)n;
    } else {
        return "unknown option";
    }
    return NULL;
}

void mockd_layers_usage(FILE *f)
{
    fprintf(
        f, "\ntest double (see docs/testing-with-mockd.md; admin API at /__mockd/):\n"
           "  --stateful           CRUD state inferred from the spec (POST creates, GET reads...)\n"
           "  --state-file FILE    load the state from FILE at start, save it there at exit\n"
           "  --sessions N         separate states kept for X-Mockd-Session (default 64)\n"
           "  --journal-size N     exchanges kept in the journal (default 1000; 0: none)\n"
           "  --journal-body BYTES body bytes kept per exchange (default 65536)\n"
           "  --journal-bytes BYTES bytes kept by the journal in all (default 67108864)\n"
           "  --latency MS|MIN-MAX delay every answer\n"
           "  --error-rate P       answer a share P (0..1) of requests with --error-status\n"
           "  --error-status N     status of those errors (default 500)\n"
           "  --admin on|off       serve the admin API under /__mockd/ (default on)\n"
           "  --admin-token T      require 'Authorization: Bearer T' on the admin API and allow\n"
           "                       it from any address (default: loopback only, no token)\n"
           "  --proxy URL          forward to a real backend, check both directions against the\n"
           "                       spec, answer from the mock where the backend lacks the\n"
           "                       operation (raise --threads: each forward blocks a thread)\n"
           "  --proxy-timeout S    backend timeout (default 30)\n"
           "  --record DIR         write proxied exchanges as examples and a scenario to DIR\n"
           "  --watch              reload the spec when its files change\n"
           "  --watch-interval MS  how often to look (default 500)\n");
}

/* --- shared helpers -------------------------------------------------------------------------- */

uint64_t layers_rand(struct layers_shared *sh)
{
    uint64_t z = atomic_fetch_add(&sh->rng, 0x9E3779B97F4A7C15ULL) + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double layers_rand01(struct layers_shared *sh)
{
    return (double)(layers_rand(sh) >> 11) / 9007199254740992.0;
}

double layers_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *layers_session(const struct mockd_req *req)
{
    const char *s = mockd_req_header(req, "X-Mockd-Session");
    return s && *s ? s : NULL;
}

bool layers_is_offline(struct layers_shared *sh, enum offline_mode *mode)
{
    int v = atomic_load(&sh->offline);
    if (!v) return false;
    int64_t until = atomic_load(&sh->offline_until);
    if (until && mockd_now_ms() >= until) {
        /* Expired: switch off, unless someone switched it again meanwhile. */
        atomic_compare_exchange_strong(&sh->offline, &v, 0);
        return false;
    }
    if (mode) *mode = (enum offline_mode)(v - 1);
    return true;
}

char *layers_op_key(struct ct_arena *a, const struct ct_oas_op *op)
{
    const char *m = ct_http_method_name(op->method);
    char up[16];
    size_t i = 0;
    for (; m[i] && i + 1 < sizeof(up); i++)
        up[i] = (char)(m[i] >= 'a' && m[i] <= 'z' ? m[i] - 32 : m[i]);
    up[i] = 0;
    return jx_fmt(a, "%s %s", up, op->path);
}

/* --- lifetime -------------------------------------------------------------------------------- */

static struct layers_shared *shared_new(const struct mockd_layers_config *cfg, uint64_t seed)
{
    struct layers_shared *sh = ct_xcalloc(1, sizeof(*sh));
    atomic_init(&sh->refs, 1);
    sh->cfg = cfg;
    sh->seed = seed;
    atomic_init(&sh->rng, seed * 0x2545F4914F6CDD1DULL + 1);
    sh->journal = journal_new(cfg->journal_size, cfg->journal_body, cfg->journal_bytes);
    sh->overrides = overrides_new();
    sh->faults = faults_new(cfg);
    sh->store = store_new(cfg->max_sessions);
    sh->drift = drift_new();
    sh->started_ms = mockd_now_ms();
    return sh;
}

static void shared_unref(struct layers_shared *sh)
{
    if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1) return;
    journal_free(sh->journal);
    overrides_free(sh->overrides);
    faults_free(sh->faults);
    store_free(sh->store);
    drift_free(sh->drift);
    recorder_free(sh->rec);
    ct_free(sh);
}

struct mockd_layers *mockd_layers_new(struct mockd_app *app, struct ct_diags *diags)
{
    const struct mockd_layers_config *cfg = config_of(app);
    struct mockd_layers *l = ct_xcalloc(1, sizeof(*l));
    l->app = app;
    l->sh = shared_new(cfg, app->cfg ? app->cfg->seed : 1);
    pthread_mutex_init(&l->admin_lock, NULL);
    if (cfg->stateful) l->model = state_model_new(app, diags);
    if (cfg->proxy) l->proxy = proxy_new(cfg, diags);
    if (cfg->record_dir) l->sh->rec = recorder_new(cfg->record_dir, cfg->proxy != NULL, diags);
    if (l->model && cfg->state_file) {
        const char *why = NULL;
        FILE *f = fopen(cfg->state_file, "r");
        l->save_state = !app->cfg || !app->cfg->check_only;
        if (f) {
            fclose(f);
            if (state_load_file(l, cfg->state_file, &why) != 0) {
                /* Never overwrite a file that did not load: it may be the only copy. */
                l->save_state = false;
                ct_diags_add(diags, CT_SEV_ERROR, CT_E_INVAL, NULL, 0, 0, "--state-file '%s': %s",
                             cfg->state_file, why ? why : "cannot be loaded");
            }
        }
    }
    return l;
}

void mockd_layers_free(struct mockd_layers *l)
{
    if (!l) return;
    const struct mockd_layers_config *cfg = l->sh->cfg;
    /* The last app to go saves the state (at exit; a reload hands the state on instead). */
    if (l->save_state && atomic_load(&l->sh->refs) == 1) {
        const char *why = NULL;
        if (state_save_file(l, cfg->state_file, &why) != 0)
            fprintf(stderr, "mockd: --state-file '%s': %s\n", cfg->state_file,
                    why ? why : "cannot be written");
    }
    admin_free(l->admin);
    pthread_mutex_destroy(&l->admin_lock);
    state_model_free(l->model);
    proxy_free(l->proxy);
    shared_unref(l->sh);
    ct_free(l);
}

void mockd_layers_adopt(struct mockd_layers *next, struct mockd_layers *prev)
{
    if (!next || !prev || next->sh == prev->sh) return;
    atomic_fetch_add(&prev->sh->refs, 1);
    /* The fresh shared part of `next` carried nothing yet but its recorder; keep the old one. */
    shared_unref(next->sh);
    next->sh = prev->sh;
}

/* --- hooks ----------------------------------------------------------------------------------- */

bool mockd_layers_accept(const struct mockd_app *app)
{
    enum offline_mode mode;
    if (!app->layers || !layers_is_offline(app->layers->sh, &mode)) return true;
    return mode != OFFLINE_REFUSE;
}

static bool is_admin_path(const struct mockd_req *req)
{
    return req->path_len >= 8 && !memcmp(req->path, "/__mockd", 8) &&
           (req->path_len == 8 || req->path[8] == '/');
}

bool mockd_layers_route(const struct mockd_app *app, struct mockd_req *req, struct mockd_resp *resp)
{
    struct mockd_layers *l = app->layers;
    if (!l) return false;
    if (is_admin_path(req) && !l->sh->cfg->admin_off) return admin_handle(l, req, resp);
    if (layers_is_offline(l->sh, NULL)) {
        /* Requests on connections opened before the switch fail like new connections do. */
        resp->status = 503;
        resp->fault = MOCKD_FAULT_RESET;
        resp->source = "offline";
        return true;
    }
    return false;
}

/* Build the answer an override step asks for. */
static void step_answer(const struct mockd_app *app, const struct mockd_op_plan *p,
                        struct mockd_req *req, struct mockd_resp *resp, const struct ovr_step *st)
{
    unsigned status = st->status;
    if (!status) {
        const struct mockd_resp_plan *rp = p->dflt >= 0 ? &p->resps[p->dflt] : NULL;
        status = rp && rp->code ? rp->code : rp && rp->klass ? rp->klass * 100 : 200;
    }
    if (st->body) {
        resp->status = status;
        const struct mockd_resp_plan *rp = answer_find_resp(p, status);
        const struct mockd_media_plan *mp = answer_media(rp);
        resp->content_type = st->content_type                            ? st->content_type
                             : mp && strncmp(mp->m->type, "*/*", 3) != 0 ? mp->m->type
                                                                         : "application/json";
        resp->body = st->body;
        resp->body_len = st->body_len;
        answer_declared_headers(app, req, resp, rp);
    } else if (!answer_spec(app, p, req, resp, status, st->example, NULL)) {
        answer_problem(req, resp, 500, "override",
                       jx_fmt(req->arena, "override %s: the %u response has no example '%s'",
                              st->override_id, status, st->example));
    }
    if (st->content_type && !st->body) resp->content_type = st->content_type;
    for (unsigned i = 0; i < st->nheaders; i++)
        answer_set_header(resp, st->headers[i].name, st->headers[i].value);
}

bool mockd_layers_answer(const struct mockd_app *app, const struct mockd_op_plan *p,
                         const struct ct_route_match *m, struct mockd_req *req,
                         struct mockd_resp *resp)
{
    struct mockd_layers *l = app->layers;
    if (!l) return false;
    struct layers_shared *sh = l->sh;
    atomic_fetch_add(&sh->answered, 1);

    struct fault_pick fp;
    faults_pick(sh->faults, sh, p->op, &fp);
    bool done = false;
    struct ovr_step st;
    if (overrides_take(sh->overrides, app, p, m, req, &st)) {
        mockd_resp_header(resp, "X-Mockd-Override", st.override_id);
        if (st.has_delay) fp.delay_ms = faults_delay(sh, st.delay_min, st.delay_max);
        if (st.fault != MOCKD_FAULT_NONE) {
            fp.fault = st.fault;
            fp.slow_bps = st.slow_bps;
        }
        fp.error_status = 0; /* the override decides the answer */
        if (!st.passthrough) {
            step_answer(app, p, req, resp, &st);
            resp->source = "override";
            done = true;
        } else if (st.fault == MOCKD_FAULT_NONE && !st.has_delay) {
            fp.fault = MOCKD_FAULT_NONE; /* a bare passthrough answers normally */
            fp.delay_ms = 0;
        }
    }
    if (!done && fp.error_status) {
        answer_spec(app, p, req, resp, fp.error_status, NULL, "fault injected by mockd");
        resp->source = "fault";
        done = true;
    }
    if (!done && fp.fault == MOCKD_FAULT_RESET) {
        resp->status = 0;
        resp->source = "fault";
        done = true;
    }
    if (!done && l->proxy) done = proxy_answer(l, p, req, resp);
    if (!done && l->model) done = state_answer(l, p, m, req, resp);
    resp->delay_ms = fp.delay_ms;
    resp->fault = fp.fault;
    resp->slow_bps = fp.slow_bps;
    return done;
}

void mockd_layers_finish(const struct mockd_app *app, const struct mockd_op_plan *p,
                         struct mockd_req *req, struct mockd_resp *resp)
{
    /* A backend's answer keeps its own validators. */
    if (!app->layers || resp->fault == MOCKD_FAULT_RESET ||
        (resp->source && !strcmp(resp->source, "proxy")))
        return;
    cache_finish(app, p, req, resp);
}

void mockd_layers_record(const struct mockd_app *app, const struct mockd_req *req,
                         const struct mockd_resp *resp, double ms)
{
    struct mockd_layers *l = app->layers;
    if (!l || (resp->source && !strcmp(resp->source, "admin"))) return;
    journal_add_http(l->sh->journal, req, resp, ms);
    if (l->sh->rec) recorder_add(l->sh->rec, req, resp);
}

/* layers_impl.h - what the test-double modules share inside mockd (not a public header).
 *
 * Two lifetimes:
 *  - struct mockd_layers belongs to one loaded app (one version of the spec): what is inferred
 *    from the spec (the CRUD resources, the admin API's router), freed with the app.
 *  - struct layers_shared holds everything a test changes at run time (overrides, faults, the
 *    offline switch, the journal, stored state, drift reports). It is reference counted so that
 *    a hot reload hands it to the next app (mockd_layers_adopt) and no test loses its setup.
 *
 * Locks: each part of layers_shared has its own mutex (journal, overrides, faults, store,
 * drift); the offline switch and counters are atomics. No code holds two of these locks at
 * once, so there is no lock order to keep. */
#pragma once

#include "layers_ws.h"

#include "mockd.h"

#include "core/arena.h"
#include "core/buf.h"
#include "jsonx.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* --- options (cfg->layers) ------------------------------------------------------------------- */

struct mockd_layers_config {
    bool stateful;
    const char *state_file; /* borrowed from argv or the config file */
    unsigned journal_size;  /* entries kept */
    size_t journal_body;    /* bytes kept per body */
    size_t journal_bytes;   /* bytes kept in all */
    bool latency_set;
    unsigned latency_min, latency_max; /* milliseconds */
    double error_rate;
    unsigned error_status;
    const char *admin_token; /* NULL: loopback only */
    bool admin_off;
    const char *proxy;      /* backend base URL, or NULL */
    unsigned proxy_timeout; /* seconds */
    const char *record_dir;
    bool watch;
    unsigned watch_ms;
    unsigned max_sessions;
};

/* --- module types ---------------------------------------------------------------------------- */

struct journal;
struct overrides;
struct faults;
struct store;
struct state_model;
struct drift;
struct recorder;
struct admin_api;
struct proxy;

enum offline_mode { OFFLINE_REFUSE, OFFLINE_RESET };

struct layers_shared {
    atomic_int refs;
    const struct mockd_layers_config *cfg;
    uint64_t seed;
    struct journal *journal;
    struct overrides *overrides;
    struct faults *faults;
    struct store *store;
    struct drift *drift;
    struct recorder *rec;
    atomic_int offline;                /* 0 online, else 1 + enum offline_mode */
    atomic_int_fast64_t offline_until; /* monotonic ms; 0: until switched off */
    atomic_uint_fast64_t rng;
    atomic_uint_fast64_t answered; /* requests that reached the layers */
    int64_t started_ms;            /* monotonic */
};

struct mockd_layers {
    struct mockd_app *app;
    struct layers_shared *sh;
    struct admin_api *admin;   /* built on the first admin request: use admin_of() */
    pthread_mutex_t admin_lock;
    struct state_model *model; /* NULL without --stateful */
    struct proxy *proxy;       /* NULL without --proxy */
    bool save_state;           /* --state-file is written at exit (it loaded, not --check) */
};

/** application/json and +json media types (app.c). */
bool mockd_media_is_json(const char *type);

/** Hand the run-time state of `prev` (overrides, faults, journal, stored state...) to `next`,
 * a freshly loaded version of the spec (hot reload). */
void mockd_layers_adopt(struct mockd_layers *next, struct mockd_layers *prev);

/* --- helpers (layers.c) ---------------------------------------------------------------------- */

/** A pseudo-random 64-bit number (splitmix64 over a shared counter seeded by --seed). */
uint64_t layers_rand(struct layers_shared *sh);
/** A uniform double in [0, 1). */
double layers_rand01(struct layers_shared *sh);
/** Wall-clock milliseconds since the epoch. */
double layers_wall_ms(void);
/** The request's session (X-Mockd-Session header), or NULL. */
const char *layers_session(const struct mockd_req *req);
/** Whether the offline switch is on now (it may have expired). */
bool layers_is_offline(struct layers_shared *sh, enum offline_mode *mode);
/** An operation named by operationId or "METHOD /path/template"; NULL when none. */
const struct ct_oas_op *layers_find_op(const struct mockd_app *app, const char *name);
/** " (did you mean 'x'?)" for an unknown operation name, in the arena, or "". */
const char *layers_suggest_op(const struct mockd_app *app, struct ct_arena *a, const char *name);
/** "GET /prompts/{id}" for an operation, in the arena. */
char *layers_op_key(struct ct_arena *a, const struct ct_oas_op *op);

/* --- answers built by the layers (answer.c) -------------------------------------------------- */

/** The plan's response for a status: exact code, then its class range, then "default". */
const struct mockd_resp_plan *answer_find_resp(const struct mockd_op_plan *p, unsigned status);
/** The first JSON media type of a response with a body, else the first one. */
const struct mockd_media_plan *answer_media(const struct mockd_resp_plan *rp);
/** Answer `status` the way the spec would: the documented response's named example (or its
 * default body), its declared headers; application/problem+json when the operation documents
 * no such response. `message` (may be NULL) fills a `message`/`detail` field of a JSON error
 * body. Returns false when `example` names no example of that response (resp untouched). */
bool answer_spec(const struct mockd_app *app, const struct mockd_op_plan *p, struct mockd_req *req,
                 struct mockd_resp *resp, unsigned status, const char *example,
                 const char *message);
/** Set resp's body to `n` serialised (JSON, or the string itself for non-JSON types). */
void answer_body_node(struct mockd_req *req, struct mockd_resp *resp, const struct ct_node *n,
                      const char *type);
/** A problem+json answer (RFC 9457). */
void answer_problem(struct mockd_req *req, struct mockd_resp *resp, unsigned status,
                    const char *type, const char *detail);
/** Add the declared headers of a response (example values, else generated ones). */
void answer_declared_headers(const struct mockd_app *app, struct mockd_req *req,
                             struct mockd_resp *resp, const struct mockd_resp_plan *rp);
/** Set (replace, or add) a response header. */
void answer_set_header(struct mockd_resp *resp, const char *name, const char *value);

/* --- journal.c ------------------------------------------------------------------------------- */

struct journal *journal_new(unsigned max_entries, size_t max_body, size_t max_bytes);
void journal_free(struct journal *j);
void journal_add_http(struct journal *j, const struct mockd_req *req, const struct mockd_resp *resp,
                      double ms);
void journal_add_ws(struct journal *j, const char *path, const char *session, bool from_client,
                    const char *data, size_t len, bool text);
/** n text frames sent to the client at once (see mockd_layers_ws_frames_out). */
void journal_add_ws_out(struct journal *j, const char *path, const char *session,
                        const struct mockd_ws_text *frames, size_t n);
/** Returns how many entries were removed. */
unsigned journal_clear(struct journal *j);
/** Admin: list (filters from the query), one entry, and verification. */
void journal_admin_list(struct journal *j, struct mockd_req *req, struct ct_buf *out);
bool journal_admin_get(struct journal *j, uint64_t id, struct mockd_req *req, struct ct_buf *out);
/** Returns true when the expectation held; *out gets the result object. */
bool journal_admin_verify(struct journal *j, const struct ct_node *spec, struct mockd_req *req,
                          struct ct_buf *out);
void journal_stats(struct journal *j, uint64_t *count, uint64_t *dropped, uint64_t *next_id);

/* --- overrides.c ----------------------------------------------------------------------------- */

/** One answer of an override, resolved for a request (strings in the request's arena). */
struct ovr_step {
    const char *override_id;
    bool passthrough;
    unsigned status;     /* 0: the operation's default */
    const char *example; /* a named example of the spec's response */
    const char *content_type;
    const char *body; /* NULL: the spec's body for the status */
    size_t body_len;
    struct mockd_header headers[16];
    unsigned nheaders;
    bool has_delay;
    unsigned delay_min, delay_max;
    enum mockd_fault fault;
    unsigned slow_bps;
};

struct overrides *overrides_new(void);
void overrides_free(struct overrides *o);
unsigned overrides_clear(struct overrides *o);
/** The step the newest matching override gives this request (counting the call). */
bool overrides_take(struct overrides *o, const struct mockd_app *app, const struct mockd_op_plan *p,
                    const struct ct_route_match *m, struct mockd_req *req, struct ovr_step *step);
/** Admin: create from a validated JSON definition. Returns the HTTP status; *out gets the body. */
unsigned overrides_admin_create(struct overrides *o, const struct mockd_app *app,
                                const struct ct_node *def, const char *text, size_t len,
                                struct mockd_req *req, struct ct_buf *out);
void overrides_admin_list(struct overrides *o, struct ct_buf *out);
bool overrides_admin_get(struct overrides *o, const char *id, struct ct_buf *out);
bool overrides_remove(struct overrides *o, const char *id);
unsigned overrides_count(struct overrides *o);

/* --- faults.c -------------------------------------------------------------------------------- */

/** What the fault settings decided for one request. */
struct fault_pick {
    unsigned delay_ms;
    unsigned error_status; /* 0: none */
    enum mockd_fault fault;
    unsigned slow_bps;
};

struct faults *faults_new(const struct mockd_layers_config *cfg);
void faults_free(struct faults *f);
void faults_clear(struct faults *f);
void faults_pick(struct faults *f, struct layers_shared *sh, const struct ct_oas_op *op,
                 struct fault_pick *out);
unsigned faults_admin_set(struct faults *f, const struct mockd_app *app, const struct ct_node *def,
                          struct mockd_req *req, struct ct_buf *out);
void faults_admin_get(struct faults *f, struct ct_buf *out);
/** A delay between min and max (inclusive). */
unsigned faults_delay(struct layers_shared *sh, unsigned min, unsigned max);
/** "reset", "empty", "truncate", "slow" -> fault; MOCKD_FAULT_NONE when unknown. */
enum mockd_fault faults_parse(const char *name);
const char *faults_name(enum mockd_fault f);

/* --- admin.c --------------------------------------------------------------------------------- */

struct admin_api *admin_new(struct mockd_layers *l, struct ct_diags *diags);
void admin_free(struct admin_api *a);
/** Answer a request under /__mockd/ (true), or false for other paths. */
bool admin_handle(struct mockd_layers *l, struct mockd_req *req, struct mockd_resp *resp);

/** The embedded admin API document (admin_doc.c, generated from docs/mockd-admin.yaml). */
extern const char mockd_admin_doc[];
extern const size_t mockd_admin_doc_len;

/* --- state.c --------------------------------------------------------------------------------- */

struct state_model *state_model_new(const struct mockd_app *app, struct ct_diags *diags);
void state_model_free(struct state_model *m);
struct store *store_new(unsigned max_sessions);
void store_free(struct store *s);
/** Forget every stored item: collections are seeded again on their next use. */
void store_reset(struct store *s);
/** Answer a CRUD operation from the stored state. False when the operation is no CRUD one. */
bool state_answer(struct mockd_layers *l, const struct mockd_op_plan *p,
                  const struct ct_route_match *m, struct mockd_req *req, struct mockd_resp *resp);
/** The ETag of the stored item an item operation addresses, for If-Match; NULL when none. */
void state_admin_dump(struct mockd_layers *l, struct mockd_req *req, struct ct_buf *out);
unsigned state_admin_load(struct mockd_layers *l, const struct ct_node *dump, struct ct_buf *out);
void state_admin_resources(struct mockd_layers *l, struct ct_buf *out);
/** Save to / load from --state-file. Returns 0 or -1 (with *why set, static or arena). */
int state_save_file(struct mockd_layers *l, const char *path, const char **why);
int state_load_file(struct mockd_layers *l, const char *path, const char **why);

/* --- cache.c --------------------------------------------------------------------------------- */

void cache_finish(const struct mockd_app *app, const struct mockd_op_plan *p, struct mockd_req *req,
                  struct mockd_resp *resp);
/** A strong ETag for body bytes, in the arena: "\"<16 hex digits>\"". */
char *cache_etag(struct ct_arena *a, const char *body, size_t len);

/* --- proxy.c --------------------------------------------------------------------------------- */

struct proxy *proxy_new(const struct mockd_layers_config *cfg, struct ct_diags *diags);
void proxy_free(struct proxy *p);
/** Forward the request. True when resp holds the backend's answer; false to fall back to the
 * mock (the operation is missing there, or the backend is unreachable). */
bool proxy_answer(struct mockd_layers *l, const struct mockd_op_plan *p, struct mockd_req *req,
                  struct mockd_resp *resp);
struct drift *drift_new(void);
void drift_free(struct drift *d);
unsigned drift_clear(struct drift *d);
/** Record a contract problem seen in proxied traffic. */
void drift_add(struct drift *d, const char *op_key, const char *direction, unsigned status,
               const char *message);
void drift_admin_list(struct drift *d, struct ct_buf *out);

/* --- reload.c -------------------------------------------------------------------------------- */

/** How many times the spec was reloaded since start. */
unsigned layers_reload_count(void);
/** Reload the spec now (POST /__mockd/reload): the status, and the answer (or detail) in out. */
unsigned layers_reload_now(struct ct_buf *out);

/* --- record.c -------------------------------------------------------------------------------- */

/** Record into dir; with proxy_only, only the backend's answers. NULL (with a diagnostic) when
 * the directory cannot be made. */
struct recorder *recorder_new(const char *dir, bool proxy_only, struct ct_diags *diags);
void recorder_free(struct recorder *r);
void recorder_add(struct recorder *r, const struct mockd_req *req, const struct mockd_resp *resp);

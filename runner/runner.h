/* runner.h - declarations shared by runner's files (not a library API).
 *
 * Reading order: main.c (commands) -> cli.c (the option table) -> suite.c (finding, reading,
 * parsing and checking scenario files) -> contract.c (the compiled contract: operations,
 * validators, coverage) -> exec.c (running one scenario: variables, requests, assertions,
 * captures, flow) -> http_curl.c (the only file that includes curl.h) -> run.c (workers, jobs,
 * shards, tags, mockd) -> report.c (human, JUnit, JSON and TAP writers over one result model). */
#pragma once

#include "core/arena.h"
#include "core/buf.h"
#include "core/diag.h"
#include "json/node.h"
#include "openapi/model.h"
#include "scenario/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ct_vctx;
struct ct_router;
struct ct_asyncapi_channel;

/** Exit statuses, documented in runner(1). */
enum runner_exit {
    RUNNER_OK = 0,          /* every scenario passed (or was skipped) */
    RUNNER_FAILED = 1,      /* a scenario failed, or coverage is below --min-coverage */
    RUNNER_USAGE = 2,       /* bad command line */
    RUNNER_BROKEN = 3,      /* a broken spec or scenario */
    RUNNER_UNREACHABLE = 4, /* the target (or mockd) could not be reached or started */
    RUNNER_INTERNAL = 5,    /* a bug */
};

/* --- options (cli.c) ------------------------------------------------------------------------ */

enum runner_fmt { RUNNER_FMT_HUMAN, RUNNER_FMT_JUNIT, RUNNER_FMT_JSON, RUNNER_FMT_TAP };

#define RUNNER_MAX_REPORTS 8
#define RUNNER_MAX_TAGS 32

struct runner_report_out {
    enum runner_fmt fmt;
    const char *file; /* borrowed from argv; "-" is stdout */
};

/** Parsed command line. Strings are borrowed from argv; arrays are owned (runner_opts_deinit). */
struct runner_opts {
    const char *spec;
    const char *asyncapi;
    const char *target;
    bool mock;
    const char *mockd;
    const char **mockd_args; /* extra arguments for mockd */
    unsigned nmockd_args;
    unsigned jobs;
    unsigned shard_k, shard_n; /* 1-based; n == 0: no sharding */
    const char *tags_in[RUNNER_MAX_TAGS];
    unsigned ntags_in;
    const char *tags_out[RUNNER_MAX_TAGS];
    unsigned ntags_out;
    double min_coverage; /* < 0: not checked */
    struct runner_report_out reports[RUNNER_MAX_REPORTS];
    unsigned nreports;
    uint32_t timeout_ms;
    const char **vars; /* "NAME=VALUE" */
    unsigned nvars;
    int color;         /* -1 auto, 0 never, 1 always */
    bool verbose;
    bool quiet;
    bool fail_fast;
    bool list;         /* check: print the scenarios it would run */
    char **paths;
    unsigned npaths;
};

/** Parse the options of `runner run` or `runner check` (argv[0] is the first option). Prints
 * the problem and returns RUNNER_USAGE, or 0. -1 means --help was printed. */
int runner_opts_parse(const char *cmd, int argc, char **argv, struct runner_opts *o);
void runner_opts_deinit(struct runner_opts *o);
/** The option table as help text for `cmd` ("run" or "check"). */
void runner_opts_help(FILE *f, const char *cmd);

/* --- the suite (suite.c) ---------------------------------------------------------------------- */

/** A variable from a var file or --var: name and value (borrowed from the file's arena). */
struct runner_var {
    const char *name;
    const struct ct_node *val;
};

/** One scenario file. Fields are read by the executor; suite.c owns them. */
struct runner_file {
    char *path;             /* owned */
    char *dir;              /* owned: directory for relative paths (var files, bodies) */
    struct ct_source src;   /* src.text owned */
    struct ct_arena arena;  /* nodes and model */
    struct ct_scen *scen;   /* NULL when broken */
    struct runner_var *vars; /* var files' variables, in order; owned array */
    size_t nvars;
    struct ct_source *aux;  /* var files' sources (texts owned), for diagnostics */
    size_t naux;
    bool selected;          /* after tags and sharding */
    const char *why_not;    /* when not selected: static reason, or NULL */
};

struct runner_suite {
    struct runner_file **v;
    size_t n;
    size_t nbroken;
    struct runner_var *cli_vars; /* --var NAME=VALUE, owned */
    size_t ncli_vars;
    struct ct_arena arena; /* nodes of --var values */
};

struct runner_contract;

/** Find every scenario under `paths` (files, or directories searched recursively for *.yaml,
 * *.yml and *.json whose names do not start with '_' or '.'), read, parse and check them.
 * Problems go to `diags`; broken files stay in the suite with scen == NULL. Returns 0, or
 * RUNNER_USAGE when a path does not exist. */
int runner_suite_load(struct runner_suite *s, char *const *paths, size_t npaths,
                      const struct runner_opts *o, const struct runner_contract *c,
                      struct ct_diags *diags);
void runner_suite_deinit(struct runner_suite *s);

/** Apply --tags and --shard; `mock` says whether the target is mockd (scenarios tagged
 * `mock-only` are skipped otherwise, unless --tags names that tag). */
void runner_suite_select(struct runner_suite *s, const struct runner_opts *o, bool mock);

/** Tag filter for steps and scenarios: false (with *why) when one of `tags` is excluded by
 * --tags, is `mock-only` without --mock, or `backend-only` with --mock (unless --tags names
 * it). */
bool runner_tags_allow_step(const struct runner_opts *o, bool mock, const char *const *tags,
                            unsigned ntags, const char **why);

/* --- regular expressions (regex.c, the only file that includes pcre2.h) ------------------------ */

/** Compile-check for ct_scen_env.regex_check. */
bool runner_regex_check(void *ud, const char *re, size_t len, char **msg, size_t *offset);
/** Match `re` against `s`; 1 match, 0 no match, -1 bad pattern (with *msg, caller owns). When
 * group1 is not NULL it receives group 1 (or the whole match) as a slice of s. */
int runner_regex_match(const char *re, const char *s, size_t len, const char **group,
                       size_t *glen, char **msg);

/* --- the contract (contract.c) ---------------------------------------------------------------- */

/** Load the OpenAPI document, build the router and compile every schema an exchange can meet.
 * NULL (with diagnostics, and *ds_out still set for rendering them) when anything is broken.
 * Caller owns: runner_contract_free(), then ct_docset_free(*ds_out). */
struct runner_contract *runner_contract_load(const char *spec, struct ct_docset **ds_out,
                                             struct ct_diags *diags);
void runner_contract_free(struct runner_contract *c);
/** Read the AsyncAPI document's channel ids and message names (for checking and coverage).
 * Returns 0 or RUNNER_BROKEN with diagnostics. */
int runner_contract_load_asyncapi(struct runner_contract *c, const char *path,
                                  struct ct_diags *diags);

const struct ct_oas *runner_contract_oas(const struct runner_contract *c);
const struct ct_router *runner_contract_router(const struct runner_contract *c);
/** AsyncAPI channel ids, or NULL with *n = 0. */
const char *const *runner_contract_channels(const struct runner_contract *c, size_t *n);

/** The request as runner is about to send it, for checking against the operation. */
struct runner_req_view {
    const struct ct_node *params; /* interpolated `params` mapping, or NULL */
    const struct ct_node *query;  /* interpolated extra query, or NULL */
    const struct ct_node *headers;/* interpolated headers (all of them), or NULL */
    enum ct_body_kind body_kind;
    const struct ct_node *body;   /* JSON value, form mapping, multipart mapping (files as
                                     strings), or NULL */
    const char *raw;              /* raw and file bodies: the bytes */
    size_t raw_len;
    const char *content_type;     /* effective media type of the body, or NULL */
};

/** Check a request against `op`. Adds CT_E_CONTRACT/CT_E_INVALID diagnostics; `at` locates the
 * step. Returns true when it conforms. */
bool runner_contract_check_request(const struct runner_contract *c, struct ct_vctx *vc,
                                   const struct ct_oas_op *op, const struct runner_req_view *rq,
                                   const struct ct_node *at, struct ct_arena *a,
                                   struct ct_diags *diags);

struct runner_header {
    const char *name;
    const char *value;
};

/** A response as received. */
struct runner_resp_view {
    long status;
    const struct runner_header *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
};

/** What checking a response found out, for assertions and captures. */
struct runner_resp_info {
    const struct ct_oas_response *resp; /* the documented response that matched, or NULL */
    const struct ct_node *json;         /* the parsed JSON body, or NULL */
    bool json_broken;                   /* the body claims JSON but does not parse */
};

/** Check a response of `op` (status documented, content type, required headers, body schema;
 * SSE bodies record by record). Records coverage. Adds diagnostics located at `at` and in the
 * spec. Returns true when it conforms. The parsed body lives in `a`. */
bool runner_contract_check_response(struct runner_contract *c, struct ct_vctx *vc,
                                    const struct ct_oas_op *op, const struct runner_resp_view *rs,
                                    const struct ct_node *at, struct ct_arena *a,
                                    struct runner_resp_info *info, struct ct_diags *diags);

/** Parse a response body as JSON when its content type says JSON (for method + path steps
 * with no operation). */
const struct ct_node *runner_parse_json_body(const struct runner_resp_view *rs, struct ct_arena *a,
                                             bool *broken);

/** Header lookup, case-insensitive; NULL when absent. */
const char *runner_header_get(const struct runner_header *h, size_t n, const char *name);

/** The AsyncAPI channel whose id or address is `s`; NULL without --asyncapi or when unknown. */
const struct ct_asyncapi_channel *runner_contract_channel(const struct runner_contract *c,
                                                          const char *s);
/** The channel's address ("/api/v1/ws/chat"), or NULL. */
const char *runner_contract_channel_address(const struct ct_asyncapi_channel *ch);

/** Check one frame of `ch` against the AsyncAPI contract: sent by the server (from_server) or
 * by runner. Records coverage of its message type. Adds a CT_E_CONTRACT diagnostic at `at`
 * (naming the frame's index and direction) followed by the validator's. True when valid. */
bool runner_contract_check_frame(struct runner_contract *c, struct ct_vctx *vc,
                                 const struct ct_asyncapi_channel *ch, bool from_server,
                                 unsigned index, const struct ct_node *frame,
                                 const struct ct_node *at, struct ct_diags *diags);

/** Coverage: every (operation, documented response) pair and AsyncAPI message, hit or not. */
struct runner_cov_item {
    const char *op;     /* operationId, or "METHOD /path" */
    const char *status; /* "200", "4XX", "default"; for messages: the message name */
    bool ws;            /* an AsyncAPI message */
    unsigned hits;
};
/** Snapshot of coverage (caller owns the array: ct_free). */
struct runner_cov_item *runner_contract_coverage(const struct runner_contract *c, size_t *n,
                                                 unsigned *ops_total, unsigned *ops_hit);

/* --- HTTP (http_curl.c) ------------------------------------------------------------------------ */

struct runner_http;

struct runner_http_part {
    const char *name;
    const char *data; /* value bytes, or NULL for a file */
    size_t len;
    const char *file; /* path, or NULL */
    const char *filename;
    const char *type;
};

struct runner_http_req {
    const char *method; /* "GET" */
    const char *url;    /* full URL with the query string */
    const char *const *headers; /* "Name: value" lines */
    size_t nheaders;
    const char *body;
    size_t body_len;
    const struct runner_http_part *parts; /* multipart, or NULL */
    size_t nparts;
    uint32_t timeout_ms;
};

struct runner_http_resp {
    long status;
    struct runner_header *headers; /* in the arena */
    size_t nheaders;
    struct ct_buf body;
    double ms;            /* total time */
    double first_byte_ms; /* time to the first byte of the answer (status line) */
    double first_body_ms; /* time to the first byte of the body (an SSE stream's first event) */
    int err;              /* 0, CT_E_UNREACHABLE or CT_E_IO */
    char errmsg[256];
};

int runner_http_global_init(void);
void runner_http_global_cleanup(void);
/** One client (one keep-alive connection pool). Caller owns: runner_http_free(). */
struct runner_http *runner_http_new(void);
void runner_http_free(struct runner_http *h);
/** Send and wait. Response headers live in `a`; resp->body must be ct_buf_deinit'ed. Returns 0
 * or the error also stored in resp->err. */
int runner_http_send(struct runner_http *h, const struct runner_http_req *rq,
                     struct runner_http_resp *resp, struct ct_arena *a);
/** Percent-encode for a URL path segment (reserved = false) or query (true). */
void runner_url_encode(struct ct_buf *out, const char *s, size_t len, bool query);
/** Can we open a TCP connection to the URL's host and port? 0, or CT_E_UNREACHABLE with msg. */
int runner_http_probe(const char *url, char *msg, size_t msglen);

/* --- WebSocket (ws_lws.c) --------------------------------------------------------------------- */

struct runner_ws;

/** Connect to a ws:// or wss:// URL, sending `headers` ("Name: value") with the handshake.
 * Returns 0 with *out (caller owns: runner_ws_free), CT_E_UNREACHABLE or CT_E_IO with err. */
int runner_ws_open(struct runner_ws **out, const char *url, const char *const *headers,
                   size_t nheaders, uint32_t timeout_ms, char *err, size_t errlen);
/** Send one text frame; 0 or CT_E_IO (closed, or not written within the timeout). */
int runner_ws_send(struct runner_ws *ws, const char *text, size_t len, uint32_t timeout_ms);
/** The next frame: 1 with *text (caller owns: ct_free) and *len; 0 when the connection closed
 * (*close_code: the server's code, 1005 without one, -1 when it broke without a close frame);
 * -1 when nothing came within the timeout. */
int runner_ws_next(struct runner_ws *ws, uint32_t timeout_ms, char **text, size_t *len,
                   bool *binary, int *close_code);
/** Close from our side with `code` and wait for the end; 0 or CT_E_IO. */
int runner_ws_close(struct runner_ws *ws, uint16_t code, uint32_t timeout_ms);
void runner_ws_free(struct runner_ws *ws);

/* --- results (report.c) ------------------------------------------------------------------------ */

enum runner_status { RUNNER_PASS, RUNNER_FAIL, RUNNER_SKIP, RUNNER_ERROR };

struct runner_step_result {
    char *label;       /* owned: "setup / log in", "favourites / add" */
    const char *phase; /* "setup", "steps", "teardown" */
    enum runner_status status;
    double ms;
    double request_ms; /* time spent in HTTP exchanges (libcurl's total), all attempts */
    unsigned attempts;
    char *exchange;    /* owned: "POST /api/v1/auth/login -> 200", or NULL */
    char *message;     /* owned: rendered diagnostics when it failed; skip reason when skipped */
    const struct ct_node *at; /* the step in the file */
};

struct runner_scen_result {
    const struct runner_file *file;
    enum runner_status status;
    double ms;
    char *message; /* owned: why skipped, or an error outside any step */
    struct runner_step_result *steps;
    size_t nsteps, cap;
    unsigned npass, nfail, nskip;
    bool unreachable;
};

struct runner_run_result {
    struct runner_scen_result *v; /* one per selected scenario, in suite order */
    size_t n;
    unsigned passed, failed, skipped, errors;
    unsigned steps_passed, steps_failed, steps_skipped;
    double ms;
    const char *target;
    unsigned jobs;
    struct runner_cov_item *cov; /* owned */
    size_t ncov;
    unsigned cov_ops_total, cov_ops_hit;
    double cov_pct; /* -1 when there is no contract */
    bool unreachable;
};

void runner_scen_result_deinit(struct runner_scen_result *r);
struct runner_step_result *runner_scen_result_add(struct runner_scen_result *r);

/** Streaming human output: one block per finished scenario. */
struct runner_human {
    FILE *f;
    bool color;
    bool verbose;
    bool quiet;
    bool progress; /* a progress line on stderr (a terminal and a long run) */
    size_t total, done;
};
void runner_human_scenario(struct runner_human *h, const struct runner_scen_result *r);
void runner_human_summary(struct runner_human *h, const struct runner_run_result *rr,
                          double min_coverage);

int runner_report_write(enum runner_fmt fmt, const char *file, const struct runner_run_result *rr);

/* --- execution (exec.c, run.c) ----------------------------------------------------------------- */

/** Shared, read-only during a run. */
struct runner_env {
    const struct runner_opts *o;
    struct runner_contract *contract;
    const char *base_url; /* no trailing slash */
    bool mock;
    char run_id[17];
    volatile int stop; /* --fail-fast or unreachable: start no more scenarios */
};

/** Per-thread state: an HTTP client, a validation context, scratch arenas. */
struct runner_worker {
    const struct runner_env *env;
    struct runner_http *http;
    struct ct_vctx *vctx;
    uint64_t rng;
};

void runner_worker_init(struct runner_worker *w, const struct runner_env *env, unsigned id);
void runner_worker_deinit(struct runner_worker *w);

/** Run one scenario, filling `r` (zeroed by the caller). */
void runner_exec_scenario(struct runner_worker *w, const struct runner_file *f,
                          struct runner_scen_result *r);

/** `runner run` and `runner check`. */
int runner_cmd_run(int argc, char **argv);
int runner_cmd_check(int argc, char **argv);

/** Start mockd on a free port for --mock. */
struct runner_mock {
    int pid;
    int fd; /* mockd's stdout, kept open so it never writes into a closed pipe */
    char url[256];
};
int runner_mock_start(const char *mockd, const char *spec, const char *const *args, size_t nargs,
                      struct runner_mock *m, char *err, size_t errlen);
void runner_mock_stop(struct runner_mock *m);
/** mockd beside the runner binary (../mockd/mockd), or NULL. Caller owns. */
char *runner_mock_find(void);

/** Wall clock in milliseconds (monotonic). */
double runner_now_ms(void);

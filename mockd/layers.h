/* layers.h - mockd as a test double: the layers an answer passes through.
 *
 * Order (per request): mockd_layers_route (the admin API under /__mockd/, before routing) ->
 * routing, security, validation -> mockd_layers_answer (override, fault, state, proxy: may
 * answer) -> the spec's example or generated answer -> mockd_layers_finish (caching: ETag,
 * 304) -> the transport -> mockd_layers_record (journal). mockd_layers_accept decides whether
 * new connections are accepted at all ("offline").
 *
 * Threads: every hook is called from libmicrohttpd's worker threads, concurrently; the layers
 * lock what they share. The layers object lives as long as its app. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct mockd_app;
struct mockd_config;
struct mockd_op_plan;
struct mockd_req;
struct mockd_resp;
struct ct_route_match;
struct ct_diags;

struct mockd_layers_config;
struct mockd_layers;

/* --- options ------------------------------------------------------------------------------- */

/** Attach default layer options to cfg (cfg->layers). */
void mockd_layers_config_init(struct mockd_config *cfg);
void mockd_layers_config_free(struct mockd_config *cfg);
/** Option names the layers own (without dashes), for parsing and did-you-mean. */
extern const char *const mockd_layers_keys[];
extern const size_t mockd_layers_nkeys;
/** True for options that take no value on the command line (--stateful). */
bool mockd_layers_is_flag(const char *key);
/** Apply one option: NULL when accepted, else what was expected. */
const char *mockd_layers_option(struct mockd_config *cfg, const char *key, const char *value);
/** Append the layers' lines to --help. */
void mockd_layers_usage(FILE *f);

/* --- lifetime ------------------------------------------------------------------------------- */

/** Build the layers of a loaded app (state seeded from examples, ...). NULL on error with
 * diagnostics. */
struct mockd_layers *mockd_layers_new(struct mockd_app *app, struct ct_diags *diags);
void mockd_layers_free(struct mockd_layers *l);

/* --- hooks ---------------------------------------------------------------------------------- */

/** New connections: false refuses them (the offline switch). */
bool mockd_layers_accept(const struct mockd_app *app);
/** Before routing: answer the admin API. True when resp is complete. */
bool mockd_layers_route(const struct mockd_app *app, struct mockd_req *req,
                        struct mockd_resp *resp);
/** After security and validation, before the spec's answer: overrides, faults, state, proxy.
 * True when resp is complete (a layer may also only add delay/fault fields and return false). */
bool mockd_layers_answer(const struct mockd_app *app, const struct mockd_op_plan *p,
                         const struct ct_route_match *m, struct mockd_req *req,
                         struct mockd_resp *resp);
/** After the answer is chosen: caching headers and conditional requests. */
void mockd_layers_finish(const struct mockd_app *app, const struct mockd_op_plan *p,
                         struct mockd_req *req, struct mockd_resp *resp);
/** After the answer was handed to the transport: the journal. */
void mockd_layers_record(const struct mockd_app *app, const struct mockd_req *req,
                         const struct mockd_resp *resp, double ms);

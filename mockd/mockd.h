/* mockd.h - what the parts of the daemon share: its configuration and the served spec. */
#pragma once

#include "openapi/model.h"

#include <stdbool.h>
#include <stdint.h>

struct mockd_config {
    const char *spec_path;
    const char *host;
    unsigned port; /* 0: pick a free one */
    unsigned threads;
    bool check_only;
    bool quiet;
};

/** The loaded spec and what is prepared from it once, shared read-only by all threads. */
struct mockd_spec {
    struct ct_docset *ds;
    struct ct_oas *oas;
    char *json;  /* GET /openapi.json body */
    size_t json_len;
    char *yaml;  /* GET /openapi.yaml body */
    size_t yaml_len;
};

struct mockd_server;

/** Start serving; returns NULL after printing the reason to stderr. *port_out gets the bound
 * port. */
struct mockd_server *mockd_http_start(const struct mockd_config *cfg, const struct mockd_spec *spec,
                                      unsigned *port_out);
void mockd_http_stop(struct mockd_server *srv);

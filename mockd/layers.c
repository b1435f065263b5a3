/* layers.c - the test-double layers: a placeholder that lets every request through unchanged
 * until the layers are implemented (state, overrides, faults, journal, proxy, caching). */
#include "mockd.h"

#include "core/alloc.h"

#include <string.h>

struct mockd_layers_config {
    int unused;
};

struct mockd_layers {
    struct mockd_app *app;
};

const char *const mockd_layers_keys[] = {""};
const size_t mockd_layers_nkeys = 0;

void mockd_layers_config_init(struct mockd_config *cfg)
{
    cfg->layers = ct_xcalloc(1, sizeof(*cfg->layers));
}

void mockd_layers_config_free(struct mockd_config *cfg)
{
    ct_free(cfg->layers);
    cfg->layers = NULL;
}

bool mockd_layers_is_flag(const char *key)
{
    return false;
}

const char *mockd_layers_option(struct mockd_config *cfg, const char *key, const char *value)
{
    return "unknown option";
}

void mockd_layers_usage(FILE *f)
{
}

struct mockd_layers *mockd_layers_new(struct mockd_app *app, struct ct_diags *diags)
{
    struct mockd_layers *l = ct_xcalloc(1, sizeof(*l));
    l->app = app;
    return l;
}

void mockd_layers_free(struct mockd_layers *l)
{
    ct_free(l);
}

bool mockd_layers_accept(const struct mockd_app *app)
{
    return true;
}

bool mockd_layers_route(const struct mockd_app *app, struct mockd_req *req,
                        struct mockd_resp *resp)
{
    return false;
}

bool mockd_layers_answer(const struct mockd_app *app, const struct mockd_op_plan *p,
                         const struct ct_route_match *m, struct mockd_req *req,
                         struct mockd_resp *resp)
{
    return false;
}

void mockd_layers_finish(const struct mockd_app *app, const struct mockd_op_plan *p,
                         struct mockd_req *req, struct mockd_resp *resp)
{
}

void mockd_layers_record(const struct mockd_app *app, const struct mockd_req *req,
                         const struct mockd_resp *resp, double ms)
{
}

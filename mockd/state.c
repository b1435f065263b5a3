/* state.c - placeholder */
#include "layers_impl.h"

#include "core/alloc.h"

struct state_model {
    int unused;
};
struct store {
    int unused;
};

struct state_model *state_model_new(const struct mockd_app *app, struct ct_diags *diags)
{
    return ct_xcalloc(1, sizeof(struct state_model));
}
void state_model_free(struct state_model *m)
{
    ct_free(m);
}
struct store *store_new(unsigned max_sessions)
{
    return ct_xcalloc(1, sizeof(struct store));
}
void store_free(struct store *s)
{
    ct_free(s);
}
void store_reset(struct store *s) {}
bool state_answer(struct mockd_layers *l, const struct mockd_op_plan *p,
                  const struct ct_route_match *m, struct mockd_req *req, struct mockd_resp *resp)
{
    return false;
}
void state_admin_dump(struct mockd_layers *l, struct mockd_req *req, struct ct_buf *out)
{
    ct_buf_adds(out, "{\"collections\":[]}");
}
unsigned state_admin_load(struct mockd_layers *l, const struct ct_node *dump, struct ct_buf *out)
{
    ct_buf_adds(out, "{\"collections\":0,\"items\":0}");
    return 200;
}
void state_admin_resources(struct mockd_layers *l, struct ct_buf *out)
{
    ct_buf_adds(out, "{\"resources\":[]}");
}
int state_save_file(struct mockd_layers *l, const char *path, const char **why)
{
    return 0;
}
int state_load_file(struct mockd_layers *l, const char *path, const char **why)
{
    return 0;
}

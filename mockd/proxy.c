/* proxy.c - placeholder */
#include "layers_impl.h"

#include "core/alloc.h"

struct proxy {
    int unused;
};
struct drift {
    int unused;
};
struct proxy *proxy_new(const struct mockd_layers_config *cfg, struct ct_diags *diags)
{
    return ct_xcalloc(1, sizeof(struct proxy));
}
void proxy_free(struct proxy *p)
{
    ct_free(p);
}
bool proxy_answer(struct mockd_layers *l, const struct mockd_op_plan *p, struct mockd_req *req,
                  struct mockd_resp *resp)
{
    return false;
}
struct drift *drift_new(void)
{
    return ct_xcalloc(1, sizeof(struct drift));
}
void drift_free(struct drift *d)
{
    ct_free(d);
}
unsigned drift_clear(struct drift *d)
{
    return 0;
}
void drift_add(struct drift *d, const char *op_key, const char *direction, unsigned status,
               const char *message)
{
}
void drift_admin_list(struct drift *d, struct ct_buf *out)
{
    ct_buf_adds(out, "{\"drift\":[]}");
}

/* cache.c - placeholder */
#include "layers_impl.h"

void cache_finish(const struct mockd_app *app, const struct mockd_op_plan *p, struct mockd_req *req,
                  struct mockd_resp *resp)
{
}
char *cache_etag(struct ct_arena *a, const char *body, size_t len)
{
    return jx_fmt(a, "\"%016llx\"", (unsigned long long)jx_hash(body, len, 0));
}

/* record.c - placeholder */
#include "layers_impl.h"

struct recorder *recorder_new(const char *dir, struct ct_diags *diags)
{
    return NULL;
}
void recorder_free(struct recorder *r) {}
void recorder_add(struct recorder *r, const struct mockd_req *req, const struct mockd_resp *resp) {}

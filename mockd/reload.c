/* reload.c - placeholder */
#include "layers_impl.h"

unsigned layers_reload_count(void)
{
    return 0;
}
unsigned layers_reload_now(struct ct_buf *out)
{
    ct_buf_adds(out, "hot reload is not available in this mockd");
    return 409;
}

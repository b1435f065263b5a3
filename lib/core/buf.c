/* buf.c - growable byte buffer; failing appends leave nothing behind. */
#include "buf.h"

#include "alloc.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ct_buf_init(struct ct_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void ct_buf_deinit(struct ct_buf *b)
{
    ct_free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

static int reserve(struct ct_buf *b, size_t n)
{
    if (b->max && (n > b->max || b->len > b->max - n)) {
        ct_buf_deinit(b);
        return CT_E_TOOBIG;
    }
    b->ptr = ct_xgrow(b->ptr, &b->cap, b->len + n + 1, 1);
    return 0;
}

int ct__buf_add_slow(struct ct_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int ct_buf_reserve(struct ct_buf *b, size_t n)
{
    return reserve(b, n);
}

int ct_buf_printf(struct ct_buf *b, const char *fmt, ...)
{
    if (!fmt) /* never NULL; said so that gcc's format check under UBSan agrees */
        fmt = "";
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CT_E_INVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *ct_buf_cstr(struct ct_buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *ct_buf_steal(struct ct_buf *b, size_t *len)
{
    char *p = b->ptr ? b->ptr : ct_xstrdup("");
    if (len)
        *len = b->len;
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

/* alloc.c - allocation wrappers that abort on exhaustion, with a swappable allocator for tests. */
#include "alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ct_allocator alloc = {malloc, realloc, free};

void ct_alloc_set(const struct ct_allocator *a)
{
    if (a)
        alloc = *a;
    else
        alloc = (struct ct_allocator){malloc, realloc, free};
}

static void oom(size_t n)
{
    fprintf(stderr, "fatal: out of memory (asked for %zu bytes)\n", n);
    abort();
}

void *ct_xmalloc(size_t n)
{
    void *p = alloc.malloc_fn(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ct_xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    void *p = ct_xmalloc(n * size);
    memset(p, 0, n * size);
    return p;
}

void *ct_xrealloc(void *p, size_t n)
{
    void *q = alloc.realloc_fn(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *ct_xgrow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2 / size)
            oom(SIZE_MAX);
        c *= 2;
    }
    p = ct_xrealloc(p, c * size);
    *cap = c;
    return p;
}

char *ct_xstrndup(const char *s, size_t n)
{
    char *d = ct_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ct_xstrdup(const char *s)
{
    return ct_xstrndup(s, strlen(s));
}

char *ct_xasprintf(const char *fmt, ...)
{
    if (!fmt) /* never NULL; said so that gcc's format check under UBSan agrees */
        fmt = "";
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *s = ct_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void ct_free(void *p)
{
    if (p)
        alloc.free_fn(p);
}

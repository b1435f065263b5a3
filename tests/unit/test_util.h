/* test_util.h - small helpers shared by the unit tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/diag.h"
#include "json/node.h"

/* Route the project's allocator through cmocka so leaks fail the test. */
static void *tu_malloc(size_t n)
{
    return test_malloc(n);
}
static void *tu_realloc(void *p, size_t n)
{
    return test_realloc(p, n);
}
static void tu_free(void *p)
{
    test_free(p);
}
static inline void tu_use_cmocka_alloc(void)
{
    static const struct ct_allocator a = {tu_malloc, tu_realloc, tu_free};
    ct_alloc_set(&a);
}

/* A parse fixture: one arena, one diags list, one source. */
struct tu_doc {
    struct ct_arena arena;
    struct ct_diags diags;
    struct ct_source src;
    char *text;
    struct ct_node *root;
};

static inline struct ct_node *tu_parse(struct tu_doc *d, const char *name, const char *text,
                                       bool yaml, const struct ct_parse_limits *lim)
{
    ct_arena_init(&d->arena, 4096);
    ct_diags_init(&d->diags);
    d->text = ct_xstrdup(text);
    d->src.name = name;
    d->src.text = d->text;
    d->src.len = strlen(text);
    d->root = yaml ? ct_yaml_parse(&d->arena, &d->src, lim, &d->diags)
                   : ct_json_parse(&d->arena, &d->src, lim, &d->diags);
    return d->root;
}

static inline void tu_done(struct tu_doc *d)
{
    ct_arena_deinit(&d->arena);
    ct_diags_deinit(&d->diags);
    ct_free(d->text);
}

/* The first diagnostic rendered without colour; caller frees with ct_free. */
static inline char *tu_render(const struct ct_diags *diags)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    ct_diags_render(diags, &b, false);
    return ct_buf_steal(&b, NULL);
}

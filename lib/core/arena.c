/* arena.c - bump allocator over a chain of malloc'ed blocks. */
#include "arena.h"

#include "alloc.h"

#include <stdint.h>
#include <string.h>

struct ct_arena_block {
    struct ct_arena_block *next;
    size_t size;
    _Alignas(16) char data[];
};

void ct_arena_init(struct ct_arena *a, size_t block_min)
{
    memset(a, 0, sizeof(*a));
    a->block_min = block_min ? block_min : 16384;
}

static void free_chain(struct ct_arena_block *b)
{
    while (b) {
        struct ct_arena_block *n = b->next;
        CT_ASAN_UNPOISON(b->data, b->size);
        ct_free(b);
        b = n;
    }
}

void ct_arena_deinit(struct ct_arena *a)
{
    free_chain(a->head);
    free_chain(a->spare);
    a->spare = NULL;
    a->head = NULL;
    a->cur = a->end = NULL;
    a->total = 0;
}

void ct_arena_reset(struct ct_arena *a)
{
    if (!a->head)
        return;
    /* Every block but the first becomes a spare, reused before malloc is asked again: a loop
     * that parses the same kind of input into a reset arena stops faulting in fresh pages. */
    struct ct_arena_block *b = a->head;
    while (b->next) {
        struct ct_arena_block *n = b->next;
        b->next = a->spare;
        a->spare = b;
        b = n;
    }
    a->head = b;
    a->cur = b->data;
    a->end = b->data + b->size;
    a->total = 0;
}

/* n bytes at an address that is a multiple of `align` (a power of two, at most 16). */
void *ct__arena_alloc_slow(struct ct_arena *a, size_t n, size_t align)
{
    if (!n)
        n = 1;
    char *p = a->cur ? (char *)(((uintptr_t)a->cur + align - 1) & ~(uintptr_t)(align - 1)) : NULL;
    if (!p || p > a->end || (size_t)(a->end - p) < n) {
        if (!a->block_min)
            a->block_min = 16384;
        size_t size = n > a->block_min ? n : a->block_min;
        struct ct_arena_block *b = NULL, **pp = &a->spare;
        while (*pp && (*pp)->size < size)
            pp = &(*pp)->next;
        if (*pp) {
            b = *pp;
            *pp = b->next;
            size = b->size;
        } else {
            b = ct_xmalloc(sizeof(*b) + size);
            b->size = size;
        }
        if (n > a->block_min && a->head && a->cur) {
            /* A big allocation gets its own block behind the current one, so the rest of the
             * current block stays usable. */
            b->next = a->head->next;
            a->head->next = b;
            a->total += n;
            CT_ASAN_UNPOISON(b->data, n);
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->cur = b->data;
        a->end = b->data + size;
        p = a->cur; /* block data is aligned to 16 */
    }
    a->total += (size_t)(p - a->cur) + n;
    a->cur = p + n;
    CT_ASAN_UNPOISON(p, n);
    return p;
}

void *ct_arena_zalloc(struct ct_arena *a, size_t n)
{
    void *p = ct_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *ct_arena_strndup(struct ct_arena *a, const char *s, size_t n)
{
    char *d = ct_arena_alloc_text(a, n + 1); /* text needs no alignment */
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ct_arena_strdup(struct ct_arena *a, const char *s)
{
    return ct_arena_strndup(a, s, strlen(s));
}

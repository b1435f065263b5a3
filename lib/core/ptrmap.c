/* ptrmap.c - see ptrmap.h. */
#include "ptrmap.h"

#include "alloc.h"

#include <stdint.h>

static size_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static struct ct_ptrmap_slot *find(struct ct_ptrmap_slot *tab, size_t cap, const void *key)
{
    size_t i = ptr_hash(key) & (cap - 1);
    while (tab[i].key && tab[i].key != key)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

bool ct_ptrmap_get(const struct ct_ptrmap *m, const void *key, void **val)
{
    if (!m->cap)
        return false;
    const struct ct_ptrmap_slot *s = find(m->tab, m->cap, key);
    if (!s->key)
        return false;
    if (val)
        *val = s->val;
    return true;
}

void ct_ptrmap_put(struct ct_ptrmap *m, const void *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct ct_ptrmap_slot *nt = ct_xcalloc(ncap, sizeof(*nt));
        for (size_t i = 0; i < m->cap; i++)
            if (m->tab[i].key)
                *find(nt, ncap, m->tab[i].key) = m->tab[i];
        ct_free(m->tab);
        m->tab = nt;
        m->cap = ncap;
    }
    struct ct_ptrmap_slot *s = find(m->tab, m->cap, key);
    if (!s->key) {
        s->key = key;
        m->n++;
    }
    s->val = val;
}

void ct_ptrmap_deinit(struct ct_ptrmap *m)
{
    ct_free(m->tab);
    m->tab = NULL;
    m->cap = m->n = 0;
}

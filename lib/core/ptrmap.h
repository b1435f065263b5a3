/* ptrmap.h - a map from pointers to pointers: "have I seen this node, and what did it give?"
 *
 * Open addressing with linear probing, at most half full, keyed by address. A zeroed struct is an
 * empty map; ct_ptrmap_deinit frees it. Keys are never NULL; values may be. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct ct_ptrmap_slot {
    const void *key; /* NULL: empty */
    void *val;
};

/** Fields are private; use the API. */
struct ct_ptrmap {
    struct ct_ptrmap_slot *tab;
    size_t cap, n;
};

/** True when `key` is in the map; its value is stored in *val (when val is not NULL). */
bool ct_ptrmap_get(const struct ct_ptrmap *m, const void *key, void **val);
/** Add `key`, or replace its value. */
void ct_ptrmap_put(struct ct_ptrmap *m, const void *key, void *val);
void ct_ptrmap_deinit(struct ct_ptrmap *m);

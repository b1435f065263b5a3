/* alloc.h - the one place the project allocates from.
 *
 * Out of memory aborts with a message: a mock server and a test runner gain nothing from
 * unreachable NULL branches. Unit tests may swap the allocator (ct_alloc_set) to cmocka's
 * test_malloc family so that leaks and double frees fail the test. */
#pragma once

#include <stddef.h>

/** Allocator hooks; all three must be set together. */
struct ct_allocator {
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
};

/** Replace the allocator (not thread-safe; call before anything is allocated). NULL restores libc. */
void ct_alloc_set(const struct ct_allocator *a);

/** Allocate n bytes; never returns NULL. Caller owns: free with ct_free(). */
void *ct_xmalloc(size_t n);
/** Allocate n*size zeroed bytes, checking the multiplication; never returns NULL. */
void *ct_xcalloc(size_t n, size_t size);
/** Resize p (may move it: the old pointer is no longer valid); never returns NULL. */
void *ct_xrealloc(void *p, size_t n);
/** Grow an array to hold at least `need` elements of `size` bytes, doubling; updates *cap. */
void *ct_xgrow(void *p, size_t *cap, size_t need, size_t size);
/** Copy a NUL-terminated string. Caller owns. */
char *ct_xstrdup(const char *s);
/** Copy n bytes and add a NUL. Caller owns. */
char *ct_xstrndup(const char *s, size_t n);
/** printf into a fresh string. Caller owns. */
char *ct_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Free p; NULL is a no-op. */
void ct_free(void *p);

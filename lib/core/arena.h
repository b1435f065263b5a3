/* arena.h - bump allocator: many small allocations, freed together in one call.
 *
 * Used for a loaded document (its nodes live as long as the document) and, in mockd, for one
 * request. Nothing allocated from an arena is freed on its own. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ct_arena_block;

/** Fields are private; use the API. Zero-initialise or call ct_arena_init. */
struct ct_arena {
    struct ct_arena_block *head;
    char *cur, *end;
    size_t total;     /* bytes handed out, for limits and benchmarks */
    size_t block_min; /* size of a fresh block */
    struct ct_arena_block *spare; /* blocks kept by ct_arena_reset for reuse */
};

/* Sanitizer builds: CT_ASAN is 1 and CT_ASAN_POISON/UNPOISON mark arena bytes unreadable and
 * readable again (the arena makes every allocation readable when it hands it out). */
#if defined(__SANITIZE_ADDRESS__)
#define CT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CT_ASAN 1
#endif
#endif
#ifdef CT_ASAN
#include <sanitizer/asan_interface.h>
#define CT_ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define CT_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define CT_ASAN 0
#define CT_ASAN_POISON(p, n) ((void)(p), (void)(n))
#define CT_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

void ct_arena_init(struct ct_arena *a, size_t block_min);
/** Free every block; the arena may be reused afterwards. */
void ct_arena_deinit(struct ct_arena *a);
/** Forget every allocation but keep the blocks (the first stays current, the others are reused
 * before new memory is asked for): cheap reuse for loops over many inputs. */
void ct_arena_reset(struct ct_arena *a);
/** n bytes aligned to 8 (enough for every type the project allocates here: pointers, 64-bit
 * integers, doubles; not long double or 128-bit vectors); borrowed: valid until the arena is
 * reset or deinit. Never NULL. */
static inline void *ct_arena_alloc(struct ct_arena *a, size_t n);
/** n bytes with no alignment, for text. */
static inline char *ct_arena_alloc_text(struct ct_arena *a, size_t n);
/** The out-of-line part of the two above: a new block. */
void *ct__arena_alloc_slow(struct ct_arena *a, size_t n, size_t align);
/** Zeroed variant of ct_arena_alloc. */
void *ct_arena_zalloc(struct ct_arena *a, size_t n);
/** Copy n bytes into the arena and add a NUL (not aligned: strings pack tightly). */
char *ct_arena_strndup(struct ct_arena *a, const char *s, size_t n);
char *ct_arena_strdup(struct ct_arena *a, const char *s);

/* --- inline definitions ------------------------------------------------------------------ */

/* The bump itself: most allocations fit the current block. */
static inline void *ct__arena_bump(struct ct_arena *a, size_t n, size_t align)
{
    uintptr_t p = ((uintptr_t)a->cur + align - 1) & ~(uintptr_t)(align - 1);
    if (a->cur && n && p <= (uintptr_t)a->end && n <= (uintptr_t)a->end - p) {
        a->total += p + n - (uintptr_t)a->cur;
        a->cur = (char *)p + n;
        CT_ASAN_UNPOISON((void *)p, n);
        return (void *)p;
    }
    return ct__arena_alloc_slow(a, n, align);
}

static inline void *ct_arena_alloc(struct ct_arena *a, size_t n)
{
    return ct__arena_bump(a, n, 8);
}

static inline char *ct_arena_alloc_text(struct ct_arena *a, size_t n)
{
    return (char *)ct__arena_bump(a, n, 1);
}

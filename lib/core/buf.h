/* buf.h - growable byte buffer with an optional hard cap. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/** Fields may be read (ptr, len); change them only through the API. */
struct ct_buf {
    char *ptr;  /* NUL-terminated when len > 0 or after ct_buf_cstr */
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited; an append past max fails and frees the buffer */
};

void ct_buf_init(struct ct_buf *b, size_t max);
void ct_buf_deinit(struct ct_buf *b);
/** Append n bytes. Returns 0, or CT_E_TOOBIG when the cap would be passed (buffer freed).
 * Inline below: appends that fit the allocation cost no call. */
static inline int ct_buf_add(struct ct_buf *b, const void *p, size_t n);
static inline int ct_buf_adds(struct ct_buf *b, const char *s);
static inline int ct_buf_addc(struct ct_buf *b, char c);
/** Make room for n more bytes (and the NUL) at once, so that the appends after it do not grow
 * the allocation step by step. Returns 0, or CT_E_TOOBIG as ct_buf_add. */
int ct_buf_reserve(struct ct_buf *b, size_t n);
int ct_buf_printf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The contents as a C string ("" when empty); borrowed until the next change. */
const char *ct_buf_cstr(struct ct_buf *b);
/** Take the contents; the buffer is empty afterwards. Caller owns: ct_free(). */
char *ct_buf_steal(struct ct_buf *b, size_t *len);

/* --- inline definitions --------------------------------------------------------------------- */

/** The slow path of the appends: grows the allocation (or fails at the cap). */
int ct__buf_add_slow(struct ct_buf *b, const void *p, size_t n);

static inline int ct_buf_add(struct ct_buf *b, const void *p, size_t n)
{
    /* Room for n bytes and the NUL, within the cap: no call. */
    if (n < b->cap - b->len && (!b->max || n <= b->max - b->len)) {
        if (n)
            memcpy(b->ptr + b->len, p, n);
        b->len += n;
        b->ptr[b->len] = '\0';
        return 0;
    }
    return ct__buf_add_slow(b, p, n);
}

static inline int ct_buf_adds(struct ct_buf *b, const char *s)
{
    return ct_buf_add(b, s, strlen(s));
}

static inline int ct_buf_addc(struct ct_buf *b, char c)
{
    if (b->cap - b->len > 1 && (!b->max || b->len < b->max)) {
        b->ptr[b->len++] = c;
        b->ptr[b->len] = '\0';
        return 0;
    }
    return ct__buf_add_slow(b, &c, 1);
}

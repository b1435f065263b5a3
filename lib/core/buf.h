/* buf.h - growable byte buffer with an optional hard cap. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/** Fields may be read (ptr, len); change them only through the API. */
struct ct_buf {
    char *ptr;  /* NUL-terminated when len > 0 or after ct_buf_cstr */
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited; an append past max fails and frees the buffer */
};

void ct_buf_init(struct ct_buf *b, size_t max);
void ct_buf_deinit(struct ct_buf *b);
/** Append n bytes. Returns 0, or CT_E_TOOBIG when the cap would be passed (buffer freed). */
int ct_buf_add(struct ct_buf *b, const void *p, size_t n);
int ct_buf_adds(struct ct_buf *b, const char *s);
int ct_buf_addc(struct ct_buf *b, char c);
int ct_buf_printf(struct ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The contents as a C string ("" when empty); borrowed until the next change. */
const char *ct_buf_cstr(struct ct_buf *b);
/** Take the contents; the buffer is empty afterwards. Caller owns: ct_free(). */
char *ct_buf_steal(struct ct_buf *b, size_t *len);

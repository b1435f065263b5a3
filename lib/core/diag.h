/* diag.h - located diagnostics for input problems (documents, schemas, scenarios, instances).
 *
 * A diagnostic names a source, a 1-based line and column, a code from err.h, a message that says
 * what was expected and what was found, and optionally a hint. Rendering prints it the way a
 * compiler would: `file:line:col: error: message [CT_E_X]`, the source line, a caret, the hint. */
#pragma once

#include "buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A loaded text, kept for carets. Owned by whoever loaded it (a docset); immutable. */
struct ct_source {
    const char *name; /* file name as given, or "<request body>" */
    const char *text; /* the whole text; the parsers need a NUL at text[len] */
    size_t len;
};

enum ct_sev { CT_SEV_ERROR, CT_SEV_WARNING, CT_SEV_NOTE };

struct ct_diag {
    enum ct_sev sev;
    int code;                      /* CT_E_* */
    const struct ct_source *src;   /* borrowed: may be NULL */
    uint32_t line, col;            /* 1-based; 0 when unknown */
    char *msg;                     /* owned by the diags list */
    char *hint;                    /* owned; may be NULL */
    char *instance_ptr;            /* owned; JSON Pointer into the instance, may be NULL */
    char *keyword_ptr;             /* owned; schema keyword location, may be NULL */
};

/** A sink of diagnostics. Fields may be read; add through the API. */
struct ct_diags {
    struct ct_diag *v;
    size_t n, cap;
    size_t nerrors;
    size_t max; /* stop recording after this many (0 = unlimited); `dropped` counts the rest */
    size_t dropped;
};

void ct_diags_init(struct ct_diags *d);
void ct_diags_deinit(struct ct_diags *d);
void ct_diags_clear(struct ct_diags *d);

/** Append a diagnostic; returns it (for adding a hint or pointers), or NULL when over `max` or
 * when the same diagnostic (place, code and message) was just added. */
struct ct_diag *ct_diags_add(struct ct_diags *d, enum ct_sev sev, int code,
                             const struct ct_source *src, uint32_t line, uint32_t col,
                             const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/** ct_diags_add with a va_list. */
struct ct_diag *ct_diags_addv(struct ct_diags *d, enum ct_sev sev, int code,
                              const struct ct_source *src, uint32_t line, uint32_t col,
                              const char *fmt, va_list ap) __attribute__((format(printf, 7, 0)));
/** Set the hint of a diagnostic (printf style); diag may be NULL. */
void ct_diag_set_hint(struct ct_diag *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Render one diagnostic with its source line and caret. color adds ANSI colours. */
void ct_diag_render(const struct ct_diag *diag, struct ct_buf *out, bool color);
/** Render all of them, one after another. */
void ct_diags_render(const struct ct_diags *d, struct ct_buf *out, bool color);

/** The closest candidate to `word` by edit distance, or NULL if none is close enough. */
const char *ct_did_you_mean(const char *word, const char *const *candidates, size_t n);

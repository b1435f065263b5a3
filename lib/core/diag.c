/* diag.c - collecting and rendering located diagnostics, and did-you-mean suggestions. */
#include "diag.h"

#include "alloc.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ct_diags_init(struct ct_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void ct_diags_clear(struct ct_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        ct_free(d->v[i].msg);
        ct_free(d->v[i].hint);
        ct_free(d->v[i].instance_ptr);
        ct_free(d->v[i].keyword_ptr);
    }
    d->n = 0;
    d->nerrors = 0;
    d->dropped = 0;
}

void ct_diags_deinit(struct ct_diags *d)
{
    ct_diags_clear(d);
    ct_free(d->v);
    d->v = NULL;
    d->cap = 0;
}

static char *vfmt(const char *fmt, va_list ap)
{
    if (!fmt) /* never NULL; said so that gcc's format check under UBSan agrees */
        fmt = "";
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *s = ct_xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

struct ct_diag *ct_diags_add(struct ct_diags *d, enum ct_sev sev, int code,
                             const struct ct_source *src, uint32_t line, uint32_t col,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diags_addv(d, sev, code, src, line, col, fmt, ap);
    va_end(ap);
    return g;
}

struct ct_diag *ct_diags_addv(struct ct_diags *d, enum ct_sev sev, int code,
                              const struct ct_source *src, uint32_t line, uint32_t col,
                              const char *fmt, va_list ap)
{
    if (!d)
        return NULL; /* callers that do not want diagnostics pass no sink */
    /* The same problem reached twice (a broken $ref met by two walks) is reported once. */
    char *msg = vfmt(fmt, ap);
    for (size_t i = d->n > 32 ? d->n - 32 : 0; i < d->n; i++) {
        const struct ct_diag *o = &d->v[i];
        if (o->src == src && o->line == line && o->col == col && o->code == code &&
            line != 0 && !strcmp(o->msg, msg)) {
            ct_free(msg);
            return NULL;
        }
    }
    if (sev == CT_SEV_ERROR)
        d->nerrors++;
    if (d->max && d->n >= d->max) {
        ct_free(msg);
        d->dropped++;
        return NULL;
    }
    d->v = ct_xgrow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
    struct ct_diag *g = &d->v[d->n++];
    memset(g, 0, sizeof(*g));
    g->sev = sev;
    g->code = code;
    g->src = src;
    g->line = line;
    g->col = col;
    g->msg = msg;
    return g;
}

void ct_diag_set_hint(struct ct_diag *diag, const char *fmt, ...)
{
    if (!diag)
        return;
    ct_free(diag->hint);
    va_list ap;
    va_start(ap, fmt);
    diag->hint = vfmt(fmt, ap);
    va_end(ap);
}

/* Find line `line` (1-based) in src; returns its start and length without the newline. */
static bool find_line(const struct ct_source *src, uint32_t line, const char **start, size_t *len)
{
    const char *p = src->text, *end = src->text + src->len;
    for (uint32_t l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return false;
        p = nl + 1;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *start = p;
    *len = (size_t)((nl ? nl : end) - p);
    if (*len && p[*len - 1] == '\r')
        (*len)--;
    return true;
}

void ct_diag_render(const struct ct_diag *g, struct ct_buf *out, bool color)
{
    static const char *sevname[] = {"error", "warning", "note"};
    static const char *sevcolor[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};
    const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
    const char *name = g->src && g->src->name ? g->src->name : "<input>";
    ct_buf_printf(out, "%s%s", bold, name);
    if (g->line)
        ct_buf_printf(out, ":%u:%u", g->line, g->col ? g->col : 1);
    ct_buf_printf(out, ":%s %s%s:%s %s", reset, color ? sevcolor[g->sev] : "", sevname[g->sev],
                  reset, g->msg);
    if (g->code)
        ct_buf_printf(out, " [%s]", ct_err_name(g->code));
    ct_buf_addc(out, '\n');
    const char *ls;
    size_t ll;
    if (g->src && g->src->text && g->line && find_line(g->src, g->line, &ls, &ll)) {
        char num[16];
        int w = snprintf(num, sizeof(num), "%u", g->line);
        if (ll > 200)
            ll = 200; /* minified JSON: keep the report readable */
        ct_buf_printf(out, " %s | ", num);
        /* Tabs become spaces so the caret lines up. */
        for (size_t i = 0; i < ll; i++)
            ct_buf_addc(out, ls[i] == '\t' ? ' ' : ls[i]);
        ct_buf_addc(out, '\n');
        ct_buf_printf(out, " %*s | ", w, "");
        /* The column counts characters; advance over UTF-8 continuation bytes. */
        uint32_t c = 1;
        for (size_t i = 0; i < ll && c < g->col; i++) {
            if (((unsigned char)ls[i] & 0xC0) != 0x80) {
                ct_buf_addc(out, ' ');
                c++;
            }
        }
        while (c < g->col && c < 200) {
            ct_buf_addc(out, ' ');
            c++;
        }
        ct_buf_printf(out, "%s^%s\n", color ? "\033[1;32m" : "", reset);
    }
    if (g->hint)
        ct_buf_printf(out, "%shint:%s %s\n", bold, reset, g->hint);
}

void ct_diags_render(const struct ct_diags *d, struct ct_buf *out, bool color)
{
    for (size_t i = 0; i < d->n; i++)
        ct_diag_render(&d->v[i], out, color);
    if (d->dropped)
        ct_buf_printf(out, "(%zu more diagnostics not shown)\n", d->dropped);
}

/* Optimal string alignment distance (Levenshtein plus transposition of neighbours, so "prot"
 * is one edit from "port"), case-insensitive, bounded to short words. */
static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            size_t v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *ct_did_you_mean(const char *word, const char *const *cand, size_t n)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    size_t wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(word, cand[i]);
        if (d < bestd) {
            bestd = d;
            best = cand[i];
        }
    }
    /* Close enough: a third of the word, at least one edit, at most three. */
    size_t limit = wl / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    return bestd <= limit ? best : NULL;
}

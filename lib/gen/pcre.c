/* pcre.c - the generator's PCRE2 adapter: compile patterns once, search strings.
 *
 * The generator verifies what it builds from a `pattern` (and checks enum values, examples and
 * property names against `pattern`/`patternProperties`). Patterns are compiled once per cache,
 * keyed by their text, so a mockd worker that keeps a cache compiles each pattern of the spec
 * once in its life. ECMAScript syntax is approximated with PCRE2 options (UTF, $ only at the
 * very end, \uHHHH escapes); a pattern PCRE2 refuses counts as "unknown" and the caller treats
 * it as a pass, relying on the construction. A match limit keeps hostile patterns from hanging
 * a worker. This is the only file of lib/gen that includes pcre2.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "gen_impl.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <pcre2.h>
#include <string.h>

#define MATCH_LIMIT 200000u
#define DEPTH_LIMIT 5000u
#define CACHE_MAX   4096u /* entries; the table is emptied when full (specs have far fewer) */

struct re_entry {
    char *pat; /* owned, NUL-terminated */
    size_t plen;
    uint64_t hash;
    pcre2_code *code; /* NULL: the pattern does not compile */
};

struct ct_gen_cache {
    struct re_entry *tab; /* open addressing, power-of-two size */
    size_t cap, n;
    pcre2_general_context *gctx;
    pcre2_compile_context *cctx;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
};

static void *re_malloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return ct_xmalloc(n ? n : 1);
}

static void re_free(void *p, void *ud)
{
    (void)ud;
    ct_free(p);
}

static uint64_t fnv64(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

struct ct_gen_cache *ct_gen_cache_new(void)
{
    struct ct_gen_cache *c = ct_xcalloc(1, sizeof(*c));
    c->cap = 64;
    c->tab = ct_xcalloc(c->cap, sizeof(*c->tab));
    c->gctx = pcre2_general_context_create(re_malloc, re_free, NULL);
    c->cctx = pcre2_compile_context_create(c->gctx);
    c->mctx = pcre2_match_context_create(c->gctx);
    pcre2_set_match_limit(c->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(c->mctx, DEPTH_LIMIT);
    c->md = pcre2_match_data_create(4, c->gctx);
    return c;
}

static void cache_clear(struct ct_gen_cache *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        if (c->tab[i].pat) {
            ct_free(c->tab[i].pat);
            pcre2_code_free(c->tab[i].code);
        }
    }
    memset(c->tab, 0, c->cap * sizeof(*c->tab));
    c->n = 0;
}

void ct_gen_cache_free(struct ct_gen_cache *c)
{
    if (!c) return;
    cache_clear(c);
    ct_free(c->tab);
    pcre2_match_data_free(c->md);
    pcre2_match_context_free(c->mctx);
    pcre2_compile_context_free(c->cctx);
    pcre2_general_context_free(c->gctx);
    ct_free(c);
}

static void cache_grow(struct ct_gen_cache *c)
{
    struct re_entry *old = c->tab;
    size_t ocap = c->cap;
    c->cap *= 2;
    c->tab = ct_xcalloc(c->cap, sizeof(*c->tab));
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].pat) continue;
        size_t j = old[i].hash & (c->cap - 1);
        while (c->tab[j].pat)
            j = (j + 1) & (c->cap - 1);
        c->tab[j] = old[i];
    }
    ct_free(old);
}

/* Where ECMAScript and PCRE2 read the same text differently, rewrite it: `[]` matches nothing
 * and `[^]` any character (PCRE2 takes a `]` right after `[` or `[^` as a literal), and `[`
 * inside a class is a plain character (PCRE2 would start a POSIX class `[:alpha:]`). The rest
 * compiles as it is with the options below (UTF, `$` only at the very end, \uHHHH). */
static char *ecma_to_pcre(const char *pat, size_t plen, size_t *olen)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    bool in_class = false;
    for (size_t i = 0; i < plen; i++) {
        char ch = pat[i];
        if (ch == '\\' && i + 1 < plen) {
            ct_buf_add(&b, pat + i, 2);
            i++;
        } else if (!in_class && ch == '[') {
            if (i + 1 < plen && pat[i + 1] == ']') {
                ct_buf_adds(&b, "(?!)");
                i++;
            } else if (i + 2 < plen && pat[i + 1] == '^' && pat[i + 2] == ']') {
                ct_buf_adds(&b, "[\\s\\S]");
                i += 2;
            } else {
                in_class = true;
                ct_buf_addc(&b, ch);
                if (i + 1 < plen && pat[i + 1] == '^') ct_buf_addc(&b, pat[++i]);
            }
        } else if (in_class && ch == '[') {
            ct_buf_adds(&b, "\\[");
        } else {
            if (in_class && ch == ']') in_class = false;
            ct_buf_addc(&b, ch);
        }
    }
    ct_buf_addc(&b, 0);
    char *out = ct_buf_steal(&b, olen);
    *olen -= 1;
    return out;
}

static pcre2_code *compile(struct ct_gen_cache *c, const char *pat, size_t plen)
{
    int err;
    PCRE2_SIZE off;
    size_t tlen;
    char *t = ecma_to_pcre(pat, plen, &tlen);
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)t, tlen, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX, &err,
                      &off, c->cctx);
    ct_free(t);
    return code;
}

static const struct re_entry *lookup(struct ct_gen_cache *c, const char *pat, size_t plen)
{
    uint64_t h = fnv64(pat, plen);
    size_t j = h & (c->cap - 1);
    for (; c->tab[j].pat; j = (j + 1) & (c->cap - 1))
        if (c->tab[j].hash == h && c->tab[j].plen == plen && !memcmp(c->tab[j].pat, pat, plen))
            return &c->tab[j];
    if (c->n >= CACHE_MAX) {
        cache_clear(c);
        j = h & (c->cap - 1);
    } else if ((c->n + 1) * 2 > c->cap) {
        cache_grow(c);
        j = h & (c->cap - 1);
        while (c->tab[j].pat)
            j = (j + 1) & (c->cap - 1);
    }
    struct re_entry *e = &c->tab[j];
    e->pat = ct_xstrndup(pat, plen);
    e->plen = plen;
    e->hash = h;
    e->code = compile(c, pat, plen);
    c->n++;
    return e;
}

int ct__gen_re_search(struct ct_gen_cache *c, const char *pat, size_t plen, const char *s,
                      size_t len)
{
    const struct re_entry *e = lookup(c, pat, plen);
    if (!e->code) return -1;
    int rc = pcre2_match(e->code, (PCRE2_SPTR)s, len, 0, 0, c->md, c->mctx);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    return -2; /* the match limit, or invalid UTF-8 in the subject: not a match */
}

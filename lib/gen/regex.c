/* regex.c - build a string that matches a regular expression (ECMAScript syntax).
 *
 * The pattern is parsed into a small tree (literals and character classes, concatenation,
 * alternation, groups, quantifiers, anchors, lookarounds, back-references), each node knowing
 * the shortest and longest text it can produce. Generation then walks the tree with a wanted
 * length and shares it out: a sequence gives its flexible parts the extra characters, an
 * alternation picks a branch that can reach the length, a quantifier picks a repeat count. So
 * `^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$` with minLength 20 gives a 20-odd character string in one go
 * instead of failing a random draw.
 *
 * What it does not do: lookarounds and word boundaries produce nothing (they constrain, the
 * caller's PCRE2 check catches a miss), and flags do not exist in JSON Schema. Anything it does
 * not parse makes it return false; the caller then reports the pattern. */
#include "gen_impl.h"

#include "core/arena.h"

#include <string.h>

#define R_INF        0x3fffffffu
#define R_MAX_NODES  4096u
#define R_MAX_DEPTH  64u
#define R_MAX_REPEAT 256u /* {n,} and * never need more to reach a length we would accept */

enum rkind { R_EMPTY, R_SET, R_CAT, R_ALT, R_REP, R_GROUP, R_ASSERT, R_BACKREF };

struct rnode {
    uint8_t kind;
    bool neg;    /* R_SET: complement of the ranges */
    uint32_t nr; /* R_SET: number of ranges */
    uint32_t *r; /* R_SET: pairs lo, hi (code points, inclusive) */
    struct rnode **kids;
    uint32_t nkids;    /* R_CAT, R_ALT */
    struct rnode *kid; /* R_REP, R_GROUP, R_ASSERT (lookaround body, not generated) */
    uint32_t min, max; /* R_REP */
    int cap;           /* R_GROUP: capture number (0 = none); R_BACKREF: which */
    uint32_t lmin, lmax;
};

struct rparse {
    struct gen *g;
    const char *p, *end;
    unsigned nodes, depth;
    int ncap;
    const char *names[32]; /* named groups: name start, for \k<name> */
    size_t namelen[32];
    int namecap[32];
    unsigned nnames;
    bool bad;
};

struct rgen {
    struct gen *g;
    struct ct_buf *out;
    size_t capstart[64], capend[64];
    bool capset[64];
};

/* --- parsing ------------------------------------------------------------------------------ */

static struct rnode *rnew(struct rparse *ps, enum rkind k)
{
    if (++ps->nodes > R_MAX_NODES) {
        ps->bad = true;
        return NULL;
    }
    struct rnode *n = ct_arena_zalloc(&ps->g->tmp, sizeof(*n));
    n->kind = (uint8_t)k;
    return n;
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    uint64_t s = (uint64_t)a + b;
    return s > R_INF ? R_INF : (uint32_t)s;
}

static uint32_t sat_mul(uint32_t a, uint32_t b)
{
    uint64_t s = (uint64_t)a * b;
    return s > R_INF ? R_INF : (uint32_t)s;
}

/* A set under construction: a growable list of ranges in the scratch arena. */
struct rset {
    uint32_t *r;
    uint32_t n, cap;
};

static void set_add(struct rparse *ps, struct rset *s, uint32_t lo, uint32_t hi)
{
    if (s->n + 1 > s->cap) {
        uint32_t ncap = s->cap ? s->cap * 2 : 8;
        uint32_t *nr = ct_arena_alloc(&ps->g->tmp, ncap * 2 * sizeof(uint32_t));
        if (s->n) memcpy(nr, s->r, s->n * 2 * sizeof(uint32_t));
        s->r = nr;
        s->cap = ncap;
    }
    s->r[2 * s->n] = lo;
    s->r[2 * s->n + 1] = hi;
    s->n++;
}

static const uint32_t SPACE_RANGES[] = {0x09,   0x0d,   0x20,   0x20,   0xa0,   0xa0,   0x1680,
                                        0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f,
                                        0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff};
static const uint32_t DIGIT_RANGES[] = {'0', '9'};
static const uint32_t WORD_RANGES[] = {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'};
static const uint32_t LETTER_RANGES[] = {'A', 'Z', 'a', 'z', 0xc0, 0xd6, 0xd8, 0xf6};

/* Add the ranges of a predefined class, or of its complement, to a set. The tables above are
 * sorted, so the complement is the gaps between them. */
static void set_add_class(struct rparse *ps, struct rset *s, const uint32_t *t, size_t n, bool neg)
{
    if (!neg) {
        for (size_t i = 0; i < n; i += 2)
            set_add(ps, s, t[i], t[i + 1]);
        return;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < n; i += 2) {
        if (t[i] > next) set_add(ps, s, next, t[i] - 1);
        next = t[i + 1] + 1;
    }
    set_add(ps, s, next, 0x10ffff);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode one UTF-8 sequence (the pattern came from a validated document). */
static uint32_t utf8_next(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp;
    uint32_t c = *p++;
    int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (more) c &= 0x3fu >> more;
    while (more-- > 0 && (const char *)p < end)
        c = (c << 6) | (*p++ & 0x3fu);
    *pp = (const char *)p;
    return c;
}

static bool read_hex(struct rparse *ps, int n, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        if (ps->p >= ps->end || hexval(*ps->p) < 0) return false;
        v = v * 16 + (uint32_t)hexval(*ps->p++);
    }
    *out = v;
    return true;
}

/* Unicode property escapes are approximated: letters for \p{L...}, digits for \p{N...}, and
 * letters for the rest; the PCRE2 check decides. */
static void parse_property(struct rparse *ps, struct rset *s, bool neg)
{
    const char *name = ps->p;
    if (ps->p < ps->end && *ps->p == '{') {
        while (ps->p < ps->end && *ps->p != '}')
            ps->p++;
        if (ps->p < ps->end) ps->p++;
        name++;
    }
    bool num = name < ps->end && *name == 'N';
    if (num)
        set_add_class(ps, s, DIGIT_RANGES, 2, neg);
    else
        set_add_class(ps, s, LETTER_RANGES, 8, neg);
}

/* An escape after the backslash. Class escapes add to `s` and return true with *is_set; single
 * characters return true with *cp. Anchors and references are handled by the caller. */
static bool parse_escape_char(struct rparse *ps, struct rset *s, bool *is_set, uint32_t *cp)
{
    *is_set = false;
    if (ps->p >= ps->end) return false;
    char e = *ps->p++;
    switch (e) {
    case 'd':
    case 'D':
        *is_set = true;
        set_add_class(ps, s, DIGIT_RANGES, 2, e == 'D');
        return true;
    case 'w':
    case 'W':
        *is_set = true;
        set_add_class(ps, s, WORD_RANGES, 8, e == 'W');
        return true;
    case 's':
    case 'S':
        *is_set = true;
        set_add_class(ps, s, SPACE_RANGES, sizeof SPACE_RANGES / sizeof *SPACE_RANGES, e == 'S');
        return true;
    case 'p':
    case 'P':
        *is_set = true;
        parse_property(ps, s, e == 'P');
        return true;
    case 'n':
        *cp = '\n';
        return true;
    case 'r':
        *cp = '\r';
        return true;
    case 't':
        *cp = '\t';
        return true;
    case 'f':
        *cp = '\f';
        return true;
    case 'v':
        *cp = '\v';
        return true;
    case '0':
        *cp = 0;
        return true;
    case 'c':
        if (ps->p < ps->end &&
            ((*ps->p >= 'a' && *ps->p <= 'z') || (*ps->p >= 'A' && *ps->p <= 'Z'))) {
            *cp = (uint32_t)(*ps->p++ & 0x1f);
            return true;
        }
        *cp = '\\';
        ps->p--;
        return true;
    case 'x':
        return read_hex(ps, 2, cp);
    case 'u':
        if (ps->p < ps->end && *ps->p == '{') {
            ps->p++;
            uint32_t v = 0;
            int nd = 0;
            while (ps->p < ps->end && hexval(*ps->p) >= 0 && v <= 0x10ffff) {
                v = v * 16 + (uint32_t)hexval(*ps->p++);
                nd++;
            }
            if (!nd || ps->p >= ps->end || *ps->p != '}' || v > 0x10ffff) return false;
            ps->p++;
            *cp = v;
            return true;
        }
        if (!read_hex(ps, 4, cp)) return false;
        if (*cp >= 0xd800 && *cp <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
            ps->p[1] == 'u') {
            const char *save = ps->p;
            ps->p += 2;
            uint32_t lo;
            if (read_hex(ps, 4, &lo) && lo >= 0xdc00 && lo <= 0xdfff)
                *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
            else
                ps->p = save;
        }
        return !(*cp >= 0xd800 && *cp <= 0xdfff);
    default:
        ps->p--;
        *cp = utf8_next(&ps->p, ps->end);
        return true;
    }
}

static struct rnode *set_node(struct rparse *ps, struct rset *s, bool neg)
{
    struct rnode *n = rnew(ps, R_SET);
    if (!n) return NULL;
    n->r = s->r;
    n->nr = s->n;
    n->neg = neg;
    n->lmin = n->lmax = 1;
    return n;
}

static struct rnode *parse_class(struct rparse *ps)
{
    struct rset s = {0};
    bool neg = false;
    if (ps->p < ps->end && *ps->p == '^') {
        neg = true;
        ps->p++;
    }
    while (ps->p < ps->end && *ps->p != ']') {
        uint32_t lo;
        bool is_set = false;
        if (*ps->p == '\\') {
            ps->p++;
            if (ps->p < ps->end && *ps->p == 'b') {
                ps->p++;
                lo = '\b';
            } else if (!parse_escape_char(ps, &s, &is_set, &lo)) {
                ps->bad = true;
                return NULL;
            }
        } else {
            lo = utf8_next(&ps->p, ps->end);
        }
        if (is_set) continue;
        uint32_t hi = lo;
        if (ps->end - ps->p >= 2 && ps->p[0] == '-' && ps->p[1] != ']') {
            ps->p++;
            bool hs = false;
            if (*ps->p == '\\') {
                ps->p++;
                if (!parse_escape_char(ps, &s, &hs, &hi)) {
                    ps->bad = true;
                    return NULL;
                }
            } else {
                hi = utf8_next(&ps->p, ps->end);
            }
            if (hs) { /* [a-\d]: a literal '-' (Annex B) */
                set_add(ps, &s, lo, lo);
                set_add(ps, &s, '-', '-');
                continue;
            }
            if (hi < lo) {
                ps->bad = true;
                return NULL;
            }
        }
        set_add(ps, &s, lo, hi);
    }
    if (ps->p >= ps->end) {
        ps->bad = true;
        return NULL;
    }
    ps->p++; /* ']' */
    return set_node(ps, &s, neg);
}

static struct rnode *parse_alt(struct rparse *ps);

static bool is_quant_brace(const char *p, const char *end)
{
    /* {n}, {n,}, {n,m} */
    if (p >= end || *p != '{') return false;
    p++;
    if (p >= end || *p < '0' || *p > '9') return false;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if (p < end && *p == ',') {
        p++;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p < end && *p == '}';
}

static uint32_t read_count(struct rparse *ps)
{
    uint64_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        v = v * 10 + (uint64_t)(*ps->p++ - '0');
        if (v > R_INF) v = R_INF;
    }
    return (uint32_t)v;
}

static struct rnode *parse_group(struct rparse *ps)
{
    /* after '(' */
    int cap = 0;
    int look = 0; /* 1: lookahead/lookbehind (zero width) */
    if (ps->p < ps->end && *ps->p == '?') {
        ps->p++;
        if (ps->p >= ps->end) {
            ps->bad = true;
            return NULL;
        }
        char c = *ps->p;
        if (c == ':') {
            ps->p++;
        } else if (c == '=' || c == '!') {
            ps->p++;
            look = 1;
        } else if (c == '<' && ps->p + 1 < ps->end && (ps->p[1] == '=' || ps->p[1] == '!')) {
            ps->p += 2;
            look = 1;
        } else if (c == '<') {
            const char *name = ++ps->p;
            while (ps->p < ps->end && *ps->p != '>')
                ps->p++;
            if (ps->p >= ps->end) {
                ps->bad = true;
                return NULL;
            }
            cap = ++ps->ncap;
            if (ps->nnames < 32) {
                ps->names[ps->nnames] = name;
                ps->namelen[ps->nnames] = (size_t)(ps->p - name);
                ps->namecap[ps->nnames++] = cap;
            }
            ps->p++;
        } else {
            /* (?i), (?m), (?s) and (?i:...) are PCRE, not ECMAScript, but real specs use them
             * (validators built on PCRE accept them). The generated text keeps the literal's
             * case, which matches with or without the flags. Other flags change the syntax. */
            const char *f = ps->p;
            while (f < ps->end && (*f == 'i' || *f == 'm' || *f == 's' || *f == '-'))
                f++;
            if (f == ps->p || f >= ps->end || (*f != ')' && *f != ':')) {
                ps->bad = true;
                return NULL;
            }
            ps->p = f + 1;
            if (*f == ')') return rnew(ps, R_ASSERT); /* a flag switch: matches the empty string */
        }
    } else {
        cap = ++ps->ncap;
    }
    struct rnode *body = parse_alt(ps);
    if (!body || ps->p >= ps->end || *ps->p != ')') {
        ps->bad = true;
        return NULL;
    }
    ps->p++;
    struct rnode *n = rnew(ps, look ? R_ASSERT : R_GROUP);
    if (!n) return NULL;
    n->kid = body;
    n->cap = cap;
    if (!look) {
        n->lmin = body->lmin;
        n->lmax = body->lmax;
    }
    return n;
}

static struct rnode *parse_atom(struct rparse *ps)
{
    const char c = *ps->p;
    struct rset s = {0};
    switch (c) {
    case '(':
        ps->p++;
        return parse_group(ps);
    case '[':
        ps->p++;
        return parse_class(ps);
    case '.':
        ps->p++;
        set_add(ps, &s, '\n', '\n');
        set_add(ps, &s, '\r', '\r');
        set_add(ps, &s, 0x2028, 0x2029);
        return set_node(ps, &s, true);
    case '^':
    case '$':
        ps->p++;
        return rnew(ps, R_ASSERT);
    case '*':
    case '+':
    case '?':
        ps->bad = true; /* nothing to repeat */
        return NULL;
    case '{':
        if (is_quant_brace(ps->p, ps->end)) {
            ps->bad = true;
            return NULL;
        }
        break;
    case '\\': {
        ps->p++;
        if (ps->p >= ps->end) {
            ps->bad = true;
            return NULL;
        }
        char e = *ps->p;
        if (e == 'b' || e == 'B') {
            ps->p++;
            return rnew(ps, R_ASSERT);
        }
        if (e >= '1' && e <= '9') {
            struct rnode *n = rnew(ps, R_BACKREF);
            if (n) n->cap = (int)read_count(ps);
            return n;
        }
        if (e == 'k' && ps->p + 1 < ps->end && ps->p[1] == '<') {
            ps->p += 2;
            const char *name = ps->p;
            while (ps->p < ps->end && *ps->p != '>')
                ps->p++;
            size_t nl = (size_t)(ps->p - name);
            if (ps->p < ps->end) ps->p++;
            struct rnode *n = rnew(ps, R_BACKREF);
            for (unsigned i = 0; n && i < ps->nnames; i++)
                if (ps->namelen[i] == nl && !memcmp(ps->names[i], name, nl))
                    n->cap = ps->namecap[i];
            return n;
        }
        bool is_set;
        uint32_t cp;
        if (!parse_escape_char(ps, &s, &is_set, &cp)) {
            ps->bad = true;
            return NULL;
        }
        if (!is_set) set_add(ps, &s, cp, cp);
        return set_node(ps, &s, false);
    }
    default:
        break;
    }
    uint32_t cp = utf8_next(&ps->p, ps->end);
    set_add(ps, &s, cp, cp);
    return set_node(ps, &s, false);
}

static struct rnode *parse_cat(struct rparse *ps)
{
    struct rnode *cat = rnew(ps, R_CAT);
    if (!cat) return NULL;
    uint32_t cap = 0;
    while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')') {
        struct rnode *a = parse_atom(ps);
        if (!a || ps->bad) return NULL;
        /* quantifier */
        uint32_t mn = 1, mx = 1;
        bool q = false;
        if (ps->p < ps->end) {
            char c = *ps->p;
            if (c == '*' || c == '+' || c == '?') {
                ps->p++;
                q = true;
                mn = c == '+' ? 1 : 0;
                mx = c == '?' ? 1 : R_INF;
            } else if (c == '{' && is_quant_brace(ps->p, ps->end)) {
                ps->p++;
                q = true;
                mn = read_count(ps);
                mx = mn;
                if (*ps->p == ',') {
                    ps->p++;
                    mx = (ps->p < ps->end && *ps->p == '}') ? R_INF : read_count(ps);
                }
                ps->p++; /* '}' */
                if (mx < mn) {
                    ps->bad = true;
                    return NULL;
                }
            }
            if (q && ps->p < ps->end && *ps->p == '?') ps->p++; /* lazy: same language */
        }
        if (q) {
            if (a->kind == R_ASSERT) {
                /* A repeated assertion still asserts (or not, with a minimum of 0). */
                if (mn == 0) continue;
            } else {
                struct rnode *r = rnew(ps, R_REP);
                if (!r) return NULL;
                r->kid = a;
                r->min = mn;
                r->max = mx;
                r->lmin = sat_mul(a->lmin, mn);
                r->lmax = mx == R_INF ? (a->lmax ? R_INF : 0) : sat_mul(a->lmax, mx);
                a = r;
            }
        }
        if (cat->nkids + 1 > cap) {
            uint32_t ncap = cap ? cap * 2 : 4;
            struct rnode **nk = ct_arena_alloc(&ps->g->tmp, ncap * sizeof(*nk));
            if (cat->nkids) memcpy(nk, cat->kids, cat->nkids * sizeof(*nk));
            cat->kids = nk;
            cap = ncap;
        }
        cat->kids[cat->nkids++] = a;
        cat->lmin = sat_add(cat->lmin, a->lmin);
        cat->lmax = sat_add(cat->lmax, a->lmax);
    }
    return cat;
}

static struct rnode *parse_alt(struct rparse *ps)
{
    if (++ps->depth > R_MAX_DEPTH) {
        ps->bad = true;
        return NULL;
    }
    struct rnode *first = parse_cat(ps);
    if (!first) return NULL;
    if (ps->p >= ps->end || *ps->p != '|') {
        ps->depth--;
        return first;
    }
    struct rnode *alt = rnew(ps, R_ALT);
    if (!alt) return NULL;
    uint32_t cap = 4;
    alt->kids = ct_arena_alloc(&ps->g->tmp, cap * sizeof(*alt->kids));
    alt->kids[alt->nkids++] = first;
    alt->lmin = first->lmin;
    alt->lmax = first->lmax;
    while (ps->p < ps->end && *ps->p == '|') {
        ps->p++;
        struct rnode *b = parse_cat(ps);
        if (!b) return NULL;
        if (alt->nkids + 1 > cap) {
            struct rnode **nk = ct_arena_alloc(&ps->g->tmp, cap * 2 * sizeof(*nk));
            memcpy(nk, alt->kids, alt->nkids * sizeof(*nk));
            alt->kids = nk;
            cap *= 2;
        }
        alt->kids[alt->nkids++] = b;
        if (b->lmin < alt->lmin) alt->lmin = b->lmin;
        if (b->lmax > alt->lmax) alt->lmax = b->lmax;
    }
    ps->depth--;
    return alt;
}

/* --- generation --------------------------------------------------------------------------- */

static void put_cp(struct ct_buf *b, uint32_t c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xc0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xe0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    ct_buf_add(b, u, n);
}

static bool in_set(const struct rnode *n, uint32_t c)
{
    bool in = false;
    for (uint32_t i = 0; i < n->nr && !in; i++)
        in = c >= n->r[2 * i] && c <= n->r[2 * i + 1];
    return in != n->neg;
}

/* Readable characters first: a class as wide as `.` or `\S` gives letters, not control codes. */
static const char PREFERRED[] = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
static const char FALLBACK[] = "-_.:/+~!*@#=, ";

static bool pick_char(struct gen *g, const struct rnode *n, uint32_t *out)
{
    if (!n->neg) {
        uint64_t total = 0;
        for (uint32_t i = 0; i < n->nr; i++)
            total += (uint64_t)n->r[2 * i + 1] - n->r[2 * i] + 1;
        if (total == 0) return false;
        if (total <= 256) {
            uint64_t k = gen_below(g, total);
            for (uint32_t i = 0; i < n->nr; i++) {
                uint64_t w = (uint64_t)n->r[2 * i + 1] - n->r[2 * i] + 1;
                if (k < w) {
                    uint32_t c = n->r[2 * i] + (uint32_t)k;
                    if (c >= 0xd800 && c <= 0xdfff) break;
                    *out = c;
                    return true;
                }
                k -= w;
            }
        }
    }
    for (int tries = 0; tries < 24; tries++) {
        uint32_t c = (unsigned char)PREFERRED[gen_below(g, sizeof PREFERRED - 1)];
        if (in_set(n, c)) {
            *out = c;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof PREFERRED - 1; i++)
        if (in_set(n, (unsigned char)PREFERRED[i])) {
            *out = (unsigned char)PREFERRED[i];
            return true;
        }
    for (size_t i = 0; i < sizeof FALLBACK - 1; i++)
        if (in_set(n, (unsigned char)FALLBACK[i])) {
            *out = (unsigned char)FALLBACK[i];
            return true;
        }
    /* Anything printable, then anything at all outside the surrogates. */
    for (uint32_t c = 0x20; c < 0x3000; c++)
        if ((c < 0x7f || c > 0x9f) && in_set(n, c)) {
            *out = c;
            return true;
        }
    if (!n->neg) {
        for (uint32_t i = 0; i < n->nr; i++) {
            uint32_t c = n->r[2 * i];
            if (c < 0xd800 || c > 0xdfff) {
                *out = c;
                return true;
            }
        }
    }
    return false;
}

static bool rgen(struct rgen *rg, const struct rnode *n, uint32_t want);

/* A class that holds all lower-case letters (`.`, `\S`, `[^\s]`, `[a-z0-9]`, `\w`). */
static bool wide_set(const struct rnode *n)
{
    for (uint32_t c = 'a'; c <= 'z'; c++)
        if (!in_set(n, c)) return false;
    return true;
}

static bool gen_cat(struct rgen *rg, const struct rnode *n, uint32_t want)
{
    uint32_t extra = want > n->lmin ? want - n->lmin : 0;
    uint32_t flex = 0;
    for (uint32_t i = 0; i < n->nkids; i++)
        flex += n->kids[i]->lmax > n->kids[i]->lmin;
    for (uint32_t i = 0; i < n->nkids; i++) {
        const struct rnode *k = n->kids[i];
        uint32_t w = k->lmin;
        if (k->lmax > k->lmin && flex) {
            uint32_t share = extra / flex;
            if (flex > 1 && share > 1 && gen_chance(rg->g, 50))
                share += (uint32_t)gen_below(rg->g, share / 2 + 1); /* vary the split */
            if (share > extra) share = extra;
            if (share > k->lmax - k->lmin) share = k->lmax - k->lmin;
            w += share;
            extra -= share;
            flex--;
        }
        if (!rgen(rg, k, w)) return false;
    }
    return true;
}

static bool gen_alt(struct rgen *rg, const struct rnode *n, uint32_t want)
{
    uint32_t fit = 0;
    for (uint32_t i = 0; i < n->nkids; i++)
        fit += n->kids[i]->lmin <= want && want <= n->kids[i]->lmax;
    const struct rnode *pick = NULL;
    if (fit) {
        uint64_t k = gen_below(rg->g, fit);
        for (uint32_t i = 0; i < n->nkids && !pick; i++)
            if (n->kids[i]->lmin <= want && want <= n->kids[i]->lmax && k-- == 0) pick = n->kids[i];
    } else {
        uint32_t best = R_INF;
        for (uint32_t i = 0; i < n->nkids; i++) {
            const struct rnode *k = n->kids[i];
            uint32_t d = want < k->lmin ? k->lmin - want : want - k->lmax;
            if (d < best) {
                best = d;
                pick = k;
            }
        }
    }
    return pick ? rgen(rg, pick, want) : true;
}

static bool gen_rep(struct rgen *rg, const struct rnode *n, uint32_t want)
{
    const struct rnode *k = n->kid;
    uint32_t lo = n->min, hi = n->max < R_MAX_REPEAT ? n->max : R_MAX_REPEAT;
    if (lo > hi) hi = lo;
    uint32_t c;
    if (k->lmax == 0) {
        c = lo;
    } else {
        /* Enough repeats to reach `want` with the longest body, few enough to not pass it
         * with the shortest. */
        uint32_t need = (want + k->lmax - 1) / k->lmax;
        uint32_t most = k->lmin ? want / k->lmin : hi;
        if (need < lo) need = lo;
        if (most > hi) most = hi;
        if (need <= most) {
            uint32_t span = most - need;
            c = need + (uint32_t)gen_below(rg->g, (span < 2 ? span : 2) + 1);
        } else {
            c = need > hi ? hi : need;
        }
    }
    if (c > R_MAX_REPEAT) c = R_MAX_REPEAT;
    if (k->kind == R_SET && c >= 3 && wide_set(k)) {
        /* `.+`, `\S+`, `[^/]+`: spell words rather than letter soup where the class allows. */
        const char *w = ct__gen_word(rg->g);
        for (uint32_t i = 0; i < c; i++) {
            if (!*w) w = ct__gen_word(rg->g);
            uint32_t ch = (unsigned char)*w++;
            if (!in_set(k, ch) && !pick_char(rg->g, k, &ch)) return false;
            put_cp(rg->out, ch);
        }
        return true;
    }
    uint32_t left = want;
    for (uint32_t i = 0; i < c; i++) {
        uint32_t w = left / (c - i);
        if (w < k->lmin) w = k->lmin;
        if (!rgen(rg, k, w)) return false;
        left = left > w ? left - w : 0;
    }
    return true;
}

static bool rgen(struct rgen *rg, const struct rnode *n, uint32_t want)
{
    if (rg->out->len > 65536) return false;
    switch (n->kind) {
    case R_SET: {
        uint32_t c;
        if (!pick_char(rg->g, n, &c)) return false;
        put_cp(rg->out, c);
        return true;
    }
    case R_CAT:
        return gen_cat(rg, n, want);
    case R_ALT:
        return gen_alt(rg, n, want);
    case R_REP:
        return gen_rep(rg, n, want);
    case R_GROUP: {
        size_t start = rg->out->len;
        if (!rgen(rg, n->kid, want)) return false;
        if (n->cap > 0 && n->cap < 64) {
            rg->capstart[n->cap] = start;
            rg->capend[n->cap] = rg->out->len;
            rg->capset[n->cap] = true;
        }
        return true;
    }
    case R_BACKREF:
        if (n->cap > 0 && n->cap < 64 && rg->capset[n->cap]) {
            /* The buffer may move while appending: copy through a small stack buffer. */
            size_t s = rg->capstart[n->cap], e = rg->capend[n->cap];
            while (s < e) {
                char tmp[64];
                size_t m = e - s < sizeof tmp ? e - s : sizeof tmp;
                memcpy(tmp, rg->out->ptr + s, m);
                ct_buf_add(rg->out, tmp, m);
                s += m;
            }
        }
        return true;
    default: /* R_EMPTY, R_ASSERT */
        return true;
    }
}

bool ct__gen_regex(struct gen *g, const char *pat, size_t plen, uint64_t minlen, uint64_t maxlen,
                   struct ct_buf *out)
{
    if (plen > 8192) return false;
    struct rparse ps = {.g = g, .p = pat, .end = pat + plen};
    struct rnode *root = parse_alt(&ps);
    if (!root || ps.bad || ps.p != ps.end) return false;
    uint64_t lo = minlen > root->lmin ? minlen : root->lmin;
    uint64_t hi = maxlen < root->lmax ? maxlen : root->lmax;
    uint64_t want;
    if (lo > hi) {
        want = minlen > root->lmax ? root->lmax : lo;
    } else {
        /* Short strings read badly: aim a little above the minimum when there is room. */
        uint64_t base = lo < 6 ? 6 : lo;
        want = base + gen_below(g, 8);
        if (want > hi) want = hi;
        if (want < lo) want = lo;
    }
    if (want > R_INF) want = R_INF;
    struct rgen rg = {.g = g, .out = out};
    return rgen(&rg, root, (uint32_t)want);
}

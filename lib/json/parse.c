/* parse.c - a JSON (RFC 8259) parser that builds ct_node trees in an arena.
 *
 * Written by hand rather than taken from jansson because the project needs what a general DOM does
 * not keep: the line and column of every value (for located errors), the exact text of every number
 * (integers beyond 2^53, decimal multipleOf), duplicate-key errors that name the second key, and
 * an allocation pattern that suits a request's arena (see docs/ARCHITECTURE.md).
 *
 * It does not accept comments, trailing commas, NaN or lone surrogates. The text must be followed
 * by a NUL byte (text[len] == 0); a NUL inside the text is a syntax error. */
#include "node.h"

#include "core/alloc.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct parser {
    struct ct_arena *arena;
    const struct ct_source *src;
    struct ct_diags *diags;
    const char *p, *end, *line_start;
    uint32_t line;
    size_t line_extra; /* UTF-8 continuation bytes seen on this line: column counts characters */
    uint32_t depth, max_depth;
    /* A stack of pending children shared by all open containers; it starts in `small` (most
     * documents need no more, so parsing one costs no heap allocation). */
    void **stack;
    size_t nstack, capstack;
    void *small[64];
    bool failed;
    /* Short strings of big documents are stored once each: a spec repeats member names
     * (`type`, `description`, `schema`) and values (`string`, `object`, the same `$ref`) tens
     * of thousands of times. Unused for small inputs such as request bodies. */
    struct key_slot *keys;
    size_t nkeys, capkeys;
    bool intern;
};

struct key_slot {
    const char *str; /* in the arena, NUL-terminated */
    uint32_t len, hash;
};

/* Inputs at least this large intern their strings up to this length. */
#define INTERN_MIN_INPUT (64 * 1024)
#define INTERN_MAX_LEN 64

static uint32_t col_of(const struct parser *ps, const char *at)
{
    return (uint32_t)((size_t)(at - ps->line_start) - ps->line_extra + 1);
}

static void fail_at(struct parser *ps, const char *at, int code, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = true;
    const char *found;
    char tmp[32];
    if (at >= ps->end) {
        found = "end of input";
    } else {
        unsigned char c = (unsigned char)*at;
        if (c >= 0x20 && c < 0x7f) {
            tmp[0] = '\'';
            tmp[1] = (char)c;
            tmp[2] = '\'';
            tmp[3] = 0;
            found = tmp;
        } else if (c == '\n') {
            found = "a line break";
        } else {
            static const char hex[] = "0123456789abcdef";
            memcpy(tmp, "byte 0x", 7);
            tmp[7] = hex[c >> 4];
            tmp[8] = hex[c & 15];
            tmp[9] = 0;
            found = tmp;
        }
    }
    uint32_t col = at >= ps->line_start ? col_of(ps, at) : 1;
    ct_diags_add(ps->diags, CT_SEV_ERROR, code, ps->src, ps->line, col, "%s, found %s", what,
                 found);
}

static void skip_ws(struct parser *ps)
{
    const char *p = ps->p;
    for (;;) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\r') {
            p++;
        } else if (c == '\n') {
            p++;
            ps->line++;
            ps->line_start = p;
            ps->line_extra = 0;
            /* Indentation: eight bytes at a time, up to the first that is not a space. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            while (ps->end - p >= 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                uint64_t other = w ^ 0x2020202020202020ULL;
                if (other) {
                    p += __builtin_ctzll(other) / 8;
                    break;
                }
                p += 8;
            }
#endif
        } else {
            break;
        }
    }
    ps->p = p;
}

static struct ct_node *new_node(struct parser *ps, enum ct_kind kind, const char *at)
{
    struct ct_node *n = ct__node_new(ps->arena, kind);
    n->line = ps->line;
    n->col = col_of(ps, at);
    n->src = ps->src;
    return n;
}

static void push(struct parser *ps, void *v)
{
    if (ps->nstack == ps->capstack) {
        if (ps->stack == ps->small) {
            ps->stack = ct_xmalloc(2 * ps->capstack * sizeof(void *));
            memcpy(ps->stack, ps->small, ps->nstack * sizeof(void *));
            ps->capstack *= 2;
        } else {
            ps->stack = ct_xgrow(ps->stack, &ps->capstack, ps->nstack + 1, sizeof(void *));
        }
    }
    ps->stack[ps->nstack++] = v;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t key_hash(const char *s, size_t n)
{
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else {
        memcpy(&a, s, n);
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)n;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return (uint32_t)(h >> 32);
}

/* The one arena copy of a string (without escapes: the bytes are the string). */
static const char *str_intern(struct parser *ps, const char *s, size_t len)
{
    if ((ps->nkeys + 1) * 2 > ps->capkeys) {
        size_t ncap = ps->capkeys ? ps->capkeys * 2 : 1024;
        struct key_slot *nt = ct_xcalloc(ncap, sizeof(*nt));
        for (size_t i = 0; i < ps->capkeys; i++) {
            if (!ps->keys[i].str)
                continue;
            size_t j = ps->keys[i].hash & (ncap - 1);
            while (nt[j].str)
                j = (j + 1) & (ncap - 1);
            nt[j] = ps->keys[i];
        }
        ct_free(ps->keys);
        ps->keys = nt;
        ps->capkeys = ncap;
    }
    uint32_t h = key_hash(s, len);
    size_t mask = ps->capkeys - 1, i = h & mask;
    for (; ps->keys[i].str; i = (i + 1) & mask)
        if (ps->keys[i].hash == h && ps->keys[i].len == len && !memcmp(ps->keys[i].str, s, len))
            return ps->keys[i].str;
    ps->keys[i] = (struct key_slot){ct_arena_strndup(ps->arena, s, len), (uint32_t)len, h};
    ps->nkeys++;
    return ps->keys[i].str;
}

/* Parse a string starting at the opening quote; returns the node or NULL. */
static struct ct_node *parse_string(struct parser *ps)
{
    const char *start = ps->p;
    struct ct_node *n = new_node(ps, CT_STRING, start);
    const char *p = start + 1;
    /* First pass: find the end, validate, and learn whether there are escapes. */
    bool escapes = false;
    size_t extra = 0;
    for (;;) {
        /* Skip plain ASCII eight bytes at a time: stop at a quote, a backslash, a control
         * character or a byte >= 0x80 (SWAR: each test sets a byte's high bit). */
#ifdef __SSE2__
        /* Sixteen at a time: a signed compare below 0x20 also catches bytes >= 0x80. Long
         * runs (prompt text) go 32 at a time with one branch. */
        while (ps->end - p >= 32) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
            __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), c = _mm_set1_epi8(0x20);
            __m128i m1 = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                                      _mm_cmplt_epi8(v, c));
            __m128i m2 = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, q), _mm_cmpeq_epi8(w, b)),
                                      _mm_cmplt_epi8(w, c));
            unsigned mask = (unsigned)_mm_movemask_epi8(m1) |
                            (unsigned)_mm_movemask_epi8(m2) << 16;
            if (mask) {
                /* Only UTF-8 in this block (no quote, escape or control character): check
                 * its sequences here and go on, instead of leaving the loop for each one. */
                unsigned high = (unsigned)_mm_movemask_epi8(v) |
                                (unsigned)_mm_movemask_epi8(w) << 16;
                if (mask != high) {
                    p += __builtin_ctz(mask);
                    goto special;
                }
                const char *next = p + 32;
                while (high) {
                    const char *at = p + __builtin_ctz(high);
                    size_t k = ct_utf8_seq((const unsigned char *)at, (const unsigned char *)ps->end);
                    if (!k) {
                        p = at; /* the code below reports it */
                        goto special;
                    }
                    extra += k - 1;
                    size_t done = (size_t)(at - p) + k; /* bytes of the block consumed */
                    if (done >= 32) {
                        next = at + k; /* the sequence ends past the block */
                        break;
                    }
                    high &= ~0u << done;
                }
                p = next;
                continue;
            }
            p += 32;
        }
        while (ps->end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
            int mask = _mm_movemask_epi8(m);
            if (mask) {
                p += __builtin_ctz((unsigned)mask);
                break;
            }
            p += 16;
        }
#endif
        while (ps->end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
            uint64_t special = ((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w;
            if (special & highs)
                break;
            p += 8;
        }
#ifdef __SSE2__
    special:;
#endif
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            escapes = true;
            p++;
            if (p >= ps->end) {
                fail_at(ps, p, CT_E_SYNTAX, "unterminated string: expected '\"'");
                return NULL;
            }
            p++;
            continue;
        }
        if (c < 0x20) {
            if (p >= ps->end)
                fail_at(ps, p, CT_E_SYNTAX, "unterminated string: expected '\"'");
            else
                fail_at(ps, p, CT_E_SYNTAX,
                        "control character in string: expected it escaped (\\n, \\t, \\u00XX)");
            return NULL;
        }
        if (c >= 0x80) {
            size_t k = ct_utf8_seq((const unsigned char *)p, (const unsigned char *)ps->end);
            if (!k) {
                ps->line_extra += extra;
                fail_at(ps, p, CT_E_ENCODING, "invalid UTF-8 in string");
                return NULL;
            }
            p += k;
            extra += k - 1;
            continue;
        }
        p++;
    }
    size_t rawlen = (size_t)(p - start - 1);
    if (!escapes && ps->intern && rawlen <= INTERN_MAX_LEN) {
        n->u.str = str_intern(ps, start + 1, rawlen);
        n->len = (uint32_t)rawlen;
        ps->line_extra += extra;
        ps->p = p + 1;
        return n;
    }
    char *out = ct_arena_alloc_text(ps->arena, rawlen + 1);
    if (!escapes) {
        memcpy(out, start + 1, rawlen);
        out[rawlen] = 0;
        n->u.str = out;
        n->len = (uint32_t)rawlen;
        ps->line_extra += extra;
        ps->p = p + 1;
        return n;
    }
    /* Second pass: decode escapes. Output is never longer than the input. */
    const char *q = start + 1;
    size_t o = 0;
    while (q < p) {
        /* Copy the run up to the next backslash in one go. */
        const char *bs = memchr(q, '\\', (size_t)(p - q));
        size_t run = (size_t)((bs ? bs : p) - q);
        memcpy(out + o, q, run);
        o += run;
        q += run;
        if (!bs)
            break;
        q++;
        char e = *q++;
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            int v = read_hex4(q);
            if (v < 0) {
                fail_at(ps, q - 2, CT_E_SYNTAX, "bad \\u escape: expected four hex digits");
                return NULL;
            }
            uint32_t cp = (uint32_t)v;
            q += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo = (q[0] == '\\' && q[1] == 'u') ? read_hex4(q + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail_at(ps, q - 6, CT_E_ENCODING,
                            "lone high surrogate: expected a \\uDC00-\\uDFFF escape after it");
                    return NULL;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                q += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail_at(ps, q - 6, CT_E_ENCODING, "lone low surrogate in \\u escape");
                return NULL;
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default:
            fail_at(ps, q - 2, CT_E_SYNTAX,
                    "unknown escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u");
            return NULL;
        }
    }
    out[o] = 0;
    n->u.str = out;
    n->len = (uint32_t)o;
    ps->line_extra += extra;
    ps->p = p + 1;
    return n;
}

static struct ct_node *parse_number(struct parser *ps)
{
    const char *start = ps->p, *p = start;
    struct ct_node *n = new_node(ps, CT_NUMBER, start);
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9')
            p++;
    } else {
        fail_at(ps, p, CT_E_SYNTAX, "expected a digit");
        return NULL;
    }
    size_t intdigits = (size_t)(p - start) - (neg ? 1 : 0);
    bool isint = true;
    if (*p == '.') {
        isint = false;
        p++;
        if (!(*p >= '0' && *p <= '9')) {
            fail_at(ps, p, CT_E_SYNTAX, "expected a digit after '.'");
            return NULL;
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        isint = false;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9')) {
            fail_at(ps, p, CT_E_SYNTAX, "expected a digit in the exponent");
            return NULL;
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    /* A copy: nodes never point into the text, which its owner may free after parsing. */
    size_t len = (size_t)(p - start);
    n->u.text = ps->intern && len <= INTERN_MAX_LEN ? str_intern(ps, start, len)
                                                     : ct_arena_strndup(ps->arena, start, len);
    n->len = (uint32_t)len;
    n->flags = (uint8_t)((isint ? CT_NF_INT : 0) | (neg ? CT_NF_NEG : 0));
    if (isint && intdigits <= 15) {
        /* Fast and exact: at most 15 digits always fit a double. */
        int64_t v = 0;
        for (const char *d = start + (neg ? 1 : 0); d < p; d++)
            v = v * 10 + (*d - '0');
        n->num = (double)(neg ? -v : v);
        n->flags |= CT_NF_EXACT;
    } else {
        n->num = strtod(start, NULL);
    }
    ps->p = p;
    return n;
}

static bool lit(struct parser *ps, const char *word, size_t len)
{
    if ((size_t)(ps->end - ps->p) >= len && memcmp(ps->p, word, len) == 0) {
        ps->p += len;
        return true;
    }
    return false;
}

static void check_duplicates(struct parser *ps, struct ct_node *obj);
static struct ct_node *parse_value(struct parser *ps);

static struct ct_node *parse_container(struct parser *ps, bool is_obj)
{
    const char *start = ps->p;
    struct ct_node *n = new_node(ps, is_obj ? CT_OBJECT : CT_ARRAY, start);
    if (++ps->depth > ps->max_depth) {
        fail_at(ps, start, CT_E_DEPTH, "nesting too deep: expected at most the depth limit");
        ct_diag_set_hint(&ps->diags->v[ps->diags->n - 1], "the limit is %u levels", ps->max_depth);
        return NULL;
    }
    ps->p++;
    size_t base = ps->nstack;
    skip_ws(ps);
    char close = is_obj ? '}' : ']';
    if (*ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            if (is_obj) {
                if (*ps->p != '"') {
                    fail_at(ps, ps->p, CT_E_SYNTAX, "expected a '\"' to start a member name");
                    return NULL;
                }
                struct ct_node *k = parse_string(ps);
                if (!k)
                    return NULL;
                skip_ws(ps);
                if (*ps->p != ':') {
                    fail_at(ps, ps->p, CT_E_SYNTAX, "expected ':' after the member name");
                    return NULL;
                }
                ps->p++;
                push(ps, k);
            }
            skip_ws(ps);
            struct ct_node *v = parse_value(ps);
            if (!v)
                return NULL;
            push(ps, v);
            skip_ws(ps);
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == close) {
                ps->p++;
                break;
            }
            fail_at(ps, ps->p, CT_E_SYNTAX,
                    is_obj ? "expected ',' or '}' after a member" : "expected ',' or ']' after an item");
            return NULL;
        }
    }
    size_t count = ps->nstack - base;
    if (is_obj) {
        n->len = (uint32_t)(count / 2);
        struct ct_member *m = ct_arena_alloc(ps->arena, ct__obj_members_size(n->len));
        for (size_t i = 0; i < n->len; i++) {
            m[i].key = ps->stack[base + 2 * i];
            m[i].val = ps->stack[base + 2 * i + 1];
        }
        n->u.members = m;
        ps->nstack = base;
        check_duplicates(ps, n);
        if (ps->failed)
            return NULL;
    } else {
        n->len = (uint32_t)count;
        struct ct_node **items = ct_arena_alloc(ps->arena, (count ? count : 1) * sizeof(*items));
        if (count)
            memcpy(items, ps->stack + base, count * sizeof(*items));
        n->u.items = items;
        ps->nstack = base;
    }
    ps->depth--;
    return n;
}

static struct ct_node *parse_value(struct parser *ps)
{
    const char *at = ps->p;
    switch (*at) {
    case '{':
        return parse_container(ps, true);
    case '[':
        return parse_container(ps, false);
    case '"':
        return parse_string(ps);
    case 't':
        if (lit(ps, "true", 4)) {
            struct ct_node *n = new_node(ps, CT_BOOL, at);
            n->flags = CT_NF_TRUE;
            return n;
        }
        break;
    case 'f':
        if (lit(ps, "false", 5))
            return new_node(ps, CT_BOOL, at);
        break;
    case 'n':
        if (lit(ps, "null", 4))
            return new_node(ps, CT_NULL, at);
        break;
    default:
        if (*at == '-' || (*at >= '0' && *at <= '9'))
            return parse_number(ps);
        break;
    }
    fail_at(ps, at, CT_E_SYNTAX, "expected a JSON value (object, array, string, number, "
                                 "true, false or null)");
    return NULL;
}

/* --- duplicate keys ---------------------------------------------------------------------- */

static void check_duplicates(struct parser *ps, struct ct_node *obj)
{
    long first = -1;
    long d = ct__obj_finish(obj, &first);
    if (d < 0)
        return;
    const struct ct_node *k = obj->u.members[d].key;
    const struct ct_node *f = obj->u.members[first].key;
    ps->failed = true;
    struct ct_diag *g = ct_diags_add(ps->diags, CT_SEV_ERROR, CT_E_DUPKEY, ps->src, k->line, k->col,
                                     "duplicate key '%s': expected each key once per object",
                                     k->u.str);
    ct_diag_set_hint(g, "first defined at line %u, column %u", f->line, f->col);
}

/* --- entry points --------------------------------------------------------------------------- */

struct ct_node *ct_json_parse(struct ct_arena *arena, const struct ct_source *src,
                              const struct ct_parse_limits *lim, struct ct_diags *diags)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : (size_t)64 << 20;
    struct parser ps = {
        .arena = arena,
        .src = src,
        .diags = diags,
        .p = src->text,
        .end = src->text + src->len,
        .line_start = src->text,
        .line = 1,
        .max_depth = lim && lim->max_depth ? lim->max_depth : 256,
        .intern = lim && lim->intern_strings && src->len >= INTERN_MIN_INPUT,
    };
    ps.stack = ps.small;
    ps.capstack = sizeof(ps.small) / sizeof(ps.small[0]);
    if (src->len > max_bytes) {
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_TOOBIG, src, 0, 0,
                     "document is %zu bytes: expected at most %zu", src->len, max_bytes);
        return NULL;
    }
    /* A UTF-8 byte order mark is tolerated at the very start. */
    if (src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3, ps.line_start += 3;
    skip_ws(&ps);
    struct ct_node *root = parse_value(&ps);
    if (root) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            fail_at(&ps, ps.p, CT_E_SYNTAX, "expected end of input after the JSON value");
            root = NULL;
        }
    }
    if (ps.stack != ps.small)
        ct_free(ps.stack);
    ct_free(ps.keys);
    return root;
}

struct ct_node *ct_doc_parse(struct ct_arena *arena, const struct ct_source *src,
                             const struct ct_parse_limits *lim, struct ct_diags *diags)
{
    size_t i = 0;
    if (src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < src->len && (src->text[i] == ' ' || src->text[i] == '\t' || src->text[i] == '\n' ||
                            src->text[i] == '\r'))
        i++;
    if (i < src->len && (src->text[i] == '{' || src->text[i] == '['))
        return ct_json_parse(arena, src, lim, diags);
    return ct_yaml_parse(arena, src, lim, diags);
}

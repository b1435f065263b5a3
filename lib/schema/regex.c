/* regex.c - ECMAScript regular expressions (`pattern`, `patternProperties`, format "regex") on
 * top of PCRE2.
 *
 * JSON Schema patterns are ECMA-262 regular expressions with Unicode semantics. PCRE2 in UTF mode
 * without PCRE2_UCP already gives ECMAScript's ASCII-only \d, \w and \b; what differs is
 * translated here: \s (Unicode spaces in ECMAScript), \v, \0, \uXXXX (with surrogate pairs),
 * \u{...}, `[^]`/`[]`, and `$`, which must not match before a final newline (DOLLAR_ENDONLY).
 * Syntax that ECMAScript rejects but PCRE2 accepts (`\a`, `\Z`, `(?i)`, `(?P<n>)`, `(?#...)`)
 * is rejected. Patterns are compiled once with JIT when available and a match limit, so a
 * hostile pattern fails the match instead of hanging a thread. This is the only file that
 * includes pcre2.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "schema_impl.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <pcre2.h>
#include <string.h>

/* Backtracking budget per match: generous for real patterns, small enough that a catastrophic
 * pattern gives up in milliseconds. */
#define MATCH_LIMIT 200000u
#define DEPTH_LIMIT 5000u

static const char SPACE_CLASS_BODY[] = "\\p{Xps}\\x{feff}";

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexv(p[i]);
        if (h < 0)
            return false;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return true;
}

/* ECMAScript accepts long General_Category names; PCRE2 10.42 wants the short ones. */
static const char *property_alias(const char *name, size_t len)
{
    static const char *const map[][2] = {
        {"Letter", "L"}, {"Cased_Letter", "LC"}, {"Uppercase_Letter", "Lu"},
        {"Lowercase_Letter", "Ll"}, {"Titlecase_Letter", "Lt"}, {"Modifier_Letter", "Lm"},
        {"Other_Letter", "Lo"}, {"Mark", "M"}, {"Nonspacing_Mark", "Mn"},
        {"Spacing_Mark", "Mc"}, {"Enclosing_Mark", "Me"}, {"Number", "N"},
        {"Decimal_Number", "Nd"}, {"digit", "Nd"}, {"Letter_Number", "Nl"},
        {"Other_Number", "No"}, {"Punctuation", "P"}, {"punct", "P"},
        {"Connector_Punctuation", "Pc"}, {"Dash_Punctuation", "Pd"},
        {"Open_Punctuation", "Ps"}, {"Close_Punctuation", "Pe"},
        {"Initial_Punctuation", "Pi"}, {"Final_Punctuation", "Pf"},
        {"Other_Punctuation", "Po"}, {"Symbol", "S"}, {"Math_Symbol", "Sm"},
        {"Currency_Symbol", "Sc"}, {"Modifier_Symbol", "Sk"}, {"Other_Symbol", "So"},
        {"Separator", "Z"}, {"Space_Separator", "Zs"}, {"Line_Separator", "Zl"},
        {"Paragraph_Separator", "Zp"}, {"Other", "C"}, {"Control", "Cc"}, {"cntrl", "Cc"},
        {"Format", "Cf"}, {"Surrogate", "Cs"}, {"Private_Use", "Co"}, {"Unassigned", "Cn"},
    };
    static _Thread_local char buf[64];
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i][0]) == len && !memcmp(map[i][0], name, len))
            return map[i][1];
    size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
    memcpy(buf, name, n);
    buf[n] = 0;
    return buf;
}

char *ct__regex_translate(const char *src, size_t len, const char **err)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    const char *p = src, *end = src + len;
    bool in_class = false;
    *err = NULL;
    while (p < end) {
        char c = *p;
        if (c == '\\') {
            if (p + 1 >= end) {
                *err = "a pattern must not end with a lone backslash";
                goto fail;
            }
            char e = p[1];
            p += 2;
            switch (e) {
            case 's':
            case 'S':
                if (in_class) {
                    ct_buf_adds(&b, e == 's' ? SPACE_CLASS_BODY : "\\P{Xps}");
                } else {
                    ct_buf_adds(&b, e == 's' ? "[" : "[^");
                    ct_buf_adds(&b, SPACE_CLASS_BODY);
                    ct_buf_addc(&b, ']');
                }
                break;
            case 'v':
                ct_buf_adds(&b, "\\x{0b}");
                break;
            case '0':
                if (p < end && *p >= '0' && *p <= '9') {
                    *err = "octal escapes are not allowed in ECMAScript patterns";
                    goto fail;
                }
                ct_buf_adds(&b, "\\x{00}");
                break;
            case 'u': {
                unsigned cp;
                if (p < end && *p == '{') {
                    const char *q = p + 1;
                    cp = 0;
                    while (q < end && hexv(*q) >= 0 && cp <= 0x10FFFF)
                        cp = cp * 16 + (unsigned)hexv(*q++);
                    if (q >= end || *q != '}' || q == p + 1 || cp > 0x10FFFF) {
                        *err = "expected \\u{hex digits} with a code point up to 10FFFF";
                        goto fail;
                    }
                    p = q + 1;
                } else if (hex4(p, end, &cp)) {
                    p += 4;
                    unsigned lo;
                    if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' &&
                        p[1] == 'u' && hex4(p + 2, end, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        p += 6;
                    }
                } else {
                    *err = "expected four hex digits after \\u";
                    goto fail;
                }
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    *err = "a lone surrogate cannot be matched in UTF-8 text";
                    goto fail;
                }
                ct_buf_printf(&b, "\\x{%x}", cp);
                break;
            }
            case 'c':
                if (p >= end || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
                    *err = "expected a letter after \\c";
                    goto fail;
                }
                ct_buf_printf(&b, "\\x{%x}", (unsigned)(*p & 31));
                p++;
                break;
            case 'x':
                if (end - p < 2 || hexv(p[0]) < 0 || hexv(p[1]) < 0) {
                    *err = "expected two hex digits after \\x";
                    goto fail;
                }
                ct_buf_printf(&b, "\\x{%c%c}", p[0], p[1]);
                p += 2;
                break;
            case 'p':
            case 'P':
                if (p < end && *p == '{') {
                    const char *close = memchr(p, '}', (size_t)(end - p));
                    if (!close) {
                        *err = "expected '}' after \\p{";
                        goto fail;
                    }
                    const char *name = p + 1;
                    size_t nl = (size_t)(close - name);
                    const char *eq = memchr(name, '=', nl);
                    if (eq) { /* Script=Greek, General_Category=Letter, sc=.., gc=.. */
                        nl -= (size_t)(eq + 1 - name);
                        name = eq + 1;
                    }
                    ct_buf_printf(&b, "\\%c{%s}", e, property_alias(name, nl));
                    p = close + 1;
                    break;
                }
                *err = "expected '{' after \\p";
                goto fail;
            case 'd': case 'D': case 'w': case 'W': case 'b': case 'B':
            case 'n': case 'r': case 't': case 'f': case 'k':
                if (in_class && (e == 'b' || e == 'B' || e == 'k')) {
                    if (e != 'b') {
                        *err = "escape not allowed in a character class";
                        goto fail;
                    }
                    ct_buf_adds(&b, "\\x{08}"); /* [\b] is backspace */
                    break;
                }
                ct_buf_addc(&b, '\\');
                ct_buf_addc(&b, e);
                break;
            default:
                if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
                    *err = "unknown escape: ECMAScript patterns allow \\d \\D \\w \\W \\s \\S "
                           "\\b \\B \\n \\r \\t \\v \\f \\cX \\xHH \\uHHHH \\p{..} \\k<..>";
                    goto fail;
                }
                /* Back references and identity escapes of punctuation pass as they are. */
                ct_buf_addc(&b, '\\');
                ct_buf_addc(&b, e);
                break;
            }
            continue;
        }
        if (in_class) {
            if (c == ']')
                in_class = false;
            else if (c == '[')
                ct_buf_addc(&b, '\\'); /* a literal '[' in a class; PCRE2 reads [: as POSIX */
            ct_buf_addc(&b, c);
            p++;
            continue;
        }
        if (c == '[') {
            if (end - p >= 3 && p[1] == '^' && p[2] == ']') {
                ct_buf_adds(&b, "[\\s\\S]");
                p += 3;
                continue;
            }
            if (end - p >= 2 && p[1] == ']') {
                ct_buf_adds(&b, "(?!)");
                p += 2;
                continue;
            }
            in_class = true;
            ct_buf_addc(&b, '[');
            p++;
            if (p < end && *p == '^') {
                ct_buf_addc(&b, '^');
                p++;
            }
            /* In ECMAScript a ']' right after '[' or '[^' closes the class; PCRE2 would take
             * it literally. Both cases were handled above for the whole class. */
            continue;
        }
        if (c == '(' && end - p >= 2 && p[1] == '?') {
            /* ECMAScript group forms: (?: (?= (?! (?<= (?<! (?<name> */
            const char *q = p + 2;
            bool ok = q < end && (*q == ':' || *q == '=' || *q == '!');
            if (!ok && q < end && *q == '<') {
                ok = q + 1 < end && (q[1] == '=' || q[1] == '!' ||
                                     ((q[1] >= 'a' && q[1] <= 'z') ||
                                      (q[1] >= 'A' && q[1] <= 'Z') || q[1] == '_' || q[1] == '$'));
            }
            if (!ok) {
                *err = "unsupported group: ECMAScript allows (?: (?= (?! (?<= (?<! and "
                       "(?<name>";
                goto fail;
            }
        }
        ct_buf_addc(&b, c);
        p++;
    }
    if (in_class) {
        *err = "missing ']' to close a character class";
        goto fail;
    }
    ct_buf_addc(&b, 0);
    b.len--;
    return ct_buf_steal(&b, NULL);
fail:
    ct_buf_deinit(&b);
    return NULL;
}

static pcre2_match_context *shared_mctx(void)
{
    /* One match context with the limits, created once; contexts are read-only during
     * matching, so sharing it between threads is safe. */
    static pcre2_match_context *mctx;
    if (!mctx) {
        pcre2_match_context *m = pcre2_match_context_create(NULL);
        pcre2_set_match_limit(m, MATCH_LIMIT);
        pcre2_set_depth_limit(m, DEPTH_LIMIT);
        mctx = m;
    }
    return mctx;
}

int ct__regex_compile(struct ct_regex *re, const char *src, size_t len, char **msg,
                      size_t *offset)
{
    memset(re, 0, sizeof(*re));
    const char *terr;
    char *pat = ct__regex_translate(src, len, &terr);
    if (!pat) {
        *msg = ct_xstrdup(terr);
        *offset = 0;
        return -1;
    }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_DOLLAR_ENDONLY,
                                     &ec, &eo, NULL);
    ct_free(pat);
    if (!code) {
        PCRE2_UCHAR ebuf[256];
        pcre2_get_error_message(ec, ebuf, sizeof(ebuf));
        *msg = ct_xstrdup((const char *)ebuf);
        *offset = eo;
        return -1;
    }
    re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    re->code = code;
    (void)shared_mctx();
    return 0;
}

int ct__regex_compile_native(struct ct_regex *re, const char *src, size_t len, char **msg,
                             size_t *offset)
{
    memset(re, 0, sizeof(*re));
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)src, len, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &ec,
                                     &eo, NULL);
    if (!code) {
        PCRE2_UCHAR ebuf[256];
        pcre2_get_error_message(ec, ebuf, sizeof(ebuf));
        *msg = ct_xstrdup((const char *)ebuf);
        *offset = eo;
        return -1;
    }
    re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    re->code = code;
    (void)shared_mctx();
    return 0;
}

void ct__regex_free(struct ct_regex *re)
{
    if (re && re->code) {
        pcre2_code_free(re->code);
        re->code = NULL;
    }
}

void *ct__regex_md_new(void)
{
    (void)shared_mctx();
    return pcre2_match_data_create(1, NULL);
}

void ct__regex_md_free(void *md)
{
    if (md)
        pcre2_match_data_free(md);
}

int ct__regex_match(const struct ct_regex *re, void *md, const char *s, size_t len)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, md, shared_mctx());
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return -1;
}

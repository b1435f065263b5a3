/* format.c - checkers for the `format` keyword.
 *
 * Each checker takes the string's bytes (valid UTF-8, from the parser) and says whether it is a
 * valid instance of the format, following the RFCs the JSON Schema specification names: RFC 3339
 * (date-time, date, time, duration in appendix A), RFC 5321/6531 (email, idn-email), RFC 1123 and
 * IDNA 2008 (hostname, idn-hostname; the IDNA rules are approximated with Unicode properties from
 * PCRE2 where a full table would be needed), RFC 2673/4291 (ipv4, ipv6), RFC 3986/3987 (uri,
 * uri-reference, iri, iri-reference), RFC 4122 (uuid), RFC 6901 (json-pointer), the
 * relative-json-pointer draft, RFC 6570 (uri-template) and ECMA-262 (regex). Unknown formats are
 * not checked (ct__format_lookup returns NULL). */
#include "schema_impl.h"

#include "core/alloc.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    /* A table: uuid and ipv6 checks call this for every character. */
    static const unsigned char hex[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
        ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    };
    return hex[(unsigned char)c];
}

static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Decode one UTF-8 sequence (input is valid UTF-8). */
static uint32_t utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    size_t left = len - *i;
    if (p[0] < 0x80 || left < 2) {
        (*i)++;
        return p[0];
    }
    if ((p[0] & 0xE0) == 0xC0) {
        *i += 2;
        return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if ((p[0] & 0xF0) == 0xE0 && left >= 3) {
        *i += 3;
        return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    if (left >= 4) {
        *i += 4;
        return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
               ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
    (*i)++;
    return 0xFFFD;
}

/* --- dates and times (RFC 3339) ------------------------------------------------------------ */

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool check_date(const char *s, size_t len)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1)
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max = mdays[m - 1] + (m == 2 && leap(y));
    return d <= max;
}

static bool check_time(const char *s, size_t len)
{
    if (len < 9 || s[2] != ':' || s[5] != ':')
        return false;
    int h = digits(s, 2), mi = digits(s + 3, 2), se = digits(s + 6, 2);
    if (h < 0 || mi < 0 || se < 0 || h > 23 || mi > 59 || se > 60)
        return false;
    size_t i = 8;
    if (i < len && s[i] == '.') {
        i++;
        size_t st = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == st)
            return false;
    }
    if (i >= len)
        return false; /* RFC 3339 requires an offset */
    int oh = 0, om = 0, sign = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        sign = s[i] == '+' ? 1 : -1;
        if (len - i != 6 || s[i + 3] != ':')
            return false;
        oh = digits(s + i + 1, 2);
        om = digits(s + i + 4, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return false;
        i += 6;
    } else {
        return false;
    }
    if (i != len)
        return false;
    if (se == 60) {
        /* A leap second is only valid at 23:59:60 UTC. */
        int utc = (h * 60 + mi - sign * (oh * 60 + om)) % 1440;
        if (utc < 0)
            utc += 1440;
        return utc == 23 * 60 + 59;
    }
    return true;
}

static bool check_date_time(const char *s, size_t len)
{
    if (len < 20 || (s[10] != 'T' && s[10] != 't'))
        return false;
    return check_date(s, 10) && check_time(s + 11, len - 11);
}

/* RFC 3339 appendix A: P(nY(nM(nD)?)?|nM(nD)?|nD)(T...)? | PT... | PnW */
static bool check_duration(const char *s, size_t len)
{
    if (len < 2 || s[0] != 'P')
        return false;
    size_t i = 1;
    static const char date_units[] = "YMD", time_units[] = "HMS";
    int last = -1;
    bool any = false, in_time = false;
    while (i < len) {
        if (s[i] == 'T') {
            if (in_time)
                return false;
            in_time = true;
            last = -1;
            i++;
            if (i == len)
                return false;
            continue;
        }
        size_t st = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == st || i == len)
            return false;
        char u = s[i++];
        if (u == 'W') {
            if (any || in_time || i != len)
                return false;
            return true;
        }
        const char *units = in_time ? time_units : date_units;
        const char *pos = strchr(units, u);
        if (!pos || !u)
            return false;
        int idx = (int)(pos - units);
        if (last >= 0 && idx != last + 1)
            return false;
        last = idx;
        any = true;
    }
    return any && !(in_time && last < 0);
}

/* --- network names and addresses ----------------------------------------------------------- */

static bool check_ipv4(const char *s, size_t len)
{
    int parts = 0;
    size_t i = 0;
    while (i <= len) {
        size_t st = i;
        while (i < len && is_digit(s[i]))
            i++;
        size_t n = i - st;
        if (n == 0 || n > 3 || (n > 1 && s[st] == '0'))
            return false;
        if (digits(s + st, n) > 255)
            return false;
        parts++;
        if (i == len)
            break;
        if (s[i] != '.' || parts == 4)
            return false;
        i++;
    }
    return parts == 4;
}

static bool check_ipv6(const char *s, size_t len)
{
    if (len < 2 || len > 45)
        return false;
    int groups = 0;
    bool dbl = false;
    size_t i = 0;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        dbl = true;
        i = 2;
        if (i == len)
            return true;
    }
    while (i < len) {
        size_t st = i;
        while (i < len && is_hex(s[i]))
            i++;
        size_t n = i - st;
        if (i < len && s[i] == '.') {
            /* Embedded IPv4 as the last 32 bits. */
            if (!check_ipv4(s + st, len - st))
                return false;
            groups += 2;
            i = len;
            break;
        }
        if (n == 0 || n > 4)
            return false;
        groups++;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (dbl)
                return false;
            dbl = true;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return false;
        }
    }
    return dbl ? groups < 8 : groups == 8;
}

/* Punycode (RFC 3492) decoding into code points; false on malformed input. */
static bool punycode_decode(const char *in, size_t len, uint32_t *out, size_t *outlen, size_t cap)
{
    size_t b = 0;
    for (size_t j = 0; j < len; j++)
        if (in[j] == '-')
            b = j;
    size_t n = 0;
    if (b > 0) {
        for (size_t j = 0; j < b; j++) {
            if ((unsigned char)in[j] >= 0x80 || n >= cap)
                return false;
            out[n++] = (unsigned char)in[j];
        }
    }
    uint32_t code = 128, bias = 72, i = 0;
    size_t p = b > 0 ? b + 1 : 0;
    if (b == 0 && len && in[0] == '-')
        return false; /* a delimiter with no basic code points is not canonical Punycode */
    while (p < len) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = 36;; k += 36) {
            if (p >= len)
                return false;
            char c = in[p++];
            uint32_t digit;
            if (c >= 'a' && c <= 'z')
                digit = (uint32_t)(c - 'a');
            else if (c >= 'A' && c <= 'Z')
                digit = (uint32_t)(c - 'A');
            else if (c >= '0' && c <= '9')
                digit = (uint32_t)(c - '0' + 26);
            else
                return false;
            if (digit > (0x7FFFFFFFu - i) / w)
                return false;
            i += digit * w;
            uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
            if (digit < t)
                break;
            if (w > 0x7FFFFFFFu / (36 - t))
                return false;
            w *= 36 - t;
        }
        uint32_t delta = i - oldi, numpoints = (uint32_t)n + 1;
        delta = oldi == 0 ? delta / 700 : delta / 2;
        delta += delta / numpoints;
        uint32_t k = 0;
        while (delta > ((36 - 1) * 26) / 2) {
            delta /= 35;
            k += 36;
        }
        bias = k + (36 * delta) / (delta + 38);
        if (i / numpoints > 0x10FFFF - code)
            return false;
        code += i / numpoints;
        i %= numpoints;
        if (n >= cap || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return false;
        memmove(out + i + 1, out + i, (n - i) * sizeof(*out));
        out[i++] = code;
        n++;
    }
    *outlen = n;
    return true;
}

bool ct__idna_label_ok(const uint32_t *cp, size_t n); /* idna.c */
bool ct__idna_is_rtl(uint32_t c);

static bool check_ascii_label(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
            return false;
    if (n >= 4 && s[2] == '-' && s[3] == '-') {
        if ((s[0] != 'x' && s[0] != 'X') || (s[1] != 'n' && s[1] != 'N'))
            return false; /* "--" in positions 3-4 is reserved for A-labels */
        uint32_t cp[64];
        size_t ncp;
        if (!punycode_decode(s + 4, n - 4, cp, &ncp, 64) || ncp == 0)
            return false;
        bool ascii = true;
        for (size_t i = 0; i < ncp; i++)
            ascii &= cp[i] < 0x80;
        if (ascii || (ncp >= 4 && cp[2] == '-' && cp[3] == '-'))
            return false;
        return ct__idna_label_ok(cp, ncp);
    }
    return true;
}

/* Draft 4 and 6 name RFC 1123 only: "--" anywhere is fine and A-labels are not decoded. */
static bool check_hostname_rfc1123(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t st = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            size_t n = i - st;
            if (n == 0 || n > 63 || s[st] == '-' || s[i - 1] == '-')
                return false;
            for (size_t k = st; k < i; k++)
                if (!is_alpha(s[k]) && !is_digit(s[k]) && s[k] != '-')
                    return false;
            st = i + 1;
        }
    }
    return true;
}

static bool check_hostname(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t st = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!check_ascii_label(s + st, i - st))
                return false;
            st = i + 1;
        }
    }
    return true;
}

/* Punycode encoding length of a label, to enforce the 63-octet A-label limit. */
static size_t punycode_len(const uint32_t *cp, size_t n)
{
    size_t basic = 0;
    for (size_t i = 0; i < n; i++)
        basic += cp[i] < 0x80;
    size_t out = basic + (basic ? 1 : 0);
    uint32_t code = 128, delta = 0, bias = 72;
    size_t h = basic;
    while (h < n) {
        uint32_t m = 0x110000;
        for (size_t i = 0; i < n; i++)
            if (cp[i] >= code && cp[i] < m)
                m = cp[i];
        delta += (m - code) * (uint32_t)(h + 1);
        code = m;
        for (size_t i = 0; i < n; i++) {
            if (cp[i] < code)
                delta++;
            if (cp[i] == code) {
                uint32_t q = delta;
                for (uint32_t k = 36;; k += 36) {
                    uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                    if (q < t)
                        break;
                    out++;
                    q = (q - t) / (36 - t);
                }
                out++;
                uint32_t d = h == basic ? delta / 700 : delta / 2;
                d += d / (uint32_t)(h + 1);
                uint32_t k = 0;
                while (d > 455) {
                    d /= 35;
                    k += 36;
                }
                bias = k + (36 * d) / (d + 38);
                delta = 0;
                h++;
            }
        }
        delta++;
        code++;
    }
    return out + 4; /* "xn--" */
}

static bool check_idn_hostname(const char *s, size_t len)
{
    if (len == 0)
        return false;
    uint32_t cp[256];
    size_t ncp = 0, total = 0;
    size_t i = 0;
    bool rtl_domain = false, digit_first = false;
    while (i <= len) {
        uint32_t c = 0;
        size_t prev = i;
        if (i < len)
            c = utf8_next(s, len, &i);
        bool sep = i > len || prev == len || c == '.' || c == 0x3002 || c == 0xFF0E ||
                   c == 0xFF61;
        if (prev == len)
            i = len + 1;
        if (!sep) {
            if (ncp >= 256)
                return false;
            cp[ncp++] = c;
            continue;
        }
        if (ncp == 0)
            return false;
        bool ascii = true;
        for (size_t k = 0; k < ncp; k++)
            ascii &= cp[k] < 0x80;
        if (ascii) {
            char lab[256];
            for (size_t k = 0; k < ncp; k++)
                lab[k] = (char)cp[k];
            if (!check_ascii_label(lab, ncp))
                return false;
            total += ncp + 1;
        } else {
            if (ncp > 63 || cp[0] == '-' || cp[ncp - 1] == '-')
                return false;
            if (ncp >= 4 && cp[2] == '-' && cp[3] == '-')
                return false;
            size_t alen = punycode_len(cp, ncp);
            if (alen > 63)
                return false;
            if (!ct__idna_label_ok(cp, ncp))
                return false;
            total += alen + 1;
        }
        for (size_t k = 0; k < ncp; k++)
            rtl_domain |= ct__idna_is_rtl(cp[k]);
        digit_first |= cp[0] >= '0' && cp[0] <= '9';
        ncp = 0;
    }
    /* RFC 5893: in a domain with right-to-left labels every label must start with a letter. */
    if (rtl_domain && digit_first)
        return false;
    return total - 1 <= 253;
}

static bool atext(unsigned char c)
{
    return is_alpha((char)c) || is_digit((char)c) || strchr("!#$%&'*+-/=?^_`{|}~", c) || c >= 0x80;
}

static bool check_email_impl(const char *s, size_t len, bool idn)
{
    /* Split at the last '@' outside a quoted local part. */
    size_t i = 0;
    if (len == 0)
        return false;
    if (s[0] == '"') {
        i = 1;
        while (i < len && s[i] != '"') {
            if (s[i] == '\\')
                i++;
            i++;
        }
        if (i >= len)
            return false;
        i++;
    } else {
        size_t st = 0;
        while (i < len && s[i] != '@') {
            if (s[i] == '.') {
                if (i == st || i + 1 >= len || s[i + 1] == '.' || s[i + 1] == '@')
                    return false;
            } else if (!atext((unsigned char)s[i]) || (!idn && (unsigned char)s[i] >= 0x80)) {
                return false;
            }
            i++;
        }
        if (i == 0)
            return false;
    }
    if (i >= len || s[i] != '@')
        return false;
    const char *d = s + i + 1;
    size_t dl = len - i - 1;
    if (dl == 0)
        return false;
    if (d[0] == '[') {
        if (d[dl - 1] != ']')
            return false;
        if (dl > 6 && !memcmp(d + 1, "IPv6:", 5))
            return check_ipv6(d + 6, dl - 7);
        return check_ipv4(d + 1, dl - 2);
    }
    return idn ? check_idn_hostname(d, dl) : check_hostname(d, dl);
}

static bool check_email(const char *s, size_t len)
{
    return check_email_impl(s, len, false);
}

static bool check_idn_email(const char *s, size_t len)
{
    return check_email_impl(s, len, true);
}

/* --- identifiers ----------------------------------------------------------------------------- */

#ifdef __SSE2__
/* Bit i set when byte i of the 16 at p is a hex digit. */
static unsigned hex16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* digits on the byte itself; letters after folding to lower case (only A-F and a-f land
     * in a-f). Signed compares: bytes >= 0x80 are negative and fail both. */
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i low = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(low, _mm_set1_epi8('a' - 1)),
                                  _mm_cmplt_epi8(low, _mm_set1_epi8('f' + 1)));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(digit, alpha));
}
#endif

static bool check_uuid(const char *s, size_t len)
{
    if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
#ifdef __SSE2__
    /* Bytes 0-15, 16-31 and 20-35: every position but the four dashes is a hex digit. */
    return (hex16(s) | 1u << 8 | 1u << 13) == 0xFFFF &&
           (hex16(s + 16) | 1u << (18 - 16) | 1u << (23 - 16)) == 0xFFFF &&
           (hex16(s + 20) | 1u << (23 - 20)) == 0xFFFF;
#else
    /* No branch per character: the digits are ANDed together. */
    static const unsigned char at[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11,
                                         12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25,
                                         26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
    bool ok = true;
    for (size_t i = 0; i < 32; i++)
        ok &= is_hex(s[at[i]]);
    return ok;
#endif
}

static bool check_json_pointer(const char *s, size_t len)
{
    if (len && s[0] != '/')
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
            return false;
    return true;
}

static bool check_rel_json_pointer(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_digit(s[i]))
        i++;
    if (i == 0 || (i > 1 && s[0] == '0'))
        return false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        size_t st = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == st || (i - st > 1 && s[st] == '0') || (i - st == 1 && s[st] == '0'))
            return false;
    }
    if (i == len)
        return true;
    if (s[i] == '#')
        return i + 1 == len;
    return check_json_pointer(s + i, len - i);
}

/* RFC 3986 / 3987 generic syntax. iri allows non-ASCII characters. */
static bool uri_chars(const char *s, size_t len, const char *extra, bool iri)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len + 0 || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 2;
            continue;
        }
        if (c >= 0x80) {
            if (!iri)
                return false;
            continue;
        }
        if (is_alpha((char)c) || is_digit((char)c) || strchr("-._~!$&'()*+,;=", c) ||
            (c && strchr(extra, c)))
            continue;
        return false;
    }
    return true;
}

static bool check_uri_ref_impl(const char *s, size_t len, bool need_scheme, bool iri)
{
    size_t i = 0;
    if (len && is_alpha(s[0])) {
        size_t j = 1;
        while (j < len && (is_alpha(s[j]) || is_digit(s[j]) || s[j] == '+' || s[j] == '-' ||
                           s[j] == '.'))
            j++;
        if (j < len && s[j] == ':')
            i = j + 1;
    }
    if (need_scheme && i == 0)
        return false;
    const char *hier = s + i;
    size_t rest = len - i;
    size_t q = 0;
    while (q < rest && hier[q] != '?' && hier[q] != '#')
        q++;
    const char *path = hier;
    size_t plen = q;
    if (plen >= 2 && hier[0] == '/' && hier[1] == '/') {
        size_t a = 2;
        while (a < plen && hier[a] != '/')
            a++;
        const char *auth = hier + 2;
        size_t alen = a - 2;
        /* userinfo@host:port */
        const char *at = memchr(auth, '@', alen);
        const char *host = at ? at + 1 : auth;
        size_t hlen = alen - (size_t)(host - auth);
        if (at && !uri_chars(auth, (size_t)(at - auth), ":", iri))
            return false;
        if (hlen && host[0] == '[') {
            const char *close = memchr(host, ']', hlen);
            if (!close)
                return false;
            size_t il = (size_t)(close - host - 1);
            if (il > 1 && (host[1] == 'v' || host[1] == 'V')) {
                /* IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
                size_t k = 2;
                while (k <= il && is_hex(host[k]))
                    k++;
                if (k == 2 || k > il || host[k] != '.' || k == il)
                    return false;
                if (!uri_chars(host + k + 1, il - k, ":", false))
                    return false;
            } else if (!check_ipv6(host + 1, il)) {
                return false;
            }
            size_t after = (size_t)(close - host) + 1;
            if (after < hlen && host[after] != ':')
                return false;
            for (size_t k = after + 1; k < hlen; k++)
                if (!is_digit(host[k]))
                    return false;
        } else {
            const char *colon = memchr(host, ':', hlen);
            size_t hl = colon ? (size_t)(colon - host) : hlen;
            if (!uri_chars(host, hl, "", iri))
                return false;
            if (colon)
                for (size_t k = hl + 1; k < hlen; k++)
                    if (!is_digit(host[k]))
                        return false;
        }
        path = hier + a;
        plen -= a;
    }
    if (!uri_chars(path, plen, ":@/", iri))
        return false;
    if (i == 0 && plen) {
        /* A relative reference's first segment must not contain ':'. */
        const char *slash = memchr(path, '/', plen);
        size_t seg = slash ? (size_t)(slash - path) : plen;
        if (memchr(path, ':', seg))
            return false;
    }
    const char *tail = hier + q;
    size_t tlen = rest - q;
    if (tlen && tail[0] == '?') {
        size_t f = 1;
        while (f < tlen && tail[f] != '#')
            f++;
        if (!uri_chars(tail + 1, f - 1, ":@/?", iri))
            return false;
        tail += f;
        tlen -= f;
    }
    if (tlen && tail[0] == '#' && !uri_chars(tail + 1, tlen - 1, ":@/?", iri))
        return false;
    return true;
}

static bool check_uri(const char *s, size_t len)
{
    return check_uri_ref_impl(s, len, true, false);
}

static bool check_uri_reference(const char *s, size_t len)
{
    return check_uri_ref_impl(s, len, false, false);
}

static bool check_iri(const char *s, size_t len)
{
    return check_uri_ref_impl(s, len, true, true);
}

static bool check_iri_reference(const char *s, size_t len)
{
    return check_uri_ref_impl(s, len, false, true);
}

/* RFC 6570 level 4 syntax. */
static bool check_uri_template(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '{') {
            i++;
            if (i < len && strchr("+#./;?&", s[i]) && s[i])
                i++;
            for (;;) {
                /* varname: varchar *( ["."] varchar ), varchar = ALPHA / DIGIT / "_" / pct */
                size_t st = i;
                bool dot = true;
                while (i < len) {
                    if (s[i] == '%') {
                        if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                            return false;
                        i += 3;
                        dot = false;
                    } else if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_') {
                        i++;
                        dot = false;
                    } else if (s[i] == '.' && !dot) {
                        i++;
                        dot = true;
                    } else {
                        break;
                    }
                }
                if (i == st || dot)
                    return false;
                if (i < len && s[i] == ':') {
                    size_t ds = ++i;
                    while (i < len && is_digit(s[i]))
                        i++;
                    if (i == ds || i - ds > 4 || s[ds] == '0')
                        return false;
                } else if (i < len && s[i] == '*') {
                    i++;
                }
                if (i < len && s[i] == ',') {
                    i++;
                    continue;
                }
                break;
            }
            if (i >= len || s[i] != '}')
                return false;
            i++;
            continue;
        }
        if (c == '%') {
            if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 3;
            continue;
        }
        if (c <= 0x20 || c == 0x7f || strchr("\"<>\\^`{|}", c))
            return false;
        i++;
    }
    return true;
}

static bool check_regex(const char *s, size_t len)
{
    struct ct_regex re;
    char *msg = NULL;
    size_t off;
    if (ct__regex_compile(&re, s, len, &msg, &off) == 0) {
        ct__regex_free(&re);
        return true;
    }
    /* PCRE2 before 10.43 rejects variable-length lookbehind, which ECMAScript allows. */
    bool lookbehind = msg && strstr(msg, "lookbehind");
    ct_free(msg);
    return lookbehind;
}

static const struct {
    const char *name;
    ct_format_fn fn;
} formats[] = {
    {"date-time", check_date_time},
    {"date", check_date},
    {"time", check_time},
    {"duration", check_duration},
    {"email", check_email},
    {"idn-email", check_idn_email},
    {"hostname", check_hostname},
    {"hostname-rfc1123", check_hostname_rfc1123}, /* internal: draft 4 and 6 */
    {"idn-hostname", check_idn_hostname},
    {"ipv4", check_ipv4},
    {"ipv6", check_ipv6},
    {"uri", check_uri},
    {"uri-reference", check_uri_reference},
    {"iri", check_iri},
    {"iri-reference", check_iri_reference},
    {"uri-template", check_uri_template},
    {"uuid", check_uuid},
    {"json-pointer", check_json_pointer},
    {"relative-json-pointer", check_rel_json_pointer},
    {"regex", check_regex},
};

ct_format_fn ct__format_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (!strcmp(formats[i].name, name))
            return formats[i].fn;
    return NULL;
}

int ct_format_check(const char *format, const char *s, size_t len)
{
    ct_format_fn fn = ct__format_lookup(format);
    if (!fn)
        return -1;
    return fn(s, len) ? 1 : 0;
}

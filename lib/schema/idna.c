/* idna.c - the parts of IDNA 2008 (RFC 5891-5893) that the `idn-hostname` format checks.
 *
 * A full implementation needs the derived property table of RFC 5892 for every code point. This
 * file approximates it with the exceptions table (RFC 5892 section 2.6), the contextual rules of
 * appendix A (MIDDLE DOT, Greek KERAIA, Hebrew GERESH/GERSHAYIM, KATAKANA MIDDLE DOT, Arabic-Indic
 * digits, ZERO WIDTH JOINER/NON-JOINER), a leading-combining-mark check, a short list of
 * disallowed ranges (controls, spaces, symbols, fullwidth forms) and the Bidi rule of RFC 5893
 * for scripts written right to left. docs/validation.md lists what it does not catch. */
#include "schema_impl.h"

#include <stddef.h>
#include <stdint.h>

bool ct__idna_label_ok(const uint32_t *cp, size_t n);
bool ct__idna_is_rtl(uint32_t c);

struct range {
    uint32_t lo, hi;
};

static bool in_ranges(uint32_t c, const struct range *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c >= r[i].lo && c <= r[i].hi)
            return true;
    return false;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* General category M (combining marks), the blocks that matter in practice. */
static const struct range marks[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5}, {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0900, 0x0903},
    {0x093A, 0x093C}, {0x093E, 0x094F}, {0x0951, 0x0957}, {0x0962, 0x0963}, {0x0981, 0x0983},
    {0x09BC, 0x09BC}, {0x09BE, 0x09CD}, {0x0A01, 0x0A03}, {0x0A3C, 0x0A51}, {0x0A81, 0x0A83},
    {0x0ABC, 0x0ACD}, {0x0B01, 0x0B03}, {0x0B3C, 0x0B57}, {0x0BBE, 0x0BCD}, {0x0C00, 0x0C04},
    {0x0C3E, 0x0C56}, {0x0CBC, 0x0CD6}, {0x0D00, 0x0D03}, {0x0D3E, 0x0D4D}, {0x0E31, 0x0E31},
    {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF},
    {0xFE20, 0xFE2F},
};

static const uint32_t viramas[] = {0x094D, 0x09CD, 0x0A4D, 0x0ACD, 0x0B4D, 0x0BCD, 0x0C4D,
                                   0x0CCD, 0x0D3B, 0x0D3C, 0x0D4D, 0x0DCA, 0x0E3A, 0x0F84,
                                   0x1039, 0x103A, 0x1714, 0x1734, 0x17D2, 0x1A60, 0x1B44,
                                   0x1BAA, 0x1BAB, 0x1BF2, 0x1BF3, 0x2D7F, 0xA806, 0xA8C4,
                                   0xA953, 0xA9C0, 0xAAF6, 0xABED};

/* DISALLOWED in IDNA 2008: controls, spaces, most symbols and punctuation, fullwidth and
 * compatibility forms, and the exceptions of RFC 5892 section 2.6. Approximate. */
static const struct range disallowed[] = {
    {0x0000, 0x002C}, {0x002E, 0x002F}, {0x003A, 0x0060}, {0x007B, 0x00B6}, {0x00B8, 0x00DE},
    {0x00F7, 0x00F7}, {0x02B0, 0x02FF}, {0x0340, 0x0341}, {0x0343, 0x0345}, {0x037A, 0x037A},
    {0x037E, 0x037E}, {0x0384, 0x038A}, {0x0640, 0x0640}, {0x07FA, 0x07FA}, {0x1100, 0x11FF},
    {0x2000, 0x200B}, {0x200E, 0x2BFF}, {0x3000, 0x3006}, {0x3008, 0x3029}, {0x302E, 0x303B},
    {0x303D, 0x303F}, {0xE000, 0xF8FF}, {0xF900, 0xFAFF}, {0xFB00, 0xFB1C}, {0xFE10, 0xFE1F},
    {0xFE30, 0xFE4F}, {0xFF00, 0xFFEF}, {0xFFF0, 0xFFFF},
};

static bool is_greek(uint32_t c)
{
    return (c >= 0x0370 && c <= 0x03FF && c != 0x0375) || (c >= 0x1F00 && c <= 0x1FFF);
}

static bool is_hebrew(uint32_t c)
{
    return c >= 0x0590 && c <= 0x05FF;
}

static bool is_kana_han(uint32_t c)
{
    return (c >= 0x3040 && c <= 0x309F) || (c >= 0x30A0 && c <= 0x30FF && c != 0x30FB) ||
           (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0x20000 && c <= 0x2FFFF);
}

bool ct__idna_is_rtl(uint32_t c)
{
    return (c >= 0x0590 && c <= 0x08FF && !(c >= 0x0660 && c <= 0x0669) &&
            !(c >= 0x06F0 && c <= 0x06F9) && !in_ranges(c, marks, N(marks))) ||
           (c >= 0xFB1D && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF);
}

static bool is_dual_joining(uint32_t c)
{
    /* Arabic letters that join on both sides (approximation of Joining_Type D). */
    return (c >= 0x0626 && c <= 0x064A && c != 0x0627 && c != 0x0629 && !(c >= 0x062F && c <= 0x0632) &&
            c != 0x0648 && c != 0x0640) ||
           (c >= 0x066E && c <= 0x06D3);
}

static bool bidi_ok(const uint32_t *cp, size_t n)
{
    bool rtl = false;
    for (size_t i = 0; i < n; i++)
        rtl |= ct__idna_is_rtl(cp[i]);
    if (!rtl)
        return true;
    /* RFC 5893 rule 1: an RTL label starts with R or AL. Rule 2: no L characters. Rule 4: not
     * both European and Arabic-Indic digits. */
    if (!ct__idna_is_rtl(cp[0]))
        return false;
    bool en = false, an = false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        if ((c >= 'a' && c <= 'z') || (c >= 0x00C0 && c <= 0x024F) || (c >= 0x0370 && c <= 0x03FF))
            return false;
        if (c >= '0' && c <= '9')
            en = true;
        if (c >= 0x0660 && c <= 0x0669)
            an = true;
        if (c >= 0x06F0 && c <= 0x06F9)
            en = true;
    }
    return !(en && an);
}

bool ct__idna_label_ok(const uint32_t *cp, size_t n)
{
    if (n == 0 || in_ranges(cp[0], marks, N(marks)))
        return false;
    bool arabic_indic = false, ext_arabic_indic = false, has_kana_han = false, has_katakana_dot =
                                                                                   false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        uint32_t prev = i ? cp[i - 1] : 0, next = i + 1 < n ? cp[i + 1] : 0;
        if (c >= 'A' && c <= 'Z')
            return false; /* uppercase is not PVALID (labels are compared lower-case) */
        if (c == 0x00DF || c == 0x03C2 || c == 0x06FD || c == 0x06FE || c == 0x0F0B || c == 0x3007)
            continue; /* PVALID exceptions */
        switch (c) {
        case 0x00B7: /* MIDDLE DOT: between two 'l' */
            if (prev != 'l' || next != 'l')
                return false;
            continue;
        case 0x0375: /* GREEK KERAIA: followed by Greek */
            if (!is_greek(next))
                return false;
            continue;
        case 0x05F3:
        case 0x05F4: /* HEBREW GERESH/GERSHAYIM: preceded by Hebrew */
            if (!is_hebrew(prev))
                return false;
            continue;
        case 0x30FB:
            has_katakana_dot = true;
            continue;
        case 0x200D: { /* ZERO WIDTH JOINER: after a virama */
            bool v = false;
            for (size_t k = 0; k < N(viramas); k++)
                v |= prev == viramas[k];
            if (!v)
                return false;
            continue;
        }
        case 0x200C: { /* ZERO WIDTH NON-JOINER: after a virama, or between joining letters */
            bool v = false;
            for (size_t k = 0; k < N(viramas); k++)
                v |= prev == viramas[k];
            if (!v && !(i > 0 && is_dual_joining(prev) && is_dual_joining(next)))
                return false;
            continue;
        }
        default:
            break;
        }
        if (c >= 0x0660 && c <= 0x0669)
            arabic_indic = true;
        if (c >= 0x06F0 && c <= 0x06F9)
            ext_arabic_indic = true;
        if (is_kana_han(c))
            has_kana_han = true;
        if (in_ranges(c, disallowed, N(disallowed)) && c != '-' && !(c >= '0' && c <= '9'))
            return false;
    }
    if (arabic_indic && ext_arabic_indic)
        return false;
    if (has_katakana_dot && !has_kana_han)
        return false;
    return bidi_ok(cp, n);
}

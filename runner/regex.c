/* regex.c - regular expressions for `matches:` assertions and `capture.match`, on PCRE2.
 *
 * Scenario patterns use PCRE2 syntax in UTF mode (Perl-compatible; `\d`, `(?i)` and named
 * groups work). A match has a backtracking limit so that a catastrophic pattern fails the
 * assertion instead of hanging a worker. This is runner's only file that includes pcre2.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "runner.h"

#include "core/alloc.h"

#include <pcre2.h>
#include <string.h>

static pcre2_code *compile(const char *re, size_t len, char **msg, size_t *offset)
{
    int ec = 0;
    PCRE2_SIZE eo = 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, len, PCRE2_UTF, &ec, &eo, NULL);
    if (!code && msg) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(ec, buf, sizeof(buf));
        *msg = ct_xstrdup((const char *)buf);
        if (offset)
            *offset = eo;
    }
    return code;
}

bool runner_regex_check(void *ud, const char *re, size_t len, char **msg, size_t *offset)
{
    (void)ud;
    pcre2_code *code = compile(re, len, msg, offset);
    pcre2_code_free(code);
    return code != NULL;
}

int runner_regex_match(const char *re, const char *s, size_t len, const char **group,
                       size_t *glen, char **msg)
{
    pcre2_code *code = compile(re, strlen(re), msg, NULL);
    if (!code)
        return -1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mc, 200000);
    int rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, md, mc);
    int result;
    if (rc >= 0) {
        result = 1;
        if (group) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            int g = rc >= 2 && ov[2] != PCRE2_UNSET ? 1 : 0;
            *group = s + ov[2 * g];
            *glen = ov[2 * g + 1] - ov[2 * g];
        }
    } else if (rc == PCRE2_ERROR_NOMATCH) {
        result = 0;
    } else {
        result = -1;
        if (msg) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(rc, buf, sizeof(buf));
            *msg = ct_xstrdup((const char *)buf);
        }
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    return result;
}

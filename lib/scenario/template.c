/* template.c - the small languages inside scenario strings: templates ("${name}"), variable
 * references ("user.id", "env.HOME:-/root", "run.uuid") and paths (JSON Pointer or the dotted
 * form ".data.items[0]"). Pure text functions; nothing here allocates except into `out`. */
#include "scenario.h"
#include "scenario_impl.h"

#include <string.h>

const char *const ct_scen_run_vars[] = {"id",     "uuid",     "now",      "epoch",
                                        "epoch_ms", "target", "scenario", NULL};

int ct_tpl_next(const char *s, size_t len, size_t *pos, struct ct_tpl_part *part)
{
    size_t i = *pos;
    if (i >= len)
        return 0;
    memset(part, 0, sizeof(*part));
    part->off = i;
    /* "$${" is a literal "${". */
    if (i + 2 < len && s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
        part->ptr = s + i + 1;
        part->len = 2;
        *pos = i + 3;
        return 1;
    }
    if (i + 1 < len && s[i] == '$' && s[i + 1] == '{') {
        const char *close = memchr(s + i + 2, '}', len - i - 2);
        if (!close || close == s + i + 2)
            return -1;
        part->var = true;
        part->ptr = s + i + 2;
        part->len = (size_t)(close - (s + i + 2));
        *pos = (size_t)(close - s) + 1;
        return 1;
    }
    /* Literal text up to the next "${" or "$${". */
    size_t j = i + 1;
    while (j < len) {
        if (s[j] == '$' && j + 1 < len && (s[j + 1] == '{' || s[j + 1] == '$'))
            break;
        j++;
    }
    part->ptr = s + i;
    part->len = j - i;
    *pos = j;
    return 1;
}

bool ct_tpl_has_vars(const char *s, size_t len)
{
    size_t pos = 0;
    struct ct_tpl_part p;
    int r;
    while ((r = ct_tpl_next(s, len, &pos, &p)) != 0)
        if (r < 0 || p.var)
            return true;
    return false;
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

bool ct_var_ref_parse(const char *e, size_t len, struct ct_var_ref *out, const char **err)
{
    memset(out, 0, sizeof(*out));
    /* Blanks around the expression are allowed: "${ token }". */
    while (len && (*e == ' ' || *e == '\t')) {
        e++;
        len--;
    }
    while (len && (e[len - 1] == ' ' || e[len - 1] == '\t'))
        len--;
    if (!len || !is_name_start(e[0])) {
        *err = "expected a variable name (a letter or '_' first)";
        return false;
    }
    size_t i = 0;
    while (i < len && is_name_char(e[i]))
        i++;
    out->ns = CT_VAR_USER;
    if ((i == 3 && !memcmp(e, "env", 3)) || (i == 3 && !memcmp(e, "run", 3))) {
        if (i < len && e[i] == '.') {
            out->ns = e[0] == 'e' ? CT_VAR_ENV : CT_VAR_RUN;
            size_t st = ++i;
            while (i < len && is_name_char(e[i]))
                i++;
            if (i == st) {
                *err = out->ns == CT_VAR_ENV ? "expected an environment variable name after 'env.'"
                                             : "expected a name after 'run.'";
                return false;
            }
            out->name = e + st;
            out->namelen = i - st;
            if (out->ns == CT_VAR_ENV && i < len) {
                if (len - i >= 2 && e[i] == ':' && e[i + 1] == '-') {
                    out->has_default = true;
                    out->def = e + i + 2;
                    out->deflen = len - i - 2;
                    return true;
                }
                *err = "expected '}' or ':-default' after the environment variable name";
                return false;
            }
            if (out->ns == CT_VAR_RUN && i < len) {
                *err = "'run.' values have no fields";
                return false;
            }
            return true;
        }
    }
    out->name = e;
    out->namelen = i;
    if (i < len) {
        if (e[i] != '.' && e[i] != '[') {
            *err = "expected '.field' or '[index]' after the variable name";
            return false;
        }
        out->path = e + i;
        out->pathlen = len - i;
    }
    return true;
}

/* --- paths ---------------------------------------------------------------------------------- */

static bool path_fail(const char **err, size_t *err_off, const char *msg, size_t off)
{
    *err = msg;
    *err_off = off;
    return false;
}

bool ct_scen_path_parse(const char *s, size_t len, struct ct_buf *out, const char **err,
                        size_t *err_off)
{
    if (len == 0)
        return true;
    if (s[0] == '/') {
        /* A JSON Pointer already: check the escapes, copy it. */
        for (size_t i = 0; i < len; i++)
            if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
                return path_fail(err, err_off, "'~' in a JSON Pointer must be '~0' or '~1'", i);
        ct_buf_add(out, s, len);
        return true;
    }
    if (s[0] != '.' && s[0] != '[')
        return path_fail(err, err_off,
                         "expected a JSON Pointer ('/data/id') or a path ('.data.id')", 0);
    size_t i = 0;
    if (len == 1 && s[0] == '.')
        return true; /* the whole value */
    while (i < len) {
        if (s[i] == '.' && i + 1 < len && s[i + 1] == '[') {
            i++; /* ".[0]" and ".['a.b']" read like "[0]" */
        } else if (s[i] == '.') {
            i++;
            size_t st = i;
            while (i < len && s[i] != '.' && s[i] != '[')
                i++;
            if (i == st)
                return path_fail(err, err_off, "expected a field name after '.'", st);
            ct_pointer_append(out, s + st, i - st); /* adds the '/' */
        } else if (s[i] == '[') {
            size_t st = ++i;
            if (i < len && (s[i] == '"' || s[i] == '\'')) {
                /* ["a.b"]: a key with dots or brackets in it. */
                char q = s[i++];
                size_t ks = i;
                while (i < len && s[i] != q)
                    i++;
                if (i >= len)
                    return path_fail(err, err_off, "unterminated quoted key", st);
                ct_pointer_append(out, s + ks, i - ks);
                i++;
            } else {
                if (i < len && s[i] == '-')
                    i++;
                size_t ds = i;
                while (i < len && s[i] >= '0' && s[i] <= '9')
                    i++;
                if (i == ds)
                    return path_fail(err, err_off, "expected an array index or a quoted key", st);
                ct_buf_addc(out, '/');
                ct_buf_add(out, s + st, i - st);
            }
            if (i >= len || s[i] != ']')
                return path_fail(err, err_off, "expected ']'", i);
            i++;
        } else {
            return path_fail(err, err_off, "expected '.' or '['", i);
        }
    }
    return true;
}

const char *ct_match_op_name(enum ct_match_op op)
{
    static const char *const names[] = {
        "equals", "not_equals", "one_of",       "matches", "type", "length", "min_length",
        "max_length", "contains", "not_contains", "exists", "gt",  "gte",  "lt",
        "lte",
    };
    return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

void ct__scen_locate(const struct ct_node *n, size_t off, struct ct_node *out)
{
    ct_node_copy(out, n);
    ct_node_locate(n, off, &out->line, &out->col);
}

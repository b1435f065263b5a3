/* uri.c - resolving URI references against a base URI (RFC 3986 section 5.2).
 *
 * Enough for `$id` and `$ref`: it splits, merges and removes dot segments; it does not
 * percent-normalise or lower-case schemes and hosts (JSON Schema identifiers in the wild are
 * written consistently, and the test suite does not depend on normalisation). */
#include "schema_impl.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <string.h>

struct uri {
    const char *scheme, *auth, *path, *query, *frag;
    size_t scheme_len, auth_len, path_len, query_len, frag_len;
    bool has_scheme, has_auth, has_query, has_frag;
};

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void uri_split(const char *s, struct uri *u)
{
    memset(u, 0, sizeof(*u));
    const char *p = s;
    if (is_alpha(*p)) {
        const char *q = p;
        while (is_alpha(*q) || (*q >= '0' && *q <= '9') || *q == '+' || *q == '-' || *q == '.')
            q++;
        if (*q == ':') {
            u->has_scheme = true;
            u->scheme = p;
            u->scheme_len = (size_t)(q - p);
            p = q + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        u->has_auth = true;
        u->auth = p;
        u->auth_len = strcspn(p, "/?#");
        p += u->auth_len;
    }
    u->path = p;
    u->path_len = strcspn(p, "?#");
    p += u->path_len;
    if (*p == '?') {
        u->has_query = true;
        u->query = ++p;
        u->query_len = strcspn(p, "#");
        p += u->query_len;
    }
    if (*p == '#') {
        u->has_frag = true;
        u->frag = ++p;
        u->frag_len = strlen(p);
    }
}

/* RFC 3986 section 5.2.4, appending the result to out. */
static void remove_dots(struct ct_buf *out, const char *in, size_t len)
{
    size_t start = out->len;
    size_t i = 0;
    while (i < len) {
        const char *p = in + i;
        size_t rest = len - i;
        if (rest >= 3 && !memcmp(p, "../", 3)) {
            i += 3;
        } else if (rest >= 2 && !memcmp(p, "./", 2)) {
            i += 2;
        } else if (rest >= 3 && !memcmp(p, "/./", 3)) {
            i += 2;
        } else if (rest == 2 && !memcmp(p, "/.", 2)) {
            ct_buf_addc(out, '/');
            i += 2;
        } else if ((rest >= 4 && !memcmp(p, "/../", 4)) || (rest == 3 && !memcmp(p, "/..", 3))) {
            /* Drop the last output segment. */
            size_t k = out->len;
            while (k > start && out->ptr[k - 1] != '/')
                k--;
            if (k > start)
                k--;
            out->len = k;
            if (rest == 3) {
                ct_buf_addc(out, '/');
                i += 3;
            } else {
                i += 3; /* leave the '/' of "/../" as the next segment start */
            }
        } else if ((rest == 1 && p[0] == '.') || (rest == 2 && !memcmp(p, "..", 2))) {
            i += rest;
        } else {
            size_t j = i + (in[i] == '/' ? 1 : 0);
            while (j < len && in[j] != '/')
                j++;
            ct_buf_add(out, in + i, j - i);
            i = j;
        }
    }
}

char *ct__uri_resolve(const char *base, const char *ref)
{
    struct uri b, r;
    uri_split(base ? base : "", &b);
    uri_split(ref, &r);
    struct ct_buf o;
    ct_buf_init(&o, 0);
    const struct uri *q; /* where query comes from */
    if (r.has_scheme) {
        ct_buf_add(&o, r.scheme, r.scheme_len);
        ct_buf_addc(&o, ':');
        if (r.has_auth) {
            ct_buf_adds(&o, "//");
            ct_buf_add(&o, r.auth, r.auth_len);
        }
        remove_dots(&o, r.path, r.path_len);
        q = &r;
    } else {
        if (b.has_scheme) {
            ct_buf_add(&o, b.scheme, b.scheme_len);
            ct_buf_addc(&o, ':');
        }
        if (r.has_auth) {
            ct_buf_adds(&o, "//");
            ct_buf_add(&o, r.auth, r.auth_len);
            remove_dots(&o, r.path, r.path_len);
            q = &r;
        } else {
            if (b.has_auth) {
                ct_buf_adds(&o, "//");
                ct_buf_add(&o, b.auth, b.auth_len);
            }
            if (r.path_len == 0) {
                ct_buf_add(&o, b.path, b.path_len);
                q = r.has_query ? &r : &b;
            } else {
                if (r.path[0] == '/') {
                    remove_dots(&o, r.path, r.path_len);
                } else {
                    /* Merge: the base path up to its last '/', then the reference. */
                    struct ct_buf m;
                    ct_buf_init(&m, 0);
                    if (b.has_auth && b.path_len == 0) {
                        ct_buf_addc(&m, '/');
                    } else {
                        size_t k = b.path_len;
                        while (k > 0 && b.path[k - 1] != '/')
                            k--;
                        ct_buf_add(&m, b.path, k);
                    }
                    ct_buf_add(&m, r.path, r.path_len);
                    remove_dots(&o, m.ptr, m.len);
                    ct_buf_deinit(&m);
                }
                q = &r;
            }
        }
    }
    if (q->has_query) {
        ct_buf_addc(&o, '?');
        ct_buf_add(&o, q->query, q->query_len);
    }
    if (r.has_frag) {
        ct_buf_addc(&o, '#');
        ct_buf_add(&o, r.frag, r.frag_len);
    }
    ct_buf_addc(&o, 0); /* remove_dots may have shortened the buffer past its NUL */
    o.len--;
    return ct_buf_steal(&o, NULL);
}

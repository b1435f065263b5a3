/* router.c - a segment trie per document: literal children before the template child.
 *
 * Each trie node holds its literal children sorted by name (binary search), then its templated
 * children in declaration order, and the operation per method that ends there. Matching walks
 * the request path segment by segment and backtracks when a literal branch dead-ends, so
 * `/a/b/{x}` and `/a/{y}/c` both work. */
#include "router.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

struct piece {
    const char *lit; /* literal text, or NULL for a variable */
    size_t len;
    const char *var; /* variable name (NUL-terminated, owned by the router) */
};

struct rnode;

struct edge {
    const char *seg; /* the segment as written in the template (borrowed from the model) */
    size_t seglen;
    bool templated;
    struct piece *pieces; /* templated segments only */
    unsigned npieces;
    struct rnode *child;
};

struct rnode {
    struct edge *lits; /* sorted by seg */
    unsigned nlits, caplits;
    struct edge *tmpls;
    unsigned ntmpls, captmpls;
    const struct ct_oas_op *ops[CT_METHOD_COUNT];
    const char *template; /* the full path template ending here */
};

struct ct_router {
    struct rnode root;
    char **bases; /* server base paths ("" for none) */
    unsigned nbases;
};

static struct rnode *rnode_new(void)
{
    return ct_xcalloc(1, sizeof(struct rnode));
}

static void rnode_free(struct rnode *n, bool self)
{
    for (unsigned i = 0; i < n->nlits; i++)
        rnode_free(n->lits[i].child, true);
    for (unsigned i = 0; i < n->ntmpls; i++) {
        for (unsigned k = 0; k < n->tmpls[i].npieces; k++)
            ct_free((char *)n->tmpls[i].pieces[k].var);
        ct_free(n->tmpls[i].pieces);
        rnode_free(n->tmpls[i].child, true);
    }
    ct_free(n->lits);
    ct_free(n->tmpls);
    if (self)
        ct_free(n);
}

static int seg_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = memcmp(a, b, n);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

/* Room for one more edge: arrays start at one and double (most trie nodes have one child;
 * a big spec has thousands of nodes). */
static struct edge *edge_grow(struct edge *v, unsigned n, unsigned *cap)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 1;
    return ct_xrealloc(v, *cap * sizeof(*v));
}

static void parse_pieces(struct edge *e)
{
    const char *s = e->seg, *end = e->seg + e->seglen;
    /* v variables and at most v + 1 literals between and around them. */
    size_t vars = 0;
    for (const char *c = s; c < end; c++)
        vars += *c == '{';
    e->pieces = ct_xmalloc((2 * vars + 1) * sizeof(*e->pieces));
    while (s < end) {
        struct piece *p = &e->pieces[e->npieces++];
        if (*s == '{') {
            const char *c = memchr(s, '}', (size_t)(end - s));
            if (!c)
                c = end;
            p->lit = NULL;
            p->len = 0;
            p->var = ct_xstrndup(s + 1, (size_t)(c - s - 1));
            s = c < end ? c + 1 : end;
        } else {
            const char *o = memchr(s, '{', (size_t)(end - s));
            if (!o)
                o = end;
            p->lit = s;
            p->len = (size_t)(o - s);
            p->var = NULL;
            s = o;
        }
    }
}

static struct rnode *child_for(struct rnode *n, const char *seg, size_t len)
{
    bool templated = memchr(seg, '{', len) != NULL;
    if (!templated) {
        unsigned lo = 0, hi = n->nlits;
        while (lo < hi) {
            unsigned mid = (lo + hi) / 2;
            int c = seg_cmp(n->lits[mid].seg, n->lits[mid].seglen, seg, len);
            if (c == 0)
                return n->lits[mid].child;
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        n->lits = edge_grow(n->lits, n->nlits, &n->caplits);
        memmove(&n->lits[lo + 1], &n->lits[lo], (n->nlits - lo) * sizeof(*n->lits));
        n->nlits++;
        struct edge *e = &n->lits[lo];
        memset(e, 0, sizeof(*e));
        e->seg = seg;
        e->seglen = len;
        e->child = rnode_new();
        return e->child;
    }
    /* Templates with the same shape ("{id}" and "{promptId}") share a node: the variable name
     * comes from the operation, so compare shapes with names blanked. */
    for (unsigned i = 0; i < n->ntmpls; i++)
        if (n->tmpls[i].seglen == len && !memcmp(n->tmpls[i].seg, seg, len))
            return n->tmpls[i].child;
    n->tmpls = edge_grow(n->tmpls, n->ntmpls, &n->captmpls);
    struct edge *e = &n->tmpls[n->ntmpls++];
    memset(e, 0, sizeof(*e));
    e->seg = seg;
    e->seglen = len;
    e->templated = true;
    e->child = rnode_new();
    parse_pieces(e);
    /* Whole-segment variables are the most general: keep them after mixed segments. */
    if (n->ntmpls > 1 && e->npieces > 1) {
        struct edge tmp = *e;
        unsigned k = n->ntmpls - 1;
        while (k > 0 && n->tmpls[k - 1].npieces == 1) {
            n->tmpls[k] = n->tmpls[k - 1];
            k--;
        }
        n->tmpls[k] = tmp;
        return tmp.child;
    }
    return e->child;
}

struct ct_router *ct_router_new(const struct ct_oas *oas)
{
    struct ct_router *r = ct_xcalloc(1, sizeof(*r));
    r->bases = ct_xcalloc(oas->nservers ? oas->nservers : 1, sizeof(char *));
    for (unsigned i = 0; i < oas->nservers; i++) {
        bool dup = false;
        for (unsigned k = 0; k < r->nbases; k++)
            dup |= !strcmp(r->bases[k], oas->servers[i].base_path);
        if (!dup)
            r->bases[r->nbases++] = ct_xstrdup(oas->servers[i].base_path);
    }
    if (!r->nbases)
        r->bases[r->nbases++] = ct_xstrdup("");
    for (unsigned i = 0; i < oas->nops; i++) {
        const struct ct_oas_op *op = &oas->ops[i];
        if (op->webhook)
            continue;
        struct rnode *n = &r->root;
        const char *p = op->path;
        while (*p == '/') {
            const char *s = p + 1;
            const char *e = strchr(s, '/');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            n = child_for(n, s, len);
            p = s + len;
        }
        if (!n->ops[op->method])
            n->ops[op->method] = op;
        n->template = op->path;
    }
    return r;
}

void ct_router_free(struct ct_router *r)
{
    if (!r)
        return;
    rnode_free(&r->root, false);
    for (unsigned i = 0; i < r->nbases; i++)
        ct_free(r->bases[i]);
    ct_free(r->bases);
    ct_free(r);
}

/* Match a mixed segment's pieces against s[0..len). Variables take the shortest text that lets
 * the next literal match (a variable is never empty). */
static bool match_pieces(const struct edge *e, const char *s, size_t len, struct ct_route_match *m)
{
    size_t pos = 0;
    unsigned start = m->nparams;
    for (unsigned i = 0; i < e->npieces; i++) {
        const struct piece *p = &e->pieces[i];
        if (p->lit) {
            if (len - pos < p->len || memcmp(s + pos, p->lit, p->len) != 0)
                goto fail;
            pos += p->len;
            continue;
        }
        size_t vend;
        if (i + 1 == e->npieces) {
            vend = len;
        } else {
            const struct piece *next = &e->pieces[i + 1];
            if (!next->lit)
                goto fail; /* two adjacent variables are ambiguous */
            vend = pos + 1;
            while (vend + next->len <= len && memcmp(s + vend, next->lit, next->len) != 0)
                vend++;
            if (vend + next->len > len)
                goto fail;
        }
        if (vend <= pos || m->nparams >= CT_ROUTER_MAX_PARAMS)
            goto fail;
        m->params[m->nparams++] = (struct ct_route_param){p->var, s + pos, vend - pos};
        pos = vend;
    }
    if (pos == len)
        return true;
fail:
    m->nparams = start;
    return false;
}

/* Depth-first match; returns the trie node where the path ends, or NULL. */
static bool has_ops(const struct rnode *n);

static const struct rnode *walk(const struct rnode *n, const char *p, const char *end,
                                struct ct_route_match *m)
{
    /* A path that ends on a node without operations keeps searching: `/a/{x}` must be found
     * when `/a/{y}/b` was tried first. */
    if (p == end)
        return has_ops(n) ? n : NULL;
    if (*p != '/')
        return NULL;
    const char *s = p + 1;
    const char *e = memchr(s, '/', (size_t)(end - s));
    if (!e)
        e = end;
    size_t len = (size_t)(e - s);
    /* Literal first. */
    unsigned lo = 0, hi = n->nlits;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        int c = seg_cmp(n->lits[mid].seg, n->lits[mid].seglen, s, len);
        if (c == 0) {
            const struct rnode *r = walk(n->lits[mid].child, e, end, m);
            if (r)
                return r;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (len == 0)
        return NULL; /* an empty segment never fills a variable */
    for (unsigned i = 0; i < n->ntmpls; i++) {
        unsigned saved = m->nparams;
        if (!match_pieces(&n->tmpls[i], s, len, m))
            continue;
        const struct rnode *r = walk(n->tmpls[i].child, e, end, m);
        if (r)
            return r;
        m->nparams = saved;
    }
    return NULL;
}

static bool has_ops(const struct rnode *n)
{
    for (int i = 0; i < CT_METHOD_COUNT; i++)
        if (n->ops[i])
            return true;
    return false;
}

int ct_router_match(const struct ct_router *r, enum ct_http_method method, const char *path,
                    size_t len, struct ct_route_match *m)
{
    memset(m, 0, sizeof(*m));
    const char *end = path + len;
    for (unsigned b = 0; b < r->nbases; b++) {
        size_t bl = strlen(r->bases[b]);
        if (len < bl || memcmp(path, r->bases[b], bl) != 0)
            continue;
        const char *rest = path + bl;
        if (rest != end && *rest != '/')
            continue;
        m->nparams = 0;
        const struct rnode *n = rest == end ? &r->root : walk(&r->root, rest, end, m);
        if (rest == end && bl)
            n = walk(&r->root, "/", (const char *)"/" + 1, m); /* "/api/v1" means "/api/v1/" */
        if (!n || !has_ops(n))
            continue;
        for (int i = 0; i < CT_METHOD_COUNT; i++)
            if (n->ops[i])
                m->allowed |= 1u << i;
        m->op = n->ops[method];
        /* Variable names come from the edges walked, i.e. from the template that built
         * them. */
        return m->op ? 1 : 0;
    }
    return -1;
}

const char *ct_router_near(const struct ct_router *r, const char *path, size_t len)
{
    struct ct_route_match m;
    char buf[2048];
    if (len + 1 >= sizeof(buf))
        return NULL;
    /* A trailing slash too many or too few. */
    if (len > 1 && path[len - 1] == '/' && ct_router_match(r, CT_GET, path, len - 1, &m) >= 0)
        return m.op ? m.op->path : "(the same path without the trailing slash)";
    memcpy(buf, path, len);
    buf[len] = '/';
    if (ct_router_match(r, CT_GET, buf, len + 1, &m) >= 0)
        return m.op ? m.op->path : "(the same path with a trailing slash)";
    /* The path lacks the server base path. */
    for (unsigned b = 0; b < r->nbases; b++) {
        size_t bl = strlen(r->bases[b]);
        if (!bl || bl + len >= sizeof(buf))
            continue;
        memcpy(buf, r->bases[b], bl);
        memcpy(buf + bl, path, len);
        if (ct_router_match(r, CT_GET, buf, bl + len, &m) >= 0) {
            return r->bases[b];
        }
    }
    return NULL;
}

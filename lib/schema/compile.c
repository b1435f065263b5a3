/* compile.c - turning schema documents into the compiled form of schema_impl.h.
 *
 * Two passes. The scan pass walks a document through the keywords that hold subschemas and
 * records, for every schema node, its base URI, dialect, enabled vocabularies and JSON Pointer;
 * it registers every schema resource (`$id`) and anchor (`$anchor`, `$dynamicAnchor`, draft-6/7
 * `$id: "#name"`). The compile pass then builds one struct ct_snode per schema node reached from
 * the requested root, resolving every `$ref` to the target's snode (loading remote documents
 * through the docset, embedded metaschemas or the --remote prefix maps).
 *
 * Broken schemas (wrong keyword types, bad patterns, unresolvable references) produce located
 * CT_E_SCHEMA / CT_E_REF diagnostics and a NULL result. Unknown keywords are ignored, as every
 * dialect requires. Validation lives in validate.c. */
#include "schema_impl.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/ptrmap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Vocabularies (2019-09 and 2020-12); older dialects enable all of them. */
enum {
    V_APPLICATOR = 1 << 0,
    V_VALIDATION = 1 << 1,
    V_UNEVALUATED = 1 << 2,
    V_FORMAT_ASSERT = 1 << 3,
    V_ALL = V_APPLICATOR | V_VALIDATION | V_UNEVALUATED,
};

struct res {
    char *uri; /* without fragment */
    const struct ct_node *node;
};

struct anchor {
    char *uri; /* base URI of the resource */
    char *name;
    const struct ct_node *node;
    bool dynamic;
};

/* What the scan pass knows about one schema node; in the set's arena (the address is stable).
 *
 * Its JSON Pointer is only needed for messages, so it is not stored: the node keeps its scan
 * parent and the one or two reference tokens from there (`properties`, then `name`; `allOf`,
 * then an index; `items`), and ct__snode_ptr composes the pointer on first use. A scan root
 * (a schema compiled from the middle of a document) finds its own place by a search of its
 * document, also on first use; building that for every schema at load made big specs slow. */
struct ninfo {
    const struct ct_node *node;
    const char *base;           /* interned (intern()) */
    const struct ninfo *parent; /* NULL: a scan root */
    const struct ct_node *tok1; /* the keyword's key; for a scan root: its document's root */
    const struct ct_node *tok2; /* the member key under tok1, or NULL (then `index` if is_item) */
    uint32_t index;
    bool is_item;
    uint8_t dialect;
    uint8_t vocab;
    bool resource;
    bool in_ref; /* compile_node is following this node's `$ref` (see only_ref) */
    struct ct_snode *sn;
    char *ptr; /* composed on first use (atomically published); owned */
};

struct ct_schema_set {
    struct ct_docset *ds;
    struct ct_schema_opts opts;
    struct ct_arena arena;
    struct res *res;
    size_t nres, capres;
    struct anchor *anc;
    size_t nanc, capanc;
    struct ninfo **info; /* open addressing by node pointer */
    size_t ninfo, capinfo;
    const char **bases; /* interned base URIs (arena strings), open addressing */
    size_t nbases, capbases;
    struct refmemo *refs; /* resolved references (resolve_ref), open addressing */
    size_t nrefs, caprefs;
    const struct ct_node *last_root; /* the document whose base URI is last_root_base */
    const char *last_root_base;
    struct kwbuf *kbs[401]; /* compile_node's scratch per nesting depth, kept for reuse */
    struct ct_regex **regexes; /* to free */
    size_t nre, capre;
    struct ct_schema **schemas; /* handed out by ct_schema_set_get */
    size_t nschemas, capschemas;
    struct ct_diags *diags; /* during a compile */
    size_t errors;          /* during a compile */
    struct ct_ptrmap smap;  /* compiled root -> the ct_schema handed out for it */
};

struct refmemo {
    const char *base, *ref; /* interned */
    uint32_t hash;
    const struct ct_node *target;
    const char *target_base;
    bool dyn;
};


/* --- small tables ---------------------------------------------------------------------------- */

static uint32_t ptr_hash(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(v >> 32);
}

static struct ninfo *info_get(const struct ct_schema_set *set, const struct ct_node *n)
{
    if (!set->capinfo)
        return NULL;
    size_t mask = set->capinfo - 1;
    for (size_t i = ptr_hash(n) & mask;; i = (i + 1) & mask) {
        if (!set->info[i])
            return NULL;
        if (set->info[i]->node == n)
            return set->info[i];
    }
}

/* A new entry for n, which has none (zeroed but for the node). */
static struct ninfo *info_put(struct ct_schema_set *set, const struct ct_node *n)
{
    if ((set->ninfo + 1) * 2 > set->capinfo) {
        size_t ncap = set->capinfo ? set->capinfo * 2 : 256;
        struct ninfo **old = set->info;
        size_t oldcap = set->capinfo;
        set->info = ct_xcalloc(ncap, sizeof(*set->info));
        set->capinfo = ncap;
        for (size_t i = 0; i < oldcap; i++) {
            if (!old[i])
                continue;
            size_t j = ptr_hash(old[i]->node) & (ncap - 1);
            while (set->info[j])
                j = (j + 1) & (ncap - 1);
            set->info[j] = old[i];
        }
        ct_free(old);
    }
    size_t mask = set->capinfo - 1;
    size_t i = ptr_hash(n) & mask;
    while (set->info[i])
        i = (i + 1) & mask;
    struct ninfo *in = ct_arena_zalloc(&set->arena, sizeof(*in));
    in->node = n;
    set->info[i] = in;
    set->ninfo++;
    return in;
}

static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* One copy of each base URI, in the set's arena: every schema node of a resource shares it. */
static const char *intern(struct ct_schema_set *set, const char *s)
{
    if ((set->nbases + 1) * 2 > set->capbases) {
        size_t ncap = set->capbases ? set->capbases * 2 : 16;
        const char **nt = ct_xcalloc(ncap, sizeof(*nt));
        for (size_t i = 0; i < set->capbases; i++) {
            if (!set->bases[i])
                continue;
            size_t j = str_hash(set->bases[i]) & (ncap - 1);
            while (nt[j])
                j = (j + 1) & (ncap - 1);
            nt[j] = set->bases[i];
        }
        ct_free(set->bases);
        set->bases = nt;
        set->capbases = ncap;
    }
    size_t mask = set->capbases - 1;
    size_t i = str_hash(s) & mask;
    for (; set->bases[i]; i = (i + 1) & mask)
        if (!strcmp(set->bases[i], s))
            return set->bases[i];
    set->bases[i] = ct_arena_strdup(&set->arena, s);
    set->nbases++;
    return set->bases[i];
}

static const struct ct_node *res_get(const struct ct_schema_set *set, const char *uri)
{
    for (size_t i = 0; i < set->nres; i++)
        if (!strcmp(set->res[i].uri, uri))
            return set->res[i].node;
    return NULL;
}

static void res_put(struct ct_schema_set *set, const char *uri, const struct ct_node *n)
{
    if (res_get(set, uri))
        return; /* the first definition wins */
    set->res = ct_xgrow(set->res, &set->capres, set->nres + 1, sizeof(*set->res));
    set->res[set->nres].uri = ct_xstrdup(uri);
    set->res[set->nres].node = n;
    set->nres++;
}

static const struct anchor *anchor_get(const struct ct_schema_set *set, const char *uri,
                                       const char *name)
{
    for (size_t i = 0; i < set->nanc; i++)
        if (!strcmp(set->anc[i].name, name) && !strcmp(set->anc[i].uri, uri))
            return &set->anc[i];
    return NULL;
}

static void anchor_put(struct ct_schema_set *set, const char *uri, const char *name,
                       const struct ct_node *n, bool dynamic)
{
    if (anchor_get(set, uri, name))
        return;
    set->anc = ct_xgrow(set->anc, &set->capanc, set->nanc + 1, sizeof(*set->anc));
    struct anchor *a = &set->anc[set->nanc++];
    a->uri = ct_xstrdup(uri);
    a->name = ct_xstrdup(name);
    a->node = n;
    a->dynamic = dynamic;
}

/* --- diagnostics ----------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static struct ct_diag *
serr(struct ct_schema_set *set, const struct ct_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ct_diag *g = ct_diag_atv(set->diags, CT_SEV_ERROR, CT_E_SCHEMA, at, fmt, ap);
    va_end(ap);
    set->errors++;
    return g;
}

/* A short rendering of a value for messages: 'text', 12, object, array. */
static void describe(struct ct_buf *b, const struct ct_node *n)
{
    switch (n->kind) {
    case CT_NULL:
        ct_buf_adds(b, "null");
        break;
    case CT_BOOL:
        ct_buf_adds(b, (n->flags & CT_NF_TRUE) ? "true" : "false");
        break;
    case CT_NUMBER:
        ct_buf_add(b, n->u.text, n->len > 40 ? 40 : n->len);
        break;
    case CT_STRING:
        ct_buf_printf(b, "string '%.*s%s'", n->len > 40 ? 40 : (int)n->len, n->u.str,
                      n->len > 40 ? "..." : "");
        break;
    case CT_ARRAY:
        ct_buf_printf(b, "an array of %u items", n->len);
        break;
    default:
        ct_buf_printf(b, "an object with %u properties", n->len);
        break;
    }
}

/* --- dialects -------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum ct_dialect d;
} dialect_names[] = {
    {"draft4", CT_DIALECT_DRAFT4},       {"draft-04", CT_DIALECT_DRAFT4},
    {"draft6", CT_DIALECT_DRAFT6},       {"draft-06", CT_DIALECT_DRAFT6},
    {"draft7", CT_DIALECT_DRAFT7},       {"draft-07", CT_DIALECT_DRAFT7},
    {"2019-09", CT_DIALECT_2019_09},     {"draft2019-09", CT_DIALECT_2019_09},
    {"2020-12", CT_DIALECT_2020_12},     {"draft2020-12", CT_DIALECT_2020_12},
    {"oas30", CT_DIALECT_OAS30},         {"oas3.0", CT_DIALECT_OAS30},
    {"oas31", CT_DIALECT_OAS31},         {"oas3.1", CT_DIALECT_OAS31},
    {"auto", CT_DIALECT_AUTO},
};

bool ct_dialect_parse(const char *name, enum ct_dialect *out)
{
    for (size_t i = 0; i < sizeof(dialect_names) / sizeof(dialect_names[0]); i++) {
        if (!strcmp(name, dialect_names[i].name)) {
            *out = dialect_names[i].d;
            return true;
        }
    }
    return false;
}

const char *ct_dialect_name(enum ct_dialect d)
{
    static const char *names[] = {"auto",    "draft4",  "draft6", "draft7",
                                  "2019-09", "2020-12", "oas30",  "oas31"};
    return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "unknown";
}

static bool dialect_from_uri(const char *uri, uint8_t *d)
{
    static const struct {
        const char *uri;
        enum ct_dialect d;
    } known[] = {
        {"http://json-schema.org/draft-04/schema", CT_DIALECT_DRAFT4},
        {"http://json-schema.org/draft-06/schema", CT_DIALECT_DRAFT6},
        {"http://json-schema.org/draft-07/schema", CT_DIALECT_DRAFT7},
        {"https://json-schema.org/draft/2019-09/schema", CT_DIALECT_2019_09},
        {"https://json-schema.org/draft/2020-12/schema", CT_DIALECT_2020_12},
        {"https://spec.openapis.org/oas/3.1/dialect/base", CT_DIALECT_OAS31},
    };
    size_t len = strlen(uri);
    if (len && uri[len - 1] == '#')
        len--;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strlen(known[i].uri) == len && !memcmp(known[i].uri, uri, len)) {
            *d = (uint8_t)known[i].d;
            return true;
        }
    }
    return false;
}

static bool legacy(uint8_t d)
{
    return d == CT_DIALECT_DRAFT4 || d == CT_DIALECT_DRAFT6 || d == CT_DIALECT_DRAFT7 ||
           d == CT_DIALECT_OAS30;
}

static bool draft4ish(uint8_t d)
{
    return d == CT_DIALECT_DRAFT4 || d == CT_DIALECT_OAS30;
}

static bool modern2020(uint8_t d)
{
    return d == CT_DIALECT_2020_12 || d == CT_DIALECT_OAS31;
}

/* --- documents and URIs ---------------------------------------------------------------------- */

static char *doc_base(const struct ct_node *root)
{
    const char *name = root->src && root->src->name ? root->src->name : "schema.json";
    if (strstr(name, "://") || !strncmp(name, "urn:", 4))
        return ct_xstrdup(name);
    if (name[0] == '/')
        return ct_xasprintf("file://%s", name);
    return ct_xasprintf("file:%s", name);
}

static char *strip_fragment(const char *uri)
{
    const char *h = strchr(uri, '#');
    return h ? ct_xstrndup(uri, (size_t)(h - uri)) : ct_xstrdup(uri);
}

/* Where a scanned node sits (see struct ninfo). */
struct place {
    const struct ninfo *parent;
    const struct ct_node *tok1, *tok2;
    uint32_t index;
    bool is_item;
};

static void scan(struct ct_schema_set *set, const struct ct_node *n, const char *base,
                 uint8_t dialect, uint8_t vocab, const struct place *at, unsigned depth);

/* Dialect and vocabularies named by a `$schema` URI: a known dialect, or a custom metaschema
 * whose `$vocabulary` says which vocabularies apply. */
static const struct ct_node *load_uri(struct ct_schema_set *set, const char *uri,
                                      const struct ct_node *at, uint8_t dialect);

static void dialect_of_schema(struct ct_schema_set *set, const struct ct_node *sch,
                              uint8_t *dialect, uint8_t *vocab)
{
    if (dialect_from_uri(sch->u.str, dialect)) {
        *vocab = V_ALL;
        return;
    }
    char *uri = strip_fragment(sch->u.str);
    const struct ct_node *meta = res_get(set, uri);
    if (!meta)
        meta = load_uri(set, uri, NULL, *dialect);
    ct_free(uri);
    if (!meta || meta->kind != CT_OBJECT)
        return;
    const struct ct_node *ms = ct_obj_get(meta, "$schema");
    if (ms && ms->kind == CT_STRING)
        dialect_from_uri(ms->u.str, dialect);
    const struct ct_node *voc = ct_obj_get(meta, "$vocabulary");
    if (!voc || voc->kind != CT_OBJECT)
        return;
    uint8_t v = 0;
    for (uint32_t i = 0; i < voc->len; i++) {
        const char *k = voc->u.members[i].key->u.str;
        const char *slash = strrchr(k, '/');
        const char *last = slash ? slash + 1 : k;
        if (!strcmp(last, "applicator"))
            v |= V_APPLICATOR;
        else if (!strcmp(last, "validation"))
            v |= V_VALIDATION;
        else if (!strcmp(last, "unevaluated"))
            v |= V_UNEVALUATED;
        else if (!strcmp(last, "format-assertion"))
            v |= V_FORMAT_ASSERT;
    }
    if (*dialect == CT_DIALECT_2019_09 && (v & V_APPLICATOR))
        v |= V_UNEVALUATED; /* in 2019-09 unevaluated* belong to the applicator vocabulary */
    *vocab = v;
}

/* Keywords whose values hold subschemas: an object of them, an array of them, or one (`items`
 * is an array or one, by dialect). */
enum { SUB_OBJ = 1, SUB_ARR = 2, SUB_ONE = 4 };

static unsigned sub_kind(const char *k)
{
    switch (k[0]) {
    case 'a':
        return !strcmp(k, "allOf") || !strcmp(k, "anyOf")                         ? SUB_ARR
               : !strcmp(k, "additionalProperties") || !strcmp(k, "additionalItems") ? SUB_ONE
                                                                                     : 0;
    case 'o':
        return !strcmp(k, "oneOf") ? SUB_ARR : 0;
    case 'p':
        return !strcmp(k, "properties") || !strcmp(k, "patternProperties") ? SUB_OBJ
               : !strcmp(k, "prefixItems")                                 ? SUB_ARR
               : !strcmp(k, "propertyNames")                               ? SUB_ONE
                                                                           : 0;
    case '$':
        return !strcmp(k, "$defs") ? SUB_OBJ : 0;
    case 'd':
        return !strcmp(k, "definitions") || !strcmp(k, "dependentSchemas") ||
                       !strcmp(k, "dependencies")
                   ? SUB_OBJ
                   : 0;
    case 'i':
        return !strcmp(k, "items") ? SUB_ARR | SUB_ONE : !strcmp(k, "if") ? SUB_ONE : 0;
    case 'c':
        return !strcmp(k, "contains") || !strcmp(k, "contentSchema") ? SUB_ONE : 0;
    case 'n':
        return !strcmp(k, "not") ? SUB_ONE : 0;
    case 't':
        return !strcmp(k, "then") ? SUB_ONE : 0;
    case 'e':
        return !strcmp(k, "else") ? SUB_ONE : 0;
    case 'u':
        return !strcmp(k, "unevaluatedItems") || !strcmp(k, "unevaluatedProperties") ? SUB_ONE
                                                                                        : 0;
    default:
        return 0;
    }
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void scan(struct ct_schema_set *set, const struct ct_node *n, const char *base,
                 uint8_t dialect, uint8_t vocab, const struct place *at, unsigned depth)
{
    if (depth > 200 || (n->kind != CT_OBJECT && n->kind != CT_BOOL))
        return;
    if (info_get(set, n))
        return; /* already scanned (shared YAML alias, or reached twice) */
    bool resource = false;
    if (n->kind == CT_OBJECT) {
        /* The keywords that change the base URI and dialect, in one pass. */
        const struct ct_node *sch = NULL, *ref = NULL, *id = NULL, *oldid = NULL, *a = NULL,
                             *da = NULL;
        for (uint32_t i = 0; i < n->len; i++) {
            const char *k = n->u.members[i].key->u.str;
            const struct ct_node *v = n->u.members[i].val;
            if (k[0] == 'i' && !strcmp(k, "id"))
                oldid = v;
            else if (k[0] != '$')
                continue;
            else if (!strcmp(k, "$schema"))
                sch = v;
            else if (!strcmp(k, "$ref"))
                ref = v;
            else if (!strcmp(k, "$id"))
                id = v;
            else if (!strcmp(k, "$anchor"))
                a = v;
            else if (!strcmp(k, "$dynamicAnchor"))
                da = v;
        }
        if (sch && sch->kind == CT_STRING)
            dialect_of_schema(set, sch, &dialect, &vocab);
        bool ref_overrides = legacy(dialect) && ref && ref->kind == CT_STRING;
        if (draft4ish(dialect))
            id = oldid;
        if (id && id->kind == CT_STRING && !ref_overrides) {
            const char *s = id->u.str;
            const char *hash = strchr(s, '#');
            if (s[0] == '#' && legacy(dialect)) {
                if (s[1])
                    anchor_put(set, base, s + 1, n, false);
            } else if (legacy(dialect) || !hash || !hash[1]) {
                /* 2019-09 and later: an `$id` with a non-empty fragment is not an id. */
                char *abs = ct__uri_resolve(base, s);
                char *own = strip_fragment(abs);
                base = intern(set, own);
                ct_free(own);
                const char *h = strchr(abs, '#');
                if (h && h[1] && legacy(dialect))
                    anchor_put(set, base, h + 1, n, false);
                ct_free(abs);
                res_put(set, base, n);
                resource = true;
            }
        }
        if (!legacy(dialect)) {
            if (a && a->kind == CT_STRING)
                anchor_put(set, base, a->u.str, n, false);
            if (da && da->kind == CT_STRING && modern2020(dialect))
                anchor_put(set, base, da->u.str, n, true);
        }
    }
    struct ninfo *in = info_put(set, n);
    in->base = base;
    in->parent = at->parent;
    in->tok1 = at->tok1;
    in->tok2 = at->tok2;
    in->index = at->index;
    in->is_item = at->is_item;
    in->dialect = dialect;
    in->vocab = vocab;
    in->resource = resource;
    if (n->kind != CT_OBJECT)
        return;
    for (uint32_t i = 0; i < n->len; i++) {
        const struct ct_member *m = &n->u.members[i];
        unsigned sk = sub_kind(m->key->u.str);
        const struct ct_node *v = m->val;
        if (!sk)
            continue;
        struct place c = {.parent = in, .tok1 = m->key};
        if ((sk & SUB_OBJ) && v->kind == CT_OBJECT) {
            for (uint32_t j = 0; j < v->len; j++) {
                c.tok2 = v->u.members[j].key;
                scan(set, v->u.members[j].val, base, dialect, vocab, &c, depth + 1);
            }
        } else if ((sk & SUB_ARR) && v->kind == CT_ARRAY) {
            c.is_item = true;
            for (uint32_t j = 0; j < v->len; j++) {
                c.index = j;
                scan(set, v->u.items[j], base, dialect, vocab, &c, depth + 1);
            }
        } else if (sk & SUB_ONE) {
            scan(set, v, base, dialect, vocab, &c, depth + 1);
        }
    }
}

/* Literal data holds no schema: examples, defaults, enums, constants and extensions are not
 * searched (they are most of a big spec's nodes). */
static bool literal_member(const struct ct_member *m)
{
    const char *ks = m->key->u.str;
    return (ks[0] == 'x' && ks[1] == '-') || !strcmp(ks, "example") || !strcmp(ks, "default") ||
           !strcmp(ks, "enum") || !strcmp(ks, "const") ||
           (!strcmp(ks, "examples") && m->val->kind == CT_ARRAY);
}

/* Where does `want` sit under `cur`? Appends its JSON Pointer to ptr (the first path in
 * document order); false when it is not there. For messages only: a walk of the document. */
static bool find_path(const struct ct_node *cur, const struct ct_node *want, struct ct_buf *ptr,
                      unsigned depth)
{
    if (cur == want)
        return true;
    if (depth > 512)
        return false;
    size_t mark = ptr->len;
    for (uint32_t i = 0; i < cur->len; i++) {
        const struct ct_node *v;
        if (cur->kind == CT_OBJECT) {
            const struct ct_member *m = &cur->u.members[i];
            if (literal_member(m))
                continue;
            v = m->val;
            if (v->kind != CT_OBJECT && v->kind != CT_ARRAY && v != want)
                continue;
            ct_pointer_append(ptr, m->key->u.str, m->key->len);
        } else if (cur->kind == CT_ARRAY) {
            v = cur->u.items[i];
            if (v->kind != CT_OBJECT && v->kind != CT_ARRAY && v != want)
                continue;
            ct_buf_printf(ptr, "/%u", i);
        } else {
            return false;
        }
        if (find_path(v, want, ptr, depth + 1))
            return true;
        ptr->len = mark;
    }
    return false;
}

/* The JSON Pointer of a scanned node, composed from its scan parents the first time it is
 * asked for and then kept. Safe to call from several threads at once (validators share a set):
 * a racing second composition is dropped. */
static const char *info_ptr(const struct ninfo *cin)
{
    struct ninfo *in = (struct ninfo *)cin;
    char *p = __atomic_load_n(&in->ptr, __ATOMIC_ACQUIRE);
    if (p)
        return p;
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (in->parent) {
        ct_buf_adds(&b, info_ptr(in->parent));
        ct_pointer_append(&b, in->tok1->u.str, in->tok1->len);
        if (in->tok2)
            ct_pointer_append(&b, in->tok2->u.str, in->tok2->len);
        else if (in->is_item)
            ct_buf_printf(&b, "/%u", in->index);
    } else if (in->tok1 && !find_path(in->tok1, in->node, &b, 0)) {
        b.len = 0; /* not inside its document's structure: no location */
    }
    p = ct_buf_steal(&b, NULL);
    if (!p)
        p = ct_xstrdup("");
    char *expected = NULL;
    if (!__atomic_compare_exchange_n(&in->ptr, &expected, p, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        ct_free(p);
        p = expected;
    }
    return p;
}

/* Make sure `n` has scan information: scan its document from the root when the root is a
 * schema, otherwise scan from `n` with the document's base URI. */
static void ensure_scanned(struct ct_schema_set *set, const struct ct_node *n, const char *fb_base,
                           uint8_t fb_dialect)
{
    if (info_get(set, n))
        return;
    const struct ct_node *root = ct_docset_root_of(set->ds, n);
    uint8_t vocab = V_ALL | (set->opts.format_assert ? V_FORMAT_ASSERT : 0);
    struct place top = {.tok1 = root};
    if (root && !info_get(set, root)) {
        char *b = doc_base(root);
        const char *ib = intern(set, b);
        ct_free(b);
        res_put(set, ib, root);
        scan(set, root, ib, fb_dialect, vocab, &top, 0);
    }
    if (!info_get(set, n)) {
        const char *ib;
        if (fb_base) {
            ib = intern(set, fb_base);
        } else if (root && root == set->last_root) {
            ib = set->last_root_base; /* most schemas compiled come from one document */
        } else {
            char *b = root ? doc_base(root) : ct_xstrdup("file:schema");
            ib = intern(set, b);
            ct_free(b);
            if (root) {
                set->last_root = root;
                set->last_root_base = ib;
            }
        }
        scan(set, n, ib, fb_dialect, vocab, &top, 0);
    }
}

/* Load the document a URI names: an embedded metaschema, a --remote prefix map, or a file: URI.
 * Returns its root (registered as a resource under `uri`), or NULL. */
static const struct ct_node *load_uri(struct ct_schema_set *set, const char *uri,
                                      const struct ct_node *at, uint8_t dialect)
{
    struct ct_node *root = NULL;
    size_t ulen = strlen(uri);
    for (const struct ct__metaschema *m = ct__metaschemas; m->uri && !root; m++)
        if (!strcmp(m->uri, uri))
            root = ct_docset_load_text(set->ds, m->uri, m->text, strlen(m->text), set->diags);
    for (size_t i = 0; i < set->opts.nremotes && !root; i++) {
        const struct ct_schema_remote *r = &set->opts.remotes[i];
        size_t pl = strlen(r->prefix);
        if (ulen < pl || memcmp(uri, r->prefix, pl))
            continue;
        size_t dl = strlen(r->dir);
        char *path = ct_xasprintf("%s%s%s", r->dir, dl && r->dir[dl - 1] == '/' ? "" : "/",
                                  uri + pl);
        root = ct_docset_load(set->ds, path, set->diags);
        ct_free(path);
        if (!root)
            set->errors++;
    }
    if (!root && !strncmp(uri, "file:", 5)) {
        const char *path = uri + 5;
        if (!strncmp(path, "//", 2))
            path += 2;
        root = ct_docset_load(set->ds, path, set->diags);
        if (!root)
            set->errors++;
    }
    if (!root)
        return NULL;
    (void)at;
    res_put(set, uri, root);
    if (!info_get(set, root)) {
        struct place top = {.tok1 = root};
        scan(set, root, intern(set, uri), dialect,
             V_ALL | (set->opts.format_assert ? V_FORMAT_ASSERT : 0), &top, 0);
    }
    return res_get(set, uri);
}

/* Resolve a reference written at `at` (the keyword value) against `base`. Returns the target
 * node and sets *target_base to the URI of its resource (arena string), or NULL with a
 * diagnostic. *anchor_dyn tells whether the fragment named a dynamic anchor. */
static const struct ct_node *resolve_ref_once(struct ct_schema_set *set,
                                              const struct ct_node *at, const char *base,
                                              const char *ref, uint8_t dialect,
                                              const char **target_base, bool *anchor_dyn)
{
    char *abs = NULL, *uri;
    const char *frag;
    if (ref[0] == '#' && !strchr(base, '#')) {
        /* Same document (RFC 3986 5.2.2): the base itself and the fragment as written. */
        uri = ct_xstrdup(base);
        frag = ref + 1;
    } else {
        abs = ct__uri_resolve(base, ref);
        uri = strip_fragment(abs);
        const char *h = strchr(abs, '#');
        frag = h ? h + 1 : "";
    }
    const struct ct_node *target = NULL;
    if (anchor_dyn)
        *anchor_dyn = false;
    const struct ct_node *root = res_get(set, uri);
    if (!root) {
        size_t before = set->errors;
        root = load_uri(set, uri, at, dialect);
        if (!root && before == set->errors) {
            struct ct_diag *g = ct_diags_add(
                set->diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                "cannot resolve $ref '%s': no schema has the URI '%s'", ref, uri);
            set->errors++;
            ct_diag_set_hint(g, "load the document, or map its URL prefix to a directory with "
                                "a remote map (runner: --remote URL=DIR)");
        } else if (!root) {
            ct_diags_add(set->diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                         "cannot resolve $ref '%s': loading '%s' failed", ref, uri);
        }
    }
    if (root) {
        if (!frag[0]) {
            target = root;
        } else if (frag[0] == '/') {
            target = ct_pointer_get(root, frag, strlen(frag), true);
            if (!target) {
                ct_diags_add(set->diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                             "cannot resolve $ref '%s': the pointer '%s' finds nothing in '%s'",
                             ref, frag, uri);
                set->errors++;
            }
        } else {
            const struct anchor *a = anchor_get(set, uri, frag);
            if (a) {
                target = a->node;
                if (anchor_dyn)
                    *anchor_dyn = a->dynamic;
            } else {
                ct_diags_add(set->diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                             "cannot resolve $ref '%s': no anchor '%s' in '%s'", ref, frag, uri);
                set->errors++;
            }
        }
    }
    if (target && target_base)
        *target_base = intern(set, uri);
    ct_free(abs);
    ct_free(uri);
    return target;
}

/* resolve_ref_once, remembered by (base URI, reference text) when it succeeds: a big spec
 * writes the same few thousand references tens of thousands of times. */
static const struct ct_node *resolve_ref(struct ct_schema_set *set, const struct ct_node *at,
                                         const char *base, const char *ref, uint8_t dialect,
                                         const char **target_base, bool *anchor_dyn)
{
    uint32_t h = str_hash(ref) ^ str_hash(base);
    for (size_t i = set->caprefs ? h & (set->caprefs - 1) : 0; set->caprefs && set->refs[i].ref;
         i = (i + 1) & (set->caprefs - 1)) {
        const struct refmemo *e = &set->refs[i];
        if (e->hash == h && !strcmp(e->ref, ref) && !strcmp(e->base, base)) {
            if (target_base)
                *target_base = e->target_base;
            if (anchor_dyn)
                *anchor_dyn = e->dyn;
            return e->target;
        }
    }
    size_t errors = set->errors, ndiags = set->diags->n;
    const char *tb = NULL;
    bool dyn = false;
    const struct ct_node *t = resolve_ref_once(set, at, base, ref, dialect, &tb, &dyn);
    if (target_base)
        *target_base = tb;
    if (anchor_dyn)
        *anchor_dyn = dyn;
    if (!t || set->errors != errors || set->diags->n != ndiags)
        return t;
    if ((set->nrefs + 1) * 2 > set->caprefs) {
        size_t ncap = set->caprefs ? set->caprefs * 2 : 256;
        struct refmemo *nt = ct_xcalloc(ncap, sizeof(*nt));
        for (size_t i = 0; i < set->caprefs; i++) {
            if (!set->refs[i].ref)
                continue;
            size_t j = set->refs[i].hash & (ncap - 1);
            while (nt[j].ref)
                j = (j + 1) & (ncap - 1);
            nt[j] = set->refs[i];
        }
        ct_free(set->refs);
        set->refs = nt;
        set->caprefs = ncap;
    }
    size_t i = h & (set->caprefs - 1);
    while (set->refs[i].ref)
        i = (i + 1) & (set->caprefs - 1);
    set->refs[i] = (struct refmemo){intern(set, base), intern(set, ref), h, t, tb, dyn};
    set->nrefs++;
    return t;
}

/* --- the keywords of one schema object ----------------------------------------------------- */

/* A schema object's keywords, found in one pass over its members: looking each of the ~50
 * keywords up by name cost more than the rest of compiling a node. */
enum kwid {
    K_DREF,
    K_TYPE,
    K_ENUM,
    K_CONST,
    K_NULLABLE,
    K_MULTIPLE_OF,
    K_MAXIMUM,
    K_EXCLUSIVE_MAXIMUM,
    K_MINIMUM,
    K_EXCLUSIVE_MINIMUM,
    K_MAX_LENGTH,
    K_MIN_LENGTH,
    K_PATTERN,
    K_FORMAT,
    K_CONTENT_ENCODING,
    K_CONTENT_MEDIA_TYPE,
    K_MAX_ITEMS,
    K_MIN_ITEMS,
    K_UNIQUE_ITEMS,
    K_ITEMS,
    K_PREFIX_ITEMS,
    K_ADDITIONAL_ITEMS,
    K_CONTAINS,
    K_MIN_CONTAINS,
    K_MAX_CONTAINS,
    K_MAX_PROPERTIES,
    K_MIN_PROPERTIES,
    K_PROPERTIES,
    K_PATTERN_PROPERTIES,
    K_ADDITIONAL_PROPERTIES,
    K_REQUIRED,
    K_DEPENDENCIES,
    K_DEPENDENT_REQUIRED,
    K_DEPENDENT_SCHEMAS,
    K_PROPERTY_NAMES,
    K_DDYNAMIC_REF,
    K_DRECURSIVE_REF,
    K_DISCRIMINATOR,
    K_ALL_OF,
    K_ANY_OF,
    K_ONE_OF,
    K_NOT,
    K_IF,
    K_THEN,
    K_ELSE,
    K_UNEVALUATED_ITEMS,
    K_UNEVALUATED_PROPERTIES,
    K_READ_ONLY,
    K_WRITE_ONLY,
    K_DRECURSIVE_ANCHOR,
    K_COUNT /* not a keyword we compile */
};

struct kwtab {
    const struct ct_member *m[K_COUNT + 1];
};

static enum kwid kw_id(const char *k)
{
    switch (k[0]) {
    case '$':
        if (!strcmp(k, "$ref"))
            return K_DREF;
        if (!strcmp(k, "$dynamicRef"))
            return K_DDYNAMIC_REF;
        if (!strcmp(k, "$recursiveRef"))
            return K_DRECURSIVE_REF;
        if (!strcmp(k, "$recursiveAnchor"))
            return K_DRECURSIVE_ANCHOR;
        return K_COUNT;
    case 'a':
        if (!strcmp(k, "additionalItems"))
            return K_ADDITIONAL_ITEMS;
        if (!strcmp(k, "additionalProperties"))
            return K_ADDITIONAL_PROPERTIES;
        if (!strcmp(k, "allOf"))
            return K_ALL_OF;
        if (!strcmp(k, "anyOf"))
            return K_ANY_OF;
        return K_COUNT;
    case 'c':
        if (!strcmp(k, "const"))
            return K_CONST;
        if (!strcmp(k, "contentEncoding"))
            return K_CONTENT_ENCODING;
        if (!strcmp(k, "contentMediaType"))
            return K_CONTENT_MEDIA_TYPE;
        if (!strcmp(k, "contains"))
            return K_CONTAINS;
        return K_COUNT;
    case 'd':
        if (!strcmp(k, "dependencies"))
            return K_DEPENDENCIES;
        if (!strcmp(k, "dependentRequired"))
            return K_DEPENDENT_REQUIRED;
        if (!strcmp(k, "dependentSchemas"))
            return K_DEPENDENT_SCHEMAS;
        if (!strcmp(k, "discriminator"))
            return K_DISCRIMINATOR;
        return K_COUNT;
    case 'e':
        if (!strcmp(k, "enum"))
            return K_ENUM;
        if (!strcmp(k, "exclusiveMaximum"))
            return K_EXCLUSIVE_MAXIMUM;
        if (!strcmp(k, "exclusiveMinimum"))
            return K_EXCLUSIVE_MINIMUM;
        if (!strcmp(k, "else"))
            return K_ELSE;
        return K_COUNT;
    case 'f':
        if (!strcmp(k, "format"))
            return K_FORMAT;
        return K_COUNT;
    case 'i':
        if (!strcmp(k, "items"))
            return K_ITEMS;
        if (!strcmp(k, "if"))
            return K_IF;
        return K_COUNT;
    case 'm':
        if (!strcmp(k, "multipleOf"))
            return K_MULTIPLE_OF;
        if (!strcmp(k, "maximum"))
            return K_MAXIMUM;
        if (!strcmp(k, "minimum"))
            return K_MINIMUM;
        if (!strcmp(k, "maxLength"))
            return K_MAX_LENGTH;
        if (!strcmp(k, "minLength"))
            return K_MIN_LENGTH;
        if (!strcmp(k, "maxItems"))
            return K_MAX_ITEMS;
        if (!strcmp(k, "minItems"))
            return K_MIN_ITEMS;
        if (!strcmp(k, "minContains"))
            return K_MIN_CONTAINS;
        if (!strcmp(k, "maxContains"))
            return K_MAX_CONTAINS;
        if (!strcmp(k, "maxProperties"))
            return K_MAX_PROPERTIES;
        if (!strcmp(k, "minProperties"))
            return K_MIN_PROPERTIES;
        return K_COUNT;
    case 'n':
        if (!strcmp(k, "nullable"))
            return K_NULLABLE;
        if (!strcmp(k, "not"))
            return K_NOT;
        return K_COUNT;
    case 'o':
        if (!strcmp(k, "oneOf"))
            return K_ONE_OF;
        return K_COUNT;
    case 'p':
        if (!strcmp(k, "pattern"))
            return K_PATTERN;
        if (!strcmp(k, "prefixItems"))
            return K_PREFIX_ITEMS;
        if (!strcmp(k, "properties"))
            return K_PROPERTIES;
        if (!strcmp(k, "patternProperties"))
            return K_PATTERN_PROPERTIES;
        if (!strcmp(k, "propertyNames"))
            return K_PROPERTY_NAMES;
        return K_COUNT;
    case 'r':
        if (!strcmp(k, "required"))
            return K_REQUIRED;
        if (!strcmp(k, "readOnly"))
            return K_READ_ONLY;
        return K_COUNT;
    case 't':
        if (!strcmp(k, "type"))
            return K_TYPE;
        if (!strcmp(k, "then"))
            return K_THEN;
        return K_COUNT;
    case 'u':
        if (!strcmp(k, "uniqueItems"))
            return K_UNIQUE_ITEMS;
        if (!strcmp(k, "unevaluatedItems"))
            return K_UNEVALUATED_ITEMS;
        if (!strcmp(k, "unevaluatedProperties"))
            return K_UNEVALUATED_PROPERTIES;
        return K_COUNT;
    case 'w':
        if (!strcmp(k, "writeOnly"))
            return K_WRITE_ONLY;
        return K_COUNT;
    default:
        return K_COUNT;
    }
}

static void kwtab_fill(struct kwtab *t, const struct ct_node *n)
{
    memset(t, 0, sizeof(*t));
    for (uint32_t i = 0; i < n->len; i++) {
        enum kwid id = kw_id(n->u.members[i].key->u.str);
        if (!t->m[id])
            t->m[id] = &n->u.members[i];
    }
}

/* The keyword's value when it is the boolean true. */
static bool kw_true(const struct kwtab *t, enum kwid id)
{
    return t->m[id] && t->m[id]->val->kind == CT_BOOL && (t->m[id]->val->flags & CT_NF_TRUE);
}

/* The keyword's value when it is a string, else NULL. */
static const char *kw_str(const struct kwtab *t, enum kwid id)
{
    return t->m[id] && t->m[id]->val->kind == CT_STRING ? t->m[id]->val->u.str : NULL;
}

/* --- compiling keywords --------------------------------------------------------------------- */

static struct ct_snode *compile_node(struct ct_schema_set *set, const struct ct_node *n,
                                     const char *fb_base, uint8_t fb_dialect);

struct kwbuf {
    struct ct_kw v[48];
    uint32_t n;
    struct kwtab tab; /* the node's keywords */
};

static struct ct_kw *kw_add(struct kwbuf *kb, enum ct_kwk kind, const struct ct_member *at)
{
    /* There are fewer keyword kinds than slots, and each is added at most once per node. */
    if (kb->n >= sizeof(kb->v) / sizeof(kb->v[0]))
        kb->n--;
    struct ct_kw *k = &kb->v[kb->n++];
    memset(k, 0, sizeof(*k));
    k->kind = (uint8_t)kind;
    k->at = at;
    return k;
}

static bool get_count(struct ct_schema_set *set, const struct ct_member *m, uint64_t *out)
{
    const struct ct_node *v = m->val;
    if (v->kind != CT_NUMBER || !ct_num_is_integer(v) || (v->flags & CT_NF_NEG)) {
        if (v->kind == CT_NUMBER && ct_num_is_integer(v) && v->num == 0) {
            *out = 0;
            return true;
        }
        struct ct_buf b;
        ct_buf_init(&b, 0);
        describe(&b, v);
        serr(set, m->key, "'%s' expects a non-negative integer, got %s", m->key->u.str,
             ct_buf_cstr(&b));
        ct_buf_deinit(&b);
        return false;
    }
    *out = v->num >= 1.8e19 ? UINT64_MAX : (uint64_t)v->num;
    return true;
}

static bool get_num(struct ct_schema_set *set, const struct ct_member *m, struct ct_kw_num *out)
{
    const struct ct_node *v = m->val;
    if (v->kind != CT_NUMBER) {
        struct ct_buf b;
        ct_buf_init(&b, 0);
        describe(&b, v);
        serr(set, m->key, "'%s' expects a number, got %s", m->key->u.str, ct_buf_cstr(&b));
        ct_buf_deinit(&b);
        return false;
    }
    out->val = v;
    out->d = v->num;
    out->exact = (v->flags & CT_NF_EXACT) != 0;
    return true;
}

static const struct ct_snode *sub(struct ct_schema_set *set, const struct ct_node *v,
                                  const struct ct_node *parent)
{
    if (v->kind != CT_OBJECT && v->kind != CT_BOOL)
        return NULL;
    const struct ninfo *pi = info_get(set, parent);
    return compile_node(set, v, pi ? pi->base : NULL, pi ? pi->dialect : CT_DIALECT_2020_12);
}

static bool want_schema(struct ct_schema_set *set, const struct ct_member *m)
{
    if (m->val->kind == CT_OBJECT || m->val->kind == CT_BOOL)
        return true;
    serr(set, m->key, "'%s' expects a schema (an object or a boolean), got %s", m->key->u.str,
         ct_node_type_name(m->val));
    return false;
}

static bool subs_array(struct ct_schema_set *set, const struct ct_member *m,
                       const struct ct_node *parent, const struct ct_snode ***out, uint32_t *n)
{
    const struct ct_node *v = m->val;
    if (v->kind != CT_ARRAY) {
        serr(set, m->key, "'%s' expects an array of schemas, got %s", m->key->u.str,
             ct_node_type_name(v));
        return false;
    }
    *out = ct_arena_alloc(&set->arena, (v->len ? v->len : 1) * sizeof(**out));
    *n = v->len;
    for (uint32_t i = 0; i < v->len; i++) {
        if (v->u.items[i]->kind != CT_OBJECT && v->u.items[i]->kind != CT_BOOL) {
            serr(set, v->u.items[i], "'%s' expects schemas (objects or booleans), got %s",
                 m->key->u.str, ct_node_type_name(v->u.items[i]));
            return false;
        }
        (*out)[i] = sub(set, v->u.items[i], parent);
    }
    return true;
}

static struct ct_regex *regex_add(struct ct_schema_set *set, const struct ct_node *pat)
{
    struct ct_regex *re = ct_arena_zalloc(&set->arena, sizeof(*re));
    char *msg = NULL;
    size_t off = 0;
    if (ct__regex_compile(re, pat->u.str, pat->len, &msg, &off) && set->opts.lenient_patterns) {
        char *nmsg = NULL;
        size_t noff = 0;
        if (ct__regex_compile_native(re, pat->u.str, pat->len, &nmsg, &noff) == 0) {
            struct ct_diag *g = ct_diags_add(
                set->diags, CT_SEV_WARNING, CT_E_SCHEMA, pat->src, pat->line, pat->col,
                "pattern '%s' is not an ECMAScript regular expression (%s): compiled with PCRE2's "
                "own syntax, which other tools may not share",
                pat->u.str, msg);
            ct_diag_set_hint(g, "write it in ECMA-262 syntax to keep it portable");
            ct_free(msg);
            msg = NULL;
        } else {
            ct_free(nmsg);
        }
    }
    if (msg || !re->code) {
        struct ct_diag *g =
            ct_diags_add(set->diags, CT_SEV_ERROR, CT_E_SCHEMA, pat->src, pat->line,
                         pat->col, "invalid regular expression '%s': %s (at offset %zu)",
                         pat->u.str, msg, off);
        ct_diag_set_hint(g, "patterns are ECMAScript (ECMA-262) regular expressions");
        set->errors++;
        ct_free(msg);
        return NULL;
    }
    re->source = pat->u.str;
    set->regexes = ct_xgrow(set->regexes, &set->capre, set->nre + 1, sizeof(*set->regexes));
    set->regexes[set->nre++] = re;
    return re;
}

static bool string_array(struct ct_schema_set *set, const struct ct_member *m,
                         struct ct_req **out, uint32_t *n)
{
    const struct ct_node *v = m->val;
    if (v->kind != CT_ARRAY) {
        serr(set, m->key, "'%s' expects an array of strings, got %s", m->key->u.str,
             ct_node_type_name(v));
        return false;
    }
    *out = ct_arena_zalloc(&set->arena, (v->len ? v->len : 1) * sizeof(**out));
    *n = v->len;
    for (uint32_t i = 0; i < v->len; i++) {
        if (v->u.items[i]->kind != CT_STRING) {
            serr(set, v->u.items[i], "'%s' expects strings, got %s", m->key->u.str,
                 ct_node_type_name(v->u.items[i]));
            return false;
        }
        (*out)[i].name = v->u.items[i]->u.str;
        (*out)[i].len = v->u.items[i]->len;
    }
    return true;
}

static uint32_t type_bit(const char *t)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } types[] = {{"null", CT_T_NULL},     {"boolean", CT_T_BOOLEAN}, {"object", CT_T_OBJECT},
                 {"array", CT_T_ARRAY},   {"number", CT_T_NUMBER},   {"string", CT_T_STRING},
                 {"integer", CT_T_INTEGER}};
    for (size_t i = 0; i < NELEM(types); i++)
        if (!strcmp(t, types[i].name))
            return types[i].bit;
    return 0;
}

static bool compile_type(struct ct_schema_set *set, const struct ct_member *m, uint32_t *types)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "string",  "integer"};
    const struct ct_node *v = m->val;
    const struct ct_node *one = v;
    uint32_t n = 1;
    if (v->kind == CT_ARRAY)
        n = v->len;
    *types = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (v->kind == CT_ARRAY)
            one = v->u.items[i];
        if (one->kind != CT_STRING) {
            serr(set, one, "'type' expects a type name or an array of them, got %s",
                 ct_node_type_name(one));
            return false;
        }
        uint32_t b = type_bit(one->u.str);
        if (!b) {
            struct ct_diag *g = serr(set, one,
                                     "unknown type '%s': expected null, boolean, object, array, "
                                     "number, string or integer",
                                     one->u.str);
            const char *best = ct_did_you_mean(one->u.str, names, NELEM(names));
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
            return false;
        }
        *types |= b;
    }
    return true;
}

static const struct ct_snode *follow_ref(const struct ct_snode *s)
{
    for (int hops = 0; s && hops < 8; hops++) {
        if (s->flags & (CT_SN_READONLY | CT_SN_WRITEONLY))
            return s;
        const struct ct_snode *next = NULL;
        for (uint32_t i = 0; i < s->nkw; i++)
            if (s->kw[i].kind == CT_KW_REF)
                next = s->kw[i].u.sub;
        s = next;
    }
    return s;
}

static void compile_discriminator(struct ct_schema_set *set, const struct ct_member *m,
                                  const struct ct_node *n, const struct ninfo *ni,
                                  struct kwbuf *kb)
{
    const struct ct_node *d = m->val;
    const struct ct_node *pn = ct_obj_get(d, "propertyName");
    if (d->kind != CT_OBJECT || !pn || pn->kind != CT_STRING) {
        serr(set, m->key, "'discriminator' expects an object with a string 'propertyName'");
        return;
    }
    const struct ct_node *alts = ct_obj_get(n, "oneOf");
    if (!alts)
        alts = ct_obj_get(n, "anyOf");
    const struct ct_node *mapping = ct_obj_get(d, "mapping");
    if (!alts || alts->kind != CT_ARRAY)
        return; /* on a base schema used through allOf it is only an annotation */
    struct ct_kw_disc *dc = ct_arena_zalloc(&set->arena, sizeof(*dc));
    uint32_t cap = alts->len + (mapping && mapping->kind == CT_OBJECT ? mapping->len : 0);
    dc->prop = pn->u.str;
    dc->values = ct_arena_zalloc(&set->arena, (cap ? cap : 1) * sizeof(*dc->values));
    dc->subs = ct_arena_zalloc(&set->arena, (cap ? cap : 1) * sizeof(*dc->subs));
    if (mapping && mapping->kind == CT_OBJECT) {
        for (uint32_t i = 0; i < mapping->len; i++) {
            const struct ct_member *mm = &mapping->u.members[i];
            if (mm->val->kind != CT_STRING) {
                serr(set, mm->val, "discriminator mapping values must be strings");
                continue;
            }
            const char *r = mm->val->u.str;
            char *tmp = NULL;
            if (!strchr(r, '/') && !strchr(r, '#'))
                r = tmp = ct_xasprintf("#/components/schemas/%s", r);
            const char *tb = NULL;
            const struct ct_node *t = resolve_ref(set, mm->val, ni->base, r, ni->dialect, &tb, NULL);
            ct_free(tmp);
            if (!t)
                continue;
            dc->values[dc->n] = mm->key->u.str;
            dc->subs[dc->n++] = compile_node(set, t, tb, ni->dialect);
        }
    }
    /* Implicit mapping: a `$ref` alternative ending in /Name is chosen by the value "Name". */
    for (uint32_t i = 0; i < alts->len; i++) {
        const char *r = ct_obj_str(alts->u.items[i], "$ref");
        if (!r)
            continue;
        const char *slash = strrchr(r, '/');
        const char *name = slash ? slash + 1 : r;
        bool dup = false;
        for (uint32_t j = 0; j < dc->n; j++)
            dup |= !strcmp(dc->values[j], name);
        if (dup)
            continue;
        const struct ct_snode *s = sub(set, alts->u.items[i], n);
        if (!s)
            continue;
        dc->values[dc->n] = name;
        dc->subs[dc->n++] = s;
    }
    struct ct_kw *k = kw_add(kb, CT_KW_DISCRIMINATOR, m);
    k->u.disc = dc;
}

/* When every name in `required` is a declared property, give each property the bits of the
 * entries naming it, so that the validator checks `required` in one pass over the instance's
 * members (matched through the `properties` table) instead of one lookup per name. */
static void required_fast_path(struct ct_kw_props *pr, struct ct_kw *k)
{
    uint32_t n = k->u.req.n, at[64];
    if (!pr || !pr->nprops || n > 64)
        return;
    for (uint32_t i = 0; i < n; i++)
        if (!(at[i] = ct__prop_index(pr, k->u.req.v[i].name, k->u.req.v[i].len)))
            return; /* a required name without a property: the general check */
    for (uint32_t i = 0; i < n; i++) {
        pr->props[at[i] - 1].reqbits |= (uint64_t)1 << i;
        if (k->u.req.v[i].rw & 1)
            k->u.req.ro |= (uint64_t)1 << i;
        if (k->u.req.v[i].rw & 2)
            k->u.req.wo |= (uint64_t)1 << i;
    }
    k->u.req.props = pr;
}

static void compile_keywords(struct ct_schema_set *set, struct ct_snode *sn,
                             const struct ct_node *n, const struct kwtab *kt, struct kwbuf *kb)
{
    const struct ninfo *ni0 = info_get(set, n);
    struct ninfo ni = *ni0; /* a copy: the table may grow while children compile */
    uint8_t d = ni.dialect;
    bool app = (ni.vocab & V_APPLICATOR) != 0;
    bool val = (ni.vocab & V_VALIDATION) != 0;
    const struct ct_member *m;

    const struct ct_member *ref = kt->m[K_DREF];
    if (ref && ref->val->kind == CT_STRING) {
        const char *tb = NULL;
        const struct ct_node *t =
            resolve_ref(set, ref->val, ni.base, ref->val->u.str, d, &tb, NULL);
        if (t) {
            struct ct_kw *k = kw_add(kb, CT_KW_REF, ref);
            k->u.sub = compile_node(set, t, tb, d);
        }
        if (legacy(d))
            return; /* draft 4-7 and OpenAPI 3.0: $ref replaces its siblings */
    } else if (ref) {
        serr(set, ref->key, "'$ref' expects a URI reference string, got %s",
             ct_node_type_name(ref->val));
    }

    bool nullable = d == CT_DIALECT_OAS30 && kw_true(kt, K_NULLABLE);
    if (val && (m = kt->m[K_TYPE])) {
        uint32_t t;
        if (compile_type(set, m, &t)) {
            struct ct_kw *k = kw_add(kb, CT_KW_TYPE, m);
            k->u.types = t | (nullable ? CT_T_NULL : 0);
            if (d == CT_DIALECT_DRAFT4)
                k->flags |= CT_KF_STRICTINT;
        }
    }
    if (val && (m = kt->m[K_ENUM])) {
        if (m->val->kind != CT_ARRAY) {
            serr(set, m->key, "'enum' expects an array, got %s", ct_node_type_name(m->val));
        } else {
            struct ct_kw *k = kw_add(kb, CT_KW_ENUM, m);
            k->u.list.v = (const struct ct_node **)m->val->u.items;
            k->u.list.n = m->val->len;
            if (nullable)
                k->flags |= CT_KF_NULLABLE;
        }
    }
    if (val && !draft4ish(d) && (m = kt->m[K_CONST]))
        kw_add(kb, CT_KW_CONST, m)->u.value = m->val;

    /* numbers */
    if (val && (m = kt->m[K_MULTIPLE_OF])) {
        struct ct_kw_num num;
        if (get_num(set, m, &num)) {
            if (num.d <= 0 && !(m->val->flags & CT_NF_NEG) && num.d == 0)
                serr(set, m->key, "'multipleOf' expects a number greater than 0, got 0");
            else if (m->val->flags & CT_NF_NEG)
                serr(set, m->key, "'multipleOf' expects a number greater than 0, got %.*s",
                     (int)m->val->len, m->val->u.text);
            else
                kw_add(kb, CT_KW_MULTIPLEOF, m)->u.num = num;
        }
    }
    static const struct {
        const char *name, *excl;
        enum ct_kwk kind;
        enum kwid id, excl_id;
    } bounds[] = {{"maximum", "exclusiveMaximum", CT_KW_MAXIMUM, K_MAXIMUM, K_EXCLUSIVE_MAXIMUM},
                  {"minimum", "exclusiveMinimum", CT_KW_MINIMUM, K_MINIMUM, K_EXCLUSIVE_MINIMUM}};
    for (size_t b = 0; val && b < 2; b++) {
        const struct ct_member *bm = kt->m[bounds[b].id];
        const struct ct_member *em = kt->m[bounds[b].excl_id];
        struct ct_kw_num num;
        if (draft4ish(d)) {
            if (bm && get_num(set, bm, &num)) {
                struct ct_kw *k = kw_add(kb, bounds[b].kind, bm);
                k->u.num = num;
                if (em && em->val->kind == CT_BOOL && (em->val->flags & CT_NF_TRUE))
                    k->flags |= CT_KF_EXCL;
            }
            if (em && em->val->kind != CT_BOOL)
                serr(set, em->key, "'%s' expects a boolean in this dialect (%s), got %s",
                     bounds[b].excl, ct_dialect_name(d), ct_node_type_name(em->val));
        } else {
            if (bm && get_num(set, bm, &num))
                kw_add(kb, bounds[b].kind, bm)->u.num = num;
            if (em && get_num(set, em, &num)) {
                struct ct_kw *k = kw_add(kb, bounds[b].kind, em);
                k->u.num = num;
                k->flags |= CT_KF_EXCL;
            }
        }
    }

    /* strings */
    uint64_t cnt;
    if (val && (m = kt->m[K_MAX_LENGTH]) && get_count(set, m, &cnt))
        kw_add(kb, CT_KW_MAXLENGTH, m)->u.count = cnt;
    if (val && (m = kt->m[K_MIN_LENGTH]) && get_count(set, m, &cnt))
        kw_add(kb, CT_KW_MINLENGTH, m)->u.count = cnt;
    if (val && (m = kt->m[K_PATTERN])) {
        if (m->val->kind != CT_STRING) {
            serr(set, m->key, "'pattern' expects a string, got %s", ct_node_type_name(m->val));
        } else {
            struct ct_regex *re = regex_add(set, m->val);
            if (re)
                kw_add(kb, CT_KW_PATTERN, m)->u.re = *re;
        }
    }
    if ((m = kt->m[K_FORMAT]) && m->val->kind == CT_STRING) {
        bool assert_ = set->opts.format_assert || (ni.vocab & V_FORMAT_ASSERT);
        bool rfc1123 = (d == CT_DIALECT_DRAFT4 || d == CT_DIALECT_DRAFT6) &&
                       !strcmp(m->val->u.str, "hostname");
        ct_format_fn fn = ct__format_lookup(rfc1123 ? "hostname-rfc1123" : m->val->u.str);
        if (assert_ && fn) {
            struct ct_kw *k = kw_add(kb, CT_KW_FORMAT, m);
            k->u.format.fn = fn;
            k->u.format.name = m->val->u.str;
        }
    }

    if (d == CT_DIALECT_DRAFT7) {
        const char *enc = kw_str(kt, K_CONTENT_ENCODING);
        const char *mt = kw_str(kt, K_CONTENT_MEDIA_TYPE);
        bool b64 = enc && !strcmp(enc, "base64");
        bool json = mt && !strcmp(mt, "application/json");
        if (b64 || json) {
            struct ct_kw *k =
                kw_add(kb, CT_KW_CONTENT, kt->m[json ? K_CONTENT_MEDIA_TYPE : K_CONTENT_ENCODING]);
            k->u.content.base64 = b64;
            k->u.content.json = json;
        }
    }

    /* arrays */
    if (val && (m = kt->m[K_MAX_ITEMS]) && get_count(set, m, &cnt))
        kw_add(kb, CT_KW_MAXITEMS, m)->u.count = cnt;
    if (val && (m = kt->m[K_MIN_ITEMS]) && get_count(set, m, &cnt))
        kw_add(kb, CT_KW_MINITEMS, m)->u.count = cnt;
    if (val && (m = kt->m[K_UNIQUE_ITEMS]) && m->val->kind == CT_BOOL &&
        (m->val->flags & CT_NF_TRUE))
        kw_add(kb, CT_KW_UNIQUE, m);
    if (app) {
        const struct ct_member *items = kt->m[K_ITEMS];
        const struct ct_member *prefix = modern2020(d) ? kt->m[K_PREFIX_ITEMS] : NULL;
        const struct ct_member *addl = !modern2020(d) ? kt->m[K_ADDITIONAL_ITEMS] : NULL;
        struct ct_kw_items it = {0};
        const struct ct_member *at = NULL;
        bool ok = true;
        if (items && items->val->kind == CT_ARRAY) {
            ok = subs_array(set, items, n, &it.prefix, &it.nprefix);
            at = items;
            if (addl && want_schema(set, addl)) {
                it.rest = sub(set, addl->val, n);
                it.at_rest = addl;
            }
        } else {
            if (prefix) {
                ok = subs_array(set, prefix, n, &it.prefix, &it.nprefix);
                at = prefix;
            }
            if (items && want_schema(set, items)) {
                it.rest = sub(set, items->val, n);
                it.at_rest = items;
                if (!at)
                    at = items;
            }
        }
        if (ok && at)
            kw_add(kb, CT_KW_ITEMS, at)->u.items = it;
        if (!draft4ish(d) && (m = kt->m[K_CONTAINS]) && want_schema(set, m)) {
            struct ct_kw *k = kw_add(kb, CT_KW_CONTAINS, m);
            k->u.contains.sub = sub(set, m->val, n);
            k->u.contains.min = 1;
            k->u.contains.max = UINT64_MAX;
            if (!legacy(d) && val) {
                const struct ct_member *mc = kt->m[K_MIN_CONTAINS];
                const struct ct_member *xc = kt->m[K_MAX_CONTAINS];
                if (mc && get_count(set, mc, &cnt)) {
                    k->u.contains.min = cnt;
                    k->u.contains.at_min = mc;
                }
                if (xc && get_count(set, xc, &cnt)) {
                    k->u.contains.max = cnt;
                    k->u.contains.at_max = xc;
                }
            }
        }
    }

    /* objects */
    if (val && (m = kt->m[K_MAX_PROPERTIES]) && get_count(set, m, &cnt))
        kw_add(kb, CT_KW_MAXPROPS, m)->u.count = cnt;
    if (val && (m = kt->m[K_MIN_PROPERTIES]) && get_count(set, m, &cnt))
        kw_add(kb, CT_KW_MINPROPS, m)->u.count = cnt;
    struct ct_kw_props *pr = NULL;
    if (app) {
        const struct ct_member *pm = kt->m[K_PROPERTIES];
        const struct ct_member *ppm = kt->m[K_PATTERN_PROPERTIES];
        const struct ct_member *am = kt->m[K_ADDITIONAL_PROPERTIES];
        if (pm || ppm || am) {
            pr = ct_arena_zalloc(&set->arena, sizeof(*pr));
            pr->at_props = pm;
            pr->at_pat = ppm;
            pr->at_add = am;
            if (pm && pm->val->kind == CT_OBJECT) {
                const struct ct_node *pv = pm->val;
                pr->nprops = pv->len;
                pr->props = ct_arena_zalloc(&set->arena, (pv->len + 1) * sizeof(*pr->props));
                uint32_t size = 4;
                while (size < pv->len * 2)
                    size *= 2;
                pr->tmask = size - 1;
                pr->table = ct_arena_zalloc(&set->arena, size * sizeof(uint32_t));
                for (uint32_t i = 0; i < pv->len; i++) {
                    const struct ct_member *pmm = &pv->u.members[i];
                    struct ct_prop *p = &pr->props[i];
                    p->name = pmm->key->u.str;
                    p->len = pmm->key->len;
                    p->hash = ct__key_hash(p->name, p->len);
                    if (want_schema(set, pmm))
                        p->sub = sub(set, pmm->val, n);
                    uint32_t j = p->hash & pr->tmask;
                    while (pr->table[j])
                        j = (j + 1) & pr->tmask;
                    pr->table[j] = i + 1;
                }
            } else if (pm) {
                serr(set, pm->key, "'properties' expects an object, got %s",
                     ct_node_type_name(pm->val));
            }
            if (ppm && ppm->val->kind == CT_OBJECT) {
                const struct ct_node *pv = ppm->val;
                pr->pat = ct_arena_zalloc(&set->arena, (pv->len + 1) * sizeof(*pr->pat));
                pr->patsub = ct_arena_zalloc(&set->arena, (pv->len + 1) * sizeof(*pr->patsub));
                for (uint32_t i = 0; i < pv->len; i++) {
                    struct ct_regex *re = regex_add(set, pv->u.members[i].key);
                    if (!re || !want_schema(set, &pv->u.members[i]))
                        continue;
                    pr->pat[pr->npat] = *re;
                    pr->patsub[pr->npat++] = sub(set, pv->u.members[i].val, n);
                }
            }
            if (am && want_schema(set, am))
                pr->additional = sub(set, am->val, n);
        }
    }
    if (val && (m = kt->m[K_REQUIRED]) && m->val->kind == CT_ARRAY) {
        struct ct_req *v;
        uint32_t cntr;
        if (string_array(set, m, &v, &cntr)) {
            for (uint32_t i = 0; pr && i < cntr; i++) {
                uint32_t j = ct__prop_index(pr, v[i].name, v[i].len);
                const struct ct_snode *t = j ? follow_ref(pr->props[j - 1].sub) : NULL;
                if (t && (t->flags & CT_SN_READONLY))
                    v[i].rw |= 1;
                if (t && (t->flags & CT_SN_WRITEONLY))
                    v[i].rw |= 2;
            }
            struct ct_kw *k = kw_add(kb, CT_KW_REQUIRED, m);
            k->u.req.v = v;
            k->u.req.n = cntr;
            required_fast_path(pr, k);
        }
    }
    if (pr)
        kw_add(kb, CT_KW_PROPS, pr->at_props ? pr->at_props : pr->at_pat ? pr->at_pat : pr->at_add)
            ->u.props = pr;

    /* dependencies (draft 4-7) and dependentRequired / dependentSchemas (2019-09+) */
    /* `dependencies` stays understood in 2019-09 and later for compatibility. */
    const struct ct_member *deps = kt->m[K_DEPENDENCIES];
    const struct ct_member *dreq = !legacy(d) && val ? kt->m[K_DEPENDENT_REQUIRED] : NULL;
    const struct ct_member *dsch = !legacy(d) && app ? kt->m[K_DEPENDENT_SCHEMAS] : NULL;
    const struct ct_member *srcs[4] = {dreq, dsch, deps, deps};
    for (int pass = 0; pass < 4; pass++) {
        const struct ct_member *dm = srcs[pass];
        bool reqpass = pass % 2 == 0;
        if (!dm || dm->val->kind != CT_OBJECT)
            continue;
        const struct ct_node *dv = dm->val;
        if (reqpass) {
            struct ct_depreq *v = ct_arena_zalloc(&set->arena, (dv->len + 1) * sizeof(*v));
            uint32_t cntd = 0;
            for (uint32_t i = 0; i < dv->len; i++) {
                const struct ct_member *e = &dv->u.members[i];
                if (e->val->kind != CT_ARRAY)
                    continue;
                v[cntd].name = e->key->u.str;
                v[cntd].len = e->key->len;
                if (string_array(set, e, &v[cntd].req, &v[cntd].nreq))
                    cntd++;
            }
            if (cntd) {
                struct ct_kw *k = kw_add(kb, CT_KW_DEPREQ, dm);
                k->u.depreq.v = v;
                k->u.depreq.n = cntd;
            }
        } else {
            struct ct_depsch *v = ct_arena_zalloc(&set->arena, (dv->len + 1) * sizeof(*v));
            uint32_t cntd = 0;
            for (uint32_t i = 0; i < dv->len; i++) {
                const struct ct_member *e = &dv->u.members[i];
                if (e->val->kind != CT_OBJECT && e->val->kind != CT_BOOL)
                    continue;
                v[cntd].name = e->key->u.str;
                v[cntd].len = e->key->len;
                v[cntd++].sub = sub(set, e->val, n);
            }
            if (cntd) {
                struct ct_kw *k = kw_add(kb, CT_KW_DEPSCHEMAS, dm);
                k->u.depsch.v = v;
                k->u.depsch.n = cntd;
            }
        }
    }
    if (app && !draft4ish(d) && (m = kt->m[K_PROPERTY_NAMES]) && want_schema(set, m))
        kw_add(kb, CT_KW_PROPNAMES, m)->u.sub = sub(set, m->val, n);

    /* dynamic references */
    if (d == CT_DIALECT_2020_12 || d == CT_DIALECT_OAS31) {
        if ((m = kt->m[K_DDYNAMIC_REF]) && m->val->kind == CT_STRING) {
            const char *tb = NULL;
            bool dyn = false;
            const struct ct_node *t =
                resolve_ref(set, m->val, ni.base, m->val->u.str, d, &tb, &dyn);
            if (t) {
                struct ct_kw *k = kw_add(kb, CT_KW_DYNREF, m);
                k->u.dyn.target = compile_node(set, t, tb, d);
                const char *h = strchr(m->val->u.str, '#');
                if (dyn && h && h[1] && h[1] != '/')
                    k->u.dyn.anchor = ct_arena_strdup(&set->arena, h + 1);
            }
        }
    } else if (d == CT_DIALECT_2019_09) {
        if ((m = kt->m[K_DRECURSIVE_REF]) && m->val->kind == CT_STRING) {
            const char *tb = NULL;
            const struct ct_node *t =
                resolve_ref(set, m->val, ni.base, m->val->u.str, d, &tb, NULL);
            if (t) {
                struct ct_kw *k = kw_add(kb, CT_KW_DYNREF, m);
                k->flags |= CT_KF_RECURSIVE;
                k->u.dyn.target = compile_node(set, t, tb, d);
                if (t->kind == CT_OBJECT && ct_obj_true(t, "$recursiveAnchor"))
                    k->u.dyn.anchor = "";
            }
        }
    }

    /* combinators */
    const struct ct_snode **sv;
    uint32_t sn_;
    bool has_disc = false;
    if ((d == CT_DIALECT_OAS30 || d == CT_DIALECT_OAS31) && (m = kt->m[K_DISCRIMINATOR])) {
        uint32_t before = kb->n;
        compile_discriminator(set, m, n, &ni, kb);
        has_disc = kb->n > before;
    }
    if (app && (m = kt->m[K_ALL_OF]) && subs_array(set, m, n, &sv, &sn_)) {
        struct ct_kw *k = kw_add(kb, CT_KW_ALLOF, m);
        k->u.subs.v = sv;
        k->u.subs.n = sn_;
    }
    if (app && (m = kt->m[K_ANY_OF]) && subs_array(set, m, n, &sv, &sn_) && !has_disc) {
        struct ct_kw *k = kw_add(kb, CT_KW_ANYOF, m);
        k->u.subs.v = sv;
        k->u.subs.n = sn_;
    }
    if (app && (m = kt->m[K_ONE_OF]) && subs_array(set, m, n, &sv, &sn_) && !has_disc) {
        struct ct_kw *k = kw_add(kb, CT_KW_ONEOF, m);
        k->u.subs.v = sv;
        k->u.subs.n = sn_;
    }
    if (app && (m = kt->m[K_NOT]) && want_schema(set, m))
        kw_add(kb, CT_KW_NOT, m)->u.sub = sub(set, m->val, n);
    if (app && (d == CT_DIALECT_DRAFT7 || !legacy(d)) && (m = kt->m[K_IF]) && want_schema(set, m)) {
        const struct ct_member *tm = kt->m[K_THEN];
        const struct ct_member *em = kt->m[K_ELSE];
        struct ct_kw *k = kw_add(kb, CT_KW_IF, m);
        k->u.cond.if_ = sub(set, m->val, n);
        k->u.cond.then_ = tm && want_schema(set, tm) ? sub(set, tm->val, n) : NULL;
        k->u.cond.else_ = em && want_schema(set, em) ? sub(set, em->val, n) : NULL;
    }
    if (!legacy(d) && (ni.vocab & V_UNEVALUATED)) {
        if ((m = kt->m[K_UNEVALUATED_ITEMS]) && want_schema(set, m)) {
            kw_add(kb, CT_KW_UNEVAL_ITEMS, m)->u.sub = sub(set, m->val, n);
            sn->flags |= CT_SN_NEEDS_EV;
        }
        if ((m = kt->m[K_UNEVALUATED_PROPERTIES]) && want_schema(set, m)) {
            kw_add(kb, CT_KW_UNEVAL_PROPS, m)->u.sub = sub(set, m->val, n);
            sn->flags |= CT_SN_NEEDS_EV;
        }
    }
}

static void collect_dynamic_anchors(struct ct_schema_set *set, struct ct_snode *sn,
                                    const struct ninfo *ni)
{
    uint32_t cnt = 0;
    for (size_t i = 0; i < set->nanc; i++)
        if (set->anc[i].dynamic && !strcmp(set->anc[i].uri, ni->base))
            cnt++;
    if (!cnt)
        return;
    struct ct_dynanchor *v = ct_arena_zalloc(&set->arena, cnt * sizeof(*v));
    const char *base = ni->base;
    uint8_t d = ni->dialect;
    uint32_t k = 0;
    for (size_t i = 0; i < set->nanc && k < cnt; i++) {
        if (!set->anc[i].dynamic || strcmp(set->anc[i].uri, base))
            continue;
        v[k].name = ct_arena_strdup(&set->arena, set->anc[i].name);
        const struct ct_node *target = set->anc[i].node;
        v[k++].target = compile_node(set, target, base, d);
    }
    sn->dyn = v;
    sn->ndyn = k;
}

#define CT_MAX_COMPILE_DEPTH 400

/* The `$ref` of a schema that is nothing else (`{"$ref": "#/components/schemas/Pet"}`, the
 * commonest schema of an OpenAPI document) when it points into the same document; else NULL. */
static const struct ct_node *only_ref(const struct ct_node *n)
{
    if (n->kind != CT_OBJECT || n->len != 1)
        return NULL;
    const struct ct_member *m = &n->u.members[0];
    if (m->key->len != 4 || memcmp(m->key->u.str, "$ref", 4) || m->val->kind != CT_STRING ||
        m->val->u.str[0] != '#')
        return NULL;
    return m->val;
}

static struct ct_snode *compile_node(struct ct_schema_set *set, const struct ct_node *n,
                                     const char *fb_base, uint8_t fb_dialect)
{
    static _Thread_local unsigned depth;
    ensure_scanned(set, n, fb_base, fb_dialect);
    struct ninfo *ni = info_get(set, n);
    if (!ni)
        return NULL;
    if (ni->sn)
        return ni->sn;
    /* A schema that is only a `$ref` compiles to its target: it would add nothing but one more
     * hop (errors are located at the target's keywords either way). Resolved quietly; when
     * that fails, or the references loop back here, the node compiles as usual and reports. */
    const struct ct_node *ref = only_ref(n);
    if (ref && !ni->in_ref && !ni->resource && depth < CT_MAX_COMPILE_DEPTH &&
        ct_docset_root_of(set->ds, n) != n && res_get(set, ni->base) != n) {
        struct ct_diags quiet, *loud = set->diags;
        size_t errors = set->errors;
        ct_diags_init(&quiet);
        set->diags = &quiet;
        const char *tb = NULL;
        const struct ct_node *t = resolve_ref(set, ref, ni->base, ref->u.str, ni->dialect, &tb,
                                              NULL);
        set->diags = loud;
        bool resolved = t && set->errors == errors && !quiet.n;
        set->errors = errors;
        ct_diags_deinit(&quiet);
        if (resolved) {
            ni->in_ref = true;
            depth++;
            struct ct_snode *target = compile_node(set, t, tb, ni->dialect);
            depth--;
            ni->in_ref = false;
            if (!ni->sn) /* (a loop back here compiled this node itself) */
                ni->sn = target;
            return ni->sn;
        }
    }
    struct ct_snode *sn = ct_arena_zalloc(&set->arena, sizeof(*sn));
    ni->sn = sn;
    sn->node = n;
    sn->base = ni->base;
    sn->dialect = ni->dialect;
    const struct ct_node *root = ct_docset_root_of(set->ds, n);
    const struct ct_node *rn = res_get(set, ni->base);
    if (ni->resource || root == n || rn == n) {
        sn->flags |= CT_SN_RESOURCE;
        sn->res = sn;
    } else if (rn) {
        sn->res = compile_node(set, rn, ni->base, ni->dialect); /* ni's address is stable */
    }
    if (n->kind == CT_BOOL) {
        if (!(n->flags & CT_NF_TRUE)) {
            sn->kw = ct_arena_zalloc(&set->arena, sizeof(*sn->kw));
            sn->kw[0].kind = CT_KW_FALSE;
            sn->nkw = 1;
        }
        sn->flags |= CT_SN_COMPILED;
        return sn;
    }
    /* Scratch off the stack (compiling recurses deeply), one per nesting depth, reused. */
    bool pooled = depth < NELEM(set->kbs);
    struct kwbuf *kb = pooled ? set->kbs[depth] : NULL;
    if (!kb) {
        kb = ct_xmalloc(sizeof(*kb));
        if (pooled)
            set->kbs[depth] = kb;
    }
    kb->n = 0;
    kwtab_fill(&kb->tab, n);
    if (kw_true(&kb->tab, K_READ_ONLY))
        sn->flags |= CT_SN_READONLY;
    if (kw_true(&kb->tab, K_WRITE_ONLY))
        sn->flags |= CT_SN_WRITEONLY;
    if (ni->dialect == CT_DIALECT_2019_09 && kw_true(&kb->tab, K_DRECURSIVE_ANCHOR))
        sn->flags |= CT_SN_RECANCHOR;
    if (++depth > CT_MAX_COMPILE_DEPTH) {
        serr(set, n, "schema nesting too deep: expected at most %d levels",
             CT_MAX_COMPILE_DEPTH);
        depth--;
        if (!pooled)
            ct_free(kb);
        return sn;
    }
    struct ninfo copy = *ni;
    if (sn->flags & CT_SN_RESOURCE)
        collect_dynamic_anchors(set, sn, &copy);
    compile_keywords(set, sn, n, &kb->tab, kb);
    sn->kw = ct_arena_alloc(&set->arena, (kb->n ? kb->n : 1) * sizeof(*sn->kw));
    memcpy(sn->kw, kb->v, kb->n * sizeof(*sn->kw));
    sn->nkw = kb->n;
    if (kb->n && sn->kw[0].kind == CT_KW_TYPE && !(sn->kw[0].flags & CT_KF_STRICTINT))
        sn->flags |= CT_SN_TYPE0;
    if (!pooled)
        ct_free(kb);
    sn->flags |= CT_SN_COMPILED;
    depth--;
    return sn;
}

/* --- public API ------------------------------------------------------------------------------ */

struct ct_schema_set *ct_schema_set_new(struct ct_docset *ds, const struct ct_schema_opts *opts)
{
    struct ct_schema_set *set = ct_xcalloc(1, sizeof(*set));
    set->ds = ds;
    if (opts)
        set->opts = *opts;
    if (set->opts.dialect == CT_DIALECT_AUTO)
        set->opts.dialect = CT_DIALECT_2020_12;
    ct_arena_init(&set->arena, 1 << 14);
    return set;
}

void ct_schema_set_free(struct ct_schema_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->nre; i++)
        ct__regex_free(set->regexes[i]);
    ct_free(set->regexes);
    for (size_t i = 0; i < set->nres; i++)
        ct_free(set->res[i].uri);
    ct_free(set->res);
    for (size_t i = 0; i < set->nanc; i++) {
        ct_free(set->anc[i].uri);
        ct_free(set->anc[i].name);
    }
    ct_free(set->anc);
    for (size_t i = 0; i < set->capinfo; i++)
        if (set->info[i])
            ct_free(set->info[i]->ptr);
    ct_free(set->info);
    ct_free(set->bases);
    ct_free(set->refs);
    for (size_t i = 0; i < NELEM(set->kbs); i++)
        ct_free(set->kbs[i]);
    ct_ptrmap_deinit(&set->smap);
    for (size_t i = 0; i < set->nschemas; i++)
        ct_free(set->schemas[i]);
    ct_free(set->schemas);
    ct_arena_deinit(&set->arena);
    ct_free(set);
}

const struct ct_schema *ct_schema_set_get(struct ct_schema_set *set, const struct ct_node *node,
                                          struct ct_diags *diags)
{
    struct ct_diags scratch;
    ct_diags_init(&scratch);
    set->diags = diags ? diags : &scratch;
    set->errors = 0;
    uint8_t dialect = (uint8_t)set->opts.dialect;
    const struct ct_snode *sn = compile_node(set, node, NULL, dialect);
    bool ok = sn && set->errors == 0;
    set->diags = NULL;
    ct_diags_deinit(&scratch);
    if (!ok)
        return NULL;
    /* One ct_schema per compiled root, found through a hash table (linear search made
     * compiling every operation of a big spec quadratic). */
    void *known;
    if (ct_ptrmap_get(&set->smap, sn, &known))
        return known;
    struct ct_schema *s = ct_xcalloc(1, sizeof(*s));
    s->set = set;
    s->root = sn;
    ct_ptrmap_put(&set->smap, sn, s);
    set->schemas = ct_xgrow(set->schemas, &set->capschemas, set->nschemas + 1,
                            sizeof(*set->schemas));
    set->schemas[set->nschemas++] = s;
    return s;
}

void ct_schema_set_trim(struct ct_schema_set *set)
{
    (void)set; /* nothing is kept only for loading any more */
}

struct ct_schema *ct_schema_compile(struct ct_docset *ds, const struct ct_node *schema,
                                    const struct ct_schema_opts *opts, struct ct_diags *diags)
{
    struct ct_schema_set *set = ct_schema_set_new(ds, opts);
    const struct ct_schema *in = ct_schema_set_get(set, schema, diags);
    if (!in) {
        ct_schema_set_free(set);
        return NULL;
    }
    struct ct_schema *s = ct_xcalloc(1, sizeof(*s));
    *s = *in;
    s->owns_set = true;
    return s;
}

void ct_schema_free(struct ct_schema *s)
{
    if (!s)
        return;
    if (s->owns_set)
        ct_schema_set_free(s->set);
    ct_free(s);
}

const struct ct_schema_opts *ct__schema_opts(const struct ct_schema *s)
{
    return &s->set->opts;
}

struct ct_docset *ct__schema_docset(const struct ct_schema *s)
{
    return s->set->ds;
}

const char *ct__snode_ptr(const struct ct_schema *s, const struct ct_snode *sn)
{
    const struct ninfo *ni = info_get(s->set, sn->node);
    return ni ? info_ptr(ni) : "";
}

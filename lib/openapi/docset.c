/* docset.c - loading documents once each and resolving `$ref` strings between them. */
#include "docset.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/fs.h"

#include <stdio.h>
#include <string.h>

struct file {
    char *path;
    struct ct_source *src;
    struct ct_node *root; /* NULL when it failed to load */
    bool refs_checked;
    bool from_text; /* ct_docset_load_text: not a file */
};

/* A resolved reference: (file it is written in, reference text) -> target. */
struct memo {
    const struct ct_source *src;
    const char *ref;
    uint32_t hash;
    struct ct_node *target;
};

struct ct_docset {
    struct ct_docset_opts opts;
    struct ct_arena arena;
    struct file *files;
    size_t nfiles, capfiles;
    size_t bytes;
    /* Between ct__docset_memo_begin and _end, references that resolve are remembered: a big
     * spec writes the same few thousand references tens of thousands of times. */
    struct memo *memo;
    size_t nmemo, capmemo;
    bool memo_on;
};

static int fs_read(void *ud, const char *path, char **text, size_t *len)
{
    const struct ct_docset *ds = ud;
    size_t max = ds->opts.limits.max_bytes ? ds->opts.limits.max_bytes : (size_t)64 << 20;
    return ct_fs_read(path, max, text, len);
}

struct ct_docset *ct_docset_new(const struct ct_docset_opts *opts)
{
    struct ct_docset *ds = ct_xcalloc(1, sizeof(*ds));
    if (opts)
        ds->opts = *opts;
    if (!ds->opts.read) {
        ds->opts.read = fs_read;
        ds->opts.ud = ds;
    }
    if (!ds->opts.max_files)
        ds->opts.max_files = 256;
    ct_arena_init(&ds->arena, 1 << 16);
    return ds;
}

void ct_docset_free(struct ct_docset *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < ds->nfiles; i++) {
        ct_free(ds->files[i].path);
        ct_free((char *)ds->files[i].src->text);
        ct_free(ds->files[i].src);
    }
    ct_free(ds->files);
    ct_free(ds->memo);
    ct_arena_deinit(&ds->arena);
    ct_free(ds);
}

struct ct_arena *ct_docset_arena(struct ct_docset *ds)
{
    return &ds->arena;
}

void ct_docset_stats(const struct ct_docset *ds, unsigned *files, size_t *bytes)
{
    *files = (unsigned)ds->nfiles;
    *bytes = ds->bytes;
}

const char *ct_docset_file_path(const struct ct_docset *ds, size_t i)
{
    return i < ds->nfiles && !ds->files[i].from_text ? ds->files[i].path : NULL;
}

static struct file *find_file(struct ct_docset *ds, const char *path)
{
    for (size_t i = 0; i < ds->nfiles; i++)
        if (strcmp(ds->files[i].path, path) == 0)
            return &ds->files[i];
    return NULL;
}

static struct file *add_file(struct ct_docset *ds, const char *path, char *text, size_t len,
                             struct ct_diags *diags)
{
    ds->files = ct_xgrow(ds->files, &ds->capfiles, ds->nfiles + 1, sizeof(*ds->files));
    struct file *f = &ds->files[ds->nfiles++];
    f->path = ct_xstrdup(path);
    f->src = ct_xcalloc(1, sizeof(*f->src));
    f->src->name = f->path;
    f->src->text = text;
    f->src->len = len;
    f->refs_checked = false;
    f->from_text = false;
    ds->bytes += len;
    struct ct_parse_limits lim = ds->opts.limits;
    lim.intern_strings = true; /* a docset's documents live as long as it does */
    f->root = ct_doc_parse(&ds->arena, f->src, &lim, diags);
    return f;
}

struct ct_node *ct_docset_load_text(struct ct_docset *ds, const char *name, const char *text,
                                    size_t len, struct ct_diags *diags)
{
    struct file *f = find_file(ds, name);
    if (f)
        return f->root;
    f = add_file(ds, name, ct_xstrndup(text, len), len, diags);
    f->from_text = true;
    return f->root;
}

static struct file *load_file(struct ct_docset *ds, const char *path, const struct ct_node *at,
                              struct ct_diags *diags)
{
    struct file *f = find_file(ds, path);
    if (f)
        return f;
    const struct ct_source *asrc = at ? at->src : NULL;
    uint32_t line = at ? at->line : 0, col = at ? at->col : 0;
    if (ds->nfiles >= ds->opts.max_files) {
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_TOOBIG, asrc, line, col,
                     "too many files: expected at most %u documents", ds->opts.max_files);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    int rc = ds->opts.read(ds->opts.ud, path, &text, &len);
    if (rc) {
        ct_diags_add(diags, CT_SEV_ERROR, rc, asrc, line, col, "cannot read '%s': %s", path,
                     rc == CT_E_TOOBIG ? "file is larger than the size limit" : ct_strerror(rc));
        return NULL;
    }
    return add_file(ds, path, text, len, diags);
}

struct ct_node *ct_docset_load(struct ct_docset *ds, const char *path, struct ct_diags *diags)
{
    struct file *f = load_file(ds, path, NULL, diags);
    return f ? f->root : NULL;
}

static struct file *file_of(const struct ct_docset *ds, const struct ct_node *n)
{
    for (size_t i = 0; i < ds->nfiles; i++)
        if (ds->files[i].src == n->src)
            return &ds->files[i];
    return NULL;
}

void ct_docset_drop_text(struct ct_docset *ds, const struct ct_node *root)
{
    struct file *f = root ? file_of(ds, root) : NULL;
    if (!f || f->root != root || !f->src->text)
        return;
    ct_free((char *)f->src->text);
    f->src->text = NULL;
    f->src->len = 0;
}

struct ct_node *ct_docset_root_of(const struct ct_docset *ds, const struct ct_node *n)
{
    struct file *f = file_of(ds, n);
    return f ? f->root : NULL;
}

/* Join a relative path to the directory of `base`, collapsing "./" and "dir/../". */
static char *join_path(const char *base, const char *rel, size_t rellen)
{
    struct ct_buf b;
    ct_buf_init(&b, 0);
    if (rel[0] != '/') {
        const char *slash = strrchr(base, '/');
        if (slash)
            ct_buf_add(&b, base, (size_t)(slash - base) + 1);
    }
    ct_buf_add(&b, rel, rellen);
    /* Collapse segments in place. */
    char *s = b.ptr;
    size_t n = b.len, o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '.' && (i == 0 || s[i - 1] == '/') && i + 1 < n && s[i + 1] == '/') {
            i += 2;
            continue;
        }
        if (s[i] == '.' && (i == 0 || s[i - 1] == '/') && i + 2 < n && s[i + 1] == '.' &&
            s[i + 2] == '/' && o > 0) {
            /* Drop the previous segment unless it is itself "..". */
            size_t k = o - 1; /* s[k] == '/' */
            size_t st = k;
            while (st > 0 && s[st - 1] != '/')
                st--;
            if (!(k - st == 2 && s[st] == '.' && s[st + 1] == '.')) {
                o = st;
                i += 3;
                continue;
            }
        }
        s[o++] = s[i++];
    }
    s[o] = 0;
    return ct_buf_steal(&b, NULL);
}

static struct ct_node *resolve_chain(struct ct_docset *ds, const struct ct_node *at,
                                     const char *ref, struct ct_diags *diags);

static struct ct_node *resolve_once(struct ct_docset *ds, const struct ct_node *at,
                                    const char *ref, struct ct_diags *diags)
{
    const char *hash = strchr(ref, '#');
    size_t pathlen = hash ? (size_t)(hash - ref) : strlen(ref);
    const char *frag = hash ? hash + 1 : "";
    struct file *target;
    if (pathlen == 0) {
        target = file_of(ds, at);
        if (!target) {
            ct_diags_add(diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                         "cannot resolve '%s': the document has no file", ref);
            return NULL;
        }
    } else {
        if (memchr(ref, ':', pathlen)) {
            struct ct_diag *g = ct_diags_add(
                diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                "cannot resolve '%s': expected a local file, remote references are not fetched",
                ref);
            ct_diag_set_hint(g, "download the document and refer to it by a relative path");
            return NULL;
        }
        char *path = join_path(at->src ? at->src->name : "", ref, pathlen);
        target = load_file(ds, path, at, diags);
        ct_free(path);
        if (!target)
            return NULL;
    }
    if (!target->root)
        return NULL; /* its own parse error was reported */
    if (frag[0] && frag[0] != '/') {
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                     "cannot resolve '%s': expected a JSON Pointer fragment ('#/...'), "
                     "plain-name anchors are resolved by the schema validator",
                     ref);
        return NULL;
    }
    struct ct_node *n = ct_pointer_get(target->root, frag, strlen(frag), true);
    if (!n) {
        /* Say how far the pointer got, to make the typo easy to spot. */
        struct ct_buf ok;
        ct_buf_init(&ok, 0);
        const char *p = frag;
        const struct ct_node *cur = target->root;
        const char *missing = frag;
        while (*p == '/') {
            const char *e = strchr(p + 1, '/');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            const struct ct_node *next = ct_pointer_get(target->root, frag, (size_t)(p - frag) + l,
                                                        true);
            if (!next) {
                missing = p + 1;
                break;
            }
            cur = next;
            p += l;
        }
        size_t mlen = strcspn(missing, "/");
        char *mtok = ct_xstrndup(missing, mlen);
        struct ct_diag *g = ct_diags_add(
            diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
            "unresolvable $ref '%s': '%s' not found in %s", ref, mtok,
            pathlen ? target->path : "this document");
        if (cur && cur->kind == CT_OBJECT && cur->len) {
            const char **names = ct_xmalloc(cur->len * sizeof(char *));
            for (uint32_t i = 0; i < cur->len; i++)
                names[i] = cur->u.members[i].key->u.str;
            const char *best = ct_did_you_mean(mtok, names, cur->len);
            if (best)
                ct_diag_set_hint(g, "did you mean '%s'?", best);
            ct_free(names);
        }
        ct_free(mtok);
        ct_buf_deinit(&ok);
        return NULL;
    }
    return n;
}

static uint32_t memo_hash(const struct ct_source *src, const char *ref)
{
    uint64_t h = (uintptr_t)src * 0x9E3779B97F4A7C15ull;
    for (const char *p = ref; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001B3ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* The memo slot for (src, ref): filled, or where it goes. */
static struct memo *memo_slot(struct ct_docset *ds, const struct ct_source *src, const char *ref,
                              uint32_t h)
{
    size_t mask = ds->capmemo - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct memo *m = &ds->memo[i];
        if (!m->ref || (m->hash == h && m->src == src && !strcmp(m->ref, ref)))
            return m;
    }
}

static void memo_put(struct ct_docset *ds, const struct ct_source *src, const char *ref,
                     uint32_t h, struct ct_node *target)
{
    if ((ds->nmemo + 1) * 2 > ds->capmemo) {
        size_t ncap = ds->capmemo ? ds->capmemo * 2 : 256;
        struct memo *old = ds->memo;
        size_t oldcap = ds->capmemo;
        ds->memo = ct_xcalloc(ncap, sizeof(*ds->memo));
        ds->capmemo = ncap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].ref)
                *memo_slot(ds, old[i].src, old[i].ref, old[i].hash) = old[i];
        ct_free(old);
    }
    struct memo *m = memo_slot(ds, src, ref, h);
    if (!m->ref)
        ds->nmemo++;
    *m = (struct memo){src, ref, h, target};
}

void ct__docset_memo_begin(struct ct_docset *ds)
{
    ds->memo_on = true;
}

void ct__docset_memo_end(struct ct_docset *ds)
{
    ds->memo_on = false;
    ct_free(ds->memo);
    ds->memo = NULL;
    ds->nmemo = ds->capmemo = 0;
}

struct ct_node *ct_docset_resolve(struct ct_docset *ds, const struct ct_node *at, const char *ref,
                                  struct ct_diags *diags)
{
    uint32_t h = 0;
    if (ds->memo_on) {
        h = memo_hash(at->src, ref);
        if (ds->capmemo) {
            const struct memo *m = memo_slot(ds, at->src, ref, h);
            if (m->ref)
                return m->target;
        }
    }
    struct ct_node *n = resolve_chain(ds, at, ref, diags);
    if (n && ds->memo_on)
        memo_put(ds, at->src, ref, h, n); /* ref lives as long as the docset */
    return n;
}

static struct ct_node *resolve_chain(struct ct_docset *ds, const struct ct_node *at,
                                     const char *ref, struct ct_diags *diags)
{
    const struct ct_node *seen[64];
    struct ct_node *n = resolve_once(ds, at, ref, diags);
    for (int hops = 0; n; hops++) {
        const struct ct_node *r = ct_obj_get(n, "$ref");
        if (!r || r->kind != CT_STRING)
            return n;
        for (int i = 0; i < hops; i++) {
            if (seen[i] == n) {
                ct_diags_add(diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                             "circular $ref '%s': the chain of references never reaches a value",
                             ref);
                return NULL;
            }
        }
        if (hops == 64) {
            ct_diags_add(diags, CT_SEV_ERROR, CT_E_REF, at->src, at->line, at->col,
                         "$ref '%s': expected a chain of at most 64 references", ref);
            return NULL;
        }
        seen[hops] = n;
        n = resolve_once(ds, r, r->u.str, diags);
    }
    return n;
}

struct ct_node *ct_docset_deref(struct ct_docset *ds, const struct ct_node *n,
                                struct ct_diags *diags)
{
    if (!n || n->kind != CT_OBJECT)
        return (struct ct_node *)n;
    const struct ct_node *r = ct_obj_get(n, "$ref");
    if (!r || r->kind != CT_STRING)
        return (struct ct_node *)n;
    return ct_docset_resolve(ds, r, r->u.str, diags);
}

/* --- checking every reference --------------------------------------------------------------- */

static bool literal_key(const struct ct_node *key, const struct ct_node *val)
{
    const char *k = key->u.str;
    /* Most keys start with none of e, d, c, x: answer those without comparing. */
    if (k[0] != 'e' && k[0] != 'd' && k[0] != 'c' && k[0] != 'x')
        return false;
    if (!strcmp(k, "example") || !strcmp(k, "default") || !strcmp(k, "enum") ||
        !strcmp(k, "const") || (k[0] == 'x' && k[1] == '-'))
        return true;
    /* JSON Schema's `examples` is an array of literal values; OpenAPI's is a map. */
    return !strcmp(k, "examples") && val->kind == CT_ARRAY;
}

static size_t check_walk(struct ct_docset *ds, const struct ct_node *n, struct ct_diags *diags,
                         unsigned depth)
{
    size_t broken = 0;
    if (depth > 512)
        return 0;
    if (n->kind == CT_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++)
            broken += check_walk(ds, n->u.items[i], diags, depth + 1);
        return broken;
    }
    if (n->kind != CT_OBJECT)
        return 0;
    for (uint32_t i = 0; i < n->len; i++) {
        const struct ct_member *m = &n->u.members[i];
        if (m->key->len == 3 && !memcmp(m->key->u.str, "$id", 3) && m->val->kind == CT_STRING &&
            strchr(m->val->u.str, ':'))
            return 0; /* a schema resource with its own base URI: the validator resolves it */
    }
    for (uint32_t i = 0; i < n->len; i++) {
        const struct ct_member *m = &n->u.members[i];
        if (m->key->len == 4 && !memcmp(m->key->u.str, "$ref", 4) && m->val->kind == CT_STRING) {
            const char *ref = m->val->u.str;
            const char *hash = strchr(ref, '#');
            /* Anchors (#name) and URIs belong to the JSON Schema validator. */
            if (hash && hash[1] && hash[1] != '/')
                continue;
            if (strchr(ref, ':') && (!hash || strchr(ref, ':') < hash))
                continue;
            if (!ct_docset_resolve(ds, m->val, ref, diags))
                broken++;
            continue;
        }
        if (literal_key(m->key, m->val))
            continue;
        broken += check_walk(ds, m->val, diags, depth + 1);
    }
    return broken;
}

size_t ct_docset_check_refs(struct ct_docset *ds, const struct ct_node *root,
                            struct ct_diags *diags)
{
    struct file *f = file_of(ds, root);
    if (f)
        f->refs_checked = true;
    size_t broken = check_walk(ds, root, diags, 0);
    /* Files reached through references are checked too; new ones may appear as we go. */
    for (size_t i = 0; i < ds->nfiles; i++) {
        if (ds->files[i].refs_checked || !ds->files[i].root)
            continue;
        ds->files[i].refs_checked = true;
        broken += check_walk(ds, ds->files[i].root, diags, 0);
    }
    return broken;
}

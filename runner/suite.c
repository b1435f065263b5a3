/* suite.c - the scenario files of a run: finding them, reading, parsing, checking against the
 * contract, loading their variable files, and selecting by tags and shard.
 *
 * Directories are searched recursively for *.yaml, *.yml and *.json; names starting with '_'
 * or '.' are skipped (that is where variable files and request bodies live). Files named on the
 * command line are always taken. The suite is sorted by path so shards are stable across
 * machines. */
#include "runner.h"

#include "core/alloc.h"
#include "core/err.h"
#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SCENARIO_BYTES (8u << 20)

static bool has_ext(const char *name)
{
    size_t l = strlen(name);
    return (l > 5 && !strcmp(name + l - 5, ".yaml")) || (l > 4 && !strcmp(name + l - 4, ".yml")) ||
           (l > 5 && !strcmp(name + l - 5, ".json"));
}

struct pathlist {
    char **v;
    size_t n, cap;
};

static void add_path(struct pathlist *pl, char *p)
{
    pl->v = ct_xgrow(pl->v, &pl->cap, pl->n + 1, sizeof(char *));
    pl->v[pl->n++] = p;
}

static void walk(struct pathlist *pl, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue;
        char *p = strcmp(dir, ".") ? ct_xasprintf("%s/%s", dir, e->d_name)
                                   : ct_xstrdup(e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(pl, p);
            ct_free(p);
        } else if (has_ext(e->d_name)) {
            add_path(pl, p);
        } else {
            ct_free(p);
        }
    }
    closedir(d);
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? ct_xstrndup(path, (size_t)(slash - path)) : ct_xstrdup(".");
}

/* Load one var file into f: a mapping of variable names to values. */
static void load_var_file(struct runner_file *f, const struct ct_node *pathnode,
                          struct ct_diags *diags)
{
    char *path = pathnode->u.str[0] == '/' ? ct_xstrdup(pathnode->u.str)
                                           : ct_xasprintf("%s/%s", f->dir, pathnode->u.str);
    char *text = NULL;
    size_t len = 0;
    int rc = ct_fs_read(path, MAX_SCENARIO_BYTES, &text, &len);
    if (rc) {
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_SCENARIO, pathnode->src, pathnode->line,
                     pathnode->col, "cannot read variable file '%s': %s", path, ct_strerror(rc));
        ct_free(path);
        return;
    }
    f->aux = ct_xrealloc(f->aux, (f->naux + 1) * sizeof(*f->aux));
    struct ct_source *src = &f->aux[f->naux++];
    src->name = ct_arena_strdup(&f->arena, path);
    src->text = text;
    src->len = len;
    ct_free(path);
    struct ct_parse_limits lim = {.max_bytes = MAX_SCENARIO_BYTES, .max_depth = 64};
    const struct ct_node *root = ct_doc_parse(&f->arena, src, &lim, diags);
    if (!root)
        return;
    if (root->kind != CT_OBJECT) {
        ct_diags_add(diags, CT_SEV_ERROR, CT_E_SCENARIO, root->src, root->line, root->col,
                     "expected a variable file to be a mapping of names to values, got %s",
                     ct_node_type_name(root));
        return;
    }
    f->vars = ct_xrealloc(f->vars, (f->nvars + root->len) * sizeof(*f->vars));
    for (uint32_t i = 0; i < root->len; i++) {
        f->vars[f->nvars].name = root->u.members[i].key->u.str;
        f->vars[f->nvars].val = root->u.members[i].val;
        f->nvars++;
    }
}

/* A plain scalar like `id-${run.id}` inside a flow mapping `{...}` stops the YAML parser at the
 * '{' of the template; the parser's message does not say why, so add the remedy. */
static void hint_flow_templates(const struct runner_file *f, struct ct_diags *diags, size_t first)
{
    for (size_t i = first; i < diags->n; i++) {
        struct ct_diag *g = &diags->v[i];
        if (g->code != CT_E_SYNTAX || g->src != &f->src || !g->line || g->hint == NULL)
            continue;
        const char *p = f->src.text, *end = p + f->src.len;
        for (uint32_t l = 1; l < g->line && p; l++) {
            p = memchr(p, '\n', (size_t)(end - p));
            p = p ? p + 1 : NULL;
        }
        if (!p)
            continue;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
        if (strstr(line, "${") && strchr(line, '{') < strstr(line, "${")) {
            char *old = ct_xstrdup(g->hint);
            ct_diag_set_hint(g, "%s; inside '{...}' a value holding '${...}' must be quoted: "
                                "\"id-${run.id}\"",
                             old);
            ct_free(old);
        }
    }
}

static void load_file(struct runner_suite *s, struct runner_file *f, const struct runner_opts *o,
                      const struct runner_contract *c, struct ct_diags *diags)
{
    (void)o;
    char *text = NULL;
    size_t len = 0;
    int rc = ct_fs_read(f->path, MAX_SCENARIO_BYTES, &text, &len);
    if (rc) {
        ct_diags_add(diags, CT_SEV_ERROR, rc, NULL, 0, 0, "cannot read scenario '%s': %s", f->path,
                     ct_strerror(rc));
        s->nbroken++;
        return;
    }
    f->src.name = f->path;
    f->src.text = text;
    f->src.len = len;
    size_t before = diags->nerrors, first = diags->n;
    struct ct_scen *scen = ct_scen_parse_text(&f->arena, &f->src, diags);
    if (!scen)
        hint_flow_templates(f, diags, first);
    if (scen && scen->var_files) {
        const struct ct_node *vf = scen->var_files;
        if (vf->kind == CT_STRING)
            load_var_file(f, vf, diags);
        else
            for (uint32_t i = 0; i < vf->len; i++)
                load_var_file(f, vf->u.items[i], diags);
    }
    if (scen) {
        /* Names defined outside the file: --var and the var files. */
        const char **extra = ct_xcalloc(s->ncli_vars + f->nvars + 1, sizeof(char *));
        size_t nextra = 0;
        for (size_t i = 0; i < s->ncli_vars; i++)
            extra[nextra++] = s->cli_vars[i].name;
        for (size_t i = 0; i < f->nvars; i++)
            extra[nextra++] = f->vars[i].name;
        size_t nch = 0;
        const char *const *ch = c ? runner_contract_channels(c, &nch) : NULL;
        struct ct_scen_env env = {
            .oas = c ? runner_contract_oas(c) : NULL,
            .router = c ? runner_contract_router(c) : NULL,
            .channels = ch,
            .nchannels = nch,
            .extra_vars = extra,
            .nextra = nextra,
            .regex_check = runner_regex_check,
        };
        ct_scen_check(scen, &env, diags);
        ct_free(extra);
    }
    if (diags->nerrors > before || !scen || scen->broken) {
        s->nbroken++;
        return;
    }
    f->scen = scen;
}

int runner_suite_load(struct runner_suite *s, char *const *paths, size_t npaths,
                      const struct runner_opts *o, const struct runner_contract *c,
                      struct ct_diags *diags)
{
    memset(s, 0, sizeof(*s));
    ct_arena_init(&s->arena, 4096);
    /* --var NAME=VALUE: string values. */
    if (o->nvars) {
        s->cli_vars = ct_xcalloc(o->nvars, sizeof(*s->cli_vars));
        for (unsigned i = 0; i < o->nvars; i++) {
            const char *eq = strchr(o->vars[i], '=');
            struct ct_node *n = ct_arena_zalloc(&s->arena, sizeof(*n));
            n->kind = CT_STRING;
            n->u.str = ct_arena_strdup(&s->arena, eq + 1);
            n->len = (uint32_t)strlen(eq + 1);
            s->cli_vars[i].name = ct_arena_strndup(&s->arena, o->vars[i], (size_t)(eq - o->vars[i]));
            s->cli_vars[i].val = n;
        }
        s->ncli_vars = o->nvars;
    }
    struct pathlist pl = {0};
    int rc = 0;
    for (size_t i = 0; i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            fprintf(stderr, "runner: %s: %s\n", paths[i], strerror(errno));
            rc = RUNNER_USAGE;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            size_t from = pl.n;
            size_t len = strlen(paths[i]);
            char *dir = ct_xstrndup(paths[i], len > 1 && paths[i][len - 1] == '/' ? len - 1 : len);
            walk(&pl, dir);
            ct_free(dir);
            qsort(pl.v + from, pl.n - from, sizeof(char *), cmp_path);
        } else {
            add_path(&pl, ct_xstrdup(paths[i]));
        }
    }
    /* The same file named twice runs once. */
    s->v = ct_xcalloc(pl.n + 1, sizeof(*s->v));
    for (size_t i = 0; i < pl.n; i++) {
        bool dup = false;
        for (size_t j = 0; j < s->n && !dup; j++)
            dup = !strcmp(s->v[j]->path, pl.v[i]);
        if (dup) {
            ct_free(pl.v[i]);
            continue;
        }
        struct runner_file *f = ct_xcalloc(1, sizeof(*f));
        f->path = pl.v[i];
        f->dir = dir_of(f->path);
        ct_arena_init(&f->arena, 16384);
        s->v[s->n++] = f;
        load_file(s, f, o, c, diags);
    }
    ct_free(pl.v);
    return rc;
}

void runner_suite_deinit(struct runner_suite *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct runner_file *f = s->v[i];
        ct_arena_deinit(&f->arena);
        ct_free((void *)f->src.text);
        for (size_t j = 0; j < f->naux; j++)
            ct_free((void *)f->aux[j].text);
        ct_free(f->aux);
        ct_free(f->vars);
        ct_free(f->path);
        ct_free(f->dir);
        ct_free(f);
    }
    ct_free(s->v);
    ct_free(s->cli_vars);
    ct_arena_deinit(&s->arena);
    memset(s, 0, sizeof(*s));
}

/* --- selection ------------------------------------------------------------------------------ */

static bool in_list(const char *const *list, unsigned n, const char *tag)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(list[i], tag))
            return true;
    return false;
}

bool runner_tags_allow_step(const struct runner_opts *o, bool mock, const char *const *tags,
                            unsigned ntags, const char **why)
{
    for (unsigned i = 0; i < ntags; i++) {
        if (in_list(o->tags_out, o->ntags_out, tags[i])) {
            *why = "excluded by --tags";
            return false;
        }
        if (!mock && !strcmp(tags[i], "mock-only") &&
            !in_list(o->tags_in, o->ntags_in, "mock-only")) {
            *why = "tagged mock-only: needs --mock";
            return false;
        }
        if (mock && !strcmp(tags[i], "backend-only") &&
            !in_list(o->tags_in, o->ntags_in, "backend-only")) {
            *why = "tagged backend-only: needs a real backend, not --mock";
            return false;
        }
    }
    return true;
}

void runner_suite_select(struct runner_suite *s, const struct runner_opts *o, bool mock)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct runner_file *f = s->v[i];
        f->selected = false;
        f->why_not = NULL;
        if (!f->scen)
            continue;
        const struct ct_scen *sc = f->scen;
        if (o->ntags_in) {
            bool any = false;
            for (unsigned t = 0; t < o->ntags_in && !any; t++)
                any = ct_scen_has_tag(sc, o->tags_in[t]);
            if (!any) {
                f->why_not = "no tag of --tags";
                continue;
            }
        }
        bool excluded = false;
        for (unsigned t = 0; t < sc->ntags && !excluded; t++)
            excluded = in_list(o->tags_out, o->ntags_out, sc->tags[t]);
        if (excluded) {
            f->why_not = "excluded by --tags";
            continue;
        }
        if (o->shard_n && (k++ % o->shard_n) != o->shard_k - 1) {
            f->why_not = "in another shard";
            continue;
        }
        f->selected = true;
    }
    (void)mock;
}

/* reload.c - hot reload (reload.h): versions of the loaded app with reference counts, a
 * watcher thread that polls the spec's files, and the swap.
 *
 * A version is referenced by the holder while it is in service and by every request that
 * acquired it. A reload loads the new version completely (the same mockd_app_load as at start,
 * so the same located errors), hands it the layers' run-time state and the JWT signer, then
 * publishes it under the lock; the retired version is freed by whoever drops its last
 * reference. Requests in flight finish on the version they started with.
 *
 * The watcher compares a signature of (path, size, mtime, inode) over the watched files every
 * --watch-interval; a change is acted on once the signature has stayed the same for one more
 * interval, so an editor's save in several writes loads once, complete. Which files: the spec
 * and every file its references reach (the files the app's docset read), the
 * --asyncapi document, and the --dialogues files and directories. */
#include "reload.h"

#include "core/alloc.h"
#include "layers_impl.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct version {
    struct mockd_app *app;
    int refs;
    bool jwt_lent;        /* app->jwt now belongs to a newer version */
    struct version *next; /* retired versions still in use */
};

struct holder {
    pthread_mutex_t lock;      /* cur, retired, refs */
    pthread_mutex_t reloading; /* one reload at a time */
    pthread_cond_t wake;
    const struct mockd_config *cfg;
    struct version *cur;
    struct version *retired;
    unsigned reloads;
    bool watching, stop;
    pthread_t watcher;
    char **files; /* watched paths (owned) */
    size_t nfiles;
};

static struct holder *g_holder;

static void version_free(struct version *v)
{
    if (v->jwt_lent) v->app->jwt = NULL; /* the newer version frees it */
    mockd_app_free(v->app);
    ct_free(v->app);
    ct_free(v);
}

const struct mockd_app *mockd_app_acquire(const struct mockd_app *fallback)
{
    struct holder *h = g_holder;
    if (!h) return fallback;
    pthread_mutex_lock(&h->lock);
    struct version *v = h->cur;
    v->refs++;
    pthread_mutex_unlock(&h->lock);
    return v->app;
}

void mockd_app_release(const struct mockd_app *app)
{
    struct holder *h = g_holder;
    if (!h || !app) return;
    struct version *dead = NULL;
    pthread_mutex_lock(&h->lock);
    if (h->cur->app == app) {
        h->cur->refs--;
    } else {
        for (struct version **pv = &h->retired; *pv; pv = &(*pv)->next)
            if ((*pv)->app == app) {
                if (--(*pv)->refs == 0) {
                    dead = *pv;
                    *pv = dead->next;
                }
                break;
            }
    }
    pthread_mutex_unlock(&h->lock);
    if (dead) version_free(dead);
}

/* --- the files to watch ------------------------------------------------------------------------
 */

static void add_file(struct holder *h, const char *path)
{
    for (size_t i = 0; i < h->nfiles; i++)
        if (!strcmp(h->files[i], path)) return;
    h->files = ct_xrealloc(h->files, (h->nfiles + 1) * sizeof(*h->files));
    h->files[h->nfiles++] = ct_xstrdup(path);
}

static bool doc_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml")) ||
           (l > 5 && !strcmp(n + l - 5, ".json"));
}

/* A file, or the documents of a directory (two levels deep). */
static void add_path(struct holder *h, const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        add_file(h, path); /* a missing file is watched too: it may appear */
        return;
    }
    add_file(h, path); /* the directory itself: files added or removed */
    DIR *d = opendir(path);
    if (!d || depth > 2) {
        if (d) closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = ct_xasprintf("%s/%s", path, e->d_name);
        struct stat es;
        if (stat(p, &es) == 0 && (S_ISDIR(es.st_mode) || doc_name(e->d_name)))
            add_path(h, p, depth + 1);
        ct_free(p);
    }
    closedir(d);
}

/* Called with the reloading lock held. */
static void collect_files(struct holder *h, const struct mockd_app *app)
{
    for (size_t i = 0; i < h->nfiles; i++)
        ct_free(h->files[i]);
    ct_free(h->files);
    h->files = NULL;
    h->nfiles = 0;
    add_file(h, h->cfg->spec_path);
    /* Every file the app's docset read: the spec and what its references reached (while
     * loading, checking references and compiling schemas), with no walk over the tree. */
    unsigned nf;
    size_t bytes;
    ct_docset_stats(app->ds, &nf, &bytes);
    for (size_t i = 0; i < nf; i++) {
        const char *p = ct_docset_file_path(app->ds, i);
        if (p) add_file(h, p);
    }
    if (h->cfg->asyncapi_path) add_file(h, h->cfg->asyncapi_path);
    for (const char *p = h->cfg->dialogue_paths; p && *p;) {
        size_t n = strcspn(p, ",");
        char *one = ct_xstrndup(p, n);
        add_path(h, one, 0);
        ct_free(one);
        p += n + (p[n] == ',');
    }
}

/* A signature of the watched files: changes when any is written, replaced or removed. */
static uint64_t signature(struct holder *h)
{
    uint64_t s = 0;
    for (size_t i = 0; i < h->nfiles; i++) {
        struct stat st;
        s = jx_hash(h->files[i], strlen(h->files[i]), s);
        if (stat(h->files[i], &st) != 0) {
            s = jx_hash("missing", 7, s);
            continue;
        }
        int64_t v[5] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec,
                        (int64_t)st.st_mtim.tv_nsec, (int64_t)st.st_ino,
                        (int64_t)st.st_ctim.tv_nsec};
        s = jx_hash(v, sizeof(v), s);
    }
    return s;
}

/* --- reloading ---------------------------------------------------------------------------------
 */

int mockd_reload_now(struct ct_buf *why)
{
    struct holder *h = g_holder;
    if (!h) {
        if (why) ct_buf_adds(why, "this mockd runs without a reloader (an in-process server)");
        return -1;
    }
    pthread_mutex_lock(&h->reloading);
    const struct mockd_config *cfg = h->cfg;
    /* Check the document first, so that its located errors can be given back. */
    struct ct_diags d;
    ct_diags_init(&d);
    d.max = 50;
    struct ct_docset *ds = NULL;
    struct ct_oas *probe = ct_oas_load(cfg->spec_path, NULL, &ds, &d);
    if (!probe) {
        struct ct_buf out;
        ct_buf_init(&out, 0);
        ct_diags_render(&d, &out, false);
        fprintf(stderr, "%smockd: reload: %s has %zu error%s; the previous version keeps serving\n",
                ct_buf_cstr(&out), cfg->spec_path, d.nerrors, d.nerrors == 1 ? "" : "s");
        if (why) ct_buf_add(why, out.ptr ? out.ptr : "", out.len);
        ct_buf_deinit(&out);
        ct_diags_deinit(&d);
        ct_docset_free(ds);
        pthread_mutex_unlock(&h->reloading);
        return -1;
    }
    ct_diags_deinit(&d);
    ct_docset_free(ds);

    struct mockd_app *app = ct_xcalloc(1, sizeof(*app));
    if (mockd_app_load(app, cfg) != 0) {
        fprintf(stderr,
                "mockd: reload: %s cannot be served (see above); the previous version "
                "keeps serving\n",
                cfg->spec_path);
        if (why)
            ct_buf_printf(why,
                          "%s cannot be served: its schemas or options have errors (see "
                          "mockd's log)",
                          cfg->spec_path);
        mockd_app_free(app);
        ct_free(app);
        pthread_mutex_unlock(&h->reloading);
        return -1;
    }
    struct version *v = ct_xcalloc(1, sizeof(*v));
    v->app = app;
    v->refs = 1;
    pthread_mutex_lock(&h->lock);
    struct version *old = h->cur;
    pthread_mutex_unlock(&h->lock);
    /* Hand over what must survive, before anyone sees the new version. */
    mockd_layers_adopt(app->layers, old->app->layers);
    mockd_jwt_free(app->jwt);
    app->jwt = old->app->jwt;
    old->jwt_lent = true;
    collect_files(h, app);

    struct version *dead = NULL;
    pthread_mutex_lock(&h->lock);
    h->cur = v;
    h->reloads++;
    if (--old->refs == 0) {
        dead = old;
    } else {
        old->next = h->retired;
        h->retired = old;
    }
    pthread_mutex_unlock(&h->lock);
    if (dead) version_free(dead);
    if (!cfg->quiet)
        fprintf(stderr, "mockd: reload: %s loaded (%u operations)\n", cfg->spec_path,
                app->oas->nops);
    pthread_mutex_unlock(&h->reloading);
    return 0;
}

static void *watch_main(void *arg)
{
    struct holder *h = arg;
    unsigned ms = h->cfg->layers && h->cfg->layers->watch_ms ? h->cfg->layers->watch_ms : 500;
    pthread_mutex_lock(&h->reloading);
    uint64_t known = signature(h);
    pthread_mutex_unlock(&h->reloading);
    uint64_t pending = 0;
    bool changed = false;
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->wake, &h->lock, &ts);
        if (h->stop) break;
        pthread_mutex_unlock(&h->lock);
        pthread_mutex_lock(&h->reloading);
        uint64_t now = signature(h);
        pthread_mutex_unlock(&h->reloading);
        if (now != known) {
            /* Act once the files have stopped changing for one interval. */
            if (changed && now == pending) {
                mockd_reload_now(NULL);
                /* What we loaded is what `pending` describes. Taking the signature after the
                 * reload would hide an edit made while it ran; with this one, such an edit
                 * (or a new version that reaches other files) is seen at the next tick. */
                known = pending;
                changed = false;
            } else {
                changed = true;
                pending = now;
            }
        } else {
            changed = false;
        }
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

int mockd_reload_install(const struct mockd_config *cfg, struct mockd_app *app)
{
    struct holder *h = ct_xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->reloading, NULL);
    pthread_cond_init(&h->wake, NULL);
    h->cfg = cfg;
    h->cur = ct_xcalloc(1, sizeof(*h->cur));
    h->cur->app = app;
    h->cur->refs = 1;
    collect_files(h, app);
    g_holder = h;
    if (cfg->layers && cfg->layers->watch) {
        if (pthread_create(&h->watcher, NULL, watch_main, h) != 0) return -1;
        h->watching = true;
    }
    return 0;
}

void mockd_reload_uninstall(void)
{
    struct holder *h = g_holder;
    if (!h) return;
    if (h->watching) {
        pthread_mutex_lock(&h->lock);
        h->stop = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->watcher, NULL);
    }
    g_holder = NULL;
    while (h->retired) {
        struct version *v = h->retired;
        h->retired = v->next;
        version_free(v);
    }
    version_free(h->cur);
    for (size_t i = 0; i < h->nfiles; i++)
        ct_free(h->files[i]);
    ct_free(h->files);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->reloading);
    ct_free(h);
}

/* --- for the admin API -------------------------------------------------------------------------
 */

unsigned layers_reload_count(void)
{
    struct holder *h = g_holder;
    if (!h) return 0;
    pthread_mutex_lock(&h->lock);
    unsigned n = h->reloads;
    pthread_mutex_unlock(&h->lock);
    return n;
}

unsigned layers_reload_now(struct ct_buf *out)
{
    struct holder *h = g_holder;
    if (!h) {
        ct_buf_adds(out, "hot reload is not available: this mockd runs without a reloader (an "
                         "in-process server)");
        return 409;
    }
    struct ct_buf why;
    ct_buf_init(&why, 0);
    if (mockd_reload_now(&why) != 0) {
        ct_buf_printf(out, "the spec was not reloaded; the previous version keeps serving:\n%s",
                      ct_buf_cstr(&why));
        ct_buf_deinit(&why);
        return 422;
    }
    ct_buf_deinit(&why);
    pthread_mutex_lock(&h->lock);
    ct_buf_printf(out, "{\"reloaded\":true,\"operations\":%u,\"reloads\":%u}",
                  h->cur->app->oas->nops, h->reloads);
    pthread_mutex_unlock(&h->lock);
    return 200;
}

/* main.c - mockd's entry: options, loading the spec, serving until SIGINT/SIGTERM. */
#include "mockd.h"

#include "config.h"
#include "core/alloc.h"
#include "reload.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct mockd_config cfg;
    mockd_config_defaults(&cfg);
    mockd_layers_config_init(&cfg);
    struct ct_docset *cfgdoc = NULL;
    int rc = mockd_config_parse(&cfg, argc, argv, &cfgdoc);
    if (rc) {
        ct_docset_free(cfgdoc);
        mockd_layers_config_free(&cfg);
        return rc;
    }
    /* The app lives on the heap: hot reload (reload.c) replaces it while requests still hold
     * the old one. */
    struct mockd_app *app = ct_xcalloc(1, sizeof(*app));
    bool installed = false;
    rc = mockd_app_load(app, &cfg);
    if (rc)
        goto out;
    if (cfg.check_only) {
        if (!cfg.quiet)
            printf("%s: OpenAPI %s, %u paths, %u operations, %u webhooks, %u warnings: ok\n",
                   cfg.spec_path, app->oas->version, app->oas->npaths,
                   app->oas->nops - app->oas->nwebhook, app->oas->nwebhook, app->nwarnings);
        goto out;
    }

    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned port = 0;
    if (mockd_reload_install(&cfg, app) != 0) {
        fprintf(stderr, "mockd: cannot start the --watch thread\n");
        rc = 70;
        goto out;
    }
    installed = true;
    struct mockd_server *srv = mockd_http_start(&cfg, app, &port);
    if (!srv) {
        rc = 70;
        goto out;
    }
    char hostbuf[300];
    if (strchr(cfg.host, ':'))
        snprintf(hostbuf, sizeof(hostbuf), "[%s]", cfg.host);
    else
        snprintf(hostbuf, sizeof(hostbuf), "%s", cfg.host);
    if (!cfg.quiet) {
        static const char *const modes[] = {"auto", "jwt", "presence", "off"};
        static const char *const vmodes[] = {"enforce", "warn", "off"};
        printf("mockd %s: %s (OpenAPI %s, %u operations; validation %s, auth %s)\n", CT_VERSION,
               app->oas->title ? app->oas->title : cfg.spec_path, app->oas->version, app->oas->nops,
               vmodes[cfg.validate], modes[app->auth]);
    }
    /* The URL line is printed even with --quiet: scripts read the port from it. */
    printf("listening on http://%s:%u\n", hostbuf, port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    if (!cfg.quiet)
        fprintf(stderr, "mockd: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    mockd_http_stop(srv);
out:
    if (installed) {
        mockd_reload_uninstall();
    } else {
        mockd_app_free(app);
        ct_free(app);
    }
    ct_docset_free(cfgdoc);
    mockd_layers_config_free(&cfg);
    return rc;
}

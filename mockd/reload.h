/* reload.h - hot reload: the loaded spec in service is swapped for a freshly loaded one while
 * connections stay open, and a broken edit leaves the old one serving.
 *
 * The server's code takes the app for each request with mockd_app_acquire() and gives it back
 * with mockd_app_release() when the request is done; a reload publishes the new app for the
 * requests that start afterwards, and the old one is freed when its last request ends. The
 * run-time state of the test-double layers (overrides, faults, journal, stored items) and the
 * JWT signer with its revocation list are handed to the new app, so tests and logged-in
 * frontends notice nothing but the new spec.
 *
 * Without mockd_reload_install() (in-process tests), acquire returns its fallback and release
 * does nothing.
 *
 * Threads: acquire and release from any thread; install and uninstall from the main thread,
 * before serving starts and after it stopped. */
#pragma once

#include "mockd.h"

/** Serve `app` (takes ownership: it must come from ct_xmalloc and be loaded by
 * mockd_app_load; it is freed by mockd_reload_uninstall or when a reload retires it). With
 * cfg->layers' --watch, a thread polls the spec's files (the spec, every file its $refs reach,
 * --asyncapi and --dialogues) and reloads when they change. Returns 0, or -1 when the watcher
 * thread cannot start. */
int mockd_reload_install(const struct mockd_config *cfg, struct mockd_app *app);
/** Stop watching and free the app in service. Every acquired app must have been released. */
void mockd_reload_uninstall(void);

/** The app in service, with a reference (borrowed until mockd_app_release); `fallback` when
 * nothing was installed. */
const struct mockd_app *mockd_app_acquire(const struct mockd_app *fallback);
/** Give back a reference from mockd_app_acquire; NULL and the fallback are no-ops. */
void mockd_app_release(const struct mockd_app *app);

/** Load the spec again now. Returns 0 when the new version serves; else the located errors
 * were printed to stderr and copied into `why` (may be NULL), and the old version serves on. */
int mockd_reload_now(struct ct_buf *why);

/* ws_lws.h - WebSocket channels served by libwebsockets on mockd's port.
 *
 * One libwebsockets context with no listening socket of its own runs on a service thread; the
 * front (front.c) hands it the connections whose request line names a channel of the AsyncAPI
 * document. Each connection is authenticated with the access token in its query, driven by the
 * dialogue engine (timed actions on the connection's timer), and checked frame by frame. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct mockd_app;
struct mockd_config;
struct mockd_ws;

/** Start the service thread. NULL after printing why. */
struct mockd_ws *mockd_ws_start(const struct mockd_config *cfg, const struct mockd_app *app);
/** Hand over an accepted socket (takes ownership; thread-safe). */
void mockd_ws_adopt(struct mockd_ws *ws, int fd);
/** Close every connection with "going away" (after a shutdown notice when a script has one)
 * and stop. NULL is a no-op. */
void mockd_ws_stop(struct mockd_ws *ws);

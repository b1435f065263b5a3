/* layers_ws.h - what the WebSocket code (ws_lws.c) calls so that the test-double layers see
 * WebSocket traffic too: the journal records frames, the offline switch refuses upgrades, and
 * --proxy names the upstream a channel is passed through to.
 *
 * Threads: callable from any thread, concurrently. Every pointer argument is borrowed for the
 * call only; nothing is kept (the journal copies what it records). */
#pragma once

#include "core/arena.h"

#include <stdbool.h>
#include <stddef.h>

struct mockd_app;

/** Record one frame in the journal (kind "ws"): `from_client` for frames the client sent,
 * `text` for text frames (binary frames are counted, their bytes are not shown). `session` is
 * the upgrade request's X-Mockd-Session header, or NULL. */
void mockd_layers_ws_frame(const struct mockd_app *app, const char *path, const char *session,
                           bool from_client, const char *data, size_t len, bool text);

/** One text frame of a batch (borrowed for the call). */
struct mockd_ws_text {
    const char *data;
    size_t len;
};

/** Record n text frames sent together (one write) to the client: as n calls of
 * mockd_layers_ws_frame, with one clock reading and one turn of the journal's lock. */
void mockd_layers_ws_frames_out(const struct mockd_app *app, const char *path, const char *session,
                                const struct mockd_ws_text *frames, size_t n);

/** False while the offline switch is on: refuse the upgrade (close the connection). */
bool mockd_layers_ws_accept(const struct mockd_app *app);

/** With --proxy: the upstream URL for a channel path ("ws://backend:8000/ws/chat"), in the
 * arena; NULL without --proxy. The WebSocket code connects there and relays frames both ways,
 * calling mockd_layers_ws_frame for each and checking them against the AsyncAPI document as it
 * checks the mock's own. */
const char *mockd_layers_ws_upstream(const struct mockd_app *app, const char *path, size_t path_len,
                                     struct ct_arena *arena);

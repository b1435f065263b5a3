/* front.h - one listening socket for HTTP and WebSocket.
 *
 * When mockd serves WebSocket channels, it owns the listening socket itself. Each accepted
 * connection waits (in one epoll loop, never blocking the others) until its request line has
 * arrived, which is read with MSG_PEEK so that nothing is consumed; a GET on a channel path goes
 * to libwebsockets, everything else to libmicrohttpd, both of which then read the request from
 * the start. Without channels, libmicrohttpd listens on its own and this front is not used. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct mockd_front;

/** Where a connection goes. `ud` is the caller's. Both take ownership of fd. */
struct mockd_front_sinks {
    void (*to_http)(void *ud, int fd, const struct sockaddr *addr, socklen_t len);
    void (*to_ws)(void *ud, int fd);
    bool (*accept_ok)(void *ud); /* false: close new connections at once (offline) */
    /* Is this path (without the query) a WebSocket channel? */
    bool (*is_channel)(void *ud, const char *path, size_t len);
    void *ud;
};

/** Bind host:port (0: a free port) and start the accept thread. NULL after printing why. */
struct mockd_front *mockd_front_start(const char *host, unsigned port,
                                      const struct mockd_front_sinks *sinks, unsigned *port_out);
void mockd_front_stop(struct mockd_front *f);

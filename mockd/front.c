/* front.c - the accepting front: accept, wait for the request line without consuming it, route
 * the socket to libmicrohttpd or libwebsockets.
 *
 * A connection that sends nothing within FRONT_WAIT_MS, or a request line longer than
 * FRONT_PEEK bytes, goes to libmicrohttpd, which answers or times it out as usual. At most
 * FRONT_PENDING connections may wait at once; more are handed over at once. */
#include "front.h"

#include "core/alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define FRONT_PEEK 4096
#define FRONT_WAIT_MS 10000
#define FRONT_PENDING 4096

struct pending {
    int fd;
    struct sockaddr_storage addr;
    socklen_t len;
    long long since;
};

struct mockd_front {
    int lfd, ep, wake[2];
    pthread_t thread;
    struct mockd_front_sinks sinks;
    struct pending *pend;
    size_t npend, cappend;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remove_pending(struct mockd_front *f, size_t i)
{
    epoll_ctl(f->ep, EPOLL_CTL_DEL, f->pend[i].fd, NULL);
    f->pend[i] = f->pend[--f->npend];
}

static void to_http(struct mockd_front *f, size_t i)
{
    struct pending p = f->pend[i];
    remove_pending(f, i);
    f->sinks.to_http(f->sinks.ud, p.fd, (struct sockaddr *)&p.addr, p.len);
}

/* Decide for pending connection i once data is there. */
static void route(struct mockd_front *f, size_t i)
{
    char buf[FRONT_PEEK];
    ssize_t n = recv(f->pend[i].fd, buf, sizeof(buf), MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        int fd = f->pend[i].fd;
        remove_pending(f, i);
        close(fd); /* closed before saying anything */
        return;
    }
    if (n < 0)
        return;
    const char *nl = memchr(buf, '\n', (size_t)n);
    if (!nl) {
        if ((size_t)n == sizeof(buf))
            to_http(f, i);
        return; /* wait for the rest of the request line */
    }
    /* "GET /path?query HTTP/1.1" */
    bool ws = false;
    if (n > 4 && !memcmp(buf, "GET ", 4)) {
        const char *p = buf + 4, *e = p;
        while (e < nl && *e != ' ' && *e != '?')
            e++;
        ws = f->sinks.is_channel(f->sinks.ud, p, (size_t)(e - p));
    }
    if (!ws) {
        to_http(f, i);
        return;
    }
    struct pending p = f->pend[i];
    remove_pending(f, i);
    int fl = fcntl(p.fd, F_GETFL);
    fcntl(p.fd, F_SETFL, fl & ~O_NONBLOCK);
    f->sinks.to_ws(f->sinks.ud, p.fd);
}

static void *loop(void *arg)
{
    struct mockd_front *f = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(f->ep, evs, 64, 500);
        for (int k = 0; k < n; k++) {
            int fd = evs[k].data.fd;
            if (fd == f->wake[0])
                return NULL;
            if (fd == f->lfd) {
                for (;;) {
                    struct pending p = {.len = sizeof(p.addr)};
                    p.fd = accept(f->lfd, (struct sockaddr *)&p.addr, &p.len);
                    if (p.fd < 0)
                        break;
                    fcntl(p.fd, F_SETFL, fcntl(p.fd, F_GETFL) | O_NONBLOCK);
                    fcntl(p.fd, F_SETFD, FD_CLOEXEC);
                    if (f->sinks.accept_ok && !f->sinks.accept_ok(f->sinks.ud)) {
                        close(p.fd);
                        continue;
                    }
                    int one = 1;
                    setsockopt(p.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    p.since = now_ms();
                    f->pend = ct_xgrow(f->pend, &f->cappend, f->npend + 1, sizeof(*f->pend));
                    f->pend[f->npend++] = p;
                    if (f->npend > FRONT_PENDING) {
                        to_http(f, f->npend - 1);
                        continue;
                    }
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = p.fd};
                    epoll_ctl(f->ep, EPOLL_CTL_ADD, p.fd, &ev);
                }
                continue;
            }
            for (size_t i = 0; i < f->npend; i++)
                if (f->pend[i].fd == fd) {
                    route(f, i);
                    break;
                }
        }
        long long now = now_ms();
        for (size_t i = 0; i < f->npend;) {
            if (now - f->pend[i].since > FRONT_WAIT_MS)
                to_http(f, i);
            else
                i++;
        }
    }
}

struct mockd_front *mockd_front_start(const char *host, unsigned port,
                                      const struct mockd_front_sinks *sinks, unsigned *port_out)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1 || !strcmp(host, "localhost")) {
        if (!strcmp(host, "localhost"))
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sl = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*sin6);
    } else {
        fprintf(stderr, "mockd: --host '%s': expected an IPv4 or IPv6 address\n", host);
        return NULL;
    }
    int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, sl) != 0 || listen(lfd, 1024) != 0) {
        fprintf(stderr, "mockd: cannot listen on %s:%u: %s\n", host, port, strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return NULL;
    }
    struct mockd_front *f = ct_xcalloc(1, sizeof(*f));
    f->lfd = lfd;
    f->sinks = *sinks;
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    if (pipe(f->wake) != 0) {
        close(lfd);
        ct_free(f);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(f->ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event wv = {.events = EPOLLIN, .data.fd = f->wake[0]};
    epoll_ctl(f->ep, EPOLL_CTL_ADD, f->wake[0], &wv);
    struct sockaddr_storage bound;
    socklen_t bl = sizeof(bound);
    getsockname(lfd, (struct sockaddr *)&bound, &bl);
    *port_out = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                 : ((struct sockaddr_in6 *)&bound)->sin6_port);
    if (pthread_create(&f->thread, NULL, loop, f) != 0) {
        close(lfd);
        close(f->ep);
        ct_free(f);
        return NULL;
    }
    return f;
}

void mockd_front_stop(struct mockd_front *f)
{
    if (!f)
        return;
    if (write(f->wake[1], "x", 1) < 0)
        perror("mockd: front");
    pthread_join(f->thread, NULL);
    for (size_t i = 0; i < f->npend; i++)
        close(f->pend[i].fd);
    close(f->lfd);
    close(f->ep);
    close(f->wake[0]);
    close(f->wake[1]);
    ct_free(f->pend);
    ct_free(f);
}

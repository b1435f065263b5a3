/* wsbench.c - WebSocket load client for the dialogue benchmark.
 *
 * usage: wsbench PORT PATH CONNECTIONS SECONDS FRAMES_PER_TURN MESSAGE_JSON
 *        wsbench --idle PORT PATH CONNECTIONS SECONDS
 * Each connection sends MESSAGE_JSON, reads FRAMES_PER_TURN text frames, and starts again, for
 * SECONDS; frames received per second (all connections) is printed. With --idle it opens
 * CONNECTIONS connections, keeps them open for SECONDS, and prints how many stayed open. Frames
 * the server sends before the first turn (a welcome) are counted apart. One epoll loop, no
 * threads: the client costs little next to the server under test. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    int state; /* 0 handshake, 1 running */
    char buf[1 << 16];
    size_t len;
    unsigned got; /* frames of the current turn */
    int first;    /* frames before the first turn are the welcome */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static size_t frame(char *out, const char *msg, size_t n)
{
    size_t h = 0;
    out[h++] = (char)0x81;
    if (n < 126) {
        out[h++] = (char)(0x80 | n);
    } else {
        out[h++] = (char)(0x80 | 126);
        out[h++] = (char)(n >> 8);
        out[h++] = (char)n;
    }
    unsigned char mask[4] = {1, 2, 3, 4};
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = (char)(msg[i] ^ mask[i % 4]);
    return h + n;
}

int main(int argc, char **argv)
{
    int idle = argc > 1 && !strcmp(argv[1], "--idle");
    int a0 = idle ? 2 : 1;
    if (argc < a0 + (idle ? 4 : 6)) {
        fprintf(stderr, "usage: wsbench PORT PATH CONNECTIONS SECONDS FRAMES MESSAGE\n"
                        "       wsbench --idle PORT PATH CONNECTIONS SECONDS\n");
        return 2;
    }
    int port = atoi(argv[a0]);
    const char *path = argv[a0 + 1];
    int nconn = atoi(argv[a0 + 2]);
    double secs = atof(argv[a0 + 3]);
    unsigned per_turn = idle ? 0 : (unsigned)atoi(argv[a0 + 4]);
    const char *msg = idle ? "" : argv[a0 + 5];
    char out[70000];
    size_t outlen = idle ? 0 : frame(out, msg, strlen(msg));
    int ep = epoll_create1(0);
    struct conn *cs = calloc((size_t)nconn, sizeof(*cs));
    char req[1024];
    int reqlen = snprintf(req, sizeof(req),
                          "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n",
                          path);
    int opened = 0;
    for (int i = 0; i < nconn; i++) {
        cs[i].fd = dial(port);
        if (cs[i].fd < 0)
            continue;
        opened++;
        if (write(cs[i].fd, req, (size_t)reqlen) != reqlen)
            perror("write");
        fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    unsigned long long frames = 0, welcome = 0;
    int upgraded = 0, closed = 0;
    double t0 = now(), tstart = 0;
    struct epoll_event evs[256];
    while (now() - t0 < secs + (tstart ? 0 : 10)) {
        if (!tstart && upgraded == opened)
            tstart = now(), t0 = tstart;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            struct conn *c = &cs[evs[k].data.u32];
            ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
            if (r <= 0) {
                if (r == 0 || errno != EAGAIN) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    closed++;
                }
                continue;
            }
            c->len += (size_t)r;
            if (c->state == 0) {
                char *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
                if (!e)
                    continue;
                size_t hl = (size_t)(e + 4 - c->buf);
                memmove(c->buf, c->buf + hl, c->len - hl);
                c->len -= hl;
                c->state = 1;
                c->first = 1;
                upgraded++;
                if (!idle && write(c->fd, out, outlen) < 0)
                    perror("write");
            }
            /* Count whole frames in the buffer. */
            size_t off = 0;
            for (;;) {
                if (c->len - off < 2)
                    break;
                unsigned char *p = (unsigned char *)c->buf + off;
                size_t plen = p[1] & 0x7F, h = 2;
                if (plen == 126) {
                    if (c->len - off < 4)
                        break;
                    plen = (size_t)p[2] << 8 | p[3];
                    h = 4;
                } else if (plen == 127) {
                    break; /* no 64-bit frames in this benchmark */
                }
                if (c->len - off < h + plen)
                    break;
                off += h + plen;
                if ((p[0] & 0x0F) != 1)
                    continue;
                /* A welcome before the first turn: frames whose type is "system". */
                if (c->first && plen > 16 && memmem(p + h, plen, "\"system\"", 8)) {
                    welcome++;
                    continue;
                }
                c->first = 0;
                if (tstart)
                    frames++;
                if (++c->got == per_turn) {
                    c->got = 0;
                    if (!idle && write(c->fd, out, outlen) < 0)
                        perror("write");
                }
            }
            memmove(c->buf, c->buf + off, c->len - off);
            c->len -= off;
        }
    }
    double el = now() - t0;
    if (idle)
        printf("%d connections opened, %d upgraded, %d still open after %.0f s\n", opened,
               upgraded, upgraded - closed, el);
    else
        printf("%d connections: %llu frames in %.2f s = %.0f frames/s\n", upgraded, frames, el,
               frames / el);
    return 0;
}

/* mock.c - starting and stopping mockd for `runner run --mock`.
 *
 * mockd is spawned with `--port 0 --quiet SPEC`; its first stdout line says
 * `listening on http://HOST:PORT`, which is read through a pipe with a deadline. It is stopped
 * with SIGTERM (SIGKILL after two seconds) and reaped. Its stderr is inherited, so a broken
 * spec or a crash shows up in runner's own output. */
#include "runner.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char *runner_mock_find(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char *p = ct_xasprintf("%s/../mockd/mockd", self);
    if (access(p, X_OK) == 0)
        return p;
    ct_free(p);
    p = ct_xasprintf("%s/mockd", self);
    if (access(p, X_OK) == 0)
        return p;
    ct_free(p);
    return NULL;
}

int runner_mock_start(const char *mockd, const char *spec, const char *const *args, size_t nargs,
                      struct runner_mock *m, char *err, size_t errlen)
{
    m->pid = -1;
    m->fd = -1;
    m->url[0] = '\0';
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    /* mockd [extra args] --port 0 --quiet SPEC: ours come last so they win. */
    char **argv = ct_xcalloc(nargs + 6, sizeof(char *));
    size_t k = 0;
    argv[k++] = (char *)mockd;
    for (size_t i = 0; i < nargs; i++)
        argv[k++] = (char *)args[i];
    argv[k++] = "--port";
    argv[k++] = "0";
    argv[k++] = "--quiet";
    argv[k++] = (char *)spec;
    pid_t pid;
    int rc = posix_spawn(&pid, mockd, &fa, NULL, argv, environ);
    ct_free(argv);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        snprintf(err, errlen, "cannot start '%s': %s", mockd, strerror(rc));
        return -1;
    }
    m->pid = pid;
    /* Read the first line within 10 seconds. */
    char line[512];
    size_t len = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (elapsed > 10000) {
            snprintf(err, errlen, "mockd did not say where it listens within 10 s");
            break;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(fds[0], line + len, sizeof(line) - 1 - len);
        if (n <= 0) {
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                m->pid = -1;
                snprintf(err, errlen, "mockd exited with status %d before listening",
                         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            } else {
                snprintf(err, errlen, "mockd closed its output before listening");
            }
            break;
        }
        len += (size_t)n;
        line[len] = '\0';
        char *nl = strchr(line, '\n');
        if (!nl && len < sizeof(line) - 1)
            continue;
        if (nl)
            *nl = '\0';
        const char *pre = "listening on ";
        char *at = strstr(line, pre);
        if (at) {
            snprintf(m->url, sizeof(m->url), "%s", at + strlen(pre));
            m->fd = fds[0];
            return 0;
        }
        snprintf(err, errlen, "unexpected first line from mockd: '%s'", line);
        break;
    }
    close(fds[0]);
    runner_mock_stop(m);
    return -1;
}

void runner_mock_stop(struct runner_mock *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        bool gone = false;
        for (int i = 0; i < 200 && !gone; i++) {
            gone = waitpid(m->pid, NULL, WNOHANG) == m->pid;
            if (!gone)
                usleep(10000);
        }
        if (!gone) {
            kill(m->pid, SIGKILL);
            waitpid(m->pid, NULL, 0);
        }
        m->pid = -1;
    }
    if (m->fd >= 0) {
        close(m->fd);
        m->fd = -1;
    }
}

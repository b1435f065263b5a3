/* sched.c - a binary min-heap of timed tasks served by one thread (condition variable waits
 * until the earliest is due). */
#include "sched.h"

#include "core/alloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct task {
    int64_t due;
    uint64_t seq; /* FIFO among tasks due at the same millisecond */
    mockd_task_fn fn;
    void *arg;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    struct task *heap;
    size_t n, cap;
    uint64_t seq;
    bool running, stopping;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

int64_t mockd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool before(const struct task *a, const struct task *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void push(struct task t)
{
    S.heap = ct_xgrow(S.heap, &S.cap, S.n + 1, sizeof(*S.heap));
    size_t i = S.n++;
    while (i > 0 && before(&t, &S.heap[(i - 1) / 2])) {
        S.heap[i] = S.heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    S.heap[i] = t;
}

static struct task pop(void)
{
    struct task top = S.heap[0], last = S.heap[--S.n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= S.n)
            break;
        if (c + 1 < S.n && before(&S.heap[c + 1], &S.heap[c]))
            c++;
        if (!before(&S.heap[c], &last))
            break;
        S.heap[i] = S.heap[c];
        i = c;
    }
    if (S.n)
        S.heap[i] = last;
    return top;
}

static void *loop(void *unused)
{
    pthread_mutex_lock(&S.lock);
    for (;;) {
        if (S.n == 0) {
            if (S.stopping)
                break;
            pthread_cond_wait(&S.cond, &S.lock);
            continue;
        }
        int64_t now = mockd_now_ms();
        if (S.heap[0].due > now && !S.stopping) {
            int64_t due = S.heap[0].due;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (due - now) * 1000000;
            ts.tv_sec += ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&S.cond, &S.lock, &ts);
            continue;
        }
        struct task t = pop();
        pthread_mutex_unlock(&S.lock);
        t.fn(t.arg);
        pthread_mutex_lock(&S.lock);
    }
    pthread_mutex_unlock(&S.lock);
    return NULL;
}

int mockd_sched_start(void)
{
    pthread_mutex_lock(&S.lock);
    if (S.running) {
        pthread_mutex_unlock(&S.lock);
        return 0;
    }
    S.stopping = false;
    int rc = pthread_create(&S.thread, NULL, loop, NULL);
    S.running = rc == 0;
    pthread_mutex_unlock(&S.lock);
    return rc == 0 ? 0 : -1;
}

void mockd_sched_stop(void)
{
    pthread_mutex_lock(&S.lock);
    if (!S.running) {
        pthread_mutex_unlock(&S.lock);
        return;
    }
    S.stopping = true;
    pthread_cond_signal(&S.cond);
    pthread_mutex_unlock(&S.lock);
    pthread_join(S.thread, NULL);
    pthread_mutex_lock(&S.lock);
    S.running = false;
    ct_free(S.heap);
    S.heap = NULL;
    S.n = S.cap = 0;
    pthread_mutex_unlock(&S.lock);
}

void mockd_sched_add(uint32_t delay_ms, mockd_task_fn fn, void *arg)
{
    pthread_mutex_lock(&S.lock);
    push((struct task){mockd_now_ms() + delay_ms, S.seq++, fn, arg});
    pthread_cond_signal(&S.cond);
    pthread_mutex_unlock(&S.lock);
}

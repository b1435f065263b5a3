/* sched.h - one timer thread for the whole daemon: delayed answers, paced bodies, SSE events.
 *
 * Tasks run on the timer thread, in due order; they must be short (append to a buffer, resume a
 * connection) and never block. No task is cancelled: a task whose target went away must notice
 * it (the targets keep a reference count). */
#pragma once

#include <stdint.h>

typedef void (*mockd_task_fn)(void *arg);

/** Start the timer thread. Returns 0, or -1 when the thread cannot be made. */
int mockd_sched_start(void);
/** Run every pending task that is due, then stop the thread; tasks not yet due are run at once,
 * so their targets are released. */
void mockd_sched_stop(void);
/** Run fn(arg) in `delay_ms` milliseconds. */
void mockd_sched_add(uint32_t delay_ms, mockd_task_fn fn, void *arg);
/** Milliseconds on the monotonic clock. */
int64_t mockd_now_ms(void);

/* scheduler.h - when each project is due. Pure: callers pass the current
 * monotonic time in seconds.
 *
 * Polls keep their phase: a project polled at t0 with interval i is due at
 * t0 + k*i; a poll that could not start on time is not made up for by a
 * burst, the next slot in the future is taken instead. */
#ifndef HSS_SCHEDULER_H
#define HSS_SCHEDULER_H

#include <stdbool.h>

typedef struct {
  double interval; /* seconds */
  double next_due; /* monotonic seconds */
} hss_sched_t;

/* First poll at now + offset. */
void hss_sched_init(hss_sched_t *s, double interval, double now,
                    double offset);

/* True when the project should be polled at now. */
bool hss_sched_due(const hss_sched_t *s, double now);

/* Marks a poll started at now; moves next_due to the next slot after now. */
void hss_sched_started(hss_sched_t *s, double now);

/* Seconds from now until due (0 when due). */
double hss_sched_wait(const hss_sched_t *s, double now);

#endif

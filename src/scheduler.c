/* scheduler.c - fixed-phase interval scheduling. */
#include "scheduler.h"

#include <math.h>

void hss_sched_init(hss_sched_t *s, double interval, double now,
                    double offset) {
  s->interval = interval;
  s->next_due = now + offset;
}

bool hss_sched_due(const hss_sched_t *s, double now) {
  return now >= s->next_due;
}

void hss_sched_started(hss_sched_t *s, double now) {
  if (s->next_due > now)
    return; /* not due: nothing to advance */
  double behind = floor((now - s->next_due) / s->interval);
  s->next_due += (behind + 1) * s->interval;
}

double hss_sched_wait(const hss_sched_t *s, double now) {
  return s->next_due > now ? s->next_due - now : 0;
}

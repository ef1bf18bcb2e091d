/* ratelimit.h - a sliding-window call budget: at most `calls` calls in any
 * `seconds` long window, the way the API gateway counts them. Pure: callers
 * pass the current monotonic time. */
#ifndef HSS_RATELIMIT_H
#define HSS_RATELIMIT_H

#include <stddef.h>

typedef struct {
  double *starts; /* ring of the last `calls` call times */
  size_t calls;
  size_t next; /* ring position of the oldest entry */
  size_t used; /* entries filled so far (<= calls) */
  double seconds;
  double margin; /* extra seconds added to the window, for clock skew and
                    latency jitter between us and the gateway */
} hss_window_t;

/* Sets up a window of `calls` calls per `seconds`. Returns 0 or -1. */
int hss_window_init(hss_window_t *w, size_t calls, double seconds);

/* Seconds from now until one more call fits (0: now). */
double hss_window_wait(const hss_window_t *w, double now);

/* Records a call made at now. */
void hss_window_record(hss_window_t *w, double now);

void hss_window_free(hss_window_t *w);

#endif

/* ratelimit.c - sliding-window call budgets. */
#include "ratelimit.h"

#include <stdlib.h>

/* The margin keeps our window a little wider than the gateway's: requests
 * reach it up to a few hundred ms after we start them. */
#define MARGIN_MIN 0.5
#define MARGIN_SHARE 0.02

int hss_window_init(hss_window_t *w, size_t calls, double seconds) {
  w->starts = calloc(calls ? calls : 1, sizeof(*w->starts));
  if (w->starts == NULL)
    return -1;
  w->calls = calls;
  w->next = 0;
  w->used = 0;
  w->seconds = seconds;
  w->margin =
      seconds * MARGIN_SHARE > MARGIN_MIN ? seconds * MARGIN_SHARE : MARGIN_MIN;
  return 0;
}

double hss_window_wait(const hss_window_t *w, double now) {
  if (w->used < w->calls)
    return 0;
  /* Full: the oldest call must leave the window first. */
  double free_at = w->starts[w->next] + w->seconds + w->margin;
  return free_at > now ? free_at - now : 0;
}

void hss_window_record(hss_window_t *w, double now) {
  if (w->calls == 0)
    return;
  w->starts[w->next] = now;
  w->next = (w->next + 1) % w->calls;
  if (w->used < w->calls)
    w->used++;
}

void hss_window_free(hss_window_t *w) {
  free(w->starts);
  w->starts = NULL;
}

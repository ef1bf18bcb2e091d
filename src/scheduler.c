/* scheduler.c - budget planning, even spacing, windows and 429 back-off. */
#include "scheduler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hss_fair_rates(const double *max_rate, size_t n, double budget,
                    double *rate) {
  bool *fixed = calloc(n ? n : 1, sizeof(*fixed));
  size_t left = n;
  double remaining = budget;
  if (fixed == NULL) { /* degrade to an equal share */
    for (size_t i = 0; i < n; i++)
      rate[i] = fmin(max_rate[i], budget / (double)n);
    return;
  }
  /* Consumers that want less than a fair share get what they want; the
   * rest is shared again among the others, until nobody changes. */
  bool changed = true;
  while (changed && left > 0) {
    changed = false;
    double fair = remaining / (double)left;
    for (size_t i = 0; i < n; i++) {
      if (!fixed[i] && max_rate[i] <= fair) {
        rate[i] = max_rate[i];
        remaining -= max_rate[i];
        fixed[i] = true;
        left--;
        changed = true;
      }
    }
  }
  for (size_t i = 0; i < n; i++)
    if (!fixed[i])
      rate[i] = remaining / (double)left;
  free(fixed);
}

/* Calls per second a budget allows, planned against the window with its
 * margin so that evenly spaced calls never wait on the window; INFINITY
 * when unlimited. */
static double budget_rate(const hss_window_t *w, bool limited) {
  if (!limited)
    return INFINITY;
  return (double)w->calls / (w->seconds + w->margin);
}

/* Caps each entry's rate so the entries of every group fit its budget,
 * then so that all fit the poller's budget. */
static void plan_rates(hss_sched_t *s, double *rate, double *want) {
  size_t n = s->entries_num;
  for (size_t i = 0; i < n; i++)
    rate[i] = 1.0 / s->entries[i].min_interval;
  for (size_t g = 0; g < s->groups_num; g++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (s->entries[i].group == g)
        want[m++] = rate[i];
    double *got = want + n; /* second half of the scratch space */
    hss_fair_rates(
        want, m, budget_rate(&s->groups[g].window, s->groups[g].limited), got);
    m = 0;
    for (size_t i = 0; i < n; i++)
      if (s->entries[i].group == g)
        rate[i] = got[m++];
  }
  memcpy(want, rate, n * sizeof(*rate));
  hss_fair_rates(want, n, budget_rate(&s->window, s->limited), rate);
}

/* True when budget w, shared by n entries whose planned rates sum to used,
 * is loose enough for all of them to poll together in rounds: at most half
 * its calls per round and at most half its rate. Then rounds can never
 * fill a window; otherwise starts are spread evenly. */
static bool rounds_fit(const hss_window_t *w, bool limited, size_t n,
                       double used) {
  return !limited || ((double)n <= (double)w->calls / 2 &&
                      used <= 0.5 * budget_rate(w, limited));
}

/* True when every budget lets the entries poll together in rounds. */
static bool rounds_fit_all(const hss_sched_t *s, const double *rate) {
  double total = 0;
  for (size_t i = 0; i < s->entries_num; i++)
    total += rate[i];
  if (!rounds_fit(&s->window, s->limited, s->entries_num, total))
    return false;
  for (size_t g = 0; g < s->groups_num; g++) {
    size_t n = 0;
    double used = 0;
    for (size_t i = 0; i < s->entries_num; i++)
      if (s->entries[i].group == g) {
        n++;
        used += rate[i];
      }
    if (!rounds_fit(&s->groups[g].window, s->groups[g].limited, n, used))
      return false;
  }
  return true;
}

/* Sets a window for a budget; an unlimited budget gets a 1-slot dummy. */
static int window_for(hss_window_t *w, bool *limited, hss_budget_t b) {
  *limited = b.calls > 0 && b.seconds > 0;
  return hss_window_init(w, *limited ? b.calls : 1, *limited ? b.seconds : 1);
}

int hss_sched_init(hss_sched_t *s, const hss_sched_input_t *in, size_t n,
                   const hss_budget_t *groups, size_t groups_num,
                   hss_budget_t poller, double now) {
  memset(s, 0, sizeof(*s));
  s->entries = calloc(n ? n : 1, sizeof(*s->entries));
  s->groups = calloc(groups_num ? groups_num : 1, sizeof(*s->groups));
  double *rate = calloc(n ? n : 1, sizeof(*rate));
  double *scratch = calloc(n ? 2 * n : 2, sizeof(*scratch));
  int status = -1;
  if (s->entries == NULL || s->groups == NULL || rate == NULL ||
      scratch == NULL || window_for(&s->window, &s->limited, poller) != 0)
    goto done;
  s->entries_num = n;
  s->groups_num = groups_num;
  for (size_t g = 0; g < groups_num; g++)
    if (window_for(&s->groups[g].window, &s->groups[g].limited, groups[g]))
      goto done;
  for (size_t i = 0; i < n; i++) {
    s->entries[i].group = in[i].group;
    s->entries[i].min_interval = in[i].min_interval;
  }
  plan_rates(s, rate, scratch);
  /* Loose budgets: everyone polls at once, in rounds. Tight ones: the k-th
   * entry starts k / total_rate after now (folded into its own interval),
   * so calls are evenly spaced. */
  bool together = rounds_fit_all(s, rate);
  double total = 0;
  for (size_t i = 0; i < n; i++)
    total += rate[i];
  for (size_t i = 0; i < n; i++) {
    hss_sched_entry_t *e = &s->entries[i];
    e->interval = fmax(e->min_interval, 1.0 / rate[i]);
    double offset = !together && total > 0 ? (double)i / total : 0;
    e->next_due = now + fmod(offset, e->interval);
  }
  status = 0;
done:
  free(rate);
  free(scratch);
  if (status != 0)
    hss_sched_free(s);
  return status;
}

double hss_sched_wait(const hss_sched_t *s, size_t i, double now) {
  const hss_sched_entry_t *e = &s->entries[i];
  const hss_sched_group_t *g = &s->groups[e->group];
  double wait = e->next_due - now;
  if (g->paused_until - now > wait)
    wait = g->paused_until - now;
  if (g->limited && hss_window_wait(&g->window, now) > wait)
    wait = hss_window_wait(&g->window, now);
  if (s->limited && hss_window_wait(&s->window, now) > wait)
    wait = hss_window_wait(&s->window, now);
  return wait > 0 ? wait : 0;
}

/* Counts a call of entry i in both windows. */
static void count_call(hss_sched_t *s, size_t i, double now) {
  hss_sched_group_t *g = &s->groups[s->entries[i].group];
  if (g->limited)
    hss_window_record(&g->window, now);
  if (s->limited)
    hss_window_record(&s->window, now);
}

void hss_sched_start(hss_sched_t *s, size_t i, double now) {
  hss_sched_entry_t *e = &s->entries[i];
  count_call(s, i, now);
  /* The next slot after now, keeping the phase; a late start does not
   * cause a burst of catch-up polls. */
  if (e->next_due <= now)
    e->next_due += (floor((now - e->next_due) / e->interval) + 1) * e->interval;
  /* Never sooner than the configured Interval: after a late start (a pause,
   * a wait for a slot) the next slot may be closer than that. */
  if (e->next_due < now + e->min_interval)
    e->next_due = now + e->min_interval;
}

bool hss_sched_try_extra(hss_sched_t *s, size_t i, double now) {
  const hss_sched_group_t *g = &s->groups[s->entries[i].group];
  if ((g->limited && hss_window_wait(&g->window, now) > 0) ||
      (s->limited && hss_window_wait(&s->window, now) > 0) ||
      g->paused_until > now)
    return false;
  count_call(s, i, now);
  return true;
}

double hss_sched_throttled(hss_sched_t *s, size_t i, double now,
                           double retry_after, double jitter01) {
  hss_sched_group_t *g = &s->groups[s->entries[i].group];
  double pause = retry_after;
  if (pause < 0) {
    pause = HSS_BACKOFF_BASE * pow(2.0, (double)g->backoff);
    if (pause > HSS_BACKOFF_MAX)
      pause = HSS_BACKOFF_MAX;
    pause *= 0.5 + 0.5 * fmin(fmax(jitter01, 0.0), 0.999999);
  }
  if (g->backoff < 30)
    g->backoff++;
  if (now + pause > g->paused_until)
    g->paused_until = now + pause;
  return pause;
}

void hss_sched_succeeded(hss_sched_t *s, size_t i) {
  s->groups[s->entries[i].group].backoff = 0;
}

void hss_sched_free(hss_sched_t *s) {
  for (size_t g = 0; s->groups != NULL && g < s->groups_num; g++)
    hss_window_free(&s->groups[g].window);
  free(s->groups);
  free(s->entries);
  hss_window_free(&s->window);
  memset(s, 0, sizeof(*s));
}

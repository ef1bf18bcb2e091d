/* scheduler.h - when each project may be polled.
 *
 * Two call budgets apply, as on the API gateway: one per credential
 * (account) and one per poller (the gateway's per-source-IP limit). At
 * start-up the scheduler plans each project's effective interval: as
 * often as both budgets allow, shared fairly, but never more often than the
 * project's own Interval. When a budget is tight, start times are spread
 * evenly; when all budgets are loose, projects poll together in rounds
 * (as fast as possible, concurrently). At run time
 * sliding windows guarantee that no budget is ever exceeded, whatever the
 * plan, and a 429 pauses the account (Retry-After, or exponential back-off
 * with jitter). Pure: every call takes the current monotonic time. */
#ifndef HSS_SCHEDULER_H
#define HSS_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>

#include "ratelimit.h"

#define HSS_BACKOFF_BASE 2.0  /* first pause after a 429 without Retry-After */
#define HSS_BACKOFF_MAX 300.0 /* longest pause */

typedef struct {
  size_t calls; /* 0: no limit */
  double seconds;
} hss_budget_t;

typedef struct {
  size_t group;        /* budget group (account) index */
  double min_interval; /* the configured Interval */
} hss_sched_input_t;

typedef struct {
  size_t group;
  double min_interval;
  double interval; /* effective: >= min_interval */
  double next_due;
} hss_sched_entry_t;

typedef struct {
  hss_window_t window;
  bool limited;
  double paused_until; /* after a 429 */
  unsigned backoff;    /* 429s in a row */
} hss_sched_group_t;

typedef struct {
  hss_sched_entry_t *entries;
  size_t entries_num;
  hss_sched_group_t *groups;
  size_t groups_num;
  hss_window_t window; /* the poller's own budget */
  bool limited;
} hss_sched_t;

/* Shares budget (calls per second) among n consumers that each want at most
 * max_rate[i]: max-min fair ("water filling"). Writes rate[i]. */
void hss_fair_rates(const double *max_rate, size_t n, double budget,
                    double *rate);

/* Plans the entries: effective intervals within the group budgets and the
 * poller budget, first polls spread evenly from now. Returns 0 or -1. */
int hss_sched_init(hss_sched_t *s, const hss_sched_input_t *in, size_t n,
                   const hss_budget_t *groups, size_t groups_num,
                   hss_budget_t poller, double now);

/* Seconds until entry i may start a poll (0: now): its slot, both budgets
 * and its group's pause. */
double hss_sched_wait(const hss_sched_t *s, size_t i, double now);

/* Entry i starts a poll now: counts the call and moves to the next slot,
 * but at least the configured Interval from now. */
void hss_sched_start(hss_sched_t *s, size_t i, double now);

/* Counts one more call of entry i now (a retry within a poll) when both
 * budgets allow it; returns false (and counts nothing) otherwise. */
bool hss_sched_try_extra(hss_sched_t *s, size_t i, double now);

/* Entry i got HTTP 429: pauses its group for retry_after seconds, or, when
 * retry_after < 0, for HSS_BACKOFF_BASE * 2^k s (capped at
 * HSS_BACKOFF_MAX) times a jitter factor in [0.5, 1) made from jitter01 in
 * [0, 1). Returns the pause. */
double hss_sched_throttled(hss_sched_t *s, size_t i, double now,
                           double retry_after, double jitter01);

/* Entry i's call succeeded: its group's back-off starts over. */
void hss_sched_succeeded(hss_sched_t *s, size_t i);

void hss_sched_free(hss_sched_t *s);

#endif

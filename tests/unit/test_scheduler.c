/* test_scheduler.c - unit tests of scheduler.c, ratelimit.c and shard.c
 * with an injected clock: budget planning (both budgets, the Interval
 * floor), even spacing, sliding windows never exceeded, 429 back-off, and
 * rendezvous ownership (each project owned once, minimal movement). */
#include "unit.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "scheduler.h"
#include "shard.h"
#include "slots.h"

#define EPS 1e-9

/* Runs the scheduler over [0, horizon) in steps of dt, starting every entry
 * whenever it may start; records every start time per entry into starts
 * (entries x max_starts) and returns the total number of starts. */
static size_t simulate(hss_sched_t *s, double horizon, double dt,
                       double *starts, size_t max_starts, size_t *count) {
  size_t total = 0;
  memset(count, 0, s->entries_num * sizeof(*count));
  for (double t = 0; t < horizon; t += dt) {
    for (size_t i = 0; i < s->entries_num; i++) {
      if (hss_sched_wait(s, i, t) > 0)
        continue;
      hss_sched_start(s, i, t);
      if (count[i] < max_starts)
        starts[i * max_starts + count[i]] = t;
      count[i]++;
      total++;
    }
  }
  return total;
}

/* Largest number of starts (all entries, or those of group g when g >= 0)
 * within any window of `seconds`. */
static size_t max_in_window(const hss_sched_t *s, const double *starts,
                            size_t max_starts, const size_t *count,
                            double seconds, long g) {
  size_t best = 0;
  for (size_t i = 0; i < s->entries_num; i++)
    for (size_t a = 0; a < count[i] && a < max_starts; a++) {
      double t0 = starts[i * max_starts + a];
      size_t n = 0;
      for (size_t j = 0; j < s->entries_num; j++) {
        if (g >= 0 && s->entries[j].group != (size_t)g)
          continue;
        for (size_t b = 0; b < count[j] && b < max_starts; b++) {
          double t = starts[j * max_starts + b];
          if (t >= t0 && t < t0 + seconds)
            n++;
        }
      }
      if ((g < 0 || s->entries[i].group == (size_t)g) && n > best)
        best = n;
    }
  return best;
}

START_TEST(test_fair_rates) {
  double want[] = {1.0, 0.1, 5.0, 5.0};
  double got[4];
  hss_fair_rates(want, 4, 3.0, got);
  /* 0.1 is below a fair share (0.75); the other three share 2.9, and
   * 1.0 is above that share too */
  ck_assert_double_eq_tol(got[1], 0.1, EPS);
  ck_assert_double_eq_tol(got[0], 2.9 / 3, EPS);
  ck_assert_double_eq_tol(got[2], 2.9 / 3, EPS);
  ck_assert_double_eq_tol(got[3], 2.9 / 3, EPS);
  double want2[] = {0.5, 0.1, 5.0};
  hss_fair_rates(want2, 3, 3.0, got);
  ck_assert_double_eq_tol(got[0], 0.5, EPS);
  ck_assert_double_eq_tol(got[1], 0.1, EPS);
  ck_assert_double_eq_tol(got[2], 2.4, EPS);
  hss_fair_rates(want, 4, INFINITY, got);
  for (int i = 0; i < 4; i++)
    ck_assert_double_eq_tol(got[i], want[i], EPS);
}
END_TEST

/* Budget allows more than asked: every project keeps its Interval. */
START_TEST(test_interval_floor) {
  hss_sched_input_t in[] = {{0, 60}, {0, 300}};
  hss_budget_t groups[] = {{5, 60}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 2, groups, 1, (hss_budget_t){5, 60}, 0), 0);
  ck_assert_double_eq_tol(s.entries[0].interval, 60, EPS);
  ck_assert_double_eq_tol(s.entries[1].interval, 300, EPS);
  double starts[2 * 100];
  size_t count[2];
  simulate(&s, 3600, 0.25, starts, 100, count);
  ck_assert_uint_eq(count[0], 60); /* never more often than Interval */
  ck_assert_uint_eq(count[1], 12);
  hss_sched_free(&s);
}
END_TEST

/* 20 projects, Interval 10 s, account budget 5 per 10 s: each is slowed to
 * the fair share, starts are evenly spaced, the window is never exceeded
 * and every project is polled. */
START_TEST(test_account_budget_even_spacing) {
  enum { N = 20 };
  hss_sched_input_t in[N];
  for (int i = 0; i < N; i++)
    in[i] = (hss_sched_input_t){0, 10};
  hss_budget_t groups[] = {{5, 10}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, N, groups, 1, (hss_budget_t){100000, 1}, 0), 0);
  double margin = s.groups[0].window.margin;
  for (int i = 0; i < N; i++)
    ck_assert_double_eq_tol(s.entries[i].interval, N * (10 + margin) / 5, 1e-6);
  static double starts[N * 100];
  size_t count[N];
  simulate(&s, 600, 0.05, starts, 100, count);
  for (int i = 0; i < N; i++)
    ck_assert_msg(count[i] >= 12, "project %d polled %zu times", i, count[i]);
  ck_assert_uint_le(max_in_window(&s, starts, 100, count, 10.0, 0), 5);
  /* Even: consecutive starts across projects are one spacing apart. */
  double all[N * 100];
  size_t n = 0;
  for (int i = 0; i < N; i++)
    for (size_t k = 0; k < count[i] && k < 100; k++)
      all[n++] = starts[i * 100 + k];
  for (size_t a = 0; a < n; a++) /* insertion sort, small n */
    for (size_t b = a; b > 0 && all[b - 1] > all[b]; b--) {
      double t = all[b];
      all[b] = all[b - 1];
      all[b - 1] = t;
    }
  double spacing = (10 + margin) / 5;
  for (size_t k = 1; k < n; k++)
    ck_assert_msg(fabs(all[k] - all[k - 1] - spacing) < 0.11,
                  "start %zu after %.2f s, want %.2f", k, all[k] - all[k - 1],
                  spacing);
  hss_sched_free(&s);
}
END_TEST

/* Two accounts with generous budgets but a tight poller budget: the
 * poller's budget binds and holds across both accounts. */
START_TEST(test_poller_budget_across_accounts) {
  hss_sched_input_t in[] = {{0, 1}, {0, 1}, {1, 1}, {1, 1}};
  hss_budget_t groups[] = {{1000, 1}, {1000, 1}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 4, groups, 2, (hss_budget_t){5, 10}, 0), 0);
  static double starts[4 * 200];
  size_t count[4];
  simulate(&s, 300, 0.05, starts, 200, count);
  ck_assert_uint_le(max_in_window(&s, starts, 200, count, 10.0, -1), 5);
  for (int i = 0; i < 4; i++)
    ck_assert_uint_ge(count[i], 30);
  hss_sched_free(&s);
}
END_TEST

/* One account's budget binds it while another account runs at its
 * Interval: budgets are per credential. */
START_TEST(test_budgets_per_account) {
  hss_sched_input_t in[] = {{0, 1}, {0, 1}, {1, 2}};
  hss_budget_t groups[] = {{2, 10}, {1000, 1}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 3, groups, 2, (hss_budget_t){100000, 1}, 0), 0);
  ck_assert_double_eq_tol(s.entries[2].interval, 2, EPS);
  ck_assert(s.entries[0].interval > 10);
  static double starts[3 * 200];
  size_t count[3];
  simulate(&s, 120, 0.05, starts, 200, count);
  ck_assert_uint_le(max_in_window(&s, starts, 200, count, 10.0, 0), 2);
  ck_assert_uint_ge(count[2], 59);
  hss_sched_free(&s);
}
END_TEST

/* Loose budgets: every project polls at once (a round); tight: spread. */
START_TEST(test_rounds_when_loose) {
  hss_sched_input_t in[] = {{0, 10}, {0, 10}, {1, 10}};
  hss_budget_t loose[] = {{100, 1}, {100, 1}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 3, loose, 2, (hss_budget_t){100, 1}, 50), 0);
  for (int i = 0; i < 3; i++)
    ck_assert_double_eq_tol(s.entries[i].next_due, 50, EPS);
  hss_sched_free(&s);
  hss_budget_t tight[] = {{3, 10}, {100, 1}};
  ck_assert_int_eq(
      hss_sched_init(&s, in, 3, tight, 2, (hss_budget_t){100, 1}, 50), 0);
  ck_assert(s.entries[1].next_due > 50 + 1);
  hss_sched_free(&s);
}
END_TEST

/* Even a start nobody planned (a retry) cannot exceed a window. */
START_TEST(test_try_extra_respects_window) {
  hss_sched_input_t in[] = {{0, 1}};
  hss_budget_t groups[] = {{2, 10}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 1, groups, 1, (hss_budget_t){100, 10}, 0), 0);
  ck_assert(hss_sched_try_extra(&s, 0, 0));
  ck_assert(hss_sched_try_extra(&s, 0, 1));
  ck_assert(!hss_sched_try_extra(&s, 0, 2));
  ck_assert(hss_sched_wait(&s, 0, 2) > 8);
  ck_assert(hss_sched_try_extra(&s, 0, 10 + s.groups[0].window.margin));
  hss_sched_free(&s);
}
END_TEST

/* A late start does not burst, and the next poll is at least the Interval
 * after it. */
START_TEST(test_late_start_no_burst) {
  hss_sched_input_t in[] = {{0, 10}};
  hss_budget_t groups[] = {{1000, 1}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 1, groups, 1, (hss_budget_t){1000, 1}, 100), 0);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 0, 100), 0, EPS);
  hss_sched_start(&s, 0, 125); /* 2.5 intervals late */
  /* Not the slot at 130: that would be 5 s after this poll, sooner than
   * the Interval of 10. One poll, then the next one 10 s later. */
  ck_assert_double_eq_tol(s.entries[0].next_due, 135, EPS);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 0, 125), 10, EPS);
  hss_sched_start(&s, 0, 135); /* on time: the phase holds from here */
  ck_assert_double_eq_tol(s.entries[0].next_due, 145, EPS);
  hss_sched_free(&s);
}
END_TEST

/* With a budget that stretches the interval (20 s for Interval 10), a late
 * start keeps the planned phase while the next slot is at least the
 * Interval away, and moves it only when the slot would come sooner. */
START_TEST(test_never_sooner_than_interval) {
  hss_sched_input_t in[] = {{0, 10}};
  hss_budget_t groups[] = {{1, 20}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 1, groups, 1, (hss_budget_t){1000, 1}, 100), 0);
  ck_assert(s.entries[0].interval >= 20 && s.entries[0].interval < 21);
  double slot = s.entries[0].next_due, e = s.entries[0].interval;
  hss_sched_start(&s, 0, slot + 5); /* the next slot is e - 5 away: kept */
  ck_assert_double_eq_tol(s.entries[0].next_due, slot + e, EPS);
  slot += e;
  hss_sched_start(&s, 0, slot + e - 4); /* the next slot would be 4 s away */
  ck_assert_double_eq_tol(s.entries[0].next_due, slot + e - 4 + 10, EPS);
  hss_sched_free(&s);
}
END_TEST

/* 429: Retry-After pauses the account; without it, the pause doubles (with
 * jitter in [0.5, 1)) up to the cap; success starts over; other accounts
 * are not paused. */
START_TEST(test_throttle_backoff) {
  hss_sched_input_t in[] = {{0, 1}, {1, 1}};
  hss_budget_t groups[] = {{1000, 1}, {1000, 1}};
  hss_sched_t s;
  ck_assert_int_eq(
      hss_sched_init(&s, in, 2, groups, 2, (hss_budget_t){1000, 1}, 0), 0);
  ck_assert_double_eq_tol(hss_sched_throttled(&s, 0, 10, 7, 0.3), 7, EPS);
  ck_assert(hss_sched_wait(&s, 0, 10) >= 7 - EPS);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 1, 10), 0, EPS);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 0, 17.01), 0, EPS);
  double p1 = hss_sched_throttled(&s, 0, 20, -1, 0.0);
  double p2 = hss_sched_throttled(&s, 0, 30, -1, 0.0);
  double p3 = hss_sched_throttled(&s, 0, 40, -1, 0.999);
  ck_assert_double_eq_tol(p1, HSS_BACKOFF_BASE * 2 * 0.5, EPS); /* 2nd 429 */
  ck_assert_double_eq_tol(p2, HSS_BACKOFF_BASE * 4 * 0.5, EPS);
  ck_assert(p3 > HSS_BACKOFF_BASE * 8 * 0.99 && p3 < HSS_BACKOFF_BASE * 8);
  for (int i = 0; i < 20; i++)
    hss_sched_throttled(&s, 0, 50, -1, 0.999);
  ck_assert(hss_sched_throttled(&s, 0, 60, -1, 0.999) <= HSS_BACKOFF_MAX);
  hss_sched_succeeded(&s, 0);
  ck_assert_double_eq_tol(hss_sched_throttled(&s, 0, 1000, -1, 0.0),
                          HSS_BACKOFF_BASE * 0.5, EPS);
  hss_sched_free(&s);
}
END_TEST

START_TEST(test_window) {
  hss_window_t w;
  ck_assert_int_eq(hss_window_init(&w, 3, 10), 0);
  ck_assert_double_eq_tol(w.margin, 0.5, EPS);
  for (int i = 0; i < 3; i++) {
    ck_assert_double_eq_tol(hss_window_wait(&w, i), 0, EPS);
    hss_window_record(&w, i);
  }
  ck_assert_double_eq_tol(hss_window_wait(&w, 3), 7.5, EPS);
  ck_assert_double_eq_tol(hss_window_wait(&w, 10.5), 0, EPS);
  hss_window_record(&w, 10.5);
  /* the oldest is now the call at 1: free at 1 + 10 + 0.5 */
  ck_assert_double_eq_tol(hss_window_wait(&w, 10.5), 1.0, EPS);
  hss_window_free(&w);
  ck_assert_int_eq(hss_window_init(&w, 5, 600), 0);
  ck_assert_double_eq_tol(w.margin, 12, EPS); /* 2 % of a long window */
  hss_window_free(&w);
}
END_TEST

/* ---- rendezvous ------------------------------------------------------------
 */

#define KEYS 600

static const char *key(int i) {
  static char buf[KEYS][24];
  snprintf(buf[i], sizeof(buf[i]), "project-%d", i);
  return buf[i];
}

START_TEST(test_shard_each_owned_once_and_balanced) {
  const char *pollers[] = {"host-a", "host-b", "host-c"};
  size_t per[3] = {0};
  for (int i = 0; i < KEYS; i++) {
    size_t o = hss_shard_owner(key(i), pollers, 3);
    ck_assert_uint_lt(o, 3);
    per[o]++;
    /* Deterministic, and independent of the list order. */
    const char *reordered[] = {"host-c", "host-a", "host-b"};
    ck_assert_str_eq(pollers[o],
                     reordered[hss_shard_owner(key(i), reordered, 3)]);
  }
  for (int p = 0; p < 3; p++)
    ck_assert_msg(per[p] > KEYS / 3 * 0.8 && per[p] < KEYS / 3 * 1.2,
                  "poller %d owns %zu of %d", p, per[p], KEYS);
}
END_TEST

/* The parts' shares of a budget, summed over the parts. */
static size_t apportioned(size_t calls, const size_t *w, size_t n) {
  size_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    size_t c = hss_shard_apportion(calls, w, n, i);
    if (w[i] == 0)
      ck_assert_uint_eq(c, 0);
    sum += c;
  }
  return sum;
}

START_TEST(test_shard_apportion) {
  size_t even[] = {1, 1};
  ck_assert_uint_eq(hss_shard_apportion(5, even, 2, 0), 3); /* tie: lower */
  ck_assert_uint_eq(hss_shard_apportion(5, even, 2, 1), 2);
  size_t skew[] = {3, 1, 0};
  ck_assert_uint_eq(hss_shard_apportion(5, skew, 3, 0), 4);
  ck_assert_uint_eq(hss_shard_apportion(5, skew, 3, 1), 1);
  ck_assert_uint_eq(hss_shard_apportion(5, skew, 3, 2), 0);
  /* Fewer calls than parts: some get one each, never more. */
  size_t three[] = {1, 2, 1};
  ck_assert_uint_eq(hss_shard_apportion(2, three, 3, 1), 1);
  ck_assert_uint_eq(hss_shard_apportion(2, three, 3, 0), 1);
  ck_assert_uint_eq(hss_shard_apportion(2, three, 3, 2), 0);
  /* Whole calls that add up to the budget, one at least for every part. */
  unsigned seed = 7;
  for (int round = 0; round < 2000; round++) {
    size_t w[9], n = 1 + (size_t)(rand_r(&seed) % 9), positive = 0;
    for (size_t i = 0; i < n; i++) {
      w[i] = (size_t)(rand_r(&seed) % 4 == 0 ? 0 : rand_r(&seed) % 50);
      positive += w[i] > 0;
    }
    size_t calls = (size_t)(rand_r(&seed) % 30);
    size_t sum = apportioned(calls, w, n);
    ck_assert_uint_le(sum, calls);
    if (positive > 0 && calls >= positive) {
      ck_assert_uint_eq(sum, calls);
      for (size_t i = 0; i < n; i++)
        if (w[i] > 0)
          ck_assert_uint_ge(hss_shard_apportion(calls, w, n, i), 1);
    }
  }
}
END_TEST

START_TEST(test_shard_minimal_movement) {
  const char *three[] = {"host-a", "host-b", "host-c"};
  const char *four[] = {"host-a", "host-b", "host-c", "host-d"};
  const char *two[] = {"host-a", "host-c"};
  size_t moved_add = 0, moved_remove = 0;
  for (int i = 0; i < KEYS; i++) {
    const char *before = three[hss_shard_owner(key(i), three, 3)];
    const char *added = four[hss_shard_owner(key(i), four, 4)];
    const char *removed = two[hss_shard_owner(key(i), two, 2)];
    if (strcmp(before, added) != 0) {
      ck_assert_str_eq(added, "host-d"); /* only moves to the new poller */
      moved_add++;
    }
    if (strcmp(before, removed) != 0) {
      ck_assert_str_eq(before, "host-b"); /* only the removed one's move */
      moved_remove++;
    }
  }
  ck_assert(moved_add > KEYS / 4 * 0.7 && moved_add < KEYS / 4 * 1.3);
  ck_assert(moved_remove > KEYS / 3 * 0.7 && moved_remove < KEYS / 3 * 1.3);
}
END_TEST

START_TEST(test_shard_weight_stable) {
  /* The weight is SHA-256 based: pin one value so it never changes
   * silently between releases (that would reshuffle every fleet). */
  uint64_t w = hss_shard_weight("host-a", "web-prod");
  ck_assert_uint_eq(w, hss_shard_weight("host-a", "web-prod"));
  ck_assert(w != hss_shard_weight("host-b", "web-prod"));
  ck_assert(hss_shard_weight("ab", "c") != hss_shard_weight("a", "bc"));
}
END_TEST

START_TEST(test_slots_may_start) {
  /* The first poll of an account takes any free slot. */
  ck_assert(hss_slots_may_start(8, 7, 0, 5));
  ck_assert(!hss_slots_may_start(8, 8, 0, 5));
  /* A further one leaves a slot to each idle account, up to half. */
  ck_assert(hss_slots_may_start(8, 6, 3, 1));  /* 1 left for 1 idle */
  ck_assert(!hss_slots_may_start(8, 7, 3, 1)); /* would leave none */
  ck_assert(hss_slots_may_start(8, 3, 3, 50)); /* 4 left: half of 8 */
  ck_assert(!hss_slots_may_start(8, 4, 3, 50));
  ck_assert(hss_slots_may_start(8, 7, 7, 0)); /* nobody else: all 8 */
  ck_assert(hss_slots_may_start(1, 0, 0, 3));
  ck_assert(!hss_slots_may_start(1, 1, 1, 0));
  ck_assert(!hss_slots_may_start(0, 0, 0, 0));
}
END_TEST

START_TEST(test_slots_pick_order) {
  size_t busy[3] = {2, 0, 1};
  hss_slot_claim_t c[4] = {{0, 1.0}, {2, 0.5}, {1, 3.0}, {1, 2.0}};
  /* Account 1 has the fewest in flight; of its two, the one due first. */
  ck_assert_uint_eq(hss_slots_pick(c, 4, busy, 8, 3, 0), 3);
  busy[1] = 1; /* accounts 1 and 2 tie: the earliest due of them */
  ck_assert_uint_eq(hss_slots_pick(c, 4, busy, 8, 4, 0), 1);
  busy[1] = 2;
  busy[2] = 2; /* all tie: the earliest due overall */
  ck_assert_uint_eq(hss_slots_pick(c, 4, busy, 8, 6, 0), 1);
  /* One slot left and one idle account elsewhere: it is kept for that one,
   * except for an account's first poll. */
  ck_assert_uint_eq(hss_slots_pick(c, 4, busy, 8, 7, 1), 4);
  busy[0] = 0;
  ck_assert_uint_eq(hss_slots_pick(c, 4, busy, 8, 7, 1), 0);
  ck_assert_uint_eq(hss_slots_pick(c, 0, busy, 8, 0, 0), 0);
}
END_TEST

/* Ticks of a slot-sharing simulation: `dead` accounts each have 10 polls
 * that are always due and hold a slot for 13 ticks (a hung endpoint and its
 * Timeout); the last account has one poll due every 10 ticks that takes 1.
 * With fair false, no slot is kept for idle accounts. Returns the longest
 * wait of the live account's poll from due to start. */
static int longest_live_wait(size_t slots, size_t dead, bool fair) {
  enum { POLLS = 10, MAXDEAD = 4 };
  int end[MAXDEAD][POLLS] = {{0}}; /* tick a dead poll's slot frees, 0: idle */
  int live_end = 0, live_due = 0, worst = 0;
  size_t busy[MAXDEAD + 1] = {0};
  size_t active = 0, live = dead;
  for (int t = 1; t <= 1000; t++) {
    for (size_t a = 0; a < dead; a++)
      for (int i = 0; i < POLLS; i++)
        if (end[a][i] == t) {
          end[a][i] = 0;
          busy[a]--;
          active--;
        }
    if (live_end == t) {
      live_end = 0;
      busy[live]--;
      active--;
    }
    if (live_due == 0 && live_end == 0 && t % 10 == 0)
      live_due = t;
    for (;;) {
      hss_slot_claim_t c[MAXDEAD * POLLS + 1];
      int who[MAXDEAD * POLLS + 1];
      size_t n = 0, idle = 0;
      for (size_t a = 0; a <= dead; a++)
        idle += busy[a] == 0;
      for (size_t a = 0; a < dead; a++)
        for (int i = 0; i < POLLS; i++)
          if (end[a][i] == 0) {
            c[n].account = a;
            c[n].due = 0;
            who[n++] = (int)(a * POLLS) + i;
          }
      if (live_due != 0) {
        c[n].account = live;
        c[n].due = live_due;
        who[n++] = -1;
      }
      size_t k = hss_slots_pick(c, n, busy, slots, active, fair ? idle : 0);
      if (k == n)
        break;
      busy[c[k].account]++;
      active++;
      if (who[k] < 0) {
        if (t - live_due > worst)
          worst = t - live_due;
        live_due = 0;
        live_end = t + 1;
      } else {
        end[who[k] / POLLS][who[k] % POLLS] = t + 13;
      }
    }
  }
  return worst;
}

START_TEST(test_slots_hung_accounts_cannot_starve_another) {
  /* One or three hung accounts: the live account never waits for a slot. */
  ck_assert_int_eq(longest_live_wait(4, 1, true), 0);
  ck_assert_int_eq(longest_live_wait(4, 3, true), 0);
  ck_assert_int_eq(longest_live_wait(8, 3, true), 0);
  /* Without a slot kept for it, it waits for the hung transfers: the test
   * can fail. */
  ck_assert_int_gt(longest_live_wait(4, 1, false), 0);
  ck_assert_int_gt(longest_live_wait(4, 3, false), 0);
}
END_TEST

static Suite *scheduler_suite(void) {
  Suite *s = suite_create("scheduler");
  TCase *plan = tcase_create("plan");
  tcase_add_test(plan, test_fair_rates);
  tcase_add_test(plan, test_interval_floor);
  tcase_add_test(plan, test_account_budget_even_spacing);
  tcase_add_test(plan, test_poller_budget_across_accounts);
  tcase_add_test(plan, test_budgets_per_account);
  tcase_add_test(plan, test_rounds_when_loose);
  tcase_add_test(plan, test_try_extra_respects_window);
  tcase_add_test(plan, test_late_start_no_burst);
  tcase_add_test(plan, test_never_sooner_than_interval);
  tcase_add_test(plan, test_throttle_backoff);
  tcase_add_test(plan, test_window);
  suite_add_tcase(s, plan);
  TCase *shard = tcase_create("shard");
  tcase_add_test(shard, test_shard_each_owned_once_and_balanced);
  tcase_add_test(shard, test_shard_minimal_movement);
  tcase_add_test(shard, test_shard_apportion);
  tcase_add_test(shard, test_shard_weight_stable);
  suite_add_tcase(s, shard);
  TCase *slots = tcase_create("slots");
  tcase_add_test(slots, test_slots_may_start);
  tcase_add_test(slots, test_slots_pick_order);
  tcase_add_test(slots, test_slots_hung_accounts_cannot_starve_another);
  suite_add_tcase(s, slots);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(scheduler_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

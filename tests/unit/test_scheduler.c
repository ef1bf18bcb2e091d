/* test_scheduler.c - unit tests of scheduler.c (fixed-phase scheduling),
 * driven by explicit monotonic times. */
#include "unit.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "scheduler.h"

#define EPS 1e-9

/* Asserts that the next slot is want (within rounding). */
static void assert_next(const hss_sched_t *s, double want) {
  ck_assert_msg(fabs(s->next_due - want) < EPS, "next_due %.9f, want %.9f",
                s->next_due, want);
}

START_TEST(test_init_offset) {
  hss_sched_t s;
  hss_sched_init(&s, 10.0, 100.0, 3.0);
  ck_assert_double_eq_tol(s.interval, 10.0, EPS);
  assert_next(&s, 103.0);
  hss_sched_init(&s, 10.0, 100.0, 0.0);
  assert_next(&s, 100.0);
  ck_assert(hss_sched_due(&s, 100.0));
}
END_TEST

START_TEST(test_due) {
  hss_sched_t s;
  hss_sched_init(&s, 10.0, 100.0, 3.0);
  ck_assert(!hss_sched_due(&s, 100.0));
  ck_assert(!hss_sched_due(&s, 102.999));
  ck_assert(hss_sched_due(&s, 103.0));
  ck_assert(hss_sched_due(&s, 150.0));
}
END_TEST

START_TEST(test_started_on_time) {
  hss_sched_t s;
  hss_sched_init(&s, 10.0, 100.0, 3.0);
  hss_sched_started(&s, 103.0);
  assert_next(&s, 113.0);
  ck_assert(!hss_sched_due(&s, 112.9));
  hss_sched_started(&s, 113.5); /* a little late: phase kept */
  assert_next(&s, 123.0);
}
END_TEST

/* Started 2.5 intervals late: the next slot after now, no burst. */
START_TEST(test_started_late_no_burst) {
  hss_sched_t s;
  hss_sched_init(&s, 10.0, 100.0, 3.0);
  hss_sched_started(&s, 128.0);
  assert_next(&s, 133.0);
  ck_assert(!hss_sched_due(&s, 128.0));
  ck_assert(!hss_sched_due(&s, 132.9));
  ck_assert(hss_sched_due(&s, 133.0));
  /* Exactly on a later slot: that slot is the one started, the next is
   * one interval on. */
  hss_sched_init(&s, 10.0, 100.0, 3.0);
  hss_sched_started(&s, 123.0);
  assert_next(&s, 133.0);
  /* Very late (a suspended host): still one step, phase kept. */
  hss_sched_init(&s, 60.0, 0.0, 7.0);
  hss_sched_started(&s, 7.0 + 60.0 * 1000.0 + 59.0);
  assert_next(&s, 7.0 + 60.0 * 1001.0);
}
END_TEST

/* started() before the slot changes nothing. */
START_TEST(test_started_early_is_noop) {
  hss_sched_t s;
  hss_sched_init(&s, 10.0, 100.0, 3.0);
  hss_sched_started(&s, 101.0);
  assert_next(&s, 103.0);
}
END_TEST

START_TEST(test_wait) {
  hss_sched_t s;
  hss_sched_init(&s, 10.0, 100.0, 3.0);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 100.0), 3.0, EPS);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 102.5), 0.5, EPS);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 103.0), 0.0, EPS);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 200.0), 0.0, EPS);
  hss_sched_started(&s, 103.0);
  ck_assert_double_eq_tol(hss_sched_wait(&s, 103.0), 10.0, EPS);
}
END_TEST

/* Many on-time polls with a fractional interval do not drift. */
START_TEST(test_no_drift) {
  hss_sched_t s;
  hss_sched_init(&s, 0.1, 0.0, 0.05);
  for (int i = 0; i < 10000; i++) {
    double now = s.next_due + 0.001;
    hss_sched_started(&s, now);
    ck_assert(s.next_due > now);
  }
  ck_assert_double_eq_tol(s.next_due, 0.05 + 10000 * 0.1, 1e-6);
}
END_TEST

static Suite *scheduler_suite(void) {
  Suite *s = suite_create("scheduler");
  TCase *tc = tcase_create("scheduler");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_init_offset);
  tcase_add_test(tc, test_due);
  tcase_add_test(tc, test_started_on_time);
  tcase_add_test(tc, test_started_late_no_burst);
  tcase_add_test(tc, test_started_early_is_noop);
  tcase_add_test(tc, test_wait);
  tcase_add_test(tc, test_no_drift);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(scheduler_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_token_cache.c - unit tests of token_cache.c, driven by explicit
 * "now" values (a fake clock). */
#include "unit.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token_cache.h"

#define T0 1700000000LL /* an arbitrary "now" */
#define DAY 86400

/* Stores "tok-1" issued at now with the given lifetime. */
static void store(hss_token_cache_t *c, int64_t now, int64_t lifetime) {
  ck_assert_int_eq(hss_token_store(c, "tok-1", now + lifetime, now), 0);
}

START_TEST(test_empty_cache) {
  hss_token_cache_t c = {0};
  ck_assert(!hss_token_usable(&c, T0));
  ck_assert(hss_token_wants_refresh(&c, T0));
  ck_assert_int_eq(hss_token_backoff_left(&c, T0), 0);
  hss_token_clear(&c);
}
END_TEST

START_TEST(test_store_copies) {
  hss_token_cache_t c = {0};
  char token[] = "MIIEhAYJKoZIhvcNAQcCoIIEdTCCBHECAQExDTALBglghkgBZQMEAgEw";
  ck_assert_int_eq(hss_token_store(&c, token, T0 + DAY, T0), 0);
  memset(token, 'x', strlen(token));
  ck_assert_ptr_nonnull(c.token);
  ck_assert_str_eq(c.token,
                   "MIIEhAYJKoZIhvcNAQcCoIIEdTCCBHECAQExDTALBglghkgBZQMEAgEw");
  ck_assert_int_eq(c.issued_at, T0);
  ck_assert_int_eq(c.expires_at, T0 + DAY);
  /* A second store replaces the first. */
  ck_assert_int_eq(hss_token_store(&c, "tok-2", T0 + 2 * DAY, T0 + DAY), 0);
  ck_assert_str_eq(c.token, "tok-2");
  ck_assert_int_eq(c.issued_at, T0 + DAY);
  hss_token_clear(&c);
}
END_TEST

/* 24 h lifetime: refresh window is min(1 h, 2.4 h) = 1 h. */
START_TEST(test_day_token) {
  hss_token_cache_t c = {0};
  store(&c, T0, DAY);
  ck_assert(hss_token_usable(&c, T0));
  ck_assert(!hss_token_wants_refresh(&c, T0));
  ck_assert(!hss_token_wants_refresh(&c, T0 + 12 * 3600));
  int64_t exp = T0 + DAY;
  ck_assert(!hss_token_wants_refresh(&c, exp - 3601));
  ck_assert(hss_token_usable(&c, exp - 3601));
  ck_assert(hss_token_wants_refresh(&c, exp - 3600));
  ck_assert(hss_token_usable(&c, exp - 3600));
  ck_assert(hss_token_wants_refresh(&c, exp - 60));
  ck_assert(hss_token_usable(&c, exp - 60));
  hss_token_clear(&c);
}
END_TEST

/* 600 s lifetime: refresh when a tenth (60 s) remains. */
START_TEST(test_short_token) {
  hss_token_cache_t c = {0};
  store(&c, T0, 600);
  int64_t exp = T0 + 600;
  ck_assert(!hss_token_wants_refresh(&c, T0));
  ck_assert(!hss_token_wants_refresh(&c, exp - 61));
  ck_assert(hss_token_wants_refresh(&c, exp - 60));
  ck_assert(hss_token_usable(&c, exp - 60));
  hss_token_clear(&c);
}
END_TEST

START_TEST(test_expiry_margin) {
  hss_token_cache_t c = {0};
  store(&c, T0, DAY);
  int64_t exp = T0 + DAY;
  ck_assert(hss_token_usable(&c, exp - HSS_TOKEN_EXPIRY_MARGIN - 1));
  ck_assert(!hss_token_usable(&c, exp - HSS_TOKEN_EXPIRY_MARGIN));
  ck_assert(!hss_token_usable(&c, exp - 1));
  ck_assert(!hss_token_usable(&c, exp));
  ck_assert(!hss_token_usable(&c, exp + DAY));
  ck_assert(hss_token_wants_refresh(&c, exp - HSS_TOKEN_EXPIRY_MARGIN));
  ck_assert(hss_token_wants_refresh(&c, exp + DAY));
  hss_token_clear(&c);
}
END_TEST

/* The margin and window scale with the lifetime: margin min(30 s, a
 * twentieth), window min(1 h, a tenth). A 40 s credential (an ECS
 * metadata one near its end, say) is usable until 2 s before expiry and
 * wants a refresh from 4 s before expiry. */
START_TEST(test_short_lifetime_scales) {
  hss_token_cache_t c = {0};
  store(&c, T0, 40);
  int64_t exp = T0 + 40;
  ck_assert(hss_token_usable(&c, T0));
  ck_assert(!hss_token_wants_refresh(&c, T0));
  ck_assert(hss_token_usable(&c, exp - 11)); /* 30 s margin would refuse */
  ck_assert(!hss_token_wants_refresh(&c, exp - 5));
  ck_assert(hss_token_usable(&c, exp - 5));
  ck_assert(hss_token_wants_refresh(&c, exp - 4));
  ck_assert(hss_token_usable(&c, exp - 4));
  ck_assert(hss_token_usable(&c, exp - 3));
  ck_assert(!hss_token_usable(&c, exp - 2));
  ck_assert(!hss_token_usable(&c, exp - 1));
  ck_assert(!hss_token_usable(&c, exp));
  ck_assert(hss_token_wants_refresh(&c, exp - 2));
  ck_assert(hss_token_wants_refresh(&c, exp + 1));
  /* The same 40 s stored later: scaling uses the lifetime, not the clock. */
  store(&c, T0 + 1000, 40);
  ck_assert(hss_token_usable(&c, T0 + 1037));
  ck_assert(!hss_token_usable(&c, T0 + 1038));
  ck_assert(!hss_token_wants_refresh(&c, T0 + 1035));
  ck_assert(hss_token_wants_refresh(&c, T0 + 1036));
  hss_token_clear(&c);
}
END_TEST

/* A 24 h token keeps the full 30 s margin and the 1 h window. */
START_TEST(test_long_lifetime_caps) {
  hss_token_cache_t c = {0};
  store(&c, T0, DAY);
  int64_t exp = T0 + DAY;
  ck_assert(hss_token_usable(&c, exp - 31));
  ck_assert(!hss_token_usable(&c, exp - 30));
  ck_assert(!hss_token_wants_refresh(&c, exp - 3601));
  ck_assert(hss_token_wants_refresh(&c, exp - 3600));
  hss_token_clear(&c);
  /* At 600 s a twentieth is exactly the 30 s cap; the window is 60 s. */
  store(&c, T0, 600);
  exp = T0 + 600;
  ck_assert(hss_token_usable(&c, exp - 31));
  ck_assert(!hss_token_usable(&c, exp - 30));
  ck_assert(!hss_token_wants_refresh(&c, exp - 61));
  ck_assert(hss_token_wants_refresh(&c, exp - 60));
  hss_token_clear(&c);
  /* 2 h: margin capped at 30 s, window a tenth = 720 s. */
  store(&c, T0, 7200);
  exp = T0 + 7200;
  ck_assert(hss_token_usable(&c, exp - 31));
  ck_assert(!hss_token_usable(&c, exp - 30));
  ck_assert(!hss_token_wants_refresh(&c, exp - 721));
  ck_assert(hss_token_wants_refresh(&c, exp - 720));
  hss_token_clear(&c);
}
END_TEST

/* Under 20 s a twentieth rounds down to 0: usable up to the last second
 * (and wanting refresh from a tenth, rounded down, before expiry). */
START_TEST(test_tiny_lifetime) {
  hss_token_cache_t c = {0};
  store(&c, T0, 19);
  int64_t exp = T0 + 19;
  ck_assert(hss_token_usable(&c, exp - 1));
  ck_assert(!hss_token_usable(&c, exp));
  ck_assert(!hss_token_wants_refresh(&c, exp - 2));
  ck_assert(hss_token_wants_refresh(&c, exp - 1));
  hss_token_clear(&c);
}
END_TEST

/* An already expired (or zero-lifetime) token is never usable. */
START_TEST(test_expired_on_arrival) {
  hss_token_cache_t c = {0};
  ck_assert_int_eq(hss_token_store(&c, "old", T0 - 10, T0), 0);
  ck_assert(!hss_token_usable(&c, T0));
  ck_assert(hss_token_wants_refresh(&c, T0));
  ck_assert_int_eq(hss_token_store(&c, "now", T0, T0), 0);
  ck_assert(!hss_token_usable(&c, T0));
  ck_assert(hss_token_wants_refresh(&c, T0));
  hss_token_clear(&c);
}
END_TEST

START_TEST(test_backoff_sequence) {
  static const int64_t want[] = {5, 10, 20, 40, 80, 160, 300, 300, 300};
  hss_token_cache_t c = {0};
  int64_t now = T0;
  for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
    hss_token_failed(&c, now);
    ck_assert_uint_eq(c.failures, i + 1);
    ck_assert_int_eq(hss_token_backoff_left(&c, now), want[i]);
    ck_assert(!hss_token_wants_refresh(&c, now));
    ck_assert(!hss_token_wants_refresh(&c, now + want[i] - 1));
    ck_assert_int_eq(hss_token_backoff_left(&c, now + 2), want[i] - 2);
    ck_assert_int_eq(hss_token_backoff_left(&c, now + want[i]), 0);
    ck_assert(hss_token_wants_refresh(&c, now + want[i]));
    now += want[i];
  }
  for (int i = 0; i < 100; i++)
    hss_token_failed(&c, now);
  ck_assert_int_eq(hss_token_backoff_left(&c, now), HSS_TOKEN_BACKOFF_MAX);
  ck_assert_int_eq(hss_token_backoff_left(&c, now + 1000), 0);
  hss_token_clear(&c);
}
END_TEST

/* A usable token stays usable during a back-off (a failed early refresh
 * must not stop the polls). */
START_TEST(test_backoff_keeps_token) {
  hss_token_cache_t c = {0};
  store(&c, T0, DAY);
  int64_t late = T0 + DAY - 1800; /* inside the refresh window */
  ck_assert(hss_token_wants_refresh(&c, late));
  hss_token_failed(&c, late);
  ck_assert(hss_token_usable(&c, late));
  ck_assert(!hss_token_wants_refresh(&c, late));
  ck_assert(hss_token_wants_refresh(&c, late + HSS_TOKEN_BACKOFF_MIN));
  hss_token_clear(&c);
}
END_TEST

START_TEST(test_store_resets_failures) {
  hss_token_cache_t c = {0};
  for (int i = 0; i < 4; i++)
    hss_token_failed(&c, T0);
  ck_assert_uint_eq(c.failures, 4);
  ck_assert_int_gt(hss_token_backoff_left(&c, T0), 0);
  store(&c, T0 + 1, DAY);
  ck_assert_uint_eq(c.failures, 0);
  ck_assert_int_eq(hss_token_backoff_left(&c, T0 + 1), 0);
  ck_assert(hss_token_usable(&c, T0 + 1));
  /* The next failure starts again at the minimum. */
  hss_token_failed(&c, T0 + 2);
  ck_assert_int_eq(hss_token_backoff_left(&c, T0 + 2), HSS_TOKEN_BACKOFF_MIN);
  hss_token_clear(&c);
}
END_TEST

START_TEST(test_invalidate) {
  hss_token_cache_t c = {0};
  store(&c, T0, DAY);
  hss_token_invalidate(&c);
  ck_assert_ptr_null(c.token);
  ck_assert(!hss_token_usable(&c, T0 + 1));
  ck_assert(hss_token_wants_refresh(&c, T0 + 1));
  hss_token_invalidate(&c); /* twice is harmless */
  ck_assert_ptr_null(c.token);
  hss_token_clear(&c);
}
END_TEST

/* Invalidation does not skip a running back-off. */
START_TEST(test_invalidate_keeps_backoff) {
  hss_token_cache_t c = {0};
  store(&c, T0, DAY);
  hss_token_failed(&c, T0);
  hss_token_failed(&c, T0);
  hss_token_invalidate(&c);
  ck_assert_uint_eq(c.failures, 2);
  ck_assert_int_eq(hss_token_backoff_left(&c, T0), 10);
  ck_assert(!hss_token_wants_refresh(&c, T0));
  ck_assert(hss_token_wants_refresh(&c, T0 + 10));
  hss_token_clear(&c);
}
END_TEST

START_TEST(test_clear) {
  hss_token_cache_t c = {0};
  store(&c, T0, DAY);
  hss_token_failed(&c, T0);
  hss_token_clear(&c);
  ck_assert_ptr_null(c.token);
  ck_assert_int_eq(c.expires_at, 0);
  ck_assert_int_eq(c.issued_at, 0);
  ck_assert_int_eq(c.retry_at, 0);
  ck_assert_uint_eq(c.failures, 0);
  ck_assert(!hss_token_usable(&c, T0));
  ck_assert(hss_token_wants_refresh(&c, T0));
  hss_token_clear(&c); /* clearing an empty cache is harmless */
}
END_TEST

static Suite *token_cache_suite(void) {
  Suite *s = suite_create("token_cache");
  TCase *tc = tcase_create("lifetime");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_empty_cache);
  tcase_add_test(tc, test_store_copies);
  tcase_add_test(tc, test_day_token);
  tcase_add_test(tc, test_short_token);
  tcase_add_test(tc, test_expiry_margin);
  tcase_add_test(tc, test_expired_on_arrival);
  tcase_add_test(tc, test_short_lifetime_scales);
  tcase_add_test(tc, test_long_lifetime_caps);
  tcase_add_test(tc, test_tiny_lifetime);
  suite_add_tcase(s, tc);
  TCase *bo = tcase_create("backoff");
  tcase_set_timeout(bo, 60);
  tcase_add_test(bo, test_backoff_sequence);
  tcase_add_test(bo, test_backoff_keeps_token);
  tcase_add_test(bo, test_store_resets_failures);
  tcase_add_test(bo, test_invalidate);
  tcase_add_test(bo, test_invalidate_keeps_backoff);
  tcase_add_test(bo, test_clear);
  suite_add_tcase(s, bo);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(token_cache_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

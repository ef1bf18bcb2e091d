/* test_parse.c - unit tests of parse.c: statistics bodies, error bodies,
 * IAM token expiry, UTC timestamps and the log sanitiser. */
#include "unit.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "parse.h"

#define ERRLEN 256

/* The documented example response: the five scalar fields only. */
static const char SEED_EXAMPLE[] = "{\n"
                                   "  \"repository_scan_num\" : 5,\n"
                                   "  \"cicd_scan_num\" : 10,\n"
                                   "  \"free_quota_num\" : 2,\n"
                                   "  \"already_given\" : true,\n"
                                   "  \"image_free_quota\" : 10\n"
                                   "}";

/* A response with all 17 fields, every value distinct. */
static const char FULL_RESPONSE[] =
    "{\"repository_scan_num\":5,\"cicd_scan_num\":10,\"free_quota_num\":2,"
    "\"already_given\":true,\"image_free_quota\":10,"
    "\"high_risk\":{\"local\":21,\"registriy\":22,\"cicd\":23},"
    "\"has_risk\":{\"local\":31,\"registriy\":32,\"cicd\":33},"
    "\"total\":{\"local\":41,\"registriy\":42,\"cicd\":43},"
    "\"unscan\":{\"local\":51,\"registriy\":52,\"cicd\":53}}";

typedef struct {
  const char *type_instance;
  int64_t value;
} expected_t;

static const expected_t FULL_EXPECTED[HSS_METRIC_COUNT] = {
    {"repository_scan_num", 5}, {"cicd_scan_num", 10},
    {"free_quota_num", 2},      {"already_given", 1},
    {"image_free_quota", 10},   {"high_risk-local", 21},
    {"high_risk-registry", 22}, {"high_risk-cicd", 23},
    {"has_risk-local", 31},     {"has_risk-registry", 32},
    {"has_risk-cicd", 33},      {"total-local", 41},
    {"total-registry", 42},     {"total-cicd", 43},
    {"unscan-local", 51},       {"unscan-registry", 52},
    {"unscan-cicd", 53},
};

/* ---- helpers ------------------------------------------------------------ */

/* Index in hss_metrics[] of a type_instance; fails the test if unknown. */
static int metric_index(const char *type_instance) {
  for (int i = 0; i < HSS_METRIC_COUNT; i++)
    if (strcmp(hss_metrics[i].type_instance, type_instance) == 0)
      return i;
  ck_abort_msg("no metric with type_instance \"%s\"", type_instance);
  return -1;
}

/* Parses a NUL-terminated body; the result must be 0. */
static void parse_ok(const char *body, hss_stats_t *st) {
  char err[ERRLEN] = "";
  int status = hss_parse_stats(body, strlen(body), st, err, sizeof(err));
  ck_assert_msg(status == 0, "parse of %s failed: %s", body, err);
}

/* Parses len bytes that must be refused; returns the error text, which
 * must not be empty. */
static const char *parse_fails(const char *body, size_t len) {
  static char err[ERRLEN];
  hss_stats_t st;
  strcpy(err, "");
  int status = hss_parse_stats(body, len, &st, err, sizeof(err));
  ck_assert_msg(status == -1, "body of %zu bytes was accepted", len);
  ck_assert_msg(err[0] != '\0', "no error message for a refused body");
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_OK), 0);
  return err;
}

/* Asserts the state (and value, when OK) of one metric. */
static void assert_field(const hss_stats_t *st, const char *type_instance,
                         hss_field_state_t state, int64_t value) {
  int i = metric_index(type_instance);
  ck_assert_msg(st->state[i] == state, "%s: state %s, want %s", type_instance,
                hss_field_state_name(st->state[i]),
                hss_field_state_name(state));
  if (state == HSS_FIELD_OK)
    ck_assert_msg(st->value[i] == value, "%s: value %lld, want %lld",
                  type_instance, (long long)st->value[i], (long long)value);
}

/* Parses {"<field>": <json>} (or {"<field>": {"<sub>": <json>}} when sub is
 * given) and asserts that the metric type_instance is in state, with every
 * other metric absent. */
static void assert_one(const char *field, const char *sub, const char *json,
                       const char *type_instance, hss_field_state_t state,
                       int64_t value) {
  char body[512];
  if (sub != NULL)
    snprintf(body, sizeof(body), "{\"%s\":{\"%s\":%s}}", field, sub, json);
  else
    snprintf(body, sizeof(body), "{\"%s\":%s}", field, json);
  hss_stats_t st;
  parse_ok(body, &st);
  assert_field(&st, type_instance, state, value);
  ck_assert_msg(hss_stats_count(&st, HSS_FIELD_ABSENT) == HSS_METRIC_COUNT - 1,
                "%s: other fields are not all absent", body);
}

/* Makes "{"a":" * depth + "1" + "}" * depth (malloc'd). */
static char *nested_body(int depth, size_t *len) {
  char *body = malloc((size_t)depth * 6 + 2);
  ck_assert_ptr_nonnull(body);
  size_t n = 0;
  for (int i = 0; i < depth; i++) {
    memcpy(body + n, "{\"a\":", 5);
    n += 5;
  }
  body[n++] = '1';
  for (int i = 0; i < depth; i++)
    body[n++] = '}';
  body[n] = '\0';
  *len = n;
  return body;
}

/* Parses a UTC time that must be refused. */
static void assert_bad_time(const char *text) {
  int64_t t = 12345;
  ck_assert_msg(hss_parse_utc_time(text, &t) == -1, "\"%s\" was accepted",
                text ? text : "(null)");
  ck_assert_msg(t == 12345, "\"%s\": output written on failure", text);
}

/* Parses a UTC time that must give want. */
static void assert_time(const char *text, int64_t want) {
  int64_t t = 0;
  ck_assert_msg(hss_parse_utc_time(text, &t) == 0, "\"%s\" was refused", text);
  ck_assert_msg(t == want, "\"%s\" -> %lld, want %lld", text, (long long)t,
                (long long)want);
}

/* ---- statistics: good bodies ------------------------------------------- */

START_TEST(test_seed_example) {
  hss_stats_t st;
  parse_ok(SEED_EXAMPLE, &st);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_OK), 5);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_ABSENT), 12);
  assert_field(&st, "repository_scan_num", HSS_FIELD_OK, 5);
  assert_field(&st, "cicd_scan_num", HSS_FIELD_OK, 10);
  assert_field(&st, "free_quota_num", HSS_FIELD_OK, 2);
  assert_field(&st, "already_given", HSS_FIELD_OK, 1);
  assert_field(&st, "image_free_quota", HSS_FIELD_OK, 10);
  for (int i = 0; i < HSS_METRIC_COUNT; i++)
    if (hss_metrics[i].subfield != NULL)
      ck_assert_msg(st.state[i] == HSS_FIELD_ABSENT, "%s is not absent",
                    hss_metrics[i].type_instance);
}
END_TEST

START_TEST(test_full_response) {
  hss_stats_t st;
  parse_ok(FULL_RESPONSE, &st);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_OK), HSS_METRIC_COUNT);
  for (int i = 0; i < HSS_METRIC_COUNT; i++) {
    const hss_metric_t *m = &hss_metrics[i];
    const expected_t *e = NULL;
    for (int k = 0; k < HSS_METRIC_COUNT; k++)
      if (strcmp(FULL_EXPECTED[k].type_instance, m->type_instance) == 0)
        e = &FULL_EXPECTED[k];
    ck_assert_msg(e != NULL, "unexpected metric %s", m->type_instance);
    ck_assert_msg(st.state[i] == HSS_FIELD_OK, "%s not ok", m->type_instance);
    ck_assert_msg(st.value[i] == e->value, "%s = %lld, want %lld",
                  m->type_instance, (long long)st.value[i],
                  (long long)e->value);
  }
}
END_TEST

/* The table itself: 17 distinct names, "<field>-<sub>" with registriy
 * spelled "registry", the right collectd types. */
START_TEST(test_metric_table) {
  for (int i = 0; i < HSS_METRIC_COUNT; i++) {
    const hss_metric_t *m = &hss_metrics[i];
    char want[128];
    if (m->subfield == NULL)
      snprintf(want, sizeof(want), "%s", m->field);
    else
      snprintf(want, sizeof(want), "%s-%s", m->field,
               strcmp(m->subfield, "registriy") == 0 ? "registry"
                                                     : m->subfield);
    ck_assert_str_eq(m->type_instance, want);
    ck_assert_str_eq(m->type, m->kind == HSS_KIND_BOOL ? "bool" : "count");
    for (int k = 0; k < i; k++)
      ck_assert_str_ne(hss_metrics[k].type_instance, m->type_instance);
  }
  ck_assert_int_eq(hss_metrics[metric_index("already_given")].kind,
                   HSS_KIND_BOOL);
  ck_assert_int_eq(hss_metrics[metric_index("total-registry")].kind,
                   HSS_KIND_COUNT);
}
END_TEST

START_TEST(test_registry_spellings) {
  hss_stats_t st;
  parse_ok("{\"total\":{\"registriy\":7}}", &st);
  assert_field(&st, "total-registry", HSS_FIELD_OK, 7);
  parse_ok("{\"total\":{\"registry\":8}}", &st);
  assert_field(&st, "total-registry", HSS_FIELD_OK, 8);
  parse_ok("{\"total\":{\"registry\":8,\"registriy\":9}}", &st);
  assert_field(&st, "total-registry", HSS_FIELD_OK, 9);
  parse_ok("{\"total\":{\"registriy\":9,\"registry\":8}}", &st);
  assert_field(&st, "total-registry", HSS_FIELD_OK, 9);
  /* A null registriy counts as absent, so registry is used. */
  parse_ok("{\"total\":{\"registriy\":null,\"registry\":8}}", &st);
  assert_field(&st, "total-registry", HSS_FIELD_OK, 8);
  /* The wire name wins even when its value is bad. */
  parse_ok("{\"total\":{\"registriy\":\"9\",\"registry\":8}}", &st);
  assert_field(&st, "total-registry", HSS_FIELD_WRONG_TYPE, 0);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_ABSENT), 16);
}
END_TEST

START_TEST(test_missing_and_null) {
  hss_stats_t st;
  parse_ok("{}", &st);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_ABSENT), HSS_METRIC_COUNT);
  parse_ok("{\"repository_scan_num\":null,\"already_given\":null,"
           "\"high_risk\":null,\"total\":{},"
           "\"unscan\":{\"local\":null,\"registriy\":null,\"cicd\":null},"
           "\"cicd_scan_num\":3}",
           &st);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_ABSENT),
                   HSS_METRIC_COUNT - 1);
  assert_field(&st, "cicd_scan_num", HSS_FIELD_OK, 3);
  assert_field(&st, "high_risk-local", HSS_FIELD_ABSENT, 0);
  assert_field(&st, "total-cicd", HSS_FIELD_ABSENT, 0);
  assert_field(&st, "unscan-registry", HSS_FIELD_ABSENT, 0);
  /* Only some sub-fields present. */
  parse_ok("{\"has_risk\":{\"cicd\":4}}", &st);
  assert_field(&st, "has_risk-cicd", HSS_FIELD_OK, 4);
  assert_field(&st, "has_risk-local", HSS_FIELD_ABSENT, 0);
  assert_field(&st, "has_risk-registry", HSS_FIELD_ABSENT, 0);
}
END_TEST

START_TEST(test_wrong_types) {
  static const char *const bad_counts[] = {"\"5\"", "5.0",  "1e3",       "true",
                                           "false", "[5]",  "{\"v\":5}", "\"\"",
                                           "5.5",   "-1.0", "NaN"};
  for (size_t i = 0; i < sizeof(bad_counts) / sizeof(*bad_counts); i++) {
    assert_one("repository_scan_num", NULL, bad_counts[i],
               "repository_scan_num", HSS_FIELD_WRONG_TYPE, 0);
    assert_one("unscan", "cicd", bad_counts[i], "unscan-cicd",
               HSS_FIELD_WRONG_TYPE, 0);
    assert_one("high_risk", "registriy", bad_counts[i], "high_risk-registry",
               HSS_FIELD_WRONG_TYPE, 0);
  }
  static const char *const bad_bools[] = {"1",      "0",  "\"true\"",
                                          "[true]", "{}", "1.0"};
  for (size_t i = 0; i < sizeof(bad_bools) / sizeof(*bad_bools); i++)
    assert_one("already_given", NULL, bad_bools[i], "already_given",
               HSS_FIELD_WRONG_TYPE, 0);
  assert_one("already_given", NULL, "false", "already_given", HSS_FIELD_OK, 0);
  assert_one("already_given", NULL, "true", "already_given", HSS_FIELD_OK, 1);
}
END_TEST

START_TEST(test_out_of_range) {
  static const char *const too_big[] = {"-1",
                                        "-2147483648",
                                        "2147483648",
                                        "4294967296",
                                        "9223372036854775807",
                                        "18446744073709551615",
                                        "-9223372036854775808",
                                        "99999999999999999999"};
  for (size_t i = 0; i < sizeof(too_big) / sizeof(*too_big); i++) {
    assert_one("free_quota_num", NULL, too_big[i], "free_quota_num",
               HSS_FIELD_OUT_OF_RANGE, 0);
    assert_one("total", "local", too_big[i], "total-local",
               HSS_FIELD_OUT_OF_RANGE, 0);
  }
  assert_one("free_quota_num", NULL, "0", "free_quota_num", HSS_FIELD_OK, 0);
  assert_one("free_quota_num", NULL, "-0", "free_quota_num", HSS_FIELD_OK, 0);
  assert_one("free_quota_num", NULL, "2147483647", "free_quota_num",
             HSS_FIELD_OK, 2147483647);
  assert_one("total", "registriy", "2147483647", "total-registry", HSS_FIELD_OK,
             2147483647);
  assert_one("image_free_quota", NULL, "2147483646", "image_free_quota",
             HSS_FIELD_OK, 2147483646);
}
END_TEST

START_TEST(test_parent_not_object) {
  static const char *const not_objects[] = {"5", "\"x\"", "[1,2,3]", "true",
                                            "[{\"local\":1}]"};
  for (size_t i = 0; i < sizeof(not_objects) / sizeof(*not_objects); i++) {
    char body[512];
    snprintf(body, sizeof(body),
             "{\"high_risk\":%s,\"repository_scan_num\":1,"
             "\"has_risk\":{\"local\":2,\"registriy\":3,\"cicd\":4}}",
             not_objects[i]);
    hss_stats_t st;
    parse_ok(body, &st);
    ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_PARENT_NOT_OBJECT), 3);
    assert_field(&st, "high_risk-local", HSS_FIELD_PARENT_NOT_OBJECT, 0);
    assert_field(&st, "high_risk-registry", HSS_FIELD_PARENT_NOT_OBJECT, 0);
    assert_field(&st, "high_risk-cicd", HSS_FIELD_PARENT_NOT_OBJECT, 0);
    assert_field(&st, "repository_scan_num", HSS_FIELD_OK, 1);
    assert_field(&st, "has_risk-local", HSS_FIELD_OK, 2);
    assert_field(&st, "has_risk-registry", HSS_FIELD_OK, 3);
    assert_field(&st, "has_risk-cicd", HSS_FIELD_OK, 4);
    ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_ABSENT), 10);
  }
}
END_TEST

START_TEST(test_unknown_fields_ignored) {
  hss_stats_t st;
  parse_ok("{\"new_field\":{\"deep\":[1,2,{\"x\":null}]},\"cicd_scan_num\":4,"
           "\"total\":{\"local\":1,\"future\":\"x\"},\"z\":\"y\"}",
           &st);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_OK), 2);
  assert_field(&st, "cicd_scan_num", HSS_FIELD_OK, 4);
  assert_field(&st, "total-local", HSS_FIELD_OK, 1);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_ABSENT), 15);
}
END_TEST

/* Only len bytes are read: what follows in memory does not matter. */
START_TEST(test_length_is_respected) {
  const char buf[] = "{\"repository_scan_num\":5}garbage";
  hss_stats_t st;
  char err[ERRLEN];
  ck_assert_int_eq(hss_parse_stats(buf, 25, &st, err, sizeof(err)), 0);
  assert_field(&st, "repository_scan_num", HSS_FIELD_OK, 5);
  parse_fails(buf, 24);
  parse_fails(buf, strlen(buf));
  /* Trailing white space is fine. */
  parse_ok("{\"repository_scan_num\":5} \r\n\t", &st);
  assert_field(&st, "repository_scan_num", HSS_FIELD_OK, 5);
}
END_TEST

/* ---- statistics: refused bodies ----------------------------------------- */

START_TEST(test_invalid_bodies) {
  static const char *const bodies[] = {
      "{",
      "{\"repository_scan_num\":",
      "{\"repository_scan_num\":5",
      "{\"repository_scan_num\":5,}x",
      "{\"repository_scan_num\":5} x",
      "{\"repository_scan_num\":5}{}",
      "{} []",
      "not json",
      "<html>502 Bad Gateway</html>",
      "   ",
      "\xef\xbb",
  };
  for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++)
    parse_fails(bodies[i], strlen(bodies[i]));
  ck_assert_ptr_nonnull(strstr(parse_fails("{} x", 4), "trailing"));
}
END_TEST

START_TEST(test_empty_and_null_body) {
  ck_assert_ptr_nonnull(strstr(parse_fails("", 0), "empty"));
  ck_assert_ptr_nonnull(strstr(parse_fails(NULL, 0), "empty"));
  ck_assert_ptr_nonnull(strstr(parse_fails(NULL, 10), "empty"));
}
END_TEST

START_TEST(test_non_object_roots) {
  static const char *const roots[] = {"[]",   "[1,2]", "\"text\"", "5",
                                      "5 ",   "-3.5",  "null",     "null\n",
                                      "true", "false "};
  for (size_t i = 0; i < sizeof(roots) / sizeof(*roots); i++) {
    const char *err = parse_fails(roots[i], strlen(roots[i]));
    ck_assert_msg(strstr(err, "not an object") != NULL,
                  "root %s: error \"%s\" does not say \"not an object\"",
                  roots[i], err);
  }
}
END_TEST

START_TEST(test_too_deep) {
  size_t len;
  char *body = nested_body(HSS_MAX_JSON_DEPTH + 1, &len);
  parse_fails(body, len);
  free(body);
  body = nested_body(100000, &len);
  parse_fails(body, len);
  free(body);
  /* Real bodies are two levels deep: a little nesting is fine. */
  body = nested_body(HSS_MAX_JSON_DEPTH - 1, &len);
  hss_stats_t st;
  char err[ERRLEN];
  ck_assert_int_eq(hss_parse_stats(body, len, &st, err, sizeof(err)), 0);
  free(body);
}
END_TEST

START_TEST(test_embedded_nul) {
  static const char trailing[] = "{\"repository_scan_num\":5}\0";
  static const char trailing_json[] = "{\"repository_scan_num\":5}\0{}";
  static const char in_value[] = "{\"repository_scan_num\":\0 5}";
  static const char in_string[] = "{\"x\":\"a\0b\",\"cicd_scan_num\":1}";
  parse_fails(trailing, sizeof(trailing) - 1);
  parse_fails(trailing_json, sizeof(trailing_json) - 1);
  parse_fails(in_value, sizeof(in_value) - 1);
  parse_fails(in_string, sizeof(in_string) - 1);
}
END_TEST

START_TEST(test_body_size_limit) {
  size_t len = HSS_MAX_BODY + 1;
  char *body = malloc(len);
  ck_assert_ptr_nonnull(body);
  memset(body, ' ', len);
  memcpy(body, "{\"cicd_scan_num\":1}", 19);
  ck_assert_ptr_nonnull(strstr(parse_fails(body, len), "limit"));
  hss_stats_t st;
  char err[ERRLEN];
  ck_assert_int_eq(hss_parse_stats(body, len - 1, &st, err, sizeof(err)), 0);
  assert_field(&st, "cicd_scan_num", HSS_FIELD_OK, 1);
  free(body);
}
END_TEST

START_TEST(test_counts_and_state_names) {
  hss_stats_t st;
  parse_ok("{\"repository_scan_num\":\"1\",\"cicd_scan_num\":-1,"
           "\"free_quota_num\":3,\"total\":1}",
           &st);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_OK), 1);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_WRONG_TYPE), 1);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_OUT_OF_RANGE), 1);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_PARENT_NOT_OBJECT), 3);
  ck_assert_int_eq(hss_stats_count(&st, HSS_FIELD_ABSENT), 11);
  ck_assert_str_eq(hss_field_state_name(HSS_FIELD_ABSENT), "absent");
  ck_assert_str_eq(hss_field_state_name(HSS_FIELD_OK), "ok");
  ck_assert_str_eq(hss_field_state_name(HSS_FIELD_WRONG_TYPE), "wrong type");
  ck_assert_str_eq(hss_field_state_name(HSS_FIELD_OUT_OF_RANGE),
                   "out of range");
  ck_assert_str_eq(hss_field_state_name(HSS_FIELD_PARENT_NOT_OBJECT),
                   "enclosing field is not an object");
  ck_assert_str_eq(hss_field_state_name((hss_field_state_t)99), "unknown");
}
END_TEST

/* ---- error bodies ------------------------------------------------------- */

/* Parses a NUL-terminated error body. */
static void parse_error(const char *body, hss_api_error_t *e) {
  memset(e, 'X', sizeof(*e)); /* every field must be (re)initialised */
  hss_parse_api_error(body, body ? strlen(body) : 0, e);
}

START_TEST(test_api_error_hss) {
  hss_api_error_t e;
  parse_error("{\"error_code\":\"APIGW.0301\",\"error_msg\":\"Incorrect IAM "
              "authentication information: verify aksk signature fail\","
              "\"request_id\":\"d8e6e0a2b1c6f1d2e3a4b5c6d7e8f901\"}",
              &e);
  ck_assert_str_eq(e.code, "APIGW.0301");
  ck_assert_str_eq(e.message, "Incorrect IAM authentication information: "
                              "verify aksk signature fail");
  ck_assert_str_eq(e.request_id, "d8e6e0a2b1c6f1d2e3a4b5c6d7e8f901");
  parse_error("{\"error_code\":\"HSS.0013\",\"error_msg\":\"Insufficient "
              "permissions\"}",
              &e);
  ck_assert_str_eq(e.code, "HSS.0013");
  ck_assert_str_eq(e.message, "Insufficient permissions");
  ck_assert_str_eq(e.request_id, "");
}
END_TEST

START_TEST(test_api_error_iam) {
  hss_api_error_t e;
  parse_error("{\"error\":{\"code\":401,\"message\":\"The request you have "
              "made requires authentication.\",\"title\":\"Unauthorized\"}}",
              &e);
  ck_assert_str_eq(e.code, "401");
  ck_assert_str_eq(e.message,
                   "The request you have made requires authentication.");
  ck_assert_str_eq(e.request_id, "");
  parse_error("{\"error\":{\"code\":\"APIGW.0308\",\"message\":\"throttled\"}}",
              &e);
  ck_assert_str_eq(e.code, "APIGW.0308");
  ck_assert_str_eq(e.message, "throttled");
  /* The top-level fields win over IAM's. */
  parse_error("{\"error_code\":\"A\",\"error\":{\"code\":1,\"message\":\"m\"}}",
              &e);
  ck_assert_str_eq(e.code, "A");
  ck_assert_str_eq(e.message, "m");
}
END_TEST

START_TEST(test_api_error_unknown_bodies) {
  static const char *const bodies[] = {
      NULL,
      "",
      "<html>oops</html>",
      "[1]",
      "\"x\"",
      "{}",
      "{\"error\":\"x\"}",
      "{\"error_code\":{\"a\":1},\"error_msg\":[\"m\"]}",
      "{\"error_code\":\"A\"",
      "{\"error_code\":null,\"error_msg\":null}"};
  for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
    hss_api_error_t e;
    parse_error(bodies[i], &e);
    ck_assert_msg(e.code[0] == '\0' && e.message[0] == '\0' &&
                      e.request_id[0] == '\0',
                  "body %s left fields set", bodies[i] ? bodies[i] : "NULL");
  }
}
END_TEST

START_TEST(test_api_error_sanitised) {
  hss_api_error_t e;
  parse_error("{\"error_code\":\"HSS\\u0007.1\",\"error_msg\":\"line1\\nline2"
              "\\r\\tend\\u001b[31m\\u007f\",\"request_id\":\"id\\n2\"}",
              &e);
  ck_assert_str_eq(e.code, "HSS?.1");
  ck_assert_str_eq(e.message, "line1?line2??end?[31m?");
  ck_assert_str_eq(e.request_id, "id?2");
  /* UTF-8 is kept as is. */
  parse_error("{\"error_msg\":\"caf\\u00e9\"}", &e);
  ck_assert_str_eq(e.message, "caf\xc3\xa9");
}
END_TEST

START_TEST(test_api_error_truncated) {
  size_t n = 5000;
  char *body = malloc(n + 300);
  ck_assert_ptr_nonnull(body);
  strcpy(body, "{\"error_msg\":\"");
  size_t len = strlen(body);
  memset(body + len, 'm', n);
  strcpy(body + len + n, "\",\"error_code\":\"");
  len = strlen(body);
  memset(body + len, 'c', 200);
  strcpy(body + len + 200, "\"}");
  hss_api_error_t e;
  parse_error(body, &e);
  free(body);
  ck_assert_uint_eq(strlen(e.message), sizeof(e.message) - 1);
  ck_assert_uint_eq(strlen(e.code), sizeof(e.code) - 1);
  ck_assert_int_eq(e.message[0], 'm');
  ck_assert_int_eq(e.message[sizeof(e.message) - 2], 'm');
  ck_assert_int_eq(e.code[sizeof(e.code) - 2], 'c');
}
END_TEST

/* ---- the sanitiser ------------------------------------------------------ */

/* Truncation never leaves half a UTF-8 character at the end. */
START_TEST(test_sanitize_utf8_cut) {
  const char *src = "ab\xe6\x9d\x83\xe6\x9d\x83"; /* "ab" + two 3-byte chars */
  char dst[8];
  hss_sanitize_copy(dst, 5, src, strlen(src)); /* room for 4 bytes */
  ck_assert_str_eq(dst, "ab");
  hss_sanitize_copy(dst, 6, src, strlen(src)); /* room for 5: one char fits */
  ck_assert_str_eq(dst, "ab\xe6\x9d\x83");
  hss_sanitize_copy(dst, 8, src, strlen(src)); /* 7 of 8: "ab" + 1 char */
  ck_assert_str_eq(dst, "ab\xe6\x9d\x83");
  hss_sanitize_copy(dst, 3, "abc", 3);
  ck_assert_str_eq(dst, "ab");
}
END_TEST

START_TEST(test_sanitize_copy) {
  char dst[8];
  hss_sanitize_copy(dst, sizeof(dst),
                    "a\x01"
                    "b\x1f\x7f"
                    "c",
                    6);
  ck_assert_str_eq(dst, "a?b??c");
  hss_sanitize_copy(dst, sizeof(dst), "0123456789", 10);
  ck_assert_str_eq(dst, "0123456");
  hss_sanitize_copy(dst, sizeof(dst), "0123456789", 3);
  ck_assert_str_eq(dst, "012");
  hss_sanitize_copy(dst, sizeof(dst), "ab\0cd", 5);
  ck_assert_str_eq(dst, "ab");
  hss_sanitize_copy(dst, sizeof(dst), NULL, 4);
  ck_assert_str_eq(dst, "");
  hss_sanitize_copy(dst, 1, "abc", 3);
  ck_assert_str_eq(dst, "");
  dst[0] = 'Z';
  hss_sanitize_copy(dst, 0, "abc", 3);
  ck_assert_int_eq(dst[0], 'Z');
  hss_sanitize_copy(dst, sizeof(dst), "\xc3\xa9\t", 3);
  ck_assert_str_eq(dst, "\xc3\xa9?");
}
END_TEST

/* ---- token expiry and timestamps ---------------------------------------- */

/* Parses a token body that must give want. */
static void assert_expiry(const char *body, int64_t want) {
  int64_t t = 0;
  ck_assert_msg(hss_parse_token_expiry(body, strlen(body), &t) == 0,
                "%s was refused", body);
  ck_assert_msg(t == want, "%s -> %lld, want %lld", body, (long long)t,
                (long long)want);
}

/* Parses a token body that must be refused. */
static void assert_bad_expiry(const char *body, size_t len) {
  int64_t t = 777;
  ck_assert_msg(hss_parse_token_expiry(body, len, &t) == -1, "%s accepted",
                body ? body : "NULL");
  ck_assert_int_eq(t, 777);
}

START_TEST(test_token_expiry) {
  assert_expiry("{\"token\":{\"expires_at\":\"2020-01-04T09:05:22.701000Z\","
                "\"methods\":[\"password\"],\"issued_at\":"
                "\"2020-01-03T09:05:22.701000Z\"}}",
                1578128722);
  assert_expiry("{\"token\":{\"expires_at\":\"2020-01-04T09:05:22Z\"}}",
                1578128722);
  assert_expiry("{\"token\":{\"expires_at\":\"2020-01-04T09:05:22+00:00\"}}",
                1578128722);
  assert_expiry("{\"token\":{\"expires_at\":\"2020-01-04T09:05:22.7+00:00\"}}",
                1578128722);
}
END_TEST

START_TEST(test_token_expiry_bad) {
  static const char *const bodies[] = {
      "{\"token\":{\"expires_at\":\"2020-01-04T09:05:22.701000\"}}",
      "{\"token\":{\"expires_at\":\"2020-13-04T09:05:22Z\"}}",
      "{\"token\":{\"expires_at\":\"garbage\"}}",
      "{\"token\":{\"expires_at\":1578128722}}",
      "{\"token\":{\"expires_at\":null}}",
      "{\"token\":{}}",
      "{\"token\":\"2020-01-04T09:05:22Z\"}",
      "{\"expires_at\":\"2020-01-04T09:05:22Z\"}",
      "[{\"token\":{\"expires_at\":\"2020-01-04T09:05:22Z\"}}]",
      "{\"token\":{\"expires_at\":\"2020-01-04T09:05:22Z\"}",
      "",
  };
  for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++)
    assert_bad_expiry(bodies[i], strlen(bodies[i]));
  assert_bad_expiry(NULL, 0);
}
END_TEST

START_TEST(test_utc_time) {
  assert_time("1970-01-01T00:00:00Z", 0);
  assert_time("2020-01-04T09:05:22Z", 1578128722);
  assert_time("2020-01-04T09:05:22.701000Z", 1578128722);
  assert_time("2020-01-04T09:05:22.999999999Z", 1578128722);
  assert_time("2020-01-04T09:05:22+00:00", 1578128722);
  assert_time("2024-02-29T12:00:00Z", 1709208000);
  assert_time("2038-01-19T03:14:08Z", 2147483648LL);
  assert_time("1969-12-31T23:59:59Z", -1);
  assert_time("2000-02-29T00:00:00Z", 951782400);  /* 2000 was a leap year */
  assert_time("2026-12-31T23:59:59Z", 1798761599); /* last day of a month */
}
END_TEST

START_TEST(test_utc_time_bad) {
  static const char *const bad[] = {
      "2020-01-04T09:05:22",
      "2020-01-04T09:05:22.701000",
      "2020-13-04T09:05:22Z",
      "2020-00-04T09:05:22Z",
      "2020-01-32T09:05:22Z",
      "2020-01-00T09:05:22Z",
      "2020-01-04T24:05:22Z",
      "2020-01-04T09:60:22Z",
      "2020-01-04T09:05:61Z",
      "garbage",
      "",
      "2020-01-04 09:05:22Z",
      "2020-01-04T09:05:22.Z",
      "2020-01-04T09:05:22Zjunk",
      "2020-01-04T09:05:22+01:00",
      "2020-01-04T09:05:22z",
      "20-01-04T09:05:22Z",
      "2020-1-4T9:5:22Z",
      "2020-01-04T09:05Z",
      "2020-01-04T09:05:22 Z",
      "2020-02-30T09:05:22Z", /* no such day */
      "2021-02-29T09:05:22Z", /* not a leap year */
      "1900-02-29T09:05:22Z", /* not a leap year either */
      "2020-04-31T09:05:22Z",
      "2020-+1-04T09:05:22Z", /* sscanf's %2d would take a sign or a space */
      "2020- 1-04T09:05:22Z",
      "+020-01-04T09:05:22Z",
      "2020-01-04T09:05:2xZ",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    assert_bad_time(bad[i]);
  assert_bad_time(NULL);
}
END_TEST

/* ---- the suite ----------------------------------------------------------- */

static Suite *parse_suite(void) {
  Suite *s = suite_create("parse");
  TCase *stats = tcase_create("stats");
  tcase_set_timeout(stats, 60);
  tcase_add_test(stats, test_seed_example);
  tcase_add_test(stats, test_full_response);
  tcase_add_test(stats, test_metric_table);
  tcase_add_test(stats, test_registry_spellings);
  tcase_add_test(stats, test_missing_and_null);
  tcase_add_test(stats, test_wrong_types);
  tcase_add_test(stats, test_out_of_range);
  tcase_add_test(stats, test_parent_not_object);
  tcase_add_test(stats, test_unknown_fields_ignored);
  tcase_add_test(stats, test_length_is_respected);
  tcase_add_test(stats, test_counts_and_state_names);
  suite_add_tcase(s, stats);

  TCase *refused = tcase_create("refused");
  tcase_set_timeout(refused, 60);
  tcase_add_test(refused, test_invalid_bodies);
  tcase_add_test(refused, test_empty_and_null_body);
  tcase_add_test(refused, test_non_object_roots);
  tcase_add_test(refused, test_too_deep);
  tcase_add_test(refused, test_embedded_nul);
  tcase_add_test(refused, test_body_size_limit);
  suite_add_tcase(s, refused);

  TCase *errors = tcase_create("error_bodies");
  tcase_add_test(errors, test_api_error_hss);
  tcase_add_test(errors, test_api_error_iam);
  tcase_add_test(errors, test_api_error_unknown_bodies);
  tcase_add_test(errors, test_api_error_sanitised);
  tcase_add_test(errors, test_api_error_truncated);
  tcase_add_test(errors, test_sanitize_copy);
  tcase_add_test(errors, test_sanitize_utf8_cut);
  suite_add_tcase(s, errors);

  TCase *times = tcase_create("times");
  tcase_add_test(times, test_token_expiry);
  tcase_add_test(times, test_token_expiry_bad);
  tcase_add_test(times, test_utc_time);
  tcase_add_test(times, test_utc_time_bad);
  suite_add_tcase(s, times);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(parse_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

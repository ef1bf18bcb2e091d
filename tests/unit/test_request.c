/* test_request.c - unit tests of request.c (URLs, IAM body, headers) and
 * endpoint.c (region hosts, base URL and proxy URL checks). Nothing is
 * sent: these only build and inspect strings. */
#include "unit.h"

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "request.h"

#define ERRLEN 512
#define BASE "https://hss.cn-north-4.myhuaweicloud.com"
#define STATS "/image/pay-per-scan/statistics"

/* ---- helpers ------------------------------------------------------------ */

/* hss_stats_url() must give want. */
static void assert_stats_url(const char *project_id, const char *eps,
                             const char *want) {
  char *url = hss_stats_url(BASE, project_id, eps);
  ck_assert_ptr_nonnull(url);
  ck_assert_str_eq(url, want);
  free(url);
}

/* The string at a path of keys in a parsed JSON object, or NULL. */
static const char *json_path(json_object *root, const char *const *keys,
                             size_t n) {
  json_object *v = root;
  for (size_t i = 0; i < n; i++)
    if (!json_object_object_get_ex(v, keys[i], &v) ||
        (i + 1 < n && !json_object_is_type(v, json_type_object)))
      return NULL;
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : NULL;
}

/* Builds the IAM body, parses it back and checks every field. */
static void assert_token_body(const char *domain, const char *user,
                              const char *password, const char *project_id) {
  char *body = hss_iam_token_body(domain, user, password, project_id);
  ck_assert_ptr_nonnull(body);
  json_object *root = json_tokener_parse(body);
  ck_assert_msg(root != NULL, "body is not JSON: %s", body);
  static const char *const user_name[] = {"auth", "identity", "password",
                                          "user", "name"};
  static const char *const user_pw[] = {"auth", "identity", "password", "user",
                                        "password"};
  static const char *const domain_name[] = {"auth", "identity", "password",
                                            "user", "domain",   "name"};
  static const char *const project[] = {"auth", "scope", "project", "id"};
  ck_assert_pstr_eq(json_path(root, user_name, 5), user);
  ck_assert_pstr_eq(json_path(root, user_pw, 5), password);
  ck_assert_pstr_eq(json_path(root, domain_name, 6), domain);
  ck_assert_pstr_eq(json_path(root, project, 4), project_id);
  json_object *auth, *identity, *methods;
  ck_assert(json_object_object_get_ex(root, "auth", &auth));
  ck_assert(json_object_object_get_ex(auth, "identity", &identity));
  ck_assert(json_object_object_get_ex(identity, "methods", &methods));
  ck_assert(json_object_is_type(methods, json_type_array));
  ck_assert_uint_eq(json_object_array_length(methods), 1);
  ck_assert_str_eq(
      json_object_get_string(json_object_array_get_idx(methods, 0)),
      "password");
  ck_assert_int_eq(json_object_object_length(root), 1);
  ck_assert_int_eq(json_object_object_length(auth), 2);
  ck_assert_int_eq(json_object_object_length(identity), 2);
  json_object_put(root);
  memset(body, 0, strlen(body));
  free(body);
}

/* True when the header list holds exactly the line want. */
static bool has_header(const struct curl_slist *list, const char *want) {
  for (; list != NULL; list = list->next)
    if (strcmp(list->data, want) == 0)
      return true;
  return false;
}

/* True when some header line starts with prefix. */
static bool has_header_prefix(const struct curl_slist *list,
                              const char *prefix) {
  for (; list != NULL; list = list->next)
    if (strncmp(list->data, prefix, strlen(prefix)) == 0)
      return true;
  return false;
}

/* Number of lines in a header list. */
static int header_count(const struct curl_slist *list) {
  int n = 0;
  for (; list != NULL; list = list->next)
    n++;
  return n;
}

/* hss_base_url_check() must accept url and normalise it to want. */
static void assert_base_url(const char *url, bool insecure, const char *want) {
  char err[ERRLEN] = "";
  char *got = hss_base_url_check(url, insecure, err, sizeof(err));
  ck_assert_msg(got != NULL, "\"%s\" refused: %s", url, err);
  ck_assert_str_eq(got, want);
  free(got);
}

/* hss_base_url_check() must refuse url; returns the (non-empty) error. */
static const char *base_url_fails(const char *url, bool insecure) {
  static char err[ERRLEN];
  strcpy(err, "");
  char *got = hss_base_url_check(url, insecure, err, sizeof(err));
  ck_assert_msg(got == NULL, "\"%s\" accepted as \"%s\"", url, got);
  ck_assert_msg(err[0] != '\0', "\"%s\": no error text", url);
  return err;
}

/* hss_proxy_url_check() must refuse url without echoing secret. */
static void proxy_fails(const char *url, const char *secret) {
  char err[ERRLEN] = "";
  ck_assert_msg(hss_proxy_url_check(url, err, sizeof(err)) == -1,
                "proxy \"%s\" accepted", url);
  ck_assert(err[0] != '\0');
  if (url[0] != '\0')
    ck_assert_msg(strstr(err, url) == NULL, "error shows the URL: %s", err);
  if (secret != NULL)
    ck_assert_msg(strstr(err, secret) == NULL, "error shows \"%s\": %s", secret,
                  err);
}

/* ---- request.c ------------------------------------------------------------
 */

START_TEST(test_stats_url_plain) {
  assert_stats_url("0b5a7d3f6e2c4e1a9d8f7c6b5a4e3d2c", NULL,
                   BASE "/v5/0b5a7d3f6e2c4e1a9d8f7c6b5a4e3d2c" STATS);
  char *url = hss_stats_url("http://127.0.0.1:8080", "p-1_x.y~z", NULL);
  ck_assert_ptr_nonnull(url);
  ck_assert_str_eq(url, "http://127.0.0.1:8080/v5/p-1_x.y~z" STATS);
  free(url);
}
END_TEST

START_TEST(test_stats_url_escaped_project) {
  assert_stats_url("a/b c?d#e%f&g=h+i", NULL,
                   BASE "/v5/a%2Fb%20c%3Fd%23e%25f%26g%3Dh%2Bi" STATS);
  assert_stats_url("caf\xc3\xa9", NULL, BASE "/v5/caf%C3%A9" STATS);
  assert_stats_url("../..", NULL, BASE "/v5/..%2F.." STATS);
}
END_TEST

START_TEST(test_stats_url_eps) {
  assert_stats_url("p1", "all_granted_eps",
                   BASE "/v5/p1" STATS
                        "?enterprise_project_id=all_granted_eps");
  assert_stats_url("p1", "0", BASE "/v5/p1" STATS "?enterprise_project_id=0");
  assert_stats_url("p1", "a b&c=d/e+f?g#h \xc3\xa9",
                   BASE "/v5/p1" STATS "?enterprise_project_id="
                        "a%20b%26c%3Dd%2Fe%2Bf%3Fg%23h%20%C3%A9");
  assert_stats_url("p1", "6a9b2c3d-1e4f-4a5b-8c7d-0e1f2a3b4c5d",
                   BASE "/v5/p1" STATS "?enterprise_project_id="
                        "6a9b2c3d-1e4f-4a5b-8c7d-0e1f2a3b4c5d");
}
END_TEST

/* The longest ids the configuration allows fit. */
START_TEST(test_stats_url_long_ids) {
  char id[257];
  memset(id, '/', 256);
  id[256] = '\0';
  char *url = hss_stats_url(BASE, id, id);
  ck_assert_ptr_nonnull(url);
  ck_assert_uint_eq(strlen(url),
                    strlen(BASE "/v5/" STATS "?enterprise_project_id=") +
                        2 * 3 * 256);
  ck_assert_ptr_nonnull(
      strstr(url, "%2F%2F" STATS "?enterprise_project_id=%2F"));
  free(url);
}
END_TEST

START_TEST(test_iam_token_url) {
  char *url = hss_iam_token_url("https://iam.cn-north-4.myhuaweicloud.com");
  ck_assert_ptr_nonnull(url);
  ck_assert_str_eq(url,
                   "https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens");
  free(url);
  url = hss_iam_token_url("http://127.0.0.1:5000");
  ck_assert_str_eq(url, "http://127.0.0.1:5000/v3/auth/tokens");
  free(url);
}
END_TEST

START_TEST(test_iam_token_body) {
  assert_token_body("my-account", "monitor", "S3cret!", "0b5a7d3f6e2c4e1a");
  assert_token_body("acc\"quoted\"", "us\\er/x",
                    "p\"w\\d'\n\t\x01/\xc3\xa9\xe4\xb8\xad\xf0\x9f\x94\x91",
                    "proj\"1");
  assert_token_body("\xe5\x9f\x9f", "\xe7\x94\xa8\xe6\x88\xb7", "}{][,:", "p");
}
END_TEST

/* The body is exactly the documented shape. */
START_TEST(test_iam_token_body_text) {
  char *body = hss_iam_token_body("D", "U", "P", "X");
  ck_assert_ptr_nonnull(body);
  ck_assert_str_eq(body, "{\"auth\":{\"identity\":{\"methods\":[\"password\"],"
                         "\"password\":{\"user\":{\"domain\":{\"name\":\"D\"},"
                         "\"name\":\"U\",\"password\":\"P\"}}},"
                         "\"scope\":{\"project\":{\"id\":\"X\"}}}}");
  free(body);
}
END_TEST

START_TEST(test_stats_headers) {
  struct curl_slist *h = hss_stats_headers("MIIEtoken-value");
  ck_assert_ptr_nonnull(h);
  ck_assert(has_header(h, "X-Auth-Token: MIIEtoken-value"));
  ck_assert(has_header(h, "Accept: application/json"));
  ck_assert(has_header(h, "User-Agent: " HSS_USER_AGENT));
  ck_assert(!has_header_prefix(h, "Content-Type:"));
  ck_assert_int_eq(header_count(h), 3);
  hss_headers_free(h);
}
END_TEST

START_TEST(test_iam_headers) {
  struct curl_slist *h = hss_iam_headers();
  ck_assert_ptr_nonnull(h);
  ck_assert(has_header(h, "Content-Type: application/json;charset=utf8"));
  ck_assert(has_header(h, "Accept: application/json"));
  ck_assert(has_header(h, "User-Agent: " HSS_USER_AGENT));
  ck_assert(!has_header_prefix(h, "X-Auth-Token"));
  ck_assert_int_eq(header_count(h), 3);
  hss_headers_free(h);
  hss_headers_free(NULL);
}
END_TEST

/* ---- endpoint.c: regions ------------------------------------------------- */

START_TEST(test_region_url) {
  char *url = hss_region_url("hss", "cn-north-4");
  ck_assert_str_eq(url, "https://hss.cn-north-4.myhuaweicloud.com");
  free(url);
  url = hss_region_url("iam", "cn-north-4");
  ck_assert_str_eq(url, "https://iam.cn-north-4.myhuaweicloud.com");
  free(url);
  url = hss_region_url("hss", "eu-west-101");
  ck_assert_str_eq(url, "https://hss.eu-west-101.myhuaweicloud.eu");
  free(url);
  url = hss_region_url("iam", "eu-west-101");
  ck_assert_str_eq(url, "https://iam.eu-west-101.myhuaweicloud.eu");
  free(url);
  url = hss_region_url("hss", "ap-southeast-1");
  ck_assert_str_eq(url, "https://hss.ap-southeast-1.myhuaweicloud.com");
  free(url);
  url = hss_region_url("hss", "xx-new-7");
  ck_assert_str_eq(url, "https://hss.xx-new-7.myhuaweicloud.com");
  free(url);
}
END_TEST

START_TEST(test_region_known) {
  static const char *const known[] = {
      "cn-north-1",     "cn-north-2",     "cn-north-4",     "cn-north-9",
      "cn-north-11",    "cn-north-12",    "cn-east-2",      "cn-east-3",
      "cn-east-4",      "cn-east-5",      "cn-south-1",     "cn-south-2",
      "cn-south-4",     "cn-southwest-2", "cn-southwest-3", "ap-southeast-1",
      "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "af-south-1",
      "sa-brazil-1",    "la-south-2",     "la-north-2",     "na-mexico-1",
      "tr-west-1",      "ae-ad-1",        "me-east-1",      "my-kualalumpur-1",
      "ru-moscow-1",    "eu-west-101"};
  for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
    ck_assert_msg(hss_region_known(known[i]), "%s unknown", known[i]);
  static const char *const unknown[] = {
      "cn-north-3", "us-east-1", "CN-NORTH-4", "cn-north-4 ", "", "eu-west-0"};
  for (size_t i = 0; i < sizeof(unknown) / sizeof(*unknown); i++)
    ck_assert_msg(!hss_region_known(unknown[i]), "%s known", unknown[i]);
}
END_TEST

START_TEST(test_region_valid) {
  static const char *const valid[] = {"cn-north-4", "xx-new-7", "ab",
                                      "a1-b2-c3"};
  for (size_t i = 0; i < sizeof(valid) / sizeof(*valid); i++)
    ck_assert_msg(hss_region_valid(valid[i]), "%s invalid", valid[i]);
  char long_ok[65], too_long[66];
  memset(long_ok, 'a', 64);
  long_ok[64] = '\0';
  memset(too_long, 'a', 65);
  too_long[65] = '\0';
  ck_assert(hss_region_valid(long_ok));
  ck_assert(!hss_region_valid(too_long));
  static const char *const invalid[] = {"",
                                        "a",
                                        "CN-north-4",
                                        "cn_north_4",
                                        "cn north 4",
                                        "cn.north.4",
                                        "cn-north-4/",
                                        "h@x",
                                        "cn-north-4\n",
                                        "r\xc3\xa9gion"};
  for (size_t i = 0; i < sizeof(invalid) / sizeof(*invalid); i++)
    ck_assert_msg(!hss_region_valid(invalid[i]), "\"%s\" valid", invalid[i]);
}
END_TEST

/* ---- endpoint.c: base URLs ----------------------------------------------- */

START_TEST(test_base_url_normalised) {
  assert_base_url("https://h", false, "https://h");
  assert_base_url("https://h/", false, "https://h");
  assert_base_url("https://h:8443/", false, "https://h:8443");
  assert_base_url("https://h:8443", false, "https://h:8443");
  assert_base_url(BASE "/", false, BASE);
  assert_base_url("HTTPS://hss.example.com", false, "https://hss.example.com");
  assert_base_url("https://127.0.0.1:9443/", false, "https://127.0.0.1:9443");
  assert_base_url("https://[::1]:9443", false, "https://[::1]:9443");
  assert_base_url("http://127.0.0.1:8080/", true, "http://127.0.0.1:8080");
  assert_base_url("https://h", true, "https://h");
}
END_TEST

START_TEST(test_base_url_errors) {
  base_url_fails("not a url", false);
  base_url_fails("", false);
  base_url_fails("hss.example.com", false);
  ck_assert_ptr_nonnull(strstr(base_url_fails("ftp://x", false), "scheme"));
  ck_assert_ptr_nonnull(strstr(base_url_fails("ftp://x", true), "scheme"));
  base_url_fails("file:///etc/passwd", true);
  ck_assert_ptr_nonnull(
      strstr(base_url_fails("https://h/path", false), "path"));
  base_url_fails("https://h/v5", false);
  base_url_fails("https://h//", false);
  ck_assert_ptr_nonnull(
      strstr(base_url_fails("https://h?q=1", false), "query"));
  base_url_fails("https://h/?", false);
  base_url_fails("https://h#frag", false);
  base_url_fails("https://h:99999", false);
  base_url_fails("https://", false);
  const char *err = base_url_fails("http://h", false);
  ck_assert_ptr_nonnull(strstr(err, "AllowInsecure"));
  base_url_fails("http://127.0.0.1:8080", false);
  /* A host name DNS cannot have (the AK/SK signer's Host header has room
   * for 253 characters and a port). */
  char url[300] = "https://";
  memset(url + 8, 'a', 254);
  url[8 + 254] = '\0';
  ck_assert_ptr_nonnull(strstr(base_url_fails(url, false), "longer than 253"));
  url[8 + 253] = '\0';
  char *ok = hss_base_url_check(url, false, (char[ERRLEN]){0}, ERRLEN);
  ck_assert_ptr_nonnull(ok);
  free(ok);
}
END_TEST

/* A URL with user information is refused, and its password never shown. */
START_TEST(test_base_url_userinfo_hidden) {
  static const char *const urls[] = {
      "https://user:pw-s3cr3t@h",     "https://user:pw-s3cr3t@h/path",
      "ftp://user:pw-s3cr3t@h",       "http://user:pw-s3cr3t@h",
      "https://user:pw-s3cr3t@h:bad", "https://:pw-s3cr3t@h"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++) {
    const char *err = base_url_fails(urls[i], false);
    ck_assert_msg(strstr(err, "pw-s3cr3t") == NULL, "password shown: %s", err);
    err = base_url_fails(urls[i], true);
    ck_assert_msg(strstr(err, "pw-s3cr3t") == NULL, "password shown: %s", err);
  }
  ck_assert_ptr_nonnull(
      strstr(base_url_fails("https://user@h", false), "user information"));
}
END_TEST

/* ---- endpoint.c: proxy URLs ------------------------------------------------
 */

START_TEST(test_proxy_ok) {
  static const char *const ok[] = {
      "http://proxy:3128",         "https://proxy.example.com:443",
      "socks4://10.0.0.1:1080",    "socks4a://p:1080",
      "socks5://p:1080",           "socks5h://p:1080",
      "http://user:pw@proxy:3128", "http://[::1]:3128"};
  for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
    char err[ERRLEN] = "";
    ck_assert_msg(hss_proxy_url_check(ok[i], err, sizeof(err)) == 0,
                  "\"%s\" refused: %s", ok[i], err);
  }
}
END_TEST

START_TEST(test_proxy_errors) {
  proxy_fails("not a url", NULL);
  proxy_fails("", NULL);
  proxy_fails("ftp://proxy:21", NULL);
  proxy_fails("ftp://user:pr0xy-s3cr3t@proxy:21", "pr0xy-s3cr3t");
  proxy_fails("http://user:pr0xy-s3cr3t@ bad host", "pr0xy-s3cr3t");
  proxy_fails("http://user:pr0xy-s3cr3t@proxy:99999", "pr0xy-s3cr3t");
  proxy_fails("gopher://user:pr0xy-s3cr3t@proxy", "pr0xy-s3cr3t");
  proxy_fails("http://", NULL);
}
END_TEST

static Suite *request_suite(void) {
  Suite *s = suite_create("request");
  TCase *req = tcase_create("request");
  tcase_set_timeout(req, 60);
  tcase_add_test(req, test_stats_url_plain);
  tcase_add_test(req, test_stats_url_escaped_project);
  tcase_add_test(req, test_stats_url_eps);
  tcase_add_test(req, test_stats_url_long_ids);
  tcase_add_test(req, test_iam_token_url);
  tcase_add_test(req, test_iam_token_body);
  tcase_add_test(req, test_iam_token_body_text);
  tcase_add_test(req, test_stats_headers);
  tcase_add_test(req, test_iam_headers);
  suite_add_tcase(s, req);
  TCase *ep = tcase_create("endpoint");
  tcase_set_timeout(ep, 60);
  tcase_add_test(ep, test_region_url);
  tcase_add_test(ep, test_region_known);
  tcase_add_test(ep, test_region_valid);
  tcase_add_test(ep, test_base_url_normalised);
  tcase_add_test(ep, test_base_url_errors);
  tcase_add_test(ep, test_base_url_userinfo_hidden);
  tcase_add_test(ep, test_proxy_ok);
  tcase_add_test(ep, test_proxy_errors);
  suite_add_tcase(s, ep);
  return s;
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SRunner *sr = srunner_create(request_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  curl_global_cleanup();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

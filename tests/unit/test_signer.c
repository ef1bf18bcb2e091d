/* test_signer.c - unit tests of signer.c: the two published vectors
 * (API signing guide, Go SDK signer_test.go), the canonicalisation rules
 * of signer.h, and the error paths. Expected digests of requests that
 * are not published vectors were computed independently with
 * `openssl dgst -sha256 [-hmac KEY]` on the hand-written canonical text. */
#include "unit.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "signer.h"

#define EMPTY_SHA256                                                           \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- the API signing guide's vector ------------------------------------- */

#define GUIDE_AK "QTWAOYTTINDUT2QVKYUC"
#define GUIDE_SK "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
#define GUIDE_PATH "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/"
#define GUIDE_QUERY "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
#define GUIDE_CR_SHA256                                                        \
  "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
#define GUIDE_SIG                                                              \
  "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
#define GUIDE_AUTH                                                             \
  "SDK-HMAC-SHA256 Access=" GUIDE_AK                                           \
  ", SignedHeaders=content-type;host;x-sdk-date, Signature=" GUIDE_SIG

static const hss_sign_header_t guide_headers[] = {
    {"content-type", "application/json"},
    {"host", "service.region.example.com"},
    {"x-sdk-date", "20191115T033655Z"},
};

/* The guide's request: GET, no body. */
static hss_sign_request_t guide_request(void) {
  hss_sign_request_t r = {
      .method = "GET",
      .path = GUIDE_PATH,
      .query = GUIDE_QUERY,
      .headers = guide_headers,
      .headers_num = 3,
      .access_key = GUIDE_AK,
      .secret_key = GUIDE_SK,
  };
  return r;
}

/* ---- the Go SDK's vector ------------------------------------------------ */

#define GO_AK "AccessKey"
#define GO_SK "SecretKey"
#define GO_SIG                                                                 \
  "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"

/* ---- helpers ------------------------------------------------------------ */

/* Lower-hex SHA-256 of a string, computed here with libcrypto. */
static void sha256_hex(const char *s, char hex[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ck_assert_int_eq(EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL), 1);
  ck_assert_uint_eq(len, 32);
  for (unsigned int i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Line n (0-based) of text, copied into a static buffer. */
static const char *line_of(const char *text, int n) {
  static char line[1024];
  const char *p = text;
  for (int i = 0; i < n; i++) {
    p = strchr(p, '\n');
    ck_assert_ptr_nonnull(p);
    p++;
  }
  size_t len = strcspn(p, "\n");
  ck_assert_uint_lt(len, sizeof(line));
  memcpy(line, p, len);
  line[len] = '\0';
  return line;
}

/* The canonical URI (line 1) of a GET of path with the guide's headers. */
static const char *uri_of(const char *path) {
  static char uri[1024];
  hss_sign_request_t r = guide_request();
  r.path = path;
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  snprintf(uri, sizeof(uri), "%s", line_of(cr, 1));
  free(cr);
  return uri;
}

/* Asserts that the canonical query of query is expected. */
static void assert_query(const char *query, const char *expected) {
  char *got = hss_sign_canonical_query(query);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, expected);
  free(got);
}

/* Asserts that hss_sign_escape() of len bytes of s is expected. */
static void assert_escape(const char *s, size_t len, const char *expected) {
  char *got = hss_sign_escape(s, len);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, expected);
  free(got);
}

/* The Authorization value of r into out (512 bytes); asserts success. */
static void sign_ok(const hss_sign_request_t *r, char out[512]) {
  ck_assert_int_eq(hss_sign_authorization(r, out, 512), 0);
}

/* ---- vectors ------------------------------------------------------------ */

START_TEST(test_guide_canonical_request) {
  hss_sign_request_t r = guide_request();
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  ck_assert_str_eq(cr, "GET\n" GUIDE_PATH "\n" GUIDE_QUERY "\n"
                       "content-type:application/json\n"
                       "host:service.region.example.com\n"
                       "x-sdk-date:20191115T033655Z\n"
                       "\n"
                       "content-type;host;x-sdk-date\n" EMPTY_SHA256);
  char hex[65];
  sha256_hex(cr, hex);
  ck_assert_str_eq(hex, GUIDE_CR_SHA256);
  free(cr);
}
END_TEST

START_TEST(test_guide_authorization) {
  hss_sign_request_t r = guide_request();
  char out[512];
  sign_ok(&r, out);
  ck_assert_str_eq(out, GUIDE_AUTH);
}
END_TEST

/* The Go SDK vector signs X-Sdk-Date only (its SignedHeaders is
 * "x-sdk-date"): the host is not a signed header there. */
START_TEST(test_go_sdk_vector) {
  const hss_sign_header_t headers[] = {{"X-Sdk-Date", "20060102T150405Z"}};
  hss_sign_request_t r = {
      .method = "GET",
      .path = "/path",
      .query = "limit=1",
      .headers = headers,
      .headers_num = 1,
      .access_key = GO_AK,
      .secret_key = GO_SK,
  };
  char out[512];
  sign_ok(&r, out);
  ck_assert_str_eq(out, "SDK-HMAC-SHA256 Access=AccessKey, "
                        "SignedHeaders=x-sdk-date, Signature=" GO_SIG);
  /* Signing the host too gives another signature (openssl-computed). */
  const hss_sign_header_t with_host[] = {{"X-Sdk-Date", "20060102T150405Z"},
                                         {"Host", "example.huaweicloud.com"}};
  r.headers = with_host;
  r.headers_num = 2;
  sign_ok(&r, out);
  ck_assert_str_eq(out, "SDK-HMAC-SHA256 Access=AccessKey, "
                        "SignedHeaders=host;x-sdk-date, Signature="
                        "7eb88c06474c7197e670e0ae61651746"
                        "453587eb5fad98074266578511cf3c01");
}
END_TEST

/* ---- percent-encoding and the canonical query --------------------------- */

START_TEST(test_escape_rules) {
  assert_escape("AZaz09-_.~", 10, "AZaz09-_.~");
  assert_escape(" /?&=+*#%", 9, "%20%2F%3F%26%3D%2B%2A%23%25");
  assert_escape("\xc3\xa9", 2, "%C3%A9");
  assert_escape("a\0b", 3, "a%00b");
  assert_escape("\xff", 1, "%FF");
  assert_escape("", 0, "");
  assert_escape(NULL, 0, "");
  ck_assert_ptr_null(hss_sign_escape(NULL, 1));
}
END_TEST

START_TEST(test_query_reserved_characters) {
  assert_query("q=a%20b", "q=a%20b");
  assert_query("q=a b", "q=a%20b");
  assert_query("path=%2Ftmp%2F123", "path=%2Ftmp%2F123");
  assert_query("path=/tmp/123", "path=%2Ftmp%2F123");
  assert_query("q=%3F%26%3D", "q=%3F%26%3D");
  assert_query("q=a?b", "q=a%3Fb");
  assert_query("q=a=b=c", "q=a%3Db%3Dc");
  assert_query("q=%2B", "q=%2B");
  assert_query("q=a+b", "q=a%2Bb"); /* '+' is a plus, not a space */
  assert_query("q=*~", "q=%2A~");
  assert_query("q=%7E%2a", "q=~%2A");
  assert_query("q=100%", "q=100%25"); /* a lone '%' is literal */
  assert_query("q=%zz", "q=%25zz");
  assert_query("q=%00", "q=%00");
  /* The Go SDK's own canonical query test. */
  assert_query("limit=1&enable=true&test=%E4%B8%80%20(%26%3D%3F!%23%25.*)"
               "&path=%2Ftmp%2F123&multi=3&multi=1&multi=2",
               "enable=true&limit=1&multi=1&multi=2&multi=3"
               "&path=%2Ftmp%2F123"
               "&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29");
}
END_TEST

START_TEST(test_query_utf8) {
  assert_query("name=%C3%A9", "name=%C3%A9");
  assert_query("name=\xc3\xa9", "name=%C3%A9");
  assert_query("%c3%a9=1", "%C3%A9=1");
}
END_TEST

START_TEST(test_query_repeated_keys) {
  assert_query("a=2&a=1", "a=1&a=2");
  assert_query("a=1&a=1", "a=1&a=1");
  assert_query("a=b&a=&a=a", "a=&a=a&a=b");
}
END_TEST

START_TEST(test_query_sorted_by_key) {
  assert_query("b=1&a=2", "a=2&b=1");
  assert_query("B=1&a=2", "B=1&a=2"); /* bytes order; case is kept */
  assert_query("ab=1&a=2", "a=2&ab=1");
  /* Sorted on the decoded key: "a." < "a/" although "a%2F" < "a.". */
  assert_query("a%2F=1&a.=2", "a.=2&a%2F=1");
}
END_TEST

START_TEST(test_query_key_without_value) {
  assert_query("flag", "flag=");
  assert_query("flag&a=1", "a=1&flag=");
  assert_query("a=", "a=");
  assert_query("=v&a=1", "a=1");  /* empty key skipped */
  assert_query("&&a=1&&", "a=1"); /* empty parts skipped */
}
END_TEST

START_TEST(test_query_empty) {
  assert_query(NULL, "");
  assert_query("", "");
  assert_query("&", "");
  assert_query("=", "");
  hss_sign_request_t r = guide_request();
  r.query = NULL;
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  ck_assert_str_eq(line_of(cr, 2), "");
  free(cr);
}
END_TEST

/* ---- the canonical URI -------------------------------------------------- */

START_TEST(test_path_trailing_slash) {
  ck_assert_str_eq(uri_of("/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"),
                   GUIDE_PATH);
  ck_assert_str_eq(uri_of(GUIDE_PATH), GUIDE_PATH);
  ck_assert_str_eq(uri_of("/v5/abc/image/pay-per-scan/statistics"),
                   "/v5/abc/image/pay-per-scan/statistics/");
  /* So both sign alike. */
  char with[512], without[512];
  hss_sign_request_t r = guide_request();
  sign_ok(&r, with);
  r.path = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs";
  sign_ok(&r, without);
  ck_assert_str_eq(with, without);
  ck_assert_str_eq(without, GUIDE_AUTH);
}
END_TEST

START_TEST(test_path_encoding) {
  ck_assert_str_eq(uri_of("/a b/c"), "/a%20b/c/");
  ck_assert_str_eq(uri_of("/a%20b/c"), "/a%20b/c/"); /* decoded, re-encoded */
  ck_assert_str_eq(uri_of("/%7Eu/x%2a"), "/~u/x%2A/");
  ck_assert_str_eq(uri_of("/\xc3\xa9t\xc3\xa9"), "/%C3%A9t%C3%A9/");
  ck_assert_str_eq(uri_of("/%C3%A9t%C3%A9"), "/%C3%A9t%C3%A9/");
  ck_assert_str_eq(uri_of("/a:b@c+d"), "/a%3Ab%40c%2Bd/");
  ck_assert_str_eq(uri_of("/100%"), "/100%25/");
  ck_assert_str_eq(uri_of("/a%2Fb"), "/a/b/"); /* as the SDKs: a separator */
  ck_assert_str_eq(uri_of("/a//b"), "/a//b/");
  ck_assert_str_eq(uri_of("/"), "/");
  ck_assert_str_eq(uri_of(""), "/");
  ck_assert_str_eq(uri_of(NULL), "/");
  hss_sign_request_t r = guide_request();
  r.path = "relative/path";
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
}
END_TEST

/* ---- headers ------------------------------------------------------------ */

START_TEST(test_header_case_and_whitespace) {
  const hss_sign_header_t headers[] = {
      {"X-SDK-DATE", "  20191115T033655Z\t"},
      {"Content-Type", "\tapplication/json  "},
      {"HOST", " service.region.example.com"},
  };
  hss_sign_request_t r = guide_request();
  r.headers = headers;
  char out[512];
  sign_ok(&r, out);
  ck_assert_str_eq(out, GUIDE_AUTH);
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  ck_assert_str_eq(line_of(cr, 3), "content-type:application/json");
  ck_assert_str_eq(line_of(cr, 4), "host:service.region.example.com");
  ck_assert_str_eq(line_of(cr, 5), "x-sdk-date:20191115T033655Z");
  ck_assert_str_eq(line_of(cr, 6), "");
  ck_assert_str_eq(line_of(cr, 7), "content-type;host;x-sdk-date");
  free(cr);
}
END_TEST

START_TEST(test_header_inner_whitespace_kept) {
  const hss_sign_header_t headers[] = {
      {"X-Sdk-Date", "20191115T033655Z"},
      {"X-Note", "  a  b  "},
  };
  hss_sign_request_t r = guide_request();
  r.headers = headers;
  r.headers_num = 2;
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  ck_assert_str_eq(line_of(cr, 3), "x-note:a  b");
  ck_assert_str_eq(line_of(cr, 4), "x-sdk-date:20191115T033655Z");
  free(cr);
}
END_TEST

START_TEST(test_header_bad) {
  char out[512];
  hss_sign_request_t r = guide_request();
  const hss_sign_header_t dup[] = {
      {"Host", "a"}, {"host", "b"}, {"x-sdk-date", "20191115T033655Z"}};
  r.headers = dup;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  ck_assert_str_eq(out, "");
  const hss_sign_header_t crlf[] = {{"Host", "a\r\nX-Evil: 1"},
                                    {"x-sdk-date", "20191115T033655Z"}};
  r.headers = crlf;
  r.headers_num = 2;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  const hss_sign_header_t bad_name[] = {{"Bad Name", "a"},
                                        {"x-sdk-date", "20191115T033655Z"}};
  r.headers = bad_name;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  const hss_sign_header_t colon[] = {{"host:", "a"},
                                     {"x-sdk-date", "20191115T033655Z"}};
  r.headers = colon;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  const hss_sign_header_t empty_name[] = {{"", "a"},
                                          {"x-sdk-date", "20191115T033655Z"}};
  r.headers = empty_name;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  const hss_sign_header_t null_value[] = {{"host", NULL},
                                          {"x-sdk-date", "20191115T033655Z"}};
  r.headers = null_value;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
}
END_TEST

/* ---- payload hash ------------------------------------------------------- */

START_TEST(test_empty_body_hash) {
  hss_sign_request_t r = guide_request();
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  ck_assert_str_eq(line_of(cr, 8), EMPTY_SHA256);
  free(cr);
  /* A non-NULL body of length 0 is the same empty body. */
  r.body = "ignored";
  r.body_len = 0;
  char out[512];
  sign_ok(&r, out);
  ck_assert_str_eq(out, GUIDE_AUTH);
}
END_TEST

START_TEST(test_post_body_hash) {
  static const char body[] = "{\"name\":\"test\",\"id\":1}";
  const hss_sign_header_t headers[] = {
      {"Content-Type", "application/json;charset=utf8"},
      {"X-Sdk-Date", "20200104T090522Z"},
  };
  hss_sign_request_t r = {
      .method = "POST",
      .path = "/v5/p1/image/pay-per-scan/statistics",
      .headers = headers,
      .headers_num = 2,
      .body = body,
      .body_len = strlen(body),
      .access_key = GO_AK,
      .secret_key = GO_SK,
  };
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  /* openssl dgst -sha256 of the body */
  ck_assert_str_eq(line_of(cr, 7), "8ed555081b9961769014bc1182c629bb"
                                   "0fe68d7b01c1fc1caab4dc791f377e8c");
  ck_assert_str_eq(line_of(cr, 0), "POST");
  free(cr);
  char out[512];
  sign_ok(&r, out);
  /* openssl dgst -sha256 -hmac SecretKey of the hand-written string */
  ck_assert_str_eq(out, "SDK-HMAC-SHA256 Access=AccessKey, "
                        "SignedHeaders=content-type;x-sdk-date, Signature="
                        "7ee2d066c044d1bb82acf54fb12c7147"
                        "28e9a908cc25ffa25b254303c8932d4e");
  /* Any change of the body changes the signature. */
  char other[512];
  r.body_len--;
  sign_ok(&r, other);
  ck_assert_str_ne(out, other);
}
END_TEST

/* ---- keys, dates, errors ------------------------------------------------ */

START_TEST(test_wrong_secret_key) {
  hss_sign_request_t r = guide_request();
  r.secret_key = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHd";
  char out[512];
  sign_ok(&r, out);
  ck_assert_str_ne(out, GUIDE_AUTH);
  ck_assert_ptr_null(strstr(out, GUIDE_SIG));
  ck_assert_ptr_nonnull(strstr(out, "Access=" GUIDE_AK ", "));
}
END_TEST

START_TEST(test_sign_date) {
  char buf[17];
  hss_sign_date(0, buf);
  ck_assert_str_eq(buf, "19700101T000000Z");
  hss_sign_date(1578128722, buf);
  ck_assert_str_eq(buf, "20200104T090522Z");
  hss_sign_date(1136214245, buf);
  ck_assert_str_eq(buf, "20060102T150405Z");
  hss_sign_date(951782400, buf); /* a leap day */
  ck_assert_str_eq(buf, "20000229T000000Z");
  hss_sign_date(4102444800LL, buf);
  ck_assert_str_eq(buf, "21000101T000000Z");
  hss_sign_date(-1, buf);
  ck_assert_str_eq(buf, "19691231T235959Z");
  hss_sign_date(INT64_MAX, buf);
  ck_assert_str_eq(buf, "99991231T235959Z");
  hss_sign_date(INT64_MIN, buf);
  ck_assert_str_eq(buf, "00000101T000000Z");
}
END_TEST

START_TEST(test_output_too_small) {
  hss_sign_request_t r = guide_request();
  size_t need = strlen(GUIDE_AUTH) + 1;
  char out[512];
  memset(out, 'x', sizeof(out));
  ck_assert_int_eq(hss_sign_authorization(&r, out, need - 1), -1);
  ck_assert_str_eq(out, "");
  ck_assert_int_eq(hss_sign_authorization(&r, out, 1), -1);
  ck_assert_int_eq(hss_sign_authorization(&r, out, 0), -1);
  ck_assert_int_eq(hss_sign_authorization(&r, NULL, 512), -1);
  ck_assert_int_eq(hss_sign_authorization(&r, out, need), 0);
  ck_assert_str_eq(out, GUIDE_AUTH);
}
END_TEST

START_TEST(test_missing_date) {
  char out[512];
  hss_sign_request_t r = guide_request();
  r.headers_num = 2; /* content-type and host only */
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  ck_assert_str_eq(out, "");
  const hss_sign_header_t bad_date[] = {{"X-Sdk-Date", "2019-11-15 03:36:55"}};
  r.headers = bad_date;
  r.headers_num = 1;
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  const hss_sign_header_t no_z[] = {{"X-Sdk-Date", "20191115T033655"}};
  r.headers = no_z;
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  r.headers = NULL;
  r.headers_num = 0;
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
}
END_TEST

START_TEST(test_bad_input) {
  char out[512];
  ck_assert_ptr_null(hss_sign_canonical_request(NULL));
  ck_assert_int_eq(hss_sign_authorization(NULL, out, sizeof(out)), -1);
  hss_sign_request_t r = guide_request();
  r.method = "get";
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  r.method = "";
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  r.method = NULL;
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  r = guide_request();
  r.body = NULL;
  r.body_len = 4;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  r = guide_request();
  r.headers = NULL;
  ck_assert_ptr_null(hss_sign_canonical_request(&r));
  r = guide_request();
  r.access_key = "";
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  r.access_key = NULL;
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  r.access_key = "AK, Signature=forged";
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  r = guide_request();
  r.secret_key = "";
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  r.secret_key = NULL;
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), -1);
  ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_no_headers_canonical_request) {
  hss_sign_request_t r = {.method = "GET", .path = "/x"};
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  /* As the SDKs: the joined (empty) header list plus "\n". */
  ck_assert_str_eq(cr, "GET\n/x/\n\n\n\n\n" EMPTY_SHA256);
  free(cr);
}
END_TEST

static Suite *signer_suite(void) {
  Suite *s = suite_create("signer");
  TCase *vec = tcase_create("vectors");
  tcase_set_timeout(vec, 60);
  tcase_add_test(vec, test_guide_canonical_request);
  tcase_add_test(vec, test_guide_authorization);
  tcase_add_test(vec, test_go_sdk_vector);
  suite_add_tcase(s, vec);
  TCase *enc = tcase_create("encoding");
  tcase_set_timeout(enc, 60);
  tcase_add_test(enc, test_escape_rules);
  tcase_add_test(enc, test_query_reserved_characters);
  tcase_add_test(enc, test_query_utf8);
  tcase_add_test(enc, test_query_repeated_keys);
  tcase_add_test(enc, test_query_sorted_by_key);
  tcase_add_test(enc, test_query_key_without_value);
  tcase_add_test(enc, test_query_empty);
  tcase_add_test(enc, test_path_trailing_slash);
  tcase_add_test(enc, test_path_encoding);
  suite_add_tcase(s, enc);
  TCase *req = tcase_create("request");
  tcase_set_timeout(req, 60);
  tcase_add_test(req, test_header_case_and_whitespace);
  tcase_add_test(req, test_header_inner_whitespace_kept);
  tcase_add_test(req, test_header_bad);
  tcase_add_test(req, test_empty_body_hash);
  tcase_add_test(req, test_post_body_hash);
  tcase_add_test(req, test_no_headers_canonical_request);
  suite_add_tcase(s, req);
  TCase *err = tcase_create("errors");
  tcase_set_timeout(err, 60);
  tcase_add_test(err, test_wrong_secret_key);
  tcase_add_test(err, test_sign_date);
  tcase_add_test(err, test_output_too_small);
  tcase_add_test(err, test_missing_date);
  tcase_add_test(err, test_bad_input);
  suite_add_tcase(s, err);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(signer_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

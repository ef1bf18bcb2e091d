/* test_aksk.c - unit tests of aksk.c: the signed header list of a
 * statistics GET (hss_aksk_stats_headers) and the ECS metadata service's
 * temporary credentials (hss_parse_temp_creds, hss_temp_creds_clear).
 *
 * The signature of each header list is recomputed here from the header
 * values: the canonical request is checked against hand-written text, its
 * SHA-256 and the HMAC-SHA256 of the string to sign are computed with
 * libcrypto directly, and hss_sign_authorization() must agree. For the
 * fixed inputs below (SIG_PERMANENT, SIG_TEMPORARY) the signatures were
 * computed independently at development time with
 *   openssl dgst -sha256 canonical_request.txt
 *   openssl dgst -sha256 -hmac "$SK" string_to_sign.txt
 * on the canonical requests spelt out in fixed_canonical() and hard-coded,
 * so the test does not only compare the code with itself. */
#include "unit.h"

#include <check.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aksk.h"
#include "request.h"
#include "signer.h"

#define ERRLEN 512
#define BASE "https://hss.cn-north-4.myhuaweicloud.com"
#define STATS "/image/pay-per-scan/statistics"
#define URL_EPS BASE "/v5/p1" STATS "?enterprise_project_id=all_granted_eps"

#define EMPTY_SHA256                                                           \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The fixed input: 2025-12-04T06:00:00Z, project p1. */
#define NOW 1764828000LL
#define NOW_DATE "20251204T060000Z"
#define AK "AK"
#define SK "sk-UNIT-s3cr3t-aksk-0001"  /* never in an error */
#define ST "st-UNIT-s3cr3t-token-0002" /* never in an error */

/* SHA-256 of the canonical requests and the signatures, from openssl. */
#define CR_SHA256_PERMANENT                                                    \
  "4d13dc4d6d28bc7c6e0c41a0f899996ebf33ed876256fe25af9d892a18d914f5"
#define SIG_PERMANENT                                                          \
  "6373d455a91cd6944cc9a8e19096e00e0fbf2855964f5efddc16e619dc060cd1"
#define CR_SHA256_TEMPORARY                                                    \
  "1574f67749f25977d187b1f6dfcc97f35e1f47809ad671bf4408b24a5206bd34"
#define SIG_TEMPORARY                                                          \
  "179313b834d425eaef8ceb4296574e5aae65d2649ad67bd89b4f4140a9682c65"

#define AUTH_PREFIX_PERMANENT                                                  \
  "SDK-HMAC-SHA256 Access=" AK                                                 \
  ", SignedHeaders=host;x-project-id;x-sdk-date, Signature="
#define AUTH_PREFIX_TEMPORARY                                                  \
  "SDK-HMAC-SHA256 Access=" AK                                                 \
  ", SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature="

/* Secrets of the temporary-credential tests: never in an error. */
#define MD_AK "MDAKEXAMPLE0000001"
#define MD_SK "md-SK-s3cr3t-0003"
#define MD_ST "md-ST-s3cr3t-0004"
#define MD_EXPIRES "2026-12-04T06:00:00.000000Z"
#define MD_EXPIRES_UNIX 1796364000LL

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

/* Lower-hex HMAC-SHA256 of msg under key, computed here with libcrypto. */
static void hmac_hex(const char *key, const char *msg, char hex[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)strlen(key),
                             (const unsigned char *)msg, strlen(msg), md,
                             &len));
  ck_assert_uint_eq(len, 32);
  for (unsigned int i = 0; i < len; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Number of lines "name: ..." in list (name compared case-insensitively). */
static int header_count(const struct curl_slist *list, const char *name) {
  size_t n = strlen(name);
  int count = 0;
  for (; list != NULL; list = list->next)
    if (strncasecmp(list->data, name, n) == 0 && list->data[n] == ':')
      count++;
  return count;
}

/* The value of the single header name in list (after ": "); fails the test
 * when it is missing or repeated. */
static const char *header_value(const struct curl_slist *list,
                                const char *name) {
  ck_assert_msg(header_count(list, name) == 1, "header %s: %d times", name,
                header_count(list, name));
  size_t n = strlen(name);
  for (; list != NULL; list = list->next)
    if (strncasecmp(list->data, name, n) == 0 && list->data[n] == ':') {
      ck_assert_msg(list->data[n + 1] == ' ', "no space after %s:", name);
      return list->data + n + 2;
    }
  return NULL;
}

/* True when some line of list contains needle. */
static bool list_contains(const struct curl_slist *list, const char *needle) {
  for (; list != NULL; list = list->next)
    if (strstr(list->data, needle) != NULL)
      return true;
  return false;
}

/* The headers of url; asserts success and an empty-free err. */
static struct curl_slist *headers_ok(const char *url, const char *project_id,
                                     const char *security_token) {
  char err[ERRLEN] = "";
  struct curl_slist *list = hss_aksk_stats_headers(
      url, project_id, AK, SK, security_token, NOW, err, sizeof(err));
  ck_assert_msg(list != NULL, "hss_aksk_stats_headers(%s): %s", url, err);
  return list;
}

/* The path (without query) and the query (or NULL) of url, as written
 * (the URLs of these tests are already encoded). */
static void split_url(const char *url, char *path, size_t pathlen, char *query,
                      size_t querylen, bool *has_query) {
  const char *p = strstr(url, "://");
  ck_assert_ptr_nonnull(p);
  p = strchr(p + 3, '/');
  ck_assert_ptr_nonnull(p);
  const char *q = strchr(p, '?');
  size_t plen = q ? (size_t)(q - p) : strlen(p);
  ck_assert_uint_lt(plen, pathlen);
  memcpy(path, p, plen);
  path[plen] = '\0';
  *has_query = q != NULL;
  query[0] = '\0';
  if (q != NULL) {
    ck_assert_uint_lt(strlen(q + 1), querylen);
    snprintf(query, querylen, "%s", q + 1);
  }
}

/* Recomputes the signature of list (the headers of a GET of url) from the
 * values in the list: the canonical request through the signer must hash
 * to the SHA-256 computed here, the HMAC computed here must be the
 * Signature of the Authorization header, and hss_sign_authorization() of
 * the same headers must give that header exactly. Returns the canonical
 * request (malloc'd) for further checks. */
static char *assert_signature(const struct curl_slist *list, const char *url,
                              const char *secret_key) {
  char path[1024], query[1024];
  bool has_query;
  split_url(url, path, sizeof(path), query, sizeof(query), &has_query);
  bool temporary = header_count(list, "X-Security-Token") == 1;
  hss_sign_header_t h[] = {
      {"Host", header_value(list, "Host")},
      {"X-Sdk-Date", header_value(list, "X-Sdk-Date")},
      {"X-Project-Id", header_value(list, "X-Project-Id")},
      {"X-Security-Token",
       temporary ? header_value(list, "X-Security-Token") : NULL},
  };
  hss_sign_request_t r = {
      .method = "GET",
      .path = path,
      .query = has_query ? query : NULL,
      .headers = h,
      .headers_num = temporary ? 4 : 3,
      .access_key = AK,
      .secret_key = secret_key,
  };
  char *cr = hss_sign_canonical_request(&r);
  ck_assert_ptr_nonnull(cr);
  /* Shape of the canonical request: the signed headers line and the hash
   * of the empty body. */
  char tail[256];
  snprintf(tail, sizeof(tail), "\n\n%s\n" EMPTY_SHA256,
           temporary ? "host;x-project-id;x-sdk-date;x-security-token"
                     : "host;x-project-id;x-sdk-date");
  ck_assert_msg(strlen(cr) > strlen(tail) &&
                    strcmp(cr + strlen(cr) - strlen(tail), tail) == 0,
                "canonical request ends wrongly:\n%s", cr);
  ck_assert_msg(strncmp(cr, "GET\n", 4) == 0, "not a GET:\n%s", cr);

  char cr_hash[65], sts[256], sig[65];
  sha256_hex(cr, cr_hash);
  snprintf(sts, sizeof(sts), "SDK-HMAC-SHA256\n%s\n%s", h[1].value, cr_hash);
  hmac_hex(secret_key, sts, sig);

  const char *auth = header_value(list, "Authorization");
  const char *prefix =
      temporary ? AUTH_PREFIX_TEMPORARY : AUTH_PREFIX_PERMANENT;
  ck_assert_msg(strncmp(auth, prefix, strlen(prefix)) == 0, "Authorization: %s",
                auth);
  ck_assert_str_eq(auth + strlen(prefix), sig);

  char out[512];
  ck_assert_int_eq(hss_sign_authorization(&r, out, sizeof(out)), 0);
  ck_assert_str_eq(out, auth);
  return cr;
}

/* ---- hss_aksk_stats_headers ------------------------------------------- */

/* The canonical request of the fixed input, written out by hand. */
static const char *fixed_canonical(bool temporary) {
  return temporary
             ? "GET\n"
               "/v5/p1/image/pay-per-scan/statistics/\n"
               "enterprise_project_id=all_granted_eps\n"
               "host:hss.cn-north-4.myhuaweicloud.com\n"
               "x-project-id:p1\n"
               "x-sdk-date:" NOW_DATE "\n"
               "x-security-token:" ST "\n"
               "\n"
               "host;x-project-id;x-sdk-date;x-security-token\n" EMPTY_SHA256
             : "GET\n"
               "/v5/p1/image/pay-per-scan/statistics/\n"
               "enterprise_project_id=all_granted_eps\n"
               "host:hss.cn-north-4.myhuaweicloud.com\n"
               "x-project-id:p1\n"
               "x-sdk-date:" NOW_DATE "\n"
               "\n"
               "host;x-project-id;x-sdk-date\n" EMPTY_SHA256;
}

START_TEST(test_headers_permanent) {
  struct curl_slist *list = headers_ok(URL_EPS, "p1", NULL);
  ck_assert_str_eq(header_value(list, "Host"),
                   "hss.cn-north-4.myhuaweicloud.com");
  char date[17];
  hss_sign_date(NOW, date);
  ck_assert_str_eq(date, NOW_DATE);
  ck_assert_str_eq(header_value(list, "X-Sdk-Date"), date);
  ck_assert_str_eq(header_value(list, "X-Project-Id"), "p1");
  ck_assert_int_eq(header_count(list, "X-Security-Token"), 0);
  ck_assert_int_eq(header_count(list, "X-Auth-Token"), 0);
  ck_assert_str_eq(header_value(list, "Accept"), "application/json");
  ck_assert_str_eq(header_value(list, "User-Agent"), HSS_USER_AGENT);
  ck_assert_str_eq(header_value(list, "Authorization"),
                   AUTH_PREFIX_PERMANENT SIG_PERMANENT);
  ck_assert(!list_contains(list, SK));

  char *cr = assert_signature(list, URL_EPS, SK);
  ck_assert_str_eq(cr, fixed_canonical(false));
  char hex[65];
  sha256_hex(cr, hex);
  ck_assert_str_eq(hex, CR_SHA256_PERMANENT);
  free(cr);
  hss_headers_free(list);
}
END_TEST

START_TEST(test_headers_temporary) {
  struct curl_slist *list = headers_ok(URL_EPS, "p1", ST);
  ck_assert_str_eq(header_value(list, "Host"),
                   "hss.cn-north-4.myhuaweicloud.com");
  ck_assert_str_eq(header_value(list, "X-Sdk-Date"), NOW_DATE);
  ck_assert_str_eq(header_value(list, "X-Project-Id"), "p1");
  ck_assert_str_eq(header_value(list, "X-Security-Token"), ST);
  ck_assert_str_eq(header_value(list, "Authorization"),
                   AUTH_PREFIX_TEMPORARY SIG_TEMPORARY);
  ck_assert(!list_contains(list, SK));

  char *cr = assert_signature(list, URL_EPS, SK);
  ck_assert_str_eq(cr, fixed_canonical(true));
  char hex[65];
  sha256_hex(cr, hex);
  ck_assert_str_eq(hex, CR_SHA256_TEMPORARY);
  free(cr);
  hss_headers_free(list);
}
END_TEST

/* Another time and project: X-Sdk-Date follows now, and the signature
 * still matches one recomputed from the header values. */
START_TEST(test_headers_other_time) {
  static const int64_t times[] = {0, 1700000000LL, 1764828059LL,
                                  253402300799LL};
  for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++) {
    char err[ERRLEN] = "";
    const char *url = BASE "/v5/0123abcdef" STATS;
    struct curl_slist *list = hss_aksk_stats_headers(
        url, "0123abcdef", AK, SK, NULL, times[i], err, sizeof(err));
    ck_assert_msg(list != NULL, "%s", err);
    char date[17];
    hss_sign_date(times[i], date);
    ck_assert_str_eq(header_value(list, "X-Sdk-Date"), date);
    ck_assert_str_eq(header_value(list, "X-Project-Id"), "0123abcdef");
    free(assert_signature(list, url, SK));
    hss_headers_free(list);
  }
}
END_TEST

/* An explicit port is part of Host (and so of the signature). */
START_TEST(test_headers_port) {
  const char *url =
      "https://127.0.0.1:8443/v5/p1" STATS "?enterprise_project_id=0";
  struct curl_slist *list = headers_ok(url, "p1", NULL);
  ck_assert_str_eq(header_value(list, "Host"), "127.0.0.1:8443");
  char *cr = assert_signature(list, url, SK);
  ck_assert_ptr_nonnull(strstr(cr, "\nhost:127.0.0.1:8443\n"));
  free(cr);
  hss_headers_free(list);
}
END_TEST

START_TEST(test_headers_ipv6) {
  const char *url = "https://[::1]:8443/v5/p1" STATS;
  struct curl_slist *list = headers_ok(url, "p1", ST);
  ck_assert_str_eq(header_value(list, "Host"), "[::1]:8443");
  char *cr = assert_signature(list, url, SK);
  ck_assert_ptr_nonnull(strstr(cr, "\nhost:[::1]:8443\n"));
  /* No query: the query line of the canonical request is empty. */
  ck_assert_ptr_nonnull(strstr(cr, "/statistics/\n\nhost:"));
  free(cr);
  hss_headers_free(list);
}
END_TEST

/* The URL on the wire is already canonical: the query part of
 * hss_stats_url() is its own canonical query, so the gateway, which
 * canonicalises what it receives, signs the same bytes as the plugin. */
START_TEST(test_wire_query_is_canonical) {
  static const struct {
    const char *eps;
    const char *query;
  } cases[] = {
      {"all_granted_eps", "enterprise_project_id=all_granted_eps"},
      {"0", "enterprise_project_id=0"},
      {"a b&c=d/\xc3\xa9+*~",
       "enterprise_project_id=a%20b%26c%3Dd%2F%C3%A9%2B%2A~"},
      {"9f1c-4e2d_x.y", "enterprise_project_id=9f1c-4e2d_x.y"},
      {"%41", "enterprise_project_id=%2541"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    char *url = hss_stats_url(BASE, "p1", cases[i].eps);
    ck_assert_ptr_nonnull(url);
    const char *q = strchr(url, '?');
    ck_assert_ptr_nonnull(q);
    q++;
    ck_assert_str_eq(q, cases[i].query);
    char *canonical = hss_sign_canonical_query(q);
    ck_assert_ptr_nonnull(canonical);
    ck_assert_msg(strcmp(canonical, q) == 0,
                  "eps %zu: wire query \"%s\", canonical \"%s\"", i, q,
                  canonical);
    free(canonical);
    /* And the signed request uses that query. */
    struct curl_slist *list = headers_ok(url, "p1", NULL);
    char *cr = assert_signature(list, url, SK);
    char line[1024];
    snprintf(line, sizeof(line), "/statistics/\n%s\nhost:", q);
    ck_assert_msg(strstr(cr, line) != NULL, "canonical request:\n%s", cr);
    free(cr);
    hss_headers_free(list);
    free(url);
  }
}
END_TEST

/* A bad URL: NULL and an error without any secret. */
START_TEST(test_headers_bad_url) {
  static const char *const urls[] = {"not a url", "", "https://[::1/v5/x",
                                     "://nohost/v5"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++) {
    char err[ERRLEN] = "";
    struct curl_slist *list = hss_aksk_stats_headers(urls[i], "p1", AK, SK, ST,
                                                     NOW, err, sizeof(err));
    ck_assert_msg(list == NULL, "URL \"%s\" accepted", urls[i]);
    ck_assert_msg(err[0] != '\0', "no error for \"%s\"", urls[i]);
    ck_assert_ptr_null(strstr(err, SK));
    ck_assert_ptr_null(strstr(err, ST));
  }
}
END_TEST

/* An unusable access or secret key: NULL, an error without any secret. */
START_TEST(test_headers_bad_keys) {
  static const char *const keys[][2] = {
      {"", SK}, {"A K", SK}, {"A,K", SK}, {AK, ""}};
  for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
    char err[ERRLEN] = "";
    struct curl_slist *list = hss_aksk_stats_headers(
        URL_EPS, "p1", keys[i][0], keys[i][1], ST, NOW, err, sizeof(err));
    ck_assert_msg(list == NULL, "keys %zu accepted", i);
    ck_assert(err[0] != '\0');
    ck_assert_ptr_null(strstr(err, SK));
    ck_assert_ptr_null(strstr(err, ST));
  }
}
END_TEST

/* ---- hss_parse_temp_creds ------------------------------------------------ */

#define CRED_BODY(access, secret, token, expires)                              \
  "{\"credential\":{\"access\":" access ",\"secret\":" secret                  \
  ",\"securitytoken\":" token ",\"expires_at\":" expires "}}"
#define Q(s) "\"" s "\""
#define GOOD_BODY CRED_BODY(Q(MD_AK), Q(MD_SK), Q(MD_ST), Q(MD_EXPIRES))

/* Credentials with earlier values, to check that a failed parse keeps
 * them. */
static hss_temp_creds_t previous(void) {
  hss_temp_creds_t c = {strdup("prev-ak"), strdup("prev-sk"), strdup("prev-st"),
                        42};
  ck_assert(c.access && c.secret && c.security_token);
  return c;
}

START_TEST(test_temp_creds_ok) {
  hss_temp_creds_t c = {0};
  char err[ERRLEN] = "";
  const char *body = GOOD_BODY;
  ck_assert_int_eq(
      hss_parse_temp_creds(body, strlen(body), &c, err, sizeof(err)), 0);
  ck_assert_str_eq(c.access, MD_AK);
  ck_assert_str_eq(c.secret, MD_SK);
  ck_assert_str_eq(c.security_token, MD_ST);
  ck_assert_int_eq(c.expires_at, MD_EXPIRES_UNIX);
  hss_temp_creds_clear(&c);
  ck_assert_ptr_null(c.access);
  ck_assert_ptr_null(c.secret);
  ck_assert_ptr_null(c.security_token);
  ck_assert_int_eq(c.expires_at, 0);
  hss_temp_creds_clear(&c); /* twice is harmless */
}
END_TEST

/* The service's real bodies carry more members; the order does not
 * matter, nor surrounding white space. */
START_TEST(test_temp_creds_extra_members) {
  hss_temp_creds_t c = {0};
  char err[ERRLEN] = "";
  const char *body =
      " {\"credential\": {\"expires_at\": \"2026-12-04T06:00:00Z\", "
      "\"securitytoken\": \"" MD_ST "\", \"secret\": \"" MD_SK "\", "
      "\"access\": \"" MD_AK "\", \"other\": 1}, \"x\": [1, 2]}\n";
  ck_assert_int_eq(
      hss_parse_temp_creds(body, strlen(body), &c, err, sizeof(err)), 0);
  ck_assert_str_eq(c.access, MD_AK);
  ck_assert_int_eq(c.expires_at, MD_EXPIRES_UNIX);
  hss_temp_creds_clear(&c);
}
END_TEST

/* A second parse replaces (and frees) the first values. */
START_TEST(test_temp_creds_replace) {
  hss_temp_creds_t c = previous();
  char err[ERRLEN] = "";
  const char *body = GOOD_BODY;
  ck_assert_int_eq(
      hss_parse_temp_creds(body, strlen(body), &c, err, sizeof(err)), 0);
  ck_assert_str_eq(c.access, MD_AK);
  ck_assert_str_eq(c.secret, MD_SK);
  ck_assert_int_eq(c.expires_at, MD_EXPIRES_UNIX);
  ck_assert_int_eq(
      hss_parse_temp_creds(body, strlen(body), &c, err, sizeof(err)), 0);
  ck_assert_str_eq(c.security_token, MD_ST);
  hss_temp_creds_clear(&c);
}
END_TEST

/* Asserts that body (len bytes) is refused: -1, an error that holds no
 * secret, and the previous credentials untouched. */
static void assert_temp_creds_bad(const char *body, size_t len) {
  hss_temp_creds_t c = previous();
  hss_temp_creds_t before = c;
  char err[ERRLEN] = "";
  int status = hss_parse_temp_creds(body, len, &c, err, sizeof(err));
  ck_assert_msg(status == -1, "body accepted: %s", body ? body : "(NULL)");
  ck_assert_msg(err[0] != '\0', "no error for: %s", body ? body : "(NULL)");
  ck_assert_msg(strstr(err, MD_SK) == NULL, "secret in error: %s", err);
  ck_assert_msg(strstr(err, MD_ST) == NULL, "token in error: %s", err);
  ck_assert_msg(strstr(err, "prev-") == NULL, "previous value in error: %s",
                err);
  ck_assert_ptr_eq(c.access, before.access);
  ck_assert_ptr_eq(c.secret, before.secret);
  ck_assert_ptr_eq(c.security_token, before.security_token);
  ck_assert_str_eq(c.access, "prev-ak");
  ck_assert_str_eq(c.secret, "prev-sk");
  ck_assert_str_eq(c.security_token, "prev-st");
  ck_assert_int_eq(c.expires_at, 42);
  hss_temp_creds_clear(&c);
}

static void assert_temp_creds_bad_str(const char *body) {
  assert_temp_creds_bad(body, strlen(body));
}

START_TEST(test_temp_creds_missing_members) {
  /* Each member missing in turn. */
  assert_temp_creds_bad_str(
      "{\"credential\":{\"secret\":" Q(MD_SK) ",\"securitytoken\":" Q(
          MD_ST) ",\"expires_at\":" Q(MD_EXPIRES) "}}");
  assert_temp_creds_bad_str(
      "{\"credential\":{\"access\":" Q(MD_AK) ",\"securitytoken\":" Q(
          MD_ST) ",\"expires_at\":" Q(MD_EXPIRES) "}}");
  assert_temp_creds_bad_str("{\"credential\":{\"access\":" Q(
      MD_AK) ",\"secret\":" Q(MD_SK) ",\"expires_at\":" Q(MD_EXPIRES) "}}");
  assert_temp_creds_bad_str("{\"credential\":{\"access\":" Q(
      MD_AK) ",\"secret\":" Q(MD_SK) ",\"securitytoken\":" Q(MD_ST) "}}");
  /* No credential object at all, or an empty one. */
  assert_temp_creds_bad_str(
      "{\"access\":" Q(MD_AK) ",\"secret\":" Q(MD_SK) ",\"securitytoken\":" Q(
          MD_ST) ",\"expires_at\":" Q(MD_EXPIRES) "}");
  assert_temp_creds_bad_str("{\"credential\":{}}");
  assert_temp_creds_bad_str("{}");
  /* Empty strings count as missing. */
  assert_temp_creds_bad_str(
      CRED_BODY(Q(""), Q(MD_SK), Q(MD_ST), Q(MD_EXPIRES)));
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), Q(""), Q(MD_ST), Q(MD_EXPIRES)));
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), Q(MD_SK), Q(""), Q(MD_EXPIRES)));
  assert_temp_creds_bad_str(CRED_BODY(Q(MD_AK), Q(MD_SK), Q(MD_ST), Q("")));
}
END_TEST

START_TEST(test_temp_creds_wrong_types) {
  assert_temp_creds_bad_str(
      CRED_BODY("12345", Q(MD_SK), Q(MD_ST), Q(MD_EXPIRES)));
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), "null", Q(MD_ST), Q(MD_EXPIRES)));
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), Q(MD_SK), "{\"v\":" Q(MD_ST) "}", Q(MD_EXPIRES)));
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), Q(MD_SK), "[" Q(MD_ST) "]", Q(MD_EXPIRES)));
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), Q(MD_SK), Q(MD_ST), "1796364000"));
  assert_temp_creds_bad_str(CRED_BODY(Q(MD_AK), Q(MD_SK), Q(MD_ST), "true"));
  /* expires_at a string, but not a UTC time. */
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), Q(MD_SK), Q(MD_ST), Q("tomorrow")));
  assert_temp_creds_bad_str(
      CRED_BODY(Q(MD_AK), Q(MD_SK), Q(MD_ST), Q("2026-13-04T06:00:00Z")));
  /* credential not an object. */
  assert_temp_creds_bad_str("{\"credential\":\"" MD_SK "\"}");
  assert_temp_creds_bad_str(
      "{\"credential\":[{\"access\":" Q(MD_AK) ",\"secret\":" Q(MD_SK) "}]}");
  assert_temp_creds_bad_str("{\"credential\":null}");
}
END_TEST

START_TEST(test_temp_creds_not_object) {
  assert_temp_creds_bad_str("[" GOOD_BODY "]");
  assert_temp_creds_bad_str("\"" MD_SK "\"");
  assert_temp_creds_bad_str("42");
  assert_temp_creds_bad_str("null");
  assert_temp_creds_bad_str("true");
}
END_TEST

START_TEST(test_temp_creds_invalid_json) {
  const char *good = GOOD_BODY;
  /* Truncated anywhere. */
  for (size_t len = 1; len < strlen(good); len++)
    assert_temp_creds_bad(good, len);
  assert_temp_creds_bad_str(
      "{\"credential\":{\"access\":" Q(MD_AK) ",\"secret\":" Q(MD_SK) ",}}");
  assert_temp_creds_bad_str("{credential: {access: " MD_AK "}}");
  assert_temp_creds_bad_str("<html>" MD_SK "</html>");
  assert_temp_creds_bad_str(GOOD_BODY "garbage " MD_SK);
  assert_temp_creds_bad_str(GOOD_BODY GOOD_BODY);
  /* Too deep. */
  char deep[256];
  size_t n = 0;
  for (int i = 0; i < 40; i++)
    deep[n++] = '[';
  for (int i = 0; i < 40; i++)
    deep[n++] = ']';
  deep[n] = '\0';
  assert_temp_creds_bad_str(deep);
}
END_TEST

START_TEST(test_temp_creds_empty) {
  assert_temp_creds_bad("", 0);
  assert_temp_creds_bad(NULL, 0);
  assert_temp_creds_bad(GOOD_BODY, 0);
  assert_temp_creds_bad_str(" \n");
}
END_TEST

/* ---- the suite ------------------------------------------------------------
 */

static Suite *aksk_suite(void) {
  Suite *s = suite_create("aksk");
  TCase *hdr = tcase_create("headers");
  tcase_set_timeout(hdr, 60);
  tcase_add_test(hdr, test_headers_permanent);
  tcase_add_test(hdr, test_headers_temporary);
  tcase_add_test(hdr, test_headers_other_time);
  tcase_add_test(hdr, test_headers_port);
  tcase_add_test(hdr, test_headers_ipv6);
  tcase_add_test(hdr, test_wire_query_is_canonical);
  tcase_add_test(hdr, test_headers_bad_url);
  tcase_add_test(hdr, test_headers_bad_keys);
  suite_add_tcase(s, hdr);
  TCase *md = tcase_create("temp_creds");
  tcase_set_timeout(md, 60);
  tcase_add_test(md, test_temp_creds_ok);
  tcase_add_test(md, test_temp_creds_extra_members);
  tcase_add_test(md, test_temp_creds_replace);
  tcase_add_test(md, test_temp_creds_missing_members);
  tcase_add_test(md, test_temp_creds_wrong_types);
  tcase_add_test(md, test_temp_creds_not_object);
  tcase_add_test(md, test_temp_creds_invalid_json);
  tcase_add_test(md, test_temp_creds_empty);
  suite_add_tcase(s, md);
  return s;
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  SRunner *sr = srunner_create(aksk_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  curl_global_cleanup();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

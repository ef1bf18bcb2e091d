/* aksk.c - signed statistics requests and metadata credentials. */
#include "aksk.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "request.h"
#include "secret.h"
#include "signer.h"

#define AUTH_MAX 512

/* The parts of a URL that are signed. Strings are curl-owned. */
typedef struct {
  char *host; /* host, or [v6] */
  char *port; /* NULL when the URL has none */
  char *path;
  char *query; /* NULL when none */
} url_parts_t;

/* Splits url into its signed parts. Returns 0 or -1. */
static int url_split(const char *url, url_parts_t *p) {
  CURLU *u = curl_url();
  memset(p, 0, sizeof(*p));
  if (u == NULL)
    return -1;
  int status = -1;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &p->host, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PATH, &p->path, 0) == CURLUE_OK) {
    curl_url_get(u, CURLUPART_PORT, &p->port, 0);
    curl_url_get(u, CURLUPART_QUERY, &p->query, 0);
    status = 0;
  }
  curl_url_cleanup(u);
  return status;
}

static void url_parts_free(url_parts_t *p) {
  curl_free(p->host);
  curl_free(p->port);
  curl_free(p->path);
  curl_free(p->query);
}

struct curl_slist *
hss_aksk_stats_headers(const char *url, const char *project_id,
                       const char *access_key, const char *secret_key,
                       const char *security_token, int64_t now, char *err,
                       size_t errlen) {
  url_parts_t u;
  char host[300], date[17], auth[AUTH_MAX];
  struct curl_slist *list = NULL;
  if (url_split(url, &u) != 0) {
    snprintf(err, errlen, "cannot parse the request URL");
    url_parts_free(&u);
    return NULL;
  }
  int n = snprintf(host, sizeof(host), "%s%s%s", u.host, u.port ? ":" : "",
                   u.port ? u.port : "");
  if (n < 0 || (size_t)n >= sizeof(host)) {
    snprintf(err, errlen, "the request's host name is too long to sign");
    url_parts_free(&u);
    return NULL;
  }
  hss_sign_date(now, date);
  hss_sign_header_t signed_headers[] = {
      {"Host", host},
      {HSS_SIGN_DATE_HEADER, date},
      {"X-Project-Id", project_id},
      {"X-Security-Token", security_token},
  };
  hss_sign_request_t req = {
      .method = "GET",
      .path = u.path,
      .query = u.query,
      .headers = signed_headers,
      .headers_num = security_token ? 4 : 3,
      .access_key = access_key,
      .secret_key = secret_key,
  };
  if (hss_sign_authorization(&req, auth, sizeof(auth)) != 0) {
    snprintf(err, errlen, "cannot sign the request (check AccessKey)");
    url_parts_free(&u);
    return NULL;
  }
  int failed = 0;
  failed |= hss_header_append(&list, "Accept", "application/json");
  failed |= hss_header_append(&list, "User-Agent", HSS_USER_AGENT);
  for (size_t i = 0; i < req.headers_num; i++)
    failed |= hss_header_append(&list, signed_headers[i].name,
                                signed_headers[i].value);
  failed |= hss_header_append(&list, "Authorization", auth);
  OPENSSL_cleanse(auth, sizeof(auth));
  url_parts_free(&u);
  if (failed) {
    snprintf(err, errlen, "out of memory");
    hss_headers_free(list);
    return NULL;
  }
  return list;
}

/* The non-empty string member key of obj, or NULL. */
static const char *string_member(json_object *obj, const char *key) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(obj, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  const char *s = json_object_get_string(v);
  return s != NULL && s[0] != '\0' ? s : NULL;
}

int hss_parse_temp_creds(const char *body, size_t len, hss_temp_creds_t *out,
                         char *err, size_t errlen) {
  if (body == NULL || len == 0 || len > HSS_MAX_BODY) {
    snprintf(err, errlen, "empty or oversized body");
    return -1;
  }
  json_tokener *tok = json_tokener_new_ex(HSS_MAX_JSON_DEPTH);
  json_object *root = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
  /* Only white space may follow the object: trailing data is invalid. */
  for (size_t i = root ? json_tokener_get_parse_end(tok) : len; i < len; i++)
    if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' &&
        body[i] != '\n') {
      json_object_put(root);
      root = NULL;
      break;
    }
  json_tokener_free(tok);
  json_object *cred = NULL;
  if (root == NULL || !json_object_is_type(root, json_type_object) ||
      !json_object_object_get_ex(root, "credential", &cred) ||
      !json_object_is_type(cred, json_type_object)) {
    snprintf(err, errlen, "not a JSON object with a \"credential\" object");
    json_object_put(root);
    return -1;
  }
  const char *access = string_member(cred, "access");
  const char *secret = string_member(cred, "secret");
  const char *token = string_member(cred, "securitytoken");
  const char *expires = string_member(cred, "expires_at");
  int64_t when = 0;
  if (access == NULL || secret == NULL || token == NULL || expires == NULL) {
    snprintf(err, errlen,
             "\"credential\" lacks access, secret, "
             "securitytoken or expires_at");
  } else if (hss_parse_utc_time(expires, &when) != 0) {
    snprintf(err, errlen, "\"credential.expires_at\" is not a UTC time");
  } else {
    hss_temp_creds_t c = {strdup(access), strdup(secret), strdup(token), when};
    if (c.access && c.secret && c.security_token) {
      hss_temp_creds_clear(out);
      *out = c;
      json_object_put(root);
      return 0;
    }
    hss_temp_creds_clear(&c);
    snprintf(err, errlen, "out of memory");
  }
  json_object_put(root);
  return -1;
}

void hss_temp_creds_clear(hss_temp_creds_t *c) {
  hss_wipe_free(c->access);
  hss_wipe_free(c->secret);
  hss_wipe_free(c->security_token);
  memset(c, 0, sizeof(*c));
}

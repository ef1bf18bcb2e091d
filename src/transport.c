/* transport.c - libcurl easy handles set up the way a credential-carrying
 * monitoring client must: verified TLS, no redirects, bounded in time and
 * size. */
#include "transport.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "request.h"
#include "secret.h"

/* Appends received body bytes; aborts the transfer past max_body. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp) {
  hss_xfer_t *x = userp;
  size_t n = size * nmemb;
  if (x->body_len + n > x->max_body) {
    x->too_big = true;
    return 0; /* CURLE_WRITE_ERROR */
  }
  if (x->body_len + n + 1 > x->body_cap) {
    size_t cap = x->body_cap ? x->body_cap : 4096;
    while (cap < x->body_len + n + 1)
      cap *= 2;
    char *grown = realloc(x->body, cap);
    if (grown == NULL)
      return 0;
    x->body = grown;
    x->body_cap = cap;
  }
  memcpy(x->body + x->body_len, data, n);
  x->body_len += n;
  x->body[x->body_len] = '\0';
  return n;
}

/* Copies a header value (trimmed) into dst when line is "name: value". */
static bool header_value(const char *line, size_t len, const char *name,
                         char *dst, size_t dstlen) {
  size_t nlen = strlen(name);
  if (len <= nlen + 1 || strncasecmp(line, name, nlen) != 0 ||
      line[nlen] != ':')
    return false;
  const char *v = line + nlen + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  size_t n = (size_t)(end - v);
  if (n >= dstlen)
    n = dstlen - 1;
  for (size_t i = 0; i < n; i++)
    dst[i] = (v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
  dst[n] = '\0';
  return true;
}

/* Keeps the response headers the plugin uses. A new status line (after a
 * 1xx) starts over. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userp) {
  hss_xfer_t *x = userp;
  size_t n = size * nmemb;
  if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    x->request_id[0] = x->retry_after[0] = '\0';
    return n;
  }
  header_value(data, n, "X-Request-Id", x->request_id, sizeof(x->request_id));
  header_value(data, n, "Retry-After", x->retry_after, sizeof(x->retry_after));
  size_t tlen = strlen("X-Subject-Token");
  if (n > tlen + 1 && strncasecmp(data, "X-Subject-Token:", tlen + 1) == 0 &&
      n < 65536) {
    char *token = malloc(n);
    if (token != NULL && header_value(data, n, "X-Subject-Token", token, n)) {
      hss_wipe_free(x->subject_token);
      x->subject_token = token;
    } else
      free(token);
  }
  return n;
}

bool hss_ca_file_only(const char *cacert) {
  if (cacert != NULL)
    return true;
  CURL *e = curl_easy_init();
  char *bundle = NULL;
  bool ok = e != NULL &&
            curl_easy_getinfo(e, CURLINFO_CAINFO, &bundle) == CURLE_OK &&
            bundle != NULL && access(bundle, R_OK) == 0;
  curl_easy_cleanup(e);
  return ok;
}

/* Applies the options shared by every request. Returns 0 or -1. */
static int set_options(CURL *e, hss_xfer_t *x, const char *url,
                       const hss_xfer_opts_t *o) {
  long connect_ms = o->connect_timeout_ms < o->timeout_ms
                        ? o->connect_timeout_ms
                        : o->timeout_ms;
  CURLcode rc = CURLE_OK;
  rc |= curl_easy_setopt(e, CURLOPT_URL, url);
  rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
                         o->allow_http ? "http,https" : "https");
  rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
  rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->verify_peer ? 1L : 0L);
  rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->verify_host ? 2L : 0L);
  if (o->cacert != NULL)
    rc |= curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
  if (o->ca_file_only) {
    rc |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    rc |= curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, HSS_CA_CACHE_SECONDS);
  }
  if (o->proxy != NULL)
    rc |= curl_easy_setopt(e, CURLOPT_PROXY, o->proxy);
  if (o->share != NULL)
    rc |= curl_easy_setopt(e, CURLOPT_SHARE, o->share);
  rc |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  /* HTTP/2 (when offered by ALPN; Huawei Cloud's API Gateway can): wait for
   * a connection being set up to the same host rather than open another, so
   * that every request to it shares one connection and one TLS handshake. */
  rc |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  if (x->post_body != NULL) {
    rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->post_body);
    rc |=
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(x->post_body));
  }
  return rc == CURLE_OK ? 0 : -1;
}

hss_xfer_t *hss_xfer_new(const char *url, struct curl_slist *headers,
                         char *post_body, const hss_xfer_opts_t *opts,
                         void *owner) {
  hss_xfer_t *x = calloc(1, sizeof(*x));
  if (x == NULL) {
    hss_headers_free(headers);
    hss_wipe_free(post_body);
    return NULL;
  }
  x->headers = headers;
  x->post_body = post_body;
  x->max_body = opts->max_body;
  x->owner = owner;
  x->easy = curl_easy_init();
  if (x->easy == NULL || set_options(x->easy, x, url, opts) != 0) {
    hss_xfer_free(x);
    return NULL;
  }
  return x;
}

void hss_xfer_finish(hss_xfer_t *x, CURLcode result) {
  x->result = result;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
}

void hss_xfer_describe(const hss_xfer_t *x, char *buf, size_t len) {
  if (x->too_big) {
    snprintf(buf, len, "response body is larger than %zu bytes; refused",
             x->max_body);
    return;
  }
  const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
  switch (x->result) {
  case CURLE_OPERATION_TIMEDOUT:
    snprintf(buf, len, "timed out (%s)", detail);
    break;
  case CURLE_COULDNT_CONNECT:
    snprintf(buf, len, "cannot connect (%s)", detail);
    break;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    snprintf(buf, len, "cannot resolve host name (%s)", detail);
    break;
  case CURLE_PEER_FAILED_VERIFICATION:
    snprintf(buf, len, "TLS certificate verification failed (%s)", detail);
    break;
  case CURLE_SSL_CONNECT_ERROR:
    snprintf(buf, len, "TLS handshake failed (%s)", detail);
    break;
  case CURLE_UNSUPPORTED_PROTOCOL:
    snprintf(buf, len, "protocol refused (%s)", detail);
    break;
  default:
    snprintf(buf, len, "transfer failed (%s)", detail);
    break;
  }
}

void hss_xfer_free(hss_xfer_t *x) {
  if (x == NULL)
    return;
  if (x->easy != NULL)
    curl_easy_cleanup(x->easy);
  hss_headers_free(x->headers);
  hss_wipe_free(x->post_body);
  hss_wipe_free(x->subject_token);
  free(x->body);
  free(x);
}

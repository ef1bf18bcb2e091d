/* transport.h - one HTTP exchange on a libcurl easy handle: TLS and
 * timeout options, no redirects, a capped response body, and the response
 * headers the plugin needs. The poller drives many of them through one
 * multi handle. */
#ifndef HSS_TRANSPORT_H
#define HSS_TRANSPORT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

/* How long libcurl may keep a parsed CA store for new connections: a
 * replaced CACert file is trusted by new connections within this time. */
#define HSS_CA_CACHE_SECONDS 300L

typedef struct {
  const char *cacert; /* or NULL for the system store */
  bool ca_file_only;  /* trust cacert, or the built-in bundle, without the CA
                         directory (see hss_ca_file_only) */
  bool verify_peer;
  bool verify_host;
  bool allow_http;   /* AllowInsecure: permit http:// */
  const char *proxy; /* or NULL */
  long timeout_ms;   /* total, including connect */
  long connect_timeout_ms;
  size_t max_body; /* larger responses are aborted */
  CURLSH *share;   /* DNS / TLS session cache, or NULL */
} hss_xfer_opts_t;

typedef struct {
  CURL *easy;
  struct curl_slist *headers; /* owned, wiped on free */
  char *post_body;            /* owned, wiped on free */
  char *body;                 /* response body, NUL-terminated */
  size_t body_len;
  size_t body_cap;
  size_t max_body;
  bool too_big;
  long status; /* HTTP status, 0 when none */
  CURLcode result;
  char request_id[128]; /* X-Request-Id */
  char retry_after[32]; /* Retry-After */
  char *subject_token;  /* X-Subject-Token (IAM), wiped on free */
  char errbuf[CURL_ERROR_SIZE];
  void *owner; /* the poller's job */
} hss_xfer_t;

/* Whether transfers with cacert (NULL: the system store) can trust one CA
 * file alone: cacert, or libcurl's built-in bundle file when it is
 * readable. libcurl keeps the parsed store for new connections only then
 * (not when a CA directory is also set, as Debian's default is), so that a
 * new connection does not re-read every CA certificate. Uses a scratch
 * handle: call it once, not per transfer. */
bool hss_ca_file_only(const char *cacert);

/* Prepares a GET (post_body NULL) or POST to url. Takes ownership of
 * headers and post_body in every case. Returns NULL on failure. */
hss_xfer_t *hss_xfer_new(const char *url, struct curl_slist *headers,
                         char *post_body, const hss_xfer_opts_t *opts,
                         void *owner);

/* Records the result after the multi handle reports the transfer done. */
void hss_xfer_finish(hss_xfer_t *x, CURLcode result);

/* Describes a failed transfer (result != CURLE_OK) for a log line, without
 * secrets: "connection refused", "timed out after 10000 ms", ... */
void hss_xfer_describe(const hss_xfer_t *x, char *buf, size_t len);

/* Frees the handle and everything owned, wiping secrets. */
void hss_xfer_free(hss_xfer_t *x);

#endif

/* aksk.h - AK/SK credentials on a request: the signed header list of a
 * statistics request, and the ECS metadata service's temporary
 * credentials. Pure apart from libcurl's URL parser. */
#ifndef HSS_AKSK_H
#define HSS_AKSK_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/* Temporary credentials from GET {MetadataURL}. */
typedef struct {
  char *access;
  char *secret;         /* never logged */
  char *security_token; /* never logged */
  int64_t expires_at;
} hss_temp_creds_t;

/* The headers of a signed GET of url: Host, X-Sdk-Date, X-Project-Id and,
 * when security_token is not NULL, X-Security-Token, all signed, plus
 * Authorization, Accept and User-Agent. now is the Unix time of the
 * X-Sdk-Date. Returns the list (free with hss_headers_free), or NULL with
 * err set (never to a secret). */
struct curl_slist *
hss_aksk_stats_headers(const char *url, const char *project_id,
                       const char *access_key, const char *secret_key,
                       const char *security_token, int64_t now, char *err,
                       size_t errlen);

/* Parses {"credential":{"access","secret","securitytoken","expires_at"}}.
 * Returns 0, or -1 with err set; *out is then untouched. */
int hss_parse_temp_creds(const char *body, size_t len, hss_temp_creds_t *out,
                         char *err, size_t errlen);

/* Wipes and frees the credentials. */
void hss_temp_creds_clear(hss_temp_creds_t *c);

#endif

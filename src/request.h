/* request.h - what goes on the wire, built without sending anything:
 * URLs with escaped path and query, the IAM token request body, and the
 * header lists. Pure apart from libcurl's and json-c's string helpers. */
#ifndef HSS_REQUEST_H
#define HSS_REQUEST_H

#include <curl/curl.h>

#define HSS_USER_AGENT "hss_imgstats/0.1.0 (collectd plugin)"

/* "{endpoint}/v5/{project_id}/image/pay-per-scan/statistics" with the
 * project id percent-encoded and, when eps_id is not NULL,
 * "?enterprise_project_id=<encoded>". malloc'd; NULL on failure. */
char *hss_stats_url(const char *endpoint, const char *project_id,
                    const char *eps_id);

/* "{iam_endpoint}/v3/auth/tokens", malloc'd. */
char *hss_iam_token_url(const char *iam_endpoint);

/* The JSON body of a project-scoped password token request, built with
 * json-c (so every value is escaped). malloc'd; the caller wipes and frees
 * it since it holds the password. */
char *hss_iam_token_body(const char *domain, const char *user,
                         const char *password, const char *project_id);

/* Appends "name: value" to *list, wiping the temporary line. Returns 0,
 * or -1 (the list is kept as it was). */
int hss_header_append(struct curl_slist **list, const char *name,
                      const char *value);

/* Headers of a statistics request authenticated by token. The list holds
 * the token: free it with hss_headers_free(). NULL on failure. */
struct curl_slist *hss_stats_headers(const char *token);

/* Headers of an IAM token request. NULL on failure. */
struct curl_slist *hss_iam_headers(void);

/* Headers of an ECS metadata request. NULL on failure. */
struct curl_slist *hss_metadata_headers(void);

/* Wipes every header value (they may hold secrets) and frees the list. */
void hss_headers_free(struct curl_slist *list);

#endif

/* endpoint.h - base URLs: region names to hosts, and validation of the
 * Endpoint / IAMEndpoint / Proxy options (parsed with libcurl's URL API). */
#ifndef HSS_ENDPOINT_H
#define HSS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest host name a base URL may have (DNS allows 253). */
#define HSS_HOST_MAX 253

/* True for the regions where HSS is documented to be offered. */
bool hss_region_known(const char *region);

/* True when region looks like a region name ([a-z0-9-], 2..64 chars). */
bool hss_region_valid(const char *region);

/* Returns "https://<service>.<region>.myhuaweicloud.com" (".eu" for
 * eu-west-101), malloc'd; NULL on allocation failure. */
char *hss_region_url(const char *service, const char *region);

/* Checks a base URL: http or https, a host, no user info, no path beyond
 * "/", no query or fragment; http only when allow_insecure. Returns a
 * normalised malloc'd copy without trailing slash, or NULL with err. */
char *hss_base_url_check(const char *url, bool allow_insecure, char *err,
                         size_t errlen);

/* Checks a full URL (http or https, a host, no user information; a path
 * and query are allowed). Returns a malloc'd copy, or NULL with err. */
char *hss_url_check(const char *url, char *err, size_t errlen);

/* Checks a proxy URL (http, https, socks4/4a/5/5h with a host). Returns 0
 * or -1 with err set. */
int hss_proxy_url_check(const char *url, char *err, size_t errlen);

#endif

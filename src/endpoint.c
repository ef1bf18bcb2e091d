/* endpoint.c - region hosts and base URL validation. */
#include "endpoint.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Regions listed in the HSS endpoint documentation. */
static const char *const known_regions[] = {
    "cn-north-1",     "cn-north-2",     "cn-north-4",     "cn-north-9",
    "cn-north-11",    "cn-north-12",    "cn-east-2",      "cn-east-3",
    "cn-east-4",      "cn-east-5",      "cn-south-1",     "cn-south-2",
    "cn-south-4",     "cn-southwest-2", "cn-southwest-3", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "af-south-1",
    "sa-brazil-1",    "la-south-2",     "la-north-2",     "na-mexico-1",
    "tr-west-1",      "ae-ad-1",        "me-east-1",      "my-kualalumpur-1",
    "ru-moscow-1",    "eu-west-101",
};

bool hss_region_known(const char *region) {
  for (size_t i = 0; i < sizeof(known_regions) / sizeof(known_regions[0]); i++)
    if (strcmp(region, known_regions[i]) == 0)
      return true;
  return false;
}

bool hss_region_valid(const char *region) {
  size_t len = strlen(region);
  if (len < 2 || len > 64)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = region[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  }
  return true;
}

char *hss_region_url(const char *service, const char *region) {
  const char *tld = strcmp(region, "eu-west-101") == 0 ? "eu" : "com";
  size_t len = strlen(service) + strlen(region) + 40;
  char *url = malloc(len);
  if (url != NULL)
    snprintf(url, len, "https://%s.%s.myhuaweicloud.%s", service, region, tld);
  return url;
}

/* Fetches one URL part into *out (curl-owned string, or NULL if unset). */
static char *get_part(CURLU *u, CURLUPart what) {
  char *part = NULL;
  if (curl_url_get(u, what, &part, 0) != CURLUE_OK)
    return NULL;
  return part;
}

/* What to print of a URL in an error: never user information. */
static const char *shown_url(const char *url) {
  return strchr(url, '@') != NULL ? "(URL with user information, not shown)"
                                  : url;
}

char *hss_base_url_check(const char *url, bool allow_insecure, char *err,
                         size_t errlen) {
  const char *shown = shown_url(url);
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *user = NULL, *path = NULL, *query = NULL;
  char *fragment = NULL, *port = NULL, *result = NULL;
  if (u == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    snprintf(err, errlen,
             "\"%s\" is not a valid URL (want scheme://host[:port])", shown);
    goto done;
  }
  scheme = get_part(u, CURLUPART_SCHEME);
  host = get_part(u, CURLUPART_HOST);
  user = get_part(u, CURLUPART_USER);
  path = get_part(u, CURLUPART_PATH);
  query = get_part(u, CURLUPART_QUERY);
  fragment = get_part(u, CURLUPART_FRAGMENT);
  port = get_part(u, CURLUPART_PORT);
  if (scheme == NULL ||
      (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
    snprintf(err, errlen, "\"%s\": the scheme must be https:// (or http://)",
             shown);
  } else if (host == NULL || host[0] == '\0') {
    snprintf(err, errlen, "\"%s\" has no host", shown);
  } else if (strlen(host) > HSS_HOST_MAX) {
    snprintf(err, errlen, "\"%s\": the host name is longer than %d characters",
             shown, HSS_HOST_MAX);
  } else if (user != NULL) {
    snprintf(err, errlen, "\"%s\" must not carry user information", shown);
  } else if ((path != NULL && strcmp(path, "/") != 0) || query != NULL ||
             fragment != NULL) {
    snprintf(err, errlen,
             "\"%s\" must be a base URL (scheme://host[:port]) without path, "
             "query or fragment",
             shown);
  } else if (strcmp(scheme, "http") == 0 && !allow_insecure) {
    snprintf(err, errlen,
             "\"%s\" is plain http://: credentials would travel unencrypted; "
             "use https:// or set AllowInsecure true",
             shown);
  } else {
    size_t len = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 8;
    result = malloc(len);
    if (result == NULL)
      snprintf(err, errlen, "out of memory");
    else
      snprintf(result, len, "%s://%s%s%s", scheme, host, port ? ":" : "",
               port ? port : "");
  }
done:
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
  curl_free(path);
  curl_free(query);
  curl_free(fragment);
  curl_free(port);
  curl_url_cleanup(u);
  return result;
}

char *hss_url_check(const char *url, char *err, size_t errlen) {
  const char *shown = shown_url(url);
  CURLU *u = curl_url();
  char *result = NULL;
  if (u == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  char *scheme = NULL, *host = NULL, *user = NULL;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    snprintf(err, errlen, "\"%s\" is not a valid URL", shown);
  } else {
    scheme = get_part(u, CURLUPART_SCHEME);
    host = get_part(u, CURLUPART_HOST);
    user = get_part(u, CURLUPART_USER);
    if (scheme == NULL ||
        (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0))
      snprintf(err, errlen, "\"%s\": the scheme must be http:// or https://",
               shown);
    else if (host == NULL || host[0] == '\0')
      snprintf(err, errlen, "\"%s\" has no host", shown);
    else if (user != NULL)
      snprintf(err, errlen, "\"%s\" must not carry user information", shown);
    else if ((result = strdup(url)) == NULL)
      snprintf(err, errlen, "out of memory");
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
  curl_url_cleanup(u);
  return result;
}

int hss_proxy_url_check(const char *url, char *err, size_t errlen) {
  static const char *const schemes[] = {"http",    "https",  "socks4",
                                        "socks4a", "socks5", "socks5h"};
  CURLU *u = curl_url();
  int status = -1;
  if (u == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  /* socks* are not URL schemes libcurl's parser knows as protocols: it
   * refuses them unless told to accept any scheme; ours are checked below. */
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
      CURLUE_OK) {
    /* The proxy URL may hold a password: never echo it. */
    snprintf(err, errlen, "not a valid proxy URL (want scheme://host:port)");
    curl_url_cleanup(u);
    return -1;
  }
  char *scheme = get_part(u, CURLUPART_SCHEME);
  char *host = get_part(u, CURLUPART_HOST);
  for (size_t i = 0; scheme != NULL && i < sizeof(schemes) / sizeof(*schemes);
       i++)
    if (strcmp(scheme, schemes[i]) == 0)
      status = 0;
  if (status != 0)
    snprintf(err, errlen,
             "unsupported proxy scheme (want http, https, socks4, "
             "socks4a, socks5 or socks5h)");
  else if (host == NULL || host[0] == '\0') {
    snprintf(err, errlen, "the proxy URL has no host");
    status = -1;
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return status;
}

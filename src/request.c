/* request.c - URLs, bodies and headers of HSS and IAM requests. */
#include "request.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer.h"

#define STATS_PATH "/image/pay-per-scan/statistics"

/* The path segment and the query value are encoded with the AK/SK signer's
 * own escaping, and the query has a single pair, so the URL on the wire is
 * already in canonical form: what is signed is exactly what is sent. */
char *hss_stats_url(const char *endpoint, const char *project_id,
                    const char *eps_id) {
  char *pid = hss_sign_escape(project_id, strlen(project_id));
  char *eps = eps_id ? hss_sign_escape(eps_id, strlen(eps_id)) : NULL;
  char *url = NULL;
  if (pid != NULL && (eps_id == NULL || eps != NULL)) {
    size_t len = strlen(endpoint) + strlen(pid) + sizeof(STATS_PATH) + 8 +
                 (eps ? strlen(eps) + sizeof("?enterprise_project_id=") : 0);
    url = malloc(len);
    if (url != NULL)
      snprintf(url, len, "%s/v5/%s%s%s%s", endpoint, pid, STATS_PATH,
               eps ? "?enterprise_project_id=" : "", eps ? eps : "");
  }
  free(pid);
  free(eps);
  return url;
}

char *hss_iam_token_url(const char *iam_endpoint) {
  size_t len = strlen(iam_endpoint) + sizeof("/v3/auth/tokens");
  char *url = malloc(len);
  if (url != NULL)
    snprintf(url, len, "%s/v3/auth/tokens", iam_endpoint);
  return url;
}

/* Adds key: {} to parent and returns the new object (owned by parent). */
static json_object *add_object(json_object *parent, const char *key) {
  json_object *child = json_object_new_object();
  if (child != NULL && json_object_object_add(parent, key, child) != 0) {
    json_object_put(child);
    return NULL;
  }
  return child;
}

/* Adds key: "value" to obj. Returns 0 or -1. */
static int add_string(json_object *obj, const char *key, const char *value) {
  json_object *s = json_object_new_string(value);
  if (s == NULL || json_object_object_add(obj, key, s) != 0) {
    json_object_put(s);
    return -1;
  }
  return 0;
}

char *hss_iam_token_body(const char *domain, const char *user,
                         const char *password, const char *project_id) {
  json_object *root = json_object_new_object();
  char *out = NULL;
  if (root == NULL)
    return NULL;
  json_object *auth = add_object(root, "auth");
  json_object *identity = auth ? add_object(auth, "identity") : NULL;
  json_object *methods = json_object_new_array();
  if (identity == NULL || methods == NULL ||
      json_object_object_add(identity, "methods", methods) != 0) {
    json_object_put(methods);
    goto done;
  }
  if (json_object_array_add(methods, json_object_new_string("password")) != 0)
    goto done;
  json_object *pw = add_object(identity, "password");
  json_object *u = pw ? add_object(pw, "user") : NULL;
  json_object *dom = u ? add_object(u, "domain") : NULL;
  json_object *scope = add_object(auth, "scope");
  json_object *project = scope ? add_object(scope, "project") : NULL;
  if (dom == NULL || project == NULL || add_string(u, "name", user) != 0 ||
      add_string(u, "password", password) != 0 ||
      add_string(dom, "name", domain) != 0 ||
      add_string(project, "id", project_id) != 0)
    goto done;
  const char *text =
      json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
  if (text != NULL)
    out = strdup(text);
  /* json-c keeps its own copy of the serialised text: wipe it too. */
  if (text != NULL)
    OPENSSL_cleanse((char *)text, strlen(text));
done:
  json_object_put(root);
  return out;
}

int hss_header_append(struct curl_slist **list, const char *name,
                      const char *value) {
  size_t len = strlen(name) + strlen(value) + 3;
  char *line = malloc(len);
  if (line == NULL)
    return -1;
  snprintf(line, len, "%s: %s", name, value);
  struct curl_slist *grown = curl_slist_append(*list, line);
  OPENSSL_cleanse(line, len);
  free(line);
  if (grown == NULL)
    return -1;
  *list = grown;
  return 0;
}

struct curl_slist *hss_stats_headers(const char *token) {
  struct curl_slist *list = NULL;
  if (hss_header_append(&list, "Accept", "application/json") != 0 ||
      hss_header_append(&list, "User-Agent", HSS_USER_AGENT) != 0 ||
      hss_header_append(&list, "X-Auth-Token", token) != 0) {
    hss_headers_free(list);
    return NULL;
  }
  return list;
}

struct curl_slist *hss_iam_headers(void) {
  struct curl_slist *list = NULL;
  if (hss_header_append(&list, "Accept", "application/json") != 0 ||
      hss_header_append(&list, "User-Agent", HSS_USER_AGENT) != 0 ||
      hss_header_append(&list, "Content-Type",
                        "application/json;charset=utf8") != 0) {
    hss_headers_free(list);
    return NULL;
  }
  return list;
}

struct curl_slist *hss_metadata_headers(void) {
  struct curl_slist *list = NULL;
  if (hss_header_append(&list, "Accept", "application/json") != 0 ||
      hss_header_append(&list, "User-Agent", HSS_USER_AGENT) != 0) {
    hss_headers_free(list);
    return NULL;
  }
  return list;
}

void hss_headers_free(struct curl_slist *list) {
  for (struct curl_slist *l = list; l != NULL; l = l->next)
    OPENSSL_cleanse(l->data, strlen(l->data));
  curl_slist_free_all(list);
}

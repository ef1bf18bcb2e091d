/* parse.c - statistics, error and IAM token bodies, parsed with json-c. */
#include "parse.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HSS_INT_MAX 2147483647LL

/* True for the four white space bytes JSON allows between tokens. (Not
 * strchr(" \t\r\n", c): that also matches a NUL byte.) */
static int is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parses exactly len bytes of JSON. Returns the root (caller puts it) or
 * NULL with err set; trailing non-space bytes count as invalid, and so does
 * a JSON null root (it has no object to return). */
static json_object *parse_json(const char *body, size_t len, char *err,
                               size_t errlen) {
  if (body == NULL || len == 0) {
    snprintf(err, errlen, "empty body");
    return NULL;
  }
  if (len > HSS_MAX_BODY) {
    snprintf(err, errlen, "body of %zu bytes is over the %d byte limit", len,
             HSS_MAX_BODY);
    return NULL;
  }
  json_tokener *tok = json_tokener_new_ex(HSS_MAX_JSON_DEPTH);
  if (tok == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  json_object *root = json_tokener_parse_ex(tok, body, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t used = json_tokener_get_parse_end(tok);
  if (root == NULL && jerr == json_tokener_continue) {
    /* json-c waits for more input after a bare number or literal that ends
     * the body ("5", "null"); a final NUL byte tells it the body is over. */
    root = json_tokener_parse_ex(tok, "", 1);
    jerr = json_tokener_get_error(tok);
  }
  if (root == NULL && jerr == json_tokener_success) {
    snprintf(err, errlen, "body is a JSON null, not an object");
    json_tokener_free(tok);
    return NULL;
  }
  if (root == NULL || jerr != json_tokener_success) {
    bool truncated =
        jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof;
    snprintf(err, errlen, "invalid JSON at byte %zu: %s", used,
             truncated ? "unexpected end of body"
                       : json_tokener_error_desc(jerr));
    json_object_put(root);
    json_tokener_free(tok);
    return NULL;
  }
  json_tokener_free(tok);
  for (size_t i = used; i < len; i++) {
    if (!is_json_space(body[i])) {
      snprintf(err, errlen, "invalid JSON: trailing data at byte %zu", i);
      json_object_put(root);
      return NULL;
    }
  }
  return root;
}

/* Looks up key in obj; a JSON null counts as absent. */
static json_object *get_member(json_object *obj, const char *key) {
  json_object *v = NULL;
  if (key == NULL || !json_object_object_get_ex(obj, key, &v))
    return NULL;
  return v; /* NULL when the member is JSON null */
}

/* Validates one leaf value against the metric's kind. */
static hss_field_state_t read_leaf(json_object *v, hss_metric_kind_t kind,
                                   int64_t *out) {
  if (v == NULL)
    return HSS_FIELD_ABSENT;
  if (kind == HSS_KIND_BOOL) {
    if (!json_object_is_type(v, json_type_boolean))
      return HSS_FIELD_WRONG_TYPE;
    *out = json_object_get_boolean(v) ? 1 : 0;
    return HSS_FIELD_OK;
  }
  if (!json_object_is_type(v, json_type_int))
    return HSS_FIELD_WRONG_TYPE;
  /* json-c keeps integers above INT64_MAX as uint64; both are out of range. */
  int64_t n = json_object_get_int64(v);
  if (n < 0 || n > HSS_INT_MAX)
    return HSS_FIELD_OUT_OF_RANGE;
  *out = n;
  return HSS_FIELD_OK;
}

int hss_parse_stats(const char *body, size_t len, hss_stats_t *out, char *err,
                    size_t errlen) {
  memset(out, 0, sizeof(*out));
  json_object *root = parse_json(body, len, err, errlen);
  if (root == NULL)
    return -1;
  if (!json_object_is_type(root, json_type_object)) {
    snprintf(err, errlen, "body is a JSON %s, not an object",
             json_type_to_name(json_object_get_type(root)));
    json_object_put(root);
    return -1;
  }
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++) {
    const hss_metric_t *m = &hss_metrics[i];
    json_object *v = get_member(root, m->field);
    if (v != NULL && m->subfield != NULL) {
      if (!json_object_is_type(v, json_type_object)) {
        out->state[i] = HSS_FIELD_PARENT_NOT_OBJECT;
        continue;
      }
      json_object *parent = v;
      v = get_member(parent, m->subfield);
      if (v == NULL)
        v = get_member(parent, m->alt_subfield);
    }
    out->state[i] = read_leaf(v, m->kind, &out->value[i]);
  }
  json_object_put(root);
  return 0;
}

int hss_stats_count(const hss_stats_t *stats, hss_field_state_t state) {
  int n = 0;
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++)
    if (stats->state[i] == state)
      n++;
  return n;
}

const char *hss_field_state_name(hss_field_state_t state) {
  switch (state) {
  case HSS_FIELD_ABSENT:
    return "absent";
  case HSS_FIELD_OK:
    return "ok";
  case HSS_FIELD_WRONG_TYPE:
    return "wrong type";
  case HSS_FIELD_OUT_OF_RANGE:
    return "out of range";
  case HSS_FIELD_PARENT_NOT_OBJECT:
    return "enclosing field is not an object";
  }
  return "unknown";
}

/* Cuts a UTF-8 sequence that truncation left incomplete at the end of the
 * n bytes of dst, so a log line stays valid UTF-8. */
static void drop_partial_utf8(char *dst, size_t n) {
  size_t start = n;
  while (start > 0 && start + 4 > n &&
         ((unsigned char)dst[start - 1] & 0xC0) == 0x80)
    start--; /* continuation bytes */
  if (start == 0)
    return;
  unsigned char lead = (unsigned char)dst[start - 1];
  size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (lead >= 0xC0 && (n - (start - 1)) < need)
    dst[start - 1] = '\0';
}

void hss_sanitize_copy(char *dst, size_t dstlen, const char *src,
                       size_t srclen) {
  if (dstlen == 0)
    return;
  size_t n = 0;
  for (size_t i = 0;
       src != NULL && i < srclen && src[i] != '\0' && n + 1 < dstlen; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  dst[n] = '\0';
  if (src != NULL && n < srclen && src[n] != '\0')
    drop_partial_utf8(dst, n);
}

/* Copies a string member (or a number, printed) into dst, sanitised. */
static void copy_member(json_object *obj, const char *key, char *dst,
                        size_t dstlen) {
  json_object *v = get_member(obj, key);
  if (v == NULL)
    return;
  const char *s = json_object_get_string(v);
  if (s != NULL && !json_object_is_type(v, json_type_object) &&
      !json_object_is_type(v, json_type_array))
    hss_sanitize_copy(dst, dstlen, s, strlen(s));
}

void hss_parse_api_error(const char *body, size_t len, hss_api_error_t *out) {
  char err[128];
  memset(out, 0, sizeof(*out));
  json_object *root = parse_json(body, len, err, sizeof(err));
  if (root == NULL)
    return;
  if (json_object_is_type(root, json_type_object)) {
    copy_member(root, "error_code", out->code, sizeof(out->code));
    copy_member(root, "error_msg", out->message, sizeof(out->message));
    copy_member(root, "request_id", out->request_id, sizeof(out->request_id));
    json_object *iam = get_member(root, "error");
    if (iam != NULL && json_object_is_type(iam, json_type_object)) {
      if (out->code[0] == '\0')
        copy_member(iam, "code", out->code, sizeof(out->code));
      if (out->message[0] == '\0')
        copy_member(iam, "message", out->message, sizeof(out->message));
    }
  }
  json_object_put(root);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timezone). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The value of the n decimal digits at p, or -1 if any is not a digit. */
static int fixed_digits(const char *p, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

/* Days in month mo (1-12) of year y, Gregorian. */
static int days_in_month(int y, int mo) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return mo == 2 && leap ? 29 : days[mo - 1];
}

int hss_parse_utc_time(const char *text, int64_t *out) {
  /* Exactly YYYY-MM-DDTHH:MM:SS: the separators at fixed places and only
   * digits between them. */
  if (text == NULL || strlen(text) < 19 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':')
    return -1;
  int y = fixed_digits(text, 4), mo = fixed_digits(text + 5, 2);
  int d = fixed_digits(text + 8, 2), h = fixed_digits(text + 11, 2);
  int mi = fixed_digits(text + 14, 2), s = fixed_digits(text + 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
      mi > 59 || s < 0 || s > 60 || d > days_in_month(y, mo))
    return -1;
  const char *p = text + 19;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return -1;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
    return -1;
  *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return 0;
}

int hss_parse_token_expiry(const char *body, size_t len, int64_t *expires_at) {
  char err[128];
  json_object *root = parse_json(body, len, err, sizeof(err));
  if (root == NULL)
    return -1;
  int status = -1;
  json_object *token = NULL;
  if (json_object_is_type(root, json_type_object))
    token = get_member(root, "token");
  if (token != NULL && json_object_is_type(token, json_type_object)) {
    json_object *exp = get_member(token, "expires_at");
    if (exp != NULL && json_object_is_type(exp, json_type_string))
      status = hss_parse_utc_time(json_object_get_string(exp), expires_at);
  }
  json_object_put(root);
  return status;
}

/* fuzz_parse.c - libFuzzer target for the response body parsers.
 *
 * The input is a response body, any bytes (NUL bytes included), given to
 * every parser of a body the plugin receives:
 *   hss_parse_stats        statistics body  -> hss_stats_t
 *   hss_parse_api_error    error body (HSS, APIGW, IAM)
 *   hss_parse_token_expiry IAM token response
 *   hss_parse_temp_creds   ECS metadata credentials
 * and, on its text up to the first NUL, to hss_parse_utc_time and
 * hss_sanitize_copy. Invariants are checked with __builtin_trap(), so a
 * violation is a crash that libFuzzer saves.
 *
 * Build and run: bash scripts/fuzz.sh build | replay | run parse. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aksk.h"
#include "metrics.h"
#include "parse.h"
#include "signer.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_parse: invariant failed at line %d: %s\n",         \
              __LINE__, #cond);                                                \
      __builtin_trap();                                                        \
    }                                                                          \
  } while (0)

/* The byte the buffers are filled with before a call: a parser must leave
 * a terminated string in them whatever it does. */
#define FILL 0xA5

/* True when buf (size bytes) holds a NUL within its size. */
static bool terminated(const char *buf, size_t size) {
  return memchr(buf, '\0', size) != NULL;
}

/* True when the string has no control byte (what hss_sanitize_copy
 * promises for the error fields). */
static bool sanitized(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return false;
  return true;
}

static void check_stats(const uint8_t *data, size_t size) {
  hss_stats_t st;
  char err[256];
  memset(&st, FILL, sizeof(st));
  memset(err, FILL, sizeof(err));
  int rc = hss_parse_stats((const char *)data, size, &st, err, sizeof(err));
  CHECK(rc == 0 || rc == -1);
  if (rc != 0) /* err is written on failure only */
    CHECK(terminated(err, sizeof(err)));
  if (size == 0 || size > HSS_MAX_BODY)
    CHECK(rc == -1);
  int total = 0;
  for (int s = HSS_FIELD_ABSENT; s <= HSS_FIELD_PARENT_NOT_OBJECT; s++) {
    total += hss_stats_count(&st, (hss_field_state_t)s);
    const char *name = hss_field_state_name((hss_field_state_t)s);
    CHECK(name != NULL && strcmp(name, "unknown") != 0);
  }
  CHECK(total == HSS_METRIC_COUNT); /* every state is a valid enum */
  if (rc != 0) {
    CHECK(err[0] != '\0'); /* says why */
    CHECK(hss_stats_count(&st, HSS_FIELD_ABSENT) == HSS_METRIC_COUNT);
    return;
  }
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++) {
    CHECK((unsigned)st.state[i] <= (unsigned)HSS_FIELD_PARENT_NOT_OBJECT);
    if (st.state[i] != HSS_FIELD_OK)
      continue;
    if (hss_metrics[i].kind == HSS_KIND_BOOL)
      CHECK(st.value[i] == 0 || st.value[i] == 1);
    else
      CHECK(st.value[i] >= 0 && st.value[i] <= 2147483647LL);
  }
  /* Fields sharing an enclosing object agree on whether it is one. */
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++)
    for (size_t j = 0; j < HSS_METRIC_COUNT; j++)
      if (hss_metrics[i].subfield && hss_metrics[j].subfield &&
          strcmp(hss_metrics[i].field, hss_metrics[j].field) == 0)
        CHECK((st.state[i] == HSS_FIELD_PARENT_NOT_OBJECT) ==
              (st.state[j] == HSS_FIELD_PARENT_NOT_OBJECT));
}

static void check_api_error(const uint8_t *data, size_t size) {
  hss_api_error_t e;
  memset(&e, FILL, sizeof(e));
  hss_parse_api_error((const char *)data, size, &e);
  CHECK(terminated(e.code, sizeof(e.code)));
  CHECK(terminated(e.message, sizeof(e.message)));
  CHECK(terminated(e.request_id, sizeof(e.request_id)));
  CHECK(sanitized(e.code) && sanitized(e.message) && sanitized(e.request_id));
}

/* Returns the status of hss_parse_token_expiry. */
static int check_token_expiry(const uint8_t *data, size_t size) {
  int64_t when = 0x5a5a5a5a;
  int rc = hss_parse_token_expiry((const char *)data, size, &when);
  CHECK(rc == 0 || rc == -1);
  if (size == 0 || size > HSS_MAX_BODY)
    CHECK(rc == -1);
  return rc;
}

/* Returns the status of hss_parse_temp_creds. */
static int check_temp_creds(const uint8_t *data, size_t size) {
  hss_temp_creds_t c = {0};
  char err[256];
  memset(err, FILL, sizeof(err));
  int rc = hss_parse_temp_creds((const char *)data, size, &c, err, sizeof(err));
  CHECK(rc == 0 || rc == -1);
  if (rc != 0)
    CHECK(terminated(err, sizeof(err)));
  if (size == 0 || size > HSS_MAX_BODY)
    CHECK(rc == -1);
  if (rc == 0) {
    CHECK(c.access != NULL && c.access[0] != '\0');
    CHECK(c.secret != NULL && c.secret[0] != '\0');
    CHECK(c.security_token != NULL && c.security_token[0] != '\0');
  } else {
    CHECK(err[0] != '\0');
    CHECK(c.access == NULL && c.secret == NULL && c.security_token == NULL);
  }
  hss_temp_creds_clear(&c);
  CHECK(c.access == NULL && c.secret == NULL && c.security_token == NULL);
  return rc;
}

/* True when s[0..n) is structurally valid UTF-8: every lead byte is
 * followed by as many continuation bytes as it announces. */
static bool utf8_whole(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t need = c < 0x80    ? 1
                  : c >= 0xF0 ? 4
                  : c >= 0xE0 ? 3
                  : c >= 0xC0 ? 2
                              : 0;
    if (need == 0 || need > n - i)
      return false;
    for (size_t k = 1; k < need; k++)
      if ((s[i + k] & 0xC0) != 0x80)
        return false;
    i += need;
  }
  return true;
}

/* hss_parse_utc_time on the text up to the first NUL (at most 64 bytes),
 * and hss_sanitize_copy into a buffer sized by the first byte. */
static void check_text(const uint8_t *data, size_t size) {
  char text[65];
  size_t n = 0;
  while (n < size && n < sizeof(text) - 1 && data[n] != '\0') {
    text[n] = (char)data[n];
    n++;
  }
  text[n] = '\0';
  int64_t t = 0;
  int rc = hss_parse_utc_time(text, &t);
  CHECK(rc == 0 || rc == -1);
  if (rc == 0 && t >= -62167219200LL && t <= 253402300799LL - 1) {
    /* Years 0000..9999: the signer writes the same date back, and the
     * fields of that date are what was parsed (a day past the month's
     * end or second 60 roll over the same way in both). */
    char date[17], iso[32];
    hss_sign_date(t, date);
    snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", date, date + 4,
             date + 6, date + 9, date + 11, date + 13);
    int64_t back = 0;
    CHECK(hss_parse_utc_time(iso, &back) == 0 && back == t);
  }

  char dst[300];
  size_t dstlen = size > 0 ? (size_t)data[0] % sizeof(dst) : 0;
  memset(dst, FILL, sizeof(dst));
  hss_sanitize_copy(dst, dstlen, (const char *)data, size);
  if (dstlen > 0) {
    CHECK(terminated(dst, dstlen));
    CHECK(sanitized(dst));
    size_t len = strlen(dst);
    CHECK(len < dstlen);
    for (size_t i = 0; i < len; i++) /* a prefix of data, '?' for controls */
      CHECK(dst[i] == (char)data[i] || dst[i] == '?');
    /* Truncation keeps UTF-8 whole: valid UTF-8 in, valid UTF-8 out, and
     * at most one partial sequence (< 4 bytes) dropped. */
    size_t srclen = strnlen((const char *)data, size);
    if (utf8_whole(data, srclen)) {
      CHECK(utf8_whole((const unsigned char *)dst, len));
      CHECK(len == srclen || len + 4 > dstlen - 1);
    }
  }
  CHECK((unsigned char)dst[dstlen] == FILL || dstlen == 0); /* no overrun */
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  /* Bodies over the limit are refused without being parsed. */
  size_t big = (size_t)HSS_MAX_BODY + 1;
  char *body = malloc(big);
  if (body == NULL)
    abort();
  memset(body, ' ', big);
  body[0] = '{';
  body[big - 1] = '}';
  check_stats((const uint8_t *)body, big);
  check_api_error((const uint8_t *)body, big);
  CHECK(check_token_expiry((const uint8_t *)body, big) == -1);
  CHECK(check_temp_creds((const uint8_t *)body, big) == -1);
  free(body);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The parsers take (pointer, length): hand them a heap copy of exactly
   * size bytes, with no terminating NUL, so that ASan sees any read past
   * the end. */
  uint8_t *copy = malloc(size > 0 ? size : 1);
  if (copy == NULL)
    return 0;
  if (size > 0)
    memcpy(copy, data, size);

  check_stats(copy, size);
  check_api_error(copy, size);
  int token_rc = check_token_expiry(copy, size);
  int creds_rc = check_temp_creds(copy, size);

  /* The token and credential parsers accept only JSON objects, and so
   * does the statistics parser: whatever they accept, it accepts. */
  if (token_rc == 0 || creds_rc == 0) {
    hss_stats_t st;
    char err[128];
    CHECK(hss_parse_stats((const char *)copy, size, &st, err, sizeof(err)) ==
          0);
  }

  check_text(copy, size);
  free(copy);
  return 0;
}

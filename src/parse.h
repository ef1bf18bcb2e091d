/* parse.h - response bodies (json-c) to plain structs. Pure: no I/O, no
 * globals, no logging, so that unit tests and fuzzers reach it directly. */
#ifndef HSS_PARSE_H
#define HSS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define HSS_MAX_BODY (1024 * 1024) /* larger bodies are refused */
#define HSS_MAX_JSON_DEPTH 16

typedef enum {
  HSS_FIELD_ABSENT = 0,       /* not in the body, or null: not dispatched */
  HSS_FIELD_OK,               /* value[] holds it */
  HSS_FIELD_WRONG_TYPE,       /* present but not an integer / boolean */
  HSS_FIELD_OUT_OF_RANGE,     /* an integer outside 0..2^31-1 */
  HSS_FIELD_PARENT_NOT_OBJECT /* its enclosing field is not an object */
} hss_field_state_t;

typedef struct {
  hss_field_state_t state[HSS_METRIC_COUNT];
  int64_t value[HSS_METRIC_COUNT]; /* valid where state == HSS_FIELD_OK */
} hss_stats_t;

/* The error fields of a non-2xx body, sanitised for logging. */
typedef struct {
  char code[64];        /* error_code (HSS/APIGW) or error.code (IAM) */
  char message[256];    /* error_msg or error.message, truncated */
  char request_id[128]; /* request_id from the body, if any */
} hss_api_error_t;

/* Parses a statistics body into *out. Returns 0 when the body is a JSON
 * object (fields may still be absent or invalid, see out->state), -1 when
 * it is empty, not valid JSON, too deep, or not an object; err then says
 * why. */
int hss_parse_stats(const char *body, size_t len, hss_stats_t *out, char *err,
                    size_t errlen);

/* Number of fields in the given state. */
int hss_stats_count(const hss_stats_t *stats, hss_field_state_t state);

/* Short text for a field state ("wrong type", "out of range", ...). */
const char *hss_field_state_name(hss_field_state_t state);

/* Extracts error_code/error_msg/request_id (or IAM's error.code/message)
 * from an error body. Never fails: unknown bodies leave the fields empty. */
void hss_parse_api_error(const char *body, size_t len, hss_api_error_t *out);

/* Parses IAM's token.expires_at (e.g. 2020-01-04T09:05:22.701000Z) from a
 * token response body into a Unix time. Returns 0 or -1. */
int hss_parse_token_expiry(const char *body, size_t len, int64_t *expires_at);

/* Parses an ISO 8601 UTC timestamp "YYYY-MM-DDTHH:MM:SS[.frac]Z" (also
 * accepts "+00:00"). Returns 0 or -1. */
int hss_parse_utc_time(const char *text, int64_t *out);

/* Copies src into dst (size dstlen) for logging: control characters
 * become '?', the result is truncated and always terminated. */
void hss_sanitize_copy(char *dst, size_t dstlen, const char *src,
                       size_t srclen);

#endif

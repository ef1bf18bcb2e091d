/* signer.c - the AK/SK request signer (SDK-HMAC-SHA256). The rules are
 * documented in signer.h. Digests come from libcrypto; nothing here is
 * hand-written cryptography. */
#include "signer.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64
#define DATE_LEN 16
#define METHOD_MAX 16

/* ---- growable buffer ---------------------------------------------------- */

/* A NUL-terminated growable string. Once an append fails, the buffer is
 * freed and marked failed; later appends do nothing and buf_finish()
 * returns NULL, so callers check once at the end. */
typedef struct {
  char *p;
  size_t len;
  size_t cap;
  bool failed;
} buf_t;

/* Marks b failed and frees what it held. */
static void buf_fail(buf_t *b) {
  free(b->p);
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  b->failed = true;
}

/* Makes room for extra more bytes plus the NUL. Returns 0, or -1 (b is
 * then failed) on overflow or when out of memory. */
static int buf_reserve(buf_t *b, size_t extra) {
  if (b->failed)
    return -1;
  if (extra > SIZE_MAX - b->len - 1) {
    buf_fail(b);
    return -1;
  }
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->p, cap);
  if (p == NULL) {
    buf_fail(b);
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

/* Appends len bytes of s. Failure is recorded in b. */
static void buf_add(buf_t *b, const char *s, size_t len) {
  if (buf_reserve(b, len) != 0)
    return;
  if (len > 0)
    memcpy(b->p + b->len, s, len);
  b->len += len;
  b->p[b->len] = '\0';
}

/* Appends a NUL-terminated string. Failure is recorded in b. */
static void buf_add_str(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }

/* Appends one byte. Failure is recorded in b. */
static void buf_add_char(buf_t *b, char c) { buf_add(b, &c, 1); }

/* True for the bytes the signer leaves unencoded: A-Z a-z 0-9 - _ . ~ */
static bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Appends len bytes of s percent-encoded. Failure is recorded in b. */
static void buf_add_escaped(buf_t *b, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < len && !b->failed; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c)) {
      buf_add_char(b, (char)c);
    } else {
      char esc[3] = {'%', hex[c >> 4], hex[c & 0x0f]};
      buf_add(b, esc, sizeof(esc));
    }
  }
}

/* Hands over the string: malloc'd, "" when nothing was added, NULL when
 * an append failed. */
static char *buf_finish(buf_t *b) {
  if (b->failed)
    return NULL;
  if (b->p == NULL)
    return calloc(1, 1);
  return b->p;
}

/* ---- percent-encoding and decoding -------------------------------------- */

char *hss_sign_escape(const char *s, size_t len) {
  if (s == NULL && len > 0)
    return NULL;
  buf_t b = {0};
  buf_add_escaped(&b, s, len);
  return buf_finish(&b);
}

/* The value of one hex digit, or -1. */
static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decodes len bytes of s into a malloc'd buffer (NUL-terminated;
 * it may hold NUL bytes, *outlen says how many bytes). A '%' without two
 * hex digits after it is kept as is. '+' is not a space. Returns NULL when
 * out of memory. */
static char *percent_decode(const char *s, size_t len, size_t *outlen) {
  char *out = malloc(len + 1);
  if (out == NULL)
    return NULL;
  size_t j = 0;
  for (size_t i = 0; i < len; i++) {
    int hi = -1;
    int lo = -1;
    if (s[i] == '%' && len - i >= 3) { /* both digits lie inside s */
      hi = hex_digit(s[i + 1]);
      lo = hex_digit(s[i + 2]);
    }
    if (hi >= 0 && lo >= 0) {
      out[j++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[j++] = s[i];
    }
  }
  out[j] = '\0';
  *outlen = j;
  return out;
}

/* ---- canonical URI ------------------------------------------------------ */

/* Appends the canonical URI of path (rule in signer.h). Returns 0, or -1
 * for a path that does not start with '/' (out of memory is recorded in
 * b). */
static int buf_add_canonical_uri(buf_t *b, const char *path) {
  if (path == NULL || path[0] == '\0') {
    buf_add_char(b, '/');
    return 0;
  }
  if (path[0] != '/')
    return -1;
  size_t len;
  char *plain = percent_decode(path, strlen(path), &len);
  if (plain == NULL) {
    buf_fail(b);
    return 0;
  }
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && plain[i] != '/')
      continue;
    buf_add_escaped(b, plain + start, i - start);
    if (i < len)
      buf_add_char(b, '/');
    start = i + 1;
  }
  if (len == 0 || plain[len - 1] != '/')
    buf_add_char(b, '/');
  free(plain);
  return 0;
}

/* ---- canonical query ---------------------------------------------------- */

/* One decoded query pair; both strings are malloc'd and may hold NULs. */
typedef struct {
  char *key;
  size_t key_len;
  char *value;
  size_t value_len;
} query_pair_t;

/* Frees n pairs and the array. */
static void query_pairs_free(query_pair_t *pairs, size_t n) {
  if (pairs == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    free(pairs[i].key);
    free(pairs[i].value);
  }
  free(pairs);
}

/* Decodes one "k=v" part (len bytes, no '&') into *pair. Returns 1 when a
 * pair was stored, 0 when the part is skipped (empty key), -1 when out of
 * memory. */
static int query_pair_decode(const char *part, size_t len, query_pair_t *pair) {
  const char *eq = memchr(part, '=', len);
  size_t key_len = eq != NULL ? (size_t)(eq - part) : len;
  if (key_len == 0)
    return 0;
  const char *value = eq != NULL ? eq + 1 : part + len;
  size_t value_len = len - key_len - (eq != NULL ? 1 : 0);
  pair->key = percent_decode(part, key_len, &pair->key_len);
  pair->value = percent_decode(value, value_len, &pair->value_len);
  if (pair->key == NULL || pair->value == NULL) {
    free(pair->key);
    free(pair->value);
    return -1;
  }
  return 1;
}

/* Splits query on '&' and decodes every pair into a malloc'd array
 * (*out, *count; NULL and 0 when there is none). Returns 0, or -1 when out
 * of memory. */
static int query_pairs_parse(const char *query, query_pair_t **out,
                             size_t *count) {
  *out = NULL;
  *count = 0;
  size_t parts = 1;
  for (const char *p = query; *p != '\0'; p++)
    if (*p == '&')
      parts++;
  query_pair_t *pairs = calloc(parts, sizeof(*pairs));
  if (pairs == NULL)
    return -1;
  size_t n = 0;
  const char *part = query;
  for (;;) {
    size_t len = strcspn(part, "&");
    if (len > 0) {
      int rc = query_pair_decode(part, len, &pairs[n]);
      if (rc < 0) {
        query_pairs_free(pairs, n);
        return -1;
      }
      n += (size_t)rc;
    }
    if (part[len] == '\0')
      break;
    part += len + 1;
  }
  *out = pairs;
  *count = n;
  return 0;
}

/* Orders two byte strings as unsigned bytes, a prefix first. */
static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0)
    return c;
  return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* qsort order of query pairs: by key, then by value. */
static int query_pair_cmp(const void *a, const void *b) {
  const query_pair_t *x = a;
  const query_pair_t *y = b;
  int c = bytes_cmp(x->key, x->key_len, y->key, y->key_len);
  if (c != 0)
    return c;
  return bytes_cmp(x->value, x->value_len, y->value, y->value_len);
}

/* Appends the canonical query of query (rule in signer.h). Failure is
 * recorded in b. */
static void buf_add_canonical_query(buf_t *b, const char *query) {
  if (query == NULL || query[0] == '\0' || b->failed)
    return;
  query_pair_t *pairs;
  size_t n;
  if (query_pairs_parse(query, &pairs, &n) != 0) {
    buf_fail(b);
    return;
  }
  qsort(pairs, n, sizeof(*pairs), query_pair_cmp);
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      buf_add_char(b, '&');
    buf_add_escaped(b, pairs[i].key, pairs[i].key_len);
    buf_add_char(b, '=');
    buf_add_escaped(b, pairs[i].value, pairs[i].value_len);
  }
  query_pairs_free(pairs, n);
}

char *hss_sign_canonical_query(const char *query) {
  buf_t b = {0};
  buf_add_canonical_query(&b, query);
  return buf_finish(&b);
}

/* ---- canonical headers -------------------------------------------------- */

/* One header to sign: the lower-cased name (malloc'd) and the trimmed
 * value (pointing into the caller's string). */
typedef struct {
  char *name;
  const char *value;
  size_t value_len;
} canon_header_t;

/* True for an RFC 9110 token character. */
static bool is_tchar(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* The name lower-cased, malloc'd; NULL when it is empty, not a token, or
 * out of memory. */
static char *header_name_lower(const char *name) {
  if (name == NULL || name[0] == '\0')
    return NULL;
  size_t len = strlen(name);
  for (size_t i = 0; i < len; i++)
    if (!is_tchar((unsigned char)name[i]))
      return NULL;
  char *lower = malloc(len + 1);
  if (lower == NULL)
    return NULL;
  for (size_t i = 0; i <= len; i++) {
    char c = name[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  return lower;
}

/* Trims spaces and tabs off value into h. Returns 0, or -1 when value is
 * NULL or holds a control byte other than tab (CR and LF included). */
static int header_value_trim(const char *value, canon_header_t *h) {
  if (value == NULL)
    return -1;
  for (const char *p = value; *p != '\0'; p++) {
    unsigned char c = (unsigned char)*p;
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return -1;
  }
  size_t len = strlen(value);
  while (len > 0 && (*value == ' ' || *value == '\t')) {
    value++;
    len--;
  }
  while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
    len--;
  h->value = value;
  h->value_len = len;
  return 0;
}

/* Frees n prepared headers and the array. */
static void canon_headers_free(canon_header_t *h, size_t n) {
  if (h == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(h[i].name);
  free(h);
}

/* qsort order of prepared headers: by lower-cased name. */
static int canon_header_cmp(const void *a, const void *b) {
  const canon_header_t *x = a;
  const canon_header_t *y = b;
  return strcmp(x->name, y->name);
}

/* Lower-cases, trims and sorts the request's headers into a malloc'd
 * array of r->headers_num entries (*out; NULL when there is none).
 * Returns 0, or -1 on a bad name or value, a repeated name, or out of
 * memory. */
static int canon_headers_prepare(const hss_sign_request_t *r,
                                 canon_header_t **out) {
  *out = NULL;
  size_t n = r->headers_num;
  if (n == 0)
    return 0;
  canon_header_t *h = calloc(n, sizeof(*h));
  if (h == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    h[i].name = header_name_lower(r->headers[i].name);
    if (h[i].name == NULL || header_value_trim(r->headers[i].value, &h[i])) {
      canon_headers_free(h, n);
      return -1;
    }
  }
  qsort(h, n, sizeof(*h), canon_header_cmp);
  for (size_t i = 1; i < n; i++) {
    if (strcmp(h[i - 1].name, h[i].name) == 0) {
      canon_headers_free(h, n);
      return -1;
    }
  }
  *out = h;
  return 0;
}

/* Appends "name:value\n" for each header, then one more "\n" when there
 * is none (the SDKs' join-plus-newline). Failure is recorded in b. */
static void buf_add_canonical_headers(buf_t *b, const canon_header_t *h,
                                      size_t n) {
  for (size_t i = 0; i < n; i++) {
    buf_add_str(b, h[i].name);
    buf_add_char(b, ':');
    buf_add(b, h[i].value, h[i].value_len);
    buf_add_char(b, '\n');
  }
  if (n == 0)
    buf_add_char(b, '\n');
}

/* Appends the names joined by ';'. Failure is recorded in b. */
static void buf_add_signed_headers(buf_t *b, const canon_header_t *h,
                                   size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      buf_add_char(b, ';');
    buf_add_str(b, h[i].name);
  }
}

/* ---- digests ------------------------------------------------------------ */

/* Writes len bytes of md as lower-case hex plus a NUL into hex. */
static void hex_lower(const unsigned char *md, size_t len, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 0x0f];
  }
  hex[2 * len] = '\0';
}

/* Lower-hex SHA-256 of len bytes of data into hex. Returns 0, or -1 when
 * libcrypto fails. */
static int sha256_hex(const void *data, size_t len,
                      char hex[SHA256_HEX_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  static const unsigned char empty[1] = {0};
  if (EVP_Digest(len > 0 ? data : empty, len, md, &md_len, EVP_sha256(),
                 NULL) != 1 ||
      md_len != SHA256_LEN)
    return -1;
  hex_lower(md, md_len, hex);
  return 0;
}

/* Lower-hex HMAC-SHA256 of data keyed by the bytes of key into hex.
 * Wipes the raw MAC. Returns 0, or -1 when the key is too long or
 * libcrypto fails. */
static int hmac_sha256_hex(const char *key, const char *data,
                           char hex[SHA256_HEX_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  size_t key_len = strlen(key);
  if (key_len > INT_MAX)
    return -1;
  unsigned char *ok =
      HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data,
           strlen(data), md, &md_len);
  int rc = -1;
  if (ok != NULL && md_len == SHA256_LEN) {
    hex_lower(md, md_len, hex);
    rc = 0;
  }
  OPENSSL_cleanse(md, sizeof(md));
  return rc;
}

/* ---- canonical request -------------------------------------------------- */

/* True for a method of 1 to METHOD_MAX upper-case letters. */
static bool method_valid(const char *method) {
  if (method == NULL || method[0] == '\0')
    return false;
  size_t len = strlen(method);
  if (len > METHOD_MAX)
    return false;
  for (size_t i = 0; i < len; i++)
    if (method[i] < 'A' || method[i] > 'Z')
      return false;
  return true;
}

/* True when the request's fields are usable for a canonical request. */
static bool request_valid(const hss_sign_request_t *r) {
  if (r == NULL || !method_valid(r->method))
    return false;
  if (r->headers == NULL && r->headers_num > 0)
    return false;
  if (r->body == NULL && r->body_len > 0)
    return false;
  return true;
}

/* The canonical request of r with its prepared headers h (n of them).
 * malloc'd; NULL on a bad path or failure. */
static char *canonical_request_build(const hss_sign_request_t *r,
                                     const canon_header_t *h, size_t n) {
  char body_hash[SHA256_HEX_LEN + 1];
  if (sha256_hex(r->body, r->body_len, body_hash) != 0)
    return NULL;
  buf_t b = {0};
  buf_add_str(&b, r->method);
  buf_add_char(&b, '\n');
  if (buf_add_canonical_uri(&b, r->path) != 0) {
    free(b.p);
    return NULL;
  }
  buf_add_char(&b, '\n');
  buf_add_canonical_query(&b, r->query);
  buf_add_char(&b, '\n');
  buf_add_canonical_headers(&b, h, n);
  buf_add_char(&b, '\n');
  buf_add_signed_headers(&b, h, n);
  buf_add_char(&b, '\n');
  buf_add_str(&b, body_hash);
  return buf_finish(&b);
}

char *hss_sign_canonical_request(const hss_sign_request_t *r) {
  if (!request_valid(r))
    return NULL;
  canon_header_t *h;
  if (canon_headers_prepare(r, &h) != 0)
    return NULL;
  char *text = canonical_request_build(r, h, r->headers_num);
  canon_headers_free(h, r->headers_num);
  return text;
}

/* ---- date --------------------------------------------------------------- */

#define DATE_MIN_SECONDS (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define DATE_MAX_SECONDS 253402300799LL   /* 9999-12-31T23:59:59Z */

/* The proleptic Gregorian date of a day count from 1970-01-01. */
static void civil_from_days(int64_t days, int *year, int *month, int *day) {
  days += 719468; /* days from 0000-03-01 to 1970-01-01 */
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097; /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                      /* March = 0 */
  *day = (int)(doy - (153 * mp + 2) / 5 + 1);
  *month = (int)(mp < 10 ? mp + 3 : mp - 9);
  *year = (int)(yoe + era * 400 + (*month <= 2 ? 1 : 0));
}

/* Writes value (0 <= value < 10^width) as width decimal digits. */
static void put_digits(char *out, int value, int width) {
  for (int i = width - 1; i >= 0; i--) {
    out[i] = (char)('0' + value % 10);
    value /= 10;
  }
}

void hss_sign_date(int64_t unix_time, char buf[17]) {
  if (unix_time < DATE_MIN_SECONDS)
    unix_time = DATE_MIN_SECONDS;
  if (unix_time > DATE_MAX_SECONDS)
    unix_time = DATE_MAX_SECONDS;
  int64_t days = unix_time / 86400;
  int64_t secs = unix_time % 86400;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  int year, month, day;
  civil_from_days(days, &year, &month, &day);
  put_digits(buf, year, 4);
  put_digits(buf + 4, month, 2);
  put_digits(buf + 6, day, 2);
  buf[8] = 'T';
  put_digits(buf + 9, (int)(secs / 3600), 2);
  put_digits(buf + 11, (int)(secs / 60 % 60), 2);
  put_digits(buf + 13, (int)(secs % 60), 2);
  buf[15] = 'Z';
  buf[16] = '\0';
}

/* ---- authorization ------------------------------------------------------ */

/* True for a value of the form YYYYMMDDTHHMMSSZ (len bytes). */
static bool date_valid(const char *s, size_t len) {
  if (len != DATE_LEN || s[8] != 'T' || s[15] != 'Z')
    return false;
  for (size_t i = 0; i < DATE_LEN; i++) {
    if (i == 8 || i == 15)
      continue;
    if (s[i] < '0' || s[i] > '9')
      return false;
  }
  return true;
}

/* The prepared x-sdk-date header among h, or NULL. */
static const canon_header_t *find_date_header(const canon_header_t *h,
                                              size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(h[i].name, "x-sdk-date") == 0)
      return &h[i];
  return NULL;
}

/* True for a non-empty access key of visible ASCII without ',' (it is
 * written unquoted into the header). */
static bool access_key_valid(const char *ak) {
  if (ak == NULL || ak[0] == '\0')
    return false;
  for (const char *p = ak; *p != '\0'; p++)
    if (*p <= ' ' || *p > '~' || *p == ',')
      return false;
  return true;
}

/* "SDK-HMAC-SHA256\n<date>\n<hex SHA-256 of canonical>", malloc'd; NULL
 * on failure. */
static char *string_to_sign(const canon_header_t *date, const char *canonical) {
  char hash[SHA256_HEX_LEN + 1];
  if (sha256_hex(canonical, strlen(canonical), hash) != 0)
    return NULL;
  buf_t b = {0};
  buf_add_str(&b, HSS_SIGN_ALGORITHM "\n");
  buf_add(&b, date->value, date->value_len);
  buf_add_char(&b, '\n');
  buf_add_str(&b, hash);
  return buf_finish(&b);
}

/* Writes the header value for the prepared headers h and signature sig
 * into out. Returns 0, or -1 (out wiped) when it does not fit. */
static int authorization_format(const char *ak, const canon_header_t *h,
                                size_t n, const char *sig, char *out,
                                size_t outlen) {
  buf_t names = {0};
  buf_add_signed_headers(&names, h, n);
  char *signed_headers = buf_finish(&names);
  if (signed_headers == NULL)
    return -1;
  int len =
      snprintf(out, outlen, "%s Access=%s, SignedHeaders=%s, Signature=%s",
               HSS_SIGN_ALGORITHM, ak, signed_headers, sig);
  free(signed_headers);
  if (len < 0 || (size_t)len >= outlen) {
    OPENSSL_cleanse(out, outlen);
    return -1;
  }
  return 0;
}

/* Signs r with its prepared headers h (n of them) into out. Returns 0 or
 * -1. Wipes the signature buffer. */
static int authorization_build(const hss_sign_request_t *r,
                               const canon_header_t *h, size_t n, char *out,
                               size_t outlen) {
  const canon_header_t *date = find_date_header(h, n);
  if (date == NULL || !date_valid(date->value, date->value_len))
    return -1;
  char *canonical = canonical_request_build(r, h, n);
  if (canonical == NULL)
    return -1;
  char *sts = string_to_sign(date, canonical);
  free(canonical);
  if (sts == NULL)
    return -1;
  char sig[SHA256_HEX_LEN + 1];
  int rc = hmac_sha256_hex(r->secret_key, sts, sig);
  free(sts);
  if (rc == 0)
    rc = authorization_format(r->access_key, h, n, sig, out, outlen);
  OPENSSL_cleanse(sig, sizeof(sig));
  return rc;
}

int hss_sign_authorization(const hss_sign_request_t *r, char *out,
                           size_t outlen) {
  if (out == NULL || outlen == 0)
    return -1;
  out[0] = '\0';
  if (!request_valid(r) || !access_key_valid(r->access_key) ||
      r->secret_key == NULL || r->secret_key[0] == '\0')
    return -1;
  canon_header_t *h;
  if (canon_headers_prepare(r, &h) != 0)
    return -1;
  int rc = authorization_build(r, h, r->headers_num, out, outlen);
  canon_headers_free(h, r->headers_num);
  if (rc != 0)
    out[0] = '\0';
  return rc;
}

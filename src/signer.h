/* signer.h - the AK/SK request signer, algorithm SDK-HMAC-SHA256 (Huawei
 * Cloud API Gateway). Pure: no globals, no I/O, no logging, no collectd.
 * SHA-256 and HMAC-SHA256 come from OpenSSL's libcrypto.
 *
 * Canonical request (project notes huawei-cloud-api.md, "AK/SK signing",
 * steps 2-7):
 *
 *   METHOD \n URI \n QUERY \n CANONICAL_HEADERS \n SIGNED_HEADERS \n HASH
 *
 * Percent-encoding keeps A-Z a-z 0-9 - _ . ~ and writes every other byte
 * as %XX (upper-case hex), byte by byte, so UTF-8 "é" is "%C3%A9".
 *
 * Path rule (the canonical URI). The path is percent-decoded once (a '%'
 * not followed by two hex digits is kept as a literal '%'), split on '/',
 * each segment is encoded as above, the segments are joined with '/', and
 * a '/' is appended when the result does not end in one. NULL or "" is
 * "/"; a path that does not start with '/' is refused. So an already
 * encoded path and its decoded form sign the same: "/a%20b", "/a b" and
 * "/a%20b/" all give "/a%20b/", "/%7Eu" gives "/~u/". Why decode first:
 * the Python SDK (huaweicloudsdkcore/signer/signer.py
 * process_canonical_uri, and the API Gateway's own signer.py CanonicalURI)
 * does unquote(path).split('/') then quote() per segment; the Go SDK
 * (huaweicloud-sdk-go-v3 core/auth/signer canonicalURI) escapes the
 * segments of DefaultHttpRequest's path, which is the decoded path (it is
 * assigned to net/url's URL.Path, which net/http encodes on the wire).
 * Consequence, as in both SDKs: an encoded slash "%2F" is decoded before
 * the split and so becomes a separator ("/a%2Fb" signs as "/a/b/"). Never
 * send "%2F" in a path segment.
 *
 * Query rule (the canonical query). The raw query is split on '&'; empty
 * parts are skipped; each part is split at its first '=' (later '=' belong
 * to the value); a part without '=' is a key with the empty value and is
 * signed as "key=" (the Python signer gives it the value "", and the Go
 * SDK sends an empty value as a bare "key" on the wire while signing
 * "key="); a part with an empty key ("=v") is skipped, as the Python
 * signer does. Key and value are percent-decoded like the path; '+' is a
 * literal plus (encoded %2B), not a space (Python's unquote, RFC 3986). The
 * pairs are sorted by decoded key, then decoded value, as bytes (repeated
 * keys are all kept: "a=2&a=1" gives "a=1&a=2"), and written enc(k)=enc(v)
 * joined by '&'. Keys keep their case. Best practice, as the Python SDK
 * does: send the query exactly as hss_sign_canonical_query() returns it,
 * so that the gateway cannot read it differently from the signer.
 *
 * Header rule. Names are lower-cased and must be HTTP tokens; two headers
 * whose names differ only in case are refused (the signature would be
 * ambiguous). Values are trimmed of leading and trailing spaces and tabs
 * and must not hold CR, LF or other control bytes (tab excepted). The
 * canonical headers are "name:value\n" sorted by name; the signed headers
 * are the names joined by ';'. Every header given is signed: the caller
 * passes exactly the headers to sign (at least X-Sdk-Date; add Host,
 * X-Project-Id, X-Security-Token as the notes require).
 *
 * The method must be upper-case letters ("GET", "POST"). The payload hash
 * is the lower-hex SHA-256 of the body (of "" when body_len is 0). */
#ifndef HSS_SIGNER_H
#define HSS_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#define HSS_SIGN_ALGORITHM "SDK-HMAC-SHA256"
#define HSS_SIGN_DATE_HEADER "X-Sdk-Date"

typedef struct {
  const char *name;
  const char *value;
} hss_sign_header_t;

typedef struct {
  const char *method; /* "GET", "POST" */
  const char *path;   /* raw URI path as sent, encoded or not (see above) */
  const char *query;  /* raw query string without '?', or NULL/"" */
  const hss_sign_header_t *headers; /* the headers to sign, any case,
                                       values untrimmed */
  size_t headers_num;
  const void *body; /* NULL/0 for empty */
  size_t body_len;
  const char *access_key;
  const char *secret_key; /* never copied anywhere but the HMAC key */
} hss_sign_request_t;

/* "YYYYMMDDTHHMMSSZ" of a Unix time, UTC, into buf (>= 17 bytes). Times
 * before 0000-01-01 or after 9999-12-31T23:59:59Z are clamped to those. */
void hss_sign_date(int64_t unix_time, char buf[17]);

/* Percent-encodes len bytes of s (keep A-Z a-z 0-9 - _ . ~, every other
 * byte %XX upper-case), NUL bytes included. malloc'd; NULL when out of
 * memory or when s is NULL and len is not 0. */
char *hss_sign_escape(const char *s, size_t len);

/* The canonical query of a raw query (rules above); "" for NULL, "" or
 * a query with no pair. malloc'd; NULL when out of memory. */
char *hss_sign_canonical_query(const char *query);

/* The canonical request text (steps 3-7 of the notes, rules above).
 * malloc'd; NULL on bad input (method, path, header name or value, body
 * NULL with a length) or when out of memory. access_key and secret_key
 * are not used. */
char *hss_sign_canonical_request(const hss_sign_request_t *r);

/* Fills out (size outlen) with the value of the Authorization header:
 * "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2>, Signature=<hex>".
 * The X-Sdk-Date header (any case) must be among r->headers with a value
 * of the form YYYYMMDDTHHMMSSZ: it is the date of the string to sign.
 * Returns 0, or -1 (bad input, empty or malformed access key, empty
 * secret key, missing or malformed X-Sdk-Date, out of memory, out of
 * space); on -1, out holds "" when outlen > 0. Wipes its intermediate
 * buffers that depend on the key. */
int hss_sign_authorization(const hss_sign_request_t *r, char *out,
                           size_t outlen);

#endif

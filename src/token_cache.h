/* token_cache.h - one project's IAM token: when to use it, when to fetch a
 * new one, and the back-off after failed fetches. Pure: every decision
 * takes the current Unix time, so tests drive it with a fake clock. */
#ifndef HSS_TOKEN_CACHE_H
#define HSS_TOKEN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define HSS_TOKEN_REFRESH_MAX 3600 /* refresh when < 1 h remains ... */
#define HSS_TOKEN_EXPIRY_MARGIN                                                \
  30 /* never send a token this close to expiry                                \
       (or a 20th of a shorter lifetime) */
#define HSS_TOKEN_BACKOFF_MIN 5
#define HSS_TOKEN_BACKOFF_MAX 300

typedef struct {
  char *token;        /* NULL when none; never logged */
  int64_t issued_at;  /* local time when it was received */
  int64_t expires_at; /* from token.expires_at */
  int64_t retry_at;   /* no fetch before this after a failure */
  unsigned failures;  /* consecutive failed fetches */
} hss_token_cache_t;

/* True when the cached token may be sent now. */
bool hss_token_usable(const hss_token_cache_t *c, int64_t now);

/* True when a new token should be fetched now: none, expired, or less than
 * min(1 h, a tenth of its lifetime) left; false while backing off. */
bool hss_token_wants_refresh(const hss_token_cache_t *c, int64_t now);

/* Seconds until the back-off allows a fetch (0 when allowed). */
int64_t hss_token_backoff_left(const hss_token_cache_t *c, int64_t now);

/* Stores a fresh token (copied). Returns 0 or -1 (allocation failure). */
int hss_token_store(hss_token_cache_t *c, const char *token, int64_t expires_at,
                    int64_t now);

/* Records a failed fetch: back-off doubles from 5 s up to 5 min. */
void hss_token_failed(hss_token_cache_t *c, int64_t now);

/* Drops the token after the API rejected it (401), so the next poll
 * fetches a new one at once. The back-off is not touched. */
void hss_token_invalidate(hss_token_cache_t *c);

/* Wipes and frees the token. */
void hss_token_clear(hss_token_cache_t *c);

#endif

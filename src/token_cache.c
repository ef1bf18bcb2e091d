/* token_cache.c - IAM token lifetime and fetch back-off decisions. */
#include "token_cache.h"

#include "secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Seconds the credential was valid for when it was received. */
static int64_t lifetime(const hss_token_cache_t *c) {
  return c->expires_at - c->issued_at;
}

/* Seconds before expiry at which a credential is no longer sent:
 * HSS_TOKEN_EXPIRY_MARGIN, or a twentieth of a shorter lifetime. */
static int64_t expiry_margin(const hss_token_cache_t *c) {
  int64_t twentieth = lifetime(c) > 0 ? lifetime(c) / 20 : 0;
  return twentieth < HSS_TOKEN_EXPIRY_MARGIN ? twentieth
                                             : HSS_TOKEN_EXPIRY_MARGIN;
}

bool hss_token_usable(const hss_token_cache_t *c, int64_t now) {
  return c->token != NULL && now < c->expires_at - expiry_margin(c);
}

/* Seconds before expiry at which a refresh is due. */
static int64_t refresh_window(const hss_token_cache_t *c) {
  int64_t tenth = lifetime(c) > 0 ? lifetime(c) / 10 : 0;
  return tenth < HSS_TOKEN_REFRESH_MAX ? tenth : HSS_TOKEN_REFRESH_MAX;
}

int64_t hss_token_backoff_left(const hss_token_cache_t *c, int64_t now) {
  return c->retry_at > now ? c->retry_at - now : 0;
}

bool hss_token_wants_refresh(const hss_token_cache_t *c, int64_t now) {
  if (hss_token_backoff_left(c, now) > 0)
    return false;
  if (!hss_token_usable(c, now))
    return true;
  return c->expires_at - now <= refresh_window(c);
}

int hss_token_store(hss_token_cache_t *c, const char *token, int64_t expires_at,
                    int64_t now) {
  char *copy = strdup(token);
  if (copy == NULL)
    return -1;
  hss_wipe_free(c->token);
  c->token = copy;
  c->issued_at = now;
  c->expires_at = expires_at;
  c->failures = 0;
  c->retry_at = 0;
  return 0;
}

void hss_token_failed(hss_token_cache_t *c, int64_t now) {
  int64_t delay = HSS_TOKEN_BACKOFF_MIN;
  for (unsigned i = 0; i < c->failures && delay < HSS_TOKEN_BACKOFF_MAX; i++)
    delay *= 2;
  if (delay > HSS_TOKEN_BACKOFF_MAX)
    delay = HSS_TOKEN_BACKOFF_MAX;
  c->failures++;
  c->retry_at = now + delay;
}

void hss_token_invalidate(hss_token_cache_t *c) {
  hss_wipe_free(c->token);
  c->token = NULL;
}

void hss_token_clear(hss_token_cache_t *c) {
  hss_wipe_free(c->token);
  memset(c, 0, sizeof(*c));
}

/* shard.c - rendezvous hashing with SHA-256 from libcrypto. */
#include "shard.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

uint64_t hss_shard_weight(const char *poller, const char *key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  uint64_t weight = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
      EVP_DigestUpdate(ctx, poller, strlen(poller) + 1) == 1 &&
      EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
      EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= 8) {
    for (int i = 0; i < 8; i++)
      weight = (weight << 8) | md[i];
  }
  EVP_MD_CTX_free(ctx);
  return weight;
}

size_t hss_shard_apportion(size_t calls, const size_t *weights, size_t n,
                           size_t me) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += weights[i];
  if (me >= n || weights[me] == 0 || total == 0)
    return 0;
  size_t *alloc = calloc(n, sizeof(*alloc));
  bool *bumped = calloc(n, sizeof(*bumped));
  size_t mine = 0;
  if (alloc != NULL && bumped != NULL) {
    /* Whole quotas first. */
    size_t given = 0;
    for (size_t i = 0; i < n; i++) {
      alloc[i] = (size_t)((double)calls * (double)weights[i] / (double)total);
      given += alloc[i];
    }
    /* What rounding down left, to the largest remainders. */
    for (size_t left = calls > given ? calls - given : 0; left > 0; left--) {
      size_t best = n;
      double best_rem = -1.0;
      for (size_t i = 0; i < n; i++) {
        double exact = (double)calls * (double)weights[i] / (double)total;
        double rem = exact - (double)(size_t)exact;
        if (weights[i] > 0 && !bumped[i] && rem > best_rem) {
          best = i;
          best_rem = rem;
        }
      }
      if (best == n)
        break;
      bumped[best] = true;
      alloc[best]++;
    }
    /* A part left without a call takes one from the largest allocation. */
    for (size_t i = 0; i < n; i++) {
      if (weights[i] == 0 || alloc[i] > 0)
        continue;
      size_t donor = n;
      for (size_t j = 0; j < n; j++)
        if (alloc[j] > 1 && (donor == n || alloc[j] > alloc[donor]))
          donor = j;
      if (donor == n)
        break; /* fewer calls than parts */
      alloc[donor]--;
      alloc[i] = 1;
    }
    mine = alloc[me];
  }
  free(alloc);
  free(bumped);
  return mine;
}

size_t hss_shard_owner(const char *key, const char *const *pollers,
                       size_t pollers_num) {
  size_t best = 0;
  uint64_t best_weight = hss_shard_weight(pollers[0], key);
  for (size_t i = 1; i < pollers_num; i++) {
    uint64_t w = hss_shard_weight(pollers[i], key);
    if (w > best_weight ||
        (w == best_weight && strcmp(pollers[i], pollers[best]) < 0)) {
      best = i;
      best_weight = w;
    }
  }
  return best;
}

/* shard.c - rendezvous hashing with SHA-256 from libcrypto. */
#include "shard.h"

#include <openssl/evp.h>
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

/* shard.h - which poller of a fleet polls which project: rendezvous
 * (highest random weight) hashing over the configured poller names, so
 * every host computes the same answer from the same config, and a change of
 * the poller list moves only the projects of the pollers that came or
 * went. */
#ifndef HSS_SHARD_H
#define HSS_SHARD_H

#include <stddef.h>
#include <stdint.h>

/* The weight of (poller, key): the first 8 bytes of SHA-256(poller NUL key),
 * big-endian. */
uint64_t hss_shard_weight(const char *poller, const char *key);

/* Index of the poller that owns key: the highest weight, ties broken by
 * the lower name. pollers_num must be > 0. */
size_t hss_shard_owner(const char *key, const char *const *pollers,
                       size_t pollers_num);

/* The calls of a budget of `calls` per window that part `me` of n parts
 * gets, as whole calls per the same window so that the parts' sliding
 * windows can never add up to more than `calls`: in proportion to
 * weights[] (largest remainder, ties to the lower index), parts of weight 0
 * none, and every other part at least 1 as long as calls allow (else 0 for
 * the lightest). */
size_t hss_shard_apportion(size_t calls, const size_t *weights, size_t n,
                           size_t me);

#endif

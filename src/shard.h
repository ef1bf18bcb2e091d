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

#endif

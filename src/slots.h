/* slots.h - who gets a free transfer slot (MaxConcurrency) when polls of
 * several accounts are due together. An account's first poll in flight may
 * always take a free slot; a further one only if it leaves a slot for each
 * other account that has none in flight (up to half of the slots), so
 * accounts whose endpoints hang until the Timeout cannot hold the others
 * back. A free slot goes to the account with the fewest polls in flight,
 * then to the poll due first. Pure. */
#ifndef HSS_SLOTS_H
#define HSS_SLOTS_H

#include <stdbool.h>
#include <stddef.h>

/* A due poll that wants a slot. */
typedef struct {
  size_t account; /* index into the in-flight counts */
  double due;     /* when it became due: earlier goes first */
} hss_slot_claim_t;

/* Whether an account with in_flight polls in flight may start one more,
 * with `active` of `slots` taken and `idle` accounts (of those sharing the
 * slots) that have none in flight. */
bool hss_slots_may_start(size_t slots, size_t active, size_t in_flight,
                         size_t idle);

/* The claim to serve next, among those whose account may start one more
 * (in_flight[account]): the fewest in flight, then the earliest due, then
 * the lowest index. Returns n when none may start. */
size_t hss_slots_pick(const hss_slot_claim_t *claims, size_t n,
                      const size_t *in_flight, size_t slots, size_t active,
                      size_t idle);

#endif

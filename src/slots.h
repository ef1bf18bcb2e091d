/* slots.h - who gets a free transfer slot (MaxConcurrency) when polls of
 * several accounts are due together. An account may not take every slot:
 * it leaves one to each other account, up to half of them, so an endpoint
 * that hangs until the Timeout cannot hold back the others. A free slot
 * goes to the account with the fewest polls in flight, then to the poll
 * due first. Pure. */
#ifndef HSS_SLOTS_H
#define HSS_SLOTS_H

#include <stddef.h>

/* A due poll that wants a slot. */
typedef struct {
  size_t account; /* index into the in-flight counts */
  double due;     /* when it became due: earlier goes first */
} hss_slot_claim_t;

/* The most polls one account may have in flight when `accounts` accounts
 * share `slots` slots: slots - min(accounts - 1, slots / 2), at least 1. */
size_t hss_slots_account_cap(size_t slots, size_t accounts);

/* The claim to serve next, among those whose account has fewer than cap
 * polls in flight (in_flight[account]): the fewest in flight, then the
 * earliest due, then the lowest index. Returns n when none may start. */
size_t hss_slots_pick(const hss_slot_claim_t *claims, size_t n,
                      const size_t *in_flight, size_t cap);

#endif

/* slots.c - fair shares of the transfer slots between accounts. */
#include "slots.h"

bool hss_slots_may_start(size_t slots, size_t active, size_t in_flight,
                         size_t idle) {
  if (active >= slots)
    return false;
  if (in_flight == 0)
    return true;
  size_t reserve = idle < slots / 2 ? idle : slots / 2;
  return slots - active - 1 >= reserve;
}

size_t hss_slots_pick(const hss_slot_claim_t *claims, size_t n,
                      const size_t *in_flight, size_t slots, size_t active,
                      size_t idle) {
  size_t best = n;
  for (size_t i = 0; i < n; i++) {
    size_t busy = in_flight[claims[i].account];
    if (!hss_slots_may_start(slots, active, busy, idle))
      continue;
    if (best == n) {
      best = i;
      continue;
    }
    size_t best_busy = in_flight[claims[best].account];
    if (busy < best_busy ||
        (busy == best_busy && claims[i].due < claims[best].due))
      best = i;
  }
  return best;
}

/* slots.c - fair shares of the transfer slots between accounts. */
#include "slots.h"

size_t hss_slots_account_cap(size_t slots, size_t accounts) {
  if (slots == 0)
    return 1;
  size_t others = accounts > 1 ? accounts - 1 : 0;
  size_t reserve = others < slots / 2 ? others : slots / 2;
  return slots - reserve;
}

size_t hss_slots_pick(const hss_slot_claim_t *claims, size_t n,
                      const size_t *in_flight, size_t cap) {
  size_t best = n;
  for (size_t i = 0; i < n; i++) {
    size_t busy = in_flight[claims[i].account];
    if (busy >= cap)
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

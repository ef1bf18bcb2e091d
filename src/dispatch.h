/* dispatch.h - poll results into collectd: one value per field the API
 * returned, and rate-limited log lines for failures and bad fields. */
#ifndef HSS_DISPATCH_H
#define HSS_DISPATCH_H

#include "hss_config.h"
#include "poller.h"

/* Prepares per-project log state. Returns 0 or -1. */
int hss_dispatch_init(const hss_config_t *cfg);

/* The poller's result callback: logs and dispatches. */
void hss_dispatch_result(const hss_poll_result_t *result, void *ud);

/* Frees the per-project state. */
void hss_dispatch_free(void);

#endif

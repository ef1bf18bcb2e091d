/* dispatch.h - poll results into collectd: one value per field the API
 * returned, the plugin's own health at every poll (bool-up, duration-poll,
 * derive-poll_errors), FAILURE/OKAY notifications when a project goes down
 * or recovers, and rate-limited log lines for failures and bad fields. */
#ifndef HSS_DISPATCH_H
#define HSS_DISPATCH_H

#include "hss_config.h"
#include "poller.h"

/* Prepares per-project log state. Returns 0 or -1. */
int hss_dispatch_init(const hss_config_t *cfg);

/* The poller's result callback: logs and dispatches. A failed poll
 * dispatches the three self-metrics and no statistics. Called from one
 * thread at a time (the poller's, or collectd -T's read callback). */
void hss_dispatch_result(const hss_poll_result_t *result, void *ud);

/* Frees the per-project state. */
void hss_dispatch_free(void);

#endif

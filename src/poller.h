/* poller.h - the engine: one thread and one libcurl multi handle poll every
 * configured project on its schedule, concurrently, fetching IAM tokens as
 * needed, and hand each finished poll to a callback.
 *
 * collectd's read threads are never held: the poller runs on its own
 * thread, and each poll (token fetch, request and one 401 retry together)
 * is bounded by the project's Timeout. hss_poller_stop() aborts transfers in
 * flight and returns at once. */
#ifndef HSS_POLLER_H
#define HSS_POLLER_H

#include <pthread.h>
#include <stdbool.h>

#include "hss_config.h"
#include "parse.h"

typedef enum {
  HSS_POLL_OK = 0,
  HSS_POLL_AUTH,      /* no usable credentials (IAM failing, token rejected) */
  HSS_POLL_TRANSPORT, /* connect/TLS/timeout/size errors */
  HSS_POLL_HTTP,      /* a status other than 200 */
  HSS_POLL_PARSE,     /* 200 but not a JSON object */
  HSS_POLL_INTERNAL   /* out of memory and the like */
} hss_poll_status_t;

typedef struct {
  const hss_project_t *project;
  hss_poll_status_t status;
  long http_status;     /* 0 when no response */
  hss_api_error_t api;  /* error_code / error_msg of an error body */
  char request_id[128]; /* X-Request-Id, or the body's request_id */
  char message[768];    /* the cause, for the log; never a secret */
  char auth_note[384];  /* a credential warning, also on success */
  hss_stats_t stats;    /* valid when status == HSS_POLL_OK */
  double interval;      /* the project's effective poll interval, s */
  double time;          /* wall-clock seconds when the poll finished */
  double duration;      /* seconds the poll took */
} hss_poll_result_t;

typedef void (*hss_result_cb_t)(const hss_poll_result_t *result, void *ud);

/* Creates a thread; collectd's plugin_thread_create fits. */
typedef int (*hss_thread_create_t)(pthread_t *thread, void *(*start)(void *),
                                   void *arg, const char *name);

typedef struct hss_poller_s hss_poller_t;

/* Builds the engine for cfg (borrowed: it must outlive the poller), for
 * the projects that poller_name owns among cfg->pollers (all without
 * Pollers) and, with Threads (parts > 1), only those of the accounts that
 * fall to thread part (0-based): each part takes its share of the plugin
 * budget and of MaxConcurrency. Logs the plan: each project's effective
 * interval. Returns NULL (logged) on failure. */
hss_poller_t *hss_poller_new(const hss_config_t *cfg, const char *poller_name,
                             size_t part, size_t parts, hss_result_cb_t cb,
                             void *ud);

/* How many parts (threads) poll for poller_name: Threads, but no more than
 * the accounts with projects to poll; at least 1. */
size_t hss_poller_parts(const hss_config_t *cfg, const char *poller_name);

/* Projects this poller owns and polls. */
size_t hss_poller_projects(const hss_poller_t *p);

/* Starts the polling thread (create may be NULL for pthread_create).
 * Returns 0 or -1 (logged). */
int hss_poller_start(hss_poller_t *p, hss_thread_create_t create);

/* Polls every project once, on the calling thread, and returns when all
 * polls finished (each within its Timeout). Returns the number of
 * projects whose poll failed. For collectd -T. */
int hss_poller_run_once(hss_poller_t *p);

/* Stops the thread, aborting transfers in flight. Safe to call twice. */
void hss_poller_stop(hss_poller_t *p);

/* Frees the engine (stops it first). */
void hss_poller_free(hss_poller_t *p);

#endif

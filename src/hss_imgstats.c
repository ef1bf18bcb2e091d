/* hss_imgstats.c - collectd glue: registers the callbacks and wires the
 * configuration, the poller and dispatch together. No logic lives here. */
#include "collectd.h"

#include "configfile.h"
#include "plugin.h"
#include "utils/common/common.h"

#include <curl/curl.h>

#include "dispatch.h"
#include "hss_config.h"
#include "hss_log.h"
#include "poller.h"

static hss_config_t config;
static bool config_failed;
static hss_poller_t *pollers[HSS_THREADS_MAX]; /* one per Threads */
static size_t pollers_num;

/* Projects polled by all the pollers together. */
static size_t projects_polled(void) {
  size_t n = 0;
  for (size_t i = 0; i < pollers_num; i++)
    n += hss_poller_projects(pollers[i]);
  return n;
}

/* Frees every poller (stopping its thread first). */
static void pollers_free(void) {
  for (size_t i = 0; i < pollers_num; i++)
    hss_poller_free(pollers[i]);
  pollers_num = 0;
}

/* Forwards the core's log lines to collectd's log. */
static void log_to_collectd(int level, const char *message) {
  plugin_log(level, "%s", message);
}

static int hss_config(oconfig_item_t *ci) {
  double interval = CDTIME_T_TO_DOUBLE(plugin_get_interval());
  if (hss_config_parse(ci, interval, &config) != 0) {
    config_failed = true;
    return -1;
  }
  return 0;
}

/* collectd -T sets ReadThreads to -1: then polls run on the caller's thread
 * through a read callback, so that the test run sees them. */
static bool test_mode(void) {
  const char *threads = global_option_get("ReadThreads");
  return threads != NULL && atoi(threads) == -1;
}

/* collectd -T: polls every project once; fails when any poll failed. */
static int hss_read_once(user_data_t *ud) {
  (void)ud;
  int failed = 0;
  for (size_t i = 0; i < pollers_num; i++)
    failed += hss_poller_run_once(pollers[i]);
  if (failed > 0) {
    ERROR("hss_imgstats plugin: %d of %zu projects could not be polled "
          "(see above).",
          failed, projects_polled());
    return -1;
  }
  INFO("hss_imgstats plugin: all %zu projects polled successfully.",
       projects_polled());
  return 0;
}

static int hss_init(void) {
  if (config_failed)
    return -1;
  if (config.accounts_num == 0) {
    WARNING("hss_imgstats plugin: no <Account> configured; nothing to poll.");
    return 0;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
      hss_dispatch_init(&config) != 0) {
    ERROR("hss_imgstats plugin: initialisation failed (libcurl or memory).");
    return -1;
  }
  const char *name = config.poller_name ? config.poller_name : hostname_g;
  size_t parts = hss_poller_parts(&config, name);
  for (size_t i = 0; i < parts; i++) {
    pollers[i] =
        hss_poller_new(&config, name, i, parts, hss_dispatch_result, NULL);
    if (pollers[i] == NULL) {
      pollers_free();
      return -1;
    }
    pollers_num = i + 1;
  }
  if (test_mode())
    return plugin_register_complex_read(NULL, "hss_imgstats", hss_read_once, 0,
                                        NULL);
  for (size_t i = 0; i < pollers_num; i++)
    if (hss_poller_start(pollers[i], plugin_thread_create) != 0)
      return -1;
  return 0;
}

static int hss_shutdown(void) {
  pollers_free();
  hss_dispatch_free();
  hss_config_free(&config);
  curl_global_cleanup();
  return 0;
}

void module_register(void) {
  hss_log_set_sink(log_to_collectd);
  plugin_register_complex_config("hss_imgstats", hss_config);
  plugin_register_init("hss_imgstats", hss_init);
  plugin_register_shutdown("hss_imgstats", hss_shutdown);
}

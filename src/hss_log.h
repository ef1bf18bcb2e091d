/* hss_log.h - logging shim so that the pure core can log without collectd.
 *
 * The collectd glue installs a sink that forwards to plugin_log(); unit tests
 * install one that captures messages. Every message is prefixed with
 * "hss_imgstats plugin: " here, once, so callers never repeat it. */
#ifndef HSS_LOG_H
#define HSS_LOG_H

#include <stdarg.h>
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

#define HSS_LOG_PREFIX "hss_imgstats plugin: "

typedef void (*hss_log_sink_t)(int level, const char *message);

/* Installs the sink; NULL restores the default (stderr). */
void hss_log_set_sink(hss_log_sink_t sink);

void hss_log(int level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void hss_vlog(int level, const char *format, va_list ap);

#endif

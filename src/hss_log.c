/* hss_log.c - logging shim: formats one line and hands it to the sink. */
#include "hss_log.h"

#include <stdio.h>

static void default_sink(int level, const char *message) {
  fprintf(stderr, "[%d] %s\n", level, message);
}

static hss_log_sink_t current_sink = default_sink;

void hss_log_set_sink(hss_log_sink_t sink) {
  current_sink = sink ? sink : default_sink;
}

void hss_vlog(int level, const char *format, va_list ap) {
  char line[1024];
  int prefix = snprintf(line, sizeof(line), "%s", HSS_LOG_PREFIX);
  vsnprintf(line + prefix, sizeof(line) - (size_t)prefix, format, ap);
  current_sink(level, line);
}

void hss_log(int level, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  hss_vlog(level, format, ap);
  va_end(ap);
}

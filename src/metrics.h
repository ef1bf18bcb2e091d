/* metrics.h - the one table of the values this plugin dispatches.
 *
 * Each row says where a value lives in the response body and how it is named
 * in collectd. Parsing and dispatch both walk this table, so a new API field
 * is one new row. */
#ifndef HSS_METRICS_H
#define HSS_METRICS_H

#include <stddef.h>

typedef enum {
  HSS_KIND_COUNT, /* integer 0..2^31-1, dispatched as type "count" */
  HSS_KIND_BOOL   /* JSON boolean, dispatched as type "bool" (1 = true) */
} hss_metric_kind_t;

typedef struct {
  const char *field;        /* top-level key of the response object */
  const char *subfield;     /* key inside that object, or NULL for a scalar */
  const char *alt_subfield; /* also accepted spelling of subfield, or NULL */
  hss_metric_kind_t kind;
  const char *type;          /* collectd type from types.db */
  const char *type_instance; /* collectd type_instance */
} hss_metric_t;

#define HSS_METRIC_COUNT 17

extern const hss_metric_t hss_metrics[HSS_METRIC_COUNT];

#endif

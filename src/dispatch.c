/* dispatch.c - poll results to value lists and log lines. The only file
 * besides hss_imgstats.c that includes collectd's headers. */
#include "collectd.h"

#include "plugin.h"
#include "utils/common/common.h"
#include "utils_complain.h"

#include "dispatch.h"
#include "metrics.h"

typedef struct {
  c_complain_t poll;   /* failed polls */
  c_complain_t fields; /* fields of the wrong type or out of range */
  c_complain_t auth;   /* credential warnings */
  bool seen_ok;        /* a poll has succeeded since start */
} project_log_t;

static project_log_t *logs;
static size_t logs_num;

int hss_dispatch_init(const hss_config_t *cfg) {
  logs = calloc(cfg->projects_total ? cfg->projects_total : 1, sizeof(*logs));
  if (logs == NULL)
    return -1;
  logs_num = cfg->projects_total;
  for (size_t i = 0; i < logs_num; i++) {
    C_COMPLAIN_INIT(&logs[i].poll);
    C_COMPLAIN_INIT(&logs[i].fields);
    C_COMPLAIN_INIT(&logs[i].auth);
  }
  return 0;
}

void hss_dispatch_free(void) {
  free(logs);
  logs = NULL;
  logs_num = 0;
}

/* Dispatches one value of metric i. Returns 0 or the daemon's status. */
static int dispatch_one(const hss_poll_result_t *r, size_t i) {
  const hss_project_t *p = r->project;
  const hss_metric_t *m = &hss_metrics[i];
  value_list_t vl = VALUE_LIST_INIT;
  value_t v = {.gauge = (gauge_t)r->stats.value[i]};
  vl.values = &v;
  vl.values_len = 1;
  vl.time = DOUBLE_TO_CDTIME_T(r->time);
  vl.interval = DOUBLE_TO_CDTIME_T(r->interval);
  sstrncpy(vl.host, p->host ? p->host : hostname_g, sizeof(vl.host));
  sstrncpy(vl.plugin, "hss_imgstats", sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, p->name, sizeof(vl.plugin_instance));
  sstrncpy(vl.type, m->type, sizeof(vl.type));
  sstrncpy(vl.type_instance, m->type_instance, sizeof(vl.type_instance));
  return plugin_dispatch_values(&vl);
}

/* Names the invalid fields of a poll ("free_quota_num: wrong type, ...").
 * Returns how many there were. */
static int describe_bad_fields(const hss_stats_t *s, char *buf, size_t len) {
  int bad = 0;
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++) {
    hss_field_state_t st = s->state[i];
    if (st == HSS_FIELD_OK || st == HSS_FIELD_ABSENT)
      continue;
    const hss_metric_t *m = &hss_metrics[i];
    int n = snprintf(buf + used, len - used, "%s%s%s%s: %s", bad ? ", " : "",
                     m->field, m->subfield ? "." : "",
                     m->subfield ? m->subfield : "", hss_field_state_name(st));
    if (n > 0 && (size_t)n < len - used)
      used += (size_t)n;
    bad++;
  }
  return bad;
}

/* Logs a failed poll (rate-limited per project). */
static void log_failure(project_log_t *log, const hss_poll_result_t *r) {
  const hss_project_t *p = r->project;
  char api[512] = "";
  if (r->api.code[0] || r->api.message[0])
    snprintf(api, sizeof(api), ", error_code \"%s\", error_msg \"%s\"",
             r->api.code, r->api.message);
  c_complain(LOG_ERR, &log->poll,
             "hss_imgstats plugin: project \"%s\" (account \"%s\"): %s%s%s%s; "
             "no values dispatched for this poll.",
             p->name, p->account->name, r->message, api,
             r->request_id[0] ? ", X-Request-Id " : "", r->request_id);
}

void hss_dispatch_result(const hss_poll_result_t *r, void *ud) {
  (void)ud;
  const hss_project_t *p = r->project;
  project_log_t *log = &logs[p->index];

  if (r->auth_note[0] != '\0')
    c_complain(LOG_WARNING, &log->auth,
               "hss_imgstats plugin: project \"%s\" (account \"%s\"): %s.",
               p->name, p->account->name, r->auth_note);
  else
    c_release(LOG_INFO, &log->auth,
              "hss_imgstats plugin: project \"%s\": credentials are fine "
              "again.",
              p->name);

  if (r->status != HSS_POLL_OK) {
    log_failure(log, r);
    return;
  }
  c_release(LOG_NOTICE, &log->poll,
            "hss_imgstats plugin: project \"%s\" (account \"%s\"): polls "
            "succeed again.",
            p->name, p->account->name);

  char bad[768];
  if (describe_bad_fields(&r->stats, bad, sizeof(bad)) > 0)
    c_complain(LOG_WARNING, &log->fields,
               "hss_imgstats plugin: project \"%s\": skipped fields: %s; the "
               "other fields were dispatched.",
               p->name, bad);
  else
    c_release(LOG_INFO, &log->fields,
              "hss_imgstats plugin: project \"%s\": every field is valid "
              "again.",
              p->name);

  int sent = 0;
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++)
    if (r->stats.state[i] == HSS_FIELD_OK && dispatch_one(r, i) == 0)
      sent++;
  if (!log->seen_ok) {
    log->seen_ok = true;
    INFO("hss_imgstats plugin: project \"%s\" (account \"%s\"): first poll "
         "succeeded, %d of %d fields dispatched.",
         p->name, p->account->name, sent, HSS_METRIC_COUNT);
  }
}

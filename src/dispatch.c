/* dispatch.c - poll results to value lists and log lines. The only file
 * besides hss_imgstats.c that includes collectd's headers. */
#include "collectd.h"

#include "plugin.h"
#include "utils/common/common.h"
#include "utils_complain.h"

#include "dispatch.h"
#include "metrics.h"

typedef struct {
  c_complain_t poll;    /* failed polls */
  c_complain_t fields;  /* fields of the wrong type or out of range */
  c_complain_t auth;    /* credential warnings */
  bool seen_ok;         /* a poll has succeeded since start */
  bool polled;          /* a poll has finished since start */
  bool up;              /* the last poll succeeded (when polled) */
  derive_t poll_errors; /* failed polls since start */
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

/* Dispatches one value of the project's poll r. Returns 0 or the daemon's
 * status. */
static int dispatch_value(const hss_poll_result_t *r, const char *type,
                          const char *type_instance, value_t v) {
  const hss_project_t *p = r->project;
  value_list_t vl = VALUE_LIST_INIT;
  vl.values = &v;
  vl.values_len = 1;
  vl.time = DOUBLE_TO_CDTIME_T(r->time);
  vl.interval = DOUBLE_TO_CDTIME_T(r->interval);
  sstrncpy(vl.host, p->host ? p->host : hostname_g, sizeof(vl.host));
  sstrncpy(vl.plugin, "hss_imgstats", sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, p->name, sizeof(vl.plugin_instance));
  sstrncpy(vl.type, type, sizeof(vl.type));
  sstrncpy(vl.type_instance, type_instance, sizeof(vl.type_instance));
  return plugin_dispatch_values(&vl);
}

/* Dispatches one value of metric i. Returns 0 or the daemon's status. */
static int dispatch_one(const hss_poll_result_t *r, size_t i) {
  const hss_metric_t *m = &hss_metrics[i];
  value_t v = {.gauge = (gauge_t)r->stats.value[i]};
  return dispatch_value(r, m->type, m->type_instance, v);
}

/* The plugin's own health, at every poll: bool-up, duration-poll and
 * derive-poll_errors (stock types, the poll's timestamp). */
static void dispatch_self(const project_log_t *log,
                          const hss_poll_result_t *r) {
  bool ok = r->status == HSS_POLL_OK;
  dispatch_value(r, "bool", "up", (value_t){.gauge = ok ? 1.0 : 0.0});
  dispatch_value(r, "duration", "poll",
                 (value_t){.gauge = r->duration > 0 ? r->duration : 0.0});
  dispatch_value(r, "derive", "poll_errors",
                 (value_t){.derive = log->poll_errors});
}

/* Copies src into dst (size len), cut at a UTF-8 character boundary and
 * marked with "..." when it does not fit. */
static void copy_truncated(char *dst, size_t len, const char *src) {
  size_t n = strlen(src);
  if (n < len) {
    memcpy(dst, src, n + 1);
    return;
  }
  size_t keep = len - 4; /* room for "..." and the terminator */
  while (keep > 0 && ((unsigned char)src[keep] & 0xC0) == 0x80)
    keep--; /* do not split a multi-byte character */
  memcpy(dst, src, keep);
  memcpy(dst + keep, "...", 4);
}

/* Drops an incomplete UTF-8 sequence at the end of buf (a text cut at a
 * byte limit upstream), so that logs and notifications stay valid UTF-8. */
static void trim_partial_utf8(char *buf) {
  size_t n = strlen(buf);
  size_t i = n;
  while (i > 0 && n - i < 3 && ((unsigned char)buf[i - 1] & 0xC0) == 0x80)
    i--;
  if (i == 0)
    return;
  unsigned char lead = (unsigned char)buf[i - 1];
  size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (lead >= 0xC0 && n - (i - 1) < want)
    buf[i - 1] = '\0';
}

/* True for a byte that ends a URL inside a cause text. */
static bool url_end(const char *s) {
  return *s == '\0' || *s == ' ' || *s == ',' || *s == ';' || *s == ')' ||
         *s == '"' || (*s == ':' && (s[1] == ' ' || s[1] == '\0'));
}

/* Copies src into dst (size len) with every URL's path and query replaced
 * by "/...", so that a long URL does not push the cause out of a short
 * notification: "GET https://h/v5/p/...: HTTP 403" -> "GET https://h/...:
 * HTTP 403". The result is always terminated. */
static void shorten_urls(char *dst, size_t len, const char *src) {
  size_t o = 0;
  while (*src != '\0' && o + 1 < len) {
    if (strncmp(src, "://", 3) == 0) {
      for (int k = 0; k < 3 && o + 1 < len; k++)
        dst[o++] = *src++;
      while (!url_end(src) && *src != '/' && o + 1 < len)
        dst[o++] = *src++; /* host[:port] */
      if (*src == '/') {
        while (!url_end(src))
          src++;
        for (const char *e = "/..."; *e != '\0' && o + 1 < len; e++)
          dst[o++] = *e;
      }
      continue;
    }
    dst[o++] = *src++;
  }
  dst[o] = '\0';
}

/* Sends a notification about the project's "up" state: FAILURE with the
 * cause when it goes down, OKAY when it recovers. */
static void notify_state(const hss_poll_result_t *r, bool up) {
  const hss_project_t *p = r->project;
  notification_t n = {
      .severity = up ? NOTIF_OKAY : NOTIF_FAILURE,
      .time = DOUBLE_TO_CDTIME_T(r->time),
  };
  sstrncpy(n.host, p->host ? p->host : hostname_g, sizeof(n.host));
  sstrncpy(n.plugin, "hss_imgstats", sizeof(n.plugin));
  sstrncpy(n.plugin_instance, p->name, sizeof(n.plugin_instance));
  sstrncpy(n.type, "bool", sizeof(n.type));
  sstrncpy(n.type_instance, "up", sizeof(n.type_instance));

  char text[1280];
  char cause[sizeof(r->message) + 96];
  if (up) {
    snprintf(text, sizeof(text),
             "project \"%s\" (account \"%s\"): polls succeed again", p->name,
             p->account->name);
  } else {
    char api[96] = "";
    if (r->api.code[0])
      snprintf(api, sizeof(api), ", error_code \"%s\"", r->api.code);
    snprintf(cause, sizeof(cause), "%s%s",
             r->message[0] ? r->message : "poll failed", api);
    snprintf(text, sizeof(text), "project \"%s\" (account \"%s\") is down: %s",
             p->name, p->account->name, cause);
  }
  /* NOTIF_MAX_MSG_LEN is short: URLs lose their path first; if it still
   * does not fit, the names go (plugin_instance has the project), and only
   * then is the cause cut. */
  if (strlen(text) >= sizeof(n.message)) {
    char shorter[sizeof(text)];
    shorten_urls(shorter, sizeof(shorter), text);
    if (!up && strlen(shorter) >= sizeof(n.message)) {
      char c2[sizeof(cause)];
      shorten_urls(c2, sizeof(c2), cause);
      snprintf(shorter, sizeof(shorter), "down: %s", c2);
    }
    copy_truncated(n.message, sizeof(n.message), shorter);
  } else {
    copy_truncated(n.message, sizeof(n.message), text);
  }
  plugin_dispatch_notification(&n);
}

/* collectd's c_complain formats into 512 bytes and cuts the rest: every
 * rate-limited line is built here to fit, so that the end of a line (the
 * X-Request-Id, the "and N more") is never lost. */
#define LOG_LINE_MAX 511

/* Names the invalid fields of a poll ("free_quota_num: wrong type, ...")
 * in at most len - 1 bytes, ending with "and N more" when they do not all
 * fit. Returns how many there were. */
static int describe_bad_fields(const hss_stats_t *s, char *buf, size_t len) {
  int total = 0;
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++)
    total += s->state[i] != HSS_FIELD_OK && s->state[i] != HSS_FIELD_ABSENT;
  int listed = 0;
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < HSS_METRIC_COUNT && listed < total; i++) {
    hss_field_state_t st = s->state[i];
    if (st == HSS_FIELD_OK || st == HSS_FIELD_ABSENT)
      continue;
    const hss_metric_t *m = &hss_metrics[i];
    char entry[192];
    snprintf(entry, sizeof(entry), "%s%s%s%s: %s", listed ? ", " : "", m->field,
             m->subfield ? "." : "", m->subfield ? m->subfield : "",
             hss_field_state_name(st));
    size_t reserve = listed + 1 < total ? sizeof(", and 99 more") : 0;
    if (used + strlen(entry) + reserve >= len)
      break;
    memcpy(buf + used, entry, strlen(entry) + 1);
    used += strlen(entry);
    listed++;
  }
  if (listed < total)
    snprintf(buf + used, len - used, "%sand %d more", listed ? ", " : "",
             total - listed);
  return total;
}

/* Shortens the string in buf by `excess` bytes (or to nothing), at a UTF-8
 * character boundary, marking the cut with "...". An empty buf stays
 * empty. */
static void shrink(char *buf, size_t excess) {
  size_t n = strlen(buf);
  if (excess == 0 || n == 0)
    return;
  size_t keep = n > excess + 3 ? n - excess - 3 : 0;
  while (keep > 0 && ((unsigned char)buf[keep] & 0xC0) == 0x80)
    keep--;
  memcpy(buf + keep, "...", 4);
}

/* The line for a failed poll, at most LOG_LINE_MAX bytes: project,
 * account, cause, error_code / error_msg and X-Request-Id. When too long,
 * URLs lose their path first, then error_msg and the cause are shortened;
 * the error_code and the request id are always kept. */
static void failure_line(const hss_poll_result_t *r, char *out, size_t len) {
  const hss_project_t *p = r->project;
  char cause[sizeof(r->message)];
  char msg[sizeof(r->api.message)];
  sstrncpy(cause, r->message, sizeof(cause));
  sstrncpy(msg, r->api.message, sizeof(msg));
  trim_partial_utf8(msg);
  char full[2048];
  for (int step = 0;; step++) {
    char api[512] = "";
    if (r->api.code[0] || msg[0])
      snprintf(api, sizeof(api), ", error_code \"%s\", error_msg \"%s\"",
               r->api.code, msg);
    int n = snprintf(full, sizeof(full),
                     "hss_imgstats plugin: project \"%s\" (account \"%s\"): "
                     "%s%s%s%s; no statistics dispatched for this poll.",
                     p->name, p->account->name, cause, api,
                     r->request_id[0] ? ", X-Request-Id " : "", r->request_id);
    if (n < 0 || (size_t)n <= LOG_LINE_MAX || step == 3)
      break;
    size_t excess = (size_t)n - LOG_LINE_MAX;
    if (step == 0) {
      char shorter[sizeof(cause)];
      shorten_urls(shorter, sizeof(shorter), cause);
      sstrncpy(cause, shorter, sizeof(cause));
    } else if (step == 1) {
      shrink(msg, excess);
    } else {
      shrink(cause, excess);
    }
  }
  copy_truncated(out, len, full);
}

/* Logs a failed poll (rate-limited per project). */
static void log_failure(project_log_t *log, const hss_poll_result_t *r) {
  char line[LOG_LINE_MAX + 1];
  failure_line(r, line, sizeof(line));
  c_complain(LOG_ERR, &log->poll, "%s", line);
}

/* Records the poll's outcome: failure count, up/down transitions and the
 * notifications they call for. */
static void track_state(project_log_t *log, const hss_poll_result_t *r) {
  bool up = r->status == HSS_POLL_OK;
  if (!up)
    log->poll_errors++;
  /* FAILURE on up -> down and on a first poll that fails; OKAY on
   * down -> up; nothing while the state stays. */
  if (log->polled ? log->up != up : !up)
    notify_state(r, up);
  log->polled = true;
  log->up = up;
}

void hss_dispatch_result(const hss_poll_result_t *r, void *ud) {
  (void)ud;
  const hss_project_t *p = r->project;
  project_log_t *log = &logs[p->index];

  if (r->auth_note[0] != '\0') {
    char line[1024];
    char fitted[LOG_LINE_MAX + 1];
    snprintf(line, sizeof(line),
             "hss_imgstats plugin: project \"%s\" (account \"%s\"): %s.",
             p->name, p->account->name, r->auth_note);
    copy_truncated(fitted, sizeof(fitted), line);
    c_complain(LOG_WARNING, &log->auth, "%s", fitted);
  } else
    c_release(LOG_INFO, &log->auth,
              "hss_imgstats plugin: project \"%s\": credentials are fine "
              "again.",
              p->name);

  if (r->status != HSS_POLL_OK) {
    /* No statistics at all from a failed poll: only the self-metrics. */
    log_failure(log, r);
    track_state(log, r);
    dispatch_self(log, r);
    return;
  }
  c_release(LOG_NOTICE, &log->poll,
            "hss_imgstats plugin: project \"%s\" (account \"%s\"): polls "
            "succeed again.",
            p->name, p->account->name);

  static const char fields_head[] = "hss_imgstats plugin: project \"\": "
                                    "skipped fields: ";
  static const char fields_tail[] = "; the other fields were dispatched.";
  char bad[LOG_LINE_MAX + 1];
  size_t room = LOG_LINE_MAX + 1 - (sizeof(fields_head) - 1) -
                (sizeof(fields_tail) - 1) - strlen(p->name);
  if (describe_bad_fields(&r->stats, bad, room) > 0)
    c_complain(LOG_WARNING, &log->fields,
               "hss_imgstats plugin: project \"%s\": skipped fields: %s%s",
               p->name, bad, fields_tail);
  else
    c_release(LOG_INFO, &log->fields,
              "hss_imgstats plugin: project \"%s\": every field is valid "
              "again.",
              p->name);

  int sent = 0;
  for (size_t i = 0; i < HSS_METRIC_COUNT; i++)
    if (r->stats.state[i] == HSS_FIELD_OK && dispatch_one(r, i) == 0)
      sent++;
  track_state(log, r);
  dispatch_self(log, r);
  if (!log->seen_ok) {
    log->seen_ok = true;
    INFO("hss_imgstats plugin: project \"%s\" (account \"%s\"): first poll "
         "succeeded, %d of %d fields dispatched.",
         p->name, p->account->name, sent, HSS_METRIC_COUNT);
  }
}

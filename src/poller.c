/* poller.c - the polling engine: schedule, credentials, transfers, results.
 *
 * Each project is a job with a tiny state machine:
 *   IDLE --due--> [AUTH: IAM token request] --> STATS --> IDLE
 * A 401 on STATS with password credentials drops the token and goes back to
 * AUTH once. Every transition happens on the poller thread (or the caller
 * of hss_poller_run_once), so jobs need no locks; only the stop flag is
 * shared. */
#include "poller.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aksk.h"
#include "hss_log.h"
#include "request.h"
#include "scheduler.h"
#include "shard.h"
#include "slots.h"
#include "token_cache.h"
#include "transport.h"

#define HSS_MAX_WAIT_MS 1000

typedef enum {
  JOB_IDLE,
  JOB_AUTH,       /* IAM token request in flight (password accounts) */
  JOB_CREDS,      /* metadata request in flight for the whole account */
  JOB_WAIT_CREDS, /* waiting for another job's metadata request */
  JOB_STATS       /* statistics request in flight */
} job_state_t;

/* Per-account state: the metadata credentials shared by its projects. */
typedef struct {
  hss_token_cache_t lease; /* timing of creds (its token is the AK) */
  hss_temp_creds_t creds;
  bool fetching;        /* a job is in JOB_CREDS for this account */
  char last_error[384]; /* why the last metadata fetch failed */
} acct_state_t;

typedef struct {
  const hss_project_t *project;
  char *stats_url;
  char *iam_url; /* password accounts only */
  size_t slot;   /* this job's entry in the scheduler */
  job_state_t state;
  hss_token_cache_t token; /* password accounts only */
  hss_xfer_t *xfer;        /* the transfer in flight, or NULL */
  bool retried_401;        /* this poll already fetched a token after 401 */
  bool polled_once;        /* for hss_poller_run_once */
  double started;          /* monotonic start of this poll */
  double deadline;         /* monotonic end of this poll's budget */
  hss_poll_result_t result;
} job_t;

struct hss_poller_s {
  const hss_config_t *cfg;
  acct_state_t *accts; /* one per account, same order as cfg->accounts */
  job_t *jobs;         /* one per project this poller owns */
  size_t jobs_num;
  hss_sched_t sched;
  size_t part, parts;   /* this poller is thread part + 1 of parts (Threads) */
  size_t host_owned;    /* projects this host owns, over all the parts */
  size_t *owned;        /* per account: its projects this host owns */
  size_t *part_of;      /* per account: the part that polls it */
  size_t max_active;    /* its share of MaxConcurrency */
  size_t active;        /* polls in progress (each holds one slot) */
  size_t *in_flight;    /* per account: its polls in progress */
  size_t idle_accounts; /* accounts with projects here and none in flight */
  hss_slot_claim_t *claims; /* scratch of start_due: the due polls */
  size_t *claim_job;        /* and their jobs */
  bool system_ca_file; /* the system store is one file: hss_ca_file_only() */
  CURLM *multi;
  CURLSH *share;
  hss_result_cb_t cb;
  void *ud;
  pthread_t thread;
  bool thread_running;
  atomic_bool stop;
  int failures_once; /* failed polls in hss_poller_run_once */
};

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The index of project pr's account: in cfg->accounts, accts, in_flight and
 * the scheduler's groups. */
static size_t acct_index(const hss_poller_t *p, const hss_project_t *pr) {
  return (size_t)(pr->account - p->cfg->accounts);
}

/* Ends the current poll of job: reports the result and goes idle. */
static void finish_poll(hss_poller_t *p, job_t *job, hss_poll_status_t status) {
  hss_poll_result_t *r = &job->result;
  r->status = status;
  r->interval = p->sched.entries[job->slot].interval;
  r->time = wall_now();
  r->duration = mono_now() - job->started;
  if (status != HSS_POLL_OK)
    p->failures_once++;
  job->state = JOB_IDLE;
  p->active--;
  if (--p->in_flight[acct_index(p, job->project)] == 0)
    p->idle_accounts++;
  job->polled_once = true;
  p->cb(r, p->ud);
}

/* Fails the current poll with a formatted cause. */
static void fail_poll(hss_poller_t *p, job_t *job, hss_poll_status_t status,
                      const char *format, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_poll(hss_poller_t *p, job_t *job, hss_poll_status_t status,
                      const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(job->result.message, sizeof(job->result.message), format, ap);
  va_end(ap);
  finish_poll(p, job, status);
}

/* Transfer options for the job's account with the budget left. */
static hss_xfer_opts_t xfer_opts(const hss_poller_t *p, const job_t *job,
                                 long timeout_ms) {
  const hss_account_t *a = job->project->account;
  hss_xfer_opts_t o = {
      .cacert = a->cacert,
      .ca_file_only = a->cacert != NULL || p->system_ca_file,
      .verify_peer = a->verify_peer,
      .verify_host = a->verify_host,
      .allow_http = a->allow_insecure,
      .proxy = a->proxy ? a->proxy : "", /* "": ignore *_proxy variables */
      .timeout_ms = timeout_ms,
      .connect_timeout_ms = a->connect_timeout_ms,
      .max_body = HSS_MAX_BODY,
      .share = p->share,
  };
  return o;
}

/* Milliseconds left of this poll's budget (0 when spent). */
static long budget_left_ms(const job_t *job) {
  double left = (job->deadline - mono_now()) * 1000.0;
  return left < 1 ? 0 : (long)left;
}

/* Hands a prepared transfer to the multi handle. */
static int launch(hss_poller_t *p, job_t *job, hss_xfer_t *x,
                  job_state_t state) {
  if (x == NULL)
    return -1;
  if (curl_multi_add_handle(p->multi, x->easy) != CURLM_OK) {
    hss_xfer_free(x);
    return -1;
  }
  job->xfer = x;
  job->state = state;
  return 0;
}

/* The account state of a job. */
static acct_state_t *acct_of(hss_poller_t *p, const job_t *job) {
  return &p->accts[acct_index(p, job->project)];
}

/* The statistics request's headers for the job's credentials, or NULL with
 * err set. */
static struct curl_slist *stats_headers(hss_poller_t *p, job_t *job, char *err,
                                        size_t errlen) {
  const hss_account_t *a = job->project->account;
  const char *pid = job->project->project_id;
  int64_t now = (int64_t)wall_now();
  snprintf(err, errlen, "cannot prepare the request");
  switch (a->cred) {
  case HSS_CRED_TOKEN:
    return hss_stats_headers(a->token.value);
  case HSS_CRED_PASSWORD:
    return hss_stats_headers(job->token.token);
  case HSS_CRED_AKSK:
    return hss_aksk_stats_headers(job->stats_url, pid, a->access_key,
                                  a->secret_key.value, a->security_token.value,
                                  now, err, errlen);
  case HSS_CRED_METADATA: {
    const hss_temp_creds_t *c = &acct_of(p, job)->creds;
    return hss_aksk_stats_headers(job->stats_url, pid, c->access, c->secret,
                                  c->security_token, now, err, errlen);
  }
  default:
    return NULL;
  }
}

/* Sends the statistics request with the job's current credentials. */
static void start_stats(hss_poller_t *p, job_t *job) {
  long left = budget_left_ms(job);
  char err[256];
  if (left == 0) {
    fail_poll(p, job, HSS_POLL_TRANSPORT,
              "timed out: the %ld ms budget was spent before the request",
              job->project->timeout_ms);
    return;
  }
  hss_xfer_opts_t o = xfer_opts(p, job, left);
  struct curl_slist *headers = stats_headers(p, job, err, sizeof(err));
  if (headers == NULL ||
      launch(p, job, hss_xfer_new(job->stats_url, headers, NULL, &o, job),
             JOB_STATS) != 0)
    fail_poll(p, job, HSS_POLL_INTERNAL, "%s", err);
}

/* Asks the metadata service for the account's temporary credentials; the
 * account's other jobs wait for the answer. */
static void start_metadata(hss_poller_t *p, job_t *job) {
  const hss_account_t *a = job->project->account;
  long left = budget_left_ms(job);
  hss_xfer_opts_t o = xfer_opts(p, job, left > 0 ? left : 1);
  o.allow_http = true; /* the link-local metadata service is plain http */
  o.proxy = "";        /* and never behind the account's proxy */
  struct curl_slist *headers = hss_metadata_headers();
  if (headers == NULL ||
      launch(p, job, hss_xfer_new(a->metadata_url, headers, NULL, &o, job),
             JOB_CREDS) != 0) {
    fail_poll(p, job, HSS_POLL_INTERNAL, "cannot prepare the metadata request");
    return;
  }
  acct_of(p, job)->fetching = true;
}

/* Begins the credential step of a metadata account's poll: use the shared
 * credentials, wait for a fetch in flight, or fetch. */
static void poll_with_metadata(hss_poller_t *p, job_t *job) {
  acct_state_t *acct = acct_of(p, job);
  int64_t now = (int64_t)wall_now();
  if (acct->fetching)
    job->state = JOB_WAIT_CREDS;
  else if (hss_token_wants_refresh(&acct->lease, now))
    start_metadata(p, job);
  else if (hss_token_usable(&acct->lease, now))
    start_stats(p, job);
  else
    fail_poll(p, job, HSS_POLL_AUTH,
              "no valid metadata credentials (%s); next attempt in %" PRId64
              " s",
              acct->last_error, hss_token_backoff_left(&acct->lease, now));
}

/* Sends an IAM password token request scoped to the job's project. */
static void start_auth(hss_poller_t *p, job_t *job) {
  hss_account_t *a = job->project->account;
  char err[512];
  if (hss_secret_refresh(&a->password, err, sizeof(err)) < 0)
    snprintf(job->result.auth_note, sizeof(job->result.auth_note),
             "PasswordFile: %.300s; using the password read before", err);
  long left = budget_left_ms(job);
  hss_xfer_opts_t o = xfer_opts(p, job, left > 0 ? left : 1);
  char *body = hss_iam_token_body(a->domain, a->user, a->password.value,
                                  job->project->project_id);
  struct curl_slist *headers = hss_iam_headers();
  if (body == NULL || headers == NULL) {
    hss_headers_free(headers);
    hss_wipe_free(body);
    fail_poll(p, job, HSS_POLL_INTERNAL, "cannot prepare the IAM request");
    return;
  }
  if (launch(p, job, hss_xfer_new(job->iam_url, headers, body, &o, job),
             JOB_AUTH) != 0)
    fail_poll(p, job, HSS_POLL_INTERNAL, "cannot prepare the IAM request");
}

/* Begins one poll of job: picks the credentials and sends the first
 * request. */
static void start_poll(hss_poller_t *p, job_t *job) {
  const hss_project_t *pr = job->project;
  hss_account_t *a = pr->account;
  memset(&job->result, 0, sizeof(job->result));
  job->result.project = pr;
  p->active++; /* until finish_poll */
  if (p->in_flight[acct_index(p, pr)]++ == 0)
    p->idle_accounts--;
  job->started = mono_now();
  job->deadline = job->started + (double)pr->timeout_ms / 1000.0;
  job->retried_401 = false;

  char err[512];
  switch (a->cred) {
  case HSS_CRED_TOKEN:
    if (hss_secret_refresh(&a->token, err, sizeof(err)) < 0)
      snprintf(job->result.auth_note, sizeof(job->result.auth_note),
               "TokenFile: %.300s; using the token read before", err);
    start_stats(p, job);
    return;
  case HSS_CRED_AKSK:
    if (hss_secret_refresh(&a->secret_key, err, sizeof(err)) < 0 ||
        hss_secret_refresh(&a->security_token, err, sizeof(err)) < 0)
      snprintf(job->result.auth_note, sizeof(job->result.auth_note),
               "%.300s; using the value read before", err);
    start_stats(p, job);
    return;
  case HSS_CRED_METADATA:
    poll_with_metadata(p, job);
    return;
  default:
    break;
  }
  int64_t now = (int64_t)wall_now();
  if (hss_token_wants_refresh(&job->token, now)) {
    start_auth(p, job);
  } else if (hss_token_usable(&job->token, now)) {
    start_stats(p, job);
  } else {
    fail_poll(p, job, HSS_POLL_AUTH,
              "no valid IAM token: the last token request failed; next "
              "attempt in %" PRId64 " s",
              hss_token_backoff_left(&job->token, now));
  }
}

/* Replaces each occurrence of secret in text with "***", and a prefix of
 * it (8 bytes or more) that truncation left at the end of text. */
static void redact(char *text, const char *secret) {
  size_t slen = secret ? strlen(secret) : 0;
  if (slen < 4)
    return;
  char *hit;
  while ((hit = strstr(text, secret)) != NULL) {
    memcpy(hit, "***", 3);
    memmove(hit + 3, hit + slen, strlen(hit + slen) + 1);
  }
  size_t tlen = strlen(text);
  for (size_t i = 0; i + 8 <= tlen; i++)
    if (strncmp(text + i, secret, tlen - i) == 0) {
      snprintf(text + i, 4, "***");
      return;
    }
}

/* Removes the job's credentials from a text that came from a server: an
 * error message may echo what it was sent. */
static void redact_secrets(hss_poller_t *p, const job_t *job, char *text) {
  const hss_account_t *a = job->project->account;
  const hss_temp_creds_t *c = &acct_of(p, job)->creds;
  const char *secrets[] = {a->token.value,      a->password.value,
                           a->secret_key.value, a->security_token.value,
                           job->token.token,    c->secret,
                           c->security_token};
  for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
    redact(text, secrets[i]);
}

/* Fills the result's HTTP error fields from a finished transfer. */
static void note_http_error(hss_poller_t *p, job_t *job, const hss_xfer_t *x) {
  hss_poll_result_t *r = &job->result;
  r->http_status = x->status;
  hss_parse_api_error(x->body, x->body_len, &r->api);
  redact_secrets(p, job, r->api.message);
  redact_secrets(p, job, r->api.code);
  redact_secrets(p, job, r->api.request_id);
  const char *rid = x->request_id[0] ? x->request_id : r->api.request_id;
  snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
}

/* Handles the end of an IAM token request. */
static void auth_done(hss_poller_t *p, job_t *job, hss_xfer_t *x) {
  hss_poll_result_t *r = &job->result;
  int64_t now = (int64_t)wall_now();
  int64_t expires = 0;
  char cause[640];
  hss_poll_status_t status = HSS_POLL_AUTH;

  if (x->result != CURLE_OK) {
    char what[512];
    hss_xfer_describe(x, what, sizeof(what));
    snprintf(cause, sizeof(cause), "IAM token request to %s: %s", job->iam_url,
             what);
    status = HSS_POLL_TRANSPORT;
  } else if (x->status != 201 && x->status != 200) {
    note_http_error(p, job, x); /* the log line shows its error_code/msg */
    snprintf(cause, sizeof(cause), "IAM token request to %s: HTTP %ld",
             job->iam_url, x->status);
  } else if (x->subject_token == NULL || x->subject_token[0] == '\0') {
    snprintf(cause, sizeof(cause),
             "IAM token request to %s: HTTP %ld without X-Subject-Token",
             job->iam_url, x->status);
  } else if (hss_parse_token_expiry(x->body, x->body_len, &expires) != 0) {
    snprintf(cause, sizeof(cause),
             "IAM token request to %s: no valid token.expires_at in the "
             "response",
             job->iam_url);
  } else if (hss_token_store(&job->token, x->subject_token, expires, now) !=
             0) {
    snprintf(cause, sizeof(cause), "out of memory storing the IAM token");
  } else {
    hss_log(LOG_INFO,
            "project \"%s\": obtained an IAM token valid for %" PRId64 " s",
            job->project->name, expires - now);
    start_stats(p, job);
    return;
  }
  hss_token_failed(&job->token, now);
  if (hss_token_usable(&job->token, now)) {
    /* The old token still works: poll with it and say so. */
    snprintf(r->auth_note, sizeof(r->auth_note),
             "token refresh failed (%.300s); using the current token, valid "
             "for %" PRId64 " s more",
             cause, job->token.expires_at - now);
    start_stats(p, job);
    return;
  }
  fail_poll(p, job, status, "%s; next token request in %" PRId64 " s", cause,
            hss_token_backoff_left(&job->token, now));
}

/* Seconds a Retry-After header asks for (delta-seconds or an HTTP date),
 * or -1 when absent or unreadable. */
static double retry_after_seconds(const char *value) {
  if (value == NULL || value[0] == '\0')
    return -1;
  char *end = NULL;
  double secs = strtod(value, &end);
  if (end != value && *end == '\0' && secs >= 0)
    return secs > 86400 ? 86400 : secs;
  time_t when = curl_getdate(value, NULL);
  if (when < 0)
    return -1;
  double delta = (double)when - wall_now();
  return delta < 0 ? 0 : (delta > 86400 ? 86400 : delta);
}

/* Lets the jobs waiting for account acct's credentials go on. */
static void wake_waiters(hss_poller_t *p, const acct_state_t *acct) {
  int64_t now = (int64_t)wall_now();
  for (size_t i = 0; i < p->jobs_num; i++) {
    job_t *job = &p->jobs[i];
    if (job->state != JOB_WAIT_CREDS || acct_of(p, job) != acct)
      continue;
    if (hss_token_usable(&acct->lease, now))
      start_stats(p, job);
    else
      fail_poll(p, job, HSS_POLL_AUTH, "no valid metadata credentials (%s)",
                acct->last_error);
  }
}

/* Handles the end of a metadata credentials request. */
static void metadata_done(hss_poller_t *p, job_t *job, hss_xfer_t *x) {
  const hss_account_t *a = job->project->account;
  acct_state_t *acct = acct_of(p, job);
  int64_t now = (int64_t)wall_now();
  char err[256];
  acct->fetching = false;
  if (x->result != CURLE_OK) {
    char what[512];
    hss_xfer_describe(x, what, sizeof(what));
    snprintf(acct->last_error, sizeof(acct->last_error),
             "metadata request to %.150s: %.200s", a->metadata_url, what);
  } else if (x->status != 200) {
    snprintf(acct->last_error, sizeof(acct->last_error),
             "metadata request to %.200s: HTTP %ld", a->metadata_url,
             x->status);
  } else if (hss_parse_temp_creds(x->body, x->body_len, &acct->creds, err,
                                  sizeof(err)) != 0) {
    snprintf(acct->last_error, sizeof(acct->last_error),
             "metadata response from %.150s: %.200s", a->metadata_url, err);
  } else if (hss_token_store(&acct->lease, acct->creds.access,
                             acct->creds.expires_at, now) != 0) {
    snprintf(acct->last_error, sizeof(acct->last_error), "out of memory");
  } else {
    acct->last_error[0] = '\0';
    hss_log(LOG_INFO,
            "account \"%s\": obtained metadata credentials valid for %" PRId64
            " s",
            a->name, acct->creds.expires_at - now);
    start_stats(p, job);
    wake_waiters(p, acct);
    return;
  }
  hss_token_failed(&acct->lease, now);
  if (hss_token_usable(&acct->lease, now)) {
    snprintf(job->result.auth_note, sizeof(job->result.auth_note),
             "credential refresh failed (%.300s); using the current ones",
             acct->last_error);
    start_stats(p, job);
  } else {
    fail_poll(p, job, HSS_POLL_AUTH, "%s; next attempt in %" PRId64 " s",
              acct->last_error, hss_token_backoff_left(&acct->lease, now));
  }
  wake_waiters(p, acct);
}

/* After a 401: fetches fresh credentials and retries once, when the
 * credentials are ones the plugin obtains itself. Returns true when a
 * retry is under way. */
static bool retry_after_401(hss_poller_t *p, job_t *job) {
  const hss_account_t *a = job->project->account;
  if (job->retried_401 ||
      (a->cred != HSS_CRED_PASSWORD && a->cred != HSS_CRED_METADATA))
    return false;
  if (!hss_sched_try_extra(&p->sched, job->slot, mono_now())) {
    /* No room in the rate budget for a retry now: renew the credentials
     * for the next poll instead. */
    snprintf(job->result.auth_note, sizeof(job->result.auth_note),
             "credentials refused (HTTP 401); the rate budget leaves no room "
             "for an immediate retry, so they are renewed for the next poll");
    if (a->cred == HSS_CRED_PASSWORD)
      hss_token_invalidate(&job->token);
    else
      hss_token_invalidate(&acct_of(p, job)->lease);
    return false;
  }
  if (a->cred == HSS_CRED_PASSWORD) {
    job->retried_401 = true;
    hss_token_invalidate(&job->token);
    job->token.retry_at = 0;
    start_auth(p, job);
    return true;
  }
  if (a->cred == HSS_CRED_METADATA) {
    acct_state_t *acct = acct_of(p, job);
    job->retried_401 = true;
    if (acct->fetching) {
      job->state = JOB_WAIT_CREDS;
      return true;
    }
    hss_token_invalidate(&acct->lease);
    acct->lease.retry_at = 0;
    start_metadata(p, job);
    return true;
  }
  return false;
}

/* Handles the end of a statistics request. */
static void stats_done(hss_poller_t *p, job_t *job, hss_xfer_t *x) {
  hss_poll_result_t *r = &job->result;
  if (x->result != CURLE_OK) {
    char what[512];
    hss_xfer_describe(x, what, sizeof(what));
    /* Headers may have come before the failure: keep the request id. */
    r->http_status = x->status;
    snprintf(r->request_id, sizeof(r->request_id), "%s", x->request_id);
    fail_poll(p, job, HSS_POLL_TRANSPORT, "GET %s: %s", job->stats_url, what);
    return;
  }
  r->http_status = x->status;
  snprintf(r->request_id, sizeof(r->request_id), "%s", x->request_id);
  if (x->status != 200)
    note_http_error(p, job, x);
  if (x->status == 401 && strcmp(r->api.code, "APIGW.0303") == 0) {
    fail_poll(p, job, HSS_POLL_AUTH,
              "GET %s: HTTP 401: the signature has expired: the local clock "
              "differs from the server's by more than 15 minutes; fix the "
              "clock (NTP)",
              job->stats_url);
    return;
  }
  /* Credentials the plugin obtains itself are renewed and retried once. */
  if (x->status == 401 && retry_after_401(p, job))
    return;
  if (x->status == 429) {
    double pause = hss_sched_throttled(&p->sched, job->slot, mono_now(),
                                       retry_after_seconds(x->retry_after),
                                       (double)rand() / ((double)RAND_MAX + 1));
    fail_poll(p, job, HSS_POLL_HTTP,
              "GET %s: HTTP 429 (throttled)%s%s%s; account \"%s\" pauses "
              "for %.1f s",
              job->stats_url, x->retry_after[0] ? ", Retry-After \"" : "",
              x->retry_after, x->retry_after[0] ? "\"" : "",
              job->project->account->name, pause);
    return;
  }
  if (x->status != 200) {
    fail_poll(p, job, x->status == 401 ? HSS_POLL_AUTH : HSS_POLL_HTTP,
              "GET %s: HTTP %ld", job->stats_url, x->status);
    return;
  }
  hss_sched_succeeded(&p->sched, job->slot);
  char err[256];
  if (hss_parse_stats(x->body, x->body_len, &r->stats, err, sizeof(err)) != 0) {
    fail_poll(p, job, HSS_POLL_PARSE, "GET %s: HTTP 200 but %s", job->stats_url,
              err);
    return;
  }
  finish_poll(p, job, HSS_POLL_OK);
}

/* Collects finished transfers from the multi handle. */
static void collect_done(hss_poller_t *p) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    hss_xfer_t *x = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    CURLcode result = msg->data.result;
    curl_multi_remove_handle(p->multi, msg->easy_handle);
    job_t *job = x->owner;
    job->xfer = NULL;
    hss_xfer_finish(x, result);
    if (job->state == JOB_AUTH)
      auth_done(p, job, x);
    else if (job->state == JOB_CREDS)
      metadata_done(p, job, x);
    else
      stats_done(p, job, x);
    hss_xfer_free(x);
  }
}

/* Collects the idle jobs whose poll may start now into p->claims; lowers
 * *wait to the time until the next one may. Returns how many. */
static size_t collect_due(hss_poller_t *p, bool once, double now,
                          double *wait) {
  size_t n = 0;
  for (size_t i = 0; i < p->jobs_num; i++) {
    job_t *job = &p->jobs[i];
    if (job->state != JOB_IDLE || (once && job->polled_once))
      continue;
    double w = once ? 0 : hss_sched_wait(&p->sched, job->slot, now);
    if (w > 0) {
      if (w < *wait)
        *wait = w;
      continue;
    }
    p->claims[n].account = acct_index(p, job->project);
    p->claims[n].due = p->sched.entries[job->slot].next_due;
    p->claim_job[n++] = i;
  }
  return n;
}

/* Starts the polls that are due as far as free slots allow, in the order
 * slots.h gives; returns ms until the next one is due. Polls left waiting
 * for a slot start when a transfer ends (the loop wakes up then). */
static long start_due(hss_poller_t *p, bool once) {
  if (p->active >= p->max_active)
    return HSS_MAX_WAIT_MS; /* nothing can start before a transfer ends */
  double now = mono_now();
  double wait = HSS_MAX_WAIT_MS / 1000.0;
  size_t n = collect_due(p, once, now, &wait);
  while (n > 0 && p->active < p->max_active) {
    size_t k = hss_slots_pick(p->claims, n, p->in_flight, p->max_active,
                              p->active, p->idle_accounts);
    if (k == n)
      break;
    job_t *job = &p->jobs[p->claim_job[k]];
    n--;
    p->claims[k] = p->claims[n];
    p->claim_job[k] = p->claim_job[n];
    if (!once) {
      /* A poll started just before may have used the budget. */
      double w = hss_sched_wait(&p->sched, job->slot, now);
      if (w > 0) {
        if (w < wait)
          wait = w;
        continue;
      }
      hss_sched_start(&p->sched, job->slot, now);
    }
    start_poll(p, job);
  }
  return (long)(wait * 1000.0) + 1;
}

/* True when hss_poller_run_once has nothing left to do. */
static bool all_polled_once(const hss_poller_t *p) {
  for (size_t i = 0; i < p->jobs_num; i++)
    if (!p->jobs[i].polled_once)
      return false;
  return true;
}

/* The loop shared by the thread (once = false) and run_once. */
static void run_loop(hss_poller_t *p, bool once) {
  while (!atomic_load(&p->stop)) {
    long wait_ms = start_due(p, once);
    int running = 0;
    curl_multi_perform(p->multi, &running);
    collect_done(p);
    if (once && all_polled_once(p))
      break;
    /* Transfers that just ended freed slots: start the jobs that waited for
     * one now, rather than after the next wake-up. */
    long again_ms = start_due(p, once);
    if (again_ms < wait_ms)
      wait_ms = again_ms;
    if (once)
      wait_ms = 50;
    curl_multi_poll(p->multi, NULL, 0, (int)wait_ms, NULL);
  }
}

static void *poller_thread(void *arg) {
  run_loop(arg, false);
  return NULL;
}

/* True when this poller owns project pr: always without Pollers, else
 * when rendezvous hashing of the project name picks poller_name. */
static bool owns(const hss_config_t *cfg, const char *poller_name,
                 const hss_project_t *pr) {
  if (cfg->pollers_num == 0)
    return true;
  size_t owner = hss_shard_owner(pr->name, (const char *const *)cfg->pollers,
                                 cfg->pollers_num);
  return strcmp(cfg->pollers[owner], poller_name) == 0;
}

/* The projects of account a that this host owns. */
static size_t owned_of(const hss_config_t *cfg, const char *poller_name,
                       const hss_account_t *a) {
  size_t n = 0;
  for (size_t k = 0; k < a->projects_num; k++)
    n += owns(cfg, poller_name, &a->projects[k]);
  return n;
}

/* Which of the parts (Threads) polls each account, into part_of[]: whole
 * accounts, so that an account's token, credentials and 429 pause stay on
 * one thread; each in config order to the part with the fewest owned
 * projects so far. Every part computes the same. */
static void assign_parts(const size_t *owned, size_t accounts, size_t parts,
                         size_t *part_of) {
  size_t load[HSS_THREADS_MAX] = {0};
  for (size_t i = 0; i < accounts; i++) {
    size_t best = 0;
    for (size_t t = 1; t < parts; t++)
      if (load[t] < load[best])
        best = t;
    load[best] += owned[i];
    part_of[i] = best;
  }
}

size_t hss_poller_parts(const hss_config_t *cfg, const char *poller_name) {
  size_t busy = 0;
  for (size_t i = 0; i < cfg->accounts_num; i++)
    busy += owned_of(cfg, poller_name, &cfg->accounts[i]) > 0;
  size_t parts = cfg->threads < busy ? cfg->threads : busy;
  if (parts > cfg->rate_calls) /* whole calls of the plugin budget each */
    parts = cfg->rate_calls;
  if (parts > HSS_THREADS_MAX)
    parts = HSS_THREADS_MAX;
  return parts ? parts : 1;
}

/* Prepares one job per owned project of this part's accounts. Returns 0 or
 * -1. */
static int jobs_init(hss_poller_t *p, const char *poller_name) {
  p->jobs = calloc(p->cfg->projects_total ? p->cfg->projects_total : 1,
                   sizeof(*p->jobs));
  size_t accounts = p->cfg->accounts_num ? p->cfg->accounts_num : 1;
  p->accts = calloc(accounts, sizeof(*p->accts));
  p->owned = calloc(accounts, sizeof(*p->owned));
  p->part_of = calloc(accounts, sizeof(*p->part_of));
  p->in_flight = calloc(accounts, sizeof(*p->in_flight));
  size_t jobs = p->cfg->projects_total ? p->cfg->projects_total : 1;
  p->claims = calloc(jobs, sizeof(*p->claims));
  p->claim_job = calloc(jobs, sizeof(*p->claim_job));
  if (p->jobs == NULL || p->accts == NULL || p->owned == NULL ||
      p->part_of == NULL || p->in_flight == NULL || p->claims == NULL ||
      p->claim_job == NULL)
    return -1;
  for (size_t i = 0; i < p->cfg->accounts_num; i++) {
    p->owned[i] = owned_of(p->cfg, poller_name, &p->cfg->accounts[i]);
    p->host_owned += p->owned[i];
  }
  assign_parts(p->owned, p->cfg->accounts_num, p->parts, p->part_of);
  for (size_t i = 0; i < p->cfg->accounts_num; i++) {
    const hss_account_t *a = &p->cfg->accounts[i];
    if (p->part_of[i] != p->part)
      continue;
    for (size_t k = 0; k < a->projects_num; k++) {
      if (!owns(p->cfg, poller_name, &a->projects[k]))
        continue;
      job_t *job = &p->jobs[p->jobs_num];
      job->slot = p->jobs_num++;
      job->project = &a->projects[k];
      job->stats_url = hss_stats_url(a->endpoint, job->project->project_id,
                                     job->project->enterprise_project_id);
      if (a->cred == HSS_CRED_PASSWORD)
        job->iam_url = hss_iam_token_url(a->iam_endpoint);
      if (job->stats_url == NULL ||
          (a->cred == HSS_CRED_PASSWORD && job->iam_url == NULL))
        return -1;
    }
  }
  for (size_t i = 0; i < p->cfg->accounts_num; i++)
    p->idle_accounts += p->part_of[i] == p->part && p->owned[i] > 0;
  return 0;
}

/* The budget of account i for this poller. With Pollers, the pollers that
 * own projects of the account split its calls as whole calls per the same
 * window, in proportion to their projects, so that together they can never
 * exceed it. With more such pollers than calls, one that gets none falls
 * back to one call per the window stretched by its share, and says that
 * the account's budget may then be exceeded. */
static hss_budget_t account_budget(const hss_poller_t *p, size_t i,
                                   const char *poller_name) {
  const hss_config_t *cfg = p->cfg;
  const hss_account_t *a = &cfg->accounts[i];
  hss_budget_t b = {a->rate_calls, a->rate_seconds};
  if (cfg->pollers_num == 0)
    return b;
  size_t *w = calloc(cfg->pollers_num, sizeof(*w));
  size_t me = cfg->pollers_num, owned = 0;
  if (w == NULL)
    return b; /* the scheduler's allocation fails too; plan() reports it */
  for (size_t k = 0; k < a->projects_num; k++)
    w[hss_shard_owner(a->projects[k].name, (const char *const *)cfg->pollers,
                      cfg->pollers_num)]++;
  for (size_t t = 0; t < cfg->pollers_num; t++)
    if (strcmp(cfg->pollers[t], poller_name) == 0)
      me = t;
  if (me < cfg->pollers_num) {
    owned = w[me];
    b.calls = hss_shard_apportion(a->rate_calls, w, cfg->pollers_num, me);
  }
  free(w);
  if (owned > 0 && b.calls == 0) {
    b.calls = 1;
    b.seconds = a->rate_seconds * (double)a->projects_num / (double)owned;
    hss_log(LOG_WARNING,
            "account \"%s\": its RateLimit (%zu calls per %g s) is smaller "
            "than the number of pollers that own its projects; this poller "
            "takes 1 call per %g s, and the pollers together may exceed the "
            "account's budget. List fewer Pollers, or split the projects "
            "over more accounts.",
            a->name, a->rate_calls, a->rate_seconds, b.seconds);
  }
  return b;
}

/* This part's calls of the plugin budget (Threads): whole calls per the same
 * window, in proportion to the parts' projects. */
static hss_budget_t part_budget(const hss_poller_t *p) {
  hss_budget_t b = {p->cfg->rate_calls, p->cfg->rate_seconds};
  if (p->parts <= 1)
    return b;
  size_t w[HSS_THREADS_MAX] = {0};
  for (size_t i = 0; i < p->cfg->accounts_num; i++)
    w[p->part_of[i]] += p->owned[i];
  b.calls = hss_shard_apportion(p->cfg->rate_calls, w, p->parts, p->part);
  if (b.calls == 0)
    b.calls = 1; /* no projects: never used */
  return b;
}

/* Plans every owned project's effective interval and start, and says so in
 * the log. Returns 0 or -1. */
static int plan(hss_poller_t *p, const char *poller_name) {
  size_t n = p->jobs_num;
  hss_sched_input_t *in = calloc(n ? n : 1, sizeof(*in));
  hss_budget_t *groups =
      calloc(p->cfg->accounts_num ? p->cfg->accounts_num : 1, sizeof(*groups));
  hss_budget_t mine = part_budget(p);
  int status = -1;
  if (in != NULL && groups != NULL) {
    for (size_t k = 0; k < n; k++) {
      in[k].group = acct_index(p, p->jobs[k].project);
      in[k].min_interval = p->jobs[k].project->interval;
    }
    for (size_t i = 0; i < p->cfg->accounts_num; i++)
      groups[i] = account_budget(p, i, poller_name);
    status = hss_sched_init(&p->sched, in, n, groups, p->cfg->accounts_num,
                            mine, mono_now());
  }
  free(in);
  if (status != 0) {
    free(groups);
    return -1;
  }
  if (p->cfg->pollers_num > 0 && p->part == 0) {
    bool listed = false;
    for (size_t i = 0; i < p->cfg->pollers_num; i++)
      listed = listed || strcmp(p->cfg->pollers[i], poller_name) == 0;
    if (!listed)
      hss_log(LOG_WARNING,
              "this poller's name \"%s\" is not in Pollers: it polls no "
              "project. Set PollerName, or add it to Pollers.",
              poller_name);
    hss_log(LOG_INFO, "poller \"%s\" owns %zu of %zu projects.", poller_name,
            p->host_owned, p->cfg->projects_total);
  }
  if (p->parts > 1)
    hss_log(LOG_INFO,
            "thread %zu of %zu polls %zu of the %zu projects (%zu requests in "
            "flight at most).",
            p->part + 1, p->parts, n, p->host_owned, p->max_active);
  /* The budgets this poller plans with: RateLimit's, or its part of them
   * with Pollers or Threads. */
  for (size_t k = 0; k < n; k++) {
    const hss_project_t *pr = p->jobs[k].project;
    const hss_budget_t *g = &groups[acct_index(p, pr)];
    double e = p->sched.entries[k].interval;
    if (e > pr->interval * 1.001)
      hss_log(LOG_WARNING,
              "project \"%s\" (account \"%s\"): the rate budget "
              "(RateLimit %zu per %g s for the account, %zu per %g s for the "
              "poller) allows a poll every %.1f s, not every %g s as "
              "configured: polling every %.1f s.",
              pr->name, pr->account->name, g->calls, g->seconds, mine.calls,
              mine.seconds, e, pr->interval, e);
    else
      hss_log(LOG_INFO,
              "project \"%s\" (account \"%s\"): polling every %g "
              "s, timeout %ld ms.",
              pr->name, pr->account->name, e, pr->timeout_ms);
  }
  free(groups);
  return 0;
}

hss_poller_t *hss_poller_new(const hss_config_t *cfg, const char *poller_name,
                             size_t part, size_t parts, hss_result_cb_t cb,
                             void *ud) {
  hss_poller_t *p = calloc(1, sizeof(*p));
  if (p == NULL) {
    hss_log(LOG_ERR, "out of memory creating the poller");
    return NULL;
  }
  p->cfg = cfg;
  p->cb = cb;
  p->ud = ud;
  atomic_init(&p->stop, false);
  p->multi = curl_multi_init();
  p->share = curl_share_init();
  p->parts = parts < 1 ? 1 : parts > HSS_THREADS_MAX ? HSS_THREADS_MAX : parts;
  p->part = part < p->parts ? part : 0;
  /* MaxConcurrency is for all the parts together. */
  size_t conc = cfg->max_concurrency ? cfg->max_concurrency : 1;
  p->max_active = conc / p->parts + (p->part < conc % p->parts);
  if (p->max_active == 0)
    p->max_active = 1;
  p->system_ca_file = hss_ca_file_only(NULL);
  srand((unsigned)time(NULL) ^ (unsigned)getpid()); /* 429 back-off jitter */
  if (p->multi == NULL || p->share == NULL || jobs_init(p, poller_name) != 0 ||
      plan(p, poller_name) != 0) {
    hss_log(LOG_ERR, "cannot create the poller (libcurl or memory)");
    hss_poller_free(p);
    return NULL;
  }
  /* One thread uses the share, so it needs no lock callbacks. */
  curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    (long)p->max_active);
  curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->max_active);
  /* HTTP/2: as many streams on one connection as the server allows, up to
   * MaxConcurrency (libcurl's own default is 100). */
  if (p->max_active > 100)
    curl_multi_setopt(p->multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                      (long)p->max_active);
  return p;
}

/* Plain pthread_create with the thread-name argument ignored. */
static int default_create(pthread_t *thread, void *(*start)(void *), void *arg,
                          const char *name) {
  (void)name;
  return pthread_create(thread, NULL, start, arg);
}

int hss_poller_start(hss_poller_t *p, hss_thread_create_t create) {
  if (p->thread_running)
    return 0;
  if ((create ? create : default_create)(&p->thread, poller_thread, p,
                                         "hss_imgstats") != 0) {
    hss_log(LOG_ERR, "cannot start the polling thread");
    return -1;
  }
  p->thread_running = true;
  return 0;
}

size_t hss_poller_projects(const hss_poller_t *p) { return p->jobs_num; }

int hss_poller_run_once(hss_poller_t *p) {
  p->failures_once = 0;
  for (size_t i = 0; i < p->jobs_num; i++)
    p->jobs[i].polled_once = false;
  run_loop(p, true);
  return p->failures_once;
}

void hss_poller_stop(hss_poller_t *p) {
  if (p == NULL || !p->thread_running)
    return;
  atomic_store(&p->stop, true);
  curl_multi_wakeup(p->multi);
  pthread_join(p->thread, NULL);
  p->thread_running = false;
}

void hss_poller_free(hss_poller_t *p) {
  if (p == NULL)
    return;
  hss_poller_stop(p);
  for (size_t i = 0; i < p->jobs_num; i++) {
    job_t *job = &p->jobs[i];
    if (job->xfer != NULL) {
      curl_multi_remove_handle(p->multi, job->xfer->easy);
      hss_xfer_free(job->xfer);
    }
    hss_token_clear(&job->token);
    free(job->stats_url);
    free(job->iam_url);
  }
  free(p->jobs);
  for (size_t i = 0; p->accts != NULL && i < p->cfg->accounts_num; i++) {
    hss_token_clear(&p->accts[i].lease);
    hss_temp_creds_clear(&p->accts[i].creds);
  }
  free(p->accts);
  free(p->owned);
  free(p->part_of);
  free(p->in_flight);
  free(p->claims);
  free(p->claim_job);
  hss_sched_free(&p->sched);
  if (p->multi != NULL)
    curl_multi_cleanup(p->multi);
  if (p->share != NULL)
    curl_share_cleanup(p->share);
  free(p);
}

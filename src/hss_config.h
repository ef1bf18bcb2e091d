/* hss_config.h - the configuration model and its parser.
 *
 * hss_config_parse() turns the <Plugin hss_imgstats> block into plain
 * structs. Every error is logged through hss_log with the option and the
 * block it concerns, and makes the whole parse fail. */
#ifndef HSS_CONFIG_H
#define HSS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "liboconfig/oconfig.h"
#include "secret.h"

#define HSS_NAME_MAX 127 /* collectd's identifier fields hold 128 bytes */
#define HSS_ID_MAX 256   /* project and enterprise project ids */
#define HSS_DEFAULT_TIMEOUT_MS 10000
#define HSS_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define HSS_DEFAULT_RATE_CALLS 5      /* the API allows 5 calls ... */
#define HSS_DEFAULT_RATE_SECONDS 60.0 /* ... per minute per user and per IP */
#define HSS_DEFAULT_MAX_CONCURRENCY 8
#define HSS_THREADS_MAX 16
#define HSS_MAX_POLLERS 1024

typedef enum {
  HSS_CRED_NONE = 0,
  HSS_CRED_TOKEN,    /* static X-Auth-Token, inline or from TokenFile */
  HSS_CRED_PASSWORD, /* IAM password -> project-scoped token */
  HSS_CRED_AKSK,    /* AccessKey + SecretKey, with SecurityToken if temporary */
  HSS_CRED_METADATA /* temporary AK/SK from the ECS metadata service */
} hss_cred_kind_t;

#define HSS_DEFAULT_METADATA_URL                                               \
  "http://169.254.169.254/openstack/latest/securitykey"

struct hss_account_s;

typedef struct {
  char *name;                  /* plugin_instance */
  char *project_id;            /* path parameter */
  char *enterprise_project_id; /* query parameter, or NULL */
  char *host;                  /* host field, or NULL for collectd's */
  double interval;             /* seconds between polls */
  long timeout_ms;             /* whole-poll budget */
  struct hss_account_s *account;
  size_t index; /* 0..projects_total-1 across all accounts */
} hss_project_t;

typedef struct hss_account_s {
  char *name;
  char *region;       /* or NULL when only Endpoint is given */
  char *endpoint;     /* HSS base URL, no trailing slash */
  char *iam_endpoint; /* IAM base URL, no trailing slash (password only) */
  hss_cred_kind_t cred;
  hss_secret_t token;          /* HSS_CRED_TOKEN */
  char *domain;                /* HSS_CRED_PASSWORD */
  char *user;                  /* HSS_CRED_PASSWORD */
  hss_secret_t password;       /* HSS_CRED_PASSWORD */
  char *access_key;            /* HSS_CRED_AKSK */
  hss_secret_t secret_key;     /* HSS_CRED_AKSK */
  hss_secret_t security_token; /* HSS_CRED_AKSK, value NULL if permanent */
  char *metadata_url;          /* HSS_CRED_METADATA */
  long timeout_ms;             /* 0 = derived per project */
  size_t rate_calls;           /* RateLimit of this credential */
  double rate_seconds;
  long connect_timeout_ms;
  char *cacert;
  bool verify_peer;
  bool verify_host;
  bool allow_insecure;
  char *proxy;
  hss_project_t *projects;
  size_t projects_num;
} hss_account_t;

typedef struct {
  hss_account_t *accounts;
  size_t accounts_num;
  size_t projects_total;
  size_t rate_calls; /* plugin-level RateLimit: this poller's budget */
  double rate_seconds;
  size_t max_concurrency; /* requests in flight at once */
  size_t threads;         /* Threads: poller threads, each with its accounts */
  char **pollers;         /* the fleet's poller names, or NULL */
  size_t pollers_num;
  char *poller_name; /* this poller; NULL = collectd's hostname */
} hss_config_t;

/* Parses the plugin block. default_interval is collectd's interval in
 * seconds, used for projects without their own Interval. Returns 0, or -1
 * after logging every error found; *cfg is then empty. May be called again
 * to add more blocks (several <Plugin hss_imgstats> blocks merge). */
int hss_config_parse(const oconfig_item_t *ci, double default_interval,
                     hss_config_t *cfg);

/* Checks rules that span blocks (e.g. duplicate project names); logs and
 * returns -1 on error. */
int hss_config_validate(const hss_config_t *cfg);

/* Frees everything the model owns, wiping secrets. */
void hss_config_free(hss_config_t *cfg);

#endif

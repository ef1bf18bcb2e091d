/* hss_config.c - <Plugin hss_imgstats> block to the configuration model.
 *
 * Errors name the block ("Account \"prod\" / Project \"web\"") and the
 * option, and are all reported before the parse fails, so one collectd -T
 * run shows every mistake. Secret values never appear in a message. */
#include "hss_config.h"

#include <math.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "endpoint.h"
#include "hss_log.h"

#define WHERE_MAX 512

/* Raw option values of one <Account> block before they are checked. */
typedef struct {
  char *region, *endpoint, *iam_endpoint;
  char *token, *token_file;
  char *domain, *user, *password, *password_file;
  char *access_key, *secret_key, *secret_key_file;
  char *security_token, *security_token_file;
  char *metadata_url;
  char *cacert, *proxy;
  long timeout_ms, connect_timeout_ms;
  bool verify_peer, verify_host, allow_insecure;
  bool metadata, metadata_set;
  size_t rate_calls;
  double rate_seconds;
} account_opts_t;

/* Frees the strings of raw options, wiping the inline secrets. */
static void account_opts_free(account_opts_t *o) {
  char **secrets[] = {&o->token, &o->password, &o->secret_key,
                      &o->security_token};
  for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
    if (*secrets[i] != NULL)
      OPENSSL_cleanse(*secrets[i], strlen(*secrets[i]));
  }
  free(o->region);
  free(o->endpoint);
  free(o->iam_endpoint);
  free(o->token);
  free(o->token_file);
  free(o->domain);
  free(o->user);
  free(o->password);
  free(o->password_file);
  free(o->access_key);
  free(o->secret_key);
  free(o->secret_key_file);
  free(o->security_token);
  free(o->security_token_file);
  free(o->metadata_url);
  free(o->cacert);
  free(o->proxy);
}

/* Reads the single string argument of an option into *out. An option given
 * twice is an error. Returns 0 or -1 (logged). */
static int opt_string(const oconfig_item_t *ci, const char *where, char **out) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING) {
    hss_log(LOG_ERR, "%s: option \"%s\" needs exactly one string argument.",
            where, ci->key);
    return -1;
  }
  if (*out != NULL) {
    hss_log(LOG_ERR, "%s: option \"%s\" is given more than once.", where,
            ci->key);
    return -1;
  }
  if (ci->values[0].value.string[0] == '\0') {
    hss_log(LOG_ERR, "%s: option \"%s\" must not be empty.", where, ci->key);
    return -1;
  }
  *out = strdup(ci->values[0].value.string);
  if (*out == NULL) {
    hss_log(LOG_ERR, "%s: option \"%s\": out of memory.", where, ci->key);
    return -1;
  }
  return 0;
}

/* Reads a boolean argument (true/false, or the strings "true"/"false"). */
static int opt_bool(const oconfig_item_t *ci, const char *where, bool *out) {
  if (ci->values_num == 1 && ci->values[0].type == OCONFIG_TYPE_BOOLEAN) {
    *out = ci->values[0].value.boolean != 0;
    return 0;
  }
  if (ci->values_num == 1 && ci->values[0].type == OCONFIG_TYPE_STRING) {
    const char *s = ci->values[0].value.string;
    if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
        strcasecmp(s, "on") == 0) {
      *out = true;
      return 0;
    }
    if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
        strcasecmp(s, "off") == 0) {
      *out = false;
      return 0;
    }
  }
  hss_log(LOG_ERR,
          "%s: option \"%s\" needs one boolean argument (true or "
          "false).",
          where, ci->key);
  return -1;
}

/* Reads a number argument in [min, max]; unit names it in the error. */
static int opt_number(const oconfig_item_t *ci, const char *where, double min,
                      double max, const char *unit, double *out) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_NUMBER ||
      !isfinite(ci->values[0].value.number) ||
      ci->values[0].value.number < min || ci->values[0].value.number > max) {
    hss_log(LOG_ERR,
            "%s: option \"%s\" needs one number of %s between %g and "
            "%g.",
            where, ci->key, unit, min, max);
    return -1;
  }
  *out = ci->values[0].value.number;
  return 0;
}

/* Reads the single string label of a block (<Account "x">). */
static int block_name(const oconfig_item_t *ci, const char *where,
                      const char **out) {
  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING ||
      ci->values[0].value.string[0] == '\0') {
    hss_log(LOG_ERR,
            "%s: <%s> needs exactly one non-empty string label, as in "
            "<%s \"name\">.",
            where, ci->key, ci->key);
    return -1;
  }
  *out = ci->values[0].value.string;
  return 0;
}

/* True (and logged) when an earlier option of block has the same key as
 * its i-th child: each option may be given once, whatever its type (the
 * last one silently winning would hide a mistake). */
static bool option_repeated(const oconfig_item_t *block, int i,
                            const char *where) {
  const char *key = block->children[i].key;
  for (int j = 0; j < i; j++)
    if (strcasecmp(block->children[j].key, key) == 0) {
      hss_log(LOG_ERR, "%s: option \"%s\" is given more than once.", where,
              key);
      return true;
    }
  return false;
}

/* Checks a string's length; label names it in the error. */
static int check_len(const char *where, const char *option, const char *value,
                     size_t max) {
  if (value != NULL && strlen(value) > max) {
    hss_log(LOG_ERR, "%s: option \"%s\" is %zu bytes long; at most %zu fit.",
            where, option, strlen(value), max);
    return -1;
  }
  return 0;
}

/* True when id holds only characters that need no escaping in a URL path
 * (A-Z a-z 0-9 - _ . ~), as project ids do; anything else ('/', '%')
 * would be read differently by the gateway's signature check. */
static bool id_is_plain(const char *id) {
  for (const char *c = id; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || strchr("-_.~", *c) != NULL))
      return false;
  return true;
}

/* Parses one <Project> block into *p. Returns 0 or -1 (logged). */
static int parse_project(const oconfig_item_t *ci, const char *acc_where,
                         double default_interval, hss_project_t *p) {
  const char *name = NULL;
  char where[WHERE_MAX];
  if (block_name(ci, acc_where, &name) != 0)
    return -1;
  snprintf(where, sizeof(where), "%.200s, Project \"%.200s\"", acc_where, name);
  int errors = 0;
  if (strlen(name) > HSS_NAME_MAX) {
    hss_log(LOG_ERR,
            "%s: the project name is %zu bytes long; it becomes the "
            "plugin_instance, where at most %d fit.",
            where, strlen(name), HSS_NAME_MAX);
    errors++;
  } else if (strchr(name, '/') != NULL) {
    hss_log(LOG_ERR, "%s: the project name must not contain '/'.", where);
    errors++;
  }
  p->name = strdup(name);
  p->interval = 0;
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *c = &ci->children[i];
    int status;
    if (option_repeated(ci, i, where))
      status = -1;
    else if (strcasecmp(c->key, "ProjectId") == 0)
      status = opt_string(c, where, &p->project_id);
    else if (strcasecmp(c->key, "EnterpriseProjectId") == 0)
      status = opt_string(c, where, &p->enterprise_project_id);
    else if (strcasecmp(c->key, "Host") == 0)
      status = opt_string(c, where, &p->host);
    else if (strcasecmp(c->key, "Interval") == 0)
      status =
          opt_number(c, where, 0.001, 86400.0 * 365, "seconds", &p->interval);
    else {
      hss_log(LOG_ERR, "%s: unknown option \"%s\".", where, c->key);
      status = -1;
    }
    if (status != 0)
      errors++;
  }
  if (p->project_id == NULL) {
    hss_log(LOG_ERR, "%s: option \"ProjectId\" is missing; it is required.",
            where);
    errors++;
  }
  errors += check_len(where, "ProjectId", p->project_id, HSS_ID_MAX) != 0;
  if (p->project_id != NULL && !id_is_plain(p->project_id)) {
    hss_log(LOG_ERR,
            "%s: option \"ProjectId\" may hold only letters, "
            "digits, '-', '_', '.' and '~'.",
            where);
    errors++;
  }
  errors += check_len(where, "EnterpriseProjectId", p->enterprise_project_id,
                      HSS_ID_MAX) != 0;
  errors += check_len(where, "Host", p->host, HSS_NAME_MAX) != 0;
  if (p->interval == 0)
    p->interval = default_interval;
  return errors ? -1 : 0;
}

/* Frees one project's strings. */
static void project_free(hss_project_t *p) {
  free(p->name);
  free(p->project_id);
  free(p->enterprise_project_id);
  free(p->host);
}

/* Reads "RateLimit CALLS SECONDS". Returns 0 or -1 (logged). */
static int opt_rate(const oconfig_item_t *ci, const char *where, size_t *calls,
                    double *seconds) {
  if (ci->values_num != 2 || ci->values[0].type != OCONFIG_TYPE_NUMBER ||
      ci->values[1].type != OCONFIG_TYPE_NUMBER ||
      ci->values[0].value.number < 1 || ci->values[0].value.number > 100000 ||
      ci->values[0].value.number != floor(ci->values[0].value.number) ||
      !(ci->values[1].value.number > 0) || ci->values[1].value.number > 86400) {
    hss_log(LOG_ERR,
            "%s: option \"%s\" needs two numbers: CALLS (a whole "
            "number from 1 to 100000) and SECONDS (more than 0, at "
            "most 86400), as in \"RateLimit 5 60\".",
            where, ci->key);
    return -1;
  }
  *calls = (size_t)ci->values[0].value.number;
  *seconds = ci->values[1].value.number;
  return 0;
}

/* Reads one option of an <Account> block into the raw options. */
static int account_option(const oconfig_item_t *c, const char *where,
                          account_opts_t *o) {
  double num;
  if (strcasecmp(c->key, "Region") == 0)
    return opt_string(c, where, &o->region);
  if (strcasecmp(c->key, "Endpoint") == 0)
    return opt_string(c, where, &o->endpoint);
  if (strcasecmp(c->key, "IAMEndpoint") == 0)
    return opt_string(c, where, &o->iam_endpoint);
  if (strcasecmp(c->key, "Token") == 0)
    return opt_string(c, where, &o->token);
  if (strcasecmp(c->key, "TokenFile") == 0)
    return opt_string(c, where, &o->token_file);
  if (strcasecmp(c->key, "Domain") == 0)
    return opt_string(c, where, &o->domain);
  if (strcasecmp(c->key, "User") == 0)
    return opt_string(c, where, &o->user);
  if (strcasecmp(c->key, "Password") == 0)
    return opt_string(c, where, &o->password);
  if (strcasecmp(c->key, "PasswordFile") == 0)
    return opt_string(c, where, &o->password_file);
  if (strcasecmp(c->key, "AccessKey") == 0)
    return opt_string(c, where, &o->access_key);
  if (strcasecmp(c->key, "SecretKey") == 0)
    return opt_string(c, where, &o->secret_key);
  if (strcasecmp(c->key, "SecretKeyFile") == 0)
    return opt_string(c, where, &o->secret_key_file);
  if (strcasecmp(c->key, "SecurityToken") == 0)
    return opt_string(c, where, &o->security_token);
  if (strcasecmp(c->key, "SecurityTokenFile") == 0)
    return opt_string(c, where, &o->security_token_file);
  if (strcasecmp(c->key, "MetadataURL") == 0)
    return opt_string(c, where, &o->metadata_url);
  if (strcasecmp(c->key, "MetadataCredentials") == 0) {
    o->metadata_set = true;
    return opt_bool(c, where, &o->metadata);
  }
  if (strcasecmp(c->key, "CACert") == 0)
    return opt_string(c, where, &o->cacert);
  if (strcasecmp(c->key, "Proxy") == 0)
    return opt_string(c, where, &o->proxy);
  if (strcasecmp(c->key, "VerifyPeer") == 0)
    return opt_bool(c, where, &o->verify_peer);
  if (strcasecmp(c->key, "VerifyHost") == 0)
    return opt_bool(c, where, &o->verify_host);
  if (strcasecmp(c->key, "AllowInsecure") == 0)
    return opt_bool(c, where, &o->allow_insecure);
  if (strcasecmp(c->key, "RateLimit") == 0)
    return opt_rate(c, where, &o->rate_calls, &o->rate_seconds);
  if (strcasecmp(c->key, "Timeout") == 0) {
    if (opt_number(c, where, 1, 3600000, "milliseconds", &num) != 0)
      return -1;
    o->timeout_ms = (long)num;
    return 0;
  }
  if (strcasecmp(c->key, "ConnectTimeout") == 0) {
    if (opt_number(c, where, 1, 3600000, "milliseconds", &num) != 0)
      return -1;
    o->connect_timeout_ms = (long)num;
    return 0;
  }
  hss_log(LOG_ERR, "%s: unknown option \"%s\".", where, c->key);
  return -1;
}

/* Loads a secret given inline or as a file; option names the option that
 * was used. Warns when the file is readable by group or others. */
static int load_secret(hss_secret_t *s, const char *where,
                       const char *inline_opt, const char *inline_value,
                       const char *file_opt, const char *path) {
  char err[512];
  if (inline_value != NULL) {
    if (hss_secret_set_inline(s, inline_value, err, sizeof(err)) != 0) {
      hss_log(LOG_ERR, "%s: option \"%s\": %s.", where, inline_opt, err);
      return -1;
    }
    return 0;
  }
  if (hss_secret_set_file(s, path, err, sizeof(err)) != 0) {
    hss_log(LOG_ERR, "%s: option \"%s\": %s.", where, file_opt, err);
    return -1;
  }
  if (hss_secret_file_is_exposed(path))
    hss_log(LOG_WARNING,
            "%s: option \"%s\": \"%s\" is readable by group or others; "
            "restrict it with chmod 600.",
            where, file_opt, path);
  return 0;
}

/* Logs an error when both options of an exclusive pair are given. */
static int exclusive(const char *where, const char *a_name, const void *a,
                     const char *b_name, const void *b) {
  if (a == NULL || b == NULL)
    return 0;
  hss_log(LOG_ERR, "%s: options \"%s\" and \"%s\" are exclusive; give one.",
          where, a_name, b_name);
  return -1;
}

/* Logs an error for each option of a method that is missing. */
static int require(const char *where, const char *method, const char *option,
                   const void *value) {
  if (value != NULL)
    return 0;
  hss_log(LOG_ERR, "%s: option \"%s\" is missing; %s needs it.", where, option,
          method);
  return -1;
}

/* The credential methods whose options appear in o (kinds and names for
 * messages), and how many there are. */
static size_t credential_methods(const account_opts_t *o,
                                 hss_cred_kind_t kinds[4],
                                 const char *names[4]) {
  size_t n = 0;
  if (o->token != NULL || o->token_file != NULL) {
    kinds[n] = HSS_CRED_TOKEN;
    names[n++] = "Token/TokenFile";
  }
  if (o->domain != NULL || o->user != NULL || o->password != NULL ||
      o->password_file != NULL) {
    kinds[n] = HSS_CRED_PASSWORD;
    names[n++] = "Domain/User/Password";
  }
  if (o->access_key != NULL || o->secret_key != NULL ||
      o->secret_key_file != NULL || o->security_token != NULL ||
      o->security_token_file != NULL) {
    kinds[n] = HSS_CRED_AKSK;
    names[n++] = "AccessKey/SecretKey";
  }
  if (o->metadata) {
    kinds[n] = HSS_CRED_METADATA;
    names[n++] = "MetadataCredentials";
  }
  return n;
}

/* Loads the password method's options. */
static int password_credentials(hss_account_t *a, const char *where,
                                account_opts_t *o) {
  const char *m = "password authentication";
  int errors = 0;
  errors += require(where, m, "Domain", o->domain) != 0;
  errors += require(where, m, "User", o->user) != 0;
  if (o->password == NULL && o->password_file == NULL)
    errors += require(where, m, "Password\" or \"PasswordFile", NULL) != 0;
  if (errors)
    return -1;
  a->cred = HSS_CRED_PASSWORD;
  a->domain = o->domain;
  a->user = o->user;
  o->domain = o->user = NULL;
  return load_secret(&a->password, where, "Password", o->password,
                     "PasswordFile", o->password_file);
}

/* Loads the AK/SK method's options (temporary when a SecurityToken is
 * given). */
static int aksk_credentials(hss_account_t *a, const char *where,
                            account_opts_t *o) {
  const char *m = "AK/SK authentication";
  int errors = 0;
  errors += require(where, m, "AccessKey", o->access_key) != 0;
  if (o->secret_key == NULL && o->secret_key_file == NULL)
    errors += require(where, m, "SecretKey\" or \"SecretKeyFile", NULL) != 0;
  if (errors)
    return -1;
  a->cred = HSS_CRED_AKSK;
  a->access_key = o->access_key;
  o->access_key = NULL;
  if (load_secret(&a->secret_key, where, "SecretKey", o->secret_key,
                  "SecretKeyFile", o->secret_key_file) != 0)
    return -1;
  if (o->security_token == NULL && o->security_token_file == NULL)
    return 0;
  return load_secret(&a->security_token, where, "SecurityToken",
                     o->security_token, "SecurityTokenFile",
                     o->security_token_file);
}

/* Checks the metadata method's URL (plain http is normal for the
 * link-local metadata service, which serves no other way). */
static int metadata_credentials(hss_account_t *a, const char *where,
                                account_opts_t *o) {
  char err[512];
  const char *url =
      o->metadata_url ? o->metadata_url : HSS_DEFAULT_METADATA_URL;
  a->metadata_url = hss_url_check(url, err, sizeof(err));
  if (a->metadata_url == NULL) {
    hss_log(LOG_ERR, "%s: option \"MetadataURL\": %s.", where, err);
    return -1;
  }
  a->cred = HSS_CRED_METADATA;
  return 0;
}

/* Picks the single credential method of an account and loads its secrets.
 * Returns 0 or -1 (logged). */
static int account_credentials(hss_account_t *a, const char *where,
                               account_opts_t *o) {
  hss_cred_kind_t kinds[4];
  const char *names[4];
  size_t n = credential_methods(o, kinds, names);
  int errors = 0;
  errors +=
      exclusive(where, "Token", o->token, "TokenFile", o->token_file) != 0;
  errors += exclusive(where, "Password", o->password, "PasswordFile",
                      o->password_file) != 0;
  errors += exclusive(where, "SecretKey", o->secret_key, "SecretKeyFile",
                      o->secret_key_file) != 0;
  errors += exclusive(where, "SecurityToken", o->security_token,
                      "SecurityTokenFile", o->security_token_file) != 0;
  if (o->metadata_url != NULL && !o->metadata) {
    hss_log(LOG_ERR,
            "%s: option \"MetadataURL\" needs "
            "\"MetadataCredentials true\".",
            where);
    errors++;
  }
  if (n > 1) {
    hss_log(LOG_ERR,
            "%s: two credential methods are configured (%s and %s); "
            "give exactly one.",
            where, names[0], names[1]);
    errors++;
  } else if (n == 0) {
    hss_log(LOG_ERR,
            "%s: no credential method is configured; give \"Token\" "
            "or \"TokenFile\"; or \"Domain\", \"User\" and "
            "\"Password\" or \"PasswordFile\"; or \"AccessKey\" "
            "and \"SecretKey\" or \"SecretKeyFile\"; or "
            "\"MetadataCredentials true\".",
            where);
    errors++;
  }
  if (errors)
    return -1;
  switch (kinds[0]) {
  case HSS_CRED_TOKEN:
    a->cred = HSS_CRED_TOKEN;
    return load_secret(&a->token, where, "Token", o->token, "TokenFile",
                       o->token_file);
  case HSS_CRED_PASSWORD:
    return password_credentials(a, where, o);
  case HSS_CRED_AKSK:
    return aksk_credentials(a, where, o);
  default:
    return metadata_credentials(a, where, o);
  }
}

/* Resolves the HSS and IAM base URLs and checks the transport options. */
static int account_transport(hss_account_t *a, const char *where,
                             account_opts_t *o) {
  char err[512];
  int errors = 0;
  if (o->region != NULL && !hss_region_valid(o->region)) {
    hss_log(LOG_ERR,
            "%s: option \"Region\": \"%s\" is not a region name "
            "(like cn-north-4).",
            where, o->region);
    errors++;
  } else if (o->region != NULL && !hss_region_known(o->region) &&
             o->endpoint == NULL) {
    hss_log(LOG_WARNING,
            "%s: option \"Region\": \"%s\" is not a region "
            "where HSS is documented; check the spelling, or set "
            "Endpoint.",
            where, o->region);
  }
  if (o->endpoint != NULL) {
    a->endpoint =
        hss_base_url_check(o->endpoint, o->allow_insecure, err, sizeof(err));
    if (a->endpoint == NULL) {
      hss_log(LOG_ERR, "%s: option \"Endpoint\": %s.", where, err);
      errors++;
    }
  } else if (o->region != NULL && errors == 0) {
    a->endpoint = hss_region_url("hss", o->region);
  } else if (o->region == NULL) {
    hss_log(LOG_ERR, "%s: option \"Region\" (or \"Endpoint\") is missing.",
            where);
    errors++;
  }
  if (a->cred == HSS_CRED_PASSWORD) {
    if (o->iam_endpoint != NULL) {
      a->iam_endpoint = hss_base_url_check(o->iam_endpoint, o->allow_insecure,
                                           err, sizeof(err));
      if (a->iam_endpoint == NULL) {
        hss_log(LOG_ERR, "%s: option \"IAMEndpoint\": %s.", where, err);
        errors++;
      }
    } else if (o->region != NULL && errors == 0) {
      a->iam_endpoint = hss_region_url("iam", o->region);
    } else if (o->region == NULL) {
      hss_log(LOG_ERR,
              "%s: password authentication needs \"IAMEndpoint\" "
              "or \"Region\".",
              where);
      errors++;
    }
  } else if (o->iam_endpoint != NULL) {
    hss_log(LOG_WARNING,
            "%s: option \"IAMEndpoint\" is ignored: only "
            "password authentication uses IAM.",
            where);
  }
  if (o->cacert != NULL && access(o->cacert, R_OK) != 0) {
    hss_log(LOG_ERR, "%s: option \"CACert\": cannot read \"%s\".", where,
            o->cacert);
    errors++;
  }
  if (o->proxy != NULL && hss_proxy_url_check(o->proxy, err, sizeof(err))) {
    hss_log(LOG_ERR, "%s: option \"Proxy\": %s.", where, err);
    errors++;
  }
  if (!o->verify_peer)
    hss_log(LOG_WARNING,
            "%s: VerifyPeer is false: the server's certificate "
            "is not checked and credentials can be intercepted.",
            where);
  if (!o->verify_host)
    hss_log(LOG_WARNING,
            "%s: VerifyHost is false: any host name is accepted "
            "in the server's certificate.",
            where);
  return errors ? -1 : 0;
}

/* Sets each project's whole-poll time budget, checking it against the
 * project's interval. */
static int account_timeouts(hss_account_t *a, const char *where, long timeout) {
  int errors = 0;
  for (size_t i = 0; i < a->projects_num; i++) {
    hss_project_t *p = &a->projects[i];
    if (p->name == NULL)
      continue; /* its <Project> had no valid label (logged): no interval */
    double interval_ms = p->interval * 1000.0;
    if (timeout > 0) {
      if ((double)timeout >= interval_ms) {
        hss_log(LOG_ERR,
                "%s: option \"Timeout\" (%ld ms) must be below the "
                "interval of Project \"%s\" (%g s).",
                where, timeout, p->name, p->interval);
        errors++;
      }
      p->timeout_ms = timeout;
    } else {
      double derived = interval_ms * 0.9;
      p->timeout_ms = derived < HSS_DEFAULT_TIMEOUT_MS ? (long)derived
                                                       : HSS_DEFAULT_TIMEOUT_MS;
      if (p->timeout_ms < 1)
        p->timeout_ms = 1;
    }
  }
  return errors ? -1 : 0;
}

/* Parses an <Account> block and appends it to cfg. */
static int parse_account(const oconfig_item_t *ci, double default_interval,
                         hss_config_t *cfg) {
  const char *name = NULL;
  char where[WHERE_MAX];
  if (block_name(ci, "<Plugin hss_imgstats>", &name) != 0)
    return -1;
  snprintf(where, sizeof(where), "Account \"%s\"", name);
  if (strlen(name) > HSS_NAME_MAX) {
    hss_log(LOG_ERR, "%s: the account name is longer than %d bytes.", where,
            HSS_NAME_MAX);
    return -1;
  }

  hss_account_t *grown =
      realloc(cfg->accounts, (cfg->accounts_num + 1) * sizeof(*grown));
  if (grown == NULL) {
    hss_log(LOG_ERR, "%s: out of memory.", where);
    return -1;
  }
  cfg->accounts = grown;
  hss_account_t *a = &cfg->accounts[cfg->accounts_num++];
  memset(a, 0, sizeof(*a));
  a->name = strdup(name);

  account_opts_t o = {.verify_peer = true, .verify_host = true};
  int errors = 0;
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *c = &ci->children[i];
    if (strcasecmp(c->key, "Project") != 0) {
      errors += option_repeated(ci, i, where) || account_option(c, where, &o);
      continue;
    }
    hss_project_t *pg =
        realloc(a->projects, (a->projects_num + 1) * sizeof(*pg));
    if (pg == NULL) {
      errors++;
      break;
    }
    a->projects = pg;
    hss_project_t *p = &a->projects[a->projects_num++];
    memset(p, 0, sizeof(*p));
    errors += parse_project(c, where, default_interval, p) != 0;
  }
  if (a->projects_num == 0) {
    hss_log(LOG_ERR, "%s: no <Project> block; give at least one.", where);
    errors++;
  }
  if (account_credentials(a, where, &o) != 0)
    errors++;
  if (account_transport(a, where, &o) != 0)
    errors++;
  if (account_timeouts(a, where, o.timeout_ms) != 0)
    errors++;
  a->timeout_ms = o.timeout_ms;
  a->rate_calls = o.rate_calls ? o.rate_calls : HSS_DEFAULT_RATE_CALLS;
  a->rate_seconds = o.rate_calls ? o.rate_seconds : HSS_DEFAULT_RATE_SECONDS;
  a->connect_timeout_ms = o.connect_timeout_ms > 0
                              ? o.connect_timeout_ms
                              : HSS_DEFAULT_CONNECT_TIMEOUT_MS;
  a->verify_peer = o.verify_peer;
  a->verify_host = o.verify_host;
  a->allow_insecure = o.allow_insecure;
  a->region = o.region;
  a->cacert = o.cacert;
  a->proxy = o.proxy;
  o.region = o.cacert = o.proxy = NULL;
  account_opts_free(&o);
  cfg->projects_total += a->projects_num;
  return errors ? -1 : 0;
}

/* Reads "Pollers NAME..." (each non-empty, unique). */
static int opt_pollers(const oconfig_item_t *ci, const char *where,
                       hss_config_t *cfg) {
  if (cfg->pollers != NULL) {
    hss_log(LOG_ERR, "%s: option \"%s\" is given more than once.", where,
            ci->key);
    return -1;
  }
  if (ci->values_num < 1 || ci->values_num > HSS_MAX_POLLERS) {
    hss_log(LOG_ERR, "%s: option \"%s\" needs 1 to %d poller names.", where,
            ci->key, HSS_MAX_POLLERS);
    return -1;
  }
  cfg->pollers = calloc((size_t)ci->values_num, sizeof(*cfg->pollers));
  if (cfg->pollers == NULL)
    return -1;
  for (int i = 0; i < ci->values_num; i++) {
    const oconfig_value_t *v = &ci->values[i];
    if (v->type != OCONFIG_TYPE_STRING || v->value.string[0] == '\0' ||
        strlen(v->value.string) > HSS_NAME_MAX) {
      hss_log(LOG_ERR,
              "%s: option \"%s\": every poller name must be a "
              "non-empty string of at most %d bytes.",
              where, ci->key, HSS_NAME_MAX);
      return -1;
    }
    for (size_t j = 0; j < cfg->pollers_num; j++)
      if (strcmp(cfg->pollers[j], v->value.string) == 0) {
        hss_log(LOG_ERR,
                "%s: option \"%s\": poller \"%s\" is listed "
                "twice.",
                where, ci->key, v->value.string);
        return -1;
      }
    cfg->pollers[cfg->pollers_num] = strdup(v->value.string);
    if (cfg->pollers[cfg->pollers_num++] == NULL)
      return -1;
  }
  return 0;
}

/* Reads one plugin-level option (not an <Account>). */
static int plugin_option(const oconfig_item_t *c, hss_config_t *cfg) {
  const char *where = "<Plugin hss_imgstats>";
  double num;
  if (strcasecmp(c->key, "RateLimit") == 0)
    return opt_rate(c, where, &cfg->rate_calls, &cfg->rate_seconds);
  if (strcasecmp(c->key, "MaxConcurrency") == 0) {
    if (opt_number(c, where, 1, 1000, "requests", &num) != 0)
      return -1;
    cfg->max_concurrency = (size_t)num;
    return 0;
  }
  if (strcasecmp(c->key, "Threads") == 0) {
    if (opt_number(c, where, 1, HSS_THREADS_MAX, "threads", &num) != 0)
      return -1;
    cfg->threads = (size_t)num;
    return 0;
  }
  if (strcasecmp(c->key, "Pollers") == 0)
    return opt_pollers(c, where, cfg);
  if (strcasecmp(c->key, "PollerName") == 0) {
    if (opt_string(c, where, &cfg->poller_name) != 0)
      return -1;
    return check_len(where, "PollerName", cfg->poller_name, HSS_NAME_MAX);
  }
  hss_log(LOG_ERR, "%s: unknown option \"%s\".", where, c->key);
  return -1;
}

int hss_config_parse(const oconfig_item_t *ci, double default_interval,
                     hss_config_t *cfg) {
  int errors = 0;
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *c = &ci->children[i];
    if (strcasecmp(c->key, "Account") == 0)
      errors += parse_account(c, default_interval, cfg) != 0;
    else if (option_repeated(ci, i, "<Plugin hss_imgstats>"))
      errors++;
    else
      errors += plugin_option(c, cfg) != 0;
  }
  if (cfg->rate_calls == 0) {
    cfg->rate_calls = HSS_DEFAULT_RATE_CALLS;
    cfg->rate_seconds = HSS_DEFAULT_RATE_SECONDS;
  }
  if (cfg->max_concurrency == 0)
    cfg->max_concurrency = HSS_DEFAULT_MAX_CONCURRENCY;
  if (cfg->threads == 0)
    cfg->threads = 1;
  /* Accounts may have moved while the array grew: point projects home. */
  size_t index = 0;
  for (size_t i = 0; i < cfg->accounts_num; i++)
    for (size_t k = 0; k < cfg->accounts[i].projects_num; k++) {
      cfg->accounts[i].projects[k].account = &cfg->accounts[i];
      cfg->accounts[i].projects[k].index = index++;
    }
  if (errors == 0 && hss_config_validate(cfg) != 0)
    errors++;
  if (errors) {
    hss_log(LOG_ERR, "the configuration has errors (see above); the plugin "
                     "will not load.");
    hss_config_free(cfg);
    return -1;
  }
  return 0;
}

int hss_config_validate(const hss_config_t *cfg) {
  int errors = 0;
  for (size_t i = 0; i < cfg->accounts_num; i++) {
    const hss_account_t *a = &cfg->accounts[i];
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->accounts[j].name, a->name) == 0) {
        hss_log(LOG_ERR, "Account \"%s\": the account name is used twice.",
                a->name);
        errors++;
      }
    for (size_t k = 0; k < a->projects_num; k++) {
      const hss_project_t *p = &a->projects[k];
      /* Project names are plugin_instances: unique across all accounts. */
      for (size_t i2 = 0; i2 <= i; i2++) {
        const hss_account_t *b = &cfg->accounts[i2];
        size_t limit = i2 == i ? k : b->projects_num;
        for (size_t k2 = 0; k2 < limit; k2++)
          if (strcmp(b->projects[k2].name, p->name) == 0) {
            hss_log(LOG_ERR,
                    "Account \"%s\", Project \"%s\": the project "
                    "name is already used in Account \"%s\"; "
                    "project names become plugin_instance and must "
                    "be unique.",
                    a->name, p->name, b->name);
            errors++;
          }
      }
    }
  }
  return errors ? -1 : 0;
}

void hss_config_free(hss_config_t *cfg) {
  for (size_t i = 0; i < cfg->accounts_num; i++) {
    hss_account_t *a = &cfg->accounts[i];
    for (size_t k = 0; k < a->projects_num; k++)
      project_free(&a->projects[k]);
    free(a->projects);
    free(a->name);
    free(a->region);
    free(a->endpoint);
    free(a->iam_endpoint);
    hss_secret_clear(&a->token);
    free(a->domain);
    free(a->user);
    hss_secret_clear(&a->password);
    free(a->access_key);
    hss_secret_clear(&a->secret_key);
    hss_secret_clear(&a->security_token);
    free(a->metadata_url);
    free(a->cacert);
    free(a->proxy);
  }
  free(cfg->accounts);
  for (size_t i = 0; i < cfg->pollers_num; i++)
    free(cfg->pollers[i]);
  free(cfg->pollers);
  free(cfg->poller_name);
  memset(cfg, 0, sizeof(*cfg));
}

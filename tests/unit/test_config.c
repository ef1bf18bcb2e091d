/* test_config.c - unit tests of config.c: <Plugin hss_imgstats> trees
 * (built with oconfig_builder) to the configuration model, the errors and
 * warnings logged on the way, and that no secret is ever logged. */
#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hss_config.h"
#include "oconfig_builder.h"

#define DEFAULT_INTERVAL 10.0

/* Every secret value any test puts in a configuration. The checked
 * teardown asserts that none of them reached a log line. */
#define TOKEN_INLINE "tok-INLINE-s3cr3t-0001"
#define PASSWORD_INLINE "pw-INLINE-s3cr3t-0002"
#define TOKEN_IN_FILE "tok-FILE-s3cr3t-0003"
#define PASSWORD_IN_FILE "pw-FILE-s3cr3t-0004"
#define URL_PASSWORD "pw-URL-s3cr3t-0005"
#define SK_INLINE "sk-INLINE-s3cr3t-0006"
#define SK_IN_FILE "sk-FILE-s3cr3t-0007"
#define ST_INLINE "st-INLINE-s3cr3t-0008"
#define ST_IN_FILE "st-FILE-s3cr3t-0009"

static const char *const secrets[] = {
    TOKEN_INLINE,     PASSWORD_INLINE, TOKEN_IN_FILE,
    PASSWORD_IN_FILE, URL_PASSWORD,    SK_INLINE,
    SK_IN_FILE,       ST_INLINE,       ST_IN_FILE};

/* An access key is an identifier, not a secret: it may be logged. */
#define ACCESS_KEY "HSTESTACCESSKEY00001"
#define LOCAL_METADATA_URL "http://127.0.0.1:8080/openstack/latest/securitykey"

static oconfig_item_t *root; /* <Plugin hss_imgstats> of the test */
static hss_config_t cfg;     /* what it parses into */

/* ---- fixture ------------------------------------------------------------ */

static void setup(void) {
  unit_log_install();
  memset(&cfg, 0, sizeof(cfg));
  root = oci_block("Plugin", "hss_imgstats");
}

/* Runs after every test: no secret may appear in any captured line. */
static void teardown(void) {
  for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
    if (unit_log_any(secrets[i])) {
      unit_log_dump("a secret was logged");
      ck_abort_msg("secret \"%s\" appears in the log", secrets[i]);
    }
  hss_config_free(&cfg);
  oci_free(root);
  root = NULL;
  unit_tmp_cleanup();
  unit_log_uninstall();
}

/* ---- helpers --------------------------------------------------------------
 */

/* Adds <Project name> with a ProjectId to acc. */
static oconfig_item_t *add_project(oconfig_item_t *acc, const char *name,
                                   const char *project_id) {
  oconfig_item_t *p = oci_add_block(acc, "Project", name);
  oci_add_str(p, "ProjectId", project_id);
  return p;
}

/* Adds <Account name> with Region cn-north-4 and an inline Token, no
 * project. */
static oconfig_item_t *token_account(const char *name) {
  oconfig_item_t *acc = oci_add_block(root, "Account", name);
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  return acc;
}

/* Adds <Account name> with password credentials and no region. */
static oconfig_item_t *password_account(const char *name) {
  oconfig_item_t *acc = oci_add_block(root, "Account", name);
  oci_add_str(acc, "Domain", "my-domain");
  oci_add_str(acc, "User", "monitor");
  oci_add_str(acc, "Password", PASSWORD_INLINE);
  return acc;
}

/* Adds <Account name> with Region cn-north-4 and only the options of
 * the caller (no credential), and <Project "web">. */
static oconfig_item_t *bare_account(const char *name) {
  oconfig_item_t *acc = oci_add_block(root, "Account", name);
  oci_add_str(acc, "Region", "cn-north-4");
  oconfig_item_t *p = oci_add_block(acc, "Project", "web");
  oci_add_str(p, "ProjectId", "p-web");
  return acc;
}

/* Adds <Account name> with Region, AccessKey and an inline SecretKey, and
 * <Project "web">. */
static oconfig_item_t *aksk_account(const char *name) {
  oconfig_item_t *acc = bare_account(name);
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  oci_add_str(acc, "SecretKey", SK_INLINE);
  return acc;
}

/* The usual test account: <Account "prod"> with <Project "web">. Returns
 * the account; *project (if not NULL) gets the project. */
static oconfig_item_t *prod_web(oconfig_item_t **project) {
  oconfig_item_t *acc = token_account("prod");
  oconfig_item_t *p = add_project(acc, "web", "p-web");
  if (project != NULL)
    *project = p;
  return acc;
}

/* Writes a secret file of the test and returns its path. */
static const char *secret_file(const char *name, const char *content,
                               mode_t mode) {
  const char *path = unit_write_file(name, content, mode);
  ck_assert_msg(path != NULL, "cannot write %s", name);
  return path;
}

/* A string of n copies of c (static, n < 600). */
static const char *repeat(char c, size_t n) {
  static char buf[600];
  ck_assert_uint_lt(n, sizeof(buf));
  memset(buf, c, n);
  buf[n] = '\0';
  return buf;
}

/* Parses root; must succeed without any error line. */
static void parse_ok(void) {
  int status = hss_config_parse(root, DEFAULT_INTERVAL, &cfg);
  if (status != 0)
    unit_log_dump("the parse failed");
  ck_assert_int_eq(status, 0);
  ck_assert_int_eq(unit_log_count(LOG_ERR), 0);
}

/* Parses root; must succeed without any error or warning line. */
static void parse_clean(void) {
  parse_ok();
  if (unit_log_count(LOG_WARNING) != 0)
    unit_log_dump("unexpected warnings");
  ck_assert_int_eq(unit_log_count(LOG_WARNING), 0);
}

/* Parses root; must fail, log the closing summary and leave cfg empty. */
static void parse_fails(void) {
  int status = hss_config_parse(root, DEFAULT_INTERVAL, &cfg);
  if (status != -1)
    unit_log_dump("the parse did not fail");
  ck_assert_int_eq(status, -1);
  ck_assert_uint_eq(cfg.accounts_num, 0);
  ck_assert_ptr_null(cfg.accounts);
  ck_assert_uint_eq(cfg.projects_total, 0);
  ck_assert(unit_log_has(LOG_ERR, "the configuration has errors", NULL));
  ck_assert_int_ge(unit_log_count(LOG_ERR), 2);
}

/* Number of error lines besides the closing summary. */
static int error_lines(void) { return unit_log_count(LOG_ERR) - 1; }

/* The account named name in cfg (fails the test when missing). */
static const hss_account_t *account(const char *name) {
  for (size_t i = 0; i < cfg.accounts_num; i++)
    if (strcmp(cfg.accounts[i].name, name) == 0)
      return &cfg.accounts[i];
  ck_abort_msg("no account \"%s\"", name);
  return NULL;
}

/* The project named name of account a (fails the test when missing). */
static const hss_project_t *project(const hss_account_t *a, const char *name) {
  for (size_t i = 0; i < a->projects_num; i++)
    if (strcmp(a->projects[i].name, name) == 0)
      return &a->projects[i];
  ck_abort_msg("no project \"%s\" in account \"%s\"", name, a->name);
  return NULL;
}

/* ---- valid configurations ---------------------------------------------------
 */

START_TEST(test_full_config) {
  const char *token_path = secret_file("token", TOKEN_IN_FILE "\n", 0600);
  const char *ca_path =
      secret_file("ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
  oconfig_item_t *prod = oci_add_block(root, "Account", "prod");
  oci_add_str(prod, "Region", "cn-north-4");
  oci_add_str(prod, "TokenFile", token_path);
  oci_add_num(prod, "Timeout", 5000);
  oci_add_num(prod, "ConnectTimeout", 2000);
  oci_add_str(prod, "CACert", ca_path);
  oci_add_str(prod, "Proxy", "http://proxy.internal:3128");
  oconfig_item_t *web = add_project(prod, "web", "p-web");
  oci_add_str(web, "EnterpriseProjectId", "all_granted_eps");
  oci_add_num(web, "Interval", 60);
  oci_add_str(web, "Host", "hss-web");
  oci_add_num(add_project(prod, "db", "p-db"), "Interval", 30);
  add_project(prod, "batch", "p-batch");

  oconfig_item_t *dev = password_account("dev");
  oci_add_str(dev, "Region", "eu-west-101");
  oci_add_num(add_project(dev, "dev-web", "p-dev"), "Interval", 120);
  oci_add_num(add_project(dev, "dev-fast", "p-dev2"), "Interval", 5);
  parse_clean();

  ck_assert_uint_eq(cfg.accounts_num, 2);
  ck_assert_uint_eq(cfg.projects_total, 5);
  const hss_account_t *a = &cfg.accounts[0];
  ck_assert_str_eq(a->name, "prod");
  ck_assert_str_eq(a->region, "cn-north-4");
  ck_assert_str_eq(a->endpoint, "https://hss.cn-north-4.myhuaweicloud.com");
  ck_assert_ptr_null(a->iam_endpoint);
  ck_assert_int_eq(a->cred, HSS_CRED_TOKEN);
  ck_assert_str_eq(a->token.value, TOKEN_IN_FILE);
  ck_assert_str_eq(a->token.path, token_path);
  ck_assert_ptr_null(a->password.value);
  ck_assert_ptr_null(a->domain);
  ck_assert_int_eq(a->timeout_ms, 5000);
  ck_assert_int_eq(a->connect_timeout_ms, 2000);
  ck_assert_str_eq(a->cacert, ca_path);
  ck_assert_str_eq(a->proxy, "http://proxy.internal:3128");
  ck_assert(a->verify_peer && a->verify_host && !a->allow_insecure);
  ck_assert_uint_eq(a->projects_num, 3);

  const hss_project_t *p = &a->projects[0];
  ck_assert_str_eq(p->name, "web");
  ck_assert_str_eq(p->project_id, "p-web");
  ck_assert_str_eq(p->enterprise_project_id, "all_granted_eps");
  ck_assert_str_eq(p->host, "hss-web");
  ck_assert_double_eq(p->interval, 60);
  ck_assert_int_eq(p->timeout_ms, 5000);
  ck_assert_ptr_eq(p->account, a);
  ck_assert_uint_eq(p->index, 0);
  p = &a->projects[1];
  ck_assert_str_eq(p->name, "db");
  ck_assert_ptr_null(p->enterprise_project_id);
  ck_assert_ptr_null(p->host);
  ck_assert_double_eq(p->interval, 30);
  ck_assert_uint_eq(p->index, 1);
  p = &a->projects[2];
  ck_assert_str_eq(p->name, "batch");
  ck_assert_double_eq(p->interval, DEFAULT_INTERVAL);
  ck_assert_int_eq(p->timeout_ms, 5000);
  ck_assert_uint_eq(p->index, 2);

  a = &cfg.accounts[1];
  ck_assert_str_eq(a->name, "dev");
  ck_assert_str_eq(a->endpoint, "https://hss.eu-west-101.myhuaweicloud.eu");
  ck_assert_str_eq(a->iam_endpoint, "https://iam.eu-west-101.myhuaweicloud.eu");
  ck_assert_int_eq(a->cred, HSS_CRED_PASSWORD);
  ck_assert_str_eq(a->domain, "my-domain");
  ck_assert_str_eq(a->user, "monitor");
  ck_assert_str_eq(a->password.value, PASSWORD_INLINE);
  ck_assert_ptr_null(a->password.path);
  ck_assert_ptr_null(a->token.value);
  ck_assert_int_eq(a->timeout_ms, 0);
  ck_assert_int_eq(a->connect_timeout_ms, HSS_DEFAULT_CONNECT_TIMEOUT_MS);
  ck_assert_ptr_null(a->cacert);
  ck_assert_ptr_null(a->proxy);
  p = project(a, "dev-web");
  ck_assert_int_eq(p->timeout_ms,
                   HSS_DEFAULT_TIMEOUT_MS); /* min(10 s, 108 s) */
  ck_assert_ptr_eq(p->account, a);
  ck_assert_uint_eq(p->index, 3);
  p = project(a, "dev-fast");
  ck_assert_int_eq(p->timeout_ms, 4500); /* 0.9 * 5 s */
  ck_assert_uint_eq(p->index, 4);
}
END_TEST

START_TEST(test_inline_token) {
  prod_web(NULL);
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_TOKEN);
  ck_assert_str_eq(a->token.value, TOKEN_INLINE);
  ck_assert_ptr_null(a->token.path);
  ck_assert_ptr_null(a->iam_endpoint);
}
END_TEST

START_TEST(test_password_file) {
  const char *path = secret_file("pw", PASSWORD_IN_FILE "\r\n", 0600);
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "Domain", "d");
  oci_add_str(acc, "User", "u");
  oci_add_str(acc, "PasswordFile", path);
  add_project(acc, "web", "p-web");
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_PASSWORD);
  ck_assert_str_eq(a->password.value, PASSWORD_IN_FILE);
  ck_assert_str_eq(a->password.path, path);
  ck_assert_str_eq(a->iam_endpoint, "https://iam.cn-north-4.myhuaweicloud.com");
}
END_TEST

START_TEST(test_defaults) {
  prod_web(NULL);
  ck_assert_int_eq(hss_config_parse(root, 42.0, &cfg), 0);
  const hss_account_t *a = account("prod");
  ck_assert(a->verify_peer);
  ck_assert(a->verify_host);
  ck_assert(!a->allow_insecure);
  ck_assert_int_eq(a->timeout_ms, 0);
  ck_assert_int_eq(a->connect_timeout_ms, HSS_DEFAULT_CONNECT_TIMEOUT_MS);
  const hss_project_t *p = project(a, "web");
  ck_assert_double_eq(p->interval, 42.0); /* the default_interval argument */
  ck_assert_int_eq(p->timeout_ms, HSS_DEFAULT_TIMEOUT_MS);
  ck_assert_ptr_null(p->enterprise_project_id);
  ck_assert_ptr_null(p->host);
}
END_TEST

/* timeout = min(10000, 0.9 * interval * 1000) */
START_TEST(test_derived_timeout) {
  static const struct {
    double interval;
    long timeout_ms;
  } cases[] = {{1, 900},      {5, 4500},   {10, 9000}, {11, 9900},
               {11.2, 10000}, {60, 10000}, {0.5, 450}, {0.001, 1}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    oci_free(root);
    root = oci_block("Plugin", "hss_imgstats");
    prod_web(NULL);
    ck_assert_int_eq(hss_config_parse(root, cases[i].interval, &cfg), 0);
    ck_assert_int_eq(cfg.accounts[0].projects[0].timeout_ms,
                     cases[i].timeout_ms);
    hss_config_free(&cfg);
  }
}
END_TEST

START_TEST(test_endpoint_overrides) {
  oconfig_item_t *acc = password_account("prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "Endpoint", "https://hss.internal.example:8443/");
  oci_add_str(acc, "IAMEndpoint", "https://iam.internal.example/");
  add_project(acc, "web", "p-web");
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_str_eq(a->endpoint, "https://hss.internal.example:8443");
  ck_assert_str_eq(a->iam_endpoint, "https://iam.internal.example");
  ck_assert_str_eq(a->region, "cn-north-4");
}
END_TEST

/* Endpoint and IAMEndpoint without Region. */
START_TEST(test_endpoints_without_region) {
  oconfig_item_t *acc = password_account("prod");
  oci_add_str(acc, "Endpoint", "https://hss.example");
  oci_add_str(acc, "IAMEndpoint", "https://iam.example:444");
  add_project(acc, "web", "p-web");
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_ptr_null(a->region);
  ck_assert_str_eq(a->endpoint, "https://hss.example");
  ck_assert_str_eq(a->iam_endpoint, "https://iam.example:444");
}
END_TEST

START_TEST(test_insecure_allowed) {
  oconfig_item_t *acc = password_account("prod");
  oci_add_str(acc, "Endpoint", "http://127.0.0.1:8080/");
  oci_add_str(acc, "IAMEndpoint", "http://127.0.0.1:8081");
  oci_add_bool(acc, "AllowInsecure", true);
  add_project(acc, "web", "p-web");
  parse_ok();
  const hss_account_t *a = account("prod");
  ck_assert(a->allow_insecure);
  ck_assert_str_eq(a->endpoint, "http://127.0.0.1:8080");
  ck_assert_str_eq(a->iam_endpoint, "http://127.0.0.1:8081");
}
END_TEST

/* Option names are case-insensitive, as everywhere in collectd. */
START_TEST(test_keys_case_insensitive) {
  oconfig_item_t *acc = oci_add_block(root, "account", "prod");
  oci_add_str(acc, "REGION", "cn-north-4");
  oci_add_str(acc, "token", TOKEN_INLINE);
  oci_add_str(acc, "verifypeer", "true");
  oconfig_item_t *p = oci_add_block(acc, "project", "web");
  oci_add_str(p, "projectid", "p-web");
  oci_add_num(p, "INTERVAL", 20);
  parse_clean();
  ck_assert_double_eq(project(account("prod"), "web")->interval, 20);
}
END_TEST

/* Booleans may also be given as strings. */
START_TEST(test_bool_strings) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "VerifyPeer", "yes");
  oci_add_str(acc, "VerifyHost", "On");
  oci_add_str(acc, "AllowInsecure", "FALSE");
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert(a->verify_peer && a->verify_host && !a->allow_insecure);
}
END_TEST

/* Several <Plugin hss_imgstats> blocks merge into one model. */
START_TEST(test_blocks_merge) {
  prod_web(NULL);
  parse_ok();
  oconfig_item_t *second = oci_block("Plugin", "hss_imgstats");
  oconfig_item_t *acc = oci_add_block(second, "Account", "dev");
  oci_add_str(acc, "Region", "cn-east-3");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  add_project(acc, "dev-web", "p-dev");
  int status = hss_config_parse(second, DEFAULT_INTERVAL, &cfg);
  oci_free(second);
  ck_assert_int_eq(status, 0);
  ck_assert_uint_eq(cfg.accounts_num, 2);
  ck_assert_uint_eq(cfg.projects_total, 2);
  const hss_account_t *dev = account("dev");
  ck_assert_uint_eq(dev->projects[0].index, 1);
  ck_assert_ptr_eq(dev->projects[0].account, dev);
  ck_assert_ptr_eq(account("prod")->projects[0].account, account("prod"));
}
END_TEST

/* A later block that clashes with an earlier one empties the model. */
START_TEST(test_blocks_merge_duplicate) {
  prod_web(NULL);
  parse_ok();
  oconfig_item_t *second = oci_block("Plugin", "hss_imgstats");
  oconfig_item_t *acc = oci_add_block(second, "Account", "dev");
  oci_add_str(acc, "Region", "cn-east-3");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  add_project(acc, "web", "p-web2");
  int status = hss_config_parse(second, DEFAULT_INTERVAL, &cfg);
  oci_free(second);
  ck_assert_int_eq(status, -1);
  ck_assert_uint_eq(cfg.accounts_num, 0);
  ck_assert(unit_log_has(LOG_ERR, "Account \"dev\", Project \"web\"",
                         "Account \"prod\"", NULL));
}
END_TEST

/* ---- valid configurations: AK/SK and metadata credentials ----------- */

/* Permanent AK/SK given inline. */
START_TEST(test_aksk_inline) {
  aksk_account("prod");
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_AKSK);
  ck_assert_str_eq(a->access_key, ACCESS_KEY);
  ck_assert_str_eq(a->secret_key.value, SK_INLINE);
  ck_assert_ptr_null(a->secret_key.path);
  ck_assert_ptr_null(a->security_token.value);
  ck_assert_ptr_null(a->security_token.path);
  ck_assert_ptr_null(a->token.value);
  ck_assert_ptr_null(a->password.value);
  ck_assert_ptr_null(a->domain);
  ck_assert_ptr_null(a->metadata_url);
  ck_assert_ptr_null(a->iam_endpoint);
  ck_assert_str_eq(a->endpoint, "https://hss.cn-north-4.myhuaweicloud.com");
}
END_TEST

START_TEST(test_aksk_secret_key_file) {
  const char *path = secret_file("sk", SK_IN_FILE "\n", 0600);
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  oci_add_str(acc, "SecretKeyFile", path);
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_AKSK);
  ck_assert_str_eq(a->access_key, ACCESS_KEY);
  ck_assert_str_eq(a->secret_key.value, SK_IN_FILE);
  ck_assert_str_eq(a->secret_key.path, path);
  ck_assert_ptr_null(a->security_token.value);
}
END_TEST

/* Temporary AK/SK: a SecurityToken inline. */
START_TEST(test_aksk_security_token) {
  oconfig_item_t *acc = aksk_account("prod");
  oci_add_str(acc, "SecurityToken", ST_INLINE);
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_AKSK);
  ck_assert_str_eq(a->secret_key.value, SK_INLINE);
  ck_assert_str_eq(a->security_token.value, ST_INLINE);
  ck_assert_ptr_null(a->security_token.path);
}
END_TEST

/* Temporary AK/SK from files: SecretKeyFile and SecurityTokenFile. */
START_TEST(test_aksk_security_token_file) {
  const char *sk = secret_file("sk", SK_IN_FILE, 0600);
  const char *st = secret_file("st", ST_IN_FILE "\r\n", 0600);
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  oci_add_str(acc, "SecretKeyFile", sk);
  oci_add_str(acc, "SecurityTokenFile", st);
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_AKSK);
  ck_assert_str_eq(a->secret_key.value, SK_IN_FILE);
  ck_assert_str_eq(a->security_token.value, ST_IN_FILE);
  ck_assert_str_eq(a->security_token.path, st);
}
END_TEST

START_TEST(test_metadata_default_url) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_bool(acc, "MetadataCredentials", true);
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_METADATA);
  ck_assert_str_eq(a->metadata_url, HSS_DEFAULT_METADATA_URL);
  ck_assert_str_eq(a->metadata_url,
                   "http://169.254.169.254/openstack/latest/securitykey");
  ck_assert_ptr_null(a->access_key);
  ck_assert_ptr_null(a->secret_key.value);
  ck_assert_ptr_null(a->security_token.value);
  ck_assert_ptr_null(a->token.value);
  ck_assert(!a->allow_insecure);
}
END_TEST

/* A plain http MetadataURL needs no AllowInsecure (the metadata service
 * serves only http); the boolean may be a string too. */
START_TEST(test_metadata_custom_url) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "MetadataCredentials", "true");
  oci_add_str(acc, "MetadataURL", LOCAL_METADATA_URL);
  parse_clean();
  const hss_account_t *a = account("prod");
  ck_assert_int_eq(a->cred, HSS_CRED_METADATA);
  ck_assert_str_eq(a->metadata_url, LOCAL_METADATA_URL);
  ck_assert(!a->allow_insecure);
}
END_TEST

/* ... but only the metadata URL: an http Endpoint is still refused. */
START_TEST(test_metadata_http_endpoint_refused) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Endpoint", "http://127.0.0.1:8081");
  oci_add_bool(acc, "MetadataCredentials", true);
  oci_add_str(acc, "MetadataURL", LOCAL_METADATA_URL);
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Endpoint\"",
                         "AllowInsecure", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

/* ---- errors: unknown options and structure ----------------------------------
 */

START_TEST(test_unknown_plugin_option) {
  prod_web(NULL);
  oci_add_str(root, "Frobnicate", "x");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "<Plugin hss_imgstats>", "\"Frobnicate\"",
                         "unknown", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_unknown_account_option) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "Regoin", "cn-north-4");
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"Regoin\"", "unknown", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_unknown_project_option) {
  oconfig_item_t *p;
  prod_web(&p);
  oci_add_num(p, "Intervall", 30);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\", Project \"web\"",
                         "\"Intervall\"", "unknown", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_missing_project_id) {
  oconfig_item_t *acc = token_account("prod");
  oconfig_item_t *p = oci_add_block(acc, "Project", "web");
  oci_add_num(p, "Interval", 30);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\", Project \"web\"",
                         "\"ProjectId\"", "missing", NULL));
}
END_TEST

START_TEST(test_account_without_project) {
  token_account("prod");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "<Project>", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_bad_block_labels) {
  oci_add_block(root, "Account", NULL);
  oci_add_raw(root, "Account", 1, oci_vnum(3));
  oci_add_raw(root, "Account", 2, oci_vstr("a"), oci_vstr("b"));
  oci_add_block(root, "Account", "");
  parse_fails();
  ck_assert_int_eq(error_lines(), 4);
  ck_assert(unit_log_has(LOG_ERR, "<Plugin hss_imgstats>", "<Account>", "label",
                         NULL));
}
END_TEST

START_TEST(test_bad_project_label) {
  oconfig_item_t *acc = token_account("prod");
  oci_add_num(acc, "Timeout", 5000);
  oconfig_item_t *p = oci_add_raw(acc, "Project", 1, oci_vnum(7));
  oci_add_str(p, "ProjectId", "x");
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "<Project>", "label", NULL));
  ck_assert_int_eq(error_lines(), 1);
  ck_assert(!unit_log_any("(null)"));
}
END_TEST

START_TEST(test_account_name_too_long) {
  oconfig_item_t *acc = token_account(repeat('a', HSS_NAME_MAX + 1));
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "account name", "127", NULL));
}
END_TEST

START_TEST(test_project_name_with_slash) {
  add_project(token_account("prod"), "a/b", "p");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Project \"a/b\"", "'/'", NULL));
}
END_TEST

/* Every mistake is reported in one run. */
START_TEST(test_all_errors_reported) {
  oconfig_item_t *p;
  oconfig_item_t *acc = prod_web(&p);
  oci_add_str(acc, "Bogus", "1");
  oci_add_str(p, "Bogus2", "1");
  oconfig_item_t *dev = oci_add_block(root, "Account", "dev");
  oci_add_str(dev, "Region", "cn-north-4");
  add_project(dev, "dev-web", "p");
  oci_add_str(root, "Bogus3", "1");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Bogus\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Project \"web\"", "\"Bogus2\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"dev\"", "credential", NULL));
  ck_assert(unit_log_has(LOG_ERR, "<Plugin hss_imgstats>", "\"Bogus3\"", NULL));
  ck_assert_int_eq(error_lines(), 4);
}
END_TEST

/* ---- errors: credentials ------------------------------------------------ */

START_TEST(test_no_credentials) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "no credential method",
                         "\"Token\"", NULL));
}
END_TEST

START_TEST(test_token_and_token_file) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "TokenFile", secret_file("t", TOKEN_IN_FILE, 0600));
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Token\"",
                         "\"TokenFile\"", "exclusive", NULL));
}
END_TEST

START_TEST(test_password_and_password_file) {
  oconfig_item_t *acc = password_account("prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "PasswordFile", secret_file("p", PASSWORD_IN_FILE, 0600));
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Password\"",
                         "\"PasswordFile\"", "exclusive", NULL));
}
END_TEST

START_TEST(test_token_and_password) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "Domain", "d");
  oci_add_str(acc, "User", "u");
  oci_add_str(acc, "Password", PASSWORD_INLINE);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "two credential methods",
                         "Token", "Password", NULL));
}
END_TEST

/* Only a user, only a domain, or no password: each missing option named. */
START_TEST(test_password_incomplete) {
  oconfig_item_t *a1 = oci_add_block(root, "Account", "a1");
  oci_add_str(a1, "Region", "cn-north-4");
  oci_add_str(a1, "User", "u");
  oci_add_str(a1, "Password", PASSWORD_INLINE);
  add_project(a1, "w1", "p1");
  oconfig_item_t *a2 = oci_add_block(root, "Account", "a2");
  oci_add_str(a2, "Region", "cn-north-4");
  oci_add_str(a2, "Domain", "d");
  oci_add_str(a2, "PasswordFile", secret_file("p", PASSWORD_IN_FILE, 0600));
  add_project(a2, "w2", "p2");
  oconfig_item_t *a3 = oci_add_block(root, "Account", "a3");
  oci_add_str(a3, "Region", "cn-north-4");
  oci_add_str(a3, "Domain", "d");
  oci_add_str(a3, "User", "u");
  add_project(a3, "w3", "p3");
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"a1\"", "\"Domain\"", "missing", NULL));
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"a2\"", "\"User\"", "missing", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"a3\"", "\"Password\"",
                         "\"PasswordFile\"", "missing", NULL));
  ck_assert_int_eq(error_lines(), 3);
}
END_TEST

/* An unreadable secret file: the error names the option, block and path. */
static void assert_bad_secret_file(const char *option, const char *path) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  if (strcmp(option, "PasswordFile") == 0) {
    oci_add_str(acc, "Domain", "d");
    oci_add_str(acc, "User", "u");
  }
  oci_add_str(acc, option, path);
  add_project(acc, "web", "p-web");
  char quoted[64];
  snprintf(quoted, sizeof(quoted), "\"%s\"", option);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", quoted, path, NULL));
}

START_TEST(test_token_file_missing) {
  assert_bad_secret_file("TokenFile", unit_tmp_path("no-such-file"));
}
END_TEST

START_TEST(test_token_file_directory) {
  assert_bad_secret_file("TokenFile", unit_tmp_dir());
}
END_TEST

START_TEST(test_token_file_empty) {
  assert_bad_secret_file("TokenFile", secret_file("empty", "\n", 0600));
}
END_TEST

START_TEST(test_password_file_missing) {
  assert_bad_secret_file("PasswordFile", unit_tmp_path("no-such-file"));
}
END_TEST

START_TEST(test_password_file_directory) {
  assert_bad_secret_file("PasswordFile", unit_tmp_dir());
}
END_TEST

START_TEST(test_password_file_empty) {
  assert_bad_secret_file("PasswordFile", secret_file("empty", "", 0600));
}
END_TEST

START_TEST(test_empty_inline_secret) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "Token", "");
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"Token\"", "empty", NULL));
}
END_TEST

/* ---- errors: AK/SK and metadata credentials ------------------------- */

START_TEST(test_aksk_without_secret_key) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"SecretKey\"",
                         "\"SecretKeyFile\"", "missing", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_secret_key_without_access_key) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "SecretKey", SK_INLINE);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"AccessKey\"",
                         "missing", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_secret_key_and_file) {
  oconfig_item_t *acc = aksk_account("prod");
  oci_add_str(acc, "SecretKeyFile", secret_file("sk", SK_IN_FILE, 0600));
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"SecretKey\"",
                         "\"SecretKeyFile\"", "exclusive", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_security_token_and_file) {
  oconfig_item_t *acc = aksk_account("prod");
  oci_add_str(acc, "SecurityToken", ST_INLINE);
  oci_add_str(acc, "SecurityTokenFile", secret_file("st", ST_IN_FILE, 0600));
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"SecurityToken\"",
                         "\"SecurityTokenFile\"", "exclusive", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

/* A SecurityToken alone (inline or as a file) is an incomplete AK/SK. */
START_TEST(test_security_token_alone) {
  oconfig_item_t *a1 = bare_account("a1");
  oci_add_str(a1, "SecurityToken", ST_INLINE);
  oconfig_item_t *a2 = oci_add_block(root, "Account", "a2");
  oci_add_str(a2, "Region", "cn-north-4");
  oci_add_str(a2, "SecurityTokenFile", secret_file("st", ST_IN_FILE, 0600));
  add_project(a2, "web2", "p-web2");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"a1\"", "\"AccessKey\"", "missing",
                         NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"a1\"", "\"SecretKey\"",
                         "\"SecretKeyFile\"", "missing", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"a2\"", "\"AccessKey\"", "missing",
                         NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"a2\"", "\"SecretKey\"", "missing",
                         NULL));
  ck_assert_int_eq(error_lines(), 4);
}
END_TEST

START_TEST(test_aksk_and_token) {
  oconfig_item_t *acc = aksk_account("prod");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "two credential methods",
                         "Token/TokenFile", "AccessKey/SecretKey", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_aksk_and_token_file) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "TokenFile", secret_file("t", TOKEN_IN_FILE, 0600));
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  oci_add_str(acc, "SecretKeyFile", secret_file("sk", SK_IN_FILE, 0600));
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "two credential methods",
                         "Token/TokenFile", "AccessKey/SecretKey", NULL));
}
END_TEST

START_TEST(test_aksk_and_password) {
  oconfig_item_t *acc = password_account("prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  oci_add_str(acc, "SecretKey", SK_INLINE);
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "two credential methods",
                         "Domain/User/Password", "AccessKey/SecretKey", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_metadata_and_aksk) {
  oconfig_item_t *acc = aksk_account("prod");
  oci_add_bool(acc, "MetadataCredentials", true);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "two credential methods",
                         "AccessKey/SecretKey", "MetadataCredentials", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

/* A SecurityToken alone is still AK/SK: two methods with metadata too. */
START_TEST(test_metadata_and_security_token) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_bool(acc, "MetadataCredentials", true);
  oci_add_str(acc, "SecurityToken", ST_INLINE);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "two credential methods",
                         "MetadataCredentials", NULL));
}
END_TEST

START_TEST(test_metadata_and_token) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_bool(acc, "MetadataCredentials", true);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "two credential methods",
                         "Token/TokenFile", "MetadataCredentials", NULL));
}
END_TEST

/* MetadataURL without MetadataCredentials true: absent or false. */
START_TEST(test_metadata_url_without_metadata) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "MetadataURL", LOCAL_METADATA_URL);
  oconfig_item_t *dev = oci_add_block(root, "Account", "dev");
  oci_add_str(dev, "Region", "cn-north-4");
  oci_add_str(dev, "AccessKey", ACCESS_KEY);
  oci_add_str(dev, "SecretKey", SK_INLINE);
  oci_add_bool(dev, "MetadataCredentials", false);
  oci_add_str(dev, "MetadataURL", LOCAL_METADATA_URL);
  add_project(dev, "dev-web", "p-dev");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"MetadataURL\"",
                         "\"MetadataCredentials true\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"dev\"", "\"MetadataURL\"",
                         "\"MetadataCredentials true\"", NULL));
  ck_assert_int_eq(error_lines(), 2);
}
END_TEST

/* A MetadataURL that is refused: the error names option and block. */
static void assert_bad_metadata_url(const char *url) {
  oci_free(root);
  root = oci_block("Plugin", "hss_imgstats");
  unit_log_reset();
  oconfig_item_t *acc = bare_account("prod");
  oci_add_bool(acc, "MetadataCredentials", true);
  oci_add_str(acc, "MetadataURL", url);
  parse_fails();
  ck_assert_msg(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"MetadataURL\"", NULL),
      "no MetadataURL error for %s", url);
  ck_assert_int_eq(error_lines(), 1);
}

START_TEST(test_bad_metadata_urls) {
  static const char *const urls[] = {
      "ftp://127.0.0.1/openstack/latest/securitykey", "not a url",
      "169.254.169.254/openstack/latest/securitykey", "http://",
      "file:///etc/passwd"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++)
    assert_bad_metadata_url(urls[i]);
  assert_bad_metadata_url("ftp://127.0.0.1/x");
  ck_assert(unit_log_has(LOG_ERR, "\"MetadataURL\"", "scheme", NULL));
}
END_TEST

START_TEST(test_metadata_url_userinfo_hidden) {
  assert_bad_metadata_url("http://user:" URL_PASSWORD
                          "@127.0.0.1:8080/openstack/latest/securitykey");
  ck_assert(unit_log_has(LOG_ERR, "\"MetadataURL\"", "user information", NULL));
  ck_assert(!unit_log_any(URL_PASSWORD));
  assert_bad_metadata_url("ftp://user:" URL_PASSWORD "@127.0.0.1/x");
  ck_assert(!unit_log_any(URL_PASSWORD));
  assert_bad_metadata_url("http://:" URL_PASSWORD "@127.0.0.1/x");
  ck_assert(!unit_log_any(URL_PASSWORD));
}
END_TEST

/* MetadataCredentials false is no method at all. */
START_TEST(test_metadata_false_alone) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_bool(acc, "MetadataCredentials", false);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "no credential method",
                         "\"AccessKey\"", "\"MetadataCredentials true\"",
                         NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

/* An unreadable SecretKeyFile or SecurityTokenFile: option, block, path. */
static void assert_bad_aksk_file(const char *option, const char *path) {
  oci_free(root);
  root = oci_block("Plugin", "hss_imgstats");
  unit_log_reset();
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  if (strcmp(option, "SecretKeyFile") == 0) {
    oci_add_str(acc, "SecretKeyFile", path);
  } else {
    oci_add_str(acc, "SecretKey", SK_INLINE);
    oci_add_str(acc, option, path);
  }
  char quoted[64];
  snprintf(quoted, sizeof(quoted), "\"%s\"", option);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", quoted, path, NULL));
  ck_assert_int_eq(error_lines(), 1);
}

START_TEST(test_secret_key_file_unreadable) {
  assert_bad_aksk_file("SecretKeyFile", unit_tmp_path("no-such-file"));
  assert_bad_aksk_file("SecretKeyFile", unit_tmp_dir());
  assert_bad_aksk_file("SecretKeyFile", secret_file("empty", "\n", 0600));
}
END_TEST

START_TEST(test_security_token_file_unreadable) {
  assert_bad_aksk_file("SecurityTokenFile", unit_tmp_path("no-such-file"));
  assert_bad_aksk_file("SecurityTokenFile", secret_file("empty", "", 0600));
}
END_TEST

START_TEST(test_empty_inline_aksk) {
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "AccessKey", "");
  oci_add_str(acc, "SecretKey", "");
  oci_add_str(acc, "SecurityToken", "");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"AccessKey\"", "empty",
                         NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"SecretKey\"", "empty",
                         NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"SecurityToken\"",
                         "empty", NULL));
}
END_TEST

/* ---- errors: URLs and transport ------------------------------------------ */

/* Endpoint url must be refused with an error naming option and block. */
static void assert_bad_endpoint(const char *url) {
  oci_free(root);
  root = oci_block("Plugin", "hss_imgstats");
  unit_log_reset();
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "Endpoint", url);
  parse_fails();
  ck_assert_msg(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Endpoint\"", NULL),
                "no Endpoint error for %s", url);
}

START_TEST(test_bad_endpoints) {
  static const char *const urls[] = {
      "not a url",     "ftp://x",         "https://h/path", "https://h?q=1",
      "https://h#top", "hss.example.com", "https://",       "https://h:0x1"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++)
    assert_bad_endpoint(urls[i]);
}
END_TEST

START_TEST(test_endpoint_userinfo_hidden) {
  assert_bad_endpoint("https://user:pw@h");
  ck_assert(!unit_log_any("pw"));
  assert_bad_endpoint("https://user:" URL_PASSWORD "@hss.example.com");
  assert_bad_endpoint("ftp://user:" URL_PASSWORD "@hss.example.com/x");
}
END_TEST

START_TEST(test_http_endpoint_refused) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "Endpoint", "http://hss.example.com");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Endpoint\"",
                         "AllowInsecure", NULL));
}
END_TEST

START_TEST(test_http_iam_endpoint_refused) {
  oconfig_item_t *acc = password_account("prod");
  oci_add_str(acc, "Endpoint", "https://hss.example.com");
  oci_add_str(acc, "IAMEndpoint", "http://iam.example.com");
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"IAMEndpoint\"",
                         "AllowInsecure", NULL));
}
END_TEST

START_TEST(test_missing_region_and_endpoint) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Region\"",
                         "\"Endpoint\"", "missing", NULL));
}
END_TEST

START_TEST(test_password_without_iam) {
  oconfig_item_t *acc = password_account("prod");
  oci_add_str(acc, "Endpoint", "https://hss.example.com");
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"IAMEndpoint\"",
                         "\"Region\"", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_invalid_region) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "CN_North 4");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Region\"",
                         "CN_North 4", NULL));
}
END_TEST

START_TEST(test_bad_proxy) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "Proxy", "ftp://user:" URL_PASSWORD "@proxy:21");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Proxy\"", NULL));
}
END_TEST

START_TEST(test_unreadable_cacert) {
  oconfig_item_t *acc = prod_web(NULL);
  const char *path = unit_tmp_path("no-ca.pem");
  oci_add_str(acc, "CACert", path);
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"CACert\"", path, NULL));
}
END_TEST

/* ---- errors: lengths and duplicates -----------------------------------------
 */

/* A project option value of n bytes: ok tells whether it must pass. */
static void check_project_value(const char *option, size_t n, bool ok) {
  oci_free(root);
  root = oci_block("Plugin", "hss_imgstats");
  unit_log_reset();
  oconfig_item_t *acc = token_account("prod");
  oconfig_item_t *p = oci_add_block(acc, "Project", "web");
  if (strcmp(option, "ProjectId") != 0)
    oci_add_str(p, "ProjectId", "p-web");
  oci_add_str(p, option, repeat('x', n));
  char quoted[64];
  snprintf(quoted, sizeof(quoted), "\"%s\"", option);
  if (ok) {
    parse_ok();
    hss_config_free(&cfg);
    return;
  }
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\", Project \"web\"", quoted, NULL));
}

START_TEST(test_id_lengths) {
  check_project_value("ProjectId", HSS_ID_MAX, true);
  check_project_value("ProjectId", HSS_ID_MAX + 1, false);
  check_project_value("EnterpriseProjectId", HSS_ID_MAX, true);
  check_project_value("EnterpriseProjectId", HSS_ID_MAX + 1, false);
}
END_TEST

/* A project id goes into the URL path unescaped-equivalent: '/' or '%'
 * would be signed differently from what the gateway reads. */
START_TEST(test_project_id_characters) {
  const char *bad[] = {"a/b", "a%2Fb", "a b", "a?b", "p\xc3\xa9"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    add_project(token_account("prod"), "web", bad[i]);
    parse_fails();
    ck_assert(unit_log_has(LOG_ERR, "Account \"prod\", Project \"web\"",
                           "\"ProjectId\"", "may hold only", NULL));
    hss_config_free(&cfg);
    oci_free(root);
    root = oci_block("Plugin", "hss_imgstats");
    unit_log_reset();
  }
  add_project(token_account("prod"), "web", "0123abcdEF-_.~");
  parse_ok();
}
END_TEST

START_TEST(test_host_length) {
  check_project_value("Host", 127, true);
  check_project_value("Host", 128, false);
}
END_TEST

START_TEST(test_project_name_length) {
  add_project(token_account("prod"), repeat('n', 127), "p");
  parse_ok();
  ck_assert_uint_eq(strlen(cfg.accounts[0].projects[0].name), 127);
  hss_config_free(&cfg);
  oci_free(root);
  root = oci_block("Plugin", "hss_imgstats");
  add_project(token_account("prod"), repeat('n', 128), "p");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\", Project \"nnnn",
                         "project name", "128", NULL));
}
END_TEST

START_TEST(test_duplicate_project_in_account) {
  oconfig_item_t *acc = prod_web(NULL);
  add_project(acc, "web", "p-other");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\", Project \"web\"",
                         "already used", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_duplicate_project_across_accounts) {
  prod_web(NULL);
  add_project(token_account("dev"), "web", "p-dev");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"dev\", Project \"web\"",
                         "already used in Account \"prod\"", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_duplicate_account) {
  prod_web(NULL);
  add_project(token_account("prod"), "web2", "p-web2");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "used twice", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

/* ---- errors: values
 * ----------------------------------------------------------- */

START_TEST(test_timeout_not_below_interval) {
  oconfig_item_t *acc = token_account("prod");
  oci_add_num(acc, "Timeout", 10000);
  oci_add_num(add_project(acc, "web", "p-web"), "Interval", 60);
  oci_add_num(add_project(acc, "fast", "p-fast"), "Interval", 10);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Timeout\"",
                         "Project \"fast\"", NULL));
  ck_assert_int_eq(error_lines(), 1);
}
END_TEST

START_TEST(test_timeout_just_below_interval) {
  oconfig_item_t *acc = token_account("prod");
  oci_add_num(acc, "Timeout", 9999);
  add_project(acc, "web", "p-web");
  parse_clean();
  ck_assert_int_eq(cfg.accounts[0].projects[0].timeout_ms, 9999);
}
END_TEST

/* Wrongly typed or ranged values: the error names option and block. */
START_TEST(test_wrong_value_types) {
  oconfig_item_t *p;
  oconfig_item_t *acc = prod_web(&p);
  oci_add_num(acc, "Endpoint", 443);
  oci_add_str(acc, "Timeout", "5000");
  oci_add_str(acc, "VerifyPeer", "maybe");
  oci_add_num(acc, "VerifyHost", 1);
  oci_add_num(acc, "ConnectTimeout", 0);
  oci_add_raw(acc, "CACert", 0);
  oci_add_raw(acc, "Proxy", 2, oci_vstr("http://a:1"), oci_vstr("http://b:2"));
  oci_add_bool(p, "Host", true);
  oci_add_str(p, "Interval", "60");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Endpoint\"", "string",
                         NULL));
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"Timeout\"", "number", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"VerifyPeer\"",
                         "boolean", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"VerifyHost\"",
                         "boolean", NULL));
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"ConnectTimeout\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"CACert\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Proxy\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Project \"web\"", "\"Host\"", NULL));
  ck_assert(
      unit_log_has(LOG_ERR, "Project \"web\"", "\"Interval\"", "number", NULL));
  ck_assert_int_eq(error_lines(), 9);
}
END_TEST

START_TEST(test_number_ranges) {
  oconfig_item_t *p;
  oconfig_item_t *acc = prod_web(&p);
  oci_add_num(acc, "Timeout", -5);
  oci_add_num(p, "Interval", 0);
  oconfig_item_t *dev = token_account("dev");
  oci_add_num(dev, "ConnectTimeout", 3600001);
  add_project(dev, "dev-web", "p-dev");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Timeout\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Project \"web\"", "\"Interval\"", NULL));
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"dev\"", "\"ConnectTimeout\"", NULL));
}
END_TEST

START_TEST(test_wrong_type_for_secret) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_num(acc, "Token", 12345);
  add_project(acc, "web", "p-web");
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"Token\"", "string", NULL));
}
END_TEST

START_TEST(test_empty_string_option) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "Proxy", "");
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "Account \"prod\"", "\"Proxy\"", "empty", NULL));
}
END_TEST

/* Each option once: a string, a number, a boolean and a project option. */
START_TEST(test_option_given_twice) {
  oconfig_item_t *p;
  oconfig_item_t *acc = prod_web(&p);
  oci_add_str(acc, "region", "cn-east-3");
  oci_add_num(acc, "Timeout", 1000);
  oci_add_num(acc, "Timeout", 2000);
  oci_add_bool(acc, "VerifyPeer", true);
  oci_add_bool(acc, "VerifyPeer", false);
  oci_add_str(p, "ProjectId", "p-again");
  oci_add_num(p, "Interval", 30);
  oci_add_num(p, "Interval", 60);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"region\"",
                         "more than once", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Timeout\"",
                         "more than once", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"VerifyPeer\"",
                         "more than once", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Project \"web\"", "\"ProjectId\"",
                         "more than once", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Project \"web\"", "\"Interval\"",
                         "more than once", NULL));
  ck_assert_int_eq(error_lines(), 5);
}
END_TEST

START_TEST(test_token_given_twice) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "Token", TOKEN_INLINE "-2");
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Token\"",
                         "more than once", NULL));
}
END_TEST

/* ---- warnings ----------------------------------------------------------- */

START_TEST(test_unknown_region_warns) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "xx-new-7");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  add_project(acc, "web", "p-web");
  parse_ok();
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"", "\"Region\"",
                         "xx-new-7", NULL));
  ck_assert_int_eq(unit_log_count(LOG_WARNING), 1);
  ck_assert_str_eq(account("prod")->endpoint,
                   "https://hss.xx-new-7.myhuaweicloud.com");
}
END_TEST

/* With an explicit Endpoint the region is only a label: no warning. */
START_TEST(test_unknown_region_with_endpoint) {
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "xx-new-7");
  oci_add_str(acc, "Endpoint", "https://hss.example.com");
  oci_add_str(acc, "Token", TOKEN_INLINE);
  add_project(acc, "web", "p-web");
  parse_clean();
}
END_TEST

START_TEST(test_verify_off_warns) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_bool(acc, "VerifyPeer", false);
  oci_add_bool(acc, "VerifyHost", false);
  parse_ok();
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"", "VerifyPeer", NULL));
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"", "VerifyHost", NULL));
  ck_assert_int_eq(unit_log_count(LOG_WARNING), 2);
  ck_assert(!account("prod")->verify_peer);
  ck_assert(!account("prod")->verify_host);
}
END_TEST

START_TEST(test_exposed_token_file_warns) {
  const char *path = secret_file("token", TOKEN_IN_FILE "\n", 0644);
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "TokenFile", path);
  add_project(acc, "web", "p-web");
  parse_ok();
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"", "\"TokenFile\"", path,
                         "group or others", NULL));
  ck_assert_int_eq(unit_log_count(LOG_WARNING), 1);
  ck_assert_str_eq(account("prod")->token.value, TOKEN_IN_FILE);
}
END_TEST

START_TEST(test_exposed_password_file_warns) {
  const char *path = secret_file("pw", PASSWORD_IN_FILE, 0640);
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "Domain", "d");
  oci_add_str(acc, "User", "u");
  oci_add_str(acc, "PasswordFile", path);
  add_project(acc, "web", "p-web");
  parse_ok();
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"", "\"PasswordFile\"",
                         path, "group or others", NULL));
}
END_TEST

START_TEST(test_exposed_secret_key_file_warns) {
  const char *path = secret_file("sk", SK_IN_FILE "\n", 0644);
  oconfig_item_t *acc = bare_account("prod");
  oci_add_str(acc, "AccessKey", ACCESS_KEY);
  oci_add_str(acc, "SecretKeyFile", path);
  parse_ok();
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"", "\"SecretKeyFile\"",
                         path, "group or others", NULL));
  ck_assert_int_eq(unit_log_count(LOG_WARNING), 1);
  ck_assert_str_eq(account("prod")->secret_key.value, SK_IN_FILE);
}
END_TEST

START_TEST(test_exposed_security_token_file_warns) {
  const char *path = secret_file("st", ST_IN_FILE, 0640);
  oconfig_item_t *acc = aksk_account("prod");
  oci_add_str(acc, "SecurityTokenFile", path);
  parse_ok();
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"",
                         "\"SecurityTokenFile\"", path, "group or others",
                         NULL));
  ck_assert_int_eq(unit_log_count(LOG_WARNING), 1);
  ck_assert_str_eq(account("prod")->security_token.value, ST_IN_FILE);
}
END_TEST

START_TEST(test_private_secret_file_quiet) {
  const char *path = secret_file("token", TOKEN_IN_FILE "\n", 0600);
  oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
  oci_add_str(acc, "Region", "cn-north-4");
  oci_add_str(acc, "TokenFile", path);
  add_project(acc, "web", "p-web");
  parse_clean();
}
END_TEST

START_TEST(test_iam_endpoint_ignored_warns) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "IAMEndpoint", "https://iam.example.com");
  parse_ok();
  ck_assert(unit_log_has(LOG_WARNING, "Account \"prod\"", "\"IAMEndpoint\"",
                         "ignored", NULL));
  ck_assert_ptr_null(account("prod")->iam_endpoint);
}
END_TEST

/* hss_config_free() on an empty or freed model is harmless. */
START_TEST(test_free_twice) {
  prod_web(NULL);
  parse_ok();
  hss_config_free(&cfg);
  ck_assert_uint_eq(cfg.accounts_num, 0);
  ck_assert_ptr_null(cfg.accounts);
  hss_config_free(&cfg);
}
END_TEST

/* ---- plugin-level options: budgets, concurrency, fleet
 * ------------------------ */

/* Regression (found by fuzz_config): two errors of different kinds in one
 * account must not cancel out into an accepted config. */
START_TEST(test_errors_do_not_cancel) {
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_str(acc, "TokenFile", secret_file("t", TOKEN_IN_FILE, 0600));
  oci_add_str(acc, "MetadataURL", "http://127.0.0.1:1/x");
  parse_fails();
  ck_assert(
      unit_log_has(LOG_ERR, "\"Token\"", "\"TokenFile\"", "exclusive", NULL));
  ck_assert(unit_log_has(LOG_ERR, "\"MetadataURL\"", NULL));
}
END_TEST

START_TEST(test_budget_defaults) {
  prod_web(NULL);
  parse_ok();
  ck_assert_uint_eq(cfg.rate_calls, 5);
  ck_assert_double_eq_tol(cfg.rate_seconds, 60, 1e-9);
  ck_assert_uint_eq(cfg.max_concurrency, 8);
  ck_assert_uint_eq(cfg.threads, 1);
  ck_assert_uint_eq(account("prod")->rate_calls, 5);
  ck_assert_double_eq_tol(account("prod")->rate_seconds, 60, 1e-9);
  ck_assert_uint_eq(cfg.pollers_num, 0);
  ck_assert_ptr_null(cfg.poller_name);
}
END_TEST

START_TEST(test_budget_and_fleet_options) {
  oci_add_raw(root, "RateLimit", 2, oci_vnum(10), oci_vnum(2.5));
  oci_add_num(root, "MaxConcurrency", 32);
  oci_add_num(root, "Threads", 4);
  oci_add_raw(root, "Pollers", 3, oci_vstr("host-a"), oci_vstr("host-b"),
              oci_vstr("host-c"));
  oci_add_str(root, "PollerName", "host-b");
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_raw(acc, "RateLimit", 2, oci_vnum(3), oci_vnum(30));
  parse_ok();
  ck_assert_uint_eq(cfg.rate_calls, 10);
  ck_assert_double_eq_tol(cfg.rate_seconds, 2.5, 1e-9);
  ck_assert_uint_eq(cfg.max_concurrency, 32);
  ck_assert_uint_eq(cfg.threads, 4);
  ck_assert_uint_eq(cfg.pollers_num, 3);
  ck_assert_str_eq(cfg.pollers[2], "host-c");
  ck_assert_str_eq(cfg.poller_name, "host-b");
  ck_assert_uint_eq(account("prod")->rate_calls, 3);
  ck_assert_double_eq_tol(account("prod")->rate_seconds, 30, 1e-9);
}
END_TEST

START_TEST(test_budget_errors) {
  oci_add_raw(root, "RateLimit", 1, oci_vnum(5));
  oci_add_num(root, "MaxConcurrency", 0);
  oci_add_num(root, "Threads", 17);
  oci_add_raw(root, "Pollers", 2, oci_vstr("a"), oci_vstr("a"));
  oconfig_item_t *acc = prod_web(NULL);
  oci_add_raw(acc, "RateLimit", 2, oci_vnum(2.5), oci_vnum(60));
  oconfig_item_t *b = token_account("other");
  add_project(b, "w2", "p2");
  oci_add_raw(b, "RateLimit", 2, oci_vnum(5), oci_vnum(0));
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "<Plugin hss_imgstats>", "\"RateLimit\"",
                         "two numbers", NULL));
  ck_assert(unit_log_has(LOG_ERR, "<Plugin hss_imgstats>", "\"MaxConcurrency\"",
                         NULL));
  ck_assert(
      unit_log_has(LOG_ERR, "<Plugin hss_imgstats>", "\"Threads\"", NULL));
  ck_assert(
      unit_log_has(LOG_ERR, "\"Pollers\"", "\"a\" is listed twice", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"RateLimit\"", NULL));
  ck_assert(unit_log_has(LOG_ERR, "Account \"other\"", "\"RateLimit\"", NULL));
}
END_TEST

START_TEST(test_fleet_option_errors) {
  oci_add_raw(root, "Pollers", 0);
  oci_add_raw(root, "PollerName", 1, oci_vnum(3));
  oci_add_raw(root, "RateLimit", 2, oci_vnum(5), oci_vnum(60));
  oci_add_raw(root, "RateLimit", 2, oci_vnum(6), oci_vnum(60));
  prod_web(NULL);
  parse_fails();
  ck_assert(unit_log_has(LOG_ERR, "\"Pollers\"", "poller names", NULL));
  ck_assert(unit_log_has(LOG_ERR, "\"PollerName\"", "string", NULL));
  ck_assert(unit_log_has(LOG_ERR, "\"RateLimit\"", "more than once", NULL));
}
END_TEST

/* ---- the suite
 * ---------------------------------------------------------------- */

/* A test case with the fixture (which checks the log for secrets). */
static TCase *config_tcase(const char *name) {
  TCase *tc = tcase_create(name);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  return tc;
}

static Suite *config_suite(void) {
  Suite *s = suite_create("config");
  TCase *ok = config_tcase("valid");
  tcase_add_test(ok, test_full_config);
  tcase_add_test(ok, test_inline_token);
  tcase_add_test(ok, test_password_file);
  tcase_add_test(ok, test_defaults);
  tcase_add_test(ok, test_derived_timeout);
  tcase_add_test(ok, test_endpoint_overrides);
  tcase_add_test(ok, test_endpoints_without_region);
  tcase_add_test(ok, test_insecure_allowed);
  tcase_add_test(ok, test_keys_case_insensitive);
  tcase_add_test(ok, test_bool_strings);
  tcase_add_test(ok, test_blocks_merge);
  tcase_add_test(ok, test_blocks_merge_duplicate);
  tcase_add_test(ok, test_free_twice);
  tcase_add_test(ok, test_aksk_inline);
  tcase_add_test(ok, test_aksk_secret_key_file);
  tcase_add_test(ok, test_aksk_security_token);
  tcase_add_test(ok, test_aksk_security_token_file);
  tcase_add_test(ok, test_metadata_default_url);
  tcase_add_test(ok, test_metadata_custom_url);
  suite_add_tcase(s, ok);

  TCase *structure = config_tcase("structure");
  tcase_add_test(structure, test_unknown_plugin_option);
  tcase_add_test(structure, test_unknown_account_option);
  tcase_add_test(structure, test_unknown_project_option);
  tcase_add_test(structure, test_missing_project_id);
  tcase_add_test(structure, test_account_without_project);
  tcase_add_test(structure, test_bad_block_labels);
  tcase_add_test(structure, test_bad_project_label);
  tcase_add_test(structure, test_account_name_too_long);
  tcase_add_test(structure, test_project_name_with_slash);
  tcase_add_test(structure, test_all_errors_reported);
  suite_add_tcase(s, structure);

  TCase *cred = config_tcase("credentials");
  tcase_add_test(cred, test_no_credentials);
  tcase_add_test(cred, test_token_and_token_file);
  tcase_add_test(cred, test_password_and_password_file);
  tcase_add_test(cred, test_token_and_password);
  tcase_add_test(cred, test_password_incomplete);
  tcase_add_test(cred, test_token_file_missing);
  tcase_add_test(cred, test_token_file_directory);
  tcase_add_test(cred, test_token_file_empty);
  tcase_add_test(cred, test_password_file_missing);
  tcase_add_test(cred, test_password_file_directory);
  tcase_add_test(cred, test_password_file_empty);
  tcase_add_test(cred, test_empty_inline_secret);
  suite_add_tcase(s, cred);

  TCase *aksk = config_tcase("aksk_metadata");
  tcase_add_test(aksk, test_aksk_without_secret_key);
  tcase_add_test(aksk, test_secret_key_without_access_key);
  tcase_add_test(aksk, test_secret_key_and_file);
  tcase_add_test(aksk, test_security_token_and_file);
  tcase_add_test(aksk, test_security_token_alone);
  tcase_add_test(aksk, test_aksk_and_token);
  tcase_add_test(aksk, test_aksk_and_token_file);
  tcase_add_test(aksk, test_aksk_and_password);
  tcase_add_test(aksk, test_metadata_and_aksk);
  tcase_add_test(aksk, test_metadata_and_security_token);
  tcase_add_test(aksk, test_metadata_and_token);
  tcase_add_test(aksk, test_metadata_url_without_metadata);
  tcase_add_test(aksk, test_bad_metadata_urls);
  tcase_add_test(aksk, test_metadata_url_userinfo_hidden);
  tcase_add_test(aksk, test_metadata_false_alone);
  tcase_add_test(aksk, test_secret_key_file_unreadable);
  tcase_add_test(aksk, test_security_token_file_unreadable);
  tcase_add_test(aksk, test_empty_inline_aksk);
  tcase_add_test(aksk, test_metadata_http_endpoint_refused);
  suite_add_tcase(s, aksk);

  TCase *urls = config_tcase("transport");
  tcase_add_test(urls, test_bad_endpoints);
  tcase_add_test(urls, test_endpoint_userinfo_hidden);
  tcase_add_test(urls, test_http_endpoint_refused);
  tcase_add_test(urls, test_http_iam_endpoint_refused);
  tcase_add_test(urls, test_missing_region_and_endpoint);
  tcase_add_test(urls, test_password_without_iam);
  tcase_add_test(urls, test_invalid_region);
  tcase_add_test(urls, test_bad_proxy);
  tcase_add_test(urls, test_unreadable_cacert);
  suite_add_tcase(s, urls);

  TCase *limits = config_tcase("limits");
  tcase_add_test(limits, test_id_lengths);
  tcase_add_test(limits, test_project_id_characters);
  tcase_add_test(limits, test_host_length);
  tcase_add_test(limits, test_project_name_length);
  tcase_add_test(limits, test_duplicate_project_in_account);
  tcase_add_test(limits, test_duplicate_project_across_accounts);
  tcase_add_test(limits, test_duplicate_account);
  suite_add_tcase(s, limits);

  TCase *values = config_tcase("values");
  tcase_add_test(values, test_timeout_not_below_interval);
  tcase_add_test(values, test_timeout_just_below_interval);
  tcase_add_test(values, test_wrong_value_types);
  tcase_add_test(values, test_number_ranges);
  tcase_add_test(values, test_wrong_type_for_secret);
  tcase_add_test(values, test_empty_string_option);
  tcase_add_test(values, test_option_given_twice);
  tcase_add_test(values, test_token_given_twice);
  suite_add_tcase(s, values);

  TCase *fleet = config_tcase("fleet");
  tcase_add_test(fleet, test_errors_do_not_cancel);
  tcase_add_test(fleet, test_budget_defaults);
  tcase_add_test(fleet, test_budget_and_fleet_options);
  tcase_add_test(fleet, test_budget_errors);
  tcase_add_test(fleet, test_fleet_option_errors);
  suite_add_tcase(s, fleet);

  TCase *warn = config_tcase("warnings");
  tcase_add_test(warn, test_unknown_region_warns);
  tcase_add_test(warn, test_unknown_region_with_endpoint);
  tcase_add_test(warn, test_verify_off_warns);
  tcase_add_test(warn, test_exposed_token_file_warns);
  tcase_add_test(warn, test_exposed_password_file_warns);
  tcase_add_test(warn, test_exposed_secret_key_file_warns);
  tcase_add_test(warn, test_exposed_security_token_file_warns);
  tcase_add_test(warn, test_private_secret_file_quiet);
  tcase_add_test(warn, test_iam_endpoint_ignored_warns);
  suite_add_tcase(s, warn);
  return s;
}

int main(void) {
  unit_tmp_dir(); /* shared with forked tests, removed below */
  SRunner *sr = srunner_create(config_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  unit_tmp_cleanup();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

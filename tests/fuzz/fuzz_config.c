/* fuzz_config.c - libFuzzer target for the configuration parser
 * (hss_config_parse, hss_config_validate, hss_config_free).
 *
 * The input is decoded into oconfig_item_t trees, the trees collectd's own
 * parser would hand the plugin, by this small deterministic line format:
 *
 *   Region "cn-north-4"          an option: KEY then blank-separated values
 *   <Account "prod">             opens a block (the final '>' is optional)
 *   </Account>                   closes the innermost open block
 *   %%                           ends one <Plugin hss_imgstats> block and
 *                                starts the next: each is given to
 *                                hss_config_parse on the same hss_config_t
 *                                (several blocks merge), then it is freed
 *
 * Lines are split on '\n'; leading blanks (space, tab, CR) are skipped and
 * empty lines ignored. Top-level lines are the children of the implicit
 * <Plugin hss_imgstats>; blocks nest at most MAX_DEPTH deep (deeper '<'
 * lines are options), unclosed blocks are closed at the end.
 *
 * KEY is a run of non-blank bytes; the two bytes "@c" stand for entry
 * c % N of the table of option names below (so random bytes reach real
 * options). Values:
 *   "..."               a string; escapes \\ \" \n \t \xHH (\x00 dropped),
 *                       \c for any other c is c; ends at '"' or the line end
 *   true yes on / false no off (any case)   a boolean
 *   a token strtod() reads whole (1, -5, 1e3, 0x10, nan, inf)   a number
 *   any other token     an unquoted string
 *
 * Safety and invariants:
 *   - File options (TokenFile, PasswordFile, SecretKeyFile,
 *     SecurityTokenFile, CACert) never reach the file system as given: a
 *     non-empty value is replaced by file f<i> of a private temp dir made
 *     once per process, i = the digit when the value starts with one, else
 *     its first byte % 10 (see make_files() for what each file holds).
 *   - Byte 0xFF marks secrets: it is kept only in the values of Token,
 *     Password, SecretKey and SecurityToken, in the secret files, and
 *     before the last '@' of the URLs of Endpoint, IAMEndpoint,
 *     MetadataURL and Proxy (user information: "URLs with user information
 *     are not echoed"); it is turned into '?' everywhere else. No log
 *     message may contain it: a message that does has leaked a secret.
 *   - A failed parse logs at least one error besides the final summary and
 *     leaves the model empty; a successful one logs no error, and the model
 *     is consistent (see check_model()).
 *
 * FUZZ_CONFIG_VERBOSE=1 in the environment prints the decoded tree and
 * every message, to write and check seeds:
 *   FUZZ_CONFIG_VERBOSE=1 build-fuzz/fuzz_config tests/fuzz/corpus/config/x
 *
 * Build and run: bash scripts/fuzz.sh build | replay | run config. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hss_config.h"
#include "hss_log.h"
#include "liboconfig/oconfig.h"
#include "secret.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_config: invariant failed at line %d: %s\n",        \
              __LINE__, #cond);                                                \
      __builtin_trap();                                                        \
    }                                                                          \
  } while (0)

#define MAX_DEPTH 16
#define NFILES 10
#define SECRET_MARK '\xff'

static const char *const names[] = {
    "Account",
    "Project",
    "Region",
    "Endpoint",
    "IAMEndpoint",
    "Token",
    "TokenFile",
    "Domain",
    "User",
    "Password",
    "PasswordFile",
    "AccessKey",
    "SecretKey",
    "SecretKeyFile",
    "SecurityToken",
    "SecurityTokenFile",
    "MetadataCredentials",
    "MetadataURL",
    "Timeout",
    "ConnectTimeout",
    "CACert",
    "VerifyPeer",
    "VerifyHost",
    "AllowInsecure",
    "Proxy",
    "ProjectId",
    "EnterpriseProjectId",
    "Host",
    "Interval",
    "RateLimit",
    "MaxConcurrency",
    "Pollers",
    "PollerName",
};
#define NNAMES (sizeof(names) / sizeof(*names))

static const char *const secret_keys[] = {"Token", "Password", "SecretKey",
                                          "SecurityToken"};
static const char *const file_keys[] = {"TokenFile", "PasswordFile",
                                        "SecretKeyFile", "SecurityTokenFile",
                                        "CACert"};
/* URLs: what precedes their last '@' may be user information (a
 * password), which no message may echo either. */
static const char *const url_keys[] = {"Endpoint", "IAMEndpoint", "MetadataURL",
                                       "Proxy"};

static bool verbose;
static char tmpdir[256];
static char file_paths[NFILES][300];

/* ---- the temp dir ------------------------------------------------------- */

static void write_file(int i, const char *content, size_t len, mode_t mode) {
  int fd = open(file_paths[i], O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write(fd, content, len) != (ssize_t)len || close(fd) != 0) {
    perror("fuzz_config: temp file");
    abort();
  }
  chmod(file_paths[i], mode);
}

static void remove_dir(const char *dir);
static void remove_files(void) { remove_dir(tmpdir); }

/* Removes the files of a temp dir of ours (f0..f9) and the dir. */
static void remove_dir(const char *dir) {
  char path[400];
  for (int i = 0; i < NFILES; i++) {
    snprintf(path, sizeof(path), "%s/f%d", dir, i);
    unlink(path);
    rmdir(path);
  }
  rmdir(dir);
}

/* A crash ends the process without atexit handlers: remove the temp dirs
 * that processes no longer running left behind (their pid is in the
 * name). */
static void remove_stale_dirs(const char *base) {
  DIR *d = opendir(base);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long pid;
    char rest[32];
    if (sscanf(e->d_name, "hss_fuzz_config.%ld.%31s", &pid, rest) != 2 ||
        pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue;
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/%s", base, e->d_name);
    remove_dir(dir);
  }
  closedir(d);
}

/* f0 missing; f1 a good secret; f2 empty; f3 a good secret readable by
 * others (warning); f4 over HSS_SECRET_MAX; f5 a directory; f6 a control
 * byte; f7 a NUL byte; f8 only white space; f9 a PEM-looking file. */
static void make_files(void) {
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0')
    base = "/tmp";
  remove_stale_dirs(base);
  snprintf(tmpdir, sizeof(tmpdir), "%s/hss_fuzz_config.%ld.XXXXXX", base,
           (long)getpid());
  if (mkdtemp(tmpdir) == NULL) {
    perror("fuzz_config: mkdtemp");
    abort();
  }
  for (int i = 0; i < NFILES; i++)
    snprintf(file_paths[i], sizeof(file_paths[i]), "%s/f%d", tmpdir, i);
  atexit(remove_files);
  write_file(1, "file-secret-\xff\xff\n", 15, 0600);
  write_file(2, "", 0, 0600);
  write_file(3, "exposed-secret-\xff\n", 17, 0644);
  size_t big = HSS_SECRET_MAX + 1;
  char *buf = malloc(big);
  if (buf == NULL)
    abort();
  memset(buf, 'A', big);
  write_file(4, buf, big, 0600);
  free(buf);
  if (mkdir(file_paths[5], 0700) != 0)
    abort();
  write_file(6, "ctl\x01secret\xff", 11, 0600);
  write_file(7, "nul\0secret\xff", 11, 0600);
  write_file(8, " \t\r\n\n", 5, 0600);
  write_file(9,
             "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
             58, 0600);
}

/* ---- log sink ----------------------------------------------------------- */

static void put_escaped(const char *s);

static int errors_logged;

static void sink(int level, const char *message) {
  CHECK(message != NULL);
  CHECK(strncmp(message, HSS_LOG_PREFIX, strlen(HSS_LOG_PREFIX)) == 0);
  CHECK(level == LOG_ERR || level == LOG_WARNING || level == LOG_NOTICE ||
        level == LOG_INFO || level == LOG_DEBUG);
  if (verbose) {
    fprintf(stderr, "  log[%d] ", level);
    put_escaped(message);
    fputc('\n', stderr);
  }
  CHECK(strchr(message, SECRET_MARK) == NULL &&
        "a secret leaked into a log message");
  if (level == LOG_ERR)
    errors_logged++;
}

/* ---- decoder ------------------------------------------------------------ */

static bool key_in(const char *key, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(key, list[i]) == 0)
      return true;
  return false;
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (p == NULL)
    abort();
  return p;
}

static char *xstrndup(const char *s, size_t n) {
  char *c = strndup(s, n);
  if (c == NULL)
    abort();
  return c;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads a quoted string starting after the opening '"' at *p (end e).
 * Returns it malloc'd; *p is past the closing quote. */
static char *read_quoted(const char **p, const char *e) {
  char *out = xrealloc(NULL, (size_t)(e - *p) + 1);
  size_t n = 0;
  const char *s = *p;
  while (s < e && *s != '"') {
    char c = *s++;
    if (c == '\\' && s < e) {
      c = *s++;
      if (c == 'n')
        c = '\n';
      else if (c == 't')
        c = '\t';
      else if (c == 'x' && e - s >= 2 && hexval(s[0]) >= 0 &&
               hexval(s[1]) >= 0) {
        c = (char)(hexval(s[0]) * 16 + hexval(s[1]));
        s += 2;
      }
    }
    if (c != '\0')
      out[n++] = c;
  }
  if (s < e)
    s++; /* the closing quote */
  out[n] = '\0';
  *p = s;
  return out;
}

static void add_value(oconfig_item_t *item, oconfig_value_t v) {
  item->values =
      xrealloc(item->values, (size_t)(item->values_num + 1) * sizeof(v));
  item->values[item->values_num++] = v;
}

/* Parses the values of a line (from p to e) into item. */
static void read_values(oconfig_item_t *item, const char *p, const char *e) {
  for (;;) {
    while (p < e && is_blank(*p))
      p++;
    if (p >= e)
      return;
    oconfig_value_t v = {.type = OCONFIG_TYPE_STRING};
    if (*p == '"') {
      p++;
      v.value.string = read_quoted(&p, e);
      add_value(item, v);
      continue;
    }
    const char *start = p;
    while (p < e && !is_blank(*p))
      p++;
    char *tok = xstrndup(start, (size_t)(p - start)); /* up to a NUL */
    char *end = NULL;
    double d = tok[0] != '\0' ? strtod(tok, &end) : 0;
    if (strcasecmp(tok, "true") == 0 || strcasecmp(tok, "yes") == 0 ||
        strcasecmp(tok, "on") == 0) {
      v.type = OCONFIG_TYPE_BOOLEAN;
      v.value.boolean = 1;
      free(tok);
    } else if (strcasecmp(tok, "false") == 0 || strcasecmp(tok, "no") == 0 ||
               strcasecmp(tok, "off") == 0) {
      v.type = OCONFIG_TYPE_BOOLEAN;
      v.value.boolean = 0;
      free(tok);
    } else if (tok[0] != '\0' && end != NULL && *end == '\0') {
      v.type = OCONFIG_TYPE_NUMBER;
      v.value.number = d;
      free(tok);
    } else {
      v.value.string = tok;
    }
    add_value(item, v);
  }
}

/* Marks secrets and confines file options (see the top of the file). */
static void sanitize_item(oconfig_item_t *item) {
  for (char *c = item->key; *c; c++)
    if (*c == SECRET_MARK)
      *c = '?';
  bool secret = key_in(item->key, secret_keys,
                       sizeof(secret_keys) / sizeof(*secret_keys));
  bool file =
      key_in(item->key, file_keys, sizeof(file_keys) / sizeof(*file_keys));
  bool url = key_in(item->key, url_keys, sizeof(url_keys) / sizeof(*url_keys));
  for (int i = 0; i < item->values_num; i++) {
    if (item->values[i].type != OCONFIG_TYPE_STRING)
      continue;
    char *s = item->values[i].value.string;
    if (file && s[0] != '\0') {
      unsigned char c = (unsigned char)s[0];
      int f = (c >= '0' && c <= '9') ? c - '0' : c % NFILES;
      free(s);
      item->values[i].value.string = xstrndup(file_paths[f], 300);
      continue;
    }
    char *keep_end = s; /* 0xFF is kept before this */
    if (secret)
      keep_end = s + strlen(s);
    else if (url && strrchr(s, '@') != NULL)
      keep_end = strrchr(s, '@');
    for (char *c = keep_end; *c; c++)
      if (*c == SECRET_MARK)
        *c = '?';
  }
}

static oconfig_item_t *append_child(oconfig_item_t *parent) {
  parent->children =
      xrealloc(parent->children,
               (size_t)(parent->children_num + 1) * sizeof(oconfig_item_t));
  oconfig_item_t *c = &parent->children[parent->children_num++];
  memset(c, 0, sizeof(*c));
  return c;
}

static void fix_parents(oconfig_item_t *item) {
  for (int i = 0; i < item->children_num; i++) {
    item->children[i].parent = item;
    fix_parents(&item->children[i]);
  }
}

static void free_contents(oconfig_item_t *item) {
  for (int i = 0; i < item->values_num; i++)
    if (item->values[i].type == OCONFIG_TYPE_STRING)
      free(item->values[i].value.string);
  free(item->values);
  for (int i = 0; i < item->children_num; i++)
    free_contents(&item->children[i]);
  free(item->children);
  free(item->key);
}

static void tree_free(oconfig_item_t *root) {
  free_contents(root);
  free(root);
}

/* Decodes lines [p, e) into a new <Plugin hss_imgstats> tree. */
static oconfig_item_t *decode(const char *p, const char *e) {
  oconfig_item_t *root = calloc(1, sizeof(*root));
  if (root == NULL)
    abort();
  root->key = xstrndup("Plugin", 6);
  add_value(root,
            (oconfig_value_t){.value.string = xstrndup("hss_imgstats", 12),
                              .type = OCONFIG_TYPE_STRING});
  int stack[MAX_DEPTH]; /* child index of each open block in its parent */
  int depth = 0;
  while (p < e) {
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    const char *le = nl != NULL ? nl : e;
    const char *s = p;
    p = nl != NULL ? nl + 1 : e;
    while (s < le && is_blank(*s))
      s++;
    if (s >= le)
      continue;
    if (le - s >= 2 && s[0] == '<' && s[1] == '/') {
      if (depth > 0)
        depth--;
      continue;
    }
    bool block = *s == '<';
    if (block) {
      s++;
      const char *t = le;
      while (t > s && is_blank(t[-1]))
        t--;
      if (t > s && t[-1] == '>')
        le = t - 1;
    }
    const char *k = s;
    while (s < le && !is_blank(*s))
      s++;
    char *key;
    if (s - k == 2 && k[0] == '@')
      key = xstrndup(names[(unsigned char)k[1] % NNAMES], 64);
    else
      key = xstrndup(k, (size_t)(s - k));
    if (key[0] == '\0') {
      free(key);
      continue;
    }
    oconfig_item_t *parent = root;
    for (int d = 0; d < depth; d++)
      parent = &parent->children[stack[d]];
    oconfig_item_t *item = append_child(parent);
    item->key = key;
    read_values(item, s, le);
    sanitize_item(item);
    if (block && depth < MAX_DEPTH)
      stack[depth++] = parent->children_num - 1;
  }
  fix_parents(root);
  return root;
}

/* Writes s with non-printable bytes as \xHH. */
static void put_escaped(const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++)
    if (*c < 0x20 || *c >= 0x7f || *c == '\\')
      fprintf(stderr, "\\x%02X", *c);
    else
      fputc(*c, stderr);
}

static void dump(const oconfig_item_t *item, int indent) {
  fprintf(stderr, "%*s", indent * 2, "");
  put_escaped(item->key);
  for (int i = 0; i < item->values_num; i++) {
    const oconfig_value_t *v = &item->values[i];
    if (v->type == OCONFIG_TYPE_STRING) {
      fputs(" \"", stderr);
      put_escaped(v->value.string);
      fputc('"', stderr);
    } else if (v->type == OCONFIG_TYPE_NUMBER)
      fprintf(stderr, " %g", v->value.number);
    else
      fprintf(stderr, " %s", v->value.boolean ? "true" : "false");
  }
  fprintf(stderr, "%s\n", item->children_num ? " {" : "");
  for (int i = 0; i < item->children_num; i++)
    dump(&item->children[i], indent + 1);
  if (item->children_num)
    fprintf(stderr, "%*s}\n", indent * 2, "");
}

/* ---- invariants of a parsed model --------------------------------------- */

static void check_secret(hss_secret_t *s, bool required) {
  if (required)
    CHECK(s->value != NULL && s->value[0] != '\0');
  if (s->value == NULL) {
    CHECK(s->path == NULL);
    return;
  }
  for (const unsigned char *c = (const unsigned char *)s->value; *c; c++)
    CHECK(*c >= 0x20 && *c != 0x7f);
  if (s->path != NULL)
    CHECK(strncmp(s->path, tmpdir, strlen(tmpdir)) == 0);
  char err[512];
  CHECK(hss_secret_refresh(s, err, sizeof(err)) == 0); /* file unchanged */
}

static void check_model(hss_config_t *cfg) {
  size_t index = 0;
  for (size_t i = 0; i < cfg->accounts_num; i++) {
    hss_account_t *a = &cfg->accounts[i];
    CHECK(a->name != NULL && a->name[0] != '\0' &&
          strlen(a->name) <= HSS_NAME_MAX);
    for (size_t j = 0; j < i; j++)
      CHECK(strcmp(cfg->accounts[j].name, a->name) != 0);
    CHECK(a->endpoint != NULL);
    CHECK(strncmp(a->endpoint, "https://", 8) == 0 ||
          (a->allow_insecure && strncmp(a->endpoint, "http://", 7) == 0));
    CHECK(a->projects_num >= 1);
    CHECK(a->connect_timeout_ms >= 1);
    CHECK(a->timeout_ms >= 0 && a->timeout_ms <= 3600000);
    switch (a->cred) {
    case HSS_CRED_TOKEN:
      check_secret(&a->token, true);
      break;
    case HSS_CRED_PASSWORD:
      CHECK(a->domain != NULL && a->user != NULL && a->iam_endpoint != NULL);
      check_secret(&a->password, true);
      break;
    case HSS_CRED_AKSK:
      CHECK(a->access_key != NULL);
      check_secret(&a->secret_key, true);
      check_secret(&a->security_token, false);
      break;
    case HSS_CRED_METADATA:
      CHECK(a->metadata_url != NULL);
      break;
    default:
      CHECK(!"a valid credential method");
    }
#ifdef HSS_MAX_POLLERS
    CHECK(a->rate_calls >= 1 && a->rate_calls <= 100000);
    CHECK(a->rate_seconds > 0 && a->rate_seconds <= 86400);
#endif
    for (size_t k = 0; k < a->projects_num; k++) {
      hss_project_t *p = &a->projects[k];
      CHECK(p->name != NULL && p->name[0] != '\0' &&
            strlen(p->name) <= HSS_NAME_MAX && strchr(p->name, '/') == NULL);
      CHECK(p->project_id != NULL && p->project_id[0] != '\0' &&
            strlen(p->project_id) <= HSS_ID_MAX);
      CHECK(p->enterprise_project_id == NULL ||
            strlen(p->enterprise_project_id) <= HSS_ID_MAX);
      CHECK(p->host == NULL || strlen(p->host) <= HSS_NAME_MAX);
      CHECK(isfinite(p->interval) && p->interval > 0);
      CHECK(p->timeout_ms >= 1);
      if (a->timeout_ms > 0)
        CHECK(p->timeout_ms == a->timeout_ms &&
              (double)p->timeout_ms < p->interval * 1000.0);
      CHECK(p->account == a);
      CHECK(p->index == index);
      index++;
      /* names are unique across accounts */
      for (size_t i2 = 0; i2 <= i; i2++)
        for (size_t k2 = 0; k2 < (i2 == i ? k : cfg->accounts[i2].projects_num);
             k2++)
          CHECK(strcmp(cfg->accounts[i2].projects[k2].name, p->name) != 0);
    }
  }
  CHECK(index == cfg->projects_total);
#ifdef HSS_MAX_POLLERS
  CHECK(cfg->rate_calls >= 1 && cfg->rate_calls <= 100000);
  CHECK(cfg->rate_seconds > 0 && cfg->rate_seconds <= 86400);
  CHECK(cfg->max_concurrency >= 1 && cfg->max_concurrency <= 1000);
  CHECK((cfg->pollers == NULL) == (cfg->pollers_num == 0));
  CHECK(cfg->pollers_num <= HSS_MAX_POLLERS);
  for (size_t i = 0; i < cfg->pollers_num; i++) {
    CHECK(cfg->pollers[i] != NULL && cfg->pollers[i][0] != '\0' &&
          strlen(cfg->pollers[i]) <= HSS_NAME_MAX);
    for (size_t j = 0; j < i; j++)
      CHECK(strcmp(cfg->pollers[i], cfg->pollers[j]) != 0);
  }
  CHECK(cfg->poller_name == NULL || (cfg->poller_name[0] != '\0' &&
                                     strlen(cfg->poller_name) <= HSS_NAME_MAX));
#endif
}

static bool model_empty(const hss_config_t *cfg) {
  static const hss_config_t zero;
  return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

/* ---- libFuzzer ---------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *v = getenv("FUZZ_CONFIG_VERBOSE");
  verbose = v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
  make_files();
  hss_log_set_sink(sink);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data;
  const char *e = p + size;
  hss_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  for (int block = 0;; block++) {
    /* the next "%%" line ends this block */
    const char *stop = e;
    const char *next = NULL;
    for (const char *l = p; l < e;) {
      const char *nl = memchr(l, '\n', (size_t)(e - l));
      const char *le = nl ? nl : e;
      if (le - l == 2 && l[0] == '%' && l[1] == '%') {
        stop = l;
        next = nl ? nl + 1 : e;
        break;
      }
      l = nl ? nl + 1 : e;
    }
    oconfig_item_t *root = decode(p, stop);
    if (verbose) {
      fprintf(stderr, "block %d:\n", block);
      dump(root, 1);
    }
    errors_logged = 0;
    int rc = hss_config_parse(root, 10.0, &cfg);
    if (verbose)
      fprintf(stderr, "  -> %d, %zu accounts, %zu projects\n", rc,
              cfg.accounts_num, cfg.projects_total);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
      /* an error was logged, yet the configuration was accepted */
      CHECK(errors_logged == 0 && "accepted although errors were logged");
      check_model(&cfg);
      CHECK(hss_config_validate(&cfg) == 0 && errors_logged == 0);
    } else {
      CHECK(errors_logged >= 2 && "refused without a logged cause");
      CHECK(model_empty(&cfg));
    }
    tree_free(root);
    if (next == NULL)
      break;
    p = next;
  }
  hss_config_free(&cfg);
  CHECK(model_empty(&cfg));
  return 0;
}

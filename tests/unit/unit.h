/* unit.h - helpers shared by the unit tests (header only).
 *
 * 1. A log-capture sink for hss_log: unit_log_install() routes every
 *    hss_log line into a buffer that the tests inspect (unit_log_has(),
 *    unit_log_count(), unit_log_any()).
 * 2. Temporary files: unit_tmp_dir() makes one mkdtemp directory under
 *    $TMPDIR (or /tmp); unit_write_file() writes a file in it with an
 *    exact mode; unit_tmp_cleanup() empties it, and removes it in the
 *    process that made it (also run at exit).
 *
 * Everything here is static: each test program gets its own copy, and with
 * Check's fork mode each test starts from the parent's (empty) state. */
#ifndef HSS_UNIT_H
#define HSS_UNIT_H

/* Include this header first: it asks for the GNU/XSI interfaces (nftw). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "hss_log.h"

/* ---- log capture -------------------------------------------------------- */

#define UNIT_LOG_LINES 256
#define UNIT_LOG_LINE_MAX 1100 /* hss_log formats into 1024 bytes */

static struct {
  int count;   /* lines captured since the last reset (may exceed storage) */
  int level[UNIT_LOG_LINES];
  char line[UNIT_LOG_LINES][UNIT_LOG_LINE_MAX];
} unit_log;

/* The sink installed by unit_log_install(): stores the line. */
static inline void unit_log_sink(int level, const char *message) {
  if (unit_log.count < UNIT_LOG_LINES) {
    unit_log.level[unit_log.count] = level;
    snprintf(unit_log.line[unit_log.count], UNIT_LOG_LINE_MAX, "%s", message);
  }
  unit_log.count++;
}

/* Forgets every captured line. */
static inline void unit_log_reset(void) {
  unit_log.count = 0;
}

/* Empties the buffer and routes hss_log into it. */
static inline void unit_log_install(void) {
  unit_log_reset();
  hss_log_set_sink(unit_log_sink);
}

/* Restores hss_log's default sink (stderr). */
static inline void unit_log_uninstall(void) {
  hss_log_set_sink(NULL);
}

/* Number of stored lines (at most UNIT_LOG_LINES). */
static inline int unit_log_stored(void) {
  return unit_log.count < UNIT_LOG_LINES ? unit_log.count : UNIT_LOG_LINES;
}

/* Number of lines captured at level, or at any level when level < 0. */
static inline int unit_log_count(int level) {
  int n = 0;
  for (int i = 0; i < unit_log_stored(); i++)
    if (level < 0 || unit_log.level[i] == level)
      n++;
  return level < 0 ? unit_log.count : n;
}

/* The i-th captured line, or "" when there is none. */
static inline const char *unit_log_line(int i) {
  return i >= 0 && i < unit_log_stored() ? unit_log.line[i] : "";
}

/* Prints every captured line to stderr (for the reader of a failure). */
static inline void unit_log_dump(const char *why) {
  fprintf(stderr, "--- %s; %d captured log line(s):\n", why, unit_log.count);
  for (int i = 0; i < unit_log_stored(); i++)
    fprintf(stderr, "  [%d] %s\n", unit_log.level[i], unit_log.line[i]);
}

/* True when line holds every string of the NULL-terminated list ap. */
static inline bool unit_line_has_all(const char *line, va_list ap) {
  const char *needle;
  while ((needle = va_arg(ap, const char *)) != NULL)
    if (strstr(line, needle) == NULL)
      return false;
  return true;
}

/* True when some captured line of the given level (any level when
 * level < 0) contains all of the substrings that follow, a NULL-terminated
 * list. On false, the captured lines are printed to stderr. Use as
 *   ck_assert(unit_log_has(LOG_ERR, "Account \"prod\"", "\"Timeout\"", NULL)); */
static inline bool unit_log_has(int level, ...)
    __attribute__((sentinel));
static inline bool unit_log_has(int level, ...) {
  for (int i = 0; i < unit_log_stored(); i++) {
    if (level >= 0 && unit_log.level[i] != level)
      continue;
    va_list ap;
    va_start(ap, level);
    bool all = unit_line_has_all(unit_log.line[i], ap);
    va_end(ap);
    if (all)
      return true;
  }
  unit_log_dump("no captured line holds all the expected substrings");
  return false;
}

/* True when any captured line (any level) contains needle. Quiet: meant
 * for "this secret must not appear" checks. */
static inline bool unit_log_any(const char *needle) {
  for (int i = 0; i < unit_log_stored(); i++)
    if (strstr(unit_log.line[i], needle) != NULL)
      return true;
  return false;
}

/* ---- temporary files ---------------------------------------------------- */

#define UNIT_TMP_PATHS 64

static struct {
  pid_t owner; /* process that made dir; 0 when there is none */
  bool atexit_done;
  char dir[PATH_MAX];
  int next_path;
  char path[UNIT_TMP_PATHS][PATH_MAX];
} unit_tmp;

/* nftw callback: removes one entry below the directory (files before
 * their directory), not the directory itself. */
static inline int unit_tmp_remove_entry(const char *path, const struct stat *st,
                                        int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  if (ftw->level > 0)
    remove(path);
  return 0;
}

/* Empties the directory; the process that made it also removes it. A
 * forked Check child that uses its parent's directory only empties it. */
static inline void unit_tmp_cleanup(void) {
  if (unit_tmp.dir[0] == '\0')
    return;
  nftw(unit_tmp.dir, unit_tmp_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (unit_tmp.owner == getpid()) {
    rmdir(unit_tmp.dir);
    unit_tmp.dir[0] = '\0';
    unit_tmp.owner = 0;
  }
  unit_tmp.next_path = 0;
}

/* The temporary directory (mode 0700), made on first use. Forked children
 * use the one their parent made: so call this in main() before
 * srunner_run_all() and unit_tmp_cleanup() after it, and a test that fails
 * in fork mode (Check then leaves with _exit(), skipping teardown and
 * atexit) still leaves nothing behind. Aborts when it cannot be made. */
static inline const char *unit_tmp_dir(void) {
  if (unit_tmp.dir[0] != '\0')
    return unit_tmp.dir;
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0')
    base = "/tmp";
  int n = snprintf(unit_tmp.dir, sizeof(unit_tmp.dir), "%s/hss_unit.XXXXXX",
                   base);
  if (n < 0 || (size_t)n >= sizeof(unit_tmp.dir) ||
      mkdtemp(unit_tmp.dir) == NULL) {
    fprintf(stderr, "unit: mkdtemp(%s): %s\n", unit_tmp.dir, strerror(errno));
    abort();
  }
  unit_tmp.owner = getpid();
  unit_tmp.next_path = 0;
  if (!unit_tmp.atexit_done) {
    atexit(unit_tmp_cleanup);
    unit_tmp.atexit_done = true;
  }
  return unit_tmp.dir;
}

/* "<tmpdir>/<name>" in one of UNIT_TMP_PATHS slots, reused in turn, so a
 * path stays valid for the next UNIT_TMP_PATHS - 1 calls; nothing is
 * created. Aborts when the path does not fit. */
static inline const char *unit_tmp_path(const char *name) {
  const char *dir = unit_tmp_dir();
  char *slot = unit_tmp.path[unit_tmp.next_path];
  unit_tmp.next_path = (unit_tmp.next_path + 1) % UNIT_TMP_PATHS;
  int n = snprintf(slot, PATH_MAX, "%s/%s", dir, name);
  if (n < 0 || n >= PATH_MAX) {
    fprintf(stderr, "unit: path %s/%s is too long\n", dir, name);
    abort();
  }
  return slot;
}

/* Writes len bytes of data to path (created or truncated) and sets its mode
 * exactly (umask does not apply). Returns 0 or -1. */
static inline int unit_write_path(const char *path, const void *data,
                                  size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  const char *p = data;
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, p + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      close(fd);
      return -1;
    }
    done += (size_t)n;
  }
  int status = fchmod(fd, mode);
  return close(fd) == 0 && status == 0 ? 0 : -1;
}

/* Writes the string content to <tmpdir>/<name> with the given mode.
 * Returns the path (see unit_tmp_path() for how long it stays valid) or
 * NULL. */
static inline const char *unit_write_file(const char *name, const char *content,
                                          mode_t mode) {
  const char *path = unit_tmp_path(name);
  return unit_write_path(path, content, strlen(content), mode) == 0 ? path
                                                                    : NULL;
}

/* Like unit_write_file() for len bytes that may hold NULs. */
static inline const char *unit_write_file_len(const char *name,
                                              const void *data, size_t len,
                                              mode_t mode) {
  const char *path = unit_tmp_path(name);
  return unit_write_path(path, data, len, mode) == 0 ? path : NULL;
}

/* Sets a file's modification time to sec (whole seconds), so that a rewrite
 * is detectable regardless of the file system's timestamp granularity. */
static inline int unit_set_mtime(const char *path, time_t sec) {
  struct timespec times[2] = {{.tv_sec = sec, .tv_nsec = 0},
                              {.tv_sec = sec, .tv_nsec = 0}};
  return utimensat(AT_FDCWD, path, times, 0);
}

#endif

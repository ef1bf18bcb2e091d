/* secret.h - a credential given inline or read from a file.
 *
 * A file-backed secret is re-read when the file changes (inode, size or
 * mtime), so an external rotator can replace it without restarting
 * collectd. Values are wiped from memory when replaced or freed. */
#ifndef HSS_SECRET_H
#define HSS_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define HSS_SECRET_MAX 65536 /* bytes; IAM tokens are up to 32768 */

typedef struct {
  char *value; /* current value, never logged */
  char *path;  /* NULL for an inline secret */
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
} hss_secret_t;

/* Sets an inline secret (copied). Returns 0, or -1 when empty. */
int hss_secret_set_inline(hss_secret_t *s, const char *value, char *err,
                          size_t errlen);

/* Reads a file-backed secret now. Returns 0, or -1 with err naming the
 * problem (unreadable, empty, too large); err never holds file content. */
int hss_secret_set_file(hss_secret_t *s, const char *path, char *err,
                        size_t errlen);

/* Re-reads a file-backed secret if the file changed since the last read.
 * Returns 1 when the value changed, 0 when not (or inline), -1 on error;
 * on error the previous value is kept. */
int hss_secret_refresh(hss_secret_t *s, char *err, size_t errlen);

/* True when the file's mode lets group or others read it. */
bool hss_secret_file_is_exposed(const char *path);

/* Overwrites a NUL-terminated string, then frees it (NULL is fine). */
void hss_wipe_free(char *s);

/* Wipes and frees the value and path. */
void hss_secret_clear(hss_secret_t *s);

#endif

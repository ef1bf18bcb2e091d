/* secret.c - inline and file-backed secrets. */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hss_wipe_free(char *s) {
  if (s == NULL)
    return;
  OPENSSL_cleanse(s, strlen(s));
  free(s);
}

/* True when value holds a control character: a secret goes into an HTTP
 * header, where a line break would inject another header. */
static bool has_control(const char *value) {
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return true;
  return false;
}

int hss_secret_set_inline(hss_secret_t *s, const char *value, char *err,
                          size_t errlen) {
  if (value == NULL || value[0] == '\0') {
    snprintf(err, errlen, "the value is empty");
    return -1;
  }
  if (has_control(value)) {
    snprintf(err, errlen, "the value holds a control character");
    return -1;
  }
  char *copy = strdup(value);
  if (copy == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  hss_secret_clear(s);
  s->value = copy;
  return 0;
}

/* Reads the whole file at path (at most HSS_SECRET_MAX bytes), strips
 * trailing white space. Returns a malloc'd string or NULL with err set. */
static char *read_secret_file(const char *path, struct stat *st, char *err,
                              size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open \"%s\": %s", path, strerror(errno));
    return NULL;
  }
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
    snprintf(err, errlen, "\"%s\" is not a regular file", path);
    close(fd);
    return NULL;
  }
  if (st->st_size > HSS_SECRET_MAX) {
    snprintf(err, errlen, "\"%s\" is larger than %d bytes", path,
             HSS_SECRET_MAX);
    close(fd);
    return NULL;
  }
  char *buf = malloc((size_t)st->st_size + 1);
  if (buf == NULL) {
    snprintf(err, errlen, "out of memory");
    close(fd);
    return NULL;
  }
  size_t len = 0;
  while (len < (size_t)st->st_size) {
    ssize_t n = read(fd, buf + len, (size_t)st->st_size - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  /* strchr() would also match a NUL byte: test it apart so that a trailing
   * NUL is refused below rather than stripped as white space. */
  while (len > 0 && buf[len - 1] != '\0' &&
         strchr(" \t\r\n", buf[len - 1]) != NULL)
    buf[--len] = '\0';
  if (len == 0 || strlen(buf) != len || has_control(buf)) {
    snprintf(err, errlen,
             "\"%s\" is empty or holds a NUL byte, line break or other "
             "control character",
             path);
    OPENSSL_cleanse(buf, (size_t)st->st_size);
    free(buf);
    return NULL;
  }
  return buf;
}

/* Remembers which version of the file the value came from. */
static void remember_stat(hss_secret_t *s, const struct stat *st) {
  s->dev = st->st_dev;
  s->ino = st->st_ino;
  s->size = st->st_size;
  s->mtime = st->st_mtim;
}

int hss_secret_set_file(hss_secret_t *s, const char *path, char *err,
                        size_t errlen) {
  struct stat st;
  char *value = read_secret_file(path, &st, err, errlen);
  if (value == NULL)
    return -1;
  char *path_copy = strdup(path);
  if (path_copy == NULL) {
    hss_wipe_free(value);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  hss_secret_clear(s);
  s->value = value;
  s->path = path_copy;
  remember_stat(s, &st);
  return 0;
}

int hss_secret_refresh(hss_secret_t *s, char *err, size_t errlen) {
  if (s->path == NULL)
    return 0;
  struct stat st;
  if (stat(s->path, &st) != 0) {
    snprintf(err, errlen, "cannot stat \"%s\": %s", s->path, strerror(errno));
    return -1;
  }
  if (st.st_dev == s->dev && st.st_ino == s->ino && st.st_size == s->size &&
      st.st_mtim.tv_sec == s->mtime.tv_sec &&
      st.st_mtim.tv_nsec == s->mtime.tv_nsec)
    return 0;
  char *value = read_secret_file(s->path, &st, err, errlen);
  if (value == NULL)
    return -1;
  int changed = strcmp(value, s->value) != 0;
  hss_wipe_free(s->value);
  s->value = value;
  remember_stat(s, &st);
  return changed;
}

bool hss_secret_file_is_exposed(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return false;
  return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

void hss_secret_clear(hss_secret_t *s) {
  hss_wipe_free(s->value);
  free(s->path);
  memset(s, 0, sizeof(*s));
}

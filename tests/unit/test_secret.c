/* test_secret.c - unit tests of secret.c: inline and file-backed secrets,
 * rotation (rewrite, rename, removal) and the exposed-mode check. */
#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#define ERRLEN 512

static void setup(void) { unit_tmp_dir(); }

static void teardown(void) { unit_tmp_cleanup(); }

/* Writes content to <tmpdir>/name with mode 0600; fails the test if not. */
static const char *write_secret(const char *name, const char *content) {
  const char *path = unit_write_file(name, content, 0600);
  ck_assert_msg(path != NULL, "cannot write %s", name);
  return path;
}

/* Loads path into *s; must succeed. */
static void load(hss_secret_t *s, const char *path) {
  char err[ERRLEN] = "";
  ck_assert_msg(hss_secret_set_file(s, path, err, sizeof(err)) == 0,
                "set_file(%s): %s", path, err);
}

/* Loading path must fail; returns the (non-empty) error, which must not
 * hold the file's content. */
static const char *load_fails(const char *path, const char *content) {
  static char err[ERRLEN];
  hss_secret_t s = {0};
  strcpy(err, "");
  ck_assert_msg(hss_secret_set_file(&s, path, err, sizeof(err)) == -1,
                "%s was accepted", path);
  ck_assert(err[0] != '\0');
  if (content != NULL && content[0] != '\0')
    ck_assert_msg(strstr(err, content) == NULL, "error shows content: %s", err);
  ck_assert_ptr_null(s.value);
  hss_secret_clear(&s);
  return err;
}

/* refresh() must return want. */
static void assert_refresh(hss_secret_t *s, int want) {
  char err[ERRLEN] = "";
  int got = hss_secret_refresh(s, err, sizeof(err));
  ck_assert_msg(got == want, "refresh returned %d, want %d (%s)", got, want,
                err);
  if (want == -1)
    ck_assert(err[0] != '\0');
}

/* ---- inline ---------------------------------------------------------- */

START_TEST(test_inline) {
  hss_secret_t s = {0};
  char err[ERRLEN] = "";
  char value[] = "inline-token-value";
  ck_assert_int_eq(hss_secret_set_inline(&s, value, err, sizeof(err)), 0);
  memset(value, 'x', strlen(value)); /* the secret holds its own copy */
  ck_assert_str_eq(s.value, "inline-token-value");
  ck_assert_ptr_null(s.path);
  assert_refresh(&s, 0);
  ck_assert_str_eq(s.value, "inline-token-value");
  /* Replacing an inline value. */
  ck_assert_int_eq(hss_secret_set_inline(&s, "second", err, sizeof(err)), 0);
  ck_assert_str_eq(s.value, "second");
  hss_secret_clear(&s);
  ck_assert_ptr_null(s.value);
}
END_TEST

START_TEST(test_inline_empty) {
  hss_secret_t s = {0};
  char err[ERRLEN] = "";
  ck_assert_int_eq(hss_secret_set_inline(&s, "", err, sizeof(err)), -1);
  ck_assert(err[0] != '\0');
  ck_assert_int_eq(hss_secret_set_inline(&s, NULL, err, sizeof(err)), -1);
  ck_assert_ptr_null(s.value);
  /* A failed set keeps the previous value. */
  ck_assert_int_eq(hss_secret_set_inline(&s, "kept", err, sizeof(err)), 0);
  ck_assert_int_eq(hss_secret_set_inline(&s, "", err, sizeof(err)), -1);
  ck_assert_str_eq(s.value, "kept");
  hss_secret_clear(&s);
}
END_TEST

/* ---- files ----------------------------------------------------------- */

START_TEST(test_file_trimmed) {
  hss_secret_t s = {0};
  load(&s, write_secret("a", "file-token\n"));
  ck_assert_str_eq(s.value, "file-token");
  ck_assert_ptr_nonnull(s.path);
  load(&s, write_secret("b", "tok with inner space \t \r\n\n"));
  ck_assert_str_eq(s.value, "tok with inner space");
  load(&s, write_secret("c", "  leading-kept"));
  ck_assert_str_eq(s.value, "  leading-kept");
  load(&s, write_secret("d", "no-newline"));
  ck_assert_str_eq(s.value, "no-newline");
  ck_assert_str_eq(s.path, unit_tmp_path("d"));
  hss_secret_clear(&s);
  ck_assert_ptr_null(s.path);
}
END_TEST

START_TEST(test_file_refused) {
  ck_assert_ptr_nonnull(strstr(load_fails(unit_tmp_path("missing"), NULL),
                               unit_tmp_path("missing")));
  load_fails(unit_tmp_dir(), NULL);
  load_fails(write_secret("empty", ""), NULL);
  load_fails(write_secret("blank", " \n\t\r\n"), NULL);
  const char nul[] = "abc\0def\n";
  const char *path = unit_write_file_len("nul", nul, sizeof(nul) - 1, 0600);
  ck_assert_ptr_nonnull(path);
  load_fails(path, "abc");
  const char nul_end[] = "abc\0\n";
  path = unit_write_file_len("nul_end", nul_end, sizeof(nul_end) - 1, 0600);
  ck_assert_ptr_nonnull(path);
  load_fails(path, "abc");
  load_fails("/dev/null", NULL);
}
END_TEST

/* A failed set_file keeps the previous value and path. */
START_TEST(test_file_failure_keeps_value) {
  hss_secret_t s = {0};
  const char *path = write_secret("good", "good-value\n");
  load(&s, path);
  char err[ERRLEN];
  ck_assert_int_eq(
      hss_secret_set_file(&s, unit_tmp_path("nope"), err, sizeof(err)), -1);
  ck_assert_str_eq(s.value, "good-value");
  ck_assert_str_eq(s.path, path);
  hss_secret_clear(&s);
}
END_TEST

START_TEST(test_size_limit) {
  size_t max = HSS_SECRET_MAX;
  char *big = malloc(max + 2);
  ck_assert_ptr_nonnull(big);
  memset(big, 'k', max + 1);
  big[max + 1] = '\0';
  const char *over = write_secret("over", big);
  const char *err = load_fails(over, NULL);
  ck_assert_ptr_nonnull(strstr(err, "larger"));
  /* Exactly HSS_SECRET_MAX bytes is accepted. */
  big[max] = '\0';
  hss_secret_t s = {0};
  load(&s, write_secret("max", big));
  ck_assert_uint_eq(strlen(s.value), max);
  free(big);
  hss_secret_clear(&s);
}
END_TEST

/* ---- refresh --------------------------------------------------------- */

START_TEST(test_refresh_unchanged) {
  hss_secret_t s = {0};
  load(&s, write_secret("tok", "value-1\n"));
  assert_refresh(&s, 0);
  assert_refresh(&s, 0);
  ck_assert_str_eq(s.value, "value-1");
  hss_secret_clear(&s);
}
END_TEST

/* Rewritten in place (same inode, same size): detected by the mtime. */
START_TEST(test_refresh_rewritten) {
  hss_secret_t s = {0};
  const char *path = write_secret("tok", "value-1\n");
  ck_assert_int_eq(unit_set_mtime(path, 1000000000), 0);
  load(&s, path);
  write_secret("tok", "value-2\n");
  ck_assert_int_eq(unit_set_mtime(path, 1000000100), 0);
  assert_refresh(&s, 1);
  ck_assert_str_eq(s.value, "value-2");
  assert_refresh(&s, 0);
  /* Touched but same content: re-read, not reported as a change. */
  ck_assert_int_eq(unit_set_mtime(path, 1000000200), 0);
  assert_refresh(&s, 0);
  ck_assert_str_eq(s.value, "value-2");
  /* A different size is detected even with the same mtime. */
  write_secret("tok", "value-three\n");
  ck_assert_int_eq(unit_set_mtime(path, 1000000200), 0);
  assert_refresh(&s, 1);
  ck_assert_str_eq(s.value, "value-three");
  hss_secret_clear(&s);
}
END_TEST

/* Removed, turned into a directory or emptied: -1, old value kept; when a
 * good file is back it is picked up. */
START_TEST(test_refresh_error_keeps_value) {
  hss_secret_t s = {0};
  const char *path = write_secret("tok", "value-1\n");
  load(&s, path);
  ck_assert_int_eq(unlink(path), 0);
  assert_refresh(&s, -1);
  ck_assert_str_eq(s.value, "value-1");
  ck_assert_int_eq(mkdir(path, 0700), 0);
  assert_refresh(&s, -1);
  ck_assert_str_eq(s.value, "value-1");
  ck_assert_int_eq(rmdir(path), 0);
  write_secret("tok", "");
  assert_refresh(&s, -1);
  ck_assert_str_eq(s.value, "value-1");
  write_secret("tok", "value-2\n");
  ck_assert_int_eq(unit_set_mtime(path, 1000000300), 0);
  assert_refresh(&s, 1);
  ck_assert_str_eq(s.value, "value-2");
  hss_secret_clear(&s);
}
END_TEST

/* Permission bits do not stop root, so this only runs as another user. */
START_TEST(test_refresh_unreadable) {
  if (geteuid() == 0)
    return;
  hss_secret_t s = {0};
  const char *path = write_secret("tok", "value-1\n");
  load(&s, path);
  ck_assert_int_eq(chmod(path, 0000), 0);
  ck_assert_int_eq(unit_set_mtime(path, 1000000400), 0);
  assert_refresh(&s, -1);
  ck_assert_str_eq(s.value, "value-1");
  hss_secret_clear(&s);
}
END_TEST

/* Replaced by rename (new inode), as rotators do. */
START_TEST(test_refresh_renamed) {
  hss_secret_t s = {0};
  const char *path = write_secret("tok", "value-1\n");
  ck_assert_int_eq(unit_set_mtime(path, 1000000000), 0);
  load(&s, path);
  const char *next = write_secret("tok.new", "value-2\n");
  ck_assert_int_eq(unit_set_mtime(next, 1000000000), 0); /* same mtime, size */
  ck_assert_int_eq(rename(next, path), 0);
  assert_refresh(&s, 1);
  ck_assert_str_eq(s.value, "value-2");
  assert_refresh(&s, 0);
  hss_secret_clear(&s);
}
END_TEST

/* ---- exposure -------------------------------------------------------- */

/* Writes a file with mode and returns hss_secret_file_is_exposed(). */
/* A line break inside a secret would inject a header: refused, inline and
 * from a file, while a trailing newline is only trimmed. */
START_TEST(test_control_characters_refused) {
  char err[ERRLEN] = "";
  hss_secret_t s = {0};
  ck_assert_int_eq(
      hss_secret_set_inline(&s, "tok\r\nX-Evil: 1", err, sizeof(err)), -1);
  ck_assert_ptr_null(s.value);
  ck_assert(strstr(err, "control character") != NULL);
  ck_assert(strstr(err, "Evil") == NULL);
  const char *path = write_secret("injected", "tok\r\nX-Evil: 1\n");
  ck_assert(strstr(load_fails(path, "X-Evil"), "control character") != NULL);
  path = write_secret("tab", "to\tk\n");
  load_fails(path, NULL);
  path = write_secret("fine", "token-ok\r\n");
  load(&s, path);
  ck_assert_str_eq(s.value, "token-ok");
  hss_secret_clear(&s);
}
END_TEST

static bool exposed_with_mode(mode_t mode) {
  const char *path = unit_write_file("mode", "x\n", mode);
  ck_assert_ptr_nonnull(path);
  return hss_secret_file_is_exposed(path);
}

START_TEST(test_exposed) {
  ck_assert(!exposed_with_mode(0600));
  ck_assert(!exposed_with_mode(0400));
  ck_assert(exposed_with_mode(0640));
  ck_assert(exposed_with_mode(0604));
  ck_assert(exposed_with_mode(0644));
  ck_assert(!exposed_with_mode(0620)); /* group may write, not read */
  ck_assert(!exposed_with_mode(0602));
  ck_assert(!hss_secret_file_is_exposed(unit_tmp_path("missing")));
}
END_TEST

static Suite *secret_suite(void) {
  Suite *s = suite_create("secret");
  TCase *tc = tcase_create("inline");
  tcase_add_test(tc, test_inline);
  tcase_add_test(tc, test_inline_empty);
  suite_add_tcase(s, tc);
  TCase *files = tcase_create("file");
  tcase_set_timeout(files, 60);
  tcase_add_checked_fixture(files, setup, teardown);
  tcase_add_test(files, test_file_trimmed);
  tcase_add_test(files, test_file_refused);
  tcase_add_test(files, test_file_failure_keeps_value);
  tcase_add_test(files, test_size_limit);
  tcase_add_test(files, test_refresh_unchanged);
  tcase_add_test(files, test_refresh_rewritten);
  tcase_add_test(files, test_refresh_error_keeps_value);
  tcase_add_test(files, test_refresh_unreadable);
  tcase_add_test(files, test_refresh_renamed);
  tcase_add_test(files, test_exposed);
  tcase_add_test(files, test_control_characters_refused);
  suite_add_tcase(s, files);
  return s;
}

int main(void) {
  unit_tmp_dir(); /* shared with forked tests, removed below */
  SRunner *sr = srunner_create(secret_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  unit_tmp_cleanup();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* oconfig_builder.c - oconfig_item_t trees for tests, see oconfig_builder.h. */
#include "oconfig_builder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reports a misuse or allocation failure and stops the test program. */
static void oci_die(const char *what) {
  fprintf(stderr, "oconfig_builder: %s\n", what);
  abort();
}

/* malloc that never returns NULL (zeroed). */
static void *oci_alloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (p == NULL)
    oci_die("out of memory");
  return p;
}

/* strdup that never returns NULL. */
static char *oci_strdup(const char *s) {
  char *copy = strdup(s != NULL ? s : "");
  if (copy == NULL)
    oci_die("out of memory");
  return copy;
}

oconfig_value_t oci_vstr(const char *value) {
  oconfig_value_t v = {.type = OCONFIG_TYPE_STRING};
  v.value.string = oci_strdup(value);
  return v;
}

oconfig_value_t oci_vnum(double value) {
  oconfig_value_t v = {.type = OCONFIG_TYPE_NUMBER};
  v.value.number = value;
  return v;
}

oconfig_value_t oci_vbool(bool value) {
  oconfig_value_t v = {.type = OCONFIG_TYPE_BOOLEAN};
  v.value.boolean = value ? 1 : 0;
  return v;
}

/* Appends an empty item named key to parent's children and returns it.
 * The children array is allocated once with OCI_MAX_CHILDREN slots so that
 * earlier children never move. */
static oconfig_item_t *oci_append(oconfig_item_t *parent, const char *key) {
  if (parent == NULL)
    oci_die("NULL parent");
  if (parent->children == NULL)
    parent->children = oci_alloc(OCI_MAX_CHILDREN, sizeof(oconfig_item_t));
  if (parent->children_num >= OCI_MAX_CHILDREN)
    oci_die("too many children (raise OCI_MAX_CHILDREN)");
  oconfig_item_t *item = &parent->children[parent->children_num++];
  memset(item, 0, sizeof(*item));
  item->key = oci_strdup(key);
  item->parent = parent;
  return item;
}

/* Gives item the n values of the array (copied by value; strings in them
 * now belong to item). */
static void oci_set_values(oconfig_item_t *item, int n,
                           const oconfig_value_t *values) {
  if (n <= 0)
    return;
  item->values = oci_alloc((size_t)n, sizeof(oconfig_value_t));
  memcpy(item->values, values, (size_t)n * sizeof(oconfig_value_t));
  item->values_num = n;
}

oconfig_item_t *oci_block(const char *key, const char *label) {
  oconfig_item_t *root = oci_alloc(1, sizeof(*root));
  root->key = oci_strdup(key);
  if (label != NULL) {
    oconfig_value_t v = oci_vstr(label);
    oci_set_values(root, 1, &v);
  }
  return root;
}

oconfig_item_t *oci_add_block(oconfig_item_t *parent, const char *key,
                              const char *label) {
  oconfig_item_t *item = oci_append(parent, key);
  if (label != NULL) {
    oconfig_value_t v = oci_vstr(label);
    oci_set_values(item, 1, &v);
  }
  return item;
}

oconfig_item_t *oci_add_str(oconfig_item_t *parent, const char *key,
                            const char *value) {
  oconfig_item_t *item = oci_append(parent, key);
  oconfig_value_t v = oci_vstr(value);
  oci_set_values(item, 1, &v);
  return item;
}

oconfig_item_t *oci_add_num(oconfig_item_t *parent, const char *key,
                            double value) {
  oconfig_item_t *item = oci_append(parent, key);
  oconfig_value_t v = oci_vnum(value);
  oci_set_values(item, 1, &v);
  return item;
}

oconfig_item_t *oci_add_bool(oconfig_item_t *parent, const char *key,
                             bool value) {
  oconfig_item_t *item = oci_append(parent, key);
  oconfig_value_t v = oci_vbool(value);
  oci_set_values(item, 1, &v);
  return item;
}

oconfig_item_t *oci_add_raw(oconfig_item_t *parent, const char *key,
                            int n_values, ...) {
  oconfig_item_t *item = oci_append(parent, key);
  if (n_values <= 0)
    return item;
  oconfig_value_t *values = oci_alloc((size_t)n_values, sizeof(*values));
  va_list ap;
  va_start(ap, n_values);
  for (int i = 0; i < n_values; i++)
    values[i] = va_arg(ap, oconfig_value_t);
  va_end(ap);
  oci_set_values(item, n_values, values);
  free(values);
  return item;
}

/* Frees what an item owns (key, values, children), not the item itself. */
static void oci_free_contents(oconfig_item_t *item) {
  for (int i = 0; i < item->values_num; i++)
    if (item->values[i].type == OCONFIG_TYPE_STRING)
      free(item->values[i].value.string);
  free(item->values);
  for (int i = 0; i < item->children_num; i++)
    oci_free_contents(&item->children[i]);
  free(item->children);
  free(item->key);
}

void oci_free(oconfig_item_t *root) {
  if (root == NULL)
    return;
  oci_free_contents(root);
  free(root);
}

/* oconfig_builder.h - builds oconfig_item_t trees for the config tests.
 *
 * collectd parses its configuration in the daemon; outside it there is no
 * parser library, so tests build the trees the parser would produce:
 *
 *   oconfig_item_t *root = oci_block("Plugin", "hss_imgstats");
 *   oconfig_item_t *acc = oci_add_block(root, "Account", "prod");
 *   oci_add_str(acc, "Region", "cn-north-4");
 *   oconfig_item_t *prj = oci_add_block(acc, "Project", "web");
 *   oci_add_str(prj, "ProjectId", "0123");
 *   oci_add_num(prj, "Interval", 60);
 *   ... hss_config_parse(root, 10.0, &cfg) ...
 *   oci_free(root);
 *
 * The tree owns copies of every string. A node holds at most
 * OCI_MAX_CHILDREN children, allocated at once, so the pointers returned
 * stay valid while siblings are added (and until oci_free()). Exceeding the
 * limit or running out of memory aborts: these are test-only helpers. */
#ifndef HSS_OCONFIG_BUILDER_H
#define HSS_OCONFIG_BUILDER_H

#include <stdbool.h>

#include "liboconfig/oconfig.h"

#define OCI_MAX_CHILDREN 64

/* A root block <key "label">; label NULL gives a block without value. */
oconfig_item_t *oci_block(const char *key, const char *label);

/* A child block <key "label"> of parent; label NULL: no value. */
oconfig_item_t *oci_add_block(oconfig_item_t *parent, const char *key,
                              const char *label);

/* key "value" */
oconfig_item_t *oci_add_str(oconfig_item_t *parent, const char *key,
                            const char *value);

/* key 1.5 */
oconfig_item_t *oci_add_num(oconfig_item_t *parent, const char *key,
                            double value);

/* key true|false */
oconfig_item_t *oci_add_bool(oconfig_item_t *parent, const char *key,
                             bool value);

/* Values for oci_add_raw(). oci_vstr() copies the string; the copy is owned
 * by the item the value is passed to. */
oconfig_value_t oci_vstr(const char *value);
oconfig_value_t oci_vnum(double value);
oconfig_value_t oci_vbool(bool value);

/* key with n_values values of any types, given as oconfig_value_t
 * arguments, e.g. oci_add_raw(acc, "Timeout", 2, oci_vnum(1), oci_vstr("x"))
 * or oci_add_raw(acc, "Region", 0) for an option without value. The result
 * may receive children, for blocks with odd labels. */
oconfig_item_t *oci_add_raw(oconfig_item_t *parent, const char *key,
                            int n_values, ...);

/* Frees a tree made by oci_block() (the root and everything below). */
void oci_free(oconfig_item_t *root);

#endif

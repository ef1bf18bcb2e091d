/* metrics.c - the table of the 17 statistics of
 * GET /v5/{project_id}/image/pay-per-scan/statistics.
 *
 * The API's own wire name of the repository count is "registriy" (sic); the
 * corrected spelling "registry" is accepted as well, and the collectd name
 * always uses "registry". */
#include "metrics.h"

const hss_metric_t hss_metrics[HSS_METRIC_COUNT] = {
    /* field, subfield, alt_subfield, kind, type, type_instance */
    {"repository_scan_num", NULL, NULL, HSS_KIND_COUNT, "count",
     "repository_scan_num"},
    {"cicd_scan_num", NULL, NULL, HSS_KIND_COUNT, "count", "cicd_scan_num"},
    {"free_quota_num", NULL, NULL, HSS_KIND_COUNT, "count", "free_quota_num"},
    {"already_given", NULL, NULL, HSS_KIND_BOOL, "bool", "already_given"},
    {"image_free_quota", NULL, NULL, HSS_KIND_COUNT, "count",
     "image_free_quota"},
    {"high_risk", "local", NULL, HSS_KIND_COUNT, "count", "high_risk-local"},
    {"high_risk", "registriy", "registry", HSS_KIND_COUNT, "count",
     "high_risk-registry"},
    {"high_risk", "cicd", NULL, HSS_KIND_COUNT, "count", "high_risk-cicd"},
    {"has_risk", "local", NULL, HSS_KIND_COUNT, "count", "has_risk-local"},
    {"has_risk", "registriy", "registry", HSS_KIND_COUNT, "count",
     "has_risk-registry"},
    {"has_risk", "cicd", NULL, HSS_KIND_COUNT, "count", "has_risk-cicd"},
    {"total", "local", NULL, HSS_KIND_COUNT, "count", "total-local"},
    {"total", "registriy", "registry", HSS_KIND_COUNT, "count",
     "total-registry"},
    {"total", "cicd", NULL, HSS_KIND_COUNT, "count", "total-cicd"},
    {"unscan", "local", NULL, HSS_KIND_COUNT, "count", "unscan-local"},
    {"unscan", "registriy", "registry", HSS_KIND_COUNT, "count",
     "unscan-registry"},
    {"unscan", "cicd", NULL, HSS_KIND_COUNT, "count", "unscan-cicd"},
};

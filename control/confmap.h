/*
 * control/confmap.h: the configuration (conf/config.h) as control's parts
 * take it: the iterator's settings, the validator's limits and the
 * identity of validation, the trust anchors read, the stub and forward
 * zones as configured cuts. At start (main.c) and at every reload (reload.c), on the
 * loop's thread.
 */
#ifndef BW_CONTROL_CONFMAP_H
#define BW_CONTROL_CONFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "control/anchor.h"
#include "control/deleg.h"
#include "control/iter.h"
#include "control/val.h"

/* The identity of no trust anchors (validation off). */
#define ANCHORS_NONE 0x656e6f6e /* "none" */

/* The iterator's settings of c (its own addresses among them: a wildcard
 * listen address stands for every address of the host). */
void ctl_iter_config_of(const struct cfg *c, struct ctl_iter_config *ic);

/* The validator's limits of c (resolver.dnssec, nsec3-max-iterations). */
void ctl_val_limits_of(const struct cfg *c, struct ctl_val_limits *lim);

/*
 * The identity of validation: the trust anchors' (ctl_anchors_id()) with
 * the settings that decide a verdict (resolver.validation-time, and
 * resolver.dnssec's skew, rsasha1 and work limits). A change of any
 * changes what secure means: both caches let go of what was validated
 * before, as for new anchors. Never ANCHORS_NONE nor 0.
 */
uint64_t ctl_validation_id(uint64_t anchors, const struct cfg *c);

/* The trust anchors of the file at path into *out (heap; the caller
 * frees), and the identity of validation with them under c's settings
 * (ctl_validation_id()); 0, or -1 with err. */
int ctl_anchors_read(const char *path, const struct cfg *c, struct ctl_anchors **out,
		     uint64_t *id, char *err, size_t errlen);

/* Whether ic's do-not-query rules leave some address of the root hints to
 * ask (checked at start and before a reload changes anything). */
bool ctl_hints_usable(const struct ctl_referral *h, const struct ctl_iter_config *ic);

/*
 * The stub and forward zones of c as configured cuts in the delegation
 * table t (deleg.h; NULL: checked only). A zone whose every server ic's
 * rules exclude is an error written to why (nothing changes). 0, or -1.
 */
int ctl_routed_zones(struct ctl_deleg_table *t, const struct cfg *c,
		     const struct ctl_iter_config *ic, char *why, size_t whylen);

#endif

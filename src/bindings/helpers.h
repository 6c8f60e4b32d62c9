/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prototypes of fou_rs's hand-written C: one line per kernel macro that
 * bindgen cannot see, and the C side of the layout check (sizes and offsets
 * as GCC computes them, compared in KUnit with what bindgen generated).
 */
#ifndef FOU_RS_HELPERS_H
#define FOU_RS_HELPERS_H

#include <linux/types.h>

/* One entry of the layout table: a C size or offset, named. */
struct fou_rs_layout {
	const char *name;
	size_t value;
};

/* The table, ending with a NULL name. */
extern const struct fou_rs_layout fou_rs_c_layout[];

#endif

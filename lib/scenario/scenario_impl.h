/* scenario_impl.h - declarations shared by the files of lib/scenario only. */
#pragma once

#include "scenario.h"

/** A position inside a string scalar: `n` moved right by `off` bytes of its value when the
 * scalar is written on one line of the source (plain, or quoted without escapes before `off`),
 * so carets land on the offending character; otherwise `n`'s own position. */
void ct__scen_locate(const struct ct_node *n, size_t off, struct ct_node *out);

/*
 * params - the parameter registry (internal to src/config).
 *
 * Two tables declare parameters: params_postfix.c (generated from Postfix's
 * `postconf -d`, every name Postfix knows) and params_outpost.c (Outpost's
 * own parameters and the defaults Outpost changes). An entry of the Outpost
 * table wins over the Postfix entry of the same name.
 */
#ifndef OUTPOST_CONFIG_PARAMS_H
#define OUTPOST_CONFIG_PARAMS_H

#include <stddef.h>

#include "config/config.h"

extern const struct param_def params_postfix[];
extern const size_t params_postfix_count;
extern const struct param_def params_outpost[];
extern const size_t params_outpost_count;

#endif

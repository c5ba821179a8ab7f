/*
 * value - typed parameter values: yes/no, numbers, times with units
 * (internal to src/config; the public getters are in config.h).
 */
#ifndef OUTPOST_CONFIG_VALUE_H
#define OUTPOST_CONFIG_VALUE_H

#include <stdbool.h>

#include "config/config.h"
#include "lib/buf.h"

int value_bool(const char *s, bool *out);
int value_long(const char *s, long *out);
int value_time(const char *s, char unit, long *secs);
int value_check(const struct param_def *p, const char *value, struct buf *why);

#endif

/*
 * derived - defaults Postfix computes from the machine (internal).
 */
#ifndef OUTPOST_CONFIG_DERIVED_H
#define OUTPOST_CONFIG_DERIVED_H

#include "lib/buf.h"

char *derived_hostname(void);
char *derived_myhostname(const char *host, const char *mydomain);
char *derived_mydomain(const char *myhostname);
int derived_mynetworks(const char *style, struct buf *out, struct buf *err);

#endif

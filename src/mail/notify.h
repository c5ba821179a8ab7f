/*
 * notify - notify_classes: which troubles the postmaster hears about, and
 * where each kind of notice goes (Postfix's classes and recipients).
 */
#ifndef OUTPOST_MAIL_NOTIFY_H
#define OUTPOST_MAIL_NOTIFY_H

#include "config/config.h"
#include "lib/buf.h"

#define NOTIFY_BOUNCE	(1u << 0)	/* copies of bounces; SMTP rejects of mail */
#define NOTIFY_2BOUNCE	(1u << 1)	/* bounces that could not be delivered */
#define NOTIFY_DELAY	(1u << 2)	/* copies of delay warnings */
#define NOTIFY_POLICY	(1u << 3)	/* SMTP sessions with policy rejects */
#define NOTIFY_PROTOCOL	(1u << 4)	/* SMTP sessions with protocol errors */
#define NOTIFY_RESOURCE	(1u << 5)	/* mail refused for lack of resources */
#define NOTIFY_SOFTWARE	(1u << 6)	/* mail refused for software trouble */
#define NOTIFY_DATA	(1u << 7)	/* trouble with critical data files */

/* notify_classes - the notify_classes of cf as bits; -1 with err naming
 * an unknown class. "bounce" implies "2bounce", as in Postfix. */
int notify_classes(struct config *cf, unsigned *mask, struct buf *err);
/* notify_recipient - the *_notice_recipient for a class bit */
const char *notify_recipient(struct config *cf, unsigned class_bit);

#endif

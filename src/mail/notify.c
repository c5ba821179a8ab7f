/*
 * notify - the notify_classes parameter and the notice recipients. Shared
 * by the queue manager (postmaster copies of bounces and delay warnings,
 * double bounces) and smtpd (session transcripts).
 *
 * Public: notify_classes, notify_recipient.
 * Bad input: an unknown class name is an error naming it and the valid
 * ones; the caller refuses to start.
 */
#include "mail/notify.h"

#include <strings.h>

#include "lib/str.h"

static const struct {
	const char *name;
	unsigned bit;
	const char *recipient;	/* its *_notice_recipient parameter */
} classes[] = {
	{ "bounce", NOTIFY_BOUNCE, "bounce_notice_recipient" },
	{ "2bounce", NOTIFY_2BOUNCE, "2bounce_notice_recipient" },
	{ "delay", NOTIFY_DELAY, "delay_notice_recipient" },
	{ "policy", NOTIFY_POLICY, "error_notice_recipient" },
	{ "protocol", NOTIFY_PROTOCOL, "error_notice_recipient" },
	{ "resource", NOTIFY_RESOURCE, "error_notice_recipient" },
	{ "software", NOTIFY_SOFTWARE, "error_notice_recipient" },
	{ "data", NOTIFY_DATA, "error_notice_recipient" },
};

#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/* notify_classes - parse the list; unknown names are errors */
int notify_classes(struct config *cf, unsigned *mask, struct buf *err)
{
	struct strv v = STRV_INIT;
	int rc = 0;

	*mask = 0;
	config_list(cf, "notify_classes", &v);
	for (size_t i = 0; i < v.n && rc == 0; i++) {
		size_t k;

		for (k = 0; k < NCLASSES && strcasecmp(v.v[i], classes[k].name) != 0; k++)
			;
		if (k == NCLASSES) {
			buf_printf(err, "notify_classes: unknown class \"%s\" (bounce, 2bounce, "
					"delay, policy, protocol, resource, software, data)", v.v[i]);
			rc = -1;
		} else
			*mask |= classes[k].bit;
	}
	if (*mask & NOTIFY_BOUNCE)
		*mask |= NOTIFY_2BOUNCE;
	strv_free(&v);
	return rc;
}

/* notify_recipient - where a notice of this class goes */
const char *notify_recipient(struct config *cf, unsigned class_bit)
{
	for (size_t k = 0; k < NCLASSES; k++)
		if (classes[k].bit == class_bit)
			return config_str(cf, classes[k].recipient);
	return config_str(cf, "error_notice_recipient");
}

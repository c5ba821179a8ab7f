/*
 * smtpd_check_dns - DNS-based restrictions (placeholder until the c-ares
 * client lands: every DNS restriction answers 451 4.3.5 so that nothing is
 * permitted by accident).
 *
 * Public (smtpd_check_impl.h): chk_dns_new, chk_dns_free, chk_dns.
 */
#include "lib/mem.h"
#include "smtpd/smtpd_check_impl.h"

struct chk_dns {
	int unused;
};

struct chk_dns *chk_dns_new(struct smtpd_checks *c, struct buf *err)
{
	(void)c;
	(void)err;
	return xcalloc(1, sizeof(struct chk_dns));
}

void chk_dns_free(struct chk_dns **dp)
{
	xfree(dp);
}

enum chk_status chk_dns(struct smtpd_check_run *r, const struct chk_item *it)
{
	(void)it;
	return chk_tempfail(r, "DNS restrictions are not available yet");
}

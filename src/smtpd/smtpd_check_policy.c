/*
 * smtpd_check_policy - check_policy_service (placeholder until the policy
 * client lands: configuring it is an error, so nothing is silently skipped).
 *
 * Public (smtpd_check_impl.h): chk_policy_new, chk_policy_free, chk_policy.
 */
#include "lib/mem.h"
#include "smtpd/smtpd_check_impl.h"

struct chk_policy *chk_policy_new(struct smtpd_checks *c, const char *arg,
				  struct buf *err)
{
	(void)c;
	(void)arg;
	buf_puts(err, "check_policy_service is not available yet");
	return NULL;
}

void chk_policy_free(struct chk_policy **pp)
{
	*pp = NULL;
}

enum chk_status chk_policy(struct smtpd_check_run *r, const struct chk_item *it)
{
	(void)it;
	return chk_tempfail(r, "check_policy_service is not available yet");
}

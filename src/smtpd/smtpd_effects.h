/*
 * smtpd_effects - carry access(5) side effects from verdicts to cleanup.
 */
#ifndef OUTPOST_SMTPD_SMTPD_EFFECTS_H
#define OUTPOST_SMTPD_SMTPD_EFFECTS_H

#include "smtpd/smtpd.h"

void smtpd_effects_take(struct smtpd_session *s, const struct smtpd_verdict *v);
void smtpd_effects_flush(struct smtpd_session *s);
void smtpd_effects_clear(struct smtpd_session *s);

#endif

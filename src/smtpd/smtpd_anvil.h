/*
 * smtpd_anvil - per-client connection counts and event rates, in process.
 *
 * Postfix keeps these in a separate anvil(8) server shared by all smtpd
 * processes; Outpost keeps them inside each smtpd process. With one smtpd
 * process per service (the default) that is the same thing; with several,
 * each limit applies per process. Rates are counted over fixed windows of
 * anvil_rate_time_unit seconds.
 */
#ifndef OUTPOST_SMTPD_SMTPD_ANVIL_H
#define OUTPOST_SMTPD_SMTPD_ANVIL_H

#include <time.h>

enum anvil_event { ANVIL_CONN, ANVIL_MAIL, ANVIL_RCPT, ANVIL_AUTH, ANVIL_AUTHFAIL, ANVIL_NEVENTS };

struct smtpd_anvil;

struct smtpd_anvil *smtpd_anvil_new(long rate_unit);
void smtpd_anvil_free(struct smtpd_anvil **ap);
unsigned smtpd_anvil_connect(struct smtpd_anvil *a, const char *addr, time_t now,
			     unsigned *rate);
void smtpd_anvil_disconnect(struct smtpd_anvil *a, const char *addr, time_t now);
unsigned smtpd_anvil_event(struct smtpd_anvil *a, const char *addr, enum anvil_event ev,
			   time_t now);
size_t smtpd_anvil_size(const struct smtpd_anvil *a);

#endif

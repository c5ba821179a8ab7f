/*
 * smtpd_service - the entry point the master forks for an "smtpd" service
 * of master.cf: it receives the service's configuration (main.cf through
 * its -o overrides) and the already bound listening sockets, and runs the
 * event loop until SIGTERM.
 */
#ifndef OUTPOST_SMTPD_SMTPD_SERVICE_H
#define OUTPOST_SMTPD_SMTPD_SERVICE_H

#include <stddef.h>

#include "config/config.h"

int smtpd_service_main(struct config *cf, const struct master_service *svc, const int *fds,
		       size_t nfds);

#endif

/*
 * queue_services - the queue's long-running services as the master starts
 * them (services.c): qmgr with the delivery agents this program links in,
 * and pickup, which feeds maildrop/ (sendmail) through cleanup.
 */
#ifndef OUTPOST_CLI_QUEUE_SERVICES_H
#define OUTPOST_CLI_QUEUE_SERVICES_H

#include <stddef.h>

#include "config/config.h"

int cli_qmgr_main(struct config *cf, const struct master_service *svc, const int *fds,
		  size_t nfds);
int cli_pickup_main(struct config *cf, const struct master_service *svc, const int *fds,
		    size_t nfds);

#endif

/*
 * queue_services - the queue's long-running services as the master starts
 * them (services.c): qmgr with the delivery agents this program links in
 * (and cleanup for the mail they forward), and pickup, which feeds
 * maildrop/ (sendmail) through cleanup.
 */
#ifndef OUTPOST_CLI_QUEUE_SERVICES_H
#define OUTPOST_CLI_QUEUE_SERVICES_H

#include <stddef.h>

#include "config/config.h"
#include "deliver/deliver.h"

int cli_qmgr_main(struct config *cf, const struct master_service *svc, const int *fds,
		  size_t nfds);
int cli_pickup_main(struct config *cf, const struct master_service *svc, const int *fds,
		    size_t nfds);
/* resubmit.c: mail the local agent forwards, through cleanup (deliver_set_resubmit) */
int cli_resubmit(struct config *cf, const struct deliver_resubmit *m, struct buf *queue_id,
		 struct buf *err);

#endif

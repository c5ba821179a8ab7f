/*
 * qmgr_service - the qmgr service as the master runs it: hands the
 * delivery agents of src/deliver to the queue manager (which cannot include
 * deliver headers itself: they are siblings), and the agents the way into
 * cleanup for mail they forward, then runs it.
 *
 * Public: cli_qmgr_main.
 */
#include "cli/queue_services.h"

#include "deliver/deliver.h"
#include "queue/qmgr.h"

/* cli_qmgr_main - register agents, run until SIGTERM */
int cli_qmgr_main(struct config *cf, const struct master_service *svc, const int *fds,
		  size_t nfds)
{
	qmgr_register_agents(deliver_agents, (size_t)-1);
	deliver_set_resubmit(cli_resubmit);
	return qmgr_service_main(cf, svc, fds, nfds);
}

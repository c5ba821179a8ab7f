/*
 * resubmit - how mail forwarded by the local delivery agent (aliases,
 * .forward, :include:) reaches cleanup: the agent cannot call cleanup
 * itself (both are modules of the same layer), so the programs that run
 * agents register this function with deliver_set_resubmit().
 *
 * The forwarded copy is handed to cleanup as Postfix's local(8) hands it:
 * a local, internal submission, so cleanup rewrites its envelope and
 * headers (canonical, virtual aliases, masquerading) and writes a
 * "Received: by HOST (Outpost) id …" header, but header/body checks and
 * the "from userid" of sendmail submissions do not apply. Cleanup is set
 * up for the one message and released after it (no event loop: the agent
 * waits until the new queue file is durable), then qmgr is told.
 *
 * Public: cli_resubmit.
 * Errors: cleanup's reply ("451 4.3.0 …", "554 5.4.0 Error: too many
 * hops") comes back in err; the agent defers the recipient with it.
 */
#include "cli/queue_services.h"

#include <string.h>

#include "cleanup/cleanup.h"
#include "deliver/deliver.h"
#include "mail/qfile.h"

/* cli_resubmit - one forwarded message through cleanup */
int cli_resubmit(struct config *cf, const struct deliver_resubmit *m, struct buf *queue_id,
		 struct buf *err)
{
	struct cleanup_client cl = { .proto = "local", .name = "localhost", .internal = true };
	struct cleanup *c;
	int rc = -1;

	if (cleanup_init(NULL, cf, err) < 0)
		return -1;
	if ((c = cleanup_open(cf, &cl, err)) == NULL)
		goto done;
	cleanup_sender(c, m->sender, m->ret, m->envid, (long)m->content->len, m->smtputf8);
	cleanup_body_8bit(c, m->body_8bit);
	for (size_t i = 0; i < m->rcpt->n; i++)
		cleanup_recipient_orig(c, m->rcpt->v[i], m->orcpt, m->notify, m->original);
	if (cleanup_text(c, m->prepend, strlen(m->prepend)) < 0 ||
	    cleanup_text(c, m->content->data ? m->content->data : "", m->content->len) < 0) {
		cleanup_abort(&c);
		buf_set(err, CLEANUP_R_WRITE);
		goto done;
	}
	rc = cleanup_finish_sync(c, queue_id, err);
	if (rc == 0)
		(void)qfile_wakeup(config_str(cf, "queue_directory"), "W");
done:
	cleanup_shutdown();
	return rc;
}

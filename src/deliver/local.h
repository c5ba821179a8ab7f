/*
 * local - the local(8) agent's pieces (local.c: recipients, aliases,
 * .forward, mailboxes; local_exec.c: commands).
 */
#ifndef OUTPOST_DELIVER_LOCAL_H
#define OUTPOST_DELIVER_LOCAL_H

#include "deliver/deliver.h"
#include "lib/buf.h"

void local_run_command(const char *shell, const char *cmd, char *const envp[],
		       const char *dir, const struct buf *input, long time_limit,
		       struct deliver_outcome *o);

#endif

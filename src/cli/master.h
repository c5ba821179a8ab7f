/*
 * master - the supervisor behind `outpost start`: binds the listeners of
 * master.cf, forks one child per service that Outpost implements, restarts
 * children that die, re-reads the configuration on SIGHUP, and stops
 * everything on SIGTERM/SIGINT.
 *
 * Services are found by their master.cf command in service_impls[]
 * (services.c), one line per command:
 *
 *	{ "smtpd", smtpd_service_main },
 *	{ "qmgr", qmgr_service_main, SERVICE_LISTEN_FIFO },
 *
 * A service's run() gets the service's own configuration (main.cf through
 * its -o overrides), the master.cf entry, and the listening descriptors
 * (non-blocking): for inet one per address, for unix/pass a stream socket
 * at queue_directory/{private,public}/NAME, for unix-dgram a datagram
 * socket there, for fifo (or SERVICE_LISTEN_FIFO) a FIFO there opened
 * read-write. Its return value is the child's exit status; SIGTERM asks it
 * to finish (the default action, exiting, is fine). A master.cf wakeup
 * time makes the master send "W" to the FIFO (or UNIX socket) that often.
 * Commands master.cf names that have no line here are Postfix-internal
 * services that Outpost does not need as processes; they are noted in the
 * log and skipped.
 */
#ifndef OUTPOST_CLI_MASTER_H
#define OUTPOST_CLI_MASTER_H

#include <stddef.h>

#include "config/config.h"

enum service_listen {
	SERVICE_LISTEN_DEFAULT,	/* as the master.cf type says */
	SERVICE_LISTEN_FIFO,	/* a FIFO at {private,public}/NAME */
	SERVICE_LISTEN_NONE,	/* no listener at all */
};

struct service_impl {
	const char *command;
	int (*run)(struct config *svc_cf, const struct master_service *svc, const int *fds,
		   size_t nfds);
	enum service_listen listen;
};

extern const struct service_impl service_impls[];
const struct service_impl *service_impl_find(const char *command);

/* Listening sockets of one service (master_svc.c). */
struct master_listener {
	int *fds;
	size_t nfds;
	struct strv where;	/* "127.0.0.1:2525", "/var/spool/…/private/x" */
};

int master_listen(struct config *cf, const struct master_service *svc,
		  enum service_listen how, struct master_listener *out, struct buf *err);
void master_listener_close(struct master_listener *l);
int master_make_dirs(struct config *cf, struct buf *err);

/* Bind the listeners of cf's services (master_bind takes cf, also on
 * failure), then supervise (master_run returns the exit status). */
int master_bind(struct config *cf, struct buf *err);
int master_run(const char *config_dir);

/* The pid file of a running master (cmd_master.c). */
char *master_pid_path(struct config *cf);

#endif

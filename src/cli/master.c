/*
 * master - supervise one child process per implemented master.cf service.
 *
 * Signals are received through a signalfd: SIGCHLD reaps children and
 * schedules a restart (backoff from master_restart_delay, doubling up to a
 * minute, reset once a child has lived a minute); SIGHUP re-reads the
 * configuration and, when it loads, restarts the services with it
 * (listeners whose address did not change are kept open, so no connection
 * is refused during a reload); a bad new configuration is logged and the
 * old one kept. SIGTERM and SIGINT stop the children (SIGTERM, then
 * SIGKILL after a grace period) and end the master with status 0.
 * A service with a master.cf wakeup time gets a "W" on its FIFO or UNIX
 * socket that often while it runs (pickup and qmgr rescan their queues).
 *
 * Public: master_run.
 * Bad input: a service that cannot bind at reload is logged and skipped.
 */
#include "cli/master.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "outpost_build.h"

#define MASTER_MAX_BACKOFF 60	/* seconds */
#define MASTER_STABLE_AFTER 60	/* a child alive this long resets its backoff */
#define MASTER_STOP_GRACE 5	/* seconds between SIGTERM and SIGKILL */

struct slot {
	const struct master_service *svc;	/* in the slot set's config */
	const struct service_impl *impl;
	struct master_listener listener;
	pid_t pid;
	time_t started;
	time_t restart_at;	/* 0: not waiting */
	long backoff;
	time_t wake_at;		/* next wakeup trigger (master.cf wakeup) */
};

struct slots {
	struct config *cf;
	struct slot *v;
	size_t n;
};

static sigset_t master_sigs;
static struct slots master_set;	/* bound by master_bind, run by master_run */
static pid_t master_pid;

/* now - monotonic seconds */
static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* drop_privileges - children of unpriv services run as mail_owner */
static void drop_privileges(struct config *cf, const struct master_service *svc)
{
	const char *owner = config_str(cf, "mail_owner");
	struct passwd *pw;

	if (geteuid() != 0 || !svc->unpriv)
		return;
	if ((pw = getpwnam(owner)) == NULL)
		log_fatal("mail_owner %s: no such user", owner);
	if (pw->pw_uid == 0)
		return;
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		log_fatal("cannot run as mail_owner %s: %m", owner);
}

/* child_main - in the forked child: become the service */
static void child_main(struct slots *set, struct slot *s)
{
	struct buf err = BUF_INIT, name = BUF_INIT;
	struct config *scf;
	size_t i;
	int rc;

	for (i = 0; i < set->n; i++) {
		size_t k;

		if (&set->v[i] == s)
			continue;
		for (k = 0; k < set->v[i].listener.nfds; k++)
			close(set->v[i].listener.fds[k]);
	}
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_UNBLOCK, &master_sigs, NULL);
	/* a master that dies without cleaning up (SIGKILL) takes its children along */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master_pid)
		_exit(0);
	if ((scf = config_for_master_service(set->cf, s->svc, &err)) == NULL)
		log_fatal("service %s/%s: %s", s->svc->name, s->svc->type, buf_cstr(&err));
	buf_puts(&name, s->svc->command);
	if (config_apply_logging(scf, buf_cstr(&name), &err) < 0)
		log_warn("%s", buf_cstr(&err));
	drop_privileges(scf, s->svc);
	rc = s->impl->run(scf, config_this_service(scf), s->listener.fds, s->listener.nfds);
	config_free(&scf);
	_exit(rc);
}

/* start_child - fork the service of one slot */
static void start_child(struct slots *set, struct slot *s)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_warn("service %s/%s: fork: %m", s->svc->name, s->svc->type);
		s->restart_at = now() + (s->backoff ? s->backoff : 1);
		return;
	}
	if (pid == 0)
		child_main(set, s);
	s->pid = pid;
	s->started = now();
	s->restart_at = 0;
	log_verbose("service %s/%s: started process %ld", s->svc->name, s->svc->type, (long)pid);
}

/* listen_key - everything a service's listeners depend on */
static char *listen_key(struct config *cf, const struct master_service *svc,
			const struct service_impl *impl)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s|%s|%d|%d|%s|%s|%s", svc->name, svc->type, svc->private_, (int)impl->listen,
		   config_str(cf, "inet_interfaces"), config_str(cf, "inet_protocols"),
		   config_str(cf, "queue_directory"));
	return buf_steal(&b);
}

/*
 * slots_build - bind listeners of every implemented service of cf. On a
 * reload (old != NULL), a listener whose service and address settings are
 * unchanged is taken over still open; the other old listeners are closed
 * before anything new is bound, so an address can move between services.
 */
static int slots_build(struct config *cf, struct slots *old, struct slots *set, struct buf *err)
{
	const struct master_service *svcs;
	size_t i, k, n, keep = 0;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	set->cf = cf;
	svcs = config_services(cf, &n);
	set->v = xcalloc(n + 1, sizeof(*set->v));
	for (i = 0; i < n; i++) {
		const struct service_impl *impl = service_impl_find(svcs[i].command);
		struct slot *s;
		char *key;

		if (impl == NULL) {
			log_verbose("service %s/%s: command %s is not a separate process in Outpost; skipped",
				    svcs[i].name, svcs[i].type, svcs[i].command);
			continue;
		}
		s = &set->v[set->n++];
		s->svc = &svcs[i];
		s->impl = impl;
		s->backoff = config_time(cf, "master_restart_delay");
		key = listen_key(cf, &svcs[i], impl);
		for (k = 0; old && k < old->n; k++) {
			struct slot *o = &old->v[k];
			char *okey;

			if (o->listener.nfds == 0)
				continue;
			okey = listen_key(old->cf, o->svc, o->impl);
			if (strcmp(okey, key) == 0) {
				s->listener = o->listener;
				memset(&o->listener, 0, sizeof(o->listener));
				keep++;
			}
			free(okey);
			if (s->listener.nfds)
				break;
		}
		free(key);
	}
	for (k = 0; old && k < old->n; k++)
		master_listener_close(&old->v[k].listener);
	for (i = 0; i < set->n; i++) {
		struct slot *s = &set->v[i];

		if (s->listener.nfds || s->impl->listen == SERVICE_LISTEN_NONE)
			continue;
		if (master_listen(cf, s->svc, s->impl->listen, &s->listener, err) < 0) {
			memmove(s, s + 1, (set->n - i - 1) * sizeof(*s));
			set->n--;
			i--;
			rc = -1;
		}
	}
	if (old)
		log_verbose("reload: %zu listeners kept open", keep);
	return rc;
}

/* slots_log - what is served where, and what master.cf names that we skip */
static void slots_log(const struct slots *set)
{
	const struct master_service *svcs;
	struct strv skipped = STRV_INIT;
	size_t i, k, n;

	svcs = config_services(set->cf, &n);
	for (i = 0; i < n; i++)
		if (service_impl_find(svcs[i].command) == NULL && !strv_contains(&skipped, svcs[i].command))
			strv_push(&skipped, svcs[i].command);
	if (skipped.n) {
		char *list = strv_join(&skipped, " ");

		log_info("not run as separate processes (built in or not needed): %s", list);
		free(list);
	}
	strv_free(&skipped);

	for (i = 0; i < set->n; i++) {
		const struct slot *s = &set->v[i];

		if (s->listener.nfds == 0)
			log_info("service %s/%s: command %s, no listener", s->svc->name, s->svc->type,
				 s->svc->command);
		for (k = 0; k < s->listener.nfds; k++)
			log_info("service %s/%s: command %s listening on %s", s->svc->name, s->svc->type,
				 s->svc->command, s->listener.where.v[k]);
	}
}

/* slots_free - close listeners, release the set (children must be gone) */
static void slots_free(struct slots *set, int free_config)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		master_listener_close(&set->v[i].listener);
	xfree(&set->v);
	set->n = 0;
	if (free_config)
		config_free(&set->cf);
}

/* reap - collect exited children; schedule restarts unless stopping */
static void reap(struct slots *set, int stopping)
{
	int status;
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < set->n; i++) {
			struct slot *s = &set->v[i];

			if (s->pid != pid)
				continue;
			s->pid = 0;
			if (stopping)
				break;
			if (WIFSIGNALED(status))
				log_warn("process %s pid %ld killed by signal %d", s->svc->command,
					 (long)pid, WTERMSIG(status));
			else
				log_warn("process %s pid %ld exit status %d", s->svc->command, (long)pid,
					 WEXITSTATUS(status));
			if (now() - s->started >= MASTER_STABLE_AFTER)
				s->backoff = config_time(set->cf, "master_restart_delay");
			if (s->backoff < 1)
				s->backoff = 1;
			s->restart_at = now() + s->backoff;
			log_warn("service %s/%s: restarting in %lds", s->svc->name, s->svc->type,
				 s->backoff);
			s->backoff = s->backoff * 2 > MASTER_MAX_BACKOFF ? MASTER_MAX_BACKOFF
									  : s->backoff * 2;
		}
	}
}

/* stop_children - SIGTERM, wait, SIGKILL stragglers */
static void stop_children(struct slots *set)
{
	time_t deadline = now() + MASTER_STOP_GRACE;
	size_t i, alive;

	for (i = 0; i < set->n; i++)
		if (set->v[i].pid > 0)
			kill(set->v[i].pid, SIGTERM);
	for (;;) {
		reap(set, 1);
		for (alive = 0, i = 0; i < set->n; i++)
			alive += set->v[i].pid > 0;
		if (alive == 0)
			return;
		if (now() >= deadline)
			break;
		usleep(50 * 1000);
	}
	for (i = 0; i < set->n; i++)
		if (set->v[i].pid > 0) {
			log_warn("process %s pid %ld did not stop; killing it", set->v[i].svc->command,
				 (long)set->v[i].pid);
			kill(set->v[i].pid, SIGKILL);
			waitpid(set->v[i].pid, NULL, 0);
			set->v[i].pid = 0;
		}
}

/*
 * wake - the master.cf wakeup trigger: one "W" written to the service's
 * FIFO, or sent over a connection to its UNIX socket, as Postfix's master
 * does for pickup and qmgr. A "60?" wakeup (only for services that were
 * used) is not sent: Outpost cannot tell use apart from idleness.
 */
static void wake(struct slot *s)
{
	struct sockaddr_un sun;
	int fd;

	if (s->listener.nfds == 0)
		return;
	if (strcmp(s->svc->type, "fifo") == 0 || s->impl->listen == SERVICE_LISTEN_FIFO) {
		if (write(s->listener.fds[0], "W", 1) < 0 && errno != EAGAIN)
			log_warn("service %s/%s: wakeup: %m", s->svc->name, s->svc->type);
		return;
	}
	if (strcmp(s->svc->type, "unix") != 0 ||
	    strlen(s->listener.where.v[0]) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->listener.where.v[0], strlen(s->listener.where.v[0]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		(void)!write(fd, "W", 1);
	if (fd >= 0)
		close(fd);
}

/* soonest - fold one due time into the poll timeout (ms, -1 = none) */
static int soonest(int next, time_t due, time_t t)
{
	int ms = due > t ? (int)(due - t) * 1000 + 10 : 10;

	return next < 0 || ms < next ? ms : next;
}

/* start_due - start children that are due, send due wakeups; poll timeout */
static int start_due(struct slots *set)
{
	time_t t = now();
	int next = -1;
	size_t i;

	for (i = 0; i < set->n; i++) {
		struct slot *s = &set->v[i];

		if (s->pid <= 0) {
			if (s->restart_at <= t)
				start_child(set, s);
			else
				next = soonest(next, s->restart_at, t);
		}
		if (s->pid <= 0 || s->svc->wakeup <= 0 || s->svc->wakeup_if_used)
			continue;
		if (s->wake_at == 0)
			s->wake_at = t + s->svc->wakeup;
		if (s->wake_at <= t) {
			wake(s);
			s->wake_at = t + s->svc->wakeup;
		}
		next = soonest(next, s->wake_at, t);
	}
	return next;
}

/* reload - re-read the configuration; keep the old one when it is bad */
static void reload(struct slots *set, const char *config_dir)
{
	struct buf err = BUF_INIT;
	struct config *cf = config_load(config_dir, &err);
	struct slots next;
	const char *p;

	if (cf == NULL) {
		for (p = buf_cstr(&err); *p;) {
			size_t n = strcspn(p, "\n");

			log_warn("%.*s", (int)n, p);
			p += n + (p[n] == '\n');
		}
		log_warn("reload: configuration has errors; keeping the running configuration");
		buf_free(&err);
		return;
	}
	stop_children(set);
	if (slots_build(cf, set, &next, &err) < 0)
		log_warn("reload: %s", buf_cstr(&err));
	slots_free(set, 1);
	*set = next;
	if (config_apply_logging(cf, "master", &err) < 0)
		log_warn("%s", buf_cstr(&err));
	log_info("reload -- version %s, configuration %s", OUTPOST_VERSION, config_dir);
	slots_log(set);
	buf_free(&err);
}

/* master_bind - bind every listener before the master detaches; takes cf */
int master_bind(struct config *cf, struct buf *err)
{
	if (slots_build(cf, NULL, &master_set, err) < 0) {
		slots_free(&master_set, 0);
		return -1;
	}
	return 0;
}

/* master_run - the supervisor loop over what master_bind prepared */
int master_run(const char *config_dir)
{
	struct slots *set = &master_set;
	struct pollfd pfd;
	int sfd, stopping = 0;

	master_pid = getpid();
	sigemptyset(&master_sigs);
	sigaddset(&master_sigs, SIGCHLD);
	sigaddset(&master_sigs, SIGHUP);
	sigaddset(&master_sigs, SIGTERM);
	sigaddset(&master_sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &master_sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &master_sigs, SFD_CLOEXEC)) < 0)
		log_fatal("signalfd: %m");
	slots_log(set);
	while (!stopping) {
		struct signalfd_siginfo si;
		int timeout = start_due(set);

		pfd.fd = sfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) <= 0)
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(set, 0);
			break;
		case SIGHUP:
			reload(set, config_dir);
			break;
		default:
			log_info("terminating on signal %u", si.ssi_signo);
			stopping = 1;
			break;
		}
	}
	stop_children(set);
	slots_free(set, 1);
	close(sfd);
	return 0;
}

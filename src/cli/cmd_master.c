/*
 * cmd_master - `outpost start [-f]`, `stop`, `reload`, `status`, each with
 * [-c DIR].
 *
 * start loads and validates the whole configuration (main.cf, master.cf,
 * every service's overrides) and refuses to start on any error, printing
 * each "FILE:LINE: …"; it prints the lints (unknown parameters) as
 * warnings, binds the listeners before it detaches (so "address in use"
 * reaches the terminal), then runs the master in the background (or in
 * the foreground with -f, where Ctrl-C stops it). The master's pid is in
 * master_pid_file (default queue_directory/pid/master.pid), held under an
 * exclusive lock while it runs.
 *
 * Public: cmd_start, cmd_stop, cmd_reload, cmd_status.
 * Bad input: configuration errors and a master already running exit 1;
 * stop/reload/status with no master running say so and exit 1.
 */
#include "cli/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/checks.h"
#include "cli/master.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "outpost_build.h"

/* master_pid_path - where the master's pid is kept */
char *master_pid_path(struct config *cf)
{
	return config_path(cf, config_str(cf, "master_pid_file"));
}

/* parse_dir_opts - "-c DIR" (and "-f" when allowed) */
static int parse_dir_opts(int argc, char **argv, const char *usage, int allow_f, const char **dir,
			  int *fg)
{
	int ch;

	*dir = CONFIG_DEFAULT_DIR;
	while ((ch = getopt(argc, argv, allow_f ? "c:fv" : "c:v")) != -1) {
		switch (ch) {
		case 'c':
			*dir = optarg;
			break;
		case 'f':
			*fg = 1;
			break;
		case 'v':
			log_set_verbose(log_verbose_level() + 1);
			break;
		default:
			fprintf(stderr, "usage: outpost %s\n", usage);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: outpost %s\n", usage);
		return -1;
	}
	return 0;
}

/* load_or_say - the configuration, or NULL after printing every error */
static struct config *load_or_say(const char *dir)
{
	struct buf err = BUF_INIT;
	struct config *cf = config_load(dir, &err);

	if (cf == NULL)
		fprintf(stderr, "%soutpost: fatal: configuration in %s has errors; not started\n",
			buf_cstr(&err), dir);
	buf_free(&err);
	return cf;
}

/* running_pid - pid of a live master from the pid file, or 0 */
static pid_t running_pid(const char *path)
{
	FILE *fp = fopen(path, "r");
	long pid = 0;
	int fd;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld", &pid) != 1)
		pid = 0;
	/* a live master holds the lock; a stale file is not locked */
	fd = fileno(fp);
	if (pid > 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		pid = 0;
	}
	fclose(fp);
	if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		pid = 0;
	return (pid_t)pid;
}

/* write_pid - create, lock and fill the pid file; the fd stays open */
static int write_pid(const char *path)
{
	char text[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		log_warn("cannot create pid file %s: %m", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_warn("pid file %s is locked: another master is running", path);
		close(fd);
		return -1;
	}
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		log_warn("cannot write pid file %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * daemonize - detach from the terminal. The parent exits only once the
 * daemon reports (through *ready_fd) that its pid file is written, so
 * `outpost start && outpost status` never races; exit 1 if it died first.
 */
static int daemonize(int *ready_fd)
{
	int fds[2], fd;
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	*ready_fd = fds[1];
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/*
 * own_queue - started as root, the queue belongs to mail_owner, whom the
 * unprivileged children run as; refuse to start when that user is missing
 * (rather than have every child die on it).
 */
static int own_queue(struct config *cf)
{
	static const char *const subs[] = { "", "/private", "/public" };
	const char *owner = config_str(cf, "mail_owner");
	struct passwd *pw;
	struct buf path = BUF_INIT;
	size_t i;
	int rc = 0;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(owner)) == NULL) {
		fprintf(stderr, "outpost: fatal: mail_owner %s: no such user; create it "
				"(useradd --system %s) or set mail_owner in main.cf\n",
			owner, owner);
		return -1;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]) && rc == 0; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s%s", config_str(cf, "queue_directory"), subs[i]);
		if (chown(buf_cstr(&path), pw->pw_uid, pw->pw_gid) < 0) {
			fprintf(stderr, "outpost: fatal: chown %s to %s: %s\n", buf_cstr(&path), owner,
				strerror(errno));
			rc = -1;
		}
	}
	buf_free(&path);
	return rc;
}

/* start_checks - the lints, printed as warnings; never fatal at start */
static void start_checks(struct config *cf)
{
	log_also_stderr(1);
	checks_run(cf, 1);
}

/* cmd_start - entry point of `outpost start` */
int cmd_start(int argc, char **argv)
{
	struct buf err = BUF_INIT;
	struct config *cf;
	const char *dir;
	char *pidfile;
	int fg = 0, pidfd, rc, ready = -1;
	pid_t pid;

	if (parse_dir_opts(argc, argv, "start [-f] [-v] [-c DIR]", 1, &dir, &fg) < 0)
		return 2;
	if ((cf = load_or_say(dir)) == NULL)
		return 1;
	start_checks(cf);
	if (master_make_dirs(cf, &err) < 0) {
		fprintf(stderr, "outpost: fatal: %s", buf_cstr(&err));
		config_free(&cf);
		return 1;
	}
	if (own_queue(cf) < 0) {
		config_free(&cf);
		return 1;
	}
	pidfile = master_pid_path(cf);
	if ((pid = running_pid(pidfile)) > 0) {
		fprintf(stderr, "outpost: fatal: the mail system is already running (pid %ld)\n",
			(long)pid);
		free(pidfile);
		config_free(&cf);
		return 1;
	}
	if (master_bind(cf, &err) < 0) {
		fprintf(stderr, "%soutpost: fatal: not started\n", buf_cstr(&err));
		free(pidfile);
		return 1;
	}
	if (!fg && daemonize(&ready) < 0) {
		fprintf(stderr, "outpost: fatal: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	if ((pidfd = write_pid(pidfile)) < 0) {
		free(pidfile);
		return 1;
	}
	if (ready >= 0) {
		(void)!write(ready, "", 1);
		close(ready);
	}
	if (config_apply_logging(cf, "master", &err) < 0)
		fprintf(stderr, "outpost: warning: %s", buf_cstr(&err));
	/* in the foreground, warnings reach the terminal unless the log does */
	log_also_stderr(fg && strcmp(config_str(cf, "maillog_file"), "/dev/stdout") != 0);
	log_info("daemon started -- version %s, configuration %s", OUTPOST_VERSION, dir);
	rc = master_run(dir);
	unlink(pidfile);
	close(pidfd);
	free(pidfile);
	buf_free(&err);
	return rc;
}

/* signal_master - find the running master and send it sig */
static int signal_master(int argc, char **argv, const char *usage, int sig, pid_t *pidp,
			 char **pidfile)
{
	struct config *cf;
	const char *dir;
	int fg = 0;

	if (parse_dir_opts(argc, argv, usage, 0, &dir, &fg) < 0)
		return 2;
	/* the pid file must be found even when main.cf is broken now */
	cf = config_load_unchecked(dir);
	*pidfile = master_pid_path(cf);
	config_free(&cf);
	if ((*pidp = running_pid(*pidfile)) == 0) {
		fprintf(stderr, "outpost: the mail system is not running\n");
		return 1;
	}
	if (sig && kill(*pidp, sig) < 0) {
		fprintf(stderr, "outpost: fatal: cannot signal pid %ld: %s\n", (long)*pidp,
			strerror(errno));
		return 1;
	}
	return 0;
}

/* cmd_stop - SIGTERM the master and wait (up to 15s) until it is gone */
int cmd_stop(int argc, char **argv)
{
	char *pidfile = NULL;
	pid_t pid;
	int rc = signal_master(argc, argv, "stop [-c DIR]", SIGTERM, &pid, &pidfile), i;

	if (rc == 0) {
		/* gone when its pid file is no longer locked (a zombie still answers kill 0) */
		for (i = 0; i < 300 && running_pid(pidfile) == pid; i++)
			usleep(50 * 1000);
		if (running_pid(pidfile) == pid) {
			fprintf(stderr, "outpost: warning: master (pid %ld) still running\n", (long)pid);
			rc = 1;
		} else {
			/* let it finish exiting (not forever: a zombie never does) */
			for (i = 0; i < 20 && kill(pid, 0) == 0; i++)
				usleep(50 * 1000);
			fprintf(stderr, "outpost: stopped the mail system (pid %ld)\n", (long)pid);
		}
	}
	free(pidfile);
	return rc;
}

/* cmd_reload - SIGHUP the master */
int cmd_reload(int argc, char **argv)
{
	char *pidfile = NULL;
	pid_t pid;
	int rc = signal_master(argc, argv, "reload [-c DIR]", SIGHUP, &pid, &pidfile);

	if (rc == 0)
		fprintf(stderr, "outpost: refreshing the mail system (pid %ld)\n", (long)pid);
	free(pidfile);
	return rc;
}

/* cmd_status - exit 0 when a master is running */
int cmd_status(int argc, char **argv)
{
	char *pidfile = NULL;
	pid_t pid;
	int rc = signal_master(argc, argv, "status [-c DIR]", 0, &pid, &pidfile);

	if (rc == 0)
		printf("outpost: the mail system is running: PID: %ld\n", (long)pid);
	free(pidfile);
	return rc;
}

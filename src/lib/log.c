/*
 * log - diagnostics to stderr, syslog, a file or stdout.
 *
 * Public: log_init, log_progname, log_set_target, log_also_stderr,
 * log_set_hook, log_set_fatal_status, log_set_verbose, log_verbose_level,
 * log_info, log_verbose, log_warn, log_fatal, log_fatal_status, log_panic,
 * log_vmsg.
 * Bad input: an unopenable log file makes log_set_target return -1 (the
 * caller decides); messages are never lost silently: they fall back to
 * stderr.
 */
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static char log_name[64] = "outpost";
static enum log_target log_target = LOG_TARGET_STDERR;
static FILE *log_file;
static int log_stderr_too;
static log_hook_fn log_hook;
static void *log_hook_ctx;
static int log_fatal_exit = 1;
static int log_verbosity;
static int log_in_progress;

/* log_init - name the program as it appears in every line */
void log_init(const char *progname)
{
	snprintf(log_name, sizeof(log_name), "%s", progname);
}

/* log_progname - the name given to log_init */
const char *log_progname(void)
{
	return log_name;
}

/* log_set_target - choose where lines go; path only for LOG_TARGET_FILE */
int log_set_target(enum log_target target, const char *path)
{
	if (log_file && log_file != stdout)
		fclose(log_file);
	log_file = NULL;
	log_target = target;
	if (target == LOG_TARGET_FILE) {
		log_file = fopen(path, "a");
		if (log_file == NULL) {
			log_target = LOG_TARGET_STDERR;
			return -1;
		}
		setvbuf(log_file, NULL, _IOLBF, 0);
	} else if (target == LOG_TARGET_STDOUT) {
		log_file = stdout;
		setvbuf(stdout, NULL, _IOLBF, 0);
	} else if (target == LOG_TARGET_SYSLOG) {
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
	return 0;
}

/* log_also_stderr - copy warnings and worse to stderr (like postfix -v tools) */
void log_also_stderr(int on)
{
	log_stderr_too = on;
}

/* log_set_hook - observe every message (NULL to remove) */
void log_set_hook(log_hook_fn fn, void *ctx)
{
	log_hook = fn;
	log_hook_ctx = ctx;
}

/* log_set_fatal_status - exit status of log_fatal */
void log_set_fatal_status(int status)
{
	log_fatal_exit = status;
}

/* log_set_verbose - enable log_verbose lines (-v) */
void log_set_verbose(int level)
{
	log_verbosity = level;
}

/* log_verbose_level - the current -v count */
int log_verbose_level(void)
{
	return log_verbosity;
}

static const char *const level_prefix[] = { "", "warning: ", "fatal: ", "panic: " };

/* log_emit - write one finished line to the chosen target */
static void log_emit(enum log_level level, const char *text)
{
	static const int prio[] = { LOG_INFO, LOG_WARNING, LOG_CRIT, LOG_CRIT };
	static char host[256];	/* asked once: a system call per line adds up */
	char stamp[32];
	struct tm tm;
	time_t now;

	switch (log_target) {
	case LOG_TARGET_SYSLOG:
		syslog(prio[level], "%s%s", level_prefix[level], text);
		break;
	case LOG_TARGET_FILE:
	case LOG_TARGET_STDOUT:
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		if (host[0] == '\0') {
			if (gethostname(host, sizeof(host)) != 0)
				snprintf(host, sizeof(host), "localhost");
			host[sizeof(host) - 1] = '\0';
		}
		fprintf(log_file, "%s %s %s[%ld]: %s%s\n", stamp, host, log_name,
			(long)getpid(), level_prefix[level], text);
		break;
	case LOG_TARGET_STDERR:
		fprintf(stderr, "%s: %s%s\n", log_name, level_prefix[level], text);
		return;
	}
	if (log_stderr_too && level != LOG_LEVEL_INFO)
		fprintf(stderr, "%s: %s%s\n", log_name, level_prefix[level], text);
}

/* log_vmsg - format and emit one message; errno is preserved for callers */
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	int saved = errno;
	char *text = NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	/* messages quote peers' data: no CR or escape sequence reaches a log (Postfix's printable()) */
	for (unsigned char *p = (unsigned char *)text; p && *p; p++)
		if ((*p < ' ' && *p != '\t' && *p != '\n') || *p == 0x7f)
			*p = '?';
	if (log_hook && !log_in_progress) {
		log_in_progress = 1;
		log_hook(level, text ? text : fmt, log_hook_ctx);
		log_in_progress = 0;
	}
	log_emit(level, text ? text : fmt);
	free(text);
	errno = saved;
}

/* log_info - an event worth recording */
void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

/* log_verbose - detail shown only with -v */
void log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity <= 0)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

/* log_warn - something is wrong but work goes on */
void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

/* log_fatal - bad environment or configuration: say what, then exit */
void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	exit(log_fatal_exit);
}

/* log_fatal_status - log_fatal with an explicit exit status */
void log_fatal_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	exit(status);
}

/* log_panic - a bug: record it and abort for a core dump */
void log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_PANIC, fmt, ap);
	va_end(ap);
	abort();
}

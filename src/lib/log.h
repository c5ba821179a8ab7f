/*
 * log - the one diagnostics API.
 *
 * Levels have fixed meanings: info (events), warn (something is off but we
 * carry on), fatal (bad environment or configuration: exit), panic (a bug:
 * abort). Lines look like Postfix's so that log parsers keep working:
 * "outpost/smtpd[123]: warning: text" in syslog, "outpost: warning: text"
 * on a terminal. printf-style; glibc's %m works for errno.
 */
#ifndef OUTPOST_LIB_LOG_H
#define OUTPOST_LIB_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_FATAL, LOG_LEVEL_PANIC };

enum log_target {
	LOG_TARGET_STDERR,	/* "prog: warning: text" (tools) */
	LOG_TARGET_SYSLOG,	/* syslog(3), facility from syslog_facility */
	LOG_TARGET_FILE,	/* maillog_file, syslog-like lines */
	LOG_TARGET_STDOUT,	/* maillog_file = /dev/stdout, containers */
};

/* A hook sees every message (tests capture warnings with it). */
typedef void (*log_hook_fn)(enum log_level level, const char *text, void *ctx);

void log_init(const char *progname);
const char *log_progname(void);
int log_set_target(enum log_target target, const char *path);
void log_also_stderr(int on);
void log_set_hook(log_hook_fn fn, void *ctx);
void log_set_fatal_status(int status);
void log_set_verbose(int level);
int log_verbose_level(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void log_fatal_status(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void log_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif

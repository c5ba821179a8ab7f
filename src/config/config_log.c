/*
 * config_log - point lib/log at the destination main.cf asks for.
 *
 * Lines are named "$syslog_name/PROCESS" (outpost/smtpd[pid]: …) as in
 * Postfix, so log parsers written for Postfix read them. maillog_file
 * empty: syslog, facility LOG_MAIL; "/dev/stdout": standard output (for
 * containers); any other path: appended to that file.
 *
 * Public: config_apply_logging.
 * Bad input: an unopenable maillog_file returns -1 with the reason in err;
 * logging then stays on stderr.
 */
#include "config/config.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"

/* config_apply_logging - name the process and choose the log target */
int config_apply_logging(struct config *cf, const char *process, struct buf *err)
{
	struct buf name = BUF_INIT;
	const char *file = config_str(cf, "maillog_file");
	int rc = 0;

	buf_puts(&name, config_str(cf, "syslog_name"));
	if (process && *process)
		buf_printf(&name, "/%s", process);
	log_init(buf_cstr(&name));
	buf_free(&name);
	if (*file == '\0')
		rc = log_set_target(LOG_TARGET_SYSLOG, NULL);
	else if (strcmp(file, "/dev/stdout") == 0 || strcmp(file, "-") == 0)
		rc = log_set_target(LOG_TARGET_STDOUT, NULL);
	else if ((rc = log_set_target(LOG_TARGET_FILE, file)) < 0)
		buf_printf(err, "maillog_file %s: cannot open: %s\n", file, strerror(errno));
	return rc;
}

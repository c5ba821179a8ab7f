/*
 * params_outpost - Outpost's own parameters, and Postfix defaults Outpost
 * changes. One line per parameter: name, type, default, min, max (min > max
 * means no bounds), time unit, one-line doc. An entry here wins over the
 * Postfix entry of the same name (params_postfix.c).
 *
 * To add a parameter, append one line to params_outpost[] below; the doc
 * is what `outpost conf` and docs/ show for it.
 *
 * Public: params_outpost[], params_outpost_count.
 */
#include <limits.h>
#include <stddef.h>

#include "outpost_build.h"

#include "config/params.h"

const struct param_def params_outpost[] = {
	/* Changed defaults: where Outpost lives and who it is. */
	{ "compatibility_level", PARAM_STR, "3.6", 1, 0, 0,
	  "behave as a Postfix configured for this compatibility level" },
	{ "config_directory", PARAM_STR, CONFIG_DEFAULT_DIR, 1, 0, 0,
	  "where main.cf and master.cf are read from" },
	{ "queue_directory", PARAM_STR, "/var/spool/outpost", 1, 0, 0,
	  "root of the mail queue; relative paths such as private/auth resolve here" },
	{ "data_directory", PARAM_STR, "/var/lib/outpost", 1, 0, 0,
	  "state files that are not mail (caches, TLS session data)" },
	{ "mail_owner", PARAM_STR, "outpost", 1, 0, 0,
	  "unprivileged account the daemons run as when started by root" },
	{ "mail_name", PARAM_STR, "Outpost", 1, 0, 0,
	  "product name shown in the SMTP greeting and in bounces" },
	{ "mail_version", PARAM_STR, OUTPOST_VERSION, 1, 0, 0,
	  "version of the running software" },
	{ "smtpd_banner", PARAM_STR, "$myhostname ESMTP $mail_name", 1, 0, 0,
	  "text after 220 in the SMTP greeting" },
	{ "syslog_name", PARAM_STR, "${multi_instance_name?{$multi_instance_name}:{outpost}}", 1, 0, 0,
	  "program name prefix of every log line (outpost/smtpd[pid])" },
	{ "smtpd_tls_auth_only", PARAM_BOOL, "yes", 1, 0, 0,
	  "offer and accept AUTH only after STARTTLS (never send passwords in clear)" },
	{ "smtpd_forbid_bare_newline", PARAM_STR, "yes", 1, 0, 0, "refuse a bare LF in commands and content (521 and disconnect): no SMTP smuggling" },
	{ "smtpd_forbid_unauth_pipelining", PARAM_BOOL, "yes", 1, 0, 0, "disconnect clients that send ahead where RFC 2920 forbids it" },
	{ "smtpd_sasl_type", PARAM_STR, "dovecot", 1, 0, 0, "SASL server backend of smtpd: dovecot or internal" },
	{ "smtpd_greet_pause", PARAM_TIME, "0s", 0, 300, 's', "wait this long before the 220 greeting and drop clients that talk first" },
	{ "smtpd_sasl_failure_limit", PARAM_INT, "5", 0, LONG_MAX, 0, "failed AUTH attempts per client and anvil_rate_time_unit before 421 (0 = no limit)" },
	{ "smtpd_sasl_failure_delay", PARAM_TIME, "1s", 0, 60, 's', "pause before each 535 reply to a failed AUTH" },

	/* Outpost's own parameters. */
	{ "dns_servers", PARAM_LIST, "", 1, 0, 0,
	  "name servers (host or host:port) to ask instead of those in /etc/resolv.conf" },
	{ "smtpd_sasl_password_maps", PARAM_LIST, "", 1, 0, 0,
	  "tables of user -> password hash for Outpost's built-in SASL server" },
	{ "account_directory", PARAM_STR, "$config_directory/accounts", 1, 0, 0,
	  "where outpost account/alias/sender keep accounts, aliases and send-as grants" },
	{ "account_backend", PARAM_STR, "files", 1, 0, 0,
	  "store of outpost account/alias/sender: files (texthash tables) or sqlite (one shared database)" },
	{ "master_pid_file", PARAM_STR, "pid/master.pid", 1, 0, 0,
	  "where the running master records its process id (relative to queue_directory)" },
	{ "master_restart_delay", PARAM_TIME, "1s", 0, 3600, 's',
	  "first pause before a crashed service is restarted; doubles on each crash" },
};

const size_t params_outpost_count = sizeof(params_outpost) / sizeof(params_outpost[0]);

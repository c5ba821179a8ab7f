/*
 * smtpd_settings - main.cf (through the service's -o overrides) into the
 * struct smtpd_settings that sessions read without further lookups.
 *
 * Public: smtpd_settings_load, smtpd_settings_free.
 *
 * Bad input: an unsupported value (smtpd_tls_security_level = maybe,
 * smtpd_sasl_type = cyrus, smtpd_forbid_bare_newline = sometimes) is an
 * error naming the parameter; the service refuses to start.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/mem.h"
#include "mail/notify.h"
#include "smtpd/smtpd.h"

/* sasl_options - smtpd_sasl_security_options words we honour */
static void sasl_options(struct config *cf, const char *name, bool *noplain, bool *noanon)
{
	struct strv v = STRV_INIT;
	const char *err;

	*noplain = *noanon = false;
	str_split(config_str(cf, name), STR_SEP_LIST, &v, &err);
	for (size_t i = 0; i < v.n; i++) {
		if (strcasecmp(v.v[i], "noplaintext") == 0)
			*noplain = true;
		else if (strcasecmp(v.v[i], "noanonymous") == 0)
			*noanon = true;
	}
	strv_free(&v);
}

/* tls_level - smtpd_tls_security_level, or the legacy use/enforce pair */
static int tls_level(struct config *cf, enum tls_level *out, struct buf *err)
{
	const char *v = config_str(cf, "smtpd_tls_security_level");

	if (*v == '\0')
		*out = config_bool(cf, "smtpd_enforce_tls") ? TLS_ENCRYPT
		       : config_bool(cf, "smtpd_use_tls") ? TLS_MAY : TLS_NONE;
	else if (strcasecmp(v, "none") == 0)
		*out = TLS_NONE;
	else if (strcasecmp(v, "may") == 0)
		*out = TLS_MAY;
	else if (strcasecmp(v, "encrypt") == 0)
		*out = TLS_ENCRYPT;
	else {
		buf_printf(err, "smtpd_tls_security_level: unsupported value \"%s\" (none, may or encrypt)", v);
		return -1;
	}
	return 0;
}

/* bare_newline - smtpd_forbid_bare_newline: yes/reject refuse, no/normalize accept */
static int bare_newline(struct config *cf, bool *out, struct buf *err)
{
	const char *v = config_str(cf, "smtpd_forbid_bare_newline");

	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "reject") == 0)
		*out = true;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "normalize") == 0)
		*out = false;
	else {
		buf_printf(err, "smtpd_forbid_bare_newline: unsupported value \"%s\" (yes, reject, normalize or no)", v);
		return -1;
	}
	return 0;
}

/* hostname - myhostname, or the system's name if the config has none */
static char *hostname(struct config *cf)
{
	const char *v = config_str(cf, "myhostname");
	char h[256];

	if (*v)
		return xstrdup(v);
	if (gethostname(h, sizeof(h)) != 0)
		return xstrdup("localhost");
	h[sizeof(h) - 1] = '\0';
	return xstrdup(h);
}

/* smtpd_settings_load - read every smtpd parameter once */
int smtpd_settings_load(struct config *cf, struct smtpd_settings *set, struct buf *err)
{
	const char *e;

	memset(set, 0, sizeof(*set));
	set->myhostname = hostname(cf);
	set->banner = xstrdup(config_str(cf, "smtpd_banner"));
	set->line_length_limit = config_int(cf, "line_length_limit");
	if (set->line_length_limit < 512)
		set->line_length_limit = 512;
	set->message_size_limit = config_size(cf, "message_size_limit");
	set->recipient_limit = config_int(cf, "smtpd_recipient_limit");
	set->recipient_overshoot_limit = config_int(cf, "smtpd_recipient_overshoot_limit");
	set->hard_error_limit = config_int(cf, "smtpd_hard_error_limit");
	set->soft_error_limit = config_int(cf, "smtpd_soft_error_limit");
	set->error_sleep_time = config_time(cf, "smtpd_error_sleep_time");
	set->timeout = config_time(cf, "smtpd_timeout");
	if (set->timeout <= 0)
		set->timeout = 300;
	set->junk_command_limit = config_int(cf, "smtpd_junk_command_limit");
	set->forbid_unauth_pipelining = config_bool(cf, "smtpd_forbid_unauth_pipelining");
	set->strict_rfc821 = config_bool(cf, "strict_rfc821_envelopes");
	set->peername_lookup = config_bool(cf, "smtpd_peername_lookup");
	set->disable_vrfy = config_bool(cf, "disable_vrfy_command");
	set->helo_required = config_bool(cf, "smtpd_helo_required");
	set->per_request_deadline = config_bool(cf, "smtpd_per_request_deadline");
	set->min_data_rate = config_int(cf, "smtpd_min_data_rate");
	set->greet_pause = config_time(cf, "smtpd_greet_pause");
	set->conn_count_limit = config_int(cf, "smtpd_client_connection_count_limit");
	set->conn_rate_limit = config_int(cf, "smtpd_client_connection_rate_limit");
	set->msg_rate_limit = config_int(cf, "smtpd_client_message_rate_limit");
	set->rcpt_rate_limit = config_int(cf, "smtpd_client_recipient_rate_limit");
	set->auth_rate_limit = config_int(cf, "smtpd_client_auth_rate_limit");
	set->rate_time_unit = config_time(cf, "anvil_rate_time_unit");
	set->auth_fail_limit = config_int(cf, "smtpd_sasl_failure_limit");
	set->auth_fail_delay = config_time(cf, "smtpd_sasl_failure_delay");
	str_split(config_str(cf, "smtpd_discard_ehlo_keywords"), STR_SEP_LIST, &set->discard_ehlo, &e);
	set->smtputf8 = config_bool(cf, "smtputf8_enable");
	set->strict_smtputf8 = config_bool(cf, "strict_smtputf8");
	set->tls_wrapper = config_bool(cf, "smtpd_tls_wrappermode");
	set->tls_received_header = config_bool(cf, "smtpd_tls_received_header");
	set->tls_ask_ccert = config_bool(cf, "smtpd_tls_ask_ccert");
	set->tls_fingerprint_digest = xstrdup(config_str(cf, "smtpd_tls_fingerprint_digest"));
	set->tls_auth_only = config_bool(cf, "smtpd_tls_auth_only");
	set->sasl_enable = config_bool(cf, "smtpd_sasl_auth_enable");
	set->sasl_type = xstrdup(config_str(cf, "smtpd_sasl_type"));
	set->sasl_path = xstrdup(config_str(cf, "smtpd_sasl_path"));
	set->sasl_service = xstrdup(config_str(cf, "smtpd_sasl_service"));
	if (*set->sasl_service == '\0') {
		free(set->sasl_service);
		set->sasl_service = xstrdup("smtp");
	}
	sasl_options(cf, "smtpd_sasl_security_options", &set->sasl_noplaintext, &set->sasl_noanonymous);
	sasl_options(cf, "smtpd_sasl_tls_security_options", &set->sasl_tls_noplaintext,
		     &set->sasl_tls_noanonymous);
	set->broken_sasl_clients = config_bool(cf, "broken_sasl_auth_clients");
	set->sasl_password_maps = xstrdup(config_str(cf, "smtpd_sasl_password_maps"));
	set->history_flush = config_int(cf, "smtpd_history_flush_threshold");
	if (notify_classes(cf, &set->notify_classes, err) < 0 ||
	    tls_level(cf, &set->tls_level, err) < 0 || bare_newline(cf, &set->forbid_bare_newline, err) < 0)
		return -1;
	if (set->sasl_enable && strcmp(set->sasl_type, "dovecot") != 0 &&
	    strcmp(set->sasl_type, "internal") != 0) {
		buf_printf(err, "smtpd_sasl_type: unsupported value \"%s\" (dovecot or internal)",
			   set->sasl_type);
		return -1;
	}
	return 0;
}

/* smtpd_settings_free - release strings */
void smtpd_settings_free(struct smtpd_settings *set)
{
	free(set->myhostname);
	free(set->banner);
	strv_free(&set->discard_ehlo);
	free(set->tls_fingerprint_digest);
	free(set->sasl_type);
	free(set->sasl_path);
	free(set->sasl_service);
	free(set->sasl_password_maps);
	memset(set, 0, sizeof(*set));
}

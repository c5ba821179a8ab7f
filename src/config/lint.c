/*
 * lint - findings about a configuration that loads but is probably wrong.
 *
 * Unknown parameters: a main.cf or "-o" name that is not registered, not
 * referenced as $name by any value (set or default), not a restriction
 * class, and not a per-transport setting of a master.cf service (such as
 * relay_destination_concurrency_limit) is reported with the closest
 * registered name when one is near ("did you mean …?").
 *
 * Hints: valid settings of the other side, which Postfix silently accepts,
 * such as the client's smtp_tls_cert_file set while the server offers TLS
 * without a certificate.
 *
 * Services: inet services whose port cannot be resolved.
 *
 * Public: config_lint, config_lint_hints, config_lint_services.
 * Bad input: none; findings are appended to out as one line each.
 */
#include "config/config.h"

#include <netdb.h>
#include <string.h>

#include "config/expand.h"
#include "lib/mem.h"

/* Suffixes Postfix accepts after a master.cf transport name. */
static const char *const transport_suffixes[] = {
	"_delivery_slot_cost", "_delivery_slot_discount", "_delivery_slot_loan",
	"_destination_concurrency_failed_cohort_limit", "_destination_concurrency_limit",
	"_destination_concurrency_negative_feedback",
	"_destination_concurrency_positive_feedback", "_destination_rate_delay",
	"_destination_recipient_limit", "_extra_recipient_limit",
	"_initial_destination_concurrency", "_minimum_delivery_slots", "_recipient_limit",
	"_recipient_refill_delay", "_recipient_refill_limit", "_time_limit",
	"_transport_rate_delay", NULL,
};

#define LINT_NAME_MAX 128

/* edit_distance - Damerau-Levenshtein (optimal string alignment) */
static size_t edit_distance(const char *a, const char *b)
{
	size_t rows[3][LINT_NAME_MAX + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	size_t la = strlen(a), lb = strlen(b), i, j, d;

	if (la > LINT_NAME_MAX || lb > LINT_NAME_MAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/* suggest - the registered name closest to name, when close enough */
static const char *suggest(const char *name)
{
	size_t i, n, best = (size_t)-1, limit = strlen(name) / 5 + 1;
	const struct param_def *const *all = params_all(&n);
	const char *hit = NULL;

	if (limit > 3)
		limit = 3;
	if (strlen(name) > 100)
		return NULL;
	for (i = 0; i < n; i++) {
		size_t la = strlen(name), lb = strlen(all[i]->name), d;

		/* the distance is at least the difference in length */
		if ((la > lb ? la - lb : lb - la) > limit)
			continue;
		d = edit_distance(name, all[i]->name);

		if (d < best) {
			best = d;
			hit = all[i]->name;
		}
	}
	return best <= limit ? hit : NULL;
}

/* collect_refs - every $name used by any value this configuration can see */
static void collect_refs(struct config *cf, struct strv *refs)
{
	const struct config_setting *set;
	const struct master_service *svcs;
	size_t i, j, n;
	const struct param_def *const *all = params_all(&n);

	for (i = 0; i < n; i++)
		if (all[i]->def)
			expand_refs(all[i]->def, refs);
	set = config_settings(cf, &n);
	for (i = 0; i < n; i++)
		expand_refs(set[i].value, refs);
	svcs = config_services(cf, &n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < svcs[i].opt_values.n; j++)
			expand_refs(svcs[i].opt_values.v[j], refs);
		for (j = 0; j < svcs[i].args.n; j++)
			expand_refs(svcs[i].args.v[j], refs);
	}
	config_list(cf, "smtpd_restriction_classes", refs);
}

/* transport_param - "<service>_<suffix>" for a master.cf service */
static bool transport_param(struct config *cf, const char *name)
{
	const struct master_service *svcs;
	size_t i, k, n;

	svcs = config_services(cf, &n);
	for (i = 0; i < n; i++) {
		size_t len = strlen(svcs[i].name);

		if (strncmp(name, svcs[i].name, len) != 0)
			continue;
		for (k = 0; transport_suffixes[k]; k++)
			if (strcmp(name + len, transport_suffixes[k]) == 0)
				return true;
	}
	return false;
}

/* unknown - one finding for an unused name */
static void unknown(struct strv *out, const char *file, int line, const char *name,
		    const char *value, const char *svc)
{
	struct buf b = BUF_INIT;
	const char *near = suggest(name);

	buf_printf(&b, "%s, line %d: unused parameter: %s=%s", file, line, name, value);
	if (svc)
		buf_printf(&b, " (service %s)", svc);
	if (near)
		buf_printf(&b, "; did you mean %s?", near);
	strv_push_take(out, buf_steal(&b));
}

/* config_lint - unknown parameters; returns how many */
int config_lint(struct config *cf, struct strv *out)
{
	struct strv refs = STRV_INIT;
	const struct config_setting *set;
	const struct master_service *svcs;
	size_t i, j, n;
	int count = 0;

	collect_refs(cf, &refs);
	set = config_settings(cf, &n);
	for (i = 0; i < n; i++) {
		if (param_lookup(set[i].name) || strv_contains(&refs, set[i].name) ||
		    transport_param(cf, set[i].name))
			continue;
		unknown(out, set[i].file, set[i].line, set[i].name, set[i].value, NULL);
		count++;
	}
	svcs = config_services(cf, &n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < svcs[i].opt_names.n; j++) {
			const char *name = svcs[i].opt_names.v[j];
			struct buf where = BUF_INIT;

			if (param_lookup(name) || strv_contains(&refs, name) ||
			    transport_param(cf, name))
				continue;
			buf_printf(&where, "%s/%s", svcs[i].name, svcs[i].type);
			unknown(out, svcs[i].file, svcs[i].line, name, svcs[i].opt_values.v[j],
				buf_cstr(&where));
			buf_free(&where);
			count++;
		}
	}
	strv_free(&refs);
	return count;
}

/* hint - one "other side" finding, located at name's setting when set */
static void hint(struct config *cf, struct strv *out, const char *name, const char *text)
{
	const struct config_setting *set;
	struct buf b = BUF_INIT;
	size_t i, n;
	int line = 0;
	const char *file = config_main_path(cf);

	set = config_settings(cf, &n);
	for (i = 0; i < n; i++)
		if (strcmp(set[i].name, name) == 0) {
			file = set[i].file;
			line = set[i].line;
		}
	if (line)
		buf_printf(&b, "%s, line %d: %s", file, line, text);
	else
		buf_printf(&b, "%s: %s", file, text);
	strv_push_take(out, buf_steal(&b));
}

/* smtpd_option - does main.cf or any smtpd service's -o set name to one of values? */
static bool smtpd_option(struct config *cf, const char *name, const char *const *values)
{
	const struct master_service *svcs;
	const char *const *v;
	size_t i, j, n;

	for (v = values; *v; v++)
		if (str_eq_case(config_str(cf, name), *v))
			return true;
	svcs = config_services(cf, &n);
	for (i = 0; i < n; i++) {
		if (strcmp(svcs[i].command, "smtpd") != 0)
			continue;
		for (j = 0; j < svcs[i].opt_names.n; j++) {
			if (strcmp(svcs[i].opt_names.v[j], name) != 0)
				continue;
			for (v = values; *v; v++)
				if (str_eq_case(svcs[i].opt_values.v[j], *v))
					return true;
		}
	}
	return false;
}

/* server_tls_on - does main.cf or any smtpd service offer TLS? */
static bool server_tls_on(struct config *cf)
{
	static const char *const levels[] = { "may", "encrypt", NULL };
	static const char *const yes[] = { "yes", NULL };

	if (smtpd_option(cf, "smtpd_tls_security_level", levels) ||
	    smtpd_option(cf, "smtpd_tls_wrappermode", yes))
		return true;
	return *config_str(cf, "smtpd_tls_security_level") == '\0' && config_bool(cf, "smtpd_use_tls");
}

/* config_lint_hints - settings that belong to the other side; returns how many */
int config_lint_hints(struct config *cf, struct strv *out)
{
	static const char *const yes[] = { "yes", NULL };
	bool server_cert = *config_str(cf, "smtpd_tls_cert_file") != '\0' ||
			   *config_str(cf, "smtpd_tls_chain_files") != '\0';
	size_t before = out->n;

	if (server_tls_on(cf) && !server_cert) {
		if (config_is_set(cf, "smtp_tls_cert_file") || config_is_set(cf, "smtp_tls_chain_files"))
			hint(cf, out, config_is_set(cf, "smtp_tls_cert_file") ? "smtp_tls_cert_file"
									     : "smtp_tls_chain_files",
			     "smtp_tls_cert_file is the certificate the client (smtp) presents; the server "
			     "offers TLS but smtpd_tls_cert_file is empty: did you mean smtpd_tls_cert_file?");
		else
			hint(cf, out, "smtpd_tls_security_level",
			     "the server offers TLS (smtpd_tls_security_level) but neither "
			     "smtpd_tls_cert_file nor smtpd_tls_chain_files is set: STARTTLS will fail");
	}
	if (config_is_set(cf, "smtp_tls_key_file") && !config_is_set(cf, "smtpd_tls_key_file") &&
	    server_tls_on(cf))
		hint(cf, out, "smtp_tls_key_file",
		     "smtp_tls_key_file is the client's key; did you mean smtpd_tls_key_file?");
	if (config_bool(cf, "smtp_sasl_auth_enable") &&
	    *config_str(cf, "smtp_sasl_password_maps") == '\0')
		hint(cf, out, "smtp_sasl_auth_enable",
		     "smtp_sasl_auth_enable = yes turns on AUTH for outgoing mail (client), but "
		     "smtp_sasl_password_maps is empty; did you mean smtpd_sasl_auth_enable "
		     "(AUTH for your users)?");
	if (config_is_set(cf, "smtpd_sasl_password_maps") && !smtpd_option(cf, "smtpd_sasl_auth_enable", yes))
		hint(cf, out, "smtpd_sasl_password_maps",
		     "smtpd_sasl_password_maps is set but smtpd_sasl_auth_enable = no: the server "
		     "offers no AUTH (for relaying through another server use smtp_sasl_password_maps)");
	if (config_is_set(cf, "smtpd_tls_wrappermode") && config_bool(cf, "smtpd_tls_wrappermode"))
		hint(cf, out, "smtpd_tls_wrappermode",
		     "smtpd_tls_wrappermode = yes in main.cf makes every smtpd (port 25 too) expect "
		     "TLS at connect; set it with -o on the smtps/submissions service only");
	if (config_is_set(cf, "smtp_tls_security_level") && !config_is_set(cf, "smtpd_tls_security_level") &&
	    strcmp(config_str(cf, "smtp_tls_security_level"), "encrypt") == 0 &&
	    *config_str(cf, "relayhost") == '\0')
		hint(cf, out, "smtp_tls_security_level",
		     "smtp_tls_security_level = encrypt applies to mail you send to every other "
		     "server (many do not offer TLS); did you mean smtpd_tls_security_level?");
	return (int)(out->n - before);
}

/* port_known - a port number, or a name /etc/services knows */
static bool port_known(const char *port)
{
	long n;

	if (str_parse_long(port, &n) == 0)
		return n > 0 && n < 65536;
	return getservbyname(port, "tcp") != NULL;
}

/*
 * config_lint_services - master.cf inet services whose address cannot
 * work: an unknown port name, a port out of range, or an unbalanced
 * IPv6 bracket. Returns how many (`outpost start` would refuse them).
 */
int config_lint_services(struct config *cf, struct strv *out)
{
	const struct master_service *svcs;
	size_t i, n;
	int count = 0;

	svcs = config_services(cf, &n);
	for (i = 0; i < n; i++) {
		const char *name = svcs[i].name, *port = strrchr(name, ':');
		struct buf b = BUF_INIT;

		if (strcmp(svcs[i].type, "inet") != 0)
			continue;
		port = port ? port + 1 : name;
		if (name[0] == '[' && strstr(name, "]:") == NULL)
			buf_printf(&b, "%s, line %d: service %s: expected [address]:port", svcs[i].file,
				   svcs[i].line, name);
		else if (!port_known(port))
			buf_printf(&b, "%s, line %d: service %s: \"%s\" is neither a port number nor a "
				       "service name in /etc/services",
				   svcs[i].file, svcs[i].line, name, port);
		if (b.len) {
			strv_push_take(out, buf_steal(&b));
			count++;
		}
	}
	return count;
}

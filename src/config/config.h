/*
 * config - main.cf and master.cf as every daemon and tool sees them.
 *
 * A struct config holds the parsed main.cf, the parameter registry's
 * defaults and derived values (myhostname, mynetworks, …), and optionally a
 * service's master.cf "-o" overrides layered on top. Values are validated
 * when loaded (type, bounds, expansion loops), so the typed getters below
 * never fail on a loaded configuration: a daemon can call config_time()
 * without error handling. Lookups of names that are not registered return
 * the raw main.cf value (or "" / 0) — later modules register their own.
 *
 * Expansion ($name, ${name}, $(name), ${name?v}, ${name:v},
 * ${name?{v}:{w}}) happens when a value is read, as in Postfix.
 *
 * Errors: config_load() returns NULL and fills err with one line per
 * problem, "FILE:LINE: message", and never half-loads. Warnings (unknown
 * parameter, "did you mean") go through log_warn() with file and line.
 */
#ifndef OUTPOST_CONFIG_CONFIG_H
#define OUTPOST_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

#define CONFIG_DEFAULT_DIR "/etc/outpost"

enum param_type {
	PARAM_STR,	/* free text */
	PARAM_BOOL,	/* yes / no */
	PARAM_INT,	/* decimal integer */
	PARAM_TIME,	/* integer with unit s m h d w (default unit per param) */
	PARAM_SIZE,	/* byte count */
	PARAM_LIST,	/* comma/space separated, "{ … }" groups kept whole */
};

struct param_def {
	const char *name;
	enum param_type type;
	const char *def;	/* default; may reference $other_params */
	long min;		/* bounds for INT/TIME/SIZE; min > max = none */
	long max;
	char unit;		/* TIME: default unit ('s', 'm', 'h', 'd', 'w') */
	const char *doc;	/* one line, our own words */
};

/* One master.cf service line, with its "-o" overrides. */
struct master_service {
	char *name;		/* "smtp", "127.0.0.1:2525", "submission", … */
	char *type;		/* inet, unix, unix-dgram, fifo, pass */
	int private_;		/* y/n as 1/0; '-' gives the Postfix default */
	int unpriv;
	int chroot;
	long wakeup;		/* seconds, 0 = none */
	long maxproc;		/* 0 = no limit; '-' = default_process_limit */
	char *command;		/* first word of the command: "smtpd", "local" */
	struct strv args;	/* the remaining words, "-o" pairs removed */
	struct strv opt_names;	/* "-o name=value": names … */
	struct strv opt_values;	/* … and raw (unexpanded) values */
	char *file;		/* where it was defined */
	int line;
	/* As written, for `outpost conf -M/-F` (fields[0..6]: service, type,
	 * private, unpriv, chroot, wakeup, maxproc, with "-" kept), and the
	 * command words in order with "-o" pairs normalized to "-o", "n=v". */
	char *fields[7];
	struct strv words;
	bool wakeup_if_used;	/* "60?": wake only a service that was used */
};

struct config;

struct config *config_load(const char *config_dir, struct buf *err);
struct config *config_load_files(const char *main_cf, const char *master_cf,
				 struct buf *err);
/* A service's view: "name" (an inet service first) or "name/type"; the
 * result is a separate config the caller frees. */
struct config *config_for_service(const struct config *base,
				  const char *service_name, struct buf *err);
struct config *config_load_text(const char *main_text, size_t main_len,
				const char *master_text, size_t master_len,
				struct buf *err);
void config_free(struct config **cfp);
/* main.cf as far as it parses, unvalidated, never NULL (to stop a master
 * whose configuration was broken since it started). */
struct config *config_load_unchecked(const char *config_dir);

/* Getters expand $references. Strings returned stay valid until
 * config_free (also across config_set). config_time is in seconds, a bare
 * number taken in the parameter's default unit. A config is not shared
 * between threads; the registry is built on first use (do that before
 * starting threads, e.g. by loading the configuration). */
const char *config_dir(const struct config *cf);
const char *config_str(struct config *cf, const char *name);
bool config_bool(struct config *cf, const char *name);
long config_int(struct config *cf, const char *name);
long config_time(struct config *cf, const char *name);
long config_size(struct config *cf, const char *name);
void config_list(struct config *cf, const char *name, struct strv *out);
bool config_is_set(const struct config *cf, const char *name);
/* Set name as if main.cf said so; a value that does not validate (type,
 * bounds, loops, or breaking another parameter that refers to it) is
 * refused with the reason in err and the old value kept. */
int config_set(struct config *cf, const char *name, const char *value,
	       struct buf *err);

const struct master_service *config_services(const struct config *cf, size_t *n);
const struct master_service *config_service(const struct config *cf,
					    const char *name);

const struct param_def *param_lookup(const char *name);
/* Is name usable as a parameter name (letters, digits, _ - .)? */
bool config_valid_name(const char *name);
char *config_path(struct config *cf, const char *value);

/* The registry, sorted by name (for `outpost conf -d` and docs). */
const struct param_def *const *params_all(size_t *n);

/* The value before $expansion (for parameters a daemon expands itself,
 * such as forward_path with $home); NULL when neither set nor registered. */
const char *config_raw(struct config *cf, const char *name);

/* The configuration one master.cf service sees: its -o overrides on top. */
struct config *config_for_master_service(const struct config *base,
					 const struct master_service *svc,
					 struct buf *err);
/* The service this configuration was made for, or NULL for main.cf. */
const struct master_service *config_this_service(const struct config *cf);

/* Where a main.cf setting was made: its file and line (0 when not set). */
struct config_setting {
	const char *name;
	const char *value;	/* raw, as written */
	const char *file;
	int line;
	int last_line;
};
/* Every main.cf setting in file order (a name set twice appears twice). */
const struct config_setting *config_settings(const struct config *cf, size_t *n);
const char *config_main_path(const struct config *cf);
const char *config_master_path(const struct config *cf);

/* Lints: unknown parameters with "did you mean", settings of the other
 * side (smtp_ for smtpd_). One line per finding, "FILE, line N: …".
 * Returns the number of unknown-parameter findings. */
int config_lint(struct config *cf, struct strv *out);
int config_lint_hints(struct config *cf, struct strv *out);
int config_lint_services(struct config *cf, struct strv *out);

/* Apply maillog_file / syslog_name to lib/log (syslog LOG_MAIL when
 * maillog_file is empty). Returns -1 with err when the file cannot be
 * opened. */
int config_apply_logging(struct config *cf, const char *process, struct buf *err);

/* In-place edits of main.cf / master.cf (postconf -e, -#, -X, -Me, -M#,
 * -MX): atomic (temp file + rename), comments and order kept. For main.cf
 * names/values are parameter names and raw values; for master.cf keys are
 * "service/type" and entries the full service text (ending in newline). */
enum config_edit_op { CONFIG_EDIT_SET, CONFIG_EDIT_COMMENT, CONFIG_EDIT_REMOVE };
int config_edit_main(const char *path, const struct strv *names,
		     const struct strv *values, enum config_edit_op op,
		     struct buf *err);
int config_edit_master(const char *path, const struct strv *keys,
		       const struct strv *entries, enum config_edit_op op,
		       struct buf *err);

/* One master.cf service as postconf -M prints it (fold: -Mf layout, one
 * "-o" per line). Appends to out, without a final newline. */
void config_master_format(const struct master_service *svc, bool fold,
			  struct buf *out);
/* Parse one service entry (as given to -Me); NULL with err when bad. */
struct master_service *config_master_parse_entry(const char *text,
						 struct buf *err);
void config_master_entry_free(struct master_service **svcp);

#endif

/*
 * cmd_conf - `outpost conf`, the postconf(1) of Outpost.
 *
 * Parameters: no argument lists every parameter; NAME… only those; -n
 * only what main.cf sets; -d defaults; -h values without "name = "; -x
 * expanded values; -e name=value… edits main.cf in place; -# name…
 * comments settings out; -X name… removes them. --doc [name…] prints
 * the one-line description of Outpost's own parameters (markdown).
 * -o name=value overrides main.cf for this run; -f folds long lines.
 * master.cf: -M [service[/type]…] services (-f folds long lines); -F
 * [service/type/field…] fields; -P [service/type/name…] "-o" overrides;
 * -Me "service/type=entry" replaces or adds a service, -M# and -MX
 * comment out or remove one. --json prints the same data as JSON.
 * -c DIR picks the configuration directory (default /etc/outpost).
 *
 * Public: cmd_conf.
 * Bad input: configuration errors print "FILE:LINE: …" and exit 1;
 * unknown parameters are warned about on stderr ("unused parameter" with a
 * "did you mean"), as postconf does; a bad option prints usage, exit 2.
 */
#include "cli/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/conf_out.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/mem.h"

/* conf_usage - one screen of help */
static int conf_usage(void)
{
	fprintf(stderr,
		"usage: outpost conf [-c DIR] [-o name=value] [-n | -d] [-h] [-x] [-f] [--json] [name…]\n"
		"       outpost conf [-c DIR] -e name=value…  |  -# name…  |  -X name…\n"
		"       outpost conf [-c DIR] -M [-f] [service[/type]…]  |  -F [svc/type/field…]\n"
		"       outpost conf [-c DIR] -P [svc/type/name…]\n"
		"       outpost conf [-c DIR] -Me service/type='entry'  |  -M# service/type…  |  -MX service/type…\n"
		"       outpost conf --doc [name…]\n");
	return 2;
}

/* conf_main_path - DIR/main.cf */
static char *conf_file(const char *dir, const char *name)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/%s", dir, name);
	return buf_steal(&b);
}

/* conf_edit_params - -e, -#, -X on main.cf */
static int conf_edit_params(const struct conf_opts *o, int argc, char **argv)
{
	struct strv names = STRV_INIT, values = STRV_INIT;
	struct buf err = BUF_INIT;
	char *path = conf_file(o->dir, "main.cf");
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		char *copy = xstrdup(argv[i]), *eq = strchr(copy, '=');

		if (o->edit == CONFIG_EDIT_SET) {
			if (eq == NULL) {
				fprintf(stderr, "outpost: fatal: -e %s: expected name=value\n", argv[i]);
				rc = 1;
				free(copy);
				continue;
			}
			*eq = '\0';
			strv_push(&values, str_trim(eq + 1));
		} else if (eq) {
			*eq = '\0';
		}
		if (!config_valid_name(str_trim(copy))) {
			fprintf(stderr, "outpost: fatal: %s: bad parameter name\n", argv[i]);
			rc = 1;
		}
		strv_push(&names, str_trim(copy));
		free(copy);
	}
	if (rc == 0 && names.n > 0 && config_edit_main(path, &names, &values, o->edit, &err) < 0) {
		fprintf(stderr, "outpost: fatal: %s", buf_cstr(&err));
		rc = 1;
	}
	strv_free(&names);
	strv_free(&values);
	buf_free(&err);
	free(path);
	return rc;
}

/* conf_edit_master - -Me, -M#, -MX on master.cf */
static int conf_edit_master(const struct conf_opts *o, int argc, char **argv)
{
	struct strv keys = STRV_INIT, entries = STRV_INIT;
	struct buf err = BUF_INIT;
	char *path = conf_file(o->dir, "master.cf");
	int i, rc = 0;

	for (i = 0; i < argc && rc == 0; i++) {
		char *copy = xstrdup(argv[i]), *eq = strchr(copy, '=');

		if (o->edit == CONFIG_EDIT_SET) {
			struct master_service *svc;
			struct buf text = BUF_INIT, key = BUF_INIT;

			if (eq == NULL) {
				fprintf(stderr, "outpost: fatal: -Me %s: expected service/type=entry\n",
					argv[i]);
				rc = 1;
			} else if ((*eq = '\0', svc = config_master_parse_entry(eq + 1, &err)) == NULL) {
				fprintf(stderr, "outpost: fatal: %s", buf_cstr(&err));
				rc = 1;
			} else {
				buf_printf(&key, "%s/%s", svc->name, svc->type);
				if (strcmp(buf_cstr(&key), str_trim(copy)) != 0) {
					fprintf(stderr, "outpost: fatal: -Me %s: entry is for %s\n",
						copy, buf_cstr(&key));
					rc = 1;
				}
				config_master_format(svc, true, &text);
				buf_putc(&text, '\n');
				strv_push_take(&keys, buf_steal(&key));
				strv_push_take(&entries, buf_steal(&text));
				config_master_entry_free(&svc);
			}
			buf_free(&key);
		} else {
			strv_push(&keys, str_trim(copy));
		}
		free(copy);
	}
	if (rc == 0 && keys.n > 0 && config_edit_master(path, &keys, &entries, o->edit, &err) < 0) {
		fprintf(stderr, "outpost: fatal: %s", buf_cstr(&err));
		rc = 1;
	}
	strv_free(&keys);
	strv_free(&entries);
	buf_free(&err);
	free(path);
	return rc;
}

/* conf_load - the configuration, or NULL after printing why */
static struct config *conf_load(const struct conf_opts *o)
{
	struct buf err = BUF_INIT;
	struct config *cf;
	char *main_cf = conf_file(o->dir, "main.cf"), *master_cf = conf_file(o->dir, "master.cf");

	if (o->defaults && access(main_cf, R_OK) != 0)
		cf = config_load_files("/dev/null", NULL, &err);
	else
		cf = config_load(o->dir, &err);
	if (cf == NULL)
		fprintf(stderr, "%s", buf_cstr(&err));
	free(main_cf);
	free(master_cf);
	buf_free(&err);
	return cf;
}

/* conf_override - -o name=value for this run only, validated */
static int conf_override(struct config *cf, const struct conf_opts *o)
{
	struct buf err = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 0; i < o->overrides.n && rc == 0; i++) {
		char *copy = xstrdup(o->overrides.v[i]), *eq = strchr(copy, '=');

		if (eq == NULL) {
			fprintf(stderr, "outpost: fatal: -o %s: expected name=value\n", copy);
			rc = -1;
		} else {
			*eq = '\0';
			if (config_set(cf, str_trim(copy), str_trim(eq + 1), &err) < 0) {
				fprintf(stderr, "outpost: fatal: -o %s", buf_cstr(&err));
				rc = -1;
			}
		}
		free(copy);
	}
	buf_free(&err);
	return rc;
}

/* conf_warn_unused - lints on stderr, as postconf warns */
static void conf_warn_unused(struct config *cf)
{
	struct strv out = STRV_INIT;
	size_t i;

	config_lint(cf, &out);
	for (i = 0; i < out.n; i++)
		log_warn("%s", out.v[i]);
	strv_free(&out);
}

/* conf_option - one option letter into o; -1 when it is not ours */
static int conf_option(struct conf_opts *o, int ch, int *edit_flag)
{
	switch (ch) {
	case 'c':
		o->dir = optarg;
		o->dir_given = 1;
		break;
	case 'd':
		o->defaults = 1;
		break;
	case 'e':
	case '#':
	case 'X':
		o->edit = ch == 'e' ? CONFIG_EDIT_SET : ch == '#' ? CONFIG_EDIT_COMMENT
								    : CONFIG_EDIT_REMOVE;
		(*edit_flag)++;
		break;
	case 'f':
		o->fold = 1;
		break;
	case 'h':
		o->values_only = 1;
		break;
	case 'n':
		o->non_default = 1;
		break;
	case 'x':
		o->expand = 1;
		break;
	case 'M':
		o->mode = CONF_MODE_MASTER;
		break;
	case 'F':
		o->mode = CONF_MODE_FIELDS;
		break;
	case 'P':
		o->mode = CONF_MODE_SVC_PARAMS;
		break;
	case 'j':
		o->json = 1;
		break;
	case 'o':
		strv_push(&o->overrides, optarg);
		break;
	default:
		return -1;
	}
	return 0;
}

/* cmd_conf - entry point */
int cmd_conf(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "doc", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, '?' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_opts o;
	struct config *cf;
	int ch, rc, edit_flag = 0;

	memset(&o, 0, sizeof(o));
	o.dir = CONFIG_DEFAULT_DIR;
	o.edit = -1;
	while ((ch = getopt_long(argc, argv, "c:defhnxo:MFPX#", longopts, NULL)) != -1) {
		if (ch == 'D')
			return conf_show_docs(argc - optind, argv + optind);
		if (conf_option(&o, ch, &edit_flag) < 0)
			return conf_usage();
	}
	argc -= optind;
	argv += optind;
	if (edit_flag > 1 || (o.defaults && o.non_default) ||
	    (edit_flag && (o.mode == CONF_MODE_FIELDS || o.mode == CONF_MODE_SVC_PARAMS))) {
		strv_free(&o.overrides);
		return conf_usage();
	}
	if (edit_flag) {
		rc = o.mode == CONF_MODE_MASTER ? conf_edit_master(&o, argc, argv)
						: conf_edit_params(&o, argc, argv);
		strv_free(&o.overrides);
		return rc;
	}
	if ((cf = conf_load(&o)) == NULL || conf_override(cf, &o) < 0) {
		config_free(&cf);
		strv_free(&o.overrides);
		return 1;
	}
	if (!o.defaults)
		conf_warn_unused(cf);
	switch (o.mode) {
	case CONF_MODE_MASTER:
		rc = conf_show_master(cf, &o, argc, argv);
		break;
	case CONF_MODE_FIELDS:
		rc = conf_show_fields(cf, &o, argc, argv);
		break;
	case CONF_MODE_SVC_PARAMS:
		rc = conf_show_svc_params(cf, &o, argc, argv);
		break;
	default:
		rc = conf_show_params(cf, &o, argc, argv);
		break;
	}
	config_free(&cf);
	strv_free(&o.overrides);
	return rc;
}

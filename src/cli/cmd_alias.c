/*
 * cmd_alias - `outpost alias`, compatible with postalias(1), and
 * newaliases (argv[0] alias, or `outpost newaliases`).
 *
 *   outpost alias [-fimNnorsvw] [-c DIR] [-d key|-] [-q key|-] [type:]file...
 *   outpost alias add|del|list ...     (managed aliases: cmd_alias_manage)
 *   newaliases [-c DIR] [-v]           (builds every table of alias_database)
 *
 * Sources are aliases(5) files: "name: value, value", indented
 * continuation lines, '#' comments, "quoted names"; values such as
 * ":include:/file", "|command" and "/file" are stored as written. The
 * value list is stored the way postalias stores it ("a,b" -> "a, b").
 * -q - and -s print "name:<TAB>value".
 *
 * Public: cmd_alias, cmd_newaliases.
 * Bad input: as `outpost map`; a line without "name:" is warned about
 * with file and line and skipped, as postalias does.
 */
#include <getopt.h>
#include <string.h>

#include "cli/acct_cli.h"
#include "cli/cmd_map.h"
#include "cli/commands.h"
#include "config/config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "table/table_admin.h"

/* cmd_alias - postalias, or the managed-alias verbs */
int cmd_alias(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "del") == 0 ||
			 strcmp(argv[1], "list") == 0))
		return cmd_alias_manage(argc, argv);
	for (int i = 1; i < argc; i++) {	/* "-c DIR add ..." too */
		if (strcmp(argv[i], "-c") == 0 && i + 2 < argc &&
		    (strcmp(argv[i + 2], "add") == 0 || strcmp(argv[i + 2], "del") == 0 ||
		     strcmp(argv[i + 2], "list") == 0))
			return cmd_alias_manage(argc, argv);
	}
	return map_main(argc, argv, &map_flavor_alias);
}

/* newaliases_list - alias_database of main.cf, or Postfix's default */
static void newaliases_list(const char *config_dir, struct strv *out)
{
	struct config *cf = map_config(config_dir);
	const struct param_def *def;
	const char *why;

	if (cf) {
		config_list(cf, "alias_database", out);
		return;
	}
	def = param_lookup("alias_database");
	if (str_split(def && def->def ? def->def : "hash:/etc/aliases", STR_SEP_LIST, out,
		      &why) < 0)
		log_fatal("alias_database: %s", why);
}

/* cmd_newaliases - build every table named by alias_database */
int cmd_newaliases(int argc, char **argv)
{
	struct table_build_opts o = { .fold = true, .alias_format = true };
	struct strv tables = STRV_INIT;
	struct buf spec = BUF_INIT, err = BUF_INIT;
	const char *config_dir = NULL;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "c:v")) != -1) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'v':
			log_set_verbose(log_verbose_level() + 1);
			break;
		default:
			log_fatal("usage: newaliases [-c config_dir] [-v]");
		}
	}
	if (optind != argc)
		log_fatal("usage: newaliases [-c config_dir] [-v]");
	newaliases_list(config_dir, &tables);
	for (size_t i = 0; i < tables.n; i++) {
		buf_reset(&spec);
		if (strchr(tables.v[i], ':') == NULL)
			buf_printf(&spec, "%s:", map_default_type(config_dir));
		buf_puts(&spec, tables.v[i]);
		log_verbose("building %s", buf_cstr(&spec));
		if (table_admin_build(buf_cstr(&spec), &o, &err) != 0)
			log_fatal("%s", buf_cstr(&err));
	}
	strv_free(&tables);
	buf_free(&spec);
	buf_free(&err);
	return 0;
}

/*
 * conf_out - printing parameters and services in postconf's formats.
 *
 * Values print with runs of blanks folded to one space, as postconf does;
 * an empty value prints as "name =". --json prints one JSON document.
 *
 * Public: conf_show_params, conf_show_master, conf_show_fields,
 * conf_show_svc_params, conf_show_docs, conf_json_string.
 * Bad input: an unknown name draws "NAME: unknown parameter" on stderr.
 */
#include "cli/conf_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/mem.h"

/* conf_json_string - s as a JSON string literal */
void conf_json_string(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c == '\n')
			buf_puts(out, "\\n");
		else if (c == '\t')
			buf_puts(out, "\\t");
		else if (c < 0x20)
			buf_printf(out, "\\u%04x", c);
		else
			buf_putc(out, (int)c);
	}
	buf_putc(out, '"');
}

/* squeeze - fold blank runs to one space, trim the ends */
static char *squeeze(const char *s)
{
	struct buf b = BUF_INIT;
	int space = 0;

	for (; *s; s++) {
		if (strchr(STR_SPACE, *s)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			buf_putc(&b, ' ');
		space = 0;
		buf_putc(&b, *s);
	}
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* fold_line - postconf -f: break before a word that would pass column 80 */
static void fold_line(struct buf *out, const char *line)
{
	size_t start = out->len;
	const char *p = line;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (out->len > start && out->len - start + 1 + n > 80) {
			buf_puts(out, "\n    ");
			start = out->len - 4;
		} else if (out->len > start) {
			buf_putc(out, ' ');
		}
		buf_append(out, p, n);
		p += n;
		p += strspn(p, " ");
	}
}

/* emit - one "name = value" line, a bare value, or a JSON member */
static void emit(struct buf *out, const struct conf_opts *o, const char *name, const char *value,
		 int *first)
{
	char *v = squeeze(value);

	if (o->json) {
		buf_puts(out, *first ? "\n  " : ",\n  ");
		conf_json_string(out, name);
		buf_puts(out, ": ");
		conf_json_string(out, v);
	} else {
		struct buf line = BUF_INIT;

		if (o->values_only)
			buf_puts(&line, v);
		else if (*v)
			buf_printf(&line, "%s = %s", name, v);
		else
			buf_printf(&line, "%s =", name);
		if (o->fold)
			fold_line(out, buf_cstr(&line));
		else
			buf_puts(out, buf_cstr(&line));
		buf_putc(out, '\n');
		buf_free(&line);
	}
	*first = 0;
	free(v);
}

/* cmp_str - qsort for strings */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* param_names - which names to show when none are given */
static void param_names(struct config *cf, const struct conf_opts *o, struct strv *names)
{
	const struct config_setting *set;
	size_t i, n;

	if (!o->defaults) {
		set = config_settings(cf, &n);
		for (i = 0; i < n; i++)
			if (!strv_contains(names, set[i].name))
				strv_push(names, set[i].name);
		if (o->dir_given && !strv_contains(names, "config_directory"))
			strv_push(names, "config_directory");
	}
	if (!o->non_default) {
		const struct param_def *const *all = params_all(&n);

		for (i = 0; i < n; i++)
			if (!strv_contains(names, all[i]->name))
				strv_push(names, all[i]->name);
	}
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(char *), cmp_str);
}

/* default_value - the registry default, or the computed one */
static const char *default_value(struct config *defaults, const char *name, int expand)
{
	const struct param_def *p = param_lookup(name);

	if (expand)
		return config_str(defaults, name);
	if (p && p->def)
		return p->def;
	return config_raw(defaults, name);
}

/* conf_show_params - parameters in "name = value" form */
int conf_show_params(struct config *cf, const struct conf_opts *o, int argc, char **argv)
{
	struct strv names = STRV_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct config *defaults = NULL;
	int i, first = 1;
	size_t k;

	if (argc > 0)
		for (i = 0; i < argc; i++)
			strv_push(&names, argv[i]);
	else
		param_names(cf, o, &names);
	if (o->defaults && (defaults = config_load_files("/dev/null", NULL, &err)) == NULL)
		log_fatal("%s", buf_cstr(&err));
	if (o->json)
		buf_putc(&out, '{');
	for (k = 0; k < names.n; k++) {
		const char *name = names.v[k];
		int set = config_is_set(cf, name) ||
			  (o->dir_given && strcmp(name, "config_directory") == 0);
		const char *v;

		if (o->non_default && !set)
			continue;
		if (!set && param_lookup(name) == NULL) {
			if (argc > 0)
				log_warn("%s: unknown parameter", name);
			continue;
		}
		if (o->defaults)
			v = default_value(defaults, name, o->expand);
		else
			v = o->expand ? config_str(cf, name) : config_raw(cf, name);
		emit(&out, o, name, v ? v : "", &first);
	}
	if (o->json)
		buf_puts(&out, first ? "}\n" : "\n}\n");
	fputs(buf_cstr(&out), stdout);
	config_free(&defaults);
	buf_free(&out);
	buf_free(&err);
	strv_free(&names);
	return 0;
}

/* svc_matches - does svc match any filter ("name", "name/type", "name/type/x")? */
static int svc_matches(const struct master_service *svc, int argc, char **argv, const char **rest)
{
	int i;

	*rest = NULL;
	if (argc == 0)
		return 1;
	for (i = 0; i < argc; i++) {
		size_t nl = strlen(svc->name), tl = strlen(svc->type);
		const char *a = argv[i];

		if (strncmp(a, svc->name, nl) != 0 || (a[nl] != '\0' && a[nl] != '/'))
			continue;
		if (a[nl] == '\0')
			return 1;
		a += nl + 1;
		if (strncmp(a, svc->type, tl) != 0 || (a[tl] != '\0' && a[tl] != '/'))
			continue;
		if (a[tl] == '/')
			*rest = a + tl + 1;
		return 1;
	}
	return 0;
}

/* conf_json_service - one service as a JSON object */
static void conf_json_service(struct buf *out, const struct master_service *s)
{
	static const char *const keys[] = { "service", "type", "private", "unprivileged",
					    "chroot", "wakeup", "process_limit" };
	size_t i;

	buf_putc(out, '{');
	for (i = 0; i < 7; i++) {
		conf_json_string(out, keys[i]);
		buf_putc(out, ':');
		conf_json_string(out, s->fields[i]);
		buf_putc(out, ',');
	}
	buf_puts(out, "\"command\":");
	conf_json_string(out, s->command);
	buf_puts(out, ",\"args\":[");
	for (i = 0; i < s->args.n; i++) {
		if (i)
			buf_putc(out, ',');
		conf_json_string(out, s->args.v[i]);
	}
	buf_puts(out, "],\"overrides\":{");
	for (i = 0; i < s->opt_names.n; i++) {
		if (i)
			buf_putc(out, ',');
		conf_json_string(out, s->opt_names.v[i]);
		buf_putc(out, ':');
		conf_json_string(out, s->opt_values.v[i]);
	}
	buf_printf(out, "},\"line\":%d}", s->line);
}

/* conf_show_master - services in master.cf layout */
int conf_show_master(struct config *cf, const struct conf_opts *o, int argc, char **argv)
{
	const struct master_service *svcs;
	struct buf out = BUF_INIT;
	const char *rest;
	size_t i, n, shown = 0;

	svcs = config_services(cf, &n);
	if (o->json)
		buf_putc(&out, '[');
	for (i = 0; i < n; i++) {
		if (!svc_matches(&svcs[i], argc, argv, &rest))
			continue;
		if (o->json) {
			buf_puts(&out, shown ? ",\n  " : "\n  ");
			conf_json_service(&out, &svcs[i]);
		} else {
			config_master_format(&svcs[i], o->fold, &out);
			buf_putc(&out, '\n');
		}
		shown++;
	}
	if (o->json)
		buf_puts(&out, shown ? "\n]\n" : "]\n");
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	return 0;
}

/* conf_show_fields - service/type/field = value */
int conf_show_fields(struct config *cf, const struct conf_opts *o, int argc, char **argv)
{
	static const char *const fields[] = { "service", "type", "private", "unprivileged",
					      "chroot", "wakeup", "process_limit", "command" };
	const struct master_service *svcs;
	struct buf out = BUF_INIT, key = BUF_INIT, cmd = BUF_INIT;
	const char *rest;
	size_t i, j, n;
	int first = 1;

	svcs = config_services(cf, &n);
	if (o->json)
		buf_putc(&out, '{');
	for (i = 0; i < n; i++) {
		if (!svc_matches(&svcs[i], argc, argv, &rest))
			continue;
		for (j = 0; j < 8; j++) {
			char *words;

			if (rest && strcmp(rest, fields[j]) != 0)
				continue;
			buf_reset(&key);
			buf_printf(&key, "%s/%s/%s", svcs[i].name, svcs[i].type, fields[j]);
			if (j < 7) {
				emit(&out, o, buf_cstr(&key), svcs[i].fields[j], &first);
				continue;
			}
			words = strv_join(&svcs[i].words, " ");
			emit(&out, o, buf_cstr(&key), words, &first);
			free(words);
		}
	}
	if (o->json)
		buf_puts(&out, first ? "}\n" : "\n}\n");
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	buf_free(&key);
	buf_free(&cmd);
	return 0;
}

/* conf_show_svc_params - service/type/name = value for each -o */
int conf_show_svc_params(struct config *cf, const struct conf_opts *o, int argc, char **argv)
{
	const struct master_service *svcs;
	struct buf out = BUF_INIT, key = BUF_INIT;
	const char *rest;
	size_t i, j, n;
	int first = 1;

	svcs = config_services(cf, &n);
	if (o->json)
		buf_putc(&out, '{');
	for (i = 0; i < n; i++) {
		struct strv names = STRV_INIT;

		if (!svc_matches(&svcs[i], argc, argv, &rest))
			continue;
		for (j = 0; j < svcs[i].opt_names.n; j++)
			if (!strv_contains(&names, svcs[i].opt_names.v[j]))
				strv_push(&names, svcs[i].opt_names.v[j]);
		if (names.n > 1)
			qsort(names.v, names.n, sizeof(char *), cmp_str);
		for (j = 0; j < names.n; j++) {
			const char *value = "";
			size_t k;

			if (rest && strcmp(rest, names.v[j]) != 0)
				continue;
			for (k = 0; k < svcs[i].opt_names.n; k++)
				if (strcmp(svcs[i].opt_names.v[k], names.v[j]) == 0)
					value = svcs[i].opt_values.v[k];
			buf_reset(&key);
			buf_printf(&key, "%s/%s/%s", svcs[i].name, svcs[i].type, names.v[j]);
			emit(&out, o, buf_cstr(&key), value, &first);
		}
		strv_free(&names);
	}
	if (o->json)
		buf_puts(&out, first ? "}\n" : "\n}\n");
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	buf_free(&key);
	return 0;
}

/* type_name - how a parameter type reads in the docs */
static const char *type_name(enum param_type t)
{
	switch (t) {
	case PARAM_BOOL:
		return "yes/no";
	case PARAM_INT:
		return "number";
	case PARAM_TIME:
		return "time";
	case PARAM_SIZE:
		return "bytes";
	case PARAM_LIST:
		return "list";
	case PARAM_STR:
		break;
	}
	return "text";
}

/* conf_show_docs - the registry's descriptions, as a markdown list */
int conf_show_docs(int argc, char **argv)
{
	const struct param_def *const *all;
	size_t i, n;
	int k, rc = 0;

	all = params_all(&n);
	for (k = 0; k < argc; k++)
		if (param_lookup(argv[k]) == NULL) {
			log_warn("%s: unknown parameter", argv[k]);
			rc = 1;
		}
	for (i = 0; i < n; i++) {
		const struct param_def *p = all[i];
		int wanted = argc == 0 && p->doc != NULL;

		for (k = 0; k < argc; k++)
			if (strcmp(argv[k], p->name) == 0)
				wanted = 1;
		if (!wanted)
			continue;
		printf("- `%s` (%s", p->name, type_name(p->type));
		if (p->type == PARAM_TIME && p->unit)
			printf(", default unit %c", p->unit);
		if (p->def == NULL)
			printf(", computed at start)");
		else if (*p->def == '\0')
			printf(", default empty)");
		else
			printf(", default `%s`)", p->def);
		printf(": %s\n", p->doc ? p->doc : "as in Postfix; see postconf(5)");
	}
	return rc;
}

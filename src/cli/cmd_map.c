/*
 * cmd_map - `outpost map`, compatible with postmap(1), and the engine that
 * `outpost alias` / newaliases share (postalias(1) flags).
 *
 *   outpost map [-fimNnorsvw] [-c DIR] [-d key|-] [-q key|-] [type:]file...
 *   outpost map -q key|- [--trace] --as access|virtual|canonical|transport 'type:a, type:b'
 *
 * Without -q, -s or -d every file is built: NAME is read (postmap source
 * format, or aliases(5) for `outpost alias`) and NAME's index is written
 * atomically. Exit status as postmap: 0 found/deleted/done, 1 not found or
 * not deleted, and 1 with "outpost: fatal: reason" on errors.
 * Beyond postmap, --as runs the derived-key search of access(5),
 * virtual(5)/canonical(5) or transport(5) over a table list, and --trace
 * shows every (key, table) tried.
 *
 * Public: cmd_map, map_main, map_config, map_default_type, map_flavor_map,
 * map_flavor_alias.
 * Bad input: usage errors and table errors are fatal with postmap's words.
 */
#include "cli/cmd_map.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "config/config.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "table/table.h"
#include "table/table_admin.h"
#include "outpost_build.h"

const struct map_flavor map_flavor_map = { "map", false, "\t" };
const struct map_flavor map_flavor_alias = { "alias", true, ":\t" };

struct map_opts {
	const struct map_flavor *fl;
	const char *config_dir;
	const char *query;	/* -q */
	const char *del;	/* -d */
	const char *as;		/* --as */
	bool dump;		/* -s */
	bool incremental;	/* -i */
	bool fold;		/* not -f */
	bool replace;		/* -r */
	bool quiet_dups;	/* -w */
	bool keep_privs;	/* -o */
	bool trace;		/* --trace */
	int nul;		/* -N 1, -n -1 */
	char **files;
	int nfiles;
};

/* map_usage - postmap's usage line, then exit 1 */
static void __attribute__((noreturn)) map_usage(const struct map_flavor *fl)
{
	log_fatal("usage: outpost %s [-fimnNorsvw] [-c config_dir] [-d key] [-q key] "
		  "[--as access|virtual|canonical|transport] [--trace] [map_type:]file...",
		  fl->name);
}

/*
 * map_config - main.cf of -c DIR (fatal if it cannot be read) or of the
 * default directory (NULL if absent: the tools then use built-in defaults).
 */
struct config *map_config(const char *config_dir)
{
	static struct config *cf;
	static bool loaded;
	struct buf err = BUF_INIT;

	if (loaded)
		return cf;
	loaded = true;
	if (config_dir == NULL) {
		struct buf path = BUF_INIT;

		buf_printf(&path, "%s/main.cf", OUTPOST_SYSCONFDIR);
		if (access(buf_cstr(&path), F_OK) == 0)
			config_dir = OUTPOST_SYSCONFDIR;
		buf_free(&path);
		if (config_dir == NULL)
			return NULL;
	}
	if ((cf = config_load(config_dir, &err)) == NULL)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	return cf;
}

/* map_default_type - default_database_type; "hash" (stored as LMDB) without main.cf */
const char *map_default_type(const char *config_dir)
{
	struct config *cf = map_config(config_dir);
	const char *type = cf ? config_str(cf, "default_database_type") : NULL;

	return type && *type ? type : "hash";
}

/* map_spec - "[type:]file" with the default type filled in */
static void map_spec(const struct map_opts *o, const char *arg, struct buf *spec)
{
	buf_reset(spec);
	if (strchr(arg, ':') == NULL)
		buf_printf(spec, "%s:", map_default_type(o->config_dir));
	buf_puts(spec, arg);
}

/* map_drop_privs - like postmap: root works as the owner of a non-root file */
static void map_drop_privs(const struct map_opts *o, const char *spec)
{
	const char *file = strchr(spec, ':') + 1;
	struct stat sb;

	if (o->keep_privs || geteuid() != 0 || stat(file, &sb) != 0 || sb.st_uid == 0)
		return;
	if (setgid(sb.st_gid) != 0 || setuid(sb.st_uid) != 0)
		log_fatal("cannot drop privileges to uid %ld: %m", (long)sb.st_uid);
}

/* map_open - open one table for reading; fatal on error, as postmap */
static struct table *map_open(const struct map_opts *o, const char *spec, unsigned flags)
{
	struct buf err = BUF_INIT;
	struct table *t = table_open(spec, flags | (o->fold ? 0 : TABLE_F_NOFOLD), &err);

	if (t == NULL)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	return t;
}

/* map_build_opts - the source-reading options from the flags */
static struct table_build_opts map_build_opts(const struct map_opts *o)
{
	struct table_build_opts bo = {
		.fold = o->fold,
		.replace_dups = o->replace,
		.quiet_dups = o->quiet_dups,
		.alias_format = o->fl->alias_format,
	};
	return bo;
}

/* map_build - write the index of every file */
static int map_build(const struct map_opts *o)
{
	struct table_build_opts bo = map_build_opts(o);
	struct buf spec = BUF_INIT, err = BUF_INIT;

	for (int i = 0; i < o->nfiles; i++) {
		map_spec(o, o->files[i], &spec);
		map_drop_privs(o, buf_cstr(&spec));
		if (table_admin_build(buf_cstr(&spec), &bo, &err) != 0)
			log_fatal("%s", buf_cstr(&err));
	}
	buf_free(&spec);
	buf_free(&err);
	return 0;
}

/* map_lookup_all - first table that has the key; fatal on lookup errors */
static bool map_lookup_all(struct table **tv, int n, const char *key, struct buf *value)
{
	for (int i = 0; i < n; i++) {
		enum table_status st = table_lookup(tv[i], key, value);

		if (st == TABLE_FOUND && value->len == 0)	/* TABLE_F_EMPTY_OK, as postmap */
			log_warn("table %s should return NO RESULT in case of NOT FOUND",
				 table_spec(tv[i]));
		if (st == TABLE_FOUND)
			return true;
		if (st == TABLE_TEMPFAIL)
			log_fatal("table %s: query error: %s", table_spec(tv[i]),
				  table_error(tv[i]));
	}
	return false;
}

/*
 * Batch input: keys read in large blocks; stdout is flushed only before a
 * read that may block, so a co-process sees every answer and a pipe of a
 * million keys costs one write per block.
 */
struct map_reader {
	char buf[65536];
	size_t start, end;
	bool eof;
	struct buf line;
};

/*
 * map_read_line - next line without its newline, NUL-terminated in place
 * when it lies whole in the block (no copy), else gathered in r->line;
 * NULL at end of input. *len is its length.
 */
static const char *map_read_line(struct map_reader *r, size_t *len)
{
	buf_reset(&r->line);
	for (;;) {
		char *start = r->buf + r->start;
		char *nl = memchr(start, '\n', r->end - r->start);

		if (nl && r->line.len == 0) {
			*nl = '\0';
			*len = (size_t)(nl - start);
			r->start = (size_t)(nl - r->buf) + 1;
			return start;
		}
		if (nl) {
			buf_append(&r->line, start, (size_t)(nl - start));
			r->start = (size_t)(nl - r->buf) + 1;
			break;
		}
		buf_append(&r->line, start, r->end - r->start);
		r->start = r->end = 0;
		if (r->eof) {
			if (r->line.len == 0)
				return NULL;
			break;
		}
		fflush(stdout);
		ssize_t n = read(STDIN_FILENO, r->buf, sizeof(r->buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_fatal("read standard input: %m");
		if (n == 0)
			r->eof = true;
		r->end = (size_t)n;
	}
	*len = r->line.len;
	return buf_cstr(&r->line);
}

/*
 * map_hint - tell the table which key follows the next one, when both are
 * already in the block, so it can start loading memory for it early
 */
static void map_hint(struct map_reader *r, struct table *t)
{
	const char *end = r->buf + r->end, *next = r->buf + r->start;
	const char *nl = memchr(next, '\n', (size_t)(end - next));

	if (nl == NULL)
		return;
	next = nl + 1;
	if ((nl = memchr(next, '\n', (size_t)(end - next))) != NULL)
		table_prefetch(t, next, (size_t)(nl - next));
}

/* map_put - bytes to stdout (buffered; the batch loop is single-threaded) */
static void map_put(const char *s, size_t n)
{
	fwrite_unlocked(s, 1, n, stdout);
}

/* map_query - -q key or -q - over the files in order */
static int map_query(const struct map_opts *o)
{
	struct table **tv = xcalloc((size_t)o->nfiles, sizeof(*tv));
	struct buf spec = BUF_INIT, value = BUF_INIT;
	bool any = false;

	for (int i = 0; i < o->nfiles; i++) {
		map_spec(o, o->files[i], &spec);
		tv[i] = map_open(o, buf_cstr(&spec), TABLE_F_EMPTY_OK);
	}
	if (strcmp(o->query, "-") != 0) {
		if ((any = map_lookup_all(tv, o->nfiles, o->query, &value)))
			printf("%s\n", buf_cstr(&value));
	} else {
		static struct map_reader r;
		static char obuf[65536];
		size_t seplen = strlen(o->fl->dump_sep), len;
		const char *key;

		setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
		while ((key = map_read_line(&r, &len)) != NULL) {
			map_hint(&r, tv[0]);
			if (!map_lookup_all(tv, o->nfiles, key, &value))
				continue;
			any = true;
			map_put(key, len);
			map_put(o->fl->dump_sep, seplen);
			map_put(buf_cstr(&value), value.len);
			putc_unlocked('\n', stdout);
		}
		buf_free(&r.line);
	}
	if (fflush(stdout) != 0)
		log_fatal("write standard output: %m");
	for (int i = 0; i < o->nfiles; i++)
		table_close(&tv[i]);
	free(tv);
	buf_free(&spec);
	buf_free(&value);
	return any ? 0 : 1;
}

/* map_dump_entry - one "key<sep>value" line */
static int map_dump_entry(const char *key, const char *value, void *ctx)
{
	const struct map_opts *o = ctx;

	printf("%s%s%s\n", key, o->fl->dump_sep, value);
	return 0;
}

/* map_dump - -s: every entry of every file */
static int map_dump(struct map_opts *o)
{
	struct buf spec = BUF_INIT, err = BUF_INIT;

	for (int i = 0; i < o->nfiles; i++) {
		struct table *t;

		map_spec(o, o->files[i], &spec);
		t = map_open(o, buf_cstr(&spec), 0);
		if (table_admin_iterate(t, map_dump_entry, o, &err) < 0)
			log_fatal("%s", buf_cstr(&err));
		table_close(&t);
	}
	if (fflush(stdout) != 0)
		log_fatal("write standard output: %m");
	buf_free(&spec);
	buf_free(&err);
	return 0;
}

/* map_commit_close - publish a writer's changes, fatal on failure */
static void map_commit_close(struct table **tp)
{
	struct buf err = BUF_INIT;

	if (table_admin_commit(*tp, &err) != 0)
		log_fatal("%s", buf_cstr(&err));
	table_close(tp);
	buf_free(&err);
}

/* map_delete_key - remove key from every file; true if any had it */
static bool map_delete_key(struct table **tv, int n, const char *key)
{
	struct buf err = BUF_INIT;
	bool any = false;

	for (int i = 0; i < n; i++) {
		int rc = table_admin_remove(tv[i], key, &err);

		if (rc < 0)
			log_fatal("%s", buf_cstr(&err));
		any |= rc > 0;
	}
	buf_free(&err);
	return any;
}

/* map_delete - -d key or -d - */
static int map_delete(const struct map_opts *o)
{
	struct table **tv = xcalloc((size_t)o->nfiles, sizeof(*tv));
	struct buf spec = BUF_INIT;
	bool any = false;

	for (int i = 0; i < o->nfiles; i++) {
		map_spec(o, o->files[i], &spec);
		map_drop_privs(o, buf_cstr(&spec));
		tv[i] = map_open(o, buf_cstr(&spec), TABLE_F_WRITE);
	}
	if (strcmp(o->del, "-") != 0) {
		any = map_delete_key(tv, o->nfiles, o->del);
	} else {
		static struct map_reader r;
		const char *key;
		size_t len;

		while ((key = map_read_line(&r, &len)) != NULL)
			any |= map_delete_key(tv, o->nfiles, key);
		buf_free(&r.line);
	}
	for (int i = 0; i < o->nfiles; i++)
		map_commit_close(&tv[i]);
	free(tv);
	buf_free(&spec);
	return any ? 0 : 1;
}

struct map_incr {
	const struct map_opts *o;
	struct table *t;
	struct buf value;
	struct buf err;
	struct buf alias;	/* aliases(5) value as postalias stores it */
};

/* map_incr_entry - add one entry from standard input; duplicates as a build */
static int map_incr_entry(const char *key, const char *value, void *ctx)
{
	struct map_incr *m = ctx;

	if (!m->o->replace && table_lookup(m->t, key, &m->value) == TABLE_FOUND)
		return TABLE_ADMIN_DUP;
	if (m->o->fl->alias_format) {
		table_alias_value(value, &m->alias);
		value = buf_cstr(&m->alias);
	}
	if (table_admin_update(m->t, key, value, &m->err) != 0)
		return -1;
	return 0;
}

/* map_incremental - -i: entries from standard input into each file */
static int map_incremental(const struct map_opts *o)
{
	struct table_build_opts bo = map_build_opts(o);
	struct map_incr m = { o, NULL, BUF_INIT, BUF_INIT, BUF_INIT };
	struct buf spec = BUF_INIT, err = BUF_INIT;

	if (o->nfiles != 1)
		log_fatal("-i takes exactly one table");
	map_spec(o, o->files[0], &spec);
	map_drop_privs(o, buf_cstr(&spec));
	m.t = map_open(o, buf_cstr(&spec), TABLE_F_WRITE | TABLE_F_CREATE);
	if (table_admin_read_source("/dev/stdin", &bo, map_incr_entry, &m, &err) != 0)
		log_fatal("%s", m.err.len ? buf_cstr(&m.err) : buf_cstr(&err));
	map_commit_close(&m.t);
	buf_free(&m.value);
	buf_free(&m.err);
	buf_free(&m.alias);
	buf_free(&spec);
	buf_free(&err);
	return 0;
}

/* map_trace - --trace: one line per (key, table) asked */
static void map_trace(const char *key, const char *table_spec, enum table_status st,
		      const char *value, void *ctx)
{
	(void)ctx;
	printf("trace: %s\t%s\t%s%s%s\n", key, table_spec,
	       st == TABLE_FOUND ? "found" : st == TABLE_NOTFOUND ? "not found" : "lookup error",
	       st == TABLE_FOUND ? "\t" : "", st == TABLE_FOUND ? value : "");
}

/* map_find_one - one derived-key search; 1 found, 0 not */
static int map_find_one(const struct map_opts *o, struct table_list *l, const char *query,
			struct buf *value)
{
	struct table_search_opts so = { 0 };
	struct table_match m = { BUF_INIT, BUF_INIT };
	enum table_search how;
	enum table_status st;

	if (strcmp(o->as, "access") == 0)
		how = strchr(query, '@') ? TABLE_SEARCH_ACCESS : TABLE_SEARCH_HOST;
	else if (strcmp(o->as, "virtual") == 0 || strcmp(o->as, "canonical") == 0)
		how = TABLE_SEARCH_VIRTUAL;
	else
		how = TABLE_SEARCH_TRANSPORT;
	so.parent_matches_subdomains = how == TABLE_SEARCH_ACCESS || how == TABLE_SEARCH_HOST;
	if (o->trace)
		so.trace = map_trace;
	st = table_find(l, how, query, &so, value, &m);
	if (st == TABLE_TEMPFAIL)
		log_fatal("%s: query error: %s", query, table_list_error(l));
	if (st == TABLE_FOUND && o->trace)
		printf("trace: answer for %s: key %s\n", query, buf_cstr(&m.key));
	table_match_free(&m);
	return st == TABLE_FOUND;
}

/* map_find - --as: derived-key search over one table list */
static int map_find(const struct map_opts *o)
{
	struct buf list = BUF_INIT, value = BUF_INIT, err = BUF_INIT;
	struct table_list *l;
	bool any = false;

	if (o->query == NULL)
		log_fatal("--as needs -q key or -q -");
	if (strcmp(o->as, "access") != 0 && strcmp(o->as, "virtual") != 0 &&
	    strcmp(o->as, "canonical") != 0 && strcmp(o->as, "transport") != 0)
		log_fatal("--as %s: expected access, virtual, canonical or transport", o->as);
	for (int i = 0; i < o->nfiles; i++) {
		if (i)
			buf_puts(&list, ", ");
		buf_puts(&list, o->files[i]);
	}
	if ((l = table_list_open(buf_cstr(&list), o->fold ? 0 : TABLE_F_NOFOLD, &err)) == NULL)
		log_fatal("%s", buf_cstr(&err));
	if (strcmp(o->query, "-") != 0) {
		if ((any = map_find_one(o, l, o->query, &value)))
			printf("%s\n", buf_cstr(&value));
	} else {
		static struct map_reader r;
		const char *key;
		size_t len;

		while ((key = map_read_line(&r, &len)) != NULL) {
			if (map_find_one(o, l, key, &value)) {
				any = true;
				printf("%s\t%s\n", key, buf_cstr(&value));
			}
		}
		buf_free(&r.line);
	}
	fflush(stdout);
	table_list_close(&l);
	buf_free(&list);
	buf_free(&value);
	buf_free(&err);
	return any ? 0 : 1;
}

/* map_parse - postmap's flags plus --as / --trace */
static void map_parse(struct map_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as", required_argument, NULL, 'A' },
		{ "trace", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int c, modes = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "bc:d:fhimnNopq:rsuUvw", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_dir = optarg; break;
		case 'd': o->del = optarg; modes++; break;
		case 'f': o->fold = false; break;
		case 'i': o->incremental = true; break;
		case 'n': o->nul = -1; break;
		case 'N': o->nul = 1; break;
		case 'o': o->keep_privs = true; break;
		case 'p': case 'u': case 'U': break;	/* accepted, no effect (see docs) */
		case 'q': o->query = optarg; modes++; break;
		case 'r': o->replace = true; break;
		case 's': o->dump = true; modes++; break;
		case 'v': log_set_verbose(log_verbose_level() + 1); break;
		case 'w': o->quiet_dups = true; break;
		case 'A': o->as = optarg; break;
		case 'T': o->trace = true; break;
		case 'b': case 'h': case 'm':
			log_fatal("-%c (header/body checks on a message) is not supported", c);
		default: map_usage(o->fl);
		}
	}
	if (modes > 1)
		log_fatal("specify only one of -s -q or -d");
	o->files = argv + optind;
	o->nfiles = argc - optind;
	if (o->nfiles == 0)
		map_usage(o->fl);
}

/* map_main - `outpost map` and `outpost alias` */
int map_main(int argc, char **argv, const struct map_flavor *fl)
{
	struct map_opts o = { .fl = fl, .fold = true };

	map_parse(&o, argc, argv);
	table_admin_set_nul(o.nul);
	if (o.as)
		return map_find(&o);
	if (o.trace)
		log_fatal("--trace needs --as");
	if (o.query)
		return map_query(&o);
	if (o.dump)
		return map_dump(&o);
	if (o.del)
		return map_delete(&o);
	if (o.incremental)
		return map_incremental(&o);
	return map_build(&o);
}

/* cmd_map - `outpost map` */
int cmd_map(int argc, char **argv)
{
	return map_main(argc, argv, &map_flavor_map);
}

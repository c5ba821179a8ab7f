/*
 * config - the loaded configuration: main.cf values over registry
 * defaults, master.cf services, and per-service -o overrides.
 *
 * Values are stored raw and expanded when read (cached until the next
 * config_set). Loading validates every registered parameter (its expanded
 * value must fit its type and bounds) and every -o override of every
 * service, so a loaded configuration never fails a typed getter.
 *
 * Public: config_load, config_load_files, config_load_text,
 * config_load_unchecked, config_for_service,
 * config_for_master_service, config_free, config_dir, config_str,
 * config_raw, config_bool, config_int, config_time, config_size,
 * config_list, config_is_set, config_set, config_services, config_service,
 * config_this_service, config_settings, config_main_path,
 * config_master_path, config_path, config_valid_name.
 * Bad input: config_load* return NULL with one "FILE:LINE: …" line per
 * problem in err; config_set refuses a bad value and keeps the old one.
 */
#include "config/config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_map.h"
#include "config/derived.h"
#include "config/expand.h"
#include "config/mainfile.h"
#include "config/master_cf.h"
#include "config/value.h"
#include "lib/log.h"
#include "lib/mem.h"

struct cf_val {
	char *raw;
	char *file;
	int line;
};

struct cf_cached {
	char *text;
	bool given;	/* handed to a caller: keep alive until config_free */
};

struct config {
	char *dir;
	char *main_path;
	char *master_path;
	struct cf_entries ents;		/* main.cf as read, file order */
	struct config_setting *settings; /* view of ents for callers */
	struct cmap vals;		/* name -> struct cf_val (effective) */
	struct cmap cache;		/* name -> struct cf_cached */
	struct cmap derived;		/* name -> char * computed default */
	struct strv retired;		/* expanded values handed out earlier */
	struct strv stack;		/* names being expanded (loop check) */
	struct master_services svcs;
	struct cmap rdeps;		/* name -> struct strv of names using it */
	bool rdeps_ok;			/* rdeps matches the current values */
	const struct master_service *service; /* NULL: plain main.cf view */
};

/* val_free - cmap value destructor */
static void val_free(void *p)
{
	struct cf_val *v = p;

	free(v->raw);
	free(v->file);
	free(v);
}

/* cached_free - cmap value destructor for the cache */
static void cached_free(void *p)
{
	struct cf_cached *c = p;

	free(c->text);
	free(c);
}

/* val_put - set the effective raw value of name */
static void val_put(struct config *cf, const char *name, const char *raw, const char *file,
		    int line)
{
	struct cf_val *v = xcalloc(1, sizeof(*v));
	struct cf_val *old;

	v->raw = xstrdup(raw);
	v->file = xstrdup(file);
	v->line = line;
	if ((old = cmap_put(&cf->vals, name, v)) != NULL)
		val_free(old);
}

/* cache_clear - forget expanded values; keep those handed out alive */
static void cache_clear(struct config *cf)
{
	size_t i;

	for (i = 0; i < cf->cache.cap; i++) {
		struct cf_cached *c = cf->cache.slots[i].value;

		if (cf->cache.slots[i].key == NULL)
			continue;
		if (c->given) {
			strv_push_take(&cf->retired, c->text);
			c->text = NULL;
		}
	}
	cmap_free(&cf->cache, cached_free);
	cmap_free(&cf->derived, free);
}

static const char *expanded(struct config *cf, const char *name, struct buf *err);

/* expand_lookup - the expander's view of other parameters */
static const char *expand_lookup(void *ctx, const char *name, struct buf *err)
{
	return expanded(ctx, name, err);
}

/* derive - compute a machine-dependent default (NULL when not derived) */
static const char *derive(struct config *cf, const char *name, struct buf *err)
{
	char *v = cmap_get(&cf->derived, name);
	struct buf b = BUF_INIT;

	if (v)
		return v;
	if (strcmp(name, "myhostname") == 0) {
		char *host = derived_hostname();
		const char *dom = "";

		/* mydomain matters only for a host name without a dot */
		if (strchr(host, '.') == NULL && cmap_get(&cf->vals, "mydomain"))
			dom = expanded(cf, "mydomain", err);
		v = dom ? derived_myhostname(host, dom) : NULL;
		free(host);
		if (v == NULL)
			return NULL;
	} else if (strcmp(name, "mydomain") == 0) {
		const char *host = expanded(cf, "myhostname", err);

		if (host == NULL)
			return NULL;
		v = derived_mydomain(host);
	} else if (strcmp(name, "mynetworks") == 0) {
		const char *style = expanded(cf, "mynetworks_style", err);

		if (style == NULL || derived_mynetworks(style, &b, err) < 0) {
			buf_free(&b);
			return NULL;
		}
		v = buf_steal(&b);
	} else if (strcmp(name, "process_id") == 0) {
		buf_printf(&b, "%ld", (long)getpid());
		v = buf_steal(&b);
	} else if (strcmp(name, "service_name") == 0) {
		v = xstrdup(cf->service ? cf->service->name : "");
	} else if (strcmp(name, "process_name") == 0) {
		v = xstrdup(cf->service ? cf->service->command : log_progname());
	} else {
		return NULL;
	}
	cmap_put(&cf->derived, name, v);
	return v;
}

/* raw_value - the unexpanded value: set, else default, else derived */
static const char *raw_value(struct config *cf, const char *name, struct buf *err)
{
	struct cf_val *v = cmap_get(&cf->vals, name);
	const struct param_def *p;

	if (v)
		return v->raw;
	p = param_lookup(name);
	if (p && p->def)
		return p->def;
	return derive(cf, name, err);
}

/* loop_error - "a -> b -> a" from the expansion stack */
static void loop_error(struct config *cf, const char *name, struct buf *err)
{
	size_t i = 0;

	while (i < cf->stack.n && strcmp(cf->stack.v[i], name) != 0)
		i++;
	buf_puts(err, "reference loop: ");
	for (; i < cf->stack.n; i++)
		buf_printf(err, "$%s -> ", cf->stack.v[i]);
	buf_printf(err, "$%s", name);
}

/* expanded - the expanded value of name ("" when undefined); NULL + err */
static const char *expanded(struct config *cf, const char *name, struct buf *err)
{
	struct cf_cached *c = cmap_get(&cf->cache, name);
	struct buf out = BUF_INIT;
	const char *raw;
	size_t mark = err->len;
	int rc;

	if (c)
		return c->text;
	if (strv_contains(&cf->stack, name)) {
		if (err->len == 0)
			loop_error(cf, name, err);
		return NULL;
	}
	strv_push(&cf->stack, name);
	raw = raw_value(cf, name, err);
	if (raw == NULL && err->len > mark)
		rc = -1;
	else
		rc = expand_text(raw ? raw : "", expand_lookup, cf, &out, err);
	free(cf->stack.v[--cf->stack.n]);
	cf->stack.v[cf->stack.n] = NULL;
	if (rc < 0) {
		buf_free(&out);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->text = out.data ? buf_steal(&out) : xstrdup("");
	cmap_put(&cf->cache, name, c);
	return c->text;
}

/* value_of - expanded value for a getter; never NULL on a loaded config */
static const char *value_of(struct config *cf, const char *name)
{
	struct buf err = BUF_INIT;
	const char *v = expanded(cf, name, &err);
	struct cf_cached *c;

	if (v == NULL) {
		log_warn("parameter %s: %s", name, buf_cstr(&err));
		buf_free(&err);
		return "";
	}
	buf_free(&err);
	if ((c = cmap_get(&cf->cache, name)) != NULL)
		c->given = true;
	return v;
}

/* where - "FILE:LINE" of a setting, or the main.cf path for defaults */
static void where(struct config *cf, const char *name, struct buf *out)
{
	struct cf_val *v = cmap_get(&cf->vals, name);

	if (v && v->line > 0)
		buf_printf(out, "%s:%d", v->file, v->line);
	else if (v)
		buf_printf(out, "%s", v->file);
	else
		buf_printf(out, "%s", cf->main_path ? cf->main_path : "main.cf");
}

/* check_one - validate one parameter; appends an error line on failure */
static int check_one(struct config *cf, const char *name, struct buf *err)
{
	struct buf why = BUF_INIT;
	const struct param_def *p = param_lookup(name);
	const char *v = expanded(cf, name, &why);
	int rc = 0;

	if (v == NULL || (p && value_check(p, v, &why) < 0)) {
		where(cf, name, err);
		buf_printf(err, ": parameter %s: %s", name, buf_cstr(&why));
		if (!cmap_get(&cf->vals, name))
			buf_puts(err, " (in its default value)");
		buf_putc(err, '\n');
		rc = -1;
	}
	buf_free(&why);
	return rc;
}

/* config_new - an empty configuration */
static struct config *config_new(const char *dir, const char *main_cf, const char *master_cf)
{
	struct config *cf = xcalloc(1, sizeof(*cf));

	cf->dir = xstrdup(dir);
	cf->main_path = xstrdup(main_cf);
	cf->master_path = master_cf ? xstrdup(master_cf) : NULL;
	return cf;
}

/* build_settings - the public view of main.cf entries */
static void build_settings(struct config *cf)
{
	size_t i;

	cf->settings = xcalloc(cf->ents.n + 1, sizeof(*cf->settings));
	for (i = 0; i < cf->ents.n; i++) {
		cf->settings[i].name = cf->ents.v[i].name;
		cf->settings[i].value = cf->ents.v[i].value;
		cf->settings[i].file = cf->ents.v[i].file;
		cf->settings[i].line = cf->ents.v[i].line;
		cf->settings[i].last_line = cf->ents.v[i].last_line;
	}
}

/* resolve_maxproc - "-" means default_process_limit */
static void resolve_maxproc(struct config *cf)
{
	size_t i;

	for (i = 0; i < cf->svcs.n; i++)
		if (cf->svcs.v[i].maxproc < 0)
			cf->svcs.v[i].maxproc = config_int(cf, "default_process_limit");
}

/* rdeps_free - cmap value destructor */
static void rdeps_free(void *p)
{
	struct strv *sv = p;

	strv_free(sv);
	free(sv);
}

/* rdeps_add - record in map that user's value refers to each name it mentions */
static void rdeps_add(struct cmap *map, const char *user, const char *raw)
{
	struct strv refs = STRV_INIT;
	size_t i;

	if (strchr(raw, '$') == NULL)
		return;
	expand_refs(raw, &refs);
	for (i = 0; i < refs.n; i++) {
		struct strv *users = cmap_get(map, refs.v[i]);

		if (users == NULL) {
			users = xcalloc(1, sizeof(*users));
			cmap_put(map, refs.v[i], users);
		}
		strv_push(users, user);
	}
	strv_free(&refs);
}

/* Who refers to whom among the registry's defaults: built once, kept. */
static struct cmap registry_rdeps;
static bool registry_rdeps_ok;

/*
 * rdeps_build - who refers to whom in cf's own settings. A default that a
 * setting replaced keeps its edges in registry_rdeps; that only makes
 * validation check a little more than it must.
 */
static void rdeps_build(struct config *cf)
{
	size_t i, n;
	const struct param_def *const *all;

	if (!registry_rdeps_ok) {
		all = params_all(&n);
		for (i = 0; i < n; i++)
			if (all[i]->def)
				rdeps_add(&registry_rdeps, all[i]->name, all[i]->def);
		registry_rdeps_ok = true;
	}
	cmap_free(&cf->rdeps, rdeps_free);
	for (i = 0; i < cf->vals.cap; i++)
		if (cf->vals.slots[i].key)
			rdeps_add(&cf->rdeps, cf->vals.slots[i].key,
				  ((struct cf_val *)cf->vals.slots[i].value)->raw);
	cf->rdeps_ok = true;
}

/* seed - add name to the names to check, once */
static void seed(struct strv *todo, struct cmap *seen, const char *name)
{
	if (cmap_get(seen, name))
		return;
	cmap_put(seen, name, seen);
	strv_push(todo, name);
}

/* close_over - add every name whose value refers to one in todo */
static void close_over(const struct config *rd, struct strv *todo, struct cmap *seen)
{
	size_t i, k;

	for (i = 0; i < todo->n; i++) {
		const struct strv *users[2];
		int u;

		users[0] = cmap_get(&registry_rdeps, todo->v[i]);
		users[1] = cmap_get(&rd->rdeps, todo->v[i]);
		for (u = 0; u < 2; u++)
			for (k = 0; users[u] && k < users[u]->n; k++)
				seed(todo, seen, users[u]->v[k]);
	}
}

/*
 * validate_affected - check the overridden names and everything whose
 * value refers to them, directly or not (the rest equals the base, which
 * was validated already).
 */
static int validate_affected(struct config *cf, const struct config *base,
			     const struct master_service *svc, struct buf *err)
{
	struct strv todo = STRV_INIT;
	struct cmap seen = CMAP_INIT;
	size_t i;
	int rc = 0;

	/* these differ per service even without overrides */
	seed(&todo, &seen, "service_name");
	seed(&todo, &seen, "process_name");
	for (i = 0; i < svc->opt_names.n; i++)
		seed(&todo, &seen, svc->opt_names.v[i]);
	close_over(base, &todo, &seen);
	for (i = 0; i < todo.n; i++)
		if (check_one(cf, todo.v[i], err) < 0)
			rc = -1;
	strv_free(&todo);
	cmap_free(&seen, NULL);
	return rc;
}

/*
 * config_validate - every set parameter and every parameter whose value
 * refers to a set or machine-derived one, directly or not. Defaults that
 * refer to nothing are constants (the registry test checks them).
 * Errors of settings come first, in file order.
 */
static int config_validate(struct config *cf, struct buf *err)
{
	static const char *const derived_names[] = {
		"myhostname", "mydomain", "mynetworks", "process_id", "service_name", "process_name",
	};
	struct strv todo = STRV_INIT;
	struct cmap seen = CMAP_INIT;
	size_t i;
	int rc = 0;

	if (!cf->rdeps_ok)
		rdeps_build(cf);
	for (i = 0; i < cf->ents.n; i++)
		seed(&todo, &seen, cf->ents.v[i].name);
	if (cf->service)
		for (i = 0; i < cf->service->opt_names.n; i++)
			seed(&todo, &seen, cf->service->opt_names.v[i]);
	for (i = 0; i < cf->vals.cap; i++)
		if (cf->vals.slots[i].key)
			seed(&todo, &seen, cf->vals.slots[i].key);
	for (i = 0; i < sizeof(derived_names) / sizeof(derived_names[0]); i++)
		seed(&todo, &seen, derived_names[i]);
	close_over(cf, &todo, &seen);
	for (i = 0; i < todo.n; i++)
		if (check_one(cf, todo.v[i], err) < 0)
			rc = -1;
	strv_free(&todo);
	cmap_free(&seen, NULL);
	return rc;
}

/* validate_services - each service's view must load too */
static int validate_services(struct config *cf, struct buf *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < cf->svcs.n; i++) {
		struct config *scf = config_for_master_service(cf, &cf->svcs.v[i], err);

		if (scf == NULL)
			rc = -1;
		config_free(&scf);
	}
	return rc;
}

/* config_finish - apply the parsed settings and validate; NULL on any error */
static struct config *config_finish(struct config *cf, size_t mark, struct buf *err)
{
	size_t i;

	/* go on after syntax errors, so that one run lists every problem */
	val_put(cf, "config_directory", cf->dir, cf->main_path, -1);
	for (i = 0; i < cf->ents.n; i++)
		val_put(cf, cf->ents.v[i].name, cf->ents.v[i].value, cf->ents.v[i].file,
			cf->ents.v[i].line);
	build_settings(cf);
	config_validate(cf, err);
	if (err->len == mark)
		validate_services(cf, err);
	if (err->len > mark) {
		config_free(&cf);
		return NULL;
	}
	resolve_maxproc(cf);
	return cf;
}

/* config_load_files - load main.cf and (when not NULL) master.cf */
struct config *config_load_files(const char *main_cf, const char *master_cf, struct buf *err)
{
	struct strv warnings = STRV_INIT;
	char *dir = xstrdup(main_cf), *slash = strrchr(dir, '/');
	struct config *cf;
	size_t mark = err->len, i;

	if (slash) {
		*slash = '\0';
		cf = config_new(*dir ? dir : "/", main_cf, master_cf);
	} else {
		cf = config_new(".", main_cf, master_cf);
	}
	free(dir);
	mainfile_read(main_cf, &cf->ents, err, &warnings);
	for (i = 0; i < warnings.n; i++)
		log_warn("%s", warnings.v[i]);
	strv_free(&warnings);
	if (master_cf && access(master_cf, F_OK) == 0)
		master_cf_read(master_cf, &cf->svcs, err);
	return config_finish(cf, mark, err);
}

/*
 * config_load_text - main.cf and master.cf given as text (tests, fuzzers,
 * tools that build a configuration in memory). Names in errors are
 * "main.cf" and "master.cf"; master may be NULL.
 */
struct config *config_load_text(const char *main_text, size_t main_len, const char *master_text,
				size_t master_len, struct buf *err)
{
	struct config *cf = config_new(".", "main.cf", master_text ? "master.cf" : NULL);
	size_t mark = err->len;

	mainfile_parse(main_text, main_len, "main.cf", &cf->ents, err, NULL);
	if (master_text)
		master_cf_parse(master_text, master_len, "master.cf", &cf->svcs, err);
	return config_finish(cf, mark, err);
}

/*
 * config_load_unchecked - main.cf settings that parse, without validation
 * and without master.cf: for tools that must work on a broken
 * configuration (finding the pid file to stop a running master). Never
 * NULL; getters of a bad value give ""/0 and a warning.
 */
struct config *config_load_unchecked(const char *config_dir)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct config *cf;
	size_t i;

	buf_printf(&path, "%s/main.cf", config_dir);
	cf = config_new(config_dir, buf_cstr(&path), NULL);
	mainfile_read(buf_cstr(&path), &cf->ents, &err, NULL);
	val_put(cf, "config_directory", config_dir, buf_cstr(&path), -1);
	for (i = 0; i < cf->ents.n; i++)
		val_put(cf, cf->ents.v[i].name, cf->ents.v[i].value, cf->ents.v[i].file,
			cf->ents.v[i].line);
	build_settings(cf);
	buf_free(&path);
	buf_free(&err);
	return cf;
}

/* config_load - main.cf and master.cf of a configuration directory */
struct config *config_load(const char *config_dir, struct buf *err)
{
	struct buf m = BUF_INIT, s = BUF_INIT;
	struct config *cf;

	buf_printf(&m, "%s/main.cf", config_dir);
	buf_printf(&s, "%s/master.cf", config_dir);
	cf = config_load_files(buf_cstr(&m), buf_cstr(&s), err);
	if (cf) {
		free(cf->dir);
		cf->dir = xstrdup(config_dir);
		val_put(cf, "config_directory", config_dir, buf_cstr(&m), -1);
		cache_clear(cf);
	}
	buf_free(&m);
	buf_free(&s);
	return cf;
}

/* config_clone - deep copy of settings and services (no cache) */
static struct config *config_clone(const struct config *base)
{
	struct config *cf = config_new(base->dir, base->main_path, base->master_path);
	size_t i;

	for (i = 0; i < base->ents.n; i++) {
		const struct cf_entry *e = &base->ents.v[i];

		if (cf->ents.n == cf->ents.cap) {
			cf->ents.cap = cf->ents.cap ? cf->ents.cap * 2 : 32;
			cf->ents.v = xreallocarray(cf->ents.v, cf->ents.cap, sizeof(*cf->ents.v));
		}
		cf->ents.v[cf->ents.n].name = xstrdup(e->name);
		cf->ents.v[cf->ents.n].value = xstrdup(e->value);
		cf->ents.v[cf->ents.n].file = xstrdup(e->file);
		cf->ents.v[cf->ents.n].line = e->line;
		cf->ents.v[cf->ents.n].last_line = e->last_line;
		cf->ents.n++;
	}
	build_settings(cf);
	for (i = 0; i < base->vals.cap; i++) {
		const struct cf_val *v = base->vals.slots[i].value;

		if (base->vals.slots[i].key)
			val_put(cf, base->vals.slots[i].key, v->raw, v->file, v->line);
	}
	cf->svcs.v = xcalloc(base->svcs.n + 1, sizeof(*cf->svcs.v));
	cf->svcs.cap = base->svcs.n + 1;
	for (i = 0; i < base->svcs.n; i++)
		master_service_copy(&cf->svcs.v[i], &base->svcs.v[i]);
	cf->svcs.n = base->svcs.n;
	return cf;
}

/* config_for_master_service - svc's -o overrides over a copy of base */
struct config *config_for_master_service(const struct config *base,
					 const struct master_service *svc, struct buf *err)
{
	struct config *cf = config_clone(base);
	size_t i, mark = err->len;
	struct buf why = BUF_INIT;

	for (i = 0; i < cf->svcs.n; i++)
		if (strcmp(cf->svcs.v[i].name, svc->name) == 0 &&
		    strcmp(cf->svcs.v[i].type, svc->type) == 0)
			cf->service = &cf->svcs.v[i];
	if (cf->service == NULL) {
		/* a service not from base's master.cf: keep a private copy */
		cf->svcs.v = xreallocarray(cf->svcs.v, cf->svcs.n + 1, sizeof(*cf->svcs.v));
		master_service_copy(&cf->svcs.v[cf->svcs.n], svc);
		cf->service = &cf->svcs.v[cf->svcs.n++];
		cf->svcs.cap = cf->svcs.n;
	}
	for (i = 0; i < svc->opt_names.n; i++)
		val_put(cf, svc->opt_names.v[i], svc->opt_values.v[i], svc->file, svc->line);
	if ((base->rdeps_ok ? validate_affected(cf, base, svc, &why)
			    : config_validate(cf, &why)) < 0) {
		const char *p = buf_cstr(&why);

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			buf_printf(err, "service %s/%s: %.*s\n", svc->name, svc->type, (int)n, p);
			p += n + (nl != NULL);
		}
	}
	buf_free(&why);
	if (err->len > mark) {
		config_free(&cf);
		return NULL;
	}
	return cf;
}

/* config_for_service - by name, or "name/type"; prefers an inet service */
struct config *config_for_service(const struct config *base, const char *service_name,
				  struct buf *err)
{
	const struct master_service *svc = config_service(base, service_name);

	if (svc == NULL) {
		buf_printf(err, "%s: no service \"%s\"\n",
			   base->master_path ? base->master_path : "master.cf", service_name);
		return NULL;
	}
	return config_for_master_service(base, svc, err);
}

/* config_free - release everything, clear *cfp */
void config_free(struct config **cfp)
{
	struct config *cf = *cfp;

	if (cf == NULL)
		return;
	free(cf->dir);
	free(cf->main_path);
	free(cf->master_path);
	mainfile_free(&cf->ents);
	free(cf->settings);
	cmap_free(&cf->vals, val_free);
	cmap_free(&cf->cache, cached_free);
	cmap_free(&cf->derived, free);
	cmap_free(&cf->rdeps, rdeps_free);
	strv_free(&cf->retired);
	strv_free(&cf->stack);
	master_cf_free(&cf->svcs);
	free(cf);
	*cfp = NULL;
}

/* config_dir - the configuration directory */
const char *config_dir(const struct config *cf)
{
	return cf->dir;
}

/* config_main_path - path of main.cf */
const char *config_main_path(const struct config *cf)
{
	return cf->main_path;
}

/* config_master_path - path of master.cf (may not exist) */
const char *config_master_path(const struct config *cf)
{
	return cf->master_path ? cf->master_path : "";
}

/* config_str - expanded value; "" when neither set nor registered */
const char *config_str(struct config *cf, const char *name)
{
	return value_of(cf, name);
}

/* config_raw - value before expansion */
const char *config_raw(struct config *cf, const char *name)
{
	struct buf err = BUF_INIT;
	const char *v = raw_value(cf, name, &err);

	buf_free(&err);
	return v;
}

/* config_bool - yes/no value; false for anything else */
bool config_bool(struct config *cf, const char *name)
{
	bool b = false;

	value_bool(value_of(cf, name), &b);
	return b;
}

/* config_int - integer value; 0 when not a number */
long config_int(struct config *cf, const char *name)
{
	long v = 0;

	value_long(value_of(cf, name), &v);
	return v;
}

/* config_time - seconds, using the parameter's default unit for bare numbers */
long config_time(struct config *cf, const char *name)
{
	const struct param_def *p = param_lookup(name);
	long v = 0;

	value_time(value_of(cf, name), p && p->unit ? p->unit : 's', &v);
	return v;
}

/* config_size - byte count */
long config_size(struct config *cf, const char *name)
{
	return config_int(cf, name);
}

/* config_list - items split on commas and blanks, "{ … }" groups whole */
void config_list(struct config *cf, const char *name, struct strv *out)
{
	const char *err;

	if (str_split(value_of(cf, name), STR_SEP_LIST, out, &err) < 0)
		log_warn("parameter %s: %s", name, err);
}

/* config_is_set - set in main.cf, by -o, or by config_set */
bool config_is_set(const struct config *cf, const char *name)
{
	struct cf_val *v = cmap_get(&cf->vals, name);

	return v && v->line >= 0;
}

/* config_set - override name at run time; refuses values that do not validate */
int config_set(struct config *cf, const char *name, const char *value, struct buf *err)
{
	struct cf_val *old = cmap_get(&cf->vals, name);
	struct cf_val saved = { NULL, NULL, 0 };
	size_t mark = err->len;

	if (!mainfile_valid_name(name)) {
		buf_printf(err, "bad parameter name \"%s\"\n", name);
		return -1;
	}
	if (old) {
		saved.raw = xstrdup(old->raw);
		saved.file = xstrdup(old->file);
		saved.line = old->line;
	}
	val_put(cf, name, value, "config_set", 0);
	cache_clear(cf);
	cf->rdeps_ok = false;
	if (config_validate(cf, err) < 0) {
		if (saved.raw)
			val_put(cf, name, saved.raw, saved.file, saved.line);
		else
			val_free(cmap_del(&cf->vals, name));
		cache_clear(cf);
		cf->rdeps_ok = false;
	}
	free(saved.raw);
	free(saved.file);
	return err->len > mark ? -1 : 0;
}

/* config_services - every master.cf service in file order */
const struct master_service *config_services(const struct config *cf, size_t *n)
{
	*n = cf->svcs.n;
	return cf->svcs.v;
}

/* config_service - by "name" (an inet service first) or "name/type" */
const struct master_service *config_service(const struct config *cf, const char *name)
{
	const struct master_service *first = NULL;
	const char *slash = strchr(name, '/');
	size_t i, nlen = slash ? (size_t)(slash - name) : strlen(name);

	for (i = 0; i < cf->svcs.n; i++) {
		const struct master_service *s = &cf->svcs.v[i];

		if (strlen(s->name) != nlen || strncmp(s->name, name, nlen) != 0)
			continue;
		if (slash ? strcmp(s->type, slash + 1) == 0 : strcmp(s->type, "inet") == 0)
			return s;
		if (!slash && first == NULL)
			first = s;
	}
	return first;
}

/* config_this_service - the service a per-service configuration is for */
const struct master_service *config_this_service(const struct config *cf)
{
	return cf->service;
}

/* config_settings - main.cf settings in file order */
const struct config_setting *config_settings(const struct config *cf, size_t *n)
{
	*n = cf->ents.n;
	return cf->settings;
}

/* config_valid_name - letters, digits, '_', '-', '.' */
bool config_valid_name(const char *name)
{
	return mainfile_valid_name(name) != 0;
}

/* config_path - resolve a relative path (private/auth) against queue_directory */
char *config_path(struct config *cf, const char *value)
{
	struct buf b = BUF_INIT;

	if (value[0] == '/' || value[0] == '\0')
		return xstrdup(value);
	buf_printf(&b, "%s/%s", config_str(cf, "queue_directory"), value);
	return buf_steal(&b);
}

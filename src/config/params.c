/*
 * params - lookups in the parameter registry.
 *
 * The registry is the union of params_postfix[] and params_outpost[], the
 * Outpost entry winning on a name clash. It is built once, sorted by name.
 *
 * Public: param_lookup, params_all.
 * Bad input: an unknown name gives NULL.
 */
#include "config/params.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

static const struct param_def **registry;
static size_t registry_n;

/* param_cmp - order by name, for qsort and bsearch */
static int param_cmp(const void *a, const void *b)
{
	const struct param_def *const *pa = a;
	const struct param_def *const *pb = b;

	return strcmp((*pa)->name, (*pb)->name);
}

/* params_build - merge the two tables once; later entries win */
static void params_build(void)
{
	size_t i, out = 0;
	const struct param_def **all;
	size_t total = params_postfix_count + params_outpost_count;

	all = xcalloc(total, sizeof(*all));
	for (i = 0; i < params_outpost_count; i++)
		all[out++] = &params_outpost[i];
	for (i = 0; i < params_postfix_count; i++)
		all[out++] = &params_postfix[i];
	/* Stable order matters: Outpost entries come first, so keep the first. */
	for (i = 1; i < out; i++) {
		size_t j = i;
		const struct param_def *p = all[i];

		while (j > 0 && strcmp(all[j - 1]->name, p->name) > 0) {
			all[j] = all[j - 1];
			j--;
		}
		all[j] = p;
	}
	registry_n = 0;
	for (i = 0; i < out; i++) {
		if (registry_n > 0 && strcmp(all[registry_n - 1]->name, all[i]->name) == 0)
			continue;
		all[registry_n++] = all[i];
	}
	registry = all;
}

/* params_all - every registered parameter, sorted by name */
const struct param_def *const *params_all(size_t *n)
{
	if (registry == NULL)
		params_build();
	*n = registry_n;
	return registry;
}

/* param_lookup - the declaration of name, or NULL when not registered */
const struct param_def *param_lookup(const char *name)
{
	struct param_def key = { .name = name };
	const struct param_def *kp = &key;
	const struct param_def **hit;

	if (registry == NULL)
		params_build();
	hit = bsearch(&kp, registry, registry_n, sizeof(*registry), param_cmp);
	return hit ? *hit : NULL;
}

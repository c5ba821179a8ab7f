/*
 * deliver_maps - the table lookups the local and virtual agents make, with
 * the virtual(5) search order and three-state results.
 *
 * Public: deliver_maps_open, deliver_maps_find, deliver_maps_get,
 * deliver_maps_close.
 * Errors: a table that cannot be opened or a failed lookup is reported as
 * "parameter: reason"; agents turn it into a 4.3.0 deferral.
 */
#include "deliver/deliver_maps.h"

#include "lib/mem.h"
#include "lib/str.h"

struct deliver_maps {
	char *param;
	struct table_list *list;	/* NULL: parameter empty */
	char *delim;
};

/* deliver_maps_open - the tables of a parameter; NULL with err on failure */
struct deliver_maps *deliver_maps_open(struct config *cf, const char *param,
				       struct buf *err)
{
	struct deliver_maps *m = xcalloc(1, sizeof(*m));
	const char *v = config_str(cf, param);
	struct buf e = BUF_INIT;

	m->param = xstrdup(param);
	m->delim = xstrdup(config_str(cf, "recipient_delimiter"));
	if (!str_is_blank(v) && (m->list = table_list_open(v, TABLE_F_FOLD, &e)) == NULL) {
		buf_printf(err, "%s: %s", param, buf_cstr(&e));
		buf_free(&e);
		deliver_maps_close(&m);
		return NULL;
	}
	buf_free(&e);
	return m;
}

/* deliver_maps_find - virtual(5)-style search; how = TABLE_SEARCH_* */
enum table_status deliver_maps_find(struct deliver_maps *m, enum table_search how,
				    const char *key, struct buf *value,
				    struct buf *err)
{
	struct table_search_opts o = { .recipient_delimiter = m->delim };
	enum table_status st;

	if (m->list == NULL)
		return TABLE_NOTFOUND;
	st = table_find(m->list, how, key, &o, value, NULL);
	if (st == TABLE_TEMPFAIL)
		buf_printf(err, "%s lookup of \"%s\" failed: %s", m->param, key,
			   table_list_error(m->list));
	return st;
}

/* deliver_maps_get - one exact key */
enum table_status deliver_maps_get(struct deliver_maps *m, const char *key,
				   struct buf *value, struct buf *err)
{
	enum table_status st;

	if (m->list == NULL)
		return TABLE_NOTFOUND;
	st = table_list_lookup(m->list, key, false, value, NULL);
	if (st == TABLE_TEMPFAIL)
		buf_printf(err, "%s lookup of \"%s\" failed: %s", m->param, key,
			   table_list_error(m->list));
	return st;
}

/* deliver_maps_close - release */
void deliver_maps_close(struct deliver_maps **mp)
{
	struct deliver_maps *m = *mp;

	if (m == NULL)
		return;
	if (m->list)
		table_list_close(&m->list);
	xfree(&m->param);
	xfree(&m->delim);
	xfree(mp);
}

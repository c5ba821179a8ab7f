/*
 * virtual - the virtual(8) agent: mailboxes of virtual_mailbox_domains.
 *
 * Per recipient: virtual_mailbox_maps (virtual(5) search) gives a path
 * under virtual_mailbox_base — a trailing slash means Maildir, otherwise
 * an mbox file locked per virtual_mailbox_lock; virtual_uid_maps and
 * virtual_gid_maps give the owner (static:N works), which must be at
 * least virtual_minimum_uid; virtual_mailbox_limit caps an mbox or one
 * Maildir message. Return-Path, X-Original-To and Delivered-To are
 * prepended; a Delivered-To already naming the recipient is a loop.
 *
 * Public: deliver_virtual.
 * Errors: unknown user 5.1.1, loop 5.4.6, mailbox full 5.2.2, table or
 * configuration trouble 4.3.0 / 4.3.5, local I/O 4.3.0 — with the reason.
 */
#include "deliver/deliver.h"

#include <stdlib.h>
#include <string.h>

#include "deliver/deliver_maps.h"
#include "deliver/mailbox.h"
#include "lib/log.h"
#include "lib/str.h"

struct virtual_ctx {
	struct delivery *d;
	struct deliver_maps *mailbox, *uid, *gid;
	const char *base;
	long minimum_uid;
	long limit;
	unsigned locks;
	const struct buf *content;
};

/* one_job - what the forked child writes */
struct virtual_job {
	const char *path;
	bool maildir;
	struct buf headers;
	const struct virtual_ctx *vc;
};

/* virtual_write - deliver one recipient's copy (runs as the mailbox owner) */
static void virtual_write(void *ctx, struct deliver_outcome *o)
{
	struct virtual_job *j = ctx;
	const struct virtual_ctx *vc = j->vc;

	if (j->maildir) {
		mailbox_maildir_deliver(j->path, &j->headers, vc->content, vc->limit, o);
	} else {
		struct mbox_opts mo = {
			.locks = vc->locks,
			.lock_attempts = (int)config_int(vc->d->cf, "deliver_lock_attempts"),
			.lock_delay = config_time(vc->d->cf, "deliver_lock_delay"),
			.stale_lock_time = config_time(vc->d->cf, "stale_lock_time"),
			.size_limit = vc->limit,
			.sender = vc->d->sender,
			.arrival = vc->d->arrival,
		};
		mailbox_mbox_deliver(j->path, &mo, &j->headers, vc->content, o);
	}
}

/* lookup_id - uid or gid of a recipient; 0 ok, -1 with the result set */
static int lookup_id(struct virtual_ctx *vc, struct deliver_maps *m,
		     const char *param, struct delivery_rcpt *r, long *id)
{
	struct buf v = BUF_INIT, err = BUF_INIT;
	enum table_status st = deliver_maps_find(m, TABLE_SEARCH_VIRTUAL, r->address,
						 &v, &err);
	int ret = -1;

	if (st == TABLE_TEMPFAIL)
		deliver_set(r, "4.3.0", "virtual", "%s", buf_cstr(&err));
	else if (st == TABLE_NOTFOUND)
		deliver_set(r, "4.3.5", "virtual",
			    "mail system configuration error: recipient %s not found in %s",
			    r->address, param);
	else if (str_parse_long(str_trim(v.data), id) < 0 || *id < 0)
		deliver_set(r, "4.3.5", "virtual",
			    "mail system configuration error: bad %s result \"%s\" for %s",
			    param, buf_cstr(&v), r->address);
	else
		ret = 0;
	(void)vc;
	buf_free(&v);
	buf_free(&err);
	return ret;
}

/* virtual_one - one recipient */
static void virtual_one(struct virtual_ctx *vc, struct delivery_rcpt *r)
{
	struct buf mbox = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
	struct virtual_job job = { .vc = vc, .headers = BUF_INIT };
	struct deliver_outcome o;
	enum table_status st;
	long uid, gid;

	if (deliver_loop_check(vc->content, r->address)) {
		deliver_set(r, "5.4.6", "virtual", "mail forwarding loop for %s", r->address);
		return;
	}
	st = deliver_maps_find(vc->mailbox, TABLE_SEARCH_VIRTUAL, r->address, &mbox, &err);
	if (st == TABLE_TEMPFAIL) {
		deliver_set(r, "4.3.0", "virtual", "%s", buf_cstr(&err));
		goto done;
	}
	if (st == TABLE_NOTFOUND) {
		deliver_set(r, "5.1.1", "virtual", "unknown user: \"%s\"", r->address);
		goto done;
	}
	if (lookup_id(vc, vc->uid, "virtual_uid_maps", r, &uid) < 0
	    || lookup_id(vc, vc->gid, "virtual_gid_maps", r, &gid) < 0)
		goto done;
	if (uid < vc->minimum_uid) {
		deliver_set(r, "4.3.5", "virtual",
			    "mail system configuration error: uid %ld of %s is below virtual_minimum_uid %ld",
			    uid, r->address, vc->minimum_uid);
		goto done;
	}
	str_trim(mbox.data);
	if (strstr(buf_cstr(&mbox), "/../") || str_has_prefix(buf_cstr(&mbox), "../")) {
		deliver_set(r, "4.3.5", "virtual",
			    "mail system configuration error: mailbox path \"%s\" leaves virtual_mailbox_base",
			    buf_cstr(&mbox));
		goto done;
	}
	if (*vc->base)
		buf_printf(&path, "%s/%s", vc->base, buf_cstr(&mbox));
	else
		buf_set(&path, buf_cstr(&mbox));
	job.maildir = str_has_suffix(buf_cstr(&path), "/");
	if (job.maildir)
		buf_truncate(&path, path.len - 1);
	job.path = buf_cstr(&path);
	deliver_prepend_headers(vc->d, r, true, &job.headers);
	deliver_as_user((uid_t)uid, (gid_t)gid, NULL, virtual_write, &job, &o);
	deliver_set(r, o.dsn[0] ? o.dsn : "4.3.0", "virtual", "%s",
		    o.text[0] ? o.text : "delivery failed");
done:
	buf_free(&job.headers);
	buf_free(&mbox);
	buf_free(&err);
	buf_free(&path);
}

/* deliver_virtual - the agent */
void deliver_virtual(struct delivery *d)
{
	struct virtual_ctx vc = { .d = d };
	struct buf content = BUF_INIT, err = BUF_INIT;

	vc.base = config_str(d->cf, "virtual_mailbox_base");
	vc.minimum_uid = config_int(d->cf, "virtual_minimum_uid");
	vc.limit = config_size(d->cf, "virtual_mailbox_limit");
	vc.locks = mailbox_lock_styles(config_str(d->cf, "virtual_mailbox_lock"), &err);
	if (vc.locks == 0) {
		deliver_set_all(d, "4.3.5", "virtual",
				"mail system configuration error: virtual_mailbox_lock: %s",
				buf_cstr(&err));
		goto done;
	}
	if ((vc.mailbox = deliver_maps_open(d->cf, "virtual_mailbox_maps", &err)) == NULL
	    || (vc.uid = deliver_maps_open(d->cf, "virtual_uid_maps", &err)) == NULL
	    || (vc.gid = deliver_maps_open(d->cf, "virtual_gid_maps", &err)) == NULL) {
		deliver_set_all(d, "4.3.0", "virtual", "%s", buf_cstr(&err));
		goto done;
	}
	if (deliver_content_read(d, &content) < 0) {
		deliver_set_all(d, "4.3.0", "virtual", "cannot read queue file: %m");
		goto done;
	}
	vc.content = &content;
	for (size_t i = 0; i < d->nrcpt; i++)
		if (d->rcpt[i].status == DELIVERY_PENDING)
			virtual_one(&vc, &d->rcpt[i]);
done:
	deliver_maps_close(&vc.mailbox);
	deliver_maps_close(&vc.uid);
	deliver_maps_close(&vc.gid);
	buf_free(&content);
	buf_free(&err);
}

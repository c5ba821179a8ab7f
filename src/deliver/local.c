/*
 * local - the local(8) agent: aliases, .forward files and mailboxes of
 * the local domains (mydestination).
 *
 * Per recipient (local part folded to lower case, extension split at the
 * first recipient_delimiter character except for mailer-daemon,
 * postmaster, double-bounce and, with owner_request_special, owner-* and
 * *-request):
 *   1. alias_maps: "name+ext", then "name". The value is a list of
 *      destinations: "|command", "/file" (a trailing slash = Maildir),
 *      ":include:/file", "\user" (that user's mailbox), or an address —
 *      a local one is delivered here recursively, anything else is
 *      forwarded as a new message through cleanup, so canonical and
 *      virtual alias rewriting apply to it (the sender is kept, or becomes
 *      owner-NAME@$myorigin when that alias exists; Delivered-To is
 *      prepended so loops are caught).
 *   2. the passwd entry (none: 5.1.1 unknown user), then the first
 *      existing forward_path file owned by the user, with the same
 *      destinations; the user's own name in it means the mailbox.
 *   3. the mailbox: mailbox_command, else $home/home_mailbox (Maildir when
 *      it ends with "/"), else mail_spool_directory/user (mbox, locked per
 *      mailbox_delivery_lock, mailbox_size_limit).
 * Commands and files need allow_mail_to_commands / allow_mail_to_files
 * for their context (alias, forward, include). Alias and include
 * deliveries run as default_privs, .forward and mailbox deliveries as the
 * user; as root that is a forked child with the user's identity.
 *
 * Public: deliver_local.
 * Errors: 5.1.1 unknown user, 5.4.6 loop, 5.7.1 command/file not allowed,
 * 5.2.2 mailbox full, 4.3.0 local I/O or table trouble, 4.3.5
 * configuration trouble; a recipient with several destinations gets the
 * worst outcome (deferral before bounce before success).
 */
#include "deliver/local.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver/deliver_maps.h"
#include "deliver/mailbox.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/str.h"
#include "mail/qfile.h"
#include "mail/resolve.h"

#define CTX_ALIAS	(1u << 0)
#define CTX_FORWARD	(1u << 1)
#define CTX_INCLUDE	(1u << 2)
#define LOCAL_MAX_DEPTH	20

struct user {
	uid_t uid;
	gid_t gid;
	char *name, *home, *shell;
};

struct local_ctx {
	struct delivery *d;
	struct config *cf;
	struct delivery_rcpt *r;
	struct deliver_maps *aliases;
	const struct buf *content;
	const char *delim;
	bool owner_request_special;
	unsigned allow_cmd, allow_file;
	struct strv forward;	/* addresses to send on in a new queue file */
	struct strv seen;	/* alias names already expanded for this recipient */
	struct deliver_outcome result;	/* worst so far */
	bool have_result;
	const char *ext;	/* extension of the original recipient */
	struct resolve_ctx *resolve;	/* which domains are local */
	struct buf owner;	/* owner-ALIAS@$myorigin: sender of forwarded copies */
};

static void local_name(struct local_ctx *lc, const char *name, int depth);

/* rank - deferral beats bounce beats success */
static int rank(const char *dsn)
{
	return dsn[0] == '4' || dsn[0] == 0 ? 3 : dsn[0] == '5' ? 2 : 1;
}

/* merge - keep the worst outcome of a recipient's destinations */
static void merge(struct local_ctx *lc, const struct deliver_outcome *o)
{
	if (!lc->have_result || rank(o->dsn) > rank(lc->result.dsn)) {
		lc->result = *o;
		lc->have_result = true;
	}
}

/* merge_set - merge a formatted outcome */
static void merge_set(struct local_ctx *lc, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void merge_set(struct local_ctx *lc, const char *dsn, const char *fmt, ...)
{
	struct deliver_outcome o;
	va_list ap;

	snprintf(o.dsn, sizeof(o.dsn), "%s", dsn);
	va_start(ap, fmt);
	vsnprintf(o.text, sizeof(o.text), fmt, ap);
	va_end(ap);
	merge(lc, &o);
}

/* context_bits - "alias, forward, include" as CTX_* bits */
static unsigned context_bits(struct config *cf, const char *param)
{
	struct strv v = STRV_INIT;
	unsigned bits = 0;

	config_list(cf, param, &v);
	for (size_t i = 0; i < v.n; i++) {
		if (strcmp(v.v[i], "alias") == 0)
			bits |= CTX_ALIAS;
		else if (strcmp(v.v[i], "forward") == 0)
			bits |= CTX_FORWARD;
		else if (strcmp(v.v[i], "include") == 0)
			bits |= CTX_INCLUDE;
	}
	strv_free(&v);
	return bits;
}

/* user_get - passwd entry copy; false if unknown */
static bool user_get(const char *name, struct user *u)
{
	struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		return false;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->name = xstrdup(pw->pw_name);
	u->home = xstrdup(pw->pw_dir);
	u->shell = xstrdup(pw->pw_shell ? pw->pw_shell : "");
	return true;
}

/* user_free - release a passwd copy */
static void user_free(struct user *u)
{
	xfree(&u->name);
	xfree(&u->home);
	xfree(&u->shell);
}

/* split_ext - user and extension; no split for the special names */
static void split_ext(const struct local_ctx *lc, const char *name, struct buf *user,
		      struct buf *ext)
{
	size_t n = *lc->delim ? strcspn(name, lc->delim) : strlen(name);

	buf_set(user, name);
	buf_reset(ext);
	if (name[n] == 0 || n == 0)
		return;
	if (strcmp(name, "mailer-daemon") == 0 || strcmp(name, "postmaster") == 0
	    || strcmp(name, "double-bounce") == 0)
		return;
	if (lc->owner_request_special
	    && (str_has_prefix(name, "owner-") || str_has_suffix(name, "-request")))
		return;
	buf_truncate(user, n);
	if (strchr(name + n + 1, '/') != NULL) {
		/* it would reach file names through forward_path's $extension */
		log_warn("%s: address with illegal extension: %s", lc->d->queue_id, name);
		return;
	}
	buf_set(ext, name + n + 1);
}

/* mail_text - From_ line (optional), delivery headers, content (">From " quoted for files) */
static void mail_text(const struct local_ctx *lc, bool from_line, bool quote,
		      bool delivered_to, struct buf *out)
{
	if (from_line)
		mailbox_from_line(out, lc->d->sender, lc->d->arrival);
	deliver_prepend_headers(lc->d, lc->r, delivered_to, out);
	if (quote)
		mailbox_quote_from(buf_cstr(lc->content), lc->content->len, out);
	else
		buf_append(out, buf_cstr(lc->content), lc->content->len);
	if (out->len && out->data[out->len - 1] != '\n')
		buf_putc(out, '\n');
}

/* prepend_delivered - does prepend_delivered_header name this kind? */
static bool prepend_delivered(struct local_ctx *lc, const char *kind)
{
	struct strv v = STRV_INIT;
	bool yes;

	config_list(lc->cf, "prepend_delivered_header", &v);
	yes = strv_contains(&v, kind);
	strv_free(&v);
	return yes;
}

struct job {
	struct local_ctx *lc;
	const struct user *u;
	const char *what;	/* command text or path */
	bool maildir;
	bool spool;	/* mail_spool_directory mbox */
	bool mailbox;	/* the user's own mailbox: always Delivered-To */
};

/* env_push - NAME=value */
static void env_push(struct strv *env, const char *name, const char *value)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s=%s", name, value ? value : "");
	strv_push_take(env, buf_steal(&b));
}

/* job_command - runs as the target user */
static void job_command(void *ctx, struct deliver_outcome *o)
{
	struct job *j = ctx;
	struct local_ctx *lc = j->lc;
	struct strv env = STRV_INIT;
	struct buf text = BUF_INIT, local = BUF_INIT;
	const char *addr = lc->r->address, *at = strrchr(addr, '@');

	buf_set(&local, addr);
	if (at)
		buf_truncate(&local, (size_t)(at - addr));
	env_push(&env, "HOME", j->u->home);
	env_push(&env, "USER", j->u->name);
	env_push(&env, "LOGNAME", j->u->name);
	env_push(&env, "SHELL", j->u->shell);
	env_push(&env, "PATH", "/usr/bin:/bin");
	env_push(&env, "SENDER", lc->d->sender);
	env_push(&env, "RECIPIENT", addr);
	env_push(&env, "LOCAL", buf_cstr(&local));
	env_push(&env, "DOMAIN", at ? at + 1 : "");
	env_push(&env, "EXTENSION", lc->ext);
	env_push(&env, "ORIGINAL_RECIPIENT", lc->r->original ? lc->r->original : addr);
	if (getenv("TZ"))
		env_push(&env, "TZ", getenv("TZ"));
	mail_text(lc, true, false, prepend_delivered(lc, "command"), &text);
	local_run_command(config_str(lc->cf, "local_command_shell"), j->what, env.v, j->u->home,
			  &text, config_time(lc->cf, "command_time_limit"), o);
	strv_free(&env);
	buf_free(&text);
	buf_free(&local);
}

/* job_file - a file or Maildir destination, or the mailbox; runs as the target user */
static void job_file(void *ctx, struct deliver_outcome *o)
{
	struct job *j = ctx;
	struct local_ctx *lc = j->lc;
	struct buf headers = BUF_INIT, err = BUF_INIT;
	bool delivered = j->mailbox || prepend_delivered(lc, "file");

	deliver_prepend_headers(lc->d, lc->r, delivered, &headers);
	if (j->maildir) {
		mailbox_maildir_deliver(j->what, &headers, lc->content,
					config_size(lc->cf, "mailbox_size_limit"), o);
	} else {
		struct mbox_opts mo = {
			.locks = mailbox_lock_styles(config_str(lc->cf, "mailbox_delivery_lock"), &err),
			.lock_attempts = (int)config_int(lc->cf, "deliver_lock_attempts"),
			.lock_delay = config_time(lc->cf, "deliver_lock_delay"),
			.stale_lock_time = config_time(lc->cf, "stale_lock_time"),
			.size_limit = config_size(lc->cf, "mailbox_size_limit"),
			.sender = lc->d->sender,
			.arrival = lc->d->arrival,
			.chown_new = j->spool && geteuid() == 0,
			.owner_uid = j->u->uid,
			.owner_gid = j->u->gid,
		};
		if (mo.locks == 0)
			deliver_outcome_set(o, "4.3.5",
					    "mail system configuration error: mailbox_delivery_lock: %s",
					    buf_cstr(&err));
		else
			mailbox_mbox_deliver(j->what, &mo, &headers, lc->content, o);
	}
	if (!j->mailbox && o->dsn[0] == '2')
		deliver_outcome_set(o, "2.0.0", "delivered to file: %s", j->what);
	buf_free(&headers);
	buf_free(&err);
}

/* run_as - a job with the user's identity (spool mbox: as ourselves, file chowned) */
static void run_as(struct local_ctx *lc, const struct user *u, deliver_as_fn fn,
		   struct job *j)
{
	struct deliver_outcome o;

	if (j->spool)
		fn(j, &o);
	else
		deliver_as_user(u->uid, u->gid, u->name, fn, j, &o);
	if (o.dsn[0] == 0)
		deliver_outcome_set(&o, "4.3.0", "delivery failed without a reason");
	merge(lc, &o);
}

/* mailbox - the user's own mailbox */
static void mailbox(struct local_ctx *lc, const struct user *u)
{
	const char *cmd = config_str(lc->cf, "mailbox_command");
	const char *home_mailbox = config_str(lc->cf, "home_mailbox");
	struct buf path = BUF_INIT;
	struct job j = { .lc = lc, .u = u, .mailbox = true };

	if (*cmd) {
		j.what = cmd;
		run_as(lc, u, job_command, &j);
		return;
	}
	if (*home_mailbox) {
		buf_printf(&path, "%s/%s", u->home, home_mailbox);
		j.maildir = str_has_suffix(home_mailbox, "/");
		if (j.maildir)
			buf_truncate(&path, path.len - 1);
	} else {
		buf_printf(&path, "%s/%s", config_str(lc->cf, "mail_spool_directory"), u->name);
		j.spool = true;
	}
	j.what = buf_cstr(&path);
	run_as(lc, u, job_file, &j);
	buf_free(&path);
}

/* privs_user - default_privs, the identity of alias and include deliveries */
static bool privs_user(struct local_ctx *lc, struct user *u)
{
	const char *name = config_str(lc->cf, "default_privs");

	if (user_get(name, u) && u->uid != 0)
		return true;
	merge_set(lc, "4.3.5", "mail system configuration error: default_privs \"%s\" %s", name,
		  u->name ? "is root" : "is not a user");
	if (u->name)
		user_free(u);
	return false;
}

static void expand(struct local_ctx *lc, const char *value, unsigned ctx,
		   const struct user *who, const char *self, int depth);

/* include_file - ":include:/path" destinations */
static void include_file(struct local_ctx *lc, const char *path, const struct user *who,
			 const char *self, int depth)
{
	FILE *f;
	char line[4096];
	struct buf all = BUF_INIT;

	if (path[0] != '/') {
		merge_set(lc, "5.3.5", ":include:%s: not an absolute path", path);
		return;
	}
	if ((f = fopen(path, "r")) == NULL) {
		merge_set(lc, errno == ENOENT ? "5.3.5" : "4.3.0", "cannot open include file %s: %s",
			  path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = str_trim(line);
		if (*s == 0 || *s == '#')
			continue;
		buf_puts(&all, s);
		buf_putc(&all, ',');
	}
	fclose(f);
	expand(lc, buf_cstr(&all), CTX_INCLUDE, who, self, depth + 1);
	buf_free(&all);
}

/* is_local_domain - final destination here (the resolver's local class)? */
static bool is_local_domain(struct local_ctx *lc, const char *domain)
{
	return resolve_is_local(lc->resolve, domain) == 1;
}

/* destination - one entry of an alias, include or .forward list */
static void destination(struct local_ctx *lc, char *dest, unsigned ctx,
			const struct user *who, const char *self, int depth)
{
	struct job j = { .lc = lc, .u = who, .what = dest };
	const char *at;

	if (*dest == '|') {
		if (!(lc->allow_cmd & ctx)) {
			merge_set(lc, "5.7.1", "mail to command is restricted (allow_mail_to_commands)");
			return;
		}
		j.what = dest + 1;
		run_as(lc, who, job_command, &j);
	} else if (*dest == '/') {
		if (!(lc->allow_file & ctx)) {
			merge_set(lc, "5.7.1", "mail to file is restricted (allow_mail_to_files)");
			return;
		}
		j.maildir = str_has_suffix(dest, "/");
		if (j.maildir)
			dest[strlen(dest) - 1] = 0;
		run_as(lc, who, job_file, &j);
	} else if (strncasecmp(dest, ":include:", 9) == 0) {
		include_file(lc, str_trim(dest + 9), who, self, depth);
	} else if (*dest == '\\') {
		struct user u = { 0 };
		if (!user_get(dest + 1, &u)) {
			merge_set(lc, "5.1.1", "unknown user: \"%s\"", dest + 1);
			return;
		}
		mailbox(lc, &u);
		user_free(&u);
	} else if ((at = strrchr(dest, '@')) == NULL || is_local_domain(lc, at + 1)) {
		struct buf name = BUF_INIT;
		buf_set(&name, dest);
		if (at)
			buf_truncate(&name, (size_t)(at - dest));
		str_lower(name.data);
		if (self && strcmp(buf_cstr(&name), self) == 0) {
			struct user u = { 0 };
			if (user_get(self, &u)) {
				mailbox(lc, &u);
				user_free(&u);
			} else {
				merge_set(lc, "5.1.1", "unknown user: \"%s\"", self);
			}
		} else {
			local_name(lc, buf_cstr(&name), depth + 1);
		}
		buf_free(&name);
	} else {
		strv_push(&lc->forward, dest);
	}
}

/* expand - a comma-separated destination list; quotes keep commas inside */
static void expand(struct local_ctx *lc, const char *value, unsigned ctx,
		   const struct user *who, const char *self, int depth)
{
	struct buf item = BUF_INIT;
	bool quoted = false;

	if (depth > LOCAL_MAX_DEPTH) {
		merge_set(lc, "5.4.6", "alias expansion loop for %s", lc->r->address);
		return;
	}
	for (const char *p = value;; p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (*p == 0 || ((*p == ',' || *p == '\n') && !quoted)) {
			char *s = str_trim(item.data ? item.data : (char *)"");
			if (*s)
				destination(lc, s, ctx, who, self, depth);
			buf_reset(&item);
			if (*p == 0)
				break;
			continue;
		}
		buf_putc(&item, *p);
	}
	buf_free(&item);
}

/* forward_file - expand one forward_path entry; false when it uses an empty $variable */
static bool forward_file(const char *pattern, const struct user *u, const char *ext,
			 const char *delim, struct buf *out)
{
	buf_reset(out);
	for (const char *p = pattern; *p;) {
		char name[64];
		size_t n;
		const char *v;
		bool braced;

		if (*p != '$') {
			buf_putc(out, *p++);
			continue;
		}
		p++;
		braced = *p == '{' || *p == '(';
		if (braced)
			p++;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0 || n >= sizeof(name))
			return false;
		memcpy(name, p, n);
		name[n] = 0;
		p += n;
		if (braced && (*p == '}' || *p == ')'))
			p++;
		v = strcmp(name, "home") == 0 ? u->home
		    : strcmp(name, "user") == 0 ? u->name
		    : strcmp(name, "shell") == 0 ? u->shell
		    : strcmp(name, "extension") == 0 ? ext
		    : strcmp(name, "recipient_delimiter") == 0 ? delim : "";
		if (v == NULL || *v == 0)
			return false;
		buf_puts(out, v);
	}
	return true;
}

/* dot_forward - the user's .forward; true when it decided the delivery */
static bool dot_forward(struct local_ctx *lc, const struct user *u, const char *ext, int depth)
{
	struct strv paths = STRV_INIT;
	const char *raw = config_raw(lc->cf, "forward_path");
	struct buf path = BUF_INIT, text = BUF_INIT;
	const char *err = NULL;
	bool done = false;

	if (raw == NULL || str_split(raw, STR_SEP_LIST, &paths, &err) < 0) {
		strv_free(&paths);
		return false;
	}
	for (size_t i = 0; i < paths.n && !done; i++) {
		struct stat st;
		char chunk[4096];
		ssize_t n;
		int fd;

		if (!forward_file(paths.v[i], u, ext, lc->delim, &path))
			continue;
		if ((fd = open(buf_cstr(&path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != u->uid) {
			close(fd);
			continue;	/* not the user's own file: ignored, as Postfix does */
		}
		buf_reset(&text);
		while ((n = read(fd, chunk, sizeof(chunk))) > 0 && text.len < 65536)
			buf_append(&text, chunk, (size_t)n);
		close(fd);
		for (char *line = text.data, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = 0;
			if (*str_trim(line) == '#')
				*line = 0;
			else if (next)
				next[-1] = ',';
		}
		if (str_is_blank(buf_cstr(&text)))
			continue;
		expand(lc, buf_cstr(&text), CTX_FORWARD, u, u->name, depth);
		done = true;
	}
	strv_free(&paths);
	buf_free(&path);
	buf_free(&text);
	return done;
}

/* local_name - deliver to a local name: alias, else user (.forward, mailbox) */
static void local_name(struct local_ctx *lc, const char *name, int depth)
{
	struct buf user = BUF_INIT, ext = BUF_INIT, value = BUF_INIT, err = BUF_INIT;
	struct user u = { 0 };
	enum table_status st = TABLE_NOTFOUND;
	const char *keys[2];
	size_t nkeys = 0;

	if (depth > LOCAL_MAX_DEPTH) {
		merge_set(lc, "5.4.6", "alias expansion loop for %s", lc->r->address);
		return;
	}
	split_ext(lc, name, &user, &ext);
	keys[nkeys++] = name;
	if (ext.len)
		keys[nkeys++] = buf_cstr(&user);
	if (strv_contains(&lc->seen, name)) {
		/* "name: name" was caught as the user itself; this is a cycle */
		merge_set(lc, "5.4.6", "alias expansion loop for %s via %s", lc->r->address, name);
		goto done;
	}
	for (size_t i = 0; i < nkeys && st == TABLE_NOTFOUND; i++) {
		st = deliver_maps_get(lc->aliases, keys[i], &value, &err);
		if (st == TABLE_FOUND)
			strv_push(&lc->seen, keys[i]);
	}
	if (st == TABLE_TEMPFAIL) {
		merge_set(lc, "4.3.0", "%s", buf_cstr(&err));
	} else if (st == TABLE_FOUND) {
		struct user privs = { 0 };
		struct buf owner_key = BUF_INIT, ov = BUF_INIT;
		/* an owner-NAME alias takes over the sender of what NAME forwards */
		buf_printf(&owner_key, "owner-%s", lc->seen.v[lc->seen.n - 1]);
		if (lc->owner.len == 0 && !str_has_prefix(name, "owner-")
		    && deliver_maps_get(lc->aliases, buf_cstr(&owner_key), &ov, &err) == TABLE_FOUND)
			buf_printf(&lc->owner, "%s@%s", buf_cstr(&owner_key),
				   config_str(lc->cf, "myorigin"));
		buf_free(&owner_key);
		buf_free(&ov);
		if (privs_user(lc, &privs)) {
			expand(lc, buf_cstr(&value), CTX_ALIAS, &privs, buf_cstr(&user), depth + 1);
			user_free(&privs);
		}
	} else if (!user_get(buf_cstr(&user), &u)) {
		merge_set(lc, "5.1.1", "unknown user: \"%s\"", buf_cstr(&user));
	} else {
		if (!dot_forward(lc, &u, buf_cstr(&ext), depth))
			mailbox(lc, &u);
		user_free(&u);
	}
done:
	buf_free(&user);
	buf_free(&ext);
	buf_free(&value);
	buf_free(&err);
}

/* forward_notify - NOTIFY of the forwarded copy: SUCCESS is answered
 * here (the forward is the success the sender asked about, as Postfix's
 * "alias expanded"), the rest travels on */
static unsigned forward_notify(unsigned notify)
{
	if (!(notify & QFILE_NOTIFY_SUCCESS))
		return notify;
	notify &= ~QFILE_NOTIFY_SUCCESS;
	return notify ? notify : QFILE_NOTIFY_NEVER;
}

/* forward_mail - the collected remote addresses as a new message through
 * cleanup (canonical and virtual alias rewriting apply to them). The
 * sender is kept, or becomes owner-ALIAS, which makes the addresses new
 * recipients of a list (no ORCPT, original recipient or NOTIFY passed on);
 * otherwise ORCPT, the original recipient and NOTIFY go with them, and
 * ENVID, RET, SMTPUTF8 and BODY=8BITMIME with the message. */
static void forward_mail(struct local_ctx *lc)
{
	struct buf err = BUF_INIT, hdr = BUF_INIT, id = BUF_INIT;
	const struct delivery *d = lc->d;
	bool list = lc->owner.len && *d->sender;
	struct deliver_resubmit m = {
		.sender = list ? buf_cstr(&lc->owner) : d->sender,
		.envid = d->envid,
		.ret = d->ret,
		.smtputf8 = d->smtputf8,
		.body_8bit = d->body_8bit,
		.rcpt = &lc->forward,
		.orcpt = list ? NULL : lc->r->orcpt,
		.original = list ? NULL : lc->r->original ? lc->r->original : lc->r->address,
		.notify = list ? 0 : forward_notify(lc->r->notify),
		.content = lc->content,
	};

	if (prepend_delivered(lc, "forward"))
		buf_printf(&hdr, "Delivered-To: %s\n", lc->r->address);
	m.prepend = buf_cstr(&hdr);
	if (deliver_resubmit(lc->cf, &m, &id, &err) < 0)
		merge_set(lc, "4.3.0", "cannot forward mail: %s", buf_cstr(&err));
	else
		merge_set(lc, "2.0.0", "forwarded as %s", buf_cstr(&id));
	buf_free(&err);
	buf_free(&hdr);
	buf_free(&id);
}

/* local_one - one recipient */
static void local_one(struct local_ctx *lc, struct delivery_rcpt *r)
{
	struct buf name = BUF_INIT, user = BUF_INIT, ext = BUF_INIT;
	const char *at = strrchr(r->address, '@');

	lc->r = r;
	lc->have_result = false;
	buf_reset(&lc->owner);
	strv_free(&lc->forward);
	strv_free(&lc->seen);
	if (deliver_loop_check(lc->content, r->address)) {
		deliver_set(r, "5.4.6", "local", "mail forwarding loop for %s", r->address);
		return;
	}
	buf_set(&name, r->address);
	if (at)
		buf_truncate(&name, (size_t)(at - r->address));
	str_lower(name.data);
	split_ext(lc, buf_cstr(&name), &user, &ext);
	lc->ext = buf_cstr(&ext);
	local_name(lc, buf_cstr(&name), 0);
	if (lc->forward.n > 0 && (!lc->have_result || lc->result.dsn[0] != '4'))
		forward_mail(lc);
	if (!lc->have_result)
		merge_set(lc, "5.1.1", "unknown user: \"%s\"", buf_cstr(&name));
	deliver_set(r, lc->result.dsn, "local", "%s", lc->result.text);
	buf_free(&name);
	buf_free(&user);
	buf_free(&ext);
}

/* deliver_local - the agent */
void deliver_local(struct delivery *d)
{
	struct local_ctx lc = { .d = d, .cf = d->cf };
	struct buf content = BUF_INIT, err = BUF_INIT;

	lc.delim = config_str(d->cf, "recipient_delimiter");
	lc.owner_request_special = config_bool(d->cf, "owner_request_special");
	lc.allow_cmd = context_bits(d->cf, "allow_mail_to_commands");
	lc.allow_file = context_bits(d->cf, "allow_mail_to_files");
	if ((lc.resolve = resolve_new(d->cf, &err)) == NULL
	    || (lc.aliases = deliver_maps_open(d->cf, "alias_maps", &err)) == NULL) {
		deliver_set_all(d, "4.3.0", "local", "%s", buf_cstr(&err));
		goto done;
	}
	if (deliver_content_read(d, &content) < 0) {
		deliver_set_all(d, "4.3.0", "local", "cannot read queue file: %m");
		goto done;
	}
	lc.content = &content;
	for (size_t i = 0; i < d->nrcpt; i++)
		if (d->rcpt[i].status == DELIVERY_PENDING)
			local_one(&lc, &d->rcpt[i]);
done:
	deliver_maps_close(&lc.aliases);
	strv_free(&lc.forward);
	strv_free(&lc.seen);
	if (lc.resolve)
		resolve_free(&lc.resolve);
	buf_free(&lc.owner);
	buf_free(&content);
	buf_free(&err);
}

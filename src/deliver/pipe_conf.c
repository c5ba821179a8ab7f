/*
 * pipe_conf - the command attributes of a pipe(8) service in master.cf:
 *
 *	flags=BDFORXhqu.>  user=NAME[:GROUP]  size=BYTES  directory=PATH
 *	eol=STRING  null_sender=TEXT  argv=COMMAND ARGS...
 *
 * argv= comes last and takes the rest of the line; "{ a b }" makes one
 * argument with spaces. eol= knows \a \b \f \n \r \t \v \\ and \ddd.
 * chroot= is refused: Outpost does not run delivery commands in a chroot.
 *
 * Public: pipe_conf_parse, pipe_conf_free, pipe_conf_identity, pipe_lint.
 * Bad input (the administrator's): an unknown attribute or flag, a value
 * missing or malformed, no user= or no argv=: -1 with a one-line reason.
 */
#include "deliver/pipe.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "config/config.h"
#include "lib/mem.h"

/* flag_bit - the PIPE_F_ bit of a flags= letter, 0 if unknown */
static unsigned flag_bit(char c)
{
	static const char letters[] = "BDFORXhqu.>";
	const char *p = c ? strchr(letters, c) : NULL;

	return p ? 1u << (p - letters) : 0;
}

/* parse_flags - flags= letters */
static int parse_flags(const char *s, unsigned *flags, struct buf *err)
{
	for (; *s; s++) {
		unsigned bit = flag_bit(*s);

		if (bit == 0) {
			buf_printf(err, "flags=: unknown flag '%c'", *s);
			return -1;
		}
		*flags |= bit;
	}
	return 0;
}

/* parse_eol - eol= with C-style escapes */
static int parse_eol(const char *s, struct buf *out, struct buf *err)
{
	static const char from[] = "abfnrtv\\", to[] = "\a\b\f\n\r\t\v\\";

	buf_reset(out);
	for (; *s; s++) {
		const char *e;
		int v = 0, n = 0;

		if (*s != '\\') {
			buf_putc(out, *s);
			continue;
		}
		s++;
		while (n < 3 && s[n] >= '0' && s[n] <= '7')
			v = v * 8 + (s[n++] - '0');
		if (n > 0) {
			buf_putc(out, v & 0xff);
			s += n - 1;
		} else if (*s && (e = strchr(from, *s)) != NULL) {
			buf_putc(out, to[e - from]);
		} else {
			buf_printf(err, "eol=: bad escape \"\\%.1s\"", s);
			return -1;
		}
	}
	if (out->len == 0) {
		buf_puts(err, "eol=: empty line ending");
		return -1;
	}
	return 0;
}

/* parse_user - user=name[:group] */
static int parse_user(const char *s, struct pipe_conf *pc, struct buf *err)
{
	const char *colon = strchr(s, ':');

	free(pc->user);
	free(pc->group);
	pc->user = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
	pc->group = colon ? xstrdup(colon + 1) : NULL;
	if (*pc->user == 0 || (pc->group && *pc->group == 0)) {
		buf_printf(err, "user=%s: expected user=NAME or user=NAME:GROUP", s);
		return -1;
	}
	return 0;
}

/* parse_size - size= in bytes */
static int parse_size(const char *s, long long *out, struct buf *err)
{
	long v;

	if (!str_is_digits(s) || str_parse_long(s, &v) < 0 || v <= 0) {
		buf_printf(err, "size=%s: expected a positive number of bytes", s);
		return -1;
	}
	*out = v;
	return 0;
}

/* set_str - replace an owned string */
static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

/* attribute - one name=value before argv= */
static int attribute(struct pipe_conf *pc, const char *name, const char *value, struct buf *err)
{
	if (strcmp(name, "flags") == 0)
		return parse_flags(value, &pc->flags, err);
	if (strcmp(name, "user") == 0)
		return parse_user(value, pc, err);
	if (strcmp(name, "size") == 0)
		return parse_size(value, &pc->size_limit, err);
	if (strcmp(name, "eol") == 0)
		return parse_eol(value, &pc->eol, err);
	if (strcmp(name, "null_sender") == 0) {
		set_str(&pc->null_sender, value);
		return 0;
	}
	if (strcmp(name, "directory") == 0 && *value) {
		set_str(&pc->directory, value);
		return 0;
	}
	if (strcmp(name, "chroot") == 0) {
		buf_puts(err, "chroot= is not supported; run the command without it");
		return -1;
	}
	buf_printf(err, "unknown attribute \"%s=\"", name);
	return -1;
}

/* unbraced - a copy of a word with "{ }" removed; NULL with err */
static char *unbraced(const char *word, struct buf *err)
{
	char *copy = xstrdup(word), *t;
	const char *why;

	if ((t = str_unbrace(copy, &why)) == NULL) {
		buf_printf(err, "\"%s\": %s", word, why);
		free(copy);
		return NULL;
	}
	t = xstrdup(t);
	free(copy);
	return t;
}

/* pipe_conf_parse - the attributes; fills pc (pipe_conf_free it either way) */
int pipe_conf_parse(char *const *words, size_t n, struct pipe_conf *pc, struct buf *err)
{
	size_t i;

	memset(pc, 0, sizeof(*pc));
	buf_set(&pc->eol, "\n");
	pc->null_sender = xstrdup("MAILER-DAEMON");
	for (i = 0; i < n; i++) {
		char *w = unbraced(words[i], err), *eq;
		int rc;

		if (w == NULL)
			return -1;
		if ((eq = strchr(w, '=')) == NULL) {
			buf_printf(err, "\"%s\": expected name=value", w);
			free(w);
			return -1;
		}
		*eq = 0;
		if (strcmp(w, "argv") == 0) {
			if (eq[1])
				strv_push(&pc->argv, eq + 1);
			free(w);
			break;
		}
		rc = attribute(pc, w, eq + 1, err);
		free(w);
		if (rc < 0)
			return -1;
	}
	for (i++; i < n; i++) {
		char *w = unbraced(words[i], err);

		if (w == NULL)
			return -1;
		strv_push_take(&pc->argv, w);
	}
	if (pc->argv.n == 0) {
		buf_puts(err, "missing argv= attribute (it names the command and must come last)");
		return -1;
	}
	if (pc->user == NULL) {
		buf_puts(err, "missing user= attribute (the account that runs the command)");
		return -1;
	}
	return 0;
}

/* pipe_conf_free - release what pipe_conf_parse allocated */
void pipe_conf_free(struct pipe_conf *pc)
{
	free(pc->user);
	free(pc->group);
	free(pc->directory);
	free(pc->null_sender);
	strv_free(&pc->argv);
	buf_free(&pc->eol);
	memset(pc, 0, sizeof(*pc));
}

/* pipe_conf_identity - user= (and :group) as ids; refuses root and mail_owner */
int pipe_conf_identity(const struct pipe_conf *pc, const char *mail_owner, uid_t *uid, gid_t *gid,
		       struct buf *why)
{
	struct passwd *pw = getpwnam(pc->user);
	struct group *gr;

	if (pw == NULL) {
		buf_printf(why, "user=%s: no such user", pc->user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (pc->group) {
		if ((gr = getgrnam(pc->group)) == NULL) {
			buf_printf(why, "user=%s:%s: no such group", pc->user, pc->group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	if (*uid == 0 || *gid == 0) {
		buf_printf(why, "user=%s%s%s: refusing to run a command with root privileges",
			   pc->user, pc->group ? ":" : "", pc->group ? pc->group : "");
		return -1;
	}
	if (mail_owner && *mail_owner && (pw = getpwnam(mail_owner)) != NULL &&
	    pw->pw_uid == *uid) {
		buf_printf(why,
			   "user=%s: refusing to run a command as the mail system owner "
			   "(mail_owner = %s)",
			   pc->user, mail_owner);
		return -1;
	}
	return 0;
}

/* recipient_limit_one - is TRANSPORT_destination_recipient_limit 1? */
static bool recipient_limit_one(struct config *cf, const char *transport)
{
	struct buf name = BUF_INIT;
	long v = 0;
	const char *s;

	buf_printf(&name, "%s_destination_recipient_limit", transport);
	s = config_is_set(cf, name.data) || param_lookup(name.data)
		    ? config_str(cf, name.data)
		    : config_str(cf, "default_destination_recipient_limit");
	buf_free(&name);
	return s && str_parse_long(s, &v) == 0 && v == 1;
}

/* lint_one - the findings for one pipe service, or "" */
static void lint_one(struct config *cf, const struct master_service *svc, struct buf *why)
{
	struct pipe_conf pc;
	uid_t uid;
	gid_t gid;

	if (pipe_conf_parse(svc->args.v, svc->args.n, &pc, why) == 0 &&
	    pipe_conf_identity(&pc, config_str(cf, "mail_owner"), &uid, &gid, why) == 0 &&
	    (pc.flags & (PIPE_F_DELIVERED | PIPE_F_ORIG)) && !recipient_limit_one(cf, svc->name))
		buf_printf(why,
			   "flag %c needs %s_destination_recipient_limit = 1 in main.cf, "
			   "or mail to several recipients is deferred",
			   (pc.flags & PIPE_F_DELIVERED) ? 'D' : 'O', svc->name);
	pipe_conf_free(&pc);
}

/* pipe_lint - `outpost check`: pipe services that could not deliver */
int pipe_lint(struct config *cf, struct strv *out)
{
	const struct master_service *svcs;
	size_t n;
	int count = 0;

	svcs = config_services(cf, &n);
	for (size_t i = 0; i < n; i++) {
		struct buf why = BUF_INIT, line = BUF_INIT;

		if (svcs[i].command == NULL || strcmp(svcs[i].command, "pipe") != 0)
			continue;
		lint_one(cf, &svcs[i], &why);
		if (why.len) {
			buf_printf(&line, "%s, line %d: pipe service %s: %s", svcs[i].file,
				   svcs[i].line, svcs[i].name, buf_cstr(&why));
			strv_push_take(out, buf_steal(&line));
			count++;
		}
		buf_free(&why);
	}
	return count;
}

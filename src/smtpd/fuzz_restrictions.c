/*
 * fuzz_restrictions - libFuzzer target for the restriction-list parser and
 * the evaluator behind it: any bytes are parsed as smtpd_recipient_restrictions
 * and, when they parse, evaluated for a RCPT of a stranger (DNS and policy
 * servers offline; the class "fuzzclass" is defined). Invariants: no crash; a configuration that parses always
 * reaches a verdict; and since smtpd_relay_restrictions keep their default
 * and run first, a stranger's %-routed remote recipient is never accepted,
 * whatever the recipient restrictions say.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem.h"
#include "smtpd/smtpd_check_impl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cf;
static struct smtpd_checks *checks;

static void quiet(enum log_level level, const char *text, void *ctx)
{
	(void)level;
	(void)text;
	(void)ctx;
}

/* LLVMFuzzerInitialize - one small configuration for every input */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_restrictions.XXXXXX";
	char path[256];
	struct buf err = BUF_INIT;
	FILE *fp;

	(void)argc;
	(void)argv;
	log_init("fuzz_restrictions");
	log_set_hook(quiet, NULL);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/main.cf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fputs("compatibility_level = 3.6\nmyhostname = mail.example.com\n"
	      "mydomain = example.com\nmydestination = $myhostname, localhost, example.com\n"
	      "inet_interfaces = 127.0.0.1\nlocal_recipient_maps =\n"
	      "smtpd_restriction_classes = fuzzclass\nfuzzclass = permit_mynetworks, reject\n"
	      "smtpd_sasl_auth_enable = yes\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/master.cf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fclose(fp);
	cf = config_load(dir, &err);
	if (cf == NULL || (checks = smtpd_checks_new(cf, NULL, &err)) == NULL)
		abort();
	checks->offline = true;
	buf_free(&err);
	return 0;
}

static void on_done(void *ctx, struct smtpd_verdict *v)
{
	*(int *)ctx = 1 + (int)v->decision;
}

/* trim - drop what parsing this input added to the shared caches */
static void trim(struct smtpd_checks *c, size_t ntables, size_t ndynamic, size_t npolicies)
{
	while (c->table_specs.n > ntables) {
		c->table_specs.n--;
		free(c->table_specs.v[c->table_specs.n]);
		c->table_specs.v[c->table_specs.n] = NULL;
		table_list_close(&c->tables[c->table_specs.n]);
	}
	while (c->ndynamic > ndynamic) {
		c->ndynamic--;
		chk_list_free(&c->dynamic[c->ndynamic]);
		c->dynamic_keys.n--;
		free(c->dynamic_keys.v[c->dynamic_keys.n]);
		c->dynamic_keys.v[c->dynamic_keys.n] = NULL;
	}
	while (c->npolicies > npolicies)
		chk_policy_free(&c->policies[--c->npolicies]);
}

/* LLVMFuzzerTestOneInput - parse as the recipient restrictions, then evaluate one RCPT */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct buf err = BUF_INIT;
	size_t nt = checks->table_specs.n, nd = checks->ndynamic, np = checks->npolicies;
	struct chk_list *saved = checks->lists[LIST_RECIPIENT];
	struct chk_list *l = chk_list_parse(checks, "smtpd_recipient_restrictions", s, &err);

	if (l != NULL) {
		struct smtpd_check_session *sess = smtpd_check_session_new(checks);
		struct smtpd_check_run *run;
		struct smtpd_facts f;
		int got = 0;

		for (size_t i = 0; i < l->n; i++)
			if (l->v[i].op == OP_CLASS && l->v[i].cls == NULL)
				l->v[i].cls = chk_class_find(checks, l->v[i].name);
		checks->lists[LIST_RECIPIENT] = l;
		memset(&f, 0, sizeof(f));
		f.client_addr = "203.0.113.5";
		f.helo = "client.example.net";
		f.protocol = "ESMTP";
		f.sasl_username = size % 2 ? "alice" : NULL;
		f.sender = "someone@example.org";
		f.recipient = "victim%remote.example@example.com";
		run = smtpd_check_run(sess, SMTPD_STAGE_RCPT, &f, on_done, &got);
		if (run != NULL || got == 0)	/* offline evaluation always finishes */
			__builtin_trap();
		if (got == 1 + (int)SMTPD_OK && f.sasl_username == NULL)	/* relayed for a stranger */
			__builtin_trap();
		smtpd_check_session_free(&sess);
		checks->lists[LIST_RECIPIENT] = saved;
		chk_list_free(&l);
	}
	trim(checks, nt, nd, np);
	buf_free(&err);
	free(s);
	return 0;
}

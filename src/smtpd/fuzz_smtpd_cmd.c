/*
 * fuzz_smtpd_cmd - libFuzzer target for the SMTP command parser: any
 * bytes as a command line (verb split, MAIL/RCPT paths and ESMTP
 * parameters under every combination of allowed features), xtext and
 * base64 decoders. A rejected line must always come with a reply that
 * starts with a 4xx/5xx code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "smtpd/smtpd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one command line */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = xstrndup((const char *)data, size);
	struct smtpd_cmdline c;
	struct buf reply = BUF_INIT, tmp = BUF_INIT;
	unsigned allow = size ? data[0] & 0x3f : 0;

	smtpd_parse_line(line, &c);
	for (int rcpt = 0; rcpt < 2; rcpt++) {
		struct smtpd_mailparams m;
		int r;

		smtpd_mailparams_init(&m);
		r = rcpt ? smtpd_parse_rcpt(c.arg, allow, &m, &reply)
			 : smtpd_parse_mail(c.arg, allow, &m, &reply);
		if (r < 0 && (reply.len < 4 || (reply.data[0] != '4' && reply.data[0] != '5')))
			abort();
		smtpd_mailparams_free(&m);
	}
	(void)smtpd_xtext_decode(line, &tmp);
	(void)smtpd_base64_decode(line, strlen(line), &tmp);
	buf_free(&reply);
	buf_free(&tmp);
	free(line);
	return 0;
}

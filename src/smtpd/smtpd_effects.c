/*
 * smtpd_effects - access(5) side effects of a verdict (HOLD, DISCARD,
 * FILTER, REDIRECT, BCC, PREPEND, WARN/INFO) carried to the message.
 *
 * Public: smtpd_effects_take, smtpd_effects_flush, smtpd_effects_clear.
 *
 * Effects may arrive before the queue file exists (client, helo and
 * sender stages); they wait in the session's pending verdict and go to
 * cleanup once it is open. Warnings are logged at once.
 */
#include "smtpd/smtpd_effects.h"

#include "cleanup/cleanup.h"
#include "lib/log.h"

/* move_strv - append every string of src to dst */
static void move_strv(struct strv *dst, const struct strv *src)
{
	for (size_t i = 0; i < src->n; i++)
		strv_push(dst, src->v[i]);
}

/* smtpd_effects_take - remember v's side effects for the message */
void smtpd_effects_take(struct smtpd_session *s, const struct smtpd_verdict *v)
{
	struct smtpd_verdict *p = &s->pending;

	for (size_t i = 0; i < v->warnings.n; i++)
		log_info("%s: %s", s->queue_id ? s->queue_id : "NOQUEUE", v->warnings.v[i]);
	move_strv(&p->prepend, &v->prepend);
	move_strv(&p->bcc, &v->bcc);
	if (v->hold_set) {
		p->hold_set = true;
		buf_set(&p->hold, buf_cstr(&v->hold));
	}
	p->discard |= v->discard;
	if (v->filter.len)
		buf_set(&p->filter, buf_cstr(&v->filter));
	if (v->redirect.len)
		buf_set(&p->redirect, buf_cstr(&v->redirect));
	if (s->cleanup)
		smtpd_effects_flush(s);
}

/* smtpd_effects_flush - hand what is pending to the open queue file */
void smtpd_effects_flush(struct smtpd_session *s)
{
	struct smtpd_verdict *p = &s->pending;

	if (s->cleanup == NULL)
		return;
	for (size_t i = 0; i < p->prepend.n; i++)
		cleanup_prepend(s->cleanup, p->prepend.v[i]);
	for (size_t i = 0; i < p->bcc.n; i++)
		cleanup_bcc(s->cleanup, p->bcc.v[i]);
	if (p->hold_set)
		cleanup_hold(s->cleanup, buf_cstr(&p->hold));
	if (p->discard)
		cleanup_discard(s->cleanup, "access table DISCARD");
	if (p->filter.len)
		cleanup_filter(s->cleanup, buf_cstr(&p->filter));
	if (p->redirect.len)
		cleanup_redirect(s->cleanup, buf_cstr(&p->redirect));
	smtpd_effects_clear(s);
}

/* smtpd_effects_clear - forget pending effects (RSET, end of message) */
void smtpd_effects_clear(struct smtpd_session *s)
{
	smtpd_verdict_free(&s->pending);
	smtpd_verdict_init(&s->pending);
}

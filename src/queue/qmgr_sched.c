/*
 * qmgr_sched - the scheduler's pure arithmetic: retry backoff, the
 * per-destination concurrency window (slow start, dead destinations) and
 * the delay format of log lines. No I/O here, so the rules are unit-tested.
 *
 * Public: qmgr_backoff, qmgr_window_init, qmgr_window_success,
 * qmgr_window_failure, qmgr_window_allows, qmgr_format_delay.
 */
#include "queue/qmgr.h"

#include <stdio.h>
#include <string.h>

/* qmgr_backoff - wait as long as the message already waited, within bounds */
long qmgr_backoff(long age, long min_backoff, long max_backoff)
{
	long d = age;

	if (max_backoff < min_backoff)
		max_backoff = min_backoff;
	if (d > max_backoff)
		d = max_backoff;
	if (d < min_backoff)
		d = min_backoff;
	return d;
}

/* qmgr_window_init - a fresh destination */
void qmgr_window_init(struct qmgr_window *w, long initial, long limit, long cohort_limit,
		      double positive, double negative)
{
	memset(w, 0, sizeof(*w));
	w->limit = limit;
	w->window = initial > 0 ? (double)initial : 1;
	if (limit > 0 && w->window > (double)limit)
		w->window = (double)limit;
	w->cohort_limit = cohort_limit > 0 ? cohort_limit : 1;
	w->positive = positive > 0 ? positive : 1;
	w->negative = negative > 0 ? negative : 1;
}

/* qmgr_window_success - grow by positive/window; failures are forgotten */
void qmgr_window_success(struct qmgr_window *w)
{
	w->failed = 0;
	w->window += w->positive / w->window;
	if (w->limit > 0 && w->window > (double)w->limit)
		w->window = (double)w->limit;
}

/* qmgr_window_failure - shrink; a run of failed cohorts kills the site */
bool qmgr_window_failure(struct qmgr_window *w)
{
	w->failed += 1.0 / w->window;
	w->window -= w->negative / w->window;
	if (w->window < 1)
		w->window = 1;
	return w->failed >= (double)w->cohort_limit - 1e-9;
}

/* qmgr_window_allows - room for one more delivery */
bool qmgr_window_allows(const struct qmgr_window *w, long active)
{
	return (double)active < w->window - 1e-9 || active == 0;
}

/* qmgr_format_delay - two significant digits below 10 s, whole seconds above */
void qmgr_format_delay(char *out, size_t size, double s)
{
	if (s < 0.005)
		snprintf(out, size, "0");
	else if (s < 10)
		snprintf(out, size, "%.2g", s);
	else
		snprintf(out, size, "%.0f", s);
}

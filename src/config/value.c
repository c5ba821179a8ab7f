/*
 * value - parse and validate typed parameter values.
 *
 * Public: value_bool, value_long, value_time, value_check.
 * Bad input: each parser returns -1; value_check says why in one phrase
 * ("bad boolean value \"maybe\" (use yes or no)").
 */
#include "config/value.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"

/* value_bool - yes/no, any case, as Postfix accepts them */
int value_bool(const char *s, bool *out)
{
	if (str_eq_case(s, "yes"))
		*out = true;
	else if (str_eq_case(s, "no"))
		*out = false;
	else
		return -1;
	return 0;
}

/* value_long - a plain non-negative or negative decimal number */
int value_long(const char *s, long *out)
{
	return str_parse_long(s, out);
}

/* unit_seconds - seconds in one unit, 0 when the letter is not a unit */
static long unit_seconds(char unit)
{
	switch (unit) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	default:
		return 0;
	}
}

/* value_time - "300", "300s", "5m", "1h", "5d", "1w" into seconds */
int value_time(const char *s, char unit, long *secs)
{
	char *end;
	long n, mult;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno)
		return -1;
	if (*end == '\0')
		mult = unit_seconds(unit ? unit : 's');
	else if (end[1] == '\0')
		mult = unit_seconds(*end);
	else
		return -1;
	if (mult == 0 || __builtin_mul_overflow(n, mult, secs))
		return -1;
	return 0;
}

/* check_bounds - min > max means unbounded */
static int check_bounds(const struct param_def *p, long v, const char *value, struct buf *why)
{
	if (p->min > p->max || (v >= p->min && v <= p->max))
		return 0;
	if (p->max == LONG_MAX)
		buf_printf(why, "value \"%s\" is below the minimum %ld", value, p->min);
	else
		buf_printf(why, "value \"%s\" is out of range %ld..%ld", value, p->min, p->max);
	return -1;
}

/* value_check - is value (already expanded) acceptable for p? */
int value_check(const struct param_def *p, const char *value, struct buf *why)
{
	const char *err;
	struct strv items = STRV_INIT;
	bool b;
	long v;
	int rc;

	switch (p->type) {
	case PARAM_BOOL:
		if (value_bool(value, &b) == 0)
			return 0;
		buf_printf(why, "bad boolean value \"%s\" (use yes or no)", value);
		return -1;
	case PARAM_INT:
	case PARAM_SIZE:
		if (value_long(value, &v) < 0) {
			buf_printf(why, "bad number \"%s\"", value);
			return -1;
		}
		return check_bounds(p, v, value, why);
	case PARAM_TIME:
		if (value_time(value, p->unit, &v) < 0) {
			buf_printf(why, "bad time value \"%s\" (use a number with an optional unit s, m, h, d or w)",
				   value);
			return -1;
		}
		/* bounds of a time are in seconds */
		return check_bounds(p, v, value, why);
	case PARAM_LIST:
		rc = str_split(value, STR_SEP_LIST, &items, &err);
		strv_free(&items);
		if (rc < 0)
			buf_printf(why, "%s in list \"%s\"", err, value);
		return rc;
	case PARAM_STR:
		return 0;
	}
	return 0;
}

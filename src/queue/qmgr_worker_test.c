/*
 * qmgr_worker_test - the request format between qmgr and its workers:
 * every field survives the trip, and damaged requests are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/mem.h"
#include "queue/qmgr_impl.h"

static struct delivery_rcpt rcpts[] = {
	{ .address = "user@example.com", .orcpt = "rfc822;User@Example.COM",
	  .original = "alias@example.com", .notify = 6, .index = 3 },
	{ .address = "~:12:odd\nname@x", .orcpt = NULL, .original = NULL, .notify = 0,
	  .index = 0 },
	{ .address = "", .orcpt = "", .original = "", .notify = 1, .index = 99 },
};

static void sample(struct delivery *d)
{
	memset(d, 0, sizeof(*d));
	d->queue_id = "4XyZabcdefz1Ab";
	d->sender = "";
	d->envid = "env id:with~marks";
	d->ret = NULL;
	d->smtputf8 = true;
	d->body_8bit = false;
	d->arrival = 1790000000;
	d->queue_delay = 1.25;
	d->content_offset = 18;
	d->content_length = 5120;
	d->nexthop = "[127.0.0.1]:2525";
	d->nrcpt = sizeof(rcpts) / sizeof(rcpts[0]);
	d->rcpt = rcpts;
}

static void same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void test_round_trip(void **state)
{
	struct delivery in, out = { 0 };
	struct strv keep = STRV_INIT;
	struct buf b = BUF_INIT;

	(void)state;
	sample(&in);
	qmgr_worker_encode(&in, &b);
	assert_int_equal(qmgr_worker_decode(b.data, b.len, &out, &keep), 0);
	same_str(out.queue_id, in.queue_id);
	same_str(out.sender, in.sender);
	same_str(out.envid, in.envid);
	same_str(out.ret, in.ret);
	assert_true(out.smtputf8);
	assert_false(out.body_8bit);
	assert_int_equal(out.arrival, in.arrival);
	assert_true(out.queue_delay > 1.24 && out.queue_delay < 1.26);
	assert_int_equal(out.content_offset, in.content_offset);
	assert_int_equal(out.content_length, in.content_length);
	same_str(out.nexthop, in.nexthop);
	assert_int_equal(out.nrcpt, in.nrcpt);
	for (size_t i = 0; i < in.nrcpt; i++) {
		same_str(out.rcpt[i].address, in.rcpt[i].address);
		same_str(out.rcpt[i].orcpt, in.rcpt[i].orcpt);
		same_str(out.rcpt[i].original, in.rcpt[i].original);
		assert_int_equal(out.rcpt[i].notify, in.rcpt[i].notify);
		assert_int_equal(out.rcpt[i].index, in.rcpt[i].index);
		assert_int_equal(out.rcpt[i].status, DELIVERY_PENDING);
	}
	xfree(&out.rcpt);
	strv_free(&keep);
	buf_free(&b);
}

static void test_damage_refused(void **state)
{
	struct delivery in;
	struct buf b = BUF_INIT;
	static const char *const bad[] = {
		"", "~", "5:abc", "3:abc", "x:abc", "99999999999999999999:a",
		"2:id0:~~1:0", "2:id0:~~1:01:01:1.01:01:0~1:1",
	};

	(void)state;
	sample(&in);
	qmgr_worker_encode(&in, &b);
	/* every proper prefix of a good request is refused, as is an extra byte */
	for (size_t len = 0; len < b.len; len++) {
		struct delivery out = { 0 };
		struct strv keep = STRV_INIT;

		if (qmgr_worker_decode(b.data, len, &out, &keep) == 0)
			fail_msg("a request cut at %zu of %zu bytes was taken", len, b.len);
		assert_null(out.rcpt);
		strv_free(&keep);
	}
	buf_putc(&b, 'x');
	{
		struct delivery out = { 0 };
		struct strv keep = STRV_INIT;

		assert_int_equal(qmgr_worker_decode(b.data, b.len, &out, &keep), -1);
		strv_free(&keep);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct delivery out = { 0 };
		struct strv keep = STRV_INIT;

		if (qmgr_worker_decode(bad[i], strlen(bad[i]), &out, &keep) == 0)
			fail_msg("took \"%s\"", bad[i]);
		strv_free(&keep);
	}
	buf_free(&b);
}

static void test_result_lines(void **state)
{
	struct delivery d;
	struct buf b = BUF_INIT;

	(void)state;
	sample(&d);
	d.nrcpt = 1;
	d.rcpt = &(struct delivery_rcpt){ .index = 7, .status = DELIVERY_SENT, .dsn = "2.0.0" };
	buf_set(&d.rcpt[0].relay, "mx.example[192.0.2.1]:25");
	buf_set(&d.rcpt[0].reply, "250 2.0.0 Ok\nqueued as X");
	qmgr_result_format(&d, &b);
	assert_string_equal(buf_cstr(&b),
			    "7 1 2.0.0 0.000000 0.000000 mx.example[192.0.2.1]:25 "
			    "250 2.0.0 Ok queued as X\n.\n");
	buf_free(&d.rcpt[0].relay);
	buf_free(&d.rcpt[0].reply);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damage_refused),
		cmocka_unit_test(test_result_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * qfile_test - queue file writer, group commit, reader and queue IDs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/mem.h"
#include "mail/qfile.h"

static char qdir[256];

/* rm_tree - remove the test queue (two levels are enough) */
static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	char sub[300];

	(void)state;
	snprintf(qdir, sizeof(qdir), "/tmp/qfile_test.XXXXXX");
	if (mkdtemp(qdir) == NULL)
		return -1;
	snprintf(sub, sizeof(sub), "%s/incoming", qdir);
	return mkdir(sub, 0700);
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(qdir);
	return 0;
}

/* count_files - entries in incoming/ */
static int count_files(void)
{
	char sub[300];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(sub, sizeof(sub), "%s/incoming", qdir);
	d = opendir(sub);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* make_message - a small message with three recipients */
static struct qfile_writer *make_message(void)
{
	struct buf err = BUF_INIT;
	struct qfile_writer *w = qfile_create(qdir, "incoming", &err);

	assert_non_null(w);
	qfile_set_sender(w, "alice@example.org");
	qfile_add_attr(w, QATTR_CLIENT_ADDR, "192.0.2.7");
	qfile_add_attr(w, QATTR_RET, "HDRS");
	qfile_add_attr(w, QATTR_ENVID, "env=1 with spaces");
	assert_int_equal(qfile_add_rcpt(w, "bob@example.com", "rfc822;bob@example.com", NULL,
					QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE), 0);
	assert_int_equal(qfile_add_rcpt(w, "carol@example.net", NULL, "c@example.net", 0), 1);
	assert_int_equal(qfile_add_rcpt(w, "dave@example.net", NULL, NULL, QFILE_NOTIFY_NEVER), 2);
	assert_int_equal(qfile_append_line(w, "Subject: hi", 11), 0);
	assert_int_equal(qfile_append_line(w, "", 0), 0);
	assert_int_equal(qfile_append_line(w, "body E\n with tricky bytes", 25), 0);
	buf_free(&err);
	return w;
}

/* open_committed - path of a committed ID, opened */
static struct qfile *open_committed(const char *id, bool writable)
{
	char path[400];
	struct buf err = BUF_INIT;
	int why = 0;
	struct qfile *q;

	snprintf(path, sizeof(path), "%s/incoming/%s", qdir, id);
	q = qfile_open(path, writable, &why, &err);
	if (q == NULL)
		fail_msg("qfile_open: %s", buf_cstr(&err));
	buf_free(&err);
	return q;
}

static void test_roundtrip(void **state)
{
	struct qfile_writer *w = make_message();
	struct buf err = BUF_INIT, content = BUF_INIT;
	char id[QFILE_ID_MAX];
	struct qfile *q;

	(void)state;
	snprintf(id, sizeof(id), "%s", qfile_writer_id(w));
	assert_true(qfile_valid_id(id));
	assert_int_equal(qfile_commit(&w, &err), 0);
	assert_null(w);
	q = open_committed(id, false);
	assert_string_equal(q->id, id);
	assert_string_equal(q->sender, "alice@example.org");
	assert_string_equal(qfile_attr(q, QATTR_CLIENT_ADDR), "192.0.2.7");
	assert_string_equal(qfile_attr(q, QATTR_ENVID), "env=1 with spaces");
	assert_null(qfile_attr(q, QATTR_SASL_USERNAME));
	assert_int_equal(q->nrcpt, 3);
	assert_string_equal(q->rcpt[0].address, "bob@example.com");
	assert_string_equal(q->rcpt[0].orcpt, "rfc822;bob@example.com");
	assert_null(q->rcpt[0].original);
	assert_int_equal(q->rcpt[0].notify, QFILE_NOTIFY_SUCCESS | QFILE_NOTIFY_FAILURE);
	assert_string_equal(q->rcpt[1].original, "c@example.net");
	assert_int_equal(q->rcpt[2].notify, QFILE_NOTIFY_NEVER);
	assert_int_equal(q->rcpt[1].status, QFILE_RCPT_PENDING);
	assert_false(q->warned);
	assert_int_equal(qfile_read_content(q, &content, 0), 0);
	assert_string_equal(content.data, "Subject: hi\n\nbody E\n with tricky bytes\n");
	assert_int_equal(q->content_length, (off_t)content.len);
	assert_int_equal(qfile_pending(q), 3);
	assert_int_equal(qfile_id_time(id), (long long)q->arrival.tv_sec);
	qfile_free(&q);
	buf_free(&content);
	buf_free(&err);
}

static void test_status_in_place(void **state)
{
	struct qfile_writer *w = make_message();
	struct buf err = BUF_INIT;
	char id[QFILE_ID_MAX];
	struct qfile *q;

	(void)state;
	snprintf(id, sizeof(id), "%s", qfile_writer_id(w));
	assert_int_equal(qfile_commit(&w, &err), 0);
	q = open_committed(id, true);
	assert_int_equal(qfile_set_rcpt_status(q, 1, QFILE_RCPT_SENT), 0);
	assert_int_equal(qfile_set_rcpt_status(q, 2, QFILE_RCPT_BOUNCED), 0);
	assert_int_equal(qfile_set_warned(q), 0);
	assert_int_equal(qfile_sync(q), 0);
	assert_int_equal(qfile_set_rcpt_status(q, 9, QFILE_RCPT_SENT), -1);
	qfile_free(&q);
	q = open_committed(id, false);
	assert_int_equal(q->rcpt[0].status, QFILE_RCPT_PENDING);
	assert_int_equal(q->rcpt[1].status, QFILE_RCPT_SENT);
	assert_int_equal(q->rcpt[2].status, QFILE_RCPT_BOUNCED);
	assert_true(q->warned);
	assert_int_equal(qfile_pending(q), 1);
	qfile_free(&q);
	buf_free(&err);
}

static void test_complete_bit(void **state)
{
	struct qfile_writer *w = make_message();
	struct buf err = BUF_INIT;
	char path[400];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/incoming/%s", qdir, qfile_writer_id(w));
	assert_int_equal(stat(path, &st), 0);	/* named by its ID from the start */
	assert_false(st.st_mode & QFILE_COMPLETE_BIT);
	assert_int_equal(qfile_commit(&w, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & QFILE_COMPLETE_BIT);
	buf_free(&err);
}

static void test_abort_leaves_nothing(void **state)
{
	struct qfile_writer *w = make_message();

	(void)state;
	assert_int_equal(count_files(), 1);	/* the temporary file */
	qfile_abort(&w);
	assert_null(w);
	assert_int_equal(count_files(), 0);
}

static void test_unterminated_content(void **state)
{
	struct buf err = BUF_INIT, content = BUF_INIT;
	struct qfile_writer *w = qfile_create(qdir, "incoming", &err);
	char id[QFILE_ID_MAX];
	struct qfile *q;

	(void)state;
	qfile_set_sender(w, "");
	qfile_add_rcpt(w, "x@example.com", NULL, NULL, 0);
	assert_int_equal(qfile_append(w, "A: b\n\nno final newline", 22), 0);
	snprintf(id, sizeof(id), "%s", qfile_writer_id(w));
	assert_int_equal(qfile_commit(&w, &err), 0);
	q = open_committed(id, false);
	assert_string_equal(q->sender, "");
	assert_int_equal(qfile_read_content(q, &content, 0), 0);
	assert_string_equal(content.data, "A: b\n\nno final newline\n");
	buf_reset(&content);
	assert_int_equal(qfile_read_content(q, &content, 4), 0);
	assert_string_equal(content.data, "A: b");
	qfile_free(&q);
	buf_free(&content);
	buf_free(&err);
}

/* file_image - the bytes of a fresh committed message */
static char *file_image(size_t *len)
{
	struct qfile_writer *w = make_message();
	struct buf err = BUF_INIT;
	char path[400];
	struct stat st;
	char *data;
	int fd;

	snprintf(path, sizeof(path), "%s/incoming/%s", qdir, qfile_writer_id(w));
	assert_int_equal(qfile_commit(&w, &err), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	data = xmalloc((size_t)st.st_size);
	assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	unlink(path);
	*len = (size_t)st.st_size;
	buf_free(&err);
	return data;
}

/* check_image - parse an image from memory and from a file; same verdict */
static int check_image(const char *data, size_t len, const char *name)
{
	struct qfile q = { .fd = -1 };
	struct qfile *qp = xcalloc(1, sizeof(*qp));
	struct buf err = BUF_INIT;
	char path[400];
	int rc, rc2, why = 0, fd;

	qp->fd = -1;
	rc = qfile_parse(qp, data, len, &err);
	(void)q;
	qfile_free(&qp);
	snprintf(path, sizeof(path), "%s/incoming/%s", qdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	buf_reset(&err);
	qp = qfile_open(path, false, &why, &err);
	rc2 = qp ? 0 : -1;
	if (qp == NULL)
		assert_int_equal(why, QFILE_ERR_CORRUPT);
	qfile_free(&qp);
	unlink(path);
	assert_int_equal(rc, rc2);
	buf_free(&err);
	return rc;
}

static void test_truncation_always_detected(void **state)
{
	size_t len;
	char *data = file_image(&len);

	(void)state;
	assert_int_equal(check_image(data, len, "whole"), 0);
	for (size_t cut = 0; cut < len; cut++) {
		if (check_image(data, cut, "cut") == 0)
			fail_msg("a file cut at %zu of %zu bytes was accepted", cut, len);
	}
	free(data);
}

struct damage {
	const char *name;
	const char *find;	/* first occurrence is changed */
	const char *replace;	/* same length */
};

static const struct damage damages[] = {
	{ "length digit", "S0000000017:", "S0000000018:" },
	{ "record type", "S0000000017:", "Q0000000017:" },
	{ "status byte", "D0000000001:P", "D0000000001:X" },
	{ "end record", "E0000000000:", "E0000000001:" },
	{ "header version", "v1 env=", "v9 env=" },
	{ "notify value", "N0000000001:0", "N0000000001:x" },
	{ "warn flag", "W0000000001:0", "W0000000001:2" },
	{ "sender twice", "T0000000017:", "S0000000017:" },
};

static void test_damage_detected(void **state)
{
	size_t len;
	char *data = file_image(&len);

	(void)state;
	for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
		const struct damage *d = &damages[i];
		char *copy = xmemdup(data, len);
		char *p = memmem(copy, len, d->find, strlen(d->find));

		if (p == NULL)
			fail_msg("case %s: pattern not in file", d->name);
		memcpy(p, d->replace, strlen(d->replace));
		if (check_image(copy, len, "damaged") == 0)
			fail_msg("case %s: damaged file accepted", d->name);
		free(copy);
	}
	free(data);
}

static void test_queue_ids(void **state)
{
	struct timeval tv = { 1700000000, 123456 };
	struct timeval tv2 = { 1700000001, 0 };
	char a[QFILE_ID_MAX], b[QFILE_ID_MAX];

	(void)state;
	qfile_make_id(a, &tv, 1234567);
	qfile_make_id(b, &tv2, 1);
	assert_true(qfile_valid_id(a));
	assert_true(qfile_valid_id(b));
	assert_int_equal(a[10], 'z');
	assert_null(strchr(a + 11, 'z'));
	assert_true(strcmp(a, b) < 0);	/* sorts by age */
	assert_int_equal(qfile_id_time(a), 1700000000);
	assert_false(qfile_valid_id("../../etc/passwd"));
	assert_false(qfile_valid_id("short"));
	assert_false(qfile_valid_id("0000000000x1234"));
	assert_false(qfile_valid_id("0000000000z12z4"));
	assert_false(qfile_valid_id("000000000az1234"));	/* vowels are not used */
	assert_int_equal(qfile_id_time("nonsense"), -1);
}

struct async_state {
	int done;
	int ok;
	char ids[40][QFILE_ID_MAX];
};

static void async_done(void *ctx, int status, const char *queue_id, const char *reply)
{
	struct async_state *s = ctx;

	(void)reply;
	if (status == 0) {
		snprintf(s->ids[s->ok], QFILE_ID_MAX, "%s", queue_id);
		s->ok++;
	}
	s->done++;
}

static void test_group_commit(void **state)
{
	struct event_base *base = event_base_new();
	struct qfile_committer *c = qfile_committer_new(base);
	struct async_state s = { 0 };

	(void)state;
	for (int i = 0; i < 40; i++) {
		struct qfile_writer *w = make_message();

		qfile_commit_async(c, &w, async_done, &s);
		assert_null(w);
	}
	assert_int_equal(s.done, 0);	/* never called back re-entrantly */
	while (s.done < 40)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(s.ok, 40);
	assert_int_equal(count_files(), 40);
	for (int i = 0; i < 40; i++) {
		struct qfile *q = open_committed(s.ids[i], false);

		assert_int_equal(q->nrcpt, 3);
		qfile_free(&q);
	}
	qfile_committer_free(&c);
	assert_null(c);
	event_base_free(base);
}

static void test_free_flushes_pending(void **state)
{
	struct event_base *base = event_base_new();
	struct qfile_committer *c = qfile_committer_new(base);
	struct async_state s = { 0 };
	struct qfile_writer *w = make_message();

	(void)state;
	qfile_commit_async(c, &w, async_done, &s);
	qfile_committer_free(&c);
	assert_int_equal(s.done, 1);
	assert_int_equal(s.ok, 1);
	event_base_free(base);
}

static void test_missing_dir_reply(void **state)
{
	struct buf err = BUF_INIT;
	struct qfile_writer *w = qfile_create(qdir, "nonexistent", &err);

	(void)state;
	assert_null(w);
	assert_true(strncmp(err.data, "451 4.3.0", 9) == 0);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_complete_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unterminated_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_always_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_detected, setup, teardown),
		cmocka_unit_test(test_queue_ids),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_flushes_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir_reply, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

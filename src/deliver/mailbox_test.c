/*
 * mailbox_test - Maildir names and writes, mbox From_ lines, ">From "
 * quoting, size limits, and an mbox held by another process's lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "deliver/mailbox.h"

/* slurp - a whole file as a string */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

/* test_maildir_name - time, usec, pid, random, host with / and : escaped */
static void test_maildir_name(void **state)
{
	struct buf b = BUF_INIT;
	struct timeval tv = { .tv_sec = 1700000000, .tv_usec = 42 };

	(void)state;
	mailbox_maildir_name(&b, &tv, 1234, 0xabcdefULL, "mx.example");
	assert_string_equal(buf_cstr(&b), "1700000000.M42P1234Rabcdef.mx.example");
	mailbox_maildir_name(&b, &tv, 1, 1, "we/ird:host");
	assert_string_equal(buf_cstr(&b), "1700000000.M42P1R1.we\\057ird\\072host");
	buf_free(&b);
}

struct quote_case {
	const char *name, *in, *out;
};

/* test_quote_from - only lines beginning with "From " are quoted */
static void test_quote_from(void **state)
{
	static const struct quote_case cases[] = {
		{ "plain text untouched", "a\nb\n", "a\nb\n" },
		{ "From at line start", "x\nFrom me\n", "x\n>From me\n" },
		{ "first line", "From here\n", ">From here\n" },
		{ "already quoted stays single", ">From x\n", ">From x\n" },
		{ "From: header is not From_", "From: a@b\n", "From: a@b\n" },
		{ "mid-line From", "say From x\n", "say From x\n" },
		{ "last line without newline", "a\nFrom z", "a\n>From z" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT;
		mailbox_quote_from(cases[i].in, strlen(cases[i].in), &out);
		if (strcmp(buf_cstr(&out), cases[i].out) != 0)
			fail_msg("%s: got \"%s\"", cases[i].name, buf_cstr(&out));
		buf_free(&out);
	}
}

/* test_from_line - Postfix's "From sender  asctime" with MAILER-DAEMON for <> */
static void test_from_line(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	mailbox_from_line(&b, "a@x.example", 1700000000);
	assert_string_equal(buf_cstr(&b), "From a@x.example  Tue Nov 14 22:13:20 2023\n");
	buf_reset(&b);
	mailbox_from_line(&b, "", 1699000000);
	assert_string_equal(buf_cstr(&b), "From MAILER-DAEMON  Fri Nov  3 08:26:40 2023\n");
	buf_free(&b);
}

/* only_file - the single entry of a directory */
static void only_file(const char *dir, char *out, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(out, n, "%s/%s", dir, e->d_name);
		count++;
	}
	closedir(d);
	assert_int_equal(count, 1);
}

/* test_maildir_deliver - file appears in new/, tmp/ is empty, bytes are exact */
static void test_maildir_deliver(void **state)
{
	char base[] = "/tmp/mailbox_test.XXXXXX", dir[512], path[1024], file[2048];
	struct buf h = BUF_INIT, c = BUF_INIT;
	struct deliver_outcome o = { 0 };
	char *got;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/a/b/Maildir", base);
	buf_set(&h, "Delivered-To: u@x\n");
	buf_set(&c, "Subject: hi\n\nFrom body\n");
	mailbox_maildir_deliver(dir, &h, &c, 0, &o);
	assert_string_equal(o.dsn, "2.0.0");
	snprintf(path, sizeof(path), "%s/new", dir);
	only_file(path, file, sizeof(file));
	got = slurp(file);
	assert_string_equal(got, "Delivered-To: u@x\nSubject: hi\n\nFrom body\n");
	free(got);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	assert_int_equal(rmdir(path), 0);	/* empty */

	memset(&o, 0, sizeof(o));
	mailbox_maildir_deliver(dir, &h, &c, 10, &o);
	assert_string_equal(o.dsn, "5.2.2");
	buf_free(&h);
	buf_free(&c);
	snprintf(path, sizeof(path), "rm -rf %s", base);
	assert_int_equal(system(path), 0);
}

/* test_mbox_deliver - exact bytes, quoting, size limit, and waiting for a held lock */
static void test_mbox_deliver(void **state)
{
	char base[] = "/tmp/mailbox_test.XXXXXX", path[512], cmd[600];
	struct buf h = BUF_INIT, c = BUF_INIT;
	struct deliver_outcome o = { 0 };
	struct mbox_opts opts = {
		.locks = MAILBOX_LOCK_FCNTL | MAILBOX_LOCK_DOTLOCK,
		.lock_attempts = 5, .lock_delay = 1, .stale_lock_time = 500,
		.sender = "s@x.example", .arrival = 1700000000,
	};
	int pipefd[2], status;
	pid_t pid;
	char *got;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/mbox", base);
	buf_set(&h, "Return-Path: <s@x.example>\n");
	buf_set(&c, "Subject: a\n\nFrom the start\nend");
	mailbox_mbox_deliver(path, &opts, &h, &c, &o);
	assert_string_equal(o.dsn, "2.0.0");

	/* another process holds an fcntl lock for a while: we wait, then append */
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		sleep(2);
		_exit(0);
	}
	assert_int_equal(read(pipefd[0], cmd, 1), 1);
	memset(&o, 0, sizeof(o));
	buf_set(&c, "Subject: b\n\nbody\n");
	mailbox_mbox_deliver(path, &opts, &h, &c, &o);
	assert_string_equal(o.dsn, "2.0.0");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	got = slurp(path);
	assert_string_equal(got,
			    "From s@x.example  Tue Nov 14 22:13:20 2023\n"
			    "Return-Path: <s@x.example>\n"
			    "Subject: a\n\n>From the start\nend\n\n"
			    "From s@x.example  Tue Nov 14 22:13:20 2023\n"
			    "Return-Path: <s@x.example>\n"
			    "Subject: b\n\nbody\n\n");
	free(got);

	/* a lock that stays busy defers with 4.2.0 */
	opts.lock_attempts = 1;
	snprintf(cmd, sizeof(cmd), "%s.lock", path);
	close(open(cmd, O_WRONLY | O_CREAT, 0600));
	memset(&o, 0, sizeof(o));
	mailbox_mbox_deliver(path, &opts, &h, &c, &o);
	assert_string_equal(o.dsn, "4.2.0");
	unlink(cmd);

	/* mailbox_size_limit bounces with 5.2.2 and leaves the file as it was */
	opts.size_limit = 100;
	memset(&o, 0, sizeof(o));
	mailbox_mbox_deliver(path, &opts, &h, &c, &o);
	assert_string_equal(o.dsn, "5.2.2");
	free(slurp(path));

	/* a symlink is refused */
	snprintf(cmd, sizeof(cmd), "%s/link", base);
	assert_int_equal(symlink(path, cmd), 0);
	opts.size_limit = 0;
	memset(&o, 0, sizeof(o));
	mailbox_mbox_deliver(cmd, &opts, &h, &c, &o);
	assert_int_not_equal(o.dsn[0], '2');

	buf_free(&h);
	buf_free(&c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildir_name),
		cmocka_unit_test(test_quote_from),
		cmocka_unit_test(test_from_line),
		cmocka_unit_test(test_maildir_deliver),
		cmocka_unit_test(test_mbox_deliver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

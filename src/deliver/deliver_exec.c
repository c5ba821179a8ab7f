/*
 * deliver_exec - run a program with a message on its standard input and
 * collect what it says, under a time limit. Shared by local(8) commands
 * (through the shell) and pipe(8) (argv given directly).
 *
 * The child gets its own session so that a time limit kills the whole
 * process group, stdin is the message, stdout and stderr are one pipe
 * whose first output_max bytes come back; the rest is read and dropped so
 * a chatty command never blocks. The caller maps the exit status.
 *
 * Public: deliver_exec.
 * Errors: -1 with errno when no pipe or process can be made. A directory
 * or program that cannot be used makes the child say why on its output
 * and exit EX_TEMPFAIL, so the delivery is retried, as Postfix does.
 */
#include "deliver/deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* child_say - a line on the command's output channel, then exit */
static void __attribute__((noreturn)) child_say(const char *what, const char *arg, int err)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s %s: %s\n", what, arg, strerror(err));
	if (write(1, b.data, b.len) < 0)
		_exit(EX_TEMPFAIL);
	_exit(EX_TEMPFAIL);
}

/* child_exec - the forked side: directory, descriptors, exec */
static void __attribute__((noreturn))
child_exec(const struct deliver_exec *x, int in_fd, int out_fd)
{
	setsid();
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(EX_OSERR);
	close(in_fd);
	close(out_fd);
	signal(SIGPIPE, SIG_DFL);
	if (x->dir == NULL || chdir(x->dir) < 0) {
		if (x->dir && x->dir_required)
			child_say("cannot change to directory", x->dir, errno);
		if (chdir("/") < 0)
			child_say("cannot change to directory", "/", errno);
	}
	execve(x->argv[0], x->argv, x->envp);
	child_say("cannot execute", x->argv[0], errno);
}

/* pump - feed input, collect output, honour the time limit; -1 on timeout */
static int pump(int to_child, int from_child, const struct buf *input, long time_limit,
		size_t output_max, struct buf *output)
{
	size_t off = 0;
	time_t deadline = time(NULL) + (time_limit > 0 ? time_limit : 1000);
	bool out_open = true;

	fcntl(to_child, F_SETFL, O_NONBLOCK);
	while (out_open) {
		struct pollfd p[2] = {{from_child, POLLIN, 0}, {to_child, POLLOUT, 0}};
		int n = to_child >= 0 ? 2 : 1;
		long left = (long)(deadline - time(NULL));
		char chunk[4096];

		if (left <= 0 || poll(p, (nfds_t)n, (int)(left * 1000)) == 0) {
			if (to_child >= 0)
				close(to_child);
			return -1;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(from_child, chunk, sizeof(chunk));
			if (r > 0 && output->len < output_max)
				buf_append(output, chunk,
					   (size_t)r < output_max - output->len
						   ? (size_t)r
						   : output_max - output->len);
			else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
				out_open = false;
		}
		if (n == 2 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = off < input->len
					    ? write(to_child, input->data + off, input->len - off)
					    : 0;
			if (w > 0)
				off += (size_t)w;
			if (off >= input->len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(to_child); /* done, or the command stopped reading */
				to_child = -1;
			}
		}
	}
	if (to_child >= 0)
		close(to_child);
	return 0;
}

/* deliver_exec - run x->argv with input on stdin; the caller already has the right identity */
int deliver_exec(const struct deliver_exec *x, const struct buf *input,
		 struct deliver_exec_result *res)
{
	int in[2], out[2];
	void (*old_pipe)(int);
	pid_t pid;

	res->status = 0;
	res->timed_out = false;
	buf_reset(&res->output);
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]), close(in[1]);
		return -1;
	}
	if ((pid = fork()) < 0) {
		int e = errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return errno = e, -1;
	}
	if (pid == 0) {
		close(in[1]);
		close(out[0]);
		child_exec(x, in[0], out[1]);
	}
	close(in[0]);
	close(out[1]);
	old_pipe = signal(SIGPIPE, SIG_IGN);
	res->timed_out = pump(in[1], out[0], input, x->time_limit,
			      x->output_max ? x->output_max : 8192, &res->output) < 0;
	close(out[0]);
	if (res->timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &res->status, 0) < 0 && errno == EINTR)
		;
	signal(SIGPIPE, old_pipe);
	return 0;
}

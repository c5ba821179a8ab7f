/*
 * local_exec - run a delivery command (mailbox_command, "|command" in
 * aliases and .forward files) with the message on its standard input.
 *
 * The command text comes from the administrator's or the user's own files,
 * never from the network; what the network supplied (sender, recipient,
 * extension) reaches the command only through the environment. The shell
 * is local_command_shell, or /bin/sh -c when that is empty.
 *
 * Public: local_run_command.
 * Errors: exit status 0 is delivered; EX_TEMPFAIL (75) and a timeout defer
 * (4.3.0); EX_NOUSER 5.1.1; other failures bounce with 5.3.0 and the
 * command's first output line, as Postfix's local(8) reports them.
 */
#include "deliver/local.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"

/* child_exec - the forked side: stdin/stdout/stderr, then exec */
static void child_exec(const char *shell, const char *cmd, char *const envp[],
		       const char *dir, int in_fd, int out_fd)
{
	struct strv argv = STRV_INIT;
	const char *e = NULL;

	if (dir == NULL || chdir(dir) < 0) {
		if (chdir("/") < 0)
			_exit(EX_OSERR);
	}

	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(EX_OSERR);
	close(in_fd);
	close(out_fd);
	signal(SIGPIPE, SIG_DFL);
	if (shell && *shell) {
		if (str_split(shell, STR_SPACE, &argv, &e) < 0 || argv.n == 0)
			_exit(EX_CONFIG);
		strv_push(&argv, cmd);
	} else {
		strv_push(&argv, "/bin/sh");
		strv_push(&argv, "-c");
		strv_push(&argv, cmd);
	}
	execve(argv.v[0], argv.v, envp);
	_exit(EX_OSERR);
}

/* pump - feed input, collect output, honour the time limit; -1 on timeout */
static int pump(int to_child, int from_child, const struct buf *input,
		long time_limit, struct buf *output)
{
	size_t off = 0;
	time_t deadline = time(NULL) + (time_limit > 0 ? time_limit : 1000);
	bool out_open = true;

	fcntl(to_child, F_SETFL, O_NONBLOCK);
	while (out_open) {
		struct pollfd p[2] = { { from_child, POLLIN, 0 }, { to_child, POLLOUT, 0 } };
		int n = to_child >= 0 ? 2 : 1;
		long left = (long)(deadline - time(NULL));
		char chunk[4096];

		if (left <= 0 || poll(p, (nfds_t)n, (int)(left * 1000)) == 0)
			return -1;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(from_child, chunk, sizeof(chunk));
			if (r > 0 && output->len < 8192)
				buf_append(output, chunk, (size_t)r);
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
				close(to_child);	/* done, or the command stopped reading */
				to_child = -1;
			}
		}
	}
	if (to_child >= 0)
		close(to_child);
	return 0;
}

/* first_line - the command's first output line, for the reply text */
static void first_line(const struct buf *out, char *dst, size_t n)
{
	size_t len = strcspn(buf_cstr(out), "\n");

	if (len >= n)
		len = n - 1;
	memcpy(dst, buf_cstr(out), len);
	dst[len] = 0;
}

/* local_run_command - deliver input to a command run in dir; the caller already runs as the right user */
void local_run_command(const char *shell, const char *cmd, char *const envp[],
		       const char *dir, const struct buf *input, long time_limit,
		       struct deliver_outcome *o)
{
	int in[2], out[2], status = 0, timed_out;
	char line[200];
	struct buf output = BUF_INIT;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		deliver_outcome_set(o, "4.3.0", "cannot create pipe for command: %m");
		return;
	}
	if ((pid = fork()) < 0) {
		deliver_outcome_set(o, "4.3.0", "cannot fork command: %m");
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return;
	}
	if (pid == 0) {
		setsid();
		close(in[1]);
		close(out[0]);
		child_exec(shell, cmd, envp, dir, in[0], out[1]);
	}
	close(in[0]);
	close(out[1]);
	signal(SIGPIPE, SIG_IGN);
	timed_out = pump(in[1], out[0], input, time_limit, &output);
	close(out[0]);
	if (timed_out < 0)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	first_line(&output, line, sizeof(line));
	buf_free(&output);
	if (timed_out < 0)
		deliver_outcome_set(o, "4.3.0", "command time limit exceeded: \"%s\"", cmd);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		deliver_outcome_set(o, "2.0.0", "delivered to command: %s", cmd);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == EX_TEMPFAIL)
		deliver_outcome_set(o, "4.3.0", "temporary failure. Command output: %s", line);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == EX_NOUSER)
		deliver_outcome_set(o, "5.1.1", "user unknown. Command output: %s", line);
	else if (WIFEXITED(status))
		deliver_outcome_set(o, "5.3.0", "Command died with status %d: \"%s\". Command output: %s",
				    WEXITSTATUS(status), cmd, line);
	else
		deliver_outcome_set(o, "4.3.0", "Command killed by signal %d: \"%s\"",
				    WTERMSIG(status), cmd);
}

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
 * The process work (fork, input, output, time limit) is deliver_exec's.
 *
 * Errors: exit status 0 is delivered; EX_TEMPFAIL (75) and a timeout defer
 * (4.3.0); EX_NOUSER 5.1.1; other failures bounce with 5.3.0 and the
 * command's first output line, as Postfix's local(8) reports them.
 */
#include "deliver/local.h"

#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>

#include "lib/str.h"

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
	struct strv argv = STRV_INIT;
	struct deliver_exec_result res = { .output = BUF_INIT };
	const char *e = NULL;
	char line[200];
	int status;

	if (shell && *shell) {
		if (str_split(shell, STR_SPACE, &argv, &e) < 0 || argv.n == 0) {
			deliver_outcome_set(o, "4.3.5", "mail system configuration error: local_command_shell: %s",
					    e ? e : "empty");
			strv_free(&argv);
			return;
		}
		strv_push(&argv, cmd);
	} else {
		strv_push(&argv, "/bin/sh");
		strv_push(&argv, "-c");
		strv_push(&argv, cmd);
	}
	struct deliver_exec x = { .argv = argv.v, .envp = envp, .dir = dir,
				  .time_limit = time_limit };
	if (deliver_exec(&x, input, &res) < 0) {
		deliver_outcome_set(o, "4.3.0", "cannot run command: %m");
		strv_free(&argv);
		return;
	}
	strv_free(&argv);
	status = res.status;
	first_line(&res.output, line, sizeof(line));
	buf_free(&res.output);
	if (res.timed_out)
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

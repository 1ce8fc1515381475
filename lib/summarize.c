/* summarize.c: ask an outside command to shorten a text, with a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wb_priv.h"

#define MAX_SUMMARY (16u << 20)

/* Start sh -c cmd in its own process group, with three pipes. */
static pid_t
spawn(const char *cmd, const char *category, uint64_t target, int fds[3])
{
	int in[2], out[2], errp[2];
	char t[32];
	pid_t pid;

	if (pipe(in) < 0)
		return -1;
	if (pipe(out) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (pipe(errp) < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(errp[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(errp[0]); close(errp[1]);
		snprintf(t, sizeof(t), "%llu", (unsigned long long)target);
		setenv("WB_TARGET_TOKENS", t, 1);
		setenv("WB_CATEGORY", category, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* The parent too: a deadline that passes before the child runs
	 * must still find its group to kill. */
	if (pid > 0)
		setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		close(errp[0]);
		return -1;
	}
	fds[0] = in[1];
	fds[1] = out[0];
	fds[2] = errp[0];
	for (int i = 0; i < 3; i++)
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	return pid;
}

int
wb_summarize(const char *cmd, double timeout, const char *category,
    uint64_t target, const char *text, size_t len, char **out, size_t *outlen,
    struct wb_err *err)
{
	char head[256], buf[65536];
	struct wb_buf input = { 0 }, res = { 0 }, msg = { 0 };
	size_t off = 0;
	int fds[3] = { -1, -1, -1 }, st = WB_OK, wstatus = 0;
	double deadline = wb_now() + timeout;
	sigset_t pipeset, oldset;
	bool killed = false;
	pid_t pid;

	*out = NULL;
	snprintf(head, sizeof(head), "Summarize the following %s text in at "
	    "most %llu tokens. Reply with the summary only.\n\n", category,
	    (unsigned long long)target);
	if (wb_buf_adds(&input, head) != 0 ||
	    wb_buf_add(&input, text, len) != 0) {
		wb_buf_free(&input);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	/* A command that stops reading must not kill us with SIGPIPE. */
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipeset, &oldset);
	if ((pid = spawn(cmd, category, target, fds)) < 0) {
		st = wb_err_set(err, WB_EUNAVAIL, "cannot run summarize_command: %s",
		    strerror(errno));
		goto out;
	}
	while (fds[1] >= 0 || fds[2] >= 0) {
		struct pollfd pf[3];
		int n = 0, ms;
		double left = deadline - wb_now();

		if (left <= 0) {
			if (kill(-pid, SIGKILL) != 0)
				kill(pid, SIGKILL);
			killed = true;
			break;
		}
		ms = (int)(left * 1000) + 1;
		for (int i = 0; i < 3; i++)
			if (fds[i] >= 0) {
				pf[n].fd = fds[i];
				pf[n].events = i == 0 ? POLLOUT : POLLIN;
				pf[n].revents = 0;
				n++;
			}
		if (poll(pf, (nfds_t)n, ms) < 0 && errno != EINTR)
			break;
		for (int j = 0; j < n; j++) {
			if (pf[j].revents == 0)
				continue;
			if (pf[j].fd == fds[0]) {
				ssize_t w = write(fds[0], input.p + off,
				    input.len - off);
				if (w > 0)
					off += (size_t)w;
				if ((w < 0 && errno != EAGAIN) || off == input.len) {
					close(fds[0]);
					fds[0] = -1;
				}
				continue;
			}
			ssize_t r = read(pf[j].fd, buf, sizeof(buf));
			if (r > 0 && pf[j].fd == fds[1]) {
				if (res.len + (size_t)r > MAX_SUMMARY ||
				    wb_buf_add(&res, buf, (size_t)r) != 0) {
					kill(-pid, SIGKILL);
					st = wb_err_set(err, WB_EDATA,
					    "summary larger than %u bytes", MAX_SUMMARY);
				}
			} else if (r > 0) {
				/* Only the start of stderr is kept, for the message. */
				if (msg.len + (size_t)r <= 4096)
					(void)wb_buf_add(&msg, buf, (size_t)r);
			} else if (r == 0 || errno != EAGAIN) {
				int i = pf[j].fd == fds[1] ? 1 : 2;
				close(fds[i]);
				fds[i] = -1;
			}
		}
		if (st != WB_OK)
			break;
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (st != WB_OK)
		goto out;
	if (killed) {
		st = wb_err_set(err, WB_EUNAVAIL, "summarize_command timed out "
		    "after %g s", timeout);
	} else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		size_t l = 0;
		while (l < msg.len && msg.p[l] != '\n')
			l++;
		if (WIFEXITED(wstatus))
			st = wb_err_set(err, WB_EUNAVAIL,
			    "summarize_command exited with status %d%s%.*s",
			    WEXITSTATUS(wstatus), l ? ": " : "", (int)l,
			    msg.p ? msg.p : "");
		else
			st = wb_err_set(err, WB_EUNAVAIL,
			    "summarize_command killed by signal %d",
			    WTERMSIG(wstatus));
	} else {
		while (res.len > 0 && strchr(" \t\r\n", res.p[res.len - 1]) != NULL)
			res.p[--res.len] = '\0';
		if (res.len == 0)
			st = wb_err_set(err, WB_EDATA, "empty summary");
		else if (wb_utf8_valid(res.p, res.len) != res.len)
			st = wb_err_set(err, WB_EDATA, "summary is not UTF-8");
	}
out:
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	{
		/* Take back a SIGPIPE that a closed pipe raised while blocked. */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipeset, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &oldset, NULL);
	wb_buf_free(&input);
	wb_buf_free(&msg);
	if (st != WB_OK) {
		wb_buf_free(&res);
		return st;
	}
	*outlen = res.len;
	*out = wb_buf_take(&res);
	return WB_OK;
}

/*
 * Summarize text for a budget: *out is prefix (a heading that stays)
 * followed by the summary, and is used only if it fits, counted whole by
 * c; otherwise err says why, for the report.
 */
int
wb_summarize_within(const struct wb_settings *s, const struct wb_counter *c,
    const char *category, uint64_t budget, const char *prefix, size_t plen,
    const char *text, size_t len, char **out, size_t *outlen,
    struct wb_err *err)
{
	char *sum = NULL, *whole;
	size_t slen = 0;
	uint64_t n;
	int st;

	*out = NULL;
	if ((st = wb_summarize(s->summarize_command, s->summarize_timeout,
	    category, budget, text, len, &sum, &slen, err)) != WB_OK)
		return st;
	if (sum == NULL)
		return wb_err_set(err, WB_EINTERNAL, "no summary");
	if ((whole = malloc(plen + slen + 1)) == NULL) {
		free(sum);
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	}
	memcpy(whole, prefix, plen);
	memcpy(whole + plen, sum, slen + 1);
	free(sum);
	if ((n = wb_count(c, whole, plen + slen)) > budget) {
		free(whole);
		return wb_err_set(err, WB_EDATA,
		    "summary has %llu tokens, over the budget of %llu",
		    (unsigned long long)n, (unsigned long long)budget);
	}
	*out = whole;
	*outlen = plen + slen;
	return WB_OK;
}

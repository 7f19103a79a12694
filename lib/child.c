#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "err.h"
#include "run.h"

static void
on_chld(int sig)
{
	(void)sig;	/* only to interrupt ppoll */
}

static void
closepair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
child(char **argv, int out[2], int err[2], int ex[2], const sigset_t *mask,
    pid_t parent)
{
	struct sigaction dfl;
	int e;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)	/* died before the line above */
		_exit(127);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);
	sigaction(SIGHUP, &dfl, NULL);
	sigaction(SIGCHLD, &dfl, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(err[1], STDERR_FILENO) < 0)
		_exit(126);
	execvp(argv[0], argv);
	e = errno;
	if (write(ex[1], &e, sizeof(e)) < 0)
		_exit(126);
	_exit(e == ENOENT ? 127 : 126);
}

int
jobs_child_run(char **argv, struct jobs_capture *out, struct jobs_capture *err,
    int64_t timeout_ms, int64_t grace_ms, volatile sig_atomic_t *stop,
    struct jobs_child *res, struct jobs_err *e)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, px[2] = { -1, -1 };
	struct sigaction sa, oldchld;
	sigset_t block, old;
	int64_t start = jobs_clock_mono_ms(), kill_at = -1, exited_at = 0;
	int exited = 0, rc = -1, sig_sent = 0;
	pid_t pid, parent = getpid();
	char buf[65536];

	memset(res, 0, sizeof(*res));
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    pipe2(px, O_CLOEXEC) < 0) {
		jobs_err_set(e, JOBS_ETEMP, "unable to make pipes: %s", strerror(errno));
		goto out;
	}
	/* Block the signals we wait for; ppoll unblocks them atomically. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &oldchld);

	if ((pid = fork()) < 0) {
		jobs_err_set(e, JOBS_ETEMP, "unable to fork: %s", strerror(errno));
		goto restore;
	}
	if (pid == 0)
		child(argv, po, pe, px, &old, parent);
	setpgid(pid, pid);	/* also here: no race with our kill() */
	close(po[1]);
	close(pe[1]);
	close(px[1]);
	po[1] = pe[1] = px[1] = -1;
	if (read(px[0], &res->exec_errno, sizeof(res->exec_errno)) <= 0)
		res->exec_errno = 0;

	while (!exited || po[0] >= 0 || pe[0] >= 0) {
		struct pollfd fds[2];
		struct timespec ts, *tsp = NULL;
		int64_t now = jobs_clock_mono_ms(), wait = -1;
		int n = 0, i, status;

		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			exited_at = now;
			res->status = status;
		}
		/* Its children may write on forever: drain briefly, then stop. */
		if (exited && now - exited_at > 200)
			break;
		if (!exited && !sig_sent) {
			if (*stop) {
				res->stopped = 1;
				kill(-pid, *stop);
				sig_sent = 1;
			} else if (timeout_ms > 0 && now - start >= timeout_ms) {
				res->timed_out = 1;
				kill(-pid, SIGTERM);
				sig_sent = 1;
			}
			if (sig_sent)
				kill_at = now + grace_ms;
		}
		if (!exited && kill_at >= 0 && now >= kill_at) {
			kill(-pid, SIGKILL);
			res->killed = 1;
			kill_at = -1;
		}
		if (!exited) {
			if (!sig_sent && timeout_ms > 0)
				wait = start + timeout_ms - now;
			if (kill_at >= 0)
				wait = kill_at - now;
		} else
			wait = 0;	/* gone: drain what is there, no more */
		if (wait >= 0) {
			ts.tv_sec = (time_t)(wait / 1000);
			ts.tv_nsec = (long)(wait % 1000) * 1000000;
			tsp = &ts;
		}
		if (po[0] >= 0)
			fds[n++] = (struct pollfd){ po[0], POLLIN, 0 };
		if (pe[0] >= 0)
			fds[n++] = (struct pollfd){ pe[0], POLLIN, 0 };
		i = ppoll(fds, (nfds_t)n, tsp, &old);
		if (i < 0 && errno != EINTR) {
			jobs_err_set(e, JOBS_ETEMP, "poll: %s", strerror(errno));
			break;
		}
		if (i == 0 && exited)
			break;	/* a grandchild may hold the pipes open forever */
		for (i = 0; i < n; i++) {
			int *fd = fds[i].fd == po[0] ? &po[0] : &pe[0];
			struct jobs_capture *cap = fds[i].fd == po[0] ? out : err;
			ssize_t got;

			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(*fd, buf, sizeof(buf));
			if (got > 0)
				jobs_capture_add(cap, buf, (size_t)got);
			else if (got == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	if (!exited) {
		while (waitpid(pid, &res->status, 0) < 0 && errno == EINTR)
			;
	}
	rc = 0;
restore:
	sigaction(SIGCHLD, &oldchld, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	closepair(po);
	closepair(pe);
	closepair(px);
	return rc;
}

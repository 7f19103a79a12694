#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "lock.h"

static int
lock_path(const char *ledger_path, const char *job, char *buf, size_t size,
    char *dir, size_t dsize)
{
	char ldir[4096];
	int n;

	jobs_fs_dirname(ledger_path, ldir, sizeof(ldir));
	n = snprintf(dir, dsize, "%s/locks", ldir);
	if (n < 0 || (size_t)n >= dsize)
		return -1;
	n = snprintf(buf, size, "%s/%s", dir, job);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
jobs_lock_take(const char *ledger_path, const char *job, int *fd,
    struct jobs_err *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[4096], dir[4096];
	int f;

	if (lock_path(ledger_path, job, path, sizeof(path), dir, sizeof(dir)) < 0)
		return jobs_err_set(err, JOBS_EUSAGE, "lock path too long");
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0 && errno == ENOENT) {
		if (jobs_fs_mkdirs(dir, 0700, err) < 0)
			return -1;
		f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (f < 0)
		return jobs_err_set(err, JOBS_ETEMP, "unable to open lock %s: %s",
		    path, strerror(errno));
	if (fcntl(f, F_OFD_SETLK, &fl) < 0) {
		int e = errno;

		close(f);
		if (e == EAGAIN || e == EACCES)
			return 0;
		return jobs_err_set(err, JOBS_ETEMP, "unable to lock %s: %s",
		    path, strerror(e));
	}
	*fd = f;
	return 1;
}

int
jobs_lock_held(const char *ledger_path, const char *job, struct jobs_err *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[4096], dir[4096];
	int f, rc;

	if (lock_path(ledger_path, job, path, sizeof(path), dir, sizeof(dir)) < 0)
		return jobs_err_set(err, JOBS_EUSAGE, "lock path too long");
	if ((f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return 0;
		return jobs_err_set(err, JOBS_ETEMP, "unable to open lock %s: %s",
		    path, strerror(errno));
	}
	rc = fcntl(f, F_OFD_GETLK, &fl);
	close(f);
	if (rc < 0)
		return jobs_err_set(err, JOBS_ETEMP, "unable to test lock %s: %s",
		    path, strerror(errno));
	return fl.l_type != F_UNLCK;
}

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "spool.h"

int
jobs_spool_root(const char *config_dir, const char *ledger_path, char *buf,
    size_t size, struct jobs_err *err)
{
	const char *env = getenv("JOBS_SPOOL_DIR");
	char dir[4096];
	int n;

	if (env && *env)
		n = snprintf(buf, size, "%s", env);
	else if (config_dir && *config_dir)
		n = snprintf(buf, size, "%s", config_dir);
	else {
		jobs_fs_dirname(ledger_path, dir, sizeof(dir));
		n = snprintf(buf, size, "%s/spool", dir);
	}
	if (n < 0 || (size_t)n >= size)
		return jobs_err_set(err, JOBS_EUSAGE, "spool directory name too long");
	if (buf[0] != '/')
		return jobs_err_set(err, JOBS_EUSAGE, "spool directory %.80s: want an"
		    " absolute path", buf);
	return 0;
}

/* The six characters mkostemp() replaces. */
static const char mkstemp_template[] = { 'X', 'X', 'X', 'X', 'X', 'X', '\0' };

int
jobs_spool_write(const char *dir, int64_t id, const char *key, const char *ext,
    const char *data, size_t len, struct jobs_err *err)
{
	char tmp[4200], path[4200];
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *p;
	size_t off = 0;
	int fd = -1, dfd;

	for (p = key; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	if (snprintf(path, sizeof(path), "%s/%lld-%016llx.%s", dir, (long long)id,
	    (unsigned long long)h, ext) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%lld-%016llx.%s", dir, (long long)id,
	    (unsigned long long)h, mkstemp_template) >= (int)sizeof(tmp))
		return jobs_err_set(err, JOBS_EUSAGE, "spool path too long");
	if (jobs_fs_mkdirs(dir, 0700, err) < 0)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return jobs_err_set(err, JOBS_ETEMP, "unable to write in spool %s: %s",
		    dir, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	/* Durable before it is visible: the file, then its name. */
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	{
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		/* A full or failing disk: the row is retried later. */
		return jobs_err_set(err, JOBS_ETEMP, "unable to write %s: %s", path,
		    strerror(e));
	}
}

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"

void
jobs_fs_dirname(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, size, ".");
	else if (slash == path)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

int
jobs_fs_mkdirs(const char *path, mode_t mode, struct jobs_err *err)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return jobs_err_set(err, JOBS_EUSAGE, "bad directory name");
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST) {
			int e = errno;

			return jobs_err_set(err, e == EACCES || e == EROFS ||
			    e == ENOTDIR ? JOBS_EUSAGE : JOBS_ETEMP,
			    "unable to create directory %s: %s", buf, strerror(e));
		}
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

int
jobs_fs_selfdir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

/*
 * fs.h - small file-system helpers.
 */
#ifndef JOBS_FS_H
#define JOBS_FS_H

#include <stddef.h>
#include <sys/types.h>

struct jobs_err;

/* The directory part of path into buf ("." when there is none). */
void jobs_fs_dirname(const char *path, char *buf, size_t size);

/* mkdir -p: create path and its missing parents with mode; 0 or -1 with err. */
int jobs_fs_mkdirs(const char *path, mode_t mode, struct jobs_err *err);

/* The directory this program's executable is in, into buf; -1 if unknown. */
int jobs_fs_selfdir(char *buf, size_t size);

#endif

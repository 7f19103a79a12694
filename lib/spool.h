/*
 * spool.h - the file spool: one file per message in a flat directory,
 * written atomically (a dot-named temporary file renamed in place), as
 * Django's and Rails' file mail backends do.  The embedded default when no
 * server is configured.
 */
#ifndef JOBS_SPOOL_H
#define JOBS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct jobs_err;

/*
 * The spool root: JOBS_SPOOL_DIR, else the config's spool_dir (may be
 * NULL), else spool/ beside the ledger.  Into buf; 0 or -1 with err.
 */
int jobs_spool_root(const char *config_dir, const char *ledger_path, char *buf,
    size_t size, struct jobs_err *err);

/*
 * Write len bytes of data as the message id/key into dir (created 0700
 * when missing) under the name "<id>-<hash of key>.<ext>": the same
 * message written twice (delivery is at least once) replaces itself.
 * Nothing but the final file is left behind.  0 or -1 with err.
 */
int jobs_spool_write(const char *dir, int64_t id, const char *key,
    const char *ext, const char *data, size_t len, struct jobs_err *err);

#endif

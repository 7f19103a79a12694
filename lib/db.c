#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "err.h"
#include "fs.h"

extern const char jobs_schema_sql[];	/* schema.sql, generated into the build */

#define LEDGER_APP_ID	0x4a4f424c	/* "JOBL" */
#define APP_APP_ID	0x4a4f4241	/* "JOBA", set only on a file we create */
#define NFS_MAGIC	0x6969
#define SMB_MAGIC	0x517b
#define CIFS_MAGIC	0xff534d42
#define SMB2_MAGIC	0xfe534d42

static const char *const component_names[] = { "ledger", "app" };

const char *
jobs_db_kind_name(enum jobs_db_kind kind)
{
	return kind == JOBS_DB_LEDGER ? "ledger" : "application database";
}

/* SQLite result codes that say "try again later" rather than "broken". */
static int
temporary(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_IOERR:
	case SQLITE_FULL: case SQLITE_CANTOPEN: case SQLITE_READONLY:
	case SQLITE_NOMEM: case SQLITE_PROTOCOL:
		return 1;
	}
	return 0;
}

/*
 * After each commit: a passive checkpoint from 100 pages, as SQLite's own
 * autocheckpoint would; from 1024 (4 MiB) a RESTART, which waits (under the
 * busy timeout) for readers so that the next writer starts the log over.
 * A passive checkpoint never restarts it: with many short-lived writers
 * someone is nearly always reading, and the WAL grew without bound.
 */
static int
wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	(void)arg;
	if (frames >= 1024)
		sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	else if (frames >= 100)
		sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/* Retry a statement that cannot run in a transaction while it is busy. */
static int
exec_retry(struct jobs_db *db, const char *sql, struct jobs_err *err)
{
	int64_t deadline = jobs_clock_mono_ms() + db->busy_ms;
	int rc;

	while ((rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL)) != SQLITE_OK) {
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
		    jobs_clock_mono_ms() >= deadline)
			return jobs_db_fail(db, "unable to set up", err);
		jobs_clock_sleep_ms(5);
	}
	return 0;
}

int
jobs_db_fail(struct jobs_db *db, const char *what, struct jobs_err *err)
{
	int rc = sqlite3_extended_errcode(db->h);

	/* A wrong path is not fixed by trying again: a configuration error. */
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
		return jobs_err_set(err, JOBS_EUSAGE, "%s is not a usable SQLite"
		    " database: %s", db->path, sqlite3_errmsg(db->h));
	return jobs_err_set(err, temporary(rc) ? JOBS_ETEMP : JOBS_EFAIL,
	    "%s %s: %s", what, db->path, sqlite3_errmsg(db->h));
}

int
jobs_db_prepare(struct jobs_db *db, const char *sql, sqlite3_stmt **st,
    struct jobs_err *err)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return jobs_db_fail(db, "unable to query", err);
	}
	return 0;
}

int
jobs_db_done(struct jobs_db *db, sqlite3_stmt *st, struct jobs_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return jobs_db_fail(db, "unable to write", err);
	return 0;
}

int
jobs_db_exec(struct jobs_db *db, const char *sql, struct jobs_err *err)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return jobs_db_fail(db, "unable to run SQL on", err);
	return 0;
}

int
jobs_db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	/* Not copied: a copy can fail for want of memory and leave NULL. */
	if ((s == NULL ? sqlite3_bind_null(st, i) :
	    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)) != SQLITE_OK)
		return -1;
	return 0;
}

void
jobs_db_column_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(buf, size, "%s", s ? (const char *)s : "");
}

/*
 * Schema text: find component kind's chunk for version v.  A chunk runs
 * from its "-- @version v" line to the next marker.  Returns a pointer into
 * jobs_schema_sql and the length, or NULL.
 */
static const char *
chunk(enum jobs_db_kind kind, int v, size_t *len)
{
	const char *p = jobs_schema_sql, *start = NULL;
	int incomp = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (strncmp(p, "-- @", 4) == 0) {
			if (start) {
				*len = (size_t)(p - start);
				return start;
			}
			if (strncmp(p, "-- @component ", 14) == 0)
				incomp = strncmp(p + 14, component_names[kind],
				    strlen(component_names[kind])) == 0 &&
				    n == 14 + strlen(component_names[kind]);
			else if (incomp && strncmp(p, "-- @version ", 12) == 0 &&
			    strtol(p + 12, NULL, 10) == v)
				start = eol ? eol + 1 : p + n;
		}
		p += n + (eol != NULL);
	}
	if (start) {
		*len = strlen(start);
		return start;
	}
	return NULL;
}

int
jobs_db_known_version(enum jobs_db_kind kind)
{
	size_t len;
	int v = 0;

	while (chunk(kind, v + 1, &len))
		v++;
	return v;
}

int
jobs_db_version(struct jobs_db *db, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, v = 0;

	/* One statement at every start: no table yet means version 0. */
	if (sqlite3_prepare_v2(db->h, "SELECT version FROM jobs_schema"
	    " WHERE component = ?", -1, &st, NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(db->h), "no such table") != NULL)
			return 0;
		return jobs_db_fail(db, "unable to read", err);
	}
	sqlite3_bind_text(st, 1, component_names[db->kind], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to read", err);
	return v;
}

/* Run the statements of one chunk; sqlite3_exec takes several at once. */
static int
apply_chunk(sqlite3 *h, enum jobs_db_kind kind, int v, char **msg)
{
	size_t len;
	const char *sql = chunk(kind, v, &len);
	char *copy;
	int rc;

	if (sql == NULL)
		return SQLITE_INTERNAL;
	if ((copy = malloc(len + 1)) == NULL)
		return SQLITE_NOMEM;
	memcpy(copy, sql, len);
	copy[len] = '\0';
	rc = sqlite3_exec(h, copy, NULL, NULL, msg);
	free(copy);
	return rc;
}

/* The in-memory reference schema failed: out of memory, most likely. */
static int
ref_fail(sqlite3 *ref, struct jobs_db *db, struct jobs_err *err)
{
	return jobs_err_set(err, temporary(sqlite3_extended_errcode(ref)) ?
	    JOBS_ETEMP : JOBS_EFAIL, "unable to check columns of %s: %s", db->path,
	    sqlite3_errmsg(ref));
}

/*
 * Compare every table of the component (as a fresh in-memory copy of the
 * schema has it) with the file: a table an application already had must
 * have every column the toolkit uses.
 */
static int
check_columns(struct jobs_db *db, struct jobs_err *err)
{
	sqlite3 *ref = NULL;
	sqlite3_stmt *tables = NULL, *cols = NULL, *have = NULL;
	int rc = -1, v, r, known = jobs_db_known_version(db->kind);

	if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		jobs_err_set(err, JOBS_ETEMP, "out of memory");
		goto out;
	}
	for (v = 1; v <= known; v++)
		if (apply_chunk(ref, db->kind, v, NULL) != SQLITE_OK) {
			jobs_err_set(err, temporary(sqlite3_extended_errcode(ref)) ?
			    JOBS_ETEMP : JOBS_EFAIL, "built-in schema: %s",
			    sqlite3_errmsg(ref));
			goto out;
		}
	if (sqlite3_prepare_v2(ref, "SELECT name FROM sqlite_schema WHERE type = 'table'"
	    " AND name NOT LIKE 'sqlite_%'", -1, &tables, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ref, "SELECT name FROM pragma_table_info(?)", -1,
	    &cols, NULL) != SQLITE_OK) {
		ref_fail(ref, db, err);
		goto out;
	}
	if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM pragma_table_info(?)"
	    " WHERE name = ?", -1, &have, NULL) != SQLITE_OK) {
		jobs_db_fail(db, "unable to check columns of", err);
		goto out;
	}
	/* Each name stays valid while its row is current: bound, not copied. */
	while ((r = sqlite3_step(tables)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(tables, 0);

		sqlite3_reset(cols);
		if (t == NULL || sqlite3_bind_text(cols, 1, t, -1, SQLITE_STATIC) !=
		    SQLITE_OK) {
			ref_fail(ref, db, err);
			goto out;
		}
		while ((r = sqlite3_step(cols)) == SQLITE_ROW) {
			const char *c = (const char *)sqlite3_column_text(cols, 0);

			if (c == NULL) {
				ref_fail(ref, db, err);
				goto out;
			}
			sqlite3_reset(have);
			if (sqlite3_bind_text(have, 1, t, -1, SQLITE_STATIC) !=
			    SQLITE_OK || sqlite3_bind_text(have, 2, c, -1,
			    SQLITE_STATIC) != SQLITE_OK ||
			    sqlite3_step(have) != SQLITE_ROW) {
				jobs_db_fail(db, "unable to check columns of", err);
				goto out;
			}
			if (sqlite3_column_int(have, 0) == 0) {
				jobs_err_set(err, JOBS_EUSAGE, "%s: table %s has no"
				    " column %s (see jobs-schema(5))", db->path, t, c);
				goto out;
			}
		}
		if (r != SQLITE_DONE) {
			ref_fail(ref, db, err);
			goto out;
		}
		/* Unbind before t goes with the next row. */
		sqlite3_clear_bindings(cols);
		sqlite3_reset(have);
		sqlite3_clear_bindings(have);
	}
	if (r != SQLITE_DONE) {
		ref_fail(ref, db, err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(have);
	sqlite3_finalize(cols);
	sqlite3_finalize(tables);
	sqlite3_close(ref);
	return rc;
}

/* Is the file what kind says?  fresh: no objects yet (and no foreign id). */
static int
check_identity(struct jobs_db *db, int *fresh, struct jobs_err *err)
{
	int id = 0, objects = 0;

	sqlite3_stmt *st = NULL;
	int rc;

	/*
	 * One statement, so one snapshot: another process's migration may
	 * commit between two reads and make a new file look foreign.
	 */
	if (jobs_db_prepare(db, "SELECT (SELECT application_id FROM"
	    " pragma_application_id), (SELECT count(*) FROM sqlite_schema)", &st,
	    err) < 0)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int(st, 0);
		objects = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return jobs_db_fail(db, "unable to read", err);
	*fresh = id == 0 && objects == 0;
	if (db->kind == JOBS_DB_LEDGER) {
		if (id == LEDGER_APP_ID || *fresh)
			return 0;
		return jobs_err_set(err, JOBS_EUSAGE, "%s is not a jobs ledger"
		    " (application_id %#x): check JOBS_DB or --db", db->path,
		    (unsigned)id);
	}
	if (id == LEDGER_APP_ID)
		return jobs_err_set(err, JOBS_EUSAGE, "%s is the jobs ledger, not an"
		    " application database: check JOBS_APP_DB or --app-db", db->path);
	return 0;
}

struct migration {
	int from, to, fresh;
};

static int
migrate_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct migration *m = arg;
	sqlite3_stmt *st = NULL;
	char *msg = NULL;
	int v, fresh;

	/* Another process may have migrated while we waited for the lock. */
	if (check_identity(db, &fresh, err) < 0 ||
	    (m->from = jobs_db_version(db, err)) < 0)
		return -1;
	if (m->from > m->to)
		return jobs_err_set(err, JOBS_EUSAGE, "%s has schema version %d of"
		    " the %s, newer than this program knows (%d): upgrade jobs",
		    db->path, m->from, component_names[db->kind], m->to);
	if (m->from == m->to)
		return 0;
	if (fresh) {
		if (jobs_db_exec(db, db->kind == JOBS_DB_LEDGER ?
		    "PRAGMA application_id = 1246708300" :
		    "PRAGMA application_id = 1246708289", err) < 0)
			return -1;
	}
	if (jobs_db_exec(db, "CREATE TABLE IF NOT EXISTS jobs_schema ("
	    " component TEXT PRIMARY KEY, version INTEGER NOT NULL,"
	    " migrated_at INTEGER NOT NULL)", err) < 0)
		return -1;
	for (v = m->from + 1; v <= m->to; v++)
		if (apply_chunk(db->h, db->kind, v, &msg) != SQLITE_OK) {
			int rc = sqlite3_extended_errcode(db->h);

			jobs_err_set(err, temporary(rc) ? JOBS_ETEMP : JOBS_EUSAGE,
			    "unable to migrate %s to version %d: %s", db->path, v,
			    msg ? msg : sqlite3_errmsg(db->h));
			sqlite3_free(msg);
			return -1;
		}
	if (check_columns(db, err) < 0)
		return -1;
	if (jobs_db_prepare(db, "INSERT INTO jobs_schema (component, version,"
	    " migrated_at) VALUES (?, ?, ?) ON CONFLICT (component) DO UPDATE"
	    " SET version = excluded.version, migrated_at = excluded.migrated_at",
	    &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, component_names[db->kind], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, m->to);
	sqlite3_bind_int64(st, 3, jobs_clock_real_ms());
	v = sqlite3_step(st);
	sqlite3_finalize(st);
	if (v != SQLITE_DONE)
		return jobs_db_fail(db, "unable to migrate", err);
	m->fresh = fresh;
	return 0;
}

static int
setup(struct jobs_db *db, int flags, struct jobs_err *err)
{
	int known = jobs_db_known_version(db->kind), v, fresh;
	struct migration m = { 0, known, 0 };
	char sql[256];

	sqlite3_busy_timeout(db->h, 5000);
	/*
	 * The application database is the big one that jobs walk (a million
	 * feedback rows and their indexes): 4 MiB of page cache rather than
	 * SQLite's 2, so index pages stay instead of being read again.
	 */
	snprintf(sql, sizeof(sql), "PRAGMA trusted_schema = OFF;"
	    " PRAGMA foreign_keys = ON; PRAGMA synchronous = %s;"
	    " PRAGMA journal_size_limit = 8388608; PRAGMA cache_size = %d",
	    db->kind == JOBS_DB_LEDGER ? "NORMAL" : "FULL",
	    db->kind == JOBS_DB_LEDGER ? -2000 : -4096);
	if (jobs_db_exec(db, sql, err) < 0 || check_identity(db, &fresh, err) < 0)
		return -1;
	if ((v = jobs_db_version(db, err)) < 0)
		return -1;
	if (v > known)
		return jobs_err_set(err, JOBS_EUSAGE, "%s has schema version %d of"
		    " the %s, newer than this program knows (%d): upgrade jobs",
		    db->path, v, component_names[db->kind], known);
	if (v == known) {
		if ((flags & JOBS_DB_CHECK) && check_columns(db, err) < 0)
			return -1;
		return 0;
	}
	if (!(flags & JOBS_DB_MIGRATE)) {
		if (v == 0)
			return jobs_err_set(err, JOBS_ENOINPUT, "%s %s has no tables"
			    " yet: run a job or jobs-status migrate",
			    jobs_db_kind_name(db->kind), db->path);
		return jobs_err_set(err, JOBS_EUSAGE, "%s %s has schema version %d,"
		    " this program needs %d: run jobs-status migrate",
		    jobs_db_kind_name(db->kind), db->path, v, known);
	}
	/*
	 * auto_vacuum only takes on a file with no page yet, and switching to
	 * WAL writes the first page; WAL cannot be switched inside a transaction.
	 */
	if (fresh && exec_retry(db, "PRAGMA auto_vacuum = INCREMENTAL", err) < 0)
		return -1;
	if (fresh || db->kind == JOBS_DB_LEDGER)
		if (exec_retry(db, "PRAGMA journal_mode = WAL", err) < 0)
			return -1;
	return jobs_db_tx(db, migrate_tx, &m, err);
}

int
jobs_db_open(struct jobs_db **out, const char *path, enum jobs_db_kind kind,
    int flags, struct jobs_err *err)
{
	struct jobs_db *db = NULL;
	struct statfs sfs;
	struct stat sb;
	char dir[4096];
	int oflags, fd;

	*out = NULL;
	if (strlen(path) >= sizeof(db->path) || path[0] == '\0')
		return jobs_err_set(err, JOBS_EUSAGE, "bad %s path", jobs_db_kind_name(kind));
	jobs_fs_dirname(path, dir, sizeof(dir));
	if (stat(dir, &sb) < 0) {
		if (errno != ENOENT || !(flags & JOBS_DB_CREATE))
			return jobs_err_set(err, errno == ENOENT ? JOBS_ENOINPUT :
			    JOBS_ETEMP, "unable to open %s %s: %s",
			    jobs_db_kind_name(kind), path, strerror(errno));
		if (jobs_fs_mkdirs(dir, 0700, err) < 0)
			return -1;
	} else if (!S_ISDIR(sb.st_mode))
		return jobs_err_set(err, JOBS_EUSAGE, "unable to open %s %s: %s is"
		    " not a directory", jobs_db_kind_name(kind), path, dir);
	if (kind == JOBS_DB_LEDGER && statfs(dir, &sfs) == 0 &&
	    (sfs.f_type == NFS_MAGIC || sfs.f_type == SMB_MAGIC ||
	    (uint32_t)sfs.f_type == CIFS_MAGIC || (uint32_t)sfs.f_type == SMB2_MAGIC))
		return jobs_err_set(err, JOBS_EUSAGE, "refusing ledger %s on a network"
		    " file system: locks are not reliable there", path);
	if (lstat(path, &sb) < 0) {
		if (errno != ENOENT || !(flags & JOBS_DB_CREATE))
			return jobs_err_set(err, errno == ENOENT ? JOBS_ENOINPUT :
			    JOBS_ETEMP, "unable to open %s %s: %s",
			    jobs_db_kind_name(kind), path, strerror(errno));
		/* Create it 0600 ourselves: SQLite would use 0644. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return jobs_err_set(err, JOBS_ETEMP, "unable to create %s %s: %s",
			    jobs_db_kind_name(kind), path, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else if (S_ISLNK(sb.st_mode))
		return jobs_err_set(err, JOBS_EUSAGE, "refusing %s %s: it is a"
		    " symbolic link", jobs_db_kind_name(kind), path);
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	db->kind = kind;
	db->busy_ms = 20000;
	snprintf(db->path, sizeof(db->path), "%s", path);
	oflags = SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX |
	    ((flags & JOBS_DB_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
		jobs_err_set(err, JOBS_ETEMP, "unable to open %s %s: %s",
		    jobs_db_kind_name(kind), path, db->h ? sqlite3_errmsg(db->h) :
		    "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	{
		/*
		 * Keep the -wal file when the last connection closes: cron
		 * starts a process a job a minute, and creating and unlinking
		 * it each time costs a directory sync.
		 */
		int persist = 1;

		sqlite3_file_control(db->h, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
		/*
		 * Nor checkpoint on every close (four fsyncs a run): commits
		 * checkpoint every 100 pages instead, which also keeps the WAL
		 * the next process reads on open small.
		 */
		if (kind == JOBS_DB_LEDGER) {
			sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
			sqlite3_wal_hook(db->h, wal_hook, NULL);
		}
	}
	if (setup(db, flags, err) < 0) {
		if (strstr(err->msg, path) == NULL) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			jobs_err_set(err, err->code, "%s %s: %s",
			    jobs_db_kind_name(kind), path, why);
		}
		goto fail;
	}
	*out = db;
	return 0;
fail:
	jobs_db_close(db);
	return -1;
}

void
jobs_db_close(struct jobs_db *db)
{
	int i;

	if (db == NULL)
		return;
	for (i = 0; i < db->ncache; i++)
		sqlite3_finalize(db->cache[i].st);
	free(db->cache);
	sqlite3_close_v2(db->h);
	free(db);
}

int
jobs_db_cached(struct jobs_db *db, const char *sql, sqlite3_stmt **st,
    struct jobs_err *err)
{
	struct jobs_db_stmt *c;
	int i;

	for (i = 0; i < db->ncache; i++)
		if (db->cache[i].sql == sql || strcmp(db->cache[i].sql, sql) == 0) {
			*st = db->cache[i].st;
			sqlite3_reset(*st);
			sqlite3_clear_bindings(*st);
			return 0;
		}
	*st = NULL;
	if ((c = realloc(db->cache, (size_t)(db->ncache + 1) * sizeof(*c))) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	db->cache = c;
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
	    NULL) != SQLITE_OK)
		return jobs_db_fail(db, "unable to prepare a statement for", err);
	c[db->ncache].sql = sql;
	c[db->ncache++].st = *st;
	return 0;
}

/* Run one of the few statements every transaction runs, without parsing it. */
static int
run_cached(struct jobs_db *db, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if (jobs_db_cached(db, sql, &st, NULL) < 0)
		return sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int
busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

int
jobs_db_tx(struct jobs_db *db,
    int (*fn)(struct jobs_db *db, void *arg, struct jobs_err *err), void *arg,
    struct jobs_err *err)
{
	int64_t deadline = jobs_clock_mono_ms() + db->busy_ms;
	unsigned seed = (unsigned)getpid() ^ (unsigned)jobs_clock_mono_ms();
	int rc;

	for (;;) {
		rc = run_cached(db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK) {
			jobs_err_clear(err);
			if (fn(db, arg, err) < 0)
				rc = sqlite3_extended_errcode(db->h);
			else if (sqlite3_get_autocommit(db->h)) {
				/*
				 * An error SQLite answers with a rollback (out of
				 * memory, a full disk, I/O, busy, interrupted)
				 * ended the transaction and fn missed it: what it
				 * wrote after that committed on its own.  Never
				 * report that done; only busy is tried again.
				 */
				rc = sqlite3_extended_errcode(db->h);
				if (!busy(rc))
					return jobs_err_set(err, (rc & 0xff) ==
					    SQLITE_INTERRUPT ? JOBS_EFAIL : JOBS_ETEMP,
					    "unable to write %s: an error rolled the"
					    " transaction back", db->path);
			} else {
				rc = run_cached(db, "COMMIT");
				if (rc == SQLITE_OK)
					return 0;
			}
			if (sqlite3_get_autocommit(db->h) == 0)
				sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			if (!busy(rc) || (err && err->code == JOBS_EUSAGE)) {
				if (err && err->code == 0)
					jobs_db_fail(db, "unable to write", err);
				return -1;
			}
		} else if (!busy(rc))
			return jobs_db_fail(db, "unable to write", err);
		if (jobs_clock_mono_ms() >= deadline)
			return jobs_err_set(err, JOBS_ETEMP, "%s %s busy for %d ms:"
			    " giving up", jobs_db_kind_name(db->kind), db->path,
			    db->busy_ms);
		/* A little jitter so retrying writers do not march in step. */
		jobs_clock_sleep_ms(1 + rand_r(&seed) % 20);
	}
}

int
jobs_db_tx_lazy(struct jobs_db *db,
    int (*fn)(struct jobs_db *db, void *arg, struct jobs_err *err), void *arg,
    struct jobs_err *err)
{
	int rc;

	if (db->kind == JOBS_DB_LEDGER)
		return jobs_db_tx(db, fn, arg, err);
	if (run_cached(db, "PRAGMA synchronous = NORMAL") != SQLITE_OK)
		return jobs_db_fail(db, "unable to set synchronous on", err);
	rc = jobs_db_tx(db, fn, arg, err);
	/* Back to what every other write of the application database gets. */
	if (run_cached(db, "PRAGMA synchronous = FULL") != SQLITE_OK && rc == 0)
		rc = jobs_db_fail(db, "unable to set synchronous on", err);
	return rc;
}

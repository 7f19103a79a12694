/*
 * db.h - the two SQLite files: the ledger and the application database.
 *
 * Opening applies the DESIGN §2 rules (0700 directory, 0600 file,
 * SQLITE_OPEN_NOFOLLOW, application_id, no NFS for the ledger, WAL,
 * busy timeout, trusted_schema=OFF) and, when asked, migrates the file's
 * component of schema.sql in one BEGIN IMMEDIATE transaction.  Every write
 * goes through jobs_db_tx(), which retries the whole transaction on
 * SQLITE_BUSY until a deadline.
 */
#ifndef JOBS_DB_H
#define JOBS_DB_H

#include <stddef.h>

#include <sqlite3.h>

struct jobs_err;

enum jobs_db_kind {
	JOBS_DB_LEDGER = 0,
	JOBS_DB_APP = 1,
};

enum {
	JOBS_DB_CREATE = 1,	/* create the directory and file if missing */
	JOBS_DB_MIGRATE = 2,	/* apply pending migrations */
	JOBS_DB_CHECK = 4,	/* check existing tables' columns even if current */
	JOBS_DB_READONLY = 8,	/* open read-only (no migration, no writes) */
};

struct jobs_db {
	sqlite3 *h;
	enum jobs_db_kind kind;
	int busy_ms;		/* how long a write may keep retrying */
	char path[4096];
	struct jobs_db_stmt {	/* jobs_db_cached() */
		const char *sql;
		sqlite3_stmt *st;
	} *cache;
	int ncache;
};

/*
 * Open the file at path as kind.  On success *out owns a handle the caller
 * frees with jobs_db_close().  On failure returns -1 and err->code is
 * JOBS_ENOINPUT (missing, without JOBS_DB_CREATE), JOBS_EUSAGE (a file that
 * is not what it should be, a newer schema, missing columns, NFS) or
 * JOBS_ETEMP (cannot open or busy).
 */
int jobs_db_open(struct jobs_db **out, const char *path, enum jobs_db_kind kind,
    int flags, struct jobs_err *err);

/* Close and free db; accepts NULL. */
void jobs_db_close(struct jobs_db *db);

/* The name used in messages: "ledger" or "application database". */
const char *jobs_db_kind_name(enum jobs_db_kind kind);

/*
 * Run fn inside BEGIN IMMEDIATE ... COMMIT.  fn returns 0 to commit or -1
 * (with err) to roll back.  When the transaction fails on SQLITE_BUSY or
 * SQLITE_LOCKED anywhere (fn included) it is rolled back and run again, with
 * a little jitter, until db->busy_ms has passed (then err->code is
 * JOBS_ETEMP).  fn must therefore be safe to run more than once.  When fn
 * returns 0 but the transaction is gone (an error it missed made SQLite
 * roll it back), that is a failure, retried only when the error was busy.
 */
int jobs_db_tx(struct jobs_db *db,
    int (*fn)(struct jobs_db *db, void *arg, struct jobs_err *err), void *arg,
    struct jobs_err *err);

/*
 * The same as jobs_db_tx(), but the commit does not wait for the disk
 * (synchronous=NORMAL for this one transaction): a killed process still
 * loses nothing, but a power loss may undo it until the next commit that
 * does wait.  Only for writes whose loss repeats work and never loses any
 * (the outbox's acknowledgements: a message sent once more).
 */
int jobs_db_tx_lazy(struct jobs_db *db,
    int (*fn)(struct jobs_db *db, void *arg, struct jobs_err *err), void *arg,
    struct jobs_err *err);

/* Prepare sql; -1 with err on failure.  The caller finalizes *st. */
int jobs_db_prepare(struct jobs_db *db, const char *sql, sqlite3_stmt **st,
    struct jobs_err *err);

/*
 * A statement for sql, prepared once and kept with db for the statements a
 * run steps many times (no parse per transaction).  It comes back reset
 * with its bindings cleared; db owns it: never finalize it (a
 * statement that failed is reset the next time).  sql is matched by
 * address first: pass a string literal (a program has a fixed set, so
 * the cache stays small; nothing is ever evicted from under a caller).
 * -1 with err on failure.
 */
int jobs_db_cached(struct jobs_db *db, const char *sql, sqlite3_stmt **st,
    struct jobs_err *err);

/* Describe the handle's last error in err (code from the SQLite result). */
int jobs_db_fail(struct jobs_db *db, const char *what, struct jobs_err *err);

/*
 * Step a prepared write once and finalize it: 0 when it ran (SQLITE_DONE,
 * or a first row of RETURNING), -1 with err.  st is always finalized.
 */
int jobs_db_done(struct jobs_db *db, sqlite3_stmt *st, struct jobs_err *err);

/* Run SQL without results (no bound values); -1 with err. */
int jobs_db_exec(struct jobs_db *db, const char *sql, struct jobs_err *err);

/* The schema version of component kind in db (0 when none); -1 with err. */
int jobs_db_version(struct jobs_db *db, struct jobs_err *err);

/* The newest version of kind that this program knows. */
int jobs_db_known_version(enum jobs_db_kind kind);

/*
 * Bind s, or NULL when s is NULL, without copying it: s must stay valid
 * until the statement is finalized or parameter i bound again (a copy
 * could fail for want of memory and leave NULL, which a query such as
 * "?1 IS NULL OR job = ?1" reads as "every job").  0, or -1 when SQLite
 * refuses the binding.
 */
int jobs_db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Column text copied into buf (empty when NULL). */
void jobs_db_column_copy(sqlite3_stmt *st, int i, char *buf, size_t size);

#endif

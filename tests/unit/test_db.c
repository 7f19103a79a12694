/* Unit tests of lib/db.c, lib/config.c and the run capture: opening,
 * migrating and refusing files; loading configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "err.h"
#include "run.h"
#include "t.h"

static char dir[256];

static void
path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void
write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void
opening(void)
{
	struct jobs_db *db = NULL;
	struct jobs_err err;
	struct stat sb;
	char p[512], q[512];

	path(p, sizeof(p), "new/sub/ledger.db");
	T_OK("a missing ledger without CREATE is ENOINPUT",
	    jobs_db_open(&db, p, JOBS_DB_LEDGER, 0, &err) == -1 &&
	    err.code == JOBS_ENOINPUT);
	T_OK("create and migrate a new ledger", jobs_db_open(&db, p, JOBS_DB_LEDGER,
	    JOBS_DB_CREATE | JOBS_DB_MIGRATE, &err) == 0);
	T_INT("the ledger is at the newest version", jobs_db_version(db, &err),
	    jobs_db_known_version(JOBS_DB_LEDGER));
	jobs_db_close(db);
	T_OK("the file is 0600", stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	path(q, sizeof(q), "new/sub");
	T_OK("its directory is 0700", stat(q, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	T_OK("reopen without migrating", jobs_db_open(&db, p, JOBS_DB_LEDGER, 0,
	    &err) == 0);
	T_OK("a second migration is a no-op", db && jobs_db_exec(db,
	    "SELECT count(*) FROM executions", &err) == 0);
	jobs_db_close(db);

	T_OK("the ledger is refused as an application database",
	    jobs_db_open(&db, p, JOBS_DB_APP, JOBS_DB_CREATE | JOBS_DB_MIGRATE,
	    &err) == -1 && err.code == JOBS_EUSAGE);

	path(q, sizeof(q), "app.db");
	T_OK("create an application database", jobs_db_open(&db, q, JOBS_DB_APP,
	    JOBS_DB_CREATE | JOBS_DB_MIGRATE, &err) == 0);
	jobs_db_close(db);
	T_OK("an application database is refused as the ledger",
	    jobs_db_open(&db, q, JOBS_DB_LEDGER, JOBS_DB_CREATE | JOBS_DB_MIGRATE,
	    &err) == -1 && err.code == JOBS_EUSAGE);

	path(q, sizeof(q), "link.db");
	T_OK("make a symlink", symlink(p, q) == 0);
	T_OK("a symlinked ledger is refused", jobs_db_open(&db, q, JOBS_DB_LEDGER,
	    JOBS_DB_CREATE | JOBS_DB_MIGRATE, &err) == -1 &&
	    err.code == JOBS_EUSAGE && strstr(err.msg, "symbolic link"));

	path(q, sizeof(q), "text.db");
	write_file(q, "this is not a database, it is a text file with enough bytes"
	    " to look like something: 0123456789012345678901234567890123456789\n");
	T_OK("a file that is not SQLite is refused", jobs_db_open(&db, q,
	    JOBS_DB_LEDGER, JOBS_DB_CREATE | JOBS_DB_MIGRATE, &err) == -1);

	T_OK("reopen to make it newer", jobs_db_open(&db, p, JOBS_DB_LEDGER, 0,
	    &err) == 0);
	jobs_db_exec(db, "UPDATE jobs_schema SET version = 99 WHERE component"
	    " = 'ledger'", &err);
	jobs_db_close(db);
	T_OK("a newer schema is refused", jobs_db_open(&db, p, JOBS_DB_LEDGER,
	    JOBS_DB_CREATE | JOBS_DB_MIGRATE, &err) == -1 &&
	    err.code == JOBS_EUSAGE && strstr(err.msg, "newer"));
}

static void
columns(void)
{
	struct jobs_db *db = NULL;
	struct jobs_err err;
	char p[512];

	/* An application that already has a job_cursors table of its own. */
	path(p, sizeof(p), "theirs.db");
	{
		sqlite3 *h = NULL;

		T_OK("create their table", sqlite3_open(p, &h) == SQLITE_OK &&
		    sqlite3_exec(h, "CREATE TABLE job_cursors (job TEXT, name TEXT)",
		    NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(h);
	}
	T_OK("a table missing a column is a configuration error",
	    jobs_db_open(&db, p, JOBS_DB_APP, JOBS_DB_CREATE | JOBS_DB_MIGRATE,
	    &err) == -1 && err.code == JOBS_EUSAGE &&
	    strstr(err.msg, "job_cursors") && strstr(err.msg, "value"));
	T_OK("and the version was not recorded", jobs_db_open(&db, p, JOBS_DB_APP,
	    0, &err) == -1);
}

static void
config(void)
{
	struct jobs_config c;
	struct jobs_err err;
	char p[512];
	int64_t ms = 0;

	path(p, sizeof(p), "absent.json");
	T_OK("an absent default config is fine", jobs_config_load(&c, p, 0, &err) == 0 &&
	    c.root == NULL);
	T_OK("an absent named config is an error", jobs_config_load(&c, p, 1, &err) == -1 &&
	    err.code == JOBS_EUSAGE);
	path(p, sizeof(p), "c.json");
	write_file(p, "{\"retention\": {\"executions\": \"10d\", \"executions_min\": 5},"
	    " \"jobs\": {\"backup\": {\"timeout\": \"1h\", \"grace\": 300}}}");
	T_OK("a good config loads", jobs_config_load(&c, p, 1, &err) == 0);
	T_OK("a duration string", jobs_config_duration(jobs_config_section(&c,
	    "retention"), "executions", &ms, &err) == 1 && ms == 864000000LL);
	T_OK("a per-job timeout", jobs_config_duration(jobs_config_job(&c, "backup"),
	    "timeout", &ms, &err) == 1 && ms == 3600000);
	T_OK("a duration in seconds", jobs_config_duration(jobs_config_job(&c,
	    "backup"), "grace", &ms, &err) == 1 && ms == 300000);
	T_OK("a digest of the file", strlen(c.digest) == 16);
	jobs_config_free(&c);
	write_file(p, "{\"retension\": {}}");
	T_OK("an unknown key is an error", jobs_config_load(&c, p, 1, &err) == -1 &&
	    strstr(err.msg, "retension"));
	write_file(p, "{\"retention\": {\"logs\": \"forever\"}}");
	T_OK("a bad duration is an error", jobs_config_load(&c, p, 1, &err) == -1);
	write_file(p, "{\n\"jobs\": {\n\"x\": [\n}");
	T_OK("bad JSON names the line", jobs_config_load(&c, p, 1, &err) == -1 &&
	    strstr(err.msg, "line"));
	write_file(p, "[]");
	T_OK("not an object is an error", jobs_config_load(&c, p, 1, &err) == -1);
}

static void
capture(void)
{
	static struct jobs_capture cap;
	static char big[100000];
	uint64_t omitted;
	char *tail;
	size_t i;

	jobs_capture_add(&cap, "hello", 5);
	tail = jobs_capture_tail(&cap, &omitted);
	T_INT("a short stream fits the head", cap.headlen, 5);
	T_STR("with no tail", tail, "");
	free(tail);
	memset(&cap, 0, sizeof(cap));
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof(big); i += 999)
		jobs_capture_add(&cap, big + i, i + 999 <= sizeof(big) ? 999 :
		    sizeof(big) - i);
	tail = jobs_capture_tail(&cap, &omitted);
	T_INT("the total is counted", cap.total, sizeof(big));
	T_OK("the head is the first 8 KiB", cap.headlen == JOBS_CAPTURE_HEAD &&
	    memcmp(cap.head, big, JOBS_CAPTURE_HEAD) == 0);
	T_OK("the tail is the last 32 KiB", strlen(tail) == JOBS_CAPTURE_TAIL &&
	    memcmp(tail, big + sizeof(big) - JOBS_CAPTURE_TAIL, JOBS_CAPTURE_TAIL) == 0);
	T_INT("what fell between is counted", omitted,
	    sizeof(big) - JOBS_CAPTURE_HEAD - JOBS_CAPTURE_TAIL);
	free(tail);
}

int
main(void)
{
	char cmd[300];

	snprintf(dir, sizeof(dir), "%s/jobs-unit.XXXXXX", getenv("TMPDIR") ?
	    getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 2;
	umask(022);
	opening();
	columns();
	config();
	capture();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return t_done();
}

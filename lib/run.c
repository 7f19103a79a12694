#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "fs.h"
#include "lock.h"
#include "run.h"
#include "text.h"

#ifndef JOBS_VERSION
#define JOBS_VERSION "0"
#endif

/*
 * What a run's error, output, metrics or a log line say when there was no
 * memory to record them (or to redact them first): never NULL or nothing,
 * which read as "none".
 */
#define NOT_RECORDED		"[not recorded: out of memory]"
#define NOT_RECORDED_JSON	"{\"not_recorded\":\"out of memory\"}"

volatile sig_atomic_t jobs_run_signal;

static int ping_out = -1;	/* stdout of the /start ping helper */

static void
on_signal(int sig)
{
	if (jobs_run_signal == 0)
		jobs_run_signal = sig;
}

void
jobs_capture_add(struct jobs_capture *cap, const char *buf, size_t n)
{
	size_t take;

	cap->total += n;
	if (cap->headlen < sizeof(cap->head)) {
		take = sizeof(cap->head) - cap->headlen;
		if (take > n)
			take = n;
		memcpy(cap->head + cap->headlen, buf, take);
		cap->headlen += take;
		buf += take;
		n -= take;
	}
	if (n >= sizeof(cap->tail)) {
		buf += n - sizeof(cap->tail);
		n = sizeof(cap->tail);
	}
	while (n > 0) {
		take = sizeof(cap->tail) - cap->tailpos;
		if (take > n)
			take = n;
		memcpy(cap->tail + cap->tailpos, buf, take);
		cap->tailpos = (cap->tailpos + take) % sizeof(cap->tail);
		cap->taillen += take;
		if (cap->taillen > sizeof(cap->tail))
			cap->taillen = sizeof(cap->tail);
		buf += take;
		n -= take;
	}
}

char *
jobs_capture_tail(const struct jobs_capture *cap, uint64_t *omitted)
{
	char *s = malloc(cap->taillen + 1);
	size_t start = (cap->tailpos + sizeof(cap->tail) - cap->taillen) %
	    sizeof(cap->tail), first;

	if (s == NULL)
		return NULL;
	first = sizeof(cap->tail) - start;
	if (first > cap->taillen)
		first = cap->taillen;
	memcpy(s, cap->tail + start, first);
	memcpy(s + first, cap->tail, cap->taillen - first);
	s[cap->taillen] = '\0';
	*omitted = cap->total - cap->headlen - cap->taillen;
	return s;
}

char *
jobs_capture_text(const struct jobs_capture *cap)
{
	uint64_t omitted;
	char *tail = jobs_capture_tail(cap, &omitted), *s;
	char mark[64] = "";
	size_t n;

	if (tail == NULL)
		return NULL;
	if (omitted)
		snprintf(mark, sizeof(mark), "\n[... %llu bytes omitted ...]\n",
		    (unsigned long long)omitted);
	n = cap->headlen + strlen(mark) + cap->taillen;
	if ((s = malloc(n + 1)) != NULL) {
		memcpy(s, cap->head, cap->headlen);
		memcpy(s + cap->headlen, mark, strlen(mark));
		memcpy(s + cap->headlen + strlen(mark), tail, cap->taillen);
		s[n] = '\0';
	}
	free(tail);
	return s;
}

void
jobs_run_init(struct jobs_ctx *c, const char *job, const struct jobs_opts *opts,
    const struct jobs_config *config, int64_t default_timeout_ms)
{
	int64_t ms;

	memset(c, 0, sizeof(*c));
	c->job = job;
	c->opts = opts;
	c->config = config;
	c->lock_fd = -1;
	c->timeout_ms = default_timeout_ms;
	if (jobs_config_duration(jobs_config_job(config, job), "timeout", &ms,
	    NULL) == 1)
		c->timeout_ms = ms;
	if (opts->timeout_ms > 0)
		c->timeout_ms = opts->timeout_ms;
	c->metrics = cJSON_CreateObject();
}

char *
jobs_run_argv_json(int argc, char **argv)
{
	cJSON *a = cJSON_CreateArray();
	char *out = NULL;
	int i, prev = 0;

	if (a == NULL)
		return NULL;
	for (i = 0; i < argc; i++) {
		char *r = jobs_secret_redact_arg(argv[i], &prev);

		if (r == NULL || !cJSON_AddItemToArray(a, cJSON_CreateString(r))) {
			free(r);
			goto out;
		}
		free(r);
	}
	out = cJSON_PrintUnformatted(a);
out:
	cJSON_Delete(a);
	return out;
}

struct start {
	struct jobs_ctx *c;
	const char *kind, *command, *argv_json;
	int overlap;
	int result;
};

static int
start_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct start *s = arg;
	struct jobs_ctx *c = s->c;
	const struct jobs_opts *o = c->opts;
	sqlite3_stmt *st = NULL;
	char host[256] = "", cwd[1024] = "";
	int paused = 0, stale = 0, i = 1, rc;
	const char *reason = NULL;

	if (jobs_db_prepare(db, "INSERT INTO jobs (name, kind, command, created_at)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET"
	    " kind = excluded.kind, command = excluded.command"
	    " RETURNING paused, EXISTS (SELECT 1 FROM executions WHERE"
	    " job = ?1 AND status = 'running')", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, c->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->kind, -1, SQLITE_STATIC);
	jobs_db_bind_text(st, 3, s->command);
	sqlite3_bind_int64(st, 4, c->started_ms);
	/*
	 * Step again only after a row: stepping a statement that failed runs
	 * it again, outside the transaction its error rolled back.
	 */
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		paused = sqlite3_column_int(st, 0);
		stale = sqlite3_column_int(st, 1);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return jobs_db_fail(db, "unable to write", err);

	if (s->overlap) {
		s->result = JOBS_START_OVERLAP;
		reason = "overlap";
	} else if (paused && !o->force) {
		s->result = JOBS_START_PAUSED;
		reason = "paused";
	} else
		s->result = JOBS_START_RUN;

	/* We hold the lock: a row still `running` lost its holder. */
	if (!s->overlap && stale && jobs_run_abandon(db, c->job, INT64_MAX,
	    c->started_ms, err) < 0)
		return -1;

	gethostname(host, sizeof(host) - 1);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), "?");
	if (jobs_db_prepare(db, "INSERT INTO executions (job, trigger, status,"
	    " reason, started_at, finished_at, duration_ms, exit_code, pid, host,"
	    " uid, cwd, argv, version, config_digest, clock, schedule, tz,"
	    " timeout_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?)", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, i++, c->job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, jobs_trigger_name(o->trigger), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, reason ? "skipped" : "running", -1, SQLITE_STATIC);
	jobs_db_bind_text(st, i++, reason);
	sqlite3_bind_int64(st, i++, c->started_ms);
	if (reason) {
		sqlite3_bind_int64(st, i++, c->started_ms);
		sqlite3_bind_int(st, i++, 0);
		sqlite3_bind_int(st, i++, s->overlap ? o->conflict_exit : 0);
	} else {
		sqlite3_bind_null(st, i++);
		sqlite3_bind_null(st, i++);
		sqlite3_bind_null(st, i++);
	}
	sqlite3_bind_int(st, i++, (int)getpid());
	sqlite3_bind_text(st, i++, host, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, (int)getuid());
	sqlite3_bind_text(st, i++, cwd, -1, SQLITE_STATIC);
	jobs_db_bind_text(st, i++, s->argv_json);
	sqlite3_bind_text(st, i++, JOBS_VERSION, -1, SQLITE_STATIC);
	jobs_db_bind_text(st, i++, c->config && c->config->digest[0] ?
	    c->config->digest : NULL);
	sqlite3_bind_text(st, i++, jobs_clock_pinned() ? "pinned" : "real", -1,
	    SQLITE_STATIC);
	jobs_db_bind_text(st, i++, o->schedule);
	jobs_db_bind_text(st, i++, o->tz);
	if (c->timeout_ms > 0)
		sqlite3_bind_int64(st, i++, c->timeout_ms);
	else
		sqlite3_bind_null(st, i++);
	if (jobs_db_done(db, st, err) < 0)
		return -1;
	c->id = sqlite3_last_insert_rowid(db->h);

	if (o->schedule) {
		if (jobs_db_prepare(db, "INSERT INTO schedules (job, expr, tz, source,"
		    " first_seen, last_seen) VALUES (?1, ?2, ?3, 'declared', ?4, ?4)"
		    " ON CONFLICT (job, expr, tz, source) DO UPDATE SET"
		    " last_seen = excluded.last_seen", &st, err) < 0)
			return -1;
		sqlite3_bind_text(st, 1, c->job, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o->schedule, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, o->tz ? o->tz : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->started_ms);
		if (jobs_db_done(db, st, err) < 0)
			return -1;
	}
	return 0;
}

int
jobs_run_abandon(struct jobs_db *db, const char *job, int64_t max_id,
    int64_t at_ms, struct jobs_err *err)
{
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, "UPDATE executions SET status = 'abandoned',"
	    " reason = 'died', finished_at = ?3, error = 'the process (pid '"
	    " || coalesce(pid, '?') || ' on ' || coalesce(host, '?') ||"
	    " ') ended without recording an outcome'"
	    " WHERE job = ?1 AND status = 'running' AND id <= ?2", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, max_id);
	sqlite3_bind_int64(st, 3, at_ms);
	if (jobs_db_done(db, st, err) < 0)
		return -1;
	return sqlite3_changes(db->h);
}

void
jobs_run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: blocking calls wake up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
jobs_run_start(struct jobs_ctx *c, const char *kind, const char *command,
    int argc, char **argv, struct jobs_err *err)
{
	struct start s = { c, kind, command, NULL, 0, JOBS_START_RUN };
	const char *path = c->ledger ? c->ledger->path : c->opts->db;
	int taken, rc;

	c->started_ms = jobs_clock_now_ms();
	c->mono_start = jobs_clock_mono_ms();
	/* A second try (unrecorded, after the ledger failed) keeps its lock. */
	if (c->lock_fd >= 0)
		taken = 1;
	else if ((taken = jobs_lock_take(path, c->job, &c->lock_fd, err)) < 0)
		return -1;
	s.overlap = !taken;
	if (c->ledger == NULL)
		return s.overlap ? JOBS_START_OVERLAP : JOBS_START_RUN;
	/* Never a run recorded without its invocation. */
	if ((s.argv_json = jobs_run_argv_json(argc, argv)) == NULL)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	rc = jobs_db_tx(c->ledger, start_tx, &s, err);
	free((char *)s.argv_json);
	if (rc < 0) {
		c->id = 0;
		return -1;
	}
	if (s.result != JOBS_START_RUN && c->lock_fd >= 0) {
		close(c->lock_fd);
		c->lock_fd = -1;
	}
	return s.result;
}

int
jobs_run_cancelled(const struct jobs_ctx *c)
{
	return jobs_run_signal != 0 || jobs_run_remaining_ms(c) <= 0;
}

int64_t
jobs_run_remaining_ms(const struct jobs_ctx *c)
{
	if (c->timeout_ms <= 0)
		return INT64_MAX;
	return c->timeout_ms - (jobs_clock_mono_ms() - c->mono_start);
}

struct finish {
	struct jobs_ctx *c;
	const char *status;
	int exit_code;
	char *metrics;
	char *out_tail, *err_tail;
	int lost;		/* parts recorded as NOT_RECORDED */
};

/*
 * Bind s redacted at i; s NULL (no memory to hold it) or no memory to
 * redact it binds the marker.
 */
static void
bind_redacted(struct finish *f, sqlite3_stmt *st, int i, const char *s)
{
	char *t;

	if (s && s[0] == '\0')
		sqlite3_bind_text(st, i, "", 0, SQLITE_STATIC);
	else if (s == NULL || (t = jobs_secret_redact(s)) == NULL) {
		sqlite3_bind_text(st, i, NOT_RECORDED, -1, SQLITE_STATIC);
		f->lost = 1;
	} else
		sqlite3_bind_text(st, i, t, -1, free);
}

static void
bind_capture(struct finish *f, sqlite3_stmt *st, int i,
    const struct jobs_capture *cap, const char *tail)
{
	char *head;

	if (cap == NULL) {
		sqlite3_bind_null(st, i);
		sqlite3_bind_null(st, i + 1);
		sqlite3_bind_null(st, i + 2);
		return;
	}
	if ((head = malloc(cap->headlen + 1)) != NULL) {
		memcpy(head, cap->head, cap->headlen);
		head[cap->headlen] = '\0';
	}
	/* Nothing kept is nothing lost, memory or not. */
	bind_redacted(f, st, i, head || cap->headlen ? head : "");
	free(head);
	bind_redacted(f, st, i + 1, tail || cap->taillen ? tail : "");
	sqlite3_bind_int64(st, i + 2, (sqlite3_int64)cap->total);
}

static int
finish_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct finish *f = arg;
	struct jobs_ctx *c = f->c;
	sqlite3_stmt *st = NULL;

	f->lost = 0;
	if (jobs_db_prepare(db, "UPDATE executions SET status = ?, finished_at = ?,"
	    " duration_ms = ?, exit_code = ?, items_ok = ?, items_failed = ?,"
	    " items_skipped = ?, metrics = ?, error = ?, stdout_head = ?,"
	    " stdout_tail = ?, stdout_bytes = ?, stderr_head = ?, stderr_tail = ?,"
	    " stderr_bytes = ? WHERE id = ? AND status = 'running'", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, f->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, jobs_clock_now_ms());
	sqlite3_bind_int64(st, 3, jobs_clock_mono_ms() - c->mono_start);
	sqlite3_bind_int(st, 4, f->exit_code);
	sqlite3_bind_int64(st, 5, c->items_ok);
	sqlite3_bind_int64(st, 6, c->items_failed);
	sqlite3_bind_int64(st, 7, c->items_skipped);
	if (f->metrics == NULL && c->metrics && cJSON_GetArraySize(c->metrics) > 0) {
		sqlite3_bind_text(st, 8, NOT_RECORDED_JSON, -1, SQLITE_STATIC);
		f->lost = 1;
	} else
		jobs_db_bind_text(st, 8, f->metrics);
	if (c->error[0])
		bind_redacted(f, st, 9, c->error);
	bind_capture(f, st, 10, c->out, f->out_tail);
	bind_capture(f, st, 13, c->err, f->err_tail);
	sqlite3_bind_int64(st, 16, c->id);
	return jobs_db_done(db, st, err);
}

int
jobs_run_finish(struct jobs_ctx *c, const char *status, int exit_code,
    struct jobs_err *err)
{
	struct finish f = { c, status, exit_code, NULL, NULL, NULL, 0 };
	uint64_t omitted;
	int rc;

	if (c->ledger == NULL || c->id == 0)
		return 0;
	if (c->metrics && cJSON_GetArraySize(c->metrics) > 0)
		f.metrics = cJSON_PrintUnformatted(c->metrics);
	if (c->out)
		f.out_tail = jobs_capture_tail(c->out, &omitted);
	if (c->err)
		f.err_tail = jobs_capture_tail(c->err, &omitted);
	rc = jobs_db_tx(c->ledger, finish_tx, &f, err);
	free(f.metrics);
	free(f.out_tail);
	free(f.err_tail);
	if (rc == 0 && f.lost)
		return jobs_err_set(err, JOBS_ETEMP, "out of memory: run %lld is"
		    " recorded with \"%s\" for part of its error, output or"
		    " metrics", (long long)c->id, NOT_RECORDED);
	return rc;
}

void
jobs_run_release(struct jobs_ctx *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
	cJSON_Delete(c->metrics);
	c->metrics = NULL;
}

struct logrow {
	struct jobs_ctx *c;
	enum jobs_level level;
	const char *msg;
};

static int
log_tx(struct jobs_db *db, void *arg, struct jobs_err *err)
{
	struct logrow *l = arg;
	sqlite3_stmt *st = NULL;

	if (jobs_db_prepare(db, "INSERT INTO logs (execution_id, job, at, level,"
	    " message) VALUES (?, ?, ?, ?, ?)", &st, err) < 0)
		return -1;
	if (l->c->id)
		sqlite3_bind_int64(st, 1, l->c->id);
	sqlite3_bind_text(st, 2, l->c->job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, jobs_clock_now_ms());
	sqlite3_bind_text(st, 4, jobs_level_name(l->level), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, l->msg, -1, SQLITE_STATIC);
	return jobs_db_done(db, st, err);
}

static void
vlog(struct jobs_ctx *c, enum jobs_level level, const char *fmt, va_list ap)
{
	char raw[2048], clean[2048], *red;
	const char *line;
	struct logrow row = { c, level, NULL };
	struct jobs_err err;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* Never shown unredacted; without memory to redact, a marker. */
	red = jobs_secret_redact(raw);
	line = red ? red : NOT_RECORDED;
	jobs_text_clean(line, strlen(line), clean, sizeof(clean), 0);
	free(red);
	if (level >= c->opts->level)
		fprintf(stderr, "%s: %s: %s\n", c->job, jobs_level_name(level), clean);
	if (level >= JOBS_WARN) {
		if (c->ntail == JOBS_TAIL_LINES) {
			memmove(c->tail[0], c->tail[1], sizeof(c->tail[0]) *
			    (JOBS_TAIL_LINES - 1));
			c->ntail--;
		}
		jobs_text_clean(clean, strlen(clean), c->tail[c->ntail++],
		    sizeof(c->tail[0]), 0);
	}
	if (c->ledger == NULL || c->nlogs > JOBS_LOG_MAX)
		return;
	if (c->nlogs++ == JOBS_LOG_MAX) {
		row.level = JOBS_WARN;
		row.msg = "log cap reached: further lines of this run are not recorded";
	} else
		row.msg = clean;
	jobs_db_tx(c->ledger, log_tx, &row, &err);
}

void
jobs_metric(struct jobs_ctx *c, cJSON *obj, const char *name, double v)
{
	if (obj == NULL || cJSON_AddNumberToObject(obj, name, v) == NULL)
		c->metrics_lost = 1;
}

void
jobs_metric_bool(struct jobs_ctx *c, cJSON *obj, const char *name, int v)
{
	if (obj == NULL || cJSON_AddBoolToObject(obj, name, v) == NULL)
		c->metrics_lost = 1;
}

cJSON *
jobs_metric_object(struct jobs_ctx *c, const char *name)
{
	cJSON *o = c->metrics ? cJSON_AddObjectToObject(c->metrics, name) : NULL;

	if (o == NULL)
		c->metrics_lost = 1;
	return o;
}

void
jobs_log(struct jobs_ctx *c, enum jobs_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(c, level, fmt, ap);
	va_end(ap);
}

void
jobs_run_error(struct jobs_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	jobs_log(c, JOBS_ERROR, "%s", c->error);
}

/* Collect a finished ping helper; log its complaint if it had one. */
static void
ping_reap(struct jobs_ctx *c, int pid, int fd, const char *what)
{
	char msg[512];
	ssize_t n = 0;
	int status = 0;

	if (fd >= 0) {
		n = read(fd, msg, sizeof(msg) - 1);
		close(fd);
	}
	msg[n > 0 ? n : 0] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	if (strncmp(msg, "jobs-ping: ", 11) == 0)
		memmove(msg, msg + 11, strlen(msg + 11) + 1);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		jobs_log(c, JOBS_WARN, "ping %s failed: %s", what,
		    msg[0] ? msg : "jobs-ping did not run");
}

void
jobs_run_ping(struct jobs_ctx *c, const char *what, const char *body)
{
	char helper[4096], dir[4096];
	int in[2], out[2], pid;

	if (c->opts->ping == NULL || c->opts->ping[0] == '\0')
		return;
	if (c->ping_pid > 0) {
		ping_reap(c, c->ping_pid, ping_out, "start");
		c->ping_pid = 0;
		ping_out = -1;
	}
	if (jobs_fs_selfdir(dir, sizeof(dir)) < 0 ||
	    snprintf(helper, sizeof(helper), "%s/jobs-ping", dir) >= (int)sizeof(helper) ||
	    access(helper, X_OK) < 0)
		snprintf(helper, sizeof(helper), "jobs-ping");
	if (pipe2(in, O_CLOEXEC) < 0)
		return;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return;
	}
	if ((pid = fork()) < 0) {
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		jobs_log(c, JOBS_WARN, "ping %s failed: fork: %s", what, strerror(errno));
		return;
	}
	if (pid == 0) {
		char *argv[] = { (char *)"jobs-ping", (char *)"--", (char *)what, NULL };

		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		setenv("JOBS_PING_URL", c->opts->ping, 1);
		if (strchr(helper, '/'))
			execv(helper, argv);
		else
			execvp(helper, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (body && strcmp(what, "start") != 0) {
		size_t len = strlen(body), off = 0;
		struct sigaction sa = { .sa_handler = SIG_IGN }, old;

		/* A helper that died early must not kill us with SIGPIPE. */
		sigaction(SIGPIPE, &sa, &old);
		while (off < len) {
			ssize_t n = write(in[1], body + off, len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		sigaction(SIGPIPE, &old, NULL);
	}
	close(in[1]);
	if (strcmp(what, "start") == 0) {
		c->ping_pid = pid;
		ping_out = out[0];
		return;
	}
	ping_reap(c, pid, out[0], what);
}

/* Add item to o under key; 0, or -1 (item deleted) when either is missing. */
static int
put(cJSON *o, const char *key, cJSON *item)
{
	if (item == NULL || !cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return -1;
	}
	return 0;
}

char *
jobs_run_summary(const struct jobs_ctx *c, const char *status, int exit_code)
{
	cJSON *o = cJSON_CreateObject();
	char started[32], *s = NULL, *e = NULL;

	if (o == NULL)
		return NULL;
	jobs_clock_iso(c->started_ms, started, sizeof(started));
	if (c->error[0] && (e = jobs_secret_redact(c->error)) == NULL)
		goto out;
	if (put(o, "id", c->id ? cJSON_CreateNumber((double)c->id) :
	    cJSON_CreateNull()) < 0 ||
	    put(o, "job", cJSON_CreateString(c->job)) < 0 ||
	    put(o, "status", cJSON_CreateString(status)) < 0 ||
	    put(o, "exit_code", cJSON_CreateNumber(exit_code)) < 0 ||
	    put(o, "started_at", cJSON_CreateString(started)) < 0 ||
	    put(o, "duration_ms", cJSON_CreateNumber((double)(jobs_clock_mono_ms() -
	    c->mono_start))) < 0 ||
	    put(o, "items_ok", cJSON_CreateNumber((double)c->items_ok)) < 0 ||
	    put(o, "items_failed", cJSON_CreateNumber((double)c->items_failed)) < 0 ||
	    put(o, "items_skipped", cJSON_CreateNumber((double)c->items_skipped)) < 0 ||
	    put(o, "metrics", c->metrics ? cJSON_Duplicate(c->metrics, 1) :
	    cJSON_CreateObject()) < 0 ||
	    put(o, "error", e ? cJSON_CreateString(e) : cJSON_CreateNull()) < 0 ||
	    put(o, "clock_pinned", cJSON_CreateBool(jobs_clock_pinned())) < 0)
		goto out;
	s = cJSON_PrintUnformatted(o);
out:
	free(e);
	cJSON_Delete(o);
	return s;
}

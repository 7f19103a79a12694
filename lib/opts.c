#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "opts.h"

enum {
	OPT_DB = 0x100, OPT_APP_DB, OPT_CONFIG, OPT_NOW, OPT_SCHEDULE, OPT_TZ,
	OPT_TIMEOUT, OPT_LIMIT, OPT_DRY_RUN, OPT_FORCE, OPT_JSON, OPT_PING,
	OPT_CONFLICT, OPT_VERSION,
};

const struct jobs_opt jobs_opts_table[] = {
	{ "db", 0, 1, OPT_DB, "JOBS_DB", "PATH", "the ledger" },
	{ "app-db", 0, 1, OPT_APP_DB, "JOBS_APP_DB", "PATH",
	    "the application database" },
	{ "config", 0, 1, OPT_CONFIG, "JOBS_CONFIG", "PATH", "JSON configuration" },
	{ "now", 0, 1, OPT_NOW, "JOBS_NOW", "TIME",
	    "pin the clock (ISO-8601 or epoch seconds)" },
	{ "schedule", 0, 1, OPT_SCHEDULE, NULL, "EXPR",
	    "the cron schedule this run belongs to" },
	{ "tz", 0, 1, OPT_TZ, NULL, "ZONE", "the schedule's time zone" },
	{ "timeout", 0, 1, OPT_TIMEOUT, NULL, "DUR",
	    "stop the run after DUR (90s, 10m, 2h)" },
	{ "limit", 0, 1, OPT_LIMIT, NULL, "N", "at most N items this run" },
	{ "dry-run", 0, 0, OPT_DRY_RUN, NULL, NULL, "compute and report, change nothing" },
	{ "force", 0, 0, OPT_FORCE, NULL, NULL, "run even if paused" },
	{ "verbose", 'v', 0, 'v', "JOBS_LOG_LEVEL", NULL,
	    "log to stderr too (twice: debug)" },
	{ "quiet", 'q', 0, 'q', NULL, NULL, "print nothing, even on failure" },
	{ "json", 0, 0, OPT_JSON, NULL, NULL,
	    "print the run summary as JSON on stdout" },
	{ "ping", 0, 1, OPT_PING, "JOBS_PING_URL", "URL",
	    "healthchecks.io-style pings (a secret)" },
	{ "conflict-exit-code", 0, 1, OPT_CONFLICT, NULL, "N",
	    "exit status when another run holds the lock (default 0)" },
	{ "help", 'h', 0, 'h', NULL, NULL, "show this help" },
	{ "version", 0, 0, OPT_VERSION, NULL, NULL, "show the version" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

const char *
jobs_trigger_name(enum jobs_trigger t)
{
	return t == JOBS_TRIGGER_MANUAL ? "manual" :
	    t == JOBS_TRIGGER_RETRY ? "retry" : "cron";
}

static const char *const level_names[] = { "debug", "info", "warn", "error",
    "quiet" };

const char *
jobs_level_name(enum jobs_level l)
{
	return level_names[l];
}

int
jobs_level_parse(const char *s)
{
	int i;

	for (i = 0; i <= JOBS_QUIET; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return JOBS_WARN;
	return -1;
}

int
jobs_name_check(const char *name, struct jobs_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") != n || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return jobs_err_set(err, JOBS_EUSAGE, "bad job name '%.80s': want"
		    " 1 to 64 of A-Z a-z 0-9 _ . -", name);
	return 0;
}

static int
setpath(char *dst, size_t size, const char *src, const char *what,
    struct jobs_err *err)
{
	if (src[0] == '\0' || snprintf(dst, size, "%s", src) >= (int)size)
		return jobs_err_set(err, JOBS_EUSAGE, "bad %s path '%.80s'", what, src);
	return 0;
}

int
jobs_opts_paths(struct jobs_opts *o, struct jobs_err *err)
{
	const char *state = getenv("XDG_STATE_HOME"), *conf = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *slash;
	int n;

	if ((home == NULL || home[0] != '/')) {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : "/";
	}
	if (o->db[0] == '\0') {
		if (state && state[0] == '/')
			n = snprintf(o->db, sizeof(o->db), "%s/jobs/ledger.db", state);
		else
			n = snprintf(o->db, sizeof(o->db), "%s/.local/state/jobs/ledger.db",
			    home);
		if (n < 0 || (size_t)n >= sizeof(o->db))
			return jobs_err_set(err, JOBS_EUSAGE, "ledger path too long");
	}
	if (o->app_db[0] == '\0') {
		snprintf(o->app_db, sizeof(o->app_db), "%s", o->db);
		if ((slash = strrchr(o->app_db, '/')) != NULL)
			slash[1] = '\0';
		else
			o->app_db[0] = '\0';
		if (strlen(o->app_db) + 7 > sizeof(o->app_db))
			return jobs_err_set(err, JOBS_EUSAGE, "application database"
			    " path too long");
		memcpy(o->app_db + strlen(o->app_db), "app.db", 7);
	}
	if (o->config[0] == '\0') {
		if (conf && conf[0] == '/')
			n = snprintf(o->config, sizeof(o->config), "%s/jobs/config.json",
			    conf);
		else
			n = snprintf(o->config, sizeof(o->config),
			    "%s/.config/jobs/config.json", home);
		if (n < 0 || (size_t)n >= sizeof(o->config))
			o->config[0] = '\0';
	}
	return 0;
}

/* Find the descriptor for val in the common table or extra. */
static const struct jobs_opt *
lookup(const struct jobs_opt_extra *extra, int val)
{
	const struct jobs_opt *t;

	for (t = jobs_opts_table; t->name; t++)
		if (t->val == val)
			return t;
	if (extra)
		for (t = extra->opts; t->name; t++)
			if (t->val == val || (t->shortopt && t->shortopt == val))
				return t;
	return NULL;
}

int
jobs_opts_parse(struct jobs_opts *o, int argc, char **argv,
    const struct jobs_opt_extra *extra, int stop, struct jobs_err *err)
{
	struct option longs[64];
	char shorts[64] = "";
	const struct jobs_opt *t;
	const char *env;
	size_t nl = 0, ns = 0;
	int c, verbose = 0, level;
	char *end;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = -1;
	o->limit = -1;
	o->level = JOBS_QUIET;	/* cron mails any output: only the summary */
	shorts[ns++] = stop ? '+' : ':';
	if (stop)
		shorts[ns++] = ':';
	for (t = jobs_opts_table; t->name; t++)
		longs[nl++] = (struct option){ t->name, t->has_arg, NULL, t->val };
	if (extra)
		for (t = extra->opts; t->name && nl < 63; t++)
			longs[nl++] = (struct option){ t->name, t->has_arg, NULL, t->val };
	longs[nl] = (struct option){ NULL, 0, NULL, 0 };
	for (c = 0; c < 2; c++)
		for (t = c == 0 ? jobs_opts_table : extra ? extra->opts : NULL;
		    t && t->name; t++)
			if (t->shortopt && ns < sizeof(shorts) - 3) {
				shorts[ns++] = (char)t->shortopt;
				if (t->has_arg)
					shorts[ns++] = ':';
			}
	shorts[ns] = '\0';

	if ((env = getenv("JOBS_DB")) && *env &&
	    setpath(o->db, sizeof(o->db), env, "JOBS_DB", err) < 0)
		return -1;
	if ((env = getenv("JOBS_APP_DB")) && *env &&
	    setpath(o->app_db, sizeof(o->app_db), env, "JOBS_APP_DB", err) < 0)
		return -1;
	if ((env = getenv("JOBS_CONFIG")) && *env) {
		if (setpath(o->config, sizeof(o->config), env, "JOBS_CONFIG", err) < 0)
			return -1;
		o->config_explicit = 1;
	}
	if ((env = getenv("JOBS_NOW")) && *env)
		o->now = env;
	if ((env = getenv("JOBS_PING_URL")) && *env)
		o->ping = env;
	if ((env = getenv("JOBS_LOG_LEVEL")) && *env) {
		if ((level = jobs_level_parse(env)) < 0)
			return jobs_err_set(err, JOBS_EUSAGE, "bad JOBS_LOG_LEVEL '%.40s':"
			    " want debug, info, warn, error or quiet", env);
		o->level = (enum jobs_level)level;
	}
	if ((env = getenv("JOBS_TRIGGER")) && *env)
		o->trigger = strcmp(env, "manual") == 0 ? JOBS_TRIGGER_MANUAL :
		    strcmp(env, "retry") == 0 ? JOBS_TRIGGER_RETRY : JOBS_TRIGGER_CRON;
	else
		o->trigger = isatty(STDIN_FILENO) ? JOBS_TRIGGER_MANUAL :
		    JOBS_TRIGGER_CRON;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case OPT_DB:
			if (setpath(o->db, sizeof(o->db), a, "ledger", err) < 0)
				return -1;
			break;
		case OPT_APP_DB:
			if (setpath(o->app_db, sizeof(o->app_db), a,
			    "application database", err) < 0)
				return -1;
			break;
		case OPT_CONFIG:
			if (setpath(o->config, sizeof(o->config), a, "config", err) < 0)
				return -1;
			o->config_explicit = 1;
			break;
		case OPT_NOW: o->now = a; break;
		case OPT_SCHEDULE: o->schedule = a; break;
		case OPT_TZ: o->tz = a; break;
		case OPT_TIMEOUT:
			if (jobs_clock_parse_duration(a, &o->timeout_ms, err) < 0)
				return -1;
			if (o->timeout_ms <= 0)
				return jobs_err_set(err, JOBS_EUSAGE, "--timeout must be"
				    " more than 0");
			break;
		case OPT_LIMIT:
			o->limit = strtol(a, &end, 10);
			if (*a == '\0' || *end != '\0' || o->limit < 0 || o->limit > 100000000)
				return jobs_err_set(err, JOBS_EUSAGE, "bad --limit '%.40s':"
				    " want a whole number", a);
			break;
		case OPT_DRY_RUN: o->dry_run = 1; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_PING: o->ping = a; break;
		case OPT_CONFLICT:
			o->conflict_exit = (int)strtol(a, &end, 10);
			if (*a == '\0' || *end != '\0' || o->conflict_exit < 0 ||
			    o->conflict_exit > 255)
				return jobs_err_set(err, JOBS_EUSAGE, "bad"
				    " --conflict-exit-code '%.40s': want 0 to 255", a);
			break;
		case 'v': verbose++; break;
		case 'q': o->quiet = 1; break;
		case 'h': o->help = 1; break;
		case OPT_VERSION: o->version = 1; break;
		case '?':
			if (optopt)
				return jobs_err_set(err, JOBS_EUSAGE, "unknown option -%c",
				    optopt);
			return jobs_err_set(err, JOBS_EUSAGE, "unknown option %.80s",
			    argv[optind - 1]);
		case ':':
			return jobs_err_set(err, JOBS_EUSAGE, "option %.80s needs a value",
			    argv[optind - 1]);
		default:
			if (extra && (t = lookup(extra, c)) != NULL &&
			    extra->handle(extra->arg, t->val, a, err) == 0)
				break;
			if (err && err->code == 0)
				jobs_err_set(err, JOBS_EUSAGE, "unknown option");
			return -1;
		}
	}
	if (o->quiet)
		o->level = JOBS_QUIET;
	else if (verbose)
		o->level = verbose > 1 ? JOBS_DEBUG : JOBS_INFO;
	if (jobs_opts_paths(o, err) < 0)
		return -1;
	return optind;
}

static void
help_rows(const struct jobs_opt *t, char *buf, size_t size, size_t *len)
{
	for (; t->name; t++) {
		char left[64];
		int n;

		if (t->shortopt)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", t->shortopt,
			    t->name, t->argname ? " " : "", t->argname ? t->argname : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", t->name,
			    t->argname ? " " : "", t->argname ? t->argname : "");
		n = snprintf(buf + *len, size - *len, "  %-28s %s%s%s%s\n", left,
		    t->help, t->env ? " [" : "", t->env ? t->env : "", t->env ? "]" : "");
		if (n < 0 || (size_t)n >= size - *len)
			return;
		*len += (size_t)n;
	}
}

void
jobs_opts_help(const struct jobs_opt_extra *extra, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (extra)
		help_rows(extra->opts, buf, size, &len);
	help_rows(jobs_opts_table, buf, size, &len);
}

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "crontab.h"
#include "err.h"
#include "opts.h"

#define CRONTAB_MAX (1024 * 1024)

static int
diag(struct jobs_crontab *ct, enum jobs_crontab_severity sev, const char *source,
    int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
diag(struct jobs_crontab *ct, enum jobs_crontab_severity sev, const char *source,
    int line, const char *fmt, ...)
{
	struct jobs_crontab_diag *more, *d;
	va_list ap;

	more = realloc(ct->diags, (size_t)(ct->ndiags + 1) * sizeof(*more));
	if (more == NULL)
		return -1;
	ct->diags = more;
	d = &ct->diags[ct->ndiags++];
	d->severity = sev;
	snprintf(d->source, sizeof(d->source), "%s", source);
	d->line = line;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * Split a command into words the way sh would for plain words and quotes
 * (no expansions).  Writes at most max words (pointers into buf).
 */
static int
words(const char *cmd, char *buf, size_t size, char **w, int max)
{
	size_t o = 0;
	int n = 0;
	const char *p = cmd;

	while (*p && n < max) {
		char q = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || o + 1 >= size)
			break;
		w[n++] = buf + o;
		while (*p && (q || (*p != ' ' && *p != '\t')) && o + 1 < size) {
			if (q && *p == q)
				q = 0;
			else if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (*p == '\\' && p[1] && q != '\'')
				buf[o++] = *++p;
			else
				buf[o++] = *p;
			p++;
		}
		buf[o++] = '\0';
		/* Shell separators end a simple command: the rest is another. */
	}
	return n;
}

/* Does the common option name take a value (from the one options table)? */
static int
takes_value(const char *word)
{
	const struct jobs_opt *t;
	size_t n;

	if (strncmp(word, "--", 2) != 0)
		return 0;
	n = strcspn(word + 2, "=");
	if (word[2 + n] == '=')
		return 0;
	for (t = jobs_opts_table; t->name; t++)
		if (strlen(t->name) == n && strncmp(t->name, word + 2, n) == 0)
			return t->has_arg;
	return 0;
}

/*
 * Find the jobs program a command runs and the job: the first word whose
 * base name starts with "jobs-"; for jobs-run the job is its NAME operand.
 * Also pick up --schedule and --tz.  0 when the command runs no job.
 */
static int
command_job(const char *cmd, struct jobs_crontab_entry *e)
{
	char buf[2048], *w[128], *base;
	int n = words(cmd, buf, sizeof(buf), w, 128), i, j;

	for (i = 0; i < n; i++) {
		base = strrchr(w[i], '/');
		base = base ? base + 1 : w[i];
		if (strncmp(base, "jobs-", 5) == 0 && strlen(base) > 5 &&
		    strspn(base + 5, "abcdefghijklmnopqrstuvwxyz") == strlen(base + 5))
			break;
	}
	if (i == n || strcmp(base, "jobs-status") == 0 ||
	    strcmp(base, "jobs-ping") == 0 || strcmp(base, "jobs-enqueue") == 0)
		return 0;
	snprintf(e->program, sizeof(e->program), "%s", base);
	snprintf(e->job, sizeof(e->job), "%s", base);
	for (j = i + 1; j < n; j++) {
		const char *v = NULL;

		if (strcmp(w[j], "--") == 0 || strcmp(w[j], ";") == 0 ||
		    strcmp(w[j], "&&") == 0 || strcmp(w[j], "||") == 0 ||
		    strcmp(w[j], "|") == 0)
			break;
		if (strncmp(w[j], "--schedule", 10) == 0 || strncmp(w[j], "--tz", 4) == 0) {
			int sched = w[j][2] == 's';

			if (w[j][sched ? 10 : 4] == '=')
				v = w[j] + (sched ? 11 : 5);
			else if (w[j][sched ? 10 : 4] == '\0' && j + 1 < n)
				v = w[++j];
			if (v && sched)
				snprintf(e->declared, sizeof(e->declared), "%s", v);
			else if (v)
				snprintf(e->declared_tz, sizeof(e->declared_tz), "%s", v);
			continue;
		}
		if (takes_value(w[j])) {
			j++;
			continue;
		}
		if (w[j][0] == '-')
			continue;
		if (strcmp(base, "jobs-run") == 0) {
			struct jobs_err err;

			if (jobs_name_check(w[j], &err) < 0)
				return 0;
			snprintf(e->job, sizeof(e->job), "%s", w[j]);
			return 1;
		}
		break;
	}
	return strcmp(base, "jobs-run") != 0;
}

/* An environment line: NAME=VALUE, with optional blanks and quotes. */
static int
env_line(const char *p, char *name, size_t nsize, char *value, size_t vsize)
{
	const char *start = p, *end;
	size_t n;

	if (*p == '"' || *p == '\'') {
		char q = *p++;

		start = p;
		if ((end = strchr(p, q)) == NULL)
			return 0;
		p = end + 1;
	} else {
		while (*p && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		end = p;
	}
	n = (size_t)(end - start);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=' || n == 0)
		return 0;
	snprintf(name, nsize, "%.*s", (int)n, start);
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if ((*p == '"' || *p == '\'') && strchr(p + 1, *p)) {
		char q = *p++;

		snprintf(value, vsize, "%.*s", (int)(strchr(p, q) - p), p);
	} else {
		snprintf(value, vsize, "%s", p);
		n = strlen(value);
		while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
			value[--n] = '\0';
	}
	return 1;
}

int
jobs_crontab_parse(struct jobs_crontab *ct, const char *source,
    const char *text, size_t len, int system, struct jobs_err *err)
{
	char tz[64] = "", line[4096];
	size_t pos = 0;
	int lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;
		char name[128], value[256], *p, *cmd;
		struct jobs_crontab_entry e;
		struct jobs_err perr;
		int used;

		lineno++;
		if (n >= sizeof(line)) {
			if (diag(ct, JOBS_CRONTAB_ERROR, source, lineno, "line longer"
			    " than %zu bytes: cron will not read it as written",
			    sizeof(line) - 1) < 0)
				goto oom;
			pos += n + 1;
			continue;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		pos += n + (nl != NULL) + (text[pos + n] == '\r');
		if (nl == NULL && n > 0 && line[strspn(line, " \t")] != '#') {
			if (diag(ct, JOBS_CRONTAB_ERROR, source, lineno, "no newline at"
			    " the end of the file: cron ignores this last line") < 0)
				goto oom;
			continue;
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		if (!isdigit((unsigned char)*p) && *p != '*' && *p != '@' && *p != '-' &&
		    env_line(p, name, sizeof(name), value, sizeof(value))) {
			if (strcmp(name, "CRON_TZ") == 0) {
				if (jobs_cron_zone_check(value, &perr) < 0) {
					if (diag(ct, JOBS_CRONTAB_ERROR, source, lineno,
					    "CRON_TZ: %s", perr.msg) < 0)
						goto oom;
				} else if (!ct->crontz && diag(ct, JOBS_CRONTAB_WARNING,
				    source, lineno, "CRON_TZ=%s: this host's cron ignores"
				    " CRON_TZ and uses the system time zone", value) < 0)
					goto oom;
				snprintf(tz, sizeof(tz), "%s", value);
			}
			continue;
		}
		if (*p == '-')	/* cronie: do not log this job */
			p++;
		ct->lines++;
		memset(&e, 0, sizeof(e));
		if ((used = jobs_cron_parse_prefix(&e.cron, p, &perr)) < 0) {
			if (diag(ct, JOBS_CRONTAB_ERROR, source, lineno, "%s: cron ignores"
			    " this line", perr.msg) < 0)
				goto oom;
			continue;
		}
		snprintf(e.expr, sizeof(e.expr), "%.*s", used, p);
		n = strlen(e.expr);
		while (n > 0 && (e.expr[n - 1] == ' ' || e.expr[n - 1] == '\t'))
			e.expr[--n] = '\0';
		cmd = p + used;
		if (system) {
			char *u = cmd;

			while (*cmd && *cmd != ' ' && *cmd != '\t')
				cmd++;
			if (cmd == u || *cmd == '\0') {
				if (diag(ct, JOBS_CRONTAB_ERROR, source, lineno, "%s: cron"
				    " ignores this line", cmd == u ? "no user field" :
				    "no command after the user field") < 0)
					goto oom;
				continue;
			}
			while (*cmd == ' ' || *cmd == '\t')
				cmd++;
		}
		if (*cmd == '\0') {
			if (diag(ct, JOBS_CRONTAB_ERROR, source, lineno, "no command:"
			    " cron ignores this line") < 0)
				goto oom;
			continue;
		}
		/* An unescaped % ends the command; the rest is its stdin. */
		for (p = cmd; *p; p++) {
			if (*p == '\\' && p[1] == '%')
				p++;
			else if (*p == '%') {
				*p = '\0';
				break;
			}
		}
		if (!command_job(cmd, &e))
			continue;
		if (e.cron.reboot)
			snprintf(e.expr, sizeof(e.expr), "@reboot");
		snprintf(e.tz, sizeof(e.tz), "%s", ct->crontz ? tz : "");
		snprintf(e.source, sizeof(e.source), "%s", source);
		e.line = lineno;
		if (e.declared[0]) {
			struct jobs_cron d;

			if (jobs_cron_parse(&d, e.declared, &perr) < 0) {
				if (diag(ct, JOBS_CRONTAB_ERROR, source, lineno,
				    "--schedule '%.60s': %s", e.declared, perr.msg) < 0)
					goto oom;
			} else if (memcmp(&d, &e.cron, sizeof(d)) != 0 &&
			    diag(ct, JOBS_CRONTAB_WARNING, source, lineno, "%s runs at"
			    " '%s' but declares --schedule '%s'", e.job, e.expr,
			    e.declared) < 0)
				goto oom;
			if (strcmp(e.declared_tz, e.tz) != 0 && diag(ct,
			    JOBS_CRONTAB_WARNING, source, lineno, "%s runs in time zone"
			    " '%s' but declares --tz '%s'", e.job, e.tz[0] ? e.tz :
			    "system", e.declared_tz[0] ? e.declared_tz : "system") < 0)
				goto oom;
		}
		if (e.cron.reboot == 0 && jobs_cron_never(&e.cron) && diag(ct,
		    JOBS_CRONTAB_WARNING, source, lineno, "'%s' never fires", e.expr) < 0)
			goto oom;
		{
			struct jobs_crontab_entry *more = realloc(ct->entries,
			    (size_t)(ct->n + 1) * sizeof(*more));

			if (more == NULL)
				goto oom;
			ct->entries = more;
			ct->entries[ct->n++] = e;
		}
	}
	return 0;
oom:
	return jobs_err_set(err, JOBS_ETEMP, "out of memory");
}

/*
 * The code for a crontab that cannot be read: missing, temporary (out of
 * memory or descriptors: try again later, not a configuration error), or
 * a usage error.
 */
static int
read_code(int e)
{
	if (e == ENOENT)
		return JOBS_ENOINPUT;
	if (e == ENOMEM || e == EMFILE || e == ENFILE || e == EAGAIN)
		return JOBS_ETEMP;
	return JOBS_EUSAGE;
}

static int
read_text(const char *path, char **text, size_t *len, struct jobs_err *err)
{
	FILE *f = fopen(path, "re");
	size_t n;
	int e;

	*text = NULL;
	if (f == NULL)
		return jobs_err_set(err, read_code(errno),
		    "unable to read crontab %s: %s", path, strerror(errno));
	if ((*text = malloc(CRONTAB_MAX + 1)) == NULL) {
		fclose(f);
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	}
	n = fread(*text, 1, CRONTAB_MAX + 1, f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e != 0) {
		free(*text);
		*text = NULL;
		return jobs_err_set(err, read_code(e), "unable to read crontab %s: %s",
		    path, strerror(e));
	}
	if (n > CRONTAB_MAX) {
		free(*text);
		*text = NULL;
		return jobs_err_set(err, JOBS_EUSAGE, "crontab %s: larger than 1 MiB",
		    path);
	}
	*len = n;
	return 0;
}

int
jobs_crontab_read(struct jobs_crontab *ct, const char *path, int system,
    struct jobs_err *err)
{
	const char *base = strrchr(path, '/');
	char *text = NULL;
	size_t len = 0;
	int rc;

	base = base ? base + 1 : path;
	if (read_text(path, &text, &len, err) < 0)
		return -1;
	if ((strstr(path, "/cron.d/") || strncmp(path, "cron.d/", 7) == 0) &&
	    strspn(base, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(base) &&
	    diag(ct, JOBS_CRONTAB_ERROR, path, 0, "cron skips files whose names"
	    " have characters other than A-Z a-z 0-9 _ - (Debian's cron skips a"
	    " name with a dot)") < 0) {
		free(text);
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	}
	rc = jobs_crontab_parse(ct, path, text, len, system, err);
	free(text);
	return rc;
}

/* `crontab -l` of the current user; no crontab is not an error. */
static int
read_user(struct jobs_crontab *ct, struct jobs_err *err)
{
	FILE *p = popen("crontab -l 2>/dev/null", "re");
	char *text;
	size_t len = 0, n;
	int rc = 0;

	if (p == NULL)
		return 0;
	if ((text = malloc(CRONTAB_MAX + 1)) == NULL) {
		pclose(p);
		return jobs_err_set(err, JOBS_ETEMP, "out of memory");
	}
	while (len < CRONTAB_MAX && (n = fread(text + len, 1, CRONTAB_MAX - len, p)) > 0)
		len += n;
	if (pclose(p) == 0)
		rc = jobs_crontab_parse(ct, "crontab -l", text, len, 0, err);
	free(text);
	return rc;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
jobs_crontab_read_default(struct jobs_crontab *ct, struct jobs_err *err)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, path[512];
	int n = 0, i, rc = 0;

	if (read_user(ct, err) < 0)
		return -1;
	if (access("/etc/crontab", R_OK) == 0 &&
	    jobs_crontab_read(ct, "/etc/crontab", 1, err) < 0 &&
	    err->code != JOBS_ENOINPUT)
		return -1;
	if ((d = opendir("/etc/cron.d")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char **more;

		if (de->d_name[0] == '.')
			continue;
		if ((more = realloc(names, (size_t)(n + 1) * sizeof(*names))) == NULL)
			break;
		names = more;
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/etc/cron.d/%s", names[i]);
		if (rc == 0 && jobs_crontab_read(ct, path, 1, err) < 0 &&
		    err->code == JOBS_ETEMP)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

void
jobs_crontab_free(struct jobs_crontab *ct)
{
	free(ct->entries);
	free(ct->diags);
	ct->entries = NULL;
	ct->diags = NULL;
	ct->n = ct->ndiags = 0;
}

int
jobs_crontab_host_crontz(void)
{
	const char *f = getenv("JOBS_CRON_FLAVOR");

	if (f && *f)
		return strcmp(f, "cronie") == 0;
	/* cronie's daemon is crond; Debian's own cron is cron and ignores it. */
	return access("/usr/sbin/crond", X_OK) == 0;
}

void
jobs_crontab_system_zone(char *buf, size_t size)
{
	const char *tz = getenv("TZ");
	char link[512];
	ssize_t n;
	FILE *f;

	if (tz && *tz) {
		snprintf(buf, size, "%s", tz[0] == ':' ? tz + 1 : tz);
		return;
	}
	if ((n = readlink("/etc/localtime", link, sizeof(link) - 1)) > 0) {
		char *z;

		link[n] = '\0';
		if ((z = strstr(link, "zoneinfo/")) != NULL) {
			snprintf(buf, size, "%s", z + 9);
			return;
		}
	}
	if ((f = fopen("/etc/timezone", "re")) != NULL) {
		if (fgets(buf, (int)size, f) != NULL) {
			buf[strcspn(buf, " \t\n")] = '\0';
			fclose(f);
			if (buf[0])
				return;
		} else
			fclose(f);
	}
	snprintf(buf, size, "UTC");
}

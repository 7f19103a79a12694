-- schema.sql - the one schema of the toolkit, built into every program.
--
-- Two components, each with its own version in jobs_schema(component,
-- version): "ledger" (the toolkit's record, JOBS_DB) and "app" (the
-- application database, JOBS_APP_DB).  A "-- @component NAME" line starts a
-- component, a "-- @version N" line starts the statements that migrate it
-- from N-1 to N.  Versions are only ever appended; a released version's
-- statements never change.  Tables an application may already have use
-- CREATE TABLE IF NOT EXISTS and are then checked column by column.

-- Enumerations are checked as "x = 'a' OR x = 'b' OR ...", not
-- "x IN ('a', 'b', ...)": SQLite 3.40 builds a temporary b-tree for an IN
-- list of three or more at every insert and update, which cost jobs-alerts
-- a third of its time.
-- @component ledger
-- @version 1

CREATE TABLE jobs (
	name		TEXT PRIMARY KEY,
	paused		INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
	paused_reason	TEXT,
	paused_by	TEXT,
	paused_at	INTEGER,		-- epoch ms
	kind		TEXT NOT NULL DEFAULT 'program'
			CHECK (kind IN ('program', 'command')),
	command		TEXT,			-- JSON argv that trigger re-runs
	created_at	INTEGER NOT NULL	-- epoch ms
);

CREATE TABLE schedules (
	job		TEXT NOT NULL,
	expr		TEXT NOT NULL,
	tz		TEXT NOT NULL DEFAULT '',
	source		TEXT NOT NULL CHECK (source IN ('declared', 'crontab')),
	first_seen	INTEGER NOT NULL,	-- epoch ms
	last_seen	INTEGER NOT NULL,
	PRIMARY KEY (job, expr, tz, source)
);

CREATE TABLE executions (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	job		TEXT NOT NULL,
	trigger		TEXT NOT NULL DEFAULT 'cron'
			CHECK (trigger = 'cron' OR trigger = 'manual' OR
			trigger = 'retry'),
	status		TEXT NOT NULL CHECK (status = 'running' OR status = 'succeeded' OR
			status = 'failed' OR status = 'timeout' OR
			status = 'cancelled' OR status = 'skipped' OR
			status = 'abandoned'),
	reason		TEXT,			-- why skipped or abandoned
	started_at	INTEGER NOT NULL,	-- epoch ms, the run's logical clock
	finished_at	INTEGER,
	duration_ms	INTEGER,		-- from the monotonic clock
	exit_code	INTEGER,
	pid		INTEGER,
	host		TEXT,
	uid		INTEGER,
	cwd		TEXT,
	argv		TEXT,			-- JSON array, secrets redacted
	version		TEXT,
	config_digest	TEXT,
	clock		TEXT NOT NULL DEFAULT 'real' CHECK (clock IN ('real', 'pinned')),
	schedule	TEXT,
	tz		TEXT,
	timeout_ms	INTEGER,
	items_ok	INTEGER NOT NULL DEFAULT 0,
	items_failed	INTEGER NOT NULL DEFAULT 0,
	items_skipped	INTEGER NOT NULL DEFAULT 0,
	metrics		TEXT,			-- JSON object
	error		TEXT,
	stdout_head	TEXT,
	stdout_tail	TEXT,
	stdout_bytes	INTEGER,
	stderr_head	TEXT,
	stderr_tail	TEXT,
	stderr_bytes	INTEGER
);
CREATE INDEX executions_job_id ON executions (job, id);
CREATE INDEX executions_job_started ON executions (job, started_at);
CREATE INDEX executions_running ON executions (job) WHERE status = 'running';
-- "the last success", "the last failure": one seek, however long the history
CREATE INDEX executions_job_status ON executions (job, status, id);

CREATE TABLE logs (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,	-- --follow's watermark
	execution_id	INTEGER,
	job		TEXT NOT NULL,
	at		INTEGER NOT NULL,	-- epoch ms
	level		TEXT NOT NULL CHECK (level = 'debug' OR level = 'info' OR
			level = 'warn' OR level = 'error'),
	message		TEXT NOT NULL
);
CREATE INDEX logs_execution ON logs (execution_id);
CREATE INDEX logs_job_at ON logs (job, at);

CREATE TABLE breakers (
	host		TEXT PRIMARY KEY,	-- a destination host (webhook URL host, SMTP server)
	state		TEXT NOT NULL DEFAULT 'closed'
			CHECK (state = 'closed' OR state = 'open' OR
			state = 'half-open'),
	failures	INTEGER NOT NULL DEFAULT 0,	-- consecutive
	opened_at	INTEGER,		-- epoch ms
	updated_at	INTEGER NOT NULL
);

CREATE TABLE rate_limits (
	name		TEXT PRIMARY KEY,	-- "host:<host>"
	tokens		REAL NOT NULL,
	updated_at	INTEGER NOT NULL	-- epoch ms
);

-- @component app
-- @version 1

-- Where each job has got to in the application's data: a job's outputs
-- commit in the same transaction as the cursor that says they were made.
CREATE TABLE IF NOT EXISTS job_cursors (
	job		TEXT NOT NULL,
	name		TEXT NOT NULL,
	value		TEXT,
	updated_at	INTEGER NOT NULL,	-- epoch s
	PRIMARY KEY (job, name)
);

-- The transactional outbox: an application enqueues a message in the same
-- transaction as its own write; jobs-deliver sends it at least once.  Its
-- columns are a public interface (jobs-schema(5)): only ever added to.
CREATE TABLE IF NOT EXISTS outbox (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	channel		TEXT NOT NULL CHECK (channel = 'webhook' OR channel = 'email' OR
			channel = 'file'),
	destination	TEXT NOT NULL,		-- https://..., mailto:..., file:///dir
	subject		TEXT,
	body		TEXT NOT NULL,
	headers		TEXT NOT NULL DEFAULT '{}',	-- JSON object of header fields
	idempotency_key	TEXT NOT NULL,
	source		TEXT NOT NULL DEFAULT '',	-- who enqueued it
	status		TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR
			status = 'leased' OR status = 'sent' OR status = 'dead' OR
			status = 'cancelled'),
	attempts	INTEGER NOT NULL DEFAULT 0,	-- counted when claimed
	max_attempts	INTEGER NOT NULL DEFAULT 8 CHECK (max_attempts >= 1),
	not_before	INTEGER NOT NULL DEFAULT 0,	-- epoch s: a send delay
	priority	INTEGER NOT NULL DEFAULT 0,	-- higher goes first
	ordering_key	TEXT,			-- rows with the same key go in order
	last_error	TEXT,
	created_at	INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
	sent_at		INTEGER,		-- epoch s
	lease_token	TEXT,			-- who holds it while leased
	lease_until	INTEGER,		-- epoch ms
	payload_hash	TEXT,			-- the same key twice must carry the same payload
	UNIQUE (source, idempotency_key)
);
-- Partial indexes: a row is in one of them only while it waits or is
-- leased, so booking it `sent` touches one index entry, not four.  The
-- claim walks outbox_claim in order and stops at its limit: no sort of
-- the queue.  Finished rows are found by id (oldest first) for retention.
CREATE INDEX IF NOT EXISTS outbox_claim ON outbox (priority DESC, id,
	not_before) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_leased ON outbox (lease_until)
	WHERE status = 'leased';
CREATE INDEX IF NOT EXISTS outbox_ordering ON outbox (ordering_key, id)
	WHERE ordering_key IS NOT NULL;

-- Scheduled posts (jobs-publish): due posts go out through their channel's
-- webhook via the outbox, with the key post-<id> on every attempt.
CREATE TABLE IF NOT EXISTS channels (
	name		TEXT PRIMARY KEY,
	url		TEXT NOT NULL		-- the channel's webhook
);
CREATE TABLE IF NOT EXISTS posts (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	channel		TEXT NOT NULL,
	title		TEXT NOT NULL DEFAULT '',
	body		TEXT NOT NULL DEFAULT '',
	publish_at	INTEGER NOT NULL,	-- epoch s
	status		TEXT NOT NULL DEFAULT 'scheduled' CHECK (status = 'draft' OR
			status = 'scheduled' OR status = 'publishing' OR
			status = 'published' OR status = 'failed' OR
			status = 'cancelled'),
	attempts	INTEGER NOT NULL DEFAULT 0,
	last_error	TEXT,
	published_at	INTEGER			-- epoch s
);
CREATE INDEX IF NOT EXISTS posts_due ON posts (status, publish_at);
CREATE TABLE IF NOT EXISTS publish_events (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	post_id		INTEGER NOT NULL,
	at		INTEGER NOT NULL,	-- epoch s
	status		TEXT NOT NULL CHECK (status = 'queued' OR status = 'late' OR
			status = 'retrying' OR status = 'published' OR
			status = 'failed'),
	detail		TEXT
);
CREATE INDEX IF NOT EXISTS publish_events_post ON publish_events (post_id, id);

-- The feedback pipeline (jobs-alerts, jobs-stats, jobs-respond,
-- jobs-report).  The application owns venues, customers and feedback; the
-- jobs write alerts, responses, computed_stats and reports.
CREATE TABLE IF NOT EXISTS venues (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL,
	timezone	TEXT NOT NULL DEFAULT 'UTC',	-- IANA zone: Australia/Sydney
	manager_email	TEXT,
	settings	TEXT NOT NULL DEFAULT '{}'	-- JSON object (jobs-schema(5))
);
CREATE TABLE IF NOT EXISTS customers (
	id		INTEGER PRIMARY KEY,
	email		TEXT,
	name		TEXT,
	lifetime_value	REAL NOT NULL DEFAULT 0
);
-- AUTOINCREMENT: jobs-alerts' watermark is an id, and an id must never be
-- handed out twice (a deleted last row's id would be, without it).
CREATE TABLE IF NOT EXISTS feedback (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	venue_id	INTEGER NOT NULL,
	customer_id	INTEGER,
	rating		INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
	comment		TEXT NOT NULL DEFAULT '',
	created_at	INTEGER NOT NULL	-- epoch s
);
-- Covering for the statistics: counts and ratings by venue and time.
CREATE INDEX IF NOT EXISTS feedback_venue ON feedback (venue_id, created_at,
	rating);
-- A customer's feedback over a span, rating included: jobs-alerts' repeat
-- count reads the index alone, however many rows a customer has.
CREATE INDEX IF NOT EXISTS feedback_customer ON feedback (customer_id,
	created_at, rating) WHERE customer_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS alerts (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	venue_id	INTEGER NOT NULL,
	feedback_id	INTEGER,
	level		TEXT NOT NULL CHECK (level = 'critical' OR level = 'high' OR
			level = 'medium' OR level = 'low' OR level = 'info'),
	rule		TEXT NOT NULL,
	title		TEXT NOT NULL,
	description	TEXT NOT NULL DEFAULT '',
	matched		TEXT,			-- keyword rules: the keywords found,
						-- comma-separated
	detected_at	INTEGER NOT NULL,	-- epoch s
	is_read		INTEGER NOT NULL DEFAULT 0,
	acknowledged_by	TEXT,
	acknowledged_at	INTEGER,		-- epoch s
	UNIQUE (feedback_id, rule)
);
CREATE INDEX IF NOT EXISTS alerts_venue ON alerts (venue_id, detected_at);
CREATE TABLE IF NOT EXISTS responses (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	feedback_id	INTEGER NOT NULL,
	venue_id	INTEGER NOT NULL,
	body		TEXT NOT NULL,
	status		TEXT NOT NULL DEFAULT 'generated' CHECK (status =
			'generated' OR status = 'pending_approval' OR
			status = 'approved' OR status = 'auto_approved' OR
			status = 'sent' OR status = 'failed' OR
			status = 'cancelled'),
	created_at	INTEGER NOT NULL,	-- epoch s
	scheduled_send_at INTEGER,		-- epoch s
	sent_at		INTEGER			-- epoch s
);
CREATE INDEX IF NOT EXISTS responses_feedback ON responses (feedback_id);
-- By venue and status; sent_at and feedback_id make it covering for the
-- sent responses of a venue over a span (jobs-stats, jobs-report).
CREATE INDEX IF NOT EXISTS responses_venue ON responses (venue_id, status,
	sent_at, feedback_id);
-- jobs-respond's loop: replies waiting on their outbox row (scheduled) and
-- replies a person approved (not yet scheduled), without a scan.
CREATE INDEX IF NOT EXISTS responses_status ON responses (status,
	scheduled_send_at);
CREATE TABLE IF NOT EXISTS computed_stats (
	venue_id	INTEGER NOT NULL,
	computed_at	INTEGER NOT NULL,	-- epoch s
	stats		TEXT NOT NULL,		-- JSON object
	PRIMARY KEY (venue_id, computed_at)
);
CREATE TABLE IF NOT EXISTS reports (
	venue_id	INTEGER NOT NULL,
	day		TEXT NOT NULL,		-- YYYY-MM-DD in the venue's zone
	created_at	INTEGER NOT NULL,	-- epoch s
	report		TEXT NOT NULL,		-- JSON object
	PRIMARY KEY (venue_id, day)
);

# jobs-cleanup: retention, on the same entry point as every job program.
. tests/lib.sh

DAY=86400000
NOW=1795000000000	# 2026-11-17T...: the pinned clock of every run below
export JOBS_NOW=$((NOW / 1000))

check "create the databases" jobs-status migrate
# 200 days of history for two jobs, one run a day, every 10th one failed,
# and a skipped run every day; log lines on each.
sql "WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 200)
INSERT INTO executions (job, status, started_at, finished_at, duration_ms, exit_code)
SELECT j.name, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
  $NOW - i * $DAY, $NOW - i * $DAY + 1000, 1000, CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END
FROM d, (SELECT 'a' AS name UNION ALL SELECT 'b') AS j;
WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 200)
INSERT INTO executions (job, status, reason, started_at, finished_at)
SELECT 'a', 'skipped', 'overlap', $NOW - i * $DAY + 5000, $NOW - i * $DAY + 5000 FROM d;
INSERT INTO logs (execution_id, job, at, level, message)
SELECT id, job, started_at, 'info', 'line' FROM executions;
INSERT INTO jobs (name, created_at) VALUES ('a', 0), ('b', 0);"
before=$(sql "select count(*) from executions where job in ('a', 'b')")
is "history in place" "$before" "600"
# jobs-stats' history: venue 1 has a row a day for 20 days, venue 2 one
# row 30 days old, its newest.
appsql "WITH RECURSIVE d(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM d WHERE i < 19)
INSERT INTO computed_stats (venue_id, computed_at, stats)
SELECT 1, $JOBS_NOW - i * 86400, '{}' FROM d;
INSERT INTO computed_stats (venue_id, computed_at, stats) VALUES (2, $JOBS_NOW - 30 * 86400, '{}');"

code 0 "--dry-run changes nothing" jobs-cleanup --dry-run --json
is "same count after a dry run" "$(sql "select count(*) from executions where job in ('a', 'b')")" "$before"
like "but says what it would delete" "$out" '"executions_deleted":[1-9]'
like "including old statistics" "$out" '"computed_stats_deleted":12'
is "which stay" "$(appsql "select count(*) from computed_stats")" "21"

code 0 "cleanup succeeds" jobs-cleanup --json
is "and is silent apart from --json" "$err" ""
like "reports what it removed" "$out" '"metrics":\{"executions_deleted":[0-9]+,"skipped_deleted":193,"logs_deleted":[0-9]+'
# For each job: successes kept 30 days, failures 90 days, but never fewer than 50 runs.
is "job a keeps the last 50 finished runs" "$(sql "select count(*) from executions where job = 'a' and status != 'skipped'")" "$(sql "select 50 + count(*) from executions where job = 'a' and status = 'failed' and started_at < $NOW - 50 * $DAY")"
is "no success older than its 50 newest runs" "$(sql "select count(*) from executions where job = 'a' and status = 'succeeded' and started_at < $NOW - 50 * $DAY")" "0"
is "failures kept 90 days" "$(sql "select count(*) from executions where job = 'a' and status = 'failed' and started_at > $NOW - 90 * $DAY")" "8"
is "failures older than 90 days go" "$(sql "select count(*) from executions where status = 'failed' and started_at < $NOW - 90 * $DAY")" "0"
is "skipped runs go after 7 days" "$(sql "select count(*) from executions where status = 'skipped' and started_at < $NOW - 7 * $DAY")" "0"
is "recent skipped runs stay" "$(sql "select count(*) from executions where status = 'skipped' and job = 'a'")" "7"
is "logs older than 14 days go" "$(sql "select count(*) from logs where at < $NOW - 14 * $DAY")" "0"
is "statistics older than 7 days go" "$(appsql "select count(*) from computed_stats where venue_id = 1 and computed_at < $JOBS_NOW - 7 * 86400")" "0"
is "the last 7 days' stay" "$(appsql "select count(*) from computed_stats where venue_id = 1")" "8"
is "a venue's newest row stays, however old" "$(appsql "select count(*) from computed_stats where venue_id = 2")" "1"
like "and says how many went" "$out" '"computed_stats_deleted":12'
is "logs of deleted runs go" "$(sql "select count(*) from logs where execution_id not in (select id from executions)")" "0"
is "its own run is recorded with counters" "$(sql "select status, items_ok > 0 from executions where job = 'jobs-cleanup' order by id desc limit 1")" "succeeded|1"
is "integrity" "$(sql "pragma integrity_check")" "ok"
is "the application database was created 0600" "$(stat -c %a "$JOBS_APP_DB")" "600"
walsize=$(stat -c %s "$JOBS_DB-wal" 2>/dev/null || echo 0)
if [ "$walsize" -lt 200000 ]; then ok "the WAL was checkpointed"; else not_ok "the WAL was checkpointed" "size $walsize"; fi

code 0 "a second cleanup finds nothing old" jobs-cleanup --json
like "deletes nothing" "$out" '"executions_deleted":0,"skipped_deleted":0'

# Retention from the config.
mkdir -p "$XDG_CONFIG_HOME/jobs"
printf '{"retention": {"executions": "1d", "failures": "1d", "executions_min": 3}}\n' >"$XDG_CONFIG_HOME/jobs/config.json"
code 0 "the config overrides the defaults" jobs-cleanup
is "keeps only the minimum per job" "$(sql "select count(*) from executions where job = 'b'")" "3"
printf '{"retention": {"computed_stats": "1d"}}\n' >"$XDG_CONFIG_HOME/jobs/config.json"
code 0 "retention.computed_stats from the config" jobs-cleanup --json
like "prunes to a day" "$out" '"computed_stats_deleted":6'
is "leaving the newest two of venue 1" "$(appsql "select count(*) from computed_stats where venue_id = 1")" "2"
printf '{"retention": {"executions": "forever"}}\n' >"$XDG_CONFIG_HOME/jobs/config.json"
code 2 "a bad config is a configuration error" jobs-cleanup
like "with one line naming the key" "$err" "executions"
printf '{"retention": {"executions": "30d"}, "bogus": 1}\n' >"$XDG_CONFIG_HOME/jobs/config.json"
code 2 "an unknown key is a configuration error" jobs-cleanup
like "naming it" "$err" "bogus"
printf '{"jobs": {"x": {"timout": "1h"}}}\n' >"$XDG_CONFIG_HOME/jobs/config.json"
code 2 "an unknown per-job key is a configuration error" jobs-cleanup
like "naming it" "$err" "jobs.x.timout"
printf '{ not json\n' >"$XDG_CONFIG_HOME/jobs/config.json"
code 2 "malformed JSON is a configuration error" jobs-cleanup
rm "$XDG_CONFIG_HOME/jobs/config.json"
code 2 "a named config that does not exist" jobs-cleanup --config "$T/nope.json"

# The common options of every job program.
code 0 "--help" jobs-cleanup --help
like "lists the common options" "$out" "--db PATH"
code 0 "--version" jobs-cleanup --version
like "prints it" "$out" "^jobs-cleanup [0-9]"
code 2 "an unknown option is a usage error" jobs-cleanup --bogus
like "with a one-line reason" "$err" "unknown option"
code 2 "an operand is a usage error" jobs-cleanup extra
code 2 "a bad --limit" jobs-cleanup --limit x
code 2 "a bad schedule" jobs-cleanup --schedule '* * *'
code 2 "a --tz without --schedule" jobs-cleanup --tz UTC
code 2 "an unknown zone" jobs-cleanup --schedule '30 3 * * 0' --tz Mars/Olympus
code 0 "a declared schedule" jobs-cleanup --schedule '30 3 * * 0'
is "is recorded" "$(sql "select expr from schedules where job = 'jobs-cleanup'")" "30 3 * * 0"
check "pause the cleanup" jobs-status pause jobs-cleanup
code 0 "a paused job program is skipped" jobs-cleanup
is "recorded as paused" "$(sql "select status, reason from executions where job = 'jobs-cleanup' order by id desc limit 1")" "skipped|paused"
check "resume it" jobs-status resume jobs-cleanup
code 75 "a ledger it cannot open is a temporary failure" env JOBS_DB=/proc/jobs-no/ledger.db jobs-cleanup
like "one line" "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" "^1$"
finish

# jobs-stats: each venue's statistics in its own time zone, into
# computed_stats.  The clock is pinned on 2026-10-04, the day Sydney moves
# its clocks forward (a 23-hour day).
. tests/lib.sh

NOW=1791115200		# 2026-10-04T12:00:00Z = 23:00 AEDT, a Sunday
export JOBS_NOW=$NOW
# Instants that fall on either side of a boundary depending on the zone:
F1=1791039600		# 10-03 15:00Z: Sydney's today (01:00 AEST), UTC's yesterday
F2=1790539200		# 09-27 20:00Z: Sydney's week (Mon 06:00), UTC's last week
F3=1790791200		# 09-30 18:00Z: Sydney's month (10-01 04:00), UTC's September
F4=1788220800		# 09-01: before all
F5=1791111600		# 10-04 11:00Z: today in both
F6=$((NOW + 3600))	# after now: counted nowhere

check "create the databases" jobs-status migrate
appsql "INSERT INTO venues (id, name, timezone, manager_email) VALUES
 (1, 'The Harbour', 'Australia/Sydney', 'm@example.com'),
 (2, 'Greenwich', 'UTC', NULL),
 (3, 'Empty', 'Europe/Paris', NULL);
INSERT INTO feedback (id, venue_id, rating, created_at) VALUES
 (1, 1, 5, $F1), (2, 1, 4, $F2), (3, 1, 3, $F3), (4, 1, 2, $F4), (5, 1, 1, $F5), (6, 1, 5, $F6),
 (11, 2, 5, $F1), (12, 2, 4, $F2), (13, 2, 3, $F3), (14, 2, 2, $F4), (15, 2, 1, $F5), (16, 2, 5, $F6);
INSERT INTO responses (feedback_id, venue_id, body, status, created_at, sent_at) VALUES
 (1, 1, 'r', 'sent', $F1, $F1 + 7200),
 (2, 1, 'r', 'sent', $F2, $F2 + 3600),
 (2, 1, 'r', 'sent', $F2, $F2 + 10800),
 (4, 1, 'r', 'sent', $F4, $F4 + 18000),
 (3, 1, 'r', 'pending_approval', $F3, NULL),
 (5, 1, 'r', 'generated', $F5, NULL),
 (5, 1, 'r', 'failed', $F5, NULL),
 (4, 1, 'r', 'approved', $F4, NULL),
 (4, 1, 'r', 'auto_approved', $F4, NULL),
 (6, 1, 'r', 'cancelled', $F6, NULL);"

stat() {	# stat VENUE KEY: the newest stored value
	appsql "SELECT json_extract(stats, '\$.$2') FROM computed_stats WHERE venue_id = $1 ORDER BY computed_at DESC LIMIT 1"
}

code 0 "--dry-run computes" jobs-stats --dry-run --json
like "and shows what it would store" "$out" '"venues":\{"1":\{"feedback_today":2,'
like "counting" "$out" '"computed":3,"stored":0,"failed":0'
is "but stores nothing" "$(appsql "SELECT count(*) FROM computed_stats")" "0"

code 0 "a run stores a row a venue" jobs-stats --json
is "and is silent apart from --json" "$err" ""
is "three rows, at the run's now" "$(appsql "SELECT group_concat(venue_id || '@' || computed_at, ' ') FROM computed_stats")" "1@$NOW 2@$NOW 3@$NOW"
like "the metrics carry what was stored" "$out" "\"venues\":\\{\"1\":$(appsql "SELECT replace(replace(stats, '{', '\\{'), '.', '\\.') FROM computed_stats WHERE venue_id = 1")"
like "and the counts" "$out" '"computed":3,"stored":3,"failed":0'
is "items_ok counts the venues" "$(sql "SELECT items_ok FROM executions WHERE job = 'jobs-stats' ORDER BY id DESC LIMIT 1")" "3"

# Sydney: today from 10-03 14:00Z (midnight AEST, before the jump), the week
# from Monday 09-28 (09-27 14:00Z), the month from 10-01 (09-30 14:00Z).
is "Sydney: feedback today" "$(stat 1 feedback_today)" "2"
is "Sydney: this week, from Monday" "$(stat 1 feedback_this_week)" "4"
is "Sydney: this month" "$(stat 1 feedback_this_month)" "3"
is "UTC: feedback today" "$(stat 2 feedback_today)" "1"
is "UTC: this week" "$(stat 2 feedback_this_week)" "3"
is "UTC: this month" "$(stat 2 feedback_this_month)" "2"
is "average rating, all time up to now" "$(stat 1 average_rating)" "3"
is "pending: generated, pending_approval, approved, auto_approved" "$(stat 1 pending_responses)" "4"
is "sent today, in Sydney's day" "$(stat 1 sent_today)" "1"
is "response rate: feedback with a sent response / feedback" "$(stat 1 response_rate)" "0.6"
is "response time from each feedback's first sent response, hours" "$(stat 1 avg_response_time_hours)" "2.67"
is "no response: rate 0" "$(stat 2 response_rate)" "0"
is "and no time: null" "$(appsql "SELECT json_type(stats, '\$.avg_response_time_hours') FROM computed_stats WHERE venue_id = 2")" "null"
is "no feedback: counts 0, averages null, never NaN" "$(appsql "SELECT stats FROM computed_stats WHERE venue_id = 3")" '{"feedback_today":0,"feedback_this_week":0,"feedback_this_month":0,"pending_responses":0,"sent_today":0,"average_rating":null,"response_rate":null,"avg_response_time_hours":null}'

code 0 "a rerun at the same instant" jobs-stats
is "adds nothing" "$(appsql "SELECT count(*) FROM computed_stats")" "3"
code 0 "ten minutes later" jobs-stats --now $((NOW + 600))
is "a new row a venue" "$(appsql "SELECT count(*) FROM computed_stats")" "6"
code 0 "--limit" jobs-stats --limit 1 --now $((NOW + 1200)) --json
like "takes the first venues" "$out" '"computed":1,"stored":1'

# The day after Sydney moves its clocks back: 2026-04-05 is 25 hours long.
appsql "INSERT INTO venues (id, name, timezone) VALUES (4, 'Bondi', 'Australia/Sydney');
INSERT INTO feedback (venue_id, rating, created_at) VALUES
 (4, 5, 1775307600),		-- 04-05 00:00 AEDT, the day's first second
 (4, 5, 1775307599),		-- 04-04 23:59:59 AEDT
 (4, 5, 1775323800);		-- 04-05 02:30 AEST, the repeated hour's second pass"
code 0 "on the fall-back day" jobs-stats --now 1775397599	# 04-05 23:59:59 AEST
is "today spans the 25 hours" "$(stat 4 feedback_today)" "2"
is "the week from Monday 03-30" "$(stat 4 feedback_this_week)" "3"

# A venue whose zone is unknown: warned about, counted, never guessed.
appsql "INSERT INTO venues (id, name, timezone) VALUES (5, 'Olympus', 'Mars/Olympus')"
code 1 "a venue with an unknown zone fails the run" jobs-stats --now $((NOW + 1800)) --json
like "naming the venue and the zone" "$err" 'venue 5: unknown time zone "Mars/Olympus"'
like "counted failed" "$out" '"computed":4,"stored":4,"failed":1'
is "the others are stored" "$(appsql "SELECT count(*) FROM computed_stats WHERE computed_at = $NOW + 1800")" "4"
is "not that one" "$(appsql "SELECT count(*) FROM computed_stats WHERE venue_id = 5")" "0"
appsql "DELETE FROM venues WHERE id = 5"

# One pass a venue on indexes: no statement scans a table.
q=$(sed -n '/^static const char stats_sql/,/;$/p' lib/stats.c | sed '1d; s/^ *"//; s/";*$//' | tr '\n' ' ')
plan=$(appsql "EXPLAIN QUERY PLAN $q" 2>&1)
like "the plan reads feedback through its covering index" "$plan" "SEARCH feedback USING COVERING INDEX feedback_venue"
like "and responses through theirs" "$plan" "SEARCH r USING COVERING INDEX responses_venue"
unlike "and scans no table" "$plan" "SCAN (feedback|responses|r|f)( |$)"

code 0 "--help" jobs-stats --help
like "names the job" "$out" "jobs-stats"
is "integrity" "$(appsql "PRAGMA integrity_check")" "ok"
finish

# jobs-report: each venue's previous local day, stored in reports and
# mailed to its manager through the outbox, once.  The reported day is
# 2026-10-04, the day Sydney moves its clocks forward (23 hours).
. tests/lib.sh

NOW=1791162000		# 2026-10-05T01:00:00Z = 12:00 AEDT: yesterday is 10-04 in both zones
export JOBS_NOW=$NOW
A=1791037800		# 10-03 14:30Z: Sydney 10-04 00:30 AEST; UTC 10-03
B=1791115200		# 10-04 12:00Z: Sydney 10-04 23:00 AEDT; UTC 10-04
C=1791120600		# 10-04 13:30Z: Sydney 10-05 00:30; UTC 10-04
D=1791034200		# 10-03 13:30Z: Sydney 10-03 23:30; UTC 10-03

check "create the databases" jobs-status migrate
appsql "INSERT INTO venues (id, name, timezone, manager_email) VALUES
 (1, 'The Harbour', 'Australia/Sydney', 'manager@example.com'),
 (2, 'Greenwich', 'UTC', NULL),
 (3, 'Evil' || char(13, 10) || 'Bcc: victim@example.com', 'UTC', 'boss@example.com');
INSERT INTO feedback (id, venue_id, rating, created_at) VALUES
 (1, 1, 5, $A), (2, 1, 4, $B), (3, 1, 1, $C), (4, 1, 2, $D),
 (11, 2, 5, $A), (12, 2, 4, $B), (13, 2, 1, $C), (14, 2, 2, $D);
INSERT INTO responses (feedback_id, venue_id, body, status, created_at, sent_at) VALUES
 (4, 1, 'r', 'sent', $D, $D + 7200),		-- sent in Sydney's day, 2 h after
 (1, 1, 'r', 'sent', $A, $A + 88200),		-- sent the day after
 (2, 1, 'r', 'pending_approval', $B, NULL);
INSERT INTO alerts (venue_id, feedback_id, level, rule, title, matched, detected_at) VALUES
 (1, 1, 'critical', 'critical_keyword', 't', 'rat, cold', $A + 1),
 (1, 2, 'medium', 'warning_keyword', 't', 'cold', $B + 1),
 (1, 2, 'high', 'repeat_complaint', 't', NULL, $B + 2),
 (1, 4, 'high', 'low_rating', 't', NULL, $D + 1);"

rep() {		# rep VENUE DAY PATH: a value of the stored report
	appsql "SELECT json_extract(report, '\$.$3') FROM reports WHERE venue_id = $1 AND day = '$2'"
}

code 0 "--dry-run computes" jobs-report --dry-run --json
like "says what it would make" "$out" '"made":3,"mailed":2,"not_mailed":1,"skipped":0,"failed":0'
like "and shows the reports" "$out" '"reports":\{"1":\{"venue_id":1,"day":"2026-10-04"'
is "stores nothing" "$(appsql "SELECT count(*) FROM reports")" "0"
is "queues nothing" "$(appsql "SELECT count(*) FROM outbox")" "0"

code 0 "a run reports yesterday for each venue" jobs-report --json
like "counts" "$out" '"made":3,"mailed":2,"not_mailed":1,"skipped":0,"failed":0'
is "silent apart from --json" "$err" ""
is "one report a venue, for its local yesterday" "$(appsql "SELECT group_concat(venue_id || ':' || day, ' ') FROM reports")" "1:2026-10-04 2:2026-10-04 3:2026-10-04"
is "Sydney's day is the 23-hour spring-forward day" "$(rep 1 2026-10-04 start) $(rep 1 2026-10-04 end)" "1791036000 1791118800"
is "UTC's day" "$(rep 2 2026-10-04 start) $(rep 2 2026-10-04 end)" "1791072000 1791158400"
is "Sydney: feedback received in its day" "$(rep 1 2026-10-04 feedback_received)" "2"
is "Sydney: satisfaction, ratings >= 4 in %" "$(rep 1 2026-10-04 satisfaction_pct)" "100"
is "Sydney: average rating" "$(rep 1 2026-10-04 average_rating)" "4.5"
is "UTC: other feedback, other numbers" "$(rep 2 2026-10-04 feedback_received) $(rep 2 2026-10-04 satisfaction_pct)" "2 50"
is "responses sent that day" "$(rep 1 2026-10-04 responses_sent)" "1"
is "their average time, hours" "$(rep 1 2026-10-04 avg_response_time_hours)" "2"
is "none sent: null" "$(appsql "SELECT json_type(report, '\$.avg_response_time_hours') FROM reports WHERE venue_id = 2")" "null"
is "critical alerts that day" "$(rep 1 2026-10-04 critical_alerts)" "1"
is "top rules, most frequent first" "$(rep 1 2026-10-04 top_issues.rules)" '[{"rule":"critical_keyword","count":1},{"rule":"repeat_complaint","count":1},{"rule":"warning_keyword","count":1}]'
is "top keywords, split from the matched lists" "$(rep 1 2026-10-04 top_issues.keywords)" '[{"keyword":"cold","count":2},{"keyword":"rat","count":1}]'

is "the manager's mail" "$(appsql "SELECT channel, destination, subject, idempotency_key, source FROM outbox WHERE idempotency_key = 'report-1-2026-10-04'")" "email|mailto:manager@example.com|Daily report for The Harbour: 2026-10-04|report-1-2026-10-04|jobs-report"
body=$(appsql "SELECT body FROM outbox WHERE idempotency_key = 'report-1-2026-10-04'")
like "a readable body" "$body" "Feedback received +2"
like "with the top issues" "$body" "critical_keyword +1"
like "and keywords" "$body" "cold +2"
is "no manager address: no mail" "$(appsql "SELECT count(*) FROM outbox WHERE idempotency_key LIKE 'report-2-%'")" "0"
like "which the log says" "$(sql "SELECT message FROM logs WHERE message LIKE 'venue 2:%'")" "not mailed"
is "a name with CR/LF makes a one-line subject" "$(appsql "SELECT instr(subject, char(10)) + instr(subject, char(13)) FROM outbox WHERE idempotency_key = 'report-3-2026-10-04'")" "0"

code 0 "a rerun, even later" jobs-report --now $((NOW + 3600)) --json
like "makes nothing" "$out" '"made":0,"mailed":0,"not_mailed":0,"skipped":3,"failed":0'
is "rewrites nothing" "$(appsql "SELECT group_concat(created_at, ' ') FROM reports")" "$NOW $NOW $NOW"
is "mails nothing more" "$(appsql "SELECT count(*) FROM outbox")" "2"

# --day and --venue: a missed day, for one venue.
code 0 "--day --venue" jobs-report --day 2026-10-03 --venue 1 --json
like "makes that one" "$out" '"made":1,"mailed":1'
is "the day before" "$(rep 1 2026-10-03 feedback_received)" "1"
is "mailed with its own key" "$(appsql "SELECT subject FROM outbox WHERE idempotency_key = 'report-1-2026-10-03'")" "Daily report for The Harbour: 2026-10-03"
code 0 "Sydney's 25-hour day" jobs-report --day 2026-04-05 --venue 1
is "spans 25 hours" "$(appsql "SELECT json_extract(report, '\$.end') - json_extract(report, '\$.start') FROM reports WHERE venue_id = 1 AND day = '2026-04-05'")" "90000"
code 1 "a day not over yet" jobs-report --day 2026-10-05 --venue 1
like "is refused for that venue" "$err" "venue 1: 2026-10-05 is not over yet in Australia/Sydney"
is "and not stored" "$(appsql "SELECT count(*) FROM reports WHERE day = '2026-10-05'")" "0"

# Rebuilding a day: its row deleted, made again, not mailed twice.
appsql "DELETE FROM reports WHERE venue_id = 1 AND day = '2026-10-04'"
code 0 "a rebuilt day" jobs-report --day 2026-10-04 --venue 1 --json
like "is stored again" "$out" '"made":1,"mailed":0,"not_mailed":1'
is "and its mail not queued again" "$(appsql "SELECT count(*) FROM outbox WHERE idempotency_key = 'report-1-2026-10-04'")" "1"

# Venues that cannot be reported: the others go on, the run fails.
appsql "INSERT INTO venues (id, name, timezone, manager_email) VALUES
 (4, 'Olympus', 'Mars/Olympus', NULL), (5, 'Typo', 'UTC', 'no address')"
code 1 "an unknown zone and a bad address" jobs-report --day 2026-10-02 --json
like "naming the zone" "$err" 'venue 4: unknown time zone "Mars/Olympus"'
like "and the address" "$err" 'venue 5: .*address'
like "counted" "$out" '"made":3,.*"failed":2'
is "the bad address makes no report" "$(appsql "SELECT count(*) FROM reports WHERE venue_id = 5")" "0"
appsql "UPDATE venues SET manager_email = 'typo@example.com' WHERE id = 5"
code 0 "so that, once fixed, a rerun makes and mails it" jobs-report --day 2026-10-02 --venue 5 --json
like "once" "$out" '"made":1,"mailed":1'

code 2 "a bad --day" jobs-report --day 2026-02-30
like "one line" "$err" "no such day"
code 2 "a --day that is no date" jobs-report --day yesterday
code 2 "a bad --venue" jobs-report --venue x
code 2 "an unknown venue" jobs-report --venue 99
like "says so" "$err" "no venue 99"
code 0 "--help" jobs-report --help
like "shows --day" "$out" "--day YYYY-MM-DD"
is "integrity" "$(appsql "PRAGMA integrity_check")" "ok"
finish

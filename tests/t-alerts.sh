# jobs-alerts: each rule, the watermark (every row examined once, across a
# failed batch, a killed run and overlapping runs), venue settings, reruns,
# the configuration; notifications delivered to a real HTTP receiver on
# 127.0.0.1 and to the mail spool.
. tests/lib.sh

rm -f "$T/port"
python3 tests/receivers/httprecv.py "$T/requests" "$T/port" 200 &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$T"' EXIT
wait_until 5 test -s "$T/port" || not_ok "the receiver started"
HOOK="http://127.0.0.1:$(cat "$T/port")/alerts"
export JOBS_ALLOW_NETWORKS=127.0.0.0/8 JOBS_SPOOL_DIR="$T/spool"
NOW=1798000000
DAY=86400
export JOBS_NOW=$NOW

# m KEY: a metric of the last --json run ($out), e.g. m examined, m critical
m() { printf '%s' "$out" | python3 -c 'import json,sys; o=json.load(sys.stdin)["metrics"]; k=sys.argv[1]; print(o["alerts"][k] if k in o["alerts"] else o[k])' "$1"; }
# alerts_of ID: "rule:level ..." of one feedback row
alerts_of() { appsql "select rule || ':' || level from alerts where feedback_id = $1 order by rule" | tr '\n' ' '; }
fb() {	# fb VENUE CUSTOMER RATING COMMENT [AGE_S]: add a feedback row
	appsql "INSERT INTO feedback (venue_id, customer_id, rating, comment, created_at)
		VALUES ($1, $2, $3, '$4', $NOW - ${5:-3600})"
}
wm() { appsql "select value from job_cursors where job = 'jobs-alerts' and name = 'feedback'"; }

check "create the databases" jobs-status migrate
appsql "INSERT INTO venues (id, name, manager_email, settings) VALUES
 (1, 'Cafe One', 'boss@example.com', '{}'),
 (2, 'No Manager', NULL, '{}'),
 (3, 'Diner', 'diner@example.com', '{\"notify_level\": \"medium\", \"notify_webhook\": \"$HOOK\"}'),
 (4, 'Bad Address', 'not an address', '{}'),
 (5, 'Broken', 'broken@example.com', '{\"notify_level\": \"loud\"}');
INSERT INTO customers (id, name, lifetime_value) VALUES
 (7, 'Repeat', 10), (8, 'Big', 1500), (9, 'Edge', 1000), (10, 'Other', 0);"

fb 1 10 2 'It was fine I guess'				# 1 low_rating high
fb 1 10 3 'Average'					# 2 nothing
fb 1 10 1 'I got FOOD  POISONING, avoid'			# 3 low_rating critical + critical_keyword
fb 1 NULL 5 'Great food but I saw a roach.'		# 4 critical_keyword only
fb 1 NULL 4 'the staff were rude'			# 5 warning_keyword medium
fb 1 NULL 5 'no sickness here, homesick hairy rudeness'	# 6 nothing: inside words
fb 3 NULL 4 'Cold
food again'						# 7 warning_keyword (whitespace run), venue 3
fb 1 7 2 'meh' $((40 * DAY))				# 8 30 days before row 10: outside its window
fb 1 7 2 'bad' $((20 * DAY))				# 9
fb 1 7 1 'worse' $((10 * DAY))				# 10
fb 1 7 2 'still bad' $((5 * DAY))			# 11 third in 30 days: repeat
fb 1 8 2 'not great'					# 12 high value (1500 > 1000)
fb 1 9 2 'not great'					# 13 exactly 1000: not above
fb 2 NULL 1 'I was sick'				# 14 no manager: nobody mailed
fb 4 NULL 1 'hair in soup'				# 15 bad manager address
fb 5 NULL 2 'slow'					# 16 malformed settings: defaults
fb 1 NULL 5 "$(printf 'caf\303\251sick sick\303\251')"	# 17 non-ASCII letters touch: nothing
fb 1 8 5 'lovely, thanks'				# 18 positive high-value: nothing
N=18

code 0 "--dry-run exits 0" jobs-alerts --dry-run --json
is "and examines every row" "$(m examined)" $N
is "counting the alerts it would raise" "$(m critical) $(m high) $(m medium)" "7 10 3"
is "but writes no alert" "$(appsql 'select count(*) from alerts')" 0
is "nor a notification" "$(appsql 'select count(*) from outbox')" 0
is "nor the watermark" "$(wm)" ""

code 0 "a run with warnings still exits 0" jobs-alerts --json
is "examined" "$(m examined)" $N
is "watermark in the summary" "$(m watermark)" $N
is "and in job_cursors" "$(wm)" $N
is "alerts by level, as the dry run said" "$(m critical) $(m high) $(m medium) $(m low) $(m info)" "7 10 3 0 0"
is "a low rating is high" "$(alerts_of 1)" "low_rating:high "
is "a rating above the threshold raises nothing" "$(alerts_of 2)" ""
is "rating 1 with a critical keyword is critical, twice" "$(alerts_of 3)" "critical_keyword:critical low_rating:critical "
is "matched keeps the config's spelling" "$(appsql "select matched from alerts where feedback_id = 3 and rule = 'critical_keyword'")" "food poisoning"
is "the title names it" "$(appsql "select title from alerts where feedback_id = 3 and rule = 'critical_keyword'")" "Critical keyword: food poisoning"
like "the description quotes the comment and the rating" "$(appsql "select description from alerts where feedback_id = 3 and rule = 'critical_keyword'")" '^Rating 1/5, customer 10: "I got FOOD  POISONING, avoid"$'
is "a critical keyword on a good rating" "$(alerts_of 4)" "critical_keyword:critical "
is "a warning keyword is medium" "$(alerts_of 5)" "warning_keyword:medium "
is "keywords inside words do not count" "$(alerts_of 6)" ""
is "a space in a keyword matches a newline" "$(alerts_of 7)" "warning_keyword:medium "
is "the first negative: no repeat" "$(alerts_of 9)" "low_rating:high "
is "exactly 30 days earlier is outside the window" "$(alerts_of 10)" "low_rating:high "
is "the third negative in 30 days is a repeat complaint" "$(alerts_of 11)" "low_rating:high repeat_complaint:high "
like "titled with the count" "$(appsql "select title from alerts where feedback_id = 11 and rule like '%repeat%'")" "3 negative reviews from customer 7 in 30 days"
is "a high-value customer's complaint" "$(alerts_of 12)" "high_value_customer:high low_rating:high "
is "exactly the threshold is not above it" "$(alerts_of 13)" "low_rating:high "
is "non-ASCII letters next to a keyword: inside a word" "$(alerts_of 17)" ""
is "a happy high-value customer raises nothing" "$(alerts_of 18)" ""
is "alerts carry the venue and the run's time" "$(appsql "select venue_id, detected_at, is_read from alerts where feedback_id = 7")" "3|$NOW|0"

keys() { appsql "select idempotency_key from outbox order by idempotency_key" | tr '\n' ' '; }
is "notified: high and up for default venues, medium and up for the diner (mail + hook)" "$(keys)" \
	"alert-1-low_rating-mail alert-10-low_rating-mail alert-11-low_rating-mail alert-11-repeat_complaint-mail alert-12-high_value_customer-mail alert-12-low_rating-mail alert-13-low_rating-mail alert-16-low_rating-mail alert-3-critical_keyword-mail alert-3-low_rating-mail alert-4-critical_keyword-mail alert-7-warning_keyword-hook alert-7-warning_keyword-mail alert-8-low_rating-mail alert-9-low_rating-mail "
is "notified in the summary" "$(m notified)" 15
is "a medium alert is not mailed at the default level" "$(appsql "select count(*) from outbox where idempotency_key like 'alert-5-%'")" 0
is "to the manager" "$(appsql "select destination from outbox where idempotency_key = 'alert-3-critical_keyword-mail'")" "mailto:boss@example.com"
is "subject: level, venue, title" "$(appsql "select subject from outbox where idempotency_key = 'alert-3-critical_keyword-mail'")" "[critical] Cafe One: Critical keyword: food poisoning"
like "a plain-text body with the details" "$(appsql "select body from outbox where idempotency_key = 'alert-3-critical_keyword-mail'")" "Matched: +food poisoning"
is "the webhook goes to the venue's URL" "$(appsql "select channel, destination from outbox where idempotency_key = 'alert-7-warning_keyword-hook'")" "webhook|$HOOK"
is "from source jobs-alerts" "$(appsql "select distinct source from outbox")" "jobs-alerts"
is "no manager email: the alert, no notification" "$(alerts_of 14); $(appsql "select count(*) from outbox where idempotency_key like 'alert-14-%'")" "critical_keyword:critical low_rating:critical ; 0"
is "a bad manager address: the alert, no mail" "$(alerts_of 15); $(appsql "select count(*) from outbox where idempotency_key like 'alert-15-%'")" "critical_keyword:critical low_rating:critical ; 0"
warns() { sql "select group_concat(message, '|') from logs where job = 'jobs-alerts' and level = 'warn'"; }
like "and a warning naming the venue" "$(warns)" "venue 4: manager_email is not a usable address"
is "counted as not notified" "$(m not_notified)" 2
like "malformed settings: a warning" "$(warns)" "venue 5: settings: notify_level"
is "counted" "$(m bad_settings)" 1
is "and the defaults used (high: mailed)" "$(appsql "select count(*) from outbox where idempotency_key = 'alert-16-low_rating-mail'")" 1

code 0 "a rerun" jobs-alerts --json
is "examines nothing" "$(m examined)" 0
is "raises nothing" "$(appsql 'select count(*) from alerts')" 20
is "notifies nobody again" "$(appsql 'select count(*) from outbox')" 15
is "and is silent" "$err" ""

appsql "DELETE FROM job_cursors WHERE job = 'jobs-alerts'"
code 0 "a rerun from scratch (the watermark deleted)" jobs-alerts --json
is "examines everything again" "$(m examined)" $N
is "but no alert twice" "$(m critical) $(m high) $(m medium) $(appsql 'select count(*) from alerts')" "0 0 0 20"
is "and no notification twice" "$(m notified) $(appsql 'select count(*) from outbox')" "0 15"

appsql "DELETE FROM alerts WHERE feedback_id = 1"
appsql "DELETE FROM job_cursors WHERE job = 'jobs-alerts'"
code 0 "an alert deleted and found again" jobs-alerts --json
is "is recorded again" "$(alerts_of 1)" "low_rating:high "
is "but its manager is not mailed twice" "$(m notified) $(appsql "select count(*) from outbox where idempotency_key like 'alert-1-%'")" "0 1"

# Delivery: the webhook reaches the receiver, the mail the spool.
code 0 "jobs-deliver sends the notifications" jobs-deliver
like "the receiver got the alert with its key" "$(cat "$T/requests")" '"Idempotency-Key": "alert-7-warning_keyword-hook"'
is "as JSON" "$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); a=json.loads(r["body"])["alert"]; print(a["rule"], a["level"], a["feedback_id"], a["venue"], a["matched"])' "$T/requests")" \
	"warning_keyword medium 7 Diner cold food"
is "the mails are in the spool" "$(find "$T/spool/mail" -name '*.eml' | wc -l)" 14

# --limit
fb 1 NULL 1 'sick'
fb 1 NULL 1 'sick'
fb 1 NULL 1 'sick'
code 0 "--limit 2" jobs-alerts --limit 2 --json
is "examines two rows" "$(m examined) $(wm)" "2 $((N + 2))"
code 0 "the next run" jobs-alerts --json
is "takes the rest" "$(m examined) $(wm)" "1 $((N + 3))"
N=$((N + 3))

# A batch that fails commits nothing of itself; the batches before stay.
for i in 1 2 3 4 5 6; do fb 1 NULL 1 "vomit $i"; done
appsql "CREATE TRIGGER boom BEFORE INSERT ON alerts WHEN NEW.feedback_id = $((N + 5))
	BEGIN SELECT RAISE(ABORT, 'boom'); END"
code 1 "a batch that fails: exit 1" jobs-alerts --batch 2
like "saying why" "$err" "boom"
is "the batches before it committed, watermark and all" "$(wm)" "$((N + 4))"
is "with their alerts" "$(appsql "select count(*) from alerts where feedback_id > $N")" 8
is "and notifications" "$(appsql "select count(*) from outbox where idempotency_key like 'alert-$((N + 4))-%'")" 2
is "none of the failed batch" "$(appsql "select count(*) from alerts where feedback_id > $((N + 4))")" 0
appsql "DROP TRIGGER boom"
code 0 "the next run picks up where it stopped" jobs-alerts --batch 2 --json
is "examining the rest once" "$(m examined) $(wm)" "2 $((N + 6))"
is "every row alerted exactly once" "$(appsql "select count(*), count(distinct feedback_id) from alerts where feedback_id > $N")" "12|6"
N=$((N + 6))

# A killed run: whatever it committed counts, the rest is examined once.
appsql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
	INSERT INTO feedback (venue_id, customer_id, rating, comment, created_at)
	SELECT 2, NULL, CASE WHEN i % 10 = 0 THEN 1 ELSE 5 END, 'row ' || i, $NOW FROM n"
jobs-alerts --batch 50 & kpid=$!
wait_until 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$JOBS_APP_DB' \"select value from job_cursors where job = 'jobs-alerts'\")\" -gt $N ]" ||
	not_ok "the run got going"
kill -9 $kpid 2>/dev/null
wait $kpid 2>/dev/null
mid=$(wm)
code 0 "after a killed run, the next one" jobs-alerts --json
is "examines exactly the rows the killed one had not committed" "$(m examined)" "$((N + 20000 - mid))"
is "every row examined: the watermark at the end" "$(wm)" "$((N + 20000))"
is "one alert per negative row, none twice" "$(appsql "select count(*), count(distinct feedback_id) from alerts where feedback_id > $N")" "2000|2000"
N=$((N + 20000))

# Overlapping runs: two ledgers (two locks) on one application database.
appsql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
	INSERT INTO feedback (venue_id, customer_id, rating, comment, created_at)
	SELECT 2, NULL, CASE WHEN i % 5 = 0 THEN 2 ELSE 4 END, 'ok', $NOW FROM n"
JOBS_DB=$T/l1/ledger.db jobs-alerts --batch 20 --json >"$T/o1" 2>&1 & p1=$!
JOBS_DB=$T/l2/ledger.db jobs-alerts --batch 20 --json >"$T/o2" 2>&1 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
is "both overlapping runs succeed" "$r1 $r2" "0 0"
e1=$(out=$(cat "$T/o1"); m examined) e2=$(out=$(cat "$T/o2"); m examined)
is "between them they examine each row once" "$((e1 + e2))" 5000
is "one alert per negative row" "$(appsql "select count(*), count(distinct feedback_id) from alerts where feedback_id > $N")" "1000|1000"
N=$((N + 5000))

# The configuration.
cfg() { printf '%s\n' "$1" >"$T/config.json"; }
export JOBS_CONFIG=$T/config.json
fb 1 8 3 'rude and dirty, I felt queasy'
cfg '{"alerts": {"critical_keywords": ["queasy"], "warning_keywords": ["dirty"], "low_rating": 3, "disabled_rules": ["high_value_customer"]}}'
code 0 "a config with its own lists and threshold" jobs-alerts --json
N=$((N + 1))
is "lists replace the defaults, low_rating 3 is negative" "$(alerts_of $N)" "critical_keyword:critical low_rating:high warning_keyword:medium "
is "matched from the configured list" "$(appsql "select matched from alerts where feedback_id = $N and rule = 'warning_keyword'")" "dirty"
fb 1 8 1 'awful'
cfg '{"alerts": {"disabled_rules": ["high_value_customer", "low_rating"], "high_value": 100}}'
code 0 "disabled rules" jobs-alerts
N=$((N + 1))
is "raise nothing" "$(alerts_of $N)" ""
fb 1 9 1 'awful'
cfg '{"alerts": {"high_value": 999.5, "disabled_rules": []}}'
code 0 "a lower high_value" jobs-alerts
N=$((N + 1))
is "makes the customer high-value" "$(alerts_of $N)" "high_value_customer:high low_rating:high "
fb 1 7 1 'again'
cfg '{"alerts": {"repeat_count": 2, "repeat_window": "1h"}}'
code 0 "a shorter repeat window" jobs-alerts
N=$((N + 1))
is "counts only the last hour" "$(alerts_of $N)" "low_rating:high "
before=$(wm)
bad() {	# bad NAME CONFIG PATTERN: exit 2, one line naming the key
	cfg "$2"
	code 2 "$1: exit 2" jobs-alerts
	like "$1: says so" "$err" "$3"
}
bad "an unknown rule" '{"alerts": {"disabled_rules": ["low_ratings"]}}' "unknown rule 'low_ratings'"
bad "a rule name that is not a string" '{"alerts": {"disabled_rules": [1]}}' "alerts.disabled_rules"
bad "low_rating 0" '{"alerts": {"low_rating": 0}}' "alerts.low_rating"
bad "low_rating 6" '{"alerts": {"low_rating": 6}}' "alerts.low_rating"
bad "low_rating a string" '{"alerts": {"low_rating": "2"}}' "alerts.low_rating"
bad "a negative high_value" '{"alerts": {"high_value": -1}}' "alerts.high_value"
bad "high_value a string" '{"alerts": {"high_value": "1000"}}' "alerts.high_value"
bad "repeat_count 0" '{"alerts": {"repeat_count": 0}}' "alerts.repeat_count"
bad "a bad repeat_window" '{"alerts": {"repeat_window": "soon"}}' "alerts.repeat_window"
bad "keywords not a list" '{"alerts": {"critical_keywords": "sick"}}' "alerts.critical_keywords"
bad "a keyword not a string" '{"alerts": {"warning_keywords": ["rude", 3]}}' "alerts.warning_keywords"
bad "an empty keyword" '{"alerts": {"critical_keywords": [""]}}' "alerts.critical_keywords: an empty keyword"
bad "a keyword with a comma" '{"alerts": {"critical_keywords": ["a,b"]}}' "has a comma"
bad "an unknown key" '{"alerts": {"low_ratting": 2}}' "low_ratting"
is "a bad config changes nothing" "$(wm)" "$before"
cfg '{}'
code 2 "a bad --batch" jobs-alerts --batch 0
code 2 "--batch not a number" jobs-alerts --batch many
finish

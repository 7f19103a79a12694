# jobs-respond: replies drafted by a model endpoint (a fake one on
# 127.0.0.1 that this test starts), stored per venue settings, queued to
# the customer through the outbox; the endpoint's faults; rate limit,
# breaker, look-back; the loop closed from the outbox.
. tests/lib.sh

mkdir -p "$T/m"
python3 tests/receivers/modelrecv.py "$T/m" &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$T"' EXIT
wait_until 5 test -s "$T/m/port" || not_ok "the receiver started"
PORT=$(cat "$T/m/port")
URL="http://127.0.0.1:$PORT/v1/chat/completions"
NOW=1798000000		# the pinned clock of the runs below
export JOBS_NOW=$NOW JOBS_CONFIG=$T/config.json

mode() { echo "$*" >"$T/m/mode"; }
conf() { printf '%s\n' "$1" >"$T/config.json"; }
requests() { if [ -f "$T/m/requests" ]; then wc -l <"$T/m/requests" | tr -d ' '; else echo 0; fi; }
# lastreq EXPR: a Python expression over the last request r
lastreq() { tail -n 1 "$T/m/requests" | python3 -c 'import json, sys; r = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# newfb VENUE CUSTOMER COMMENT [AGE]: a feedback row; prints its id
newfb() { appsql "INSERT INTO feedback (venue_id, customer_id, rating, comment, created_at) VALUES ($1, $2, 3, '$3', $NOW - ${4:-10}); SELECT last_insert_rowid();"; }
answered() { appsql "select count(*) from responses where feedback_id = $1"; }
# forget the feedback nobody answered, the breakers and the buckets
reset() {
	appsql "DELETE FROM feedback WHERE id NOT IN (SELECT feedback_id FROM responses)"
	sql "DELETE FROM breakers; DELETE FROM rate_limits"
}
mode ok
conf '{}'

# --- Nothing to ask ---------------------------------------------------
code 0 "with no endpoint configured there is nothing to do" jobs-respond -v
like "and it says so" "$err" "no model endpoint configured"
is "nothing written" "$(appsql "select count(*) from responses")" "0"
# Replies already made are still settled from the outbox, model or not.
appsql "INSERT INTO venues (id, name) VALUES (99, 'Settled');
INSERT INTO feedback (venue_id, rating, comment, created_at) VALUES (99, 3, 'ok', 1);
INSERT INTO responses (feedback_id, venue_id, body, status, created_at, scheduled_send_at)
 VALUES (last_insert_rowid(), 99, 'Thanks', 'auto_approved', 1, 1);
INSERT INTO outbox (channel, destination, body, idempotency_key, source, status, sent_at)
 VALUES ('email', 'mailto:a@example.com', 'Thanks', 'response-' || last_insert_rowid(), 'jobs-respond', 'sent', 7)"
code 0 "with no endpoint, replies sent meanwhile are settled" jobs-respond
is "  sent, with the outbox's time" "$(appsql "select status, sent_at from responses where venue_id = 99")" "sent|7"
appsql "DELETE FROM responses WHERE venue_id = 99; DELETE FROM feedback WHERE venue_id = 99;
DELETE FROM venues WHERE id = 99; DELETE FROM outbox"

# --- Bad configuration: exit 2, nothing asked -------------------------
bad() {
	conf "$1"
	code 2 "bad config: $2" jobs-respond
	like "  one line that names it" "$err" "$3"
}
bad '{"model": {"url": "ftp://127.0.0.1/"}}' "a model URL that is not http(s)" "http:// or https://"
bad "{\"model\": {\"url\": \"http://u:p@127.0.0.1:$PORT/\"}}" "credentials in the URL" "user:password"
bad "{\"model\": {\"url\": \"$URL\", \"timeout\": \"soon\"}}" "a bad model.timeout" "timeout"
bad "{\"model\": {\"url\": \"$URL\", \"max_reply\": 0}}" "max_reply 0" "max_reply"
bad "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"rate_limit\": \"fast\"}}" "a bad rate limit" "rate_limit"
bad "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"max_attempts\": 0}}" "max_attempts 0" "max_attempts"
bad "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"lookback\": \"forever\"}}" "a bad look-back" "lookback"
bad "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"prompt\": \"\"}}" "an empty prompt" "prompt"
bad "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"breaker_failures\": -1}}" "a bad breaker threshold" "breaker_failures"
bad "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"tone\": \"warm\"}}" "an unknown key" "respond.tone"
conf '{}'
JOBS_MODEL_URL=gopher://127.0.0.1/ code 2 "JOBS_MODEL_URL is checked too" jobs-respond
is "no request was made for any of them" "$(requests)" "0"

# --- Venues, customers, feedback -------------------------------------
appsql "INSERT INTO venues (id, name, settings) VALUES
 (1, 'Cafe One', '{\"ai_generation_enabled\": true, \"auto_generate_responses\": true}'),
 (2, 'Bar Two', '{\"ai_generation_enabled\": true, \"auto_generate_responses\": true, \"require_approval\": false, \"auto_send_enabled\": true, \"auto_send_delay_minutes\": 45}'),
 (3, 'Deli Three', '{\"ai_generation_enabled\": true, \"auto_generate_responses\": true, \"require_approval\": false}'),
 (4, 'Diner Four', '{\"ai_generation_enabled\": true}'),
 (5, 'Inn Five', '{}');
INSERT INTO customers (id, email, name) VALUES (1, 'ann@example.com', 'Ann'),
 (2, NULL, NULL), (3, 'bob@example.com', NULL);
INSERT INTO feedback (id, venue_id, customer_id, rating, comment, created_at) VALUES
 (1, 1, 1, 2, 'The soup was cold', $NOW - 3600),
 (2, 2, 1, 5, 'Lovely evening', $NOW - 3000),
 (3, 2, 2, 4, 'Nice', $NOW - 2000),
 (4, 3, 3, 3, 'Fine', $NOW - 1000),
 (5, 4, 1, 1, 'Awful', $NOW - 500),
 (6, 5, 1, 1, 'Meh', $NOW - 400),
 (7, 1, 1, 4, 'Old news', $NOW - 8 * 86400);"
conf "{\"model\": {\"url\": \"$URL\"}}"

code 0 "--dry-run asks nothing" jobs-respond --dry-run --json -v
like "but lists what it would ask" "$err" "would ask about feedback 1 .venue 1"
like "and counts it" "$out" '"would_ask":4'
is "no request" "$(requests)" "0"
is "no response" "$(appsql "select count(*) from responses")" "0"

code 0 "a run drafts the replies" jobs-respond --json
is "silent on stderr" "$err" ""
like "four asked, four generated" "$out" '"asked":4,"requests":4,"generated":4,"pending_approval":1,"auto_approved":3,"queued_to_send":1,"no_email":1,"failed":0'
is "approval where the venue requires it, else auto-approved" "$(appsql "select feedback_id, status from responses order by feedback_id" | tr '\n' ' ')" "1|pending_approval 2|auto_approved 3|auto_approved 4|auto_approved "
is "a venue without auto_generate_responses, or without settings, and feedback older than the look-back: not asked" "$(appsql "select count(*) from responses where feedback_id in (5, 6, 7)")" "0"
is "the reply is the model's content, trimmed" "$(appsql "select substr(body, 1, 29) from responses where feedback_id = 1")" "Thank you for your feedback."
like "the model was told the venue, the rating, the customer and the comment" "$(appsql "select body from responses where feedback_id = 1")" "Venue: Cafe One \| Rating: 2 out of 5 \| Customer: Ann \| Comment: The soup was cold"
unlike "the customer's name only when there is one" "$(appsql "select body from responses where feedback_id = 3")" "Customer:"
R2=$(appsql "select id from responses where feedback_id = 2")
is "auto-send: one email to the customer, keyed response-<id>, after the venue's delay" "$(appsql "select channel, destination, subject, idempotency_key, source, not_before from outbox")" "email|mailto:ann@example.com|Re: your feedback at Bar Two|response-$R2|jobs-respond|$((NOW + 45 * 60))"
is "and the reply knows when" "$(appsql "select scheduled_send_at from responses where id = $R2")" "$((NOW + 45 * 60))"
is "the outbox has the reply as its body" "$(appsql "select count(*) from outbox, responses where responses.id = $R2 and outbox.body = responses.body")" "1"
is "no usable email, or no auto-send: stored, not sent" "$(appsql "select count(*) from responses where scheduled_send_at is null")" "3"
is "the request is OpenAI's chat completions" "$(lastreq 'r["path"], r["body"]["model"], [m["role"] for m in r["body"]["messages"]]')" "('/v1/chat/completions', 'gpt-4o-mini', ['system', 'user'])"
is "no Authorization header without a key" "$(python3 -c 'import json, sys; print(set(json.loads(l)["authorization"] for l in open(sys.argv[1])))' "$T/m/requests")" "{None}"

code 0 "a rerun" jobs-respond --json
like "asks nothing" "$out" '"asked":0'
is "no request" "$(requests)" "4"
is "nothing new" "$(appsql "select count(*) from responses"), $(appsql "select count(*) from outbox")" "4, 1"

# --- Closing the loop ---------------------------------------------------
appsql "UPDATE outbox SET status = 'sent', sent_at = $NOW + 2800 WHERE idempotency_key = 'response-$R2'"
appsql "UPDATE responses SET status = 'approved' WHERE feedback_id IN (1, 3)"
code 0 "the next run closes the loop" jobs-respond --json
like "and counts it" "$out" '"reconciled_sent":1,"reconciled_failed":1,"reconciled_cancelled":0,"approved_queued":1'
is "a reply whose email went out is sent, with the outbox's time" "$(appsql "select status, sent_at from responses where id = $R2")" "sent|$((NOW + 2800))"
R1=$(appsql "select id from responses where feedback_id = 1")
is "a reply a person approved is queued now" "$(appsql "select destination, not_before from outbox where idempotency_key = 'response-$R1'")" "mailto:ann@example.com|$NOW"
is "and scheduled" "$(appsql "select status, scheduled_send_at from responses where id = $R1")" "approved|$NOW"
is "an approved reply without a customer email fails" "$(appsql "select status from responses where feedback_id = 3")" "failed"
appsql "UPDATE outbox SET status = 'dead', last_error = 'SMTP 550' WHERE idempotency_key = 'response-$R1'"
code 0 "a dead email" jobs-respond
is "fails its reply" "$(appsql "select status from responses where id = $R1")" "failed"
code 0 "once settled" jobs-respond --json
like "nothing more to reconcile" "$out" '"reconciled_sent":0,"reconciled_failed":0'

# --- The API key ---------------------------------------------------------
id=$(newfb 1 1 'with a key')
JOBS_MODEL_KEY=sk-canary-7f3a9 code 0 "a key from the environment" jobs-respond
is "goes as Authorization: Bearer" "$(lastreq 'r["authorization"]')" "Bearer sk-canary-7f3a9"
is "and nowhere in the ledger" "$(sqlite3 "$JOBS_DB" .dump | grep -c canary)" "0"
printf 'sk-file-b81c2\n' >"$T/key"
chmod 600 "$T/key"
conf "{\"model\": {\"url\": \"$URL\", \"api_key_file\": \"$T/key\"}}"
id=$(newfb 1 1 'with a key file')
code 0 "a key from a 0600 file" jobs-respond
is "goes as Authorization: Bearer, without its newline" "$(lastreq 'r["authorization"]')" "Bearer sk-file-b81c2"
chmod 644 "$T/key"
id=$(newfb 1 1 'with a loose key file')
n=$(requests)
code 2 "a key file others can read is refused" jobs-respond
like "  saying how to fix it" "$err" "chmod 600"
is "  before anything is asked" "$(requests)" "$n"
JOBS_MODEL=house-model JOBS_MODEL_KEY=sk-env-wins code 0 "the environment's key wins over the file, JOBS_MODEL names the model" jobs-respond
is "  both sent" "$(lastreq 'r["authorization"], r["body"]["model"]')" "('Bearer sk-env-wins', 'house-model')"

# --- The endpoint's faults ----------------------------------------------
conf "{\"model\": {\"url\": \"$URL\", \"timeout\": \"1s\"}, \"respond\": {\"breaker_failures\": 100}}"
# fault MODE NAME PATTERN REQUESTS: one new item fails with MODE
fault() {
	reset
	mode "$1"
	id=$(newfb 1 1 "fault $1")
	n=$(requests)
	code 1 "$2: the run fails" jobs-respond
	like "  naming the feedback and why" "$err" "feedback $id: .*$3"
	is "  requests made" "$(($(requests) - n))" "$4"
	is "  nothing stored" "$(answered "$id")" "0"
}
fault 500 "HTTP 500 three times" "HTTP 500: fake 500 \(3 attempts\)" 3
mode ok
code 0 "the item it left is asked again by the next run" jobs-respond
is "  and answered" "$(answered "$id")" "1"
fault 401 "HTTP 401" "HTTP 401: fake 401" 1
fault garbage "an answer that is not JSON" "not JSON" 1
fault empty "an empty reply" "empty reply" 1
fault nocontent "no choices" "without choices" 1
fault "long 5000" "a reply longer than max_reply" "5000 bytes, more than max_reply .4096." 1
fault huge "a 4 MiB answer" "larger than 1048576 bytes" 1
start=$(ms)
conf "{\"model\": {\"url\": \"$URL\", \"timeout\": \"1s\"}, \"respond\": {\"breaker_failures\": 100, \"max_attempts\": 1}}"
fault hang "an endpoint that does not answer" "[Tt]imeout|timed out" 1
took=$(($(ms) - start))
[ "$took" -lt 8000 ] && ok "  within the timeout (${took} ms)" || not_ok "  within the timeout" "took $took ms"

conf "{\"model\": {\"url\": \"$URL\", \"max_reply\": 6000}}"
mode "long 5000"
reset
id=$(newfb 1 1 'a long answer')
code 0 "a larger max_reply takes the long reply" jobs-respond
is "  whole" "$(appsql "select length(body) from responses where feedback_id = $id")" "5000"

conf "{\"model\": {\"url\": \"$URL\"}}"
mode "fail 2 500"
id=$(newfb 1 1 'flaky')
n=$(requests)
code 0 "two 500s then an answer: retried within the run" jobs-respond
is "  three requests" "$(($(requests) - n))" "3"
is "  one reply" "$(answered "$id")" "1"
mode "fail 1 429"
id=$(newfb 1 1 'busy')
n=$(requests)
start=$(ms)
code 0 "429 with Retry-After: 1, then an answer" jobs-respond
took=$(($(ms) - start))
is "  two requests" "$(($(requests) - n))" "2"
[ "$took" -ge 1000 ] && ok "  Retry-After honoured (${took} ms)" || not_ok "  Retry-After honoured" "took $took ms"
is "  one reply" "$(answered "$id")" "1"

# --- The circuit breaker ------------------------------------------------
conf "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"breaker_failures\": 3, \"max_attempts\": 2, \"breaker_cooldown\": \"5m\"}}"
reset
mode 500
a=$(newfb 1 1 'b1' 30); b=$(newfb 1 1 'b2' 20); c=$(newfb 1 1 'b3' 10)
n=$(requests)
code 1 "an endpoint failing again and again" jobs-respond --json
is "  opens the breaker after 3 failures: 3 requests" "$(($(requests) - n))" "3"
like "  one failed, the other two wait" "$out" '"failed":1,.*"deferred":2'
is "  the breaker is open, keyed on the model's host" "$(sql "select host, state from breakers")" "127.0.0.1:$PORT|open"
n=$(requests)
code 0 "while it is open a run asks nothing, and that is no failure" jobs-respond --json
is "  no request" "$(($(requests) - n))" "0"
like "  everything deferred" "$out" '"asked":0,.*"deferred":3'
mode ok
JOBS_NOW=$((NOW + 600)) code 0 "after the cool-down a probe closes it" jobs-respond --json
like "  and the three are answered" "$out" '"generated":3'
is "  closed" "$(sql "select state from breakers")" "closed"

# --- The rate limit ---------------------------------------------------
conf "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"rate_limit\": \"2/m\"}}"
reset
for i in 1 2 3 4 5; do newfb 1 1 "r$i" $((60 - i)) >/dev/null; done
code 0 "rate limit 2/m with five items" jobs-respond --json
like "  asks two, the rest wait for the next run" "$out" '"asked":2,.*"deferred":3,"rate_limited":3'
code 0 "  a run at the same time" jobs-respond --json
like "  asks none" "$out" '"asked":0,.*"rate_limited":3'
JOBS_NOW=$((NOW + 60)) code 0 "  a minute later" jobs-respond --json
like "  two more" "$out" '"asked":2,.*"rate_limited":1'
JOBS_NOW=$((NOW + 120)) code 0 "  and then" jobs-respond --json
like "  the last" "$out" '"asked":1,.*"deferred":0'

# --- Look-back, --limit, bad venue settings ---------------------------
conf "{\"model\": {\"url\": \"$URL\"}, \"respond\": {\"lookback\": \"30d\"}}"
reset
old=$(newfb 1 1 'eight days old' $((8 * 86400)))
code 0 "a longer look-back" jobs-respond --json
is "  reaches older feedback" "$(answered "$old")" "1"
a=$(newfb 1 1 'l1' 20); b=$(newfb 1 1 'l2' 10)
code 0 "--limit 1" jobs-respond --limit 1 --json
like "  asks one" "$out" '"asked":1,'
is "  the oldest first" "$(answered "$a")$(answered "$b")" "10"
e=$(newfb 1 2 '')
code 0 "feedback without a comment or a customer" jobs-respond
is "  is asked about all the same" "$(lastreq 'r["body"]["messages"][1]["content"]')" "Venue: Cafe One
Rating: 3 out of 5
Comment: (no comment)"
is "  and answered" "$(answered "$e")" "1"
appsql "INSERT INTO venues (id, name, settings) VALUES (6, 'Bad Six', 'not json')"
code 1 "a venue with malformed settings" jobs-respond
like "  is named" "$err" "venue 6"
is "  and the others go on" "$(answered "$b")" "1"
appsql "DELETE FROM venues WHERE id = 6"
code 0 "a run with nothing to do is quiet" jobs-respond
is "  silent" "$out$err" ""
finish

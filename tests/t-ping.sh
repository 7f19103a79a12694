# Pings (healthchecks.io convention) through jobs-ping, to a real HTTP
# receiver on 127.0.0.1 that this test starts and stops.
. tests/lib.sh

start_receiver() {	# start_receiver STATUS: sets $URL and $rpid
	rm -f "$T/port" "$T/requests"
	python3 tests/receivers/httprecv.py "$T/requests" "$T/port" "$1" &
	rpid=$!
	i=0; while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	URL="http://127.0.0.1:$(cat "$T/port")/ping/abc-uuid-SECRET"
}
stop_receiver() { kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; }
paths() { python3 -c 'import json,sys; print(" ".join(json.loads(l)["method"] + ":" + json.loads(l)["path"] for l in open(sys.argv[1])))' "$T/requests" 2>/dev/null; }

start_receiver 200
code 0 "a succeeding job with --ping" jobs-run --ping "$URL" pinged -- true
is "sends start then success" "$(paths)" "GET:/ping/abc-uuid-SECRET/start POST:/ping/abc-uuid-SECRET"
: >"$T/requests"
JOBS_PING_URL=$URL code 4 "a failing job pings /fail" jobs-run pinged -- sh -c 'echo the-traceback-line >&2; exit 4'
is "start then fail" "$(paths)" "GET:/ping/abc-uuid-SECRET/start POST:/ping/abc-uuid-SECRET/fail"
like "with the output tail in the body" "$(tail -n 1 "$T/requests")" "the-traceback-line"
like "and a User-Agent with the version" "$(tail -n 1 "$T/requests")" "jobs/[0-9]"
: >"$T/requests"
JOBS_PING_URL=$URL code 0 "a job program pings too" jobs-cleanup
is "start then success" "$(paths)" "GET:/ping/abc-uuid-SECRET/start POST:/ping/abc-uuid-SECRET"
stop_receiver

is "the ping URL is never in the ledger" "$(sqlite3 "$JOBS_DB" .dump | grep -c SECRET)" "0"
like "the argv record shows it redacted" "$(sql "select argv from executions where job = 'pinged' limit 1")" '"--ping","\[redacted\]"'

start_receiver 500
code 0 "a failing ping never fails the job" jobs-run --ping "$URL" pinged -- true
is "and the job is recorded as succeeded" "$(sql "select status from executions order by id desc limit 1")" "succeeded"
like "the failed ping is logged" "$(sql "select message from logs order by id desc limit 1")" "ping success failed: ping success: HTTP 500"
unlike "without the URL" "$(sql "select message from logs")" "SECRET"
stop_receiver

code 0 "an unreachable ping endpoint never fails the job" jobs-run --ping http://127.0.0.1:9/x pinged -- true

# jobs-ping on its own.
start_receiver 200
JOBS_PING_URL=$URL code 0 "jobs-ping start" jobs-ping start
echo body-text | JOBS_PING_URL=$URL code 0 "jobs-ping log with a body from stdin" jobs-ping log
like "sends it" "$(tail -n 1 "$T/requests")" "body-text"
stop_receiver
code 2 "jobs-ping without JOBS_PING_URL" jobs-ping start
JOBS_PING_URL=$URL code 2 "jobs-ping with an unknown kind" jobs-ping bogus
JOBS_PING_URL=ftp://x/ code 2 "jobs-ping refuses other protocols" jobs-ping start
JOBS_PING_URL=http://127.0.0.1:9/x code 1 "jobs-ping to a dead endpoint is 1" jobs-ping --tries 1 success
like "with one line" "$err" "^jobs-ping: ping success: "
finish

# jobs-status: reading and controlling the ledger.
. tests/lib.sh

code 0 "no ledger yet: the table is empty, exit 0" jobs-status
like "and says why" "$err" "no ledger"
code 0 "no ledger yet: --json" jobs-status --json
is "is an empty list of jobs" "$(printf '%s' "$out" | tr -d ' \n\t')" '{"jobs":[]}'
code 3 "no ledger yet: check is UNKNOWN" jobs-status check
like "with a first line that starts with the state" "$out" "^UNKNOWN: "
code 1 "show of an unknown job" jobs-status show nothing
if [ -e "$JOBS_DB" ]; then not_ok "reads never create the ledger"; else ok "reads never create the ledger"; fi

# History: times pinned so the numbers are known.
for d in 01 02 03 04 05 06 07 08 09 10; do
	jobs-run --now 2026-11-$d'T02:00:00Z' backup -- true
done
jobs-run --now 2026-11-11T02:00:00Z backup -- sh -c 'echo disk full >&2; exit 1' 2>/dev/null
jobs-run --now 2026-11-29T10:00:00Z sync -- true
jobs-run --now 2026-11-29T11:00:00Z sync -- true

export JOBS_NOW=2026-11-29T12:00:00Z
code 0 "the table" jobs-status
like "has a header" "$out" "^JOB +HEALTH +LAST RUN +NEXT +SCHEDULE +OK% +24H +P95"
like "backup is unhealthy: its last run failed" "$out" "backup +unhealthy"
like "sync is healthy" "$out" "sync +healthy"
width=$(printf '%s\n' "$out" | awk '{ if (length($0) > w) w = length($0) } END { print w }')
if [ "$width" -le 80 ]; then ok "the table fits 80 columns"; else not_ok "the table fits 80 columns" "width $width"; fi
unlike "no colour when not a terminal" "$out" "$(printf '\033')"
if command -v script >/dev/null 2>&1 && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	tty_out=$(script -qec "jobs-status" /dev/null 2>&1)
	like "colour on a terminal" "$tty_out" "$(printf '\033')\\["
	tty_out=$(NO_COLOR=1 script -qec "jobs-status" /dev/null 2>&1)
	unlike "never with NO_COLOR" "$tty_out" "$(printf '\033')"
fi

code 0 "--json" jobs-status --json
is "lists the jobs" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(",".join(j["name"] for j in d["jobs"]))')" "backup,sync"
is "with the contract fields" "$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); j=d["jobs"][0]; print(j["name"], j["health"], j["paused"], j["last_run"], j["last_status"], round(j["success_rate"],3), j["runs_24h"], j["p95_ms"] is not None)')" "backup unhealthy False 2026-11-11T02:00:00Z failed 0.909 0 True"
is "runs_24h counts the last day" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][1]["runs_24h"])')" "2"

code 0 "show" jobs-status show backup
like "names the job and its kind" "$out" "job: +backup \(command\)"
like "its health" "$out" "health: +unhealthy"
like "the last failure with its error" "$out" "last failure: 2026-11-11T02:00:00Z: exit status 1"
like "the success rate over the window" "$out" "success: +91% of the last 11 runs, 1 consecutive failures"
like "the runs" "$out" "2026-11-11 02:00\* failed"
like "marks pinned clocks" "$out" "pinned"
code 0 "show --json" jobs-status show backup --json
is "carries the last 20 runs" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))')" "11"

code 0 "runs --json" jobs-status runs backup --json
is "newest first, with the contract fields" "$(printf '%s' "$out" | python3 -c '
import json,sys
r=json.load(sys.stdin)
k=["id","job","status","reason","trigger","exit_code","started_at","finished_at","duration_ms","items_ok","items_failed","error"]
print(all(all(x in e for x in k) for e in r), r[0]["status"], r[0]["started_at"], r[0]["exit_code"], r[-1]["status"], len(r))')" "True failed 2026-11-11T02:00:00Z 1 succeeded 11"
code 0 "runs --status" jobs-status runs --status failed --json
is "filters by status" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "1"
code 0 "runs --since" jobs-status runs --since 1d --json
is "filters by age on the pinned clock" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(sorted(set(e["job"] for e in json.load(sys.stdin))))')" "['sync']"
code 0 "runs --limit" jobs-status runs --limit 3 --json
is "limits" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "3"
code 2 "a bad --status" jobs-status runs --status nope
code 0 "runs of an unknown job is an empty list" jobs-status runs ghost --json
is "empty" "$out" "[]"

code 0 "logs" jobs-status logs backup
like "shows the failed run's error" "$out" "backup#11 error exit status 1"
code 0 "logs --level warn" jobs-status logs --level error --json
is "as JSON lines with level" "$(printf '%s' "$out" | python3 -c 'import json,sys; print({e["level"] for e in json.load(sys.stdin)})')" "{'error'}"
code 0 "logs --run" jobs-status logs --run 11 --json
is "of one run" "$(printf '%s' "$out" | python3 -c 'import json,sys; print({e["run"] for e in json.load(sys.stdin)})')" "{11}"
code 2 "a bad --level" jobs-status logs --level loud

# check: monitoring-plugin codes.
code 2 "check: a failed last run is CRITICAL" jobs-status check
like "first line starts with the state and names the job" "$out" "^CRITICAL: backup unhealthy"
code 0 "check of a healthy job is OK" jobs-status check sync
like "says OK" "$out" "^OK: "
code 3 "check of a job never seen is UNKNOWN" jobs-status check ghost
like "naming it" "$out" "^UNKNOWN: .*ghost"
code 3 "check's own usage errors are UNKNOWN" jobs-status check --bogus
like "UNKNOWN first" "$out" "^UNKNOWN: "
jobs-run --now 2026-11-29T11:30:00Z backup -- true
code 1 "a low rate with a successful last run is a WARNING" jobs-status check backup
like "WARNING first" "$out" "^WARNING: backup degraded"
i=0; while [ $i -lt 5 ]; do jobs-run --now 2026-11-29T11:4$i:00Z flaky -- true; i=$((i+1)); done
jobs-run --now 2026-11-29T11:50:00Z flaky -- false 2>/dev/null
jobs-run --now 2026-11-29T11:51:00Z flaky -- true
code 1 "degraded (a failure among the last 5) is a WARNING" jobs-status check flaky

# pause / resume, also before the first run.
code 0 "pause a job that never ran" jobs-status pause newjob --reason 'not yet'
is "creates its row" "$(sql "select paused, paused_reason from jobs where name = 'newjob'")" "1|not yet"
like "records who" "$(sql "select paused_by from jobs where name = 'newjob'")" "@"
code 0 "shows as paused" jobs-status
like "in the table" "$out" "newjob +paused"
code 0 "a paused job is OK for check" jobs-status check newjob
code 0 "resume" jobs-status resume newjob
is "clears it" "$(sql "select paused, paused_reason is null from jobs where name = 'newjob'")" "0|1"
code 2 "pause of a bad name" jobs-status pause 'bad/name'

# trigger: runs now, recorded as manual.
unset JOBS_NOW
code 0 "trigger re-runs a jobs-run job's last command" jobs-status trigger sync
is "recorded as manual" "$(sql "select trigger, status from executions where job = 'sync' order by id desc limit 1")" "manual|succeeded"
code 1 "trigger passes the status through" jobs-status trigger backup2 2>/dev/null
jobs-run secretjob -- sh -c 'true' PASSWORD=hunter2
code 1 "trigger refuses a command whose secret was not recorded" jobs-status trigger secretjob
like "says why" "$err" "secret"
code 0 "trigger runs a job program" jobs-status trigger jobs-cleanup
is "recorded as manual" "$(sql "select trigger, status from executions where job = 'jobs-cleanup'")" "manual|succeeded"

# migrate.
fresh
code 0 "migrate creates both databases" jobs-status migrate
like "and says their versions" "$out" "ledger .*: schema version 1"
is "ledger tables exist" "$(sql "select count(*) from sqlite_schema where name in ('jobs','executions','logs','schedules')")" "4"
is "application tables exist" "$(appsql "select count(*) from sqlite_schema where name = 'job_cursors'")" "1"
is "auto_vacuum is incremental" "$(sql "pragma auto_vacuum")" "2"
is "WAL" "$(sql "pragma journal_mode")" "wal"
code 0 "migrate again is a no-op" jobs-status migrate

# Control characters from outside never reach the terminal.
jobs-run evil -- sh -c 'printf "\033[2J\302\233x\342\200\256y"; exit 1' 2>/dev/null
for cmd in "show evil" "runs" "logs evil" "check"; do
	# shellcheck disable=SC2086
	jobs-status $cmd >"$T/raw" 2>&1
	if od -An -tx1 "$T/raw" | tr -s ' \n' ' ' | grep -Eq ' 1b | c2 9b | e2 80 ae '; then
		not_ok "no control bytes in '$cmd'"
	else
		ok "no control bytes in '$cmd'"
	fi
done
code 2 "an unknown command" jobs-status frobnicate
finish

# jobs-run: wrapping a command as a recorded job.
. tests/lib.sh

code 0 "a succeeding command exits 0" jobs-run backup -- true
is "and is silent" "$out$err" ""
is "it is recorded as succeeded" "$(sql "select job, status, exit_code from executions")" "backup|succeeded|0"
is "the ledger file is 0600" "$(stat -c %a "$JOBS_DB")" "600"
is "its directory is 0700" "$(stat -c %a "$(dirname "$JOBS_DB")")" "700"

code 3 "the command's own exit status" jobs-run backup -- sh -c 'echo to-out; echo to-err >&2; exit 3'
like "a failure prints a summary" "$err" "^jobs-run: backup failed after .* \(run 2\): exit status 3"
like "and the captured stdout" "$err" "to-out"
like "and the captured stderr" "$err" "to-err"
is "stdout stays empty (cron mails stderr too)" "$out" ""
is "recorded as failed with its output" "$(sql "select status, exit_code, stdout_head, stderr_head, stdout_bytes from executions where id = 2")" "failed|3|to-out
|to-err
|7"

code 0 "NAME -- is optional before a command" jobs-run backup true
code 127 "a command not found is 127" jobs-run backup -- no-such-command-xyz
like "with the reason" "$err" "no-such-command-xyz: No such file or directory"
printf '#!/bin/sh\n' >"$T/noexec"; chmod 0644 "$T/noexec"
code 126 "a command that cannot run is 126" jobs-run backup -- "$T/noexec"
code 137 "a command killed by a signal is 128+N" jobs-run backup -- sh -c 'kill -9 $$'
like "recorded with the signal" "$(sql "select error from executions order by id desc limit 1")" "killed by signal 9"

code 124 "a timeout is 124" jobs-run --timeout 1s slow -- sleep 30
like "timeout summary" "$err" "slow timed out after 1.0s"
is "recorded as timeout" "$(sql "select status, exit_code from executions where job = 'slow'")" "timeout|124"
code 124 "the whole process group is stopped" jobs-run --timeout 1s slow -- sh -c 'sleep 30 & sleep 30; wait'
sleep 0.2
unlike "no sleep of the group is left" "$(ps -eo pgid,args | grep 'sleep 30' | grep -v grep)" "sleep 30"
code 124 "a command that ignores SIGTERM is killed after the grace" jobs-run --timeout 1s stubborn -- sh -c 'trap "" TERM; sleep 8'
like "and says so" "$err" "killed after the grace period"

# Output capture: first 8 KiB and last 32 KiB, with the total.
code 1 "a long output fails" jobs-run chatty -- sh -c 'i=0; while [ $i -lt 5000 ]; do echo "line $i of the output"; i=$((i+1)); done; echo THE-END; exit 1'
is "the head is 8 KiB" "$(sql "select length(stdout_head) from executions where job = 'chatty'")" "8192"
is "the tail is 32 KiB" "$(sql "select length(stdout_tail) from executions where job = 'chatty'")" "32768"
like "the end of the output is never lost" "$(sql "select stdout_tail from executions where job = 'chatty'")" "THE-END"
like "the total byte count" "$(sql "select stdout_bytes from executions where job = 'chatty'")" "^1[0-9]{5}$"
like "the failure output marks what was omitted" "$err" "bytes omitted"

# Overlap and pause.
jobs-run holder -- sh -c "touch $T/started; while [ ! -e $T/go ]; do sleep 0.05; done" &
holder=$!
i=0; while [ ! -e "$T/started" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
code 0 "a second start while one runs exits 0" jobs-run holder -- true
is "quietly" "$out$err" ""
code 75 "--conflict-exit-code for scripts that must know" jobs-run --conflict-exit-code 75 holder -- true
touch "$T/go"; wait $holder
is "the overlaps are recorded as skipped" "$(sql "select count(*) from executions where job = 'holder' and status = 'skipped' and reason = 'overlap'")" "2"
is "the holder succeeded" "$(sql "select status from executions where job = 'holder' and status != 'skipped'")" "succeeded"

check "pause a job" jobs-status pause backup --reason "migrating"
code 0 "a paused job is skipped with exit 0" jobs-run backup -- touch "$T/ran"
if [ -e "$T/ran" ]; then not_ok "the paused command did not run"; else ok "the paused command did not run"; fi
is "recorded as skipped: paused" "$(sql "select status, reason from executions order by id desc limit 1")" "skipped|paused"
code 0 "--force runs a paused job" jobs-run --force backup -- touch "$T/ran"
if [ -e "$T/ran" ]; then ok "the forced command ran"; else not_ok "the forced command ran"; fi
check "resume it" jobs-status resume backup
code 0 "a resumed job runs" jobs-run backup -- true
is "recorded as succeeded" "$(sql "select status from executions order by id desc limit 1")" "succeeded"

# A stop signal: passed on to the command, recorded as cancelled, re-raised.
jobs-run stopme -- sh -c "touch $T/stop-started; trap 'echo got-term >$T/stop-term; exit 0' TERM; while :; do sleep 0.05; done" &
sp=$!
i=0; while [ ! -e "$T/stop-started" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
kill -TERM $sp
wait $sp
is "jobs-run dies of the signal it was sent" "$?" "143"
is "the command was told to stop" "$(cat "$T/stop-term" 2>/dev/null)" "got-term"
is "recorded as cancelled" "$(sql "select status, exit_code from executions where job = 'stopme'")" "cancelled|143"

# Provenance and the pinned clock.
code 0 "a pinned clock" jobs-run --now 2026-01-02T03:04:05Z pinned -- true
is "starts at the pin" "$(sql "select started_at / 1000, clock from executions where job = 'pinned'")" "1767323045|pinned"
JOBS_NOW=1767323045 code 0 "JOBS_NOW pins it too" jobs-run pinned -- true
is "from the environment" "$(sql "select count(*) from executions where job = 'pinned' and clock = 'pinned' and started_at / 1000 = 1767323045")" "2"
is "the provenance" "$(sql "select trigger, pid > 0, uid, length(host) > 0, version is not null from executions where job = 'pinned' limit 1")" "cron|1|$(id -u)|1|1"
JOBS_TRIGGER=manual code 0 "a manual trigger" jobs-run manualjob -- true
is "is recorded" "$(sql "select trigger from executions where job = 'manualjob'")" "manual"
code 0 "a declared schedule" jobs-run --schedule '0 2 * * *' --tz Europe/Paris nightly -- true
is "is stored with the run" "$(sql "select schedule, tz from executions where job = 'nightly'")" "0 2 * * *|Europe/Paris"
is "and in the job's schedules" "$(sql "select expr, tz, source from schedules where job = 'nightly'")" "0 2 * * *|Europe/Paris|declared"

# --json summary.
code 0 "--json prints the summary" jobs-run --json jsonjob -- true
like "as one JSON object" "$out" '^\{"id":[0-9]+,"job":"jsonjob","status":"succeeded","exit_code":0,'

# Usage errors are 125 (env(1), timeout(1)).
code 125 "no NAME" jobs-run
code 125 "no COMMAND" jobs-run name
code 125 "no COMMAND after --" jobs-run name --
code 125 "a bad name" jobs-run 'a/b' -- true
code 125 "a name too long" jobs-run "$(printf '%065d' 0)" -- true
code 125 "a bad option" jobs-run --bogus name -- true
code 125 "a bad timeout" jobs-run --timeout 5x name -- true
code 125 "a bad schedule" jobs-run --schedule '61 * * * *' name -- true
like "says which field" "$err" "minute"
code 125 "a bad --now" jobs-run --now tomorrow name -- true
code 0 "--help" jobs-run --help
like "shows the usage" "$out" "usage: jobs-run"

# Fail open: an unusable ledger still runs the command.
JOBS_DB=$T/not-a-dir/ledger.db
: >"$T/not-a-dir"
export JOBS_DB
code 7 "with an unusable ledger the command still runs" jobs-run failopen -- sh -c 'exit 7'
like "with a warning" "$err" "warning: ledger unavailable"
JOBS_DB=$T/state/jobs/ledger.db
finish

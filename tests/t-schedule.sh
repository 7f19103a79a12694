# Schedules: next fire times, crontab reading and linting, lateness.
. tests/lib.sh

# --- jobs-status next ---
code 0 "next: fire times" jobs-status next --from 2026-01-01T00:00:00Z --count 3 --tz UTC '*/20 * * * *'
is "one per line, ISO-8601 with the offset" "$out" "2026-01-01T00:20:00+00:00
2026-01-01T00:40:00+00:00
2026-01-01T01:00:00+00:00"
code 0 "next: the expression may come as several words" jobs-status next --from 2026-01-01T00:00:00Z --count 1 --tz UTC -- 0 12 '*' '*' mon
is "names and weekday" "$out" "2026-01-05T12:00:00+00:00"
code 0 "next: a half-hour zone" jobs-status next --from 2026-01-01T00:00:00Z --count 1 --tz Asia/Kolkata '0 9 * * *'
is "keeps the zone's offset" "$out" "2026-01-01T09:00:00+05:30"
code 0 "next: spring forward, a fixed time in the skipped hour" jobs-status next --from 2026-03-07T12:00:00Z --count 2 --tz America/New_York '30 2 * * *'
is "runs at the jump, as cron does in its own zone" "$out" "2026-03-08T03:00:00-04:00
2026-03-09T02:30:00-04:00"
code 0 "next: fall back, a fixed time in the repeated hour" jobs-status next --from 2026-10-31T12:00:00Z --count 2 --tz America/New_York '30 1 * * *'
is "runs once, in the first pass" "$out" "2026-11-01T01:30:00-04:00
2026-11-02T01:30:00-05:00"
code 0 "next: fall back, a wildcard job" jobs-status next --from 2026-11-01T04:45:00Z --count 4 --tz America/New_York '*/30 * * * *'
is "runs in both passes" "$out" "2026-11-01T01:00:00-04:00
2026-11-01T01:30:00-04:00
2026-11-01T01:00:00-05:00
2026-11-01T01:30:00-05:00"
code 0 "next --json" jobs-status next --json --from 2026-01-01T00:00:00Z --count 2 --tz UTC '@hourly'
is "is an array" "$(printf '%s' "$out" | tr -d ' \n\t')" '["2026-01-01T01:00:00+00:00","2026-01-01T02:00:00+00:00"]'
code 2 "next: an invalid expression is 2" jobs-status next '0 24 * * *'
is "nothing on stdout" "$out" ""
like "the field and why on stderr" "$err" "hour: 24 is out of range 0-23"
code 2 "next: six fields" jobs-status next '0 0 1 1 1 2027'
code 2 "next: seconds are not cron" jobs-status next '*/5 * * * * *'
code 2 "next: Quartz ? is not cron" jobs-status next '0 0 ? * MON'
code 1 "next: valid but never fires is 1" jobs-status next '0 0 30 2 *'
is "nothing on stdout" "$out" ""
like "says so" "$err" "never fires"
code 2 "next: an unknown zone" jobs-status next --tz Nowhere/Special '* * * * *'
code 2 "next: a bad --from" jobs-status next --from yesterday '* * * * *'

# --- jobs-status crontab: reading and linting ---
cat >"$T/user.crontab" <<'EOT'
# a user crontab, as crontab -l prints it
MAILTO=ops@example.com
PATH = /usr/local/bin:/usr/bin:/bin
15 2 * * * /usr/local/bin/jobs-run --timeout 1h backup -- /usr/local/bin/backup.sh
*/5 * * * * /usr/local/bin/jobs-cleanup --schedule '*/5 * * * *'
0 * * * * /usr/local/bin/jobs-run --schedule '30 * * * *' mismatch -- true
61 * * * * jobs-run broken -- true
0 3 * * * echo "not a jobs program"
0 4 * * * cd /srv && /usr/local/bin/jobs-run nightly-report -- ./report.sh
CRON_TZ=America/New_York
30 2 * * * jobs-run ny -- true
EOT
code 1 "crontab: errors make it exit 1" jobs-status crontab "$T/user.crontab"
like "a line cron ignores, with the field" "$out" "user.crontab:7: error: minute: 61 is out of range 0-59"
like "a schedule that disagrees with --schedule" "$out" "user.crontab:6: warning: mismatch runs at '0 \* \* \* \*' but declares --schedule '30 \* \* \* \*'"
like "each job's next runs" "$out" "backup \(.*user.crontab:4\): 15 2 \* \* \*"
like "jobs-run's job is its NAME" "$out" "nightly-report \("
like "CRON_TZ is honoured where cron honours it" "$out" "ny \(.*\): 30 2 \* \* \* CRON_TZ=America/New_York"
unlike "other programs are not jobs" "$out" "not a jobs program"
code 1 "crontab --json (exit 1: it has errors)" jobs-status crontab --json "$T/user.crontab"
is "lists the jobs found" "$(printf '%s' "$out" | python3 -c 'import json,sys; print(" ".join(e["job"] for e in json.load(sys.stdin)["entries"]))')" "backup jobs-cleanup mismatch nightly-report ny"
is "three next runs each" "$(printf '%s' "$out" | python3 -c 'import json,sys; print({len(e["next"]) for e in json.load(sys.stdin)["entries"]})')" "{3}"
JOBS_CRON_FLAVOR=debian code 1 "on Debian's cron CRON_TZ is ignored" jobs-status crontab "$T/user.crontab"
like "and the linter says so" "$out" "CRON_TZ=America/New_York: this host's cron ignores CRON_TZ"

mkdir -p "$T/cron.d"
printf 'SHELL=/bin/sh\n30 3 * * 0 jobs /usr/local/bin/jobs-cleanup\n0 5 * * * /usr/local/bin/jobs-cleanup\n' >"$T/cron.d/jobs"
code 1 "crontab --system: the user field" jobs-status crontab --system "$T/cron.d/jobs"
like "a cron.d line" "$out" "jobs-cleanup \(.*jobs:2\): 30 3 \* \* 0"
like "a line without a command after the user field" "$out" "jobs:3: error: no command after the user field"
cp "$T/cron.d/jobs" "$T/cron.d/jobs.dpkg-old"
code 1 "a cron.d file name with a dot" jobs-status crontab --system "$T/cron.d/jobs.dpkg-old"
like "is skipped by cron" "$out" "cron skips files whose names"
printf '0 5 * * * jobs-cleanup' >"$T/nonl"
code 1 "a last line without a newline" jobs-status crontab "$T/nonl"
like "is ignored by cron" "$out" "no newline at the end of the file"
unlike "and is not listed as a job" "$out" "jobs-cleanup \("
code 2 "a crontab that cannot be read" jobs-status crontab "$T/missing"

code 0 "crontab --generate" jobs-status crontab --generate --system
like "a line per registered job with its --schedule" "$out" "^30 3 \* \* 0 jobs /.*/jobs-cleanup --schedule '30 3 \* \* 0'$"
printf '%s\n' "$out" >"$T/generated"
code 0 "the generated crontab lints clean" jobs-status crontab --system "$T/generated"
if [ -f crontab/jobs ]; then
	code 0 "the project's crontab lints clean" jobs-status crontab --system crontab/jobs
	like "and runs jobs-cleanup" "$out" "jobs-cleanup"
fi

# --- lateness from a declared schedule ---
jobs-run --now 2026-11-30T01:00:05Z --schedule '0 * * * *' hourly -- true
JOBS_NOW=2026-11-30T01:30:00Z code 0 "on time: healthy" jobs-status --json
is "with its schedule and next run" "$(printf '%s' "$out" | python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]; print(j["health"], j["schedule"], j["next_run"])')" "healthy 0 * * * * 2026-11-30T02:00:00Z"
JOBS_NOW=2026-11-30T02:05:00Z code 0 "within the grace (10% of an hour): not late" jobs-status check hourly
JOBS_NOW=2026-11-30T02:07:00Z code 2 "past the grace: late is CRITICAL" jobs-status check hourly
like "naming the missed slot" "$out" "hourly: late, missed the run due at 2026-11-30T02:00:00Z"
jobs-run --now 2026-11-30T02:07:30Z --schedule '0 * * * *' hourly -- true
JOBS_NOW=2026-11-30T02:30:00Z code 0 "a late run clears it" jobs-status check hourly
jobs-status pause hourly
jobs-run --now 2026-11-30T03:00:02Z --schedule '0 * * * *' hourly -- true
jobs-status resume hourly
jobs-run --now 2026-11-30T05:00:01Z --schedule '0 * * * *' hourly -- sh -c 'sleep 0'
JOBS_NOW=2026-11-30T05:30:00Z code 0 "show" jobs-status show hourly --json
is "missed slots with reasons" "$(printf '%s' "$out" | python3 -c 'import json,sys; s=json.load(sys.stdin)["schedules"][0]; print(" ".join(m["slot"][11:16] + "=" + m["reason"] for m in s["missed"]))')" "04:00=never-invoked 03:00=skipped:paused"
mkdir -p "$XDG_CONFIG_HOME/jobs"
printf '{"jobs": {"hourly": {"grace": "30m"}}}\n' >"$XDG_CONFIG_HOME/jobs/config.json"
JOBS_NOW=2026-11-30T06:20:00Z code 0 "a per-job grace from the config" jobs-status check hourly
JOBS_NOW=2026-11-30T06:31:00Z code 2 "is honoured" jobs-status check hourly
rm "$XDG_CONFIG_HOME/jobs/config.json"

# A declared schedule that later runs stop declaring.
jobs-run --now 2026-11-30T07:00:00Z oncehourly -- true
jobs-run --now 2026-11-30T07:00:01Z --schedule '0 * * * *' decl -- true
jobs-run --now 2026-11-30T08:00:01Z decl -- true
JOBS_NOW=2026-11-30T08:30:00Z code 1 "no longer declared: unscheduled is a WARNING" jobs-status check decl
like "says so" "$out" "decl: unscheduled"
jobs-run --now 2026-11-30T09:00:01Z --schedule '15 * * * *' decl -- true
JOBS_NOW=2026-11-30T09:10:00Z code 0 "a new declaration replaces the old" jobs-status check decl
JOBS_NOW=2026-11-30T10:30:00Z code 2 "and is what lateness follows" jobs-status check decl
like "the new slot" "$out" "missed the run due at 2026-11-30T10:15:00Z"

# --- lateness from a crontab line ---
printf '0 6 * * * /usr/local/bin/jobs-run fromcron -- true\n' >"$T/c1"
JOBS_NOW=2026-11-30T06:30:00Z code 0 "a job found in a crontab, never run" jobs-status --crontab "$T/c1" --json
is "is new until its first slot has passed" "$(printf '%s' "$out" | python3 -c 'import json,sys; print([j["health"] for j in json.load(sys.stdin)["jobs"] if j["name"] == "fromcron"][0])')" "new"
JOBS_NOW=2026-12-01T07:00:00Z code 2 "then late" jobs-status check --crontab "$T/c1" fromcron
JOBS_NOW=2026-12-01T07:00:00Z JOBS_CRONTAB=$T/c1 code 2 "JOBS_CRONTAB works as --crontab" jobs-status check fromcron
: >"$T/c2"
JOBS_NOW=2026-12-01T07:00:00Z code 1 "a crontab line that disappears: unscheduled" jobs-status check --crontab "$T/c2" fromcron

# CRON_TZ lines: a time in the skipped hour never fires, so it is never late for it.
printf 'CRON_TZ=America/New_York\n30 2 * * * /usr/local/bin/jobs-run springny -- true\n' >"$T/c3"
JOBS_NOW=2026-03-07T00:00:00Z jobs-status --crontab "$T/c3" >/dev/null
jobs-run --now 2026-03-07T07:30:01Z springny -- true
JOBS_NOW=2026-03-08T12:00:00Z code 0 "CRON_TZ: the skipped 02:30 is not expected" jobs-status check --crontab "$T/c3" springny
JOBS_NOW=2026-03-09T12:00:00Z code 2 "CRON_TZ: the next day's 02:30 is" jobs-status check --crontab "$T/c3" springny
like "at 02:30 EDT" "$out" "2026-03-09T06:30:00Z"

# --- stuck, flags ---
jobs-run --now 2026-11-30T00:00:00Z --timeout 1h --schedule '0 0 * * *' longrun -- sh -c "touch $T/lr; while [ ! -e $T/lr-go ]; do sleep 0.05; done" &
lr=$!
i=0; while [ ! -e "$T/lr" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
JOBS_NOW=2026-11-30T00:30:00Z code 0 "running within its timeout is fine" jobs-status check longrun
JOBS_NOW=2026-11-30T02:00:00Z code 2 "running past its timeout: stuck is CRITICAL" jobs-status check longrun
like "says stuck" "$out" "longrun: stuck"
touch "$T/lr-go"; wait $lr

for i in 1 2 3; do jobs-run --now 2026-11-29T1$i:00:00Z streak -- false 2>/dev/null; done
code 2 "three failures in a row" jobs-status check streak
like "are flagged with the number" "$out" "3 consecutive failures"
finish

# Out of memory (RELIABILITY.md: "allocation failure injected at each point
# -> no crash, defined exit code, no leak").  tests/failmalloc.so, preloaded,
# makes the Nth allocation after main() starts fail (SQLite's included: it
# is linked statically but allocates through libc's malloc).  For each
# scenario below a normal run is counted first, and traced: which source
# lines of the toolkit are on the stack of each allocation (addr2line).
# Then the program is run once for each chosen N: the first and last
# allocation of up to $JOBS_OOM_CALLS (8) calls from each place in the
# toolkit's code (the first two, the last, a spread), every point up to
# $JOBS_OOM_ALL (0), and $JOBS_OOM_MORE (60) points spread evenly over the
# count; without line numbers, every point up to 300 instead of the calls.
# JOBS_OOM_FULL=1 tries every point (about 20,000: 5 minutes).  Each time:
#   - no crash: the exit status is below 128 (no program here is signalled);
#   - the status is one the man page documents for the program, and out of
#     memory is not called a usage or configuration error (2);
#   - a status that admits no failure is the normal run's, with the normal
#     run's output and record: out of memory never turns into a wrong
#     answer (a monitoring OK, a paused job run, a partial listing, a run
#     recorded without its error); after jobs-run's fail-open warning
#     ("running it unrecorded") the command's status and nothing recorded;
#   - the failure was injected (the program reached allocation N);
#   - no leak: no block allocated before the failure is still held at exit
#     when the normal run had freed it, nor more blocks allocated after it
#     than the normal run held;
#   - the ledger then passes integrity_check, a normal run succeeds, and
#     no run is left `running` after it.
# Every run starts from the same ledger, so point N is the same allocation
# each time.  JOBS_OOM_SAVE=DIR keeps every finding (the output shows the
# first 8 of each kind) and that ledger (DIR/base): to see point N, copy it
# into $JOBS_DB's directory, set JOBS_NOW as below and run the program
# under gdb as tests/failmalloc.c says.  Skipped for sanitizer builds:
# ASan's allocator and an LD_PRELOAD malloc do not mix.
. tests/lib.sh

OOM_CALLS=${JOBS_OOM_CALLS:-8}
OOM_MORE=${JOBS_OOM_MORE:-60}
OOM_ALL=${JOBS_OOM_ALL:-0}

for p in jobs-run jobs-cleanup jobs-status; do
	if grep -Eq '__(asan|tsan|msan)_init' "$JOBS_BIN/$p"; then
		ok "out of memory # skip $p is a sanitizer build: LD_PRELOAD does not mix"
		finish
		exit
	fi
done

# The shim: make test builds it next to the unit tests; else build it here.
so=${JOBS_FAILMALLOC_SO:-}
if [ -z "$so" ] && [ -n "${JOBS_UNIT:-}" ] && [ -f "$JOBS_UNIT/failmalloc.so" ] &&
    ! [ tests/failmalloc.c -nt "$JOBS_UNIT/failmalloc.so" ]; then
	so=$JOBS_UNIT/failmalloc.so
fi
if [ -z "$so" ]; then
	so=$T/failmalloc.so
	if ! ${CC:-cc} -std=c11 -O2 -fPIC -shared -o "$so" tests/failmalloc.c -ldl \
	    >"$T/cc.out" 2>&1; then
		not_ok "the failmalloc shim builds" "$(cat "$T/cc.out")"
		finish
		exit
	fi
fi

# A copy of the programs: a rebuild while the sweeps run would change what
# point N is (and a binary being linked cannot be run).
mkdir -p "$T/bin"
cp "$JOBS_BIN"/jobs-* "$T/bin/"
PATH=$T/bin:$PATH

# The clock pinned, so a read prints the same thing every time: 20 s past
# the hour, so that "2h ago" or "in 59m" are far from turning over while a
# run takes its few milliseconds.
export JOBS_NOW=2026-03-02T10:00:20Z
NOW=1772445620000
DAY=86400000

# sites EXE TRACE: "N SITE..." for each allocation the trace lists, SITE
# being the toolkit's source lines on its stack, innermost first (inlined
# calls expanded); SQLite's, cJSON's and libc's own frames have none.
sites() {
	awk '{ for (i = 2; i <= NF; i++) print $i }' "$2" | sort -u |
	    addr2line -i -a -e "$1" >"$S/lines" || return 1
	awk '
	    FILENAME != "-" && FILENAME == lines {
		if ($0 ~ /^0x/) { a = $0; sub(/^0x0*/, "", a); next }
		if (match($0, /(lib|cmd)\/[^\/]*\.c:[0-9]+/))
			label[a] = label[a] " " substr($0, RSTART, RLENGTH)
		next
	    }
	    {
		k = ""
		for (i = 2; i <= NF; i++) k = k label[$i]
		print $1 k
	    }' lines="$S/lines" "$S/lines" "$2"
}

# pick SITES: the points worth trying.  A run of allocations with the same
# sites is one call into the toolkit's code (a prepare, a step, a
# cJSON_Create...): of each such call its first and last allocation, for
# the first two, the last and a spread of the calls from each place, up to
# $OOM_CALLS of them.
pick() {
	awk -v cap="$OOM_CALLS" '
	    {
		k = $0
		sub(/^[0-9]+ */, "", k)
		if (k != prev) { c = ++calls[k]; first[k, c] = $1 }
		last[k, calls[k]] = $1
		prev = k
	    }
	    END {
		for (k in calls) {
			c = calls[k]
			split("", want)
			want[1] = want[2] = want[c] = 1
			for (j = 1; j <= cap - 3; j++)
				want[int(c * j / (cap - 2)) + 1] = 1
			for (j in want)
				if (j + 0 >= 1 && j + 0 <= c) {
					print first[k, j]
					print last[k, j]
				}
		}
	    }' "$1"
}

# at FILE: FILE's findings ("N=...") with the place of allocation N
at() {
	awk '
	    FILENAME == sites {
		s = $2
		for (i = 3; i <= 4 && i <= NF; i++) s = s " < " $i
		place[$1] = s
		next
	    }
	    {
		n = $0; sub(/^N=/, "", n); sub(/:.*/, "", n)
		if (place[n] != "") sub(/:/, " (" place[n] "):")
		print
	    }' sites="$S/sites" "$S/sites" "$1"
}

# ---------------------------------------------------------------------------
# The shim itself, so a sweep that finds nothing means something.
fresh
LD_PRELOAD=$so JOBS_FAILMALLOC_REPORT=$T/rep jobs-status migrate >/dev/null 2>&1
calls=$(sed -n 's/^calls //p' "$T/rep" 2>/dev/null)
like "shim: counts the allocations of a run, SQLite's included (thousands to create a ledger)" \
    "${calls:-none}" '^[0-9]{4,}$'
LD_PRELOAD=$so JOBS_FAILMALLOC=1000000 JOBS_FAILMALLOC_REPORT=$T/rep \
    jobs-status migrate >"$T/out" 2>&1
is "shim: a point past the last allocation fails nothing" \
    "$?/$(sed -n 2p "$T/rep")" "0/failed 0"
LD_PRELOAD=$so JOBS_FAILMALLOC_REPORT=$T/rep jobs-status runs >/dev/null 2>&1
calls=$(sed -n 's/^calls //p' "$T/rep" 2>/dev/null)
LD_PRELOAD=$so JOBS_FAILMALLOC=$((${calls:-2} / 2)) JOBS_FAILMALLOC_ALL=1 \
    JOBS_FAILMALLOC_REPORT=$T/rep jobs-status runs >"$T/out" 2>"$T/err"
like "shim: with allocations failing from the middle of a read on, SQLite says out of memory" \
    "$? $(cat "$T/err")" '^75 .*out of memory'
LD_PRELOAD=$so JOBS_FAILMALLOC=999999 JOBS_FAILMALLOC_REPORT=$T/rep \
    jobs-run q -- sh -c 'env >"$1"' sh "$T/env" >/dev/null 2>&1
is "shim: a command jobs-run runs gets none of its settings" \
    "$(grep -c JOBS_FAILMALLOC "$T/env")" "0"
like "shim: and does not overwrite the report" "$(sed -n 1p "$T/rep")" '^calls [1-9]'

if command -v addr2line >/dev/null 2>&1; then
	LD_PRELOAD=$so JOBS_FAILMALLOC_TRACE=$T/trace JOBS_FAILMALLOC_REPORT=$T/rep \
	    jobs-status runs >/dev/null 2>&1
	S=$T
	like "shim: the trace puts each allocation at the toolkit's source lines" \
	    "$(sites "$(command -v jobs-status)" "$T/trace" | grep -c 'lib/db\.c:[0-9]')" \
	    '^[1-9]'
	is "shim: and lists every allocation, tracing included in none" \
	    "$(wc -l <"$T/trace" | tr -d ' ')" "$(sed -n 's/^calls //p' "$T/rep")"
else
	ok "shim: the trace puts each allocation at the toolkit's source lines # skip no addr2line"
fi

# ---------------------------------------------------------------------------
# The ledger every run starts from: runs of x (succeeded, failed with
# output), a failing job y, a paused job p, a late scheduled job s, 60 old
# runs of z with logs (cleanup has work), skipped runs, an application
# database.
fresh
jobs-run x -- true >/dev/null 2>&1
jobs-run x -- sh -c 'echo out; echo err >&2; exit 3' >/dev/null 2>&1
jobs-run x -- true >/dev/null 2>&1
jobs-run y -- sh -c 'exit 4' >/dev/null 2>&1
jobs-cleanup >/dev/null 2>&1
jobs-status pause p --reason oom-test >/dev/null 2>&1
# s runs hourly and last ran at 07:00: late now, at 10:00
JOBS_NOW=2026-03-02T07:00:40Z jobs-run --schedule '0 * * * *' s -- true >/dev/null 2>&1
sql "WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 60)
INSERT INTO executions (job, status, started_at, finished_at, duration_ms, exit_code)
SELECT 'z', CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
  $NOW - i * $DAY, $NOW - i * $DAY + 1000, 1000, CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END
FROM d;
WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 10)
INSERT INTO executions (job, status, reason, started_at, finished_at)
SELECT 'z', 'skipped', 'overlap', $NOW - i * $DAY + 5000, $NOW - i * $DAY + 5000 FROM d;
INSERT INTO logs (execution_id, job, at, level, message)
SELECT id, job, started_at, 'info', 'line' FROM executions WHERE job = 'z';
INSERT INTO jobs (name, created_at) VALUES ('z', 0);
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
# The feedback pipeline's data, in the application database.
jobs-status migrate >/dev/null 2>&1
appsql "INSERT INTO venues (id, name, timezone, manager_email, settings) VALUES
 (1, 'Harbour', 'Australia/Sydney', 'm@example.com', '{}'),
 (2, 'Corner', 'UTC', 'c@example.com', '{\"notify_level\": \"medium\"}');
INSERT INTO customers (id, email, name, lifetime_value) VALUES
 (1, 'a@example.com', 'A', 5000), (2, 'b@example.com', 'B', 10);
WITH RECURSIVE d(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM d WHERE i < 40)
INSERT INTO feedback (venue_id, customer_id, rating, comment, created_at)
SELECT 1 + i % 2, 1 + i % 2, 1 + i % 5, CASE i % 4 WHEN 0 THEN 'food poisoning'
 WHEN 1 THEN 'the waiter was rude' ELSE 'fine' END, $NOW / 1000 - i * 3600 FROM d;
INSERT INTO responses (feedback_id, venue_id, body, status, created_at, sent_at)
SELECT id, venue_id, 'thanks', 'sent', created_at, created_at + 600 FROM feedback
 WHERE id % 3 = 0;
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
is "the starting ledger is in place" \
    "$(sql "select count(*), sum(status = 'running') from executions;
	select paused from jobs where name = 'p'")" "76|0
1"
rm -rf "$T/base"
cp -R "$T/state" "$T/base"
# restore() copies over the last run's files without removing any: every
# file a run may write must be in the copy, an empty -wal included (a stale
# one left in place would be replayed onto the restored database).
for f in ledger.db-wal ledger.db-shm app.db-wal app.db-shm; do
	[ -e "$T/base/jobs/$f" ] || : >"$T/base/jobs/$f"
done
if [ -n "${JOBS_OOM_SAVE:-}" ]; then
	mkdir -p "$JOBS_OOM_SAVE"
	rm -rf "$JOBS_OOM_SAVE/base"
	cp -R "$T/base" "$JOBS_OOM_SAVE/base"
fi

# Each sweep works in its own directory S, so sweeps run side by side.
restore() { cp -R "$T/base/." "$S/state/"; }

# among LIST WORD: WORD is one of the words of LIST
among() {
	case " $1 " in *" $2 "*) return 0 ;; esac
	return 1
}

# note FILE TEXT...: add one line to a list of findings
note() { nf=$1; shift; printf '%s\n' "$*" >>"$S/$nf"; }
# first5 FILE: its first 5 lines on one line, for a finding's details
first5() { head -n 5 "$1" | tr '\n' ';'; }
NL='
'

# sweep NAME DOCUMENTED FAILING UNRECORDED STATE COMMAND...
#   DOCUMENTED  the exit statuses the man page gives the program
#   FAILING     those of them that admit a failure
#   UNRECORDED  jobs-run only: the status of the command run unrecorded
#               after a warning (fail open); empty for the others
#   STATE       SQL whose result after a run that admits no failure must
#               be the normal run's (after a fail-open warning, the
#               ledger's before the run: nothing recorded)
# Prints ok/not ok lines, a "# NAME: ..." summary and a "#summary" line.
sweep() {
	name=$1 documented=$2 failing=$3 unrecorded=$4 state=$5
	shift 5
	mkdir -p "$S/state"
	export JOBS_DB=$S/state/jobs/ledger.db JOBS_APP_DB=$S/state/jobs/app.db
	writes=0
	case $1 in jobs-run|jobs-cleanup) writes=1 ;; esac
	restore
	state_before=$(sqlite3 "$JOBS_DB" "pragma integrity_check; $state" 2>&1)
	LD_PRELOAD=$so JOBS_FAILMALLOC_REPORT=$S/base "$@" >"$S/out0" 2>"$S/err0"
	rc0=$? calls=
	state0=$(sqlite3 "$JOBS_DB" "pragma integrity_check; $state" 2>&1)
	[ -f "$S/base" ] && read -r _ calls <"$S/base"
	if ! among "$documented" "$rc0" || among "$failing" "$rc0" || [ -z "$calls" ]; then
		not_ok "$name: a normal run succeeds" "exit $rc0, calls ${calls:-?}" \
		    "stderr: $(first5 "$S/err0")"
		return
	fi
	# Point N must be the same allocation every time; this run also
	# traces where each allocation is made.
	restore
	LD_PRELOAD=$so JOBS_FAILMALLOC_REPORT=$S/base2 JOBS_FAILMALLOC_TRACE=$S/trace \
	    "$@" >/dev/null 2>&1
	again=
	[ -f "$S/base2" ] && read -r _ again <"$S/base2"
	is "$name: a normal run makes the same $calls allocations every time" \
	    "$again" "$calls"
	sites "$(command -v "$1")" "$S/trace" >"$S/sites" 2>/dev/null || : >"$S/sites"

	if [ "${JOBS_OOM_FULL:-0}" = 1 ]; then
		points=$(seq 1 "$calls")
	else
		points=$({
			[ "$OOM_ALL" -gt 0 ] && seq 1 "$OOM_ALL"
			pick "$S/sites"
			awk -v c="$calls" -v m="$OOM_MORE" 'BEGIN {
				for (i = 1; i <= m; i++) print int(i * c / m) }'
			if ! [ -s "$S/sites" ]; then	# no line numbers: more
				seq 1 300
			fi
		} | awk -v c="$calls" '$1 >= 1 && $1 <= c' | sort -n -u)
	fi
	npoints=0
	for n in $points; do
		npoints=$((npoints + 1))
		restore
		LD_PRELOAD=$so JOBS_FAILMALLOC=$n JOBS_FAILMALLOC_REPORT=$S/r$n \
		    "$@" >"$S/out" 2>"$S/err"
		rc=$?
		res=$(sqlite3 "$JOBS_DB" "pragma integrity_check; $state" 2>&1)
		[ "${res%%"$NL"*}" = ok ] || note corrupt "N=$n: $(printf '%s' "$res" |
		    head -n 5 | tr '\n' ';')"
		if [ "$rc" -ge 128 ]; then
			note crash "N=$n: exit $rc (signal $((rc - 128))) $(first5 "$S/err")"
		elif ! among "$documented" "$rc"; then
			note badcode "N=$n: exit $rc: $(first5 "$S/err")"
		elif among "$failing" "$rc"; then
			# 2 says "fix the configuration"; out of memory passes (75)
			if [ "$rc" = 2 ] && [ "$1" != jobs-run ] && [ "${2:-}" != check ]; then
				note usage "N=$n: exit 2: $(first5 "$S/err")"
			fi
		elif [ -n "$unrecorded" ] && grep -q 'running .* unrecorded' "$S/err"; then
			# jobs-run failed open: the command's status, nothing recorded
			if [ "$rc" != "$unrecorded" ]; then
				note wrong "N=$n: exit $rc after running unrecorded, not $unrecorded"
			elif [ "$res" != "$state_before" ]; then
				note wrong "N=$n: said unrecorded, but the ledger changed:" \
				    "$(printf '%s' "$res" | tr '\n' ';')"
			fi
		elif [ "$rc" != "$rc0" ]; then
			note wrong "N=$n: exit $rc, normally $rc0: $(first5 "$S/err")"
		elif [ -s "$S/out0" ] && ! cmp -s "$S/out" "$S/out0"; then
			note wrong "N=$n: exit $rc with other output: $(diff "$S/out0" \
			    "$S/out" | grep '^[<>]' | head -n 4 | tr '\n' ';')"
		elif ! [ -s "$S/out0" ] && [ -s "$S/out" ]; then
			note wrong "N=$n: exit $rc with output: $(first5 "$S/out")"
		elif [ "$res" != "$state0" ] &&
		    ! grep -q 'unable to record the outcome' "$S/err"; then
			note wrong "N=$n: exit $rc, but the ledger holds:" \
			    "$(printf '%s' "${res#*"$NL"}" | tr '\n' ';'), normally" \
			    "$(printf '%s' "${state0#*"$NL"}" | tr '\n' ';')"
		fi
		hit=
		if [ -f "$S/r$n" ]; then
			{ read -r _ _; read -r _ hit; } <"$S/r$n"
		fi
		[ "$hit" = 1 ] || note unreached "N=$n: failed ${hit:-?} allocations"
		"$@" >/dev/null 2>"$S/err"
		rc=$?
		[ "$rc" = "$rc0" ] || note after "N=$n: exit $rc: $(first5 "$S/err")"
		if [ "$writes" = 1 ]; then
			left=$(sqlite3 "$JOBS_DB" "select count(*) from executions where
			    status = 'running'" 2>&1)
			[ "$left" = 0 ] || note running "N=$n: $left"
		fi
	done
	# Leaks, from the live blocks each run reported (sequence numbers):
	# one allocated before N that the normal run freed, or more allocated
	# from N on than the normal run held (libc's caches retry a failed
	# allocation later: that is the same block).
	(cd "$S" && awk '
	    FNR == 1 { f = FILENAME; n = substr(f, 2) + 0 }
	    f == "base" { if (FNR > 3 && $0 ~ /^[0-9]+$/) base[$0] = 1; next }
	    /^overflow/ { bad[n] = bad[n] " (too many to track)" }
	    FNR > 3 && /^[0-9]+$/ {
		if ($0 + 0 < n) { if (!($0 in base)) bad[n] = bad[n] " " $0 }
		else after[n]++
	    }
	    END {
		for (m in after) {
			c = 0; for (s in base) if (s + 0 >= m + 0) c++
			if (after[m] > c) bad[m] = bad[m] " and " (after[m] - c) \
			    " allocated later"
		}
		for (m in bad) print "N=" m ": still held at exit: block" bad[m]
	    }' base $(for n in $points; do [ -f "$S/r$n" ] && echo "r$n"; done) |
	    sort -t= -k2 -n >"$S/leak")

	if [ -n "${JOBS_OOM_SAVE:-}" ]; then	# every finding, not only the first 8
		mkdir -p "$JOBS_OOM_SAVE/${S##*/}"
		printf '%s\n' "$name" >"$JOBS_OOM_SAVE/${S##*/}/name"
		for f in crash badcode usage wrong unreached leak corrupt after running; do
			[ -s "$S/$f" ] && at "$S/$f" >"$JOBS_OOM_SAVE/${S##*/}/$f"
		done
	fi
	ncrash=0
	[ -f "$S/crash" ] && ncrash=$(wc -l <"$S/crash" | tr -d ' ')
	echo "# $name: $npoints of $calls points tried, $ncrash crashes"
	echo "#summary $npoints $ncrash"
	for what in "crash:no crash" \
	    "badcode:only documented exit statuses ($documented)" \
	    "usage:out of memory is a temporary failure, not a usage or configuration error (2)" \
	    "wrong:a status that admits no failure comes with the normal output and record" \
	    "unreached:every point was reached and failed" \
	    "leak:no leak" \
	    "corrupt:the ledger passes integrity_check after each" \
	    "after:a normal run after each succeeds (exit $rc0)" \
	    "running:no run is left running after the next run"; do
		f=$S/${what%%:*}
		if ! [ -s "$f" ]; then
			ok "$name: ${what#*:}"
		else
			set -- "$name: ${what#*:} ($(wc -l <"$f" | tr -d ' ') of $npoints points)"
			while IFS= read -r line; do set -- "$@" "$line"; done <<EOF
$(head -n 8 "$f" | at -)
EOF
			not_ok "$@"
		fi
	done
}

# The sweeps: NAME@DOCUMENTED@FAILING@UNRECORDED@STATE@COMMAND (eval'd).
# jobs-run: the command's status, 0 when skipped, 125 for its own errors,
# 126/127 when the command cannot be run (jobs-run(1); 75 is not one); it
# fails open: a warning, then the command runs unrecorded.
# Job programs: 0, 1 failed, 2 usage or configuration, 75 temporary.
# jobs-cleanup: a checkpoint that does not complete is not a failure (the
# next one finishes it), so its flag is left out of the record compared.
# check: 0 OK, 1 WARNING, 2 CRITICAL (y failed, s late: the normal answer),
# 3 UNKNOWN.
cat >"$T/sweeps" <<'EOF'
jobs-run x -- true@0 125 126 127@125 126 127@0@SELECT id, status, exit_code, error FROM executions WHERE job = 'x' ORDER BY id@jobs-run x -- true
jobs-run x -- sh -c 'echo out; exit 3'@3 0 125 126 127@125 126 127@3@SELECT id, status, exit_code, error, stdout_head, stdout_tail, stdout_bytes FROM executions WHERE job = 'x' ORDER BY id@jobs-run x -- sh -c 'echo out; exit 3'
jobs-run p -- sh -c 'exit 3' (p paused)@0 3 125 126 127@125 126 127@3@SELECT id, status, reason, exit_code FROM executions WHERE job = 'p' ORDER BY id@jobs-run p -- sh -c 'exit 3'
jobs-cleanup@0 1 2 75@1 2 75@@SELECT count(*) FROM executions WHERE job = 'z'; SELECT count(*) FROM logs WHERE job = 'z'; SELECT status, json_remove(metrics, '$.checkpoint_complete') FROM executions WHERE job = 'jobs-cleanup' ORDER BY id DESC LIMIT 1@jobs-cleanup
jobs-status@0 1 2 75@1 2 75@@SELECT 1@jobs-status
jobs-status show x@0 1 2 75@1 2 75@@SELECT 1@jobs-status show x
jobs-status runs --json@0 1 2 75@1 2 75@@SELECT 1@jobs-status runs --json
jobs-status check@0 1 2 3@3@@SELECT 1@jobs-status check
jobs-alerts@0 1 2 75@1 2 75@@SELECT status, metrics FROM executions WHERE job = 'jobs-alerts' ORDER BY id DESC LIMIT 1@jobs-alerts
jobs-stats@0 1 2 75@1 2 75@@SELECT status, metrics FROM executions WHERE job = 'jobs-stats' ORDER BY id DESC LIMIT 1@jobs-stats
jobs-report@0 1 2 75@1 2 75@@SELECT status, metrics FROM executions WHERE job = 'jobs-report' ORDER BY id DESC LIMIT 1@jobs-report
EOF

# Side by side, one worker a processor; each worker takes every Kth sweep.
workers=${JOBS_OOM_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
[ "$workers" -ge 1 ] 2>/dev/null || workers=1
w=0
while [ "$w" -lt "$workers" ]; do
	(
		i=0
		while IFS='@' read -r name documented failing unrecorded state command; do
			i=$((i + 1))
			[ $((i % workers)) = "$w" ] || continue
			S=$T/sweep$i
			mkdir -p "$S"
			eval "sweep \"\$name\" \"\$documented\" \"\$failing\" \
			    \"\$unrecorded\" \"\$state\" $command" >"$S.log" 2>&1
		done <"$T/sweeps"
	) &
	w=$((w + 1))
done
wait
total_points=0 total_crashes=0 i=0
while IFS='@' read -r name _; do
	i=$((i + 1))
	[ -f "$T/sweep$i.log" ] || { not_ok "$name: the sweep ran"; continue; }
	while IFS= read -r line; do
		case $line in
		"#summary "*)
			set -- $line
			total_points=$((total_points + $2))
			total_crashes=$((total_crashes + $3)) ;;
		"ok "*) passed=$((passed + 1)); printf '%s\n' "$line" ;;
		"not ok "*) failed=$((failed + 1)); printf '%s\n' "$line" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$T/sweep$i.log"
done <"$T/sweeps"
echo "# out of memory: $total_points points tried, $total_crashes crashes"
finish

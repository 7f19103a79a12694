# Reads under load (RELIABILITY.md facts 2 and 4; the table's rows "status
# under load" and "WAL bounded"):
#   1. four `jobs-status` loops while four writer loops run jobs: no read
#      fails, p99 latency stays low, counts never go backwards, and every
#      run is recorded;
#   2. `jobs-status` readers whose output is a stalled pipe while 20,000
#      writes go into the ledger: the -wal file stays within 8 MiB.
# Nothing here waits on a clock: writers start on a barrier file, every wait
# is a bounded poll of a condition (the only other sleep is the WAL
# sampler's 20 ms period), and every background process is ended on the way
# out, also when the file is interrupted.
. tests/lib.sh

L=$T/load
mkdir -p "$L"
# Every process started in the background is in $bg; the ones that only end
# when killed (a stalled reader, the sqlite3 writer) are in $kill_first.
bg='' kill_first=''
# alive PID: PID exists and has not exited (a zombie has)
alive() {
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "${st%% *}" != Z ]
}
cleanup() {
	# Stop every loop (each ends after its current command) and open every
	# barrier; kill what would never end; give the loops 5 s, then kill.
	: >"$L/abort" 2>/dev/null
	for f in go stop wal-release; do : >"$L/$f"; done 2>/dev/null
	for p in $kill_first; do kill -9 "$p" 2>/dev/null; done
	tries=100
	while [ $tries -gt 0 ]; do
		left=
		for p in $bg; do alive "$p" && left="$left $p"; done
		[ -z "$left" ] && break
		tries=$((tries - 1))
		sleep 0.05
	done
	for p in $left; do kill -9 "$p" 2>/dev/null; done
	wait
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# until_file FILE: a loop condition, true until FILE exists, or the file is
# being abandoned ($L/abort, or $L gone)
until_file() { [ ! -e "$1" ] && [ ! -e "$L/abort" ] && [ -d "$L" ]; }

# A sanitizer build is about 3x slower: fewer runs, the same assertions,
# except that reads may take 3x as long (as in t-stress.sh's burst).
san=0
grep -q __asan_init "$JOBS_BIN/jobs-status" 2>/dev/null && san=1
if [ $san = 1 ]; then
	runs_per_writer=40 wal_jobs_runs=30 burst_runs=30 p99_limit=750
else
	runs_per_writer=100 wal_jobs_runs=100 burst_runs=45 p99_limit=250
fi

# ---------------------------------------------------------------------------
# 1. Status under load.  Four writer loops run their own three jobs each
# (so no run is skipped as an overlap): a and b succeed, c fails, b fails
# every other time.  Four reader loops run, each read timed:
#   table  jobs-status --json                      runs_24h of every job
#   runs   jobs-status runs --json --limit 5       the newest id
#          jobs-status runs w2a --json --limit N   (every other read) w2a's rows
#   check  jobs-status check                       exit 0, 1 or 2
#   show   jobs-status show w1b --json             runs_24h of w1b
# A reader's count of runs may only grow from one read to its next.
fresh
for w in 1 2 3 4; do
	for j in a b c; do
		jobs-run "w$w$j" -- true >/dev/null 2>&1 || echo "warm-up w$w$j: exit $?" >>"$L/warm.err"
	done
done
is "load: the twelve jobs' first runs" "$(cat "$L/warm.err" 2>/dev/null)" ""

writer() {	# writer W RUNS
	while until_file "$L/go"; do sleep 0.05; done
	i=0
	while [ $i -lt "$2" ] && until_file "$L/abort"; do
		case $((i % 5)) in
		0|1) job=w${1}a cmd=true ;;
		2) job=w${1}b cmd=true ;;
		3) job=w${1}b cmd=false ;;
		*) job=w${1}c cmd=false ;;
		esac
		jobs-run "$job" -- $cmd >>"$L/w$1.out" 2>>"$L/w$1.err"
		echo "$job $cmd $?" >>"$L/w$1.log"
		i=$((i + 1))
	done
}

reader() {	# reader NAME
	d=$L/r-$1 n=0
	mkdir -p "$d"
	while until_file "$L/stop"; do
		n=$((n + 1))
		s=$(now_ms)
		case $1 in
		table) jobs-status --json ;;
		runs)	if [ $((n % 2)) = 1 ]; then
				jobs-status runs --json --limit 5
			else
				jobs-status runs w2a --json --limit 100000
			fi ;;
		check) jobs-status check ;;
		show) jobs-status show w1b --json ;;
		esac >"$d/$n.out" 2>"$d/$n.err"
		rc=$?
		echo "$n $rc $(($(now_ms) - s))" >>"$d/log"
	done
}

readers_read() {	# every reader has finished at least $1 reads
	for r in table runs check show; do
		[ "$(wc -l 2>/dev/null <"$L/r-$r/log" || echo 0)" -ge "$1" ] || return 1
	done
}

wpids=
for w in 1 2 3 4; do
	writer $w $runs_per_writer &
	wpids="$wpids $!"
done
bg="$bg $wpids"
for r in table runs check show; do
	reader $r &
	bg="$bg $!"
done
# The readers are up (two reads each, so both kinds of `runs` read) before
# the writers are let go.
if wait_until 60 readers_read 2; then
	ok "load: the four reader loops are reading"
else
	not_ok "load: the four reader loops are reading"
fi
s=$(now_ms)
: >"$L/go"
for p in $wpids; do wait "$p"; done
took=$(($(now_ms) - s))
# One more read each after the last write, then stop.
for r in table runs check show; do
	wc -l <"$L/r-$r/log" >"$L/r-$r/at-end"
done
readers_past_end() {
	for r in table runs check show; do
		[ "$(wc -l <"$L/r-$r/log")" -gt "$(cat "$L/r-$r/at-end")" ] || return 1
	done
}
wait_until 30 readers_past_end
: >"$L/stop"
wait

made=$(cat "$L"/w?.log | wc -l)
is "load: the writers made $((4 * runs_per_writer)) runs in ${took} ms" "$made" "$((4 * runs_per_writer))"
# Each writer's run exited as its command did.
is "load: every jobs-run exited as its command (true 0, false 1)" \
    "$(cat "$L"/w?.log | awk '($2 == "true" && $3 != 0) || ($2 == "false" && $3 != 1)')" ""
is "load: no busy or locked message from a writer" \
    "$(cat "$L"/w?.out "$L"/w?.err | grep -Ei 'busy|locked' | head -n 5)" ""
ok_runs=$(cat "$L"/w?.log | awk '$2 == "true"' | wc -l)
bad_runs=$(cat "$L"/w?.log | awk '$2 == "false"' | wc -l)
# +12: each job's first run, before the load.
is "load: every run recorded, with its outcome (none skipped, abandoned or running)" \
    "$(sql "select status, count(*) from executions group by status order by status")" \
    "failed|$bad_runs
succeeded|$((ok_runs + 12))"
is "load: every job has as many rows as runs were made of it" \
    "$(sql "select job, count(*) from executions group by job order by job" | tr '\n' ' ')" \
    "$(cat "$L"/w?.log | awk '{n[$1]++} END {for (j in n) print j "|" n[j] + 1}' | sort | tr '\n' ' ')"
is "load: the ledger passes integrity_check" "$(sql 'pragma integrity_check')" "ok"

# Every read, judged at the end (one python3, not one a read).
python3 - "$L" "$p99_limit" >"$L/verdict" 2>&1 <<'EOF'
import json, os, re, sys

top, limit = sys.argv[1], int(sys.argv[2])
fails, backs, lat, reads, grew = [], [], [], {}, {}
for r in ("table", "runs", "check", "show"):
    d = os.path.join(top, "r-" + r)
    last = {}          # count name -> (read, value)
    first = {}
    rows = [l.split() for l in open(os.path.join(d, "log"))]
    reads[r] = len(rows)
    for n, rc, ms in rows:
        n, rc = int(n), int(rc)
        lat.append(int(ms))
        out = open(os.path.join(d, "%d.out" % n), errors="replace").read()
        err = open(os.path.join(d, "%d.err" % n), errors="replace").read()
        why = None
        if rc not in ((0, 1, 2) if r == "check" else (0,)):
            why = "exit %d" % rc
        elif re.search(r"busy|locked", out + err, re.I):
            why = "busy/locked message"
        elif err:
            why = "stderr"
        counts = {}
        if why is None:
            try:
                if r == "table":
                    for j in json.loads(out)["jobs"]:
                        counts["runs_24h of " + j["name"]] = j["runs_24h"]
                elif r == "show":
                    counts["runs_24h of w1b"] = json.loads(out)["runs_24h"]
                elif r == "runs" and n % 2 == 1:
                    a = json.loads(out)
                    if len(a) != 5:
                        why = "%d rows, not 5" % len(a)
                    else:
                        counts["newest run id"] = max(x["id"] for x in a)
                elif r == "runs":
                    counts["rows of w2a"] = len(json.loads(out))
                elif not re.match(r"(OK|WARNING|CRITICAL): ", out):
                    why = "no status line"
            except (ValueError, KeyError, TypeError) as e:
                why = "unreadable output (%s)" % e
        if why:
            fails.append("%s read %d: %s: %s %s" % (r, n, why, out[:120], err[:200]))
        for k, v in counts.items():
            if k in last and v < last[k][1]:
                backs.append("%s: %s was %d at read %d, then %d at read %d"
                             % (r, k, last[k][1], last[k][0], v, n))
            last[k] = (n, v)
            first.setdefault(k, v)
    if r != "check":
        grew[r] = any(last[k][1] > first[k] for k in last)
lat.sort()
p99 = lat[max(0, (99 * len(lat) + 99) // 100 - 1)]
print("reads", " ".join("%s=%d" % kv for kv in reads.items()))
print("fails", len(fails))
for f in fails[:5]:
    print("fail", f.replace("\n", " "))
print("backs", len(backs))
for b in backs[:5]:
    print("back", b)
print("p99", p99)
print("max", lat[-1])
print("grew", " ".join(r for r in grew if not grew[r]) or "all")
EOF
v() { sed -n "s/^$1 //p" "$L/verdict"; }
if [ -z "$(v fails)" ]; then
	not_ok "load: the reads could be judged" "$(cat "$L/verdict")"
else
	is "load: 0 failed reads of $(v reads) (no exit 3 or 75, no busy or locked message, nothing on stderr)" \
	    "$(v fails)$(v fail | sed 's/^/; /')" "0"
	is "load: counts never go backwards (runs_24h, newest id, rows of a job)" \
	    "$(v backs)$(v back | sed 's/^/; /')" "0"
	is "load: each counting reader saw the counts grow (its reads overlapped the writes)" \
	    "$(v grew)" "all"
	p99=$(v p99)
	if [ "${p99:-99999}" -le "$p99_limit" ]; then
		ok "load: read latency p99 ${p99} ms (<= $p99_limit ms; max $(v max) ms)"
	else
		not_ok "load: read latency p99 <= $p99_limit ms" "got ${p99} ms (max $(v max) ms)"
	fi
fi

# ---------------------------------------------------------------------------
# 2. WAL bounded.  Two readers whose output goes into a pipe nobody reads
# (`jobs-status runs --json --limit 100000` and `jobs-status logs`) while
# 20,000 single-row write transactions go into the ledger.
#
# What this pins down: jobs-status reads everything into memory, finishes
# its statements and closes the ledger *before* it prints (cmd/jobs-status.c:
# load_runs then print_json, print_logs).  A reader that printed while its
# statement was still stepping would hold a read transaction for as long as
# its stdout is stalled; no checkpoint could get past its snapshot and the
# WAL would grow with every write (RELIABILITY.md fact 4: 124.6 MB for 20 MB
# of data; here a reader holding its snapshot takes the WAL past 64 MiB).
# The readers are stalled for real: before the first write each has written
# more than a pipe buffer holds (256 KiB were taken from each pipe, then
# reading stopped) and sleeps in write(); they still do after the last write.
#
# The 20,000 writes come from one sqlite3 process (5,000 rows would be too
# few, and 20,000 jobs-run runs too slow) with the ledger connection's
# settings (lib/db.c: synchronous NORMAL, journal_size_limit 8 MiB, a
# checkpoint every 100 pages), while a loop of jobs-run writes through the
# toolkit's own code.  Two writers, not more: several writers at full speed
# starve the checkpoints by themselves, reader or not; that is the second
# load below, with no reader at all.
fresh
W=$L/wal
mkdir -p "$W"
jobs-run walseed -- true >/dev/null 2>&1
now=$(now_ms)
# 4,000 runs and 4,000 log lines from before: a few MB of output each.
sqlite3 "$JOBS_DB" >/dev/null <<EOF2
.timeout 20000
BEGIN IMMEDIATE;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 4000)
INSERT INTO executions (job, status, started_at, finished_at, duration_ms,
    exit_code, pid, host, argv, error)
SELECT 'old' || (i % 10), 'failed', $now - 1000 * i, $now - 1000 * i + 5, 5, 1,
    i, 'host', '["old"]', 'error ' || hex(randomblob(60)) FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 4000)
INSERT INTO logs (execution_id, job, at, level, message)
SELECT i, 'old' || (i % 10), $now - 1000 * i, 'info', 'line ' || hex(randomblob(60))
FROM c;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOF2
pre_runs=$(sql "select count(*) from executions")
pre_max=$(sql "select max(id) from executions")
pre_logs=$(sql "select count(*) from logs")

# blocked_on_write PID: PID sleeps in write() on a pipe
blocked_on_write() {
	case $(cat "/proc/$1/wchan" 2>/dev/null) in *pipe_write*) return 0 ;; esac
	sc=$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)
	case $(uname -m) in
	x86_64) [ "$sc" = 1 ] ;;
	aarch64|riscv64) [ "$sc" = 64 ] ;;
	*) return 1 ;;
	esac
}
# stall NAME COMMAND...: COMMAND writes into a fifo whose reader takes
# 256 KiB, then reads nothing more until $L/wal-release exists.
stall() {
	name=$1; shift
	mkfifo "$W/$name.fifo"
	sh -c 'head -c 262144 >"$1.head"; : >"$1.taken"
	while [ ! -e "$2" ] && [ -d "${2%/*}" ]; do sleep 0.05; done
	exec cat >"$1.rest"' sh "$W/$name" "$L/wal-release" <"$W/$name.fifo" &
	bg="$bg $!"
	"$@" >"$W/$name.fifo" 2>"$W/$name.err" &
	spid=$!
	bg="$bg $spid" kill_first="$kill_first $spid"
}
stall runs jobs-status runs --json --limit 100000
runs_pid=$spid
stall logs jobs-status logs
logs_pid=$spid
stalled() {
	[ -e "$W/runs.taken" ] && [ -e "$W/logs.taken" ] &&
	    blocked_on_write "$runs_pid" && blocked_on_write "$logs_pid"
}
why_not_stalled() {
	for r in runs logs; do
		eval p=\$${r}_pid
		echo "$r: $(wc -c <"$W/$r.head" 2>/dev/null) bytes taken," \
		    "wchan $(cat "/proc/$p/wchan" 2>/dev/null || echo gone)," \
		    "stderr $(cat "$W/$r.err" 2>/dev/null)"
	done
}
if wait_until 30 stalled && [ "$(wc -c <"$W/runs.head")" = 262144 ] &&
    [ "$(wc -c <"$W/logs.head")" = 262144 ]; then
	ok "wal: both readers wrote more than a pipe buffer and are blocked in write()"
else
	not_ok "wal: both readers wrote more than a pipe buffer and are blocked in write()" \
	    "$(why_not_stalled)"
fi

# sample NAME: every 20 ms, the -wal file's size into $W/NAME.sizes until
# $W/NAME.stop exists.  Past 64 MiB (the bound is long broken) it creates
# $W/NAME.runaway and kills the pids in $W/NAME.pids: writers stop early.
sample() {
	while until_file "$W/$1.stop"; do
		size=$(stat -c %s "$JOBS_DB-wal" 2>/dev/null || echo 0)
		echo "$size" >>"$W/$1.sizes"
		if [ "$size" -gt 67108864 ] && [ ! -e "$W/$1.runaway" ]; then
			: >"$W/$1.runaway"
			# shellcheck disable=SC2046 # one pid a word
			kill $(cat "$W/$1.pids" 2>/dev/null) 2>/dev/null
		fi
		sleep 0.02
	done
	{ stat -c %s "$JOBS_DB-wal" 2>/dev/null || echo 0; } >>"$W/$1.sizes"
}
# wal_bounded NAME LABEL: the samples of NAME stayed <= 8 MiB
wal_bounded() {
	n=$(wc -l <"$W/$1.sizes" | tr -d ' ')
	max=$(sort -n "$W/$1.sizes" | tail -n 1)
	if [ ! -e "$W/$1.runaway" ] && [ "$n" -ge 5 ] && [ "$max" -le 8388608 ]; then
		ok "$2 (max $max bytes, $n samples)"
	else
		not_ok "$2" "max $max bytes in $n samples$([ -e "$W/$1.runaway" ] &&
		    echo ': past 64 MiB, the writers were stopped early')" "$3"
	fi
}

{
	echo ".timeout 20000"
	echo "PRAGMA synchronous = NORMAL;"
	echo "PRAGMA journal_size_limit = 8388608;"
	echo "PRAGMA wal_autocheckpoint = 100;"
	awk -v now="$now" 'BEGIN { for (i = 0; i < 20000; i++)
		printf "BEGIN IMMEDIATE; INSERT INTO executions (job, status," \
		    " started_at, finished_at, duration_ms, exit_code, pid, host," \
		    " argv, error) VALUES (\047walsql\047, \047failed\047, %s, %s," \
		    " 5, 1, %d, \047host\047, \047[\"wal\"]\047, \047error \047 ||" \
		    " hex(randomblob(60))); COMMIT;\n", now, now, i }'
} >"$W/writes.sql"
sample stalled &
sampler=$!
bg="$bg $sampler"
wait_until 10 test -s "$W/stalled.sizes"
s=$(now_ms)
sqlite3 -bail -batch "$JOBS_DB" <"$W/writes.sql" >/dev/null 2>"$W/sqlite3.err" &
sqlpid=$!
echo "$sqlpid" >"$W/stalled.pids"
(
	i=0
	while [ $i -lt $wal_jobs_runs ] && until_file "$W/stalled.runaway"; do
		jobs-run "walrun$((i % 3))" -- true >/dev/null 2>>"$W/jobs-run.err" ||
		    echo "run $i: exit $?" >>"$W/jobs-run.err"
		i=$((i + 1))
	done
) &
runloop=$!
bg="$bg $sqlpid $runloop" kill_first="$kill_first $sqlpid"
wait "$sqlpid"
sqlrc=$?
wait "$runloop"
took=$(($(now_ms) - s))
: >"$W/stalled.stop"
wait "$sampler"

is "wal: the 20,000 writes and $wal_jobs_runs jobs-run runs went in without an error ($took ms)" \
    "$sqlrc $(cat "$W/sqlite3.err" "$W/jobs-run.err" 2>/dev/null)" "0 "
is "wal: all of them are recorded" \
    "$(sql "select count(*) from executions")" "$((pre_runs + 20000 + wal_jobs_runs))"
if stalled; then
	ok "wal: both readers were still blocked in write() after the last write"
else
	not_ok "wal: both readers were still blocked in write() after the last write" \
	    "$(why_not_stalled)"
fi
wal_bounded stalled "wal: with both readers stalled, the -wal file stayed <= 8 MiB throughout" \
    "a stalled jobs-status holds a read transaction: checkpoints cannot pass its snapshot"
is "wal: the ledger passes integrity_check" "$(sql 'pragma integrity_check')" "ok"

# Let the readers go: each prints what it had read before the writes.
: >"$L/wal-release"
wait "$runs_pid"
rc_runs=$?
wait "$logs_pid"
rc_logs=$?
is "wal: the released readers exited 0, silently on stderr" \
    "$rc_runs $rc_logs $(cat "$W/runs.err" "$W/logs.err")" "0 0 "
is "wal: jobs-status runs printed the $pre_runs runs it had read, newest $pre_max" \
    "$(cat "$W/runs.head" "$W/runs.rest" 2>/dev/null | python3 -c 'import json, sys
a = json.load(sys.stdin)
print(len(a), max(r["id"] for r in a))' 2>&1 | tail -n 1)" "$pre_runs $pre_max"
is "wal: jobs-status logs printed the $pre_logs lines it had read" \
    "$(cat "$W/logs.head" "$W/logs.rest" 2>/dev/null | wc -l | tr -d ' ')" "$pre_logs"

# The second load: 32 loops of jobs-run writing at once, and no reader at
# all.  Each commit's passive autocheckpoint can only copy frames back; the
# log restarts from its beginning (and journal_size_limit trims the file)
# only when a writer finds no other connection reading.  With many
# processes there always is one, so passive checkpoints alone never bound
# the WAL: the bound must hold here too.
fresh
jobs-run walseed -- true >/dev/null 2>&1
sample burst &
sampler=$!
bg="$bg $sampler"
wait_until 10 test -s "$W/burst.sizes"
: >"$W/burst.pids"
s=$(now_ms)
wpids=
i=0
while [ $i -lt 32 ]; do
	(
		k=0
		while [ $k -lt $burst_runs ] && until_file "$W/burst.runaway"; do
			jobs-run "burst$i" -- true >/dev/null 2>>"$W/burst.err" ||
			    echo "burst$i run $k: exit $?" >>"$W/burst.err"
			echo "burst$i" >>"$W/burst.made"
			k=$((k + 1))
		done
	) &
	wpids="$wpids $!"
	i=$((i + 1))
done
bg="$bg $wpids"
for p in $wpids; do wait "$p"; done
took=$(($(now_ms) - s))
: >"$W/burst.stop"
wait "$sampler"
made=$( (wc -l <"$W/burst.made") 2>/dev/null || echo 0)
is "wal: 32 jobs-run loops made $made runs without an error ($took ms)" \
    "$(cat "$W/burst.err" 2>/dev/null)" ""
is "wal: every one of them is recorded" \
    "$(sql "select count(*) from executions where job like 'burst%'")" "$made"
wal_bounded burst "wal: with 32 jobs-run loops writing at once (no reader), the -wal file stayed <= 8 MiB throughout" \
    "passive autocheckpoints alone do not bound the WAL (lib/db.c): nothing restarts the log while other connections read"
is "wal: the ledger passes integrity_check after the burst" "$(sql 'pragma integrity_check')" "ok"

finish

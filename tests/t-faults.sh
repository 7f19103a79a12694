# Faults and hostile surroundings (RELIABILITY.md: "cron environment",
# "disk full / I/O error / read-only", "permissions", "injection and
# secrets", and DESIGN.md §2-§3 on schemas and exit codes): cron's bare
# environment, read-only and full file systems, wrong, foreign, newer or
# symlinked databases, a locked ledger, secrets and terminal escapes in
# recorded text, and bad usage.
. tests/lib.sh

# Everything this file starts or mounts is undone, even when it stops early.
bg= mounts=
cleanup() {
	exec 3>&- 2>/dev/null
	for b in perm midway filling; do : >"$T/go-$b"; done 2>/dev/null
	for p in $bg; do kill -9 "$p" 2>/dev/null; done
	wait
	for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

# a write transaction cannot start now (someone holds the write lock)
write_locked() { ! sqlite3 "$JOBS_DB" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; }
lines() { printf '%s' "$1" | grep -c ''; }
# a database's checksum, its -wal included (writes land there first)
sum() { cat "$1" "$1-wal" 2>/dev/null | cksum; }
barrier='while [ ! -e "$1" ] && [ -d "${1%/*}" ]; do sleep 0.05; done'

# ---------------------------------------------------------------------------
# Cron's environment: env -i with a minimal PATH, stdin /dev/null, cwd /,
# stdout and stderr closed.
fresh
cronenv() {
	(cd / && exec env -i PATH=/usr/bin:/bin HOME="$HOME" JOBS_DB="$JOBS_DB" \
	    JOBS_APP_DB="$JOBS_APP_DB" "$@")
}
cronenv "$JOBS_BIN/jobs-run" cronjob -- sh -c 'echo to-out; echo to-err >&2' </dev/null >&- 2>&-
is "cron environment, fds 1 and 2 closed: jobs-run exits 0" "$?" "0"
is "cron environment, fds 1 and 2 closed: the run is recorded once, with cwd / and trigger cron" \
    "$(sql "select status, cwd, trigger from executions where job = 'cronjob'")" "succeeded|/|cron"
is "cron environment, fds 1 and 2 closed: the command's output is still captured" \
    "$(sql "select stdout_head || '|' || stderr_head from executions where job = 'cronjob'")" "to-out
|to-err"
cronenv "$JOBS_BIN/jobs-run" cronjob -- sh -c 'exit 3' </dev/null >&- 2>&-
is "cron environment, fds 1 and 2 closed: a failing command's status is returned" "$?" "3"
cronenv "$JOBS_BIN/jobs-cleanup" </dev/null >&- 2>&-
is "cron environment, fds 1 and 2 closed: jobs-cleanup exits 0" "$?" "0"
is "cron environment, fds 1 and 2 closed: jobs-cleanup is recorded" \
    "$(sql "select status, cwd from executions where job = 'jobs-cleanup'")" "succeeded|/"
cronenv "$JOBS_BIN/jobs-run" cronjob -- true <&- >&- 2>&-
is "cron environment, fds 0, 1 and 2 all closed: jobs-run exits 0" "$?" "0"
cronenv "$JOBS_BIN/jobs-run" cronjob -- sh -c 'echo noisy; echo noisy >&2' </dev/null >"$T/cron.out" 2>&1
is "cron environment: jobs-run of a succeeding command exits 0" "$?" "0"
is "cron environment: 0 bytes of output on success (the command's output is not mailed)" \
    "$(wc -c <"$T/cron.out" | tr -d ' ')" "0"
cronenv "$JOBS_BIN/jobs-cleanup" </dev/null >"$T/cron.out" 2>&1
is "cron environment: jobs-cleanup exits 0" "$?" "0"
is "cron environment: jobs-cleanup prints 0 bytes on success" \
    "$(wc -c <"$T/cron.out" | tr -d ' ')" "0"
is "cron environment: every run recorded, none left running" \
    "$(sql "select count(*), sum(status = 'running') from executions")" "6|0"

# ---------------------------------------------------------------------------
# A ledger that cannot be written.
# (1) Its directory is a regular file: works for root too.
fresh
: >"$T/state/plainfile"
code 2 "ledger under a regular file: jobs-cleanup refuses with exit 2" \
    env JOBS_DB="$T/state/plainfile/ledger.db" JOBS_APP_DB="$T/state/plainfile/app.db" jobs-cleanup
is "ledger under a regular file: jobs-cleanup's error is one line" "$(lines "$err")" "1"
like "ledger under a regular file: the error names the path and the reason" "$err" \
    "plainfile.*not a directory"
is "ledger under a regular file: nothing on stdout" "$out" ""
code 3 "ledger under a regular file: jobs-run still runs the command and returns its status (fail open)" \
    env JOBS_DB="$T/state/plainfile/ledger.db" jobs-run ro -- sh -c ": >'$T/ran-ro'; exit 3"
if [ -e "$T/ran-ro" ]; then ok "ledger under a regular file: the command did run"; else
	not_ok "ledger under a regular file: the command did run"; fi
like "ledger under a regular file: jobs-run warns that the run is unrecorded" "$err" \
    "^jobs-run: warning: ledger unavailable, running ro unrecorded"
code 0 "ledger under a regular file: a succeeding command still exits 0" \
    env JOBS_DB="$T/state/plainfile/ledger.db" jobs-run ro -- true

# (2) A read-only file system (as root: a tmpfs remounted read-only).
fresh
D=$T/rofs
mkdir -p "$D"
if mount -t tmpfs -o size=2m tmpfs "$D" 2>/dev/null; then
	mounts="$mounts $D"
	export JOBS_DB=$D/ledger.db JOBS_APP_DB=$D/app.db
	jobs-cleanup && jobs-run rofs -- true
	before=$(sum "$JOBS_DB")
	if mount -o remount,ro "$D" 2>/dev/null; then
		code 75 "read-only file system: jobs-cleanup exits 75 (temporary)" jobs-cleanup
		is "read-only file system: jobs-cleanup's error is one line" "$(lines "$err")" "1"
		like "read-only file system: the error names the ledger or its lock" "$err" \
		    "^jobs-cleanup: .*$D/(ledger\.db|locks/)"
		code 4 "read-only file system: jobs-run runs the command and returns its status" \
		    jobs-run rofs -- sh -c ": >'$T/ran-rofs'; exit 4"
		if [ -e "$T/ran-rofs" ]; then ok "read-only file system: the command did run"; else
			not_ok "read-only file system: the command did run"; fi
		like "read-only file system: jobs-run warns" "$err" "^jobs-run: warning: "
		code 0 "read-only file system: a succeeding command exits 0" jobs-run rofs -- true
		jobs-status runs >"$T/st.out" 2>"$T/st.err"
		rc=$?
		if [ $rc -eq 0 ] || { [ $rc -eq 75 ] && [ "$(grep -c '' <"$T/st.err")" = 1 ]; }; then
			ok "read-only file system: jobs-status runs reads, or fails with one line and 75 (exit $rc)"
		else
			not_ok "read-only file system: jobs-status runs reads, or fails with one line and 75" \
			    "exit $rc" "$(cat "$T/st.err")"
		fi
		mount -o remount,rw "$D"
		is "read-only file system: the ledger is untouched" "$(sum "$JOBS_DB")" "$before"
		is "read-only file system: integrity_check ok" "$(sql 'pragma integrity_check')" "ok"
		code 0 "read-only file system: once writable again the next run succeeds" jobs-run rofs -- true
		is "read-only file system: only the writable runs were recorded" \
		    "$(sql "select status from executions where job = 'rofs' order by id")" "succeeded
succeeded"
	else
		ok "read-only file system # skip cannot remount read-only"
	fi
	umount "$D"
	mounts=
	export JOBS_DB=$T/state/jobs/ledger.db JOBS_APP_DB=$T/state/jobs/app.db
else
	ok "read-only file system # skip cannot mount a tmpfs (not root?)"
fi

# (3) A read-only ledger directory and files (chmod -R a-w: the directory
# alone would not do, since the -wal and -shm files persist and stay
# writable): root ignores modes, so run as nobody when we are root.
fresh
D=$T/state/ro
mkdir -p "$D/ledger"
as=
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null && chmod 0711 "$T" "$T/state" &&
	    chown -R 65534:65534 "$D"; then
		as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	else
		as=skip
	fi
fi
if [ "$as" = skip ]; then
	ok "read-only ledger directory # skip no way to drop root"
else
	roenv() {
		$as env HOME="$D" JOBS_DB="$D/ledger/ledger.db" JOBS_APP_DB="$D/ledger/app.db" "$@"
	}
	code 0 "read-only ledger directory: a first run while writable" roenv jobs-cleanup
	chmod -R a-w "$D/ledger"
	before=$(sum "$D/ledger/ledger.db")
	code 75 "read-only ledger directory: jobs-cleanup exits 75" roenv jobs-cleanup
	is "read-only ledger directory: jobs-cleanup's error is one line" "$(lines "$err")" "1"
	like "read-only ledger directory: the error says why" "$err" "read-?only|permission|denied"
	code 5 "read-only ledger directory: jobs-run runs the command and returns its status" \
	    roenv jobs-run rodir -- sh -c 'exit 5'
	like "read-only ledger directory: jobs-run warns" "$err" "^jobs-run: warning: "
	chmod -R u+w "$D/ledger"
	is "read-only ledger directory: the ledger is untouched" "$(sum "$D/ledger/ledger.db")" "$before"
	code 0 "read-only ledger directory: once writable the next run succeeds" roenv jobs-run rodir -- true
	is "read-only ledger directory: integrity_check ok" \
	    "$(sqlite3 "$D/ledger/ledger.db" 'pragma integrity_check')" "ok"
fi
chmod 0700 "$T" "$T/state" 2>/dev/null

# (4) The ledger opens but refuses the run's rows (a fault injected with
# triggers: the same path as an I/O error or a full disk after the lock is
# taken, without needing root).
fresh
jobs-run refuse -- true
sqlite3 "$JOBS_DB" "CREATE TRIGGER no_start BEFORE INSERT ON executions
    BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
code 4 "a ledger that refuses the start row: jobs-run still runs the command and returns its status" \
    jobs-run refuse -- sh -c ": >'$T/ran-refuse'; exit 4"
if [ -e "$T/ran-refuse" ]; then ok "a ledger that refuses the start row: the command did run"; else
	not_ok "a ledger that refuses the start row: the command did run" "$err"; fi
like "a ledger that refuses the start row: jobs-run warns" "$err" "warning: .*injected fault"
code 0 "a ledger that refuses the start row: jobs-run of a succeeding command exits 0" \
    jobs-run refuse -- sh -c ": >'$T/ran-refuse2'"
if [ -e "$T/ran-refuse2" ]; then ok "a ledger that refuses the start row: that command did run"; else
	not_ok "a ledger that refuses the start row: that command did run" "$err"; fi
sqlite3 "$JOBS_DB" "DROP TRIGGER no_start; CREATE TRIGGER no_finish BEFORE UPDATE ON executions
    WHEN new.status != 'running' BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
code 5 "a ledger that refuses the outcome: jobs-run returns the command's status" \
    jobs-run refuse -- sh -c 'exit 5'
like "a ledger that refuses the outcome: jobs-run warns that it is unrecorded" "$err" \
    "warning: unable to record the outcome"
sqlite3 "$JOBS_DB" "DROP TRIGGER no_finish"
code 0 "a ledger that refuses the outcome: once repaired the next run succeeds" jobs-run refuse -- true
is "a ledger that refuses the outcome: the unrecorded run ends up abandoned, not running" \
    "$(sql "select status from executions where job = 'refuse' order by id")" "succeeded
abandoned
succeeded"

# ---------------------------------------------------------------------------
# Permissions: a missing directory is created 0700, files 0600, whatever
# the umask says.
fresh
D=$T/state/new/deeper
(
	umask 022
	export JOBS_DB=$D/ledger.db JOBS_APP_DB=$D/app.db
	jobs-cleanup
	jobs-run perm -- sh -c "$barrier" sh "$T/go-perm" &
	echo $! >"$T/perm.pid"
	wait_until 30 test -e "$D/locks/perm"
	# while the run holds the ledger open its -wal and -shm exist too
	wait_until 30 test -e "$D/ledger.db-wal"
	ls -la "$D" "$D/locks" >"$T/perm.ls"
	find "$T/state/new" -type d ! -perm 0700 >"$T/perm.dirs"
	find "$T/state/new" -type f ! -perm 0600 >"$T/perm.files"
	find "$T/state/new" -type f >"$T/perm.all"
	: >"$T/go-perm"
	wait
)
is "umask 022: every directory created is 0700 (ledger dir, parents, locks)" \
    "$(cat "$T/perm.dirs")" ""
is "umask 022: every file created is 0600 (ledger, app db, -wal, -shm, lock)" \
    "$(cat "$T/perm.files")" ""
like "umask 022: the -wal and -shm files were among those checked" "$(cat "$T/perm.all")" \
    "ledger\.db-shm"
is "umask 022: the parent directories were created too" "$(stat -c %a "$T/state/new")" "700"

# A symlinked ledger path is refused, and its target left alone.
fresh
mkdir -p "$T/state/real" "$T/state/jobs"
JOBS_DB=$T/state/real/ledger.db JOBS_APP_DB=$T/state/real/app.db jobs-cleanup
JOBS_DB=$T/state/real/ledger.db jobs-run sym -- true
before=$(sum "$T/state/real/ledger.db")
ln -s "$T/state/real/ledger.db" "$JOBS_DB"
code 2 "a symlinked ledger: jobs-cleanup refuses with exit 2" jobs-cleanup
like "a symlinked ledger: the message says it is a symbolic link" "$err" "symbolic link"
is "a symlinked ledger: the message is one line" "$(lines "$err")" "1"
code 0 "a symlinked ledger: jobs-run still runs the command (fail open)" \
    jobs-run sym -- sh -c ": >'$T/ran-sym'"
if [ -e "$T/ran-sym" ]; then ok "a symlinked ledger: the command did run"; else
	not_ok "a symlinked ledger: the command did run"; fi
like "a symlinked ledger: jobs-run warns why" "$err" "warning: .*symbolic link"
code 2 "a symlinked ledger: jobs-status refuses it as a configuration error (exit 2)" jobs-status runs
like "a symlinked ledger: jobs-status says why" "$err" "symbolic link"
code 2 "a symlinked ledger: jobs-status migrate refuses it (exit 2)" jobs-status migrate
is "a symlinked ledger: the target is untouched" "$(sum "$T/state/real/ledger.db")" "$before"
is "a symlinked ledger: the target still has its 2 runs only" \
    "$(sqlite3 "$T/state/real/ledger.db" 'select count(*) from executions')" "2"
rm "$JOBS_DB"
ln -s "$T/state/real/never.db" "$JOBS_DB"
code 2 "a dangling symlinked ledger: jobs-cleanup refuses with exit 2" jobs-cleanup
if [ -e "$T/state/real/never.db" ]; then
	not_ok "a dangling symlinked ledger: its target is not created"
else ok "a dangling symlinked ledger: its target is not created"; fi
rm "$JOBS_DB"
JOBS_DB=$T/state/jobs/ledger.db jobs-run sym -- true
ln -s "$T/state/real/app.db" "$JOBS_APP_DB"
before=$(sum "$T/state/real/app.db")
code 2 "a symlinked application database: jobs-cleanup refuses with exit 2" jobs-cleanup
like "a symlinked application database: the message says it is a symbolic link" "$err" "symbolic link"
is "a symlinked application database: its target is untouched" "$(sum "$T/state/real/app.db")" "$before"

# Wrong files at the ledger's path.
fresh
mkdir -p "$T/state/jobs"
printf 'this is a backup script, not a database\n' >"$JOBS_DB"
before=$(sum "$JOBS_DB")
code 2 "a non-SQLite file as ledger: jobs-cleanup refuses it as a configuration error (exit 2)" jobs-cleanup
like "a non-SQLite file as ledger: the message says it is not a database" "$err" \
    "$JOBS_DB.*not an? (SQLite |jobs )?(ledger|database)"
is "a non-SQLite file as ledger: the message is one line" "$(lines "$err")" "1"
code 0 "a non-SQLite file as ledger: jobs-run still runs the command" jobs-run wrong -- true
like "a non-SQLite file as ledger: jobs-run warns" "$err" "warning: .*not an? (SQLite |jobs )?(ledger|database)"
is "a non-SQLite file as ledger: the file is untouched" "$(sum "$JOBS_DB")" "$before"
is "a non-SQLite file as ledger: no -wal or -shm was created beside it" \
    "$(ls "$T/state/jobs" | grep -c -e '-wal$' -e '-shm$')" "0"

fresh
mkdir -p "$T/state/jobs"
sqlite3 "$JOBS_DB" 'CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO customers (email) VALUES ('"'a@example.org'"');'
before=$(sum "$JOBS_DB")
code 2 "another application's SQLite file as ledger: refused with exit 2" jobs-cleanup
like "another application's SQLite file as ledger: the message says it is not a jobs ledger" \
    "$err" "not a jobs ledger"
is "another application's SQLite file as ledger: untouched" "$(sum "$JOBS_DB")" "$before"

# The application database pointing at the ledger (or the reverse).
fresh
jobs-run first -- true
code 2 "JOBS_APP_DB pointing at the ledger: jobs-cleanup refuses with exit 2" \
    env JOBS_APP_DB="$JOBS_DB" jobs-cleanup
like "JOBS_APP_DB pointing at the ledger: the message says so" "$err" "is the jobs ledger"
is "JOBS_APP_DB pointing at the ledger: no application table was created in the ledger" \
    "$(sql "select count(*) from sqlite_schema where name in ('job_cursors', 'outbox')")" "0"
code 2 "JOBS_APP_DB pointing at the ledger: jobs-status migrate refuses with exit 2" \
    env JOBS_APP_DB="$JOBS_DB" jobs-status migrate
jobs-cleanup
code 2 "JOBS_DB pointing at the application database: refused with exit 2" \
    env JOBS_DB="$JOBS_APP_DB" jobs-cleanup
like "JOBS_DB pointing at the application database: the message says it is not a jobs ledger" \
    "$err" "not a jobs ledger"

# ---------------------------------------------------------------------------
# Schemas: newer than the program knows, or an application table that lacks
# a column.
fresh
jobs-run v -- true
jobs-cleanup
v0=$(sql "select version from jobs_schema where component = 'ledger'")
sqlite3 "$JOBS_DB" "update jobs_schema set version = 99 where component = 'ledger'"
code 2 "a newer ledger schema: jobs-cleanup refuses with exit 2" jobs-cleanup
like "a newer ledger schema: the message says newer" "$err" "newer"
is "a newer ledger schema: the message is one line" "$(lines "$err")" "1"
code 0 "a newer ledger schema: jobs-run still runs the command (fail open)" jobs-run v -- true
like "a newer ledger schema: jobs-run warns it is newer" "$err" "warning: .*newer"
code 2 "a newer ledger schema: jobs-status refuses it (exit 2)" jobs-status runs
code 3 "a newer ledger schema: jobs-status check is UNKNOWN" jobs-status check
like "a newer ledger schema: check's first line starts UNKNOWN and says newer" \
    "$(printf '%s\n' "$out" | head -n 1)" "^UNKNOWN: .*newer"
is "a newer ledger schema: the version is left as it was (no downgrade)" \
    "$(sql "select version from jobs_schema where component = 'ledger'")" "99"
is "a newer ledger schema: nothing was recorded" "$(sql "select count(*) from executions")" "2"
sqlite3 "$JOBS_DB" "update jobs_schema set version = $v0 where component = 'ledger'"
sqlite3 "$JOBS_APP_DB" "update jobs_schema set version = 99 where component = 'app'"
code 2 "a newer application schema: jobs-cleanup exits 2" jobs-cleanup
like "a newer application schema: the message says newer" "$err" "newer"
code 2 "a newer application schema: jobs-status migrate exits 2" jobs-status migrate
like "a newer application schema: migrate names the application database" "$err" "app\.db.*newer"

fresh
mkdir -p "$T/state/jobs"
appsql 'CREATE TABLE job_cursors (job TEXT, name TEXT)'
code 2 "an application table missing a column: jobs-status migrate exits 2" jobs-status migrate
like "an application table missing a column: the message names the table and the column" \
    "$err" "job_cursors.*value|value.*job_cursors"
is "an application table missing a column: the message is one line" "$(lines "$err")" "1"
is "an application table missing a column: the application database is left as it was" \
    "$(appsql "select group_concat(name) from sqlite_schema")" "job_cursors"
code 2 "an application table missing a column: a job program exits 2 too" jobs-cleanup
like "an application table missing a column: the job's error names the table and the column" \
    "$err" "job_cursors.*value"

# ---------------------------------------------------------------------------
# A locked ledger: another process holds the write lock; the run waits and
# completes once it is released, recorded once.
fresh
jobs-run locked -- true
mkfifo "$T/hold.fifo"
sqlite3 "$JOBS_DB" <"$T/hold.fifo" >"$T/hold.out" 2>&1 &
holder=$!; bg="$bg $holder"
exec 3>"$T/hold.fifo"
printf '.timeout 10000\nBEGIN IMMEDIATE;\n' >&3
if wait_until 10 write_locked; then
	( jobs-run locked -- true >"$T/l1.out" 2>"$T/l1.err"; echo $? >"$T/l1.rc" ) &
	( jobs-cleanup >"$T/l2.out" 2>"$T/l2.err"; echo $? >"$T/l2.rc" ) &
	sleep 0.7
	if [ -e "$T/l1.rc" ] || [ -e "$T/l2.rc" ]; then
		not_ok "a locked ledger: the runs wait for the lock instead of giving up" \
		    "jobs-run: $(cat "$T/l1.rc" "$T/l1.err" 2>/dev/null)" \
		    "jobs-cleanup: $(cat "$T/l2.rc" "$T/l2.err" 2>/dev/null)"
	else
		ok "a locked ledger: the runs wait for the lock instead of giving up"
	fi
	echo 'COMMIT;' >&3
	exec 3>&-
	wait
	is "a locked ledger: jobs-run exits 0 once the lock is released" "$(cat "$T/l1.rc")" "0"
	is "a locked ledger: jobs-run is silent" "$(cat "$T/l1.out" "$T/l1.err")" ""
	is "a locked ledger: jobs-cleanup exits 0 once the lock is released" "$(cat "$T/l2.rc")" "0"
	is "a locked ledger: jobs-cleanup is silent" "$(cat "$T/l2.out" "$T/l2.err")" ""
	is "a locked ledger: each run recorded exactly once" \
	    "$(sql "select job, status, count(*) from executions group by job, status order by job")" \
	    "jobs-cleanup|succeeded|1
locked|succeeded|2"
else
	not_ok "a locked ledger: the test could take the write lock" "$(cat "$T/hold.out")"
	exec 3>&-
fi

# The lock is taken while a run is under way: its outcome waits, then lands.
jobs-run midway -- sh -c "$barrier" sh "$T/go-midway" >"$T/m.out" 2>"$T/m.err" &
midway=$!; bg="$bg $midway"
wait_until 30 running_is midway 1
sqlite3 "$JOBS_DB" <"$T/hold.fifo" >"$T/hold.out" 2>&1 &
holder=$!; bg="$bg $holder"
exec 3>"$T/hold.fifo"
printf '.timeout 10000\nBEGIN IMMEDIATE;\n' >&3
wait_until 10 write_locked
: >"$T/go-midway"
sleep 0.5
is "a locked ledger mid-run: the outcome is not yet recorded while the lock is held" \
    "$(sqlite3 "$JOBS_DB" "select status from executions where job = 'midway'")" "running"
echo 'COMMIT;' >&3
exec 3>&-
wait "$midway"
is "a locked ledger mid-run: jobs-run exits 0 after the lock is released" "$?" "0"
is "a locked ledger mid-run: and is silent" "$(cat "$T/m.out" "$T/m.err")" ""
is "a locked ledger mid-run: its outcome is recorded" \
    "$(sql "select status from executions where job = 'midway'")" "succeeded"

# ---------------------------------------------------------------------------
# A full disk (a small tmpfs).
fresh
D=$T/full
mkdir -p "$D"
if mount -t tmpfs -o size=1m tmpfs "$D" 2>/dev/null; then
	mounts="$mounts $D"
	export JOBS_DB=$D/ledger.db JOBS_APP_DB=$D/app.db
	jobs-cleanup && jobs-run full -- true
	dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null
	code 75 "disk full: jobs-cleanup exits 75 (temporary)" jobs-cleanup
	is "disk full: jobs-cleanup's error is one line" "$(lines "$err")" "1"
	like "disk full: the error names the ledger" "$err" "^jobs-cleanup: .*$D/ledger.db"
	code 4 "disk full: jobs-run still runs the command and returns its status" \
	    jobs-run full -- sh -c ": >'$T/ran-full'; exit 4"
	if [ -e "$T/ran-full" ]; then ok "disk full: the command did run"; else
		not_ok "disk full: the command did run"; fi
	rm -f "$D/fill"
	is "disk full: integrity_check ok once space is freed" "$(sql 'pragma integrity_check')" "ok"
	is "disk full: no partial records (only the two runs from before)" \
	    "$(sql "select job, status from executions order by id")" "jobs-cleanup|succeeded
full|succeeded"
	code 0 "disk full: after freeing space jobs-cleanup succeeds" jobs-cleanup
	code 0 "disk full: after freeing space jobs-run succeeds" jobs-run full -- true

	# The disk fills while a run is under way.
	jobs-run filling -- sh -c "$barrier" sh "$T/go-filling" >"$T/f.out" 2>"$T/f.err" &
	filling=$!; bg="$bg $filling"
	wait_until 30 running_is filling 1
	dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null
	: >"$T/go-filling"
	wait "$filling"
	is "disk full mid-run: jobs-run returns the command's status all the same" "$?" "0"
	like "disk full mid-run: and warns that the outcome could not be recorded" \
	    "$(cat "$T/f.err")" "warning: unable to record the outcome"
	rm -f "$D/fill"
	is "disk full mid-run: integrity_check ok" "$(sql 'pragma integrity_check')" "ok"
	code 0 "disk full mid-run: the next start succeeds" jobs-run filling -- true
	is "disk full mid-run: the unrecorded run ends up abandoned, not running" \
	    "$(sql "select status from executions where job = 'filling' order by id")" "abandoned
succeeded"
	umount "$D"
	mounts=
	export JOBS_DB=$T/state/jobs/ledger.db JOBS_APP_DB=$T/state/jobs/app.db
else
	ok "disk full # skip cannot mount a tmpfs (not root?)"
fi

# ---------------------------------------------------------------------------
# Secrets: a ping URL is a secret.  The command echoes it (from a variable
# of its own: its argv does not contain it), and it is given through the
# environment and through --ping and --ping=.
fresh
url=http://127.0.0.1:9/canary-SECRET123
CANARY=$url JOBS_PING_URL=$url jobs-run sx -- \
    sh -c 'echo "token: $CANARY"; echo "$CANARY failed" >&2; exit 1' >"$T/s1.out" 2>"$T/s1.err"
is "secrets: the failing command's status is returned" "$?" "1"
CANARY=$url jobs-run --ping "$url" sy -- sh -c 'echo "$CANARY"' >"$T/s2.out" 2>"$T/s2.err"
is "secrets: --ping URL, the command succeeds (a failed ping is not a failure)" "$?" "0"
jobs-run --ping="$url" sz -- true >"$T/s3.out" 2>"$T/s3.err"
is "secrets: --ping=URL, the command succeeds" "$?" "0"
like "secrets: the run's output was recorded (so redaction, not omission, is tested)" \
    "$(sql "select stdout_head from executions where job = 'sx'")" "token: "
like "secrets: the failed pings were logged" "$(sql "select count(*) from logs where message like 'ping%failed%'")" \
    '^[1-9]'
{
	cat "$T"/s[123].out "$T"/s[123].err
	sqlite3 "$JOBS_DB" .dump
	jobs-status; jobs-status --json
	for j in sx sy sz; do jobs-status show $j; jobs-status show $j --json; done
	jobs-status runs; jobs-status runs --json
	jobs-status logs; jobs-status logs --json
	jobs-status check
} >"$T/secrets.all" 2>&1
like "secrets: the gathered outputs are not empty" "$(wc -c <"$T/secrets.all")" '^[0-9]{4,}'
is "secrets: canary-SECRET123 appears nowhere (ledger dump, jobs-status outputs, stdout, stderr)" \
    "$(grep -n 'canary-SECRET123' "$T/secrets.all")" ""
like "secrets: the redaction is visible" "$(cat "$T/s1.err")" "\[redacted\]"
like "secrets: the argv of --ping runs is recorded, redacted" \
    "$(sql "select argv from executions where job = 'sy'")" '"--ping","\[redacted\]"'
code 1 "secrets: jobs-status trigger refuses to re-run a command line that held a secret" \
    jobs-status trigger sy
unlike "secrets: and does not print it" "$out$err" "canary"

# ---------------------------------------------------------------------------
# Hostile strings: ANSI escapes (and any other C0 control but tab and
# newline), C1 controls and bidi overrides in text that came from outside
# never reach the terminal raw.
fresh
c0=$(printf '[\001-\010\013-\037\177]') esc=$(printf '\033') c2=$(printf '\302') c1lo=$(printf '\200') c1hi=$(printf '\237')
bidi1=$(printf '\342\200')$(printf '[\252-\256]') bidi2=$(printf '\342\201')$(printf '[\246-\251]')
raw_controls() {
	LC_ALL=C grep -n -e "$c0" -e "$esc" -e "$c2[$c1lo-$c1hi]" -e "$bidi1" -e "$bidi2" "$1" | cat -v
}
hostile=$(printf '\033[31mred\302\233\342\200\256x\033]0;title\007')
code 1 "hostile output: the failing command's status" \
    jobs-run hostile -- sh -c "printf '\\033[31mred\\302\\233\\342\\200\\256x'; printf '\\033[2J' >&2; exit 1"
printf '%s\n' "$err" >"$T/h.err"
is "hostile output: jobs-run's failure report on stderr carries no raw control bytes" \
    "$(raw_controls "$T/h.err")" ""
like "hostile output: the printable part is still shown" "$err" "red"
is "hostile output: the ledger keeps the bytes as they were (records are exact)" \
    "$(sql "select hex(stdout_head) from executions where job = 'hostile'")" \
    "1B5B33316D726564C29BE280AE78"
code 127 "hostile command name: not found is 127" jobs-run hostile2 -- "$T/$hostile"
printf '%s\n' "$err" >"$T/h2.err"
is "hostile command name: jobs-run's stderr carries no raw control bytes" \
    "$(raw_controls "$T/h2.err")" ""
# A job program's failure summary: its error names a path with escapes.
ln -s "$T/state/nowhere.db" "$T/state/app$hostile.db"
code 2 "hostile path: jobs-cleanup refuses a symlinked application database (exit 2)" \
    env JOBS_APP_DB="$T/state/app$hostile.db" jobs-cleanup
printf '%s\n' "$err" >"$T/h3.err"
is "hostile path: jobs-cleanup's failure report carries no raw control bytes" \
    "$(raw_controls "$T/h3.err")" ""
jobs-status pause hostile --reason "$hostile"
for args in "" "show hostile" "show hostile2" "runs" "runs hostile2" "logs" "logs hostile2" \
    "check" "check hostile2"; do
	jobs-status $args >"$T/h.out" 2>&1
	like "hostile strings: jobs-status $args printed something" "$(wc -c <"$T/h.out")" '^[1-9]'
	is "hostile strings: jobs-status $args shows no raw ESC, C1 or bidi override" \
	    "$(raw_controls "$T/h.out")" ""
done
like "hostile strings: the hostile error is there, made safe" \
    "$(jobs-status show hostile2)" "red.*No such file"

# ---------------------------------------------------------------------------
# Bad usage: jobs-run's own errors are 125, a job program's 2, jobs-status
# 2, jobs-status check 3 (UNKNOWN); nothing is recorded.
fresh
code 125 "jobs-run with no NAME exits 125" jobs-run
like "jobs-run with no NAME says so" "$err" "missing NAME"
code 125 "jobs-run with a bad option exits 125" jobs-run --bogus x -- true
code 125 "jobs-run with a bad name a/b exits 125" jobs-run a/b -- true
like "jobs-run with a bad name says which characters are allowed" "$err" "bad job name"
code 125 "jobs-run with the name .. exits 125" jobs-run .. -- true
code 125 "jobs-run with a 65-character name exits 125" \
    jobs-run aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -- true
code 125 "jobs-run with no command exits 125" jobs-run x
code 125 "jobs-run with -- and no command exits 125" jobs-run x --
code 125 "jobs-run --timeout 0 is a usage error (125)" jobs-run --timeout 0 x -- true
code 125 "jobs-run --timeout garbage is a usage error (125)" jobs-run --timeout soon x -- true
code 125 "jobs-run --now garbage is a usage error (125)" jobs-run --now garbage x -- true
code 125 "jobs-run --conflict-exit-code 300 is a usage error (125)" \
    jobs-run --conflict-exit-code 300 x -- true
is "jobs-run usage errors print nothing on stdout" "$out" ""
code 2 "jobs-cleanup with a bad option exits 2" jobs-cleanup --bogus
like "jobs-cleanup's usage error names the option" "$err" "bogus"
code 2 "jobs-cleanup with an argument exits 2" jobs-cleanup extra
code 2 "jobs-cleanup --timeout 0 is a usage error (2)" jobs-cleanup --timeout 0
code 2 "jobs-cleanup --now garbage is a usage error (2)" jobs-cleanup --now garbage
code 2 "JOBS_NOW=garbage is a usage error for jobs-cleanup (2)" env JOBS_NOW=garbage jobs-cleanup
code 2 "jobs-status with an unknown command exits 2" jobs-status frobnicate
like "jobs-status names the unknown command" "$err" "unknown command 'frobnicate'"
code 2 "jobs-status --now garbage is a usage error (2)" jobs-status --now garbage
code 3 "jobs-status check --bogus exits 3 (UNKNOWN)" jobs-status check --bogus
like "jobs-status check --bogus: the first line starts with UNKNOWN" \
    "$(printf '%s\n' "$out" | head -n 1)" "^UNKNOWN"
code 3 "jobs-status check --now garbage exits 3 (UNKNOWN)" jobs-status check --now garbage
like "jobs-status check --now garbage: the first line starts with UNKNOWN" \
    "$(printf '%s\n' "$out" | head -n 1)" "^UNKNOWN"
code 3 "jobs-status check a/b exits 3 (UNKNOWN)" jobs-status check a/b
if [ -e "$JOBS_DB" ]; then
	not_ok "usage errors create no ledger"
else ok "usage errors create no ledger"; fi

finish

# tests/lib.sh - sourced by every command test (tests/t-*.sh).
#
# Gives each test file a private temporary directory and points every path
# the programs could touch at it (JOBS_DB, JOBS_APP_DB, XDG_*, HOME), so a
# test never reads or writes a user's real files.  Prints one "ok"/"not ok"
# line per check and, last, "N passed, N failed".
set -u
: "${JOBS_BIN:?JOBS_BIN must name the directory of the programs under test}"
PATH=$JOBS_BIN:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/jobs-test.XXXXXX")
export HOME=$T/home XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config \
	XDG_DATA_HOME=$T/data XDG_CACHE_HOME=$T/cache XDG_RUNTIME_DIR=$T/run
export JOBS_DB=$T/state/jobs/ledger.db JOBS_APP_DB=$T/state/jobs/app.db
unset JOBS_NOW JOBS_PING_URL JOBS_CONFIG JOBS_LOG_LEVEL JOBS_TRIGGER NO_COLOR
# Never the host's crontabs, and one known time zone unless a test says.
export JOBS_CRONTAB=/dev/null TZ=UTC JOBS_CRON_FLAVOR=cronie
mkdir -p "$HOME"
passed=0 failed=0
trap 'rm -rf "$T"' EXIT

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
	failed=$((failed + 1)); echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	return 0
}

# check NAME COMMAND... : the command exits 0
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "exit $?: $out"; fi
}

# code N NAME COMMAND... : the command exits N (output in $out, stderr in $err)
code() {
	want=$1 name=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	out=$(cat "$T/out") err=$(cat "$T/err")
	if [ "$got" = "$want" ]; then ok "$name"; else
		not_ok "$name" "want exit $want, got $got" "stdout: $out" "stderr: $err"
	fi
}

# is NAME GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi
}

# like NAME TEXT PATTERN (grep -E)
like() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else
		not_ok "$1" "text: $2" "does not match: $3"
	fi
}

# unlike NAME TEXT PATTERN
unlike() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then
		not_ok "$1" "text: $2" "matches: $3"
	else ok "$1"; fi
}

# sql QUERY: run against the ledger (read-only use in tests)
sql() { sqlite3 -cmd '.timeout 5000' "$JOBS_DB" "$1"; }
appsql() { sqlite3 -cmd '.timeout 5000' "$JOBS_APP_DB" "$1"; }

# wait_until SECONDS COMMAND...: poll COMMAND every 50 ms; 1 if it never held
wait_until() {
	tries=$(($1 * 20)); shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.05
	done
}
# running_is JOB N: the ledger has N rows of JOB still `running`
running_is() {
	[ "$(sql "select count(*) from executions where job = '$1' and status = 'running'" 2>/dev/null)" = "$2" ]
}

# fresh: a new empty ledger and application database for the next checks
fresh() {
	rm -rf "$T/state"
	mkdir -p "$T/state"
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# Delivery under concurrency and SIGKILL (RELIABILITY "queue chaos"): an
# HTTP receiver on 127.0.0.1 (tests/receivers/hookrecv.py) records every
# request; what it saw, counted by Idempotency-Key, is the truth.
#  (a) two jobs-deliver runs at once, over one ledger (the lock) and over two
#      ledgers (only the outbox's leases stand between them): each row once;
#  (b) 100 concurrent enqueues of one key: one row;
#  (c) jobs-deliver SIGKILLed mid-batch again and again: nothing lost,
#      duplicates <= kills x (transfers in flight + the results of one
#      commit not yet made), whatever the claim's size; nothing left leased;
#  (d) a message that kills its sender ends dead after max_attempts;
#  (e) a run stopped (SIGTERM) mid-batch gives back the rows it never
#      tried, their attempt uncounted: none dead, none pushed back.
. tests/lib.sh

pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

T0=2000000000
export JOBS_CONFIG="$T/config.json" JOBS_SPOOL_DIR="$T/spool"
unset JOBS_SMTP_URL JOBS_WEBHOOK_SECRET JOBS_ALLOW_NETWORKS
# config [TIMEOUT [MORE]]: delivery.timeout (default 2s) and more keys
config() {
	printf '{"delivery": {"timeout": "%s", "connect_timeout": "1s", "breaker_failures": 999%s}}\n' \
		"${1:-2s}" "${2:-}" >"$JOBS_CONFIG"
}
config

rm -f "$T/h.port"
: >"$T/h.log"
echo '{"*": "200 delay=5", "/kill": "200 delay=20", "/poison": "hang"}' >"$T/h.script"
python3 tests/receivers/hookrecv.py "$T/h.log" "$T/h.port" "$T/h.script" 100 &
pids="$pids $!"
wait_until 10 test -s "$T/h.port" || not_ok "the receiver starts"
URL=http://127.0.0.1:$(cat "$T/h.port")

cat >"$T/q.py" <<'EOF'
import collections, json, sys
R = [json.loads(l) for l in open(sys.argv[1])]
R = [r for r in R if "event" not in r]
def P(p): return [r for r in R if r["path"].split("?")[0] == p]
def H(r, name): return {k.lower(): v for k, v in r["headers"].items()}.get(name.lower())
def count(p): return collections.Counter(H(r, "idempotency-key") for r in P(p))
print(eval(sys.argv[2]))
EOF
q() { python3 "$T/q.py" "$T/h.log" "$1"; }
export JOBS_ALLOW_NETWORKS=127.0.0.0/8	# the receiver is on loopback
deliver() { jobs-deliver "$@"; }
# rows N PATH PREFIX: N due webhook rows to PATH, keys PREFIX-1..N, by SQL
rows() {
	appsql "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $1)
		INSERT INTO outbox (channel, destination, body, idempotency_key,
			created_at, not_before, max_attempts)
		SELECT 'webhook', '$URL$2', '{\"i\":' || i || '}', '$3-' || i, $T0, $T0, 1000 FROM s"
}
statuses() { appsql "select group_concat(status || ':' || n, ' ') from (select status, count(*) n from outbox group by status order by status)"; }
# json_field FILE FIELD: a field of a --json run summary (metrics.X for metrics)
json_field() {
	python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): o = o.get(k, {}) if isinstance(o, dict) else None
print(o)' "$1" "$2" 2>/dev/null
}
random_ms() {	# random_ms LO HI
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $(($1 + r % ($2 - $1 + 1)))
}

# ----------------------------------------------------------------------
# (a) Two runs at once over 2,000 rows.
fresh
jobs-status migrate >/dev/null || not_ok "migrate"
rows 2000 /a a
JOBS_NOW=$T0 deliver --json >"$T/a1" 2>"$T/a1.err" &
p1=$!
JOBS_NOW=$T0 deliver --json >"$T/a2" 2>"$T/a2.err" &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
is "one ledger: both exit 0" "$rc1 $rc2" "0 0"
is "one runs, the other skips (the lock)" \
	"$(printf '%s\n' "$(json_field "$T/a1" status)" "$(json_field "$T/a2" status)" | sort | tr '\n' ' ')" \
	"skipped succeeded "
is "every row sent" "$(statuses)" "sent:2000"
is "each exactly once at the receiver" "$(q "(len(count('/a')), max(count('/a').values()))")" "(2000, 1)"

fresh
jobs-status migrate >/dev/null || not_ok "migrate"
config 2s ', "batch": 20'
rows 2000 /b b
mkdir -p "$T/l1" "$T/l2"
JOBS_NOW=$T0 deliver --db "$T/l1/ledger.db" --json >"$T/b1" 2>"$T/b1.err" &
p1=$!
JOBS_NOW=$T0 deliver --db "$T/l2/ledger.db" --json >"$T/b2" 2>"$T/b2.err" &
p2=$!
wait $p1; rc1=$?
wait $p2; rc2=$?
is "two ledgers (two locks), one outbox: both exit 0" "$rc1 $rc2" "0 0"
is "both ran" "$(json_field "$T/b1" status) $(json_field "$T/b2" status)" "succeeded succeeded"
s1=$(json_field "$T/b1" metrics.sent) s2=$(json_field "$T/b2" metrics.sent)
if [ "${s1%.*}" -gt 0 ] 2>/dev/null && [ "${s2%.*}" -gt 0 ] 2>/dev/null; then
	ok "both claimed rows ($s1 + $s2)"
else not_ok "both claimed rows" "sent: $s1 and $s2"; fi
is "their sends add up to 2,000" "$(python3 -c "print(int($s1 + $s2))" 2>/dev/null)" 2000
is "no lease lost" "$(json_field "$T/b1" metrics.lease_lost) $(json_field "$T/b2" metrics.lease_lost)" "0 0"
is "every row sent" "$(statuses)" "sent:2000"
is "each exactly once at the receiver: the leases never overlapped" \
	"$(q "(len(count('/b')), max(count('/b').values()))")" "(2000, 1)"
config

# ----------------------------------------------------------------------
# (b) 100 enqueues of one key at once.
fresh
jobs-status migrate >/dev/null || not_ok "migrate"
: >"$T/rc"
ps=
i=0
while [ $i -lt 100 ]; do
	(printf '{"same":true}' | jobs-enqueue --key same-key "$URL/same" 2>>"$T/enq.err"
	 echo $? >>"$T/rc") &
	ps="$ps $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $ps
is "100 identical enqueues at once: all exit 0" "$(sort "$T/rc" | uniq -c | tr -s ' ')" " 100 0"
is "one row" "$(appsql "select count(*) from outbox where idempotency_key = 'same-key'")" 1
: >"$T/rc"
ps=
i=0
while [ $i -lt 100 ]; do
	(printf '{"n":%d}' $i | jobs-enqueue --key race-key "$URL/race" 2>>"$T/enq.err"
	 echo $? >>"$T/rc") &
	ps="$ps $!"
	i=$((i + 1))
done
# shellcheck disable=SC2086
wait $ps
is "100 different payloads for one key at once: one wins, 99 conflict" \
	"$(sort "$T/rc" | uniq -c | tr -s ' ' | tr '\n' ' ')" " 1 0  99 1 "
is "one row" "$(appsql "select count(*) from outbox where idempotency_key = 'race-key'")" 1

# ----------------------------------------------------------------------
# (c) SIGKILL mid-batch, again and again; time moves past the leases
# (2 x (2 s + 1 s) + 10 s = 16 s) between runs.
fresh
jobs-status migrate >/dev/null || not_ok "migrate"
# At most PER_HOST transfers are in flight to the one receiver, and the
# booker commits whatever finished while its last commit was made: with
# the receiver's 20 ms, no more than another PER_HOST.  A claim of BATCH
# rows does not bound what a kill repeats.
BATCH=200 PER_HOST=8 GROUP=8
config 2s ", \"batch\": $BATCH, \"per_host\": $PER_HOST"
rows 2000 /kill k
now=$T0 kills=0 maxleased=0
while [ $kills -lt 40 ] && [ "$(appsql "select count(*) from outbox where status != 'sent'")" -gt 0 ]; do
	JOBS_NOW=$now jobs-deliver -q &	# not through a function: $! is jobs-deliver
	p=$!
	pids="$pids $p"
	sleep "$(printf '0.%03d' "$(random_ms 100 300)")"
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	kills=$((kills + 1))
	now=$((now + 20))
	l=$(appsql "select count(*) from outbox where status = 'leased'")
	[ "$l" -gt "$maxleased" ] && maxleased=$l
done
left=$(appsql "select count(*) from outbox where status = 'leased'")
JOBS_NOW=$now code 0 "after $kills kills, a run past the leases" deliver
is "finishes: every row sent, none left leased or dead" "$(statuses)" "sent:2000"
if [ "$maxleased" -gt 0 ]; then ok "(the kills left up to $maxleased rows leased; $left before the last run)"
else not_ok "the kills hit mid-batch" "never a row left leased: tune the timing"; fi
is "0 rows never delivered: every key reached the receiver" "$(q "len(count('/kill'))")" 2000
dups=$(q "sum(count('/kill').values()) - len(count('/kill'))")
if [ "$dups" -le $((kills * (PER_HOST + GROUP))) ]; then
	ok "duplicates $dups <= kills x (in flight + a commit's results) ($kills x ($PER_HOST + $GROUP)), batch $BATCH"
else not_ok "duplicates <= kills x (in flight + a commit's results)" \
	"$dups duplicates, $kills kills, $PER_HOST in flight, $GROUP a commit"; fi
is "no run left recorded as running" \
	"$(sql "select count(*) from executions where job = 'jobs-deliver' and status = 'running'")" 0
config

# ----------------------------------------------------------------------
# (d) A message whose sending kills the sender: each attempt counted at claim
# time, so it ends dead after max_attempts instead of looping.
fresh
config 10s	# lease: 2 x (10 s + 1 s) + 10 s = 32 s
printf '{"poison":true}' | JOBS_NOW=$T0 jobs-enqueue --key poison --max-attempts 3 "$URL/poison"
printf '{}' | JOBS_NOW=$T0 jobs-enqueue --key bystander "$URL/fine"
now=$T0
for i in 1 2 3; do
	JOBS_NOW=$now jobs-deliver -q &	# not through a function: $! is jobs-deliver
	p=$!
	pids="$pids $p"
	poisoned() { [ "$(q "len(P('/poison'))")" -ge "$i" ]; }
	wait_until 10 poisoned || not_ok "attempt $i reaches the receiver"
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	is "attempt $i: killed mid-send, the row stays leased" \
		"$(appsql "select status || ' ' || attempts from outbox where idempotency_key = 'poison'")" "leased $i"
	now=$((now + 40))
done
JOBS_NOW=$now code 1 "the run that finds its last lease expired: exit 1" deliver
is "the message is dead after max_attempts" \
	"$(appsql "select status || ' ' || attempts from outbox where idempotency_key = 'poison'")" "dead 3"
like "saying the sender stopped" \
	"$(appsql "select last_error from outbox where idempotency_key = 'poison'")" "attempt 3 of 3"
like "named on stderr" "${err:-}" "row $(appsql "select id from outbox where idempotency_key = 'poison'") "
JOBS_NOW=$((now + 100000)) deliver -q
is "not tried again: 3 attempts reached the receiver" "$(q "len(P('/poison'))")" 3
is "the other message went through" \
	"$(appsql "select status from outbox where idempotency_key = 'bystander'")" "sent"

# ----------------------------------------------------------------------
# (e) SIGTERM while 20 rows, each on its last attempt, wait behind two
# slow transfers: the two in flight may count, the rest were never tried.
fresh
jobs-status migrate >/dev/null || not_ok "migrate"
config 10s ', "parallel": 2, "per_host": 2'
rows 20 /slow s
appsql "UPDATE outbox SET max_attempts = 1"
echo '{"/slow": "200 delay=3000"}' >"$T/h.script"
JOBS_NOW=$T0 jobs-deliver -q &
p=$!
pids="$pids $p"
slow_seen() { [ "$(q "len(P('/slow'))")" -ge 1 ]; }
wait_until 10 slow_seen || not_ok "the first transfers reach the receiver"
kill -TERM $p
wait $p
is "stopped by SIGTERM: exit 143" "$?" 143
is "the rows never tried are pending again, attempt uncounted" \
	"$(appsql "select count(*) from outbox where status = 'pending' and attempts = 0 and not_before <= $T0")" \
	"$((20 - $(q "len(P('/slow'))")))"
is "and none of those is dead" \
	"$(appsql "select count(*) from outbox where status = 'dead' and attempts = 0")" 0
is "nothing left leased" "$(appsql "select count(*) from outbox where status = 'leased'")" 0
echo '{"*": "200 delay=5", "/kill": "200 delay=20", "/poison": "hang"}' >"$T/h.script"
finish

# Delivery: jobs-enqueue, jobs-deliver and jobs-status queue against real
# receivers on 127.0.0.1 that this test starts and stops: an HTTP receiver
# whose answers a script file chooses (tests/receivers/hookrecv.py) and SMTP
# receivers (tests/receivers/smtprecv.py, aiosmtpd).  Time moves through
# JOBS_NOW: every run says what time it is.
. tests/lib.sh

pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

T0=2000000000			# the tests' "now": epoch seconds
export JOBS_SPOOL_DIR="$T/spool" JOBS_CONFIG="$T/config.json"
unset JOBS_SMTP_URL JOBS_SMTP_USER JOBS_SMTP_PASSWORD JOBS_WEBHOOK_SECRET \
	JOBS_ALLOW_NETWORKS JOBS_MAIL_FROM
WSECRET=whsec_$(printf 'hook-key-CANARY-5150' | base64)	# webhook signing secret
SMTPPW=smtp-CANARY-pw-2718				# SMTP password

# aiosmtpd is Debian's python3-aiosmtpd (build-aux/deps check installs it),
# which Debian's own python3 imports; another python3 first in PATH may not.
SMTPPY=
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import aiosmtpd' 2>/dev/null; then SMTPPY=$py; break; fi
done

# config JSON: the configuration file jobs-deliver reads
config() { printf '%s\n' "$1" >"$JOBS_CONFIG"; }
# Short transfers so that a hang costs 2 s; no breaker unless a test wants one.
BASECFG='"timeout": "2s", "connect_timeout": "1s", "breaker_failures": 999'
config "{\"delivery\": {$BASECFG}}"

# start_hook NAME: an HTTP receiver answering as $T/NAME.script says
start_hook() {
	rm -f "$T/$1.port"
	: >"$T/$1.log"
	echo '{}' >"$T/$1.script"
	python3 tests/receivers/hookrecv.py "$T/$1.log" "$T/$1.port" "$T/$1.script" 100 &
	pids="$pids $!"
	wait_until 10 test -s "$T/$1.port" || not_ok "receiver $1 starts"
}
# script NAME JSON: change a receiver's answers (atomically)
script() { printf '%s\n' "$2" >"$T/$1.script.tmp" && mv "$T/$1.script.tmp" "$T/$1.script"; }
# start_smtp NAME [--auth]: an SMTP receiver logging $T/NAME.log, wire $T/NAME.wire
start_smtp() {
	n=$1; shift
	rm -f "$T/$n.port"
	: >"$T/$n.log"
	: >"$T/$n.wire"
	[ -n "$SMTPPY" ] || return 1
	"$SMTPPY" tests/receivers/smtprecv.py "$T/$n.log" "$T/$n.port" \
		--wire "$T/$n.wire" --lifetime 100 "$@" &
	pids="$pids $!"
	wait_until 10 test -s "$T/$n.port"
}

# What the receivers saw, by a Python expression: R the requests, E the
# other events, P(path) the requests to path, H(r, name) a header's value,
# M the mail messages (parsed), M_raw their text.
cat >"$T/q.py" <<'EOF'
import base64, email, email.policy, email.utils, hashlib, hmac, json, sys
R, E, M, M_raw = [], [], [], []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if "data" in o:
        M_raw.append(o); M.append(email.message_from_bytes(o["data"].encode(), policy=email.policy.default))
    elif "event" in o:
        E.append(o)
    else:
        R.append(o)
def P(p): return [r for r in R if r["path"].split("?")[0] == p]
def H(r, name): return {k.lower(): v for k, v in r["headers"].items()}.get(name.lower())
def keys(p): return " ".join(H(r, "idempotency-key") for r in P(p))
def sig(r, secret):
    key = base64.b64decode(secret[len("whsec_"):])
    msg = ("%s.%s.%s" % (H(r, "webhook-id"), H(r, "webhook-timestamp"), r["body"])).encode()
    return "v1," + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
def mail(rcpt): return [m for m, o in zip(M, M_raw) if rcpt in o["rcpt_tos"]]
def raw(rcpt): return [o["data"] for o in M_raw if rcpt in o["rcpt_tos"]]
def mid(key): return hashlib.sha256(key.encode()).hexdigest()[:32]
print(eval(sys.argv[2]))
EOF
q() { python3 "$T/q.py" "$T/h.log" "$1"; }	# q EXPR: over the HTTP receiver's log
qs() { python3 "$T/q.py" "$T/$1.log" "$2"; }	# qs NAME EXPR: over another log
n() { q "len(P('$1'))"; }			# n PATH: requests to PATH

# row KEY: "status attempts" of the row with key KEY
row() { appsql "select status || ' ' || attempts from outbox where idempotency_key = '$1'"; }
col() { appsql "select $2 from outbox where idempotency_key = '$1'"; }
idof() { col "$1" id; }
enq() {	# enq BODY ARGS...: enqueue at T0, quietly
	body=$1; shift
	printf '%s' "$body" | JOBS_NOW=$T0 jobs-enqueue "$@" >/dev/null ||
		not_ok "enqueue $*" "exit $?"
}
input() { printf '%s' "$1" >"$T/in"; }	# input TEXT: the next command's stdin
# deliver ARGS...: jobs-deliver with the receivers' network allowed
deliver() { JOBS_ALLOW_NETWORKS=127.0.0.0/8 jobs-deliver "$@"; }
# absent NAME TEXT STRING: STRING (fixed) is not in TEXT
absent() {
	if printf '%s' "$2" | grep -Fq -- "$3"; then
		not_ok "$1" "found: $(printf '%s' "$2" | grep -F -- "$3" | head -n 3)"
	else ok "$1"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

start_hook h
start_hook h2
URL=http://127.0.0.1:$(cat "$T/h.port")
URL2=http://127.0.0.1:$(cat "$T/h2.port")
HOSTPORT=127.0.0.1:$(cat "$T/h.port")

# ----------------------------------------------------------------------
# jobs-enqueue
fresh
input '{"n":1}'
code 0 "enqueue a webhook: exit 0" jobs-enqueue --key e1 "$URL/a" <"$T/in"
is "and silent" "$out$err" ""
input '{"n":1}'
code 0 "the same key and payload again: a no-op, exit 0" \
	jobs-enqueue --json --key e1 "$URL/a" <"$T/in"
is "reported as the existing row" "$out" '{"id":1,"existing":true}'
input '{"n":2}'
code 1 "the same key with another body: a conflict, exit 1" \
	jobs-enqueue --key e1 "$URL/a" <"$T/in"
like "said on stderr" "$err" "e1.*different payload"
input '{"n":1}'
code 1 "the same key to another destination: a conflict" \
	jobs-enqueue --key e1 "$URL/b" <"$T/in"
input '{"n":2}'
code 0 "the same key from another source: a new row" \
	jobs-enqueue --source other --key e1 "$URL/a" <"$T/in"
is "two rows, the first unchanged" \
	"$(appsql "select count(*) || ' ' || (select body from outbox where id = 1) from outbox")" \
	'2 {"n":1}'
input '{}'
code 0 "-v prints the new row's id" jobs-enqueue -v --key e2 "$URL/a" <"$T/in"
is "the id" "$out" "3"
head -c 262144 /dev/zero | tr '\0' a >"$T/in"
code 0 "a body of exactly 256 KiB is taken" \
	jobs-enqueue --key big-ok "$URL/big" <"$T/in"
head -c 262145 /dev/zero | tr '\0' a >"$T/in"
code 2 "a body over 256 KiB is refused: exit 2" \
	jobs-enqueue --key big-no "$URL/big" <"$T/in"
like "saying why" "$err" "larger than 256 KiB"
mkdir -p "$T/spool"
input '{}'
code 0 "file:// under the spool root is taken" \
	jobs-enqueue --key f-ok "file://$T/spool/inbox" <"$T/in"
before=$(appsql "select count(*) from outbox")
refuse() {	# refuse NAME DEST [ARGS...]: exit 2, nothing queued
	name=$1 dest=$2; shift 2
	input 'body'
	code 2 "refused at enqueue: $name" jobs-enqueue "$@" "$dest" <"$T/in"
}
refuse "mailto with ?bcc=" "mailto:bob@example.com?bcc=eve@example.com"
refuse "mailto with two addresses" "mailto:bob@example.com,eve@example.com"
refuse "mailto with an encoded CR LF Bcc: line" \
	"mailto:bob@example.com%0D%0ABcc:%20eve%40example.com"
refuse "mailto with an encoded comma" "mailto:bob@example.com%2Ceve%40example.com"
refuse "gopher://" "gopher://127.0.0.1:70/_GET"
refuse "ftp://" "ftp://example.com/x"
refuse "a bare word" "not-a-destination"
refuse "file:// outside the spool root" "file:///etc/cron.d"
refuse "file:// through .. out of the spool root" "file://$T/spool/../outside"
refuse "file:// to a sibling named like the root" "file://$T/spoolx/in"
refuse "a header with CR LF" "$URL/a" --header "$(printf 'X-A: b\r\nX-Evil: 1')"
refuse "a header with LF" "$URL/a" --header "$(printf 'X-A: b\nX-Evil: 1')"
refuse "a header name that is no token" "$URL/a" --header 'Bad Name: x'
refuse "a subject with a line break" "mailto:bob@example.com" --subject "$(printf 'a\nBcc: eve@example.com')"
refuse "a key with a line break" "$URL/a" --key "$(printf 'a\nb')"
refuse "--max-attempts 0" "$URL/a" --max-attempts 0
input 'x'
code 2 "no DEST: exit 2" jobs-enqueue --key nodest <"$T/in"
is "nothing refused was queued" "$(appsql "select count(*) from outbox")" "$before"

# ----------------------------------------------------------------------
# Webhooks
fresh
enq '{"event":"paid","n":1}' --key w1 --header 'X-Shop: main' \
	--header 'Authorization: Bearer tok-1' "$URL/hook/1"
enq 'plain text' --key w2 --header 'Content-Type: text/plain' "$URL/hook/2"
JOBS_NOW=$T0 code 0 "jobs-deliver sends due webhooks: exit 0" deliver
is "silent on success" "$out$err" ""
is "both rows sent, one attempt each" "$(row w1), $(row w2)" "sent 1, sent 1"
is "sent_at is the run's time" "$(col w1 sent_at)" "$T0"
is "no lease left behind" "$(appsql "select count(*) from outbox where lease_token is not null or lease_until is not null")" 0
is "a POST of the body" "$(q "[(r['method'], r['body']) for r in P('/hook/1')]")" \
	"[('POST', '{\"event\":\"paid\",\"n\":1}')]"
is "with the Idempotency-Key" "$(q "H(P('/hook/1')[0], 'Idempotency-Key')")" "w1"
is "JSON by default" "$(q "H(P('/hook/1')[0], 'Content-Type')")" "application/json"
like "a User-Agent with the version" "$(q "H(P('/hook/1')[0], 'User-Agent')")" '^jobs/[0-9]+\.[0-9]+'
is "the row's header fields" "$(q "H(P('/hook/1')[0], 'X-Shop') + ' ' + H(P('/hook/1')[0], 'Authorization')")" \
	"main Bearer tok-1"
is "a row's Content-Type wins, once" \
	"$(q "[v for k, v in P('/hook/2')[0]['headers'].items() if k.lower() == 'content-type']")" \
	"['text/plain']"
is "unsigned without a secret" "$(q "H(P('/hook/1')[0], 'webhook-signature')")" "None"

enq '{"signed":true,"text":"é"}' --key w3 "$URL/hook/3"
JOBS_NOW=$((T0 + 5)) JOBS_WEBHOOK_SECRET=$WSECRET code 0 "a signed webhook" deliver
is "webhook-id is the key, webhook-timestamp the run's time" \
	"$(q "H(P('/hook/3')[0], 'webhook-id') + ' ' + H(P('/hook/3')[0], 'webhook-timestamp')")" \
	"w3 $((T0 + 5))"
is "webhook-signature verifies: HMAC-SHA256 over id.timestamp.body" \
	"$(q "H(P('/hook/3')[0], 'webhook-signature') == sig(P('/hook/3')[0], '$WSECRET')")" "True"

# The request forgery guard: loopback is refused unless allowed.
enq '{}' --key lo1 "$URL/lo"
enq '{}' --key lo2 "http://localhost:$(cat "$T/h.port")/lo"
enq '{}' --key lo3 "http://[::1]:$(cat "$T/h.port")/lo"
JOBS_NOW=$T0 code 1 "loopback without the allow list: exit 1" jobs-deliver
like "stderr names the rows and the reason" "$err" "row $(idof lo1) .*127\.0\.0\.1 is a loopback address"
like "every one of them" "$err" "row $(idof lo3) .*::1 is a loopback address"
is "dead after 1 attempt" "$(row lo1), $(row lo2), $(row lo3)" "dead 1, dead 1, dead 1"
like "the reason in last_error" "$(col lo2 last_error)" "(127\.0\.0\.1|::1) is a loopback address"
is "the receiver never saw them" "$(n /lo)" 0
like "jobs-status queue counts them dead" "$(jobs-status queue --json)" '"dead":[[:space:]]*3'
JOBS_NOW=$T0 code 0 "nothing due: exit 0" deliver
is "and silent" "$out$err" ""

# ----------------------------------------------------------------------
# Retries
fresh
script h '{"/r500": "500", "/r429": ["429 retry-after=120", "200"],
	"/r502": "502 retry-after=300",
	"/p400": "400", "/p401": "401", "/p404": "404", "/p410": "410",
	"/t408": "408", "/t425": "425", "/t429": "429", "/t503": "503"}'
enq '{}' --key r500 --max-attempts 3 "$URL/r500"
JOBS_NOW=$T0 code 0 "a 500 is retried: exit 0" deliver
is "silent" "$out$err" ""
is "pending after attempt 1" "$(row r500)" "pending 1"
nb=$(col r500 not_before)
if [ "$nb" -ge $((T0 + 15)) ] && [ "$nb" -le $((T0 + 30)) ]; then
	ok "not_before in the future: now + backoff (15-30 s)"
else not_ok "not_before in the future: now + backoff (15-30 s)" "got $((nb - T0)) s"; fi
like "last_error says why" "$(col r500 last_error)" "HTTP 500"
JOBS_NOW=$((nb - 1)) deliver >/dev/null 2>&1
is "not tried again before not_before" "$(n /r500)" 1
JOBS_NOW=$nb code 0 "tried again at not_before" deliver
is "pending after attempt 2" "$(row r500)" "pending 2"
nb2=$(col r500 not_before)
if [ "$nb2" -ge $((nb + 30)) ] && [ "$nb2" -le $((nb + 60)) ]; then
	ok "the backoff doubles (30-60 s)"
else not_ok "the backoff doubles (30-60 s)" "got $((nb2 - nb)) s"; fi
JOBS_NOW=$nb2 code 1 "the last attempt fails: exit 1" deliver
like "stderr names the row and the error" "$err" "row $(idof r500) .*HTTP 500"
is "dead after exactly max_attempts" "$(row r500) $(n /r500)" "dead 3 3"
like "with the last error" "$(col r500 last_error)" "HTTP 500.*attempt 3 of 3"
JOBS_NOW=$((nb2 + 100000)) deliver >/dev/null 2>&1
is "never tried again" "$(n /r500)" 3

enq '{}' --key r429 "$URL/r429"
JOBS_NOW=$T0 code 0 "a 429 with Retry-After: exit 0" deliver
nb=$(col r429 not_before)
if [ "$nb" -ge $((T0 + 120)) ] && [ "$nb" -le $((T0 + 121)) ]; then
	ok "Retry-After honoured: not_before = now + 120"
else not_ok "Retry-After honoured: not_before = now + 120" "got $((nb - T0)) s"; fi
like "said in last_error" "$(col r429 last_error)" "HTTP 429.*retry after 120 s"
JOBS_NOW=$((T0 + 119)) deliver >/dev/null 2>&1
is "not sent before" "$(n /r429)" 1
JOBS_NOW=$((T0 + 121)) deliver >/dev/null 2>&1
is "sent after" "$(row r429) $(n /r429)" "sent 2 2"

enq '{}' --key r502 "$URL/r502"
JOBS_NOW=$T0 code 0 "a 502 with Retry-After: exit 0" deliver
nb=$(col r502 not_before)
if [ "$nb" -ge $((T0 + 300)) ] && [ "$nb" -le $((T0 + 301)) ]; then
	ok "Retry-After honoured on any retryable answer: now + 300"
else not_ok "Retry-After honoured on any retryable answer: now + 300" "got $((nb - T0)) s"; fi

# A receiver whose answer is not HTTP (a wrong port, a broken proxy):
# the receiver's trouble, retried, never dead at the first attempt.
cat >"$T/raw.py" <<'PY'
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(60)
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b"garbage, not http\r\n\r\n")
    c.close()
PY
rm -f "$T/raw.port"
python3 "$T/raw.py" "$T/raw.port" &
rawpid=$!
wait_until 5 test -s "$T/raw.port" || not_ok "the raw receiver starts"
enq '{}' --key notttp "http://127.0.0.1:$(cat "$T/raw.port")/x"
JOBS_NOW=$T0 code 0 "an answer that is not HTTP: exit 0" deliver
is "retried, not dead" "$(row notttp)" "pending 1"
like "last_error says so" "$(col notttp last_error)" "not HTTP"
kill $rawpid 2>/dev/null
wait $rawpid 2>/dev/null

for s in 400 401 404 410; do enq '{}' --key p$s --max-attempts 5 "$URL/p$s"; done
JOBS_NOW=$T0 code 1 "permanent 4xx answers: exit 1" deliver
for s in 400 401 404 410; do
	is "HTTP $s: dead after 1 attempt" "$(row p$s) $(n /p$s)" "dead 1 1"
	like "HTTP $s: row and reason on stderr" "$err" "row $(idof p$s) .*HTTP $s"
done
like "a summary line says how many" "$err" "4 messages went dead"
for s in 408 425 429 503; do enq '{}' --key t$s --max-attempts 5 "$URL/t$s"; done
JOBS_NOW=$T0 code 0 "408, 425, 429 and 503 are retried: exit 0" deliver
for s in 408 425 429 503; do
	is "HTTP $s: pending after 1 attempt" "$(row t$s)" "pending 1"
	like "HTTP $s: in last_error" "$(col t$s last_error)" "HTTP $s"
done

# ----------------------------------------------------------------------
# Hostile endpoints
fresh
script h '{"/moved": "301 location=http://127.0.0.1:{port}/target",
	"/loop": "loop",
	"/togopher": "302 location=gopher://127.0.0.1:{port}/_GOPHERHIT",
	"/tofile": "302 location=file:///etc/passwd",
	"/tometa": "307 location=http://169.254.169.254/latest/meta-data/",
	"/endless": "endless", "/endless-cl": "endless-cl",
	"/drip": "drip", "/hang": "hang"}'
for p in moved loop togopher tofile tometa; do enq "{\"p\":\"$p\"}" --key $p "$URL/$p"; done
JOBS_NOW=$T0 code 1 "redirects: exit 1 (some refused)" deliver
is "a 301 is followed, still a POST with the body" \
	"$(row moved) $(q "[(r['method'], r['body']) for r in P('/target')]")" \
	"sent 1 [('POST', '{\"p\":\"moved\"}')]"
is "a redirect loop: dead after 1 attempt" "$(row loop)" "dead 1"
like "for too many redirects" "$(col loop last_error)" "redirect"
if [ "$(n /loop)" -le 4 ]; then ok "at most 3 redirects followed ($(n /loop) requests)"; else
	not_ok "at most 3 redirects followed" "$(n /loop) requests"; fi
is "a redirect to gopher:// is refused: dead" "$(row togopher)" "dead 1"
is "and nothing reached the port by gopher" "$(q "len([e for e in E if 'GOPHERHIT' in e.get('raw', '')])")" 0
is "a redirect to file:// is refused: dead" "$(row tofile)" "dead 1"
is "a redirect to the cloud metadata address: dead" "$(row tometa)" "dead 1"
like "with the reason" "$(col tometa last_error)" "169\.254\.169\.254 is a link-local"

for p in endless endless-cl drip hang; do enq '{}' --key $p "$URL/$p"; done
t=$(now_ms)
JOBS_NOW=$T0 code 0 "an endless body, a slow drip and a hang: retried, exit 0" deliver
took=$(($(now_ms) - t))
if [ "$took" -ge 1500 ] && [ "$took" -le 8000 ]; then
	ok "bounded by delivery.timeout (2 s): took ${took} ms"
else not_ok "bounded by delivery.timeout (2 s)" "took ${took} ms"; fi
is "all retried later" "$(row endless), $(row endless-cl), $(row drip), $(row hang)" \
	"pending 1, pending 1, pending 1, pending 1"
like "the endless body is cut" "$(col endless last_error)" "larger than 65536 bytes"
like "so is one announcing 10 GiB" "$(col endless-cl last_error)" "larger than 65536 bytes"
like "the drip times out" "$(col drip last_error)" "[Tt]imed out"
like "the hang times out" "$(col hang last_error)" "[Tt]imed out"
endless_ended() { [ "$(q "len([e for e in E if e.get('path') == '/endless'])")" = 1 ]; }
wait_until 5 endless_ended
end=$(q "[(e['bytes'], e['secs']) for e in E if e.get('path') == '/endless']")
is "the endless body was taken for at most 3 s and 32 MiB (bytes, s: $end)" \
	"$(q "[e['bytes'] <= 32 << 20 and e['secs'] <= 3 for e in E if e.get('path') == '/endless']")" "[True]"

# ----------------------------------------------------------------------
# Mail
fresh
if start_smtp s; then ok "SMTP receiver (aiosmtpd) starts"; else
	not_ok "SMTP receiver (aiosmtpd) starts" \
		"no python3 imports aiosmtpd: make deps-check installs python3-aiosmtpd"; fi
SMTP=smtp://127.0.0.1:$(cat "$T/s.port" 2>/dev/null)
HOST=$(python3 -c "import socket; print(socket.gethostname())")
printf 'héllo wörld\nsecond line\n' | JOBS_NOW=$T0 jobs-enqueue --key mail-1 \
	--subject 'Résumé ✓ prêt' mailto:bob@example.com
printf 'plain\n' | JOBS_NOW=$T0 jobs-enqueue --key mail-2 --subject 'Plain subject' \
	mailto:carol@example.com
enq 'x' --key mail-550 mailto:fail550@example.com
enq 'x' --key mail-451 mailto:fail451@example.com
JOBS_NOW=$T0 JOBS_SMTP_URL=$SMTP code 1 "mail through SMTP: exit 1 (a 550)" jobs-deliver
is "accepted mail is sent" "$(row mail-1), $(row mail-2)" "sent 1, sent 1"
is "To and the envelope" "$(qs s "[(m['To'], o['rcpt_tos']) for m, o in zip(M, M_raw) if 'bob@' in o['rcpt_tos'][0]]")" \
	"[('bob@example.com', ['bob@example.com'])]"
is "From: jobs@hostname by default" "$(qs s "mail('bob@example.com')[0]['From']")" "jobs@$HOST"
is "Date: the time it was queued" \
	"$(qs s "int(email.utils.parsedate_to_datetime(mail('bob@example.com')[0]['Date']).timestamp())")" "$T0"
like "a non-ASCII Subject is RFC 2047-encoded" \
	"$(qs s "[l for l in raw('bob@example.com')[0].split(chr(13)+chr(10)) if l.startswith('Subject:')][0]")" \
	'^Subject: =\?UTF-8\?[BQ]\?[!-~]+\?=$'
is "and decodes to the subject" "$(qs s "str(mail('bob@example.com')[0]['Subject'])")" "Résumé ✓ prêt"
like "an ASCII Subject is as given" "$(qs s "raw('carol@example.com')[0]")" "Subject: Plain subject"
is "Message-ID derived from the key" \
	"$(qs s "mail('bob@example.com')[0]['Message-ID'].split('@')[0] == '<' + mid('mail-1')")" "True"
is "UTF-8 plain text" "$(qs s "mail('bob@example.com')[0].get_content_type() + ' ' + mail('bob@example.com')[0].get_content_charset()")" \
	"text/plain utf-8"
is "the body round-trips" "$(qs s "mail('bob@example.com')[0].get_content().replace(chr(13), '') == 'héllo wörld\nsecond line\n'")" "True"
is "SMTP 550: dead after 1 attempt" "$(row mail-550)" "dead 1"
like "with the reply" "$(col mail-550 last_error)" "SMTP 550"
like "named on stderr" "$err" "row $(idof mail-550) .*SMTP 550"
is "SMTP 451: retried" "$(row mail-451)" "pending 1"
like "with the reply" "$(col mail-451 last_error)" "SMTP 451"

# Credentials, and a server without STARTTLS: the password must not travel.
start_smtp sa --auth
enq 'secret mail' --key mail-auth mailto:dave@example.com
JOBS_NOW=$((T0 + 1)) JOBS_SMTP_URL=smtp://127.0.0.1:$(cat "$T/sa.port" 2>/dev/null) \
	JOBS_SMTP_USER=jobs JOBS_SMTP_PASSWORD=$SMTPPW jobs-deliver >"$T/out" 2>"$T/err"
rc=$? out=$(cat "$T/out") err=$(cat "$T/err")
case "$(row mail-auth)" in
"dead 1" | "pending 1") ok "no STARTTLS with credentials: not sent (dead or retried)" ;;
*) not_ok "no STARTTLS with credentials: not sent (dead or retried)" "$(row mail-auth), exit $rc" ;;
esac
like "with a clear error" "$(col mail-auth last_error)" "STARTTLS|TLS"
is "the server got no message and no AUTH" "$(qs sa "len(M) + len([e for e in E if e['event'] == 'auth'])")" 0
is "the password never crossed the wire" "$(grep -c "$SMTPPW" "$T/sa.wire")" 0
unlike "nor in base64 (AUTH PLAIN)" "$(cat "$T/sa.wire")" "AUTH"
unlike "nor on stdout or stderr" "$out$err" "$SMTPPW"

# No SMTP server: mail goes to the spool, atomically.
enq 'spooled body' --key spool-mail --subject 'Spooled' mailto:erin@example.com
enq '{"k":"v"}' --key spool-file --subject 'S' --header 'X-A: b' "file://$T/spool/inbox"
JOBS_NOW=$T0 code 0 "no SMTP server: mail to the spool, exit 0" jobs-deliver
is "silent" "$out$err" ""
is "both sent" "$(row spool-mail), $(row spool-file)" "sent 1, sent 1"
is "the mail row still says mailto:" "$(col spool-mail destination)" "mailto:erin@example.com"
is "one .eml in <spool root>/mail" "$(find "$T/spool/mail" -name '*.eml' | wc -l)" 1
eml=$(cat "$T/spool/mail/"*.eml 2>/dev/null)
like "a whole message" "$eml" "Subject: Spooled"
like "with its Message-ID" "$eml" "Message-ID: <$(python3 -c 'import hashlib; print(hashlib.sha256(b"spool-mail").hexdigest()[:32])')@"
like "and body" "$eml" "spooled body"
is "a file:// row is one .json file" "$(find "$T/spool/inbox" -name '*.json' | wc -l)" 1
is "holding the message" "$(python3 -c 'import json,sys,glob; o=json.load(open(glob.glob(sys.argv[1] + "/*.json")[0])); print(o["idempotency_key"], o["body"], o["headers"]["X-A"], o["subject"])' "$T/spool/inbox")" \
	'spool-file {"k":"v"} b S'
is "no temporary file left" "$(find "$T/spool" -name '.*' | wc -l)" 0
is "files 0600, directories 0700" "$(stat -c %a "$T/spool/mail" "$T/spool/inbox" "$T/spool/mail/"*.eml "$T/spool/inbox/"*.json | sort -u | tr '\n' ' ')" "600 700 "
appsql "INSERT INTO outbox (channel, destination, body, idempotency_key)
	VALUES ('file', 'file://$T/outside', '{}', 'sql-outside')"
JOBS_NOW=$T0 code 1 "a file:// row inserted by SQL outside the spool root: exit 1" jobs-deliver
is "dead" "$(row sql-outside)" "dead 1"
if [ -e "$T/outside" ]; then not_ok "nothing written outside the spool root" "$(ls -la "$T/outside")"
else ok "nothing written outside the spool root"; fi

# ----------------------------------------------------------------------
# Priority, --limit, not_before, ordering keys, --dry-run
fresh
for p in 0 5 -3 10; do enq "{\"p\":$p}" --key "prio$p" --priority "$p" "$URL/prio"; done
JOBS_NOW=$T0 code 0 "--limit 1 sends one" deliver --limit 1
is "the highest priority" "$(q "keys('/prio')")" "prio10"
for i in 1 2 3; do JOBS_NOW=$T0 deliver --limit 1 >/dev/null 2>&1; done
is "then in priority order" "$(q "keys('/prio')")" "prio10 prio5 prio0 prio-3"

enq '{}' --key later --delay 10m "$URL/later"
nb=$(col later not_before)
# Rounded up to a whole second: the run's clock has moved a little past T0.
case $((nb - T0)) in
600 | 601) ok "--delay sets not_before: now + 10 min" ;;
*) not_ok "--delay sets not_before: now + 10 min" "got now + $((nb - T0)) s" ;;
esac
JOBS_NOW=$T0 deliver >/dev/null 2>&1
JOBS_NOW=$((nb - 1)) deliver >/dev/null 2>&1
is "not sent before its time" "$(row later) $(n /later)" "pending 0 0"
snap() { appsql "select * from outbox order by id"; sql "select * from breakers; select * from rate_limits"; }
before=$(snap)
JOBS_NOW=$nb code 0 "--dry-run" deliver --dry-run --json
like "counts what is due" "$out" '"due":[[:space:]]*1[,}]'
is "and changes nothing" "$(snap)" "$before"
is "sends nothing" "$(n /later)" 0
JOBS_NOW=$nb deliver >/dev/null 2>&1
is "sent at its time" "$(row later) $(n /later)" "sent 1 1"

script h '{"/ord": ["500", "200"]}'
enq '{"o":1}' --key ord1 --ordering-key acct-7 "$URL/ord"
enq '{"o":2}' --key ord2 --ordering-key acct-7 "$URL/ord"
enq '{"o":3}' --key ord3 --ordering-key acct-8 "$URL/ord3"
JOBS_NOW=$T0 code 0 "ordering keys: the first fails" deliver
is "the later row of its key waits, another key does not" \
	"$(row ord1), $(row ord2), $(row ord3)" "pending 1, pending 0, sent 1"
JOBS_NOW=$(col ord1 not_before) deliver >/dev/null 2>&1
is "then both go, in order" "$(row ord1), $(row ord2) / $(q "keys('/ord')")" \
	"sent 2, sent 1 / ord1 ord1 ord2"

# ----------------------------------------------------------------------
# Breakers
fresh
config "{\"delivery\": {\"timeout\": \"2s\", \"connect_timeout\": \"1s\",
	\"breaker_failures\": 3, \"breaker_cooldown\": \"60s\"}}"
script h '{"/down": "503"}'
for i in 1 2 3 4 5; do enq '{}' --key down$i --max-attempts 20 "$URL/down"; done
JOBS_NOW=$T0 code 0 "3 failures to a host" deliver --limit 3
is "open its breaker" "$(sql "select state from breakers where host = '$HOSTPORT'")" "open"
JOBS_NOW=$T0 code 0 "then its rows are skipped" deliver
is "none sent, no attempt spent" "$(n /down) $(row down4) $(row down5)" "3 pending 0 pending 0"
JOBS_NOW=$((T0 + 59)) deliver >/dev/null 2>&1
is "until the cool-down is over" "$(n /down)" 3
JOBS_NOW=$((T0 + 61)) deliver >/dev/null 2>&1
is "then one probe" "$(n /down)" 4
is "which failed: open again" "$(sql "select state from breakers where host = '$HOSTPORT'")" "open"
JOBS_NOW=$((T0 + 62)) deliver >/dev/null 2>&1
is "for another cool-down" "$(n /down)" 4
script h '{"/down": "200"}'
JOBS_NOW=$((T0 + 122)) deliver >/dev/null 2>&1
is "a probe that succeeds closes it; the rest follow" \
	"$(sql "select state from breakers where host = '$HOSTPORT'") $(appsql "select count(*) from outbox where status = 'sent'")" \
	"closed 5"
# An open breaker must not starve the other hosts, however many rows it holds.
script h '{"/down": "503"}'
for i in 1 2 3; do enq '{}' --key stuck$i "$URL/down"; done
JOBS_NOW=$((T0 + 200)) deliver >/dev/null 2>&1
appsql "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500)
	INSERT INTO outbox (channel, destination, body, idempotency_key, created_at, not_before)
	SELECT 'webhook', '$URL/down', '{}', 'bulk-' || i, $T0, $T0 FROM s"
enq '{}' --key other-host "$URL2/ok"
JOBS_NOW=$((T0 + 201)) code 0 "500 rows behind an open breaker" deliver
is "do not keep another host's row from being sent" \
	"$(row other-host) $(qs h2 "len(P('/ok'))")" "sent 1 1"

# ----------------------------------------------------------------------
# Rate limits
fresh
config "{\"delivery\": {$BASECFG, \"rate_limits\": {\"$HOSTPORT\": \"2/m\"}}}"
: >"$T/h.log"
script h '{}'
for i in 1 2 3 4 5; do enq '{}' --key rl$i "$URL/rl"; done
JOBS_NOW=$T0 code 0 "a host limited to 2/m" deliver
is "gets 2 in a run" "$(n /rl)" 2
is "the others wait, no attempt spent" "$(appsql "select group_concat(status || attempts, ' ') from outbox")" \
	"sent1 sent1 pending0 pending0 pending0"
JOBS_NOW=$((T0 + 1)) deliver >/dev/null 2>&1
is "none a second later" "$(n /rl)" 2
JOBS_NOW=$((T0 + 31)) deliver >/dev/null 2>&1
is "one more after 30 s" "$(n /rl)" 3
JOBS_NOW=$((T0 + 300)) deliver >/dev/null 2>&1
is "the rest once refilled" "$(n /rl)" 5
config "{\"delivery\": {$BASECFG}}"

# ----------------------------------------------------------------------
# jobs-status queue
fresh
script h '{"/gone": "410"}'
enq '{}' --key q-sent "$URL/ok"
enq '{}' --key q-dead "$URL/gone"
enq '{}' --key q-later --delay 1h "file://$T/spool/later"
enq 'm' --key q-mail mailto:frank@example.com
JOBS_NOW=$T0 code 1 "one of four dead: exit 1" deliver
JOBS_NOW=$((T0 + 10)) code 0 "jobs-status queue --json" jobs-status queue --json
is "has the documented shape and counts" "$(printf '%s' "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
st = ["pending", "leased", "sent", "dead", "cancelled"]
assert sorted(o) == sorted(st + ["oldest_pending_s", "channels"]), sorted(o)
assert sorted(o["channels"]) == ["email", "file", "webhook"], o["channels"]
for c in o["channels"].values():
    assert sorted(c) == sorted(st), c
print([o[s] for s in st], o["oldest_pending_s"],
      {c: [v[s] for s in st] for c, v in sorted(o["channels"].items())})')" \
	"[1, 0, 2, 1, 0] 10 {'email': [0, 0, 1, 0, 0], 'file': [1, 0, 0, 0, 0], 'webhook': [0, 0, 1, 1, 0]}"
code 0 "retry-dead --key" jobs-status queue retry-dead --key q-dead
is "says so" "$out" "1 dead row requeued"
is "the row is pending again, attempts start over" "$(row q-dead)" "pending 0"
code 1 "retry-dead --key of no dead row: exit 1" jobs-status queue retry-dead --key q-sent
code 2 "retry-dead without --key or --all: exit 2" jobs-status queue retry-dead
script h '{}'
JOBS_NOW=$T0 code 0 "the requeued row is delivered" deliver
is "sent" "$(row q-dead)" "sent 1"
script h '{"/gone": "410"}'
enq '{}' --key q-dead2 "$URL/gone"
enq '{}' --key q-dead3 "$URL/gone"
JOBS_NOW=$T0 deliver >/dev/null 2>&1
code 0 "retry-dead --all" jobs-status queue retry-dead --all
is "requeues every dead row" "$out / $(row q-dead2), $(row q-dead3)" \
	"2 dead rows requeued / pending 0, pending 0"

# ----------------------------------------------------------------------
# Secrets: the SMTP password and the webhook secret appear nowhere.
fresh
script h '{"/s500": "500", "/s404": "404"}'
enq '{}' --key s-ok "$URL/sok"
enq '{}' --key s-500 "$URL/s500"
enq '{}' --key s-404 "$URL/s404"
enq 'm' --key s-mail mailto:gina@example.com
JOBS_NOW=$T0 JOBS_WEBHOOK_SECRET=$WSECRET JOBS_SMTP_URL=smtp://127.0.0.1:$(cat "$T/sa.port" 2>/dev/null) \
	JOBS_SMTP_USER=jobs JOBS_SMTP_PASSWORD=$SMTPPW deliver -v >"$T/out" 2>"$T/err"
JOBS_NOW=$T0 JOBS_WEBHOOK_SECRET=$WSECRET JOBS_SMTP_PASSWORD=$SMTPPW \
	deliver --json >>"$T/out" 2>>"$T/err"
wraw=$(printf '%s' "${WSECRET#whsec_}" | base64 -d)
all="$(cat "$T/out" "$T/err")
$(sqlite3 "$JOBS_DB" .dump)
$(sqlite3 "$JOBS_APP_DB" .dump)
$(cat "$T/h.log" "$T/sa.log" "$T/sa.wire" 2>/dev/null)"
like "(the run did something)" "$(row s-ok) $(row s-500) $(row s-404)" "sent 1 pending 1 dead 1"
absent "the SMTP password: not in output, ledger, app db or on the wire" "$all" "$SMTPPW"
absent "the webhook secret: nowhere either" "$all" "${WSECRET#whsec_}"
absent "nor its decoded key" "$all" "$wraw"
finish

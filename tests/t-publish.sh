# jobs-publish: scheduled posts out through their channel's webhook via the
# outbox, to a real HTTP receiver on 127.0.0.1 that this test starts.
. tests/lib.sh

rm -f "$T/port"
python3 tests/receivers/httprecv.py "$T/requests" "$T/port" 200 &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$T"' EXIT
wait_until 5 test -s "$T/port" || not_ok "the receiver started"
URL="http://127.0.0.1:$(cat "$T/port")/publish"
export JOBS_ALLOW_NETWORKS=127.0.0.0/8
NOW=1798000000		# the pinned clock of the runs below
export JOBS_NOW=$NOW

check "create the databases" jobs-status migrate
appsql "INSERT INTO channels (name, url) VALUES ('blog', '$URL'), ('ftp', 'ftp://x/');
INSERT INTO posts (channel, title, body, publish_at) VALUES
 ('blog', 'due', 'b1', $NOW - 60),
 ('blog', 'early within the window', 'b2', $NOW + 120),
 ('blog', 'future', 'b3', $NOW + 3600),
 ('blog', 'late', 'b4', $NOW - 7200),
 ('nochannel', 'orphan', 'b5', $NOW - 10),
 ('ftp', 'bad url', 'b6', $NOW - 10);
INSERT INTO posts (channel, title, body, publish_at, status) VALUES
 ('blog', 'a draft', 'b7', $NOW - 10, 'draft');"

code 0 "--dry-run changes nothing" jobs-publish --dry-run --json
like "but counts what is due" "$out" '"due":5'
is "no post moved" "$(appsql "select count(*) from posts where status = 'scheduled'")" "6"

code 1 "a run with posts that cannot be published fails" jobs-publish --json
like "and says how many" "$err" "2 posts failed"
is "due posts are publishing, via the outbox" "$(appsql "select title from posts where status = 'publishing' order by id" | tr '\n' '|')" "due|early within the window|late|"
is "a post without its channel failed" "$(appsql "select status, last_error from posts where title = 'orphan'")" "failed|no such channel"
is "a channel that is not a webhook failed" "$(appsql "select status from posts where title = 'bad url'")" "failed"
is "the future and the draft wait" "$(appsql "select title, status from posts where title in ('future', 'a draft') order by id" | tr '\n' ' ')" "future|scheduled a draft|draft "
is "one outbox row a post, keyed post-<id>" "$(appsql "select idempotency_key from outbox order by idempotency_key" | tr '\n' ' ')" "post-1 post-2 post-4 "
like "a late post is published with a warning" "$err" "published late"
is "and a late event" "$(appsql "select status from publish_events where post_id = 4 order by id" | tr '\n' ' ')" "late queued "

code 0 "jobs-deliver sends them" jobs-deliver
is "the receiver got three posts, each with its key" "$(python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["headers"]["Idempotency-Key"] for l in open(sys.argv[1]))))' "$T/requests")" "post-1 post-2 post-4"
like "the body is the post" "$(head -n 1 "$T/requests")" 'title'
code 0 "the next run settles them" jobs-publish
is "published, with the time" "$(appsql "select count(*) from posts where status = 'published' and published_at is not null")" "3"
is "one event per step" "$(appsql "select status from publish_events where post_id = 1 order by id" | tr '\n' ' ')" "queued published "
code 0 "a run with nothing due is quiet" jobs-publish
is "silent" "$out$err" ""
is "never published twice" "$(wc -l <"$T/requests" | tr -d ' ')" "3"

# Overlapping runs: the job's lock, and the status guard in one transaction.
appsql "INSERT INTO posts (channel, title, body, publish_at) SELECT 'blog', 'bulk ' || value, 'x', $NOW - 1 FROM generate_series(1, 200)" 2>/dev/null ||
	appsql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO posts (channel, title, body, publish_at) SELECT 'blog', 'bulk ' || i, 'x', $NOW - 1 FROM n"
jobs-publish & p1=$!
jobs-publish & p2=$!
jobs-publish & p3=$!
wait $p1 $p2 $p3
is "200 posts from three overlapping runs: 200 outbox rows" "$(appsql "select count(*) from outbox where idempotency_key like 'post-%' and idempotency_key not in ('post-1', 'post-2', 'post-4')")" "200"
is "each queued once" "$(appsql "select count(*) from publish_events where status = 'queued' and detail not in ('post-1', 'post-2', 'post-4')")" "200"

# A dead webhook fails the post; requeueing it republishes with the same key.
kill $rpid 2>/dev/null
wait $rpid 2>/dev/null
appsql "INSERT INTO posts (channel, title, body, publish_at) VALUES ('blog', 'unlucky', 'x', $NOW)"
jobs-publish >/dev/null 2>&1
appsql "UPDATE outbox SET status = 'dead', last_error = 'HTTP 410' WHERE idempotency_key = 'post-' || (SELECT id FROM posts WHERE title = 'unlucky')"
code 1 "a dead outbox row fails its post" jobs-publish
is "with the outbox's error" "$(appsql "select status, last_error from posts where title = 'unlucky'")" "failed|HTTP 410"
code 2 "a bad --window" jobs-publish --window soon

# One event per attempt: a webhook that fails once, then takes the post.
echo '{"/flaky": ["503", "200"]}' >"$T/h.script"
rm -f "$T/hport"
python3 tests/receivers/hookrecv.py "$T/hreq" "$T/hport" "$T/h.script" &
hpid=$!
trap 'kill $rpid $hpid 2>/dev/null; rm -rf "$T"' EXIT
wait_until 5 test -s "$T/hport" || not_ok "the scripted receiver started"
appsql "INSERT INTO channels (name, url) VALUES ('flaky', 'http://127.0.0.1:$(cat "$T/hport")/flaky');
INSERT INTO posts (channel, title, body, publish_at) VALUES ('flaky', 'second time lucky', 'x', $NOW)"
pid=$(appsql "select id from posts where title = 'second time lucky'")
jobs-publish >/dev/null 2>&1
jobs-deliver >/dev/null 2>&1
code 0 "a failed attempt that will be retried is not a failure" jobs-publish --json
like "but counted (this one, and the bulk posts whose receiver is gone)" "$out" '"retrying":[[:space:]]*201[,}]'
like "one retrying event, with the reason" "$(appsql "select status, detail from publish_events where post_id = $pid order by id" | tr '\n' ' ')" \
	"^queued|post-$pid retrying|attempt 1 of 8 failed: HTTP 503"
code 0 "a rerun adds no event" jobs-publish
is "still two events" "$(appsql "select count(*) from publish_events where post_id = $pid")" 2
later=$(appsql "select not_before from outbox where idempotency_key = 'post-$pid'")
JOBS_NOW=$later jobs-deliver >/dev/null 2>&1
JOBS_NOW=$later code 0 "the second attempt is published" jobs-publish
is "queued, retrying, published" "$(appsql "select status from publish_events where post_id = $pid order by id" | tr '\n' ' ')" \
	"queued retrying published "
is "the post counts its attempts" "$(appsql "select status, attempts from posts where id = $pid")" "published|2"
finish

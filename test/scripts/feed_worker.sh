#!/usr/bin/env bash
# The change feed's example worker (examples/automation/worker.py) handles
# every event exactly once, across a SIGKILL in the middle of a batch
# (docs/feed.md).  Then a benchmark line: events per second through one
# consumer.
#
# A program over 200 customers; the worker (a login in customer_tier_writer)
# starts, orders arrive in 40 transactions (new customers and rises of tier),
# the worker is killed with SIGKILL while a batch's transaction is open,
# more orders arrive, the worker is started again and drains the feed.  Every
# event written after it registered must have exactly one task in the CRM's
# table, which has no UNIQUE here so that a duplicate would show.
set -euo pipefail
cd "${CT_ROOT:-$(dirname "$0")/../..}"
db=ct_feed_worker
login=ct_feed_worker_login
python=/usr/bin/python3   # Debian's, with python3-psycopg
fail=0
work=$(mktemp -d /tmp/customer_tier_feed.XXXXXX)
worker_pid=
stop_worker() {
    if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then kill -TERM "$worker_pid"; wait "$worker_pid" || true; fi
    worker_pid=
}
trap 'stop_worker; rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
DROP DATABASE IF EXISTS $db;
CREATE DATABASE $db;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION customer_tier;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$login') THEN
        CREATE ROLE $login LOGIN IN ROLE customer_tier_writer;
    END IF;
END \$\$;
CREATE TABLE orders (customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON orders (customer_id);
INSERT INTO orders SELECT c, 10 + c % 50, now() - (c % 300) * interval '1 day' FROM generate_series(1, 200) AS c;
SELECT customer_tier.create_program('feedw', 'orders', 'customer_id', 'amount', 'ordered_at');
SELECT customer_tier.set_method('feedw', 'rules');
$(sed -e 's/ UNIQUE,/,/' examples/automation/tasks.sql)
GRANT USAGE ON SCHEMA crm TO $login;
GRANT INSERT ON crm.tasks TO $login;
GRANT INSERT ON orders TO $login;
SQL

start_worker() {
    PGDATABASE=$db PGUSER=$login CT_PROGRAM=feedw CT_CONSUMER=crm-tasks CT_BATCH=20 \
        CT_PAUSE_PER_EVENT="$1" "$python" examples/automation/worker.py >>"$work/worker.log" 2>&1 &
    worker_pid=$!
}
# orders for new customers (a first tier each) and big orders for existing
# ones (rises of tier), in separate transactions
write_orders() {
    local from=$1 n=$2 i
    for i in $(seq "$from" $((from + n - 1))); do
        echo "INSERT INTO orders VALUES ($((1000 + i)), 20, now()), ($((i % 200 + 1)), $((500 * (i % 7 + 1))), now());"
    done | psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null
}
waiting() { psql -X -At -d $db -c "SELECT count(*) FROM ct_feedw.event_deliveries WHERE consumer = 'crm-tasks'"; }

start_worker 0.02
for _ in $(seq 1 50); do   # until the worker has registered
    [ "$(psql -X -At -d $db -c "SELECT count(*) FROM ct_feedw.event_consumers")" = 1 ] && break; sleep 0.1
done
write_orders 1 40
# kill it while a batch's transaction is open
for _ in $(seq 1 100); do
    open=$(psql -X -At -d $db -c "SELECT count(*) FROM pg_stat_activity
                                   WHERE application_name = 'customer_tier feed worker' AND xact_start IS NOT NULL")
    [ "$open" = 1 ] && break; sleep 0.05
done
kill -KILL "$worker_pid"; wait "$worker_pid" 2>/dev/null || true; worker_pid=
killed_with=$(psql -X -At -d $db -c "SELECT count(*) FROM crm.tasks")
write_orders 41 40
start_worker 0
for _ in $(seq 1 200); do
    [ "$(waiting)" = 0 ] && break; sleep 0.1
done
sleep 0.5
stop_worker

read -r events tasks distinct missing < <(psql -X -At -F' ' -d $db -c "
    SELECT (SELECT count(*) FROM ct_feedw.events), count(*), count(DISTINCT t.event_id),
           (SELECT count(*) FROM ct_feedw.events AS e WHERE NOT EXISTS (SELECT FROM crm.tasks AS x WHERE x.event_id = e.id))
      FROM crm.tasks AS t")
echo "feed_worker: $events events, $tasks tasks ($killed_with written before the SIGKILL in the middle of a batch), $distinct distinct events, $missing events without a task"
if [ "$open" != 1 ]; then echo "feed_worker: FAIL: the worker was never seen in the middle of a batch"; fail=1; fi
if [ "$events" -lt 80 ]; then echo "feed_worker: FAIL: expected at least 80 events"; fail=1; fi
if [ "$tasks" != "$events" ] || [ "$distinct" != "$events" ] || [ "$missing" != 0 ]; then
    echo "feed_worker: FAIL: every event must have exactly one task"; cat "$work/worker.log"; fail=1
fi
if grep -q Traceback "$work/worker.log"; then echo "feed_worker: FAIL: the worker failed"; cat "$work/worker.log"; fail=1; fi

# Events per second through one consumer: 20,000 new customers in one
# statement, then one worker drains them (batches of 100).
psql -X -q -v ON_ERROR_STOP=1 -d $db >/dev/null <<SQL
TRUNCATE crm.tasks;
INSERT INTO orders SELECT 100000 + c, 20, now() FROM generate_series(1, 20000) AS c;
SQL
start=$(date +%s.%N)
PGDATABASE=$db PGUSER=$login CT_PROGRAM=feedw CT_CONSUMER=crm-tasks CT_ONCE=1 "$python" examples/automation/worker.py
end=$(date +%s.%N)
drained=$(psql -X -At -d $db -c "SELECT count(*) FROM crm.tasks")
echo "feed_worker: one consumer: $drained events in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s, $(awk -v n="$drained" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }') events per second (batches of 100, a task written for each)"
[ "$drained" -ge 20000 ] || { echo "feed_worker: FAIL: the benchmark drained $drained of 20000 events"; fail=1; }

psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
exit $fail

#!/usr/bin/env bash
# Crash recovery during a reclassification run: the server is stopped with
# pg_ctl -m immediate (no shutdown checkpoint; the next start replays the WAL)
# while CALL customer_tier.reclassify is part-way through its committed
# batches.  After the restart: the interrupted run is still logged as running
# with the batches it committed, the next run marks it failed and succeeds,
# every customer is scored by that run, and verify_program finds no
# difference.
#
# Run by scripts/test.sh (suite "scripts"), which exports CT_RUN, CT_DATA and
# CT_BIN; the server is started again as scripts/lib.sh starts it.
set -euo pipefail
: "${CT_DATA:?run me through scripts/test.sh}"
: "${CT_BIN:?run me through scripts/test.sh}"
: "${CT_RUN:?run me through scripts/test.sh}"
source "$(dirname "$0")/../../scripts/lib.sh"     # as_pg
db=ct_crash_reclassify
log=$CT_RUN/server.log
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
source "$(dirname "$0")/lib/check.sh"     # say, q, check, fail

createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION customer_tier;
CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint, amount numeric, ordered_at timestamptz);
INSERT INTO orders SELECT i, i % 6000, (i * 7) % 113, now() - (i % 700) * interval '1 day'
  FROM generate_series(1, 30000) AS i;
SELECT customer_tier.create_program('crash', 'orders', 'customer', 'amount', 'ordered_at');
SQL
customers=$(q "SELECT count(*) FROM ct_crash.customers")
batch=10
batches_needed=$(( (customers + batch - 1) / batch ))

# 600 committed batches of 10 customers: the run is stopped after a few.
psql -X -q -d "$db" -c "CALL customer_tier.reclassify('crash', batch_size => $batch)" >/dev/null 2>&1 &
run_job=$!
done_batches=0
for _ in $(seq 1 600); do
    done_batches=$(q "SELECT coalesce(max(batches), 0) FROM customer_tier.run WHERE outcome = 'running'" 2>/dev/null || echo 0)
    [ "$done_batches" -ge 5 ] && break
    sleep 0.05
done
[ "$done_batches" -ge 5 ] || { say "FAIL: the run never reached 5 batches"; exit 1; }
say "stopping the server with -m immediate, $done_batches of $batches_needed batches committed"
as_pg "$CT_BIN/pg_ctl" -D "$CT_DATA" -m immediate -w stop >/dev/null
wait "$run_job" || true
log_start=$(($(stat -c %s "$log") + 1))
as_pg "$CT_BIN/pg_ctl" -D "$CT_DATA" -l "$log" -w -t 60 start >/dev/null
recovered=$(tail -c "+$log_start" "$log" | grep -c "database system was not properly shut down; automatic recovery in progress" || true)
check "the restart went through crash recovery" "$recovered" 1

# The interrupted run: nothing could close it, so it still says running, with
# the batches it committed, fewer than the run needed.
read -r outcome batches <<<"$(q "SELECT outcome || ' ' || batches FROM customer_tier.run WHERE id = 1")"
check "the interrupted run is still marked running" "$outcome" running
mid=$([ "$batches" -ge 5 ] && [ "$batches" -lt "$batches_needed" ] && echo yes || echo no)
check "it was stopped mid-run ($batches of $batches_needed batches)" "$mid" yes

q "CALL customer_tier.reclassify('crash')" >/dev/null
check "the next run marks it failed" \
      "$(q "SELECT outcome || ': ' || error FROM customer_tier.run WHERE id = 1")" \
      "failed: interrupted: the session running it ended before it finished"
# (its id need not be 2: a sequence may skip values after a crash)
next=$(q "SELECT max(id) FROM customer_tier.run")
check "the next run succeeds over every customer" \
      "$(q "SELECT outcome || ' ' || customers FROM customer_tier.run WHERE id = $next AND id > 1")" "succeeded $customers"
check "verify_program finds no difference" "$(q "SELECT count(*) FROM customer_tier.verify_program('crash')")" 0
check "no table of the extension is UNLOGGED" \
      "$(q "SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
             WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND c.relpersistence = 'u'")" 0
exit $fail

#!/usr/bin/env bash
# The reclassification job across sessions: a second run of the same program
# exits with a notice while one holds the lock, and pg_cron (preloaded by the
# test server, cron.database_name = postgres) runs a scheduled reclassification.
set -euo pipefail
db=postgres
fail=0

psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION customer_tier;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE TABLE jobs_orders (customer_id bigint, amount numeric(12,2), ordered_at timestamptz);
INSERT INTO jobs_orders SELECT c % 50, 10, now() - c * interval '1 day' FROM generate_series(1, 500) AS c;
SELECT customer_tier.create_program('jobs', 'jobs_orders', 'customer_id', 'amount', 'ordered_at');
SQL

# 1. While another session holds the program's run lock, a run exits at once.
psql -X -q -d "$db" -c "SELECT pg_advisory_lock(customer_tier.run_lock_key('jobs')), pg_sleep(4)" >/dev/null &
holder=$!
sleep 1
notice=$(psql -X -q -d "$db" -c "CALL customer_tier.reclassify('jobs')" 2>&1 || true)
wait "$holder"
case "$notice" in
    *'program "jobs" is being reclassified by another session; this run exits'*) echo "second run exited: ok" ;;
    *) echo "second run did not exit with the notice: $notice"; fail=1 ;;
esac
runs=$(psql -X -At -d "$db" -c "SELECT count(*) FROM customer_tier.run WHERE program = 'jobs'")
[ "$runs" = 0 ] || { echo "the refused run was logged ($runs runs)"; fail=1; }

# 2. pg_cron runs the scheduled CALL (pg_cron 1.4 schedules by the minute).
job=$(psql -X -At -d "$db" -c "SELECT customer_tier.schedule('jobs', '* * * * *')")
echo "scheduled pg_cron job $job"
for _ in $(seq 1 75); do
    done_runs=$(psql -X -At -d "$db" -c "SELECT count(*) FROM customer_tier.run WHERE program = 'jobs' AND outcome = 'succeeded'")
    [ "$done_runs" -ge 1 ] && break
    sleep 1
done
if [ "$done_runs" -ge 1 ]; then
    echo "pg_cron ran the reclassification: $(psql -X -At -d "$db" -c "SELECT 'run ' || id || ' ' || outcome || ', ' || customers || ' customers' FROM customer_tier.run WHERE program = 'jobs' ORDER BY id LIMIT 1")"
else
    echo "pg_cron did not run the job within 75 s:"
    psql -X -d "$db" -c "SELECT jobid, status, return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 3"
    fail=1
fi
removed=$(psql -X -At -d "$db" -c "SELECT customer_tier.unschedule('jobs')")
[ "$removed" = t ] || { echo "unschedule said $removed"; fail=1; }

psql -X -q -d "$db" >/dev/null <<'SQL'
SELECT customer_tier.drop_program('jobs');
DROP TABLE jobs_orders;
DROP EXTENSION pg_cron;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
SQL
exit $fail

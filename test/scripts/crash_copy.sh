#!/usr/bin/env bash
# Crash recovery during a bulk load: the backend running a COPY into a
# program's orders table is killed with SIGKILL while the COPY is open (its
# rows are in the table's heap and WAL, its transaction uncommitted).  The
# postmaster then resets every backend and recovers from the WAL.  After it:
# the orders and the program's customers are what they were before the COPY,
# verify_program finds no difference, and a new COPY is maintained as usual.
#
# Run by scripts/test.sh (suite "scripts"), which exports CT_RUN (server log).
set -euo pipefail
: "${CT_RUN:?run me through scripts/test.sh}"
db=ct_crash_copy
log=$CT_RUN/server.log
work=$(mktemp -d)
feeder=
cleanup() {
    [ -z "$feeder" ] || kill "$feeder" 2>/dev/null || true
    rm -rf "$work"
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
source "$(dirname "$0")/lib/check.sh"     # say, q, check, fail

createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION customer_tier;
CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint, amount numeric, ordered_at timestamptz);
INSERT INTO orders SELECT i, i % 500, i % 97, '2026-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 20000) AS i;
SELECT customer_tier.create_program('crash', 'orders', 'customer', 'amount', 'ordered_at');
SQL
snapshot() { q "SELECT count(*) || ' orders, ' || (SELECT count(*) || ' customers, ' || sum(orders) || ' counted, ' || sum(monetary)
                  FROM ct_crash.customers) FROM orders"; }
before=$(snapshot)

# The COPY reads from a FIFO fed 60,000 rows (customers 1000..1999 are new)
# and then held open: the backend is mid-COPY, waiting for more, when killed.
mkfifo "$work/rows"
bash -c 'awk '\''BEGIN { for (i = 100001; i <= 160000; i++)
                         printf "%d\t%d\t%d\t2026-06-01 00:00:00+00\n", i, 1000 + i % 1000, i % 50 }'\''
         exec sleep 300' >"$work/rows" &
feeder=$!
psql -X -q -d "$db" -c "COPY orders FROM STDIN" <"$work/rows" >"$work/copy.out" 2>&1 &
copy_job=$!

pid=
for _ in $(seq 1 300); do
    pid=$(psql -X -qAt -d "$db" -c "SELECT p.pid FROM pg_stat_progress_copy AS p
                                     WHERE p.relid = 'orders'::regclass AND p.tuples_processed >= 50000" || true)
    [ -n "$pid" ] && break
    sleep 0.2
done
[ -n "$pid" ] || { say "FAIL: the COPY never reached 50000 rows"; cat "$work/copy.out"; exit 1; }
log_start=$(($(stat -c %s "$log") + 1))
say "killing backend $pid with SIGKILL, over 50000 rows into its COPY"
kill -KILL "$pid"
# psql waits for input: end it, and it finds its connection gone
kill "$feeder" 2>/dev/null || true
feeder=
wait "$copy_job" || true

# The postmaster notices, ends every backend and recovers.
up=no
for _ in $(seq 1 120); do
    if psql -X -qAt -d "$db" -c 'SELECT 1' >/dev/null 2>&1; then up=yes; break; fi
    sleep 0.5
done
check "the server accepts connections again" "$up" yes
crash_logged=$(tail -c "+$log_start" "$log" | grep -c "was terminated by signal 9" || true)
check "the server log shows the killed backend" "$crash_logged" 1
recovered=$(tail -c "+$log_start" "$log" | grep -c "database system is ready to accept connections" || true)
check "the server went through crash recovery" "$recovered" 1

check "orders and customers are as before the COPY" "$(snapshot)" "$before"
check "verify_program finds no difference" "$(q "SELECT count(*) FROM customer_tier.verify_program('crash')")" 0

# A new COPY after the crash is maintained as usual.
seq 200001 230000 | awk '{ printf "%d\t%d\t%d\t2026-07-01 00:00:00+00\n", $1, 1000 + $1 % 1000, $1 % 50 }' \
    | psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "COPY orders FROM STDIN"
check "a new COPY adds its customers" "$(q "SELECT count(*) FROM ct_crash.customers WHERE customer >= 1000")" 1000
check "verify_program after the new COPY" "$(q "SELECT count(*) FROM customer_tier.verify_program('crash')")" 0
exit $fail

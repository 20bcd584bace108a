#!/usr/bin/env bash
# test/bench/order_stats.sh — order_stats against a bare GROUP BY, same data, same run.
#
#   bash test/bench/order_stats.sh          (not part of scripts/test.sh)
#
# Loads ORDERS orders (default 2,000,000) for CUSTOMERS customers (default
# 200,000) with numeric(12,2) amounts and timestamptz times, then times, best
# of 3 (EXPLAIN ANALYZE execution time, so no rows go to the client; and,
# serial only, the backend's CPU time):
#   A: SELECT customer, customer_tier.order_stats(ordered_at, amount) ... GROUP BY customer
#   B: SELECT customer, count(*), sum(amount), max(ordered_at) ... GROUP BY customer
# and prints A / B.  Target: ratio <= 1.0.  Runs serial (no parallel workers)
# and with PostgreSQL's default parallel settings.
source "$(dirname "$0")/../../scripts/lib.sh"

ORDERS=${ORDERS:-2000000}
CUSTOMERS=${CUSTOMERS:-200000}
RUNS=${RUNS:-3}

ct_prepare
ct_log "loading $ORDERS orders for $CUSTOMERS customers"
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE EXTENSION customer_tier;
CREATE TABLE orders (
    order_id   bigint PRIMARY KEY,
    customer   integer NOT NULL,
    ordered_at timestamptz NOT NULL,
    amount     numeric(12,2) NOT NULL
);
INSERT INTO orders
SELECT i,
       (hashint4(i) & 2147483647) % $CUSTOMERS,
       timestamptz '2020-01-01' + (hashint4(i + 1) & 2147483647) % (4 * 365 * 86400) * interval '1 second',
       round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2)
  FROM generate_series(1, $ORDERS) i;
VACUUM ANALYZE orders;
SQL

# One run of a query: prints "<execution ms> <backend CPU ms>".  Execution
# time is EXPLAIN ANALYZE's; CPU time is the backend's user + system time
# from /proc/<pid>/stat, which other load on a shared machine disturbs less.
run_once() {
    local settings=$1 query=$2 hz
    hz=$(getconf CLK_TCK)
    psql -X -q -At -v ON_ERROR_STOP=1 -d postgres >"$CT_TMP/explain.out" <<SQL
$settings;
SELECT pg_backend_pid() AS backend \gset
\setenv CT_BACKEND :backend
\! cut -d' ' -f14,15 /proc/\$CT_BACKEND/stat > $CT_TMP/cpu.before
EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $query;
\! cut -d' ' -f14,15 /proc/\$CT_BACKEND/stat > $CT_TMP/cpu.after
SQL
    printf '%s %s\n' \
        "$(sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' "$CT_TMP/explain.out")" \
        "$(cat "$CT_TMP/cpu.before" "$CT_TMP/cpu.after" |
           awk -v hz="$hz" 'NR == 1 { b = $1 + $2 } NR == 2 { printf "%d", ($1 + $2 - b) * 1000 / hz }')"
}

# Best of RUNS runs: prints "<best execution ms> <best CPU ms>".
best_of() {
    local settings=$1 query=$2 i ms cpu best_ms='' best_cpu=''
    for i in $(seq "$RUNS"); do
        read -r ms cpu <<<"$(run_once "$settings" "$query")"
        if [ -z "$best_ms" ] || awk -v a="$ms" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; then best_ms=$ms; fi
        if [ -z "$best_cpu" ] || [ "$cpu" -lt "$best_cpu" ]; then best_cpu=$cpu; fi
    done
    echo "$best_ms $best_cpu"
}

A="SELECT customer, customer_tier.order_stats(ordered_at, amount) FROM orders GROUP BY customer"
B="SELECT customer, count(*), sum(amount), max(ordered_at) FROM orders GROUP BY customer"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for mode in serial parallel; do
    if [ "$mode" = serial ]; then s="SET max_parallel_workers_per_gather = 0"; else s="RESET max_parallel_workers_per_gather"; fi
    read -r a_ms a_cpu <<<"$(best_of "$s" "$A")"
    read -r b_ms b_cpu <<<"$(best_of "$s" "$B")"
    printf '%-8s execution: order_stats %8.1f ms, bare GROUP BY %8.1f ms, ratio %s\n' \
        "$mode" "$a_ms" "$b_ms" "$(ratio "$a_ms" "$b_ms")"
    if [ "$mode" = serial ]; then
        printf '%-8s backend CPU: order_stats %6d ms, bare GROUP BY %6d ms, ratio %s\n' \
            "$mode" "$a_cpu" "$b_cpu" "$(ratio "$a_cpu" "$b_cpu")"
    fi
done
echo "plan of order_stats (serial):"
psql -X -At -d postgres -c "SET max_parallel_workers_per_gather = 0" \
     -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $A" | sed 's/^/  /'

#!/usr/bin/env bash
# test/bench/order_stats.sh — order_stats against a bare GROUP BY, same data, same run.
#
#   bash test/bench/order_stats.sh          (not part of scripts/test.sh)
#
# Loads ORDERS orders (default 2,000,000) for CUSTOMERS customers (default
# 200,000) with numeric(12,2) amounts and timestamptz times, then times, best
# of 3 (EXPLAIN ANALYZE execution time, so no rows go to the client):
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

# Best execution time in ms of RUNS runs of a query, from EXPLAIN ANALYZE.
best_ms() {
    local settings=$1 query=$2 best='' ms i
    for i in $(seq "$RUNS"); do
        ms=$(psql -X -At -d postgres -c "$settings" \
                  -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $query" |
             sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p')
        if [ -z "$best" ] || awk -v a="$ms" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$ms; fi
    done
    echo "$best"
}

A="SELECT customer, customer_tier.order_stats(ordered_at, amount) FROM orders GROUP BY customer"
B="SELECT customer, count(*), sum(amount), max(ordered_at) FROM orders GROUP BY customer"

for mode in serial parallel; do
    if [ "$mode" = serial ]; then s="SET max_parallel_workers_per_gather = 0"; else s="RESET max_parallel_workers_per_gather"; fi
    a=$(best_ms "$s" "$A")
    b=$(best_ms "$s" "$B")
    printf '%-8s order_stats: %9.1f ms   bare GROUP BY: %9.1f ms   ratio: %.2f\n' \
        "$mode" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
done
echo "plan of order_stats (serial):"
psql -X -At -d postgres -c "SET max_parallel_workers_per_gather = 0" \
     -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) $A" | sed 's/^/  /'

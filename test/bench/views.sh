#!/usr/bin/env bash
# test/bench/views.sh — the views a CRM screen or a BI dashboard reads, on a
# million customers (not part of scripts/test.sh).
#
#   bash test/bench/views.sh
#   CUSTOMERS=200000 bash test/bench/views.sh      (a smaller population)
#
# CUSTOMERS customers (default 1,000,000) with a heavy-tailed number of orders
# (a quarter bought once, the others 2 to 13 times: about 5.9 orders each),
# over three years; work_mem = 64MB.  One program, one run, then a contact
# logged for one customer in ten.  Each query is run three times in one
# session; the best time is printed (psql's \timing, milliseconds).
#   first page    the first 50 rows of the list, as a CRM screen opens it
#   next page     the 50 rows after the first page's last, by keyset
#   deep page     the 50 rows after the 100,000th, by keyset
#   one tier      the first page of the list filtered to one tier
#   summaries     tier_summary and segment_summary (summary_deltas, folded by the run),
#                 then the same counts grouped from the customers, as a user would without them
#   table size    bytes per customer of the customers table and its indexes, and the
#                 share of its updates that were HOT: after the run, then after
#                 LIVE_SECONDS (default 20) of single-row orders of existing customers
# The issue's targets: a list's page at most 20 ms, a summary at most 50 ms, at
# most 250 bytes per customer.
source "$(dirname "$0")/../../scripts/lib.sh"

CUSTOMERS=${CUSTOMERS:-1000000}
LIVE_SECONDS=${LIVE_SECONDS:-20}

ct_prepare
ct_log "loading $CUSTOMERS customers' orders, creating the program, one run and the contacts"
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
ALTER SYSTEM SET work_mem = '64MB';
SELECT pg_reload_conf();
CREATE EXTENSION customer_tier;
CREATE TABLE orders AS
SELECT c::bigint AS customer_id,
       now() - (hashint4(c * 16 + k) & 2147483647) % (3 * 365 * 86400) * interval '1 second' AS ordered_at,
       round(((hashint4(c * 16 + k + 7) & 2147483647) % 100000)::numeric / 100 + 1, 2)::numeric(12,2) AS amount
  FROM generate_series(1, $CUSTOMERS) AS c,
       generate_series(1, CASE WHEN (hashint4(c) & 3) = 0 THEN 1 ELSE 2 + (hashint4(c + 1) & 2147483647) % 12 END) AS k;
CREATE INDEX ON orders (customer_id);
VACUUM ANALYZE orders;
SELECT customer_tier.create_program('bench', 'orders', 'customer_id', 'amount', 'ordered_at');
SET client_min_messages = warning;
CALL customer_tier.reclassify('bench');
INSERT INTO ct_bench.contacts (customer, channel, contacted_at)
SELECT c, 'phone', now() - (hashint4(c::int + 3) & 2147483647) % (200 * 86400) * interval '1 second'
  FROM ct_bench.customers AS c0 (c) WHERE hashint4(c::int + 5) % 10 = 0;
VACUUM ANALYZE ct_bench.customers;
SQL

# best of three runs of one query, in ms
best() {
    psql -X -q -d postgres -v ON_ERROR_STOP=1 -c '\timing on' -c '\o /dev/null' \
         -c "$1" -c "$1" -c "$1" 2>&1 \
        | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1
}
# the page key of a list's row: the values after which the next page starts
key_at() { psql -X -At -F, -d postgres -c "$1"; }

fu_cols="tier_rank, priority, due_at, customer"
IFS=, read -r r p d c < <(key_at "SELECT $fu_cols FROM ct_bench.follow_ups_due LIMIT 1 OFFSET 49")
fu_next="SELECT * FROM ct_bench.follow_ups_due WHERE ($fu_cols) > ($r, $p, '$d', $c) LIMIT 50"
IFS=, read -r r p d c < <(key_at "SELECT $fu_cols FROM ct_bench.follow_ups_due LIMIT 1 OFFSET 99999")
fu_deep="SELECT * FROM ct_bench.follow_ups_due WHERE ($fu_cols) > ($r, $p, '$d', $c) LIMIT 50"
IFS=, read -r r p d c < <(key_at "SELECT $fu_cols FROM ct_bench.follow_ups_due WHERE tier_rank = 2 LIMIT 1 OFFSET 49")
fu_tier_next="SELECT * FROM ct_bench.follow_ups_due WHERE tier_rank = 2 AND (priority, due_at, customer) > ($p, '$d', $c) LIMIT 50"

cr_cols="stake_order, monetary, customer"
IFS=, read -r s m c < <(key_at "SELECT $cr_cols FROM ct_bench.churn_risk LIMIT 1 OFFSET 49")
cr_next="SELECT * FROM ct_bench.churn_risk WHERE ($cr_cols) < ('$s', $m, $c) LIMIT 50"
IFS=, read -r s m c < <(key_at "SELECT $cr_cols FROM ct_bench.churn_risk LIMIT 1 OFFSET 99999")
cr_deep="SELECT * FROM ct_bench.churn_risk WHERE ($cr_cols) < ('$s', $m, $c) LIMIT 50"

line() { printf '%-58s %10s\n' "$1" "$2"; }
echo
echo "== Views on $CUSTOMERS customers ($(psql -X -At -d postgres -c 'SELECT count(*) FROM orders') orders; this machine: $(nproc) cores), best of 3, ms"
line "follow_ups_due: first page" "$(best 'SELECT * FROM ct_bench.follow_ups_due LIMIT 50')"
line "follow_ups_due: next page" "$(best "$fu_next")"
line "follow_ups_due: page after 100,000 rows" "$(best "$fu_deep")"
line "follow_ups_due: one tier (tier_rank = 2), first page" "$(best 'SELECT * FROM ct_bench.follow_ups_due WHERE tier_rank = 2 LIMIT 50')"
line "follow_ups_due: one tier, next page" "$(best "$fu_tier_next")"
line "churn_risk: first page" "$(best 'SELECT * FROM ct_bench.churn_risk LIMIT 50')"
line "churn_risk: next page" "$(best "$cr_next")"
line "churn_risk: page after 100,000 rows" "$(best "$cr_deep")"
line "churn_risk: one tier (tier = 'gold'), first page" "$(best "SELECT * FROM ct_bench.churn_risk WHERE tier = 'gold' LIMIT 50")"
line "tier_summary (with at_risk: the churn-risk counts by tier)" "$(best 'SELECT * FROM ct_bench.tier_summary')"
line "segment_summary (the segment counts)" "$(best 'SELECT * FROM ct_bench.segment_summary')"
line "  the same counts from the customers: segments GROUP BY" "$(best 'SELECT segment, count(*) FROM ct_bench.segments GROUP BY 1')"
line "  and churn_risk GROUP BY tier" "$(best 'SELECT tier, count(*) FROM ct_bench.churn_risk GROUP BY 1')"
line "summary_deltas rows read by the summaries" "$(psql -X -At -d postgres -c 'SELECT count(*) FROM ct_bench.summary_deltas')"
line "one customer (segments WHERE customer = 4242)" "$(best 'SELECT * FROM ct_bench.segments WHERE customer = 4242')"
# The table's size and HOT share (of the updates so far): after the run,
# then after LIVE_SECONDS of single-row orders of existing customers.
table_size() {
    echo "customers table $1:"
    psql -X -q -d postgres <<'SQL'
SELECT pg_size_pretty(pg_total_relation_size('ct_bench.customers')) AS "customers with indexes",
       round(pg_total_relation_size('ct_bench.customers')::numeric / c.n) AS "bytes per customer",
       round(pg_relation_size('ct_bench.customers')::numeric / c.n) AS "heap bytes",
       round(pg_indexes_size('ct_bench.customers')::numeric / c.n) AS "index bytes",
       s.n_tup_upd AS "updates so far", s.n_tup_hot_upd AS "HOT",
       round(100.0 * s.n_tup_hot_upd / nullif(s.n_tup_upd, 0), 1) AS "HOT updates %"
  FROM (SELECT count(*) AS n FROM ct_bench.customers) AS c,
       pg_stat_user_tables AS s WHERE s.relid = 'ct_bench.customers'::regclass;
SQL
}
table_size "after create_program, one run and the contacts"
script=$(mktemp)
cat >"$script" <<PGB
\set c random(1, $CUSTOMERS)
INSERT INTO orders (customer_id, ordered_at, amount) VALUES (:c, now(), 12.34);
PGB
live=$(pgbench -n -c 2 -j 2 -T "$LIVE_SECONDS" -f "$script" -d postgres 2>/dev/null \
       | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
rm -f "$script"
table_size "after $live single-row orders of existing customers (pgbench, 2 clients, $LIVE_SECONDS s)"
echo "verify_program differences: $(psql -X -At -d postgres -c "SELECT count(*) FROM customer_tier.verify_program('bench')")"

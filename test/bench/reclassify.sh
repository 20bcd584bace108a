#!/usr/bin/env bash
# test/bench/reclassify.sh — reclassification and rebuild, as ratios from one run.
#
#   bash test/bench/reclassify.sh        (not part of scripts/test.sh)
#   SCALES="200000 1000000 2000000" bash test/bench/reclassify.sh   (and the scaling section)
#
# ORDERS orders (default 2,000,000) for CUSTOMERS customers (default 200,000):
#   reclassify  CALL customer_tier.reclassify(program): breakpoints, ABC classes,
#               every customer rescored and tiered, from the maintained metrics
#   hand SQL    what a user writes instead: count/sum/max per customer from the
#               orders, NTILE quintiles of R, F and M, CASE tiers, a churn flag,
#               materialized into a table          target: reclassify >= 10x faster
#   rebuild     customer_tier.rebuild_program(program), twice: with nothing drifted,
#               and with every customer missing (its customers table emptied)
#   GROUP BY    the bare count/sum/max GROUP BY customer
# and floors, which bound what any implementation doing that work can reach:
#   rewrite     UPDATE of every customer row, nothing computed (the first run after
#               create_program writes every customer: each gets its first ABC class)
#   states      the grouping of the orders into the states the program keeps, as a
#               rebuild groups them (program_scratch_sql, maintenance_work_mem, no JIT,
#               in one process)
#   rows        writing the rebuilt customers' rows into a copy of the customers
#               table (its indexes, no trigger), and their first tiers into a copy of
#               tier_history: what a rebuild of a program with no customer left writes
#   target: a rebuild at most 1.2x its floor (states, plus rows when it writes them)
# Each line gives the wall-clock time and the server's CPU time (test/bench/cpu.sh),
# and each ratio both ways: on a shared machine the CPU ratio is the steadier one.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/cpu.sh"

ORDERS=${ORDERS:-2000000}
CUSTOMERS=${CUSTOMERS:-200000}
# SCALES: customer counts for a scaling section after the report (10 orders a
# customer on average): a program per scale, its first run, a second run and a
# rebuild, each as time per 1,000 customers.  Empty (the default) skips it.
SCALES=${SCALES:-}
# NIGHTLY_CUSTOMERS: the population of the nightly section (0 skips it), scored
# at NIGHTLY_DAY and then a day later.
NIGHTLY_CUSTOMERS=${NIGHTLY_CUSTOMERS:-200000}
NIGHTLY_DAY=${NIGHTLY_DAY:-2026-06-30 00:00:00+00}

ct_prepare
ct_log "loading $ORDERS orders for $CUSTOMERS customers and attaching a program"
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
CREATE EXTENSION customer_tier;
CREATE TABLE orders AS
SELECT ((hashint4(i) & 2147483647) % $CUSTOMERS)::bigint AS customer_id,
       now() - (hashint4(i + 1) & 2147483647) % (3 * 365 * 86400) * interval '1 second' AS ordered_at,
       round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2)::numeric(12,2) AS amount
  FROM generate_series(1, $ORDERS) AS i;
VACUUM ANALYZE orders;
SELECT customer_tier.create_program('bench', 'orders', 'customer_id', 'amount', 'ordered_at');
VACUUM ANALYZE ct_bench.customers;
-- autovacuum would run in the middle of a measurement and count as the server's CPU
ALTER TABLE orders SET (autovacuum_enabled = off);
ALTER TABLE ct_bench.customers SET (autovacuum_enabled = off);
SQL

# "customers written, MB of WAL" by the run just made (a customer a run writes
# gets its changed_by; WAL between two readings of the insert position).
wal_lsn() { psql -X -At -d postgres -c "SELECT pg_current_wal_insert_lsn()"; }
run_writes() {
    psql -X -At -d postgres -c "SELECT (SELECT count(*) FROM ct_${2:-bench}.customers AS c, customer_tier.run AS r
                                         WHERE r.id = (SELECT max(id) FROM customer_tier.run)
                                           AND c.changed_by = 'run ' || r.id)
                                       || ' customers written, '
                                       || round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$1') / 1048576.0, 1)
                                       || ' MB of WAL'"
}
# The hand-written SQL into table $1 from orders table $2, as of $3.
hand_sql() {
    cat <<HAND
CREATE TABLE $1 AS
  WITH m AS (SELECT customer_id, count(*) AS orders, sum(amount) AS monetary, max(ordered_at) AS last_order
               FROM $2 GROUP BY customer_id),
       q AS (SELECT m.*, ntile(5) OVER (ORDER BY last_order) AS r, ntile(5) OVER (ORDER BY orders) AS f,
                    ntile(5) OVER (ORDER BY monetary) AS mq FROM m)
  SELECT customer_id, r, f, mq,
         CASE WHEN r + f + mq >= 13 THEN 'diamond' WHEN r + f + mq >= 9 THEN 'gold' ELSE 'normal' END AS tier,
         last_order < $3 - interval '180 days' AS churn_risk
    FROM q
HAND
}
before=$(wal_lsn)
read -r reclassify reclassify_cpu < <(timed_sql "CALL customer_tier.reclassify('bench', batch_size => 50000)")
first_writes=$(run_writes "$before")
read -r hand hand_cpu < <(timed_sql "$(hand_sql hand_tiers orders "now()")")
before=$(wal_lsn)
read -r again again_cpu < <(timed_sql "CALL customer_tier.reclassify('bench', batch_size => 50000)")
again_writes=$(run_writes "$before")
read -r rebuild rebuild_cpu < <(timed_sql "SELECT customer_tier.rebuild_program('bench')")
read -r rebuild_all rebuild_all_cpu < <(timed_sql "TRUNCATE ct_bench.customers; SELECT customer_tier.rebuild_program('bench')")
# The outer query reads every aggregate: a column it did not read would be
# dropped by the planner, and its aggregate never computed.
read -r groupby groupby_cpu < <(timed_sql "SELECT count(*) FROM (SELECT customer_id, count(*) AS n, sum(amount) AS total,
  max(ordered_at) AS latest FROM orders GROUP BY customer_id) AS s WHERE (s.n, s.total, s.latest) IS NOT NULL")
read -r rewrite rewrite_cpu < <(timed_sql "UPDATE ct_bench.customers SET updated_at = updated_at")
scratch=$(psql -X -At -d postgres -c "SELECT customer_tier.program_scratch_sql(p, 'true',
    '(SELECT customer_tier.program_state_horizon(''bench''))') FROM customer_tier.program AS p WHERE p.name = 'bench'")
# serial, as the rebuild's grouping is: PostgreSQL 15 plans no statement that writes in parallel
read -r states states_cpu < <(timed_sql "SET jit = off; SET max_parallel_workers_per_gather = 0;
  SET work_mem = '$(psql -X -At -d postgres -c 'SHOW maintenance_work_mem')';
  SELECT count(*) FROM ($scratch) AS s WHERE s.purchases IS NOT NULL OR s.refunds IS NOT NULL")
psql -X -q -d postgres -c "CREATE TABLE floor_customers (LIKE ct_bench.customers INCLUDING ALL) WITH (fillfactor = 90);
                           CREATE TABLE floor_history (LIKE ct_bench.tier_history INCLUDING ALL)" >/dev/null
read -r rows rows_cpu < <(timed_sql "INSERT INTO floor_customers SELECT * FROM ct_bench.customers ORDER BY customer;
  INSERT INTO floor_history (customer, from_tier, to_tier, reason, source, changed_at)
  SELECT customer, NULL, tier, tier_reason, changed_by, now() FROM ct_bench.customers ORDER BY customer")
runs=$(psql -X -At -d postgres -c "SELECT outcome || ', ' || customers || ' customers, ' || batches || ' batches, ' || tier_changes || ' tier changes' FROM customer_tier.run ORDER BY id LIMIT 1")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<REPORT

== Reclassification: $ORDERS orders, $CUSTOMERS customers (this machine: $(nproc) cores)
                                  wall ms      server CPU ms
reclassify (maintained metrics)   $reclassify   $reclassify_cpu   ($runs; $first_writes)
hand-written SQL (from orders)    $hand   $hand_cpu
  reclassify is $(ratio "$hand" "$reclassify")x faster by wall clock, $(ratio "$hand_cpu" "$reclassify_cpu")x by CPU (target >= 10)
reclassify again (a second run)   $again   $again_cpu   ($again_writes)
  $(ratio "$hand" "$again")x faster by wall clock, $(ratio "$hand_cpu" "$again_cpu")x by CPU
rebuild_program, nothing drifted  $rebuild   $rebuild_cpu
  $(ratio "$rebuild" "$states")x its floor (states) by wall clock, $(ratio "$rebuild_cpu" "$states_cpu")x by CPU (target <= 1.2)
rebuild_program, every customer   $rebuild_all   $rebuild_all_cpu   (the customers table emptied first)
  $(ratio "$rebuild_all" "$(awk -v a="$states" -v b="$rows" 'BEGIN { print a + b }')")x its floor (states + rows) by wall clock, $(ratio "$rebuild_all_cpu" "$((states_cpu + rows_cpu))")x by CPU (target <= 1.2)
bare GROUP BY count/sum/max       $groupby   $groupby_cpu
  rebuild / GROUP BY = $(ratio "$rebuild" "$groupby") by wall clock, $(ratio "$rebuild_cpu" "$groupby_cpu") by CPU
floors:
UPDATE of every customer row      $rewrite   $rewrite_cpu
  a run that writes every customer is at most $(ratio "$hand" "$rewrite")x faster by wall clock, $(ratio "$hand_cpu" "$rewrite_cpu")x by CPU
states: the program's grouping    $states   $states_cpu
  the states are $(ratio "$states" "$groupby")x the GROUP BY by wall clock, $(ratio "$states_cpu" "$groupby_cpu")x by CPU
rows: customers and first tiers   $rows   $rows_cpu
REPORT

# The nightly run (issue 19): a program with a fixed scoring date over a
# population drawn from the BG/NBD process itself (each customer buys at a
# rate of its own and may drop out after each purchase), so that both models
# fit; its first run, then the orders of the next day (0.5% of the orders) and
# the run a day later, against the hand-written SQL over the same orders.
if [ "$NIGHTLY_CUSTOMERS" != 0 ]; then
    # seeded: two runs of the benchmark draw the same population
    psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
SELECT setseed(0.42);
CREATE TABLE nightly_orders AS
WITH c AS (
    SELECT i AS customer_id,
           timestamptz '$NIGHTLY_DAY' - (1 + random() * 729) * interval '1 day' AS first_order,
           -- a purchase rate per day, log-normal around one every 60 days
           exp(ln(1 / 60.0) + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS rate,
           -- purchases before the customer drops out: geometric
           floor(ln(1 - random()) / ln(1 - (0.05 + 0.45 * random()))) AS repeats,
           exp(ln(40) + 0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS spend
      FROM generate_series(1, $NIGHTLY_CUSTOMERS) AS i),
p AS (
    SELECT c.customer_id, c.first_order, c.spend, k,
           sum(CASE WHEN k = 0 THEN 0 ELSE -ln(1 - random()) / c.rate END)
               OVER (PARTITION BY c.customer_id ORDER BY k) AS days
      FROM c, generate_series(0, 40) AS k
     WHERE k <= c.repeats)
SELECT customer_id::bigint, first_order + days * interval '1 day' AS ordered_at,
       round((spend * (0.7 + 0.6 * random()))::numeric, 2)::numeric(12,2) AS amount
  FROM p WHERE first_order + days * interval '1 day' <= timestamptz '$NIGHTLY_DAY';
CREATE INDEX ON nightly_orders (customer_id);
VACUUM ANALYZE nightly_orders;
SELECT customer_tier.create_program('nightly', 'nightly_orders', 'customer_id', 'amount', 'ordered_at',
                                    as_of => '$NIGHTLY_DAY');
ALTER TABLE nightly_orders SET (autovacuum_enabled = off);
ALTER TABLE ct_nightly.customers SET (autovacuum_enabled = off);
VACUUM ANALYZE ct_nightly.customers;
CALL customer_tier.reclassify('nightly', batch_size => 50000, as_of => '$NIGHTLY_DAY');
-- A day passes before the next run: autovacuum (turned off above, so that it
-- cannot run during a measurement) would have vacuumed the versions that the
-- first run left, as it does every night on a real server.
VACUUM ANALYZE ct_nightly.customers;
SQL
    nightly_orders=$(psql -X -At -d postgres -c "SELECT count(*) FROM nightly_orders")
    nightly_model=$(psql -X -At -d postgres -c "SELECT CASE WHEN bgnbd IS NOT NULL AND gamma_gamma IS NOT NULL
                                                            THEN 'both models fitted' ELSE 'NOT FITTED: ' || coalesce(problem, '') END
                                                  FROM customer_tier.program_model WHERE program = 'nightly'")
    # the next day's orders: 0.5% of the orders, from customers taken at random
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "INSERT INTO nightly_orders
        SELECT (1 + (hashint4(i) & 2147483647) % $NIGHTLY_CUSTOMERS)::bigint,
               timestamptz '$NIGHTLY_DAY' + (1 + i % 86398) * interval '1 second', 25.00
          FROM generate_series(1, $nightly_orders / 200) AS i" >/dev/null
    before=$(wal_lsn)
    read -r nightly nightly_cpu < <(timed_sql "CALL customer_tier.reclassify('nightly', batch_size => 50000,
                                                  as_of => timestamptz '$NIGHTLY_DAY' + interval '1 day')")
    nightly_writes=$(run_writes "$before" nightly)
    read -r nightly_hand nightly_hand_cpu < <(timed_sql "$(hand_sql nightly_hand nightly_orders \
                                                           "timestamptz '$NIGHTLY_DAY' + interval '1 day'")")
    # floors: what a run reading the whole population spends before it scores anyone
    read -r population population_cpu < <(timed_sql "SELECT length(customer_tier.refresh_population('nightly'))")
    read -r fit fit_cpu < <(timed_sql "SELECT customer_tier.fit_program_model('nightly') IS NULL")
    cat <<REPORT

== The nightly run: $NIGHTLY_CUSTOMERS customers, $nightly_orders orders drawn from the BG/NBD process ($nightly_model)
                                  wall ms      server CPU ms
reclassify a day later            $nightly   $nightly_cpu   (0.5% new orders; $nightly_writes)
hand-written SQL (from orders)    $nightly_hand   $nightly_hand_cpu
  the nightly run is $(ratio "$nightly_hand" "$nightly")x faster by wall clock, $(ratio "$nightly_hand_cpu" "$nightly_cpu")x by CPU (target >= 5)
floors:
breakpoints and ABC thresholds    $population   $population_cpu   (one read of every customer)
fitting both models               $fit   $fit_cpu
  a run that does both is at most $(ratio "$nightly_hand" "$(awk -v a="$population" -v b="$fit" 'BEGIN { print a + b }')")x faster by wall clock
REPORT
fi

# Scaling: run and rebuild time per customer from the smallest scale to the largest.
if [ -n "$SCALES" ]; then
    echo
    echo "== Scaling: 10 orders a customer on average; ms per 1,000 customers (wall, server CPU),"
    echo "   and the backend's peak anonymous memory in MB"
    printf '%-12s %-30s %-30s %-30s\n' customers "first run" "second run" rebuild
    for n in $SCALES; do
        psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null 2>&1 <<SQL
CREATE TABLE scale_orders AS
SELECT ((hashint4(i) & 2147483647) % $n)::bigint AS customer_id,
       now() - (hashint4(i + 1) & 2147483647) % (3 * 365 * 86400) * interval '1 second' AS ordered_at,
       round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2)::numeric(12,2) AS amount
  FROM generate_series(1, $((n * 10))) AS i;
CREATE INDEX ON scale_orders (customer_id);
VACUUM ANALYZE scale_orders;
SELECT customer_tier.create_program('scale', 'scale_orders', 'customer_id', 'amount', 'ordered_at');
ALTER TABLE scale_orders SET (autovacuum_enabled = off);
ALTER TABLE ct_scale.customers SET (autovacuum_enabled = off);
VACUUM ANALYZE ct_scale.customers;
SQL
        read -r r1 c1 m1 < <(timed_sql_peak "CALL customer_tier.reclassify('scale', batch_size => 50000)")
        read -r r2 c2 m2 < <(timed_sql_peak "CALL customer_tier.reclassify('scale', batch_size => 50000)")
        read -r rb cb mb < <(timed_sql_peak "SELECT customer_tier.rebuild_program('scale')")
        per() { awk -v a="$1" -v n="$n" 'BEGIN { printf "%.1f", a * 1000 / n }'; }
        printf '%-12s %-30s %-30s %-30s\n' "$n" "$(per "$r1") / $(per "$c1"), $m1 MB" "$(per "$r2") / $(per "$c2"), $m2 MB" \
            "$(per "$rb") / $(per "$cb"), $mb MB"
        psql -X -q -d postgres -c "SELECT customer_tier.drop_program('scale')" -c "DROP TABLE scale_orders" >/dev/null 2>&1
    done
fi

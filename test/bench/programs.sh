#!/usr/bin/env bash
# test/bench/programs.sh — the cost of live maintenance, as ratios from one run.
#
#   bash test/bench/programs.sh        (not part of scripts/test.sh)
#
# 1. Bulk load: server-side COPY of ORDERS orders (default 1,600,000) for
#    CUSTOMERS customers (default 200,000) into identical tables:
#      plain      nothing attached
#      program    a customer_tier program attached
#      handmade   a hand-written statement-level PL/pgSQL trigger keeping
#                 count/sum/max per customer, what a user would write instead
#      noop       a statement-level trigger with a transition table that does
#                 nothing: the floor of any statement-level trigger
#    Best of RUNS runs each (tables truncated between runs).  Target (SPEC 5,
#    issue 18): program / plain <= 2.0, and below the hand-written trigger.
#    And a floor: writing, with nothing computed, the customer rows and
#    first-tier history rows that the load of new customers makes the program
#    write.
# 2. Steady state: COPY of ORDERS / 10 more orders for the customers loaded in
#    1 (no new customer).  Target: below the hand-written trigger.  Floor:
#    writing the rows the program wrote, nothing computed (an UPDATE of a copy
#    of the customers table, taken before the load, to the rows after it).
# 3. Single-row inserts: pgbench, 4 clients, TPS_SECONDS seconds (default 15),
#    into a table of existing orders with nothing attached vs with the program
#    attached, and vs the hand-written trigger; TPS_ROUNDS rounds (default 3) of
#    the tables in turn, each table's median reported.  Target: program tps / plain
#    tps >= 0.70, and above the hand-written trigger.  Floor: the statement
#    trigger doing nothing, with its transition table.
# 4. History: HISTORY_ORDERS (default 20,000) single-row inserts, each its own
#    transaction, for one customer: the mean time of the 1,000 inserts around
#    the last against the 1,000 from the 10th on.  Target: at most 1.2.
# 5. Memory: the backend's peak anonymous memory (RssAnon, polled) during a
#    COPY of MEMORY_ORDERS orders (default 16,000,000) for CUSTOMERS customers
#    with the program attached, and of a quarter of them; 0 skips it.  It
#    must be bounded by the customers touched, not the rows.
# Next to each wall-clock figure, the server's CPU time (test/bench/cpu.sh): per COPY, and
# per inserted row under pgbench; on a shared machine the CPU ratios are the steadier ones.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/cpu.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

ORDERS=${ORDERS:-1600000}
CUSTOMERS=${CUSTOMERS:-200000}
RUNS=${RUNS:-2}
TPS_SECONDS=${TPS_SECONDS:-15}
TPS_ROUNDS=${TPS_ROUNDS:-3}
HISTORY_ORDERS=${HISTORY_ORDERS:-20000}
MEMORY_ORDERS=${MEMORY_ORDERS:-16000000}

ct_prepare
data=$CT_RUN/orders.copy
ct_log "generating $ORDERS orders for $CUSTOMERS customers"
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE EXTENSION customer_tier;
COPY (SELECT (hashint4(i) & 2147483647) % $CUSTOMERS,
             timestamptz '2022-01-01' + (hashint4(i + 1) & 2147483647) % (3 * 365 * 86400) * interval '1 second',
             round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2)
        FROM generate_series(1, $ORDERS) AS i) TO '$data';
CREATE TABLE plain (customer_id bigint, ordered_at timestamptz, amount numeric(12,2));
CREATE TABLE program (LIKE plain);
CREATE TABLE handmade (LIKE plain);
CREATE TABLE noop (LIKE plain);
SELECT customer_tier.create_program('bench', 'program', 'customer_id', 'amount', 'ordered_at');

CREATE TABLE handmade_totals (customer_id bigint PRIMARY KEY, orders bigint, monetary numeric, last_order timestamptz);
CREATE FUNCTION handmade_maintain() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    INSERT INTO handmade_totals AS t
    SELECT customer_id, count(*), sum(amount), max(ordered_at) FROM new_rows
     WHERE customer_id IS NOT NULL GROUP BY customer_id ORDER BY customer_id
    ON CONFLICT (customer_id) DO UPDATE
       SET orders = t.orders + excluded.orders, monetary = t.monetary + excluded.monetary,
           last_order = greatest(t.last_order, excluded.last_order);
    RETURN NULL;
END
\$\$;
CREATE TRIGGER handmade_insert AFTER INSERT ON handmade REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION handmade_maintain();
CREATE FUNCTION noop_maintain() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NULL; END \$\$;
CREATE TRIGGER noop_insert AFTER INSERT ON noop REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION noop_maintain();
CREATE TABLE floor_customers (LIKE ct_bench.customers INCLUDING INDEXES);
CREATE TABLE floor_history (LIKE ct_bench.tier_history INCLUDING INDEXES INCLUDING IDENTITY);
-- autovacuum would run in the middle of a measurement and count as the server's CPU
ALTER TABLE plain SET (autovacuum_enabled = off);
ALTER TABLE program SET (autovacuum_enabled = off);
ALTER TABLE handmade SET (autovacuum_enabled = off);
ALTER TABLE noop SET (autovacuum_enabled = off);
ALTER TABLE handmade_totals SET (autovacuum_enabled = off);
ALTER TABLE ct_bench.customers SET (autovacuum_enabled = off);
SQL

# "wall_ms cpu_ms" of the best (by wall clock) of RUNS server-side COPYs into table $1.
copy_ms() {
    local table=$1 best='' best_cpu='' wall cpu i
    for i in $(seq 1 "$RUNS"); do
        psql -X -q -d postgres -c "TRUNCATE $table" -c "TRUNCATE handmade_totals" -c CHECKPOINT >/dev/null
        read -r wall cpu < <(timed_sql "COPY $table FROM '$data'")
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall best_cpu=$cpu
        fi
    done
    echo "$best $best_cpu"
}

ct_log "bulk COPY, best of $RUNS"
read -r plain plain_cpu < <(copy_ms plain)
read -r program program_cpu < <(copy_ms program)
read -r handmade handmade_cpu < <(copy_ms handmade)
read -r noop noop_cpu < <(copy_ms noop)
check=$(psql -X -At -d postgres -c "SELECT count(*) FROM customer_tier.verify_program('bench')")
# the program's tables now hold what the last COPY made it write
read -r writes writes_cpu < <(timed_sql "INSERT INTO floor_customers SELECT * FROM ct_bench.customers;
  INSERT INTO floor_history (customer, from_tier, to_tier, changed_at, reason, source)
  SELECT customer, from_tier, to_tier, changed_at, reason, source FROM ct_bench.tier_history")

ct_log "steady state: COPY of $((ORDERS / 10)) more orders for existing customers"
more=$CT_RUN/more.copy
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
COPY (SELECT (hashint4(i) & 2147483647) % $CUSTOMERS,
             timestamptz '2025-01-01' + (hashint4(i + 1) & 2147483647) % (30 * 86400) * interval '1 second',
             round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2)
        FROM generate_series($ORDERS + 1, $ORDERS + $ORDERS / 10) AS i) TO '$more';
SQL
steady_ms() {
    psql -X -q -d postgres -c CHECKPOINT >/dev/null
    timed_sql "COPY $1 FROM '$more'"
}
read -r steady_plain steady_plain_cpu < <(steady_ms plain)
psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
CREATE TABLE floor_steady (LIKE ct_bench.customers INCLUDING INDEXES) WITH (fillfactor = 90, autovacuum_enabled = off);
INSERT INTO floor_steady SELECT * FROM ct_bench.customers;
VACUUM ANALYZE floor_steady;
SQL
steady_start=$(psql -X -At -d postgres -c "SELECT now()")
read -r steady_program steady_program_cpu < <(steady_ms program)
steady_sets=$(psql -X -At -d postgres -c "SELECT string_agg(format('%I = s.%I', attname, attname), ', ')
  FROM pg_attribute WHERE attrelid = 'ct_bench.customers'::regclass AND attnum > 1 AND NOT attisdropped")
read -r steady_writes steady_writes_cpu < <(timed_sql "UPDATE floor_steady AS f SET $steady_sets
  FROM ct_bench.customers AS s WHERE s.customer = f.customer AND s.updated_at >= '$steady_start'")
read -r steady_handmade steady_handmade_cpu < <(steady_ms handmade)
steady_check=$(psql -X -At -d postgres -c "SELECT count(*) FROM customer_tier.verify_program('bench')")

# "tps cpu_us_per_transaction" of pgbench inserting one order per transaction into table $1.
tps() {
    local table=$1 script before after out tps n
    script=$(mktemp)
    cat >"$script" <<PGB
\set c random(0, $((CUSTOMERS - 1)))
INSERT INTO $table (customer_id, ordered_at, amount) VALUES (:c, now(), 12.34);
PGB
    before=$(server_cpu_ms)
    out=$(pgbench -n -c 4 -j 2 -T "$TPS_SECONDS" -f "$script" -d postgres 2>/dev/null)
    sleep 0.2
    after=$(server_cpu_ms)
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
    echo "$tps $(( (after - before) * 1000 / n ))"
    rm -f "$script"
}
# TPS_ROUNDS rounds of the four tables in turn, each table's median round
# reported: on a shared machine one pass moves by tens of percent, and taking
# the tables in turn exposes each to the same swings.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ct_log "single-row inserts, pgbench 4 clients, $TPS_SECONDS s each, $TPS_ROUNDS rounds"
declare -A tps_runs us_runs
for round in $(seq 1 "$TPS_ROUNDS"); do
    for table in plain program handmade noop; do
        read -r t u < <(tps "$table")
        tps_runs[$table]+="$t "
        us_runs[$table]+="$u "
    done
done
for table in plain program handmade noop; do
    printf -v "tps_$table" '%s' "$(tr ' ' '\n' <<<"${tps_runs[$table]}" | grep . | median)"
    printf -v "us_$table" '%s' "$(tr ' ' '\n' <<<"${us_runs[$table]}" | grep . | median)"
done

ct_log "history: $HISTORY_ORDERS single-row inserts for one customer"
history=$(psql -X -At -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE TABLE history_orders (LIKE plain);
CREATE INDEX ON history_orders (customer_id);
SELECT customer_tier.create_program('history', 'history_orders', 'customer_id', 'amount', 'ordered_at') IS NULL;
-- autovacuum would visit these tables in one stretch and not the other
ALTER TABLE history_orders SET (autovacuum_enabled = off);
ALTER TABLE ct_history.customers SET (autovacuum_enabled = off);
ALTER TABLE ct_history.tier_history SET (autovacuum_enabled = off);
CREATE TABLE history_times (n integer, at timestamptz);
CREATE PROCEDURE history_load(total integer) LANGUAGE plpgsql AS \$\$
BEGIN
    FOR i IN 1 .. total LOOP
        IF i IN (10, 1010, total - 1000, total) THEN
            INSERT INTO history_times VALUES (i, clock_timestamp());
        END IF;
        INSERT INTO history_orders VALUES (1, timestamptz '2022-01-01' + i * interval '1 hour', 10);
        COMMIT;
    END LOOP;
END
\$\$;
CALL history_load($HISTORY_ORDERS);
SELECT round(extract(epoch FROM (SELECT at FROM history_times WHERE n = 1010) - (SELECT at FROM history_times WHERE n = 10)) * 1000, 1),
       round(extract(epoch FROM (SELECT at FROM history_times WHERE n = $HISTORY_ORDERS) - (SELECT at FROM history_times WHERE n = $HISTORY_ORDERS - 1000)) * 1000, 1),
       (SELECT count(*) FROM customer_tier.verify_program('history'));
SQL
)
read -r history_first history_last history_check < <(tail -1 <<<"$history" | tr '|' ' ')

# The backend's peak anonymous memory (MB) during a COPY of $1 orders of the
# CUSTOMERS customers into the program's table, emptied first.
peak_mb() {
    local n=$1 big=$CT_RUN/big.copy peak
    psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
COPY (SELECT (hashint4(i) & 2147483647) % $CUSTOMERS,
             timestamptz '2022-01-01' + (hashint4(i + 1) & 2147483647) % (3 * 365 * 86400) * interval '1 second',
             round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2)
        FROM generate_series(1, $n) AS i) TO '$big';
TRUNCATE program;
SQL
    read -r _ _ peak < <(timed_sql_peak "COPY program FROM '$big'")
    rm -f "$big"
    echo "$peak"
}
memory_line="not measured (MEMORY_ORDERS=0)"
if [ "$MEMORY_ORDERS" -gt 0 ]; then
    # at a quarter of the rows and at all of them: bounded by the customers, the two are close
    ct_log "memory: COPY of $((MEMORY_ORDERS / 4)) and of $MEMORY_ORDERS orders with the program attached"
    quarter_mb=$(peak_mb $((MEMORY_ORDERS / 4)))
    full_mb=$(peak_mb "$MEMORY_ORDERS")
    memory_check=$(psql -X -At -d postgres -c "SELECT count(*) FROM customer_tier.verify_program('bench')")
    memory_line="$full_mb MB peak anonymous memory of the backend ($MEMORY_ORDERS orders, $CUSTOMERS customers); $quarter_mb MB for $((MEMORY_ORDERS / 4)) orders: ratio $(ratio "$full_mb" "$quarter_mb")x for 4x the rows; $memory_check differences from a recomputation"
fi

cat <<REPORT

== Live maintenance: $ORDERS orders, $CUSTOMERS customers (this machine: $(nproc) cores)
                                  wall ms      server CPU ms
bulk COPY, nothing attached       $plain   $plain_cpu
bulk COPY, program attached       $program   $program_cpu    ratio $(ratio "$program" "$plain")x by wall clock, $(ratio "$program_cpu" "$plain_cpu")x by CPU  (target <= 2.0 and below the hand-written trigger)
bulk COPY, hand-written trigger   $handmade   $handmade_cpu    ratio $(ratio "$handmade" "$plain")x by wall clock, $(ratio "$handmade_cpu" "$plain_cpu")x by CPU
floors:
bulk COPY, trigger doing nothing  $noop   $noop_cpu    ratio $(ratio "$noop" "$plain")x by wall clock, $(ratio "$noop_cpu" "$plain_cpu")x by CPU
the program's writes alone        $writes   $writes_cpu    $(ratio "$writes" "$plain")x the plain COPY by wall clock, $(ratio "$writes_cpu" "$plain_cpu")x by CPU
program state after the loads: $check differences from a recomputation
steady state, $((ORDERS / 10)) more orders for existing customers:
COPY, nothing attached            $steady_plain   $steady_plain_cpu
COPY, program attached            $steady_program   $steady_program_cpu    ratio $(ratio "$steady_program" "$steady_plain")x by wall clock, $(ratio "$steady_program_cpu" "$steady_plain_cpu")x by CPU  (target: below the hand-written trigger)
COPY, hand-written trigger        $steady_handmade   $steady_handmade_cpu    ratio $(ratio "$steady_handmade" "$steady_plain")x by wall clock, $(ratio "$steady_handmade_cpu" "$steady_plain_cpu")x by CPU
floor: the program's writes alone $steady_writes   $steady_writes_cpu    $(ratio "$steady_writes" "$steady_plain")x the plain COPY by wall clock, $(ratio "$steady_writes_cpu" "$steady_plain_cpu")x by CPU
program state after the steady-state load: $steady_check differences from a recomputation
                                  tps          server CPU us per insert  (median of $TPS_ROUNDS rounds)
single-row inserts, plain         $tps_plain   $us_plain
single-row inserts, program       $tps_program   $us_program    ratio $(ratio "$tps_program" "$tps_plain")x tps, $(ratio "$us_plain" "$us_program")x by CPU  (target >= 0.70 and above the hand-written trigger)
single-row, hand-written trigger  $tps_handmade   $us_handmade    ratio $(ratio "$tps_handmade" "$tps_plain")x tps, $(ratio "$us_plain" "$us_handmade")x by CPU
floor: a trigger doing nothing    $tps_noop   $us_noop    ratio $(ratio "$tps_noop" "$tps_plain")x tps, $(ratio "$us_plain" "$us_noop")x by CPU
history of one customer, $HISTORY_ORDERS single-row inserts, ms per 1,000:
inserts 10 to 1,010               $history_first
the last 1,000                    $history_last    ratio $(ratio "$history_last" "$history_first")x  (target <= 1.2)
program state after the history: $history_check differences from a recomputation
memory: $memory_line
REPORT

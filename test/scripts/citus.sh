#!/usr/bin/env bash
# A Citus 12.1 cluster on loopback: a coordinator and two workers (issue 15,
# docs/citus.md).  Builds Citus from ../shared/vendor/ into the system's
# PostgreSQL 15 when it is missing (about 10 minutes on 2 cores, once per
# machine), copies it into the test's private PostgreSQL, starts the three
# servers on free private ports as the test server's user, and checks:
#   * order_stats over an orders table distributed by customer is pushed down
#     to the workers (worker_partial_agg / coord_combine_agg in EXPLAIN) and
#     equals count() and sum() per customer, exactly, and over all customers;
#   * create_program on a table distributed by another column (42P16) and on
#     a reference table without a placement on the coordinator (55000) is
#     refused before anything is created, while a program on a plain table of
#     the coordinator works;
#   * a program over the orders distributed by customer: its per-customer
#     tables co-located with them, verify_program with no difference of
#     customers after each INSERT, COPY, move between customers, UPDATE and
#     DELETE through the coordinator, after writes through a worker and
#     after 8 concurrent pgbench clients on the three nodes; TRUNCATE refused
#     to a role that may not empty the program's customers, followed for a
#     superuser (at the end);
#   * a program on a Citus local table: writes, a run and TRUNCATE;
#   * create_program scores every backfilled customer on the shards; then
#     reclassify, rebuild_program after drift, a pin, forget and purge on the
#     cluster, each followed by verify_program (0 differences, summaries
#     included);
#   * every view and migration() of a distributed
#     program equal row for row to those of a program over the same orders in
#     a plain table of the coordinator; a CRM's distributed customers table
#     joined to the segments on each shard group (EXPLAIN); the breakpoints and
#     ABC thresholds of a run computed on the shards and combined on the
#     coordinator (auto_explain), equal to one node's;
#   * a program over a reference table of orders: INSERT, COPY, UPDATE (also
#     of the customer), DELETE and rows it cannot use, through the coordinator
#     and a worker, 4 concurrent clients, a run, a pin, a rebuild, TRUNCATE and
#     drop_program, each followed by verify_program, and its customers,
#     rejects and views equal to one node's.
# CITUS_BENCH_JOBS=<customers> adds a timing of the jobs at that scale against
# one node (section 10; not part of the test command).
# The servers use the first free ports above CT_PORT.
# The three servers are stopped by pg_ctl and their folders removed, whatever
# happens.
set -euo pipefail
root=${CT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
vendor=${CT_CITUS_VENDOR:-$root/../shared/vendor}
sys_config=/usr/lib/postgresql/15/bin/pg_config
fail=0
ok() { echo "citus: ok: $*"; }
bad() { echo "FAIL: citus: $*"; fail=1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

[ -n "${CT_TMP:-}" ] && [ -n "${CT_BIN:-}" ] || { echo "run it through scripts/test.sh (it needs the test's private PostgreSQL)" >&2; exit 2; }
if [ ! -f "$vendor/build-citus.sh" ]; then
    echo "FAIL: citus: no Citus source in $vendor (build-citus.sh)"; exit 1
fi

# 1. Citus in the system's PostgreSQL (skipped when there), then in ours.
t0=$(date +%s)
if [ "$(id -u)" = 0 ]; then bash "$vendor/build-citus.sh" "$sys_config" >/dev/null
else sudo bash "$vendor/build-citus.sh" "$sys_config" >/dev/null; fi
ok "Citus 12.1 installed ($(( $(date +%s) - t0 )) s)"
inst=$CT_TMP/install
cp "$("$sys_config" --pkglibdir)"/citus*.so "$inst$("$sys_config" --pkglibdir)/"
cp "$("$sys_config" --sharedir)"/extension/citus* "$inst$("$sys_config" --sharedir)/extension/"

# 2. Three servers on the first free ports above the test server's (CT_PORT).
free_port() {
    local p
    for p in $(seq $(( ${CT_PORT:-25600} + 1 )) $(( ${CT_PORT:-25600} + 40 ))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { case " ${ports[*]:-} " in *" $p "*) ;; *) echo "$p"; return 0 ;; esac; }
    done
    return 1
}
nodes=(coordinator worker1 worker2)
ports=()
base=$CT_RUN/citus
mkdir -p "$base"
if [ "$(id -u)" = 0 ]; then chown postgres: "$base"; fi
stop_all() {
    local n
    for n in "${nodes[@]}"; do
        if [ -f "$base/$n/postmaster.pid" ]; then as_pg "$CT_BIN/pg_ctl" -D "$base/$n" -m fast -w stop >/dev/null 2>&1 || true; fi
    done
    rm -rf "$base"
}
trap stop_all EXIT
for i in 0 1 2; do
    n=${nodes[$i]}
    ports[$i]=$(free_port)
    as_pg "$CT_BIN/initdb" -D "$base/$n" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
    cat >>"$base/$n/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = ${ports[$i]}
unix_socket_directories = '$base'
timezone = 'UTC'
fsync = off
shared_preload_libraries = 'citus'
max_connections = 40
CONF
    as_pg "$CT_BIN/pg_ctl" -D "$base/$n" -l "$base/$n.log" -w -t 60 start >/dev/null
done
coord=${ports[0]}
q() { local port=$1; shift; psql -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
for i in 0 1 2; do
    q "${ports[$i]}" -q -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION citus' -c 'CREATE EXTENSION customer_tier' >/dev/null
done
q "$coord" -q -c "SELECT citus_set_coordinator_host('127.0.0.1', $coord)" \
    -c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null
workers=$(q "$coord" -c "SELECT count(*) FROM citus_get_active_worker_nodes()")
if [ "$workers" = 2 ]; then ok "a coordinator and two workers on 127.0.0.1:${ports[*]}"; else bad "$workers active workers, not 2"; fi

# 3. The building block, pushed down and exact.
q "$coord" -q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE orders (customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL, amount numeric(12,2) NOT NULL);
SELECT create_distributed_table('orders', 'customer_id');
INSERT INTO orders
SELECT (hashint4(i) & 2147483647) % 2000, timestamptz '2024-01-01' + (hashint4(i + 1) & 2147483647) % 31536000 * interval '1 second',
       round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2)
  FROM generate_series(1, 50000) AS i;
SQL
plan=$(q "$coord" -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT customer_tier.order_stats(ordered_at, amount) FROM orders")
if grep -q worker_partial_agg <<<"$plan" && grep -q coord_combine_agg <<<"$plan"; then
    ok "order_stats over all orders is pushed down (worker_partial_agg, coord_combine_agg)"
else
    bad "order_stats is not pushed down:"; echo "$plan" | head -20
fi
differ=$(q "$coord" -c "
    SELECT count(*) FROM (
        SELECT customer_id, customer_tier.order_stats(ordered_at, amount) AS s, count(*) AS n, sum(amount) AS total,
               min(ordered_at) AS first, max(ordered_at) AS last
          FROM orders GROUP BY customer_id) AS g
     WHERE (g.s).orders <> g.n OR (g.s).monetary <> g.total OR (g.s).first_order <> g.first OR (g.s).last_order <> g.last")
customers=$(q "$coord" -c "SELECT count(DISTINCT customer_id) FROM orders")
all=$(q "$coord" -c "SELECT (s).orders = 50000 AND (s).monetary = t FROM (SELECT customer_tier.order_stats(ordered_at, amount) AS s, sum(amount) AS t FROM orders) AS x")
if [ "$differ" = 0 ] && [ "$all" = t ]; then
    ok "per customer ($customers customers, grouped on the shards) and over all orders: equal to count() and sum()"
else
    bad "order_stats differs from count()/sum() for $differ customers (over all: $all)"
fi

# 4. Programs: refused on Citus tables, working on a plain table of the coordinator.
refusal() {  # the SQLSTATE and the message of create_program on table $1 (it must fail)
    local out
    out=$(psql -X -At -h 127.0.0.1 -p "$coord" -U postgres -d postgres -v VERBOSITY=verbose \
              -c "SELECT customer_tier.create_program('$2', '$1', 'customer_id', 'amount', 'ordered_at')" 2>&1 || true)
    sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)$/\1 \2/p' <<<"$out" | head -1
}
q "$coord" -q -c "SET client_min_messages = warning" -c "CREATE TABLE by_amount (LIKE orders)" -c "SELECT create_distributed_table('by_amount', 'amount')" >/dev/null
got=$(refusal by_amount dist)
if [ "$got" = "42P16 public.by_amount is distributed by column amount, not by the customer key customer_id" ]; then
    ok "create_program on a table distributed by another column: $got"
else bad "create_program on a table distributed by another column: '$got'"; fi
# a reference table whose coordinator holds no placement (its placement row
# removed in the transaction that calls create_program, then rolled back)
q "$coord" -q -c "CREATE TABLE ref_orders (LIKE orders)" -c "SELECT create_reference_table('ref_orders')" >/dev/null
got=$(psql -X -At -h 127.0.0.1 -p "$coord" -U postgres -d postgres -v VERBOSITY=verbose -c "BEGIN" \
          -c "DELETE FROM pg_dist_placement WHERE groupid = 0 AND shardid IN (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'ref_orders'::regclass)" \
          -c "SELECT customer_tier.create_program('ref', 'ref_orders', 'customer_id', 'amount', 'ordered_at')" -c "ROLLBACK" 2>&1 \
      | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)$/\1 \2/p' | head -1)
if [ "$got" = "55000 reference table public.ref_orders has no placement on the coordinator" ]; then ok "create_program on a reference table without a placement on the coordinator: $got"
else bad "create_program on a reference table without a placement on the coordinator: '$got'"; fi
left=$(q "$coord" -c "SELECT count(*) FROM customer_tier.program" -c "SELECT count(*) FROM pg_namespace WHERE nspname IN ('ct_dist', 'ct_ref')" | paste -sd ' ')
if [ "$left" = "0 0" ]; then ok "the refusals left no program and no schema"; else bad "the refusals left programs and schemas: $left"; fi
local_check=$(q "$coord" -q -c "SET client_min_messages = error" \
    -c "CREATE TABLE local_orders (LIKE orders)" -c "CREATE INDEX ON local_orders (customer_id)" \
    -c "INSERT INTO local_orders SELECT * FROM orders WHERE customer_id < 100" \
    -c "SELECT customer_tier.create_program('loc', 'local_orders', 'customer_id', 'amount', 'ordered_at')" \
    -c "INSERT INTO local_orders VALUES (5000, now(), 10)" \
    -c "SELECT (SELECT count(*) FROM ct_loc.customers) || ' ' || (SELECT count(*) FROM customer_tier.verify_program('loc'))" | tail -1)
expected_customers=$(( $(q "$coord" -c "SELECT count(DISTINCT customer_id) FROM orders WHERE customer_id < 100") + 1 ))
if [ "$local_check" = "$expected_customers 0" ]; then
    ok "a program on a plain table of the coordinator: $expected_customers customers, 0 differences"
else
    bad "a program on a plain table of the coordinator: '$local_check' (customers, differences), expected '$expected_customers 0'"
fi

# A Citus local table (its one shard on the coordinator): the program's
# tables stay plain tables of the coordinator, its triggers run on the shard.
citus_local=$(q "$coord" -q -c "SET client_min_messages = error" \
    -c "CREATE TABLE cl_orders (LIKE orders)" -c "CREATE INDEX ON cl_orders (customer_id)" \
    -c "INSERT INTO cl_orders SELECT * FROM orders WHERE customer_id < 300" \
    -c "SELECT citus_add_local_table_to_metadata('cl_orders')" \
    -c "SELECT customer_tier.create_program('cl', 'cl_orders', 'customer_id', 'amount', 'ordered_at')" \
    -c "INSERT INTO cl_orders SELECT 6000 + i % 20, now() - i * interval '1 hour', 5 FROM generate_series(1, 200) AS i" \
    -c "UPDATE cl_orders SET amount = amount + 1 WHERE customer_id < 50" -c "DELETE FROM cl_orders WHERE customer_id BETWEEN 60 AND 80" \
    -c "CALL customer_tier.reclassify('cl')" \
    -c "SELECT customer_tier.citus_table_kind('cl_orders') || ' ' || (SELECT count(*) FROM ct_cl.customers) || ' ' ||
               (SELECT count(DISTINCT customer_id) FROM cl_orders) || ' ' || (SELECT count(*) FROM customer_tier.verify_program('cl')) || ' ' ||
               (SELECT outcome FROM customer_tier.run WHERE program = 'cl')" | tail -1)
set -- $citus_local
if [ "$1 $2" = "Citus local" ] && [ "$3" = "$4" ] && [ "$5" = 0 ] && [ "$6" = succeeded ]; then
    ok "a program on a Citus local table: INSERT, UPDATE, DELETE and a run on its shard; $3 customers, 0 differences"
else bad "a program on a Citus local table: '$citus_local' (kind, customers, with orders, differences, run)"; fi
# a write through a worker reaches the coordinator's shard in a transaction
# Citus opened from the worker, committed in two phases
cl_worker=$(q "${ports[1]}" -q -c "INSERT INTO cl_orders VALUES (6100, '2025-01-01', 5), (7, '2025-01-02', 9000)" -c "DELETE FROM cl_orders WHERE customer_id = 8" \
    && q "$coord" -c "SELECT (SELECT count(*) FROM ct_cl.customers WHERE customer IN (6100, 8)) || ' ' || (SELECT count(*) FROM customer_tier.verify_program('cl'))")
if [ "$cl_worker" = "1 0" ]; then ok "a program on a Citus local table: INSERT and DELETE through worker 127.0.0.1:${ports[1]}, 0 differences"
else bad "a program on a Citus local table, writes through a worker: '$cl_worker' (customers 6100 and 8, differences)"; fi
cl_truncated=$(q "$coord" -q -c "TRUNCATE cl_orders" -c "SELECT (SELECT count(*) FROM ct_cl.customers) || ' ' || (SELECT count(*) FROM customer_tier.verify_program('cl'))")
if [ "$cl_truncated" = "0 0" ]; then ok "TRUNCATE of the Citus local table: the program's customers emptied, 0 differences"
else bad "TRUNCATE of the Citus local table: '$cl_truncated' (customers, differences)"; fi

# 5. A program over the orders distributed by customer: its per-customer
#    tables co-located with them, its triggers on the shards, kept current
#    for writes through the coordinator (docs/citus.md).
differences() {  # verify_program's rows: of customers, and of the summaries
    q "$coord" -c "SELECT count(*) FILTER (WHERE problem <> 'summary') || ' ' || count(*) FILTER (WHERE problem = 'summary') FROM customer_tier.verify_program('dist')"
}
t1=$(date +%s)
attached=$(q "$coord" -q -c "SET client_min_messages = warning" -c "CREATE INDEX ON orders (customer_id)" \
    -c "SELECT customer_tier.create_program('dist', 'orders', 'customer_id', 'amount', 'ordered_at')" | tail -1)
colocated=$(q "$coord" -c "
    SELECT count(*) FROM pg_dist_partition AS t
     WHERE t.colocationid = (SELECT o.colocationid FROM pg_dist_partition AS o WHERE o.logicalrelid = 'orders'::regclass)
       AND t.logicalrelid::text LIKE 'ct_dist.%'")
unscored=$(q "$coord" -c "SELECT (SELECT count(*) FROM ct_dist.customers WHERE tier IS NULL) || ' ' || (SELECT count(*) FROM ct_dist.tier_history WHERE source = 'create_program')")
if [ "$unscored" = "0 $customers" ]; then ok "create_program scored every backfilled customer on the shards: $customers first tiers in tier_history"
else bad "create_program on distributed orders: '$unscored' (unscored customers, first tiers), expected '0 $customers'"; fi
if [ "$attached" = "$customers" ] && [ "$colocated" = 5 ]; then
    ok "create_program on orders distributed by customer: $attached customers backfilled, 5 tables co-located with the orders ($(( $(date +%s) - t1 )) s)"
else
    bad "create_program on distributed orders: '$attached' customers (expected $customers), $colocated co-located tables (expected 5)"
fi
check() {  # verify_program after a write through the coordinator
    local after
    after=$(differences)
    if [ "$after" = "0 0" ]; then ok "$1: verify_program: 0 differences (customers and summaries)"
    else bad "$1: verify_program: $after (customers, summaries)"; fi
}
step() { local what=$1; shift; q "$coord" -q "$@" >/dev/null; check "$what"; }
step "a single-row INSERT" -c "INSERT INTO orders VALUES (5000, now(), 10)"
step "an INSERT of 1,000 rows of 50 customers over every shard" \
    -c "INSERT INTO orders SELECT 6000 + i % 50, now() - i * interval '1 hour', 5 FROM generate_series(1, 1000) AS i"
seq 1 500 | awk '{ printf "%d\t2025-01-01 00:00:00+00\t%d.50\n", 7000 + $1 % 40, $1 }' | q "$coord" -q -c "COPY orders FROM STDIN"
check "a COPY of 500 rows of 40 customers"
shard_nodes=$(q "$coord" -c "SELECT count(DISTINCT p.nodeport) FROM pg_dist_shard_placement AS p
                         WHERE p.shardid IN (get_shard_id_for_distribution_column('orders', 6001), get_shard_id_for_distribution_column('orders', 7001))")
step "orders moved from customer 6001 to 7001, whose shards are on $shard_nodes node(s) (a DELETE and an INSERT in one transaction: Citus refuses an UPDATE of the distribution column)" \
    -c "BEGIN" -c "INSERT INTO orders SELECT 7001, ordered_at, amount FROM orders WHERE customer_id = 6001" \
    -c "DELETE FROM orders WHERE customer_id = 6001" -c "COMMIT"
step "an UPDATE of the amounts of 100 customers" -c "UPDATE orders SET amount = amount + 1 WHERE customer_id < 100"
step "an UPDATE of one customer's order times (to a constant: Citus refuses STABLE functions of columns in an UPDATE)" -c "UPDATE orders SET ordered_at = '2024-06-01 12:00+00' WHERE customer_id = 7002"
step "a DELETE of 200 customers' orders" -c "DELETE FROM orders WHERE customer_id BETWEEN 100 AND 300"
counts=$(q "$coord" -c "SELECT (SELECT count(*) FROM ct_dist.customers) || ' ' || (SELECT count(DISTINCT customer_id) FROM orders) || ' ' || (SELECT sum(orders) FROM ct_dist.customers) || ' ' || (SELECT count(*) FROM orders)")
set -- $counts
if [ "$1" = "$2" ] && [ "$3" = "$4" ]; then ok "customers $1 = customers with orders $2; orders counted $3 = order rows $4"
else bad "customers and orders disagree: $counts (customers, with orders, counted, rows)"; fi
history=$(q "$coord" -c "SELECT count(*) FROM ct_dist.tier_history WHERE source LIKE 'trigger%'")
if [ "$history" -gt 0 ]; then ok "tier_history on the shards: $history changes recorded by the triggers"; else bad "no tier change recorded on the shards"; fi
# 6. Writes sent through a worker (Citus routes them from there), then 8
#    concurrent clients: 4 through the coordinator and 2 through each worker.
w1=${ports[1]}
q "$w1" -q -c "INSERT INTO orders VALUES (9001, now(), 10)" \
    -c "INSERT INTO orders SELECT 9100 + i % 30, now() - i * interval '1 minute', 3 FROM generate_series(1, 300) AS i" \
    -c "UPDATE orders SET amount = 4 WHERE customer_id = 9101" -c "DELETE FROM orders WHERE customer_id = 9105" >/dev/null
check "INSERT, UPDATE and DELETE sent through worker 127.0.0.1:$w1"
cat >"$base/bench.sql" <<'BENCH'
\set c random(1, 3000)
\set d random(1, 3000)
INSERT INTO orders VALUES (:c, now(), 5.25);
UPDATE orders SET amount = amount + 1 WHERE customer_id = :d;
DELETE FROM orders WHERE customer_id = :d AND amount > 1000;
BENCH
seconds=${CITUS_BENCH_SECONDS:-10}
# clients <name> <seconds> <clients through the coordinator> <through each
# worker>: pgbench runs $base/<name>.sql on the three nodes at once; sets
# done_tx and failed_tx, and leaves the outputs in $base/<name>.[012]
clients() {
    local name=$1 secs=$2 i pids=()
    for i in 0 1 2; do
        "$CT_BIN/pgbench" -n -h 127.0.0.1 -p "${ports[$i]}" -U postgres -c "$([ "$i" = 0 ] && echo "$3" || echo "$4")" -j 1 \
            -T "$secs" -f "$base/$name.sql" postgres >"$base/$name.$i" 2>&1 & pids+=($!)
    done
    wait "${pids[@]}" || true
    done_tx=$(cat "$base/$name".[012] | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' | paste -sd+ | bc)
    failed_tx=$(cat "$base/$name".[012] | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' | paste -sd+ | bc)
}
clients bench "$seconds" 4 2
if [ "${done_tx:-0}" -gt 0 ] && [ "${failed_tx:-1}" = 0 ]; then
    check "8 concurrent clients for $seconds s (4 through the coordinator, 2 through each worker): $done_tx transactions of an INSERT, an UPDATE and a DELETE, 0 failed"
else
    bad "8 concurrent clients: '$done_tx' transactions, '$failed_tx' failed"; cat "$base"/bench.[012] | grep -i error | head -5
fi
# TRUNCATE of the distributed orders is followed from the coordinator, over
# connections of the role truncating: a role that may not empty the
# program's customers is refused (a superuser's TRUNCATE is in 9. below)
truncated=$( { psql -X -At -h 127.0.0.1 -p "$coord" -U postgres -d postgres -v VERBOSITY=verbose \
                   -c "SET client_min_messages = warning" -c "CREATE ROLE ct_crm LOGIN" -c "GRANT SELECT, TRUNCATE ON orders TO ct_crm" \
                   -c "SET ROLE ct_crm" -c "TRUNCATE orders" 2>&1 || true; } \
            | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' | head -1)
left=$(q "$coord" -c "SELECT count(*) FROM orders")
if [ "$truncated" = 0A000 ] && [ "$left" -gt 0 ]; then ok "TRUNCATE of the distributed orders by a role that may not empty the program's customers: refused (0A000), $left orders kept"
else bad "TRUNCATE of the distributed orders by ct_crm: '$truncated', $left orders left; expected 0A000"; fi
echo "citus: program over distributed orders: $(( $(date +%s) - t1 )) s"
# 7. Jobs on the distributed program (docs/citus.md, "Jobs"): a run, a
#    rebuild after drift, a pin, forget and purge, each followed by
#    verify_program.
t2=$(date +%s)
q "$coord" -q -c "SET client_min_messages = warning" -c "CALL customer_tier.reclassify('dist')" >/dev/null
run=$(q "$coord" -c "SELECT r.outcome || ' ' || r.customers || ' ' || coalesce((SELECT sum(v::bigint) FROM jsonb_each_text(r.changes_by_tier) AS e (k, v)), 0) || ' ' || r.id
                       FROM customer_tier.run AS r WHERE r.program = 'dist' ORDER BY r.id DESC LIMIT 1")
run="$run $(q "$coord" -c "SELECT (SELECT count(*) FROM ct_dist.customers) || ' ' || (SELECT count(*) FROM ct_dist.tier_history AS h WHERE h.source = 'run ${run##* }')")"
set -- $run
if [ "$1" = succeeded ] && [ "$2" = "$5" ] && [ "$3" = "$6" ]; then
    check "reclassify: run $4 succeeded, $2 customers scored on the shards, $3 tier changes logged on the coordinator and recorded on the shards"
else bad "reclassify: '$run' (outcome, scored, changes logged, run, customers, changes in tier_history)"; fi
drifted=$(q "$coord" -q -c "UPDATE ct_dist.customers SET orders = orders + 1, monetary = monetary + 1000 WHERE customer IN (1, 2, 3)" \
           -c "SELECT count(*) FILTER (WHERE problem = 'different') FROM customer_tier.verify_program('dist')")
q "$coord" -q -c "SELECT customer_tier.rebuild_program('dist')" >/dev/null
if [ "$drifted" = 3 ]; then check "rebuild_program after 3 customers drifted"
else bad "rebuild_program: the drift of 3 customers was seen as '$drifted'"; fi
pin_customer=$(q "$coord" -c "SELECT customer FROM ct_dist.customers WHERE tier <> 'diamond' ORDER BY customer LIMIT 1")
pinned=$(q "$coord" -q -c "SELECT customer_tier.pin_customer('dist', '$pin_customer', 'diamond', 'test')" \
          -c "SELECT c.tier || ' ' || c.tier_reason || ' ' || (SELECT count(*) FROM ct_dist.tier_history AS h WHERE h.customer = c.customer AND h.source = 'pin')
                FROM ct_dist.customers AS c WHERE c.customer = $pin_customer" | tail -1)
if [ "$pinned" = "diamond pinned 1" ]; then check "pin_customer('dist', '$pin_customer', 'diamond'): scored on its shard"
else bad "pin_customer: '$pinned' (tier, reason, pin rows in tier_history), expected 'diamond pinned 1'"; fi
erased=$(q "$coord" -q -c "DELETE FROM orders WHERE customer_id = 5" -c "SELECT customer_tier.forget('dist', '5')" \
          -c "SELECT (SELECT count(*) FROM ct_dist.customers WHERE customer = 5) + (SELECT count(*) FROM ct_dist.tier_history WHERE customer = 5)" | tail -1)
purged=$(q "$coord" -c "SELECT customer_tier.purge('dist') ? 'tier_history'")
if [ "$erased" = 0 ] && [ "$purged" = t ]; then check "forget('dist', '5') erased its rows on the shards; purge ran over the distributed tables"
else bad "forget/purge: $erased rows of customer 5 left, purge answered '$purged'"; fi
echo "citus: jobs: $(( $(date +%s) - t2 )) s"

# 8. The views from the coordinator against one node: the same orders in a
#    distributed table and in a plain table of the coordinator, a program on
#    each scoring as of the same instant, reclassified and with the same pin;
#    every view compared row for row, both ways.
t3=$(date +%s)
as_of="2025-06-01 00:00+00"
q "$coord" -q -c "SET client_min_messages = error" \
    -c "CREATE TABLE cmp_orders (LIKE orders)" -c "SELECT create_distributed_table('cmp_orders', 'customer_id')" \
    -c "INSERT INTO cmp_orders SELECT * FROM orders WHERE ordered_at < '$as_of'" -c "CREATE INDEX ON cmp_orders (customer_id)" \
    -c "CREATE TABLE one_orders (LIKE orders)" -c "INSERT INTO one_orders SELECT * FROM cmp_orders" -c "CREATE INDEX ON one_orders (customer_id)" \
    -c "SELECT customer_tier.create_program('cmp', 'cmp_orders', 'customer_id', 'amount', 'ordered_at', as_of => '$as_of')" \
    -c "SELECT customer_tier.create_program('one', 'one_orders', 'customer_id', 'amount', 'ordered_at', as_of => '$as_of')" \
    -c "CALL customer_tier.reclassify('cmp')" -c "CALL customer_tier.reclassify('one')" \
    -c "SELECT customer_tier.pin_customer(p, '7', 'diamond', 'test') FROM unnest('{cmp,one}'::text[]) AS p" \
    -c "SELECT customer_tier.log_contact(p, k::text, 'phone', 'reached', NULL, '2024-09-01') FROM unnest('{cmp,one}'::text[]) AS p, generate_series(10, 40) AS k" \
    -c "SELECT customer_tier.log_contact(p, k::text, 'email', NULL, NULL, '2024-09-01') FROM unnest('{cmp,one}'::text[]) AS p, generate_series(30, 35) AS k" \
    -c "INSERT INTO cmp_orders VALUES (7, '2025-05-01', 12.5), (99999, '2025-05-02', 40)" \
    -c "INSERT INTO one_orders VALUES (7, '2025-05-01', 12.5), (99999, '2025-05-02', 40)" >/dev/null
# every view of a one-node program ($1) against the same view of another
# program ($2), and the programs' functions of periods: prints how many were
# compared, then those that differ with the number of rows
compare_views() {
    local one=$1 other=$2 v f n views compared=0 differing=""
    compare() {  # $1: a name; $2: SQL text of rows with %s for the schema; prints the rows that differ
        q "$coord" -c "SELECT count(*) FROM ((SELECT * FROM ($(printf "$2" "$one")) AS a EXCEPT ALL SELECT * FROM ($(printf "$2" "$other")) AS b)
                                         UNION ALL (SELECT * FROM ($(printf "$2" "$other")) AS b EXCEPT ALL SELECT * FROM ($(printf "$2" "$one")) AS a)) AS d"
    }
    views=$(q "$coord" -c "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class AS c
                            WHERE c.relnamespace = '$one'::regnamespace AND c.relkind = 'v'")
    for v in $views; do
        # the run views name the run, whose number differs between the two
        # programs (as do changed_by and source, "run <number>"); updated_at
        # is when a row was written
        n=$(compare "$v" "SELECT regexp_replace((to_jsonb(v) - '{from_run,to_run,from_finished_at,to_finished_at,id,run,updated_at}'::text[])::text,
                                                 '\"run [0-9]+\"', '\"run\"', 'g') AS row FROM %s.$v AS v")
        compared=$((compared + 1))
        [ "$n" = 0 ] || differing="$differing $v($n)"
    done
    for f in "kpis('month', '2025-01-01', '2025-06-01')" "migration('2025-01-01', '2025-06-01')" \
             "satisfaction_by_tier('month', '2025-01-01', '2025-06-01')"; do
        n=$(compare "$f" "SELECT to_jsonb(k) AS row FROM %s.$f AS k")
        compared=$((compared + 1))
        [ "$n" = 0 ] || differing="$differing ${f%%(*}($n)"
    done
    echo "$compared$differing"
}
views=$(q "$coord" -c "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class AS c
                        WHERE c.relnamespace = 'ct_one'::regnamespace AND c.relkind = 'v'")
set -- $(compare_views ct_one ct_cmp)
compared=$1; shift
differing=${*:+ $*}
rows=$(q "$coord" -c "SELECT (SELECT count(*) FROM ct_cmp.segments) || ' ' || (SELECT count(*) FROM ct_cmp.tier_summary WHERE customers > 0) || ' ' ||
                            (SELECT count(*) FROM ct_cmp.follow_ups_due) || ' ' || (SELECT count(last_channel) FROM ct_cmp.follow_ups_due) || ' ' ||
                            (SELECT count(*) FROM ct_cmp.kpis('month', '2025-01-01', '2025-06-01'))")
set -- $rows
if [ -z "$differing" ] && [ "$1" -gt 0 ] && [ "$3" -gt 0 ] && [ "$4" -gt 0 ] && [ "${5:-0}" -gt 0 ]; then
    ok "the same $compared views and functions from the coordinator as on one node ($views, kpis, migration, satisfaction_by_tier): equal row for row (segments: $1 rows, $2 tiers with customers; follow_ups_due: $3 rows, $4 with a last contact; kpis: $5 rows)"
else bad "views that differ from one node's (rows differing):$differing; segments $rows"; fi
cmp_diff=$(q "$coord" -c "SELECT count(*) FROM customer_tier.verify_program('cmp')")
if [ "$cmp_diff" = 0 ]; then ok "verify_program('cmp'): 0 differences"; else bad "verify_program('cmp'): $cmp_diff differences"; fi
# a CRM's own customers table, distributed with the orders: its join to the
# segments runs on each shard group (no repartition, no pull to the coordinator)
plan=$(q "$coord" -q -c "SET client_min_messages = warning" \
    -c "CREATE TABLE crm_customers (id bigint PRIMARY KEY, name text)" \
    -c "SELECT create_distributed_table('crm_customers', 'id', colocate_with => 'cmp_orders')" \
    -c "INSERT INTO crm_customers SELECT DISTINCT customer_id, 'c' || customer_id FROM cmp_orders" \
    -c "EXPLAIN (COSTS OFF) SELECT s.tier, count(*) FROM crm_customers AS cc JOIN ct_cmp.segments AS s ON s.customer = cc.id GROUP BY s.tier")
if grep -q "Task Count: 32" <<<"$plan" && grep -q "Join" <<<"$plan" && grep -q "crm_customers_[0-9]" <<<"$plan" \
   && grep -q " customers_[0-9]" <<<"$plan" && ! grep -qi "repartition\|MapMergeJob" <<<"$plan"; then
    ok "a CRM's distributed customers joined to the segments: co-located, the join on each of 32 shard groups ($(grep -m1 -o 'Hash Join\|Merge Join\|Nested Loop' <<<"$plan") of crm_customers_N and customers_N)"
else bad "the join of crm_customers to the segments is not co-located:"; echo "$plan" | head -30; fi
joined=$(q "$coord" -c "SELECT (SELECT count(*) FROM crm_customers AS cc JOIN ct_cmp.segments AS s ON s.customer = cc.id) = (SELECT count(*) FROM ct_one.segments WHERE customer IN (SELECT customer_id FROM one_orders))")
if [ "$joined" = t ]; then ok "the co-located join finds every customer"; else bad "the co-located join: '$joined'"; fi
# unpin_customer, set_churn_rules and set_cadence on both programs: each
# rescores (or changes the follow-ups) on the cluster as on one node
changed=$(q "$coord" -q -c "SET client_min_messages = error" \
    -c "SELECT customer_tier.unpin_customer(p, '7') FROM unnest('{cmp,one}'::text[]) AS p" \
    -c "SELECT customer_tier.set_churn_rules(p, '{\"silent_gap_factor\": 1.5, \"lapsed_days\": 60}') FROM unnest('{cmp,one}'::text[]) AS p" \
    -c "SELECT customer_tier.set_cadence(p, '{\"gold\": \"2 weeks\", \"normal\": 20}') FROM unnest('{cmp,one}'::text[]) AS p" \
    -c "SELECT (SELECT tier_reason FROM ct_cmp.customers WHERE customer = 7) || '|' ||
               (SELECT count(*) FROM ct_cmp.customers WHERE 'silent' = ANY (churn_flags)) || '|' ||
               (SELECT count(*) FROM ct_cmp.follow_ups_due) || '|' || (SELECT count(*) FROM customer_tier.verify_program('cmp'))" | tail -1)
IFS='|' read -r -a fields <<<"$changed"
set -- "${fields[@]}"
after=$(compare_views ct_one ct_cmp)
if [ "$1" != pinned ] && [ "${3:-0}" -gt 0 ] && [ "$4" = 0 ] && [ "${after#* }" = "$after" ]; then
    ok "unpin_customer, set_churn_rules and set_cadence on the cluster: customer 7 unpinned ($1), $2 customers flagged silent, $3 follow-ups due, verify_program 0, the same ${after%% *} views and functions as one node's"
else bad "unpin_customer, set_churn_rules, set_cadence on the cluster: '$changed' (reason of 7, silent, follow-ups, differences); views: $after"; fi
# The breakpoints and ABC thresholds of a run across the cluster: the four
# aggregates of refresh_population's statement (breakpoints of R, F and M,
# abc_thresholds) computed as partial states on every shard of the customers
# (worker_partial_agg) and combined on the coordinator (coord_combine_agg), as
# auto_explain shows the statement the function runs; the stored breakpoints
# and the classes equal one node's.
population=$(q "$coord" -q -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
    -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_verbose = on" \
    -c "SET auto_explain.log_level = notice" -c "SET client_min_messages = notice" \
    -c "SELECT customer_tier.refresh_population('cmp')" 2>&1)
pushed=0
for agg in breakpoints abc_thresholds; do
    grep -q "worker_partial_agg('customer_tier.$agg(" <<<"$population" && pushed=$((pushed + 1))
done
combined=$(grep -c "coord_combine_agg(" <<<"$population" || true)
same=$(q "$coord" -c "SELECT (SELECT customer_tier.refresh_population('one')) = (SELECT customer_tier.refresh_population('cmp'))" \
          -c "SELECT o.r_breakpoints = c.r_breakpoints AND o.f_breakpoints = c.f_breakpoints AND o.m_breakpoints = c.m_breakpoints
                FROM customer_tier.program AS o, customer_tier.program AS c WHERE o.name = 'one' AND c.name = 'cmp'" \
          -c "SELECT NOT EXISTS (SELECT customer, abc_class FROM ct_one.customers EXCEPT SELECT customer, abc_class FROM ct_cmp.customers)" | paste -sd ' ')
classes=$(q "$coord" -c "SELECT string_agg(abc_class || ' ' || n, ', ' ORDER BY abc_class) FROM (SELECT abc_class, count(*) AS n FROM ct_cmp.customers GROUP BY 1) AS x")
if [ "$pushed" = 2 ] && [ "$combined" -gt 0 ] && [ "$same" = "t t t" ]; then
    ok "refresh_population on the cluster: breakpoints and abc_thresholds as partial states on the shards (worker_partial_agg), combined on the coordinator (coord_combine_agg); breakpoints, ABC thresholds and classes ($classes) equal to one node's"
else bad "refresh_population on the cluster: $pushed of 2 aggregates pushed down, $combined coord_combine_agg, equal to one node's (class expression, breakpoints, classes): '$same'"
     q "$coord" -c "SELECT name, r_breakpoints, f_breakpoints, m_breakpoints, customer_tier.refresh_population(name) FROM customer_tier.program WHERE name IN ('one', 'cmp')"; fi
echo "citus: views against one node: $(( $(date +%s) - t3 )) s"

# 8b. A program over a reference table of orders (docs/citus.md, "Programs
#     over a reference table"): its tables stay on the coordinator, its
#     triggers keep them from the coordinator's placement and do nothing on
#     the workers'.  Every write is made to it and to the same orders in a
#     plain table of the coordinator with a program too; after each,
#     verify_program finds 0 differences, and at the end the customers, the
#     rejects and every view equal one node's.
t4=$(date +%s)
q "$coord" -q -c "SET client_min_messages = error" \
    -c "CREATE TABLE rt_orders (customer_id bigint, ordered_at timestamptz, amount numeric(12,2))" \
    -c "INSERT INTO rt_orders SELECT * FROM cmp_orders WHERE customer_id < 600" -c "CREATE INDEX ON rt_orders (customer_id)" \
    -c "CREATE TABLE ro_orders (LIKE rt_orders)" -c "INSERT INTO ro_orders SELECT * FROM rt_orders" -c "CREATE INDEX ON ro_orders (customer_id)" \
    -c "SELECT create_reference_table('rt_orders')" >/dev/null
attached=$(q "$coord" -q -c "SET client_min_messages = error" \
    -c "SELECT customer_tier.create_program('rt', 'rt_orders', 'customer_id', 'amount', 'ordered_at', as_of => '$as_of')" \
    -c "SELECT customer_tier.create_program('ro', 'ro_orders', 'customer_id', 'amount', 'ordered_at', as_of => '$as_of')" \
    -c "SELECT customer_tier.citus_table_kind('rt_orders') || ' ' || (SELECT count(*) FROM ct_rt.customers) || ' ' || (SELECT count(*) FROM ct_ro.customers) || ' ' ||
               (SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'ct_rt.%') || ' ' ||
               (SELECT count(*) FROM pg_dist_placement AS p JOIN pg_dist_shard AS s USING (shardid) WHERE s.logicalrelid = 'rt_orders'::regclass)" | tail -1)
set -- $attached
if [ "$1" = reference ] && [ "$2" = "$3" ] && [ "$2" -gt 0 ] && [ "$4" = 0 ] && [ "$5" = 3 ]; then
    ok "create_program on a reference table (3 placements): $2 customers, as on one node; the program's tables stay on the coordinator"
else bad "create_program on a reference table: '$attached' (kind, customers, one node's, program tables in Citus, placements)"; fi
ref_check() {  # verify_program of the reference program after a write
    local after
    after=$(q "$coord" -c "SELECT count(*) FROM customer_tier.verify_program('rt')")
    if [ "$after" = 0 ]; then ok "reference table, $1: verify_program: 0 differences"
    else bad "reference table, $1: verify_program: $after differences"; fi
}
ref_step() {  # $1: what; $2: port the reference table's write goes through; $3: SQL on table ORDERS
    q "$2" -q -c "${3//ORDERS/rt_orders}" >/dev/null
    q "$coord" -q -c "${3//ORDERS/ro_orders}" >/dev/null
    ref_check "$1"
}
ref_step "a single-row INSERT" "$coord" "INSERT INTO ORDERS VALUES (5000, '2025-05-01', 10)"
ref_step "an INSERT of 1,000 rows of 50 customers" "$coord" \
    "INSERT INTO ORDERS SELECT 6000 + i % 50, timestamptz '2025-05-01' - i * interval '1 hour', 5 FROM generate_series(1, 1000) AS i"
for t in rt_orders ro_orders; do
    seq 1 300 | awk '{ printf "%d\t2025-04-01 00:00:00+00\t%d.50\n", 7000 + $1 % 30, $1 }' | q "$coord" -q -c "COPY $t FROM STDIN"
done
ref_check "a COPY of 300 rows of 30 customers"
ref_step "an UPDATE of the amounts of 100 customers" "$coord" "UPDATE ORDERS SET amount = amount + 1 WHERE customer_id < 100"
ref_step "an UPDATE moving customer 6001's orders to customer 7001" "$coord" "UPDATE ORDERS SET customer_id = 7001 WHERE customer_id = 6001"
ref_step "a DELETE of 100 customers' orders" "$coord" "DELETE FROM ORDERS WHERE customer_id BETWEEN 100 AND 200"
ref_step "2 rows the program cannot use (kept in rejects)" "$coord" "INSERT INTO ORDERS VALUES (NULL, '2025-05-01', 3), (6002, '2025-05-01', NULL)"
w2=${ports[2]}
ref_step "a single-row INSERT of a new customer through worker 127.0.0.1:$w2" "$w2" "INSERT INTO ORDERS VALUES (9002, '2025-05-02', 20000)"
ref_step "INSERT, UPDATE, DELETE and a row the program cannot use through worker 127.0.0.1:$w2" "$w2" \
    "INSERT INTO ORDERS SELECT 9100 + i % 20, timestamptz '2025-05-02' - i * interval '1 minute', 3 FROM generate_series(1, 200) AS i;
     UPDATE ORDERS SET amount = 4 WHERE customer_id = 6003; DELETE FROM ORDERS WHERE customer_id = 6004;
     INSERT INTO ORDERS VALUES (NULL, '2025-05-02', 1)"
history=$(q "$coord" -c "SELECT count(*) FROM ct_rt.tier_history WHERE customer = 9002 AND source LIKE 'trigger%'")
if [ "$history" -gt 0 ]; then ok "reference table: a tier change made by a write through a worker, in a transaction the coordinator prepares, recorded in tier_history (not announced: a prepared transaction may not NOTIFY)"
else bad "reference table: no tier_history row for customer 9002 written through a worker"; fi
# the jobs: a run on each, the same pin, a rebuild after drift
drifted=$(q "$coord" -q -c "SET client_min_messages = error" \
    -c "CALL customer_tier.reclassify('rt')" -c "CALL customer_tier.reclassify('ro')" \
    -c "SELECT customer_tier.pin_customer(p, '7', 'diamond', 'test') FROM unnest('{rt,ro}'::text[]) AS p" \
    -c "UPDATE ct_rt.customers SET orders = orders + 1, monetary = monetary + 1000 WHERE customer IN (1, 2, 3)" \
    -c "SELECT count(*) FILTER (WHERE problem = 'different') FROM customer_tier.verify_program('rt')" | tail -1)
q "$coord" -q -c "SELECT customer_tier.rebuild_program('rt')" >/dev/null
if [ "$drifted" = 3 ]; then ref_check "reclassify, pin_customer, rebuild_program after 3 customers drifted"
else bad "reference table: the drift of 3 customers was seen as '$drifted'"; fi
same=$(q "$coord" -c "SELECT (SELECT count(*) FROM ((SELECT customer, tier, segment, r_score, f_score, m_score, abc_class, orders, monetary FROM ct_rt.customers
                                                     EXCEPT SELECT customer, tier, segment, r_score, f_score, m_score, abc_class, orders, monetary FROM ct_ro.customers)
                                                    UNION ALL (SELECT customer, tier, segment, r_score, f_score, m_score, abc_class, orders, monetary FROM ct_ro.customers
                                                     EXCEPT SELECT customer, tier, segment, r_score, f_score, m_score, abc_class, orders, monetary FROM ct_rt.customers)) AS d)
                              || ' ' || (SELECT count(*) FROM ct_rt.rejects) || ' ' || (SELECT count(*) FROM ct_ro.rejects) || ' ' || (SELECT count(*) FROM ct_rt.customers)")
set -- $same
if [ "$1" = 0 ] && [ "$2" = 3 ] && [ "$3" = 3 ]; then ok "reference table: the $4 customers equal one node's (tier, segment, scores, ABC class, orders, monetary); 3 rejects kept, as on one node"
else bad "reference table against one node: '$same' (customers differing, rejects, one node's rejects, customers)"; fi
set -- $(compare_views ct_ro ct_rt)
compared=$1; shift
if [ $# = 0 ]; then ok "reference table: the same $compared views and functions as on one node, row for row"
else bad "reference table: views that differ from one node's (rows differing): $*"
     for v in "$@"; do v=${v%%(*}
         q "$coord" -c "(SELECT 'one node', to_jsonb(v) - '{id,run,updated_at}'::text[] FROM ct_ro.$v AS v EXCEPT ALL SELECT 'one node', to_jsonb(v) - '{id,run,updated_at}'::text[] FROM ct_rt.$v AS v LIMIT 2)
                         UNION ALL (SELECT 'reference', to_jsonb(v) - '{id,run,updated_at}'::text[] FROM ct_rt.$v AS v EXCEPT ALL SELECT 'reference', to_jsonb(v) - '{id,run,updated_at}'::text[] FROM ct_ro.$v AS v LIMIT 2)"
     done; fi
# 4 concurrent clients on the reference table: 2 through the coordinator, 1 through each worker
cat >"$base/ref_bench.sql" <<'BENCH'
\set c random(1, 800)
INSERT INTO rt_orders VALUES (:c, '2025-05-03', 5.25);
UPDATE rt_orders SET amount = amount + 1 WHERE customer_id = :c + 1;
DELETE FROM rt_orders WHERE customer_id = :c + 2 AND amount > 1000;
BENCH
clients ref_bench 5 2 1
if [ "${done_tx:-0}" -gt 0 ] && [ "${failed_tx:-1}" = 0 ]; then
    ref_check "4 concurrent clients for 5 s (2 through the coordinator, 1 through each worker): $done_tx transactions, 0 failed"
else bad "reference table, 4 concurrent clients: '$done_tx' transactions, '$failed_tx' failed"; cat "$base"/ref_bench.[012] | grep -i error | head -5; fi
# TRUNCATE through a worker: Citus fires its triggers on that worker's table
# only, where the program is not: refused
got=$( { psql -X -At -h 127.0.0.1 -p "$w2" -U postgres -d postgres -v VERBOSITY=verbose -c "TRUNCATE rt_orders" 2>&1 || true; } \
      | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)$/\1 \2/p' | head -1)
left=$(q "$coord" -c "SELECT count(*) FROM rt_orders")
if [ "$got" = '0A000 program "rt" follows a TRUNCATE of rt_orders only on the coordinator' ] && [ "$left" -gt 0 ]; then
    ok "reference table: TRUNCATE through a worker refused ($got), $left orders kept"
else bad "reference table: TRUNCATE through a worker: '$got', $left orders left"; fi
# TRUNCATE: Citus fires it on the coordinator's table, where the program is
truncated=$(q "$coord" -q -c "TRUNCATE rt_orders" -c "SELECT (SELECT count(*) FROM ct_rt.customers) || ' ' || (SELECT count(*) FROM customer_tier.verify_program('rt'))")
if [ "$truncated" = "0 0" ]; then ok "reference table: TRUNCATE empties the program's customers, 0 differences"
else bad "reference table: TRUNCATE: '$truncated' (customers, differences)"; fi
q "$coord" -q -c "INSERT INTO rt_orders VALUES (1, '2025-05-01', 10)" -c "SELECT customer_tier.drop_program('rt')" -c "DROP TABLE rt_orders" >/dev/null
dropped=$(q "$coord" -c "SELECT (SELECT count(*) FROM customer_tier.program WHERE name = 'rt') || ' ' || (SELECT count(*) FROM pg_namespace WHERE nspname = 'ct_rt')")
if [ "$dropped" = "0 0" ]; then ok "reference table: drop_program removes the program"; else bad "reference table: drop_program left '$dropped' (programs, schemas)"; fi
echo "citus: reference table: $(( $(date +%s) - t4 )) s"

# 9. TRUNCATE of the distributed orders by a superuser: the program's
#    customers emptied on every shard from the coordinator; in a transaction
#    with writes before and after it, only the writes after it count.
truncated=$(q "$coord" -q -c "BEGIN" -c "INSERT INTO orders VALUES (1, now(), 5), (2, now(), 6)" -c "TRUNCATE orders" \
                -c "INSERT INTO orders VALUES (3, now(), 7), (4000, now(), 8)" -c "COMMIT" \
                -c "SELECT (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM ct_dist.customers) || ' ' || (SELECT count(*) FROM customer_tier.verify_program('dist'))")
if [ "$truncated" = "2 2 0" ]; then check "TRUNCATE of the distributed orders between writes in one transaction: 2 orders and 2 customers left"
else bad "TRUNCATE of the distributed orders: '$truncated' (orders, customers, differences), expected '2 2 0'"; fi
truncated=$(q "$coord" -q -c "TRUNCATE orders" -c "SELECT (SELECT count(*) FROM ct_dist.customers) || ' ' || (SELECT count(*) FROM customer_tier.verify_program('dist'))")
if [ "$truncated" = "0 0" ]; then ok "TRUNCATE of the distributed orders: the program's customers emptied on every shard, 0 differences"
else bad "TRUNCATE of the distributed orders: '$truncated' (customers, differences)"; fi

# drop_program of a distributed program: its triggers go from the distributed
# orders (Citus refuses DROP TRIGGER there without citus.enable_unsafe_triggers,
# which drop_program sets for its transaction), its distributed tables with its schema
triggers=$(q "$coord" -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal AND tgname LIKE 'customer_tier_dist_%'")
dropped=$(q "$coord" -q -c "SET client_min_messages = warning" -c "SELECT customer_tier.drop_program('dist')" \
    -c "SELECT (SELECT count(*) FROM customer_tier.program WHERE name = 'dist') || ' ' || (SELECT count(*) FROM pg_namespace WHERE nspname = 'ct_dist') || ' ' ||
               (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal AND tgname LIKE 'customer_tier_dist_%') || ' ' ||
               (SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'ct_dist.%')" | tail -1)
q "$coord" -q -c "INSERT INTO orders VALUES (11, now(), 3)" >/dev/null
if [ "$triggers" -gt 0 ] && [ "$dropped" = "0 0 0 0" ]; then ok "drop_program of the distributed program: its $triggers triggers dropped, no program, schema or distributed table left; the orders take writes"
else bad "drop_program of the distributed program left '$dropped' (programs, schemas, triggers, distributed tables)"; fi

# 10. Optional (CITUS_BENCH_JOBS=<customers>, not part of the test command):
#     the jobs at that many customers (10 orders each) on the cluster against
#     the same orders in a plain table of the coordinator, in this run, and
#     how the customers are spread over the two workers.  All three servers
#     share this machine's cores, so the ratio is not a cluster's speed-up.
if [ -n "${CITUS_BENCH_JOBS:-}" ]; then
    n=$CITUS_BENCH_JOBS
    declare -A t_create=() t_run=() t_rebuild=() t_population=() t_fit=()
    ms() { local s; s=$(date +%s%N); q "$coord" -q -c "SET client_min_messages = error" "$@" >/dev/null; echo $(( ($(date +%s%N) - s) / 1000000 )); }
    q "$coord" -q -c "SET client_min_messages = error" \
        -c "CREATE TABLE bd_orders (LIKE orders)" -c "SELECT create_distributed_table('bd_orders', 'customer_id')" \
        -c "INSERT INTO bd_orders SELECT (hashint4(i) & 2147483647) % $n, timestamptz '2024-01-01' + (hashint4(i + 1) & 2147483647) % 31536000 * interval '1 second',
                   round(((hashint4(i + 2) & 2147483647) % 100000)::numeric / 100 + 1, 2) FROM generate_series(1, $n * 10) AS i" \
        -c "CREATE INDEX ON bd_orders (customer_id)" \
        -c "CREATE TABLE bl_orders (LIKE orders)" -c "INSERT INTO bl_orders SELECT * FROM bd_orders" -c "CREATE INDEX ON bl_orders (customer_id)" \
        -c "VACUUM ANALYZE bl_orders" -c "ANALYZE bd_orders" >/dev/null
    for p in bd bl; do
        t_create[$p]=$(ms -c "SELECT customer_tier.create_program('$p', '${p}_orders', 'customer_id', 'amount', 'ordered_at', as_of => '2025-01-01')")
        t_run[$p]=$(ms -c "CALL customer_tier.reclassify('$p', as_of => '2025-03-01')")
        t_rebuild[$p]=$(ms -c "SELECT customer_tier.rebuild_program('$p')")
        # two parts of a run alone: the population (breakpoints, ABC
        # thresholds) and the models' fit
        t_population[$p]=$(ms -c "SELECT customer_tier.refresh_population('$p')")
        t_fit[$p]=$(ms -c "SELECT customer_tier.fit_program_model('$p')")
    done
    changes=$(q "$coord" -c "SELECT string_agg(r.program || ' ' || r.customers || ' customers, ' || r.tier_changes || ' tier changes', '; ' ORDER BY r.program)
                               FROM customer_tier.run AS r WHERE r.program IN ('bd', 'bl')")
    spread=$(q "$coord" -c "SELECT string_agg(x.nodeport || ': ' || x.customers, ', ' ORDER BY x.nodeport)
                              FROM (SELECT p.nodeport, sum(r.result::bigint) AS customers
                                      FROM run_command_on_shards('ct_bd.customers', 'SELECT count(*) FROM %s') AS r
                                      JOIN pg_dist_shard_placement AS p USING (shardid) GROUP BY p.nodeport) AS x")
    differ=$(q "$coord" -c "SELECT (SELECT count(*) FROM customer_tier.verify_program('bd')) + (SELECT count(*) FROM
                                (SELECT customer, tier, segment, r_score, f_score, m_score, abc_class FROM ct_bd.customers
                                 EXCEPT SELECT customer, tier, segment, r_score, f_score, m_score, abc_class FROM ct_bl.customers) AS d)")
    echo "citus: bench: $n customers, $((n * 10)) orders (as of 2025-01-01, run as of 2025-03-01): $changes"
    echo "citus: bench: create_program  cluster ${t_create[bd]} ms, one node ${t_create[bl]} ms"
    echo "citus: bench: reclassify      cluster ${t_run[bd]} ms, one node ${t_run[bl]} ms"
    echo "citus: bench: rebuild_program cluster ${t_rebuild[bd]} ms, one node ${t_rebuild[bl]} ms"
    echo "citus: bench: refresh_population cluster ${t_population[bd]} ms, one node ${t_population[bl]} ms"
    echo "citus: bench: fit_program_model  cluster ${t_fit[bd]} ms, one node ${t_fit[bl]} ms"
    echo "citus: bench: customers per worker (port: rows): $spread"
    # the model fit's sample of the customers (fit_program_model: 20,000 of them, TABLESAMPLE SYSTEM)
    sampled=$(q "$coord" -c "SELECT (SELECT count(*) FROM ct_bd.customers TABLESAMPLE SYSTEM ($((2000000 / n))) REPEATABLE (0)) || ' on the cluster, ' ||
                                   (SELECT count(*) FROM ct_bl.customers TABLESAMPLE SYSTEM ($((2000000 / n))) REPEATABLE (0)) || ' on one node'")
    echo "citus: bench: customers in the model fit's sample: $sampled"
    if [ "$differ" = 0 ]; then ok "bench: the cluster's customers equal one node's (tier, segment, scores, ABC class), verify_program 0"
    else bad "bench: $differ differences between the cluster's customers and one node's"; fi
fi

echo "citus: $(( $(date +%s) - t0 )) s"
exit $fail

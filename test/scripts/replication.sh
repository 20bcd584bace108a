#!/usr/bin/env bash
# A program on a table that a logical-replication subscription fills stays
# exact for everything the apply worker writes.
#
# Publisher and subscriber are two databases of the test server (wal_level =
# logical, scripts/lib.sh).  The slot is made first on the publisher, and the
# subscription told to use it: CREATE SUBSCRIPTION creating its own slot in
# the same cluster would wait for its own transaction.
#
# An apply worker runs with session_replication_role = replica, so only row
# triggers enabled REPLICA or ALWAYS fire there, and no statement trigger:
# the program sees its writes through customer_tier_<name>_replica alone.
# Checked, each time the subscriber has caught up (verify_program empty, one
# program customer per customer of the table):
#   * the initial table sync (COPY, copy_data = true) is counted exactly once
#     -- the program is created on the empty table, and the COPY fires the
#     replica row trigger but not the statement triggers;
#   * inserts in several transactions, an update of an amount, an update that
#     moves an order to another customer, a delete, a multi-row insert;
#   * a TRUNCATE (inside a transaction that inserted before and after it)
#     and the inserts that follow it;
#   * tier_history records the upgrades made in the apply worker (by its
#     commit step; the tier_changed and tier_first triggers, for other
#     writes, are ENABLE ALWAYS too).
# And a control: with the replica trigger disabled the program misses a
# replicated insert (verify_program finds it), so the checks above can fail.
set -euo pipefail
# DROP SUBSCRIPTION's notice that it dropped the slot
export PGOPTIONS='-c client_min_messages=warning'

prog=repl
pub=ct_repl_pub
sub=ct_repl_sub
slot=ct_repl_slot
subname=ct_repl_sub
trg=customer_tier_${prog}_replica
fail=0

ok() { echo "replication: ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
q() { local db=$1; shift; psql -X -At -v ON_ERROR_STOP=1 -d "$db" -c "$*"; }
run() { local db=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@" >/dev/null; }

# Drop the subscription (and with it the slot), whatever happened; then the
# slot if it is still there, and the databases: nothing is left behind.
cleanup() {
    if [ -n "$(q postgres "SELECT 1 FROM pg_subscription WHERE subname = '$subname'" 2>/dev/null)" ]; then
        q "$sub" "DROP SUBSCRIPTION $subname" >/dev/null 2>&1 || {
            q "$sub" "ALTER SUBSCRIPTION $subname DISABLE" >/dev/null 2>&1 || true
            q "$sub" "ALTER SUBSCRIPTION $subname SET (slot_name = NONE)" >/dev/null 2>&1 || true
            q "$sub" "DROP SUBSCRIPTION $subname" >/dev/null 2>&1 || true
        }
    fi
    local i
    for i in $(seq 1 50); do
        [ -z "$(q postgres "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$slot'" 2>/dev/null)" ] && break
        q postgres "SELECT pg_drop_replication_slot('$slot') FROM pg_replication_slots
                     WHERE slot_name = '$slot' AND NOT active" >/dev/null 2>&1 || true
        sleep 0.1
    done
    dropdb --if-exists "$sub" 2>/dev/null || true
    dropdb --if-exists "$pub" 2>/dev/null || true
}
trap cleanup EXIT

wal_level=$(q postgres "SHOW wal_level")
if [ "$wal_level" != logical ]; then
    echo "FAIL: the server runs with wal_level = $wal_level; logical replication needs wal_level = logical (scripts/lib.sh)"
    exit 1
fi

# The server log from here on: an error in the apply worker is retried, and
# could be hidden by a later success.
log=${CT_RUN:-}/server.log
log_from=0
if [ -r "$log" ]; then log_from=$(stat -c %s "$log"); fi

createdb "$pub"
createdb "$sub"

# 1. The publisher: 30 orders of 10 customers (customer 1 has 3 orders of 10:
#    tier normal), and a publication of the table (TRUNCATE included).
run "$pub" <<'SQL'
CREATE TABLE orders (customer bigint, amount numeric, ordered_at timestamptz, id bigint PRIMARY KEY);
INSERT INTO orders SELECT c, 10 * c, now() - (200 - 10 * c - k) * interval '1 day', 10 * c + k
  FROM generate_series(1, 10) AS c, generate_series(1, 3) AS k;
CREATE PUBLICATION ct_repl_pub FOR TABLE orders;
SQL

# 2. The subscriber: the same table, empty, with a program created on it by a
#    superuser (so the replica trigger is there), then the subscription.
run "$sub" <<SQL
CREATE EXTENSION customer_tier;
CREATE TABLE orders (customer bigint, amount numeric, ordered_at timestamptz, id bigint PRIMARY KEY);
SELECT customer_tier.create_program('$prog', 'orders', 'customer', 'amount', 'ordered_at');
-- fixed thresholds: diamond 1000 and 10 orders, gold 250 and 3 orders
SELECT customer_tier.set_method('$prog', 'rules');
SQL

triggers=$(q "$sub" "SELECT string_agg(tgname || '=' || tgenabled::text, ' ' ORDER BY tgname)
                       FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal")
want="customer_tier_${prog}_delete=O customer_tier_${prog}_insert=O customer_tier_${prog}_replica=R customer_tier_${prog}_truncate=A customer_tier_${prog}_update=O"
if [ "$triggers" = "$want" ]; then
    ok "program triggers on the subscriber's table: $triggers"
else
    bad "program triggers on the subscriber's table: '$triggers', expected '$want'"
fi
always=$(q "$sub" "SELECT string_agg(tgname || ' ' || tgenabled::text, ', ' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'ct_$prog.customers'::regclass AND tgname IN ('tier_changed', 'tier_first')")
if [ "$always" = "tier_changed A, tier_first A" ]; then ok "tier_changed and tier_first on ct_$prog.customers are ENABLE ALWAYS"; else bad "tier triggers: '$always', expected 'tier_changed A, tier_first A'"; fi

q "$pub" "SELECT pg_create_logical_replication_slot('$slot', 'pgoutput')" >/dev/null
run "$sub" -c "CREATE SUBSCRIPTION $subname
                 CONNECTION 'host=$PGHOST port=$PGPORT dbname=$pub user=${PGUSER:-postgres}'
                 PUBLICATION ct_repl_pub
                 WITH (create_slot = false, slot_name = '$slot', copy_data = true)"

# The table's contents, in a form that two databases compare.
fingerprint() {
    q "$1" "SELECT count(*) || ' rows, sum ' || coalesce(sum(amount), 0) || ', '
                   || md5(coalesce(string_agg(concat_ws(':', id, customer, amount, ordered_at), ',' ORDER BY id), ''))
              FROM orders"
}

# Wait until the subscriber's table is the publisher's (the program's deltas
# are applied in the same transaction as the rows, at its commit).
caught_up() {
    local what=$1 want got deadline=$((SECONDS + 30))
    want=$(fingerprint "$pub")
    while :; do
        got=$(fingerprint "$sub")
        [ "$got" = "$want" ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            bad "$what: the subscriber did not catch up within 30 s (publisher: $want; subscriber: $got)"
            echo "--- subscription state:"
            q "$sub" "SELECT srrelid::regclass || ' ' || srsubstate FROM pg_subscription_rel"
            q postgres "SELECT pid || ' ' || coalesce(relid::regclass::text, 'apply') FROM pg_stat_subscription" || true
            exit 1
        fi
        sleep 0.1
    done
}

# The program is exact: verify_program has no rows, and it has one customer
# per customer of the table (no row of this test is unusable).
check_exact() {
    local what=$1 drift customers distinct
    drift=$(q "$sub" "SELECT count(*) FROM customer_tier.verify_program('$prog')")
    customers=$(q "$sub" "SELECT count(*) FROM ct_$prog.customers")
    distinct=$(q "$sub" "SELECT count(DISTINCT customer) FROM orders")
    if [ "$drift" = 0 ]; then
        ok "$what: verify_program has no rows"
    else
        bad "$what: verify_program has $drift row(s)"
        q "$sub" "SELECT customer || ' ' || problem || ' maintained=' || coalesce(maintained::text, '-')
                         || ' recomputed=' || coalesce(recomputed::text, '-')
                    FROM customer_tier.verify_program('$prog')" | head -20
    fi
    if [ "$customers" = "$distinct" ]; then
        ok "$what: $customers customers, as many as distinct customers in the table"
    else
        bad "$what: $customers customers in ct_$prog.customers, $distinct distinct customers in the table"
    fi
}

# 2b. The initial sync: 30 rows by COPY in the tablesync worker.
caught_up "initial sync"
check_exact "initial sync (copy_data, 30 rows)"
history=$(q "$sub" "SELECT count(*) FROM ct_$prog.tier_history")
if [ "$history" = 10 ]; then
    ok "initial sync: 10 first tiers in tier_history"
else
    bad "initial sync: $history rows in tier_history, expected 10 (one first tier per customer)"
fi

# 3. The publisher's writes, each group followed by a check on the subscriber.
# 50 single-row inserts in 5 transactions; customer 1 gets 2 orders of 150 in
# each (normal -> gold in the first, 330 in 5 orders; gold -> diamond in the
# fourth, 1230 in 11), customer 2 one of 100 in each of the first three
# (normal -> gold in the second, 260 in 5), the others, of 1 each, are spread over customers 5..12
# (none of them changes tier).
for t in 0 1 2 3 4; do
    {
        echo "BEGIN;"
        for k in 0 1 2 3 4 5 6 7 8 9; do
            n=$((1000 + 10 * t + k))
            case $k in
                0|1) c=1; a=150 ;;
                2) if [ "$t" -lt 3 ]; then c=2; a=100; else c=$((3 + n % 10)); a=1; fi ;;
                *) c=$((3 + n % 10)); a=1 ;;
            esac
            echo "INSERT INTO orders VALUES ($c, $a, now() - interval '$((60 - 10 * t - k)) days', $n);"
        done
        echo "COMMIT;"
    } | run "$pub"
done
caught_up "50 inserts"
check_exact "50 inserts in 5 transactions"
upgrades=$(q "$sub" "SELECT string_agg(customer || ':' || from_tier || '>' || to_tier || ' (' || source || ')', ', ' ORDER BY id)
                       FROM ct_$prog.tier_history WHERE from_tier IS NOT NULL")
want="1:normal>gold (trigger INSERT), 2:normal>gold (trigger INSERT), 1:gold>diamond (trigger INSERT)"
if [ "$upgrades" = "$want" ]; then
    ok "tier_history records the upgrades made in the apply worker: $upgrades"
else
    bad "tier_history after the inserts: '${upgrades}', expected '$want'"
fi

run "$pub" <<'SQL'
UPDATE orders SET amount = amount + 500 WHERE id = 41;          -- an amount changes (customer 4)
UPDATE orders SET customer = 77 WHERE id = 52;                  -- an order moves to a new customer
BEGIN;
UPDATE orders SET customer = 3 WHERE id = 63;                   -- and one to an existing customer
DELETE FROM orders WHERE id = 101;                              -- a delete (customer 10)
DELETE FROM orders WHERE customer = 9;                          -- a customer loses all its orders
COMMIT;
INSERT INTO orders VALUES (20, 40, now() - interval '3 days', 2001),   -- a multi-row insert,
                          (20, 60, now() - interval '2 days', 2002),   -- one of them a refund
                          (21, 75, now() - interval '1 day', 2003),
                          (3, -15, now(), 2004);
SQL
caught_up "updates, deletes, multi-row insert"
check_exact "updates (amount, customer), deletes, multi-row insert"
gone=$(q "$sub" "SELECT count(*) FROM ct_$prog.customers WHERE customer = 9")
if [ "$gone" = 0 ]; then ok "customer 9, without orders, is no longer a customer"; else bad "customer 9 has no orders but is still in ct_$prog.customers"; fi

run "$pub" <<'SQL'
BEGIN;
INSERT INTO orders VALUES (5, 999, now(), 3001);
TRUNCATE orders;
INSERT INTO orders VALUES (30, 100, now() - interval '5 days', 3002), (31, 200, now() - interval '4 days', 3003);
COMMIT;
INSERT INTO orders SELECT 30 + i % 4, 10 * i, now() - i * interval '1 day', 3100 + i FROM generate_series(1, 12) AS i;
SQL
caught_up "TRUNCATE and new inserts"
check_exact "TRUNCATE (between inserts) and new inserts"
left=$(q "$sub" "SELECT count(*) FROM ct_$prog.customers WHERE customer < 30")
if [ "$left" = 0 ]; then ok "TRUNCATE emptied the program"; else bad "$left customers from before the TRUNCATE are left"; fi

# 4. The control: with the replica trigger disabled the program misses what
#    the apply worker writes, and verify_program says so.
run "$sub" -c "ALTER TABLE orders DISABLE TRIGGER $trg"
q "$pub" "INSERT INTO orders VALUES (30, 5000, now(), 4001), (90, 10, now(), 4002)" >/dev/null
caught_up "control insert"
drift=$(q "$sub" "SELECT string_agg(customer || ' ' || problem, ', ' ORDER BY customer) FROM customer_tier.verify_program('$prog')")
if [ "$drift" = "30 different, 90 missing" ]; then
    ok "control: with $trg disabled, verify_program finds the missed insert ($drift)"
else
    bad "control: with $trg disabled, verify_program says '${drift}', expected '30 different, 90 missing'"
fi
run "$sub" -c "ALTER TABLE orders ENABLE REPLICA TRIGGER $trg"
state=$(q "$sub" "SELECT tgenabled::text FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND tgname = '$trg'")
[ "$state" = R ] || bad "$trg re-enabled as '$state', expected R"
q "$sub" "SELECT customer_tier.rebuild_program('$prog')" >/dev/null
check_exact "rebuild_program after the control"
q "$pub" "INSERT INTO orders VALUES (90, 20, now(), 4003), (91, 30, now(), 4004)" >/dev/null
caught_up "insert after re-enabling"
check_exact "replica trigger enabled again: a further insert"

if [ -r "$log" ]; then
    errors=$(tail -c +$((log_from + 1)) "$log" | grep -E '(ERROR|FATAL|PANIC):' || true)
    if [ -z "$errors" ]; then
        ok "no error in the server log (apply and table sync workers)"
    else
        bad "the server log has errors:"
        printf '%s\n' "$errors" | head -20
    fi
fi

# 5. Nothing left behind: the subscription drops its slot on the publisher.
run "$sub" -c "DROP SUBSCRIPTION $subname"
leftover=$(q postgres "SELECT (SELECT count(*) FROM pg_subscription WHERE subname = '$subname')
                              + (SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot')")
if [ "$leftover" = 0 ]; then ok "subscription and slot dropped"; else bad "subscription or slot left after DROP SUBSCRIPTION"; fi

[ "$fail" = 0 ] && echo "replication: all checks passed"
exit $fail

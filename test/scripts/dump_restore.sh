#!/usr/bin/env bash
# pg_dump of a database with a program, then pg_restore into a fresh database,
# gives back the same configuration and the same segments, the restored
# triggers keep working, and every job and writing function works on its
# first call after the restore (reclassify, rebuild, pins, feedback, contacts,
# erasure, purge): the identity sequences of the extension's own logs (runs,
# drift repairs, erasures) come back with their tables, so that no new row
# takes an id that a restored one has.
set -euo pipefail
fail=0
createdb ct_dump_src
psql -X -q -v ON_ERROR_STOP=1 -d ct_dump_src >/dev/null <<'SQL'
CREATE EXTENSION customer_tier;
CREATE SCHEMA crm;
CREATE TABLE crm.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id text,
                         amount numeric(12,2), ordered_at timestamptz, status text);
INSERT INTO crm.orders (customer_id, amount, ordered_at, status)
SELECT 'k' || (c % 60), (c % 17) * 5 + 1, now() - c * interval '13 hours',
       CASE WHEN c % 11 = 0 THEN 'cancelled' ELSE 'paid' END
  FROM generate_series(1, 900) AS c;
INSERT INTO crm.orders (customer_id, amount, ordered_at, status) VALUES (NULL, 5, now(), 'paid');
SELECT customer_tier.create_program('members', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid}', order_id_column => 'id');
SELECT customer_tier.set_method('members', 'rules');
SELECT customer_tier.configure_program('members', score_weights => '{2,1,1}', downgrade_grace => '14 days');
SELECT customer_tier.pin_customer('members', 'k7', 'diamond', 'board member');
CALL customer_tier.reclassify('members');
CALL customer_tier.reclassify('members');
CREATE TABLE crm.survey (customer_id text, score integer, kind text, answered_at timestamptz);
INSERT INTO crm.survey VALUES ('k1', 9, 'nps', now() - interval '2 days'), ('k2', 4, 'csat', now());
SELECT customer_tier.attach_feedback('members', 'crm.survey', 'customer_id', 'score', 'kind', 'answered_at');
SELECT customer_tier.log_contact('members', 'k3', 'phone', 'reached');
DELETE FROM crm.orders WHERE customer_id = 'k59';
SELECT customer_tier.forget('members', 'k59');
-- a drift repair logged before the dump, as the trigger path logs one
INSERT INTO customer_tier.drift_repair (program, customers, repaired) VALUES ('members', 1, true);
SELECT customer_tier.set_retention('members', '{"rejects": "30 days"}');
SQL
dump=$(mktemp)
pg_dump -Fc -d ct_dump_src -f "$dump"
createdb ct_dump_dst
pg_restore -d ct_dump_dst "$dump" 2>&1 | grep -v '^$' || true

snapshot() {
    psql -X -At -d "$1" <<'SQL'
SELECT 'program ' || row(name, orders_table, customer_type, method, score_weights, downgrade_grace,
                         counted_statuses, r_breakpoints, f_breakpoints, m_breakpoints)::text FROM customer_tier.program;
SELECT 'tier ' || row(program, tier, rank, min_value_score, min_monetary, min_orders, min_tenure_days, abc_class)::text
  FROM customer_tier.tier ORDER BY program, rank;
SELECT 'pin ' || row(program, customer, tier, reason)::text FROM customer_tier.pin;
SELECT 'runs ' || count(*) || ' ' || string_agg(outcome, ',') FROM customer_tier.run;
SELECT 'customer ' || row(customer, orders, monetary, r_score, f_score, m_score, segment, abc_class, tier, tier_reason)::text
  FROM ct_members.customers ORDER BY customer;
SELECT 'history ' || count(*) FROM ct_members.tier_history;
SELECT 'rejects ' || count(*) FROM ct_members.rejects;
SELECT 'triggers ' || count(*) FROM pg_trigger WHERE tgrelid = 'crm.orders'::regclass;
SELECT 'drift ' || count(*) FROM customer_tier.verify_program('members');
SQL
}
if diff <(snapshot ct_dump_src) <(snapshot ct_dump_dst) >/dev/null; then
    echo "restored database matches: $(snapshot ct_dump_dst | grep -c '^customer ') customers, $(snapshot ct_dump_dst | grep '^triggers\|^drift' | tr '\n' ' ')"
else
    echo "restored database differs:"; diff <(snapshot ct_dump_src) <(snapshot ct_dump_dst) | head -20; fail=1
fi
# The restored triggers maintain the restored program.
psql -X -q -d ct_dump_dst -c "INSERT INTO crm.orders (customer_id, amount, ordered_at, status) VALUES ('k1', 99, now(), 'paid'), ('new', 5, now(), 'paid')"
drift=$(psql -X -At -d ct_dump_dst -c "SELECT count(*) FROM customer_tier.verify_program('members')")
new=$(psql -X -At -d ct_dump_dst -c "SELECT count(*) FROM ct_members.customers WHERE customer = 'new'")
if [ "$drift" = 0 ] && [ "$new" = 1 ]; then echo "restored triggers work: ok"; else echo "after restore: drift $drift, new customer rows $new"; fail=1; fi

# Every job and writing function, once, on the restored database.
first_call() {
    local what=$1 sql=$2 out
    if out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d ct_dump_dst -c "$sql" 2>&1); then
        echo "after restore, $what: ok"
    else
        echo "after restore, $what failed: $out"; fail=1
    fi
}
first_call "reclassify" "CALL customer_tier.reclassify('members')"
first_call "the run it logged" "DO \$\$ BEGIN IF (SELECT outcome FROM customer_tier.run ORDER BY id DESC LIMIT 1) <> 'succeeded' THEN RAISE 'last run did not succeed'; END IF; END \$\$"
first_call "rebuild_program" "SELECT customer_tier.rebuild_program('members')"
first_call "pin_customer" "SELECT customer_tier.pin_customer('members', 'k4', 'gold', 'after restore')"
first_call "feedback" "INSERT INTO crm.survey VALUES ('k5', 10, 'nps', now())"
first_call "log_contact" "SELECT customer_tier.log_contact('members', 'k6', 'email', 'sent')"
first_call "deleting a customer's orders" "DELETE FROM crm.orders WHERE customer_id = 'k58'"
first_call "forget" "SELECT customer_tier.forget('members', 'k58')"
first_call "purge" "SELECT customer_tier.purge('members')"
first_call "a drift repair logged" "INSERT INTO customer_tier.drift_repair (program, customers, repaired) VALUES ('members', 1, true)"
first_call "verify_program" "DO \$\$ BEGIN IF EXISTS (SELECT FROM customer_tier.verify_program('members')) THEN RAISE 'drift'; END IF; END \$\$"
rm -f "$dump"
dropdb ct_dump_src
dropdb ct_dump_dst
exit $fail

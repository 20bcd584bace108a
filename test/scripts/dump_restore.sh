#!/usr/bin/env bash
# pg_dump of a database with a program, then pg_restore into a fresh database,
# gives back the same configuration and the same segments, and the restored
# triggers keep working.
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
rm -f "$dump"
dropdb ct_dump_src
dropdb ct_dump_dst
exit $fail

#!/usr/bin/env bash
# Concurrent writers on an attached orders table: 8 pgbench clients insert
# (one and several rows, some unusable), move orders between customers,
# change amounts, times and statuses, and delete, on 40 overlapping
# customers.  Afterwards the program's maintained customers must equal a
# recomputation from scratch, with no deadlock and no failed transaction.
set -euo pipefail
here=$(cd "$(dirname "$0")/../concurrency" && pwd)
seconds=${CONCURRENCY_SECONDS:-20}
source "$(dirname "$0")/lib/pgbench.sh"     # pgbench_verdict

createdb ct_concurrency
psql -X -q -v ON_ERROR_STOP=1 -d ct_concurrency >/dev/null <<'SQL'
CREATE EXTENSION customer_tier;
CREATE SCHEMA crm;
CREATE TABLE crm.orders (
    order_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint,
    amount      numeric(12,2),
    ordered_at  timestamptz,
    status      text NOT NULL DEFAULT 'paid'
);
CREATE INDEX ON crm.orders (customer_id);
INSERT INTO crm.orders (customer_id, amount, ordered_at)
SELECT 1 + i % 40, round((random() * 100)::numeric, 2), now() - random() * interval '400 days'
  FROM generate_series(1, 400) AS i;
SELECT customer_tier.create_program('shop', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid}',
                                    order_id_column => 'order_id');
SQL

out=$(mktemp)
pgbench -n -c 8 -j 2 -T "$seconds" -d ct_concurrency \
    -f "$here/insert_one.sql@4" -f "$here/insert_many.sql@2" -f "$here/move_order.sql@2" \
    -f "$here/change_order.sql@2" -f "$here/delete_order.sql@2" >"$out" 2>&1 || true
fail=0
pgbench_verdict "$out"
diffs=$(psql -X -At -d ct_concurrency -c "SELECT count(*) FROM customer_tier.verify_program('shop')")
summary=$(psql -X -At -d ct_concurrency -c "SELECT count(*) || ' customers, ' || sum(orders) || ' orders, ' ||
    (SELECT count(*) FROM ct_shop.rejects) || ' rejects' FROM ct_shop.customers")
echo "after $processed transactions: $summary; $diffs differences from a recomputation"
if [ "$diffs" != 0 ]; then
    psql -X -d ct_concurrency -c "SELECT * FROM customer_tier.verify_program('shop') LIMIT 10"; fail=1
fi
rm -f "$out"
dropdb ct_concurrency
exit $fail

#!/usr/bin/env bash
# A change of tier is announced on channel customer_tier with a JSON payload:
# a listening session sees the upgrade that another session's order caused.
# Any login may LISTEN on any channel, so the payload names the program and
# the change's tier_history id, and no customer key: the change itself is
# read from tier_history by a role allowed to.
set -euo pipefail

createdb ct_notify
psql -X -q -v ON_ERROR_STOP=1 -d ct_notify >/dev/null <<'SQL'
CREATE EXTENSION customer_tier;
CREATE TABLE orders (customer_id bigint, amount numeric(12,2), ordered_at timestamptz);
INSERT INTO orders SELECT c, 10 * c, now() - (100 - c) * interval '1 day'
  FROM generate_series(1, 10) AS c, generate_series(1, 3);
SELECT customer_tier.create_program('shop', 'orders', 'customer_id', 'amount', 'ordered_at');
SQL

# while_listening <command...>: runs the command while another session
# listens on channel customer_tier, and leaves what that session received in
# $out.  The listener waits a little, so that the command commits while it listens.
out=$(mktemp)
while_listening() {
    psql -X -d ct_notify >"$out" 2>&1 <<'SQL' &
LISTEN customer_tier;
SELECT pg_sleep(3);
SELECT 1 AS done;
SQL
    local listener=$!
    sleep 1
    "$@"
    wait "$listener"
}

while_listening psql -X -q -d ct_notify -c "INSERT INTO orders SELECT 1, 5000, now() FROM generate_series(1, 20)"

fail=0
payload=$(sed -n 's/^Asynchronous notification "customer_tier" with payload "\(.*\)" received from server process.*/\1/p' "$out" | head -1)
echo "payload: ${payload:-none}"
case "$payload" in
    '{"program" : "shop", "tier_history_id" : '[0-9]*'}') ;;
    *) echo "payload is not {program, tier_history_id} alone"; fail=1 ;;
esac
case "$payload" in
    *customer*|*diamond*|*normal*) echo "payload carries customer data"; fail=1 ;;
esac
change=$(printf '%s' "$payload" | sed -n 's/.*"tier_history_id" : \([0-9]*\).*/\1/p')
history=$(psql -X -At -d ct_notify -c "SELECT customer || ' ' || from_tier || '>' || to_tier || ' ' || reason || ' ' || source
                                         FROM ct_shop.tier_history WHERE id = ${change:-0}")
[ "$history" = "1 normal>diamond upgrade trigger INSERT" ] || { echo "tier_history row $change says '$history'"; fail=1; }

# Quiet backfill: create_program on a table with customers records every
# first tier but sends one notification for all of them, not one each.
psql -X -q -v ON_ERROR_STOP=1 -d ct_notify -c "CREATE TABLE orders2 AS SELECT * FROM orders"
create_club() {
    psql -X -q -d ct_notify -c "SELECT customer_tier.create_program('club', 'orders2', 'customer_id', 'amount', 'ordered_at')" >/dev/null 2>&1
}
while_listening create_club
received=$(grep -c '^Asynchronous notification "customer_tier"' "$out" || true)
backfill=$(sed -n 's/^Asynchronous notification "customer_tier" with payload "\(.*\)" received from server process.*/\1/p' "$out" | head -1)
first=$(psql -X -At -d ct_notify -c "SELECT count(*) || ' ' || min(id) || ' ' || max(id) FROM ct_club.tier_history WHERE from_tier IS NULL AND source = 'create_program'")
read -r n lo hi <<<"$first"
want="{\"program\" : \"club\", \"backfill\" : {\"customers\" : $n, \"first_tier_history_id\" : $lo, \"last_tier_history_id\" : $hi}}"
if [ "$received" = 1 ] && [ "$backfill" = "$want" ] && [ "$n" = 10 ]; then
    echo "create_program: one notification for $n first tiers: $backfill"
else
    echo "create_program: $received notifications (first: '$backfill'), expected one: '$want' ($n first tiers recorded)"; fail=1
fi
rm -f "$out"
dropdb ct_notify
exit $fail

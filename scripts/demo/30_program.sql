-- Demo part 30: a program over the sample shop — tiers, live maintenance, history, migration.
\echo
\echo '== A program over shop.orders: backfilled, scored and tiered (paid orders count)'
SELECT customer_tier.create_program('shop', 'shop.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid}',
                                    order_id_column => 'id') AS customers;

\echo
\echo '== Tier summary (view ct_shop.tier_summary, shares as %)'
SELECT rank, tier, customers, revenue, round(100 * revenue_share, 1) AS revenue_share_pct,
       round(100 * customer_share, 1) AS customer_share_pct, round(avg_value_score::numeric, 1) AS avg_value_score
  FROM ct_shop.tier_summary;

\echo
\echo '== A burst of new orders from 25 gold and normal customers, in one statement'
INSERT INTO shop.orders (customer_id, ordered_at, amount)
SELECT c.customer, now() - k * interval '3 days', 250
  FROM (SELECT customer FROM ct_shop.customers
         WHERE tier <> 'diamond' AND customer % 29 = 0 ORDER BY customer LIMIT 25) AS c,
       generate_series(1, 6) AS k;

\echo
\echo '== The tier changes they caused (also announced with NOTIFY on channel customer_tier)'
SELECT h.customer, h.from_tier, h.to_tier, h.reason, h.source, c.orders, c.monetary
  FROM ct_shop.tier_history AS h
  JOIN ct_shop.customers AS c USING (customer)
 WHERE h.source = 'trigger INSERT'
 ORDER BY h.customer;

\echo
\echo '== Tier migration from the program''s start to now (function ct_shop.migration)'
SELECT from_tier, to_tier, movement, customers, revenue
  FROM ct_shop.migration((SELECT created_at FROM customer_tier.program WHERE name = 'shop'), now())
 ORDER BY from_rank NULLS FIRST, to_rank;

-- Demo part 45: a second run after a month of business, and the tier
-- migration matrix between the two runs (ct_shop.migration_between_runs).
\echo
\echo '== A month later: 40 customers buy big, 30 top customers have their orders of the last 90 days refunded'
INSERT INTO shop.orders (customer_id, ordered_at, amount)
SELECT c.customer, now() - k * interval '6 days', 400
  FROM (SELECT customer FROM ct_shop.customers
         WHERE tier = 'normal' AND customer % 13 = 0 ORDER BY customer LIMIT 40) AS c,
       generate_series(1, 4) AS k;
UPDATE shop.orders AS o SET status = 'refunded'
 WHERE o.customer_id IN (SELECT customer FROM ct_shop.customers
                          WHERE tier = 'diamond' ORDER BY monetary DESC, customer LIMIT 30)
   AND o.ordered_at > now() - interval '90 days';

\echo
\echo '== The next nightly run re-ranks everyone against the new population (run log)'
CALL customer_tier.reclassify('shop');
SELECT id, outcome, customers, tier_changes, changes_by_tier
  FROM customer_tier.run WHERE program = 'shop' ORDER BY id;

\echo
\echo '== Tier migration between the two runs: customers and today''s revenue from each tier to each tier'
SELECT from_tier, to_tier, movement, customers, revenue
  FROM ct_shop.migration_between_runs(
           (SELECT min(id) FROM customer_tier.run WHERE program = 'shop' AND outcome = 'succeeded'),
           (SELECT max(id) FROM customer_tier.run WHERE program = 'shop' AND outcome = 'succeeded'));

\echo
\echo '== The same as a dashboard view over the two latest runs (ct_shop.last_run_migration), as a matrix'
SELECT coalesce(from_tier, '(new)') AS "from \ to",
       sum(customers) FILTER (WHERE to_tier = 'diamond') AS diamond,
       sum(customers) FILTER (WHERE to_tier = 'gold') AS gold,
       sum(customers) FILTER (WHERE to_tier = 'normal') AS normal
  FROM ct_shop.last_run_migration
 GROUP BY from_tier, from_rank
 ORDER BY from_rank NULLS FIRST;

\echo
\echo '== No downgrade in the matrix: customers who now qualify only for a lower tier (the refunded diamonds among them) keep theirs through the downgrade grace'
SELECT s.tier, s.tier_reason, count(*) AS customers, p.downgrade_grace
  FROM ct_shop.segments AS s, customer_tier.program AS p
 WHERE p.name = 'shop' AND s.pending_since IS NOT NULL
 GROUP BY s.tier, s.tier_reason, p.downgrade_grace;

-- A program scores every customer against the population breakpoints of its
-- last run and gives each a tier; upgrades take effect at once, downgrades
-- after the grace period, pins win; every change is recorded.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
CREATE SCHEMA crm;
CREATE TABLE crm.orders (
    customer_id text,
    amount      numeric(12,2),
    ordered_at  timestamptz
);
-- Ten customers: c01 bought long ago and little, c10 often, lately and much.
INSERT INTO crm.orders
SELECT format('c%s', lpad(c::text, 2, '0')), 10 * c, now() - ((11 - c) * 30 + k * 3) * interval '1 day'
  FROM generate_series(1, 10) AS c, generate_series(1, c) AS k;
SELECT customer_tier.create_program('club', 'crm.orders', 'customer_id', 'amount', 'ordered_at') AS customers;

-- The first breakpoints come from the backfilled population.
SELECT r_breakpoints IS NOT NULL AS r, f_breakpoints, m_breakpoints FROM customer_tier.program;
SELECT customer, orders, monetary, r_score, f_score, m_score, round(value_score::numeric, 1) AS value_score,
       segment, tier, tier_reason, changed_by
  FROM ct_club.customers ORDER BY customer;
SELECT to_tier, reason, source, count(*) FROM ct_club.tier_history GROUP BY 1, 2, 3 ORDER BY 1;

-- New orders raise c02 at once; the breakpoints stay those of the last run.
INSERT INTO crm.orders
SELECT 'c02', 500, now() - k * interval '1 day' FROM generate_series(1, 12) AS k;
SELECT customer, orders, r_score, f_score, m_score, tier, tier_reason, changed_by
  FROM ct_club.customers WHERE customer = 'c02';
SELECT customer, from_tier, to_tier, reason, source FROM ct_club.tier_history
 WHERE customer = 'c02' ORDER BY id;

-- A new customer gets its first tier from the statement that brings its first order.
INSERT INTO crm.orders VALUES ('c11', 5, now());
SELECT customer, from_tier, to_tier, reason, source FROM ct_club.tier_history
 WHERE customer = 'c11' ORDER BY id;

-- c10 loses most of its orders: it qualifies lower but keeps its tier for the grace period.
DELETE FROM crm.orders WHERE customer_id = 'c10' AND ordered_at < now() - interval '40 days';
SELECT customer, orders, tier, tier_reason, pending_since IS NOT NULL AS pending
  FROM ct_club.customers WHERE customer = 'c10';
-- With no grace left, its next change downgrades it.
SELECT customer_tier.configure_program('club', downgrade_grace => '0');
INSERT INTO crm.orders VALUES ('c10', 1, now());
SELECT customer, orders, tier, tier_reason, pending_since FROM ct_club.customers WHERE customer = 'c10';
SELECT customer, from_tier, to_tier, reason, source FROM ct_club.tier_history
 WHERE customer = 'c10' ORDER BY id;

-- A pin wins over the scores, at once; unpinned, the customer keeps the tier for the grace period.
SELECT customer_tier.pin_customer('club', 'c01', 'diamond', 'strategic account');
SELECT customer, tier, tier_reason, changed_by FROM ct_club.customers WHERE customer = 'c01';
SELECT customer_tier.configure_program('club', downgrade_grace => '30 days');
SELECT customer_tier.unpin_customer('club', 'c01');
SELECT customer, tier, tier_reason, pending_since IS NOT NULL AS pending, changed_by
  FROM ct_club.customers WHERE customer = 'c01';
-- A rescore of everyone changes nobody now.
SELECT customer_tier.rescore_program('club', 'manual') AS changed;
SELECT customer, from_tier, to_tier, reason, source FROM ct_club.tier_history
 WHERE customer = 'c01' ORDER BY id;

-- The state is still exact.
SELECT * FROM customer_tier.verify_program('club');
SELECT customer_tier.drop_program('club');
DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

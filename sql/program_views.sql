-- A program's BI views: segments (one row per customer, joined from the CRM's
-- customer table through the primary key with no cast), tier_summary (per
-- tier, a Pareto view), tier_changes (history with ranks) and the migration
-- matrix between two dates; drop_program refuses while a user's view uses them.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
CREATE SCHEMA crm;
CREATE TABLE crm.customers (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.orders (
    customer_id bigint,
    amount      numeric(12,2),
    ordered_at  timestamptz
);
-- Ten customers: 1 bought long ago and little, 10 often, lately and much;
-- 11 has never ordered.  Times are relative to now(), so the scores are stable.
INSERT INTO crm.customers SELECT c, format('customer %s', c) FROM generate_series(1, 11) AS c;
INSERT INTO crm.orders
SELECT c, 10 * c, now() - ((11 - c) * 30 + k * 3) * interval '1 day'
  FROM generate_series(1, 10) AS c, generate_series(1, c) AS k;
SELECT customer_tier.create_program('shop', 'crm.orders', 'customer_id', 'amount', 'ordered_at') AS customers;

-- What create_program made for BI, each with its comment.
SELECT c.relname AS view, obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class AS c WHERE c.relnamespace = 'ct_shop'::regnamespace AND c.relkind = 'v' ORDER BY 1;
SELECT p.oid::regprocedure AS function, pg_get_function_result(p.oid) AS returns,
       obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc AS p WHERE p.pronamespace = 'ct_shop'::regnamespace AND p.proname = 'migration';
-- Every column of every view, typed and commented; the key keeps the CRM's type (bigint).
SELECT c.relname AS view, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
       col_description(c.oid, a.attnum) AS comment
  FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'ct_shop'::regnamespace AND c.relkind = 'v'
 ORDER BY c.relname, a.attnum;

-- segments: one row per customer with orders (11 has none).
SELECT customer, tier, tier_rank, tier_reason, value_score, r_score, f_score, m_score, segment,
       abc_class, orders, monetary, round(extract(epoch FROM now() - first_order) / 86400) AS first_days_ago,
       round(extract(epoch FROM now() - last_order) / 86400) AS last_days_ago, mean_gap_days,
       gap_stddev_days, tier_since IS NOT NULL AS has_since, pending_since, downgrade_due_at, changed_by
  FROM ct_shop.segments ORDER BY customer;
-- BI reads it and nothing else: it cannot be written.
INSERT INTO ct_shop.segments (customer) VALUES (12);
\echo :LAST_ERROR_SQLSTATE

-- A pending downgrade: 10 loses most of its orders and qualifies lower, but
-- keeps diamond for the grace period (90 days); a pin moves 1 up at once.
DELETE FROM crm.orders WHERE customer_id = 10 AND ordered_at < now() - interval '40 days';
SELECT customer_tier.pin_customer('shop', '1', 'diamond', 'strategic account');
SELECT customer, tier, tier_rank, tier_reason, orders, pending_since IS NOT NULL AS pending,
       downgrade_due_at - pending_since AS grace
  FROM ct_shop.segments WHERE customer IN (1, 10) ORDER BY customer;

-- The due time counts a month as 30 days and a day as 24 hours, as next_tier
-- does (grace_span); across the switch to summer time (PST8PDT) that is
-- 01:00, where calendar arithmetic would say midnight.
SELECT customer_tier.grace_span('30 days') AS thirty_days, customer_tier.grace_span('1 mon') AS one_month,
       customer_tier.grace_span('1 year 1 day 12:30') AS one_year_and_more,
       customer_tier.grace_span('0') AS no_grace, customer_tier.grace_span(NULL) AS null_grace;
SELECT timestamptz '2026-03-01 00:00' + customer_tier.grace_span('1 mon') AS due,
       timestamptz '2026-03-01 00:00' + interval '1 mon' AS calendar_month,
       timestamptz '2026-03-01 00:00' + customer_tier.grace_span('1 year 1 day 12:30') AS due_later;
-- next_tier agrees: still pending a microsecond before, downgraded at the due time.
SELECT (customer_tier.next_tier(1, '2026-03-01 00:00', 2, NULL, '1 mon',
                                timestamptz '2026-03-01 00:00' + customer_tier.grace_span('1 mon') - interval '1 microsecond')).reason AS before_due,
       (customer_tier.next_tier(1, '2026-03-01 00:00', 2, NULL, '1 mon',
                                timestamptz '2026-03-01 00:00' + customer_tier.grace_span('1 mon'))).reason AS at_due;

-- tier_summary: every tier in rank order with shares as fractions (rounded
-- here for reading); the running shares make it a Pareto view.
SELECT tier, rank, customers, revenue, round(revenue_share, 4) AS revenue_share,
       round(customer_share, 4) AS customer_share, round(avg_monetary, 2) AS avg_monetary,
       round(avg_value_score::numeric, 1) AS avg_value_score,
       round(cumulative_revenue_share, 4) AS cum_revenue, round(cumulative_customer_share, 4) AS cum_customers
  FROM ct_shop.tier_summary;
-- New tiers: premium replaces gold and silver is added.  Until the next run,
-- gold's customers still hold gold: it is listed last with no rank, and the
-- shares still add up to 1; the new tiers are listed, empty.
SELECT customer_tier.set_tiers('shop', '[{"tier": "diamond", "min_value_score": 80},
                                         {"tier": "premium", "min_value_score": 50},
                                         {"tier": "silver", "min_value_score": 40},
                                         {"tier": "normal"}]');
SELECT tier, rank, customers, revenue, round(revenue_share, 4) AS revenue_share,
       round(customer_share, 4) AS customer_share, round(avg_monetary, 2) AS avg_monetary,
       round(avg_value_score::numeric, 1) AS avg_value_score,
       round(cumulative_revenue_share, 4) AS cum_revenue, round(cumulative_customer_share, 4) AS cum_customers
  FROM ct_shop.tier_summary;
SELECT customer, tier, tier_rank FROM ct_shop.segments WHERE tier = 'gold' ORDER BY customer;
SELECT customer_tier.rescore_program('shop', 'manual') AS changed;
SELECT tier, rank, customers, revenue, round(revenue_share, 4) AS revenue_share,
       round(customer_share, 4) AS customer_share, round(avg_monetary, 2) AS avg_monetary,
       round(avg_value_score::numeric, 1) AS avg_value_score,
       round(cumulative_revenue_share, 4) AS cum_revenue, round(cumulative_customer_share, 4) AS cum_customers
  FROM ct_shop.tier_summary;

-- Joining from the CRM's customer table: the bigint key reaches the primary
-- key of ct_shop.customers with an Index Scan and no cast (the tiers are not
-- read, so the view's join to them is removed).
ANALYZE crm.customers, ct_shop.customers;
SET enable_seqscan = off;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF)
SELECT c.name, s.tier, s.value_score FROM crm.customers AS c JOIN ct_shop.segments AS s ON s.customer = c.id
 WHERE c.name = 'customer 9';
SELECT c.name, s.tier, s.value_score FROM crm.customers AS c JOIN ct_shop.segments AS s ON s.customer = c.id
 WHERE c.name = 'customer 9';
-- Reading tier_rank keeps the join to the tiers, through their primary key.
EXPLAIN (COSTS OFF)
SELECT c.name, s.tier, s.tier_rank FROM crm.customers AS c JOIN ct_shop.segments AS s ON s.customer = c.id
 WHERE c.name = 'customer 9';
-- A customer without orders has no segment: a LEFT JOIN shows it with NULLs.
SELECT c.id, s.tier, s.orders FROM crm.customers AS c LEFT JOIN ct_shop.segments AS s ON s.customer = c.id
 WHERE c.id >= 10 ORDER BY c.id;

-- The same with a text key: a second program over accounts keyed by code.
CREATE TABLE crm.accounts (code text PRIMARY KEY, name text NOT NULL);
CREATE TABLE crm.invoices (account text, total numeric, issued_at timestamptz);
INSERT INTO crm.accounts VALUES ('ACME', 'Acme Corp'), ('INIT', 'Initech'), ('UMBR', 'Umbrella');
INSERT INTO crm.invoices VALUES ('ACME', 1000, now() - interval '10 days'), ('ACME', 2500, now() - interval '40 days'),
                                ('INIT', 700, now() - interval '200 days');
-- and 200 small accounts with one old invoice each
INSERT INTO crm.accounts SELECT format('A%s', lpad(i::text, 3, '0')), format('account %s', i) FROM generate_series(1, 200) AS i;
INSERT INTO crm.invoices SELECT format('A%s', lpad(i::text, 3, '0')), 10, now() - interval '300 days' FROM generate_series(1, 200) AS i;
SELECT customer_tier.create_program('b2b', 'crm.invoices', 'account', 'total', 'issued_at') AS customers;
ANALYZE crm.accounts, ct_b2b.customers;
EXPLAIN (COSTS OFF)
SELECT a.name, s.tier, s.monetary FROM crm.accounts AS a JOIN ct_b2b.segments AS s ON s.customer = a.code
 WHERE a.name = 'Acme Corp';
SELECT a.name, s.tier, s.monetary FROM crm.accounts AS a JOIN ct_b2b.segments AS s ON s.customer = a.code
 WHERE a.name = 'Acme Corp';
RESET enable_seqscan;
RESET enable_hashjoin;
RESET enable_mergejoin;
SELECT customer_tier.drop_program('b2b');

-- The migration matrix against a hand-built history (fixed times).  Tiers now:
-- diamond 1, premium 2, silver 3, normal 4; gold is no longer one of them.
DELETE FROM ct_shop.tier_history;
INSERT INTO ct_shop.tier_history (customer, from_tier, to_tier, changed_at, reason, source) VALUES
    (1, NULL, 'normal', '2026-01-01', 'new', 'hand'),         -- normal, premium (at from_date), diamond
    (1, 'normal', 'premium', '2026-02-01', 'upgrade', 'hand'),
    (1, 'premium', 'diamond', '2026-03-01', 'pinned', 'hand'),
    (2, NULL, 'normal', '2026-01-01', 'new', 'hand'),         -- normal throughout
    (3, NULL, 'premium', '2026-01-15', 'new', 'hand'),        -- premium, then normal
    (3, 'premium', 'normal', '2026-02-15', 'downgrade', 'hand'),
    (4, NULL, 'gold', '2026-01-10', 'new', 'hand'),           -- gold (a removed tier), then premium
    (4, 'gold', 'premium', '2026-02-20', 'upgrade', 'hand'),
    (5, NULL, 'silver', '2026-02-01', 'new', 'hand'),         -- new exactly at from_date
    (6, NULL, 'normal', '2026-03-15', 'new', 'hand'),         -- new after to_date
    (7, NULL, 'normal', '2026-01-20', 'new', 'hand'),         -- two changes at one time:
    (7, 'normal', 'premium', '2026-01-20', 'upgrade', 'hand'),--   the later id wins
    (99, NULL, 'normal', '2026-01-05', 'new', 'hand');        -- no longer a customer: revenue 0
SELECT id - min(id) OVER () + 1 AS n, customer, changed_at, from_tier, from_rank, to_tier, to_rank, movement, reason
  FROM ct_shop.tier_changes ORDER BY id;
SELECT customer, monetary FROM ct_shop.segments WHERE customer IN (1, 2, 3, 4, 5, 6, 7, 99) ORDER BY customer;
-- February: from the tiers held on 1 February to those held on 1 March.
SELECT * FROM ct_shop.migration('2026-02-01', '2026-03-01');
-- Everyone is new when from_date precedes the history.
SELECT * FROM ct_shop.migration('-infinity', 'infinity');
-- The same date twice: nobody moves.
SELECT * FROM ct_shop.migration('2026-02-01', '2026-02-01');
-- Before any history: no rows.
SELECT * FROM ct_shop.migration('2025-01-01', '2025-12-31');
-- Bad arguments.
CALL pg_temp.expect_errors('SELECT * FROM ct_shop.migration(%s)',
    $$NULL, '2026-03-01'$$, $$'2026-02-01', NULL$$, $$'2026-03-01', '2026-02-01'$$);

-- A program with no customers yet: every tier is listed, empty, and the
-- shares are NULL (nothing to divide by); the other views have no rows.
CREATE TABLE crm.visits (card integer, spent numeric, visited_at timestamptz);
SELECT customer_tier.create_program('kiosk', 'crm.visits', 'card', 'spent', 'visited_at') AS customers;
SELECT * FROM ct_kiosk.tier_summary;
SELECT count(*) AS segments FROM ct_kiosk.segments;
SELECT * FROM ct_kiosk.migration('-infinity', 'infinity');
-- A purchase and its refund: one customer, revenue 0, so no revenue share.
INSERT INTO crm.visits VALUES (7, 100, now() - interval '1 day'), (7, -100, now());
SELECT tier, rank, customers, revenue, revenue_share, customer_share, avg_monetary
  FROM ct_kiosk.tier_summary;
SELECT customer_tier.drop_program('kiosk');

-- A user's own view on segments makes drop_program fail, and nothing is dropped.
CREATE VIEW public.diamonds AS SELECT customer FROM ct_shop.segments WHERE tier = 'diamond';
SELECT customer_tier.drop_program('shop');
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM customer_tier.program WHERE name = 'shop') AS programs,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'crm.orders'::regclass) AS triggers,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'ct_shop'::regnamespace AND relkind = 'v') AS views,
       to_regprocedure('ct_shop.migration(timestamptz, timestamptz)') IS NOT NULL AS migration;
SELECT customer FROM public.diamonds ORDER BY customer;
-- Without it, drop_program removes the views with the rest.
DROP VIEW public.diamonds;
SELECT customer_tier.drop_program('shop');
SELECT to_regclass('ct_shop.segments') AS segments, to_regclass('ct_shop.tier_summary') AS tier_summary,
       to_regclass('ct_shop.tier_changes') AS tier_changes, to_regnamespace('ct_shop') AS schema;

DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

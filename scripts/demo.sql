-- scripts/demo.sql — the demo: a sample shop, then customer_tier's view of it.
-- Run by scripts/demo.sh in a fresh database; everything is reproducible
-- (fixed random seed, fixed "as of" instant).
\set as_of '''2026-11-01 00:00:00+00'''
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION customer_tier;

\echo
\echo '== Sample shop: 2,000 customers, their orders (3% refunded) and survey answers'
SELECT setseed(0.42);
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
    id     bigint PRIMARY KEY,
    name   text NOT NULL,
    joined date NOT NULL
);
CREATE TABLE shop.orders (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customers,
    ordered_at  timestamptz NOT NULL,
    amount      numeric(12,2) NOT NULL,
    status      text NOT NULL DEFAULT 'paid'
);
CREATE TABLE shop.feedback (
    customer_id bigint NOT NULL REFERENCES shop.customers,
    answered_at timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('nps', 'csat')),
    score       integer NOT NULL
);

INSERT INTO shop.customers
SELECT i, 'Customer ' || i, date '2024-11-01' + (random() * 700)::int
  FROM generate_series(1, 2000) AS i;

-- Each customer buys at a rate of their own, at a spend level of their own,
-- and some stop buying long before today.
INSERT INTO shop.orders (customer_id, ordered_at, amount, status)
SELECT c.id,
       c.joined + random() * c.active_days * interval '1 day',
       round((c.spend * (0.5 + random()))::numeric, 2),
       CASE WHEN random() < 0.03 THEN 'refunded' ELSE 'paid' END
  FROM (SELECT id, joined,
               least(date '2026-10-31' - joined, (sqrt(random()) * 730)::int) AS active_days,
               10 + 200 * random() ^ 3 AS spend,
               1 + (random() ^ 2 * 30)::int AS orders
          FROM shop.customers) AS c,
       generate_series(1, c.orders);

INSERT INTO shop.feedback
SELECT o.customer_id, o.ordered_at + interval '2 days', k.kind,
       CASE k.kind WHEN 'nps' THEN least(10, (3.5 + random() * 7)::int + (o.amount > 60)::int)
                   ELSE 1 + least(4, (1 + random() * 4)::int) END
  FROM shop.orders AS o,
       (VALUES ('nps'), ('csat')) AS k(kind)
 WHERE random() < 0.15;

SELECT (SELECT count(*) FROM shop.customers) AS customers,
       (SELECT count(*) FROM shop.orders) AS orders,
       (SELECT count(*) FROM shop.orders WHERE status = 'refunded') AS refunded,
       (SELECT count(*) FROM shop.feedback) AS survey_answers;

-- One pass over the orders: per-customer metrics, exact to the cent.
CREATE TEMP TABLE metrics AS
SELECT customer_id, customer_tier.order_stats(ordered_at, amount) AS s
  FROM shop.orders
 WHERE status = 'paid'
 GROUP BY customer_id;

\echo
\echo '== The metrics aggregate agrees with plain SQL to the cent'
SELECT sum((s).orders) AS orders, sum((s).monetary) AS monetary,
       (SELECT sum(amount) FROM shop.orders WHERE status = 'paid') AS "sum(amount)"
  FROM metrics;

-- Population quintiles for recency (days since the last order), frequency and monetary value.
CREATE TEMP TABLE cuts AS
SELECT customer_tier.breakpoints(customer_tier.recency_days(s, :as_of), 5) AS r,
       customer_tier.breakpoints((s).orders, 5) AS f,
       customer_tier.breakpoints((s).monetary, 5) AS m
  FROM metrics;

\echo
\echo '== Quintile breakpoints (recency in days: lower is better)'
SELECT (SELECT array_agg(round(v::numeric, 1)) FROM unnest(r) AS v) AS recency_days,
       f AS orders,
       (SELECT array_agg(round(v::numeric, 2)) FROM unnest(m) AS v) AS monetary
  FROM cuts;

CREATE TEMP TABLE scored AS
SELECT x.customer_id, x.s, x.r, x.f, x.m,
       customer_tier.rfm_segment(x.r, x.f, x.m) AS segment,
       customer_tier.value_score(x.r, x.f, x.m, '{2,1,1}') AS value_score
  FROM (SELECT customer_id, s,
               customer_tier.score(customer_tier.recency_days(s, :as_of), cuts.r, false) AS r,
               customer_tier.score((s).orders, cuts.f) AS f,
               customer_tier.score((s).monetary, cuts.m) AS m
          FROM metrics, cuts) AS x;

\echo
\echo '== Customers per RFM segment'
SELECT segment, count(*) AS customers,
       round(avg(value_score)::numeric, 1) AS avg_value_score,
       sum((s).monetary) AS revenue
  FROM scored
 GROUP BY segment
 ORDER BY avg(value_score) DESC;

\echo
\echo '== Value score distribution (weights R=2, F=1, M=1)'
SELECT lower_bound || '-' || (lower_bound + 9) AS value_score, customers,
       repeat('#', (customers / 10)::int) AS bar
  FROM (SELECT least(90, floor(value_score / 10) * 10)::int AS lower_bound, count(*) AS customers
          FROM scored GROUP BY 1) AS h
 ORDER BY lower_bound DESC;

\echo
\echo '== Pareto / ABC classes: A makes the first 80% of revenue, B the next 15%'
SELECT class, count(*) AS customers, sum(monetary) AS revenue,
       round(100 * sum(monetary) / sum(sum(monetary)) OVER (), 1) AS revenue_share_pct,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS customer_share_pct
  FROM (SELECT (s).monetary,
               customer_tier.abc_class((s).monetary) OVER (ORDER BY (s).monetary DESC) AS class
          FROM scored) AS c
 GROUP BY class
 ORDER BY class;

\echo
\echo '== Satisfaction by RFM segment: NPS (0..10 answers) and CSAT (1..5 answers)'
SELECT coalesce(sc.segment, 'all customers') AS segment,
       round(customer_tier.nps(f.score) FILTER (WHERE f.kind = 'nps')::numeric, 1) AS nps,
       round(customer_tier.csat(f.score) FILTER (WHERE f.kind = 'csat')::numeric, 1) AS csat_pct,
       count(*) AS answers
  FROM shop.feedback AS f
  JOIN scored AS sc USING (customer_id)
 GROUP BY ROLLUP (sc.segment)
 ORDER BY sc.segment NULLS LAST;

-- ---------------------------------------------------------------------------
-- Programs: the same shop, managed by customer_tier itself.
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

\echo
\echo '== The nightly job: CALL customer_tier.reclassify(''shop'') re-ranks everyone, logged in customer_tier.run'
CALL customer_tier.reclassify('shop');
SELECT id, outcome, customers, batches, tier_changes, changes_by_tier, finished_at - started_at AS took
  FROM customer_tier.run;

\echo
\echo '== The maintained state equals a recomputation from the orders (no rows = no drift)'
SELECT count(*) AS differences FROM customer_tier.verify_program('shop');

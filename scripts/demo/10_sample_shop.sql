-- Demo part 10: the sample shop (customers, orders, survey answers).
-- scripts/demo.sh runs scripts/demo/*.sql in name order in one psql session of
-- a fresh database; every part may use what earlier parts made.  Everything is
-- reproducible (fixed random seed, fixed "as of" instant).
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
-- a program recomputes a customer through it when its state drifts (docs/programs.md)
CREATE INDEX ON shop.orders (customer_id);
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


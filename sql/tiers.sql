-- Tier rules are data: ordered tiers with conditions, replaced whole and
-- checked at configuration time; one C path qualifies customers and applies
-- pins and hysteresis.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
CREATE SCHEMA crm;
CREATE TABLE crm.orders (
    order_id    bigint GENERATED ALWAYS AS IDENTITY,
    customer_id bigint,
    amount      numeric(12,2),
    ordered_at  timestamptz
);
CREATE TABLE crm.account_orders (account uuid, total numeric, booked date);
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at');
SELECT customer_tier.create_program('b2b', 'crm.account_orders', 'account', 'total', 'booked');
-- A view that shows tiers readably.
CREATE VIEW tiers AS
SELECT t.program, t.rank, t.tier, customer_tier.tier_conditions_text(t) AS conditions
  FROM customer_tier.tier AS t ORDER BY t.program, t.rank;

-- ==== Default tiers per method: diamond / gold / normal ====
SELECT customer_tier.default_tiers('retail');           -- method rfm (the default)
SELECT * FROM tiers WHERE program = 'retail';
SELECT customer_tier.set_method('retail', 'rules');
SELECT * FROM tiers WHERE program = 'retail';
SELECT customer_tier.set_method('retail', 'abc');
SELECT * FROM tiers WHERE program = 'retail';
SELECT customer_tier.set_method('retail', 'rfm');
SELECT name, method FROM customer_tier.program ORDER BY name;
-- Bad calls.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$default_tiers('nope')$$, 'default_tiers(NULL)', $$set_method(NULL, 'abc')$$,
    $$set_method('retail', 'pareto')$$, $$set_method('retail', NULL)$$, $$set_method('nope', 'abc')$$);

-- ==== set_tiers: good sets ====
SELECT customer_tier.set_tiers('retail', '[{"tier": "platinum", "min_value_score": 90},
                                           {"tier": "diamond", "min_value_score": 80},
                                           {"tier": "gold", "min_value_score": 50.5},
                                           {"tier": "normal"}]');
SELECT * FROM tiers WHERE program = 'retail';
-- Replaced whole: platinum goes, the others are renumbered.
SELECT customer_tier.set_tiers('retail', '[{"tier": "diamond", "min_value_score": 80},
                                           {"tier": "gold", "min_value_score": 50},
                                           {"tier": "normal"}]');
SELECT * FROM tiers WHERE program = 'retail';
-- A JSON null is no condition; a single catch-all puts everyone in one tier.
SELECT customer_tier.set_tiers('b2b', '[{"tier": "member", "min_value_score": null}]');
SELECT * FROM tiers WHERE program = 'b2b';
-- Thresholds at the edges of their ranges.
SELECT customer_tier.set_tiers('b2b', '[{"tier": "top", "min_value_score": 100},
                                        {"tier": "zero", "min_value_score": 0},
                                        {"tier": "rest"}]');
SELECT * FROM tiers WHERE program = 'b2b';
-- Method rules: several conditions; a better tier with a condition the worse
-- one lacks leaves the worse one reachable (2000 spend, 1 order: gold).
SELECT customer_tier.set_method('b2b', 'rules');
SELECT customer_tier.set_tiers('b2b', '[{"tier": "diamond", "min_monetary": 1000, "min_orders": 10},
                                        {"tier": "gold", "min_monetary": 2000},
                                        {"tier": "silver", "min_tenure_days": 365, "min_value_score": 60},
                                        {"tier": "normal"}]');
SELECT * FROM tiers WHERE program = 'b2b';

-- ==== set_tiers: every bad input, refused with nothing changed ====
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$NULL, '[{"tier": "normal"}]'$$, $$'retail', NULL$$, $$'nope', '[{"tier": "normal"}]'$$);
-- Not an array, empty, an element not an object.
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$'retail', '{"tier": "normal"}'$$, $$'retail', '"normal"'$$, $$'retail', '[]'$$,
    $$'retail', '[{"tier": "gold", "min_value_score": 50}, "normal"]'$$);
-- Names: missing, not a string, badly formed, duplicated.
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$'retail', '[{"min_value_score": 50}, {"tier": "normal"}]'$$, $$'retail', '[{"tier": null}]'$$,
    $$'retail', '[{"tier": 1}]'$$,
    $$'retail', '[{"tier": "Gold", "min_value_score": 50}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": "gold tier", "min_value_score": 50}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": ""}]'$$, $$'retail', '[{"tier": "a2345678901234567890123456789012345678901"}]'$$,
    $$'retail', '[{"tier": "gold", "min_value_score": 50}, {"tier": "gold"}]'$$);
-- Unknown keys, named, with the accepted keys listed.
SELECT customer_tier.set_tiers('retail', '[{"tier": "gold", "min_score": 50}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_tiers('retail', '[{"tier": "gold", "Min_Value_Score": 50}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
-- Wrong JSON types.
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$'retail', '[{"tier": "gold", "min_value_score": "50"}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_orders": true}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_monetary": [250]}, {"tier": "normal"}]'$$);
-- Negative and out-of-range thresholds.
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$'retail', '[{"tier": "gold", "min_value_score": -1}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": "gold", "min_value_score": 100.5}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_monetary": -0.01}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_monetary": 1234567890123.456}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_orders": -3}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_orders": 2.5}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_orders": 1e16}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_tenure_days": -0.5}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_tenure_days": 1e400}, {"tier": "normal"}]'$$,
    $$'b2b', '[{"tier": "gold", "min_monetary": 1e300}, {"tier": "normal"}]'$$);
-- Keys the method does not use.
SELECT customer_tier.set_tiers('retail', '[{"tier": "gold", "min_monetary": 250}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_tiers('b2b', '[{"tier": "gold", "abc_class": "A"}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
-- Gaps: the catch-all must be last, and only last.
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$'retail', '[{"tier": "diamond", "min_value_score": 80}, {"tier": "gold", "min_value_score": 50}]'$$,
    $$'retail', '[{"tier": "gold", "min_value_score": 50}]'$$,
    $$'retail', '[{"tier": "diamond", "min_value_score": 80}, {"tier": "gold"}, {"tier": "normal"}]'$$);
-- Overlaps: a tier that a better tier's weaker (or equal) conditions swallow.
SELECT customer_tier.set_tiers('retail', '[{"tier": "diamond", "min_value_score": 40}, {"tier": "gold", "min_value_score": 50}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_tiers('retail', '[{"tier": "diamond", "min_value_score": 50}, {"tier": "gold", "min_value_score": 50}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_tiers('retail', '[{"tier": "diamond", "min_value_score": 80}, {"tier": "gold", "min_value_score": 20},
                                           {"tier": "silver", "min_value_score": 90}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_tiers('b2b', '[{"tier": "diamond", "min_monetary": 1000},
                                        {"tier": "gold", "min_monetary": 2000, "min_orders": 3}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_tiers('b2b', '[{"tier": "diamond", "min_monetary": 1000, "min_orders": 10},
                                        {"tier": "gold", "min_monetary": 1000, "min_orders": 10, "min_tenure_days": 30},
                                        {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
-- Method abc: one tier per class, A then B then C, then the catch-all.
SELECT customer_tier.set_method('retail', 'abc');
SELECT customer_tier.set_tiers('retail', '[{"tier": "a", "abc_class": "A"}, {"tier": "b", "abc_class": "B"},
                                           {"tier": "c", "abc_class": "C"}, {"tier": "unclassed"}]');
SELECT * FROM tiers WHERE program = 'retail';
SELECT customer_tier.set_tiers('retail', '[{"tier": "diamond", "abc_class": "A"}, {"tier": "normal"}]');
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$'retail', '[{"tier": "gold", "abc_class": "B"}, {"tier": "diamond", "abc_class": "A"}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": "diamond", "abc_class": "A"}, {"tier": "gold", "abc_class": "A"}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": "diamond", "abc_class": "A"}, {"tier": "bronze", "abc_class": "C"}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": "diamond", "abc_class": "a"}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": "diamond", "abc_class": 1}, {"tier": "normal"}]'$$,
    $$'retail', '[{"tier": "diamond", "min_value_score": 80}, {"tier": "normal"}]'$$);
-- Nothing was changed by the refused calls.
SELECT * FROM tiers;

-- ==== tier_rules: the compiled layout, rows = tiers by rank, NaN = no condition ====
SELECT customer_tier.set_method('retail', 'rfm');
SELECT customer_tier.tier_rules('retail') AS rfm, array_dims(customer_tier.tier_rules('retail'));
SELECT customer_tier.tier_rules('b2b') AS rules, array_dims(customer_tier.tier_rules('b2b'));
SELECT customer_tier.set_method('b2b', 'abc');
SELECT customer_tier.tier_rules('b2b') AS abc;
SELECT customer_tier.tier_rules(NULL) IS NULL AS null_program;
SELECT customer_tier.tier_rules('nope');
\echo :LAST_ERROR_SQLSTATE
BEGIN;
DELETE FROM customer_tier.tier WHERE program = 'b2b';
SELECT customer_tier.tier_rules('b2b');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- ==== qualify_tier ====
-- Method rfm, 80 / 50 / rest: exactly at a threshold qualifies; a NULL score
-- meets no condition and gets the catch-all.
SELECT v AS value_score,
       customer_tier.qualify_tier(customer_tier.tier_rules('retail'), v, NULL, NULL, NULL, NULL) AS rank
  FROM unnest('{NULL, -Infinity, 0, 49.999999, 50, 79.99, 80, 100, Infinity}'::float8[]) AS v;
-- Method rules, diamond = spend 1000 and 10 orders, gold = 250 and 3: every
-- combination of spend and orders around the thresholds.
SELECT customer_tier.set_method('b2b', 'rules');
WITH r AS MATERIALIZED (SELECT customer_tier.tier_rules('b2b') AS rules)
SELECT m AS monetary,
       customer_tier.qualify_tier(rules, NULL, m, NULL, NULL, NULL) AS "orders NULL",
       customer_tier.qualify_tier(rules, NULL, m, 2, NULL, NULL) AS "2 orders",
       customer_tier.qualify_tier(rules, NULL, m, 3, NULL, NULL) AS "3 orders",
       customer_tier.qualify_tier(rules, NULL, m, 9, NULL, NULL) AS "9 orders",
       customer_tier.qualify_tier(rules, NULL, m, 10, NULL, NULL) AS "10 orders"
  FROM r, unnest('{NULL, -50, 249.99, 250, 250.000, 999.99, 1000, 1e30, Infinity}'::numeric[]) AS m;
-- Spend is compared exactly, even beyond the 15 digits of a double.
SELECT customer_tier.set_tiers('b2b', '[{"tier": "gold", "min_monetary": 250.1}, {"tier": "normal"}]');
SELECT m AS monetary, customer_tier.qualify_tier(customer_tier.tier_rules('b2b'), NULL, m, NULL, NULL, NULL) AS rank
  FROM unnest('{250.09, 250.0999999999999999999999, 250.1, 250.10000000000000000001}'::numeric[]) AS m;
-- Tenure and value score together: both must hold.
SELECT customer_tier.set_tiers('b2b', '[{"tier": "loyal", "min_tenure_days": 365, "min_value_score": 60}, {"tier": "normal"}]');
SELECT tenure, score, customer_tier.qualify_tier(customer_tier.tier_rules('b2b'), score, NULL, NULL, tenure, NULL) AS rank
  FROM (VALUES (365, 60), (364.99, 60), (365, 59.9), (1000, 100), (NULL, 100), (365, NULL)) AS v(tenure, score);
-- Method abc: A, B, C, and a customer without a class.
SELECT customer_tier.set_method('b2b', 'abc');
SELECT c AS abc_class, customer_tier.qualify_tier(customer_tier.tier_rules('b2b'), NULL, NULL, NULL, NULL, c) AS rank
  FROM unnest('{A, B, C, NULL}'::text[]) AS c;
-- The rules are checked on every call.
CALL pg_temp.expect_errors('SELECT customer_tier.qualify_tier(%s)',
    'NULL, 50, NULL, NULL, NULL, NULL', $$'{}', 50, NULL, NULL, NULL, NULL$$,
    $$'{80, NaN, NaN, NaN, NaN}', 50, NULL, NULL, NULL, NULL$$,
    $$'{{80, NaN, NaN, NaN}, {NaN, NaN, NaN, NaN}}', 50, NULL, NULL, NULL, NULL$$,
    $$'{{80, NaN, NaN, NaN, NULL}, {NaN, NaN, NaN, NaN, NaN}}', 50, NULL, NULL, NULL, NULL$$,
    $$'{{120, NaN, NaN, NaN, NaN}, {NaN, NaN, NaN, NaN, NaN}}', 50, NULL, NULL, NULL, NULL$$,
    $$'{{NaN, -1, NaN, NaN, NaN}, {NaN, NaN, NaN, NaN, NaN}}', 50, NULL, NULL, NULL, NULL$$,
    $$'{{NaN, NaN, Infinity, NaN, NaN}, {NaN, NaN, NaN, NaN, NaN}}', 50, NULL, NULL, NULL, NULL$$,
    $$'{{NaN, NaN, NaN, NaN, 4}, {NaN, NaN, NaN, NaN, NaN}}', 50, NULL, NULL, NULL, NULL$$,
    $$'{{80, NaN, NaN, NaN, NaN}, {50, NaN, NaN, NaN, NaN}}', 50, NULL, NULL, NULL, NULL$$);
-- Metrics that are NaN or not a class.
CALL pg_temp.expect_errors('SELECT customer_tier.qualify_tier(%s)',
    $$customer_tier.tier_rules('retail'), 'NaN', NULL, NULL, NULL, NULL$$,
    $$customer_tier.tier_rules('retail'), 50, 'NaN', NULL, NULL, NULL$$,
    $$customer_tier.tier_rules('retail'), 50, NULL, NULL, 'NaN', NULL$$,
    $$customer_tier.tier_rules('retail'), 50, NULL, NULL, NULL, 'a'$$);

-- ==== next_tier: pins and hysteresis (grace 90 days) ====
SELECT label, s.*
  FROM (VALUES
    ('pinned above its qualification',   3, NULL::timestamptz, 3, 1),
    ('pinned below its qualification',   1, NULL, 1, 2),
    ('pinned while a downgrade pends',   1, '2026-01-01', 3, 1),
    ('new customer',                     NULL, NULL, 2, NULL),
    ('new customer, stale pending',      NULL, '2026-01-01', 2, NULL),
    ('upgrade, clears pending',          3, '2026-01-01', 1, NULL),
    ('unchanged, clears pending',        2, '2026-01-01', 2, NULL),
    ('worse, first time',                1, NULL, 3, NULL),
    ('worse, 1 second short of grace',   1, '2026-01-02 00:00:01', 3, NULL),
    ('worse, grace exactly reached',     1, '2026-01-02', 3, NULL),
    ('worse, grace long past',           1, '2025-01-01', 2, NULL),
    ('worse, pending in the future',     1, '2026-06-01', 3, NULL))
       AS c(label, current_rank, pending_since, qualified_rank, pinned_rank),
       customer_tier.next_tier(c.current_rank, c.pending_since, c.qualified_rank, c.pinned_rank,
                               '90 days', '2026-04-02') AS s;
-- Zero grace downgrades at once; a month of grace is 30 days.
SELECT * FROM customer_tier.next_tier(1, NULL, 2, NULL, '0', '2026-04-02');
SELECT * FROM customer_tier.next_tier(1, '2026-03-03', 2, NULL, '1 month', '2026-04-02');
SELECT * FROM customer_tier.next_tier(1, '2026-03-03 00:00:01', 2, NULL, '1 month', '2026-04-02');
-- A customer's year, one step per run, grace 30 days: the pin ends on day 200
-- (the caller passes no pinned rank once it has expired) and the pinned tier
-- then goes through the grace period like any other.
WITH RECURSIVE steps(n, day, qualified, pinned) AS (
    VALUES (1, 0, 2, NULL::integer), (2, 10, 3, NULL), (3, 25, 3, NULL), (4, 39, 3, NULL),
           (5, 40, 3, NULL), (6, 50, 1, NULL), (7, 60, 2, NULL), (8, 70, 1, NULL),
           (9, 100, 3, 1), (10, 200, 3, NULL), (11, 229, 3, NULL), (12, 230, 2, NULL)),
journey AS (
    SELECT s.n, s.day, s.qualified, s.pinned, t.rank, t.pending_since, t.reason
      FROM steps AS s,
           customer_tier.next_tier(NULL, NULL, s.qualified, s.pinned, '30 days',
                                   '2026-01-01'::timestamptz + s.day * interval '1 day') AS t
     WHERE s.n = 1
    UNION ALL
    SELECT s.n, s.day, s.qualified, s.pinned, t.rank, t.pending_since, t.reason
      FROM journey AS j JOIN steps AS s ON s.n = j.n + 1,
           customer_tier.next_tier(j.rank, j.pending_since, s.qualified, s.pinned, '30 days',
                                   '2026-01-01'::timestamptz + s.day * interval '1 day') AS t)
SELECT day, qualified, pinned, rank, pending_since::date, reason FROM journey ORDER BY n;
-- Bad arguments.
CALL pg_temp.expect_errors('SELECT * FROM customer_tier.next_tier(%s)',
    $$1, NULL, NULL, NULL, '90 days', '2026-04-02'$$, $$1, NULL, 2, NULL, NULL, '2026-04-02'$$,
    $$1, NULL, 2, NULL, '90 days', NULL$$, $$0, NULL, 2, NULL, '90 days', '2026-04-02'$$,
    $$1, NULL, -2, NULL, '90 days', '2026-04-02'$$, $$1, NULL, 2, 0, '90 days', '2026-04-02'$$,
    $$1, NULL, 2, NULL, '90 days', 'infinity'$$, $$1, '-infinity', 2, NULL, '90 days', '2026-04-02'$$,
    $$1, NULL, 2, NULL, '-1 day', '2026-04-02'$$, $$1, NULL, 2, NULL, '1 month -31 days', '2026-04-02'$$);

-- ==== Pins ====
SELECT customer_tier.pin_customer('retail', '007', 'gold', 'key account, contract until 2027');
SELECT customer_tier.pin_customer('retail', '42', 'diamond', 'board member', now() + interval '30 days');
SELECT customer_tier.pin_customer('b2b', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'gold', 'strategic');
-- Keys are stored in their canonical text form; pinned_at and pinned_by are filled in.
SELECT program, customer, tier, reason, expires_at - pinned_at AS lasts,
       pinned_at BETWEEN now() - interval '1 minute' AND now() AS pinned_now,
       pinned_by = current_user AS pinned_by_me
  FROM customer_tier.pin ORDER BY program, customer;
-- Pinning again replaces the pin.
SELECT customer_tier.pin_customer('retail', '7', 'diamond', 'renewed contract');
SELECT program, customer, tier, reason FROM customer_tier.pin WHERE customer = '7';
-- Bad pins.
CALL pg_temp.expect_errors('SELECT customer_tier.pin_customer(%s)',
    $$'nope', '7', 'gold', 'x'$$, $$'retail', '7', 'platinum', 'x'$$, $$'retail', '7', 'gold', '   '$$,
    $$'retail', '7', 'gold', NULL$$);
-- (terse: the detail shows the current time)
\set VERBOSITY terse
SELECT customer_tier.pin_customer('retail', '7', 'gold', 'x', '2026-01-01 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.pin_customer('retail', '7', 'gold', 'x', now());
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
CALL pg_temp.expect_errors('SELECT customer_tier.pin_customer(%s)',
    $$'retail', 'seven', 'gold', 'x'$$, $$'retail', '99999999999999999999', 'gold', 'x'$$,
    $$'b2b', 'not-a-uuid', 'gold', 'x'$$, $$'retail', NULL, 'gold', 'x'$$);
INSERT INTO customer_tier.pin (program, customer, tier, reason, pinned_at, pinned_by)
VALUES ('retail', '8', 'gold', E' \t', '2026-01-01', 'admin');
\echo :LAST_ERROR_SQLSTATE
-- A tier with pins cannot be removed; reordering keeps the pins.
SELECT customer_tier.set_tiers('retail', '[{"tier": "gold", "min_value_score": 50}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_tiers('retail', '[{"tier": "diamond", "min_value_score": 70}, {"tier": "gold", "min_value_score": 40},
                                           {"tier": "normal"}]');
SELECT customer_tier.set_method('retail', 'rules');
SELECT program, customer, tier FROM customer_tier.pin ORDER BY program, customer;
-- Renaming a tier carries its pins.
UPDATE customer_tier.tier SET tier = 'platinum' WHERE program = 'retail' AND tier = 'diamond';
SELECT program, customer, tier FROM customer_tier.pin ORDER BY program, customer;
-- Unpinning.
SELECT customer_tier.unpin_customer('retail', '0042');
SELECT customer_tier.unpin_customer('retail', '42');
SELECT customer_tier.unpin_customer('nope', '42');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.unpin_customer('retail', 'forty-two');
\echo :LAST_ERROR_SQLSTATE

-- ==== Direct DML is checked as a set at commit ====
BEGIN;
UPDATE customer_tier.tier SET min_monetary = 5000 WHERE program = 'retail' AND tier = 'platinum';
COMMIT;
SELECT * FROM tiers WHERE program = 'retail';
BEGIN;
DELETE FROM customer_tier.tier WHERE program = 'retail' AND tier = 'normal';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
UPDATE customer_tier.tier SET min_monetary = 250, min_orders = 3 WHERE program = 'retail' AND tier = 'platinum';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
UPDATE customer_tier.tier SET rank = rank + 1 WHERE program = 'retail';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
UPDATE customer_tier.program SET method = 'abc' WHERE name = 'retail';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
CALL pg_temp.expect_errors('INSERT INTO customer_tier.tier %s',
    $$(program, tier, rank, min_value_score) VALUES ('retail', 'x', 9, 101)$$,
    $$(program, tier, rank, min_monetary) VALUES ('retail', 'x', 9, 'NaN')$$,
    $$(program, tier, rank, min_tenure_days) VALUES ('retail', 'x', 9, 'NaN')$$);
SELECT * FROM tiers WHERE program = 'retail';

-- ==== Privileges and pg_dump ====
SELECT p::regprocedure AS function, has_function_privilege('public', p, 'EXECUTE') AS public_may_execute
  FROM unnest(ARRAY['customer_tier.set_tiers(text,jsonb)', 'customer_tier.default_tiers(text)',
                    'customer_tier.set_method(text,text)',
                    'customer_tier.pin_customer(text,text,text,text,timestamptz)',
                    'customer_tier.unpin_customer(text,text)', 'customer_tier.tier_rules(text)',
                    'customer_tier.qualify_tier(float8[],float8,numeric,bigint,float8,text)',
                    'customer_tier.next_tier(integer,timestamptz,integer,integer,interval,timestamptz)']::regprocedure[]) AS p;
SELECT unnest(extconfig)::regclass AS kept_by_pg_dump FROM pg_extension WHERE extname = 'customer_tier' ORDER BY 1;

-- ==== drop_program removes the program's tiers and pins ====
SELECT program, count(*) AS tiers, (SELECT count(*) FROM customer_tier.pin AS p WHERE p.program = t.program) AS pins
  FROM customer_tier.tier AS t GROUP BY program ORDER BY program;
SELECT customer_tier.drop_program('retail');
SELECT program, count(*) AS tiers, (SELECT count(*) FROM customer_tier.pin AS p WHERE p.program = t.program) AS pins
  FROM customer_tier.tier AS t GROUP BY program ORDER BY program;
SELECT customer_tier.drop_program('b2b');
SELECT (SELECT count(*) FROM customer_tier.tier) AS tiers, (SELECT count(*) FROM customer_tier.pin) AS pins;

DROP VIEW tiers;
DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

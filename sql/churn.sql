-- Churn flags, lifecycle stages, per-program BG/NBD and Gamma-Gamma models,
-- p_alive and predicted CLV in the one scoring path (docs/churn.md).
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET timezone = 'UTC';

CREATE SCHEMA crm;
CREATE TABLE crm.orders (customer_id bigint, amount numeric(12,2), ordered_at timestamptz);
SELECT customer_tier.create_program('shop', 'crm.orders', 'customer_id', 'amount', 'ordered_at') AS customers;

-- ==== every program gets the default thresholds ====
SELECT jsonb_pretty(to_jsonb(s) - 'program') AS defaults FROM customer_tier.churn_settings AS s WHERE program = 'shop';
SELECT customer_tier.churn_settings_array(s) AS defaults FROM customer_tier.churn_settings AS s WHERE program = 'shop' \gset

-- Helpers for the rules: a purchases state from "days before 2026-06-01",
-- the rules applied as of 2026-06-01, and one setting changed.
CREATE FUNCTION purchases(days_ago double precision[]) RETURNS customer_tier.order_stats_state
LANGUAGE sql AS $$
    SELECT customer_tier.order_stats_partial(timestamptz '2026-06-01 00:00+00' - d * interval '1 day', 10::numeric)
      FROM unnest(days_ago) AS d $$;
CREATE FUNCTION assess(settings double precision[], days_ago double precision[],
                       satisfaction double precision DEFAULT NULL, stage text DEFAULT NULL,
                       stage_days_ago double precision DEFAULT NULL,
                       bg customer_tier.bgnbd_model DEFAULT NULL)
RETURNS TABLE (flags text[], lifecycle text, reasons text[])
LANGUAGE sql AS $$
    SELECT a.churn_flags, a.lifecycle, a.churn_reasons
      FROM customer_tier.churn_assess(settings, bg, NULL, purchases(days_ago), 10 * cardinality(days_ago),
                                      satisfaction, stage,
                                      timestamptz '2026-06-01 00:00+00' - stage_days_ago * interval '1 day',
                                      timestamptz '2026-06-01 00:00+00') AS a $$;
CREATE FUNCTION with_setting(settings double precision[], pos integer, v double precision)
RETURNS double precision[] LANGUAGE sql AS $$ SELECT settings[1:pos - 1] || v || settings[pos + 1:] $$;

-- ==== flag silent: more than max(3 x the usual gap, 60 days) without an order ====
-- One order: the floor of 60 days is the whole limit (60 days is not more than 60).
SELECT days, (assess(:'defaults', ARRAY[days])).* FROM unnest('{59, 60, 60.0001}'::float8[]) AS days;
-- Orders 25 days apart: the limit is 3 x 25 = 75 days.
SELECT last, (assess(:'defaults', ARRAY[last + 50, last + 25, last])).*
  FROM unnest('{74, 75, 75.0001}'::float8[]) AS last;
-- Orders 10 days apart: 3 x 10 = 30 is below the floor, which holds.
SELECT last, (assess(:'defaults', ARRAY[last + 20, last + 10, last])).flags
  FROM unnest('{59, 60, 61}'::float8[]) AS last;

-- ==== flag frequency_falling: orders in the last 90 days < 0.5 x the 90 days before ====
-- (previous window (180, 90] days ago, recent window (90, 0]; only with at least 2 before)
SELECT label, (assess(:'defaults', days)).flags, (assess(:'defaults', days)).reasons
  FROM (VALUES ('4 before, 1 recent', '{170, 150, 130, 100, 10}'::float8[]),
               ('4 before, 2 recent', '{170, 150, 130, 100, 20, 10}'),
               ('2 before, 0 recent', '{170, 100}'),
               ('2 before, 1 recent', '{170, 100, 10}'),
               ('1 before, 0 recent', '{200, 100, 50}'),
               ('an order exactly 90 days ago is in the window before', '{150, 90, 50, 10}'),
               ('an order exactly 180 days ago is in neither', '{180, 95, 40, 10}')) AS t (label, days);

-- ==== flag low_satisfaction: recent_satisfaction below 7; NULL = no feedback, never ====
SELECT sat, (assess(:'defaults', '{10}', sat)).flags, (assess(:'defaults', '{10}', sat)).reasons
  FROM unnest(ARRAY[NULL, 0, 6.99, 7, 10]::float8[]) AS sat;

-- ==== flag low_p_alive: p_alive below 0.5, from the program's BG/NBD model ====
-- The CDNOW model in weeks; orders 140, 70 and 28 days ago
SELECT customer_tier.p_alive(ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL), s.x, s.t_x, s.t) AS p_alive,
       s.x, s.t_x, s.t
  FROM customer_tier.btyd_summary(purchases('{140, 70, 28}'), 30, '2026-06-01 00:00+00') AS s \gset
SELECT :p_alive AS p_alive, :x AS x, :t_x AS t_x, :t AS t;
SELECT label, (assess(with_setting(:'defaults', 6, below), '{140, 70, 28}',
                      bg => ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL))).*
  FROM (VALUES ('the default 0.5', 0.5::float8), ('exactly p_alive', :p_alive), ('just above p_alive', :p_alive + 1e-12)) AS t (label, below);
-- without a model there is no p_alive and no flag
SELECT (assess(with_setting(:'defaults', 6, 1), '{140, 70, 28}')).*;

-- ==== p_alive and CLV are the building blocks' own, on the same summary ====
-- (the spend model reads the mean of all s.orders purchases; clv() takes one x for both models)
SELECT a.p_alive = customer_tier.p_alive(m.bg, s.x, s.t_x, s.t) AS same_p_alive,
       round(a.clv::numeric, 6) = round((customer_tier.expected_spend(m.gg, s.orders, s.mean_spend)
                                         * customer_tier.expected_purchases(m.bg, 52, s.x, s.t_x, s.t))::numeric, 6) AS same_clv,
       round(a.clv::numeric, 2) AS clv,
       round(b.clv::numeric, 6) = round((customer_tier.clv(m.bg, m.gg, s.x, s.t_x, s.t, s.mean_spend, 26, 0.01, 0.3)
                                         / customer_tier.expected_spend(m.gg, s.x, s.mean_spend)
                                         * customer_tier.expected_spend(m.gg, s.orders, s.mean_spend))::numeric, 6) AS same_discounted_clv
  FROM (SELECT ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL)::customer_tier.bgnbd_model AS bg,
               ROW(6.25, 3.74, 15.44, NULL, NULL)::customer_tier.gamma_gamma_model AS gg) AS m,
       customer_tier.btyd_summary(purchases('{140, 70, 28}'), 75, '2026-06-01 00:00+00') AS s,
       customer_tier.churn_assess(:'defaults', m.bg, m.gg, purchases('{140, 70, 28}'), 75, NULL, NULL, NULL,
                                  '2026-06-01 00:00+00') AS a,
       customer_tier.churn_assess(with_setting(with_setting(with_setting(:'defaults', 13, 26), 14, 0.01), 15, 0.3),
                                  m.bg, m.gg, purchases('{140, 70, 28}'), 75, NULL, NULL, NULL,
                                  '2026-06-01 00:00+00') AS b;
-- A customer with so many orders that eq. 10's series would need millions of
-- terms gets no CLV (NULL) rather than an error that would refuse the write.
SELECT a.p_alive IS NOT NULL AS has_p_alive, a.clv IS NULL AS no_clv, cardinality(a.churn_flags) AS flags
  FROM customer_tier.churn_assess(:'defaults', ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL), ROW(6.25, 3.74, 15.44, NULL, NULL),
           (SELECT customer_tier.order_stats_partial(timestamptz '2026-06-01 00:00+00' - i * interval '20 seconds', 1::numeric)
              FROM generate_series(1, 600000) AS i), 600000, NULL, NULL, NULL, '2026-06-01 00:00+00') AS a;
-- Order times of type date are read as UTC, as the metrics are, whatever the
-- session's time zone: an order on 2026-04-02 is 60 days and 2 hours old at
-- 02:00 UTC on 2026-06-01 (silent), in New York too.
SELECT current_setting('timezone') AS zone, a.lifecycle, a.churn_flags
  FROM customer_tier.churn_assess(:'defaults', NULL, NULL,
           (SELECT customer_tier.order_stats_partial(date '2026-04-02', 10::numeric)),
           10, NULL, NULL, NULL, '2026-06-01 02:00+00') AS a;
SET timezone = 'America/New_York';
SELECT current_setting('timezone') AS zone, a.lifecycle, a.churn_flags
  FROM customer_tier.churn_assess(:'defaults', NULL, NULL,
           (SELECT customer_tier.order_stats_partial(date '2026-04-02', 10::numeric)),
           10, NULL, NULL, NULL, '2026-06-01 02:00+00') AS a;
RESET timezone;
SET timezone = 'UTC';

-- The summary: BG/NBD x = orders - 1, weeks; orders all at one instant are one
-- purchase for BG/NBD; a mean order value that is not positive (refunds) is NULL.
SELECT s.* FROM customer_tier.btyd_summary(purchases('{7, 7, 7}'), 30, '2026-06-01 00:00+00') AS s;
SELECT s.* FROM customer_tier.btyd_summary(purchases('{0}'), 30, '2026-06-01 00:00+00') AS s;
SELECT s.x, s.mean_spend FROM customer_tier.btyd_summary(purchases('{14, 7}'), -5, '2026-06-01 00:00+00') AS s;

-- ==== lifecycle: lost, lapsed, at risk, won back, new, active (first rule that holds) ====
SELECT label, (assess(:'defaults', days, stage => stage, stage_days_ago => since)).lifecycle
  FROM (VALUES ('first order 90 days ago: new', '{90, 30, 20, 10}'::float8[], NULL, NULL::float8),
               ('first order 91 days ago: active', '{91, 61, 31, 1}', NULL, NULL),
               ('a flag: at risk', '{100, 80, 61}', NULL, NULL),
               ('180 days silent: still at risk (silent)', '{180}', NULL, NULL),
               ('181 days silent: lapsed', '{181}', NULL, NULL),
               ('365 days silent: lapsed', '{400, 365}', NULL, NULL),
               ('366 days silent: lost', '{366}', NULL, NULL),
               ('ordered after 290 days of silence: won back', '{300, 10}', NULL, NULL),
               ('... until that order is 90 days old', '{300, 90}', NULL, NULL),
               ('... then active', '{300, 90.0001}', NULL, NULL),
               ('ordered after 180 days of silence: not won back', '{190, 10}', NULL, NULL),
               ('stored lapsed, ordered since: won back', '{300, 200, 130, 50}', 'lapsed', 60),
               ('stored lost, no order since: active', '{300, 200, 130, 50}', 'lost', 40),
               ('stored won back 90 days ago: still won back', '{300, 200, 130, 50}', 'won back', 90),
               ('stored won back 91 days ago: active', '{300, 200, 130, 50}', 'won back', 91)) AS t (label, days, stage, since);
-- lost by p_alive below 0.1 alone (lapsed_days and lost_days set to 1000): five
-- orders on consecutive days, the last 150 days ago
SELECT customer_tier.p_alive(ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL), s.x, s.t_x, s.t) AS p_alive
  FROM customer_tier.btyd_summary(purchases('{154, 153, 152, 151, 150}'), 50, '2026-06-01 00:00+00') AS s;
SELECT (assess(with_setting(with_setting(:'defaults', 10, 1000), 9, 1000), '{154, 153, 152, 151, 150}',
               bg => ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL))).*;

-- ==== bad settings arrays are refused ====
SELECT (assess(:'defaults'::float8[] || 1::float8, '{10}')).*;
\echo :LAST_ERROR_SQLSTATE
SELECT (assess(with_setting(:'defaults', 3, 0), '{10}')).*;
\echo :LAST_ERROR_SQLSTATE
SELECT (assess(with_setting(:'defaults', 6, 'NaN'), '{10}')).*;
\echo :LAST_ERROR_SQLSTATE
SELECT (assess(with_setting(:'defaults', 1, NULL), '{10}')).*;
\echo :LAST_ERROR_SQLSTATE
-- NULL settings (a program without a settings row) or no purchases: nothing is said
SELECT * FROM customer_tier.churn_assess(NULL, NULL, NULL, purchases('{1}'), 10, NULL, NULL, NULL, now());
SELECT * FROM customer_tier.churn_assess(:'defaults', NULL, NULL, NULL, 10, NULL, NULL, NULL, now());

-- ==== set_churn_rules: validated, stored, and the program rescored ====
SELECT customer_tier.set_churn_rules('shop', '{"silent_gap_factor": 2.5, "lapsed_days": 120, "satisfaction_below": 6}')
       - ARRAY['frequency_drop_ratio', 'frequency_min_previous', 'clv_horizon_weeks', 'clv_discount_rate',
               'clv_margin', 'won_back_days', 'new_days', 'lost_p_alive_below', 'frequency_window_days'] AS changed;
SELECT silent_gap_factor, lapsed_days, satisfaction_below, lost_days FROM customer_tier.churn_settings WHERE program = 'shop';
CALL pg_temp.expect_errors('SELECT customer_tier.set_churn_rules(%s)',
    $$'shop', '{"lapsed": 120}'$$, $$'shop', '{"silent_floor_days": -1}'$$,
    $$'shop', '{"silent_floor_days": "NaN"}'$$, $$'shop', '{"p_alive_below": 1.5}'$$,
    $$'shop', '{"lost_p_alive_below": -0.1}'$$, $$'shop', '{"frequency_window_days": 0}'$$,
    $$'shop', '{"frequency_min_previous": 1.5}'$$, $$'shop', '{"clv_horizon_weeks": 521}'$$,
    $$'shop', '{"lost_days": 100}'$$, $$'shop', '{"new_days": 1e400}'$$, $$'shop', '[]'$$, $$'shop', NULL$$,
    $$'nope', '{}'$$);
-- a direct write is checked too
UPDATE customer_tier.churn_settings SET p_alive_below = 2 WHERE program = 'shop';
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_churn_rules('shop', '{"silent_gap_factor": 3, "lapsed_days": 180, "satisfaction_below": 7}') ->> 'lapsed_days' AS back_to_defaults;

-- ==== the triggers keep flags and stages current; a stage change records the one before ====
INSERT INTO crm.orders
SELECT c, 20, now() - d * interval '1 day'
  FROM (VALUES (1, '{30, 20, 10}'::int[]),            -- new
               (2, '{150, 120, 100, 70}'),            -- 1 order in the last 90 days, 3 before: at risk
               (3, '{400, 300, 200}'),                -- 200 days silent: lapsed
               (4, '{500, 400}'),                     -- 400 days silent: lost
               (5, '{200, 170, 140, 110, 80, 50, 20}')) AS x (c, days), unnest(days) AS d;
SELECT customer, orders, lifecycle, previous_lifecycle, churn_flags, churn_reasons, p_alive, predicted_clv
  FROM ct_shop.segments ORDER BY customer;
-- Customers 3 and 4 order again: won back; customer 2 too: no flag, active again.
INSERT INTO crm.orders VALUES (3, 20, now()), (4, 20, now()), (2, 20, now());
SELECT customer, lifecycle, previous_lifecycle, lifecycle_since = last_order AS changed_by_the_order, churn_flags
  FROM ct_shop.segments WHERE customer IN (2, 3, 4) ORDER BY customer;
-- Feedback arrives (the feedback feature fills recent_satisfaction; here it is set by hand)
UPDATE ct_shop.customers SET recent_satisfaction = 4 WHERE customer = 5;
UPDATE ct_shop.customers SET recent_satisfaction = 9 WHERE customer = 1;
SELECT customer_tier.rescore_program('shop', 'feedback') AS tier_changes;
SELECT customer, recent_satisfaction, lifecycle, churn_flags, churn_reasons
  FROM ct_shop.segments WHERE customer IN (1, 5) ORDER BY customer;
-- The churn list: flagged customers who are not lost, most valuable first
SELECT customer, lifecycle, churn_flags, value_at_stake FROM ct_shop.churn_risk;

-- ==== a run fits the program's models, then scores with them ====
-- A population following the BG/NBD story: customer c starts 40..400 days
-- ago, buys with exponential gaps of mean 15..135 days and drops out after a
-- purchase with probability 0.1..0.5 (pseudo-random, from hashint4).
INSERT INTO crm.orders
WITH RECURSIVE cust AS (
    SELECT c, 40 + (abs(hashint4(c)) % 361) AS age, 15 + (abs(hashint4(c + 7777)) % 121) AS mean_gap,
           0.1 + (abs(hashint4(c + 9999)) % 5) / 10.0 AS drop_p, 5 + (abs(hashint4(c + 4242)) % 60) AS spend
      FROM generate_series(101, 500) AS c),
walk AS (
    SELECT c, 0 AS k, age::numeric AS ago, true AS alive FROM cust
    UNION ALL
    SELECT w.c, w.k + 1, w.ago - (-ln((abs(hashint4(w.c * 100 + w.k)) % 10000 + 1) / 10001.0) * cu.mean_gap),
           (abs(hashint4(w.c * 100 + w.k + 55555)) % 1000) / 1000.0 >= cu.drop_p
      FROM walk AS w JOIN cust AS cu USING (c)
     WHERE w.alive AND w.k < 60)
SELECT w.c, cu.spend + (w.k % 3) * 2, now() - w.ago * interval '1 day'
  FROM walk AS w JOIN cust AS cu USING (c)
 WHERE w.ago > 0;
SELECT count(*) AS customers, count(*) FILTER (WHERE p_alive IS NULL) AS without_p_alive FROM ct_shop.customers;
CALL customer_tier.reclassify('shop');
SELECT id, outcome, customers, model_fit FROM customer_tier.run ORDER BY id;
SELECT round((bgnbd).r::numeric, 1) AS r, round((bgnbd).alpha::numeric, 0) AS alpha,
       round((bgnbd).a::numeric, 1) AS a, round((bgnbd).b::numeric, 0) AS b, (bgnbd).customers,
       round((gamma_gamma).p::numeric, 1) AS p, round((gamma_gamma).q::numeric, 0) AS q,
       round((gamma_gamma).gamma::numeric, -1) AS gamma, (gamma_gamma).customers AS spenders,
       bgnbd_fitted_at = attempted_at AS fitted_now, run, problem
  FROM customer_tier.program_model WHERE program = 'shop';
SELECT count(*) AS customers, count(p_alive) AS with_p_alive, count(predicted_clv) AS with_clv,
       min(p_alive) > 0 AND max(p_alive) <= 1 AS p_alive_in_0_1, min(predicted_clv) >= 0 AS clv_not_negative
  FROM ct_shop.customers;
-- the stored p_alive is the model's p_alive of the customer's summary as of the run
SELECT count(*) AS differing
  FROM ct_shop.customers AS c, customer_tier.program_model AS m,
       customer_tier.btyd_summary(c.purchases, c.monetary, m.bgnbd_fitted_at) AS s
 WHERE m.program = 'shop'
   AND abs(c.p_alive - customer_tier.p_alive(m.bgnbd, s.x, s.t_x, s.t)) > 1e-3;
-- A day later, p_alive and the CLV of every customer have moved a little by
-- time alone; a run writes only the customers whose stored values are off by
-- 0.01 (p_alive) or 5% (CLV), or whose anything else changed, so that a
-- nightly run does not rewrite everyone.  A program on the same orders with
-- a scoring date shows it (a program following the clock cannot be moved on).
SELECT customer_tier.create_program('drift', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    as_of => date_trunc('day', now()) + interval '1 day') > 0 AS created;
CALL customer_tier.reclassify('drift');
CREATE FUNCTION drift_check() RETURNS TABLE (written bigint, customers bigint, p_alive_within bool, clv_within bool)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    SELECT count(*) FILTER (WHERE c.changed_by = (SELECT 'run ' || max(r.id) FROM customer_tier.run AS r)),
           count(*),
           bool_and(abs(c.p_alive - a.p_alive) < 0.01),
           bool_and(abs(c.predicted_clv - a.clv) < 0.05 * greatest(abs(c.predicted_clv), 1))
      FROM ct_drift.customers AS c, customer_tier.program_model AS m, customer_tier.churn_settings AS ch,
           customer_tier.churn_assess(customer_tier.churn_settings_array(ch), m.bgnbd, m.gamma_gamma,
                                      c.purchases, c.monetary, c.recent_satisfaction, c.lifecycle,
                                      c.lifecycle_since, customer_tier.program_as_of('drift')) AS a
     WHERE m.program = 'drift' AND ch.program = 'drift';
END $$;
SELECT customer_tier.program_as_of('drift') + interval '1 day' AS next_day \gset
CALL customer_tier.reclassify('drift', as_of => :'next_day');
SELECT written < customers / 10 AS few_written, p_alive_within, clv_within FROM drift_check();
-- the control: half a year on, most values are off and most customers are written
SELECT customer_tier.program_as_of('drift') + interval '180 days' AS half_a_year_on \gset
CALL customer_tier.reclassify('drift', as_of => :'half_a_year_on');
SELECT written > customers / 2 AS most_written, p_alive_within, clv_within FROM drift_check();
SELECT customer_tier.drop_program('drift');
DROP FUNCTION drift_check();

-- every stage occurs; the churn list is ordered by value at stake
SELECT lifecycle, count(*) > 0 AS some FROM ct_shop.customers GROUP BY 1 ORDER BY 1;
SELECT bool_and(v.value_at_stake <= v.previous) AS ordered_by_value_at_stake, count(*) > 10 AS many
  FROM (SELECT value_at_stake, lag(value_at_stake) OVER () AS previous FROM ct_shop.churn_risk) AS v
 WHERE v.previous IS NOT NULL;
SELECT count(*) AS lost_in_churn_list FROM ct_shop.churn_risk WHERE lifecycle = 'lost';
-- the reader role may read the churn list and the models
SET ROLE customer_tier_reader;
SELECT count(*) > 0 AS reader_sees_churn_risk FROM ct_shop.churn_risk;
SELECT count(*) AS models FROM customer_tier.program_model;
RESET ROLE;

-- ==== tier conditions on p_alive and predicted CLV ====
SELECT customer_tier.qualify_tier('{{NaN,NaN,NaN,NaN,NaN},{NaN,NaN,NaN,NaN,NaN},{NaN,NaN,NaN,NaN,NaN}}'::float8[],
                                  NULL, NULL, NULL, NULL, NULL,
                                  '{{0.8,100},{0.5,NaN},{NaN,NaN}}'::float8[], p, clv) AS rank, p, clv
  FROM (VALUES (0.8, 100), (0.8, 99.99), (0.79, 1000), (0.5, NULL), (0.49, 1000), (NULL, 1000)) AS t (p, clv);
-- NULL model rules: the six-argument rules alone
SELECT customer_tier.qualify_tier(customer_tier.tier_rules('shop'), 90, NULL, NULL, NULL, NULL, NULL, NULL, NULL) AS rank;
SELECT customer_tier.qualify_tier('{{NaN,NaN,NaN,NaN,NaN},{NaN,NaN,NaN,NaN,NaN}}'::float8[], NULL, NULL, NULL, NULL, NULL,
                                  '{{0.8,100}}'::float8[], 0.9, 200);
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.qualify_tier('{{NaN,NaN,NaN,NaN,NaN},{NaN,NaN,NaN,NaN,NaN}}'::float8[], NULL, NULL, NULL, NULL, NULL,
                                  '{{1.5,NaN},{NaN,NaN}}'::float8[], 0.9, 200);
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.qualify_tier('{{NaN,NaN,NaN,NaN,NaN},{NaN,NaN,NaN,NaN,NaN}}'::float8[], NULL, NULL, NULL, NULL, NULL,
                                  '{{0.5,NaN},{NaN,NaN}}'::float8[], 'NaN', 200);
\echo :LAST_ERROR_SQLSTATE
-- Tiers on the model scores (method rules), downgrades at once
SELECT customer_tier.set_method('shop', 'rules');
SELECT customer_tier.configure_program('shop', downgrade_grace => '0');
SELECT customer_tier.set_tiers('shop', '[{"tier": "keeper", "min_p_alive": 0.6, "min_clv": 60},
                                         {"tier": "hopeful", "min_p_alive": 0.3},
                                         {"tier": "normal"}]');
SELECT customer_tier.tier_model_rules('shop');
SELECT customer_tier.rescore_program('shop', 'test') > 0 AS tiers_changed;
SELECT count(*) AS misplaced FROM ct_shop.customers
 WHERE tier IS DISTINCT FROM CASE WHEN p_alive >= 0.6 AND predicted_clv >= 60 THEN 'keeper'
                                  WHEN p_alive >= 0.3 THEN 'hopeful' ELSE 'normal' END;
SELECT tier, count(*) > 0 AS some FROM ct_shop.customers GROUP BY 1 ORDER BY 1;
CALL pg_temp.expect_errors('SELECT customer_tier.set_tiers(%s)',
    $$'shop', '[{"tier": "keeper", "min_p_alive": 1.5}, {"tier": "normal"}]'$$,
    $$'shop', '[{"tier": "keeper", "min_clv": -1}, {"tier": "normal"}]'$$,
    $$'shop', '[{"tier": "keeper", "min_clv": "high"}, {"tier": "normal"}]'$$);
-- a tier whose model conditions are weaker than a better tier's is unreachable
SELECT customer_tier.set_tiers('shop', '[{"tier": "keeper", "min_p_alive": 0.5}, {"tier": "hopeful", "min_p_alive": 0.6}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.set_method('shop', 'rfm');
SELECT customer_tier.set_tiers('shop', '[{"tier": "keeper", "min_clv": 10}, {"tier": "normal"}]');
\echo :LAST_ERROR_SQLSTATE
UPDATE customer_tier.tier SET min_p_alive = 2 WHERE program = 'shop' AND rank = 1;
\echo :LAST_ERROR_SQLSTATE

-- ==== a fit that cannot be made keeps the previous model; the run succeeds ====
DELETE FROM crm.orders WHERE customer_id > 10;
SELECT count(*) AS customers_left FROM ct_shop.customers;
-- How the fit fails (which parameter runs off, and where) depends on the
-- milliseconds between the orders' now() and the run's: the NOTICE (the note
-- below) is left out here, and the note's detail is masked; the program
-- "once" below shows a detail that does not move.
SET client_min_messages = warning;
CALL customer_tier.reclassify('shop');
RESET client_min_messages;
SELECT id, outcome, customers,
       regexp_replace(model_fit, 'did not converge: [^(]*', 'did not converge: <the fit''s detail> ', 'g') AS model_fit
  FROM customer_tier.run WHERE id = 2;
SELECT (bgnbd).customers AS model_customers, bgnbd_fitted_at < attempted_at AS kept, run,
       regexp_replace(problem, 'did not converge: [^(]*', 'did not converge: <the fit''s detail> ', 'g') AS problem
  FROM customer_tier.program_model WHERE program = 'shop';

-- A program whose customers all ordered once has no model at all: no p_alive, no CLV.
CREATE TABLE crm.once (customer_id integer, amount numeric, ordered_at timestamptz);
INSERT INTO crm.once SELECT c, 10, now() - c * interval '1 day' FROM generate_series(1, 50) AS c;
SELECT customer_tier.create_program('once', 'crm.once', 'customer_id', 'amount', 'ordered_at') AS customers;
CALL customer_tier.reclassify('once');
SELECT outcome, customers, model_fit FROM customer_tier.run WHERE program = 'once';
SELECT bgnbd IS NULL AS no_bgnbd, gamma_gamma IS NULL AS no_gamma_gamma, problem
  FROM customer_tier.program_model WHERE program = 'once';
SELECT lifecycle, count(*), count(p_alive) AS with_p_alive, count(predicted_clv) AS with_clv
  FROM ct_once.customers GROUP BY 1 ORDER BY 1;
-- fit_program_model can be called by itself, and says the same
SELECT customer_tier.fit_program_model('once');

-- dropping a program drops its settings and models
SELECT customer_tier.drop_program('once');
SELECT count(*) AS settings, (SELECT count(*) FROM customer_tier.program_model WHERE program = 'once') AS models
  FROM customer_tier.churn_settings WHERE program = 'once';

SELECT customer_tier.drop_program('shop');
DROP FUNCTION assess, purchases, with_setting;
DROP TABLE crm.orders, crm.once;
DROP SCHEMA crm;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

-- Fuzzed input (docs/robustness.md): the text input of the state type
-- order_stats_state, and every function taking arrays or composite values,
-- fed malformed, truncated, oversized and inconsistent values.  Each gives an
-- error with a specific SQLSTATE or a value that is right; none crashes.
-- (sql/robustness.sql and sql/order_stats.sql hold the first cases; this file
-- adds a case table, a seeded mutation fuzzer and shape sweeps.)
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
SET timezone = 'UTC';

-- The outcome of a call: 'ok: <result>' or '<SQLSTATE>: <message>'.
CREATE FUNCTION pg_temp.outcome(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE query INTO result;
    RETURN 'ok: ' || coalesce(left(result, 90), 'NULL');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || left(SQLERRM, 90);
END
$$;

-- ==== order_stats_state text input: one case per way to be wrong ====
SELECT label, pg_temp.outcome(format('SELECT %L::customer_tier.order_stats_state::text', input)) AS outcome
  FROM (VALUES
    ('valid',                 'v1;time=timestamptz;orders=2;monetary=5.50;times=0,86400000000'),
    ('times out of order',    'v1;time=timestamptz;orders=2;monetary=5;times=86400000000,0'),
    ('exact zero, padded',    'v1;time=date;orders=1;monetary=-0007.500;times=0'),
    -- truncated
    ('empty',                 ''),
    ('version only',          'v1'),
    ('cut after time',        'v1;time=timestamptz'),
    ('cut in orders',         'v1;time=timestamptz;orders='),
    ('cut before times',      'v1;time=timestamptz;orders=1;monetary=1'),
    ('no times',              'v1;time=timestamptz;orders=1;monetary=1;times='),
    ('trailing comma',        'v1;time=timestamptz;orders=1;monetary=1;times=0,'),
    ('leading comma',         'v1;time=timestamptz;orders=1;monetary=1;times=,0'),
    ('leading space',         ' v1;time=timestamptz;orders=1;monetary=1;times=0'),
    ('trailing space',        'v1;time=timestamptz;orders=1;monetary=1;times=0 '),
    -- malformed
    ('upper-case V',          'V1;time=timestamptz;orders=1;monetary=1;times=0'),
    ('version 10',            'v10;time=timestamptz;orders=1;monetary=1;times=0'),
    ('time kind prefix',      'v1;time=timestamptzz;orders=1;monetary=1;times=0'),
    ('plus sign in total',    'v1;time=timestamptz;orders=1;monetary=+5;times=0'),
    ('lone minus total',      'v1;time=timestamptz;orders=1;monetary=-;times=0'),
    ('no integer digits',     'v1;time=timestamptz;orders=1;monetary=-.5;times=0'),
    ('plus sign in time',     'v1;time=timestamptz;orders=1;monetary=1;times=+1'),
    ('double minus time',     'v1;time=timestamptz;orders=1;monetary=1;times=--1'),
    ('fractional time',       'v1;time=timestamptz;orders=1;monetary=1;times=1.5'),
    -- inconsistent counts
    ('negative orders',       'v1;time=timestamptz;orders=-1;monetary=1;times=0'),
    ('most negative orders',  'v1;time=timestamptz;orders=-9223372036854775808;monetary=1;times=0'),
    ('orders past bigint',    'v1;time=timestamptz;orders=9223372036854775808;monetary=1;times=0'),
    ('orders far past',       'v1;time=timestamptz;orders=99999999999999999999999999;monetary=1;times=0'),
    ('max orders, one time',  'v1;time=timestamptz;orders=9223372036854775807;monetary=1;times=0'),
    ('fewer orders than times', 'v1;time=timestamptz;orders=1;monetary=1;times=0,0'),
    -- not finite, huge exponents
    ('NaN total',             'v1;time=timestamptz;orders=1;monetary=NaN;times=0'),
    ('infinite total',        'v1;time=timestamptz;orders=1;monetary=Infinity;times=0'),
    ('huge exponent',         'v1;time=timestamptz;orders=1;monetary=1e999999;times=0'),
    ('tiny exponent',         'v1;time=timestamptz;orders=1;monetary=1e-999999;times=0'),
    ('NaN time',              'v1;time=timestamptz;orders=1;monetary=1;times=NaN'),
    ('exponent time',         'v1;time=timestamptz;orders=1;monetary=1;times=1e3'),
    -- times at and past the ends of timestamptz (4714-11-24 BC .. 294276 AD)
    ('first valid time',      'v1;time=timestamptz;orders=1;monetary=1;times=-211813488000000000'),
    ('before the first',      'v1;time=timestamptz;orders=1;monetary=1;times=-211813488000000001'),
    ('last valid time',       'v1;time=timestamptz;orders=1;monetary=1;times=9223371331199999999'),
    ('after the last',        'v1;time=timestamptz;orders=1;monetary=1;times=9223371331200000000'),
    ('most negative time',    'v1;time=timestamptz;orders=1;monetary=1;times=-9223372036854775808'),
    ('date not at midnight',  'v1;time=date;orders=1;monetary=1;times=1')
  ) AS c (label, input);
-- Oversized: numeric's own limits of 131072 digits before the point and 16383
-- after are accepted, one more is refused.
SELECT pg_temp.outcome(format('SELECT length(%L::customer_tier.order_stats_state::text)::text',
                              'v1;time=timestamptz;orders=1;monetary=' || repeat('9', 131072) || ';times=0')) AS max_digits,
       pg_temp.outcome(format('SELECT length(%L::customer_tier.order_stats_state::text)::text',
                              'v1;time=timestamptz;orders=1;monetary=' || repeat('9', 131073) || ';times=0')) AS one_more,
       pg_temp.outcome(format('SELECT length(%L::customer_tier.order_stats_state::text)::text',
                              'v1;time=timestamptz;orders=1;monetary=0.' || repeat('9', 16383) || ';times=0')) AS max_scale,
       pg_temp.outcome(format('SELECT length(%L::customer_tier.order_stats_state::text)::text',
                              'v1;time=timestamptz;orders=1;monetary=0.' || repeat('9', 16384) || ';times=0')) AS one_more_scale;
-- 200,000 times in reverse order: read, sorted when used, the right metrics.
SELECT (customer_tier.order_stats_final(('v1;time=date;orders=200000;monetary=5;times=' ||
        (SELECT string_agg((g::bigint * 86400000000)::text, ',' ORDER BY g DESC)
           FROM generate_series(1, 200000) AS g))::customer_tier.order_stats_state)).*;
-- "First after last" in a state is only an order of the list: the metrics are those of the sorted times.
SELECT (customer_tier.order_stats_final('v1;time=timestamptz;orders=3;monetary=5;times=172800000000,0,86400000000')).*;
-- The widest span there is: first and last valid instants, more microseconds
-- apart than bigint holds.  The mean gap is positive (it used to overflow to
-- a negative number of days).
SELECT orders, first_order, last_order, mean_gap_days, round(gap_stddev_days::numeric, 2) AS gap_stddev_days
  FROM customer_tier.order_stats_final('v1;time=timestamptz;orders=2;monetary=1;times=-211813488000000000,9223371331199999999');
SELECT orders, mean_gap_days, round(gap_stddev_days::numeric, 2) AS gap_stddev_days
  FROM customer_tier.order_stats_final('v1;time=timestamptz;orders=3;monetary=1;times=-211813488000000000,0,9223371331199999999');
-- The same through the aggregate, from real order times.
SELECT s.orders, s.mean_gap_days, s.mean_gap_days > 0 AS positive
  FROM (SELECT (customer_tier.order_stats(t, 1)).*
          FROM unnest('{4714-11-24 00:00:00+00 BC, 294276-12-31 23:59:59.999999+00}'::timestamptz[]) AS t) AS s;

-- ==== a seeded mutation fuzzer over the state text ====
-- 4000 mutants of valid states: a character replaced, inserted or deleted, or
-- the text cut.  Every mutant is refused with 22P02 (malformed text), 22003
-- (a total numeric cannot hold) or 54000 (too long), or read; a mutant that is
-- read must print back as text that reads back to the same value.
SELECT setseed(0.20261123);
CREATE TEMP TABLE state_mutants AS
WITH seeds (s) AS (VALUES
    ('v1;time=timestamptz;orders=3;monetary=-12.50;times=86400000000,0,0'),
    ('v1;time=date;orders=2;monetary=123456789.5;times=0,172800000000'),
    ('v1;time=timestamp;orders=1;monetary=0;times=-211813488000000000')),
mutants AS (
    SELECT s, (random() * 4)::int AS kind, 1 + (random() * (length(s) - 1))::int AS pos,
           substr('0123456789-.,;=vtimeordsfaynNI', 1 + (random() * 29)::int, 1) AS ch
      FROM seeds, generate_series(1, 4000 / 3 + 1) AS g)
SELECT CASE kind
           WHEN 0 THEN overlay(s PLACING ch FROM pos FOR 1)
           WHEN 1 THEN overlay(s PLACING ch FROM pos FOR 0)
           WHEN 2 THEN overlay(s PLACING '' FROM pos FOR 1)
           ELSE left(s, pos - 1) END AS input
  FROM mutants;
CREATE FUNCTION pg_temp.read_state(input text, OUT state text, OUT output text, OUT again text)
LANGUAGE plpgsql AS $$
BEGIN
    output := input::customer_tier.order_stats_state::text;
    again := output::customer_tier.order_stats_state::text;
    state := 'read';
EXCEPTION WHEN OTHERS THEN
    state := SQLSTATE;
END
$$;
SELECT r.state, count(*) > 0 AS seen, count(*) FILTER (WHERE r.state = 'read' AND r.output IS DISTINCT FROM r.again) AS unstable
  FROM state_mutants AS m, LATERAL pg_temp.read_state(m.input) AS r
 GROUP BY r.state ORDER BY r.state;
SELECT count(*) AS mutants, count(DISTINCT input) > 1000 AS varied FROM state_mutants;

-- ==== every function taking an array: the shapes ====
-- Each function that PUBLIC may call and that takes a float8[] or bigint[]
-- argument, with that argument in every odd shape and the other arguments
-- valid.  Every cell is an error with a specific SQLSTATE (never XX000) or,
-- where the shape carries a valid value, a result.  (model_rows_combine only
-- concatenates rows of a width it does not know; bgnbd_final and
-- gamma_gamma_final check the rows.  A lower bound other than 1 is read by
-- position where the length is right.)
CREATE TEMP TABLE array_calls (fn text, call text);
INSERT INTO array_calls VALUES
    ('score', 'customer_tier.score(2, %s::float8[])'),
    ('value_score', 'customer_tier.value_score(5, 4, 3, %s::float8[])'),
    ('breakpoints_final', 'customer_tier.breakpoints_final(%s::float8[])'),
    ('breakpoints_combine', 'customer_tier.breakpoints_combine(''{3,1}'', %s::float8[])'),
    ('qualify_tier', 'customer_tier.qualify_tier(%s::float8[], 50, 10, 2, 30, ''A'')'),
    ('bgnbd_final', 'customer_tier.bgnbd_final(%s::float8[])'),
    ('gamma_gamma_final', 'customer_tier.gamma_gamma_final(%s::float8[])'),
    ('model_rows_combine', 'customer_tier.model_rows_combine(''{1,2,3}'', %s::float8[])'),
    ('nps_final', 'customer_tier.nps_final(%s::bigint[])'),
    ('csat_final', 'customer_tier.csat_final(%s::bigint[])'),
    ('nps_combine', 'customer_tier.nps_combine(''{0,0,0,0,0,0,0,0,0,0,1}'', %s::bigint[])'),
    ('csat_combine', 'customer_tier.csat_combine(''{0,0,0,0,1}'', %s::bigint[])');
SELECT a.fn, s.shape, regexp_replace(pg_temp.outcome(format('SELECT ' || a.call || '::text', s.literal)), ': .*', '') AS outcome
  FROM array_calls AS a,
       (VALUES ('empty', '''{}'''), ('NULL element', '''{NULL}'''), ('NULL among 5', '''{1,2,NULL,4,5}'''),
               ('two-dimensional', '''{{1,2},{3,4}}'''), ('three-dimensional', '''{{{1}}}'''),
               ('lower bound 5', '''[5:9]={1,2,3,4,5}'''),
               ('100001 elements', 'array_fill(1, ARRAY[100001])')) AS s (shape, literal)
 ORDER BY a.fn, s.shape;
-- No function anywhere in the table above reported an internal error.
SELECT count(*) AS internal_errors
  FROM array_calls AS a,
       (VALUES ('''{}'''), ('''{NULL}'''), ('''{{1,2},{3,4}}'''), ('''{{{1}}}'''), ('''[5:9]={1,2,3,4,5}''')) AS s (literal)
 WHERE pg_temp.outcome(format('SELECT ' || a.call || '::text', s.literal)) LIKE 'XX%';

-- ==== every function taking a composite: each field bad in turn ====
-- The model types: each parameter NULL, zero, negative, NaN or infinite, the
-- others those of a valid fit.  log_likelihood and customers describe the fit
-- and are not read.
SELECT x.fn, x.field,
       max(x.outcome) FILTER (WHERE x.bad = 'NULL') AS "null",
       max(x.outcome) FILTER (WHERE x.bad = '0') AS zero,
       max(x.outcome) FILTER (WHERE x.bad = '-1') AS negative,
       max(x.outcome) FILTER (WHERE x.bad LIKE '%NaN%') AS nan,
       max(x.outcome) FILTER (WHERE x.bad LIKE '%Infinity%') AS infinite
  FROM (
SELECT f.fn, v.field, v.bad, regexp_replace(pg_temp.outcome(format(f.call, v.model)), ': .*', '') AS outcome
  FROM (VALUES
    ('p_alive', 'bgnbd', 'SELECT customer_tier.p_alive(%s::customer_tier.bgnbd_model, 1, 1, 2)::text'),
    ('expected_purchases', 'bgnbd', 'SELECT customer_tier.expected_purchases(%s::customer_tier.bgnbd_model, 4, 1, 1, 2)::text'),
    ('expected_spend', 'gamma', 'SELECT customer_tier.expected_spend(%s::customer_tier.gamma_gamma_model, 2, 30)::text'),
    ('clv (bgnbd)', 'bgnbd', 'SELECT customer_tier.clv(%s::customer_tier.bgnbd_model, ROW(6, 4, 15, NULL, NULL), 1, 1, 2, 30, 12, 0.01, 1)::text'),
    ('clv (gamma)', 'gamma', 'SELECT customer_tier.clv(ROW(0.2, 4.4, 0.8, 2.4, NULL, NULL), %s::customer_tier.gamma_gamma_model, 1, 1, 2, 30, 12, 0.01, 1)::text')
  ) AS f (fn, kind, call),
  LATERAL (
    SELECT fields[i] AS field, b AS bad,
           'ROW(' || array_to_string(array(SELECT CASE WHEN j = i THEN b ELSE good[j] END
                                            FROM generate_subscripts(good, 1) AS j ORDER BY j), ', ') || ')' AS model
      FROM (SELECT CASE f.kind WHEN 'bgnbd' THEN '{r,alpha,a,b}'::text[] ELSE '{p,q,gamma}'::text[] END AS fields,
                   CASE f.kind WHEN 'bgnbd' THEN '{0.2,4.4,0.8,2.4,"NULL","NULL"}'::text[] ELSE '{6,4,15,"NULL","NULL"}'::text[] END AS good) AS m,
           generate_subscripts(m.fields, 1) AS i,
           unnest(ARRAY['NULL', '0', '-1', '''NaN''::float8', '''Infinity''::float8']) AS b
  ) AS v) AS x
 GROUP BY x.fn, x.field
 ORDER BY x.fn, x.field;
-- The same model with valid parameters, for comparison.
SELECT round(customer_tier.p_alive(ROW(0.2, 4.4, 0.8, 2.4, NULL, NULL), 1, 1, 2)::numeric, 6) AS p_alive,
       round(customer_tier.expected_spend(ROW(6, 4, 15, NULL, NULL), 2, 30)::numeric, 6) AS expected_spend;
-- order_stats (the aggregate's result) read by recency_days and tenure_days:
-- each reads one field; NULL there gives NULL, an infinite instant an error.
SELECT customer_tier.recency_days(ROW(2, 10, '2026-01-01', NULL, 1, 0), '2026-02-01') AS no_last,
       customer_tier.tenure_days(ROW(2, 10, NULL, '2026-01-01', 1, 0), '2026-02-01') AS no_first;
SELECT customer_tier.recency_days(ROW(2, 10, '2026-01-01', 'infinity', 1, 0), '2026-02-01');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.tenure_days(ROW(2, 10, '-infinity', '2026-01-01', 1, 0), '2026-02-01');
\echo :LAST_ERROR_SQLSTATE
-- customer_metrics reads two states: purchases and refunds of different time
-- types are fine (refunds give only money); NULL purchases mean no orders.
SELECT * FROM customer_tier.customer_metrics('v1;time=date;orders=1;monetary=10;times=0',
                                             'v1;time=timestamptz;orders=1;monetary=-4;times=0');
SELECT * FROM customer_tier.customer_metrics(NULL, 'v1;time=timestamptz;orders=1;monetary=-4;times=0');
-- Removing from a state what it does not hold: an error, not a wrong state.
SELECT customer_tier.order_stats_state_subtract('v1;time=date;orders=1;monetary=1;times=0',
                                                'v1;time=date;orders=1;monetary=1;times=86400000000');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.order_stats_state_subtract('v1;time=date;orders=1;monetary=1;times=0',
                                                'v1;time=date;orders=2;monetary=1;times=0,0');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.order_stats_state_merge('v1;time=date;orders=1;monetary=1;times=0',
                                             'v1;time=timestamptz;orders=1;monetary=1;times=0');
\echo :LAST_ERROR_SQLSTATE

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

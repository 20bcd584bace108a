-- Customer-lifetime models: BG/NBD, Gamma-Gamma and CLV.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql

-- The CDNOW sample of Fader, Hardie & Lee (2005): 2,357 customers who first
-- bought in 1997 Q1.  The file is space-aligned with CRLF line ends; load it
-- line by line and split on runs of spaces.
CREATE TABLE cdnow_raw (line text);
\copy cdnow_raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER '|')
CREATE TABLE cdnow AS
SELECT f[1]::int AS master_id, f[2]::int AS id, to_date(f[3], 'YYYYMMDD') AS day,
       f[4]::int AS cds, f[5]::numeric AS dollars
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), ' +') AS f FROM cdnow_raw) s;
SELECT count(*) AS purchases, count(DISTINCT id) AS customers,
       min(day) AS first_day, max(day) AS last_day FROM cdnow;

-- The calibration summary, in weeks: 39 weeks from 1997-01-01 to 1997-09-30.
-- x = distinct later purchase days, t_x = first to last purchase day,
-- t = first purchase to the end of calibration, mean_spend = mean daily spend
-- of the repeat purchase days (NULL without repeat purchases).
CREATE TABLE cdnow_summary AS
WITH days AS (
    SELECT id, day, sum(dollars) AS spend
      FROM cdnow
     WHERE day <= date '1997-09-30'
     GROUP BY id, day),
firsts AS (SELECT id, min(day) AS first_day FROM days GROUP BY id)
SELECT id,
       (count(*) - 1)::int AS x,
       (max(day) - first_day) / 7.0::float8 AS t_x,
       (date '1997-09-30' - first_day) / 7.0::float8 AS t,
       avg(spend) FILTER (WHERE day > first_day)::float8 AS mean_spend
  FROM days JOIN firsts USING (id)
 GROUP BY id, first_day;
-- The first customers, as in the published summary (ID 1: x 2, t_x 30.43, T 38.86, zbar 22.35).
SELECT id, x, round(t_x::numeric, 2) AS t_x, round(t::numeric, 2) AS t,
       round(mean_spend::numeric, 2) AS mean_spend
  FROM cdnow_summary WHERE id <= 5 ORDER BY id;
SELECT count(*) AS customers, count(*) FILTER (WHERE x > 0) AS repeat_buyers,
       sum(x) AS repeat_purchases FROM cdnow_summary;

-- BG/NBD fit: published r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
-- log-likelihood = -9582.4.
CREATE TABLE cdnow_bg AS
SELECT customer_tier.bgnbd_fit(x, t_x, t) AS m FROM cdnow_summary;
SELECT round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha,
       round((m).a::numeric, 3) AS a, round((m).b::numeric, 3) AS b,
       round((m).log_likelihood::numeric, 1) AS log_likelihood, (m).customers
  FROM cdnow_bg;

-- Gamma-Gamma fit on the repeat buyers (x = 0 rows are skipped):
-- published p = 6.25, q = 3.74, gamma = 15.44.
CREATE TABLE cdnow_gg AS
SELECT customer_tier.gamma_gamma_fit(x, mean_spend) AS m FROM cdnow_summary;
SELECT round((m).p::numeric, 2) AS p, round((m).q::numeric, 2) AS q,
       round((m).gamma::numeric, 2) AS gamma,
       round((m).log_likelihood::numeric, 1) AS log_likelihood, (m).customers
  FROM cdnow_gg;

-- The time and money units do not matter: in days, alpha is 7 times larger
-- and the log-likelihood shifts by -ln 7 per repeat purchase; in cents,
-- gamma is 100 times larger.
SELECT round((m).r::numeric, 3) AS r, round(((m).alpha / 7)::numeric, 3) AS alpha_in_weeks,
       round((m).a::numeric, 3) AS a, round((m).b::numeric, 3) AS b,
       round(((m).log_likelihood + 2457 * ln(7))::numeric, 1) AS log_likelihood_in_weeks
  FROM (SELECT customer_tier.bgnbd_fit(x, t_x * 7, t * 7) AS m FROM cdnow_summary) s;
SELECT round((m).p::numeric, 2) AS p, round((m).q::numeric, 2) AS q,
       round(((m).gamma / 100)::numeric, 2) AS gamma_in_dollars
  FROM (SELECT customer_tier.gamma_gamma_fit(x, mean_spend * 100) AS m FROM cdnow_summary) s;

-- The paper's example: a customer with x = 2, t_x = 30.43, T = 38.86 expects
-- 1.226 purchases in the next 39 weeks.
SELECT round(customer_tier.expected_purchases(m, 39, 2, 30.43, 38.86)::numeric, 3) AS expected_39_weeks,
       round(customer_tier.p_alive(m, 2, 30.43, 38.86)::numeric, 3) AS p_alive
  FROM cdnow_bg;

-- Spot values with the published parameters; the reference values come from
-- eq. 10 evaluated with an arbitrary-precision 2F1 (mpmath, 40 digits).
CREATE TABLE bg AS SELECT ROW(0.243, 4.414, 0.793, 2.426, NULL, NULL)::customer_tier.bgnbd_model AS m;
CREATE TABLE gg AS SELECT ROW(6.25, 3.74, 15.44, NULL, NULL)::customer_tier.gamma_gamma_model AS m;
SELECT label, round(got::numeric, 6) AS got, want
  FROM bg, LATERAL (VALUES
    ('E[39 weeks] x=2 t_x=30.43 T=38.86', customer_tier.expected_purchases(m, 39, 2, 30.43, 38.86), 1.226028),
    ('P(alive)    x=2 t_x=30.43 T=38.86', customer_tier.p_alive(m, 2, 30.43, 38.86), 0.726579),
    ('E[39 weeks] x=0 T=38.86', customer_tier.expected_purchases(m, 39, 0, 0, 38.86), 0.195098),
    ('P(alive)    x=0 (always 1)', customer_tier.p_alive(m, 0, 0, 38.86), 1),
    ('E[52 weeks] x=1 t_x=1.71 T=38.86', customer_tier.expected_purchases(m, 52, 1, 1.71, 38.86), 0.259823),
    ('P(alive)    x=1 t_x=1.71 T=38.86', customer_tier.p_alive(m, 1, 1.71, 38.86), 0.212101),
    ('E[39 weeks] x=7 t_x=35.14 T=38.86', customer_tier.expected_purchases(m, 39, 7, 35.14, 38.86), 4.404937),
    ('P(alive)    x=7 t_x=35.14 T=38.86', customer_tier.p_alive(m, 7, 35.14, 38.86), 0.847123),
    ('E[0.5 week] x=2 t_x=30.43 T=38.86', customer_tier.expected_purchases(m, 0.5, 2, 30.43, 38.86), 0.018777),
    ('E[0 weeks]', customer_tier.expected_purchases(m, 0, 2, 30.43, 38.86), 0),
    ('E[10000 weeks] x=30 t_x=38 (z near 1)', customer_tier.expected_purchases(m, 10000, 30, 38, 38.86), 304.593162)
  ) AS v(label, got, want);
-- a = 1 exactly (eq. 10 is 0/0 there; the limit is used), and a + b < 1 with
-- x = 0 (the 2F1 has a negative third parameter).
SELECT round(customer_tier.expected_purchases(ROW(0.5, 2, 1, 1.5, NULL, NULL), 10, 3, 5, 10)::numeric, 6) AS a_is_1,
       0.772726 AS want_a_is_1,
       round(customer_tier.expected_purchases(ROW(0.5, 2, 0.3, 0.4, NULL, NULL), 10, 0, 0, 10)::numeric, 6) AS a_plus_b_below_1,
       0.342090 AS want_a_plus_b_below_1;
-- More weeks, more purchases; more recent, more alive.
SELECT customer_tier.expected_purchases(m, 52, 2, 30.43, 38.86) > customer_tier.expected_purchases(m, 39, 2, 30.43, 38.86) AS longer_more,
       customer_tier.p_alive(m, 2, 38, 38.86) > customer_tier.p_alive(m, 2, 10, 38.86) AS recent_more_alive
  FROM bg;

-- Expected spend per transaction: (gamma + m x) p / (p x + q - 1); x = 0
-- gives the population mean p gamma / (q - 1) whatever mean_spend says.
SELECT round(customer_tier.expected_spend(m, 2, 22.35)::numeric, 4) AS x2_spend, 24.6637 AS want,
       round(customer_tier.expected_spend(m, 0, 0)::numeric, 4) AS x0_spend, 35.2190 AS want_x0,
       customer_tier.expected_spend(m, 0, 0) = customer_tier.expected_spend(m, 0, 99) AS x0_ignores_spend
  FROM gg;

-- CLV: sum over weeks 1..52 of that week's expected purchases, discounted
-- 1% per week, times expected spend and margin.
SELECT round(customer_tier.clv(bg.m, gg.m, 2, 30.43, 38.86, 22.35, 52)::numeric, 4) AS clv_52,
       30.4135 AS want,
       round(customer_tier.clv(bg.m, gg.m, 2, 30.43, 38.86, 22.35, 52, 0, 0.3)::numeric, 4) AS clv_52_undiscounted_margin_30pct,
       11.5332 AS want2,
       round(customer_tier.clv(bg.m, gg.m, 0, 0, 38.86, 0, 10.5)::numeric, 4) AS clv_10_5_weeks,
       1.8955 AS want3,
       customer_tier.clv(bg.m, gg.m, 2, 30.43, 38.86, 22.35, 0) AS clv_0
  FROM bg, gg;
-- Undiscounted CLV is expected purchases times expected spend times margin.
SELECT round(customer_tier.clv(bg.m, gg.m, 2, 30.43, 38.86, 22.35, 52, 0, 0.3)::numeric, 9)
     = round((0.3 * customer_tier.expected_purchases(bg.m, 52, 2, 30.43, 38.86)
             * customer_tier.expected_spend(gg.m, 2, 22.35))::numeric, 9) AS consistent
  FROM bg, gg;

-- Scoring the whole base: the ten customers expected to buy most.
SELECT s.id, s.x, round(s.t_x::numeric, 2) AS t_x,
       round(customer_tier.p_alive(bg.m, s.x, s.t_x, s.t)::numeric, 3) AS p_alive,
       round(customer_tier.expected_purchases(bg.m, 39, s.x, s.t_x, s.t)::numeric, 2) AS next_39_weeks
  FROM cdnow_summary s, cdnow_bg bg
 ORDER BY customer_tier.expected_purchases(bg.m, 39, s.x, s.t_x, s.t) DESC, s.id
 LIMIT 10;

-- NULLs: rows with a NULL are skipped by the aggregates; the functions are strict.
SELECT (customer_tier.bgnbd_fit(x, t_x, t)).customers
  FROM (SELECT x, CASE WHEN id % 10 = 0 THEN NULL ELSE t_x END AS t_x, t FROM cdnow_summary) s;
SELECT (customer_tier.gamma_gamma_fit(x, mean_spend)).customers FROM cdnow_summary;
SELECT customer_tier.p_alive(m, NULL, 1, 2) IS NULL AS null_x,
       customer_tier.expected_purchases(NULL, 1, 1, 1, 2) IS NULL AS null_model,
       customer_tier.clv(m, NULL, 1, 1, 2, 10, 10) IS NULL AS null_gg
  FROM bg;

-- The aggregate state is a double precision[] of the rows, built in place
-- and combined by concatenation, so parallel workers can split the work.
SELECT customer_tier.bgnbd_accum(NULL, 2, 1.5, 3) AS first_row,
       customer_tier.bgnbd_accum('{2,1.5,3}', 0, 0, 4) AS second_row,
       customer_tier.bgnbd_accum('{2,1.5,3}', NULL, 0, 4) AS null_row_skipped,
       customer_tier.model_rows_combine(NULL, '{2,1.5,3}') AS combine_into_null,
       customer_tier.model_rows_combine('{2,1.5,3}', '{0,0,4}') AS combine,
       customer_tier.model_rows_combine('{2,1.5,3}', NULL) AS combine_null,
       customer_tier.gamma_gamma_accum(NULL, 0, NULL) AS gg_x0_skipped,
       customer_tier.gamma_gamma_accum(NULL, 3, 12.5) AS gg_row;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT customer_tier.bgnbd_fit(x, t_x, t) FROM cdnow_summary;
SELECT (SELECT customer_tier.bgnbd_fit(x, t_x, t) FROM cdnow_summary) = m AS parallel_equals_serial
  FROM cdnow_bg;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- The state survives hash aggregation spilling to disk (it is written out
-- flat and expanded again): the same rows per group as sorted aggregation.
CREATE AGGREGATE model_rows(integer, float8, float8) (
    SFUNC = customer_tier.bgnbd_accum, STYPE = float8[],
    COMBINEFUNC = customer_tier.model_rows_combine);
SET work_mem = '64kB';
SET enable_sort = off;
CREATE TABLE hashed AS
SELECT id % 2000 AS grp, model_rows(x, t_x, t) AS st
  FROM cdnow_summary, generate_series(1, 10) GROUP BY id % 2000;
RESET work_mem;
RESET enable_sort;
SET enable_hashagg = off;
CREATE TABLE sorted AS
SELECT id % 2000 AS grp, model_rows(x, t_x, t) AS st
  FROM cdnow_summary, generate_series(1, 10) GROUP BY id % 2000;
RESET enable_hashagg;
SELECT count(*) AS groups, sum(array_length(h.st, 1)) AS state_values,
       count(*) FILTER (WHERE (SELECT array_agg(v ORDER BY v) FROM unnest(h.st) v)
                            = (SELECT array_agg(v ORDER BY v) FROM unnest(o.st) v)) AS same_rows
  FROM hashed h JOIN sorted o USING (grp);
DROP TABLE hashed, sorted;
DROP AGGREGATE model_rows(integer, float8, float8);
-- Identical rows are grouped: a population repeated 3 times has the same
-- parameters and three times the log-likelihood.
SELECT round((m).r::numeric, 6) = round((SELECT (m).r FROM cdnow_bg)::numeric, 6) AS same_r,
       round((m).log_likelihood::numeric, 3) = round(3 * (SELECT (m).log_likelihood FROM cdnow_bg)::numeric, 3) AS triple_ll,
       (m).customers
  FROM (SELECT customer_tier.bgnbd_fit(x, t_x, t) AS m
          FROM cdnow_summary, generate_series(1, 3)) s;

-- Bad rows are refused with the row's values.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (-1, 0.0, 10.0)) v(x, t_x, t)',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (1, -1.0, 10.0)) v(x, t_x, t)',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (1, 11.0, 10.0)) v(x, t_x, t)',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (0, 0.0, 0.0)) v(x, t_x, t)',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (0, 0.0, -5.0)) v(x, t_x, t)',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (0, 2.0, 10.0)) v(x, t_x, t)',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (3, 0.0, 10.0)) v(x, t_x, t)',
    $$bgnbd_fit(x, t_x, t) FROM (VALUES (1, 'NaN'::float8, 10.0)) v(x, t_x, t)$$,
    $$bgnbd_fit(x, t_x, t) FROM (VALUES (1, 1.0, 'Infinity'::float8)) v(x, t_x, t)$$,
    'gamma_gamma_fit(x, s) FROM (VALUES (2, 0.0)) v(x, s)',
    'gamma_gamma_fit(x, s) FROM (VALUES (2, -3.5)) v(x, s)',
    $$gamma_gamma_fit(x, s) FROM (VALUES (2, 'NaN'::float8)) v(x, s)$$,
    'gamma_gamma_fit(x, s) FROM (VALUES (-2, 10.0)) v(x, s)');

-- Populations the models cannot be fitted to.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'bgnbd_fit(x, t_x, t) FROM cdnow_summary WHERE false',
    'bgnbd_fit(x, t_x, t) FROM (VALUES (NULL::int, 1.0, 2.0)) v(x, t_x, t)',
    'bgnbd_fit(x, t_x, t) FROM cdnow_summary WHERE id = 1',
    'bgnbd_fit(x, t_x, t) FROM cdnow_summary WHERE x = 0');
-- Everybody bought again at the very end: nobody seems to drop out, the
-- dropout parameters run off to a boundary, and the fit says so.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'bgnbd_fit(x, t, t) FROM cdnow_summary WHERE x > 0',
    'gamma_gamma_fit(x, mean_spend) FROM cdnow_summary WHERE x = 0',
    'gamma_gamma_fit(x, mean_spend) FROM cdnow_summary WHERE id = 1');
-- Everybody spends exactly the same: no spread to estimate.
SELECT customer_tier.gamma_gamma_fit(x, 20) FROM cdnow_summary WHERE x > 0;
\echo :LAST_ERROR_SQLSTATE

-- States that did not come from the aggregate are checked.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$bgnbd_final('{2,1.5}')$$, $$bgnbd_final('{{2,1.5,3}}')$$, $$bgnbd_final('{2,NULL,3}')$$,
    $$bgnbd_final('{2.5,1,3,1,1,2}')$$, $$gamma_gamma_final('{0,10,2,20}')$$,
    $$model_rows_combine('{1,2,3}', '{{1,2,3}}')$$);

-- Bad model arguments and bad per-customer arguments.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'p_alive(ROW(0, 4.4, 0.8, 2.4, NULL, NULL), 1, 1, 2)',
    'p_alive(ROW(0.2, -4.4, 0.8, 2.4, NULL, NULL), 1, 1, 2)',
    $$p_alive(ROW(0.2, 4.4, 'NaN', 2.4, NULL, NULL), 1, 1, 2)$$,
    'p_alive(ROW(0.2, 4.4, 0.8, NULL, NULL, NULL), 1, 1, 2)', 'p_alive(m, 1, 3, 2) FROM bg',
    'expected_purchases(m, -1, 1, 1, 2) FROM bg', $$expected_purchases(m, 'NaN', 1, 1, 2) FROM bg$$,
    $$expected_purchases(m, 'Infinity', 1, 1, 2) FROM bg$$, 'expected_purchases(m, 1e300, 1, 1, 2) FROM bg',
    'expected_spend(ROW(6.25, 0, 15.44, NULL, NULL), 2, 20)', 'expected_spend(m, 2, -20) FROM gg');
-- q <= 1: the population has no mean spend.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'expected_spend(ROW(6.25, 0.9, 15.44, NULL, NULL), 0, 0)',
    'expected_spend(ROW(1e300, 1e300, 1e300, NULL, NULL), 2147483647, 1e300)',
    'expected_purchases(ROW(1e300, 1e-300, 1e-300, 1e300, NULL, NULL), 1e-300, 5, 30, 38.86)',
    'clv(bg.m, gg.m, 2, 30.43, 38.86, 1e300, 52, 0.01, 1e300) FROM bg, gg',
    'clv(bg.m, gg.m, 2, 30.43, 38.86, 22.35, 52, -0.01) FROM bg, gg',
    'clv(bg.m, gg.m, 2, 30.43, 38.86, 22.35, 10001) FROM bg, gg',
    $$clv(bg.m, gg.m, 2, 30.43, 38.86, 22.35, 52, 0.01, 'Infinity') FROM bg, gg$$);

-- The monetary value in double precision is the cast's, to the last bit:
-- most values take a fast path (an integer below 2^53 over a power of ten up
-- to 1e22), the rest the cast's own route; mean_spend of one order shows it.
WITH v AS (
    SELECT x FROM (VALUES (0.1), (0.3), (2.675), (100.10), (1e-22), (1e-25), (1e22), (1e23),
                          (9007199254740991.5), (9007199254740992), (9007199254740993),
                          (123456789012345.67), (12345678901234567890.123), (1.7976931348623157e308)) AS t(x)
    UNION ALL
    SELECT round((abs(hashint8(g::bigint)) % CASE WHEN g % 2 = 0 THEN 1000000000000000 ELSE 9223372036854775807 END)::numeric
                 / (10 ^ (g % 23))::numeric, g % 23)
      FROM generate_series(1, 20000) AS g),
one AS (SELECT customer_tier.order_stats_partial(timestamptz '2026-01-01', 1) AS st)
SELECT count(*) AS amounts,
       count(*) FILTER (WHERE (customer_tier.btyd_summary(one.st, v.x, '2026-02-01')).mean_spend
                              IS DISTINCT FROM v.x::double precision) AS not_the_cast
  FROM v, one;

DROP TABLE cdnow_raw, cdnow, cdnow_summary, cdnow_bg, cdnow_gg, bg, gg;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

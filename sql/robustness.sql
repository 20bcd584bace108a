-- Bad inputs: every function that takes an array, a state or a float8 is fed
-- malformed, truncated, oversized and inconsistent values.  Each gives either
-- an error with a specific SQLSTATE or the documented value (docs/robustness.md).
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql

--
-- score(value, breakpoints, higher_is_better)
--
-- The lower bound of the breakpoints array does not matter: only the order of
-- its elements does.
SELECT customer_tier.score(2.5, '[3:5]={1,2,3}') AS from_3, customer_tier.score(2.5, '[-2:0]={1,2,3}') AS from_minus_2;
-- Infinite values are ordinary values: below every cut point or above it.
SELECT customer_tier.score('Infinity', '{1,2,3}') AS inf_high, customer_tier.score('-Infinity', '{1,2,3}') AS minus_inf_high,
       customer_tier.score('Infinity', '{1,2,3}', false) AS inf_low, customer_tier.score('-Infinity', '{1,2,3}', false) AS minus_inf_low;
-- Values at the ends of double precision and the smallest denormal.
SELECT customer_tier.score(1.7976931348623157e308, '{-1.7976931348623157e308,0,1.7976931348623157e308}') AS top,
       customer_tier.score(5e-324, '{0,5e-324,1e-323}') AS denormal,
       customer_tier.score(-0.0, '{0}') AS minus_zero;
-- Many breakpoints: 100,000 cut points make 100,001 scores.
SELECT customer_tier.score(99999.5, array(SELECT g::float8 FROM generate_series(1, 100000) AS g)) AS score;
-- NULL arguments: the function is strict.
SELECT customer_tier.score(NULL, '{1,2}') IS NULL AS null_value, customer_tier.score(1, NULL) IS NULL AS null_cuts,
       customer_tier.score(1, '{1,2}', NULL) IS NULL AS null_direction;
-- Errors: empty, two- and three-dimensional arrays, NULL and non-finite elements, wrong order, NaN.
CALL pg_temp.expect_errors('SELECT customer_tier.score(1, %L)',
    '{}', '{{1,2},{3,4}}', '{{{1}}}', '{NULL}', '[3:5]={1,NULL,3}',
    '{1,NaN}', '{-Infinity,1}', '{1,Infinity}', '{1e308,-1e308}');
SELECT customer_tier.score('NaN', '{1,2}');
\echo :LAST_ERROR_SQLSTATE

--
-- breakpoints(value, n) and its support functions
--
-- The number of quantiles at and beyond its limits.
SELECT customer_tier.breakpoints(x, 1000) IS NOT NULL AS n_1000 FROM generate_series(1, 3) AS x;
CALL pg_temp.expect_errors('SELECT customer_tier.breakpoints(x, %s) FROM generate_series(1, 3) AS x',
    '1001', '1', '0', '-5', '2147483647', '-2147483648');
-- n is checked even when the value is NULL, and must not change between rows.
CALL pg_temp.expect_errors('%s',
    'SELECT customer_tier.breakpoints(NULL, 0) FROM generate_series(1, 3)',
    'SELECT customer_tier.breakpoints(x, 2 + x % 2) FROM generate_series(1, 3) AS x',
    'SELECT customer_tier.breakpoints(x, CASE WHEN x = 3 THEN NULL ELSE 5 END) FROM generate_series(1, 3) AS x');
-- Non-finite population values are errors; the extremes of double precision are not.
CALL pg_temp.expect_errors('SELECT customer_tier.breakpoints(x, 2) FROM unnest(%L::float8[]) AS x',
    '{1,NaN}', '{1,Infinity}', '{-Infinity,1}');
SELECT customer_tier.breakpoints(x, 4),
       customer_tier.breakpoints(x, 4) = percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY x) AS same_as_percentile_cont
  FROM unnest('{1.7976931348623157e308,-1.7976931348623157e308,5e-324,-0.0}'::float8[]) AS x;

-- breakpoints_accum: the state {n, values...} it is given must be one it could have made.
-- A lower bound other than 1 is harmless: the result starts at 1.
SELECT customer_tier.breakpoints_accum('[3:5]={5,1,2}', 3, 5) AS state;
CALL pg_temp.expect_errors('SELECT customer_tier.breakpoints_accum(%L, 3, 5)',
    '{}', '{{5,1},{2,3}}', '{NULL,1}', '{5,NULL}', '{NaN,1}', '{Infinity,1}',
    '{1e308,1}', '{-5,1}', '{5.000001,1}', '{4,1}');
CALL pg_temp.expect_errors('SELECT customer_tier.breakpoints_accum(''{5,1}'', %s)', '''NaN'', 5', '3, NULL');
-- A NULL value leaves the state as it is; with a NULL n too, nothing is checked.
SELECT customer_tier.breakpoints_accum('{5,1}', NULL, 5) AS state,
       customer_tier.breakpoints_accum(NULL, NULL, NULL) IS NULL AS all_null;
-- The transition function checks n only (it runs for every row); values that
-- are not finite in a hand-made state are caught by the combine and final functions.
SELECT customer_tier.breakpoints_accum('{5,NaN}', 3, 5) AS state;
SELECT customer_tier.breakpoints_final(customer_tier.breakpoints_accum('{5,NaN}', 3, 5));
\echo :LAST_ERROR_SQLSTATE
-- A read/write expanded array (array_append returns one) is appended to in
-- place; a corrupt one is still caught, here by n or by the final function.
SELECT customer_tier.breakpoints_final(customer_tier.breakpoints_accum(array_append('{2,1}'::float8[], 3), 5, 2)) AS median;
CALL pg_temp.expect_errors('%s',
    $$SELECT customer_tier.breakpoints_accum(array_append('{4,1}'::float8[], 3), 5, 2)$$,
    $$SELECT customer_tier.breakpoints_accum(array_append(NULL::float8[], 0.5), 5, 2)$$,
    $$SELECT customer_tier.breakpoints_final(customer_tier.breakpoints_accum(array_append('{2,1}'::float8[], NULL), 5, 2))$$,
    $$SELECT customer_tier.breakpoints_final(customer_tier.breakpoints_combine(array_append('{2,1}'::float8[], 'Infinity'), '{2,3}'))$$);

-- breakpoints_combine: both states are checked, n must agree.
SELECT customer_tier.breakpoints_combine('[0:1]={5,1}', '[7:8]={5,2}') AS state;
SELECT customer_tier.breakpoints_combine('{5}', '{5}') AS state;
SELECT customer_tier.breakpoints_combine(NULL, NULL) IS NULL AS both_null;
CALL pg_temp.expect_errors('SELECT customer_tier.breakpoints_combine(%s)',
    $$'{5,1}', '{4,2}'$$, $$'{5,1}', '{}'$$, $$'{}', '{5,1}'$$, $$'{5,NaN}', '{5,1}'$$,
    $$'{5,1}', '{5,-Infinity}'$$, $$'{{5,1}}', '{5,1}'$$, $$'{5,1}', '{5,NULL}'$$, $$'{0,1}', '{0,1}'$$);
-- A corrupt second state is caught even when the first is NULL or large.
CALL pg_temp.expect_errors('SELECT customer_tier.breakpoints_combine(%s)',
    $$NULL, '{1001,1}'$$,
    $$customer_tier.breakpoints_combine('{5}', array_prepend(5, array(SELECT g::float8 FROM generate_series(1, 300) AS g))), '{4,1}'$$);
-- Large states (expanded in memory beyond 256 values) combine to the right answer.
SELECT customer_tier.breakpoints_final(customer_tier.breakpoints_combine(
           customer_tier.breakpoints_combine(
               array_prepend(4, array(SELECT g::float8 FROM generate_series(1, 300) AS g)),
               array_prepend(4, array(SELECT g::float8 FROM generate_series(301, 700) AS g))),
           array_prepend(4, array(SELECT g::float8 FROM generate_series(701, 1001) AS g)))) AS quartiles_of_1_to_1001;

-- breakpoints_final: n - 1 cut points from any valid state, errors for the rest.
SELECT customer_tier.breakpoints_final('[10:12]={3,1,2}') AS tertiles;
SELECT customer_tier.breakpoints_final('{1000,7}') = array_fill(7::float8, ARRAY[999]) AS n_1000_of_one_value;
SELECT customer_tier.breakpoints_final('{2,1.7976931348623157e308,-1.7976931348623157e308}') AS median_of_extremes;
SELECT customer_tier.breakpoints_final(array_prepend(4, array(SELECT (g * 7919 % 100003)::float8 FROM generate_series(1, 100003) AS g))) AS quartiles;
SELECT customer_tier.breakpoints_final('{5}') IS NULL AS no_values;
CALL pg_temp.expect_errors('SELECT customer_tier.breakpoints_final(%L)',
    '{}', '{{5,1}}', '{NULL}', '{NaN,1}', '{-Infinity,1}', '{1001,1}', '{-2,1}', '{2,1,Infinity}');

--
-- rfm_segment(r, f, m) and value_score(r, f, m, weights)
--
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'rfm_segment(-2147483648, 3, 3)', 'rfm_segment(3, 2147483647, 3)', 'rfm_segment(3, 3, 0)',
    'value_score(3, 3, -2147483648)');
-- Weights: the lower bound does not matter; huge and tiny weights are relative.
SELECT customer_tier.value_score(5, 1, 1, '[0:2]={1,0,0}') AS r_only,
       customer_tier.value_score(5, 1, 3, '{1e308,1e308,1e308}') AS huge_equal,
       customer_tier.value_score(5, 1, 3, '{5e-324,5e-324,5e-324}') AS tiny_equal,
       customer_tier.value_score(5, 1, 3, '{1e308,5e-324,0}') AS r_dominates;
CALL pg_temp.expect_errors('SELECT customer_tier.value_score(3, 3, 3, %L)',
    '{}', '{1,1}', '{1,1,1,1}', '{{1,1,1}}', '{1,NULL,1}', '{1,NaN,1}', '{1,1,Infinity}',
    '{-1e-300,1,1}', '{0,-0.0,0}');

--
-- abc_class(revenue, a_cutoff, b_cutoff) OVER (...) and abc_class_of(share, ...)
--
-- Extreme but finite revenue classifies; the total must stay finite.
SELECT r, customer_tier.abc_class(r) OVER (ORDER BY r DESC)
  FROM unnest('{1e300,1e300,5e-324,0,-1.7976931348623157e308}'::float8[]) AS r ORDER BY r DESC;
CALL pg_temp.expect_errors('SELECT customer_tier.abc_class(r) OVER (ORDER BY r DESC) FROM unnest(%L::float8[]) AS r',
    '{1.7976931348623157e308,1.7976931348623157e308}', '{1,NaN}', '{Infinity,1}', '{1,-Infinity}');
-- Cut-offs: NaN, infinite, out of order, NULL, or changing between rows.
CALL pg_temp.expect_errors('SELECT customer_tier.abc_class(r, %s) OVER (ORDER BY r DESC) FROM unnest(''{2,1}''::float8[]) AS r',
    '''NaN'', 95', '80, ''Infinity''', '0, 100', '80, NULL', '80 - r, 95');
-- Tiny cut-offs are valid: only the top customer is A.
SELECT r, customer_tier.abc_class(r, 5e-324, 1e-300) OVER (ORDER BY r DESC) FROM unnest('{3,2,1}'::float8[]) AS r ORDER BY r DESC;
-- Without the window ordered by revenue, highest first, it refuses.
SELECT customer_tier.abc_class(r) OVER () FROM unnest('{1,2}'::float8[]) AS r;
\echo :LAST_ERROR_SQLSTATE
-- Re-evaluated for each outer row (a rescanned window): each run starts afresh.
SELECT g, (SELECT string_agg(c, '' ORDER BY r DESC)
             FROM (SELECT r, customer_tier.abc_class(r) OVER (ORDER BY r DESC) AS c
                     FROM unnest(ARRAY[g, 10, 1]::float8[]) AS r) AS s) AS classes
  FROM generate_series(1, 100, 33) AS g;
-- abc_class_of: the share must be a percentage, the cut-offs valid.
SELECT customer_tier.abc_class_of(0) AS zero, customer_tier.abc_class_of(-0.0) AS minus_zero,
       customer_tier.abc_class_of(100) AS hundred, customer_tier.abc_class_of(5e-324, 5e-324, 100) AS at_tiny_cutoff;
CALL pg_temp.expect_errors('SELECT customer_tier.abc_class_of(%s)',
    '''NaN''', '''Infinity''', '-5e-324', '100.00000000000001', '50, ''NaN'', 95', '50, 80, 1e308');

--
-- nps(score), csat(score) and their support functions
--
CALL pg_temp.expect_errors('%s',
    $$SELECT customer_tier.nps(s) FROM unnest('{-2147483648}'::int[]) AS s$$,
    $$SELECT customer_tier.csat(s) FROM unnest('{2147483647}'::int[]) AS s$$);
-- States with another lower bound are read by position.
SELECT customer_tier.nps_final('[0:10]={1,0,0,0,0,0,0,0,0,0,1}') AS nps, customer_tier.csat_final('[-4:0]={0,0,0,1,1}') AS csat;
SELECT customer_tier.nps_accum('[5:15]={0,0,0,0,0,0,0,0,0,0,0}', 10) AS state;
-- Counts near the end of bigint still give exact percentages.
SELECT customer_tier.nps_final('{0,0,0,0,0,0,0,0,0,4611686018427387903,4611686018427387904}') AS all_promoters,
       customer_tier.csat_final('{4611686018427387904,0,0,0,4611686018427387903}') AS half;
-- Wrong shapes and NULL counters, for every support function.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_accum('{}', 5)$$,
    $$nps_accum('{0,0,0,0,0,0,0,0,0,0}', 5)$$,
    $$nps_accum('{0,0,0,0,0,0,0,0,0,0,0,0}', 5)$$,
    $$nps_accum('{{0,0,0,0,0,0,0,0,0,0,0}}', 5)$$,
    $$nps_accum('{0,0,0,0,0,NULL,0,0,0,0,0}', 5)$$,
    $$nps_retract('{0,0,0,0,0,0,0,0,0,0}', 5)$$,
    $$csat_accum('{{0,0,0,0,0},{0,0,0,0,0}}', 5)$$,
    $$csat_retract('{0,0,0,0,NULL}', 5)$$,
    $$csat_combine('{0,0,0,0,0}', '{0,0,0,0,0,0,0,0,0,0,0}')$$,
    $$nps_combine('{0,0,0,0,0,0,0,0,0,0,0}', '{0,0,0,0,0,0,0,0,0,0,NULL}')$$,
    $$nps_final('{}')$$,
    $$csat_final('{0,0,0,0,0,0,0,0,0,0,0}')$$);
-- Answers off the scale, for the transition and inverse transition functions.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_accum('{0,0,0,0,0,0,0,0,0,0,0}', 11)$$,
    $$nps_retract('{1,0,0,0,0,0,0,0,0,0,0}', -1)$$,
    $$csat_accum('{0,0,0,0,0}', 0)$$,
    $$csat_retract('{0,0,0,0,1}', 6)$$);
-- Taking back an answer the state does not hold.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_retract('{0,0,0,0,0,0,0,0,0,0,0}', 0)$$,
    $$csat_retract('{1,1,1,1,0}', 5)$$);
-- Negative counters: a corrupt state, whichever function receives it.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_final('{0,0,0,0,0,0,0,0,0,-1,2}')$$,
    $$csat_combine('{0,0,0,0,0}', '{0,-9223372036854775808,0,0,0}')$$);
-- The transition and inverse transition functions check every counter: counting
-- answer 0 into {-1, ..} must not make a state that looks valid (it used to give NPS 100).
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_accum('{-1,0,0,0,0,0,0,0,0,0,1}', 0)$$,
    $$nps_final(customer_tier.nps_accum('{-1,0,0,0,0,0,0,0,0,0,1}', 0))$$,
    $$csat_accum('{0,0,-1,0,0}', 5)$$,
    $$nps_retract('{0,0,0,0,0,0,0,0,0,0,-9223372036854775808}', 9)$$,
    $$csat_retract('{-5,0,0,0,1}', 5)$$);
-- Counters that would overflow bigint.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_combine('{0,0,0,0,0,0,0,0,0,0,9223372036854775807}', '{0,0,0,0,0,0,0,0,0,0,1}')$$,
    $$nps_final('{0,0,0,0,0,0,0,0,9223372036854775807,0,1}')$$,
    $$csat_final('{9223372036854775807,9223372036854775807,0,0,0}')$$);
-- Counting one more answer in a counter at the end of bigint (it used to wrap to negative).
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_accum('{9223372036854775807,0,0,0,0,0,0,0,0,0,0}', 0)$$,
    $$csat_accum('{0,0,0,0,9223372036854775807}', 5)$$);
SELECT customer_tier.csat_accum('{0,0,0,0,9223372036854775806}', 5) AS state;

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
-- RFM segment names and the weighted value score from R, F, M scores on 1..5.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql

-- The grid, by R (rows, 5 = most recent) and FM = ceil((F + M) / 2) (columns).
SELECT r,
       customer_tier.rfm_segment(r, 1, 1) AS "FM=1",
       customer_tier.rfm_segment(r, 2, 2) AS "FM=2",
       customer_tier.rfm_segment(r, 3, 3) AS "FM=3",
       customer_tier.rfm_segment(r, 4, 4) AS "FM=4",
       customer_tier.rfm_segment(r, 5, 5) AS "FM=5"
  FROM generate_series(5, 1, -1) AS r;
-- FM rounds up: F = 1, M = 2 is FM = 2; F = 4, M = 5 is FM = 5; F and M are symmetric.
SELECT customer_tier.rfm_segment(5, 1, 2) AS "5,1,2", customer_tier.rfm_segment(5, 2, 1) AS "5,2,1",
       customer_tier.rfm_segment(4, 4, 5) AS "4,4,5", customer_tier.rfm_segment(3, 1, 5) AS "3,1,5",
       customer_tier.rfm_segment(1, 5, 4) AS "1,5,4";

-- The 11 segments, best first, for BI tools to join to.
SELECT * FROM customer_tier.rfm_segments();

-- Every one of the 125 (r, f, m) combinations maps to one of the 11 names,
-- and every name is used.
SELECT s.rank, s.segment, count(c.r) AS combinations
  FROM customer_tier.rfm_segments() AS s
  FULL JOIN (SELECT r, f, m, customer_tier.rfm_segment(r, f, m) AS segment
               FROM generate_series(1, 5) AS r, generate_series(1, 5) AS f,
                    generate_series(1, 5) AS m) AS c USING (segment)
 GROUP BY s.rank, s.segment ORDER BY s.rank;

-- NULL scores give NULL.
SELECT customer_tier.rfm_segment(NULL, 1, 1) IS NULL AS null_r;

-- Scores outside 1..5: the message names the score.
CALL pg_temp.expect_errors('SELECT customer_tier.rfm_segment(%s)', '0, 3, 3', '3, 6, 3', '3, 3, -1');

-- value_score: weighted mean of (score - 1) / 4 * 100.
SELECT customer_tier.value_score(5, 5, 5) AS best, customer_tier.value_score(1, 1, 1) AS worst,
       customer_tier.value_score(3, 3, 3) AS middle, customer_tier.value_score(5, 1, 3) AS mixed,
       customer_tier.value_score(2, 1, 1) AS one_step;
-- Weights {R, F, M} are relative: {2,1,1} counts recency double; {2,2,2} = {1,1,1};
-- a zero weight leaves a score out.
SELECT customer_tier.value_score(5, 1, 1, '{2,1,1}') AS r_double,
       customer_tier.value_score(5, 1, 3, '{2,2,2}') AS same_as_equal,
       customer_tier.value_score(5, 1, 3, '{0,0,1}') AS m_only,
       customer_tier.value_score(4, 2, 5, '{1e300,1e300,0}') AS huge_weights,
       customer_tier.value_score(4, 2, 5, '{5e-324,0,0}') AS tiny_weight;
-- NULL scores or weights give NULL.
SELECT customer_tier.value_score(NULL, 1, 1) IS NULL AS null_score,
       customer_tier.value_score(1, 1, 1, NULL) IS NULL AS null_weights;

-- Bad scores and weights.
CALL pg_temp.expect_errors('SELECT customer_tier.value_score(%s)',
    '6, 1, 1', '1, 0, 1', $$1, 1, 1, '{1,1}'$$, $$1, 1, 1, '{1,1,1,1}'$$, $$1, 1, 1, '{{1,1,1}}'$$,
    $$1, 1, 1, '{}'$$, $$1, 1, 1, '{1,NULL,1}'$$, $$1, 1, 1, '{1,-0.5,1}'$$, $$1, 1, 1, '{NaN,1,1}'$$,
    $$1, 1, 1, '{1,1,Infinity}'$$, $$1, 1, 1, '{0,0,0}'$$);

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

-- Satisfaction aggregates: NPS from 0..10 answers, CSAT from 1..5 answers.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql

-- NPS: 3 promoters (9, 10), 2 passives (7, 8), 5 detractors (0..6) of 10 answers:
-- 30% - 50% = -20.  NULL answers are skipped.
SELECT customer_tier.nps(s) FROM unnest('{10, 9, 9, 8, 7, 6, 5, 3, 1, 0, NULL}'::int[]) AS s;
-- All promoters, all detractors, all passives.
SELECT (SELECT customer_tier.nps(s) FROM unnest('{9, 10}'::int[]) AS s) AS all_promoters,
       (SELECT customer_tier.nps(s) FROM unnest('{0, 6}'::int[]) AS s) AS all_detractors,
       (SELECT customer_tier.nps(s) FROM unnest('{7, 8}'::int[]) AS s) AS all_passives;
-- One promoter, one detractor, one passive: 0.  Two promoters, one detractor: 100/3.
SELECT (SELECT customer_tier.nps(s) FROM unnest('{10, 0, 7}'::int[]) AS s) AS balanced,
       (SELECT customer_tier.nps(s) FROM unnest('{10, 10, 0}'::int[]) AS s) AS one_third;
-- No answers (no rows, or only NULLs): NULL, not 0.
SELECT customer_tier.nps(s) IS NULL AS no_rows FROM unnest('{}'::int[]) AS s;
SELECT customer_tier.nps(s) IS NULL AS only_nulls FROM unnest('{NULL, NULL}'::int[]) AS s;

-- CSAT: % of answers that are 4 or 5.
SELECT customer_tier.csat(s) FROM unnest('{5, 4, 3, 2, 1, 4, NULL}'::int[]) AS s;
SELECT (SELECT customer_tier.csat(s) FROM unnest('{4, 5}'::int[]) AS s) AS all_satisfied,
       (SELECT customer_tier.csat(s) FROM unnest('{1, 2, 3}'::int[]) AS s) AS none_satisfied,
       (SELECT customer_tier.csat(s) FROM unnest('{NULL}'::int[]) AS s) AS no_answers;

-- By group, as BI tools use them, and agreeing with plain SQL.
CREATE TEMP TABLE feedback AS
SELECT i % 3 AS tier, (i * 7) % 11 AS nps_answer, 1 + (i * 3) % 5 AS csat_answer
  FROM generate_series(1, 1000) AS i;
SELECT tier, customer_tier.nps(nps_answer), customer_tier.csat(csat_answer),
       round(100.0 * (count(*) FILTER (WHERE nps_answer >= 9) - count(*) FILTER (WHERE nps_answer <= 6))
             / count(*), 10) AS nps_by_hand,
       round(100.0 * count(*) FILTER (WHERE csat_answer >= 4) / count(*), 10) AS csat_by_hand
  FROM feedback GROUP BY tier ORDER BY tier;

-- Moving windows take answers back (inverse transition) and agree with recounting.
SELECT i, a, rolling_nps, (SELECT customer_tier.nps(b) FROM unnest(last3) AS b) AS recount_nps,
       rolling_csat, (SELECT customer_tier.csat(1 + b / 3) FROM unnest(last3) AS b) AS recount_csat
  FROM (SELECT i, a, customer_tier.nps(a) OVER w AS rolling_nps,
               customer_tier.csat(1 + a / 3) OVER w AS rolling_csat, array_agg(a) OVER w AS last3
          FROM unnest('{10, 0, NULL, 9, 7, 3, 10, 10}'::int[]) WITH ORDINALITY AS t(a, i)
        WINDOW w AS (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)) AS s
 ORDER BY i;

-- Answers off the scale: the message names the scale.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps(s) FROM unnest('{10, 11}'::int[]) AS s$$, 'nps(-1)', 'csat(0)', 'csat(6)');

-- The state is a bigint[] histogram, one counter per answer (NPS 0..10, CSAT 1..5).
-- Its functions can be called by hand; they check the state they are given.
SELECT customer_tier.nps_accum('{0,0,0,0,0,0,0,0,0,0,0}', 9);
SELECT customer_tier.nps_combine('{1,0,0,0,0,0,0,0,0,0,2}', '{0,0,0,0,0,0,0,0,0,3,4}');
SELECT customer_tier.nps_final('{1,0,0,0,0,0,0,0,0,3,6}');
SELECT customer_tier.nps_final('{0,0,0,0,0,0,0,0,0,0,0}') IS NULL AS no_answers;
SELECT customer_tier.csat_accum('{0,0,0,0,0}', 4);
SELECT customer_tier.csat_combine('{1,1,1,1,1}', '{0,0,0,0,5}');
SELECT customer_tier.csat_final('{1,1,1,1,1}');
SELECT customer_tier.nps_retract('{0,0,0,0,0,0,0,0,0,1,0}', 9);
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$nps_retract('{0,0,0,0,0,0,0,0,0,1,0}', 10)$$, $$csat_retract('{0,0,0,0,1}', 6)$$,
    $$nps_final('{1,2}')$$, $$csat_final('{1,2}')$$, $$csat_final('{}')$$, $$csat_final('{{1,1,1,1,1}}')$$,
    $$csat_final('{1,1,NULL,1,1}')$$, $$csat_final('{1,1,-1,1,1}')$$, $$csat_accum('{0,0,0}', 4)$$,
    $$nps_combine('{0,0,0,0,0,0,0,0,0,0,0}', '{0,0,0,0,0}')$$,
    $$csat_combine('{0,0,0,0,9223372036854775807}', '{0,0,0,0,1}')$$,
    $$csat_final('{0,0,0,9223372036854775807,1}')$$);

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

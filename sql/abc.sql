-- ABC / Pareto classification by cumulative share of revenue.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql

CREATE TEMP TABLE sales (customer text, region text, revenue double precision);
INSERT INTO sales VALUES
    ('c01', 'north', 400), ('c02', 'north', 250), ('c03', 'north', 150),
    ('c04', 'north', 100), ('c05', 'north', 50),  ('c06', 'north', 30),
    ('c07', 'north', 20),  ('c08', 'south', 500), ('c09', 'south', 300),
    ('c10', 'south', 300), ('c11', 'south', 100), ('c12', 'south', 0),
    ('c13', 'south', -40), ('c14', 'south', NULL);

-- North alone: total 1000.  Revenue before each customer: 0, 400 (40%), 650 (65%),
-- 800 (80%: not below 80, so B), 900 (90%), 950 (95%: C), 980.  c03 crosses 80% and is A.
SELECT customer, revenue, customer_tier.abc_class(revenue) OVER (ORDER BY revenue DESC)
  FROM sales WHERE region = 'north' ORDER BY revenue DESC;

-- PARTITION BY region: each region has its own total.  South: positive total 1200;
-- the tied c09 and c10 both start at 500 (41.7%), whatever order the sort put them in;
-- c11 starts at 1100 (91.7%): B.  Zero and negative revenue: C, not in the total.
-- NULL revenue: NULL (it sorts first with DESC and is skipped).
SELECT region, customer, revenue,
       customer_tier.abc_class(revenue) OVER (PARTITION BY region ORDER BY revenue DESC)
  FROM sales ORDER BY region, revenue DESC NULLS FIRST, customer;

-- Ties at a boundary: all three start at 0% of 150 and are A, even though the
-- third one's row-by-row share would be 66.7%.
SELECT v, customer_tier.abc_class(v, 50, 60) OVER (ORDER BY v DESC)
  FROM unnest('{50, 50, 50}'::float8[]) AS v;

-- Other cut-offs, positionally or by name; b_cutoff = 100 leaves no positive customer C.
SELECT customer, revenue,
       customer_tier.abc_class(revenue, 50, 90) OVER w AS "50/90",
       customer_tier.abc_class(revenue, b_cutoff => 99) OVER w AS "80/99",
       customer_tier.abc_class(revenue, 70, 100) OVER w AS "70/100"
  FROM sales WHERE region = 'north'
WINDOW w AS (ORDER BY revenue DESC) ORDER BY revenue DESC;

-- One customer: A.  All zero: all C.  All NULL: all NULL.  Negative only: C.
SELECT customer_tier.abc_class(v) OVER (ORDER BY v DESC) AS single FROM unnest('{7}'::float8[]) AS v;
SELECT v, customer_tier.abc_class(v) OVER (ORDER BY v DESC) AS all_zero FROM unnest('{0, 0}'::float8[]) AS v;
SELECT v, customer_tier.abc_class(v) OVER (ORDER BY v DESC) AS all_null FROM unnest('{NULL, NULL}'::float8[]) AS v;
SELECT v, customer_tier.abc_class(v) OVER (ORDER BY v DESC) AS negative FROM unnest('{-1, -2}'::float8[]) AS v;
-- An empty table: no rows.
SELECT customer_tier.abc_class(revenue) OVER (ORDER BY revenue DESC) FROM sales WHERE false;

-- The Pareto summary a BI tool would show.
SELECT class, count(*) AS customers, sum(revenue) AS revenue
  FROM (SELECT revenue, customer_tier.abc_class(revenue) OVER (PARTITION BY region ORDER BY revenue DESC) AS class
          FROM sales) AS s
 GROUP BY class ORDER BY class;

-- abc_class_of: the same rule for a share the user computed (in percent, 0..100).
SELECT share, customer_tier.abc_class_of(share) AS default_cutoffs,
       customer_tier.abc_class_of(share, 50, 90) AS "50/90"
  FROM unnest('{0, 49.9, 50, 79.999, 80, 89.9, 90, 94.99, 95, 100}'::float8[]) AS share;
SELECT customer_tier.abc_class_of(NULL) IS NULL AS null_share;
-- It agrees with abc_class when the share before excludes tied customers (EXCLUDE GROUP).
SELECT count(*) AS customers,
       count(*) FILTER (WHERE window_class = scalar_class) AS agree
  FROM (SELECT customer_tier.abc_class(revenue) OVER (PARTITION BY region ORDER BY revenue DESC) AS window_class,
               customer_tier.abc_class_of(100 * coalesce(sum(revenue) OVER (PARTITION BY region ORDER BY revenue DESC
                                     RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP), 0)
                                   / sum(revenue) OVER (PARTITION BY region)) AS scalar_class
          FROM sales WHERE revenue > 0) AS s;

-- Missing or wrong ORDER BY: revenue rising along the partition is refused.
CALL pg_temp.expect_errors('%s',
    $$SELECT customer, customer_tier.abc_class(revenue) OVER (ORDER BY revenue) FROM sales WHERE region = 'north'$$,
    $$SELECT customer, customer_tier.abc_class(revenue) OVER (ORDER BY customer DESC) FROM sales WHERE region = 'north'$$,
    $$SELECT customer_tier.abc_class(v) OVER () FROM (SELECT v FROM unnest('{1, 2}'::float8[]) AS v) AS s$$);
-- Non-finite revenue.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$abc_class(v) OVER (ORDER BY v DESC) FROM unnest('{1, NaN}'::float8[]) AS v$$,
    $$abc_class(v) OVER (ORDER BY v DESC) FROM unnest('{1, Infinity}'::float8[]) AS v$$,
    $$abc_class(v) OVER (ORDER BY v DESC) FROM unnest('{1.7e308, 1.7e308}'::float8[]) AS v$$);
-- Bad cut-offs.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'abc_class(revenue, 95, 80) OVER (ORDER BY revenue DESC) FROM sales',
    'abc_class(revenue, 80, 80) OVER (ORDER BY revenue DESC) FROM sales',
    'abc_class(revenue, 0, 80) OVER (ORDER BY revenue DESC) FROM sales',
    'abc_class(revenue, 80, 101) OVER (ORDER BY revenue DESC) FROM sales',
    $$abc_class(revenue, 'NaN', 95) OVER (ORDER BY revenue DESC) FROM sales$$,
    'abc_class(revenue, NULL) OVER (ORDER BY revenue DESC) FROM sales');
SELECT customer_tier.abc_class(revenue, CASE WHEN revenue > 100 THEN 80 ELSE 70 END)
       OVER (ORDER BY revenue DESC) FROM sales WHERE region = 'north';
\echo :LAST_ERROR_SQLSTATE
CALL pg_temp.expect_errors('SELECT customer_tier.abc_class_of(%s)', '50, 80, 80', '-1', '100.5', $$'NaN'$$);

-- abc_thresholds: the least revenue of class A and of class B by the same
-- rule, so that a class is a comparison.  North: A down to 150 (c03 crosses
-- 80%), B down to 50; south (ties at 300, zero, negative and NULL): A down
-- to 300, B 100.  Other cut-offs too; with b_cutoff = 100 no one is C.
SELECT region, customer_tier.abc_thresholds(revenue, 80, 95) AS "80/95",
       customer_tier.abc_thresholds(revenue, 50, 90) AS "50/90",
       customer_tier.abc_thresholds(revenue, 70, 100) AS "70/100"
  FROM sales GROUP BY region ORDER BY region;
-- The class it implies equals abc_class's for every customer and cut-offs.
SELECT count(*) AS customers,
       count(*) FILTER (WHERE window_class IS NOT DISTINCT FROM
                               CASE WHEN revenue >= t[1] THEN 'A' WHEN revenue >= t[2] THEN 'B'
                                    WHEN revenue IS NOT NULL THEN 'C' END) AS agree
  FROM (SELECT s.revenue, c.a, c.b,
               customer_tier.abc_class(s.revenue, c.a, c.b) OVER (PARTITION BY s.region, c.a, c.b ORDER BY s.revenue DESC) AS window_class,
               customer_tier.abc_thresholds(s.revenue, c.a, c.b) OVER (PARTITION BY s.region, c.a, c.b) AS t
          FROM sales AS s, (VALUES (80, 95), (50, 90), (70, 100), (40, 41)) AS c (a, b)) AS x;
-- No positive revenue: NULL.  One customer: A, no B.  Ties across the boundary share A.
SELECT customer_tier.abc_thresholds(v, 80, 95) AS no_positive FROM unnest('{0, -1, NULL}'::float8[]) AS v;
SELECT customer_tier.abc_thresholds(v, 80, 95) AS single FROM unnest('{7}'::float8[]) AS v;
SELECT customer_tier.abc_thresholds(v, 50, 60) AS ties FROM unnest('{50, 50, 50, 1}'::float8[]) AS v;
-- Split over partial states (parallel query, Citus): the combine function
-- concatenates them, and the final function gives the same thresholds.
SELECT customer_tier.abc_thresholds_final(customer_tier.abc_thresholds_combine(
           customer_tier.abc_thresholds_accum(customer_tier.abc_thresholds_accum(NULL, 400, 80, 95), 100, 80, 95),
           customer_tier.abc_thresholds_accum(customer_tier.abc_thresholds_accum(NULL, 250, 80, 95), 150, 80, 95)))
       = customer_tier.abc_thresholds(v, 80, 95) AS combined
  FROM unnest('{400, 250, 150, 100}'::float8[]) AS v;
SELECT customer_tier.abc_thresholds_combine(NULL, '{80,95,5}') AS from_null,
       customer_tier.abc_thresholds_combine('{80,95,5}', NULL) AS with_null,
       customer_tier.abc_thresholds_accum('{80,95,5}', 0, 80, 95) AS zero_skipped;
-- Bad cut-offs, revenue and states.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    'abc_thresholds(revenue, 95, 80) FROM sales',
    'abc_thresholds(revenue, NULL, 95) FROM sales',
    $$abc_thresholds(v, 80, 95) FROM unnest('{1, NaN}'::float8[]) AS v$$,
    $$abc_thresholds(v, 80, 95) FROM unnest('{1.7e308, 1.7e308}'::float8[]) AS v$$,
    $$abc_thresholds(revenue, CASE WHEN revenue > 100 THEN 80 ELSE 70 END, 95) FROM sales$$,
    $$abc_thresholds_accum('{80}', 1, 80, 95)$$,
    $$abc_thresholds_accum('{80,95,NULL}', 1, 80, 95)$$,
    $$abc_thresholds_accum('{95,80,1}', 1, 80, 95)$$,
    $$abc_thresholds_combine('{80,95,1}', '{70,95,1}')$$,
    $$abc_thresholds_combine('{80,95,1}', '{80,95,Infinity}')$$,
    $$abc_thresholds_final('{80,95,-3}')$$,
    $$abc_thresholds_final('{}')$$);

DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

-- Demo part 20: the building blocks of SPEC section 1 in plain SQL over the sample shop.

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


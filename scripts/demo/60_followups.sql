-- Demo part 60: survey answers, the contact log, follow-ups due, and KPIs per tier and month.
SELECT setseed(0.6);

\echo
\echo '== The shop''s survey answers (shop.feedback) attached to program shop: rolled up per customer'
SELECT customer_tier.attach_feedback('shop', 'shop.feedback', 'customer_id', 'score', 'kind', 'answered_at')
       AS customers_with_answers;
SELECT s.tier, count(f.customer) AS customers_with_answers,
       round(avg(f.recent_score)::numeric, 1) AS avg_recent_score,
       round(avg(f.window_nps)::numeric, 1) AS avg_customer_nps_365d,
       round(avg(f.window_csat)::numeric, 1) AS avg_customer_csat_365d
  FROM ct_shop.segments AS s LEFT JOIN ct_shop.satisfaction AS f USING (customer)
 GROUP BY s.tier, s.tier_rank ORDER BY s.tier_rank;

\echo
\echo '== A new answer updates the customer''s satisfaction in the same transaction; a bad one is kept aside'
INSERT INTO shop.feedback (customer_id, answered_at, kind, score)
VALUES (7, now(), 'nps', 2), (7, now(), 'nps', 12);
SELECT customer, last_kind, last_score, window_nps, window_nps_answers, round(recent_score::numeric, 1) AS recent_score
  FROM ct_shop.satisfaction WHERE customer = 7;
SELECT operation, reason, row_image FROM ct_shop.feedback_rejects ORDER BY id;

\echo
\echo '== The CRM logs its contacts (channel, outcome, a private note the reader role cannot read)'
INSERT INTO ct_shop.contacts (customer, channel, contacted_at, outcome, note)
SELECT s.customer, (ARRAY['phone', 'email', 'visit', 'other'])[1 + (random() * 3)::int],
       now() - (random() * 200) * interval '1 day',
       (ARRAY['reached', 'no answer', 'left a message', 'order placed'])[1 + (random() * 3)::int],
       'sample note'
  FROM ct_shop.segments AS s
 WHERE random() < CASE s.tier WHEN 'diamond' THEN 0.8 WHEN 'gold' THEN 0.5 ELSE 0.2 END;
SELECT customer_tier.log_contact('shop', '42', 'phone', 'reached', 'asked about delivery times') AS contact_id;
SELECT channel, count(*) AS contacts FROM ct_shop.contacts GROUP BY channel ORDER BY channel;

\echo
\echo '== Contact cadence per tier (customer_tier.cadences; gold set to 45 days with set_cadence)'
SELECT customer_tier.set_cadence('shop', '{"gold": "45 days"}') AS tiers_set;
SELECT * FROM customer_tier.cadences('shop');

\echo
\echo '== Follow-ups due per tier and reason (view ct_shop.follow_ups_due)'
SELECT tier, reason, count(*) AS due, max(days_overdue) AS most_days_overdue
  FROM ct_shop.follow_ups_due
 GROUP BY tier, tier_rank, reason ORDER BY tier_rank, reason;

\echo
\echo '== The first ten to call: best tier first, then most churn flags, then highest value score, then longest overdue'
SELECT priority, customer, tier, reason, days_overdue, last_contact_at::date AS last_contact,
       last_channel, churn_flags, round(value_score::numeric, 1) AS value_score, monetary
  FROM ct_shop.follow_ups_due
 ORDER BY priority LIMIT 10;

\echo
\echo '== The feedback rollups equal a recomputation from shop.feedback (function verify_feedback; 0 = no drift)'
SELECT count(*) AS differences FROM customer_tier.verify_feedback('shop');

-- The program was created today, so its tier history starts today and every
-- past month would show no customers at its start.  To show what the KPI
-- table looks like once a program has been running, this demo backdates each
-- customer's first tier to the customer's first order (a demo shortcut: a
-- running program records its history as it goes).
UPDATE ct_shop.tier_history AS h SET changed_at = c.first_order
  FROM ct_shop.customers AS c
 WHERE h.customer = c.customer AND h.from_tier IS NULL;

\echo
\echo '== KPIs per tier and month (function ct_shop.kpis; rates as %; tiers as at each month''s start)'
SELECT to_char(period_start, 'YYYY-MM') AS month, tier, customers_at_start AS at_start,
       new_customers AS new, retained, churned,
       round(100 * retention_rate::numeric, 1) AS retention_pct,
       round(100 * repeat_purchase_rate::numeric, 1) AS repeat_pct,
       orders, revenue, round(nps::numeric, 1) AS nps, round(csat::numeric, 1) AS csat_pct,
       round(100 * response_rate::numeric, 1) AS response_pct
  FROM ct_shop.kpis('month', '2026-05-01', '2026-11-01');

\echo
\echo '== The same by quarter, satisfaction only (function ct_shop.satisfaction_by_tier)'
SELECT to_char(period_start, 'YYYY-"Q"Q') AS quarter, tier, customers, respondents,
       round(100 * response_rate::numeric, 1) AS response_pct, nps_answers,
       round(nps::numeric, 1) AS nps, csat_answers, round(csat::numeric, 1) AS csat_pct
  FROM ct_shop.satisfaction_by_tier('quarter', '2026-01-01', '2026-10-01');

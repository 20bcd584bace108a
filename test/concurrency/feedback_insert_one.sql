\set c random(1, 20)
INSERT INTO crm.survey (customer_id, kind, score, answered_at)
SELECT :c, k, CASE k WHEN 'nps' THEN (random() * 10)::int ELSE 1 + (random() * 4)::int END,
       now() - random() * interval '500 days'
  FROM (SELECT CASE WHEN random() < 0.5 THEN 'nps' ELSE 'csat' END AS k) AS x;

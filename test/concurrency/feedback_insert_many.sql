\set a random(1, 20)
\set b random(1, 20)
INSERT INTO crm.survey (customer_id, kind, score, answered_at)
VALUES (:a, 'nps', 10, now() - interval '10 days'),
       (:a, 'nps', 10, now() - interval '10 days'),
       (:b, 'csat', 4, now() - random() * interval '500 days'),
       (:b, 'nps', 3, now()),
       (CASE WHEN random() < 0.2 THEN NULL ELSE :a END, 'csat', 5, now()),
       (:b, 'nps', 11, now());

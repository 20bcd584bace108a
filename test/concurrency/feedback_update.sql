\set c random(1, 20)
\set d random(1, 20)
UPDATE crm.survey SET customer_id = :d, score = CASE kind WHEN 'nps' THEN 10 - score ELSE 6 - score END
 WHERE id = (SELECT id FROM crm.survey WHERE customer_id = :c ORDER BY random() LIMIT 1);

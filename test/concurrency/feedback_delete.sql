\set c random(1, 20)
DELETE FROM crm.survey
 WHERE id IN (SELECT id FROM crm.survey WHERE customer_id = :c ORDER BY random() LIMIT 2);

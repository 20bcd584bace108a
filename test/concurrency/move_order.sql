\set c random(1, 40)
\set d random(1, 40)
UPDATE crm.orders SET customer_id = :d
 WHERE order_id = (SELECT order_id FROM crm.orders WHERE customer_id = :c ORDER BY random() LIMIT 1);

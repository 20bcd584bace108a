\set c random(1, 40)
DELETE FROM crm.orders
 WHERE order_id = (SELECT order_id FROM crm.orders WHERE customer_id = :c ORDER BY random() LIMIT 1);

\set c random(1, 40)
UPDATE crm.orders
   SET amount = amount + 1,
       ordered_at = ordered_at - interval '1 day',
       status = CASE status WHEN 'paid' THEN 'refunded' ELSE 'paid' END
 WHERE order_id = (SELECT order_id FROM crm.orders WHERE customer_id = :c ORDER BY random() LIMIT 1);

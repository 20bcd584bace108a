\set c random(1, 40)
INSERT INTO crm.orders (customer_id, amount, ordered_at)
VALUES (:c, round((random() * 200 - 20)::numeric, 2), now() - random() * interval '400 days');

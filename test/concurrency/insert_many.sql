\set a random(1, 40)
\set b random(1, 40)
\set c random(1, 40)
INSERT INTO crm.orders (customer_id, amount, ordered_at, status)
VALUES (:a, round((random() * 100)::numeric, 2), now() - random() * interval '400 days', 'paid'),
       (:b, round((random() * 100)::numeric, 2), now() - random() * interval '400 days', 'cancelled'),
       (:c, round((random() * 100)::numeric, 2), now() - random() * interval '400 days', 'paid'),
       (:a, round((random() * 100)::numeric, 2), now() - random() * interval '400 days', 'paid'),
       (CASE WHEN random() < 0.1 THEN NULL ELSE :b END, 1.00, now(), 'paid');

-- Programs over tables of every supported key, amount and time type, side by
-- side in one database; each keeps the CRM's own key type.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
SET lc_monetary = 'C';
CREATE SCHEMA crm;
CREATE TABLE crm.retail (customer_id bigint, amount numeric(10,2), ordered_at timestamptz);
CREATE TABLE crm.b2b (account text, amount bigint, ordered_at date);
CREATE TABLE crm.app (user_id uuid, amount money, ordered_at timestamp);
CREATE TABLE crm.kiosk (card_no integer, amount double precision, ordered_at timestamptz);
CREATE TABLE crm.web (login varchar(20), amount integer, ordered_at date);
INSERT INTO crm.retail VALUES (1, 10.50, '2026-01-01'), (1, 20.25, '2026-02-01'), (2, 5, '2026-03-01');
INSERT INTO crm.b2b VALUES ('ACME', 1000, '2026-01-05'), ('ACME', 2500, '2026-03-05'), ('Initech', 700, '2026-02-10');
INSERT INTO crm.app VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 9.99, '2026-01-01 10:00'),
                           ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 0.01, '2026-01-02 10:00');
INSERT INTO crm.kiosk VALUES (42, 0.1, '2026-01-01'), (42, 0.2, '2026-01-02'), (7, 3.3, '2026-01-03');
INSERT INTO crm.web VALUES ('ann', 3, '2026-01-01'), ('bob', 4, '2026-01-02');
SELECT customer_tier.create_program('retail', 'crm.retail', 'customer_id', 'amount', 'ordered_at') AS retail,
       customer_tier.create_program('b2b', 'crm.b2b', 'account', 'amount', 'ordered_at') AS b2b,
       customer_tier.create_program('app', 'crm.app', 'user_id', 'amount', 'ordered_at') AS app,
       customer_tier.create_program('kiosk', 'crm.kiosk', 'card_no', 'amount', 'ordered_at') AS kiosk,
       customer_tier.create_program('web', 'crm.web', 'login', 'amount', 'ordered_at') AS web;
SELECT name, customer_type, amount_type, ordered_at_type FROM customer_tier.program ORDER BY name;
-- Each program's customers keep the key type of its table.
SELECT c.relnamespace::regnamespace AS program_schema, a.atttypid::regtype AS customer_type
  FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
 WHERE c.relname = 'customers' AND a.attname = 'customer' ORDER BY 1;
SELECT customer, orders, monetary, first_order, last_order FROM ct_b2b.customers ORDER BY customer;
SELECT customer, orders, monetary FROM ct_app.customers;
SELECT customer, orders, monetary FROM ct_kiosk.customers ORDER BY customer;

-- Writes to each table reach only its own program.
INSERT INTO crm.b2b VALUES ('Initech', 300, '2026-04-01');
INSERT INTO crm.kiosk VALUES (42, 0.3, '2026-01-04');
UPDATE crm.retail SET customer_id = 2 WHERE amount = 10.50;
DELETE FROM crm.web WHERE login = 'ann';
SELECT 'b2b' AS program, customer::text, orders, monetary FROM ct_b2b.customers
UNION ALL SELECT 'kiosk', customer::text, orders, monetary FROM ct_kiosk.customers
UNION ALL SELECT 'retail', customer::text, orders, monetary FROM ct_retail.customers
UNION ALL SELECT 'web', customer::text, orders, monetary FROM ct_web.customers
ORDER BY 1, 2;
SELECT p.name, count(v.*) AS differences
  FROM customer_tier.program AS p LEFT JOIN LATERAL customer_tier.verify_program(p.name) AS v ON true
 GROUP BY p.name ORDER BY p.name;

-- Dropping one program leaves the others working.
SELECT customer_tier.drop_program('kiosk');
INSERT INTO crm.kiosk VALUES (1, 1, '2026-05-01');
INSERT INTO crm.retail VALUES (3, 1, '2026-05-01');
SELECT name FROM customer_tier.program ORDER BY name;
SELECT count(*) AS retail_customers FROM ct_retail.customers;

SELECT customer_tier.drop_program(name) FROM customer_tier.program ORDER BY name;
DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

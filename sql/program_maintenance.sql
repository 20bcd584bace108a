-- A program keeps per-customer metrics current through INSERT, UPDATE, DELETE
-- and TRUNCATE on the CRM's orders table; after every step the maintained
-- state equals a recomputation from scratch (verify_program returns no rows).
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
CREATE SCHEMA crm;
CREATE TABLE crm.orders (
    order_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint,
    amount      numeric(12,2),
    ordered_at  timestamptz,
    status      text NOT NULL DEFAULT 'paid'
);
-- Rows already there are backfilled; unusable ones go to the rejects table.
INSERT INTO crm.orders (customer_id, amount, ordered_at, status) VALUES
    (1, 100.00, '2026-01-01', 'paid'), (1, 50.50, '2026-01-11', 'paid'),
    (2, 20.00, '2026-02-01', 'paid'), (2, 999.99, '2026-02-02', 'cancelled'),
    (3, 10.00, '2026-03-01', 'shipped'), (NULL, 5.00, '2026-03-01', 'paid'),
    (4, 'NaN', '2026-03-02', 'paid');
SELECT customer_tier.create_program('retail', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid,shipped}',
                                    order_id_column => 'order_id') AS customers;
SELECT customer, orders, monetary, first_order, last_order, mean_gap_days FROM ct_retail.customers ORDER BY 1;
SELECT operation, reason, order_id, row_image->>'customer_id' AS customer_id FROM ct_retail.rejects ORDER BY id;
SELECT * FROM customer_tier.verify_program('retail');

-- Single-row and multi-row inserts, including a new customer.
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (1, 25.25, '2026-01-21');
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES
    (2, 30.00, '2026-02-11'), (5, 70.00, '2026-04-01'), (5, 30.00, '2026-04-11');
SELECT customer, orders, monetary, mean_gap_days FROM ct_retail.customers ORDER BY 1;
SELECT * FROM customer_tier.verify_program('retail');

-- A refund (negative amount) lowers the monetary value but is not an order.
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (5, -30.00, '2026-04-12');
SELECT customer, orders, monetary FROM ct_retail.customers WHERE customer = 5;

-- Updates: an amount, a time, a status that stops counting, an order moved to another customer.
UPDATE crm.orders SET amount = 60.50 WHERE customer_id = 1 AND amount = 50.50;
UPDATE crm.orders SET ordered_at = '2026-01-31' WHERE customer_id = 1 AND amount = 25.25;
UPDATE crm.orders SET status = 'refunded' WHERE customer_id = 2 AND amount = 20.00;
UPDATE crm.orders SET customer_id = 3 WHERE customer_id = 5 AND amount = 70.00;
SELECT customer, orders, monetary, first_order, last_order FROM ct_retail.customers ORDER BY 1;
SELECT * FROM customer_tier.verify_program('retail');

-- An update that changes nothing the program reads leaves the metrics as they were.
UPDATE crm.orders SET status = 'shipped' WHERE status = 'paid' AND customer_id = 1;
SELECT * FROM customer_tier.verify_program('retail');

-- Deletes: one order, then every order of a customer (the customer disappears).
DELETE FROM crm.orders WHERE customer_id = 1 AND amount = 100.00;
DELETE FROM crm.orders WHERE customer_id = 5;
SELECT customer, orders, monetary FROM ct_retail.customers ORDER BY 1;
SELECT * FROM customer_tier.verify_program('retail');

-- The same order time twice for one customer: removing one keeps the other.
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (6, 1, '2026-05-01'), (6, 2, '2026-05-01');
DELETE FROM crm.orders WHERE customer_id = 6 AND amount = 1;
SELECT customer, orders, monetary FROM ct_retail.customers WHERE customer = 6;
SELECT * FROM customer_tier.verify_program('retail');

-- Unusable rows never block the CRM's write by default: kept in rejects.
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (7, NULL, '2026-05-01'), (7, 5, NULL), (7, 5, 'infinity');
SELECT operation, reason FROM ct_retail.rejects WHERE operation = 'INSERT' ORDER BY id;
-- With reject_mode 'error' they make the write fail, and nothing is kept.
UPDATE customer_tier.program SET reject_mode = 'error' WHERE name = 'retail';
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (8, 5, '2026-05-01'), (NULL, 5, '2026-05-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS customer_8 FROM ct_retail.customers WHERE customer = 8;
-- The SQLSTATE is the reason's: an infinite time 22008, a non-finite amount
-- 22023 (as order_stats would raise them).
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (8, 5, '-infinity');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (8, 'NaN', '2026-05-01');
\echo :LAST_ERROR_SQLSTATE
UPDATE customer_tier.program SET reject_mode = 'skip' WHERE name = 'retail';

-- TRUNCATE empties the program; new orders start it again.
TRUNCATE crm.orders;
SELECT count(*) AS customers FROM ct_retail.customers;
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (9, 9.99, '2026-06-01');
SELECT customer, orders, monetary FROM ct_retail.customers;
SELECT * FROM customer_tier.verify_program('retail');

-- A drifted state is reported by verify_program.
UPDATE ct_retail.customers SET monetary = 1, m_score = NULL WHERE customer = 9;
SELECT customer, problem FROM customer_tier.verify_program('retail');
SELECT * FROM customer_tier.verify_program('nope');
\echo :LAST_ERROR_SQLSTATE
-- rebuild_program recomputes from the orders and repairs it, and rescores the
-- customers it rewrote.
SELECT customer_tier.rebuild_program('retail') AS customers;
SELECT * FROM customer_tier.verify_program('retail');
SELECT customer, monetary, m_score, changed_by FROM ct_retail.customers;
SELECT customer_tier.rebuild_program('nope');
\echo :LAST_ERROR_SQLSTATE
-- A program with no customer left (its customers table emptied) is rebuilt
-- with each customer written once, scored in the same statement, and each
-- first tier recorded by the trigger tier_first (source rebuild_program).
INSERT INTO crm.orders (customer_id, amount, ordered_at)
SELECT 20 + i % 5, 10 * i, timestamptz '2026-05-01' + i * interval '1 day' FROM generate_series(1, 20) AS i;
TRUNCATE ct_retail.customers;
CREATE TABLE pg_temp.writes (operation text);
CREATE FUNCTION pg_temp.count_write() RETURNS trigger LANGUAGE plpgsql
    AS $$BEGIN INSERT INTO pg_temp.writes VALUES (TG_OP); RETURN NULL; END$$;
CREATE TRIGGER count_writes AFTER INSERT OR UPDATE ON ct_retail.customers
    FOR EACH ROW EXECUTE FUNCTION pg_temp.count_write();
SELECT customer_tier.rebuild_program('retail') AS customers;
SELECT operation, count(*) AS rows_written FROM pg_temp.writes GROUP BY 1;
DROP TRIGGER count_writes ON ct_retail.customers;
SELECT count(*) AS customers, count(tier) AS with_tier, count(*) FILTER (WHERE changed_by = 'rebuild_program') AS by_rebuild
  FROM ct_retail.customers;
SELECT h.source, count(*) AS first_tiers FROM ct_retail.tier_history AS h
  JOIN ct_retail.customers AS c ON c.customer = h.customer AND c.tier = h.to_tier AND h.from_tier IS NULL
 WHERE h.source = 'rebuild_program' GROUP BY 1;
SELECT * FROM customer_tier.verify_program('retail');
-- A drift of any one metric, the states being right, is found and repaired.
UPDATE ct_retail.customers SET orders = orders + 1 WHERE customer = 20;
UPDATE ct_retail.customers SET first_order = first_order - interval '1 day' WHERE customer = 21;
UPDATE ct_retail.customers SET last_order = NULL WHERE customer = 22;
UPDATE ct_retail.customers SET mean_gap_days = 'NaN' WHERE customer = 23;
UPDATE ct_retail.customers SET gap_stddev_days = gap_stddev_days + 1 WHERE customer = 24;
UPDATE ct_retail.customers SET monetary = monetary::numeric(20,4) WHERE customer = 9;  -- 1 = 1.0000: no drift
SELECT customer, problem FROM customer_tier.verify_program('retail') ORDER BY customer;
SELECT customer_tier.rebuild_program('retail') AS customers;
SELECT * FROM customer_tier.verify_program('retail');

-- drop_program removes the triggers and tables; the orders stay as they were.
SELECT customer_tier.drop_program('retail');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'crm.orders'::regclass;
SELECT count(*) AS orders FROM crm.orders;
INSERT INTO crm.orders (customer_id, amount, ordered_at) VALUES (10, 1, '2026-06-02');

DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

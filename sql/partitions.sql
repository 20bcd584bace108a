-- A program on a partitioned orders table stays exact whichever table a write
-- names, and while partitions are created, attached, detached, truncated or
-- dropped; drift is repaired, never an error for the CRM's write.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
CREATE SCHEMA pcrm;
CREATE TABLE pcrm.orders (id bigint, customer bigint, amount numeric(10,2), ordered_at date)
    PARTITION BY RANGE (ordered_at);
CREATE TABLE pcrm.orders_2025 PARTITION OF pcrm.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
-- a partition partitioned in turn
CREATE TABLE pcrm.orders_2026 PARTITION OF pcrm.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
    PARTITION BY RANGE (ordered_at);
CREATE TABLE pcrm.orders_2026h1 PARTITION OF pcrm.orders_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
CREATE TABLE pcrm.orders_2026h2 PARTITION OF pcrm.orders_2026 FOR VALUES FROM ('2026-07-01') TO ('2027-01-01');
CREATE INDEX ON pcrm.orders (customer);
INSERT INTO pcrm.orders
SELECT i, i % 7, 10 + i % 13, date '2025-01-01' + (i * 5) % 700 FROM generate_series(1, 300) AS i;
SELECT customer_tier.create_program('parts', 'pcrm.orders', 'customer', 'amount', 'ordered_at') AS customers;
-- a statement trigger on every table of the tree; the row trigger for replication on the
-- partitioned table (cloned to the partitions), fired only by a replication apply worker
SELECT t.tgrelid::regclass AS tbl, t.tgname, t.tgenabled, t.tgparentid <> 0 AS cloned
  FROM pg_trigger AS t
 WHERE t.tgfoid = 'customer_tier.maintain_orders()'::regprocedure
 ORDER BY t.tgrelid::regclass::text, t.tgname;

-- every program on this table is checked against a recomputation
CREATE FUNCTION pg_temp.exact() RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN count(*) = 0 THEN 'exact' ELSE count(*) || ' customers differ' END
      FROM customer_tier.verify_program('parts')$$;

-- writes through the partitioned table and straight to a partition
INSERT INTO pcrm.orders VALUES (1001, 1, 50, '2025-03-03');
INSERT INTO pcrm.orders_2025 VALUES (1002, 2, 60, '2025-04-04');
INSERT INTO pcrm.orders_2026h2 VALUES (1003, 99, 70, '2026-08-08');
SELECT pg_temp.exact() AS after_inserts, (SELECT orders FROM ct_parts.customers WHERE customer = 99) AS customer_99;
COPY pcrm.orders_2026h1 FROM stdin;
1004	3	15.00	2026-02-02
1005	99	25.00	2026-03-03
\.
SELECT pg_temp.exact() AS after_copy_to_a_partition;
-- an update that moves an order to another partition (through the parent) and another customer
UPDATE pcrm.orders SET ordered_at = '2026-09-09', customer = 4 WHERE id = 1001;
UPDATE pcrm.orders_2026h1 SET amount = amount + 1 WHERE customer = 99;
DELETE FROM pcrm.orders_2025 WHERE id = 1002;
SELECT pg_temp.exact() AS after_updates_and_delete;

-- TRUNCATE of one partition takes its orders away from their customers
SELECT count(*) AS rows_in_2026h2 FROM pcrm.orders_2026h2;
TRUNCATE pcrm.orders_2026h2;
SELECT pg_temp.exact() AS after_truncate_of_a_partition;
-- TRUNCATE of a sub-partitioned partition, in a transaction with a write before it
BEGIN;
INSERT INTO pcrm.orders VALUES (1006, 5, 80, '2026-01-15');
TRUNCATE pcrm.orders_2026;
INSERT INTO pcrm.orders VALUES (1007, 5, 90, '2026-01-20');
COMMIT;
SELECT pg_temp.exact() AS after_truncate_in_a_transaction,
       (SELECT orders FROM ct_parts.customers WHERE customer = 5) AS orders_of_5;

-- a partition created later gets the triggers
CREATE TABLE pcrm.orders_2027 PARTITION OF pcrm.orders FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO pcrm.orders_2027 VALUES (1008, 6, 11, '2027-05-05');
SELECT pg_temp.exact() AS after_a_new_partition;

-- a table with orders attached: its orders are added
CREATE TABLE pcrm.orders_2024 (id bigint, customer bigint, amount numeric(10,2), ordered_at date);
INSERT INTO pcrm.orders_2024 SELECT 2000 + i, i % 9, 7, date '2024-01-01' + i FROM generate_series(1, 40) AS i;
ALTER TABLE pcrm.orders ATTACH PARTITION pcrm.orders_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT pg_temp.exact() AS after_attach, count(*) AS its_triggers
  FROM pg_trigger WHERE tgrelid = 'pcrm.orders_2024'::regclass AND tgname LIKE 'customer_tier_parts_%';
INSERT INTO pcrm.orders_2024 VALUES (2100, 8, 1, '2024-12-12');
SELECT pg_temp.exact() AS after_a_write_to_it;

-- detached: its orders are subtracted and its triggers dropped
ALTER TABLE pcrm.orders DETACH PARTITION pcrm.orders_2025;
SELECT pg_temp.exact() AS after_detach, count(*) AS its_triggers
  FROM pg_trigger WHERE tgrelid = 'pcrm.orders_2025'::regclass AND tgname LIKE 'customer_tier_parts_%';
INSERT INTO pcrm.orders_2025 VALUES (3000, 1, 1000, '2025-06-06');  -- no longer an order of the program
SELECT pg_temp.exact() AS after_a_write_to_the_detached_table;
-- CONCURRENTLY would commit before the orders are subtracted
ALTER TABLE pcrm.orders DETACH PARTITION pcrm.orders_2027 CONCURRENTLY;
\echo :LAST_ERROR_SQLSTATE
-- a partition the program counts cannot be dropped (its orders would be gone unseen)
DROP TABLE pcrm.orders_2027;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE pcrm.orders_2025;  -- detached: an ordinary table

-- a program on a single partition is refused: it would miss the rows routed through the parent
SELECT customer_tier.create_program('one_part', 'pcrm.orders_2027', 'customer', 'amount', 'ordered_at');
\echo :LAST_ERROR_SQLSTATE

-- drift (here made by hand) is repaired inside the write that finds it, and logged
UPDATE ct_parts.customers SET purchases = NULL, orders = 0 WHERE customer = 3;
DELETE FROM pcrm.orders WHERE customer = 3 AND id = (SELECT min(id) FROM pcrm.orders WHERE customer = 3);
SELECT pg_temp.exact() AS after_drift_met_by_a_delete;
SELECT program, customers, repaired FROM customer_tier.drift_repair;

-- reading one's own writes inside a transaction: applied at commit, or at apply_pending()
BEGIN;
INSERT INTO pcrm.orders VALUES (4000, 77, 5, '2027-02-02');
SELECT count(*) AS before_apply FROM ct_parts.customers WHERE customer = 77;
SELECT customer_tier.apply_pending();
SELECT count(*) AS after_apply FROM ct_parts.customers WHERE customer = 77;
SAVEPOINT s;
INSERT INTO pcrm.orders VALUES (4001, 77, 5, '2027-02-03');
SELECT customer_tier.apply_pending();
ROLLBACK TO SAVEPOINT s;  -- the second order and what applied it are gone
INSERT INTO pcrm.orders VALUES (4002, 78, 5, '2027-02-04');
COMMIT;
SELECT customer, orders FROM ct_parts.customers WHERE customer IN (77, 78) ORDER BY 1;
SELECT pg_temp.exact() AS after_savepoints;

-- the columns the program reads keep their names and types while it is attached
ALTER TABLE pcrm.orders RENAME COLUMN customer TO client;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE pcrm.orders DROP COLUMN amount;
ALTER TABLE pcrm.orders ALTER COLUMN ordered_at TYPE timestamptz;
-- other columns are the CRM's business
ALTER TABLE pcrm.orders RENAME COLUMN id TO order_id;
ALTER TABLE pcrm.orders ADD COLUMN note text;
ALTER TABLE pcrm.orders DROP COLUMN note;
INSERT INTO pcrm.orders VALUES (5000, 79, 5, '2027-03-03');
SELECT pg_temp.exact() AS after_changes_to_other_columns;

SELECT customer_tier.drop_program('parts');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgfoid = 'customer_tier.maintain_orders()'::regprocedure;
DROP SCHEMA pcrm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

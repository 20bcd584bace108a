-- Rows a program cannot use never fail the CRM's write (docs/robustness.md,
-- "Rows a program cannot use"): each lands in ct_<program>.rejects with its
-- reason, or is computed correctly, and verify_program finds no difference
-- afterwards.  Every write below failed the CRM's statement on 0.2.0.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE SCHEMA rows;
-- An incompressible text of n bytes (hexadecimal digits), as a long key.
CREATE FUNCTION rows.hex_key(n integer) RETURNS text LANGUAGE sql IMMUTABLE
RETURN (SELECT left(string_agg(md5(i::text), '' ORDER BY i), n) FROM generate_series(1, n / 32 + 1) AS i);

-- ==== over-long text keys: at most 1000 bytes (octet_length) ====
-- 0.2.0: 2,800 bytes failed "index row size 2816 exceeds btree version 4
-- maximum 2704" (the customers' primary key); 7,900 bytes that compress
-- failed "payload string too long" (the NOTIFY of the new customer's tier).
CREATE TABLE rows.orders_text (id serial, customer text, amount numeric, ordered_at timestamptz);
INSERT INTO rows.orders_text (customer, amount, ordered_at) VALUES ('short', 10, '2026-01-01');
SELECT customer_tier.create_program('keys', 'rows.orders_text', 'customer', 'amount', 'ordered_at',
                                    order_id_column => 'id') AS customers;
INSERT INTO rows.orders_text (customer, amount, ordered_at) VALUES (rows.hex_key(2800), 20, '2026-01-02');
INSERT INTO rows.orders_text (customer, amount, ordered_at) VALUES (rows.hex_key(7900), 30, '2026-01-03');
-- a key that compresses fits the index; on 0.2.0 it failed in the NOTIFY
INSERT INTO rows.orders_text (customer, amount, ordered_at) VALUES (repeat('k', 7900), 35, '2026-01-03');
-- the limit is in bytes: 1000 one-byte characters count, 334 three-byte ones (1002 bytes) do not
INSERT INTO rows.orders_text (customer, amount, ordered_at)
VALUES (rows.hex_key(1000), 40, '2026-01-04'), (rows.hex_key(1001), 50, '2026-01-05'),
       (repeat('€', 333), 60, '2026-01-06'), (repeat('€', 334), 70, '2026-01-07');
-- an update that makes a counted key too long removes its order and rejects the new row
UPDATE rows.orders_text SET customer = rows.hex_key(3000) WHERE amount = 10;
SELECT operation, reason, order_id, octet_length(row_image->>'customer') AS key_bytes
  FROM ct_keys.rejects ORDER BY id;
SELECT octet_length(customer) AS key_bytes, orders, monetary FROM ct_keys.customers ORDER BY monetary;
SELECT * FROM customer_tier.verify_program('keys');
-- the CRM's rows are all there, unchanged
SELECT count(*) AS crm_rows, sum(octet_length(customer)) AS crm_key_bytes FROM rows.orders_text;
-- varchar keys follow the same rule
CREATE TABLE rows.orders_varchar (customer varchar(5000), amount integer, ordered_at date);
SELECT customer_tier.create_program('vkeys', 'rows.orders_varchar', 'customer', 'amount', 'ordered_at') AS customers;
INSERT INTO rows.orders_varchar VALUES (rows.hex_key(2800), 1, '2026-01-01'), ('ok', 2, '2026-01-01');
SELECT operation, reason FROM ct_vkeys.rejects ORDER BY id;
SELECT customer, orders FROM ct_vkeys.customers;
SELECT * FROM customer_tier.verify_program('vkeys');
-- with reject_mode error the write is refused instead, naming the reason
SELECT customer_tier.configure_program('vkeys', reject_mode => 'error');
INSERT INTO rows.orders_varchar VALUES (rows.hex_key(1001), 1, '2026-01-01');
\echo :LAST_ERROR_SQLSTATE

-- ==== dates beyond timestamp: at most 294276-12-31 ====
-- 0.2.0: "order time out of range" (dates reach 5874897 AD, timestamps 294276 AD).
CREATE TABLE rows.orders_date (id serial, customer integer, amount numeric, ordered_at date);
SELECT customer_tier.create_program('dates', 'rows.orders_date', 'customer', 'amount', 'ordered_at',
                                    order_id_column => 'id') AS customers;
INSERT INTO rows.orders_date (customer, amount, ordered_at) VALUES (1, 1, '294277-01-01');
INSERT INTO rows.orders_date (customer, amount, ordered_at) VALUES (1, 2, '5874897-12-31');
INSERT INTO rows.orders_date (customer, amount, ordered_at)
VALUES (1, 3, '294276-12-31'), (1, 4, '4714-11-24 BC'), (2, 5, '2026-01-01');
-- moving a counted order past the limit removes it and rejects the new row
UPDATE rows.orders_date SET ordered_at = '300000-01-01' WHERE amount = 5;
SELECT operation, reason, order_id, row_image->>'ordered_at' AS ordered_at FROM ct_dates.rejects ORDER BY id;
SELECT customer, orders, monetary, first_order, last_order FROM ct_dates.customers ORDER BY customer;
SELECT * FROM customer_tier.verify_program('dates');

-- ==== timestamp (without time zone) order times are read as UTC ====
-- 0.2.0 read them in the writer's TimeZone: "timestamp out of range" for
-- 294276-12-31 23:00 in Los Angeles (07:00 the next day in UTC, past the end)
-- and for 4714-11-24 03:00 BC in Tokyo (the day before in UTC, before the
-- start); and times that depended on the writer's zone, so that
-- verify_program in another zone reported drift.
CREATE TABLE rows.orders_ts (id serial, customer integer, amount numeric, ordered_at timestamp);
SELECT customer_tier.create_program('stamps', 'rows.orders_ts', 'customer', 'amount', 'ordered_at') AS customers;
SET TimeZone = 'America/Los_Angeles';
INSERT INTO rows.orders_ts (customer, amount, ordered_at) VALUES (1, 1, '294276-12-31 23:00');
SET TimeZone = 'Asia/Tokyo';
INSERT INTO rows.orders_ts (customer, amount, ordered_at) VALUES (1, 2, '4714-11-24 03:00 BC');
INSERT INTO rows.orders_ts (customer, amount, ordered_at) VALUES (2, 3, '2026-01-01 10:00'), (2, 4, '2026-01-02 22:00');
SET TimeZone = 'America/Los_Angeles';
INSERT INTO rows.orders_ts (customer, amount, ordered_at) VALUES (2, 5, '2026-01-03 10:00');
UPDATE rows.orders_ts SET ordered_at = '2026-01-04 10:00' WHERE amount = 5;
-- written in Tokyo and Los Angeles, verified in Los Angeles, Tokyo and UTC
SELECT count(*) AS differences FROM customer_tier.verify_program('stamps');
SET TimeZone = 'Asia/Tokyo';
SELECT count(*) AS differences FROM customer_tier.verify_program('stamps');
SET TimeZone = 'UTC';
SELECT count(*) AS differences FROM customer_tier.verify_program('stamps');
SELECT count(*) AS rejects FROM ct_stamps.rejects;
-- the wall-clock times as written, read as UTC
SELECT customer, orders, monetary, first_order, last_order, mean_gap_days FROM ct_stamps.customers ORDER BY customer;
-- the same through the order_stats aggregate, in any zone
SET TimeZone = 'Asia/Tokyo';
SELECT s.first_order AT TIME ZONE 'UTC' AS first_utc, s.last_order AT TIME ZONE 'UTC' AS last_utc
  FROM (SELECT (customer_tier.order_stats(ordered_at, amount)).* FROM rows.orders_ts WHERE customer = 2) AS s;
SET TimeZone = 'UTC';
-- a run with these times in the population goes through in any zone
-- (a model fitted on a handful of customers does not converge: its notice is not the point)
SET client_min_messages = warning;
SET TimeZone = 'America/Los_Angeles';
CALL customer_tier.reclassify('stamps');
SELECT outcome, customers FROM customer_tier.run WHERE program = 'stamps' ORDER BY id DESC LIMIT 1;
SET TimeZone = 'UTC';
SELECT count(*) AS differences FROM customer_tier.verify_program('stamps');

-- ==== amounts beyond 1e100 (absolute value) ====
-- 0.2.0: once breakpoints exist, scoring 1e400, or a second 1e308 order of
-- one customer (a total of 2e308), failed "out of range for type double
-- precision".
CREATE TABLE rows.orders_num (id serial, customer integer, amount numeric, ordered_at timestamptz);
INSERT INTO rows.orders_num (customer, amount, ordered_at)
SELECT i, 10 * i, '2026-01-01' FROM generate_series(1, 10) AS i;
SELECT customer_tier.create_program('amounts', 'rows.orders_num', 'customer', 'amount', 'ordered_at',
                                    order_id_column => 'id') AS customers;
SELECT m_breakpoints IS NOT NULL AS has_breakpoints FROM customer_tier.program WHERE name = 'amounts';
INSERT INTO rows.orders_num (customer, amount, ordered_at) VALUES (20, 1e400, '2026-01-02');
INSERT INTO rows.orders_num (customer, amount, ordered_at) VALUES (21, 1e308, '2026-01-02');
INSERT INTO rows.orders_num (customer, amount, ordered_at) VALUES (21, 1e308, '2026-01-03');
INSERT INTO rows.orders_num (customer, amount, ordered_at) VALUES (22, -1e101, '2026-01-03');
-- the bound itself is usable, on either side
INSERT INTO rows.orders_num (customer, amount, ordered_at) VALUES (23, 1e100, '2026-01-03'), (23, -1e100, '2026-01-04');
-- not finite: rejected as such, not as out of range
INSERT INTO rows.orders_num (customer, amount, ordered_at)
VALUES (24, 'Infinity', '2026-01-03'), (24, '-Infinity', '2026-01-03'), (24, 'NaN', '2026-01-03');
SELECT operation, reason, order_id FROM ct_amounts.rejects ORDER BY id;
SELECT customer, orders, monetary, m_score FROM ct_amounts.customers WHERE customer >= 20 ORDER BY customer;
SELECT customer_tier.refresh_breakpoints('amounts');
CALL customer_tier.reclassify('amounts');
SELECT outcome, customers FROM customer_tier.run WHERE program = 'amounts' ORDER BY id DESC LIMIT 1;
SELECT * FROM customer_tier.verify_program('amounts');

-- 0.2.0: two orders of the largest double for one customer of a double
-- precision program made every later run and refresh_breakpoints fail.
CREATE TABLE rows.orders_float (id serial, customer integer, amount double precision, ordered_at timestamptz);
INSERT INTO rows.orders_float (customer, amount, ordered_at)
SELECT i, i, '2026-01-01' FROM generate_series(1, 10) AS i;
SELECT customer_tier.create_program('floats', 'rows.orders_float', 'customer', 'amount', 'ordered_at') AS customers;
INSERT INTO rows.orders_float (customer, amount, ordered_at)
VALUES (21, 1.7976931348623157e308, '2026-01-02'), (21, 1.7976931348623157e308, '2026-01-03'),
       (22, 1e101, '2026-01-02'), (23, 1e100, '2026-01-02'),
       (24, 'Infinity', '2026-01-02'), (24, '-Infinity', '2026-01-02'), (24, 'NaN', '2026-01-02');
SELECT operation, reason, row_image->>'amount' AS amount FROM ct_floats.rejects ORDER BY id;
SELECT customer_tier.refresh_breakpoints('floats');
CALL customer_tier.reclassify('floats');
SELECT outcome, customers FROM customer_tier.run WHERE program = 'floats' ORDER BY id DESC LIMIT 1;
SELECT customer, orders, monetary, m_score FROM ct_floats.customers WHERE customer >= 20 ORDER BY customer;
SELECT * FROM customer_tier.verify_program('floats');
-- A customer stored with a total beyond double precision (as 0.2.0 could
-- store one) does not stop the scoring of the others: it scores as if
-- infinite, above every cut point; rebuild_program puts its total right.
UPDATE ct_floats.customers SET monetary = 4e308 WHERE customer = 10;
SELECT customer_tier.rescore_program('floats', 'test') >= 0 AS rescored;
SELECT customer, m_score FROM ct_floats.customers WHERE customer = 10;
SELECT customer, problem FROM customer_tier.verify_program('floats');
SELECT customer_tier.rebuild_program('floats') AS customers;
SELECT * FROM customer_tier.verify_program('floats');

-- ==== feedback triggers of a program with a 40-character name ====
-- 0.2.0: attach_feedback failed, its four trigger names
-- customer_tier_<program>_feedback_<op> cut to the same 63 bytes.
CREATE TABLE rows.survey (customer integer, score integer, kind text, answered_at timestamptz);
SELECT customer_tier.create_program('p234567890123456789012345678901234567890', 'rows.orders_num',
                                    'customer', 'amount', 'ordered_at') AS customers;
SELECT customer_tier.attach_feedback('p234567890123456789012345678901234567890', 'rows.survey',
                                     'customer', 'score', 'kind', 'answered_at') AS customers;
SELECT t.tgname, octet_length(t.tgname) AS bytes
  FROM pg_trigger AS t WHERE t.tgrelid = 'rows.survey'::regclass ORDER BY t.tgname;
INSERT INTO rows.survey VALUES (1, 9, 'nps', '2026-01-05');
SELECT customer, kind, score FROM ct_p234567890123456789012345678901234567890.answers;
-- the orders triggers of the same program keep their own names
SELECT t.tgname FROM pg_trigger AS t
 WHERE t.tgrelid = 'rows.orders_num'::regclass AND t.tgname LIKE '%p2345%' ORDER BY t.tgname;
SELECT customer_tier.detach_feedback('p234567890123456789012345678901234567890');
SELECT count(*) AS triggers_left FROM pg_trigger AS t WHERE t.tgrelid = 'rows.survey'::regclass;

SELECT customer_tier.drop_program(name) FROM customer_tier.program ORDER BY name;
DROP SCHEMA rows CASCADE;
RESET client_min_messages;
DROP EXTENSION customer_tier;

-- Erasure on request and retention (docs/data-protection.md): forget() removes
-- a customer's derived data and logs a keyed hash, never the key; it refuses
-- while the CRM still holds the customer's orders.  purge() deletes what a
-- program keeps longer than its retention, and the reclassification run
-- calls it.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql

-- ==== the keyed hash: HMAC-SHA256, checked against RFC 4231 ====
SELECT encode(customer_tier.hmac_sha256(decode(repeat('0b', 20), 'hex'), convert_to('Hi There', 'UTF8')), 'hex') AS rfc4231_case1;
SELECT encode(customer_tier.hmac_sha256(convert_to('Jefe', 'UTF8'), convert_to('what do ya want for nothing?', 'UTF8')), 'hex') AS rfc4231_case2;
-- a key longer than the 64-byte block is hashed first
SELECT encode(customer_tier.hmac_sha256(decode(repeat('aa', 131), 'hex'),
              convert_to('Test Using Larger Than Block-Size Key - Hash Key First', 'UTF8')), 'hex') AS rfc4231_case6;
SELECT customer_tier.hmac_sha256(NULL, '\x00') IS NULL AS strict;

-- ==== two programs over the CRM's tables ====
CREATE SCHEMA crm;
CREATE TABLE crm.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text,
                         amount numeric, ordered_at timestamptz);
INSERT INTO crm.orders (customer, amount, ordered_at)
SELECT 'c' || (i % 10), i, now() - i * interval '5 days' FROM generate_series(1, 60) AS i;
INSERT INTO crm.orders (customer, amount, ordered_at) VALUES
    ('ann', 900, now() - interval '400 days'), ('ann', 950, now() - interval '2 days'),
    ('ann', NULL, now());                                  -- a reject carrying her key
CREATE TABLE crm.accounts (account bigint, amount numeric, ordered_at timestamptz);
INSERT INTO crm.accounts SELECT i % 5, 10 * i, now() - i * interval '7 days' FROM generate_series(1, 30) AS i;
SELECT customer_tier.create_program('shop', 'crm.orders', 'customer', 'amount', 'ordered_at', order_id_column => 'id');
SELECT customer_tier.create_program('b2b', 'crm.accounts', 'account', 'amount', 'ordered_at');
-- a consumer of each feed, so that changes are kept as events, which forget erases too
SELECT customer_tier.register_consumer(p, 'crm') FROM unnest(ARRAY['shop', 'b2b']) AS p;
SELECT customer_tier.pin_customer('shop', 'ann', 'gold', 'complaint settled');
SELECT (SELECT count(*) FROM ct_shop.customers WHERE customer = 'ann') AS customers,
       (SELECT count(*) FROM ct_shop.tier_history WHERE customer = 'ann') AS history,
       (SELECT count(*) FROM ct_shop.rejects WHERE row_image ->> 'customer' = 'ann') AS rejects,
       (SELECT count(*) FROM customer_tier.pin WHERE customer = 'ann') AS pins;

-- ==== forget(program, customer) ====
-- Refused while the CRM holds her orders: the triggers would derive her again.
-- The message never carries the key (errors reach the server log).
SELECT customer_tier.forget('shop', 'ann');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS erasures_logged FROM customer_tier.erasure_log;
-- The CRM deletes her orders; the program forgets her customer row at once,
-- but her tier history, rejects and pin remain until forget().
DELETE FROM crm.orders WHERE customer = 'ann';
SELECT (SELECT count(*) FROM ct_shop.customers WHERE customer = 'ann') AS customers,
       (SELECT count(*) FROM ct_shop.tier_history WHERE customer = 'ann') AS history,
       (SELECT count(*) FROM ct_shop.rejects WHERE row_image ->> 'customer' = 'ann') AS rejects,
       (SELECT count(*) FROM customer_tier.pin WHERE customer = 'ann') AS pins;
SELECT customer_tier.forget('shop', 'ann') AS rows_deleted;
SELECT (SELECT count(*) FROM ct_shop.tier_history WHERE customer = 'ann') AS history,
       (SELECT count(*) FROM ct_shop.rejects WHERE row_image ->> 'customer' = 'ann') AS rejects,
       (SELECT count(*) FROM customer_tier.pin WHERE customer = 'ann') AS pins;
-- The log: who, which program, how many rows from where, and a hash, not the key.
SELECT id, session_role, acting_role, program, length(customer_hash) AS hash_bytes, rows_deleted, total,
       erased_at > now() - interval '1 minute' AS just_now
  FROM customer_tier.erasure_log ORDER BY id;
SELECT count(*) AS log_rows_with_the_key
  FROM customer_tier.erasure_log AS l WHERE to_jsonb(l)::text LIKE '%ann%';
-- The hash is HMAC-SHA256 of the key under the database's secret (one row, 32 bytes).
SELECT count(*) AS secrets, min(length(secret)) AS secret_bytes FROM customer_tier.erasure_secret;
SELECT l.customer_hash = customer_tier.hmac_sha256(s.secret, convert_to('ann', 'UTF8')) AS hash_matches
  FROM customer_tier.erasure_log AS l, customer_tier.erasure_secret AS s WHERE l.id = 1;
SELECT customer_tier.was_forgotten('shop', 'ann') AS ann, customer_tier.was_forgotten('shop', 'c1') AS c1,
       customer_tier.was_forgotten('b2b', 'ann') AS ann_in_b2b;
-- Forgetting again is harmless, and logged again.
SELECT customer_tier.forget('shop', 'ann') AS again;
-- A key that is not a valid key of the program's type, NULLs, an unknown program.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$forget('b2b', 'ann')$$, $$forget('shop', NULL)$$, 'forget(NULL::text)', $$forget('nosuch', 'ann')$$,
    $$was_forgotten(NULL, 'ann')$$);

-- ==== forget(customer): every program whose key type accepts the key ====
-- Key 3 is a customer of b2b (bigint keys) and a valid text key of shop.
SELECT customer_tier.forget('3');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM crm.accounts WHERE account = 3;
SELECT count(*) AS b2b_history_of_3 FROM ct_b2b.tier_history WHERE customer = 3;
SELECT customer_tier.forget('3') AS rows_deleted;
SELECT count(*) AS b2b_history_of_3 FROM ct_b2b.tier_history WHERE customer = 3;
SELECT program, rows_deleted, total FROM customer_tier.erasure_log WHERE id > 2 ORDER BY id;
SELECT customer_tier.was_forgotten('b2b', '3') AS b2b, customer_tier.was_forgotten('b2b', '003') AS canonical,
       customer_tier.was_forgotten('shop', '3') AS shop;
-- one program refusing leaves every program untouched
SELECT customer_tier.forget('4');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS b2b_customers_4 FROM ct_b2b.customers WHERE customer = 4;

-- ==== per-program tables added later are covered: any table with a customer column ====
-- (a foreign key between them: the referencing table is emptied first)
CREATE TABLE ct_shop.notes_by_someone (id int PRIMARY KEY, customer text NOT NULL, note text);
CREATE TABLE ct_shop.note_tags (note int REFERENCES ct_shop.notes_by_someone (id), customer text, tag text);
INSERT INTO ct_shop.notes_by_someone VALUES (1, 'zoe', 'called'), (2, 'zoe', 'called again'), (3, 'c1', 'kept');
INSERT INTO ct_shop.note_tags VALUES (1, 'zoe', 'vip'), (3, 'c1', 'kept');
SELECT customer_tier.forget('shop', 'zoe') AS rows_deleted;
SELECT (SELECT count(*) FROM ct_shop.notes_by_someone) AS notes_left, (SELECT count(*) FROM ct_shop.note_tags) AS tags_left;
DROP TABLE ct_shop.note_tags, ct_shop.notes_by_someone;

-- ==== retention ====
SELECT * FROM customer_tier.retention_policy ORDER BY program;
SELECT program, tier_history, contacts, runs, rejects
  FROM customer_tier.set_retention('shop', '{"rejects": "30 days", "runs": null}');
SELECT * FROM customer_tier.retention_policy ORDER BY program;
-- keys left out keep their value
SELECT program, tier_history, contacts, runs, rejects
  FROM customer_tier.set_retention('shop', '{"tier_history": "18 months"}');
CALL pg_temp.expect_errors('SELECT customer_tier.set_retention(%s)',
    $$'shop', '{"tier_histroy": "1 year"}'$$, $$'shop', '{"rejects": "-3 days"}'$$,
    $$'shop', '{"rejects": "0 days"}'$$, $$'shop', '{"rejects": 30}'$$, $$'shop', '{"rejects": "soon"}'$$,
    $$'shop', '["rejects"]'$$, $$'shop', NULL$$, $$'nosuch', '{}'$$);
-- the table refuses a direct write that the setter would refuse
\set VERBOSITY terse
INSERT INTO customer_tier.retention (program, rejects) VALUES ('b2b', '-1 day');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default

-- Backdated rows: history 3 years and 1 year old, rejects 40 and 10 days old,
-- runs finished 2 years ago.
INSERT INTO crm.orders (customer, amount, ordered_at) VALUES ('c1', NULL, now()), ('c2', 'NaN', now());
UPDATE ct_shop.rejects SET rejected_at = now() - interval '40 days' WHERE row_image ->> 'customer' = 'c1';
UPDATE ct_shop.rejects SET rejected_at = now() - interval '10 days' WHERE row_image ->> 'customer' = 'c2';
UPDATE ct_shop.tier_history SET changed_at = now() - interval '3 years' WHERE customer IN ('c1', 'c2');
UPDATE ct_shop.tier_history SET changed_at = now() - interval '1 year' WHERE customer IN ('c3');
INSERT INTO customer_tier.run (program, started_at, finished_at, outcome)
VALUES ('shop', now() - interval '2 years', now() - interval '2 years', 'succeeded'),
       ('b2b', now() - interval '2 years', now() - interval '2 years', 'succeeded'),
       ('b2b', now() - interval '2 years', NULL, 'running');
SELECT (SELECT count(*) FROM ct_shop.tier_history) AS history, (SELECT count(*) FROM ct_shop.rejects) AS rejects,
       (SELECT count(*) FROM customer_tier.run) AS runs;
-- shop keeps history 18 months, rejects 30 days, runs forever: the old rows of
-- c1 and c2 and c1's reject go; c3's year-old history and c2's reject stay.
-- The contact log is still empty.
SELECT customer_tier.purge('shop') AS purged;
SELECT customer_tier.purge('shop') AS purged_again;
SELECT count(*) FILTER (WHERE customer IN ('c1', 'c2')) AS old_history,
       count(*) FILTER (WHERE customer = 'c3') AS c3_history FROM ct_shop.tier_history;
SELECT row_image ->> 'customer' AS reject_of FROM ct_shop.rejects ORDER BY 1;
-- b2b has the defaults: its finished run of two years ago goes, the one still
-- marked running stays.
SELECT customer_tier.purge('b2b') AS purged;
SELECT program, outcome FROM customer_tier.run ORDER BY id;
-- The contact log ages by the time of the contact (default 2 years).
SELECT customer_tier.log_contact('shop', 'c1', 'phone', 'reached', 'old call', now() - interval '3 years') AS old_contact,
       customer_tier.log_contact('shop', 'c1', 'email', 'sent', 'new call') AS new_contact;
SELECT customer_tier.purge('shop') AS purged;
SELECT id, note FROM ct_shop.contacts;
SELECT customer_tier.purge(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.purge('nosuch');
\echo :LAST_ERROR_SQLSTATE

-- The reclassification run purges when it ends and logs what it purged.
UPDATE ct_shop.tier_history SET changed_at = now() - interval '2 years' WHERE customer = 'c3';
SET client_min_messages = warning;  -- the model fit's NOTICE (churn.sql tests it)
CALL customer_tier.reclassify('shop');
RESET client_min_messages;
SELECT program, outcome, purged FROM customer_tier.run WHERE program = 'shop' ORDER BY id;
SELECT count(*) AS c3_history FROM ct_shop.tier_history WHERE customer = 'c3' AND changed_at < now() - interval '18 months';
-- dropping a program drops its settings; its erasure log stays
SELECT customer_tier.drop_program('b2b');
SELECT program FROM customer_tier.retention ORDER BY 1;
SELECT program, count(*) FROM customer_tier.erasure_log GROUP BY 1 ORDER BY 1;
SELECT customer_tier.was_forgotten('b2b', '3') AS dropped_program_b2b;

SELECT customer_tier.drop_program('shop');
DROP SCHEMA crm CASCADE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

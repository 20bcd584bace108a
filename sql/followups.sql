-- Follow-ups: the contact log, the contact cadence per tier, and the
-- follow-ups-due view ordered by priority.  Times are relative to now().
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET TimeZone = 'UTC';
CREATE SCHEMA fup;
CREATE TABLE fup.orders (customer_id bigint, amount numeric, ordered_at timestamptz);
-- Tiers by spend: diamond from 1000, gold from 100, normal the rest.  The
-- program is set up before the orders arrive, so that each customer's
-- history starts with their first tier.
SELECT customer_tier.create_program('fu', 'fup.orders', 'customer_id', 'amount', 'ordered_at') AS customers;
SELECT customer_tier.set_method('fu', 'rules');
SELECT customer_tier.set_tiers('fu', '[{"tier": "diamond", "min_monetary": 1000}, {"tier": "gold", "min_monetary": 100},
                                       {"tier": "normal"}]');
INSERT INTO fup.orders VALUES
    (1, 2000, now() - interval '100 days'),  -- diamond, never contacted: due 70 days ago
    (2, 2000, now() - interval '10 days'),   -- diamond, never contacted: due in 20 days
    (3, 500, now() - interval '300 days'),   -- gold, contacted 70 days ago: due 10 days ago
    (4, 500, now() - interval '300 days'),   -- gold, contacted 30 days ago: due in 30 days
    (5, 50, now() - interval '400 days'),    -- normal, contacted 200 days ago: due 20 days ago
    (6, 50, now() - interval '20 days'),     -- normal, never contacted: due in 160 days
    (7, 50, now() - interval '100 days'),    -- normal, contacted 5 days ago, then rises to diamond
    (8, 50, now() - interval '100 days');    -- normal, rises to diamond, then contacted
SELECT count(*) AS changes, count(*) FILTER (WHERE from_tier IS NULL) AS first_tiers FROM ct_fu.tier_history;
SELECT customer, tier FROM ct_fu.customers ORDER BY customer;

-- The cadence of each tier: the defaults until set.
SELECT * FROM customer_tier.cadences('fu');
SELECT customer_tier.default_cadence('diamond'), customer_tier.default_cadence('gold'),
       customer_tier.default_cadence('normal'), customer_tier.default_cadence('platinum');

-- Logging contacts.  The customer key is text, read as the program's key type.
SELECT customer_tier.log_contact('fu', '3', 'phone', 'reached', 'asked for a catalogue',
                                 now() - interval '70 days') AS id;
SELECT customer_tier.log_contact('fu', '4', 'email', 'sent', NULL, now() - interval '30 days') AS id;
SELECT customer_tier.log_contact('fu', '5', 'visit', NULL, NULL, now() - interval '200 days') AS id;
SELECT customer_tier.log_contact('fu', '7', 'other', 'met at a fair', NULL, now() - interval '5 days') AS id;
SELECT customer, channel, outcome, note, contacted_at < now() AS in_the_past, logged_by = current_user AS logged_by_me
  FROM ct_fu.contacts ORDER BY id;
-- Bad contacts.
CALL pg_temp.expect_errors('SELECT customer_tier.log_contact(%s)',
    $$NULL, '3', 'phone'$$, $$'fu', NULL, 'phone'$$, $$'fu', '3', NULL$$,
    $$'fu', '3', 'phone', contacted_at => NULL$$, $$'nope', '3', 'phone'$$, $$'fu', '3', 'fax'$$,
    $$'fu', '3', 'phone', contacted_at => '2100-01-01 00:00+00'$$,
    $$'fu', '3', 'phone', contacted_at => '-infinity'$$);
SELECT customer_tier.log_contact('Fu; DROP TABLE x', '3', 'phone');
\echo :LAST_ERROR_SQLSTATE
CALL pg_temp.expect_errors('SELECT customer_tier.log_contact(%s)',
    $$'fu', 'three', 'phone'$$, $$'fu', '99999999999999999999', 'phone'$$, $$'fu', '42', 'phone'$$);
-- A direct write is checked by the table too.
\set VERBOSITY terse
INSERT INTO ct_fu.contacts (customer, channel) VALUES (3, 'pigeon');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ct_fu.contacts (customer, channel, contacted_at) VALUES (3, 'phone', 'infinity');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT count(*) AS contacts FROM ct_fu.contacts;

-- Customers 7 and 8 rise to diamond.  7 was contacted before the rise: it is
-- due at once for a welcome.  8 is contacted after its rise: not due.
INSERT INTO fup.orders VALUES (7, 1000, now() - interval '1 day'), (8, 1000, now() - interval '1 day');
SELECT customer, from_tier, to_tier FROM ct_fu.tier_history WHERE customer IN (7, 8) AND from_tier IS NOT NULL
 ORDER BY customer;
SELECT customer_tier.log_contact('fu', '8', 'phone', 'welcomed') AS id;

-- Follow-ups due, best tier first, then most churn flags and highest value
-- score (priority), then longest due.
SELECT priority, customer, tier, tier_rank, reason, days_overdue, cadence,
       last_contact_at IS NOT NULL AS contacted, last_channel, last_outcome
  FROM ct_fu.follow_ups_due;
-- due_at: the last contact (else the first order) plus the cadence; for a
-- welcome, the time of the rise.
SELECT f.customer, f.due_at = coalesce(f.last_contact_at, s.first_order) + f.cadence AS cadence_rule,
       f.due_at = (SELECT max(changed_at) FROM ct_fu.tier_history AS h WHERE h.customer = f.customer) AS rise_rule
  FROM ct_fu.follow_ups_due AS f JOIN ct_fu.segments AS s USING (customer)
 ORDER BY f.tier_rank, f.priority, f.due_at, f.customer;

-- Setting cadences: a string is an interval, a number is days.  Gold every
-- 90 days: customer 3 (contacted 70 days ago) is no longer due; normal every
-- 10 days: customer 6 (first order 20 days ago) is.
SELECT customer_tier.set_cadence('fu', '{"gold": "3 months", "normal": 10}') AS tiers;
SELECT * FROM customer_tier.cadences('fu');
SELECT * FROM customer_tier.cadence ORDER BY tier;
SELECT priority, customer, tier, reason, days_overdue FROM ct_fu.follow_ups_due;
-- null restores a tier's default.
SELECT customer_tier.set_cadence('fu', '{"gold": null, "normal": "180 days"}') AS tiers;
SELECT tier, every, is_default FROM customer_tier.cadences('fu');
-- Bad cadences, each naming the tier.
CALL pg_temp.expect_errors('SELECT customer_tier.set_cadence(%s)',
    $$NULL, '{"gold": "1 day"}'$$, $$'fu', NULL$$, $$'nope', '{"gold": "1 day"}'$$,
    $$'fu', '[{"gold": "1 day"}]'$$, $$'fu', '{}'$$, $$'fu', '{"gold": "1 day", "platinum": "1 day"}'$$,
    $$'fu', '{"gold": "0 days"}'$$, $$'fu', '{"gold": "-2 weeks"}'$$,
    $$'fu', '{"gold": "1 month -40 days"}'$$, $$'fu', '{"gold": 0}'$$, $$'fu', '{"gold": "often"}'$$,
    $$'fu', '{"gold": true}'$$, $$'fu', '{"gold": 1e300}'$$);
-- The refused calls changed nothing (validation comes before any change).
SELECT count(*) AS settings FROM customer_tier.cadence;
SELECT customer_tier.cadences(NULL);
\echo :LAST_ERROR_SQLSTATE

-- Roles: the reader sees the follow-ups and the contact log but not its
-- notes; the writer logs contacts but reads none of them back (no notes, no
-- follow-ups); neither configures.
SET ROLE customer_tier_reader;
SELECT count(*) > 0 AS reader_sees_follow_ups FROM ct_fu.follow_ups_due;
SELECT customer, channel, outcome FROM ct_fu.contacts ORDER BY id LIMIT 1;
CALL pg_temp.expect_errors('%s',
    'SELECT note FROM ct_fu.contacts', 'SELECT * FROM ct_fu.contacts',
    $$SELECT customer_tier.log_contact('fu', '3', 'phone')$$,
    $$SELECT customer_tier.set_cadence('fu', '{"gold": "1 day"}')$$);
SELECT tier, every FROM customer_tier.cadences('fu') LIMIT 1;
RESET ROLE;
SET ROLE customer_tier_writer;
SELECT customer_tier.log_contact('fu', '6', 'email', 'newsletter', 'prefers email') > 0 AS logged;
INSERT INTO ct_fu.contacts (customer, channel, note) VALUES (6, 'visit', 'dropped by');
CALL pg_temp.expect_errors('%s',
    'SELECT customer, channel, note, logged_by FROM ct_fu.contacts WHERE customer = 6 ORDER BY id',
    'SELECT count(*) > 0 AS writer_sees_follow_ups FROM ct_fu.follow_ups_due',
    'UPDATE ct_fu.contacts SET note = NULL', $$SELECT customer_tier.set_cadence('fu', '{"gold": "1 day"}')$$);
RESET ROLE;
SELECT customer, channel, note, logged_by FROM ct_fu.contacts WHERE customer = 6 ORDER BY id;

-- The list is stored with the customers (tier_rank, follow_up_due_at) and
-- read through one index, page by page, whatever the number of customers:
-- its order, (tier_rank, priority, due_at, customer), is its page key.
SET enable_seqscan = off;   -- a few rows: the planner would rather read them all
EXPLAIN (COSTS OFF) SELECT customer FROM ct_fu.follow_ups_due LIMIT 2;
EXPLAIN (COSTS OFF) SELECT customer FROM ct_fu.follow_ups_due
 WHERE (tier_rank, priority, due_at, customer) > (1, 0, '-infinity', 0) LIMIT 2;
EXPLAIN (COSTS OFF) SELECT customer FROM ct_fu.follow_ups_due WHERE tier_rank = 3 LIMIT 2;
RESET enable_seqscan;
SELECT tier_rank, priority, customer FROM ct_fu.follow_ups_due;
-- the page after the second row holds the third and fourth
SELECT f.customer FROM ct_fu.follow_ups_due AS f,
       (SELECT * FROM ct_fu.follow_ups_due LIMIT 1 OFFSET 1) AS k
 WHERE (f.tier_rank, f.priority, f.due_at, f.customer) > (k.tier_rank, k.priority, k.due_at, k.customer)
 LIMIT 2;
-- A contact changed or deleted moves the customer's due time, as one
-- logged does; the customers of the orders and of the contacts are scored
-- once, at commit.
SELECT customer, reason, last_contact_at IS NOT NULL AS contacted FROM ct_fu.follow_ups_due WHERE customer = 5;
DELETE FROM ct_fu.contacts WHERE customer = 5;
SELECT f.customer, f.reason, f.last_contact_at IS NOT NULL AS contacted, c.changed_by
  FROM ct_fu.follow_ups_due AS f JOIN ct_fu.customers AS c USING (customer) WHERE f.customer = 5;
INSERT INTO ct_fu.contacts (customer, channel, contacted_at) VALUES (5, 'phone', now() - interval '1 day');
SELECT count(*) AS due_5 FROM ct_fu.follow_ups_due WHERE customer = 5;
UPDATE ct_fu.contacts SET contacted_at = now() - interval '400 days' WHERE customer = 5;
SELECT customer, reason, days_overdue FROM ct_fu.follow_ups_due WHERE customer = 5;
-- A TRUNCATE of the contacts forgets every last contact.
TRUNCATE ct_fu.contacts;
SELECT count(*) AS contacted FROM ct_fu.customers WHERE last_contact_at IS NOT NULL;
SELECT customer, reason FROM ct_fu.follow_ups_due;
-- The trigger function serves its program's contacts table only.
CREATE TABLE fup.other_contacts (customer bigint);
CREATE TRIGGER t AFTER INSERT ON fup.other_contacts FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts('fu');
INSERT INTO fup.other_contacts VALUES (1);
\echo :LAST_ERROR_SQLSTATE
-- The trigger functions refuse a trigger that breaks their protocol (39P01):
-- no program named, more than one argument, or firing before or per row.
DROP TRIGGER t ON fup.other_contacts;
INSERT INTO fup.other_contacts VALUES (1);
CREATE TRIGGER no_program AFTER INSERT ON fup.other_contacts FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts();
CREATE TRIGGER two_programs AFTER UPDATE ON fup.other_contacts FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_feedback('fu', 'fu');
CREATE TRIGGER per_row AFTER DELETE ON fup.other_contacts FOR EACH ROW EXECUTE FUNCTION customer_tier.maintain_feedback('fu');
CREATE TRIGGER before_truncate BEFORE TRUNCATE ON fup.other_contacts FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts('fu');
CREATE TABLE fup.other_orders (customer bigint);
CREATE TRIGGER no_program AFTER INSERT ON fup.other_orders FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders();
CALL pg_temp.expect_errors('%s',
    'INSERT INTO fup.other_contacts VALUES (2)',
    'UPDATE fup.other_contacts SET customer = 2',
    'DELETE FROM fup.other_contacts',
    'TRUNCATE fup.other_contacts',
    'INSERT INTO fup.other_orders VALUES (1)');
DROP TRIGGER no_program ON fup.other_orders;
CREATE TRIGGER before_insert BEFORE INSERT ON fup.other_orders FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders('fu');
CALL pg_temp.expect_errors('%s', 'INSERT INTO fup.other_orders VALUES (1)');
DROP TABLE fup.other_contacts, fup.other_orders;

-- Dropping the program drops the contact log with it; the cadences go too.
SELECT customer_tier.set_cadence('fu', '{"gold": "1 day"}') AS tiers;
SELECT customer_tier.drop_program('fu');
SELECT count(*) AS settings FROM customer_tier.cadence;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'ct_fu';

DROP TABLE fup.orders;
DROP SCHEMA fup;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

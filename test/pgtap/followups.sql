-- Feedback, contacts and KPIs through application logins: the writer's
-- survey answers maintain the program with no grant on its tables, the
-- reader sees the contact log without its notes, the admin configures.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

CREATE ROLE ct_fu_bi LOGIN IN ROLE customer_tier_reader;
CREATE ROLE ct_fu_crm LOGIN IN ROLE customer_tier_writer;
CREATE ROLE ct_fu_admin LOGIN IN ROLE customer_tier_admin;
CREATE ROLE ct_fu_admin2 LOGIN IN ROLE customer_tier_admin;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO customer_tier_admin', current_database()); END $$;
CREATE SCHEMA ct_fu_crm AUTHORIZATION ct_fu_admin;
SET ROLE ct_fu_admin;
CREATE TABLE ct_fu_crm.orders (id int PRIMARY KEY, customer int, amount numeric, ordered_at timestamptz);
CREATE TABLE ct_fu_crm.survey (customer int, score int, kind text, answered_at timestamptz, comment text);
INSERT INTO ct_fu_crm.orders VALUES (1, 1, 100, now() - interval '100 days'), (2, 2, 50, now() - interval '5 days');
INSERT INTO ct_fu_crm.survey VALUES (1, 9, 'nps', now() - interval '3 days', 'lovely');
GRANT USAGE ON SCHEMA ct_fu_crm TO ct_fu_crm;
GRANT SELECT, INSERT, UPDATE, DELETE ON ct_fu_crm.orders, ct_fu_crm.survey TO ct_fu_crm;
SELECT lives_ok($$SELECT customer_tier.create_program('fu', 'ct_fu_crm.orders', 'customer', 'amount', 'ordered_at')$$,
                'admin: create_program');
SELECT is(customer_tier.attach_feedback('fu', 'ct_fu_crm.survey', 'customer', 'score', 'kind', 'answered_at'),
          1::bigint, 'admin: attach_feedback on a table it owns');
SELECT lives_ok($$SELECT customer_tier.set_cadence('fu', '{"normal": "30 days"}')$$, 'admin: set_cadence');
SELECT lives_ok($$SELECT customer_tier.refresh_satisfaction('fu')$$, 'admin: refresh_satisfaction');
SELECT lives_ok($$SELECT customer_tier.log_contact('fu', '1', 'phone', 'reached', 'admin note')$$, 'admin: log_contact');
SELECT is_empty($$SELECT * FROM customer_tier.verify_feedback('fu')$$, 'admin: verify_feedback finds no drift');
RESET ROLE;

-- ==== writer ====
SET ROLE ct_fu_crm;
SELECT lives_ok($$INSERT INTO ct_fu_crm.survey VALUES (2, 4, 'csat', now(), NULL), (2, 9, 'csat', now(), 'bad')$$,
                'writer: answers maintain the program with no grant on its tables');
SELECT lives_ok($$DELETE FROM ct_fu_crm.survey WHERE customer = 1$$, 'writer: DELETE answers');
SELECT lives_ok($$SELECT customer_tier.log_contact('fu', '2', 'email', 'sent', 'wants a call back')$$,
                'writer: log_contact');
SELECT lives_ok($$INSERT INTO ct_fu_crm.survey SELECT * FROM ct_fu_crm.survey WHERE false$$, 'writer: an empty insert');
SELECT lives_ok($$INSERT INTO ct_fu.contacts (customer, channel, note) VALUES (1, 'visit', 'came by')$$,
                'writer: INSERT into contacts directly');
SELECT lives_ok($$INSERT INTO ct_fu.contacts (customer, channel) VALUES (1, 'other') RETURNING id$$,
                'writer: INSERT ... RETURNING id (as log_contact does)');
-- the writer logs contacts but never reads them back: no free text, nothing
-- another CRM user wrote about a customer
SELECT throws_ok($$SELECT note FROM ct_fu.contacts$$, '42501', NULL, 'writer: not the contact notes');
SELECT throws_ok($$SELECT * FROM ct_fu.contacts$$, '42501', NULL, 'writer: SELECT * on contacts is refused');
SELECT throws_ok($$SELECT outcome FROM ct_fu.contacts$$, '42501', NULL, 'writer: not the contact outcomes');
SELECT throws_ok($$SELECT id FROM ct_fu.contacts WHERE note LIKE '%call%'$$, '42501', NULL,
                 'writer: may not filter on the notes either');
SELECT throws_ok($$SELECT * FROM ct_fu.follow_ups_due$$, '42501', NULL,
                 'writer: not follow_ups_due (the last outcome of every customer)');
SELECT throws_ok($$SELECT * FROM ct_fu.satisfaction$$, '42501', NULL, 'writer: no SELECT on satisfaction');
SELECT throws_ok($$SELECT * FROM ct_fu.feedback_rejects$$, '42501', NULL, 'writer: no SELECT on feedback_rejects');
SELECT throws_ok($$UPDATE ct_fu.contacts SET note = NULL$$, '42501', NULL, 'writer: no UPDATE on contacts');
SELECT throws_ok($$DELETE FROM ct_fu.contacts$$, '42501', NULL, 'writer: no DELETE on contacts');
SELECT throws_ok($$SELECT customer_tier.set_cadence('fu', '{"gold": 1}')$$, '42501', NULL, 'writer: no set_cadence');
SELECT throws_ok($$SELECT customer_tier.detach_feedback('fu')$$, '42501', NULL, 'writer: no detach_feedback');
SELECT throws_ok($$SELECT * FROM ct_fu.kpis()$$, '42501', NULL, 'writer: no kpis');
RESET ROLE;
SELECT customer_tier.apply_pending();  -- one transaction: applied now, not at commit

SELECT results_eq($$SELECT customer, answers::int, last_csat FROM ct_fu.satisfaction ORDER BY customer$$,
                  $$VALUES (2, 1, 4)$$, 'the writer''s answers are rolled up');
SELECT results_eq($$SELECT reason FROM ct_fu.feedback_rejects$$, $$VALUES ('CSAT score 9 is outside 1..5')$$,
                  'the writer''s unusable answer is in feedback_rejects');
SELECT results_eq($$SELECT logged_by::text COLLATE "default" FROM ct_fu.contacts ORDER BY id$$,
                  $$VALUES ('ct_fu_admin'), ('ct_fu_crm'), ('ct_fu_crm'), ('ct_fu_crm')$$, 'logged_by is the login that logged');

-- ==== reader ====
SET ROLE ct_fu_bi;
SELECT throws_ok($$SELECT note FROM ct_fu.contacts$$, '42501', NULL, 'reader: not the contact notes');
SELECT throws_ok($$SELECT * FROM ct_fu.contacts$$, '42501', NULL, 'reader: SELECT * names the note, refused');
SELECT lives_ok($$SELECT id, customer, channel, contacted_at, outcome, logged_by, logged_at FROM ct_fu.contacts$$,
                'reader: every other column of the contact log');
SELECT lives_ok($$SELECT * FROM ct_fu.follow_ups_due$$, 'reader: follow_ups_due');
SELECT lives_ok($$SELECT * FROM ct_fu.satisfaction$$, 'reader: satisfaction');
SELECT lives_ok($$SELECT * FROM ct_fu.answers$$, 'reader: answers');
SELECT lives_ok($$SELECT * FROM customer_tier.feedback_source$$, 'reader: feedback_source');
SELECT lives_ok($$SELECT * FROM customer_tier.cadence$$, 'reader: cadence');
SELECT lives_ok($$SELECT * FROM customer_tier.cadences('fu')$$, 'reader: cadences');
SELECT lives_ok($$SELECT * FROM ct_fu.kpis()$$, 'reader: kpis (aggregates of the orders it may not read)');
SELECT lives_ok($$SELECT * FROM ct_fu.satisfaction_by_tier('week')$$, 'reader: satisfaction_by_tier');
SELECT throws_ok($$SELECT * FROM ct_fu_crm.orders$$, '42501', NULL, 'reader: not the orders table');
SELECT throws_ok($$SELECT * FROM ct_fu.feedback_rejects$$, '42501', NULL, 'reader: not feedback_rejects');
SELECT throws_ok($$SELECT customer_tier.log_contact('fu', '1', 'phone')$$, '42501', NULL, 'reader: no log_contact');
SELECT throws_ok($$INSERT INTO ct_fu.contacts (customer, channel) VALUES (1, 'phone')$$, '42501', NULL,
                 'reader: no INSERT into contacts');
SELECT throws_ok($$SELECT customer_tier.attach_feedback('fu', 'ct_fu_crm.survey', 'customer', 'score', 'kind', 'answered_at')$$,
                 '42501', NULL, 'reader: no attach_feedback');
SELECT throws_ok($$SELECT customer_tier.refresh_satisfaction('fu')$$, '42501', NULL, 'reader: no refresh_satisfaction');
SELECT throws_ok($$SELECT * FROM customer_tier.verify_feedback('fu')$$, '42501', NULL, 'reader: no verify_feedback');
SELECT throws_ok($$DELETE FROM customer_tier.cadence$$, '42501', NULL, 'reader: no DELETE on cadence');
RESET ROLE;

-- ==== a second admin: runs, not structure ====
SET ROLE ct_fu_admin2;
SELECT lives_ok($$SELECT customer_tier.refresh_satisfaction('fu')$$, 'second admin: refresh_satisfaction');
SELECT lives_ok($$SELECT customer_tier.set_cadence('fu', '{"gold": "20 days"}')$$, 'second admin: set_cadence');
SELECT throws_ok($$SELECT * FROM customer_tier.verify_feedback('fu')$$, '42501', NULL,
                 'second admin: verify_feedback reads the feedback table, which it may not');
SELECT throws_ok($$SELECT customer_tier.detach_feedback('fu')$$, '42501', NULL,
                 'second admin: detach_feedback needs the owner of the feedback table');
RESET ROLE;

-- ==== admin: corrections and erasure ====
SET ROLE ct_fu_admin;
SELECT is_empty($$SELECT * FROM customer_tier.verify_feedback('fu')$$, 'the writer''s changes left no drift');
SELECT lives_ok($$DELETE FROM ct_fu.contacts WHERE customer = 1$$, 'admin: erases contacts');
SELECT lives_ok($$DELETE FROM ct_fu.feedback_rejects$$, 'admin: clears feedback_rejects');
SELECT lives_ok($$SELECT customer_tier.detach_feedback('fu')$$, 'admin: detach_feedback');
SELECT lives_ok($$SELECT customer_tier.drop_program('fu')$$, 'admin: drop_program');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'ct_fu_crm.survey'::regclass), 0,
          'nothing is left on the survey table');

SELECT * FROM finish();
ROLLBACK;

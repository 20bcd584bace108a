-- Feedback: a CRM's own survey-answers table attached to a program.  Its
-- triggers keep each customer's latest answer and rolling NPS / CSAT
-- current; bad rows follow the program's reject rule, as orders do.
CREATE EXTENSION customer_tier;
\set SHOW_CONTEXT never
-- CALL pg_temp.expect_errors(template, inputs...): the error of each input, with its SQLSTATE.
\i sql/fixtures/expect_errors.sql
SET TimeZone = 'UTC';
CREATE SCHEMA fbk;
CREATE TABLE fbk.orders (customer_id bigint, amount numeric, ordered_at timestamptz);
INSERT INTO fbk.orders VALUES (1, 100, '2026-01-01'), (2, 200, '2026-01-02'), (3, 300, '2026-01-03');
SELECT customer_tier.create_program('fb', 'fbk.orders', 'customer_id', 'amount', 'ordered_at') AS customers;
-- The survey answers: score numeric (whole numbers only), kind varchar.
CREATE TABLE fbk.survey (
    customer_id bigint,
    score       numeric,
    kind        varchar(10),
    answered_at timestamptz,
    comment     text
);
CREATE TABLE fbk.wrong_types (customer_id integer, score text, kind integer, answered_at text, ok_time date);
CREATE VIEW fbk.survey_view AS SELECT * FROM fbk.survey;

-- Without a feedback table the program's tables are there, empty.
SELECT (SELECT count(*) FROM ct_fb.answers) AS answers, (SELECT count(*) FROM ct_fb.satisfaction) AS satisfaction;

-- Every misconfiguration is refused up front, naming the column.
CALL pg_temp.expect_errors('SELECT customer_tier.%s',
    $$attach_feedback(NULL, 'fbk.survey', 'customer_id', 'score', 'kind', 'answered_at')$$,
    $$attach_feedback('fb', NULL, 'customer_id', 'score', 'kind', 'answered_at')$$,
    $$attach_feedback('nope', 'fbk.survey', 'customer_id', 'score', 'kind', 'answered_at')$$,
    $$attach_feedback('fb', 'fbk.survey_view', 'customer_id', 'score', 'kind', 'answered_at')$$,
    $$attach_feedback('fb', 'fbk.survey', 'client', 'score', 'kind', 'answered_at')$$,
    $$attach_feedback('fb', 'fbk.survey', 'customer_id', NULL, 'kind', 'answered_at')$$,
    $$attach_feedback('fb', 'fbk.wrong_types', 'customer_id', 'score', 'kind', 'answered_at')$$,
    $$attach_feedback('fb', 'fbk.survey', 'customer_id', 'comment', 'kind', 'answered_at')$$,
    $$attach_feedback('fb', 'fbk.survey', 'customer_id', 'score', 'score', 'answered_at')$$,
    $$attach_feedback('fb', 'fbk.survey', 'customer_id', 'score', 'kind', 'comment')$$,
    $$attach_feedback('fb', 'fbk.survey', 'customer_id', 'score', 'kind', 'answered_at', '0')$$,
    $$attach_feedback('fb', 'fbk.survey', 'customer_id', 'score', 'kind', 'answered_at', '-1 day')$$,
    $$detach_feedback('fb')$$);
-- Nothing was left behind by the refused calls.
SELECT count(*) AS attached FROM customer_tier.feedback_source;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'fbk.survey'::regclass;

-- Rows already in the table are backfilled.  Bad rows are skipped and kept
-- in feedback_rejects with the reason: score out of scale, unknown kind,
-- NULL customer, NULL or infinite time, a score that is not whole.
INSERT INTO fbk.survey VALUES
    (1, 9, 'nps', now() - interval '10 days', 'great'),
    (1, 4, 'csat', now() - interval '5 days', NULL),
    (2, 6, 'nps', now() - interval '400 days', 'old, outside the window'),
    (2, 10, 'nps', now() - interval '20 days', NULL),
    (2, 2, 'csat', now() - interval '21 days', NULL),
    (2, 11, 'nps', now(), 'out of scale'),
    (2, 0, 'csat', now(), 'out of scale'),
    (2, 3, 'ces', now(), 'unknown kind'),
    (NULL, 3, 'csat', now(), 'no customer'),
    (3, 3, 'csat', NULL, 'no time'),
    (3, 3, 'csat', 'infinity', 'infinite time'),
    (3, 7.5, 'nps', now(), 'not whole'),
    (3, NULL, 'nps', now(), 'no score'),
    (3, 3, NULL, now(), 'no kind'),
    (4, 7, 'nps', now() - interval '1 day', 'customer without orders');
SELECT customer_tier.attach_feedback('fb', 'fbk.survey', 'customer_id', 'score', 'kind', 'answered_at') AS customers;
SELECT operation, reason, row_image ->> 'comment' AS comment FROM ct_fb.feedback_rejects ORDER BY id;
SELECT feedback_table, customer_column, score_column, score_type, kind_column, answered_at_column, satisfaction_window
  FROM customer_tier.feedback_source;
-- A second attachment is refused.
SELECT customer_tier.attach_feedback('fb', 'fbk.survey', 'customer_id', 'score', 'kind', 'answered_at');
\echo :LAST_ERROR_SQLSTATE

-- Per customer: the latest answer, the latest of each kind, and the rolling
-- 365-day window.  Customer 2: its NPS 6 is 400 days old, outside the window
-- (NPS of {10} = 100), but it counts in answers; CSAT of {2} = 0; its latest
-- answer is the NPS 10 of 20 days ago.
-- recent_score: customer 1 (9 x 10 + (4 - 1) x 25) / 2 = 82.5; customer 2
-- (10 x 10 + (2 - 1) x 25) / 2 = 62.5; customer 4 7 x 10 = 70.
SELECT customer, answers, last_kind, last_score, last_nps, last_csat, window_nps, window_nps_answers,
       window_csat, window_csat_answers, recent_score,
       window_start = computed_at - interval '365 days' AS window_365
  FROM ct_fb.satisfaction ORDER BY customer;

-- The triggers: an INSERT of good and bad rows in one statement.
INSERT INTO fbk.survey VALUES (3, 10, 'nps', now(), NULL), (3, 10, 'nps', now(), NULL), (3, 5, 'csat', now(), NULL),
                              (3, 12, 'nps', now(), 'bad');
SELECT customer, answers, last_kind, last_score, window_nps, window_nps_answers, window_csat FROM ct_fb.satisfaction
 WHERE customer = 3;
SELECT count(*) AS rejects, max(operation) AS last_operation FROM ct_fb.feedback_rejects;
-- An UPDATE changes one of two identical answers: exactly one copy goes.
UPDATE fbk.survey SET score = 0 WHERE ctid = (SELECT min(ctid) FROM fbk.survey WHERE customer_id = 3 AND score = 10);
SELECT kind, score, count(*) FROM ct_fb.answers WHERE customer = 3 GROUP BY kind, score ORDER BY kind, score;
-- NPS of {10, 0} = 50 - 50 = 0.
SELECT customer, answers, window_nps, window_nps_answers FROM ct_fb.satisfaction WHERE customer = 3;
-- An UPDATE that moves answers from one customer to another.
UPDATE fbk.survey SET customer_id = 1 WHERE customer_id = 4;
SELECT customer, answers, last_kind, last_score, window_nps, window_nps_answers FROM ct_fb.satisfaction
 WHERE customer IN (1, 4) ORDER BY customer;
-- An UPDATE that makes a good row bad takes its answer out and rejects the new row.
UPDATE fbk.survey SET score = 99 WHERE customer_id = 1 AND kind = 'csat';
SELECT customer, answers, last_csat, window_csat FROM ct_fb.satisfaction WHERE customer = 1;
SELECT operation, reason FROM ct_fb.feedback_rejects ORDER BY id DESC LIMIT 1;
-- DELETE: a customer left without answers loses its row.
DELETE FROM fbk.survey WHERE customer_id = 2;
SELECT customer FROM ct_fb.satisfaction ORDER BY customer;
-- Deleting rows that were rejected changes nothing.
DELETE FROM fbk.survey WHERE customer_id IS NULL OR answered_at IS NULL;
SELECT count(*) AS answers FROM ct_fb.answers;

-- The churn rules read the recent score on their 0..10 scale: each
-- customer's recent_satisfaction is recent_score / 10 (NULL without answers
-- in the window), kept by the same triggers, and a value below the program's
-- satisfaction_below (default 7) raises the churn flag low_satisfaction.
SELECT c.customer, s.recent_score, c.recent_satisfaction,
       'low_satisfaction' = ANY (c.churn_flags) AS low_satisfaction
  FROM ct_fb.customers AS c LEFT JOIN ct_fb.satisfaction AS s USING (customer) ORDER BY 1;
-- Two detractor answers for customer 1 bring its recent score below 70.
INSERT INTO fbk.survey (customer_id, score, kind, answered_at)
VALUES (1, 0, 'nps', now() - interval '1 day'), (1, 1, 'nps', now());
SELECT c.customer, s.recent_score, c.recent_satisfaction, c.churn_flags, c.changed_by
  FROM ct_fb.customers AS c JOIN ct_fb.satisfaction AS s USING (customer) WHERE c.customer = 1;
DELETE FROM fbk.survey WHERE customer_id = 1 AND score IN (0, 1) AND kind = 'nps';
SELECT c.customer, s.recent_score, c.recent_satisfaction, c.churn_flags
  FROM ct_fb.customers AS c JOIN ct_fb.satisfaction AS s USING (customer) WHERE c.customer = 1;

-- The maintained answers equal the usable rows of the table, and the
-- maintained rollups equal a recomputation with the nps/csat aggregates.
SELECT count(*) AS differences FROM (
    (SELECT customer_id, kind::text, score::integer, answered_at FROM fbk.survey
      WHERE customer_id IS NOT NULL AND isfinite(answered_at) AND score = trunc(score)
        AND ((kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind = 'csat' AND score BETWEEN 1 AND 5))
     EXCEPT ALL SELECT customer, kind, score, answered_at FROM ct_fb.answers)
    UNION ALL
    (SELECT customer, kind, score, answered_at FROM ct_fb.answers
     EXCEPT ALL SELECT customer_id, kind::text, score::integer, answered_at FROM fbk.survey)) AS d;
SELECT count(*) AS differences
  FROM (SELECT customer,
               customer_tier.nps(score) FILTER (WHERE kind = 'nps' AND answered_at > now() - interval '365 days') AS nps,
               customer_tier.csat(score) FILTER (WHERE kind = 'csat' AND answered_at > now() - interval '365 days') AS csat,
               count(*) AS answers
          FROM ct_fb.answers GROUP BY customer) AS r
  FULL JOIN ct_fb.satisfaction AS s USING (customer)
 WHERE (r.nps, r.csat, r.answers) IS DISTINCT FROM (s.window_nps, s.window_csat, s.answers);

-- verify_feedback says the same, and names what a tampering changed.
SELECT * FROM customer_tier.verify_feedback('fb');
BEGIN;
DELETE FROM ct_fb.answers WHERE id = (SELECT min(id) FROM ct_fb.answers WHERE customer = 3 AND score = 10);
UPDATE ct_fb.satisfaction SET last_score = 1 WHERE customer = 1;
SELECT customer, problem,
       CASE problem WHEN 'answers differ' THEN (SELECT jsonb_agg(e - 'answered_at') FROM jsonb_array_elements(maintained) AS e)
            ELSE maintained - '{customer,last_answered_at,last_nps,last_csat,last_kind,window_csat,window_csat_answers}'::text[] END
         AS maintained,
       CASE problem WHEN 'answers differ' THEN (SELECT jsonb_agg(e - 'answered_at') FROM jsonb_array_elements(recomputed) AS e)
            ELSE recomputed - '{customer,last_answered_at,last_nps,last_csat,last_kind,window_csat,window_csat_answers}'::text[] END
         AS recomputed
  FROM customer_tier.verify_feedback('fb');
ROLLBACK;
-- Removing a feedback row whose copied answer is gone is drift.  The write
-- goes through: the answers of the customers it touched are copied again
-- from the feedback table (attach_feedback granted customer_tier_owner the
-- SELECT it needs), and the repair is logged.
SELECT has_table_privilege('customer_tier_owner', 'fbk.survey', 'SELECT') AS owner_reads_survey;
BEGIN;
DELETE FROM ct_fb.answers WHERE customer = 3;
DELETE FROM fbk.survey WHERE customer_id = 3 AND score = 10;
SELECT customer_tier.apply_pending();
SELECT count(*) AS answers_of_3 FROM ct_fb.answers WHERE customer = 3;
SELECT * FROM customer_tier.verify_feedback('fb');
SELECT program, customers, repaired, source FROM customer_tier.drift_repair;
ROLLBACK;
-- Without that SELECT, the write still goes through: the answers stay as
-- they were, the repair is logged as not made, and a WARNING says what to grant.
BEGIN;
REVOKE SELECT ON fbk.survey FROM customer_tier_owner;
DELETE FROM ct_fb.answers WHERE customer = 3;
DELETE FROM fbk.survey WHERE customer_id = 3 AND score = 10;
SELECT count(*) AS answers_of_3 FROM ct_fb.answers WHERE customer = 3;
SELECT program, customers, repaired, source FROM customer_tier.drift_repair;
SELECT customer, problem FROM customer_tier.verify_feedback('fb');
ROLLBACK;
SELECT customer_tier.verify_feedback(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.verify_feedback('nope');
\echo :LAST_ERROR_SQLSTATE

-- reject_mode = 'error': a bad row makes the write fail, with the reason.
SELECT customer_tier.configure_program('fb', reject_mode => 'error');
INSERT INTO fbk.survey VALUES (1, 6, 'nps', now(), NULL), (1, -1, 'nps', now(), 'bad');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO fbk.survey VALUES (1, 6, 'nps', now(), NULL);
SELECT customer, answers, last_score FROM ct_fb.satisfaction WHERE customer = 1;
SELECT customer_tier.configure_program('fb', reject_mode => 'skip');

-- TRUNCATE empties the answers and the rollups.
TRUNCATE fbk.survey;
SELECT (SELECT count(*) FROM ct_fb.answers) AS answers, (SELECT count(*) FROM ct_fb.satisfaction) AS satisfaction;

-- A customer who answered before their first order has their recent
-- satisfaction from that order on (NPS 9 x 10 / 10 = 9); deleting the answer
-- takes it away again.
INSERT INTO fbk.survey VALUES (77, 9, 'nps', now(), NULL);
INSERT INTO fbk.orders VALUES (77, 20, now());
SELECT customer, recent_satisfaction FROM ct_fb.customers WHERE customer = 77;
DELETE FROM fbk.survey WHERE customer_id = 77;
SELECT customer, recent_satisfaction, changed_by FROM ct_fb.customers WHERE customer = 77;
DELETE FROM fbk.orders WHERE customer_id = 77;

-- refresh_satisfaction moves every customer's window to now.
INSERT INTO fbk.survey VALUES (1, 10, 'nps', now() - interval '100 days', NULL);
UPDATE ct_fb.satisfaction SET window_nps = NULL, computed_at = '2020-01-01';
BEGIN;
SELECT customer_tier.refresh_satisfaction('fb') AS customers;
SELECT customer, window_nps, computed_at = now() AS now FROM ct_fb.satisfaction;
COMMIT;
SELECT customer_tier.refresh_satisfaction(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.refresh_satisfaction('nope');
\echo :LAST_ERROR_SQLSTATE

-- Detaching removes the triggers and empties what attaching filled; the
-- feedback table keeps its rows.
SELECT customer_tier.detach_feedback('fb');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'fbk.survey'::regclass;
SELECT has_table_privilege('customer_tier_owner', 'fbk.survey', 'SELECT') AS owner_reads_survey;
SELECT (SELECT count(*) FROM ct_fb.answers) AS answers, (SELECT count(*) FROM ct_fb.satisfaction) AS satisfaction,
       (SELECT count(*) FROM ct_fb.feedback_rejects) AS rejects, (SELECT count(*) FROM fbk.survey) AS survey_rows;
SELECT count(*) AS functions FROM pg_proc WHERE pronamespace = 'ct_fb'::regnamespace AND proname = 'maintain_feedback';
INSERT INTO fbk.survey VALUES (2, 10, 'nps', now(), NULL);
SELECT count(*) AS answers FROM ct_fb.answers;
SELECT customer_tier.detach_feedback('fb');
\echo :LAST_ERROR_SQLSTATE
SELECT customer_tier.verify_feedback('fb');
\echo :LAST_ERROR_SQLSTATE

-- Another window, a date answer time, a text kind: attach again.
CREATE TABLE fbk.csat_only (customer_id bigint, stars smallint, kind text, day date);
INSERT INTO fbk.csat_only VALUES (1, 5, 'csat', current_date - 10), (1, 4, 'csat', current_date - 40),
                                 (1, 1, 'csat', current_date - 100);
SELECT customer_tier.attach_feedback('fb', 'fbk.csat_only', 'customer_id', 'stars', 'kind', 'day',
                                     satisfaction_window => '30 days') AS customers;
-- Only the answer of 10 days ago is in the 30-day window: CSAT 100.
SELECT customer, answers, last_csat, window_csat, window_csat_answers, recent_score FROM ct_fb.satisfaction;

-- A feedback table dropped by its owner takes its triggers with it; detaching
-- afterwards still cleans up.
CREATE TABLE fbk.gone (customer_id bigint, score int, kind text, answered_at timestamptz);
SELECT customer_tier.detach_feedback('fb');
SELECT customer_tier.attach_feedback('fb', 'fbk.gone', 'customer_id', 'score', 'kind', 'answered_at') AS customers;
DROP TABLE fbk.gone;
SELECT customer_tier.detach_feedback('fb');
SELECT count(*) AS attached FROM customer_tier.feedback_source;
SELECT count(recent_satisfaction) AS customers_with_satisfaction FROM ct_fb.customers;
SELECT customer_tier.attach_feedback('fb', 'fbk.csat_only', 'customer_id', 'stars', 'kind', 'day') AS customers;

-- drop_program detaches the feedback table too.
SELECT customer_tier.drop_program('fb');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'fbk.csat_only'::regclass;
SELECT count(*) AS attached FROM customer_tier.feedback_source;

SET client_min_messages = warning;
DROP SCHEMA fbk CASCADE;
RESET client_min_messages;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;

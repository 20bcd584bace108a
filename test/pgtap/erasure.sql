-- Erasure leaves no trace: a customer with data in every table the extension
-- has (every table of the program's schema with a customer column, the
-- rejects, the global tables keyed by program and customer) is forgotten by
-- the admin role, and afterwards no row of any table of the extension's
-- schemas mentions the key.  Tables are found from the catalog, so tables
-- that other features add later are filled and scanned too.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

CREATE ROLE ct_er_admin LOGIN IN ROLE customer_tier_admin;
CREATE ROLE ct_er_bi LOGIN IN ROLE customer_tier_reader;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO customer_tier_admin', current_database()); END $$;
CREATE SCHEMA ct_er_crm AUTHORIZATION ct_er_admin;

SET ROLE ct_er_admin;
CREATE TABLE ct_er_crm.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text,
                               amount numeric, ordered_at timestamptz, status text);
INSERT INTO ct_er_crm.orders (customer, amount, ordered_at, status)
SELECT 'c' || (i % 25), i, now() - i * interval '4 days', 'paid' FROM generate_series(1, 200) AS i;
INSERT INTO ct_er_crm.orders (customer, amount, ordered_at, status) VALUES
    ('erase-me-7f3a', 40, now() - interval '300 days', 'paid'),
    ('erase-me-7f3a', 4000, now() - interval '3 days', 'paid'),
    ('erase-me-7f3a', NULL, now(), 'paid');                 -- kept in the rejects
SELECT lives_ok($$SELECT customer_tier.create_program('er', 'ct_er_crm.orders', 'customer', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid}', order_id_column => 'id')$$, 'program er');
-- a consumer of the change feed, so that the key's changes are kept as events
SELECT lives_ok($$SELECT customer_tier.register_consumer('er', 'crm')$$, 'a feed consumer of er');
SELECT lives_ok($$SELECT customer_tier.set_tiers('er', '[{"tier": "gold", "min_value_score": 60}, {"tier": "basic"}]')$$, 'tiers');
SELECT lives_ok($$SELECT customer_tier.pin_customer('er', 'erase-me-7f3a', 'gold', 'key account')$$, 'pin');
SELECT lives_ok($$SELECT customer_tier.unpin_customer('er', 'erase-me-7f3a')$$, 'unpin');
SELECT lives_ok($$SELECT customer_tier.pin_customer('er', 'erase-me-7f3a', 'basic', 'a second tier change')$$, 'pin again');
-- a second program over the same orders: forget(customer) covers both
SELECT lives_ok($$SELECT customer_tier.create_program('er2', 'ct_er_crm.orders', 'customer', 'amount', 'ordered_at')$$,
                'program er2');
SELECT lives_ok($$SELECT customer_tier.register_consumer('er2', 'crm')$$, 'a feed consumer of er2');
-- a survey table whose key column has another name: its rows and its
-- rejects' row images carry the key under "client"
CREATE TABLE ct_er_crm.survey (client text, score integer, kind text, answered_at timestamptz);
INSERT INTO ct_er_crm.survey VALUES ('c1', 9, 'nps', now()), ('erase-me-7f3a', 3, 'nps', now() - interval '2 days'),
                                    ('erase-me-7f3a', 42, 'nps', now());   -- out of scale: kept in feedback_rejects
SELECT lives_ok($$SELECT customer_tier.attach_feedback('er', 'ct_er_crm.survey', 'client', 'score', 'kind', 'answered_at')$$,
                'feedback attached to er');
SELECT lives_ok($$SELECT customer_tier.attach_feedback('er2', 'ct_er_crm.survey', 'client', 'score', 'kind', 'answered_at')$$,
                'feedback attached to er2');
SELECT lives_ok($$SELECT customer_tier.log_contact(p, 'erase-me-7f3a', 'phone', 'reached', 'prefers calls after 5pm')
                    FROM unnest('{er,er2}'::text[]) AS p$$,
                'a contact with a note in each program');
RESET ROLE;

-- A table that a feature added later might create (as customer_tier_owner,
-- like the program's other tables, with the admin's usual rights), empty so far.
SET ROLE customer_tier_owner;
CREATE TABLE ct_er.later_feature (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text NOT NULL,
                                  note text NOT NULL, score integer NOT NULL, at timestamptz NOT NULL DEFAULT now());
GRANT SELECT, INSERT, UPDATE, DELETE ON ct_er.later_feature TO customer_tier_admin;
RESET ROLE;

-- Every table of the programs' schemas that has a customer column and no row
-- for the key gets one: a copy of another customer's row where there is one,
-- else a row of plain values for its NOT NULL columns.
DO $fill$
DECLARE
    t record;
    cols text;
    vals text;
    has_key boolean;
BEGIN
    FOR t IN
        SELECT c.oid::regclass AS rel, c.oid
          FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('ct_er', 'ct_er2') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = c.oid AND a.attname = 'customer' AND NOT a.attisdropped)
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE customer::text = %L)', t.rel, 'erase-me-7f3a') INTO has_key;
        CONTINUE WHEN has_key;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute AS a
         WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attidentity = '' AND a.attgenerated = '';
        BEGIN
            EXECUTE format('INSERT INTO %1$s (%2$s) SELECT %2$s FROM jsonb_populate_record(NULL::%1$s, '
                           '(SELECT to_jsonb(r) FROM %1$s AS r LIMIT 1) || jsonb_build_object(''customer'', %3$L)) '
                           'WHERE EXISTS (SELECT FROM %1$s)', t.rel, cols, 'erase-me-7f3a');
            EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE customer::text = %L)', t.rel, 'erase-me-7f3a') INTO has_key;
            IF NOT has_key THEN
                SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
                       string_agg(CASE WHEN a.attname = 'customer' THEN quote_literal('erase-me-7f3a')
                                       WHEN a.attname = 'kind' THEN '''tier'''   -- events: a checked kind
                                       WHEN a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'name'::regtype) THEN '''x'''
                                       WHEN a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                                           'numeric'::regtype, 'float4'::regtype, 'float8'::regtype) THEN '1'
                                       WHEN a.atttypid = 'bool'::regtype THEN 'false'
                                       WHEN a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN 'now()'
                                       WHEN a.atttypid = 'interval'::regtype THEN '''1 day'''
                                       WHEN a.atttypid IN ('jsonb'::regtype, 'json'::regtype) THEN '''{}'''
                                       WHEN a.atttypid = 'uuid'::regtype THEN 'gen_random_uuid()'
                                       ELSE 'NULL' END || '::' || format_type(a.atttypid, a.atttypmod),
                                  ', ' ORDER BY a.attnum)
                  INTO cols, vals
                  FROM pg_attribute AS a
                 WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
                   AND a.attidentity = '' AND a.attgenerated = ''
                   AND (a.attnotnull AND NOT a.atthasdef OR a.attname = 'customer');
                EXECUTE format('INSERT INTO %s (%s) VALUES (%s)', t.rel, cols, vals);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'could not add a row for the key to %: %', t.rel, SQLERRM;
        END;
    END LOOP;
END
$fill$;

-- Where the key is, as a text search over every row of every table of the
-- extension's schema and of the programs' schemas.
CREATE FUNCTION pg_temp.ct_er_traces(key text)
RETURNS TABLE (rel regclass, rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    n bigint;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class AS c JOIN pg_namespace AS s ON s.oid = c.relnamespace
         WHERE (s.nspname = 'customer_tier' OR s.nspname LIKE 'ct\_%') AND c.relkind IN ('r', 'p', 'm')
           AND NOT c.relispartition AND s.nspname <> 'ct_er_crm'
         ORDER BY 1
    LOOP
        EXECUTE format('SELECT count(*) FROM %s AS r WHERE strpos(to_jsonb(r)::text, $1) > 0', t) INTO n USING key;
        IF n > 0 THEN
            rel := t;
            rows := n;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;

-- ==== before: the key is everywhere ====
SELECT is_empty($$
    SELECT c.oid::regclass FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('ct_er', 'ct_er2') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = c.oid AND a.attname = 'customer' AND NOT a.attisdropped)
       AND c.oid NOT IN (SELECT rel FROM pg_temp.ct_er_traces('erase-me-7f3a'))$$,
    'before: every per-program table with a customer column holds a row for the key');
SELECT ok((SELECT count(*) FROM pg_temp.ct_er_traces('erase-me-7f3a')) >= 5,
          'before: the search finds the key in customers, tier history, rejects and pins');
SELECT ok(EXISTS (SELECT FROM pg_temp.ct_er_traces('erase-me-7f3a') WHERE rel = 'ct_er.rejects'::regclass),
          'before: the rejects hold a row image with the key');
SELECT ok(EXISTS (SELECT FROM pg_temp.ct_er_traces('erase-me-7f3a') WHERE rel = 'customer_tier.pin'::regclass),
          'before: the pins hold the key');
SELECT ok(EXISTS (SELECT FROM ct_er.feedback_rejects WHERE row_image ->> 'client' = 'erase-me-7f3a'),
          'before: the feedback rejects hold a row image with the key under the survey''s own column name');

-- ==== who may erase ====
SET ROLE ct_er_bi;
SELECT throws_ok($$SELECT customer_tier.forget('er', 'erase-me-7f3a')$$, '42501', NULL, 'reader: no forget');
SELECT throws_ok($$SELECT customer_tier.forget('erase-me-7f3a')$$, '42501', NULL, 'reader: no forget(customer)');
SELECT throws_ok($$SELECT customer_tier.was_forgotten('er', 'erase-me-7f3a')$$, '42501', NULL, 'reader: no was_forgotten');
SELECT throws_ok($$SELECT * FROM customer_tier.erasure_log$$, '42501', NULL, 'reader: no erasure log');
RESET ROLE;

SET ROLE ct_er_admin;
SELECT throws_ok($$SELECT customer_tier.forget('erase-me-7f3a')$$, '55000', NULL,
                 'admin: refused while the CRM holds the customer''s orders');
SELECT throws_ok($$SELECT * FROM customer_tier.erasure_secret$$, '42501', NULL, 'admin: the secret is not readable');
SELECT throws_ok($$SELECT customer_tier.hmac_sha256(secret, '\x00') FROM customer_tier.erasure_secret$$, '42501', NULL,
                 'admin: not even through a function');
SELECT is(customer_tier.was_forgotten('er', 'erase-me-7f3a'), false, 'admin: not forgotten yet');
-- the CRM deletes its own rows first
DELETE FROM ct_er_crm.orders WHERE customer = 'erase-me-7f3a';
SELECT throws_ok($$SELECT customer_tier.forget('er', 'erase-me-7f3a')$$, '55000',
                 'program "er": the customer still has rows in ct_er_crm.survey',
                 'admin: refused while the attached survey table holds the customer''s answers');
DELETE FROM ct_er_crm.survey WHERE client = 'erase-me-7f3a';
SELECT lives_ok($$SELECT customer_tier.forget('erase-me-7f3a')$$, 'admin: forget(customer)');
SELECT is(customer_tier.was_forgotten('er', 'erase-me-7f3a'), true, 'admin: was_forgotten in er');
SELECT is(customer_tier.was_forgotten('er2', 'erase-me-7f3a'), true, 'admin: was_forgotten in er2');
SELECT is(customer_tier.was_forgotten('er', 'c1'), false, 'admin: another customer was not forgotten');
SELECT results_eq($$SELECT program, session_role, acting_role FROM customer_tier.erasure_log ORDER BY program$$,
                  $$VALUES ('er'::text, session_user, 'ct_er_admin'::name), ('er2', session_user, 'ct_er_admin')$$,
                  'the log names the program, the login and the role');
SELECT ok((SELECT bool_and(total > 0) FROM customer_tier.erasure_log), 'rows were deleted in both programs');
RESET ROLE;

-- ==== after: no trace ====
SELECT is_empty($$SELECT * FROM pg_temp.ct_er_traces('erase-me-7f3a')$$,
                'after: no table of the extension''s schemas mentions the key');
-- the search still finds the others: it is not blind
SELECT ok(EXISTS (SELECT FROM pg_temp.ct_er_traces('c17') WHERE rel = 'ct_er.customers'::regclass),
          'after: the search still finds another customer');
SELECT is_empty($$SELECT * FROM customer_tier.verify_program('er')$$, 'after: no drift');
-- a new order of the same key starts from nothing
SET ROLE ct_er_admin;
INSERT INTO ct_er_crm.orders (customer, amount, ordered_at, status) VALUES ('erase-me-7f3a', 10, now(), 'paid');
RESET ROLE;
SELECT customer_tier.apply_pending();  -- one transaction: applied now, not at commit
SELECT is((SELECT orders FROM ct_er.customers WHERE customer = 'erase-me-7f3a'), 1::bigint,
          'a new order after erasure derives a fresh customer');

SELECT * FROM finish();
ROLLBACK;

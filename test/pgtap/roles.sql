-- The three roles can do what docs/security.md says, and nothing more; nothing
-- beyond the pure building blocks is granted to PUBLIC; every SECURITY
-- DEFINER function pins its search_path.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

-- ==== the roles ====
SELECT ok(NOT r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolcreaterole AND NOT r.rolcreatedb
          AND NOT r.rolreplication AND NOT r.rolbypassrls,
          format('%s is a plain group role (NOLOGIN)', r.rolname))
  FROM pg_roles AS r
 WHERE r.rolname IN ('customer_tier_reader', 'customer_tier_writer', 'customer_tier_admin')
 ORDER BY r.rolname;
SELECT is((SELECT count(*)::int FROM pg_roles
            WHERE rolname IN ('customer_tier_reader', 'customer_tier_writer', 'customer_tier_admin')),
          3, 'the three roles exist');
SELECT is_member_of('customer_tier_reader', 'customer_tier_admin');
SELECT isnt_member_of('customer_tier_reader', 'customer_tier_writer');
SELECT isnt_member_of('customer_tier_writer', 'customer_tier_reader');
SELECT isnt_member_of('customer_tier_writer', 'customer_tier_admin');

-- Application logins, as a DBA would set them up.
CREATE ROLE ct_test_bi LOGIN IN ROLE customer_tier_reader;
CREATE ROLE ct_test_crm LOGIN IN ROLE customer_tier_writer;
CREATE ROLE ct_test_admin LOGIN IN ROLE customer_tier_admin;
CREATE ROLE ct_test_admin2 LOGIN IN ROLE customer_tier_admin;
CREATE ROLE ct_test_nobody LOGIN;
-- A program's schema is created by create_program, as its caller.
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO customer_tier_admin', current_database()); END $$;
-- The CRM's own schema and orders table, owned by the admin login; the CRM
-- application may write them.
CREATE SCHEMA ct_test_crm AUTHORIZATION ct_test_admin;
SET ROLE ct_test_admin;
CREATE TABLE ct_test_crm.orders (id int PRIMARY KEY, customer int, amount numeric, ordered_at timestamptz);
INSERT INTO ct_test_crm.orders VALUES (1, 1, 100, now() - interval '10 days'), (2, 2, 50, now() - interval '5 days');
GRANT USAGE ON SCHEMA ct_test_crm TO ct_test_crm;
GRANT SELECT, INSERT, UPDATE, DELETE ON ct_test_crm.orders TO ct_test_crm;
RESET ROLE;
-- A table the admin does not own.
CREATE TABLE public.ct_test_foreign_orders (customer int, amount numeric, ordered_at timestamptz);

-- ==== admin ====
SET ROLE ct_test_admin;
SELECT lives_ok($$SELECT customer_tier.create_program('shop', 'ct_test_crm.orders', 'customer', 'amount', 'ordered_at',
                                                      order_id_column => 'id')$$,
                'admin: create_program on a table it owns');
SELECT throws_ok($$SELECT customer_tier.create_program('other', 'public.ct_test_foreign_orders', 'customer', 'amount', 'ordered_at')$$,
                 '42501', NULL, 'admin: create_program on a table it does not own is refused');
SELECT lives_ok($$SELECT customer_tier.set_tiers('shop', '[{"tier": "vip", "min_value_score": 60}, {"tier": "standard"}]')$$,
                'admin: set_tiers');
SELECT lives_ok($$SELECT customer_tier.pin_customer('shop', '1', 'vip', 'key account')$$, 'admin: pin_customer');
SELECT lives_ok($$SELECT customer_tier.unpin_customer('shop', '1')$$, 'admin: unpin_customer');
SELECT lives_ok($$SELECT customer_tier.set_method('shop', 'rfm')$$, 'admin: set_method');
SELECT lives_ok($$SELECT customer_tier.configure_program('shop', downgrade_grace => '30 days')$$, 'admin: configure_program');
SELECT lives_ok($$SELECT customer_tier.refresh_breakpoints('shop')$$, 'admin: refresh_breakpoints');
SELECT lives_ok($$SELECT customer_tier.rescore_program('shop', 'test run')$$, 'admin: rescore_program');
SELECT is_empty($$SELECT * FROM customer_tier.verify_program('shop')$$, 'admin: verify_program finds no drift');
SELECT lives_ok($$SELECT customer_tier.rebuild_program('shop')$$, 'admin: rebuild_program');
SELECT lives_ok($$SELECT count(*) FROM ct_shop.rejects$$, 'admin: reads rejects');
SELECT lives_ok($$SELECT purchases FROM ct_shop.customers$$, 'admin: reads the internal states');
SELECT lives_ok($$SELECT * FROM customer_tier.pin$$, 'admin: reads the pins with their reasons');
RESET ROLE;

-- A second admin login manages the program another admin created ...
SET ROLE ct_test_admin2;
SELECT lives_ok($$SELECT customer_tier.rescore_program('shop', 'second admin')$$, 'second admin: rescore_program');
SELECT lives_ok($$SELECT customer_tier.pin_customer('shop', '2', 'gold', 'partner')$$, 'second admin: pin_customer');
SELECT lives_ok($$DELETE FROM ct_shop.tier_history WHERE customer = -1$$, 'second admin: may erase tier history');
-- ... but dropping it needs ownership of the orders table and the schema.
SELECT throws_ok($$SELECT customer_tier.drop_program('shop')$$, '42501', NULL,
                 'second admin: drop_program needs the owner of the program');
RESET ROLE;

-- ==== writer: a CRM application ====
SET ROLE ct_test_crm;
SELECT lives_ok($$INSERT INTO ct_test_crm.orders VALUES (3, 3, 70, now() - interval '1 day')$$,
                'writer: INSERT into the CRM''s orders');
SELECT lives_ok($$UPDATE ct_test_crm.orders SET customer = 1 WHERE id = 2$$,
                'writer: UPDATE moves an order to another customer');
SELECT lives_ok($$DELETE FROM ct_test_crm.orders WHERE id = 3$$, 'writer: DELETE an order');
SELECT lives_ok($$INSERT INTO ct_test_crm.orders VALUES (4, NULL, 5, now())$$,
                'writer: an unusable row goes to rejects without any grant on them');
SELECT throws_ok($$SELECT * FROM ct_shop.customers$$, '42501', NULL, 'writer: no SELECT on customers');
SELECT throws_ok($$SELECT * FROM ct_shop.rejects$$, '42501', NULL, 'writer: no SELECT on rejects');
SELECT throws_ok($$SELECT * FROM ct_shop.tier_history$$, '42501', NULL, 'writer: no SELECT on tier_history');
SELECT throws_ok($$UPDATE ct_shop.customers SET tier = 'vip'$$, '42501', NULL, 'writer: no UPDATE on customers');
SELECT throws_ok($$SELECT * FROM customer_tier.program$$, '42501', NULL, 'writer: no SELECT on the catalog');
SELECT throws_ok($$SELECT customer_tier.create_program('x', 'ct_test_crm.orders', 'customer', 'amount', 'ordered_at')$$,
                 '42501', NULL, 'writer: no create_program');
SELECT throws_ok($$SELECT customer_tier.set_tiers('shop', '[{"tier": "all"}]')$$, '42501', NULL, 'writer: no set_tiers');
SELECT throws_ok($$SELECT customer_tier.pin_customer('shop', '1', 'vip', 'x')$$, '42501', NULL, 'writer: no pin_customer');
SELECT throws_ok($$SELECT customer_tier.rescore_program('shop', 'x')$$, '42501', NULL, 'writer: no rescore_program');
SELECT throws_ok($$SELECT customer_tier.grant_program_access(p) FROM (SELECT NULL::customer_tier.program AS p) AS x$$,
                 '42501', NULL, 'writer: no grant_program_access');
SELECT lives_ok($$SELECT customer_tier.rfm_segment(5, 5, 5)$$, 'writer: pure functions');
SELECT CASE WHEN to_regclass('ct_shop.segments') IS NULL THEN skip('no segments view on this branch')
            ELSE lives_ok($$SELECT customer, tier FROM ct_shop.segments$$, 'writer: reads segments') END;
RESET ROLE;

-- The writer's statements maintained the program (applied at commit, or
-- now: this test runs in one transaction).
SELECT customer_tier.apply_pending();
SELECT results_eq($$SELECT customer, orders, monetary FROM ct_shop.customers ORDER BY customer$$,
                  $$VALUES (1, 2::bigint, 150::numeric)$$,
                  'the writer''s inserts, update and delete are applied to the customers');
SELECT results_eq($$SELECT order_id, reason FROM ct_shop.rejects$$, $$VALUES ('4', 'customer key is null')$$,
                  'the writer''s unusable row is in rejects');

-- ==== reader: BI ====
SET ROLE ct_test_bi;
SELECT lives_ok($$SELECT customer, tier, tier_since, value_score, segment, orders, monetary FROM ct_shop.customers$$,
                'reader: the customers'' scores, tiers and metrics');
SELECT throws_ok($$SELECT purchases FROM ct_shop.customers$$, '42501', NULL, 'reader: not the purchases state');
SELECT throws_ok($$SELECT refunds FROM ct_shop.customers$$, '42501', NULL, 'reader: not the refunds state');
SELECT throws_ok($$SELECT * FROM ct_shop.customers$$, '42501', NULL, 'reader: SELECT * names the states, refused');
SELECT lives_ok($$SELECT * FROM ct_shop.tier_history$$, 'reader: tier_history');
SELECT throws_ok($$SELECT * FROM ct_shop.rejects$$, '42501', NULL, 'reader: not the rejects (whole order rows)');
SELECT lives_ok($$SELECT * FROM customer_tier.program$$, 'reader: the programs');
SELECT lives_ok($$SELECT * FROM customer_tier.tier$$, 'reader: the tiers');
SELECT lives_ok($$SELECT program, customer, tier, pinned_at, pinned_by, expires_at FROM customer_tier.pin$$,
                'reader: the pins, without their reason');
SELECT throws_ok($$SELECT reason FROM customer_tier.pin$$, '42501', NULL, 'reader: not a pin''s reason (free text)');
SELECT throws_ok($$SELECT * FROM customer_tier.pin$$, '42501', NULL, 'reader: SELECT * on pins names the reason, refused');
SELECT lives_ok($$SELECT * FROM customer_tier.run$$, 'reader: the run log');
SELECT throws_ok($$DELETE FROM customer_tier.run$$, '42501', NULL, 'reader: no DELETE on the run log');
SELECT CASE WHEN to_regclass('ct_shop.segments') IS NULL THEN skip('no views on this branch', 3)
            ELSE collect_tap(lives_ok($$SELECT * FROM ct_shop.segments$$, 'reader: segments'),
                             lives_ok($$SELECT * FROM ct_shop.tier_summary$$, 'reader: tier_summary'),
                             lives_ok($$SELECT * FROM ct_shop.tier_changes$$, 'reader: tier_changes')) END;
SELECT throws_ok($$SELECT * FROM ct_test_crm.orders$$, '42501', NULL, 'reader: not the CRM''s orders');
SELECT throws_ok($$UPDATE ct_shop.customers SET tier = 'vip'$$, '42501', NULL, 'reader: no UPDATE on customers');
SELECT throws_ok($$DELETE FROM ct_shop.tier_history$$, '42501', NULL, 'reader: no DELETE on tier_history');
SELECT throws_ok($$INSERT INTO customer_tier.tier (program, tier, rank) VALUES ('shop', 'x', 9)$$,
                 '42501', NULL, 'reader: no INSERT on tiers');
SELECT throws_ok($$DELETE FROM customer_tier.pin$$, '42501', NULL, 'reader: no DELETE on pins');
SELECT throws_ok($$SELECT customer_tier.create_program('x', 'ct_test_crm.orders', 'customer', 'amount', 'ordered_at')$$,
                 '42501', NULL, 'reader: no create_program');
SELECT throws_ok($$SELECT customer_tier.drop_program('shop')$$, '42501', NULL, 'reader: no drop_program');
SELECT throws_ok($$SELECT customer_tier.set_tiers('shop', '[{"tier": "all"}]')$$, '42501', NULL, 'reader: no set_tiers');
SELECT throws_ok($$SELECT customer_tier.default_tiers('shop')$$, '42501', NULL, 'reader: no default_tiers');
SELECT throws_ok($$SELECT customer_tier.set_method('shop', 'abc')$$, '42501', NULL, 'reader: no set_method');
SELECT throws_ok($$SELECT customer_tier.pin_customer('shop', '1', 'vip', 'x')$$, '42501', NULL, 'reader: no pin_customer');
SELECT throws_ok($$SELECT customer_tier.unpin_customer('shop', '2')$$, '42501', NULL, 'reader: no unpin_customer');
SELECT throws_ok($$SELECT customer_tier.refresh_breakpoints('shop')$$, '42501', NULL, 'reader: no refresh_breakpoints');
SELECT throws_ok($$SELECT customer_tier.rescore_program('shop', 'x')$$, '42501', NULL, 'reader: no rescore_program');
SELECT throws_ok($$CALL customer_tier.reclassify('shop')$$, '42501', NULL, 'reader: no reclassify');
SELECT throws_ok($$SELECT customer_tier.configure_program('shop', downgrade_grace => '1 day')$$, '42501', NULL,
                 'reader: no configure_program');
SELECT throws_ok($$SELECT * FROM customer_tier.verify_program('shop')$$, '42501', NULL,
                 'reader: verify_program cannot read the orders');
RESET ROLE;

-- ==== EXECUTE on every configuration function: the admin only ====
CREATE TEMP TABLE ct_admin_functions (fn regprocedure);
INSERT INTO ct_admin_functions VALUES
    ('customer_tier.create_program(text, regclass, name, name, name, name, text[], name, timestamptz)'),
    ('customer_tier.drop_program(text)'),
    ('customer_tier.configure_program(text, double precision[], interval, text)'),
    ('customer_tier.create_program_objects(customer_tier.program)'),
    ('customer_tier.drop_program_objects(customer_tier.program)'),
    ('customer_tier.create_program_views(customer_tier.program)'),
    ('customer_tier.drop_program_views(customer_tier.program)'),
    ('customer_tier.grant_program_access(customer_tier.program)'),
    ('customer_tier.refresh_breakpoints(text)'),
    ('customer_tier.rescore_program(text, text, text)'),
    ('customer_tier.rescore_where(text, text, text, text)'),
    ('customer_tier.verify_program(text)'),
    ('customer_tier.rebuild_program(text)'),
    ('customer_tier.reclassify(text, integer, timestamptz)'),
    ('customer_tier.set_scoring_date(text, timestamptz)'),
    ('customer_tier.schedule(text, text)'),
    ('customer_tier.unschedule(text)'),
    ('customer_tier.set_tiers(text, jsonb)'),
    ('customer_tier.default_tiers(text)'),
    ('customer_tier.set_method(text, text)'),
    ('customer_tier.pin_customer(text, text, text, text, timestamptz)'),
    ('customer_tier.unpin_customer(text, text)');
SELECT ok(has_function_privilege('customer_tier_admin', f.fn, 'EXECUTE'), format('admin may execute %s', f.fn))
  FROM ct_admin_functions AS f ORDER BY f.fn::text;
SELECT is_empty($$SELECT f.fn FROM ct_admin_functions AS f
                   WHERE has_function_privilege('customer_tier_reader', f.fn, 'EXECUTE')$$,
                'the reader may execute no configuration function');
SELECT is_empty($$SELECT f.fn FROM ct_admin_functions AS f
                   WHERE has_function_privilege('customer_tier_writer', f.fn, 'EXECUTE')$$,
                'the writer may execute no configuration function');

-- ==== a login with none of the roles ====
SET ROLE ct_test_nobody;
SELECT lives_ok($$SELECT customer_tier.rfm_segment(5, 5, 5), customer_tier.score(3, '{1,2,3,4}')$$,
                'PUBLIC: the pure building blocks');
SELECT throws_ok($$SELECT * FROM ct_shop.tier_history$$, '42501', NULL, 'PUBLIC: no access to a program''s schema');
SELECT throws_ok($$SELECT * FROM customer_tier.pin$$, '42501', NULL, 'PUBLIC: not the catalog');
SELECT throws_ok($$SELECT customer_tier.create_program('x', 'ct_test_crm.orders', 'customer', 'amount', 'ordered_at')$$,
                 '42501', NULL, 'PUBLIC: no create_program');
RESET ROLE;

-- ==== the admin who created the program drops it ====
SET ROLE ct_test_admin;
SELECT lives_ok($$SELECT customer_tier.drop_program('shop')$$, 'admin: drop_program');
RESET ROLE;
SELECT hasnt_schema('ct_shop', 'the program''s schema is gone');

-- ==== what PUBLIC may use: the pure building blocks only ====
-- A function, aggregate, table, view or sequence of the extension's schema or
-- of a program's schema with any privilege for PUBLIC (grantee 0), other than
-- the pure functions and aggregates below.  Types carry only USAGE, which
-- reveals no data, and are left out.
SET ROLE ct_test_admin;
SELECT lives_ok($$SELECT customer_tier.create_program('shop', 'ct_test_crm.orders', 'customer', 'amount', 'ordered_at')$$,
                'a program to inspect');
RESET ROLE;
CREATE TEMP VIEW ct_public_privileges AS
SELECT n.nspname AS schema, 'function'::text AS kind, p.proname::text AS name, a.privilege_type
  FROM pg_proc AS p
  JOIN pg_namespace AS n ON n.oid = p.pronamespace,
       aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0
UNION ALL
SELECT n.nspname, c.relkind::text, c.relname::text, a.privilege_type
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace,
       aclexplode(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0
UNION ALL
SELECT a.attrelid::regclass::text, 'column', a.attname::text, x.privilege_type
  FROM pg_attribute AS a
  JOIN pg_class AS c ON c.oid = a.attrelid
  JOIN pg_namespace AS n ON n.oid = c.relnamespace,
       aclexplode(a.attacl) AS x
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND x.grantee = 0
UNION ALL
SELECT n.nspname, 'schema', n.nspname::text, a.privilege_type
  FROM pg_namespace AS n,
       aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0;
GRANT SELECT ON ct_public_privileges TO PUBLIC;

SELECT set_eq($$SELECT DISTINCT privilege_type FROM ct_public_privileges WHERE kind = 'function'$$,
              ARRAY['EXECUTE'], 'PUBLIC has EXECUTE and nothing else on functions');
SELECT is_empty($$SELECT schema, kind, name, privilege_type FROM ct_public_privileges
                   WHERE kind NOT IN ('function', 'schema')$$,
                'PUBLIC has no privilege on any table, view, sequence or column');
SELECT results_eq($$SELECT schema, privilege_type FROM ct_public_privileges WHERE kind = 'schema'$$,
                  $$VALUES ('customer_tier'::name, 'USAGE'::text)$$,
                  'PUBLIC has USAGE on schema customer_tier only, not on a program''s schema');
CREATE TEMP TABLE ct_public_allowed (name text PRIMARY KEY);
INSERT INTO ct_public_allowed SELECT unnest(ARRAY[
    -- order_stats: the metrics aggregate, its state type and maintenance
    'order_stats', 'order_stats_transfn', 'order_stats_combine', 'order_stats_final',
    'order_stats_state_in', 'order_stats_state_out', 'order_stats_state_recv', 'order_stats_state_send',
    'order_stats_partial', 'order_stats_state_merge', 'order_stats_state_subtract', 'order_stats_state_same',
    'order_stats_state_holds', 'order_stats_bounded', 'order_stats_of',
    'customer_metrics',
    'recency_days', 'tenure_days',
    -- scoring, RFM, ABC
    'breakpoints', 'breakpoints_accum', 'breakpoints_combine', 'breakpoints_final',
    'score', 'value_score', 'rfm_segment', 'rfm_segments', 'abc_class', 'abc_class_of',
    'abc_thresholds', 'abc_thresholds_accum', 'abc_thresholds_combine', 'abc_thresholds_final',
    -- satisfaction
    'nps', 'nps_accum', 'nps_combine', 'nps_final', 'nps_retract',
    'csat', 'csat_accum', 'csat_combine', 'csat_final', 'csat_retract',
    -- customer-lifetime models
    'bgnbd_fit', 'bgnbd_accum', 'bgnbd_final', 'model_rows_combine', 'p_alive', 'expected_purchases',
    'gamma_gamma_fit', 'gamma_gamma_accum', 'gamma_gamma_final', 'expected_spend', 'clv',
    -- tiers
    'qualify_tier', 'next_tier', 'score_customer', 'grace_span']);
SELECT is_empty($$
    SELECT DISTINCT schema, name FROM ct_public_privileges
     WHERE kind = 'function'
       AND NOT (schema = 'customer_tier' AND name IN (SELECT a.name FROM ct_public_allowed AS a))
     ORDER BY 1, 2$$,
    'PUBLIC may execute only the pure building blocks');
-- The allow-list holds only functions that touch no table: C or SQL
-- functions, never SECURITY DEFINER or VOLATILE.
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
     WHERE p.pronamespace = 'customer_tier'::regnamespace
       AND p.proname = ANY (ARRAY(SELECT a.name FROM ct_public_allowed AS a))
       AND (p.prosecdef OR p.provolatile = 'v' OR l.lanname NOT IN ('c', 'sql', 'internal'))$$,
    'the functions PUBLIC may execute are C or SQL, not SECURITY DEFINER, not VOLATILE');

-- ==== SECURITY DEFINER functions pin their search_path ====
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc AS p
     WHERE (p.pronamespace = 'customer_tier'::regnamespace
            OR p.pronamespace::regnamespace::text LIKE 'ct\_%')
       AND p.prosecdef
       AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
    'every SECURITY DEFINER function has SET search_path = pg_catalog, pg_temp');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc AS p
                 WHERE p.pronamespace = 'ct_shop'::regnamespace AND p.prosecdef$$,
              ARRAY['ct_shop.kpis(text,timestamp with time zone,timestamp with time zone)'],
              'the one SECURITY DEFINER function of a program is kpis (it reads the orders table for the reader and returns aggregates only)');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc AS p
                 WHERE p.pronamespace = 'customer_tier'::regnamespace AND p.prosecdef$$,
              ARRAY['customer_tier.erasure_hash(text)'],
              'the extension''s own schema has one SECURITY DEFINER function, erasure_hash, which reads only the erasure secret');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
     WHERE p.pronamespace = 'customer_tier'::regnamespace
       AND l.lanname = 'plpgsql'
       AND p.prokind <> 'p'  -- a procedure that commits cannot have a SET clause
       AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
    'every PL/pgSQL function of the extension pins its search_path');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc AS p
                 WHERE p.pronamespace = 'customer_tier'::regnamespace AND p.prokind = 'p'$$,
              ARRAY['customer_tier.reclassify(text,integer,timestamp with time zone)'],
              'the one procedure, which qualifies every name instead (it commits, so it has no SET clause)');
-- The tier history's shared trigger function: nobody but the owner may name
-- it in a trigger, and even then it writes only its own program's history.
SET ROLE ct_test_admin;
CREATE TABLE ct_test_crm.fake_customers (customer int, tier text, tier_reason text, changed_by text);
SELECT throws_ok($$CREATE TRIGGER t AFTER UPDATE ON ct_test_crm.fake_customers
                   REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
                   EXECUTE FUNCTION customer_tier.record_tier_change('shop')$$,
                 '42501', 'permission denied for function customer_tier.record_tier_change',
                 'admin: cannot put the tier history trigger function on a table of its own');
RESET ROLE;
CREATE TRIGGER t AFTER UPDATE ON ct_test_crm.fake_customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION customer_tier.record_tier_change('shop');
CREATE TRIGGER r AFTER INSERT ON ct_test_crm.fake_customers FOR EACH ROW
    EXECUTE FUNCTION customer_tier.record_tier_change('shop');
SELECT throws_ok($$INSERT INTO ct_test_crm.fake_customers VALUES (1, 'gold', 'upgrade', 'me')$$,
                 '39P01', 'customer_tier.record_tier_change() must be an AFTER INSERT or AFTER UPDATE statement trigger with its transition tables and the program''s name as its one argument',
                 'the tier history trigger function refuses to be a row trigger');
DROP TRIGGER r ON ct_test_crm.fake_customers;
INSERT INTO ct_test_crm.fake_customers VALUES (1, 'gold', 'upgrade', 'me');
SELECT throws_ok($$UPDATE ct_test_crm.fake_customers SET tier = 'diamond'$$,
                 '39P01', 'customer_tier.record_tier_change(''shop'') fires only on the customers table of program "shop"',
                 'the tier history trigger function refuses any table but its program''s customers table');
SELECT throws_ok($$SELECT customer_tier.record_tier_change()$$, '39P01',
                 'customer_tier.record_tier_change() must be an AFTER INSERT or AFTER UPDATE statement trigger with its transition tables and the program''s name as its one argument',
                 'the tier history trigger function cannot be called as a function');
DROP TABLE ct_test_crm.fake_customers;
SELECT is_empty($$
    SELECT format('%s %s', c.relkind, c.oid::regclass) FROM pg_class AS c
     WHERE c.relnamespace = 'ct_shop'::regnamespace AND c.relowner <> 'customer_tier_owner'::regrole
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure FROM pg_proc AS p
     WHERE p.pronamespace = 'ct_shop'::regnamespace AND p.proowner <> 'customer_tier_owner'::regrole
    UNION ALL
    SELECT 'schema ct_shop' FROM pg_namespace AS n
     WHERE n.oid = 'ct_shop'::regnamespace AND n.nspowner <> 'customer_tier_owner'::regrole$$,
    'everything in a program''s schema, and the schema, belongs to customer_tier_owner');

-- ==== DROP EXTENSION leaves the roles; an existing role is checked, not trusted ====
SET ROLE ct_test_admin;
SELECT lives_ok($$SELECT customer_tier.drop_program('shop')$$, 'admin: drop_program again');
RESET ROLE;
SET CONSTRAINTS ALL IMMEDIATE;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
SELECT has_role('customer_tier_reader', 'DROP EXTENSION leaves customer_tier_reader (another database may use it)');
SELECT has_role('customer_tier_writer', 'DROP EXTENSION leaves customer_tier_writer');
SELECT has_role('customer_tier_admin', 'DROP EXTENSION leaves customer_tier_admin');

ALTER ROLE customer_tier_reader LOGIN;
SELECT throws_ok('CREATE EXTENSION customer_tier', '42501',
                 'role "customer_tier_reader" already exists and is not a plain group role',
                 'an existing role that can log in is refused');
ALTER ROLE customer_tier_reader NOLOGIN;
ALTER ROLE customer_tier_admin SUPERUSER;
SELECT throws_ok('CREATE EXTENSION customer_tier', '42501',
                 'role "customer_tier_admin" already exists and is not a plain group role',
                 'an existing superuser role is refused');
ALTER ROLE customer_tier_admin NOSUPERUSER;
GRANT pg_read_server_files TO customer_tier_writer;
SELECT throws_ok('CREATE EXTENSION customer_tier', '42501',
                 'role "customer_tier_writer" already exists and is a member of other roles',
                 'an existing role that is a member of another role is refused');
REVOKE pg_read_server_files FROM customer_tier_writer;
CREATE SCHEMA customer_tier AUTHORIZATION ct_test_nobody;
SELECT throws_ok('CREATE EXTENSION customer_tier', '42501', 'schema "customer_tier" is owned by another role',
                 'a schema customer_tier created in advance by another role is refused');
DROP SCHEMA customer_tier;
SELECT lives_ok('CREATE EXTENSION customer_tier', 'existing plain group roles are used (a second database)');
SELECT is_member_of('customer_tier_reader', 'customer_tier_admin');

SELECT * FROM finish();
ROLLBACK;

-- Least privilege for personal data, found from the catalog so that tables
-- added later are covered:
--   * free text about a person (any column named note, notes, comment,
--     comments or row_image of any table or view of a program's schema, the
--     catalog's free text such as customer_tier.pin.reason, and any column of
--     the extension whose comment calls it free text) is not readable by the
--     BI reader role nor by the CRM writer role;
--   * every privilege PUBLIC holds on the extension's objects is EXECUTE on an
--     IMMUTABLE or STABLE function that touches no table, USAGE on a type, or
--     USAGE on schema customer_tier;
--   * derived state is in logged tables: an UNLOGGED table would come back
--     empty after a crash.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

CREATE ROLE ct_pd_bi LOGIN IN ROLE customer_tier_reader;
CREATE ROLE ct_pd_app LOGIN IN ROLE customer_tier_writer;
CREATE ROLE ct_pd_ops LOGIN IN ROLE customer_tier_admin;
CREATE SCHEMA ct_pd_crm;
CREATE TABLE ct_pd_crm.orders (id int PRIMARY KEY, customer int, amount numeric, ordered_at timestamptz);
INSERT INTO ct_pd_crm.orders VALUES (1, 1, 100, now()), (2, 2, NULL, now()), (3, 3, 20, now() - interval '9 days');
SELECT lives_ok($$SELECT customer_tier.create_program('pd', 'ct_pd_crm.orders', 'customer', 'amount', 'ordered_at',
                                                      order_id_column => 'id')$$, 'a program with a reject');
SELECT lives_ok($$SELECT customer_tier.pin_customer('pd', '3', 'normal', 'ct-pd-secret: in a dispute with us')$$,
                'a pin with a reason');
SELECT lives_ok($$SELECT customer_tier.log_contact('pd', '1', 'phone', 'reached', 'ct-pd-secret: asked about her divorce')$$,
                'a contact with a note');

-- ==== free text is not readable by the reader ====
-- Free text: in a program's schema, by column name; in the catalog (schema
-- customer_tier), the columns known to hold free text, and anywhere a column
-- whose comment says "free text".
CREATE TEMP VIEW ct_pd_free_text AS
SELECT c.oid::regclass AS rel, a.attname
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE (n.nspname = 'customer_tier' OR (n.nspname LIKE 'ct\_%' AND n.nspname <> 'ct_pd_crm'))
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND ((n.nspname LIKE 'ct\_%' AND a.attname IN ('note', 'notes', 'comment', 'comments', 'row_image'))
        OR (n.nspname = 'customer_tier' AND (c.relname, a.attname) IN (('pin', 'reason')))
        OR col_description(c.oid, a.attnum) ~* 'free[- ]text');
SELECT ok((SELECT count(*) FROM ct_pd_free_text) >= 1, 'there is free text to protect (the rejects'' row images at least)');
SELECT ok(EXISTS (SELECT FROM ct_pd_free_text WHERE rel = 'customer_tier.pin'::regclass AND attname = 'reason'),
          'the catalog''s free text is covered: customer_tier.pin.reason');
SELECT ok(EXISTS (SELECT FROM ct_pd_free_text WHERE rel = 'ct_pd.contacts'::regclass AND attname = 'note'),
          'the contact notes are covered');
SELECT is_empty($$SELECT rel, attname FROM ct_pd_free_text
                   WHERE has_column_privilege('customer_tier_reader', rel, attname, 'SELECT')$$,
                'the reader may read no free text: no note, comment, row image or pin reason of any table or view');
SELECT is_empty($$SELECT rel, attname FROM ct_pd_free_text
                   WHERE has_column_privilege('customer_tier_writer', rel, attname, 'SELECT')$$,
                'the writer may read no free text: no note, comment, row image or pin reason of any table or view');
-- A view shows what its owner reads: a view of a program's schema that
-- reads a table holding free text is free text too, unless it is shown not
-- to return it (follow_ups_due returns the last outcome, never the note).
SELECT is_empty($$SELECT c.oid::regclass FROM pg_class AS c
                   WHERE c.relnamespace = 'ct_pd'::regnamespace AND c.relkind IN ('v', 'm')
                     AND has_table_privilege('customer_tier_writer', c.oid, 'SELECT')
                     AND c.relname <> 'segments'$$,
                'the writer reads no view of a program but segments');
SELECT ok(has_column_privilege('customer_tier_reader', 'customer_tier.pin', 'tier', 'SELECT')
          AND has_column_privilege('customer_tier_reader', 'ct_pd.contacts', 'channel', 'SELECT'),
          'the check is not blind: the reader reads the pins'' tiers and the contacts'' channels');
SELECT ok(has_column_privilege('customer_tier_admin', 'customer_tier.pin', 'reason', 'SELECT'),
          'the admin reads the pins'' reasons');
SELECT ok(has_column_privilege('customer_tier_reader', 'ct_pd.customers', 'tier', 'SELECT'),
          'the check is not blind: the reader reads the customers'' tiers');
SET ROLE ct_pd_bi;
SELECT throws_ok($$SELECT row_image FROM ct_pd.rejects$$, '42501', NULL, 'reader: reject row images are refused');
SELECT lives_ok($$SELECT tier FROM ct_pd.customers$$, 'reader: tiers are readable');
SELECT results_eq($$SELECT program, rejects FROM customer_tier.retention_policy$$,
                  $$VALUES ('pd'::text, '90 days'::interval)$$, 'reader: reads the retention policy');
SELECT throws_ok($$SELECT customer_tier.set_retention('pd', '{"rejects": "1 day"}')$$, '42501', NULL,
                 'reader: may not change retention');
SELECT throws_ok($$SELECT customer_tier.purge('pd')$$, '42501', NULL, 'reader: may not purge');
SELECT throws_ok($$SELECT customer_tier.erasure_hash('1')$$, '42501', NULL, 'reader: may not hash keys');
SELECT throws_ok($$SELECT reason FROM customer_tier.pin$$, '42501', NULL, 'reader: pin reasons are refused');
SELECT throws_ok($$SELECT note FROM ct_pd.contacts$$, '42501', NULL, 'reader: contact notes are refused');
SELECT results_eq($$SELECT customer, tier FROM customer_tier.pin$$, $$VALUES ('3'::text, 'normal'::text)$$,
                  'reader: reads the pins without their reason');
RESET ROLE;
SET ROLE ct_pd_app;
SELECT throws_ok($$SELECT note FROM ct_pd.contacts$$, '42501', NULL, 'writer: contact notes are refused');
SELECT throws_ok($$SELECT * FROM ct_pd.follow_ups_due$$, '42501', NULL, 'writer: follow_ups_due is refused');
SELECT throws_ok($$SELECT reason FROM customer_tier.pin$$, '42501', NULL, 'writer: pin reasons are refused');
SELECT ok(customer_tier.log_contact('pd', '1', 'email', 'sent', 'ct-pd-secret: second note') > 0,
          'writer: logs a contact with a note');
RESET ROLE;
SET ROLE ct_pd_ops;
SELECT results_eq($$SELECT reason FROM customer_tier.pin$$, $$VALUES ('ct-pd-secret: in a dispute with us'::text)$$,
                  'admin: reads the pin reason');
RESET ROLE;
-- ==== the admin can erase: DELETE on every table that holds per-customer rows ====
-- forget() and purge() run with the admin's rights, so every table of a
-- program's schema with a customer or row_image column must let the admin delete.
SELECT is_empty($$SELECT c.oid::regclass FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                   WHERE n.nspname LIKE 'ct\_%' AND n.nspname <> 'ct_pd_crm' AND c.relkind IN ('r', 'p')
                     AND EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                                    AND a.attname IN ('customer', 'row_image'))
                     AND NOT has_table_privilege('customer_tier_admin', c.oid, 'DELETE')$$,
                'the admin role may delete from every per-customer table of a program');

-- ==== what PUBLIC holds ====
CREATE TEMP VIEW ct_pd_public AS
SELECT 'function'::text AS kind, p.oid::regprocedure::text AS object, a.privilege_type, p.oid AS fn
  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace,
       aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0
UNION ALL
SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'relation' END, c.oid::regclass::text, a.privilege_type, NULL
  FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace,
       aclexplode(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0
UNION ALL
SELECT 'column', c.oid::regclass::text || '.' || t.attname, a.privilege_type, NULL
  FROM pg_attribute AS t JOIN pg_class AS c ON c.oid = t.attrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace,
       aclexplode(t.attacl) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0
UNION ALL
SELECT 'type', y.oid::regtype::text, a.privilege_type, NULL
  FROM pg_type AS y JOIN pg_namespace AS n ON n.oid = y.typnamespace,
       aclexplode(coalesce(y.typacl, acldefault('T', y.typowner))) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0
UNION ALL
SELECT 'schema', n.nspname::text, a.privilege_type, NULL
  FROM pg_namespace AS n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
 WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND a.grantee = 0;

SELECT ok((SELECT count(*) FROM ct_pd_public WHERE kind = 'function') > 10,
          'PUBLIC may execute the pure building blocks (the listing is not empty)');
SELECT is_empty($$SELECT kind, object, privilege_type FROM ct_pd_public
                   WHERE NOT (kind = 'function' AND privilege_type = 'EXECUTE')
                     AND NOT (kind = 'type' AND privilege_type = 'USAGE')
                     AND NOT (kind = 'schema' AND object = 'customer_tier' AND privilege_type = 'USAGE')
                   ORDER BY 1, 2$$,
                'PUBLIC holds nothing but EXECUTE on functions, USAGE on types and on schema customer_tier');
SELECT is_empty($$SELECT x.object FROM ct_pd_public AS x JOIN pg_proc AS p ON p.oid = x.fn
                   WHERE p.provolatile = 'v' OR p.prosecdef ORDER BY 1$$,
                'every function PUBLIC may execute is IMMUTABLE or STABLE, and not SECURITY DEFINER');
-- No table access: no dependency on a relation (SQL-standard bodies record
-- theirs), and no relation of the extension's schemas named, schema-qualified
-- as the extension's SQL always names them, in a body.
SELECT is_empty($$SELECT x.object, d.refobjid::regclass FROM ct_pd_public AS x
                    JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = x.fn
                                       AND d.refclassid = 'pg_class'::regclass
                    JOIN pg_class AS c ON c.oid = d.refobjid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                   ORDER BY 1$$,
                'no function PUBLIC may execute depends on a table or view');
SELECT is_empty($$SELECT x.object, c.oid::regclass FROM ct_pd_public AS x
                    JOIN pg_proc AS p ON p.oid = x.fn
                    JOIN pg_language AS l ON l.oid = p.prolang AND l.lanname NOT IN ('c', 'internal'),
                         pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                   WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%') AND n.nspname <> 'ct_pd_crm'
                     AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                     AND strpos(p.prosrc, n.nspname || '.' || c.relname) > 0
                   ORDER BY 1$$,
                'no function PUBLIC may execute names a table, view or sequence of the extension');
-- and the checks above can see a violation: a planted grant is caught
CREATE FUNCTION customer_tier.ct_pd_planted() RETURNS bigint LANGUAGE sql VOLATILE
RETURN (SELECT count(*) FROM customer_tier.program);
SELECT isnt_empty($$SELECT x.object FROM ct_pd_public AS x JOIN pg_proc AS p ON p.oid = x.fn
                     WHERE p.provolatile = 'v' OR p.prosecdef$$,
                  'a planted VOLATILE function granted to PUBLIC would be caught');
SELECT isnt_empty($$SELECT 1 FROM ct_pd_public AS x
                      JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = x.fn
                                         AND d.refclassid = 'pg_class'::regclass
                      JOIN pg_class AS c ON c.oid = d.refobjid AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')$$,
                  'a planted function reading a table would be caught');
DROP FUNCTION customer_tier.ct_pd_planted();

-- ==== derived state survives a crash: nothing UNLOGGED ====
SELECT is_empty($$SELECT c.oid::regclass FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                   WHERE (n.nspname = 'customer_tier' OR n.nspname LIKE 'ct\_%')
                     AND c.relpersistence = 'u'$$,
                'no table, index or sequence of the extension or of a program is UNLOGGED');
SELECT ok((SELECT count(*) FROM pg_class AS c WHERE c.relnamespace = 'ct_pd'::regnamespace AND c.relpersistence = 'p') > 0,
          'the program''s tables are found (and are logged)');

SELECT * FROM finish();
ROLLBACK;

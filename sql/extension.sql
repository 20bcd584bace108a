-- The extension installs into its own fixed schema and drops cleanly.
\set SHOW_CONTEXT never
CREATE EXTENSION customer_tier;
SELECT extname, extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'customer_tier';
-- Not relocatable: moving it is refused.
ALTER EXTENSION customer_tier SET SCHEMA public;
\echo :LAST_ERROR_SQLSTATE
DROP EXTENSION customer_tier;
-- The schema stays only if it existed before; CREATE EXTENSION made it, so it is
-- left for the DBA to drop, as for every extension with a fixed schema.
DROP SCHEMA customer_tier;
-- A schema pre-created by another role is refused (CVE-2022-2625 class).
CREATE ROLE ct_intruder;
CREATE SCHEMA customer_tier AUTHORIZATION ct_intruder;
CREATE EXTENSION customer_tier;
\echo :LAST_ERROR_SQLSTATE
DROP SCHEMA customer_tier;
DROP ROLE ct_intruder;

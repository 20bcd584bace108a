-- customer_tier upgrade script: 0.2.0 -> 0.3.0 (ALTER EXTENSION customer_tier UPDATE).
--
-- 0.2.0 is sql/releases/customer_tier--0.2.0.sql, frozen; 0.3.0 is what
-- sql/install/*.sql builds.  test/scripts/upgrade.sh checks that a database
-- updated from every frozen release holds exactly what CREATE EXTENSION builds.
\echo Use "ALTER EXTENSION customer_tier UPDATE" to load this file. \quit

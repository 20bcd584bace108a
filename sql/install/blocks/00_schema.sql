-- customer_tier install script, part 00: the schema and its guard.
-- The install script is concatenated from sql/install/blocks/NN_*.sql, then
-- sql/install/programs/NN_*.sql, in name order (Makefile).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- A schema created in advance by another role could hold hostile objects that
-- our own SQL would then resolve (the attack class of CVE-2022-2625): refuse it.
DO $guard$
BEGIN
    IF (SELECT n.nspowner OPERATOR(pg_catalog.<>) u.oid
          FROM pg_catalog.pg_namespace n, pg_catalog.pg_roles u
         WHERE n.nspname OPERATOR(pg_catalog.=) 'customer_tier'
           AND u.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RAISE EXCEPTION 'schema "customer_tier" is owned by another role'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'CREATE EXTENSION customer_tier would place its objects in a schema that another role controls.',
                  HINT = 'Drop the schema, or have its owner create the extension.';
    END IF;
END
$guard$;

COMMENT ON SCHEMA customer_tier IS
    'customer_tier: customer value scores, tiers, churn flags and satisfaction';

-- The building blocks are pure functions and aggregates: anyone may use them.
GRANT USAGE ON SCHEMA customer_tier TO PUBLIC;

-- Every object the extension installs is labelled and documented:
-- comments, volatility, parallel safety, combine functions on aggregates.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

SELECT has_schema('customer_tier');

-- Every function, procedure and aggregate carries a COMMENT.
SELECT is_empty($$
    SELECT p.oid::regprocedure::text
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_tier'
     WHERE obj_description(p.oid, 'pg_proc') IS NULL
$$, 'every function, procedure and aggregate has a comment');

-- Every type, table and view carries a COMMENT.
SELECT is_empty($$
    SELECT t.oid::regtype::text
      FROM pg_type t
      JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_tier'
     WHERE obj_description(t.oid, 'pg_type') IS NULL
       AND (t.typrelid = 0 OR obj_description(t.typrelid, 'pg_class') IS NULL)
    UNION ALL
    SELECT c.oid::regclass::text
      FROM pg_class c
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'customer_tier'
     WHERE c.relkind IN ('r', 'v', 'm', 'p', 'c')
       AND obj_description(c.oid, 'pg_class') IS NULL
$$, 'every type, table and view has a comment');

-- Aggregates can be split across parallel workers and machines.
SELECT is_empty($$
    SELECT a.aggfnoid::regprocedure::text
      FROM pg_aggregate a
      JOIN pg_proc p ON p.oid = a.aggfnoid
     WHERE p.pronamespace = 'customer_tier'::regnamespace
       AND (a.aggcombinefn = 0 OR p.proparallel <> 's' OR a.aggtranstype = 'internal'::regtype)
$$, 'every aggregate is parallel safe, has a combine function and a real state type');

-- The state types have text input and output, so a distributed engine can ship them.
SELECT is_empty($$
    SELECT a.aggfnoid::regprocedure::text
      FROM pg_aggregate a
      JOIN pg_proc p ON p.oid = a.aggfnoid
      JOIN pg_type t ON t.oid = a.aggtranstype
     WHERE p.pronamespace = 'customer_tier'::regnamespace
       AND (t.typinput = 0 OR t.typoutput = 0)
$$, 'every aggregate state type has text input and output');

-- C functions are labelled on purpose: nothing left at the default VOLATILE
-- unless it truly is, and nothing PARALLEL UNSAFE by accident.
SELECT is_empty($$
    SELECT p.oid::regprocedure::text
      FROM pg_proc p
      JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'c'
     WHERE p.pronamespace = 'customer_tier'::regnamespace
       AND p.provolatile = 'v'
       -- volatile by nature: creates and drops a program's objects; applies
       -- a transaction's changes; the trigger and event trigger functions
       AND p.oid NOT IN ('customer_tier.run_as_owner(text, text, jsonb)'::regprocedure,
                         'customer_tier.apply_pending()'::regprocedure)
       AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
$$, 'no C function is volatile but run_as_owner, apply_pending and the trigger functions');

SELECT * FROM finish();
ROLLBACK;

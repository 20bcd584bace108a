-- A program's BI views for every key type: commented throughout, keyed by the
-- CRM's own type, free of internal state, and joined through the primary key.
BEGIN;
CREATE EXTENSION customer_tier;
SELECT no_plan();

-- For each key type, a CRM customer table and an orders table with that key,
-- and a program over the orders.
CREATE FUNCTION pg_temp.make_program(name text, key_type text, key_expr text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE pg_temp.%I (id %s PRIMARY KEY, name text NOT NULL)', name || '_customers', key_type);
    EXECUTE format('CREATE TABLE pg_temp.%I (customer_id %s, amount numeric, ordered_at timestamptz)', name || '_orders', key_type);
    EXECUTE format('INSERT INTO pg_temp.%I SELECT %s, ''n'' || i FROM generate_series(1, 2000) AS i',
                   name || '_customers', key_expr);
    EXECUTE format($sql$INSERT INTO pg_temp.%I SELECT %s, i %% 97, now() - (i %% 300) * interval '1 day'
                         FROM generate_series(1, 2000) AS i, generate_series(1, 2) AS k$sql$,
                   name || '_orders', key_expr);
    PERFORM customer_tier.create_program(name, format('pg_temp.%I', name || '_orders')::regclass,
                                         'customer_id', 'amount', 'ordered_at');
    EXECUTE format('ANALYZE pg_temp.%I', name || '_customers');
    EXECUTE format('ANALYZE %I.customers', 'ct_' || name);
END
$$;
SELECT pg_temp.make_program('k_int4', 'integer', 'i');
SELECT pg_temp.make_program('k_int8', 'bigint', 'i::bigint * 1000000007');
SELECT pg_temp.make_program('k_uuid', 'uuid', 'md5(i::text)::uuid');
SELECT pg_temp.make_program('k_text', 'text', '''c'' || i');
SELECT pg_temp.make_program('k_varchar', 'varchar(12)', '''c'' || i');

-- pg_temp.plan_of(query): the plan text of a query, for matching.
\ir fixtures/plan_of.sql

SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_class AS c
     WHERE c.relnamespace::regnamespace::text LIKE 'ct\_k\_%' AND c.relkind = 'v'
       AND obj_description(c.oid, 'pg_class') IS NULL
    UNION ALL
    SELECT format('%s.%s', c.oid::regclass, a.attname)
      FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0
     WHERE c.relnamespace::regnamespace::text LIKE 'ct\_k\_%' AND c.relkind = 'v'
       AND col_description(c.oid, a.attnum) IS NULL
    UNION ALL
    SELECT p.oid::regprocedure::text
      FROM pg_proc AS p
     WHERE p.pronamespace::regnamespace::text LIKE 'ct\_k\_%'
       AND obj_description(p.oid, 'pg_proc') IS NULL
$$, 'every view, view column and function of a program has a comment');

SELECT set_eq($$
    SELECT c.relnamespace::regnamespace::text, c.relname::text
      FROM pg_class AS c WHERE c.relnamespace::regnamespace::text LIKE 'ct\_k\_%' AND c.relkind = 'v'
$$, $$
    SELECT 'ct_' || p.name, v FROM customer_tier.program AS p,
           unnest('{segments,tier_summary,segment_summary,tier_changes,last_run_migration,follow_ups_due,churn_risk}'::text[]) AS v
$$, 'each program has segments, tier_summary, segment_summary, tier_changes, last_run_migration, follow_ups_due and churn_risk');

SELECT is_empty($$
    SELECT format('%s.%s', c.oid::regclass, a.attname)
      FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0
     WHERE c.relnamespace::regnamespace::text LIKE 'ct\_k\_%' AND c.relkind = 'v'
       AND (a.attname IN ('purchases', 'refunds', 'remove_purchases', 'remove_refunds')
            OR a.atttypid = 'customer_tier.order_stats_state'::regtype)
$$, 'no view shows the internal order_stats states');

SELECT is(format_type(a.atttypid, a.atttypmod), p.customer_type::text,
          format('%s.segments.customer keeps the key type %s', p.data_schema, p.customer_type))
  FROM customer_tier.program AS p
  JOIN pg_attribute AS a ON a.attrelid = format('%I.segments', p.data_schema)::regclass AND a.attname = 'customer'
 ORDER BY p.name;

-- Joining from the CRM's customer table reaches the program's primary key
-- with an index condition on the join column and no cast of the key (varchar
-- is relabelled to text, a binary-compatible no-op).
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SELECT matches(pg_temp.plan_of(format(
           'SELECT c.name, s.tier, s.value_score FROM pg_temp.%I AS c JOIN %I.segments AS s ON s.customer = c.id WHERE c.name = %L',
           p.name || '_customers', p.data_schema, 'n7')),
       'Index Scan using customers_pkey on customers c_1\s+Index Cond: \(\(?customer\)?(::text)? = \(?c\.id\)?(::text)?\)',
       format('%s: the join uses ct_%s.customers_pkey', p.name, p.name))
  FROM customer_tier.program AS p ORDER BY p.name;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- The joined rows are the program's.
SELECT is((SELECT count(*) FROM pg_temp.k_text_customers AS c JOIN ct_k_text.segments AS s ON s.customer = c.id),
          (SELECT count(*) FROM ct_k_text.customers), 'every segment row joins its CRM customer');

SELECT * FROM finish();
ROLLBACK;

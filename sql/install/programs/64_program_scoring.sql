-- customer_tier install script, part 64: the one scoring path of a program.
--
-- A customer's scores and tier come from one C function, ScoreStoredCustomer
-- (src/programs/program_scoring.c), called both by the trigger path's commit step
-- (for the customers a transaction touched) and by the runs through
-- scored_row (for everyone): R, F and M scores against the population
-- breakpoints stored by the last run, the value score and RFM segment, the
-- qualified tier (qualify_tier), and hysteresis and pins (next_tier).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- The columns the scoring sets, in order: their one definition is in C
-- (scored_column_names, src/programs/program_scoring.c).
CREATE OR REPLACE FUNCTION customer_tier.program_scored_columns()
RETURNS text
AS 'MODULE_PATHNAME', 'program_scored_columns'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.program_scored_columns() IS
    'the per-customer columns the scoring of a program sets, in order';

-- SQL text of a program's scoring configuration, as the C code caches it
-- (src/programs/program_config.c): a CTE "cfg" with the program's breakpoints, weights, grace, compiled rules,
-- tier names by rank, whether it has pins (most programs have none, and
-- then no customer's pin is looked up), churn settings and fitted models.
-- MATERIALIZED: program_tier_config runs once.
CREATE OR REPLACE FUNCTION customer_tier.program_config_cte_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$cfg AS MATERIALIZED (
        SELECT p.name, p.r_breakpoints, p.f_breakpoints, p.m_breakpoints, p.score_weights,
               p.downgrade_grace, tc.rules, tc.model_rules, tc.tiers,
               EXISTS (SELECT FROM customer_tier.pin AS pin
                        WHERE pin.program OPERATOR(pg_catalog.=) p.name) AS has_pins,
               (SELECT customer_tier.churn_settings_array(cs) FROM customer_tier.churn_settings AS cs
                 WHERE cs.program OPERATOR(pg_catalog.=) p.name) AS churn,
               pm.bgnbd AS bg, pm.gamma_gamma AS gg,
               (SELECT pg_catalog.array_agg(coalesce(cd.every, customer_tier.default_cadence(t.tier))
                                            ORDER BY t.rank)
                  FROM customer_tier.tier AS t
                  LEFT JOIN customer_tier.cadence AS cd
                    ON cd.program OPERATOR(pg_catalog.=) t.program AND cd.tier OPERATOR(pg_catalog.=) t.tier
                 WHERE t.program OPERATOR(pg_catalog.=) p.name) AS cadences
          FROM customer_tier.program AS p
          LEFT JOIN customer_tier.program_model AS pm ON pm.program OPERATOR(pg_catalog.=) p.name
          CROSS JOIN LATERAL customer_tier.program_tier_config(p.name) AS tc
         WHERE p.name OPERATOR(pg_catalog.=) %L)$sql$, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) IS
    'SQL text of the CTE holding a program''s scoring configuration for one statement';

-- One customer's scores and tier, computed in C by the same code as the
-- building blocks score(), value_score(), rfm_segment(), qualify_tier() and
-- next_tier(), composed as the scoring path composes them (src/programs/program_scoring.c);
-- with model_rules, qualify_tier's overload with the conditions on p_alive and CLV.
CREATE OR REPLACE FUNCTION customer_tier.score_customer(
    last_order timestamptz, orders bigint, monetary numeric, first_order timestamptz,
    r_breakpoints double precision[], f_breakpoints double precision[], m_breakpoints double precision[],
    weights double precision[], rules double precision[],
    current_rank integer, pending_since timestamptz, abc_class text, pinned_rank integer,
    grace interval, as_of timestamptz,
    model_rules double precision[], p_alive double precision, clv double precision,
    OUT r_score integer, OUT f_score integer, OUT m_score integer, OUT value_score double precision,
    OUT segment text, OUT rank integer, OUT next_pending_since timestamptz, OUT reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'score_customer'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.score_customer(timestamptz, bigint, numeric, timestamptz, double precision[],
    double precision[], double precision[], double precision[], double precision[], integer, timestamptz, text,
    integer, interval, timestamptz, double precision[], double precision, double precision) IS
    'a customer''s R, F, M scores, value score, segment, and next tier rank, pending downgrade and reason, as score, value_score, rfm_segment, qualify_tier (with the tier conditions on p_alive and CLV when model_rules is given) and next_tier compose';

-- A customer's stored row (a row of the program's customers table) with
-- every scored column set by the one scoring path, against the program's
-- configuration (src/programs/scored_row.c); source is who scores (changed_by); with
-- abc_class, the ABC class a run has just computed is stored and qualified on.
CREATE OR REPLACE FUNCTION customer_tier.scored_row(program text, customer anyelement, source text)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'scored_row'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.scored_row(text, anyelement, text) IS
    'a customer''s row of a program''s customers table with every scored column set by the one scoring path';
CREATE OR REPLACE FUNCTION customer_tier.scored_row(program text, customer anyelement, source text, abc_class text)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'scored_row'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.scored_row(text, anyelement, text, text) IS
    'a customer''s row of a program''s customers table with its ABC class set and every scored column set by the one scoring path';

-- Whether scoring a customer's stored row would change what is stored (a
-- scored column but changed_by, with abc_class the class; p_alive and the
-- CLV within a tolerance, docs/churn.md): rescore_where's test of which rows
-- to write, in C next to the scoring (src/programs/scored_row.c).
CREATE OR REPLACE FUNCTION customer_tier.scored_row_changed(program text, customer anyelement, source text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'scored_row_changed'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.scored_row_changed(text, anyelement, text) IS
    'whether scoring a row of a program''s customers table through the one scoring path would change what is stored';
CREATE OR REPLACE FUNCTION customer_tier.scored_row_changed(program text, customer anyelement, source text, abc_class text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'scored_row_changed'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.scored_row_changed(text, anyelement, text, text) IS
    'whether scoring a row of a program''s customers table with an ABC class would change what is stored';

-- A customer's recency (days from its last order to as_of) and monetary value
-- as doubles, converted exactly as the scoring converts them
-- (src/programs/program_scoring.c), for refresh_population's aggregates.
CREATE OR REPLACE FUNCTION customer_tier.population_recency_days(as_of timestamptz, last_order timestamptz)
RETURNS double precision
AS 'MODULE_PATHNAME', 'population_recency_days'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.population_recency_days(timestamptz, timestamptz) IS
    'days from last_order to as_of, as EXTRACT(EPOCH FROM as_of - last_order)::double precision / 86400 gives them';
CREATE OR REPLACE FUNCTION customer_tier.population_monetary(monetary numeric)
RETURNS double precision
AS 'MODULE_PATHNAME', 'population_monetary'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.population_monetary(numeric) IS
    'a monetary value as double precision, the nearest double, as numeric::double precision gives it';

-- Recompute what a program's scores compare each customer with, in one read
-- of its customers: the population breakpoints (quintiles of recency in days,
-- orders and monetary value of the customers with orders), which it stores and
-- the triggers score against until the next run; and the Pareto/ABC
-- thresholds of the whole population (the least revenue classed A, and B:
-- abc_thresholds), returned as the SQL expression of a customer's class
-- (alias c) for the run's batches to apply.  A customer's class only falls as
-- its revenue falls (ties share a class; zero and less is C), so the two
-- thresholds give every class exactly as abc_class would, with no table of
-- classes to join in each batch.  A run applies it; so does create_program's
-- first scoring, so that the first run has no class to write.  Four
-- aggregates with combine functions and nothing else: over a program's
-- distributed customers, Citus computes their partial states on every shard
-- and combines them on the coordinator (worker_partial_agg and
-- coord_combine_agg, docs/citus.md), as parallel query may on one node.
CREATE OR REPLACE FUNCTION customer_tier.refresh_population(program text, customers name DEFAULT 'customers')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    thresholds double precision[];
BEGIN
    prog := customer_tier.program_row(program);
    EXECUTE format($sql$
        WITH population AS (
            SELECT customer_tier.breakpoints(customer_tier.population_recency_days(%3$L::timestamptz, c.last_order), 5)
                       FILTER (WHERE c.orders > 0) AS r,
                   customer_tier.breakpoints(c.orders, 5) FILTER (WHERE c.orders > 0) AS f,
                   customer_tier.breakpoints(customer_tier.population_monetary(c.monetary), 5)
                       FILTER (WHERE c.orders > 0) AS m,
                   customer_tier.abc_thresholds(customer_tier.population_monetary(c.monetary), 80, 95) AS abc
              FROM %1$I.%4$I AS c
        ), stored AS (
            UPDATE customer_tier.program AS p
               SET (r_breakpoints, f_breakpoints, m_breakpoints, scored_at) = (x.r, x.f, x.m, pg_catalog.now())
              FROM population AS x
             WHERE p.name = %2$L)
        SELECT x.abc FROM population AS x$sql$, prog.data_schema, prog.name, customer_tier.program_as_of(program),
        customers)
      INTO thresholds;
    -- compared in double precision, as abc_thresholds (and abc_class) rank revenue
    RETURN format($sql$CASE WHEN c.monetary::double precision >= %L::double precision THEN 'A'
                            WHEN c.monetary::double precision >= %L::double precision THEN 'B'
                            ELSE 'C' END$sql$, thresholds[1], thresholds[2]);
END
$$;
COMMENT ON FUNCTION customer_tier.refresh_population(text, name) IS
    'recompute and store a program''s R, F and M quintile breakpoints and return its ABC class expression (from the whole population''s thresholds), in one read of its customers (or of the table of its schema named, of the same columns)';

-- Recompute and store a program's breakpoints alone (the ABC classes are a
-- run's to change).
CREATE OR REPLACE FUNCTION customer_tier.refresh_breakpoints(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.refresh_population(program);
END
$$;
COMMENT ON FUNCTION customer_tier.refresh_breakpoints(text) IS
    'recompute and store a program''s R, F and M quintile breakpoints from its customers';

-- Score the customers of a program that satisfy condition (SQL on alias c)
-- through the one scoring path; with abc (SQL on alias c: the ABC class a run
-- computed, as an expression of the customer's monetary value), also store
-- the ABC classes and qualify on them.  Returns the number of customers whose
-- tier changed.
--
-- Only the customers whose scored columns (and, in a run, ABC class) change
-- are written: from one run to the next, or after a rebuild, most customers'
-- scores and tier are what they were, and a write (a new row version, its
-- index entry, WAL) costs more than the scoring; a run over 200,000 customers
-- that wrote them all spent about 30% of its time on rows it did not change.
-- scored_row_changed scores the row and compares in C (p_alive and the CLV
-- with a tolerance, docs/churn.md); the SET clause asks again only for the
-- rows that change, and scored_row answers from the memo of the same
-- arguments (src/programs/scored_row.c).  Both read the row being updated,
-- so a row changed by a concurrent trigger is rescored from its newest
-- version (EvalPlanQual re-evaluates both).  No JIT: compiling the scoring
-- expressions costs more than it saves here.
CREATE OR REPLACE FUNCTION customer_tier.rescore_where(program text, source text, condition text,
                                            abc text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    prog customer_tier.program;
    changed bigint;
    scored text[] := pg_catalog.string_to_array(customer_tier.program_scored_columns(), ', ');
    arguments text;
BEGIN
    prog := customer_tier.program_row(program);
    IF abc IS NOT NULL THEN
        scored := scored || 'abc_class'::text;
    END IF;
    arguments := format('%L, c, %L%s', prog.name, source, CASE WHEN abc IS NULL THEN '' ELSE ', ' || abc END);
    IF customer_tier.citus_table_kind(format('%I.customers', prog.data_schema)::regclass) = 'distributed' THEN
        RETURN customer_tier.citus_rescore_where(prog, source, condition, scored, arguments);
    END IF;
    -- the SET's sub-select computes the row once (OFFSET 0) and takes its
    -- fields: a function in FROM would go through a tuplestore
    EXECUTE format($sql$
        WITH updated AS (
            UPDATE %1$I.customers AS c
               SET (%2$s) = (SELECT %3$s FROM (SELECT customer_tier.scored_row(%4$s) AS x OFFSET 0) AS s)
             WHERE (%5$s)
               AND customer_tier.scored_row_changed(%4$s)
             RETURNING c.tier_since = %6$L::timestamptz AS changed)
        SELECT pg_catalog.count(*) FILTER (WHERE u.changed) FROM updated AS u$sql$,
        prog.data_schema,
        pg_catalog.array_to_string(scored, ', '),
        (SELECT pg_catalog.string_agg('(s.x).' || pg_catalog.quote_ident(n), ', ') FROM pg_catalog.unnest(scored) AS n),
        arguments,
        condition,
        -- a changed tier's tier_since is the instant scored against
        customer_tier.program_as_of(program))
      INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_where(text, text, text, text) IS
    'score the customers of a program that satisfy a condition through the one scoring path (with abc, the ABC class expression of a run), writing only those whose scores change; returns how many changed tier';

-- Write a new program's customers from its staged backfill (the table
-- backfill of its schema, unscored), each scored once through the one
-- scoring path with its ABC class (abc, as refresh_population returns it), in
-- key order.  The trigger tier_first records their first tiers in
-- tier_history, as the tier's change from none (not announced for source
-- create_program, src/programs/tier_changes.c).  A scoring of rows already
-- in customers (rescore_where) would leave a dead version of each.
CREATE OR REPLACE FUNCTION customer_tier.score_backfill(prog customer_tier.program, abc text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    EXECUTE format($sql$
        INSERT INTO %1$I.customers
        SELECT (customer_tier.scored_row(%2$L, c, 'create_program', %3$s)).*
          FROM %1$I.backfill AS c
         ORDER BY c.customer$sql$,
        prog.data_schema, prog.name, abc);
END
$$;
COMMENT ON FUNCTION customer_tier.score_backfill(customer_tier.program, text) IS
    'write a new program''s customers from its staged backfill, scored once (the trigger tier_first records their first tiers)';

-- Score every customer of a program, or only the one whose key's text form is
-- customer; returns the number of customers whose tier changed.  The key is
-- checked first (customer_key_text): an invalid one would otherwise fail the
-- cast in the scoring statement, with the key in the message and the
-- statement, which reach the server log.
CREATE OR REPLACE FUNCTION customer_tier.rescore_program(program text, source text, customer text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text;
BEGIN
    prog := customer_tier.program_row(program);
    IF customer IS NOT NULL THEN
        key := customer_tier.customer_key_text(program, customer);
    END IF;
    RETURN customer_tier.rescore_where(program, source,
        CASE WHEN key IS NULL THEN 'true'
             ELSE format('c.customer = %L::%s', key, prog.customer_type) END);
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_program(text, text, text) IS
    'score every customer of a program, or one (scores, segment, tier with hysteresis and pins); returns how many changed tier';

REVOKE ALL ON FUNCTION customer_tier.refresh_breakpoints(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.refresh_population(text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.population_recency_days(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.population_monetary(numeric) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.scored_row_changed(text, anyelement, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.scored_row_changed(text, anyelement, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.score_backfill(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rescore_program(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rescore_where(text, text, text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.program_scored_columns() FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.scored_row(text, anyelement, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.scored_row(text, anyelement, text, text) FROM PUBLIC;
-- @end

-- customer_tier install script, part 64: the one scoring path of a program.
--
-- A customer's scores and tier come from one SQL fragment, generated here and
-- used both by the triggers (for the customers a statement touched) and by
-- the batch rescore (for everyone): R, F and M scores against the population
-- breakpoints stored by the last run, the value score and RFM segment, the
-- qualified tier (qualify_tier), and hysteresis and pins (next_tier).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- The columns the scoring fragment yields, in order.
CREATE FUNCTION customer_tier.program_scored_columns()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'r_score, f_score, m_score, value_score, segment, tier, tier_since, pending_since, tier_reason, changed_by, '
       'p_alive, predicted_clv, churn_flags, churn_reasons, lifecycle, lifecycle_since, previous_lifecycle';
COMMENT ON FUNCTION customer_tier.program_scored_columns() IS
    'the per-customer columns the scoring fragment of a program sets, in order';

-- SQL text of the statement-local configuration a scoring fragment reads:
-- a CTE "cfg" with the program's breakpoints, weights, grace, compiled rules,
-- tier names by rank, whether it has pins (most programs have none, and
-- then no customer's pin is looked up), churn settings and fitted models.
-- MATERIALIZED: program_tier_config runs once per statement.
CREATE FUNCTION customer_tier.program_config_cte_sql(prog customer_tier.program)
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
               pm.bgnbd AS bg, pm.gamma_gamma AS gg
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
-- next_tier(), composed as the scoring path composes them (src/program_scoring.c);
-- with model_rules, qualify_tier's overload with the conditions on p_alive and CLV.
CREATE FUNCTION customer_tier.score_customer(
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

-- Every scored column of one customer (program_scored_columns(), in order):
-- churn_assess, then score_customer with its p_alive and CLV, the tier's name
-- from the program's tiers, and tier_since / lifecycle_since /
-- previous_lifecycle moved only when the tier or the stage changes
-- (src/program_scoring.c).  The scoring fragment below is one call of it.
CREATE FUNCTION customer_tier.score_program_customer(
    churn_settings double precision[], bg customer_tier.bgnbd_model, gg customer_tier.gamma_gamma_model,
    purchases customer_tier.order_stats_state, monetary numeric, recent_satisfaction double precision,
    current_lifecycle text, current_lifecycle_since timestamptz, current_previous_lifecycle text,
    last_order timestamptz, orders bigint, first_order timestamptz,
    r_breakpoints double precision[], f_breakpoints double precision[], m_breakpoints double precision[],
    weights double precision[], rules double precision[], tiers text[],
    current_tier text, current_tier_since timestamptz, current_pending_since timestamptz,
    abc_class text, pinned_rank integer,
    grace interval, as_of timestamptz, model_rules double precision[], source text,
    OUT r_score integer, OUT f_score integer, OUT m_score integer, OUT value_score double precision,
    OUT segment text, OUT tier text, OUT tier_since timestamptz, OUT pending_since timestamptz,
    OUT tier_reason text, OUT changed_by text, OUT p_alive double precision,
    OUT predicted_clv double precision, OUT churn_flags text[], OUT churn_reasons text[],
    OUT lifecycle text, OUT lifecycle_since timestamptz, OUT previous_lifecycle text)
RETURNS record
AS 'MODULE_PATHNAME', 'score_program_customer'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.score_program_customer(double precision[], customer_tier.bgnbd_model,
    customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text,
    timestamptz, text, timestamptz, bigint, timestamptz, double precision[], double precision[],
    double precision[], double precision[], double precision[], text[], text, timestamptz, timestamptz,
    text, integer, interval, timestamptz, double precision[], text) IS
    'every scored column of one customer of a program: churn_assess and score_customer composed, with the tier''s name and when the tier and lifecycle stage changed';

-- SQL text of a sub-select yielding program_scored_columns() for one
-- customer.  m names a row with the customer's orders, monetary, first_order
-- and last_order; key is the customer key expression; cur names the stored
-- row (tier, tier_since, pending_since, abc_class) or is NULL for a new
-- customer; source says who scores (a trigger operation or a run); abc, when
-- given, is the ABC class expression a run has just computed; purchases is
-- the customer's purchases state (churn flags, lifecycle, p_alive and CLV
-- are read off it; NULL leaves them NULL).  It reads the CTE cfg
-- (program_config_cte_sql) and makes one score_program_customer call.
CREATE FUNCTION customer_tier.program_scoring_sql(m text, key text, cur text, source text,
                                                  abc text DEFAULT NULL, purchases text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$(
        SELECT s.*
          FROM cfg AS cc,
               LATERAL customer_tier.score_program_customer(
                   cc.churn, cc.bg, cc.gg, %8$s, %1$s.monetary, %12$s, %9$s, %10$s, %11$s,
                   %1$s.last_order, %1$s.orders, %1$s.first_order,
                   cc.r_breakpoints, cc.f_breakpoints, cc.m_breakpoints, cc.score_weights, cc.rules, cc.tiers,
                   %3$s, %4$s, %5$s, %6$s,
                   CASE WHEN cc.has_pins THEN
                       (SELECT pg_catalog.array_position(cc.tiers, pin.tier) FROM customer_tier.pin AS pin
                         WHERE pin.program OPERATOR(pg_catalog.=) cc.name
                           AND pin.customer OPERATOR(pg_catalog.=) %2$s::text
                           AND (pin.expires_at IS NULL OR pin.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()))
                   END,
                   cc.downgrade_grace, pg_catalog.now(), cc.model_rules, %7$s) AS s)$sql$,
        m, key,
        coalesce(cur || '.tier', 'NULL::text'),
        coalesce(cur || '.tier_since', 'NULL::timestamptz'),
        coalesce(cur || '.pending_since', 'NULL::timestamptz'),
        coalesce(abc, cur || '.abc_class', 'NULL::text'),
        source,
        coalesce(purchases, 'NULL::customer_tier.order_stats_state'),
        coalesce(cur || '.lifecycle', 'NULL::text'),
        coalesce(cur || '.lifecycle_since', 'NULL::timestamptz'),
        coalesce(cur || '.previous_lifecycle', 'NULL::text'),
        coalesce(cur || '.recent_satisfaction', 'NULL::double precision'));
END
$$;
COMMENT ON FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text, text) IS
    'SQL text of the one scoring path: scores, value score, segment, tier (with hysteresis and pins), p_alive, CLV, churn flags and lifecycle of a customer';

-- Recompute a program's population breakpoints from its customers (quintiles
-- of recency in days, orders and monetary value) and store them; the triggers
-- score against them until the next run.
CREATE FUNCTION customer_tier.refresh_breakpoints(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    prog := customer_tier.program_row(program);
    EXECUTE format($sql$
        UPDATE customer_tier.program AS p
           SET (r_breakpoints, f_breakpoints, m_breakpoints, scored_at) =
               (SELECT customer_tier.breakpoints(EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) c.last_order)::double precision
                                                 OPERATOR(pg_catalog./) 86400, 5),
                       customer_tier.breakpoints(c.orders, 5),
                       customer_tier.breakpoints(c.monetary, 5),
                       pg_catalog.now()
                  FROM %1$I.customers AS c
                 WHERE c.orders OPERATOR(pg_catalog.>) 0)
         WHERE p.name OPERATOR(pg_catalog.=) %2$L$sql$, prog.data_schema, prog.name);
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
-- The WHERE clause scores the row and compares every scored column
-- but changed_by (which names the scorer, so it always differs); the SET
-- clause scores it again only for the rows that change.  Both read the row
-- being updated, so a row changed by a concurrent trigger is rescored from
-- its newest version (EvalPlanQual re-evaluates both).  No JIT: compiling the
-- scoring expressions costs more than it saves here.
CREATE FUNCTION customer_tier.rescore_where(program text, source text, condition text,
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
    compared text[] := pg_catalog.array_remove(scored, 'changed_by');
    fragment text;
BEGIN
    prog := customer_tier.program_row(program);
    fragment := customer_tier.program_scoring_sql('c', 'c.customer', 'c', pg_catalog.quote_literal(source),
                                                  abc, 'c.purchases');
    EXECUTE format($sql$
        WITH %1$s,
        updated AS (
            UPDATE %2$I.customers AS c
               SET (%3$s) = %4$s
             WHERE (%5$s) %6$s
             RETURNING c.tier_since OPERATOR(pg_catalog.=) pg_catalog.now() AS changed)
        SELECT pg_catalog.count(*) FILTER (WHERE u.changed) FROM updated AS u$sql$,
        customer_tier.program_config_cte_sql(prog), prog.data_schema,
        customer_tier.program_scored_columns()
            || CASE WHEN abc IS NULL THEN '' ELSE ', abc_class' END,
        CASE WHEN abc IS NULL THEN fragment
             ELSE format('(SELECT sc.*, %s FROM %s AS sc)', abc, fragment) END,
        condition,
        format($sql$
               AND NOT EXISTS (SELECT FROM %s AS sc(%s)
                                WHERE (%s%s) IS NOT DISTINCT FROM (%s%s))$sql$,
               fragment, pg_catalog.array_to_string(scored, ', '),
               (SELECT pg_catalog.string_agg('sc.' || pg_catalog.quote_ident(x), ', ')
                  FROM pg_catalog.unnest(compared) AS x),
               CASE WHEN abc IS NULL THEN '' ELSE ', ' || abc END,
               (SELECT pg_catalog.string_agg('c.' || pg_catalog.quote_ident(x), ', ')
                  FROM pg_catalog.unnest(compared) AS x),
               CASE WHEN abc IS NULL THEN '' ELSE ', c.abc_class' END))
      INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_where(text, text, text, text) IS
    'score the customers of a program that satisfy a condition through the one scoring path (with abc, the ABC class expression of a run), writing only those whose scores change; returns how many changed tier';

-- Score every customer of a program, or only the one whose key's text form is
-- customer; returns the number of customers whose tier changed.  The key is
-- checked first (customer_key_text): an invalid one would otherwise fail the
-- cast in the scoring statement, with the key in the message and the
-- statement, which reach the server log.
CREATE FUNCTION customer_tier.rescore_program(program text, source text, customer text DEFAULT NULL)
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
             ELSE format('c.customer OPERATOR(pg_catalog.=) %L::%s', key, prog.customer_type) END);
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_program(text, text, text) IS
    'score every customer of a program, or one (scores, segment, tier with hysteresis and pins); returns how many changed tier';

REVOKE ALL ON FUNCTION customer_tier.refresh_breakpoints(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rescore_program(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rescore_where(text, text, text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.program_scored_columns() FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.score_program_customer(double precision[], customer_tier.bgnbd_model,
    customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text,
    timestamptz, text, timestamptz, bigint, timestamptz, double precision[], double precision[],
    double precision[], double precision[], double precision[], text[], text, timestamptz, timestamptz,
    text, integer, interval, timestamptz, double precision[], text) FROM PUBLIC;

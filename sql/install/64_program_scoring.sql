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
-- a CTE "cfg" with the program's breakpoints, weights, grace, compiled rules
-- and tier names by rank, churn settings and fitted models.  MATERIALIZED:
-- tier_rules runs once per statement.
CREATE FUNCTION customer_tier.program_config_cte_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$cfg AS MATERIALIZED (
        SELECT p.name, p.r_breakpoints, p.f_breakpoints, p.m_breakpoints, p.score_weights,
               p.downgrade_grace, customer_tier.tier_rules(p.name) AS rules,
               customer_tier.tier_model_rules(p.name) AS model_rules,
               ARRAY(SELECT t.tier FROM customer_tier.tier AS t
                      WHERE t.program OPERATOR(pg_catalog.=) p.name ORDER BY t.rank) AS tiers,
               (SELECT customer_tier.churn_settings_array(cs) FROM customer_tier.churn_settings AS cs
                 WHERE cs.program OPERATOR(pg_catalog.=) p.name) AS churn,
               pm.bgnbd AS bg, pm.gamma_gamma AS gg
          FROM customer_tier.program AS p
          LEFT JOIN customer_tier.program_model AS pm ON pm.program OPERATOR(pg_catalog.=) p.name
         WHERE p.name OPERATOR(pg_catalog.=) %L)$sql$, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) IS
    'SQL text of the CTE holding a program''s scoring configuration for one statement';

-- SQL text of a sub-select yielding program_scored_columns() for one
-- customer.  m names a row with the customer's orders, monetary, first_order
-- and last_order; key is the customer key expression; cur names the stored
-- row (tier, tier_since, pending_since, abc_class) or is NULL for a new
-- customer; source says who scores (a trigger operation or a run); abc, when
-- given, is the ABC class expression a run has just computed; purchases is
-- the customer's purchases state (churn flags, lifecycle, p_alive and CLV
-- are read off it; NULL leaves them NULL).
CREATE FUNCTION customer_tier.program_scoring_sql(m text, key text, cur text, source text,
                                                  abc text DEFAULT NULL, purchases text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur_tier text := coalesce(cur || '.tier', 'NULL::text');
    cur_since text := coalesce(cur || '.tier_since', 'NULL::timestamptz');
    cur_pending text := coalesce(cur || '.pending_since', 'NULL::timestamptz');
    cur_abc text := coalesce(abc, cur || '.abc_class', 'NULL::text');
    cur_stage text := coalesce(cur || '.lifecycle', 'NULL::text');
    cur_stage_since text := coalesce(cur || '.lifecycle_since', 'NULL::timestamptz');
BEGIN
    RETURN format($sql$(
        SELECT s.r, s.f, s.m, s.value_score, s.segment, cfg.tiers[nt.rank],
               CASE WHEN cfg.tiers[nt.rank] IS DISTINCT FROM %3$s THEN pg_catalog.now() ELSE %4$s END,
               nt.pending_since, nt.reason, %7$s,
               ch.p_alive, ch.clv, ch.churn_flags, ch.churn_reasons, ch.lifecycle,
               CASE WHEN ch.lifecycle IS DISTINCT FROM %9$s THEN pg_catalog.now() ELSE %10$s END,
               CASE WHEN ch.lifecycle IS DISTINCT FROM %9$s THEN %9$s ELSE %11$s END
          FROM cfg,
               LATERAL (SELECT x.r, x.f, x.m,
                               customer_tier.value_score(x.r, x.f, x.m, cfg.score_weights) AS value_score,
                               customer_tier.rfm_segment(x.r, x.f, x.m) AS segment
                          FROM (SELECT customer_tier.score(
                                           EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) %1$s.last_order)::double precision
                                           OPERATOR(pg_catalog./) 86400, cfg.r_breakpoints, false) AS r,
                                       customer_tier.score(%1$s.orders, cfg.f_breakpoints) AS f,
                                       customer_tier.score(%1$s.monetary, cfg.m_breakpoints) AS m) AS x) AS s,
               LATERAL customer_tier.churn_assess(cfg.churn, cfg.bg, cfg.gg, %8$s, %1$s.monetary, %12$s,
                                                  %9$s, %10$s, pg_catalog.now()) AS ch,
               LATERAL customer_tier.next_tier(
                   pg_catalog.array_position(cfg.tiers, %3$s), %5$s,
                   customer_tier.qualify_tier(cfg.rules, s.value_score, %1$s.monetary, %1$s.orders,
                       EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) %1$s.first_order)::double precision
                       OPERATOR(pg_catalog./) 86400, %6$s, cfg.model_rules, ch.p_alive, ch.clv),
                   (SELECT pg_catalog.array_position(cfg.tiers, pin.tier) FROM customer_tier.pin AS pin
                     WHERE pin.program OPERATOR(pg_catalog.=) cfg.name
                       AND pin.customer OPERATOR(pg_catalog.=) %2$s::text
                       AND (pin.expires_at IS NULL OR pin.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())),
                   cfg.downgrade_grace, pg_catalog.now()) AS nt)$sql$,
        m, key, cur_tier, cur_since, cur_pending, cur_abc, source,
        coalesce(purchases, 'NULL::customer_tier.order_stats_state'), cur_stage, cur_stage_since,
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
    SELECT * INTO STRICT prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) refresh_breakpoints.program;
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
-- through the one scoring path; with abc_table (a table of customer,
-- abc_class), also store the ABC classes a run computed and qualify on them.
-- Returns the number of customers whose tier changed.
CREATE FUNCTION customer_tier.rescore_where(program text, source text, condition text,
                                            abc_table text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    changed bigint;
BEGIN
    SELECT * INTO STRICT prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) rescore_where.program;
    EXECUTE format($sql$
        WITH %1$s,
        updated AS (
            UPDATE %2$I.customers AS c
               SET (%3$s) = %4$s
              %5$s
             WHERE (%6$s) %7$s
             RETURNING c.tier_since OPERATOR(pg_catalog.=) pg_catalog.now() AS changed)
        SELECT pg_catalog.count(*) FILTER (WHERE u.changed) FROM updated AS u$sql$,
        customer_tier.program_config_cte_sql(prog), prog.data_schema,
        customer_tier.program_scored_columns()
            || CASE WHEN abc_table IS NULL THEN '' ELSE ', abc_class' END,
        CASE WHEN abc_table IS NULL
             THEN customer_tier.program_scoring_sql('c', 'c.customer', 'c', pg_catalog.quote_literal(source),
                                                    purchases => 'c.purchases')
             ELSE format('(SELECT sc.*, a.abc_class FROM %s AS sc)',
                         customer_tier.program_scoring_sql('c', 'c.customer', 'c',
                                                           pg_catalog.quote_literal(source), 'a.abc_class',
                                                           'c.purchases')) END,
        CASE WHEN abc_table IS NULL THEN '' ELSE format('FROM %s AS a', abc_table) END,
        condition,
        CASE WHEN abc_table IS NULL THEN ''
             ELSE 'AND a.customer OPERATOR(pg_catalog.=) c.customer' END)
      INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_where(text, text, text, text) IS
    'score the customers of a program that satisfy a condition through the one scoring path; returns how many changed tier';

-- Score every customer of a program, or only the one whose key's text form is
-- customer; returns the number of customers whose tier changed.
CREATE FUNCTION customer_tier.rescore_program(program text, source text, customer text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    prog := customer_tier.program_row(program);
    RETURN customer_tier.rescore_where(program, source,
        CASE WHEN customer IS NULL THEN 'true'
             ELSE format('c.customer OPERATOR(pg_catalog.=) %L::%s', customer, prog.customer_type) END);
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

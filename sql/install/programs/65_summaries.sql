-- customer_tier install script, part 65: a program's summaries without a
-- hot row (docs/views.md, "Summaries").
--
-- Each write of a program's customers adds what it changed to the table
-- summary_deltas: one row per group (tier, segment, on the churn list or
-- not) whose counts moved.  tier_summary and segment_summary sum that table,
-- which stays small: it is folded into one row per group by the writer that
-- has added a few thousand rows since its last fold, and by every run.  A
-- writer only inserts there, so concurrent writers never wait for each other
-- on it (src/programs/summary_deltas.c).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- The trigger function of every program's customers table: the changes of
-- each SQL statement (runs, pins, rebuilds, new customers, erasure), read
-- from its transition tables, go to the program's summaries and change feed
-- (src/programs/customers_changed.c).  The trigger path's commit step, which updates
-- rows below the executor, adds its changes itself.
CREATE OR REPLACE FUNCTION customer_tier.customers_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'customers_changed'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.customers_changed() IS
    'trigger function of every program''s customers table: adds each statement''s changes to the program''s summary_deltas and change feed';
REVOKE ALL ON FUNCTION customer_tier.customers_changed() FROM PUBLIC;

-- Fold a program's summary_deltas into one row per group.  Folds serialize
-- on an advisory lock of the table: with wait false, a fold that would wait
-- is skipped (a writer's commit does not wait for another's fold); with
-- empty true, every row goes (the customers table was truncated).
CREATE OR REPLACE FUNCTION customer_tier.compact_summary(deltas regclass, wait boolean, empty boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lock_key constant bigint := (x'43545355'::bigint << 32)
                                | deltas::oid::bigint;
BEGIN
    -- over distributed orders, summary_deltas is a view of the customers
    -- (create_summary_objects): nothing to fold
    IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid = deltas) = 'v' THEN
        RETURN;
    END IF;
    IF empty THEN
        EXECUTE format('DELETE FROM %s', deltas);
        RETURN;
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(lock_key);
    ELSIF NOT pg_try_advisory_xact_lock(lock_key) THEN
        RETURN;
    END IF;
    EXECUTE format($sql$
        WITH gone AS (DELETE FROM %1$s RETURNING *)
        INSERT INTO %1$s (tier, segment, at_risk, customers, revenue, value_sum, value_n)
        SELECT g.tier, g.segment, g.at_risk, sum(g.customers), sum(g.revenue), sum(g.value_sum), sum(g.value_n)
          FROM gone AS g
         GROUP BY g.tier, g.segment, g.at_risk
        HAVING sum(g.customers) <> 0 OR sum(g.revenue) <> 0
            OR sum(g.value_sum) <> 0 OR sum(g.value_n) <> 0$sql$,
        deltas);
END
$$;
COMMENT ON FUNCTION customer_tier.compact_summary(regclass, boolean, boolean) IS
    'fold a program''s summary_deltas into one row per group (wait false: skip when another fold holds the lock; empty true: delete every row)';
REVOKE ALL ON FUNCTION customer_tier.compact_summary(regclass, boolean, boolean) FROM PUBLIC;

-- Create a program's summary_deltas table, counting the customers it has
-- (called by create_program_objects).
CREATE OR REPLACE FUNCTION customer_tier.create_summary_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Over orders distributed by Citus the customers are written on the
    -- shards, where no summary table is: summary_deltas is then a view of
    -- the same groups summed from the distributed customers (Citus groups on
    -- every shard and adds up), which tier_summary and segment_summary read
    -- as they read the table (docs/citus.md, "Views").
    IF customer_tier.citus_table_kind(prog.orders_table) = 'distributed' THEN
        EXECUTE format($sql$
            CREATE VIEW %1$I.summary_deltas AS
            SELECT c.tier, c.segment, c.risk_stake IS NOT NULL AS at_risk,
                   count(*)::bigint AS customers, sum(c.monetary) AS revenue,
                   coalesce(sum(c.value_score::numeric), 0) AS value_sum, count(c.value_score)::bigint AS value_n
              FROM %1$I.customers AS c GROUP BY 1, 2, 3;
            COMMENT ON VIEW %1$I.summary_deltas IS 'the customers of each group (tier, segment, on the churn list), summed from the distributed customers (a program over distributed orders); tier_summary and segment_summary sum it'
        $sql$, prog.data_schema);
        RETURN;
    END IF;
    EXECUTE format($sql$
        CREATE TABLE %1$I.summary_deltas (
            tier      text,
            segment   text,
            at_risk   boolean NOT NULL,
            customers bigint NOT NULL,
            revenue   numeric NOT NULL,
            value_sum numeric NOT NULL,
            value_n   bigint NOT NULL
        );
        COMMENT ON TABLE %1$I.summary_deltas IS 'what each write of the customers changed in the summaries, one row per group; tier_summary and segment_summary sum it';
        COMMENT ON COLUMN %1$I.summary_deltas.tier IS 'the group''s tier';
        COMMENT ON COLUMN %1$I.summary_deltas.segment IS 'the group''s RFM segment';
        COMMENT ON COLUMN %1$I.summary_deltas.at_risk IS 'the group''s customers are on the churn list (a churn flag raised, not lost)';
        COMMENT ON COLUMN %1$I.summary_deltas.customers IS 'customers added to the group (negative: removed)';
        COMMENT ON COLUMN %1$I.summary_deltas.revenue IS 'net monetary value added to the group';
        COMMENT ON COLUMN %1$I.summary_deltas.value_sum IS 'value scores added to the group';
        COMMENT ON COLUMN %1$I.summary_deltas.value_n IS 'value scores counted in value_sum';
        INSERT INTO %1$I.summary_deltas (tier, segment, at_risk, customers, revenue, value_sum, value_n)
        SELECT c.tier, c.segment, c.risk_stake IS NOT NULL,
               count(*), sum(c.monetary), coalesce(sum(c.value_score::numeric), 0), count(c.value_score)
          FROM %1$I.customers AS c GROUP BY 1, 2, 3
    $sql$, prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.create_summary_objects(customer_tier.program) IS
    'create a program''s summary_deltas table, counting the customers it has';
REVOKE ALL ON FUNCTION customer_tier.create_summary_objects(customer_tier.program) FROM PUBLIC;

-- Put the statement triggers that add every SQL write of a program's
-- customers to its summaries and change feed (after both exist).  ENABLE
-- ALWAYS: a session replaying changes with session_replication_role =
-- replica changes the customers too.
CREATE OR REPLACE FUNCTION customer_tier.put_change_triggers(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER changes_insert AFTER INSERT ON %1$I.customers REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        CREATE TRIGGER changes_update AFTER UPDATE ON %1$I.customers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        CREATE TRIGGER changes_delete AFTER DELETE ON %1$I.customers REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        CREATE TRIGGER changes_truncate AFTER TRUNCATE ON %1$I.customers
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        ALTER TABLE %1$I.customers ENABLE ALWAYS TRIGGER changes_insert, ENABLE ALWAYS TRIGGER changes_update,
            ENABLE ALWAYS TRIGGER changes_delete, ENABLE ALWAYS TRIGGER changes_truncate
    $sql$, prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.put_change_triggers(customer_tier.program) IS
    'put the statement triggers on a program''s customers that keep its summaries and change feed';
REVOKE ALL ON FUNCTION customer_tier.put_change_triggers(customer_tier.program) FROM PUBLIC;

-- Create what a program's customers' writes feed — summary_deltas, the
-- change feed — and then the triggers that feed them: one step, so that a
-- new program (create_program_objects) and the upgrade of an existing one
-- create the same objects in the same order.
CREATE OR REPLACE FUNCTION customer_tier.create_change_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.create_summary_objects(prog);
    PERFORM customer_tier.create_feed_objects(prog);
    PERFORM customer_tier.put_change_triggers(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_change_objects(customer_tier.program) IS
    'create a program''s summary_deltas and change feed, then the triggers on its customers that keep both';
REVOKE ALL ON FUNCTION customer_tier.create_change_objects(customer_tier.program) FROM PUBLIC;

-- Create a program's summary views (called by create_program_views).
CREATE OR REPLACE FUNCTION customer_tier.create_summary_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    -- Every tier of the program, empty ones too, in rank order; a tier some
    -- customers still hold but the program no longer has (set_tiers dropped
    -- it, and they have not been scored since) gets a row with rank NULL,
    -- after the others, so that the shares always add up to 1.
    EXECUTE format($sql$
        CREATE VIEW %1$I.tier_summary AS
        SELECT coalesce(t.tier, a.tier) AS tier, t.rank,
               coalesce(a.customers, 0) AS customers,
               coalesce(a.revenue, 0) AS revenue,
               coalesce(a.revenue, 0) / nullif(sum(a.revenue) OVER (), 0) AS revenue_share,
               coalesce(a.customers, 0) / nullif(sum(a.customers) OVER (), 0) AS customer_share,
               a.avg_monetary, a.avg_value_score,
               sum(coalesce(a.revenue, 0)) OVER pareto / nullif(sum(a.revenue) OVER (), 0) AS cumulative_revenue_share,
               sum(coalesce(a.customers, 0)) OVER pareto / nullif(sum(a.customers) OVER (), 0) AS cumulative_customer_share,
               coalesce(a.at_risk, 0) AS at_risk
          FROM (SELECT x.tier, x.rank FROM customer_tier.tier AS x WHERE x.program = %2$L) AS t
          FULL JOIN (SELECT d.tier, sum(d.customers)::bigint AS customers, sum(d.revenue) AS revenue,
                            sum(d.revenue) / nullif(sum(d.customers), 0) AS avg_monetary,
                            (sum(d.value_sum) / nullif(sum(d.value_n), 0))::double precision AS avg_value_score,
                            (sum(d.customers) FILTER (WHERE d.at_risk))::bigint AS at_risk
                       FROM %1$I.summary_deltas AS d
                      GROUP BY d.tier
                     HAVING sum(d.customers) <> 0) AS a ON a.tier = t.tier
        WINDOW pareto AS (ORDER BY t.rank NULLS LAST, coalesce(t.tier, a.tier) NULLS LAST
                          ROWS UNBOUNDED PRECEDING)
         ORDER BY t.rank NULLS LAST, coalesce(t.tier, a.tier) NULLS LAST
    $sql$, s, prog.name);
    EXECUTE format('COMMENT ON VIEW %I.tier_summary IS %L', s,
                   format('program %s: one row per tier, best first, empty tiers included: customers, revenue, shares (fractions 0..1) and running shares (a Pareto view), customers on the churn list',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.tier_summary.tier IS 'tier; NULL for customers not scored yet';
        COMMENT ON COLUMN %1$I.tier_summary.rank IS 'rank of the tier, 1 = best; NULL for a tier the program no longer has but customers still hold';
        COMMENT ON COLUMN %1$I.tier_summary.customers IS 'customers in the tier (0 for an empty tier)';
        COMMENT ON COLUMN %1$I.tier_summary.revenue IS 'sum of the net monetary value of the tier''s customers (0 for an empty tier)';
        COMMENT ON COLUMN %1$I.tier_summary.revenue_share IS 'revenue / all customers'' revenue, a fraction (0.25 = 25%%); NULL when the total is 0; outside 0..1 when refunds make some revenue negative';
        COMMENT ON COLUMN %1$I.tier_summary.customer_share IS 'customers / all customers, a fraction 0..1; NULL when the program has no customers';
        COMMENT ON COLUMN %1$I.tier_summary.avg_monetary IS 'mean net monetary value of the tier''s customers; NULL for an empty tier';
        COMMENT ON COLUMN %1$I.tier_summary.avg_value_score IS 'mean value score (0..100) of the tier''s customers; NULL for an empty tier';
        COMMENT ON COLUMN %1$I.tier_summary.cumulative_revenue_share IS 'Pareto: revenue share of this tier and every better one, a fraction';
        COMMENT ON COLUMN %1$I.tier_summary.cumulative_customer_share IS 'Pareto: customer share of this tier and every better one, a fraction';
        COMMENT ON COLUMN %1$I.tier_summary.at_risk IS 'customers of the tier on the churn list (churn_risk): a churn flag raised, not lost'
    $sql$, s);

    EXECUTE format($sql$
        CREATE VIEW %1$I.segment_summary AS
        SELECT d.segment, sum(d.customers)::bigint AS customers,
               sum(d.customers) / nullif(sum(sum(d.customers)) OVER (), 0) AS customer_share,
               sum(d.revenue) AS revenue,
               (sum(d.customers) FILTER (WHERE d.at_risk))::bigint AS at_risk
          FROM %1$I.summary_deltas AS d
         GROUP BY d.segment
        HAVING sum(d.customers) <> 0
         ORDER BY customers DESC, d.segment NULLS LAST
    $sql$, s);
    EXECUTE format('COMMENT ON VIEW %I.segment_summary IS %L', s,
                   format('program %s: one row per RFM segment that has customers, largest first: customers, share, revenue, customers on the churn list',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.segment_summary.segment IS 'RFM segment (customer_tier.rfm_segments() lists them); NULL for customers not scored yet';
        COMMENT ON COLUMN %1$I.segment_summary.customers IS 'customers in the segment';
        COMMENT ON COLUMN %1$I.segment_summary.customer_share IS 'customers / all customers, a fraction 0..1';
        COMMENT ON COLUMN %1$I.segment_summary.revenue IS 'sum of the net monetary value of the segment''s customers';
        COMMENT ON COLUMN %1$I.segment_summary.at_risk IS 'customers of the segment on the churn list (churn_risk)'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_summary_views(customer_tier.program) IS
    'create a program''s summary views, tier_summary and segment_summary, over its summary_deltas';
REVOKE ALL ON FUNCTION customer_tier.create_summary_views(customer_tier.program) FROM PUBLIC;
-- @end

-- customer_tier install script, part 66: a program's views for BI tools
-- (docs/views.md).
--
-- In the program's schema ct_<name>: segments (one row per customer),
-- tier_summary (one row per tier, a Pareto view), tier_changes (tier_history
-- with ranks), migration(from_date, to_date) (the tier migration matrix),
-- migration_between_runs(from_run, to_run) and last_run_migration (the same
-- matrix between reclassification runs).
-- They show what BI may see and nothing else: never the order_stats states.
-- They are ordinary views, so they read the tables with their owner's rights:
-- a BI role needs SELECT on the views only.  The view and function bodies are
-- parsed here, under this function's pinned search_path, so the operators in
-- them are pg_catalog's whatever the reader's search_path.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- A grace period as next_tier measures it, a year being 360 days, a month
-- 30 days and a day 24 hours (PostgreSQL's interval comparison), as a pure
-- time span: pending_since plus this is when a pending downgrade is due,
-- across a change to or from summer time too.
CREATE OR REPLACE FUNCTION customer_tier.grace_span(grace interval)
RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (pg_catalog.date_part('year', grace) * 360 + pg_catalog.date_part('month', grace) * 30
        + pg_catalog.date_part('day', grace)) * interval '24 hours'
       + (grace - pg_catalog.date_trunc('day', grace));
COMMENT ON FUNCTION customer_tier.grace_span(interval) IS
    'a grace period in hours as next_tier counts it (a month is 30 days, a day 24 hours): pending_since + grace_span(grace) is when a downgrade is due';

-- SQL text of the view segments of a program, with its comments: run by
-- create_program_views; an upgrade that appends columns to the view runs it
-- again, turned into a replace of the view, which keeps users' views over it.
-- A plain view over customers: a join on customer reaches its primary key
-- with no cast, and the join to the tiers (unique on program, tier) is
-- removed by the planner when tier_rank is not read.  The grace span is
-- an uncorrelated sub-select, computed once per query.
CREATE OR REPLACE FUNCTION customer_tier.program_segments_view_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    RETURN concat_ws(E';\n',
        format($sql$
            CREATE VIEW %1$I.segments AS
            SELECT c.customer, c.tier, t.rank AS tier_rank, c.tier_since, c.tier_reason,
                   c.value_score, c.r_score, c.f_score, c.m_score, c.segment, c.abc_class,
                   c.orders, c.monetary, c.first_order, c.last_order, c.mean_gap_days, c.gap_stddev_days,
                   c.pending_since,
                   c.pending_since + (SELECT customer_tier.grace_span(p.downgrade_grace)
                                        FROM customer_tier.program AS p WHERE p.name = %2$L) AS downgrade_due_at,
                   c.changed_by, c.updated_at,
                   c.lifecycle, c.lifecycle_since, c.previous_lifecycle, c.churn_flags, c.churn_reasons,
                   c.p_alive, c.predicted_clv, c.recent_satisfaction
              FROM %1$I.customers AS c
              LEFT JOIN customer_tier.tier AS t ON t.program = %2$L AND t.tier = c.tier
        $sql$, s, prog.name),
        format('COMMENT ON VIEW %I.segments IS %L', s,
                   format('program %s: one row per customer with its tier, scores, segment and metrics; join on customer, the key of %s.%I (%s)',
                          prog.name, prog.orders_table, prog.customer_column, prog.customer_type)),
        format($sql$
            COMMENT ON COLUMN %1$I.segments.customer IS %2$L;
            COMMENT ON COLUMN %1$I.segments.tier IS 'current tier';
            COMMENT ON COLUMN %1$I.segments.tier_rank IS 'rank of the current tier, 1 = best; NULL while the tier is no longer one of the program''s tiers (until the customer is next scored)';
            COMMENT ON COLUMN %1$I.segments.tier_since IS 'when the customer entered the current tier';
            COMMENT ON COLUMN %1$I.segments.tier_reason IS 'why the tier is what it is: new, upgrade, unchanged, downgrade pending, downgrade, pinned';
            COMMENT ON COLUMN %1$I.segments.value_score IS 'weighted value score 0..100 from the R, F and M scores';
            COMMENT ON COLUMN %1$I.segments.r_score IS 'recency score 1..5 against the breakpoints of the last run (5 = most recent)';
            COMMENT ON COLUMN %1$I.segments.f_score IS 'frequency score 1..5 against the breakpoints of the last run (5 = most orders)';
            COMMENT ON COLUMN %1$I.segments.m_score IS 'monetary score 1..5 against the breakpoints of the last run (5 = most spent)';
            COMMENT ON COLUMN %1$I.segments.segment IS 'RFM segment name (customer_tier.rfm_segments() lists them)';
            COMMENT ON COLUMN %1$I.segments.abc_class IS 'Pareto class A, B or C set by the last run; NULL before it';
            COMMENT ON COLUMN %1$I.segments.orders IS 'number of counted purchases (refunds are not orders)';
            COMMENT ON COLUMN %1$I.segments.monetary IS 'net monetary value: purchases plus refunds, exact';
            COMMENT ON COLUMN %1$I.segments.first_order IS 'time of the first purchase';
            COMMENT ON COLUMN %1$I.segments.last_order IS 'time of the last purchase';
            COMMENT ON COLUMN %1$I.segments.mean_gap_days IS 'mean days between consecutive purchases; NULL with fewer than two';
            COMMENT ON COLUMN %1$I.segments.gap_stddev_days IS 'sample standard deviation of the days between purchases; NULL with fewer than three';
            COMMENT ON COLUMN %1$I.segments.pending_since IS 'pending downgrade: since when the customer has qualified only for a lower tier; NULL when none is pending';
            COMMENT ON COLUMN %1$I.segments.downgrade_due_at IS 'pending downgrade: from when the next scoring (an order or a run) downgrades the customer, pending_since plus the program''s downgrade_grace; NULL when none is pending';
            COMMENT ON COLUMN %1$I.segments.changed_by IS 'what last changed the customer''s scores: a trigger operation, the backfill, a pin or a run';
            COMMENT ON COLUMN %1$I.segments.updated_at IS 'when the customer''s metrics last changed';
            COMMENT ON COLUMN %1$I.segments.lifecycle IS 'lifecycle stage: new, active, at risk, lapsed, lost, won back (docs/churn.md)';
            COMMENT ON COLUMN %1$I.segments.lifecycle_since IS 'when the customer entered the current lifecycle stage';
            COMMENT ON COLUMN %1$I.segments.previous_lifecycle IS 'the stage before the current one; NULL for the first';
            COMMENT ON COLUMN %1$I.segments.churn_flags IS 'churn flags raised: silent, frequency_falling, low_p_alive, low_satisfaction; empty when none';
            COMMENT ON COLUMN %1$I.segments.churn_reasons IS 'the reason of each flag, in the order of churn_flags';
            COMMENT ON COLUMN %1$I.segments.p_alive IS 'BG/NBD probability that the customer is still active (model of the last run); NULL without a model';
            COMMENT ON COLUMN %1$I.segments.predicted_clv IS 'predicted customer lifetime value over the program''s CLV horizon; NULL without both models';
            COMMENT ON COLUMN %1$I.segments.recent_satisfaction IS 'recent satisfaction on 0..10 from feedback; NULL = no feedback'
        $sql$, s, format('the customer key, in the type of %s.%I (%s): join on it with no cast',
                         prog.orders_table, prog.customer_column, prog.customer_type)));
END
$$;
COMMENT ON FUNCTION customer_tier.program_segments_view_sql(customer_tier.program) IS
    'SQL text that creates the view segments of a program''s schema, with its comments';

-- SQL text of the view churn_risk of a program, with its comments (as
-- program_segments_view_sql).  The churn list: customers with a churn flag
-- who are not lost yet, the most valuable first (value at stake = predicted CLV).
-- It reads risk_stake and risk_monetary, which the scoring sets to the
-- predicted CLV and the monetary value only while the customer is on the
-- list: so the index changes only as customers join or leave the list or
-- move on it, and an order of anyone else can be a HOT update.
CREATE OR REPLACE FUNCTION customer_tier.program_churn_risk_view_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    RETURN concat_ws(E';\n',
        format($sql$
            CREATE INDEX customers_churn_risk
                ON %1$I.customers (risk_stake, risk_monetary, customer)
             WHERE risk_stake IS NOT NULL;
            CREATE VIEW %1$I.churn_risk AS
            SELECT c.customer, c.tier, c.lifecycle, c.churn_flags, c.churn_reasons,
                   c.predicted_clv AS value_at_stake, c.p_alive, c.risk_monetary AS monetary, c.orders, c.last_order,
                   (EXTRACT(EPOCH FROM (SELECT customer_tier.program_as_of(%2$L)) - c.last_order) / 86400)::double precision AS days_silent,
                   c.mean_gap_days, c.recent_satisfaction,
                   c.risk_stake AS stake_order
              FROM %1$I.customers AS c
             WHERE c.risk_stake IS NOT NULL
             ORDER BY c.risk_stake DESC, c.risk_monetary DESC, c.customer DESC
        $sql$, s, prog.name),
        format('COMMENT ON VIEW %I.churn_risk IS %L', s,
                   format('program %s: customers at risk of churning (a churn flag raised, not lost yet), the most valuable first (predicted CLV, then monetary value)',
                          prog.name)),
        format($sql$
            COMMENT ON COLUMN %1$I.churn_risk.customer IS %2$L;
            COMMENT ON COLUMN %1$I.churn_risk.tier IS 'current tier';
            COMMENT ON COLUMN %1$I.churn_risk.lifecycle IS 'lifecycle stage: at risk, or lapsed';
            COMMENT ON COLUMN %1$I.churn_risk.churn_flags IS 'churn flags raised: silent, frequency_falling, low_p_alive, low_satisfaction';
            COMMENT ON COLUMN %1$I.churn_risk.churn_reasons IS 'the reason of each flag, in the order of churn_flags';
            COMMENT ON COLUMN %1$I.churn_risk.value_at_stake IS 'predicted CLV over the program''s horizon: what losing the customer costs; NULL without fitted models';
            COMMENT ON COLUMN %1$I.churn_risk.p_alive IS 'BG/NBD probability that the customer is still active; NULL without a model';
            COMMENT ON COLUMN %1$I.churn_risk.monetary IS 'net monetary value so far';
            COMMENT ON COLUMN %1$I.churn_risk.orders IS 'number of counted purchases';
            COMMENT ON COLUMN %1$I.churn_risk.last_order IS 'time of the last purchase';
            COMMENT ON COLUMN %1$I.churn_risk.days_silent IS 'days from the last purchase to the instant the program scores against (now, unless it has a scoring date)';
            COMMENT ON COLUMN %1$I.churn_risk.mean_gap_days IS 'the customer''s usual gap: mean days between purchases; NULL with fewer than two';
            COMMENT ON COLUMN %1$I.churn_risk.recent_satisfaction IS 'recent satisfaction on 0..10; NULL = no feedback';
            COMMENT ON COLUMN %1$I.churn_risk.stake_order IS 'value_at_stake, -Infinity without one: (stake_order, monetary, customer) descending is the list''s order and its page key'
        $sql$, s, format('the customer key, in the type of %s.%I (%s): join on it with no cast',
                         prog.orders_table, prog.customer_column, prog.customer_type)));
END
$$;
COMMENT ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) IS
    'SQL text that creates the view churn_risk of a program''s schema, with its comments';

-- Create the views of a program's schema (called by create_program_objects).
CREATE OR REPLACE FUNCTION customer_tier.create_program_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    -- from tier, from rank, to rank, to tier; two different tiers of the
    -- program have different ranks
    movement constant text := $sql$CASE WHEN %1$s IS NULL THEN 'new'
                WHEN %1$s = %4$s THEN 'unchanged'
                WHEN %2$s IS NULL OR %3$s IS NULL THEN NULL
                WHEN %3$s < %2$s THEN 'upgrade'
                ELSE 'downgrade' END$sql$;
BEGIN
    EXECUTE customer_tier.program_segments_view_sql(prog);
    EXECUTE customer_tier.program_churn_risk_view_sql(prog);

    EXECUTE format($sql$
        CREATE VIEW %1$I.tier_changes AS
        SELECT h.id, h.customer, h.changed_at, h.from_tier, f.rank AS from_rank, h.to_tier, t.rank AS to_rank,
               %3$s AS movement,
               h.reason, h.source
          FROM %1$I.tier_history AS h
          LEFT JOIN customer_tier.tier AS f ON f.program = %2$L AND f.tier = h.from_tier
          LEFT JOIN customer_tier.tier AS t ON t.program = %2$L AND t.tier = h.to_tier
    $sql$, s, prog.name, format(movement, 'h.from_tier', 'f.rank', 't.rank', 'h.to_tier'));
    EXECUTE format('COMMENT ON VIEW %I.tier_changes IS %L', s,
                   format('program %s: every change of a customer''s tier (tier_history) with the ranks of both tiers, and whether it was an upgrade or a downgrade',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.tier_changes.id IS 'change number, in the order changes were made';
        COMMENT ON COLUMN %1$I.tier_changes.customer IS %2$L;
        COMMENT ON COLUMN %1$I.tier_changes.changed_at IS 'when (the time of the transaction that made the change)';
        COMMENT ON COLUMN %1$I.tier_changes.from_tier IS 'the tier before; NULL for a customer''s first tier';
        COMMENT ON COLUMN %1$I.tier_changes.from_rank IS 'today''s rank of from_tier, 1 = best; NULL if it is not one of the program''s tiers now';
        COMMENT ON COLUMN %1$I.tier_changes.to_tier IS 'the tier after';
        COMMENT ON COLUMN %1$I.tier_changes.to_rank IS 'today''s rank of to_tier, 1 = best; NULL if it is not one of the program''s tiers now';
        COMMENT ON COLUMN %1$I.tier_changes.movement IS 'new (no tier before), unchanged (the same tier), upgrade (to a better rank), downgrade (to a worse rank); NULL when a tier has no rank today';
        COMMENT ON COLUMN %1$I.tier_changes.reason IS 'the reason the scoring gave: new, upgrade, downgrade or pinned';
        COMMENT ON COLUMN %1$I.tier_changes.source IS 'what made the change: trigger INSERT/UPDATE/DELETE, create_program, a pin or a run'
    $sql$, s, format('the customer key (%s)', prog.customer_type));

    PERFORM customer_tier.create_summary_views(prog);

    -- A function rather than a view because it takes two times.  It reads
    -- the views, not the tables, so whoever may read them may call it.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.migration(from_date timestamptz, to_date timestamptz)
        RETURNS TABLE (from_tier text, from_rank integer, to_tier text, to_rank integer,
                       movement text, customers bigint, revenue numeric)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
        SET search_path = pg_catalog, pg_temp
        AS $body$
        #variable_conflict use_column
        BEGIN
            IF from_date IS NULL OR to_date IS NULL THEN
                RAISE EXCEPTION 'from_date and to_date must not be null'
                    USING ERRCODE = 'null_value_not_allowed',
                          HINT = 'Pass two times, e.g. %1$I.migration(now() - interval ''30 days'', now()); ''-infinity'' as from_date counts every customer as new.';
            END IF;
            IF from_date > to_date THEN
                RAISE EXCEPTION 'from_date (%%) must not be after to_date (%%)', from_date, to_date
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The matrix compares each customer''s tier at from_date with the tier at the later to_date.',
                          HINT = 'Swap the two arguments.';
            END IF;
            RETURN QUERY
            WITH at_to AS (
                SELECT DISTINCT ON (h.customer) h.customer, h.to_tier, h.to_rank
                  FROM %1$I.tier_changes AS h
                 WHERE h.changed_at <= to_date
                 ORDER BY h.customer, h.changed_at DESC, h.id DESC
            ), at_from AS (
                SELECT DISTINCT ON (h.customer) h.customer, h.to_tier, h.to_rank
                  FROM %1$I.tier_changes AS h
                 WHERE h.changed_at <= from_date
                 ORDER BY h.customer, h.changed_at DESC, h.id DESC
            )
            SELECT f.to_tier, f.to_rank, t.to_tier, t.to_rank, %2$s,
                   count(*), coalesce(sum(s.monetary), 0)
              FROM at_to AS t
              LEFT JOIN at_from AS f ON f.customer = t.customer
              LEFT JOIN %1$I.segments AS s ON s.customer = t.customer
             GROUP BY f.to_tier, f.to_rank, t.to_tier, t.to_rank
             ORDER BY f.to_tier IS NOT NULL, f.to_rank NULLS LAST, f.to_tier, t.to_rank NULLS LAST, t.to_tier;
        END
        $body$ $fn$, s, format(movement, 'f.to_tier', 'f.to_rank', 't.to_rank', 't.to_tier'));
    EXECUTE format('COMMENT ON FUNCTION %I.migration(timestamptz, timestamptz) IS %L', s,
                   format('program %s: tier migration matrix, customers and their current revenue by tier at from_date and at to_date, from tier_history',
                          prog.name));
    PERFORM customer_tier.create_program_run_views(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_views(customer_tier.program) IS
    'create the BI views of a program''s schema: segments, churn_risk, tier_changes, tier_summary, segment_summary, and the function migration(from_date, to_date)';

-- The migration matrix between two reclassification runs: the run version
-- resolves each run to the time it finished and calls migration(from, to),
-- so both give the same matrix for the same two times.  The tiers are those
-- the customers held when each run finished (the run's changes and any made
-- by the triggers before it finished); the revenue is today's, as in
-- migration(): tier_history keeps tiers, not metrics.  A separate function so
-- that the upgrade from 0.1.0 can add these objects to existing programs.
CREATE OR REPLACE FUNCTION customer_tier.create_program_run_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    -- Runs are looked up in the run log, with the reader's rights (BI may
    -- read customer_tier.run).  A run that failed part-way or is still
    -- running is not a complete reclassification, so it is refused.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.migration_between_runs(from_run bigint, to_run bigint)
        RETURNS TABLE (from_tier text, from_rank integer, to_tier text, to_rank integer,
                       movement text, customers bigint, revenue numeric)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
        SET search_path = pg_catalog, pg_temp
        AS $body$
        DECLARE
            from_at timestamptz;
            to_at timestamptz;
            r customer_tier.run;
            n bigint;
        BEGIN
            IF from_run IS NULL OR to_run IS NULL THEN
                RAISE EXCEPTION 'from_run and to_run must not be null'
                    USING ERRCODE = 'null_value_not_allowed',
                          HINT = %3$L;
            END IF;
            FOREACH n IN ARRAY ARRAY[from_run, to_run] LOOP
                SELECT * INTO r FROM customer_tier.run AS x WHERE x.id = n;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'run %% does not exist', n
                        USING ERRCODE = 'undefined_object',
                              HINT = %3$L;
                END IF;
                IF r.program <> %2$L THEN
                    RAISE EXCEPTION 'run %% is a run of program "%%", not of "%%"', n, r.program, %2$L
                        USING ERRCODE = 'invalid_parameter_value',
                              HINT = format('Call ct_%%s.migration_between_runs for the runs of program "%%s".', r.program, r.program);
                END IF;
                IF r.outcome = 'running' THEN
                    RAISE EXCEPTION 'run %% has not finished', n
                        USING ERRCODE = 'object_not_in_prerequisite_state',
                              DETAIL = 'Its tiers are not a complete reclassification yet.',
                              HINT = 'Wait for it to finish, or compare two runs that have succeeded.';
                END IF;
                IF r.outcome <> 'succeeded' THEN
                    RAISE EXCEPTION 'run %% failed', n
                        USING ERRCODE = 'invalid_parameter_value',
                              DETAIL = format('A failed run reclassified only some customers; its error: %%s', coalesce(r.error, 'none recorded')),
                              HINT = %3$L;
                END IF;
                IF n = from_run THEN
                    from_at := r.finished_at;
                END IF;
                IF n = to_run THEN
                    to_at := r.finished_at;
                END IF;
            END LOOP;
            IF from_at > to_at THEN
                RAISE EXCEPTION 'from_run (%%) finished after to_run (%%)', from_run, to_run
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The matrix compares each customer''s tier after from_run with the tier after the later to_run.',
                          HINT = 'Swap the two arguments.';
            END IF;
            RETURN QUERY SELECT * FROM %1$I.migration(from_at, to_at);
        END
        $body$ $fn$, s, prog.name,
        format('%s lists the runs that can be compared.',
               format('SELECT id, finished_at FROM customer_tier.run WHERE program = %L AND outcome = %L ORDER BY id',
                      prog.name, 'succeeded')));
    EXECUTE format('COMMENT ON FUNCTION %I.migration_between_runs(bigint, bigint) IS %L', s,
                   format('program %s: tier migration matrix between two succeeded runs of customer_tier.run (tiers when each finished, revenue as of now); migration() at the two finish times',
                          prog.name));

    -- The two latest succeeded runs; no rows until there are two.
    EXECUTE format($sql$
        CREATE VIEW %1$I.last_run_migration AS
        SELECT r.from_run, r.from_finished_at, r.to_run, r.to_finished_at,
               m.from_tier, m.from_rank, m.to_tier, m.to_rank, m.movement, m.customers, m.revenue
          FROM (SELECT f.id AS from_run, f.finished_at AS from_finished_at,
                       t.id AS to_run, t.finished_at AS to_finished_at
                  FROM (SELECT x.id, x.finished_at FROM customer_tier.run AS x
                         WHERE x.program = %2$L AND x.outcome = 'succeeded'
                         ORDER BY x.id DESC LIMIT 1) AS t
                  JOIN LATERAL (SELECT x.id, x.finished_at FROM customer_tier.run AS x
                                 WHERE x.program = %2$L AND x.outcome = 'succeeded' AND x.id < t.id
                                 ORDER BY x.id DESC LIMIT 1) AS f ON true) AS r
         CROSS JOIN LATERAL %1$I.migration_between_runs(r.from_run, r.to_run) AS m
         ORDER BY m.from_tier IS NOT NULL, m.from_rank NULLS LAST, m.from_tier, m.to_rank NULLS LAST, m.to_tier
    $sql$, s, prog.name);
    EXECUTE format('COMMENT ON VIEW %I.last_run_migration IS %L', s,
                   format('program %s: tier migration matrix between the two latest succeeded runs (migration_between_runs); no rows until two runs have succeeded',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.last_run_migration.from_run IS 'the earlier run (customer_tier.run.id)';
        COMMENT ON COLUMN %1$I.last_run_migration.from_finished_at IS 'when the earlier run finished: from_tier is the tier then';
        COMMENT ON COLUMN %1$I.last_run_migration.to_run IS 'the latest succeeded run';
        COMMENT ON COLUMN %1$I.last_run_migration.to_finished_at IS 'when the latest run finished: to_tier is the tier then';
        COMMENT ON COLUMN %1$I.last_run_migration.from_tier IS 'tier after the earlier run; NULL for customers who had none (new since)';
        COMMENT ON COLUMN %1$I.last_run_migration.from_rank IS 'today''s rank of from_tier, 1 = best';
        COMMENT ON COLUMN %1$I.last_run_migration.to_tier IS 'tier after the latest run';
        COMMENT ON COLUMN %1$I.last_run_migration.to_rank IS 'today''s rank of to_tier, 1 = best';
        COMMENT ON COLUMN %1$I.last_run_migration.movement IS 'new, unchanged, upgrade or downgrade';
        COMMENT ON COLUMN %1$I.last_run_migration.customers IS 'customers who moved from from_tier to to_tier';
        COMMENT ON COLUMN %1$I.last_run_migration.revenue IS 'their net monetary value today (not as of the runs)'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_run_views(customer_tier.program) IS
    'create a program''s migration_between_runs(from_run, to_run) and its view last_run_migration (called by create_program_views)';

-- Drop the views of a program's schema (called by drop_program_objects, first).
-- RESTRICT: a user's own view over them makes drop_program fail, by name.
CREATE OR REPLACE FUNCTION customer_tier.drop_program_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    detail text;
BEGIN
    EXECUTE format('DROP VIEW IF EXISTS %I.last_run_migration RESTRICT', s);
    EXECUTE format('DROP FUNCTION IF EXISTS %I.migration_between_runs(bigint, bigint) RESTRICT', s);
    EXECUTE format('DROP FUNCTION IF EXISTS %I.migration(timestamptz, timestamptz) RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.tier_summary RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.segment_summary RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.tier_changes RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.segments RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.churn_risk RESTRICT', s);
EXCEPTION WHEN dependent_objects_still_exist THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RAISE EXCEPTION 'program "%" cannot be dropped while other objects depend on its views', prog.name
        USING ERRCODE = 'dependent_objects_still_exist',
              DETAIL = detail,
              HINT = 'Drop those objects, or change them not to use the program''s views, then drop the program again; drop_program never drops what it did not create.';
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program_views(customer_tier.program) IS
    'drop the BI views of a program''s schema, refusing (dependent_objects_still_exist) while other objects depend on them';

REVOKE ALL ON FUNCTION customer_tier.create_program_views(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program_views(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.create_program_run_views(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_segments_view_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) FROM PUBLIC;
-- @end

-- customer_tier upgrade script: 0.1.0 -> 0.2.0 (ALTER EXTENSION customer_tier UPDATE).
--
-- 0.1.0 is sql/releases/customer_tier--0.1.0.sql, frozen; 0.2.0 is what
-- sql/install/*.sql builds.  After this script, a database updated from 0.1.0
-- must hold exactly what CREATE EXTENSION customer_tier builds, in the
-- extension's schema and in every program's schema ct_<name>:
-- test/scripts/upgrade.sh compares the two catalogs and prints every
-- difference.  docs/testing.md ("Writing the upgrade script") says how to
-- extend this file for a change to sql/install.
--
-- Changes from 0.1.0:
--   new    customer_tier.program_row(text): the one "program does not exist"
--   body   drop_program, configure_program, verify_program, rebuild_program,
--          rescore_program, reclassify, schedule, default_tiers, set_method,
--          tier_rules, customer_key_text: call program_row
--   new    customer_tier.create_program_run_views(program), called by
--          create_program_views (body changed), and dropped by
--          drop_program_views (body changed): per program
--          ct_<name>.migration_between_runs(from_run, to_run) and the view
--          ct_<name>.last_run_migration, added below to existing programs
--   grants program_row to the admin and reader roles,
--          create_program_run_views to the admin role
--
-- Churn (merge "churn"):
--   column customer_tier.run.model_fit; customer_tier.tier.min_p_alive,
--          min_clv with their CHECK constraints (last, as in sql/install)
--   new    part 72_churn.sql verbatim: tables churn_settings and
--          program_model (pg_extension_config_dump), churn_settings_array,
--          churn_assess, btyd_summary, fit_program_model, set_churn_rules
--   new    tier_model_rules(text); qualify_tier overload with model_rules,
--          p_alive, clv (the six-argument one stays)
--   new    program_maintain_function_sql, program_segments_view_sql,
--          program_churn_risk_view_sql: the generators of a program's
--          trigger function and views return their SQL, which the
--          $programs$ block below runs as CREATE OR REPLACE
--   sig    program_scoring_sql gained purchases: dropped (five arguments)
--          and created (six)
--   body   program_apply_sql, create_program_objects (churn_settings row;
--          calls program_maintain_function_sql), program_scored_columns,
--          program_config_cte_sql, rescore_where, check_tier_set, set_tiers,
--          reclassify (fits the models; comment too), create_program_views
--          (calls the view generators; comment too), drop_program_views
--          (drops churn_risk)
--   grants the new functions (90_roles.sql name list), SELECT on
--          churn_settings and program_model to the reader role, INSERT,
--          UPDATE, DELETE to the admin role
--   per program (DO $programs$): a churn_settings row with the defaults;
--          customers gains recent_satisfaction, p_alive, predicted_clv,
--          churn_flags, churn_reasons, lifecycle, lifecycle_since,
--          previous_lifecycle (last, commented); maintain_customers
--          regenerated; segments gains the same columns at its end
--          (CREATE OR REPLACE VIEW); new view churn_risk; every customer
--          rescored (source 'upgrade to 0.2.0') so lifecycle and flags are
--          set; p_alive and predicted_clv stay NULL until a run fits models
--
-- Speed (merge "speed"):
--   new    order_stats_state_same (rebuild writes only what differs),
--          score_customer (one C call scores a customer; it also takes the
--          tier conditions on p_alive and CLV)
--   body   announce_tier_change (no SET clause, so it inlines),
--          program_row_counts_sql, program_config_cte_sql (has_pins),
--          program_scoring_sql (calls score_customer), rescore_where (writes
--          only changed customers outside runs; comment too), rebuild_program
--
-- Speed, second round (edited in place above, in the sections that create them):
--   new    score_program_customer (the scoring fragment's one call per
--          customer; churn_assess's and score_customer's cores composed)
--   body   program_scoring_sql (calls score_program_customer), rescore_where
--          (runs too write only changed customers), rebuild_program (rescores
--          only what it rewrote), fit_program_model (reads the sample once),
--          tier_model_rules (PL/pgSQL), churn_settings_array (not STRICT),
--          reclassify (ABC classes as two monetary thresholds)
--   new    program_tier_config (rules, model_rules and tier names in one
--          pass, for the trigger statements' cfg); tier_rules and
--          tier_model_rules read it
--   body   refresh_breakpoints, rescore_where (program_row)
--   new    program_row_checks: the one list of usable-row checks, which
--          program_row_problem_sql and program_row_counts_sql (bodies) read
--   new    method_conditions: each method's conditions, which check_tier_set
--          and set_tiers (bodies) read
--   sig    rescore_where: fourth parameter abc (an expression), was
--          abc_table: dropped and created
--
-- Feedback, contacts, follow-ups, KPIs (merge "followups"):
--   new    parts 80_feedback, 81_feedback_verify, 82_contacts, 84_kpis,
--          88_followups verbatim: tables feedback_source and cadence
--          (pg_extension_config_dump) and their functions
--   body   create_program_objects, drop_program_objects (follow-up hooks)
--   per program: create_followup_objects (answers, satisfaction,
--          feedback_rejects, contacts, follow_ups_due, satisfaction_by_tier,
--          kpis, with their grants)
--
-- Erasure and retention (merge "protect"):
--   column customer_tier.run.purged (before model_fit, as in sql/install)
--   new    parts 85_erasure, 86_retention verbatim: erasure_secret,
--          erasure_log, retention (pg_extension_config_dump), view
--          retention_policy, forget, was_forgotten, purge and helpers
--   body   reclassify (purges after a successful run)
--   grants of all of the above as 90_roles.sql gives them
--
-- $release$ skips a table's own sequences and indexes when it gives the
-- program's new objects to the schema owner (they follow the table).
--
-- sql/upgrade/extract_functions.py prints the functions of sql/install as
-- CREATE OR REPLACE (with their COMMENT, REVOKE and GRANTs), and with
-- --against sql/releases/customer_tier--0.1.0.sql <this file> lists every
-- function this file does not yet bring up to date (docs/testing.md).
--
-- Changed functions are replaced with CREATE OR REPLACE, which keeps their
-- owner, privileges and comment (PostgreSQL refuses to replace a function
-- that is not already a member of this extension).  New objects are created
-- as in sql/install, with their comments, REVOKEs and GRANTs.
\echo Use "ALTER EXTENSION customer_tier UPDATE TO '0.2.0'" to load this file. \quit

-- ==== new: program_row (sql/install/60_programs.sql) ====
CREATE FUNCTION customer_tier.program_row(program text)
RETURNS customer_tier.program
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) program_row.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    RETURN prog;
END
$$;
COMMENT ON FUNCTION customer_tier.program_row(text) IS
    'a program''s catalog row, or undefined_object (42704) naming the unknown program';
REVOKE ALL ON FUNCTION customer_tier.program_row(text) FROM PUBLIC;

-- ==== changed bodies ====
-- drop_program: sql/install/60_programs.sql
CREATE OR REPLACE FUNCTION customer_tier.drop_program(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    prog := customer_tier.program_row(name);
    -- RESTRICT, not CASCADE: a user's own object that depends on the program's
    -- views must make this fail rather than vanish with it.
    PERFORM customer_tier.drop_program_objects(prog);
    EXECUTE format('DROP SCHEMA %I RESTRICT', prog.data_schema);
    DELETE FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) drop_program.name;
END
$$;

-- configure_program: sql/install/60_programs.sql
CREATE OR REPLACE FUNCTION customer_tier.configure_program(
    name            text,
    score_weights   double precision[] DEFAULT NULL,
    downgrade_grace interval DEFAULT NULL,
    reject_mode     text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.program_row(name);
    IF score_weights IS NOT NULL AND NOT (
           cardinality(score_weights) OPERATOR(pg_catalog.=) 3
           AND array_position(score_weights, NULL) IS NULL
           AND 0 OPERATOR(pg_catalog.<=) ALL (score_weights)
           AND 'Infinity' OPERATOR(pg_catalog.>) ALL (score_weights)
           AND score_weights[1] OPERATOR(pg_catalog.+) score_weights[2] OPERATOR(pg_catalog.+) score_weights[3]
               OPERATOR(pg_catalog.>) 0) THEN
        RAISE EXCEPTION 'invalid score weights %', score_weights
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Score weights are three finite, non-negative numbers for R, F and M, not all zero.',
                  HINT = 'For example ''{2,1,1}'' weighs recency twice as much as frequency and monetary value.';
    END IF;
    IF downgrade_grace OPERATOR(pg_catalog.<) '0' THEN
        RAISE EXCEPTION 'downgrade grace must not be negative, not %', downgrade_grace
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''0'' to downgrade at once, or a period such as ''90 days''.';
    END IF;
    IF reject_mode NOT IN ('skip', 'error') THEN
        RAISE EXCEPTION 'invalid reject mode "%"', reject_mode
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use skip (keep unusable order rows in the rejects table) or error (refuse the write).';
    END IF;
    UPDATE customer_tier.program AS p
       SET score_weights = coalesce(configure_program.score_weights, p.score_weights),
           downgrade_grace = coalesce(configure_program.downgrade_grace, p.downgrade_grace),
           reject_mode = coalesce(configure_program.reject_mode, p.reject_mode)
     WHERE p.name OPERATOR(pg_catalog.=) configure_program.name;
END
$$;

-- verify_program: sql/install/63_program_verify.sql
CREATE OR REPLACE FUNCTION customer_tier.verify_program(program text)
RETURNS TABLE (customer text, problem text, maintained jsonb, recomputed jsonb)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    prog := customer_tier.program_row(program);
    RETURN QUERY EXECUTE format($sql$
        WITH scratch AS (
            SELECT o.%2$I AS customer,
                   pg_catalog.count(*) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.>=) '0') AS orders,
                   pg_catalog.sum(o.%3$I::numeric) AS monetary,
                   customer_tier.order_stats(o.%4$I, o.%3$I) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.>=) '0') AS s
              FROM %5$s AS o
             WHERE %6$s
             GROUP BY o.%2$I
        ), recomputed AS (
            SELECT x.customer, x.orders, x.monetary, (x.s).first_order, (x.s).last_order,
                   (x.s).mean_gap_days, (x.s).gap_stddev_days
              FROM scratch AS x
        ), maintained AS (
            SELECT c.customer, c.orders, c.monetary, c.first_order, c.last_order,
                   c.mean_gap_days, c.gap_stddev_days
              FROM %1$I.customers AS c
        )
        SELECT coalesce(m.customer, r.customer)::text,
               CASE WHEN m.customer IS NULL THEN 'missing'
                    WHEN r.customer IS NULL THEN 'unexpected'
                    ELSE 'different' END,
               pg_catalog.to_jsonb(m), pg_catalog.to_jsonb(r)
          FROM maintained AS m
          FULL JOIN recomputed AS r ON r.customer OPERATOR(pg_catalog.=) m.customer
         WHERE m.customer IS NULL OR r.customer IS NULL
            OR (m.orders, m.monetary, m.first_order, m.last_order)
               IS DISTINCT FROM (r.orders, r.monetary, r.first_order, r.last_order)
            -- gaps are floating point: equal to the last few bits
            OR pg_catalog.abs(coalesce(m.mean_gap_days, -1) OPERATOR(pg_catalog.-) coalesce(r.mean_gap_days, -1))
               OPERATOR(pg_catalog.>) 1e-9
            OR pg_catalog.abs(coalesce(m.gap_stddev_days, -1) OPERATOR(pg_catalog.-) coalesce(r.gap_stddev_days, -1))
               OPERATOR(pg_catalog.>) 1e-9
         ORDER BY 1$sql$,
        prog.data_schema, prog.customer_column, prog.amount_column, prog.ordered_at_column,
        prog.orders_table, customer_tier.program_row_counts_sql(prog, 'o'));
END
$$;

-- rebuild_program: sql/install/63_program_verify.sql
CREATE OR REPLACE FUNCTION customer_tier.rebuild_program(program text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
BEGIN
    prog := customer_tier.program_row(program);
    PERFORM pg_catalog.set_config('work_mem', pg_catalog.current_setting('maintenance_work_mem'), true);
    -- writers wait while the state is rebuilt, so none slips between
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', prog.orders_table);
    EXECUTE format($sql$
        WITH scratch AS (
            SELECT o.%2$I AS customer,
                   customer_tier.order_stats_partial(o.%3$I, o.%4$I) FILTER (WHERE o.%4$I OPERATOR(pg_catalog.>=) '0') AS purchases,
                   customer_tier.order_stats_partial(o.%3$I, o.%4$I) FILTER (WHERE o.%4$I OPERATOR(pg_catalog.<) '0') AS refunds
              FROM %5$s AS o
             WHERE %6$s
             GROUP BY o.%2$I
        ), diff AS MATERIALIZED (
            -- one pass over the recomputation and the stored customers: the
            -- customers to write (missing or different) and those to delete
            -- (a composite compared as a whole: NULL fields are equal)
            SELECT coalesce(s.customer, c.customer) AS customer, s.customer IS NULL AS gone,
                   s.purchases, s.refunds
              FROM scratch AS s
              FULL JOIN %1$I.customers AS c ON c.customer OPERATOR(pg_catalog.=) s.customer
             WHERE s.customer IS NULL OR c.customer IS NULL
                OR NOT (customer_tier.order_stats_state_same(c.purchases, s.purchases)
                        AND customer_tier.order_stats_state_same(c.refunds, s.refunds)
                        AND ROW(c.orders, c.monetary, c.first_order, c.last_order, c.mean_gap_days, c.gap_stddev_days)
                            IS NOT DISTINCT FROM customer_tier.customer_metrics(s.purchases, s.refunds))
        ), gone AS (
            DELETE FROM %1$I.customers AS c
             USING diff AS d
             WHERE d.gone AND c.customer OPERATOR(pg_catalog.=) d.customer
        )
        INSERT INTO %1$I.customers AS c
               (customer, purchases, refunds, orders, monetary, first_order, last_order,
                mean_gap_days, gap_stddev_days, updated_at)
        SELECT d.customer, d.purchases, d.refunds, m.orders, m.monetary, m.first_order, m.last_order,
               m.mean_gap_days, m.gap_stddev_days, pg_catalog.now()
          FROM diff AS d, LATERAL customer_tier.customer_metrics(d.purchases, d.refunds) AS m
         WHERE NOT d.gone
         ORDER BY d.customer
        ON CONFLICT (customer) DO UPDATE
           SET (purchases, refunds, orders, monetary, first_order, last_order,
                mean_gap_days, gap_stddev_days, updated_at) =
               (excluded.purchases, excluded.refunds, excluded.orders, excluded.monetary,
                excluded.first_order, excluded.last_order, excluded.mean_gap_days,
                excluded.gap_stddev_days, excluded.updated_at)$sql$,
        prog.data_schema, prog.customer_column, prog.ordered_at_column, prog.amount_column,
        prog.orders_table, customer_tier.program_row_counts_sql(prog, 'o'));
    -- Rescore the customers just written (their updated_at is now(): no trigger
    -- writes while the orders are locked) against the stored breakpoints, as
    -- the triggers would have scored them.  Re-ranking the whole population is
    -- a run's job: a rebuild that finds no drift then costs one grouping of
    -- the orders and one comparison, not a rescore of every customer.
    PERFORM customer_tier.rescore_where(program, 'rebuild_program',
                                        'c.updated_at OPERATOR(pg_catalog.=) pg_catalog.now()');
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', prog.data_schema) INTO customers;
    RETURN customers;
END
$$;

-- rescore_program: sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.rescore_program(program text, source text, customer text DEFAULT NULL)
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

-- reclassify: sql/install/68_reclassify.sql
CREATE OR REPLACE PROCEDURE customer_tier.reclassify(program text, batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    prog customer_tier.program;
    run_id bigint;
    lower_key text;
    upper_key text;
    scored bigint := 0;
    changed bigint := 0;
    batch_count integer := 0;
    batch_rows bigint;
    failure text;
    failure_state text;
    least_a numeric;
    least_b numeric;
    abc text;
BEGIN
    IF program IS NULL OR batch_size IS NULL THEN
        RAISE EXCEPTION 'program and batch_size must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1, not %', batch_size
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The default, 10000 customers per committed batch, suits most programs.';
    END IF;
    prog := customer_tier.program_row(program);
    IF NOT pg_catalog.pg_try_advisory_lock(customer_tier.run_lock_key(program)) THEN
        RAISE NOTICE 'program "%" is being reclassified by another session; this run exits', program
            USING HINT = 'SELECT * FROM customer_tier.run WHERE outcome = ''running'' shows the run in progress.';
        RETURN;
    END IF;

    -- Holding the lock, no other run is alive: a run still marked running was
    -- interrupted (its session ended or the server stopped).
    UPDATE customer_tier.run AS r
       SET outcome = 'failed', finished_at = pg_catalog.clock_timestamp(),
           error = 'interrupted: the session running it ended before it finished'
     WHERE r.program OPERATOR(pg_catalog.=) reclassify.program
       AND r.outcome OPERATOR(pg_catalog.=) 'running';
    INSERT INTO customer_tier.run (program) VALUES (program) RETURNING id INTO run_id;
    COMMIT;

    -- Each step runs in a block of its own: an error is caught there, logged
    -- and committed, the lock released, and then raised again (a block with an
    -- exception handler cannot itself commit, but the loop around it can).
    BEGIN
        PERFORM customer_tier.refresh_breakpoints(program);
        -- Rolling satisfaction windows end now, and feed the churn rules.
        IF EXISTS (SELECT FROM customer_tier.feedback_source AS f
                    WHERE f.program OPERATOR(pg_catalog.=) reclassify.program) THEN
            PERFORM customer_tier.refresh_satisfaction(program);
        END IF;
        -- The models before the batches, which score with them; a fit that
        -- cannot be made keeps the previous model and does not fail the run.
        UPDATE customer_tier.run AS r
           SET model_fit = coalesce(customer_tier.fit_program_model(reclassify.program, run_id), 'fitted')
         WHERE r.id OPERATOR(pg_catalog.=) run_id;
        -- ABC classes of the whole population, computed once, applied per
        -- batch as two monetary thresholds: a customer's class only falls as
        -- its revenue falls (ties share a class; zero and less is C), so the
        -- least revenue classed A and the least classed B give every class
        -- exactly, with no table of classes to join in each batch.
        EXECUTE format($sql$
            SELECT pg_catalog.min(s.monetary) FILTER (WHERE s.abc_class OPERATOR(pg_catalog.=) 'A'),
                   pg_catalog.min(s.monetary) FILTER (WHERE s.abc_class OPERATOR(pg_catalog.=) 'B')
              FROM (SELECT c.monetary,
                           customer_tier.abc_class(c.monetary::double precision)
                               OVER (ORDER BY c.monetary DESC) AS abc_class
                      FROM %I.customers AS c) AS s$sql$, prog.data_schema)
          INTO least_a, least_b;
        abc := format($sql$CASE WHEN c.monetary OPERATOR(pg_catalog.>=) %L::numeric THEN 'A'
                                WHEN c.monetary OPERATOR(pg_catalog.>=) %L::numeric THEN 'B'
                                ELSE 'C' END$sql$, least_a, least_b);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure = MESSAGE_TEXT;
    END;
    IF failure IS NULL THEN
        COMMIT;
    END IF;

    WHILE failure IS NULL LOOP
        BEGIN
            -- the next batch: up to batch_size customers after lower_key
            EXECUTE format($sql$
                SELECT pg_catalog.max(b.customer)::text, pg_catalog.count(*)
                  FROM (SELECT c.customer FROM %1$I.customers AS c
                         WHERE $1 IS NULL OR c.customer OPERATOR(pg_catalog.>) $1::%2$s
                         ORDER BY c.customer LIMIT $2) AS b$sql$, prog.data_schema, prog.customer_type)
              INTO upper_key, batch_rows
              USING lower_key, batch_size;
            EXIT WHEN batch_rows OPERATOR(pg_catalog.=) 0;
            changed := changed OPERATOR(pg_catalog.+) customer_tier.rescore_where(
                program, 'run ' OPERATOR(pg_catalog.||) run_id,
                CASE WHEN lower_key IS NULL
                     THEN pg_catalog.format('c.customer OPERATOR(pg_catalog.<=) %L::%s', upper_key, prog.customer_type)
                     ELSE pg_catalog.format('c.customer OPERATOR(pg_catalog.>) %L::%s AND c.customer OPERATOR(pg_catalog.<=) %L::%s',
                                            lower_key, prog.customer_type, upper_key, prog.customer_type) END,
                abc);
            scored := scored OPERATOR(pg_catalog.+) batch_rows;
            batch_count := batch_count OPERATOR(pg_catalog.+) 1;
            lower_key := upper_key;
            UPDATE customer_tier.run AS r SET customers = scored, batches = batch_count, tier_changes = changed
             WHERE r.id OPERATOR(pg_catalog.=) run_id;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure = MESSAGE_TEXT;
        END;
        IF failure IS NULL THEN
            COMMIT;
        END IF;
    END LOOP;

    IF failure IS NOT NULL THEN
        -- the batches already committed stand: each was a consistent rescore
        UPDATE customer_tier.run AS r
           SET outcome = 'failed', finished_at = pg_catalog.clock_timestamp(), error = failure,
               customers = scored, batches = batch_count, tier_changes = changed
         WHERE r.id OPERATOR(pg_catalog.=) run_id;
        COMMIT;
        PERFORM pg_catalog.pg_advisory_unlock(customer_tier.run_lock_key(program));
        RAISE EXCEPTION 'reclassification run % of program "%" failed: %', run_id, program, failure
            USING ERRCODE = failure_state,
                  HINT = 'The run is logged as failed in customer_tier.run; the next run starts afresh.';
    END IF;

    EXECUTE format($sql$
        UPDATE customer_tier.run AS r
           SET outcome = 'succeeded', finished_at = pg_catalog.clock_timestamp(),
               customers = $2, batches = $3, tier_changes = $4,
               changes_by_tier = (SELECT pg_catalog.jsonb_object_agg(x.change, x.n)
                                    FROM (SELECT coalesce(h.from_tier, 'new') OPERATOR(pg_catalog.||) '>'
                                                 OPERATOR(pg_catalog.||) h.to_tier AS change,
                                                 pg_catalog.count(*) AS n
                                            FROM %1$I.tier_history AS h
                                           WHERE h.source OPERATOR(pg_catalog.=) ('run ' OPERATOR(pg_catalog.||) $1::text)
                                           GROUP BY 1) AS x),
               rejects = (SELECT pg_catalog.count(*) FROM %1$I.rejects)
         WHERE r.id OPERATOR(pg_catalog.=) $1$sql$, prog.data_schema)
      USING run_id, scored, batch_count, changed;
    -- retention (86_retention.sql); a failed purge does not fail the run
    BEGIN
        UPDATE customer_tier.run AS r SET purged = customer_tier.purge(reclassify.program) WHERE r.id OPERATOR(pg_catalog.=) run_id;
    EXCEPTION WHEN OTHERS THEN
        UPDATE customer_tier.run AS r SET purged = pg_catalog.jsonb_build_object('error', SQLERRM)
         WHERE r.id OPERATOR(pg_catalog.=) run_id;
    END;
    COMMIT;
    PERFORM pg_catalog.pg_advisory_unlock(customer_tier.run_lock_key(program));
END
$$;

-- schedule: sql/install/68_reclassify.sql
CREATE OR REPLACE FUNCTION customer_tier.schedule(program text, cron_expression text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    IF program IS NULL OR cron_expression IS NULL THEN
        RAISE EXCEPTION 'program and cron_expression must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM customer_tier.program_row(program);
    IF NOT EXISTS (SELECT FROM pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'customer_tier.schedule() hands the job to pg_cron.',
                  HINT = format('Install pg_cron (shared_preload_libraries = ''pg_cron'', restart, CREATE EXTENSION pg_cron), '
                                'or run CALL customer_tier.reclassify(%L) from any other scheduler.', program);
    END IF;
    EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, pg_catalog.current_database())'
       INTO job
      USING 'customer_tier_' || program, cron_expression,
            format('CALL customer_tier.reclassify(%L)', program);
    RETURN job;
END
$$;

-- default_tiers: sql/install/70_tiers.sql
CREATE OR REPLACE FUNCTION customer_tier.default_tiers(program text)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    method text;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    method := (customer_tier.program_row(program)).method;
    RETURN customer_tier.set_tiers(program, CASE method
        WHEN 'rfm' THEN '[{"tier": "diamond", "min_value_score": 80},
                          {"tier": "gold", "min_value_score": 50},
                          {"tier": "normal"}]'
        WHEN 'abc' THEN '[{"tier": "diamond", "abc_class": "A"},
                          {"tier": "gold", "abc_class": "B"},
                          {"tier": "normal"}]'
        WHEN 'rules' THEN '[{"tier": "diamond", "min_monetary": 1000, "min_orders": 10},
                            {"tier": "gold", "min_monetary": 250, "min_orders": 3},
                            {"tier": "normal"}]'
        END::jsonb);
END
$$;

-- set_method: sql/install/70_tiers.sql
CREATE OR REPLACE FUNCTION customer_tier.set_method(program text, method text)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF method IS NULL OR method NOT IN ('rules', 'rfm', 'abc') THEN
        RAISE EXCEPTION 'unknown method "%"', coalesce(method, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'rules: conditions per tier; rfm: value score thresholds; abc: Pareto classes.',
                  HINT = 'Choose rules, rfm or abc.';
    END IF;
    PERFORM customer_tier.program_row(program);
    UPDATE customer_tier.program AS p SET method = set_method.method WHERE p.name = set_method.program;
    RETURN customer_tier.default_tiers(program);
END
$$;

-- customer_tier.program_tier_config(text): sql/install/70_tiers.sql
CREATE FUNCTION customer_tier.program_tier_config(program text, OUT rules double precision[],
                                                  OUT model_rules double precision[], OUT tiers text[])
RETURNS record
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT array_agg(ARRAY[coalesce(t.min_value_score, 'NaN'),
                           coalesce(t.min_monetary::double precision, 'NaN'),
                           coalesce(t.min_orders::double precision, 'NaN'),
                           coalesce(t.min_tenure_days, 'NaN'),
                           coalesce(array_position('{A,B,C}'::text[], t.abc_class)::double precision, 'NaN')]
                     ORDER BY t.rank),
           CASE WHEN bool_or(t.min_p_alive IS NOT NULL OR t.min_clv IS NOT NULL)
                THEN array_agg(ARRAY[coalesce(t.min_p_alive, 'NaN'), coalesce(t.min_clv, 'NaN')]
                               ORDER BY t.rank) END,
           array_agg(t.tier ORDER BY t.rank)
      INTO rules, model_rules, tiers
      FROM customer_tier.tier AS t
     WHERE t.program = program_tier_config.program;
    IF rules IS NULL THEN
        PERFORM customer_tier.program_row(program);
        PERFORM customer_tier.check_tier_set(program, NULL, NULL);   -- "has no tiers"
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.program_tier_config(text) IS
    'a program''s tiers compiled in one pass: rules (as tier_rules), model_rules (as tier_model_rules) and the tier names, best first';
REVOKE ALL ON FUNCTION customer_tier.program_tier_config(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_tier_config(text) TO customer_tier_reader;  -- 90_roles.sql name list

-- tier_rules: sql/install/70_tiers.sql
CREATE OR REPLACE FUNCTION customer_tier.tier_rules(program text)
RETURNS double precision[]
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (customer_tier.program_tier_config(program)).rules;
END
$$;

-- customer_key_text: sql/install/75_pins.sql
CREATE OR REPLACE FUNCTION customer_tier.customer_key_text(program text, customer text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog  customer_tier.program;
    key   text;
    state text;
BEGIN
    prog := customer_tier.program_row(program);
    BEGIN
        -- customer_type is one of five built-in types (a CHECK on program).
        EXECUTE format('SELECT ($1::%s)::text', prog.customer_type) INTO key USING customer;
    EXCEPTION WHEN data_exception THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
        RAISE EXCEPTION 'customer key "%" is not a valid % for program "%"', customer, prog.customer_type, prog.name
            USING ERRCODE = state,
                  HINT = format('Pass the key as it appears in column %s of %s.', prog.customer_column, prog.orders_table);
    END;
    RETURN key;
END
$$;

-- drop_program_views: sql/install/66_program_views.sql
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

-- ==== new: create_program_run_views; create_program_views calls it (sql/install/66_program_views.sql) ====
CREATE FUNCTION customer_tier.create_program_run_views(prog customer_tier.program)
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
REVOKE ALL ON FUNCTION customer_tier.create_program_run_views(customer_tier.program) FROM PUBLIC;

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
               sum(coalesce(a.customers, 0)) OVER pareto / nullif(sum(a.customers) OVER (), 0) AS cumulative_customer_share
          FROM (SELECT x.tier, x.rank FROM customer_tier.tier AS x WHERE x.program = %2$L) AS t
          FULL JOIN (SELECT c.tier, count(*) AS customers, sum(c.monetary) AS revenue,
                            avg(c.monetary) AS avg_monetary, avg(c.value_score) AS avg_value_score
                       FROM %1$I.customers AS c
                      GROUP BY c.tier) AS a ON a.tier = t.tier
        WINDOW pareto AS (ORDER BY t.rank NULLS LAST, coalesce(t.tier, a.tier) NULLS LAST
                          ROWS UNBOUNDED PRECEDING)
         ORDER BY t.rank NULLS LAST, coalesce(t.tier, a.tier) NULLS LAST
    $sql$, s, prog.name);
    EXECUTE format('COMMENT ON VIEW %I.tier_summary IS %L', s,
                   format('program %s: one row per tier, best first, empty tiers included: customers, revenue, shares (fractions 0..1) and running shares (a Pareto view)',
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
        COMMENT ON COLUMN %1$I.tier_summary.cumulative_customer_share IS 'Pareto: customer share of this tier and every better one, a fraction'
    $sql$, s);

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

-- ==== churn: new columns of extension tables, last as in sql/install ====
-- run.model_fit: sql/install/68_reclassify.sql
ALTER TABLE customer_tier.run ADD COLUMN purged jsonb;
COMMENT ON COLUMN customer_tier.run.purged IS 'rows the run''s purge deleted per kind (customer_tier.purge), or {"error": ...}';
ALTER TABLE customer_tier.run ADD COLUMN model_fit text;
COMMENT ON COLUMN customer_tier.run.model_fit IS 'the model fit of the run: fitted, or which fit failed and why (the previous model was kept)';
-- tier.min_p_alive, tier.min_clv: sql/install/70_tiers.sql
ALTER TABLE customer_tier.tier
    ADD COLUMN min_p_alive double precision
               CONSTRAINT tier_min_p_alive CHECK (min_p_alive >= 0 AND min_p_alive <= 1),
    ADD COLUMN min_clv double precision
               CONSTRAINT tier_min_clv CHECK (min_clv >= 0 AND min_clv < 1e300);
COMMENT ON COLUMN customer_tier.tier.min_p_alive IS 'condition (method rules): BG/NBD p_alive (0..1) at least this; never holds without a fitted model; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_clv IS 'condition (method rules): predicted CLV at least this; never holds without fitted models; NULL = not checked';

-- ==== churn: new part sql/install/72_churn.sql, verbatim ====
-- customer_tier install script, part 72: churn flags, lifecycle stages and
-- the per-program BG/NBD and Gamma-Gamma models (docs/churn.md).
--
-- The rules live in C (churn_assess), called by the one scoring path
-- (program_scoring_sql) for the customers a trigger touched and for everyone
-- in a run; the thresholds are one row per program in churn_settings; the
-- models are fitted by each reclassification run and kept in program_model.

CREATE TABLE customer_tier.churn_settings (
    program                text PRIMARY KEY REFERENCES customer_tier.program (name)
                           ON DELETE CASCADE ON UPDATE CASCADE,
    silent_gap_factor      double precision NOT NULL DEFAULT 3
                           CONSTRAINT churn_silent_gap_factor CHECK (silent_gap_factor >= 0 AND silent_gap_factor < 'Infinity'),
    silent_floor_days      double precision NOT NULL DEFAULT 60
                           CONSTRAINT churn_silent_floor_days CHECK (silent_floor_days >= 0 AND silent_floor_days < 'Infinity'),
    frequency_window_days  double precision NOT NULL DEFAULT 90
                           CONSTRAINT churn_frequency_window_days CHECK (frequency_window_days > 0 AND frequency_window_days <= 36525),
    frequency_drop_ratio   double precision NOT NULL DEFAULT 0.5
                           CONSTRAINT churn_frequency_drop_ratio CHECK (frequency_drop_ratio >= 0 AND frequency_drop_ratio <= 1),
    frequency_min_previous integer NOT NULL DEFAULT 2
                           CONSTRAINT churn_frequency_min_previous CHECK (frequency_min_previous >= 1),
    p_alive_below          double precision NOT NULL DEFAULT 0.5
                           CONSTRAINT churn_p_alive_below CHECK (p_alive_below >= 0 AND p_alive_below <= 1),
    satisfaction_below     double precision NOT NULL DEFAULT 7
                           CONSTRAINT churn_satisfaction_below CHECK (satisfaction_below >= 0 AND satisfaction_below < 'Infinity'),
    new_days               double precision NOT NULL DEFAULT 90
                           CONSTRAINT churn_new_days CHECK (new_days >= 0 AND new_days < 'Infinity'),
    lapsed_days            double precision NOT NULL DEFAULT 180
                           CONSTRAINT churn_lapsed_days CHECK (lapsed_days >= 0 AND lapsed_days < 'Infinity'),
    lost_days              double precision NOT NULL DEFAULT 365
                           CONSTRAINT churn_lost_days CHECK (lost_days >= lapsed_days AND lost_days < 'Infinity'),
    lost_p_alive_below     double precision NOT NULL DEFAULT 0.1
                           CONSTRAINT churn_lost_p_alive_below CHECK (lost_p_alive_below >= 0 AND lost_p_alive_below <= 1),
    won_back_days          double precision NOT NULL DEFAULT 90
                           CONSTRAINT churn_won_back_days CHECK (won_back_days >= 0 AND won_back_days < 'Infinity'),
    clv_horizon_weeks      double precision NOT NULL DEFAULT 52
                           CONSTRAINT churn_clv_horizon_weeks CHECK (clv_horizon_weeks >= 0 AND clv_horizon_weeks <= 520),
    clv_discount_rate      double precision NOT NULL DEFAULT 0
                           CONSTRAINT churn_clv_discount_rate CHECK (clv_discount_rate >= 0 AND clv_discount_rate < 'Infinity'),
    clv_margin             double precision NOT NULL DEFAULT 1
                           CONSTRAINT churn_clv_margin CHECK (clv_margin >= 0 AND clv_margin < 'Infinity')
);
COMMENT ON TABLE customer_tier.churn_settings IS
    'churn and lifecycle thresholds of each program (docs/churn.md); created with the program, changed with set_churn_rules()';
COMMENT ON COLUMN customer_tier.churn_settings.program IS 'the program';
COMMENT ON COLUMN customer_tier.churn_settings.silent_gap_factor IS 'flag silent: no order for more than this many times the customer''s mean gap between orders (default 3)';
COMMENT ON COLUMN customer_tier.churn_settings.silent_floor_days IS 'flag silent: never before this many days without an order; the whole limit for customers with one order (default 60)';
COMMENT ON COLUMN customer_tier.churn_settings.frequency_window_days IS 'flag frequency_falling: length in days of the recent window and of the window before it (default 90)';
COMMENT ON COLUMN customer_tier.churn_settings.frequency_drop_ratio IS 'flag frequency_falling: raised when recent orders < this times the previous window''s orders (default 0.5)';
COMMENT ON COLUMN customer_tier.churn_settings.frequency_min_previous IS 'flag frequency_falling: only when the previous window had at least this many orders (default 2)';
COMMENT ON COLUMN customer_tier.churn_settings.p_alive_below IS 'flag low_p_alive: raised when the BG/NBD p_alive is below this (default 0.5)';
COMMENT ON COLUMN customer_tier.churn_settings.satisfaction_below IS 'flag low_satisfaction: raised when recent_satisfaction (0..10) is below this (default 7: NPS detractors)';
COMMENT ON COLUMN customer_tier.churn_settings.new_days IS 'lifecycle new: first order at most this many days ago (default 90)';
COMMENT ON COLUMN customer_tier.churn_settings.lapsed_days IS 'lifecycle lapsed: no order for more than this many days (default 180)';
COMMENT ON COLUMN customer_tier.churn_settings.lost_days IS 'lifecycle lost: no order for more than this many days, at least lapsed_days (default 365)';
COMMENT ON COLUMN customer_tier.churn_settings.lost_p_alive_below IS 'lifecycle lost: or p_alive below this (default 0.1)';
COMMENT ON COLUMN customer_tier.churn_settings.won_back_days IS 'lifecycle won back: lasts this many days after the customer ordered again (default 90)';
COMMENT ON COLUMN customer_tier.churn_settings.clv_horizon_weeks IS 'predicted CLV: horizon in weeks, 0..520 (default 52)';
COMMENT ON COLUMN customer_tier.churn_settings.clv_discount_rate IS 'predicted CLV: discount rate per week (default 0; each week of horizon then costs one model evaluation per customer)';
COMMENT ON COLUMN customer_tier.churn_settings.clv_margin IS 'predicted CLV: margin applied to spend (default 1: CLV in revenue)';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.churn_settings', '');

-- A program's settings in the order churn_assess reads them.
CREATE FUNCTION customer_tier.churn_settings_array(s customer_tier.churn_settings)
RETURNS double precision[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY[s.silent_gap_factor, s.silent_floor_days, s.frequency_window_days, s.frequency_drop_ratio,
             s.frequency_min_previous, s.p_alive_below, s.satisfaction_below, s.new_days,
             s.lapsed_days, s.lost_days, s.lost_p_alive_below, s.won_back_days,
             s.clv_horizon_weeks, s.clv_discount_rate, s.clv_margin]::double precision[];
COMMENT ON FUNCTION customer_tier.churn_settings_array(customer_tier.churn_settings) IS
    'a program''s churn settings compiled for churn_assess, in column order';

-- The models a program fitted at its last run that could fit them.
CREATE TABLE customer_tier.program_model (
    program           text PRIMARY KEY REFERENCES customer_tier.program (name)
                      ON DELETE CASCADE ON UPDATE CASCADE,
    bgnbd             customer_tier.bgnbd_model,
    bgnbd_fitted_at   timestamptz,
    gamma_gamma       customer_tier.gamma_gamma_model,
    gamma_gamma_fitted_at timestamptz,
    attempted_at      timestamptz NOT NULL,
    run               bigint,
    problem           text
);
COMMENT ON TABLE customer_tier.program_model IS
    'per program: the BG/NBD and Gamma-Gamma models (time in weeks) fitted by the last run that could fit them; a failed fit keeps the previous model';
COMMENT ON COLUMN customer_tier.program_model.program IS 'the program';
COMMENT ON COLUMN customer_tier.program_model.bgnbd IS 'BG/NBD model over (x = orders - 1, t_x, T in weeks) of every customer; NULL until a fit succeeds';
COMMENT ON COLUMN customer_tier.program_model.bgnbd_fitted_at IS 'when the BG/NBD model was fitted (T was measured to this instant)';
COMMENT ON COLUMN customer_tier.program_model.gamma_gamma IS 'Gamma-Gamma model over every customer''s mean order value, x = orders; NULL until a fit succeeds';
COMMENT ON COLUMN customer_tier.program_model.gamma_gamma_fitted_at IS 'when the Gamma-Gamma model was fitted';
COMMENT ON COLUMN customer_tier.program_model.attempted_at IS 'when a run last tried to fit the models';
COMMENT ON COLUMN customer_tier.program_model.run IS 'the run (customer_tier.run.id) that last tried';
COMMENT ON COLUMN customer_tier.program_model.problem IS 'why the last attempt kept a previous model (or none), NULL when both fits succeeded';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.program_model', '');

CREATE FUNCTION customer_tier.churn_assess(settings double precision[], bg customer_tier.bgnbd_model,
                                           gg customer_tier.gamma_gamma_model,
                                           purchases customer_tier.order_stats_state, monetary numeric,
                                           recent_satisfaction double precision,
                                           stage text, stage_since timestamptz, as_of timestamptz,
                                           OUT p_alive double precision, OUT clv double precision,
                                           OUT churn_flags text[], OUT churn_reasons text[],
                                           OUT lifecycle text)
RETURNS record
AS 'MODULE_PATHNAME', 'churn_assess'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.churn_assess(double precision[], customer_tier.bgnbd_model, customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text, timestamptz, timestamptz) IS
    'a customer''s p_alive, predicted CLV, churn flags with reasons and lifecycle stage from its purchases, the program''s settings and models and its stored stage';

CREATE FUNCTION customer_tier.btyd_summary(purchases customer_tier.order_stats_state, monetary numeric,
                                           as_of timestamptz,
                                           OUT x integer, OUT t_x double precision, OUT t double precision,
                                           OUT orders integer, OUT mean_spend double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'btyd_summary'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.btyd_summary(customer_tier.order_stats_state, numeric, timestamptz) IS
    'a program customer''s model summary in weeks: BG/NBD x = orders - 1, t_x, T to as_of; Gamma-Gamma x = orders and their mean value (NULL unless positive)';

-- Fit a program's models over its customers as of now and store them; a fit
-- that fails keeps the previous model (or none).  Never raises for the data:
-- returns a note for the run log, NULL when both fits succeeded.
CREATE FUNCTION customer_tier.fit_program_model(program text, run bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    bg customer_tier.bgnbd_model;
    gg customer_tier.gamma_gamma_model;
    bg_problem text;
    gg_problem text;
    note text;
    population bigint;
    sample text := 'true';
    -- the sample's summaries (btyd_summary), column by column
    xs integer[];
    t_xs double precision[];
    ts double precision[];
    order_counts integer[];
    mean_spends double precision[];
BEGIN
    prog := customer_tier.program_row(program);
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', prog.data_schema) INTO population;
    IF population > 20000 THEN
        sample := format('(pg_catalog.hashtext(c.customer::text) & 1048575) < %s',
                         ceil(1048576.0 * 20000 / population)::bigint);
    END IF;
    -- the sample's summaries, read once for both fits
    EXECUTE format($sql$
        SELECT pg_catalog.array_agg(s.x), pg_catalog.array_agg(s.t_x), pg_catalog.array_agg(s.t),
               pg_catalog.array_agg(s.orders), pg_catalog.array_agg(s.mean_spend)
          FROM %I.customers AS c,
               LATERAL customer_tier.btyd_summary(c.purchases, c.monetary, pg_catalog.now()) AS s
         WHERE %s$sql$, prog.data_schema, sample)
      INTO xs, t_xs, ts, order_counts, mean_spends;
    BEGIN
        SELECT (f.model).* INTO bg
          FROM (SELECT customer_tier.bgnbd_fit(u.x, u.t_x, u.t) AS model
                  FROM ROWS FROM (pg_catalog.unnest(xs), pg_catalog.unnest(t_xs), pg_catalog.unnest(ts)) AS u(x, t_x, t)) AS f;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS bg_problem = MESSAGE_TEXT;
        bg := NULL;
    END;
    BEGIN
        SELECT (f.model).* INTO gg
          FROM (SELECT customer_tier.gamma_gamma_fit(u.orders,
                           10 ^ (pg_catalog.round(50 * pg_catalog.log(u.mean_spend)) / 50)) AS model
                  FROM ROWS FROM (pg_catalog.unnest(order_counts), pg_catalog.unnest(mean_spends)) AS u(orders, mean_spend)) AS f;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS gg_problem = MESSAGE_TEXT;
        gg := NULL;
    END;
    note := nullif(concat_ws('; ',
                             'bg/nbd: ' || bg_problem || ' (previous model kept)',
                             'gamma-gamma: ' || gg_problem || ' (previous model kept)'), '');
    INSERT INTO customer_tier.program_model AS m
           (program, bgnbd, bgnbd_fitted_at, gamma_gamma, gamma_gamma_fitted_at, attempted_at, run, problem)
    VALUES (prog.name, bg, CASE WHEN bg IS NOT NULL THEN now() END,
            gg, CASE WHEN gg IS NOT NULL THEN now() END, now(), fit_program_model.run, note)
    ON CONFLICT ON CONSTRAINT program_model_pkey DO UPDATE
       SET bgnbd = coalesce(excluded.bgnbd, m.bgnbd),
           bgnbd_fitted_at = coalesce(excluded.bgnbd_fitted_at, m.bgnbd_fitted_at),
           gamma_gamma = coalesce(excluded.gamma_gamma, m.gamma_gamma),
           gamma_gamma_fitted_at = coalesce(excluded.gamma_gamma_fitted_at, m.gamma_gamma_fitted_at),
           attempted_at = excluded.attempted_at, run = excluded.run, problem = excluded.problem;
    IF note IS NOT NULL THEN
        RAISE NOTICE 'program "%": a model could not be fitted', prog.name
            USING DETAIL = note || '.',
                  HINT = 'Scoring goes on with the previous model, or without p_alive and CLV if there is none; the next run tries again.';
    END IF;
    RETURN note;
END
$$;
COMMENT ON FUNCTION customer_tier.fit_program_model(text, bigint) IS
    'fit a program''s BG/NBD and Gamma-Gamma models over its customers (weeks) and store them; a failed fit keeps the previous model and is reported, never raised';

-- Change some of a program's churn thresholds and rescore its customers.
-- rules is a JSON object of churn_settings columns, e.g. {"lapsed_days": 120};
-- keys left out keep their value.  Returns the whole settings as JSON.
CREATE FUNCTION customer_tier.set_churn_rules(program text, rules jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'Pass a JSON object of thresholds, e.g. {"silent_gap_factor": 2.5, "lapsed_days": 120}.';
    ratios constant text[] := '{frequency_drop_ratio,p_alive_below,lost_p_alive_below}';
    prog customer_tier.program;
    cur jsonb;
    accepted text[];
    key text;
    val jsonb;
    num numeric;
    result customer_tier.churn_settings;
BEGIN
    IF program IS NULL OR rules IS NULL THEN
        RAISE EXCEPTION 'program and rules must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = example;
    END IF;
    prog := customer_tier.program_row(program);
    IF jsonb_typeof(rules) <> 'object' THEN
        RAISE EXCEPTION 'rules must be a JSON object, not %', jsonb_typeof(rules)
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    INSERT INTO customer_tier.churn_settings (program) VALUES (prog.name) ON CONFLICT DO NOTHING;
    SELECT to_jsonb(s) - 'program' INTO cur
      FROM customer_tier.churn_settings AS s WHERE s.program = prog.name FOR UPDATE;
    accepted := ARRAY(SELECT k FROM jsonb_object_keys(cur) AS k ORDER BY k);
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(rules) AS e ORDER BY e.key LOOP
        IF key <> ALL (accepted) THEN
            RAISE EXCEPTION 'unknown churn rule "%"', key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The accepted keys are: %s.', array_to_string(accepted, ', '));
        END IF;
        IF jsonb_typeof(val) <> 'number' THEN
            RAISE EXCEPTION 'churn rule % must be a JSON number, not %', key, jsonb_typeof(val)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = format('Write the value without quotes, e.g. {"%s": 3}; NaN and Infinity are not numbers.', key);
        END IF;
        num := val::numeric;
        IF num < 0 THEN
            RAISE EXCEPTION 'churn rule % must not be negative, not %', key, num
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF key = ANY (ratios) AND num > 1 THEN
            RAISE EXCEPTION 'churn rule % must be between 0 and 1, not %', key, num
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'It is compared with a probability or a ratio.';
        END IF;
        IF key = 'frequency_window_days' AND NOT (num > 0 AND num <= 36525) THEN
            RAISE EXCEPTION 'churn rule frequency_window_days must be above 0 and at most 36525, not %', num
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The window is a number of days, e.g. 90.';
        END IF;
        IF key = 'frequency_min_previous' AND (num < 1 OR num <> trunc(num) OR num > 2147483647) THEN
            RAISE EXCEPTION 'churn rule frequency_min_previous must be a whole number of at least 1, not %', num
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF key = 'clv_horizon_weeks' AND num > 520 THEN
            RAISE EXCEPTION 'churn rule clv_horizon_weeks must be at most 520, not %', num
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Ten years of weeks is the longest horizon.';
        END IF;
        IF num >= 1e300 THEN
            RAISE EXCEPTION 'churn rule % must be below 1e300', key
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        cur := jsonb_set(cur, ARRAY[key], val);
    END LOOP;
    IF (cur ->> 'lost_days')::numeric < (cur ->> 'lapsed_days')::numeric THEN
        RAISE EXCEPTION 'churn rule lost_days (%) must not be below lapsed_days (%)',
                        cur ->> 'lost_days', cur ->> 'lapsed_days'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A customer is lapsed before being lost.';
    END IF;
    result := jsonb_populate_record(NULL::customer_tier.churn_settings,
                                    cur || jsonb_build_object('program', prog.name));
    UPDATE customer_tier.churn_settings AS s
       SET (silent_gap_factor, silent_floor_days, frequency_window_days, frequency_drop_ratio,
            frequency_min_previous, p_alive_below, satisfaction_below, new_days, lapsed_days,
            lost_days, lost_p_alive_below, won_back_days, clv_horizon_weeks, clv_discount_rate,
            clv_margin) =
           (result.silent_gap_factor, result.silent_floor_days, result.frequency_window_days,
            result.frequency_drop_ratio, result.frequency_min_previous, result.p_alive_below,
            result.satisfaction_below, result.new_days, result.lapsed_days, result.lost_days,
            result.lost_p_alive_below, result.won_back_days, result.clv_horizon_weeks,
            result.clv_discount_rate, result.clv_margin)
     WHERE s.program = prog.name;
    PERFORM customer_tier.rescore_program(prog.name, 'set_churn_rules');
    RETURN cur;
END
$$;
COMMENT ON FUNCTION customer_tier.set_churn_rules(text, jsonb) IS
    'change some of a program''s churn and lifecycle thresholds (a JSON object of churn_settings columns), validated, then rescore it; returns all settings';

REVOKE ALL ON FUNCTION customer_tier.set_churn_rules(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.fit_program_model(text, bigint) FROM PUBLIC;

-- Internal helpers: called by the scoring path (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.churn_settings_array(customer_tier.churn_settings) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.churn_assess(double precision[], customer_tier.bgnbd_model, customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.btyd_summary(customer_tier.order_stats_state, numeric, timestamptz) FROM PUBLIC;

-- ==== churn: new functions ====


-- customer_tier.tier_model_rules(text): sql/install/70_tiers.sql
CREATE FUNCTION customer_tier.tier_model_rules(program text)
RETURNS double precision[]
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM customer_tier.tier AS t WHERE t.program = tier_model_rules.program) THEN
        RETURN NULL;
    END IF;
    RETURN (customer_tier.program_tier_config(program)).model_rules;
END
$$;
COMMENT ON FUNCTION customer_tier.tier_model_rules(text) IS
    'a program''s tier conditions on p_alive and predicted CLV compiled for qualify_tier: a tiers x 2 array (min_p_alive, min_clv), NaN = no condition; NULL when no tier has one';
REVOKE ALL ON FUNCTION customer_tier.tier_model_rules(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.tier_model_rules(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.tier_model_rules(text) TO customer_tier_reader;  -- 90_roles.sql name list

-- customer_tier.qualify_tier(double precision[], double precision, numeric, bigint, double precision, text, double precision[], double precision, double precision): sql/install/70_tiers.sql
CREATE FUNCTION customer_tier.qualify_tier(rules double precision[], value_score double precision,
                                           monetary numeric, orders bigint,
                                           tenure_days double precision, abc_class text,
                                           model_rules double precision[], p_alive double precision,
                                           clv double precision)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'qualify_tier_model'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.qualify_tier(double precision[], double precision, numeric, bigint, double precision, text, double precision[], double precision, double precision) IS
    'rank of the best tier whose every condition holds, with the conditions on p_alive and predicted CLV compiled by tier_model_rules(); a condition on a NULL score does not hold';

-- customer_tier.program_maintain_function_sql(customer_tier.program): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.program_maintain_function_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($fn$
        CREATE FUNCTION %1$I.maintain_customers() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $body$
        DECLARE
            rejected bigint;
            emptied %2$s[];
            drifted bigint;
            announced bigint;
        BEGIN
            IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
                %3$s
            ELSIF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
                %4$s
            ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
                %5$s
            ELSE
                TRUNCATE %1$I.customers;
            END IF;
            RETURN NULL;
        END
        $body$ $fn$,
        prog.data_schema, prog.customer_type,
        customer_tier.program_apply_block_sql(prog, 'new_rows', NULL),
        customer_tier.program_apply_block_sql(prog, 'new_rows', 'old_rows'),
        customer_tier.program_apply_block_sql(prog, NULL, 'old_rows'));
END
$$;
COMMENT ON FUNCTION customer_tier.program_maintain_function_sql(customer_tier.program) IS
    'SQL text of the CREATE FUNCTION of a program''s trigger function maintain_customers()';
REVOKE ALL ON FUNCTION customer_tier.program_maintain_function_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_maintain_function_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_segments_view_sql(customer_tier.program): sql/install/66_program_views.sql
CREATE FUNCTION customer_tier.program_segments_view_sql(prog customer_tier.program)
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
REVOKE ALL ON FUNCTION customer_tier.program_segments_view_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_segments_view_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_churn_risk_view_sql(customer_tier.program): sql/install/66_program_views.sql
CREATE FUNCTION customer_tier.program_churn_risk_view_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    RETURN concat_ws(E';\n',
        format($sql$
            CREATE VIEW %1$I.churn_risk AS
            SELECT c.customer, c.tier, c.lifecycle, c.churn_flags, c.churn_reasons,
                   c.predicted_clv AS value_at_stake, c.p_alive, c.monetary, c.orders, c.last_order,
                   (EXTRACT(EPOCH FROM now() - c.last_order) / 86400)::double precision AS days_silent,
                   c.mean_gap_days, c.recent_satisfaction
              FROM %1$I.customers AS c
             WHERE cardinality(c.churn_flags) > 0
               AND c.lifecycle IS DISTINCT FROM 'lost'
             ORDER BY c.predicted_clv DESC NULLS LAST, c.monetary DESC, c.customer
        $sql$, s),
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
            COMMENT ON COLUMN %1$I.churn_risk.days_silent IS 'days since the last purchase, now';
            COMMENT ON COLUMN %1$I.churn_risk.mean_gap_days IS 'the customer''s usual gap: mean days between purchases; NULL with fewer than two';
            COMMENT ON COLUMN %1$I.churn_risk.recent_satisfaction IS 'recent satisfaction on 0..10; NULL = no feedback'
        $sql$, s, format('the customer key, in the type of %s.%I (%s): join on it with no cast',
                         prog.orders_table, prog.customer_column, prog.customer_type)));
END
$$;
COMMENT ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) IS
    'SQL text that creates the view churn_risk of a program''s schema, with its comments';
REVOKE ALL ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== speed: new function score_program_customer (the scoring fragment calls it) ====
-- customer_tier.score_program_customer(double precision[], customer_tier.bgnbd_model, customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text, timestamp with time zone, text, timestamp with time zone, bigint, timestamp with time zone, double precision[], double precision[], double precision[], double precision[], double precision[], text[], text, timestamp with time zone, timestamp with time zone, text, integer, interval, timestamp with time zone, double precision[], text): sql/install/64_program_scoring.sql
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
REVOKE ALL ON FUNCTION customer_tier.score_program_customer(double precision[], customer_tier.bgnbd_model,
    customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text,
    timestamptz, text, timestamptz, bigint, timestamptz, double precision[], double precision[],
    double precision[], double precision[], double precision[], text[], text, timestamptz, timestamptz,
    text, integer, interval, timestamptz, double precision[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.score_program_customer(double precision[], customer_tier.bgnbd_model, customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text, timestamp with time zone, text, timestamp with time zone, bigint, timestamp with time zone, double precision[], double precision[], double precision[], double precision[], double precision[], text[], text, timestamp with time zone, timestamp with time zone, text, integer, interval, timestamp with time zone, double precision[], text) TO customer_tier_admin;  -- 90_roles.sql name list


-- ==== churn: changed signature: program_scoring_sql gained the parameter purchases ====
-- (plpgsql bodies that call it hold no dependency on it; nothing else does)
DROP FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text);
-- customer_tier.program_scoring_sql(text, text, text, text, text, text): sql/install/64_program_scoring.sql
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
REVOKE ALL ON FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== churn: changed bodies ====
-- customer_tier.program_apply_sql(customer_tier.program, text, text, text): sql/install/62_program_objects.sql
CREATE OR REPLACE FUNCTION customer_tier.program_apply_sql(prog customer_tier.program, added text, removed text, source text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    one_side text := $sql$
            SELECT o.%1$I AS customer, o.%2$I AS ordered_at, o.%3$I AS amount, %4$s AS added,
                   %5$s AS problem, %6$s AS counted
              FROM %7$s AS o$sql$;
    counted text := CASE WHEN prog.status_column IS NULL THEN 'true'
                         ELSE format('o.%I::text OPERATOR(pg_catalog.=) ANY (%L::text[])',
                                     prog.status_column, prog.counted_statuses) END;
    partial text := $sql$customer_tier.order_stats_partial(r.ordered_at, r.amount)
                   FILTER (WHERE r.ok AND %s AND r.amount OPERATOR(pg_catalog.%s) '0')$sql$;
    no_delta text := 'NULL::customer_tier.order_stats_state';
    sides text[] := '{}';
BEGIN
    IF added IS NOT NULL THEN
        sides := sides || format(one_side, prog.customer_column, prog.ordered_at_column,
                                 prog.amount_column, 'true',
                                 customer_tier.program_row_problem_sql(prog, 'o'), counted, added);
    END IF;
    IF removed IS NOT NULL THEN
        -- a removed row that could not be used was never counted: no problem to report
        sides := sides || format(one_side, prog.customer_column, prog.ordered_at_column,
                                 prog.amount_column, 'false',
                                 customer_tier.program_row_problem_sql(prog, 'o'), counted, removed);
    END IF;
    -- Only the deltas an operation can have are aggregated (an INSERT removes
    -- nothing); OFFSET 0 keeps the per-row problem test from being repeated
    -- in every FILTER.
    RETURN format($sql$
    WITH %7$s,
    delta AS (
        SELECT r.customer,
               %3$s AS add_purchases,
               %4$s AS remove_purchases,
               %5$s AS add_refunds,
               %6$s AS remove_refunds,
               pg_catalog.count(*) FILTER (WHERE r.added AND NOT r.usable) AS problems
          FROM (SELECT u.*, u.problem IS NULL AS usable, u.problem IS NULL AND u.counted AS ok
                  FROM (%2$s) AS u OFFSET 0) AS r
         GROUP BY r.customer
    ), applied AS (
        INSERT INTO %1$I.customers AS c
               (customer, purchases, refunds, remove_purchases, remove_refunds, orders, monetary,
                first_order, last_order, mean_gap_days, gap_stddev_days, updated_at%9$s)
        SELECT d.customer, d.add_purchases, d.add_refunds, d.remove_purchases, d.remove_refunds,
               m.orders, m.monetary, m.first_order, m.last_order, m.mean_gap_days, m.gap_stddev_days,
               pg_catalog.now()%10$s
          FROM delta AS d,
               LATERAL customer_tier.customer_metrics(d.add_purchases, d.add_refunds) AS m%11$s
         WHERE d.customer IS NOT NULL
           AND (d.add_purchases IS NOT NULL OR d.add_refunds IS NOT NULL
                OR d.remove_purchases IS NOT NULL OR d.remove_refunds IS NOT NULL)
         ORDER BY d.customer
        ON CONFLICT (customer) DO UPDATE
           SET (purchases, refunds, remove_purchases, remove_refunds, orders, monetary,
                first_order, last_order, mean_gap_days, gap_stddev_days, updated_at, %8$s) =
               (SELECT n.purchases, n.refunds, NULL::customer_tier.order_stats_state,
                       NULL::customer_tier.order_stats_state, m.orders, m.monetary,
                       m.first_order, m.last_order, m.mean_gap_days, m.gap_stddev_days, pg_catalog.now(), sc.*
                  FROM (SELECT customer_tier.order_stats_state_merge(
                                   customer_tier.order_stats_state_subtract(c.purchases, excluded.remove_purchases),
                                   excluded.purchases) AS purchases,
                               customer_tier.order_stats_state_merge(
                                   customer_tier.order_stats_state_subtract(c.refunds, excluded.remove_refunds),
                                   excluded.refunds) AS refunds) AS n,
                       LATERAL customer_tier.customer_metrics(n.purchases, n.refunds) AS m,
                       LATERAL %12$s AS sc)
        RETURNING c.customer, c.tier, c.tier_reason, c.changed_by,
                  c.xmax::text OPERATOR(pg_catalog.=) '0' AS inserted,
                  c.purchases IS NULL AND c.refunds IS NULL AS emptied,
                  c.remove_purchases IS NOT NULL OR c.remove_refunds IS NOT NULL AS drifted
    ), assigned AS (
        -- a new customer's first tier; later changes are recorded by the row
        -- trigger tier_changed (a statement cannot see the tier it replaced)
        INSERT INTO %1$I.tier_history (customer, from_tier, to_tier, reason, source)
        SELECT a.customer, NULL, a.tier, a.tier_reason, a.changed_by
          FROM applied AS a
         WHERE a.inserted AND a.tier IS NOT NULL
        RETURNING customer, to_tier, reason, source
    )
    SELECT (SELECT pg_catalog.array_agg(a.customer) FILTER (WHERE a.emptied) FROM applied AS a),
           (SELECT pg_catalog.count(*) FILTER (WHERE a.drifted) FROM applied AS a),
           (SELECT pg_catalog.sum(d.problems) FROM delta AS d),
           (SELECT pg_catalog.count(*)
              FROM assigned AS h,
                   LATERAL (SELECT customer_tier.announce_tier_change(%13$L, pg_catalog.to_jsonb(h.customer),
                                NULL, h.to_tier, h.reason, h.source)) AS n)$sql$,
        prog.data_schema, array_to_string(sides, ' UNION ALL'),
        CASE WHEN added IS NULL THEN no_delta ELSE format(partial, 'r.added', '>=') END,
        CASE WHEN removed IS NULL THEN no_delta ELSE format(partial, 'NOT r.added', '>=') END,
        CASE WHEN added IS NULL THEN no_delta ELSE format(partial, 'r.added', '<') END,
        CASE WHEN removed IS NULL THEN no_delta ELSE format(partial, 'NOT r.added', '<') END,
        customer_tier.program_config_cte_sql(prog),
        customer_tier.program_scored_columns(),
        CASE WHEN source IS NULL THEN '' ELSE ', ' || customer_tier.program_scored_columns() END,
        CASE WHEN source IS NULL THEN '' ELSE ', sc.*' END,
        CASE WHEN source IS NULL THEN ''
             ELSE format(E',\n               LATERAL %s AS sc',
                         customer_tier.program_scoring_sql('m', 'd.customer', NULL, source,
                                                           purchases => 'd.add_purchases')) END,
        customer_tier.program_scoring_sql('m', 'c.customer', 'c', coalesce(source, '''backfill'''),
                                          purchases => 'n.purchases'),
        prog.name);
END
$$;

-- customer_tier.create_program_objects(customer_tier.program): sql/install/62_program_objects.sql
CREATE OR REPLACE FUNCTION customer_tier.create_program_objects(prog customer_tier.program)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    customers bigint;
    emptied text[];
    drifted bigint;
    rejected bigint;
    announced bigint;
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.customers (
            customer         %2$s PRIMARY KEY,
            purchases        customer_tier.order_stats_state,
            refunds          customer_tier.order_stats_state,
            orders           bigint NOT NULL,
            monetary         numeric NOT NULL,
            first_order      timestamptz,
            last_order       timestamptz,
            mean_gap_days    double precision,
            gap_stddev_days  double precision,
            updated_at       timestamptz NOT NULL,
            r_score          integer,
            f_score          integer,
            m_score          integer,
            value_score      double precision,
            segment          text,
            abc_class        text,
            tier             text,
            tier_since       timestamptz,
            pending_since    timestamptz,
            tier_reason      text,
            changed_by       text,
            remove_purchases customer_tier.order_stats_state,
            remove_refunds   customer_tier.order_stats_state,
            recent_satisfaction double precision,
            p_alive          double precision,
            predicted_clv    double precision,
            churn_flags      text[],
            churn_reasons    text[],
            lifecycle        text,
            lifecycle_since  timestamptz,
            previous_lifecycle text
        )$sql$, s, prog.customer_type);
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', s,
                   format('program %s: one row per customer with counted orders, kept current by triggers on %s',
                          prog.name, prog.orders_table));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.customers.customer IS 'the customer key, in the orders table''s own type';
        COMMENT ON COLUMN %1$I.customers.purchases IS 'order_stats state of the purchases (amount >= 0)';
        COMMENT ON COLUMN %1$I.customers.refunds IS 'order_stats state of the refunds (amount < 0), NULL if none';
        COMMENT ON COLUMN %1$I.customers.orders IS 'number of purchases';
        COMMENT ON COLUMN %1$I.customers.monetary IS 'net monetary value: purchases plus refunds, exact';
        COMMENT ON COLUMN %1$I.customers.first_order IS 'time of the first purchase';
        COMMENT ON COLUMN %1$I.customers.last_order IS 'time of the last purchase';
        COMMENT ON COLUMN %1$I.customers.mean_gap_days IS 'mean days between consecutive purchases';
        COMMENT ON COLUMN %1$I.customers.gap_stddev_days IS 'sample standard deviation of the days between purchases';
        COMMENT ON COLUMN %1$I.customers.updated_at IS 'when the row last changed';
        COMMENT ON COLUMN %1$I.customers.r_score IS 'recency score 1..5 against the breakpoints of the last run (5 = most recent)';
        COMMENT ON COLUMN %1$I.customers.f_score IS 'frequency score 1..5 against the breakpoints of the last run';
        COMMENT ON COLUMN %1$I.customers.m_score IS 'monetary score 1..5 against the breakpoints of the last run';
        COMMENT ON COLUMN %1$I.customers.value_score IS 'weighted value score 0..100 from the R, F and M scores';
        COMMENT ON COLUMN %1$I.customers.segment IS 'RFM segment name (customer_tier.rfm_segments() lists them)';
        COMMENT ON COLUMN %1$I.customers.abc_class IS 'Pareto class A, B or C, set by the last run';
        COMMENT ON COLUMN %1$I.customers.tier IS 'current tier (customer_tier.tier lists the program''s tiers)';
        COMMENT ON COLUMN %1$I.customers.tier_since IS 'when the customer entered the current tier';
        COMMENT ON COLUMN %1$I.customers.pending_since IS 'since when the customer has qualified only for a lower tier (downgrade after the grace period)';
        COMMENT ON COLUMN %1$I.customers.tier_reason IS 'why the tier is what it is: new, upgrade, unchanged, downgrade pending, downgrade, pinned';
        COMMENT ON COLUMN %1$I.customers.changed_by IS 'what last changed the customer''s scores: a trigger operation, the backfill, a pin or a run';
        COMMENT ON COLUMN %1$I.customers.remove_purchases IS 'always NULL when stored: carries removed purchases within one upsert';
        COMMENT ON COLUMN %1$I.customers.remove_refunds IS 'always NULL when stored: carries removed refunds within one upsert';
        COMMENT ON COLUMN %1$I.customers.recent_satisfaction IS 'input: the customer''s recent satisfaction on 0..10, filled by feedback; NULL = no feedback (flag low_satisfaction never raised)';
        COMMENT ON COLUMN %1$I.customers.p_alive IS 'BG/NBD probability that the customer is still active, from the model of the last run; NULL without a model';
        COMMENT ON COLUMN %1$I.customers.predicted_clv IS 'predicted customer lifetime value over the program''s CLV horizon (BG/NBD x Gamma-Gamma); NULL without both models';
        COMMENT ON COLUMN %1$I.customers.churn_flags IS 'churn flags raised: silent, frequency_falling, low_p_alive, low_satisfaction; empty when none';
        COMMENT ON COLUMN %1$I.customers.churn_reasons IS 'the reason of each flag, in the order of churn_flags';
        COMMENT ON COLUMN %1$I.customers.lifecycle IS 'lifecycle stage: new, active, at risk, lapsed, lost, won back';
        COMMENT ON COLUMN %1$I.customers.lifecycle_since IS 'when the customer entered the current lifecycle stage (as seen by the scoring)';
        COMMENT ON COLUMN %1$I.customers.previous_lifecycle IS 'the lifecycle stage before the current one; NULL for the first'
    $sql$, s);

    EXECUTE format($sql$
        CREATE TABLE %1$I.rejects (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            rejected_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            operation   text NOT NULL,
            reason      text NOT NULL,
            order_id    text,
            row_image   jsonb NOT NULL
        );
        COMMENT ON TABLE %1$I.rejects IS 'order rows the program could not use, with the reason; the orders table keeps them unchanged';
        COMMENT ON COLUMN %1$I.rejects.id IS 'reject number, in the order rejects were recorded';
        COMMENT ON COLUMN %1$I.rejects.rejected_at IS 'when the row was rejected';
        COMMENT ON COLUMN %1$I.rejects.operation IS 'INSERT, UPDATE or BACKFILL';
        COMMENT ON COLUMN %1$I.rejects.reason IS 'why the row cannot be used';
        COMMENT ON COLUMN %1$I.rejects.order_id IS 'the order id, when the program names an order id column';
        COMMENT ON COLUMN %1$I.rejects.row_image IS 'the whole row as written to the orders table'
    $sql$, s);

    -- Every change of tier is recorded and announced, whoever makes it (the
    -- triggers, a run, a pin): a row trigger on the program's own customers,
    -- whose WHEN clause costs nothing when the tier stays.  A new customer's
    -- first tier is recorded by the statement that inserts it (program_apply_sql),
    -- in one pass rather than one trigger call per customer of a bulk load.
    EXECUTE format($sql$
        CREATE TABLE %1$I.tier_history (
            id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer   %2$s NOT NULL,
            from_tier  text,
            to_tier    text,
            changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            reason     text,
            source     text
        );
        CREATE INDEX ON %1$I.tier_history (customer, changed_at);
        CREATE INDEX ON %1$I.tier_history (changed_at);
        COMMENT ON TABLE %1$I.tier_history IS 'every change of a customer''s tier, oldest first';
        COMMENT ON COLUMN %1$I.tier_history.id IS 'change number, in the order changes were made';
        COMMENT ON COLUMN %1$I.tier_history.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.tier_history.from_tier IS 'the tier before, NULL for a customer''s first tier';
        COMMENT ON COLUMN %1$I.tier_history.to_tier IS 'the tier after';
        COMMENT ON COLUMN %1$I.tier_history.changed_at IS 'when (the time of the transaction that made the change)';
        COMMENT ON COLUMN %1$I.tier_history.reason IS 'new, upgrade, downgrade or pinned';
        COMMENT ON COLUMN %1$I.tier_history.source IS 'what made the change: trigger INSERT/UPDATE/DELETE, create_program, or a run'
    $sql$, s, prog.customer_type);
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.record_tier_change() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $body$
        BEGIN
            INSERT INTO %1$I.tier_history (customer, from_tier, to_tier, reason, source)
            VALUES (NEW.customer, OLD.tier, NEW.tier, NEW.tier_reason, NEW.changed_by);
            PERFORM customer_tier.announce_tier_change(%2$L, pg_catalog.to_jsonb(NEW.customer), OLD.tier,
                                                       NEW.tier, NEW.tier_reason, NEW.changed_by);
            RETURN NULL;
        END
        $body$ $fn$, s, prog.name);
    EXECUTE format($sql$
        COMMENT ON FUNCTION %1$I.record_tier_change() IS 'records a change of tier in tier_history and announces it on channel customer_tier';
        REVOKE ALL ON FUNCTION %1$I.record_tier_change() FROM PUBLIC;
        CREATE TRIGGER tier_changed AFTER UPDATE OF tier ON %1$I.customers
            FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier) EXECUTE FUNCTION %1$I.record_tier_change()
    $sql$, s);

    EXECUTE customer_tier.program_maintain_function_sql(prog);
    EXECUTE format('COMMENT ON FUNCTION %I.maintain_customers() IS %L', s,
                   format('program %s: keeps its customers current from changes to %s', prog.name, prog.orders_table));
    EXECUTE format('REVOKE ALL ON FUNCTION %I.maintain_customers() FROM PUBLIC', s);

    -- No write may slip between the backfill and the triggers.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', prog.orders_table);
    EXECUTE format($sql$
        CREATE TRIGGER %1$I AFTER INSERT ON %3$s REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_customers();
        CREATE TRIGGER %4$I AFTER UPDATE ON %3$s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_customers();
        CREATE TRIGGER %5$I AFTER DELETE ON %3$s REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_customers();
        CREATE TRIGGER %6$I AFTER TRUNCATE ON %3$s
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_customers()$sql$,
        customer_tier.program_trigger_name(prog.name, 'insert'), s, prog.orders_table,
        customer_tier.program_trigger_name(prog.name, 'update'),
        customer_tier.program_trigger_name(prog.name, 'delete'),
        customer_tier.program_trigger_name(prog.name, 'truncate'));

    -- unscored: create_program scores everyone once the first breakpoints exist
    EXECUTE customer_tier.program_apply_sql(prog, prog.orders_table::text, NULL, NULL) INTO emptied, drifted, rejected, announced;
    IF rejected OPERATOR(pg_catalog.>) 0 THEN
        EXECUTE customer_tier.program_rejects_sql(prog, prog.orders_table::text, '''BACKFILL''');
    END IF;
    INSERT INTO customer_tier.churn_settings (program) VALUES (prog.name) ON CONFLICT DO NOTHING;
    PERFORM customer_tier.create_program_views(prog);
    PERFORM customer_tier.create_followup_objects(prog);
    PERFORM customer_tier.grant_program_access(prog);
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', s) INTO customers;
    RETURN customers;
END
$$;

-- customer_tier.program_scored_columns(): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.program_scored_columns()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'r_score, f_score, m_score, value_score, segment, tier, tier_since, pending_since, tier_reason, changed_by, '
       'p_alive, predicted_clv, churn_flags, churn_reasons, lifecycle, lifecycle_since, previous_lifecycle';

-- customer_tier.program_config_cte_sql(customer_tier.program): sql/install/64_program_scoring.sql
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
               pm.bgnbd AS bg, pm.gamma_gamma AS gg
          FROM customer_tier.program AS p
          LEFT JOIN customer_tier.program_model AS pm ON pm.program OPERATOR(pg_catalog.=) p.name
          CROSS JOIN LATERAL customer_tier.program_tier_config(p.name) AS tc
         WHERE p.name OPERATOR(pg_catalog.=) %L)$sql$, prog.name);
END
$$;

-- rescore_where's fourth parameter is now abc, an expression (was abc_table):
-- a parameter cannot be renamed in place
DROP FUNCTION customer_tier.rescore_where(text, text, text, text);
-- customer_tier.rescore_where(text, text, text, text): sql/install/64_program_scoring.sql
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
REVOKE ALL ON FUNCTION customer_tier.rescore_where(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.rescore_where(text, text, text, text) TO customer_tier_admin;  -- 90_roles.sql name list


-- customer_tier.method_conditions(text): sql/install/70_tiers.sql
CREATE FUNCTION customer_tier.method_conditions(method text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE method
           WHEN 'rfm' THEN '{min_value_score}'::text[]
           WHEN 'abc' THEN '{abc_class}'::text[]
           ELSE '{min_value_score,min_monetary,min_orders,min_tenure_days,min_p_alive,min_clv}'::text[]
       END;
COMMENT ON FUNCTION customer_tier.method_conditions(text) IS
    'the tier conditions a method (rules, rfm, abc) uses';
REVOKE ALL ON FUNCTION customer_tier.method_conditions(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.method_conditions(text) TO customer_tier_admin;  -- 90_roles.sql name list


-- customer_tier.check_tier_set(text, text, customer_tier.tier[]): sql/install/70_tiers.sql
CREATE OR REPLACE FUNCTION customer_tier.check_tier_set(program text, method text, tiers customer_tier.tier[])
RETURNS void
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n       integer := coalesce(cardinality(tiers), 0);
    allowed text[];
    t       customer_tier.tier;
    b       customer_tier.tier;
    cond    jsonb;
    key     text;
    i       integer;
    j       integer;
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'program "%" has no tiers', program
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Set them with customer_tier.set_tiers(%L, ...) or customer_tier.default_tiers(%L).',
                                program, program);
    END IF;
    allowed := customer_tier.method_conditions(method);
    FOR i IN 1 .. n LOOP
        t := tiers[i];
        cond := customer_tier.tier_conditions(t);
        FOR key IN SELECT k FROM jsonb_object_keys(cond) AS k ORDER BY k LOOP
            IF key <> ALL (allowed) THEN
                RAISE EXCEPTION 'tier "%" has condition %, which method % does not use', t.tier, key, method
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('Method %s accepts: %s.', method, array_to_string(allowed, ', ')),
                          HINT = format('Remove %s from tier "%s", or change the method of program "%s" with customer_tier.set_method().',
                                        key, t.tier, program);
            END IF;
        END LOOP;
        IF i < n AND cond = '{}' THEN
            RAISE EXCEPTION 'tier "%" has no condition, so the tiers after it can never be reached', t.tier
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('A tier without conditions takes every customer left; only the last tier may be one, and "%s" is tier %s of %s.',
                                      t.tier, i, n),
                      HINT = format('Give "%s" a condition, or move it last.', t.tier);
        END IF;
        IF i = n AND cond <> '{}' THEN
            RAISE EXCEPTION 'the last tier "%" must have no condition, but has %', t.tier,
                            customer_tier.tier_conditions_text(t)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The last tier is the catch-all: customers who meet no other tier''s conditions get it, so every customer has a tier.',
                      HINT = 'Add a last tier without conditions, such as {"tier": "normal"}.';
        END IF;
        -- ABC: the tiers before the catch-all are A, then B, then C.
        IF method = 'abc' AND i < n AND t.abc_class IS DISTINCT FROM chr(64 + i) THEN
            FOR j IN 1 .. i - 1 LOOP
                IF tiers[j].abc_class = t.abc_class THEN
                    RAISE EXCEPTION 'tiers "%" and "%" both have abc_class %', tiers[j].tier, t.tier, t.abc_class
                        USING ERRCODE = 'invalid_parameter_value',
                              DETAIL = 'Each ABC class may be the condition of one tier only.',
                              HINT = 'List the tiers of classes A, B and C in that order, then a catch-all.';
                END IF;
            END LOOP;
            RAISE EXCEPTION 'tier "%" has abc_class %, but tier % must have abc_class %', t.tier, t.abc_class, i, chr(64 + i)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Class A is better than B, and B better than C; a class left out would put its customers below a worse class.',
                      HINT = 'List the tiers of classes A, B and C in that order, then a catch-all.';
        END IF;
        FOR j IN 1 .. i - 1 LOOP
            b := tiers[j];
            IF customer_tier.tier_implies(t, b) THEN
                RAISE EXCEPTION 'tier "%" can never be reached: every customer who qualifies for it also qualifies for the better tier "%"',
                                t.tier, b.tier
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('"%s" needs %s; "%s" needs %s.', b.tier, customer_tier.tier_conditions_text(b),
                                          t.tier, customer_tier.tier_conditions_text(t)),
                          HINT = format('Make "%s" easier to reach than "%s" (lower thresholds), or give "%s" a condition that "%s" does not have.',
                                        t.tier, b.tier, b.tier, t.tier);
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- customer_tier.set_tiers(text, jsonb): sql/install/70_tiers.sql
CREATE OR REPLACE FUNCTION customer_tier.set_tiers(program text, tiers jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    accepted constant text[] := '{tier,min_value_score,min_monetary,min_orders,min_tenure_days,abc_class,min_p_alive,min_clv}';
    example  constant text := 'Pass the tiers best first, e.g. [{"tier": "gold", "min_value_score": 50}, {"tier": "normal"}].';
    prog     customer_tier.program;
    parsed   customer_tier.tier[] := '{}';
    names    text[] := '{}';
    t        customer_tier.tier;
    elem     jsonb;
    pos      bigint;
    key      text;
    val      jsonb;
    num      numeric;
    pinned   record;
BEGIN
    IF program IS NULL OR tiers IS NULL THEN
        RAISE EXCEPTION 'program and tiers must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = example;
    END IF;
    -- Locking the program serializes concurrent set_tiers() on it.
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name = set_tiers.program FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    IF jsonb_typeof(tiers) <> 'array' THEN
        RAISE EXCEPTION 'tiers must be a JSON array, not %', jsonb_typeof(tiers)
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    IF jsonb_array_length(tiers) = 0 THEN
        RAISE EXCEPTION 'tiers must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A program needs at least one tier, the catch-all.', HINT = example;
    END IF;

    FOR elem, pos IN SELECT e.value, e.ordinality FROM jsonb_array_elements(tiers) WITH ORDINALITY AS e ORDER BY e.ordinality LOOP
        IF jsonb_typeof(elem) <> 'object' THEN
            RAISE EXCEPTION 'element % of tiers must be a JSON object, not %', pos, jsonb_typeof(elem)
                USING ERRCODE = 'invalid_parameter_value', HINT = example;
        END IF;
        -- The name first, so that every later message can name the tier.
        val := elem -> 'tier';
        IF val IS NULL OR jsonb_typeof(val) = 'null' THEN
            RAISE EXCEPTION 'element % of tiers has no "tier" name', pos
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give every tier a name, e.g. {"tier": "gold", "min_value_score": 50}.';
        END IF;
        IF jsonb_typeof(val) <> 'string' THEN
            RAISE EXCEPTION 'the "tier" name of element % must be a JSON string, not %', pos, jsonb_typeof(val)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Write the name in double quotes, e.g. {"tier": "gold"}.';
        END IF;
        t := NULL;
        t.program := prog.name;
        t.tier := val #>> '{}';
        t.rank := pos;
        IF t.tier !~ '^[a-z][a-z0-9_]{0,39}$' THEN
            RAISE EXCEPTION 'invalid tier name "%"', t.tier
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A tier name starts with a lowercase letter and has at most 40 lowercase letters, digits and underscores.',
                      HINT = 'Choose a name such as "gold" or "key_account".';
        END IF;
        IF t.tier = ANY (names) THEN
            RAISE EXCEPTION 'tier "%" is listed twice', t.tier
                USING ERRCODE = 'duplicate_object',
                      DETAIL = format('Elements %s and %s of tiers are both named "%s".',
                                      array_position(names, t.tier), pos, t.tier),
                      HINT = 'Give each tier its own name.';
        END IF;
        SELECT k INTO key FROM jsonb_object_keys(elem) AS k WHERE k <> ALL (accepted) ORDER BY k LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'unknown key "%" in tier "%"', key, t.tier
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The accepted keys are: %s.', array_to_string(accepted, ', ')),
                      HINT = format('Method %s of program "%s" uses: %s.', prog.method, prog.name,
                                    array_to_string(customer_tier.method_conditions(prog.method), ', '));
        END IF;

        -- Conditions; a JSON null is the same as leaving the key out.
        FOR key, val IN SELECT c.key, c.value FROM jsonb_each(elem - 'tier') AS c ORDER BY c.key LOOP
            CONTINUE WHEN jsonb_typeof(val) = 'null';
            IF key = 'abc_class' THEN
                IF jsonb_typeof(val) <> 'string' OR val #>> '{}' NOT IN ('A', 'B', 'C') THEN
                    RAISE EXCEPTION 'abc_class of tier "%" must be "A", "B" or "C", not %', t.tier, val
                        USING ERRCODE = 'invalid_parameter_value',
                              HINT = 'Write the class as a JSON string, e.g. {"tier": "gold", "abc_class": "B"}.';
                END IF;
                t.abc_class := val #>> '{}';
                CONTINUE;
            END IF;
            IF jsonb_typeof(val) <> 'number' THEN
                RAISE EXCEPTION '% of tier "%" must be a JSON number, not %', key, t.tier, jsonb_typeof(val)
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = format('Write the threshold without quotes, e.g. {"tier": "%s", "%s": 50}.', t.tier, key);
            END IF;
            num := val::numeric;
            IF key = 'min_value_score' AND NOT num BETWEEN 0 AND 100 THEN
                RAISE EXCEPTION 'min_value_score of tier "%" must be between 0 and 100, not %', t.tier, num
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'The value score is on a scale of 0 to 100.';
            END IF;
            IF key = 'min_p_alive' AND NOT num BETWEEN 0 AND 1 THEN
                RAISE EXCEPTION 'min_p_alive of tier "%" must be between 0 and 1, not %', t.tier, num
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'p_alive is a probability.';
            END IF;
            IF num < 0 THEN
                RAISE EXCEPTION '% of tier "%" must be at least 0, not %', key, t.tier, num
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'A threshold is a lower bound; leave the key out for no condition.';
            END IF;
            IF num >= 1e300 THEN
                RAISE EXCEPTION '% of tier "%" must be below 1e300', key, t.tier
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'Thresholds are compiled to double precision.';
            END IF;
            CASE key
            WHEN 'min_value_score' THEN
                t.min_value_score := num;
            WHEN 'min_monetary' THEN
                IF num::double precision::numeric <> num THEN
                    RAISE EXCEPTION 'min_monetary of tier "%" must have at most 15 significant digits, not %', t.tier, num
                        USING ERRCODE = 'numeric_value_out_of_range',
                              DETAIL = 'Thresholds are compiled to double precision, which holds 15 significant digits exactly.',
                              HINT = 'Round the threshold, e.g. to whole units of currency.';
                END IF;
                t.min_monetary := num;
            WHEN 'min_orders' THEN
                IF num <> trunc(num) THEN
                    RAISE EXCEPTION 'min_orders of tier "%" must be a whole number, not %', t.tier, num
                        USING ERRCODE = 'invalid_parameter_value',
                              HINT = 'Count orders in whole numbers, e.g. {"min_orders": 3}.';
                END IF;
                IF num > 9007199254740992 THEN
                    RAISE EXCEPTION 'min_orders of tier "%" must be at most 9007199254740992, not %', t.tier, num
                        USING ERRCODE = 'numeric_value_out_of_range',
                              HINT = 'Larger thresholds are not exact in the compiled rules, and no customer reaches them.';
                END IF;
                t.min_orders := num;
            WHEN 'min_tenure_days' THEN
                t.min_tenure_days := num;
            WHEN 'min_p_alive' THEN
                t.min_p_alive := num;
            WHEN 'min_clv' THEN
                t.min_clv := num;
            END CASE;
        END LOOP;
        parsed := parsed || t;
        names := names || t.tier;
    END LOOP;

    PERFORM customer_tier.check_tier_set(prog.name, prog.method, parsed);

    SELECT p.tier, count(*) AS customers INTO pinned
      FROM customer_tier.pin AS p
     WHERE p.program = prog.name AND p.tier <> ALL (names)
     GROUP BY p.tier ORDER BY p.tier LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tier "%" of program "%" cannot be removed while customers are pinned to it',
                        pinned.tier, prog.name
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('%s pinned to "%s", which the new tiers do not include.',
                                  CASE pinned.customers WHEN 1 THEN '1 customer is'
                                       ELSE pinned.customers || ' customers are' END, pinned.tier),
                  HINT = format('Keep a tier named "%s", or first move or remove the pins (customer_tier.pin_customer(), customer_tier.unpin_customer()).',
                                pinned.tier);
    END IF;

    DELETE FROM customer_tier.tier AS x WHERE x.program = prog.name AND x.tier <> ALL (names);
    INSERT INTO customer_tier.tier AS x
           (program, tier, rank, min_value_score, min_monetary, min_orders, min_tenure_days, abc_class,
            min_p_alive, min_clv)
    SELECT n.program, n.tier, n.rank, n.min_value_score, n.min_monetary, n.min_orders, n.min_tenure_days, n.abc_class,
           n.min_p_alive, n.min_clv
      FROM unnest(parsed) AS n
    ON CONFLICT ON CONSTRAINT tier_pkey DO UPDATE
       SET rank = excluded.rank, min_value_score = excluded.min_value_score,
           min_monetary = excluded.min_monetary, min_orders = excluded.min_orders,
           min_tenure_days = excluded.min_tenure_days, abc_class = excluded.abc_class,
           min_p_alive = excluded.min_p_alive, min_clv = excluded.min_clv;
    RETURN cardinality(parsed);
END
$$;

-- ==== churn: changed comments (the new bodies of reclassify and create_program_views are above) ====
COMMENT ON PROCEDURE customer_tier.reclassify(text, integer) IS
    'recompute breakpoints and ABC classes, fit the program''s BG/NBD and Gamma-Gamma models, then rescore every customer in committed batches; logged in customer_tier.run';
COMMENT ON FUNCTION customer_tier.create_program_views(customer_tier.program) IS
    'create the BI views of a program''s schema: segments, churn_risk, tier_changes, tier_summary, and the function migration(from_date, to_date)';

-- ==== churn: grants (sql/install/90_roles.sql) ====
-- churn thresholds (set_churn_rules) and the models each run fits
GRANT SELECT ON customer_tier.churn_settings, customer_tier.program_model TO customer_tier_reader;
GRANT INSERT, UPDATE, DELETE ON customer_tier.churn_settings, customer_tier.program_model TO customer_tier_admin;
GRANT EXECUTE ON FUNCTION customer_tier.set_churn_rules(text, jsonb) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.fit_program_model(text, bigint) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.churn_settings_array(customer_tier.churn_settings) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.churn_assess(double precision[], customer_tier.bgnbd_model, customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text, timestamp with time zone, timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.btyd_summary(customer_tier.order_stats_state, numeric, timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== speed: new functions ====
-- customer_tier.order_stats_state_same(customer_tier.order_stats_state, customer_tier.order_stats_state): sql/install/63_program_verify.sql
CREATE FUNCTION customer_tier.order_stats_state_same(customer_tier.order_stats_state,
                                                     customer_tier.order_stats_state)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'order_stats_state_same'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_same(customer_tier.order_stats_state,
                                                         customer_tier.order_stats_state) IS
    'whether two states hold the same order times (as a multiset) and the same exact total; NULL (no orders) equals only NULL';

-- customer_tier.score_customer(timestamp with time zone, bigint, numeric, timestamp with time zone, double precision[], double precision[], double precision[], double precision[], double precision[], integer, timestamp with time zone, text, integer, interval, timestamp with time zone, double precision[], double precision, double precision): sql/install/64_program_scoring.sql
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


-- ==== speed, follow-ups: changed bodies ====
-- customer_tier.announce_tier_change(text, jsonb, text, text, text, text): sql/install/62_program_objects.sql
CREATE OR REPLACE FUNCTION customer_tier.announce_tier_change(program text, customer jsonb, from_tier text,
                                                   to_tier text, reason text, source text)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
    SELECT pg_catalog.pg_notify('customer_tier', pg_catalog.json_build_object(
        'program', program, 'customer', customer, 'from', from_tier, 'to', to_tier,
        'reason', reason, 'source', source, 'at', pg_catalog.now())::text);
END;

-- customer_tier.program_row_counts_sql(customer_tier.program, text): sql/install/62_program_objects.sql
CREATE OR REPLACE FUNCTION customer_tier.program_row_counts_sql(prog customer_tier.program, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN array_to_string((customer_tier.program_row_checks(prog, alias)).conditions, ' AND ')
        || CASE WHEN prog.status_column IS NULL THEN ''
                ELSE format(' AND %I.%I::text OPERATOR(pg_catalog.=) ANY (%L::text[])',
                            alias, prog.status_column, prog.counted_statuses) END;
END
$$;

-- customer_tier.drop_program_objects(customer_tier.program): sql/install/62_program_objects.sql
CREATE OR REPLACE FUNCTION customer_tier.drop_program_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    op text;
BEGIN
    PERFORM customer_tier.drop_followup_objects(prog);
    FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s',
                       customer_tier.program_trigger_name(prog.name, op), prog.orders_table);
    END LOOP;
    PERFORM customer_tier.drop_program_views(prog);
    -- RESTRICT: a user's own object that depends on these must make this fail.
    EXECUTE format('DROP FUNCTION IF EXISTS %I.maintain_customers() RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.rejects RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.customers RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.tier_history RESTRICT', prog.data_schema);
    EXECUTE format('DROP FUNCTION IF EXISTS %I.record_tier_change() RESTRICT', prog.data_schema);
END
$$;


-- ==== new part sql/install/80_feedback.sql, verbatim ====
-- customer_tier install script, part 80: satisfaction rollups from a feedback
-- table of the CRM's own (docs/feedback.md).
--
-- Every program has, from its creation, three tables for this (created by
-- create_feedback_tables): answers (the usable answers of the attached
-- feedback table, copied by its triggers), satisfaction (one row per customer
-- with answers: latest answer, rolling NPS and CSAT) and feedback_rejects.
-- attach_feedback fills them and installs the triggers that keep them
-- current; detach_feedback empties them and removes the triggers.  The
-- tables exist whether or not a feedback table is attached, so the views and
-- functions over them (satisfaction_by_tier, kpis) do not depend on it.

-- One row per program whose feedback table is attached.
CREATE TABLE customer_tier.feedback_source (
    program             text PRIMARY KEY REFERENCES customer_tier.program (name)
                        ON DELETE CASCADE ON UPDATE CASCADE,
    feedback_table      regclass NOT NULL,
    customer_column     name NOT NULL,
    score_column        name NOT NULL,
    score_type          regtype NOT NULL
                        CONSTRAINT feedback_source_score_type CHECK (score_type IN
                            ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype)),
    kind_column         name NOT NULL,
    answered_at_column  name NOT NULL,
    satisfaction_window interval NOT NULL DEFAULT '365 days'
                        CONSTRAINT feedback_source_window CHECK (satisfaction_window > '0'),
    attached_at         timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE customer_tier.feedback_source IS
    'one row per program with an attached feedback table: which table and how its columns are read';
COMMENT ON COLUMN customer_tier.feedback_source.program IS 'the program';
COMMENT ON COLUMN customer_tier.feedback_source.feedback_table IS 'the CRM''s own feedback (survey answers) table (never altered)';
COMMENT ON COLUMN customer_tier.feedback_source.customer_column IS 'column holding the customer key, of the program''s key type';
COMMENT ON COLUMN customer_tier.feedback_source.score_column IS 'column holding the score: NPS 0..10 or CSAT 1..5';
COMMENT ON COLUMN customer_tier.feedback_source.score_type IS 'type of the score column';
COMMENT ON COLUMN customer_tier.feedback_source.kind_column IS 'column holding the kind of answer: nps or csat';
COMMENT ON COLUMN customer_tier.feedback_source.answered_at_column IS 'column holding when the answer was given';
COMMENT ON COLUMN customer_tier.feedback_source.satisfaction_window IS 'length of the rolling window of the per-customer NPS, CSAT and recent score';
COMMENT ON COLUMN customer_tier.feedback_source.attached_at IS 'when the feedback table was attached';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.feedback_source', '');

-- Create a program's answers, satisfaction and feedback_rejects tables
-- (called by create_followup_objects when the program is created).
CREATE FUNCTION customer_tier.create_feedback_tables(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.answers (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer    %2$s NOT NULL,
            kind        text NOT NULL CONSTRAINT answers_kind CHECK (kind IN ('nps', 'csat')),
            score       integer NOT NULL
                        CONSTRAINT answers_score CHECK (CASE kind WHEN 'nps' THEN score BETWEEN 0 AND 10
                                                                  ELSE score BETWEEN 1 AND 5 END),
            answered_at timestamptz NOT NULL
        );
        CREATE INDEX ON %1$I.answers (customer, answered_at);
        CREATE INDEX ON %1$I.answers (answered_at);
        COMMENT ON TABLE %1$I.answers IS %3$L;
        COMMENT ON COLUMN %1$I.answers.id IS 'answer number, in the order answers were copied';
        COMMENT ON COLUMN %1$I.answers.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.answers.kind IS 'nps (score 0..10) or csat (score 1..5)';
        COMMENT ON COLUMN %1$I.answers.score IS 'the answer: 0..10 for nps, 1..5 for csat';
        COMMENT ON COLUMN %1$I.answers.answered_at IS 'when the answer was given';
    $sql$, s, prog.customer_type,
        format('program %s: the usable answers of the attached feedback table, copied by its triggers; empty while none is attached',
               prog.name));

    EXECUTE format($sql$
        CREATE TABLE %1$I.satisfaction (
            customer            %2$s PRIMARY KEY,
            answers             bigint NOT NULL DEFAULT 0,
            last_answered_at    timestamptz,
            last_kind           text,
            last_score          integer,
            last_nps            integer,
            last_nps_at         timestamptz,
            last_csat           integer,
            last_csat_at        timestamptz,
            window_start        timestamptz,
            window_nps          double precision,
            window_nps_answers  bigint NOT NULL DEFAULT 0,
            window_csat         double precision,
            window_csat_answers bigint NOT NULL DEFAULT 0,
            recent_score        double precision,
            computed_at         timestamptz NOT NULL DEFAULT pg_catalog.now()
        );
        COMMENT ON TABLE %1$I.satisfaction IS %3$L;
        COMMENT ON COLUMN %1$I.satisfaction.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.satisfaction.answers IS 'usable answers of the customer, all time';
        COMMENT ON COLUMN %1$I.satisfaction.last_answered_at IS 'when the latest answer was given';
        COMMENT ON COLUMN %1$I.satisfaction.last_kind IS 'kind of the latest answer: nps or csat';
        COMMENT ON COLUMN %1$I.satisfaction.last_score IS 'score of the latest answer';
        COMMENT ON COLUMN %1$I.satisfaction.last_nps IS 'the latest NPS answer (0..10); NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.last_nps_at IS 'when the latest NPS answer was given';
        COMMENT ON COLUMN %1$I.satisfaction.last_csat IS 'the latest CSAT answer (1..5); NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.last_csat_at IS 'when the latest CSAT answer was given';
        COMMENT ON COLUMN %1$I.satisfaction.window_start IS 'the rolling window holds the answers given after this: computed_at minus the satisfaction window';
        COMMENT ON COLUMN %1$I.satisfaction.window_nps IS 'NPS (-100..100) of the customer''s NPS answers in the window; NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.window_nps_answers IS 'NPS answers in the window';
        COMMENT ON COLUMN %1$I.satisfaction.window_csat IS 'CSAT (0..100, %% of answers 4 or 5) of the customer''s CSAT answers in the window; NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.window_csat_answers IS 'CSAT answers in the window';
        COMMENT ON COLUMN %1$I.satisfaction.recent_score IS 'mean of the answers in the window on one 0..100 scale (NPS score x 10, CSAT (score - 1) x 25); NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.computed_at IS 'when the row was computed: the window figures are as of this time';
    $sql$, s, prog.customer_type,
        format('program %s: one row per customer with usable answers: latest answer and rolling NPS, CSAT and recent score; kept current by the feedback triggers, windows refreshed by refresh_satisfaction',
               prog.name));

    EXECUTE format($sql$
        CREATE TABLE %1$I.feedback_rejects (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            rejected_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            operation   text NOT NULL,
            reason      text NOT NULL,
            row_image   jsonb NOT NULL
        );
        COMMENT ON TABLE %1$I.feedback_rejects IS 'feedback rows the program could not use, with the reason; the feedback table keeps them unchanged';
        COMMENT ON COLUMN %1$I.feedback_rejects.id IS 'reject number, in the order rejects were recorded';
        COMMENT ON COLUMN %1$I.feedback_rejects.rejected_at IS 'when the row was rejected';
        COMMENT ON COLUMN %1$I.feedback_rejects.operation IS 'INSERT, UPDATE or BACKFILL';
        COMMENT ON COLUMN %1$I.feedback_rejects.reason IS 'why the row cannot be used';
        COMMENT ON COLUMN %1$I.feedback_rejects.row_image IS 'the whole row as written to the feedback table'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_feedback_tables(customer_tier.program) IS
    'create a program''s answers, satisfaction and feedback_rejects tables';

-- SQL text of why a feedback row cannot be used (NULL when it can); alias
-- names the row the expression reads.
CREATE FUNCTION customer_tier.feedback_row_problem_sql(src customer_tier.feedback_source, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c text := format('%I.%I', alias, src.customer_column);
    t text := format('%I.%I', alias, src.answered_at_column);
    k text := format('%I.%I::text', alias, src.kind_column);
    v text := format('%I.%I', alias, src.score_column);
BEGIN
    RETURN format($sql$CASE WHEN %1$s IS NULL THEN 'customer key is null'
             WHEN %2$s IS NULL THEN 'answer time is null'
             WHEN NOT pg_catalog.isfinite(%2$s) THEN 'answer time is not finite'
             WHEN %3$s IS NULL THEN 'kind is null'
             WHEN NOT %3$s OPERATOR(pg_catalog.=) ANY ('{nps,csat}'::text[])
                  THEN pg_catalog.format('unknown kind "%%s" (nps or csat)', pg_catalog."left"(%3$s, 40))
             WHEN %4$s IS NULL THEN 'score is null'%5$s
             WHEN %3$s OPERATOR(pg_catalog.=) 'nps'
                  AND NOT (%4$s OPERATOR(pg_catalog.>=) 0 AND %4$s OPERATOR(pg_catalog.<=) 10)
                  THEN pg_catalog.format('NPS score %%s is outside 0..10', %4$s)
             WHEN %3$s OPERATOR(pg_catalog.=) 'csat'
                  AND NOT (%4$s OPERATOR(pg_catalog.>=) 1 AND %4$s OPERATOR(pg_catalog.<=) 5)
                  THEN pg_catalog.format('CSAT score %%s is outside 1..5', %4$s) END$sql$,
                  c, t, k, v,
                  CASE WHEN src.score_type OPERATOR(pg_catalog.=) 'numeric'::regtype THEN format($sql$
             WHEN %1$s OPERATOR(pg_catalog.<>) pg_catalog.trunc(%1$s)
                  THEN pg_catalog.format('score %%s is not a whole number', %1$s)$sql$, v)
                  ELSE '' END);
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_row_problem_sql(customer_tier.feedback_source, text) IS
    'SQL text of the reason a feedback row cannot be used by a program, NULL when it can';

-- SQL text of the usable rows of relation rel (a transition table or the
-- feedback table) as (customer, kind, score, answered_at).
CREATE FUNCTION customer_tier.feedback_usable_sql(src customer_tier.feedback_source, rel text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the casts are evaluated only for the rows that pass the filter
    RETURN format($sql$SELECT o.%1$I AS customer, o.%2$I::text AS kind, o.%3$I::integer AS score,
                   o.%4$I::timestamptz AS answered_at
              FROM %5$s AS o
             WHERE (%6$s) IS NULL$sql$,
        src.customer_column, src.kind_column, src.score_column, src.answered_at_column, rel,
        customer_tier.feedback_row_problem_sql(src, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_usable_sql(customer_tier.feedback_source, text) IS
    'SQL text of the usable rows of a feedback relation as (customer, kind, score, answered_at)';

-- SQL text of the statement that records the unusable rows of rel in the
-- program's feedback_rejects; operation is a SQL expression.
CREATE FUNCTION customer_tier.feedback_rejects_sql(prog customer_tier.program, src customer_tier.feedback_source,
                                                   rel text, operation text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
        INSERT INTO %1$I.feedback_rejects (operation, reason, row_image)
        SELECT %2$s, p.reason, pg_catalog.to_jsonb(o)
          FROM %3$s AS o, LATERAL (SELECT %4$s AS reason) AS p
         WHERE p.reason IS NOT NULL$sql$,
        prog.data_schema, operation, rel, customer_tier.feedback_row_problem_sql(src, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text) IS
    'SQL text that records the feedback rows a program cannot use in its feedback_rejects table';

-- SQL text of the upsert that recomputes the satisfaction rows of the
-- customers of answers a that satisfy filter (a SQL condition on a), from
-- answers: exact for whatever answers hold, the window as of now().
CREATE FUNCTION customer_tier.satisfaction_rollup_sql(prog customer_tier.program, filter text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
        INSERT INTO %1$I.satisfaction AS s
               (customer, answers, last_answered_at, last_kind, last_score, last_nps, last_nps_at,
                last_csat, last_csat_at, window_start, window_nps, window_nps_answers, window_csat,
                window_csat_answers, recent_score, computed_at)
        SELECT a.customer, pg_catalog.count(*), pg_catalog.max(a.answered_at),
               (pg_catalog.array_agg(a.kind ORDER BY a.answered_at DESC, a.id DESC))[1],
               (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC))[1],
               (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                    FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'))[1],
               pg_catalog.max(a.answered_at) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'),
               (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                    FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'))[1],
               pg_catalog.max(a.answered_at) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'),
               w.start,
               customer_tier.nps(a.score) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'
                                                   AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               pg_catalog.count(*) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'
                                             AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               customer_tier.csat(a.score) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'
                                                    AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               pg_catalog.count(*) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'
                                             AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               pg_catalog.avg(CASE WHEN a.kind OPERATOR(pg_catalog.=) 'nps'
                                   THEN a.score OPERATOR(pg_catalog.*) 10.0
                                   ELSE (a.score OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.*) 25.0 END)
                   FILTER (WHERE a.answered_at OPERATOR(pg_catalog.>) w.start)::double precision,
               pg_catalog.now()
          FROM %1$I.answers AS a,
               (SELECT pg_catalog.now() OPERATOR(pg_catalog.-) coalesce(
                           (SELECT f.satisfaction_window FROM customer_tier.feedback_source AS f
                             WHERE f.program OPERATOR(pg_catalog.=) %2$L), '365 days') AS start) AS w
         WHERE %3$s
         GROUP BY a.customer, w.start
         ORDER BY a.customer
        ON CONFLICT (customer) DO UPDATE
           SET (answers, last_answered_at, last_kind, last_score, last_nps, last_nps_at, last_csat,
                last_csat_at, window_start, window_nps, window_nps_answers, window_csat,
                window_csat_answers, recent_score, computed_at) =
               (excluded.answers, excluded.last_answered_at, excluded.last_kind, excluded.last_score,
                excluded.last_nps, excluded.last_nps_at, excluded.last_csat, excluded.last_csat_at,
                excluded.window_start, excluded.window_nps, excluded.window_nps_answers,
                excluded.window_csat, excluded.window_csat_answers, excluded.recent_score,
                excluded.computed_at)$sql$,
        prog.data_schema, prog.name, filter);
END
$$;
COMMENT ON FUNCTION customer_tier.satisfaction_rollup_sql(customer_tier.program, text) IS
    'SQL text of the upsert that recomputes customers'' satisfaction rows from the program''s answers';

-- SQL text of the trigger statements for one operation: record rejects (or
-- refuse the write), lock the touched customers' satisfaction rows in key
-- order, take the removed answers out and put the added ones in, recompute.
-- Locking first makes concurrent statements on the same customers run their
-- recomputation one after the other, each seeing what the other committed.
CREATE FUNCTION customer_tier.feedback_apply_block_sql(prog customer_tier.program, src customer_tier.feedback_source,
                                                       added text, removed text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := '{}';
    sides text[] := '{}';
BEGIN
    IF added IS NOT NULL THEN
        parts := parts || format($sql$
            %1$s;
            GET DIAGNOSTICS rejected = ROW_COUNT;
            IF rejected OPERATOR(pg_catalog.>) 0 AND (SELECT p.reject_mode FROM customer_tier.program AS p
                 WHERE p.name OPERATOR(pg_catalog.=) %2$L) OPERATOR(pg_catalog.=) 'error' THEN
                RAISE EXCEPTION 'program %%: %% feedback row(s) cannot be used', %2$L, rejected
                    USING ERRCODE = 'null_value_not_allowed',
                          DETAIL = (SELECT pg_catalog.format('The last one: %%s.', r.reason)
                                      FROM %3$I.feedback_rejects AS r ORDER BY r.id DESC LIMIT 1),
                          HINT = 'Correct the rows, or set the program''s reject_mode to skip to keep such rows in its feedback_rejects table.';
            END IF;$sql$,
            customer_tier.feedback_rejects_sql(prog, src, added, 'TG_OP'), prog.name, prog.data_schema);
        sides := sides || customer_tier.feedback_usable_sql(src, added);
    END IF;
    IF removed IS NOT NULL THEN
        sides := sides || customer_tier.feedback_usable_sql(src, removed);
    END IF;
    parts := parts || format($sql$
            touched := ARRAY(SELECT DISTINCT u.customer FROM (%2$s) AS u ORDER BY 1);
            IF pg_catalog.cardinality(touched) OPERATOR(pg_catalog.=) 0 THEN
                RETURN NULL;
            END IF;
            INSERT INTO %1$I.satisfaction AS s (customer)
            SELECT t.customer FROM pg_catalog.unnest(touched) AS t (customer) ORDER BY 1
            ON CONFLICT (customer) DO UPDATE SET computed_at = excluded.computed_at;$sql$,
        prog.data_schema, array_to_string(sides, ' UNION ALL '));
    IF removed IS NOT NULL THEN
        -- Identical answers cannot be told apart: removing any n of the
        -- copies of a row that was removed n times is exact.
        parts := parts || format($sql$
            WITH gone AS (
                SELECT u.customer, u.kind, u.score, u.answered_at, pg_catalog.count(*) AS n
                  FROM (%2$s) AS u
                 GROUP BY u.customer, u.kind, u.score, u.answered_at
            ), ranked AS (
                SELECT a.id, a.customer, a.kind, a.score, a.answered_at,
                       pg_catalog.row_number() OVER (PARTITION BY a.customer, a.kind, a.score, a.answered_at
                                                     ORDER BY a.id) AS rn
                  FROM %1$I.answers AS a
                 WHERE a.customer OPERATOR(pg_catalog.=) ANY (touched)
            ), deleted AS (
                DELETE FROM %1$I.answers AS a
                 USING ranked AS r, gone AS g
                 WHERE a.id OPERATOR(pg_catalog.=) r.id
                   AND r.customer OPERATOR(pg_catalog.=) g.customer AND r.kind OPERATOR(pg_catalog.=) g.kind
                   AND r.score OPERATOR(pg_catalog.=) g.score AND r.answered_at OPERATOR(pg_catalog.=) g.answered_at
                   AND r.rn OPERATOR(pg_catalog.<=) g.n
                RETURNING 1
            )
            SELECT (SELECT pg_catalog.count(*) FROM deleted), (SELECT pg_catalog.sum(g.n) FROM gone AS g)
              INTO removed_answers, removed_rows;
            IF removed_answers OPERATOR(pg_catalog.<>) removed_rows THEN
                RAISE EXCEPTION 'program %%: feedback rows removed that its answers do not hold', %3$L
                    USING ERRCODE = 'data_corrupted',
                          HINT = 'The copied answers no longer match the feedback table; detach and attach it again.';
            END IF;$sql$,
            prog.data_schema, customer_tier.feedback_usable_sql(src, removed), prog.name);
    END IF;
    IF added IS NOT NULL THEN
        parts := parts || format($sql$
            INSERT INTO %1$I.answers (customer, kind, score, answered_at)
            SELECT u.customer, u.kind, u.score, u.answered_at FROM (%2$s) AS u;$sql$,
            prog.data_schema, customer_tier.feedback_usable_sql(src, added));
    END IF;
    parts := parts || format('
            %s;', customer_tier.satisfaction_rollup_sql(prog, 'a.customer OPERATOR(pg_catalog.=) ANY (touched)'));
    -- only a removal can leave a customer without answers
    IF removed IS NOT NULL THEN
        parts := parts || format($sql$
            DELETE FROM %1$I.satisfaction AS s
             WHERE s.customer OPERATOR(pg_catalog.=) ANY (touched)
               AND NOT EXISTS (SELECT FROM %1$I.answers AS a WHERE a.customer OPERATOR(pg_catalog.=) s.customer);$sql$,
            prog.data_schema);
    END IF;
    parts := parts || format($sql$
            PERFORM customer_tier.feed_recent_satisfaction(%1$L,
                       pg_catalog.format('c.customer OPERATOR(pg_catalog.=) ANY (%%L::%2$s[])', touched),
                       'trigger ' OPERATOR(pg_catalog.||) TG_OP OPERATOR(pg_catalog.||) ' feedback');$sql$,
        prog.name, prog.customer_type);
    RETURN array_to_string(parts, '');
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_apply_block_sql(customer_tier.program, customer_tier.feedback_source, text, text) IS
    'SQL text of the trigger statements that apply feedback rows to a program''s answers and satisfaction';

-- The name of one of a program's triggers on its feedback table.
CREATE FUNCTION customer_tier.feedback_trigger_name(program text, operation text)
RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.format('customer_tier_%s_feedback_%s', program, operation)::name;
COMMENT ON FUNCTION customer_tier.feedback_trigger_name(text, text) IS
    'name of the trigger a program puts on its feedback table for one operation';

-- Attach a feedback table to a program: validate everything first, then
-- install the triggers and backfill.  Returns the customers with answers.
CREATE FUNCTION customer_tier.attach_feedback(
    program             text,
    feedback_table      regclass,
    customer_column     name,
    score_column        name,
    kind_column         name,
    answered_at_column  name,
    satisfaction_window interval DEFAULT '365 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
    typ regtype;
    rejected bigint;
    last_reason text;
    customers bigint;
BEGIN
    IF program IS NULL OR feedback_table IS NULL THEN
        RAISE EXCEPTION 'program and feedback table must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the program''s name and the table that holds the survey answers.';
    END IF;
    prog := customer_tier.program_row(program);
    IF EXISTS (SELECT FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name) THEN
        RAISE EXCEPTION 'program "%" already has a feedback table attached', prog.name
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('Its feedback table is %s.',
                                  (SELECT f.feedback_table FROM customer_tier.feedback_source AS f
                                    WHERE f.program OPERATOR(pg_catalog.=) prog.name)),
                  HINT = 'Detach it first with customer_tier.detach_feedback().';
    END IF;
    IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) feedback_table) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', feedback_table
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'Feedback is read through triggers on an ordinary or partitioned table.',
                  HINT = 'Name the table that holds the survey answers.';
    END IF;

    src.program := prog.name;
    src.feedback_table := feedback_table;
    src.customer_column := customer_column;
    typ := customer_tier.column_type(feedback_table, customer_column, 'customer key');
    IF typ OPERATOR(pg_catalog.<>) prog.customer_type THEN
        RAISE EXCEPTION 'column "%" of table % has type %, not the program''s customer key type %',
                        customer_column, feedback_table, typ, prog.customer_type
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('Program "%s" keys its customers by %s.%I (%s).',
                                  prog.name, prog.orders_table, prog.customer_column, prog.customer_type),
                  HINT = 'Name a column of the same type as the orders table''s customer key.';
    END IF;
    src.score_column := score_column;
    src.score_type := customer_tier.column_type(feedback_table, score_column, 'score');
    PERFORM customer_tier.check_column_type(feedback_table, score_column, 'score', src.score_type,
        '{smallint,integer,bigint,numeric}');
    src.kind_column := kind_column;
    typ := customer_tier.column_type(feedback_table, kind_column, 'kind of answer');
    PERFORM customer_tier.check_column_type(feedback_table, kind_column, 'kind of answer', typ,
        '{text,character varying,character}');
    src.answered_at_column := answered_at_column;
    typ := customer_tier.column_type(feedback_table, answered_at_column, 'answer time');
    PERFORM customer_tier.check_column_type(feedback_table, answered_at_column, 'answer time', typ,
        '{timestamp with time zone,timestamp without time zone,date}');
    IF satisfaction_window IS NULL OR satisfaction_window OPERATOR(pg_catalog.<=) '0' THEN
        RAISE EXCEPTION 'satisfaction window must be a positive interval, not %', coalesce(satisfaction_window::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use for example ''365 days'' (the default) or ''6 months''.';
    END IF;
    src.satisfaction_window := satisfaction_window;
    src.attached_at := pg_catalog.now();

    INSERT INTO customer_tier.feedback_source VALUES (src.*);

    -- As the orders trigger: runs as its owner, so that a role that may
    -- write the feedback table needs no grant on the program's tables.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.maintain_feedback() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $body$
        DECLARE
            rejected bigint;
            removed_answers bigint;
            removed_rows numeric;
            touched %2$s[];
        BEGIN
            IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
                %3$s
            ELSIF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
                %4$s
            ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
                %5$s
            ELSE
                TRUNCATE %1$I.answers, %1$I.satisfaction;
                PERFORM customer_tier.feed_recent_satisfaction(%6$L, 'true', 'trigger TRUNCATE feedback');
            END IF;
            RETURN NULL;
        END
        $body$ $fn$,
        prog.data_schema, prog.customer_type,
        customer_tier.feedback_apply_block_sql(prog, src, 'new_rows', NULL),
        customer_tier.feedback_apply_block_sql(prog, src, 'new_rows', 'old_rows'),
        customer_tier.feedback_apply_block_sql(prog, src, NULL, 'old_rows'), prog.name);
    EXECUTE format('COMMENT ON FUNCTION %I.maintain_feedback() IS %L', prog.data_schema,
                   format('program %s: keeps its answers and satisfaction current from changes to %s',
                          prog.name, feedback_table));
    EXECUTE format('REVOKE ALL ON FUNCTION %I.maintain_feedback() FROM PUBLIC', prog.data_schema);

    -- No write may slip between the backfill and the triggers.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', feedback_table);
    EXECUTE format($sql$
        CREATE TRIGGER %1$I AFTER INSERT ON %3$s REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_feedback();
        CREATE TRIGGER %4$I AFTER UPDATE ON %3$s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_feedback();
        CREATE TRIGGER %5$I AFTER DELETE ON %3$s REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_feedback();
        CREATE TRIGGER %6$I AFTER TRUNCATE ON %3$s
            FOR EACH STATEMENT EXECUTE FUNCTION %2$I.maintain_feedback()$sql$,
        customer_tier.feedback_trigger_name(prog.name, 'insert'), prog.data_schema, feedback_table,
        customer_tier.feedback_trigger_name(prog.name, 'update'),
        customer_tier.feedback_trigger_name(prog.name, 'delete'),
        customer_tier.feedback_trigger_name(prog.name, 'truncate'));

    -- The backfill follows the program's reject rule too.
    EXECUTE customer_tier.feedback_rejects_sql(prog, src, feedback_table::text, '''BACKFILL''');
    GET DIAGNOSTICS rejected = ROW_COUNT;
    IF rejected OPERATOR(pg_catalog.>) 0 AND prog.reject_mode OPERATOR(pg_catalog.=) 'error' THEN
        EXECUTE format('SELECT r.reason FROM %I.feedback_rejects AS r ORDER BY r.id DESC LIMIT 1', prog.data_schema)
           INTO last_reason;
        RAISE EXCEPTION 'program %: % feedback row(s) cannot be used', prog.name, rejected
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('The last one: %s.', last_reason),
                  HINT = 'Correct the rows, or set the program''s reject_mode to skip to keep such rows in its feedback_rejects table.';
    END IF;
    EXECUTE format($sql$
        INSERT INTO %1$I.answers (customer, kind, score, answered_at)
        SELECT u.customer, u.kind, u.score, u.answered_at FROM (%2$s) AS u ORDER BY u.answered_at$sql$,
        prog.data_schema, customer_tier.feedback_usable_sql(src, feedback_table::text));
    EXECUTE customer_tier.satisfaction_rollup_sql(prog, 'true');
    PERFORM customer_tier.feed_recent_satisfaction(prog.name, 'true', 'attach_feedback');
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.satisfaction', prog.data_schema) INTO customers;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.attach_feedback(text, regclass, name, name, name, name, interval) IS
    'attach a feedback table (NPS 0..10 and CSAT 1..5 answers) to a program: validate its columns, install triggers, backfill; returns the customers with answers';

-- A program's attached feedback table, or undefined_object (42704) naming
-- the program: the one place that says a program has none.
CREATE FUNCTION customer_tier.feedback_source_row(prog customer_tier.program)
RETURNS customer_tier.feedback_source
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src customer_tier.feedback_source;
BEGIN
    SELECT * INTO src FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" has no feedback table attached', prog.name
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT * FROM customer_tier.feedback_source lists the attached feedback tables.';
    END IF;
    RETURN src;
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_source_row(customer_tier.program) IS
    'a program''s attached feedback table, or undefined_object (42704) when it has none';
REVOKE ALL ON FUNCTION customer_tier.feedback_source_row(customer_tier.program) FROM PUBLIC;

-- Drop what attaching installed on the feedback table: its four triggers and
-- their function.  detach_feedback then empties the program's feedback
-- tables; drop_program drops them (no rescoring of customers about to go).
CREATE FUNCTION customer_tier.drop_feedback_triggers(prog customer_tier.program, src customer_tier.feedback_source)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    op text;
BEGIN
    -- a feedback table dropped since took its triggers with it
    IF EXISTS (SELECT FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) src.feedback_table) THEN
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s',
                           customer_tier.feedback_trigger_name(prog.name, op), src.feedback_table);
        END LOOP;
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS %I.maintain_feedback() RESTRICT', prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) IS
    'drop the triggers and trigger function that attaching a feedback table installed';
REVOKE ALL ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) FROM PUBLIC;

-- Detach a program's feedback table: remove what attach_feedback made (the
-- triggers, their function, the copied answers, the rollups and the rejects).
CREATE FUNCTION customer_tier.detach_feedback(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    src := customer_tier.feedback_source_row(prog);
    PERFORM customer_tier.drop_feedback_triggers(prog, src);
    EXECUTE format('DELETE FROM %I.answers', prog.data_schema);
    EXECUTE format('DELETE FROM %I.satisfaction', prog.data_schema);
    EXECUTE format('DELETE FROM %I.feedback_rejects', prog.data_schema);
    PERFORM customer_tier.feed_recent_satisfaction(prog.name, 'true', 'detach_feedback');
    DELETE FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name;
END
$$;
COMMENT ON FUNCTION customer_tier.detach_feedback(text) IS
    'detach a program''s feedback table: drop its triggers and empty the answers, satisfaction and feedback_rejects tables; the feedback table is untouched';

-- Feed the churn rules' input customers.recent_satisfaction (0..10: the
-- satisfaction row's recent_score, 0..100, over 10; NULL without answers in
-- the window) for the customers matching condition (SQL on alias c), and
-- rescore those whose value changed through the one scoring path, so that
-- the flag low_satisfaction follows the answers.  Their rows are locked in
-- key order first, as the orders triggers lock them.  Returns how many
-- customers changed.
CREATE FUNCTION customer_tier.feed_recent_satisfaction(program text, condition text, source text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(program);
    changed text;
    n bigint;
BEGIN
    EXECUTE format($sql$
        WITH locked AS (
            SELECT c.customer FROM %1$I.customers AS c WHERE %2$s ORDER BY c.customer FOR UPDATE
        ), fed AS (
            UPDATE %1$I.customers AS c
               SET recent_satisfaction = s.recent_score OPERATOR(pg_catalog./) 10
              FROM locked AS l LEFT JOIN %1$I.satisfaction AS s ON s.customer OPERATOR(pg_catalog.=) l.customer
             WHERE c.customer OPERATOR(pg_catalog.=) l.customer
               AND c.recent_satisfaction IS DISTINCT FROM s.recent_score OPERATOR(pg_catalog./) 10
            RETURNING c.customer
        )
        SELECT pg_catalog.array_agg(fed.customer)::text, pg_catalog.count(*) FROM fed$sql$,
        prog.data_schema, condition) INTO changed, n;
    IF n OPERATOR(pg_catalog.>) 0 THEN
        PERFORM customer_tier.rescore_where(prog.name, source,
                    format('c.customer OPERATOR(pg_catalog.=) ANY (%L::%s[])', changed, prog.customer_type));
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.feed_recent_satisfaction(text, text, text) IS
    'set customers.recent_satisfaction (0..10) from the satisfaction rows and rescore the customers whose value changed; returns how many';

-- Recompute every customer's satisfaction row, moving the rolling windows to
-- now.  The triggers keep the rows exact for the answers; only the window
-- slides with time, which this (or the next answer of the customer) catches up.
CREATE FUNCTION customer_tier.refresh_satisfaction(program text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    -- waits for feedback writes in progress and holds new ones back, so that
    -- the recomputation sees every committed answer and none is overwritten;
    -- satisfaction first, the order in which the triggers take them
    EXECUTE format('LOCK TABLE %1$I.satisfaction, %1$I.answers IN SHARE ROW EXCLUSIVE MODE', prog.data_schema);
    EXECUTE customer_tier.satisfaction_rollup_sql(prog, 'true');
    GET DIAGNOSTICS customers = ROW_COUNT;
    PERFORM customer_tier.feed_recent_satisfaction(prog.name, 'true', 'refresh_satisfaction');
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.refresh_satisfaction(text) IS
    'recompute every customer''s satisfaction row so the rolling windows end now; returns the customers';

REVOKE ALL ON FUNCTION customer_tier.attach_feedback(text, regclass, name, name, name, name, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.detach_feedback(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.refresh_satisfaction(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feed_recent_satisfaction(text, text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.create_feedback_tables(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_row_problem_sql(customer_tier.feedback_source, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_usable_sql(customer_tier.feedback_source, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.satisfaction_rollup_sql(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_apply_block_sql(customer_tier.program, customer_tier.feedback_source, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_trigger_name(text, text) FROM PUBLIC;

-- ==== new part sql/install/81_feedback_verify.sql, verbatim ====
-- customer_tier install script, part 81: checking a program's feedback
-- rollups against its feedback table (docs/feedback.md).

-- Every difference between what the feedback triggers maintain and a
-- recomputation: the copied answers against the usable rows of the feedback
-- table (as multisets, per customer), and each satisfaction row against its
-- customer's answers, with the row's own window.  No rows means no drift.
CREATE FUNCTION customer_tier.verify_feedback(program text)
RETURNS TABLE (customer text, problem text, maintained jsonb, recomputed jsonb)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    src := customer_tier.feedback_source_row(prog);
    RETURN QUERY EXECUTE format($sql$
        WITH usable AS (
            SELECT u.customer, u.kind, u.score, u.answered_at, pg_catalog.count(*) AS n
              FROM (%2$s) AS u GROUP BY u.customer, u.kind, u.score, u.answered_at
        ), copied AS (
            SELECT a.customer, a.kind, a.score, a.answered_at, pg_catalog.count(*) AS n
              FROM %1$I.answers AS a GROUP BY a.customer, a.kind, a.score, a.answered_at
        ), answer_drift AS (
            SELECT coalesce(c.customer, u.customer) AS customer,
                   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('kind', c.kind, 'score', c.score,
                                        'answered_at', c.answered_at, 'copies', c.n)) FILTER (WHERE c.n IS NOT NULL) AS maintained,
                   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('kind', u.kind, 'score', u.score,
                                        'answered_at', u.answered_at, 'copies', u.n)) FILTER (WHERE u.n IS NOT NULL) AS recomputed
              FROM copied AS c
              FULL JOIN usable AS u
                ON (u.customer, u.kind, u.score, u.answered_at) OPERATOR(pg_catalog.=) (c.customer, c.kind, c.score, c.answered_at)
             WHERE c.n IS DISTINCT FROM u.n
             GROUP BY 1
        ), rollup AS (
            SELECT a.customer, pg_catalog.count(*) AS answers, pg_catalog.max(a.answered_at) AS last_answered_at,
                   (pg_catalog.array_agg(a.kind ORDER BY a.answered_at DESC, a.id DESC))[1] AS last_kind,
                   (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC))[1] AS last_score,
                   (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                        FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'))[1] AS last_nps,
                   (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                        FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'))[1] AS last_csat,
                   customer_tier.nps(a.score) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'
                                                       AND a.answered_at OPERATOR(pg_catalog.>) s.window_start) AS window_nps,
                   pg_catalog.count(*) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'
                                                 AND a.answered_at OPERATOR(pg_catalog.>) s.window_start) AS window_nps_answers,
                   customer_tier.csat(a.score) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'
                                                        AND a.answered_at OPERATOR(pg_catalog.>) s.window_start) AS window_csat,
                   pg_catalog.count(*) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'
                                                 AND a.answered_at OPERATOR(pg_catalog.>) s.window_start) AS window_csat_answers
              FROM %1$I.answers AS a
              LEFT JOIN %1$I.satisfaction AS s ON s.customer OPERATOR(pg_catalog.=) a.customer
             GROUP BY a.customer
        ), kept AS (
            SELECT s.customer, s.answers, s.last_answered_at, s.last_kind, s.last_score, s.last_nps, s.last_csat,
                   s.window_nps, s.window_nps_answers, s.window_csat, s.window_csat_answers
              FROM %1$I.satisfaction AS s
        )
        SELECT d.customer::text, 'answers differ', d.maintained, d.recomputed
          FROM answer_drift AS d
        UNION ALL
        SELECT coalesce(k.customer, r.customer)::text,
               CASE WHEN k.customer IS NULL THEN 'satisfaction missing'
                    WHEN r.customer IS NULL THEN 'satisfaction unexpected'
                    ELSE 'satisfaction differs' END,
               pg_catalog.to_jsonb(k), pg_catalog.to_jsonb(r)
          FROM kept AS k
          FULL JOIN rollup AS r ON r.customer OPERATOR(pg_catalog.=) k.customer
         WHERE pg_catalog.to_jsonb(k) IS DISTINCT FROM pg_catalog.to_jsonb(r)
         ORDER BY 1, 2$sql$,
        prog.data_schema, customer_tier.feedback_usable_sql(src, src.feedback_table::text));
END
$$;
COMMENT ON FUNCTION customer_tier.verify_feedback(text) IS
    'differences between a program''s copied answers and satisfaction rows and a recomputation from its feedback table; none means no drift';
REVOKE ALL ON FUNCTION customer_tier.verify_feedback(text) FROM PUBLIC;

-- ==== new part sql/install/82_contacts.sql, verbatim ====
-- customer_tier install script, part 82: the contact log, the contact cadence
-- per tier and the follow-ups-due view (docs/followups.md).

-- Contact cadence per program and tier; a tier without a row has the default
-- (customer_tier.default_cadence).
CREATE TABLE customer_tier.cadence (
    program text NOT NULL REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    tier    text NOT NULL,
    every   interval NOT NULL CONSTRAINT cadence_every_positive CHECK (every > '0'),
    CONSTRAINT cadence_pkey PRIMARY KEY (program, tier)
);
COMMENT ON TABLE customer_tier.cadence IS
    'contact cadence per program and tier set with set_cadence; a tier without a row has customer_tier.default_cadence(tier)';
COMMENT ON COLUMN customer_tier.cadence.program IS 'the program';
COMMENT ON COLUMN customer_tier.cadence.tier IS 'one of the program''s tiers';
COMMENT ON COLUMN customer_tier.cadence.every IS 'how often a customer of the tier is to be contacted (positive)';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.cadence', '');

-- The cadence of a tier without a setting.
CREATE FUNCTION customer_tier.default_cadence(tier text)
RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE tier WHEN 'diamond' THEN interval '30 days'
                 WHEN 'gold' THEN interval '60 days'
                 ELSE interval '180 days' END;
COMMENT ON FUNCTION customer_tier.default_cadence(text) IS
    'default contact cadence of a tier without a setting: diamond 30 days, gold 60 days, any other tier 180 days';

-- Every tier of a program with its cadence in effect.
CREATE FUNCTION customer_tier.cadences(program text)
RETURNS TABLE (tier text, rank integer, every interval, is_default boolean)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    prog customer_tier.program;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    RETURN QUERY
    SELECT t.tier, t.rank, coalesce(c.every, customer_tier.default_cadence(t.tier)), c.every IS NULL
      FROM customer_tier.tier AS t
      LEFT JOIN customer_tier.cadence AS c
        ON c.program OPERATOR(pg_catalog.=) t.program AND c.tier OPERATOR(pg_catalog.=) t.tier
     WHERE t.program OPERATOR(pg_catalog.=) prog.name
     ORDER BY t.rank;
END
$$;
COMMENT ON FUNCTION customer_tier.cadences(text) IS
    'every tier of a program, best first, with its contact cadence and whether it is the default';

-- Set the cadence of some tiers of a program: {"diamond": "2 weeks", "gold": 45}
-- (a string is an interval, a number is days, null restores the default).
-- Tiers not named keep theirs.  Returns the number of tiers named.
CREATE FUNCTION customer_tier.set_cadence(program text, cadences jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'Pass an object from tier to interval, e.g. {"diamond": "30 days", "gold": "2 months", "normal": 180}; a number is days, null restores the default.';
    prog customer_tier.program;
    tiers text[];
    key text;
    val jsonb;
    every interval;
    n integer := 0;
BEGIN
    IF program IS NULL OR cadences IS NULL THEN
        RAISE EXCEPTION 'program and cadences must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = example;
    END IF;
    prog := customer_tier.program_row(program);
    IF jsonb_typeof(cadences) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'cadences must be a JSON object, not %', jsonb_typeof(cadences)
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    IF cadences OPERATOR(pg_catalog.=) '{}'::jsonb THEN
        RAISE EXCEPTION 'cadences must name at least one tier'
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    SELECT array_agg(t.tier ORDER BY t.rank) INTO tiers
      FROM customer_tier.tier AS t WHERE t.program OPERATOR(pg_catalog.=) prog.name;
    -- validate every entry before changing anything
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(cadences) AS e ORDER BY e.key LOOP
        IF NOT key OPERATOR(pg_catalog.=) ANY (tiers) THEN
            RAISE EXCEPTION 'unknown tier "%" of program "%"', key, prog.name
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The program''s tiers are: %s.', array_to_string(tiers, ', ')),
                      HINT = 'Name tiers of the program; customer_tier.cadences(program) lists them.';
        END IF;
        CASE jsonb_typeof(val)
        WHEN 'null' THEN
            CONTINUE;
        WHEN 'string' THEN
            BEGIN
                every := (val #>> '{}')::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow
                           OR invalid_parameter_value OR numeric_value_out_of_range THEN
                RAISE EXCEPTION 'invalid cadence % for tier "%"', val, key
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The value is not an interval.', HINT = example;
            END;
        WHEN 'number' THEN
            BEGIN
                every := (val #>> '{}')::double precision OPERATOR(pg_catalog.*) interval '1 day';
            EXCEPTION WHEN interval_field_overflow OR datetime_field_overflow OR numeric_value_out_of_range THEN
                RAISE EXCEPTION 'invalid cadence %... for tier "%"', left(val::text, 20), key
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The number of days is out of range.', HINT = example;
            END;
        ELSE
            RAISE EXCEPTION 'cadence of tier "%" must be a string, a number or null, not %', key, jsonb_typeof(val)
                USING ERRCODE = 'invalid_parameter_value', HINT = example;
        END CASE;
        IF every OPERATOR(pg_catalog.<=) '0' THEN
            RAISE EXCEPTION 'cadence of tier "%" must be positive, not %', key, every
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A cadence says how often to contact the tier''s customers, e.g. "30 days".';
        END IF;
    END LOOP;
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(cadences) AS e ORDER BY e.key LOOP
        IF jsonb_typeof(val) OPERATOR(pg_catalog.=) 'null' THEN
            DELETE FROM customer_tier.cadence AS c
             WHERE c.program OPERATOR(pg_catalog.=) prog.name AND c.tier OPERATOR(pg_catalog.=) key;
        ELSE
            every := CASE jsonb_typeof(val) WHEN 'string' THEN (val #>> '{}')::interval
                     ELSE (val #>> '{}')::double precision OPERATOR(pg_catalog.*) interval '1 day' END;
            INSERT INTO customer_tier.cadence AS c (program, tier, every) VALUES (prog.name, key, every)
            ON CONFLICT ON CONSTRAINT cadence_pkey DO UPDATE SET every = excluded.every;
        END IF;
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.set_cadence(text, jsonb) IS
    'set the contact cadence of some tiers of a program from a JSON object tier -> interval (a number is days, null restores the default); returns the tiers named';

-- Create a program's contacts table and its follow_ups_due view (called by
-- create_followup_objects when the program is created).
CREATE FUNCTION customer_tier.create_contact_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.contacts (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer     %2$s NOT NULL,
            channel      text NOT NULL
                         CONSTRAINT contacts_channel CHECK (channel IN ('phone', 'email', 'visit', 'other')),
            contacted_at timestamptz NOT NULL DEFAULT pg_catalog.now()
                         CONSTRAINT contacts_contacted_at_finite CHECK (pg_catalog.isfinite(contacted_at)),
            outcome      text,
            note         text,
            logged_by    name NOT NULL DEFAULT CURRENT_USER,
            logged_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
        );
        CREATE INDEX ON %1$I.contacts (customer, contacted_at);
        COMMENT ON TABLE %1$I.contacts IS %3$L;
        COMMENT ON COLUMN %1$I.contacts.id IS 'contact number, in the order contacts were logged';
        COMMENT ON COLUMN %1$I.contacts.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.contacts.channel IS 'phone, email, visit or other';
        COMMENT ON COLUMN %1$I.contacts.contacted_at IS 'when the customer was contacted';
        COMMENT ON COLUMN %1$I.contacts.outcome IS 'what came of it, in the CRM''s own words (e.g. reached, no answer, order placed)';
        COMMENT ON COLUMN %1$I.contacts.note IS 'free text; personal data: not readable by the reader role';
        COMMENT ON COLUMN %1$I.contacts.logged_by IS 'the role that logged the contact';
        COMMENT ON COLUMN %1$I.contacts.logged_at IS 'when the contact was logged'
    $sql$, s, prog.customer_type,
        format('program %s: the contact log; every contact counts for the cadence, whatever its outcome', prog.name));

    -- A customer's last contact, their last change of tier, and the cadence
    -- of their tier; due when the cadence has run out since the last contact
    -- (since the first order when never contacted), or at once after a rise
    -- of tier that no contact has followed yet (a welcome).
    EXECUTE format($sql$
        CREATE VIEW %1$I.follow_ups_due AS
        SELECT pg_catalog.row_number() OVER (ORDER BY d.tier_rank NULLS LAST, d.churn_risk DESC,
                                                      d.value_score DESC NULLS LAST, d.due_at, d.customer)::bigint AS priority,
               d.customer, d.tier, d.tier_rank, d.reason, d.due_at,
               pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.now() - d.due_at) / 86400)::integer AS days_overdue,
               d.cadence, d.last_contact_at, d.last_channel, d.last_outcome, d.tier_since,
               d.value_score, d.monetary, d.last_order, d.churn_flags
          FROM (SELECT x.*,
                       CASE WHEN x.welcome THEN 'welcome'
                            WHEN x.last_contact_at IS NULL THEN 'never contacted'
                            ELSE 'cadence' END AS reason,
                       CASE WHEN x.welcome THEN least(x.rose_at, x.cadence_due_at)
                            ELSE x.cadence_due_at END AS due_at
                  FROM (SELECT c.customer, c.tier, t.rank AS tier_rank, c.tier_since, c.value_score,
                               c.monetary, c.last_order, c.churn_flags,
                               coalesce(pg_catalog.cardinality(c.churn_flags), 0) AS churn_risk,
                               k.contacted_at AS last_contact_at,
                               k.channel AS last_channel, k.outcome AS last_outcome, e.every AS cadence,
                               coalesce(k.contacted_at, c.first_order, c.tier_since) + e.every AS cadence_due_at,
                               h.changed_at AS rose_at,
                               coalesce(h.to_tier = c.tier AND f.rank > t.rank
                                        AND h.changed_at > coalesce(k.contacted_at, '-infinity'), false) AS welcome
                          FROM %1$I.customers AS c
                          LEFT JOIN customer_tier.tier AS t ON t.program = %2$L AND t.tier = c.tier
                          LEFT JOIN customer_tier.cadence AS cd ON cd.program = %2$L AND cd.tier = c.tier
                          CROSS JOIN LATERAL (SELECT coalesce(cd.every, customer_tier.default_cadence(c.tier)) AS every) AS e
                          LEFT JOIN (SELECT DISTINCT ON (l.customer) l.customer, l.contacted_at, l.channel, l.outcome
                                       FROM %1$I.contacts AS l
                                      ORDER BY l.customer, l.contacted_at DESC, l.id DESC) AS k
                            ON k.customer = c.customer
                          LEFT JOIN (SELECT DISTINCT ON (g.customer) g.customer, g.changed_at, g.from_tier, g.to_tier
                                       FROM %1$I.tier_history AS g
                                      ORDER BY g.customer, g.changed_at DESC, g.id DESC) AS h
                            ON h.customer = c.customer
                          LEFT JOIN customer_tier.tier AS f ON f.program = %2$L AND f.tier = h.from_tier
                         WHERE c.tier IS NOT NULL) AS x) AS d
         WHERE d.due_at <= pg_catalog.now()
         ORDER BY 1
    $sql$, s, prog.name);
    EXECUTE format('COMMENT ON VIEW %I.follow_ups_due IS %L', s,
                   format('program %s: customers due for a contact, most important first: best tier, then most churn flags, then highest value score, then longest overdue',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.follow_ups_due.priority IS '1 = contact first: by tier rank, then churn risk (most churn flags first), then value score (highest first), then due_at (earliest first)';
        COMMENT ON COLUMN %1$I.follow_ups_due.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.follow_ups_due.tier IS 'current tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.tier_rank IS 'rank of the current tier, 1 = best';
        COMMENT ON COLUMN %1$I.follow_ups_due.reason IS 'welcome (the tier rose after the last contact), never contacted (the cadence has run out since the first order), cadence (it has run out since the last contact)';
        COMMENT ON COLUMN %1$I.follow_ups_due.due_at IS 'since when the contact is due';
        COMMENT ON COLUMN %1$I.follow_ups_due.days_overdue IS 'whole days since due_at (0 on the day it fell due)';
        COMMENT ON COLUMN %1$I.follow_ups_due.cadence IS 'the contact cadence of the tier (customer_tier.cadences)';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_contact_at IS 'when the customer was last contacted; NULL if never';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_channel IS 'channel of the last contact';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_outcome IS 'outcome of the last contact';
        COMMENT ON COLUMN %1$I.follow_ups_due.tier_since IS 'when the customer entered the current tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.value_score IS 'weighted value score 0..100';
        COMMENT ON COLUMN %1$I.follow_ups_due.monetary IS 'net monetary value';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_order IS 'time of the last purchase';
        COMMENT ON COLUMN %1$I.follow_ups_due.churn_flags IS 'churn flags raised (segments.churn_flags); more flags, higher priority within a tier'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) IS
    'create a program''s contacts table and follow_ups_due view';

-- Log a contact with a customer of a program.  The customer key is given as
-- text and read as the program's key type.  Runs with its caller's rights
-- (the writer role may insert into the contacts table, and logged_by
-- records who did); it reads the program's schema, not the catalog, which
-- the writer may not read.  Returns the contact id.
CREATE FUNCTION customer_tier.log_contact(program text, customer text, channel text,
                                          outcome text DEFAULT NULL, note text DEFAULT NULL,
                                          contacted_at timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text;
    key_type regtype;
    known boolean;
    id bigint;
BEGIN
    IF program IS NULL OR customer IS NULL OR channel IS NULL OR contacted_at IS NULL THEN
        RAISE EXCEPTION 'program, customer, channel and contacted_at must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For example customer_tier.log_contact(''shop'', ''42'', ''phone'', ''reached'').';
    END IF;
    -- a program's schema is ct_<name> (create_program)
    s := 'ct_' OPERATOR(pg_catalog.||) program;
    SELECT a.atttypid::regtype INTO key_type
      FROM pg_attribute AS a
     WHERE a.attrelid OPERATOR(pg_catalog.=) to_regclass(format('%I.contacts', s))
       AND a.attname OPERATOR(pg_catalog.=) 'customer';
    IF key_type IS NULL OR program !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    IF NOT channel OPERATOR(pg_catalog.=) ANY ('{phone,email,visit,other}'::text[]) THEN
        RAISE EXCEPTION 'invalid channel "%"', channel
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use phone, email, visit or other.';
    END IF;
    IF NOT isfinite(contacted_at) THEN
        RAISE EXCEPTION 'contacted_at must be finite, not %', contacted_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the time of the contact, or leave it out for now().';
    END IF;
    IF contacted_at OPERATOR(pg_catalog.>) (clock_timestamp() OPERATOR(pg_catalog.+) interval '5 minutes') THEN
        RAISE EXCEPTION 'contacted_at % is in the future', contacted_at
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The log records contacts that took place; a contact in the future would hide follow-ups that are due.',
                  HINT = 'Pass the time of the contact, or leave it out for now().';
    END IF;
    BEGIN
        EXECUTE format('SELECT EXISTS (SELECT FROM %I.segments AS c WHERE c.customer OPERATOR(pg_catalog.=) $1::%s)',
                       s, key_type)
           INTO known USING customer;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR string_data_right_truncation THEN
        RAISE EXCEPTION 'invalid customer key "%" for program "%"', customer, program
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = format('The program''s customer keys are of type %s.', key_type);
    END;
    IF NOT known THEN
        RAISE EXCEPTION 'customer % is not a customer of program "%"', customer, program
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = 'A customer of a program has at least one counted order.',
                  HINT = format('SELECT customer FROM %I.segments lists them.', s);
    END IF;
    EXECUTE format($sql$
        INSERT INTO %1$I.contacts (customer, channel, contacted_at, outcome, note)
        VALUES ($1::%2$s, $2, $3, $4, $5)
        RETURNING id$sql$, s, key_type)
       INTO id USING customer, channel, contacted_at, outcome, note;
    RETURN id;
END
$$;
COMMENT ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamptz) IS
    'log a contact (phone, email, visit or other) with a customer of a program; returns the contact id';

REVOKE ALL ON FUNCTION customer_tier.default_cadence(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.cadences(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.set_cadence(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) FROM PUBLIC;

-- ==== new part sql/install/84_kpis.sql, verbatim ====
-- customer_tier install script, part 84: satisfaction and KPIs per tier and
-- period (docs/kpis.md).
--
-- Both group customers by their tier at the start of each period, read off
-- tier_history (the tier of the customer's latest change recorded before
-- the period start): a period's figures are about the customers each tier
-- had when it began.  Periods are date_trunc units in the session's TimeZone.

-- The periods [period_start, period_end) of a date_trunc unit that start
-- from date_trunc(unit, from_date) up to, not including, to_date: by default
-- the last twelve up to now, the current one included.
CREATE FUNCTION customer_tier.kpi_periods(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                          to_date timestamptz DEFAULT NULL)
RETURNS TABLE (period_start timestamptz, period_end timestamptz)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
ROWS 12
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    units constant text[] := '{microseconds,milliseconds,second,minute,hour,day,week,month,quarter,year,decade,century,millennium}';
    step interval;
    first timestamptz;
    last timestamptz;
    n bigint;
BEGIN
    IF unit IS NULL THEN
        RAISE EXCEPTION 'unit must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = format('Use one of: %s.', array_to_string(units, ', '));
    END IF;
    IF NOT unit OPERATOR(pg_catalog.=) ANY (units) THEN
        RAISE EXCEPTION 'invalid period unit "%"', unit
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A period is a unit of date_trunc.',
                  HINT = format('Use one of: %s.', array_to_string(units, ', '));
    END IF;
    step := CASE unit WHEN 'microseconds' THEN interval '1 microsecond'
                      WHEN 'milliseconds' THEN interval '1 millisecond'
                      WHEN 'quarter' THEN interval '3 months'
                      ELSE ('1 ' OPERATOR(pg_catalog.||) unit)::interval END;
    IF NOT isfinite(coalesce(to_date, 'now')) OR NOT isfinite(coalesce(from_date, 'now')) THEN
        RAISE EXCEPTION 'from_date and to_date must be finite'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass two times, or leave them out for the last twelve periods.';
    END IF;
    BEGIN
        -- by default up to the end of the current period, so that it is included
        last := coalesce(to_date, date_trunc(unit, pg_catalog.now()) OPERATOR(pg_catalog.+) step);
        -- by default the twelve periods that start before last
        first := coalesce(date_trunc(unit, from_date),
                          date_trunc(unit, last OPERATOR(pg_catalog.-) interval '1 microsecond')
                              OPERATOR(pg_catalog.-) (step OPERATOR(pg_catalog.*) 11));
        IF first OPERATOR(pg_catalog.>=) last THEN
            RAISE EXCEPTION 'from_date (%) must be before to_date (%)', from_date, last
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The periods are those that start from the start of the period of from_date up to, not including, to_date.',
                      HINT = 'Pass an earlier from_date or a later to_date.';
        END IF;
        -- generate_series materializes its whole result: estimate first (a
        -- month as 30 days, a year as 365.25), count exactly only when small
        IF date_part('epoch', last OPERATOR(pg_catalog.-) first) OPERATOR(pg_catalog./) date_part('epoch', step)
           OPERATOR(pg_catalog.>) 1100 THEN
            n := 1001;
        ELSE
            SELECT count(*) INTO n
              FROM generate_series(first, last, step) AS g (s) WHERE g.s OPERATOR(pg_catalog.<) last;
        END IF;
        IF n OPERATOR(pg_catalog.>) 1000 THEN
            RAISE EXCEPTION 'too many periods: more than 1000 of unit % from % to %', unit, first, last
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Choose a larger unit or a shorter range.';
        END IF;
        -- the end of the last period must be a timestamp too: inside the block
        RETURN QUERY
        SELECT g.s, g.s OPERATOR(pg_catalog.+) step FROM generate_series(first, last, step) AS g (s)
         WHERE g.s OPERATOR(pg_catalog.<) last ORDER BY 1;
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'periods of unit % around % and % fall outside the range of timestamps', unit,
                        coalesce(from_date::text, 'the default start'), coalesce(to_date::text, 'now')
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'Choose a smaller unit, or times further from the ends of the timestamp range (4713 BC to 294276 AD).';
    END;
END
$$;
COMMENT ON FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz) IS
    'the periods of a date_trunc unit starting from the period of from_date up to, not including, to_date (default: the last twelve up to now); at most 1000';

-- SQL text of the CTEs shared by satisfaction_by_tier and kpis: periods,
-- cohort (period_start, customer, tier at period start) and newcomers.
CREATE FUNCTION customer_tier.kpi_cohort_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$periods AS (
                SELECT p.period_start, p.period_end FROM customer_tier.kpi_periods(unit, from_date, to_date) AS p
            ), cohort AS (
                SELECT p.period_start, p.period_end, h.customer, h.to_tier AS tier
                  FROM periods AS p
                 CROSS JOIN LATERAL (SELECT DISTINCT ON (x.customer) x.customer, x.to_tier
                                       FROM %1$I.tier_history AS x
                                      WHERE x.changed_at < p.period_start
                                      ORDER BY x.customer, x.changed_at DESC, x.id DESC) AS h
                 WHERE h.to_tier IS NOT NULL
            ), newcomers AS (
                SELECT p.period_start, h.to_tier AS tier, count(DISTINCT h.customer) AS customers
                  FROM periods AS p
                  JOIN %1$I.tier_history AS h
                    ON h.from_tier IS NULL AND h.to_tier IS NOT NULL
                   AND h.changed_at >= p.period_start AND h.changed_at < p.period_end
                 GROUP BY p.period_start, h.to_tier
            )$sql$, prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) IS
    'SQL text of the periods, the customers of each tier at each period start, and the newcomers, for satisfaction_by_tier and kpis';

-- SQL text of the CTEs sat (per period and tier, the cohort's customers,
-- respondents and answers given in the period) and keys (every period with
-- every tier of the program, of a cohort or of the newcomers).  The answers
-- are matched to their period first, so that each is joined to one cohort
-- row at most; the cohorts' tiers are read off sat, which is small.
CREATE FUNCTION customer_tier.kpi_satisfaction_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$sat AS (
                SELECT g.period_start, g.tier, g.customers, coalesce(r.respondents, 0) AS respondents,
                       coalesce(r.answers, 0) AS answers, r.nps, coalesce(r.nps_answers, 0) AS nps_answers,
                       r.csat, coalesce(r.csat_answers, 0) AS csat_answers
                  FROM (SELECT c.period_start, c.tier, count(*) AS customers
                          FROM cohort AS c GROUP BY c.period_start, c.tier) AS g
                  LEFT JOIN (
                        SELECT c.period_start, c.tier, count(DISTINCT c.customer) AS respondents, count(*) AS answers,
                               customer_tier.nps(a.score) FILTER (WHERE a.kind = 'nps') AS nps,
                               count(*) FILTER (WHERE a.kind = 'nps') AS nps_answers,
                               customer_tier.csat(a.score) FILTER (WHERE a.kind = 'csat') AS csat,
                               count(*) FILTER (WHERE a.kind = 'csat') AS csat_answers
                          FROM cohort AS c
                          JOIN (SELECT p.period_start, x.customer, x.kind, x.score
                                  FROM %1$I.answers AS x
                                  JOIN periods AS p ON x.answered_at >= p.period_start AND x.answered_at < p.period_end
                                 WHERE x.answered_at >= (SELECT min(q.period_start) FROM periods AS q)
                                   AND x.answered_at < (SELECT max(q.period_end) FROM periods AS q)) AS a
                            ON a.customer = c.customer AND a.period_start = c.period_start
                         GROUP BY c.period_start, c.tier) AS r
                    ON r.period_start = g.period_start AND r.tier = g.tier
            ), keys AS (
                SELECT p.period_start, p.period_end, z.tier, t.rank
                  FROM periods AS p
                 CROSS JOIN (SELECT x.tier FROM customer_tier.tier AS x WHERE x.program = %2$L
                             UNION SELECT g.tier FROM sat AS g
                             UNION SELECT n.tier FROM newcomers AS n) AS z
                  LEFT JOIN customer_tier.tier AS t ON t.program = %2$L AND t.tier = z.tier
            )$sql$, prog.data_schema, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.kpi_satisfaction_sql(customer_tier.program) IS
    'SQL text of the answers of each tier''s cohort per period and of the (period, tier) rows, for satisfaction_by_tier and kpis';

-- Create a program's satisfaction_by_tier and kpis functions (called by
-- create_followup_objects when the program is created).
CREATE FUNCTION customer_tier.create_kpi_functions(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    -- Reads the program's tier history and answers: runs with its caller's
    -- rights (the reader may read both).  Without JIT: compiling the plan
    -- costs far more than running it on any realistic number of periods.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.satisfaction_by_tier(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                                  to_date timestamptz DEFAULT NULL)
        RETURNS TABLE (period_start timestamptz, period_end timestamptz, tier text, tier_rank integer,
                       customers bigint, respondents bigint, response_rate double precision, answers bigint,
                       nps double precision, nps_answers bigint, csat double precision, csat_answers bigint)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 100
        SET search_path = pg_catalog, pg_temp
        SET jit = off
        AS $body$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH %2$s, %3$s
            SELECT k.period_start, k.period_end, k.tier, k.rank,
                   coalesce(x.customers, 0), coalesce(x.respondents, 0),
                   x.respondents::double precision / nullif(x.customers, 0),
                   coalesce(x.answers, 0), x.nps, coalesce(x.nps_answers, 0), x.csat, coalesce(x.csat_answers, 0)
              FROM keys AS k
              LEFT JOIN sat AS x ON x.period_start = k.period_start AND x.tier = k.tier
             ORDER BY k.period_start, k.rank NULLS LAST, k.tier;
        END
        $body$ $fn$, s, customer_tier.kpi_cohort_sql(prog), customer_tier.kpi_satisfaction_sql(prog));
    EXECUTE format('COMMENT ON FUNCTION %I.satisfaction_by_tier(text, timestamptz, timestamptz) IS %L', s,
                   format('program %s: per period (a date_trunc unit, month by default) and tier at period start: customers, respondents, response rate, NPS and CSAT of the answers given in the period',
                          prog.name));

    -- Reads the orders table, which the reader may not: runs as the
    -- program's owner and returns aggregates only.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.kpis(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                  to_date timestamptz DEFAULT NULL)
        RETURNS TABLE (period_start timestamptz, period_end timestamptz, tier text, tier_rank integer,
                       customers_at_start bigint, new_customers bigint, retained bigint, churned bigint,
                       retention_rate double precision, churn_rate double precision,
                       repeat_customers bigint, repeat_purchase_rate double precision,
                       orders bigint, revenue numeric,
                       nps double precision, csat double precision, answers bigint, response_rate double precision)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER ROWS 100
        SET search_path = pg_catalog, pg_temp
        SET jit = off
        AS $body$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH %2$s, %8$s,
            bought AS (
                SELECT p.period_start, o.%4$I AS customer,
                       count(*) FILTER (WHERE o.%5$I >= '0') AS purchases,
                       sum(o.%5$I::numeric) AS revenue
                  FROM %3$s AS o
                  JOIN periods AS p
                    ON o.%6$I::timestamptz >= p.period_start AND o.%6$I::timestamptz < p.period_end
                 WHERE %7$s
                   AND o.%6$I::timestamptz >= (SELECT min(q.period_start) FROM periods AS q)
                   AND o.%6$I::timestamptz < (SELECT max(q.period_end) FROM periods AS q)
                 GROUP BY p.period_start, o.%4$I
            ), kept AS (
                SELECT c.period_start, c.tier, count(*) AS customers,
                       count(*) FILTER (WHERE b.purchases >= 1) AS retained,
                       count(*) FILTER (WHERE b.purchases >= 2) AS repeat_customers,
                       coalesce(sum(b.purchases), 0)::bigint AS orders,
                       coalesce(sum(b.revenue), 0) AS revenue
                  FROM cohort AS c
                  LEFT JOIN bought AS b ON b.period_start = c.period_start AND b.customer = c.customer
                 GROUP BY c.period_start, c.tier
            )
            SELECT k.period_start, k.period_end, k.tier, k.rank,
                   coalesce(m.customers, 0), coalesce(n.customers, 0),
                   coalesce(m.retained, 0), coalesce(m.customers - m.retained, 0),
                   m.retained::double precision / nullif(m.customers, 0),
                   (m.customers - m.retained)::double precision / nullif(m.customers, 0),
                   coalesce(m.repeat_customers, 0),
                   m.repeat_customers::double precision / nullif(m.customers, 0),
                   coalesce(m.orders, 0), coalesce(m.revenue, 0),
                   s.nps, s.csat, coalesce(s.answers, 0),
                   s.respondents::double precision / nullif(s.customers, 0)
              FROM keys AS k
              LEFT JOIN kept AS m ON m.period_start = k.period_start AND m.tier = k.tier
              LEFT JOIN newcomers AS n ON n.period_start = k.period_start AND n.tier = k.tier
              LEFT JOIN sat AS s ON s.period_start = k.period_start AND s.tier = k.tier
             ORDER BY k.period_start, k.rank NULLS LAST, k.tier;
        END
        $body$ $fn$, s, customer_tier.kpi_cohort_sql(prog), prog.orders_table, prog.customer_column,
        prog.amount_column, prog.ordered_at_column, customer_tier.program_row_counts_sql(prog, 'o'),
        customer_tier.kpi_satisfaction_sql(prog));
    EXECUTE format('COMMENT ON FUNCTION %I.kpis(text, timestamptz, timestamptz) IS %L', s,
                   format('program %s: per period (a date_trunc unit, month by default) and tier at period start: customers, new customers, retained, churned, retention, churn and repeat-purchase rates, orders, revenue, NPS, CSAT, response rate (docs/kpis.md)',
                          prog.name));
END
$$;
COMMENT ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) IS
    'create a program''s satisfaction_by_tier and kpis functions';

REVOKE ALL ON FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.kpi_satisfaction_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) FROM PUBLIC;

-- ==== new part sql/install/85_erasure.sql, verbatim ====
-- customer_tier install script, part 85: erasure on request (docs/data-protection.md).
--
-- customer_tier.forget(program, customer) removes every row of derived data
-- the extension holds for one customer key, found GENERICALLY so that tables
-- added later are covered without edits:
--   * every table of the program's schema (ct_<name>) with a column named
--     "customer" (the convention for per-program tables);
--   * every table of that schema with a jsonb column named "row_image" (the
--     rejects), whose image carries the key under the program's customer_column;
--   * every table of schema customer_tier keyed by (program, customer text),
--     such as customer_tier.pin.
-- It refuses while a table the program is attached to (program_sources: its
-- orders table, its attached feedback table) still holds rows for the key:
-- the triggers would derive the customer again.  Each erasure is logged in
-- customer_tier.erasure_log with an HMAC-SHA256 of the key, never the key.
--
-- forget runs with its caller's rights (the admin), not as the extension's
-- owner: a program's schema belongs to the admin who created it, and a
-- trigger, a domain check or an operator there would otherwise run with the
-- owner's (superuser's) rights.  The admin may delete from a program's tables
-- (grant_program_access); only the secret is out of reach, behind
-- erasure_hash().

-- The per-database secret of the keyed hash.  Created by the first erasure,
-- not by CREATE EXTENSION, so that a restore of a dump brings back the
-- original secret (and with it every logged hash) instead of clashing with a
-- fresh one.  Readable by the extension's owner only: erasure_hash()
-- (SECURITY DEFINER) uses it; no role is granted it.
CREATE TABLE customer_tier.erasure_secret (
    id         boolean PRIMARY KEY DEFAULT true CONSTRAINT erasure_secret_one_row CHECK (id),
    secret     bytea NOT NULL CONSTRAINT erasure_secret_length CHECK (pg_catalog.length(secret) = 32),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE customer_tier.erasure_secret IS
    'the secret key of the HMAC that erasure_log stores instead of customer keys; one row, created by the first erasure';
COMMENT ON COLUMN customer_tier.erasure_secret.id IS 'always true: the table holds one row';
COMMENT ON COLUMN customer_tier.erasure_secret.secret IS '32 bytes from the server''s strong random source';
COMMENT ON COLUMN customer_tier.erasure_secret.created_at IS 'when the secret was generated';
REVOKE ALL ON customer_tier.erasure_secret FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('customer_tier.erasure_secret', '');

CREATE TABLE customer_tier.erasure_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erased_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    session_role  name NOT NULL,
    acting_role   name NOT NULL,
    program       text NOT NULL,
    customer_hash bytea NOT NULL,
    rows_deleted  jsonb NOT NULL,
    total         bigint NOT NULL
);
CREATE INDEX erasure_log_customer_hash ON customer_tier.erasure_log (customer_hash);
COMMENT ON TABLE customer_tier.erasure_log IS
    'one row per program per erasure request: when, by whom, how many rows from which table; the key only as a keyed hash';
COMMENT ON COLUMN customer_tier.erasure_log.id IS 'entry number';
COMMENT ON COLUMN customer_tier.erasure_log.erased_at IS 'when (the time of the erasing transaction)';
COMMENT ON COLUMN customer_tier.erasure_log.session_role IS 'the login that asked (session_user)';
COMMENT ON COLUMN customer_tier.erasure_log.acting_role IS 'the role it acted as (current_user: the SET ROLE, else the login)';
COMMENT ON COLUMN customer_tier.erasure_log.program IS 'the program erased from; kept when the program is dropped';
COMMENT ON COLUMN customer_tier.erasure_log.customer_hash IS 'HMAC-SHA256 of the canonical key text under the database''s erasure secret';
COMMENT ON COLUMN customer_tier.erasure_log.rows_deleted IS 'rows deleted per table, {"table": n}; tables with none left out';
COMMENT ON COLUMN customer_tier.erasure_log.total IS 'rows deleted in all';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.erasure_log', '');
SELECT pg_catalog.pg_extension_config_dump('customer_tier.erasure_log_id_seq', '');

-- HMAC-SHA256 (RFC 2104) built on the built-in sha256(): the keyed hash of
-- the erasure log.  A key longer than the 64-byte block is hashed first.
CREATE FUNCTION customer_tier.hmac_sha256(key bytea, message bytea)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k bytea := key;
    inner_pad bytea;
    outer_pad bytea;
    i integer;
BEGIN
    IF length(k) OPERATOR(pg_catalog.>) 64 THEN
        k := sha256(k);
    END IF;
    k := k OPERATOR(pg_catalog.||) decode(repeat('00', 64 OPERATOR(pg_catalog.-) length(k)), 'hex');
    inner_pad := k;
    outer_pad := k;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(k, i) OPERATOR(pg_catalog.#) 54);   -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(k, i) OPERATOR(pg_catalog.#) 92);   -- 0x5c
    END LOOP;
    RETURN sha256(outer_pad OPERATOR(pg_catalog.||) sha256(inner_pad OPERATOR(pg_catalog.||) message));
END
$$;
COMMENT ON FUNCTION customer_tier.hmac_sha256(bytea, bytea) IS
    'HMAC-SHA256 of a message under a key (RFC 2104), from the built-in sha256()';

-- The keyed hash of a customer key: HMAC-SHA256 under the database's erasure
-- secret, which the first call generates.  gen_random_uuid() draws from the
-- server's strong random source (pg_strong_random); two version-4 uuids give
-- 244 random bits.  The one SECURITY DEFINER function of the extension's
-- schema: it lets the admin hash keys without reading the secret, and it
-- touches nothing but the extension's own table and functions, so running as
-- the extension's owner hands no one else's objects that owner's rights.
CREATE FUNCTION customer_tier.erasure_hash(key text)
RETURNS bytea
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s bytea;
BEGIN
    SELECT e.secret INTO s FROM customer_tier.erasure_secret AS e;
    IF s IS NULL THEN
        INSERT INTO customer_tier.erasure_secret AS e (secret)
        VALUES (decode(replace(gen_random_uuid()::text OPERATOR(pg_catalog.||) gen_random_uuid()::text,
                               '-', ''), 'hex'))
        ON CONFLICT (id) DO NOTHING;
        SELECT e.secret INTO s FROM customer_tier.erasure_secret AS e;
    END IF;
    RETURN customer_tier.hmac_sha256(s, convert_to(key, 'UTF8'));
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_hash(text) IS
    'HMAC-SHA256 of a customer key under the database''s erasure secret (generated on first use), as erasure_log stores it';

-- The canonical key text of a customer for a program, or NULL when the text
-- is not a valid key of the program's key type (forget(customer) skips such
-- programs; forget(program, customer) reports the error).
CREATE FUNCTION customer_tier.erasure_key(prog customer_tier.program, customer text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
BEGIN
    EXECUTE format('SELECT ($1::%s)::text', prog.customer_type) INTO key USING customer;
    RETURN key;
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_key(customer_tier.program, text) IS
    'canonical key text of a customer for a program, NULL if the text is not a valid key of its type';

-- The CRM tables a program derives data from, with the column holding the
-- customer key in each: the orders table and, when attached, the feedback
-- table.  Erasure checks them for the key and matches reject row images
-- (copies of their rows) on their key columns.
CREATE FUNCTION customer_tier.program_sources(prog customer_tier.program)
RETURNS TABLE (source regclass, customer_column name)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT prog.orders_table, prog.customer_column
    UNION
    SELECT f.feedback_table, f.customer_column FROM customer_tier.feedback_source AS f
     WHERE f.program OPERATOR(pg_catalog.=) prog.name;
END;
COMMENT ON FUNCTION customer_tier.program_sources(customer_tier.program) IS
    'the CRM tables a program derives data from (orders, attached feedback) and their customer key columns';
REVOKE ALL ON FUNCTION customer_tier.program_sources(customer_tier.program) FROM PUBLIC;

-- Refuse to erase a key that a table the program is attached to still holds:
-- its triggers would derive the customer again.  The attached tables and
-- their key columns are program_sources(): the orders table and the attached
-- feedback table.
-- SHARE locks keep new rows for the key out until the erasure commits.
-- The key never appears in the message: errors reach the server log.
CREATE FUNCTION customer_tier.erasure_check_sources(prog customer_tier.program, key text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src record;
    still boolean;
BEGIN
    FOR src IN
        SELECT t.rel, a.attname, format_type(a.atttypid, a.atttypmod) AS typ
          FROM (SELECT ps.source::oid AS rel, ps.customer_column FROM customer_tier.program_sources(prog) AS ps) AS t
          JOIN pg_attribute AS a ON a.attrelid OPERATOR(pg_catalog.=) t.rel
                                AND a.attname OPERATOR(pg_catalog.=) t.customer_column
                                AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
         ORDER BY t.rel
    LOOP
        EXECUTE format('LOCK TABLE %s IN SHARE MODE', src.rel::regclass);
        BEGIN
            EXECUTE format('SELECT EXISTS (SELECT FROM %s AS o WHERE o.%I OPERATOR(pg_catalog.=) $1::%s)',
                           src.rel::regclass, src.attname, src.typ)
               INTO still USING key;
        EXCEPTION WHEN data_exception THEN
            still := false;      -- the key is not even a value of that column's type
        END;
        IF still THEN
            RAISE EXCEPTION 'program "%": the customer still has rows in %', prog.name, src.rel::regclass
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The program derives its data from %s (column %s); erased data would be derived again.',
                                      src.rel::regclass, src.attname),
                      HINT = format('Delete the customer''s rows from %s first (the CRM''s own data), then call customer_tier.forget again.',
                                    src.rel::regclass);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_check_sources(customer_tier.program, text) IS
    'refuse (55000) to erase a key that a table the program is attached to still holds';

-- Delete every row of one key from one program: returns {"table": rows} for
-- the tables that had some.  Tables that reference others are emptied first,
-- so a foreign key between per-program tables (any action) cannot block it.
CREATE FUNCTION customer_tier.erasure_delete(prog customer_tier.program, key text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    n bigint;
    counts jsonb := '{}';
    -- a reject row image is a copy of a source row: the key is under that
    -- source's customer column
    image_match text := (SELECT pg_catalog.string_agg(
                                    format('(d.row_image OPERATOR(pg_catalog.->>) %L) OPERATOR(pg_catalog.=) $1',
                                           ps.customer_column), ' OR ')
                           FROM customer_tier.program_sources(prog) AS ps);
BEGIN
    FOR t IN
        WITH RECURSIVE tabs AS (
            SELECT c.oid FROM pg_class AS c
             WHERE c.relnamespace OPERATOR(pg_catalog.=) prog.data_schema::regnamespace
               AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) AND NOT c.relispartition
        ), edges AS (
            SELECT DISTINCT k.conrelid AS child, k.confrelid AS parent
              FROM pg_constraint AS k
             WHERE k.contype OPERATOR(pg_catalog.=) 'f'
               AND k.conrelid OPERATOR(pg_catalog.<>) k.confrelid
               AND k.conrelid IN (SELECT oid FROM tabs) AND k.confrelid IN (SELECT oid FROM tabs)
        ), height (oid, h) AS (
            SELECT oid, 0 FROM tabs
            UNION ALL
            SELECT e.parent, x.h OPERATOR(pg_catalog.+) 1
              FROM height AS x JOIN edges AS e ON e.child OPERATOR(pg_catalog.=) x.oid
             WHERE x.h OPERATOR(pg_catalog.<) 32
        )
        SELECT x.oid::regclass AS rel, c.relname,
               (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a
                 WHERE a.attrelid OPERATOR(pg_catalog.=) x.oid AND a.attname OPERATOR(pg_catalog.=) 'customer'
                   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) AS key_type,
               EXISTS (SELECT FROM pg_attribute AS a
                        WHERE a.attrelid OPERATOR(pg_catalog.=) x.oid AND a.attname OPERATOR(pg_catalog.=) 'row_image'
                          AND a.atttypid OPERATOR(pg_catalog.=) 'jsonb'::regtype AND NOT a.attisdropped) AS has_image
          FROM (SELECT oid, max(h) AS h FROM height GROUP BY oid) AS x
          JOIN pg_class AS c ON c.oid OPERATOR(pg_catalog.=) x.oid
         ORDER BY x.h, c.relname
    LOOP
        CONTINUE WHEN t.key_type IS NULL AND NOT t.has_image;
        BEGIN
            EXECUTE format('DELETE FROM %s AS d WHERE %s OR %s', t.rel,
                           CASE WHEN t.key_type IS NULL THEN 'false'
                                ELSE format('d.customer OPERATOR(pg_catalog.=) $1::%s', t.key_type) END,
                           CASE WHEN t.has_image THEN image_match ELSE 'false' END)
              USING key;
        EXCEPTION WHEN data_exception THEN
            -- the key is not a value of this table's customer column type:
            -- it can only be in the row images
            EXECUTE format('DELETE FROM %s AS d WHERE %s', t.rel,
                           CASE WHEN t.has_image THEN image_match ELSE 'false' END)
              USING key;
        END;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n OPERATOR(pg_catalog.>) 0 THEN
            counts := counts OPERATOR(pg_catalog.||) jsonb_build_object(t.relname, n);
        END IF;
    END LOOP;

    -- global tables keyed by (program, customer): the canonical key text
    FOR t IN
        SELECT c.oid::regclass AS rel, c.relname
          FROM pg_class AS c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'customer_tier'::regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) AND NOT c.relispartition
           AND (SELECT count(*) FROM pg_attribute AS a
                 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND NOT a.attisdropped
                   AND a.atttypid OPERATOR(pg_catalog.=) ANY ('{text,varchar}'::regtype[])
                   AND a.attname OPERATOR(pg_catalog.=) ANY ('{program,customer}'::name[])) OPERATOR(pg_catalog.=) 2
         ORDER BY c.relname
    LOOP
        EXECUTE format('DELETE FROM %s AS d WHERE d.program OPERATOR(pg_catalog.=) $1 AND d.customer OPERATOR(pg_catalog.=) $2',
                       t.rel)
          USING prog.name, key;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n OPERATOR(pg_catalog.>) 0 THEN
            counts := counts OPERATOR(pg_catalog.||) jsonb_build_object('customer_tier.' OPERATOR(pg_catalog.||) t.relname, n);
        END IF;
    END LOOP;
    RETURN counts;
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_delete(customer_tier.program, text) IS
    'delete every row of a customer key from a program''s tables and the program''s rows of the global tables';

-- Log one program's erasure of one key.
CREATE FUNCTION customer_tier.erasure_record(program text, key text, counts jsonb)
RETURNS void
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO customer_tier.erasure_log (session_role, acting_role, program, customer_hash, rows_deleted, total)
    SELECT SESSION_USER,
           CURRENT_USER,
           program,
           customer_tier.erasure_hash(key),
           counts,
           (SELECT coalesce(pg_catalog.sum(v::bigint), 0) FROM pg_catalog.jsonb_each_text(counts) AS j (k, v));
END;
COMMENT ON FUNCTION customer_tier.erasure_record(text, text, jsonb) IS
    'record an erasure in erasure_log, with the keyed hash of the key';

-- Erase one customer from one program.
CREATE FUNCTION customer_tier.forget(program text, customer text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text;
    counts jsonb;
BEGIN
    IF program IS NULL OR customer IS NULL THEN
        RAISE EXCEPTION 'program and customer must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    key := customer_tier.erasure_key(prog, customer);
    IF key IS NULL THEN
        RAISE EXCEPTION 'the customer key is not a valid % for program "%"', prog.customer_type, prog.name
            USING ERRCODE = 'invalid_text_representation',
                  HINT = format('Pass the key as it appears in column %s of %s.', prog.customer_column, prog.orders_table);
    END IF;
    PERFORM customer_tier.erasure_check_sources(prog, key);
    counts := customer_tier.erasure_delete(prog, key);
    PERFORM customer_tier.erasure_record(prog.name, key, counts);
    RETURN counts;
END
$$;
COMMENT ON FUNCTION customer_tier.forget(text, text) IS
    'erase every row of derived data a program holds for a customer (refused while its orders remain); returns rows per table';

-- Erase one customer from every program whose key type accepts the key.
CREATE FUNCTION customer_tier.forget(customer text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text;
    counts jsonb;
    result jsonb := '{}';
BEGIN
    IF customer IS NULL THEN
        RAISE EXCEPTION 'customer must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- every program is checked before anything is deleted; one refusal
    -- leaves all of them untouched
    FOR prog IN SELECT * FROM customer_tier.program AS p ORDER BY p.name LOOP
        key := customer_tier.erasure_key(prog, customer);
        IF key IS NOT NULL THEN
            PERFORM customer_tier.erasure_check_sources(prog, key);
        END IF;
    END LOOP;
    FOR prog IN SELECT * FROM customer_tier.program AS p ORDER BY p.name LOOP
        key := customer_tier.erasure_key(prog, customer);
        CONTINUE WHEN key IS NULL;
        counts := customer_tier.erasure_delete(prog, key);
        PERFORM customer_tier.erasure_record(prog.name, key, counts);
        result := result OPERATOR(pg_catalog.||) jsonb_build_object(prog.name, counts);
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION customer_tier.forget(text) IS
    'erase a customer from every program whose key type accepts the key; returns {program: rows per table}';

-- Whether a customer key was erased from a program (by either form of forget).
CREATE FUNCTION customer_tier.was_forgotten(program text, customer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text := customer;
BEGIN
    IF program IS NULL OR customer IS NULL THEN
        RAISE EXCEPTION 'program and customer must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- a dropped program's log stays: the key is then hashed as given
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) was_forgotten.program;
    IF FOUND THEN
        key := coalesce(customer_tier.erasure_key(prog, customer), customer);
    END IF;
    RETURN EXISTS (SELECT FROM customer_tier.erasure_log AS l
                    WHERE l.customer_hash OPERATOR(pg_catalog.=) customer_tier.erasure_hash(key)
                      AND l.program OPERATOR(pg_catalog.=) was_forgotten.program);
END
$$;
COMMENT ON FUNCTION customer_tier.was_forgotten(text, text) IS
    'whether a customer key was erased from a program, answered from the keyed hashes of erasure_log';

REVOKE ALL ON FUNCTION customer_tier.forget(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.forget(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.was_forgotten(text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.hmac_sha256(bytea, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_hash(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_key(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_check_sources(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_delete(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_record(text, text, jsonb) FROM PUBLIC;

-- ==== new part sql/install/86_retention.sql, verbatim ====
-- customer_tier install script, part 86: retention (docs/data-protection.md).
--
-- How long a program keeps its tier history, its contact log (the table
-- <schema>.contacts, where a program has one), its runs in customer_tier.run
-- and its rejects.  A program without a row in customer_tier.retention has
-- the defaults (customer_tier.retention_of() and the view
-- customer_tier.retention_policy show what applies); customer_tier.purge()
-- deletes what is older, and the reclassification run calls it when it ends.

-- Overrides only: the defaults live in the column defaults, so a program
-- created while this table is restored from a dump cannot clash with a row.
-- NULL keeps that kind of data forever.
CREATE TABLE customer_tier.retention (
    program      text PRIMARY KEY REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    tier_history interval DEFAULT '2 years'
                 CONSTRAINT retention_tier_history_positive CHECK (tier_history > '0'),
    contacts     interval DEFAULT '2 years'
                 CONSTRAINT retention_contacts_positive CHECK (contacts > '0'),
    runs         interval DEFAULT '1 year'
                 CONSTRAINT retention_runs_positive CHECK (runs > '0'),
    rejects      interval DEFAULT '90 days'
                 CONSTRAINT retention_rejects_positive CHECK (rejects > '0'),
    changed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    changed_by   name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE customer_tier.retention IS
    'per-program retention periods set with set_retention(); a program without a row has the column defaults';
COMMENT ON COLUMN customer_tier.retention.program IS 'the program';
COMMENT ON COLUMN customer_tier.retention.tier_history IS 'tier history rows older than this are purged (changed_at); NULL keeps them';
COMMENT ON COLUMN customer_tier.retention.contacts IS 'contact log rows older than this are purged, where the program has a contacts table; NULL keeps them';
COMMENT ON COLUMN customer_tier.retention.runs IS 'finished runs older than this are purged from customer_tier.run (finished_at); NULL keeps them';
COMMENT ON COLUMN customer_tier.retention.rejects IS 'rejects older than this are purged (rejected_at); NULL keeps them';
COMMENT ON COLUMN customer_tier.retention.changed_at IS 'when the settings were last changed';
COMMENT ON COLUMN customer_tier.retention.changed_by IS 'the role that last changed them';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.retention', '');

-- The retention that applies to a program: its row, or the defaults.
CREATE FUNCTION customer_tier.retention_of(program text)
RETURNS customer_tier.retention
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r customer_tier.retention;
BEGIN
    PERFORM customer_tier.program_row(program);
    SELECT * INTO r FROM customer_tier.retention AS t WHERE t.program OPERATOR(pg_catalog.=) retention_of.program;
    IF NOT FOUND THEN
        r := ROW(program, '2 years', '2 years', '1 year', '90 days', NULL, NULL)::customer_tier.retention;
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION customer_tier.retention_of(text) IS
    'the retention periods that apply to a program: its settings, or the defaults (changed_at NULL)';

CREATE VIEW customer_tier.retention_policy AS
SELECT r.program, r.tier_history, r.contacts, r.runs, r.rejects, r.changed_at IS NULL AS is_default
  FROM customer_tier.program AS p, LATERAL customer_tier.retention_of(p.name) AS r;
COMMENT ON VIEW customer_tier.retention_policy IS 'the retention periods of every program, defaults included';
COMMENT ON COLUMN customer_tier.retention_policy.program IS 'the program';
COMMENT ON COLUMN customer_tier.retention_policy.tier_history IS 'how long tier history is kept; NULL = forever';
COMMENT ON COLUMN customer_tier.retention_policy.contacts IS 'how long the contact log is kept; NULL = forever';
COMMENT ON COLUMN customer_tier.retention_policy.runs IS 'how long finished runs are kept; NULL = forever';
COMMENT ON COLUMN customer_tier.retention_policy.rejects IS 'how long rejects are kept; NULL = forever';
COMMENT ON COLUMN customer_tier.retention_policy.is_default IS 'true when the program has the defaults (never set)';

-- Change some of a program's retention periods: settings is an object of
-- {"tier_history" | "contacts" | "runs" | "rejects": "interval" or null}.
-- Keys left out keep their value.  Returns the settings now in force.
CREATE FUNCTION customer_tier.set_retention(program text, settings jsonb)
RETURNS customer_tier.retention
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r customer_tier.retention;
    item record;
    period interval;
BEGIN
    IF program IS NULL OR settings IS NULL THEN
        RAISE EXCEPTION 'program and settings must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    r := customer_tier.retention_of(program);
    IF jsonb_typeof(settings) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'retention settings must be a JSON object, not %', jsonb_typeof(settings)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass for example ''{"tier_history": "3 years", "rejects": "30 days"}''.';
    END IF;
    FOR item IN SELECT j.key, j.value FROM jsonb_each(settings) AS j ORDER BY j.key LOOP
        IF item.key OPERATOR(pg_catalog.<>) ALL ('{tier_history,contacts,runs,rejects}'::text[]) THEN
            RAISE EXCEPTION 'unknown retention setting "%"', item.key
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The settings are tier_history, contacts, runs and rejects.';
        END IF;
        IF jsonb_typeof(item.value) OPERATOR(pg_catalog.=) 'null' THEN
            period := NULL;
        ELSIF jsonb_typeof(item.value) OPERATOR(pg_catalog.<>) 'string' THEN
            RAISE EXCEPTION 'retention setting "%" must be an interval string or null, not %', item.key, item.value
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass a period such as "2 years" or "90 days", or null to keep the data forever.';
        ELSE
            BEGIN
                period := (item.value OPERATOR(pg_catalog.->>) 0)::interval;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION 'retention setting "%" is not an interval: %', item.key, item.value
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Pass a period such as "2 years" or "90 days", or null to keep the data forever.';
            END;
            IF period OPERATOR(pg_catalog.<=) '0' THEN
                RAISE EXCEPTION 'retention setting "%" must be positive, not %', item.key, item.value
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Pass a period such as "2 years" or "90 days", or null to keep the data forever.';
            END IF;
        END IF;
        CASE item.key
            WHEN 'tier_history' THEN r.tier_history := period;
            WHEN 'contacts' THEN r.contacts := period;
            WHEN 'runs' THEN r.runs := period;
            ELSE r.rejects := period;
        END CASE;
    END LOOP;
    INSERT INTO customer_tier.retention AS t (program, tier_history, contacts, runs, rejects)
    VALUES (r.program, r.tier_history, r.contacts, r.runs, r.rejects)
    ON CONFLICT ON CONSTRAINT retention_pkey DO UPDATE
       SET tier_history = excluded.tier_history, contacts = excluded.contacts, runs = excluded.runs,
           rejects = excluded.rejects, changed_at = excluded.changed_at, changed_by = excluded.changed_by
    RETURNING * INTO r;
    RETURN r;
END
$$;
COMMENT ON FUNCTION customer_tier.set_retention(text, jsonb) IS
    'set some of a program''s retention periods from {"tier_history"|"contacts"|"runs"|"rejects": interval or null}; returns the settings';

-- Delete what a program keeps longer than its retention says.  Returns the
-- rows deleted per kind.  Runs still marked running are never deleted.
CREATE FUNCTION customer_tier.purge(program text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    r customer_tier.retention;
    n bigint;
    result jsonb := '{}';
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    r := customer_tier.retention_of(program);

    n := 0;
    IF r.tier_history IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.tier_history AS h WHERE h.changed_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)',
                       prog.data_schema) USING r.tier_history;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('tier_history', n);

    n := 0;
    IF r.contacts IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.contacts AS c WHERE c.contacted_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)',
                       prog.data_schema) USING r.contacts;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('contacts', n);

    n := 0;
    IF r.runs IS NOT NULL THEN
        DELETE FROM customer_tier.run AS x
         WHERE x.program OPERATOR(pg_catalog.=) purge.program
           AND x.outcome OPERATOR(pg_catalog.<>) 'running'
           AND x.finished_at OPERATOR(pg_catalog.<) (now() OPERATOR(pg_catalog.-) r.runs);
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('runs', n);

    n := 0;
    IF r.rejects IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.rejects AS j WHERE j.rejected_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)',
                       prog.data_schema) USING r.rejects;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('rejects', n);
    RETURN result;
END
$$;
COMMENT ON FUNCTION customer_tier.purge(text) IS
    'delete a program''s tier history, contact log, runs and rejects older than its retention; returns rows deleted per kind';

REVOKE ALL ON FUNCTION customer_tier.set_retention(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.purge(text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.retention_of(text) FROM PUBLIC;

-- ==== new part sql/install/88_followups.sql, verbatim ====
-- customer_tier install script, part 88: what a program gets for feedback,
-- contacts and KPIs when it is created, and what each role may do with it
-- (docs/followups.md, docs/security.md).

-- Grant the roles their privileges on a program's feedback and contact
-- objects.  The reader sees answers, satisfaction, the follow-ups and the
-- KPIs, and the contact log without its note (personal free text); the
-- writer logs contacts (and may read back what it logged) and sees the
-- follow-ups; the admin may also correct and erase, and any admin (not only
-- the program's owner) may refresh the rolling windows.
CREATE FUNCTION customer_tier.grant_followup_access(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format($sql$
        GRANT SELECT ON %1$I.answers, %1$I.satisfaction, %1$I.follow_ups_due TO customer_tier_reader;
        GRANT SELECT (id, customer, channel, contacted_at, outcome, logged_by, logged_at)
            ON %1$I.contacts TO customer_tier_reader;
        GRANT SELECT, INSERT (customer, channel, contacted_at, outcome, note)
            ON %1$I.contacts TO customer_tier_writer;
        GRANT SELECT ON %1$I.follow_ups_due TO customer_tier_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.contacts TO customer_tier_admin;
        GRANT SELECT, DELETE ON %1$I.answers, %1$I.satisfaction, %1$I.feedback_rejects TO customer_tier_admin;
        GRANT INSERT, UPDATE ON %1$I.satisfaction TO customer_tier_admin;
        REVOKE ALL ON FUNCTION %1$I.satisfaction_by_tier(text, timestamptz, timestamptz) FROM PUBLIC;
        REVOKE ALL ON FUNCTION %1$I.kpis(text, timestamptz, timestamptz) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION %1$I.satisfaction_by_tier(text, timestamptz, timestamptz) TO customer_tier_reader;
        GRANT EXECUTE ON FUNCTION %1$I.kpis(text, timestamptz, timestamptz) TO customer_tier_reader
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.grant_followup_access(customer_tier.program) IS
    'grant the reader, writer and admin roles their privileges on a program''s feedback, contact and KPI objects';

-- Create a program's feedback, contact and KPI objects (called by
-- create_program_objects, after the program's views).
CREATE FUNCTION customer_tier.create_followup_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.create_feedback_tables(prog);
    PERFORM customer_tier.create_contact_objects(prog);
    PERFORM customer_tier.create_kpi_functions(prog);
    PERFORM customer_tier.grant_followup_access(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_followup_objects(customer_tier.program) IS
    'create a program''s answers, satisfaction, feedback_rejects and contacts tables, follow_ups_due view, satisfaction_by_tier and kpis functions';

-- Remove what create_followup_objects and attach_feedback made (called by
-- drop_program_objects, first).  RESTRICT: a user's own object that
-- depends on them makes drop_program fail.
CREATE FUNCTION customer_tier.drop_followup_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    src customer_tier.feedback_source;
BEGIN
    -- only the triggers on the feedback table: the tables below go whole, and
    -- the feedback_source row with the program (ON DELETE CASCADE)
    SELECT * INTO src FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name;
    IF FOUND THEN
        PERFORM customer_tier.drop_feedback_triggers(prog, src);
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS %I.kpis(text, timestamptz, timestamptz) RESTRICT', s);
    EXECUTE format('DROP FUNCTION IF EXISTS %I.satisfaction_by_tier(text, timestamptz, timestamptz) RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.follow_ups_due RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.contacts RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.feedback_rejects RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.satisfaction RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.answers RESTRICT', s);
END
$$;
COMMENT ON FUNCTION customer_tier.drop_followup_objects(customer_tier.program) IS
    'detach a program''s feedback table if attached, and drop its feedback, contact and KPI objects';

REVOKE ALL ON FUNCTION customer_tier.grant_followup_access(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.create_followup_objects(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_followup_objects(customer_tier.program) FROM PUBLIC;


-- ==== grants of the parts 80-88 and the speed functions (sql/install/90_roles.sql) ====
-- feedback and follow-ups (parts 80-88): the attached feedback tables and the cadences
GRANT SELECT ON customer_tier.feedback_source, customer_tier.cadence TO customer_tier_reader;
GRANT INSERT, UPDATE, DELETE ON customer_tier.feedback_source, customer_tier.cadence TO customer_tier_admin;
-- retention settings (86): readable by BI, set by the admin; the erasure log
-- (85) read and written by the admin only (forget runs with the caller's
-- rights), and its secret by no role (erasure_hash reads it as the owner)
GRANT SELECT ON customer_tier.retention, customer_tier.retention_policy TO customer_tier_reader;
GRANT INSERT, UPDATE, DELETE ON customer_tier.retention TO customer_tier_admin;
GRANT SELECT, INSERT ON customer_tier.erasure_log TO customer_tier_admin;
GRANT EXECUTE ON FUNCTION customer_tier.attach_feedback(text, regclass, name, name, name, name, interval) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.cadences(text) TO customer_tier_reader;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.create_feedback_tables(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.create_followup_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.default_cadence(text) TO customer_tier_reader;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.default_cadence(text) TO customer_tier_writer;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.detach_feedback(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.drop_followup_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.erasure_check_sources(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.erasure_delete(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.erasure_hash(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.erasure_key(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.erasure_record(text, text, jsonb) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feed_recent_satisfaction(text, text, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feedback_source_row(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feedback_apply_block_sql(customer_tier.program, customer_tier.feedback_source, text, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feedback_row_problem_sql(customer_tier.feedback_source, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feedback_trigger_name(text, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feedback_usable_sql(customer_tier.feedback_source, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.forget(text, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.forget(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.grant_followup_access(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.hmac_sha256(bytea, bytea) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.kpi_periods(text, timestamp with time zone, timestamp with time zone) TO customer_tier_reader;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.kpi_satisfaction_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamp with time zone) TO customer_tier_writer;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.program_sources(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.purge(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.refresh_satisfaction(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.retention_of(text) TO customer_tier_reader;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.satisfaction_rollup_sql(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.set_cadence(text, jsonb) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.set_retention(text, jsonb) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.verify_feedback(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.was_forgotten(text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== grants of the new functions (sql/install/90_roles.sql) ====
GRANT EXECUTE ON FUNCTION customer_tier.program_row(text) TO customer_tier_admin, customer_tier_reader;
GRANT EXECUTE ON FUNCTION customer_tier.create_program_run_views(customer_tier.program) TO customer_tier_admin;

-- ==== review: changed bodies ====
-- customer_tier.program_row_checks(customer_tier.program, text): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.program_row_checks(prog customer_tier.program, alias text,
                                                 OUT conditions text[], OUT reasons text[])
RETURNS record
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c text := format('%I.%I', alias, prog.customer_column);
    t text := format('%I.%I', alias, prog.ordered_at_column);
    a text := format('%I.%I', alias, prog.amount_column);
BEGIN
    conditions := ARRAY[format('%s IS NOT NULL', c), format('%s IS NOT NULL', t),
                        format('pg_catalog.isfinite(%s)', t), format('%s IS NOT NULL', a)];
    reasons := ARRAY['customer key is null', 'order time is null', 'order time is not finite', 'amount is null'];
    IF prog.amount_type IN ('numeric'::regtype, 'double precision'::regtype) THEN
        conditions := conditions || format('%s OPERATOR(pg_catalog.<>) ALL (''{NaN,Infinity,-Infinity}''::%s[])',
                                           a, prog.amount_type);
        reasons := reasons || 'amount is not finite'::text;
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) IS
    'the conditions an order row must meet to be usable by a program, with the reason of each, in order';
REVOKE ALL ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list


-- customer_tier.program_row_problem_sql(customer_tier.program, text): sql/install/62_program_objects.sql
CREATE OR REPLACE FUNCTION customer_tier.program_row_problem_sql(prog customer_tier.program, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT 'CASE' || string_agg(format(E'\n             WHEN NOT (%s) THEN %L', x.condition, x.reason),
                                         '' ORDER BY x.n) || ' END'
              FROM customer_tier.program_row_checks(prog, alias) AS k,
                   unnest(k.conditions, k.reasons) WITH ORDINALITY AS x (condition, reason, n));
END
$$;

-- customer_tier.refresh_breakpoints(text): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.refresh_breakpoints(program text)
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

-- ==== existing programs: bring their schemas ct_<name> up to date ====
-- What create_program would make today and 0.1.0 did not:
--   the run migration function and view (create_program_run_views);
--   churn: the program's churn_settings row (defaults); the new columns of
--   customers, last, with their comments; the trigger function
--   maintain_customers regenerated (its generators changed); the columns
--   appended to the view segments (CREATE OR REPLACE VIEW keeps users' views
--   over it); the new view churn_risk; and every customer rescored, which
--   fills lifecycle, churn flags and the model columns as a fresh
--   create_program does (p_alive and CLV stay NULL until a run fits models).
-- grant_program_access grants the roles their privileges on the new objects,
-- as create_program does (it also grants again what the program had, which
-- is idempotent).
--
-- A program's generated objects are not members of the extension, and an
-- extension script may only CREATE OR REPLACE its own members: each is
-- added to the extension first; $release$ below releases it again.  The
-- generator functions return CREATE statements (the install script never
-- says CREATE OR REPLACE); regexp_replace turns the first one into
-- CREATE OR REPLACE.
DO $programs$
DECLARE
    prog customer_tier.program;
    s name;
BEGIN
    FOR prog IN SELECT * FROM customer_tier.program AS p ORDER BY p.name LOOP
        s := prog.data_schema;
        PERFORM customer_tier.create_program_run_views(prog);

        -- churn (sql/install/62_program_objects.sql, 66_program_views.sql)
        INSERT INTO customer_tier.churn_settings (program) VALUES (prog.name) ON CONFLICT DO NOTHING;
        EXECUTE format($sql$
            ALTER TABLE %1$I.customers
                ADD COLUMN recent_satisfaction double precision,
                ADD COLUMN p_alive          double precision,
                ADD COLUMN predicted_clv    double precision,
                ADD COLUMN churn_flags      text[],
                ADD COLUMN churn_reasons    text[],
                ADD COLUMN lifecycle        text,
                ADD COLUMN lifecycle_since  timestamptz,
                ADD COLUMN previous_lifecycle text;
            COMMENT ON COLUMN %1$I.customers.recent_satisfaction IS 'input: the customer''s recent satisfaction on 0..10, filled by feedback; NULL = no feedback (flag low_satisfaction never raised)';
            COMMENT ON COLUMN %1$I.customers.p_alive IS 'BG/NBD probability that the customer is still active, from the model of the last run; NULL without a model';
            COMMENT ON COLUMN %1$I.customers.predicted_clv IS 'predicted customer lifetime value over the program''s CLV horizon (BG/NBD x Gamma-Gamma); NULL without both models';
            COMMENT ON COLUMN %1$I.customers.churn_flags IS 'churn flags raised: silent, frequency_falling, low_p_alive, low_satisfaction; empty when none';
            COMMENT ON COLUMN %1$I.customers.churn_reasons IS 'the reason of each flag, in the order of churn_flags';
            COMMENT ON COLUMN %1$I.customers.lifecycle IS 'lifecycle stage: new, active, at risk, lapsed, lost, won back';
            COMMENT ON COLUMN %1$I.customers.lifecycle_since IS 'when the customer entered the current lifecycle stage (as seen by the scoring)';
            COMMENT ON COLUMN %1$I.customers.previous_lifecycle IS 'the lifecycle stage before the current one; NULL for the first'
        $sql$, s);
        EXECUTE format('ALTER EXTENSION customer_tier ADD FUNCTION %I.maintain_customers()', s);
        EXECUTE regexp_replace(customer_tier.program_maintain_function_sql(prog),
                               '^\s*CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION');
        EXECUTE format('ALTER EXTENSION customer_tier ADD VIEW %I.segments', s);
        EXECUTE regexp_replace(customer_tier.program_segments_view_sql(prog),
                               '^\s*CREATE VIEW', 'CREATE OR REPLACE VIEW');
        EXECUTE customer_tier.program_churn_risk_view_sql(prog);
        -- follow-ups, feedback, KPIs (sql/install/88_followups.sql): after the
        -- churn columns, which follow_ups_due reads
        PERFORM customer_tier.create_followup_objects(prog);
        PERFORM customer_tier.rescore_program(prog.name, 'upgrade to 0.2.0');
        -- runs write only the customers that change (speed, second round)
        EXECUTE format($sql$
            COMMENT ON COLUMN %1$I.customers.changed_by IS 'what last changed the customer''s scores: a trigger operation, the backfill, a pin or a run';
            COMMENT ON COLUMN %1$I.segments.changed_by IS 'what last changed the customer''s scores: a trigger operation, the backfill, a pin or a run'
        $sql$, s);

        PERFORM customer_tier.grant_program_access(prog);
    END LOOP;
END
$programs$;

-- ==== the objects created above in program schemas belong to the program ====
-- Every object an extension script creates becomes a member of the
-- extension; a program's objects must not be (pg_dump would leave them out,
-- DROP EXTENSION would drop them).  So each is released from the extension
-- and given to the owner of its program schema, who owns the rest of it.
-- And every GRANT an extension script runs is recorded as the object's
-- "initial privileges" (pg_init_privs), which pg_dump takes as the baseline
-- of what to dump: left there, a restore would lose those grants.  Releasing
-- an object from the extension forgets them, so an existing object that
-- got a GRANT here is added to the extension and released again.
-- Generic: it also covers what later upgrade steps do to program schemas.
DO $release$
DECLARE
    ext oid := (SELECT e.oid FROM pg_catalog.pg_extension AS e
                 WHERE e.extname OPERATOR(pg_catalog.=) 'customer_tier');
    o record;
BEGIN
    -- created by this script: release, and give to the schema's owner
    FOR o IN
        SELECT i.type, i.identity, n.nspowner::pg_catalog.regrole AS owner,
               i.type OPERATOR(pg_catalog.=) 'index' OR EXISTS (
                   SELECT FROM pg_catalog.pg_depend AS t
                    WHERE t.classid OPERATOR(pg_catalog.=) d.classid AND t.objid OPERATOR(pg_catalog.=) d.objid
                      AND t.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND t.deptype IN ('a', 'i')
                      AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass) AS owned_by_table
          FROM pg_catalog.pg_depend AS d
         CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) AS i
          JOIN pg_catalog.pg_namespace AS n ON n.nspname OPERATOR(pg_catalog.=) i.schema
         WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ext
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND i.schema IN (SELECT p.data_schema FROM customer_tier.program AS p)
         ORDER BY i.type, i.identity
    LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION customer_tier DROP %s %s', o.type, o.identity);
        -- a table's owned sequences (identity, serial) and indexes follow its owner
        CONTINUE WHEN o.owned_by_table;
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %s', o.type, o.identity, o.owner);
    END LOOP;
    -- granted on by this script: forget the recorded initial privileges
    FOR o IN
        SELECT DISTINCT i.type, i.identity
          FROM pg_catalog.pg_init_privs AS ip
         CROSS JOIN LATERAL pg_catalog.pg_identify_object(ip.classoid, ip.objoid, 0) AS i
         WHERE ip.privtype OPERATOR(pg_catalog.=) 'e'
           AND (i.schema IN (SELECT p.data_schema FROM customer_tier.program AS p)
                OR (i.type OPERATOR(pg_catalog.=) 'schema'
                    AND i.identity IN (SELECT pg_catalog.quote_ident(p.data_schema) FROM customer_tier.program AS p)))
         ORDER BY i.type, i.identity
    LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION customer_tier ADD %s %s', o.type, o.identity);
        EXECUTE pg_catalog.format('ALTER EXTENSION customer_tier DROP %s %s', o.type, o.identity);
    END LOOP;
END
$release$;

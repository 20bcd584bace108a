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
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
BEGIN
    prog := customer_tier.program_row(program);
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
        ), gone AS (
            DELETE FROM %1$I.customers AS c
             WHERE NOT EXISTS (SELECT FROM scratch AS s WHERE s.customer OPERATOR(pg_catalog.=) c.customer)
        )
        INSERT INTO %1$I.customers AS c
               (customer, purchases, refunds, orders, monetary, first_order, last_order,
                mean_gap_days, gap_stddev_days, updated_at)
        SELECT s.customer, s.purchases, s.refunds, m.orders, m.monetary, m.first_order, m.last_order,
               m.mean_gap_days, m.gap_stddev_days, pg_catalog.now()
          FROM scratch AS s, LATERAL customer_tier.customer_metrics(s.purchases, s.refunds) AS m
         ORDER BY s.customer
        ON CONFLICT (customer) DO UPDATE
           SET (purchases, refunds, orders, monetary, first_order, last_order,
                mean_gap_days, gap_stddev_days, updated_at) =
               (excluded.purchases, excluded.refunds, excluded.orders, excluded.monetary,
                excluded.first_order, excluded.last_order, excluded.mean_gap_days,
                excluded.gap_stddev_days, excluded.updated_at)$sql$,
        prog.data_schema, prog.customer_column, prog.ordered_at_column, prog.amount_column,
        prog.orders_table, customer_tier.program_row_counts_sql(prog, 'o'));
    PERFORM customer_tier.refresh_breakpoints(program);
    PERFORM customer_tier.rescore_program(program, 'rebuild_program');
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
        -- The models before the batches, which score with them; a fit that
        -- cannot be made keeps the previous model and does not fail the run.
        UPDATE customer_tier.run AS r
           SET model_fit = coalesce(customer_tier.fit_program_model(reclassify.program, run_id), 'fitted')
         WHERE r.id OPERATOR(pg_catalog.=) run_id;
        -- ABC classes of the whole population, computed once, applied per batch.
        IF pg_catalog.to_regclass('pg_temp.customer_tier_abc') IS NOT NULL THEN
            DROP TABLE pg_temp.customer_tier_abc;
        END IF;
        EXECUTE format($sql$
            CREATE TEMP TABLE customer_tier_abc AS
            SELECT c.customer,
                   customer_tier.abc_class(c.monetary::double precision)
                       OVER (ORDER BY c.monetary DESC) AS abc_class
              FROM %I.customers AS c$sql$, prog.data_schema);
        EXECUTE 'CREATE INDEX ON pg_temp.customer_tier_abc (customer)';
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
                'pg_temp.customer_tier_abc');
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

    DROP TABLE pg_temp.customer_tier_abc;
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

-- tier_rules: sql/install/70_tiers.sql
CREATE OR REPLACE FUNCTION customer_tier.tier_rules(program text)
RETURNS double precision[]
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rules double precision[];
BEGIN
    SELECT array_agg(ARRAY[coalesce(t.min_value_score, 'NaN'),
                           coalesce(t.min_monetary::double precision, 'NaN'),
                           coalesce(t.min_orders::double precision, 'NaN'),
                           coalesce(t.min_tenure_days, 'NaN'),
                           coalesce(array_position('{A,B,C}'::text[], t.abc_class)::double precision, 'NaN')]
                     ORDER BY t.rank)
      INTO rules
      FROM customer_tier.tier AS t
     WHERE t.program = tier_rules.program;
    IF rules IS NULL THEN
        PERFORM customer_tier.program_row(program);
        PERFORM customer_tier.check_tier_set(program, NULL, NULL);   -- "has no tiers"
    END IF;
    RETURN rules;
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
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
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
BEGIN
    prog := customer_tier.program_row(program);
    BEGIN
        EXECUTE format($sql$
            SELECT (f.model).*
              FROM (SELECT customer_tier.bgnbd_fit(s.x, s.t_x, s.t) AS model
                      FROM %I.customers AS c,
                           LATERAL customer_tier.btyd_summary(c.purchases, c.monetary, pg_catalog.now()) AS s) AS f$sql$,
            prog.data_schema) INTO bg;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS bg_problem = MESSAGE_TEXT;
        bg := NULL;
    END;
    BEGIN
        EXECUTE format($sql$
            SELECT (f.model).*
              FROM (SELECT customer_tier.gamma_gamma_fit(s.orders, s.mean_spend) AS model
                      FROM %I.customers AS c,
                           LATERAL customer_tier.btyd_summary(c.purchases, c.monetary, pg_catalog.now()) AS s) AS f$sql$,
            prog.data_schema) INTO gg;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS gg_problem = MESSAGE_TEXT;
        gg := NULL;
    END;
    note := concat_ws('; ',
                      'bg/nbd: ' || bg_problem || ' (previous model kept)',
                      'gamma-gamma: ' || gg_problem || ' (previous model kept)');
    INSERT INTO customer_tier.program_model AS m
           (program, bgnbd, bgnbd_fitted_at, gamma_gamma, gamma_gamma_fitted_at, attempted_at, run, problem)
    VALUES (prog.name, bg, CASE WHEN bg IS NOT NULL THEN now() END,
            gg, CASE WHEN gg IS NOT NULL THEN now() END, now(), fit_program_model.run, nullif(note, ''))
    ON CONFLICT ON CONSTRAINT program_model_pkey DO UPDATE
       SET bgnbd = coalesce(excluded.bgnbd, m.bgnbd),
           bgnbd_fitted_at = coalesce(excluded.bgnbd_fitted_at, m.bgnbd_fitted_at),
           gamma_gamma = coalesce(excluded.gamma_gamma, m.gamma_gamma),
           gamma_gamma_fitted_at = coalesce(excluded.gamma_gamma_fitted_at, m.gamma_gamma_fitted_at),
           attempted_at = excluded.attempted_at, run = excluded.run, problem = excluded.problem;
    IF note <> '' THEN
        RAISE NOTICE 'program "%": a model could not be fitted', prog.name
            USING DETAIL = note || '.',
                  HINT = 'Scoring goes on with the previous model, or without p_alive and CLV if there is none; the next run tries again.';
    END IF;
    RETURN nullif(note, '');
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
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT CASE WHEN bool_or(t.min_p_alive IS NOT NULL OR t.min_clv IS NOT NULL)
                    THEN array_agg(ARRAY[coalesce(t.min_p_alive, 'NaN'), coalesce(t.min_clv, 'NaN')]
                                   ORDER BY t.rank) END
          FROM customer_tier.tier AS t
         WHERE t.program = tier_model_rules.program);
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
            COMMENT ON COLUMN %1$I.segments.changed_by IS 'what last scored the customer: a trigger operation, create_program, a pin or a run';
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
        COMMENT ON COLUMN %1$I.customers.changed_by IS 'what last scored the customer: a trigger operation, the backfill or a run';
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

-- customer_tier.rescore_where(text, text, text, text): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.rescore_where(program text, source text, condition text,
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
    allowed := CASE method
                   WHEN 'rfm' THEN '{min_value_score}'
                   WHEN 'abc' THEN '{abc_class}'
                   ELSE '{min_value_score,min_monetary,min_orders,min_tenure_days,min_p_alive,min_clv}'
               END;
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
                                    CASE prog.method WHEN 'rfm' THEN 'min_value_score'
                                                     WHEN 'abc' THEN 'abc_class'
                                                     ELSE 'min_value_score, min_monetary, min_orders, min_tenure_days, min_p_alive, min_clv' END);
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

-- ==== grants of the new functions (sql/install/90_roles.sql) ====
GRANT EXECUTE ON FUNCTION customer_tier.program_row(text) TO customer_tier_admin, customer_tier_reader;
GRANT EXECUTE ON FUNCTION customer_tier.create_program_run_views(customer_tier.program) TO customer_tier_admin;

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
        PERFORM customer_tier.rescore_program(prog.name, 'upgrade to 0.2.0');

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
        SELECT i.type, i.identity, n.nspowner::pg_catalog.regrole AS owner
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

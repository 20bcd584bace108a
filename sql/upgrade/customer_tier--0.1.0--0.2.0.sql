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
    -- A plain view over customers: a join on customer reaches its primary key
    -- with no cast, and the join to the tiers (unique on program, tier) is
    -- removed by the planner when tier_rank is not read.  The grace span is
    -- an uncorrelated sub-select, computed once per query.
    EXECUTE format($sql$
        CREATE VIEW %1$I.segments AS
        SELECT c.customer, c.tier, t.rank AS tier_rank, c.tier_since, c.tier_reason,
               c.value_score, c.r_score, c.f_score, c.m_score, c.segment, c.abc_class,
               c.orders, c.monetary, c.first_order, c.last_order, c.mean_gap_days, c.gap_stddev_days,
               c.pending_since,
               c.pending_since + (SELECT customer_tier.grace_span(p.downgrade_grace)
                                    FROM customer_tier.program AS p WHERE p.name = %2$L) AS downgrade_due_at,
               c.changed_by, c.updated_at
          FROM %1$I.customers AS c
          LEFT JOIN customer_tier.tier AS t ON t.program = %2$L AND t.tier = c.tier
    $sql$, s, prog.name);
    EXECUTE format('COMMENT ON VIEW %I.segments IS %L', s,
                   format('program %s: one row per customer with its tier, scores, segment and metrics; join on customer, the key of %s.%I (%s)',
                          prog.name, prog.orders_table, prog.customer_column, prog.customer_type));
    EXECUTE format($sql$
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
        COMMENT ON COLUMN %1$I.segments.updated_at IS 'when the customer''s metrics last changed'
    $sql$, s, format('the customer key, in the type of %s.%I (%s): join on it with no cast',
                     prog.orders_table, prog.customer_column, prog.customer_type));

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

-- ==== grants of the new functions (sql/install/90_roles.sql) ====
GRANT EXECUTE ON FUNCTION customer_tier.program_row(text) TO customer_tier_admin, customer_tier_reader;
GRANT EXECUTE ON FUNCTION customer_tier.create_program_run_views(customer_tier.program) TO customer_tier_admin;

-- ==== existing programs: bring their schemas ct_<name> up to date ====
-- What create_program would make today and 0.1.0 did not: the run
-- migration function and view.  grant_program_access grants the roles their
-- privileges on them, as create_program does (it also grants again what the
-- program had, which is idempotent).
DO $programs$
DECLARE
    prog customer_tier.program;
BEGIN
    FOR prog IN SELECT * FROM customer_tier.program AS p ORDER BY p.name LOOP
        PERFORM customer_tier.create_program_run_views(prog);
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

-- customer_tier install script, part 68: the reclassification job and its run log.
--
-- CALL customer_tier.reclassify('program') recomputes the population
-- breakpoints and ABC classes, then scores every customer through the one
-- scoring path in batches that commit as they go, under an advisory lock so
-- that a second run of the same program exits at once.  Every run is logged.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

CREATE TABLE customer_tier.run (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program      text NOT NULL REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    started_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at  timestamptz,
    outcome      text NOT NULL DEFAULT 'running'
                 CONSTRAINT run_outcome CHECK (outcome IN ('running', 'succeeded', 'failed')),
    customers    bigint,
    batches      integer,
    tier_changes bigint,
    changes_by_tier jsonb,
    rejects      bigint,
    error        text,
    run_by       name NOT NULL DEFAULT CURRENT_USER,
    purged       jsonb,
    model_fit    text
);
CREATE INDEX run_program_started ON customer_tier.run (program, started_at);
COMMENT ON TABLE customer_tier.run IS 'one row per reclassification run: when, how many customers, what changed, how it ended';
COMMENT ON COLUMN customer_tier.run.id IS 'run number; tier_history.source says ''run N'' for the changes it made';
COMMENT ON COLUMN customer_tier.run.program IS 'the program reclassified';
COMMENT ON COLUMN customer_tier.run.started_at IS 'when the run started';
COMMENT ON COLUMN customer_tier.run.finished_at IS 'when it ended, NULL while running';
COMMENT ON COLUMN customer_tier.run.outcome IS 'running, succeeded or failed (a run whose session ended is marked failed by the next run)';
COMMENT ON COLUMN customer_tier.run.customers IS 'customers scored';
COMMENT ON COLUMN customer_tier.run.batches IS 'batches committed';
COMMENT ON COLUMN customer_tier.run.tier_changes IS 'customers whose tier changed';
COMMENT ON COLUMN customer_tier.run.changes_by_tier IS 'tier changes as {"from>to": count}; "new" stands for no previous tier';
COMMENT ON COLUMN customer_tier.run.rejects IS 'rows in the program''s rejects table when the run ended';
COMMENT ON COLUMN customer_tier.run.error IS 'the error of a failed run';
COMMENT ON COLUMN customer_tier.run.run_by IS 'the role that ran it';
COMMENT ON COLUMN customer_tier.run.purged IS 'rows the run''s purge deleted per kind (customer_tier.purge), or {"error": ...}';
COMMENT ON COLUMN customer_tier.run.model_fit IS 'the model fit of the run: fitted, or which fit failed and why (the previous model was kept)';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.run', '');
-- and its identity sequence, or a restored database would number new runs from 1 again
SELECT pg_catalog.pg_extension_config_dump('customer_tier.run_id_seq', '');

-- @routines
-- The advisory lock key of a program's runs: one lock per program name.
CREATE OR REPLACE FUNCTION customer_tier.run_lock_key(program text)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (pg_catalog.hashtext('customer_tier.reclassify')::bigint OPERATOR(pg_catalog.<<) 32)
       OPERATOR(pg_catalog.|) (pg_catalog.hashtext(program)::bigint OPERATOR(pg_catalog.&) 4294967295);
COMMENT ON FUNCTION customer_tier.run_lock_key(text) IS
    'the advisory lock key held while a program is reclassified';

-- Reclassify a program.  A procedure, so that it can commit between batches;
-- it therefore has no SET clause (PostgreSQL forbids transaction control
-- there) and qualifies every function and operator instead: it runs with its
-- caller's search_path (a superuser's, or a pg_cron job's), where a planted
-- public.format(text, name) would beat pg_catalog.format(text, VARIADIC
-- "any") on exact argument types.  test/scripts/roles_reclassify.sh plants
-- such overloads.
CREATE OR REPLACE PROCEDURE customer_tier.reclassify(program text, batch_size integer DEFAULT 10000,
                                          as_of timestamptz DEFAULT NULL)
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
    abc text;
    changes jsonb;
    rejected bigint;
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
    -- a program for historical data moves on to as_of; one that follows the
    -- clock cannot be scored at another instant than its writes are
    IF as_of IS NOT NULL AND prog.scoring_date IS NULL THEN
        RAISE EXCEPTION 'program "%" follows the clock: it cannot be reclassified as of %', program, as_of
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Its orders are scored as they come, against the time of each write.',
                  HINT = 'Leave as_of out; for historical orders, create a program with customer_tier.create_program(..., as_of => ...).';
    END IF;
    -- refused before the lock is taken: an infinite as_of, or one before the scoring date
    PERFORM customer_tier.check_scoring_date(as_of);
    IF as_of OPERATOR(pg_catalog.<) prog.scoring_date THEN
        PERFORM customer_tier.set_scoring_date(program, as_of);
    END IF;
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
    IF as_of IS NOT NULL THEN
        PERFORM customer_tier.set_scoring_date(program, as_of);
    END IF;
    COMMIT;

    -- Each step runs in a block of its own: an error is caught there, logged
    -- and committed, the lock released, and then raised again (a block with an
    -- exception handler cannot itself commit, but the loop around it can).
    BEGIN
        -- breakpoints stored, and the ABC classes of the whole population
        -- computed once, applied per batch: one read of the customers
        abc := customer_tier.refresh_population(program);
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
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure = MESSAGE_TEXT;
    END;
    IF failure IS NULL THEN
        COMMIT;
    END IF;

    WHILE failure IS NULL LOOP
        BEGIN
            -- the next batch: up to batch_size customers after lower_key
            EXECUTE pg_catalog.format($sql$
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

    -- the summaries' deltas of this run and of the writers since the last fold, folded
    PERFORM customer_tier.compact_summary(pg_catalog.format('%I.summary_deltas', prog.data_schema)::regclass, true);
    -- read first, then written: on a Citus cluster tier_history is
    -- distributed, and Citus refuses an UPDATE of the coordinator's run log
    -- that reads it in the same statement
    EXECUTE pg_catalog.format($sql$
        SELECT (SELECT pg_catalog.jsonb_object_agg(x.change, x.n)
                  FROM (SELECT coalesce(h.from_tier, 'new') OPERATOR(pg_catalog.||) '>'
                               OPERATOR(pg_catalog.||) h.to_tier AS change,
                               pg_catalog.count(*) AS n
                          FROM %1$I.tier_history AS h
                         WHERE h.source OPERATOR(pg_catalog.=) ('run ' OPERATOR(pg_catalog.||) $1::text)
                         GROUP BY 1) AS x),
               (SELECT pg_catalog.count(*) FROM %1$I.rejects)$sql$, prog.data_schema)
      INTO changes, rejected
      USING run_id;
    UPDATE customer_tier.run AS r
       SET outcome = 'succeeded', finished_at = pg_catalog.clock_timestamp(),
           customers = scored, batches = batch_count, tier_changes = changed,
           changes_by_tier = changes, rejects = rejected
     WHERE r.id OPERATOR(pg_catalog.=) run_id;
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
COMMENT ON PROCEDURE customer_tier.reclassify(text, integer, timestamptz) IS
    'recompute breakpoints and ABC classes, fit the program''s BG/NBD and Gamma-Gamma models, then rescore every customer in committed batches; logged in customer_tier.run';

REVOKE ALL ON PROCEDURE customer_tier.reclassify(text, integer, timestamptz) FROM PUBLIC;

-- Schedule a program's reclassification with pg_cron; returns the cron job id.
-- pg_cron runs a multi-statement command as one transaction, in which a
-- procedure cannot commit: the scheduled command is a lone CALL.
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
    IF NOT EXISTS (SELECT FROM pg_extension AS e WHERE e.extname = 'pg_cron') THEN
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
COMMENT ON FUNCTION customer_tier.schedule(text, text) IS
    'schedule CALL customer_tier.reclassify(program) with pg_cron (job name customer_tier_<program>); returns the job id';

-- Remove a program's pg_cron job; returns whether there was one.
CREATE OR REPLACE FUNCTION customer_tier.unschedule(program text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension AS e WHERE e.extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Nothing was scheduled through pg_cron here; remove the job from the scheduler that runs it.';
    END IF;
    EXECUTE 'SELECT pg_catalog.count(*) > 0 FROM cron.job AS j
              WHERE j.jobname = $1'
       INTO removed USING 'customer_tier_' || program;
    IF removed THEN
        EXECUTE 'SELECT cron.unschedule($1)' USING 'customer_tier_' || program;
    END IF;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION customer_tier.unschedule(text) IS
    'remove the pg_cron job of a program; returns whether there was one';

REVOKE ALL ON FUNCTION customer_tier.schedule(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.unschedule(text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.run_lock_key(text) FROM PUBLIC;
-- @end

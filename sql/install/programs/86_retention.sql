-- customer_tier install script, part 86: retention (docs/data-protection.md).
--
-- How long a program keeps its tier history, its contact log (the table
-- <schema>.contacts, where a program has one), its runs in customer_tier.run
-- and its rejects.  A program without a row in customer_tier.retention has
-- the defaults (customer_tier.retention_of() and the view
-- customer_tier.retention_policy show what applies); customer_tier.purge()
-- deletes what is older, and the reclassification run calls it when it ends.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

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

-- @routines
-- The retention that applies to a program: its row, or the defaults.
CREATE OR REPLACE FUNCTION customer_tier.retention_of(program text)
RETURNS customer_tier.retention
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r customer_tier.retention;
BEGIN
    PERFORM customer_tier.program_row(program);
    SELECT * INTO r FROM customer_tier.retention AS t WHERE t.program = retention_of.program;
    IF NOT FOUND THEN
        r := ROW(program, '2 years', '2 years', '1 year', '90 days', NULL, NULL)::customer_tier.retention;
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION customer_tier.retention_of(text) IS
    'the retention periods that apply to a program: its settings, or the defaults (changed_at NULL)';
-- @end

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

-- @routines
-- Change some of a program's retention periods: settings is an object of
-- {"tier_history" | "contacts" | "runs" | "rejects": "interval" or null}.
-- Keys left out keep their value.  Returns the settings now in force.
CREATE OR REPLACE FUNCTION customer_tier.set_retention(program text, settings jsonb)
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
    IF jsonb_typeof(settings) <> 'object' THEN
        RAISE EXCEPTION 'retention settings must be a JSON object, not %', jsonb_typeof(settings)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass for example ''{"tier_history": "3 years", "rejects": "30 days"}''.';
    END IF;
    FOR item IN SELECT j.key, j.value FROM jsonb_each(settings) AS j ORDER BY j.key LOOP
        IF item.key <> ALL ('{tier_history,contacts,runs,rejects}'::text[]) THEN
            RAISE EXCEPTION 'unknown retention setting "%"', item.key
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The settings are tier_history, contacts, runs and rejects.';
        END IF;
        IF jsonb_typeof(item.value) = 'null' THEN
            period := NULL;
        ELSIF jsonb_typeof(item.value) <> 'string' THEN
            RAISE EXCEPTION 'retention setting "%" must be an interval string or null, not %', item.key, item.value
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass a period such as "2 years" or "90 days", or null to keep the data forever.';
        ELSE
            BEGIN
                period := (item.value ->> 0)::interval;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION 'retention setting "%" is not an interval: %', item.key, item.value
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Pass a period such as "2 years" or "90 days", or null to keep the data forever.';
            END;
            IF period <= '0' THEN
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

-- Delete the rows of a program's table tbl (in its schema s) whose time
-- column col is older than keep; NULL keeps them all.  Returns how many went.
-- The tier history, the contact log and the rejects are purged alike.
CREATE OR REPLACE FUNCTION customer_tier.purge_older(s name, tbl name, col name, keep interval)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint := 0;
BEGIN
    IF keep IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.%I AS x WHERE x.%I < (pg_catalog.now() - $1)', s, tbl, col) USING keep;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.purge_older(name, name, name, interval) IS
    'delete the rows of a program''s table older than a retention period (NULL: none); returns how many';

-- Delete what a program keeps longer than its retention says.  Returns the
-- rows deleted per kind.  Runs still marked running are never deleted.
CREATE OR REPLACE FUNCTION customer_tier.purge(program text)
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
    prog := customer_tier.named_program_row(program);
    r := customer_tier.retention_of(program);

    result := result || jsonb_build_object('tier_history',
        customer_tier.purge_older(prog.data_schema, 'tier_history', 'changed_at', r.tier_history));

    -- the change feed follows the tier history; a consumer whose untaken
    -- events go is stopped until reset (consume_events)
    n := 0;
    IF r.tier_history IS NOT NULL THEN
        EXECUTE format($sql$
            WITH gone AS (
                SELECT e.id FROM %1$I.events AS e
                 WHERE e.happened_at < (pg_catalog.now() - $1)
            ), missed AS (
                UPDATE %1$I.event_consumers AS c
                   SET missed_before = greatest(c.missed_before, x.newest + 1)
                  FROM (SELECT d.consumer, pg_catalog.max(d.event_id) AS newest
                          FROM %1$I.event_deliveries AS d JOIN gone AS g ON g.id = d.event_id
                         GROUP BY d.consumer) AS x
                 WHERE c.name = x.consumer
            )
            DELETE FROM %1$I.events AS e USING gone AS g WHERE e.id = g.id$sql$,
            prog.data_schema) USING r.tier_history;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result || jsonb_build_object('events', n);

    result := result || jsonb_build_object('contacts',
        customer_tier.purge_older(prog.data_schema, 'contacts', 'contacted_at', r.contacts));

    n := 0;
    IF r.runs IS NOT NULL THEN
        DELETE FROM customer_tier.run AS x
         WHERE x.program = purge.program
           AND x.outcome <> 'running'
           AND x.finished_at < (now() - r.runs);
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result || jsonb_build_object('runs', n);

    result := result || jsonb_build_object('rejects',
        customer_tier.purge_older(prog.data_schema, 'rejects', 'rejected_at', r.rejects));
    RETURN result;
END
$$;
COMMENT ON FUNCTION customer_tier.purge(text) IS
    'delete a program''s tier history, change feed events, contact log, runs and rejects older than its retention; returns rows deleted per kind';

REVOKE ALL ON FUNCTION customer_tier.set_retention(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.purge(text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.retention_of(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.purge_older(name, name, name, interval) FROM PUBLIC;
-- @end

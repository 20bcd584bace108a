-- customer_tier install script, part 69: the instant a program scores
-- against (docs/programs.md, "Historical data").
--
-- A program follows the clock: each transaction scores against its own
-- start, so recency, lifecycle stages, churn flags, predictions and
-- follow-ups move on as days pass.  An analyst who loads last year's orders
-- wants them measured at the end of last year instead: create_program's
-- as_of gives the program a fixed scoring date, which the trigger path
-- (ProgramAsOf, src/programs/program_config.c), the runs, the tier history and the
-- views all read; reclassify's as_of moves it on and rescores.  A
-- program's clock never goes back: tier_since, pending downgrades and the
-- tier history were all written at or before the instant it scores against.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- A scoring date must be finite (NULL is the clock).
CREATE OR REPLACE FUNCTION customer_tier.check_scoring_date(as_of timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT isfinite(as_of) THEN
        RAISE EXCEPTION 'as_of must be finite, not %', as_of
            USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Pass the instant to score against, such as the end of the period the orders cover; leave it out to follow the clock.';
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.check_scoring_date(timestamptz) IS
    'raises invalid_parameter_value unless a scoring date is finite or NULL';

-- The instant a program scores against: its scoring date, else now().
CREATE OR REPLACE FUNCTION customer_tier.program_as_of(program text)
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT coalesce(p.scoring_date, pg_catalog.now())
      FROM customer_tier.program AS p
     WHERE p.name = program_as_of.program;
END;
COMMENT ON FUNCTION customer_tier.program_as_of(text) IS
    'the instant a program scores against: its scoring date, or now() when it follows the clock';

-- Give a program a fixed scoring date, move it on, or (NULL) let the program
-- follow the clock again.  Changes of orders are scored against it at once;
-- the next run rescores everyone (reclassify's as_of does both).
CREATE OR REPLACE FUNCTION customer_tier.set_scoring_date(program text, as_of timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    current_as_of timestamptz;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM customer_tier.check_scoring_date(as_of);
    prog := customer_tier.program_row(program);
    current_as_of := coalesce(prog.scoring_date, now());
    IF coalesce(as_of, now()) < current_as_of THEN
        RAISE EXCEPTION 'program "%" scores against %; its clock cannot go back to %', program,
                        coalesce(prog.scoring_date::text, 'the clock'), coalesce(as_of::text, 'now()')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Tier changes, pending downgrades and the tier history were recorded at instants up to the current scoring date.',
                  HINT = CASE WHEN prog.scoring_date IS NULL
                              THEN 'For historical orders, create a program with customer_tier.create_program(..., as_of => ...).'
                              ELSE 'Pass a later instant; to score the same orders at an earlier date, create another program with that as_of.' END;
    END IF;
    UPDATE customer_tier.program AS p SET scoring_date = as_of WHERE p.name = program;
    RETURN coalesce(as_of, now());
END
$$;
COMMENT ON FUNCTION customer_tier.set_scoring_date(text, timestamptz) IS
    'give a program a fixed scoring date, move it on, or (NULL) let it follow the clock; never back in time; the next run rescores everyone';

REVOKE ALL ON FUNCTION customer_tier.check_scoring_date(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_as_of(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.set_scoring_date(text, timestamptz) FROM PUBLIC;
-- @end

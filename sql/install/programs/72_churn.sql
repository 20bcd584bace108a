-- customer_tier install script, part 72: churn flags, lifecycle stages and
-- the per-program BG/NBD and Gamma-Gamma models (docs/churn.md).
--
-- The rules live in C (churn_assess), called by the one scoring path
-- (ScoreStoredCustomer) for the customers a trigger touched and for everyone
-- in a run; the thresholds are one row per program in churn_settings; the
-- models are fitted by each reclassification run and kept in program_model.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

CREATE TABLE customer_tier.churn_settings (
    program                text PRIMARY KEY REFERENCES customer_tier.program (name)
                           ON DELETE CASCADE ON UPDATE CASCADE,
    silent_gap_factor      double precision NOT NULL DEFAULT 3
                           CONSTRAINT churn_silent_gap_factor CHECK (silent_gap_factor >= 0 AND silent_gap_factor < 'Infinity'),
    silent_floor_days      double precision NOT NULL DEFAULT 60
                           CONSTRAINT churn_silent_floor_days CHECK (silent_floor_days >= 0 AND silent_floor_days < 'Infinity'),
    frequency_window_days  double precision NOT NULL DEFAULT 90
                           CONSTRAINT churn_frequency_window_days CHECK (frequency_window_days >= 1 AND frequency_window_days <= 36525 AND frequency_window_days = pg_catalog.trunc(frequency_window_days)),
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
COMMENT ON COLUMN customer_tier.churn_settings.frequency_window_days IS 'flag frequency_falling: length in whole UTC days of the recent window and of the window before it (default 90)';
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

-- @routines
-- A program's settings in the order churn_assess reads them.  Not STRICT, so
-- that PostgreSQL inlines it into the scoring statement (a strict SQL
-- function whose body is not strict is called, and planned, at every
-- trigger statement); its one caller never passes NULL.
CREATE OR REPLACE FUNCTION customer_tier.churn_settings_array(s customer_tier.churn_settings)
RETURNS double precision[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY[s.silent_gap_factor, s.silent_floor_days, s.frequency_window_days, s.frequency_drop_ratio,
             s.frequency_min_previous, s.p_alive_below, s.satisfaction_below, s.new_days,
             s.lapsed_days, s.lost_days, s.lost_p_alive_below, s.won_back_days,
             s.clv_horizon_weeks, s.clv_discount_rate, s.clv_margin]::double precision[];
COMMENT ON FUNCTION customer_tier.churn_settings_array(customer_tier.churn_settings) IS
    'a program''s churn settings compiled for churn_assess, in column order';

-- The days of order counts a program's stored states keep: the recent
-- frequency window and the one before it (0 for a program without settings).
CREATE OR REPLACE FUNCTION customer_tier.program_state_horizon(program text)
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT 2 * s.frequency_window_days::integer FROM customer_tier.churn_settings AS s
                  WHERE s.program = program_state_horizon.program), 0);
COMMENT ON FUNCTION customer_tier.program_state_horizon(text) IS
    'days of order counts a program''s stored states keep: twice frequency_window_days';
REVOKE ALL ON FUNCTION customer_tier.program_state_horizon(text) FROM PUBLIC;
-- @end

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

-- @routines
CREATE OR REPLACE FUNCTION customer_tier.churn_assess(settings double precision[], bg customer_tier.bgnbd_model,
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

CREATE OR REPLACE FUNCTION customer_tier.btyd_summary(purchases customer_tier.order_stats_state, monetary numeric,
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
--
-- Bounded cost: a fit that does not converge runs every iteration of every
-- starting point over every distinct summary, minutes for 200,000 customers
-- with continuous spend.  So the fit reads a sample of about 20,000
-- customers (the same pages every run, REPEATABLE), plenty
-- for four or three parameters, and Gamma-Gamma reads the mean spend on a
-- grid of 50 steps a decade (at most 2.3% off, half that on average), so
-- that identical summaries group (models.md).
CREATE OR REPLACE FUNCTION customer_tier.fit_program_model(program text, run bigint DEFAULT NULL)
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
    bg_detail text;
    gg_detail text;
    bg_hint text;
    gg_hint text;
    note text;
    population bigint;
    sample text;
    -- the sample's summaries (btyd_summary), column by column
    xs integer[];
    t_xs double precision[];
    ts double precision[];
    order_counts integer[];
    mean_spends double precision[];
BEGIN
    prog := customer_tier.program_row(program);
    -- About 20,000 customers are enough for both fits.  A large program is
    -- sampled by pages (TABLESAMPLE SYSTEM), which reads only the pages it
    -- takes: a filter on every row read the whole table, 885 ms of the
    -- 928 ms of a fit on 200,000 customers (docs/performance.md).  Its size
    -- is the planner's estimate when that is large, counted otherwise.
    SELECT c.reltuples::bigint INTO population FROM pg_class AS c
     WHERE c.oid = format('%I.customers', prog.data_schema)::regclass;
    IF population < 100000 THEN
        EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', prog.data_schema) INTO population;
    END IF;
    IF population > 20000 THEN
        sample := format('TABLESAMPLE SYSTEM (%s) REPEATABLE (0)', 100.0 * 20000 / population);
    ELSE
        sample := '';
    END IF;
    -- the sample's summaries, read once for both fits
    EXECUTE format($sql$
        SELECT pg_catalog.array_agg(s.x), pg_catalog.array_agg(s.t_x), pg_catalog.array_agg(s.t),
               pg_catalog.array_agg(s.orders), pg_catalog.array_agg(s.mean_spend)
          FROM %I.customers AS c %s,
               LATERAL customer_tier.btyd_summary(c.purchases, c.monetary, %L::timestamptz) AS s$sql$,
        prog.data_schema, sample, customer_tier.program_as_of(prog.name))
      INTO xs, t_xs, ts, order_counts, mean_spends;
    BEGIN
        SELECT (f.model).* INTO bg
          FROM (SELECT customer_tier.bgnbd_fit(u.x, u.t_x, u.t) AS model
                  FROM ROWS FROM (pg_catalog.unnest(xs), pg_catalog.unnest(t_xs), pg_catalog.unnest(ts)) AS u(x, t_x, t)) AS f;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS bg_problem = MESSAGE_TEXT, bg_detail = PG_EXCEPTION_DETAIL,
                                bg_hint = PG_EXCEPTION_HINT;
        bg := NULL;
    END;
    BEGIN
        SELECT (f.model).* INTO gg
          FROM (SELECT customer_tier.gamma_gamma_fit(u.orders,
                           10 ^ (pg_catalog.round(50 * pg_catalog.log(u.mean_spend)) / 50)) AS model
                  FROM ROWS FROM (pg_catalog.unnest(order_counts), pg_catalog.unnest(mean_spends)) AS u(orders, mean_spend)) AS f;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS gg_problem = MESSAGE_TEXT, gg_detail = PG_EXCEPTION_DETAIL,
                                gg_hint = PG_EXCEPTION_HINT;
        gg := NULL;
    END;
    -- the fit's own message and detail ("Parameter b ran off towards infinity ...")
    note := nullif(concat_ws('; ',
                             'bg/nbd: ' || bg_problem || coalesce(': ' || nullif(rtrim(bg_detail, '.'), ''), '')
                                 || ' (previous model kept)',
                             'gamma-gamma: ' || gg_problem || coalesce(': ' || nullif(rtrim(gg_detail, '.'), ''), '')
                                 || ' (previous model kept)'), '');
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
                  HINT = concat_ws(' ', nullif(bg_hint, ''), CASE WHEN gg_hint IS DISTINCT FROM bg_hint THEN nullif(gg_hint, '') END,
                                   'Scoring goes on with the previous model, or without p_alive and CLV if there is none; the next run tries again.');
    END IF;
    RETURN note;
END
$$;
COMMENT ON FUNCTION customer_tier.fit_program_model(text, bigint) IS
    'fit a program''s BG/NBD and Gamma-Gamma models over its customers (weeks) and store them; a failed fit keeps the previous model and is reported, never raised';

-- Change some of a program's churn thresholds and rescore its customers.
-- rules is a JSON object of churn_settings columns, e.g. {"lapsed_days": 120};
-- keys left out keep their value.  Returns the whole settings as JSON.
CREATE OR REPLACE FUNCTION customer_tier.set_churn_rules(program text, rules jsonb)
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
    old_window numeric;
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
    old_window := (cur ->> 'frequency_window_days')::numeric;
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
        IF key = 'frequency_window_days' AND NOT (num >= 1 AND num <= 36525 AND num = trunc(num)) THEN
            RAISE EXCEPTION 'churn rule frequency_window_days must be a whole number of days from 1 to 36525, not %', num
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The windows are counted in whole UTC days, e.g. 90.';
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
    -- the stored states keep the day counts of two windows: a new width needs them again
    IF (cur ->> 'frequency_window_days')::numeric IS DISTINCT FROM old_window THEN
        PERFORM customer_tier.rebuild_program(prog.name);
    END IF;
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
-- @end

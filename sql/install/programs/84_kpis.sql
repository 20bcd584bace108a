-- customer_tier install script, part 84: satisfaction and KPIs per tier and
-- period (docs/kpis.md).
--
-- Both group customers by their tier at the start of each period, read off
-- tier_history (the tier of the customer's latest change recorded before
-- the period start): a period's figures are about the customers each tier
-- had when it began.  Periods are date_trunc units in the session's TimeZone.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- The periods [period_start, period_end) of a date_trunc unit that start
-- from date_trunc(unit, from_date) up to, not including, to_date: by default
-- the last twelve up to as_of (now by default), its period included.
CREATE OR REPLACE FUNCTION customer_tier.kpi_periods(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                          to_date timestamptz DEFAULT NULL, as_of timestamptz DEFAULT NULL)
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
    IF NOT unit = ANY (units) THEN
        RAISE EXCEPTION 'invalid period unit "%"', unit
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A period is a unit of date_trunc.',
                  HINT = format('Use one of: %s.', array_to_string(units, ', '));
    END IF;
    step := CASE unit WHEN 'microseconds' THEN interval '1 microsecond'
                      WHEN 'milliseconds' THEN interval '1 millisecond'
                      WHEN 'quarter' THEN interval '3 months'
                      ELSE ('1 ' || unit)::interval END;
    IF NOT isfinite(coalesce(to_date, 'now')) OR NOT isfinite(coalesce(from_date, 'now')) THEN
        RAISE EXCEPTION 'from_date and to_date must be finite'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass two times, or leave them out for the last twelve periods.';
    END IF;
    BEGIN
        -- by default up to the end of the current period, so that it is included
        last := coalesce(to_date, date_trunc(unit, coalesce(as_of, pg_catalog.now())) + step);
        -- by default the twelve periods that start before last
        first := coalesce(date_trunc(unit, from_date),
                          date_trunc(unit, last - interval '1 microsecond')
                              - (step * 11));
        IF first >= last THEN
            RAISE EXCEPTION 'from_date (%) must be before to_date (%)', from_date, last
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The periods are those that start from the start of the period of from_date up to, not including, to_date.',
                      HINT = 'Pass an earlier from_date or a later to_date.';
        END IF;
        -- generate_series materializes its whole result: estimate first (a
        -- month as 30 days, a year as 365.25), count exactly only when small
        IF date_part('epoch', last - first) / date_part('epoch', step)
           > 1100 THEN
            n := 1001;
        ELSE
            SELECT count(*) INTO n
              FROM generate_series(first, last, step) AS g (s) WHERE g.s < last;
        END IF;
        IF n > 1000 THEN
            RAISE EXCEPTION 'too many periods: more than 1000 of unit % from % to %', unit, first, last
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Choose a larger unit or a shorter range.';
        END IF;
        -- the end of the last period must be a timestamp too: inside the block
        RETURN QUERY
        SELECT g.s, g.s + step FROM generate_series(first, last, step) AS g (s)
         WHERE g.s < last ORDER BY 1;
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'periods of unit % around % and % fall outside the range of timestamps', unit,
                        coalesce(from_date::text, 'the default start'), coalesce(to_date::text, 'now')
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'Choose a smaller unit, or times further from the ends of the timestamp range (4713 BC to 294276 AD).';
    END;
END
$$;
COMMENT ON FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz, timestamptz) IS
    'the periods of a date_trunc unit starting from the period of from_date up to, not including, to_date (default: the last twelve up to as_of, now by default); at most 1000';

-- SQL text of the CTEs shared by satisfaction_by_tier and kpis: periods,
-- cohort (period_start, customer, tier at period start) and newcomers.
CREATE OR REPLACE FUNCTION customer_tier.kpi_cohort_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$periods AS (
                SELECT p.period_start, p.period_end
                  FROM customer_tier.kpi_periods(unit, from_date, to_date, customer_tier.program_as_of(%2$L)) AS p
            ), cohort AS (
                SELECT p.period_start, p.period_end, h.customer, h.to_tier AS tier
                  FROM periods AS p
                 CROSS JOIN LATERAL (SELECT DISTINCT ON (x.customer) x.customer, x.to_tier
                                       FROM %1$I.tier_history AS x
                                      WHERE x.changed_at < p.period_start
                                      ORDER BY x.customer, x.changed_at DESC, x.id DESC) AS h
                 WHERE h.to_tier IS NOT NULL
                UNION ALL
                -- customers who had bought before the period but whose tier then
                -- is not in the history (the program came later): tier unknown
                SELECT p.period_start, p.period_end, c.customer, '(unknown)'
                  FROM periods AS p
                  JOIN %1$I.customers AS c ON c.first_order < p.period_start
                 WHERE NOT EXISTS (SELECT FROM %1$I.tier_history AS x
                                    WHERE x.customer = c.customer AND x.changed_at < p.period_start)
            ), newcomers AS (
                SELECT p.period_start, h.to_tier AS tier, count(DISTINCT h.customer) AS customers
                  FROM periods AS p
                  JOIN %1$I.tier_history AS h
                    ON h.from_tier IS NULL AND h.to_tier IS NOT NULL
                   AND h.changed_at >= p.period_start AND h.changed_at < p.period_end
                 GROUP BY p.period_start, h.to_tier
            )$sql$, prog.data_schema, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) IS
    'SQL text of the periods, the customers of each tier at each period start, and the newcomers, for satisfaction_by_tier and kpis';

-- SQL text of the CTEs sat (per period and tier, the cohort's customers,
-- respondents and answers given in the period) and keys (every period with
-- every tier of the program, of a cohort or of the newcomers).  The answers
-- are matched to their period first, so that each is joined to one cohort
-- row at most; the cohorts' tiers are read off sat, which is small.
CREATE OR REPLACE FUNCTION customer_tier.kpi_satisfaction_sql(prog customer_tier.program)
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
CREATE OR REPLACE FUNCTION customer_tier.create_kpi_functions(prog customer_tier.program)
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

    -- Reads the orders table, which the reader may not: runs as
    -- customer_tier_owner (granted SELECT on it by create_program) and
    -- returns aggregates only.  row_security = off: a policy on the table
    -- would run its owner's functions with customer_tier_owner's rights, so
    -- such a table makes kpis fail instead.  Over orders distributed by
    -- Citus it runs with its caller's rights instead: Citus reads the shards
    -- over connections of the current role, and customer_tier_owner cannot
    -- log in (docs/citus.md, "Views"); the caller then needs SELECT on the
    -- orders.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.kpis(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                  to_date timestamptz DEFAULT NULL)
        RETURNS TABLE (period_start timestamptz, period_end timestamptz, tier text, tier_rank integer,
                       customers_at_start bigint, new_customers bigint, retained bigint, churned bigint,
                       retention_rate double precision, churn_rate double precision,
                       repeat_customers bigint, repeat_purchase_rate double precision,
                       orders bigint, revenue numeric,
                       nps double precision, csat double precision, answers bigint, response_rate double precision)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE %9$s ROWS 100
        SET search_path = pg_catalog, pg_temp
        SET jit = off
        SET row_security = off
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
        customer_tier.kpi_satisfaction_sql(prog),
        CASE WHEN customer_tier.citus_table_kind(prog.orders_table) = 'distributed' THEN 'SECURITY INVOKER'
             ELSE 'SECURITY DEFINER' END);
    EXECUTE format('COMMENT ON FUNCTION %I.kpis(text, timestamptz, timestamptz) IS %L', s,
                   format('program %s: per period (a date_trunc unit, month by default) and tier at period start: customers, new customers, retained, churned, retention, churn and repeat-purchase rates, orders, revenue, NPS, CSAT, response rate (docs/kpis.md)',
                          prog.name));
END
$$;
COMMENT ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) IS
    'create a program''s satisfaction_by_tier and kpis functions';

REVOKE ALL ON FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.kpi_satisfaction_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) FROM PUBLIC;
-- @end

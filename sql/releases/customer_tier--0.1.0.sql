-- customer_tier install script, part 00: the schema and its guard.
-- The install script is concatenated from sql/install/NN_*.sql in name order.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- A schema created in advance by another role could hold hostile objects that
-- our own SQL would then resolve (the attack class of CVE-2022-2625): refuse it.
DO $guard$
BEGIN
    IF (SELECT n.nspowner OPERATOR(pg_catalog.<>) u.oid
          FROM pg_catalog.pg_namespace n, pg_catalog.pg_roles u
         WHERE n.nspname OPERATOR(pg_catalog.=) 'customer_tier'
           AND u.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RAISE EXCEPTION 'schema "customer_tier" is owned by another role'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'CREATE EXTENSION customer_tier would place its objects in a schema that another role controls.',
                  HINT = 'Drop the schema, or have its owner create the extension.';
    END IF;
END
$guard$;

COMMENT ON SCHEMA customer_tier IS
    'customer_tier: customer value scores, tiers, churn flags and satisfaction';

-- The building blocks are pure functions and aggregates: anyone may use them.
GRANT USAGE ON SCHEMA customer_tier TO PUBLIC;
-- customer_tier install script, part 10: the order_stats metrics aggregate.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- The result of customer_tier.order_stats(ordered_at, amount).
CREATE TYPE customer_tier.order_stats AS (
    orders          bigint,
    monetary        numeric,
    first_order     timestamptz,
    last_order      timestamptz,
    mean_gap_days   double precision,
    gap_stddev_days double precision
);
COMMENT ON TYPE customer_tier.order_stats IS
    'Purchase metrics of one group of orders: count, exact monetary total, first and last order, mean and spread of the gaps between orders';
COMMENT ON COLUMN customer_tier.order_stats.orders IS
    'Number of orders counted (rows whose time and amount are both not NULL)';
COMMENT ON COLUMN customer_tier.order_stats.monetary IS
    'Exact sum of the amounts (equals sum(amount) to the last digit; refunds count negative)';
COMMENT ON COLUMN customer_tier.order_stats.first_order IS
    'Time of the earliest order';
COMMENT ON COLUMN customer_tier.order_stats.last_order IS
    'Time of the latest order';
COMMENT ON COLUMN customer_tier.order_stats.mean_gap_days IS
    'Mean gap in days between consecutive orders in time order; NULL with fewer than 2 orders';
COMMENT ON COLUMN customer_tier.order_stats.gap_stddev_days IS
    'Sample standard deviation in days of the gaps between consecutive orders; NULL with fewer than 3 orders';

-- The aggregate's state: a real type with text input and output, so that
-- parallel query and Citus can ship partial states.
CREATE TYPE customer_tier.order_stats_state;

CREATE FUNCTION customer_tier.order_stats_state_in(cstring)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_in(cstring) IS
    'Input function of order_stats_state: reads and validates the versioned text form';

CREATE FUNCTION customer_tier.order_stats_state_out(customer_tier.order_stats_state)
    RETURNS cstring
    AS 'MODULE_PATHNAME', 'order_stats_state_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_out(customer_tier.order_stats_state) IS
    'Output function of order_stats_state: the versioned text form (v1)';

CREATE FUNCTION customer_tier.order_stats_state_recv(internal)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_recv(internal) IS
    'Binary input function of order_stats_state: reads and validates the versioned binary form';

CREATE FUNCTION customer_tier.order_stats_state_send(customer_tier.order_stats_state)
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'order_stats_state_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_send(customer_tier.order_stats_state) IS
    'Binary output function of order_stats_state: the versioned binary form (v1)';

CREATE TYPE customer_tier.order_stats_state (
    INPUT = customer_tier.order_stats_state_in,
    OUTPUT = customer_tier.order_stats_state_out,
    RECEIVE = customer_tier.order_stats_state_recv,
    SEND = customer_tier.order_stats_state_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE customer_tier.order_stats_state IS
    'Partial state of customer_tier.order_stats: order times, time type and exact total; text form v1;time=...;orders=N;monetary=TOTAL;times=...';

CREATE FUNCTION customer_tier.order_stats_combine(customer_tier.order_stats_state, customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_combine'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_combine(customer_tier.order_stats_state, customer_tier.order_stats_state) IS
    'Combine function of order_stats: merges two partial states (aggregate use only)';

-- STABLE: timestamp and date order times become timestamptz in the session time zone.
CREATE FUNCTION customer_tier.order_stats_final(customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats
    AS 'MODULE_PATHNAME', 'order_stats_final'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_final(customer_tier.order_stats_state) IS
    'Final function of order_stats: computes the result row from a state';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, numeric)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_tz_numeric'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, numeric) IS
    'Transition function of order_stats for timestamptz times and numeric amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamptz, amount numeric) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamptz, numeric) IS
    'Purchase metrics of the orders (ordered_at timestamptz, amount numeric): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, bigint)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_tz_int8'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, bigint) IS
    'Transition function of order_stats for timestamptz times and bigint amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamptz, amount bigint) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamptz, bigint) IS
    'Purchase metrics of the orders (ordered_at timestamptz, amount bigint): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, integer)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_tz_int4'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, integer) IS
    'Transition function of order_stats for timestamptz times and integer amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamptz, amount integer) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamptz, integer) IS
    'Purchase metrics of the orders (ordered_at timestamptz, amount integer): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, double precision)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_tz_float8'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, double precision) IS
    'Transition function of order_stats for timestamptz times and double precision amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamptz, amount double precision) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamptz, double precision) IS
    'Purchase metrics of the orders (ordered_at timestamptz, amount double precision): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, money)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_tz_money'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamptz, money) IS
    'Transition function of order_stats for timestamptz times and money amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamptz, amount money) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamptz, money) IS
    'Purchase metrics of the orders (ordered_at timestamptz, amount money): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, numeric)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_ts_numeric'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, numeric) IS
    'Transition function of order_stats for timestamp times and numeric amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamp, amount numeric) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamp, numeric) IS
    'Purchase metrics of the orders (ordered_at timestamp, amount numeric): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, bigint)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_ts_int8'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, bigint) IS
    'Transition function of order_stats for timestamp times and bigint amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamp, amount bigint) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamp, bigint) IS
    'Purchase metrics of the orders (ordered_at timestamp, amount bigint): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, integer)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_ts_int4'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, integer) IS
    'Transition function of order_stats for timestamp times and integer amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamp, amount integer) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamp, integer) IS
    'Purchase metrics of the orders (ordered_at timestamp, amount integer): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, double precision)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_ts_float8'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, double precision) IS
    'Transition function of order_stats for timestamp times and double precision amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamp, amount double precision) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamp, double precision) IS
    'Purchase metrics of the orders (ordered_at timestamp, amount double precision): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, money)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_ts_money'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, timestamp, money) IS
    'Transition function of order_stats for timestamp times and money amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at timestamp, amount money) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(timestamp, money) IS
    'Purchase metrics of the orders (ordered_at timestamp, amount money): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, numeric)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_date_numeric'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, numeric) IS
    'Transition function of order_stats for date times and numeric amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at date, amount numeric) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(date, numeric) IS
    'Purchase metrics of the orders (ordered_at date, amount numeric): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, bigint)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_date_int8'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, bigint) IS
    'Transition function of order_stats for date times and bigint amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at date, amount bigint) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(date, bigint) IS
    'Purchase metrics of the orders (ordered_at date, amount bigint): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, integer)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_date_int4'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, integer) IS
    'Transition function of order_stats for date times and integer amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at date, amount integer) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(date, integer) IS
    'Purchase metrics of the orders (ordered_at date, amount integer): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, double precision)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_date_float8'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, double precision) IS
    'Transition function of order_stats for date times and double precision amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at date, amount double precision) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(date, double precision) IS
    'Purchase metrics of the orders (ordered_at date, amount double precision): count, exact monetary total, first/last order, gap mean and spread';

CREATE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, money)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_trans_date_money'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, date, money) IS
    'Transition function of order_stats for date times and money amounts (aggregate use only)';

CREATE AGGREGATE customer_tier.order_stats(ordered_at date, amount money) (
    SFUNC = customer_tier.order_stats_transfn,
    STYPE = customer_tier.order_stats_state,
    FINALFUNC = customer_tier.order_stats_final,
    COMBINEFUNC = customer_tier.order_stats_combine,
    SSPACE = 288,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.order_stats(date, money) IS
    'Purchase metrics of the orders (ordered_at date, amount money): count, exact monetary total, first/last order, gap mean and spread';

-- Days since the last order and since the first, as of a given instant.
CREATE FUNCTION customer_tier.recency_days(stats customer_tier.order_stats, as_of timestamptz)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (pg_catalog.extract('epoch', as_of OPERATOR(pg_catalog.-) (stats).last_order)
            OPERATOR(pg_catalog./) 86400)::double precision;
COMMENT ON FUNCTION customer_tier.recency_days(customer_tier.order_stats, timestamptz) IS
    'Days (fractional) from the last order to as_of; negative if as_of is before the last order';

CREATE FUNCTION customer_tier.tenure_days(stats customer_tier.order_stats, as_of timestamptz)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (pg_catalog.extract('epoch', as_of OPERATOR(pg_catalog.-) (stats).first_order)
            OPERATOR(pg_catalog./) 86400)::double precision;
COMMENT ON FUNCTION customer_tier.tenure_days(customer_tier.order_stats, timestamptz) IS
    'Days (fractional) from the first order to as_of; negative if as_of is before the first order';
-- customer_tier install script, part 20: scoring building blocks —
-- quantile breakpoints, scores, RFM segments and the value score.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- breakpoints(value, n): the state is a plain double precision[] holding n
-- first and then every non-NULL value, so partial states travel as text.
CREATE FUNCTION customer_tier.breakpoints_accum(double precision[], double precision, integer)
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'breakpoints_accum'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.breakpoints_accum(double precision[], double precision, integer) IS
    'transition function of breakpoints(): appends a finite value to the state {n, values...}';

CREATE FUNCTION customer_tier.breakpoints_combine(double precision[], double precision[])
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'breakpoints_combine'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.breakpoints_combine(double precision[], double precision[]) IS
    'combine function of breakpoints(): concatenates two states with the same number of quantiles';

CREATE FUNCTION customer_tier.breakpoints_final(double precision[])
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'breakpoints_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.breakpoints_final(double precision[]) IS
    'final function of breakpoints(): the n-1 cut points at k/n, interpolated as percentile_cont does';

CREATE AGGREGATE customer_tier.breakpoints(value double precision, n integer) (
    SFUNC = customer_tier.breakpoints_accum,
    STYPE = double precision[],
    COMBINEFUNC = customer_tier.breakpoints_combine,
    FINALFUNC = customer_tier.breakpoints_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.breakpoints(double precision, integer) IS
    'the n-1 quantile cut points of a population (n = 5 for quintiles), as percentile_cont at k/n; NULL values skipped';

CREATE FUNCTION customer_tier.score(value double precision, breakpoints double precision[],
                                    higher_is_better boolean DEFAULT true)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'score'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.score(double precision, double precision[], boolean) IS
    'score 1..n of a value against n-1 breakpoints: 1 + breakpoints strictly below it (higher is better) or strictly above it (lower is better, e.g. recency in days)';

CREATE FUNCTION customer_tier.rfm_segment(r integer, f integer, m integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'rfm_segment'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.rfm_segment(integer, integer, integer) IS
    'RFM segment name (Champions ... Lost) from R, F and M scores on 1..5, by R and FM = ceil((F+M)/2)';

CREATE FUNCTION customer_tier.rfm_segments(
        OUT segment text, OUT rank integer, OUT description text, OUT action text)
    RETURNS SETOF record
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    ROWS 11
    AS $$
    VALUES
    ('Champions',          1, 'Bought recently, buy often and spend the most.',
                              'Reward them; ask for reviews and referrals; offer early access.'),
    ('Loyal',              2, 'Buy regularly and spend well; responsive to offers.',
                              'Upsell higher-value products; enrol in the loyalty programme.'),
    ('Potential Loyalist', 3, 'Recent customers with average frequency and spend.',
                              'Offer membership or a loyalty programme; recommend related products.'),
    ('New',                4, 'Bought very recently, but only little so far.',
                              'Onboard them well; give early support and a reason to return.'),
    ('Promising',          5, 'Recent shoppers who have not spent much yet.',
                              'Build brand awareness; offer free trials or samples.'),
    ('Need Attention',     6, 'Middling recency, frequency and spend.',
                              'Make limited-time offers based on past purchases; reactivate them.'),
    ('About to Sleep',     7, 'Below-average recency and low frequency and spend.',
                              'Share popular products and discounts; reconnect before they drift away.'),
    ('At Risk',            8, 'Used to buy often and spend well, but not for a long time.',
                              'Send personalised win-back messages and renewal offers.'),
    ('Can''t Lose Them',   9, 'Were among the best customers, but have not returned for a long time.',
                              'Win them back with a personal call or visit; find out what went wrong.'),
    ('Hibernating',       10, 'Last purchase long ago; few orders and low spend.',
                              'Offer relevant products and special discounts; keep contact cheap.'),
    ('Lost',              11, 'Lowest recency, frequency and spend.',
                              'Try one reactivation campaign; otherwise stop spending on them.')
$$;
COMMENT ON FUNCTION customer_tier.rfm_segments() IS
    'the 11 RFM segment names returned by rfm_segment(), best first, each with a description and a suggested action';

CREATE FUNCTION customer_tier.value_score(r integer, f integer, m integer,
                                          weights double precision[] DEFAULT '{1,1,1}')
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'value_score'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.value_score(integer, integer, integer, double precision[]) IS
    'customer value on 0..100: weighted mean of (score - 1) / 4 * 100 over the R, F and M scores (1..5), weights {R,F,M}';
-- customer_tier install script, part 30: ABC / Pareto classification.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

CREATE FUNCTION customer_tier.abc_class(revenue double precision,
                                        a_cutoff double precision DEFAULT 80,
                                        b_cutoff double precision DEFAULT 95)
    RETURNS text
    AS 'MODULE_PATHNAME', 'abc_class'
    LANGUAGE C WINDOW IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.abc_class(double precision, double precision, double precision) IS
    'window function, OVER (ORDER BY revenue DESC): A if the revenue of customers with higher revenue is below a_cutoff% of the partition''s positive revenue, B if below b_cutoff%, else C; zero or negative revenue is C';

CREATE FUNCTION customer_tier.abc_class_of(cumulative_share_before double precision,
                                           a_cutoff double precision DEFAULT 80,
                                           b_cutoff double precision DEFAULT 95)
    RETURNS text
    AS 'MODULE_PATHNAME', 'abc_class_of'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.abc_class_of(double precision, double precision, double precision) IS
    'ABC class from the cumulative revenue share (percent, 0..100) of the customers before this one: A below a_cutoff, B below b_cutoff, else C';
-- customer_tier install script, part 40: satisfaction aggregates (NPS, CSAT).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- The states are bigint[] histograms, one counter per answer on the scale.
CREATE FUNCTION customer_tier.nps_accum(bigint[], integer)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'nps_accum'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.nps_accum(bigint[], integer) IS
    'transition function of nps(): counts one 0..10 answer in an 11-counter histogram';

CREATE FUNCTION customer_tier.nps_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'nps_combine'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.nps_combine(bigint[], bigint[]) IS
    'combine function of nps(): adds two 11-counter histograms';

CREATE FUNCTION customer_tier.nps_final(bigint[])
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'nps_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.nps_final(bigint[]) IS
    'final function of nps(): % promoters (9-10) minus % detractors (0-6), NULL without answers';

CREATE FUNCTION customer_tier.nps_retract(bigint[], integer)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'nps_retract'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.nps_retract(bigint[], integer) IS
    'inverse transition function of nps() in moving windows: takes back one 0..10 answer';

CREATE AGGREGATE customer_tier.nps(score integer) (
    SFUNC = customer_tier.nps_accum,
    STYPE = bigint[],
    INITCOND = '{0,0,0,0,0,0,0,0,0,0,0}',
    COMBINEFUNC = customer_tier.nps_combine,
    FINALFUNC = customer_tier.nps_final,
    -- Moving windows (a rolling NPS) take answers back instead of recounting.
    MSFUNC = customer_tier.nps_accum,
    MINVFUNC = customer_tier.nps_retract,
    MSTYPE = bigint[],
    MINITCOND = '{0,0,0,0,0,0,0,0,0,0,0}',
    MFINALFUNC = customer_tier.nps_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.nps(integer) IS
    'Net Promoter Score on -100..100 from 0..10 answers: % promoters (9-10) minus % detractors (0-6); NULL answers skipped';

CREATE FUNCTION customer_tier.csat_accum(bigint[], integer)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'csat_accum'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.csat_accum(bigint[], integer) IS
    'transition function of csat(): counts one 1..5 answer in a 5-counter histogram';

CREATE FUNCTION customer_tier.csat_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'csat_combine'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.csat_combine(bigint[], bigint[]) IS
    'combine function of csat(): adds two 5-counter histograms';

CREATE FUNCTION customer_tier.csat_final(bigint[])
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'csat_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.csat_final(bigint[]) IS
    'final function of csat(): % of answers that are 4 or 5, NULL without answers';

CREATE FUNCTION customer_tier.csat_retract(bigint[], integer)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'csat_retract'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.csat_retract(bigint[], integer) IS
    'inverse transition function of csat() in moving windows: takes back one 1..5 answer';

CREATE AGGREGATE customer_tier.csat(score integer) (
    SFUNC = customer_tier.csat_accum,
    STYPE = bigint[],
    INITCOND = '{0,0,0,0,0}',
    COMBINEFUNC = customer_tier.csat_combine,
    FINALFUNC = customer_tier.csat_final,
    MSFUNC = customer_tier.csat_accum,
    MINVFUNC = customer_tier.csat_retract,
    MSTYPE = bigint[],
    MINITCOND = '{0,0,0,0,0}',
    MFINALFUNC = customer_tier.csat_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.csat(integer) IS
    'customer satisfaction score on 0..100 from 1..5 answers: % of answers that are 4 or 5; NULL answers skipped';
-- customer_tier install script, part 50: customer-lifetime models.
-- BG/NBD (Fader, Hardie & Lee 2005) for purchase counts, Gamma-Gamma
-- (Fader & Hardie 2013) for spend, and the CLV that combines them.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

CREATE TYPE customer_tier.bgnbd_model AS (
    r              double precision,
    alpha          double precision,
    a              double precision,
    b              double precision,
    log_likelihood double precision,
    customers      bigint
);
COMMENT ON TYPE customer_tier.bgnbd_model IS
    'fitted BG/NBD model: purchase-rate gamma(r, alpha), dropout beta(a, b), log-likelihood and number of customers';

CREATE TYPE customer_tier.gamma_gamma_model AS (
    p              double precision,
    q              double precision,
    gamma          double precision,
    log_likelihood double precision,
    customers      bigint
);
COMMENT ON TYPE customer_tier.gamma_gamma_model IS
    'fitted Gamma-Gamma spend model: shape p, mixing gamma(q, gamma), log-likelihood and number of repeat buyers';

-- The aggregate state: the input rows laid end to end in a float8[].
CREATE FUNCTION customer_tier.bgnbd_accum(state double precision[], x integer,
                                          t_x double precision, t double precision)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'bgnbd_accum'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.bgnbd_accum(double precision[], integer, double precision, double precision) IS
    'bgnbd_fit transition: validates (x, t_x, t) and appends it to the row array; rows with a NULL are skipped';

CREATE FUNCTION customer_tier.model_rows_combine(state double precision[], other double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'model_rows_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.model_rows_combine(double precision[], double precision[]) IS
    'bgnbd_fit and gamma_gamma_fit combine: appends the rows of the second state to the first';

CREATE FUNCTION customer_tier.bgnbd_final(state double precision[])
RETURNS customer_tier.bgnbd_model
AS 'MODULE_PATHNAME', 'bgnbd_final'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.bgnbd_final(double precision[]) IS
    'bgnbd_fit final: groups identical rows and fits BG/NBD by maximum likelihood';

CREATE AGGREGATE customer_tier.bgnbd_fit(x integer, t_x double precision, t double precision) (
    SFUNC = customer_tier.bgnbd_accum,
    STYPE = double precision[],
    FINALFUNC = customer_tier.bgnbd_final,
    COMBINEFUNC = customer_tier.model_rows_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.bgnbd_fit(integer, double precision, double precision) IS
    'fits the BG/NBD model (Fader, Hardie & Lee 2005) to per-customer (x repeat purchases, t_x recency, t age) by maximum likelihood';

CREATE FUNCTION customer_tier.p_alive(model customer_tier.bgnbd_model, x integer,
                                      t_x double precision, t double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'bgnbd_p_alive'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.p_alive(customer_tier.bgnbd_model, integer, double precision, double precision) IS
    'BG/NBD probability that a customer with (x, t_x, t) is still active';

CREATE FUNCTION customer_tier.expected_purchases(model customer_tier.bgnbd_model,
                                                 horizon double precision, x integer,
                                                 t_x double precision, t double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.expected_purchases(customer_tier.bgnbd_model, double precision, integer, double precision, double precision) IS
    'BG/NBD expected purchases of a customer with (x, t_x, t) in the next horizon periods (Fader, Hardie & Lee 2005, eq. 10)';

CREATE FUNCTION customer_tier.gamma_gamma_accum(state double precision[], x integer,
                                                mean_spend double precision)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'gamma_gamma_accum'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.gamma_gamma_accum(double precision[], integer, double precision) IS
    'gamma_gamma_fit transition: validates (x, mean_spend) and appends repeat buyers to the row array';

CREATE FUNCTION customer_tier.gamma_gamma_final(state double precision[])
RETURNS customer_tier.gamma_gamma_model
AS 'MODULE_PATHNAME', 'gamma_gamma_final'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.gamma_gamma_final(double precision[]) IS
    'gamma_gamma_fit final: groups identical rows and fits Gamma-Gamma by maximum likelihood';

CREATE AGGREGATE customer_tier.gamma_gamma_fit(x integer, mean_spend double precision) (
    SFUNC = customer_tier.gamma_gamma_accum,
    STYPE = double precision[],
    FINALFUNC = customer_tier.gamma_gamma_final,
    COMBINEFUNC = customer_tier.model_rows_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.gamma_gamma_fit(integer, double precision) IS
    'fits the Gamma-Gamma spend model (Fader & Hardie 2013) to repeat buyers'' (x, mean repeat spend); rows with x = 0 are skipped';

CREATE FUNCTION customer_tier.expected_spend(model customer_tier.gamma_gamma_model, x integer,
                                             mean_spend double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'gamma_gamma_expected_spend'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.expected_spend(customer_tier.gamma_gamma_model, integer, double precision) IS
    'Gamma-Gamma expected spend per transaction of a customer with x repeat purchases averaging mean_spend';

CREATE FUNCTION customer_tier.clv(bg customer_tier.bgnbd_model,
                                  gg customer_tier.gamma_gamma_model,
                                  x integer, t_x double precision, t double precision,
                                  mean_spend double precision, horizon double precision,
                                  discount_rate double precision DEFAULT 0.01,
                                  margin double precision DEFAULT 1)
RETURNS double precision
AS 'MODULE_PATHNAME', 'customer_clv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.clv(customer_tier.bgnbd_model, customer_tier.gamma_gamma_model, integer, double precision, double precision, double precision, double precision, double precision, double precision) IS
    'customer lifetime value: discounted expected purchases per period (BG/NBD) times expected spend (Gamma-Gamma) times margin';
-- customer_tier install script, part 60: programs — attaching to a CRM's orders table.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- One row per program: which table it watches and how to read it.  Kept by
-- pg_dump (pg_extension_config_dump), validated here and in create_program().
CREATE TABLE customer_tier.program (
    name              text PRIMARY KEY
                      CONSTRAINT program_name_format CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    orders_table      regclass NOT NULL,
    customer_column   name NOT NULL,
    customer_type     regtype NOT NULL
                      CONSTRAINT program_customer_type CHECK (customer_type IN
                          ('integer'::regtype, 'bigint'::regtype, 'uuid'::regtype,
                           'text'::regtype, 'character varying'::regtype)),
    amount_column     name NOT NULL,
    amount_type       regtype NOT NULL
                      CONSTRAINT program_amount_type CHECK (amount_type IN
                          ('numeric'::regtype, 'integer'::regtype, 'bigint'::regtype,
                           'double precision'::regtype, 'money'::regtype)),
    ordered_at_column name NOT NULL,
    ordered_at_type   regtype NOT NULL
                      CONSTRAINT program_ordered_at_type CHECK (ordered_at_type IN
                          ('timestamp with time zone'::regtype,
                           'timestamp without time zone'::regtype, 'date'::regtype)),
    status_column     name,
    counted_statuses  text[],
    order_id_column   name,
    method            text NOT NULL DEFAULT 'rfm'
                      CONSTRAINT program_method CHECK (method IN ('rules', 'rfm', 'abc')),
    score_weights     double precision[] NOT NULL DEFAULT '{1,1,1}'
                      CONSTRAINT program_score_weights CHECK (
                          pg_catalog.cardinality(score_weights) = 3
                          AND pg_catalog.array_position(score_weights, NULL) IS NULL
                          AND 0 <= ALL (score_weights)
                          AND 'Infinity' > ALL (score_weights)       -- NaN sorts above Infinity
                          AND score_weights[1] + score_weights[2] + score_weights[3] > 0),
    downgrade_grace   interval NOT NULL DEFAULT '90 days'
                      CONSTRAINT program_downgrade_grace CHECK (downgrade_grace >= '0'),
    reject_mode       text NOT NULL DEFAULT 'skip'
                      CONSTRAINT program_reject_mode CHECK (reject_mode IN ('skip', 'error')),
    r_breakpoints     double precision[],
    f_breakpoints     double precision[],
    m_breakpoints     double precision[],
    scored_at         timestamptz,
    data_schema       name NOT NULL UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT program_statuses CHECK ((status_column IS NULL) = (counted_statuses IS NULL)
                                       AND pg_catalog.cardinality(counted_statuses) > 0)
);
COMMENT ON TABLE customer_tier.program IS
    'one row per program: the CRM orders table it is attached to and how its columns are read';
COMMENT ON COLUMN customer_tier.program.name IS 'program name: lowercase letters, digits, underscores';
COMMENT ON COLUMN customer_tier.program.orders_table IS 'the CRM''s own orders table (never altered)';
COMMENT ON COLUMN customer_tier.program.customer_column IS 'column holding the customer key';
COMMENT ON COLUMN customer_tier.program.customer_type IS 'type of the customer key, kept in the program''s own tables';
COMMENT ON COLUMN customer_tier.program.amount_column IS 'column holding the order amount';
COMMENT ON COLUMN customer_tier.program.amount_type IS 'type of the amount column';
COMMENT ON COLUMN customer_tier.program.ordered_at_column IS 'column holding the order time';
COMMENT ON COLUMN customer_tier.program.ordered_at_type IS 'type of the order time column';
COMMENT ON COLUMN customer_tier.program.status_column IS 'optional column holding the order status';
COMMENT ON COLUMN customer_tier.program.counted_statuses IS 'statuses whose orders count; NULL when there is no status column';
COMMENT ON COLUMN customer_tier.program.order_id_column IS 'optional column holding the order id, kept in rejects';
COMMENT ON COLUMN customer_tier.program.method IS 'how tiers are assigned: rules (conditions per tier), rfm (value score thresholds), abc (Pareto classes)';
COMMENT ON COLUMN customer_tier.program.score_weights IS 'weights of the R, F and M scores in the value score';
COMMENT ON COLUMN customer_tier.program.downgrade_grace IS 'how long a customer keeps a tier after ceasing to qualify; upgrades take effect at once';
COMMENT ON COLUMN customer_tier.program.reject_mode IS 'skip: unusable order rows are kept in the rejects table; error: they make the write fail';
COMMENT ON COLUMN customer_tier.program.r_breakpoints IS 'recency quintile breakpoints (days since the last order) stored by the last run; lower is better';
COMMENT ON COLUMN customer_tier.program.f_breakpoints IS 'order-count quintile breakpoints stored by the last run';
COMMENT ON COLUMN customer_tier.program.m_breakpoints IS 'monetary-value quintile breakpoints stored by the last run';
COMMENT ON COLUMN customer_tier.program.scored_at IS 'when the breakpoints were last computed';
COMMENT ON COLUMN customer_tier.program.data_schema IS 'schema that holds the program''s tables and views, dropped with it';
COMMENT ON COLUMN customer_tier.program.created_at IS 'when the program was created';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.program', '');

-- The type of column col of table tbl, or an error naming both.
CREATE FUNCTION customer_tier.column_type(tbl regclass, col name, role text)
RETURNS regtype
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    typ regtype;
BEGIN
    IF col IS NULL THEN
        RAISE EXCEPTION 'the % column must be named', role
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = format('Pass the name of the column of %s that holds the %s.', tbl, role);
    END IF;
    SELECT a.atttypid::regtype INTO typ
      FROM pg_attribute AS a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl
       AND a.attname OPERATOR(pg_catalog.=) col
       AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped;
    IF typ IS NULL THEN
        RAISE EXCEPTION 'column "%" does not exist in table %', col, tbl
            USING ERRCODE = 'undefined_column',
                  HINT = format('Name the column of %s that holds the %s.', tbl, role);
    END IF;
    RETURN typ;
END
$$;
COMMENT ON FUNCTION customer_tier.column_type(regclass, name, text) IS
    'type of a column of a table, or an error naming the column and the role it was meant for';

-- Refuse a column whose type the program cannot read, naming the column and the accepted types.
CREATE FUNCTION customer_tier.check_column_type(tbl regclass, col name, role text, typ regtype,
                                                accepted regtype[])
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT typ OPERATOR(pg_catalog.=) ANY (accepted) THEN
        RAISE EXCEPTION 'column "%" of table % has type %, which cannot hold the %', col, tbl, typ, role
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('The %s column must be one of: %s.', role,
                                  array_to_string(accepted::text[], ', ')),
                  HINT = 'Name a column of one of these types.';
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.check_column_type(regclass, name, text, regtype, regtype[]) IS
    'raises datatype_mismatch when a column''s type is not one a program can read';

-- Attach a program to an orders table: validate everything first, then create
-- the program's schema.  Returns the number of customers found by the backfill.
CREATE FUNCTION customer_tier.create_program(
    name              text,
    orders            regclass,
    customer_column   name,
    amount_column     name,
    ordered_at_column name,
    status_column     name DEFAULT NULL,
    counted_statuses  text[] DEFAULT NULL,
    order_id_column   name DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
BEGIN
    IF name IS NULL OR orders IS NULL THEN
        RAISE EXCEPTION 'program name and orders table must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'invalid program name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A program name starts with a lowercase letter and has at most 40 lowercase letters, digits and underscores.',
                  HINT = 'Choose a name such as "retail" or "key_accounts".';
    END IF;
    IF EXISTS (SELECT FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) create_program.name) THEN
        RAISE EXCEPTION 'program "%" already exists', name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another name, or drop the existing program with customer_tier.drop_program().';
    END IF;
    IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) orders) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', orders
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'A program attaches triggers to an ordinary or partitioned table.',
                  HINT = 'Name the table that holds the orders.';
    END IF;

    prog.name := name;
    prog.orders_table := orders;
    prog.customer_column := customer_column;
    prog.customer_type := customer_tier.column_type(orders, customer_column, 'customer key');
    PERFORM customer_tier.check_column_type(orders, customer_column, 'customer key', prog.customer_type,
        '{integer,bigint,uuid,text,character varying}');
    prog.amount_column := amount_column;
    prog.amount_type := customer_tier.column_type(orders, amount_column, 'amount');
    PERFORM customer_tier.check_column_type(orders, amount_column, 'amount', prog.amount_type,
        '{numeric,integer,bigint,double precision,money}');
    prog.ordered_at_column := ordered_at_column;
    prog.ordered_at_type := customer_tier.column_type(orders, ordered_at_column, 'order time');
    PERFORM customer_tier.check_column_type(orders, ordered_at_column, 'order time', prog.ordered_at_type,
        '{timestamp with time zone,timestamp without time zone,date}');

    IF status_column IS NOT NULL THEN
        PERFORM customer_tier.column_type(orders, status_column, 'order status');
        IF counted_statuses IS NULL OR cardinality(counted_statuses) OPERATOR(pg_catalog.=) 0 THEN
            RAISE EXCEPTION 'counted_statuses must list the statuses that count'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Status column "%s" was named, but no status was said to count.', status_column),
                      HINT = 'Pass for example counted_statuses => ''{paid,shipped}''; cancelled and refunded orders must not be listed.';
        END IF;
        IF array_position(counted_statuses, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'counted_statuses must not contain null'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'List the statuses that count as text values.';
        END IF;
    ELSIF counted_statuses IS NOT NULL THEN
        RAISE EXCEPTION 'counted_statuses needs a status column'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the column that holds the order status with status_column.';
    END IF;
    prog.status_column := status_column;
    prog.counted_statuses := counted_statuses;
    IF order_id_column IS NOT NULL THEN
        PERFORM customer_tier.column_type(orders, order_id_column, 'order id');
    END IF;
    prog.order_id_column := order_id_column;

    prog.data_schema := 'ct_' || name;
    IF EXISTS (SELECT FROM pg_namespace AS n WHERE n.nspname OPERATOR(pg_catalog.=) prog.data_schema) THEN
        RAISE EXCEPTION 'schema "%" already exists', prog.data_schema
            USING ERRCODE = 'duplicate_schema',
                  DETAIL = format('Program "%s" keeps its tables and views in schema "%s".', name, prog.data_schema),
                  HINT = 'Choose another program name, or rename that schema.';
    END IF;

    INSERT INTO customer_tier.program AS p
           (name, orders_table, customer_column, customer_type, amount_column, amount_type,
            ordered_at_column, ordered_at_type, status_column, counted_statuses, order_id_column,
            data_schema)
    VALUES (prog.name, prog.orders_table, prog.customer_column, prog.customer_type,
            prog.amount_column, prog.amount_type, prog.ordered_at_column, prog.ordered_at_type,
            prog.status_column, prog.counted_statuses, prog.order_id_column, prog.data_schema);
    EXECUTE format('CREATE SCHEMA %I', prog.data_schema);
    EXECUTE format('COMMENT ON SCHEMA %I IS %L', prog.data_schema,
                   format('customer_tier program "%s": customers, tiers and views over %s', name, orders));
    PERFORM customer_tier.default_tiers(name);
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) create_program.name;
    customers := customer_tier.create_program_objects(prog);
    -- The first population breakpoints, then everyone's scores and tier.
    PERFORM customer_tier.refresh_breakpoints(name);
    PERFORM customer_tier.rescore_program(name, 'create_program');
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name) IS
    'attach a program to an orders table: validate its columns, create its schema, backfill; returns the customers found';

-- Detach a program: remove everything create_program made, and nothing else.
CREATE FUNCTION customer_tier.drop_program(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) drop_program.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', name
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    -- RESTRICT, not CASCADE: a user's own object that depends on the program's
    -- views must make this fail rather than vanish with it.
    PERFORM customer_tier.drop_program_objects(prog);
    EXECUTE format('DROP SCHEMA %I RESTRICT', prog.data_schema);
    DELETE FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) drop_program.name;
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program(text) IS
    'detach a program: drop its triggers, tables, views and schema; the orders table is untouched';

REVOKE ALL ON FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program(text) FROM PUBLIC;

-- Change a program's settings; each NULL argument leaves its setting as it is.
-- The table's CHECK constraints are the last line; this says what is wrong.
CREATE FUNCTION customer_tier.configure_program(
    name            text,
    score_weights   double precision[] DEFAULT NULL,
    downgrade_grace interval DEFAULT NULL,
    reject_mode     text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) configure_program.name) THEN
        RAISE EXCEPTION 'program "%" does not exist', name
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
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
COMMENT ON FUNCTION customer_tier.configure_program(text, double precision[], interval, text) IS
    'change a program''s score weights, downgrade grace or reject mode; NULL leaves a setting as it is';
REVOKE ALL ON FUNCTION customer_tier.configure_program(text, double precision[], interval, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.column_type(regclass, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_column_type(regclass, name, text, regtype, regtype[]) FROM PUBLIC;
-- customer_tier install script, part 61: keeping order_stats states in tables.
-- A program stores each customer's order_stats_state and applies the orders a
-- statement added or removed to it (src/order_stats_maintain.c).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- order_stats_partial(ordered_at, amount): the state itself, for every
-- (time type, amount type) pair that order_stats accepts.
DO $partials$
DECLARE
    time_type text;
    amount_type text;
BEGIN
    FOREACH time_type IN ARRAY ARRAY['timestamptz', 'timestamp', 'date'] LOOP
        FOREACH amount_type IN ARRAY ARRAY['numeric', 'bigint', 'integer', 'double precision', 'money'] LOOP
            EXECUTE format($sql$
                CREATE AGGREGATE customer_tier.order_stats_partial(ordered_at %1$s, amount %2$s) (
                    SFUNC = customer_tier.order_stats_transfn,
                    STYPE = customer_tier.order_stats_state,
                    COMBINEFUNC = customer_tier.order_stats_combine,
                    SSPACE = 288,
                    PARALLEL = SAFE)$sql$, time_type, amount_type);
            EXECUTE format('COMMENT ON AGGREGATE customer_tier.order_stats_partial(%1$s, %2$s) IS %3$L',
                           time_type, amount_type,
                           'the order_stats state of the orders, without the final step: to store, merge and subtract');
        END LOOP;
    END LOOP;
END
$partials$;

CREATE FUNCTION customer_tier.order_stats_state_merge(customer_tier.order_stats_state,
                                                      customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_merge'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_merge(customer_tier.order_stats_state,
                                                          customer_tier.order_stats_state) IS
    'the state of the orders of both states (NULL means no orders)';

CREATE FUNCTION customer_tier.order_stats_state_subtract(customer_tier.order_stats_state,
                                                         customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_subtract'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_subtract(customer_tier.order_stats_state,
                                                             customer_tier.order_stats_state) IS
    'the state without the orders of the second state, or NULL when none is left; refuses orders the first does not hold';
-- customer_tier install script, part 62: what a program creates in its own
-- schema — the per-customer table, the rejects table, and the triggers on the
-- CRM's orders table that keep them current (docs/programs.md).
--
-- The SQL of the triggers is generated once, when the program is created,
-- from the program's catalog row: column names and types are fixed there, so
-- the trigger function holds static SQL whose plans PL/pgSQL caches.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- A customer's metrics, read off the stored states of purchases and refunds.
-- A refund (a negative amount) lowers the monetary value but is not an order.
CREATE FUNCTION customer_tier.customer_metrics(
    purchases customer_tier.order_stats_state,
    refunds customer_tier.order_stats_state,
    OUT orders bigint, OUT monetary numeric, OUT first_order timestamptz, OUT last_order timestamptz,
    OUT mean_gap_days double precision, OUT gap_stddev_days double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'customer_metrics'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.customer_metrics(customer_tier.order_stats_state, customer_tier.order_stats_state) IS
    'a customer''s metrics from the states of its purchases and refunds: orders, net monetary value, first and last order, gaps';

-- Announce a change of tier on channel customer_tier (delivered at commit).
-- One payload format for every path that changes a tier.
CREATE FUNCTION customer_tier.announce_tier_change(program text, customer jsonb, from_tier text,
                                                   to_tier text, reason text, source text)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pg_catalog.pg_notify('customer_tier', pg_catalog.json_build_object(
        'program', program, 'customer', customer, 'from', from_tier, 'to', to_tier,
        'reason', reason, 'source', source, 'at', pg_catalog.now())::text);
END;
COMMENT ON FUNCTION customer_tier.announce_tier_change(text, jsonb, text, text, text, text) IS
    'send the NOTIFY customer_tier payload of a change of tier';
REVOKE ALL ON FUNCTION customer_tier.announce_tier_change(text, jsonb, text, text, text, text) FROM PUBLIC;

-- SQL text of why an order row cannot be used (NULL when it can): a NULL
-- customer key, time or amount, or a time or amount that is not finite.
-- alias names the row the expression reads.
CREATE FUNCTION customer_tier.program_row_problem_sql(prog customer_tier.program, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c text := format('%I.%I', alias, prog.customer_column);
    t text := format('%I.%I', alias, prog.ordered_at_column);
    a text := format('%I.%I', alias, prog.amount_column);
BEGIN
    RETURN format($sql$CASE WHEN %1$s IS NULL THEN 'customer key is null'
             WHEN %2$s IS NULL THEN 'order time is null'
             WHEN NOT pg_catalog.isfinite(%2$s) THEN 'order time is not finite'
             WHEN %3$s IS NULL THEN 'amount is null'%4$s END$sql$,
                  c, t, a,
                  CASE WHEN prog.amount_type IN ('numeric'::regtype, 'double precision'::regtype) THEN
                      format($sql$
             WHEN %1$s OPERATOR(pg_catalog.=) ANY ('{NaN,Infinity,-Infinity}'::%2$s[]) THEN 'amount is not finite'$sql$,
                             a, prog.amount_type)
                  ELSE '' END);
END
$$;
COMMENT ON FUNCTION customer_tier.program_row_problem_sql(customer_tier.program, text) IS
    'SQL text of the reason an order row cannot be used by a program, NULL when it can';

-- SQL text of "this order row counts": no problem, and a counted status when
-- the program has a status column.
CREATE FUNCTION customer_tier.program_row_counts_sql(prog customer_tier.program, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format('(%s) IS NULL', customer_tier.program_row_problem_sql(prog, alias))
        || CASE WHEN prog.status_column IS NULL THEN ''
                ELSE format(' AND %I.%I::text OPERATOR(pg_catalog.=) ANY (%L::text[])',
                            alias, prog.status_column, prog.counted_statuses) END;
END
$$;
COMMENT ON FUNCTION customer_tier.program_row_counts_sql(customer_tier.program, text) IS
    'SQL text of the condition under which an order row counts for a program';

-- SQL text of a statement that keeps the rows of source a program cannot use
-- in its rejects table; operation is a SQL expression naming the operation.
CREATE FUNCTION customer_tier.program_rejects_sql(prog customer_tier.program, source text, operation text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
    INSERT INTO %1$I.rejects (operation, reason, order_id, row_image)
    SELECT %2$s, p.reason, %3$s, pg_catalog.to_jsonb(o)
      FROM %4$s AS o, LATERAL (SELECT %5$s AS reason) AS p
     WHERE p.reason IS NOT NULL$sql$,
        prog.data_schema, operation,
        CASE WHEN prog.order_id_column IS NULL THEN 'NULL'
             ELSE format('o.%I::text', prog.order_id_column) END,
        source, customer_tier.program_row_problem_sql(prog, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.program_rejects_sql(customer_tier.program, text, text) IS
    'SQL text that records the order rows a program cannot use in its rejects table';

-- SQL text of a statement that applies the counted rows of added and removed
-- (either may be NULL) to a program's customers: one upsert, in customer-key
-- order, so that concurrent statements lock customers in the same order and
-- cannot deadlock on them.  The proposed row carries the removed orders in the
-- remove_* columns, which the conflict path reads through EXCLUDED and clears;
-- a new customer never has orders to remove, so a stored remove_* is drift.
-- The statement returns (emptied customers, customers with drift, added rows
-- that cannot be used): rejects are written only when there are some, so the
-- common statement runs this one query.  source (a SQL expression) says who
-- scores the touched customers; NULL leaves new customers unscored.
CREATE FUNCTION customer_tier.program_apply_sql(prog customer_tier.program, added text, removed text, source text)
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
                         customer_tier.program_scoring_sql('m', 'd.customer', NULL, source)) END,
        customer_tier.program_scoring_sql('m', 'c.customer', 'c', coalesce(source, '''backfill''')),
        prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.program_apply_sql(customer_tier.program, text, text, text) IS
    'SQL text of the upsert that applies added and removed order rows to a program''s customers';

-- SQL text of the PL/pgSQL statements of a trigger: apply added/removed rows,
-- keep the added rows that cannot be used in the rejects table (or refuse the
-- write, as the program says), delete customers left without orders, and
-- refuse drift.
CREATE FUNCTION customer_tier.program_apply_block_sql(prog customer_tier.program, added text, removed text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
    %2$s
      INTO emptied, drifted, rejected, announced;
    IF drifted OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'program %%: orders removed from customers it does not hold', %3$L
            USING ERRCODE = 'data_corrupted',
                  HINT = 'The maintained state no longer matches the orders; rebuild the program.';
    END IF;
    IF emptied IS NOT NULL THEN
        DELETE FROM %1$I.customers AS c WHERE c.customer OPERATOR(pg_catalog.=) ANY (emptied);
    END IF;
    IF rejected OPERATOR(pg_catalog.>) 0 THEN
        %4$s;
        IF (SELECT p.reject_mode FROM customer_tier.program AS p
             WHERE p.name OPERATOR(pg_catalog.=) %3$L) OPERATOR(pg_catalog.=) 'error' THEN
            RAISE EXCEPTION 'program %%: %% order row(s) cannot be used', %3$L, rejected
                USING ERRCODE = 'null_value_not_allowed',
                      DETAIL = (SELECT pg_catalog.format('The last one: %%s.', r.reason)
                                  FROM %1$I.rejects AS r ORDER BY r.id DESC LIMIT 1),
                      HINT = 'Correct the rows, or set the program''s reject_mode to skip to keep such rows in its rejects table.';
        END IF;
    END IF;$sql$,
        prog.data_schema, customer_tier.program_apply_sql(prog, added, removed, $src$'trigger ' OPERATOR(pg_catalog.||) TG_OP$src$), prog.name,
        CASE WHEN added IS NULL THEN 'NULL'
             ELSE customer_tier.program_rejects_sql(prog, added, 'TG_OP') END);
END
$$;
COMMENT ON FUNCTION customer_tier.program_apply_block_sql(customer_tier.program, text, text) IS
    'SQL text of the trigger statements that apply order rows to a program''s customers';

-- The name of one of a program's triggers on the orders table.
CREATE FUNCTION customer_tier.program_trigger_name(program text, operation text)
RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.format('customer_tier_%s_%s', program, operation)::name;
COMMENT ON FUNCTION customer_tier.program_trigger_name(text, text) IS
    'name of the trigger a program puts on its orders table for one operation';

-- Create the program's tables, trigger function and triggers, and backfill
-- from the rows already in the orders table.  Returns the customers found.
CREATE FUNCTION customer_tier.create_program_objects(prog customer_tier.program)
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
            remove_refunds   customer_tier.order_stats_state
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
        COMMENT ON COLUMN %1$I.customers.remove_refunds IS 'always NULL when stored: carries removed refunds within one upsert'
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

    -- The trigger function runs as its owner so that a CRM role that may write
    -- orders need not be granted anything on the program's tables.
    EXECUTE format($fn$
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
        s, prog.customer_type,
        customer_tier.program_apply_block_sql(prog, 'new_rows', NULL),
        customer_tier.program_apply_block_sql(prog, 'new_rows', 'old_rows'),
        customer_tier.program_apply_block_sql(prog, NULL, 'old_rows'));
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
    PERFORM customer_tier.create_program_views(prog);
    PERFORM customer_tier.grant_program_access(prog);
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', s) INTO customers;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_objects(customer_tier.program) IS
    'create a program''s tables, trigger function and triggers, and backfill them from the orders table';

-- Remove what create_program_objects made, and nothing else.
CREATE FUNCTION customer_tier.drop_program_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    op text;
BEGIN
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
COMMENT ON FUNCTION customer_tier.drop_program_objects(customer_tier.program) IS
    'drop a program''s triggers, trigger function and tables';

REVOKE ALL ON FUNCTION customer_tier.create_program_objects(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program_objects(customer_tier.program) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.program_row_problem_sql(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_row_counts_sql(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_rejects_sql(customer_tier.program, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_apply_sql(customer_tier.program, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_apply_block_sql(customer_tier.program, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_trigger_name(text, text) FROM PUBLIC;
-- customer_tier install script, part 63: checking a program against its orders.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- Every difference between a program's maintained customers and a recomputation
-- from scratch over the orders table.  The recomputation uses the plain
-- order_stats aggregate and sum(), not the merge/subtract path the triggers use,
-- so it is an independent check.  No rows means no drift.
CREATE FUNCTION customer_tier.verify_program(program text)
RETURNS TABLE (customer text, problem text, maintained jsonb, recomputed jsonb)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) verify_program.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
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
COMMENT ON FUNCTION customer_tier.verify_program(text) IS
    'differences between a program''s maintained customers and a recomputation from its orders table; none means no drift';

-- Recompute a program's customers from scratch over the orders table, keeping
-- each customer's tier and history, then rescore everyone: the repair for
-- drift that verify_program reports.  Returns the number of customers.
CREATE FUNCTION customer_tier.rebuild_program(program text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
BEGIN
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) rebuild_program.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
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
COMMENT ON FUNCTION customer_tier.rebuild_program(text) IS
    'recompute a program''s customers from scratch over the orders table (tiers and history kept), then rescore; returns the customers';
REVOKE ALL ON FUNCTION customer_tier.rebuild_program(text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.verify_program(text) FROM PUBLIC;
-- customer_tier install script, part 64: the one scoring path of a program.
--
-- A customer's scores and tier come from one SQL fragment, generated here and
-- used both by the triggers (for the customers a statement touched) and by
-- the batch rescore (for everyone): R, F and M scores against the population
-- breakpoints stored by the last run, the value score and RFM segment, the
-- qualified tier (qualify_tier), and hysteresis and pins (next_tier).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- The columns the scoring fragment yields, in order.
CREATE FUNCTION customer_tier.program_scored_columns()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'r_score, f_score, m_score, value_score, segment, tier, tier_since, pending_since, tier_reason, changed_by';
COMMENT ON FUNCTION customer_tier.program_scored_columns() IS
    'the per-customer columns the scoring fragment of a program sets, in order';

-- SQL text of the statement-local configuration a scoring fragment reads:
-- a CTE "cfg" with the program's breakpoints, weights, grace, compiled rules
-- and tier names by rank.  MATERIALIZED: tier_rules runs once per statement.
CREATE FUNCTION customer_tier.program_config_cte_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$cfg AS MATERIALIZED (
        SELECT p.name, p.r_breakpoints, p.f_breakpoints, p.m_breakpoints, p.score_weights,
               p.downgrade_grace, customer_tier.tier_rules(p.name) AS rules,
               ARRAY(SELECT t.tier FROM customer_tier.tier AS t
                      WHERE t.program OPERATOR(pg_catalog.=) p.name ORDER BY t.rank) AS tiers
          FROM customer_tier.program AS p
         WHERE p.name OPERATOR(pg_catalog.=) %L)$sql$, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) IS
    'SQL text of the CTE holding a program''s scoring configuration for one statement';

-- SQL text of a sub-select yielding program_scored_columns() for one
-- customer.  m names a row with the customer's orders, monetary, first_order
-- and last_order; key is the customer key expression; cur names the stored
-- row (tier, tier_since, pending_since, abc_class) or is NULL for a new
-- customer; source says who scores (a trigger operation or a run); abc, when
-- given, is the ABC class expression a run has just computed.
CREATE FUNCTION customer_tier.program_scoring_sql(m text, key text, cur text, source text,
                                                  abc text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur_tier text := coalesce(cur || '.tier', 'NULL::text');
    cur_since text := coalesce(cur || '.tier_since', 'NULL::timestamptz');
    cur_pending text := coalesce(cur || '.pending_since', 'NULL::timestamptz');
    cur_abc text := coalesce(abc, cur || '.abc_class', 'NULL::text');
BEGIN
    RETURN format($sql$(
        SELECT s.r, s.f, s.m, s.value_score, s.segment, cfg.tiers[nt.rank],
               CASE WHEN cfg.tiers[nt.rank] IS DISTINCT FROM %3$s THEN pg_catalog.now() ELSE %4$s END,
               nt.pending_since, nt.reason, %7$s
          FROM cfg,
               LATERAL (SELECT x.r, x.f, x.m,
                               customer_tier.value_score(x.r, x.f, x.m, cfg.score_weights) AS value_score,
                               customer_tier.rfm_segment(x.r, x.f, x.m) AS segment
                          FROM (SELECT customer_tier.score(
                                           EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) %1$s.last_order)::double precision
                                           OPERATOR(pg_catalog./) 86400, cfg.r_breakpoints, false) AS r,
                                       customer_tier.score(%1$s.orders, cfg.f_breakpoints) AS f,
                                       customer_tier.score(%1$s.monetary, cfg.m_breakpoints) AS m) AS x) AS s,
               LATERAL customer_tier.next_tier(
                   pg_catalog.array_position(cfg.tiers, %3$s), %5$s,
                   customer_tier.qualify_tier(cfg.rules, s.value_score, %1$s.monetary, %1$s.orders,
                       EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) %1$s.first_order)::double precision
                       OPERATOR(pg_catalog./) 86400, %6$s),
                   (SELECT pg_catalog.array_position(cfg.tiers, pin.tier) FROM customer_tier.pin AS pin
                     WHERE pin.program OPERATOR(pg_catalog.=) cfg.name
                       AND pin.customer OPERATOR(pg_catalog.=) %2$s::text
                       AND (pin.expires_at IS NULL OR pin.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())),
                   cfg.downgrade_grace, pg_catalog.now()) AS nt)$sql$,
        m, key, cur_tier, cur_since, cur_pending, cur_abc, source);
END
$$;
COMMENT ON FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text) IS
    'SQL text of the one scoring path: scores, value score, segment and tier (with hysteresis and pins) of a customer';

-- Recompute a program's population breakpoints from its customers (quintiles
-- of recency in days, orders and monetary value) and store them; the triggers
-- score against them until the next run.
CREATE FUNCTION customer_tier.refresh_breakpoints(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    SELECT * INTO STRICT prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) refresh_breakpoints.program;
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
COMMENT ON FUNCTION customer_tier.refresh_breakpoints(text) IS
    'recompute and store a program''s R, F and M quintile breakpoints from its customers';

-- Score the customers of a program that satisfy condition (SQL on alias c)
-- through the one scoring path; with abc_table (a table of customer,
-- abc_class), also store the ABC classes a run computed and qualify on them.
-- Returns the number of customers whose tier changed.
CREATE FUNCTION customer_tier.rescore_where(program text, source text, condition text,
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
             THEN customer_tier.program_scoring_sql('c', 'c.customer', 'c', pg_catalog.quote_literal(source))
             ELSE format('(SELECT sc.*, a.abc_class FROM %s AS sc)',
                         customer_tier.program_scoring_sql('c', 'c.customer', 'c',
                                                           pg_catalog.quote_literal(source), 'a.abc_class')) END,
        CASE WHEN abc_table IS NULL THEN '' ELSE format('FROM %s AS a', abc_table) END,
        condition,
        CASE WHEN abc_table IS NULL THEN ''
             ELSE 'AND a.customer OPERATOR(pg_catalog.=) c.customer' END)
      INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_where(text, text, text, text) IS
    'score the customers of a program that satisfy a condition through the one scoring path; returns how many changed tier';

-- Score every customer of a program, or only the one whose key's text form is
-- customer; returns the number of customers whose tier changed.
CREATE FUNCTION customer_tier.rescore_program(program text, source text, customer text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) rescore_program.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    RETURN customer_tier.rescore_where(program, source,
        CASE WHEN customer IS NULL THEN 'true'
             ELSE format('c.customer OPERATOR(pg_catalog.=) %L::%s', customer, prog.customer_type) END);
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_program(text, text, text) IS
    'score every customer of a program, or one (scores, segment, tier with hysteresis and pins); returns how many changed tier';

REVOKE ALL ON FUNCTION customer_tier.refresh_breakpoints(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rescore_program(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rescore_where(text, text, text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.program_scored_columns() FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text) FROM PUBLIC;
-- customer_tier install script, part 66: a program's views for BI tools
-- (docs/views.md).
--
-- In the program's schema ct_<name>: segments (one row per customer),
-- tier_summary (one row per tier, a Pareto view), tier_changes (tier_history
-- with ranks) and migration(from_date, to_date) (the tier migration matrix).
-- They show what BI may see and nothing else: never the order_stats states.
-- They are ordinary views, so they read the tables with their owner's rights:
-- a BI role needs SELECT on the views only.  The view and function bodies are
-- parsed here, under this function's pinned search_path, so the operators in
-- them are pg_catalog's whatever the reader's search_path.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- A grace period as next_tier measures it, a year being 360 days, a month
-- 30 days and a day 24 hours (PostgreSQL's interval comparison), as a pure
-- time span: pending_since plus this is when a pending downgrade is due,
-- across a change to or from summer time too.
CREATE FUNCTION customer_tier.grace_span(grace interval)
RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (pg_catalog.date_part('year', grace) * 360 + pg_catalog.date_part('month', grace) * 30
        + pg_catalog.date_part('day', grace)) * interval '24 hours'
       + (grace - pg_catalog.date_trunc('day', grace));
COMMENT ON FUNCTION customer_tier.grace_span(interval) IS
    'a grace period in hours as next_tier counts it (a month is 30 days, a day 24 hours): pending_since + grace_span(grace) is when a downgrade is due';

-- Create the views of a program's schema (called by create_program_objects).
CREATE FUNCTION customer_tier.create_program_views(prog customer_tier.program)
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
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_views(customer_tier.program) IS
    'create the BI views of a program''s schema: segments, tier_changes, tier_summary, and the function migration(from_date, to_date)';

-- Drop the views of a program's schema (called by drop_program_objects, first).
-- RESTRICT: a user's own view over them makes drop_program fail, by name.
CREATE FUNCTION customer_tier.drop_program_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    detail text;
BEGIN
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
COMMENT ON FUNCTION customer_tier.drop_program_views(customer_tier.program) IS
    'drop the BI views of a program''s schema, refusing (dependent_objects_still_exist) while other objects depend on them';

REVOKE ALL ON FUNCTION customer_tier.create_program_views(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program_views(customer_tier.program) FROM PUBLIC;
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
    run_by       name NOT NULL DEFAULT CURRENT_USER
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
SELECT pg_catalog.pg_extension_config_dump('customer_tier.run', '');

-- The advisory lock key of a program's runs: one lock per program name.
CREATE FUNCTION customer_tier.run_lock_key(program text)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (pg_catalog.hashtext('customer_tier.reclassify')::bigint OPERATOR(pg_catalog.<<) 32)
       OPERATOR(pg_catalog.|) (pg_catalog.hashtext(program)::bigint OPERATOR(pg_catalog.&) 4294967295);
COMMENT ON FUNCTION customer_tier.run_lock_key(text) IS
    'the advisory lock key held while a program is reclassified';

-- Reclassify a program.  A procedure, so that it can commit between batches;
-- it therefore has no SET clause (PostgreSQL forbids transaction control
-- there) and qualifies every name and operator instead.
CREATE PROCEDURE customer_tier.reclassify(program text, batch_size integer DEFAULT 10000)
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
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) reclassify.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
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
COMMENT ON PROCEDURE customer_tier.reclassify(text, integer) IS
    'recompute breakpoints and ABC classes, then rescore every customer in committed batches; logged in customer_tier.run';

REVOKE ALL ON PROCEDURE customer_tier.reclassify(text, integer) FROM PUBLIC;

-- Schedule a program's reclassification with pg_cron; returns the cron job id.
-- pg_cron runs a multi-statement command as one transaction, in which a
-- procedure cannot commit: the scheduled command is a lone CALL.
CREATE FUNCTION customer_tier.schedule(program text, cron_expression text)
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
    IF NOT EXISTS (SELECT FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) schedule.program) THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
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
COMMENT ON FUNCTION customer_tier.schedule(text, text) IS
    'schedule CALL customer_tier.reclassify(program) with pg_cron (job name customer_tier_<program>); returns the job id';

-- Remove a program's pg_cron job; returns whether there was one.
CREATE FUNCTION customer_tier.unschedule(program text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Nothing was scheduled through pg_cron here; remove the job from the scheduler that runs it.';
    END IF;
    EXECUTE 'SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM cron.job AS j
              WHERE j.jobname OPERATOR(pg_catalog.=) $1'
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
-- customer_tier install script, part 70: tier rules as data, pins and hysteresis.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- A program's tiers, best first.  A tier's non-NULL conditions must all hold;
-- the last tier has none (the catch-all).  Replaced whole by set_tiers(), and
-- checked as a set at commit by a deferred constraint trigger, so direct DML
-- cannot leave an invalid set either.
CREATE TABLE customer_tier.tier (
    program         text NOT NULL REFERENCES customer_tier.program (name)
                    ON DELETE CASCADE ON UPDATE CASCADE,
    tier            text NOT NULL
                    CONSTRAINT tier_name_format CHECK (tier ~ '^[a-z][a-z0-9_]{0,39}$'),
    rank            integer NOT NULL
                    CONSTRAINT tier_rank_positive CHECK (rank >= 1),
    min_value_score double precision
                    CONSTRAINT tier_min_value_score CHECK (min_value_score >= 0 AND min_value_score <= 100),
    -- At most 15 significant digits: the compiled rules hold it as a double
    -- and compare exactly only if the double gives the decimal back.
    min_monetary    numeric
                    CONSTRAINT tier_min_monetary CHECK (min_monetary >= 0 AND min_monetary < 1e300
                        AND min_monetary::double precision::numeric = min_monetary),
    -- At most 2^53, where whole numbers stop being exact as doubles.
    min_orders      bigint
                    CONSTRAINT tier_min_orders CHECK (min_orders >= 0 AND min_orders <= 9007199254740992),
    min_tenure_days double precision
                    CONSTRAINT tier_min_tenure_days CHECK (min_tenure_days >= 0 AND min_tenure_days < 1e300),
    abc_class       text
                    CONSTRAINT tier_abc_class CHECK (abc_class IN ('A', 'B', 'C')),
    CONSTRAINT tier_pkey PRIMARY KEY (program, tier),
    -- Deferrable so that set_tiers() can renumber kept tiers in one statement.
    CONSTRAINT tier_program_rank UNIQUE (program, rank) DEFERRABLE INITIALLY IMMEDIATE
);
COMMENT ON TABLE customer_tier.tier IS
    'tiers of each program, rank 1 the best: a customer gets the best tier whose every non-NULL condition holds; the last tier has no condition';
COMMENT ON COLUMN customer_tier.tier.program IS 'the program the tier belongs to';
COMMENT ON COLUMN customer_tier.tier.tier IS 'tier name: lowercase letters, digits, underscores';
COMMENT ON COLUMN customer_tier.tier.rank IS 'position, 1 = best; ranks of a program run 1..n without gaps';
COMMENT ON COLUMN customer_tier.tier.min_value_score IS 'condition: value score (0..100) at least this; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_monetary IS 'condition: lifetime spend at least this (at most 15 significant digits); NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_orders IS 'condition: number of orders at least this; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_tenure_days IS 'condition: days since the first order at least this; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.abc_class IS 'condition (method abc): the customer''s ABC class is this one; NULL = not checked';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.tier', '');

-- The non-NULL conditions of a tier as a JSON object, e.g. {"min_orders": 3, "min_monetary": 250}.
CREATE FUNCTION customer_tier.tier_conditions(t customer_tier.tier)
RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.to_jsonb(t) - '{program,tier,rank}'::text[]);
COMMENT ON FUNCTION customer_tier.tier_conditions(customer_tier.tier) IS
    'the non-NULL conditions of a tier as a JSON object, e.g. {"min_orders": 3, "min_monetary": 250}; {} for the catch-all';

-- A tier's conditions as text for messages: min_monetary >= 250 and min_orders >= 3.
CREATE FUNCTION customer_tier.tier_conditions_text(t customer_tier.tier)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT coalesce(string_agg(CASE WHEN c.key = 'abc_class' THEN format('abc_class = %s', c.value #>> '{}')
                                        ELSE format('%s >= %s', c.key, c.value) END,
                                   ' and ' ORDER BY c.key),
                        'no condition')
          FROM jsonb_each(customer_tier.tier_conditions(t)) AS c);
COMMENT ON FUNCTION customer_tier.tier_conditions_text(customer_tier.tier) IS
    'a tier''s conditions as text, e.g. "min_monetary >= 250 and min_orders >= 3", or "no condition"';

-- Whether every customer who meets the conditions of worse also meets those of
-- better.  Conditions are lower bounds (and one class), so this holds exactly
-- when each condition of better is also a condition of worse, at least as strict.
CREATE FUNCTION customer_tier.tier_implies(worse customer_tier.tier, better customer_tier.tier)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT coalesce(bool_and(CASE WHEN b.key = 'abc_class' THEN w.c -> b.key = b.value
                                      ELSE (w.c ->> b.key)::numeric >= (b.value #>> '{}')::numeric END
                                 IS TRUE), true)
          FROM (SELECT customer_tier.tier_conditions(worse) AS c) AS w,
               jsonb_each(customer_tier.tier_conditions(better)) AS b);
COMMENT ON FUNCTION customer_tier.tier_implies(customer_tier.tier, customer_tier.tier) IS
    'true if every customer meeting the conditions of the first tier also meets those of the second';

-- The checks that apply to a whole set of tiers, best first: the method's
-- conditions only, a catch-all last and only last, ABC classes in order, and
-- no tier made unreachable by a better one.  Used by set_tiers() before it
-- writes, and by the constraint trigger at commit.
CREATE FUNCTION customer_tier.check_tier_set(program text, method text, tiers customer_tier.tier[])
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
                   ELSE '{min_value_score,min_monetary,min_orders,min_tenure_days}'
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
COMMENT ON FUNCTION customer_tier.check_tier_set(text, text, customer_tier.tier[]) IS
    'raises invalid_parameter_value unless a set of tiers, best first, suits the method, ends with exactly one catch-all and has no unreachable tier';

-- Check the stored tiers of a program, as the constraint trigger does at commit.
CREATE FUNCTION customer_tier.check_program_tiers(program text)
RETURNS void
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    method text;
    tiers  customer_tier.tier[];
    i      integer;
BEGIN
    SELECT p.method INTO method FROM customer_tier.program AS p WHERE p.name = check_program_tiers.program;
    IF NOT FOUND THEN
        RETURN;                 -- dropped in this transaction: its tiers went with it
    END IF;
    SELECT array_agg(t ORDER BY t.rank) INTO tiers
      FROM customer_tier.tier AS t WHERE t.program = check_program_tiers.program;
    FOR i IN 1 .. coalesce(cardinality(tiers), 0) LOOP
        IF tiers[i].rank <> i THEN
            RAISE EXCEPTION 'ranks of the tiers of program "%" must run from 1 to % without gaps', program, cardinality(tiers)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Tier "%s" has rank %s where rank %s was expected.', tiers[i].tier, tiers[i].rank, i),
                      HINT = 'Replace the tiers whole with customer_tier.set_tiers(), which numbers them.';
        END IF;
    END LOOP;
    PERFORM customer_tier.check_tier_set(program, method, tiers);
END
$$;
COMMENT ON FUNCTION customer_tier.check_program_tiers(text) IS
    'raises invalid_parameter_value unless the stored tiers of a program form a valid set (see check_tier_set); nothing for an unknown program';

-- Constraint trigger: a program's tiers are checked as a set at commit.
CREATE FUNCTION customer_tier.tier_check_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'program' THEN
        PERFORM customer_tier.check_program_tiers(NEW.name);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM customer_tier.check_program_tiers(OLD.program);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.program <> OLD.program) THEN
        PERFORM customer_tier.check_program_tiers(NEW.program);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION customer_tier.tier_check_trigger() IS
    'constraint trigger on tier and program: checks the tiers of the programs touched, at commit';

CREATE CONSTRAINT TRIGGER tier_set_valid
    AFTER INSERT OR UPDATE OR DELETE ON customer_tier.tier
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION customer_tier.tier_check_trigger();
-- A change of method must come with tiers that suit it (set_method does both).
CREATE CONSTRAINT TRIGGER program_tiers_suit_method
    AFTER UPDATE OF method ON customer_tier.program
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION customer_tier.tier_check_trigger();

-- Replace a program's tiers whole: parse and check everything, then write.
-- tiers is a JSON array, best first:
--   [{"tier": "diamond", "min_value_score": 80}, {"tier": "gold", "min_value_score": 50}, {"tier": "normal"}]
-- Tiers that keep their name keep their pins; removing a tier that customers
-- are pinned to is refused.  Returns the number of tiers.
CREATE FUNCTION customer_tier.set_tiers(program text, tiers jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    accepted constant text[] := '{tier,min_value_score,min_monetary,min_orders,min_tenure_days,abc_class}';
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
                                                     ELSE 'min_value_score, min_monetary, min_orders, min_tenure_days' END);
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
           (program, tier, rank, min_value_score, min_monetary, min_orders, min_tenure_days, abc_class)
    SELECT n.program, n.tier, n.rank, n.min_value_score, n.min_monetary, n.min_orders, n.min_tenure_days, n.abc_class
      FROM unnest(parsed) AS n
    ON CONFLICT ON CONSTRAINT tier_pkey DO UPDATE
       SET rank = excluded.rank, min_value_score = excluded.min_value_score,
           min_monetary = excluded.min_monetary, min_orders = excluded.min_orders,
           min_tenure_days = excluded.min_tenure_days, abc_class = excluded.abc_class;
    RETURN cardinality(parsed);
END
$$;
COMMENT ON FUNCTION customer_tier.set_tiers(text, jsonb) IS
    'replace a program''s tiers whole from a JSON array, best first, after checking names, keys, thresholds, the method, the catch-all and overlaps; returns the number of tiers';

-- The default tiers of each method, diamond / gold / normal.
CREATE FUNCTION customer_tier.default_tiers(program text)
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
    SELECT p.method INTO method FROM customer_tier.program AS p WHERE p.name = default_tiers.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
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
COMMENT ON FUNCTION customer_tier.default_tiers(text) IS
    'set a program''s tiers to its method''s defaults: diamond / gold / normal (rfm: value score 80, 50; abc: classes A, B; rules: spend 1000 and 10 orders, 250 and 3 orders); returns 3';

-- Change a program's method; its tiers are reset to the new method's defaults.
CREATE FUNCTION customer_tier.set_method(program text, method text)
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
    UPDATE customer_tier.program AS p SET method = set_method.method WHERE p.name = set_method.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    RETURN customer_tier.default_tiers(program);
END
$$;
COMMENT ON FUNCTION customer_tier.set_method(text, text) IS
    'change a program''s method (rules, rfm, abc) and reset its tiers to that method''s defaults; returns the number of tiers';

-- Compile a program's tiers for qualify_tier: one row per tier, best first;
-- columns min_value_score, min_monetary, min_orders, min_tenure_days,
-- abc_class (1 = A, 2 = B, 3 = C); NaN where a tier has no such condition.
CREATE FUNCTION customer_tier.tier_rules(program text)
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
        IF NOT EXISTS (SELECT FROM customer_tier.program AS p WHERE p.name = tier_rules.program) THEN
            RAISE EXCEPTION 'program "%" does not exist', program
                USING ERRCODE = 'undefined_object',
                      HINT = 'SELECT name FROM customer_tier.program lists the programs.';
        END IF;
        PERFORM customer_tier.check_tier_set(program, NULL, NULL);   -- "has no tiers"
    END IF;
    RETURN rules;
END
$$;
COMMENT ON FUNCTION customer_tier.tier_rules(text) IS
    'a program''s tiers compiled for qualify_tier: a tiers x 5 array (min_value_score, min_monetary, min_orders, min_tenure_days, abc_class 1/2/3), best first, NaN = no condition';

CREATE FUNCTION customer_tier.qualify_tier(rules double precision[], value_score double precision,
                                           monetary numeric, orders bigint,
                                           tenure_days double precision, abc_class text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'qualify_tier'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.qualify_tier(double precision[], double precision, numeric, bigint, double precision, text) IS
    'rank of the best tier whose every condition holds, from rules compiled by tier_rules(); a condition on a NULL metric does not hold';

CREATE FUNCTION customer_tier.next_tier(current_rank integer, pending_since timestamptz,
                                        qualified_rank integer, pinned_rank integer,
                                        grace interval, as_of timestamptz,
                                        OUT rank integer, OUT pending_since timestamptz, OUT reason text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'next_tier'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.next_tier(integer, timestamptz, integer, integer, interval, timestamptz) IS
    'hysteresis: a pin wins; a new customer or an upgrade takes the qualified rank at once; a downgrade only once the customer has qualified lower for the grace period';

REVOKE ALL ON FUNCTION customer_tier.set_tiers(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.default_tiers(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.set_method(text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.tier_conditions(customer_tier.tier) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_conditions_text(customer_tier.tier) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_implies(customer_tier.tier, customer_tier.tier) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_tier_set(text, text, customer_tier.tier[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_program_tiers(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_check_trigger() FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_rules(text) FROM PUBLIC;
-- customer_tier install script, part 75: manual pins of customers to tiers.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- Manual pins: a strategic account keeps its tier whatever its metrics say.
CREATE TABLE customer_tier.pin (
    program    text NOT NULL REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    customer   text NOT NULL,
    tier       text NOT NULL,
    reason     text NOT NULL
               CONSTRAINT pin_reason_not_blank CHECK (reason ~ '[^[:space:]]'),
    pinned_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    pinned_by  name NOT NULL DEFAULT CURRENT_USER,
    expires_at timestamptz,
    CONSTRAINT pin_pkey PRIMARY KEY (program, customer),
    -- NO ACTION on delete: a tier that customers are pinned to cannot be
    -- removed (set_tiers says so by name); renaming a tier carries its pins.
    FOREIGN KEY (program, tier) REFERENCES customer_tier.tier (program, tier) ON UPDATE CASCADE
);
COMMENT ON TABLE customer_tier.pin IS
    'manual pins: the customer has the pinned tier, whatever the metrics, until the pin expires or is removed';
COMMENT ON COLUMN customer_tier.pin.program IS 'the program the pin belongs to';
COMMENT ON COLUMN customer_tier.pin.customer IS 'the customer key in its canonical text form (key::text of the program''s key type)';
COMMENT ON COLUMN customer_tier.pin.tier IS 'the pinned tier';
COMMENT ON COLUMN customer_tier.pin.reason IS 'why the customer is pinned (required)';
COMMENT ON COLUMN customer_tier.pin.pinned_at IS 'when the pin was set or last replaced';
COMMENT ON COLUMN customer_tier.pin.pinned_by IS 'the role that set the pin';
COMMENT ON COLUMN customer_tier.pin.expires_at IS 'the pin counts while as_of < expires_at; NULL = until removed';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.pin', '');

-- A customer key in its canonical text form for the program's key type
-- ('007' is '7' for bigint keys, a uuid in lowercase), or an error naming it.
CREATE FUNCTION customer_tier.customer_key_text(program text, customer text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog  customer_tier.program;
    key   text;
    state text;
BEGIN
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name = customer_key_text.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
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
COMMENT ON FUNCTION customer_tier.customer_key_text(text, text) IS
    'a customer key in the canonical text form of the program''s key type, as stored in pins; an error if it is not a valid key';

-- Pin a customer to a tier (or replace the customer's pin).
CREATE FUNCTION customer_tier.pin_customer(program text, customer text, tier text, reason text,
                                           expires_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
BEGIN
    IF program IS NULL OR customer IS NULL OR tier IS NULL THEN
        RAISE EXCEPTION 'program, customer and tier must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'To remove a pin, call customer_tier.unpin_customer(program, customer).';
    END IF;
    key := customer_tier.customer_key_text(program, customer);
    IF NOT EXISTS (SELECT FROM customer_tier.tier AS t
                    WHERE t.program = pin_customer.program AND t.tier = pin_customer.tier) THEN
        RAISE EXCEPTION 'tier "%" does not exist in program "%"', tier, program
            USING ERRCODE = 'undefined_object',
                  HINT = format('The tiers of program "%s" are: %s.', program,
                                (SELECT string_agg(t.tier, ', ' ORDER BY t.rank) FROM customer_tier.tier AS t
                                  WHERE t.program = pin_customer.program));
    END IF;
    IF reason IS NULL OR reason !~ '[^[:space:]]' THEN
        RAISE EXCEPTION 'a pin needs a reason'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Say why the customer keeps this tier, e.g. ''strategic account, contract until 2027''.';
    END IF;
    IF expires_at <= now() THEN
        RAISE EXCEPTION 'the pin''s expiry must be in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('expires_at is %s; the transaction started at %s.', expires_at, now()),
                  HINT = 'Pass a future time, or NULL for a pin that lasts until it is removed.';
    END IF;
    INSERT INTO customer_tier.pin AS p (program, customer, tier, reason, expires_at)
    VALUES (program, key, tier, reason, expires_at)
    ON CONFLICT ON CONSTRAINT pin_pkey DO UPDATE
       SET tier = excluded.tier, reason = excluded.reason, expires_at = excluded.expires_at,
           pinned_at = excluded.pinned_at, pinned_by = excluded.pinned_by;
    -- the pin takes effect now, through the one scoring path
    PERFORM customer_tier.rescore_program(program, 'pin', key);
END
$$;
COMMENT ON FUNCTION customer_tier.pin_customer(text, text, text, text, timestamptz) IS
    'pin a customer to a tier with a reason and an optional expiry, replacing any pin the customer has';

-- Remove a customer's pin; returns whether there was one.
CREATE FUNCTION customer_tier.unpin_customer(program text, customer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
BEGIN
    IF program IS NULL OR customer IS NULL THEN
        RAISE EXCEPTION 'program and customer must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    key := customer_tier.customer_key_text(program, customer);
    DELETE FROM customer_tier.pin AS p WHERE p.program = unpin_customer.program AND p.customer = key;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- back to the scores, through hysteresis: a downgrade waits for the grace period
    PERFORM customer_tier.rescore_program(program, 'unpin', key);
    RETURN true;
END
$$;
COMMENT ON FUNCTION customer_tier.unpin_customer(text, text) IS
    'remove a customer''s pin; returns true if there was one';

REVOKE ALL ON FUNCTION customer_tier.pin_customer(text, text, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.unpin_customer(text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.customer_key_text(text, text) FROM PUBLIC;
-- customer_tier install script, part 90: roles and privileges (docs/security.md).
--
-- Three group roles (NOLOGIN) that a DBA grants to application logins:
--   customer_tier_reader  BI: the catalog, and a program's views, tier history
--                         and customer columns other than the internal states
--   customer_tier_writer  a CRM application: the segments view; its writes to
--                         its own orders table maintain the programs through
--                         the SECURITY DEFINER trigger functions
--   customer_tier_admin   programs, tier rules, pins, runs, verification, and
--                         everything the reader may do
-- Roles belong to the cluster, not to the database: DROP EXTENSION leaves
-- them (another database may use them), and a second database's CREATE
-- EXTENSION finds them already there.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- Create each role if it is missing.  A role of that name that already exists
-- is used only if it is what this script would have created: a role that can
-- log in, has any other attribute than NOLOGIN, or is a member of some other
-- role (pg_read_server_files, say) would hand that power to every login the
-- DBA later grants it to, so it is refused rather than trusted.
DO $roles$
DECLARE
    r pg_catalog.pg_roles;
    role_name text;
    other text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['customer_tier_reader', 'customer_tier_writer', 'customer_tier_admin'] LOOP
        SELECT * INTO r FROM pg_catalog.pg_roles AS a WHERE a.rolname OPERATOR(pg_catalog.=) role_name;
        IF NOT FOUND THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
                                      ' NOREPLICATION NOBYPASSRLS', role_name);
            EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', role_name,
                CASE role_name
                    WHEN 'customer_tier_reader' THEN 'customer_tier: read programs, tiers, segments and tier history (BI)'
                    WHEN 'customer_tier_writer' THEN 'customer_tier: a CRM application whose order writes maintain programs'
                    ELSE 'customer_tier: manage programs, tier rules, pins and runs' END);
            CONTINUE;
        END IF;
        IF r.rolcanlogin OR r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication
           OR r.rolbypassrls THEN
            RAISE EXCEPTION 'role "%" already exists and is not a plain group role', role_name
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('customer_tier grants privileges to role "%s"; the existing role has%s%s%s%s%s%s.',
                          role_name,
                          CASE WHEN r.rolcanlogin THEN ' LOGIN' ELSE '' END,
                          CASE WHEN r.rolsuper THEN ' SUPERUSER' ELSE '' END,
                          CASE WHEN r.rolcreatedb THEN ' CREATEDB' ELSE '' END,
                          CASE WHEN r.rolcreaterole THEN ' CREATEROLE' ELSE '' END,
                          CASE WHEN r.rolreplication THEN ' REPLICATION' ELSE '' END,
                          CASE WHEN r.rolbypassrls THEN ' BYPASSRLS' ELSE '' END),
                      HINT = pg_catalog.format('Make it a plain group role (ALTER ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS), or drop it, then create the extension again.',
                          role_name);
        END IF;
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(g.rolname), ', ' ORDER BY g.rolname) INTO other
          FROM pg_catalog.pg_auth_members AS m
          JOIN pg_catalog.pg_roles AS g ON g.oid OPERATOR(pg_catalog.=) m.roleid
         WHERE m.member OPERATOR(pg_catalog.=) r.oid
           AND NOT (role_name OPERATOR(pg_catalog.=) 'customer_tier_admin'
                    AND g.rolname OPERATOR(pg_catalog.=) 'customer_tier_reader');
        IF other IS NOT NULL THEN
            RAISE EXCEPTION 'role "%" already exists and is a member of other roles', role_name
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('Role "%s" is a member of %s; every login granted "%s" would get their privileges.',
                                                 role_name, other, role_name),
                      HINT = pg_catalog.format('Revoke those memberships (REVOKE %s FROM %I), or drop the role, then create the extension again.',
                                               other, role_name);
        END IF;
    END LOOP;
    -- The admin may do what the reader may.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members AS m
                    WHERE m.roleid OPERATOR(pg_catalog.=) 'customer_tier_reader'::regrole
                      AND m.member OPERATOR(pg_catalog.=) 'customer_tier_admin'::regrole) THEN
        GRANT customer_tier_reader TO customer_tier_admin;
    END IF;
END
$roles$;

-- PUBLIC keeps USAGE (granted in part 00) for the pure building blocks; the
-- roles get it explicitly so that a DBA may revoke it from PUBLIC.
GRANT USAGE ON SCHEMA customer_tier TO customer_tier_reader, customer_tier_writer, customer_tier_admin;

-- The catalog: readable by BI, written by the admin.  The configuration
-- functions run with their caller's rights, so the admin writes these tables
-- through them; the CHECK constraints and the constraint triggers on tier
-- validate a direct write just as they validate the functions'.
GRANT SELECT ON customer_tier.program, customer_tier.tier, customer_tier.pin, customer_tier.run TO customer_tier_reader;
GRANT INSERT, UPDATE, DELETE ON customer_tier.program, customer_tier.tier, customer_tier.pin TO customer_tier_admin;
-- reclassify logs and closes its runs; deleting old runs is housekeeping
GRANT INSERT, UPDATE, DELETE ON customer_tier.run TO customer_tier_admin;

-- Configuration, runs and verification: the admin only (all are revoked
-- from PUBLIC where they are defined).  Then the internal helpers that they
-- and the triggers call, granted to the role that needs them so that it keeps
-- them when they are revoked from PUBLIC.  Granted by name, every overload.
DO $grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT p.oid::regprocedure AS routine, w.grantee
          FROM (VALUES
                -- configuration, runs, verification
                ('create_program', 'customer_tier_admin'), ('drop_program', 'customer_tier_admin'),
                ('configure_program', 'customer_tier_admin'), ('set_tiers', 'customer_tier_admin'),
                ('default_tiers', 'customer_tier_admin'), ('set_method', 'customer_tier_admin'),
                ('pin_customer', 'customer_tier_admin'), ('unpin_customer', 'customer_tier_admin'),
                ('refresh_breakpoints', 'customer_tier_admin'), ('rescore_program', 'customer_tier_admin'),
                ('rescore_where', 'customer_tier_admin'), ('reclassify', 'customer_tier_admin'),
                ('schedule', 'customer_tier_admin'), ('unschedule', 'customer_tier_admin'),
                ('verify_program', 'customer_tier_admin'), ('rebuild_program', 'customer_tier_admin'),
                ('create_program_objects', 'customer_tier_admin'), ('drop_program_objects', 'customer_tier_admin'),
                ('create_program_views', 'customer_tier_admin'), ('drop_program_views', 'customer_tier_admin'),
                -- internal helpers
                ('column_type', 'customer_tier_admin'), ('check_column_type', 'customer_tier_admin'),
                ('program_row_problem_sql', 'customer_tier_admin'), ('program_row_counts_sql', 'customer_tier_admin'),
                ('program_rejects_sql', 'customer_tier_admin'), ('program_apply_sql', 'customer_tier_admin'),
                ('program_apply_block_sql', 'customer_tier_admin'), ('program_trigger_name', 'customer_tier_admin'),
                ('program_scored_columns', 'customer_tier_admin'), ('program_config_cte_sql', 'customer_tier_admin'),
                ('program_scoring_sql', 'customer_tier_admin'), ('tier_implies', 'customer_tier_admin'),
                ('check_tier_set', 'customer_tier_admin'), ('check_program_tiers', 'customer_tier_admin'),
                ('customer_key_text', 'customer_tier_admin'), ('run_lock_key', 'customer_tier_admin'),
                ('announce_tier_change', 'customer_tier_admin'),
                -- reading a program's rules is BI's business too
                ('tier_rules', 'customer_tier_reader'), ('tier_conditions', 'customer_tier_reader'),
                ('tier_conditions_text', 'customer_tier_reader')) AS w (routine, grantee)
          JOIN pg_catalog.pg_proc AS p
            ON p.proname OPERATOR(pg_catalog.=) w.routine
           AND p.pronamespace OPERATOR(pg_catalog.=) 'customer_tier'::regnamespace
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO %I', g.routine, g.grantee);
    END LOOP;
END
$grants$;

-- Grant the roles what they need on a program's objects (called by
-- create_program_objects, once the program's objects exist).  The reader
-- sees every view of the schema (they show BI data and never the internal
-- states), the tier history, and the customers' columns other than the
-- order_stats states; never the rejects, which hold whole order rows.  The
-- writer sees the segments view only.  The admin may also correct and erase
-- (rescore_program updates customers; erasure deletes from all three tables).
-- Functions of the schema are revoked from PUBLIC; its views' and ordinary
-- functions are granted to the reader.
CREATE FUNCTION customer_tier.grant_program_access(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    cols text;
    obj record;
BEGIN
    IF prog.data_schema IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO customer_tier_reader, customer_tier_writer, customer_tier_admin', s);

    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute AS a
     WHERE a.attrelid OPERATOR(pg_catalog.=) format('%I.customers', s)::regclass
       AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped
       AND a.atttypid OPERATOR(pg_catalog.<>) 'customer_tier.order_stats_state'::regtype;
    EXECUTE format('GRANT SELECT (%s) ON %I.customers TO customer_tier_reader', cols, s);
    EXECUTE format('GRANT SELECT ON %I.tier_history TO customer_tier_reader', s);
    EXECUTE format('GRANT SELECT, UPDATE, DELETE ON %I.customers TO customer_tier_admin', s);
    EXECUTE format('GRANT SELECT, DELETE ON %I.tier_history, %I.rejects TO customer_tier_admin', s, s);

    FOR obj IN
        SELECT c.relname FROM pg_class AS c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) s::regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::"char"[])
         ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO customer_tier_reader', s, obj.relname);
        IF obj.relname OPERATOR(pg_catalog.=) 'segments' THEN
            EXECUTE format('GRANT SELECT ON %I.%I TO customer_tier_writer', s, obj.relname);
        END IF;
    END LOOP;

    FOR obj IN
        SELECT p.oid::regprocedure AS fn, p.prorettype OPERATOR(pg_catalog.=) 'trigger'::regtype AS is_trigger
          FROM pg_proc AS p
         WHERE p.pronamespace OPERATOR(pg_catalog.=) s::regnamespace
         ORDER BY p.oid
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', obj.fn);
        IF NOT obj.is_trigger THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO customer_tier_reader', obj.fn);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.grant_program_access(customer_tier.program) IS
    'grant the reader, writer and admin roles their privileges on a program''s schema';
REVOKE ALL ON FUNCTION customer_tier.grant_program_access(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.grant_program_access(customer_tier.program) TO customer_tier_admin;

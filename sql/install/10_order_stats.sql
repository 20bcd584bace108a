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

-- Timestamp and date order times become timestamptz read as UTC, whatever the
-- session's TimeZone (docs/order_stats.md).  Still labelled STABLE, as in 0.2.0
-- when they were read in the session's zone: raising it to IMMUTABLE would
-- need an ALTER in the upgrade and gains nothing for an aggregate.
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

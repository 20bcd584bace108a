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

-- @routines
CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_in(cstring)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_in(cstring) IS
    'Input function of order_stats_state: reads and validates the versioned text form';

CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_out(customer_tier.order_stats_state)
    RETURNS cstring
    AS 'MODULE_PATHNAME', 'order_stats_state_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_out(customer_tier.order_stats_state) IS
    'Output function of order_stats_state: the versioned text form (v1)';

CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_recv(internal)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_recv(internal) IS
    'Binary input function of order_stats_state: reads and validates the versioned binary form';

CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_send(customer_tier.order_stats_state)
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'order_stats_state_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_send(customer_tier.order_stats_state) IS
    'Binary output function of order_stats_state: the versioned binary form (v1)';
-- @end

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

-- @routines
CREATE OR REPLACE FUNCTION customer_tier.order_stats_combine(customer_tier.order_stats_state, customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_combine'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_combine(customer_tier.order_stats_state, customer_tier.order_stats_state) IS
    'Combine function of order_stats: merges two partial states (aggregate use only)';

-- Timestamp and date order times become timestamptz read as UTC, whatever the
-- session's TimeZone (docs/order_stats.md).  Still labelled STABLE, as in 0.2.0
-- when they were read in the session's zone: raising it to IMMUTABLE would
-- need an ALTER in the upgrade and gains nothing for an aggregate.
CREATE OR REPLACE FUNCTION customer_tier.order_stats_final(customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats
    AS 'MODULE_PATHNAME', 'order_stats_final'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_final(customer_tier.order_stats_state) IS
    'Final function of order_stats: computes the result row from a state';

-- One transition function and one aggregate per (time type, amount type), so
-- that a CRM's columns work without casts: the C functions are
-- order_stats_trans_<time>_<amount> (src/blocks/order_stats.c).
DO $variants$
DECLARE
    t record;
    a record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('timestamptz', 'tz'), ('timestamp', 'ts'), ('date', 'date')) AS v(type, tag) LOOP
        FOR a IN SELECT * FROM (VALUES ('numeric', 'numeric'), ('bigint', 'int8'), ('integer', 'int4'),
                                       ('double precision', 'float8'), ('money', 'money')) AS v(type, tag) LOOP
            EXECUTE format($sql$
                CREATE OR REPLACE FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, %1$s, %2$s)
                    RETURNS customer_tier.order_stats_state
                    AS 'MODULE_PATHNAME', %3$L
                    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
                COMMENT ON FUNCTION customer_tier.order_stats_transfn(customer_tier.order_stats_state, %1$s, %2$s) IS
                    %4$L;
                CREATE OR REPLACE AGGREGATE customer_tier.order_stats(ordered_at %1$s, amount %2$s) (
                    SFUNC = customer_tier.order_stats_transfn,
                    STYPE = customer_tier.order_stats_state,
                    FINALFUNC = customer_tier.order_stats_final,
                    COMBINEFUNC = customer_tier.order_stats_combine,
                    SSPACE = 288,
                    PARALLEL = SAFE
                );
                COMMENT ON AGGREGATE customer_tier.order_stats(%1$s, %2$s) IS %5$L$sql$,
                t.type, a.type, format('order_stats_trans_%s_%s', t.tag, a.tag),
                format('Transition function of order_stats for %s times and %s amounts (aggregate use only)',
                       t.type, a.type),
                format('Purchase metrics of the orders (ordered_at %s, amount %s): count, exact monetary total, first/last order, gap mean and spread',
                       t.type, a.type));
        END LOOP;
    END LOOP;
END
$variants$;

-- Days since the last order and since the first, as of a given instant.
CREATE OR REPLACE FUNCTION customer_tier.recency_days(stats customer_tier.order_stats, as_of timestamptz)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (pg_catalog.extract('epoch', as_of OPERATOR(pg_catalog.-) (stats).last_order)
            OPERATOR(pg_catalog./) 86400)::double precision;
COMMENT ON FUNCTION customer_tier.recency_days(customer_tier.order_stats, timestamptz) IS
    'Days (fractional) from the last order to as_of; negative if as_of is before the last order';

CREATE OR REPLACE FUNCTION customer_tier.tenure_days(stats customer_tier.order_stats, as_of timestamptz)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (pg_catalog.extract('epoch', as_of OPERATOR(pg_catalog.-) (stats).first_order)
            OPERATOR(pg_catalog./) 86400)::double precision;
COMMENT ON FUNCTION customer_tier.tenure_days(customer_tier.order_stats, timestamptz) IS
    'Days (fractional) from the first order to as_of; negative if as_of is before the first order';
-- @end

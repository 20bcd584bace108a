-- customer_tier install script, part 61: keeping order_stats states in tables.
-- A program stores each customer's order_stats_state and applies the orders a
-- statement added or removed to it (src/blocks/order_stats_maintain.c).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
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
                CREATE OR REPLACE AGGREGATE customer_tier.order_stats_partial(ordered_at %1$s, amount %2$s) (
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

-- order_stats_of(ordered_at, amount): the state of one order, as
-- order_stats_partial over that one row gives it, for the same pairs of types.
CREATE OR REPLACE FUNCTION customer_tier.order_stats_of(ordered_at "any", amount "any")
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_of'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_of("any", "any") IS
    'the order_stats state of one order (NULL when its time or amount is NULL), as order_stats_partial over that one row';

CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_merge(customer_tier.order_stats_state,
                                                      customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_merge'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_merge(customer_tier.order_stats_state,
                                                          customer_tier.order_stats_state) IS
    'the state of the orders of both states (NULL means no orders)';

CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_subtract(customer_tier.order_stats_state,
                                                         customer_tier.order_stats_state)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_state_subtract'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_subtract(customer_tier.order_stats_state,
                                                             customer_tier.order_stats_state) IS
    'the state without the orders of the second state, or NULL when none is left; refuses orders the first does not hold';

CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_holds(customer_tier.order_stats_state,
                                                      customer_tier.order_stats_state)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'order_stats_state_holds'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_holds(customer_tier.order_stats_state,
                                                          customer_tier.order_stats_state) IS
    'whether the first state holds every order of the second (NULL holds nothing; anything holds NULL)';

-- The bounded form a program stores: count, exact total, first, latest and
-- second latest order, the exact sum of the squared gaps and the orders of
-- each UTC day of the last horizon days; its size does not grow with the
-- orders (docs/order_stats.md).
CREATE OR REPLACE FUNCTION customer_tier.order_stats_bounded(state customer_tier.order_stats_state, horizon integer)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_bounded'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_bounded(customer_tier.order_stats_state, integer) IS
    'the bounded form of a state (text form v2), keeping the orders per UTC day of the last horizon days before its latest order';
-- @end

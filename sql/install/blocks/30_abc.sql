-- customer_tier install script, part 30: ABC / Pareto classification.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
CREATE OR REPLACE FUNCTION customer_tier.abc_class(revenue double precision,
                                        a_cutoff double precision DEFAULT 80,
                                        b_cutoff double precision DEFAULT 95)
    RETURNS text
    AS 'MODULE_PATHNAME', 'abc_class'
    LANGUAGE C WINDOW IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.abc_class(double precision, double precision, double precision) IS
    'window function, OVER (ORDER BY revenue DESC): A if the revenue of customers with higher revenue is below a_cutoff% of the partition''s positive revenue, B if below b_cutoff%, else C; zero or negative revenue is C';

CREATE OR REPLACE FUNCTION customer_tier.abc_class_of(cumulative_share_before double precision,
                                           a_cutoff double precision DEFAULT 80,
                                           b_cutoff double precision DEFAULT 95)
    RETURNS text
    AS 'MODULE_PATHNAME', 'abc_class_of'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.abc_class_of(double precision, double precision, double precision) IS
    'ABC class from the cumulative revenue share (percent, 0..100) of the customers before this one: A below a_cutoff, B below b_cutoff, else C';
-- @end

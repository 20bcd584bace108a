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

-- abc_thresholds(revenue, a_cutoff, b_cutoff): the least revenue classed A
-- and B by abc_class's rule, so that a class is a comparison.  The state is a
-- plain double precision[] holding the cut-offs and then every positive
-- revenue, so partial states travel as text (Citus, parallel query).
CREATE OR REPLACE FUNCTION customer_tier.abc_thresholds_accum(double precision[], double precision,
                                                   double precision, double precision)
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'abc_thresholds_accum'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.abc_thresholds_accum(double precision[], double precision, double precision, double precision) IS
    'transition function of abc_thresholds(): appends a positive revenue to the state {a_cutoff, b_cutoff, revenues...}';

CREATE OR REPLACE FUNCTION customer_tier.abc_thresholds_combine(double precision[], double precision[])
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'abc_thresholds_combine'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.abc_thresholds_combine(double precision[], double precision[]) IS
    'combine function of abc_thresholds(): concatenates two states with the same cut-offs';

CREATE OR REPLACE FUNCTION customer_tier.abc_thresholds_final(double precision[])
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'abc_thresholds_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.abc_thresholds_final(double precision[]) IS
    'final function of abc_thresholds(): {least revenue classed A, least classed B}, as abc_class classes them';

CREATE OR REPLACE AGGREGATE customer_tier.abc_thresholds(revenue double precision, a_cutoff double precision,
                                              b_cutoff double precision) (
    SFUNC = customer_tier.abc_thresholds_accum,
    STYPE = double precision[],
    COMBINEFUNC = customer_tier.abc_thresholds_combine,
    FINALFUNC = customer_tier.abc_thresholds_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.abc_thresholds(double precision, double precision, double precision) IS
    'the least revenue classed A and the least classed B ({a, b}, NULL where no one is), by abc_class''s rule: revenue >= a is A, >= b is B, else C';
-- @end

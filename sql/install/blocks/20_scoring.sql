-- customer_tier install script, part 20: scoring building blocks —
-- quantile breakpoints, scores, RFM segments and the value score.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- breakpoints(value, n): the state is a plain double precision[] holding n
-- first and then every non-NULL value, so partial states travel as text.
CREATE OR REPLACE FUNCTION customer_tier.breakpoints_accum(double precision[], double precision, integer)
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'breakpoints_accum'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.breakpoints_accum(double precision[], double precision, integer) IS
    'transition function of breakpoints(): appends a finite value to the state {n, values...}';

CREATE OR REPLACE FUNCTION customer_tier.breakpoints_combine(double precision[], double precision[])
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'breakpoints_combine'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.breakpoints_combine(double precision[], double precision[]) IS
    'combine function of breakpoints(): concatenates two states with the same number of quantiles';

CREATE OR REPLACE FUNCTION customer_tier.breakpoints_final(double precision[])
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'breakpoints_final'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.breakpoints_final(double precision[]) IS
    'final function of breakpoints(): the n-1 cut points at k/n, interpolated as percentile_cont does';

CREATE OR REPLACE AGGREGATE customer_tier.breakpoints(value double precision, n integer) (
    SFUNC = customer_tier.breakpoints_accum,
    STYPE = double precision[],
    COMBINEFUNC = customer_tier.breakpoints_combine,
    FINALFUNC = customer_tier.breakpoints_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.breakpoints(double precision, integer) IS
    'the n-1 quantile cut points of a population (n = 5 for quintiles), as percentile_cont at k/n; NULL values skipped';

CREATE OR REPLACE FUNCTION customer_tier.score(value double precision, breakpoints double precision[],
                                    higher_is_better boolean DEFAULT true)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'score'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.score(double precision, double precision[], boolean) IS
    'score 1..n of a value against n-1 breakpoints: 1 + breakpoints strictly below it (higher is better) or strictly above it (lower is better, e.g. recency in days)';

CREATE OR REPLACE FUNCTION customer_tier.rfm_segment(r integer, f integer, m integer)
    RETURNS text
    AS 'MODULE_PATHNAME', 'rfm_segment'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.rfm_segment(integer, integer, integer) IS
    'RFM segment name (Champions ... Lost) from R, F and M scores on 1..5, by R and FM = ceil((F+M)/2)';

CREATE OR REPLACE FUNCTION customer_tier.rfm_segments(
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

CREATE OR REPLACE FUNCTION customer_tier.value_score(r integer, f integer, m integer,
                                          weights double precision[] DEFAULT '{1,1,1}')
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'value_score'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.value_score(integer, integer, integer, double precision[]) IS
    'customer value on 0..100: weighted mean of (score - 1) / 4 * 100 over the R, F and M scores (1..5), weights {R,F,M}';
-- @end

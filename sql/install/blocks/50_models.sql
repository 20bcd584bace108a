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

-- @routines
-- The aggregate state: the input rows laid end to end in a float8[].
CREATE OR REPLACE FUNCTION customer_tier.bgnbd_accum(state double precision[], x integer,
                                          t_x double precision, t double precision)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'bgnbd_accum'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.bgnbd_accum(double precision[], integer, double precision, double precision) IS
    'bgnbd_fit transition: validates (x, t_x, t) and appends it to the row array; rows with a NULL are skipped';

CREATE OR REPLACE FUNCTION customer_tier.model_rows_combine(state double precision[], other double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'model_rows_combine'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.model_rows_combine(double precision[], double precision[]) IS
    'bgnbd_fit and gamma_gamma_fit combine: appends the rows of the second state to the first';

CREATE OR REPLACE FUNCTION customer_tier.bgnbd_final(state double precision[])
RETURNS customer_tier.bgnbd_model
AS 'MODULE_PATHNAME', 'bgnbd_final'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.bgnbd_final(double precision[]) IS
    'bgnbd_fit final: groups identical rows and fits BG/NBD by maximum likelihood';

CREATE OR REPLACE AGGREGATE customer_tier.bgnbd_fit(x integer, t_x double precision, t double precision) (
    SFUNC = customer_tier.bgnbd_accum,
    STYPE = double precision[],
    FINALFUNC = customer_tier.bgnbd_final,
    COMBINEFUNC = customer_tier.model_rows_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.bgnbd_fit(integer, double precision, double precision) IS
    'fits the BG/NBD model (Fader, Hardie & Lee 2005) to per-customer (x repeat purchases, t_x recency, t age) by maximum likelihood';

CREATE OR REPLACE FUNCTION customer_tier.p_alive(model customer_tier.bgnbd_model, x integer,
                                      t_x double precision, t double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'bgnbd_p_alive'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.p_alive(customer_tier.bgnbd_model, integer, double precision, double precision) IS
    'BG/NBD probability that a customer with (x, t_x, t) is still active';

CREATE OR REPLACE FUNCTION customer_tier.expected_purchases(model customer_tier.bgnbd_model,
                                                 horizon double precision, x integer,
                                                 t_x double precision, t double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'bgnbd_expected_purchases'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.expected_purchases(customer_tier.bgnbd_model, double precision, integer, double precision, double precision) IS
    'BG/NBD expected purchases of a customer with (x, t_x, t) in the next horizon periods (Fader, Hardie & Lee 2005, eq. 10)';

CREATE OR REPLACE FUNCTION customer_tier.gamma_gamma_accum(state double precision[], x integer,
                                                mean_spend double precision)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'gamma_gamma_accum'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.gamma_gamma_accum(double precision[], integer, double precision) IS
    'gamma_gamma_fit transition: validates (x, mean_spend) and appends repeat buyers to the row array';

CREATE OR REPLACE FUNCTION customer_tier.gamma_gamma_final(state double precision[])
RETURNS customer_tier.gamma_gamma_model
AS 'MODULE_PATHNAME', 'gamma_gamma_final'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.gamma_gamma_final(double precision[]) IS
    'gamma_gamma_fit final: groups identical rows and fits Gamma-Gamma by maximum likelihood';

CREATE OR REPLACE AGGREGATE customer_tier.gamma_gamma_fit(x integer, mean_spend double precision) (
    SFUNC = customer_tier.gamma_gamma_accum,
    STYPE = double precision[],
    FINALFUNC = customer_tier.gamma_gamma_final,
    COMBINEFUNC = customer_tier.model_rows_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE customer_tier.gamma_gamma_fit(integer, double precision) IS
    'fits the Gamma-Gamma spend model (Fader & Hardie 2013) to repeat buyers'' (x, mean repeat spend); rows with x = 0 are skipped';

CREATE OR REPLACE FUNCTION customer_tier.expected_spend(model customer_tier.gamma_gamma_model, x integer,
                                             mean_spend double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'gamma_gamma_expected_spend'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.expected_spend(customer_tier.gamma_gamma_model, integer, double precision) IS
    'Gamma-Gamma expected spend per transaction of a customer with x repeat purchases averaging mean_spend';

CREATE OR REPLACE FUNCTION customer_tier.clv(bg customer_tier.bgnbd_model,
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
-- @end

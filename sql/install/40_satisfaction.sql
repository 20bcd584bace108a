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

-- customer_tier install script, part 40: satisfaction aggregates (NPS, CSAT).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- The states are bigint[] histograms, one counter per answer on the scale.
-- NPS and CSAT differ only in their scale and their final score (the C
-- functions nps_* and csat_*, src/blocks/satisfaction.c): one loop makes both.
DO $scales$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT * FROM (VALUES
        ('nps', '0..10', 11, 'an', '% promoters (9-10) minus % detractors (0-6), NULL without answers',
         'Net Promoter Score on -100..100 from 0..10 answers: % promoters (9-10) minus % detractors (0-6); NULL answers skipped'),
        ('csat', '1..5', 5, 'a', '% of answers that are 4 or 5, NULL without answers',
         'customer satisfaction score on 0..100 from 1..5 answers: % of answers that are 4 or 5; NULL answers skipped'))
        AS v(name, scale, counters, article, final, summary)
    LOOP
        EXECUTE format($sql$
            CREATE OR REPLACE FUNCTION customer_tier.%1$s_accum(bigint[], integer)
                RETURNS bigint[]
                AS 'MODULE_PATHNAME', %2$L
                LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION customer_tier.%1$s_accum(bigint[], integer) IS %3$L;
            CREATE OR REPLACE FUNCTION customer_tier.%1$s_combine(bigint[], bigint[])
                RETURNS bigint[]
                AS 'MODULE_PATHNAME', %4$L
                LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION customer_tier.%1$s_combine(bigint[], bigint[]) IS %5$L;
            CREATE OR REPLACE FUNCTION customer_tier.%1$s_final(bigint[])
                RETURNS double precision
                AS 'MODULE_PATHNAME', %6$L
                LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION customer_tier.%1$s_final(bigint[]) IS %7$L;
            CREATE OR REPLACE FUNCTION customer_tier.%1$s_retract(bigint[], integer)
                RETURNS bigint[]
                AS 'MODULE_PATHNAME', %8$L
                LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
            COMMENT ON FUNCTION customer_tier.%1$s_retract(bigint[], integer) IS %9$L;
            CREATE OR REPLACE AGGREGATE customer_tier.%1$s(score integer) (
                SFUNC = customer_tier.%1$s_accum,
                STYPE = bigint[],
                INITCOND = %10$L,
                COMBINEFUNC = customer_tier.%1$s_combine,
                FINALFUNC = customer_tier.%1$s_final,
                -- moving windows (a rolling score) take answers back instead of recounting
                MSFUNC = customer_tier.%1$s_accum,
                MINVFUNC = customer_tier.%1$s_retract,
                MSTYPE = bigint[],
                MINITCOND = %10$L,
                MFINALFUNC = customer_tier.%1$s_final,
                PARALLEL = SAFE
            );
            COMMENT ON AGGREGATE customer_tier.%1$s(integer) IS %11$L$sql$,
            k.name,
            k.name || '_accum',
            format('transition function of %s(): counts one %s answer in %s %s-counter histogram',
                   k.name, k.scale, k.article, k.counters),
            k.name || '_combine',
            format('combine function of %s(): adds two %s-counter histograms', k.name, k.counters),
            k.name || '_final',
            format('final function of %s(): %s', k.name, k.final),
            k.name || '_retract',
            format('inverse transition function of %s() in moving windows: takes back one %s answer', k.name, k.scale),
            '{' || array_to_string(array_fill(0, ARRAY[k.counters]), ',') || '}',
            k.summary);
    END LOOP;
END
$scales$;
-- @end

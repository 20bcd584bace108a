-- customer_tier install script, part 81: checking a program's feedback
-- rollups against its feedback table (docs/feedback.md).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- Every difference between what the feedback triggers maintain and a
-- recomputation: the copied answers against the usable rows of the feedback
-- table (as multisets, per customer), and each satisfaction row against its
-- customer's answers, with the row's own window.  No rows means no drift.
CREATE OR REPLACE FUNCTION customer_tier.verify_feedback(program text)
RETURNS TABLE (customer text, problem text, maintained jsonb, recomputed jsonb)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
BEGIN
    prog := customer_tier.named_program_row(program);
    src := customer_tier.feedback_source_row(prog);
    RETURN QUERY EXECUTE format($sql$
        WITH usable AS (
            SELECT u.customer, u.kind, u.score, u.answered_at, pg_catalog.count(*) AS n
              FROM (%2$s) AS u GROUP BY u.customer, u.kind, u.score, u.answered_at
        ), copied AS (
            SELECT a.customer, a.kind, a.score, a.answered_at, pg_catalog.count(*) AS n
              FROM %1$I.answers AS a GROUP BY a.customer, a.kind, a.score, a.answered_at
        ), answer_drift AS (
            SELECT coalesce(c.customer, u.customer) AS customer,
                   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('kind', c.kind, 'score', c.score,
                                        'answered_at', c.answered_at, 'copies', c.n)) FILTER (WHERE c.n IS NOT NULL) AS maintained,
                   pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('kind', u.kind, 'score', u.score,
                                        'answered_at', u.answered_at, 'copies', u.n)) FILTER (WHERE u.n IS NOT NULL) AS recomputed
              FROM copied AS c
              FULL JOIN usable AS u
                ON (u.customer, u.kind, u.score, u.answered_at) = (c.customer, c.kind, c.score, c.answered_at)
             WHERE c.n IS DISTINCT FROM u.n
             GROUP BY 1
        ), rollup AS (
            SELECT a.customer, pg_catalog.count(*) AS answers, pg_catalog.max(a.answered_at) AS last_answered_at,
                   (pg_catalog.array_agg(a.kind ORDER BY a.answered_at DESC, a.id DESC))[1] AS last_kind,
                   (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC))[1] AS last_score,
                   (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                        FILTER (WHERE a.kind = 'nps'))[1] AS last_nps,
                   (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                        FILTER (WHERE a.kind = 'csat'))[1] AS last_csat,
                   customer_tier.nps(a.score) FILTER (WHERE a.kind = 'nps'
                                                       AND a.answered_at > s.window_start) AS window_nps,
                   pg_catalog.count(*) FILTER (WHERE a.kind = 'nps'
                                                 AND a.answered_at > s.window_start) AS window_nps_answers,
                   customer_tier.csat(a.score) FILTER (WHERE a.kind = 'csat'
                                                        AND a.answered_at > s.window_start) AS window_csat,
                   pg_catalog.count(*) FILTER (WHERE a.kind = 'csat'
                                                 AND a.answered_at > s.window_start) AS window_csat_answers
              FROM %1$I.answers AS a
              LEFT JOIN %1$I.satisfaction AS s ON s.customer = a.customer
             GROUP BY a.customer
        ), kept AS (
            SELECT s.customer, s.answers, s.last_answered_at, s.last_kind, s.last_score, s.last_nps, s.last_csat,
                   s.window_nps, s.window_nps_answers, s.window_csat, s.window_csat_answers
              FROM %1$I.satisfaction AS s
        )
        SELECT d.customer::text, 'answers differ', d.maintained, d.recomputed
          FROM answer_drift AS d
        UNION ALL
        SELECT coalesce(k.customer, r.customer)::text,
               CASE WHEN k.customer IS NULL THEN 'satisfaction missing'
                    WHEN r.customer IS NULL THEN 'satisfaction unexpected'
                    ELSE 'satisfaction differs' END,
               pg_catalog.to_jsonb(k), pg_catalog.to_jsonb(r)
          FROM kept AS k
          FULL JOIN rollup AS r ON r.customer = k.customer
         WHERE pg_catalog.to_jsonb(k) IS DISTINCT FROM pg_catalog.to_jsonb(r)
         ORDER BY 1, 2$sql$,
        prog.data_schema, customer_tier.feedback_usable_sql(src, src.feedback_table::text));
END
$$;
COMMENT ON FUNCTION customer_tier.verify_feedback(text) IS
    'differences between a program''s copied answers and satisfaction rows and a recomputation from its feedback table; none means no drift';
REVOKE ALL ON FUNCTION customer_tier.verify_feedback(text) FROM PUBLIC;
-- @end

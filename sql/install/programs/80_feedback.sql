-- customer_tier install script, part 80: satisfaction rollups from a feedback
-- table of the CRM's own (docs/feedback.md).
--
-- Every program has, from its creation, three tables for this (created by
-- create_feedback_tables): answers (the usable answers of the attached
-- feedback table, copied by its triggers), satisfaction (one row per customer
-- with answers: latest answer, rolling NPS and CSAT) and feedback_rejects.
-- attach_feedback fills them and installs the triggers that keep them
-- current; detach_feedback empties them and removes the triggers.  The
-- tables exist whether or not a feedback table is attached, so the views and
-- functions over them (satisfaction_by_tier, kpis) do not depend on it.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- One row per program whose feedback table is attached.
CREATE TABLE customer_tier.feedback_source (
    program             text PRIMARY KEY REFERENCES customer_tier.program (name)
                        ON DELETE CASCADE ON UPDATE CASCADE,
    feedback_table      regclass NOT NULL,
    customer_column     name NOT NULL,
    score_column        name NOT NULL,
    score_type          regtype NOT NULL
                        CONSTRAINT feedback_source_score_type CHECK (score_type IN
                            ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype)),
    kind_column         name NOT NULL,
    answered_at_column  name NOT NULL,
    satisfaction_window interval NOT NULL DEFAULT '365 days'
                        CONSTRAINT feedback_source_window CHECK (satisfaction_window > '0'),
    attached_at         timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE customer_tier.feedback_source IS
    'one row per program with an attached feedback table: which table and how its columns are read';
COMMENT ON COLUMN customer_tier.feedback_source.program IS 'the program';
COMMENT ON COLUMN customer_tier.feedback_source.feedback_table IS 'the CRM''s own feedback (survey answers) table (never altered)';
COMMENT ON COLUMN customer_tier.feedback_source.customer_column IS 'column holding the customer key, of the program''s key type';
COMMENT ON COLUMN customer_tier.feedback_source.score_column IS 'column holding the score: NPS 0..10 or CSAT 1..5';
COMMENT ON COLUMN customer_tier.feedback_source.score_type IS 'type of the score column';
COMMENT ON COLUMN customer_tier.feedback_source.kind_column IS 'column holding the kind of answer: nps or csat';
COMMENT ON COLUMN customer_tier.feedback_source.answered_at_column IS 'column holding when the answer was given';
COMMENT ON COLUMN customer_tier.feedback_source.satisfaction_window IS 'length of the rolling window of the per-customer NPS, CSAT and recent score';
COMMENT ON COLUMN customer_tier.feedback_source.attached_at IS 'when the feedback table was attached';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.feedback_source', '');

-- @routines
-- Create a program's answers, satisfaction and feedback_rejects tables
-- (called by create_followup_objects when the program is created).
CREATE OR REPLACE FUNCTION customer_tier.create_feedback_tables(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.answers (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer    %2$s NOT NULL,
            kind        text NOT NULL CONSTRAINT answers_kind CHECK (kind IN ('nps', 'csat')),
            score       integer NOT NULL
                        CONSTRAINT answers_score CHECK (CASE kind WHEN 'nps' THEN score BETWEEN 0 AND 10
                                                                  ELSE score BETWEEN 1 AND 5 END),
            answered_at timestamptz NOT NULL
        );
        CREATE INDEX ON %1$I.answers (customer, answered_at);
        CREATE INDEX ON %1$I.answers (answered_at);
        COMMENT ON TABLE %1$I.answers IS %3$L;
        COMMENT ON COLUMN %1$I.answers.id IS 'answer number, in the order answers were copied';
        COMMENT ON COLUMN %1$I.answers.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.answers.kind IS 'nps (score 0..10) or csat (score 1..5)';
        COMMENT ON COLUMN %1$I.answers.score IS 'the answer: 0..10 for nps, 1..5 for csat';
        COMMENT ON COLUMN %1$I.answers.answered_at IS 'when the answer was given';
    $sql$, s, prog.customer_type,
        format('program %s: the usable answers of the attached feedback table, copied by its triggers; empty while none is attached',
               prog.name));

    EXECUTE format($sql$
        CREATE TABLE %1$I.satisfaction (
            customer            %2$s PRIMARY KEY,
            answers             bigint NOT NULL DEFAULT 0,
            last_answered_at    timestamptz,
            last_kind           text,
            last_score          integer,
            last_nps            integer,
            last_nps_at         timestamptz,
            last_csat           integer,
            last_csat_at        timestamptz,
            window_start        timestamptz,
            window_nps          double precision,
            window_nps_answers  bigint NOT NULL DEFAULT 0,
            window_csat         double precision,
            window_csat_answers bigint NOT NULL DEFAULT 0,
            recent_score        double precision,
            computed_at         timestamptz NOT NULL DEFAULT pg_catalog.now()
        );
        COMMENT ON TABLE %1$I.satisfaction IS %3$L;
        COMMENT ON COLUMN %1$I.satisfaction.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.satisfaction.answers IS 'usable answers of the customer, all time';
        COMMENT ON COLUMN %1$I.satisfaction.last_answered_at IS 'when the latest answer was given';
        COMMENT ON COLUMN %1$I.satisfaction.last_kind IS 'kind of the latest answer: nps or csat';
        COMMENT ON COLUMN %1$I.satisfaction.last_score IS 'score of the latest answer';
        COMMENT ON COLUMN %1$I.satisfaction.last_nps IS 'the latest NPS answer (0..10); NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.last_nps_at IS 'when the latest NPS answer was given';
        COMMENT ON COLUMN %1$I.satisfaction.last_csat IS 'the latest CSAT answer (1..5); NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.last_csat_at IS 'when the latest CSAT answer was given';
        COMMENT ON COLUMN %1$I.satisfaction.window_start IS 'the rolling window holds the answers given after this: computed_at minus the satisfaction window';
        COMMENT ON COLUMN %1$I.satisfaction.window_nps IS 'NPS (-100..100) of the customer''s NPS answers in the window; NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.window_nps_answers IS 'NPS answers in the window';
        COMMENT ON COLUMN %1$I.satisfaction.window_csat IS 'CSAT (0..100, %% of answers 4 or 5) of the customer''s CSAT answers in the window; NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.window_csat_answers IS 'CSAT answers in the window';
        COMMENT ON COLUMN %1$I.satisfaction.recent_score IS 'mean of the answers in the window on one 0..100 scale (NPS score x 10, CSAT (score - 1) x 25); NULL if none';
        COMMENT ON COLUMN %1$I.satisfaction.computed_at IS 'when the row was computed: the window figures are as of this time';
    $sql$, s, prog.customer_type,
        format('program %s: one row per customer with usable answers: latest answer and rolling NPS, CSAT and recent score; kept current by the feedback triggers, windows refreshed by refresh_satisfaction',
               prog.name));

    EXECUTE format($sql$
        CREATE TABLE %1$I.feedback_rejects (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            rejected_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            operation   text NOT NULL,
            reason      text NOT NULL,
            row_image   jsonb NOT NULL
        );
        COMMENT ON TABLE %1$I.feedback_rejects IS 'feedback rows the program could not use, with the reason; the feedback table keeps them unchanged';
        COMMENT ON COLUMN %1$I.feedback_rejects.id IS 'reject number, in the order rejects were recorded';
        COMMENT ON COLUMN %1$I.feedback_rejects.rejected_at IS 'when the row was rejected';
        COMMENT ON COLUMN %1$I.feedback_rejects.operation IS 'INSERT, UPDATE or BACKFILL';
        COMMENT ON COLUMN %1$I.feedback_rejects.reason IS 'why the row cannot be used';
        COMMENT ON COLUMN %1$I.feedback_rejects.row_image IS 'the whole row as written to the feedback table'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_feedback_tables(customer_tier.program) IS
    'create a program''s answers, satisfaction and feedback_rejects tables';

-- SQL text of why a feedback row cannot be used (NULL when it can); alias
-- names the row the expression reads.
CREATE OR REPLACE FUNCTION customer_tier.feedback_row_problem_sql(src customer_tier.feedback_source, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c text := format('%I.%I', alias, src.customer_column);
    t text := format('%I.%I', alias, src.answered_at_column);
    k text := format('%I.%I::text', alias, src.kind_column);
    v text := format('%I.%I', alias, src.score_column);
BEGIN
    RETURN format($sql$CASE WHEN %1$s IS NULL THEN 'customer key is null'
             WHEN %2$s IS NULL THEN 'answer time is null'
             WHEN NOT pg_catalog.isfinite(%2$s) THEN 'answer time is not finite'
             WHEN %3$s IS NULL THEN 'kind is null'
             WHEN NOT %3$s OPERATOR(pg_catalog.=) ANY ('{nps,csat}'::text[])
                  THEN pg_catalog.format('unknown kind "%%s" (nps or csat)', pg_catalog."left"(%3$s, 40))
             WHEN %4$s IS NULL THEN 'score is null'%5$s
             WHEN %3$s OPERATOR(pg_catalog.=) 'nps'
                  AND NOT (%4$s OPERATOR(pg_catalog.>=) 0 AND %4$s OPERATOR(pg_catalog.<=) 10)
                  THEN pg_catalog.format('NPS score %%s is outside 0..10', %4$s)
             WHEN %3$s OPERATOR(pg_catalog.=) 'csat'
                  AND NOT (%4$s OPERATOR(pg_catalog.>=) 1 AND %4$s OPERATOR(pg_catalog.<=) 5)
                  THEN pg_catalog.format('CSAT score %%s is outside 1..5', %4$s) END$sql$,
                  c, t, k, v,
                  CASE WHEN src.score_type OPERATOR(pg_catalog.=) 'numeric'::regtype THEN format($sql$
             WHEN %1$s OPERATOR(pg_catalog.<>) pg_catalog.trunc(%1$s)
                  THEN pg_catalog.format('score %%s is not a whole number', %1$s)$sql$, v)
                  ELSE '' END);
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_row_problem_sql(customer_tier.feedback_source, text) IS
    'SQL text of the reason a feedback row cannot be used by a program, NULL when it can';

-- SQL text of the SQLSTATE of a rejected feedback row, from its reason (an
-- expression; feedback_row_problem_sql's reasons, in its order): what
-- reject_mode = error fails the write with.
CREATE OR REPLACE FUNCTION customer_tier.feedback_reject_sqlstate_sql(reason text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.format($sql$CASE
                  WHEN %1$s OPERATOR(pg_catalog.=) ANY ('{customer key is null,answer time is null,kind is null,score is null}'::text[])
                       THEN '22004'
                  WHEN %1$s OPERATOR(pg_catalog.=) 'answer time is not finite' THEN '22008'
                  WHEN %1$s OPERATOR(pg_catalog.~~) 'unknown kind %%'
                       OR %1$s OPERATOR(pg_catalog.~~) 'score %% is not a whole number' THEN '22023'
                  ELSE '22003' END$sql$, reason);
COMMENT ON FUNCTION customer_tier.feedback_reject_sqlstate_sql(text) IS
    'SQL text of the SQLSTATE of a rejected feedback row, from its reason';

-- SQL text of the usable rows of relation rel (a transition table or the
-- feedback table) as (customer, kind, score, answered_at).
CREATE OR REPLACE FUNCTION customer_tier.feedback_usable_sql(src customer_tier.feedback_source, rel text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the casts are evaluated only for the rows that pass the filter
    RETURN format($sql$SELECT o.%1$I AS customer, o.%2$I::text AS kind, o.%3$I::integer AS score,
                   o.%4$I::timestamptz AS answered_at
              FROM %5$s AS o
             WHERE (%6$s) IS NULL$sql$,
        src.customer_column, src.kind_column, src.score_column, src.answered_at_column, rel,
        customer_tier.feedback_row_problem_sql(src, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_usable_sql(customer_tier.feedback_source, text) IS
    'SQL text of the usable rows of a feedback relation as (customer, kind, score, answered_at)';

-- SQL text of the statement that records the unusable rows of rel in the
-- program's feedback_rejects; operation is a SQL expression.
CREATE OR REPLACE FUNCTION customer_tier.feedback_rejects_sql(prog customer_tier.program, src customer_tier.feedback_source,
                                                   rel text, operation text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
        INSERT INTO %1$I.feedback_rejects (operation, reason, row_image)
        SELECT %2$s, p.reason, customer_tier.row_image(o)
          FROM %3$s AS o, LATERAL (SELECT %4$s AS reason) AS p
         WHERE p.reason IS NOT NULL$sql$,
        prog.data_schema, operation, rel, customer_tier.feedback_row_problem_sql(src, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text) IS
    'SQL text that records the feedback rows a program cannot use in its feedback_rejects table';

-- SQL text of the upsert that recomputes the satisfaction rows of the
-- customers of answers a that satisfy filter (a SQL condition on a), from
-- answers: exact for whatever answers hold, the window as of now().
CREATE OR REPLACE FUNCTION customer_tier.satisfaction_rollup_sql(prog customer_tier.program, filter text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
        INSERT INTO %1$I.satisfaction AS s
               (customer, answers, last_answered_at, last_kind, last_score, last_nps, last_nps_at,
                last_csat, last_csat_at, window_start, window_nps, window_nps_answers, window_csat,
                window_csat_answers, recent_score, computed_at)
        SELECT a.customer, pg_catalog.count(*), pg_catalog.max(a.answered_at),
               (pg_catalog.array_agg(a.kind ORDER BY a.answered_at DESC, a.id DESC))[1],
               (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC))[1],
               (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                    FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'))[1],
               pg_catalog.max(a.answered_at) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'),
               (pg_catalog.array_agg(a.score ORDER BY a.answered_at DESC, a.id DESC)
                    FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'))[1],
               pg_catalog.max(a.answered_at) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'),
               w.start,
               customer_tier.nps(a.score) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'
                                                   AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               pg_catalog.count(*) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'nps'
                                             AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               customer_tier.csat(a.score) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'
                                                    AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               pg_catalog.count(*) FILTER (WHERE a.kind OPERATOR(pg_catalog.=) 'csat'
                                             AND a.answered_at OPERATOR(pg_catalog.>) w.start),
               pg_catalog.avg(CASE WHEN a.kind OPERATOR(pg_catalog.=) 'nps'
                                   THEN a.score OPERATOR(pg_catalog.*) 10.0
                                   ELSE (a.score OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.*) 25.0 END)
                   FILTER (WHERE a.answered_at OPERATOR(pg_catalog.>) w.start)::double precision,
               pg_catalog.now()
          FROM %1$I.answers AS a,
               (SELECT customer_tier.program_as_of(%2$L) OPERATOR(pg_catalog.-) coalesce(
                           (SELECT f.satisfaction_window FROM customer_tier.feedback_source AS f
                             WHERE f.program OPERATOR(pg_catalog.=) %2$L), '365 days') AS start) AS w
         WHERE %3$s
         GROUP BY a.customer, w.start
         ORDER BY a.customer
        ON CONFLICT (customer) DO UPDATE
           SET (answers, last_answered_at, last_kind, last_score, last_nps, last_nps_at, last_csat,
                last_csat_at, window_start, window_nps, window_nps_answers, window_csat,
                window_csat_answers, recent_score, computed_at) =
               (excluded.answers, excluded.last_answered_at, excluded.last_kind, excluded.last_score,
                excluded.last_nps, excluded.last_nps_at, excluded.last_csat, excluded.last_csat_at,
                excluded.window_start, excluded.window_nps, excluded.window_nps_answers,
                excluded.window_csat, excluded.window_csat_answers, excluded.recent_score,
                excluded.computed_at)$sql$,
        prog.data_schema, prog.name, filter);
END
$$;
COMMENT ON FUNCTION customer_tier.satisfaction_rollup_sql(customer_tier.program, text) IS
    'SQL text of the upsert that recomputes customers'' satisfaction rows from the program''s answers';

-- SQL text of the statement a feedback trigger runs when a write ends
-- (src/programs/live_feedback.c): the usable rows removed (a transition table name,
-- or NULL) leave the program's answers, the usable rows added join them.  It
-- returns the customers touched (sorted, distinct), the answers removed and
-- the rows that should have been.  Identical answers cannot be told apart:
-- removing any n of the copies of a row removed n times is exact, so two
-- writers removing copies of one answer take different copies.  The
-- customers' satisfaction rows are recomputed at commit, in key order
-- (feedback_settle_sql), so that the trigger locks nothing of theirs.
CREATE OR REPLACE FUNCTION customer_tier.feedback_collect_sql(prog customer_tier.program, src customer_tier.feedback_source,
                                                   added text, removed text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    none text := format('SELECT NULL::%s AS customer, NULL::text AS kind, NULL::integer AS score,'
                        ' NULL::timestamptz AS answered_at WHERE false', prog.customer_type);
BEGIN
    RETURN format($sql$
        WITH added AS (%2$s
        ), removed AS (%3$s
        ), gone AS (
            SELECT u.customer, u.kind, u.score, u.answered_at, pg_catalog.count(*) AS n
              FROM removed AS u
             GROUP BY u.customer, u.kind, u.score, u.answered_at
        ), deleted AS (
            -- n copies each; SKIP LOCKED: a copy a concurrent writer is
            -- removing is left to it, and another identical one taken
            DELETE FROM %1$I.answers AS a
             WHERE a.id OPERATOR(pg_catalog.=) ANY (ARRAY(
                   SELECT c.id
                     FROM gone AS g,
                          LATERAL (SELECT x.id FROM %1$I.answers AS x
                                    WHERE x.customer OPERATOR(pg_catalog.=) g.customer
                                      AND x.kind OPERATOR(pg_catalog.=) g.kind
                                      AND x.score OPERATOR(pg_catalog.=) g.score
                                      AND x.answered_at OPERATOR(pg_catalog.=) g.answered_at
                                    ORDER BY x.id LIMIT g.n FOR UPDATE SKIP LOCKED) AS c))
            RETURNING 1
        ), put AS (
            INSERT INTO %1$I.answers (customer, kind, score, answered_at)
            SELECT u.customer, u.kind, u.score, u.answered_at FROM added AS u
        )
        SELECT ARRAY(SELECT DISTINCT t.customer
                       FROM (SELECT u.customer FROM added AS u UNION ALL SELECT u.customer FROM removed AS u) AS t
                      ORDER BY 1),
               (SELECT pg_catalog.count(*) FROM deleted),
               (SELECT pg_catalog.sum(g.n) FROM gone AS g)::bigint$sql$,
        prog.data_schema,
        CASE WHEN added IS NULL THEN none ELSE customer_tier.feedback_usable_sql(src, added) END,
        CASE WHEN removed IS NULL THEN none ELSE customer_tier.feedback_usable_sql(src, removed) END);
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_collect_sql(customer_tier.program, customer_tier.feedback_source, text, text) IS
    'SQL text of the statement that moves a write''s usable feedback rows into the program''s answers and returns the customers touched';

-- SQL text of the statements that settle the satisfaction rows of the
-- customers $1 (an array, sorted) at commit: lock them in key order (a new
-- customer's row is made), recompute them from the answers each in a new
-- snapshot taken after the lock (so a concurrent writer's answers, committed
-- while this one waited, are counted), and delete those left without answers.
CREATE OR REPLACE FUNCTION customer_tier.feedback_settle_sql(prog customer_tier.program,
                                                  OUT lock_rows text, OUT rollup text, OUT emptied text)
RETURNS record
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    lock_rows := format($sql$
        INSERT INTO %1$I.satisfaction AS s (customer)
        SELECT t.customer FROM pg_catalog.unnest($1) AS t (customer) ORDER BY 1
        ON CONFLICT (customer) DO UPDATE SET computed_at = excluded.computed_at$sql$, prog.data_schema);
    rollup := customer_tier.satisfaction_rollup_sql(prog, 'a.customer OPERATOR(pg_catalog.=) ANY ($1)');
    emptied := format($sql$
        DELETE FROM %1$I.satisfaction AS s
         WHERE s.customer OPERATOR(pg_catalog.=) ANY ($1)
           AND NOT EXISTS (SELECT FROM %1$I.answers AS a WHERE a.customer OPERATOR(pg_catalog.=) s.customer)$sql$,
        prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_settle_sql(customer_tier.program) IS
    'SQL texts of the statements that lock, recompute and clean the satisfaction rows of customers $1 at commit';

-- SQL texts of the two statements that repair the answers of customers $1
-- (an array) from the feedback table itself, when a write removed rows that
-- the answers do not hold (drift, src/programs/live_feedback.c): their
-- answers are deleted, then copied again from the table's usable rows.  Two
-- statements, each with its own snapshot under READ COMMITTED: the copy sees
-- what a concurrent writer committed while the delete waited for its rows.
CREATE OR REPLACE FUNCTION customer_tier.feedback_repair_sql(prog customer_tier.program, src customer_tier.feedback_source,
                                                  OUT clear_answers text, OUT copy_answers text)
RETURNS record
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    clear_answers := format('DELETE FROM %I.answers AS a WHERE a.customer OPERATOR(pg_catalog.=) ANY ($1)',
                            prog.data_schema);
    copy_answers := format($sql$
        INSERT INTO %1$I.answers (customer, kind, score, answered_at)
        SELECT u.customer, u.kind, u.score, u.answered_at
          FROM (%2$s) AS u
         WHERE u.customer OPERATOR(pg_catalog.=) ANY ($1)
         ORDER BY u.customer, u.answered_at$sql$,
        prog.data_schema, customer_tier.feedback_usable_sql(src, src.feedback_table::text));
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_repair_sql(customer_tier.program, customer_tier.feedback_source) IS
    'SQL texts of the statements that copy the answers of customers $1 again from the feedback table (a drift repair)';

-- The trigger function of every program on its feedback table; the argument
-- names the program.  It moves each statement's usable answers and keeps
-- the customers touched; they are settled at commit, in key order, with the
-- customers the orders triggers touched (src/programs/live_feedback.c).
CREATE OR REPLACE FUNCTION customer_tier.maintain_feedback()
RETURNS trigger
AS 'MODULE_PATHNAME', 'maintain_feedback'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.maintain_feedback() IS
    'the trigger function of every program on its feedback table; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.maintain_feedback() FROM PUBLIC;

-- The name of one of a program's triggers on its feedback table:
-- ct_<program>_feedback_<operation>, named after the program's schema.  At
-- most 3 + 40 + 10 + 8 = 61 bytes, so the four names of a program with the
-- longest name (40 characters) stay distinct within the 63 bytes of a name;
-- the prefix differs from that of the orders triggers (customer_tier_<program>_<op>),
-- so the two sets never clash, even on one table.
CREATE OR REPLACE FUNCTION customer_tier.feedback_trigger_name(program text, operation text)
RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.format('ct_%s_feedback_%s', program, operation)::name;
COMMENT ON FUNCTION customer_tier.feedback_trigger_name(text, text) IS
    'name of the trigger a program puts on its feedback table for one operation';

-- Put a program's four triggers on its feedback table (the caller's own
-- doing, with its TRIGGER right on the table).
CREATE OR REPLACE FUNCTION customer_tier.put_feedback_triggers(prog customer_tier.program, src customer_tier.feedback_source)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER %1$I AFTER INSERT ON %2$s REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_feedback(%6$L);
        CREATE TRIGGER %3$I AFTER UPDATE ON %2$s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_feedback(%6$L);
        CREATE TRIGGER %4$I AFTER DELETE ON %2$s REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_feedback(%6$L);
        CREATE TRIGGER %5$I AFTER TRUNCATE ON %2$s
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_feedback(%6$L)$sql$,
        customer_tier.feedback_trigger_name(prog.name, 'insert'), src.feedback_table,
        customer_tier.feedback_trigger_name(prog.name, 'update'),
        customer_tier.feedback_trigger_name(prog.name, 'delete'),
        customer_tier.feedback_trigger_name(prog.name, 'truncate'), prog.name);
    -- The trigger path repairs drifted answers from the feedback table as
    -- customer_tier_owner (as it repairs customers from the orders table):
    -- only the table's owner, or a holder of the grant option, can grant that.
    IF has_table_privilege(src.feedback_table, 'SELECT WITH GRANT OPTION') THEN
        EXECUTE format('GRANT SELECT ON %s TO customer_tier_owner', src.feedback_table);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.put_feedback_triggers(customer_tier.program, customer_tier.feedback_source) IS
    'put a program''s triggers on its feedback table, and grant customer_tier_owner SELECT on it (for the repair of drift) when the caller can';
REVOKE ALL ON FUNCTION customer_tier.put_feedback_triggers(customer_tier.program, customer_tier.feedback_source) FROM PUBLIC;

-- Attach a feedback table to a program: validate everything first, then
-- install the triggers and backfill.  Returns the customers with answers.
CREATE OR REPLACE FUNCTION customer_tier.attach_feedback(
    program             text,
    feedback_table      regclass,
    customer_column     name,
    score_column        name,
    kind_column         name,
    answered_at_column  name,
    satisfaction_window interval DEFAULT '365 days')
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
    rejected bigint;
    last_reason text;
    last_sqlstate text;
    customers bigint;
BEGIN
    IF program IS NULL OR feedback_table IS NULL THEN
        RAISE EXCEPTION 'program and feedback table must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the program''s name and the table that holds the survey answers.';
    END IF;
    -- the catalog row belongs to customer_tier_owner
    PERFORM customer_tier.run_as_owner('attach_feedback', program, jsonb_build_object(
        'feedback_table', feedback_table::oid, 'customer_column', customer_column,
        'score_column', score_column, 'kind_column', kind_column,
        'answered_at_column', answered_at_column, 'satisfaction_window', satisfaction_window));
    prog := customer_tier.program_row(program);
    src := customer_tier.feedback_source_row(prog);

    -- No write may slip between the backfill and the triggers.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', feedback_table);
    PERFORM customer_tier.put_feedback_triggers(prog, src);

    -- The backfill follows the program's reject rule too.
    EXECUTE customer_tier.feedback_rejects_sql(prog, src, feedback_table::text, '''BACKFILL''');
    GET DIAGNOSTICS rejected = ROW_COUNT;
    IF rejected > 0 AND prog.reject_mode = 'error' THEN
        EXECUTE format('SELECT r.reason, %s FROM %I.feedback_rejects AS r ORDER BY r.id DESC LIMIT 1',
                       customer_tier.feedback_reject_sqlstate_sql('r.reason'), prog.data_schema)
           INTO last_reason, last_sqlstate;
        RAISE EXCEPTION 'program %: % feedback row(s) cannot be used', prog.name, rejected
            USING ERRCODE = last_sqlstate,
                  DETAIL = format('The last one: %s.', last_reason),
                  HINT = 'Correct the rows, or set the program''s reject_mode to skip to keep such rows in its feedback_rejects table.';
    END IF;
    EXECUTE format($sql$
        INSERT INTO %1$I.answers (customer, kind, score, answered_at)
        SELECT u.customer, u.kind, u.score, u.answered_at FROM (%2$s) AS u ORDER BY u.answered_at$sql$,
        prog.data_schema, customer_tier.feedback_usable_sql(src, feedback_table::text));
    EXECUTE customer_tier.satisfaction_rollup_sql(prog, 'true');
    PERFORM customer_tier.feed_recent_satisfaction(prog.name, 'true', 'attach_feedback');
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.satisfaction', prog.data_schema) INTO customers;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.attach_feedback(text, regclass, name, name, name, name, interval) IS
    'attach a feedback table (NPS 0..10 and CSAT 1..5 answers) to a program: validate its columns, install triggers, backfill; returns the customers with answers';

-- Step attach_feedback of attach_feedback, run as customer_tier_owner by
-- run_as_owner (never directly): validate, record the feedback table with
-- the caller's rights checked.
CREATE OR REPLACE FUNCTION customer_tier.owner_attach_feedback(caller regrole, program text, args jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
    typ regtype;
    feedback_table regclass := (args->>'feedback_table')::oid;
    customer_column name := args->>'customer_column';
    score_column name := args->>'score_column';
    kind_column name := args->>'kind_column';
    answered_at_column name := args->>'answered_at_column';
    satisfaction_window interval := (args->>'satisfaction_window')::interval;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = feedback_table) THEN
        RAISE EXCEPTION 'table with OID % does not exist', feedback_table::oid
            USING ERRCODE = 'undefined_table';
    END IF;
    prog := customer_tier.program_row(program);
    IF EXISTS (SELECT FROM customer_tier.feedback_source AS f WHERE f.program = prog.name) THEN
        RAISE EXCEPTION 'program "%" already has a feedback table attached', prog.name
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('Its feedback table is %s.',
                                  (SELECT f.feedback_table FROM customer_tier.feedback_source AS f
                                    WHERE f.program = prog.name)),
                  HINT = 'Detach it first with customer_tier.detach_feedback().';
    END IF;
    IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid = feedback_table) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', feedback_table
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'Feedback is read through triggers on an ordinary or partitioned table.',
                  HINT = 'Name the table that holds the survey answers.';
    END IF;
    -- before anything is said about its columns
    PERFORM customer_tier.check_table_rights(caller, feedback_table, 'SELECT,TRIGGER');

    src.program := prog.name;
    src.feedback_table := feedback_table;
    src.customer_column := customer_column;
    typ := customer_tier.column_type(feedback_table, customer_column, 'customer key');
    IF typ <> prog.customer_type THEN
        RAISE EXCEPTION 'column "%" of table % has type %, not the program''s customer key type %',
                        customer_column, feedback_table, typ, prog.customer_type
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('Program "%s" keys its customers by %s.%I (%s).',
                                  prog.name, prog.orders_table, prog.customer_column, prog.customer_type),
                  HINT = 'Name a column of the same type as the orders table''s customer key.';
    END IF;
    src.score_column := score_column;
    src.score_type := customer_tier.column_type(feedback_table, score_column, 'score');
    PERFORM customer_tier.check_column_type(feedback_table, score_column, 'score', src.score_type,
        '{smallint,integer,bigint,numeric}');
    src.kind_column := kind_column;
    typ := customer_tier.column_type(feedback_table, kind_column, 'kind of answer');
    PERFORM customer_tier.check_column_type(feedback_table, kind_column, 'kind of answer', typ,
        '{text,character varying,character}');
    src.answered_at_column := answered_at_column;
    typ := customer_tier.column_type(feedback_table, answered_at_column, 'answer time');
    PERFORM customer_tier.check_column_type(feedback_table, answered_at_column, 'answer time', typ,
        '{timestamp with time zone,timestamp without time zone,date}');
    IF satisfaction_window IS NULL OR satisfaction_window <= '0' THEN
        RAISE EXCEPTION 'satisfaction window must be a positive interval, not %', coalesce(satisfaction_window::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use for example ''365 days'' (the default) or ''6 months''.';
    END IF;
    src.satisfaction_window := satisfaction_window;
    src.attached_at := pg_catalog.now();

    INSERT INTO customer_tier.feedback_source VALUES (src.*);
END
$$;
COMMENT ON FUNCTION customer_tier.owner_attach_feedback(regrole, text, jsonb) IS
    'step attach_feedback of attach_feedback, run as customer_tier_owner: validate and record the feedback table';
REVOKE ALL ON FUNCTION customer_tier.owner_attach_feedback(regrole, text, jsonb) FROM PUBLIC;

-- A program's attached feedback table, or undefined_object (42704) naming
-- the program: the one place that says a program has none.
CREATE OR REPLACE FUNCTION customer_tier.feedback_source_row(prog customer_tier.program)
RETURNS customer_tier.feedback_source
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src customer_tier.feedback_source;
BEGIN
    SELECT * INTO src FROM customer_tier.feedback_source AS f WHERE f.program = prog.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" has no feedback table attached', prog.name
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT * FROM customer_tier.feedback_source lists the attached feedback tables.';
    END IF;
    RETURN src;
END
$$;
COMMENT ON FUNCTION customer_tier.feedback_source_row(customer_tier.program) IS
    'a program''s attached feedback table, or undefined_object (42704) when it has none';
REVOKE ALL ON FUNCTION customer_tier.feedback_source_row(customer_tier.program) FROM PUBLIC;

-- Drop the four triggers attaching put on the feedback table: the caller's
-- own doing, which needs the table's ownership.  detach_feedback then empties
-- the program's feedback tables; drop_program drops them (no rescoring of
-- customers about to go).  Their function goes as customer_tier_owner.
CREATE OR REPLACE FUNCTION customer_tier.drop_feedback_triggers(prog customer_tier.program, src customer_tier.feedback_source)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    op text;
BEGIN
    -- a feedback table dropped since took its triggers with it
    IF EXISTS (SELECT FROM pg_class AS c WHERE c.oid = src.feedback_table) THEN
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            IF EXISTS (SELECT FROM pg_trigger AS t
                        WHERE t.tgrelid = src.feedback_table
                          AND t.tgname = customer_tier.feedback_trigger_name(prog.name, op)) THEN
                EXECUTE format('DROP TRIGGER %I ON %s',
                               customer_tier.feedback_trigger_name(prog.name, op), src.feedback_table);
            END IF;
        END LOOP;
        -- the SELECT put_feedback_triggers granted, unless another program reads the table too
        IF NOT EXISTS (SELECT FROM customer_tier.feedback_source AS f
                        WHERE f.feedback_table = src.feedback_table AND f.program <> prog.name)
           AND NOT EXISTS (SELECT FROM customer_tier.program AS p WHERE p.orders_table = src.feedback_table)
           AND has_table_privilege(src.feedback_table, 'SELECT WITH GRANT OPTION') THEN
            EXECUTE format('REVOKE SELECT ON %s FROM customer_tier_owner', src.feedback_table);
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) IS
    'drop the triggers that attaching a feedback table put on it, and the SELECT it granted customer_tier_owner';
REVOKE ALL ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) FROM PUBLIC;

-- Detach a program's feedback table: remove what attach_feedback made (the
-- triggers, the copied answers, the rollups and the rejects).
CREATE OR REPLACE FUNCTION customer_tier.detach_feedback(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
BEGIN
    prog := customer_tier.named_program_row(program);
    src := customer_tier.feedback_source_row(prog);
    PERFORM customer_tier.drop_feedback_triggers(prog, src);
    EXECUTE format('DELETE FROM %I.answers', prog.data_schema);
    EXECUTE format('DELETE FROM %I.satisfaction', prog.data_schema);
    EXECUTE format('DELETE FROM %I.feedback_rejects', prog.data_schema);
    PERFORM customer_tier.feed_recent_satisfaction(prog.name, 'true', 'detach_feedback');
    PERFORM customer_tier.run_as_owner('detach_feedback', prog.name, NULL);
END
$$;
COMMENT ON FUNCTION customer_tier.detach_feedback(text) IS
    'detach a program''s feedback table: drop its triggers and empty the answers, satisfaction and feedback_rejects tables; the feedback table is untouched';

-- Step detach_feedback of detach_feedback, run as customer_tier_owner by
-- run_as_owner, once the caller dropped the triggers: drop the catalog row.
CREATE OR REPLACE FUNCTION customer_tier.owner_detach_feedback(caller regrole, program text, args jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(program);
BEGIN
    PERFORM customer_tier.feedback_source_row(prog);
    DELETE FROM customer_tier.feedback_source AS f WHERE f.program = prog.name;
END
$$;
COMMENT ON FUNCTION customer_tier.owner_detach_feedback(regrole, text, jsonb) IS
    'step detach_feedback of detach_feedback, run as customer_tier_owner: drop the feedback_source row';
REVOKE ALL ON FUNCTION customer_tier.owner_detach_feedback(regrole, text, jsonb) FROM PUBLIC;

-- Feed the churn rules' input customers.recent_satisfaction (0..10: the
-- satisfaction row's recent_score, 0..100, over 10; NULL without answers in
-- the window) for the customers matching condition (SQL on alias c), and
-- rescore those whose value changed through the one scoring path, so that
-- the flag low_satisfaction follows the answers.  Their rows are locked in
-- key order first, as the orders triggers lock them.  Returns how many
-- customers changed.
CREATE OR REPLACE FUNCTION customer_tier.feed_recent_satisfaction(program text, condition text, source text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(program);
    changed text;
    n bigint;
BEGIN
    EXECUTE format($sql$
        WITH locked AS (
            SELECT c.customer FROM %1$I.customers AS c WHERE %2$s ORDER BY c.customer FOR UPDATE
        ), fed AS (
            UPDATE %1$I.customers AS c
               SET recent_satisfaction = s.recent_score / 10
              FROM locked AS l LEFT JOIN %1$I.satisfaction AS s ON s.customer = l.customer
             WHERE c.customer = l.customer
               AND c.recent_satisfaction IS DISTINCT FROM s.recent_score / 10
            RETURNING c.customer
        )
        SELECT pg_catalog.array_agg(fed.customer)::text, pg_catalog.count(*) FROM fed$sql$,
        prog.data_schema, condition) INTO changed, n;
    IF n > 0 THEN
        PERFORM customer_tier.rescore_where(prog.name, source,
                    format('c.customer = ANY (%L::%s[])', changed, prog.customer_type));
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.feed_recent_satisfaction(text, text, text) IS
    'set customers.recent_satisfaction (0..10) from the satisfaction rows and rescore the customers whose value changed; returns how many';

-- Recompute every customer's satisfaction row, moving the rolling windows to
-- now.  The triggers keep the rows exact for the answers; only the window
-- slides with time, which this (or the next answer of the customer) catches up.
CREATE OR REPLACE FUNCTION customer_tier.refresh_satisfaction(program text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
BEGIN
    prog := customer_tier.named_program_row(program);
    -- waits for feedback writes in progress and holds new ones back, so that
    -- the recomputation sees every committed answer and none is overwritten;
    -- answers first, the order in which a feedback write takes them (its
    -- statement writes the answers, its commit the satisfaction rows)
    EXECUTE format('LOCK TABLE %1$I.answers, %1$I.satisfaction IN SHARE ROW EXCLUSIVE MODE', prog.data_schema);
    EXECUTE customer_tier.satisfaction_rollup_sql(prog, 'true');
    GET DIAGNOSTICS customers = ROW_COUNT;
    PERFORM customer_tier.feed_recent_satisfaction(prog.name, 'true', 'refresh_satisfaction');
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.refresh_satisfaction(text) IS
    'recompute every customer''s satisfaction row so the rolling windows end now; returns the customers';

REVOKE ALL ON FUNCTION customer_tier.attach_feedback(text, regclass, name, name, name, name, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.detach_feedback(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.refresh_satisfaction(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feed_recent_satisfaction(text, text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.create_feedback_tables(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_row_problem_sql(customer_tier.feedback_source, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_reject_sqlstate_sql(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_usable_sql(customer_tier.feedback_source, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.satisfaction_rollup_sql(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_collect_sql(customer_tier.program, customer_tier.feedback_source, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_settle_sql(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_repair_sql(customer_tier.program, customer_tier.feedback_source) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.feedback_trigger_name(text, text) FROM PUBLIC;
-- @end

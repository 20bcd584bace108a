-- customer_tier install script, part 62: what a program creates in its own
-- schema — the per-customer table, the rejects table, and the triggers on the
-- CRM's orders table that keep them current (docs/programs.md).
--
-- The SQL of the triggers is generated once, when the program is created,
-- from the program's catalog row: column names and types are fixed there, so
-- the trigger function holds static SQL whose plans PL/pgSQL caches.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- A customer's metrics, read off the stored states of purchases and refunds.
-- A refund (a negative amount) lowers the monetary value but is not an order.
CREATE OR REPLACE FUNCTION customer_tier.customer_metrics(
    purchases customer_tier.order_stats_state,
    refunds customer_tier.order_stats_state,
    OUT orders bigint, OUT monetary numeric, OUT first_order timestamptz, OUT last_order timestamptz,
    OUT mean_gap_days double precision, OUT gap_stddev_days double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'customer_metrics'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.customer_metrics(customer_tier.order_stats_state, customer_tier.order_stats_state) IS
    'a customer''s metrics from the states of its purchases and refunds: orders, net monetary value, first and last order, gaps';

-- Announce a change of tier on channel customer_tier (delivered at commit).
-- Any login may LISTEN on any channel, so the payload names the program and
-- the change's id in its tier_history, never the customer: a role allowed to
-- read the history looks the change up.  No SET clause: a BEGIN ATOMIC body
-- is bound to its objects when it is created, so the search_path cannot
-- redirect it, and without a SET clause PostgreSQL inlines it into the
-- statement that calls it (a bulk load of new customers calls it once per
-- customer).
CREATE OR REPLACE FUNCTION customer_tier.announce_tier_change(program text, change bigint)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
    SELECT pg_catalog.pg_notify('customer_tier', pg_catalog.json_build_object(
        'program', program, 'tier_history_id', change)::text);
END;
COMMENT ON FUNCTION customer_tier.announce_tier_change(text, bigint) IS
    'send the NOTIFY customer_tier payload of a change of tier: the program and the change''s tier_history id';
REVOKE ALL ON FUNCTION customer_tier.announce_tier_change(text, bigint) FROM PUBLIC;

-- The tests an order row must pass to be usable, as SQL conditions on the
-- row alias names, each with the reason a row that fails it is rejected, in
-- the order they are tested.  A row the program cannot use never fails the
-- CRM's write (docs/robustness.md, "Rows a program cannot use"):
--   * a NULL customer key, time or amount, or a time or amount not finite;
--   * a text or varchar key longer than 1000 bytes (octet_length): the key
--     is stored in btree indexes (at most 2704 bytes an entry) and sent in
--     notifications (at most 8000 bytes);
--   * a date after 294276-12-31, which has no timestamp (dates reach
--     5874897 AD); timestamp and timestamptz times are always in range, as
--     a timestamp is read as UTC;
--   * a numeric or double precision amount whose absolute value is above
--     1e100, so that a customer's total (at most 2^63 such amounts) always
--     converts to double precision for scoring and breakpoints.
CREATE OR REPLACE FUNCTION customer_tier.program_row_checks(prog customer_tier.program, alias text,
                                                 OUT conditions text[], OUT reasons text[],
                                                 OUT sqlstates text[])
RETURNS record
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c text := format('%I.%I', alias, prog.customer_column);
    t text := format('%I.%I', alias, prog.ordered_at_column);
    a text := format('%I.%I', alias, prog.amount_column);
BEGIN
    -- each reason's SQLSTATE is what reject_mode = error fails the write with
    conditions := ARRAY[format('%s IS NOT NULL', c)];
    reasons := ARRAY['customer key is null'];
    sqlstates := ARRAY['22004'];                       -- null_value_not_allowed
    IF prog.customer_type IN ('text'::regtype, 'character varying'::regtype) THEN
        conditions := conditions || format('pg_catalog.octet_length(%s) OPERATOR(pg_catalog.<=) 1000', c);
        reasons := reasons || 'customer key longer than 1000 bytes'::text;
        sqlstates := sqlstates || '22001'::text;       -- string_data_right_truncation
    END IF;
    conditions := conditions || ARRAY[format('%s IS NOT NULL', t), format('pg_catalog.isfinite(%s)', t)];
    reasons := reasons || ARRAY['order time is null', 'order time is not finite'];
    sqlstates := sqlstates || ARRAY['22004', '22008']; -- datetime_field_overflow, as order_stats
    IF prog.ordered_at_type OPERATOR(pg_catalog.=) 'date'::regtype THEN
        conditions := conditions || format('%s OPERATOR(pg_catalog.<=) ''294276-12-31''::date', t);
        reasons := reasons || 'order time out of range'::text;
        sqlstates := sqlstates || '22008'::text;
    END IF;
    conditions := conditions || format('%s IS NOT NULL', a);
    reasons := reasons || 'amount is null'::text;
    sqlstates := sqlstates || '22004'::text;
    IF prog.amount_type IN ('numeric'::regtype, 'double precision'::regtype) THEN
        -- comparisons only, no array and no abs(): every row of a backfill,
        -- a rebuild and a statement goes through them (NaN sorts above
        -- Infinity in both types, so the first test is false for it)
        conditions := conditions || ARRAY[
            format('%1$s OPERATOR(pg_catalog.>) ''-Infinity''::%2$s AND %1$s OPERATOR(pg_catalog.<) ''Infinity''::%2$s',
                   a, prog.amount_type),
            format('%1$s OPERATOR(pg_catalog.>=) ''-1e100''::%2$s AND %1$s OPERATOR(pg_catalog.<=) ''1e100''::%2$s',
                   a, prog.amount_type)];
        reasons := reasons || ARRAY['amount is not finite', 'amount out of range'];
        -- invalid_parameter_value, as order_stats; numeric_value_out_of_range
        sqlstates := sqlstates || ARRAY['22023', '22003'];
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) IS
    'the conditions an order row must meet to be usable by a program, with the reason and SQLSTATE of each, in order';

-- SQL text of the SQLSTATE of a rejected order row, from its reason (an
-- expression): what reject_mode = error fails the write with.
CREATE OR REPLACE FUNCTION customer_tier.program_reject_sqlstate_sql(prog customer_tier.program, reason text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT format('CASE %s', program_reject_sqlstate_sql.reason)
                   || string_agg(format(' WHEN %L THEN %L', x.why, x.sqlstate), '' ORDER BY x.n)
                   || ' END'
              FROM customer_tier.program_row_checks(prog, 'o') AS k,
                   unnest(k.reasons, k.sqlstates) WITH ORDINALITY AS x (why, sqlstate, n));
END
$$;
COMMENT ON FUNCTION customer_tier.program_reject_sqlstate_sql(customer_tier.program, text) IS
    'SQL text of the SQLSTATE of a rejected order row, from its reason';

-- SQL text of why an order row cannot be used (NULL when it can): the reason
-- of the first check it fails.  alias names the row the expression reads.
CREATE OR REPLACE FUNCTION customer_tier.program_row_problem_sql(prog customer_tier.program, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT 'CASE' || string_agg(format(E'\n             WHEN NOT (%s) THEN %L', x.condition, x.reason),
                                         '' ORDER BY x.n) || ' END'
              FROM customer_tier.program_row_checks(prog, alias) AS k,
                   unnest(k.conditions, k.reasons) WITH ORDINALITY AS x (condition, reason, n));
END
$$;
COMMENT ON FUNCTION customer_tier.program_row_problem_sql(customer_tier.program, text) IS
    'SQL text of the reason an order row cannot be used by a program, NULL when it can';

-- SQL text of "this order row counts": every check passed, and a counted
-- status when the program has a status column.  Separate conditions rather
-- than program_row_problem_sql IS NULL: the planner estimates each of them
-- (it guesses 0.5% of the rows for the CASE expression, and then plans the
-- grouping of a whole orders table for a few thousand customers), and it
-- stops at the first that fails.
CREATE OR REPLACE FUNCTION customer_tier.program_row_counts_sql(prog customer_tier.program, alias text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN array_to_string((customer_tier.program_row_checks(prog, alias)).conditions, ' AND ')
        || CASE WHEN prog.status_column IS NULL THEN ''
                ELSE format(' AND customer_tier.text_of(%I.%I) OPERATOR(pg_catalog.=) ANY (%L::text[])',
                            alias, prog.status_column, prog.counted_statuses) END;
END
$$;
COMMENT ON FUNCTION customer_tier.program_row_counts_sql(customer_tier.program, text) IS
    'SQL text of the condition under which an order row counts for a program';

-- SQL text of a statement that keeps the rows of source a program cannot use
-- in its rejects table; operation is a SQL expression naming the operation.
CREATE OR REPLACE FUNCTION customer_tier.program_rejects_sql(prog customer_tier.program, source text, operation text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
    INSERT INTO %1$I.rejects (operation, reason, order_id, row_image)
    SELECT %2$s, p.reason, %3$s, customer_tier.row_image(o)
      FROM %4$s AS o, LATERAL (SELECT %5$s AS reason) AS p
     WHERE p.reason IS NOT NULL$sql$,
        prog.data_schema, operation,
        CASE WHEN prog.order_id_column IS NULL THEN 'NULL'
             ELSE format('customer_tier.text_of(o.%I)', prog.order_id_column) END,
        source, customer_tier.program_row_problem_sql(prog, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.program_rejects_sql(customer_tier.program, text, text) IS
    'SQL text that records the order rows a program cannot use in its rejects table';

-- SQL text of a query that sums the counted rows of added and removed (either
-- may be NULL: relation names or SQL relation expressions) per customer into
-- the deltas a program applies: the states of the purchases and refunds added
-- and removed, and how many added rows cannot be used.  The triggers run it
-- over their transition tables (src/programs/live_trigger.c), the backfill over the
-- whole orders table.  Only the deltas an operation can have are aggregated
-- (an INSERT removes nothing); OFFSET 0 keeps the per-row problem test from
-- being repeated in every FILTER.  by_row gives, for one side (added or
-- removed), one flat row per order instead, each column an expression of
-- that order alone (the state of its one order: order_stats_of): the trigger
-- path compiles those expressions once and evaluates them on each row of a
-- statement of a row or two (src/programs/row_deltas.c), which would spend
-- more starting a query than using it.
CREATE OR REPLACE FUNCTION customer_tier.program_delta_sql(prog customer_tier.program, added text, removed text,
                                                by_row boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    one_side text := $sql$
            SELECT o.%1$I AS customer, o.%2$I AS ordered_at, o.%3$I AS amount, %4$s AS added,
                   %5$s AS problem, %6$s AS counted
              FROM %7$s AS o$sql$;
    counted text := CASE WHEN prog.status_column IS NULL THEN 'true'
                         ELSE format('customer_tier.text_of(o.%I) OPERATOR(pg_catalog.=) ANY (%L::text[])',
                                     prog.status_column, prog.counted_statuses) END;
    problem text := customer_tier.program_row_problem_sql(prog, 'o');
    partial text := $sql$customer_tier.order_stats_partial(r.ordered_at, r.amount)
                   FILTER (WHERE r.ok AND %s AND r.amount OPERATOR(pg_catalog.%s) '0')$sql$;
    -- by_row: the state of the order o when it counts and its amount is on that side of 0
    one_order text := $sql$CASE WHEN (%1$s) IS NULL AND %2$s AND o.%3$I OPERATOR(pg_catalog.%5$s) '0'
                        THEN customer_tier.order_stats_of(o.%4$I, o.%3$I) END$sql$;
    purchase text := format(one_order, problem, counted, prog.amount_column, prog.ordered_at_column, '>=');
    refund text := format(one_order, problem, counted, prog.amount_column, prog.ordered_at_column, '<');
    no_delta text := 'NULL::customer_tier.order_stats_state';
    sides text[] := '{}';
BEGIN
    IF by_row THEN
        IF (added IS NULL) = (removed IS NULL) THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = 'program_delta_sql by row reads one side: added or removed, not both';
        END IF;
        RETURN format($sql$
        SELECT o.%1$I AS customer,
               %2$s AS add_purchases,
               %3$s AS remove_purchases,
               %4$s AS add_refunds,
               %5$s AS remove_refunds,
               %6$s AS problems
          FROM %7$s AS o$sql$,
            prog.customer_column,
            CASE WHEN added IS NULL THEN no_delta ELSE purchase END,
            CASE WHEN removed IS NULL THEN no_delta ELSE purchase END,
            CASE WHEN added IS NULL THEN no_delta ELSE refund END,
            CASE WHEN removed IS NULL THEN no_delta ELSE refund END,
            -- a removed row that could not be used was never counted: no problem to report
            CASE WHEN added IS NULL THEN '0::bigint' ELSE format('((%s) IS NOT NULL)::integer::bigint', problem) END,
            coalesce(added, removed));
    END IF;
    IF added IS NOT NULL THEN
        sides := sides || format(one_side, prog.customer_column, prog.ordered_at_column,
                                 prog.amount_column, 'true', problem, counted, added);
    END IF;
    IF removed IS NOT NULL THEN
        -- a removed row that could not be used was never counted: no problem to report
        sides := sides || format(one_side, prog.customer_column, prog.ordered_at_column,
                                 prog.amount_column, 'false', problem, counted, removed);
    END IF;
    RETURN format($sql$
        SELECT r.customer,
               %2$s AS add_purchases,
               %3$s AS remove_purchases,
               %4$s AS add_refunds,
               %5$s AS remove_refunds,
               pg_catalog.count(*) FILTER (WHERE r.added AND NOT r.usable) AS problems
          FROM (SELECT u.*, u.problem IS NULL AS usable, u.problem IS NULL AND u.counted AS ok
                  FROM (%1$s) AS u OFFSET 0) AS r
         GROUP BY r.customer$sql$,
        array_to_string(sides, ' UNION ALL'),
        CASE WHEN added IS NULL THEN no_delta ELSE format(partial, 'r.added', '>=') END,
        CASE WHEN removed IS NULL THEN no_delta ELSE format(partial, 'NOT r.added', '>=') END,
        CASE WHEN added IS NULL THEN no_delta ELSE format(partial, 'r.added', '<') END,
        CASE WHEN removed IS NULL THEN no_delta ELSE format(partial, 'NOT r.added', '<') END);
END
$$;
COMMENT ON FUNCTION customer_tier.program_delta_sql(customer_tier.program, text, text, boolean) IS
    'SQL text of the per-customer deltas (states added and removed, unusable rows) of added and removed order rows; by_row, one per row';

-- SQL text of the backfill of a new program: its customers from the rows
-- already in the orders table, unscored, into the table of its schema named
-- target (backfill, where create_program scores them from once the first
-- breakpoints exist; customers on a Citus cluster).  The table is empty: a
-- plain insert, in key order.  The statement returns the number of rows that cannot be used,
-- counted in the same pass, so that their rejects are written only when there
-- are any.  Later writes go through the trigger path (src/programs/live_apply.c).
CREATE OR REPLACE FUNCTION customer_tier.program_backfill_sql(prog customer_tier.program, target name)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
    WITH delta AS (%2$s
    ), stored AS (
        INSERT INTO %1$I.%4$I
               (customer, purchases, refunds, orders, monetary, first_order, last_order,
                mean_gap_days, gap_stddev_days, updated_at)
        SELECT d.customer, b.purchases, b.refunds, m.orders, m.monetary, m.first_order,
               m.last_order, m.mean_gap_days, m.gap_stddev_days, pg_catalog.now()
          FROM delta AS d,
               LATERAL (SELECT customer_tier.order_stats_bounded(d.add_purchases, (SELECT customer_tier.program_state_horizon(%3$L))) AS purchases,
                               customer_tier.order_stats_bounded(d.add_refunds, (SELECT customer_tier.program_state_horizon(%3$L))) AS refunds) AS b,
               LATERAL customer_tier.customer_metrics(b.purchases, b.refunds) AS m
         WHERE d.customer IS NOT NULL
           AND (d.add_purchases IS NOT NULL OR d.add_refunds IS NOT NULL)
         ORDER BY d.customer
    )
    SELECT pg_catalog.sum(d.problems) FROM delta AS d$sql$,
        prog.data_schema, customer_tier.program_delta_sql(prog, prog.orders_table::text, NULL), prog.name, target);
END
$$;
COMMENT ON FUNCTION customer_tier.program_backfill_sql(customer_tier.program, name) IS
    'SQL text of the unscored backfill of a new program''s customers from its orders table; returns the unusable rows';

-- The name of one of a program's triggers on the orders table.
CREATE OR REPLACE FUNCTION customer_tier.program_trigger_name(program text, operation text)
RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.format('customer_tier_%s_%s', program, operation)::name;
COMMENT ON FUNCTION customer_tier.program_trigger_name(text, text) IS
    'name of the trigger a program puts on its orders table for one operation';

-- The one trigger function that records changes of tier in a program's
-- tier_history and announces them (src/programs/tier_changes.c): a statement
-- trigger reading its transition tables; its argument names the program, and
-- it fires only on that program's customers table.
CREATE OR REPLACE FUNCTION customer_tier.record_tier_change()
RETURNS trigger
AS 'MODULE_PATHNAME', 'record_tier_change'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.record_tier_change() IS
    'the statement trigger function of every program''s customers table: records the statement''s changes of tier (and an inserted customer''s first tier) in tier_history and announces each on channel customer_tier; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.record_tier_change() FROM PUBLIC;

-- The triggers tier_changed (an UPDATE's changes of tier) and tier_first (an
-- INSERT's first tiers) on a program's customers table, ENABLE ALWAYS: also
-- when a logical-replication apply worker's commit applies the deltas.  Each
-- reads the transition tables that the summaries' triggers (changes_update,
-- changes_insert) need anyway, so they cost no second copy of the rows.
CREATE OR REPLACE FUNCTION customer_tier.put_tier_trigger(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER tier_changed AFTER UPDATE ON %1$I.customers
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.record_tier_change(%2$L);
        CREATE TRIGGER tier_first AFTER INSERT ON %1$I.customers
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.record_tier_change(%2$L);
        ALTER TABLE %1$I.customers ENABLE ALWAYS TRIGGER tier_changed;
        ALTER TABLE %1$I.customers ENABLE ALWAYS TRIGGER tier_first
    $sql$, prog.data_schema, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.put_tier_trigger(customer_tier.program) IS
    'put the triggers tier_changed and tier_first, which record changes of tier, on a program''s customers table';

-- Create the program's tables, triggers and views: run as
-- customer_tier_owner by owner_attach, which owns them therefore.  The
-- triggers on the orders table and the backfill are attach_program_triggers'.
CREATE OR REPLACE FUNCTION customer_tier.create_program_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    -- fillfactor 90: room on each page for the next version of its rows, so
    -- that an update changing no indexed column (an order of a customer whose
    -- scores stay) is a HOT update, with no new index entry (docs/views.md)
    EXECUTE format($sql$
        CREATE TABLE %1$I.customers (
            customer         %2$s PRIMARY KEY,
            purchases        customer_tier.order_stats_state,
            refunds          customer_tier.order_stats_state,
            orders           bigint NOT NULL,
            monetary         numeric NOT NULL,
            first_order      timestamptz,
            last_order       timestamptz,
            mean_gap_days    double precision,
            gap_stddev_days  double precision,
            updated_at       timestamptz NOT NULL,
            r_score          integer,
            f_score          integer,
            m_score          integer,
            value_score      double precision,
            segment          text,
            abc_class        text,
            tier             text,
            tier_since       timestamptz,
            pending_since    timestamptz,
            tier_reason      text,
            changed_by       text,
            remove_purchases customer_tier.order_stats_state,
            remove_refunds   customer_tier.order_stats_state,
            recent_satisfaction double precision,
            p_alive          double precision,
            predicted_clv    double precision,
            churn_flags      text[],
            churn_reasons    text[],
            lifecycle        text,
            lifecycle_since  timestamptz,
            previous_lifecycle text,
            tier_rank        integer,
            rose_at          timestamptz,
            last_contact_at  timestamptz,
            follow_up_due_at timestamptz,
            risk_stake       double precision,
            risk_monetary    numeric
        ) WITH (fillfactor = 90)$sql$, s, prog.customer_type);
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', s,
                   format('program %s: one row per customer with counted orders, kept current by triggers on %s',
                          prog.name, prog.orders_table));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.customers.customer IS 'the customer key, in the orders table''s own type';
        COMMENT ON COLUMN %1$I.customers.purchases IS 'order_stats state of the purchases (amount >= 0)';
        COMMENT ON COLUMN %1$I.customers.refunds IS 'order_stats state of the refunds (amount < 0), NULL if none';
        COMMENT ON COLUMN %1$I.customers.orders IS 'number of purchases';
        COMMENT ON COLUMN %1$I.customers.monetary IS 'net monetary value: purchases plus refunds, exact';
        COMMENT ON COLUMN %1$I.customers.first_order IS 'time of the first purchase';
        COMMENT ON COLUMN %1$I.customers.last_order IS 'time of the last purchase';
        COMMENT ON COLUMN %1$I.customers.mean_gap_days IS 'mean days between consecutive purchases';
        COMMENT ON COLUMN %1$I.customers.gap_stddev_days IS 'sample standard deviation of the days between purchases';
        COMMENT ON COLUMN %1$I.customers.updated_at IS 'when the row last changed';
        COMMENT ON COLUMN %1$I.customers.r_score IS 'recency score 1..5 against the breakpoints of the last run (5 = most recent)';
        COMMENT ON COLUMN %1$I.customers.f_score IS 'frequency score 1..5 against the breakpoints of the last run';
        COMMENT ON COLUMN %1$I.customers.m_score IS 'monetary score 1..5 against the breakpoints of the last run';
        COMMENT ON COLUMN %1$I.customers.value_score IS 'weighted value score 0..100 from the R, F and M scores';
        COMMENT ON COLUMN %1$I.customers.segment IS 'RFM segment name (customer_tier.rfm_segments() lists them)';
        COMMENT ON COLUMN %1$I.customers.abc_class IS 'Pareto class A, B or C, set by the last run';
        COMMENT ON COLUMN %1$I.customers.tier IS 'current tier (customer_tier.tier lists the program''s tiers)';
        COMMENT ON COLUMN %1$I.customers.tier_since IS 'when the customer entered the current tier';
        COMMENT ON COLUMN %1$I.customers.pending_since IS 'since when the customer has qualified only for a lower tier (downgrade after the grace period)';
        COMMENT ON COLUMN %1$I.customers.tier_reason IS 'why the tier is what it is: new, upgrade, unchanged, downgrade pending, downgrade, pinned';
        COMMENT ON COLUMN %1$I.customers.changed_by IS 'what last changed the customer''s scores: a trigger operation, the backfill, a pin or a run';
        COMMENT ON COLUMN %1$I.customers.remove_purchases IS 'always NULL when stored: carries removed purchases within one upsert';
        COMMENT ON COLUMN %1$I.customers.remove_refunds IS 'always NULL when stored: carries removed refunds within one upsert';
        COMMENT ON COLUMN %1$I.customers.recent_satisfaction IS 'input: the customer''s recent satisfaction on 0..10, filled by feedback; NULL = no feedback (flag low_satisfaction never raised)';
        COMMENT ON COLUMN %1$I.customers.p_alive IS 'BG/NBD probability that the customer is still active, from the model of the last run; NULL without a model';
        COMMENT ON COLUMN %1$I.customers.predicted_clv IS 'predicted customer lifetime value over the program''s CLV horizon (BG/NBD x Gamma-Gamma); NULL without both models';
        COMMENT ON COLUMN %1$I.customers.churn_flags IS 'churn flags raised: silent, frequency_falling, low_p_alive, low_satisfaction; empty when none';
        COMMENT ON COLUMN %1$I.customers.churn_reasons IS 'the reason of each flag, in the order of churn_flags';
        COMMENT ON COLUMN %1$I.customers.lifecycle IS 'lifecycle stage: new, active, at risk, lapsed, lost, won back';
        COMMENT ON COLUMN %1$I.customers.lifecycle_since IS 'when the customer entered the current lifecycle stage (as seen by the scoring)';
        COMMENT ON COLUMN %1$I.customers.previous_lifecycle IS 'the lifecycle stage before the current one; NULL for the first';
        COMMENT ON COLUMN %1$I.customers.tier_rank IS 'rank of the current tier, 1 = best, as last scored; NULL without a tier';
        COMMENT ON COLUMN %1$I.customers.rose_at IS 'when the customer rose into the current tier from a lower one; NULL when it got the tier otherwise';
        COMMENT ON COLUMN %1$I.customers.last_contact_at IS 'input: the customer''s last contact (contacts table), kept by its trigger; NULL if never';
        COMMENT ON COLUMN %1$I.customers.follow_up_due_at IS 'when the next contact is due (follow_ups_due): the tier''s cadence after the last contact, or at once after a rise not followed by one';
        COMMENT ON COLUMN %1$I.customers.risk_stake IS 'the churn list''s first key while the customer is on it (predicted_clv, -Infinity without one); NULL when not at risk';
        COMMENT ON COLUMN %1$I.customers.risk_monetary IS 'the churn list''s second key while the customer is on it (monetary); NULL when not at risk'
    $sql$, s);

    EXECUTE format($sql$
        CREATE TABLE %1$I.rejects (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            rejected_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            operation   text NOT NULL,
            reason      text NOT NULL,
            order_id    text,
            row_image   jsonb NOT NULL
        );
        COMMENT ON TABLE %1$I.rejects IS 'order rows the program could not use, with the reason; the orders table keeps them unchanged';
        COMMENT ON COLUMN %1$I.rejects.id IS 'reject number, in the order rejects were recorded';
        COMMENT ON COLUMN %1$I.rejects.rejected_at IS 'when the row was rejected';
        COMMENT ON COLUMN %1$I.rejects.operation IS 'INSERT, UPDATE or BACKFILL';
        COMMENT ON COLUMN %1$I.rejects.reason IS 'why the row cannot be used';
        COMMENT ON COLUMN %1$I.rejects.order_id IS 'the order id, when the program names an order id column';
        COMMENT ON COLUMN %1$I.rejects.row_image IS 'the whole row as written to the orders table'
    $sql$, s);

    -- Every change of tier is recorded and announced, whoever makes it (the
    -- triggers, a run, a pin): a row trigger on the program's own customers,
    -- whose WHEN clause costs nothing when the tier stays.  A new customer's
    -- first tier is recorded by the statement that inserts it (src/programs/live_apply.c),
    -- in one pass rather than one trigger call per customer of a bulk load.
    EXECUTE format($sql$
        CREATE TABLE %1$I.tier_history (
            id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer   %2$s NOT NULL,
            from_tier  text,
            to_tier    text,
            changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            reason     text,
            source     text
        );
        CREATE INDEX ON %1$I.tier_history (customer, changed_at);
        CREATE INDEX ON %1$I.tier_history (changed_at);
        COMMENT ON TABLE %1$I.tier_history IS 'every change of a customer''s tier, oldest first';
        COMMENT ON COLUMN %1$I.tier_history.id IS 'change number, in the order changes were made';
        COMMENT ON COLUMN %1$I.tier_history.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.tier_history.from_tier IS 'the tier before, NULL for a customer''s first tier';
        COMMENT ON COLUMN %1$I.tier_history.to_tier IS 'the tier after';
        COMMENT ON COLUMN %1$I.tier_history.changed_at IS 'when (the time of the transaction that made the change)';
        COMMENT ON COLUMN %1$I.tier_history.reason IS 'new, upgrade, downgrade or pinned';
        COMMENT ON COLUMN %1$I.tier_history.source IS 'what made the change: trigger INSERT/UPDATE/DELETE, create_program, or a run'
    $sql$, s, prog.customer_type);
    PERFORM customer_tier.put_tier_trigger(prog);

    INSERT INTO customer_tier.churn_settings (program) VALUES (prog.name) ON CONFLICT DO NOTHING;
    PERFORM customer_tier.create_change_objects(prog);
    PERFORM customer_tier.create_program_views(prog);
    PERFORM customer_tier.create_followup_objects(prog);
    PERFORM customer_tier.grant_program_access(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_objects(customer_tier.program) IS
    'create a program''s tables, trigger function and views (run as customer_tier_owner by owner_attach)';

-- The orders table and, when it is partitioned, every table of its partition
-- tree (pg_partition_tree lists nothing for a table that is not partitioned).
CREATE OR REPLACE FUNCTION customer_tier.orders_tables(orders_table regclass)
RETURNS SETOF regclass
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT orders_table UNION SELECT t.relid FROM pg_catalog.pg_partition_tree(orders_table) AS t;
END;
COMMENT ON FUNCTION customer_tier.orders_tables(regclass) IS
    'an orders table and every table of its partition tree';

-- The one trigger function of every program (src/programs/live_trigger.c): its
-- argument names the program.  Statement triggers with transition tables
-- collect each statement's orders per customer; a row trigger does it for
-- the rows a logical-replication apply worker writes (which fires no
-- statement trigger); the deltas are applied at commit, in key order.
CREATE OR REPLACE FUNCTION customer_tier.maintain_orders()
RETURNS trigger
AS 'MODULE_PATHNAME', 'maintain_orders'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.maintain_orders() IS
    'the trigger function of every program on its orders table and partitions; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.maintain_orders() FROM PUBLIC;

-- Apply the deltas this transaction's writes collected now rather than at
-- commit, so that it reads its own writes in the programs' tables.  It
-- applies nothing but what the triggers collected; the three roles may.
CREATE OR REPLACE FUNCTION customer_tier.apply_pending()
RETURNS void
AS 'MODULE_PATHNAME', 'apply_pending'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION customer_tier.apply_pending() IS
    'apply the changes this transaction made to orders tables to their programs now, rather than at commit';
REVOKE ALL ON FUNCTION customer_tier.apply_pending() FROM PUBLIC;

-- Put a program's triggers on tbl, its orders table or a partition of it
-- (the caller's own doing, with its TRIGGER right on the table):
--   * AFTER INSERT / UPDATE / DELETE statement triggers with transition
--     tables, on the table and on every partition, since a write aimed
--     straight at a partition fires that partition's statement triggers only;
--   * on the orders table, an AFTER TRUNCATE trigger (the program empties)
--     and a row trigger enabled only for replication (ENABLE REPLICA), which
--     PostgreSQL clones to every partition, present and future;
--   * on each leaf partition, a BEFORE TRUNCATE trigger that takes its rows
--     away from their customers.
-- The TRUNCATE triggers fire ALWAYS: an apply worker replicates TRUNCATE too.
CREATE OR REPLACE FUNCTION customer_tier.put_program_triggers(prog customer_tier.program, tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind "char" := (SELECT c.relkind FROM pg_class AS c WHERE c.oid = tbl);
    -- only the table's owner may say when a trigger fires (ENABLE REPLICA / ALWAYS)
    owner boolean := pg_catalog.pg_has_role((SELECT c.relowner FROM pg_class AS c
                                             WHERE c.oid = tbl), 'USAGE');
    n text := prog.name;
BEGIN
    -- one statement per EXECUTE: Citus sends each to the shards as it is
    EXECUTE format($sql$
        CREATE TRIGGER %1$I AFTER INSERT ON %2$s REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%3$L)$sql$,
        customer_tier.program_trigger_name(n, 'insert'), tbl, n);
    EXECUTE format($sql$
        CREATE TRIGGER %1$I AFTER UPDATE ON %2$s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%3$L)$sql$,
        customer_tier.program_trigger_name(n, 'update'), tbl, n);
    EXECUTE format($sql$
        CREATE TRIGGER %1$I AFTER DELETE ON %2$s REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%3$L)$sql$,
        customer_tier.program_trigger_name(n, 'delete'), tbl, n);
    IF tbl = prog.orders_table THEN
        EXECUTE format($sql$
            CREATE TRIGGER %1$I AFTER TRUNCATE ON %2$s
                FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%3$L)$sql$,
            customer_tier.program_trigger_name(n, 'truncate'), tbl, n);
        IF owner THEN
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', tbl, customer_tier.program_trigger_name(n, 'truncate'));
            EXECUTE format($sql$
                CREATE TRIGGER %1$I AFTER INSERT OR UPDATE OR DELETE ON %2$s
                    FOR EACH ROW EXECUTE FUNCTION customer_tier.maintain_orders(%3$L)$sql$,
                customer_tier.program_trigger_name(n, 'replica'), tbl, n);
            EXECUTE format('ALTER TABLE %s ENABLE REPLICA TRIGGER %I', tbl, customer_tier.program_trigger_name(n, 'replica'));
        ELSE
            RAISE NOTICE 'program "%": the writes of a logical-replication subscription to % are not seen', n, tbl
                USING DETAIL = 'Only the owner of the table may enable triggers for replication.',
                      HINT = 'Attach the program as the table''s owner to keep it exact on a subscriber.';
        END IF;
    ELSIF kind = 'r' THEN
        EXECUTE format($sql$
            CREATE TRIGGER %1$I BEFORE TRUNCATE ON %2$s
                FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%3$L)$sql$,
            customer_tier.program_trigger_name(n, 'truncate'), tbl, n);
        IF owner THEN
            EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', tbl, customer_tier.program_trigger_name(n, 'truncate'));
        END IF;
    END IF;
    -- The trigger path reads a partition about to be truncated, and repairs
    -- drifted customers from the orders table, as customer_tier_owner: only
    -- the table's owner, or a holder of the grant option, can grant that.
    IF has_table_privilege(tbl, 'SELECT WITH GRANT OPTION') THEN
        EXECUTE format('GRANT SELECT ON %s TO customer_tier_owner', tbl);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.put_program_triggers(customer_tier.program, regclass) IS
    'put a program''s triggers on its orders table or one of its partitions';

-- Drop the triggers a program put on tbl (the row trigger on a partition is
-- PostgreSQL's clone of the orders table's, and goes with it), and revoke
-- the SELECT it granted.
CREATE OR REPLACE FUNCTION customer_tier.remove_program_triggers(prog customer_tier.program, tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    trigger_name name;
BEGIN
    FOR trigger_name IN
        SELECT t.tgname FROM pg_trigger AS t
         WHERE t.tgrelid = tbl AND t.tgparentid = 0
           AND t.tgname = ANY (ARRAY(
               SELECT customer_tier.program_trigger_name(prog.name, op)
                 FROM pg_catalog.unnest('{insert,update,delete,truncate,replica}'::text[]) AS op))
         ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, tbl);
    END LOOP;
    -- the SELECT put_program_triggers granted, unless another program reads the table too
    IF NOT EXISTS (SELECT FROM customer_tier.program AS p
                    WHERE p.orders_table = prog.orders_table
                      AND p.name <> prog.name)
       AND has_table_privilege(tbl, 'SELECT WITH GRANT OPTION') THEN
        EXECUTE format('REVOKE SELECT ON %s FROM customer_tier_owner', tbl);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.remove_program_triggers(customer_tier.program, regclass) IS
    'drop the triggers a program put on its orders table or one of its partitions';

-- Partitions that come and go keep a program exact (src/programs/partition_events.c):
-- a partition created or attached gets the program's triggers (an attached
-- one's rows are added), a detached one's rows are subtracted, and dropping
-- a partition a program counts is refused until it is detached.  Cheap for
-- every other DDL: it looks at the statement before it reads anything.
CREATE OR REPLACE FUNCTION customer_tier.partition_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'partition_ddl'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.partition_ddl() IS
    'event trigger function: keeps programs on partitioned orders tables exact through CREATE, ATTACH, DETACH and DROP of partitions';
REVOKE ALL ON FUNCTION customer_tier.partition_ddl() FROM PUBLIC;
-- @end
CREATE EVENT TRIGGER customer_tier_partition_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TABLE') EXECUTE FUNCTION customer_tier.partition_ddl();
CREATE EVENT TRIGGER customer_tier_partition_end ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION customer_tier.partition_ddl();

-- @routines
-- Put the program's triggers on the orders table and its partitions, and
-- backfill from the rows already there: the caller's own doing
-- (create_program), with its TRIGGER and SELECT rights on the table
-- (owner_attach checked them, with a clearer message than PostgreSQL's).
-- Returns the customers found.
CREATE OR REPLACE FUNCTION customer_tier.attach_program_triggers(prog customer_tier.program)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    customers bigint;
    rejected bigint;
    orders_schema regnamespace;
    member regclass;
    target name;
BEGIN
    -- No write may slip between the backfill and the triggers.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', prog.orders_table);
    FOR member IN SELECT customer_tier.orders_tables(prog.orders_table) LOOP
        PERFORM customer_tier.put_program_triggers(prog, member);
    END LOOP;

    -- staged when owner_attach made the table for it (create_program scores from there)
    target := CASE WHEN pg_catalog.to_regclass(format('%I.backfill', s)) IS NULL THEN 'customers' ELSE 'backfill' END;
    EXECUTE customer_tier.program_backfill_sql(prog, target) INTO rejected;
    IF rejected > 0 THEN
        EXECUTE customer_tier.program_rejects_sql(prog, prog.orders_table::text, '''BACKFILL''');
    END IF;
    -- kpis() reads the orders table as customer_tier_owner (for readers, who
    -- may not), as does the repair of drifted customers (put_program_triggers
    -- granted SELECT when the caller could); PostgreSQL only warns when a
    -- role without the grant option tries.
    SELECT c.relnamespace::regnamespace INTO orders_schema FROM pg_class AS c
     WHERE c.oid = prog.orders_table;
    IF has_schema_privilege(orders_schema::oid, 'USAGE WITH GRANT OPTION') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %s TO customer_tier_owner', orders_schema);
    END IF;
    IF NOT has_table_privilege('customer_tier_owner', prog.orders_table, 'SELECT')
       OR NOT has_schema_privilege('customer_tier_owner', orders_schema::oid, 'USAGE') THEN
        RAISE NOTICE 'program "%": kpis() and the repair of drift cannot read % until customer_tier_owner may', prog.name, prog.orders_table
            USING HINT = format('The owners of the table and its schema grant it: GRANT SELECT ON %s TO customer_tier_owner; GRANT USAGE ON SCHEMA %s TO customer_tier_owner.',
                                prog.orders_table, orders_schema);
    END IF;
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.%I', s, target) INTO customers;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.attach_program_triggers(customer_tier.program) IS
    'put a program''s triggers on its orders table and partitions and backfill its customers from the rows there';

-- Drop the triggers a program put on the CRM's tables (orders, and feedback
-- when attached): the caller's own doing (drop_program), which needs the
-- ownership of those tables.
CREATE OR REPLACE FUNCTION customer_tier.drop_program_triggers(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    member regclass;
    src customer_tier.feedback_source;
    orders_schema regnamespace;
BEGIN
    SELECT * INTO src FROM customer_tier.feedback_source AS f WHERE f.program = prog.name;
    IF FOUND THEN
        PERFORM customer_tier.drop_feedback_triggers(prog, src);
    END IF;
    FOR member IN SELECT customer_tier.orders_tables(prog.orders_table) LOOP
        PERFORM customer_tier.remove_program_triggers(prog, member);
    END LOOP;
    -- the schema USAGE attach_program_triggers granted, unless another
    -- program reads a table of the schema too
    SELECT c.relnamespace::regnamespace INTO orders_schema FROM pg_class AS c
     WHERE c.oid = prog.orders_table;
    IF NOT EXISTS (SELECT FROM customer_tier.program AS p JOIN pg_class AS c ON c.oid = p.orders_table
                    WHERE c.relnamespace = orders_schema::oid
                      AND p.name <> prog.name)
       AND has_schema_privilege(orders_schema::oid, 'USAGE WITH GRANT OPTION') THEN
        EXECUTE format('REVOKE USAGE ON SCHEMA %s FROM customer_tier_owner', orders_schema);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program_triggers(customer_tier.program) IS
    'drop the triggers a program put on its orders table and attached feedback table';

-- Remove what create_program_objects made, and nothing else (run as
-- customer_tier_owner by owner_detach, once drop_program_triggers ran).
CREATE OR REPLACE FUNCTION customer_tier.drop_program_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.drop_followup_objects(prog);
    PERFORM customer_tier.drop_program_views(prog);
    -- RESTRICT: a user's own object that depends on these must make this fail.
    -- a view of the customers over distributed orders (create_summary_objects), first
    IF (SELECT c.relkind FROM pg_class AS c
         WHERE c.oid = pg_catalog.to_regclass(format('%I.summary_deltas', prog.data_schema))) = 'v' THEN
        EXECUTE format('DROP VIEW %I.summary_deltas RESTRICT', prog.data_schema);
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS %I.rejects RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.customers RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.summary_deltas RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %1$I.event_deliveries, %1$I.event_consumers, %1$I.events RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.tier_history RESTRICT', prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program_objects(customer_tier.program) IS
    'drop a program''s follow-up objects, views and tables';

REVOKE ALL ON FUNCTION customer_tier.create_program_objects(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program_objects(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.attach_program_triggers(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program_triggers(customer_tier.program) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_reject_sqlstate_sql(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_row_problem_sql(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_row_counts_sql(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_rejects_sql(customer_tier.program, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_delta_sql(customer_tier.program, text, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_backfill_sql(customer_tier.program, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.put_program_triggers(customer_tier.program, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.orders_tables(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.remove_program_triggers(customer_tier.program, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_trigger_name(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.put_tier_trigger(customer_tier.program) FROM PUBLIC;
-- @end

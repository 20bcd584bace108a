-- customer_tier install script, part 63: checking a program against its orders.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- Every difference between a program's maintained customers and a recomputation
-- from scratch over the orders table.  The recomputation uses the plain
-- order_stats aggregate and sum(), not the merge/subtract path the triggers use,
-- so it is an independent check.  No rows means no drift.
CREATE OR REPLACE FUNCTION customer_tier.verify_program(program text)
RETURNS TABLE (customer text, problem text, maintained jsonb, recomputed jsonb)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    prog := customer_tier.program_row(program);
    RETURN QUERY EXECUTE format($sql$
        WITH scratch AS (
            SELECT o.%2$I AS customer,
                   pg_catalog.count(*) FILTER (WHERE o.%3$I >= '0') AS orders,
                   pg_catalog.sum(o.%3$I::numeric) AS monetary,
                   customer_tier.order_stats(o.%4$I, o.%3$I) FILTER (WHERE o.%3$I >= '0') AS s
              FROM %5$s AS o
             WHERE %6$s
             GROUP BY o.%2$I
        ), recomputed AS (
            SELECT x.customer, x.orders, x.monetary, (x.s).first_order, (x.s).last_order,
                   (x.s).mean_gap_days, (x.s).gap_stddev_days
              FROM scratch AS x
        ), maintained AS (
            SELECT c.customer, c.orders, c.monetary, c.first_order, c.last_order,
                   c.mean_gap_days, c.gap_stddev_days
              FROM %1$I.customers AS c
        )
        SELECT coalesce(m.customer, r.customer)::text,
               CASE WHEN m.customer IS NULL THEN 'missing'
                    WHEN r.customer IS NULL THEN 'unexpected'
                    ELSE 'different' END,
               pg_catalog.to_jsonb(m), pg_catalog.to_jsonb(r)
          FROM maintained AS m
          FULL JOIN recomputed AS r ON r.customer = m.customer
         WHERE m.customer IS NULL OR r.customer IS NULL
            OR (m.orders, m.monetary, m.first_order, m.last_order)
               IS DISTINCT FROM (r.orders, r.monetary, r.first_order, r.last_order)
            -- gaps are floating point: equal to the last few bits
            OR pg_catalog.abs(coalesce(m.mean_gap_days, -1) - coalesce(r.mean_gap_days, -1))
               > 1e-9
            OR pg_catalog.abs(coalesce(m.gap_stddev_days, -1) - coalesce(r.gap_stddev_days, -1))
               > 1e-9
        UNION ALL
        -- the summaries' sums (summary_deltas) against the customers they count
        SELECT NULL, 'summary',
               pg_catalog.jsonb_build_object('tier', g.tier, 'segment', g.segment, 'at_risk', g.at_risk,
                   'customers', g.kept[1], 'revenue', g.kept[2], 'value_sum', g.kept[3], 'value_n', g.kept[4]),
               pg_catalog.jsonb_build_object('tier', g.tier, 'segment', g.segment, 'at_risk', g.at_risk,
                   'customers', g.counted[1], 'revenue', g.counted[2], 'value_sum', g.counted[3], 'value_n', g.counted[4])
          FROM (SELECT x.tier, x.segment, x.at_risk,
                       ARRAY[coalesce(pg_catalog.sum(x.customers) FILTER (WHERE x.kept), 0),
                             coalesce(pg_catalog.sum(x.revenue) FILTER (WHERE x.kept), 0),
                             coalesce(pg_catalog.sum(x.value_sum) FILTER (WHERE x.kept), 0),
                             coalesce(pg_catalog.sum(x.value_n) FILTER (WHERE x.kept), 0)] AS kept,
                       ARRAY[coalesce(pg_catalog.sum(x.customers) FILTER (WHERE NOT x.kept), 0),
                             coalesce(pg_catalog.sum(x.revenue) FILTER (WHERE NOT x.kept), 0),
                             coalesce(pg_catalog.sum(x.value_sum) FILTER (WHERE NOT x.kept), 0),
                             coalesce(pg_catalog.sum(x.value_n) FILTER (WHERE NOT x.kept), 0)] AS counted
                  FROM (SELECT d.tier, d.segment, d.at_risk, true AS kept,
                               d.customers::numeric, d.revenue, d.value_sum, d.value_n::numeric
                          FROM %1$I.summary_deltas AS d
                        UNION ALL
                        SELECT c.tier, c.segment, c.risk_stake IS NOT NULL, false, 1, c.monetary, coalesce(c.value_score::numeric, 0),
                               CASE WHEN c.value_score IS NULL THEN 0 ELSE 1 END
                          FROM %1$I.customers AS c) AS x
                 GROUP BY x.tier, x.segment, x.at_risk) AS g
         WHERE g.kept <> g.counted
         ORDER BY 1$sql$,
        prog.data_schema, prog.customer_column, prog.amount_column, prog.ordered_at_column,
        prog.orders_table, customer_tier.program_row_counts_sql(prog, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.verify_program(text) IS
    'differences between a program''s maintained customers and a recomputation from its orders table; none means no drift';

-- Whether two order_stats states hold the same orders (rebuild_program
-- rewrites only the customers whose stored state is not the recomputed one).
CREATE OR REPLACE FUNCTION customer_tier.order_stats_state_same(customer_tier.order_stats_state,
                                                     customer_tier.order_stats_state)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'order_stats_state_same'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_same(customer_tier.order_stats_state,
                                                         customer_tier.order_stats_state) IS
    'whether two states hold the same order times (as a multiset) and the same exact total; NULL (no orders) equals only NULL';

-- Whether a stored customer is what its recomputed states give: its states
-- the same orders, its metrics those of the states (rebuild_program's test of
-- drift, in one call).
CREATE OR REPLACE FUNCTION customer_tier.stored_customer_same(
    purchases customer_tier.order_stats_state, refunds customer_tier.order_stats_state,
    orders bigint, monetary numeric, first_order timestamptz, last_order timestamptz,
    mean_gap_days double precision, gap_stddev_days double precision,
    new_purchases customer_tier.order_stats_state, new_refunds customer_tier.order_stats_state)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'stored_customer_same'
    LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.stored_customer_same(customer_tier.order_stats_state, customer_tier.order_stats_state,
    bigint, numeric, timestamptz, timestamptz, double precision, double precision,
    customer_tier.order_stats_state, customer_tier.order_stats_state) IS
    'whether a customer''s stored states and metrics are what its recomputed states give (the same orders, the metrics customer_metrics computes)';
REVOKE ALL ON FUNCTION customer_tier.stored_customer_same(customer_tier.order_stats_state, customer_tier.order_stats_state,
    bigint, numeric, timestamptz, timestamptz, double precision, double precision,
    customer_tier.order_stats_state, customer_tier.order_stats_state) FROM PUBLIC;

-- SQL text of a query recomputing the states of a program's customers from
-- the orders table: (customer, purchases, refunds) for the customers whose
-- orders satisfy condition (SQL on alias o), as the bounded states a program
-- stores, keeping the day counts of horizon days (SQL text).  keys, when
-- given, is SQL of an array of customer keys: only their orders are read,
-- joined to the keys (through the index on the customer column, or in one
-- pass with the keys hashed when the table has none), and the first column
-- is each key's position in the array, i, instead of the customer.
CREATE OR REPLACE FUNCTION customer_tier.program_scratch_sql(prog customer_tier.program, condition text, horizon text,
                                                  keys text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
            SELECT %1$s,
                   customer_tier.order_stats_bounded(customer_tier.order_stats_partial(o.%2$I, o.%3$I) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.>=) '0'), %7$s) AS purchases,
                   customer_tier.order_stats_bounded(customer_tier.order_stats_partial(o.%2$I, o.%3$I) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.<) '0'), %7$s) AS refunds
              FROM %4$s
             WHERE %5$s AND %6$s
             GROUP BY 1$sql$,
        CASE WHEN keys IS NULL THEN format('o.%I AS customer', prog.customer_column) ELSE 'k.i' END,
        prog.ordered_at_column, prog.amount_column,
        CASE WHEN keys IS NULL THEN format('%s AS o', prog.orders_table)
             ELSE format('pg_catalog.unnest(%s) WITH ORDINALITY AS k (customer, i) JOIN %s AS o'
                         ' ON o.%I OPERATOR(pg_catalog.=) k.customer', keys, prog.orders_table, prog.customer_column) END,
        customer_tier.program_row_counts_sql(prog, 'o'), condition, horizon);
END
$$;
COMMENT ON FUNCTION customer_tier.program_scratch_sql(customer_tier.program, text, text, text) IS
    'SQL text of the recomputation of a program''s customer states (bounded) from its orders table';

-- SQL text of the trigger path's recompute (src/programs/live_apply.c): for $1, an
-- array of customer keys, the ordinality of each customer that still has
-- orders and its states recomputed; $2 is the horizon.  A query per key
-- (LATERAL) would read the whole orders table for each key when it has no
-- index on the customer column: a bulk update of many customers would not end.
CREATE OR REPLACE FUNCTION customer_tier.program_recompute_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
        SELECT s.i, s.purchases, s.refunds
          FROM (%s) AS s
         ORDER BY s.i$sql$,
        customer_tier.program_scratch_sql(prog, 'true', '$2', '$1'));
END
$$;
COMMENT ON FUNCTION customer_tier.program_recompute_sql(customer_tier.program) IS
    'SQL text of the trigger path''s recomputation of some customers (through the index on the customer column when there is one)';
REVOKE ALL ON FUNCTION customer_tier.program_recompute_sql(customer_tier.program) FROM PUBLIC;
-- @end

-- Recomputed from the orders table: every drift repair, as the trigger path
-- recorded it (one row per transaction that repaired customers).
-- @new-before
CREATE TABLE customer_tier.drift_repair (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program     text NOT NULL REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    repaired_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    customers   bigint NOT NULL,
    repaired    boolean NOT NULL,
    source      text NOT NULL DEFAULT 'orders' CONSTRAINT drift_repair_source CHECK (source IN ('orders', 'feedback'))
);
COMMENT ON TABLE customer_tier.drift_repair IS 'customers whose maintained state could not take a removal, recomputed by the trigger path from the table written (orders, or feedback)';
COMMENT ON COLUMN customer_tier.drift_repair.id IS 'repair number';
COMMENT ON COLUMN customer_tier.drift_repair.program IS 'the program';
COMMENT ON COLUMN customer_tier.drift_repair.repaired_at IS 'when (the time of the transaction whose write found the drift)';
COMMENT ON COLUMN customer_tier.drift_repair.customers IS 'customers found drifted';
COMMENT ON COLUMN customer_tier.drift_repair.repaired IS 'false when customer_tier_owner may not read the table written: the customers stay drifted until rebuild_program (orders) or a new attach_feedback (feedback)';
COMMENT ON COLUMN customer_tier.drift_repair.source IS 'the table whose write found the drift: orders (the customers'' states, verify_program) or feedback (the copied answers, verify_feedback)';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.drift_repair', '');
SELECT pg_catalog.pg_extension_config_dump('customer_tier.drift_repair_id_seq', '');
-- @end

-- @routines
-- The row list of a customer rebuilt from its recomputed states (states.purchases,
-- states.refunds) and metrics (metrics.orders, ...), written now, with every
-- other column (scores, tier, inputs) from c: columns are the customers
-- table's, in order, and key the customer key's expression.
CREATE OR REPLACE FUNCTION customer_tier.rebuilt_row_sql(columns text[], key text, states text, metrics text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.string_agg(
                   CASE WHEN x.name = 'customer' THEN key
                        WHEN x.name = 'updated_at' THEN 'pg_catalog.now()'
                        WHEN x.name IN ('purchases', 'refunds') THEN states || '.' || pg_catalog.quote_ident(x.name)
                        WHEN x.name IN ('orders', 'monetary', 'first_order', 'last_order', 'mean_gap_days', 'gap_stddev_days')
                             THEN metrics || '.' || pg_catalog.quote_ident(x.name)
                        ELSE 'c.' || pg_catalog.quote_ident(x.name) END,
                   ', ' ORDER BY x.i)
          FROM pg_catalog.unnest(columns) WITH ORDINALITY AS x (name, i));
COMMENT ON FUNCTION customer_tier.rebuilt_row_sql(text[], text, text, text) IS
    'SQL text of the row of a customer that rebuild_program writes: its recomputed states and metrics, everything else as stored';

-- The rest of rebuild_program's INSERT INTO customers AS c, after its CTE
-- diff: each customer of diff written once, scored, or as it is but for its
-- states and metrics when its scores stay (changed_by too).  A customer
-- already stored is scored again in the DO UPDATE, from its current row,
-- which the statement has locked: a pin or a contact may have changed it
-- since the statement's snapshot.  columns are the customers table's.
CREATE OR REPLACE FUNCTION customer_tier.rebuilt_rows_sql(prog customer_tier.program, columns text[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    scored text := format($e$CASE WHEN customer_tier.scored_row_changed(%1$L, n.r, 'rebuild_program')
                                  THEN customer_tier.scored_row(%1$L, n.r, 'rebuild_program') ELSE n.r END$e$, prog.name);
    others text[] := pg_catalog.array_remove(columns, 'customer');
BEGIN
    RETURN format($sql$
        SELECT (w.r).*
          FROM (SELECT %2$s AS r
                  FROM (SELECT ROW(%3$s)::%1$I.customers AS r
                          FROM diff AS d
                          LEFT JOIN %1$I.customers AS c ON c.customer = d.customer
                          CROSS JOIN LATERAL customer_tier.customer_metrics(d.purchases, d.refunds) AS m
                         WHERE NOT d.gone
                         ORDER BY d.customer) AS n
                OFFSET 0) AS w
        ON CONFLICT (customer) DO UPDATE
           SET (%4$s) = (SELECT %5$s
                           FROM (SELECT %2$s AS r
                                   FROM (SELECT ROW(%6$s)::%1$I.customers AS r OFFSET 0) AS n
                                 OFFSET 0) AS w)$sql$,
        prog.data_schema, scored,
        customer_tier.rebuilt_row_sql(columns, 'd.customer', 'd', 'm'),
        (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(x), ', ') FROM pg_catalog.unnest(others) AS x),
        (SELECT pg_catalog.string_agg('(w.r).' || pg_catalog.quote_ident(x), ', ') FROM pg_catalog.unnest(others) AS x),
        customer_tier.rebuilt_row_sql(columns, 'c.customer', 'excluded', 'excluded'));
END
$$;
COMMENT ON FUNCTION customer_tier.rebuilt_rows_sql(customer_tier.program, text[]) IS
    'SQL text of the write of rebuild_program: each changed customer written once, scored';

-- The same write on a Citus cluster, where a DO UPDATE may call no function
-- that is not IMMUTABLE: the states and metrics alone, rescored after.
CREATE OR REPLACE FUNCTION customer_tier.rebuilt_states_sql()
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    written text[] := ARRAY['purchases', 'refunds', 'orders', 'monetary', 'first_order', 'last_order',
                            'mean_gap_days', 'gap_stddev_days', 'updated_at'];
BEGIN
    RETURN format($sql$
               (customer, %1$s)
        SELECT d.customer, d.purchases, d.refunds, m.orders, m.monetary, m.first_order, m.last_order,
               m.mean_gap_days, m.gap_stddev_days, pg_catalog.now()
          FROM diff AS d, LATERAL customer_tier.customer_metrics(d.purchases, d.refunds) AS m
         WHERE NOT d.gone
         ORDER BY d.customer
        ON CONFLICT (customer) DO UPDATE
           SET (%1$s) = (%2$s)$sql$,
        pg_catalog.array_to_string(written, ', '),
        (SELECT pg_catalog.string_agg('excluded.' || x, ', ') FROM pg_catalog.unnest(written) AS x));
END
$$;
COMMENT ON FUNCTION customer_tier.rebuilt_states_sql() IS
    'SQL text of the write of rebuild_program on a Citus cluster: the states and metrics of each changed customer, rescored after';

-- Recompute a program's customers from scratch over the orders table, keeping
-- each customer's tier and history: the repair for drift that verify_program
-- reports.  Returns the number of customers.  Only the customers whose state
-- or metrics differ from the recomputation are written, each once, scored in
-- the same statement against the stored breakpoints as the triggers would
-- have scored it (rebuilt_rows_sql: in the SELECT, and a customer already
-- stored again in the DO UPDATE, from its current row).  Writing the states
-- first and rescoring them after wrote every repaired customer twice.  Re-ranking the whole population is a run's job: a rebuild that
-- finds no drift costs one grouping of the orders and one comparison.  A
-- rebuild is maintenance, like CREATE INDEX: it groups the orders in
-- maintenance_work_mem rather than spilling to disk at work_mem (the SET
-- clause restores work_mem when it returns), and without JIT, whose
-- compilation costs more than it saves on these statements.
CREATE OR REPLACE FUNCTION customer_tier.rebuild_program(program text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '64MB'
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
    columns text[];
    distributed boolean;
BEGIN
    prog := customer_tier.program_row(program);
    PERFORM pg_catalog.set_config('work_mem', pg_catalog.current_setting('maintenance_work_mem'), true);
    -- this transaction's own writes first: the rebuild reads them in the orders
    PERFORM customer_tier.apply_pending();
    -- writers wait while the state is rebuilt, so none slips between
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', prog.orders_table);
    -- over a Citus reference or local table, its placement on this node
    prog.orders_table := customer_tier.citus_placement_here(prog.orders_table);
    SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) INTO columns
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = format('%I.customers', prog.data_schema)::regclass
       AND a.attnum > 0 AND NOT a.attisdropped;
    -- Citus refuses a DO UPDATE that calls functions not IMMUTABLE on a
    -- distributed table: there the states are written first, then rescored
    distributed := customer_tier.citus_table_kind(format('%I.customers', prog.data_schema)::regclass) = 'distributed';
    EXECUTE format($sql$
        WITH scratch AS (%2$s
        ), diff AS MATERIALIZED (
            -- one pass over the recomputation and the stored customers: the
            -- customers to write (missing or different) and those to delete
            SELECT coalesce(s.customer, c.customer) AS customer, s.customer IS NULL AS gone,
                   s.purchases, s.refunds
              FROM scratch AS s
              FULL JOIN %1$I.customers AS c ON c.customer = s.customer
             WHERE s.customer IS NULL OR c.customer IS NULL
                OR NOT customer_tier.stored_customer_same(c.purchases, c.refunds, c.orders, c.monetary,
                                                          c.first_order, c.last_order, c.mean_gap_days,
                                                          c.gap_stddev_days, s.purchases, s.refunds)
        ), gone AS (
            DELETE FROM %1$I.customers AS c
             USING diff AS d
             WHERE d.gone AND c.customer = d.customer
        )
        INSERT INTO %1$I.customers AS c
        %3$s$sql$,
        prog.data_schema,
        customer_tier.program_scratch_sql(prog, 'true',
                                          format('(SELECT customer_tier.program_state_horizon(%L))', prog.name)),
        CASE WHEN distributed THEN customer_tier.rebuilt_states_sql()
             ELSE customer_tier.rebuilt_rows_sql(prog, columns) END);
    IF distributed THEN
        PERFORM customer_tier.rescore_where(program, 'rebuild_program', 'c.updated_at = pg_catalog.now()');
    END IF;
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', prog.data_schema) INTO customers;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.rebuild_program(text) IS
    'recompute a program''s customers from scratch over the orders table (tiers and history kept), then rescore; returns the customers';
REVOKE ALL ON FUNCTION customer_tier.rebuild_program(text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.verify_program(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_scratch_sql(customer_tier.program, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rebuilt_row_sql(text[], text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rebuilt_rows_sql(customer_tier.program, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.rebuilt_states_sql() FROM PUBLIC;
-- @end

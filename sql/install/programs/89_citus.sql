-- @routines
-- Programs over orders distributed by Citus (docs/citus.md).  Nothing here
-- needs Citus installed: each function looks Citus's catalog up when it runs.

-- What a table is to Citus: 'distributed', 'reference', 'Citus local', or
-- NULL (a table of this node only, or no Citus).
CREATE OR REPLACE FUNCTION customer_tier.citus_table_kind(tbl regclass)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT CASE d.partmethod WHEN ''h'' THEN ''distributed'' WHEN ''n'' THEN
                        CASE WHEN d.repmodel = ''t'' THEN ''reference'' ELSE ''Citus local'' END
                    ELSE ''distributed'' END
               FROM pg_catalog.pg_dist_partition AS d WHERE d.logicalrelid = $1'
      INTO kind USING tbl;
    RETURN kind;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_table_kind(regclass) IS
    'what a table is to Citus: distributed, reference, Citus local, or NULL for a table of one node';

-- The column a Citus distributed table is distributed by.
CREATE OR REPLACE FUNCTION customer_tier.citus_distribution_column(tbl regclass)
RETURNS name
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col name;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT pg_catalog.column_to_column_name(d.logicalrelid, d.partkey)
               FROM pg_catalog.pg_dist_partition AS d WHERE d.logicalrelid = $1'
      INTO col USING tbl;
    RETURN col;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_distribution_column(regclass) IS
    'the distribution column of a Citus distributed table, NULL for any other table';

-- The relation holding a table's rows on this node: for a Citus reference
-- or Citus local table with a placement here, that placement (its shard,
-- named <table>_<shardid> in the table's schema); else the table itself.  A
-- job reading a program's orders of one shard reads the placement on the
-- coordinator, with the program's tables there, in a statement that is all
-- local: Citus refuses a statement that writes a plain table and reads a
-- reference table in a CTE ("relation customers is not distributed").
CREATE OR REPLACE FUNCTION customer_tier.citus_placement_here(tbl regclass)
RETURNS regclass
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shard bigint;
BEGIN
    IF customer_tier.citus_table_kind(tbl) IS NULL OR customer_tier.citus_table_kind(tbl) = 'distributed' THEN
        RETURN tbl;
    END IF;
    EXECUTE 'SELECT s.shardid FROM pg_catalog.pg_dist_shard AS s
               JOIN pg_catalog.pg_dist_placement AS p ON p.shardid = s.shardid
              WHERE s.logicalrelid = $1 AND p.groupid = (SELECT l.groupid FROM pg_catalog.pg_dist_local_group AS l)'
      INTO shard USING tbl;
    IF shard IS NULL THEN
        RETURN tbl;
    END IF;
    RETURN format('%I.%I', (SELECT n.nspname FROM pg_namespace AS n JOIN pg_class AS c ON c.relnamespace = n.oid WHERE c.oid = tbl),
                  (SELECT c.relname FROM pg_class AS c WHERE c.oid = tbl) || '_' || shard)::regclass;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_placement_here(regclass) IS
    'the relation holding a table''s rows on this node: the placement of a Citus reference or local table here, else the table';

-- Let the caller's transaction create and drop a program's triggers on a
-- Citus distributed or reference table: Citus refuses both unless
-- citus.enable_unsafe_triggers is on, which this sets for the transaction
-- only (docs/citus.md, "Settings").  Nothing for any other table.
CREATE OR REPLACE FUNCTION customer_tier.citus_allow_triggers(tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF customer_tier.citus_table_kind(tbl) IN ('distributed', 'reference') THEN
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_allow_triggers(regclass) IS
    'for the transaction: let Citus create and drop a program''s triggers on a distributed or reference table';

-- The per-customer tables of a program, distributed by customer with its
-- orders (a program over a distributed orders table): each customer's rows
-- in the shard group of its orders, on the same node.  The tables without a
-- customer (rejects, summaries, the change feed) stay on the coordinator.
-- Run by create_program as its caller, after the owner step: Citus creates
-- the shards over connections of the current role, which customer_tier_owner
-- (no login) cannot open.  citus.enable_unsafe_triggers, for this
-- transaction only: the program's triggers on these tables then run on
-- their shards, where they write the same shard group only.
CREATE OR REPLACE FUNCTION customer_tier.citus_distribute_program(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    -- one connection per worker for the rest of the transaction: the
    -- backfill's and the first scoring's triggers on the shards must see the
    -- shards' metadata, which the workers get in this transaction
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    FOREACH t IN ARRAY '{customers,tier_history,satisfaction,answers,contacts}'::text[] LOOP
        IF to_regclass(format('%I.%I', prog.data_schema, t)) IS NOT NULL THEN
            -- a distributed table's unique keys include its distribution column:
            -- the numbered tables are keyed by (customer, id)
            IF t IN ('tier_history', 'answers', 'contacts') THEN
                EXECUTE format('ALTER TABLE %1$I.%2$I DROP CONSTRAINT %3$I, ADD PRIMARY KEY (customer, id)',
                               prog.data_schema, t, t || '_pkey');
            END IF;
            EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''customer'', colocate_with => $2)'
              USING format('%I.%I', prog.data_schema, t), prog.orders_table::text;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_distribute_program(customer_tier.program) IS
    'distribute a program''s per-customer tables by customer, co-located with its distributed orders table';

-- The rows of the catalog a program's trigger path reads, as one jsonb.
CREATE OR REPLACE FUNCTION customer_tier.citus_program_catalog(program text)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'program', (SELECT to_jsonb(p) FROM customer_tier.program AS p WHERE p.name = program),
        'tier', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM customer_tier.tier AS x WHERE x.program = citus_program_catalog.program),
        'pin', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM customer_tier.pin AS x WHERE x.program = citus_program_catalog.program),
        'churn_settings', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM customer_tier.churn_settings AS x WHERE x.program = citus_program_catalog.program),
        'program_model', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM customer_tier.program_model AS x WHERE x.program = citus_program_catalog.program),
        'cadence', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM customer_tier.cadence AS x WHERE x.program = citus_program_catalog.program));
END;
COMMENT ON FUNCTION customer_tier.citus_program_catalog(text) IS
    'the catalog rows of a program that its trigger path reads (program, tiers, pins, churn settings, models, cadences), as jsonb';

-- On a Citus worker: make the catalog rows of one program those of the
-- coordinator (citus_program_catalog there).  Only a superuser runs it (no
-- grant): citus_sync_program calls it on every worker.
CREATE OR REPLACE FUNCTION customer_tier.citus_receive_program(catalog jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text := catalog->'program'->>'name';
    -- in the order they are written: a pin names a tier
    tables constant text[] := '{tier,churn_settings,program_model,cadence,pin}';
    t text;
    cols text;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'no program in the catalog rows' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute AS a
     WHERE a.attrelid = 'customer_tier.program'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
    INSERT INTO customer_tier.program SELECT * FROM jsonb_populate_record(NULL::customer_tier.program, catalog->'program')
        ON CONFLICT DO NOTHING;
    EXECUTE format('UPDATE customer_tier.program AS p SET (%1$s) = (SELECT %1$s FROM jsonb_populate_record(NULL::customer_tier.program, $1))
                     WHERE p.name = $2', cols)
      USING catalog->'program', name;
    FOR t IN SELECT u.t FROM unnest(tables) WITH ORDINALITY AS u (t, n) ORDER BY u.n DESC LOOP
        EXECUTE format('DELETE FROM customer_tier.%I AS x WHERE x.program = $1', t) USING name;
    END LOOP;
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('INSERT INTO customer_tier.%1$I OVERRIDING SYSTEM VALUE
                        SELECT * FROM jsonb_populate_recordset(NULL::customer_tier.%1$I, $1)', t)
          USING catalog->t;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_receive_program(jsonb) IS
    'on a Citus worker: replace the catalog rows of a program by those of the coordinator';

-- Copy a program's catalog rows to every Citus worker, where its triggers
-- run on the shards and read them.  Each worker commits on its own
-- (run_command_on_workers): a failure is reported, and running it again
-- repeats the copy.
CREATE OR REPLACE FUNCTION customer_tier.citus_sync_program(program text)
RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed text;
    nodes integer;
BEGIN
    EXECUTE 'SELECT pg_catalog.count(*), pg_catalog.string_agg(w.nodename || '':'' || w.nodeport || '': '' || w.result, ''; '')
                    FILTER (WHERE NOT w.success)
               FROM pg_catalog.run_command_on_workers($1) AS w'
      INTO nodes, failed
      USING format('SELECT customer_tier.citus_receive_program(%L::jsonb)', customer_tier.citus_program_catalog(program));
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'program "%": its catalog could not be copied to every Citus worker', program
            USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = failed,
                  HINT = 'The workers need customer_tier installed, and the role that runs it must be a superuser there.';
    END IF;
    RETURN nodes;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_sync_program(text) IS
    'copy a program''s catalog rows to every Citus worker (after create_program and after changing its configuration); returns the number of workers';

-- rescore_where over a program's distributed customers (docs/citus.md,
-- "Jobs"): the same scoring (scored_row, scored_row_changed, in C), run by
-- Citus on every shard of the customers, in parallel, in the caller's
-- transaction.  Citus refuses an UPDATE whose SET or WHERE calls a STABLE
-- function of the row's columns, but pushes an INSERT ... SELECT between
-- co-located shards down whole: each shard's rows are scored and written back
-- on their node (ON CONFLICT on the customer key: every selected row is
-- there).  Only the scored columns are written back, and only while the row
-- is the version that was scored (updated_at unchanged): a customer whose
-- orders the trigger path changed meanwhile keeps the trigger path's scoring
-- (on one node, rescore_where's UPDATE rescores the newest version instead).
-- The workers score against the coordinator's configuration, copied to them
-- first (citus_sync_program, which each worker commits on its own).
-- Returns the number of customers whose tier changed.
CREATE OR REPLACE FUNCTION customer_tier.citus_rescore_where(prog customer_tier.program, source text, condition text,
                                                  scored text[], arguments text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    columns text;
    selected text;
    changed bigint;
BEGIN
    PERFORM customer_tier.citus_sync_program(prog.name);
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
           string_agg(CASE WHEN a.attname = ANY (scored)
                           THEN format('(customer_tier.scored_row(%s)).%I', arguments, a.attname)
                           ELSE format('c.%I', a.attname) END, ', ' ORDER BY a.attnum)
      INTO columns, selected
      FROM pg_attribute AS a
     WHERE a.attrelid = format('%I.customers', prog.data_schema)::regclass AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE format($sql$
        WITH updated AS (
            INSERT INTO %1$I.customers AS t (%2$s)
            SELECT %3$s FROM %1$I.customers AS c
             WHERE (%4$s)
               AND customer_tier.scored_row_changed(%5$s)
            ON CONFLICT (customer) DO UPDATE
               SET (%6$s) = (%7$s)
             WHERE t.updated_at IS NOT DISTINCT FROM excluded.updated_at
            RETURNING t.tier_since >= %8$L::timestamptz AS changed)
        SELECT count(*) FILTER (WHERE u.changed) FROM updated AS u$sql$,
        prog.data_schema, columns, selected, condition, arguments,
        array_to_string(scored, ', '),
        (SELECT string_agg('excluded.' || quote_ident(n), ', ') FROM unnest(scored) AS n),
        customer_tier.program_as_of(prog.name))
      INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION customer_tier.citus_rescore_where(customer_tier.program, text, text, text[], text) IS
    'rescore_where on a program''s distributed customers: scored by the one scoring path on every shard, in parallel, in the caller''s transaction';

REVOKE ALL ON FUNCTION customer_tier.citus_table_kind(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_distribution_column(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_allow_triggers(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_placement_here(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_distribute_program(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_program_catalog(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_receive_program(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_sync_program(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.citus_rescore_where(customer_tier.program, text, text, text[], text) FROM PUBLIC;
-- @end

-- customer_tier install script, part 60: programs — attaching to a CRM's orders table.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- One row per program: which table it watches and how to read it.  Kept by
-- pg_dump (pg_extension_config_dump), validated here and in create_program().
CREATE TABLE customer_tier.program (
    name              text PRIMARY KEY
                      CONSTRAINT program_name_format CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    orders_table      regclass NOT NULL,
    customer_column   name NOT NULL,
    customer_type     regtype NOT NULL
                      CONSTRAINT program_customer_type CHECK (customer_type IN
                          ('integer'::regtype, 'bigint'::regtype, 'uuid'::regtype,
                           'text'::regtype, 'character varying'::regtype)),
    amount_column     name NOT NULL,
    amount_type       regtype NOT NULL
                      CONSTRAINT program_amount_type CHECK (amount_type IN
                          ('numeric'::regtype, 'integer'::regtype, 'bigint'::regtype,
                           'double precision'::regtype, 'money'::regtype)),
    ordered_at_column name NOT NULL,
    ordered_at_type   regtype NOT NULL
                      CONSTRAINT program_ordered_at_type CHECK (ordered_at_type IN
                          ('timestamp with time zone'::regtype,
                           'timestamp without time zone'::regtype, 'date'::regtype)),
    status_column     name,
    counted_statuses  text[],
    order_id_column   name,
    method            text NOT NULL DEFAULT 'rfm'
                      CONSTRAINT program_method CHECK (method IN ('rules', 'rfm', 'abc')),
    score_weights     double precision[] NOT NULL DEFAULT '{1,1,1}'
                      CONSTRAINT program_score_weights CHECK (
                          pg_catalog.cardinality(score_weights) = 3
                          AND pg_catalog.array_position(score_weights, NULL) IS NULL
                          AND 0 <= ALL (score_weights)
                          AND 'Infinity' > ALL (score_weights)       -- NaN sorts above Infinity
                          AND score_weights[1] + score_weights[2] + score_weights[3] > 0),
    downgrade_grace   interval NOT NULL DEFAULT '90 days'
                      CONSTRAINT program_downgrade_grace CHECK (downgrade_grace >= '0'),
    reject_mode       text NOT NULL DEFAULT 'skip'
                      CONSTRAINT program_reject_mode CHECK (reject_mode IN ('skip', 'error')),
    r_breakpoints     double precision[],
    f_breakpoints     double precision[],
    m_breakpoints     double precision[],
    scored_at         timestamptz,
    data_schema       name NOT NULL UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    attached_by       regrole NOT NULL,
    scoring_date      timestamptz
                      CONSTRAINT program_scoring_date_finite CHECK (pg_catalog.isfinite(scoring_date)),
    CONSTRAINT program_statuses CHECK ((status_column IS NULL) = (counted_statuses IS NULL)
                                       AND pg_catalog.cardinality(counted_statuses) > 0)
);
COMMENT ON TABLE customer_tier.program IS
    'one row per program: the CRM orders table it is attached to and how its columns are read';
COMMENT ON COLUMN customer_tier.program.name IS 'program name: lowercase letters, digits, underscores';
COMMENT ON COLUMN customer_tier.program.orders_table IS 'the CRM''s own orders table (never altered)';
COMMENT ON COLUMN customer_tier.program.customer_column IS 'column holding the customer key';
COMMENT ON COLUMN customer_tier.program.customer_type IS 'type of the customer key, kept in the program''s own tables';
COMMENT ON COLUMN customer_tier.program.amount_column IS 'column holding the order amount';
COMMENT ON COLUMN customer_tier.program.amount_type IS 'type of the amount column';
COMMENT ON COLUMN customer_tier.program.ordered_at_column IS 'column holding the order time';
COMMENT ON COLUMN customer_tier.program.ordered_at_type IS 'type of the order time column';
COMMENT ON COLUMN customer_tier.program.status_column IS 'optional column holding the order status';
COMMENT ON COLUMN customer_tier.program.counted_statuses IS 'statuses whose orders count; NULL when there is no status column';
COMMENT ON COLUMN customer_tier.program.order_id_column IS 'optional column holding the order id, kept in rejects';
COMMENT ON COLUMN customer_tier.program.method IS 'how tiers are assigned: rules (conditions per tier), rfm (value score thresholds), abc (Pareto classes)';
COMMENT ON COLUMN customer_tier.program.score_weights IS 'weights of the R, F and M scores in the value score';
COMMENT ON COLUMN customer_tier.program.downgrade_grace IS 'how long a customer keeps a tier after ceasing to qualify; upgrades take effect at once';
COMMENT ON COLUMN customer_tier.program.reject_mode IS 'skip: unusable order rows are kept in the rejects table; error: they make the write fail';
COMMENT ON COLUMN customer_tier.program.r_breakpoints IS 'recency quintile breakpoints (days since the last order) stored by the last run; lower is better';
COMMENT ON COLUMN customer_tier.program.f_breakpoints IS 'order-count quintile breakpoints stored by the last run';
COMMENT ON COLUMN customer_tier.program.m_breakpoints IS 'monetary-value quintile breakpoints stored by the last run';
COMMENT ON COLUMN customer_tier.program.scored_at IS 'when the breakpoints were last computed';
COMMENT ON COLUMN customer_tier.program.data_schema IS 'schema that holds the program''s tables and views, dropped with it';
COMMENT ON COLUMN customer_tier.program.created_at IS 'when the program was created';
COMMENT ON COLUMN customer_tier.program.scoring_date IS 'the fixed instant the program scores against (historical data: create_program''s as_of, reclassify''s as_of, set_scoring_date); NULL: the clock, each transaction''s start';
COMMENT ON COLUMN customer_tier.program.attached_by IS 'the role that attached the program (create_program): only it, or a superuser, may drop it';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.program', '');

-- @routines
-- A program's catalog row, or the error every function gives for an unknown program.
CREATE OR REPLACE FUNCTION customer_tier.program_row(program text)
RETURNS customer_tier.program
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name = program_row.program;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    RETURN prog;
END
$$;
COMMENT ON FUNCTION customer_tier.program_row(text) IS
    'a program''s catalog row, or undefined_object (42704) naming the unknown program';
REVOKE ALL ON FUNCTION customer_tier.program_row(text) FROM PUBLIC;

-- The catalog row of the program a caller's argument names: NULL is
-- null_value_not_allowed (22004), before any lookup; an unknown name is
-- program_row's undefined_object.
CREATE OR REPLACE FUNCTION customer_tier.named_program_row(program text)
RETURNS customer_tier.program
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN customer_tier.program_row(program);
END
$$;
COMMENT ON FUNCTION customer_tier.named_program_row(text) IS
    'the catalog row of the program a caller names: 22004 when the name is NULL, 42704 when no program has it';
REVOKE ALL ON FUNCTION customer_tier.named_program_row(text) FROM PUBLIC;

-- The type of column col of table tbl, or an error naming both.
CREATE OR REPLACE FUNCTION customer_tier.column_type(tbl regclass, col name, role text)
RETURNS regtype
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    typ regtype;
BEGIN
    IF col IS NULL THEN
        RAISE EXCEPTION 'the % column must be named', role
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = format('Pass the name of the column of %s that holds the %s.', tbl, role);
    END IF;
    SELECT a.atttypid::regtype INTO typ
      FROM pg_attribute AS a
     WHERE a.attrelid = tbl
       AND a.attname = col
       AND a.attnum > 0
       AND NOT a.attisdropped;
    IF typ IS NULL THEN
        RAISE EXCEPTION 'column "%" does not exist in table %', col, tbl
            USING ERRCODE = 'undefined_column',
                  HINT = format('Name the column of %s that holds the %s.', tbl, role);
    END IF;
    RETURN typ;
END
$$;
COMMENT ON FUNCTION customer_tier.column_type(regclass, name, text) IS
    'type of a column of a table, or an error naming the column and the role it was meant for';

-- Refuse a column whose type the program cannot read, naming the column and the accepted types.
CREATE OR REPLACE FUNCTION customer_tier.check_column_type(tbl regclass, col name, role text, typ regtype,
                                                accepted regtype[])
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT typ = ANY (accepted) THEN
        RAISE EXCEPTION 'column "%" of table % has type %, which cannot hold the %', col, tbl, typ, role
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('The %s column must be one of: %s.', role,
                                  array_to_string(accepted::text[], ', ')),
                  HINT = 'Name a column of one of these types.';
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.check_column_type(regclass, name, text, regtype, regtype[]) IS
    'raises datatype_mismatch when a column''s type is not one a program can read';

-- Attach a program to an orders table.  The program's schema and everything
-- in it belong to customer_tier_owner (docs/security.md), so owner_attach
-- makes them, as that role; the triggers on the orders table and the
-- backfill are the caller's own doing, with the caller's own rights.
-- Returns the number of customers found by the backfill.
-- Whether an index of the orders table can find one customer's orders: a
-- valid, non-partial index whose first key is the customer column (on a
-- partitioned table, an index of the parent, which every partition gets).
-- A repair recomputes drifted customers from the orders table through it;
-- without one each repair reads the whole table.  create_program warns and
-- names the statement to run; it never changes the user's table itself.
CREATE OR REPLACE FUNCTION customer_tier.customer_index_missing(orders regclass, customer_column name)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN NOT EXISTS (
               SELECT FROM pg_catalog.pg_index AS i
                 JOIN pg_catalog.pg_attribute AS a
                   ON a.attrelid = i.indrelid
                  AND a.attnum = i.indkey[0]
                WHERE i.indrelid = orders
                  AND i.indisvalid AND i.indpred IS NULL
                  AND a.attname = customer_column)
            THEN pg_catalog.format('CREATE INDEX %sON %s (%I);',
                                   CASE WHEN (SELECT c.relkind FROM pg_catalog.pg_class AS c
                                               WHERE c.oid = orders)
                                             = 'p' THEN ''
                                        ELSE 'CONCURRENTLY ' END,
                                   orders, customer_column) END;
COMMENT ON FUNCTION customer_tier.customer_index_missing(regclass, name) IS
    'NULL when an index of the orders table leads with the customer column; else the CREATE INDEX statement that makes one';

CREATE OR REPLACE FUNCTION customer_tier.create_program(
    name              text,
    orders            regclass,
    customer_column   name,
    amount_column     name,
    ordered_at_column name,
    status_column     name DEFAULT NULL,
    counted_statuses  text[] DEFAULT NULL,
    order_id_column   name DEFAULT NULL,
    as_of             timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    customers bigint;
    missing_index text;
    later bigint;
    distributed boolean;
BEGIN
    IF name IS NULL OR orders IS NULL THEN
        RAISE EXCEPTION 'program name and orders table must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM customer_tier.check_scoring_date(as_of);
    PERFORM customer_tier.run_as_owner('attach', name, jsonb_build_object(
        'orders', orders::oid, 'customer_column', customer_column, 'amount_column', amount_column,
        'ordered_at_column', ordered_at_column, 'status_column', status_column,
        'counted_statuses', counted_statuses, 'order_id_column', order_id_column, 'as_of', as_of));
    -- the tiers' deferred checks cannot fire inside the owner step's
    -- security-restricted operation; the admin writes tiers anyway
    PERFORM customer_tier.default_tiers(name);
    -- over orders distributed by Citus: the per-customer tables go with them,
    -- and the workers, where the triggers run, get the program's catalog rows
    distributed := customer_tier.citus_table_kind(orders) = 'distributed';
    IF distributed THEN
        PERFORM customer_tier.citus_distribute_program(customer_tier.program_row(name));
    END IF;
    PERFORM customer_tier.citus_allow_triggers(orders);
    customers := customer_tier.attach_program_triggers(customer_tier.program_row(name));
    IF distributed THEN
        -- The first breakpoints and ABC classes, across the cluster; then
        -- everyone scored on the shards, in this transaction
        -- (citus_rescore_where, which copies the catalog to the workers
        -- first): the first tiers are recorded on the shards of tier_history
        -- by its trigger, as a change from none.
        PERFORM customer_tier.rescore_where(name, 'create_program', 'true',
                                            customer_tier.refresh_population(name));
    ELSE
    -- The first population breakpoints from the staged backfill, then
    -- everyone's scores, ABC class (as a run gives them: the first run has
    -- none to write) and tier, written into customers once: scoring rows
    -- already there would leave a dead version of each (docs/views.md, "A
    -- lean table").
    PERFORM customer_tier.score_backfill(customer_tier.program_row(name),
                                         customer_tier.refresh_population(name, 'backfill'));
    PERFORM customer_tier.run_as_owner('backfilled', name, NULL);
    END IF;
    -- one notification for the first tiers of the customers already there,
    -- which tier_history records one by one (src/programs/tier_changes.c: not announced)
    EXECUTE format($sql$
        SELECT pg_catalog.pg_notify('customer_tier', pg_catalog.json_build_object(
                   'program', %1$L, 'backfill', pg_catalog.json_build_object(
                       'customers', pg_catalog.count(*),
                       'first_tier_history_id', pg_catalog.min(h.id),
                       'last_tier_history_id', pg_catalog.max(h.id)))::text)
          FROM %2$I.tier_history AS h
         WHERE h.source = 'create_program'
        HAVING pg_catalog.count(*) > 0$sql$,
        name, (customer_tier.program_row(name)).data_schema);
    IF as_of IS NOT NULL THEN
        EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers AS c WHERE c.last_order > $1',
                       (customer_tier.program_row(name)).data_schema)
          INTO later USING as_of;
        IF later > 0 THEN
            RAISE WARNING 'program "%": % customer(s) have orders after its scoring date %', name, later, as_of
                USING DETAIL = 'Every order in the table counts; recency is measured to the scoring date, so these customers look as if they bought in the future.',
                      HINT = 'Pass an as_of after the last order, or move the scoring date on with reclassify(program, as_of => ...).';
        END IF;
    END IF;
    missing_index := customer_tier.customer_index_missing(orders, customer_column);
    IF missing_index IS NOT NULL THEN
        RAISE WARNING 'program "%": no index of % leads with column %', name, orders, customer_column
            USING DETAIL = 'A delete, or an order dated before a customer''s latest, has the program recompute that customer from the orders table; without such an index each recompute reads the whole table.',
                  HINT = missing_index;
    END IF;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name, timestamptz) IS
    'attach a program to an orders table: validate its columns, create its schema, backfill; returns the customers found';

-- The caller's rights on a table a program reads: the whole row (SELECT on
-- the table, not on some columns: the rejects keep whole rows) and, to
-- attach, TRIGGER.  Checked at every use, not only at attach time.
CREATE OR REPLACE FUNCTION customer_tier.check_table_rights(caller regrole, tbl regclass, privileges text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    privilege text;
BEGIN
    FOREACH privilege IN ARRAY string_to_array(privileges, ',') LOOP
        IF NOT has_table_privilege(caller::oid, tbl, privilege) THEN
            RAISE EXCEPTION 'permission denied: % needs % on table %', caller, privilege, tbl
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = CASE WHEN privilege = 'SELECT'
                                    THEN 'A program reads whole rows of the table; SELECT on some of its columns is not enough.'
                                    ELSE 'A program keeps itself current through triggers on the table.' END,
                      HINT = format('The table''s owner grants it: GRANT %s ON %s TO %I.', privilege, tbl, caller);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.check_table_rights(regrole, regclass, text) IS
    'raises insufficient_privilege unless a role has each of the comma-separated privileges on a whole table';

-- Step attach of create_program, run as customer_tier_owner by run_as_owner
-- (never directly): validate everything, record the program with the role
-- that attached it, create its schema and objects.
CREATE OR REPLACE FUNCTION customer_tier.owner_attach(caller regrole, name text, args jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    orders regclass := (args->>'orders')::oid;
    customer_column name := args->>'customer_column';
    amount_column name := args->>'amount_column';
    ordered_at_column name := args->>'ordered_at_column';
    status_column name := args->>'status_column';
    counted_statuses text[] := CASE WHEN jsonb_typeof(args->'counted_statuses') = 'array'
                                    THEN ARRAY(SELECT jsonb_array_elements_text(args->'counted_statuses')) END;
    order_id_column name := args->>'order_id_column';
    as_of timestamptz := (args->>'as_of')::timestamptz;
    citus_kind text;
BEGIN
    IF name IS NULL OR orders IS NULL THEN
        RAISE EXCEPTION 'program name and orders table must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = orders) THEN
        RAISE EXCEPTION 'table with OID % does not exist', orders::oid
            USING ERRCODE = 'undefined_table';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'invalid program name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A program name starts with a lowercase letter and has at most 40 lowercase letters, digits and underscores.',
                  HINT = 'Choose a name such as "retail" or "key_accounts".';
    END IF;
    IF EXISTS (SELECT FROM customer_tier.program AS p WHERE p.name = owner_attach.name) THEN
        RAISE EXCEPTION 'program "%" already exists', name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another name, or drop the existing program with customer_tier.drop_program().';
    END IF;
    IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid = orders) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', orders
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'A program attaches triggers to an ordinary or partitioned table.',
                  HINT = 'Name the table that holds the orders.';
    END IF;
    -- A partition's own triggers do not see the rows routed into it through
    -- the partitioned table: a program on it would silently miss them.
    IF (SELECT c.relispartition FROM pg_class AS c WHERE c.oid = orders) THEN
        RAISE EXCEPTION '% is a partition of %', orders,
                        (SELECT a.relid FROM pg_catalog.pg_partition_ancestors(orders) AS a
                          WHERE a.relid <> orders LIMIT 1)
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'A program on one partition would miss the orders written through the partitioned table.',
                  HINT = format('Attach the program to the partitioned table %s; a view on the program''s segments can pick the customers of one partition.',
                                pg_catalog.pg_partition_root(orders));
    END IF;
    -- A table that Citus distributes by the customer key: the program's
    -- per-customer tables are distributed with it (citus_distribute_program)
    -- and its triggers run on the shards.  A Citus local table: its one
    -- shard is on the coordinator, where the program's tables stay, as for a
    -- plain table.  A reference table: its rows are replicated on every node;
    -- the program's tables stay on the coordinator, and its triggers keep
    -- them from the coordinator's placement (here), which every write
    -- reaches (on the workers' placements they do nothing), so there must be one.
    citus_kind := customer_tier.citus_table_kind(orders);
    IF citus_kind = 'distributed'
       AND customer_tier.citus_distribution_column(orders) IS DISTINCT FROM customer_column THEN
        RAISE EXCEPTION '% is distributed by column %, not by the customer key %', orders,
                        customer_tier.citus_distribution_column(orders), customer_column
            USING ERRCODE = 'invalid_table_definition',
                  DETAIL = 'A program keeps each customer in the shard group of the customer''s orders: every order of a customer must be in one shard.',
                  HINT = format('Distribute the table by the customer: SELECT alter_distributed_table(%L, distribution_column := %L).',
                                orders::text, customer_column);
    ELSIF citus_kind = 'reference' AND customer_tier.citus_placement_here(orders) = orders THEN
        RAISE EXCEPTION 'reference table % has no placement on the coordinator', orders
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A program over a Citus reference table keeps its tables on the coordinator and follows the writes to the coordinator''s copy of the rows.',
                  HINT = 'Add the coordinator to the cluster: SELECT citus_set_coordinator_host(''<its host>'', <its port>); then SELECT replicate_reference_tables();';
    END IF;
    -- before anything is said about its columns
    PERFORM customer_tier.check_table_rights(caller, orders, 'SELECT,TRIGGER');

    prog.name := name;
    prog.orders_table := orders;
    prog.customer_column := customer_column;
    prog.customer_type := customer_tier.column_type(orders, customer_column, 'customer key');
    PERFORM customer_tier.check_column_type(orders, customer_column, 'customer key', prog.customer_type,
        '{integer,bigint,uuid,text,character varying}');
    prog.amount_column := amount_column;
    prog.amount_type := customer_tier.column_type(orders, amount_column, 'amount');
    PERFORM customer_tier.check_column_type(orders, amount_column, 'amount', prog.amount_type,
        '{numeric,integer,bigint,double precision,money}');
    prog.ordered_at_column := ordered_at_column;
    prog.ordered_at_type := customer_tier.column_type(orders, ordered_at_column, 'order time');
    PERFORM customer_tier.check_column_type(orders, ordered_at_column, 'order time', prog.ordered_at_type,
        '{timestamp with time zone,timestamp without time zone,date}');

    IF status_column IS NOT NULL THEN
        PERFORM customer_tier.column_type(orders, status_column, 'order status');
        IF counted_statuses IS NULL OR cardinality(counted_statuses) = 0 THEN
            RAISE EXCEPTION 'counted_statuses must list the statuses that count'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Status column "%s" was named, but no status was said to count.', status_column),
                      HINT = 'Pass for example counted_statuses => ''{paid,shipped}''; cancelled and refunded orders must not be listed.';
        END IF;
        IF array_position(counted_statuses, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'counted_statuses must not contain null'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'List the statuses that count as text values.';
        END IF;
    ELSIF counted_statuses IS NOT NULL THEN
        RAISE EXCEPTION 'counted_statuses needs a status column'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the column that holds the order status with status_column.';
    END IF;
    prog.status_column := status_column;
    prog.counted_statuses := counted_statuses;
    IF order_id_column IS NOT NULL THEN
        PERFORM customer_tier.column_type(orders, order_id_column, 'order id');
    END IF;
    prog.order_id_column := order_id_column;

    prog.data_schema := 'ct_' || name;
    IF EXISTS (SELECT FROM pg_namespace AS n WHERE n.nspname = prog.data_schema) THEN
        RAISE EXCEPTION 'schema "%" already exists', prog.data_schema
            USING ERRCODE = 'duplicate_schema',
                  DETAIL = format('Program "%s" keeps its tables and views in schema "%s".', name, prog.data_schema),
                  HINT = 'Choose another program name, or rename that schema.';
    END IF;

    -- granted by CREATE EXTENSION; a database restored without --create lacks it
    IF NOT has_database_privilege(current_database(), 'CREATE') THEN
        RAISE EXCEPTION 'customer_tier_owner may not create schemas in database %', current_database()
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'A program''s schema belongs to customer_tier_owner, which creates it.',
                  HINT = format('A superuser grants it: GRANT CREATE ON DATABASE %I TO customer_tier_owner.', current_database());
    END IF;
    INSERT INTO customer_tier.program AS p
           (name, orders_table, customer_column, customer_type, amount_column, amount_type,
            ordered_at_column, ordered_at_type, status_column, counted_statuses, order_id_column,
            data_schema, attached_by, scoring_date)
    VALUES (prog.name, prog.orders_table, prog.customer_column, prog.customer_type,
            prog.amount_column, prog.amount_type, prog.ordered_at_column, prog.ordered_at_type,
            prog.status_column, prog.counted_statuses, prog.order_id_column, prog.data_schema, caller,
            as_of);
    EXECUTE format('CREATE SCHEMA %I', prog.data_schema);
    EXECUTE format('COMMENT ON SCHEMA %I IS %L', prog.data_schema,
                   format('customer_tier program "%s": customers, tiers and views over %s', name, orders));
    PERFORM customer_tier.create_program_objects(customer_tier.program_row(name));
    -- Where the caller's backfill goes first, so that each customer is
    -- written into customers once, scored (create_program); owner_backfilled
    -- drops it.  Over distributed orders the backfill goes straight to the
    -- shards, unscored.
    IF citus_kind IS DISTINCT FROM 'distributed' THEN
        EXECUTE format('CREATE UNLOGGED TABLE %1$I.backfill (LIKE %1$I.customers);
                        GRANT SELECT, INSERT ON %1$I.backfill TO %2$s', prog.data_schema, caller);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.owner_attach(regrole, text, jsonb) IS
    'step attach of create_program, run as customer_tier_owner: validate, record the program, create its schema and objects';

-- Detach a program: remove everything create_program made, and nothing else.
-- The caller drops the triggers on the CRM's tables (which needs their
-- ownership); owner_detach drops the program's schema.
CREATE OR REPLACE FUNCTION customer_tier.drop_program(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.citus_allow_triggers((customer_tier.program_row(name)).orders_table);
    PERFORM customer_tier.drop_program_triggers(customer_tier.program_row(name));
    -- the tiers' deferred checks cannot be queued inside the owner step's
    -- security-restricted operation; the admin writes pins and tiers anyway
    DELETE FROM customer_tier.pin AS p WHERE p.program = drop_program.name;
    DELETE FROM customer_tier.tier AS t WHERE t.program = drop_program.name;
    PERFORM customer_tier.run_as_owner('detach', name, NULL);
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program(text) IS
    'detach a program: drop its triggers, tables, views and schema; the orders table is untouched';

-- Only the role that attached a program (or a superuser) may drop it or
-- rewrite its tables: the owner steps check the caller with this.
CREATE OR REPLACE FUNCTION customer_tier.check_attached_by(caller regrole, prog customer_tier.program, action text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.oid = caller::oid)
       AND NOT pg_has_role(caller::oid, prog.attached_by::oid, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied: only % (who attached program "%") may % it', prog.attached_by, prog.name, action
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('Ask that role, or a superuser, to %s the program.', action);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.check_attached_by(regrole, customer_tier.program, text) IS
    'raise 42501 unless the caller is a superuser or has the privileges of the role that attached the program';

-- Step backfilled of create_program, run as customer_tier_owner by
-- run_as_owner once the backfill is scored into customers: drop the table it
-- was staged in.
CREATE OR REPLACE FUNCTION customer_tier.owner_backfilled(caller regrole, name text, args jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(name);
BEGIN
    PERFORM customer_tier.check_attached_by(caller, prog, 'change');
    EXECUTE format('DROP TABLE IF EXISTS %I.backfill', prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.owner_backfilled(regrole, text, jsonb) IS
    'step backfilled of create_program, run as customer_tier_owner: drop the table the backfill was staged in';

-- Step detach of drop_program, run as customer_tier_owner by run_as_owner:
-- only the role that attached the program (or a superuser) may drop it.
CREATE OR REPLACE FUNCTION customer_tier.owner_detach(caller regrole, name text, args jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(name);
BEGIN
    PERFORM customer_tier.check_attached_by(caller, prog, 'drop');
    -- The trigger function is shared, so nothing stops the schema's drop but
    -- this: triggers left on the orders tables would fail every write of the CRM.
    IF EXISTS (SELECT FROM pg_trigger AS t
                WHERE t.tgrelid = ANY (ARRAY(SELECT customer_tier.orders_tables(prog.orders_table)))
                  AND t.tgfoid = 'customer_tier.maintain_orders()'::regprocedure
                  AND t.tgname = ANY (ARRAY(
                      SELECT customer_tier.program_trigger_name(name, op)
                        FROM pg_catalog.unnest('{insert,update,delete,truncate,replica}'::text[]) AS op))) THEN
        RAISE EXCEPTION 'cannot drop program "%" while its triggers are on %', name, prog.orders_table
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'customer_tier.drop_program drops them first; it needs the ownership of the table.';
    END IF;
    -- RESTRICT, not CASCADE: a user's own object that depends on the program's
    -- views must make this fail rather than vanish with it.
    PERFORM customer_tier.drop_program_objects(prog);
    EXECUTE format('DROP SCHEMA %I RESTRICT', prog.data_schema);
    DELETE FROM customer_tier.program AS p WHERE p.name = owner_detach.name;
END
$$;
COMMENT ON FUNCTION customer_tier.owner_detach(regrole, text, jsonb) IS
    'step detach of drop_program, run as customer_tier_owner: drop the program''s objects, schema and catalog row';

REVOKE ALL ON FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_table_rights(regrole, regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.customer_index_missing(regclass, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.owner_attach(regrole, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_attached_by(regrole, customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.owner_backfilled(regrole, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.owner_detach(regrole, text, jsonb) FROM PUBLIC;

-- Change a program's settings; each NULL argument leaves its setting as it is.
-- The table's CHECK constraints are the last line; this says what is wrong.
CREATE OR REPLACE FUNCTION customer_tier.configure_program(
    name            text,
    score_weights   double precision[] DEFAULT NULL,
    downgrade_grace interval DEFAULT NULL,
    reject_mode     text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.program_row(name);
    IF score_weights IS NOT NULL AND NOT (
           cardinality(score_weights) = 3
           AND array_position(score_weights, NULL) IS NULL
           AND 0 <= ALL (score_weights)
           AND 'Infinity' > ALL (score_weights)
           AND score_weights[1] + score_weights[2] + score_weights[3]
               > 0) THEN
        RAISE EXCEPTION 'invalid score weights %', score_weights
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Score weights are three finite, non-negative numbers for R, F and M, not all zero.',
                  HINT = 'For example ''{2,1,1}'' weighs recency twice as much as frequency and monetary value.';
    END IF;
    IF downgrade_grace < '0' THEN
        RAISE EXCEPTION 'downgrade grace must not be negative, not %', downgrade_grace
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''0'' to downgrade at once, or a period such as ''90 days''.';
    END IF;
    IF reject_mode NOT IN ('skip', 'error') THEN
        RAISE EXCEPTION 'invalid reject mode "%"', reject_mode
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use skip (keep unusable order rows in the rejects table) or error (refuse the write).';
    END IF;
    UPDATE customer_tier.program AS p
       SET score_weights = coalesce(configure_program.score_weights, p.score_weights),
           downgrade_grace = coalesce(configure_program.downgrade_grace, p.downgrade_grace),
           reject_mode = coalesce(configure_program.reject_mode, p.reject_mode)
     WHERE p.name = configure_program.name;
END
$$;
COMMENT ON FUNCTION customer_tier.configure_program(text, double precision[], interval, text) IS
    'change a program''s score weights, downgrade grace or reject mode; NULL leaves a setting as it is';
REVOKE ALL ON FUNCTION customer_tier.configure_program(text, double precision[], interval, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.column_type(regclass, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_column_type(regclass, name, text, regtype, regtype[]) FROM PUBLIC;
-- @end

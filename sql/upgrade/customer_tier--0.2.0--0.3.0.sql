-- customer_tier upgrade script: 0.2.0 -> 0.3.0 (ALTER EXTENSION customer_tier UPDATE).
--
-- 0.2.0 is sql/releases/customer_tier--0.2.0.sql, frozen; 0.3.0 is what
-- sql/install/*.sql builds.  test/scripts/upgrade.sh checks that a database
-- updated from every frozen release holds exactly what CREATE EXTENSION builds.
\echo Use "ALTER EXTENSION customer_tier UPDATE" to load this file. \quit
--
-- Changes from 0.2.0 (security, docs/security.md):
--   role   customer_tier_owner (NOLOGIN, no members) owns every program's
--          schema and objects; CREATE on the database; SELECT on the catalog,
--          INSERT/UPDATE/DELETE on the rows attaching and detaching write,
--          EXECUTE on every routine
--   new    part 58_trust.sql: text_of, row_image (reading CRM rows without
--          casts), run_as_owner (C: the steps below as customer_tier_owner)
--   new    owner_attach, owner_detach, owner_attach_feedback,
--          owner_detach_feedback (the steps), check_table_rights,
--          attach_program_triggers, drop_program_triggers (the caller's part),
--   sig    announce_tier_change(program, tier_history id): NOTIFY names no
--          customer; create_program_objects returns void
--   column customer_tier.program.attached_by (the schema's owner before)
--   grants the admin no longer INSERTs, DELETEs or UPDATEs a program's
--          identity, nor writes feedback_source but its window; the reader
--          reads pins without their reason, the writer no contact data
--   body   drop_followup_objects drops no trigger (the caller did);
--          reclassify qualifies format(); every generator reads rows
--          through text_of/row_image; key-free messages (customer_key_text,
--          log_contact, rescore_program); rows checks (keys over 1000 bytes,
--          dates after 294276-12-31, amounts beyond 1e100); feedback
--          triggers renamed ct_<program>_feedback_<op>
--
-- Changes from 0.2.0 (live maintenance, docs/programs.md "Live maintenance"):
--   new    maintain_orders (C): one trigger function for every program,
--          collecting each statement's rows and applying them at commit in
--          key order; apply_pending; order_stats_state_holds; the shared
--          triggers on the orders table, its partitions and for replication
--          (put_program_triggers, remove_program_triggers, orders_tables);
--          event triggers on partition DDL (partition_ddl); create_program
--          refuses a partition
--          program_delta_sql, program_scratch_sql;
--          table drift_repair (drift is repaired, not
--          an error)
--   new    customer_index_missing: create_program warns when no index of
--          the orders table leads with the customer column
--   new    config_changed (C) and its statement triggers on program, tier,
--          churn_settings, program_model and pin: the trigger path caches
--          each program's configuration per backend
--   new    program_backfill_sql (the unscored backfill of create_program)
--   gone   program_apply_sql, program_apply_block_sql, program_maintain_function_sql and each
--          program's generated ct_<name>.maintain_customers()
--   new    scored_row (C): the runs score each customer from its stored row
--          through the trigger path's C scoring and cached configuration
--          (rescore_where); program_scored_columns is C (the one list)
--   gone   score_program_customer, program_scoring_sql
--   new    record_tier_change (C): one row trigger function records every
--          program's changes of tier (put_tier_trigger)
--   gone   each program's generated ct_<name>.record_tier_change()
--   new    maintain_feedback (C): one trigger function for every feedback
--          table, settling the customers it touched at commit with those of
--          the orders (feedback_collect_sql, feedback_settle_sql,
--          put_feedback_triggers); refresh_satisfaction locks answers first
--   gone   feedback_apply_block_sql and each program's generated
--          ct_<name>.maintain_feedback()
--   per program: ownership to customer_tier_owner, SELECT on the orders
--          table (and USAGE on its schema) for kpis, KPI functions
--          regenerated, the shared triggers put in place of the generated
--          ones, rows now rejected recorded and the program
--          rebuilt (timestamps are read as UTC now)

-- Changes from 0.2.0 (quiet backfill, docs/programs.md "Tier history and notifications"):
--   body   create_program sends one notification for the first tiers of the
--          customers already in the orders table, which are not announced
--          one by one (record_tier_change)

-- Changes from 0.2.0 (a first run with nothing to write, docs/programs.md):
--   new    program_abc_sql: the ABC classes of the whole population as an
--          expression, used by reclassify and by create_program's first
--          scoring (the backfill assigns ABC classes)
--   body   a customer who keeps its tier keeps the reason it got it (C)

-- Changes from 0.2.0 (reject SQLSTATEs, docs/robustness.md):
--   sig    program_row_checks gives each reason's SQLSTATE too
--   new    program_reject_sqlstate_sql, feedback_reject_sqlstate_sql:
--          reject_mode = error fails a write with the reason's SQLSTATE
--          (22004 null, 22001 key too long, 22008 time, 22023 amount or
--          kind, 22003 out of range), not 22004 for every reason
--   body   attach_feedback

-- Changes from 0.2.0 (fit messages, docs/churn.md):
--   body   fit_program_model keeps the fit's detail in its note and NOTICE,
--          and its hint in the NOTICE

-- Changes from 0.2.0 (jobs survive a restore, test/scripts/dump_restore.sh):
--   dump   run_id_seq (and the new drift_repair_id_seq) registered for
--          pg_dump with their tables

-- Changes from 0.2.0 (bounded states, docs/order_stats.md "Bounded states"):
--   new    order_stats_bounded (C), program_state_horizon, program_recompute_sql;
--          order_stats_of (C): the state of one order, with which the
--          collect of a statement of a row or two sums rows (program_delta_sql
--          by_row)
--   sig    program_scratch_sql(prog, condition, horizon): bounded states
--   body   set_churn_rules rebuilds a program whose frequency window changed;
--          the backfill and rebuild_program store bounded
--          states; every program is rebuilt below, so its states become bounded
--   table  churn_settings.frequency_window_days is a whole number of days
--          (a fractional window is rounded up)

-- ==== roles ====
DO $roles$
DECLARE
    r pg_catalog.pg_roles;
    role_name text;
    other text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['customer_tier_reader', 'customer_tier_writer', 'customer_tier_admin',
                                     'customer_tier_owner'] LOOP
        SELECT * INTO r FROM pg_catalog.pg_roles AS a WHERE a.rolname OPERATOR(pg_catalog.=) role_name;
        IF NOT FOUND THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
                                      ' NOREPLICATION NOBYPASSRLS', role_name);
            EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', role_name,
                CASE role_name
                    WHEN 'customer_tier_reader' THEN 'customer_tier: read programs, tiers, segments and tier history (BI)'
                    WHEN 'customer_tier_writer' THEN 'customer_tier: a CRM application whose order writes maintain programs'
                    WHEN 'customer_tier_owner' THEN 'customer_tier: owns the programs'' schemas; never grant it to any role'
                    ELSE 'customer_tier: manage programs, tier rules, pins and runs' END);
            CONTINUE;
        END IF;
        IF r.rolcanlogin OR r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication
           OR r.rolbypassrls THEN
            RAISE EXCEPTION 'role "%" already exists and is not a plain group role', role_name
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('customer_tier grants privileges to role "%s"; the existing role has%s%s%s%s%s%s.',
                          role_name,
                          CASE WHEN r.rolcanlogin THEN ' LOGIN' ELSE '' END,
                          CASE WHEN r.rolsuper THEN ' SUPERUSER' ELSE '' END,
                          CASE WHEN r.rolcreatedb THEN ' CREATEDB' ELSE '' END,
                          CASE WHEN r.rolcreaterole THEN ' CREATEROLE' ELSE '' END,
                          CASE WHEN r.rolreplication THEN ' REPLICATION' ELSE '' END,
                          CASE WHEN r.rolbypassrls THEN ' BYPASSRLS' ELSE '' END),
                      HINT = pg_catalog.format('Make it a plain group role (ALTER ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS), or drop it, then create the extension again.',
                          role_name);
        END IF;
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(g.rolname), ', ' ORDER BY g.rolname) INTO other
          FROM pg_catalog.pg_auth_members AS m
          JOIN pg_catalog.pg_roles AS g ON g.oid OPERATOR(pg_catalog.=) m.roleid
         WHERE m.member OPERATOR(pg_catalog.=) r.oid
           AND NOT (role_name OPERATOR(pg_catalog.=) 'customer_tier_admin'
                    AND g.rolname OPERATOR(pg_catalog.=) 'customer_tier_reader');
        IF other IS NOT NULL THEN
            RAISE EXCEPTION 'role "%" already exists and is a member of other roles', role_name
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('Role "%s" is a member of %s; every login granted "%s" would get their privileges.',
                                                 role_name, other, role_name),
                      HINT = pg_catalog.format('Revoke those memberships (REVOKE %s FROM %I), or drop the role, then create the extension again.',
                                               other, role_name);
        END IF;
        -- a member of the owner could put triggers on every program's tables
        IF role_name OPERATOR(pg_catalog.=) 'customer_tier_owner'
           AND EXISTS (SELECT FROM pg_catalog.pg_auth_members AS m WHERE m.roleid OPERATOR(pg_catalog.=) r.oid) THEN
            RAISE EXCEPTION 'role "customer_tier_owner" already exists and has members'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'customer_tier_owner owns every program''s tables; a member of it could put triggers on them that superusers'' calls would run.',
                      HINT = 'Revoke it from every role, or drop it, then create the extension again.';
        END IF;
    END LOOP;
    -- The program schemas are created as customer_tier_owner.
    EXECUTE pg_catalog.format('GRANT CREATE ON DATABASE %I TO customer_tier_owner', pg_catalog.current_database());
    -- The admin may do what the reader may.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members AS m
                    WHERE m.roleid OPERATOR(pg_catalog.=) 'customer_tier_reader'::regrole
                      AND m.member OPERATOR(pg_catalog.=) 'customer_tier_admin'::regrole) THEN
        GRANT customer_tier_reader TO customer_tier_admin;
    END IF;
END
$roles$;

-- ==== reading rows without casts, and acting as customer_tier_owner (58) ====
-- customer_tier.text_of(anyelement): sql/install/58_trust.sql
CREATE FUNCTION customer_tier.text_of(value anyelement)
RETURNS text
AS 'MODULE_PATHNAME', 'text_of'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.text_of(anyelement) IS
    'a value as text through its type''s output function (no cast a table owner could define runs)';
REVOKE ALL ON FUNCTION customer_tier.text_of(anyelement) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.text_of(anyelement) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.text_of(anyelement) TO customer_tier_writer;  -- 90_roles.sql name list

-- customer_tier.row_image(record): sql/install/58_trust.sql
CREATE FUNCTION customer_tier.row_image(row_value record)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'row_image'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.row_image(record) IS
    'a row as a JSON object of column names to their text, built without casts';
REVOKE ALL ON FUNCTION customer_tier.row_image(record) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.row_image(record) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.run_as_owner(text, text, jsonb): sql/install/58_trust.sql
CREATE FUNCTION customer_tier.run_as_owner(step text, program text, args jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'run_as_owner'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION customer_tier.run_as_owner(text, text, jsonb) IS
    'run one step of creating or dropping a program''s objects as customer_tier_owner, in a security-restricted operation';
REVOKE ALL ON FUNCTION customer_tier.run_as_owner(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.run_as_owner(text, text, jsonb) TO customer_tier_admin;  -- 90_roles.sql name list



-- ==== the catalog: who attached each program ====
ALTER TABLE customer_tier.program ADD COLUMN attached_by regrole;
UPDATE customer_tier.program AS p
   SET attached_by = (SELECT n.nspowner FROM pg_catalog.pg_namespace AS n
                       WHERE n.nspname OPERATOR(pg_catalog.=) p.data_schema);
ALTER TABLE customer_tier.program ALTER COLUMN attached_by SET NOT NULL;
COMMENT ON COLUMN customer_tier.program.attached_by IS 'the role that attached the program (create_program): only it, or a superuser, may drop it';

-- ==== routines: dropped, new, changed ====
DROP FUNCTION customer_tier.announce_tier_change(text, jsonb, text, text, text, text);
DROP FUNCTION customer_tier.create_program_objects(customer_tier.program);
-- customer_tier.announce_tier_change(text, bigint): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.announce_tier_change(program text, change bigint)
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE
BEGIN ATOMIC
    SELECT pg_catalog.pg_notify('customer_tier', pg_catalog.json_build_object(
        'program', program, 'tier_history_id', change)::text);
END;
COMMENT ON FUNCTION customer_tier.announce_tier_change(text, bigint) IS
    'send the NOTIFY customer_tier payload of a change of tier: the program and the change''s tier_history id';
REVOKE ALL ON FUNCTION customer_tier.announce_tier_change(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.announce_tier_change(text, bigint) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_program_objects(customer_tier.program): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.create_program_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
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
            follow_up_due_at timestamptz
        )$sql$, s, prog.customer_type);
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
        COMMENT ON COLUMN %1$I.customers.follow_up_due_at IS 'when the next contact is due (follow_ups_due): the tier''s cadence after the last contact, or at once after a rise not followed by one'
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
    -- first tier is recorded by the statement that inserts it (src/live_apply.c),
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
    PERFORM customer_tier.create_summary_objects(prog);
    PERFORM customer_tier.create_feed_objects(prog);
    PERFORM customer_tier.put_change_triggers(prog);
    PERFORM customer_tier.create_program_views(prog);
    PERFORM customer_tier.create_followup_objects(prog);
    PERFORM customer_tier.grant_program_access(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_objects(customer_tier.program) IS
    'create a program''s tables, trigger function and views (run as customer_tier_owner by owner_attach)';
REVOKE ALL ON FUNCTION customer_tier.create_program_objects(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_program_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.check_table_rights(regrole, regclass, text): sql/install/60_programs.sql
CREATE FUNCTION customer_tier.check_table_rights(caller regrole, tbl regclass, privileges text)
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
                      DETAIL = CASE WHEN privilege OPERATOR(pg_catalog.=) 'SELECT'
                                    THEN 'A program reads whole rows of the table; SELECT on some of its columns is not enough.'
                                    ELSE 'A program keeps itself current through triggers on the table.' END,
                      HINT = format('The table''s owner grants it: GRANT %s ON %s TO %I.', privilege, tbl, caller);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.check_table_rights(regrole, regclass, text) IS
    'raises insufficient_privilege unless a role has each of the comma-separated privileges on a whole table';
REVOKE ALL ON FUNCTION customer_tier.check_table_rights(regrole, regclass, text) FROM PUBLIC;

-- customer_tier.owner_attach(regrole, text, jsonb): sql/install/60_programs.sql
CREATE FUNCTION customer_tier.owner_attach(caller regrole, name text, args jsonb)
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
    counted_statuses text[] := CASE WHEN jsonb_typeof(args->'counted_statuses') OPERATOR(pg_catalog.=) 'array'
                                    THEN ARRAY(SELECT jsonb_array_elements_text(args->'counted_statuses')) END;
    order_id_column name := args->>'order_id_column';
    as_of timestamptz := (args->>'as_of')::timestamptz;
BEGIN
    IF name IS NULL OR orders IS NULL THEN
        RAISE EXCEPTION 'program name and orders table must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) orders) THEN
        RAISE EXCEPTION 'table with OID % does not exist', orders::oid
            USING ERRCODE = 'undefined_table';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'invalid program name "%"', name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A program name starts with a lowercase letter and has at most 40 lowercase letters, digits and underscores.',
                  HINT = 'Choose a name such as "retail" or "key_accounts".';
    END IF;
    IF EXISTS (SELECT FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) owner_attach.name) THEN
        RAISE EXCEPTION 'program "%" already exists', name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Choose another name, or drop the existing program with customer_tier.drop_program().';
    END IF;
    IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) orders) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', orders
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'A program attaches triggers to an ordinary or partitioned table.',
                  HINT = 'Name the table that holds the orders.';
    END IF;
    -- A partition's own triggers do not see the rows routed into it through
    -- the partitioned table: a program on it would silently miss them.
    IF (SELECT c.relispartition FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) orders) THEN
        RAISE EXCEPTION '% is a partition of %', orders,
                        (SELECT a.relid FROM pg_catalog.pg_partition_ancestors(orders) AS a
                          WHERE a.relid OPERATOR(pg_catalog.<>) orders LIMIT 1)
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'A program on one partition would miss the orders written through the partitioned table.',
                  HINT = format('Attach the program to the partitioned table %s; a view on the program''s segments can pick the customers of one partition.',
                                pg_catalog.pg_partition_root(orders));
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
        IF counted_statuses IS NULL OR cardinality(counted_statuses) OPERATOR(pg_catalog.=) 0 THEN
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
    IF EXISTS (SELECT FROM pg_namespace AS n WHERE n.nspname OPERATOR(pg_catalog.=) prog.data_schema) THEN
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
END
$$;
COMMENT ON FUNCTION customer_tier.owner_attach(regrole, text, jsonb) IS
    'step attach of create_program, run as customer_tier_owner: validate, record the program, create its schema and objects';
REVOKE ALL ON FUNCTION customer_tier.owner_attach(regrole, text, jsonb) FROM PUBLIC;

-- customer_tier.owner_detach(regrole, text, jsonb): sql/install/60_programs.sql
CREATE FUNCTION customer_tier.owner_detach(caller regrole, name text, args jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(name);
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.oid OPERATOR(pg_catalog.=) caller::oid)
       AND NOT pg_has_role(caller::oid, prog.attached_by::oid, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied: only % (who attached program "%") may drop it', prog.attached_by, name
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Ask that role, or a superuser, to drop the program.';
    END IF;
    -- The trigger function is shared, so nothing stops the schema's drop but
    -- this: triggers left on the orders tables would fail every write of the CRM.
    IF EXISTS (SELECT FROM pg_trigger AS t
                WHERE t.tgrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT customer_tier.orders_tables(prog.orders_table)))
                  AND t.tgfoid OPERATOR(pg_catalog.=) 'customer_tier.maintain_orders()'::regprocedure
                  AND t.tgname OPERATOR(pg_catalog.=) ANY (ARRAY(
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
    DELETE FROM customer_tier.program AS p WHERE p.name OPERATOR(pg_catalog.=) owner_detach.name;
END
$$;
COMMENT ON FUNCTION customer_tier.owner_detach(regrole, text, jsonb) IS
    'step detach of drop_program, run as customer_tier_owner: drop the program''s objects, schema and catalog row';
REVOKE ALL ON FUNCTION customer_tier.owner_detach(regrole, text, jsonb) FROM PUBLIC;

-- customer_tier.record_tier_change(): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.record_tier_change()
RETURNS trigger
AS 'MODULE_PATHNAME', 'record_tier_change'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.record_tier_change() IS
    'the row trigger function of every program''s customers table: records a change of tier in tier_history and announces it on channel customer_tier; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.record_tier_change() FROM PUBLIC;

-- customer_tier.put_tier_trigger(customer_tier.program): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.put_tier_trigger(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER tier_changed AFTER UPDATE OF tier ON %1$I.customers
            FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier)
            EXECUTE FUNCTION customer_tier.record_tier_change(%2$L);
        ALTER TABLE %1$I.customers ENABLE ALWAYS TRIGGER tier_changed
    $sql$, prog.data_schema, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.put_tier_trigger(customer_tier.program) IS
    'put the trigger tier_changed, which records changes of tier, on a program''s customers table';
REVOKE ALL ON FUNCTION customer_tier.put_tier_trigger(customer_tier.program) FROM PUBLIC;

-- customer_tier.attach_program_triggers(customer_tier.program): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.attach_program_triggers(prog customer_tier.program)
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
BEGIN
    -- No write may slip between the backfill and the triggers.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', prog.orders_table);
    FOR member IN SELECT customer_tier.orders_tables(prog.orders_table) LOOP
        PERFORM customer_tier.put_program_triggers(prog, member);
    END LOOP;

    EXECUTE customer_tier.program_backfill_sql(prog) INTO rejected;
    IF rejected OPERATOR(pg_catalog.>) 0 THEN
        EXECUTE customer_tier.program_rejects_sql(prog, prog.orders_table::text, '''BACKFILL''');
    END IF;
    -- kpis() reads the orders table as customer_tier_owner (for readers, who
    -- may not), as does the repair of drifted customers (put_program_triggers
    -- granted SELECT when the caller could); PostgreSQL only warns when a
    -- role without the grant option tries.
    SELECT c.relnamespace::regnamespace INTO orders_schema FROM pg_class AS c
     WHERE c.oid OPERATOR(pg_catalog.=) prog.orders_table;
    IF has_schema_privilege(orders_schema::oid, 'USAGE WITH GRANT OPTION') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %s TO customer_tier_owner', orders_schema);
    END IF;
    IF NOT has_table_privilege('customer_tier_owner', prog.orders_table, 'SELECT')
       OR NOT has_schema_privilege('customer_tier_owner', orders_schema::oid, 'USAGE') THEN
        RAISE NOTICE 'program "%": kpis() and the repair of drift cannot read % until customer_tier_owner may', prog.name, prog.orders_table
            USING HINT = format('The owners of the table and its schema grant it: GRANT SELECT ON %s TO customer_tier_owner; GRANT USAGE ON SCHEMA %s TO customer_tier_owner.',
                                prog.orders_table, orders_schema);
    END IF;
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', s) INTO customers;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.attach_program_triggers(customer_tier.program) IS
    'put a program''s triggers on its orders table and partitions and backfill its customers from the rows there';
REVOKE ALL ON FUNCTION customer_tier.attach_program_triggers(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.attach_program_triggers(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.drop_program_triggers(customer_tier.program): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.drop_program_triggers(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    member regclass;
    src customer_tier.feedback_source;
    orders_schema regnamespace;
BEGIN
    SELECT * INTO src FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name;
    IF FOUND THEN
        PERFORM customer_tier.drop_feedback_triggers(prog, src);
    END IF;
    FOR member IN SELECT customer_tier.orders_tables(prog.orders_table) LOOP
        PERFORM customer_tier.remove_program_triggers(prog, member);
    END LOOP;
    -- the schema USAGE attach_program_triggers granted, unless another
    -- program reads a table of the schema too
    SELECT c.relnamespace::regnamespace INTO orders_schema FROM pg_class AS c
     WHERE c.oid OPERATOR(pg_catalog.=) prog.orders_table;
    IF NOT EXISTS (SELECT FROM customer_tier.program AS p JOIN pg_class AS c ON c.oid OPERATOR(pg_catalog.=) p.orders_table
                    WHERE c.relnamespace OPERATOR(pg_catalog.=) orders_schema::oid
                      AND p.name OPERATOR(pg_catalog.<>) prog.name)
       AND has_schema_privilege(orders_schema::oid, 'USAGE WITH GRANT OPTION') THEN
        EXECUTE format('REVOKE USAGE ON SCHEMA %s FROM customer_tier_owner', orders_schema);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program_triggers(customer_tier.program) IS
    'drop the triggers a program put on its orders table and attached feedback table';
REVOKE ALL ON FUNCTION customer_tier.drop_program_triggers(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.drop_program_triggers(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

DROP FUNCTION customer_tier.feedback_apply_block_sql(customer_tier.program, customer_tier.feedback_source, text, text);

-- customer_tier.feedback_collect_sql(customer_tier.program, customer_tier.feedback_source, text, text): sql/install/80_feedback.sql
CREATE FUNCTION customer_tier.feedback_collect_sql(prog customer_tier.program, src customer_tier.feedback_source,
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
REVOKE ALL ON FUNCTION customer_tier.feedback_collect_sql(customer_tier.program, customer_tier.feedback_source, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.feedback_collect_sql(customer_tier.program, customer_tier.feedback_source, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.feedback_settle_sql(customer_tier.program): sql/install/80_feedback.sql
CREATE FUNCTION customer_tier.feedback_settle_sql(prog customer_tier.program,
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
REVOKE ALL ON FUNCTION customer_tier.feedback_settle_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.feedback_settle_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.maintain_feedback(): sql/install/80_feedback.sql
CREATE FUNCTION customer_tier.maintain_feedback()
RETURNS trigger
AS 'MODULE_PATHNAME', 'maintain_feedback'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.maintain_feedback() IS
    'the trigger function of every program on its feedback table; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.maintain_feedback() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.maintain_feedback() TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.put_feedback_triggers(customer_tier.program, customer_tier.feedback_source): sql/install/80_feedback.sql
CREATE FUNCTION customer_tier.put_feedback_triggers(prog customer_tier.program, src customer_tier.feedback_source)
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
END
$$;
COMMENT ON FUNCTION customer_tier.put_feedback_triggers(customer_tier.program, customer_tier.feedback_source) IS
    'put a program''s triggers on its feedback table';
REVOKE ALL ON FUNCTION customer_tier.put_feedback_triggers(customer_tier.program, customer_tier.feedback_source) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.put_feedback_triggers(customer_tier.program, customer_tier.feedback_source) TO customer_tier_admin;  -- 90_roles.sql name list


-- customer_tier.owner_attach_feedback(regrole, text, jsonb): sql/install/80_feedback.sql
CREATE FUNCTION customer_tier.owner_attach_feedback(caller regrole, program text, args jsonb)
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
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) feedback_table) THEN
        RAISE EXCEPTION 'table with OID % does not exist', feedback_table::oid
            USING ERRCODE = 'undefined_table';
    END IF;
    prog := customer_tier.program_row(program);
    IF EXISTS (SELECT FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name) THEN
        RAISE EXCEPTION 'program "%" already has a feedback table attached', prog.name
            USING ERRCODE = 'duplicate_object',
                  DETAIL = format('Its feedback table is %s.',
                                  (SELECT f.feedback_table FROM customer_tier.feedback_source AS f
                                    WHERE f.program OPERATOR(pg_catalog.=) prog.name)),
                  HINT = 'Detach it first with customer_tier.detach_feedback().';
    END IF;
    IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) feedback_table) NOT IN ('r', 'p') THEN
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
    IF typ OPERATOR(pg_catalog.<>) prog.customer_type THEN
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
    IF satisfaction_window IS NULL OR satisfaction_window OPERATOR(pg_catalog.<=) '0' THEN
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


-- customer_tier.owner_detach_feedback(regrole, text, jsonb): sql/install/80_feedback.sql
CREATE FUNCTION customer_tier.owner_detach_feedback(caller regrole, program text, args jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(program);
BEGIN
    PERFORM customer_tier.feedback_source_row(prog);
    DELETE FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name;
END
$$;
COMMENT ON FUNCTION customer_tier.owner_detach_feedback(regrole, text, jsonb) IS
    'step detach_feedback of detach_feedback, run as customer_tier_owner: drop the feedback_source row';
REVOKE ALL ON FUNCTION customer_tier.owner_detach_feedback(regrole, text, jsonb) FROM PUBLIC;



-- customer_tier.customer_index_missing(regclass, name): sql/install/60_programs.sql
CREATE OR REPLACE FUNCTION customer_tier.customer_index_missing(orders regclass, customer_column name)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN NOT EXISTS (
               SELECT FROM pg_catalog.pg_index AS i
                 JOIN pg_catalog.pg_attribute AS a
                   ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                  AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]
                WHERE i.indrelid OPERATOR(pg_catalog.=) orders
                  AND i.indisvalid AND i.indpred IS NULL
                  AND a.attname OPERATOR(pg_catalog.=) customer_column)
            THEN pg_catalog.format('CREATE INDEX %sON %s (%I);',
                                   CASE WHEN (SELECT c.relkind FROM pg_catalog.pg_class AS c
                                               WHERE c.oid OPERATOR(pg_catalog.=) orders)
                                             OPERATOR(pg_catalog.=) 'p' THEN ''
                                        ELSE 'CONCURRENTLY ' END,
                                   orders, customer_column) END;
COMMENT ON FUNCTION customer_tier.customer_index_missing(regclass, name) IS
    'NULL when an index of the orders table leads with the customer column; else the CREATE INDEX statement that makes one';
REVOKE ALL ON FUNCTION customer_tier.customer_index_missing(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.customer_index_missing(regclass, name) TO customer_tier_admin;  -- 90_roles.sql name list

-- create_program takes as_of (issue 19: historical data)
DROP FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name);
-- customer_tier.create_program(text, regclass, name, name, name, name, text[], name, timestamp with time zone): sql/install/60_programs.sql
CREATE FUNCTION customer_tier.create_program(
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
    customers := customer_tier.attach_program_triggers(customer_tier.program_row(name));
    -- The first population breakpoints, then everyone's scores, ABC class
    -- (as a run gives them: the first run has none to write) and tier.
    PERFORM customer_tier.refresh_breakpoints(name);
    PERFORM customer_tier.rescore_where(name, 'create_program', 'true', customer_tier.program_abc_sql(name));
    -- one notification for the first tiers of the customers already there,
    -- which tier_history records one by one (src/tier_changes.c: not announced)
    EXECUTE format($sql$
        SELECT pg_catalog.pg_notify('customer_tier', pg_catalog.json_build_object(
                   'program', %1$L, 'backfill', pg_catalog.json_build_object(
                       'customers', pg_catalog.count(*),
                       'first_tier_history_id', pg_catalog.min(h.id),
                       'last_tier_history_id', pg_catalog.max(h.id)))::text)
          FROM %2$I.tier_history AS h
         WHERE h.source OPERATOR(pg_catalog.=) 'create_program'
        HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0$sql$,
        name, (customer_tier.program_row(name)).data_schema);
    IF as_of IS NOT NULL THEN
        EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers AS c WHERE c.last_order OPERATOR(pg_catalog.>) $1',
                       (customer_tier.program_row(name)).data_schema)
          INTO later USING as_of;
        IF later OPERATOR(pg_catalog.>) 0 THEN
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
REVOKE ALL ON FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name, timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.drop_program(text): sql/install/60_programs.sql
CREATE OR REPLACE FUNCTION customer_tier.drop_program(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.drop_program_triggers(customer_tier.program_row(name));
    -- the tiers' deferred checks cannot be queued inside the owner step's
    -- security-restricted operation; the admin writes pins and tiers anyway
    DELETE FROM customer_tier.pin AS p WHERE p.program OPERATOR(pg_catalog.=) drop_program.name;
    DELETE FROM customer_tier.tier AS t WHERE t.program OPERATOR(pg_catalog.=) drop_program.name;
    PERFORM customer_tier.run_as_owner('detach', name, NULL);
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program(text) IS
    'detach a program: drop its triggers, tables, views and schema; the orders table is untouched';
REVOKE ALL ON FUNCTION customer_tier.drop_program(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.drop_program(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- its OUT parameters gained sqlstates: dropped and created again
DROP FUNCTION customer_tier.program_row_checks(customer_tier.program, text);
-- customer_tier.program_row_checks(customer_tier.program, text): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.program_row_checks(prog customer_tier.program, alias text,
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
        conditions := conditions || ARRAY[
            format('%s OPERATOR(pg_catalog.<>) ALL (''{NaN,Infinity,-Infinity}''::%s[])', a, prog.amount_type),
            format('pg_catalog.abs(%s) OPERATOR(pg_catalog.<=) ''1e100''::%s', a, prog.amount_type)];
        reasons := reasons || ARRAY['amount is not finite', 'amount out of range'];
        -- invalid_parameter_value, as order_stats; numeric_value_out_of_range
        sqlstates := sqlstates || ARRAY['22023', '22003'];
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) IS
    'the conditions an order row must meet to be usable by a program, with the reason and SQLSTATE of each, in order';
REVOKE ALL ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_row_checks(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_reject_sqlstate_sql(customer_tier.program, text): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.program_reject_sqlstate_sql(prog customer_tier.program, reason text)
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
REVOKE ALL ON FUNCTION customer_tier.program_reject_sqlstate_sql(customer_tier.program, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_reject_sqlstate_sql(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_row_counts_sql(customer_tier.program, text): sql/install/62_program_objects.sql
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
REVOKE ALL ON FUNCTION customer_tier.program_row_counts_sql(customer_tier.program, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_row_counts_sql(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_rejects_sql(customer_tier.program, text, text): sql/install/62_program_objects.sql
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
REVOKE ALL ON FUNCTION customer_tier.program_rejects_sql(customer_tier.program, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_rejects_sql(customer_tier.program, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

DROP FUNCTION customer_tier.program_apply_sql(customer_tier.program, text, text, text);
DROP FUNCTION customer_tier.program_apply_block_sql(customer_tier.program, text, text);
DROP FUNCTION customer_tier.program_maintain_function_sql(customer_tier.program);
-- customer_tier.program_delta_sql(customer_tier.program, text, text, boolean): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.program_delta_sql(prog customer_tier.program, added text, removed text,
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
    partial text := CASE WHEN by_row
        THEN $sql$CASE WHEN r.ok AND %s AND r.amount OPERATOR(pg_catalog.%s) '0'
                        THEN customer_tier.order_stats_of(r.ordered_at, r.amount) END$sql$
        ELSE $sql$customer_tier.order_stats_partial(r.ordered_at, r.amount)
                   FILTER (WHERE r.ok AND %s AND r.amount OPERATOR(pg_catalog.%s) '0')$sql$ END;
    no_delta text := 'NULL::customer_tier.order_stats_state';
    sides text[] := '{}';
BEGIN
    IF added IS NOT NULL THEN
        sides := sides || format(one_side, prog.customer_column, prog.ordered_at_column,
                                 prog.amount_column, 'true',
                                 customer_tier.program_row_problem_sql(prog, 'o'), counted, added);
    END IF;
    IF removed IS NOT NULL THEN
        -- a removed row that could not be used was never counted: no problem to report
        sides := sides || format(one_side, prog.customer_column, prog.ordered_at_column,
                                 prog.amount_column, 'false',
                                 customer_tier.program_row_problem_sql(prog, 'o'), counted, removed);
    END IF;
    RETURN format($sql$
        SELECT r.customer,
               %2$s AS add_purchases,
               %3$s AS remove_purchases,
               %4$s AS add_refunds,
               %5$s AS remove_refunds,
               %6$s AS problems
          FROM (SELECT u.*, u.problem IS NULL AS usable, u.problem IS NULL AND u.counted AS ok
                  FROM (%1$s) AS u%8$s) AS r
         %7$s$sql$,
        array_to_string(sides, ' UNION ALL'),
        CASE WHEN added IS NULL THEN no_delta ELSE format(partial, 'r.added', '>=') END,
        CASE WHEN removed IS NULL THEN no_delta ELSE format(partial, 'NOT r.added', '>=') END,
        CASE WHEN added IS NULL THEN no_delta ELSE format(partial, 'r.added', '<') END,
        CASE WHEN removed IS NULL THEN no_delta ELSE format(partial, 'NOT r.added', '<') END,
        CASE WHEN by_row THEN '(r.added AND NOT r.usable)::integer::bigint'
             ELSE 'pg_catalog.count(*) FILTER (WHERE r.added AND NOT r.usable)' END,
        CASE WHEN by_row THEN '' ELSE 'GROUP BY r.customer' END,
        -- row by row, one scan node costs less than testing each row's problem once
        CASE WHEN by_row THEN '' ELSE ' OFFSET 0' END);
END
$$;
COMMENT ON FUNCTION customer_tier.program_delta_sql(customer_tier.program, text, text, boolean) IS
    'SQL text of the per-customer deltas (states added and removed, unusable rows) of added and removed order rows; by_row, one per row';
REVOKE ALL ON FUNCTION customer_tier.program_delta_sql(customer_tier.program, text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_delta_sql(customer_tier.program, text, text, boolean) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_backfill_sql(customer_tier.program): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.program_backfill_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
    WITH delta AS (%2$s
    ), stored AS (
        INSERT INTO %1$I.customers
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
        prog.data_schema, customer_tier.program_delta_sql(prog, prog.orders_table::text, NULL), prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.program_backfill_sql(customer_tier.program) IS
    'SQL text of the unscored backfill of a new program''s customers from its orders table; returns the unusable rows';
REVOKE ALL ON FUNCTION customer_tier.program_backfill_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_backfill_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.order_stats_state_holds(customer_tier.order_stats_state, customer_tier.order_stats_state): sql/install/61_order_stats_maintain.sql
CREATE FUNCTION customer_tier.order_stats_state_holds(customer_tier.order_stats_state,
                                                      customer_tier.order_stats_state)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'order_stats_state_holds'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_state_holds(customer_tier.order_stats_state,
                                                          customer_tier.order_stats_state) IS
    'whether the first state holds every order of the second (NULL holds nothing; anything holds NULL)';

-- customer_tier.orders_tables(regclass): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.orders_tables(orders_table regclass)
RETURNS SETOF regclass
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT orders_table UNION SELECT t.relid FROM pg_catalog.pg_partition_tree(orders_table) AS t;
END;
COMMENT ON FUNCTION customer_tier.orders_tables(regclass) IS
    'an orders table and every table of its partition tree';
REVOKE ALL ON FUNCTION customer_tier.orders_tables(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.orders_tables(regclass) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.maintain_orders(): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.maintain_orders()
RETURNS trigger
AS 'MODULE_PATHNAME', 'maintain_orders'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.maintain_orders() IS
    'the trigger function of every program on its orders table and partitions; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.maintain_orders() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.maintain_orders() TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.apply_pending(): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.apply_pending()
RETURNS void
AS 'MODULE_PATHNAME', 'apply_pending'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION customer_tier.apply_pending() IS
    'apply the changes this transaction made to orders tables to their programs now, rather than at commit';
REVOKE ALL ON FUNCTION customer_tier.apply_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.apply_pending() TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.apply_pending() TO customer_tier_writer;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.apply_pending() TO customer_tier_reader;  -- 90_roles.sql name list

-- customer_tier.put_program_triggers(customer_tier.program, regclass): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.put_program_triggers(prog customer_tier.program, tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind "char" := (SELECT c.relkind FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) tbl);
    -- only the table's owner may say when a trigger fires (ENABLE REPLICA / ALWAYS)
    owner boolean := pg_catalog.pg_has_role((SELECT c.relowner FROM pg_class AS c
                                             WHERE c.oid OPERATOR(pg_catalog.=) tbl), 'USAGE');
    n text := prog.name;
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER %1$I AFTER INSERT ON %4$s REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%5$L);
        CREATE TRIGGER %2$I AFTER UPDATE ON %4$s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%5$L);
        CREATE TRIGGER %3$I AFTER DELETE ON %4$s REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%5$L)$sql$,
        customer_tier.program_trigger_name(n, 'insert'), customer_tier.program_trigger_name(n, 'update'),
        customer_tier.program_trigger_name(n, 'delete'), tbl, n);
    IF tbl OPERATOR(pg_catalog.=) prog.orders_table THEN
        EXECUTE format($sql$
            CREATE TRIGGER %1$I AFTER TRUNCATE ON %2$s
                FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders(%3$L)$sql$,
            customer_tier.program_trigger_name(n, 'truncate'), tbl, n);
        IF owner THEN
            EXECUTE format($sql$
                ALTER TABLE %3$s ENABLE ALWAYS TRIGGER %1$I;
                CREATE TRIGGER %2$I AFTER INSERT OR UPDATE OR DELETE ON %3$s
                    FOR EACH ROW EXECUTE FUNCTION customer_tier.maintain_orders(%4$L);
                ALTER TABLE %3$s ENABLE REPLICA TRIGGER %2$I$sql$,
                customer_tier.program_trigger_name(n, 'truncate'), customer_tier.program_trigger_name(n, 'replica'),
                tbl, n);
        ELSE
            RAISE NOTICE 'program "%": the writes of a logical-replication subscription to % are not seen', n, tbl
                USING DETAIL = 'Only the owner of the table may enable triggers for replication.',
                      HINT = 'Attach the program as the table''s owner to keep it exact on a subscriber.';
        END IF;
    ELSIF kind OPERATOR(pg_catalog.=) 'r' THEN
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
REVOKE ALL ON FUNCTION customer_tier.put_program_triggers(customer_tier.program, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.put_program_triggers(customer_tier.program, regclass) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.remove_program_triggers(customer_tier.program, regclass): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.remove_program_triggers(prog customer_tier.program, tbl regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    trigger_name name;
BEGIN
    FOR trigger_name IN
        SELECT t.tgname FROM pg_trigger AS t
         WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl AND t.tgparentid OPERATOR(pg_catalog.=) 0
           AND t.tgname OPERATOR(pg_catalog.=) ANY (ARRAY(
               SELECT customer_tier.program_trigger_name(prog.name, op)
                 FROM pg_catalog.unnest('{insert,update,delete,truncate,replica}'::text[]) AS op))
         ORDER BY t.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, tbl);
    END LOOP;
    -- the SELECT put_program_triggers granted, unless another program reads the table too
    IF NOT EXISTS (SELECT FROM customer_tier.program AS p
                    WHERE p.orders_table OPERATOR(pg_catalog.=) prog.orders_table
                      AND p.name OPERATOR(pg_catalog.<>) prog.name)
       AND has_table_privilege(tbl, 'SELECT WITH GRANT OPTION') THEN
        EXECUTE format('REVOKE SELECT ON %s FROM customer_tier_owner', tbl);
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.remove_program_triggers(customer_tier.program, regclass) IS
    'drop the triggers a program put on its orders table or one of its partitions';
REVOKE ALL ON FUNCTION customer_tier.remove_program_triggers(customer_tier.program, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.remove_program_triggers(customer_tier.program, regclass) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.partition_ddl(): sql/install/62_program_objects.sql
CREATE FUNCTION customer_tier.partition_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'partition_ddl'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.partition_ddl() IS
    'event trigger function: keeps programs on partitioned orders tables exact through CREATE, ATTACH, DETACH and DROP of partitions';
REVOKE ALL ON FUNCTION customer_tier.partition_ddl() FROM PUBLIC;
CREATE EVENT TRIGGER customer_tier_partition_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TABLE') EXECUTE FUNCTION customer_tier.partition_ddl();
CREATE EVENT TRIGGER customer_tier_partition_end ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION customer_tier.partition_ddl();

-- customer_tier.program_scratch_sql(customer_tier.program, text, text): sql/install/63_program_verify.sql
CREATE FUNCTION customer_tier.program_scratch_sql(prog customer_tier.program, condition text, horizon text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
            SELECT o.%1$I AS customer,
                   customer_tier.order_stats_bounded(customer_tier.order_stats_partial(o.%2$I, o.%3$I) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.>=) '0'), %7$s) AS purchases,
                   customer_tier.order_stats_bounded(customer_tier.order_stats_partial(o.%2$I, o.%3$I) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.<) '0'), %7$s) AS refunds
              FROM %4$s AS o
             WHERE %5$s AND %6$s
             GROUP BY o.%1$I$sql$,
        prog.customer_column, prog.ordered_at_column, prog.amount_column, prog.orders_table,
        customer_tier.program_row_counts_sql(prog, 'o'), condition, horizon);
END
$$;
COMMENT ON FUNCTION customer_tier.program_scratch_sql(customer_tier.program, text, text) IS
    'SQL text of the recomputation of a program''s customer states (bounded) from its orders table';
REVOKE ALL ON FUNCTION customer_tier.program_scratch_sql(customer_tier.program, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_scratch_sql(customer_tier.program, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_recompute_sql(customer_tier.program): sql/install/63_program_verify.sql
CREATE FUNCTION customer_tier.program_recompute_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$
        SELECT k.i, s.purchases, s.refunds
          FROM pg_catalog.unnest($1) WITH ORDINALITY AS k (customer, i),
               LATERAL (%s) AS s
         ORDER BY k.i$sql$,
        customer_tier.program_scratch_sql(prog, format('o.%I OPERATOR(pg_catalog.=) k.customer', prog.customer_column), '$2'));
END
$$;
COMMENT ON FUNCTION customer_tier.program_recompute_sql(customer_tier.program) IS
    'SQL text of the trigger path''s recomputation of some customers through the index on the customer column';
REVOKE ALL ON FUNCTION customer_tier.program_recompute_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_recompute_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.drift_repair: sql/install/63_program_verify.sql
CREATE TABLE customer_tier.drift_repair (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program     text NOT NULL REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    repaired_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    customers   bigint NOT NULL,
    repaired    boolean NOT NULL
);
COMMENT ON TABLE customer_tier.drift_repair IS 'customers whose maintained state could not take a removal, recomputed from the orders table by the trigger path';
COMMENT ON COLUMN customer_tier.drift_repair.id IS 'repair number';
COMMENT ON COLUMN customer_tier.drift_repair.program IS 'the program';
COMMENT ON COLUMN customer_tier.drift_repair.repaired_at IS 'when (the time of the transaction whose write found the drift)';
COMMENT ON COLUMN customer_tier.drift_repair.customers IS 'customers found drifted';
COMMENT ON COLUMN customer_tier.drift_repair.repaired IS 'false when customer_tier_owner may not read the orders table: the customers stay drifted until rebuild_program';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.drift_repair', '');
SELECT pg_catalog.pg_extension_config_dump('customer_tier.drift_repair_id_seq', '');
GRANT INSERT ON customer_tier.drift_repair TO customer_tier_owner;
GRANT SELECT, DELETE ON customer_tier.drift_repair TO customer_tier_admin;

-- customer_tier.rebuild_program(text): sql/install/63_program_verify.sql
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
BEGIN
    prog := customer_tier.program_row(program);
    PERFORM pg_catalog.set_config('work_mem', pg_catalog.current_setting('maintenance_work_mem'), true);
    -- this transaction's own writes first: the rebuild reads them in the orders
    PERFORM customer_tier.apply_pending();
    -- writers wait while the state is rebuilt, so none slips between
    EXECUTE format('LOCK TABLE %s IN SHARE MODE', prog.orders_table);
    EXECUTE format($sql$
        WITH scratch AS (%2$s
        ), diff AS MATERIALIZED (
            -- one pass over the recomputation and the stored customers: the
            -- customers to write (missing or different) and those to delete
            -- (a composite compared as a whole: NULL fields are equal)
            SELECT coalesce(s.customer, c.customer) AS customer, s.customer IS NULL AS gone,
                   s.purchases, s.refunds
              FROM scratch AS s
              FULL JOIN %1$I.customers AS c ON c.customer OPERATOR(pg_catalog.=) s.customer
             WHERE s.customer IS NULL OR c.customer IS NULL
                OR NOT (customer_tier.order_stats_state_same(c.purchases, s.purchases)
                        AND customer_tier.order_stats_state_same(c.refunds, s.refunds)
                        AND ROW(c.orders, c.monetary, c.first_order, c.last_order, c.mean_gap_days, c.gap_stddev_days)
                            IS NOT DISTINCT FROM customer_tier.customer_metrics(s.purchases, s.refunds))
        ), gone AS (
            DELETE FROM %1$I.customers AS c
             USING diff AS d
             WHERE d.gone AND c.customer OPERATOR(pg_catalog.=) d.customer
        )
        INSERT INTO %1$I.customers AS c
               (customer, purchases, refunds, orders, monetary, first_order, last_order,
                mean_gap_days, gap_stddev_days, updated_at)
        SELECT d.customer, d.purchases, d.refunds, m.orders, m.monetary, m.first_order, m.last_order,
               m.mean_gap_days, m.gap_stddev_days, pg_catalog.now()
          FROM diff AS d, LATERAL customer_tier.customer_metrics(d.purchases, d.refunds) AS m
         WHERE NOT d.gone
         ORDER BY d.customer
        ON CONFLICT (customer) DO UPDATE
           SET (purchases, refunds, orders, monetary, first_order, last_order,
                mean_gap_days, gap_stddev_days, updated_at) =
               (excluded.purchases, excluded.refunds, excluded.orders, excluded.monetary,
                excluded.first_order, excluded.last_order, excluded.mean_gap_days,
                excluded.gap_stddev_days, excluded.updated_at)$sql$,
        prog.data_schema,
        customer_tier.program_scratch_sql(prog, 'true',
                                          format('(SELECT customer_tier.program_state_horizon(%L))', prog.name)));
    -- Rescore the customers just written (their updated_at is now(): no trigger
    -- writes while the orders are locked) against the stored breakpoints, as
    -- the triggers would have scored them.  Re-ranking the whole population is
    -- a run's job: a rebuild that finds no drift then costs one grouping of
    -- the orders and one comparison, not a rescore of every customer.
    PERFORM customer_tier.rescore_where(program, 'rebuild_program',
                                        'c.updated_at OPERATOR(pg_catalog.=) pg_catalog.now()');
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', prog.data_schema) INTO customers;
    RETURN customers;
END
$$;
COMMENT ON FUNCTION customer_tier.rebuild_program(text) IS
    'recompute a program''s customers from scratch over the orders table (tiers and history kept), then rescore; returns the customers';
REVOKE ALL ON FUNCTION customer_tier.rebuild_program(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.rebuild_program(text) TO customer_tier_admin;  -- 90_roles.sql name list


-- customer_tier.drop_program_objects(customer_tier.program): sql/install/62_program_objects.sql
CREATE OR REPLACE FUNCTION customer_tier.drop_program_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.drop_followup_objects(prog);
    PERFORM customer_tier.drop_program_views(prog);
    -- RESTRICT: a user's own object that depends on these must make this fail.
    EXECUTE format('DROP TABLE IF EXISTS %I.rejects RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.customers RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.summary_deltas RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %1$I.event_deliveries, %1$I.event_consumers, %1$I.events RESTRICT', prog.data_schema);
    EXECUTE format('DROP TABLE IF EXISTS %I.tier_history RESTRICT', prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program_objects(customer_tier.program) IS
    'drop a program''s follow-up objects, views and tables';
REVOKE ALL ON FUNCTION customer_tier.drop_program_objects(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.drop_program_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.rescore_program(text, text, text): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.rescore_program(program text, source text, customer text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text;
BEGIN
    prog := customer_tier.program_row(program);
    IF customer IS NOT NULL THEN
        key := customer_tier.customer_key_text(program, customer);
    END IF;
    RETURN customer_tier.rescore_where(program, source,
        CASE WHEN key IS NULL THEN 'true'
             ELSE format('c.customer OPERATOR(pg_catalog.=) %L::%s', key, prog.customer_type) END);
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_program(text, text, text) IS
    'score every customer of a program, or one (scores, segment, tier with hysteresis and pins); returns how many changed tier';
REVOKE ALL ON FUNCTION customer_tier.rescore_program(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.rescore_program(text, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_abc_sql(text): sql/install/68_reclassify.sql
CREATE FUNCTION customer_tier.program_abc_sql(program text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    least_a numeric;
    least_b numeric;
BEGIN
    EXECUTE format($sql$
        SELECT pg_catalog.min(s.monetary) FILTER (WHERE s.abc_class OPERATOR(pg_catalog.=) 'A'),
               pg_catalog.min(s.monetary) FILTER (WHERE s.abc_class OPERATOR(pg_catalog.=) 'B')
          FROM (SELECT c.monetary,
                       customer_tier.abc_class(c.monetary::double precision)
                           OVER (ORDER BY c.monetary DESC) AS abc_class
                  FROM %I.customers AS c) AS s$sql$, (customer_tier.program_row(program)).data_schema)
      INTO least_a, least_b;
    RETURN format($sql$CASE WHEN c.monetary OPERATOR(pg_catalog.>=) %L::numeric THEN 'A'
                            WHEN c.monetary OPERATOR(pg_catalog.>=) %L::numeric THEN 'B'
                            ELSE 'C' END$sql$, least_a, least_b);
END
$$;
COMMENT ON FUNCTION customer_tier.program_abc_sql(text) IS
    'SQL text of the ABC class of a program''s customer (alias c), from the whole population''s thresholds';
REVOKE ALL ON FUNCTION customer_tier.program_abc_sql(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_abc_sql(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- reclassify takes as_of (issue 19: historical data)
DROP PROCEDURE customer_tier.reclassify(text, integer);
-- customer_tier.reclassify(text, integer, timestamp with time zone): sql/install/68_reclassify.sql
CREATE PROCEDURE customer_tier.reclassify(program text, batch_size integer DEFAULT 10000,
                                          as_of timestamptz DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    prog customer_tier.program;
    run_id bigint;
    lower_key text;
    upper_key text;
    scored bigint := 0;
    changed bigint := 0;
    batch_count integer := 0;
    batch_rows bigint;
    failure text;
    failure_state text;
    abc text;
BEGIN
    IF program IS NULL OR batch_size IS NULL THEN
        RAISE EXCEPTION 'program and batch_size must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1, not %', batch_size
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The default, 10000 customers per committed batch, suits most programs.';
    END IF;
    prog := customer_tier.program_row(program);
    -- a program for historical data moves on to as_of; one that follows the
    -- clock cannot be scored at another instant than its writes are
    IF as_of IS NOT NULL AND prog.scoring_date IS NULL THEN
        RAISE EXCEPTION 'program "%" follows the clock: it cannot be reclassified as of %', program, as_of
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Its orders are scored as they come, against the time of each write.',
                  HINT = 'Leave as_of out; for historical orders, create a program with customer_tier.create_program(..., as_of => ...).';
    END IF;
    -- refused before the lock is taken: an infinite as_of, or one before the scoring date
    PERFORM customer_tier.check_scoring_date(as_of);
    IF as_of OPERATOR(pg_catalog.<) prog.scoring_date THEN
        PERFORM customer_tier.set_scoring_date(program, as_of);
    END IF;
    IF NOT pg_catalog.pg_try_advisory_lock(customer_tier.run_lock_key(program)) THEN
        RAISE NOTICE 'program "%" is being reclassified by another session; this run exits', program
            USING HINT = 'SELECT * FROM customer_tier.run WHERE outcome = ''running'' shows the run in progress.';
        RETURN;
    END IF;

    -- Holding the lock, no other run is alive: a run still marked running was
    -- interrupted (its session ended or the server stopped).
    UPDATE customer_tier.run AS r
       SET outcome = 'failed', finished_at = pg_catalog.clock_timestamp(),
           error = 'interrupted: the session running it ended before it finished'
     WHERE r.program OPERATOR(pg_catalog.=) reclassify.program
       AND r.outcome OPERATOR(pg_catalog.=) 'running';
    INSERT INTO customer_tier.run (program) VALUES (program) RETURNING id INTO run_id;
    IF as_of IS NOT NULL THEN
        PERFORM customer_tier.set_scoring_date(program, as_of);
    END IF;
    COMMIT;

    -- Each step runs in a block of its own: an error is caught there, logged
    -- and committed, the lock released, and then raised again (a block with an
    -- exception handler cannot itself commit, but the loop around it can).
    BEGIN
        PERFORM customer_tier.refresh_breakpoints(program);
        -- Rolling satisfaction windows end now, and feed the churn rules.
        IF EXISTS (SELECT FROM customer_tier.feedback_source AS f
                    WHERE f.program OPERATOR(pg_catalog.=) reclassify.program) THEN
            PERFORM customer_tier.refresh_satisfaction(program);
        END IF;
        -- The models before the batches, which score with them; a fit that
        -- cannot be made keeps the previous model and does not fail the run.
        UPDATE customer_tier.run AS r
           SET model_fit = coalesce(customer_tier.fit_program_model(reclassify.program, run_id), 'fitted')
         WHERE r.id OPERATOR(pg_catalog.=) run_id;
        -- ABC classes of the whole population, computed once, applied per batch
        abc := customer_tier.program_abc_sql(program);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure = MESSAGE_TEXT;
    END;
    IF failure IS NULL THEN
        COMMIT;
    END IF;

    WHILE failure IS NULL LOOP
        BEGIN
            -- the next batch: up to batch_size customers after lower_key
            EXECUTE pg_catalog.format($sql$
                SELECT pg_catalog.max(b.customer)::text, pg_catalog.count(*)
                  FROM (SELECT c.customer FROM %1$I.customers AS c
                         WHERE $1 IS NULL OR c.customer OPERATOR(pg_catalog.>) $1::%2$s
                         ORDER BY c.customer LIMIT $2) AS b$sql$, prog.data_schema, prog.customer_type)
              INTO upper_key, batch_rows
              USING lower_key, batch_size;
            EXIT WHEN batch_rows OPERATOR(pg_catalog.=) 0;
            changed := changed OPERATOR(pg_catalog.+) customer_tier.rescore_where(
                program, 'run ' OPERATOR(pg_catalog.||) run_id,
                CASE WHEN lower_key IS NULL
                     THEN pg_catalog.format('c.customer OPERATOR(pg_catalog.<=) %L::%s', upper_key, prog.customer_type)
                     ELSE pg_catalog.format('c.customer OPERATOR(pg_catalog.>) %L::%s AND c.customer OPERATOR(pg_catalog.<=) %L::%s',
                                            lower_key, prog.customer_type, upper_key, prog.customer_type) END,
                abc);
            scored := scored OPERATOR(pg_catalog.+) batch_rows;
            batch_count := batch_count OPERATOR(pg_catalog.+) 1;
            lower_key := upper_key;
            UPDATE customer_tier.run AS r SET customers = scored, batches = batch_count, tier_changes = changed
             WHERE r.id OPERATOR(pg_catalog.=) run_id;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure = MESSAGE_TEXT;
        END;
        IF failure IS NULL THEN
            COMMIT;
        END IF;
    END LOOP;

    IF failure IS NOT NULL THEN
        -- the batches already committed stand: each was a consistent rescore
        UPDATE customer_tier.run AS r
           SET outcome = 'failed', finished_at = pg_catalog.clock_timestamp(), error = failure,
               customers = scored, batches = batch_count, tier_changes = changed
         WHERE r.id OPERATOR(pg_catalog.=) run_id;
        COMMIT;
        PERFORM pg_catalog.pg_advisory_unlock(customer_tier.run_lock_key(program));
        RAISE EXCEPTION 'reclassification run % of program "%" failed: %', run_id, program, failure
            USING ERRCODE = failure_state,
                  HINT = 'The run is logged as failed in customer_tier.run; the next run starts afresh.';
    END IF;

    -- the summaries' deltas of this run and of the writers since the last fold, folded
    PERFORM customer_tier.compact_summary(pg_catalog.format('%I.summary_deltas', prog.data_schema)::regclass, true);
    EXECUTE pg_catalog.format($sql$
        UPDATE customer_tier.run AS r
           SET outcome = 'succeeded', finished_at = pg_catalog.clock_timestamp(),
               customers = $2, batches = $3, tier_changes = $4,
               changes_by_tier = (SELECT pg_catalog.jsonb_object_agg(x.change, x.n)
                                    FROM (SELECT coalesce(h.from_tier, 'new') OPERATOR(pg_catalog.||) '>'
                                                 OPERATOR(pg_catalog.||) h.to_tier AS change,
                                                 pg_catalog.count(*) AS n
                                            FROM %1$I.tier_history AS h
                                           WHERE h.source OPERATOR(pg_catalog.=) ('run ' OPERATOR(pg_catalog.||) $1::text)
                                           GROUP BY 1) AS x),
               rejects = (SELECT pg_catalog.count(*) FROM %1$I.rejects)
         WHERE r.id OPERATOR(pg_catalog.=) $1$sql$, prog.data_schema)
      USING run_id, scored, batch_count, changed;
    -- retention (86_retention.sql); a failed purge does not fail the run
    BEGIN
        UPDATE customer_tier.run AS r SET purged = customer_tier.purge(reclassify.program) WHERE r.id OPERATOR(pg_catalog.=) run_id;
    EXCEPTION WHEN OTHERS THEN
        UPDATE customer_tier.run AS r SET purged = pg_catalog.jsonb_build_object('error', SQLERRM)
         WHERE r.id OPERATOR(pg_catalog.=) run_id;
    END;
    COMMIT;
    PERFORM pg_catalog.pg_advisory_unlock(customer_tier.run_lock_key(program));
END
$$;
COMMENT ON PROCEDURE customer_tier.reclassify(text, integer, timestamptz) IS
    'recompute breakpoints and ABC classes, fit the program''s BG/NBD and Gamma-Gamma models, then rescore every customer in committed batches; logged in customer_tier.run';
REVOKE ALL ON PROCEDURE customer_tier.reclassify(text, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE customer_tier.reclassify(text, integer, timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.config_changed(): sql/install/76_config_cache.sql
-- The trigger path reads each program's scoring configuration once per
-- backend into C and keeps it (src/program_config.c).  A write to any table
-- the configuration is made of tells every backend to read it again: this
-- statement trigger sends an invalidation for the table, delivered at the
-- writer's commit.  ENABLE ALWAYS: a restore or replication session with
-- session_replication_role = replica changes the configuration too.
CREATE FUNCTION customer_tier.config_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'config_changed'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.config_changed() IS
    'trigger on the configuration tables: backends read the programs'' cached configuration again after the change commits';
REVOKE ALL ON FUNCTION customer_tier.config_changed() FROM PUBLIC;

DO $config$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['program', 'tier', 'churn_settings', 'program_model', 'pin'] LOOP
        EXECUTE format('CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE'
                       ' ON customer_tier.%I FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.config_changed()', t);
        EXECUTE format('ALTER TABLE customer_tier.%I ENABLE ALWAYS TRIGGER config_changed', t);
    END LOOP;
END
$config$;

-- customer_tier.customer_key_text(text, text): sql/install/75_pins.sql
CREATE OR REPLACE FUNCTION customer_tier.customer_key_text(program text, customer text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog  customer_tier.program;
    key   text;
    state text;
BEGIN
    prog := customer_tier.program_row(program);
    BEGIN
        -- customer_type is one of five built-in types (a CHECK on program).
        EXECUTE format('SELECT ($1::%s)::text', prog.customer_type) INTO key USING customer;
    EXCEPTION WHEN data_exception THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
        RAISE EXCEPTION 'the customer key is not a valid % for program "%"', prog.customer_type, prog.name
            USING ERRCODE = state,
                  DETAIL = format('The key given has %s characters; it is left out of this message, which reaches the server log.',
                                  length(customer)),
                  HINT = format('Pass the key as it appears in column %s of %s.', prog.customer_column, prog.orders_table);
    END;
    RETURN key;
END
$$;
COMMENT ON FUNCTION customer_tier.customer_key_text(text, text) IS
    'a customer key in the canonical text form of the program''s key type, as stored in pins; an error if it is not a valid key';
REVOKE ALL ON FUNCTION customer_tier.customer_key_text(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.customer_key_text(text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text): sql/install/80_feedback.sql
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
REVOKE ALL ON FUNCTION customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.feedback_rejects_sql(customer_tier.program, customer_tier.feedback_source, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.feedback_trigger_name(text, text): sql/install/80_feedback.sql
CREATE OR REPLACE FUNCTION customer_tier.feedback_trigger_name(program text, operation text)
RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.format('ct_%s_feedback_%s', program, operation)::name;
COMMENT ON FUNCTION customer_tier.feedback_trigger_name(text, text) IS
    'name of the trigger a program puts on its feedback table for one operation';
REVOKE ALL ON FUNCTION customer_tier.feedback_trigger_name(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.feedback_trigger_name(text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.feedback_reject_sqlstate_sql(text): sql/install/80_feedback.sql
CREATE FUNCTION customer_tier.feedback_reject_sqlstate_sql(reason text)
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
REVOKE ALL ON FUNCTION customer_tier.feedback_reject_sqlstate_sql(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.feedback_reject_sqlstate_sql(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.attach_feedback(text, regclass, name, name, name, name, interval): sql/install/80_feedback.sql
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
    IF rejected OPERATOR(pg_catalog.>) 0 AND prog.reject_mode OPERATOR(pg_catalog.=) 'error' THEN
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
REVOKE ALL ON FUNCTION customer_tier.attach_feedback(text, regclass, name, name, name, name, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.attach_feedback(text, regclass, name, name, name, name, interval) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.refresh_satisfaction(text): sql/install/80_feedback.sql
CREATE OR REPLACE FUNCTION customer_tier.refresh_satisfaction(program text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    customers bigint;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
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
REVOKE ALL ON FUNCTION customer_tier.refresh_satisfaction(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.refresh_satisfaction(text) TO customer_tier_admin;  -- 90_roles.sql name list



-- customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source): sql/install/80_feedback.sql
CREATE OR REPLACE FUNCTION customer_tier.drop_feedback_triggers(prog customer_tier.program, src customer_tier.feedback_source)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    op text;
BEGIN
    -- a feedback table dropped since took its triggers with it
    IF EXISTS (SELECT FROM pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) src.feedback_table) THEN
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            IF EXISTS (SELECT FROM pg_trigger AS t
                        WHERE t.tgrelid OPERATOR(pg_catalog.=) src.feedback_table
                          AND t.tgname OPERATOR(pg_catalog.=) customer_tier.feedback_trigger_name(prog.name, op)) THEN
                EXECUTE format('DROP TRIGGER %I ON %s',
                               customer_tier.feedback_trigger_name(prog.name, op), src.feedback_table);
            END IF;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) IS
    'drop the triggers that attaching a feedback table put on it';
REVOKE ALL ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.drop_feedback_triggers(customer_tier.program, customer_tier.feedback_source) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.detach_feedback(text): sql/install/80_feedback.sql
CREATE OR REPLACE FUNCTION customer_tier.detach_feedback(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    src customer_tier.feedback_source;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
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
REVOKE ALL ON FUNCTION customer_tier.detach_feedback(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.detach_feedback(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.log_contact(text, text, text, text, text, timestamp with time zone): sql/install/82_contacts.sql
CREATE OR REPLACE FUNCTION customer_tier.log_contact(program text, customer text, channel text,
                                          outcome text DEFAULT NULL, note text DEFAULT NULL,
                                          contacted_at timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text;
    key_type regtype;
    known boolean;
    id bigint;
BEGIN
    IF program IS NULL OR customer IS NULL OR channel IS NULL OR contacted_at IS NULL THEN
        RAISE EXCEPTION 'program, customer, channel and contacted_at must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For example customer_tier.log_contact(''shop'', ''42'', ''phone'', ''reached'').';
    END IF;
    -- a program's schema is ct_<name> (create_program)
    s := 'ct_' OPERATOR(pg_catalog.||) program;
    SELECT a.atttypid::regtype INTO key_type
      FROM pg_attribute AS a
     WHERE a.attrelid OPERATOR(pg_catalog.=) to_regclass(format('%I.contacts', s))
       AND a.attname OPERATOR(pg_catalog.=) 'customer';
    IF key_type IS NULL OR program !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    IF NOT channel OPERATOR(pg_catalog.=) ANY ('{phone,email,visit,other}'::text[]) THEN
        RAISE EXCEPTION 'invalid channel "%"', channel
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use phone, email, visit or other.';
    END IF;
    IF NOT isfinite(contacted_at) THEN
        RAISE EXCEPTION 'contacted_at must be finite, not %', contacted_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the time of the contact, or leave it out for now().';
    END IF;
    IF contacted_at OPERATOR(pg_catalog.>) (clock_timestamp() OPERATOR(pg_catalog.+) interval '5 minutes') THEN
        RAISE EXCEPTION 'contacted_at % is in the future', contacted_at
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The log records contacts that took place; a contact in the future would hide follow-ups that are due.',
                  HINT = 'Pass the time of the contact, or leave it out for now().';
    END IF;
    BEGIN
        EXECUTE format('SELECT EXISTS (SELECT FROM %I.segments AS c WHERE c.customer OPERATOR(pg_catalog.=) $1::%s)',
                       s, key_type)
           INTO known USING customer;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR string_data_right_truncation THEN
        -- never the key itself: errors reach the server log
        RAISE EXCEPTION 'the customer key is not a valid % for program "%"', key_type, program
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = format('The key given has %s characters; it is left out of this message, which reaches the server log.',
                                  length(customer)),
                  HINT = format('Pass the key in the text form of a %s, as %I.segments shows it.', key_type, s);
    END;
    IF NOT known THEN
        RAISE EXCEPTION 'the customer key is not a customer of program "%"', program
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('A customer of a program has at least one counted order. The key given has %s characters; it is left out of this message, which reaches the server log.',
                                  length(customer)),
                  HINT = format('SELECT customer FROM %I.segments lists them.', s);
    END IF;
    EXECUTE format($sql$
        INSERT INTO %1$I.contacts (customer, channel, contacted_at, outcome, note)
        VALUES ($1::%2$s, $2, $3, $4, $5)
        RETURNING id$sql$, s, key_type)
       INTO id USING customer, channel, contacted_at, outcome, note;
    RETURN id;
END
$$;
COMMENT ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamptz) IS
    'log a contact (phone, email, visit or other) with a customer of a program; returns the contact id';
REVOKE ALL ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamp with time zone) TO customer_tier_writer;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_kpi_functions(customer_tier.program): sql/install/84_kpis.sql
CREATE OR REPLACE FUNCTION customer_tier.create_kpi_functions(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    -- Reads the program's tier history and answers: runs with its caller's
    -- rights (the reader may read both).  Without JIT: compiling the plan
    -- costs far more than running it on any realistic number of periods.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.satisfaction_by_tier(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                                  to_date timestamptz DEFAULT NULL)
        RETURNS TABLE (period_start timestamptz, period_end timestamptz, tier text, tier_rank integer,
                       customers bigint, respondents bigint, response_rate double precision, answers bigint,
                       nps double precision, nps_answers bigint, csat double precision, csat_answers bigint)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 100
        SET search_path = pg_catalog, pg_temp
        SET jit = off
        AS $body$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH %2$s, %3$s
            SELECT k.period_start, k.period_end, k.tier, k.rank,
                   coalesce(x.customers, 0), coalesce(x.respondents, 0),
                   x.respondents::double precision / nullif(x.customers, 0),
                   coalesce(x.answers, 0), x.nps, coalesce(x.nps_answers, 0), x.csat, coalesce(x.csat_answers, 0)
              FROM keys AS k
              LEFT JOIN sat AS x ON x.period_start = k.period_start AND x.tier = k.tier
             ORDER BY k.period_start, k.rank NULLS LAST, k.tier;
        END
        $body$ $fn$, s, customer_tier.kpi_cohort_sql(prog), customer_tier.kpi_satisfaction_sql(prog));
    EXECUTE format('COMMENT ON FUNCTION %I.satisfaction_by_tier(text, timestamptz, timestamptz) IS %L', s,
                   format('program %s: per period (a date_trunc unit, month by default) and tier at period start: customers, respondents, response rate, NPS and CSAT of the answers given in the period',
                          prog.name));

    -- Reads the orders table, which the reader may not: runs as
    -- customer_tier_owner (granted SELECT on it by create_program) and
    -- returns aggregates only.  row_security = off: a policy on the table
    -- would run its owner's functions with customer_tier_owner's rights, so
    -- such a table makes kpis fail instead.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.kpis(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                  to_date timestamptz DEFAULT NULL)
        RETURNS TABLE (period_start timestamptz, period_end timestamptz, tier text, tier_rank integer,
                       customers_at_start bigint, new_customers bigint, retained bigint, churned bigint,
                       retention_rate double precision, churn_rate double precision,
                       repeat_customers bigint, repeat_purchase_rate double precision,
                       orders bigint, revenue numeric,
                       nps double precision, csat double precision, answers bigint, response_rate double precision)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE SECURITY DEFINER ROWS 100
        SET search_path = pg_catalog, pg_temp
        SET jit = off
        SET row_security = off
        AS $body$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            WITH %2$s, %8$s,
            bought AS (
                SELECT p.period_start, o.%4$I AS customer,
                       count(*) FILTER (WHERE o.%5$I >= '0') AS purchases,
                       sum(o.%5$I::numeric) AS revenue
                  FROM %3$s AS o
                  JOIN periods AS p
                    ON o.%6$I::timestamptz >= p.period_start AND o.%6$I::timestamptz < p.period_end
                 WHERE %7$s
                   AND o.%6$I::timestamptz >= (SELECT min(q.period_start) FROM periods AS q)
                   AND o.%6$I::timestamptz < (SELECT max(q.period_end) FROM periods AS q)
                 GROUP BY p.period_start, o.%4$I
            ), kept AS (
                SELECT c.period_start, c.tier, count(*) AS customers,
                       count(*) FILTER (WHERE b.purchases >= 1) AS retained,
                       count(*) FILTER (WHERE b.purchases >= 2) AS repeat_customers,
                       coalesce(sum(b.purchases), 0)::bigint AS orders,
                       coalesce(sum(b.revenue), 0) AS revenue
                  FROM cohort AS c
                  LEFT JOIN bought AS b ON b.period_start = c.period_start AND b.customer = c.customer
                 GROUP BY c.period_start, c.tier
            )
            SELECT k.period_start, k.period_end, k.tier, k.rank,
                   coalesce(m.customers, 0), coalesce(n.customers, 0),
                   coalesce(m.retained, 0), coalesce(m.customers - m.retained, 0),
                   m.retained::double precision / nullif(m.customers, 0),
                   (m.customers - m.retained)::double precision / nullif(m.customers, 0),
                   coalesce(m.repeat_customers, 0),
                   m.repeat_customers::double precision / nullif(m.customers, 0),
                   coalesce(m.orders, 0), coalesce(m.revenue, 0),
                   s.nps, s.csat, coalesce(s.answers, 0),
                   s.respondents::double precision / nullif(s.customers, 0)
              FROM keys AS k
              LEFT JOIN kept AS m ON m.period_start = k.period_start AND m.tier = k.tier
              LEFT JOIN newcomers AS n ON n.period_start = k.period_start AND n.tier = k.tier
              LEFT JOIN sat AS s ON s.period_start = k.period_start AND s.tier = k.tier
             ORDER BY k.period_start, k.rank NULLS LAST, k.tier;
        END
        $body$ $fn$, s, customer_tier.kpi_cohort_sql(prog), prog.orders_table, prog.customer_column,
        prog.amount_column, prog.ordered_at_column, customer_tier.program_row_counts_sql(prog, 'o'),
        customer_tier.kpi_satisfaction_sql(prog));
    EXECUTE format('COMMENT ON FUNCTION %I.kpis(text, timestamptz, timestamptz) IS %L', s,
                   format('program %s: per period (a date_trunc unit, month by default) and tier at period start: customers, new customers, retained, churned, retention, churn and repeat-purchase rates, orders, revenue, NPS, CSAT, response rate (docs/kpis.md)',
                          prog.name));
END
$$;
COMMENT ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) IS
    'create a program''s satisfaction_by_tier and kpis functions';
REVOKE ALL ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_kpi_functions(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.grant_followup_access(customer_tier.program): sql/install/88_followups.sql
CREATE OR REPLACE FUNCTION customer_tier.grant_followup_access(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format($sql$
        GRANT SELECT ON %1$I.answers, %1$I.satisfaction, %1$I.follow_ups_due TO customer_tier_reader;
        GRANT SELECT (id, customer, channel, contacted_at, outcome, logged_by, logged_at)
            ON %1$I.contacts TO customer_tier_reader;
        GRANT INSERT (customer, channel, contacted_at, outcome, note), SELECT (id)
            ON %1$I.contacts TO customer_tier_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.contacts TO customer_tier_admin;
        GRANT SELECT, DELETE ON %1$I.answers, %1$I.satisfaction, %1$I.feedback_rejects TO customer_tier_admin;
        GRANT INSERT, UPDATE ON %1$I.satisfaction TO customer_tier_admin;
        REVOKE ALL ON FUNCTION %1$I.satisfaction_by_tier(text, timestamptz, timestamptz) FROM PUBLIC;
        REVOKE ALL ON FUNCTION %1$I.kpis(text, timestamptz, timestamptz) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION %1$I.satisfaction_by_tier(text, timestamptz, timestamptz) TO customer_tier_reader;
        GRANT EXECUTE ON FUNCTION %1$I.kpis(text, timestamptz, timestamptz) TO customer_tier_reader
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.grant_followup_access(customer_tier.program) IS
    'grant the reader, writer and admin roles their privileges on a program''s feedback, contact and KPI objects';
REVOKE ALL ON FUNCTION customer_tier.grant_followup_access(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.grant_followup_access(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.grant_program_access(customer_tier.program): sql/install/90_roles.sql
CREATE OR REPLACE FUNCTION customer_tier.grant_program_access(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    cols text;
    obj record;
BEGIN
    IF prog.data_schema IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO customer_tier_reader, customer_tier_writer, customer_tier_admin', s);

    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute AS a
     WHERE a.attrelid OPERATOR(pg_catalog.=) format('%I.customers', s)::regclass
       AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped
       AND a.atttypid OPERATOR(pg_catalog.<>) 'customer_tier.order_stats_state'::regtype;
    EXECUTE format('GRANT SELECT (%s) ON %I.customers TO customer_tier_reader', cols, s);
    EXECUTE format('GRANT SELECT ON %I.tier_history TO customer_tier_reader', s);
    -- the change feed: the writer (the CRM's workers) registers and consumes
    EXECUTE format($sql$
        GRANT SELECT ON %1$I.events TO customer_tier_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.event_consumers TO customer_tier_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.event_deliveries TO customer_tier_writer$sql$, s);
    -- The admin backfills, rebuilds, rescores, corrects and erases with its
    -- own rights; the tables belong to customer_tier_owner, so no TRIGGER,
    -- REFERENCES or TRUNCATE, and no way to change them.
    FOR obj IN
        SELECT c.relname FROM pg_class AS c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) s::regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) 'r'
         ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO customer_tier_admin', s, obj.relname);
    END LOOP;

    FOR obj IN
        SELECT c.relname FROM pg_class AS c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) s::regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::"char"[])
         ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO customer_tier_reader', s, obj.relname);
        IF obj.relname OPERATOR(pg_catalog.=) 'segments' THEN
            EXECUTE format('GRANT SELECT ON %I.%I TO customer_tier_writer', s, obj.relname);
        END IF;
    END LOOP;

    FOR obj IN
        SELECT p.oid::regprocedure AS fn, p.prorettype OPERATOR(pg_catalog.=) 'trigger'::regtype AS is_trigger
          FROM pg_proc AS p
         WHERE p.pronamespace OPERATOR(pg_catalog.=) s::regnamespace
         ORDER BY p.oid
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', obj.fn);
        IF NOT obj.is_trigger THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO customer_tier_reader', obj.fn);
        ELSE
            -- the admin names it in CREATE TRIGGER on the CRM's table (it
            -- refuses to run on any other table)
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO customer_tier_admin', obj.fn);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.grant_program_access(customer_tier.program) IS
    'grant the reader, writer and admin roles their privileges on a program''s schema';
REVOKE ALL ON FUNCTION customer_tier.grant_program_access(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.grant_program_access(customer_tier.program) TO customer_tier_admin;



-- customer_tier.drop_followup_objects(customer_tier.program): sql/install/88_followups.sql
CREATE OR REPLACE FUNCTION customer_tier.drop_followup_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format('DROP FUNCTION IF EXISTS %I.kpis(text, timestamptz, timestamptz) RESTRICT', s);
    EXECUTE format('DROP FUNCTION IF EXISTS %I.satisfaction_by_tier(text, timestamptz, timestamptz) RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.follow_ups_due RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.contacts RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.feedback_rejects RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.satisfaction RESTRICT', s);
    EXECUTE format('DROP TABLE IF EXISTS %I.answers RESTRICT', s);
END
$$;
COMMENT ON FUNCTION customer_tier.drop_followup_objects(customer_tier.program) IS
    'detach a program''s feedback table if attached, and drop its feedback, contact and KPI objects';
REVOKE ALL ON FUNCTION customer_tier.drop_followup_objects(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.drop_followup_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list



-- ==== catalog privileges ====
REVOKE INSERT, UPDATE, DELETE ON customer_tier.program FROM customer_tier_admin;
GRANT UPDATE (method, score_weights, downgrade_grace, reject_mode, r_breakpoints, f_breakpoints,
              m_breakpoints, scored_at) ON customer_tier.program TO customer_tier_admin;
REVOKE INSERT, UPDATE, DELETE ON customer_tier.feedback_source FROM customer_tier_admin;
GRANT UPDATE (satisfaction_window) ON customer_tier.feedback_source TO customer_tier_admin;
COMMENT ON COLUMN customer_tier.pin.reason IS 'why the customer is pinned (required); free text: readable by the admin role only';
REVOKE SELECT ON customer_tier.pin FROM customer_tier_reader;
GRANT SELECT (program, customer, tier, pinned_at, pinned_by, expires_at) ON customer_tier.pin TO customer_tier_reader;
GRANT SELECT ON customer_tier.pin TO customer_tier_admin;
GRANT USAGE ON SCHEMA customer_tier TO customer_tier_owner;
GRANT SELECT ON customer_tier.program, customer_tier.tier, customer_tier.pin, customer_tier.run,
                customer_tier.feedback_source, customer_tier.cadence, customer_tier.retention,
                customer_tier.retention_policy, customer_tier.churn_settings, customer_tier.program_model
             TO customer_tier_owner;
GRANT INSERT, UPDATE, DELETE ON customer_tier.program, customer_tier.tier, customer_tier.feedback_source,
                                customer_tier.churn_settings, customer_tier.cadence, customer_tier.retention
             TO customer_tier_owner;

-- ==== feedback triggers renamed: the old names did not fit 63 bytes ====
DO $feedback_triggers$
DECLARE
    src record;
    op text;
    old_name name;
BEGIN
    FOR src IN SELECT f.program, f.feedback_table FROM customer_tier.feedback_source AS f
                WHERE EXISTS (SELECT FROM pg_catalog.pg_class AS c
                               WHERE c.oid OPERATOR(pg_catalog.=) f.feedback_table) LOOP
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
            -- the name 0.2.0 gave, cut to 63 bytes as CREATE TRIGGER cut it
            old_name := pg_catalog.format('customer_tier_%s_feedback_%s', src.program, op)::name;
            IF EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                        WHERE t.tgrelid OPERATOR(pg_catalog.=) src.feedback_table
                          AND t.tgname OPERATOR(pg_catalog.=) old_name) THEN
                EXECUTE pg_catalog.format('ALTER TRIGGER %I ON %s RENAME TO %I', old_name, src.feedback_table,
                                          customer_tier.feedback_trigger_name(src.program, op));
            END IF;
        END LOOP;
    END LOOP;
END
$feedback_triggers$;

-- ==== bounded states (issue 18): frequency windows in whole days, states rebuilt bounded below ====
ALTER TABLE customer_tier.churn_settings DROP CONSTRAINT churn_frequency_window_days;
UPDATE customer_tier.churn_settings SET frequency_window_days = pg_catalog.ceil(frequency_window_days)
 WHERE frequency_window_days OPERATOR(pg_catalog.<>) pg_catalog.trunc(frequency_window_days);
ALTER TABLE customer_tier.churn_settings ADD CONSTRAINT churn_frequency_window_days
    CHECK (frequency_window_days >= 1 AND frequency_window_days <= 36525 AND frequency_window_days = pg_catalog.trunc(frequency_window_days));
COMMENT ON COLUMN customer_tier.churn_settings.frequency_window_days IS 'flag frequency_falling: length in whole UTC days of the recent window and of the window before it (default 90)';

-- customer_tier.order_stats_of("any", "any"): sql/install/61_order_stats_maintain.sql
CREATE FUNCTION customer_tier.order_stats_of(ordered_at "any", amount "any")
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_of'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_of("any", "any") IS
    'the order_stats state of one order (NULL when its time or amount is NULL), as order_stats_partial over that one row';

-- customer_tier.order_stats_bounded(customer_tier.order_stats_state, integer): sql/install/61_order_stats_maintain.sql
CREATE FUNCTION customer_tier.order_stats_bounded(state customer_tier.order_stats_state, horizon integer)
    RETURNS customer_tier.order_stats_state
    AS 'MODULE_PATHNAME', 'order_stats_bounded'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.order_stats_bounded(customer_tier.order_stats_state, integer) IS
    'the bounded form of a state (text form v2), keeping the orders per UTC day of the last horizon days before its latest order';

-- customer_tier.program_state_horizon(text): sql/install/72_churn.sql
CREATE FUNCTION customer_tier.program_state_horizon(program text)
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT 2 * s.frequency_window_days::integer FROM customer_tier.churn_settings AS s
                  WHERE s.program OPERATOR(pg_catalog.=) program_state_horizon.program), 0);
COMMENT ON FUNCTION customer_tier.program_state_horizon(text) IS
    'days of order counts a program''s stored states keep: twice frequency_window_days';
REVOKE ALL ON FUNCTION customer_tier.program_state_horizon(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_state_horizon(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.set_churn_rules(text, jsonb): sql/install/72_churn.sql
CREATE OR REPLACE FUNCTION customer_tier.set_churn_rules(program text, rules jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'Pass a JSON object of thresholds, e.g. {"silent_gap_factor": 2.5, "lapsed_days": 120}.';
    ratios constant text[] := '{frequency_drop_ratio,p_alive_below,lost_p_alive_below}';
    prog customer_tier.program;
    cur jsonb;
    accepted text[];
    key text;
    val jsonb;
    num numeric;
    old_window numeric;
    result customer_tier.churn_settings;
BEGIN
    IF program IS NULL OR rules IS NULL THEN
        RAISE EXCEPTION 'program and rules must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = example;
    END IF;
    prog := customer_tier.program_row(program);
    IF jsonb_typeof(rules) <> 'object' THEN
        RAISE EXCEPTION 'rules must be a JSON object, not %', jsonb_typeof(rules)
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    INSERT INTO customer_tier.churn_settings (program) VALUES (prog.name) ON CONFLICT DO NOTHING;
    SELECT to_jsonb(s) - 'program' INTO cur
      FROM customer_tier.churn_settings AS s WHERE s.program = prog.name FOR UPDATE;
    accepted := ARRAY(SELECT k FROM jsonb_object_keys(cur) AS k ORDER BY k);
    old_window := (cur ->> 'frequency_window_days')::numeric;
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(rules) AS e ORDER BY e.key LOOP
        IF key <> ALL (accepted) THEN
            RAISE EXCEPTION 'unknown churn rule "%"', key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The accepted keys are: %s.', array_to_string(accepted, ', '));
        END IF;
        IF jsonb_typeof(val) <> 'number' THEN
            RAISE EXCEPTION 'churn rule % must be a JSON number, not %', key, jsonb_typeof(val)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = format('Write the value without quotes, e.g. {"%s": 3}; NaN and Infinity are not numbers.', key);
        END IF;
        num := val::numeric;
        IF num < 0 THEN
            RAISE EXCEPTION 'churn rule % must not be negative, not %', key, num
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF key = ANY (ratios) AND num > 1 THEN
            RAISE EXCEPTION 'churn rule % must be between 0 and 1, not %', key, num
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'It is compared with a probability or a ratio.';
        END IF;
        IF key = 'frequency_window_days' AND NOT (num >= 1 AND num <= 36525 AND num = trunc(num)) THEN
            RAISE EXCEPTION 'churn rule frequency_window_days must be a whole number of days from 1 to 36525, not %', num
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The windows are counted in whole UTC days, e.g. 90.';
        END IF;
        IF key = 'frequency_min_previous' AND (num < 1 OR num <> trunc(num) OR num > 2147483647) THEN
            RAISE EXCEPTION 'churn rule frequency_min_previous must be a whole number of at least 1, not %', num
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF key = 'clv_horizon_weeks' AND num > 520 THEN
            RAISE EXCEPTION 'churn rule clv_horizon_weeks must be at most 520, not %', num
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Ten years of weeks is the longest horizon.';
        END IF;
        IF num >= 1e300 THEN
            RAISE EXCEPTION 'churn rule % must be below 1e300', key
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        cur := jsonb_set(cur, ARRAY[key], val);
    END LOOP;
    IF (cur ->> 'lost_days')::numeric < (cur ->> 'lapsed_days')::numeric THEN
        RAISE EXCEPTION 'churn rule lost_days (%) must not be below lapsed_days (%)',
                        cur ->> 'lost_days', cur ->> 'lapsed_days'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A customer is lapsed before being lost.';
    END IF;
    result := jsonb_populate_record(NULL::customer_tier.churn_settings,
                                    cur || jsonb_build_object('program', prog.name));
    UPDATE customer_tier.churn_settings AS s
       SET (silent_gap_factor, silent_floor_days, frequency_window_days, frequency_drop_ratio,
            frequency_min_previous, p_alive_below, satisfaction_below, new_days, lapsed_days,
            lost_days, lost_p_alive_below, won_back_days, clv_horizon_weeks, clv_discount_rate,
            clv_margin) =
           (result.silent_gap_factor, result.silent_floor_days, result.frequency_window_days,
            result.frequency_drop_ratio, result.frequency_min_previous, result.p_alive_below,
            result.satisfaction_below, result.new_days, result.lapsed_days, result.lost_days,
            result.lost_p_alive_below, result.won_back_days, result.clv_horizon_weeks,
            result.clv_discount_rate, result.clv_margin)
     WHERE s.program = prog.name;
    -- the stored states keep the day counts of two windows: a new width needs them again
    IF (cur ->> 'frequency_window_days')::numeric IS DISTINCT FROM old_window THEN
        PERFORM customer_tier.rebuild_program(prog.name);
    END IF;
    PERFORM customer_tier.rescore_program(prog.name, 'set_churn_rules');
    RETURN cur;
END
$$;
COMMENT ON FUNCTION customer_tier.set_churn_rules(text, jsonb) IS
    'change some of a program''s churn and lifecycle thresholds (a JSON object of churn_settings columns), validated, then rescore it; returns all settings';
REVOKE ALL ON FUNCTION customer_tier.set_churn_rules(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.set_churn_rules(text, jsonb) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== the run log's numbering survives a restore ====
-- 0.2.0 registered the run log for pg_dump but not its identity sequence: a
-- restored database numbered new runs from 1 again and its first runs failed.
SELECT pg_catalog.pg_extension_config_dump('customer_tier.run_id_seq', '');

-- ==== a model that cannot be fitted says why (the fit's detail and hint) ====
-- customer_tier.fit_program_model(text, bigint): sql/install/72_churn.sql
CREATE OR REPLACE FUNCTION customer_tier.fit_program_model(program text, run bigint DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    bg customer_tier.bgnbd_model;
    gg customer_tier.gamma_gamma_model;
    bg_problem text;
    gg_problem text;
    bg_detail text;
    gg_detail text;
    bg_hint text;
    gg_hint text;
    note text;
    population bigint;
    sample text := 'true';
    -- the sample's summaries (btyd_summary), column by column
    xs integer[];
    t_xs double precision[];
    ts double precision[];
    order_counts integer[];
    mean_spends double precision[];
BEGIN
    prog := customer_tier.program_row(program);
    EXECUTE format('SELECT pg_catalog.count(*) FROM %I.customers', prog.data_schema) INTO population;
    IF population > 20000 THEN
        sample := format('(pg_catalog.hashtext(c.customer::text) & 1048575) < %s',
                         ceil(1048576.0 * 20000 / population)::bigint);
    END IF;
    -- the sample's summaries, read once for both fits
    EXECUTE format($sql$
        SELECT pg_catalog.array_agg(s.x), pg_catalog.array_agg(s.t_x), pg_catalog.array_agg(s.t),
               pg_catalog.array_agg(s.orders), pg_catalog.array_agg(s.mean_spend)
          FROM %I.customers AS c,
               LATERAL customer_tier.btyd_summary(c.purchases, c.monetary, %L::timestamptz) AS s
         WHERE %s$sql$, prog.data_schema, customer_tier.program_as_of(prog.name), sample)
      INTO xs, t_xs, ts, order_counts, mean_spends;
    BEGIN
        SELECT (f.model).* INTO bg
          FROM (SELECT customer_tier.bgnbd_fit(u.x, u.t_x, u.t) AS model
                  FROM ROWS FROM (pg_catalog.unnest(xs), pg_catalog.unnest(t_xs), pg_catalog.unnest(ts)) AS u(x, t_x, t)) AS f;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS bg_problem = MESSAGE_TEXT, bg_detail = PG_EXCEPTION_DETAIL,
                                bg_hint = PG_EXCEPTION_HINT;
        bg := NULL;
    END;
    BEGIN
        SELECT (f.model).* INTO gg
          FROM (SELECT customer_tier.gamma_gamma_fit(u.orders,
                           10 ^ (pg_catalog.round(50 * pg_catalog.log(u.mean_spend)) / 50)) AS model
                  FROM ROWS FROM (pg_catalog.unnest(order_counts), pg_catalog.unnest(mean_spends)) AS u(orders, mean_spend)) AS f;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR numeric_value_out_of_range OR program_limit_exceeded THEN
        GET STACKED DIAGNOSTICS gg_problem = MESSAGE_TEXT, gg_detail = PG_EXCEPTION_DETAIL,
                                gg_hint = PG_EXCEPTION_HINT;
        gg := NULL;
    END;
    -- the fit's own message and detail ("Parameter b ran off towards infinity ...")
    note := nullif(concat_ws('; ',
                             'bg/nbd: ' || bg_problem || coalesce(': ' || nullif(rtrim(bg_detail, '.'), ''), '')
                                 || ' (previous model kept)',
                             'gamma-gamma: ' || gg_problem || coalesce(': ' || nullif(rtrim(gg_detail, '.'), ''), '')
                                 || ' (previous model kept)'), '');
    INSERT INTO customer_tier.program_model AS m
           (program, bgnbd, bgnbd_fitted_at, gamma_gamma, gamma_gamma_fitted_at, attempted_at, run, problem)
    VALUES (prog.name, bg, CASE WHEN bg IS NOT NULL THEN now() END,
            gg, CASE WHEN gg IS NOT NULL THEN now() END, now(), fit_program_model.run, note)
    ON CONFLICT ON CONSTRAINT program_model_pkey DO UPDATE
       SET bgnbd = coalesce(excluded.bgnbd, m.bgnbd),
           bgnbd_fitted_at = coalesce(excluded.bgnbd_fitted_at, m.bgnbd_fitted_at),
           gamma_gamma = coalesce(excluded.gamma_gamma, m.gamma_gamma),
           gamma_gamma_fitted_at = coalesce(excluded.gamma_gamma_fitted_at, m.gamma_gamma_fitted_at),
           attempted_at = excluded.attempted_at, run = excluded.run, problem = excluded.problem;
    IF note IS NOT NULL THEN
        RAISE NOTICE 'program "%": a model could not be fitted', prog.name
            USING DETAIL = note || '.',
                  HINT = concat_ws(' ', nullif(bg_hint, ''), CASE WHEN gg_hint IS DISTINCT FROM bg_hint THEN nullif(gg_hint, '') END,
                                   'Scoring goes on with the previous model, or without p_alive and CLV if there is none; the next run tries again.');
    END IF;
    RETURN note;
END
$$;
COMMENT ON FUNCTION customer_tier.fit_program_model(text, bigint) IS
    'fit a program''s BG/NBD and Gamma-Gamma models over its customers (weeks) and store them; a failed fit keeps the previous model and is reported, never raised';
REVOKE ALL ON FUNCTION customer_tier.fit_program_model(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.fit_program_model(text, bigint) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== the one scoring path in C (docs/architecture.md) ====
-- The runs score through scored_row, on the program's own row type, with the
-- configuration cached in C as the trigger path does; the 27-argument
-- score_program_customer and the SQL fragment that called it go.
DROP FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text, text);
DROP FUNCTION customer_tier.score_program_customer(double precision[], customer_tier.bgnbd_model,
    customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text,
    timestamptz, text, timestamptz, bigint, timestamptz, double precision[], double precision[],
    double precision[], double precision[], double precision[], text[], text, timestamptz, timestamptz,
    text, integer, interval, timestamptz, double precision[], text);
-- customer_tier.program_scored_columns(): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.program_scored_columns()
RETURNS text
AS 'MODULE_PATHNAME', 'program_scored_columns'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.program_scored_columns() IS
    'the per-customer columns the scoring of a program sets, in order';
REVOKE ALL ON FUNCTION customer_tier.program_scored_columns() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_scored_columns() TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.scored_row(text, anyelement, text): sql/install/64_program_scoring.sql
CREATE FUNCTION customer_tier.scored_row(program text, customer anyelement, source text)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'scored_row'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.scored_row(text, anyelement, text) IS
    'a customer''s row of a program''s customers table with every scored column set by the one scoring path';
REVOKE ALL ON FUNCTION customer_tier.scored_row(text, anyelement, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.scored_row(text, anyelement, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.scored_row(text, anyelement, text, text): sql/install/64_program_scoring.sql
CREATE FUNCTION customer_tier.scored_row(program text, customer anyelement, source text, abc_class text)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'scored_row'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.scored_row(text, anyelement, text, text) IS
    'a customer''s row of a program''s customers table with its ABC class set and every scored column set by the one scoring path';
REVOKE ALL ON FUNCTION customer_tier.scored_row(text, anyelement, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.scored_row(text, anyelement, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.rescore_where(text, text, text, text): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.rescore_where(program text, source text, condition text,
                                            abc text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    prog customer_tier.program;
    changed bigint;
    scored text[] := pg_catalog.string_to_array(customer_tier.program_scored_columns(), ', ');
    compared text[] := pg_catalog.array_remove(scored, 'changed_by');
    scoring text;
BEGIN
    prog := customer_tier.program_row(program);
    IF abc IS NOT NULL THEN
        scored := scored || 'abc_class'::text;
        compared := compared || 'abc_class'::text;
    END IF;
    -- a sub-select computing the row once (OFFSET 0), whose fields the
    -- statement takes: a function in FROM would go through a tuplestore
    scoring := format('(SELECT customer_tier.scored_row(%L, c, %L%s) AS x OFFSET 0) AS s',
                      prog.name, source, CASE WHEN abc IS NULL THEN '' ELSE ', ' || abc END);
    EXECUTE format($sql$
        WITH updated AS (
            UPDATE %1$I.customers AS c
               SET (%2$s) = (SELECT %3$s FROM %4$s)
             WHERE (%5$s)
               AND (SELECT (%6$s) IS DISTINCT FROM (%7$s) FROM %4$s)
             RETURNING c.tier_since OPERATOR(pg_catalog.=) %8$L::timestamptz AS changed)
        SELECT pg_catalog.count(*) FILTER (WHERE u.changed) FROM updated AS u$sql$,
        prog.data_schema,
        pg_catalog.array_to_string(scored, ', '),
        (SELECT pg_catalog.string_agg('(s.x).' || pg_catalog.quote_ident(n), ', ') FROM pg_catalog.unnest(scored) AS n),
        scoring,
        condition,
        (SELECT pg_catalog.string_agg('(s.x).' || pg_catalog.quote_ident(n), ', ') FROM pg_catalog.unnest(compared) AS n),
        (SELECT pg_catalog.string_agg('c.' || pg_catalog.quote_ident(n), ', ') FROM pg_catalog.unnest(compared) AS n),
        -- a changed tier's tier_since is the instant scored against
        customer_tier.program_as_of(program))
      INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION customer_tier.rescore_where(text, text, text, text) IS
    'score the customers of a program that satisfy a condition through the one scoring path (with abc, the ABC class expression of a run), writing only those whose scores change; returns how many changed tier';
REVOKE ALL ON FUNCTION customer_tier.rescore_where(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.rescore_where(text, text, text, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== follow-ups and the churn list at screen speed (issue 16) ====
-- Each customer stores its tier's rank, its rise into the tier, its last
-- contact and when its next contact falls due, kept by the one scoring path;
-- the cadences are part of the cached configuration; the contacts table gets
-- a trigger; follow_ups_due and churn_risk read an index (the programs'
-- columns, indexes and views are made in the loop below).
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON customer_tier.cadence
    FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.config_changed();
ALTER TABLE customer_tier.cadence ENABLE ALWAYS TRIGGER config_changed;
-- customer_tier.program_config_cte_sql(customer_tier.program): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.program_config_cte_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$cfg AS MATERIALIZED (
        SELECT p.name, p.r_breakpoints, p.f_breakpoints, p.m_breakpoints, p.score_weights,
               p.downgrade_grace, tc.rules, tc.model_rules, tc.tiers,
               EXISTS (SELECT FROM customer_tier.pin AS pin
                        WHERE pin.program OPERATOR(pg_catalog.=) p.name) AS has_pins,
               (SELECT customer_tier.churn_settings_array(cs) FROM customer_tier.churn_settings AS cs
                 WHERE cs.program OPERATOR(pg_catalog.=) p.name) AS churn,
               pm.bgnbd AS bg, pm.gamma_gamma AS gg,
               (SELECT pg_catalog.array_agg(coalesce(cd.every, customer_tier.default_cadence(t.tier))
                                            ORDER BY t.rank)
                  FROM customer_tier.tier AS t
                  LEFT JOIN customer_tier.cadence AS cd
                    ON cd.program OPERATOR(pg_catalog.=) t.program AND cd.tier OPERATOR(pg_catalog.=) t.tier
                 WHERE t.program OPERATOR(pg_catalog.=) p.name) AS cadences
          FROM customer_tier.program AS p
          LEFT JOIN customer_tier.program_model AS pm ON pm.program OPERATOR(pg_catalog.=) p.name
          CROSS JOIN LATERAL customer_tier.program_tier_config(p.name) AS tc
         WHERE p.name OPERATOR(pg_catalog.=) %L)$sql$, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) IS
    'SQL text of the CTE holding a program''s scoring configuration for one statement';
REVOKE ALL ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_config_cte_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_churn_risk_view_sql(customer_tier.program): sql/install/66_program_views.sql
CREATE OR REPLACE FUNCTION customer_tier.program_churn_risk_view_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    RETURN concat_ws(E';\n',
        format($sql$
            CREATE INDEX customers_churn_risk
                ON %1$I.customers ((coalesce(predicted_clv, '-Infinity')), monetary, customer)
             WHERE cardinality(churn_flags) > 0 AND lifecycle IS DISTINCT FROM 'lost';
            CREATE VIEW %1$I.churn_risk AS
            SELECT c.customer, c.tier, c.lifecycle, c.churn_flags, c.churn_reasons,
                   c.predicted_clv AS value_at_stake, c.p_alive, c.monetary, c.orders, c.last_order,
                   (EXTRACT(EPOCH FROM (SELECT customer_tier.program_as_of(%2$L)) - c.last_order) / 86400)::double precision AS days_silent,
                   c.mean_gap_days, c.recent_satisfaction,
                   coalesce(c.predicted_clv, '-Infinity') AS stake_order
              FROM %1$I.customers AS c
             WHERE cardinality(c.churn_flags) > 0
               AND c.lifecycle IS DISTINCT FROM 'lost'
             ORDER BY coalesce(c.predicted_clv, '-Infinity') DESC, c.monetary DESC, c.customer DESC
        $sql$, s, prog.name),
        format('COMMENT ON VIEW %I.churn_risk IS %L', s,
                   format('program %s: customers at risk of churning (a churn flag raised, not lost yet), the most valuable first (predicted CLV, then monetary value)',
                          prog.name)),
        format($sql$
            COMMENT ON COLUMN %1$I.churn_risk.customer IS %2$L;
            COMMENT ON COLUMN %1$I.churn_risk.tier IS 'current tier';
            COMMENT ON COLUMN %1$I.churn_risk.lifecycle IS 'lifecycle stage: at risk, or lapsed';
            COMMENT ON COLUMN %1$I.churn_risk.churn_flags IS 'churn flags raised: silent, frequency_falling, low_p_alive, low_satisfaction';
            COMMENT ON COLUMN %1$I.churn_risk.churn_reasons IS 'the reason of each flag, in the order of churn_flags';
            COMMENT ON COLUMN %1$I.churn_risk.value_at_stake IS 'predicted CLV over the program''s horizon: what losing the customer costs; NULL without fitted models';
            COMMENT ON COLUMN %1$I.churn_risk.p_alive IS 'BG/NBD probability that the customer is still active; NULL without a model';
            COMMENT ON COLUMN %1$I.churn_risk.monetary IS 'net monetary value so far';
            COMMENT ON COLUMN %1$I.churn_risk.orders IS 'number of counted purchases';
            COMMENT ON COLUMN %1$I.churn_risk.last_order IS 'time of the last purchase';
            COMMENT ON COLUMN %1$I.churn_risk.days_silent IS 'days from the last purchase to the instant the program scores against (now, unless it has a scoring date)';
            COMMENT ON COLUMN %1$I.churn_risk.mean_gap_days IS 'the customer''s usual gap: mean days between purchases; NULL with fewer than two';
            COMMENT ON COLUMN %1$I.churn_risk.recent_satisfaction IS 'recent satisfaction on 0..10; NULL = no feedback';
            COMMENT ON COLUMN %1$I.churn_risk.stake_order IS 'value_at_stake, -Infinity without one: (stake_order, monetary, customer) descending is the list''s order and its page key'
        $sql$, s, format('the customer key, in the type of %s.%I (%s): join on it with no cast',
                         prog.orders_table, prog.customer_column, prog.customer_type)));
END
$$;
COMMENT ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) IS
    'SQL text that creates the view churn_risk of a program''s schema, with its comments';
REVOKE ALL ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_churn_risk_view_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.set_cadence(text, jsonb): sql/install/82_contacts.sql
CREATE OR REPLACE FUNCTION customer_tier.set_cadence(program text, cadences jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'Pass an object from tier to interval, e.g. {"diamond": "30 days", "gold": "2 months", "normal": 180}; a number is days, null restores the default.';
    prog customer_tier.program;
    tiers text[];
    key text;
    val jsonb;
    every interval;
    n integer := 0;
BEGIN
    IF program IS NULL OR cadences IS NULL THEN
        RAISE EXCEPTION 'program and cadences must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = example;
    END IF;
    prog := customer_tier.program_row(program);
    IF jsonb_typeof(cadences) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'cadences must be a JSON object, not %', jsonb_typeof(cadences)
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    IF cadences OPERATOR(pg_catalog.=) '{}'::jsonb THEN
        RAISE EXCEPTION 'cadences must name at least one tier'
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    SELECT array_agg(t.tier ORDER BY t.rank) INTO tiers
      FROM customer_tier.tier AS t WHERE t.program OPERATOR(pg_catalog.=) prog.name;
    -- validate every entry before changing anything
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(cadences) AS e ORDER BY e.key LOOP
        IF NOT key OPERATOR(pg_catalog.=) ANY (tiers) THEN
            RAISE EXCEPTION 'unknown tier "%" of program "%"', key, prog.name
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The program''s tiers are: %s.', array_to_string(tiers, ', ')),
                      HINT = 'Name tiers of the program; customer_tier.cadences(program) lists them.';
        END IF;
        CASE jsonb_typeof(val)
        WHEN 'null' THEN
            CONTINUE;
        WHEN 'string' THEN
            BEGIN
                every := (val #>> '{}')::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow
                           OR invalid_parameter_value OR numeric_value_out_of_range THEN
                RAISE EXCEPTION 'invalid cadence % for tier "%"', val, key
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The value is not an interval.', HINT = example;
            END;
        WHEN 'number' THEN
            BEGIN
                every := (val #>> '{}')::double precision OPERATOR(pg_catalog.*) interval '1 day';
            EXCEPTION WHEN interval_field_overflow OR datetime_field_overflow OR numeric_value_out_of_range THEN
                RAISE EXCEPTION 'invalid cadence %... for tier "%"', left(val::text, 20), key
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The number of days is out of range.', HINT = example;
            END;
        ELSE
            RAISE EXCEPTION 'cadence of tier "%" must be a string, a number or null, not %', key, jsonb_typeof(val)
                USING ERRCODE = 'invalid_parameter_value', HINT = example;
        END CASE;
        IF every OPERATOR(pg_catalog.<=) '0' THEN
            RAISE EXCEPTION 'cadence of tier "%" must be positive, not %', key, every
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A cadence says how often to contact the tier''s customers, e.g. "30 days".';
        END IF;
    END LOOP;
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(cadences) AS e ORDER BY e.key LOOP
        IF jsonb_typeof(val) OPERATOR(pg_catalog.=) 'null' THEN
            DELETE FROM customer_tier.cadence AS c
             WHERE c.program OPERATOR(pg_catalog.=) prog.name AND c.tier OPERATOR(pg_catalog.=) key;
        ELSE
            every := CASE jsonb_typeof(val) WHEN 'string' THEN (val #>> '{}')::interval
                     ELSE (val #>> '{}')::double precision OPERATOR(pg_catalog.*) interval '1 day' END;
            INSERT INTO customer_tier.cadence AS c (program, tier, every) VALUES (prog.name, key, every)
            ON CONFLICT ON CONSTRAINT cadence_pkey DO UPDATE SET every = excluded.every;
        END IF;
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    -- the customers of those tiers are due on the new cadence
    PERFORM customer_tier.rescore_where(prog.name, 'set_cadence',
        format('c.tier OPERATOR(pg_catalog.=) ANY (%L::text[])',
               (SELECT array_agg(k) FROM jsonb_object_keys(cadences) AS k)));
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.set_cadence(text, jsonb) IS
    'set the contact cadence of some tiers of a program from a JSON object tier -> interval (a number is days, null restores the default); returns the tiers named';
REVOKE ALL ON FUNCTION customer_tier.set_cadence(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.set_cadence(text, jsonb) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_contact_objects(customer_tier.program): sql/install/82_contacts.sql
CREATE OR REPLACE FUNCTION customer_tier.create_contact_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.contacts (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer     %2$s NOT NULL,
            channel      text NOT NULL
                         CONSTRAINT contacts_channel CHECK (channel IN ('phone', 'email', 'visit', 'other')),
            contacted_at timestamptz NOT NULL DEFAULT pg_catalog.now()
                         CONSTRAINT contacts_contacted_at_finite CHECK (pg_catalog.isfinite(contacted_at)),
            outcome      text,
            note         text,
            logged_by    name NOT NULL DEFAULT CURRENT_USER,
            logged_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
        );
        CREATE INDEX ON %1$I.contacts (customer, contacted_at);
        COMMENT ON TABLE %1$I.contacts IS %3$L;
        COMMENT ON COLUMN %1$I.contacts.id IS 'contact number, in the order contacts were logged';
        COMMENT ON COLUMN %1$I.contacts.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.contacts.channel IS 'phone, email, visit or other';
        COMMENT ON COLUMN %1$I.contacts.contacted_at IS 'when the customer was contacted';
        COMMENT ON COLUMN %1$I.contacts.outcome IS 'what came of it, in the CRM''s own words (e.g. reached, no answer, order placed)';
        COMMENT ON COLUMN %1$I.contacts.note IS 'free text; personal data: not readable by the reader role';
        COMMENT ON COLUMN %1$I.contacts.logged_by IS 'the role that logged the contact';
        COMMENT ON COLUMN %1$I.contacts.logged_at IS 'when the contact was logged'
    $sql$, s, prog.customer_type,
        format('program %s: the contact log; every contact counts for the cadence, whatever its outcome', prog.name));

    PERFORM customer_tier.put_contacts_triggers(prog);
    PERFORM customer_tier.create_follow_ups_view(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) IS
    'create a program''s contacts table, its triggers and the follow_ups_due view';
REVOKE ALL ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list


-- customer_tier.maintain_contacts(): sql/install/82_contacts.sql
CREATE FUNCTION customer_tier.maintain_contacts()
RETURNS trigger
AS 'MODULE_PATHNAME', 'maintain_contacts'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.maintain_contacts() IS
    'the trigger function of every program on its contacts table; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.maintain_contacts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.maintain_contacts() TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.forget_last_contacts(text): sql/install/82_contacts.sql
CREATE FUNCTION customer_tier.forget_last_contacts(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(program);
BEGIN
    EXECUTE format('UPDATE %I.customers AS c SET last_contact_at = NULL, follow_up_due_at = ''-infinity'''
                   ' WHERE c.last_contact_at IS NOT NULL', prog.data_schema);
    PERFORM customer_tier.rescore_where(prog.name, 'trigger TRUNCATE contacts',
                                        'c.follow_up_due_at OPERATOR(pg_catalog.=) ''-infinity''');
END
$$;
COMMENT ON FUNCTION customer_tier.forget_last_contacts(text) IS
    'after a TRUNCATE of a program''s contacts: forget every customer''s last contact and score them again';
REVOKE ALL ON FUNCTION customer_tier.forget_last_contacts(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.forget_last_contacts(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.put_contacts_triggers(customer_tier.program): sql/install/82_contacts.sql
CREATE FUNCTION customer_tier.put_contacts_triggers(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER last_contact_insert AFTER INSERT ON %1$I.contacts REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L);
        CREATE TRIGGER last_contact_update AFTER UPDATE ON %1$I.contacts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L);
        CREATE TRIGGER last_contact_delete AFTER DELETE ON %1$I.contacts REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L);
        CREATE TRIGGER last_contact_truncate AFTER TRUNCATE ON %1$I.contacts
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L)$sql$,
        prog.data_schema, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.put_contacts_triggers(customer_tier.program) IS
    'put a program''s triggers on its contacts table: each customer''s last contact and due time stay current';
REVOKE ALL ON FUNCTION customer_tier.put_contacts_triggers(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.put_contacts_triggers(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.follow_up_priority_sql(text): sql/install/82_contacts.sql
CREATE FUNCTION customer_tier.follow_up_priority_sql(alias text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.format('((4 - coalesce(pg_catalog.cardinality(%1$s.churn_flags), 0)) * 1000'
                         ' + (100 - coalesce(%1$s.value_score, -1)))', alias);
COMMENT ON FUNCTION customer_tier.follow_up_priority_sql(text) IS
    'SQL expression of a customer''s priority within its tier on the follow-up list (lower first)';
REVOKE ALL ON FUNCTION customer_tier.follow_up_priority_sql(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.follow_up_priority_sql(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_follow_ups_view(customer_tier.program): sql/install/82_contacts.sql
CREATE FUNCTION customer_tier.create_follow_ups_view(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    -- Due once follow_up_due_at, stored with the customer by the scoring
    -- path, has passed; most important first (tier, then churn flags and
    -- value score, then the longest overdue): an index scan to any page.
    EXECUTE format('CREATE INDEX customers_follow_ups ON %I.customers (tier_rank, (%s), follow_up_due_at, customer)',
                   s, customer_tier.follow_up_priority_sql('customers'));
    EXECUTE format($sql$
        CREATE VIEW %1$I.follow_ups_due AS
        SELECT c.tier_rank, %3$s AS priority, c.follow_up_due_at AS due_at, c.customer, c.tier,
               CASE WHEN c.rose_at > coalesce(c.last_contact_at, '-infinity') THEN 'welcome'
                    WHEN c.last_contact_at IS NULL THEN 'never contacted'
                    ELSE 'cadence' END AS reason,
               pg_catalog.floor(pg_catalog.date_part('epoch', (SELECT customer_tier.program_as_of(%2$L)) - c.follow_up_due_at) / 86400)::integer AS days_overdue,
               coalesce((SELECT cd.every FROM customer_tier.cadence AS cd
                          WHERE cd.program = %2$L AND cd.tier = c.tier),
                        customer_tier.default_cadence(c.tier)) AS cadence,
               c.last_contact_at, k.channel AS last_channel, k.outcome AS last_outcome, c.tier_since,
               c.value_score, c.monetary, c.last_order, c.churn_flags
          FROM %1$I.customers AS c
          LEFT JOIN LATERAL (SELECT l.channel, l.outcome FROM %1$I.contacts AS l
                              WHERE l.customer = c.customer AND l.contacted_at = c.last_contact_at
                              ORDER BY l.id DESC LIMIT 1) AS k ON true
         WHERE c.follow_up_due_at <= (SELECT customer_tier.program_as_of(%2$L))
         ORDER BY c.tier_rank, %3$s, c.follow_up_due_at, c.customer
    $sql$, s, prog.name, customer_tier.follow_up_priority_sql('c'));
    EXECUTE format('COMMENT ON VIEW %I.follow_ups_due IS %L', s,
                   format('program %s: customers due for a contact, most important first: best tier, then most churn flags, then highest value score, then longest overdue',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.follow_ups_due.tier_rank IS 'rank of the current tier, 1 = best: the list''s first order; filter on it to page through one tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.priority IS 'order within the tier, lower first: most churn flags first (thousands), then highest value score; (tier_rank, priority, due_at, customer) is the list''s order and its page key';
        COMMENT ON COLUMN %1$I.follow_ups_due.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.follow_ups_due.tier IS 'current tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.reason IS 'welcome (the tier rose after the last contact), never contacted (the cadence has run out since the first order), cadence (it has run out since the last contact)';
        COMMENT ON COLUMN %1$I.follow_ups_due.due_at IS 'since when the contact is due';
        COMMENT ON COLUMN %1$I.follow_ups_due.days_overdue IS 'whole days since due_at (0 on the day it fell due)';
        COMMENT ON COLUMN %1$I.follow_ups_due.cadence IS 'the contact cadence of the tier (customer_tier.cadences)';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_contact_at IS 'when the customer was last contacted; NULL if never';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_channel IS 'channel of the last contact';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_outcome IS 'outcome of the last contact';
        COMMENT ON COLUMN %1$I.follow_ups_due.tier_since IS 'when the customer entered the current tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.value_score IS 'weighted value score 0..100';
        COMMENT ON COLUMN %1$I.follow_ups_due.monetary IS 'net monetary value';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_order IS 'time of the last purchase';
        COMMENT ON COLUMN %1$I.follow_ups_due.churn_flags IS 'churn flags raised (segments.churn_flags); more flags, higher priority within a tier'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_follow_ups_view(customer_tier.program) IS
    'create a program''s follow_ups_due view, served by an index on its customers';
REVOKE ALL ON FUNCTION customer_tier.create_follow_ups_view(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_follow_ups_view(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list


-- ==== summaries without a hot row (issue 16) and the change feed (issue 17) ====
-- tier_summary and the new segment_summary sum each program's summary_deltas,
-- which every write of its customers adds to; the same writes make the
-- program's change feed (events, event_consumers, event_deliveries); the
-- programs' tables, triggers and views are made in the loop below.
-- customer_tier.verify_program(text): sql/install/63_program_verify.sql
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
                   pg_catalog.count(*) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.>=) '0') AS orders,
                   pg_catalog.sum(o.%3$I::numeric) AS monetary,
                   customer_tier.order_stats(o.%4$I, o.%3$I) FILTER (WHERE o.%3$I OPERATOR(pg_catalog.>=) '0') AS s
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
          FULL JOIN recomputed AS r ON r.customer OPERATOR(pg_catalog.=) m.customer
         WHERE m.customer IS NULL OR r.customer IS NULL
            OR (m.orders, m.monetary, m.first_order, m.last_order)
               IS DISTINCT FROM (r.orders, r.monetary, r.first_order, r.last_order)
            -- gaps are floating point: equal to the last few bits
            OR pg_catalog.abs(coalesce(m.mean_gap_days, -1) OPERATOR(pg_catalog.-) coalesce(r.mean_gap_days, -1))
               OPERATOR(pg_catalog.>) 1e-9
            OR pg_catalog.abs(coalesce(m.gap_stddev_days, -1) OPERATOR(pg_catalog.-) coalesce(r.gap_stddev_days, -1))
               OPERATOR(pg_catalog.>) 1e-9
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
                        SELECT c.tier, c.segment,
                               coalesce(pg_catalog.cardinality(c.churn_flags) OPERATOR(pg_catalog.>) 0
                                        AND c.lifecycle IS DISTINCT FROM 'lost', false),
                               false, 1, c.monetary, coalesce(c.value_score::numeric, 0),
                               CASE WHEN c.value_score IS NULL THEN 0 ELSE 1 END
                          FROM %1$I.customers AS c) AS x
                 GROUP BY x.tier, x.segment, x.at_risk) AS g
         WHERE g.kept OPERATOR(pg_catalog.<>) g.counted
         ORDER BY 1$sql$,
        prog.data_schema, prog.customer_column, prog.amount_column, prog.ordered_at_column,
        prog.orders_table, customer_tier.program_row_counts_sql(prog, 'o'));
END
$$;
COMMENT ON FUNCTION customer_tier.verify_program(text) IS
    'differences between a program''s maintained customers and a recomputation from its orders table; none means no drift';
REVOKE ALL ON FUNCTION customer_tier.verify_program(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.verify_program(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_program_views(customer_tier.program): sql/install/66_program_views.sql
CREATE OR REPLACE FUNCTION customer_tier.create_program_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    -- from tier, from rank, to rank, to tier; two different tiers of the
    -- program have different ranks
    movement constant text := $sql$CASE WHEN %1$s IS NULL THEN 'new'
                WHEN %1$s = %4$s THEN 'unchanged'
                WHEN %2$s IS NULL OR %3$s IS NULL THEN NULL
                WHEN %3$s < %2$s THEN 'upgrade'
                ELSE 'downgrade' END$sql$;
BEGIN
    EXECUTE customer_tier.program_segments_view_sql(prog);
    EXECUTE customer_tier.program_churn_risk_view_sql(prog);

    EXECUTE format($sql$
        CREATE VIEW %1$I.tier_changes AS
        SELECT h.id, h.customer, h.changed_at, h.from_tier, f.rank AS from_rank, h.to_tier, t.rank AS to_rank,
               %3$s AS movement,
               h.reason, h.source
          FROM %1$I.tier_history AS h
          LEFT JOIN customer_tier.tier AS f ON f.program = %2$L AND f.tier = h.from_tier
          LEFT JOIN customer_tier.tier AS t ON t.program = %2$L AND t.tier = h.to_tier
    $sql$, s, prog.name, format(movement, 'h.from_tier', 'f.rank', 't.rank', 'h.to_tier'));
    EXECUTE format('COMMENT ON VIEW %I.tier_changes IS %L', s,
                   format('program %s: every change of a customer''s tier (tier_history) with the ranks of both tiers, and whether it was an upgrade or a downgrade',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.tier_changes.id IS 'change number, in the order changes were made';
        COMMENT ON COLUMN %1$I.tier_changes.customer IS %2$L;
        COMMENT ON COLUMN %1$I.tier_changes.changed_at IS 'when (the time of the transaction that made the change)';
        COMMENT ON COLUMN %1$I.tier_changes.from_tier IS 'the tier before; NULL for a customer''s first tier';
        COMMENT ON COLUMN %1$I.tier_changes.from_rank IS 'today''s rank of from_tier, 1 = best; NULL if it is not one of the program''s tiers now';
        COMMENT ON COLUMN %1$I.tier_changes.to_tier IS 'the tier after';
        COMMENT ON COLUMN %1$I.tier_changes.to_rank IS 'today''s rank of to_tier, 1 = best; NULL if it is not one of the program''s tiers now';
        COMMENT ON COLUMN %1$I.tier_changes.movement IS 'new (no tier before), unchanged (the same tier), upgrade (to a better rank), downgrade (to a worse rank); NULL when a tier has no rank today';
        COMMENT ON COLUMN %1$I.tier_changes.reason IS 'the reason the scoring gave: new, upgrade, downgrade or pinned';
        COMMENT ON COLUMN %1$I.tier_changes.source IS 'what made the change: trigger INSERT/UPDATE/DELETE, create_program, a pin or a run'
    $sql$, s, format('the customer key (%s)', prog.customer_type));

    PERFORM customer_tier.create_summary_views(prog);

    -- A function rather than a view because it takes two times.  It reads
    -- the views, not the tables, so whoever may read them may call it.
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.migration(from_date timestamptz, to_date timestamptz)
        RETURNS TABLE (from_tier text, from_rank integer, to_tier text, to_rank integer,
                       movement text, customers bigint, revenue numeric)
        LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
        SET search_path = pg_catalog, pg_temp
        AS $body$
        #variable_conflict use_column
        BEGIN
            IF from_date IS NULL OR to_date IS NULL THEN
                RAISE EXCEPTION 'from_date and to_date must not be null'
                    USING ERRCODE = 'null_value_not_allowed',
                          HINT = 'Pass two times, e.g. %1$I.migration(now() - interval ''30 days'', now()); ''-infinity'' as from_date counts every customer as new.';
            END IF;
            IF from_date > to_date THEN
                RAISE EXCEPTION 'from_date (%%) must not be after to_date (%%)', from_date, to_date
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The matrix compares each customer''s tier at from_date with the tier at the later to_date.',
                          HINT = 'Swap the two arguments.';
            END IF;
            RETURN QUERY
            WITH at_to AS (
                SELECT DISTINCT ON (h.customer) h.customer, h.to_tier, h.to_rank
                  FROM %1$I.tier_changes AS h
                 WHERE h.changed_at <= to_date
                 ORDER BY h.customer, h.changed_at DESC, h.id DESC
            ), at_from AS (
                SELECT DISTINCT ON (h.customer) h.customer, h.to_tier, h.to_rank
                  FROM %1$I.tier_changes AS h
                 WHERE h.changed_at <= from_date
                 ORDER BY h.customer, h.changed_at DESC, h.id DESC
            )
            SELECT f.to_tier, f.to_rank, t.to_tier, t.to_rank, %2$s,
                   count(*), coalesce(sum(s.monetary), 0)
              FROM at_to AS t
              LEFT JOIN at_from AS f ON f.customer = t.customer
              LEFT JOIN %1$I.segments AS s ON s.customer = t.customer
             GROUP BY f.to_tier, f.to_rank, t.to_tier, t.to_rank
             ORDER BY f.to_tier IS NOT NULL, f.to_rank NULLS LAST, f.to_tier, t.to_rank NULLS LAST, t.to_tier;
        END
        $body$ $fn$, s, format(movement, 'f.to_tier', 'f.to_rank', 't.to_rank', 't.to_tier'));
    EXECUTE format('COMMENT ON FUNCTION %I.migration(timestamptz, timestamptz) IS %L', s,
                   format('program %s: tier migration matrix, customers and their current revenue by tier at from_date and at to_date, from tier_history',
                          prog.name));
    PERFORM customer_tier.create_program_run_views(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_views(customer_tier.program) IS
    'create the BI views of a program''s schema: segments, churn_risk, tier_changes, tier_summary, segment_summary, and the function migration(from_date, to_date)';
REVOKE ALL ON FUNCTION customer_tier.create_program_views(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_program_views(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.drop_program_views(customer_tier.program): sql/install/66_program_views.sql
CREATE OR REPLACE FUNCTION customer_tier.drop_program_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    detail text;
BEGIN
    EXECUTE format('DROP VIEW IF EXISTS %I.last_run_migration RESTRICT', s);
    EXECUTE format('DROP FUNCTION IF EXISTS %I.migration_between_runs(bigint, bigint) RESTRICT', s);
    EXECUTE format('DROP FUNCTION IF EXISTS %I.migration(timestamptz, timestamptz) RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.tier_summary RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.segment_summary RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.tier_changes RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.segments RESTRICT', s);
    EXECUTE format('DROP VIEW IF EXISTS %I.churn_risk RESTRICT', s);
EXCEPTION WHEN dependent_objects_still_exist THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RAISE EXCEPTION 'program "%" cannot be dropped while other objects depend on its views', prog.name
        USING ERRCODE = 'dependent_objects_still_exist',
              DETAIL = detail,
              HINT = 'Drop those objects, or change them not to use the program''s views, then drop the program again; drop_program never drops what it did not create.';
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program_views(customer_tier.program) IS
    'drop the BI views of a program''s schema, refusing (dependent_objects_still_exist) while other objects depend on them';
REVOKE ALL ON FUNCTION customer_tier.drop_program_views(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.drop_program_views(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.purge(text): sql/install/86_retention.sql
CREATE OR REPLACE FUNCTION customer_tier.purge(program text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    r customer_tier.retention;
    n bigint;
    result jsonb := '{}';
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    r := customer_tier.retention_of(program);

    n := 0;
    IF r.tier_history IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.tier_history AS h WHERE h.changed_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)',
                       prog.data_schema) USING r.tier_history;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('tier_history', n);

    -- the change feed follows the tier history; a consumer whose untaken
    -- events go is stopped until reset (consume_events)
    n := 0;
    IF r.tier_history IS NOT NULL THEN
        EXECUTE format($sql$
            WITH gone AS (
                SELECT e.id FROM %1$I.events AS e
                 WHERE e.happened_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)
            ), missed AS (
                UPDATE %1$I.event_consumers AS c
                   SET missed_before = greatest(c.missed_before, x.newest OPERATOR(pg_catalog.+) 1)
                  FROM (SELECT d.consumer, pg_catalog.max(d.event_id) AS newest
                          FROM %1$I.event_deliveries AS d JOIN gone AS g ON g.id OPERATOR(pg_catalog.=) d.event_id
                         GROUP BY d.consumer) AS x
                 WHERE c.name OPERATOR(pg_catalog.=) x.consumer
            )
            DELETE FROM %1$I.events AS e USING gone AS g WHERE e.id OPERATOR(pg_catalog.=) g.id$sql$,
            prog.data_schema) USING r.tier_history;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('events', n);

    n := 0;
    IF r.contacts IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.contacts AS c WHERE c.contacted_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)',
                       prog.data_schema) USING r.contacts;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('contacts', n);

    n := 0;
    IF r.runs IS NOT NULL THEN
        DELETE FROM customer_tier.run AS x
         WHERE x.program OPERATOR(pg_catalog.=) purge.program
           AND x.outcome OPERATOR(pg_catalog.<>) 'running'
           AND x.finished_at OPERATOR(pg_catalog.<) (now() OPERATOR(pg_catalog.-) r.runs);
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('runs', n);

    n := 0;
    IF r.rejects IS NOT NULL THEN
        EXECUTE format('DELETE FROM %I.rejects AS j WHERE j.rejected_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1)',
                       prog.data_schema) USING r.rejects;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    result := result OPERATOR(pg_catalog.||) jsonb_build_object('rejects', n);
    RETURN result;
END
$$;
COMMENT ON FUNCTION customer_tier.purge(text) IS
    'delete a program''s tier history, change feed events, contact log, runs and rejects older than its retention; returns rows deleted per kind';
REVOKE ALL ON FUNCTION customer_tier.purge(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.purge(text) TO customer_tier_admin;  -- 90_roles.sql name list


-- customer_tier.customers_changed(): sql/install/65_summaries.sql
CREATE FUNCTION customer_tier.customers_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'customers_changed'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.customers_changed() IS
    'trigger function of every program''s customers table: adds each statement''s changes to the program''s summary_deltas and change feed';
REVOKE ALL ON FUNCTION customer_tier.customers_changed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.customers_changed() TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.compact_summary(regclass, boolean, boolean): sql/install/65_summaries.sql
CREATE FUNCTION customer_tier.compact_summary(deltas regclass, wait boolean, empty boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lock_key constant bigint := (x'43545355'::bigint OPERATOR(pg_catalog.<<) 32)
                                OPERATOR(pg_catalog.|) deltas::oid::bigint;
BEGIN
    IF empty THEN
        EXECUTE format('DELETE FROM %s', deltas);
        RETURN;
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(lock_key);
    ELSIF NOT pg_try_advisory_xact_lock(lock_key) THEN
        RETURN;
    END IF;
    EXECUTE format($sql$
        WITH gone AS (DELETE FROM %1$s RETURNING *)
        INSERT INTO %1$s (tier, segment, at_risk, customers, revenue, value_sum, value_n)
        SELECT g.tier, g.segment, g.at_risk, sum(g.customers), sum(g.revenue), sum(g.value_sum), sum(g.value_n)
          FROM gone AS g
         GROUP BY g.tier, g.segment, g.at_risk
        HAVING sum(g.customers) OPERATOR(pg_catalog.<>) 0 OR sum(g.revenue) OPERATOR(pg_catalog.<>) 0
            OR sum(g.value_sum) OPERATOR(pg_catalog.<>) 0 OR sum(g.value_n) OPERATOR(pg_catalog.<>) 0$sql$,
        deltas);
END
$$;
COMMENT ON FUNCTION customer_tier.compact_summary(regclass, boolean, boolean) IS
    'fold a program''s summary_deltas into one row per group (wait false: skip when another fold holds the lock; empty true: delete every row)';
REVOKE ALL ON FUNCTION customer_tier.compact_summary(regclass, boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.compact_summary(regclass, boolean, boolean) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_summary_objects(customer_tier.program): sql/install/65_summaries.sql
CREATE FUNCTION customer_tier.create_summary_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.summary_deltas (
            tier      text,
            segment   text,
            at_risk   boolean NOT NULL,
            customers bigint NOT NULL,
            revenue   numeric NOT NULL,
            value_sum numeric NOT NULL,
            value_n   bigint NOT NULL
        );
        COMMENT ON TABLE %1$I.summary_deltas IS 'what each write of the customers changed in the summaries, one row per group; tier_summary and segment_summary sum it';
        COMMENT ON COLUMN %1$I.summary_deltas.tier IS 'the group''s tier';
        COMMENT ON COLUMN %1$I.summary_deltas.segment IS 'the group''s RFM segment';
        COMMENT ON COLUMN %1$I.summary_deltas.at_risk IS 'the group''s customers are on the churn list (a churn flag raised, not lost)';
        COMMENT ON COLUMN %1$I.summary_deltas.customers IS 'customers added to the group (negative: removed)';
        COMMENT ON COLUMN %1$I.summary_deltas.revenue IS 'net monetary value added to the group';
        COMMENT ON COLUMN %1$I.summary_deltas.value_sum IS 'value scores added to the group';
        COMMENT ON COLUMN %1$I.summary_deltas.value_n IS 'value scores counted in value_sum';
        INSERT INTO %1$I.summary_deltas (tier, segment, at_risk, customers, revenue, value_sum, value_n)
        SELECT c.tier, c.segment, coalesce(cardinality(c.churn_flags) > 0 AND c.lifecycle IS DISTINCT FROM 'lost', false),
               count(*), sum(c.monetary), coalesce(sum(c.value_score::numeric), 0), count(c.value_score)
          FROM %1$I.customers AS c GROUP BY 1, 2, 3
    $sql$, prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.create_summary_objects(customer_tier.program) IS
    'create a program''s summary_deltas table, counting the customers it has';
REVOKE ALL ON FUNCTION customer_tier.create_summary_objects(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_summary_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_summary_views(customer_tier.program): sql/install/65_summaries.sql
CREATE FUNCTION customer_tier.create_summary_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    -- Every tier of the program, empty ones too, in rank order; a tier some
    -- customers still hold but the program no longer has (set_tiers dropped
    -- it, and they have not been scored since) gets a row with rank NULL,
    -- after the others, so that the shares always add up to 1.
    EXECUTE format($sql$
        CREATE VIEW %1$I.tier_summary AS
        SELECT coalesce(t.tier, a.tier) AS tier, t.rank,
               coalesce(a.customers, 0) AS customers,
               coalesce(a.revenue, 0) AS revenue,
               coalesce(a.revenue, 0) / nullif(sum(a.revenue) OVER (), 0) AS revenue_share,
               coalesce(a.customers, 0) / nullif(sum(a.customers) OVER (), 0) AS customer_share,
               a.avg_monetary, a.avg_value_score,
               sum(coalesce(a.revenue, 0)) OVER pareto / nullif(sum(a.revenue) OVER (), 0) AS cumulative_revenue_share,
               sum(coalesce(a.customers, 0)) OVER pareto / nullif(sum(a.customers) OVER (), 0) AS cumulative_customer_share,
               coalesce(a.at_risk, 0) AS at_risk
          FROM (SELECT x.tier, x.rank FROM customer_tier.tier AS x WHERE x.program = %2$L) AS t
          FULL JOIN (SELECT d.tier, sum(d.customers)::bigint AS customers, sum(d.revenue) AS revenue,
                            sum(d.revenue) / nullif(sum(d.customers), 0) AS avg_monetary,
                            (sum(d.value_sum) / nullif(sum(d.value_n), 0))::double precision AS avg_value_score,
                            (sum(d.customers) FILTER (WHERE d.at_risk))::bigint AS at_risk
                       FROM %1$I.summary_deltas AS d
                      GROUP BY d.tier
                     HAVING sum(d.customers) <> 0) AS a ON a.tier = t.tier
        WINDOW pareto AS (ORDER BY t.rank NULLS LAST, coalesce(t.tier, a.tier) NULLS LAST
                          ROWS UNBOUNDED PRECEDING)
         ORDER BY t.rank NULLS LAST, coalesce(t.tier, a.tier) NULLS LAST
    $sql$, s, prog.name);
    EXECUTE format('COMMENT ON VIEW %I.tier_summary IS %L', s,
                   format('program %s: one row per tier, best first, empty tiers included: customers, revenue, shares (fractions 0..1) and running shares (a Pareto view), customers on the churn list',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.tier_summary.tier IS 'tier; NULL for customers not scored yet';
        COMMENT ON COLUMN %1$I.tier_summary.rank IS 'rank of the tier, 1 = best; NULL for a tier the program no longer has but customers still hold';
        COMMENT ON COLUMN %1$I.tier_summary.customers IS 'customers in the tier (0 for an empty tier)';
        COMMENT ON COLUMN %1$I.tier_summary.revenue IS 'sum of the net monetary value of the tier''s customers (0 for an empty tier)';
        COMMENT ON COLUMN %1$I.tier_summary.revenue_share IS 'revenue / all customers'' revenue, a fraction (0.25 = 25%%); NULL when the total is 0; outside 0..1 when refunds make some revenue negative';
        COMMENT ON COLUMN %1$I.tier_summary.customer_share IS 'customers / all customers, a fraction 0..1; NULL when the program has no customers';
        COMMENT ON COLUMN %1$I.tier_summary.avg_monetary IS 'mean net monetary value of the tier''s customers; NULL for an empty tier';
        COMMENT ON COLUMN %1$I.tier_summary.avg_value_score IS 'mean value score (0..100) of the tier''s customers; NULL for an empty tier';
        COMMENT ON COLUMN %1$I.tier_summary.cumulative_revenue_share IS 'Pareto: revenue share of this tier and every better one, a fraction';
        COMMENT ON COLUMN %1$I.tier_summary.cumulative_customer_share IS 'Pareto: customer share of this tier and every better one, a fraction';
        COMMENT ON COLUMN %1$I.tier_summary.at_risk IS 'customers of the tier on the churn list (churn_risk): a churn flag raised, not lost'
    $sql$, s);

    EXECUTE format($sql$
        CREATE VIEW %1$I.segment_summary AS
        SELECT d.segment, sum(d.customers)::bigint AS customers,
               sum(d.customers) / nullif(sum(sum(d.customers)) OVER (), 0) AS customer_share,
               sum(d.revenue) AS revenue,
               (sum(d.customers) FILTER (WHERE d.at_risk))::bigint AS at_risk
          FROM %1$I.summary_deltas AS d
         GROUP BY d.segment
        HAVING sum(d.customers) <> 0
         ORDER BY customers DESC, d.segment NULLS LAST
    $sql$, s);
    EXECUTE format('COMMENT ON VIEW %I.segment_summary IS %L', s,
                   format('program %s: one row per RFM segment that has customers, largest first: customers, share, revenue, customers on the churn list',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.segment_summary.segment IS 'RFM segment (customer_tier.rfm_segments() lists them); NULL for customers not scored yet';
        COMMENT ON COLUMN %1$I.segment_summary.customers IS 'customers in the segment';
        COMMENT ON COLUMN %1$I.segment_summary.customer_share IS 'customers / all customers, a fraction 0..1';
        COMMENT ON COLUMN %1$I.segment_summary.revenue IS 'sum of the net monetary value of the segment''s customers';
        COMMENT ON COLUMN %1$I.segment_summary.at_risk IS 'customers of the segment on the churn list (churn_risk)'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_summary_views(customer_tier.program) IS
    'create a program''s summary views, tier_summary and segment_summary, over its summary_deltas';
REVOKE ALL ON FUNCTION customer_tier.create_summary_views(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_summary_views(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.put_change_triggers(customer_tier.program): sql/install/65_summaries.sql
CREATE FUNCTION customer_tier.put_change_triggers(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER changes_insert AFTER INSERT ON %1$I.customers REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        CREATE TRIGGER changes_update AFTER UPDATE ON %1$I.customers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        CREATE TRIGGER changes_delete AFTER DELETE ON %1$I.customers REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        CREATE TRIGGER changes_truncate AFTER TRUNCATE ON %1$I.customers
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.customers_changed();
        ALTER TABLE %1$I.customers ENABLE ALWAYS TRIGGER changes_insert, ENABLE ALWAYS TRIGGER changes_update,
            ENABLE ALWAYS TRIGGER changes_delete, ENABLE ALWAYS TRIGGER changes_truncate
    $sql$, prog.data_schema);
END
$$;
COMMENT ON FUNCTION customer_tier.put_change_triggers(customer_tier.program) IS
    'put the statement triggers on a program''s customers that keep its summaries and change feed';
REVOKE ALL ON FUNCTION customer_tier.put_change_triggers(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.put_change_triggers(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.create_feed_objects(customer_tier.program): sql/install/87_feed.sql
CREATE FUNCTION customer_tier.create_feed_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.events (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            happened_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            customer    %2$s NOT NULL,
            kind        text NOT NULL CONSTRAINT events_kind CHECK (kind IN ('tier', 'lifecycle', 'churn_flags')),
            detail      jsonb NOT NULL,
            source      text
        );
        CREATE INDEX ON %1$I.events (customer);
        CREATE INDEX ON %1$I.events (happened_at);
        COMMENT ON TABLE %1$I.events IS %3$L;
        COMMENT ON COLUMN %1$I.events.id IS 'the event''s id: stable, in the order the events were written';
        COMMENT ON COLUMN %1$I.events.happened_at IS 'when (the time of the transaction that made the change)';
        COMMENT ON COLUMN %1$I.events.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.events.kind IS 'tier, lifecycle or churn_flags';
        COMMENT ON COLUMN %1$I.events.detail IS 'tier and lifecycle: {"from", "to"} (from null: a new customer''s first tier); churn_flags: {"raised": [...], "cleared": [...]}';
        COMMENT ON COLUMN %1$I.events.source IS 'what made the change (changed_by): a trigger operation, a run, a pin';

        CREATE TABLE %1$I.event_consumers (
            name          text PRIMARY KEY CONSTRAINT event_consumers_name CHECK (name <> ''),
            registered_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
            registered_by name NOT NULL DEFAULT CURRENT_USER,
            missed_before bigint
        );
        COMMENT ON TABLE %1$I.event_consumers IS 'the consumers of the change feed (register_consumer)';
        COMMENT ON COLUMN %1$I.event_consumers.name IS 'the consumer''s name; workers sharing it share its events';
        COMMENT ON COLUMN %1$I.event_consumers.registered_at IS 'when it was registered';
        COMMENT ON COLUMN %1$I.event_consumers.registered_by IS 'the role that registered it';
        COMMENT ON COLUMN %1$I.event_consumers.missed_before IS 'set when events it had not taken were purged (it fell behind the retention): the newest of them plus one; consume_events refuses until reset_consumer';
        -- the trigger path keeps events only while there are consumers, and caches whether there are
        CREATE TRIGGER consumers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %1$I.event_consumers
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.config_changed();
        ALTER TABLE %1$I.event_consumers ENABLE ALWAYS TRIGGER consumers_changed;

        CREATE TABLE %1$I.event_deliveries (
            consumer text NOT NULL REFERENCES %1$I.event_consumers (name) ON DELETE CASCADE,
            event_id bigint NOT NULL REFERENCES %1$I.events (id) ON DELETE CASCADE,
            PRIMARY KEY (consumer, event_id)
        );
        CREATE INDEX ON %1$I.event_deliveries (event_id);
        COMMENT ON TABLE %1$I.event_deliveries IS 'the events each consumer has not taken yet';
        COMMENT ON COLUMN %1$I.event_deliveries.consumer IS 'the consumer';
        COMMENT ON COLUMN %1$I.event_deliveries.event_id IS 'an event it has not taken'
    $sql$, prog.data_schema, prog.customer_type,
        format('program %s: the change feed: changes of tier, lifecycle stage and churn flags', prog.name));
END
$$;
COMMENT ON FUNCTION customer_tier.create_feed_objects(customer_tier.program) IS
    'create a program''s change feed tables: events, event_consumers, event_deliveries';
REVOKE ALL ON FUNCTION customer_tier.create_feed_objects(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.create_feed_objects(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.feed_schema(text): sql/install/87_feed.sql
CREATE FUNCTION customer_tier.feed_schema(program text)
RETURNS name
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := ('ct_' OPERATOR(pg_catalog.||) program)::name;
BEGIN
    IF program !~ '^[a-z][a-z0-9_]{0,39}$' OR to_regclass(format('%I.event_consumers', s)) IS NULL THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION customer_tier.feed_schema(text) IS
    'the schema of a program''s change feed, found without reading the catalog';
REVOKE ALL ON FUNCTION customer_tier.feed_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.feed_schema(text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.feed_schema(text) TO customer_tier_writer;  -- 90_roles.sql name list

-- customer_tier.register_consumer(text, text, bigint): sql/install/87_feed.sql
CREATE FUNCTION customer_tier.register_consumer(program text, consumer text, replay_from bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name;
    n bigint := 0;
BEGIN
    IF program IS NULL OR consumer IS NULL OR consumer OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'program and consumer must not be null or empty'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name the consumer after the worker that reads the feed, e.g. ''crm-tasks''.';
    END IF;
    s := customer_tier.feed_schema(program);
    BEGIN
        EXECUTE format('INSERT INTO %I.event_consumers (name) VALUES ($1)', s) USING consumer;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'consumer "%" of program "%" is already registered', consumer, program
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Workers sharing a consumer name share its events: start another worker with the same name, or register another name.';
    END;
    IF replay_from IS NOT NULL THEN
        EXECUTE format('INSERT INTO %1$I.event_deliveries (consumer, event_id)
                        SELECT $1, e.id FROM %1$I.events AS e WHERE e.id OPERATOR(pg_catalog.>=) $2', s)
          USING consumer, replay_from;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.register_consumer(text, text, bigint) IS
    'register a consumer of a program''s change feed: it gets every new event (and, with replay_from, the events kept from that id); returns the events waiting';
REVOKE ALL ON FUNCTION customer_tier.register_consumer(text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.register_consumer(text, text, bigint) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.register_consumer(text, text, bigint) TO customer_tier_writer;  -- 90_roles.sql name list

-- customer_tier.unregister_consumer(text, text): sql/install/87_feed.sql
CREATE FUNCTION customer_tier.unregister_consumer(program text, consumer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('DELETE FROM %I.event_consumers AS c WHERE c.name OPERATOR(pg_catalog.=) $1',
                   customer_tier.feed_schema(program))
      USING consumer;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n OPERATOR(pg_catalog.>) 0;
END
$$;
COMMENT ON FUNCTION customer_tier.unregister_consumer(text, text) IS
    'unregister a consumer of a program''s change feed (its untaken events are dropped for it); false when there was none';
REVOKE ALL ON FUNCTION customer_tier.unregister_consumer(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.unregister_consumer(text, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.unregister_consumer(text, text) TO customer_tier_writer;  -- 90_roles.sql name list

-- customer_tier.reset_consumer(text, text): sql/install/87_feed.sql
CREATE FUNCTION customer_tier.reset_consumer(program text, consumer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('UPDATE %I.event_consumers AS c SET missed_before = NULL WHERE c.name OPERATOR(pg_catalog.=) $1',
                   customer_tier.feed_schema(program)) USING consumer;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n OPERATOR(pg_catalog.>) 0;
END
$$;
COMMENT ON FUNCTION customer_tier.reset_consumer(text, text) IS
    'let a consumer that fell behind the retention go on with the events kept; false when there is no such consumer';
REVOKE ALL ON FUNCTION customer_tier.reset_consumer(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.reset_consumer(text, text) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.reset_consumer(text, text) TO customer_tier_writer;  -- 90_roles.sql name list

-- customer_tier.consume_events(text, text, integer): sql/install/87_feed.sql
CREATE FUNCTION customer_tier.consume_events(program text, consumer text, max_events integer DEFAULT 100)
RETURNS TABLE (event_id bigint, happened_at timestamptz, customer text, kind text, detail jsonb, source text)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name;
    missed bigint;
    found_consumer boolean;
BEGIN
    IF program IS NULL OR consumer IS NULL OR max_events IS NULL THEN
        RAISE EXCEPTION 'program, consumer and max_events must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_events OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'max_events must be at least 1, not %', max_events
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Take events in batches, e.g. 100.';
    END IF;
    s := customer_tier.feed_schema(program);
    EXECUTE format('SELECT true, c.missed_before FROM %I.event_consumers AS c WHERE c.name OPERATOR(pg_catalog.=) $1', s)
      INTO found_consumer, missed USING consumer;
    IF found_consumer IS NULL THEN
        RAISE EXCEPTION 'consumer "%" of program "%" is not registered', consumer, program
            USING ERRCODE = 'undefined_object',
                  HINT = format('Register it once: SELECT customer_tier.register_consumer(%L, %L).', program, consumer);
    END IF;
    IF missed IS NOT NULL THEN
        RAISE EXCEPTION 'consumer "%" of program "%" fell behind the retention: events it had not taken were purged', consumer, program
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Events before id %s that it had not taken are gone.', missed),
                  HINT = 'Catch up from the program''s views (segments, tier_changes), then call customer_tier.reset_consumer(program, consumer) to go on with the events kept; a longer tier_history retention (set_retention) keeps events longer.';
    END IF;
    RETURN QUERY EXECUTE format($sql$
        WITH taken AS (
            DELETE FROM %1$I.event_deliveries AS d
             WHERE d.consumer OPERATOR(pg_catalog.=) $1
               AND d.event_id IN (SELECT x.event_id FROM %1$I.event_deliveries AS x
                                   WHERE x.consumer OPERATOR(pg_catalog.=) $1
                                   ORDER BY x.event_id LIMIT $2
                                   FOR UPDATE SKIP LOCKED)
            RETURNING d.event_id)
        SELECT e.id, e.happened_at, customer_tier.text_of(e.customer), e.kind, e.detail, e.source
          FROM taken AS t JOIN %1$I.events AS e ON e.id OPERATOR(pg_catalog.=) t.event_id
         ORDER BY e.id$sql$, s)
      USING consumer, max_events;
END
$$;
COMMENT ON FUNCTION customer_tier.consume_events(text, text, integer) IS
    'take up to max_events of a consumer''s events, oldest first; the caller''s commit acknowledges them, a rollback gives them back';
REVOKE ALL ON FUNCTION customer_tier.consume_events(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.consume_events(text, text, integer) TO customer_tier_admin;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.consume_events(text, text, integer) TO customer_tier_writer;  -- 90_roles.sql name list


-- ==== historical data: a program's scoring date (issue 19) ====
ALTER TABLE customer_tier.program ADD COLUMN scoring_date timestamptz
    CONSTRAINT program_scoring_date_finite CHECK (pg_catalog.isfinite(scoring_date));
COMMENT ON COLUMN customer_tier.program.scoring_date IS 'the fixed instant the program scores against (historical data: create_program''s as_of, reclassify''s as_of, set_scoring_date); NULL: the clock, each transaction''s start';
GRANT UPDATE (scoring_date) ON customer_tier.program TO customer_tier_admin;

-- customer_tier.check_scoring_date(timestamp with time zone): sql/install/69_scoring_date.sql
CREATE FUNCTION customer_tier.check_scoring_date(as_of timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT isfinite(as_of) THEN
        RAISE EXCEPTION 'as_of must be finite, not %', as_of
            USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Pass the instant to score against, such as the end of the period the orders cover; leave it out to follow the clock.';
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.check_scoring_date(timestamptz) IS
    'raises invalid_parameter_value unless a scoring date is finite or NULL';
REVOKE ALL ON FUNCTION customer_tier.check_scoring_date(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.check_scoring_date(timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.program_as_of(text): sql/install/69_scoring_date.sql
CREATE FUNCTION customer_tier.program_as_of(program text)
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT coalesce(p.scoring_date, pg_catalog.now())
      FROM customer_tier.program AS p
     WHERE p.name OPERATOR(pg_catalog.=) program_as_of.program;
END;
COMMENT ON FUNCTION customer_tier.program_as_of(text) IS
    'the instant a program scores against: its scoring date, or now() when it follows the clock';
REVOKE ALL ON FUNCTION customer_tier.program_as_of(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.program_as_of(text) TO customer_tier_reader;  -- 90_roles.sql name list
GRANT EXECUTE ON FUNCTION customer_tier.program_as_of(text) TO customer_tier_writer;  -- 90_roles.sql name list

-- customer_tier.set_scoring_date(text, timestamp with time zone): sql/install/69_scoring_date.sql
CREATE FUNCTION customer_tier.set_scoring_date(program text, as_of timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    current_as_of timestamptz;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM customer_tier.check_scoring_date(as_of);
    prog := customer_tier.program_row(program);
    current_as_of := coalesce(prog.scoring_date, now());
    IF coalesce(as_of, now()) OPERATOR(pg_catalog.<) current_as_of THEN
        RAISE EXCEPTION 'program "%" scores against %; its clock cannot go back to %', program,
                        coalesce(prog.scoring_date::text, 'the clock'), coalesce(as_of::text, 'now()')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Tier changes, pending downgrades and the tier history were recorded at instants up to the current scoring date.',
                  HINT = CASE WHEN prog.scoring_date IS NULL
                              THEN 'For historical orders, create a program with customer_tier.create_program(..., as_of => ...).'
                              ELSE 'Pass a later instant; to score the same orders at an earlier date, create another program with that as_of.' END;
    END IF;
    UPDATE customer_tier.program AS p SET scoring_date = as_of WHERE p.name OPERATOR(pg_catalog.=) program;
    RETURN coalesce(as_of, now());
END
$$;
COMMENT ON FUNCTION customer_tier.set_scoring_date(text, timestamptz) IS
    'give a program a fixed scoring date, move it on, or (NULL) let it follow the clock; never back in time; the next run rescores everyone';
REVOKE ALL ON FUNCTION customer_tier.set_scoring_date(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.set_scoring_date(text, timestamp with time zone) TO customer_tier_admin;  -- 90_roles.sql name list

-- the periods end at the program's scoring date
DROP FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz);
-- customer_tier.kpi_periods(text, timestamp with time zone, timestamp with time zone, timestamp with time zone): sql/install/84_kpis.sql
CREATE FUNCTION customer_tier.kpi_periods(unit text DEFAULT 'month', from_date timestamptz DEFAULT NULL,
                                          to_date timestamptz DEFAULT NULL, as_of timestamptz DEFAULT NULL)
RETURNS TABLE (period_start timestamptz, period_end timestamptz)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
ROWS 12
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    units constant text[] := '{microseconds,milliseconds,second,minute,hour,day,week,month,quarter,year,decade,century,millennium}';
    step interval;
    first timestamptz;
    last timestamptz;
    n bigint;
BEGIN
    IF unit IS NULL THEN
        RAISE EXCEPTION 'unit must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = format('Use one of: %s.', array_to_string(units, ', '));
    END IF;
    IF NOT unit OPERATOR(pg_catalog.=) ANY (units) THEN
        RAISE EXCEPTION 'invalid period unit "%"', unit
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A period is a unit of date_trunc.',
                  HINT = format('Use one of: %s.', array_to_string(units, ', '));
    END IF;
    step := CASE unit WHEN 'microseconds' THEN interval '1 microsecond'
                      WHEN 'milliseconds' THEN interval '1 millisecond'
                      WHEN 'quarter' THEN interval '3 months'
                      ELSE ('1 ' OPERATOR(pg_catalog.||) unit)::interval END;
    IF NOT isfinite(coalesce(to_date, 'now')) OR NOT isfinite(coalesce(from_date, 'now')) THEN
        RAISE EXCEPTION 'from_date and to_date must be finite'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass two times, or leave them out for the last twelve periods.';
    END IF;
    BEGIN
        -- by default up to the end of the current period, so that it is included
        last := coalesce(to_date, date_trunc(unit, coalesce(as_of, pg_catalog.now())) OPERATOR(pg_catalog.+) step);
        -- by default the twelve periods that start before last
        first := coalesce(date_trunc(unit, from_date),
                          date_trunc(unit, last OPERATOR(pg_catalog.-) interval '1 microsecond')
                              OPERATOR(pg_catalog.-) (step OPERATOR(pg_catalog.*) 11));
        IF first OPERATOR(pg_catalog.>=) last THEN
            RAISE EXCEPTION 'from_date (%) must be before to_date (%)', from_date, last
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The periods are those that start from the start of the period of from_date up to, not including, to_date.',
                      HINT = 'Pass an earlier from_date or a later to_date.';
        END IF;
        -- generate_series materializes its whole result: estimate first (a
        -- month as 30 days, a year as 365.25), count exactly only when small
        IF date_part('epoch', last OPERATOR(pg_catalog.-) first) OPERATOR(pg_catalog./) date_part('epoch', step)
           OPERATOR(pg_catalog.>) 1100 THEN
            n := 1001;
        ELSE
            SELECT count(*) INTO n
              FROM generate_series(first, last, step) AS g (s) WHERE g.s OPERATOR(pg_catalog.<) last;
        END IF;
        IF n OPERATOR(pg_catalog.>) 1000 THEN
            RAISE EXCEPTION 'too many periods: more than 1000 of unit % from % to %', unit, first, last
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Choose a larger unit or a shorter range.';
        END IF;
        -- the end of the last period must be a timestamp too: inside the block
        RETURN QUERY
        SELECT g.s, g.s OPERATOR(pg_catalog.+) step FROM generate_series(first, last, step) AS g (s)
         WHERE g.s OPERATOR(pg_catalog.<) last ORDER BY 1;
    EXCEPTION WHEN datetime_field_overflow THEN
        RAISE EXCEPTION 'periods of unit % around % and % fall outside the range of timestamps', unit,
                        coalesce(from_date::text, 'the default start'), coalesce(to_date::text, 'now')
            USING ERRCODE = 'datetime_field_overflow',
                  HINT = 'Choose a smaller unit, or times further from the ends of the timestamp range (4713 BC to 294276 AD).';
    END;
END
$$;
COMMENT ON FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz, timestamptz) IS
    'the periods of a date_trunc unit starting from the period of from_date up to, not including, to_date (default: the last twelve up to as_of, now by default); at most 1000';
REVOKE ALL ON FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.kpi_periods(text, timestamp with time zone, timestamp with time zone, timestamp with time zone) TO customer_tier_reader;  -- 90_roles.sql name list

-- customer_tier.refresh_breakpoints(text): sql/install/64_program_scoring.sql
CREATE OR REPLACE FUNCTION customer_tier.refresh_breakpoints(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
BEGIN
    prog := customer_tier.program_row(program);
    EXECUTE format($sql$
        UPDATE customer_tier.program AS p
           SET (r_breakpoints, f_breakpoints, m_breakpoints, scored_at) =
               (SELECT customer_tier.breakpoints(EXTRACT(EPOCH FROM %3$L::timestamptz OPERATOR(pg_catalog.-) c.last_order)::double precision
                                                 OPERATOR(pg_catalog./) 86400, 5),
                       customer_tier.breakpoints(c.orders, 5),
                       customer_tier.breakpoints(c.monetary, 5),
                       pg_catalog.now()
                  FROM %1$I.customers AS c
                 WHERE c.orders OPERATOR(pg_catalog.>) 0)
         WHERE p.name OPERATOR(pg_catalog.=) %2$L$sql$, prog.data_schema, prog.name, customer_tier.program_as_of(program));
END
$$;
COMMENT ON FUNCTION customer_tier.refresh_breakpoints(text) IS
    'recompute and store a program''s R, F and M quintile breakpoints from its customers';
REVOKE ALL ON FUNCTION customer_tier.refresh_breakpoints(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.refresh_breakpoints(text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.satisfaction_rollup_sql(customer_tier.program, text): sql/install/80_feedback.sql
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
REVOKE ALL ON FUNCTION customer_tier.satisfaction_rollup_sql(customer_tier.program, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.satisfaction_rollup_sql(customer_tier.program, text) TO customer_tier_admin;  -- 90_roles.sql name list

-- customer_tier.kpi_cohort_sql(customer_tier.program): sql/install/84_kpis.sql
CREATE OR REPLACE FUNCTION customer_tier.kpi_cohort_sql(prog customer_tier.program)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN format($sql$periods AS (
                SELECT p.period_start, p.period_end
                  FROM customer_tier.kpi_periods(unit, from_date, to_date, customer_tier.program_as_of(%2$L)) AS p
            ), cohort AS (
                SELECT p.period_start, p.period_end, h.customer, h.to_tier AS tier
                  FROM periods AS p
                 CROSS JOIN LATERAL (SELECT DISTINCT ON (x.customer) x.customer, x.to_tier
                                       FROM %1$I.tier_history AS x
                                      WHERE x.changed_at < p.period_start
                                      ORDER BY x.customer, x.changed_at DESC, x.id DESC) AS h
                 WHERE h.to_tier IS NOT NULL
                UNION ALL
                -- customers who had bought before the period but whose tier then
                -- is not in the history (the program came later): tier unknown
                SELECT p.period_start, p.period_end, c.customer, '(unknown)'
                  FROM periods AS p
                  JOIN %1$I.customers AS c ON c.first_order < p.period_start
                 WHERE NOT EXISTS (SELECT FROM %1$I.tier_history AS x
                                    WHERE x.customer = c.customer AND x.changed_at < p.period_start)
            ), newcomers AS (
                SELECT p.period_start, h.to_tier AS tier, count(DISTINCT h.customer) AS customers
                  FROM periods AS p
                  JOIN %1$I.tier_history AS h
                    ON h.from_tier IS NULL AND h.to_tier IS NOT NULL
                   AND h.changed_at >= p.period_start AND h.changed_at < p.period_end
                 GROUP BY p.period_start, h.to_tier
            )$sql$, prog.data_schema, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) IS
    'SQL text of the periods, the customers of each tier at each period start, and the newcomers, for satisfaction_by_tier and kpis';
REVOKE ALL ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_tier.kpi_cohort_sql(customer_tier.program) TO customer_tier_admin;  -- 90_roles.sql name list

-- ==== every program ====
-- Its schema and objects go to customer_tier_owner (a table's indexes and
-- sequences follow it); customer_tier_owner may read its orders table, for
-- kpis(); the generated trigger functions give way to the shared C ones,
-- the KPI functions are made anew ($release$ below gives what this creates
-- in a program schema back to the program); the rows that the new
-- checks reject are recorded, and the program rebuilt from its orders
-- (timestamp and date order times are read as UTC now).
DO $programs$
DECLARE
    prog customer_tier.program;
    s name;
    o record;
    orders_schema regnamespace;
BEGIN
    FOR prog IN SELECT * FROM customer_tier.program AS p ORDER BY p.name LOOP
        s := prog.data_schema;
        EXECUTE pg_catalog.format('ALTER SCHEMA %I OWNER TO customer_tier_owner', s);
        FOR o IN
            SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind,
                   pg_catalog.format('%I.%I', s, c.relname) AS name
              FROM pg_catalog.pg_class AS c
             WHERE c.relnamespace OPERATOR(pg_catalog.=) s::regnamespace
               AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m}'::"char"[])
             ORDER BY c.relname
        LOOP
            EXECUTE pg_catalog.format('ALTER %s %s OWNER TO customer_tier_owner', o.kind, o.name);
        END LOOP;
        FOR o IN
            SELECT f.oid::regprocedure AS fn FROM pg_catalog.pg_proc AS f
             WHERE f.pronamespace OPERATOR(pg_catalog.=) s::regnamespace ORDER BY f.oid
        LOOP
            EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO customer_tier_owner', o.fn);
        END LOOP;
        SELECT c.relnamespace::regnamespace INTO orders_schema FROM pg_catalog.pg_class AS c
         WHERE c.oid OPERATOR(pg_catalog.=) prog.orders_table;
        EXECUTE pg_catalog.format('GRANT SELECT ON %s TO customer_tier_owner', prog.orders_table);
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %s TO customer_tier_owner', orders_schema);

        -- the generated trigger function gives way to the shared C one
        PERFORM customer_tier.remove_program_triggers(prog, prog.orders_table);
        EXECUTE pg_catalog.format('DROP FUNCTION %I.maintain_customers() RESTRICT', s);
        PERFORM customer_tier.put_program_triggers(prog, t) FROM customer_tier.orders_tables(prog.orders_table) AS t;
        -- and so does the generated tier history's
        EXECUTE pg_catalog.format('DROP TRIGGER tier_changed ON %I.customers', s);
        EXECUTE pg_catalog.format('DROP FUNCTION %I.record_tier_change() RESTRICT', s);
        PERFORM customer_tier.put_tier_trigger(prog);
        -- the generated feedback trigger function gives way to the shared C one too
        IF EXISTS (SELECT FROM customer_tier.feedback_source AS f WHERE f.program OPERATOR(pg_catalog.=) prog.name) THEN
            PERFORM customer_tier.drop_feedback_triggers(prog, customer_tier.feedback_source_row(prog));
            EXECUTE pg_catalog.format('DROP FUNCTION %I.maintain_feedback() RESTRICT', s);
            PERFORM customer_tier.put_feedback_triggers(prog, customer_tier.feedback_source_row(prog));
        END IF;
        -- kpis reads program_row_counts_sql; create_kpi_functions makes both functions
        EXECUTE pg_catalog.format($sql$
            DROP FUNCTION %1$I.kpis(text, timestamptz, timestamptz) RESTRICT;
            DROP FUNCTION %1$I.satisfaction_by_tier(text, timestamptz, timestamptz) RESTRICT$sql$, s);
        PERFORM customer_tier.create_kpi_functions(prog);
        -- the follow-up list and the churn list read an index (issue 16)
        EXECUTE pg_catalog.format($sql$
            ALTER TABLE %1$I.customers ADD COLUMN tier_rank integer, ADD COLUMN rose_at timestamptz,
                ADD COLUMN last_contact_at timestamptz, ADD COLUMN follow_up_due_at timestamptz;
            COMMENT ON COLUMN %1$I.customers.tier_rank IS 'rank of the current tier, 1 = best, as last scored; NULL without a tier';
            COMMENT ON COLUMN %1$I.customers.rose_at IS 'when the customer rose into the current tier from a lower one; NULL when it got the tier otherwise';
            COMMENT ON COLUMN %1$I.customers.last_contact_at IS 'input: the customer''s last contact (contacts table), kept by its trigger; NULL if never';
            COMMENT ON COLUMN %1$I.customers.follow_up_due_at IS 'when the next contact is due (follow_ups_due): the tier''s cadence after the last contact, or at once after a rise not followed by one';
            UPDATE %1$I.customers AS c SET last_contact_at = l.last
              FROM (SELECT l.customer, max(l.contacted_at) AS last FROM %1$I.contacts AS l GROUP BY l.customer) AS l
             WHERE l.customer OPERATOR(pg_catalog.=) c.customer;
            UPDATE %1$I.customers AS c SET rose_at = h.changed_at
              FROM (SELECT DISTINCT ON (h.customer) h.customer, h.changed_at, h.from_tier, h.to_tier
                      FROM %1$I.tier_history AS h ORDER BY h.customer, h.changed_at DESC, h.id DESC) AS h,
                   customer_tier.tier AS f, customer_tier.tier AS t
             WHERE h.customer OPERATOR(pg_catalog.=) c.customer AND h.to_tier OPERATOR(pg_catalog.=) c.tier
               AND f.program OPERATOR(pg_catalog.=) %2$L AND f.tier OPERATOR(pg_catalog.=) h.from_tier
               AND t.program OPERATOR(pg_catalog.=) %2$L AND t.tier OPERATOR(pg_catalog.=) c.tier
               AND f.rank OPERATOR(pg_catalog.>) t.rank;
            DROP VIEW %1$I.follow_ups_due RESTRICT;
            DROP VIEW %1$I.churn_risk RESTRICT$sql$, s, prog.name);
        PERFORM customer_tier.put_contacts_triggers(prog);
        PERFORM customer_tier.create_follow_ups_view(prog);
        EXECUTE customer_tier.program_churn_risk_view_sql(prog);
        -- the summaries read summary_deltas; the same triggers write the change feed
        PERFORM customer_tier.create_summary_objects(prog);
        PERFORM customer_tier.create_feed_objects(prog);
        PERFORM customer_tier.put_change_triggers(prog);
        EXECUTE pg_catalog.format('DROP VIEW %I.tier_summary RESTRICT', s);
        PERFORM customer_tier.create_summary_views(prog);
        -- the writer reads no contact data any more (grant_followup_access grants what it keeps)
        EXECUTE pg_catalog.format('REVOKE SELECT ON %1$I.contacts, %1$I.follow_ups_due FROM customer_tier_writer', s);
        PERFORM customer_tier.grant_followup_access(prog);
        PERFORM customer_tier.grant_program_access(prog);

        -- rows 0.2.0 counted that the new checks reject: kept in rejects,
        -- then the rebuild takes them out of the states
        EXECUTE pg_catalog.format($sql$
            INSERT INTO %1$I.rejects (operation, reason, order_id, row_image)
            SELECT 'UPGRADE', p.reason, %2$s, customer_tier.row_image(o)
              FROM %3$s AS o, LATERAL (SELECT %4$s AS reason) AS p
             WHERE p.reason OPERATOR(pg_catalog.=) ANY (
                       '{customer key longer than 1000 bytes,order time out of range,amount out of range}'::text[])$sql$,
            s,
            CASE WHEN prog.order_id_column IS NULL THEN 'NULL'
                 ELSE pg_catalog.format('customer_tier.text_of(o.%I)', prog.order_id_column) END,
            prog.orders_table, customer_tier.program_row_problem_sql(prog, 'o'));
        PERFORM customer_tier.rebuild_program(prog.name);
        -- every customer gets its tier's rank and its follow-up's due time
        PERFORM customer_tier.rescore_where(prog.name, 'upgrade', 'true');
    END LOOP;
END
$programs$;

-- ==== the objects created above in program schemas belong to the program ====
-- Every object an extension script creates becomes a member of the
-- extension; a program's objects must not be (pg_dump would leave them out,
-- DROP EXTENSION would drop them).  So each is released from the extension
-- and given to the owner of its program schema (customer_tier_owner), who owns the rest of it.
-- And every GRANT an extension script runs is recorded as the object's
-- "initial privileges" (pg_init_privs), which pg_dump takes as the baseline
-- of what to dump: left there, a restore would lose those grants.  Releasing
-- an object from the extension forgets them, so an existing object that
-- got a GRANT here is added to the extension and released again.
-- Generic: it also covers what later upgrade steps do to program schemas.
DO $release$
DECLARE
    ext oid := (SELECT e.oid FROM pg_catalog.pg_extension AS e
                 WHERE e.extname OPERATOR(pg_catalog.=) 'customer_tier');
    o record;
BEGIN
    -- created by this script: release, and give to the schema's owner
    FOR o IN
        SELECT i.type, i.identity, n.nspowner::pg_catalog.regrole AS owner,
               i.type OPERATOR(pg_catalog.=) 'index' OR EXISTS (
                   SELECT FROM pg_catalog.pg_depend AS t
                    WHERE t.classid OPERATOR(pg_catalog.=) d.classid AND t.objid OPERATOR(pg_catalog.=) d.objid
                      AND t.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND t.deptype IN ('a', 'i')
                      AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass) AS owned_by_table
          FROM pg_catalog.pg_depend AS d
         CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) AS i
          JOIN pg_catalog.pg_namespace AS n ON n.nspname OPERATOR(pg_catalog.=) i.schema
         WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ext
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND i.schema IN (SELECT p.data_schema FROM customer_tier.program AS p)
         ORDER BY i.type, i.identity
    LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION customer_tier DROP %s %s', o.type, o.identity);
        -- a table's owned sequences (identity, serial) and indexes follow its owner
        CONTINUE WHEN o.owned_by_table;
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %s', o.type, o.identity, o.owner);
    END LOOP;
    -- granted on by this script: forget the recorded initial privileges
    FOR o IN
        SELECT DISTINCT i.type, i.identity
          FROM pg_catalog.pg_init_privs AS ip
         CROSS JOIN LATERAL pg_catalog.pg_identify_object(ip.classoid, ip.objoid, 0) AS i
         WHERE ip.privtype OPERATOR(pg_catalog.=) 'e'
           AND (i.schema IN (SELECT p.data_schema FROM customer_tier.program AS p)
                OR (i.type OPERATOR(pg_catalog.=) 'schema'
                    AND i.identity IN (SELECT pg_catalog.quote_ident(p.data_schema) FROM customer_tier.program AS p)))
         ORDER BY i.type, i.identity
    LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION customer_tier ADD %s %s', o.type, o.identity);
        EXECUTE pg_catalog.format('ALTER EXTENSION customer_tier DROP %s %s', o.type, o.identity);
    END LOOP;
END
$release$;

-- ==== customer_tier_owner runs every routine of the extension (as part 90 ends) ====
DO $owner_grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT p.oid::regprocedure AS routine FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace OPERATOR(pg_catalog.=) 'customer_tier'::regnamespace
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO customer_tier_owner', g.routine);
    END LOOP;
END
$owner_grants$;

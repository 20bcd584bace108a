-- customer_tier install script, part 90: roles and privileges (docs/security.md).
--
-- Three group roles (NOLOGIN) that a DBA grants to application logins:
--   customer_tier_reader  BI: the catalog, and a program's views, tier history
--                         and customer columns other than the internal states
--   customer_tier_writer  a CRM application: the segments view; its writes to
--                         its own orders table maintain the programs through
--                         the SECURITY DEFINER trigger functions
--   customer_tier_admin   programs, tier rules, pins, runs, verification, and
--                         everything the reader may do
-- and one that no login may become:
--   customer_tier_owner   owns every program's schema and what is in it, so
--                         that no role but a superuser can put a trigger on a
--                         program's tables; the trigger functions run as it
-- Roles belong to the cluster, not to the database: DROP EXTENSION leaves
-- them (another database may use them), and a second database's CREATE
-- EXTENSION finds them already there.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- Create each role if it is missing.  A role of that name that already exists
-- is used only if it is what this script would have created: a role that can
-- log in, has any other attribute than NOLOGIN, or is a member of some other
-- role (pg_read_server_files, say) would hand that power to every login the
-- DBA later grants it to, so it is refused rather than trusted.
DO $roles$
DECLARE
    r pg_catalog.pg_roles;
    role_name text;
    other text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['customer_tier_reader', 'customer_tier_writer', 'customer_tier_admin',
                                     'customer_tier_owner'] LOOP
        SELECT * INTO r FROM pg_catalog.pg_roles AS a WHERE a.rolname = role_name;
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
          JOIN pg_catalog.pg_roles AS g ON g.oid = m.roleid
         WHERE m.member = r.oid
           AND NOT (role_name = 'customer_tier_admin'
                    AND g.rolname = 'customer_tier_reader');
        IF other IS NOT NULL THEN
            RAISE EXCEPTION 'role "%" already exists and is a member of other roles', role_name
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = pg_catalog.format('Role "%s" is a member of %s; every login granted "%s" would get their privileges.',
                                                 role_name, other, role_name),
                      HINT = pg_catalog.format('Revoke those memberships (REVOKE %s FROM %I), or drop the role, then create the extension again.',
                                               other, role_name);
        END IF;
        -- a member of the owner could put triggers on every program's tables
        IF role_name = 'customer_tier_owner'
           AND EXISTS (SELECT FROM pg_catalog.pg_auth_members AS m WHERE m.roleid = r.oid) THEN
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
                    WHERE m.roleid = 'customer_tier_reader'::regrole
                      AND m.member = 'customer_tier_admin'::regrole) THEN
        GRANT customer_tier_reader TO customer_tier_admin;
    END IF;
END
$roles$;
-- @end

-- PUBLIC keeps USAGE (granted in part 00) for the pure building blocks; the
-- roles get it explicitly so that a DBA may revoke it from PUBLIC.
GRANT USAGE ON SCHEMA customer_tier TO customer_tier_reader, customer_tier_writer, customer_tier_admin;

-- The catalog: readable by BI, written by the admin.  The configuration
-- functions run with their caller's rights, so the admin writes these tables
-- through them; the CHECK constraints and the constraint triggers on tier
-- validate a direct write just as they validate the functions'.
GRANT SELECT ON customer_tier.program, customer_tier.tier, customer_tier.run TO customer_tier_reader;
-- a pin's reason is free text: the admin's, not BI's
GRANT SELECT (program, customer, tier, pinned_at, pinned_by, expires_at) ON customer_tier.pin TO customer_tier_reader;
GRANT SELECT ON customer_tier.pin TO customer_tier_admin;
GRANT INSERT, UPDATE, DELETE ON customer_tier.tier, customer_tier.pin TO customer_tier_admin;
-- A program's identity (name, tables, columns, schema, who attached it) is
-- written only by create_program and drop_program, as customer_tier_owner: a
-- direct UPDATE pointing orders_table at a table the admin cannot read would
-- make a superuser's rebuild copy it into the program.  The settings stay
-- the admin's to change.
GRANT UPDATE (method, score_weights, downgrade_grace, reject_mode, r_breakpoints, f_breakpoints,
              m_breakpoints, scored_at, scoring_date) ON customer_tier.program TO customer_tier_admin;
-- reclassify logs and closes its runs; deleting old runs is housekeeping
GRANT INSERT, UPDATE, DELETE ON customer_tier.run TO customer_tier_admin;
-- feedback and follow-ups (parts 80-88): the attached feedback tables and the cadences
GRANT SELECT ON customer_tier.feedback_source, customer_tier.cadence TO customer_tier_reader;
GRANT INSERT, UPDATE, DELETE ON customer_tier.cadence TO customer_tier_admin;
-- as the program: attach_feedback and detach_feedback write it as customer_tier_owner
GRANT UPDATE (satisfaction_window) ON customer_tier.feedback_source TO customer_tier_admin;
-- retention settings (86): readable by BI, set by the admin; the erasure log
-- (85) read and written by the admin only (forget runs with the caller's
-- rights), and its secret by no role (erasure_hash reads it as the owner)
GRANT SELECT ON customer_tier.retention, customer_tier.retention_policy TO customer_tier_reader;
GRANT INSERT, UPDATE, DELETE ON customer_tier.retention TO customer_tier_admin;
GRANT SELECT, INSERT ON customer_tier.erasure_log TO customer_tier_admin;
-- churn thresholds (set_churn_rules) and the models each run fits
GRANT SELECT ON customer_tier.churn_settings, customer_tier.program_model TO customer_tier_reader;
GRANT INSERT, UPDATE, DELETE ON customer_tier.churn_settings, customer_tier.program_model TO customer_tier_admin;
-- The owner of the programs: reads the catalog (its trigger functions score
-- with it) and writes the rows that attaching and detaching make.
-- @new-after
GRANT USAGE ON SCHEMA customer_tier TO customer_tier_owner;
GRANT SELECT ON customer_tier.program, customer_tier.tier, customer_tier.pin, customer_tier.run,
                customer_tier.feedback_source, customer_tier.cadence, customer_tier.retention,
                customer_tier.retention_policy, customer_tier.churn_settings, customer_tier.program_model
             TO customer_tier_owner;
GRANT INSERT, UPDATE, DELETE ON customer_tier.program, customer_tier.tier, customer_tier.feedback_source,
                                customer_tier.churn_settings, customer_tier.cadence, customer_tier.retention
             TO customer_tier_owner;
-- the trigger path logs the drift it repairs; the admin reads and prunes the log
GRANT INSERT ON customer_tier.drift_repair TO customer_tier_owner;
GRANT SELECT, DELETE ON customer_tier.drift_repair TO customer_tier_admin;
-- @end

-- @routines
-- Configuration, runs and verification: the admin only (all are revoked
-- from PUBLIC where they are defined).  Then the internal helpers that they
-- and the triggers call, granted to the role that needs them so that it keeps
-- them when they are revoked from PUBLIC.  Granted by name, every overload.
DO $grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT p.oid::regprocedure AS routine, w.grantee
          FROM (VALUES
                -- configuration, runs, verification
                ('create_program', 'customer_tier_admin'), ('drop_program', 'customer_tier_admin'),
                ('run_as_owner', 'customer_tier_admin'),
                ('attach_program_triggers', 'customer_tier_admin'), ('drop_program_triggers', 'customer_tier_admin'),
                ('text_of', 'customer_tier_admin'), ('row_image', 'customer_tier_admin'),
                ('configure_program', 'customer_tier_admin'), ('set_tiers', 'customer_tier_admin'),
                ('default_tiers', 'customer_tier_admin'), ('set_method', 'customer_tier_admin'),
                ('pin_customer', 'customer_tier_admin'), ('unpin_customer', 'customer_tier_admin'),
                ('refresh_breakpoints', 'customer_tier_admin'), ('rescore_program', 'customer_tier_admin'),
                ('rescore_where', 'customer_tier_admin'), ('reclassify', 'customer_tier_admin'),
                ('refresh_population', 'customer_tier_admin'), ('population_recency_days', 'customer_tier_admin'), ('population_monetary', 'customer_tier_admin'), ('score_backfill', 'customer_tier_admin'),
                ('schedule', 'customer_tier_admin'), ('unschedule', 'customer_tier_admin'),
                ('verify_program', 'customer_tier_admin'), ('rebuild_program', 'customer_tier_admin'),
                ('program_scratch_sql', 'customer_tier_admin'), ('program_recompute_sql', 'customer_tier_admin'),
                ('program_state_horizon', 'customer_tier_admin'), ('rebuilt_row_sql', 'customer_tier_admin'),
                ('rebuilt_rows_sql', 'customer_tier_admin'), ('rebuilt_states_sql', 'customer_tier_admin'),
                ('stored_customer_same', 'customer_tier_admin'),
                ('create_program_objects', 'customer_tier_admin'), ('drop_program_objects', 'customer_tier_admin'),
                ('create_program_views', 'customer_tier_admin'), ('drop_program_views', 'customer_tier_admin'),
                ('create_program_run_views', 'customer_tier_admin'),
                ('set_churn_rules', 'customer_tier_admin'), ('fit_program_model', 'customer_tier_admin'),
                -- internal helpers
                ('column_type', 'customer_tier_admin'), ('check_column_type', 'customer_tier_admin'),
                ('customer_index_missing', 'customer_tier_admin'),
                ('program_row_problem_sql', 'customer_tier_admin'), ('program_row_counts_sql', 'customer_tier_admin'),
                ('program_row_checks', 'customer_tier_admin'), ('method_conditions', 'customer_tier_admin'),
                ('program_reject_sqlstate_sql', 'customer_tier_admin'), ('feedback_reject_sqlstate_sql', 'customer_tier_admin'),
                ('program_rejects_sql', 'customer_tier_admin'), ('program_backfill_sql', 'customer_tier_admin'),
                ('program_delta_sql', 'customer_tier_admin'), ('program_trigger_name', 'customer_tier_admin'),
                ('put_program_triggers', 'customer_tier_admin'), ('remove_program_triggers', 'customer_tier_admin'),
                ('maintain_orders', 'customer_tier_admin'), ('orders_tables', 'customer_tier_admin'),
                ('apply_pending', 'customer_tier_admin'), ('apply_pending', 'customer_tier_writer'),
                ('apply_pending', 'customer_tier_reader'),
                ('program_scored_columns', 'customer_tier_admin'), ('program_config_cte_sql', 'customer_tier_admin'),
                ('scored_row', 'customer_tier_admin'), ('scored_row_changed', 'customer_tier_admin'), ('tier_implies', 'customer_tier_admin'),
                ('check_tier_set', 'customer_tier_admin'), ('check_program_tiers', 'customer_tier_admin'),
                ('customer_key_text', 'customer_tier_admin'), ('run_lock_key', 'customer_tier_admin'),
                ('announce_tier_change', 'customer_tier_admin'), ('program_row', 'customer_tier_admin'),
                -- Citus (67): create_program over distributed orders
                ('citus_table_kind', 'customer_tier_admin'), ('citus_distribute_program', 'customer_tier_admin'),
                ('citus_program_catalog', 'customer_tier_admin'), ('citus_sync_program', 'customer_tier_admin'),
                ('citus_rescore_where', 'customer_tier_admin'),
                ('citus_allow_triggers', 'customer_tier_admin'), ('citus_placement_here', 'customer_tier_admin'),
                -- erasure and retention (85, 86)
                ('forget', 'customer_tier_admin'), ('was_forgotten', 'customer_tier_admin'),
                ('set_retention', 'customer_tier_admin'), ('purge', 'customer_tier_admin'),
                ('purge_older', 'customer_tier_admin'),
                ('retention_of', 'customer_tier_reader'),
                ('hmac_sha256', 'customer_tier_admin'), ('erasure_hash', 'customer_tier_admin'),
                ('erasure_key', 'customer_tier_admin'), ('erasure_check_sources', 'customer_tier_admin'),
                ('program_sources', 'customer_tier_admin'),
                ('erasure_delete', 'customer_tier_admin'), ('erasure_record', 'customer_tier_admin'),
                ('churn_settings_array', 'customer_tier_admin'), ('churn_assess', 'customer_tier_admin'),
                ('program_tier_config', 'customer_tier_reader'),
                ('btyd_summary', 'customer_tier_admin'), ('tier_model_rules', 'customer_tier_admin'),
                ('program_segments_view_sql', 'customer_tier_admin'), ('program_churn_risk_view_sql', 'customer_tier_admin'),
                ('tier_model_rules', 'customer_tier_reader'),
                ('program_row', 'customer_tier_reader'),
                ('named_program_row', 'customer_tier_admin'), ('named_program_row', 'customer_tier_reader'),
                -- the instant a program scores against (69): its views read it
                ('check_scoring_date', 'customer_tier_admin'), ('set_scoring_date', 'customer_tier_admin'),
                ('program_as_of', 'customer_tier_reader'), ('program_as_of', 'customer_tier_writer'),
                -- reading a program's rules is BI's business too
                ('tier_rules', 'customer_tier_reader'), ('tier_conditions', 'customer_tier_reader'),
                ('tier_conditions_text', 'customer_tier_reader'),
                -- feedback, contacts, cadence, follow-ups and KPIs (parts 80-88)
                ('attach_feedback', 'customer_tier_admin'), ('detach_feedback', 'customer_tier_admin'),
                ('refresh_satisfaction', 'customer_tier_admin'), ('set_cadence', 'customer_tier_admin'),
                ('verify_feedback', 'customer_tier_admin'),
                ('log_contact', 'customer_tier_writer'), ('log_contact', 'customer_tier_admin'),
                ('cadences', 'customer_tier_reader'),
                ('default_cadence', 'customer_tier_reader'), ('default_cadence', 'customer_tier_writer'),
                ('kpi_periods', 'customer_tier_reader'),
                ('create_followup_objects', 'customer_tier_admin'), ('drop_followup_objects', 'customer_tier_admin'),
                ('grant_followup_access', 'customer_tier_admin'), ('create_feedback_tables', 'customer_tier_admin'),
                ('create_contact_objects', 'customer_tier_admin'), ('create_kpi_functions', 'customer_tier_admin'),
                ('kpi_cohort_sql', 'customer_tier_admin'), ('kpi_satisfaction_sql', 'customer_tier_admin'), ('feedback_row_problem_sql', 'customer_tier_admin'),
                ('feedback_usable_sql', 'customer_tier_admin'), ('feedback_rejects_sql', 'customer_tier_admin'),
                ('satisfaction_rollup_sql', 'customer_tier_admin'), ('feedback_collect_sql', 'customer_tier_admin'),
                ('feedback_settle_sql', 'customer_tier_admin'), ('feedback_repair_sql', 'customer_tier_admin'), ('maintain_feedback', 'customer_tier_admin'),
                ('put_feedback_triggers', 'customer_tier_admin'),
                ('feed_recent_satisfaction', 'customer_tier_admin'), ('drop_feedback_triggers', 'customer_tier_admin'),
                ('feedback_source_row', 'customer_tier_admin'),
                ('feedback_trigger_name', 'customer_tier_admin'),
                ('maintain_contacts', 'customer_tier_admin'), ('put_contacts_triggers', 'customer_tier_admin'),
                ('forget_last_contacts', 'customer_tier_admin'), ('create_follow_ups_view', 'customer_tier_admin'),
                ('follow_up_priority_sql', 'customer_tier_admin'),
                -- summaries (65)
                ('customers_changed', 'customer_tier_admin'), ('compact_summary', 'customer_tier_admin'),
                ('create_summary_objects', 'customer_tier_admin'), ('create_summary_views', 'customer_tier_admin'),
                ('put_change_triggers', 'customer_tier_admin'), ('create_change_objects', 'customer_tier_admin'),
                -- the change feed (87): the CRM's workers consume it, BI does not
                ('create_feed_objects', 'customer_tier_admin'),
                ('register_consumer', 'customer_tier_admin'), ('register_consumer', 'customer_tier_writer'),
                ('unregister_consumer', 'customer_tier_admin'), ('unregister_consumer', 'customer_tier_writer'),
                ('reset_consumer', 'customer_tier_admin'), ('reset_consumer', 'customer_tier_writer'),
                ('consume_events', 'customer_tier_admin'), ('consume_events', 'customer_tier_writer'),
                ('feed_schema', 'customer_tier_admin'), ('feed_schema', 'customer_tier_writer'),
                ('text_of', 'customer_tier_writer')) AS w (routine, grantee)
          JOIN pg_catalog.pg_proc AS p
            ON p.proname = w.routine
           AND p.pronamespace = 'customer_tier'::regnamespace
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO %I', g.routine, g.grantee);
    END LOOP;
END
$grants$;

-- Grant the roles what they need on a program's objects (called by
-- create_program_objects, once the program's objects exist).  The reader
-- sees every view of the schema (they show BI data and never the internal
-- states), the tier history, and the customers' columns other than the
-- order_stats states; never the rejects, which hold whole order rows.  The
-- writer sees the segments view only.  The admin may also correct and erase
-- (rescore_program updates customers; erasure deletes from all three tables).
-- Functions of the schema are revoked from PUBLIC; its views' and ordinary
-- functions are granted to the reader.
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
     WHERE a.attrelid = format('%I.customers', s)::regclass
       AND a.attnum > 0
       AND NOT a.attisdropped
       AND a.atttypid <> 'customer_tier.order_stats_state'::regtype;
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
         WHERE c.relnamespace = s::regnamespace
           AND c.relkind = 'r'
         ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO customer_tier_admin', s, obj.relname);
    END LOOP;

    FOR obj IN
        SELECT c.relname FROM pg_class AS c
         WHERE c.relnamespace = s::regnamespace
           AND c.relkind = ANY ('{v,m}'::"char"[])
         ORDER BY c.relname
    LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO customer_tier_reader', s, obj.relname);
        IF obj.relname = 'segments' THEN
            EXECUTE format('GRANT SELECT ON %I.%I TO customer_tier_writer', s, obj.relname);
        END IF;
    END LOOP;

    FOR obj IN
        SELECT p.oid::regprocedure AS fn, p.prorettype = 'trigger'::regtype AS is_trigger
          FROM pg_proc AS p
         WHERE p.pronamespace = s::regnamespace
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

-- The owner of the programs runs the steps of attaching and detaching and the
-- trigger functions, which call the extension's routines: all of them (the
-- owner_* steps only it).  Last, so that it sees every routine.
DO $owner_grants$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT p.oid::regprocedure AS routine FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace = 'customer_tier'::regnamespace
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO customer_tier_owner', g.routine);
    END LOOP;
END
$owner_grants$;
-- @end

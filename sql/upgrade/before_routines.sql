-- customer_tier upgrade from the previous release (0.2.0) to this version,
-- part 1 of 3: what must change before the routines are created again.
--
-- The Makefile builds customer_tier--<previous>--<version>.sql from this
-- file, then every routine of the install parts (their "-- @routines"
-- regions, CREATE OR REPLACE), then sql/upgrade/after_routines.sql.  So a
-- routine lives in its install part only; this file holds the changes to
-- tables, types, roles and privileges that the routines need, and drops the
-- routines that are gone or whose signature, return type or parameter names
-- changed (CREATE OR REPLACE cannot change those).  0.2.0 is
-- sql/releases/customer_tier--0.2.0.sql, frozen.  test/scripts/upgrade.sh
-- checks that a database updated from every frozen release holds exactly
-- what CREATE EXTENSION builds (docs/testing.md, "Upgrades").
\echo Use "ALTER EXTENSION customer_tier UPDATE" to load this file. \quit
--
-- Changes from 0.2.0 (security, docs/security.md):
--   role   customer_tier_owner (NOLOGIN, no members) owns every program's
--          schema and objects; CREATE on the database; SELECT on the catalog,
--          INSERT/UPDATE/DELETE on the rows attaching and detaching write,
--          EXECUTE on every routine
--   new    part 58_trust.sql: text_of, row_image (reading CRM rows without
--          casts), run_as_owner (C: the steps below as customer_tier_owner)
--   new    owner_attach, owner_backfilled, owner_detach, owner_attach_feedback,
--          owner_detach_feedback (the steps), check_table_rights, check_attached_by,
--          score_backfill (the backfill staged, then written once, scored),
--          scored_row_changed (rescore_where's test of what changed, in C),
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

-- ==== the catalog: who attached each program ====
ALTER TABLE customer_tier.program ADD COLUMN attached_by regrole;
UPDATE customer_tier.program AS p
   SET attached_by = (SELECT n.nspowner FROM pg_catalog.pg_namespace AS n
                       WHERE n.nspname OPERATOR(pg_catalog.=) p.data_schema);
ALTER TABLE customer_tier.program ALTER COLUMN attached_by SET NOT NULL;
COMMENT ON COLUMN customer_tier.program.attached_by IS 'the role that attached the program (create_program): only it, or a superuser, may drop it';

-- ==== drift repairs are logged (live maintenance) ====
-- (the table: its install part, 63_program_verify.sql, "-- @new-before" region)
-- ==== bounded states (issue 18): frequency windows in whole days, states rebuilt bounded below ====
ALTER TABLE customer_tier.churn_settings DROP CONSTRAINT churn_frequency_window_days;
UPDATE customer_tier.churn_settings SET frequency_window_days = pg_catalog.ceil(frequency_window_days)
 WHERE frequency_window_days OPERATOR(pg_catalog.<>) pg_catalog.trunc(frequency_window_days);
ALTER TABLE customer_tier.churn_settings ADD CONSTRAINT churn_frequency_window_days
    CHECK (frequency_window_days >= 1 AND frequency_window_days <= 36525 AND frequency_window_days = pg_catalog.trunc(frequency_window_days));
COMMENT ON COLUMN customer_tier.churn_settings.frequency_window_days IS 'flag frequency_falling: length in whole UTC days of the recent window and of the window before it (default 90)';

-- ==== the run log's numbering survives a restore ====
-- 0.2.0 registered the run log for pg_dump but not its identity sequence: a
-- restored database numbered new runs from 1 again and its first runs failed.
SELECT pg_catalog.pg_extension_config_dump('customer_tier.run_id_seq', '');

-- ==== historical data: a program's scoring date (issue 19) ====
ALTER TABLE customer_tier.program ADD COLUMN scoring_date timestamptz
    CONSTRAINT program_scoring_date_finite CHECK (pg_catalog.isfinite(scoring_date));
COMMENT ON COLUMN customer_tier.program.scoring_date IS 'the fixed instant the program scores against (historical data: create_program''s as_of, reclassify''s as_of, set_scoring_date); NULL: the clock, each transaction''s start';

-- ==== routines whose signature, return type or parameters changed, or that are gone ====
-- (every routine of the install parts is created again after this file)
DROP FUNCTION customer_tier.announce_tier_change(text, jsonb, text, text, text, text);
DROP FUNCTION customer_tier.create_program_objects(customer_tier.program);

DROP FUNCTION customer_tier.feedback_apply_block_sql(customer_tier.program, customer_tier.feedback_source, text, text);

-- create_program takes as_of (issue 19: historical data)
DROP FUNCTION customer_tier.create_program(text, regclass, name, name, name, name, text[], name);

-- its OUT parameters gained sqlstates: dropped and created again
DROP FUNCTION customer_tier.program_row_checks(customer_tier.program, text);

DROP FUNCTION customer_tier.program_apply_sql(customer_tier.program, text, text, text);
DROP FUNCTION customer_tier.program_apply_block_sql(customer_tier.program, text, text);
DROP FUNCTION customer_tier.program_maintain_function_sql(customer_tier.program);

-- reclassify takes as_of (issue 19: historical data)
DROP PROCEDURE customer_tier.reclassify(text, integer);

-- the one scoring path in C (docs/architecture.md):
-- The runs score through scored_row, on the program's own row type, with the
-- configuration cached in C as the trigger path does; the 27-argument
-- score_program_customer and the SQL fragment that called it go.
DROP FUNCTION customer_tier.program_scoring_sql(text, text, text, text, text, text);
DROP FUNCTION customer_tier.score_program_customer(double precision[], customer_tier.bgnbd_model,
    customer_tier.gamma_gamma_model, customer_tier.order_stats_state, numeric, double precision, text,
    timestamptz, text, timestamptz, bigint, timestamptz, double precision[], double precision[],
    double precision[], double precision[], double precision[], text[], text, timestamptz, timestamptz,
    text, integer, interval, timestamptz, double precision[], text);

-- the periods end at the program's scoring date
DROP FUNCTION customer_tier.kpi_periods(text, timestamptz, timestamptz);

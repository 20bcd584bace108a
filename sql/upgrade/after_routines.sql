-- customer_tier upgrade from the previous release (0.2.0) to this version,
-- part 3 of 3: what needs the routines created again just before this file
-- (sql/upgrade/before_routines.sql says how the script is built): triggers
-- on the catalog, and each program's own objects.
\echo Use "ALTER EXTENSION customer_tier UPDATE" to load this file. \quit

-- ==== partitioned orders tables: event triggers on partition DDL (live maintenance) ====
CREATE EVENT TRIGGER customer_tier_partition_start ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE', 'DROP TABLE') EXECUTE FUNCTION customer_tier.partition_ddl();
CREATE EVENT TRIGGER customer_tier_partition_end ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION customer_tier.partition_ddl();

-- ==== configuration caches: the triggers on the catalog come from 76_config_cache.sql ("-- @new-after") ====

-- follow-ups and the churn list at screen speed (issue 16):
-- Each customer stores its tier's rank, its rise into the tier, its last
-- contact and when its next contact falls due, kept by the one scoring path;
-- the cadences are part of the cached configuration; the contacts table gets
-- a trigger; follow_ups_due and churn_risk read an index (the programs'
-- columns, indexes and views are made in the loop below).
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON customer_tier.cadence
    FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.config_changed();
ALTER TABLE customer_tier.cadence ENABLE ALWAYS TRIGGER config_changed;

-- ==== catalog privileges (the roles block ran with the routines) ====
REVOKE INSERT, UPDATE, DELETE ON customer_tier.program FROM customer_tier_admin;
GRANT UPDATE (method, score_weights, downgrade_grace, reject_mode, r_breakpoints, f_breakpoints,
              m_breakpoints, scored_at, scoring_date) ON customer_tier.program TO customer_tier_admin;
REVOKE INSERT, UPDATE, DELETE ON customer_tier.feedback_source FROM customer_tier_admin;
GRANT UPDATE (satisfaction_window) ON customer_tier.feedback_source TO customer_tier_admin;
COMMENT ON COLUMN customer_tier.pin.reason IS 'why the customer is pinned (required); free text: readable by the admin role only';
REVOKE SELECT ON customer_tier.pin FROM customer_tier_reader;
GRANT SELECT (program, customer, tier, pinned_at, pinned_by, expires_at) ON customer_tier.pin TO customer_tier_reader;
GRANT SELECT ON customer_tier.pin TO customer_tier_admin;
-- (the owner's grants on the catalog: 90_roles.sql, "-- @new-after")

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
                ADD COLUMN last_contact_at timestamptz, ADD COLUMN follow_up_due_at timestamptz,
                ADD COLUMN risk_stake double precision, ADD COLUMN risk_monetary numeric,
                SET (fillfactor = 90);
            COMMENT ON COLUMN %1$I.customers.tier_rank IS 'rank of the current tier, 1 = best, as last scored; NULL without a tier';
            COMMENT ON COLUMN %1$I.customers.rose_at IS 'when the customer rose into the current tier from a lower one; NULL when it got the tier otherwise';
            COMMENT ON COLUMN %1$I.customers.last_contact_at IS 'input: the customer''s last contact (contacts table), kept by its trigger; NULL if never';
            COMMENT ON COLUMN %1$I.customers.follow_up_due_at IS 'when the next contact is due (follow_ups_due): the tier''s cadence after the last contact, or at once after a rise not followed by one';
            COMMENT ON COLUMN %1$I.customers.risk_stake IS 'the churn list''s first key while the customer is on it (predicted_clv, -Infinity without one); NULL when not at risk';
            COMMENT ON COLUMN %1$I.customers.risk_monetary IS 'the churn list''s second key while the customer is on it (monetary); NULL when not at risk';
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
        PERFORM customer_tier.create_change_objects(prog);
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

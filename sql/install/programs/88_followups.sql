-- customer_tier install script, part 88: what a program gets for feedback,
-- contacts and KPIs when it is created, and what each role may do with it
-- (docs/followups.md, docs/security.md).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- Grant the roles their privileges on a program's feedback and contact
-- objects.  The reader sees answers, satisfaction, the follow-ups and the
-- KPIs, and the contact log without its note (personal free text); the
-- writer logs contacts and reads nothing of them but the id an INSERT
-- ... RETURNING id (log_contact) hands back: no note, outcome or follow-up
-- list, which a CRM application has no need to read back; the admin may
-- also correct and erase, and any admin (not only the program's owner) may
-- refresh the rolling windows.
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

-- Create a program's feedback, contact and KPI objects (called by
-- create_program_objects, after the program's views).
CREATE OR REPLACE FUNCTION customer_tier.create_followup_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM customer_tier.create_feedback_tables(prog);
    PERFORM customer_tier.create_contact_objects(prog);
    PERFORM customer_tier.create_kpi_functions(prog);
    PERFORM customer_tier.grant_followup_access(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_followup_objects(customer_tier.program) IS
    'create a program''s answers, satisfaction, feedback_rejects and contacts tables, follow_ups_due view, satisfaction_by_tier and kpis functions';

-- Remove what create_followup_objects made in the program's schema (called
-- by drop_program_objects, first, as customer_tier_owner; the feedback
-- table's triggers went before, as their table's owner, and the
-- feedback_source row goes with the program, ON DELETE CASCADE).  RESTRICT: a user's own object that
-- depends on them makes drop_program fail.
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

REVOKE ALL ON FUNCTION customer_tier.grant_followup_access(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.create_followup_objects(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_followup_objects(customer_tier.program) FROM PUBLIC;
-- @end

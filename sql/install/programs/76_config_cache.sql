-- @routines
-- The trigger path reads each program's scoring configuration once per
-- backend into C and keeps it (src/programs/program_config.c).  A write to any table
-- the configuration is made of tells every backend to read it again: this
-- statement trigger sends an invalidation for the table, delivered at the
-- writer's commit.  ENABLE ALWAYS: a restore or replication session with
-- session_replication_role = replica changes the configuration too.
CREATE OR REPLACE FUNCTION customer_tier.config_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'config_changed'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.config_changed() IS
    'trigger on the configuration tables: backends read the programs'' cached configuration again after the change commits';
REVOKE ALL ON FUNCTION customer_tier.config_changed() FROM PUBLIC;
-- @end

-- @new-after
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
-- @end

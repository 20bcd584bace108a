-- customer_tier install script, part 66: a program's views for BI tools.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- Create the views of a program's schema (called by create_program_objects).
CREATE FUNCTION customer_tier.create_program_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN;
END
$$;
COMMENT ON FUNCTION customer_tier.create_program_views(customer_tier.program) IS
    'create the BI views of a program''s schema';

-- Drop the views of a program's schema (called by drop_program_objects, first).
CREATE FUNCTION customer_tier.drop_program_views(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN;
END
$$;
COMMENT ON FUNCTION customer_tier.drop_program_views(customer_tier.program) IS
    'drop the BI views of a program''s schema';

REVOKE ALL ON FUNCTION customer_tier.create_program_views(customer_tier.program) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.drop_program_views(customer_tier.program) FROM PUBLIC;

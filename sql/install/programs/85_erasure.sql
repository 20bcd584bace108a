-- customer_tier install script, part 85: erasure on request (docs/data-protection.md).
--
-- customer_tier.forget(program, customer) removes every row of derived data
-- the extension holds for one customer key, found GENERICALLY so that tables
-- added later are covered without edits:
--   * every table of the program's schema (ct_<name>) with a column named
--     "customer" (the convention for per-program tables);
--   * every table of that schema with a jsonb column named "row_image" (the
--     rejects), whose image carries the key under the program's customer_column;
--   * every table of schema customer_tier keyed by (program, customer text),
--     such as customer_tier.pin.
-- It refuses while a table the program is attached to (program_sources: its
-- orders table, its attached feedback table) still holds rows for the key:
-- the triggers would derive the customer again.  Each erasure is logged in
-- customer_tier.erasure_log with an HMAC-SHA256 of the key, never the key.
--
-- forget runs with its caller's rights (the admin), not as the extension's
-- owner: a program's schema belongs to the admin who created it, and a
-- trigger, a domain check or an operator there would otherwise run with the
-- owner's (superuser's) rights.  The admin may delete from a program's tables
-- (grant_program_access); only the secret is out of reach, behind
-- erasure_hash().
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- The per-database secret of the keyed hash.  Created by the first erasure,
-- not by CREATE EXTENSION, so that a restore of a dump brings back the
-- original secret (and with it every logged hash) instead of clashing with a
-- fresh one.  Readable by the extension's owner only: erasure_hash()
-- (SECURITY DEFINER) uses it; no role is granted it.
CREATE TABLE customer_tier.erasure_secret (
    id         boolean PRIMARY KEY DEFAULT true CONSTRAINT erasure_secret_one_row CHECK (id),
    secret     bytea NOT NULL CONSTRAINT erasure_secret_length CHECK (pg_catalog.length(secret) = 32),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE customer_tier.erasure_secret IS
    'the secret key of the HMAC that erasure_log stores instead of customer keys; one row, created by the first erasure';
COMMENT ON COLUMN customer_tier.erasure_secret.id IS 'always true: the table holds one row';
COMMENT ON COLUMN customer_tier.erasure_secret.secret IS '32 bytes from the server''s strong random source';
COMMENT ON COLUMN customer_tier.erasure_secret.created_at IS 'when the secret was generated';
REVOKE ALL ON customer_tier.erasure_secret FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('customer_tier.erasure_secret', '');

CREATE TABLE customer_tier.erasure_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erased_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    session_role  name NOT NULL,
    acting_role   name NOT NULL,
    program       text NOT NULL,
    customer_hash bytea NOT NULL,
    rows_deleted  jsonb NOT NULL,
    total         bigint NOT NULL
);
CREATE INDEX erasure_log_customer_hash ON customer_tier.erasure_log (customer_hash);
COMMENT ON TABLE customer_tier.erasure_log IS
    'one row per program per erasure request: when, by whom, how many rows from which table; the key only as a keyed hash';
COMMENT ON COLUMN customer_tier.erasure_log.id IS 'entry number';
COMMENT ON COLUMN customer_tier.erasure_log.erased_at IS 'when (the time of the erasing transaction)';
COMMENT ON COLUMN customer_tier.erasure_log.session_role IS 'the login that asked (session_user)';
COMMENT ON COLUMN customer_tier.erasure_log.acting_role IS 'the role it acted as (current_user: the SET ROLE, else the login)';
COMMENT ON COLUMN customer_tier.erasure_log.program IS 'the program erased from; kept when the program is dropped';
COMMENT ON COLUMN customer_tier.erasure_log.customer_hash IS 'HMAC-SHA256 of the canonical key text under the database''s erasure secret';
COMMENT ON COLUMN customer_tier.erasure_log.rows_deleted IS 'rows deleted per table, {"table": n}; tables with none left out';
COMMENT ON COLUMN customer_tier.erasure_log.total IS 'rows deleted in all';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.erasure_log', '');
SELECT pg_catalog.pg_extension_config_dump('customer_tier.erasure_log_id_seq', '');

-- @routines
-- HMAC-SHA256 (RFC 2104) built on the built-in sha256(): the keyed hash of
-- the erasure log.  A key longer than the 64-byte block is hashed first.
CREATE OR REPLACE FUNCTION customer_tier.hmac_sha256(key bytea, message bytea)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k bytea := key;
    inner_pad bytea;
    outer_pad bytea;
    i integer;
BEGIN
    IF length(k) > 64 THEN
        k := sha256(k);
    END IF;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    inner_pad := k;
    outer_pad := k;
    FOR i IN 0..63 LOOP
        inner_pad := set_byte(inner_pad, i, get_byte(k, i) # 54);   -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(k, i) # 92);   -- 0x5c
    END LOOP;
    RETURN sha256(outer_pad || sha256(inner_pad || message));
END
$$;
COMMENT ON FUNCTION customer_tier.hmac_sha256(bytea, bytea) IS
    'HMAC-SHA256 of a message under a key (RFC 2104), from the built-in sha256()';

-- The keyed hash of a customer key: HMAC-SHA256 under the database's erasure
-- secret, which the first call generates.  gen_random_uuid() draws from the
-- server's strong random source (pg_strong_random); two version-4 uuids give
-- 244 random bits.  The one SECURITY DEFINER function of the extension's
-- schema: it lets the admin hash keys without reading the secret, and it
-- touches nothing but the extension's own table and functions, so running as
-- the extension's owner hands no one else's objects that owner's rights.
CREATE OR REPLACE FUNCTION customer_tier.erasure_hash(key text)
RETURNS bytea
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s bytea;
BEGIN
    SELECT e.secret INTO s FROM customer_tier.erasure_secret AS e;
    IF s IS NULL THEN
        INSERT INTO customer_tier.erasure_secret AS e (secret)
        VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text,
                               '-', ''), 'hex'))
        ON CONFLICT (id) DO NOTHING;
        SELECT e.secret INTO s FROM customer_tier.erasure_secret AS e;
    END IF;
    RETURN customer_tier.hmac_sha256(s, convert_to(key, 'UTF8'));
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_hash(text) IS
    'HMAC-SHA256 of a customer key under the database''s erasure secret (generated on first use), as erasure_log stores it';

-- The canonical key text of a customer for a program, or NULL when the text
-- is not a valid key of the program's key type (forget(customer) skips such
-- programs; forget(program, customer) reports the error).
CREATE OR REPLACE FUNCTION customer_tier.erasure_key(prog customer_tier.program, customer text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
BEGIN
    EXECUTE format('SELECT ($1::%s)::text', prog.customer_type) INTO key USING customer;
    RETURN key;
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_key(customer_tier.program, text) IS
    'canonical key text of a customer for a program, NULL if the text is not a valid key of its type';

-- The CRM tables a program derives data from, with the column holding the
-- customer key in each: the orders table and, when attached, the feedback
-- table.  Erasure checks them for the key and matches reject row images
-- (copies of their rows) on their key columns.
CREATE OR REPLACE FUNCTION customer_tier.program_sources(prog customer_tier.program)
RETURNS TABLE (source regclass, customer_column name)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT prog.orders_table, prog.customer_column
    UNION
    SELECT f.feedback_table, f.customer_column FROM customer_tier.feedback_source AS f
     WHERE f.program = prog.name;
END;
COMMENT ON FUNCTION customer_tier.program_sources(customer_tier.program) IS
    'the CRM tables a program derives data from (orders, attached feedback) and their customer key columns';
REVOKE ALL ON FUNCTION customer_tier.program_sources(customer_tier.program) FROM PUBLIC;

-- Refuse to erase a key that a table the program is attached to still holds:
-- its triggers would derive the customer again.  The attached tables and
-- their key columns are program_sources(): the orders table and the attached
-- feedback table.
-- SHARE locks keep new rows for the key out until the erasure commits.
-- The key never appears in the message: errors reach the server log.
CREATE OR REPLACE FUNCTION customer_tier.erasure_check_sources(prog customer_tier.program, key text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src record;
    still boolean;
BEGIN
    FOR src IN
        SELECT t.rel, a.attname, format_type(a.atttypid, a.atttypmod) AS typ
          FROM (SELECT ps.source::oid AS rel, ps.customer_column FROM customer_tier.program_sources(prog) AS ps) AS t
          JOIN pg_attribute AS a ON a.attrelid = t.rel
                                AND a.attname = t.customer_column
                                AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY t.rel
    LOOP
        EXECUTE format('LOCK TABLE %s IN SHARE MODE', src.rel::regclass);
        BEGIN
            EXECUTE format('SELECT EXISTS (SELECT FROM %s AS o WHERE o.%I = $1::%s)',
                           src.rel::regclass, src.attname, src.typ)
               INTO still USING key;
        EXCEPTION WHEN data_exception THEN
            still := false;      -- the key is not even a value of that column's type
        END;
        IF still THEN
            RAISE EXCEPTION 'program "%": the customer still has rows in %', prog.name, src.rel::regclass
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The program derives its data from %s (column %s); erased data would be derived again.',
                                      src.rel::regclass, src.attname),
                      HINT = format('Delete the customer''s rows from %s first (the CRM''s own data), then call customer_tier.forget again.',
                                    src.rel::regclass);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_check_sources(customer_tier.program, text) IS
    'refuse (55000) to erase a key that a table the program is attached to still holds';

-- Delete every row of one key from one program: returns {"table": rows} for
-- the tables that had some.  Tables that reference others are emptied first,
-- so a foreign key between per-program tables (any action) cannot block it.
CREATE OR REPLACE FUNCTION customer_tier.erasure_delete(prog customer_tier.program, key text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    n bigint;
    counts jsonb := '{}';
    -- a reject row image is a copy of a source row: the key is under that
    -- source's customer column
    image_match text := (SELECT pg_catalog.string_agg(
                                    format('(d.row_image ->> %L) = $1',
                                           ps.customer_column), ' OR ')
                           FROM customer_tier.program_sources(prog) AS ps);
BEGIN
    FOR t IN
        WITH RECURSIVE tabs AS (
            SELECT c.oid FROM pg_class AS c
             WHERE c.relnamespace = prog.data_schema::regnamespace
               AND c.relkind = ANY ('{r,p}'::"char"[]) AND NOT c.relispartition
        ), edges AS (
            SELECT DISTINCT k.conrelid AS child, k.confrelid AS parent
              FROM pg_constraint AS k
             WHERE k.contype = 'f'
               AND k.conrelid <> k.confrelid
               AND k.conrelid IN (SELECT oid FROM tabs) AND k.confrelid IN (SELECT oid FROM tabs)
        ), height (oid, h) AS (
            SELECT oid, 0 FROM tabs
            UNION ALL
            SELECT e.parent, x.h + 1
              FROM height AS x JOIN edges AS e ON e.child = x.oid
             WHERE x.h < 32
        )
        SELECT x.oid::regclass AS rel, c.relname,
               (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a
                 WHERE a.attrelid = x.oid AND a.attname = 'customer'
                   AND a.attnum > 0 AND NOT a.attisdropped) AS key_type,
               EXISTS (SELECT FROM pg_attribute AS a
                        WHERE a.attrelid = x.oid AND a.attname = 'row_image'
                          AND a.atttypid = 'jsonb'::regtype AND NOT a.attisdropped) AS has_image
          FROM (SELECT oid, max(h) AS h FROM height GROUP BY oid) AS x
          JOIN pg_class AS c ON c.oid = x.oid
         ORDER BY x.h, c.relname
    LOOP
        CONTINUE WHEN t.key_type IS NULL AND NOT t.has_image;
        BEGIN
            EXECUTE format('DELETE FROM %s AS d WHERE %s OR %s', t.rel,
                           CASE WHEN t.key_type IS NULL THEN 'false'
                                ELSE format('d.customer = $1::%s', t.key_type) END,
                           CASE WHEN t.has_image THEN image_match ELSE 'false' END)
              USING key;
        EXCEPTION WHEN data_exception THEN
            -- the key is not a value of this table's customer column type:
            -- it can only be in the row images
            EXECUTE format('DELETE FROM %s AS d WHERE %s', t.rel,
                           CASE WHEN t.has_image THEN image_match ELSE 'false' END)
              USING key;
        END;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object(t.relname, n);
        END IF;
    END LOOP;

    -- global tables keyed by (program, customer): the canonical key text
    FOR t IN
        SELECT c.oid::regclass AS rel, c.relname
          FROM pg_class AS c
         WHERE c.relnamespace = 'customer_tier'::regnamespace
           AND c.relkind = ANY ('{r,p}'::"char"[]) AND NOT c.relispartition
           AND (SELECT count(*) FROM pg_attribute AS a
                 WHERE a.attrelid = c.oid AND NOT a.attisdropped
                   AND a.atttypid = ANY ('{text,varchar}'::regtype[])
                   AND a.attname = ANY ('{program,customer}'::name[])) = 2
         ORDER BY c.relname
    LOOP
        EXECUTE format('DELETE FROM %s AS d WHERE d.program = $1 AND d.customer = $2',
                       t.rel)
          USING prog.name, key;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object('customer_tier.' || t.relname, n);
        END IF;
    END LOOP;
    RETURN counts;
END
$$;
COMMENT ON FUNCTION customer_tier.erasure_delete(customer_tier.program, text) IS
    'delete every row of a customer key from a program''s tables and the program''s rows of the global tables';

-- Log one program's erasure of one key.
CREATE OR REPLACE FUNCTION customer_tier.erasure_record(program text, key text, counts jsonb)
RETURNS void
LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    INSERT INTO customer_tier.erasure_log (session_role, acting_role, program, customer_hash, rows_deleted, total)
    SELECT SESSION_USER,
           CURRENT_USER,
           program,
           customer_tier.erasure_hash(key),
           counts,
           (SELECT coalesce(pg_catalog.sum(v::bigint), 0) FROM pg_catalog.jsonb_each_text(counts) AS j (k, v));
END;
COMMENT ON FUNCTION customer_tier.erasure_record(text, text, jsonb) IS
    'record an erasure in erasure_log, with the keyed hash of the key';

-- Erase one customer from one program.
CREATE OR REPLACE FUNCTION customer_tier.forget(program text, customer text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text;
    counts jsonb;
BEGIN
    IF program IS NULL OR customer IS NULL THEN
        RAISE EXCEPTION 'program and customer must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    prog := customer_tier.program_row(program);
    key := customer_tier.erasure_key(prog, customer);
    IF key IS NULL THEN
        RAISE EXCEPTION 'the customer key is not a valid % for program "%"', prog.customer_type, prog.name
            USING ERRCODE = 'invalid_text_representation',
                  HINT = format('Pass the key as it appears in column %s of %s.', prog.customer_column, prog.orders_table);
    END IF;
    PERFORM customer_tier.erasure_check_sources(prog, key);
    counts := customer_tier.erasure_delete(prog, key);
    PERFORM customer_tier.erasure_record(prog.name, key, counts);
    RETURN counts;
END
$$;
COMMENT ON FUNCTION customer_tier.forget(text, text) IS
    'erase every row of derived data a program holds for a customer (refused while its orders remain); returns rows per table';

-- Erase one customer from every program whose key type accepts the key.
CREATE OR REPLACE FUNCTION customer_tier.forget(customer text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text;
    counts jsonb;
    result jsonb := '{}';
BEGIN
    IF customer IS NULL THEN
        RAISE EXCEPTION 'customer must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- every program is checked before anything is deleted; one refusal
    -- leaves all of them untouched
    FOR prog IN SELECT * FROM customer_tier.program AS p ORDER BY p.name LOOP
        key := customer_tier.erasure_key(prog, customer);
        IF key IS NOT NULL THEN
            PERFORM customer_tier.erasure_check_sources(prog, key);
        END IF;
    END LOOP;
    FOR prog IN SELECT * FROM customer_tier.program AS p ORDER BY p.name LOOP
        key := customer_tier.erasure_key(prog, customer);
        CONTINUE WHEN key IS NULL;
        counts := customer_tier.erasure_delete(prog, key);
        PERFORM customer_tier.erasure_record(prog.name, key, counts);
        result := result || jsonb_build_object(prog.name, counts);
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION customer_tier.forget(text) IS
    'erase a customer from every program whose key type accepts the key; returns {program: rows per table}';

-- Whether a customer key was erased from a program (by either form of forget).
CREATE OR REPLACE FUNCTION customer_tier.was_forgotten(program text, customer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program;
    key text := customer;
BEGIN
    IF program IS NULL OR customer IS NULL THEN
        RAISE EXCEPTION 'program and customer must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- a dropped program's log stays: the key is then hashed as given
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name = was_forgotten.program;
    IF FOUND THEN
        key := coalesce(customer_tier.erasure_key(prog, customer), customer);
    END IF;
    RETURN EXISTS (SELECT FROM customer_tier.erasure_log AS l
                    WHERE l.customer_hash = customer_tier.erasure_hash(key)
                      AND l.program = was_forgotten.program);
END
$$;
COMMENT ON FUNCTION customer_tier.was_forgotten(text, text) IS
    'whether a customer key was erased from a program, answered from the keyed hashes of erasure_log';

REVOKE ALL ON FUNCTION customer_tier.forget(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.forget(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.was_forgotten(text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.hmac_sha256(bytea, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_hash(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_key(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_check_sources(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_delete(customer_tier.program, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.erasure_record(text, text, jsonb) FROM PUBLIC;
-- @end

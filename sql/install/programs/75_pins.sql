-- customer_tier install script, part 75: manual pins of customers to tiers.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- Manual pins: a strategic account keeps its tier whatever its metrics say.
CREATE TABLE customer_tier.pin (
    program    text NOT NULL REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    customer   text NOT NULL,
    tier       text NOT NULL,
    reason     text NOT NULL
               CONSTRAINT pin_reason_not_blank CHECK (reason ~ '[^[:space:]]'),
    pinned_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    pinned_by  name NOT NULL DEFAULT CURRENT_USER,
    expires_at timestamptz,
    CONSTRAINT pin_pkey PRIMARY KEY (program, customer),
    -- NO ACTION on delete: a tier that customers are pinned to cannot be
    -- removed (set_tiers says so by name); renaming a tier carries its pins.
    FOREIGN KEY (program, tier) REFERENCES customer_tier.tier (program, tier) ON UPDATE CASCADE
);
COMMENT ON TABLE customer_tier.pin IS
    'manual pins: the customer has the pinned tier, whatever the metrics, until the pin expires or is removed';
COMMENT ON COLUMN customer_tier.pin.program IS 'the program the pin belongs to';
COMMENT ON COLUMN customer_tier.pin.customer IS 'the customer key in its canonical text form (key::text of the program''s key type)';
COMMENT ON COLUMN customer_tier.pin.tier IS 'the pinned tier';
COMMENT ON COLUMN customer_tier.pin.reason IS 'why the customer is pinned (required); free text: readable by the admin role only';
COMMENT ON COLUMN customer_tier.pin.pinned_at IS 'when the pin was set or last replaced';
COMMENT ON COLUMN customer_tier.pin.pinned_by IS 'the role that set the pin';
COMMENT ON COLUMN customer_tier.pin.expires_at IS 'the pin counts while as_of < expires_at; NULL = until removed';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.pin', '');

-- @routines
-- A customer key in its canonical text form for the program's key type
-- ('007' is '7' for bigint keys, a uuid in lowercase), or an error that
-- names the program and the key's length, never the key: errors reach the
-- server log, and a key is personal data (an e-mail address, say).
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

-- Pin a customer to a tier (or replace the customer's pin).
CREATE OR REPLACE FUNCTION customer_tier.pin_customer(program text, customer text, tier text, reason text,
                                           expires_at timestamptz DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
BEGIN
    IF program IS NULL OR customer IS NULL OR tier IS NULL THEN
        RAISE EXCEPTION 'program, customer and tier must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'To remove a pin, call customer_tier.unpin_customer(program, customer).';
    END IF;
    key := customer_tier.customer_key_text(program, customer);
    IF NOT EXISTS (SELECT FROM customer_tier.tier AS t
                    WHERE t.program = pin_customer.program AND t.tier = pin_customer.tier) THEN
        RAISE EXCEPTION 'tier "%" does not exist in program "%"', tier, program
            USING ERRCODE = 'undefined_object',
                  HINT = format('The tiers of program "%s" are: %s.', program,
                                (SELECT string_agg(t.tier, ', ' ORDER BY t.rank) FROM customer_tier.tier AS t
                                  WHERE t.program = pin_customer.program));
    END IF;
    IF reason IS NULL OR reason !~ '[^[:space:]]' THEN
        RAISE EXCEPTION 'a pin needs a reason'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Say why the customer keeps this tier, e.g. ''strategic account, contract until 2027''.';
    END IF;
    IF expires_at <= now() THEN
        RAISE EXCEPTION 'the pin''s expiry must be in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('expires_at is %s; the transaction started at %s.', expires_at, now()),
                  HINT = 'Pass a future time, or NULL for a pin that lasts until it is removed.';
    END IF;
    INSERT INTO customer_tier.pin AS p (program, customer, tier, reason, expires_at)
    VALUES (program, key, tier, reason, expires_at)
    ON CONFLICT ON CONSTRAINT pin_pkey DO UPDATE
       SET tier = excluded.tier, reason = excluded.reason, expires_at = excluded.expires_at,
           pinned_at = excluded.pinned_at, pinned_by = excluded.pinned_by;
    -- the pin takes effect now, through the one scoring path
    PERFORM customer_tier.rescore_program(program, 'pin', key);
END
$$;
COMMENT ON FUNCTION customer_tier.pin_customer(text, text, text, text, timestamptz) IS
    'pin a customer to a tier with a reason and an optional expiry, replacing any pin the customer has';

-- Remove a customer's pin; returns whether there was one.
CREATE OR REPLACE FUNCTION customer_tier.unpin_customer(program text, customer text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
BEGIN
    IF program IS NULL OR customer IS NULL THEN
        RAISE EXCEPTION 'program and customer must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    key := customer_tier.customer_key_text(program, customer);
    DELETE FROM customer_tier.pin AS p WHERE p.program = unpin_customer.program AND p.customer = key;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- back to the scores, through hysteresis: a downgrade waits for the grace period
    PERFORM customer_tier.rescore_program(program, 'unpin', key);
    RETURN true;
END
$$;
COMMENT ON FUNCTION customer_tier.unpin_customer(text, text) IS
    'remove a customer''s pin; returns true if there was one';

REVOKE ALL ON FUNCTION customer_tier.pin_customer(text, text, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.unpin_customer(text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.customer_key_text(text, text) FROM PUBLIC;
-- @end

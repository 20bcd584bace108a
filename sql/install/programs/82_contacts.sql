-- customer_tier install script, part 82: the contact log, the contact cadence
-- per tier and the follow-ups-due view (docs/followups.md).
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- Contact cadence per program and tier; a tier without a row has the default
-- (customer_tier.default_cadence).
CREATE TABLE customer_tier.cadence (
    program text NOT NULL REFERENCES customer_tier.program (name) ON DELETE CASCADE ON UPDATE CASCADE,
    tier    text NOT NULL,
    every   interval NOT NULL CONSTRAINT cadence_every_positive CHECK (every > '0'),
    CONSTRAINT cadence_pkey PRIMARY KEY (program, tier)
);
COMMENT ON TABLE customer_tier.cadence IS
    'contact cadence per program and tier set with set_cadence; a tier without a row has customer_tier.default_cadence(tier)';
COMMENT ON COLUMN customer_tier.cadence.program IS 'the program';
COMMENT ON COLUMN customer_tier.cadence.tier IS 'one of the program''s tiers';
COMMENT ON COLUMN customer_tier.cadence.every IS 'how often a customer of the tier is to be contacted (positive)';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.cadence', '');
-- The cadences are part of the scoring configuration: each customer's
-- follow_up_due_at counts with its tier's (config_changed, part 76).
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON customer_tier.cadence
    FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.config_changed();
ALTER TABLE customer_tier.cadence ENABLE ALWAYS TRIGGER config_changed;

-- @routines
-- The cadence of a tier without a setting.
CREATE OR REPLACE FUNCTION customer_tier.default_cadence(tier text)
RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE tier WHEN 'diamond' THEN interval '30 days'
                 WHEN 'gold' THEN interval '60 days'
                 ELSE interval '180 days' END;
COMMENT ON FUNCTION customer_tier.default_cadence(text) IS
    'default contact cadence of a tier without a setting: diamond 30 days, gold 60 days, any other tier 180 days';

-- Every tier of a program with its cadence in effect.
CREATE OR REPLACE FUNCTION customer_tier.cadences(program text)
RETURNS TABLE (tier text, rank integer, every interval, is_default boolean)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    prog customer_tier.program;
BEGIN
    prog := customer_tier.named_program_row(program);
    RETURN QUERY
    SELECT t.tier, t.rank, coalesce(c.every, customer_tier.default_cadence(t.tier)), c.every IS NULL
      FROM customer_tier.tier AS t
      LEFT JOIN customer_tier.cadence AS c
        ON c.program = t.program AND c.tier = t.tier
     WHERE t.program = prog.name
     ORDER BY t.rank;
END
$$;
COMMENT ON FUNCTION customer_tier.cadences(text) IS
    'every tier of a program, best first, with its contact cadence and whether it is the default';

-- Set the cadence of some tiers of a program: {"diamond": "2 weeks", "gold": 45}
-- (a string is an interval, a number is days, null restores the default).
-- Tiers not named keep theirs.  Returns the number of tiers named.
CREATE OR REPLACE FUNCTION customer_tier.set_cadence(program text, cadences jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'Pass an object from tier to interval, e.g. {"diamond": "30 days", "gold": "2 months", "normal": 180}; a number is days, null restores the default.';
    prog customer_tier.program;
    tiers text[];
    key text;
    val jsonb;
    every interval;
    n integer := 0;
BEGIN
    IF program IS NULL OR cadences IS NULL THEN
        RAISE EXCEPTION 'program and cadences must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = example;
    END IF;
    prog := customer_tier.program_row(program);
    IF jsonb_typeof(cadences) <> 'object' THEN
        RAISE EXCEPTION 'cadences must be a JSON object, not %', jsonb_typeof(cadences)
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    IF cadences = '{}'::jsonb THEN
        RAISE EXCEPTION 'cadences must name at least one tier'
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    SELECT array_agg(t.tier ORDER BY t.rank) INTO tiers
      FROM customer_tier.tier AS t WHERE t.program = prog.name;
    -- validate every entry before changing anything
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(cadences) AS e ORDER BY e.key LOOP
        IF NOT key = ANY (tiers) THEN
            RAISE EXCEPTION 'unknown tier "%" of program "%"', key, prog.name
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The program''s tiers are: %s.', array_to_string(tiers, ', ')),
                      HINT = 'Name tiers of the program; customer_tier.cadences(program) lists them.';
        END IF;
        CASE jsonb_typeof(val)
        WHEN 'null' THEN
            CONTINUE;
        WHEN 'string' THEN
            BEGIN
                every := (val #>> '{}')::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow
                           OR invalid_parameter_value OR numeric_value_out_of_range THEN
                RAISE EXCEPTION 'invalid cadence % for tier "%"', val, key
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The value is not an interval.', HINT = example;
            END;
        WHEN 'number' THEN
            BEGIN
                every := (val #>> '{}')::double precision * interval '1 day';
            EXCEPTION WHEN interval_field_overflow OR datetime_field_overflow OR numeric_value_out_of_range THEN
                RAISE EXCEPTION 'invalid cadence %... for tier "%"', left(val::text, 20), key
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'The number of days is out of range.', HINT = example;
            END;
        ELSE
            RAISE EXCEPTION 'cadence of tier "%" must be a string, a number or null, not %', key, jsonb_typeof(val)
                USING ERRCODE = 'invalid_parameter_value', HINT = example;
        END CASE;
        IF every <= '0' THEN
            RAISE EXCEPTION 'cadence of tier "%" must be positive, not %', key, every
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A cadence says how often to contact the tier''s customers, e.g. "30 days".';
        END IF;
    END LOOP;
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(cadences) AS e ORDER BY e.key LOOP
        IF jsonb_typeof(val) = 'null' THEN
            DELETE FROM customer_tier.cadence AS c
             WHERE c.program = prog.name AND c.tier = key;
        ELSE
            every := CASE jsonb_typeof(val) WHEN 'string' THEN (val #>> '{}')::interval
                     ELSE (val #>> '{}')::double precision * interval '1 day' END;
            INSERT INTO customer_tier.cadence AS c (program, tier, every) VALUES (prog.name, key, every)
            ON CONFLICT ON CONSTRAINT cadence_pkey DO UPDATE SET every = excluded.every;
        END IF;
        n := n + 1;
    END LOOP;
    -- the customers of those tiers are due on the new cadence
    PERFORM customer_tier.rescore_where(prog.name, 'set_cadence',
        format('c.tier = ANY (%L::text[])',
               (SELECT array_agg(k) FROM jsonb_object_keys(cadences) AS k)));
    RETURN n;
END
$$;
COMMENT ON FUNCTION customer_tier.set_cadence(text, jsonb) IS
    'set the contact cadence of some tiers of a program from a JSON object tier -> interval (a number is days, null restores the default); returns the tiers named';

-- The trigger function of every program on its contacts table; the argument
-- names the program.  It keeps the customers whose contacts a statement
-- changed; at commit they are scored again with the customers of the orders
-- written, in key order, reading their last contact (src/programs/live_contacts.c).
CREATE OR REPLACE FUNCTION customer_tier.maintain_contacts()
RETURNS trigger
AS 'MODULE_PATHNAME', 'maintain_contacts'
LANGUAGE C;
COMMENT ON FUNCTION customer_tier.maintain_contacts() IS
    'the trigger function of every program on its contacts table; the argument names the program';
REVOKE ALL ON FUNCTION customer_tier.maintain_contacts() FROM PUBLIC;

-- After a TRUNCATE of a program's contacts: no customer has a last contact;
-- the ones that had one are scored again (a due time the scoring never
-- gives marks them).
CREATE OR REPLACE FUNCTION customer_tier.forget_last_contacts(program text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prog customer_tier.program := customer_tier.program_row(program);
BEGIN
    EXECUTE format('UPDATE %I.customers AS c SET last_contact_at = NULL, follow_up_due_at = ''-infinity'''
                   ' WHERE c.last_contact_at IS NOT NULL', prog.data_schema);
    PERFORM customer_tier.rescore_where(prog.name, 'trigger TRUNCATE contacts',
                                        'c.follow_up_due_at = ''-infinity''');
END
$$;
COMMENT ON FUNCTION customer_tier.forget_last_contacts(text) IS
    'after a TRUNCATE of a program''s contacts: forget every customer''s last contact and score them again';
REVOKE ALL ON FUNCTION customer_tier.forget_last_contacts(text) FROM PUBLIC;

-- Put a program's triggers on its contacts table.
CREATE OR REPLACE FUNCTION customer_tier.put_contacts_triggers(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($sql$
        CREATE TRIGGER last_contact_insert AFTER INSERT ON %1$I.contacts REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L);
        CREATE TRIGGER last_contact_update AFTER UPDATE ON %1$I.contacts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L);
        CREATE TRIGGER last_contact_delete AFTER DELETE ON %1$I.contacts REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L);
        CREATE TRIGGER last_contact_truncate AFTER TRUNCATE ON %1$I.contacts
            FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_contacts(%2$L)$sql$,
        prog.data_schema, prog.name);
END
$$;
COMMENT ON FUNCTION customer_tier.put_contacts_triggers(customer_tier.program) IS
    'put a program''s triggers on its contacts table: each customer''s last contact and due time stay current';
REVOKE ALL ON FUNCTION customer_tier.put_contacts_triggers(customer_tier.program) FROM PUBLIC;

-- A customer's priority within its tier on the follow-up list, lower first:
-- more churn flags first (thousands), then the higher value score.  One
-- expression, shared by the view and its index.
CREATE OR REPLACE FUNCTION customer_tier.follow_up_priority_sql(alias text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.format('((4 - coalesce(pg_catalog.cardinality(%1$s.churn_flags), 0)) * 1000'
                         ' + (100 - coalesce(%1$s.value_score, -1)))', alias);
COMMENT ON FUNCTION customer_tier.follow_up_priority_sql(text) IS
    'SQL expression of a customer''s priority within its tier on the follow-up list (lower first)';
REVOKE ALL ON FUNCTION customer_tier.follow_up_priority_sql(text) FROM PUBLIC;

-- Create a program's contacts table and its follow_ups_due view (called by
-- create_followup_objects when the program is created).
CREATE OR REPLACE FUNCTION customer_tier.create_contact_objects(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
BEGIN
    EXECUTE format($sql$
        CREATE TABLE %1$I.contacts (
            id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer     %2$s NOT NULL,
            channel      text NOT NULL
                         CONSTRAINT contacts_channel CHECK (channel IN ('phone', 'email', 'visit', 'other')),
            contacted_at timestamptz NOT NULL DEFAULT pg_catalog.now()
                         CONSTRAINT contacts_contacted_at_finite CHECK (pg_catalog.isfinite(contacted_at)),
            outcome      text,
            note         text,
            logged_by    name NOT NULL DEFAULT CURRENT_USER,
            logged_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
        );
        CREATE INDEX ON %1$I.contacts (customer, contacted_at);
        COMMENT ON TABLE %1$I.contacts IS %3$L;
        COMMENT ON COLUMN %1$I.contacts.id IS 'contact number, in the order contacts were logged';
        COMMENT ON COLUMN %1$I.contacts.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.contacts.channel IS 'phone, email, visit or other';
        COMMENT ON COLUMN %1$I.contacts.contacted_at IS 'when the customer was contacted';
        COMMENT ON COLUMN %1$I.contacts.outcome IS 'what came of it, in the CRM''s own words (e.g. reached, no answer, order placed)';
        COMMENT ON COLUMN %1$I.contacts.note IS 'free text; personal data: not readable by the reader role';
        COMMENT ON COLUMN %1$I.contacts.logged_by IS 'the role that logged the contact';
        COMMENT ON COLUMN %1$I.contacts.logged_at IS 'when the contact was logged'
    $sql$, s, prog.customer_type,
        format('program %s: the contact log; every contact counts for the cadence, whatever its outcome', prog.name));

    PERFORM customer_tier.put_contacts_triggers(prog);
    PERFORM customer_tier.create_follow_ups_view(prog);
END
$$;
COMMENT ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) IS
    'create a program''s contacts table, its triggers and the follow_ups_due view';

-- Create a program's follow_ups_due view and the index it reads.
CREATE OR REPLACE FUNCTION customer_tier.create_follow_ups_view(prog customer_tier.program)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name := prog.data_schema;
    -- over orders distributed by Citus (docs/citus.md, "Views"), the
    -- cadences and the last contact are joined in forms Citus plans: the
    -- coordinator's cadences as a subquery it sends to the shards, the last
    -- contacts grouped by customer on each shard (a lateral subquery with a
    -- LIMIT is refused); on one node, a lookup per row of the page read
    distributed constant boolean := customer_tier.citus_table_kind(prog.orders_table) = 'distributed';
BEGIN
    -- Due once follow_up_due_at, stored with the customer by the scoring
    -- path, has passed; most important first (tier, then churn flags and
    -- value score, then the longest overdue): an index scan to any page.
    EXECUTE format('CREATE INDEX customers_follow_ups ON %I.customers (tier_rank, (%s), follow_up_due_at, customer)',
                   s, customer_tier.follow_up_priority_sql('customers'));
    EXECUTE format($sql$
        CREATE VIEW %1$I.follow_ups_due AS
        SELECT c.tier_rank, %3$s AS priority, c.follow_up_due_at AS due_at, c.customer, c.tier,
               CASE WHEN c.rose_at > coalesce(c.last_contact_at, '-infinity') THEN 'welcome'
                    WHEN c.last_contact_at IS NULL THEN 'never contacted'
                    ELSE 'cadence' END AS reason,
               pg_catalog.floor(pg_catalog.date_part('epoch', (SELECT customer_tier.program_as_of(%2$L)) - c.follow_up_due_at) / 86400)::integer AS days_overdue,
               coalesce(%4$s, customer_tier.default_cadence(c.tier)) AS cadence,
               c.last_contact_at, k.channel AS last_channel, k.outcome AS last_outcome, c.tier_since,
               c.value_score, c.monetary, c.last_order, c.churn_flags
          FROM %1$I.customers AS c
          %5$s
         WHERE c.follow_up_due_at <= (SELECT customer_tier.program_as_of(%2$L))
         ORDER BY c.tier_rank, %3$s, c.follow_up_due_at, c.customer
    $sql$, s, prog.name, customer_tier.follow_up_priority_sql('c'),
        CASE WHEN distributed THEN 'cd.every'
             ELSE format('(SELECT cd.every FROM customer_tier.cadence AS cd WHERE cd.program = %L AND cd.tier = c.tier)', prog.name) END,
        CASE WHEN distributed
             THEN format($join$LEFT JOIN (SELECT DISTINCT ON (l.customer, l.contacted_at) l.customer, l.contacted_at, l.channel, l.outcome
                                            FROM %1$I.contacts AS l
                                           ORDER BY l.customer, l.contacted_at, l.id DESC) AS k
                                  ON k.customer = c.customer AND k.contacted_at = c.last_contact_at
                                LEFT JOIN (SELECT x.tier, x.every FROM customer_tier.cadence AS x WHERE x.program = %2$L) AS cd
                                  ON cd.tier = c.tier$join$, s, prog.name)
             ELSE format($join$LEFT JOIN LATERAL (SELECT l.channel, l.outcome FROM %1$I.contacts AS l
                                                   WHERE l.customer = c.customer AND l.contacted_at = c.last_contact_at
                                                   ORDER BY l.id DESC LIMIT 1) AS k ON true$join$, s) END);
    EXECUTE format('COMMENT ON VIEW %I.follow_ups_due IS %L', s,
                   format('program %s: customers due for a contact, most important first: best tier, then most churn flags, then highest value score, then longest overdue',
                          prog.name));
    EXECUTE format($sql$
        COMMENT ON COLUMN %1$I.follow_ups_due.tier_rank IS 'rank of the current tier, 1 = best: the list''s first order; filter on it to page through one tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.priority IS 'order within the tier, lower first: most churn flags first (thousands), then highest value score; (tier_rank, priority, due_at, customer) is the list''s order and its page key';
        COMMENT ON COLUMN %1$I.follow_ups_due.customer IS 'the customer key';
        COMMENT ON COLUMN %1$I.follow_ups_due.tier IS 'current tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.reason IS 'welcome (the tier rose after the last contact), never contacted (the cadence has run out since the first order), cadence (it has run out since the last contact)';
        COMMENT ON COLUMN %1$I.follow_ups_due.due_at IS 'since when the contact is due';
        COMMENT ON COLUMN %1$I.follow_ups_due.days_overdue IS 'whole days since due_at (0 on the day it fell due)';
        COMMENT ON COLUMN %1$I.follow_ups_due.cadence IS 'the contact cadence of the tier (customer_tier.cadences)';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_contact_at IS 'when the customer was last contacted; NULL if never';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_channel IS 'channel of the last contact';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_outcome IS 'outcome of the last contact';
        COMMENT ON COLUMN %1$I.follow_ups_due.tier_since IS 'when the customer entered the current tier';
        COMMENT ON COLUMN %1$I.follow_ups_due.value_score IS 'weighted value score 0..100';
        COMMENT ON COLUMN %1$I.follow_ups_due.monetary IS 'net monetary value';
        COMMENT ON COLUMN %1$I.follow_ups_due.last_order IS 'time of the last purchase';
        COMMENT ON COLUMN %1$I.follow_ups_due.churn_flags IS 'churn flags raised (segments.churn_flags); more flags, higher priority within a tier'
    $sql$, s);
END
$$;
COMMENT ON FUNCTION customer_tier.create_follow_ups_view(customer_tier.program) IS
    'create a program''s follow_ups_due view, served by an index on its customers';
REVOKE ALL ON FUNCTION customer_tier.create_follow_ups_view(customer_tier.program) FROM PUBLIC;

-- Log a contact with a customer of a program.  The customer key is given as
-- text and read as the program's key type.  Runs with its caller's rights
-- (the writer role may insert into the contacts table, and logged_by
-- records who did); it reads the program's schema, not the catalog, which
-- the writer may not read.  Returns the contact id.
CREATE OR REPLACE FUNCTION customer_tier.log_contact(program text, customer text, channel text,
                                          outcome text DEFAULT NULL, note text DEFAULT NULL,
                                          contacted_at timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text;
    key_type regtype;
    known boolean;
    id bigint;
BEGIN
    IF program IS NULL OR customer IS NULL OR channel IS NULL OR contacted_at IS NULL THEN
        RAISE EXCEPTION 'program, customer, channel and contacted_at must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For example customer_tier.log_contact(''shop'', ''42'', ''phone'', ''reached'').';
    END IF;
    -- a program's schema is ct_<name> (create_program)
    s := 'ct_' || program;
    SELECT a.atttypid::regtype INTO key_type
      FROM pg_attribute AS a
     WHERE a.attrelid = to_regclass(format('%I.contacts', s))
       AND a.attname = 'customer';
    IF key_type IS NULL OR program !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    IF NOT channel = ANY ('{phone,email,visit,other}'::text[]) THEN
        RAISE EXCEPTION 'invalid channel "%"', channel
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use phone, email, visit or other.';
    END IF;
    IF NOT isfinite(contacted_at) THEN
        RAISE EXCEPTION 'contacted_at must be finite, not %', contacted_at
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the time of the contact, or leave it out for now().';
    END IF;
    IF contacted_at > (clock_timestamp() + interval '5 minutes') THEN
        RAISE EXCEPTION 'contacted_at % is in the future', contacted_at
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The log records contacts that took place; a contact in the future would hide follow-ups that are due.',
                  HINT = 'Pass the time of the contact, or leave it out for now().';
    END IF;
    BEGIN
        EXECUTE format('SELECT EXISTS (SELECT FROM %I.segments AS c WHERE c.customer = $1::%s)',
                       s, key_type)
           INTO known USING customer;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR string_data_right_truncation THEN
        -- never the key itself: errors reach the server log
        RAISE EXCEPTION 'the customer key is not a valid % for program "%"', key_type, program
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = format('The key given has %s characters; it is left out of this message, which reaches the server log.',
                                  length(customer)),
                  HINT = format('Pass the key in the text form of a %s, as %I.segments shows it.', key_type, s);
    END;
    IF NOT known THEN
        RAISE EXCEPTION 'the customer key is not a customer of program "%"', program
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('A customer of a program has at least one counted order. The key given has %s characters; it is left out of this message, which reaches the server log.',
                                  length(customer)),
                  HINT = format('SELECT customer FROM %I.segments lists them.', s);
    END IF;
    EXECUTE format($sql$
        INSERT INTO %1$I.contacts (customer, channel, contacted_at, outcome, note)
        VALUES ($1::%2$s, $2, $3, $4, $5)
        RETURNING id$sql$, s, key_type)
       INTO id USING customer, channel, contacted_at, outcome, note;
    RETURN id;
END
$$;
COMMENT ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamptz) IS
    'log a contact (phone, email, visit or other) with a customer of a program; returns the contact id';

REVOKE ALL ON FUNCTION customer_tier.default_cadence(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.cadences(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.set_cadence(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.log_contact(text, text, text, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.create_contact_objects(customer_tier.program) FROM PUBLIC;
-- @end

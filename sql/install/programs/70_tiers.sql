-- customer_tier install script, part 70: tier rules as data, pins and hysteresis.
\echo Use "CREATE EXTENSION customer_tier" to load this file. \quit

-- A program's tiers, best first.  A tier's non-NULL conditions must all hold;
-- the last tier has none (the catch-all).  Replaced whole by set_tiers(), and
-- checked as a set at commit by a deferred constraint trigger, so direct DML
-- cannot leave an invalid set either.
CREATE TABLE customer_tier.tier (
    program         text NOT NULL REFERENCES customer_tier.program (name)
                    ON DELETE CASCADE ON UPDATE CASCADE,
    tier            text NOT NULL
                    CONSTRAINT tier_name_format CHECK (tier ~ '^[a-z][a-z0-9_]{0,39}$'),
    rank            integer NOT NULL
                    CONSTRAINT tier_rank_positive CHECK (rank >= 1),
    min_value_score double precision
                    CONSTRAINT tier_min_value_score CHECK (min_value_score >= 0 AND min_value_score <= 100),
    -- At most 15 significant digits: the compiled rules hold it as a double
    -- and compare exactly only if the double gives the decimal back.
    min_monetary    numeric
                    CONSTRAINT tier_min_monetary CHECK (min_monetary >= 0 AND min_monetary < 1e300
                        AND min_monetary::double precision::numeric = min_monetary),
    -- At most 2^53, where whole numbers stop being exact as doubles.
    min_orders      bigint
                    CONSTRAINT tier_min_orders CHECK (min_orders >= 0 AND min_orders <= 9007199254740992),
    min_tenure_days double precision
                    CONSTRAINT tier_min_tenure_days CHECK (min_tenure_days >= 0 AND min_tenure_days < 1e300),
    abc_class       text
                    CONSTRAINT tier_abc_class CHECK (abc_class IN ('A', 'B', 'C')),
    min_p_alive     double precision
                    CONSTRAINT tier_min_p_alive CHECK (min_p_alive >= 0 AND min_p_alive <= 1),
    min_clv         double precision
                    CONSTRAINT tier_min_clv CHECK (min_clv >= 0 AND min_clv < 1e300),
    CONSTRAINT tier_pkey PRIMARY KEY (program, tier),
    -- Deferrable so that set_tiers() can renumber kept tiers in one statement.
    CONSTRAINT tier_program_rank UNIQUE (program, rank) DEFERRABLE INITIALLY IMMEDIATE
);
COMMENT ON TABLE customer_tier.tier IS
    'tiers of each program, rank 1 the best: a customer gets the best tier whose every non-NULL condition holds; the last tier has no condition';
COMMENT ON COLUMN customer_tier.tier.program IS 'the program the tier belongs to';
COMMENT ON COLUMN customer_tier.tier.tier IS 'tier name: lowercase letters, digits, underscores';
COMMENT ON COLUMN customer_tier.tier.rank IS 'position, 1 = best; ranks of a program run 1..n without gaps';
COMMENT ON COLUMN customer_tier.tier.min_value_score IS 'condition: value score (0..100) at least this; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_monetary IS 'condition: lifetime spend at least this (at most 15 significant digits); NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_orders IS 'condition: number of orders at least this; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_tenure_days IS 'condition: days since the first order at least this; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.abc_class IS 'condition (method abc): the customer''s ABC class is this one; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_p_alive IS 'condition (method rules): BG/NBD p_alive (0..1) at least this; never holds without a fitted model; NULL = not checked';
COMMENT ON COLUMN customer_tier.tier.min_clv IS 'condition (method rules): predicted CLV at least this; never holds without fitted models; NULL = not checked';
SELECT pg_catalog.pg_extension_config_dump('customer_tier.tier', '');

-- @routines
-- The non-NULL conditions of a tier as a JSON object, e.g. {"min_orders": 3, "min_monetary": 250}.
CREATE OR REPLACE FUNCTION customer_tier.tier_conditions(t customer_tier.tier)
RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.to_jsonb(t) - '{program,tier,rank}'::text[]);
COMMENT ON FUNCTION customer_tier.tier_conditions(customer_tier.tier) IS
    'the non-NULL conditions of a tier as a JSON object, e.g. {"min_orders": 3, "min_monetary": 250}; {} for the catch-all';

-- A tier's conditions as text for messages: min_monetary >= 250 and min_orders >= 3.
CREATE OR REPLACE FUNCTION customer_tier.tier_conditions_text(t customer_tier.tier)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT coalesce(string_agg(CASE WHEN c.key = 'abc_class' THEN format('abc_class = %s', c.value #>> '{}')
                                        ELSE format('%s >= %s', c.key, c.value) END,
                                   ' and ' ORDER BY c.key),
                        'no condition')
          FROM jsonb_each(customer_tier.tier_conditions(t)) AS c);
COMMENT ON FUNCTION customer_tier.tier_conditions_text(customer_tier.tier) IS
    'a tier''s conditions as text, e.g. "min_monetary >= 250 and min_orders >= 3", or "no condition"';

-- Whether every customer who meets the conditions of worse also meets those of
-- better.  Conditions are lower bounds (and one class), so this holds exactly
-- when each condition of better is also a condition of worse, at least as strict.
CREATE OR REPLACE FUNCTION customer_tier.tier_implies(worse customer_tier.tier, better customer_tier.tier)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT coalesce(bool_and(CASE WHEN b.key = 'abc_class' THEN w.c -> b.key = b.value
                                      ELSE (w.c ->> b.key)::numeric >= (b.value #>> '{}')::numeric END
                                 IS TRUE), true)
          FROM (SELECT customer_tier.tier_conditions(worse) AS c) AS w,
               jsonb_each(customer_tier.tier_conditions(better)) AS b);
COMMENT ON FUNCTION customer_tier.tier_implies(customer_tier.tier, customer_tier.tier) IS
    'true if every customer meeting the conditions of the first tier also meets those of the second';

-- The tier conditions a method uses, in the order its messages list them.
CREATE OR REPLACE FUNCTION customer_tier.method_conditions(method text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE method
           WHEN 'rfm' THEN '{min_value_score}'::text[]
           WHEN 'abc' THEN '{abc_class}'::text[]
           ELSE '{min_value_score,min_monetary,min_orders,min_tenure_days,min_p_alive,min_clv}'::text[]
       END;
COMMENT ON FUNCTION customer_tier.method_conditions(text) IS
    'the tier conditions a method (rules, rfm, abc) uses';

-- The checks that apply to a whole set of tiers, best first: the method's
-- conditions only, a catch-all last and only last, ABC classes in order, and
-- no tier made unreachable by a better one.  Used by set_tiers() before it
-- writes, and by the constraint trigger at commit.
CREATE OR REPLACE FUNCTION customer_tier.check_tier_set(program text, method text, tiers customer_tier.tier[])
RETURNS void
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n       integer := coalesce(cardinality(tiers), 0);
    allowed text[];
    t       customer_tier.tier;
    b       customer_tier.tier;
    cond    jsonb;
    key     text;
    i       integer;
    j       integer;
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'program "%" has no tiers', program
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Set them with customer_tier.set_tiers(%L, ...) or customer_tier.default_tiers(%L).',
                                program, program);
    END IF;
    allowed := customer_tier.method_conditions(method);
    FOR i IN 1 .. n LOOP
        t := tiers[i];
        cond := customer_tier.tier_conditions(t);
        FOR key IN SELECT k FROM jsonb_object_keys(cond) AS k ORDER BY k LOOP
            IF key <> ALL (allowed) THEN
                RAISE EXCEPTION 'tier "%" has condition %, which method % does not use', t.tier, key, method
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('Method %s accepts: %s.', method, array_to_string(allowed, ', ')),
                          HINT = format('Remove %s from tier "%s", or change the method of program "%s" with customer_tier.set_method().',
                                        key, t.tier, program);
            END IF;
        END LOOP;
        IF i < n AND cond = '{}' THEN
            RAISE EXCEPTION 'tier "%" has no condition, so the tiers after it can never be reached', t.tier
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('A tier without conditions takes every customer left; only the last tier may be one, and "%s" is tier %s of %s.',
                                      t.tier, i, n),
                      HINT = format('Give "%s" a condition, or move it last.', t.tier);
        END IF;
        IF i = n AND cond <> '{}' THEN
            RAISE EXCEPTION 'the last tier "%" must have no condition, but has %', t.tier,
                            customer_tier.tier_conditions_text(t)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The last tier is the catch-all: customers who meet no other tier''s conditions get it, so every customer has a tier.',
                      HINT = 'Add a last tier without conditions, such as {"tier": "normal"}.';
        END IF;
        -- ABC: the tiers before the catch-all are A, then B, then C.
        IF method = 'abc' AND i < n AND t.abc_class IS DISTINCT FROM chr(64 + i) THEN
            FOR j IN 1 .. i - 1 LOOP
                IF tiers[j].abc_class = t.abc_class THEN
                    RAISE EXCEPTION 'tiers "%" and "%" both have abc_class %', tiers[j].tier, t.tier, t.abc_class
                        USING ERRCODE = 'invalid_parameter_value',
                              DETAIL = 'Each ABC class may be the condition of one tier only.',
                              HINT = 'List the tiers of classes A, B and C in that order, then a catch-all.';
                END IF;
            END LOOP;
            RAISE EXCEPTION 'tier "%" has abc_class %, but tier % must have abc_class %', t.tier, t.abc_class, i, chr(64 + i)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Class A is better than B, and B better than C; a class left out would put its customers below a worse class.',
                      HINT = 'List the tiers of classes A, B and C in that order, then a catch-all.';
        END IF;
        FOR j IN 1 .. i - 1 LOOP
            b := tiers[j];
            IF customer_tier.tier_implies(t, b) THEN
                RAISE EXCEPTION 'tier "%" can never be reached: every customer who qualifies for it also qualifies for the better tier "%"',
                                t.tier, b.tier
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('"%s" needs %s; "%s" needs %s.', b.tier, customer_tier.tier_conditions_text(b),
                                          t.tier, customer_tier.tier_conditions_text(t)),
                          HINT = format('Make "%s" easier to reach than "%s" (lower thresholds), or give "%s" a condition that "%s" does not have.',
                                        t.tier, b.tier, b.tier, t.tier);
            END IF;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION customer_tier.check_tier_set(text, text, customer_tier.tier[]) IS
    'raises invalid_parameter_value unless a set of tiers, best first, suits the method, ends with exactly one catch-all and has no unreachable tier';

-- Check the stored tiers of a program, as the constraint trigger does at commit.
CREATE OR REPLACE FUNCTION customer_tier.check_program_tiers(program text)
RETURNS void
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    method text;
    tiers  customer_tier.tier[];
    i      integer;
BEGIN
    SELECT p.method INTO method FROM customer_tier.program AS p WHERE p.name = check_program_tiers.program;
    IF NOT FOUND THEN
        RETURN;                 -- dropped in this transaction: its tiers went with it
    END IF;
    SELECT array_agg(t ORDER BY t.rank) INTO tiers
      FROM customer_tier.tier AS t WHERE t.program = check_program_tiers.program;
    FOR i IN 1 .. coalesce(cardinality(tiers), 0) LOOP
        IF tiers[i].rank <> i THEN
            RAISE EXCEPTION 'ranks of the tiers of program "%" must run from 1 to % without gaps', program, cardinality(tiers)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Tier "%s" has rank %s where rank %s was expected.', tiers[i].tier, tiers[i].rank, i),
                      HINT = 'Replace the tiers whole with customer_tier.set_tiers(), which numbers them.';
        END IF;
    END LOOP;
    PERFORM customer_tier.check_tier_set(program, method, tiers);
END
$$;
COMMENT ON FUNCTION customer_tier.check_program_tiers(text) IS
    'raises invalid_parameter_value unless the stored tiers of a program form a valid set (see check_tier_set); nothing for an unknown program';

-- Constraint trigger: a program's tiers are checked as a set at commit.
CREATE OR REPLACE FUNCTION customer_tier.tier_check_trigger()
RETURNS trigger
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'program' THEN
        PERFORM customer_tier.check_program_tiers(NEW.name);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM customer_tier.check_program_tiers(OLD.program);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.program <> OLD.program) THEN
        PERFORM customer_tier.check_program_tiers(NEW.program);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION customer_tier.tier_check_trigger() IS
    'constraint trigger on tier and program: checks the tiers of the programs touched, at commit';
-- @end

CREATE CONSTRAINT TRIGGER tier_set_valid
    AFTER INSERT OR UPDATE OR DELETE ON customer_tier.tier
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION customer_tier.tier_check_trigger();
-- A change of method must come with tiers that suit it (set_method does both).
CREATE CONSTRAINT TRIGGER program_tiers_suit_method
    AFTER UPDATE OF method ON customer_tier.program
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION customer_tier.tier_check_trigger();

-- @routines
-- Replace a program's tiers whole: parse and check everything, then write.
-- tiers is a JSON array, best first:
--   [{"tier": "diamond", "min_value_score": 80}, {"tier": "gold", "min_value_score": 50}, {"tier": "normal"}]
-- Tiers that keep their name keep their pins; removing a tier that customers
-- are pinned to is refused.  Returns the number of tiers.
CREATE OR REPLACE FUNCTION customer_tier.set_tiers(program text, tiers jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    accepted constant text[] := '{tier,min_value_score,min_monetary,min_orders,min_tenure_days,abc_class,min_p_alive,min_clv}';
    example  constant text := 'Pass the tiers best first, e.g. [{"tier": "gold", "min_value_score": 50}, {"tier": "normal"}].';
    prog     customer_tier.program;
    parsed   customer_tier.tier[] := '{}';
    names    text[] := '{}';
    t        customer_tier.tier;
    elem     jsonb;
    pos      bigint;
    key      text;
    val      jsonb;
    num      numeric;
    pinned   record;
BEGIN
    IF program IS NULL OR tiers IS NULL THEN
        RAISE EXCEPTION 'program and tiers must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = example;
    END IF;
    -- Locking the program serializes concurrent set_tiers() on it.
    SELECT * INTO prog FROM customer_tier.program AS p WHERE p.name = set_tiers.program FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'program "%" does not exist', program
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM customer_tier.program lists the programs.';
    END IF;
    IF jsonb_typeof(tiers) <> 'array' THEN
        RAISE EXCEPTION 'tiers must be a JSON array, not %', jsonb_typeof(tiers)
            USING ERRCODE = 'invalid_parameter_value', HINT = example;
    END IF;
    IF jsonb_array_length(tiers) = 0 THEN
        RAISE EXCEPTION 'tiers must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A program needs at least one tier, the catch-all.', HINT = example;
    END IF;

    FOR elem, pos IN SELECT e.value, e.ordinality FROM jsonb_array_elements(tiers) WITH ORDINALITY AS e ORDER BY e.ordinality LOOP
        IF jsonb_typeof(elem) <> 'object' THEN
            RAISE EXCEPTION 'element % of tiers must be a JSON object, not %', pos, jsonb_typeof(elem)
                USING ERRCODE = 'invalid_parameter_value', HINT = example;
        END IF;
        -- The name first, so that every later message can name the tier.
        val := elem -> 'tier';
        IF val IS NULL OR jsonb_typeof(val) = 'null' THEN
            RAISE EXCEPTION 'element % of tiers has no "tier" name', pos
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give every tier a name, e.g. {"tier": "gold", "min_value_score": 50}.';
        END IF;
        IF jsonb_typeof(val) <> 'string' THEN
            RAISE EXCEPTION 'the "tier" name of element % must be a JSON string, not %', pos, jsonb_typeof(val)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Write the name in double quotes, e.g. {"tier": "gold"}.';
        END IF;
        t := NULL;
        t.program := prog.name;
        t.tier := val #>> '{}';
        t.rank := pos;
        IF t.tier !~ '^[a-z][a-z0-9_]{0,39}$' THEN
            RAISE EXCEPTION 'invalid tier name "%"', t.tier
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A tier name starts with a lowercase letter and has at most 40 lowercase letters, digits and underscores.',
                      HINT = 'Choose a name such as "gold" or "key_account".';
        END IF;
        IF t.tier = ANY (names) THEN
            RAISE EXCEPTION 'tier "%" is listed twice', t.tier
                USING ERRCODE = 'duplicate_object',
                      DETAIL = format('Elements %s and %s of tiers are both named "%s".',
                                      array_position(names, t.tier), pos, t.tier),
                      HINT = 'Give each tier its own name.';
        END IF;
        SELECT k INTO key FROM jsonb_object_keys(elem) AS k WHERE k <> ALL (accepted) ORDER BY k LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'unknown key "%" in tier "%"', key, t.tier
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('The accepted keys are: %s.', array_to_string(accepted, ', ')),
                      HINT = format('Method %s of program "%s" uses: %s.', prog.method, prog.name,
                                    array_to_string(customer_tier.method_conditions(prog.method), ', '));
        END IF;

        -- Conditions; a JSON null is the same as leaving the key out.
        FOR key, val IN SELECT c.key, c.value FROM jsonb_each(elem - 'tier') AS c ORDER BY c.key LOOP
            CONTINUE WHEN jsonb_typeof(val) = 'null';
            IF key = 'abc_class' THEN
                IF jsonb_typeof(val) <> 'string' OR val #>> '{}' NOT IN ('A', 'B', 'C') THEN
                    RAISE EXCEPTION 'abc_class of tier "%" must be "A", "B" or "C", not %', t.tier, val
                        USING ERRCODE = 'invalid_parameter_value',
                              HINT = 'Write the class as a JSON string, e.g. {"tier": "gold", "abc_class": "B"}.';
                END IF;
                t.abc_class := val #>> '{}';
                CONTINUE;
            END IF;
            IF jsonb_typeof(val) <> 'number' THEN
                RAISE EXCEPTION '% of tier "%" must be a JSON number, not %', key, t.tier, jsonb_typeof(val)
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = format('Write the threshold without quotes, e.g. {"tier": "%s", "%s": 50}.', t.tier, key);
            END IF;
            num := val::numeric;
            IF key = 'min_value_score' AND NOT num BETWEEN 0 AND 100 THEN
                RAISE EXCEPTION 'min_value_score of tier "%" must be between 0 and 100, not %', t.tier, num
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'The value score is on a scale of 0 to 100.';
            END IF;
            IF key = 'min_p_alive' AND NOT num BETWEEN 0 AND 1 THEN
                RAISE EXCEPTION 'min_p_alive of tier "%" must be between 0 and 1, not %', t.tier, num
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'p_alive is a probability.';
            END IF;
            IF num < 0 THEN
                RAISE EXCEPTION '% of tier "%" must be at least 0, not %', key, t.tier, num
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'A threshold is a lower bound; leave the key out for no condition.';
            END IF;
            IF num >= 1e300 THEN
                RAISE EXCEPTION '% of tier "%" must be below 1e300', key, t.tier
                    USING ERRCODE = 'numeric_value_out_of_range',
                          HINT = 'Thresholds are compiled to double precision.';
            END IF;
            CASE key
            WHEN 'min_value_score' THEN
                t.min_value_score := num;
            WHEN 'min_monetary' THEN
                IF num::double precision::numeric <> num THEN
                    RAISE EXCEPTION 'min_monetary of tier "%" must have at most 15 significant digits, not %', t.tier, num
                        USING ERRCODE = 'numeric_value_out_of_range',
                              DETAIL = 'Thresholds are compiled to double precision, which holds 15 significant digits exactly.',
                              HINT = 'Round the threshold, e.g. to whole units of currency.';
                END IF;
                t.min_monetary := num;
            WHEN 'min_orders' THEN
                IF num <> trunc(num) THEN
                    RAISE EXCEPTION 'min_orders of tier "%" must be a whole number, not %', t.tier, num
                        USING ERRCODE = 'invalid_parameter_value',
                              HINT = 'Count orders in whole numbers, e.g. {"min_orders": 3}.';
                END IF;
                IF num > 9007199254740992 THEN
                    RAISE EXCEPTION 'min_orders of tier "%" must be at most 9007199254740992, not %', t.tier, num
                        USING ERRCODE = 'numeric_value_out_of_range',
                              HINT = 'Larger thresholds are not exact in the compiled rules, and no customer reaches them.';
                END IF;
                t.min_orders := num;
            WHEN 'min_tenure_days' THEN
                t.min_tenure_days := num;
            WHEN 'min_p_alive' THEN
                t.min_p_alive := num;
            WHEN 'min_clv' THEN
                t.min_clv := num;
            END CASE;
        END LOOP;
        parsed := parsed || t;
        names := names || t.tier;
    END LOOP;

    PERFORM customer_tier.check_tier_set(prog.name, prog.method, parsed);

    SELECT p.tier, count(*) AS customers INTO pinned
      FROM customer_tier.pin AS p
     WHERE p.program = prog.name AND p.tier <> ALL (names)
     GROUP BY p.tier ORDER BY p.tier LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tier "%" of program "%" cannot be removed while customers are pinned to it',
                        pinned.tier, prog.name
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = format('%s pinned to "%s", which the new tiers do not include.',
                                  CASE pinned.customers WHEN 1 THEN '1 customer is'
                                       ELSE pinned.customers || ' customers are' END, pinned.tier),
                  HINT = format('Keep a tier named "%s", or first move or remove the pins (customer_tier.pin_customer(), customer_tier.unpin_customer()).',
                                pinned.tier);
    END IF;

    DELETE FROM customer_tier.tier AS x WHERE x.program = prog.name AND x.tier <> ALL (names);
    INSERT INTO customer_tier.tier AS x
           (program, tier, rank, min_value_score, min_monetary, min_orders, min_tenure_days, abc_class,
            min_p_alive, min_clv)
    SELECT n.program, n.tier, n.rank, n.min_value_score, n.min_monetary, n.min_orders, n.min_tenure_days, n.abc_class,
           n.min_p_alive, n.min_clv
      FROM unnest(parsed) AS n
    ON CONFLICT ON CONSTRAINT tier_pkey DO UPDATE
       SET rank = excluded.rank, min_value_score = excluded.min_value_score,
           min_monetary = excluded.min_monetary, min_orders = excluded.min_orders,
           min_tenure_days = excluded.min_tenure_days, abc_class = excluded.abc_class,
           min_p_alive = excluded.min_p_alive, min_clv = excluded.min_clv;
    RETURN cardinality(parsed);
END
$$;
COMMENT ON FUNCTION customer_tier.set_tiers(text, jsonb) IS
    'replace a program''s tiers whole from a JSON array, best first, after checking names, keys, thresholds, the method, the catch-all and overlaps; returns the number of tiers';

-- The default tiers of each method, diamond / gold / normal.
CREATE OR REPLACE FUNCTION customer_tier.default_tiers(program text)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    method text;
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    method := (customer_tier.program_row(program)).method;
    RETURN customer_tier.set_tiers(program, CASE method
        WHEN 'rfm' THEN '[{"tier": "diamond", "min_value_score": 80},
                          {"tier": "gold", "min_value_score": 50},
                          {"tier": "normal"}]'
        WHEN 'abc' THEN '[{"tier": "diamond", "abc_class": "A"},
                          {"tier": "gold", "abc_class": "B"},
                          {"tier": "normal"}]'
        WHEN 'rules' THEN '[{"tier": "diamond", "min_monetary": 1000, "min_orders": 10},
                            {"tier": "gold", "min_monetary": 250, "min_orders": 3},
                            {"tier": "normal"}]'
        END::jsonb);
END
$$;
COMMENT ON FUNCTION customer_tier.default_tiers(text) IS
    'set a program''s tiers to its method''s defaults: diamond / gold / normal (rfm: value score 80, 50; abc: classes A, B; rules: spend 1000 and 10 orders, 250 and 3 orders); returns 3';

-- Change a program's method; its tiers are reset to the new method's defaults.
CREATE OR REPLACE FUNCTION customer_tier.set_method(program text, method text)
RETURNS integer
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF program IS NULL THEN
        RAISE EXCEPTION 'program must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF method IS NULL OR method NOT IN ('rules', 'rfm', 'abc') THEN
        RAISE EXCEPTION 'unknown method "%"', coalesce(method, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'rules: conditions per tier; rfm: value score thresholds; abc: Pareto classes.',
                  HINT = 'Choose rules, rfm or abc.';
    END IF;
    PERFORM customer_tier.program_row(program);
    UPDATE customer_tier.program AS p SET method = set_method.method WHERE p.name = set_method.program;
    RETURN customer_tier.default_tiers(program);
END
$$;
COMMENT ON FUNCTION customer_tier.set_method(text, text) IS
    'change a program''s method (rules, rfm, abc) and reset its tiers to that method''s defaults; returns the number of tiers';

-- A program's tiers compiled for qualify_tier, in one pass over them, best
-- first: rules, one row per tier (min_value_score, min_monetary, min_orders,
-- min_tenure_days, abc_class 1 = A, 2 = B, 3 = C); model_rules, one row per
-- tier (min_p_alive, min_clv), NULL when no tier has such a condition (the
-- common case costs nothing); NaN where a tier has no such condition; and the
-- tier names.  Every trigger statement reads all three (program_config_cte_sql):
-- one query, whose plan PL/pgSQL keeps for the session.  A program without
-- tiers is refused, as tier_rules refuses it.
CREATE OR REPLACE FUNCTION customer_tier.program_tier_config(program text, OUT rules double precision[],
                                                  OUT model_rules double precision[], OUT tiers text[])
RETURNS record
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT array_agg(ARRAY[coalesce(t.min_value_score, 'NaN'),
                           coalesce(t.min_monetary::double precision, 'NaN'),
                           coalesce(t.min_orders::double precision, 'NaN'),
                           coalesce(t.min_tenure_days, 'NaN'),
                           coalesce(array_position('{A,B,C}'::text[], t.abc_class)::double precision, 'NaN')]
                     ORDER BY t.rank),
           CASE WHEN bool_or(t.min_p_alive IS NOT NULL OR t.min_clv IS NOT NULL)
                THEN array_agg(ARRAY[coalesce(t.min_p_alive, 'NaN'), coalesce(t.min_clv, 'NaN')]
                               ORDER BY t.rank) END,
           array_agg(t.tier ORDER BY t.rank)
      INTO rules, model_rules, tiers
      FROM customer_tier.tier AS t
     WHERE t.program = program_tier_config.program;
    IF rules IS NULL THEN
        PERFORM customer_tier.program_row(program);
        PERFORM customer_tier.check_tier_set(program, NULL, NULL);   -- "has no tiers"
    END IF;
END
$$;
COMMENT ON FUNCTION customer_tier.program_tier_config(text) IS
    'a program''s tiers compiled in one pass: rules (as tier_rules), model_rules (as tier_model_rules) and the tier names, best first';

-- Compile a program's tiers for qualify_tier: a tiers x 5 array, best first
-- (program_tier_config).
CREATE OR REPLACE FUNCTION customer_tier.tier_rules(program text)
RETURNS double precision[]
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (customer_tier.program_tier_config(program)).rules;
END
$$;
COMMENT ON FUNCTION customer_tier.tier_rules(text) IS
    'a program''s tiers compiled for qualify_tier: a tiers x 5 array (min_value_score, min_monetary, min_orders, min_tenure_days, abc_class 1/2/3), best first, NaN = no condition';

-- Compile a program's tier conditions on the model scores for qualify_tier:
-- a tiers x 2 array, best first (program_tier_config); NULL when no tier has
-- one, and for a program without tiers (which tier_rules refuses).
CREATE OR REPLACE FUNCTION customer_tier.tier_model_rules(program text)
RETURNS double precision[]
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM customer_tier.tier AS t WHERE t.program = tier_model_rules.program) THEN
        RETURN NULL;
    END IF;
    RETURN (customer_tier.program_tier_config(program)).model_rules;
END
$$;
COMMENT ON FUNCTION customer_tier.tier_model_rules(text) IS
    'a program''s tier conditions on p_alive and predicted CLV compiled for qualify_tier: a tiers x 2 array (min_p_alive, min_clv), NaN = no condition; NULL when no tier has one';

CREATE OR REPLACE FUNCTION customer_tier.qualify_tier(rules double precision[], value_score double precision,
                                           monetary numeric, orders bigint,
                                           tenure_days double precision, abc_class text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'qualify_tier'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.qualify_tier(double precision[], double precision, numeric, bigint, double precision, text) IS
    'rank of the best tier whose every condition holds, from rules compiled by tier_rules(); a condition on a NULL metric does not hold';

CREATE OR REPLACE FUNCTION customer_tier.qualify_tier(rules double precision[], value_score double precision,
                                           monetary numeric, orders bigint,
                                           tenure_days double precision, abc_class text,
                                           model_rules double precision[], p_alive double precision,
                                           clv double precision)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'qualify_tier_model'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.qualify_tier(double precision[], double precision, numeric, bigint, double precision, text, double precision[], double precision, double precision) IS
    'rank of the best tier whose every condition holds, with the conditions on p_alive and predicted CLV compiled by tier_model_rules(); a condition on a NULL score does not hold';

CREATE OR REPLACE FUNCTION customer_tier.next_tier(current_rank integer, pending_since timestamptz,
                                        qualified_rank integer, pinned_rank integer,
                                        grace interval, as_of timestamptz,
                                        OUT rank integer, OUT pending_since timestamptz, OUT reason text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'next_tier'
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION customer_tier.next_tier(integer, timestamptz, integer, integer, interval, timestamptz) IS
    'hysteresis: a pin wins; a new customer or an upgrade takes the qualified rank at once; a downgrade only once the customer has qualified lower for the grace period';

REVOKE ALL ON FUNCTION customer_tier.set_tiers(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.default_tiers(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.set_method(text, text) FROM PUBLIC;

-- Internal helpers: called by the functions above (and granted to the roles that need them).
REVOKE ALL ON FUNCTION customer_tier.tier_conditions(customer_tier.tier) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_conditions_text(customer_tier.tier) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_implies(customer_tier.tier, customer_tier.tier) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_tier_set(text, text, customer_tier.tier[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.check_program_tiers(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_check_trigger() FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.method_conditions(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_rules(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.program_tier_config(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION customer_tier.tier_model_rules(text) FROM PUBLIC;
-- @end

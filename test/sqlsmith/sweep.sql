-- test/sqlsmith/sweep.sql — the targeted half of the crash hunt: every
-- function of the extension called with every combination of hostile
-- arguments from small pools (sqlsmith, which picks among thousands of
-- built-in functions, reaches ours only now and then).  Each call runs in its
-- own subtransaction; errors are expected, a crash is not (sqlsmith.sh checks
-- the server log), and neither is an internal error (SQLSTATE XX000, an elog
-- that should not be reachable), which fails this script.
-- Run by test/scripts/sqlsmith.sh as the unprivileged role.
\set ON_ERROR_STOP on
-- One statement runs all the calls: the role's 1 s limit is for sqlsmith's queries.
SET statement_timeout = '10min';
DO $sweep$
DECLARE
    pools jsonb := jsonb_build_object(
        'double precision', jsonb_build_array('NULL', '0', '''-0''', '1', '-1', '2.5', '80', '100',
            '1e308', '-1e308', '5e-324', '''NaN''', '''Infinity''', '''-Infinity'''),
        'integer', jsonb_build_array('NULL', '0', '1', '3', '5', '6', '10', '11', '-1', '1000', '1001',
            '2147483647', '-2147483648'),
        'boolean', jsonb_build_array('NULL', 'true', 'false'),
        'double precision[]', jsonb_build_array('NULL', '''{}''', '''{5}''', '''{5,1,2,3}''', '''{2,1}''',
            '''{1,2,3}''', '''{3,2,1}''', '''[3:5]={5,1,2}''', '''{{5,1},{2,3}}''', '''{5,NULL}''',
            '''{NULL}''', '''{NaN,1}''', '''{5,NaN}''', '''{5,Infinity}''', '''{1000,1}''',
            '''{1001,1}''', '''{1e308,1}''', '''{-1e308,0,1e308}''', '''{2.5,1}''',
            'array_prepend(5::float8, array(SELECT g::float8 FROM generate_series(1, 300) AS g))',
            'array_append(''{5,1}''::float8[], NULL)'),
        'bigint[]', jsonb_build_array('NULL', '''{}''', '''{0,0,0,0,0,0,0,0,0,0,0}''', '''{0,0,0,0,0}''',
            '''{1,1,1,1,1,1,1,1,1,1,1}''', '''{1,1,1,1,1}''', '''{-1,0,0,0,0,0,0,0,0,0,0}''',
            '''{0,0,0,0,-1}''', '''{9223372036854775807,0,0,0,0,0,0,0,0,0,9223372036854775807}''',
            '''{9223372036854775807,9223372036854775807,0,0,0}''', '''[0:10]={0,0,0,0,0,0,0,0,0,0,1}''',
            '''{{0,0,0,0,0}}''', '''{0,0,NULL,0,0}''', '''{0,0,0,0,0,0,0,0,0,NULL,0}''',
            '''{-9223372036854775808,0,0,0,0,0,0,0,0,0,0}'''),
        'bigint', jsonb_build_array('NULL', '0', '1', '-1', '9223372036854775807'),
        'numeric', jsonb_build_array('NULL', '0', '1.5', '-1', '1e100', '''NaN''', '''Infinity'''),
        'text', jsonb_build_array('NULL', '''''', '''A''', '''diamond''', '''x'''),
        'timestamp with time zone', jsonb_build_array('NULL', '''2026-01-01''', '''infinity''', '''-infinity'''),
        'interval', jsonb_build_array('NULL', '''0''', '''90 days''', '''-1 day'''),
        -- the state and model types: valid values of each kind and the extremes
        'customer_tier.order_stats_state', jsonb_build_array('NULL',
            '''v1;time=timestamptz;orders=1;monetary=1;times=0''',
            '''v1;time=timestamptz;orders=2;monetary=-5;times=9223371331199999999,-211813488000000000''',
            '''v1;time=date;orders=3;monetary=0;times=0,0,86400000000''',
            '''v1;time=timestamp;orders=1;monetary=99999999999999999999.99;times=-211813488000000000'''),
        'customer_tier.order_stats', jsonb_build_array('NULL', 'ROW(1, 1, now(), now(), NULL, NULL)',
            'ROW(2, -1, ''infinity'', ''-infinity'', ''NaN'', -1)', 'ROW(NULL, NULL, NULL, NULL, NULL, NULL)'),
        -- (no bgnbd_model pool: p_alive and expected_purchases with the
        -- numeric pools make 180,000 calls of up to 30 ms, too slow for the
        -- test command; sql/fuzz_input.sql feeds them every bad model field)
        'customer_tier.gamma_gamma_model', jsonb_build_array('NULL', 'ROW(6, 4, 15, NULL, NULL)',
            'ROW(1e308, 5e-324, 1e308, NULL, NULL)', 'ROW(''Infinity'', 1, 1, NULL, NULL)'));
    skipped text[] := '{}';
    combinations bigint;
    f record;
    args text[];
    combos text[];
    next_combos text[];
    c text;
    v jsonb;
    query text;
    calls int := 0;
    states jsonb := '{}';
    state text;
    internal text := '';
BEGIN
    -- Plain functions: the cross product of the pools of their argument types.
    FOR f IN
        SELECT p.oid::regprocedure AS sig, p.proname,
               array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) AS t) AS types
          FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
          JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
         WHERE e.extname = 'customer_tier' AND p.prokind = 'f' AND p.pronargs > 0
           -- what an unprivileged role may call: configuration functions are the admin's
           AND has_function_privilege('public', p.oid, 'EXECUTE')
         ORDER BY 1::text
    LOOP
        -- Functions taking a type with no pool here (state and model types, cstring)
        -- or with too many combinations are listed, not swept: their own tests
        -- feed them bad input.
        combinations := 1;
        FOREACH c IN ARRAY f.types LOOP
            combinations := combinations * coalesce(jsonb_array_length(pools -> c), 0);
        END LOOP;
        IF combinations = 0 OR combinations > 200000 THEN
            skipped := skipped || f.sig::text;
            CONTINUE;
        END IF;
        combos := ARRAY[''];
        FOREACH c IN ARRAY f.types LOOP
            next_combos := '{}';
            FOR v IN SELECT * FROM jsonb_array_elements(pools -> c) LOOP
                next_combos := next_combos || array(
                    SELECT x || CASE WHEN x = '' THEN '' ELSE ', ' END || format('%s::%s', v #>> '{}', c)
                      FROM unnest(combos) AS x);
            END LOOP;
            combos := next_combos;
        END LOOP;
        FOREACH c IN ARRAY combos LOOP
            query := format('SELECT customer_tier.%I(%s)', f.proname, c);
            calls := calls + 1;
            BEGIN
                EXECUTE query;
                state := 'ok';
            EXCEPTION WHEN OTHERS THEN
                state := SQLSTATE;
                -- XX001 (data_corrupted) is documented: removing from a state what it does not hold
                IF state LIKE 'XX%' AND state <> 'XX001' THEN
                    internal := internal || format(E'\n  %s: %s', query, SQLERRM);
                END IF;
            END;
            states := jsonb_set(states, ARRAY[state], to_jsonb(coalesce((states ->> state)::int, 0) + 1));
        END LOOP;
    END LOOP;

    -- Aggregates and the window function, over two rows of hostile values.
    FOR query IN
        SELECT format('SELECT customer_tier.breakpoints(x, %s) FROM (VALUES (%s::float8), (1.5), (%s::float8)) AS t(x)', n, a, b)
          FROM jsonb_array_elements_text(pools -> 'integer') AS n,
               jsonb_array_elements_text(pools -> 'double precision') AS a,
               jsonb_array_elements_text(pools -> 'double precision') AS b
        UNION ALL
        -- As a plain aggregate, and in a moving window (the inverse transition).
        SELECT format(q, agg, a, b)
          FROM unnest(ARRAY['nps', 'csat']) AS agg,
               unnest(ARRAY['SELECT customer_tier.%s(x) FROM (VALUES (1, %s::int), (2, 3), (3, %s::int)) AS t(o, x)',
                            'SELECT customer_tier.%s(x) OVER (ORDER BY o ROWS 1 PRECEDING) FROM (VALUES (1, %s::int), (2, 3), (3, %s::int)) AS t(o, x)']) AS q,
               jsonb_array_elements_text(pools -> 'integer') AS a,
               jsonb_array_elements_text(pools -> 'integer') AS b
        UNION ALL
        SELECT format('SELECT customer_tier.abc_class(x, %s, %s) OVER (ORDER BY x DESC) FROM (VALUES (%s::float8), (1)) AS t(x)', lo, hi, a)
          FROM jsonb_array_elements_text(pools -> 'double precision') AS lo,
               jsonb_array_elements_text(pools -> 'double precision') AS hi,
               jsonb_array_elements_text(pools -> 'double precision') AS a
    LOOP
        calls := calls + 1;
        BEGIN
            EXECUTE query;
            state := 'ok';
        EXCEPTION WHEN OTHERS THEN
            state := SQLSTATE;
            IF state LIKE 'XX%' AND state <> 'XX001' THEN
                internal := internal || format(E'\n  %s: %s', query, SQLERRM);
            END IF;
        END;
        states := jsonb_set(states, ARRAY[state], to_jsonb(coalesce((states ->> state)::int, 0) + 1));
    END LOOP;

    RAISE NOTICE 'sweep: % calls, outcomes by SQLSTATE: %', calls, states;
    RAISE NOTICE 'sweep: % functions not swept (no value pool or too many combinations): %',
        cardinality(skipped), array_to_string(skipped, ', ');
    IF internal <> '' THEN
        RAISE EXCEPTION 'sweep: internal errors (SQLSTATE XX...):%', internal;
    END IF;
END
$sweep$;

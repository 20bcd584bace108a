-- search_path attacks (the class of CVE-2020-14350 and CVE-2022-2625): a role
-- that may create objects in public plants functions and operators that
-- shadow pg_catalog's, before the extension is created; a superuser then
-- creates the extension and uses it with public first in its search_path.
-- None of the planted objects may ever run.  They record each call in a log
-- table, which must stay empty.
BEGIN;
SELECT no_plan();

CREATE ROLE ct_test_attacker LOGIN;
GRANT CREATE ON SCHEMA public TO ct_test_attacker;
CREATE TABLE public.ct_hostile_log (what text NOT NULL);
GRANT INSERT ON public.ct_hostile_log TO PUBLIC;

SET ROLE ct_test_attacker;
SET search_path = public, pg_catalog;
CREATE FUNCTION public.ct_hostile(what text) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog
AS $$INSERT INTO public.ct_hostile_log (what) VALUES (what)$$;

-- Functions with the exact signatures of pg_catalog's, which a search_path
-- with public first resolves to.
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('now()'); RETURN pg_catalog.now(); END$$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('lower(text)'); RETURN pg_catalog.lower($1); END$$;
CREATE FUNCTION public.format(text) RETURNS text LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('format(text)'); RETURN pg_catalog.format($1); END$$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('quote_ident(text)'); RETURN pg_catalog.quote_ident($1); END$$;
CREATE FUNCTION public.cardinality(anyarray) RETURNS integer LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('cardinality(anyarray)'); RETURN pg_catalog.cardinality($1); END$$;
CREATE FUNCTION public.array_to_string(anyarray, text) RETURNS text LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('array_to_string(anyarray, text)'); RETURN pg_catalog.array_to_string($1, $2); END$$;
CREATE FUNCTION public.isfinite(timestamptz) RETURNS boolean LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('isfinite(timestamptz)'); RETURN pg_catalog.isfinite($1); END$$;
CREATE FUNCTION public.pg_notify(text, text) RETURNS void LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('pg_notify(text, text)'); END$$;
CREATE FUNCTION public.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile('to_jsonb(anyelement)'); RETURN pg_catalog.to_jsonb($1); END$$;

-- Operators with the exact argument types of pg_catalog's.
CREATE FUNCTION public.ct_hostile_op(l anyelement, r anyelement, op text, result boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$BEGIN PERFORM public.ct_hostile(op); RETURN result; END$$;
CREATE FUNCTION public.ct_hostile_text_eq(text, text) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '=(text,text)', $1 OPERATOR(pg_catalog.=) $2);
CREATE FUNCTION public.ct_hostile_text_ne(text, text) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '<>(text,text)', $1 OPERATOR(pg_catalog.<>) $2);
CREATE FUNCTION public.ct_hostile_text_re(text, text) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '~(text,text)', $1 OPERATOR(pg_catalog.~) $2);
CREATE FUNCTION public.ct_hostile_name_eq(name, name) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '=(name,name)', $1 OPERATOR(pg_catalog.=) $2);
CREATE FUNCTION public.ct_hostile_int8_eq(bigint, bigint) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '=(bigint,bigint)', $1 OPERATOR(pg_catalog.=) $2);
CREATE FUNCTION public.ct_hostile_int8_gt(bigint, bigint) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '>(bigint,bigint)', $1 OPERATOR(pg_catalog.>) $2);
CREATE FUNCTION public.ct_hostile_int4_eq(integer, integer) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '=(integer,integer)', $1 OPERATOR(pg_catalog.=) $2);
CREATE FUNCTION public.ct_hostile_numeric_ge(numeric, numeric) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '>=(numeric,numeric)', $1 OPERATOR(pg_catalog.>=) $2);
CREATE FUNCTION public.ct_hostile_numeric_lt(numeric, numeric) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '<(numeric,numeric)', $1 OPERATOR(pg_catalog.<) $2);
CREATE FUNCTION public.ct_hostile_tstz_gt(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.ct_hostile_op($1, $2, '>(timestamptz,timestamptz)', $1 OPERATOR(pg_catalog.>) $2);
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.ct_hostile_text_eq);
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.ct_hostile_text_ne);
CREATE OPERATOR public.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = public.ct_hostile_text_re);
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = name, FUNCTION = public.ct_hostile_name_eq);
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.ct_hostile_int8_eq);
CREATE OPERATOR public.> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.ct_hostile_int8_gt);
CREATE OPERATOR public.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.ct_hostile_int4_eq);
CREATE OPERATOR public.>= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = public.ct_hostile_numeric_ge);
CREATE OPERATOR public.< (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = public.ct_hostile_numeric_lt);
CREATE OPERATOR public.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.ct_hostile_tstz_gt);
RESET ROLE;

-- The trap works: with public first, unqualified names reach it.
SELECT 'a' = 'b', 1::bigint = 2::bigint, lower('X'), now() IS NOT NULL;
SELECT pg_catalog.set_config('search_path', 'pg_catalog, public', false);
SELECT set_eq($$SELECT what FROM public.ct_hostile_log$$,
              ARRAY['=(text,text)', '=(bigint,bigint)', 'lower(text)', 'now()'],
              'the planted objects run when a query resolves names through public first');
DELETE FROM public.ct_hostile_log;

-- ==== the victim: a superuser with public first in its search_path ====
SET search_path = public, pg_catalog;
CREATE EXTENSION customer_tier;
CREATE TABLE public.ct_orders (id bigint PRIMARY KEY, customer text, amount numeric,
                               ordered_at timestamptz, status text);
INSERT INTO public.ct_orders VALUES
    (1, 'a', 100, '2026-01-05', 'paid'), (2, 'a', 40, '2026-02-05', 'paid'),
    (3, 'b', 10, '2026-03-05', 'paid'), (4, 'c', 500, '2026-03-06', 'cancelled');
SELECT customer_tier.create_program('shop', 'public.ct_orders', 'customer', 'amount', 'ordered_at',
                                    'status', '{paid}', 'id');
INSERT INTO public.ct_orders VALUES (5, 'b', 70, '2026-04-01', 'paid'), (6, NULL, 1, '2026-04-02', 'paid'),
                                    (7, 'd', -5, '2026-04-03', 'paid');
UPDATE public.ct_orders SET customer = 'b' WHERE id = 2;
UPDATE public.ct_orders SET status = 'paid' WHERE id = 4;
DELETE FROM public.ct_orders WHERE id = 3;
SELECT customer_tier.set_tiers('shop', '[{"tier": "vip", "min_value_score": 60}, {"tier": "standard"}]');
SELECT customer_tier.pin_customer('shop', 'a', 'vip', 'key account');
SELECT customer_tier.unpin_customer('shop', 'a');
SELECT customer_tier.pin_customer('shop', 'b', 'vip', 'partner', '2999-01-01');
SELECT customer_tier.refresh_breakpoints('shop');
SELECT customer_tier.rescore_program('shop', 'run');
SELECT customer_tier.unpin_customer('shop', 'b');
SELECT customer_tier.set_method('shop', 'abc');
SELECT customer_tier.rescore_program('shop', 'run');
SELECT count(*) FROM customer_tier.verify_program('shop');
SELECT count(*) FROM customer_tier.tier_rules('shop');
SELECT count(*) FROM ct_shop.customers;
SELECT count(*) FROM ct_shop.tier_history;
SELECT count(*) FROM ct_shop.rejects;
SELECT customer_tier.rfm_segment(5, 5, 5), customer_tier.value_score(5, 4, 3, '{1,1,1}');
TRUNCATE public.ct_orders;
SELECT customer_tier.drop_program('shop');
-- the deferred checks of the tier rules run now, still under this search_path
SET CONSTRAINTS ALL IMMEDIATE;
DROP EXTENSION customer_tier;
SELECT pg_catalog.set_config('search_path', 'pg_catalog, public', false);

SELECT is_empty($$SELECT what, pg_catalog.count(*) FROM public.ct_hostile_log GROUP BY what$$,
                'no planted function or operator ran: not in CREATE EXTENSION, the programs, their triggers or the runs');

-- ==== the install script creates nothing it does not own (CVE-2022-2625) ====
CREATE TEMP TABLE ct_install_script AS
SELECT pg_catalog.pg_read_file(c.setting OPERATOR(pg_catalog.||) '/extension/customer_tier--'
                               OPERATOR(pg_catalog.||) e.default_version OPERATOR(pg_catalog.||) '.sql') AS body
  FROM pg_catalog.pg_config AS c, pg_catalog.pg_available_extensions AS e
 WHERE c.name OPERATOR(pg_catalog.=) 'SHAREDIR' AND e.name OPERATOR(pg_catalog.=) 'customer_tier';
SELECT ok((SELECT pg_catalog.length(body) OPERATOR(pg_catalog.>) 10000 FROM ct_install_script),
          'the built install script is read from the share folder');
SELECT is_empty($$SELECT m[1] FROM ct_install_script, regexp_matches(body, '(create\s+or\s+replace[^\n]*)', 'gi') AS m$$,
                'the install script has no CREATE OR REPLACE');
SELECT is_empty($$SELECT m[1] FROM ct_install_script,
                         regexp_matches(body, '((create|add)\s[a-z_ ]*if\s+not\s+exists[^\n]*)', 'gi') AS m$$,
                'the install script has no CREATE ... IF NOT EXISTS');
SELECT is_empty($$SELECT m[1] FROM ct_install_script,
                         regexp_matches(body, '(\ncreate\s+(function|table|type|aggregate|view|sequence|operator|cast)\s+(?!customer_tier\.)[^\n]*)', 'gi') AS m$$,
                'every object the install script creates is named in schema customer_tier');

SELECT * FROM finish();
ROLLBACK;

#!/usr/bin/env bash
# The reclassify procedure commits between batches, so it cannot run inside
# the transaction of a pgTAP test, and it is the one PL/pgSQL routine of the
# extension without a pinned search_path (a procedure that commits may not
# have a SET clause): it qualifies every name instead.  Here an admin login
# (a member of customer_tier_admin, not a superuser) creates a program and
# runs reclassify with public first in its search_path, where an unprivileged
# role has planted functions and operators that shadow pg_catalog's.  The run
# must succeed and none of the planted objects may run.
set -euo pipefail
db=ct_roles_reclassify
createdb "$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT

out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" 2>&1 <<'SQL'
SET client_min_messages = warning;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ct_script_attacker') THEN
        CREATE ROLE ct_script_attacker LOGIN;
    END IF;
END $$;
GRANT CREATE ON SCHEMA public TO ct_script_attacker;
CREATE TABLE public.hostile_log (what text NOT NULL);
GRANT INSERT ON public.hostile_log TO PUBLIC;

SET ROLE ct_script_attacker;
CREATE FUNCTION public.hostile(what text) RETURNS void LANGUAGE sql VOLATILE SET search_path = pg_catalog
AS $f$INSERT INTO public.hostile_log (what) VALUES (what)$f$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql VOLATILE
AS $f$BEGIN PERFORM public.hostile('now()'); RETURN pg_catalog.now(); END$f$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql VOLATILE
AS $f$BEGIN PERFORM public.hostile('clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END$f$;
CREATE FUNCTION public.count_op(l anyelement, r anyelement, op text, result boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $f$BEGIN PERFORM public.hostile(op); RETURN result; END$f$;
CREATE FUNCTION public.h_text_eq(text, text) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.count_op($1, $2, '=(text,text)', $1 OPERATOR(pg_catalog.=) $2);
CREATE FUNCTION public.h_text_gt(text, text) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.count_op($1, $2, '>(text,text)', $1 OPERATOR(pg_catalog.>) $2);
CREATE FUNCTION public.h_text_le(text, text) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.count_op($1, $2, '<=(text,text)', $1 OPERATOR(pg_catalog.<=) $2);
CREATE FUNCTION public.h_int8_eq(bigint, bigint) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.count_op($1, $2, '=(bigint,bigint)', $1 OPERATOR(pg_catalog.=) $2);
CREATE FUNCTION public.h_int8_gt(bigint, bigint) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.count_op($1, $2, '>(bigint,bigint)', $1 OPERATOR(pg_catalog.>) $2);
CREATE FUNCTION public.h_int8_lt(bigint, bigint) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.count_op($1, $2, '<(bigint,bigint)', $1 OPERATOR(pg_catalog.<) $2);
CREATE FUNCTION public.h_int4_gt(integer, integer) RETURNS boolean LANGUAGE sql VOLATILE
RETURN public.count_op($1, $2, '>(integer,integer)', $1 OPERATOR(pg_catalog.>) $2);
-- format() overloads that beat pg_catalog.format(text, VARIADIC "any") on the
-- exact types of reclassify's arguments and variables (0.2.0 called format unqualified)
CREATE FUNCTION public.format(text, name) RETURNS text LANGUAGE plpgsql VOLATILE
AS $f$BEGIN PERFORM public.hostile('format(text,name)'); RETURN pg_catalog.format($1, $2); END$f$;
CREATE FUNCTION public.format(text, name, regtype) RETURNS text LANGUAGE plpgsql VOLATILE
AS $f$BEGIN PERFORM public.hostile('format(text,name,regtype)'); RETURN pg_catalog.format($1, $2, $3); END$f$;
CREATE FUNCTION public.format(text, numeric, numeric) RETURNS text LANGUAGE plpgsql VOLATILE
AS $f$BEGIN PERFORM public.hostile('format(text,numeric,numeric)'); RETURN pg_catalog.format($1, $2, $3); END$f$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.h_text_eq);
CREATE OPERATOR public.> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.h_text_gt);
CREATE OPERATOR public.<= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.h_text_le);
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.h_int8_eq);
CREATE OPERATOR public.> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.h_int8_gt);
CREATE OPERATOR public.< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.h_int8_lt);
CREATE OPERATOR public.> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.h_int4_gt);
RESET ROLE;

SET search_path = public, pg_catalog;
-- the trap works: an unqualified operator resolves to the planted one
SELECT 'x' = 'y' AS control \gset
SELECT 'control: ' OPERATOR(pg_catalog.||) pg_catalog.count(*) FROM public.hostile_log;
TRUNCATE public.hostile_log;
CREATE EXTENSION customer_tier;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'ct_script_admin') THEN
        CREATE ROLE ct_script_admin LOGIN IN ROLE customer_tier_admin;
    END IF;
    EXECUTE pg_catalog.format('GRANT CREATE ON DATABASE %I TO customer_tier_admin', pg_catalog.current_database());
END $$;
CREATE SCHEMA crm AUTHORIZATION ct_script_admin;

SET ROLE ct_script_admin;
CREATE TABLE crm.orders (id bigint PRIMARY KEY, customer text, amount numeric, ordered_at timestamptz);
INSERT INTO crm.orders
SELECT i, 'c' OPERATOR(pg_catalog.||) (i OPERATOR(pg_catalog.%) 37), i OPERATOR(pg_catalog.%) 90,
       '2026-01-01'::timestamptz OPERATOR(pg_catalog.+) (i OPERATOR(pg_catalog.*) interval '1 hour')
  FROM pg_catalog.generate_series(1, 500) AS i;
SELECT customer_tier.create_program('shop', 'crm.orders', 'customer', 'amount', 'ordered_at');
CALL customer_tier.reclassify('shop', 10);
SELECT 'run ' OPERATOR(pg_catalog.||) r.outcome OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) r.customers
       OPERATOR(pg_catalog.||) ' customers by ' OPERATOR(pg_catalog.||) r.run_by
  FROM customer_tier.run AS r;
RESET ROLE;
SELECT 'planted: ' OPERATOR(pg_catalog.||) coalesce(pg_catalog.string_agg(DISTINCT what, ', '), 'none')
  FROM public.hostile_log;
SELECT customer_tier.drop_program('shop');
REVOKE CREATE ON DATABASE ct_roles_reclassify FROM customer_tier_admin;
DROP OWNED BY ct_script_admin, ct_script_attacker;
DROP ROLE ct_script_admin;
DROP ROLE ct_script_attacker;
SQL
) || { echo "$out"; exit 1; }
echo "$out"
fail=0
grep -qx 'control: 1' <<<"$out" || { echo "FAIL: the planted operator did not run when called unqualified"; fail=1; }
grep -qx 'run succeeded 37 customers by ct_script_admin' <<<"$out" || { echo "FAIL: the admin's reclassify run did not succeed"; fail=1; }
grep -qx 'planted: none' <<<"$out" || { echo "FAIL: a planted object ran during reclassify"; fail=1; }
exit $fail

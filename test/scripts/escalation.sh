#!/usr/bin/env bash
# The paths to superuser that 0.2.0 had, each tried again (docs/security.md).
# Every planted function logs who ran it and tries to make its author a
# superuser; the test fails if any planted function ran, if any attacker
# became superuser, or if a refusal has another SQLSTATE than the contract's.
#   1. reclassify, called by a superuser and by a pg_cron job, with format()
#      overloads planted in public that beat pg_catalog.format on exact types
#   2. the orders table's owner defines casts of its own column type to json,
#      jsonb and text, then writes a row the program rejects (to_jsonb of the
#      row) and reads kpis() (the status column cast to text)
#   3. an admin puts a trigger on a program's tables, which a superuser's
#      forget, pin or run would fire
#   4. an admin rewrites customer_tier.program (orders_table, name)
#   5. an admin with TRIGGER and column-level SELECT attaches a program
#   6. the orders and feedback tables' owner puts a row-security policy on them,
#      whose function the trigger path's reads as customer_tier_owner would run
# Runs in database postgres, where the test server's pg_cron schedules jobs.
# It leaves pg_cron installed: dropped and created again, pg_cron hands out
# job ids from 1 again while its scheduler may still hold the old jobs' commands.
set -euo pipefail
db=postgres
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d "$db" >"$out" 2>&1 <<'SQL' || { cat "$out"; exit 1; }
SET client_min_messages = warning;
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['ct_esc_planter', 'ct_esc_crm', 'ct_esc_admin', 'ct_esc_admin2', 'ct_esc_reader'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        END IF;
    END LOOP;
END $$;
CREATE EXTENSION customer_tier;
CREATE EXTENSION IF NOT EXISTS pg_cron;
GRANT customer_tier_admin TO ct_esc_admin, ct_esc_admin2;
GRANT customer_tier_reader TO ct_esc_reader;
GRANT CREATE ON SCHEMA public TO ct_esc_planter;

-- Who ran planted code, and as whom.
CREATE TABLE public.esc_log (planted text, ran_as name DEFAULT current_user);
GRANT INSERT ON public.esc_log TO PUBLIC;
-- Planted code calls this with its author's name: log, then try to escalate.
CREATE FUNCTION public.esc_attempt(author name, planted text) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog AS $f$
BEGIN
    INSERT INTO public.esc_log (planted) VALUES (planted);
    BEGIN
        EXECUTE format('ALTER ROLE %I SUPERUSER', author);
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
END $f$;
GRANT EXECUTE ON FUNCTION public.esc_attempt(name, text) TO PUBLIC;
-- a trigger function anyone may name in CREATE TRIGGER
CREATE FUNCTION public.esc_trg() RETURNS trigger LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt(current_user, 'trigger on a program table'); RETURN NULL; END$f$;

-- 1. format() overloads that win over pg_catalog.format(text, VARIADIC "any")
SET ROLE ct_esc_planter;
CREATE FUNCTION public.format(text, name) RETURNS text LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt('ct_esc_planter', 'format(text,name)'); RETURN pg_catalog.format($1, $2); END$f$;
CREATE FUNCTION public.format(text, name, regtype) RETURNS text LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt('ct_esc_planter', 'format(text,name,regtype)'); RETURN pg_catalog.format($1, $2, $3); END$f$;
CREATE FUNCTION public.format(text, numeric, numeric) RETURNS text LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt('ct_esc_planter', 'format(text,numeric,numeric)'); RETURN pg_catalog.format($1, $2, $3); END$f$;
CREATE FUNCTION public.format(text, text, text) RETURNS text LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt('ct_esc_planter', 'format(text,text,text)'); RETURN pg_catalog.format($1, $2, $3); END$f$;
RESET ROLE;

-- 2. the CRM's table, owned by ct_esc_crm, with a column type of its own
CREATE SCHEMA esc_crm AUTHORIZATION ct_esc_crm;
SET ROLE ct_esc_crm;
CREATE TYPE esc_crm.mood AS ENUM ('paid', 'evil');
CREATE FUNCTION esc_crm.mood_json(esc_crm.mood) RETURNS json LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt('ct_esc_crm', 'cast mood to json'); RETURN to_json($1::name); END$f$;
CREATE FUNCTION esc_crm.mood_jsonb(esc_crm.mood) RETURNS jsonb LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt('ct_esc_crm', 'cast mood to jsonb'); RETURN to_jsonb($1::name); END$f$;
CREATE FUNCTION esc_crm.mood_text(esc_crm.mood) RETURNS text LANGUAGE plpgsql AS
$f$BEGIN PERFORM public.esc_attempt('ct_esc_crm', 'cast mood to text'); RETURN 'paid'; END$f$;
CREATE CAST (esc_crm.mood AS json) WITH FUNCTION esc_crm.mood_json(esc_crm.mood);
CREATE CAST (esc_crm.mood AS jsonb) WITH FUNCTION esc_crm.mood_jsonb(esc_crm.mood);
CREATE CAST (esc_crm.mood AS text) WITH FUNCTION esc_crm.mood_text(esc_crm.mood);
CREATE TABLE esc_crm.orders (id bigint GENERATED ALWAYS AS IDENTITY, customer text, amount numeric,
                             ordered_at timestamptz, status esc_crm.mood);
INSERT INTO esc_crm.orders (customer, amount, ordered_at, status)
SELECT 'c' || (i % 30), 10 + i % 70, now() - i * interval '9 hours', 'paid' FROM generate_series(1, 400) AS i;
CREATE TABLE esc_crm.salaries (employee text, salary numeric);
INSERT INTO esc_crm.salaries VALUES ('ceo', 1000000);
GRANT SELECT, TRIGGER, UPDATE ON esc_crm.orders TO ct_esc_admin;  -- UPDATE: the LOCK before the backfill
GRANT USAGE ON SCHEMA esc_crm TO ct_esc_admin;
RESET ROLE;
-- a superuser attaches the program (the worst case of 0.2.0: its trigger ran as superuser)
SELECT customer_tier.create_program('esc', 'esc_crm.orders', 'customer', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid}', order_id_column => 'id');
CREATE TABLE esc_crm.survey (customer text, score integer, kind text, answered_at timestamptz);
SELECT customer_tier.attach_feedback('esc', 'esc_crm.survey', 'customer', 'score', 'kind', 'answered_at');
SQL

run() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# expect ROLE SQLSTATE SQL: the statement, run as ROLE, fails with SQLSTATE
expect() {
    local role=$1 state=$2 sql=$3 got
    got=$(psql -X -q -At -d "$db" 2>&1 <<SQL || true
SET ROLE $role;
DO \$x\$ BEGIN
    EXECUTE \$q\$$sql\$q\$;
    RAISE NOTICE 'state 00000';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'state % %', SQLSTATE, SQLERRM;
END \$x\$;
SQL
)
    case "$got" in
        *"state $state"*) echo "refused ($state) as $role: $sql" ;;
        *) echo "FAIL: expected $state as $role: $sql -> $got"; fail=1 ;;
    esac
}

# 1. a superuser's reclassify with the overloads on its search_path
run -c "CALL customer_tier.reclassify('esc')" >/dev/null 2>&1 || { echo "FAIL: superuser's reclassify failed"; fail=1; }

# 2. the CRM writes a row the program rejects, a row that counts, and reads KPIs as a reader
run -c "SET ROLE ct_esc_crm; INSERT INTO esc_crm.orders (customer, amount, ordered_at, status) VALUES (NULL, 5, now(), 'evil'), ('c1', 5, now(), 'paid')" >/dev/null
rejected=$(run -c "SELECT row_image->>'status' FROM ct_esc.rejects")
[ "$rejected" = evil ] || { echo "FAIL: the rejected row's image says status '$rejected'"; fail=1; }
run -c "SET ROLE ct_esc_reader; SELECT count(*) FROM ct_esc.kpis('month')" >/dev/null || { echo "FAIL: kpis() as the reader"; fail=1; }

# 3. no role but a superuser may add a trigger, rule or default to a program's tables, not
# even the admin who attached the program (0.2.0 made it their owner); an admin needs no
# CREATE on the database to attach one (customer_tier_owner makes the schema)
run -c "SET ROLE ct_esc_admin; SELECT customer_tier.create_program('esc_mine', 'esc_crm.orders', 'customer', 'amount', 'ordered_at')" >/dev/null 2>&1 \
    || { echo "FAIL: an admin without CREATE on the database could not attach a program"; fail=1; }
expect ct_esc_admin 42501 "CREATE TRIGGER esc AFTER DELETE ON ct_esc_mine.tier_history FOR EACH ROW EXECUTE FUNCTION public.esc_trg()"
expect ct_esc_admin 42501 "CREATE RULE esc AS ON DELETE TO ct_esc_mine.customers DO ALSO SELECT 1"
expect ct_esc_admin 42501 "ALTER TABLE ct_esc_mine.rejects ALTER COLUMN reason SET DEFAULT 'x'"
expect ct_esc_admin 42501 "CREATE TRIGGER esc AFTER UPDATE ON ct_esc.customers FOR EACH STATEMENT EXECUTE FUNCTION public.esc_trg()"
expect ct_esc_crm 42501 "CREATE TRIGGER esc AFTER UPDATE ON ct_esc_mine.customers FOR EACH STATEMENT EXECUTE FUNCTION public.esc_trg()"
# a superuser (the data-protection officer) erases and pins: only the extension's code runs
run -c "DELETE FROM esc_crm.orders WHERE customer = 'c3'; SELECT customer_tier.forget(p, 'c3') FROM unnest('{esc,esc_mine}'::text[]) AS p" >/dev/null
run -c "SELECT customer_tier.pin_customer(p, 'c4', 'diamond', 'strategic') FROM unnest('{esc,esc_mine}'::text[]) AS p" >/dev/null

# 4. the catalog changes only through the extension's functions
expect ct_esc_admin 42501 "UPDATE customer_tier.program SET orders_table = 'esc_crm.salaries'::regclass WHERE name = 'esc'"
expect ct_esc_admin 42501 "UPDATE customer_tier.program SET name = 'renamed' WHERE name = 'esc'"
expect ct_esc_admin 42501 "INSERT INTO customer_tier.program SELECT * FROM customer_tier.program"
expect ct_esc_admin 42501 "DELETE FROM customer_tier.program"
expect ct_esc_admin 42501 "SELECT customer_tier.owner_attach('ct_esc_admin', 'x', '{}')"
expect ct_esc_admin 42501 "SELECT customer_tier.run_as_owner('attach', 'stolen', jsonb_build_object('orders', 'esc_crm.salaries'::regclass::oid, 'customer_column', 'employee', 'amount_column', 'salary', 'ordered_at_column', 'employee'))"
expect ct_esc_crm 42501 "SELECT customer_tier.run_as_owner('detach', 'esc', NULL)"
expect ct_esc_admin 22023 "SELECT customer_tier.run_as_owner('rebuild', 'esc', NULL)"
# an admin may name the trigger function in CREATE TRIGGER, but it serves only its program's table
run -c "CREATE TABLE public.esc_other (customer text, amount numeric, ordered_at timestamptz, status esc_crm.mood, id bigint); ALTER TABLE public.esc_other OWNER TO ct_esc_admin" >/dev/null
expect ct_esc_admin 42501 "CREATE TRIGGER esc AFTER INSERT ON public.esc_other REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders('esc'); INSERT INTO public.esc_other VALUES ('z', 1, now(), 'paid', 1)"
expect ct_esc_admin 42501 "CREATE TRIGGER esc_row AFTER INSERT ON public.esc_other FOR EACH ROW EXECUTE FUNCTION customer_tier.maintain_orders('esc'); INSERT INTO public.esc_other VALUES ('z', 1, now(), 'paid', 1)"
expect ct_esc_admin 42501 "CREATE TRIGGER esc_trunc AFTER TRUNCATE ON public.esc_other FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_orders('esc'); TRUNCATE public.esc_other"
# the feedback trigger function serves its program's feedback table only
expect ct_esc_admin 42501 "CREATE TRIGGER esc_fb AFTER INSERT ON public.esc_other REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_feedback('esc'); INSERT INTO public.esc_other VALUES ('z', 1, now(), 'paid', 1)"
expect ct_esc_admin 42501 "CREATE TRIGGER esc_fb_trunc AFTER TRUNCATE ON public.esc_other FOR EACH STATEMENT EXECUTE FUNCTION customer_tier.maintain_feedback('esc'); TRUNCATE public.esc_other"

# another admin may not drop esc_mine; nothing works while customer_tier_owner has a member
# (straight to the owner step, past drop_program's DROP TRIGGER, which needs the table's owner)
expect ct_esc_admin2 42501 "SELECT customer_tier.run_as_owner('detach', 'esc_mine', NULL)"
# nor reach its tables through create_program's last step
expect ct_esc_admin2 42501 "SELECT customer_tier.run_as_owner('backfilled', 'esc_mine', NULL)"
run -c "GRANT customer_tier_owner TO ct_esc_planter" >/dev/null
expect ct_esc_admin 42501 "SELECT customer_tier.run_as_owner('detach', 'esc_mine', NULL)"
run -c "REVOKE customer_tier_owner FROM ct_esc_planter" >/dev/null
# without a member, the admin who attached it passes the owner step's checks; the triggers
# still on the orders table stop the drop (2BP01) until their owner drops them
expect ct_esc_admin 2BP01 "SELECT customer_tier.run_as_owner('detach', 'esc_mine', NULL)"
run -c "SELECT customer_tier.drop_program('esc_mine')" >/dev/null || { echo "FAIL: a superuser could not drop esc_mine"; fail=1; }

# kpis() runs as customer_tier_owner: a row-security policy of the table's owner must make it
# fail rather than run the policy's function with customer_tier_owner's rights
run -c "SET ROLE ct_esc_crm; CREATE FUNCTION esc_crm.esc_policy() RETURNS boolean LANGUAGE plpgsql AS \$f\$BEGIN PERFORM public.esc_attempt('ct_esc_crm', 'row security policy'); RETURN true; END\$f\$; CREATE POLICY esc ON esc_crm.orders USING (esc_crm.esc_policy()); ALTER TABLE esc_crm.orders ENABLE ROW LEVEL SECURITY" >/dev/null
expect ct_esc_reader 42501 "SELECT count(*) FROM ct_esc.kpis('month')"
# The trigger path recomputes a customer from the orders table as customer_tier_owner (a
# deleted latest order): under the policy it must not read the table, and the CRM's write
# goes through, the customer logged as not repaired.  Likewise the copy of drifted feedback
# answers from a feedback table with a policy.
unrepaired_before=$(run -c "SELECT count(*) FROM customer_tier.drift_repair WHERE NOT repaired")
run -c "SET ROLE ct_esc_crm; DELETE FROM esc_crm.orders WHERE id = (SELECT id FROM esc_crm.orders WHERE customer = 'c2' ORDER BY ordered_at DESC LIMIT 1)" >/dev/null 2>&1 \
    || { echo "FAIL: a delete needing a recompute failed under a row-security policy"; fail=1; }
run -c "ALTER TABLE esc_crm.survey OWNER TO ct_esc_crm" >/dev/null
run -c "SET ROLE ct_esc_crm; INSERT INTO esc_crm.survey VALUES ('c2', 9, 'nps', now()), ('c2', 3, 'nps', now()); CREATE POLICY esc ON esc_crm.survey USING (esc_crm.esc_policy()); ALTER TABLE esc_crm.survey ENABLE ROW LEVEL SECURITY" >/dev/null
run -c "DELETE FROM ct_esc.answers WHERE customer = 'c2' AND score = 9" >/dev/null
run -c "SET ROLE ct_esc_crm; DELETE FROM esc_crm.survey WHERE score = 9" >/dev/null 2>&1 \
    || { echo "FAIL: a feedback delete finding drift failed under a row-security policy"; fail=1; }
unrepaired=$(run -c "SELECT string_agg(source, ',' ORDER BY source) FROM customer_tier.drift_repair WHERE NOT repaired" )
[ "$(run -c "SELECT count(*) FROM customer_tier.drift_repair WHERE NOT repaired")" = $((unrepaired_before + 2)) ] \
    && echo "the recompute and the answers' repair left the tables with a policy unread ($unrepaired)" \
    || { echo "FAIL: expected two unrepaired drift logs under the policies, got: $unrepaired"; fail=1; }
run -c "SET ROLE ct_esc_crm; ALTER TABLE esc_crm.orders DISABLE ROW LEVEL SECURITY; DROP POLICY esc ON esc_crm.orders; ALTER TABLE esc_crm.survey DISABLE ROW LEVEL SECURITY; DROP POLICY esc ON esc_crm.survey" >/dev/null
run -c "SELECT customer_tier.rebuild_program('esc')" >/dev/null

# 5. SELECT on some columns is not enough to attach a program (its rejects keep whole rows)
run -c "SET ROLE ct_esc_crm; CREATE TABLE esc_crm.partial (customer text, amount numeric, ordered_at timestamptz, secret text); GRANT TRIGGER, UPDATE, SELECT (customer, amount, ordered_at) ON esc_crm.partial TO ct_esc_admin" >/dev/null
expect ct_esc_admin 42501 "SELECT customer_tier.create_program('partial', 'esc_crm.partial', 'customer', 'amount', 'ordered_at')"

# 1-3 again through pg_cron: a superuser's scheduled run and a scheduled write
run -c "SELECT cron.schedule('esc_run', '* * * * *', \$\$CALL customer_tier.reclassify('esc')\$\$)" >/dev/null
run -c "SELECT cron.schedule('esc_write', '* * * * *', \$\$INSERT INTO esc_crm.orders (customer, amount, ordered_at, status) VALUES (NULL, 7, now(), 'evil')\$\$)" >/dev/null
before=$(run -c "SELECT count(*) FROM customer_tier.run WHERE program = 'esc' AND outcome = 'succeeded'")
for _ in $(seq 1 75); do
    now_runs=$(run -c "SELECT count(*) FROM customer_tier.run WHERE program = 'esc' AND outcome = 'succeeded'")
    writes=$(run -c "SELECT count(*) FROM ct_esc.rejects WHERE operation = 'INSERT' AND order_id IS NOT NULL")
    [ "$now_runs" -gt "$before" ] && [ "$writes" -ge 2 ] && break
    sleep 1
done
run -c "SELECT cron.unschedule('esc_run'), cron.unschedule('esc_write')" >/dev/null
# let a job that already started finish before its tables go
for _ in $(seq 1 30); do
    [ "$(run -c "SELECT count(*) FROM cron.job_run_details WHERE status IN ('starting', 'running')")" = 0 ] && break
    sleep 1
done
if [ "$now_runs" -gt "$before" ] && [ "$writes" -ge 2 ]; then
    echo "pg_cron ran the scheduled run and write"
else
    echo "FAIL: pg_cron did not run both jobs within 75 s (runs $now_runs, rejected writes $writes)"
    run -c "SELECT jobid, status, return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 4"
    fail=1
fi

ran=$(run -c "SELECT string_agg(planted || ' as ' || ran_as, '; ') FROM public.esc_log")
[ -z "$ran" ] || { echo "FAIL: planted code ran: $ran"; fail=1; }
supers=$(run -c "SELECT string_agg(rolname, ', ') FROM pg_roles WHERE rolname LIKE 'ct_esc_%' AND rolsuper")
[ -z "$supers" ] || { echo "FAIL: became superuser: $supers"; fail=1; }
stolen=$(run -c "SELECT count(*) FROM customer_tier.program WHERE orders_table = 'esc_crm.salaries'::regclass OR name <> 'esc'")
[ "$stolen" = 0 ] || { echo "FAIL: the catalog was rewritten"; fail=1; }
verify=$(run -c "SELECT count(*) FROM customer_tier.verify_program('esc')")
[ "$verify" = 0 ] || { echo "FAIL: verify_program('esc') reports $verify differences"; fail=1; }

psql -X -q -d "$db" >/dev/null 2>&1 <<'SQL'
SELECT customer_tier.drop_program('esc');
DROP TABLE public.esc_other;
DROP SCHEMA esc_crm CASCADE;
DROP FUNCTION public.format(text, name), public.format(text, name, regtype),
              public.format(text, numeric, numeric), public.format(text, text, text);
DROP TABLE public.esc_log;
DROP FUNCTION public.esc_attempt(name, text), public.esc_trg();
REVOKE CREATE ON SCHEMA public FROM ct_esc_planter;
DROP EXTENSION customer_tier;
DROP SCHEMA customer_tier;
SQL
[ "$fail" = 0 ] && echo "no path to superuser: ok"
exit $fail

#!/usr/bin/env bash
# ALTER EXTENSION customer_tier UPDATE from every released version gives
# exactly what CREATE EXTENSION customer_tier gives today.
#
# For each frozen release sql/releases/customer_tier--<old>.sql: database A
# installs <old>, an admin login creates a program over a small orders table
# (rules method, weights, grace, a pin, a run, a user's view over its
# segments), then A is updated to the
# current version.  Database B installs the current version and gets the same
# program.  A catalog dump of both -- every object of the extension and of the
# program schema ct_members: functions (pg_get_functiondef, owner, sorted
# ACL, comment), aggregates, tables, columns, defaults, constraints, indexes,
# sequences, views (pg_get_viewdef), triggers, types, extension membership,
# pg_extension_config_dump registrations and pg_init_privs -- must be
# identical, line for line.  Then the updated program must still work, and
# survive pg_dump and pg_restore.
#
# The point: no change to sql/install can land without its upgrade script.
set -euo pipefail
cd "${CT_ROOT:-$(dirname "$0")/../..}"
fail=0
admin=ct_upgrade_admin
current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" customer_tier.control)

psql -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$admin') THEN
        CREATE ROLE $admin LOGIN;
    END IF;
END \$\$;
SQL

# The same program in database $1, created by the admin login (not a superuser).
make_program() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" >/dev/null <<SQL
SET client_min_messages = warning;
GRANT customer_tier_admin TO $admin;
GRANT CREATE ON DATABASE $1 TO $admin;
CREATE SCHEMA crm AUTHORIZATION $admin;
SET ROLE $admin;
CREATE TABLE crm.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id text,
                         amount numeric(12,2), ordered_at timestamptz, status text);
INSERT INTO crm.orders (customer_id, amount, ordered_at, status)
SELECT 'k' || (c % 40), (c % 17) * 5 + 1, now() - c * interval '13 hours',
       CASE WHEN c % 11 = 0 THEN 'cancelled' ELSE 'paid' END
  FROM generate_series(1, 400) AS c;
SELECT customer_tier.create_program('members', 'crm.orders', 'customer_id', 'amount', 'ordered_at',
                                    status_column => 'status', counted_statuses => '{paid}', order_id_column => 'id');
SELECT customer_tier.set_method('members', 'rules');
SELECT customer_tier.configure_program('members', score_weights => '{2,1,1}', downgrade_grace => '14 days');
SELECT customer_tier.pin_customer('members', 'k7', 'diamond', 'board member');
CALL customer_tier.reclassify('members');
-- a user's own view over the program's views: the update must not need to drop them
CREATE VIEW crm.diamonds AS SELECT customer FROM ct_members.segments WHERE tier = 'diamond';
CREATE TABLE crm.survey (customer_id text, score integer, kind text, answered_at timestamptz);
INSERT INTO crm.survey VALUES ('k1', 10, 'nps', now() - interval '1 day'), ('k2', 4, 'csat', now());
SQL
    attach_survey "$1"
}

# Attach the feedback table, where the installed version can (0.2.0 on) and
# it is not attached yet: before the update it tests the update's conversion
# of the feedback triggers.
attach_survey() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" >/dev/null <<SQL
SET client_min_messages = warning;
SET ROLE $admin;
DO \$\$ BEGIN
    IF to_regprocedure('customer_tier.attach_feedback(text, regclass, name, name, name, name, interval)') IS NOT NULL
       AND to_regclass('customer_tier.feedback_source') IS NOT NULL THEN
        EXECUTE 'SELECT customer_tier.attach_feedback(''members'', ''crm.survey'', ''customer_id'', ''score'', ''kind'', ''answered_at'')'
          ' WHERE NOT EXISTS (SELECT FROM customer_tier.feedback_source)';
    END IF;
END \$\$;
SQL
}

# One line per property of every object of the extension and of the program's
# schema: "<object> | <property> | <value>", a multi-line value on several
# lines that all start with the object and property.  Sorted, so that diff
# shows exactly the objects and properties that differ.
catalog() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
CREATE TEMP TABLE ct_schemas AS
SELECT n.oid, n.nspname FROM pg_namespace AS n WHERE n.nspname IN ('customer_tier', 'ct_members');
CREATE TEMP TABLE ct_lines (object text, property text, value text);
-- an ACL with its items sorted: the order of GRANTs is not a difference
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql
RETURN (SELECT string_agg(x::text, ' ' ORDER BY x::text) FROM unnest(a) AS x);

-- extension: version, members, pg_extension_config_dump registrations
INSERT INTO ct_lines
SELECT 'extension customer_tier', 'version', e.extversion FROM pg_extension AS e WHERE e.extname = 'customer_tier'
UNION ALL
SELECT 'extension customer_tier', 'config_dump',
       format('%s where %s', c.tbl::regclass, coalesce(nullif(c.cond, ''), '(all rows)'))
  FROM pg_extension AS e, unnest(e.extconfig, e.extcondition) AS c (tbl, cond)
 WHERE e.extname = 'customer_tier'
UNION ALL
SELECT 'extension customer_tier', 'member', pg_describe_object(d.classid, d.objid, d.objsubid)
  FROM pg_depend AS d JOIN pg_extension AS e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'customer_tier';

-- schemas
INSERT INTO ct_lines
SELECT 'schema ' || n.nspname, p.property, p.value
  FROM ct_schemas AS s JOIN pg_namespace AS n ON n.oid = s.oid,
       LATERAL (VALUES ('owner', n.nspowner::regrole::text), ('acl', pg_temp.acl(n.nspacl)),
                       ('comment', obj_description(n.oid, 'pg_namespace'))) AS p (property, value);

-- functions, procedures and aggregates
INSERT INTO ct_lines
SELECT 'routine ' || f.oid::regprocedure, p.property, p.value
  FROM pg_proc AS f JOIN ct_schemas AS s ON s.oid = f.pronamespace,
       LATERAL (VALUES ('kind', f.prokind::text),
                       ('definition', CASE WHEN f.prokind <> 'a' THEN pg_get_functiondef(f.oid) END),
                       ('owner', f.proowner::regrole::text), ('acl', pg_temp.acl(f.proacl)),
                       ('comment', obj_description(f.oid, 'pg_proc'))) AS p (property, value);
INSERT INTO ct_lines
SELECT 'routine ' || a.aggfnoid::regprocedure, 'aggregate',
       concat_ws(' ', 'kind', a.aggkind, 'transfn', a.aggtransfn, 'finalfn', a.aggfinalfn, 'combinefn', a.aggcombinefn,
                 'serialfn', a.aggserialfn, 'deserialfn', a.aggdeserialfn, 'mtransfn', a.aggmtransfn,
                 'finalextra', a.aggfinalextra, 'finalmodify', a.aggfinalmodify, 'sortop', a.aggsortop::regoperator,
                 'stype', a.aggtranstype::regtype, 'sspace', a.aggtransspace, 'initcond', a.agginitval)
  FROM pg_aggregate AS a JOIN pg_proc AS f ON f.oid = a.aggfnoid JOIN ct_schemas AS s ON s.oid = f.pronamespace;

-- tables, views, sequences, indexes, composite types
INSERT INTO ct_lines
SELECT format('relation %s.%s', s.nspname, c.relname), p.property, p.value
  FROM pg_class AS c JOIN ct_schemas AS s ON s.oid = c.relnamespace,
       LATERAL (VALUES ('kind', c.relkind::text), ('owner', c.relowner::regrole::text),
                       ('acl', pg_temp.acl(c.relacl)), ('options', c.reloptions::text),
                       ('comment', obj_description(c.oid, 'pg_class')),
                       ('definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid)
                                           WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END)) AS p (property, value);
INSERT INTO ct_lines
SELECT format('relation %s.%s column %s', s.nspname, c.relname, a.attname), p.property, p.value
  FROM pg_class AS c JOIN ct_schemas AS s ON s.oid = c.relnamespace
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum,
       LATERAL (VALUES ('position', (SELECT count(*) FROM pg_attribute AS b
                                      WHERE b.attrelid = c.oid AND b.attnum > 0 AND NOT b.attisdropped
                                        AND b.attnum <= a.attnum)::text),
                       ('type', format_type(a.atttypid, a.atttypmod)), ('not null', a.attnotnull::text),
                       ('default', pg_get_expr(d.adbin, d.adrelid)), ('identity', nullif(a.attidentity, '')::text),
                       ('generated', nullif(a.attgenerated, '')::text),
                       ('collation', CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END),
                       ('acl', pg_temp.acl(a.attacl)),
                       ('comment', col_description(c.oid, a.attnum))) AS p (property, value)
 WHERE c.relkind <> 'i';
INSERT INTO ct_lines
SELECT format('relation %s.%s constraint %s', s.nspname, c.relname, k.conname), 'definition',
       pg_get_constraintdef(k.oid) || coalesce(' comment ' || obj_description(k.oid, 'pg_constraint'), '')
  FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid JOIN ct_schemas AS s ON s.oid = c.relnamespace;
INSERT INTO ct_lines
SELECT format('sequence %s', q.seqrelid::regclass), 'parameters',
       concat_ws(' ', q.seqtypid::regtype, q.seqstart, q.seqincrement, q.seqmax, q.seqmin, q.seqcache, q.seqcycle)
  FROM pg_sequence AS q JOIN pg_class AS c ON c.oid = q.seqrelid JOIN ct_schemas AS s ON s.oid = c.relnamespace;
-- triggers on the schemas' tables and the triggers that call their functions (on crm.orders)
INSERT INTO ct_lines
SELECT format('trigger %s on %s', t.tgname, t.tgrelid::regclass), 'definition',
       pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
  FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid JOIN pg_proc AS f ON f.oid = t.tgfoid
 WHERE NOT t.tgisinternal
   AND (c.relnamespace IN (SELECT oid FROM ct_schemas) OR f.pronamespace IN (SELECT oid FROM ct_schemas));

-- types (not the row types of tables and views)
INSERT INTO ct_lines
SELECT 'type ' || y.oid::regtype, p.property, p.value
  FROM pg_type AS y JOIN ct_schemas AS s ON s.oid = y.typnamespace
  LEFT JOIN pg_class AS c ON c.oid = y.typrelid,
       LATERAL (VALUES ('form', concat_ws(' ', 'type', y.typtype, 'len', y.typlen, 'byval', y.typbyval,
                                         'align', y.typalign, 'storage', y.typstorage, 'category', y.typcategory,
                                         'in', y.typinput, 'out', y.typoutput, 'recv', y.typreceive,
                                         'send', y.typsend, 'elem', y.typelem::regtype,
                                         'base', y.typbasetype::regtype, 'default', y.typdefault)),
                       ('owner', y.typowner::regrole::text), ('acl', pg_temp.acl(y.typacl)),
                       ('comment', obj_description(y.oid, 'pg_type')),
                       ('enum labels', (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                          FROM pg_enum AS e WHERE e.enumtypid = y.oid))) AS p (property, value)
 WHERE c.oid IS NULL OR c.relkind = 'c';
INSERT INTO ct_lines
SELECT 'operator ' || o.oid::regoperator, 'definition', concat_ws(' ', o.oprcode, o.oprcom::regoperator, o.oprnegate::regoperator,
                                                                   o.oprowner::regrole, obj_description(o.oid, 'pg_operator'))
  FROM pg_operator AS o JOIN ct_schemas AS s ON s.oid = o.oprnamespace;
INSERT INTO ct_lines
SELECT format('cast (%s as %s)', k.castsource::regtype, k.casttarget::regtype), 'definition',
       concat_ws(' ', k.castfunc::regprocedure, k.castcontext, k.castmethod)
  FROM pg_cast AS k JOIN pg_proc AS f ON f.oid = k.castfunc JOIN ct_schemas AS s ON s.oid = f.pronamespace;

-- the initial privileges pg_dump compares against (recorded by extension scripts)
INSERT INTO ct_lines
SELECT 'initial privileges of ' || pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype::text,
       pg_temp.acl(i.initprivs)
  FROM pg_init_privs AS i
 WHERE (i.classoid = 'pg_proc'::regclass AND i.objoid IN (SELECT f.oid FROM pg_proc AS f WHERE f.pronamespace IN (SELECT oid FROM ct_schemas)))
    OR (i.classoid = 'pg_class'::regclass AND i.objoid IN (SELECT c.oid FROM pg_class AS c WHERE c.relnamespace IN (SELECT oid FROM ct_schemas)))
    OR (i.classoid = 'pg_type'::regclass AND i.objoid IN (SELECT y.oid FROM pg_type AS y WHERE y.typnamespace IN (SELECT oid FROM ct_schemas)))
    OR (i.classoid = 'pg_namespace'::regclass AND i.objoid IN (SELECT oid FROM ct_schemas));

SELECT l.object || ' | ' || l.property || ' | ' || v.line
  FROM ct_lines AS l,
       LATERAL unnest(string_to_array(coalesce(l.value, '(null)'), E'\n')) WITH ORDINALITY AS v (line, n)
 ORDER BY l.object, l.property, l.value, v.n;
SQL
}

# CT_KEEP_TMP=1 keeps the catalog dumps (new, old, restored) for a closer look.
tmp=$(mktemp -d)
if [ -n "${CT_KEEP_TMP:-}" ]; then echo "catalog dumps in $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
createdb ct_upgrade_new
psql -X -q -v ON_ERROR_STOP=1 -d ct_upgrade_new -c 'CREATE EXTENSION customer_tier' >/dev/null
make_program ct_upgrade_new
catalog ct_upgrade_new >"$tmp/new"

for release in sql/releases/customer_tier--*.sql; do
    case $release in *--*--*) continue ;; esac   # a frozen upgrade script, not a release
    old=${release##*--}; old=${old%.sql}
    db=ct_upgrade_from_${old//./_}
    createdb "$db"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION customer_tier VERSION '$old'" >/dev/null
    make_program "$db"
    if ! psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'ALTER EXTENSION customer_tier UPDATE' 2>"$tmp/err"; then
        echo "ALTER EXTENSION customer_tier UPDATE from $old to $current failed:"; cat "$tmp/err"
        fail=1; dropdb "$db"; continue
    fi
    attach_survey "$db"
    catalog "$db" >"$tmp/old"
    if diff -U0 "$tmp/old" "$tmp/new" >"$tmp/diff"; then
        echo "upgrade $old -> $current: $(wc -l <"$tmp/new") catalog lines identical to a fresh install"
    else
        echo "UPGRADE $old -> $current DIFFERS FROM A FRESH CREATE EXTENSION:"
        echo "  '-' lines: database updated from $old only; '+' lines: fresh CREATE EXTENSION only"
        grep -E '^[-+][^-+]' "$tmp/diff" | sed 's/^/  /'
        echo "A change to sql/install that CREATE OR REPLACE of its routines does not carry needs its"
        echo "step in sql/upgrade/before_routines.sql or after_routines.sql (a new version first if"
        echo "$current is released). How: docs/testing.md, 'Upgrades'."
        fail=1
    fi

    # The updated program keeps working: live triggers, verification, a run,
    # the new run migration across the upgrade, BI access.
    checks=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" 2>&1 <<SQL || true
SET ROLE $admin;
-- a notice (a model that cannot be fitted on this small sample) is not a failure
SET client_min_messages = warning;
-- the update scored every customer: lifecycle and churn flags as create_program sets them
SELECT 'churn columns ' || count(*) FILTER (WHERE c.lifecycle IS NOT NULL AND c.lifecycle_since IS NOT NULL
                                             AND c.churn_flags IS NOT NULL)
       || ' of ' || count(*) FROM ct_members.customers AS c;
INSERT INTO crm.orders (customer_id, amount, ordered_at, status)
VALUES ('k1', 990, now(), 'paid'), ('newcomer', 5, now(), 'paid'), ('k2', 40, now(), 'cancelled');
SELECT 'drift ' || count(*) FROM customer_tier.verify_program('members');
CALL customer_tier.reclassify('members');
SELECT 'runs ' || string_agg(outcome, ',' ORDER BY id) FROM customer_tier.run;
SELECT 'drift ' || count(*) FROM customer_tier.verify_program('members');
SELECT 'pinned diamond ' || string_agg(customer, ',') FROM crm.diamonds WHERE customer = 'k7';
SET ROLE customer_tier_reader;
SELECT 'matrix ' || sum(customers) || ' of ' || (SELECT count(*) FROM ct_members.customers)
  FROM ct_members.migration_between_runs(1, 2);
SELECT 'last runs ' || string_agg(DISTINCT from_run || '>' || to_run, ',') FROM ct_members.last_run_migration;
-- the feedback triggers run the shared C path: an answer reaches the
-- satisfaction row and the customer's recent satisfaction ((10 + 8) x 10 / 2 / 10)
RESET ROLE;
INSERT INTO crm.survey VALUES ('k1', 8, 'nps', now());
SELECT 'feedback ' || s.answers || ' answers, recent ' || c.recent_satisfaction
  FROM ct_members.satisfaction AS s JOIN ct_members.customers AS c USING (customer) WHERE s.customer = 'k1';
SELECT 'generated trigger functions ' || count(*) FROM pg_proc
 WHERE pronamespace = 'ct_members'::regnamespace AND proname LIKE 'maintain%';
SQL
)
    expected=$'churn columns 40 of 40\ndrift 0\nruns succeeded,succeeded\ndrift 0\npinned diamond k7\nmatrix 41 of 41\nlast runs 1>2\nfeedback 2 answers, recent 9\ngenerated trigger functions 0'
    if [ "$checks" = "$expected" ]; then
        echo "upgraded program works: $(echo "$checks" | tr '\n' ';')"
    else
        echo "upgraded program from $old misbehaves:"; diff <(echo "$expected") <(echo "$checks") | sed 's/^/  /'
        fail=1
    fi

    # pg_dump keeps what the update made: the restored database has the same
    # catalog (a program object left a member of the extension, or with the
    # update's grants recorded as initial privileges, would be lost here).
    pg_dump -Fc -d "$db" -f "$tmp/dump"
    createdb "${db}_restored"
    pg_restore -d "${db}_restored" "$tmp/dump" 2>&1 | sed 's/^/  pg_restore: /'
    catalog "$db" >"$tmp/old"
    catalog "${db}_restored" >"$tmp/restored"
    if diff -U0 "$tmp/old" "$tmp/restored" >"$tmp/diff"; then
        echo "dump and restore of the database updated from $old: catalog identical"
    else
        echo "DUMP AND RESTORE OF THE DATABASE UPDATED FROM $old CHANGES ITS CATALOG ('-' updated, '+' restored):"
        grep -E '^[-+][^-+]' "$tmp/diff" | sed 's/^/  /'
        fail=1
    fi
    dropdb "${db}_restored"
    dropdb "$db"
done
dropdb ct_upgrade_new
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $admin" >/dev/null
exit $fail

#!/usr/bin/env bash
# docs/security.md lists every SECURITY DEFINER function, with why it needs to
# run as its owner; the list had fallen behind the code (kpis() and
# maintain_feedback() were missing).  This compares the documented list (the
# table between the markers <!-- security-definer-list --> and
# <!-- /security-definer-list -->, one function per row, first column in
# backticks) with the catalog: every prosecdef function of schema
# customer_tier and of a program's schema, for a program with a feedback
# table attached (attach_feedback creates one more), its schema written
# ct_<program>.  It prints the difference and exits non-zero when they differ.
set -euo pipefail
: "${CT_ROOT:?run through scripts/test.sh, or source scripts/lib.sh and ct_prepare}"
doc=$CT_ROOT/docs/security.md
db=ct_secdef_docs
createdb "$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT

# name(argument types), with the long type names shortened as the docs write them
normalise() {
    sed -e 's/timestamp with time zone/timestamptz/g' -e 's/timestamp without time zone/timestamp/g' \
        -e 's/character varying/varchar/g' -e 's/double precision/float8/g' -e 's/ *$//' | LC_ALL=C sort -u
}

catalog=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <<'SQL' | normalise
SET client_min_messages = warning;
CREATE EXTENSION customer_tier;
CREATE SCHEMA crm;
CREATE TABLE crm.orders (id bigint PRIMARY KEY, customer bigint, amount numeric, ordered_at timestamptz);
CREATE TABLE crm.survey (customer bigint, score int, kind text, answered_at timestamptz);
INSERT INTO crm.orders VALUES (1, 1, 10, now() - interval '3 days'), (2, 2, 20, now() - interval '1 day');
INSERT INTO crm.survey VALUES (1, 9, 'nps', now());
SELECT customer_tier.create_program('docs', 'crm.orders', 'customer', 'amount', 'ordered_at') \g /dev/null
SELECT customer_tier.attach_feedback('docs', 'crm.survey', 'customer', 'score', 'kind', 'answered_at') \g /dev/null
SELECT regexp_replace(n.nspname, '^ct_docs$', 'ct_<program>') || '.' || p.proname
       || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')'
  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
 WHERE p.prosecdef AND n.nspname IN ('customer_tier', 'ct_docs');
SQL
)

if ! grep -q '^<!-- security-definer-list -->$' "$doc" || ! grep -q '^<!-- /security-definer-list -->$' "$doc"; then
    echo "docs/security.md has no <!-- security-definer-list --> ... <!-- /security-definer-list --> markers" >&2
    exit 1
fi
documented=$(sed -n '/^<!-- security-definer-list -->$/,/^<!-- \/security-definer-list -->$/p' "$doc" \
    | sed -n 's/^| *`\([^`]*\)`.*/\1/p' | normalise)

if [ -z "$catalog" ]; then
    echo "no SECURITY DEFINER function found in the catalog: the query is broken" >&2
    exit 1
fi
if [ "$catalog" != "$documented" ]; then
    echo "SECURITY DEFINER FUNCTIONS DIFFER FROM docs/security.md:"
    echo "  '-' lines: documented only; '+' lines: in the catalog only"
    diff <(echo "$documented") <(echo "$catalog") | sed -n 's/^</  -/p; s/^>/  +/p'
    exit 1
fi
echo "security_definer_docs: ok: $(echo "$catalog" | wc -l) SECURITY DEFINER functions, all documented"

#!/usr/bin/env bash
# A failed forget() must not put the customer key in the server log
# (docs/data-protection.md, "Keeping keys out of the server log").  The
# extension's messages never carry it (sql/key_leaks.sql), but the server
# logs the failed statement's text (log_min_error_statement = error, the
# default): a key written into the SQL text is logged with it.  Passed as a
# bind parameter over the extended protocol, the logged text holds "$1", and
# log_parameter_max_length_on_error = 0 (the default) keeps the value out.
# Here pgbench -M extended stands for a driver (psycopg, JDBC) that binds
# parameters; the same call written as a literal shows the check can see a key.
set -euo pipefail
: "${CT_RUN:?run through scripts/test.sh, or source scripts/lib.sh and ct_prepare}"
log=$CT_RUN/server.log
db=ct_key_log
createdb "$db"
tmp=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION customer_tier;
CREATE TABLE public.orders (customer text, amount numeric, ordered_at timestamptz);
INSERT INTO public.orders VALUES ('jane.logtest@example.com', 50, now() - interval '1 day'),
                                 ('carl.logtest@example.com', 20, now() - interval '2 days'),
                                 ('ella.logtest@example.com', 20, now() - interval '2 days');
SELECT customer_tier.create_program('shop', 'public.orders', 'customer', 'amount', 'ordered_at');
SQL
echo "SELECT customer_tier.forget('shop', :key);" >"$tmp/forget.sql"

# run_forget KEY SETTING: call forget with KEY bound as $1 (extended protocol)
# under log_parameter_max_length_on_error = SETTING; prints what it logged
run_forget() {
    local start
    start=$(($(wc -c <"$log") + 1))
    PGOPTIONS="-c log_min_error_statement=error -c log_parameter_max_length_on_error=$2" \
        pgbench -n -M extended -t 1 -D "key=$1" -f "$tmp/forget.sql" "$db" >/dev/null 2>&1 || true
    sleep 0.5
    tail -c +"$start" "$log"
}

fail=0
check() { # check WHAT TEXT PATTERN [absent]: TEXT must (or, with "absent", must not) match PATTERN
    if grep -qF -- "$3" <<<"$2"; then found=yes; else found=no; fi
    if { [ "${4:-}" = absent ] && [ $found = yes ]; } || { [ "${4:-}" != absent ] && [ $found = no ]; }; then
        echo "key_log: FAILED: $1"; fail=1
    else
        echo "key_log: ok: $1"
    fi
}

# 1. bound parameter, default settings: the error and the statement are logged, not the key
out=$(run_forget 'jane.logtest@example.com' 0)
check "the refusal is logged" "$out" 'the customer still has rows in public.orders'
check "the logged statement holds \$1" "$out" "STATEMENT:  SELECT customer_tier.forget('shop', \$1);"
check "the key is not in the log (bound, log_parameter_max_length_on_error = 0)" "$out" 'jane.logtest' absent

# 2. bound parameter, but the server logs parameter values on error: the key is there
out=$(run_forget 'carl.logtest@example.com' -1)
check "with log_parameter_max_length_on_error = -1 the bound key is logged (why the setting matters)" \
    "$out" 'carl.logtest@example.com'

# 3. the key as a literal in the SQL text: logged with the statement
start=$(($(wc -c <"$log") + 1))
psql -X -q -d "$db" -c "SELECT customer_tier.forget('shop', 'ella.logtest@example.com')" >/dev/null 2>&1 || true
sleep 0.5
out=$(tail -c +"$start" "$log")
check "a key written into the SQL text is logged (why it must be bound)" "$out" 'ella.logtest@example.com'

exit $fail

#!/usr/bin/env bash
# test/scripts/sqlsmith.sh — a crash hunt: sqlsmith sends random queries, built
# from every function, aggregate and operator it finds and from a sample data
# set full of hostile values, to the throwaway server as an unprivileged role.
# Errors are expected (most random queries are nonsense); a backend crash is
# not.  Passes when no server process was terminated by a signal while it ran
# and the server still answers afterwards.
#
# Run by scripts/test.sh (suite "scripts") with the server up: it exports
# PGHOST, PGPORT, PGUSER=postgres, CT_RUN (server log: $CT_RUN/server.log),
# CT_ROOT and CT_BIN.
#
#   SQLSMITH_QUERIES=150000 bash scripts/test.sh scripts    a longer hunt
#   SQLSMITH_SEED=7 ...                                     other random queries
set -euo pipefail

: "${CT_RUN:?run me through scripts/test.sh}"
: "${CT_ROOT:?run me through scripts/test.sh}"

# About a minute on a 2-core machine (10,000 queries took 33 s when idle).
queries=${SQLSMITH_QUERIES:-15000}
seed=${SQLSMITH_SEED:-20261123}
db=ct_sqlsmith
role=ct_sqlsmith_fuzzer
log=$CT_RUN/server.log
# sqlsmith's own output, kept with the server log (CT_KEEP_TMP=1 keeps both).
out=${CT_TMP:-$CT_RUN}/sqlsmith.out

say() { printf 'sqlsmith: %s\n' "$*" >&2; }

command -v sqlsmith >/dev/null || { say "sqlsmith is not installed (scripts/lib.sh installs it)"; exit 1; }

# Only what the server logs from here on is this run's.
log_start=$(($(stat -c %s "$log") + 1))

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $role;
-- No superuser, no createdb, no createrole: what an application login has.
CREATE ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
-- Random queries run long or big: end them, and cap their temporary files.
ALTER ROLE $role SET statement_timeout = '1s';
ALTER ROLE $role SET temp_file_limit = '256MB';
ALTER ROLE $role SET work_mem = '4MB';
CREATE DATABASE $db;
REVOKE ALL ON DATABASE $db FROM PUBLIC;
GRANT CONNECT ON DATABASE $db TO $role;
SQL
# The extension and the sample data, installed as postgres; the role may read it.
psql -X -q -v ON_ERROR_STOP=1 -v fuzz_role="$role" -d "$db" -f "$CT_ROOT/test/sqlsmith/setup.sql"

# First the targeted sweep: every function of ours, every combination of
# hostile arguments (test/sqlsmith/sweep.sql); it fails on an internal error.
sweep_rc=0
sweep=$(psql -X -q -v ON_ERROR_STOP=1 -U "$role" -d "$db" -f "$CT_ROOT/test/sqlsmith/sweep.sql" 2>&1) || sweep_rc=$?
printf '%s\n' "$sweep" | sed -n 's/.*NOTICE:  //p; s/.*ERROR:  /ERROR: /p' | sed 's/^/sqlsmith: /' >&2

# --exclude-catalog: build FROM clauses from the sample tables, not from the
# system catalogs (functions and aggregates still come from everywhere:
# sqlsmith 1.4 cannot restrict them).  --verbose prints one character per
# query: . ok, e error, t timeout, s syntax error, c connection lost.
limit=$((queries / 10 + 300))
rc=0
timeout --kill-after=10 "$limit" sqlsmith \
    --target="host=$PGHOST port=$PGPORT dbname=$db user=$role application_name=sqlsmith" \
    --seed="$seed" --max-queries="$queries" --exclude-catalog --verbose \
    >"$out" 2>&1 || rc=$?

progress=$({ grep -E '^[.etsc]+$' "$out" || true; } | tr -d '\n')
# sqlsmith's own count (its last report) is exact; a stray line on stderr can
# swallow some progress characters, so those only count errors.
reported=$({ grep -E '^queries: [0-9]+$' "$out" || true; } | tail -1 | cut -d' ' -f2)
ran=${#progress}
if [ "${reported:-0}" -gt "$ran" ]; then ran=$reported; fi
count_of() { local only=${progress//[^$1]/}; echo "${#only}"; }
errors=$(count_of e)
timeouts=$(count_of t)
lost=$(count_of c)

# A crash: the postmaster logs "server process (PID n) was terminated by
# signal 11" and the query that was running.
crash_lines=$(tail -c "+$log_start" "$log" | grep -E 'terminated by signal|was terminated' || true)
crashes=0
[ -z "$crash_lines" ] || crashes=$(printf '%s\n' "$crash_lines" | wc -l)
alive=yes
for _ in 1 2 3 4 5 6 7 8 9 10; do
    if psql -X -qAt -d postgres -c 'SELECT 1' >/dev/null 2>&1; then alive=yes; break; fi
    alive=no
    sleep 3
done

sweep_calls=$(printf '%s\n' "$sweep" | sed -n 's/.*sweep: \([0-9]*\) calls.*/\1/p')
echo "sqlsmith: sweep of ${sweep_calls:-0} calls to our functions (exit $sweep_rc); seed $seed, $ran of $queries queries run, $errors errors, $timeouts timeouts, $lost lost connections, $crashes backend crashes, server alive: $alive (sqlsmith exit $rc)"

status=0
if [ "$crashes" -ne 0 ] || [ "$alive" != yes ]; then
    say "CRASH: the server log says:"
    tail -c "+$log_start" "$log" | grep -E -A2 'terminated by signal|was terminated' | head -60 >&2 || true
    status=1
elif [ "$sweep_rc" -ne 0 ]; then
    say "the targeted sweep failed:"
    printf '%s\n' "$sweep" | tail -20 >&2
    status=1
elif [ "$ran" -eq 0 ]; then
    # sqlsmith failed before its first query (connection, schema load): the
    # hunt did not happen, which is a failure too, but not a crash.
    say "sqlsmith ran no query; its output:"
    tail -20 "$out" >&2
    status=1
elif [ "$rc" -ne 0 ]; then
    # sqlsmith ended early on its own (timeout, an internal error) after
    # running queries without crashing the server: report it, do not fail.
    say "note: sqlsmith exited with status $rc after $ran queries; last output:"
    tail -5 "$out" >&2
fi

if [ "$alive" = yes ]; then
    psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)" -c "DROP ROLE $role" || status=1
fi
exit "$status"

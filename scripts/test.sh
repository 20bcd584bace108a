#!/usr/bin/env bash
# scripts/test.sh — the README's test command: set up, then run every test
# against a throwaway server, and stop it.  Exits non-zero if anything fails.
#
#   bash scripts/test.sh            every suite
#   bash scripts/test.sh regress    only pg_regress (also: isolation, tap, scripts)
#   bash scripts/test.sh test/scripts/notify.sh   one script
source "$(dirname "$0")/lib.sh"

suites=${*:-regress isolation tap scripts}
passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# count_regress_output <output> <exit status>: prints the output of a
# pg_regress or pg_isolation_regress run (the same format) and counts its
# tests; leaves the failures in $bad for the caller's diffs.
count_regress_output() {
    cat "$1"
    local ok
    ok=$(grep -cE '^(test |     )?[a-z0-9_]+ +\.\.\. ok' "$1" || true)
    bad=$(grep -cE '\.\.\. FAILED' "$1" || true)
    # It failed without naming a test (no expected file, crash): one failure.
    if [ "$2" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    count "$ok" "$bad"
}

ct_prepare
cd "$CT_ROOT"

if make -s check-version PG_CONFIG="$PG_SYS_BIN/pg_config"; then count 1 0; else count 0 1; fi

for suite in $suites; do
    case $suite in
    regress)
        ct_log "pg_regress: sql/*.sql against expected/*.out"
        out=$CT_TMP/regress.out
        rc=0
        make -s installcheck ISOLATION= PG_CONFIG="$CT_BIN/pg_config" >"$out" 2>&1 || rc=$?
        count_regress_output "$out" "$rc"
        if [ "$bad" -ne 0 ] && [ -f regression.diffs ]; then head -300 regression.diffs; fi
        ;;
    isolation)
        # Interleavings of two or three sessions, step by step: a step that
        # waits on a lock is reported as waiting, deadlocks and serialization
        # failures appear in the output (docs/testing.md).
        ct_log "isolation: specs/*.spec against expected/*.out"
        out=$CT_TMP/isolation.out
        rc=0
        PGISOLATIONTIMEOUT=${PGISOLATIONTIMEOUT:-60} \
            make -s installcheck REGRESS= PG_CONFIG="$CT_BIN/pg_config" >"$out" 2>&1 || rc=$?
        count_regress_output "$out" "$rc"
        if [ "$bad" -ne 0 ] && [ -f output_iso/regression.diffs ]; then head -300 output_iso/regression.diffs; fi
        ;;
    tap)
        ct_log "pgTAP: test/pgtap/*.sql with pg_prove"
        createdb ct_tap
        psql -q -d ct_tap -c 'CREATE EXTENSION pgtap'
        out=$CT_TMP/tap.out
        pg_prove -d ct_tap test/pgtap/*.sql >"$out" 2>&1 || true
        cat "$out"
        total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$out")
        bad=$({ grep -oE 'Failed [0-9]+/' "$out" || true; } | awk -F'[ /]' '{ s += $2 } END { print s + 0 }')
        if ! grep -q '^Result: PASS' "$out" && [ "$bad" -eq 0 ]; then bad=1; fi
        count $(( ${total:-0} - bad )) "$bad"
        ;;
    scripts)
        # Tests that need more than one session: concurrency, crash, scale-out.
        for t in test/scripts/*.sh; do
            [ -e "$t" ] || continue
            ct_log "script: $t"
            if bash "$t"; then count 1 0; else ct_log "FAILED: $t"; count 0 1; fi
        done
        ;;
    test/scripts/*.sh)
        ct_log "script: $suite"
        if bash "$suite"; then count 1 0; else ct_log "FAILED: $suite"; count 0 1; fi
        ;;
    *) echo "unknown suite: $suite (regress, isolation, tap, scripts, or a test/scripts/*.sh)" >&2; exit 2 ;;
    esac
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

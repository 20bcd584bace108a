# test/scripts/lib/pgbench.sh — sourced by the test scripts that let pgbench
# clients write concurrently and then check what they left, so that every
# such script judges a pgbench run by the same rules.  (Not a test itself.)
#
#   pgbench_verdict <output file>   prints the run's counts; sets fail=1 when
#                                   pgbench reported an error (a deadlock, an
#                                   aborted client) or fewer than 100
#                                   transactions ran; sets $processed
pgbench_verdict() {
    local out=$1
    grep -E '^(number of transactions actually processed|number of failed transactions|tps)' "$out" || true
    if grep -qiE 'deadlock|aborted|error' "$out"; then
        echo "pgbench reported errors:"; grep -iE 'deadlock|aborted|error' "$out" | head -20; fail=1
    fi
    processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    if [ -z "$processed" ] || [ "$processed" -lt 100 ]; then
        echo "too few transactions ran: ${processed:-none}"; cat "$out"; fail=1
    fi
}

# test/scripts/lib/check.sh — sourced by the test scripts that report each
# check as a line "<script>: ok: ..." or "<script>: FAIL: ...", so that these
# helpers are written once.  (Not a test itself: scripts/test.sh runs
# test/scripts/*.sh only.)  Set $db, the database q queries, before calling q.
#
#   say <text>                          one line, prefixed with the script's name
#   q <sql>                             one query in $db, unaligned, tuples only
#   check <description> <actual> <expected>   sets fail=1 when they differ
# The script ends with "exit $fail".
check_prefix=$(basename "$0" .sh)
say() { printf '%s: %s\n' "$check_prefix" "$*"; }
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
fail=0
check() {
    if [ "$2" = "$3" ]; then say "ok: $1 ($2)"; else say "FAIL: $1: got '$2', expected '$3'"; fail=1; fi
}

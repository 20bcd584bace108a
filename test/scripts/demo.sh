#!/usr/bin/env bash
# The README's demo runs to the end without an error and prints every section,
# so that a change that breaks it is caught here, not by the first reader.
set -euo pipefail
source "$CT_ROOT/scripts/lib.sh"

createdb ct_demo_test
out=$(mktemp)
ct_run_demo ct_demo_test >"$out"
sections=$(grep -c '^== ' "$out")
expected=$(cat "$CT_ROOT"/scripts/demo/*.sql | grep -c "^\\\\echo '== ")
echo "demo printed $sections of $expected sections"
[ "$sections" -eq "$expected" ] && [ "$sections" -gt 10 ]
# Its last check, the verification of the program against the orders, finds no difference.
awk '/^== The maintained state/ {on = 1} on && /^ *[0-9]+ *$/ {print $1; exit}' "$out" | grep -qx 0
rm -f "$out"
dropdb ct_demo_test

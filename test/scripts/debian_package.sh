#!/usr/bin/env bash
# The Debian package (debian/): build postgresql-15-customer-tier with
# dpkg-buildpackage from a clean copy of the tree, install it into the
# system's PostgreSQL 15 with dpkg, and run the regression and isolation
# suites against the installed files in a throwaway cluster on a free
# loopback port (pg_buildext installcheck, as the package's autopkgtest
# debian/tests/installcheck does).  The package is removed at the end.
set -euo pipefail
cd "${CT_ROOT:-$(dirname "$0")/../..}"
source scripts/lib.sh

work=$(mktemp -d /tmp/customer_tier_deb.XXXXXX)
package=postgresql-$PG_MAJOR-customer-tier
cleanup() {
    as_root dpkg -r "$package" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# a copy without the working tree's builds and test outputs
mkdir "$work/customer-tier"
tar --exclude=./.git -cf - . | tar -xf - -C "$work/customer-tier"
make -s -C "$work/customer-tier" clean PG_CONFIG="$PG_SYS_BIN/pg_config" >/dev/null
rm -rf "$work/customer-tier/results" "$work/customer-tier/output_iso"

if ! (cd "$work/customer-tier" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
    echo "debian_package: FAIL: dpkg-buildpackage"; tail -40 "$work/build.log"; exit 1
fi
deb=$(ls "$work/${package}"_*.deb)
as_root dpkg -i "$deb" >/dev/null
fail=0
for f in "/usr/lib/postgresql/$PG_MAJOR/lib/customer_tier.so" \
         "/usr/share/postgresql/$PG_MAJOR/extension/customer_tier.control"; do
    dpkg -L "$package" | grep -qx "$f" || { echo "debian_package: FAIL: the package has no $f"; fail=1; }
done

port=$(ct_free_port)
if (cd "$work/customer-tier" && PGPORT=$port pg_buildext installcheck) >"$work/check.log" 2>&1; then
    passed=$(grep -c 'tests passed' "$work/check.log" || true)
    [ "$passed" -eq 2 ] || { echo "debian_package: FAIL: expected the regression and the isolation suite to pass"; fail=1; }
    summary=$(grep -E 'All [0-9]+ tests passed' "$work/check.log" | sed 's/^ *//' | paste -sd ';' -)
else
    echo "debian_package: FAIL: pg_buildext installcheck"; tail -60 "$work/check.log"; fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "debian_package: ok: built $(basename "$deb") ($(du -k "$deb" | cut -f1) kB), installed it, and against the installed files on port $port: $summary"

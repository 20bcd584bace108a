#!/usr/bin/env bash
# test/valgrind/run.sh — the regression suite against a server running under
# valgrind's memcheck, to catch invalid reads and writes in the C code that a
# normal run would survive by luck.  Slow (minutes); not part of scripts/test.sh.
#
#   bash test/valgrind/run.sh          prints the error summary, exits 1 on errors in our code
#   REGRESS="order_stats feed" ISOLATION="iso_feed" bash test/valgrind/run.sh
#                                      only those regression files and specs
source "$(dirname "$0")/../../scripts/lib.sh"

ct_install_deps
command -v valgrind >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
ct_build
ct_sandbox

ct_server_init
supp=$CT_TMP/postgres.supp
cp "$(dirname "$0")/postgres.supp" "$supp"
chmod 644 "$supp"

# postgres itself under valgrind; every backend it forks is traced.
as_pg valgrind --quiet --trace-children=yes --track-origins=yes --read-var-info=no \
    --num-callers=30 --suppressions="$supp" --log-file="$CT_RUN/valgrind.%p.log" \
    "$CT_BIN/postgres" -D "$CT_DATA" -p "$CT_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$CT_RUN" -c timezone=UTC -c fsync=off \
    -c max_parallel_workers_per_gather=2 >"$CT_RUN/server.log" 2>&1 &
export PGHOST=127.0.0.1 PGPORT=$CT_PORT PGUSER=postgres
for _ in $(seq 1 120); do pg_isready -q && break; sleep 1; done
pg_isready -q || { echo "server under valgrind did not start"; cat "$CT_RUN/server.log"; exit 1; }

cd "$CT_ROOT"
make -s installcheck PG_CONFIG="$CT_BIN/pg_config" \
    ${REGRESS+REGRESS="$REGRESS"} ${ISOLATION+ISOLATION="$ISOLATION"} || true
ct_server_stop
sleep 2

# Errors whose stack passes through our module are ours to fix.  The module is
# built with -g, so valgrind names its frames by source file and line
# ("value_score (rfm.c:119)") rather than by customer_tier.so.
ours_re="customer_tier\\.so\\)|\\(($(cd "$CT_ROOT/src" && ls *.c */*.c | sed 's|.*/||; s/\.c$//' | paste -sd '|'))\\.c:[0-9]+\\)"
# (grep finding nothing is the good case: it must not end the script under pipefail.)
ours=$({ grep -lE "$ours_re" "$CT_RUN"/valgrind.*.log 2>/dev/null || true; } | wc -l)
# --quiet leaves out the ERROR SUMMARY lines: count the reports' first lines.
total=$({ grep -hE '^==[0-9]+== [A-Z]' "$CT_RUN"/valgrind.*.log 2>/dev/null || true; } | grep -vc '== Warning' || true)
echo "valgrind: $total errors in all processes; $ours process logs have a frame in customer_tier"
if [ "$ours" -gt 0 ]; then
    grep -lE "$ours_re" "$CT_RUN"/valgrind.*.log | head -3 | xargs cat
    exit 1
fi

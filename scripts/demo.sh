#!/usr/bin/env bash
# scripts/demo.sh — the README's demo command: set up, start a throwaway
# server, load sample customers and orders, and print what customer_tier
# makes of them.  The server is stopped at the end unless --keep is given.
#
#   bash scripts/demo.sh          run the demo and clean up
#   bash scripts/demo.sh --keep   leave the server running and say how to connect
source "$(dirname "$0")/lib.sh"

keep=false
case "${1:-}" in
    --keep) keep=true ;;
    "") ;;
    *) echo "usage: bash scripts/demo.sh [--keep]" >&2; exit 2 ;;
esac

ct_prepare
createdb ct_demo
ct_run_demo ct_demo

if $keep; then
    trap - EXIT
    cat <<MSG

The demo server is still running:
    psql -h 127.0.0.1 -p $CT_PORT -U postgres ct_demo
Stop it and remove its files with:
    $( [ "$(id -u)" = 0 ] && printf 'runuser -u postgres -- ' )$CT_BIN/pg_ctl -D $CT_DATA stop && rm -rf $CT_TMP
MSG
fi

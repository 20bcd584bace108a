# scripts/lib.sh — the set-up shared by the demo, the tests and the benchmarks.
#
# Sourced, not run.  It installs what is missing (Debian packages), builds the
# extension with warnings as errors, installs it into a private copy of
# PostgreSQL under a temporary folder (the system's PostgreSQL is never
# touched), and starts a throwaway server on a free loopback port.
# Works as root (the server then runs as the "postgres" user) or as a user
# with sudo for the package step.

set -euo pipefail

CT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
PG_SYS_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
CT_PACKAGES=(make gcc "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR"
             "postgresql-$PG_MAJOR-pgtap" "postgresql-$PG_MAJOR-cron"
             libtap-parser-sourcehandler-pgtap-perl sqlsmith
             debhelper dpkg-dev "postgresql-server-dev-all" python3-psycopg chromium)

ct_log() { printf '== %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Commands that touch the data directory run as its owner.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

ct_install_deps() {
    local missing=() p
    for p in "${CT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    ct_log "installing ${missing[*]}"
    # Debian would otherwise create and start a "main" cluster on port 5432,
    # a server nobody asked for that would outlive this script.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        as_root mkdir -p /etc/postgresql-common
        echo 'create_main_cluster = false' | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

ct_build() {
    ct_log "building customer_tier (-Wall -Wextra -Werror)"
    make -C "$CT_ROOT" -s PG_CONFIG="$PG_SYS_BIN/pg_config" >/dev/null
}

# A private copy of PostgreSQL's binaries, libraries and share folder: the
# server finds its share and lib folders relative to its own binary, so the
# extension installed here is seen by this server only.
ct_sandbox() {
    CT_TMP=$(mktemp -d /tmp/customer_tier.XXXXXX)
    trap ct_cleanup EXIT
    chmod 755 "$CT_TMP"
    local inst=$CT_TMP/install
    mkdir -p "$inst/usr/lib/postgresql" "$inst/usr/share/postgresql"
    cp -a "/usr/lib/postgresql/$PG_MAJOR" "$inst/usr/lib/postgresql/"
    cp -a "/usr/share/postgresql/$PG_MAJOR" "$inst/usr/share/postgresql/"
    make -C "$CT_ROOT" -s install DESTDIR="$inst" PG_CONFIG="$PG_SYS_BIN/pg_config" >/dev/null
    CT_BIN=$inst/usr/lib/postgresql/$PG_MAJOR/bin
    export PATH="$CT_BIN:$PATH"
}

# Ports below 32768 are never handed out as ephemeral client ports, so a
# port found free here stays free until the server takes it.
ct_free_port() {
    local p
    for p in $(seq 25432 25531); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    echo "no free port in 25432-25531" >&2
    return 1
}

# A new cluster in $CT_TMP/run/data, not started (test/valgrind/run.sh starts
# its own postgres under valgrind), and the port it is to listen on.
ct_server_init() {
    CT_PORT=${CT_PORT:-$(ct_free_port)}
    # The server's own folder (data, socket, log) belongs to the user it runs as.
    CT_RUN=$CT_TMP/run
    CT_DATA=$CT_RUN/data
    mkdir -p "$CT_RUN"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$CT_RUN"; fi
    as_pg "$CT_BIN/initdb" -D "$CT_DATA" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
}

ct_server_start() {
    ct_server_init
    cat >>"$CT_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $CT_PORT
unix_socket_directories = '$CT_RUN'
timezone = 'UTC'
fsync = off
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
max_connections = 60
# test/scripts/replication.sh publishes and subscribes within this server
wal_level = logical
CONF
    as_pg "$CT_BIN/pg_ctl" -D "$CT_DATA" -l "$CT_RUN/server.log" -w -t 60 start >/dev/null
    export PGHOST=127.0.0.1 PGPORT=$CT_PORT PGUSER=postgres
    # Test scripts (test/scripts/*.sh) read the server's folders from these.
    export CT_ROOT CT_TMP CT_RUN CT_DATA CT_BIN
    ct_log "throwaway server on 127.0.0.1:$CT_PORT (log: $CT_RUN/server.log)"
}

ct_server_stop() {
    if [ -n "${CT_DATA:-}" ] && [ -f "$CT_DATA/postmaster.pid" ]; then
        as_pg "$CT_BIN/pg_ctl" -D "$CT_DATA" -m fast -w stop >/dev/null || true
    fi
}

# Stop the server and remove the temporary folder; the EXIT trap of every script.
ct_cleanup() {
    ct_server_stop
    if [ -n "${CT_TMP:-}" ] && [ -z "${CT_KEEP_TMP:-}" ]; then
        rm -rf "$CT_TMP"
    fi
}

# Run the demo (scripts/demo/*.sql in name order, one psql session) in database $1.
ct_run_demo() {
    local args=() part
    for part in "$CT_ROOT"/scripts/demo/*.sql; do args+=(-f "$part"); done
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" "${args[@]}"
}

# Everything up to a running server.
ct_prepare() {
    ct_install_deps
    ct_build
    ct_sandbox
    ct_server_start
}

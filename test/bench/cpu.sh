# test/bench/cpu.sh — CPU time of the benchmark's server, sourced by the bench scripts.
#
# The development machine is shared: wall-clock times move by a factor of two
# or more with other work, and two queries timed a minute apart may see very
# different loads.  The CPU time the server spends on a statement moves much
# less, so the scripts report it next to the wall-clock time.  It is summed
# over the whole server: the postmaster, every live process it started
# (backends, parallel workers, background processes) and every process of it
# that has exited (the postmaster's reaped children), so the CPU of parallel
# workers counts too.

# CPU milliseconds used so far by the server of $CT_DATA.
server_cpu_ms() {
    local pm total=0 p t
    pm=$(head -1 "$CT_DATA/postmaster.pid")
    for p in $(ps -o pid= --ppid "$pm"); do
        t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || t=0
        total=$((total + ${t:-0}))
    done
    t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
    echo $(( (total + t) * 1000 / $(getconf CLK_TCK) ))
}

# Run SQL ($1) in a fresh psql session; print "wall_ms cpu_ms" (psql's \timing, server CPU).
timed_sql() {
    local before after wall
    before=$(server_cpu_ms)
    wall=$(psql -X -q -d postgres -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
    sleep 0.2       # let the postmaster reap the session's backend and count its CPU
    after=$(server_cpu_ms)
    echo "$wall $((after - before))"
}

# As timed_sql, and the peak anonymous memory (RssAnon, MB) of the session's
# backend, polled every 0.1 s while SQL ($1) runs: print "wall_ms cpu_ms peak_mb".
# Shared memory (shared_buffers) is not anonymous memory: this is what the
# backend allocated for itself (work_mem, states, caches).
timed_sql_peak() {
    local before after out sql_pid pid='' kb peak=0
    out=$(mktemp)
    before=$(server_cpu_ms)
    psql -X -q -At -d postgres -c 'SELECT pg_backend_pid()' -c '\timing on' -c "$1" >"$out" &
    sql_pid=$!
    while kill -0 "$sql_pid" 2>/dev/null; do
        [ -z "$pid" ] && pid=$(head -1 "$out" 2>/dev/null || true)
        if [ -n "$pid" ]; then
            kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak=$kb
        fi
        sleep 0.1
    done
    wait "$sql_pid"
    sleep 0.2
    after=$(server_cpu_ms)
    echo "$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$out" | tail -1) $((after - before)) $((peak / 1024))"
    rm -f "$out"
}

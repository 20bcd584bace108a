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

#!/usr/bin/env bash
# test/bench/models.sh — times the customer-lifetime model fits (not part of
# the test run).
#
#   bash test/bench/models.sh [customers]       (default 1000000)
#
# 1. Fits BG/NBD and Gamma-Gamma on the CDNOW sample (2,357 customers).
# 2. Simulates customers from the BG/NBD process with known parameters
#    (first purchases on days 0..83, i.e. spread over 12 weeks, at a random
#    time of day; a 39-week window ending on day 272; purchases recorded by
#    day, as in an orders table, a repeat purchase on the first day being put
#    on the next; time in weeks), loads their (x, t_x, T)
#    summaries and times bgnbd_fit on them.
# The simulator is a small C program (fixed seed, so runs are repeatable).
source "$(dirname "$0")/../../scripts/lib.sh"

CUSTOMERS=${1:-1000000}
TRUE_R=0.243 TRUE_ALPHA=4.414 TRUE_A=0.793 TRUE_B=2.426

ct_prepare
cd "$CT_ROOT"

ct_log "building the BG/NBD simulator"
cat >"$CT_TMP/bgnbd_sim.c" <<'C'
/* Simulates the BG/NBD process; prints "x<TAB>t_x<TAB>T" per customer. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define Max(a, b) ((a) > (b) ? (a) : (b))

static uint64_t state = 0x9E3779B97F4A7C15ULL;

/* splitmix64, mapped to (0, 1) */
static double uniform(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

/* gamma(shape, 1) by Marsaglia & Tsang (2000), boosted for shape < 1 */
static double gamma_variate(double shape)
{
    double boost = 1, d, c, x, v, u;

    if (shape < 1) { boost = pow(uniform(), 1 / shape); shape += 1; }
    d = shape - 1.0 / 3;
    c = 1 / sqrt(9 * d);
    for (;;)
    {
        do { x = normal(); v = 1 + c * x; } while (v <= 0);
        v = v * v * v;
        u = uniform();
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return boost * d * v;
    }
}

int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    double r = atof(argv[2]), alpha = atof(argv[3]), a = atof(argv[4]), b = atof(argv[5]);

    for (long i = 0; i < n; i++)
    {
        int first = (int) (uniform() * 84);          /* day 0..83 */
        int age_days = 272 - first;
        double lambda = gamma_variate(r) / alpha;    /* purchases per week */
        double ga = gamma_variate(a), p = ga / (ga + gamma_variate(b));
        double start = uniform();                    /* time of day of the first purchase */
        double t = 0;
        int x = 0, last = 0;

        for (;;)
        {
            double day;

            t += -log(uniform()) / lambda;
            /* days after the first purchase's day; a repeat purchase on that same day goes on the next */
            day = Max(1, floor(start + 7 * t));
            if (!(day <= age_days))
                break;
            x++;
            last = (int) day;
            if (uniform() < p)
                break;                               /* dropped out */
        }
        printf("%d\t%.17g\t%.17g\n", x, last / 7.0, age_days / 7.0);
    }
    return 0;
}
C
gcc -O2 -o "$CT_TMP/bgnbd_sim" "$CT_TMP/bgnbd_sim.c" -lm

psql -X -q -d postgres <<SQL
CREATE EXTENSION customer_tier;
\echo '== CDNOW sample: 2,357 customers, 39-week calibration'
CREATE TEMP TABLE raw (line text);
\copy raw FROM 'test/data/CDNOW_sample.txt' WITH (FORMAT text, DELIMITER '|')
CREATE TEMP TABLE purchases AS
SELECT f[2]::int AS id, to_date(f[3], 'YYYYMMDD') AS day, f[5]::numeric AS dollars
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), ' +') AS f FROM raw) s;
CREATE TEMP TABLE summary AS
WITH days AS (
    SELECT id, day, sum(dollars) AS spend FROM purchases
     WHERE day <= date '1997-09-30' GROUP BY id, day),
     firsts AS (SELECT id, min(day) AS first_day FROM days GROUP BY id)
SELECT id, (count(*) - 1)::int AS x,
       (max(day) - first_day) / 7.0::float8 AS t_x,
       (date '1997-09-30' - first_day) / 7.0::float8 AS t,
       avg(spend) FILTER (WHERE day > first_day)::float8 AS mean_spend
  FROM days JOIN firsts USING (id) GROUP BY id, first_day;
\timing on
SELECT (m).* FROM (SELECT customer_tier.bgnbd_fit(x, t_x, t) AS m FROM summary) s;
SELECT (m).* FROM (SELECT customer_tier.gamma_gamma_fit(x, mean_spend) AS m FROM summary) s;
\timing off

\echo '== simulated: $CUSTOMERS customers, r=$TRUE_R alpha=$TRUE_ALPHA a=$TRUE_A b=$TRUE_B'
CREATE TABLE sim (x integer, t_x double precision, t double precision);
\copy sim FROM PROGRAM '$CT_TMP/bgnbd_sim $CUSTOMERS $TRUE_R $TRUE_ALPHA $TRUE_A $TRUE_B'
VACUUM ANALYZE sim;
SELECT count(*) AS customers, count(*) FILTER (WHERE x > 0) AS repeat_buyers,
       (SELECT count(*) FROM (SELECT DISTINCT x, t_x, t FROM sim) d) AS distinct_summaries
  FROM sim;
SET max_parallel_workers_per_gather = 0;
\timing on
CREATE TEMP TABLE fit AS SELECT customer_tier.bgnbd_fit(x, t_x, t) AS m FROM sim;
\timing off
SELECT round((m).r::numeric, 4) AS r, round((m).alpha::numeric, 4) AS alpha,
       round((m).a::numeric, 4) AS a, round((m).b::numeric, 4) AS b,
       round((m).log_likelihood::numeric, 1) AS log_likelihood, (m).customers
  FROM fit;
-- Recovered vs true, to two significant digits, and the relative error.
SELECT name, round(est::numeric, 4) AS estimate, truth,
       round(est::numeric, 1 - floor(log(est))::int) AS estimate_2sd,
       round(truth::numeric, 1 - floor(log(truth))::int) AS truth_2sd,
       round(100 * (est / truth - 1)::numeric, 2) AS error_pct
  FROM fit, LATERAL (VALUES ('r', (m).r, $TRUE_R), ('alpha', (m).alpha, $TRUE_ALPHA),
                            ('a', (m).a, $TRUE_A), ('b', (m).b, $TRUE_B)) v(name, est, truth);
\echo '== the same fit with parallel workers (Partial Aggregate + combine)'
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
\timing on
SELECT round((m).r::numeric, 4) AS r, round((m).alpha::numeric, 4) AS alpha,
       round((m).a::numeric, 4) AS a, round((m).b::numeric, 4) AS b
  FROM (SELECT customer_tier.bgnbd_fit(x, t_x, t) AS m FROM sim) s;
\timing off
SQL

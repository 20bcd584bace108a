-- test/sqlsmith/setup.sql — the database sqlsmith fuzzes: the extension and a
-- small sample data set, readable by the unprivileged role :"fuzz_role".
--
-- sqlsmith builds its queries from the columns it finds, so the tables hold
-- the types our functions take (double precision, integer, double precision[],
-- bigint[]) and, besides ordinary values, the hostile ones: NULL, NaN,
-- +-Infinity, values near the double precision limits, answers off their
-- scale, arrays with NULLs, with a lower bound other than 1, with two
-- dimensions, empty arrays, and aggregate states that this module did not make.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE EXTENSION customer_tier;

-- sqlsmith reads information_schema for tables: only what the role may read.
CREATE SCHEMA shop;
GRANT USAGE ON SCHEMA shop TO :"fuzz_role";

CREATE TABLE shop.orders (
    order_id    integer PRIMARY KEY,
    customer_id integer NOT NULL,
    ordered_at  date,
    amount      double precision,
    quantiles   integer
);
INSERT INTO shop.orders
SELECT i, 1 + i % 40, date '2026-01-01' + (i * 7) % 300,
       CASE WHEN i % 17 = 0 THEN NULL ELSE round((i * 37 % 1000)::numeric / 3, 2)::float8 END,
       CASE i % 9 WHEN 0 THEN 4 WHEN 1 THEN 10 ELSE 5 END
  FROM generate_series(1, 600) AS i;
-- Hostile amounts and quantile counts.
INSERT INTO shop.orders VALUES
    (1001, 41, '2026-02-01', 'NaN', 5),
    (1002, 42, '2026-02-02', 'Infinity', 5),
    (1003, 43, '2026-02-03', '-Infinity', 5),
    (1004, 44, '2026-02-04', 1.7976931348623157e308, 5),
    (1005, 45, '2026-02-05', -1.7976931348623157e308, 5),
    (1006, 46, '2026-02-06', 5e-324, 5),
    (1007, 47, '2026-02-07', -0.0, 5),
    (1008, 48, '2026-02-08', -12.5, 1),
    (1009, 49, NULL, 0, 0),
    (1010, 50, '2026-02-10', 3, -1),
    (1011, 51, '2026-02-11', 4, NULL),
    (1012, 52, '2026-02-12', 5, 2147483647),
    (1013, 53, '2026-02-13', 6, -2147483648);

CREATE TABLE shop.feedback (
    feedback_id integer PRIMARY KEY,
    customer_id integer NOT NULL,
    answered_at date,
    recommend   integer,       -- NPS answer, 0..10
    satisfied   integer        -- CSAT answer, 1..5
);
INSERT INTO shop.feedback
SELECT i, 1 + i % 40, date '2026-01-01' + i % 300,
       CASE WHEN i % 13 = 0 THEN NULL ELSE i % 11 END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE 1 + i % 5 END
  FROM generate_series(1, 400) AS i;
INSERT INTO shop.feedback VALUES
    (1001, 41, '2026-03-01', -1, 0),
    (1002, 42, '2026-03-02', 11, 6),
    (1003, 43, '2026-03-03', 2147483647, -2147483648);

-- Per-customer R, F, M scores, some off the 1..5 scale.
CREATE TABLE shop.scores (
    customer_id integer PRIMARY KEY,
    r integer, f integer, m integer,
    weights double precision[]
);
INSERT INTO shop.scores
SELECT i, 1 + i % 5, 1 + (i * 3) % 5, 1 + (i * 7) % 5, '{1,1,1}'
  FROM generate_series(1, 40) AS i;
INSERT INTO shop.scores VALUES
    (41, 0, 3, 3, '{2,1,1}'),
    (42, 6, 3, 3, '{0,0,0}'),
    (43, 3, NULL, 3, '{NaN,1,1}'),
    (44, 3, 3, 3, '{1,1}'),
    (45, 3, 3, 3, '{{1,1,1},{1,1,1}}'),
    (46, 3, 3, 3, '[0:2]={1,2,3}'),
    (47, 3, 3, 3, '{1,NULL,1}'),
    (48, 3, 3, 3, '{}'),
    (49, 3, 3, 3, '{1e308,1e308,1e308}'),
    (50, -2147483648, 2147483647, 3, '{-1,1,1}');

-- Arrays as breakpoints and as aggregate states, good and bad.
CREATE TABLE shop.arrays (
    array_id   integer PRIMARY KEY,
    cuts       double precision[],   -- breakpoints for score(), or a breakpoints state
    histogram  bigint[]              -- an nps/csat state
);
INSERT INTO shop.arrays VALUES
    (1, '{10,20,30,40}', '{0,0,0,0,0,0,0,0,0,0,0}'),
    (2, '{5,1,2,3,4,5}', '{1,2,3,4,5,6,7,8,9,10,11}'),
    (3, '{5}', '{1,2,3,4,5}'),
    (4, '{}', '{}'),
    (5, '{NULL,1}', '{NULL,0,0,0,0}'),
    (6, '[3:5]={1,2,3}', '[0:4]={1,1,1,1,1}'),
    (7, '{{1,2},{3,4}}', '{{1,2},{3,4}}'),
    (8, '{NaN,Infinity,-Infinity}', '{-1,0,0,0,0,0,0,0,0,0,0}'),
    (9, '{1e308,-1e308,5e-324}', '{9223372036854775807,9223372036854775807,0,0,0,0,0,0,0,0,0}'),
    (10, '{1000,1,2}', '{9223372036854775807,1,1,1,1}'),
    (11, '{1001,1,2}', '{-9223372036854775808,0,0,0,0}'),
    (12, '{2.5,1,2}', '{0,0,0,0,0,0,0,0,0,0,0,0}'),
    (13, '{40,30,20,10}', '{0,0,0,0}'),
    (14, NULL, NULL);
INSERT INTO shop.arrays
SELECT 100 + i, array(SELECT g::float8 FROM generate_series(1, i * 50) AS g),
       array_fill(i::bigint, ARRAY[11])
  FROM generate_series(1, 10) AS i;

GRANT SELECT ON ALL TABLES IN SCHEMA shop TO :"fuzz_role";
ANALYZE;
